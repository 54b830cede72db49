/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Connection slots under a descriptor limit (issue 7 item 4): the relay
 * runs as under `ulimit -n 1024` and is flooded with idle connections,
 * TCP connections that never start TLS, the cheapest thing to hold open.
 * Whatever the flood, /healthz and a new login must answer within 1 s.
 *
 *  - 16 addresses x 64 connections (the case): the per-address
 *    cap refuses most of them at accept;
 *  - 64 addresses x 16 connections: every address is within its cap, so
 *    the relay-wide cap (max_unauth) evicts the connection idle longest;
 *  - which one goes: the one idle longest, not the one accepted first;
 *  - out of descriptors all the same (streams hold them): accept pauses
 *    instead of spinning, evicts an idle connection to make room, and
 *    goes on when a stream closes.
 *
 * The 1 s deadline of the measurements is the requirement itself, not a
 * guess at how slow a machine may be: a relay that answers later has
 * failed.  Everything else waits for events (the accept queue empty, a
 * log line, a socket closed, a gauge of /metrics).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <glib/gstdio.h>

#include "harness.h"
#include "lt_wait.h"

/* The requirement: /healthz and a login answer within this. */
#define ANSWER_MS 1000
/* As `ulimit -n 1024` */
#define NOFILE 1024
#define N_TECHS 4

static struct lh_relay *relay;
static const char *const techs[N_TECHS] = { "alice", "bob", "carol", "dave" };

/* ---- the flood ---- */

struct flood {
	int *fds;
	size_t n;
};

/* n_addrs x per_addr TCP connections from 127.<net>.0.1, .2, ... that
 * never send a byte; waits until every connect has completed. */
static void flood_open(struct flood *f, unsigned net, unsigned n_addrs,
		       unsigned per_addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct pollfd *pfd;
	int64_t deadline;
	size_t i, left;

	f->n = (size_t)n_addrs * per_addr;
	f->fds = g_new(int, f->n);
	pfd = g_new0(struct pollfd, f->n);
	sa.sin_port = htons(relay->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < f->n; i++) {
		struct sockaddr_in la = { .sin_family = AF_INET };
		unsigned a = (unsigned)(i / per_addr) + 1;
		int fd = socket(AF_INET,
				SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		g_assert_cmpint(fd, >=, 0);
		la.sin_addr.s_addr = htonl((127u << 24) | (net << 16) | a);
		g_assert_cmpint(bind(fd, (struct sockaddr *)&la, sizeof(la)),
				==, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
		    errno != EINPROGRESS)
			g_error("flood connect: %s", g_strerror(errno));
		f->fds[i] = fd;
		pfd[i].fd = fd;
		pfd[i].events = POLLOUT;
	}
	/* Connected (or refused) at the TCP level, every one of them. */
	deadline = lh_now_ms() + 30000;
	for (left = f->n; left > 0;) {
		g_assert_cmpint(lh_now_ms(), <, deadline);
		g_assert_cmpint(poll(pfd, (nfds_t)f->n, 100), >=, 0);
		for (i = 0; i < f->n; i++) {
			if (pfd[i].fd >= 0 && pfd[i].revents != 0) {
				pfd[i].fd = -1;
				left--;
			}
		}
	}
	g_free(pfd);
	g_test_message("flood: %zu connections from %u addresses", f->n,
		       n_addrs);
}

static void flood_close(struct flood *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		close(f->fds[i]);
	g_clear_pointer(&f->fds, g_free);
	f->n = 0;
}

/* How many of the flood's connections the relay has closed by now. */
static size_t flood_count_closed(const struct flood *f)
{
	size_t i, n = 0;
	char c;

	for (i = 0; i < f->n; i++) {
		ssize_t r = recv(f->fds[i], &c, 1, MSG_DONTWAIT | MSG_PEEK);

		if (r == 0 || (r < 0 && errno != EAGAIN))
			n++;
	}
	return n;
}

/* The relay's accept queue, from /proc/net/tcp: connections the kernel
 * completed that the relay has not accepted yet (-1: not found). */
static int accept_queue(void)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	guint i;

	if (!g_file_get_contents("/proc/net/tcp", &text, NULL, NULL))
		return -1;
	lines = g_strsplit(text, "\n", -1);
	for (i = 1; lines[i] != NULL; i++) {
		unsigned lport = 0, st = 0, txq = 0, rxq = 0;

		if (sscanf(lines[i], " %*u: %*x:%x %*x:%*x %x %x:%x", &lport,
			   &st, &txq, &rxq) == 4 &&
		    lport == relay->port && st == 0x0a)
			return (int)rxq;
	}
	return -1;
}

/* Waits until the relay has taken every queued connection (accepted,
 * refused or evicted another for it).  False after timeout_ms. */
static bool accept_queue_empty(void *unused)
{
	int q = accept_queue();

	g_assert_cmpint(q, >=, 0);
	return q == 0;
}

static bool wait_accept_queue_empty(int timeout_ms)
{
	if (lt_wait_until(accept_queue_empty, NULL, timeout_ms, 10000))
		return true;
	g_test_message("accept queue still holds %d", accept_queue());
	return false;
}

/* The relay has taken the whole flood off its accept queue (not the
 * requirement: a loaded machine may take a while). */
static void flood_settle(void)
{
	int64_t t0 = lh_now_ms();

	g_assert_true(wait_accept_queue_empty(60000));
	g_test_message("the relay took the flood in %" G_GINT64_FORMAT " ms",
		       lh_now_ms() - t0);
}

/* ---- the measurements ---- */

/* A new client from src: connect, TLS, GET /healthz.  Returns the
 * milliseconds it took; *status the answer's (or -1). */
static int64_t timed_healthz(const char *src, int *status)
{
	static const char req[] =
		"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	int64_t t0 = lh_now_ms();
	struct lh_conn *c = NULL;
	struct lh_resp *r = NULL;
	char errbuf[256] = "";

	*status = -1;
	if (lh_connect_try(relay, src, NULL, &c, errbuf, sizeof(errbuf)) !=
	    LL_OK) {
		g_test_message("healthz from %s: %s", src, errbuf);
		return lh_now_ms() - t0;
	}
	if (lh_raw_try(c, req, strlen(req), 15000, &r) == LL_OK)
		*status = r->status;
	lh_resp_free(r);
	lh_conn_free(c);
	return lh_now_ms() - t0;
}

/* A new client from src logs in (a new connection, TLS, Argon2id). */
static int64_t timed_login(const char *src, int *status)
{
	g_autofree char *body = g_strdup_printf(
		"{\"username\": \"alice\", \"password\": \"%s\"}",
		LH_CANARY_PASSWORD);
	struct lh_req q = { .method = "POST",
			    .path = "/api/v1/login",
			    .body = body,
			    .src_ip = src };
	int64_t t0 = lh_now_ms();
	struct lh_resp *r = NULL;

	*status = -1;
	if (lh_do_try(relay, &q, &r) == LL_OK) {
		*status = r->status;
		if (r->status == 200)
			lh_secret("token", lh_resp_str(r, "token"));
	}
	lh_resp_free(r);
	return lh_now_ms() - t0;
}

/* /healthz and a login from fresh addresses, each within ANSWER_MS. */
static void assert_answering(const char *what)
{
	int64_t ms_h, ms_l;
	int st_h, st_l;

	ms_h = timed_healthz("127.0.0.2", &st_h);
	ms_l = timed_login("127.0.0.3", &st_l);
	g_test_message("%s: /healthz %d in %" G_GINT64_FORMAT
		       " ms, login %d in %" G_GINT64_FORMAT " ms",
		       what, st_h, ms_h, st_l, ms_l);
	g_assert_cmpint(st_h, ==, 200);
	g_assert_cmpint(ms_h, <=, ANSWER_MS);
	g_assert_cmpint(st_l, ==, 200);
	g_assert_cmpint(ms_l, <=, ANSWER_MS);
}

static double metric(const char *name)
{
	struct lh_resp *r = lh_get(relay, "/metrics", NULL);
	double v = lh_metric_sum(r->body, name, NULL);

	lh_resp_free(r);
	return v;
}

/* Waits until the relay holds at most n unauthenticated connections
 * besides the one asking (it let go of a closed flood). */
static bool unauth_at_most(void *n)
{
	return metric("lifeline_connections_unauthenticated") <=
	       *(double *)n + 1;
}

static void wait_unauth_at_most(double n)
{
	if (!lt_wait_until(unauth_at_most, &n, 20000, 20000))
		g_error("the relay still holds %g unauthenticated "
			"connections",
			metric("lifeline_connections_unauthenticated"));
}

/* ---- the tests ---- */

/* The case: 16 addresses x 64 idle connections. */
static void test_per_address(void)
{
	struct flood f;
	double held;

	flood_open(&f, 1, 16, 64);
	flood_settle();
	assert_answering("16 x 64 idle");
	/* At most max_unauth_per_ip (16) from each address were kept. */
	held = metric("lifeline_connections_unauthenticated");
	g_test_message("held %g, closed %zu of the flood", held,
		       flood_count_closed(&f));
	g_assert_cmpfloat(held, <=, 16 * 16 + 1);
	flood_close(&f);
	wait_unauth_at_most(0);
}

/* Many addresses, each within its cap: the relay-wide cap works. */
static void test_many_addresses(void)
{
	double evicted0 = metric("lifeline_connections_evicted_total");
	struct flood f;
	double held, evicted;

	flood_open(&f, 2, 64, 16);
	flood_settle();
	assert_answering("64 x 16 idle");
	/* (1024 - 64) / 2 = 480 slots for the unauthenticated; the rest of
	 * the flood was evicted to make room (docs/ARCHITECTURE.md). */
	held = metric("lifeline_connections_unauthenticated");
	evicted = metric("lifeline_connections_evicted_total") - evicted0;
	g_test_message("held %g, evicted %g", held, evicted);
	g_assert_cmpfloat(held, <=, 480);
	g_assert_cmpfloat(evicted, >=, 1024 - 480);
	g_assert_cmpuint(flood_count_closed(&f), >=, 1024 - 480);
	flood_close(&f);
	wait_unauth_at_most(0);
}

/* The test's relay.conf: the flood must outlast the measurements, and
 * the sessions that fill the descriptors are no brute force. */
#define CONF                                                                  \
	"handshake_timeout_ms=60000\nhead_timeout_ms=60000\n"                 \
	"redeem_rate_per_min=6000\nredeem_burst=100\n"

static void write_conf(const char *lines)
{
	g_autofree char *path = g_build_filename(relay->state_dir,
						 "relay.conf", NULL);
	g_autofree char *conf = g_strdup_printf(
		"[relay]\ncert_file=%s\nkey_file=%s\n%s%s", relay->cert_file,
		relay->key_file, CONF, lines);

	g_assert_true(g_file_set_contents(path, conf, -1, NULL));
}

static void reload(const char *lines, const char *expect)
{
	int before = lh_relay_log_count(relay, expect);

	write_conf(lines);
	lh_relay_signal(relay, SIGHUP);
	g_assert_true(lh_relay_wait_log(relay, expect, before + 1, 10000));
}

/* One idle TCP connection from src, accepted by the relay. */
static int idle_conn(const char *src)
{
	int fd = lh_tcp_connect(relay, src);

	g_assert_true(wait_accept_queue_empty(10000));
	return fd;
}

static int evictions_of(const char *src)
{
	g_autofree char *needle = g_strdup_printf("peer %s: closed after ",
						  src);

	return lh_relay_log_count(relay, needle);
}

/* Idle longest, not accepted first: a client that works moves back. */
static void test_oldest_idle_goes_first(void)
{
	static const char req[] =
		"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	struct lh_conn *busy, *late[8];
	struct lh_resp *r = NULL;
	int idle[3], i, n_late;

	reload("max_unauth=4\n", "connection slots: 1024 descriptors: 4 for");
	/* First in: a client that goes on working. */
	busy = lh_connect(relay, "127.0.3.1");
	g_assert_cmpint(lh_raw_try(busy, req, strlen(req), 5000, &r), ==,
			LL_OK);
	lh_resp_free(r);
	for (i = 0; i < 3; i++) {
		g_autofree char *src = g_strdup_printf("127.0.3.%d", 10 + i);

		idle[i] = idle_conn(src);
	}
	/* busy asks again: now it is the last to have done anything. */
	g_assert_cmpint(lh_raw_try(busy, req, strlen(req), 5000, &r), ==,
			LL_OK);
	g_assert_cmpint(r->status, ==, 200);
	lh_resp_free(r);
	/*
	 * Newcomers (each through its TLS handshake, so the relay is done
	 * with its accept) until idle[0] is evicted; connections the
	 * relay had not let go of yet may go before it.
	 */
	for (n_late = 0; evictions_of("127.0.3.10") == 0; n_late++) {
		g_autofree char *src = g_strdup_printf("127.0.3.%d",
						       20 + n_late);

		g_assert_cmpint(n_late, <, (int)G_N_ELEMENTS(late));
		late[n_late] = lh_connect(relay, src);
	}
	g_test_message("idle[0] evicted by newcomer %d", n_late);
	g_assert_cmpint(lh_fd_wait_closed(idle[0], 5000, NULL), ==, LL_OK);
	/* Not the busy one, accepted first; not the younger idle ones. */
	g_assert_cmpint(evictions_of("127.0.3.1"), ==, 0);
	g_assert_cmpint(evictions_of("127.0.3.11"), ==, 0);
	g_assert_cmpint(evictions_of("127.0.3.12"), ==, 0);
	g_assert_cmpint(lh_raw_try(busy, req, strlen(req), 5000, &r), ==,
			LL_OK);
	g_assert_cmpint(r->status, ==, 200);
	lh_resp_free(r);
	lh_conn_free(busy);
	for (i = 0; i < 3; i++)
		close(idle[i]);
	for (i = 0; i < n_late; i++)
		lh_conn_free(late[i]);
	reload("", "connection slots: 1024 descriptors: 480 for");
	wait_unauth_at_most(0);
}

/*
 * Out of descriptors all the same, because streams hold them: accepting
 * must neither spin nor stop for good.  Sessions are opened until the
 * relay reports a failed accept; it made room by evicting the idle
 * connection idle longest (and went on: the session opened), and a
 * fresh client still gets in.
 */
static void test_out_of_descriptors(void)
{
	GPtrArray *streams = g_ptr_array_new();
	char *tokens[N_TECHS];
	int idle[8], i, st, fails;
	int64_t ms, t0;
	guint k;

	/* Less than the streams may want: 96 descriptors, 48 for
	 * connections (docs/ARCHITECTURE.md, "Connection slots"). */
	g_assert_cmpint(lh_relay_stop(relay, 10000), ==, 0);
	relay->nofile = 96;
	lh_relay_start(relay);
	for (i = 0; i < N_TECHS; i++)
		tokens[i] = lh_login(relay, techs[i], LH_CANARY_PASSWORD);
	/* Enough idle ones that each accept of a session can evict one. */
	for (i = 0; i < (int)G_N_ELEMENTS(idle); i++) {
		g_autofree char *src = g_strdup_printf("127.0.4.%d", 1 + i);

		idle[i] = idle_conn(src);
	}
	t0 = lh_now_ms();
	for (k = 0; lh_relay_log_count(relay, "accept failed") == 0; k++) {
		struct lh_session s = { 0 };
		struct lh_conn *a, *b;

		g_assert_cmpuint(k, <, 48);
		lh_session_new(relay, tokens[k % N_TECHS], &s);
		lh_pair_open(relay, &s, &a, &b);
		g_ptr_array_add(streams, a);
		g_ptr_array_add(streams, b);
		lh_session_clear(&s);
	}
	g_test_message("%u sessions when the descriptors ran out", k);
	g_assert_true(lh_relay_wait_log(
		relay, "to make room: out of file descriptors", 1, 5000));
	g_assert_cmpint(evictions_of("127.0.4.1"), ==, 1);
	g_assert_cmpint(lh_fd_wait_closed(idle[0], 5000, NULL), ==, LL_OK);
	/* Still there for a fresh client. */
	ms = timed_healthz("127.0.0.2", &st);
	g_test_message("out of descriptors: /healthz %d in %" G_GINT64_FORMAT
		       " ms",
		       st, ms);
	g_assert_cmpint(st, ==, 200);
	g_assert_cmpint(ms, <=, ANSWER_MS);
	/* No busy loop: a failed accept at most once per pause (100 ms). */
	fails = lh_relay_log_count(relay, "accept failed");
	g_test_message("%d failed accepts in %" G_GINT64_FORMAT " ms", fails,
		       lh_now_ms() - t0);
	g_assert_cmpint(fails, <=, 2 + (lh_now_ms() - t0) / 100);

	for (k = 0; k < streams->len; k++)
		lh_conn_free(g_ptr_array_index(streams, k));
	g_ptr_array_free(streams, TRUE);
	for (i = 0; i < (int)G_N_ELEMENTS(idle); i++)
		close(idle[i]);
	for (i = 0; i < N_TECHS; i++)
		g_free(tokens[i]);
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int rc, i;

	lh_init(&argc, &argv);
	/* The flood needs more descriptors than the relay gets. */
	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 2 * NOFILE + 256) {
		g_test_skip("needs a hard RLIMIT_NOFILE of 2304 or more");
		return 77;
	}
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 65536 : rl.rlim_max;
	g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &rl), ==, 0);

	relay = lh_relay_new("slots", CONF);
	for (i = 0; i < N_TECHS; i++)
		lh_tech_add(relay, techs[i], LH_CANARY_PASSWORD, false);
	relay->nofile = NOFILE;
	lh_relay_start(relay);
	g_assert_cmpint(lh_relay_log_count(relay, "file descriptors: 1024 "),
			==, 1);

	g_test_add_func("/slots/16-addresses-x-64", test_per_address);
	g_test_add_func("/slots/64-addresses-x-16", test_many_addresses);
	g_test_add_func("/slots/oldest-idle-goes-first",
			test_oldest_idle_goes_first);
	g_test_add_func("/slots/out-of-descriptors", test_out_of_descriptors);
	rc = g_test_run();
	lh_relay_free(relay);
	return rc;
}
