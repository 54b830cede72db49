/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay's loop: one TLS listening port on libevent, the connection
 * slots (descriptor limit, caps on connections that have not
 * authenticated, per address and relay-wide), signals (TERM/INT stop,
 * HUP reloads config and certificate), the 1-second API tick, and the
 * systemd readiness notification.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "ll_cidr.h"
#include "ll_util.h"
#include "ll_tls.h"
#include "ll_relay.h"
#include "ll_workpool.h"
#include "core.h"

/* ---- systemd notification (Type=notify), without libsystemd ---- */

static void core_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	size_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, len);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract namespace */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	(void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
		     (struct sockaddr *)&sun,
		     (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				 len));
	close(fd);
}

/* ---- addresses ---- */

/* Textual address; IPv4-mapped IPv6 shown as IPv4 (CIDR checks). */
static void peer_text(const struct sockaddr *sa, char *out, size_t outlen)
{
	const struct sockaddr_in6 *s6;

	if (sa->sa_family == AF_INET) {
		if (inet_ntop(AF_INET,
			      &((const struct sockaddr_in *)sa)->sin_addr, out,
			      (socklen_t)outlen) != NULL)
			return;
	} else if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			if (inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out,
				      (socklen_t)outlen) != NULL)
				return;
		} else if (inet_ntop(AF_INET6, &s6->sin6_addr, out,
				     (socklen_t)outlen) != NULL) {
			return;
		}
	}
	g_strlcpy(out, "unknown", outlen);
}

/*
 * "HOST:PORT", "[V6]:PORT", ":PORT" or "*:PORT" (all addresses).  Port
 * 0 asks the kernel for a free one.
 */
static int parse_listen(const char *spec, char **host_out, char **port_out)
{
	const char *colon, *end;
	char *host, *port, *tail;
	unsigned long v;

	if (spec == NULL || *spec == '\0')
		return LL_ERR_INVALID_ARG;
	if (spec[0] == '[') {
		if ((end = strchr(spec, ']')) == NULL || end[1] != ':')
			return LL_ERR_INVALID_ARG;
		host = g_strndup(spec + 1, (gsize)(end - spec - 1));
		colon = end + 1;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL ||
		    memchr(spec, ':', (size_t)(colon - spec)) != NULL)
			return LL_ERR_INVALID_ARG; /* bare IPv6 needs [] */
		host = g_strndup(spec, (gsize)(colon - spec));
	}
	errno = 0;
	v = strtoul(colon + 1, &tail, 10);
	if (colon[1] == '\0' || *tail != '\0' || errno != 0 || v > 65535 ||
	    colon[1] == '-' || colon[1] == '+') {
		g_free(host);
		return LL_ERR_INVALID_ARG;
	}
	port = g_strdup(colon + 1);
	if (*host == '\0' || strcmp(host, "*") == 0) {
		g_free(host);
		host = NULL;
	}
	*host_out = host;
	*port_out = port;
	return LL_OK;
}

/* ---- connection slots: the connections not yet authenticated ---- */

/*
 * Every connection holds a slot from accept until it is upgraded to a
 * stream (or closed): during the TLS handshake, while its request head
 * comes in, and through any API requests on it.  Two caps, checked at
 * accept before any TLS work:
 *  - per source address, max_unauth_per_ip: more from that address are
 *    refused (closed at once);
 *  - relay-wide, max_unauth (from the descriptor limit, see
 *    core_slots_from_cfg()): a new connection at the cap evicts the one
 *    idle longest.  A flood of idle connections from many addresses
 *    then holds at most max_unauth descriptors and cannot keep a fresh
 *    client out: a client that connects, finishes its handshake and
 *    sends a request moves to the back of the line each time, so the
 *    flood's silent connections go first (nginx reuses its idle
 *    keep-alive connections the same way; Tor closes its oldest when
 *    out of sockets).  Refusing the newcomer instead would hand the
 *    relay to whoever connected first.
 * The descriptors past LL_CORE_FD_RESERVE + max_unauth are the streams'.
 */

/*
 * The key a source counts under: an IPv4 address, or an IPv6 /64 (one
 * host usually holds a whole /64, so per-/128 caps would be no cap).
 */
static void unauth_key(const char *peer, char *key, size_t keylen)
{
	struct in6_addr a;

	if (strchr(peer, ':') == NULL || inet_pton(AF_INET6, peer, &a) != 1) {
		g_strlcpy(key, peer, keylen);
		return;
	}
	memset(&a.s6_addr[8], 0, 8);
	if (inet_ntop(AF_INET6, &a, key, (socklen_t)keylen) == NULL)
		g_strlcpy(key, peer, keylen);
}

static bool unauth_full(struct ll_core *core, const char *peer)
{
	int64_t cap = core->relay->cfg.max_unauth_per_ip;
	char key[INET6_ADDRSTRLEN];
	guint n;

	unauth_key(peer, key, sizeof(key));
	n = GPOINTER_TO_UINT(g_hash_table_lookup(core->unauth, key));
	return cap > 0 && (int64_t)n >= cap;
}

static void unauth_unlink(struct ll_core *core, struct ll_conn *c)
{
	if (c->unauth_prev != NULL)
		c->unauth_prev->unauth_next = c->unauth_next;
	else
		core->unauth_head = c->unauth_next;
	if (c->unauth_next != NULL)
		c->unauth_next->unauth_prev = c->unauth_prev;
	else
		core->unauth_tail = c->unauth_prev;
	c->unauth_prev = c->unauth_next = NULL;
}

static void unauth_append(struct ll_core *core, struct ll_conn *c)
{
	c->unauth_prev = core->unauth_tail;
	c->unauth_next = NULL;
	if (core->unauth_tail != NULL)
		core->unauth_tail->unauth_next = c;
	else
		core->unauth_head = c;
	core->unauth_tail = c;
}

static void unauth_take(struct ll_core *core, struct ll_conn *c)
{
	char key[INET6_ADDRSTRLEN];
	guint n;

	unauth_key(c->peer, key, sizeof(key));
	n = GPOINTER_TO_UINT(g_hash_table_lookup(core->unauth, key));
	g_hash_table_replace(core->unauth, g_strdup(key),
			     GUINT_TO_POINTER(n + 1));
	c->unauth_counted = true;
	unauth_append(core, c);
	core->n_unauth++;
	core->relay->metrics.connections_unauth = core->n_unauth;
}

void ll_core_unauth_release(struct ll_core *core, struct ll_conn *c)
{
	char key[INET6_ADDRSTRLEN];
	guint n;

	if (!c->unauth_counted)
		return;
	c->unauth_counted = false;
	unauth_unlink(core, c);
	core->n_unauth--;
	core->relay->metrics.connections_unauth = core->n_unauth;
	unauth_key(c->peer, key, sizeof(key));
	n = GPOINTER_TO_UINT(g_hash_table_lookup(core->unauth, key));
	if (n <= 1)
		g_hash_table_remove(core->unauth, key);
	else
		g_hash_table_replace(core->unauth, g_strdup(key),
				     GUINT_TO_POINTER(n - 1));
}

void ll_core_unauth_touch(struct ll_core *core, struct ll_conn *c)
{
	if (!c->unauth_counted || core->unauth_tail == c)
		return;
	unauth_unlink(core, c);
	unauth_append(core, c);
}

/* Closes the connection idle longest among the unauthenticated; false
 * when there is none.  why is for the log. */
static bool unauth_evict_oldest(struct ll_core *core, const char *why)
{
	struct ll_conn *c = core->unauth_head;

	if (c == NULL)
		return false;
	ll_info("peer %s: closed after %" PRId64 " ms (%s) to make room: %s",
		c->peer, ll_now_mono_ms() - c->accept_ms,
		ll_conn_state_name((enum ll_conn_state)c->state), why);
	core->relay->metrics.connections_evicted++;
	/* Gives its slot back (ll_core_unauth_release) right away. */
	ll_conn_close(c, NULL);
	return true;
}

/* ---- descriptors ---- */

/*
 * max_unauth from the configuration and the descriptor limit (the
 * arithmetic is in docs/ARCHITECTURE.md, "Connection slots"): the relay
 * keeps LL_CORE_FD_RESERVE, connections share the rest, and unless
 * configured the unauthenticated get half of that, the streams the
 * other half.
 */
static void core_slots_from_cfg(struct ll_core *core)
{
	int64_t want = core->relay->cfg.max_unauth;
	size_t conn_fds;

	/* A limit below twice the reserve is a test or a mistake: split
	 * it rather than leave nothing. */
	if (core->fd_limit > 2 * LL_CORE_FD_RESERVE)
		conn_fds = core->fd_limit - LL_CORE_FD_RESERVE;
	else
		conn_fds = core->fd_limit / 2;
	if (want <= 0)
		core->max_unauth = conn_fds / 2;
	else if ((uint64_t)want > conn_fds)
		core->max_unauth = conn_fds;
	else
		core->max_unauth = (size_t)want;
	if (core->max_unauth < 1)
		core->max_unauth = 1;
	if (want > 0 && (uint64_t)want > conn_fds)
		ll_warn("max_unauth %" PRId64 " is more than the %zu "
			"descriptors connections may use; using %zu",
			want, conn_fds, core->max_unauth);
	ll_info("connection slots: %zu descriptors: %zu for connections not "
		"yet authenticated (%" PRId64
		" per address), %zu for streams, "
		"%zu for the relay itself",
		core->fd_limit, core->max_unauth,
		core->relay->cfg.max_unauth_per_ip,
		conn_fds - core->max_unauth, core->fd_limit - conn_fds);
}

/*
 * Raises the soft RLIMIT_NOFILE to the hard limit: the soft one (often
 * 1024) is kept low for programs that use select(), which the relay does
 * not; the hard one is what the administrator allows.
 */
static void core_fd_slots(struct ll_core *core)
{
	struct rlimit rl;
	rlim_t was, hard, now;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		ll_warn("getrlimit(RLIMIT_NOFILE): %s; assuming 1024",
			strerror(errno));
		core->fd_limit = 1024;
		core_slots_from_cfg(core);
		return;
	}
	was = rl.rlim_cur;
	/* Linux refuses RLIM_INFINITY here (fs.nr_open caps the limit). */
	hard = rl.rlim_max == RLIM_INFINITY ? (rlim_t)1 << 20 : rl.rlim_max;
	now = was;
	if (was == RLIM_INFINITY || was < hard) {
		rl.rlim_cur = hard;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			now = hard;
		else
			ll_warn("raising RLIMIT_NOFILE to %ju: %s",
				(uintmax_t)hard, strerror(errno));
	}
	if (now == RLIM_INFINITY || now > (rlim_t)INT_MAX)
		now = INT_MAX;
	core->fd_limit = (size_t)now;
	ll_info("file descriptors: %ju (soft limit was %ju, hard limit %ju)",
		(uintmax_t)now, (uintmax_t)was, (uintmax_t)rl.rlim_max);
	core_slots_from_cfg(core);
}

/* ---- listener ---- */

static void core_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
			   struct sockaddr *sa, int salen, void *arg)
{
	struct ll_core *core = arg;
	struct ll_conn *c;
	char peer[INET6_ADDRSTRLEN];
	int one = 1, keepidle = 60, keepintvl = 10, keepcnt = 6;

	(void)l;
	(void)salen;
	if (core->stopping) {
		evutil_closesocket(fd);
		return;
	}
	peer_text(sa, peer, sizeof(peer));
	if (unauth_full(core, peer)) {
		/* Before any TLS work: this is what the cap protects. */
		ll_info("peer %s: refused: %" PRId64
			" connections not yet authenticated",
			peer, core->relay->cfg.max_unauth_per_ip);
		ll_relay_count_refusal(core->relay, LL_API_RATE_LIMITED);
		evutil_closesocket(fd);
		return;
	}
	/* At the relay-wide cap the newcomer takes the slot of the one
	 * idle longest (several, after a reload lowered the cap). */
	while (core->n_unauth >= core->max_unauth &&
	       unauth_evict_oldest(core, "max_unauth reached"))
		;
	/* Interactive streams (screen, input) want no Nagle delay. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A paired stream has no timer: let TCP find a peer that vanished
	 * without a FIN (after about 2 minutes of silence). */
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &keepidle,
			 sizeof(keepidle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &keepintvl,
			 sizeof(keepintvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &keepcnt,
			 sizeof(keepcnt));
	if ((c = ll_conn_new(core, fd, peer)) == NULL) {
		ll_warn("peer %s: connection dropped: out of memory", peer);
		return;
	}
	unauth_take(core, c);
}

static void core_accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ll_core *core = arg;

	(void)fd;
	(void)what;
	if (core->listener != NULL && !core->stopping)
		evconnlistener_enable(core->listener);
}

static void core_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct ll_core *core = arg;
	int err = EVUTIL_SOCKET_ERROR();
	int64_t pause_ms = LL_CORE_ACCEPT_PAUSE_LONG_MS;
	struct timeval tv;

	ll_warn("accept failed: %s", evutil_socket_error_to_string(err));
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
		return; /* about that one connection; go on */
	/*
	 * Out of descriptors or memory, with the connection still queued:
	 * accepting again at once would fail again, in a busy loop.  Make
	 * room by evicting the unauthenticated connection idle longest
	 * (its descriptor is closed when libevent lets go of it, within
	 * this loop pass) and pause briefly; with nothing to evict the
	 * descriptors are the streams', and only time frees them.
	 */
	if ((err == EMFILE || err == ENFILE) &&
	    unauth_evict_oldest(core, "out of file descriptors"))
		pause_ms = LL_CORE_ACCEPT_PAUSE_MS;
	evconnlistener_disable(l);
	tv.tv_sec = (time_t)(pause_ms / 1000);
	tv.tv_usec = (suseconds_t)((pause_ms % 1000) * 1000);
	evtimer_add(core->ev_accept_retry, &tv);
}

static int core_listen(struct ll_core *core, const char *spec)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char *host = NULL, *port = NULL;
	char addr[INET6_ADDRSTRLEN];
	int r, e;

	if (parse_listen(spec, &host, &port) != 0) {
		fprintf(stderr,
			"lifeline-relay: invalid listen address "
			"\"%s\" (want HOST:PORT or [V6]:PORT)\n",
			spec);
		return LL_ERR_CONFIG;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "lifeline-relay: cannot resolve \"%s\": %s\n",
			spec, gai_strerror(e));
		r = LL_ERR_CONFIG;
		goto out;
	}
	core->listener = evconnlistener_new_bind(
		core->base, core_accept_cb, core,
		LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
			LEV_OPT_REUSEABLE,
		511, res->ai_addr, (int)res->ai_addrlen);
	if (core->listener == NULL) {
		fprintf(stderr, "lifeline-relay: cannot listen on %s: %s\n",
			spec, strerror(errno));
		r = LL_ERR_IO;
		goto out;
	}
	evconnlistener_set_error_cb(core->listener, core_accept_error_cb);
	if (getsockname(evconnlistener_get_fd(core->listener),
			(struct sockaddr *)&ss, &sslen) != 0) {
		fprintf(stderr, "lifeline-relay: getsockname: %s\n",
			strerror(errno));
		r = LL_ERR_IO;
		goto out;
	}
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
		fprintf(stderr,
			"lifeline-relay: listening on https://[%s]:%u\n", addr,
			(unsigned)ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
		fprintf(stderr, "lifeline-relay: listening on https://%s:%u\n",
			addr, (unsigned)ntohs(s4->sin_port));
	}
	fflush(stderr);
	r = LL_OK;
out:
	if (res != NULL)
		freeaddrinfo(res);
	g_free(host);
	g_free(port);
	return r;
}

/* ---- signals, tick, reload ---- */

static void core_limits_from_cfg(struct ll_core *core)
{
	const struct ll_relay_config *cfg = &core->relay->cfg;

	ll_http_limits_default(&core->limits);
	if (cfg->max_head_bytes > 0)
		core->limits.max_head = (size_t)cfg->max_head_bytes;
	if (cfg->max_headers > 0)
		core->limits.max_headers = (size_t)cfg->max_headers;
	if (cfg->max_body_bytes > 0)
		core->limits.max_body = (size_t)cfg->max_body_bytes;
	core->limits.max_url = LL_CORE_MAX_URL;
	if (core->limits.max_url > core->limits.max_head)
		core->limits.max_url = core->limits.max_head;
	ll_log_set_level((enum ll_log_level)CLAMP(cfg->log_level, 0, 3));
}

/* Says who may read /metrics (never the token). */
static void core_log_metrics_access(struct ll_core *core)
{
	const struct ll_relay_config *cfg = &core->relay->cfg;
	const struct ll_core_metrics_access *a = &core->metrics_access;

	ll_info("metrics: served to %s%s%s",
		ll_cidr_list_len(a->allow) > 0 ? cfg->metrics_allow
					       : "no address",
		a->has_token ? " and with the token of " : "",
		a->has_token ? cfg->metrics_token_file : "");
}

static void core_stop(struct ll_core *core)
{
	if (core->stopping)
		return;
	core->stopping = true;
	core_notify("STOPPING=1");
	if (core->listener != NULL)
		LL_FREE_AND_NULL(evconnlistener_free, core->listener);
	ll_pair_end_all(core, "relay_shutdown");
	/* The worker loops close what they forward and end. */
	ll_workers_stop(core);
	while (core->conns != NULL)
		ll_conn_close(core->conns, "relay_shutdown");
	if (core->relay->api != NULL && core->relay->api->stopping != NULL)
		core->relay->api->stopping(core->relay);
	/*
	 * After the connections: the hashes still running finish and the
	 * waiting ones are cancelled, and each answer, its connection gone,
	 * is dropped (the API still records the outcome).  At most the jobs
	 * running now are waited for.
	 */
	ll_workpool_stop(core->relay->pool);
	/*
	 * No loopbreak: with our events gone the loop ends by itself once
	 * libevent has run what is still queued (deferred bufferevent
	 * callbacks hold references; breaking out before them would leak
	 * those bufferevents and their SSLs).
	 */
	event_del(core->ev_term);
	event_del(core->ev_int);
	event_del(core->ev_hup);
	event_del(core->ev_tick);
	event_del(core->ev_accept_retry);
}

static void core_reload(struct ll_core *core)
{
	struct ll_relay *relay = core->relay;
	struct ll_relay_config ncfg;
	struct ll_tls_server_opts opts;
	struct ll_tls_ctx *tls;
	char errbuf[512];
	char *state_dir = g_strdup(relay->cfg.state_dir);
	int err = 0;

	core_notify("RELOADING=1");
	ll_info("SIGHUP: reloading configuration and certificate");
	memset(&ncfg, 0, sizeof(ncfg));
	errbuf[0] = '\0';
	if (ll_relay_config_load(state_dir, &ncfg, errbuf, sizeof(errbuf)) !=
	    0) {
		ll_error("reload: %s; keeping the previous configuration",
			 errbuf[0] ? errbuf : "configuration not loaded");
		ll_relay_config_clear(&ncfg);
	} else if (ll_core_metrics_access_load(&ncfg, &core->metrics_access,
					       errbuf, sizeof(errbuf)) != 0) {
		ll_error("reload: %s; keeping the previous configuration",
			 errbuf);
		ll_relay_config_clear(&ncfg);
	} else {
		if (core->listen_override == NULL && ncfg.listen != NULL &&
		    core->listen_now != NULL &&
		    strcmp(ncfg.listen, core->listen_now) != 0)
			ll_warn("reload: a new listen address (%s) takes a "
				"restart; still on %s",
				ncfg.listen, core->listen_now);
		if (ll_workers_count(&ncfg) != ll_workers_count(&relay->cfg))
			ll_warn("reload: a new workers (%u) takes a restart; "
				"still %u",
				ll_workers_count(&ncfg),
				ll_workers_count(&relay->cfg));
		if (ncfg.hash_workers !=
		    (int64_t)ll_workpool_workers(relay->pool))
			ll_warn("reload: a new hash_workers (%" PRId64
				") takes a restart; still %u",
				ncfg.hash_workers,
				ll_workpool_workers(relay->pool));
		ll_relay_config_clear(&relay->cfg);
		relay->cfg = ncfg;
		relay->cfg_gen++;
		core_limits_from_cfg(core);
		core_slots_from_cfg(core);
		core_log_metrics_access(core);
		ll_workpool_set_queue_max(relay->pool,
					  (unsigned)relay->cfg.hash_queue);
	}
	g_free(state_dir);

	/*
	 * New connections get the new context.  Connections already open
	 * keep theirs: each SSL holds its own reference to its SSL_CTX, so
	 * freeing our handle on the old one is safe.
	 */
	memset(&opts, 0, sizeof(opts));
	opts.cert_file = relay->cfg.cert_file;
	opts.key_file = relay->cfg.key_file;
	opts.alpn = "http/1.1";
	errbuf[0] = '\0';
	tls = ll_tls_server_ctx_new(&opts, &err, errbuf, sizeof(errbuf));
	if (tls == NULL) {
		ll_error("reload: certificate: %s; keeping the previous one",
			 errbuf[0] ? errbuf : ll_strerror(err));
	} else {
		ll_tls_ctx_free(relay->tls);
		relay->tls = tls;
		ll_info("reload: certificate %s loaded", opts.cert_file);
	}
	core_notify("READY=1");
}

static void core_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct ll_core *core = arg;

	(void)what;
	if (sig == SIGHUP) {
		if (!core->stopping)
			core_reload(core);
		return;
	}
	ll_info("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	core_stop(core);
}

static void core_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ll_core *core = arg;

	(void)fd;
	(void)what;
	if (core->stopping)
		return;
	ll_pair_grace_sweep(core);
	core->relay->api->periodic(core->relay);
}

/* ---- run ---- */

struct event_base *ll_core_base_new(void)
{
	struct event_config *ec = event_config_new();
	struct event_base *base;

	if (ec == NULL)
		return NULL;
	/*
	 * One thread, no locks.  The changelist folds the add/delete of a
	 * stream's write event (output empty -> full -> empty, once per TLS
	 * record) into at most one epoll_ctl per loop pass.
	 */
	event_config_set_flag(ec,
			      EVENT_BASE_FLAG_NOLOCK |
				      EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

static void core_free(struct ll_core *core)
{
	struct ll_relay *relay = core->relay;

	if (core->listener != NULL)
		evconnlistener_free(core->listener);
	if (core->ev_term != NULL)
		event_free(core->ev_term);
	if (core->ev_int != NULL)
		event_free(core->ev_int);
	if (core->ev_hup != NULL)
		event_free(core->ev_hup);
	if (core->ev_tick != NULL)
		event_free(core->ev_tick);
	if (core->ev_accept_retry != NULL)
		event_free(core->ev_accept_retry);
	/* Joins the worker loops and frees what they handed back. */
	ll_workers_free(core);
	if (core->pairs != NULL)
		g_hash_table_destroy(core->pairs);
	if (core->unauth != NULL)
		g_hash_table_destroy(core->unauth);
	ll_core_metrics_access_clear(&core->metrics_access);
	g_free(core->listen_now);
	LL_FREE_AND_NULL(ll_workpool_free, relay->pool);
	/* Runs libevent's pending finalizers: the last SSL_free()s. */
	if (core->own_base && core->base != NULL) {
		event_base_free(core->base);
		relay->base = NULL;
	}
	relay->core = NULL;
	free(core);
}

int ll_core_run(struct ll_relay *relay, const char *listen_override)
{
	struct timeval one_second = { 1, 0 };
	char errbuf[512];
	struct ll_core *core;
	const char *spec;
	int r;

	if (relay == NULL || relay->api == NULL)
		return LL_ERR_INVALID_ARG;
	if ((core = calloc(1, sizeof(*core))) == NULL)
		return LL_ERR_NOMEM;
	core->relay = relay;
	core->listen_override = listen_override;
	relay->core = core;
	/* A peer that vanishes must not kill us on write. */
	signal(SIGPIPE, SIG_IGN);

	if (relay->base == NULL) {
		if ((relay->base = ll_core_base_new()) == NULL) {
			r = LL_ERR_NOMEM;
			goto out;
		}
		core->own_base = true;
	}
	core->base = relay->base;
	relay->pool = ll_workpool_new(core->base,
				      (unsigned)relay->cfg.hash_workers,
				      (unsigned)relay->cfg.hash_queue, &r);
	if (relay->pool == NULL) {
		ll_error("cannot start %" PRId64 " hash workers: %s",
			 relay->cfg.hash_workers, ll_strerror(r));
		goto out;
	}
	if ((r = ll_workers_start(core, ll_workers_count(&relay->cfg))) !=
	    LL_OK) {
		ll_error("cannot start %u worker loops: %s",
			 ll_workers_count(&relay->cfg), ll_strerror(r));
		goto out;
	}
	core->pairs = ll_pair_table_new();
	core->unauth = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					     NULL);
	core_limits_from_cfg(core);
	core_fd_slots(core);
	errbuf[0] = '\0';
	if ((r = ll_core_metrics_access_load(&relay->cfg,
					     &core->metrics_access, errbuf,
					     sizeof(errbuf))) != 0) {
		fprintf(stderr, "lifeline-relay: %s\n",
			errbuf[0] ? errbuf : ll_strerror(r));
		goto out;
	}
	core_log_metrics_access(core);

	core->ev_term = evsignal_new(core->base, SIGTERM, core_signal_cb,
				     core);
	core->ev_int = evsignal_new(core->base, SIGINT, core_signal_cb, core);
	core->ev_hup = evsignal_new(core->base, SIGHUP, core_signal_cb, core);
	core->ev_tick = event_new(core->base, -1, EV_PERSIST, core_tick_cb,
				  core);
	core->ev_accept_retry = evtimer_new(core->base, core_accept_retry_cb,
					    core);
	if (core->ev_term == NULL || core->ev_int == NULL ||
	    core->ev_hup == NULL || core->ev_tick == NULL ||
	    core->ev_accept_retry == NULL || event_add(core->ev_term, NULL) ||
	    event_add(core->ev_int, NULL) || event_add(core->ev_hup, NULL) ||
	    event_add(core->ev_tick, &one_second)) {
		r = LL_ERR_NOMEM;
		goto out;
	}

	spec = listen_override != NULL ? listen_override : relay->cfg.listen;
	if (spec == NULL)
		spec = "0.0.0.0:8443";
	core->listen_now = g_strdup(spec);
	if ((r = core_listen(core, spec)) != 0)
		goto out;
	fprintf(stderr, "lifeline-relay: ready\n");
	fflush(stderr);
	core_notify("READY=1");

	if (event_base_dispatch(core->base) < 0) {
		ll_error("event loop failed");
		r = LL_ERR_INTERNAL;
	}
	/* Normally core_stop() ran from a signal; make sure either way. */
	core_stop(core);
out:
	core_free(core);
	if (r == LL_OK) {
		fprintf(stderr, "lifeline-relay: stopped\n");
		fflush(stderr);
	}
	return r;
}
