/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Forwarding loops (relay.conf `workers`; docs/ARCHITECTURE.md, "Loops
 * and threads").  With workers = 1 the main loop forwards every paired
 * session itself (pair.c) and nothing here runs.  With workers = N > 1,
 * N threads each run an event loop of their own, and a session whose two
 * streams have paired on the main loop is handed, both streams together,
 * to the least busy of them: forwarding between the two stays on one
 * loop, without locks.  The main loop keeps everything else: accepting,
 * TLS handshakes, HTTP and the API, the store, the session table with
 * waiting and grace (pair.c), and the decisions about a session's life.
 *
 * The handover.  Once both streams' outputs are flushed (the 101 is out,
 * so no TLS record is half-written), the main loop disables each
 * stream's bufferevent and parks it: it keeps owning its SSL and socket
 * (BEV_OPT_CLOSE_ON_FREE) but does no more I/O.  The bytes it had read,
 * and those OpenSSL had already decrypted (SSL_pending), travel along.
 * The worker builds a new bufferevent_openssl on its own event_base over
 * the same socket and SSL, in state BUFFEREVENT_SSL_OPEN and without
 * CLOSE_ON_FREE, and forwards as pair.c does (moving evbuffer chains,
 * the same back-pressure).  When the worker has freed both of its
 * bufferevents it says so (DONE), and only then does the main loop free
 * the parked ones, which frees the SSLs and closes the sockets.  So
 * every SSL is used by one thread at a time, and freed after its last
 * user let go.
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
#include "ll_util.h"
#include "ll_relay.h"
#include "core.h"

#define LL_WORKERS_MAX 256
#define LL_WS_LINGER_MS 2000

enum ws_state {
	WS_OPEN = 0, /* forwarding */
	WS_CLOSING,  /* flushing the last bytes */
	WS_LINGER,   /* flushed, write side shut, draining input */
	WS_DEAD,
};

struct ll_wsess;

/* One stream of a handed-over session, on the worker. */
struct ws_stream {
	struct ll_wsess *ws;
	struct bufferevent *bev; /* the worker's; NULL once closed */
	struct event *timer;     /* CLOSING and LINGER; made then */
	uint8_t side;            /* enum ll_side */
	uint8_t state;           /* enum ws_state */
	bool read_paused;
};

/* A paired session on a worker, shared by the main loop and the worker
 * that forwards it: main owns it; the worker uses it from HANDOVER until
 * it sends DONE. */
struct ll_wsess {
	struct ll_worker *w;
	uint64_t serial; /* unique: a late CLOSE finds no other session */
	char id[LL_SESSION_ID_LEN + 1];
	/* Set by the main loop before HANDOVER. */
	struct bufferevent *parked[2]; /* main's; own SSL and socket */
	struct ssl_st *ssl[2];
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
	bool started;
	struct event_base *base;
	struct wqueue in;
	/* the worker's own */
	struct ll_wsess *sessions;
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

static void ws_read_cb(struct bufferevent *bev, void *arg);
static void ws_write_cb(struct bufferevent *bev, void *arg);
static void ws_event_cb(struct bufferevent *bev, short what, void *arg);

static void ws_timer_cb(evutil_socket_t fd, short what, void *arg);

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
	if (st->bev == NULL || st->read_paused == paused)
		return;
	st->read_paused = paused;
	if (paused)
		bufferevent_disable(st->bev, EV_READ);
	else
		bufferevent_enable(st->bev, EV_READ);
}

/* Moves what side s read to the other side, with back-pressure (pair.c,
 * pair_forward, does the same on the main loop). */
static void ws_forward(struct ll_wsess *ws, int s)
{
	struct ws_stream *src = &ws->st[s], *dst = &ws->st[!s];
	struct evbuffer *in, *out;
	size_t n;

	if (src->bev == NULL || dst->bev == NULL || dst->state != WS_OPEN)
		return;
	if (!src->read_paused)
		ll_stream_tls_drain(src->bev);
	in = bufferevent_get_input(src->bev);
	out = bufferevent_get_output(dst->bev);
	if ((n = evbuffer_get_length(in)) > 0) {
		if (evbuffer_add_buffer(out, in) != 0)
			return;
		atomic_fetch_add_explicit(&ws->bytes[s], n,
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&ws->w->bytes, n,
					  memory_order_relaxed);
	}
	if (evbuffer_get_length(out) >= ws->limit && !src->read_paused) {
		ws_set_read_paused(src, true);
		bufferevent_setwatermark(dst->bev, EV_WRITE, ws->limit / 2, 0);
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
 * Lets go of one stream at once.  The bufferevent is disabled before it
 * is freed, so that none of its events can run SSL_read or SSL_write
 * once the main loop frees the SSL (after DONE); it owns neither SSL nor
 * socket.
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
	if (st->bev != NULL) {
		bufferevent_disable(st->bev, EV_READ | EV_WRITE);
		bufferevent_setcb(st->bev, NULL, NULL, NULL, NULL);
		LL_FREE_AND_NULL(bufferevent_free, st->bev);
		atomic_fetch_sub_explicit(&w->streams, 1,
					  memory_order_relaxed);
	}
	if (ws->st[0].state == WS_DEAD && ws->st[1].state == WS_DEAD) {
		ws_unlink(w, ws);
		wq_post(&w->all->in, WMSG_DONE, ws, false, NULL);
	}
}

/* Output is out: a clean TLS end, shut our write side, and wait briefly
 * for the peer's end (conn.c, conn_linger, does the same). */
static void ws_linger(struct ws_stream *st)
{
	struct ll_wsess *ws = st->ws;

	st->state = WS_LINGER;
	ll_tls_ssl_close_notify(ws->ssl[st->side]);
	if (shutdown(ws->fd[st->side], SHUT_WR) != 0) {
		ws_stream_close(st);
		return;
	}
	st->read_paused = false;
	bufferevent_enable(st->bev, EV_READ);
	ws_arm(st, LL_WS_LINGER_MS);
}

static void ws_close_after_flush(struct ws_stream *st)
{
	struct evbuffer *in;

	if (st->state != WS_OPEN || st->bev == NULL)
		return;
	in = bufferevent_get_input(st->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	if (evbuffer_get_length(bufferevent_get_output(st->bev)) == 0) {
		ws_linger(st);
		return;
	}
	st->state = WS_CLOSING;
	st->read_paused = false;
	bufferevent_setwatermark(st->bev, EV_WRITE, 0, 0);
	bufferevent_setwatermark(st->bev, EV_READ, 0, 0);
	bufferevent_enable(st->bev, EV_READ | EV_WRITE);
	ws_arm(st, st->ws->close_ms > 0 ? st->ws->close_ms : 60000);
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

static void ws_read_cb(struct bufferevent *bev, void *arg)
{
	struct ws_stream *st = arg;
	struct evbuffer *in;

	if (st->state == WS_OPEN) {
		ws_forward(st->ws, st->side);
		return;
	}
	in = bufferevent_get_input(bev);
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void ws_write_cb(struct bufferevent *bev, void *arg)
{
	struct ws_stream *st = arg;
	struct ll_wsess *ws = st->ws;
	struct ws_stream *src = &ws->st[!st->side];
	size_t left = evbuffer_get_length(bufferevent_get_output(bev));

	if (st->state == WS_CLOSING) {
		if (left == 0)
			ws_linger(st);
		return;
	}
	if (st->state != WS_OPEN || src->state != WS_OPEN ||
	    !src->read_paused || left > ws->limit / 2)
		return;
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	ws_set_read_paused(src, false);
	/* What the source read just before it paused. */
	ws_forward(ws, !st->side);
}

static const char *ws_end_reason(int side, bool eof)
{
	if (side == LL_SIDE_AGENT)
		return eof ? "agent_closed" : "agent_error";
	return eof ? "applet_closed" : "applet_error";
}

/* Was it the peer's end (a TCP close, with or without close_notify)
 * rather than an error?  As conn.c's conn_error_text, without the log. */
static bool ws_eof(struct bufferevent *bev, short what)
{
	unsigned long e, first = 0;

	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		if (first == 0)
			first = e;
	if (ll_tls_err_is_unexpected_eof(first))
		return true;
	return (what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR);
}

/*
 * A stream ended.  As on the main loop (conn.c, pair.c): an end with
 * close_notify ends the session, the leaver's last bytes still going out
 * to the one who stays; one without is a loss, both streams close at
 * once and the main loop starts the grace.
 */
static void ws_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ws_stream *st = arg;
	struct ll_wsess *ws = st->ws;
	int s = st->side;
	const char *reason;
	bool eof, lost;

	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if (st->state != WS_OPEN || ws->ended) {
		ws_stream_close(st);
		return;
	}
	eof = ws_eof(bev, what);
	lost = !ll_tls_ssl_got_close_notify(ws->ssl[s]);
	reason = ws_end_reason(s, eof);
	if (!eof)
		ll_info("peer %s: stream error", ws->peer[s]);
	/* The leaver's last bytes are counted before ENDED says how many,
	 * and ENDED goes before the DONE that the closes below may post
	 * (one queue, in order: main frees ws at DONE). */
	if (!lost)
		ws_forward(ws, s);
	wq_post(&ws->w->all->in, WMSG_ENDED, ws, lost, reason);
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

	st->state = WS_OPEN;
	/* No CLOSE_ON_FREE: the parked bufferevent on the main loop owns
	 * SSL and socket.  Deferred callbacks, as on the main loop. */
	st->bev = bufferevent_openssl_socket_new(w->base, ws->fd[s],
						 ws->ssl[s],
						 BUFFEREVENT_SSL_OPEN,
						 BEV_OPT_DEFER_CALLBACKS);
	if (st->bev == NULL)
		return LL_ERR_NOMEM;
	atomic_fetch_add_explicit(&w->streams, 1, memory_order_relaxed);
	bufferevent_openssl_set_allow_dirty_shutdown(st->bev, 1);
	bufferevent_set_max_single_write(st->bev, LL_CORE_IO_CHUNK);
	bufferevent_setwatermark(st->bev, EV_READ, 0, ws->limit);
	bufferevent_setcb(st->bev, ws_read_cb, ws_write_cb, ws_event_cb, st);
	evbuffer_add_buffer(bufferevent_get_input(st->bev), ws->early[s]);
	bufferevent_enable(st->bev, EV_READ | EV_WRITE);
	return LL_OK;
}

static void worker_handover(struct ll_worker *w, struct ll_wsess *ws)
{
	int s, r = LL_OK;

	ws->next = w->sessions;
	if (w->sessions != NULL)
		w->sessions->prev = ws;
	w->sessions = ws;
	for (s = 0; s < 2; s++) {
		ws->st[s].ws = ws;
		ws->st[s].side = (uint8_t)s;
	}
	for (s = 0; s < 2 && r == LL_OK; s++)
		r = ws_stream_open(w, ws, s);
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
	/* The bytes each side sent before the handover. */
	ws_forward(ws, LL_SIDE_AGENT);
	ws_forward(ws, LL_SIDE_APPLET);
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
	 * is still queued (the bufferevents' deferred frees). */
	event_del(w->in.ev);
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
		/* Frees the SSL and closes the socket (CLOSE_ON_FREE). */
		if (ws->parked[s] != NULL)
			bufferevent_free(ws->parked[s]);
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

static struct event_base *worker_base_new(void)
{
	struct event_config *ec = event_config_new();
	struct event_base *base;

	if (ec == NULL)
		return NULL;
	/* One thread per loop; see core_base_new. */
	event_config_set_flag(ec,
			      EVENT_BASE_FLAG_NOLOCK |
				      EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
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
	sigset_t all_sigs, old;
	unsigned i;
	int r = LL_OK;

	core->workers = NULL;
	if (n <= 1)
		return LL_OK;
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
		if ((w->base = worker_base_new()) == NULL) {
			r = LL_ERR_NOMEM;
			break;
		}
		if ((r = wq_init(&w->in, w->base, worker_in_cb, w)) != LL_OK)
			break;
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			r = LL_ERR_IO;
			break;
		}
		w->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r == LL_OK)
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
		if (all->w[i].started)
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
		wq_clear(&w->in);
		/* Runs its pending finalizers: every bufferevent is gone. */
		if (w->base != NULL)
			event_base_free(w->base);
	}
	/* The workers' last DONEs: the parked bufferevents go now. */
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

/* Takes c's bufferevent off the main loop, parked in ws. */
static void wsess_park(struct ll_wsess *ws, struct ll_conn *c)
{
	int s = c->side;
	struct bufferevent *bev = c->bev;
	uint8_t buf[16384];
	size_t n;

	bufferevent_disable(bev, EV_READ | EV_WRITE);
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	ws->parked[s] = bev;
	ws->ssl[s] = bufferevent_openssl_get_ssl(bev);
	ws->fd[s] = (int)bufferevent_getfd(bev);
	evbuffer_add_buffer(ws->early[s], bufferevent_get_input(bev));
	while ((n = ll_tls_ssl_take_pending(ws->ssl[s], buf, sizeof(buf))) > 0)
		evbuffer_add(ws->early[s], buf, n);
	g_strlcpy(ws->peer[s], c->peer, sizeof(ws->peer[s]));
	c->bev = NULL;
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
