/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Password hashing off the relay's loop, on its worker pool: a paired
 * stream keeps flowing while a flood of logins waits for its hashes,
 * pipelined logins are answered in order, a full queue answers 429
 * rate_limited at once, and a connection that closes (or a relay that
 * stops) while its hash runs ends cleanly.
 *
 * Every test holds the hashes with the relay's test hash gate
 * (lh_relay_hash_gate, a -Dtest_hooks=true build): "the logins are still
 * being checked" is then a state the test sets, not a matter of timing.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "lt_wait.h"

#define WRONG_PW "Wrong-Pw-hash-0000"
/* Each flood address pipelines this many logins. */
#define FLOOD_ADDRS 40
#define FLOOD_DEPTH 10
#define ROUND_TRIPS 50
#define WAIT_MS 30000

/* Debug logs say "hash queued"; no login rate limit in the way. */
#define CONF_BASE                                                             \
	"log_level=3\nlogin_rate_per_min=1000000\nlogin_burst=1000000\n"

static const char *const tech_pw = LH_CANARY_PASSWORD;

static struct lh_relay *start(const char *name, const char *extra)
{
	g_autofree char *conf = g_strdup_printf("%s%s", CONF_BASE,
						extra ? extra : "");
	struct lh_relay *r = lh_relay_new(name, conf);

	lh_tech_add(r, "alice", tech_pw, false);
	lh_relay_start(r);
	return r;
}

/* A login request, kept alive, for pipelining. */
static void append_login(GString *s, struct lh_relay *r, const char *user,
			 const char *pw)
{
	g_autofree char *body = g_strdup_printf(
		"{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);

	g_string_append_printf(s,
			       "POST /api/v1/login HTTP/1.1\r\n"
			       "Host: 127.0.0.1:%u\r\n"
			       "Content-Type: application/json\r\n"
			       "Content-Length: %zu\r\n\r\n%s",
			       r->port, strlen(body), body);
}

static void append_get(GString *s, struct lh_relay *r, const char *path)
{
	g_string_append_printf(s,
			       "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n",
			       path, r->port);
}

static void send_all(struct lh_conn *c, GString *s)
{
	g_assert_cmpint(lh_conn_write_all(c, s->str, s->len), ==, LL_OK);
	memset(s->str, 0, s->len);
	g_string_truncate(s, 0);
}

static struct lh_resp *read_one(struct lh_conn *c)
{
	struct lh_resp *resp = NULL;
	int rv = lh_read_response(c, WAIT_MS, &resp);

	if (rv != LL_OK)
		g_error("no answer: %s", ll_strerror(rv));
	return resp;
}

static void expect_error(struct lh_conn *c, int status, const char *code)
{
	struct lh_resp *resp = read_one(c);

	lh_assert_error(resp, status, code);
	lh_resp_free(resp);
}

static char *flood_ip(int i)
{
	/* 127.0.1.x: away from the addresses other tests use */
	return g_strdup_printf("127.0.1.%d", i + 1);
}

/*
 * The point of the pool: while 40 addresses' logins wait for their
 * hashes, a paired stream's bytes still go both ways.  With hashing on
 * the loop, the loop itself would wait at the gate and the first ping
 * would time out.
 */
static void test_stream_during_flood(void)
{
	struct lh_relay *r = start("hash-flood", NULL);
	struct lh_conn *flood[FLOOD_ADDRS], *a = NULL, *b = NULL;
	struct lh_session s;
	g_autofree char *token = NULL;
	GString *req = g_string_new(NULL);
	int queued, refused, i, k;

	if (!lh_relay_hash_gate(r, false)) {
		g_test_skip("needs a build with -Dtest_hooks=true");
		goto out;
	}
	lh_secret("password", WRONG_PW);
	token = lh_login(r, "alice", tech_pw);
	lh_session_new(r, token, &s);
	lh_pair_open(r, &s, &a, &b);
	lh_pair_ping(a, b);

	g_assert_true(lh_relay_hash_gate(r, true));
	queued = lh_relay_log_count(r, "hash queued");
	refused = lh_relay_log_count(r, "refused login");
	for (i = 0; i < FLOOD_ADDRS; i++) {
		g_autofree char *ip = flood_ip(i);

		flood[i] = lh_connect(r, ip);
		for (k = 0; k < FLOOD_DEPTH; k++)
			append_login(req, r, k % 2 ? "alice" : "nobody",
				     WRONG_PW);
		send_all(flood[i], req);
	}
	/* Each connection's first login is with the pool, the rest wait
	 * behind it, unparsed. */
	g_assert_true(lh_relay_wait_log(r, "hash queued", queued + FLOOD_ADDRS,
					WAIT_MS));
	g_assert_true(lh_relay_wait_log(r, "test hash gate: ", 1, WAIT_MS));

	for (i = 0; i < ROUND_TRIPS; i++)
		lh_pair_ping(a, b);
	/* ... and not one login was answered meanwhile. */
	g_assert_cmpint(lh_relay_log_count(r, "refused login"), ==, refused);

	g_assert_true(lh_relay_hash_gate(r, false));
	for (i = 0; i < FLOOD_ADDRS; i++) {
		for (k = 0; k < FLOOD_DEPTH; k++)
			expect_error(flood[i], 401, "unauthorized");
		lh_conn_free(flood[i]);
	}
	lh_pair_ping(a, b);
	lh_conn_free(a);
	lh_conn_free(b);
	lh_session_clear(&s);
	g_assert_cmpint(lh_relay_stop(r, 30000), ==, 0);
	lh_audit_verify_intact(r);
out:
	g_string_free(req, TRUE);
	lh_relay_free(r);
}

/*
 * Pipelined requests on one connection are answered in the order they
 * came, also when the first waits for its hash and the next (/healthz)
 * needs none: the connection parses nothing further meanwhile.
 */
static void test_pipelined_in_order(void)
{
	struct lh_relay *r = start("hash-order", NULL);
	struct lh_conn *c;
	struct lh_resp *r1, *r2, *r3, *r4;
	GString *req = g_string_new(NULL);

	if (!lh_relay_hash_gate(r, true)) {
		g_test_skip("needs a build with -Dtest_hooks=true");
		goto out;
	}
	lh_secret("password", WRONG_PW);
	c = lh_connect(r, NULL);
	append_login(req, r, "alice", WRONG_PW);
	append_login(req, r, "alice", tech_pw);
	append_get(req, r, "/healthz");
	append_login(req, r, "nobody", WRONG_PW);
	send_all(c, req);
	g_assert_true(lh_relay_wait_log(r, "test hash gate: ", 1, WAIT_MS));
	g_assert_true(lh_relay_hash_gate(r, false));

	r1 = read_one(c);
	r2 = read_one(c);
	r3 = read_one(c);
	r4 = read_one(c);
	lh_assert_error(r1, 401, "unauthorized");
	g_assert_cmpint(r2->status, ==, 200);
	g_assert_nonnull(lh_resp_str(r2, "token"));
	lh_secret("token", lh_resp_str(r2, "token"));
	g_assert_cmpint(r3->status, ==, 200);
	g_assert_cmpstr(r3->body, ==, "ok");
	lh_assert_error(r4, 401, "unauthorized");
	/* Wrong password and unknown user: the same answer, byte for
	 * byte, from the same work on the pool. */
	g_assert_cmpstr(r1->body, ==, r4->body);
	lh_resp_free(r1);
	lh_resp_free(r2);
	lh_resp_free(r3);
	lh_resp_free(r4);
	lh_conn_free(c);
out:
	g_string_free(req, TRUE);
	lh_relay_free(r);
}

/*
 * One worker, one place in the queue: the third login at once gets 429
 * rate_limited with Retry-After, while the first two still wait.
 */
static void test_queue_full(void)
{
	struct lh_relay *r = start("hash-queue",
				   "hash_workers=1\nhash_queue=1\n");
	struct lh_conn *c[3];
	struct lh_resp *resp;
	GString *req = g_string_new(NULL);
	int queued, i;

	if (!lh_relay_hash_gate(r, true)) {
		g_test_skip("needs a build with -Dtest_hooks=true");
		goto out;
	}
	lh_secret("password", WRONG_PW);
	queued = lh_relay_log_count(r, "hash queued");
	for (i = 0; i < 3; i++) {
		g_autofree char *ip = g_strdup_printf("127.0.2.%d", i + 1);

		c[i] = lh_connect(r, ip);
		append_login(req, r, "alice", WRONG_PW);
		send_all(c[i], req);
		if (i < 2)
			g_assert_true(lh_relay_wait_log(r, "hash queued",
							queued + i + 1,
							WAIT_MS));
	}
	/* The gate is closed: this answer needed no hash. */
	resp = read_one(c[2]);
	lh_assert_error(resp, 429, "rate_limited");
	g_assert_cmpstr(lh_resp_header(resp, "Retry-After"), ==, "1");
	lh_resp_free(resp);

	g_assert_true(lh_relay_hash_gate(r, false));
	expect_error(c[0], 401, "unauthorized");
	expect_error(c[1], 401, "unauthorized");
	/* Room again. */
	append_login(req, r, "alice", WRONG_PW);
	send_all(c[2], req);
	expect_error(c[2], 401, "unauthorized");
	for (i = 0; i < 3; i++)
		lh_conn_free(c[i]);
	g_assert_cmpint(lh_relay_stop(r, 30000), ==, 0);
	lh_audit_verify_intact(r);
out:
	g_string_free(req, TRUE);
	lh_relay_free(r);
}

/* The relay holds no connection but the one asking /metrics. */
static bool only_ours_open(void *r);

/* lifeline_connections_open, as /metrics says (its own one included). */
static double connections_open(struct lh_relay *r)
{
	struct lh_resp *m = lh_get(r, "/metrics", NULL);
	double n = lh_metric_sum(m->body, "lifeline_connections_open", NULL);

	lh_resp_free(m);
	return n;
}

static bool only_ours_open(void *r)
{
	return connections_open(r) <= 1;
}

/*
 * The client goes away while its login's hash runs (with a second request
 * pipelined behind it): the answer finds its connection closed and is
 * dropped; the relay goes on (under ASan: no use after free).
 */
static void test_close_mid_hash(void)
{
	struct lh_relay *r = start("hash-close", NULL);
	struct lh_conn *c;
	struct lh_resp *resp;
	GString *req = g_string_new(NULL);

	if (!lh_relay_hash_gate(r, true)) {
		g_test_skip("needs a build with -Dtest_hooks=true");
		goto out;
	}
	lh_secret("password", WRONG_PW);
	c = lh_connect(r, NULL);
	append_login(req, r, "alice", WRONG_PW);
	append_login(req, r, "alice", tech_pw);
	send_all(c, req);
	g_assert_true(lh_relay_wait_log(r, "test hash gate: ", 1, WAIT_MS));
	lh_conn_free(c);
	/* Wait until the relay has seen the close. */
	g_assert_true(lt_wait_until(only_ours_open, r, WAIT_MS, 20000));
	g_assert_true(lh_relay_hash_gate(r, false));
	g_assert_true(lh_relay_wait_log(r, "answer dropped", 1, WAIT_MS));
	/* The outcome is on record; the pipelined login never ran. */
	g_assert_true(lh_relay_wait_log(r, "refused login", 1, WAIT_MS));
	g_assert_cmpint(lh_relay_log_count(r, "hash queued"), ==, 1);

	resp = lh_get(r, "/healthz", NULL);
	g_assert_cmpint(resp->status, ==, 200);
	lh_resp_free(resp);
	g_free(lh_login(r, "alice", tech_pw));
	g_assert_cmpint(lh_relay_stop(r, 30000), ==, 0);
	lh_audit_verify_intact(r);
out:
	g_string_free(req, TRUE);
	lh_relay_free(r);
}

/*
 * SIGTERM while one hash runs and two wait: the running one finishes,
 * the waiting ones are cancelled and recorded, the relay exits 0 and
 * the audit chain is whole.
 */
static void test_stop_mid_hash(void)
{
	struct lh_relay *r = start("hash-stop",
				   "hash_workers=1\nhash_queue=4\n");
	struct lh_conn *c[3];
	GString *req = g_string_new(NULL);
	int i;

	if (!lh_relay_hash_gate(r, true)) {
		g_test_skip("needs a build with -Dtest_hooks=true");
		goto out;
	}
	lh_secret("password", WRONG_PW);
	for (i = 0; i < 3; i++) {
		g_autofree char *ip = g_strdup_printf("127.0.3.%d", i + 1);

		c[i] = lh_connect(r, ip);
		append_login(req, r, "alice", WRONG_PW);
		send_all(c[i], req);
	}
	g_assert_true(lh_relay_wait_log(r, "hash queued", 3, WAIT_MS));
	g_assert_true(lh_relay_wait_log(r, "test hash gate: ", 1, WAIT_MS));
	lh_relay_signal(r, SIGTERM);
	g_assert_true(lh_relay_wait_log(r, "SIGTERM: stopping", 1, WAIT_MS));
	/* Now it joins the worker that waits at the gate. */
	g_assert_true(lh_relay_hash_gate(r, false));
	g_assert_cmpint(lh_relay_stop(r, 30000), ==, 0);
	g_assert_cmpint(lh_relay_log_count(r, "the relay is stopping"), ==, 2);
	g_assert_cmpint(lh_relay_log_count(r, "wrong username or password"),
			==, 1);
	for (i = 0; i < 3; i++)
		lh_conn_free(c[i]);
	lh_audit_verify_intact(r);
out:
	g_string_free(req, TRUE);
	lh_relay_free(r);
}

static long relay_rss_kib(const struct lh_relay *r)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/status",
						(int)r->pid);
	g_autofree char *text = NULL;
	const char *line;
	long kib = -1;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	line = strstr(text, "\nVmRSS:");
	g_assert_nonnull(line);
	g_assert_cmpint(sscanf(line, "\nVmRSS: %ld kB", &kib), ==, 1);
	return kib;
}

/*
 * Each password check takes a 19 MiB Argon2id buffer on a pool thread.
 * After logins at once the relay gives those buffers back (serve.c's
 * fixed mmap threshold): without it glibc kept one per pool thread
 * resident, 39 MB on two.  Every login here is answered before the
 * figure is read, so no buffer is in use then.
 */
#define MEM_LOGINS 8
#define MEM_ROUNDS 3
#define MEM_GROWTH_MAX_KIB (8 * 1024) /* under half of one buffer */

static void test_memory_returned(void)
{
	struct lh_relay *r = start("hash-memory", "hash_workers=2\n");
	struct lh_conn *c[MEM_LOGINS];
	GString *req = g_string_new(NULL);
	long before, after;
	int i, k;
	char *tok;

#if defined(__SANITIZE_ADDRESS__)
	/* ASan's allocator (quarantine, its own mappings) is not glibc's. */
	g_test_skip("glibc's allocator only; this build uses ASan's");
	lh_relay_free(r);
	g_string_free(req, TRUE);
	return;
#endif
	/* The first login's buffer raised glibc's threshold before. */
	tok = lh_login(r, "alice", tech_pw);
	g_free(tok);
	before = relay_rss_kib(r);
	for (k = 0; k < MEM_ROUNDS; k++) {
		for (i = 0; i < MEM_LOGINS; i++) {
			c[i] = lh_connect(r, NULL);
			append_login(req, r, "alice", tech_pw);
			send_all(c[i], req);
		}
		for (i = 0; i < MEM_LOGINS; i++) {
			struct lh_resp *resp = read_one(c[i]);

			g_assert_cmpint(resp->status, ==, 200);
			lh_secret("token", lh_resp_str(resp, "token"));
			lh_resp_free(resp);
			lh_conn_free(c[i]);
		}
	}
	after = relay_rss_kib(r);
	g_test_message("relay RSS %ld KiB before, %ld KiB after %d logins "
		       "at once, %d times",
		       before, after, MEM_LOGINS, MEM_ROUNDS);
	g_assert_cmpint(after - before, <, MEM_GROWTH_MAX_KIB);
	g_string_free(req, TRUE);
	lh_relay_free(r);
}

int main(int argc, char **argv)
{
	lh_init(&argc, &argv);
	g_test_add_func("/hash/stream-during-flood", test_stream_during_flood);
	g_test_add_func("/hash/pipelined-in-order", test_pipelined_in_order);
	g_test_add_func("/hash/queue-full", test_queue_full);
	g_test_add_func("/hash/close-mid-hash", test_close_mid_hash);
	g_test_add_func("/hash/stop-mid-hash", test_stop_mid_hash);
	g_test_add_func("/hash/memory-returned", test_memory_returned);
	return g_test_run();
}
