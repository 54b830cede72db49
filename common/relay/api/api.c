/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The API's one route table and the envelope every request runs in:
 * rate limit sync, transaction, authentication, handler, and the rule that
 * every request leaves exactly one audit record, durable before a 2xx
 * (or the stream's 101) answer is produced (see api.h).  Also the shared
 * helpers: strict JSON bodies, bearer tokens and tickets.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_text.h"
#include "ll_util.h"
#include "ll_ratelimit.h"
#include "ll_relay.h"
#include "ll_workpool.h"
#include "ll_relay_api.h"
#include "ll_checkpoint.h"
#include "api.h"

/* ---- small helpers ---- */
enum ll_api_code ll_api_fail(struct ll_api_ctx *ctx, enum ll_api_code code,
			     const char *message)
{
	ll_api_error(ctx->resp, code, message);
	return code;
}

bool ll_api_answer(struct ll_api_ctx *ctx, int status, json_t *body)
{
	if (body == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return false;
	}
	ctx->resp->body = body;
	ctx->resp->status = status;
	ctx->resp->code = LL_API_OK;
	return true;
}

void ll_api_header_add(struct ll_api_ctx *ctx, const char *line)
{
	struct ll_api_response *resp = ctx->resp;
	size_t old = resp->extra_headers ? strlen(resp->extra_headers) : 0;
	size_t n = strlen(line);
	char *h = realloc(resp->extra_headers, old + n + 1);

	if (h == NULL)
		return; /* the answer goes without it */
	memcpy(h + old, line, n + 1);
	resp->extra_headers = h;
}

void ll_api_detail_set(struct ll_api_ctx *ctx, const char *key, json_t *value)
{
	if (value == NULL)
		return;
	if (ctx->detail == NULL && (ctx->detail = json_object()) == NULL) {
		json_decref(value);
		return;
	}
	json_object_set_new(ctx->detail, key, value);
}

json_t *ll_api_json_text(const char *s, size_t max)
{
	char *clean;
	json_t *j;

	if (s == NULL)
		return json_null();
	if ((clean = ll_text_printable_new(s, strlen(s), max)) == NULL)
		return json_null();
	j = json_string(clean);
	free(clean);
	return j ? j : json_null();
}

json_t *ll_api_time_json(int64_t t)
{
	char buf[40];

	if (t <= 0)
		return json_null();
	ll_format_rfc3339(t, buf, sizeof(buf));
	return json_string(buf);
}

int ll_api_new_session_id(char out[LL_SESSION_ID_LEN + 1])
{
	uint8_t raw[LL_SESSION_ID_LEN / 2];
	char *hex;
	int r;

	if ((r = ll_random_bytes(raw, sizeof(raw))) != 0)
		return r;
	if ((hex = ll_hex_new(raw, sizeof(raw))) == NULL)
		return LL_ERR_NOMEM;
	memcpy(out, hex, LL_SESSION_ID_LEN);
	out[LL_SESSION_ID_LEN] = '\0';
	free(hex);
	return LL_OK;
}

bool ll_api_session_id_valid(const char *s)
{
	size_t i;

	for (i = 0; i < LL_SESSION_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[LL_SESSION_ID_LEN] == '\0';
}

bool ll_api_password_expired(struct ll_api_ctx *ctx,
			     const struct ll_technician *t)
{
	if (t->password_expires_at <= 0 || ctx->now < t->password_expires_at)
		return false;
	ll_api_fail(ctx, LL_API_UNAUTHORIZED,
		    "the one-time password has expired; ask an administrator "
		    "for a new one");
	ll_api_detail_set(ctx, "reason",
			  json_string("one_time_password_expired"));
	return true;
}

/* ---- permissions: names from the one table (ll_control.h) ---- */
bool ll_api_capability_known(const char *cap)
{
	return ll_cap_from_name(cap) != 0;
}

json_t *ll_api_perms_json(uint32_t mask)
{
	json_t *a = json_array();
	uint32_t bit;

	for (bit = 1; a != NULL && bit != 0 && bit <= LL_PERM_ALL; bit <<= 1)
		if ((mask & bit) != 0 && ll_perm_name(bit) != NULL)
			json_array_append_new(a,
					      json_string(ll_perm_name(bit)));
	return a;
}

json_t *ll_api_session_caps_json(const struct ll_session *s,
				 const struct ll_technician *t)
{
	return ll_api_perms_json(s->permissions & ll_relay_capabilities(t));
}

json_t *ll_api_technician_shown(const struct ll_technician *t)
{
	return json_pack("{s:s,s:s,s:s?,s:s?}", "name", t->username, "org",
			 t->org_name ? t->org_name : "", "display_name",
			 t->display_name, "org_display_name",
			 t->org_display_name);
}

json_t *ll_api_permissions_json(const struct ll_technician *t)
{
	return ll_api_perms_json(ll_relay_permissions(t));
}

/* ---- JSON bodies ---- */
static const char *json_type_word(json_type t)
{
	switch (t) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

static bool content_type_is_json(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (ct == NULL || strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

int ll_api_parse_body(struct ll_api_ctx *ctx,
		      const struct ll_api_field *fields, bool allow_empty,
		      json_t **out)
{
	const struct ll_http_request *http = ctx->req->http;
	char msg[256];
	const struct ll_api_field *f;
	json_error_t jerr;
	const char *key;
	json_t *obj = NULL, *v;

	if (http->body_len == 0 && allow_empty) {
		if ((obj = json_object()) == NULL) {
			ll_api_fail(ctx, LL_API_INTERNAL, "out of memory");
			return LL_ERR_NOMEM;
		}
		*out = obj;
		return LL_OK;
	}
	if (!content_type_is_json(
		    ll_http_request_header(http, "Content-Type"))) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "the body must be JSON (Content-Type: "
			    "application/json)");
		return LL_ERR_SCHEMA;
	}
	if (http->body_len == 0 || http->body == NULL) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "the request needs a JSON object body");
		return LL_ERR_SCHEMA;
	}
	obj = json_loadb((const char *)http->body, http->body_len,
			 JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL) {
		json_t *why = ll_api_json_text(jerr.text, 80);

		/* jansson's text may quote input: the display rule */
		snprintf(msg, sizeof(msg),
			 "the body is not valid JSON: %s (line %d, column %d)",
			 json_is_string(why) ? json_string_value(why) : "?",
			 jerr.line, jerr.column);
		json_decref(why);
		ll_api_fail(ctx, LL_API_BAD_REQUEST, msg);
		return LL_ERR_BAD_JSON;
	}
	if (!json_is_object(obj)) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "the body must be a JSON object");
		goto schema;
	}
	json_object_foreach(obj, key, v)
	{
		for (f = fields; f->name != NULL; f++)
			if (strcmp(f->name, key) == 0)
				break;
		if (f->name == NULL) {
			json_t *k = ll_api_json_text(key, 40);

			snprintf(msg, sizeof(msg), "unknown field \"%s\"",
				 json_is_string(k) ? json_string_value(k)
						   : "?");
			json_decref(k);
			ll_api_fail(ctx, LL_API_BAD_REQUEST, msg);
			goto schema;
		}
		/* JSON_TRUE in fields[] stands for a boolean */
		if (json_typeof(v) != f->type &&
		    !(f->type == JSON_TRUE && json_is_boolean(v))) {
			snprintf(msg, sizeof(msg),
				 "field \"%s\" must be %s, not %s", f->name,
				 json_type_word(f->type),
				 json_type_word(json_typeof(v)));
			ll_api_fail(ctx, LL_API_BAD_REQUEST, msg);
			goto schema;
		}
		if (f->max_len != 0 &&
		    ((json_is_string(v) &&
		      json_string_length(v) > f->max_len) ||
		     (json_is_array(v) && json_array_size(v) > f->max_len))) {
			snprintf(msg, sizeof(msg),
				 "field \"%s\" is too long (at most %zu %s)",
				 f->name, f->max_len,
				 json_is_string(v) ? "bytes" : "items");
			ll_api_fail(ctx, LL_API_BAD_REQUEST, msg);
			goto schema;
		}
	}
	for (f = fields; f->name != NULL; f++) {
		if (f->required && json_object_get(obj, f->name) == NULL) {
			snprintf(msg, sizeof(msg),
				 "missing required field \"%s\"", f->name);
			ll_api_fail(ctx, LL_API_BAD_REQUEST, msg);
			goto schema;
		}
	}
	*out = obj;
	return LL_OK;
schema:
	json_decref(obj);
	return LL_ERR_SCHEMA;
}

void ll_api_body_free(json_t *body, const char *const *secrets)
{
	json_t *p;
	size_t i;

	if (body == NULL)
		return;
	for (i = 0; secrets[i] != NULL; i++) {
		p = json_object_get(body, secrets[i]);
		if (json_is_string(p) && json_string_length(p) > 0)
			ll_wipe((char *)json_string_value(p),
				json_string_length(p));
	}
	json_decref(body);
}

/* ---- bearer tokens and tickets ---- */
/* The bearer token's technician: 401 unauthorized / 403 account_disabled
 * filled on failure (returns < 0).  Sets the audit actor and org. */
static int auth_token(struct ll_api_ctx *ctx, struct ll_technician **tech_out)
{
	struct ll_relay *relay = ctx->relay;
	const char *bearer = ll_http_request_bearer(ctx->req->http);
	struct ll_technician *t = NULL;
	uint8_t hash[LL_HASH_LEN];
	int64_t tech_id = 0;
	int r;

	if (bearer == NULL || bearer[0] == '\0') {
		ll_api_fail(ctx, LL_API_UNAUTHORIZED,
			    "this request needs Authorization: Bearer TOKEN");
		return LL_ERR_AUTH_FAILED;
	}
	if ((r = ll_secret_hash(bearer, hash)) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return r;
	}
	r = ll_store_token_check(relay->store, hash, ctx->now,
				 relay->cfg.token_idle_s, &tech_id);
	if (r == LL_ERR_NOT_FOUND || r == LL_ERR_EXPIRED) {
		ll_api_fail(ctx, LL_API_UNAUTHORIZED,
			    "the token is unknown or has expired; "
			    "log in again");
		goto out;
	}
	if (r != 0 ||
	    (r = ll_store_technician_get(relay->store, tech_id, &t)) != 0) {
		ll_api_fail(ctx,
			    r == LL_ERR_NOT_FOUND ? LL_API_UNAUTHORIZED
						  : LL_API_INTERNAL,
			    r == LL_ERR_NOT_FOUND
				    ? "the token is unknown or has expired"
				    : "internal error");
		goto out;
	}
	snprintf(ctx->actor, sizeof(ctx->actor), "technician:%s", t->username);
	ctx->org_id = t->org_id;
	if (t->disabled) {
		ll_api_fail(ctx, LL_API_ACCOUNT_DISABLED,
			    "this technician account is disabled");
		r = LL_ERR_DISABLED;
		goto out;
	}
	/* a live token from outside the org's ranges counts for nothing */
	if (ll_api_technician_ip_refused(ctx, t->org_id)) {
		r = LL_ERR_AUTH_FAILED;
		goto out;
	}
	*tech_out = t;
	t = NULL;
	r = LL_OK;
out:
	ll_wipe(hash, sizeof(hash));
	ll_technician_free(t);
	return r;
}

/* ---- rate limits ---- */
int ll_api_ratelimits_sync(struct ll_relay *relay)
{
	const struct ll_relay_config *c = &relay->cfg;
	struct {
		struct ll_ratelimit **rl;
		int64_t rate, burst;
	} want[] = {
		{ &relay->rl_login, c->login_rate_per_min, c->login_burst },
		{ &relay->rl_redeem, c->redeem_rate_per_min, c->redeem_burst },
		{ &relay->rl_unauth, c->unauth_rate_per_min, c->unauth_burst },
		{ &relay->rl_session_create, c->session_create_rate_per_min,
		  c->session_create_burst },
	};
	int64_t rate, burst;
	size_t i;
	int r;

	for (i = 0; i < LL_ARRAY_SIZE(want); i++) {
		if (*want[i].rl == NULL) {
			*want[i].rl = ll_ratelimit_new(
				want[i].rate, want[i].burst,
				LL_RATELIMIT_DEFAULT_ENTRIES);
			if (*want[i].rl == NULL)
				return LL_ERR_NOMEM;
			continue;
		}
		/* follow a reloaded config (SIGHUP) */
		ll_ratelimit_get_config(*want[i].rl, &rate, &burst);
		if ((rate != want[i].rate || burst != want[i].burst) &&
		    (r = ll_ratelimit_configure(*want[i].rl, want[i].rate,
						want[i].burst)) != 0)
			return r;
	}
	return LL_OK;
}

int ll_api_ratelimit_check(struct ll_api_ctx *ctx, struct ll_ratelimit *rl)
{
	char hdr[64], msg[128];
	int64_t retry = 0;
	int r;

	r = ll_ratelimit_take(rl,
			      ctx->req->source_ip ? ctx->req->source_ip : "",
			      ll_now_mono_ms(), &retry);
	if (r == LL_OK)
		return LL_OK;
	if (r != LL_ERR_TOO_LARGE) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return r;
	}
	snprintf(msg, sizeof(msg),
		 "too many requests from this address; retry in %lld s",
		 (long long)retry);
	ll_api_fail(ctx, LL_API_RATE_LIMITED, msg);
	snprintf(hdr, sizeof(hdr), "Retry-After: %lld\r\n", (long long)retry);
	ctx->resp->extra_headers = strdup(hdr);
	ll_api_detail_set(ctx, "retry_after", json_integer(retry));
	return r;
}

/* ---- audit ---- */
int ll_api_audit(struct ll_relay *relay, int64_t org_id, const char *actor,
		 const char *action, const char *outcome,
		 const char *source_ip, const char *session_id, json_t *detail)
{
	struct ll_audit_event ev = {
		.org_id = org_id,
		.actor = actor,
		.action = action,
		.outcome = outcome,
		.source_ip = source_ip,
		.session_id = (session_id && session_id[0]) ? session_id
							    : NULL,
	};
	char *text = NULL;
	int r;

	if (detail != NULL && json_object_size(detail) > 0) {
		text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
		if (text == NULL) {
			r = LL_ERR_NOMEM;
			goto out;
		}
	}
	ev.detail_json = text;
	r = ll_store_audit_append(relay->store, &ev, ll_now_unix());
out:
	if (r != LL_OK)
		ll_error("audit: cannot record %s (%s): %s: %s", action,
			 outcome, ll_strerror(r),
			 relay->store ? ll_store_errmsg(relay->store) : "-");
	free(text);
	return r;
}

static int ctx_audit(struct ll_api_ctx *ctx)
{
	return ll_api_audit(ctx->relay, ctx->org_id, ctx->actor, ctx->action,
			    ll_api_code_name(ctx->resp->code),
			    ctx->req->source_ip, ctx->session_id, ctx->detail);
}

/*
 * A session ticket as the bearer: the ticket's session and side, and the
 * actor ("applet", or the session's technician for the agent's ticket).
 * LL_ERR_NOT_FOUND with nothing filled when the bearer is no ticket, so
 * the caller may try it as a token.
 *
 * A ticket dies with its session and with its technician's account
 * (either side's ticket): 404 not_found once the session is over (the
 * answer a stream of an ended session always had; events get
 * LL_API_TICKET_GRACE_S after the end for the closing reports), 403
 * account_disabled while the technician is disabled.
 */
static int auth_ticket(struct ll_api_ctx *ctx, const char *bearer)
{
	struct ll_relay *relay = ctx->relay;
	enum ll_side side = LL_SIDE_AGENT;
	struct ll_session *s = NULL;
	struct ll_technician *t = NULL;
	uint8_t hash[LL_HASH_LEN];
	int r;

	r = ll_secret_hash(bearer, hash);
	if (r == LL_OK)
		r = ll_store_session_find_by_ticket(relay->store, hash, &s,
						    &side);
	ll_wipe(hash, sizeof(hash));
	if (r == LL_ERR_NOT_FOUND)
		return r;
	if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return r;
	}
	ctx->by_ticket = true;
	ctx->side = side;
	ctx->session = s;
	ctx->org_id = s->org_id;
	if (ctx->session_id[0] == '\0')
		memcpy(ctx->session_id, s->id, sizeof(ctx->session_id));
	ll_api_detail_set(ctx, "side", json_string(ll_side_name(side)));
	if (ll_store_technician_get(relay->store, s->technician_id, &t) !=
	    LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return LL_ERR_INTERNAL;
	}
	if (side == LL_SIDE_APPLET) {
		snprintf(ctx->actor, sizeof(ctx->actor), "applet");
	} else {
		snprintf(ctx->actor, sizeof(ctx->actor), "technician:%s",
			 t->username);
		ctx->tech = t;
	}
	if (t->disabled && !ctx->ticket_disabled_ok) {
		r = LL_ERR_DISABLED;
		ll_api_fail(ctx, LL_API_ACCOUNT_DISABLED,
			    "the technician's account is disabled");
	} else if (ll_api_session_over(relay, s, ctx->now) &&
		   (ctx->upgrade || s->state != LL_SESSION_ENDED ||
		    ctx->now >= s->ended_at + LL_API_TICKET_GRACE_S)) {
		r = LL_ERR_EXPIRED;
		ll_api_detail_set(ctx, "state",
				  json_string(
					  ll_session_state_name(s->state)));
		ll_api_fail(ctx, LL_API_NOT_FOUND,
			    "this session has ended or expired");
	}
	if (t != ctx->tech)
		ll_technician_free(t);
	return r;
}

/* ---- the route table ---- */

/* Who may call a route; the envelope checks it before the handler runs. */
enum api_auth {
	AUTH_NONE,            /* the handler judges (login, PIN redeem) */
	AUTH_TOKEN,           /* a technician's bearer token: ctx->tech */
	AUTH_ADMIN,           /* the same, with the admin permission */
	AUTH_TICKET,          /* a session ticket: ctx->session, side */
	AUTH_TICKET_OR_TOKEN, /* either side's ticket, or a token */
};

/* Route flags. */
#define ROUTE_UPGRADE 0x1 /* served as the stream upgrade (101) only */
/* Open to a token whose one-time password is still to be changed; every
 * other token route answers 403 password_change_required then. */
#define ROUTE_BEFORE_PW_CHANGE 0x2
#define ROUTE_BEFORE_MFA_ENROL 0x40
/* Changes nothing and reveals nothing (the PIN page and its files, a CORS
 * preflight): no transaction and no audit record when it succeeds, so
 * that loading a page does not write the store; a refusal is recorded
 * and counted as any other. */
#define ROUTE_NO_AUDIT 0x4
/* Answered as the PIN page (HTML) also when refused (api_page.c). */
#define ROUTE_PAGE 0x8
/* A ticket whose technician is disabled is let through (it is refused
 * 403 account_disabled everywhere else): the applet asks why its session
 * ended, and that is the answer. */
#define ROUTE_TICKET_DISABLED 0x80

struct api_route {
	const char *method;
	const char *pattern;
	enum api_auth auth;
	const char *action; /* audit action; audit exports show it */
	void (*handler)(struct ll_api_ctx *ctx);
	unsigned flags;
};

/*
 * How to add an endpoint: one row here plus one handler.
 *
 * The handler, `void ll_api_handle_NAME(struct ll_api_ctx *ctx)` in an
 * api_*.c file and declared in api.h, does the work and fills ctx->resp
 * (status 2xx and code LL_API_OK, or ll_api_fail()) and the audit detail
 * (ll_api_detail_set(); never secrets).  It does not authenticate, open a
 * transaction, write the audit record or log a refusal: the envelope
 * (api_serve below) does that, the same for every row:
 *   begin -> authenticate -> handler -> audit -> commit,
 * and on any refusal: rollback, a refusal record of its own, one log line.
 *
 * A row says:
 *  - method and path pattern: '/'-separated segments, each a literal or
 *    a typed placeholder from placeholders[] below: "{id}" a session id,
 *    "{org}" an org name, "{name}" a technician's or channel's name.  The
 *    handler reads captured values with ll_api_param(ctx, "id"), NULL
 *    when the segment is not a valid value of its kind.  A path some row
 *    matches with another method answers 405 with Allow listing them all;
 *    a path no row matches answers 404.
 *  - auth: AUTH_NONE, AUTH_TOKEN, AUTH_ADMIN (403 forbidden without the
 *    admin permission), AUTH_TICKET or AUTH_TICKET_OR_TOKEN; the answers
 *    (401 unauthorized, 403 account_disabled ...) come from the envelope.
 *  - action: the audit action ("session.create"); part of the contract.
 *  - flags: ROUTE_UPGRADE when the row is only served as a stream upgrade
 *    and succeeds with the 101 (the core checks the Upgrade headers
 *    first and switches protocols after); ROUTE_BEFORE_PW_CHANGE when a
 *    technician who must still change a one-time password may call it
 *    (every other row answers them 403 password_change_required);
 *    ROUTE_BEFORE_MFA_ENROL when one whose org wants a second factor
 *    they have not set up may (else 403 mfa_enrollment_required).
 * A per-address rate limit is the handler's first call
 * (ll_api_ratelimit_check), so that its refusal names the handler's actor.
 */
static const struct api_route routes[] = {
	/* method, pattern, auth, action, handler, flags */
	{ "POST", "/api/v1/login", AUTH_NONE, "login", ll_api_handle_login,
	  0 },
	{ "POST", "/api/v1/login/mfa", AUTH_NONE, "login.mfa",
	  ll_api_handle_login_mfa, 0 },
	/* single sign-on (api_sso.c) */
	{ "POST", "/api/v1/login/sso", AUTH_NONE, "login.sso.start",
	  ll_api_handle_login_sso, 0 },
	{ "GET", "/api/v1/sso/callback", AUTH_NONE, "login.sso.callback",
	  ll_api_handle_sso_callback, 0 },
	{ "POST", "/api/v1/login/sso/token", AUTH_NONE, "login.sso",
	  ll_api_handle_login_sso_token, 0 },
	{ "POST", "/api/v1/logout", AUTH_TOKEN, "logout", ll_api_handle_logout,
	  ROUTE_BEFORE_PW_CHANGE | ROUTE_BEFORE_MFA_ENROL },
	{ "POST", "/api/v1/password", AUTH_TOKEN, "password.change",
	  ll_api_handle_password_change,
	  ROUTE_BEFORE_PW_CHANGE | ROUTE_BEFORE_MFA_ENROL },
	{ "POST", "/api/v1/mfa/enroll", AUTH_TOKEN, "mfa.enroll",
	  ll_api_handle_mfa_enroll, ROUTE_BEFORE_MFA_ENROL },
	{ "POST", "/api/v1/mfa/confirm", AUTH_TOKEN, "mfa.confirm",
	  ll_api_handle_mfa_confirm, ROUTE_BEFORE_MFA_ENROL },
	{ "GET", "/api/v1/sessions", AUTH_TOKEN, "session.list",
	  ll_api_handle_session_list, 0 },
	{ "POST", "/api/v1/sessions", AUTH_TOKEN, "session.create",
	  ll_api_handle_session_create, 0 },
	{ "DELETE", "/api/v1/sessions/{id}", AUTH_TOKEN, "session.delete",
	  ll_api_handle_session_delete, 0 },
	{ "POST", "/api/v1/sessions/{id}/events", AUTH_TICKET_OR_TOKEN,
	  "session.event", ll_api_handle_session_event, 0 },
	{ "GET", "/api/v1/sessions/{id}/end", AUTH_TICKET,
	  "session.end_reason", ll_api_handle_session_end,
	  ROUTE_TICKET_DISABLED },
	{ "POST", "/api/v1/sessions/{id}/chat", AUTH_TICKET, "session.chat",
	  ll_api_handle_chat_post, 0 },
	{ "GET", "/api/v1/sessions/{id}/chat", AUTH_ADMIN, "session.chat.read",
	  ll_api_handle_chat_get, 0 },
	{ "POST", "/api/v1/pins/redeem", AUTH_NONE, "pin.redeem",
	  ll_api_handle_pin_redeem, 0 },
	{ "OPTIONS", "/api/v1/pins/redeem", AUTH_NONE, "pin.preflight",
	  ll_api_handle_pin_preflight, ROUTE_NO_AUDIT },
	{ "POST", "/api/v1/pins/check", AUTH_NONE, "pin.check",
	  ll_api_handle_pin_check, 0 },
	{ "OPTIONS", "/api/v1/pins/check", AUTH_NONE, "pin.preflight",
	  ll_api_handle_pin_preflight, ROUTE_NO_AUDIT },
	/* the PIN page (api_page.c, docs/API.md "The PIN page") */
	{ "GET", "/", AUTH_NONE, "page.view", ll_api_handle_page_default,
	  ROUTE_NO_AUDIT | ROUTE_PAGE },
	{ "GET", "/o/{org}/", AUTH_NONE, "page.view", ll_api_handle_page,
	  ROUTE_NO_AUDIT | ROUTE_PAGE },
	{ "POST", "/o/{org}/", AUTH_NONE, "pin.check", ll_api_handle_page_post,
	  ROUTE_PAGE },
	{ "GET", "/o/{org}/pin-page.css", AUTH_NONE, "page.view",
	  ll_api_handle_page_css, ROUTE_NO_AUDIT },
	{ "GET", "/o/{org}/pin-page.js", AUTH_NONE, "page.view",
	  ll_api_handle_page_js, ROUTE_NO_AUDIT },
	{ "GET", "/o/{org}/logo", AUTH_NONE, "page.view",
	  ll_api_handle_page_logo, ROUTE_NO_AUDIT },
	{ "POST", "/o/{org}/applet", AUTH_NONE, "pin.download",
	  ll_api_handle_page_applet, ROUTE_PAGE },
	{ "GET", "/api/v1/stream", AUTH_TICKET, "stream.open",
	  ll_api_handle_stream_open, ROUTE_UPGRADE },
	/* channels: the waiting applet (its queue ticket checked by the
	 * handler), then the technicians */
	{ "POST", "/api/v1/channels/join", AUTH_NONE, "channel.join",
	  ll_api_handle_channel_join, 0 },
	{ "GET", "/api/v1/queue/entry", AUTH_NONE, "queue.wait",
	  ll_api_handle_queue_wait, 0 },
	{ "DELETE", "/api/v1/queue/entry", AUTH_NONE, "queue.cancel",
	  ll_api_handle_queue_cancel, 0 },
	{ "GET", "/api/v1/queue", AUTH_TOKEN, "queue.list",
	  ll_api_handle_queue_list, 0 },
	{ "POST", "/api/v1/queue/{entry}/pickup", AUTH_TOKEN, "queue.pickup",
	  ll_api_handle_queue_pickup, 0 },
	/* the org's policy (api_policy.c) */
	{ "GET", "/api/v1/live", AUTH_ADMIN, "live.list", ll_api_handle_live,
	  0 },
	{ "GET", "/api/v1/technicians", AUTH_ADMIN, "technician.list",
	  ll_api_handle_technician_list, 0 },
	{ "POST", "/api/v1/technicians", AUTH_ADMIN, "technician.add",
	  ll_api_handle_technician_add, 0 },
	{ "PATCH", "/api/v1/technicians/{name}", AUTH_ADMIN, "technician.set",
	  ll_api_handle_technician_patch, 0 },
	{ "POST", "/api/v1/technicians/{name}/unlock", AUTH_ADMIN,
	  "technician.unlock", ll_api_handle_technician_unlock, 0 },
	{ "POST", "/api/v1/technicians/{name}/mfa-reset", AUTH_ADMIN,
	  "technician.mfa_reset", ll_api_handle_technician_mfa_reset, 0 },
	{ "POST", "/api/v1/technicians/{name}/password", AUTH_ADMIN,
	  "technician.passwd", ll_api_handle_technician_password, 0 },
	{ "GET", "/api/v1/orgs/{org}/policy", AUTH_ADMIN, "policy.show",
	  ll_api_handle_policy_get, 0 },
	{ "PUT", "/api/v1/orgs/{org}/policy", AUTH_ADMIN, "policy.set",
	  ll_api_handle_policy_put, 0 },
	/* technician groups of the admin's org (api_groups.c) */
	{ "GET", "/api/v1/groups", AUTH_ADMIN, "group.list",
	  ll_api_handle_group_list, 0 },
	{ "POST", "/api/v1/groups", AUTH_ADMIN, "group.add",
	  ll_api_handle_group_add, 0 },
	{ "PUT", "/api/v1/groups/{name}", AUTH_ADMIN, "group.set",
	  ll_api_handle_group_set, 0 },
	{ "DELETE", "/api/v1/groups/{name}", AUTH_ADMIN, "group.remove",
	  ll_api_handle_group_delete, 0 },
	{ "PUT", "/api/v1/technicians/{name}/group", AUTH_ADMIN,
	  "technician.set", ll_api_handle_technician_group, 0 },
};

/* ---- path patterns ---- */

/* Org, technician and channel names in a path: percent-decoded, no
 * control bytes; whether one exists is the handler's question. */
static bool name_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return i > 0;
}

static const struct {
	const char *name; /* "{id}" in a pattern */
	bool decode;      /* %XX escapes allowed (and decoded) */
	bool (*valid)(const char *value);
} placeholders[] = {
	{ "id", false, ll_api_session_id_valid },
	{ "entry", false, ll_api_session_id_valid }, /* a queue entry's id */
	{ "org", true, name_valid },
	{ "name", true, name_valid },
};

/* Copies (decoding %XX when asked) seg[0..n) into out; false when it does
 * not fit or an escape is malformed or a NUL. */
static bool segment_copy(const char *seg, size_t n, bool decode,
			 char out[LL_API_PARAM_MAX + 1])
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		char c = seg[i];

		if (c == '%') {
			if (!decode || i + 2 >= n)
				return false;
			hi = ll_hex_digit(seg[i + 1]);
			lo = ll_hex_digit(seg[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return false;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o == LL_API_PARAM_MAX)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

/*
 * Does path match pattern?  Literal segments match byte for byte; a
 * placeholder matches any non-empty segment, which is captured into
 * params (when not NULL) with its validity.  Unknown placeholders never
 * match (a typo in a row shows up as that row's 404 in the tests).
 */
static bool route_match(const char *pattern, const char *path,
			struct ll_api_param *params, size_t *n_params)
{
	const char *p = pattern, *q = path;
	size_t n = 0, pl, ql, k;

	if (path == NULL)
		return false;
	for (;;) {
		if (*p != '/' || *q != '/')
			break;
		p++;
		q++;
		pl = strcspn(p, "/");
		ql = strcspn(q, "/");
		if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
			for (k = 0; k < LL_ARRAY_SIZE(placeholders); k++)
				if (strlen(placeholders[k].name) == pl - 2 &&
				    memcmp(placeholders[k].name, p + 1,
					   pl - 2) == 0)
					break;
			if (k == LL_ARRAY_SIZE(placeholders) || ql == 0 ||
			    n == LL_API_PARAMS_MAX)
				return false;
			if (params != NULL) {
				struct ll_api_param *pa = &params[n];

				pa->name = placeholders[k].name;
				pa->valid = segment_copy(q, ql,
							 placeholders[k].decode,
							 pa->value) &&
					    placeholders[k].valid(pa->value);
				if (!pa->valid)
					pa->value[0] = '\0';
			}
			n++;
		} else if (pl != ql || memcmp(p, q, pl) != 0) {
			return false;
		}
		p += pl;
		q += ql;
	}
	if (*p != '\0' || *q != '\0')
		return false;
	if (n_params != NULL)
		*n_params = n;
	return true;
}

const char *ll_api_param(const struct ll_api_ctx *ctx, const char *name)
{
	size_t i;

	for (i = 0; i < ctx->n_params; i++)
		if (strcmp(ctx->params[i].name, name) == 0)
			return ctx->params[i].valid ? ctx->params[i].value
						    : NULL;
	return NULL;
}

/*
 * The row for this method and path, its placeholders captured into ctx.
 * NULL when none: allow then lists the methods of the rows whose pattern
 * matches the path ("" when none does: 404, else 405).
 */
static const struct api_route *route_find(struct ll_api_ctx *ctx, char *allow,
					  size_t allow_len)
{
	const struct ll_http_request *http = ctx->req->http;
	size_t i, used = 0;
	int n;

	allow[0] = '\0';
	for (i = 0; i < LL_ARRAY_SIZE(routes); i++) {
		if (!route_match(routes[i].pattern, http->path, NULL, NULL))
			continue;
		if (strcmp(routes[i].method, http->method) == 0) {
			route_match(routes[i].pattern, http->path, ctx->params,
				    &ctx->n_params);
			return &routes[i];
		}
		n = snprintf(allow + used, allow_len - used, "%s%s",
			     used > 0 ? ", " : "", routes[i].method);
		if (n > 0 && (size_t)n < allow_len - used)
			used += (size_t)n;
	}
	return NULL;
}

/* ---- the envelope ---- */

/*
 * A token's technician with a one-time password still to change may call
 * only the rows marked ROUTE_BEFORE_PW_CHANGE: the one place that says
 * so.  Tickets are a session's, not the account's, and are not held up.
 */
static int auth_token_route(struct ll_api_ctx *ctx,
			    const struct api_route *route)
{
	int r;

	if ((r = auth_token(ctx, &ctx->tech)) != 0)
		return r;
	if (ctx->tech->must_change_password &&
	    !(route->flags & ROUTE_BEFORE_PW_CHANGE)) {
		ll_api_fail(ctx, LL_API_PASSWORD_CHANGE_REQUIRED,
			    "this account's one-time password must be changed "
			    "first (POST /api/v1/password)");
		return LL_ERR_AUTH_FAILED;
	}
	if (!(route->flags & ROUTE_BEFORE_MFA_ENROL)) {
		bool enrol = false;

		if ((r = ll_api_mfa_enrol_required(ctx, ctx->tech, &enrol)) !=
		    LL_OK) {
			ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
			return r;
		}
		if (enrol) {
			ll_api_fail(ctx, LL_API_MFA_ENROLLMENT_REQUIRED,
				    "this org asks for a second factor: set "
				    "one up first (POST /api/v1/mfa/enroll, "
				    "then /api/v1/mfa/confirm)");
			return LL_ERR_AUTH_FAILED;
		}
	}
	return LL_OK;
}

/* What the route's auth asks for; fills the refusal and returns < 0. */
static int authenticate(struct ll_api_ctx *ctx, const struct api_route *route)
{
	const char *bearer = ll_http_request_bearer(ctx->req->http);
	int r;

	switch (route->auth) {
	case AUTH_NONE:
		return LL_OK;
	case AUTH_TOKEN:
		return auth_token_route(ctx, route);
	case AUTH_ADMIN:
		if ((r = auth_token_route(ctx, route)) != 0)
			return r;
		if ((ll_relay_permissions(ctx->tech) & LL_PERM_ADMIN) == 0) {
			ll_api_fail(ctx, LL_API_FORBIDDEN,
				    "this needs the admin permission");
			return LL_ERR_AUTH_FAILED;
		}
		return LL_OK;
	case AUTH_TICKET:
		if (bearer == NULL || bearer[0] == '\0') {
			ll_api_fail(ctx, LL_API_UNAUTHORIZED,
				    "a stream needs Authorization: Bearer "
				    "TICKET");
			return LL_ERR_AUTH_FAILED;
		}
		r = auth_ticket(ctx, bearer);
		if (r == LL_ERR_NOT_FOUND) {
			ll_api_fail(ctx, LL_API_UNAUTHORIZED,
				    "unknown ticket");
			return LL_ERR_AUTH_FAILED;
		}
		return r;
	case AUTH_TICKET_OR_TOKEN:
		if (bearer == NULL || bearer[0] == '\0') {
			ll_api_fail(ctx, LL_API_UNAUTHORIZED,
				    "this request needs Authorization: Bearer "
				    "with a ticket or token");
			return LL_ERR_AUTH_FAILED;
		}
		r = auth_ticket(ctx, bearer);
		if (r == LL_ERR_NOT_FOUND)
			r = auth_token_route(ctx, route);
		return r;
	}
	ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
	return LL_ERR_INTERNAL;
}

/* One line per refusal: info when it is also recorded on its own, debug
 * when it is only counted (the window's summary has its info line). */
static void log_refusal(const struct ll_api_ctx *ctx, bool recorded)
{
	struct ll_api_response *resp = ctx->resp;
	const char *msg = NULL;
	json_t *err = resp->body ? json_object_get(resp->body, "error") : NULL;
	enum ll_log_level level = recorded ? LL_LOG_INFO : LL_LOG_DEBUG;

	if (err != NULL)
		msg = json_string_value(json_object_get(err, "message"));
	ll_log(resp->code == LL_API_INTERNAL ? LL_LOG_ERROR : level,
	       "refused %s from %s%s%s: %d %s (%s)", ctx->action,
	       ctx->req->source_ip ? ctx->req->source_ip : "?",
	       ctx->session_id[0] ? " session " : "", ctx->session_id,
	       resp->status, ll_api_code_name(resp->code), msg ? msg : "");
	resp->logged = true; /* one line per refusal: the core stays quiet */
}

static void ctx_init(struct ll_api_ctx *ctx, struct ll_relay *relay,
		     const struct ll_api_request *req,
		     struct ll_api_response *resp, bool upgrade)
{
	memset(resp, 0, sizeof(*resp));
	memset(ctx, 0, sizeof(*ctx));
	ctx->relay = relay;
	ctx->req = req;
	ctx->resp = resp;
	ctx->upgrade = upgrade;
	ctx->now = ll_now_unix();
	ctx->action = "request";
	snprintf(ctx->actor, sizeof(ctx->actor), "anonymous");
}

static void ctx_clear(struct ll_api_ctx *ctx)
{
	json_decref(ctx->detail);
	ll_technician_free(ctx->tech);
	ll_session_free(ctx->session);
	ctx->detail = NULL;
	ctx->tech = NULL;
	ctx->session = NULL;
}

/* Did the handler succeed, as this kind of request succeeds? */
static bool served(const struct ll_api_ctx *ctx)
{
	const struct ll_api_response *resp = ctx->resp;

	if (resp->code != LL_API_OK)
		return false;
	if (ctx->upgrade)
		return resp->status == 101;
	return resp->status >= 200 && resp->status < 300;
}

void ll_api_defer(struct ll_api_ctx *ctx, void (*work)(void *job),
		  void (*resume)(struct ll_api_ctx *ctx), void *job,
		  void (*job_free)(void *job))
{
	ctx->job = job;
	ctx->job_work = work;
	ctx->job_resume = resume;
	ctx->job_free = job_free;
	ctx->deferred = true;
}

void ll_api_park(struct ll_api_ctx *ctx, int64_t until,
		 void (*resume)(struct ll_api_ctx *ctx))
{
	ctx->parked = true;
	ctx->park_until = until;
	ctx->park_resume = resume;
}

static void job_drop(struct ll_api_ctx *ctx)
{
	if (ctx->job != NULL)
		ctx->job_free(ctx->job);
	ctx->job = NULL;
	ctx->deferred = false;
}

static void job_work(void *arg)
{
	struct ll_api_ctx *ctx = arg;

	ctx->job_work(ctx->job);
}

static void job_done(void *arg, bool cancelled);
static enum ll_api_dispatch job_resume(struct ll_api_ctx *ctx, bool cancelled);
static enum ll_api_dispatch api_refused(struct ll_api_ctx *ctx);

/*
 * A refusal, after the rollback: charges the address's bucket for
 * anonymous 401s and 404s, then records it on its own or only counts it
 * (refusals.c), and logs it once.  may_write false: no store access.
 */
static void refusal_record(struct ll_api_ctx *ctx, bool may_write)
{
	struct ll_relay *relay = ctx->relay;
	enum ll_api_code code = ctx->resp->code;
	const char *ip = ctx->req->source_ip ? ctx->req->source_ip : "";
	/* A proven credential: a token or ticket, or the right password
	 * of a disabled account. */
	bool authed = ctx->tech != NULL || ctx->by_ticket ||
		      code == LL_API_ACCOUNT_DISABLED;
	bool row;
	int64_t retry;

	if (!authed &&
	    (code == LL_API_UNAUTHORIZED || code == LL_API_NOT_FOUND) &&
	    relay->rl_unauth != NULL)
		(void)ll_ratelimit_take(relay->rl_unauth, ip, ll_now_mono_ms(),
					&retry);
	row = ll_api_refusal_note(relay, ctx->req->source_ip, ctx->action,
				  ll_api_code_name(code), ctx->actor,
				  ctx->org_id, authed,
				  may_write && relay->store != NULL, ctx->now);
	if (row)
		ctx_audit(ctx);
	log_refusal(ctx, row);
}

/*
 * An address whose anonymous 401s and 404s emptied its bucket gets 429
 * for everything until it refills: before any store access, so that such
 * a flood costs neither a transaction nor a record.
 */
static bool unauth_limited(struct ll_api_ctx *ctx)
{
	struct ll_relay *relay = ctx->relay;
	char hdr[64], msg[128];
	int64_t retry = 0;

	if (relay->rl_unauth == NULL ||
	    ll_ratelimit_peek(relay->rl_unauth,
			      ctx->req->source_ip ? ctx->req->source_ip : "",
			      ll_now_mono_ms(), &retry) == LL_OK)
		return false;
	snprintf(msg, sizeof(msg),
		 "too many refused requests from this address; retry in "
		 "%lld s",
		 (long long)retry);
	ll_api_fail(ctx, LL_API_RATE_LIMITED, msg);
	snprintf(hdr, sizeof(hdr), "Retry-After: %lld\r\n", (long long)retry);
	ctx->resp->extra_headers = strdup(hdr);
	return true;
}

/*
 * Hands the deferred job to the worker pool, the handler's transaction
 * over first (nothing stays open on the loop's one SQLite connection
 * while other requests run).  Without a pool (nothing but `serve` runs
 * one) the work runs here.  Fills the refusal on failure.
 */
static enum ll_api_dispatch job_submit(struct ll_api_ctx *ctx)
{
	struct ll_relay *relay = ctx->relay;
	unsigned waiting, running;
	int r;

	ctx->deferred = false;
	if (ctx->in_tx) {
		ctx->in_tx = false;
		if (ll_store_commit(relay->store) != 0) {
			ll_store_rollback(relay->store);
			ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
			return api_refused(ctx);
		}
	}
	if (relay->pool == NULL) {
		ctx->job_work(ctx->job);
		return job_resume(ctx, false);
	}
	r = ll_workpool_submit(relay->pool, job_work, job_done, ctx);
	if (r == LL_OK) {
		ll_workpool_load(relay->pool, &waiting, &running);
		ll_debug("%s from %s: hash queued (%u waiting, %u running)",
			 ctx->action,
			 ctx->req->source_ip ? ctx->req->source_ip : "?",
			 waiting, running);
		return LL_API_PENDING;
	}
	if (r == LL_ERR_TOO_LARGE) {
		ll_api_fail(ctx, LL_API_RATE_LIMITED,
			    "the relay is busy checking passwords; retry in "
			    "1 s");
		ctx->resp->extra_headers = strdup("Retry-After: 1\r\n");
		ll_api_detail_set(ctx, "retry_after", json_integer(1));
		ll_api_detail_set(ctx, "reason", json_string("hash_queue"));
	} else {
		ll_api_fail(ctx, LL_API_INTERNAL,
			    r == LL_ERR_CLOSED ? "the relay is stopping"
					       : "internal error");
	}
	return api_refused(ctx);
}

/* Nothing of a refused action stays: it is rolled back, and the refusal
 * itself is recorded on its own (or only counted) and logged once. */
static enum ll_api_dispatch api_refused(struct ll_api_ctx *ctx)
{
	struct ll_relay *relay = ctx->relay;

	job_drop(ctx);
	if (ctx->in_tx)
		ll_store_rollback(relay->store);
	ctx->in_tx = false;
	if (ctx->resp->code == LL_API_OK)
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
	if (ctx->after_rollback != NULL) {
		ctx->after_rollback(ctx);
		ctx->after_rollback = NULL;
	}
	refusal_record(ctx, true);
	return LL_API_ANSWERED;
}

/*
 * After the handler (or a resume): defer, or write the audit record and
 * commit with the action, or roll back and record the refusal on its own.
 * LL_API_PENDING when a job went to the pool.
 */
static enum ll_api_dispatch api_finish(struct ll_api_ctx *ctx)
{
	struct ll_relay *relay = ctx->relay;

	if (ctx->deferred && ctx->resp->code == LL_API_OK)
		return job_submit(ctx);
	if (ctx->parked && ctx->resp->code == LL_API_OK) {
		/* nothing stays open on the loop's connection meanwhile */
		ctx->parked = false;
		if (ll_store_commit(relay->store) != 0) {
			ll_store_rollback(relay->store);
			ctx->in_tx = false;
			ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
			return api_refused(ctx);
		}
		ctx->in_tx = false;
		ll_api_live_hold(relay, ctx);
		return LL_API_PENDING;
	}
	if (!served(ctx))
		return api_refused(ctx);

	/* Success: the audit record commits together with the action. */
	if ((!ctx->audit_quiet && ctx_audit(ctx) != 0) ||
	    ll_store_commit(relay->store) != 0) {
		ll_store_rollback(relay->store);
		ctx->in_tx = false;
		ll_error("%s from %s: the audit record could not be written; "
			 "answering 500",
			 ctx->action,
			 ctx->req->source_ip ? ctx->req->source_ip : "?");
		ll_api_fail(ctx, LL_API_INTERNAL,
			    "internal error: the action was not recorded");
		ctx->close_after = false;
		return api_refused(ctx);
	}
	ctx->in_tx = false;
	job_drop(ctx);
	if (ctx->close_if_interrupted &&
	    ll_relay_session_interrupted(relay, ctx->session_id))
		ctx->close_after = true;
	if (ctx->close_after) {
		ll_relay_session_close(relay, ctx->session_id,
				       ctx->close_reason);
		/* A session without streams is ended here; one with streams
		 * was ended (with its byte counts) by the core already. */
		if (ll_store_session_end(relay->store, ctx->session_id,
					 ll_now_unix(), ctx->close_reason, 0,
					 0) != 0)
			ll_error("session %s: cannot record its end: %s",
				 ctx->session_id,
				 ll_store_errmsg(relay->store));
	}
	return LL_API_ANSWERED;
}

/*
 * The one envelope of every request, plain or stream upgrade: route,
 * transaction, authentication, handler, then the audit record committed
 * with the action before the answer (2xx, or the 101) leaves; a refusal
 * is rolled back, recorded on its own and logged once.  A handler that
 * defers slow work (ll_api_defer) is resumed by job_done, and the
 * envelope ends there the same way.
 */
static enum ll_api_dispatch api_serve(struct ll_api_ctx *ctx)
{
	struct ll_relay *relay = ctx->relay;
	const struct ll_http_request *http = ctx->req->http;
	struct ll_api_response *resp = ctx->resp;
	const struct api_route *route;
	char allow[96], hdr[128];
	const char *id;

	route = route_find(ctx, allow, sizeof(allow));
	if (route != NULL) {
		ctx->action = route->action;
		ctx->page = (route->flags & ROUTE_PAGE) != 0;
		ctx->ticket_disabled_ok = (route->flags &
					   ROUTE_TICKET_DISABLED) != 0;
	}
	if (ll_api_ratelimits_sync(relay) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return api_refused(ctx);
	}
	if (unauth_limited(ctx)) {
		refusal_record(ctx, false);
		return LL_API_ANSWERED;
	}
	if (route == NULL) {
		ll_api_detail_set(ctx, "method",
				  ll_api_json_text(http->method, 16));
		ll_api_detail_set(ctx, "path",
				  ll_api_json_text(http->path, 128));
		if (allow[0] == '\0') {
			ll_api_fail(ctx, LL_API_NOT_FOUND,
				    "no such API endpoint");
			return api_refused(ctx);
		}
		ll_api_fail(ctx, LL_API_METHOD_NOT_ALLOWED,
			    "this method is not allowed here");
		snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
		resp->extra_headers = strdup(hdr);
		return api_refused(ctx);
	}
	/* The session a path names is the audit record's session. */
	if ((id = ll_api_param(ctx, "id")) != NULL)
		memcpy(ctx->session_id, id, sizeof(ctx->session_id));

	if (!(route->flags & ROUTE_UPGRADE) != !ctx->upgrade) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    ctx->upgrade
				    ? "only /api/v1/stream can be upgraded"
				    : "the stream needs Connection: "
				      "Upgrade and Upgrade: lifeline/1");
		return api_refused(ctx);
	}
	if (relay->store == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return api_refused(ctx);
	}
	if (route->flags & ROUTE_NO_AUDIT) {
		/* AUTH_NONE rows only: nothing to roll back or record */
		route->handler(ctx);
		return served(ctx) ? LL_API_ANSWERED : api_refused(ctx);
	}
	if (ll_store_begin(relay->store) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return api_refused(ctx);
	}
	ctx->in_tx = true;
	if (authenticate(ctx, route) == 0)
		route->handler(ctx);
	return api_finish(ctx);
}

static void ctx_free(struct ll_api_ctx *ctx)
{
	job_drop(ctx);
	ctx_clear(ctx);
	ll_api_response_clear(&ctx->answer);
	free(ctx);
}

/* The handler's second half in a new transaction, then the envelope's
 * end (or another job). */
static enum ll_api_dispatch job_resume(struct ll_api_ctx *ctx, bool cancelled)
{
	struct ll_relay *relay = ctx->relay;
	void (*job_free)(void *job) = ctx->job_free;
	void *job = ctx->job;

	ctx->now = ll_now_unix();
	if (cancelled) {
		ll_api_fail(ctx, LL_API_INTERNAL, "the relay is stopping");
	} else if (ll_store_begin(relay->store) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
	} else {
		ctx->in_tx = true;
		ctx->job_resume(ctx);
		/* resume may defer again, with this job or another */
		if (!ctx->deferred || ctx->job != job) {
			if (ctx->job == job)
				ctx->job = NULL;
			job_free(job);
		}
	}
	return api_finish(ctx);
}

/* A refusal of a route a browser opens: a page rather than JSON. */
static void refused_page(struct ll_api_ctx *ctx)
{
	if (ctx->resp->code == LL_API_OK)
		return;
	if (ctx->page)
		ll_api_page_refused(ctx);
	else if (ctx->sso_page)
		ll_api_sso_page_refused(ctx);
}

void ll_api_parked_resume(struct ll_api_ctx *ctx)
{
	struct ll_relay *relay = ctx->relay;

	ctx->now = ll_now_unix();
	if (ll_store_begin(relay->store) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
	} else {
		ctx->in_tx = true;
		ctx->park_resume(ctx);
	}
	if (api_finish(ctx) == LL_API_PENDING)
		return; /* held again */
	ll_relay_api_answer(relay, ctx->req, ctx->resp);
	ctx_free(ctx);
}

/* The pool is done with the job (on the loop): resume, then answer. */
static void job_done(void *arg, bool cancelled)
{
	struct ll_api_ctx *ctx = arg;

	if (job_resume(ctx, cancelled) == LL_API_PENDING)
		return;
	refused_page(ctx);
	ll_relay_api_answer(ctx->relay, ctx->req, ctx->resp);
	ctx_free(ctx);
}

enum ll_api_dispatch ll_api_dispatch(struct ll_relay *relay,
				     const struct ll_api_request *req,
				     struct ll_api_response *resp)
{
	struct ll_api_ctx *ctx;

	memset(resp, 0, sizeof(*resp));
	if (req == NULL || req->http == NULL || req->http->method == NULL ||
	    (ctx = malloc(sizeof(*ctx))) == NULL) {
		ll_api_error(resp, LL_API_INTERNAL, "internal error");
		return LL_API_ANSWERED;
	}
	/* On the heap: a deferred request lives on in job_done. */
	ctx_init(ctx, relay, req, &ctx->answer, false);
	if (api_serve(ctx) == LL_API_PENDING)
		return LL_API_PENDING;
	refused_page(ctx);
	*resp = ctx->answer;
	memset(&ctx->answer, 0, sizeof(ctx->answer));
	ctx_free(ctx);
	return LL_API_ANSWERED;
}

int ll_api_stream_authorize(struct ll_relay *relay,
			    const struct ll_api_request *req,
			    char session_id_out[LL_SESSION_ID_LEN + 1],
			    enum ll_side *side_out,
			    struct ll_api_response *refusal)
{
	struct ll_api_ctx ctx;
	int r;

	ctx_init(&ctx, relay, req, refusal, true);
	if (req == NULL || req->http == NULL || req->http->method == NULL) {
		ll_api_error(refusal, LL_API_INTERNAL, "internal error");
		return LL_ERR_INTERNAL;
	}
	api_serve(&ctx);
	if (served(&ctx)) {
		memcpy(session_id_out, ctx.session_id, LL_SESSION_ID_LEN + 1);
		*side_out = ctx.side;
		ll_api_response_clear(refusal);
		r = LL_OK;
	} else {
		r = refusal->code == LL_API_INTERNAL ? LL_ERR_INTERNAL
						     : LL_ERR_AUTH_FAILED;
	}
	ctx_clear(&ctx);
	return r;
}

/* Once a second: the endpoints' work, the refusals' window, the audit
 * checkpoint. */
static void api_periodic(struct ll_relay *relay)
{
	ll_api_periodic(relay);
	ll_api_sso_sweep(relay);
	ll_api_live_tick(relay, ll_now_unix());
	ll_api_refusals_tick(relay, ll_now_unix());
	ll_relay_checkpoint_tick(relay);
}

void ll_api_shutdown(struct ll_relay *relay)
{
	if (relay == NULL)
		return;
	ll_api_refusals_flush(relay, ll_now_unix());
	ll_api_refusals_free(relay);
	ll_api_page_close(relay);
	ll_api_dir_sync_free(relay);
	ll_api_sso_close(relay);
}

const struct ll_relay_api_ops ll_api_ops = {
	.dispatch = ll_api_dispatch,
	.stream_authorize = ll_api_stream_authorize,
	.stream_paired = ll_api_stream_paired,
	.stream_interrupted = ll_api_stream_interrupted,
	.stream_ended = ll_api_stream_ended,
	.periodic = api_periodic,
	.stopping = ll_api_live_stop,
};
