/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relay-load: the load generator behind bench/relay-throughput and
 * bench/login-flood.
 *
 * It pushes bytes through a TLS forwarder and counts them where they come
 * out, so bytes sitting in socket and proxy buffers never inflate a figure:
 *  - "relay": logs in, creates sessions and redeems their PINs through the
 *    API, opens both streams of every session (agent and applet side);
 *    then the agent side of every session writes and the applet side
 *    reads;
 *  - "latency": one such session echoes a small message on a fixed
 *    schedule while, round after round, a quiet spell and a flood of
 *    pipelined wrong logins from many source addresses take turns; prints
 *    the round trips' percentiles for each (see mode_latency);
 *  - "nginx": serves a TLS sink on --sink-port and pushes through nginx's
 *    stream proxy (client -TLS-> nginx -TLS-> sink): the same work, one
 *    decryption and one encryption per byte in the middle;
 *  - "free-port": prints a free loopback TCP port for the script's config.
 * With --idle N both modes instead open N paired idle sessions and print
 * the resident memory of --mem-pid before and after, divided by N (with
 * --hold, relay mode, the caller measures: see hold_step).
 *
 * Both modes use the same threads (one writer per sending side, one reader
 * per receiving side), the same write size and the same TLS facade, so the
 * two figures differ only by the forwarder in the middle.  Every wait is
 * bounded: sockets carry 1 s send/receive timeouts, every loop checks a
 * deadline, and alarm() ends the whole program after --max-seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <glib.h>
#include <jansson.h>

#include "ll_buf.h"
#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_http.h"
#include "ll_tls.h"

#define WRITE_SIZE 16384 /* one full TLS record per write */
#define READ_SIZE 65536
#define SOCK_TIMEOUT_MS 1000   /* lets blocked threads see the stop flag */
#define SETUP_TIMEOUT_MS 15000 /* any one setup step (dial, request) */
#define MAX_BODY (1024 * 1024)
#define MAX_FLOWS 20000
#define THREAD_STACK (256 * 1024)

/* ---- options ---- */
static char *opt_host = NULL; /* default 127.0.0.1 */
static int opt_port = 0;
static char *opt_ca = NULL;
static char *opt_cert = NULL;
static char *opt_key = NULL;
static int opt_sink_port = 0;
static char *opt_user = NULL;
static char *opt_password_file = NULL;
static char *opt_org = NULL;
static int opt_sessions = 1;
static double opt_seconds = 5.0;
static double opt_warmup = 1.0;
static int opt_idle = 0;
static int opt_mem_pid = 0;
static gboolean opt_hold = FALSE;
static int opt_max_seconds = 150;
static char *opt_label = NULL;
static int opt_addrs = 40;
static int opt_depth = 10;
static int opt_rounds = 3;
static int opt_interval_ms = 5;

static GOptionEntry opt_entries[] = {
	{ "host", 0, 0, G_OPTION_ARG_STRING, &opt_host,
	  "Address to dial and name to verify (127.0.0.1)", "HOST" },
	{ "port", 0, 0, G_OPTION_ARG_INT, &opt_port,
	  "Port of the relay or of nginx", "PORT" },
	{ "ca", 0, 0, G_OPTION_ARG_FILENAME, &opt_ca,
	  "CA certificate (PEM) to trust, the only one", "FILE" },
	{ "cert", 0, 0, G_OPTION_ARG_FILENAME, &opt_cert,
	  "Sink certificate (nginx mode)", "FILE" },
	{ "key", 0, 0, G_OPTION_ARG_FILENAME, &opt_key,
	  "Sink private key (nginx mode)", "FILE" },
	{ "sink-port", 0, 0, G_OPTION_ARG_INT, &opt_sink_port,
	  "Port the TLS sink listens on (nginx mode)", "PORT" },
	{ "user", 0, 0, G_OPTION_ARG_STRING, &opt_user,
	  "Technician to log in as (relay mode)", "USER" },
	{ "password-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_password_file,
	  "File holding the technician's password (relay mode)", "FILE" },
	{ "org", 0, 0, G_OPTION_ARG_STRING, &opt_org,
	  "Organisation to log in to", "ORG" },
	{ "sessions", 0, 0, G_OPTION_ARG_INT, &opt_sessions,
	  "Concurrent sessions pushing data (1)", "N" },
	{ "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_seconds,
	  "Measured seconds after the warm-up (5)", "S" },
	{ "warmup", 0, 0, G_OPTION_ARG_DOUBLE, &opt_warmup,
	  "Seconds pushed before measuring (1)", "S" },
	{ "idle", 0, 0, G_OPTION_ARG_INT, &opt_idle,
	  "Instead: open N paired idle sessions, report memory", "N" },
	{ "mem-pid", 0, 0, G_OPTION_ARG_INT, &opt_mem_pid,
	  "Process whose resident memory --idle reports", "PID" },
	{ "hold", 0, 0, G_OPTION_ARG_NONE, &opt_hold,
	  "With --idle (relay mode): the caller measures; see hold_step",
	  NULL },
	{ "max-seconds", 0, 0, G_OPTION_ARG_INT, &opt_max_seconds,
	  "Hard limit on the whole run (150)", "S" },
	{ "label", 0, 0, G_OPTION_ARG_STRING, &opt_label,
	  "Name printed in the result line", "NAME" },
	{ "addrs", 0, 0, G_OPTION_ARG_INT, &opt_addrs,
	  "Latency mode: source addresses of the login flood (40)", "N" },
	{ "depth", 0, 0, G_OPTION_ARG_INT, &opt_depth,
	  "Latency mode: logins each address pipelines (10)", "N" },
	{ "rounds", 0, 0, G_OPTION_ARG_INT, &opt_rounds,
	  "Latency mode: quiet spell + flood, this many times (3)", "N" },
	{ "interval-ms", 0, 0, G_OPTION_ARG_INT, &opt_interval_ms,
	  "Latency mode: one echo sent every this many ms (5)", "MS" },
	{ NULL, 0, 0, 0, NULL, NULL, NULL }
};

/* ---- shared state ---- */
static atomic_bool g_stop;
static atomic_bool g_go;
static uint8_t g_payload[WRITE_SIZE];

/* One session's data path: tx is the writing end (agent side, or client to
 * nginx), rx the reading end (applet side, or the sink's connection). */
struct flow {
	struct ll_tls_conn *tx;
	struct ll_tls_conn *rx;
	_Atomic uint64_t rx_bytes;
	pthread_t tx_thr, rx_thr;
	bool tx_started, rx_started;
	int tx_err, rx_err; /* error before the stop flag, or 0 */
	char *agent_ticket; /* relay mode, until the streams open */
	char *applet_ticket;
	char *path;
};

static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("relay-load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Blocking socket with short timeouts: a blocked call returns WANT_* after
 * a second, so every loop above can look at its deadline and g_stop. */
static void sock_prepare(int fd)
{
	struct timeval tv = { SOCK_TIMEOUT_MS / 1000,
			      (SOCK_TIMEOUT_MS % 1000) * 1000 };
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0 && (fl & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static bool want(int r)
{
	return r == LL_ERR_WANT_READ || r == LL_ERR_WANT_WRITE;
}

/* After a WANT_* on a possibly non-blocking fd: wait a little for it. */
static void tls_wait(struct ll_tls_conn *c, int r)
{
	struct pollfd p = { .fd = ll_tls_conn_fd(c),
			    .events = r == LL_ERR_WANT_WRITE ? POLLOUT
							     : POLLIN };

	(void)poll(&p, 1, 100);
}

static int tls_read_some(struct ll_tls_conn *c, void *buf, size_t len,
			 size_t *n, int64_t deadline)
{
	int r;

	for (;;) {
		r = ll_tls_conn_read(c, buf, len, n);
		if (!want(r))
			return r;
		if (atomic_load(&g_stop) || now_ms() >= deadline)
			return LL_ERR_TIMEOUT;
		tls_wait(c, r);
	}
}

static int tls_write_all(struct ll_tls_conn *c, const void *buf, size_t len,
			 int64_t deadline)
{
	const uint8_t *p = buf;
	size_t n;
	int r;

	while (len > 0) {
		n = 0;
		r = ll_tls_conn_write(c, p, len, &n);
		if (want(r)) {
			if (atomic_load(&g_stop) || now_ms() >= deadline)
				return LL_ERR_TIMEOUT;
			tls_wait(c, r);
			continue;
		}
		if (r != LL_OK)
			return r;
		if (n > len)
			return LL_ERR_INTERNAL;
		p += n;
		len -= n;
	}
	return LL_OK;
}

static int dial(struct ll_tls_ctx *ctx, uint16_t port,
		struct ll_tls_conn **out)
{
	char err[256] = "";
	struct ll_tls_conn *c = NULL;
	int r;

	r = ll_tls_dial(ctx, opt_host, port, SETUP_TIMEOUT_MS, &c, err,
			sizeof(err));
	if (r != LL_OK) {
		fprintf(stderr, "relay-load: dial %s:%u: %s (%s)\n", opt_host,
			(unsigned)port, ll_strerror(r), err);
		return r;
	}
	sock_prepare(ll_tls_conn_fd(c));
	*out = c;
	return LL_OK;
}

/* ---- HTTP over one kept-alive TLS connection ---- */
struct http_conn {
	struct ll_tls_conn *c;
	uint8_t in[MAX_BODY + 16384];
	size_t in_len;
	bool close_after;
};

static void http_conn_close(struct http_conn *h)
{
	ll_tls_conn_free(h->c, true);
	h->c = NULL;
	h->in_len = 0;
	h->close_after = false;
}

static int http_fill(struct http_conn *h, int64_t deadline)
{
	size_t n = 0;
	int r;

	if (h->in_len >= sizeof(h->in))
		return LL_ERR_TOO_LARGE;
	r = tls_read_some(h->c, h->in + h->in_len, sizeof(h->in) - h->in_len,
			  &n, deadline);
	if (r != LL_OK)
		return r;
	if (n == 0)
		return LL_ERR_CLOSED;
	h->in_len += n;
	return LL_OK;
}

static void http_consume(struct http_conn *h, size_t n)
{
	memmove(h->in, h->in + n, h->in_len - n);
	h->in_len -= n;
}

/* Reads one response head; *resp owned by the caller. */
static int http_read_head(struct http_conn *h, struct ll_http_response **resp,
			  int64_t deadline)
{
	struct ll_http_limits lim;
	int r;

	ll_http_limits_default(&lim);
	for (;;) {
		if (h->in_len > 0) {
			r = ll_http_response_head_parse(h->in, h->in_len, &lim,
							resp);
			if (r < 0)
				return r;
			if (r > 0) {
				http_consume(h, (size_t)r);
				return LL_OK;
			}
		}
		if ((r = http_fill(h, deadline)) != LL_OK)
			return r;
	}
}

static int http_read_answer(struct http_conn *h, int64_t deadline, int *status,
			    json_t **body_out, int *retry_after);

/* One request/response.  *body_out gets the parsed JSON body (or NULL). */
static int http_once(struct http_conn *h, const char *method, const char *path,
		     const char *bearer, const char *body, int *status,
		     json_t **body_out, int *retry_after)
{
	int64_t deadline = now_ms() + SETUP_TIMEOUT_MS;
	GString *req = g_string_sized_new(512);
	int r;

	g_string_append_printf(req,
			       "%s %s HTTP/1.1\r\nHost: %s:%d\r\n"
			       "Accept: application/json\r\n",
			       method, path, opt_host, opt_port);
	if (bearer)
		g_string_append_printf(req, "Authorization: Bearer %s\r\n",
				       bearer);
	if (body)
		g_string_append_printf(req,
				       "Content-Type: application/json\r\n"
				       "Content-Length: %zu\r\n\r\n%s",
				       strlen(body), body);
	else
		g_string_append(req, "Content-Length: 0\r\n\r\n");
	r = tls_write_all(h->c, req->str, req->len, deadline);
	ll_wipe(req->str, req->len); /* it carries tokens and PINs */
	g_string_free(req, TRUE);
	if (r != LL_OK)
		return r;
	return http_read_answer(h, deadline, status, body_out, retry_after);
}

/* Reads one answer of h (head and Content-Length body). */
static int http_read_answer(struct http_conn *h, int64_t deadline, int *status,
			    json_t **body_out, int *retry_after)
{
	struct ll_http_response *resp = NULL;
	const char *v;
	size_t clen = 0;
	json_error_t jerr;
	int r;

	if ((r = http_read_head(h, &resp, deadline)) != LL_OK)
		goto out;
	if ((v = ll_http_response_header(resp, "Content-Length")) != NULL) {
		char *end;
		unsigned long long cl = strtoull(v, &end, 10);

		if (end == v || cl > MAX_BODY) {
			r = LL_ERR_TOO_LARGE;
			goto out;
		}
		clen = (size_t)cl;
	} else if (resp->status != 204 && resp->status != 304) {
		/* Without a length the body runs to the close: not used by
		 * the relay's API, so refuse rather than guess. */
		r = LL_ERR_MALFORMED;
		goto out;
	}
	while (h->in_len < clen)
		if ((r = http_fill(h, deadline)) != LL_OK)
			goto out;
	*body_out = NULL;
	if (clen > 0) {
		*body_out = json_loadb((const char *)h->in, clen, 0, &jerr);
		http_consume(h, clen);
	}
	*status = resp->status;
	*retry_after = 0;
	if ((v = ll_http_response_header(resp, "Retry-After")) != NULL)
		*retry_after = atoi(v);
	if ((v = ll_http_response_header(resp, "Connection")) != NULL &&
	    g_ascii_strcasecmp(v, "close") == 0)
		h->close_after = true;
	r = LL_OK;
out:
	ll_http_response_free(resp);
	return r;
}

/*
 * An API call with JSON in and out.  Reconnects once when a kept-alive
 * connection turns out closed; waits out 429 a few times (bounded).
 */
static int api_call(struct ll_tls_ctx *ctx, struct http_conn *h,
		    const char *method, const char *path, const char *bearer,
		    json_t *jbody, int *status, json_t **out)
{
	char *body = jbody ? json_dumps(jbody, JSON_COMPACT) : NULL;
	int attempt, retry_after = 0, r = LL_ERR_INTERNAL;
	bool fresh;

	for (attempt = 0; attempt < 6; attempt++) {
		fresh = false;
		if (h->c == NULL) {
			if ((r = dial(ctx, (uint16_t)opt_port, &h->c)) !=
			    LL_OK)
				break;
			fresh = true;
		}
		*out = NULL;
		r = http_once(h, method, path, bearer, body, status, out,
			      &retry_after);
		if (r != LL_OK || h->close_after)
			http_conn_close(h);
		if (r != LL_OK) {
			if (!fresh)
				continue; /* stale keep-alive: redial once */
			break;
		}
		if (*status != 429)
			break;
		json_decref(*out);
		*out = NULL;
		sleep_s(retry_after > 0 && retry_after < 3 ? retry_after : 1);
	}
	if (body) {
		ll_wipe(body, strlen(body));
		free(body);
	}
	return r;
}

static const char *json_err_code(json_t *j)
{
	const char *s = json_string_value(
		json_object_get(json_object_get(j, "error"), "code"));

	return s ? s : "?";
}

/* ---- streams ---- */
static int stream_begin(struct ll_tls_ctx *ctx, const char *path,
			const char *ticket, struct http_conn *h)
{
	char host[300];
	struct ll_buf *b = ll_buf_new(8192);
	int r;

	if (b == NULL)
		return LL_ERR_NOMEM;
	snprintf(host, sizeof(host), "%s:%d", opt_host, opt_port);
	if ((r = dial(ctx, (uint16_t)opt_port, &h->c)) != LL_OK ||
	    (r = ll_http_upgrade_request_build(b, host, path, ticket)) !=
		    LL_OK ||
	    (r = tls_write_all(h->c, ll_buf_data(b), ll_buf_len(b),
			       now_ms() + SETUP_TIMEOUT_MS)) != LL_OK)
		goto out;
out:
	ll_buf_free(b); /* wipes: it held the ticket */
	return r;
}

/* Reads the 101; bytes after it (none expected yet) count as payload. */
static int stream_finish(struct http_conn *h, struct flow *f)
{
	struct ll_http_response *resp = NULL;
	int r;

	r = http_read_head(h, &resp, now_ms() + SETUP_TIMEOUT_MS);
	if (r != LL_OK) {
		fprintf(stderr, "relay-load: stream upgrade: %s\n",
			ll_strerror(r));
		return r;
	}
	if (!ll_http_response_is_upgrade(resp)) {
		fprintf(stderr, "relay-load: stream upgrade refused: %d\n",
			resp->status);
		ll_http_response_free(resp);
		return LL_ERR_PROTOCOL;
	}
	ll_http_response_free(resp);
	if (f)
		atomic_fetch_add(&f->rx_bytes, h->in_len);
	return LL_OK;
}

static char *read_password(const char *file)
{
	gchar *text = NULL;
	gsize len = 0;
	char *pw;

	if (!g_file_get_contents(file, &text, &len, NULL))
		die("cannot read %s", file);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	pw = strdup(text);
	ll_wipe(text, len);
	g_free(text);
	if (pw == NULL)
		die("out of memory");
	return pw;
}

static char *relay_login(struct ll_tls_ctx *ctx, struct http_conn *api)
{
	char *pw = read_password(opt_password_file);
	json_t *req = json_pack("{s:s, s:s}", "username", opt_user, "password",
				pw);
	json_t *resp = NULL;
	char *token = NULL;
	int status = 0, r;

	if (req && opt_org)
		json_object_set_new(req, "org", json_string(opt_org));
	r = api_call(ctx, api, "POST", "/api/v1/login", NULL, req, &status,
		     &resp);
	/* The password also sits in the JSON object: wipe what we can. */
	ll_wipe(pw, strlen(pw));
	free(pw);
	json_decref(req);
	if (r != LL_OK)
		die("login: %s", ll_strerror(r));
	if (status != 200 || !json_is_string(json_object_get(resp, "token")))
		die("login refused: HTTP %d %s", status, json_err_code(resp));
	token = strdup(json_string_value(json_object_get(resp, "token")));
	json_decref(resp);
	if (token == NULL)
		die("out of memory");
	return token;
}

/* One relay session through the API: create it, redeem its PIN; keeps
 * both tickets in the flow for relay_session_connect(). */
static int relay_session_create(struct ll_tls_ctx *ctx, struct http_conn *api,
				const char *token, struct flow *f)
{
	json_t *jreq = NULL, *created = NULL, *redeemed = NULL;
	const char *pin, *agent_ticket, *applet_ticket, *path;
	int status = 0, r;

	jreq = json_pack("{s:s}", "lock", "any");
	r = api_call(ctx, api, "POST", "/api/v1/sessions", token, jreq,
		     &status, &created);
	json_decref(jreq);
	if (r != LL_OK)
		goto out;
	if (status != 201) {
		fprintf(stderr, "relay-load: create session: HTTP %d %s\n",
			status, json_err_code(created));
		r = LL_ERR_PROTOCOL;
		goto out;
	}
	pin = json_string_value(json_object_get(created, "pin"));
	agent_ticket = json_string_value(json_object_get(created, "ticket"));
	if (pin == NULL || agent_ticket == NULL) {
		r = LL_ERR_SCHEMA;
		goto out;
	}
	jreq = json_pack("{s:s}", "pin", pin);
	if (jreq && opt_org)
		json_object_set_new(jreq, "org", json_string(opt_org));
	r = api_call(ctx, api, "POST", "/api/v1/pins/redeem", NULL, jreq,
		     &status, &redeemed);
	json_decref(jreq);
	if (r != LL_OK)
		goto out;
	if (status != 200) {
		fprintf(stderr, "relay-load: redeem: HTTP %d %s\n", status,
			json_err_code(redeemed));
		r = LL_ERR_PROTOCOL;
		goto out;
	}
	applet_ticket = json_string_value(json_object_get(redeemed, "ticket"));
	path = json_string_value(json_object_get(redeemed, "stream_path"));
	if (applet_ticket == NULL) {
		r = LL_ERR_SCHEMA;
		goto out;
	}
	if (path == NULL || path[0] != '/')
		path = "/api/v1/stream";
	f->agent_ticket = g_strdup(agent_ticket);
	f->applet_ticket = g_strdup(applet_ticket);
	f->path = g_strdup(path);
out:
	json_decref(created);
	json_decref(redeemed);
	return r;
}

static void flow_forget_tickets(struct flow *f)
{
	if (f->agent_ticket)
		ll_wipe(f->agent_ticket, strlen(f->agent_ticket));
	if (f->applet_ticket)
		ll_wipe(f->applet_ticket, strlen(f->applet_ticket));
	g_free(f->agent_ticket);
	g_free(f->applet_ticket);
	g_free(f->path);
	f->agent_ticket = f->applet_ticket = f->path = NULL;
}

/* Opens both streams of a created session (agent writes, applet reads). */
static int relay_session_connect(struct ll_tls_ctx *ctx, struct flow *f)
{
	struct http_conn *a = g_new0(struct http_conn, 1);
	struct http_conn *b = g_new0(struct http_conn, 1);
	int r;

	/* Both requests go out before either answer is read: a relay may
	 * hold the 101 until the peer is there. */
	if ((r = stream_begin(ctx, f->path, f->agent_ticket, a)) != LL_OK ||
	    (r = stream_begin(ctx, f->path, f->applet_ticket, b)) != LL_OK ||
	    (r = stream_finish(a, NULL)) != LL_OK ||
	    (r = stream_finish(b, f)) != LL_OK)
		goto out;
	f->tx = a->c;
	f->rx = b->c;
	a->c = b->c = NULL;
out:
	flow_forget_tickets(f);
	http_conn_close(a);
	g_free(a);
	http_conn_close(b);
	g_free(b);
	return r;
}

/* ---- the TLS sink behind nginx ---- */
struct sink {
	int lfd;
	struct ll_tls_ctx *ctx;
	pthread_t thr;
	bool started;
	pthread_mutex_t mu;
	struct ll_tls_conn **conns;
	size_t n, cap;
};

static int sink_handshake(struct ll_tls_conn *c)
{
	int64_t deadline = now_ms() + SETUP_TIMEOUT_MS;
	int r;

	for (;;) {
		r = ll_tls_conn_handshake(c);
		if (!want(r))
			return r;
		if (atomic_load(&g_stop) || now_ms() >= deadline)
			return LL_ERR_TIMEOUT;
		tls_wait(c, r);
	}
}

static void *sink_main(void *arg)
{
	struct sink *s = arg;
	struct pollfd p = { .fd = s->lfd, .events = POLLIN };
	struct ll_tls_conn *c;
	int fd, r;

	while (!atomic_load(&g_stop)) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		sock_prepare(fd);
		c = ll_tls_conn_new_server(s->ctx, fd);
		if (c == NULL) {
			close(fd);
			continue;
		}
		if ((r = sink_handshake(c)) != LL_OK) {
			fprintf(stderr,
				"relay-load: sink handshake: %s (%s)\n",
				ll_strerror(r), ll_tls_conn_error(c));
			ll_tls_conn_free(c, true);
			continue;
		}
		pthread_mutex_lock(&s->mu);
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			struct ll_tls_conn **nc = realloc(s->conns,
							  cap * sizeof(*nc));

			if (nc == NULL) {
				pthread_mutex_unlock(&s->mu);
				ll_tls_conn_free(c, true);
				continue;
			}
			s->conns = nc;
			s->cap = cap;
		}
		s->conns[s->n++] = c;
		pthread_mutex_unlock(&s->mu);
	}
	return NULL;
}

static void sink_start(struct sink *s)
{
	struct ll_tls_server_opts so = { .cert_file = opt_cert,
					 .key_file = opt_key };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char err[256] = "";
	int one = 1, r = 0;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	s->ctx = ll_tls_server_ctx_new(&so, &r, err, sizeof(err));
	if (s->ctx == NULL)
		die("sink TLS: %s (%s)", ll_strerror(r), err);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		die("socket: %s", strerror(errno));
	(void)setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_port = htons((uint16_t)opt_sink_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(s->lfd, 4096) != 0)
		die("sink on 127.0.0.1:%d: %s", opt_sink_port,
		    strerror(errno));
	if (pthread_create(&s->thr, NULL, sink_main, s) != 0)
		die("pthread_create failed");
	s->started = true;
}

static size_t sink_count(struct sink *s)
{
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = s->n;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* Stops the accept thread; the connections stay (flows own them). */
static void sink_stop(struct sink *s)
{
	if (s->started)
		pthread_join(s->thr, NULL);
	s->started = false;
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
}

static void sink_free(struct sink *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		ll_tls_conn_free(s->conns[i], true);
	free(s->conns);
	s->conns = NULL;
	s->n = 0;
	ll_tls_ctx_free(s->ctx);
	pthread_mutex_destroy(&s->mu);
}

/* ---- data movers ---- */
static void *tx_main(void *arg)
{
	struct flow *f = arg;
	size_t n;
	int r;

	while (!atomic_load(&g_go) && !atomic_load(&g_stop))
		sleep_s(0.001);
	while (!atomic_load(&g_stop)) {
		n = 0;
		r = ll_tls_conn_write(f->tx, g_payload, sizeof(g_payload), &n);
		if (r == LL_OK || want(r)) {
			if (want(r))
				tls_wait(f->tx, r);
			continue;
		}
		if (!atomic_load(&g_stop))
			f->tx_err = r;
		break;
	}
	return NULL;
}

static void *rx_main(void *arg)
{
	struct flow *f = arg;
	uint8_t *buf = malloc(READ_SIZE);
	size_t n;
	int r;

	if (buf == NULL) {
		f->rx_err = LL_ERR_NOMEM;
		return NULL;
	}
	while (!atomic_load(&g_stop)) {
		n = 0;
		r = ll_tls_conn_read(f->rx, buf, READ_SIZE, &n);
		if (r == LL_OK && n > 0) {
			atomic_fetch_add_explicit(&f->rx_bytes, n,
						  memory_order_relaxed);
			continue;
		}
		if (want(r)) {
			tls_wait(f->rx, r);
			continue;
		}
		if (!atomic_load(&g_stop))
			f->rx_err = r == LL_OK ? LL_ERR_CLOSED : r;
		break;
	}
	free(buf);
	return NULL;
}

/* One byte each way proves every pair is joined before timing starts. */
static int ping_all(struct flow *flows, size_t n)
{
	int64_t deadline = now_ms() + 30000;
	uint8_t b = 0x5a;
	size_t i, got;
	int r;

	for (i = 0; i < n; i++)
		if ((r = tls_write_all(flows[i].tx, &b, 1, deadline)) != LL_OK)
			return r;
	for (i = 0; i < n; i++) {
		if (atomic_load(&flows[i].rx_bytes) > 0)
			continue; /* it came with the 101 */
		got = 0;
		r = tls_read_some(flows[i].rx, &b, 1, &got, deadline);
		if (r != LL_OK || got != 1) {
			fprintf(stderr,
				"relay-load: pair %zu did not join: "
				"%s\n",
				i, ll_strerror(r ? r : LL_ERR_CLOSED));
			return r ? r : LL_ERR_CLOSED;
		}
	}
	for (i = 0; i < n; i++)
		atomic_store(&flows[i].rx_bytes, 0);
	return LL_OK;
}

static pthread_t spawn(void *(*fn)(void *), void *arg, bool *ok)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	*ok = pthread_create(&t, &attr, fn, arg) == 0;
	pthread_attr_destroy(&attr);
	return t;
}

static void flows_close(struct flow *flows, size_t n, bool rx_owned)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ll_tls_conn_free(flows[i].tx, true);
		if (rx_owned)
			ll_tls_conn_free(flows[i].rx, true);
		flows[i].tx = flows[i].rx = NULL;
		flow_forget_tickets(&flows[i]);
	}
}

static void run_throughput(struct flow *flows, size_t n, const char *target)
{
	uint64_t *s0 = g_new0(uint64_t, n), *s1 = g_new0(uint64_t, n);
	uint64_t total = 0, per;
	double t0, t1, rate, mn = 0, mx = 0;
	size_t i, failed = 0;
	bool ok;

	atomic_store(&g_go, false);
	for (i = 0; i < n; i++) {
		flows[i].rx_thr = spawn(rx_main, &flows[i], &ok);
		flows[i].rx_started = ok;
		flows[i].tx_thr = spawn(tx_main, &flows[i], &ok);
		flows[i].tx_started = ok;
		if (!flows[i].rx_started || !flows[i].tx_started)
			die("cannot start threads for session %zu", i);
	}
	atomic_store(&g_go, true);
	sleep_s(opt_warmup);
	t0 = now_s();
	for (i = 0; i < n; i++)
		s0[i] = atomic_load(&flows[i].rx_bytes);
	sleep_s(opt_seconds);
	for (i = 0; i < n; i++)
		s1[i] = atomic_load(&flows[i].rx_bytes);
	t1 = now_s();
	atomic_store(&g_stop, true);
	/* Wake threads blocked in the kernel right away. */
	for (i = 0; i < n; i++) {
		(void)shutdown(ll_tls_conn_fd(flows[i].tx), SHUT_RDWR);
		(void)shutdown(ll_tls_conn_fd(flows[i].rx), SHUT_RDWR);
	}
	for (i = 0; i < n; i++) {
		pthread_join(flows[i].tx_thr, NULL);
		pthread_join(flows[i].rx_thr, NULL);
		if (flows[i].tx_err || flows[i].rx_err) {
			failed++;
			if (failed <= 3)
				fprintf(stderr,
					"relay-load: session %zu "
					"failed: tx %s, rx %s\n",
					i, ll_strerror(flows[i].tx_err),
					ll_strerror(flows[i].rx_err));
		}
		per = s1[i] - s0[i];
		total += per;
		rate = (double)per / (t1 - t0) / 1e6;
		if (i == 0 || rate < mn)
			mn = rate;
		if (i == 0 || rate > mx)
			mx = rate;
	}
	printf("throughput target=%s sessions=%zu bytes=%" PRIu64
	       " seconds=%.3f mb_s=%.1f min_session_mb_s=%.2f "
	       "max_session_mb_s=%.2f failed=%zu tls_in=%s tls_out=%s\n",
	       target, n, total, t1 - t0, (double)total / (t1 - t0) / 1e6, mn,
	       mx, failed, ll_tls_conn_version(flows[0].tx),
	       ll_tls_conn_version(flows[0].rx));
	fflush(stdout);
	g_free(s0);
	g_free(s1);
}

static long rss_kib(int pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* mid < 0: no intermediate point (nginx has no API state). */
static void report_memory(const char *target, size_t n, long before, long mid,
			  long after)
{
	printf("memory target=%s sessions=%zu rss_before_kib=%ld "
	       "rss_after_kib=%ld per_session_kib=%.1f",
	       target, n, before, after,
	       n ? (double)(after - before) / (double)n : 0.0);
	if (mid >= 0)
		printf(" rss_api_kib=%ld api_per_session_kib=%.1f "
		       "streams_per_session_kib=%.1f",
		       mid, n ? (double)(mid - before) / (double)n : 0.0,
		       n ? (double)(after - mid) / (double)n : 0.0);
	printf("\n");
	fflush(stdout);
}

/*
 * --hold: the caller (bench/relay-throughput) spreads one relay's idle
 * sessions over several of these processes, since no process here may
 * hold more descriptors than the hard limit, and measures the relay
 * itself.  Each step prints its name on stdout and waits for a line on
 * stdin (EOF at the last one) before going on; alarm() bounds the wait.
 */
static void hold_step(const char *name)
{
	char line[64];

	if (!opt_hold)
		return;
	printf("%s\n", name);
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL &&
	    strcmp(name, "ready") != 0)
		die("--hold: stdin closed before %s was answered", name);
}

static struct ll_tls_ctx *client_ctx(void);

/* ---- latency of a paired stream under a login flood ---- */

/*
 * An echo is ECHO_SIZE bytes: the magic, its phase and the time it was
 * due to leave (CLOCK_MONOTONIC, ns).  It is sent on schedule, every
 * --interval-ms, whether or not the earlier ones came back, and its
 * round trip counts from when it was due: a relay that stalls for a
 * second shows up as a second's worth of slow samples, not as one
 * (no coordinated omission).
 */
#define ECHO_SIZE 32
#define ECHO_MAGIC 0x4c4c454348304131ull
enum { PHASE_QUIET, PHASE_FLOOD, PHASE_COUNT };
static const char *const phase_names[PHASE_COUNT] = { "quiet", "flood" };

struct samples {
	double *ms;
	size_t n, cap;
};

static _Atomic int g_phase;
static struct samples g_samples[PHASE_COUNT];

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void samples_add(struct samples *s, double ms)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->ms = g_renew(double, s->ms, s->cap);
	}
	s->ms[s->n++] = ms;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples. */
static double percentile(const struct samples *s, double p)
{
	size_t k;

	if (s->n == 0)
		return -1;
	k = (size_t)(p / 100.0 * (double)s->n + 0.999999);
	return s->ms[k == 0 ? 0 : MIN(k, s->n) - 1];
}

/* The applet's side: sends back whatever comes. */
static void *echo_main(void *arg)
{
	struct flow *f = arg;
	uint8_t buf[4096];
	size_t n;
	int r;

	while (!atomic_load(&g_stop)) {
		n = 0;
		r = tls_read_some(f->rx, buf, sizeof(buf), &n,
				  now_ms() + 1000);
		if (r == LL_ERR_TIMEOUT)
			continue;
		if (r != LL_OK || n == 0 ||
		    tls_write_all(f->rx, buf, n, now_ms() + 60000) != LL_OK) {
			if (!atomic_load(&g_stop))
				f->rx_err = r != LL_OK ? r : LL_ERR_CLOSED;
			break;
		}
	}
	return NULL;
}

/* Takes the whole echoes out of buf[0..*len). */
static void echoes_take(uint8_t *buf, size_t *len)
{
	size_t off = 0;
	uint64_t magic;
	int64_t due, now = now_ns();
	int32_t phase;

	for (; *len - off >= ECHO_SIZE; off += ECHO_SIZE) {
		memcpy(&magic, buf + off, 8);
		memcpy(&due, buf + off + 8, 8);
		memcpy(&phase, buf + off + 16, 4);
		if (magic != ECHO_MAGIC || phase < 0 || phase >= PHASE_COUNT)
			die("echo stream garbled");
		samples_add(&g_samples[phase], (double)(now - due) / 1e6);
	}
	memmove(buf, buf + off, *len - off);
	*len -= off;
}

/* The agent's side: sends on schedule, reads what comes back between. */
static void *pinger_main(void *arg)
{
	struct flow *f = arg;
	int64_t interval = (int64_t)opt_interval_ms * 1000000;
	int64_t due = now_ns(), left;
	uint8_t msg[ECHO_SIZE], in[4096];
	size_t len = 0, n;
	struct pollfd p;
	int32_t phase;
	uint64_t magic = ECHO_MAGIC;
	int r;

	memset(msg, 0, sizeof(msg));
	while (!atomic_load(&g_stop)) {
		while (now_ns() >= due) {
			phase = atomic_load(&g_phase);
			memcpy(msg, &magic, 8);
			memcpy(msg + 8, &due, 8);
			memcpy(msg + 16, &phase, 4);
			if ((r = tls_write_all(f->tx, msg, sizeof(msg),
					       now_ms() + 60000)) != LL_OK) {
				f->tx_err = r;
				return NULL;
			}
			due += interval;
		}
		if (ll_tls_conn_pending(f->tx) == 0) {
			left = (due - now_ns()) / 1000000;
			p.fd = ll_tls_conn_fd(f->tx);
			p.events = POLLIN;
			if (poll(&p, 1, (int)MAX(left, 0)) <= 0)
				continue;
		}
		n = 0;
		r = ll_tls_conn_read(f->tx, in + len, sizeof(in) - len, &n);
		if (want(r))
			continue;
		if (r != LL_OK || n == 0) {
			if (!atomic_load(&g_stop))
				f->tx_err = r != LL_OK ? r : LL_ERR_CLOSED;
			return NULL;
		}
		len += n;
		echoes_take(in, &len);
	}
	return NULL;
}

/* A TLS connection to the relay from a given loopback address. */
static int dial_from(struct ll_tls_ctx *ctx, const char *src,
		     struct ll_tls_conn **out)
{
	struct sockaddr_in la = { .sin_family = AF_INET };
	struct sockaddr_in ra = { .sin_family = AF_INET };
	int64_t deadline = now_ms() + SETUP_TIMEOUT_MS;
	struct ll_tls_conn *c;
	int fd, r;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return LL_ERR_IO;
	ra.sin_port = htons((uint16_t)opt_port);
	if (inet_pton(AF_INET, src, &la.sin_addr) != 1 ||
	    inet_pton(AF_INET, opt_host, &ra.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&la, sizeof(la)) != 0 ||
	    connect(fd, (struct sockaddr *)&ra, sizeof(ra)) != 0) {
		close(fd);
		return LL_ERR_IO;
	}
	sock_prepare(fd);
	if ((c = ll_tls_conn_new_client(ctx, fd, opt_host)) == NULL) {
		close(fd);
		return LL_ERR_NOMEM;
	}
	while (want(r = ll_tls_conn_handshake(c)) && now_ms() < deadline)
		tls_wait(c, r);
	if (r != LL_OK) {
		ll_tls_conn_free(c, true);
		return r;
	}
	*out = c;
	return LL_OK;
}

/* One flood address: --depth wrong logins pipelined on one connection,
 * then their answers. */
struct flooder {
	struct ll_tls_ctx *ctx;
	int idx;
	int answered, unauthorized, rate_limited, err;
};

static void *flooder_main(void *arg)
{
	struct flooder *fl = arg;
	struct http_conn *h = g_new0(struct http_conn, 1);
	static const char body[] =
		"{\"username\":\"%s\",\"password\":\"wrong-password-0000\"}";
	char src[32], json[256];
	GString *req = g_string_new(NULL);
	json_t *ans;
	int i, status, retry, r;

	snprintf(src, sizeof(src), "127.0.1.%d", fl->idx + 1);
	snprintf(json, sizeof(json), body, opt_user);
	if ((r = dial_from(fl->ctx, src, &h->c)) != LL_OK)
		goto out;
	for (i = 0; i < opt_depth; i++)
		g_string_append_printf(req,
				       "POST /api/v1/login HTTP/1.1\r\n"
				       "Host: %s:%d\r\n"
				       "Content-Type: application/json\r\n"
				       "Content-Length: %zu\r\n\r\n%s",
				       opt_host, opt_port, strlen(json), json);
	if ((r = tls_write_all(h->c, req->str, req->len, now_ms() + 60000)) !=
	    LL_OK)
		goto out;
	for (i = 0; i < opt_depth; i++) {
		ans = NULL;
		r = http_read_answer(h, now_ms() + 120000, &status, &ans,
				     &retry);
		json_decref(ans);
		if (r != LL_OK)
			goto out;
		fl->answered++;
		fl->unauthorized += status == 401;
		fl->rate_limited += status == 429;
	}
out:
	fl->err = r;
	http_conn_close(h);
	g_free(h);
	g_string_free(req, TRUE);
	return NULL;
}

/* One flood: every address at once; returns how long it took (s). */
static double flood_once(struct ll_tls_ctx *ctx, int *answered, int *n401,
			 int *n429)
{
	struct flooder *fl = g_new0(struct flooder, (size_t)opt_addrs);
	pthread_t *thr = g_new0(pthread_t, (size_t)opt_addrs);
	double t = now_s();
	bool ok;
	int i;

	for (i = 0; i < opt_addrs; i++) {
		fl[i].ctx = ctx;
		fl[i].idx = i;
		thr[i] = spawn(flooder_main, &fl[i], &ok);
		if (!ok)
			die("cannot start flood thread %d", i);
	}
	for (i = 0; i < opt_addrs; i++) {
		pthread_join(thr[i], NULL);
		if (fl[i].err != LL_OK)
			die("flood address %d: %s", i + 1,
			    ll_strerror(fl[i].err));
		*answered += fl[i].answered;
		*n401 += fl[i].unauthorized;
		*n429 += fl[i].rate_limited;
	}
	t = now_s() - t;
	g_free(fl);
	g_free(thr);
	return t;
}

static void report_latency(const char *target, int answered, int n401,
			   int n429, double flood_s)
{
	struct samples *s;
	int ph;

	for (ph = 0; ph < PHASE_COUNT; ph++) {
		s = &g_samples[ph];
		qsort(s->ms, s->n, sizeof(double), cmp_double);
		printf("target=%s phase=%s samples=%zu p50_ms=%.2f "
		       "p95_ms=%.2f p99_ms=%.2f max_ms=%.2f",
		       target, phase_names[ph], s->n, percentile(s, 50),
		       percentile(s, 95), percentile(s, 99),
		       s->n ? s->ms[s->n - 1] : -1.0);
		if (ph == PHASE_FLOOD)
			printf(" logins=%d status_401=%d status_429=%d "
			       "flood_s=%.1f",
			       answered, n401, n429, flood_s);
		putchar('\n');
	}
	fflush(stdout);
}

/*
 * Latency mode: one paired session echoes a small message every
 * --interval-ms; each round is --seconds of quiet, then a flood of
 * --addrs source addresses (127.0.1.N) each pipelining --depth wrong
 * logins.  Prints the round trips' percentiles for both phases.
 */
static void mode_latency(void)
{
	struct ll_tls_ctx *ctx = client_ctx();
	struct http_conn *api = g_new0(struct http_conn, 1);
	struct flow f;
	pthread_t ping_thr, echo_thr;
	int answered = 0, n401 = 0, n429 = 0, round, r;
	double flood_s = 0;
	char *token;
	bool ok1, ok2;

	memset(&f, 0, sizeof(f));
	if (opt_user == NULL || opt_password_file == NULL)
		die("latency mode needs --user and --password-file");
	token = relay_login(ctx, api);
	if ((r = relay_session_create(ctx, api, token, &f)) != LL_OK ||
	    (r = relay_session_connect(ctx, &f)) != LL_OK ||
	    (r = ping_all(&f, 1)) != LL_OK)
		die("session: %s", ll_strerror(r));
	http_conn_close(api);
	atomic_store(&g_phase, PHASE_QUIET);
	echo_thr = spawn(echo_main, &f, &ok1);
	ping_thr = spawn(pinger_main, &f, &ok2);
	if (!ok1 || !ok2)
		die("cannot start the echo threads");
	for (round = 0; round < opt_rounds; round++) {
		atomic_store(&g_phase, PHASE_QUIET);
		sleep_s(opt_seconds);
		atomic_store(&g_phase, PHASE_FLOOD);
		flood_s += flood_once(ctx, &answered, &n401, &n429);
		fprintf(stderr,
			"relay-load: round %d/%d: %d logins answered\n",
			round + 1, opt_rounds, answered);
	}
	/* The last echoes come back. */
	atomic_store(&g_phase, PHASE_QUIET);
	sleep_s(0.5);
	atomic_store(&g_stop, true);
	pthread_join(ping_thr, NULL);
	pthread_join(echo_thr, NULL);
	if (f.tx_err != LL_OK || f.rx_err != LL_OK)
		die("the echo stream broke: %s / %s", ll_strerror(f.tx_err),
		    ll_strerror(f.rx_err));
	report_latency(opt_label ? opt_label : "relay", answered, n401, n429,
		       flood_s);
	flows_close(&f, 1, true);
	g_free(api);
	ll_wipe(token, strlen(token));
	free(token);
	ll_tls_ctx_free(ctx);
}

static struct ll_tls_ctx *client_ctx(void)
{
	struct ll_tls_client_opts co = { .ca_file = opt_ca,
					 .no_system_cas = true };
	char err[256] = "";
	struct ll_tls_ctx *ctx;
	int r = 0;

	ctx = ll_tls_client_ctx_new(&co, &r, err, sizeof(err));
	if (ctx == NULL)
		die("client TLS: %s (%s)", ll_strerror(r), err);
	return ctx;
}

static void mode_relay(void)
{
	struct ll_tls_ctx *ctx = client_ctx();
	struct http_conn *api = g_new0(struct http_conn, 1);
	size_t n = opt_idle > 0 ? (size_t)opt_idle : (size_t)opt_sessions;
	struct flow *flows = g_new0(struct flow, n);
	const char *target = opt_label ? opt_label : "relay";
	long before = -1, mid = -1, after;
	double t = now_s();
	char *token;
	size_t i;
	int r;

	if (opt_user == NULL || opt_password_file == NULL)
		die("relay mode needs --user and --password-file");
	token = relay_login(ctx, api);
	hold_step("logged-in"); /* the caller's RSS "before" */
	if (opt_idle > 0 && !opt_hold)
		before = rss_kib(opt_mem_pid);
	for (i = 0; i < n; i++)
		if ((r = relay_session_create(ctx, api, token, &flows[i])) !=
		    LL_OK)
			die("session %zu of %zu: %s", i + 1, n,
			    ll_strerror(r));
	if (opt_idle > 0 && !opt_hold) {
		sleep_s(0.5);
		mid = rss_kib(opt_mem_pid);
	}
	for (i = 0; i < n; i++)
		if ((r = relay_session_connect(ctx, &flows[i])) != LL_OK)
			die("streams of session %zu of %zu: %s", i + 1, n,
			    ll_strerror(r));
	if ((r = ping_all(flows, n)) != LL_OK)
		die("pairing check: %s", ll_strerror(r));
	fprintf(stderr, "relay-load: %zu paired sessions set up in %.1f s\n",
		n, now_s() - t);
	if (opt_hold) {
		hold_step("ready"); /* until the caller has measured */
	} else if (opt_idle > 0) {
		sleep_s(1.0); /* let the relay finish its bookkeeping */
		after = rss_kib(opt_mem_pid);
		report_memory(target, n, before, mid, after);
	} else {
		run_throughput(flows, n, target);
	}
	atomic_store(&g_stop, true);
	flows_close(flows, n, true);
	http_conn_close(api);
	g_free(api);
	ll_wipe(token, strlen(token));
	free(token);
	g_free(flows);
	ll_tls_ctx_free(ctx);
}

static void mode_nginx(void)
{
	struct ll_tls_ctx *ctx = client_ctx();
	size_t n = opt_idle > 0 ? (size_t)opt_idle : (size_t)opt_sessions;
	struct flow *flows = g_new0(struct flow, n);
	const char *target = opt_label ? opt_label : "nginx";
	int64_t deadline;
	long before = -1, after;
	double t = now_s();
	struct sink s;
	size_t i;
	int r;

	if (opt_cert == NULL || opt_key == NULL || opt_sink_port <= 0)
		die("nginx mode needs --cert, --key and --sink-port");
	sink_start(&s);
	if (opt_idle > 0)
		before = rss_kib(opt_mem_pid);
	for (i = 0; i < n; i++)
		if ((r = dial(ctx, (uint16_t)opt_port, &flows[i].tx)) != LL_OK)
			die("connection %zu of %zu through nginx failed",
			    i + 1, n);
	/* nginx dials the sink once its client handshake is done. */
	deadline = now_ms() + 30000;
	while (sink_count(&s) < n && now_ms() < deadline)
		sleep_s(0.01);
	if (sink_count(&s) < n)
		die("only %zu of %zu connections reached the sink",
		    sink_count(&s), n);
	atomic_store(&g_stop, true); /* ends the accept thread */
	sink_stop(&s);
	atomic_store(&g_stop, false);
	for (i = 0; i < n; i++)
		flows[i].rx = s.conns[i];
	if ((r = ping_all(flows, n)) != LL_OK)
		die("pairing check: %s", ll_strerror(r));
	fprintf(stderr,
		"relay-load: %zu proxied connections set up in "
		"%.1f s\n",
		n, now_s() - t);
	if (opt_idle > 0) {
		sleep_s(1.0);
		after = rss_kib(opt_mem_pid);
		report_memory(target, n, before, -1, after);
	} else {
		run_throughput(flows, n, target);
	}
	atomic_store(&g_stop, true);
	flows_close(flows, n, false); /* the sink owns the rx ends */
	sink_free(&s);
	g_free(flows);
	ll_tls_ctx_free(ctx);
}

static void mode_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		die("no free port: %s", strerror(errno));
	printf("%u\n", (unsigned)ntohs(sa.sin_port));
	close(fd);
}

/* Many sessions need many descriptors: take all the hard limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	GOptionContext *oc;
	GError *gerr = NULL;
	const char *mode;
	size_t i;

	oc = g_option_context_new("relay|latency|nginx|free-port");
	g_option_context_set_summary(oc, "Load generator of "
					 "bench/relay-throughput.");
	g_option_context_add_main_entries(oc, opt_entries, NULL);
	if (!g_option_context_parse(oc, &argc, &argv, &gerr))
		die("%s", gerr->message);
	g_option_context_free(oc);
	if (argc != 2)
		die("usage: relay-load relay|latency|nginx|free-port "
		    "[OPTION...]");
	mode = argv[1];
	if (strcmp(mode, "free-port") == 0) {
		mode_free_port();
		return 0;
	}
	if (opt_host == NULL)
		opt_host = g_strdup("127.0.0.1");
	if (opt_port <= 0 || opt_port > 65535 || opt_ca == NULL)
		die("need --port and --ca");
	if (opt_sessions < 1 || opt_sessions > MAX_FLOWS || opt_idle < 0 ||
	    opt_idle > MAX_FLOWS || opt_seconds <= 0 || opt_seconds > 600 ||
	    opt_warmup < 0 || opt_warmup > 60)
		die("--sessions/--idle 1..%d, --seconds 0..600, --warmup "
		    "0..60",
		    MAX_FLOWS);
	if (opt_idle > 0 && opt_mem_pid <= 0 && !opt_hold)
		die("--idle needs --mem-pid (or --hold)");
	if (opt_hold && (opt_idle <= 0 || strcmp(mode, "relay") != 0))
		die("--hold needs --idle, in relay mode");
	if (opt_addrs < 1 || opt_addrs > 250 || opt_depth < 1 ||
	    opt_depth > 1000 || opt_rounds < 1 || opt_rounds > 100 ||
	    opt_interval_ms < 1 || opt_interval_ms > 1000)
		die("--addrs 1..250, --depth 1..1000, --rounds 1..100, "
		    "--interval-ms 1..1000");
	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned)opt_max_seconds); /* the last bound on everything */
	raise_nofile();
	for (i = 0; i < sizeof(g_payload); i++)
		g_payload[i] = (uint8_t)(i * 2654435761u >> 13);
	if (strcmp(mode, "relay") == 0)
		mode_relay();
	else if (strcmp(mode, "latency") == 0)
		mode_latency();
	else if (strcmp(mode, "nginx") == 0)
		mode_nginx();
	else
		die("unknown mode %s", mode);
	return 0;
}
