/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One client connection of the relay: TLS handshake, HTTP/1.1 requests
 * (parsed by ll_http on libhttp-parser), limits and timeouts, routing,
 * writing answers, and the switch to a raw stream after a 101.
 *
 * States (enum ll_conn_state) and the timer that guards each:
 *   HANDSHAKE  handshake_timeout_ms from accept
 *   HTTP       head_timeout_ms: first request from accept, later ones
 *              from their first byte; idle_timeout_ms between requests
 *   WAITING/PAIRED  no timer (pair.c forwards)
 *   CLOSING    output still draining; idle_timeout_ms at most
 *   LINGER     output sent and write side shut; input discarded until
 *              the peer closes or LL_CONN_LINGER_MS, so that a client still
 *              sending (an oversized body) reads our answer instead of a
 *              reset
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>

#include "ll_text.h"
#include "ll_util.h"
#include "ll_tls.h"
#include "ll_relay.h"
#include "core.h"

#define LL_CONN_LINGER_MS 2000

/* On every answer, 101 included, with a Content-Security-Policy: the
 * answer's own (struct ll_api_response csp) or LL_CSP_DEFAULT. */
static const char security_headers[] =
	"Strict-Transport-Security: max-age=63072000; includeSubDomains\r\n"
	"X-Content-Type-Options: nosniff\r\n"
	"X-Frame-Options: DENY\r\n"
	"Referrer-Policy: no-referrer\r\n"
	"Cache-Control: no-store\r\n";

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void conn_http_process(struct ll_conn *c);

const char *ll_conn_state_name(enum ll_conn_state s)
{
	switch (s) {
	case LL_CONN_HANDSHAKE:
		return "handshake";
	case LL_CONN_HTTP:
		return "http";
	case LL_CONN_WAITING:
		return "waiting";
	case LL_CONN_PAIRED:
		return "paired";
	case LL_CONN_CLOSING:
		return "closing";
	case LL_CONN_LINGER:
		return "linger";
	case LL_CONN_DEAD:
		return "dead";
	}
	return "?";
}

void ll_conn_ref(struct ll_conn *c)
{
	c->refs++;
}

void ll_conn_unref(struct ll_conn *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	/* Only closed connections lose their last reference. */
	free(c);
}

/* Arms the connection's one timer; ms <= 0 disables it. */
static void conn_arm(struct ll_conn *c, int64_t ms)
{
	struct timeval tv;

	if (c->timer == NULL)
		return;
	if (ms <= 0) {
		evtimer_del(c->timer);
		return;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	evtimer_add(c->timer, &tv);
}

/* Same, but a deadline already past fires at once instead of never. */
static void conn_arm_deadline(struct ll_conn *c, int64_t total_ms,
			      int64_t since_ms)
{
	int64_t left;

	if (total_ms <= 0) {
		conn_arm(c, 0);
		return;
	}
	left = total_ms - (ll_now_mono_ms() - since_ms);
	conn_arm(c, left > 0 ? left : 1);
}

void ll_conn_set_read_paused(struct ll_conn *c, bool paused)
{
	if (c->bev == NULL || c->read_paused == paused)
		return;
	c->read_paused = paused;
	if (paused)
		bufferevent_disable(c->bev, EV_READ);
	else
		bufferevent_enable(c->bev, EV_READ);
}

size_t ll_stream_tls_drain(struct bufferevent *bev)
{
	struct ssl_st *ssl = bufferevent_openssl_get_ssl(bev);
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_iovec v;
	size_t n, total = 0;

	/* Bounded: a peer that keeps the socket full cannot hold us here
	 * beyond what one read pass of libevent's would take. */
	while (total < LL_CORE_IO_CHUNK && ll_tls_ssl_has_pending(ssl)) {
		if (evbuffer_reserve_space(in, 16384, &v, 1) < 1)
			break;
		n = ll_tls_ssl_take_pending(ssl, v.iov_base, v.iov_len);
		v.iov_len = n;
		evbuffer_commit_space(in, &v, 1);
		if (n == 0)
			break;
		total += n;
	}
	return total;
}

struct ll_conn *ll_conn_new(struct ll_core *core, int fd, const char *peer)
{
	struct ll_relay *relay = core->relay;
	struct ll_conn *c;
	struct ssl_st *ssl;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		evutil_closesocket(fd);
		return NULL;
	}
	c->core = core;
	c->refs = 1; /* the list's */
	c->state = LL_CONN_HANDSHAKE;
	c->accept_ms = ll_now_mono_ms();
	g_strlcpy(c->peer, peer, sizeof(c->peer));

	if ((c->timer = evtimer_new(core->base, conn_timer_cb, c)) == NULL ||
	    (ssl = ll_tls_ctx_new_ssl(relay->tls)) == NULL) {
		if (c->timer != NULL)
			event_free(c->timer);
		free(c);
		evutil_closesocket(fd);
		return NULL;
	}
	/*
	 * Deferred callbacks: a callback never runs inside another one's
	 * bufferevent call, so forwarding cannot recurse into a close.  On
	 * failure libevent may already own ssl and fd (it frees them with
	 * the half-built bufferevent), so they are not touched here: a leak
	 * on out-of-memory is better than a double free.
	 */
	c->bev = bufferevent_openssl_socket_new(
		core->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
		BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (c->bev == NULL) {
		event_free(c->timer);
		free(c);
		return NULL;
	}
	/* A TCP close without close_notify is an end, not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
			  c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);

	c->next = core->conns;
	if (core->conns != NULL)
		core->conns->prev = c;
	core->conns = c;
	relay->metrics.connections_open++;
	conn_arm(c, relay->cfg.handshake_timeout_ms);
	return c;
}

void ll_conn_close(struct ll_conn *c, const char *reason)
{
	struct ll_core *core = c->core;

	if (c->state == LL_CONN_DEAD)
		return;
	ll_conn_ref(c);
	if (c->pair != NULL && c->stream_lost)
		ll_pair_lost(c->pair, c, reason != NULL ? reason : "lost");
	else if (c->pair != NULL)
		ll_pair_end(c->pair, c, reason != NULL ? reason : "closed");
	c->state = LL_CONN_DEAD;
	if (c->timer != NULL)
		LL_FREE_AND_NULL(event_free, c->timer);
	LL_FREE_AND_NULL(ll_http_req_parser_free, c->parser);
	/* Safe inside this bufferevent's own callback: libevent defers the
	 * final free (and SSL_free, close(fd)) until it is unused. */
	if (c->bev != NULL)
		LL_FREE_AND_NULL(bufferevent_free, c->bev);
	ll_core_unauth_release(core, c);

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		core->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	core->relay->metrics.connections_open--;

	c->refs--; /* the list's; ours keeps c alive until: */
	ll_conn_unref(c);
}

/* Output is out: shut our write side and wait briefly for the peer's end. */
static void conn_linger(struct ll_conn *c)
{
	int fd = (int)bufferevent_getfd(c->bev);

	c->state = LL_CONN_LINGER;
	/* Output is flushed: a clean TLS end first, then the TCP one. */
	if (bufferevent_openssl_get_ssl(c->bev) != NULL)
		ll_tls_ssl_close_notify(bufferevent_openssl_get_ssl(c->bev));
	if (fd < 0 || shutdown(fd, SHUT_WR) != 0) {
		ll_conn_close(c, NULL);
		return;
	}
	ll_conn_set_read_paused(c, false);
	bufferevent_enable(c->bev, EV_READ);
	conn_arm(c, LL_CONN_LINGER_MS);
}

void ll_conn_close_after_flush(struct ll_conn *c)
{
	struct ll_relay *relay = c->core->relay;

	if (c->state == LL_CONN_DEAD || c->state == LL_CONN_CLOSING ||
	    c->state == LL_CONN_LINGER)
		return;
	if (c->bev == NULL || c->state == LL_CONN_HANDSHAKE) {
		ll_conn_close(c, NULL);
		return;
	}
	LL_FREE_AND_NULL(ll_http_req_parser_free, c->parser);
	/* Whatever is still unread is dropped: the exchange is over. */
	evbuffer_drain(bufferevent_get_input(c->bev),
		       evbuffer_get_length(bufferevent_get_input(c->bev)));
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_linger(c);
		return;
	}
	c->state = LL_CONN_CLOSING;
	/* Keep reading (and dropping) so TLS can progress and a client
	 * that is still sending does not block the flush. */
	ll_conn_set_read_paused(c, false);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	conn_arm(c, relay->cfg.idle_timeout_ms > 0 ? relay->cfg.idle_timeout_ms
						   : 60000);
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */

/* A copy of untrusted text safe for one log line: the display rule
 * (ll_text.h), since logs are read on terminals. */
static void log_safe(char *out, size_t outlen, const char *in)
{
	if (in == NULL)
		in = "-";
	ll_text_printable(out, outlen, in, strlen(in));
}

static void http_date(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		g_strlcpy(buf, "Thu, 01 Jan 1970 00:00:00 GMT", len);
}

/*
 * Serialises resp (then clears it), counts and logs a refusal, and either
 * keeps the connection for the next request or closes it after the
 * answer.  req may be NULL (the request could not be parsed); why is an
 * extra note for the log line.
 */
static void conn_respond(struct ll_conn *c, const struct ll_http_request *req,
			 struct ll_api_response *resp, bool close_after,
			 const char *why)
{
	struct ll_relay *relay = c->core->relay;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	const char *body = NULL, *ctype = NULL;
	char *json = NULL;
	size_t blen = 0;
	bool head_only = req != NULL && req->method != NULL &&
			 strcmp(req->method, "HEAD") == 0;
	char date[64];
	int status;

	if (resp->body != NULL) {
		json = json_dumps(resp->body, JSON_COMPACT);
		if (json == NULL) {
			ll_api_response_clear(resp);
			ll_api_error(resp, LL_API_INTERNAL, "out of memory");
			json = json_dumps(resp->body, JSON_COMPACT);
		}
		body = json;
		ctype = resp->content_type ? resp->content_type
					   : "application/json";
	} else if (resp->raw_body != NULL) {
		body = resp->raw_body;
		ctype = resp->content_type ? resp->content_type
					   : "text/plain; charset=utf-8";
	}
	if (body != NULL)
		blen = body == resp->raw_body && resp->raw_len > 0
			       ? resp->raw_len
			       : strlen(body);
	status = resp->status;
	if (status < 100 || status > 599)
		status = resp->code != LL_API_OK
				 ? ll_api_code_status(resp->code)
				 : 500;

	if (resp->code != LL_API_OK) {
		char method[16], path[128];

		ll_relay_count_refusal(relay, resp->code);
		log_safe(method, sizeof(method), req ? req->method : NULL);
		log_safe(path, sizeof(path), req ? req->path : NULL);
		/* Path only: a query string might carry something secret.
		 * Refusals the API already logged with their reason get
		 * no second line. */
		if (!resp->logged && req != NULL)
			ll_info("peer %s: %s %s: %d %s%s%s", c->peer, method,
				path, status, ll_api_code_name(resp->code),
				why ? ": " : "", why ? why : "");
		else if (!resp->logged)
			ll_info("peer %s: %d %s%s%s", c->peer, status,
				ll_api_code_name(resp->code), why ? ": " : "",
				why ? why : "");
	}

	http_date(date, sizeof(date));
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status,
			    ll_http_reason(status), date);
	evbuffer_add(out, security_headers, sizeof(security_headers) - 1);
	evbuffer_add_printf(out, "Content-Security-Policy: %s\r\n",
			    resp->csp ? resp->csp : LL_CSP_DEFAULT);
	if (body != NULL && status != 204 && status != 304)
		evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
	if (status != 204 && status != 304)
		evbuffer_add_printf(out, "Content-Length: %zu\r\n", blen);
	if (resp->extra_headers != NULL)
		evbuffer_add(out, resp->extra_headers,
			     strlen(resp->extra_headers));
	if (close_after)
		evbuffer_add(out, "Connection: close\r\n", 19);
	evbuffer_add(out, "\r\n", 2);
	if (body != NULL && !head_only && status != 204 && status != 304)
		evbuffer_add(out, body, blen);

	free(json);
	ll_api_response_clear(resp);

	if (close_after) {
		ll_conn_close_after_flush(c);
		return;
	}
	/* Between requests: the idle timer until the next one starts. */
	c->req_started = false;
	conn_arm(c, relay->cfg.idle_timeout_ms);
}

/* An error object answer from the core itself. */
static void conn_refuse(struct ll_conn *c, const struct ll_http_request *req,
			enum ll_api_code code, const char *message,
			bool close_after, const char *why)
{
	struct ll_api_response resp;

	memset(&resp, 0, sizeof(resp));
	ll_api_error(&resp, code, message);
	if (resp.code == LL_API_OK)
		resp.code = code;
	conn_respond(c, req, &resp, close_after, why);
}

static void conn_text(struct ll_conn *c, const struct ll_http_request *req,
		      char *text, const char *ctype, bool close_after)
{
	struct ll_api_response resp;

	if (text == NULL) {
		conn_refuse(c, req, LL_API_INTERNAL, "out of memory", true,
			    NULL);
		return;
	}
	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	resp.content_type = ctype;
	resp.raw_body = text;
	conn_respond(c, req, &resp, close_after, NULL);
}

/* ------------------------------------------------------------------ */
/* Answers the API gives later (LL_API_PENDING)                        */

/*
 * The API keeps req until it answers: nothing more of this connection is
 * parsed meanwhile (so pipelined answers keep their order), no head or
 * idle timer runs (the pool's queue bounds the wait), and reading goes on
 * only to notice a close, up to LL_CORE_HTTP_IN_MAX held bytes.
 */
static void conn_pending(struct ll_conn *c, const struct ll_http_request *req)
{
	c->pending = (struct ll_http_request *)req;
	ll_conn_ref(c); /* the API's, until ll_relay_api_answer */
	conn_arm(c, 0);
}

void ll_relay_api_answer(struct ll_relay *relay,
			 const struct ll_api_request *areq,
			 struct ll_api_response *resp)
{
	struct ll_conn *c = areq->conn;
	struct ll_http_request *req = c->pending;

	c->pending = NULL;
	if (c->state != LL_CONN_HTTP || c->bev == NULL) {
		/* Closed meanwhile (by the peer, or shutdown): the API has
		 * recorded the outcome; the answer has nobody to go to. */
		if (resp->code != LL_API_OK)
			ll_relay_count_refusal(relay, resp->code);
		ll_debug("peer %s: answer dropped: the connection is closed",
			 c->peer);
		ll_api_response_clear(resp);
	} else {
		conn_respond(c, req, resp, !req->keep_alive, NULL);
		/* The requests that came in meanwhile, in order. */
		ll_conn_set_read_paused(c, false);
		conn_http_process(c);
	}
	ll_http_request_free(req);
	ll_conn_unref(c);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */

static void conn_stream_request(struct ll_conn *c,
				const struct ll_http_request *req,
				const struct ll_api_request *areq)
{
	struct ll_core *core = c->core;
	struct ll_relay *relay = core->relay;
	char id[LL_SESSION_ID_LEN + 1];
	enum ll_side side = LL_SIDE_AGENT;
	struct ll_api_response refusal;
	struct evbuffer *out;
	const char *upg;
	int r;

	/* After any refusal here the bytes behind the head may be stream
	 * bytes, not a request: never keep such a connection. */
	if (strcmp(req->method, "GET") != 0) {
		conn_refuse(c, req, LL_API_METHOD_NOT_ALLOWED,
			    "the stream is opened with GET", true, NULL);
		return;
	}
	upg = ll_http_request_header(req, "Upgrade");
	if (!req->upgrade || upg == NULL) {
		conn_refuse(c, req, LL_API_BAD_REQUEST,
			    "the stream needs Connection: Upgrade and "
			    "Upgrade: lifeline/1",
			    true, NULL);
		return;
	}
	if (g_ascii_strcasecmp(upg, "lifeline/1") != 0) {
		conn_refuse(c, req, LL_API_UNSUPPORTED_VERSION,
			    "this relay speaks lifeline/1", true, NULL);
		return;
	}
	if (relay->cfg.max_sessions > 0 &&
	    relay->metrics.sessions_live >=
		    (uint64_t)relay->cfg.max_sessions) {
		memset(&refusal, 0, sizeof(refusal));
		ll_api_error(&refusal, LL_API_RATE_LIMITED,
			     "the relay carries as many sessions as it may");
		refusal.code = LL_API_RATE_LIMITED;
		if (refusal.extra_headers == NULL)
			refusal.extra_headers = strdup("Retry-After: 10\r\n");
		conn_respond(c, req, &refusal, true, "max_sessions reached");
		return;
	}

	memset(&refusal, 0, sizeof(refusal));
	memset(id, 0, sizeof(id));
	r = relay->api->stream_authorize(relay, areq, id, &side, &refusal);
	if (c->state != LL_CONN_HTTP)
		goto drop; /* closed under us (shutdown) */
	if (r < 0) {
		if (refusal.code == LL_API_OK) {
			ll_api_response_clear(&refusal);
			ll_api_error(&refusal, LL_API_INTERNAL,
				     "the stream could not be opened");
			refusal.code = LL_API_INTERNAL;
		}
		conn_respond(c, req, &refusal, true, NULL);
		return;
	}
	ll_api_response_clear(&refusal);
	id[LL_SESSION_ID_LEN] = '\0';
	if ((side != LL_SIDE_AGENT && side != LL_SIDE_APPLET) ||
	    ll_pair_side_taken(core, id, side)) {
		conn_refuse(c, req, LL_API_CONFLICT,
			    "that side of the session already has a stream",
			    true, NULL);
		return;
	}

	out = bufferevent_get_output(c->bev);
	evbuffer_add_printf(out,
			    "HTTP/1.1 101 Switching Protocols\r\n"
			    "Connection: Upgrade\r\n"
			    "Upgrade: lifeline/1\r\n"
			    "%sContent-Security-Policy: %s\r\n\r\n",
			    security_headers, LL_CSP_DEFAULT);

	/* From here on the connection carries raw bytes: no parser, no
	 * timer, no slot among the unauthenticated. */
	LL_FREE_AND_NULL(ll_http_req_parser_free, c->parser);
	conn_arm(c, 0);
	c->req_started = false;
	ll_core_unauth_release(core, c);
	/*
	 * Up to four TLS records per write event.  Reads stay at libevent's
	 * 16 KiB: bufferevent_openssl reserves that much per SSL_read, which
	 * yields one record at most, and the chain then travels to the peer
	 * with its slack; a bigger reservation would multiply the memory a
	 * full stream buffer really holds.
	 */
	bufferevent_set_max_single_write(c->bev, LL_CORE_IO_CHUNK);
	/* The socket, though, is read LL_CORE_READ_AHEAD at a time: a few
	 * records per read call (ll_stream_tls_drain takes the rest). */
	ll_tls_ssl_read_ahead(bufferevent_openssl_get_ssl(c->bev),
			      LL_CORE_READ_AHEAD);
	if ((r = ll_pair_attach(core, c, id, side)) != 0) {
		ll_warn("peer %s: stream of session %s not attached: %s",
			c->peer, id, ll_strerror(r));
		relay->api->stream_ended(relay, id, "internal_error", 0, 0);
		ll_conn_close(c, NULL);
	}
	return;
drop:
	ll_api_response_clear(&refusal);
}

bool ll_core_api_path(const char *path)
{
	return strncmp(path, "/api/v1/", 8) == 0 || strcmp(path, "/") == 0 ||
	       strncmp(path, "/o/", 3) == 0;
}

static void conn_handle_request(struct ll_conn *c,
				const struct ll_http_request *req)
{
	struct ll_relay *relay = c->core->relay;
	struct ll_api_request areq = { .http = req, .source_ip = c->peer };
	struct ll_api_response resp;
	bool close_after = !req->keep_alive;
	const char *path = req->path ? req->path : "";
	bool get = strcmp(req->method, "GET") == 0 ||
		   strcmp(req->method, "HEAD") == 0;

	relay->metrics.requests_total++;
	memset(&resp, 0, sizeof(resp));

	if (strcmp(path, "/api/v1/stream") == 0) {
		conn_stream_request(c, req, &areq);
		return;
	}
	if (req->upgrade) {
		/* Only the stream upgrades; anything else asking to switch
		 * protocols is refused and its connection not reused. */
		conn_refuse(c, req, LL_API_BAD_REQUEST,
			    "only /api/v1/stream can be upgraded", true, NULL);
		return;
	}
	if (strcmp(path, "/metrics") == 0 &&
	    !ll_core_metrics_allowed(&c->core->metrics_access, c->peer, req)) {
		/* 403 rather than 404: the endpoint is documented anyway,
		 * and an operator's scraper should say what is wrong. */
		conn_refuse(c, req, LL_API_FORBIDDEN,
			    "metrics are served to allowed addresses or with "
			    "the metrics token",
			    close_after, NULL);
		return;
	}
	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0) {
		if (!get) {
			ll_api_error(&resp, LL_API_METHOD_NOT_ALLOWED,
				     "only GET is allowed here");
			resp.code = LL_API_METHOD_NOT_ALLOWED;
			if (resp.extra_headers == NULL)
				resp.extra_headers = strdup(
					"Allow: GET, HEAD\r\n");
			conn_respond(c, req, &resp, close_after, NULL);
		} else if (path[1] == 'h') {
			conn_text(c, req, strdup("ok"),
				  "text/plain; charset=utf-8", close_after);
		} else {
			conn_text(c, req, ll_core_metrics_text(relay),
				  "text/plain; version=0.0.4; charset=utf-8",
				  close_after);
		}
		return;
	}
	if (ll_core_api_path(path)) {
		c->areq = areq;
		c->areq.conn = c;
		if (relay->api->dispatch(relay, &c->areq, &resp) ==
		    LL_API_PENDING) {
			conn_pending(c, req);
			return;
		}
		if (c->state != LL_CONN_HTTP) {
			/* The relay is stopping and closed us meanwhile. */
			ll_api_response_clear(&resp);
			return;
		}
		conn_respond(c, req, &resp, close_after, NULL);
		return;
	}
	conn_refuse(c, req, LL_API_NOT_FOUND, "no such resource", close_after,
		    NULL);
}

/* The parser gave up: answer its status with the error object, close. */
static void conn_http_fail(struct ll_conn *c)
{
	int status = ll_http_req_parser_status(c->parser);
	enum ll_api_code code;
	char why[160];

	switch (status) {
	case 413:
		code = LL_API_PAYLOAD_TOO_LARGE;
		break;
	case 414:
		code = LL_API_URI_TOO_LONG;
		break;
	case 431:
		code = LL_API_HEADERS_TOO_LARGE;
		break;
	case 500:
		code = LL_API_INTERNAL;
		break;
	default:
		code = LL_API_BAD_REQUEST;
		break;
	}
	/* The parser's sentences are its own words, never request bytes
	 * beyond what log_safe() makes printable. */
	log_safe(why, sizeof(why), ll_http_req_parser_error(c->parser));
	conn_refuse(c, NULL, code, why, true, why);
}

static void conn_http_process(struct ll_conn *c)
{
	struct ll_relay *relay = c->core->relay;
	struct evbuffer *in, *out;
	struct evbuffer_iovec v;
	struct ll_http_request *req;
	bool complete;
	size_t len;
	int r;

	while (c->state == LL_CONN_HTTP && c->bev != NULL) {
		in = bufferevent_get_input(c->bev);
		out = bufferevent_get_output(c->bev);
		if (c->pending != NULL) {
			/* The API still works on the last one (see
			 * conn_pending); ll_relay_api_answer resumes. */
			if (evbuffer_get_length(in) > LL_CORE_HTTP_IN_MAX)
				ll_conn_set_read_paused(c, true);
			break;
		}
		if (evbuffer_get_length(in) == 0)
			break;
		if (evbuffer_get_length(out) > LL_CORE_HTTP_OUT_MAX) {
			/* A client pipelining faster than it reads: wait
			 * until it has taken our answers (conn_write_cb). */
			ll_conn_set_read_paused(c, true);
			break;
		}
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
			break;
		len = v.iov_len < (size_t)INT_MAX ? v.iov_len
						  : (size_t)INT_MAX;
		r = ll_http_req_parser_feed(c->parser, v.iov_base, len,
					    &complete);
		if (r < 0) {
			conn_http_fail(c);
			break;
		}
		evbuffer_drain(in, (size_t)r);
		if (!c->req_started && ll_http_req_parser_started(c->parser)) {
			c->req_started = true;
			conn_arm(c, relay->cfg.head_timeout_ms);
		}
		if (!complete) {
			if ((size_t)r < len) {
				/* Not an error, yet not taken: never spin. */
				conn_refuse(c, NULL, LL_API_INTERNAL,
					    "request parser stalled", true,
					    NULL);
				break;
			}
			continue;
		}
		if ((req = ll_http_req_parser_take(c->parser)) == NULL) {
			conn_refuse(c, NULL, LL_API_INTERNAL,
				    "request parser failed", true, NULL);
			break;
		}
		conn_handle_request(c, req);
		/* A request the API answers later is kept until then. */
		if (c->pending != req)
			ll_http_request_free(req);
		/* After an upgrade the rest of the input is the stream's. */
	}
}

/* ------------------------------------------------------------------ */
/* Callbacks                                                           */

static void conn_handshake_done(struct ll_conn *c)
{
	struct ll_relay *relay = c->core->relay;

	c->state = LL_CONN_HTTP;
	if ((c->parser = ll_http_req_parser_new(&c->core->limits)) == NULL) {
		ll_warn("peer %s: out of memory", c->peer);
		ll_conn_close(c, NULL);
		return;
	}
	ll_core_unauth_touch(c->core, c);
	/* The first request's head is due head_timeout_ms after accept. */
	c->req_started = true;
	conn_arm_deadline(c, relay->cfg.head_timeout_ms, c->accept_ms);
	conn_http_process(c);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct ll_conn *c = arg;
	struct evbuffer *in;

	ll_conn_ref(c);
	switch ((enum ll_conn_state)c->state) {
	case LL_CONN_HTTP:
		/* The client is busy: not the one to evict. */
		ll_core_unauth_touch(c->core, c);
		conn_http_process(c);
		break;
	case LL_CONN_WAITING:
	case LL_CONN_PAIRED:
		ll_pair_on_read(c);
		break;
	case LL_CONN_CLOSING:
	case LL_CONN_LINGER:
		in = bufferevent_get_input(bev);
		evbuffer_drain(in, evbuffer_get_length(in));
		break;
	case LL_CONN_HANDSHAKE:
	case LL_CONN_DEAD:
		break;
	}
	ll_conn_unref(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct ll_conn *c = arg;

	ll_conn_ref(c);
	switch ((enum ll_conn_state)c->state) {
	case LL_CONN_HTTP:
		if (c->read_paused && c->pending == NULL &&
		    evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
			ll_conn_set_read_paused(c, false);
			conn_http_process(c);
		}
		break;
	case LL_CONN_WAITING:
	case LL_CONN_PAIRED:
		ll_pair_on_write(c);
		break;
	case LL_CONN_CLOSING:
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_linger(c);
		break;
	case LL_CONN_HANDSHAKE:
	case LL_CONN_LINGER:
	case LL_CONN_DEAD:
		break;
	}
	ll_conn_unref(c);
}

/*
 * OpenSSL 3 reports a TCP close without close_notify as an error that
 * libevent 2.1's allow_dirty_shutdown predates.  For a blind relay that is
 * an end, not a failure (truncation is the business of the two ends).
 */

/* A sentence for what went wrong; never anything the peer sent.  Returns
 * true when it was really the peer's (dirty) end of the stream. */
static bool conn_error_text(struct ll_conn *c, short what, char *buf,
			    size_t len)
{
	int serr = EVUTIL_SOCKET_ERROR();
	unsigned long e, first = 0;

	while ((e = bufferevent_get_openssl_error(c->bev)) != 0)
		if (first == 0)
			first = e;
	if (ll_tls_err_is_unexpected_eof(first)) {
		snprintf(buf, len, "closed by peer (no close_notify)");
		return true;
	}
	if (first != 0)
		snprintf(buf, len, "TLS error (openssl errstr %lX)", first);
	else if (what & BEV_EVENT_EOF)
		snprintf(buf, len, "closed by peer");
	else if (serr != 0)
		snprintf(buf, len, "%s", evutil_socket_error_to_string(serr));
	else
		snprintf(buf, len, "connection error");
	return (what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR);
}

/*
 * Deliberate or lost?  An end that leaves on purpose sends the control
 * "end" and then closes TLS with close_notify (session_io.c, END_SHUTDOWN);
 * a crash, a reset, a cut cable or a proxy giving up does not.  The
 * relay never parses the stream, so the close_notify is what it goes by
 * (docs/ARCHITECTURE.md, flow 6).
 */
static bool stream_ended_cleanly(struct ll_conn *c)
{
	return c->bev != NULL && ll_tls_ssl_got_close_notify(
					 bufferevent_openssl_get_ssl(c->bev));
}

static const char *stream_end_reason(const struct ll_conn *c, bool eof)
{
	if (c->side == LL_SIDE_AGENT)
		return eof ? "agent_closed" : "agent_error";
	return eof ? "applet_closed" : "applet_error";
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ll_conn *c = arg;
	char why[128];
	bool eof;

	ll_conn_ref(c);
	if (what & BEV_EVENT_CONNECTED) {
		if (c->state == LL_CONN_HANDSHAKE)
			conn_handshake_done(c);
		goto out;
	}
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		goto out;
	eof = conn_error_text(c, what, why, sizeof(why));
	switch ((enum ll_conn_state)c->state) {
	case LL_CONN_HANDSHAKE:
		if (eof)
			ll_info("peer %s: closed during the TLS handshake",
				c->peer);
		else
			ll_info("peer %s: TLS handshake failed: %s", c->peer,
				why);
		ll_conn_close(c, NULL);
		break;
	case LL_CONN_HTTP:
		if (c->parser != NULL && ll_http_req_parser_started(c->parser))
			ll_info("peer %s: connection ended mid-request: %s",
				c->peer, why);
		else if (!eof)
			ll_info("peer %s: %s", c->peer, why);
		ll_conn_close(c, NULL);
		break;
	case LL_CONN_WAITING:
	case LL_CONN_PAIRED:
		if (!eof)
			ll_info("peer %s: stream error: %s", c->peer, why);
		c->stream_lost = !stream_ended_cleanly(c);
		ll_conn_close(c, stream_end_reason(c, eof));
		break;
	case LL_CONN_CLOSING:
	case LL_CONN_LINGER:
		ll_conn_close(c, NULL);
		break;
	case LL_CONN_DEAD:
		break;
	}
out:
	(void)bev;
	ll_conn_unref(c);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ll_conn *c = arg;
	struct ll_relay *relay = c->core->relay;

	(void)fd;
	(void)what;
	ll_conn_ref(c);
	switch ((enum ll_conn_state)c->state) {
	case LL_CONN_HANDSHAKE:
		ll_info("peer %s: TLS handshake timed out", c->peer);
		ll_relay_count_refusal(relay, LL_API_TIMEOUT);
		ll_conn_close(c, NULL);
		break;
	case LL_CONN_HTTP:
		if (ll_http_req_parser_started(c->parser)) {
			conn_refuse(c, NULL, LL_API_TIMEOUT,
				    "the request did not arrive in time", true,
				    "request head timed out");
		} else if (c->req_started) {
			/* Connected, never sent a byte. */
			ll_info("peer %s: no request in time", c->peer);
			ll_relay_count_refusal(relay, LL_API_TIMEOUT);
			ll_conn_close(c, NULL);
		} else {
			ll_debug("peer %s: idle keep-alive closed", c->peer);
			ll_conn_close(c, NULL);
		}
		break;
	case LL_CONN_CLOSING:
		ll_info("peer %s: answer not taken in time, closing", c->peer);
		ll_conn_close(c, NULL);
		break;
	case LL_CONN_LINGER:
		ll_conn_close(c, NULL);
		break;
	case LL_CONN_WAITING:
	case LL_CONN_PAIRED:
	case LL_CONN_DEAD:
		break;
	}
	ll_conn_unref(c);
}
