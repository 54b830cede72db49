/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Streams seen from the API: who may open one (a ticket opens its side's
 * stream once while the session waits, and again once it connected, to
 * come back after a loss; the upgrade runs through the request envelope of
 * api.c), what gets recorded when the core pairs and ends them, and the
 * once-a-second sweep (expired PINs, redeemed sessions that never
 * connected, disabled technicians, guess budgets).
 */
#include <stdio.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "ll_relay_api.h"
#include "api.h"

/*
 * GET /api/v1/stream as an upgrade, a ticket authenticated by the
 * envelope: claims that side's one stream.  Success is the 101, which the
 * core sends once the envelope has committed the audit record.
 */
bool ll_api_session_over(const struct ll_relay *relay,
			 const struct ll_session *s, int64_t now)
{
	if (s->state == LL_SESSION_ENDED || s->state == LL_SESSION_EXPIRED)
		return true;
	if (s->state != LL_SESSION_WAITING)
		return false;
	if (!s->pin_used)
		return s->expires_at <= now;
	return s->redeemed_at + relay->cfg.pin_lifetime_s <= now;
}

/*
 * Waiting streams count toward max_sessions: a stream that would start a
 * session here (no stream of it waits yet) is refused once paired and
 * waiting sessions reach the cap.  The second stream of a waiting session
 * adds none, so pairing is never refused.
 */
static bool sessions_full(struct ll_api_ctx *ctx)
{
	struct ll_relay *relay = ctx->relay;

	if (ll_relay_session_waiting(relay, ctx->session->id) ||
	    ll_relay_sessions_here(relay) < (uint64_t)relay->cfg.max_sessions)
		return false;
	ll_api_fail(ctx, LL_API_RATE_LIMITED,
		    "the relay carries as many sessions as it may");
	ctx->resp->extra_headers = strdup("Retry-After: 10\r\n");
	ll_api_detail_set(ctx, "limit", json_string("max_sessions"));
	return true;
}

void ll_api_handle_stream_open(struct ll_api_ctx *ctx)
{
	const struct ll_session *s = ctx->session;
	char addr[64];
	int r;

	/* The envelope refused tickets of sessions that are over and of
	 * disabled technicians (auth_ticket, api.c). */
	if (sessions_full(ctx))
		return;
	r = ll_store_session_claim_stream(ctx->relay->store, s->id, ctx->side);
	if (r == LL_ERR_CONFLICT) {
		ll_api_fail(ctx, LL_API_CONFLICT,
			    "this side of the session already has its stream");
		return;
	}
	if (r == LL_ERR_EXPIRED || r == LL_ERR_NOT_FOUND) {
		ll_api_fail(ctx, LL_API_NOT_FOUND,
			    "this session has ended or expired");
		return;
	}
	if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return;
	}
	ctx->resp->status = 101;
	ctx->resp->code = LL_API_OK;
	/* the end user as the Live page shows them (the relay never learns
	 * their name): the address the org's end_user_cidrs judge */
	if (ctx->side == LL_SIDE_APPLET &&
	    ll_api_client_addr(ctx, s->org_id, addr, sizeof(addr)) == LL_OK)
		ll_api_live_applet_addr(ctx->relay, s->id, addr);
}

void ll_api_stream_paired(struct ll_relay *relay, const char *session_id,
			  bool resumed)
{
	struct ll_session *s = NULL;
	int64_t org_id = 0;

	if (relay->store == NULL || session_id == NULL)
		return;
	if (ll_store_session_get(relay->store, session_id, &s) == LL_OK)
		org_id = s->org_id;
	if (!resumed &&
	    ll_store_session_set_connected(relay->store, session_id,
					   ll_now_unix()) != LL_OK)
		ll_error("session %s: cannot record that it connected: %s",
			 session_id, ll_store_errmsg(relay->store));
	ll_api_audit(relay, org_id, "relay",
		     resumed ? "stream.resumed" : "stream.paired", "ok", NULL,
		     session_id, NULL);
	ll_info("session %s: streams paired%s", session_id,
		resumed ? " again" : "");
	ll_session_free(s);
	ll_api_live_changed(relay);
}

void ll_api_stream_interrupted(struct ll_relay *relay, const char *session_id,
			       const char *reason)
{
	struct ll_session *s = NULL;
	int64_t org_id = 0;
	json_t *detail;

	if (relay->store == NULL || session_id == NULL)
		return;
	if (ll_store_session_get(relay->store, session_id, &s) == LL_OK)
		org_id = s->org_id;
	/* The session stays connected in the store: its tickets may open
	 * their side's stream again (ll_store_session_claim_stream). */
	detail = json_pack("{s:s,s:I}", "reason", reason != NULL ? reason : "",
			   "grace_s", (json_int_t)relay->cfg.stream_grace_s);
	ll_api_audit(relay, org_id, "relay", "stream.interrupted", "ok", NULL,
		     session_id, detail);
	json_decref(detail);
	ll_session_free(s);
	ll_api_live_changed(relay);
}

void ll_api_stream_ended(struct ll_relay *relay, const char *session_id,
			 const char *reason, uint64_t bytes_agent_to_applet,
			 uint64_t bytes_applet_to_agent)
{
	struct ll_session *s = NULL;
	int64_t org_id = 0;
	json_t *detail;

	if (relay->store == NULL || session_id == NULL)
		return;
	if (reason == NULL)
		reason = "closed";
	if (ll_store_session_get(relay->store, session_id, &s) == LL_OK)
		org_id = s->org_id;
	if (ll_store_session_end(relay->store, session_id, ll_now_unix(),
				 reason, bytes_agent_to_applet,
				 bytes_applet_to_agent) != LL_OK)
		ll_error("session %s: cannot record its end: %s", session_id,
			 ll_store_errmsg(relay->store));
	detail = json_pack("{s:s,s:I,s:I}", "reason", reason,
			   "bytes_agent_to_applet",
			   (json_int_t)bytes_agent_to_applet,
			   "bytes_applet_to_agent",
			   (json_int_t)bytes_applet_to_agent);
	ll_api_audit(relay, org_id, "relay", "stream.ended", "ok", NULL,
		     session_id, detail);
	json_decref(detail);
	ll_info("session %s: ended (%s), %llu bytes to the applet, %llu "
		"bytes to the agent",
		session_id, reason, (unsigned long long)bytes_agent_to_applet,
		(unsigned long long)bytes_applet_to_agent);
	ll_session_free(s);
	ll_api_live_ended(relay, session_id);
}

int ll_api_sessions_recover(struct ll_relay *relay)
{
	static const char reason[] = "relay_restart";
	char **ids = NULL;
	size_t n = 0, i;
	json_t *detail;
	int r;

	if (relay == NULL || relay->store == NULL)
		return LL_ERR_INVALID_ARG;
	/* One transaction: the ends and their records, or neither. */
	if ((r = ll_store_begin(relay->store)) != LL_OK ||
	    (r = ll_store_session_end_orphaned(relay->store, ll_now_unix(),
					       reason, &ids, &n)) != LL_OK) {
		if (r != LL_OK)
			ll_store_rollback(relay->store);
		ll_error("cannot end the sessions of the last run: %s",
			 ll_store_errmsg(relay->store));
		return r;
	}
	for (i = 0; i < n; i++) {
		struct ll_session *s = NULL;
		int64_t org_id = 0;

		if (ll_store_session_get(relay->store, ids[i], &s) == LL_OK)
			org_id = s->org_id;
		ll_session_free(s);
		detail = json_pack("{s:s}", "reason", reason);
		if (r == LL_OK)
			r = ll_api_audit(relay, org_id, "relay", "session.end",
					 "ok", NULL, ids[i], detail);
		json_decref(detail);
		ll_info("session %s: ended (%s)", ids[i], reason);
		free(ids[i]);
	}
	free(ids);
	if (r == LL_OK)
		r = ll_store_commit(relay->store);
	if (r != LL_OK) {
		ll_store_rollback(relay->store);
		ll_error("cannot end the sessions of the last run: %s",
			 ll_store_errmsg(relay->store));
		return r;
	}
	if (n > 0)
		ll_info("%zu sessions ended (relay_restart): their streams "
			"did not outlive the last run of the relay",
			n);
	return LL_OK;
}

/* Ends each of ids (freeing them) for reason: both streams, the store's
 * record, the audit. */
static void end_sessions(struct ll_relay *relay, char **ids, size_t n,
			 const char *reason, const char *why)
{
	json_t *detail;
	size_t i;

	for (i = 0; i < n; i++) {
		struct ll_session *s = NULL;
		int64_t org_id = 0;

		if (ll_store_session_get(relay->store, ids[i], &s) == LL_OK)
			org_id = s->org_id;
		ll_session_free(s);
		/* The core ends paired sessions with their byte counts;
		 * the store end below covers sessions without streams. */
		ll_relay_session_close(relay, ids[i], reason);
		if (ll_store_session_end(relay->store, ids[i], ll_now_unix(),
					 reason, 0, 0) != LL_OK)
			ll_error("session %s: cannot record its end: %s",
				 ids[i], ll_store_errmsg(relay->store));
		detail = json_pack("{s:s}", "reason", reason);
		ll_api_audit(relay, org_id, "relay", "session.end", "ok", NULL,
			     ids[i], detail);
		json_decref(detail);
		ll_info("session %s: ended because %s", ids[i], why);
		free(ids[i]);
	}
	free(ids);
}

void ll_api_periodic(struct ll_relay *relay)
{
	char **ids = NULL;
	size_t n = 0, i;

	if (relay == NULL || relay->store == NULL)
		return;
	ll_api_redeem_budgets_sweep(relay);
	ll_api_queue_sweep(relay);
	ll_api_dir_sync_tick(relay);
	/* A PIN that ran out unredeemed ends its session; the agent's
	 * stream, waiting for an applet that can no longer come, closes. */
	if (ll_store_session_expire_list(relay->store, ll_now_unix(), &ids,
					 &n) != LL_OK) {
		ll_warn("cannot expire old PINs: %s",
			ll_store_errmsg(relay->store));
		n = 0;
	}
	for (i = 0; i < n; i++) {
		ll_info("session %s: PIN expired unredeemed", ids[i]);
		ll_relay_session_close(relay, ids[i], "PIN expired");
		free(ids[i]);
	}
	free(ids);
	ids = NULL;
	n = 0;
	/* A redeemed session whose streams did not meet within a PIN
	 * lifetime of the redeem expires; the stream that waits closes. */
	if (ll_store_session_expire_unconnected(relay->store, ll_now_unix(),
						relay->cfg.pin_lifetime_s,
						&ids, &n) != LL_OK) {
		ll_warn("cannot expire unconnected sessions: %s",
			ll_store_errmsg(relay->store));
		n = 0;
	}
	for (i = 0; i < n; i++) {
		ll_info("session %s: expired, its streams did not meet within "
			"%lld s of the redeem",
			ids[i], (long long)relay->cfg.pin_lifetime_s);
		ll_relay_session_close(relay, ids[i],
				       "session expired: not connected in "
				       "time");
		free(ids[i]);
	}
	free(ids);
	ids = NULL;
	n = 0;
	/* The store is the channel: `technician disable`, `group set`
	 * and the API change it, from this process or the CLI's. */
	if (ll_store_session_live_of_disabled(relay->store, &ids, &n) == LL_OK)
		end_sessions(relay, ids, n, LL_END_TECHNICIAN_DISABLED,
			     "its technician was disabled");
	else
		ll_warn("cannot look for sessions of disabled technicians: %s",
			ll_store_errmsg(relay->store));
	ids = NULL;
	n = 0;
	if (ll_store_session_live_not_permitted(relay->store, LL_PERM_NO_GROUP,
						&ids, &n) == LL_OK)
		end_sessions(relay, ids, n, LL_END_PERMISSION_WITHDRAWN,
			     "its technician no longer holds a permission it "
			     "carries");
	else
		ll_warn("cannot look for sessions past their permissions: %s",
			ll_store_errmsg(relay->store));
}
