/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Forwarding loops (relay.conf `workers`; docs/ARCHITECTURE.md, "Loops
 * and threads").  With workers = N > 1, N threads each run an event
 * loop of their own, and a session whose two streams have paired on the
 * main loop is handed, both streams together, to the least busy of them:
 * forwarding between the two stays on one loop, without locks.  With
 * workers = 1 the one "worker" is the main loop itself (no thread; the
 * same messages, the same code).  The main loop keeps everything else:
 * accepting, TLS handshakes, HTTP and the API, the store, the session
 * table with waiting and grace (pair.c), and the decisions about a
 * session's life.  pair.c forwards itself only when a handover cannot
 * get memory.
 *
 * Forwarding is not done with bufferevent_openssl (bench/PROFILE.md) but
 * with a TLS pipe of our own per stream (ll_tls_pipe.h) on two plain
 * events: a read callback decrypts what came, encrypts it into the other
 * side's output and writes that output at once, several records in one
 * write(2); EPOLLOUT is asked for only when the socket is full.
 *
 * The handover.  Once both streams' outputs are flushed (the 101 is out,
 * so no TLS record is half-written), the main loop makes a pipe for each
 * stream (its own reference on the SSL; the SSL's write BIO becomes the
 * pipe's, which reports no descriptor), moves what the stream had read
 * and what OpenSSL had already decrypted into `early`, and frees the
 * bufferevent: libevent's deferred free then drops only its reference on
 * the SSL and leaves the socket open.  The worker takes pipes and
 * sockets and owns them from then on: it frees each pipe (and with the
 * last reference the SSL) and closes each socket when the stream closes,
 * and says so once both are gone (DONE); the main loop then frees the
 * session record.  So every SSL is used by one thread at a time.
 *
 * Messages go through a mutex-guarded list and an eventfd per receiving
 * loop: to a worker HANDOVER, CLOSE (DELETE, a withdrawn permission,
 * grace, a replacing stream: with or without flushing) and STOP; to the
 * main loop ENDED (a stream ended or broke: pair.c ends the session or
 * starts its grace, and the API records it) and DONE.  A message about a
 * session the receiver has already finished with is ignored, so that
 * either side may act first.  A worker never touches the store, the
 * configuration or the API.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "ll_tls.h"
#include "ll_tls_pipe.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "core.h"

#define LL_WORKERS_MAX 256
#define LL_WS_LINGER_MS 2000
/* Most plaintext one callback moves before the loop serves others. */
#define LL_WS_PASS_MAX (256 * 1024)
/* A pass that moves less than this (a full TLS record) is no bulk
 * transfer: its pipes give their buffers back at once (ws_pump). */
#define LL_WS_BULK 16384
/* How often a worker looks for sessions that went idle (worker_sweep). */
#define LL_WS_SWEEP_MS 1000

enum ws_state {
	WS_OPEN = 0, /* forwarding */
	WS_CLOSING,  /* flushing the last bytes */
	WS_LINGER,   /* flushed, write side shut, draining input */
	WS_DEAD,
};

struct ll_wsess;

/* One stream of a handed-over session, on the worker: a TLS pipe
 * (ll_tls_pipe.h) on two plain events. */
struct ws_stream {
	struct ll_wsess *ws;
	struct ll_tls_pipe *pipe; /* owns a reference on the SSL */
	struct event *rd;         /* EV_READ, persistent; off while paused */
	struct event *wr;         /* EV_WRITE, added only when the socket
				   * is full (write_armed) */
	struct event *timer;      /* CLOSING and LINGER; made then */
	int fd;                   /* owned: closed with the stream */
	uint8_t side;             /* enum ll_side */
	uint8_t state;            /* enum ws_state */
	bool read_paused;         /* back-pressure: the other side's
				   * output holds limit bytes or more */
	bool write_armed;
};

/* A paired session on a worker, shared by the main loop and the worker
 * that forwards it: main owns it; the worker uses it from HANDOVER until
 * it sends DONE. */
struct ll_wsess {
	struct ll_worker *w;
	uint64_t serial; /* unique: a late CLOSE finds no other session */
	char id[LL_SESSION_ID_LEN + 1];
	/* Set by the main loop before HANDOVER, taken by the worker. */
	struct ll_tls_pipe *pipe[2];
	int fd[2];
	struct evbuffer *early[2]; /* read on main, not yet forwarded */
	char peer[2][INET6_ADDRSTRLEN];
	size_t limit;     /* stream_buffer_bytes */
	int64_t close_ms; /* idle_timeout_ms: the most a flush may take */
	/* Both sides: bytes read from side i and forwarded. */
	_Atomic uint64_t bytes[2];
	/* The worker's own. */
	struct ws_stream st[2];
	struct ll_wsess *prev, *next; /* w->sessions */
	uint64_t swept; /* bytes[0] + bytes[1] at the last sweep */
	/* A pump moved a bulk amount (LL_WS_BULK) since the last sweep:
	 * the small pumps between (the other way's acknowledgements) leave
	 * both sides' buffers alone, which that transfer needs again at
	 * once. */
	bool bulk;
	bool ended;
};

enum wmsg_kind {
	WMSG_HANDOVER, /* to a worker */
	WMSG_CLOSE,    /* to a worker: flush ? after flushing : now */
	WMSG_STOP,     /* to a worker */
	WMSG_ENDED,    /* to main: lost ? broke : ended, by side */
	WMSG_DONE,     /* to main: the worker has let go of ws */
};

struct wmsg {
	struct wmsg *next;
	enum wmsg_kind kind;
	struct ll_wsess *ws;
	uint64_t serial;    /* CLOSE: ws's */
	bool flag;          /* CLOSE: flush; ENDED: lost */
	const char *reason; /* ENDED: a static string */
};

/* What one loop receives. */
struct wqueue {
	pthread_mutex_t mu;
	struct wmsg *head, *tail; /* under mu */
	int efd;
	struct event *ev;
};

struct ll_worker {
	struct ll_workers *all;
	unsigned index;
	pthread_t thread;
	bool started; /* a thread of its own */
	bool on_main; /* workers = 1: the main loop's base, no thread */
	struct event_base *base;
	struct wqueue in;
	/* the worker's own */
	struct ll_wsess *sessions;
	struct ll_wsess *done; /* let go of, DONE not yet posted */
	struct event *done_ev; /* posts them, next loop pass */
	struct event *sweep;   /* worker_sweep, every LL_WS_SWEEP_MS */
	uint8_t buf[16384];    /* one record's plaintext, in passing */
	bool stopping;
	/* main's own: sessions handed here and not yet DONE */
	size_t n_sessions;
	/* read by main for /metrics, written by the worker; a line each */
	_Alignas(64) _Atomic uint64_t bytes;
	_Atomic uint64_t streams;
};

struct ll_workers {
	struct ll_core *core;
	uint64_t next_serial;
	struct wqueue in; /* the main loop's */
	unsigned n;
	struct ll_worker *w;
};

/* ---- queues ---- */

static void wq_wake(struct wqueue *q)
{
	uint64_t one = 1;
	ssize_t n;

	do
		n = write(q->efd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
	/* EAGAIN: the counter is saturated, the loop is woken anyway. */
}

static void wq_post(struct wqueue *q, enum wmsg_kind kind, struct ll_wsess *ws,
		    bool flag, const char *reason)
{
	struct wmsg *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		/* Nothing sane is left to do: a lost message would leak a
		 * session's sockets or hang the stop. */
		ll_error("workers: out of memory");
		abort();
	}
	m->kind = kind;
	m->ws = ws;
	m->serial = ws != NULL ? ws->serial : 0;
	m->flag = flag;
	m->reason = reason;
	pthread_mutex_lock(&q->mu);
	if (q->tail != NULL)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	pthread_mutex_unlock(&q->mu);
	wq_wake(q);
}

static struct wmsg *wq_take_all(struct wqueue *q)
{
	struct wmsg *m;
	uint64_t n;

	if (read(q->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		ll_debug("workers: eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&q->mu);
	m = q->head;
	q->head = q->tail = NULL;
	pthread_mutex_unlock(&q->mu);
	return m;
}

static int wq_init(struct wqueue *q, struct event_base *base,
		   event_callback_fn cb, void *arg)
{
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0)
		return LL_ERR_IO;
	pthread_mutex_init(&q->mu, NULL);
	q->ev = event_new(base, q->efd, EV_READ | EV_PERSIST, cb, arg);
	if (q->ev == NULL || event_add(q->ev, NULL) != 0)
		return LL_ERR_NOMEM;
	return LL_OK;
}

static void wq_clear(struct wqueue *q)
{
	struct wmsg *m;

	if (q->ev != NULL)
		LL_FREE_AND_NULL(event_free, q->ev);
	while ((m = q->head) != NULL) {
		q->head = m->next;
		free(m);
	}
	if (q->efd >= 0)
		close(q->efd);
	q->efd = -1;
	pthread_mutex_destroy(&q->mu);
}

/* ---- the worker side: forwarding ---- */

static void ws_rd_cb(evutil_socket_t fd, short what, void *arg);
static void ws_wr_cb(evutil_socket_t fd, short what, void *arg);
static void ws_timer_cb(evutil_socket_t fd, short what, void *arg);
static void ws_stream_ended(struct ws_stream *st, int r);

/* Made when first needed: a forwarding stream has no timer, and an idle
 * session should cost no more than it must. */
static void ws_arm(struct ws_stream *st, int64_t ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000),
			      .tv_usec = (suseconds_t)((ms % 1000) * 1000) };

	if (st->timer == NULL)
		st->timer = evtimer_new(st->ws->w->base, ws_timer_cb, st);
	/* Without memory no deadline: the peer's end still closes it. */
	if (st->timer != NULL)
		evtimer_add(st->timer, &tv);
}

static void ws_set_read_paused(struct ws_stream *st, bool paused)
{
	if (st->rd == NULL || st->read_paused == paused)
		return;
	st->read_paused = paused;
	if (paused)
		event_del(st->rd);
	else
		event_add(st->rd, NULL);
}

/*
 * Writes st's output now if the socket takes it, else waits for the
 * socket with EPOLLOUT (armed only then: a forwarded record costs no
 * epoll_ctl while the socket keeps up).  False when st broke (its end is
 * handled; st and maybe the session are closed).
 */
static bool ws_flush(struct ws_stream *st)
{
	int r;

	if (st->write_armed)
		return true;
	r = ll_tls_pipe_flush(st->pipe);
	if (r == LL_ERR_WANT_WRITE) {
		st->write_armed = event_add(st->wr, NULL) == 0;
		return true;
	}
	if (r != LL_OK) {
		ws_stream_ended(st, LL_ERR_IO);
		return false;
	}
	return true;
}

/*
 * Moves what side s has read to the other side (pair.c, pair_forward,
 * does the same on the main loop): decrypts record by record into the
 * worker's buffer and encrypts into the other pipe's output, then writes
 * that output in one go.  Bounded per call, so that one busy session
 * cannot hold the loop; back-pressure stops reading side s while the
 * other side's output holds ws->limit bytes or more.
 */
/* Counts n more bytes forwarded from side s. */
static void ws_count(struct ll_wsess *ws, int s, size_t n)
{
	atomic_fetch_add_explicit(&ws->bytes[s], n, memory_order_relaxed);
	atomic_fetch_add_explicit(&ws->w->bytes, n, memory_order_relaxed);
}

static void ws_pump(struct ll_wsess *ws, int s)
{
	struct ws_stream *src = &ws->st[s], *dst = &ws->st[!s];
	struct ll_worker *w = ws->w;
	size_t n, total = 0, counted = 0;
	int r = LL_ERR_WANT_READ;

	if (src->state != WS_OPEN || dst->state != WS_OPEN)
		return;
	for (;;) {
		if (ll_tls_pipe_out_len(dst->pipe) >= ws->limit) {
			/* Only output the socket will not take stops
			 * reading: a pause must wait for an armed EPOLLOUT
			 * (ws_wr_cb ends it), never for a socket that has
			 * already taken everything. */
			ws_count(ws, s, total - counted);
			counted = total;
			if (!ws_flush(dst))
				return;
			if (ll_tls_pipe_out_len(dst->pipe) >= ws->limit) {
				ws_set_read_paused(src, true);
				break;
			}
		}
		if (total >= LL_WS_PASS_MAX) {
			/* More next loop pass, after the other sessions. */
			event_active(src->rd, EV_READ, 0);
			break;
		}
		r = ll_tls_pipe_read(src->pipe, w->buf, sizeof(w->buf), &n);
		if (r != LL_OK)
			break;
		if (ll_tls_pipe_write(dst->pipe, w->buf, n) != LL_OK) {
			ws_stream_ended(dst, LL_ERR_NOMEM);
			return;
		}
		total += n;
		/* Read on only while OpenSSL holds bytes that no socket
		 * event will announce: the socket itself says when it has
		 * more (one epoll_wait for many streams, instead of one
		 * read failing with EAGAIN per stream). */
		if (!ll_tls_pipe_has_pending(src->pipe))
			break;
	}
	if (total > counted) {
		ws_count(ws, s, total - counted);
		if (!ws_flush(dst))
			return;
	}
	if (r != LL_OK && r != LL_ERR_WANT_READ) {
		ws_stream_ended(src, r);
		return;
	}
	/* Less than a full record and nothing more, and no bulk transfer
	 * either way, whose buffers would be needed again at once: give
	 * them back now (worker_sweep catches a bulk transfer that
	 * stopped).  Freeing them between a file's records cost a malloc,
	 * fresh pages and an madvise (a TLB flush on every core) each
	 * time. */
	if (total >= LL_WS_BULK) {
		ws->bulk = true;
	} else if (!ws->bulk) {
		ll_tls_pipe_trim(src->pipe);
		if (!dst->write_armed)
			ll_tls_pipe_trim(dst->pipe);
	}
}

static void ws_unlink(struct ll_worker *w, struct ll_wsess *ws)
{
	if (ws->prev != NULL)
		ws->prev->next = ws->next;
	else
		w->sessions = ws->next;
	if (ws->next != NULL)
		ws->next->prev = ws->prev;
	ws->prev = ws->next = NULL;
}

/*
 * Lets go of one stream at once: its events, its pipe (the worker's
 * reference on the SSL) and its socket.  Once both streams of ws are
 * gone, DONE is posted from the next loop pass (worker_done_cb), so
 * that ws stays valid until the callback that closed it returns.
 */
static void ws_stream_close(struct ws_stream *st)
{
	struct ll_wsess *ws = st->ws;
	struct ll_worker *w = ws->w;

	if (st->state == WS_DEAD)
		return;
	st->state = WS_DEAD;
	if (st->timer != NULL)
		LL_FREE_AND_NULL(event_free, st->timer);
	if (st->wr != NULL)
		LL_FREE_AND_NULL(event_free, st->wr);
	if (st->rd != NULL) {
		LL_FREE_AND_NULL(event_free, st->rd);
		atomic_fetch_sub_explicit(&w->streams, 1,
					  memory_order_relaxed);
	}
	if (st->pipe != NULL) {
		LL_FREE_AND_NULL(ll_tls_pipe_free, st->pipe);
		close(st->fd);
		st->fd = -1;
	}
	if (ws->st[0].state == WS_DEAD && ws->st[1].state == WS_DEAD) {
		ws_unlink(w, ws);
		ws->next = w->done;
		w->done = ws;
		event_active(w->done_ev, EV_READ, 0);
	}
}

/* Output is out (our close_notify last): shut our write side, and wait
 * briefly for the peer's end (conn.c, conn_linger, does the same). */
static void ws_linger(struct ws_stream *st)
{
	st->state = WS_LINGER;
	if (shutdown(st->fd, SHUT_WR) != 0) {
		ws_stream_close(st);
		return;
	}
	ws_set_read_paused(st, false);
	ws_arm(st, LL_WS_LINGER_MS);
}

/* Sends what st still has, then a clean TLS end, then lingers; what the
 * peer sends meanwhile is read and dropped. */
static void ws_close_after_flush(struct ws_stream *st)
{
	int r;

	if (st->state != WS_OPEN || st->pipe == NULL)
		return;
	st->state = WS_CLOSING;
	ws_set_read_paused(st, false);
	ll_tls_pipe_close_notify(st->pipe);
	ws_arm(st, st->ws->close_ms > 0 ? st->ws->close_ms : 60000);
	if (st->write_armed)
		return;
	if ((r = ll_tls_pipe_flush(st->pipe)) == LL_OK)
		ws_linger(st);
	else if (r == LL_ERR_WANT_WRITE)
		st->write_armed = event_add(st->wr, NULL) == 0;
	else
		ws_stream_close(st);
}

/* The session's forwarding ends here (CLOSE, or a stream's end). */
static void ws_end(struct ll_wsess *ws, bool flush)
{
	int s;

	ws->ended = true;
	for (s = 0; s < 2; s++) {
		if (flush)
			ws_close_after_flush(&ws->st[s]);
		else
			ws_stream_close(&ws->st[s]);
	}
}

/* CLOSING and LINGER: read and drop, until the peer's end. */
static void ws_discard(struct ws_stream *st)
{
	size_t n, total = 0;
	int r;

	while (total < LL_WS_PASS_MAX) {
		r = ll_tls_pipe_read(st->pipe, st->ws->w->buf,
				     sizeof(st->ws->w->buf), &n);
		if (r == LL_ERR_WANT_READ)
			return;
		if (r != LL_OK) {
			ws_stream_close(st);
			return;
		}
		total += n;
	}
	event_active(st->rd, EV_READ, 0);
}

static void ws_rd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ws_stream *st = arg;

	(void)fd;
	(void)what;
	if (st->state == WS_OPEN && st->ws->st[!st->side].state == WS_OPEN)
		ws_pump(st->ws, st->side);
	else if (st->state != WS_DEAD)
		ws_discard(st);
}

/* The socket takes bytes again: the rest of the output, then reading
 * the other side again once the output is down to half the limit. */
static void ws_wr_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ws_stream *st = arg;
	struct ll_wsess *ws = st->ws;
	struct ws_stream *src = &ws->st[!st->side];
	int r;

	(void)fd;
	(void)what;
	st->write_armed = false;
	if (st->state == WS_DEAD)
		return;
	r = ll_tls_pipe_flush(st->pipe);
	if (r == LL_ERR_WANT_WRITE) {
		st->write_armed = event_add(st->wr, NULL) == 0;
	} else if (r != LL_OK) {
		ws_stream_ended(st, LL_ERR_IO);
		return;
	}
	if (st->state == WS_CLOSING) {
		if (r == LL_OK)
			ws_linger(st);
		return;
	}
	if (st->state != WS_OPEN || src->state != WS_OPEN ||
	    !src->read_paused || ll_tls_pipe_out_len(st->pipe) > ws->limit / 2)
		return;
	ws_set_read_paused(src, false);
	/* What OpenSSL read ahead before the pause has no event to come. */
	ws_pump(ws, !st->side);
}

static const char *ws_end_reason(int side, bool eof)
{
	if (side == LL_SIDE_AGENT)
		return eof ? "agent_closed" : "agent_error";
	return eof ? "applet_closed" : "applet_error";
}

/*
 * A stream ended: r is LL_ERR_CLOSED for the peer's end (a TCP close,
 * with or without close_notify), another error else.  As on the main
 * loop (conn.c, pair.c): an end with close_notify ends the session, the
 * leaver's last bytes (already forwarded by ws_pump) still going out to
 * the one who stays; one without is a loss, both streams close at once
 * and the main loop starts the grace.
 */
static void ws_stream_ended(struct ws_stream *st, int r)
{
	struct ll_wsess *ws = st->ws;
	int s = st->side;
	bool eof = r == LL_ERR_CLOSED, lost;

	if (st->state != WS_OPEN || ws->ended) {
		ws_stream_close(st);
		return;
	}
	lost = !ll_tls_pipe_got_close_notify(st->pipe);
	if (!eof)
		ll_info("peer %s: stream error", ws->peer[s]);
	/* ENDED goes before the DONE that the closes below may post (one
	 * queue, in order: main frees ws at DONE). */
	wq_post(&ws->w->all->in, WMSG_ENDED, ws, lost, ws_end_reason(s, eof));
	if (lost) {
		ws_end(ws, false);
	} else {
		ws->ended = true;
		ws_stream_close(st);
		ws_close_after_flush(&ws->st[!s]);
	}
}

static void ws_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ws_stream *st = arg;

	(void)fd;
	(void)what;
	if (st->state == WS_CLOSING)
		ll_info("peer %s: answer not taken in time, closing",
			st->ws->peer[st->side]);
	ws_stream_close(st);
}

static int ws_stream_open(struct ll_worker *w, struct ll_wsess *ws, int s)
{
	struct ws_stream *st = &ws->st[s];

	st->rd = event_new(w->base, st->fd, EV_READ | EV_PERSIST, ws_rd_cb,
			   st);
	if (st->rd == NULL)
		return LL_ERR_NOMEM;
	atomic_fetch_add_explicit(&w->streams, 1, memory_order_relaxed);
	if ((st->wr = event_new(w->base, st->fd, EV_WRITE, ws_wr_cb, st)) ==
		    NULL ||
	    event_add(st->rd, NULL) != 0)
		return LL_ERR_NOMEM;
	return LL_OK;
}

/* The bytes side s sent before the handover, into the other side's
 * pipe. */
static int ws_forward_early(struct ll_wsess *ws, int s)
{
	struct evbuffer *in = ws->early[s];
	size_t n = evbuffer_get_length(in);
	uint8_t *p;

	if (n == 0)
		return LL_OK;
	if ((p = evbuffer_pullup(in, -1)) == NULL ||
	    ll_tls_pipe_write(ws->st[!s].pipe, p, n) != LL_OK)
		return LL_ERR_NOMEM;
	atomic_fetch_add_explicit(&ws->bytes[s], n, memory_order_relaxed);
	atomic_fetch_add_explicit(&ws->w->bytes, n, memory_order_relaxed);
	return LL_OK;
}

static void worker_handover(struct ll_worker *w, struct ll_wsess *ws)
{
	int s, r = LL_OK;

	ws->next = w->sessions;
	if (w->sessions != NULL)
		w->sessions->prev = ws;
	w->sessions = ws;
	/* The streams own pipe and socket from here: ws_stream_close
	 * frees them, whatever fails below. */
	for (s = 0; s < 2; s++) {
		ws->st[s].ws = ws;
		ws->st[s].side = (uint8_t)s;
		ws->st[s].state = WS_OPEN;
		ws->st[s].fd = ws->fd[s];
		ws->st[s].pipe = ws->pipe[s];
		ws->pipe[s] = NULL;
	}
	for (s = 0; s < 2 && r == LL_OK; s++)
		r = ws_stream_open(w, ws, s);
	for (s = 0; s < 2 && r == LL_OK; s++)
		r = ws_forward_early(ws, s);
	for (s = 0; s < 2; s++)
		LL_FREE_AND_NULL(evbuffer_free, ws->early[s]);
	if (r != LL_OK || w->stopping) {
		if (r != LL_OK)
			ll_warn("session %s: worker %u: out of memory", ws->id,
				w->index);
		/* ENDED before the DONE that ws_end posts. */
		wq_post(&w->all->in, WMSG_ENDED, ws, true, "internal_error");
		ws_end(ws, false);
		return;
	}
	for (s = 0; s < 2; s++)
		if (ws->st[s].state == WS_OPEN &&
		    ll_tls_pipe_out_len(ws->st[s].pipe) > 0)
			ws_flush(&ws->st[s]);
	/* What each side sent after that, OpenSSL may already hold. */
	ws_pump(ws, LL_SIDE_AGENT);
	ws_pump(ws, LL_SIDE_APPLET);
	/* Most sessions sit idle: no record buffers while they do. */
	for (s = 0; s < 2; s++)
		if (ws->st[s].state == WS_OPEN && !ws->st[s].write_armed)
			ll_tls_pipe_trim(ws->st[s].pipe);
}

/*
 * The session a CLOSE is about, if the worker still has it.  The main
 * loop may send CLOSE while this worker's DONE for that session is on
 * its way, and free ws when DONE arrives: so m->ws is only compared,
 * never followed, until it is found among the worker's own sessions
 * (alive until it posts DONE), and the serial tells it from a later
 * session at the same address.
 */
static struct ll_wsess *worker_find(struct ll_worker *w, const struct wmsg *m)
{
	struct ll_wsess *ws;

	for (ws = w->sessions; ws != NULL; ws = ws->next)
		if (ws == m->ws && ws->serial == m->serial)
			return ws;
	return NULL;
}

static void worker_stop_now(struct ll_worker *w)
{
	w->stopping = true;
	while (w->sessions != NULL)
		ws_end(w->sessions, false);
	/* With its events gone the loop ends once libevent has run what
	 * is still queued (worker_done_cb). */
	event_del(w->in.ev);
	event_del(w->sweep);
}

static void worker_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ll_worker *w = arg;
	struct ll_wsess *ws;

	(void)fd;
	(void)what;
	while ((ws = w->done) != NULL) {
		w->done = ws->next;
		ws->next = NULL;
		wq_post(&w->all->in, WMSG_DONE, ws, false, NULL);
	}
}

/*
 * Idle sessions hold no buffers: a session that forwarded nothing since
 * the last sweep gives back its pipes' output buffers and OpenSSL's
 * record buffers (a busy one keeps them: no malloc and free per read).
 */
static void worker_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct ll_worker *w = arg;
	struct ll_wsess *ws;
	uint64_t b;
	int s;

	(void)fd;
	(void)what;
	for (ws = w->sessions; ws != NULL; ws = ws->next) {
		b = atomic_load_explicit(&ws->bytes[0], memory_order_relaxed) +
		    atomic_load_explicit(&ws->bytes[1], memory_order_relaxed);
		ws->bulk = false;
		if (b != ws->swept) {
			ws->swept = b;
			continue;
		}
		for (s = 0; s < 2; s++)
			if (ws->st[s].state == WS_OPEN &&
			    !ws->st[s].write_armed)
				ll_tls_pipe_trim(ws->st[s].pipe);
	}
}

static void worker_in_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ll_worker *w = arg;
	struct ll_wsess *ws;
	struct wmsg *m, *next;

	(void)fd;
	(void)what;
	for (m = wq_take_all(&w->in); m != NULL; m = next) {
		next = m->next;
		switch (m->kind) {
		case WMSG_HANDOVER:
			worker_handover(w, m->ws);
			break;
		case WMSG_CLOSE:
			if ((ws = worker_find(w, m)) != NULL && !ws->ended)
				ws_end(ws, m->flag);
			break;
		case WMSG_STOP:
			worker_stop_now(w);
			break;
		case WMSG_ENDED:
		case WMSG_DONE:
			break;
		}
		free(m);
	}
}

static void *worker_main(void *arg)
{
	struct ll_worker *w = arg;

	if (event_base_dispatch(w->base) < 0)
		ll_error("worker %u: event loop failed", w->index);
	return NULL;
}

/* ---- the main loop's side ---- */

static void wsess_free(struct ll_wsess *ws)
{
	int s;

	for (s = 0; s < 2; s++) {
		/* Only if no worker took them (a HANDOVER never read). */
		if (ws->pipe[s] != NULL) {
			ll_tls_pipe_free(ws->pipe[s]);
			close(ws->fd[s]);
		}
		if (ws->early[s] != NULL)
			evbuffer_free(ws->early[s]);
	}
	free(ws);
}

static void main_in_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ll_workers *all = arg;
	struct wmsg *m, *next;

	(void)fd;
	(void)what;
	for (m = wq_take_all(&all->in); m != NULL; m = next) {
		next = m->next;
		if (m->kind == WMSG_ENDED && !all->core->stopping)
			ll_pair_worker_ended(all->core, m->ws, m->flag,
					     m->reason);
		if (m->kind == WMSG_DONE) {
			m->ws->w->n_sessions--;
			/* Stopping, every pair has ended already. */
			if (!all->core->stopping)
				ll_pair_worker_done(all->core, m->ws);
			wsess_free(m->ws);
		}
		free(m);
	}
}

unsigned ll_workers_count(const struct ll_relay_config *cfg)
{
	long n = cfg->workers;

	if (n <= 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > LL_WORKERS_MAX ? LL_WORKERS_MAX : (unsigned)n;
}

int ll_workers_start(struct ll_core *core, unsigned n)
{
	struct ll_workers *all;
	struct timeval sweep_tv = { LL_WS_SWEEP_MS / 1000,
				    (LL_WS_SWEEP_MS % 1000) * 1000 };
	sigset_t all_sigs, old;
	unsigned i;
	int r = LL_OK;

	core->workers = NULL;
	if (n < 1)
		n = 1;
	if ((all = calloc(1, sizeof(*all))) == NULL ||
	    (all->w = calloc(n, sizeof(*all->w))) == NULL) {
		free(all);
		return LL_ERR_NOMEM;
	}
	all->core = core;
	all->n = n;
	all->in.efd = -1;
	core->workers = all;
	if ((r = wq_init(&all->in, core->base, main_in_cb, all)) != LL_OK)
		return r;
	/* Signals are the main loop's: the threads start with them all
	 * blocked. */
	sigfillset(&all_sigs);
	pthread_sigmask(SIG_SETMASK, &all_sigs, &old);
	for (i = 0; i < n && r == LL_OK; i++) {
		struct ll_worker *w = &all->w[i];

		w->all = all;
		w->index = i;
		w->in.efd = -1;
		/* One loop: the main loop forwards, through the same code
		 * (the same TLS pipes), without a thread. */
		w->on_main = n == 1;
		w->base = w->on_main ? core->base : ll_core_base_new();
		if (w->base == NULL) {
			r = LL_ERR_NOMEM;
			break;
		}
		if ((r = wq_init(&w->in, w->base, worker_in_cb, w)) != LL_OK)
			break;
		if ((w->done_ev = event_new(w->base, -1, 0, worker_done_cb,
					    w)) == NULL ||
		    (w->sweep = event_new(w->base, -1, EV_PERSIST,
					  worker_sweep, w)) == NULL ||
		    event_add(w->sweep, &sweep_tv) != 0) {
			r = LL_ERR_NOMEM;
			break;
		}
		if (w->on_main)
			continue;
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			r = LL_ERR_IO;
			break;
		}
		w->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r == LL_OK && n == 1)
		ll_info("forwarding on the main loop");
	else if (r == LL_OK)
		ll_info("forwarding on %u worker loops", n);
	return r;
}

bool ll_workers_active(const struct ll_core *core)
{
	return core->workers != NULL;
}

void ll_workers_stop(struct ll_core *core)
{
	struct ll_workers *all = core->workers;
	unsigned i;

	if (all == NULL)
		return;
	for (i = 0; i < all->n; i++)
		if (all->w[i].started || all->w[i].on_main)
			wq_post(&all->w[i].in, WMSG_STOP, NULL, false, NULL);
	/* DONE after this is taken by ll_workers_free. */
	if (all->in.ev != NULL)
		event_del(all->in.ev);
}

void ll_workers_free(struct ll_core *core)
{
	struct ll_workers *all = core->workers;
	unsigned i;

	if (all == NULL)
		return;
	ll_workers_stop(core);
	for (i = 0; i < all->n; i++) {
		struct ll_worker *w = &all->w[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		else if (w->on_main && w->in.ev != NULL)
			worker_in_cb(-1, 0, w); /* its STOP, here and now */
		wq_clear(&w->in);
		if (w->done_ev != NULL) {
			worker_done_cb(-1, 0, w);
			event_free(w->done_ev);
		}
		if (w->sweep != NULL)
			event_free(w->sweep);
		if (w->base != NULL && !w->on_main)
			event_base_free(w->base);
	}
	/* The workers' last DONEs. */
	main_in_cb(-1, 0, all);
	wq_clear(&all->in);
	free(all->w);
	free(all);
	core->workers = NULL;
}

void ll_workers_counts(const struct ll_core *core, uint64_t *bytes,
		       uint64_t *streams)
{
	const struct ll_workers *all = core != NULL ? core->workers : NULL;
	unsigned i;

	*bytes = *streams = 0;
	for (i = 0; all != NULL && i < all->n; i++) {
		*bytes += atomic_load_explicit(&all->w[i].bytes,
					       memory_order_relaxed);
		*streams += atomic_load_explicit(&all->w[i].streams,
						 memory_order_relaxed);
	}
}

/*
 * Takes c's stream off the main loop: what it read (and OpenSSL holds)
 * goes into ws->early, its bufferevent is freed.  ws->pipe[side] already
 * holds a reference on the SSL and the SSL's write BIO is the pipe's,
 * which reports no descriptor: libevent's free (CLOSE_ON_FREE, deferred
 * to a later callback on this loop) then drops only its own reference
 * and leaves the socket open, whatever the worker does meanwhile.
 */
static void wsess_park(struct ll_wsess *ws, struct ll_conn *c)
{
	int s = c->side;
	struct bufferevent *bev = c->bev;
	uint8_t buf[16384];
	size_t n;

	bufferevent_disable(bev, EV_READ | EV_WRITE);
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	evbuffer_add_buffer(ws->early[s], bufferevent_get_input(bev));
	while ((n = ll_tls_ssl_take_pending(bufferevent_openssl_get_ssl(bev),
					    buf, sizeof(buf))) > 0)
		evbuffer_add(ws->early[s], buf, n);
	g_strlcpy(ws->peer[s], c->peer, sizeof(ws->peer[s]));
	c->bev = NULL;
	bufferevent_free(bev);
}

/* The pipes of both streams, or none (NULL: nothing changed). */
static int wsess_pipes(struct ll_wsess *ws, struct ll_conn *conn[2])
{
	int s;

	for (s = 0; s < 2; s++) {
		struct bufferevent *bev = conn[s]->bev;
		struct ssl_st *ssl = bufferevent_openssl_get_ssl(bev);
		int side = conn[s]->side;

		ws->fd[side] = (int)bufferevent_getfd(bev);
		ws->pipe[side] = ll_tls_pipe_new(ssl, ws->fd[side]);
		if (ws->pipe[side] == NULL) {
			if (s == 1)
				LL_FREE_AND_NULL(ll_tls_pipe_undo,
						 ws->pipe[conn[0]->side]);
			return LL_ERR_NOMEM;
		}
	}
	return LL_OK;
}

struct ll_wsess *ll_workers_handover(struct ll_core *core, const char *id,
				     struct ll_conn *conn[2],
				     const uint64_t bytes[2])
{
	struct ll_workers *all = core->workers;
	struct ll_worker *w = &all->w[0];
	struct ll_wsess *ws;
	unsigned i;
	int s;

	for (i = 1; i < all->n; i++)
		if (all->w[i].n_sessions < w->n_sessions)
			w = &all->w[i];
	if ((ws = calloc(1, sizeof(*ws))) == NULL)
		return NULL;
	for (s = 0; s < 2; s++)
		if ((ws->early[s] = evbuffer_new()) == NULL) {
			wsess_free(ws);
			return NULL;
		}
	if (wsess_pipes(ws, conn) != LL_OK) {
		wsess_free(ws);
		return NULL;
	}
	ws->w = w;
	ws->serial = ++all->next_serial;
	g_strlcpy(ws->id, id, sizeof(ws->id));
	ws->limit = core->relay->cfg.stream_buffer_bytes > 0
			    ? (size_t)core->relay->cfg.stream_buffer_bytes
			    : 262144;
	ws->close_ms = core->relay->cfg.idle_timeout_ms;
	for (s = 0; s < 2; s++) {
		atomic_init(&ws->bytes[s], bytes[s]);
		wsess_park(ws, conn[s]);
	}
	w->n_sessions++;
	wq_post(&w->in, WMSG_HANDOVER, ws, false, NULL);
	return ws;
}

void ll_workers_close(struct ll_wsess *ws, bool flush)
{
	wq_post(&ws->w->in, WMSG_CLOSE, ws, flush, NULL);
}

void ll_workers_bytes(const struct ll_wsess *ws, uint64_t bytes[2])
{
	int s;

	for (s = 0; s < 2; s++)
		bytes[s] = atomic_load_explicit(&ws->bytes[s],
						memory_order_relaxed);
}

const char *ll_workers_session_id(const struct ll_wsess *ws)
{
	return ws->id;
}
