/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Technician groups and permissions (docs/API.md "Groups and
 * permissions") against a real relay: the CLI (`group ...`, `technician
 * add|set --group`, `technician list`), the admin API (and `forbidden`
 * for everyone else), the login answer's permissions, the redeem answer's
 * capabilities for every capability a group may leave out, consent
 * reports beyond them refused (`capability_not_permitted`), and live
 * sessions (real streams) ended within the deadline when a group loses
 * a permission, a technician moves to a narrower group, or is disabled,
 * while a widening ends nothing.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static struct lh_relay *relay;

/* How soon a narrowing ends the sessions it must: the relay looks once a
 * second (ll_api_periodic); what is left covers a loaded machine. */
#define END_DEADLINE_MS 2500

static const char *const all_caps[] = { "view", "control", "files",
					"chat", "sysinfo", "clipboard" };

static int cli(char **out, char **err, const char *a, const char *b,
	       const char *c, const char *d, const char *e)
{
	return lh_relay_cmd(relay, NULL, out, err, a, b, c, d, e, NULL);
}

/* The array of names at key of o, as one "a,b,c" string. */
static char *names(json_t *o, const char *key)
{
	json_t *a = json_object_get(o, key), *v;
	GString *s = g_string_new(NULL);
	size_t i;

	g_assert_true(json_is_array(a));
	json_array_foreach(a, i, v)
	{
		g_assert_true(json_is_string(v));
		g_string_append_printf(s, "%s%s", i ? "," : "",
				       json_string_value(v));
	}
	return g_string_free(s, FALSE);
}

static struct lh_resp *req(const char *method, const char *path,
			   const char *bearer, const char *body)
{
	struct lh_req q = {
		.method = method, .path = path, .bearer = bearer, .body = body
	};

	return lh_do(relay, &q);
}

/* req, and asserts the answer's status (and nothing else of it). */
static void req_status(const char *method, const char *path,
		       const char *bearer, const char *body, int status)
{
	struct lh_resp *r = req(method, path, bearer, body);

	g_assert_cmpint(r->status, ==, status);
	lh_resp_free(r);
}

/* req, and asserts the refusal with status and code. */
static void req_error(const char *method, const char *path, const char *bearer,
		      const char *body, int status, const char *code)
{
	struct lh_resp *r = req(method, path, bearer, body);

	lh_assert_error(r, status, code);
	lh_resp_free(r);
}

static void tech_in_group(const char *user, const char *group)
{
	g_autofree char *err = NULL;

	if (cli(NULL, &err, "technician", "set", user, "--group", group) != 0)
		g_error("technician set %s --group %s: %s", user, group, err);
}

static void group_cmd(const char *sub, const char *name, const char *perms)
{
	g_autofree char *err = NULL;

	if (cli(NULL, &err, "group", sub, name, "--permissions", perms) != 0)
		g_error("group %s %s %s: %s", sub, name, perms, err);
}

/* Redeems a new PIN of token's technician: the answer's capabilities. */
static char *redeem_caps(const char *token, struct lh_session *s)
{
	json_t *body;
	struct lh_resp *r;
	char *caps;

	lh_pin_new(relay, token, NULL, &s->pin);
	body = json_pack("{ss}", "pin", s->pin.pin);
	r = lh_post(relay, "/api/v1/pins/redeem", NULL, body);
	json_decref(body);
	g_assert_cmpint(r->status, ==, 200);
	s->applet_ticket = g_strdup(lh_resp_str(r, "ticket"));
	lh_secret("ticket", s->applet_ticket);
	caps = names(r->json, "capabilities");
	lh_resp_free(r);
	return caps;
}

static char *login_perms(const char *user)
{
	json_t *b = json_pack("{ssss}", "username", user, "password",
			      LH_CANARY_PASSWORD);
	struct lh_resp *r = lh_post(relay, "/api/v1/login", NULL, b);
	char *p;

	json_decref(b);
	g_assert_cmpint(r->status, ==, 200);
	p = names(json_object_get(r->json, "technician"), "permissions");
	lh_resp_free(r);
	return p;
}

/* The newest audit record of action, as JSON (new reference). */
static json_t *last_audit(const char *action)
{
	json_t *all = lh_audit_records(relay, action), *rec;

	g_assert_cmpuint(json_array_size(all), >, 0);
	rec = json_incref(json_array_get(all, json_array_size(all) - 1));
	json_decref(all);
	return rec;
}

/* What the CLI refuses, and how it says so. */
static void test_cli_refusals(void)
{
	g_autofree char *err = NULL;

	group_cmd("add", "cli-refused", "view,chat");
	g_assert_cmpint(cli(NULL, &err, "group", "add", "cli-refused",
			    "--permissions", "view"),
			!=, 0);
	g_assert_nonnull(strstr(err, "already exists"));
	g_clear_pointer(&err, g_free);
	/* unknown, repeated, empty items: refused before the store */
	g_assert_cmpint(cli(NULL, &err, "group", "add", "x", "--permissions",
			    "view,teleport"),
			==, 2);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(cli(NULL, &err, "group", "add", "x", "--permissions",
			    "view,view"),
			==, 2);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(cli(NULL, &err, "group", "add", "x", NULL, NULL), ==,
			2);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(cli(NULL, &err, "group", "set", "nope",
			    "--permissions", "view"),
			==, 1);
	g_assert_nonnull(strstr(err, "not found"));
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(cli(NULL, &err, "technician", "set", "erin", "--group",
			    "nope"),
			==, 1);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, &err, "technician",
				     "set", "erin", "--group", "cli-refused",
				     "--no-group", NULL),
			==, 2);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(cli(NULL, NULL, "group", "remove", "cli-refused", NULL,
			    NULL),
			==, 0);
}

static void test_cli(void)
{
	g_autofree char *out = NULL, *err = NULL, *old = NULL, *now = NULL;
	json_t *doc, *g, *rec, *d;
	size_t i;
	bool seen = false;

	group_cmd("add", "cli-group", "view,chat");
	tech_in_group("erin", "cli-group");
	/* with a member it stays */
	g_assert_cmpint(cli(NULL, &err, "group", "remove", "cli-group", NULL,
			    NULL),
			==, 1);
	g_assert_nonnull(strstr(err, "still has 1"));
	g_clear_pointer(&err, g_free);

	g_assert_cmpint(cli(&out, NULL, "group", "list", "--json", NULL, NULL),
			==, 0);
	doc = json_loads(out, 0, NULL);
	g_assert_nonnull(doc);
	json_array_foreach(json_object_get(doc, "groups"), i, g)
	{
		g_autofree char *p = NULL;

		if (g_strcmp0(json_string_value(json_object_get(g, "name")),
			      "cli-group") != 0)
			continue;
		seen = true;
		p = names(g, "permissions");
		g_assert_cmpstr(p, ==, "view,chat");
		g_assert_cmpint(json_integer_value(
					json_object_get(g, "members")),
				==, 1);
	}
	g_assert_true(seen);
	json_decref(doc);
	g_clear_pointer(&out, g_free);

	g_assert_cmpint(cli(&out, NULL, "technician", "list", "--json", NULL,
			    NULL),
			==, 0);
	doc = json_loads(out, 0, NULL);
	seen = false;
	json_array_foreach(json_object_get(doc, "technicians"), i, g)
	{
		if (g_strcmp0(json_string_value(json_object_get(g, "name")),
			      "erin") == 0) {
			seen = true;
			g_assert_cmpstr(json_string_value(
						json_object_get(g, "group")),
					==, "cli-group");
		}
	}
	g_assert_true(seen);
	json_decref(doc);
	g_clear_pointer(&out, g_free);
	g_assert_cmpint(cli(&out, NULL, "technician", "list", NULL, NULL,
			    NULL),
			==, 0);
	g_assert_nonnull(strstr(out, "cli-group"));
	g_clear_pointer(&out, g_free);

	/* the audit has the old value and the new */
	group_cmd("set", "cli-group", "view");
	rec = last_audit("group.set");
	d = json_object_get(rec, "detail");
	old = names(d, "old_permissions");
	now = names(d, "permissions");
	g_assert_cmpstr(old, ==, "view,chat");
	g_assert_cmpstr(now, ==, "view");
	g_assert_cmpstr(json_string_value(json_object_get(rec, "actor")), ==,
			"cli");
	json_decref(rec);
	rec = last_audit("technician.set");
	d = json_object_get(rec, "detail");
	g_assert_true(json_is_null(json_object_get(d, "old_group")));
	g_assert_cmpstr(json_string_value(json_object_get(d, "group")), ==,
			"cli-group");
	json_decref(rec);

	g_assert_cmpint(cli(NULL, NULL, "technician", "set", "erin",
			    "--no-group", NULL),
			==, 0);
	g_assert_cmpint(cli(NULL, NULL, "group", "remove", "cli-group", NULL,
			    NULL),
			==, 0);
	g_assert_cmpint(cli(NULL, &err, "group", "remove", "cli-group", NULL,
			    NULL),
			==, 1);
	g_clear_pointer(&err, g_free);
	rec = last_audit("group.remove");
	g_assert_cmpstr(json_string_value(
				json_object_get(json_object_get(rec, "detail"),
						"group")),
			==, "cli-group");
	json_decref(rec);
}

/* What the login answer says: exactly the group's, reports and admin for
 * an administrator, every capability without a group. */
static void test_login_permissions(void)
{
	g_autofree char *none = NULL, *admin = NULL, *grouped = NULL,
			*admin_grouped = NULL;

	none = login_perms("erin");
	g_assert_cmpstr(none, ==, "view,control,files,chat,sysinfo,clipboard");
	admin = login_perms("root");
	g_assert_cmpstr(admin, ==,
			"view,control,files,chat,sysinfo,clipboard,reports,"
			"admin");
	group_cmd("add", "login-group", "chat,clipboard");
	tech_in_group("erin", "login-group");
	tech_in_group("root", "login-group");
	grouped = login_perms("erin");
	g_assert_cmpstr(grouped, ==, "chat,clipboard");
	admin_grouped = login_perms("root");
	g_assert_cmpstr(admin_grouped, ==, "chat,clipboard,reports,admin");
	g_assert_cmpint(cli(NULL, NULL, "technician", "set", "erin",
			    "--no-group", NULL),
			==, 0);
	g_assert_cmpint(cli(NULL, NULL, "technician", "set", "root",
			    "--no-group", NULL),
			==, 0);
}

/* For every capability: a group without it, and the redeem answer leaves
 * it out; a consent report naming it is refused as not permitted and
 * recorded so, and one within the rest is taken. */
static void test_redeem_every_capability(void)
{
	g_autofree char *tok = NULL;
	size_t i, j;

	group_cmd("add", "each-group", "view");
	tech_in_group("erin", "each-group");
	for (i = 0; i < G_N_ELEMENTS(all_caps); i++) {
		GString *rest = g_string_new(NULL);
		g_autofree char *caps = NULL, *path = NULL, *body = NULL;
		g_autofree char *want = NULL;
		struct lh_session s = { 0 };
		struct lh_resp *r;
		json_t *rec;

		for (j = 0; j < G_N_ELEMENTS(all_caps); j++)
			if (j != i)
				g_string_append_printf(rest, "%s%s",
						       rest->len ? "," : "",
						       all_caps[j]);
		want = g_strdup(rest->str);
		group_cmd("set", "each-group", rest->str);
		g_string_free(rest, TRUE);
		g_free(tok);
		tok = lh_login(relay, "erin", LH_CANARY_PASSWORD);
		caps = redeem_caps(tok, &s);
		g_assert_cmpstr(caps, ==, want);

		path = g_strdup_printf("/api/v1/sessions/%s/events",
				       s.pin.session_id);
		body = g_strdup_printf("{\"type\":\"consent\","
				       "\"capabilities\":[\"%s\"]}",
				       all_caps[i]);
		req_error("POST", path, s.applet_ticket, body, 403,
			  "capability_not_permitted");
		rec = last_audit("session.event");
		g_assert_cmpstr(json_string_value(
					json_object_get(rec, "outcome")),
				==, "capability_not_permitted");
		json_decref(rec);
		g_free(body);
		body = g_strdup_printf(
			"{\"type\":\"consent\","
			"\"capabilities\":[\"%s\"]}",
			all_caps[(i + 1) % G_N_ELEMENTS(all_caps)]);
		req_status("POST", path, s.applet_ticket, body, 204);
		/* a file's report (#13) needs the files permission, and
		 * says what moved */
		g_free(body);
		body = g_strdup("{\"type\":\"file\",\"reason\":"
				"\"received done size=4 sha256=ab name=a\"}");
		r = req("POST", path, s.applet_ticket, body);
		g_assert_cmpint(r->status, ==,
				strcmp(all_caps[i], "files") == 0 ? 403 : 204);
		lh_resp_free(r);
		req_status("POST", path, s.applet_ticket,
			   "{\"type\":\"file\"}", 400);
		/* the applet's own report of a refused request */
		g_free(body);
		body = g_strdup_printf("{\"type\":\"not_permitted\","
				       "\"capabilities\":[\"%s\"]}",
				       all_caps[i]);
		req_status("POST", path, s.applet_ticket, body, 204);
		rec = last_audit("session.event");
		g_assert_cmpstr(json_string_value(json_object_get(
					json_object_get(rec, "detail"),
					"flag")),
				==, "not_permitted");
		json_decref(rec);
		g_free(path);
		path = g_strdup_printf("/api/v1/sessions/%s",
				       s.pin.session_id);
		r = lh_delete(relay, path, tok);
		g_assert_cmpint(r->status, ==, 204);
		lh_resp_free(r);
		lh_session_clear(&s);
	}
	g_assert_cmpint(cli(NULL, NULL, "technician", "set", "erin",
			    "--no-group", NULL),
			==, 0);
}

/* The admin API: every route refused to a technician without admin
 * (forbidden) and to no one at all (unauthorized). */
static void test_api_forbidden(void)
{
	static const struct {
		const char *method, *path, *body;
	} routes[] = {
		{ "GET", "/api/v1/groups", NULL },
		{ "POST", "/api/v1/groups",
		  "{\"name\":\"api-group\",\"permissions\":[\"view\"]}" },
		{ "PUT", "/api/v1/groups/api-group",
		  "{\"permissions\":[\"view\"]}" },
		{ "DELETE", "/api/v1/groups/api-group", NULL },
		{ "PUT", "/api/v1/technicians/erin/group",
		  "{\"group\":\"api-group\"}" },
	};
	g_autofree char *user = NULL;
	size_t i;

	user = lh_login(relay, "erin", LH_CANARY_PASSWORD);
	for (i = 0; i < G_N_ELEMENTS(routes); i++) {
		req_error(routes[i].method, routes[i].path, user,
			  routes[i].body, 403, "forbidden");
		req_error(routes[i].method, routes[i].path, NULL,
			  routes[i].body, 401, "unauthorized");
	}
}

/* What each admin route does for an administrator. */
static void test_api(void)
{
	g_autofree char *user = NULL, *adm = NULL, *p = NULL;
	struct lh_resp *r;
	json_t *rec, *d;

	adm = lh_login(relay, "root", LH_CANARY_PASSWORD);

	r = req("POST", "/api/v1/groups", adm,
		"{\"name\":\"api-group\",\"permissions\":[\"view\",\"chat\"]}");
	g_assert_cmpint(r->status, ==, 201);
	p = names(r->json, "permissions");
	g_assert_cmpstr(p, ==, "view,chat");
	g_clear_pointer(&p, g_free);
	lh_resp_free(r);
	req_error("POST", "/api/v1/groups", adm,
		  "{\"name\":\"api-group\",\"permissions\":[]}", 409,
		  "conflict");
	req_error("POST", "/api/v1/groups", adm,
		  "{\"name\":\"bad\",\"permissions\":[\"view\",\"view\"]}",
		  400, "bad_request");
	req_error("POST", "/api/v1/groups", adm,
		  "{\"name\":\"bad\",\"permissions\":[\"root\"]}", 400,
		  "bad_request");
	req_error("POST", "/api/v1/groups", adm,
		  "{\"name\":\"\\u0007x\",\"permissions\":[]}", 400,
		  "bad_request");

	r = req("PUT", "/api/v1/groups/api-group", adm,
		"{\"permissions\":[\"view\",\"files\"]}");
	g_assert_cmpint(r->status, ==, 200);
	p = names(r->json, "permissions");
	g_assert_cmpstr(p, ==, "view,files");
	g_clear_pointer(&p, g_free);
	lh_resp_free(r);
	rec = last_audit("group.set");
	d = json_object_get(rec, "detail");
	p = names(d, "old_permissions");
	g_assert_cmpstr(p, ==, "view,chat");
	g_clear_pointer(&p, g_free);
	g_assert_cmpstr(json_string_value(json_object_get(rec, "actor")), ==,
			"technician:root");
	json_decref(rec);
	req_error("PUT", "/api/v1/groups/nope", adm, "{\"permissions\":[]}",
		  404, "not_found");

	req_status("PUT", "/api/v1/technicians/erin/group", adm,
		   "{\"group\":\"api-group\"}", 204);
	p = login_perms("erin");
	g_assert_cmpstr(p, ==, "view,files");
	g_clear_pointer(&p, g_free);
	req_error("PUT", "/api/v1/technicians/erin/group", adm,
		  "{\"group\":\"nope\"}", 404, "not_found");
	req_error("PUT", "/api/v1/technicians/nobody/group", adm,
		  "{\"group\":\"api-group\"}", 404, "not_found");
	req_error("PUT", "/api/v1/technicians/erin/group", adm,
		  "{\"group\":7}", 400, "bad_request");

	r = req("GET", "/api/v1/groups", adm, NULL);
	g_assert_cmpint(r->status, ==, 200);
	g_assert_true(json_is_array(json_object_get(r->json, "groups")));
	lh_resp_free(r);

	req_error("DELETE", "/api/v1/groups/api-group", adm, NULL, 409,
		  "conflict");
	req_status("PUT", "/api/v1/technicians/erin/group", adm,
		   "{\"group\":null}", 204);
	rec = last_audit("technician.set");
	d = json_object_get(rec, "detail");
	g_assert_cmpstr(json_string_value(json_object_get(d, "old_group")), ==,
			"api-group");
	g_assert_true(json_is_null(json_object_get(d, "group")));
	json_decref(rec);
	req_status("DELETE", "/api/v1/groups/api-group", adm, NULL, 204);
	req_error("DELETE", "/api/v1/groups/api-group", adm, NULL, 404,
		  "not_found");

	/* a group granting admin makes its members administrators */
	group_cmd("add", "admins", "view,admin");
	tech_in_group("erin", "admins");
	g_free(user);
	user = lh_login(relay, "erin", LH_CANARY_PASSWORD);
	req_status("GET", "/api/v1/groups", user, NULL, 200);
	g_assert_cmpint(cli(NULL, NULL, "technician", "set", "erin",
			    "--no-group", NULL),
			==, 0);
}

/* A paired session of user (in whatever group it is). */
static void live_session(const char *tok, struct lh_session *s,
			 struct lh_conn **a, struct lh_conn **b)
{
	lh_session_new(relay, tok, s);
	lh_pair_open(relay, s, a, b);
	lh_pair_ping(*a, *b);
}

static void wait_ended(struct lh_conn *a, struct lh_conn *b, int64_t t0,
		       const char *what)
{
	int64_t ta, tb;

	g_assert_cmpint(lh_conn_wait_closed(a, 5000), ==, LL_OK);
	ta = lh_now_ms() - t0;
	g_assert_cmpint(lh_conn_wait_closed(b, 5000), ==, LL_OK);
	tb = lh_now_ms() - t0;
	g_test_message("%s: streams closed %" G_GINT64_FORMAT
		       " / %" G_GINT64_FORMAT " ms after",
		       what, ta, tb);
	g_assert_cmpint(MAX(ta, tb), <=, END_DEADLINE_MS);
}

static const char *end_reason(const char *tok, const char *id)
{
	static char reason[64];
	struct lh_resp *r = lh_get(relay, "/api/v1/sessions", tok);
	const char *e;
	json_t *v;
	size_t i;

	reason[0] = '\0';
	g_assert_cmpint(r->status, ==, 200);
	json_array_foreach(json_object_get(r->json, "sessions"), i, v)
	{
		if (g_strcmp0(json_string_value(
				      json_object_get(v, "session_id")),
			      id) == 0)
			if ((e = json_string_value(
				     json_object_get(v, "end_reason"))) !=
			    NULL)
				g_strlcpy(reason, e, sizeof(reason));
	}
	lh_resp_free(r);
	return reason;
}

/* GET /api/v1/sessions/ID/end with bearer: its status, and the
 * end_reason of a 200 into reason (empty for null). */
static int end_of(const char *id, const char *bearer, char *reason, size_t len)
{
	g_autofree char *path = g_strdup_printf("/api/v1/sessions/%s/end", id);
	struct lh_resp *r = req("GET", path, bearer, NULL);
	int status = r->status;

	reason[0] = '\0';
	if (status == 200) {
		g_assert_cmpstr(lh_resp_str(r, "state"), ==, "ended");
		g_strlcpy(reason,
			  json_is_null(json_object_get(r->json, "end_reason"))
				  ? ""
				  : lh_resp_str(r, "end_reason"),
			  len);
	}
	lh_resp_free(r);
	return status;
}

/*
 * The applet learns why the relay ended its session (issue 11) with its
 * own ticket, as a fixed code; nobody else learns it that way: the
 * agent's ticket, another session's applet ticket and a token get 404
 * or 401, and a ticket of no session 401.
 */
static void check_end_reason(const struct lh_session *s,
			     const struct lh_session *other, const char *tok,
			     const char *want)
{
	char reason[64];

	g_assert_cmpint(end_of(s->pin.session_id, s->applet_ticket, reason,
			       sizeof(reason)),
			==, 200);
	g_assert_cmpstr(reason, ==, want);
	g_assert_cmpint(end_of(s->pin.session_id, s->pin.agent_ticket, reason,
			       sizeof(reason)),
			==, 404);
	g_assert_cmpint(end_of(s->pin.session_id, other->applet_ticket, reason,
			       sizeof(reason)),
			==, 404);
	g_assert_cmpint(end_of(other->pin.session_id, s->applet_ticket, reason,
			       sizeof(reason)),
			==, 404);
	g_assert_cmpint(end_of(s->pin.session_id, tok, reason, sizeof(reason)),
			==, 401);
	g_assert_cmpint(end_of(s->pin.session_id, "not-a-ticket", reason,
			       sizeof(reason)),
			==, 401);
}

static void test_withdraw_ends_session(void)
{
	g_autofree char *tok = NULL, *tok2 = NULL;
	struct lh_session s = { 0 }, s2 = { 0 }, s3 = { 0 };
	struct lh_conn *a, *b, *a2, *b2, *a3, *b3;
	int64_t t0;

	group_cmd("add", "live", "view,control,chat");
	group_cmd("add", "narrow", "view");
	group_cmd("add", "steady", "view,control");
	tech_in_group("erin", "live");
	tech_in_group("fred", "steady");
	tok = lh_login(relay, "erin", LH_CANARY_PASSWORD);
	tok2 = lh_login(relay, "fred", LH_CANARY_PASSWORD);

	/* a widening ends nothing: fred's session outlives the narrowing
	 * of erin's group below, which the tick must have seen */
	live_session(tok2, &s2, &a2, &b2);
	group_cmd("set", "steady", "view,control,files,chat");

	/* `group set` takes control away: erin's session ends */
	live_session(tok, &s, &a, &b);
	t0 = lh_now_ms();
	group_cmd("set", "live", "view,chat");
	wait_ended(a, b, t0, "group set");
	g_assert_cmpstr(end_reason(tok, s.pin.session_id), ==,
			"permission withdrawn");
	lh_pair_ping(a2, b2); /* fred's goes on */
	check_end_reason(&s, &s2, tok, "permission_withdrawn");
	{
		/* fred's goes on: its applet learns it is not over */
		g_autofree char *p = g_strdup_printf("/api/v1/sessions/%s/end",
						     s2.pin.session_id);
		struct lh_resp *r = req("GET", p, s2.applet_ticket, NULL);

		g_assert_cmpint(r->status, ==, 200);
		g_assert_cmpstr(lh_resp_str(r, "state"), ==, "connected");
		g_assert_true(
			json_is_null(json_object_get(r->json, "end_reason")));
		lh_resp_free(r);
	}

	/* a new session carries only view,chat now; moving her to a
	 * narrower group ends it */
	live_session(tok, &s3, &a3, &b3);
	t0 = lh_now_ms();
	tech_in_group("erin", "narrow");
	wait_ended(a3, b3, t0, "technician set --group");
	lh_pair_ping(a2, b2);

	/* through the API, by an administrator */
	lh_conn_free(a);
	lh_conn_free(b);
	lh_session_clear(&s);
	{
		g_autofree char *adm = lh_login(relay, "root",
						LH_CANARY_PASSWORD);

		t0 = lh_now_ms();
		req_status("PUT", "/api/v1/groups/steady", adm,
			   "{\"permissions\":[\"view\"]}", 200);
		wait_ended(a2, b2, t0, "PUT /api/v1/groups/steady");
		g_assert_cmpstr(end_reason(tok2, s2.pin.session_id), ==,
				"permission withdrawn");
	}
	g_assert_cmpint(lh_relay_log_count(relay, "no longer holds a "
						  "permission"),
			>=, 3);

	/* disabling erin ends her session: its applet learns why all the
	 * same, for 30 s */
	{
		struct lh_session s4 = { 0 };
		struct lh_conn *a4, *b4;
		char reason[64];

		live_session(tok, &s4, &a4, &b4);
		t0 = lh_now_ms();
		g_assert_cmpint(cli(NULL, NULL, "technician", "disable",
				    "erin", NULL, NULL),
				==, 0);
		wait_ended(a4, b4, t0, "technician disable");
		check_end_reason(&s4, &s3, tok, "technician_disabled");
		if (lh_relay_clock_advance(relay, 31))
			g_assert_cmpint(end_of(s4.pin.session_id,
					       s4.applet_ticket, reason,
					       sizeof(reason)),
					==, 404);
		g_assert_cmpint(cli(NULL, NULL, "technician", "enable", "erin",
				    NULL, NULL),
				==, 0);
		lh_conn_free(a4);
		lh_conn_free(b4);
		lh_session_clear(&s4);
	}

	lh_conn_free(a2);
	lh_conn_free(b2);
	lh_conn_free(a3);
	lh_conn_free(b3);
	lh_session_clear(&s2);
	lh_session_clear(&s3);
	g_assert_cmpint(cli(NULL, NULL, "technician", "set", "erin",
			    "--no-group", NULL),
			==, 0);
	g_assert_cmpint(cli(NULL, NULL, "technician", "set", "fred",
			    "--no-group", NULL),
			==, 0);
}

/* How many of the queue's entries the token's technician sees are
 * entry. */
static int queue_has(const char *tok, const char *entry)
{
	struct lh_resp *r = lh_get(relay, "/api/v1/queue", tok);
	json_t *v;
	size_t i;
	int n = 0;

	g_assert_cmpint(r->status, ==, 200);
	json_array_foreach(json_object_get(r->json, "entries"), i, v)
		n += g_strcmp0(json_string_value(
				       json_object_get(v, "entry_id")),
			       entry) == 0;
	lh_resp_free(r);
	return n;
}

/* A channel with a group: only the group's members see its callers and
 * pick them up; the others get forbidden. */
static void test_channel_group(void)
{
	g_autofree char *cred = NULL, *member = NULL, *other = NULL;
	g_autofree char *entry = NULL, *path = NULL;
	json_t *body;
	struct lh_resp *r;

	group_cmd("add", "desk", "view,control");
	tech_in_group("erin", "desk");
	g_assert_cmpint(cli(&cred, NULL, "channel", "add", "desk-line",
			    "--group", "desk"),
			==, 0);
	g_strstrip(cred);
	lh_secret("channel credential", cred);
	member = lh_login(relay, "erin", LH_CANARY_PASSWORD);
	other = lh_login(relay, "fred", LH_CANARY_PASSWORD);

	body = json_pack("{s:s}", "credential", cred);
	r = lh_post(relay, "/api/v1/channels/join", NULL, body);
	json_decref(body);
	g_assert_cmpint(r->status, ==, 201);
	entry = g_strdup(lh_resp_str(r, "entry_id"));
	lh_secret("queue ticket", lh_resp_str(r, "ticket"));
	lh_resp_free(r);

	g_assert_cmpint(queue_has(member, entry), ==, 1);
	g_assert_cmpint(queue_has(other, entry), ==, 0);
	path = g_strdup_printf("/api/v1/queue/%s/pickup", entry);
	r = lh_post(relay, path, other, NULL);
	lh_assert_error(r, 403, "forbidden");
	lh_resp_free(r);
	r = lh_post(relay, path, member, NULL);
	g_assert_cmpint(r->status, ==, 201);
	lh_resp_free(r);
	g_assert_cmpint(cli(NULL, NULL, "technician", "set", "erin",
			    "--no-group", NULL),
			==, 0);
}

/* `technician add --group`: in the group from the start. */
static void test_add_with_group(void)
{
	g_autofree char *in = g_strdup_printf("%s\n", LH_CANARY_PASSWORD);
	g_autofree char *err = NULL, *p = NULL;

	group_cmd("add", "newcomers", "view,sysinfo");
	g_assert_cmpint(lh_relay_cmd(relay, in, NULL, &err, "technician",
				     "add", "gina", "--group", "nope",
				     "--password-stdin", NULL),
			==, 1);
	g_assert_nonnull(strstr(err, "not found"));
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(lh_relay_cmd(relay, in, NULL, &err, "technician",
				     "add", "gina", "--group", "newcomers",
				     "--password-stdin", NULL),
			==, 0);
	p = login_perms("gina");
	g_assert_cmpstr(p, ==, "view,sysinfo");
}

int main(int argc, char **argv)
{
	int rc;

	lh_init(&argc, &argv);
	/* many logins, each checking what the groups make of it */
	relay = lh_relay_new("groups", "login_rate_per_min = 6000\n"
				       "login_burst = 200\n"
				       "session_create_burst = 200\n");
	lh_tech_add(relay, "erin", LH_CANARY_PASSWORD, false);
	lh_tech_add(relay, "fred", LH_CANARY_PASSWORD, false);
	lh_tech_add(relay, "root", LH_CANARY_PASSWORD, true);
	lh_relay_start(relay);

	g_test_add_func("/groups/cli", test_cli);
	g_test_add_func("/groups/cli-refusals", test_cli_refusals);
	g_test_add_func("/groups/login-permissions", test_login_permissions);
	g_test_add_func("/groups/redeem-every-capability",
			test_redeem_every_capability);
	g_test_add_func("/groups/api-forbidden", test_api_forbidden);
	g_test_add_func("/groups/api", test_api);
	g_test_add_func("/groups/withdraw-ends-session",
			test_withdraw_ends_session);
	g_test_add_func("/groups/add-with-group", test_add_with_group);
	g_test_add_func("/groups/channel-group", test_channel_group);
	rc = g_test_run();
	g_assert_cmpint(lh_relay_stop_verify(relay), >, 0);
	lh_relay_free(relay);
	return rc;
}
