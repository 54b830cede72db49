/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The second factor against a real relay (issue 11 item 1): enrolment,
 * login with a code (oathtool computes them: an implementation other than
 * the relay's), the +-1 step window, a code good once, recovery codes,
 * ten wrong codes lock the account until `technician unlock`,
 * `technician mfa-reset`, the org policy mfa_required, and the database
 * without the at-rest key: no seed in it, and a sealed seed moved to
 * another row does not open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "harness.h"
#include "ll_crypto.h"

#define PW "Mfa-Test-Pw-1"
#define STEP 30
/* Logins and codes come fast here; the rate limit has tests of its own. */
#define RATES "login_rate_per_min=100000\nlogin_burst=100000\n"

/* The relay's wall clock: ours plus what the test moved it by. */
static int64_t relay_now(const struct lh_relay *r)
{
	return (int64_t)time(NULL) + r->clock_offset;
}

/*
 * Time itself is under test here: a check of the window's edges must not
 * straddle a step boundary between computing the code and the relay
 * reading it, so wait while the current step has less than 5 s left.
 */
static void step_quiet(const struct lh_relay *r)
{
	while (relay_now(r) % STEP > STEP - 5)
		g_usleep(250 * 1000);
}

/* oathtool --totp -b SEED at unix time t: the code, as it prints it. */
static char *oathtool_code(const char *b32, int64_t t)
{
	char now[32], *out = NULL;
	char *argv[] = { "oathtool", "--totp", "-b", (char *)b32,
			 "-N",       now,      NULL };
	GError *err = NULL;
	int status = -1;

	snprintf(now, sizeof(now), "@%lld", (long long)t);
	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
				   NULL, &out, NULL, &status, &err));
	g_assert_no_error(err);
	g_assert_cmpint(status, ==, 0);
	g_strchomp(out);
	g_assert_cmpuint(strlen(out), ==, 6);
	return out;
}

/* POST /login expecting 401 mfa_required: the mfa_token. */
static char *login_mfa_token(struct lh_relay *r, const char *user)
{
	json_t *b = json_pack("{s:s,s:s}", "username", user, "password", PW);
	struct lh_resp *resp = lh_post(r, "/api/v1/login", NULL, b);
	json_t *e;
	char *tok;

	g_assert_cmpint(resp->status, ==, 401);
	g_assert_cmpstr(lh_resp_error_code(resp), ==, "mfa_required");
	e = json_object_get(resp->json, "error");
	g_assert_true(json_is_string(json_object_get(e, "mfa_token")));
	tok = g_strdup(json_string_value(json_object_get(e, "mfa_token")));
	lh_secret("token", tok);
	json_decref(b);
	lh_resp_free(resp);
	return tok;
}

/* POST /login/mfa with key = value: the answer. */
static struct lh_resp *login_mfa(struct lh_relay *r, const char *mfa_token,
				 const char *key, const char *value)
{
	json_t *b = json_pack("{s:s,s:s}", "mfa_token", mfa_token, key, value);
	struct lh_resp *resp = lh_post(r, "/api/v1/login/mfa", NULL, b);

	json_decref(b);
	return resp;
}

/* A full login with a code at time t (oathtool's); asserts 200. */
static char *login_with_code(struct lh_relay *r, const char *user,
			     const char *b32, int64_t t)
{
	g_autofree char *mt = login_mfa_token(r, user);
	g_autofree char *code = oathtool_code(b32, t);
	struct lh_resp *resp = login_mfa(r, mt, "code", code);
	char *tok;

	if (resp->status != 200)
		g_error("login/mfa: %d %s", resp->status, resp->body);
	tok = g_strdup(lh_resp_str(resp, "token"));
	lh_secret("token", tok);
	lh_resp_free(resp);
	return tok;
}

/* Enrols the token's technician: the base32 seed; recovery codes in rc
 * (10, caller frees with g_strfreev) when rc is not NULL. */
static char *enrol(struct lh_relay *r, const char *token, char ***rc)
{
	struct lh_resp *resp;
	const char *uri, *p;
	g_autofree char *code = NULL;
	json_t *body, *list;
	char *b32;
	size_t i;

	body = json_pack("{s:s}", "code", "123456");
	resp = lh_post(r, "/api/v1/mfa/confirm", token, body);
	lh_assert_error(resp, 409, "conflict");
	lh_resp_free(resp);
	json_decref(body);

	resp = lh_post(r, "/api/v1/mfa/enroll", token, NULL);
	g_assert_cmpint(resp->status, ==, 200);
	uri = lh_resp_str(resp, "otpauth_uri");
	g_assert_nonnull(uri);
	g_assert_true(g_str_has_prefix(uri, "otpauth://totp/Lifeline:"));
	g_assert_nonnull(strstr(uri, "&algorithm=SHA1&digits=6&period=30"));
	p = strstr(uri, "secret=");
	g_assert_nonnull(p);
	b32 = g_strndup(p + 7, strcspn(p + 7, "&"));
	g_assert_cmpuint(strlen(b32), ==, 32); /* 160 bits */
	g_assert_cmpstr(b32, ==, lh_resp_str(resp, "secret"));
	lh_secret("seed", b32);
	lh_resp_free(resp);

	/* A code of another time does not confirm it. */
	step_quiet(r);
	code = oathtool_code(b32, relay_now(r) + 5 * STEP);
	body = json_pack("{s:s}", "code", code);
	resp = lh_post(r, "/api/v1/mfa/confirm", token, body);
	lh_assert_error(resp, 401, "invalid_mfa_code");
	lh_resp_free(resp);
	json_decref(body);
	g_free(code);

	code = oathtool_code(b32, relay_now(r));
	body = json_pack("{s:s}", "code", code);
	resp = lh_post(r, "/api/v1/mfa/confirm", token, body);
	json_decref(body);
	g_assert_cmpint(resp->status, ==, 200);
	list = json_object_get(resp->json, "recovery_codes");
	g_assert_cmpuint(json_array_size(list), ==, 10);
	if (rc != NULL)
		*rc = g_new0(char *, 11);
	for (i = 0; i < 10; i++) {
		const char *c = json_string_value(json_array_get(list, i));

		g_assert_nonnull(c);
		g_assert_cmpuint(strlen(c), ==, 11);
		lh_secret("recovery", c);
		if (rc != NULL)
			(*rc)[i] = g_strdup(c);
	}
	lh_resp_free(resp);
	return b32;
}

/* How many of the records of action have that outcome. */
static size_t records_with(struct lh_relay *r, const char *action,
			   const char *outcome)
{
	json_t *recs = lh_audit_records(r, action), *rec;
	size_t i, n = 0;

	json_array_foreach(recs, i, rec)
	{
		const char *o = json_string_value(
			json_object_get(rec, "outcome"));

		if (o != NULL && strcmp(o, outcome) == 0)
			n++;
	}
	json_decref(recs);
	return n;
}

/* The bytes of a file (and its -wal), for a search without the key. */
static GByteArray *db_bytes(struct lh_relay *r)
{
	const char *suffix[] = { "", "-wal", "-shm" };
	GByteArray *all = g_byte_array_new();
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(suffix); i++) {
		g_autofree char *path = g_strdup_printf("%s/lifeline.db%s",
							r->state_dir,
							suffix[i]);
		g_autofree char *data = NULL;
		gsize len = 0;

		if (g_file_get_contents(path, &data, &len, NULL))
			g_byte_array_append(all, (const guint8 *)data,
					    (guint)len);
	}
	g_assert_cmpuint(all->len, >, 0);
	return all;
}

static bool bytes_have(const GByteArray *hay, const void *needle, size_t n)
{
	return memmem(hay->data, hay->len, needle, n) != NULL;
}

/* No trace of the seed in the database: raw, base32 in either case. */
static void assert_no_seed(const GByteArray *db, const char *b32)
{
	uint8_t seed[LL_TOTP_SEED_LEN];
	g_autofree char *lower = g_ascii_strdown(b32, -1);
	size_t n = 0;

	g_assert_cmpint(ll_base32_decode(b32, seed, sizeof(seed), &n), ==,
			LL_OK);
	g_assert_cmpuint(n, ==, sizeof(seed));
	g_assert_false(bytes_have(db, seed, n));
	g_assert_false(bytes_have(db, seed, 8)); /* not even a part */
	g_assert_false(bytes_have(db, b32, strlen(b32)));
	g_assert_false(bytes_have(db, lower, strlen(lower)));
}

/* A code of alice's at time t refused as invalid_mfa_code. */
static void code_refused(struct lh_relay *r, const char *b32, int64_t t)
{
	g_autofree char *mt = login_mfa_token(r, "alice");
	g_autofree char *code = oathtool_code(b32, t);
	struct lh_resp *resp = login_mfa(r, mt, "code", code);

	lh_assert_error(resp, 401, "invalid_mfa_code");
	lh_resp_free(resp);
}

/* The window: +-1 step taken, +-2 not; each code good once. */
static void check_window(struct lh_relay *r, const char *b32)
{
	int64_t s;
	int d;

	/* a fresh step first, past every step used so far */
	g_assert_true(lh_relay_clock_advance(r, 4 * STEP));
	step_quiet(r);
	s = relay_now(r);
	code_refused(r, b32, s - 2 * STEP);
	code_refused(r, b32, s + 2 * STEP);
	for (d = -1; d <= 1; d++)
		g_free(login_with_code(r, "alice", b32, s + d * STEP));
	/* the same code again, or an older one: refused */
	code_refused(r, b32, s + STEP);
	code_refused(r, b32, s);
}

/* Recovery codes: once each, either case, the dash optional; exactly
 * one of code and recovery_code; an unknown mfa_token. */
static void check_recovery(struct lh_relay *r, char **rc)
{
	g_autofree char *mt = login_mfa_token(r, "alice");
	g_autofree char *up = g_ascii_strup(rc[1], -1);
	struct lh_resp *resp;
	json_t *b;

	resp = login_mfa(r, mt, "recovery_code", rc[0]);
	g_assert_cmpint(resp->status, ==, 200);
	lh_secret("token", lh_resp_str(resp, "token"));
	lh_resp_free(resp);
	g_free(mt);
	mt = login_mfa_token(r, "alice");
	resp = login_mfa(r, mt, "recovery_code", rc[0]);
	lh_assert_error(resp, 401, "invalid_mfa_code");
	lh_resp_free(resp);
	memmove(up + 5, up + 6, strlen(up + 6) + 1); /* no dash */
	resp = login_mfa(r, mt, "recovery_code", up);
	g_assert_cmpint(resp->status, ==, 200);
	lh_secret("token", lh_resp_str(resp, "token"));
	lh_resp_free(resp);

	g_free(mt);
	mt = login_mfa_token(r, "alice");
	b = json_pack("{s:s}", "mfa_token", mt);
	resp = lh_post(r, "/api/v1/login/mfa", NULL, b);
	lh_assert_error(resp, 400, "bad_request");
	lh_resp_free(resp);
	json_decref(b);
	resp = login_mfa(r, "not-a-token", "code", "123456");
	lh_assert_error(resp, 401, "unauthorized");
	lh_resp_free(resp);
}

/* Ten wrong codes in a row lock the account: the tenth says so, and then
 * the right code and the right password are refused, until `technician
 * unlock`.  The last token alice got. */
static char *check_lockout(struct lh_relay *r, const char *b32)
{
	g_autofree char *mt = login_mfa_token(r, "alice");
	g_autofree char *code = NULL, *out = NULL;
	struct lh_resp *resp;
	json_t *b;
	int i;

	g_assert_true(lh_relay_clock_advance(r, 2 * STEP));
	step_quiet(r);
	for (i = 1; i <= 10; i++) {
		g_free(code);
		code = oathtool_code(b32, relay_now(r) + 10 * STEP);
		resp = login_mfa(r, mt, "code", code);
		lh_assert_error(resp, i < 10 ? 401 : 403,
				i < 10 ? "invalid_mfa_code"
				       : "account_locked");
		lh_resp_free(resp);
	}
	g_free(code);
	code = oathtool_code(b32, relay_now(r));
	resp = login_mfa(r, mt, "code", code);
	lh_assert_error(resp, 403, "account_locked");
	lh_resp_free(resp);
	b = json_pack("{s:s,s:s}", "username", "alice", "password", PW);
	resp = lh_post(r, "/api/v1/login", NULL, b);
	lh_assert_error(resp, 403, "account_locked");
	lh_resp_free(resp);
	json_decref(b);
	g_assert_cmpuint(records_with(r, "technician.lock", "ok"), ==, 1);

	g_assert_cmpint(lh_relay_cmd(r, NULL, &out, NULL, "technician",
				     "unlock", "alice", NULL),
			==, 0);
	g_assert_nonnull(strstr(out, "unlocked"));
	return login_with_code(r, "alice", b32, relay_now(r));
}

/* The stopped relay's database, without the key: no seed, no recovery
 * code; then alice's sealed seed copied into bob's row, which must not
 * open there (bob's login with alice's code fails, nobody gets in). */
static void check_at_rest(struct lh_relay *r, const char *b32,
			  const char *b32_bob, char **rc)
{
	g_autofree char *path = g_strdup_printf("%s/lifeline.db",
						r->state_dir);
	g_autofree char *mt = NULL, *code = NULL;
	GByteArray *bytes = db_bytes(r);
	struct lh_resp *resp;
	sqlite3 *db = NULL;
	size_t i;

	assert_no_seed(bytes, b32);
	assert_no_seed(bytes, b32_bob);
	for (i = 0; rc[i] != NULL; i++)
		g_assert_false(bytes_have(bytes, rc[i], strlen(rc[i])));
	g_byte_array_unref(bytes);

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db,
				     "UPDATE technician_mfa SET seed ="
				     " (SELECT m.seed FROM technician_mfa m"
				     "  JOIN technicians t ON t.id ="
				     "  m.technician_id"
				     "  WHERE t.username = 'alice')"
				     " WHERE technician_id = (SELECT id FROM"
				     " technicians WHERE username = 'bob')",
				     NULL, NULL, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_changes(db), ==, 1);
	sqlite3_close(db);

	lh_relay_start(r);
	g_assert_true(lh_relay_clock_advance(r, STEP));
	mt = login_mfa_token(r, "bob");
	code = oathtool_code(b32, relay_now(r));
	resp = login_mfa(r, mt, "code", code);
	g_assert_cmpint(resp->status, ==, 500);
	g_assert_null(lh_resp_str(resp, "token"));
	lh_resp_free(resp);
	g_assert_true(
		lh_relay_wait_log(r, "sealed seed does not open", 1, 5000));
}

static void test_mfa_flow(void)
{
	struct lh_relay *r = lh_relay_new("mfa-flow", RATES);
	g_autofree char *token = NULL, *b32 = NULL, *b32_bob = NULL;
	g_autofree char *tok2 = NULL, *out = NULL;
	g_auto(GStrv) rc = NULL;
	struct lh_resp *resp;

	lh_relay_start(r);
	if (!lh_relay_clock_advance(r, 0)) {
		g_test_skip("needs -Dtest_hooks=true");
		lh_relay_free(r);
		return;
	}
	lh_tech_add(r, "alice", PW, false);
	lh_tech_add(r, "bob", PW, false);
	token = lh_login(r, "alice", PW);
	b32 = enrol(r, token, &rc);

	/* A token alone does not replace a factor that is on. */
	resp = lh_post(r, "/api/v1/mfa/enroll", token, NULL);
	lh_assert_error(resp, 409, "conflict");
	lh_resp_free(resp);

	/* From now on the password alone is not enough. */
	g_free(token);
	token = login_with_code(r, "alice", b32, relay_now(r) + STEP);
	check_window(r, b32);
	check_recovery(r, rc);
	tok2 = check_lockout(r, b32);

	/* A second technician, and the database without its key. */
	g_free(token);
	token = lh_login(r, "bob", PW);
	b32_bob = enrol(r, token, NULL);
	lh_relay_stop_verify(r);
	g_assert_cmpuint(records_with(r, "mfa.enroll", "ok"), ==, 2);
	g_assert_cmpuint(records_with(r, "mfa.confirm", "ok"), ==, 2);
	g_assert_cmpuint(records_with(r, "mfa.confirm", "invalid_mfa_code"),
			 ==, 2);
	g_assert_cmpuint(records_with(r, "login.mfa", "account_locked"), >=,
			 1);
	g_assert_cmpuint(records_with(r, "login.mfa", "invalid_mfa_code"), >=,
			 1);
	g_assert_cmpuint(records_with(r, "login.mfa", "ok"), >=, 6);
	g_assert_cmpuint(records_with(r, "technician.unlock", "ok"), ==, 1);
	check_at_rest(r, b32, b32_bob, rc);

	/* mfa-reset: the password alone logs in again, tokens revoked. */
	g_assert_cmpint(lh_relay_cmd(r, NULL, &out, NULL, "technician",
				     "mfa-reset", "alice", NULL),
			==, 0);
	g_assert_nonnull(strstr(out, "second factor removed"));
	resp = lh_get(r, "/api/v1/sessions", tok2);
	lh_assert_error(resp, 401, "unauthorized");
	lh_resp_free(resp);
	g_free(token);
	token = lh_login(r, "alice", PW);
	lh_relay_stop_verify(r);
	g_assert_cmpuint(records_with(r, "technician.mfa_reset", "ok"), ==, 1);
	lh_relay_free(r);
}

/* Policy mfa_required: a technician without a second factor logs in,
 * may only enrol (and log out, change the password), then logs in with
 * codes from then on. */
static void test_mfa_policy(void)
{
	struct lh_relay *r = lh_relay_new("mfa-policy", RATES);
	g_autofree char *token = NULL, *b32 = NULL, *out = NULL;
	struct lh_resp *resp;
	json_t *b;

	lh_relay_start(r);
	lh_tech_add(r, "carol", PW, false);
	resp = lh_post(r, "/api/v1/login", NULL,
		       b = json_pack("{s:s,s:s}", "username", "carol",
				     "password", PW));
	g_assert_cmpint(resp->status, ==, 200);
	g_assert_true(json_is_false(
		json_object_get(resp->json, "mfa_enrollment_required")));
	lh_secret("token", lh_resp_str(resp, "token"));
	lh_resp_free(resp);

	g_assert_cmpint(lh_relay_cmd(r, NULL, NULL, NULL, "policy", "set",
				     "mfa_required", "maybe", NULL),
			!=, 0);
	/* set through the API by an admin, who is then held to it too */
	{
		g_autofree char *admin = NULL;
		struct lh_req q = { .method = "PUT",
				    .path = "/api/v1/orgs/default/policy",
				    .body = "{\"mfa_required\":true}" };

		lh_tech_add(r, "root", PW, true);
		admin = lh_login(r, "root", PW);
		q.bearer = admin;
		resp = lh_do(r, &q);
		g_assert_cmpint(resp->status, ==, 200);
		g_assert_true(json_is_true(
			json_object_get(resp->json, "mfa_required")));
		lh_resp_free(resp);
		resp = lh_get(r, "/api/v1/orgs/default/policy", admin);
		lh_assert_error(resp, 403, "mfa_enrollment_required");
		lh_resp_free(resp);
	}
	g_assert_cmpint(lh_relay_cmd(r, NULL, &out, NULL, "policy", "show",
				     "--json", NULL),
			==, 0);
	g_assert_nonnull(strstr(out, "mfa_required"));

	resp = lh_post(r, "/api/v1/login", NULL, b);
	g_assert_cmpint(resp->status, ==, 200);
	g_assert_true(json_is_true(
		json_object_get(resp->json, "mfa_enrollment_required")));
	token = g_strdup(lh_resp_str(resp, "token"));
	lh_secret("token", token);
	lh_resp_free(resp);
	resp = lh_get(r, "/api/v1/sessions", token);
	lh_assert_error(resp, 403, "mfa_enrollment_required");
	lh_resp_free(resp);

	b32 = enrol(r, token, NULL);
	resp = lh_get(r, "/api/v1/sessions", token);
	g_assert_cmpint(resp->status, ==, 200);
	lh_resp_free(resp);
	/* The code used to confirm is spent: a later step logs in. */
	g_assert_true(lh_relay_clock_advance(r, STEP));
	g_free(token);
	token = login_with_code(r, "carol", b32, relay_now(r));
	json_decref(b);
	lh_relay_stop_verify(r);
	lh_relay_free(r);
}

/* The at-rest key file's 32 bytes. */
static GBytes *key_bytes(struct lh_relay *r)
{
	g_autofree char *path = g_strdup_printf("%s/at-rest.key",
						r->state_dir);
	gchar *data = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	g_assert_cmpuint(len, ==, 32);
	return g_bytes_new_take(data, len);
}

/* Whether alice's sealed seed opens under key (the relay's associated
 * data: "lifeline mfa v1" NUL, the row id big-endian, the column), and
 * then that it is the seed b32 spells. */
static bool seed_opens(struct lh_relay *r, GBytes *key, const char *b32)
{
	g_autofree char *path = g_strdup_printf("%s/lifeline.db",
						r->state_dir);
	uint8_t aad[64], out[64], want[LL_TOTP_SEED_LEN];
	static const char label[] = "lifeline mfa v1";
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	size_t n = sizeof(label), len = 0, wn = 0;
	int64_t id;
	int i, rc;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(db,
					   "SELECT m.technician_id, m.seed"
					   " FROM technician_mfa m JOIN"
					   " technicians t ON t.id ="
					   " m.technician_id WHERE"
					   " t.username = 'alice'",
					   -1, &s, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(s), ==, SQLITE_ROW);
	id = sqlite3_column_int64(s, 0);
	memcpy(aad, label, n);
	for (i = 0; i < 8; i++)
		aad[n + (size_t)i] = (uint8_t)((uint64_t)id >> (8 * (7 - i)));
	memcpy(aad + n + 8, "seed", 4);
	rc = ll_aead_open(g_bytes_get_data(key, NULL), aad, n + 12,
			  sqlite3_column_blob(s, 1),
			  (size_t)sqlite3_column_bytes(s, 1), out, sizeof(out),
			  &len);
	sqlite3_finalize(s);
	sqlite3_close(db);
	if (rc != LL_OK)
		return false;
	g_assert_cmpint(ll_base32_decode(b32, want, sizeof(want), &wn), ==,
			LL_OK);
	g_assert_cmpmem(out, len, want, wn);
	return true;
}

/* `key rotate --test-crash-at WHERE`: dies there (exit 99). */
static void rotate_crash(struct lh_relay *r, const char *where)
{
	g_autofree char *tmp = g_strdup_printf("%s/at-rest.key.new",
					       r->state_dir);

	g_assert_cmpint(lh_relay_cmd(r, NULL, NULL, NULL, "key", "rotate",
				     "--test-crash-at", where, NULL),
			==, 99);
	g_assert_true(g_file_test(tmp, G_FILE_TEST_EXISTS));
}

/* A relay started again logs alice in with a code of a fresh step. */
static void login_again(struct lh_relay *r, const char *b32)
{
	lh_relay_start(r);
	g_assert_true(lh_relay_clock_advance(r, 2 * STEP));
	g_free(login_with_code(r, "alice", b32, relay_now(r)));
	lh_relay_stop_verify(r);
}

/*
 * `lifeline-relay key rotate` (issue 11 item 2): refused while serve
 * runs; a crash before the commit leaves the old key working, one after
 * it is finished by the next start; after it, oathtool's codes and a
 * recovery code (a keyed hash: the MAC key stays) still log in, the old
 * key opens no seed and is refused as the store's key, and the database
 * holds no seed.
 */
static void test_mfa_key_rotate(void)
{
	struct lh_relay *r = lh_relay_new("mfa-rotate", RATES);
	g_autofree char *token = NULL, *b32 = NULL, *out = NULL, *err = NULL;
	g_autofree char *key_path = NULL, *mt = NULL;
	g_autoptr(GBytes) k0 = NULL;
	g_autoptr(GBytes) k1 = NULL;
	g_autoptr(GBytes) k2 = NULL;
	g_auto(GStrv) rc = NULL;
	struct lh_resp *resp;
	GByteArray *bytes;

	lh_relay_start(r);
	if (!lh_relay_clock_advance(r, 0)) {
		g_test_skip("needs -Dtest_hooks=true");
		lh_relay_free(r);
		return;
	}
	lh_tech_add(r, "alice", PW, false);
	token = lh_login(r, "alice", PW);
	b32 = enrol(r, token, &rc);
	g_assert_cmpint(lh_relay_cmd(r, NULL, NULL, &err, "key", "rotate",
				     NULL),
			==, 1);
	g_assert_nonnull(strstr(err, "stop `lifeline-relay serve`"));
	lh_relay_stop_verify(r);
	k0 = key_bytes(r);
	g_assert_true(seed_opens(r, k0, b32));

	/* Cut short before the commit: the old key stays, the new goes. */
	rotate_crash(r, "before-commit");
	login_again(r, b32);
	g_assert_true(
		lh_relay_wait_log(r, "a rotation that never committed", 1, 1));
	g_assert_true(g_bytes_equal(k0, k1 = key_bytes(r)));
	g_clear_pointer(&k1, g_bytes_unref);
	g_assert_true(seed_opens(r, k0, b32));

	/* Cut short after it: the next start finishes the rename. */
	rotate_crash(r, "after-commit");
	login_again(r, b32);
	g_assert_true(lh_relay_wait_log(r, "finished the rotation", 1, 1));
	k1 = key_bytes(r);
	g_assert_false(g_bytes_equal(k0, k1));
	g_assert_false(seed_opens(r, k0, b32));
	g_assert_true(seed_opens(r, k1, b32));

	/* A whole one. */
	g_assert_cmpint(lh_relay_cmd(r, NULL, &out, NULL, "key", "rotate",
				     NULL),
			==, 0);
	g_assert_nonnull(strstr(out, "at-rest key rotated"));
	k2 = key_bytes(r);
	g_assert_false(g_bytes_equal(k1, k2));
	g_assert_false(seed_opens(r, k0, b32));
	g_assert_false(seed_opens(r, k1, b32));
	g_assert_true(seed_opens(r, k2, b32));
	login_again(r, b32);
	lh_relay_start(r);
	mt = login_mfa_token(r, "alice");
	resp = login_mfa(r, mt, "recovery_code", rc[3]);
	g_assert_cmpint(resp->status, ==, 200);
	lh_secret("token", lh_resp_str(resp, "token"));
	lh_resp_free(resp);
	lh_relay_stop_verify(r);
	g_assert_cmpuint(records_with(r, "key.rotate", "ok"), ==, 2);
	bytes = db_bytes(r);
	assert_no_seed(bytes, b32);
	g_byte_array_unref(bytes);

	/* The old key file back: refused, it is not the store's key. */
	key_path = g_strdup_printf("%s/at-rest.key", r->state_dir);
	g_assert_true(g_file_set_contents(key_path, g_bytes_get_data(k1, NULL),
					  32, NULL));
	g_assert_cmpint(chmod(key_path, 0600), ==, 0);
	g_free(err);
	g_assert_cmpint(lh_relay_cmd(r, NULL, NULL, &err, "technician", "list",
				     NULL),
			!=, 0);
	g_assert_nonnull(strstr(err, "is not the key the store is sealed"));
	lh_relay_free(r);
}

int main(int argc, char **argv)
{
	lh_init(&argc, &argv);
	g_test_add_func("/relay/mfa/flow", test_mfa_flow);
	g_test_add_func("/relay/mfa/policy", test_mfa_policy);
	g_test_add_func("/relay/mfa/key-rotate", test_mfa_key_rotate);
	return g_test_run();
}
