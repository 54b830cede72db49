/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay with three forwarding loops (relay.conf workers=3; the
 * handover is described in common/relay/core/workers.c): many sessions
 * paired at once while others forward, each end getting exactly its
 * peer's bytes; a stream that stops reading on a worker, which must hold
 * its writer back without holding up anyone else; a session ended from
 * the main loop (DELETE) while its worker forwards at full speed; a lost
 * stream's grace and resume across loops; SIGTERM in mid-transfer; and
 * an idle session's streams shedding OpenSSL for the relay's own TLS 1.3
 * records (common/tls/pipe.c), then forwarding both ways and ending.
 */
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "harness.h"
#include "lt_wait.h"

#define N_SESS 24

static struct lh_relay *relay;
static char *token;

static double metric_now(const char *name)
{
	struct lh_resp *m = lh_get(relay, "/metrics", NULL);
	double v = lh_metric_sum(m->body, name, NULL);

	lh_resp_free(m);
	return v;
}

/* Sends both upgrades of sessions [from, to) before reading any answer,
 * so that the relay pairs and hands them over back to back. */
static void open_many(struct lh_session *s, struct lh_conn **a,
		      struct lh_conn **b, int from, int to)
{
	struct lh_resp *r;
	int i;

	for (i = from; i < to; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		lh_session_new(relay, token, &s[i]);
	}
	for (i = from; i < to; i++)
		g_assert_cmpint(lh_stream_begin_try(relay,
						    s[i].pin.agent_ticket,
						    &a[i]),
				==, LL_OK);
	for (i = from; i < to; i++)
		g_assert_cmpint(lh_stream_begin_try(relay, s[i].applet_ticket,
						    &b[i]),
				==, LL_OK);
	for (i = from; i < to; i++) {
		g_assert_cmpint(lh_stream_finish_try(a[i], 15000, &r), ==,
				LL_OK);
		g_assert_cmpint(r->status, ==, 101);
		lh_resp_free(r);
		g_assert_cmpint(lh_stream_finish_try(b[i], 15000, &r), ==,
				LL_OK);
		g_assert_cmpint(r->status, ==, 101);
		lh_resp_free(r);
	}
}

static void test_many_concurrent(void)
{
	uint64_t n = (uint64_t)lh_env_int("LL_TEST_WORKERS_MIB", 2) * LH_MIB;
	struct lh_session s[N_SESS];
	struct lh_conn *a[N_SESS], *b[N_SESS];
	struct lh_end ea[N_SESS], eb[N_SESS];
	double bytes0, bytes1;
	int i, j;

	bytes0 = metric_now("lifeline_bytes_forwarded_total");
	/* Half of them forward while the other half pair and move. */
	open_many(s, a, b, 0, N_SESS / 2);
	for (i = 0; i < N_SESS / 2; i++) {
		lh_end_start(&ea[i], a[i], n, n, 1000 + i, 0, false);
		lh_end_start(&eb[i], b[i], n, n, 2000 + i, 0, false);
	}
	open_many(s, a, b, N_SESS / 2, N_SESS);
	for (i = N_SESS / 2; i < N_SESS; i++) {
		lh_end_start(&ea[i], a[i], n, n, 1000 + i, 0, false);
		lh_end_start(&eb[i], b[i], n, n, 2000 + i, 0, false);
	}
	g_assert_cmpfloat(metric_now("lifeline_sessions_live"), ==, N_SESS);
	for (i = 0; i < N_SESS; i++) {
		if (!lh_end_join(&ea[i]) || !lh_end_join(&eb[i]))
			g_error("session %d: agent end: %s; applet end: %s", i,
				ea[i].err, eb[i].err);
		g_assert_cmpstr(ea[i].sent_sha, ==, eb[i].recv_sha);
		g_assert_cmpstr(eb[i].sent_sha, ==, ea[i].recv_sha);
	}
	/* No two streams carried the same bytes: nothing crossed. */
	for (i = 0; i < N_SESS; i++)
		for (j = 0; j < N_SESS; j++)
			g_assert_cmpstr(ea[i].sent_sha, !=, eb[j].sent_sha);
	bytes1 = metric_now("lifeline_bytes_forwarded_total");
	g_assert_cmpfloat(bytes1 - bytes0, >=, 2.0 * N_SESS * (double)n);
	for (i = 0; i < N_SESS; i++) {
		lh_conn_free(a[i]);
		lh_conn_free(b[i]);
		lh_session_clear(&s[i]);
	}
	/* Gone without close_notify: every worker's report reached the
	 * main loop, which started each session's grace. */
	g_assert_true(
		lh_relay_wait_log(relay, "stream interrupted", N_SESS, 10000));
}

static bool writer_stuck(void *data)
{
	struct lh_end *e = data;
	uint64_t now = atomic_load(&e->sent);
	static uint64_t last;
	bool same = now > 0 && now == last;

	last = now;
	return same;
}

/* One stream stops reading: its writer is held back by the relay, and
 * the sessions beside it (on the same loop and on others) go on. */
static void test_stalled_reader(void)
{
	uint64_t n = 64 * LH_MIB;
	int64_t base_rss, rss;
	struct lh_session s = { 0 }, o[4];
	struct lh_conn *a, *b, *oa[4], *ob[4];
	struct lh_end ew, er, ea, eb;
	uint64_t stuck_at;
	int i;

	lh_session_new(relay, token, &s);
	lh_pair_open(relay, &s, &a, &b);
	lh_pair_ping(a, b);
	base_rss = lh_relay_rss_kib(relay);
	lh_end_start(&er, b, 0, n, 1, 0, true);
	lh_end_start(&ew, a, n, 0, 0x5a11, 0, false);
	/* The writer stops making progress: back-pressure reached it. */
	g_assert_true(lt_wait_until(writer_stuck, &ew, 20000, 200 * 1000));
	stuck_at = atomic_load(&ew.sent);
	g_assert_cmpuint(stuck_at, <, n);

	/* Four more sessions: with three loops one shares the stalled
	 * session's; each moves 4 MiB each way meanwhile. */
	open_many(o, oa, ob, 0, 4);
	for (i = 0; i < 4; i++) {
		lh_end_start(&ea, oa[i], 4 * LH_MIB, 4 * LH_MIB, 7 + i, 0,
			     false);
		lh_end_start(&eb, ob[i], 4 * LH_MIB, 4 * LH_MIB, 70 + i, 0,
			     false);
		g_assert_true(lh_end_join(&ea));
		g_assert_true(lh_end_join(&eb));
		g_assert_cmpstr(ea.sent_sha, ==, eb.recv_sha);
		g_assert_cmpstr(eb.sent_sha, ==, ea.recv_sha);
		lh_conn_free(oa[i]);
		lh_conn_free(ob[i]);
		lh_session_clear(&o[i]);
	}
	/* Still held, and the relay did not absorb the unread bytes. */
	g_assert_cmpuint(atomic_load(&ew.sent), <, stuck_at + 4 * LH_MIB);
	g_assert_cmpuint(atomic_load(&er.recvd), ==, 0);
	rss = lh_relay_rss_kib(relay);
	g_test_message("stalled reader: writer held at %" G_GUINT64_FORMAT
		       " KiB; relay RSS %" G_GINT64_FORMAT
		       " -> %" G_GINT64_FORMAT " KiB",
		       stuck_at / 1024, base_rss, rss);
	g_assert_cmpint(rss, <, base_rss + 32 * 1024);

	atomic_store(&er.paused, false);
	if (!lh_end_join(&ew) || !lh_end_join(&er))
		g_error("stalled reader: writer: %s; reader: %s", ew.err,
			er.err);
	g_assert_cmpstr(ew.sent_sha, ==, er.recv_sha);
	lh_pair_ping(a, b);
	lh_conn_free(a);
	lh_conn_free(b);
	lh_session_clear(&s);
}

/* DELETE on the main loop reaches a worker forwarding flat out. */
static void test_delete_while_forwarding(void)
{
	g_autofree char *path = NULL;
	struct lh_session s = { 0 };
	struct lh_conn *a, *b;
	struct lh_end ea, eb;
	struct lh_resp *r;
	double live0;
	int64_t t0;

	live0 = metric_now("lifeline_sessions_live");
	lh_session_new(relay, token, &s);
	lh_pair_open(relay, &s, &a, &b);
	/* More than it will ever get to send. */
	lh_end_start(&ea, a, 1024 * LH_MIB, 1024 * LH_MIB, 11, 0, false);
	lh_end_start(&eb, b, 1024 * LH_MIB, 1024 * LH_MIB, 12, 0, false);
	g_assert_true(lh_end_wait_recvd(&ea, 4 * LH_MIB, 20000));
	g_assert_true(lh_end_wait_recvd(&eb, 4 * LH_MIB, 20000));

	path = g_strdup_printf("/api/v1/sessions/%s", s.pin.session_id);
	t0 = lh_now_ms();
	r = lh_delete(relay, path, token);
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	/* Both ends see their stream close: their transfers fail. */
	g_assert_false(lh_end_join(&ea));
	g_assert_false(lh_end_join(&eb));
	g_test_message("both transfers cut %" G_GINT64_FORMAT
		       " ms after DELETE",
		       lh_now_ms() - t0);
	g_assert_cmpint(lh_now_ms() - t0, <, 5000);
	g_assert_true(lh_relay_wait_log(relay,
					"stream ended (deleted by technician)",
					1, 3000));
	g_assert_cmpfloat(metric_now("lifeline_sessions_live"), ==, live0);
	lh_conn_free(a);
	lh_conn_free(b);
	lh_session_clear(&s);
}

static bool shed_reached(void *data)
{
	return metric_now("lifeline_tls_streams_shed_total") >=
	       *(const double *)data;
}

/* A session that goes quiet sheds both streams' SSLs; the records after
 * that are the relay's own, both ways, up to a clean end. */
static void test_idle_shed(void)
{
	struct lh_session s = { 0 };
	struct lh_conn *a, *b;
	struct lh_end ea, eb;
	double want;

	want = metric_now("lifeline_tls_streams_shed_total") + 2;
	lh_session_new(relay, token, &s);
	lh_pair_open(relay, &s, &a, &b);
	lh_pair_ping(a, b);
	/* Idle now: trimmed after the ping, or by the next sweep. */
	g_assert_true(lt_wait_until(shed_reached, &want, 10000, 20000));
	lh_pair_ping(a, b);
	lh_end_start(&ea, a, 3 * LH_MIB, 2 * LH_MIB, 21, 0, false);
	lh_end_start(&eb, b, 2 * LH_MIB, 3 * LH_MIB, 22, 0, false);
	if (!lh_end_join(&ea) || !lh_end_join(&eb))
		g_error("agent end: %s; applet end: %s", ea.err, eb.err);
	g_assert_cmpstr(ea.sent_sha, ==, eb.recv_sha);
	g_assert_cmpstr(eb.sent_sha, ==, ea.recv_sha);
	lh_pair_ping(a, b);
	/* The agent leaves; the relay ends the applet's stream. */
	g_assert_cmpint(lh_conn_end(a, 10000), ==, LL_OK);
	g_assert_cmpint(lh_conn_wait_closed(b, 10000), ==, LL_OK);
	lh_conn_free(b);
	lh_session_clear(&s);
}

/*
 * Both at once: an end leaves on purpose (close_notify, the worker ends
 * the session and reports) while a DELETE for it is on its way to the
 * worker.  Each session ends exactly once and the relay stays up.
 */
static void test_end_races_delete(void)
{
	enum { N = 16 };
	struct lh_session s[N];
	struct lh_conn *a[N], *b[N];
	struct lh_resp *r;
	double live0 = metric_now("lifeline_sessions_live");
	int i;

	open_many(s, a, b, 0, N);
	for (i = 0; i < N; i++)
		lh_pair_ping(a[i], b[i]);
	for (i = 0; i < N; i++) {
		g_autofree char *path = g_strdup_printf("/api/v1/sessions/%s",
							s[i].pin.session_id);

		g_assert_cmpint(ll_tls_conn_shutdown(a[i]->tls), ==, LL_OK);
		r = lh_delete(relay, path, token);
		g_assert_cmpint(r->status, ==, 204);
		lh_resp_free(r);
	}
	for (i = 0; i < N; i++) {
		g_autofree char *line = g_strdup_printf(
			"session %s: stream ended", s[i].pin.session_id);

		g_assert_cmpint(lh_conn_wait_closed(b[i], 5000), ==, LL_OK);
		g_assert_true(lh_relay_wait_log(relay, line, 1, 3000));
		g_assert_cmpint(lh_relay_log_count(relay, line), ==, 1);
		lh_conn_free(a[i]);
		lh_conn_free(b[i]);
		lh_session_clear(&s[i]);
	}
	g_assert_true(lh_relay_alive(relay));
	g_assert_cmpfloat(metric_now("lifeline_sessions_live"), ==, live0);
}

/* A stream lost on a worker: grace on the main loop, both back, paired
 * again (on whichever loop), then a clean end. */
static void test_grace_across_loops(void)
{
	struct lh_session s = { 0 };
	struct lh_conn *a, *b;
	struct lh_resp *r;
	double base = metric_now("lifeline_sessions_interrupted");

	lh_session_new(relay, token, &s);
	lh_pair_open(relay, &s, &a, &b);
	lh_pair_ping(a, b);
	shutdown(b->fd, SHUT_RDWR);
	g_assert_cmpint(lh_conn_wait_closed(a, 3000), ==, LL_OK);
	lh_conn_free(a);
	lh_conn_free(b);
	g_assert_cmpfloat(metric_now("lifeline_sessions_interrupted"), ==,
			  base + 1.0);
	g_assert_cmpint(lh_stream_begin_try(relay, s.applet_ticket, &b), ==,
			LL_OK);
	g_assert_cmpint(lh_stream_finish_try(b, 15000, &r), ==, LL_OK);
	g_assert_cmpint(r->status, ==, 101);
	lh_resp_free(r);
	g_assert_cmpint(lh_stream_begin_try(relay, s.pin.agent_ticket, &a), ==,
			LL_OK);
	g_assert_cmpint(lh_stream_finish_try(a, 15000, &r), ==, LL_OK);
	g_assert_cmpint(r->status, ==, 101);
	lh_resp_free(r);
	lh_pair_ping(a, b);
	g_assert_cmpfloat(metric_now("lifeline_sessions_interrupted"), ==,
			  base);
	/* The agent leaves on purpose: the applet's stream closes. */
	g_assert_cmpint(ll_tls_conn_shutdown(a->tls), ==, LL_OK);
	lh_conn_free(a);
	g_assert_cmpint(lh_conn_wait_closed(b, 3000), ==, LL_OK);
	lh_conn_free(b);
	g_assert_true(lh_relay_wait_log(relay, "stream ended (agent_closed)",
					1, 3000));
	lh_session_clear(&s);
}

/* SIGTERM while workers forward: a clean stop, the audit intact. */
static void test_stop_in_transfer(void)
{
	struct lh_session s = { 0 };
	struct lh_conn *a, *b;
	struct lh_end ea, eb;

	lh_session_new(relay, token, &s);
	lh_pair_open(relay, &s, &a, &b);
	lh_end_start(&ea, a, 1024 * LH_MIB, 1024 * LH_MIB, 21, 0, false);
	lh_end_start(&eb, b, 1024 * LH_MIB, 1024 * LH_MIB, 22, 0, false);
	g_assert_true(lh_end_wait_recvd(&ea, LH_MIB, 20000));
	g_assert_cmpint(lh_relay_stop_verify(relay), >=, 10);
	g_assert_false(lh_end_join(&ea));
	g_assert_false(lh_end_join(&eb));
	lh_conn_free(a);
	lh_conn_free(b);
	lh_session_clear(&s);
}

int main(int argc, char **argv)
{
	int rc;

	lh_init(&argc, &argv);
	relay = lh_relay_new("workers", "workers=3\n"
					"max_unauth_per_ip=256\n"
					"session_create_rate_per_min=1000\n"
					"session_create_burst=100\n"
					"redeem_rate_per_min=1000\n"
					"redeem_burst=100\n");
	lh_tech_add(relay, "alice", LH_CANARY_PASSWORD, false);
	lh_relay_start(relay);
	g_assert_true(lh_relay_wait_log(relay, "forwarding on 3 worker loops",
					1, 5000));
	token = lh_login(relay, "alice", LH_CANARY_PASSWORD);

	g_test_add_func("/workers/many-concurrent", test_many_concurrent);
	g_test_add_func("/workers/stalled-reader", test_stalled_reader);
	g_test_add_func("/workers/delete-while-forwarding",
			test_delete_while_forwarding);
	g_test_add_func("/workers/end-races-delete", test_end_races_delete);
	g_test_add_func("/workers/grace-across-loops",
			test_grace_across_loops);
	g_test_add_func("/workers/idle-shed", test_idle_shed);
	g_test_add_func("/workers/stop-in-transfer", test_stop_in_transfer);
	rc = g_test_run();
	g_free(token);
	lh_relay_free(relay);
	return rc;
}
