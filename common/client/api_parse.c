/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The strict parsers of the relay's answers (ll_api_parse.h) and the
 * results' _clear functions, which wipe the secrets.  An answer is one
 * JSON object (ll_client_load_object); each member is read through
 * get_str / get_int / get_time / get_names, which refuse what is missing,
 * mistyped or over its cap.  The calls (api_client.c) and the entry
 * points over bytes that the fuzzer feeds run the very same functions.
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "client_internal.h"
#include "ll_api_client.h"
#include "ll_api_parse.h"
#include "ll_control.h"
#include "ll_crypto.h"
#include "ll_util.h"

/* Wipes a string member's bytes in place before the object goes away
 * (jansson frees without wiping). */
void ll_client_json_wipe(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		ll_wipe((char *)json_string_value(v), json_string_length(v));
}

/*
 * The body of a success answer as a JSON object: duplicate keys refused,
 * capped.  *out is the caller's (json_decref).
 */
int ll_client_load_object(const char *body, size_t len, json_t **out,
			  struct ll_client_error *err)
{
	json_error_t jerr;
	json_t *root;

	if (len > LL_API_MAX_RESPONSE) {
		ll_client_error_set(err, LL_ERR_TOO_LARGE, 0,
				    "the relay's answer is over %u bytes",
				    LL_API_MAX_RESPONSE);
		return LL_ERR_TOO_LARGE;
	}
	if (body == NULL || len == 0) {
		ll_client_error_set(err, LL_ERR_BAD_JSON, 0,
				    "the relay's answer has no body");
		return LL_ERR_BAD_JSON;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		ll_client_error_set(err, LL_ERR_BAD_JSON, 0,
				    "the relay's answer is not JSON: %s",
				    jerr.text);
		return LL_ERR_BAD_JSON;
	}
	if (!json_is_object(root)) {
		ll_client_error_set(err, LL_ERR_SCHEMA, 0,
				    "the relay's answer is not a JSON object");
		json_decref(root);
		return LL_ERR_SCHEMA;
	}
	*out = root;
	return LL_OK;
}

static int schema_err(struct ll_client_error *err, const char *what,
		      const char *key)
{
	ll_client_error_set(err, LL_ERR_SCHEMA, 0,
			    "the relay's answer has a missing or wrong "
			    "\"%s\"%s%s",
			    key, what ? " in " : "", what ? what : "");
	return LL_ERR_SCHEMA;
}

/* A string member: required or not; no NUL inside; at most max bytes. */
static int get_str(json_t *o, const char *key, bool required, size_t max,
		   char **out, struct ll_client_error *err)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	size_t len;

	if (v == NULL || json_is_null(v)) {
		if (required)
			return schema_err(err, NULL, key);
		*out = NULL;
		return LL_OK;
	}
	if (!json_is_string(v))
		return schema_err(err, NULL, key);
	s = json_string_value(v);
	len = json_string_length(v);
	if (strlen(s) != len || len > max)
		return schema_err(err, NULL, key);
	if ((*out = strndup(s, len)) == NULL) {
		ll_client_error_set(err, LL_ERR_NOMEM, 0, "out of memory");
		return LL_ERR_NOMEM;
	}
	return LL_OK;
}

static int get_int(json_t *o, const char *key, bool required, int64_t min,
		   int64_t *out, struct ll_client_error *err)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		if (required)
			return schema_err(err, NULL, key);
		*out = 0;
		return LL_OK;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min)
		return schema_err(err, NULL, key);
	*out = json_integer_value(v);
	return LL_OK;
}

/* A boolean member; absent is false (older relays do not send it). */
static int get_bool(json_t *o, const char *key, bool *out,
		    struct ll_client_error *err)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		*out = false;
		return LL_OK;
	}
	if (!json_is_boolean(v))
		return schema_err(err, NULL, key);
	*out = json_is_true(v);
	return LL_OK;
}

/* An RFC 3339 member to unix seconds (null/absent = 0 unless required). */
static int get_time(json_t *o, const char *key, bool required, int64_t *out,
		    struct ll_client_error *err)
{
	char *s = NULL;
	int64_t t = 0;
	int r;

	if ((r = get_str(o, key, required, 64, &s, err)) != 0)
		return r;
	if (s != NULL && ll_parse_rfc3339(s, &t) != 0) {
		free(s);
		return schema_err(err, NULL, key);
	}
	free(s);
	*out = t;
	return LL_OK;
}

/* An array of capability or permission names.  strv may be NULL (then
 * only the mask is filled); unknown names are kept in strv but not in
 * the mask (permissions include "reports", "admin"). */
static int get_names(json_t *o, const char *key, char ***strv, size_t *n,
		     uint32_t *mask, struct ll_client_error *err)
{
	json_t *a = json_object_get(o, key), *v;
	char **list = NULL;
	uint32_t m = 0;
	size_t i, cnt;

	if (!json_is_array(a) || (cnt = json_array_size(a)) > 64)
		return schema_err(err, NULL, key);
	if (strv != NULL && (list = calloc(cnt + 1, sizeof(*list))) == NULL)
		goto nomem;
	json_array_foreach(a, i, v)
	{
		const char *s = json_string_value(v);

		if (s == NULL || strlen(s) != json_string_length(v) ||
		    json_string_length(v) > 64) {
			g_strfreev(list);
			return schema_err(err, NULL, key);
		}
		m |= ll_cap_from_name(s);
		if (list != NULL && (list[i] = strdup(s)) == NULL) {
			g_strfreev(list);
			goto nomem;
		}
	}
	if (strv != NULL) {
		*strv = list;
		*n = cnt;
	}
	*mask = m;
	return LL_OK;
nomem:
	ll_client_error_set(err, LL_ERR_NOMEM, 0, "out of memory");
	return LL_ERR_NOMEM;
}

void ll_api_technician_clear(struct ll_api_technician *t)
{
	size_t i;

	if (t == NULL)
		return;
	free(t->name);
	free(t->org);
	free(t->display_name);
	free(t->org_display_name);
	if (t->permissions != NULL)
		for (i = 0; t->permissions[i] != NULL; i++)
			free(t->permissions[i]);
	free(t->permissions);
	memset(t, 0, sizeof(*t));
}

void ll_api_login_clear(struct ll_api_login *l)
{
	if (l == NULL)
		return;
	ll_secret_free(l->token);
	ll_secret_free(l->mfa_token);
	ll_api_technician_clear(&l->technician);
	memset(l, 0, sizeof(*l));
}

void ll_api_pin_clear(struct ll_api_pin *p)
{
	if (p == NULL)
		return;
	free(p->session_id);
	ll_secret_free(p->pin);
	free(p->expires_at);
	ll_secret_free(p->ticket);
	memset(p, 0, sizeof(*p));
}

static void session_info_clear(struct ll_api_session_info *s)
{
	free(s->session_id);
	free(s->state);
	free(s->lock);
	free(s->end_reason);
	memset(s, 0, sizeof(*s));
}

void ll_api_session_list_clear(struct ll_api_session_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n_sessions; i++)
		session_info_clear(&l->sessions[i]);
	free(l->sessions);
	memset(l, 0, sizeof(*l));
}

void ll_api_redeem_clear(struct ll_api_redeem *r)
{
	if (r == NULL)
		return;
	free(r->session_id);
	ll_secret_free(r->ticket);
	ll_api_technician_clear(&r->technician);
	free(r->stream_path);
	memset(r, 0, sizeof(*r));
}

int ll_client_parse_login(json_t *root, struct ll_api_login *out,
			  struct ll_client_error *err)
{
	struct ll_api_login l = { 0 };
	json_t *t = json_object_get(root, "technician");
	int r;

	if ((r = get_str(root, "token", true, 1024, &l.token, err)) != 0 ||
	    (r = get_int(root, "expires_in", true, 0, &l.expires_in, err)) !=
		    0 ||
	    (r = get_bool(root, "password_change_required",
			  &l.password_change_required, err)) != 0)
		goto out;
	if (!json_is_object(t)) {
		r = schema_err(err, NULL, "technician");
		goto out;
	}
	if ((r = get_int(t, "id", true, 0, &l.technician.id, err)) != 0 ||
	    (r = get_str(t, "name", true, 1024, &l.technician.name, err)) !=
		    0 ||
	    (r = get_str(t, "org", true, 1024, &l.technician.org, err)) != 0 ||
	    (r = get_names(t, "permissions", &l.technician.permissions,
			   &l.technician.n_permissions, &l.technician.caps,
			   err)) != 0)
		goto out;
	*out = l;
	memset(&l, 0, sizeof(l));
out:
	ll_api_login_clear(&l);
	ll_client_json_wipe(root, "token");
	return r;
}

/* The mfa_token of a 401 mfa_required, at the top level or inside the
 * error object; wiped in root. */
int ll_client_parse_mfa_token(json_t *root, char **out,
			      struct ll_client_error *err)
{
	json_t *holder = json_object_get(root, "mfa_token") != NULL
				 ? root
				 : json_object_get(root, "error");
	int r;

	if (!json_is_object(holder))
		return schema_err(err, NULL, "mfa_token");
	r = get_str(holder, "mfa_token", true, 1024, out, err);
	ll_client_json_wipe(holder, "mfa_token");
	return r;
}

int ll_client_parse_pin(json_t *root, struct ll_api_pin *out,
			struct ll_client_error *err)
{
	struct ll_api_pin p = { 0 };
	int r;

	if ((r = get_str(root, "session_id", true, 128, &p.session_id, err)) !=
		    0 ||
	    (r = get_str(root, "pin", true, 16, &p.pin, err)) != 0 ||
	    (r = get_str(root, "expires_at", true, 64, &p.expires_at, err)) !=
		    0 ||
	    (r = get_str(root, "ticket", true, 1024, &p.ticket, err)) != 0)
		goto out;
	if (!ll_pin_well_formed(p.pin)) {
		r = schema_err(err, NULL, "pin");
		goto out;
	}
	if (ll_parse_rfc3339(p.expires_at, &p.expires_at_unix) != 0) {
		r = schema_err(err, NULL, "expires_at");
		goto out;
	}
	*out = p;
	memset(&p, 0, sizeof(p));
out:
	ll_api_pin_clear(&p);
	ll_client_json_wipe(root, "pin");
	ll_client_json_wipe(root, "ticket");
	return r;
}

int ll_client_parse_sessions(json_t *root, struct ll_api_session_list *out,
			     struct ll_client_error *err)
{
	struct ll_api_session_list l = { 0 };
	json_t *arr, *o;
	int64_t v;
	size_t i;
	int r = LL_OK;

	arr = json_object_get(root, "sessions");
	if (!json_is_array(arr)) {
		r = schema_err(err, NULL, "sessions");
		goto out;
	}
	if (json_array_size(arr) > 0 &&
	    (l.sessions = calloc(json_array_size(arr), sizeof(*l.sessions))) ==
		    NULL) {
		r = LL_ERR_NOMEM;
		ll_client_error_set(err, r, 0, "out of memory");
		goto out;
	}
	json_array_foreach(arr, i, o)
	{
		struct ll_api_session_info *s = &l.sessions[i];

		l.n_sessions = i + 1;
		if (!json_is_object(o)) {
			r = schema_err(err, NULL, "sessions");
			goto out;
		}
		if ((r = get_str(o, "session_id", true, 128, &s->session_id,
				 err)) != 0 ||
		    (r = get_str(o, "state", true, 32, &s->state, err)) != 0 ||
		    (r = get_str(o, "lock", false, 32, &s->lock, err)) != 0 ||
		    (r = get_time(o, "created_at", true, &s->created_at,
				  err)) != 0 ||
		    (r = get_time(o, "expires_at", true, &s->expires_at,
				  err)) != 0 ||
		    (r = get_time(o, "connected_at", false, &s->connected_at,
				  err)) != 0 ||
		    (r = get_time(o, "ended_at", false, &s->ended_at, err)) !=
			    0 ||
		    (r = get_str(o, "end_reason", false, 1024, &s->end_reason,
				 err)) != 0)
			goto out;
		if ((r = get_int(o, "bytes_agent_to_applet", false, 0, &v,
				 err)) != 0)
			goto out;
		s->bytes_agent_to_applet = (uint64_t)v;
		if ((r = get_int(o, "bytes_applet_to_agent", false, 0, &v,
				 err)) != 0)
			goto out;
		s->bytes_applet_to_agent = (uint64_t)v;
	}
	*out = l;
	memset(&l, 0, sizeof(l));
out:
	ll_api_session_list_clear(&l);
	return r;
}

int ll_client_parse_redeem(json_t *root, struct ll_api_redeem *out,
			   struct ll_client_error *err)
{
	struct ll_api_redeem d = { 0 };
	json_t *t;
	int r;

	t = json_object_get(root, "technician");
	if (!json_is_object(t)) {
		r = schema_err(err, NULL, "technician");
		goto out;
	}
	if ((r = get_str(root, "session_id", true, 128, &d.session_id, err)) !=
		    0 ||
	    (r = get_str(root, "ticket", true, 1024, &d.ticket, err)) != 0 ||
	    (r = get_str(t, "name", true, 1024, &d.technician.name, err)) !=
		    0 ||
	    (r = get_str(t, "org", true, 1024, &d.technician.org, err)) != 0 ||
	    /* optional: relays before issue 9 do not send them */
	    (r = get_str(t, "display_name", false, 1024,
			 &d.technician.display_name, err)) != 0 ||
	    (r = get_str(t, "org_display_name", false, 1024,
			 &d.technician.org_display_name, err)) != 0 ||
	    (r = get_names(root, "capabilities", NULL, NULL, &d.capabilities,
			   err)) != 0 ||
	    (r = get_str(root, "stream_path", true, 256, &d.stream_path,
			 err)) != 0)
		goto out;
	if (d.stream_path[0] != '/') {
		r = schema_err(err, NULL, "stream_path");
		goto out;
	}
	d.technician.caps = d.capabilities;
	*out = d;
	memset(&d, 0, sizeof(d));
out:
	ll_api_redeem_clear(&d);
	ll_client_json_wipe(root, "ticket");
	return r;
}

/* ---- channels ---- */

void ll_api_join_clear(struct ll_api_join *j)
{
	if (j == NULL)
		return;
	free(j->entry_id);
	ll_secret_free(j->ticket);
	free(j->org);
	free(j->channel);
	memset(j, 0, sizeof(*j));
}

void ll_api_queue_status_clear(struct ll_api_queue_status *s)
{
	if (s == NULL)
		return;
	ll_api_redeem_clear(&s->redeem);
	memset(s, 0, sizeof(*s));
}

void ll_api_queue_list_clear(struct ll_api_queue_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n_entries; i++) {
		free(l->entries[i].entry_id);
		free(l->entries[i].channel);
		free(l->entries[i].description);
	}
	free(l->entries);
	memset(l, 0, sizeof(*l));
}

int ll_client_parse_join(json_t *root, struct ll_api_join *out,
			 struct ll_client_error *err)
{
	struct ll_api_join j = { 0 };
	int r;

	if ((r = get_str(root, "entry_id", true, 128, &j.entry_id, err)) !=
		    0 ||
	    (r = get_str(root, "ticket", true, 1024, &j.ticket, err)) != 0 ||
	    (r = get_str(root, "org", true, 1024, &j.org, err)) != 0 ||
	    (r = get_str(root, "channel", true, 1024, &j.channel, err)) != 0 ||
	    (r = get_int(root, "position", true, 1, &j.position, err)) != 0 ||
	    (r = get_time(root, "expires_at", false, &j.expires_at, err)) !=
		    0 ||
	    (r = get_int(root, "poll_interval_s", true, 1, &j.poll_interval_s,
			 err)) != 0)
		goto out;
	*out = j;
	memset(&j, 0, sizeof(j));
out:
	ll_api_join_clear(&j);
	return r;
}

int ll_client_parse_queue_status(json_t *root, const char *ticket,
				 struct ll_api_queue_status *out,
				 struct ll_client_error *err)
{
	struct ll_api_queue_status q = { 0 };
	char *state = NULL;
	int r;

	if ((r = get_str(root, "state", true, 32, &state, err)) != 0)
		return r;
	if (strcmp(state, "picked") == 0) {
		/* a redeem's answer but for the ticket, which the waiting
		 * applet holds already: parsed by the same rules */
		q.picked = true;
		if (ticket == NULL ||
		    json_object_set_new(root, "ticket", json_string(ticket)) !=
			    0) {
			r = schema_err(err, NULL, "ticket");
			goto out;
		}
		r = ll_client_parse_redeem(root, &q.redeem, err);
		ll_client_json_wipe(root, "ticket");
		json_object_del(root, "ticket");
	} else if (strcmp(state, "waiting") == 0) {
		if ((r = get_int(root, "position", true, 1, &q.position,
				 err)) == 0 &&
		    (r = get_int(root, "waiting_s", true, 0, &q.waiting_s,
				 err)) == 0)
			r = get_int(root, "poll_interval_s", true, 1,
				    &q.poll_interval_s, err);
	} else {
		r = schema_err(err, NULL, "state");
	}
	if (r == 0) {
		*out = q;
		memset(&q, 0, sizeof(q));
	}
out:
	ll_api_queue_status_clear(&q);
	free(state);
	return r;
}

int ll_client_parse_queue_list(json_t *root, struct ll_api_queue_list *out,
			       struct ll_client_error *err)
{
	json_t *a = json_object_get(root, "entries"), *v;
	struct ll_api_queue_list l = { 0 };
	size_t i, n;
	int r = 0;

	if (!json_is_array(a) || (n = json_array_size(a)) > 10000)
		return schema_err(err, NULL, "entries");
	if (n > 0 && (l.entries = calloc(n, sizeof(*l.entries))) == NULL) {
		ll_client_error_set(err, LL_ERR_NOMEM, 0, "out of memory");
		return LL_ERR_NOMEM;
	}
	json_array_foreach(a, i, v)
	{
		struct ll_api_queue_item *e = &l.entries[i];

		l.n_entries = i + 1;
		if (!json_is_object(v)) {
			r = schema_err(err, "entries", "entry");
			goto out;
		}
		if ((r = get_str(v, "entry_id", true, 128, &e->entry_id,
				 err)) != 0 ||
		    (r = get_str(v, "channel", true, 1024, &e->channel,
				 err)) != 0 ||
		    (r = get_str(v, "description", false, 4096,
				 &e->description, err)) != 0 ||
		    (r = get_int(v, "position", true, 1, &e->position, err)) !=
			    0 ||
		    (r = get_time(v, "waiting_since", true, &e->waiting_since,
				  err)) != 0 ||
		    (r = get_int(v, "waiting_s", true, 0, &e->waiting_s,
				 err)) != 0)
			goto out;
	}
	*out = l;
	memset(&l, 0, sizeof(l));
out:
	ll_api_queue_list_clear(&l);
	return r;
}

int ll_client_parse_pickup(json_t *root, struct ll_api_pin *out,
			   struct ll_client_error *err)
{
	struct ll_api_pin p = { 0 };
	int r;

	if ((r = get_str(root, "session_id", true, 128, &p.session_id, err)) !=
		    0 ||
	    (r = get_str(root, "ticket", true, 1024, &p.ticket, err)) != 0 ||
	    (r = get_str(root, "expires_at", true, 64, &p.expires_at, err)) !=
		    0)
		goto out;
	if (ll_parse_rfc3339(p.expires_at, &p.expires_at_unix) != 0) {
		r = schema_err(err, NULL, "expires_at");
		goto out;
	}
	*out = p;
	memset(&p, 0, sizeof(p));
out:
	ll_api_pin_clear(&p);
	return r;
}

/* ---- single sign-on ---- */

void ll_api_sso_clear(struct ll_api_sso *s)
{
	if (s == NULL)
		return;
	free(s->authorize_url);
	ll_secret_free(s->sso_id);
	memset(s, 0, sizeof(*s));
}

/* The pace the relay names for login/sso/token: at least a second (a
 * relay cannot make the agent hammer it), at most a minute (nor make it
 * miss the browser's return for long). */
static int get_poll(json_t *root, int64_t *out, struct ll_client_error *err)
{
	int64_t v;
	int r;

	if ((r = get_int(root, "poll_interval", true, 1, &v, err)) != 0)
		return r;
	if (v > 60)
		return schema_err(err, NULL, "poll_interval");
	*out = v;
	return LL_OK;
}

/* What the agent hands the system browser: a web page, never a file: or
 * another program's scheme, and no space or control character that a
 * launcher could split or show otherwise. */
static bool browser_url(const char *u)
{
	const unsigned char *p;

	if (strncmp(u, "https://", 8) != 0 || u[8] == '\0')
		return false;
	for (p = (const unsigned char *)u; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

int ll_client_parse_sso(json_t *root, struct ll_api_sso *out,
			struct ll_client_error *err)
{
	struct ll_api_sso s = { 0 };
	int r;

	if ((r = get_str(root, "authorize_url", true, 8192, &s.authorize_url,
			 err)) != 0 ||
	    (r = get_str(root, "sso_id", true, 64, &s.sso_id, err)) != 0 ||
	    (r = get_int(root, "expires_in", true, 1, &s.expires_in, err)) !=
		    0 ||
	    (r = get_poll(root, &s.poll_interval_s, err)) != 0)
		goto out;
	if (!browser_url(s.authorize_url)) {
		r = schema_err(err, NULL, "authorize_url");
		goto out;
	}
	if (s.sso_id[0] == '\0') {
		r = schema_err(err, NULL, "sso_id");
		goto out;
	}
	*out = s;
	memset(&s, 0, sizeof(s));
out:
	ll_api_sso_clear(&s);
	ll_client_json_wipe(root, "sso_id");
	return r;
}

int ll_client_parse_sso_pending(json_t *root, int64_t *poll_interval_s,
				struct ll_client_error *err)
{
	char *status = NULL;
	int64_t poll = 0;
	int r;

	if ((r = get_str(root, "status", true, 32, &status, err)) == 0 &&
	    strcmp(status, "pending") != 0)
		r = schema_err(err, NULL, "status");
	if (r == 0 && (r = get_poll(root, &poll, err)) == 0)
		*poll_interval_s = poll;
	free(status);
	return r;
}

/* ------------------------------------------------ parsers over the body */

/* What every parser over bytes does first: the answer's object in *root
 * (the caller's), or an error in err. */
static int body_load(const char *body, size_t len, const void *out,
		     json_t **root, struct ll_client_error *err)
{
	ll_client_error_clear(err);
	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_client_load_object(body, len, root, err);
}

/*
 * ll_api_parse_NAME(body, len, out, err): the body loaded as an object,
 * read by ll_client_parse_NAME, the secret member WIPE (or none, NULL)
 * wiped before the tree is freed.  One definition of what every parser of
 * a whole answer does around the parser of its object.
 */
#define API_PARSE_BODY(name, type, wipe)                                      \
	int ll_api_parse_##name(const char *body, size_t len, type *out,      \
				struct ll_client_error *err)                  \
	{                                                                     \
		const char *secret = (wipe);                                  \
		json_t *root;                                                 \
		int r;                                                        \
                                                                              \
		if ((r = body_load(body, len, out, &root, err)) != LL_OK)     \
			return r;                                             \
		r = ll_client_parse_##name(root, out, err);                   \
		if (secret != NULL)                                           \
			ll_client_json_wipe(root, secret);                    \
		json_decref(root);                                            \
		return r;                                                     \
	}

int ll_api_parse_queue_status(const char *body, size_t len, const char *ticket,
			      struct ll_api_queue_status *out,
			      struct ll_client_error *err)
{
	json_t *root;
	int r;

	if ((r = body_load(body, len, out, &root, err)) != LL_OK)
		return r;
	r = ll_client_parse_queue_status(root, ticket, out, err);
	json_decref(root);
	return r;
}

/* A word of [a-z_] of at most max - 1 bytes into out[max]; absent or
 * null is "" when not required. */
static int get_word(json_t *o, const char *key, bool required, char *out,
		    size_t max, struct ll_client_error *err)
{
	char *s = NULL;
	size_t i;
	int r;

	if ((r = get_str(o, key, required, max - 1, &s, err)) != LL_OK)
		return r;
	for (i = 0; s != NULL && s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_')) {
			free(s);
			return schema_err(err, NULL, key);
		}
	if (s != NULL && i == 0)
		r = schema_err(err, NULL, key);
	else
		g_strlcpy(out, s != NULL ? s : "", max);
	free(s);
	return r;
}

int ll_client_parse_session_end(json_t *root, struct ll_api_session_end *out,
				struct ll_client_error *err)
{
	struct ll_api_session_end e = { { 0 }, { 0 } };
	int r;

	if ((r = get_word(root, "state", true, e.state, sizeof(e.state),
			  err)) == LL_OK &&
	    (r = get_word(root, "end_reason", false, e.end_reason,
			  sizeof(e.end_reason), err)) == LL_OK)
		*out = e;
	return r;
}

API_PARSE_BODY(login, struct ll_api_login, NULL)
API_PARSE_BODY(mfa_token, char *, NULL)
API_PARSE_BODY(pin, struct ll_api_pin, NULL)
API_PARSE_BODY(sessions, struct ll_api_session_list, NULL)
API_PARSE_BODY(redeem, struct ll_api_redeem, NULL)
API_PARSE_BODY(join, struct ll_api_join, "ticket")
API_PARSE_BODY(session_end, struct ll_api_session_end, NULL)
API_PARSE_BODY(queue_list, struct ll_api_queue_list, NULL)
API_PARSE_BODY(pickup, struct ll_api_pin, "ticket")
API_PARSE_BODY(sso, struct ll_api_sso, NULL)
API_PARSE_BODY(sso_pending, int64_t, NULL)
