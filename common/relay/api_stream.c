/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Streams seen from the API: who may open one (a ticket opens its side's
 * one stream once), what gets recorded when the core pairs and ends them,
 * and the once-a-second sweep (expired PINs, disabled technicians).
 */
#include <stdio.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_util.h"
#include "relay.h"
#include "api.h"

int ll_api_stream_authorize(struct ll_relay *relay,
			    const struct ll_api_request *req,
			    char session_id_out[LL_SESSION_ID_LEN + 1],
			    enum ll_session_side *side_out,
			    struct ll_api_response *refusal)
{
	struct ll_api_ctx ctx;
	struct ll_session *s = NULL;
	struct ll_technician *t = NULL;
	enum ll_session_side side = LL_SIDE_AGENT;
	const char *bearer;
	uint8_t hash[LL_HASH_LEN];
	bool in_tx = false;
	int r;

	memset(refusal, 0, sizeof(*refusal));
	memset(&ctx, 0, sizeof(ctx));
	memset(hash, 0, sizeof(hash));
	ctx.relay = relay;
	ctx.req = req;
	ctx.resp = refusal;
	ctx.now = ll_now_unix();
	ctx.action = "stream.open";
	snprintf(ctx.actor, sizeof(ctx.actor), "anonymous");

	if (relay->store == NULL || req == NULL || req->http == NULL) {
		ll_api_fail(&ctx, LL_API_INTERNAL, "internal error");
		goto refused;
	}
	bearer = ll_http_request_bearer(req->http);
	if (bearer == NULL || bearer[0] == '\0') {
		ll_api_fail(&ctx, LL_API_UNAUTHORIZED,
			    "a stream needs Authorization: Bearer TICKET");
		goto refused;
	}
	if (ll_secret_hash(bearer, hash) != 0) {
		ll_api_fail(&ctx, LL_API_INTERNAL, "internal error");
		goto refused;
	}
	if (ll_store_begin(relay->store) != 0) {
		ll_api_fail(&ctx, LL_API_INTERNAL, "internal error");
		goto refused;
	}
	in_tx = true;
	r = ll_store_session_find_by_ticket(relay->store, hash, &s, &side);
	if (r != LL_OK) {
		ll_api_fail(&ctx, r == LL_ERR_NOT_FOUND ? LL_API_UNAUTHORIZED
							: LL_API_INTERNAL,
			    r == LL_ERR_NOT_FOUND ? "unknown ticket"
						  : "internal error");
		goto refused;
	}
	memcpy(ctx.session_id, s->id, sizeof(ctx.session_id));
	ctx.org_id = s->org_id;
	ll_api_detail_set(&ctx, "side", json_string(side == LL_SIDE_APPLET
							    ? "applet"
							    : "agent"));
	if (side == LL_SIDE_APPLET) {
		snprintf(ctx.actor, sizeof(ctx.actor), "applet");
	} else {
		if (ll_store_technician_get(relay->store, s->technician_id,
					    &t) != LL_OK) {
			ll_api_fail(&ctx, LL_API_INTERNAL, "internal error");
			goto refused;
		}
		snprintf(ctx.actor, sizeof(ctx.actor), "technician:%s",
			 t->username);
		if (t->disabled) {
			ll_api_fail(&ctx, LL_API_ACCOUNT_DISABLED,
				    "this technician account is disabled");
			goto refused;
		}
	}
	if (s->state == LL_SESSION_ENDED || s->state == LL_SESSION_EXPIRED ||
	    (s->state == LL_SESSION_WAITING && !s->pin_used &&
	     s->expires_at <= ctx.now)) {
		ll_api_detail_set(&ctx, "state",
				  json_string(ll_session_state_name(s->state)));
		ll_api_fail(&ctx, LL_API_NOT_FOUND,
			    "this session has ended or expired");
		goto refused;
	}
	r = ll_store_session_claim_stream(relay->store, s->id, side);
	if (r == LL_ERR_CONFLICT) {
		ll_api_fail(&ctx, LL_API_CONFLICT,
			    "this side of the session already has its stream");
		goto refused;
	}
	if (r == LL_ERR_EXPIRED || r == LL_ERR_NOT_FOUND) {
		ll_api_fail(&ctx, LL_API_NOT_FOUND,
			    "this session has ended or expired");
		goto refused;
	}
	if (r != LL_OK) {
		ll_api_fail(&ctx, LL_API_INTERNAL, "internal error");
		goto refused;
	}
	/* durable before the 101 leaves */
	if (ll_api_audit(relay, ctx.org_id, ctx.actor, ctx.action, "ok",
			 req->source_ip, ctx.session_id, ctx.detail) != 0 ||
	    ll_store_commit(relay->store) != 0) {
		ll_api_fail(&ctx, LL_API_INTERNAL, "internal error");
		goto refused;
	}
	memcpy(session_id_out, s->id, LL_SESSION_ID_LEN + 1);
	*side_out = side;
	r = LL_OK;
	goto out;

refused:
	if (in_tx)
		ll_store_rollback(relay->store);
	if (relay->store != NULL)
		ll_api_audit(relay, ctx.org_id, ctx.actor, ctx.action,
			     ll_api_code_name(refusal->code),
			     req ? req->source_ip : NULL, ctx.session_id,
			     ctx.detail);
	ll_info("refused stream.open from %s%s%s: %d %s",
		req && req->source_ip ? req->source_ip : "?",
		ctx.session_id[0] ? " session " : "", ctx.session_id,
		refusal->status, ll_api_code_name(refusal->code));
	r = refusal->code == LL_API_INTERNAL ? LL_ERR_INTERNAL
					     : LL_ERR_AUTH_FAILED;
out:
	ll_wipe(hash, sizeof(hash));
	json_decref(ctx.detail);
	ll_session_free(s);
	ll_technician_free(t);
	return r;
}

/*
 * GET /api/v1/stream as an upgrade, a ticket authenticated by the
 * envelope: claims that side's one stream.  Success is the 101, which the
 * core sends once the envelope has committed the audit record.
 */
void ll_api_handle_stream_open(struct ll_api_ctx *ctx)
{
	const struct ll_session *s = ctx->session;
	int r;

	ll_api_detail_set(ctx, "side", json_string(ctx->side == LL_SIDE_APPLET
							   ? "applet"
							   : "agent"));
	if (ctx->side == LL_SIDE_AGENT && ctx->tech->disabled) {
		ll_api_fail(ctx, LL_API_ACCOUNT_DISABLED,
			    "this technician account is disabled");
		return;
	}
	if (s->state == LL_SESSION_ENDED || s->state == LL_SESSION_EXPIRED ||
	    (s->state == LL_SESSION_WAITING && !s->pin_used &&
	     s->expires_at <= ctx->now)) {
		ll_api_detail_set(ctx, "state",
				  json_string(ll_session_state_name(s->state)));
		ll_api_fail(ctx, LL_API_NOT_FOUND,
			    "this session has ended or expired");
		return;
	}
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
}

void ll_api_stream_paired(struct ll_relay *relay, const char *session_id)
{
	struct ll_session *s = NULL;
	int64_t org_id = 0;

	if (relay->store == NULL || session_id == NULL)
		return;
	if (ll_store_session_get(relay->store, session_id, &s) == LL_OK)
		org_id = s->org_id;
	if (ll_store_session_set_connected(relay->store, session_id,
					   ll_now_unix()) != LL_OK)
		ll_error("session %s: cannot record that it connected: %s",
			 session_id, ll_store_errmsg(relay->store));
	ll_api_audit(relay, org_id, "relay", "stream.paired", "ok", NULL,
		     session_id, NULL);
	ll_info("session %s: streams paired", session_id);
	ll_session_free(s);
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
		session_id, reason,
		(unsigned long long)bytes_agent_to_applet,
		(unsigned long long)bytes_applet_to_agent);
	ll_session_free(s);
}

void ll_api_periodic(struct ll_relay *relay)
{
	static const char reason[] = "technician disabled";
	char **ids = NULL;
	size_t n = 0, i;
	json_t *detail;

	if (relay == NULL || relay->store == NULL)
		return;
	/* A PIN that ran out unredeemed ends its session; the agent's
	 * stream, waiting for an applet that can no longer come, closes. */
	if (ll_store_session_expire_list(relay->store, ll_now_unix(), &ids,
					 &n) != LL_OK) {
		ll_warn("cannot expire old PINs: %s",
			ll_store_errmsg(relay->store));
		n = 0;
	}
	for (i = 0; i < n; i++) {
		ll_relay_session_close(relay, ids[i], "PIN expired");
		free(ids[i]);
	}
	free(ids);
	ids = NULL;
	n = 0;
	if (ll_store_session_live_of_disabled(relay->store, &ids, &n) !=
	    LL_OK) {
		ll_warn("cannot look for sessions of disabled technicians: %s",
			ll_store_errmsg(relay->store));
		return;
	}
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
		ll_info("session %s: ended because its technician was "
			"disabled",
			ids[i]);
		free(ids[i]);
	}
	free(ids);
}
