/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Abuse and limits, against the real relay: garbage bytes, plaintext on
 * the TLS port, malformed, oversized head (431), too many headers, long
 * URL (414), oversized body (413), handshake and head timeouts -- all
 * while another paired session goes on transferring unharmed.  Then the
 * per-address cap on unauthenticated connections and the login and
 * redeem rate limits (429 with Retry-After).
 *
 * Different source addresses (127.0.0.x) keep the per-address limits of
 * one test away from the others.
 */
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "harness.h"

#define UNAUTH_CAP 4
#define TIMEOUT_MS 3000
#define BURST 3

static struct lh_relay *relay;
static char *token;

static void assert_healthy(void)
{
	struct lh_resp *r = lh_get(relay, "/healthz", NULL);

	g_assert_cmpint(r->status, ==, 200);
	lh_resp_free(r);
	g_assert_true(lh_relay_alive(relay));
}

/* Raw bytes over plain TCP: the relay must drop the connection. */
static void abuse_tcp(const void *bytes, size_t len, const char *what)
{
	int fd = lh_tcp_connect(relay, NULL);
	size_t seen = 0;
	char buf[64] = "";
	ssize_t n;

	g_assert_cmpint(write(fd, bytes, len), ==, (ssize_t)len);
	/* Whatever comes back is not a page. */
	n = recv(fd, buf, sizeof(buf) - 1, MSG_PEEK);
	if (n > 0)
		g_assert_false(g_str_has_prefix(buf, "HTTP/1.1 200"));
	g_assert_cmpint(lh_fd_wait_closed(fd, TIMEOUT_MS + 2000, &seen), ==,
			LL_OK);
	g_test_message("%s: closed after %zu bytes back", what, seen);
	close(fd);
}

static struct lh_resp *raw(const char *req, size_t len)
{
	struct lh_conn *c = lh_connect(relay, NULL);
	struct lh_resp *r = NULL;
	int rv = lh_raw_try(c, req, len, 10000, &r);

	if (rv != LL_OK)
		g_error("no answer to a bad request: %s", ll_strerror(rv));
	/* After a framing error the connection does not go on. */
	g_assert_cmpint(lh_conn_wait_closed(c, TIMEOUT_MS + 2000), ==, LL_OK);
	lh_conn_free(c);
	return r;
}

static void abuse_tcp_s(const char *bytes, const char *what)
{
	abuse_tcp(bytes, strlen(bytes), what);
}

static struct lh_resp *raw_s(const char *req)
{
	return raw(req, strlen(req));
}

static void abuse_all(void)
{
	uint8_t junk[4096];
	GString *s;
	struct lh_resp *r;
	struct lh_conn *idle;
	int idle_tcp, i;
	size_t seen;

	/* Started first so that the timeouts run alongside the rest. */
	idle_tcp = lh_tcp_connect(relay, NULL);
	idle = lh_connect(relay, NULL);

	for (i = 0; i < (int)sizeof(junk); i++)
		junk[i] = (uint8_t)g_random_int();
	junk[0] = 0x16; /* looks like a TLS handshake record, is not */
	abuse_tcp(junk, sizeof(junk), "garbage");
	abuse_tcp_s("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
		    "plaintext HTTP");
	abuse_tcp_s("\x16\x03\x01\xff\xff", "oversized TLS record header");

	r = raw_s("\x01\x02 nonsense \xff\r\n\r\n");
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);
	r = raw_s("GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n");
	g_assert_cmpint(r->status, >=, 400);
	lh_resp_free(r);
	/* CRLF only, no folded lines: what a proxy in front might read
	 * differently is refused (the codec's unit test has every case). */
	r = raw_s("GET /healthz HTTP/1.1\nHost: 127.0.0.1\n\n");
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);
	r = raw_s("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		  "X-A: a\r\n b\r\n\r\n");
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);

	/* Header section over max_head_bytes: 431. */
	s = g_string_new("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			 "X-Pad: ");
	for (i = 0; i < 16000; i++)
		g_string_append_c(s, 'a');
	g_string_append(s, "\r\n\r\n");
	r = raw(s->str, s->len);
	lh_assert_error(r, 431, "bad_request");
	lh_resp_free(r);
	g_string_free(s, TRUE);

	/* More headers than max_headers, each small: 431. */
	s = g_string_new("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
	for (i = 0; i < 100; i++)
		g_string_append_printf(s, "X-H%d: %d\r\n", i, i);
	g_string_append(s, "\r\n");
	r = raw(s->str, s->len);
	lh_assert_error(r, 431, "bad_request");
	lh_resp_free(r);
	g_string_free(s, TRUE);

	/* A URL of 4 KiB: 414. */
	s = g_string_new("GET /api/v1/");
	for (i = 0; i < 4096; i++)
		g_string_append_c(s, 'u');
	g_string_append(s, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	r = raw(s->str, s->len);
	lh_assert_error(r, 414, "bad_request");
	lh_resp_free(r);
	g_string_free(s, TRUE);

	/* A body over max_body_bytes, sent whole: 413. */
	s = g_string_new("POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			 "Content-Type: application/json\r\n"
			 "Content-Length: 100000\r\n\r\n");
	g_string_append(s, "{\"username\": \"");
	for (i = 0; i < 100000 - 17; i++)
		g_string_append_c(s, 'x');
	g_string_append(s, "\"}");
	r = raw(s->str, s->len);
	lh_assert_error(r, 413, "payload_too_large");
	lh_resp_free(r);
	g_string_free(s, TRUE);

	/* A huge declared body is refused before it arrives. */
	r = raw_s("POST /api/v1/pins/redeem HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		  "Content-Type: application/json\r\n"
		  "Content-Length: 1073741824\r\n\r\n");
	lh_assert_error(r, 413, "payload_too_large");
	lh_resp_free(r);

	/* A TLS connection that never sends a request, and a TCP one that
	 * never starts TLS: both are cut after their timeouts. */
	g_assert_cmpint(lh_conn_wait_closed(idle, TIMEOUT_MS + 3000), ==,
			LL_OK);
	g_assert_cmpint(lh_fd_wait_closed(idle_tcp, TIMEOUT_MS + 3000, &seen),
			==, LL_OK);
	lh_conn_free(idle);
	close(idle_tcp);
	assert_healthy();
}

static void test_abuse_while_transferring(void)
{
	uint64_t n = 24 * LH_MIB;
	struct lh_session s = { 0 };
	struct lh_conn *a, *b;
	struct lh_end ea, eb;
	uint64_t before, after;

	lh_session_new(relay, token, &s);
	lh_pair_open(relay, &s, &a, &b);
	/* Paced to last through the abuse below (~384 chunks x 15 ms). */
	lh_end_start(&ea, a, n, n, 11, 15000, false);
	lh_end_start(&eb, b, n, n, 12, 15000, false);
	/* Under way in both directions before the abuse starts. */
	g_assert_true(lh_end_wait_recvd(&ea, 1, 10000));
	g_assert_true(lh_end_wait_recvd(&eb, 1, 10000));
	before = atomic_load(&ea.recvd) + atomic_load(&eb.recvd);

	abuse_all();

	after = atomic_load(&ea.recvd) + atomic_load(&eb.recvd);
	g_test_message("paired session moved %" G_GUINT64_FORMAT
		       " KiB during the abuse",
		       (after - before) / 1024);
	/* The session was alive and moving while the relay was abused. */
	g_assert_cmpuint(before, <, 2 * n);
	g_assert_cmpuint(after, >, before);
	if (!lh_end_join(&ea) || !lh_end_join(&eb))
		g_error("transfer during abuse: %s / %s", ea.err, eb.err);
	g_assert_cmpstr(ea.sent_sha, ==, eb.recv_sha);
	g_assert_cmpstr(eb.sent_sha, ==, ea.recv_sha);
	lh_pair_ping(a, b);
	lh_conn_free(a);
	lh_conn_free(b);
	lh_session_clear(&s);
}

/* Does a new client from src get served now? */
static bool served_from(const char *src)
{
	struct lh_conn *c = NULL;
	struct lh_resp *r = NULL;
	char errbuf[256] = "";
	bool ok = false;

	if (lh_connect_try(relay, src, NULL, &c, errbuf, sizeof(errbuf)) !=
	    LL_OK) {
		g_test_message("connect from %s refused: %s", src, errbuf);
		return false;
	}
	static const char req[] =
		"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

	if (lh_raw_try(c, req, strlen(req), 5000, &r) == LL_OK) {
		ok = r->status == 200;
		if (!ok)
			g_test_message("from %s: %d %s", src, r->status,
				       r->body);
	}
	lh_resp_free(r);
	lh_conn_free(c);
	return ok;
}

static void test_unauth_cap(void)
{
	const char *src = "127.0.0.21";
	struct lh_conn *held[UNAUTH_CAP];
	int i;

	g_assert_true(served_from(src));
	/* UNAUTH_CAP connections that say nothing after the handshake. */
	for (i = 0; i < UNAUTH_CAP; i++)
		held[i] = lh_connect(relay, src);
	g_assert_false(served_from(src));
	/* Another address is not affected. */
	g_assert_true(served_from("127.0.0.22"));
	/* Once the relay has let go of them, their slots are free again. */
	for (i = 0; i < UNAUTH_CAP; i++)
		g_assert_cmpint(lh_conn_end(held[i], 5000), ==, LL_OK);
	g_assert_true(served_from(src));
}

static struct lh_resp *post_from(const char *src, const char *path,
				 json_t *body)
{
	g_autofree char *text = json_dumps(body, JSON_COMPACT);
	struct lh_req q = {
		.method = "POST", .path = path, .body = text, .src_ip = src
	};

	return lh_do(relay, &q);
}

static void assert_rate_limited(const struct lh_resp *r)
{
	const char *ra = lh_resp_header(r, "Retry-After");
	int64_t secs;

	lh_assert_error(r, 429, "rate_limited");
	g_assert_nonnull(ra);
	secs = g_ascii_strtoll(ra, NULL, 10);
	g_assert_cmpint(secs, >=, 1);
	g_assert_cmpint(secs, <=, 3600);
}

static void test_login_rate(void)
{
	json_t *wrong = json_pack("{ssss}", "username", "alice", "password",
				  "Wrong-Pw-1111");
	json_t *right = json_pack("{ssss}", "username", "alice", "password",
				  LH_CANARY_PASSWORD);
	struct lh_resp *r;
	int i;

	lh_secret("password", "Wrong-Pw-1111");
	for (i = 0; i < BURST; i++) {
		r = post_from("127.0.0.31", "/api/v1/login", wrong);
		lh_assert_error(r, 401, "unauthorized");
		lh_resp_free(r);
	}
	r = post_from("127.0.0.31", "/api/v1/login", wrong);
	assert_rate_limited(r);
	lh_resp_free(r);
	/* The limit comes first: the right password waits as well. */
	r = post_from("127.0.0.31", "/api/v1/login", right);
	assert_rate_limited(r);
	g_assert_null(lh_resp_str(r, "token"));
	lh_resp_free(r);
	/* Per source address: another one logs in. */
	r = post_from("127.0.0.32", "/api/v1/login", right);
	g_assert_cmpint(r->status, ==, 200);
	lh_secret("token", lh_resp_str(r, "token"));
	lh_resp_free(r);
	json_decref(wrong);
	json_decref(right);
}

static void test_redeem_rate(void)
{
	json_t *wrong = json_pack("{ss}", "pin", "000001");
	struct lh_pin p = { 0 };
	struct lh_resp *r;
	json_t *body;
	int i;

	for (i = 0; i < BURST; i++) {
		r = post_from("127.0.0.41", "/api/v1/pins/redeem", wrong);
		lh_assert_error(r, 0, "pin_invalid");
		lh_resp_free(r);
	}
	r = post_from("127.0.0.41", "/api/v1/pins/redeem", wrong);
	assert_rate_limited(r);
	lh_resp_free(r);

	/* A real PIN from the limited address waits; elsewhere it works. */
	lh_pin_new(relay, token, NULL, &p);
	body = json_pack("{ss}", "pin", p.pin);
	r = post_from("127.0.0.41", "/api/v1/pins/redeem", body);
	assert_rate_limited(r);
	g_assert_null(lh_resp_str(r, "ticket"));
	lh_resp_free(r);
	r = post_from("127.0.0.42", "/api/v1/pins/redeem", body);
	g_assert_cmpint(r->status, ==, 200);
	lh_secret("ticket", lh_resp_str(r, "ticket"));
	lh_resp_free(r);
	json_decref(body);
	json_decref(wrong);
	lh_pin_clear(&p);
}

static void test_metrics_refusals(void)
{
	struct lh_resp *m = lh_get(relay, "/metrics", NULL);

	/* The refusals above are counted by code. */
	g_assert_cmpfloat(lh_metric_sum(m->body, "rate_limited", NULL), >=, 4);
	g_assert_cmpfloat(lh_metric_sum(m->body, "payload_too_large", NULL),
			  >=, 2);
	lh_resp_free(m);
}

static void test_stop_and_verify(void)
{
	g_assert_cmpint(lh_relay_stop(relay, 10000), ==, 0);
	g_assert_cmpint(lh_audit_verify_intact(relay), >=, 10);
}

int main(int argc, char **argv)
{
	g_autofree char *conf = NULL;
	int rc;

	lh_init(&argc, &argv);
	conf = g_strdup_printf("max_unauth_per_ip=%d\n"
			       "handshake_timeout_ms=%d\nhead_timeout_ms=%d\n"
			       "max_head_bytes=8192\nmax_headers=64\n"
			       "max_body_bytes=65536\n"
			       "login_rate_per_min=2\nlogin_burst=%d\n"
			       "redeem_rate_per_min=2\nredeem_burst=%d\n",
			       UNAUTH_CAP, TIMEOUT_MS, TIMEOUT_MS, BURST,
			       BURST);
	relay = lh_relay_new("limits", conf);
	lh_tech_add(relay, "alice", LH_CANARY_PASSWORD, false);
	lh_relay_start(relay);
	token = lh_login(relay, "alice", LH_CANARY_PASSWORD);

	g_test_add_func("/limits/abuse-while-transferring",
			test_abuse_while_transferring);
	g_test_add_func("/limits/unauth-cap", test_unauth_cap);
	g_test_add_func("/limits/login-rate", test_login_rate);
	g_test_add_func("/limits/redeem-rate", test_redeem_rate);
	g_test_add_func("/limits/metrics-refusals", test_metrics_refusals);
	g_test_add_func("/limits/stop-and-audit-verify", test_stop_and_verify);
	rc = g_test_run();
	g_free(token);
	lh_relay_free(relay);
	return rc;
}
