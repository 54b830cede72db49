/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Technician administration over the API (issue 11 item 4): an admin
 * adds a technician (a one-time password shown once, that logs in),
 * changes the display name, disables and enables, unlocks a second
 * factor locked by ten wrong codes (oathtool computes the right ones),
 * resets it, sets a new one-time password; cannot disable the org's last
 * enabled admin; every change audited as the admin with the values
 * before and after.  A non-admin is refused on every endpoint, and an
 * admin of another org finds nobody of this one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define PW "Tech-Admin-Pw-1"
#define RATES "login_rate_per_min=100000\nlogin_burst=100000\n"

static struct lh_resp *req(struct lh_relay *r, const char *method,
			   const char *path, const char *bearer,
			   const char *body)
{
	struct lh_req q = {
		.method = method, .path = path, .bearer = bearer, .body = body
	};

	return lh_do(r, &q);
}

/* The six endpoints, each with a body it would take. */
static const struct {
	const char *method, *path, *body;
} endpoints[] = {
	{ "GET", "/api/v1/technicians", NULL },
	{ "POST", "/api/v1/technicians", "{\"name\":\"mallory\"}" },
	{ "PATCH", "/api/v1/technicians/bob", "{\"disabled\":true}" },
	{ "POST", "/api/v1/technicians/bob/unlock", NULL },
	{ "POST", "/api/v1/technicians/bob/mfa-reset", NULL },
	{ "POST", "/api/v1/technicians/bob/password", NULL },
};

static void all_refused(struct lh_relay *r, const char *token, int status,
			const char *code, size_t from)
{
	size_t i;

	for (i = from; i < G_N_ELEMENTS(endpoints); i++) {
		struct lh_resp *resp = req(r, endpoints[i].method,
					   endpoints[i].path, token,
					   endpoints[i].body);

		lh_assert_error(resp, status, code);
		lh_resp_free(resp);
	}
}

/* The list's entry for name, or NULL. */
static json_t *listed(struct lh_relay *r, const char *admin, const char *name)
{
	struct lh_resp *resp = lh_get(r, "/api/v1/technicians", admin);
	json_t *list, *t, *found = NULL;
	size_t i;

	g_assert_cmpint(resp->status, ==, 200);
	list = json_object_get(resp->json, "technicians");
	g_assert_true(json_is_array(list));
	json_array_foreach(list, i, t)
	{
		if (strcmp(json_string_value(json_object_get(t, "name")),
			   name) == 0)
			found = json_deep_copy(t);
	}
	lh_resp_free(resp);
	return found;
}

static bool flag(json_t *t, const char *key)
{
	g_assert_true(json_is_boolean(json_object_get(t, key)));
	return json_is_true(json_object_get(t, key));
}

/* POST /login: the status. */
static int login_status(struct lh_relay *r, const char *user, const char *pw)
{
	json_t *b = json_pack("{s:s,s:s,s:s}", "org", "default", "username",
			      user, "password", pw);
	struct lh_resp *resp = lh_post(r, "/api/v1/login", NULL, b);
	int st = resp->status;

	if (st == 200)
		lh_secret("token", lh_resp_str(resp, "token"));
	json_decref(b);
	lh_resp_free(resp);
	return st;
}

/* A one-time password from an answer (recorded as a secret). */
static char *otp_of(struct lh_resp *resp)
{
	const char *pw = lh_resp_str(resp, "one_time_password");

	g_assert_nonnull(pw);
	g_assert_cmpuint(strlen(pw), >=, 16);
	lh_secret("password", pw);
	g_assert_nonnull(lh_resp_str(resp, "expires_at"));
	return g_strdup(pw);
}

static char *oathtool_code(const char *b32, int offset_steps)
{
	char *argv[] = { "oathtool", "--totp", "-b", (char *)b32,
			 NULL,       NULL,     NULL };
	char now[32], *out = NULL;
	int status = -1;

	snprintf(now, sizeof(now), "@%lld",
		 (long long)(time(NULL) + offset_steps * 30));
	argv[4] = "-N";
	argv[5] = now;
	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
				   NULL, &out, NULL, &status, NULL));
	g_assert_cmpint(status, ==, 0);
	g_strchomp(out);
	return out;
}

/* bob enrols a second factor, then ten wrong codes lock him. */
static void bob_locked(struct lh_relay *r, const char *bob)
{
	struct lh_resp *resp = lh_post(r, "/api/v1/mfa/enroll", bob, NULL);
	g_autofree char *b32 = NULL, *code = NULL, *body = NULL;
	const char *p;
	json_t *b, *e;
	char *mt;
	int i;

	g_assert_cmpint(resp->status, ==, 200);
	p = strstr(lh_resp_str(resp, "otpauth_uri"), "secret=");
	b32 = g_strndup(p + 7, strcspn(p + 7, "&"));
	lh_secret("seed", b32);
	lh_resp_free(resp);
	code = oathtool_code(b32, 0);
	body = g_strdup_printf("{\"code\":\"%s\"}", code);
	resp = req(r, "POST", "/api/v1/mfa/confirm", bob, body);
	g_assert_cmpint(resp->status, ==, 200);
	lh_resp_free(resp);

	b = json_pack("{s:s,s:s,s:s}", "org", "default", "username", "bob",
		      "password", PW);
	resp = lh_post(r, "/api/v1/login", NULL, b);
	json_decref(b);
	lh_assert_error(resp, 401, "mfa_required");
	e = json_object_get(resp->json, "error");
	mt = g_strdup(json_string_value(json_object_get(e, "mfa_token")));
	lh_secret("token", mt);
	lh_resp_free(resp);
	g_free(code);
	code = oathtool_code(b32, 20); /* far from now: always wrong */
	for (i = 0; i < 10; i++) {
		b = json_pack("{s:s,s:s}", "mfa_token", mt, "code", code);
		resp = lh_post(r, "/api/v1/login/mfa", NULL, b);
		g_assert_cmpint(resp->status, ==, i < 9 ? 401 : 403);
		json_decref(b);
		lh_resp_free(resp);
	}
	g_free(mt);
}

/* The detail of the last record of action by the admin that succeeded
 * and has key (caller decrefs). */
static json_t *last_detail(struct lh_relay *r, const char *action,
			   const char *key)
{
	json_t *recs = lh_audit_records(r, action), *rec, *found = NULL;
	size_t i;

	json_array_foreach(recs, i, rec)
	{
		const char *o = json_string_value(
			json_object_get(rec, "outcome"));
		json_t *d = json_object_get(rec, "detail");

		const char *a = json_string_value(
			json_object_get(rec, "actor"));

		if (o != NULL && strcmp(o, "ok") == 0 &&
		    json_object_get(d, key) != NULL &&
		    strcmp(a, "technician:root") == 0) {
			json_decref(found);
			found = json_incref(d);
		}
	}
	json_decref(recs);
	g_assert_nonnull(found);
	return found;
}

static void other_org_admin(struct lh_relay *r, char **token)
{
	g_autofree char *in = g_strdup_printf("%s\n", PW);
	json_t *b;
	struct lh_resp *resp;

	g_assert_cmpint(lh_relay_cmd(r, NULL, NULL, NULL, "org", "add",
				     "other", "--name", "Other Ltd", NULL),
			==, 0);
	g_assert_cmpint(lh_relay_cmd(r, in, NULL, NULL, "technician", "add",
				     "oadm", "--org", "other", "--admin",
				     "--password-stdin", NULL),
			==, 0);
	b = json_pack("{s:s,s:s,s:s}", "org", "other", "username", "oadm",
		      "password", PW);
	resp = lh_post(r, "/api/v1/login", NULL, b);
	g_assert_cmpint(resp->status, ==, 200);
	*token = g_strdup(lh_resp_str(resp, "token"));
	lh_secret("token", *token);
	lh_resp_free(resp);
	json_decref(b);
}

static void check_refusals(struct lh_relay *r, const char *bob)
{
	g_autofree char *oadm = NULL;
	json_t *t;

	all_refused(r, bob, 403, "forbidden", 0);
	all_refused(r, NULL, 401, "unauthorized", 0);
	other_org_admin(r, &oadm);
	/* their list is their org's; bob of ours is not found */
	g_assert_null(listed(r, oadm, "bob"));
	g_assert_nonnull(t = listed(r, oadm, "oadm"));
	json_decref(t);
	all_refused(r, oadm, 404, "not_found", 2);
	g_assert_cmpint(login_status(r, "bob", PW), ==, 200);
}

/* A locked second factor: unlocked, then reset. */
static void check_unlock_reset(struct lh_relay *r, const char *root,
			       const char *bob)
{
	struct lh_resp *resp;
	json_t *t;

	bob_locked(r, bob);
	g_assert_cmpint(login_status(r, "bob", PW), ==, 403);
	t = listed(r, root, "bob");
	g_assert_true(flag(t, "locked"));
	g_assert_true(flag(t, "mfa"));
	json_decref(t);
	resp = req(r, "POST", "/api/v1/technicians/bob/unlock", root, NULL);
	g_assert_cmpint(resp->status, ==, 200);
	g_assert_true(json_is_true(json_object_get(resp->json, "was_locked")));
	lh_resp_free(resp);
	g_assert_cmpint(login_status(r, "bob", PW), ==, 401); /* code next */
	resp = req(r, "POST", "/api/v1/technicians/bob/mfa-reset", root, NULL);
	g_assert_cmpint(resp->status, ==, 200);
	lh_resp_free(resp);
	g_assert_cmpint(login_status(r, "bob", PW), ==, 200);
	t = listed(r, root, "bob");
	g_assert_false(flag(t, "mfa"));
	g_assert_false(flag(t, "locked"));
	json_decref(t);
}

static void test_technicians(void)
{
	struct lh_relay *r = lh_relay_new("technicians", RATES);
	g_autofree char *root = NULL, *bob = NULL, *pw = NULL, *pw2 = NULL;
	struct lh_resp *resp;
	json_t *t, *d;
	char *text;

	lh_relay_start(r);
	lh_tech_add(r, "root", PW, true);
	lh_tech_add(r, "bob", PW, false);
	root = lh_login(r, "root", PW);
	bob = lh_login(r, "bob", PW);
	check_refusals(r, bob);

	/* add: 201, a one-time password that logs in, once shown */
	resp = req(r, "POST", "/api/v1/technicians", root,
		   "{\"name\":\"carol\",\"display_name\":\"Carol C\"}");
	g_assert_cmpint(resp->status, ==, 201);
	pw = otp_of(resp);
	lh_resp_free(resp);
	g_assert_cmpint(login_status(r, "carol", pw), ==, 200);
	resp = req(r, "POST", "/api/v1/technicians", root,
		   "{\"name\":\"carol\"}");
	lh_assert_error(resp, 409, "conflict");
	lh_resp_free(resp);
	resp = req(r, "POST", "/api/v1/technicians", root,
		   "{\"name\":\"-bad\"}");
	lh_assert_error(resp, 400, "bad_request");
	lh_resp_free(resp);
	t = listed(r, root, "carol");
	g_assert_nonnull(t);
	g_assert_cmpstr(json_string_value(json_object_get(t, "display_name")),
			==, "Carol C");
	g_assert_false(flag(t, "admin"));
	g_assert_false(flag(t, "disabled"));
	g_assert_false(flag(t, "mfa"));
	g_assert_true(flag(t, "password_change_required"));
	json_decref(t);

	/* display name, disabled, enabled */
	resp = req(r, "PATCH", "/api/v1/technicians/carol", root,
		   "{\"display_name\":\"Carol Cee\"}");
	g_assert_cmpint(resp->status, ==, 200);
	g_assert_cmpstr(lh_resp_str(resp, "display_name"), ==, "Carol Cee");
	lh_resp_free(resp);
	resp = req(r, "PATCH", "/api/v1/technicians/carol", root,
		   "{\"disabled\":true}");
	g_assert_cmpint(resp->status, ==, 200);
	lh_resp_free(resp);
	g_assert_cmpint(login_status(r, "carol", pw), ==, 403);
	resp = req(r, "PATCH", "/api/v1/technicians/carol", root,
		   "{\"disabled\":false}");
	g_assert_cmpint(resp->status, ==, 200);
	lh_resp_free(resp);
	g_assert_cmpint(login_status(r, "carol", pw), ==, 200);

	/* a new one-time password: the old one is gone */
	resp = req(r, "POST", "/api/v1/technicians/carol/password", root,
		   NULL);
	g_assert_cmpint(resp->status, ==, 200);
	pw2 = otp_of(resp);
	lh_resp_free(resp);
	g_assert_cmpint(login_status(r, "carol", pw), ==, 401);
	g_assert_cmpint(login_status(r, "carol", pw2), ==, 200);

	check_unlock_reset(r, root, bob);

	/* the last enabled admin stays */
	resp = req(r, "PATCH", "/api/v1/technicians/root", root,
		   "{\"disabled\":true}");
	lh_assert_error(resp, 409, "conflict");
	lh_resp_free(resp);
	g_assert_cmpint(login_status(r, "root", PW), ==, 200);

	lh_relay_stop_verify(r);
	d = last_detail(r, "technician.add", "one_time_password");
	g_assert_cmpstr(json_string_value(json_object_get(d, "username")), ==,
			"carol");
	g_assert_true(json_is_true(json_object_get(d, "one_time_password")));
	text = json_dumps(d, 0);
	g_assert_null(strstr(text, pw));
	free(text);
	json_decref(d);
	d = last_detail(r, "technician.set", "old_display_name");
	g_assert_cmpstr(json_string_value(
				json_object_get(d, "old_display_name")),
			==, "Carol C");
	g_assert_cmpstr(json_string_value(json_object_get(d, "display_name")),
			==, "Carol Cee");
	json_decref(d);
	d = last_detail(r, "technician.set", "was_disabled");
	g_assert_true(json_is_true(json_object_get(d, "was_disabled")));
	g_assert_true(json_is_false(json_object_get(d, "disabled")));
	json_decref(d);
	d = last_detail(r, "technician.unlock", "was_locked");
	g_assert_true(json_is_true(json_object_get(d, "was_locked")));
	json_decref(d);
	d = last_detail(r, "technician.mfa_reset", "was_enrolled");
	g_assert_true(json_is_true(json_object_get(d, "was_enrolled")));
	json_decref(d);
	d = last_detail(r, "technician.passwd", "one_time_password");
	json_decref(d);
	lh_relay_free(r);
}

int main(int argc, char **argv)
{
	lh_init(&argc, &argv);
	g_test_add_func("/relay/technicians/admin", test_technicians);
	return g_test_run();
}
