/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Channels (calling cards) and their queue: POST /api/v1/channels/join,
 * GET and DELETE /api/v1/queue/entry (the waiting applet, with the
 * ticket join gave it), GET /api/v1/queue and POST
 * /api/v1/queue/ENTRY/pickup (technicians).  The flow is in
 * docs/ARCHITECTURE.md, "Channels"; the credential in docs/SECURITY.md.
 *
 * A waiting applet asks again every QUEUE_POLL_S; one that has not asked
 * for QUEUE_GRACE_S is gone (closed, crashed, offline) and its entry
 * expires, as does one that waited queue_wait_s.  A pickup makes a
 * session that is redeemed at birth: the entry's ticket becomes the
 * applet's ticket of it, and the next answer to the waiting applet
 * names the technician as a redeem does.  Nothing of a channel touches
 * consent: the applet asks the user as for any session.
 */
#include <stdio.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_text.h"
#include "ll_util.h"
#include "ll_ratelimit.h"
#include "ll_relay.h"
#include "api.h"

#define QUEUE_POLL_S 2
#define QUEUE_GRACE_S 30
#define QUEUE_LIST_MAX 200
/* The description: what the body may carry, and what is kept of it. */
#define DESCRIPTION_BODY_MAX 2048
#define DESCRIPTION_KEEP 500
/* Ended entries are forgotten after a day (the audit keeps the story). */
#define QUEUE_FORGET_S 86400

#define CREDENTIAL_INVALID_MSG                                                \
	"this support shortcut is not valid (any more); ask your IT "         \
	"department for a new one"

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/*
 * The channel whose credential this is.  The same work and the same
 * answer whatever is wrong with it (malformed, unknown handle, wrong
 * MAC): one HMAC and one constant-time compare, so that neither the
 * answer nor its time tells a guesser which.
 */
int ll_api_channel_of_credential(struct ll_api_ctx *ctx, const char *cred,
				 struct ll_channel **out)
{
	struct ll_relay *relay = ctx->relay;
	uint8_t handle[LL_CHANNEL_HANDLE_LEN], mac[32], want[32];
	struct ll_channel *ch = NULL;
	const char *why = NULL;
	int r;

	memset(handle, 0, sizeof(handle));
	memset(mac, 0, sizeof(mac));
	if (ll_channel_credential_parse(cred, handle, mac) != LL_OK)
		why = "malformed";
	r = ll_store_channel_by_handle(relay->store, handle, &ch);
	if (r != LL_OK && r != LL_ERR_NOT_FOUND) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (ll_channel_credential_mac(relay->mac_key, ch ? ch->id : 1, handle,
				      want) != LL_OK) {
		r = LL_ERR_INTERNAL;
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (!ll_ct_equal(mac, want, sizeof(mac)) && why == NULL)
		why = ch ? "mac" : "unknown";
	if (why != NULL || ch == NULL) {
		ll_api_detail_set(ctx, "why",
				  json_string(why ? why : "unknown"));
		ll_api_fail(ctx, LL_API_UNAUTHORIZED, CREDENTIAL_INVALID_MSG);
		r = LL_ERR_AUTH_FAILED;
		goto out;
	}
	*out = ch;
	ch = NULL;
	r = LL_OK;
out:
	ll_wipe(mac, sizeof(mac));
	ll_wipe(want, sizeof(want));
	ll_channel_free(ch);
	return r;
}

/* The caps on who waits: per org and per source address. */
static int queue_room(struct ll_api_ctx *ctx, const struct ll_channel *ch)
{
	struct ll_relay *relay = ctx->relay;
	const char *ip = ctx->req->source_ip;
	int64_t n_org = 0, n_ip = 0;
	const char *limit = NULL;

	if (ll_store_queue_count(relay->store, ch->org_id, NULL, ctx->now,
				 &n_org) != LL_OK ||
	    ll_store_queue_count(relay->store, ch->org_id, ip ? ip : "",
				 ctx->now, &n_ip) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return LL_ERR_INTERNAL;
	}
	if (n_org >= relay->cfg.queue_max_per_org)
		limit = "queue_max_per_org";
	else if (n_ip >= relay->cfg.queue_max_per_address)
		limit = "queue_max_per_address";
	if (limit == NULL)
		return LL_OK;
	ll_api_fail(ctx, LL_API_RATE_LIMITED,
		    "too many people are waiting right now; please try again "
		    "in a minute");
	ll_api_detail_set(ctx, "limit", json_string(limit));
	ll_api_detail_set(ctx, "retry_after", json_integer(60));
	ctx->resp->extra_headers = strdup("Retry-After: 60\r\n");
	return LL_ERR_TOO_LARGE;
}

/* The user's words: one line (line ends become blanks), the display
 * rule, at most DESCRIPTION_KEEP bytes; NULL when nothing is left. */
static char *description_clean(const char *d)
{
	char *flat, *clean, *p;

	if (d == NULL || d[0] == '\0' || (flat = strdup(d)) == NULL)
		return NULL;
	for (p = flat; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	clean = ll_text_printable_new(flat, strlen(flat), DESCRIPTION_KEEP);
	free(flat);
	if (clean != NULL && strspn(clean, " ") == strlen(clean)) {
		free(clean);
		clean = NULL;
	}
	return clean;
}

/* Adds the entry for channel ch and fills the 201. */
static void join_enter(struct ll_api_ctx *ctx, const struct ll_channel *ch,
		       const char *description)
{
	struct ll_relay *relay = ctx->relay;
	struct ll_queue_entry_new en;
	struct ll_queue_entry e;
	char id[LL_SESSION_ID_LEN + 1];
	uint8_t ticket_hash[LL_HASH_LEN];
	char *ticket = NULL, *desc = description_clean(description);
	int64_t pos = 0;

	memset(&en, 0, sizeof(en));
	memset(&e, 0, sizeof(e));
	if (ll_api_new_session_id(id) != LL_OK ||
	    (ticket = ll_random_token_new(32)) == NULL ||
	    ll_secret_hash(ticket, ticket_hash) != LL_OK)
		goto internal;
	en.id = id;
	en.channel_id = ch->id;
	en.org_id = ch->org_id;
	en.ticket_hash = ticket_hash;
	en.description = desc;
	en.source_ip = ctx->req->source_ip ? ctx->req->source_ip : "";
	en.created_at = ctx->now;
	en.expires_at = ctx->now + relay->cfg.queue_wait_s;
	en.deadline = min64(ctx->now + QUEUE_GRACE_S, en.expires_at);
	memcpy(e.id, id, sizeof(e.id));
	e.org_id = ch->org_id;
	e.created_at = ctx->now;
	if (ll_store_queue_add(relay->store, &en) != LL_OK ||
	    ll_store_queue_position(relay->store, &e, ctx->now, &pos) != LL_OK)
		goto internal;
	ctx->resp->body = json_pack("{s:s,s:s,s:s,s:s,s:I,s:o,s:i}",
				    "entry_id", id, "ticket", ticket, "org",
				    ch->org_name, "channel", ch->name,
				    "position", (json_int_t)pos, "expires_at",
				    ll_api_time_json(en.expires_at),
				    "poll_interval_s", QUEUE_POLL_S);
	if (ctx->resp->body == NULL)
		goto internal;
	ctx->resp->status = 201;
	ctx->resp->code = LL_API_OK;
	ll_api_detail_set(ctx, "entry_id", json_string(id));
	ll_api_detail_set(ctx, "position", json_integer(pos));
	ll_api_detail_set(ctx, "description_bytes",
			  json_integer(desc ? (json_int_t)strlen(desc) : 0));
	goto out;
internal:
	ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
out:
	ll_wipe(ticket_hash, sizeof(ticket_hash));
	ll_secret_free(ticket);
	free(desc);
}

void ll_api_handle_channel_join(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "credential", JSON_STRING, true, 256 },
		{ "description", JSON_STRING, false, DESCRIPTION_BODY_MAX },
		{ NULL, 0, false, 0 },
	};
	/* the credential lives in the parsed body: wiped first */
	static const char *const secrets[] = { "credential", NULL };
	struct ll_channel *ch = NULL;
	json_t *body = NULL;

	snprintf(ctx->actor, sizeof(ctx->actor), "applet");
	/* the end user's bucket, shared with PIN redeems */
	if (ll_api_ratelimit_check(ctx, ctx->relay->rl_redeem) != 0 ||
	    ll_api_parse_body(ctx, fields, false, &body) != 0)
		goto out;
	if (ll_api_channel_of_credential(
		    ctx,
		    json_string_value(json_object_get(body, "credential")),
		    &ch) != LL_OK)
		goto out;
	ctx->org_id = ch->org_id;
	ll_api_detail_set(ctx, "channel", json_string(ch->name));
	if (queue_room(ctx, ch) != LL_OK)
		goto out;
	join_enter(ctx, ch,
		   json_string_value(json_object_get(body, "description")));
out:
	ll_api_body_free(body, secrets);
	ll_channel_free(ch);
}

/* The queue entry whose ticket is the bearer: 401 unauthorized when
 * none.  Sets the actor, org and entry of the audit record. */
static int entry_auth(struct ll_api_ctx *ctx, struct ll_queue_entry **out)
{
	const char *bearer = ll_http_request_bearer(ctx->req->http);
	uint8_t hash[LL_HASH_LEN];
	int r;

	snprintf(ctx->actor, sizeof(ctx->actor), "applet");
	if (bearer == NULL || bearer[0] == '\0') {
		ll_api_fail(ctx, LL_API_UNAUTHORIZED,
			    "this request needs Authorization: Bearer with "
			    "the ticket of channels/join");
		return LL_ERR_AUTH_FAILED;
	}
	if ((r = ll_secret_hash(bearer, hash)) == LL_OK)
		r = ll_store_queue_by_ticket(ctx->relay->store, hash, out);
	ll_wipe(hash, sizeof(hash));
	if (r == LL_ERR_NOT_FOUND) {
		ll_api_fail(ctx, LL_API_UNAUTHORIZED, "unknown queue ticket");
		return LL_ERR_AUTH_FAILED;
	}
	if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return r;
	}
	ctx->org_id = (*out)->org_id;
	ll_api_detail_set(ctx, "entry_id", json_string((*out)->id));
	return LL_OK;
}

/* 404 for an entry that no longer waits (left, expired, session over). */
static void entry_gone(struct ll_api_ctx *ctx, const char *state)
{
	ll_api_detail_set(ctx, "state", json_string(state));
	ll_api_fail(ctx, LL_API_NOT_FOUND,
		    "you are no longer waiting for a technician; start again "
		    "to wait once more");
}

/* The waiting applet learns it was picked up: a redeem's answer. */
static void wait_picked(struct ll_api_ctx *ctx, const struct ll_queue_entry *e)
{
	struct ll_relay *relay = ctx->relay;
	struct ll_session *s = NULL;
	struct ll_technician *t = NULL;
	json_t *caps = NULL;

	memcpy(ctx->session_id, e->session_id, sizeof(ctx->session_id));
	if (ll_store_session_get(relay->store, e->session_id, &s) != LL_OK ||
	    ll_store_technician_get(relay->store, e->technician_id, &t) !=
		    LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (t->disabled || ll_api_session_over(relay, s, ctx->now)) {
		entry_gone(ctx, "session_over");
		goto out;
	}
	caps = ll_api_session_caps_json(s, t);
	if (!ll_api_answer(ctx, 200,
			   json_pack("{s:s,s:s,s:s,s:o,s:O,s:s}", "state",
				     "picked", "entry_id", e->id, "session_id",
				     s->id, "technician",
				     ll_api_technician_shown(t),
				     "capabilities", caps, "stream_path",
				     "/api/v1/stream")))
		goto out;
	ll_api_detail_set(ctx, "technician", json_string(t->username));
out:
	json_decref(caps);
	ll_session_free(s);
	ll_technician_free(t);
}

void ll_api_handle_queue_wait(struct ll_api_ctx *ctx)
{
	struct ll_relay *relay = ctx->relay;
	struct ll_queue_entry *e = NULL;
	int64_t pos = 0;

	if (entry_auth(ctx, &e) != LL_OK)
		goto out;
	if (e->state == LL_QUEUE_PICKED) {
		wait_picked(ctx, e);
		goto out;
	}
	if (e->state != LL_QUEUE_WAITING || e->deadline <= ctx->now) {
		entry_gone(ctx, e->state == LL_QUEUE_WAITING
					? "expired"
					: ll_queue_state_name(e->state));
		goto out;
	}
	if (ll_store_queue_touch(relay->store, e->id,
				 min64(ctx->now + QUEUE_GRACE_S,
				       e->expires_at)) != LL_OK ||
	    ll_store_queue_position(relay->store, e, ctx->now, &pos) !=
		    LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (!ll_api_answer(ctx, 200,
			   json_pack("{s:s,s:s,s:I,s:I,s:o,s:i}", "state",
				     "waiting", "entry_id", e->id, "position",
				     (json_int_t)pos, "waiting_s",
				     (json_int_t)(ctx->now - e->created_at),
				     "expires_at",
				     ll_api_time_json(e->expires_at),
				     "poll_interval_s", QUEUE_POLL_S)))
		goto out;
	ctx->audit_quiet = true; /* asked every QUEUE_POLL_S */
out:
	ll_queue_entry_free(e);
}

void ll_api_handle_queue_cancel(struct ll_api_ctx *ctx)
{
	struct ll_queue_entry *e = NULL;
	int r;

	if (entry_auth(ctx, &e) != LL_OK)
		goto out;
	if (e->state == LL_QUEUE_PICKED) {
		/* Picked up a moment ago: leaving ends that session too. */
		memcpy(ctx->session_id, e->session_id,
		       sizeof(ctx->session_id));
		ctx->close_after = true;
		snprintf(ctx->close_reason, sizeof(ctx->close_reason),
			 "the user cancelled");
		ll_api_detail_set(ctx, "state", json_string("picked"));
	} else if ((r = ll_store_queue_cancel(ctx->relay->store, e->id,
					      ctx->now)) != LL_OK) {
		if (r == LL_ERR_CONFLICT)
			entry_gone(ctx, ll_queue_state_name(e->state));
		else
			ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	ll_api_detail_set(ctx, "waited_s",
			  json_integer(ctx->now - e->created_at));
	ctx->resp->status = 204;
	ctx->resp->code = LL_API_OK;
out:
	ll_queue_entry_free(e);
}

/*
 * Whether the caller may see and pick up the callers of channel_id: a
 * channel with a group is for that group's members, one without for any
 * technician of the org (docs/API.md "Channels").  A channel removed
 * meanwhile counts as open (its entries are ending).  LL_OK with *mine,
 * or a store error.
 */
static int channel_mine(struct ll_api_ctx *ctx, int64_t channel_id, bool *mine,
			char **group_out)
{
	struct ll_channel *ch = NULL;
	int r = ll_store_channel_get(ctx->relay->store, channel_id, &ch);

	if (r == LL_ERR_NOT_FOUND) {
		*mine = true;
		return LL_OK;
	}
	if (r != LL_OK)
		return r;
	*mine = ch->group_name == NULL ||
		(ctx->tech->group_name != NULL &&
		 strcmp(ch->group_name, ctx->tech->group_name) == 0);
	if (group_out != NULL && ch->group_name != NULL)
		*group_out = strdup(ch->group_name);
	ll_channel_free(ch);
	return LL_OK;
}

/* Technicians of the entry's org see and pick up its entries, those of
 * a channel with a group only its members (channel_mine). */
void ll_api_handle_queue_list(struct ll_api_ctx *ctx)
{
	struct ll_queue_entry **list = NULL;
	json_t *arr = json_array(), *item;
	size_t n = 0, i;

	if (arr == NULL ||
	    ll_store_queue_list(ctx->relay->store, ctx->tech->org_id, ctx->now,
				QUEUE_LIST_MAX, &list, &n) != LL_OK)
		goto internal;
	for (i = 0; i < n; i++) {
		const struct ll_queue_entry *e = list[i];
		bool mine = false;

		if (channel_mine(ctx, e->channel_id, &mine, NULL) != LL_OK)
			goto internal;
		if (!mine)
			continue;
		item = json_pack("{s:s,s:s,s:s?,s:I,s:o,s:I,s:o}", "entry_id",
				 e->id, "channel",
				 e->channel_name ? e->channel_name : "",
				 "description", e->description, "position",
				 (json_int_t)(i + 1), "waiting_since",
				 ll_api_time_json(e->created_at), "waiting_s",
				 (json_int_t)(ctx->now - e->created_at),
				 "expires_at",
				 ll_api_time_json(e->expires_at));
		if (item == NULL || json_array_append_new(arr, item) != 0)
			goto internal;
	}
	if ((ctx->resp->body = json_pack("{s:O}", "entries", arr)) == NULL)
		goto internal;
	ctx->resp->status = 200;
	ctx->resp->code = LL_API_OK;
	ctx->audit_quiet = true; /* the agent's view asks every few s */
	goto out;
internal:
	ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
out:
	json_decref(arr);
	ll_queue_entry_list_free(list, n);
}

/* Why a pickup of e (of the caller's org) cannot happen, or NULL. */
static bool pickup_refused(struct ll_api_ctx *ctx,
			   const struct ll_queue_entry *e)
{
	char *group = NULL;
	bool mine = false;

	if (channel_mine(ctx, e->channel_id, &mine, &group) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return true;
	}
	if (!mine) {
		ll_api_detail_set(ctx, "channel_group",
				  ll_api_json_text(group, 64));
		free(group);
		ll_api_fail(ctx, LL_API_FORBIDDEN,
			    "this channel's callers are for the technicians "
			    "of its group");
		return true;
	}
	free(group);
	if (e->state == LL_QUEUE_PICKED) {
		ll_api_fail(ctx, LL_API_CONFLICT,
			    "another technician has already picked this user "
			    "up");
		return true;
	}
	if (e->state != LL_QUEUE_WAITING || e->deadline <= ctx->now) {
		ll_api_detail_set(ctx, "state",
				  json_string(e->state == LL_QUEUE_WAITING
						      ? "expired"
						      : ll_queue_state_name(
								e->state)));
		ll_api_fail(ctx, LL_API_NOT_FOUND,
			    "this user is no longer waiting");
		return true;
	}
	return false;
}

/* The session of a pickup: the agent's ticket is new, the applet's is
 * the entry's.  Fills the 201. */
static void pickup_session(struct ll_api_ctx *ctx,
			   const struct ll_queue_entry *e)
{
	struct ll_relay *relay = ctx->relay;
	struct ll_session_new sn;
	uint8_t pin_mac[LL_HASH_LEN], ticket_hash[LL_HASH_LEN];
	char id[LL_SESSION_ID_LEN + 1];
	char *ticket = NULL;
	int r;

	memset(&sn, 0, sizeof(sn));
	if (ll_api_new_session_id(id) != LL_OK ||
	    ll_random_bytes(pin_mac, sizeof(pin_mac)) != LL_OK ||
	    (ticket = ll_random_token_new(32)) == NULL ||
	    ll_secret_hash(ticket, ticket_hash) != LL_OK)
		goto internal;
	sn.id = id;
	sn.org_id = e->org_id;
	sn.technician_id = ctx->tech->id;
	sn.permissions = ll_relay_capabilities(ctx->tech);
	sn.lock = "shortcut";
	sn.pin_mac = pin_mac;
	sn.agent_ticket_hash = ticket_hash;
	sn.created_at = ctx->now;
	sn.expires_at = ctx->now + relay->cfg.pin_lifetime_s;
	r = ll_store_queue_pickup(relay->store, e->id, ctx->tech->id, id,
				  ctx->now);
	if (r == LL_ERR_CONFLICT) {
		/* another technician's pickup committed first */
		ll_api_fail(ctx, LL_API_CONFLICT,
			    "another technician has already picked this user "
			    "up");
		goto out;
	}
	if (r != LL_OK ||
	    ll_store_session_create_picked(relay->store, &sn, e->id) != LL_OK)
		goto internal;
	memcpy(ctx->session_id, id, sizeof(ctx->session_id));
	ctx->resp->body = json_pack("{s:s,s:s,s:o,s:s,s:s,s:s?}", "session_id",
				    id, "ticket", ticket, "expires_at",
				    ll_api_time_json(sn.expires_at),
				    "entry_id", e->id, "channel",
				    e->channel_name ? e->channel_name : "",
				    "description", e->description);
	if (ctx->resp->body == NULL)
		goto internal;
	ctx->resp->status = 201;
	ctx->resp->code = LL_API_OK;
	ll_api_detail_set(ctx, "waited_s",
			  json_integer(ctx->now - e->created_at));
	goto out;
internal:
	ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
out:
	ll_wipe(ticket_hash, sizeof(ticket_hash));
	ll_secret_free(ticket);
}

void ll_api_handle_queue_pickup(struct ll_api_ctx *ctx)
{
	const char *id = ll_api_param(ctx, "entry");
	struct ll_queue_entry *e = NULL;
	int r = LL_ERR_NOT_FOUND;

	if (id != NULL)
		r = ll_store_queue_get(ctx->relay->store, id, &e);
	if (r != LL_OK && r != LL_ERR_NOT_FOUND) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	/* another org's entry looks like none at all */
	if (e == NULL || e->org_id != ctx->tech->org_id) {
		ll_api_fail(ctx, LL_API_NOT_FOUND,
			    "no such user in your organisation's queue");
		goto out;
	}
	ll_api_detail_set(ctx, "entry_id", json_string(e->id));
	ll_api_detail_set(ctx, "channel",
			  json_string(e->channel_name ? e->channel_name : ""));
	if (!pickup_refused(ctx, e))
		pickup_session(ctx, e);
out:
	ll_queue_entry_free(e);
}

void ll_api_queue_sweep(struct ll_relay *relay)
{
	struct ll_queue_entry **gone = NULL;
	int64_t now = ll_now_unix(), n_wait = 0;
	size_t n = 0, i;

	if (ll_store_begin(relay->store) != LL_OK)
		return;
	if (ll_store_queue_expire(relay->store, now, now - QUEUE_FORGET_S,
				  &gone, &n) != LL_OK) {
		ll_store_rollback(relay->store);
		ll_warn("cannot expire queue entries: %s",
			ll_store_errmsg(relay->store));
		return;
	}
	for (i = 0; i < n; i++) {
		json_t *detail = json_pack("{s:s,s:I}", "entry_id",
					   gone[i]->id, "waited_s",
					   (json_int_t)(now -
							gone[i]->created_at));

		ll_info("queue entry %s: expired (its applet stopped asking, "
			"or it waited too long)",
			gone[i]->id);
		ll_api_audit(relay, gone[i]->org_id, "relay", "queue.expire",
			     "ok", NULL, NULL, detail);
		json_decref(detail);
	}
	if (ll_store_commit(relay->store) != LL_OK)
		ll_store_rollback(relay->store);
	ll_queue_entry_list_free(gone, n);
	if (ll_store_queue_count(relay->store, 0, NULL, now, &n_wait) == LL_OK)
		relay->metrics.queue_waiting = (uint64_t)n_wait;
}
