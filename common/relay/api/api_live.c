/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GET /api/v1/live[?since=VERSION] (bearer, `admin`; issue 11 item 5):
 * the org's live sessions for the agent's Live page, as a long-poll.
 * Without since, or with a version other than the relay's, it answers at
 * once; with the current version it is held (ll_api_park: no
 * transaction, no worker, the connection only watched for a close) until
 * what the page shows changes -- a stream paired, lost or ended, the end
 * user granted or revoked a capability -- or LL_LIVE_HOLD_S passed, and
 * then answers with the new version.  At most LL_LIVE_HELD requests are
 * held; past that they are answered at once.  Ending a session is
 * DELETE /api/v1/sessions/ID, which an admin may do for any session of
 * the org (api_sessions.c).
 *
 * The version is the relay's (relay->live_version), one counter for all
 * orgs: a change in another org answers a long-poll too, with the same
 * list; the page then polls again.  The capabilities the end user
 * granted are kept here, in memory, from the session events, and so is
 * the end user's address, from their applet's stream upgrade: the relay
 * never learns the end user's name, only what their applet says to the
 * agent, so the address is how it shows them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "ll_util.h"
#include "ll_relay.h"
#include "api.h"

#define LL_LIVE_HOLD_S 25
#define LL_LIVE_HELD 256
#define LL_LIVE_SESSIONS_MAX 500

struct ll_live {
	struct ll_api_ctx *held[LL_LIVE_HELD];
	size_t n_held;
	bool wake_queued;
	json_t *caps; /* session id -> [capability, ...] */
	/* session id -> the end user's address, as the org's rules see it
	 * (its trusted_proxies), from the applet's last stream upgrade */
	json_t *addrs;
};

static struct ll_live *live_of(struct ll_relay *relay)
{
	if (relay->live == NULL &&
	    (relay->live = calloc(1, sizeof(*relay->live))) != NULL &&
	    ((relay->live->caps = json_object()) == NULL ||
	     (relay->live->addrs = json_object()) == NULL)) {
		json_decref(relay->live->caps);
		LL_FREE_AND_NULL(free, relay->live);
	}
	return relay->live;
}

void ll_api_live_hold(struct ll_relay *relay, struct ll_api_ctx *ctx)
{
	struct ll_live *l = live_of(relay);

	/* ll_api_handle_live parks only while there is room */
	l->held[l->n_held++] = ctx;
	relay->metrics.live_polls_held = l->n_held;
}

/* Resumes the held requests that match (all, or those due at now). */
static void wake(struct ll_relay *relay, bool all, int64_t now)
{
	struct ll_live *l = relay->live;
	struct ll_api_ctx *due[LL_LIVE_HELD];
	size_t i, n = 0, k = 0;

	if (l == NULL)
		return;
	/* taken out first: a resume may hold its request again */
	for (i = 0; i < l->n_held; i++) {
		if (all || l->held[i]->park_until <= now)
			due[n++] = l->held[i];
		else
			l->held[k++] = l->held[i];
	}
	l->n_held = k;
	relay->metrics.live_polls_held = k;
	for (i = 0; i < n; i++)
		ll_api_parked_resume(due[i]);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ll_relay *relay = arg;

	(void)fd;
	(void)what;
	if (relay->live != NULL)
		relay->live->wake_queued = false;
	wake(relay, true, 0);
}

void ll_api_live_changed(struct ll_relay *relay)
{
	struct ll_live *l = relay->live;
	struct timeval now = { 0, 0 };

	relay->live_version++;
	/* On the loop, after whatever transaction reported the change:
	 * never a held request's answer inside another's. */
	if (l == NULL || l->n_held == 0 || l->wake_queued ||
	    relay->base == NULL)
		return;
	if (event_base_once(relay->base, -1, EV_TIMEOUT, wake_cb, relay,
			    &now) == 0)
		l->wake_queued = true;
}

void ll_api_live_caps(struct ll_relay *relay, const char *session_id,
		      bool granted, const json_t *caps)
{
	struct ll_live *l = live_of(relay);
	json_t *have, *c, *h;
	size_t i, k;

	if (l == NULL || session_id == NULL)
		return;
	if ((have = json_object_get(l->caps, session_id)) == NULL) {
		have = json_array();
		json_object_set_new(l->caps, session_id, have);
	}
	if (!granted && json_array_size(caps) == 0)
		json_array_clear(have);
	json_array_foreach(caps, i, c)
	{
		for (k = 0; k < json_array_size(have); k++) {
			h = json_array_get(have, k);
			if (json_equal(h, c))
				break;
		}
		if (granted && k == json_array_size(have))
			json_array_append(have, (json_t *)c);
		else if (!granted && k < json_array_size(have))
			json_array_remove(have, k);
	}
	ll_api_live_changed(relay);
}

void ll_api_live_applet_addr(struct ll_relay *relay, const char *session_id,
			     const char *addr)
{
	struct ll_live *l = live_of(relay);

	if (l == NULL || session_id == NULL || addr == NULL)
		return;
	/* the pairing that follows tells the held long-polls */
	json_object_set_new(l->addrs, session_id, json_string(addr));
}

void ll_api_live_ended(struct ll_relay *relay, const char *session_id)
{
	if (relay->live != NULL) {
		json_object_del(relay->live->caps, session_id);
		json_object_del(relay->live->addrs, session_id);
	}
	ll_api_live_changed(relay);
}

void ll_api_live_tick(struct ll_relay *relay, int64_t now)
{
	wake(relay, false, now);
}

void ll_api_live_stop(struct ll_relay *relay)
{
	wake(relay, true, 0);
	if (relay->live != NULL) {
		json_decref(relay->live->caps);
		json_decref(relay->live->addrs);
		LL_FREE_AND_NULL(free, relay->live);
	}
}

/* One live session as the page shows it; NULL when out of memory. */
static json_t *session_json(struct ll_api_ctx *ctx, const struct ll_session *s)
{
	struct ll_relay *relay = ctx->relay;
	struct ll_technician *t = NULL;
	uint64_t a2b = s->bytes_agent_to_applet,
		 b2a = s->bytes_applet_to_agent;
	json_t *caps = NULL, *addr = NULL, *o;

	if (relay->live != NULL) {
		caps = json_object_get(relay->live->caps, s->id);
		addr = json_object_get(relay->live->addrs, s->id);
	}
	(void)ll_relay_session_bytes(relay, s->id, &a2b, &b2a);
	(void)ll_store_technician_get(relay->store, s->technician_id, &t);
	o = json_pack("{s:s,s:s,s:o,s:o,s:o,s:s,s:o,s:I,s:I,s:I}",
		      "session_id", s->id, "technician", t ? t->username : "",
		      "technician_display_name",
		      t && t->display_name ? json_string(t->display_name)
					   : json_null(),
		      "end_user_address",
		      addr != NULL ? json_incref(addr) : json_null(),
		      "capabilities", caps ? json_incref(caps) : json_array(),
		      "state",
		      ll_relay_session_interrupted(relay, s->id)
			      ? "interrupted"
			      : "connected",
		      "connected_at", ll_api_time_json(s->connected_at),
		      "duration_s",
		      (json_int_t)(s->connected_at > 0
					   ? ctx->now - s->connected_at
					   : 0),
		      "bytes_agent_to_applet", (json_int_t)a2b,
		      "bytes_applet_to_agent", (json_int_t)b2a);
	ll_technician_free(t);
	return o;
}

/* The answer: {"version", "sessions": [...]}, not audited (the page
 * asks again after every answer). */
static void live_answer(struct ll_api_ctx *ctx)
{
	struct ll_session **list = NULL;
	struct ll_technician *t = NULL;
	json_t *arr = json_array(), *o;
	size_t n = 0, i;

	ctx->audit_quiet = true;
	/* after a hold: the admin as they are now */
	if (ll_store_technician_get(ctx->relay->store, ctx->tech->id, &t) !=
		    LL_OK ||
	    t->disabled || !t->is_admin) {
		ll_api_fail(ctx,
			    t != NULL && t->disabled ? LL_API_ACCOUNT_DISABLED
						     : LL_API_FORBIDDEN,
			    "no longer an enabled administrator");
		goto out;
	}
	if (arr == NULL ||
	    ll_store_session_connected(ctx->relay->store, ctx->tech->org_id,
				       LL_LIVE_SESSIONS_MAX, &list,
				       &n) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((o = session_json(ctx, list[i])) == NULL ||
		    json_array_append_new(arr, o) != 0) {
			ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
			goto out;
		}
	}
	ll_api_answer(ctx, 200,
		      json_pack("{s:I,s:O}", "version",
				(json_int_t)ctx->relay->live_version,
				"sessions", arr));
out:
	ll_technician_free(t);
	json_decref(arr);
	ll_session_list_free(list, n);
}

/* since=N, the query's only parameter: true with *since (-1: absent),
 * false after a 400. */
static bool since_of(struct ll_api_ctx *ctx, int64_t *since)
{
	const char *q = ctx->req->http->query;
	char *end = NULL;
	long long v;

	*since = -1;
	if (q == NULL || q[0] == '\0')
		return true;
	if (strncmp(q, "since=", 6) == 0 && q[6] >= '0' && q[6] <= '9') {
		v = strtoll(q + 6, &end, 10);
		if (*end == '\0' && v >= 0) {
			*since = v;
			return true;
		}
	}
	ll_api_fail(ctx, LL_API_BAD_REQUEST,
		    "the only parameter is since=VERSION (digits)");
	return false;
}

void ll_api_handle_live(struct ll_api_ctx *ctx)
{
	struct ll_live *l = live_of(ctx->relay);
	int64_t since;

	if (!since_of(ctx, &since))
		return;
	if (since >= 0 && (uint64_t)since == ctx->relay->live_version &&
	    l != NULL && l->n_held < LL_LIVE_HELD) {
		ctx->audit_quiet = true;
		ctx->resp->status = 200;
		ctx->resp->code = LL_API_OK;
		ll_api_park(ctx, ctx->now + LL_LIVE_HOLD_S, live_answer);
		return;
	}
	live_answer(ctx);
}
