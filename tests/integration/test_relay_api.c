/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay's HTTP API over real TLS: login right and wrong, logout, PIN
 * issue and redeem (right, wrong, used, expired), session listing and
 * deletion rights, events, security headers, /healthz and /metrics.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define PIN_LIFETIME_S 5

static struct lh_relay *relay;
static char *alice_token;

static const char *const tech_pw = LH_CANARY_PASSWORD;

/* Alice's token, logged in on first use (tests may run alone with -p). */
static const char *alice(void)
{
	if (alice_token == NULL)
		alice_token = lh_login(relay, "alice", tech_pw);
	return alice_token;
}

static json_t *login_body(const char *user, const char *pw)
{
	return json_pack("{ssss}", "username", user, "password", pw);
}

static void test_login_ok(void)
{
	g_autofree char *t2 = NULL;

	/* A second login gets its own token. */
	t2 = lh_login(relay, "alice", tech_pw);
	g_assert_cmpstr(alice(), !=, t2);
}

static void test_login_wrong(void)
{
	json_t *b1 = login_body("alice", "Wrong-Pw-0000");
	json_t *b2 = login_body("nobody-here", "Wrong-Pw-0000");
	json_t *b3 = login_body("alice", "");
	struct lh_resp *r1, *r2, *r3;

	lh_secret("password", "Wrong-Pw-0000");
	r1 = lh_post(relay, "/api/v1/login", NULL, b1);
	r2 = lh_post(relay, "/api/v1/login", NULL, b2);
	r3 = lh_post(relay, "/api/v1/login", NULL, b3);
	lh_assert_error(r1, 401, "unauthorized");
	lh_assert_error(r2, 401, "unauthorized");
	lh_assert_error(r3, 401, "unauthorized");
	/* Wrong user and wrong password: the same answer, byte for byte,
	 * so accounts cannot be enumerated. */
	g_assert_cmpstr(r1->body, ==, r2->body);
	g_assert_cmpuint(r1->head->n_headers, ==, r2->head->n_headers);
	g_assert_null(lh_resp_str(r1, "token"));
	lh_resp_free(r1);
	lh_resp_free(r2);
	lh_resp_free(r3);
	json_decref(b1);
	json_decref(b2);
	json_decref(b3);
}

static void test_login_malformed(void)
{
	struct lh_req q = { .method = "POST", .path = "/api/v1/login" };
	struct lh_resp *r;

	q.body = "{\"username\": \"alice\", \"password\": ";
	r = lh_do(relay, &q);
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);

	q.body = "{\"username\": 42, \"password\": [\"x\"]}";
	r = lh_do(relay, &q);
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);

	q.body = "{\"username\": \"alice\"}";
	r = lh_do(relay, &q);
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);

	q.body = "[1, 2, 3]";
	r = lh_do(relay, &q);
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);
}

static void test_logout(void)
{
	g_autofree char *tok = lh_login(relay, "alice", tech_pw);
	struct lh_resp *r;

	r = lh_get(relay, "/api/v1/sessions", tok);
	g_assert_cmpint(r->status, ==, 200);
	lh_resp_free(r);

	r = lh_post(relay, "/api/v1/logout", tok, NULL);
	g_assert_cmpint(r->status, ==, 204);
	g_assert_cmpuint(r->body_len, ==, 0);
	lh_resp_free(r);

	/* The token is gone; the other one of alice is not. */
	r = lh_get(relay, "/api/v1/sessions", tok);
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);
	r = lh_get(relay, "/api/v1/sessions", alice());
	g_assert_cmpint(r->status, ==, 200);
	lh_resp_free(r);

	r = lh_post(relay, "/api/v1/logout", tok, NULL);
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);
}

static void test_bearer_required(void)
{
	struct lh_resp *r;

	r = lh_get(relay, "/api/v1/sessions", NULL);
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);
	/* Bearers that are not tokens are secrets all the same: the relay
	 * must not log what it was offered. */
	lh_secret("token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	lh_secret("token", "not-a-token");
	r = lh_get(relay, "/api/v1/sessions",
		   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);
	r = lh_post(relay, "/api/v1/sessions", "not-a-token", NULL);
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);
}

static json_t *find_session(json_t *list, const char *id)
{
	size_t i;
	json_t *s;

	json_array_foreach(json_object_get(list, "sessions"), i, s)
	{
		if (g_strcmp0(json_string_value(
				      json_object_get(s, "session_id")),
			      id) == 0)
			return s;
	}
	return NULL;
}

static const char *session_state(const char *token, const char *id, char *buf,
				 size_t len)
{
	struct lh_resp *r = lh_get(relay, "/api/v1/sessions", token);
	json_t *s;

	g_assert_cmpint(r->status, ==, 200);
	g_assert_true(json_is_array(json_object_get(r->json, "sessions")));
	s = find_session(r->json, id);
	g_assert_nonnull(s);
	g_assert_nonnull(json_object_get(s, "created_at"));
	g_assert_nonnull(json_object_get(s, "expires_at"));
	g_strlcpy(buf, json_string_value(json_object_get(s, "state")), len);
	lh_resp_free(r);
	return buf;
}

static void test_pin_issue_redeem(void)
{
	struct lh_pin p = { 0 }, q = { 0 };
	g_autofree char *ticket = NULL;
	char st[32];

	lh_pin_new(relay, alice(), NULL, &p);
	lh_pin_new(relay, alice(), "any", &q);
	g_assert_cmpstr(p.pin, !=, q.pin);
	g_assert_cmpstr(p.session_id, !=, q.session_id);
	g_assert_cmpstr(session_state(alice(), p.session_id, st, sizeof(st)),
			==, "waiting");

	ticket = lh_redeem(relay, p.pin, p.session_id);
	g_assert_cmpstr(ticket, !=, p.agent_ticket);
	lh_pin_clear(&p);
	lh_pin_clear(&q);
}

static void test_pin_bad_lock(void)
{
	json_t *b = json_pack("{ss}", "lock", "sideways");
	struct lh_resp *r = lh_post(relay, "/api/v1/sessions", alice(), b);

	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);
	json_decref(b);
}

static struct lh_resp *redeem(const char *pin)
{
	json_t *b = json_pack("{ss}", "pin", pin);
	struct lh_resp *r = lh_post(relay, "/api/v1/pins/redeem", NULL, b);

	json_decref(b);
	return r;
}

static void test_pin_wrong(void)
{
	struct lh_pin p = { 0 };
	char wrong[7];
	struct lh_resp *r;

	lh_pin_new(relay, alice(), NULL, &p);
	/* A neighbour of a live PIN is still wrong. */
	g_snprintf(wrong, sizeof(wrong), "%06d", (atoi(p.pin) + 1) % 1000000);
	lh_secret("pin", wrong);
	r = redeem(wrong);
	lh_assert_error(r, 0, "pin_invalid");
	lh_resp_free(r);

	r = redeem("12345");
	g_assert_cmpint(r->status, >=, 400);
	g_assert_cmpint(r->status, <, 500);
	g_assert_nonnull(lh_resp_error_code(r));
	lh_resp_free(r);

	/* The real one still works afterwards. */
	g_free(lh_redeem(relay, p.pin, p.session_id));
	lh_pin_clear(&p);
}

static void test_pin_used(void)
{
	struct lh_pin p = { 0 };
	struct lh_resp *r, *unknown;

	lh_pin_new(relay, alice(), NULL, &p);
	g_free(lh_redeem(relay, p.pin, p.session_id));
	r = redeem(p.pin);
	lh_assert_error(r, 0, "pin_invalid");
	g_assert_null(lh_resp_str(r, "ticket"));
	/* Used and unknown look the same: PINs cannot be enumerated. */
	unknown = redeem("000000");
	lh_assert_error(unknown, r->status, "pin_invalid");
	g_assert_cmpstr(unknown->body, ==, r->body);
	lh_resp_free(unknown);
	lh_resp_free(r);
	lh_pin_clear(&p);
}

static void test_pin_expired(void)
{
	g_autofree char *expired_line = NULL;
	struct lh_pin p = { 0 };
	struct lh_resp *r;
	char st[32];

	lh_pin_new(relay, alice(), NULL, &p);
	/* Past its lifetime on the relay's test clock, then the relay's
	 * once-a-second sweep notices. */
	if (!lh_relay_clock_advance(relay, PIN_LIFETIME_S + 2)) {
		g_test_skip("needs a build with -Dtest_hooks=true");
		lh_pin_clear(&p);
		return;
	}
	expired_line = g_strdup_printf("session %s: PIN expired",
				       p.session_id);
	g_assert_true(lh_relay_wait_log(relay, expired_line, 1, 10000));
	r = redeem(p.pin);
	lh_assert_error(r, 0, "pin_expired");
	lh_resp_free(r);
	g_assert_cmpstr(session_state(alice(), p.session_id, st, sizeof(st)),
			==, "expired");
	lh_pin_clear(&p);
}

static void test_session_rights(void)
{
	g_autofree char *bob = NULL, *path = NULL;
	struct lh_pin p = { 0 };
	struct lh_resp *r;
	char st[32];

	bob = lh_login(relay, "bob", tech_pw);
	lh_pin_new(relay, alice(), NULL, &p);
	path = g_strdup_printf("/api/v1/sessions/%s", p.session_id);

	/* Bob neither sees nor ends Alice's session. */
	r = lh_get(relay, "/api/v1/sessions", bob);
	g_assert_cmpint(r->status, ==, 200);
	g_assert_null(find_session(r->json, p.session_id));
	lh_resp_free(r);
	r = lh_delete(relay, path, bob);
	g_assert_true(r->status == 403 || r->status == 404);
	lh_assert_error(r, r->status,
			r->status == 403 ? "forbidden" : "not_found");
	lh_resp_free(r);
	g_assert_cmpstr(session_state(alice(), p.session_id, st, sizeof(st)),
			==, "waiting");

	r = lh_delete(relay,
		      "/api/v1/sessions/00000000000000000000000000000000",
		      alice());
	lh_assert_error(r, 404, "not_found");
	lh_resp_free(r);

	r = lh_delete(relay, path, NULL);
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);

	r = lh_delete(relay, path, alice());
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	g_assert_cmpstr(session_state(alice(), p.session_id, st, sizeof(st)),
			==, "ended");
	/* An ended session's PIN no longer redeems. */
	r = redeem(p.pin);
	g_assert_cmpint(r->status, >=, 400);
	g_assert_null(lh_resp_str(r, "ticket"));
	lh_resp_free(r);
	lh_pin_clear(&p);
}

static void test_events(void)
{
	struct lh_session s = { 0 };
	g_autofree char *path = NULL;
	json_t *ev;
	struct lh_resp *r;

	lh_session_new(relay, alice(), &s);
	path = g_strdup_printf("/api/v1/sessions/%s/events", s.pin.session_id);
	ev = json_pack("{ss s[ss]}", "type", "consent", "capabilities", "view",
		       "control");
	r = lh_post(relay, path, s.applet_ticket, ev);
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	r = lh_post(relay, path, s.pin.agent_ticket, ev);
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	r = lh_post(relay, path, NULL, ev);
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);
	json_decref(ev);

	ev = json_pack("{ss}", "type", "make-coffee");
	r = lh_post(relay, path, s.applet_ticket, ev);
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);
	json_decref(ev);
	lh_session_clear(&s);
}

static void check_security_headers(const struct lh_resp *r, bool api)
{
	const char *hsts = lh_resp_header(r, "Strict-Transport-Security");
	const char *p;

	g_assert_nonnull(hsts);
	p = strstr(hsts, "max-age=");
	g_assert_nonnull(p);
	/* At least 180 days, as testssl.sh and Mozilla expect. */
	g_assert_cmpint(g_ascii_strtoll(p + 8, NULL, 10), >=, 15552000);
	g_assert_cmpstr(lh_resp_header(r, "X-Content-Type-Options"), ==,
			"nosniff");
	g_assert_nonnull(lh_resp_header(r, "X-Frame-Options"));
	g_assert_nonnull(lh_resp_header(r, "Content-Security-Policy"));
	g_assert_nonnull(lh_resp_header(r, "Referrer-Policy"));
	if (api) {
		g_assert_nonnull(lh_resp_header(r, "Cache-Control"));
		g_assert_nonnull(strstr(lh_resp_header(r, "Cache-Control"),
					"no-store"));
	}
}

static void test_security_headers(void)
{
	struct lh_resp *r;
	json_t *b;

	r = lh_get(relay, "/healthz", NULL);
	g_assert_cmpint(r->status, ==, 200);
	check_security_headers(r, false);
	lh_resp_free(r);

	r = lh_get(relay, "/api/v1/sessions", alice());
	g_assert_cmpint(r->status, ==, 200);
	check_security_headers(r, true);
	lh_resp_free(r);

	b = login_body("nobody", "Wrong-Pw-0000");
	r = lh_post(relay, "/api/v1/login", NULL, b);
	check_security_headers(r, true);
	lh_resp_free(r);
	json_decref(b);

	r = lh_get(relay, "/api/v1/no-such-thing", NULL);
	lh_assert_error(r, 404, "not_found");
	check_security_headers(r, true);
	lh_resp_free(r);

	r = lh_get(relay, "/", NULL);
	check_security_headers(r, false);
	lh_resp_free(r);
}

/* method on path: 405 whose Allow lists what the route table serves. */
static void assert_not_allowed(const char *method, const char *path,
			       const char *allow)
{
	struct lh_req q = { .method = method, .path = path };
	struct lh_resp *r;

	if (strcmp(method, "GET") != 0 && strcmp(method, "DELETE") != 0)
		q.body = "{}";
	r = lh_do(relay, &q);
	lh_assert_error(r, 405, "bad_request");
	g_assert_cmpstr(lh_resp_header(r, "Allow"), ==, allow);
	lh_resp_free(r);
}

static void test_method_not_allowed(void)
{
	assert_not_allowed("PUT", "/api/v1/login", "POST");
	assert_not_allowed("GET", "/api/v1/login", "POST");
	assert_not_allowed("PUT", "/api/v1/sessions", "GET, POST");
	assert_not_allowed("GET",
			   "/api/v1/sessions/00000000000000000000000000000000",
			   "DELETE");
	assert_not_allowed("GET", "/api/v1/sessions/x/events", "POST");
	assert_not_allowed("DELETE", "/api/v1/pins/redeem", "POST, OPTIONS");
}

/* Paths next to the routes: no route (404), and a malformed session id,
 * which is not a route of its own: authentication first, then the same
 * 404 as for an unknown id. */
static void test_routes(void)
{
	static const char *const unknown[] = {
		"/api/v1/sessions/",
		"/api/v1/login/",
		"/api/v1//login",
		"/api/v1/sessions/00000000000000000000000000000000/other",
		"/api/v1/sessions/00000000000000000000000000000000/events/",
		"/api/v1/pins",
		"/api/v2/login",
		"/api/v1/LOGIN",
	};
	struct lh_resp *r;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(unknown); i++) {
		r = lh_post(relay, unknown[i], alice(), NULL);
		lh_assert_error(r, 404, "not_found");
		g_assert_null(lh_resp_header(r, "Allow"));
		lh_resp_free(r);
	}
	r = lh_delete(relay, "/api/v1/sessions/not-a-session-id", NULL);
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);
	r = lh_delete(relay, "/api/v1/sessions/not-a-session-id", alice());
	lh_assert_error(r, 404, "not_found");
	lh_resp_free(r);
	r = lh_delete(relay,
		      "/api/v1/sessions/0000000000000000000000000000000G",
		      alice());
	lh_assert_error(r, 404, "not_found");
	lh_resp_free(r);
}

static void test_keep_alive(void)
{
	struct lh_conn *c = lh_connect(relay, NULL);
	struct lh_req q = { .method = "GET", .path = "/healthz", .conn = c };
	struct lh_resp *r;
	int i;

	/* Several requests, one connection. */
	for (i = 0; i < 3; i++) {
		r = lh_do(relay, &q);
		g_assert_cmpint(r->status, ==, 200);
		lh_resp_free(r);
	}
	q.path = "/api/v1/sessions";
	q.bearer = alice();
	r = lh_do(relay, &q);
	g_assert_cmpint(r->status, ==, 200);
	lh_resp_free(r);
	lh_conn_free(c);
}

static void test_healthz(void)
{
	struct lh_resp *r = lh_get(relay, "/healthz", NULL);

	g_assert_cmpint(r->status, ==, 200);
	g_assert_true(g_str_has_prefix(r->body, "ok"));
	lh_resp_free(r);
}

static void test_metrics(void)
{
	struct lh_resp *m1, *m2, *r;
	double req1, req2, ref1, ref2;
	json_t *b;

	m1 = lh_get(relay, "/metrics", NULL);
	g_assert_cmpint(m1->status, ==, 200);
	g_assert_nonnull(
		strstr(lh_resp_header(m1, "Content-Type"), "text/plain"));
	g_assert_nonnull(strstr(m1->body, "# TYPE "));
	req1 = lh_metric_sum(m1->body, "request", NULL);
	ref1 = lh_metric_sum(m1->body, "unauthorized", NULL);
	g_assert_cmpfloat(req1, >, 0);

	b = login_body("alice", "Wrong-Pw-0000");
	r = lh_post(relay, "/api/v1/login", NULL, b);
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);
	json_decref(b);

	m2 = lh_get(relay, "/metrics", NULL);
	req2 = lh_metric_sum(m2->body, "request", NULL);
	ref2 = lh_metric_sum(m2->body, "unauthorized", NULL);
	g_test_message("requests %g -> %g, unauthorized %g -> %g", req1, req2,
		       ref1, ref2);
	g_assert_cmpfloat(req2, >=, req1 + 2);
	g_assert_cmpfloat(ref2, >=, MAX(ref1, 0) + 1);
	/* The gauges the issue names exist. */
	g_assert_cmpfloat(lh_metric_sum(m2->body, "sessions", NULL), >=, 0);
	g_assert_cmpfloat(lh_metric_sum(m2->body, "bytes", NULL), >=, 0);
	/* Nothing secret in there. */
	g_assert_null(strstr(m2->body, alice()));
	lh_resp_free(m1);
	lh_resp_free(m2);
}

static void test_stop_and_verify(void)
{
	int64_t n;

	g_assert_cmpint(lh_relay_stop(relay, 10000), ==, 0);
	n = lh_audit_verify_intact(relay);
	g_assert_cmpint(n, >=, 10);
}

int main(int argc, char **argv)
{
	g_autofree char *conf = NULL;
	int rc;

	lh_init(&argc, &argv);
	conf = g_strdup_printf("pin_lifetime_s=%d\n"
			       "login_rate_per_min=600\nlogin_burst=100\n"
			       "redeem_rate_per_min=600\nredeem_burst=100\n",
			       PIN_LIFETIME_S);
	relay = lh_relay_new("api", conf);
	lh_tech_add(relay, "alice", tech_pw, true);
	lh_tech_add(relay, "bob", tech_pw, false);
	lh_relay_start(relay);

	g_test_add_func("/api/login-ok", test_login_ok);
	g_test_add_func("/api/login-wrong", test_login_wrong);
	g_test_add_func("/api/login-malformed", test_login_malformed);
	g_test_add_func("/api/logout", test_logout);
	g_test_add_func("/api/bearer-required", test_bearer_required);
	g_test_add_func("/api/pin-issue-redeem", test_pin_issue_redeem);
	g_test_add_func("/api/pin-bad-lock", test_pin_bad_lock);
	g_test_add_func("/api/pin-wrong", test_pin_wrong);
	g_test_add_func("/api/pin-used", test_pin_used);
	g_test_add_func("/api/pin-expired", test_pin_expired);
	g_test_add_func("/api/sessions-rights", test_session_rights);
	g_test_add_func("/api/sessions-events", test_events);
	g_test_add_func("/api/security-headers", test_security_headers);
	g_test_add_func("/api/method-not-allowed", test_method_not_allowed);
	g_test_add_func("/api/routes", test_routes);
	g_test_add_func("/api/keep-alive", test_keep_alive);
	g_test_add_func("/api/healthz", test_healthz);
	g_test_add_func("/api/metrics", test_metrics);
	g_test_add_func("/api/stop-and-audit-verify", test_stop_and_verify);
	rc = g_test_run();
	g_free(alice_token);
	lh_relay_free(relay);
	return rc;
}
