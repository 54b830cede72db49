/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to the relay's core library (the sources in core/): the loop
 * object, connections and stream pairs.  Only the core's own sources
 * have core/private/ on their include path; the API and the program talk
 * to the core through ll_relay.h.
 *
 * Lifetime rules (HACKING.md, Style, habit 7):
 *  - every ll_conn has an explicit state and a reference count; the
 *    core's list of open connections holds one reference, every callback
 *    takes another for its duration, so a connection closed under a
 *    callback is only marked DEAD and freed when the last reference goes;
 *  - a pair lives in core->pairs from the first side's upgrade until
 *    ll_pair_end(), which detaches both connections, tells the API once
 *    and frees the pair; a lost stream of a paired session detaches
 *    both connections but keeps the pair, in grace (pair.c).
 */
#ifndef LL_RELAY_CORE_H
#define LL_RELAY_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <glib.h>

#include "ll_relay.h"

struct bufferevent;
struct evconnlistener;
struct ll_cidr_list;
struct event;
struct ll_pair;
struct ll_workers;
struct ll_wsess;

/* Most a stream's bufferevent writes per write event. */
#define LL_CORE_IO_CHUNK (64 * 1024)
/* What OpenSSL reads from a stream's socket at once (read-ahead): a few
 * records per read call instead of two calls per record.  Allocated only
 * while a read is in progress (SSL_MODE_RELEASE_BUFFERS). */
#define LL_CORE_READ_AHEAD (64 * 1024)
/* Pipelined HTTP answers waiting to be sent before we stop parsing. */
#define LL_CORE_HTTP_OUT_MAX (256 * 1024)
/* Pipelined request bytes held while the API works on an answer
 * (LL_API_PENDING) before we stop reading. */
#define LL_CORE_HTTP_IN_MAX (256 * 1024)
/* URL cap; the other HTTP limits come from the config. */
#define LL_CORE_MAX_URL 2048
/*
 * File descriptors kept for the relay itself, outside every connection
 * slot: stdio, the listener, epoll and libevent's signal and notify
 * fds, the store (database, WAL, shared memory, journal), the key and
 * certificate files a reload opens, and whatever a library opens on its
 * own (docs/ARCHITECTURE.md, "Connection slots").
 */
#define LL_CORE_FD_RESERVE 64
/* How long accepting pauses when the process is out of descriptors. */
#define LL_CORE_ACCEPT_PAUSE_MS 100
#define LL_CORE_ACCEPT_PAUSE_LONG_MS 1000

/* Who may read /metrics (metrics.c), from the configuration. */
struct ll_core_metrics_access {
	struct ll_cidr_list *allow; /* metrics_allow */
	uint8_t token_sha[32];      /* SHA-256 of the metrics token */
	bool has_token;             /* metrics_token_file is set */
};

struct ll_core {
	struct ll_relay *relay;
	struct event_base *base;
	bool own_base;
	struct evconnlistener *listener;
	struct event *ev_term, *ev_int, *ev_hup, *ev_tick, *ev_accept_retry;
	GHashTable *unauth; /* peer text (owned) -> count */
	/* Connections not yet authenticated, least recently active first:
	 * the head is the one to evict when max_unauth is reached. */
	struct ll_conn *unauth_head, *unauth_tail;
	size_t n_unauth;
	size_t fd_limit;       /* RLIMIT_NOFILE, raised to the hard limit */
	size_t max_unauth;     /* relay-wide cap, from cfg and fd_limit */
	GHashTable *pairs;     /* session id (in pair) -> ll_pair */
	struct ll_conn *conns; /* every open connection */
	struct ll_http_limits limits;
	struct ll_core_metrics_access metrics_access;
	const char *listen_override; /* --listen, or NULL for cfg.listen */
	char *listen_now;            /* what we bound (to warn on reload) */
	/* The forwarding loops (workers.c; with workers = 1 the main loop
	 * is the one forwarding loop); NULL if they could not start. */
	struct ll_workers *workers;
	bool stopping;
	int exit_code;
};

enum ll_conn_state {
	LL_CONN_HANDSHAKE = 0, /* TLS handshake; handshake timer */
	LL_CONN_HTTP,          /* requests; head or idle timer */
	LL_CONN_WAITING,       /* upgraded stream, its peer is not here */
	LL_CONN_PAIRED,        /* forwarding to its peer */
	LL_CONN_CLOSING,       /* flushing the last bytes; idle timer */
	LL_CONN_LINGER,        /* flushed, write side shut, draining input */
	LL_CONN_DEAD,          /* closed; freed with the last reference */
};

struct ll_conn {
	struct ll_conn *prev, *next; /* core->conns */
	/* core->unauth_head's list while unauth_counted */
	struct ll_conn *unauth_prev, *unauth_next;
	struct ll_core *core;
	struct bufferevent *bev;           /* NULL once DEAD */
	struct ll_http_req_parser *parser; /* HTTP states only */
	struct event *timer;
	struct ll_pair *pair; /* WAITING, PAIRED */
	int64_t accept_ms;
	unsigned int refs;
	uint8_t state;               /* enum ll_conn_state */
	uint8_t side;                /* enum ll_side */
	bool unauth_counted;         /* holds a slot in core->unauth */
	bool req_started;            /* head timer armed for a request */
	bool read_paused;            /* EV_READ off for back-pressure */
	bool stream_lost;            /* ended without close_notify */
	char peer[INET6_ADDRSTRLEN]; /* textual source address */
	/* The request the API answers later (LL_API_PENDING), owned, and
	 * what it was handed; the API holds a reference on c until then. */
	struct ll_http_request *pending;
	struct ll_api_request areq;
};

/* ---- server.c (and ll_core_run, ll_relay.h) ---- */
/* Gives back the connection's slot among the unauthenticated (its
 * address's and the relay's). */
void ll_core_unauth_release(struct ll_core *core, struct ll_conn *c);
/* The client did something (handshake done, request bytes): the
 * connection is no longer the oldest idle one. */
void ll_core_unauth_touch(struct ll_core *core, struct ll_conn *c);
/* Paths the API serves (relay->api->dispatch): everything under
 * /api/v1/, and the PIN page's "/" and "/o/..." (docs/API.md). */
bool ll_core_api_path(const char *path);
/* An event loop for one thread, the main one's or a forwarding loop's
 * (workers.c): no locks, changes folded per pass; NULL on failure. */
struct event_base *ll_core_base_new(void);

/* ---- conn.c ---- */
/* Takes ownership of fd (closed on failure). */
struct ll_conn *ll_conn_new(struct ll_core *core, int fd, const char *peer);
void ll_conn_ref(struct ll_conn *c);
void ll_conn_unref(struct ll_conn *c);
/* Closes now (pending output is dropped).  reason for the log, or NULL. */
void ll_conn_close(struct ll_conn *c, const char *reason);
/* Sends what is pending, then closes (bounded by a linger timer). */
void ll_conn_close_after_flush(struct ll_conn *c);
/* Resumes reading a stream's source paused for back-pressure. */
void ll_conn_set_read_paused(struct ll_conn *c, bool paused);
/*
 * A stream reads ahead (ll_tls_ssl_read_ahead): libevent 2.1 takes one
 * record per socket event and leaves the rest of what OpenSSL read in
 * OpenSSL, where no socket event will ever announce it.  Whoever reads a
 * stream calls this before taking its input (and after resuming it):
 * moves those bytes into the input.  Returns how many.
 */
size_t ll_stream_tls_drain(struct bufferevent *bev);
const char *ll_conn_state_name(enum ll_conn_state s);

/* ---- pair.c ---- */
GHashTable *ll_pair_table_new(void);
/* c has just been answered 101; its bytes after the head are in its input. */
int ll_pair_attach(struct ll_core *core, struct ll_conn *c,
		   const char *session_id, enum ll_side side);
/* True when that side of the session already has a stream here that a
 * new one may not replace (the session never paired). */
bool ll_pair_side_taken(struct ll_core *core, const char *session_id,
			enum ll_side side);
/* Stream callbacks, called by conn.c with a reference held. */
void ll_pair_on_read(struct ll_conn *c);
void ll_pair_on_write(struct ll_conn *c);
/* Ends c's pair because c went away (or culprit NULL: closes both). */
void ll_pair_end(struct ll_pair *p, struct ll_conn *culprit,
		 const char *reason);
/* culprit's stream broke (no close_notify): a paired session goes into
 * grace (both streams closed, the pair kept for stream_grace_s); one
 * that never paired ends as with ll_pair_end. */
void ll_pair_lost(struct ll_pair *p, struct ll_conn *culprit,
		  const char *reason);
/* Ends the pairs whose grace ran out ("lost"); once a second. */
void ll_pair_grace_sweep(struct ll_core *core);
/* Ends every pair (shutdown). */
void ll_pair_end_all(struct ll_core *core, const char *reason);

/* A worker loop (workers.c) reports that a handed-over session's
 * forwarding ended: lost (no close_notify: grace) or ended, and why. */
void ll_pair_worker_ended(struct ll_core *core, struct ll_wsess *ws, bool lost,
			  const char *reason);
/* ... and that it let go of ws, which is freed next. */
void ll_pair_worker_done(struct ll_core *core, struct ll_wsess *ws);

/* ---- workers.c: forwarding loops (relay.conf workers) ---- */
/* How many loops cfg asks for (0: one per CPU). */
unsigned ll_workers_count(const struct ll_relay_config *cfg);
/* Starts n forwarding threads (none when n <= 1: the main loop
 * forwards, through the same code); core->workers. */
int ll_workers_start(struct ll_core *core, unsigned n);
bool ll_workers_active(const struct ll_core *core);
/* Hands a paired session's two streams (by side; both outputs flushed)
 * to the least busy loop: their bufferevents leave the main loop (each
 * conn's bev is NULL after) and bytes[] counts on.  NULL on no memory
 * (nothing moved). */
struct ll_wsess *ll_workers_handover(struct ll_core *core, const char *id,
				     struct ll_conn *conn[2],
				     const uint64_t bytes[2]);
/* Ends a handed-over session's forwarding: after flushing, or now. */
void ll_workers_close(struct ll_wsess *ws, bool flush);
/* Its bytes so far, by side read. */
void ll_workers_bytes(const struct ll_wsess *ws, uint64_t bytes[2]);
const char *ll_workers_session_id(const struct ll_wsess *ws);
/* Bytes forwarded and streams open on the worker loops, for /metrics. */
void ll_workers_counts(const struct ll_core *core, uint64_t *bytes,
		       uint64_t *streams);
/* Tells every worker to close its streams now and end its loop. */
void ll_workers_stop(struct ll_core *core);
/* Stops, joins the threads, frees what they handed back. */
void ll_workers_free(struct ll_core *core);

/* ---- metrics.c ---- */
/* Prometheus text for /metrics (malloc'd), or NULL on no memory. */
char *ll_core_metrics_text(const struct ll_relay *relay);
/* Reads metrics_allow and the token file of cfg, and on success replaces
 * *out with them; on failure *out is untouched and errbuf says why. */
int ll_core_metrics_access_load(const struct ll_relay_config *cfg,
				struct ll_core_metrics_access *out,
				char *errbuf, size_t errlen);
void ll_core_metrics_access_clear(struct ll_core_metrics_access *a);
/* May this request from peer (textual address) read /metrics? */
bool ll_core_metrics_allowed(const struct ll_core_metrics_access *a,
			     const char *peer,
			     const struct ll_http_request *req);

#endif
