/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One-time passwords and POST /api/v1/password against the real relay: a
 * generated password (technician add/passwd without --password-stdin)
 * must be changed at the first login -- until then every other bearer
 * request answers 403 password_change_required -- and expires after
 * otp_lifetime_s (the test clock moves the relay's time); a password
 * given on stdin stays valid; a change checks the old password, refuses
 * a weak or unchanged new one, revokes the technician's other tokens and
 * is audited.
 */
#include <string.h>

#include "harness.h"

#define WRONG_PW "Wrong-Pw-pw-00000"
#define NEW_PW "New-Pw-Chosen-4321"

static struct lh_relay *relay;

/* `technician add USER` (or passwd) without stdin: the one-time
 * password, the only line on stdout. */
static char *one_time(const char *verb, const char *user)
{
	g_autofree char *out = NULL, *err = NULL;
	char *pw;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, &err, "technician",
				     verb, user, NULL),
			==, 0);
	g_assert_nonnull(strstr(err, "one-time password"));
	g_assert_true(g_str_has_suffix(out, "\n"));
	pw = g_strndup(out, strlen(out) - 1);
	g_assert_null(strchr(pw, '\n'));
	lh_secret("password", pw);
	return pw;
}

/* POST /login; the answer (asserting 200 when want_ok). */
static struct lh_resp *login(const char *user, const char *pw)
{
	json_t *body = json_pack("{ssss}", "username", user, "password", pw);
	struct lh_resp *r;

	lh_secret("password", pw);
	r = lh_post(relay, "/api/v1/login", NULL, body);
	json_decref(body);
	if (r->status == 200)
		lh_secret("token", lh_resp_str(r, "token"));
	return r;
}

/* A token of a login that must say password_change_required = want. */
static char *login_token(const char *user, const char *pw, bool want)
{
	struct lh_resp *r = login(user, pw);
	json_t *flag;
	char *token;

	if (r->status != 200)
		g_error("login %s: %d %s", user, r->status, r->body);
	flag = json_object_get(r->json, "password_change_required");
	g_assert_true(json_is_boolean(flag));
	g_assert_cmpint(json_is_true(flag), ==, want);
	token = g_strdup(lh_resp_str(r, "token"));
	lh_resp_free(r);
	return token;
}

static struct lh_resp *change(const char *token, const char *old_pw,
			      const char *new_pw)
{
	json_t *body = json_pack("{ssss}", "old_password", old_pw,
				 "new_password", new_pw);
	struct lh_resp *r;

	lh_secret("password", old_pw);
	lh_secret("password", new_pw);
	r = lh_post(relay, "/api/v1/password", token, body);
	json_decref(body);
	return r;
}

static void expect(struct lh_resp *r, int status, const char *code)
{
	if (code != NULL)
		lh_assert_error(r, status, code);
	else
		g_assert_cmpint(r->status, ==, status);
	lh_resp_free(r);
}

/* The exported audit records of `action`, as one string of JSON lines. */
static char *audit_of(const char *action)
{
	g_autofree char *out = NULL, *err = NULL;
	g_auto(GStrv) lines = NULL;
	GString *s = g_string_new(NULL);
	g_autofree char *want = g_strdup_printf("\"action\":\"%s\"", action);
	guint i;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, &err, "audit",
				     "export", "--format", "jsonl", NULL),
			==, 0);
	lines = g_strsplit(out, "\n", -1);
	for (i = 0; lines[i] != NULL; i++)
		if (strstr(lines[i], want) != NULL)
			g_string_append_printf(s, "%s\n", lines[i]);
	return g_string_free(s, FALSE);
}

/*
 * The whole way out of a one-time password: login says it must change,
 * nothing but /password and /logout is served, a wrong old password, a
 * weak or unchanged new one are refused, the change revokes the other
 * tokens and keeps this one.
 */
static void test_one_time_flow(void)
{
	g_autofree char *otp = one_time("add", "bob");
	g_autofree char *t1 = NULL, *t2 = NULL, *t3 = NULL, *rec = NULL;
	struct lh_resp *r;

	t1 = login_token("bob", otp, true);
	t2 = login_token("bob", otp, true);
	expect(lh_get(relay, "/api/v1/sessions", t1), 403,
	       "password_change_required");
	r = lh_post(relay, "/api/v1/sessions", t1, NULL);
	lh_assert_error(r, 403, "password_change_required");
	g_assert_nonnull(strstr(r->body, "/api/v1/password"));
	lh_resp_free(r);

	expect(change(t1, WRONG_PW, NEW_PW), 403, "forbidden");
	expect(change(t1, otp, "Tiny7"), 400, "bad_request");
	expect(change(t1, otp, otp), 400, "bad_request");
	expect(change(NULL, otp, NEW_PW), 401, "unauthorized");
	/* still a one-time password after all that */
	expect(lh_get(relay, "/api/v1/sessions", t1), 403,
	       "password_change_required");

	expect(change(t1, otp, NEW_PW), 204, NULL);
	expect(lh_get(relay, "/api/v1/sessions", t1), 200, NULL);
	expect(lh_get(relay, "/api/v1/sessions", t2), 401, "unauthorized");
	expect(login("bob", otp), 401, "unauthorized");
	t3 = login_token("bob", NEW_PW, false);
	expect(lh_get(relay, "/api/v1/sessions", t3), 200, NULL);

	/* Audited once as done, with no password in it; refusals too. */
	rec = audit_of("password.change");
	g_assert_nonnull(strstr(rec, "\"outcome\":\"ok\""));
	g_assert_nonnull(strstr(rec, "\"one_time_password\":true"));
	g_assert_nonnull(strstr(rec, "\"outcome\":\"forbidden\""));
	g_assert_null(strstr(rec, NEW_PW));
	g_assert_null(strstr(rec, otp));
}

/* Logout is served to a token that must still change its password. */
static void test_one_time_logout(void)
{
	g_autofree char *otp = one_time("add", "erin");
	g_autofree char *t = login_token("erin", otp, true);

	expect(lh_post(relay, "/api/v1/logout", t, NULL), 204, NULL);
	expect(lh_get(relay, "/api/v1/sessions", t), 401, "unauthorized");
}

/*
 * A one-time password expires otp_lifetime_s (default 24 h) after it was
 * made: login with it is refused saying so -- to whoever knows it only --
 * and a token got before cannot use it to change the password either.
 */
static void test_one_time_expires(void)
{
	g_autofree char *otp = one_time("add", "carol");
	g_autofree char *early = NULL;
	struct lh_resp *r;

	early = login_token("carol", otp, true);
	if (!lh_relay_clock_advance(relay, 86400 + 5)) {
		g_test_skip("needs a build with -Dtest_hooks=true");
		return;
	}
	r = login("carol", otp);
	lh_assert_error(r, 401, "unauthorized");
	g_assert_nonnull(strstr(r->body, "one-time password has expired"));
	lh_resp_free(r);
	r = login("carol", WRONG_PW);
	lh_assert_error(r, 401, "unauthorized");
	g_assert_null(strstr(r->body, "expired"));
	lh_resp_free(r);
	r = change(early, otp, NEW_PW);
	lh_assert_error(r, 401, "unauthorized");
	g_assert_nonnull(strstr(r->body, "one-time password has expired"));
	lh_resp_free(r);
}

/*
 * A password given on stdin is the administrator's explicit choice: no
 * change required, no expiry; `technician passwd` without stdin makes a
 * one-time password again, with stdin a lasting one.
 */
static void test_admin_choice(void)
{
	g_autofree char *otp = NULL, *t = NULL, *out = NULL, *err = NULL;
	g_autofree char *in = g_strdup_printf("%s\n", NEW_PW);
	json_t *list, *techs, *item;
	size_t i;

	lh_tech_add(relay, "dave", LH_CANARY_PASSWORD, false);
	t = login_token("dave", LH_CANARY_PASSWORD, false);
	expect(lh_get(relay, "/api/v1/sessions", t), 200, NULL);

	otp = one_time("passwd", "dave");
	g_free(t);
	t = login_token("dave", otp, true);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, &err, "technician",
				     "list", "--json", NULL),
			==, 0);
	list = json_loads(out, 0, NULL);
	techs = json_object_get(list, "technicians");
	json_array_foreach(techs, i, item)
	{
		if (strcmp(json_string_value(json_object_get(item, "name")),
			   "dave") != 0)
			continue;
		g_assert_true(json_is_true(
			json_object_get(item, "password_change_required")));
		g_assert_true(json_is_string(
			json_object_get(item, "password_expires_at")));
	}
	json_decref(list);

	lh_secret("password", NEW_PW);
	g_free(err);
	err = NULL;
	g_assert_cmpint(lh_relay_cmd(relay, in, NULL, &err, "technician",
				     "passwd", "dave", "--password-stdin",
				     NULL),
			==, 0);
	g_free(t);
	t = login_token("dave", NEW_PW, false);
	expect(lh_get(relay, "/api/v1/sessions", t), 200, NULL);
}

/* Anyone may change their own password, not only from a one-time one. */
static void test_plain_change(void)
{
	g_autofree char *t = NULL;

	lh_tech_add(relay, "frank", LH_CANARY_PASSWORD, false);
	t = login_token("frank", LH_CANARY_PASSWORD, false);
	expect(change(t, LH_CANARY_PASSWORD, "Frank-Pw-Next-777"), 204, NULL);
	expect(lh_get(relay, "/api/v1/sessions", t), 200, NULL);
	g_free(login_token("frank", "Frank-Pw-Next-777", false));
}

int main(int argc, char **argv)
{
	int rc;

	lh_init(&argc, &argv);
	/* Tokens that outlive a one-time password's day. */
	relay = lh_relay_new("password",
			     "login_rate_per_min=1000\nlogin_burst=1000\n"
			     "token_lifetime_s=200000\ntoken_idle_s=200000\n");
	lh_relay_start(relay);
	g_test_add_func("/password/one-time-flow", test_one_time_flow);
	g_test_add_func("/password/one-time-logout", test_one_time_logout);
	g_test_add_func("/password/admin-choice", test_admin_choice);
	g_test_add_func("/password/plain-change", test_plain_change);
	/* last: it moves the relay's clock a day on */
	g_test_add_func("/password/one-time-expires", test_one_time_expires);
	rc = g_test_run();
	g_assert_cmpint(lh_relay_stop(relay, 30000), ==, 0);
	lh_audit_verify_intact(relay);
	lh_relay_free(relay);
	return rc;
}
