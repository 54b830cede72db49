/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/stall: how soon each end of a session notices a black-holed
 * stream (common/client/ll_session_io.h, Liveness).  A real relay on
 * 127.0.0.1 (the integration harness), a PIN made and redeemed through
 * the API, the agent's stream straight to the relay and the applet's
 * through ll-pause-proxy (tests/common/pause_proxy.c); both run the
 * session pump the programs use.  Then, BENCH_ROUNDS times: pause the
 * proxy, time until each side's on_stall(true); resume, time until
 * on_stall(false).  Then: pause for good, time until each side declares
 * the stream dead (on_closed).  Last: cut and resume, both sides come
 * back with their tickets within the relay's grace (ll_stream_reopen),
 * time until both new pumps are READY.  Figures are printed, never
 * judged.
 *
 * The pause starts at a different moment of the 2 s ping cycle each
 * round (a wait of round * BENCH_PHASE_MS, default 400, before it: time
 * itself is what is measured here), since the detection time is the
 * stall time minus how long ago the last byte came.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <glib.h>

#include "harness.h"
#include "ll_api_client.h"
#include "ll_session_io.h"
#include "ll_stream.h"
#include "ll_util.h"

static struct lh_relay *relay;
static GMainLoop *loop;

struct end {
	const char *name;
	struct ll_session_io *io;
	bool ready, stalled, closed;
	gint64 t_stall, t_resume, t_closed; /* monotonic us */
	char reason[256];
};

static struct end ends[2] = { { .name = "agent" }, { .name = "applet" } };

static void cb_ready(struct ll_session_io *s, void *user)
{
	((struct end *)user)->ready = true;
	g_main_loop_quit(loop);
}

static void cb_stall(struct ll_session_io *s, bool stalled, void *user)
{
	struct end *e = user;

	e->stalled = stalled;
	if (stalled)
		e->t_stall = g_get_monotonic_time();
	else
		e->t_resume = g_get_monotonic_time();
	g_main_loop_quit(loop);
}

static void cb_closed(struct ll_session_io *s, enum ll_session_end why,
		      int err, const char *reason, void *user)
{
	struct end *e = user;

	e->closed = true;
	e->t_closed = g_get_monotonic_time();
	g_snprintf(e->reason, sizeof(e->reason), "%s: %s",
		   ll_session_end_name(why), reason);
	g_main_loop_quit(loop);
}

static gboolean on_deadline(gpointer data)
{
	*(bool *)data = true;
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

/* Runs the loop until cond holds for both ends (or 60 s). */
static bool run_until(bool (*cond)(const struct end *e))
{
	bool late = false;
	guint t = g_timeout_add(60000, on_deadline, &late);

	while (!(cond(&ends[0]) && cond(&ends[1])) && !late)
		g_main_loop_run(loop);
	if (!late)
		g_source_remove(t);
	return !late;
}

/* Runs the loop for ms (the pumps keep pinging). */
static void run_for(int ms)
{
	bool done = false;

	g_timeout_add((guint)ms, on_deadline, &done);
	while (!done)
		g_main_loop_run(loop);
}

static bool is_ready(const struct end *e)
{
	return e->ready;
}

static bool is_stalled(const struct end *e)
{
	return e->stalled;
}

static bool is_live(const struct end *e)
{
	return !e->stalled;
}

static bool is_closed(const struct end *e)
{
	return e->closed;
}

/* ---- the proxy ---- */

static GPid proxy_pid;
static int proxy_in = -1, proxy_out = -1;

static char *proxy_line(void)
{
	GString *l = g_string_new(NULL);
	struct pollfd p = { .fd = proxy_out, .events = POLLIN };
	char c;

	for (;;) {
		if (poll(&p, 1, 5000) <= 0 || read(proxy_out, &c, 1) != 1)
			g_error("ll-pause-proxy said nothing");
		if (c == '\n')
			return g_string_free(l, FALSE);
		g_string_append_c(l, c);
	}
}

static gint64 proxy_cmd(const char *cmd)
{
	g_autofree char *line = g_strdup_printf("%s\n", cmd);
	g_autofree char *got = NULL;

	if (write(proxy_in, line, strlen(line)) != (ssize_t)strlen(line))
		g_error("ll-pause-proxy: %s", g_strerror(errno));
	got = proxy_line();
	if (strncmp(got, "ok ", 3) != 0)
		g_error("ll-pause-proxy: %s", got);
	return g_get_monotonic_time();
}

static unsigned proxy_start(void)
{
	char port[16];
	char *argv[] = { (char *)g_getenv("LL_PAUSE_PROXY"), "127.0.0.1", port,
			 NULL };
	g_autofree char *l = NULL;
	GError *e = NULL;
	unsigned n = 0;

	g_snprintf(port, sizeof(port), "%u", relay->port);
	if (argv[0] == NULL ||
	    !g_spawn_async_with_pipes(NULL, argv, NULL, 0, NULL, NULL,
				      &proxy_pid, &proxy_in, &proxy_out, NULL,
				      &e))
		g_error("ll-pause-proxy: %s", e ? e->message : "not set");
	l = proxy_line();
	if (sscanf(l, "port %u", &n) != 1)
		g_error("ll-pause-proxy: %s", l);
	return n;
}

/* ---- the session ---- */

static void opts(struct ll_relay_opts *o, const char *url)
{
	memset(o, 0, sizeof(*o));
	o->url = url;
	o->ca_file = relay->ca_cert;
	o->no_system_cas = true;
	o->timeout_ms = 10000;
}

static void start_end(struct end *e, enum ll_side side, const char *url,
		      const char *ticket, bool again)
{
	static const struct ll_session_io_cbs cbs = {
		.on_ready = cb_ready,
		.on_stall = cb_stall,
		.on_closed = cb_closed,
	};
	struct ll_session_io_opts so;
	struct ll_relay_opts o;
	struct ll_client_error err;
	struct ll_stream *st = NULL;

	opts(&o, url);
	if ((again ? ll_stream_reopen(&o, NULL, ticket,
				      ll_now_mono_ms() + LL_STREAM_GRACE_MS,
				      NULL, NULL, &st, &err)
		   : ll_stream_open(&o, NULL, ticket, &st, &err)) != 0)
		g_error("%s stream: %s", e->name, err.message);
	ll_session_io_opts_default(&so);
	so.side = side;
	if (ll_session_io_new(st, &so, &cbs, e, &e->io) != 0)
		g_error("%s: ll_session_io_new", e->name);
}

static double ms(gint64 us)
{
	return (double)us / 1000.0;
}

static void bench(void)
{
	g_autofree char *url = NULL, *purl = NULL;
	struct ll_relay_opts o;
	struct ll_client_error err;
	struct ll_api_client *tech, *app;
	struct ll_api_login l = { 0 };
	struct ll_api_pin pin = { 0 };
	struct ll_api_redeem red = { 0 };
	int rounds = (int)lh_env_int("BENCH_ROUNDS", 5);
	int phase = (int)lh_env_int("BENCH_PHASE_MS", 400);
	gint64 t0;
	int i;

	relay = lh_relay_new("stall-bench", NULL);
	lh_tech_add(relay, "alice", LH_CANARY_PASSWORD, false);
	lh_relay_start(relay);
	url = g_strdup_printf("https://127.0.0.1:%u", relay->port);
	purl = g_strdup_printf("https://127.0.0.1:%u", proxy_start());
	opts(&o, url);
	if ((tech = ll_api_client_new(&o, &err)) == NULL ||
	    ll_api_login(tech, "alice", NULL, LH_CANARY_PASSWORD, &l, &err) !=
		    0 ||
	    ll_api_pin_new(tech, NULL, &pin, &err) != 0)
		g_error("technician: %s", err.message);
	if ((app = ll_api_client_new(&o, &err)) == NULL ||
	    ll_api_pin_redeem(app, pin.pin, NULL, &red, &err) != 0)
		g_error("redeem: %s", err.message);
	loop = g_main_loop_new(NULL, FALSE);
	start_end(&ends[0], LL_SIDE_AGENT, url, pin.ticket, false);
	start_end(&ends[1], LL_SIDE_APPLET, purl, red.ticket, false);
	if (!run_until(is_ready))
		g_error("the two ends never met");

	printf("stall detection through a black-holed relay path "
	       "(ping every %d ms, stalled after %d ms, dead after %d ms)\n",
	       LL_SESSION_PING_MS, LL_SESSION_STALL_MS, LL_SESSION_DEAD_MS);
	printf("%-6s %-10s %12s %12s %12s %12s\n", "round", "offset_ms",
	       "agent_ms", "applet_ms", "agent_back", "applet_back");
	for (i = 0; i < rounds; i++) {
		/* time under test: where in the ping cycle the pause
		 * falls (the loop runs meanwhile, so that the pumps read
		 * and answer as they would) */
		run_for((i * phase) % LL_SESSION_PING_MS);
		t0 = proxy_cmd("pause");
		if (!run_until(is_stalled))
			g_error("round %d: no stall noticed in 60 s", i);
		printf("%-6d %-10d %12.0f %12.0f", i,
		       (i * phase) % LL_SESSION_PING_MS,
		       ms(ends[0].t_stall - t0), ms(ends[1].t_stall - t0));
		t0 = proxy_cmd("resume");
		if (!run_until(is_live))
			g_error("round %d: no resume noticed in 60 s", i);
		printf(" %12.0f %12.0f\n", ms(ends[0].t_resume - t0),
		       ms(ends[1].t_resume - t0));
		fflush(stdout);
	}
	t0 = proxy_cmd("pause");
	if (!run_until(is_closed))
		g_error("the stream was not declared dead in 60 s");
	printf("dead line: agent %.0f ms (%s), applet %.0f ms (%s)\n",
	       ms(ends[0].t_closed - t0), ends[0].reason,
	       ms(ends[1].t_closed - t0), ends[1].reason);
	/* The black hole ends within the relay's grace: both come back. */
	proxy_cmd("cut");
	t0 = proxy_cmd("resume");
	for (i = 0; i < 2; i++) {
		LL_FREE_AND_NULL(ll_session_io_free, ends[i].io);
		ends[i].ready = ends[i].closed = false;
	}
	start_end(&ends[0], LL_SIDE_AGENT, url, pin.ticket, true);
	start_end(&ends[1], LL_SIDE_APPLET, purl, red.ticket, true);
	if (!run_until(is_ready))
		g_error("the two ends did not meet again");
	printf("back after the black hole: %.0f ms (both pumps ready "
	       "again)\n",
	       ms(g_get_monotonic_time() - t0));
	proxy_cmd("quit");
	waitpid(proxy_pid, NULL, 0);
	for (i = 0; i < 2; i++)
		ll_session_io_free(ends[i].io);
	ll_api_login_clear(&l);
	ll_api_pin_clear(&pin);
	ll_api_redeem_clear(&red);
	ll_api_client_free(app);
	ll_api_client_free(tech);
	g_main_loop_unref(loop);
	lh_relay_stop(relay, 5000);
	lh_relay_free(relay);
}

int main(int argc, char **argv)
{
	lh_init(&argc, &argv);
	g_test_add_func("/bench/stall", bench);
	return g_test_run();
}
