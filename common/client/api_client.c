/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay's API, one function per endpoint (ll_api_client.h): the
 * request body, the request itself (ll_client_call, api_curl.c), the
 * answer through the strict parsers (api_parse.c), and the secrets wiped
 * on the way.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "client_internal.h"
#include "ll_api_client.h"
#include "ll_control.h"
#include "ll_crypto.h"
#include "ll_util.h"

/* A call with the client's token as the bearer (need_token checked). */
static int call(struct ll_api_client *c, const char *method, const char *path,
		json_t *body, long expect, json_t **resp,
		struct ll_client_error *err)
{
	return ll_client_call(c, method, path, ll_client_token(c), body,
			      expect, resp, NULL, err);
}

/*
 * A request body of string members from key, value pairs ending with a
 * NULL key; a NULL value leaves its key out.  NULL when a value is not
 * valid UTF-8 text (json_string refuses it) or memory runs out.
 */
static json_t *body_new(const char *key, ...)
{
	json_t *body = json_object();
	const char *value;
	va_list ap;

	va_start(ap, key);
	for (; body != NULL && key != NULL; key = va_arg(ap, const char *)) {
		value = va_arg(ap, const char *);
		if (value != NULL &&
		    json_object_set_new(body, key, json_string(value)) != 0) {
			json_decref(body);
			body = NULL;
		}
	}
	va_end(ap);
	return body;
}

/* Frees a request body, its members wiped first: they are passwords,
 * PINs and codes, or harmless. */
static void body_free(json_t *body)
{
	const char *key;
	json_t *v;

	json_object_foreach(body, key, v) ll_client_json_wipe(body, key);
	json_decref(body);
}

/* Login and login/mfa share the answer; 401 mfa_required carries the
 * mfa_token (at the top level or inside the error object). */
static int login_common(struct ll_api_client *c, const char *path,
			json_t *body, struct ll_api_login *out,
			struct ll_client_error *err)
{
	struct ll_client_error e;
	json_t *root = NULL, *eroot = NULL;
	char *mt = NULL;
	int r;

	ll_client_error_clear(&e);
	r = ll_client_call(c, "POST", path, NULL, body, 200, &root, &eroot,
			   &e);
	if (r == LL_OK) {
		r = ll_client_parse_login(root, out, err);
		json_decref(root);
		if (r == LL_OK &&
		    (r = ll_api_client_set_token(c, out->token)) != 0) {
			ll_api_login_clear(out);
			ll_client_error_set(err, r, 0, "out of memory");
		}
		return r;
	}
	if (e.http_status == 401 && strcmp(e.api_code, "mfa_required") == 0) {
		r = ll_client_parse_mfa_token(eroot, &mt, err);
		if (r == LL_OK) {
			memset(out, 0, sizeof(*out));
			out->mfa_token = mt;
		}
		json_decref(eroot);
		return r;
	}
	json_decref(eroot);
	if (err != NULL)
		*err = e;
	return r;
}

int ll_api_login(struct ll_api_client *c, const char *user, const char *org,
		 const char *password, struct ll_api_login *out,
		 struct ll_client_error *err)
{
	json_t *body;
	int r;

	ll_client_error_clear(err);
	if (c == NULL || user == NULL || password == NULL || out == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "user and password are needed");
		return LL_ERR_INVALID_ARG;
	}
	body = body_new("username", user, "password", password, "org", org,
			NULL);
	if (body == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "user, org or password is not valid "
				    "UTF-8 text");
		return LL_ERR_INVALID_ARG;
	}
	r = login_common(c, "/api/v1/login", body, out, err);
	body_free(body);
	return r;
}

/* POST /api/v1/login/mfa with the mfa_token and key: value. */
static int login_second(struct ll_api_client *c, const char *mfa_token,
			const char *key, const char *value,
			struct ll_api_login *out, struct ll_client_error *err)
{
	json_t *body;
	int r;

	ll_client_error_clear(err);
	if (c == NULL || mfa_token == NULL || value == NULL || out == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "the MFA token and code are needed");
		return LL_ERR_INVALID_ARG;
	}
	body = body_new("mfa_token", mfa_token, key, value, NULL);
	if (body == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "the code is not valid text");
		return LL_ERR_INVALID_ARG;
	}
	r = login_common(c, "/api/v1/login/mfa", body, out, err);
	body_free(body);
	return r;
}

int ll_api_login_mfa(struct ll_api_client *c, const char *mfa_token,
		     const char *code, struct ll_api_login *out,
		     struct ll_client_error *err)
{
	return login_second(c, mfa_token, "code", code, out, err);
}

int ll_api_login_recovery(struct ll_api_client *c, const char *mfa_token,
			  const char *recovery_code, struct ll_api_login *out,
			  struct ll_client_error *err)
{
	return login_second(c, mfa_token, "recovery_code", recovery_code, out,
			    err);
}

/* The start of every call that needs a login: err cleared, then c and its
 * token checked. */
static int need_token(struct ll_api_client *c, struct ll_client_error *err)
{
	ll_client_error_clear(err);
	if (c == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0, "no client");
		return LL_ERR_INVALID_ARG;
	}
	if (!ll_api_client_has_token(c)) {
		ll_client_error_set(err, LL_ERR_AUTH_FAILED, 0,
				    "not logged in");
		if (err != NULL)
			snprintf(err->api_code, sizeof(err->api_code),
				 "unauthorized");
		return LL_ERR_AUTH_FAILED;
	}
	return LL_OK;
}

int ll_api_logout(struct ll_api_client *c, struct ll_client_error *err)
{
	int r;

	if ((r = need_token(c, err)) != 0)
		return r;
	r = call(c, "POST", "/api/v1/logout", NULL, 204, NULL, err);
	/* Forget the token whatever the answer: a failed logout must not
	 * leave a usable token behind in this process. */
	ll_api_client_set_token(c, NULL);
	return r;
}

int ll_api_password_change(struct ll_api_client *c, const char *old_password,
			   const char *new_password,
			   struct ll_client_error *err)
{
	json_t *body;
	int r;

	if ((r = need_token(c, err)) != 0)
		return r;
	if (old_password == NULL || new_password == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "the old and the new password are needed");
		return LL_ERR_INVALID_ARG;
	}
	body = body_new("old_password", old_password, "new_password",
			new_password, NULL);
	if (body == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "a password is not valid UTF-8 text");
		return LL_ERR_INVALID_ARG;
	}
	r = call(c, "POST", "/api/v1/password", body, 204, NULL, err);
	body_free(body);
	return r;
}

int ll_api_pin_new(struct ll_api_client *c, const char *lock,
		   struct ll_api_pin *out, struct ll_client_error *err)
{
	json_t *body = NULL, *root = NULL;
	int r;

	if ((r = need_token(c, err)) != 0)
		return r;
	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((body = body_new("lock", lock, NULL)) == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0, "bad lock");
		return LL_ERR_INVALID_ARG;
	}
	if ((r = call(c, "POST", "/api/v1/sessions", body, 201, &root, err)) ==
	    LL_OK)
		r = ll_client_parse_pin(root, out, err);
	json_decref(root);
	body_free(body);
	return r;
}

int ll_api_sessions_list(struct ll_api_client *c,
			 struct ll_api_session_list *out,
			 struct ll_client_error *err)
{
	json_t *root = NULL;
	int r;

	if ((r = need_token(c, err)) != 0)
		return r;
	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = call(c, "GET", "/api/v1/sessions", NULL, 200, &root, err)) !=
	    0)
		return r;
	r = ll_client_parse_sessions(root, out, err);
	json_decref(root);
	return r;
}

/* An org's name as the relay's URLs take it (org add: [a-z0-9._-]). */
static bool org_name_ok(const char *org)
{
	size_t n = org != NULL ? strlen(org) : 0;

	if (n == 0 || n > 64)
		return false;
	return strspn(org, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* The relay's answer root, which must be an object, into *out (owned by the
 * caller); freed, with a protocol error, when it is not one. */
static int object_answer(json_t *root, long status, const char *what,
			 json_t **out, struct ll_client_error *err)
{
	if (!json_is_object(root)) {
		json_decref(root);
		ll_client_error_set(err, LL_ERR_PROTOCOL, (int)status, "%s",
				    what);
		return LL_ERR_PROTOCOL;
	}
	*out = root;
	return 0;
}

/* A technician's login name: at most 64 of [A-Za-z0-9._-@], characters
 * that need no escaping in a path. */
static bool tech_name_ok(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	return n > 0 && n <= 64 &&
	       strspn(name,
		      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789._-@") == n;
}

int ll_api_org_policy(struct ll_api_client *c, const char *org,
		      json_t *changes, json_t **out,
		      struct ll_client_error *err)
{
	json_t *root = NULL;
	char *path;
	int r;

	if ((r = need_token(c, err)) != 0)
		return r;
	if (out == NULL || !org_name_ok(org) ||
	    (changes != NULL && !json_is_object(changes))) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "not an org's name, or no policy");
		return LL_ERR_INVALID_ARG;
	}
	path = g_strdup_printf("/api/v1/orgs/%s/policy", org);
	r = call(c, changes != NULL ? "PUT" : "GET", path, changes, 200, &root,
		 err);
	g_free(path);
	if (r != 0)
		return r;
	return object_answer(root, 200,
			     "the relay's policy answer is not an object", out,
			     err);
}

int ll_api_technicians(struct ll_api_client *c, const char *method,
		       const char *name, const char *action, json_t *body,
		       json_t **out, struct ll_client_error *err)
{
	json_t *root = NULL;
	char *path;
	long expect;
	int r;

	if ((r = need_token(c, err)) != 0)
		return r;
	if (out == NULL || (name != NULL && !tech_name_ok(name)) ||
	    (action != NULL && name == NULL)) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "not a technician's name");
		return LL_ERR_INVALID_ARG;
	}
	path = g_strdup_printf("/api/v1/technicians%s%s%s%s", name ? "/" : "",
			       name ? name : "", action ? "/" : "",
			       action ? action : "");
	expect = strcmp(method, "POST") == 0 && name == NULL ? 201 : 200;
	r = call(c, method, path, body, expect, &root, err);
	g_free(path);
	if (r != 0)
		return r;
	return object_answer(root, expect,
			     "the relay's answer is not an object", out, err);
}

int ll_api_live(struct ll_api_client *c, int64_t since, json_t **out,
		struct ll_client_error *err)
{
	json_t *root = NULL;
	char *path;
	int r;

	if ((r = need_token(c, err)) != 0)
		return r;
	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	path = since >= 0 ? g_strdup_printf("/api/v1/live?since=%lld",
					    (long long)since)
			  : g_strdup("/api/v1/live");
	r = call(c, "GET", path, NULL, 200, &root, err);
	g_free(path);
	if (r != 0)
		return r;
	if (!json_is_object(root) ||
	    !json_is_integer(json_object_get(root, "version")) ||
	    !json_is_array(json_object_get(root, "sessions"))) {
		json_decref(root);
		ll_client_error_set(err, LL_ERR_PROTOCOL, 200,
				    "the relay's live answer is not "
				    "{\"version\", \"sessions\"}");
		return LL_ERR_PROTOCOL;
	}
	*out = root;
	return 0;
}

int ll_api_groups(struct ll_api_client *c, const char *method,
		  const char *name, json_t *body, json_t **out,
		  struct ll_client_error *err)
{
	g_autofree char *esc = NULL, *path = NULL;
	bool del = strcmp(method, "DELETE") == 0;
	json_t *root = NULL;
	long expect;
	int r;

	if ((r = need_token(c, err)) != 0)
		return r;
	if (out == NULL ||
	    (name != NULL && (name[0] == '\0' || strlen(name) > 64))) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "not a group's name");
		return LL_ERR_INVALID_ARG;
	}
	*out = NULL;
	if (name != NULL)
		esc = g_uri_escape_string(name, NULL, FALSE);
	path = g_strdup_printf("/api/v1/groups%s%s", esc ? "/" : "",
			       esc ? esc : "");
	expect = del ? 204 : strcmp(method, "POST") == 0 ? 201 : 200;
	r = call(c, method, path, body, expect, del ? NULL : &root, err);
	if (r != 0 || del)
		return r;
	return object_answer(root, expect,
			     "the relay's answer is not an object", out, err);
}

int ll_api_technician_group(struct ll_api_client *c, const char *name,
			    const char *group, struct ll_client_error *err)
{
	g_autofree char *path = NULL;
	json_t *body;
	int r;

	if ((r = need_token(c, err)) != 0)
		return r;
	if (!tech_name_ok(name)) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "not a technician's name");
		return LL_ERR_INVALID_ARG;
	}
	body = json_pack("{s:o}", "group",
			 group != NULL ? json_string(group) : json_null());
	if (body == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "not a group's name");
		return LL_ERR_INVALID_ARG;
	}
	path = g_strdup_printf("/api/v1/technicians/%s/group", name);
	r = call(c, "PUT", path, body, 204, NULL, err);
	json_decref(body);
	return r;
}

int ll_api_session_delete(struct ll_api_client *c, const char *session_id,
			  struct ll_client_error *err)
{
	char *path;
	int r;

	if ((r = need_token(c, err)) != 0)
		return r;
	if ((path = ll_client_session_path(session_id, "", err)) == NULL)
		return LL_ERR_INVALID_ARG;
	r = call(c, "DELETE", path, NULL, 204, NULL, err);
	g_free(path);
	return r;
}

int ll_api_session_event(struct ll_api_client *c, const char *session_id,
			 const char *bearer, const char *type, uint32_t caps,
			 const char *reason, struct ll_client_error *err)
{
	return ll_api_session_event_file(c, session_id, bearer, type, caps,
					 reason, NULL, err);
}

int ll_api_session_event_file(struct ll_api_client *c, const char *session_id,
			      const char *bearer, const char *type,
			      uint32_t caps, const char *reason, json_t *file,
			      struct ll_client_error *err)
{
	json_t *body = NULL, *arr = NULL;
	char *path = NULL;
	uint32_t bit;
	int r;

	ll_client_error_clear(err);
	if (bearer == NULL && (r = need_token(c, err)) != 0)
		return r;
	if (c == NULL || type == NULL || (caps & ~LL_CAP_ALL) != 0) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "bad event arguments");
		return LL_ERR_INVALID_ARG;
	}
	if ((path = ll_client_session_path(session_id, "/events", err)) ==
	    NULL)
		return LL_ERR_INVALID_ARG;
	r = LL_ERR_NOMEM;
	if ((body = json_pack("{s:s}", "type", type)) == NULL)
		goto bad;
	if (caps != 0) {
		if ((arr = json_array()) == NULL)
			goto bad;
		for (bit = 1; bit <= LL_CAP_ALL; bit <<= 1)
			if ((caps & bit) != 0 &&
			    json_array_append_new(arr, json_string(ll_cap_name(
							       bit))))
				goto bad;
		if (json_object_set(body, "capabilities", arr) != 0)
			goto bad;
	}
	if (reason != NULL &&
	    json_object_set_new(body, "reason", json_string(reason)) != 0)
		goto bad;
	if (file != NULL && json_object_set(body, "file", file) != 0)
		goto bad;
	r = ll_client_call(c, "POST", path,
			   bearer != NULL ? bearer : ll_client_token(c), body,
			   204, NULL, NULL, err);
	goto out;
bad:
	r = LL_ERR_INVALID_ARG;
	ll_client_error_set(err, r, 0, "the event is not valid text");
out:
	json_decref(arr);
	json_decref(body);
	g_free(path);
	return r;
}

int ll_api_session_end_reason(struct ll_api_client *c, const char *session_id,
			      const char *ticket,
			      struct ll_api_session_end *out,
			      struct ll_client_error *err)
{
	json_t *root = NULL;
	char *path;
	int r;

	ll_client_error_clear(err);
	if (c == NULL || ticket == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((path = ll_client_session_path(session_id, "/end", err)) == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_client_call(c, "GET", path, ticket, NULL, 200, &root, NULL,
				err)) == LL_OK)
		r = ll_client_parse_session_end(root, out, err);
	json_decref(root);
	g_free(path);
	return r;
}

int ll_api_pin_redeem(struct ll_api_client *c, const char *pin,
		      const char *org, struct ll_api_redeem *out,
		      struct ll_client_error *err)
{
	return ll_api_pin_redeem_launch(c, pin, org, NULL, out, err);
}

int ll_api_pin_redeem_launch(struct ll_api_client *c, const char *pin,
			     const char *org, const char *launch,
			     struct ll_api_redeem *out,
			     struct ll_client_error *err)
{
	struct ll_api_redeem_ask ask = { .pin = pin,
					 .org = org,
					 .launch = launch };

	return ll_api_pin_redeem_ask(c, &ask, out, err);
}

int ll_api_pin_redeem_ask(struct ll_api_client *c,
			  const struct ll_api_redeem_ask *ask,
			  struct ll_api_redeem *out,
			  struct ll_client_error *err)
{
	json_t *body = NULL, *root = NULL;
	int r;

	ll_client_error_clear(err);
	if (c == NULL || ask == NULL || ask->pin == NULL || out == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "a PIN is needed");
		return LL_ERR_INVALID_ARG;
	}
	if ((body = body_new("pin", ask->pin, "org", ask->org, "launch",
			     ask->launch, "applet_config", ask->applet_config,
			     NULL)) == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "the PIN or org is not valid text");
		return LL_ERR_INVALID_ARG;
	}
	if ((r = ll_client_call(c, "POST", "/api/v1/pins/redeem", NULL, body,
				200, &root, NULL, err)) == LL_OK)
		r = ll_client_parse_redeem(root, out, err);
	json_decref(root);
	body_free(body);
	return r;
}

/* ---- channels ---- */

int ll_api_channel_join(struct ll_api_client *c, const char *credential,
			const char *description, struct ll_api_join *out,
			struct ll_client_error *err)
{
	json_t *body = NULL, *root = NULL;
	int r;

	ll_client_error_clear(err);
	if (c == NULL || credential == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if (description != NULL && description[0] == '\0')
		description = NULL;
	if ((body = body_new("credential", credential, "description",
			     description, NULL)) == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "the description is not valid text");
		return LL_ERR_INVALID_ARG;
	}
	if ((r = ll_client_call(c, "POST", "/api/v1/channels/join", NULL, body,
				201, &root, NULL, err)) == 0)
		r = ll_client_parse_join(root, out, err);
	ll_client_json_wipe(root, "ticket");
	json_decref(root);
	body_free(body);
	return r;
}

int ll_api_queue_status(struct ll_api_client *c, const char *ticket,
			struct ll_api_queue_status *out,
			struct ll_client_error *err)
{
	json_t *root = NULL;
	int r;

	ll_client_error_clear(err);
	if (c == NULL || ticket == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_client_call(c, "GET", "/api/v1/queue/entry", ticket, NULL,
				200, &root, NULL, err)) == 0)
		r = ll_client_parse_queue_status(root, ticket, out, err);
	json_decref(root);
	return r;
}

int ll_api_queue_cancel(struct ll_api_client *c, const char *ticket,
			struct ll_client_error *err)
{
	ll_client_error_clear(err);
	if (c == NULL || ticket == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_client_call(c, "DELETE", "/api/v1/queue/entry", ticket, NULL,
			      204, NULL, NULL, err);
}

int ll_api_queue_list(struct ll_api_client *c, struct ll_api_queue_list *out,
		      struct ll_client_error *err)
{
	json_t *root = NULL;
	int r;

	if ((r = need_token(c, err)) != 0)
		return r;
	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = call(c, "GET", "/api/v1/queue", NULL, 200, &root, err)) == 0)
		r = ll_client_parse_queue_list(root, out, err);
	json_decref(root);
	return r;
}

int ll_api_queue_pickup(struct ll_api_client *c, const char *entry_id,
			struct ll_api_pin *out, struct ll_client_error *err)
{
	json_t *root = NULL;
	char *path;
	int r;

	if ((r = need_token(c, err)) != 0)
		return r;
	/* an entry id has the shape of a session id: the same check */
	if (out == NULL ||
	    (path = ll_client_session_path(entry_id, "", err)) == NULL)
		return LL_ERR_INVALID_ARG;
	g_free(path);
	path = g_strconcat("/api/v1/queue/", entry_id, "/pickup", NULL);
	if ((r = call(c, "POST", path, NULL, 201, &root, err)) == 0)
		r = ll_client_parse_pickup(root, out, err);
	ll_client_json_wipe(root, "ticket");
	json_decref(root);
	g_free(path);
	return r;
}

int ll_api_login_sso_start(struct ll_api_client *c, const char *org,
			   const char *code_challenge, struct ll_api_sso *out,
			   struct ll_client_error *err)
{
	json_t *body, *root = NULL;
	int r;

	ll_client_error_clear(err);
	if (c == NULL || code_challenge == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	body = body_new("org", org, "code_challenge", code_challenge, NULL);
	if (body == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "the org is not valid UTF-8 text");
		return LL_ERR_INVALID_ARG;
	}
	r = ll_client_call(c, "POST", "/api/v1/login/sso", NULL, body, 200,
			   &root, NULL, err);
	json_decref(body);
	if (r == 0)
		r = ll_client_parse_sso(root, out, err);
	json_decref(root);
	return r;
}

int ll_api_login_sso_token(struct ll_api_client *c, const char *sso_id,
			   const char *code_verifier, struct ll_api_login *out,
			   int64_t *poll_interval_s,
			   struct ll_client_error *err)
{
	struct ll_client_error e;
	json_t *body, *root = NULL, *pending = NULL;
	int64_t poll;
	int r;

	ll_client_error_clear(err);
	if (c == NULL || sso_id == NULL || code_verifier == NULL ||
	    out == NULL)
		return LL_ERR_INVALID_ARG;
	body = body_new("sso_id", sso_id, "code_verifier", code_verifier,
			NULL);
	if (body == NULL)
		return LL_ERR_NOMEM;
	ll_client_error_clear(&e);
	r = ll_client_call(c, "POST", "/api/v1/login/sso/token", NULL, body,
			   200, &root, &pending, &e);
	body_free(body);
	/* 202: the browser has not come back yet; its body names the pace */
	if (r == LL_ERR_PROTOCOL && e.http_status == 202) {
		if ((r = ll_client_parse_sso_pending(pending, &poll, err)) ==
		    0) {
			if (poll_interval_s != NULL)
				*poll_interval_s = poll;
			r = LL_ERR_WANT_READ;
		}
		json_decref(pending);
		return r;
	}
	json_decref(pending);
	if (r != LL_OK) {
		if (err != NULL)
			*err = e;
		return r;
	}
	r = ll_client_parse_login(root, out, err);
	ll_client_json_wipe(root, "token");
	json_decref(root);
	if (r == LL_OK && (r = ll_api_client_set_token(c, out->token)) != 0) {
		ll_api_login_clear(out);
		ll_client_error_set(err, r, 0, "out of memory");
	}
	return r;
}

int ll_api_mfa_enroll(struct ll_api_client *c, char **uri_out,
		      struct ll_client_error *err)
{
	json_t *body = NULL, *root = NULL, *u;
	int r;

	if ((r = need_token(c, err)) != 0)
		return r;
	if (uri_out == NULL || (body = json_object()) == NULL)
		return LL_ERR_INVALID_ARG;
	r = call(c, "POST", "/api/v1/mfa/enroll", body, 200, &root, err);
	json_decref(body);
	if (r != 0)
		return r;
	u = json_object_get(root, "otpauth_uri");
	if (!json_is_string(u) ||
	    strncmp(json_string_value(u), "otpauth://totp/", 15) != 0) {
		ll_client_error_set(err, LL_ERR_SCHEMA, 0,
				    "the relay's answer has no otpauth_uri");
		r = LL_ERR_SCHEMA;
	} else if ((*uri_out = strdup(json_string_value(u))) == NULL) {
		r = LL_ERR_NOMEM;
	}
	/* the seed is in there: wipe the parsed answer */
	ll_client_json_wipe(root, "otpauth_uri");
	ll_client_json_wipe(root, "secret");
	json_decref(root);
	return r;
}

int ll_api_mfa_confirm(struct ll_api_client *c, const char *code,
		       char ***codes_out, size_t *n_out,
		       struct ll_client_error *err)
{
	json_t *body, *root = NULL, *list, *v;
	char **codes = NULL;
	size_t i, n = 0;
	int r;

	if ((r = need_token(c, err)) != 0)
		return r;
	if (code == NULL || codes_out == NULL || n_out == NULL ||
	    (body = body_new("code", code, NULL)) == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "a code is needed");
		return LL_ERR_INVALID_ARG;
	}
	r = call(c, "POST", "/api/v1/mfa/confirm", body, 200, &root, err);
	body_free(body);
	if (r != 0)
		return r;
	list = json_object_get(root, "recovery_codes");
	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > 100 ||
	    (codes = calloc(json_array_size(list), sizeof(*codes))) == NULL) {
		ll_client_error_set(err, LL_ERR_SCHEMA, 0,
				    "the relay's answer has no recovery_codes");
		r = LL_ERR_SCHEMA;
		goto out;
	}
	json_array_foreach(list, i, v)
	{
		if (!json_is_string(v) || json_string_length(v) > 64 ||
		    (codes[n] = strdup(json_string_value(v))) == NULL) {
			ll_client_error_set(err, LL_ERR_SCHEMA, 0,
					    "a recovery code is not text");
			r = LL_ERR_SCHEMA;
			goto out;
		}
		n++;
		ll_wipe((char *)json_string_value(v), json_string_length(v));
	}
	*codes_out = codes;
	*n_out = n;
	codes = NULL;
out:
	if (codes != NULL) {
		for (i = 0; i < n; i++)
			ll_secret_free(codes[i]);
		free(codes);
	}
	json_decref(root);
	return r;
}
