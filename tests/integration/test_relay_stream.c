/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Streams through the real relay: pairing, 100 MiB each way at the same
 * time with SHA-256 compared at both ends, a third stream replacing its
 * side, a slow reader that must not grow the relay's memory, a stream
 * buffer smaller than one read that must not stall, DELETE and a
 * leaving peer closing both sides, and the grace after a lost stream:
 * both sides come back with their tickets, or the session ends as lost.
 * The relay runs with workers=1, so the main loop forwards (on the same
 * TLS pipes as the worker loops: workers.c); the grace relay with the
 * default (a loop per CPU).
 */
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "harness.h"

static struct lh_relay *relay;
static char *token;

static void test_pair_big(void)
{
	uint64_t n = (uint64_t)lh_env_int("LL_TEST_BIG_MIB", 100) * LH_MIB;
	struct lh_session s = { 0 };
	struct lh_conn *a, *b;
	struct lh_end ea, eb;
	struct lh_resp *m1, *m2, *l;
	double bytes1, bytes2;
	int64_t t0, ms;
	bool ok_a, ok_b;
	json_t *sess;
	size_t i;

	lh_session_new(relay, token, &s);
	lh_pair_open(relay, &s, &a, &b);
	lh_pair_ping(a, b);

	l = lh_get(relay, "/api/v1/sessions", token);
	json_array_foreach(json_object_get(l->json, "sessions"), i, sess)
	{
		if (g_strcmp0(json_string_value(
				      json_object_get(sess, "session_id")),
			      s.pin.session_id) == 0)
			g_assert_cmpstr(json_string_value(
						json_object_get(sess,
								"state")),
					==, "connected");
	}
	lh_resp_free(l);

	m1 = lh_get(relay, "/metrics", NULL);
	bytes1 = lh_metric_sum(m1->body, "bytes", NULL);
	g_assert_cmpfloat(lh_metric_sum(m1->body, "sessions", "live", NULL),
			  >=, 1);

	/* Both directions at once, each end on its own thread. */
	t0 = lh_now_ms();
	lh_end_start(&ea, a, n, n, 0xa9e17, 0, false);
	lh_end_start(&eb, b, n, n, 0xa99137, 0, false);
	ok_a = lh_end_join(&ea);
	ok_b = lh_end_join(&eb);
	ms = MAX(lh_now_ms() - t0, 1);
	g_test_message("%" G_GUINT64_FORMAT
		       " MiB each way in %" G_GINT64_FORMAT
		       " ms (%.1f MiB/s total)",
		       n / LH_MIB, ms,
		       2.0 * (double)n / LH_MIB * 1000.0 / (double)ms);
	if (!ok_a || !ok_b)
		g_error("transfer failed: agent end: %s; applet end: %s",
			ea.err, eb.err);
	g_assert_cmpstr(ea.sent_sha, ==, eb.recv_sha);
	g_assert_cmpstr(eb.sent_sha, ==, ea.recv_sha);
	g_assert_cmpstr(ea.sent_sha, !=, eb.sent_sha);

	m2 = lh_get(relay, "/metrics", NULL);
	bytes2 = lh_metric_sum(m2->body, "bytes", NULL);
	g_test_message("bytes metric %g -> %g", bytes1, bytes2);
	g_assert_cmpfloat(bytes2 - bytes1, >=, 2.0 * (double)n);
	lh_resp_free(m1);
	lh_resp_free(m2);

	lh_pair_ping(a, b);
	lh_conn_free(a);
	g_assert_cmpint(lh_conn_wait_closed(b, 3000), ==, LL_OK);
	lh_conn_free(b);
	lh_session_clear(&s);
}

static struct lh_resp *stream_try_on(struct lh_relay *on, const char *ticket)
{
	struct lh_conn *c = NULL;
	struct lh_resp *r = NULL;

	g_assert_cmpint(lh_stream_begin_try(on, ticket, &c), ==, LL_OK);
	g_assert_cmpint(lh_stream_finish_try(c, 10000, &r), ==, LL_OK);
	lh_conn_free(c);
	return r;
}

static struct lh_resp *stream_try(const char *ticket)
{
	return stream_try_on(relay, ticket);
}

/* Opens one side's stream, asserting the 101. */
static struct lh_conn *stream_attach(struct lh_relay *r, const char *ticket)
{
	struct lh_conn *c = NULL;
	struct lh_resp *resp = NULL;

	g_assert_cmpint(lh_stream_begin_try(r, ticket, &c), ==, LL_OK);
	g_assert_cmpint(lh_stream_finish_try(c, 15000, &resp), ==, LL_OK);
	if (resp->status != 101)
		g_error("stream upgrade: %d %s", resp->status, resp->body);
	lh_resp_free(resp);
	return c;
}

/* Leaves on purpose: TLS close_notify, then the socket. */
static void stream_end_cleanly(struct lh_conn *c)
{
	g_assert_cmpint(ll_tls_conn_shutdown(c->tls), ==, LL_OK);
	lh_conn_free(c);
}

/* Audit records of action for session id; the detail's reason of the
 * last one into *reason (owned) when reason is non-NULL. */
static int audit_count(struct lh_relay *r, const char *action, const char *id,
		       char **reason)
{
	json_t *all = lh_audit_records(r, action), *rec;
	const char *sid, *why;
	size_t i;
	int n = 0;

	json_array_foreach(all, i, rec)
	{
		sid = json_string_value(json_object_get(rec, "session_id"));
		if (g_strcmp0(sid, id) != 0)
			continue;
		n++;
		why = json_string_value(
			json_object_get(json_object_get(rec, "detail"),
					"reason"));
		if (reason != NULL) {
			g_free(*reason);
			*reason = g_strdup(why);
		}
	}
	json_decref(all);
	return n;
}

static double metric_now(struct lh_relay *r, const char *name)
{
	struct lh_resp *m = lh_get(r, "/metrics", NULL);
	double v = lh_metric_sum(m->body, name, NULL);

	lh_resp_free(m);
	return v;
}

static void test_waiting_side_once(void)
{
	struct lh_session s = { 0 };
	struct lh_conn *a, *b;
	struct lh_resp *r;

	/* Before the session ever paired there is nothing to come back
	 * to: a side's ticket opens one stream while the first waits. */
	lh_session_new(relay, token, &s);
	a = stream_attach(relay, s.pin.agent_ticket);
	r = stream_try(s.pin.agent_ticket);
	lh_assert_error(r, 409, "conflict");
	lh_resp_free(r);
	b = stream_attach(relay, s.applet_ticket);
	lh_pair_ping(a, b);
	stream_end_cleanly(a);
	g_assert_cmpint(lh_conn_wait_closed(b, 3000), ==, LL_OK);
	lh_conn_free(b);
	lh_session_clear(&s);
}

static void test_third_stream(void)
{
	g_autofree char *why = NULL;
	struct lh_session s = { 0 }, other = { 0 };
	struct lh_conn *a, *b, *a2, *b2, *o;
	struct lh_resp *r;

	lh_session_new(relay, token, &s);
	lh_session_new(relay, token, &other);
	lh_pair_open(relay, &s, &a, &b);

	/* Another session's ticket opens that session's stream, never one
	 * of this session's sides. */
	o = stream_attach(relay, other.pin.agent_ticket);
	lh_pair_ping(a, b);
	lh_conn_free(o);
	lh_secret("ticket",
		  "bm90LWEtdGlja2V0LW5vdC1hLXRpY2tldC1ub3QtYS10aWNr");
	r = stream_try("bm90LWEtdGlja2V0LW5vdC1hLXRpY2tldC1ub3QtYS10aWNr");
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);
	/* One log line per refusal, from the request envelope (the line is
	 * written before the answer). */
	g_assert_cmpint(lh_relay_log_count(relay, "unknown ticket"), ==, 1);
	g_assert_cmpint(lh_relay_log_count(relay, "/api/v1/stream: 401"), ==,
			0);

	/* The refusals did not disturb the pair. */
	lh_pair_ping(a, b);

	/* The agent's ticket again while its stream looks open (a black
	 * hole the relay cannot see): the newer stream wins, both old ones
	 * close, and with the applet back the two new ones pair. */
	a2 = stream_attach(relay, s.pin.agent_ticket);
	g_assert_cmpint(lh_conn_wait_closed(a, 3000), ==, LL_OK);
	g_assert_cmpint(lh_conn_wait_closed(b, 3000), ==, LL_OK);
	lh_conn_free(a);
	lh_conn_free(b);
	b2 = stream_attach(relay, s.applet_ticket);
	lh_pair_ping(a2, b2);
	g_assert_cmpint(audit_count(relay, "stream.interrupted",
				    s.pin.session_id, &why),
			==, 1);
	g_assert_cmpstr(why, ==, "agent_replaced");
	g_assert_cmpint(audit_count(relay, "stream.resumed", s.pin.session_id,
				    NULL),
			==, 1);

	/* A deliberate end (close_notify) ends the session: no way back. */
	stream_end_cleanly(a2);
	g_assert_cmpint(lh_conn_wait_closed(b2, 3000), ==, LL_OK);
	lh_conn_free(b2);
	r = stream_try(s.pin.agent_ticket);
	lh_assert_error(r, 404, "not_found");
	lh_resp_free(r);
	r = stream_try(s.applet_ticket);
	lh_assert_error(r, 404, "not_found");
	lh_resp_free(r);
	g_assert_cmpint(audit_count(relay, "stream.ended", s.pin.session_id,
				    &why),
			==, 1);
	g_assert_cmpstr(why, ==, "agent_closed");
	lh_session_clear(&s);
	lh_session_clear(&other);
}

static void test_bytes_before_peer(void)
{
	struct lh_session s = { 0 };
	struct lh_conn *a = NULL, *b = NULL;
	struct lh_resp *ra = NULL, *rb = NULL;
	char buf[20];
	size_t n, got = 0;

	lh_session_new(relay, token, &s);
	/* The agent's 101 says its stream waits for the applet's; then the
	 * agent speaks, before the applet has even connected. */
	g_assert_cmpint(lh_stream_begin_try(relay, s.pin.agent_ticket, &a), ==,
			LL_OK);
	g_assert_cmpint(lh_stream_finish_try(a, 10000, &ra), ==, LL_OK);
	g_assert_cmpint(ra->status, ==, 101);
	g_assert_cmpint(lh_conn_write_all(a, "hello, applet here", 18), ==,
			LL_OK);
	g_assert_cmpint(lh_stream_begin_try(relay, s.applet_ticket, &b), ==,
			LL_OK);
	g_assert_cmpint(lh_stream_finish_try(b, 10000, &rb), ==, LL_OK);
	g_assert_cmpint(rb->status, ==, 101);
	while (got < 18) {
		g_assert_cmpint(lh_conn_read(b, buf + got, 18 - got, &n), ==,
				LL_OK);
		got += n;
	}
	g_assert_cmpmem(buf, 18, "hello, applet here", 18);
	lh_pair_ping(a, b);
	lh_resp_free(ra);
	lh_resp_free(rb);
	lh_conn_free(a);
	lh_conn_free(b);
	lh_session_clear(&s);
}

static void test_slow_reader(void)
{
	uint64_t n = (uint64_t)lh_env_int("LL_TEST_SLOW_MIB", 64) * LH_MIB;
	int64_t bound_kib = lh_env_int("LL_TEST_RSS_SLACK_MIB", 32) * 1024;
	int stall_ms = (int)lh_env_int("LL_TEST_SLOW_STALL_MS", 4000);
	struct lh_session s = { 0 };
	struct lh_conn *a, *b;
	struct lh_end ew, er;
	int64_t base_rss, base_hwm, max_rss = 0, rss, hwm, t_end;
	uint64_t sent_at_stall_end, sent_mid;

	lh_session_new(relay, token, &s);
	lh_pair_open(relay, &s, &a, &b);
	lh_pair_ping(a, b);
	base_rss = lh_relay_rss_kib(relay);
	base_hwm = lh_relay_hwm_kib(relay);

	/* The applet end reads nothing for a while; the agent pushes. */
	lh_end_start(&er, b, 0, n, 1, 0, true);
	lh_end_start(&ew, a, n, 0, 0x5100, 0, false);

	t_end = lh_now_ms() + stall_ms;
	sent_mid = 0;
	while (lh_now_ms() < t_end) {
		rss = lh_relay_rss_kib(relay);
		max_rss = MAX(max_rss, rss);
		if (lh_now_ms() > t_end - stall_ms / 2 && sent_mid == 0)
			sent_mid = atomic_load(&ew.sent);
		/* Time is under test here: RSS samples across the stall. */
		g_usleep(50 * 1000);
	}
	sent_at_stall_end = atomic_load(&ew.sent);
	hwm = lh_relay_hwm_kib(relay);
	g_test_message("slow reader: base RSS %" G_GINT64_FORMAT
		       " KiB, max %" G_GINT64_FORMAT
		       " KiB, HWM %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
		       " KiB; writer got %" G_GUINT64_FORMAT
		       " KiB out (%" G_GUINT64_FORMAT " KiB at half time)",
		       base_rss, max_rss, base_hwm, hwm,
		       sent_at_stall_end / 1024, sent_mid / 1024);
	/* Back-pressure: the writer was held up, not absorbed. */
	g_assert_cmpuint(sent_at_stall_end, <, n);
	g_assert_cmpuint(sent_at_stall_end - sent_mid, <, 4 * LH_MIB);
	g_assert_cmpuint(atomic_load(&er.recvd), ==, 0);
	/* The relay did not buffer what the reader left unread. */
	g_assert_cmpint(max_rss, <, base_rss + bound_kib);
	g_assert_cmpint(hwm, <, MAX(base_hwm, base_rss + bound_kib));

	atomic_store(&er.paused, false);
	if (!lh_end_join(&ew) || !lh_end_join(&er))
		g_error("slow reader transfer: writer: %s; reader: %s", ew.err,
			er.err);
	g_assert_cmpstr(ew.sent_sha, ==, er.recv_sha);
	rss = lh_relay_rss_kib(relay);
	hwm = lh_relay_hwm_kib(relay);
	g_test_message("after drain: RSS %" G_GINT64_FORMAT
		       " KiB, HWM %" G_GINT64_FORMAT " KiB",
		       rss, hwm);
	g_assert_cmpint(hwm, <, MAX(base_hwm, base_rss + bound_kib));

	lh_pair_ping(a, b);
	lh_conn_free(a);
	lh_conn_free(b);
	lh_session_clear(&s);
}

static void test_delete_closes_both(void)
{
	g_autofree char *path = NULL;
	struct lh_session s = { 0 };
	struct lh_conn *a, *b;
	struct lh_resp *r;
	int64_t t0;

	lh_session_new(relay, token, &s);
	lh_pair_open(relay, &s, &a, &b);
	lh_pair_ping(a, b);
	path = g_strdup_printf("/api/v1/sessions/%s", s.pin.session_id);
	t0 = lh_now_ms();
	r = lh_delete(relay, path, token);
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	g_assert_cmpint(lh_conn_wait_closed(a, 2000), ==, LL_OK);
	g_assert_cmpint(lh_conn_wait_closed(b, 2000), ==, LL_OK);
	g_test_message("both streams closed %" G_GINT64_FORMAT
		       " ms after DELETE",
		       lh_now_ms() - t0);
	lh_conn_free(a);
	lh_conn_free(b);
	lh_session_clear(&s);
}

static void test_peer_leaves(void)
{
	g_autofree char *path = NULL, *why = NULL;
	struct lh_session s = { 0 };
	struct lh_conn *a, *b;
	struct lh_resp *r;
	double base;

	/* Earlier tests left sessions in their grace. */
	base = metric_now(relay, "lifeline_sessions_interrupted");
	lh_session_new(relay, token, &s);
	lh_pair_open(relay, &s, &a, &b);
	lh_pair_ping(a, b);
	/* The applet vanishes without a TLS goodbye: a loss, not an end.
	 * The agent's stream closes too (both start again fresh) and the
	 * session waits for both in its grace. */
	shutdown(b->fd, SHUT_RDWR);
	g_assert_cmpint(lh_conn_wait_closed(a, 3000), ==, LL_OK);
	lh_conn_free(a);
	lh_conn_free(b);
	g_assert_cmpfloat(metric_now(relay, "lifeline_sessions_interrupted"),
			  ==, base + 1.0);
	g_assert_cmpint(audit_count(relay, "stream.interrupted",
				    s.pin.session_id, &why),
			==, 1);
	g_assert_cmpstr(why, ==, "applet_closed");

	/* Back in the other order; the first one back waits. */
	b = stream_attach(relay, s.applet_ticket);
	/* ...and is lost again: still the same grace, no second record. */
	shutdown(b->fd, SHUT_RDWR);
	g_assert_cmpint(lh_conn_wait_closed(b, 3000), ==, LL_OK);
	lh_conn_free(b);
	b = stream_attach(relay, s.applet_ticket);
	a = stream_attach(relay, s.pin.agent_ticket);
	lh_pair_ping(a, b);
	g_assert_cmpint(audit_count(relay, "stream.interrupted",
				    s.pin.session_id, NULL),
			==, 1);
	g_assert_cmpint(audit_count(relay, "stream.resumed", s.pin.session_id,
				    NULL),
			==, 1);
	g_assert_cmpfloat(metric_now(relay, "lifeline_sessions_interrupted"),
			  ==, base);

	/* DELETE in grace ends it too, and then no ticket brings it back. */
	shutdown(a->fd, SHUT_RDWR);
	g_assert_cmpint(lh_conn_wait_closed(b, 3000), ==, LL_OK);
	lh_conn_free(a);
	lh_conn_free(b);
	path = g_strdup_printf("/api/v1/sessions/%s", s.pin.session_id);
	r = lh_delete(relay, path, token);
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	r = stream_try(s.applet_ticket);
	lh_assert_error(r, 404, "not_found");
	lh_resp_free(r);
	g_assert_cmpfloat(metric_now(relay, "lifeline_sessions_interrupted"),
			  ==, base);
	lh_session_clear(&s);
}

/*
 * A side that ends while its stream is being reopened reports `ended`
 * with its ticket: in the grace that ends the session at once (the other
 * side is not kept waiting); while the pair runs it is only recorded.
 */
static void test_ended_report_in_grace(void)
{
	g_autofree char *path = NULL, *why = NULL;
	struct lh_session s = { 0 };
	struct lh_conn *a, *b;
	struct lh_resp *r;
	json_t *body = json_pack("{s:s,s:s}", "type", "ended", "reason",
				 "the user ended the session");

	lh_session_new(relay, token, &s);
	lh_pair_open(relay, &s, &a, &b);
	lh_pair_ping(a, b);
	path = g_strdup_printf("/api/v1/sessions/%s/events", s.pin.session_id);
	/* paired: recorded, nothing more (the stream's end does it) */
	r = lh_post(relay, path, s.applet_ticket, body);
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	lh_pair_ping(a, b);

	/* lost, and the agent is back and waits for the applet */
	shutdown(b->fd, SHUT_RDWR);
	g_assert_cmpint(lh_conn_wait_closed(a, 3000), ==, LL_OK);
	lh_conn_free(a);
	lh_conn_free(b);
	a = stream_attach(relay, s.pin.agent_ticket);
	r = lh_post(relay, path, s.applet_ticket, body);
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	/* the waiting agent's stream closes, the session is over */
	g_assert_cmpint(lh_conn_wait_closed(a, 3000), ==, LL_OK);
	lh_conn_free(a);
	g_assert_cmpint(audit_count(relay, "stream.ended", s.pin.session_id,
				    &why),
			==, 1);
	g_assert_cmpstr(why, ==, "ended by the applet while interrupted");
	r = stream_try(s.applet_ticket);
	lh_assert_error(r, 404, "not_found");
	lh_resp_free(r);
	json_decref(body);
	lh_session_clear(&s);
}

static void test_grace_runs_out(void)
{
	struct lh_relay *r = lh_relay_new("stream-grace",
					  "stream_grace_s=5\n");
	g_autofree char *tok = NULL, *why = NULL;
	struct lh_session s = { 0 };
	struct lh_conn *a, *b;
	struct lh_resp *resp;
	int64_t t0;

	lh_tech_add(r, "alice", LH_CANARY_PASSWORD, false);
	lh_relay_start(r);
	tok = lh_login(r, "alice", LH_CANARY_PASSWORD);
	lh_session_new(r, tok, &s);
	lh_pair_open(r, &s, &a, &b);
	lh_pair_ping(a, b);
	t0 = lh_now_ms();
	lh_conn_free(b);
	g_assert_cmpint(lh_conn_wait_closed(a, 3000), ==, LL_OK);
	lh_conn_free(a);
	/* Time is under test: nobody comes back within stream_grace_s. */
	g_assert_true(lh_relay_wait_log(r, "ended (lost)", 1, 15000));
	g_test_message("ended as lost %" G_GINT64_FORMAT " ms after the loss",
		       lh_now_ms() - t0);
	g_assert_cmpint(lh_now_ms() - t0, >=, 4000);
	resp = stream_try_on(r, s.pin.agent_ticket);
	lh_assert_error(resp, 404, "not_found");
	lh_resp_free(resp);
	g_assert_cmpint(audit_count(r, "stream.ended", s.pin.session_id, &why),
			==, 1);
	g_assert_cmpstr(why, ==, "lost");
	lh_session_clear(&s);
	g_assert_cmpint(lh_relay_stop_verify(r), >=, 5);
	lh_relay_free(r);
}

static void test_many_pairs(void)
{
	struct lh_session s[8];
	struct lh_conn *a[8], *b[8];
	struct lh_end ea[8], eb[8];
	int i;

	/* Pairs do not cross: each end gets exactly its peer's bytes. */
	for (i = 0; i < 8; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		lh_session_new(relay, token, &s[i]);
		lh_pair_open(relay, &s[i], &a[i], &b[i]);
	}
	for (i = 0; i < 8; i++) {
		lh_end_start(&ea[i], a[i], LH_MIB, LH_MIB, 100 + i, 0, false);
		lh_end_start(&eb[i], b[i], LH_MIB, LH_MIB, 200 + i, 0, false);
	}
	for (i = 0; i < 8; i++) {
		g_assert_true(lh_end_join(&ea[i]));
		g_assert_true(lh_end_join(&eb[i]));
		g_assert_cmpstr(ea[i].sent_sha, ==, eb[i].recv_sha);
		g_assert_cmpstr(eb[i].sent_sha, ==, ea[i].recv_sha);
	}
	for (i = 0; i < 8; i++) {
		lh_conn_free(a[i]);
		lh_conn_free(b[i]);
		lh_session_clear(&s[i]);
	}
}

/*
 * A stream buffer smaller than what one read brings in (stream_buffer_bytes
 * under the 64 KiB read-ahead): one pass fills the other side's output past
 * the limit and pauses the reader, and the socket may take all of it at
 * once.  Reading must go on then; it once waited for a "socket writable"
 * event that, with nothing left to write, never came.
 */
static void test_small_buffer(void)
{
	struct lh_relay *small = lh_relay_new("stream-small",
					      "workers=1\n"
					      "stream_buffer_bytes=4096\n");
	uint64_t n = 8 * LH_MIB;
	struct lh_session s = { 0 };
	struct lh_conn *a, *b;
	struct lh_end ea, eb;
	char *tok;

	lh_tech_add(small, "alice", LH_CANARY_PASSWORD, false);
	lh_relay_start(small);
	tok = lh_login(small, "alice", LH_CANARY_PASSWORD);
	lh_session_new(small, tok, &s);
	lh_pair_open(small, &s, &a, &b);
	lh_end_start(&ea, a, n, n, 0x5a11, 0, false);
	lh_end_start(&eb, b, n, n, 0x5a12, 0, false);
	if (!lh_end_wait_recvd(&eb, n, 60000) ||
	    !lh_end_wait_recvd(&ea, n, 60000))
		g_error("stalled: agent end got %" G_GUINT64_FORMAT
			", applet end %" G_GUINT64_FORMAT
			" of %" G_GUINT64_FORMAT,
			(uint64_t)atomic_load(&ea.recvd),
			(uint64_t)atomic_load(&eb.recvd), n);
	g_assert_true(lh_end_join(&ea));
	g_assert_true(lh_end_join(&eb));
	g_assert_cmpstr(ea.sent_sha, ==, eb.recv_sha);
	g_assert_cmpstr(eb.sent_sha, ==, ea.recv_sha);
	lh_conn_free(a);
	lh_conn_free(b);
	lh_session_clear(&s);
	g_free(tok);
	lh_relay_free(small);
}

static void test_stop_and_verify(void)
{
	g_assert_cmpint(lh_relay_stop_verify(relay), >=, 10);
}

int main(int argc, char **argv)
{
	int rc;

	lh_init(&argc, &argv);
	/* One loop: the main loop forwards (workers.c, without a thread);
	 * test_relay_workers runs the same kinds of streams on worker
	 * loops. */
	relay = lh_relay_new("stream", "workers=1\n");
	lh_tech_add(relay, "alice", LH_CANARY_PASSWORD, false);
	lh_relay_start(relay);
	token = lh_login(relay, "alice", LH_CANARY_PASSWORD);

	g_test_add_func("/stream/waiting-side-once", test_waiting_side_once);
	g_test_add_func("/stream/third-replaces", test_third_stream);
	g_test_add_func("/stream/bytes-before-peer", test_bytes_before_peer);
	g_test_add_func("/stream/pair-100mib-each-way", test_pair_big);
	g_test_add_func("/stream/slow-reader", test_slow_reader);
	g_test_add_func("/stream/many-pairs", test_many_pairs);
	g_test_add_func("/stream/small-buffer", test_small_buffer);
	g_test_add_func("/stream/delete-closes-both", test_delete_closes_both);
	g_test_add_func("/stream/peer-leaves", test_peer_leaves);
	g_test_add_func("/stream/ended-report-in-grace",
			test_ended_report_in_grace);
	g_test_add_func("/stream/grace-runs-out", test_grace_runs_out);
	g_test_add_func("/stream/stop-and-audit-verify", test_stop_and_verify);
	rc = g_test_run();
	g_free(token);
	lh_relay_free(relay);
	return rc;
}
