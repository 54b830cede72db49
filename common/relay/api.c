/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * API dispatch: routing, strict JSON bodies, bearer tokens, and the rule
 * that every request leaves exactly one audit record, durable before a
 * 2xx answer is produced (see api.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_text.h"
#include "ll_util.h"
#include "ratelimit.h"
#include "relay.h"
#include "api.h"

#define API_PREFIX "/api/v1/"

/* ---- small helpers ---- */
enum ll_api_code ll_api_fail(struct ll_api_ctx *ctx, enum ll_api_code code,
			     const char *message)
{
	ll_api_error(ctx->resp, code, message);
	return code;
}

void ll_api_detail_set(struct ll_api_ctx *ctx, const char *key,
		       json_t *value)
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

/* ---- permissions ---- */
static const char *const capabilities[] = { "view", "control", "files",
					    "chat", "sysinfo" };

bool ll_api_capability_known(const char *cap)
{
	size_t i;

	for (i = 0; i < LL_ARRAY_SIZE(capabilities); i++)
		if (strcmp(cap, capabilities[i]) == 0)
			return true;
	return false;
}

json_t *ll_api_capabilities_json(const struct ll_technician *t)
{
	json_t *a = json_array();
	size_t i;

	(void)t; /* technician groups will narrow this later */
	for (i = 0; a != NULL && i < LL_ARRAY_SIZE(capabilities); i++)
		json_array_append_new(a, json_string(capabilities[i]));
	return a;
}

json_t *ll_api_permissions_json(const struct ll_technician *t)
{
	json_t *a = ll_api_capabilities_json(t);

	if (a != NULL && t->is_admin) {
		json_array_append_new(a, json_string("reports"));
		json_array_append_new(a, json_string("admin"));
	}
	return a;
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
	if (!content_type_is_json(ll_http_request_header(http,
							 "Content-Type"))) {
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
	json_object_foreach(obj, key, v) {
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
		if (json_typeof(v) != f->type) {
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

/* ---- bearer tokens ---- */
int ll_api_auth_technician(struct ll_api_ctx *ctx,
			   struct ll_technician **tech_out)
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
	if (r != 0 || (r = ll_store_technician_get(relay->store, tech_id,
						   &t)) != 0) {
		ll_api_fail(ctx, r == LL_ERR_NOT_FOUND ? LL_API_UNAUTHORIZED
						       : LL_API_INTERNAL,
			    r == LL_ERR_NOT_FOUND
				    ? "the token is unknown or has expired"
				    : "internal error");
		goto out;
	}
	snprintf(ctx->actor, sizeof(ctx->actor), "technician:%s",
		 t->username);
	ctx->org_id = t->org_id;
	if (t->disabled) {
		ll_api_fail(ctx, LL_API_ACCOUNT_DISABLED,
			    "this technician account is disabled");
		r = LL_ERR_DISABLED;
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

	r = ll_ratelimit_take(rl, ctx->req->source_ip ? ctx->req->source_ip
						      : "",
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
		 const char *source_ip, const char *session_id,
		 json_t *detail)
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
			    ctx->req->source_ip, ctx->session_id,
			    ctx->detail);
}

/* ---- routing ---- */
enum route {
	R_NONE,
	R_LOGIN,
	R_LOGOUT,
	R_SESSIONS,
	R_SESSION,
	R_SESSION_EVENTS,
	R_REDEEM,
	R_STREAM,
};

/* Splits /api/v1/... into a route; *id points into path for sessions. */
static enum route route_of(const char *path, char id[LL_SESSION_ID_LEN + 1],
			   bool *id_ok)
{
	const char *rest, *slash;
	size_t n;

	*id_ok = false;
	if (path == NULL || strncmp(path, API_PREFIX, strlen(API_PREFIX)) != 0)
		return R_NONE;
	rest = path + strlen(API_PREFIX);
	if (strcmp(rest, "login") == 0)
		return R_LOGIN;
	if (strcmp(rest, "logout") == 0)
		return R_LOGOUT;
	if (strcmp(rest, "sessions") == 0)
		return R_SESSIONS;
	if (strcmp(rest, "pins/redeem") == 0)
		return R_REDEEM;
	if (strcmp(rest, "stream") == 0)
		return R_STREAM;
	if (strncmp(rest, "sessions/", 9) != 0)
		return R_NONE;
	rest += 9;
	slash = strchr(rest, '/');
	n = slash ? (size_t)(slash - rest) : strlen(rest);
	if (n == 0)
		return R_NONE;
	if (slash != NULL && strcmp(slash, "/events") != 0)
		return R_NONE;
	if (n == LL_SESSION_ID_LEN) {
		memcpy(id, rest, n);
		id[n] = '\0';
		*id_ok = ll_api_session_id_valid(id);
	}
	/* a malformed id is a 404 from the handler, not an unknown route */
	if (!*id_ok)
		id[0] = '\0';
	return slash ? R_SESSION_EVENTS : R_SESSION;
}

static const char *route_action(enum route r, const char *method)
{
	switch (r) {
	case R_LOGIN:
		return "login";
	case R_LOGOUT:
		return "logout";
	case R_SESSIONS:
		return strcmp(method, "GET") == 0 ? "session.list"
						  : "session.create";
	case R_SESSION:
		return "session.delete";
	case R_SESSION_EVENTS:
		return "session.event";
	case R_REDEEM:
		return "pin.redeem";
	case R_STREAM:
		return "stream.open";
	default:
		return "request";
	}
}

static bool method_allowed(enum route r, const char *m, const char **allow)
{
	switch (r) {
	case R_SESSIONS:
		*allow = "GET, POST";
		return strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0;
	case R_SESSION:
		*allow = "DELETE";
		return strcmp(m, "DELETE") == 0;
	case R_STREAM:
		*allow = "GET";
		return strcmp(m, "GET") == 0;
	default:
		*allow = "POST";
		return strcmp(m, "POST") == 0;
	}
}

static void run_handler(struct ll_api_ctx *ctx, enum route r,
			const char *id, bool id_ok)
{
	const char *method = ctx->req->http->method;

	switch (r) {
	case R_LOGIN:
		ll_api_handle_login(ctx);
		break;
	case R_LOGOUT:
		ll_api_handle_logout(ctx);
		break;
	case R_SESSIONS:
		if (strcmp(method, "GET") == 0)
			ll_api_handle_session_list(ctx);
		else
			ll_api_handle_session_create(ctx);
		break;
	case R_SESSION:
		ll_api_handle_session_delete(ctx, id_ok ? id : NULL);
		break;
	case R_SESSION_EVENTS:
		ll_api_handle_session_event(ctx, id_ok ? id : NULL);
		break;
	case R_REDEEM:
		ll_api_handle_pin_redeem(ctx);
		break;
	case R_STREAM:
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "the stream needs Connection: Upgrade and "
			    "Upgrade: lifeline/1");
		break;
	default:
		ll_api_fail(ctx, LL_API_NOT_FOUND, "no such API endpoint");
		break;
	}
}

static void log_refusal(const struct ll_api_ctx *ctx)
{
	struct ll_api_response *resp = ctx->resp;
	const char *msg = NULL;
	json_t *err = resp->body ? json_object_get(resp->body, "error")
				 : NULL;

	if (err != NULL)
		msg = json_string_value(json_object_get(err, "message"));
	ll_log(resp->code == LL_API_INTERNAL ? LL_LOG_ERROR : LL_LOG_INFO,
	       "refused %s from %s%s%s: %d %s (%s)", ctx->action,
	       ctx->req->source_ip ? ctx->req->source_ip : "?",
	       ctx->session_id[0] ? " session " : "", ctx->session_id,
	       resp->status, ll_api_code_name(resp->code), msg ? msg : "");
	resp->logged = true; /* one line per refusal: the core stays quiet */
}

void ll_api_dispatch(struct ll_relay *relay, const struct ll_api_request *req,
		     struct ll_api_response *resp)
{
	struct ll_api_ctx ctx;
	char id[LL_SESSION_ID_LEN + 1] = "";
	const char *allow = NULL;
	char hdr[64];
	enum route r;
	bool id_ok, in_tx = false;

	memset(resp, 0, sizeof(*resp));
	memset(&ctx, 0, sizeof(ctx));
	ctx.relay = relay;
	ctx.req = req;
	ctx.resp = resp;
	ctx.now = ll_now_unix();
	snprintf(ctx.actor, sizeof(ctx.actor), "anonymous");

	if (req == NULL || req->http == NULL || req->http->method == NULL) {
		ll_api_error(resp, LL_API_INTERNAL, "internal error");
		return;
	}
	r = route_of(req->http->path, id, &id_ok);
	ctx.action = route_action(r, req->http->method);
	if (r == R_NONE) {
		ll_api_detail_set(&ctx, "method",
				  ll_api_json_text(req->http->method, 16));
		ll_api_detail_set(&ctx, "path",
				  ll_api_json_text(req->http->path, 128));
	}
	if (id_ok)
		memcpy(ctx.session_id, id, sizeof(id));

	if (r != R_NONE && !method_allowed(r, req->http->method, &allow)) {
		ll_api_fail(&ctx, LL_API_METHOD_NOT_ALLOWED,
			    "this method is not allowed here");
		snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
		resp->extra_headers = strdup(hdr);
		ll_api_detail_set(&ctx, "method",
				  ll_api_json_text(req->http->method, 16));
		goto refused;
	}
	if (relay->store == NULL || ll_api_ratelimits_sync(relay) != 0) {
		ll_api_fail(&ctx, LL_API_INTERNAL, "internal error");
		goto refused;
	}
	if (ll_store_begin(relay->store) != 0) {
		ll_api_fail(&ctx, LL_API_INTERNAL, "internal error");
		goto refused;
	}
	in_tx = true;
	run_handler(&ctx, r, id, id_ok);
	if (resp->code != LL_API_OK || resp->status >= 300)
		goto refused;

	/* Success: the audit record commits together with the action. */
	if (ctx_audit(&ctx) != 0 || ll_store_commit(relay->store) != 0) {
		ll_store_rollback(relay->store);
		in_tx = false;
		ll_error("%s from %s: the audit record could not be written; "
			 "answering 500",
			 ctx.action, req->source_ip ? req->source_ip : "?");
		ll_api_fail(&ctx, LL_API_INTERNAL,
			    "internal error: the action was not recorded");
		ctx.close_after = false;
		goto refused;
	}
	in_tx = false;
	if (ctx.close_after) {
		ll_relay_session_close(relay, ctx.session_id,
				       ctx.close_reason);
		/* A session without streams is ended here; one with streams
		 * was ended (with its byte counts) by the core already. */
		if (ll_store_session_end(relay->store, ctx.session_id,
					 ll_now_unix(), ctx.close_reason, 0,
					 0) != 0)
			ll_error("session %s: cannot record its end: %s",
				 ctx.session_id,
				 ll_store_errmsg(relay->store));
	}
	json_decref(ctx.detail);
	return;

refused:
	/* Nothing of a refused action stays; the refusal itself is
	 * recorded on its own. */
	if (in_tx)
		ll_store_rollback(relay->store);
	if (resp->code == LL_API_OK)
		ll_api_fail(&ctx, LL_API_INTERNAL, "internal error");
	if (relay->store != NULL)
		ctx_audit(&ctx);
	log_refusal(&ctx);
	json_decref(ctx.detail);
}
