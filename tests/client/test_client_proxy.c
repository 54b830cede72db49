/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The client layer through an HTTP proxy taken from the environment
 * (https_proxy, no_proxy), as an end user behind a company proxy has it:
 * API calls and the session stream both tunnel with CONNECT; no_proxy
 * bypasses it; a refused tunnel and an https:// proxy give clear errors.
 * With a list of allowed hosts (a signed applet configuration's
 * relay_hosts), a host not on it is contacted neither directly nor
 * through the proxy, and a listed relay's redirect to another is not
 * followed: a second relay on 127.0.0.2 logs no connection.
 *
 * The proxy here is a tiny CONNECT-only forwarder (one thread per
 * connection) that counts the tunnels it made; it is test scaffolding,
 * not product code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <signal.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "harness.h"
#include "ll_api_client.h"
#include "ll_session_io.h"
#include "ll_stream.h"

static struct lh_relay *relay;
static struct lh_relay *relay_b; /* on 127.0.0.2: never to be contacted */
static char *relay_url;

/* ---- the proxy ---- */

struct proxy {
	int lfd;
	uint16_t port;
	atomic_int accepted; /* connections to the proxy */
	atomic_int tunnels;  /* CONNECTs answered 200 */
	atomic_int refused;  /* CONNECTs answered 502 */
	atomic_bool stop;
	char last_target[128];
	GThread *thread;
	GPtrArray *tunnel_threads; /* joined by proxy_stop */
};

static int connect_target(const char *target)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char host[64];
	unsigned port;
	int fd;

	if (sscanf(target, "%63[0-9.]:%u", host, &port) != 2 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1 || port > 65535)
		return -1;
	sa.sin_port = htons((uint16_t)port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

struct tunnel {
	struct proxy *p;
	int cfd;
};

static gpointer tunnel_thread(gpointer data)
{
	struct tunnel *t = data;
	struct proxy *p = t->p;
	char head[2048], target[128];
	size_t len = 0;
	ssize_t n;
	int tfd = -1;
	struct pollfd fds[2];
	uint8_t buf[65536];
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	static const char bad[] = "HTTP/1.1 502 Bad Gateway\r\n"
				  "Content-Length: 0\r\n\r\n";

	/* The head, byte by byte: nothing of the tunnel is read early. */
	fds[0].fd = t->cfd;
	fds[0].events = POLLIN;
	while (len + 1 < sizeof(head)) {
		if (atomic_load(&p->stop))
			goto out;
		if (poll(fds, 1, 200) <= 0)
			continue;
		n = read(t->cfd, head + len, 1);
		if (n <= 0)
			goto out;
		len++;
		head[len] = '\0';
		if (len >= 4 && strcmp(head + len - 4, "\r\n\r\n") == 0)
			break;
	}
	if (sscanf(head, "CONNECT %127s HTTP/1.1", target) != 1)
		goto out;
	g_strlcpy(p->last_target, target, sizeof(p->last_target));
	if ((tfd = connect_target(target)) < 0) {
		atomic_fetch_add(&p->refused, 1);
		(void)!write(t->cfd, bad, sizeof(bad) - 1);
		goto out;
	}
	atomic_fetch_add(&p->tunnels, 1);
	if (write(t->cfd, ok, sizeof(ok) - 1) != (ssize_t)sizeof(ok) - 1)
		goto out;
	fds[0].fd = t->cfd;
	fds[1].fd = tfd;
	fds[0].events = fds[1].events = POLLIN;
	while (!atomic_load(&p->stop)) {
		if (poll(fds, 2, 200) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (fds[i].revents == 0)
				continue;
			n = read(fds[i].fd, buf, sizeof(buf));
			if (n <= 0)
				goto out;
			if (write(fds[1 - i].fd, buf, (size_t)n) != n)
				goto out;
		}
	}
out:
	if (tfd >= 0)
		close(tfd);
	close(t->cfd);
	g_free(t);
	return NULL;
}

static gpointer proxy_thread(gpointer data)
{
	struct proxy *p = data;
	struct pollfd pf = { .fd = p->lfd, .events = POLLIN };
	struct tunnel *t;
	int cfd;

	while (!atomic_load(&p->stop)) {
		if (poll(&pf, 1, 100) <= 0)
			continue;
		if ((cfd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		atomic_fetch_add(&p->accepted, 1);
		t = g_new0(struct tunnel, 1);
		t->p = p;
		t->cfd = cfd;
		g_ptr_array_add(p->tunnel_threads,
				g_thread_new("tunnel", tunnel_thread, t));
	}
	return NULL;
}

static void proxy_start(struct proxy *p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	memset(p, 0, sizeof(*p));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(p->lfd, >=, 0);
	g_assert_cmpint(bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)), ==,
			0);
	g_assert_cmpint(listen(p->lfd, 16), ==, 0);
	g_assert_cmpint(getsockname(p->lfd, (struct sockaddr *)&sa, &sl), ==,
			0);
	p->port = ntohs(sa.sin_port);
	p->tunnel_threads = g_ptr_array_new();
	p->thread = g_thread_new("proxy", proxy_thread, p);
}

/* Every thread of the proxy notices stop within 200 ms: joined, none
 * outlives p. */
static void proxy_stop(struct proxy *p)
{
	guint i;

	atomic_store(&p->stop, true);
	g_thread_join(p->thread);
	close(p->lfd);
	for (i = 0; i < p->tunnel_threads->len; i++)
		g_thread_join(p->tunnel_threads->pdata[i]);
	g_ptr_array_unref(p->tunnel_threads);
}

/* ---- tests ---- */

static void relay_opts(struct ll_relay_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->url = relay_url;
	o->ca_file = relay->ca_cert;
	o->no_system_cas = true;
	o->timeout_ms = 10000;
}

static void clear_proxy_env(void)
{
	g_unsetenv("https_proxy");
	g_unsetenv("HTTPS_PROXY");
	g_unsetenv("all_proxy");
	g_unsetenv("ALL_PROXY");
	g_unsetenv("http_proxy");
	g_unsetenv("no_proxy");
	g_unsetenv("NO_PROXY");
}

static void test_through_proxy(void)
{
	struct proxy p;
	struct ll_relay_opts o;
	struct ll_client_error e;
	struct ll_api_login l = { 0 };
	struct ll_api_pin pin = { 0 };
	struct ll_api_redeem red = { 0 };
	struct ll_api_client *c, *app;
	struct ll_stream *st = NULL;
	g_autofree char *proxy_url = NULL, *want_target = NULL;
	g_autofree char *dead = NULL;
	int before, r;

	proxy_start(&p);
	clear_proxy_env();
	proxy_url = g_strdup_printf("http://127.0.0.1:%u", p.port);
	g_setenv("https_proxy", proxy_url, TRUE);
	want_target = g_strdup_printf("127.0.0.1:%u", relay->port);

	/* API calls tunnel through it (libcurl's own proxy handling). */
	relay_opts(&o);
	c = ll_api_client_new(&o, &e);
	g_assert_nonnull(c);
	r = ll_api_login(c, "alice", NULL, LH_CANARY_PASSWORD, &l, &e);
	if (r != LL_OK)
		g_error("login through the proxy: %d %d %s: %s", r,
			e.http_status, e.api_code, e.message);
	lh_secret("token", l.token);
	g_assert_cmpint(atomic_load(&p.tunnels), >=, 1);
	g_assert_cmpstr(p.last_target, ==, want_target);
	g_assert_cmpint(ll_api_pin_new(c, NULL, &pin, &e), ==, LL_OK);
	lh_secret("pin", pin.pin);
	lh_secret("ticket", pin.ticket);
	app = ll_api_client_new(&o, &e);
	g_assert_cmpint(ll_api_pin_redeem(app, pin.pin, NULL, &red, &e), ==,
			LL_OK);
	lh_secret("ticket", red.ticket);

	/* The stream too: CONNECT, then our TLS inside the tunnel. */
	before = atomic_load(&p.tunnels);
	r = ll_stream_open(&o, red.stream_path, red.ticket, &st, &e);
	g_assert_cmpint(r, ==, LL_OK);
	g_assert_cmpint(atomic_load(&p.tunnels), ==, before + 1);
	ll_stream_free(st);
	st = NULL;

	/* no_proxy naming the relay's host: straight there (a new session:
	 * the relay ended the last one when its stream closed). */
	g_setenv("no_proxy", "localhost,127.0.0.1", TRUE);
	ll_api_pin_clear(&pin);
	g_assert_cmpint(ll_api_pin_new(c, NULL, &pin, &e), ==, LL_OK);
	lh_secret("pin", pin.pin);
	lh_secret("ticket", pin.ticket);
	before = atomic_load(&p.tunnels);
	r = ll_stream_open(&o, NULL, pin.ticket, &st, &e);
	g_assert_cmpint(r, ==, LL_OK);
	g_assert_cmpint(atomic_load(&p.tunnels), ==, before);
	ll_stream_free(st);
	st = NULL;
	g_unsetenv("no_proxy");

	/* The proxy cannot reach the relay: the proxy's refusal is named. */
	dead = g_strdup_printf("https://127.0.0.1:%u", 1u);
	o.url = dead;
	r = ll_stream_open(&o, NULL, pin.ticket, &st, &e);
	g_assert_cmpint(r, ==, LL_ERR_IO);
	g_test_message("refused tunnel: %s", e.message);
	g_assert_nonnull(strstr(e.message, "proxy"));
	g_assert_nonnull(strstr(e.message, "502"));
	g_assert_null(strstr(e.message, proxy_url)); /* may hold a password */
	g_assert_cmpint(atomic_load(&p.refused), >=, 1);

	/* A proxy reached over TLS cannot carry our stream. */
	relay_opts(&o);
	g_setenv("https_proxy", "https://127.0.0.1:9", TRUE);
	r = ll_stream_open(&o, NULL, pin.ticket, &st, &e);
	g_assert_cmpint(r, ==, LL_ERR_CONFIG);
	g_assert_nonnull(strstr(e.message, "https_proxy"));

	clear_proxy_env();
	ll_api_login_clear(&l);
	ll_api_pin_clear(&pin);
	ll_api_redeem_clear(&red);
	ll_api_client_free(app);
	ll_api_client_free(c);
	proxy_stop(&p);
}

/* ---- allowed hosts ---- */

/* tests/common/redirect_server.py: every request answered 307. */
struct redirector {
	GSubprocess *proc;
	uint16_t port;
	char *log; /* one line per request it was sent */
};

static void die_with_parent(gpointer data)
{
	(void)data;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static void redirector_start(struct redirector *rd, const char *location)
{
	GSubprocessLauncher *l;
	GDataInputStream *in;
	GError *e = NULL;
	unsigned port = 0;
	char *line;

	rd->log = g_build_filename(lh_tmpdir(), "redirect-requests.log", NULL);
	g_assert_true(g_file_set_contents(rd->log, "", 0, NULL));
	l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	rd->proc = g_subprocess_launcher_spawn(l, &e, "python3",
					       g_getenv("LL_REDIRECT_SERVER"),
					       relay->cert_file,
					       relay->key_file, location,
					       rd->log, NULL);
	g_assert_no_error(e);
	g_object_unref(l);
	/* Its first line, once it listens (EOF if it died: NULL). */
	in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(rd->proc));
	line = g_data_input_stream_read_line(in, NULL, NULL, &e);
	g_assert_no_error(e);
	g_assert_nonnull(line);
	g_assert_cmpint(sscanf(line, "port %u", &port), ==, 1);
	rd->port = (uint16_t)port;
	g_free(line);
	g_object_unref(in);
}

static void redirector_stop(struct redirector *rd)
{
	g_subprocess_send_signal(rd->proc, SIGTERM);
	g_subprocess_wait(rd->proc, NULL, NULL);
	g_clear_object(&rd->proc);
	g_free(rd->log);
}

/* Lines of relay_b's log about a peer: each a connection it took. */
static int b_contacts(void)
{
	return lh_relay_log_count(relay_b, "peer ");
}

static void test_allowed_hosts(void)
{
	struct proxy p;
	struct ll_relay_opts o;
	struct ll_client_error e;
	struct ll_api_redeem red = { 0 };
	struct ll_api_client *c;
	struct ll_stream *st = NULL;
	struct redirector rd = { 0 };
	g_autofree char *proxy_url = NULL, *b_url = NULL, *r_url = NULL;
	g_autofree char *b_target = NULL, *reqs = NULL, *r_target = NULL;
	int r, tunnels;

	proxy_start(&p);
	clear_proxy_env();
	proxy_url = g_strdup_printf("http://127.0.0.1:%u", p.port);
	b_url = g_strdup_printf("https://127.0.0.2:%u", relay_b->port);
	b_target = g_strdup_printf("127.0.0.2:%u", relay_b->port);
	g_assert_cmpint(b_contacts(), ==, 0);

	/* B is not on the list: neither it nor the proxy hears a byte,
	 * directly or through the proxy. */
	relay_opts(&o);
	o.url = b_url;
	o.allowed_hosts = "127.0.0.1,localhost";
	for (int via_proxy = 0; via_proxy < 2; via_proxy++) {
		if (via_proxy)
			g_setenv("https_proxy", proxy_url, TRUE);
		c = ll_api_client_new(&o, &e);
		g_assert_null(c);
		g_assert_cmpint(e.code, ==, LL_ERR_CONFIG);
		g_test_message("refused: %s", e.message);
		g_assert_nonnull(strstr(e.message, "not contacted"));
		r = ll_stream_open(&o, NULL, "x-ticket-x", &st, &e);
		g_assert_cmpint(r, ==, LL_ERR_CONFIG);
		g_assert_null(st);
	}
	g_assert_cmpint(atomic_load(&p.accepted), ==, 0);
	g_assert_cmpint(b_contacts(), ==, 0);

	/* The counters do count: with B listed, the stream's CONNECT goes
	 * to B through the proxy (and fails there, B's certificate is of
	 * another CA), and B logs the connection. */
	o.allowed_hosts = "127.0.0.2";
	r = ll_stream_open(&o, NULL, "x-ticket-x", &st, &e);
	g_assert_cmpint(r, !=, LL_OK);
	g_assert_cmpint(atomic_load(&p.tunnels), ==, 1);
	g_assert_cmpstr(p.last_target, ==, b_target);
	g_assert_true(lh_relay_wait_log(relay_b, "peer ", 1, 10000));
	clear_proxy_env();

	/* A listed relay host that answers with a redirect to B: the
	 * answer is an error, the redirect not followed (libcurl would
	 * have followed it before the call returned). */
	redirector_start(&rd, b_url);
	r_url = g_strdup_printf("https://127.0.0.1:%u", rd.port);
	r_target = g_strdup_printf("127.0.0.1:%u", rd.port);
	o.url = r_url;
	o.allowed_hosts = "127.0.0.1";
	int before = b_contacts();
	for (int via_proxy = 0; via_proxy < 2; via_proxy++) {
		if (via_proxy)
			g_setenv("https_proxy", proxy_url, TRUE);
		tunnels = atomic_load(&p.tunnels);
		c = ll_api_client_new(&o, &e);
		g_assert_nonnull(c);
		r = ll_api_pin_redeem(c, "123456", "default", &red, &e);
		g_assert_cmpint(r, !=, LL_OK);
		g_assert_cmpint(e.http_status, ==, 307);
		ll_api_client_free(c);
		if (via_proxy) {
			g_assert_cmpint(atomic_load(&p.tunnels), ==,
					tunnels + 1);
			g_assert_cmpstr(p.last_target, ==, r_target);
		}
	}
	g_assert_true(g_file_get_contents(rd.log, &reqs, NULL, NULL));
	g_assert_cmpstr(reqs, ==,
			"POST /api/v1/pins/redeem\n"
			"POST /api/v1/pins/redeem\n");
	g_assert_cmpint(b_contacts(), ==, before);
	clear_proxy_env();
	redirector_stop(&rd);
	proxy_stop(&p);
}

int main(int argc, char **argv)
{
	int rc;

	lh_init(&argc, &argv);
	relay = lh_relay_new("client-proxy", NULL);
	lh_tech_add(relay, "alice", LH_CANARY_PASSWORD, false);
	lh_relay_start(relay);
	relay_url = g_strdup_printf("https://127.0.0.1:%u", relay->port);
	relay_b = lh_relay_new("client-proxy-b", NULL);
	relay_b->listen_host = "127.0.0.2";
	lh_relay_start(relay_b);

	g_test_add_func("/client/proxy/connect-and-no-proxy",
			test_through_proxy);
	g_test_add_func("/client/proxy/allowed-hosts", test_allowed_hosts);
	rc = g_test_run();
	g_free(relay_url);
	lh_relay_free(relay);
	lh_relay_free(relay_b);
	return rc;
}
