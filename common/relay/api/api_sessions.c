/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sessions: POST/GET /api/v1/sessions, DELETE /api/v1/sessions/ID and
 * POST /api/v1/sessions/ID/events.
 */
#include <stdio.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_util.h"
#include "ll_ratelimit.h"
#include "ll_relay.h"
#include "ll_relay_api.h"
#include "api.h"

#define PIN_ATTEMPTS 20
#define LIST_LIMIT 200

/* 10^digits / 1000: an org may hold at most 1 in 1,000 of its PIN space
 * live, so that one guess hits at most that much of it (SECURITY.md). */
static int64_t org_pin_cap(int64_t digits, int64_t configured)
{
	int64_t space_share = 1;

	for (; digits > 3; digits--)
		space_share *= 10;
	return configured < space_share ? configured : space_share;
}

/* Retry-After for a refusal that lasts until `until` (Unix seconds). */
static void retry_until(struct ll_api_ctx *ctx, int64_t until)
{
	int64_t retry = until > ctx->now ? until - ctx->now : 1;
	char hdr[64];

	snprintf(hdr, sizeof(hdr), "Retry-After: %lld\r\n", (long long)retry);
	ctx->resp->extra_headers = strdup(hdr);
	ll_api_detail_set(ctx, "retry_after", json_integer(retry));
}

/*
 * Limits on new PINs (issue 7 item 7): how fast a technician makes them
 * (session_create_rate_per_min, a token bucket), and how many live PINs
 * a technician (max_live_pins_per_technician, 429 rate_limited until the
 * first of them expires) and an org (max_live_pins_per_org, 409 conflict)
 * hold at once, so that nobody can fill the PIN space of every org.
 */
static int pin_limits(struct ll_api_ctx *ctx, int64_t digits)
{
	struct ll_relay *relay = ctx->relay;
	const struct ll_technician *t = ctx->tech;
	int64_t n = 0, first = 0, cap, retry = 0;
	char key[48], msg[200];
	int r;

	snprintf(key, sizeof(key), "technician:%lld", (long long)t->id);
	r = ll_ratelimit_take(relay->rl_session_create, key, ll_now_mono_ms(),
			      &retry);
	if (r == LL_ERR_TOO_LARGE) {
		snprintf(msg, sizeof(msg),
			 "too many new sessions from this technician; retry "
			 "in %lld s",
			 (long long)retry);
		ll_api_fail(ctx, LL_API_RATE_LIMITED, msg);
		ll_api_detail_set(ctx, "limit",
				  json_string("session_create_rate"));
		retry_until(ctx, ctx->now + retry);
		return r;
	}
	if (r != LL_OK)
		goto internal;

	if (ll_store_pins_live_of_technician(relay->store, t->id, ctx->now, &n,
					     &first) != LL_OK)
		goto internal;
	cap = relay->cfg.max_live_pins_per_technician;
	if (n >= cap) {
		snprintf(msg, sizeof(msg),
			 "this technician has %lld live PINs, the most "
			 "allowed; end a session or wait until a PIN is used "
			 "or expires",
			 (long long)n);
		ll_api_fail(ctx, LL_API_RATE_LIMITED, msg);
		ll_api_detail_set(ctx, "limit",
				  json_string("max_live_pins_per_technician"));
		retry_until(ctx, first);
		return LL_ERR_TOO_LARGE;
	}

	if (ll_store_pins_live_of_org(relay->store, t->org_id, ctx->now, &n,
				      &first) != LL_OK)
		goto internal;
	cap = org_pin_cap(digits, relay->cfg.max_live_pins_per_org);
	if (n >= cap) {
		snprintf(msg, sizeof(msg),
			 "this organisation has %lld live PINs, the most "
			 "allowed; wait until a PIN is used or expires",
			 (long long)n);
		ll_api_fail(ctx, LL_API_CONFLICT, msg);
		ll_api_detail_set(ctx, "limit",
				  json_string("max_live_pins_per_org"));
		retry_until(ctx, first);
		return LL_ERR_CONFLICT;
	}
	return LL_OK;
internal:
	ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
	return LL_ERR_INTERNAL;
}

void ll_api_handle_session_create(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "lock", JSON_STRING, false, 16 },
		{ NULL, 0, false, 0 },
	};
	struct ll_relay *relay = ctx->relay;
	const struct ll_technician *t = ctx->tech;
	struct ll_session_new sn;
	json_t *body = NULL;
	const char *lock;
	char *lock_default = NULL;
	char id[LL_SESSION_ID_LEN + 1];
	char pin[LL_PIN_MAX_DIGITS + 1];
	char expires[40];
	char *ticket = NULL;
	uint8_t pin_mac[LL_HASH_LEN], ticket_hash[LL_HASH_LEN];
	int64_t digits = LL_PIN_MIN_DIGITS;
	int i, r = LL_ERR_CONFLICT;

	memset(pin, 0, sizeof(pin));
	memset(pin_mac, 0, sizeof(pin_mac));
	memset(ticket_hash, 0, sizeof(ticket_hash));
	if (ll_api_parse_body(ctx, fields, true, &body) != 0)
		goto out;
	lock = json_string_value(json_object_get(body, "lock"));
	if (lock == NULL) {
		/* none asked for: the org's default, as its policy says now */
		if (ll_policy_get_text(relay->store, &relay->cfg, t->org_id,
				       "pin_lock_default", &lock_default,
				       NULL) != LL_OK) {
			ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
			goto out;
		}
		lock = lock_default;
	}
	if (!ll_pin_lock_valid(lock)) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "field \"lock\" must be \"any\", \"website\" or "
			    "\"shortcut\"");
		goto out;
	}
	/* The org's PIN length, as its policy says now. */
	if (ll_policy_get_int(relay->store, &relay->cfg, t->org_id,
			      "pin_length", &digits, NULL) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (pin_limits(ctx, digits) != LL_OK)
		goto out;
	if (ll_api_new_session_id(id) != 0 ||
	    (ticket = ll_random_token_new(32)) == NULL ||
	    ll_secret_hash(ticket, ticket_hash) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	memset(&sn, 0, sizeof(sn));
	sn.id = id;
	sn.org_id = t->org_id;
	sn.technician_id = t->id;
	sn.permissions = ll_relay_capabilities(t);
	sn.lock = lock;
	sn.pin_mac = pin_mac;
	sn.agent_ticket_hash = ticket_hash;
	sn.created_at = ctx->now;
	sn.expires_at = ctx->now + relay->cfg.pin_lifetime_s;
	/* PINs are unique among live PINs: draw again on a collision. */
	for (i = 0; i < PIN_ATTEMPTS && r == LL_ERR_CONFLICT; i++) {
		if (ll_pin_generate((int)digits, pin) != 0 ||
		    ll_pin_mac(relay->mac_key, pin, pin_mac) != 0) {
			r = LL_ERR_CRYPTO;
			break;
		}
		r = ll_store_session_create(relay->store, &sn);
	}
	if (r != LL_OK) {
		if (r == LL_ERR_CONFLICT)
			ll_error("session.create: no free PIN after %d draws: "
				 "too many live PINs",
				 PIN_ATTEMPTS);
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	memcpy(ctx->session_id, id, sizeof(id));
	ll_format_rfc3339(sn.expires_at, expires, sizeof(expires));
	ctx->resp->body = json_pack("{s:s,s:s,s:s,s:s,s:s}", "session_id", id,
				    "pin", pin, "expires_at", expires,
				    "ticket", ticket, "lock", lock);
	if (ctx->resp->body == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	ctx->resp->status = 201;
	ctx->resp->code = LL_API_OK;
	ll_api_detail_set(ctx, "lock", json_string(lock));
	ll_api_detail_set(ctx, "expires_at", json_string(expires));
out:
	ll_wipe(pin, sizeof(pin));
	ll_wipe(pin_mac, sizeof(pin_mac));
	ll_wipe(ticket_hash, sizeof(ticket_hash));
	ll_secret_free(ticket);
	free(lock_default);
	json_decref(body);
}

static json_t *session_json(const struct ll_session *s)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "session_id", json_string(s->id));
	json_object_set_new(o, "state",
			    json_string(ll_session_state_name(s->state)));
	json_object_set_new(o, "lock", json_string(s->lock ? s->lock : "any"));
	json_object_set_new(o, "created_at", ll_api_time_json(s->created_at));
	json_object_set_new(o, "expires_at", ll_api_time_json(s->expires_at));
	json_object_set_new(o, "pin_used", json_boolean(s->pin_used));
	json_object_set_new(o, "redeemed_at",
			    ll_api_time_json(s->redeemed_at));
	json_object_set_new(o, "connected_at",
			    ll_api_time_json(s->connected_at));
	json_object_set_new(o, "ended_at", ll_api_time_json(s->ended_at));
	json_object_set_new(o, "end_reason",
			    s->end_reason ? json_string(s->end_reason)
					  : json_null());
	json_object_set_new(o, "bytes_agent_to_applet",
			    json_integer(
				    (json_int_t)s->bytes_agent_to_applet));
	json_object_set_new(o, "bytes_applet_to_agent",
			    json_integer(
				    (json_int_t)s->bytes_applet_to_agent));
	return o;
}

void ll_api_handle_session_list(struct ll_api_ctx *ctx)
{
	struct ll_session **list = NULL;
	size_t n = 0, i;
	json_t *arr = NULL, *o;

	if (ll_store_session_list(ctx->relay->store, ctx->tech->id, LIST_LIMIT,
				  &list, &n) != 0 ||
	    (arr = json_array()) == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((o = session_json(list[i])) == NULL ||
		    json_array_append_new(arr, o) != 0) {
			ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
			goto out;
		}
	}
	ctx->resp->body = json_pack("{s:O}", "sessions", arr);
	if (ctx->resp->body == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	ctx->resp->status = 200;
	ctx->resp->code = LL_API_OK;
	ll_api_detail_set(ctx, "count", json_integer((json_int_t)n));
out:
	json_decref(arr);
	ll_session_list_free(list, n);
}

/*
 * The session the path names (its "{id}") into ctx->session, if the
 * caller may act on it: the session of the caller's ticket, or with a
 * token the technician's own session or, for an admin, one of their org.
 * Any other is "no such session": others' sessions are not confirmed.
 */
static int session_of(struct ll_api_ctx *ctx)
{
	const char *id = ll_api_param(ctx, "id");
	const struct ll_technician *t = ctx->tech;
	struct ll_session *s = NULL;
	int r;

	if (ctx->by_ticket) {
		if (id != NULL && strcmp(ctx->session->id, id) == 0)
			return LL_OK;
		ll_api_fail(ctx, LL_API_NOT_FOUND, "no such session");
		return LL_ERR_NOT_FOUND;
	}
	if (id == NULL)
		r = LL_ERR_NOT_FOUND;
	else
		r = ll_store_session_get(ctx->relay->store, id, &s);
	if (r == LL_OK && s->technician_id != t->id &&
	    !(t->is_admin && s->org_id == t->org_id))
		r = LL_ERR_NOT_FOUND;
	if (r != LL_OK) {
		ll_api_fail(ctx,
			    r == LL_ERR_NOT_FOUND ? LL_API_NOT_FOUND
						  : LL_API_INTERNAL,
			    r == LL_ERR_NOT_FOUND ? "no such session"
						  : "internal error");
		ll_session_free(s);
		return r;
	}
	ctx->session = s;
	return LL_OK;
}

void ll_api_handle_session_delete(struct ll_api_ctx *ctx)
{
	const struct ll_technician *t = ctx->tech;
	const struct ll_session *s;

	if (ctx->req->http->body_len != 0) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "DELETE takes no request body");
		return;
	}
	if (session_of(ctx) != 0)
		return;
	s = ctx->session;
	ll_api_detail_set(ctx, "state",
			  json_string(ll_session_state_name(s->state)));
	if (s->technician_id != t->id)
		ll_api_detail_set(ctx, "as_admin", json_true());
	ctx->resp->status = 204;
	ctx->resp->code = LL_API_OK;
	/* the envelope closes the streams and ends it after the commit */
	ctx->close_after = true;
	snprintf(ctx->close_reason, sizeof(ctx->close_reason), "deleted by %s",
		 s->technician_id == t->id ? "technician" : "admin");
}

static const char *const event_types[] = { "consent",       "revoke",
					   "not_requested", "ended",
					   "not_permitted", "file" };

/* The capabilities the session's tickets carry that its technician still
 * holds: what a consent may grant. */
static int session_caps(struct ll_api_ctx *ctx, uint32_t *out)
{
	struct ll_technician *t = NULL;
	int r;

	r = ll_store_technician_get(ctx->relay->store,
				    ctx->session->technician_id, &t);
	if (r == LL_OK)
		*out = ctx->session->permissions & ll_relay_capabilities(t);
	ll_technician_free(t);
	return r;
}

/*
 * The `file` object of a "file" event as the audit keeps it, in
 * detail.file (ll_api_audit_file).  NULL after answering 400.
 */
static json_t *file_detail(struct ll_api_ctx *ctx, json_t *in)
{
	json_t *out = NULL;
	int r = ll_api_audit_file(in, &out);

	if (r == LL_OK)
		return out;
	if (r == LL_ERR_NOMEM) {
		ll_api_fail(ctx, LL_API_INTERNAL, "out of memory");
		return NULL;
	}
	ll_api_fail(ctx, LL_API_BAD_REQUEST,
		    "field \"file\" must be {\"name\": at most 256 bytes, "
		    "\"size\": bytes, \"sha256\"?: 64 lowercase hex "
		    "digits, \"direction\": \"sent\" or \"received\", "
		    "\"outcome\": \"done\", \"refused\", \"cancelled\", "
		    "\"failed\", \"bad_hash\" or \"not_permitted\"}");
	return NULL;
}

/*
 * What a "file" event adds (#13): its `reason` is required, it needs the
 * `files` permission (into *asked), and its `file` object, if any, is
 * checked into *file; any other event with a `file` is refused.  Non-zero
 * after answering 400.
 */
static int file_event(struct ll_api_ctx *ctx, json_t *body, const char *type,
		      uint32_t *asked, json_t **file)
{
	json_t *f = json_object_get(body, "file");

	if (strcmp(type, "file") != 0) {
		if (f == NULL)
			return 0;
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "field \"file\" belongs to a \"file\" event only");
		return LL_ERR_SCHEMA;
	}
	if (json_object_get(body, "reason") == NULL) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "a \"file\" event needs its \"reason\" "
			    "(what moved: name, size, SHA-256)");
		return LL_ERR_SCHEMA;
	}
	*asked |= LL_CAP_FILES;
	if (f != NULL && (*file = file_detail(ctx, f)) == NULL)
		return LL_ERR_SCHEMA;
	return 0;
}

void ll_api_handle_session_event(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "type", JSON_STRING, true, 32 },
		{ "capabilities", JSON_ARRAY, false, 16 },
		{ "reason", JSON_STRING, false, 256 },
		{ "file", JSON_OBJECT, false, 0 },
		{ NULL, 0, false, 0 },
	};
	const struct ll_session *s;
	json_t *body = NULL, *caps, *c, *file = NULL;
	const char *type, *reason, *side_name;
	char msg[160];
	uint32_t asked = 0, allowed = 0;
	size_t i;
	bool known = false;

	/* either side's ticket for this very session, or the token of a
	 * technician who may act on it */
	if (session_of(ctx) != 0)
		goto out;
	s = ctx->session;

	if (ll_api_parse_body(ctx, fields, false, &body) != 0)
		goto out;
	type = json_string_value(json_object_get(body, "type"));
	for (i = 0; i < LL_ARRAY_SIZE(event_types); i++)
		if (strcmp(type, event_types[i]) == 0)
			known = true;
	if (!known) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "field \"type\" must be \"consent\", \"revoke\", "
			    "\"not_requested\", \"not_permitted\", "
			    "\"ended\" or \"file\"");
		goto out;
	}
	caps = json_object_get(body, "capabilities");
	json_array_foreach(caps, i, c)
	{
		if (!json_is_string(c) ||
		    !ll_api_capability_known(json_string_value(c))) {
			snprintf(msg, sizeof(msg),
				 "field \"capabilities\" item %zu is not one "
				 "of view, control, files, chat, sysinfo, "
				 "clipboard",
				 i);
			ll_api_fail(ctx, LL_API_BAD_REQUEST, msg);
			goto out;
		}
		asked |= ll_cap_from_name(json_string_value(c));
	}
	reason = json_string_value(json_object_get(body, "reason"));
	/* A grant beyond the technician's permissions is no grant: the
	 * applet refuses such a request itself (docs/API.md "Groups and
	 * permissions"); a report of one is refused and recorded so. */
	/* A file moves only with the group's `files` permission: a report
	 * of one without it is refused and recorded so. */
	if (file_event(ctx, body, type, &asked, &file) != 0)
		goto out;
	if (strcmp(type, "consent") == 0 || strcmp(type, "file") == 0) {
		if (session_caps(ctx, &allowed) != LL_OK) {
			ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
			goto out;
		}
		if ((asked & ~allowed) != 0) {
			ll_api_detail_set(ctx, "not_permitted",
					  ll_api_perms_json(asked & ~allowed));
			ll_api_fail(ctx, LL_API_CAPABILITY_NOT_PERMITTED,
				    "the technician's group does not permit "
				    "every capability of this consent");
			goto out;
		}
	}

	side_name = ll_side_name(ctx->by_ticket ? ctx->side : LL_SIDE_AGENT);
	ll_api_detail_set(ctx, "type", json_string(type));
	ll_api_detail_set(ctx, "side", json_string(side_name));
	if (caps != NULL)
		ll_api_detail_set(ctx, "capabilities", json_deep_copy(caps));
	if (reason != NULL)
		ll_api_detail_set(ctx, "reason", json_string(reason));
	if (file != NULL)
		ll_api_detail_set(ctx, "file", file); /* stolen */
	file = NULL;
	if (strcmp(type, "ended") == 0 && ctx->by_ticket) {
		/*
		 * A side that ends while its stream is being reopened has no
		 * stream to say `end` on: its report ends a session waiting
		 * in its grace at once (after the commit), so the other side
		 * is not kept waiting for it.  The ticket could end the
		 * session anyway (`end` and close_notify); outside the grace
		 * the stream's own end does it, in order with the stream.
		 */
		ctx->close_if_interrupted = true;
		snprintf(ctx->close_reason, sizeof(ctx->close_reason),
			 "ended by the %s while interrupted", side_name);
	}
	if (strcmp(type, "not_permitted") == 0) {
		/* the applet refused, unseen by its user, a request the
		 * technician may not make */
		ll_api_detail_set(ctx, "flag", json_string("not_permitted"));
		ll_warn("session %s: the applet refused a request beyond the "
			"technician's permissions",
			s->id);
	}
	if (strcmp(type, "consent") == 0 || strcmp(type, "revoke") == 0)
		ll_api_live_caps(ctx->relay, s->id,
				 strcmp(type, "consent") == 0, caps);
	if (strcmp(type, "not_requested") == 0) {
		/* the end user says nobody asked them: flag it */
		ll_api_detail_set(ctx, "flag", json_string("not_requested"));
		ll_warn("session %s: the end user reported a session they did "
			"not ask for",
			s->id);
	}
	ctx->resp->status = 204;
	ctx->resp->code = LL_API_OK;
out:
	json_decref(file);
	json_decref(body);
}
