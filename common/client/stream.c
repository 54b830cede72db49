/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening a session stream: TCP (or a proxy tunnel) by libcurl, our TLS,
 * the upgrade request, the 101 answer.  Blocking, with one deadline for
 * the whole open.  See ll_stream.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <glib.h>

#include "client_internal.h"
#include "ll_buf.h"
#include "ll_crypto.h"
#include "ll_http.h"
#include "ll_stream.h"
#include "ll_tls.h"
#include "ll_util.h"

/* The answer's head and an error body are read into one bounded buffer. */
#define STREAM_HEAD_MAX 8192u
#define STREAM_BODY_MAX 16384u

void ll_stream_free(struct ll_stream *s)
{
	if (s == NULL)
		return;
	ll_tls_conn_free(s->conn, true);
	if (s->extra != NULL) {
		ll_wipe(s->extra, s->extra_len);
		free(s->extra);
	}
	free(s);
}

static int remaining_ms(int64_t deadline)
{
	int64_t left = deadline - ll_now_mono_ms();

	if (left <= 0)
		return 0;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

/* Waits for what a TLS call asked for (want = LL_ERR_WANT_READ/WRITE). */
static int wait_tls(struct ll_tls_conn *c, int want, int64_t deadline)
{
	struct pollfd p = { .fd = ll_tls_conn_fd(c) };
	int n;

	p.events = want == LL_ERR_WANT_WRITE ? POLLOUT : POLLIN;
	for (;;) {
		n = poll(&p, 1, remaining_ms(deadline));
		if (n > 0)
			return LL_OK;
		if (n == 0)
			return LL_ERR_TIMEOUT;
		if (errno != EINTR)
			return LL_ERR_IO;
	}
}

/* The proxy for an https:// relay as libcurl would pick it, with the name
 * of the variable it came from (for messages: its value may hold a
 * password, so it is never printed). */
static const char *pick_proxy(const char **var)
{
	static const char *const vars[] = { "https_proxy", "HTTPS_PROXY",
					    "all_proxy", "ALL_PROXY" };
	const char *v;
	size_t i;

	for (i = 0; i < LL_ARRAY_SIZE(vars); i++) {
		v = g_getenv(vars[i]);
		if (v != NULL && v[0] != '\0') {
			*var = vars[i];
			return v;
		}
	}
	return NULL;
}

static const char *pick_no_proxy(void)
{
	const char *v = g_getenv("no_proxy");

	if (v == NULL || v[0] == '\0')
		v = g_getenv("NO_PROXY");
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/*
 * A connected socket to the relay, directly or through the environment's
 * proxy.  libcurl does the work with an http:// URL, CONNECT_ONLY and a
 * forced tunnel: it connects (happy eyeballs, timeouts), speaks CONNECT
 * to the proxy (with the proxy URL's credentials) and stops before any
 * request; we take a duplicate of its socket and let it close its own.
 */
static int tunnel_open(const struct ll_client_url *u, int timeout_ms, int *fdp,
		       struct ll_client_error *err)
{
	const char *proxy, *var = NULL, *no_proxy;
	char errbuf[CURL_ERROR_SIZE] = "";
	char *url = NULL;
	curl_socket_t sock = CURL_SOCKET_BAD;
	long os_errno = 0, connect_code = 0;
	CURL *h = NULL;
	CURLcode cc;
	int fd, r;

	proxy = pick_proxy(&var);
	no_proxy = pick_no_proxy();
	if (proxy != NULL && g_ascii_strncasecmp(proxy, "https://", 8) == 0) {
		r = LL_ERR_CONFIG;
		ll_client_error_set(err, r, 0,
				    "the proxy in %s is reached over TLS "
				    "(https://), which the session stream "
				    "cannot use; give an http:// proxy",
				    var);
		return r;
	}
	ll_client_curl_init();
	url = g_strdup_printf("http://%s:%u/", u->host_hdr, (unsigned)u->port);
	if ((h = curl_easy_init()) == NULL) {
		r = LL_ERR_NOMEM;
		ll_client_error_set(err, r, 0, "out of memory");
		goto out;
	}
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HTTPPROXYTUNNEL, 1L) != CURLE_OK ||
	    /* "" = no proxy: never fall back to http_proxy for a TLS
	     * relay. */
	    curl_easy_setopt(h, CURLOPT_PROXY, proxy != NULL ? proxy : "") !=
		    CURLE_OK ||
	    (no_proxy != NULL &&
	     curl_easy_setopt(h, CURLOPT_NOPROXY, no_proxy) != CURLE_OK) ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms) !=
		    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms) !=
		    CURLE_OK) {
		r = LL_ERR_INTERNAL;
		ll_client_error_set(err, r, 0,
				    "libcurl refused an option (too old?)");
		goto out;
	}
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_HTTP_CONNECTCODE, &connect_code);
	if (cc != CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
		if (connect_code != 0 && connect_code != 200) {
			r = LL_ERR_IO;
			ll_client_error_set(err, r, 0,
					    "the proxy (from %s) refused the "
					    "tunnel to relay at %s: HTTP %ld",
					    var != NULL ? var : "?", u->base,
					    connect_code);
			goto out;
		}
		r = ll_client_curl_error(cc, os_errno, errbuf,
					 proxy != NULL ? "the proxy for relay"
						       : "relay",
					 u->base, err);
		goto out;
	}
	if (curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, &sock) != CURLE_OK ||
	    sock == CURL_SOCKET_BAD) {
		r = LL_ERR_INTERNAL;
		ll_client_error_set(err, r, 0,
				    "libcurl connected but kept the socket");
		goto out;
	}
	if ((fd = fcntl(sock, F_DUPFD_CLOEXEC, 0)) < 0) {
		r = LL_ERR_IO;
		ll_client_error_set(err, r, 0, "dup: %s", strerror(errno));
		goto out;
	}
	*fdp = fd;
	r = LL_OK;
out:
	curl_easy_cleanup(h);
	g_free(url);
	return r;
}

static int tls_fail(struct ll_tls_conn *c, int r, const char *base,
		    struct ll_client_error *err)
{
	if (r == LL_ERR_TIMEOUT)
		ll_client_error_set(err, r, 0,
				    "relay at %s did not complete TLS in time",
				    base);
	else if (r == LL_ERR_TLS_VERIFY)
		ll_client_error_set(err, r, 0,
				    "the certificate of relay at %s is not "
				    "trusted: %s",
				    base, ll_tls_conn_error(c));
	else if (r == LL_ERR_CLOSED)
		ll_client_error_set(err, r, 0,
				    "relay at %s closed the connection during "
				    "TLS",
				    base);
	else
		ll_client_error_set(err, r, 0,
				    "TLS with relay at %s failed: %s", base,
				    ll_tls_conn_error(c));
	return r;
}

static int write_all(struct ll_tls_conn *c, const uint8_t *p, size_t len,
		     int64_t deadline)
{
	size_t n;
	int r;

	while (len > 0) {
		r = ll_tls_conn_write(c, p, len, &n);
		if (r == LL_OK) {
			p += n;
			len -= n;
			continue;
		}
		if (r != LL_ERR_WANT_READ && r != LL_ERR_WANT_WRITE)
			return r;
		if ((r = wait_tls(c, r, deadline)) != 0)
			return r;
	}
	return LL_OK;
}

/* Reads what is there (waiting until something is) into buf. */
static int read_some(struct ll_tls_conn *c, struct ll_buf *buf,
		     int64_t deadline)
{
	uint8_t tmp[4096];
	size_t n, want;
	int r;

	want = ll_buf_room(buf) < sizeof(tmp) ? ll_buf_room(buf) : sizeof(tmp);
	if (want == 0)
		return LL_ERR_TOO_LARGE;
	for (;;) {
		r = ll_tls_conn_read(c, tmp, want, &n);
		if (r == LL_OK) {
			r = ll_buf_put(buf, tmp, n);
			ll_wipe(tmp, n);
			return r;
		}
		if (r != LL_ERR_WANT_READ && r != LL_ERR_WANT_WRITE)
			return r;
		if ((r = wait_tls(c, r, deadline)) != 0)
			return r;
	}
}

/* After a refusal: the body (Content-Length bytes, capped), then err. */
static int refusal(struct ll_tls_conn *c, const struct ll_http_response *h,
		   struct ll_buf *buf, int64_t deadline, const char *base,
		   struct ll_client_error *err)
{
	const char *cl = ll_http_response_header(h, "Content-Length");
	unsigned long want = 0;
	char *end = NULL;
	int r;

	if (cl != NULL) {
		errno = 0;
		want = strtoul(cl, &end, 10);
		if (errno != 0 || end == cl || *end != '\0')
			want = 0;
	}
	if (want > STREAM_BODY_MAX)
		want = 0; /* not an API error object: do not wait for it */
	while (ll_buf_len(buf) < want) {
		if ((r = read_some(c, buf, deadline)) != 0)
			break; /* judge by what came */
	}
	r = ll_client_error_from_body(h->status,
				      (const char *)ll_buf_data(buf),
				      ll_buf_len(buf) < want ? ll_buf_len(buf)
							     : want,
				      0, err);
	if (err != NULL && err->api_code[0] == '\0')
		snprintf(err->message, sizeof(err->message),
			 "relay at %s refused the session stream: HTTP %d %s",
			 base, h->status, ll_http_reason(h->status));
	return r;
}

static int handshake(struct ll_tls_conn *conn, int64_t deadline,
		     const char *base, struct ll_client_error *err)
{
	int r;

	for (;;) {
		r = ll_tls_conn_handshake(conn);
		if (r == LL_OK)
			return LL_OK;
		if (r != LL_ERR_WANT_READ && r != LL_ERR_WANT_WRITE)
			break;
		if ((r = wait_tls(conn, r, deadline)) != 0)
			break;
	}
	tls_fail(conn, r, base, err);
	return r;
}

/* The stream on conn (taken on success), with the bytes that came after
 * the answer head; NULL when out of memory. */
static struct ll_stream *stream_new(struct ll_tls_conn *conn,
				    const struct ll_buf *in)
{
	struct ll_stream *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if (ll_buf_len(in) > 0) {
		if ((s->extra = malloc(ll_buf_len(in))) == NULL) {
			free(s);
			return NULL;
		}
		memcpy(s->extra, ll_buf_data(in), ll_buf_len(in));
		s->extra_len = ll_buf_len(in);
	}
	s->conn = conn;
	return s;
}

/*
 * Reads the relay's answer head to the stream request into *head; the
 * bytes after it stay in in (the start of the stream, or a refusal's
 * body).
 */
static int read_answer_head(struct ll_tls_conn *conn, struct ll_buf *in,
			    int64_t deadline, const char *base,
			    struct ll_http_response **head,
			    struct ll_client_error *err)
{
	struct ll_http_limits lim;
	int n, r;

	ll_http_limits_default(&lim);
	lim.max_head = STREAM_HEAD_MAX;
	for (;;) {
		n = ll_http_response_head_parse(ll_buf_data(in),
						ll_buf_len(in), &lim, head);
		if (n > 0)
			break;
		if (n < 0) {
			r = n;
			ll_client_error_set(err, r, 0,
					    "relay at %s sent a broken answer "
					    "to the stream request: %s",
					    base, ll_strerror(r));
			return r;
		}
		if ((r = read_some(conn, in, deadline)) != 0) {
			if (r == LL_ERR_TOO_LARGE)
				ll_client_error_set(err, r, 0,
						    "relay at %s sent an "
						    "answer head over %u "
						    "bytes",
						    base, STREAM_HEAD_MAX);
			else if (r == LL_ERR_TIMEOUT)
				ll_client_error_set(err, r, 0,
						    "relay at %s did not "
						    "answer the stream request "
						    "in time",
						    base);
			else
				ll_client_error_set(err, r, 0,
						    "relay at %s closed the "
						    "connection instead of "
						    "answering the stream "
						    "request: %s",
						    base, ll_strerror(r));
			return r;
		}
	}
	ll_buf_consume(in, (size_t)n);
	return LL_OK;
}

int ll_stream_open(const struct ll_relay_opts *relay, const char *path,
		   const char *ticket, struct ll_stream **out,
		   struct ll_client_error *err)
{
	struct ll_tls_client_opts to = { 0 };
	struct ll_client_url u = { 0 };
	struct ll_http_response *head = NULL;
	struct ll_tls_ctx *ctx = NULL;
	struct ll_tls_conn *conn = NULL;
	struct ll_stream *s = NULL;
	struct ll_buf *req = NULL, *in = NULL;
	char *hosthdr = NULL, tlserr[256] = "";
	int64_t deadline;
	int fd = -1, tmo, r, fl;

	ll_client_error_clear(err);
	if (relay == NULL || ticket == NULL || out == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "no relay or no ticket");
		return LL_ERR_INVALID_ARG;
	}
	if (path == NULL)
		path = LL_STREAM_DEFAULT_PATH;
	if ((r = ll_client_url_parse(relay->url, &u, err)) != 0 ||
	    (r = ll_client_url_allowed(relay->allowed_hosts, &u, err)) != 0)
		goto out;
	tmo = relay->timeout_ms > 0 ? relay->timeout_ms
				    : LL_STREAM_DEFAULT_TIMEOUT_MS;
	deadline = ll_now_mono_ms() + tmo;

	to.ca_file = relay->ca_file;
	to.ca_pem = relay->ca_pem;
	to.no_system_cas = relay->no_system_cas;
	to.spki_pin = relay->spki_pin;
	if ((ctx = ll_tls_client_ctx_new(&to, &r, tlserr, sizeof(tlserr))) ==
	    NULL) {
		ll_client_error_set(err, r, 0, "TLS setup failed: %s", tlserr);
		goto out;
	}
	if ((r = tunnel_open(&u,
			     relay->connect_timeout_ms > 0 &&
					     relay->connect_timeout_ms < tmo
				     ? relay->connect_timeout_ms
				     : tmo,
			     &fd, err)) != 0)
		goto out;
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
		r = LL_ERR_IO;
		ll_client_error_set(err, r, 0, "fcntl: %s", strerror(errno));
		goto out;
	}
	if ((conn = ll_tls_conn_new_client(ctx, fd, u.host)) == NULL) {
		r = LL_ERR_NOMEM;
		ll_client_error_set(err, r, 0, "TLS setup failed");
		goto out;
	}
	fd = -1; /* conn owns it now (closed by ll_tls_conn_free(.., true)) */
	if ((r = handshake(conn, deadline, u.base, err)) != 0)
		goto out;

	hosthdr = g_strdup_printf("%s:%u", u.host_hdr, (unsigned)u.port);
	if ((req = ll_buf_new(STREAM_HEAD_MAX)) == NULL ||
	    (in = ll_buf_new(STREAM_HEAD_MAX + STREAM_BODY_MAX)) == NULL) {
		r = LL_ERR_NOMEM;
		ll_client_error_set(err, r, 0, "out of memory");
		goto out;
	}
	if ((r = ll_http_upgrade_request_build(req, hosthdr, path, ticket)) !=
	    0) {
		ll_client_error_set(err, r, 0,
				    "the ticket or stream path is not usable "
				    "in a request");
		goto out;
	}
	if ((r = write_all(conn, ll_buf_data(req), ll_buf_len(req),
			   deadline)) != 0) {
		ll_client_error_set(err, r, 0,
				    "sending the stream request to relay at "
				    "%s failed: %s",
				    u.base, ll_strerror(r));
		goto out;
	}

	if ((r = read_answer_head(conn, in, deadline, u.base, &head, err)) !=
	    0)
		goto out;
	if (!ll_http_response_is_upgrade(head)) {
		if (head->status == 101) {
			r = LL_ERR_PROTOCOL;
			ll_client_error_set(err, r, 101,
					    "relay at %s switched to another "
					    "protocol than lifeline/1",
					    u.base);
		} else {
			r = refusal(conn, head, in, deadline, u.base, err);
		}
		goto out;
	}

	if ((s = stream_new(conn, in)) == NULL) {
		r = LL_ERR_NOMEM;
		ll_client_error_set(err, r, 0, "out of memory");
		goto out;
	}
	conn = NULL;
	*out = s;
	r = LL_OK;
out:
	ll_http_response_free(head);
	ll_buf_free(req); /* wipes: it held the ticket */
	ll_buf_free(in);
	ll_tls_conn_free(conn, true);
	if (fd >= 0)
		close(fd);
	ll_tls_ctx_free(ctx);
	g_free(hosthdr);
	ll_client_url_clear(&u);
	return r;
}

/* Whether trying again can help after ll_stream_open failed with r. */
static bool reopen_final(int r)
{
	switch (r) {
	case LL_ERR_NOT_FOUND:   /* the session is over */
	case LL_ERR_AUTH_FAILED: /* not (or no longer) a ticket */
	case LL_ERR_DISABLED:
	case LL_ERR_CONFLICT: /* a session that never connected */
	case LL_ERR_EXPIRED:
	case LL_ERR_BAD_VERSION:
	case LL_ERR_TLS_VERIFY: /* not the relay we trusted */
	case LL_ERR_INVALID_ARG:
	case LL_ERR_NOMEM:
		return true;
	default:
		return false;
	}
}

int ll_stream_reopen(const struct ll_relay_opts *relay, const char *path,
		     const char *ticket, int64_t deadline_ms,
		     const volatile int *cancel, unsigned *tries,
		     struct ll_stream **out, struct ll_client_error *err)
{
	struct ll_relay_opts o;
	int64_t left, wait_ms = 1000, until;
	int r = LL_ERR_TIMEOUT;
	bool tried = false;

	if (relay == NULL || ticket == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if (tries != NULL)
		*tries = 0;
	for (;;) {
		if (cancel != NULL && *cancel) {
			ll_client_error_set(err, LL_ERR_CLOSED, 0,
					    "coming back was cancelled");
			return LL_ERR_CLOSED;
		}
		left = deadline_ms - ll_now_mono_ms();
		if (left <= 0)
			break;
		o = *relay;
		/* No try may outlast the grace. */
		if (o.timeout_ms <= 0 || o.timeout_ms > left)
			o.timeout_ms = (int)left;
		if (o.connect_timeout_ms <= 0 || o.connect_timeout_ms > left)
			o.connect_timeout_ms = (int)left;
		if (tries != NULL)
			(*tries)++;
		tried = true;
		r = ll_stream_open(&o, path, ticket, out, err);
		if (r == LL_OK || reopen_final(r))
			return r;
		ll_info("the stream could not be opened again (%s); next try "
			"in %lld s",
			ll_strerror(r), (long long)(wait_ms / 1000));
		until = MIN(ll_now_mono_ms() + wait_ms, deadline_ms);
		while (ll_now_mono_ms() < until &&
		       !(cancel != NULL && *cancel))
			g_usleep(100 * 1000);
		wait_ms = MIN(wait_ms * 2, LL_STREAM_REOPEN_MAX_WAIT_MS);
	}
	if (!tried || r == LL_OK)
		r = LL_ERR_TIMEOUT;
	if (!tried)
		ll_client_error_set(err, r, 0,
				    "the time to come back had passed");
	return r;
}
