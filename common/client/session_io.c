/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The session pump (see ll_session_io.h).  One GSource per session
 * watches the TLS socket and every bridged fd; all I/O happens in its
 * dispatch, the public functions only queue and wake it.  Within a
 * dispatch: read the stream and feed the mux (callbacks), move bytes
 * between bridges and the mux, write the stream, advance an ending, and
 * finally recompute what each fd is polled for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ll_buf.h"
#include "ll_crypto.h"
#include "ll_session_io.h"
#include "ll_stream.h"
#include "ll_text.h"
#include "ll_tls.h"
#include "ll_util.h"

/* Stream bytes read per dispatch before other sources get a turn. */
#define READ_BUDGET (1024u * 1024u)
/* Room for two whole frames: the mux needs one frame contiguous. */
#define RBUF_CAP (2u * (LL_FRAME_HEADER_LEN + LL_FRAME_MAX_PAYLOAD))
/* Bytes read from a bridged fd at once. */
#define BRIDGE_CHUNK (64u * 1024u)
/* A bridge reads at most this much from its fd per dispatch, as reading
 * the stream does (READ_BUDGET): neither direction starves the other. */
#define BRIDGE_BUDGET (1024u * 1024u)
/* Unsent bytes the kernel may hold for the stream (TCP_NOTSENT_LOWAT). */
#define UNSENT_MAX (128u * 1024u)
/* What one read system call of the stream takes at most (TLS
 * read-ahead): a few records a call, not two calls a record. */
#define TLS_READ_AHEAD (64u * 1024u)
/* Plaintext one write system call of the stream carries at most
 * (ll_tls_conn_gather_writes): a few records a call, not one. */
#define TLS_GATHER (64u * 1024u)
/* Bytes of bulk channels the mux may hold (out_has_room). */
#define BULK_QUEUE (256u * 1024u)
/* Control bytes buffered while a message is incomplete. */
#define CTRL_IN_MAX (4u + LL_CONTROL_MAX_MSG + LL_FRAME_MAX_PAYLOAD)
#define END_TIMEOUT_MS 2000
#define REASON_LEN 256

/* Sub-steps of an ending (state ENDING). */
enum end_step {
	END_FLUSH = 0, /* writing what the mux holds */
	END_SHUTDOWN,  /* sending close_notify */
	END_DRAIN,     /* write side shut; reading until the relay closes,
			 * so that closing never resets data in flight */
};

struct bridge {
	struct bridge *next;
	uint16_t channel;
	int fd;
	gpointer tag;
	GIOCondition watched; /* what tag polls for (watch_fd) */
	/* fd -> channel: read, not yet taken by the mux */
	uint8_t *obuf;
	size_t ooff, olen;
	/* read but held back by filter.out, at obuf + hoff */
	size_t hoff, ohold;
	bool fd_eof;
	bool hup; /* fd hung up: no longer polled (poll would
				 * report it forever), read directly */
	/* channel -> fd: received, not yet written (= not yet consumed) */
	uint8_t *ibuf;
	size_t ioff, ilen, icap;
	bool peer_closed;
	/* optional check (ll_session_io_filter); channel bytes held back
	 * by filter.in (received, neither written nor consumed) */
	struct ll_session_io_filter filter;
	uint8_t ihold[LL_SESSION_FILTER_HOLD];
	size_t ihold_len;
	/* fed by a function, not an fd (fd -1; ll_session_io_bridge_source) */
	struct ll_session_io_source source;
	bool stopped; /* the source failed: the channel is its owner's */
};

struct ll_session_io {
	int refs;
	int in_dispatch;
	bool detached; /* the application freed its reference */

	enum ll_session_io_state state;
	enum end_step end_step;
	gint64 end_deadline;   /* monotonic us */
	gint64 hello_deadline; /* 0 = none */
	bool wake;
	/* on_channel_data keeps its bytes (ll_session_io_channel_keep) */
	bool keep;

	/* Liveness (ll_session_io.h), monotonic us; active once READY. */
	gint64 last_life;
	gint64 next_ping;
	uint32_t ping_seq;
	gint64 ping_sent; /* of ping ping_seq - 1; 0: answered */
	gint64 rtt_ms;    /* -1 until a pong came */
	bool stalled;

	struct ll_session_io_cbs cbs;
	void *user;
	struct ll_session_io_opts opts;

	GSource *src;
	bool src_alive; /* the "alive" reference is held */
	struct ll_tls_conn *conn;
	int fd;
	gpointer tag;
	GIOCondition watched; /* what tag polls for (watch_fd) */
	bool tls_want_write;  /* a read or shutdown wants POLLOUT */

	struct ll_mux *mux;
	uint8_t *rbuf;
	size_t rlen;
	struct ll_buf *ctrl_out;
	struct ll_buf *ctrl_in;
	struct bridge *bridges;
	unsigned bridge_gen; /* bumped whenever a bridge goes away */

	/* How it ends. */
	enum ll_session_end why;
	int end_err;
	char reason[REASON_LEN];
	char peer_reason[REASON_LEN];
	bool peer_said_end;
	bool closed_pending; /* on_closed still to deliver */

	uint64_t bytes_in, bytes_out;
};

struct sio_source {
	GSource base;
	struct ll_session_io *s;
};

static void sio_unref(struct ll_session_io *s);

/* ----------------------------------------------------------- small bits */

const char *ll_session_io_state_name(enum ll_session_io_state st)
{
	switch (st) {
	case LL_SESSION_IO_HANDSHAKE:
		return "handshake";
	case LL_SESSION_IO_READY:
		return "ready";
	case LL_SESSION_IO_ENDING:
		return "ending";
	case LL_SESSION_IO_CLOSED:
		return "closed";
	}
	return "unknown";
}

const char *ll_session_end_name(enum ll_session_end why)
{
	switch (why) {
	case LL_SESSION_END_LOCAL:
		return "ended here";
	case LL_SESSION_END_PEER:
		return "ended by the other side";
	case LL_SESSION_END_LOST:
		return "connection lost";
	case LL_SESSION_END_ERROR:
		return "error";
	case LL_SESSION_END_SILENT:
		return "no sign of life";
	}
	return "unknown";
}

void ll_session_io_opts_default(struct ll_session_io_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->side = LL_SIDE_AGENT;
}

static void wake(struct ll_session_io *s)
{
	s->wake = true;
	if (s->src != NULL && s->src_alive && s->in_dispatch == 0)
		g_source_set_ready_time(s->src, 0);
}

/* Every reason on_closed reports passes the display rule (ll_text.h):
 * the peer's words end up in labels and on terminals. */
static void set_reason(char dst[REASON_LEN], const char *src, size_t n)
{
	ll_text_printable(dst, REASON_LEN, src, n);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static bool want_retry(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* --------------------------------------------------------------- bridges */

static struct bridge *bridge_find(struct ll_session_io *s, uint16_t ch)
{
	struct bridge *b;

	for (b = s->bridges; b != NULL; b = b->next)
		if (b->channel == ch)
			return b;
	return NULL;
}

/* Unlinks, stops watching and closes the fd; bytes still buffered go. */
static void bridge_free(struct ll_session_io *s, struct bridge *b)
{
	struct bridge **pp;

	s->bridge_gen++;
	for (pp = &s->bridges; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	}
	if (b->tag != NULL && s->src != NULL && s->src_alive)
		g_source_remove_unix_fd(s->src, b->tag);
	if (b->fd >= 0)
		close(b->fd);
	if (b->obuf != NULL) {
		ll_wipe(b->obuf, BRIDGE_CHUNK);
		free(b->obuf);
	}
	if (b->ibuf != NULL) {
		ll_wipe(b->ibuf, b->icap);
		free(b->ibuf);
	}
	ll_wipe(b->ihold, sizeof(b->ihold));
	if (b->filter.free_user != NULL)
		b->filter.free_user(b->filter.user);
	free(b);
}

static void bridges_free_all(struct ll_session_io *s)
{
	while (s->bridges != NULL)
		bridge_free(s, s->bridges);
}

/* ------------------------------------------------------------- teardown */

/* Everything closed now; on_closed left for the dispatcher. */
static void teardown(struct ll_session_io *s, enum ll_session_end why, int err,
		     const char *reason)
{
	if (s->state == LL_SESSION_IO_CLOSED)
		return;
	s->why = why;
	s->end_err = err;
	set_reason(s->reason, reason, strlen(reason));
	bridges_free_all(s);
	if (s->tag != NULL && s->src != NULL && s->src_alive)
		g_source_remove_unix_fd(s->src, s->tag);
	s->tag = NULL;
	ll_tls_conn_free(s->conn, true);
	s->conn = NULL;
	s->fd = -1;
	s->state = LL_SESSION_IO_CLOSED;
	s->closed_pending = true;
	wake(s);
}

/*
 * Start an orderly ending: from now on input is ignored, what is queued
 * is flushed, TLS is closed and the socket drained, then teardown.
 */
static void begin_ending(struct ll_session_io *s, enum ll_session_end why,
			 int err, const char *reason)
{
	int ms;

	if (s->state == LL_SESSION_IO_ENDING ||
	    s->state == LL_SESSION_IO_CLOSED)
		return;
	s->why = why;
	s->end_err = err;
	set_reason(s->reason, reason, strlen(reason));
	/* Bridged bytes not yet taken are dropped: the local ends see EOF
	 * at once. */
	bridges_free_all(s);
	s->state = LL_SESSION_IO_ENDING;
	s->end_step = END_FLUSH;
	ms = s->opts.end_timeout_ms > 0 ? s->opts.end_timeout_ms
					: END_TIMEOUT_MS;
	s->end_deadline = g_get_monotonic_time() + (gint64)ms * 1000;
	wake(s);
}

/* A failure of ours or of the stream: flush what the mux queued (an ERROR
 * frame after a protocol failure) and close. */
static void fail(struct ll_session_io *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct ll_session_io *s, int err, const char *fmt, ...)
{
	char msg[REASON_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	begin_ending(s, LL_SESSION_END_ERROR, err, msg);
}

/* The stream ended under us (EOF, reset, TLS failure). */
static void lost(struct ll_session_io *s, int r)
{
	if (s->peer_said_end) {
		teardown(s, LL_SESSION_END_PEER, LL_OK, s->peer_reason);
		return;
	}
	if (r == LL_ERR_CLOSED || r == LL_ERR_IO) {
		teardown(s, LL_SESSION_END_LOST, LL_OK,
			 r == LL_ERR_CLOSED
				 ? "the relay closed the session stream"
				 : "the connection to the relay broke");
		return;
	}
	{
		char msg[REASON_LEN];

		snprintf(msg, sizeof(msg), "the session stream failed: %s",
			 s->conn != NULL ? ll_tls_conn_error(s->conn)
					 : ll_strerror(r));
		teardown(s, LL_SESSION_END_ERROR, r, msg);
	}
}

/* --------------------------------------------------------- lifecycle */

static gboolean sio_dispatch(GSource *src, GSourceFunc cb, gpointer data);

static GSourceFuncs sio_funcs = {
	.dispatch = sio_dispatch,
};

static void sio_ref(struct ll_session_io *s)
{
	s->refs++;
}

static void sio_unref(struct ll_session_io *s)
{
	if (--s->refs > 0)
		return;
	bridges_free_all(s);
	ll_tls_conn_free(s->conn, true);
	if (s->src != NULL) {
		if (s->src_alive)
			g_source_destroy(s->src);
		g_source_unref(s->src);
	}
	ll_mux_free(s->mux);
	if (s->rbuf != NULL) {
		ll_wipe(s->rbuf, RBUF_CAP);
		free(s->rbuf);
	}
	ll_buf_free(s->ctrl_out);
	ll_buf_free(s->ctrl_in);
	free(s);
}

/* The GSource is done: stop it and drop the reference it stood for. */
static void source_retire(struct ll_session_io *s)
{
	if (!s->src_alive)
		return;
	s->src_alive = false;
	g_source_destroy(s->src);
	sio_unref(s);
}

int ll_session_io_new(struct ll_stream *stream,
		      const struct ll_session_io_opts *o,
		      const struct ll_session_io_cbs *cbs, void *user,
		      struct ll_session_io **out)
{
	struct ll_session_io_opts def;
	struct ll_mux_config mc;
	struct ll_session_io *s;
	int fd;

	if (stream == NULL || stream->conn == NULL || out == NULL ||
	    (fd = ll_tls_conn_fd(stream->conn)) < 0 ||
	    stream->extra_len > RBUF_CAP)
		return LL_ERR_INVALID_ARG;
	if (o == NULL) {
		ll_session_io_opts_default(&def);
		o = &def;
	}
	if (o->side != LL_SIDE_AGENT && o->side != LL_SIDE_APPLET)
		return LL_ERR_INVALID_ARG;
	ll_mux_config_default(&mc);
	mc.side = o->side;
	if (o->initial_window != 0)
		mc.initial_window = o->initial_window;
	if (o->out_max != 0)
		mc.out_max = o->out_max;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return LL_ERR_NOMEM;
	s->refs = 1;
	s->fd = -1;
	s->rtt_ms = -1;
	s->opts = *o;
	if ((s->mux = ll_mux_new(&mc)) == NULL) {
		free(s);
		return LL_ERR_INVALID_ARG; /* config outside the limits */
	}
	if ((s->rbuf = malloc(RBUF_CAP)) == NULL ||
	    (s->ctrl_out = ll_buf_new(LL_SESSION_CONTROL_QUEUE)) == NULL ||
	    (s->ctrl_in = ll_buf_new(CTRL_IN_MAX)) == NULL ||
	    (s->src = g_source_new(&sio_funcs, sizeof(struct sio_source))) ==
		    NULL) {
		sio_unref(s);
		return LL_ERR_NOMEM;
	}
	if (cbs != NULL)
		s->cbs = *cbs;
	s->user = user;
	((struct sio_source *)s->src)->s = s;
	g_source_set_name(s->src, "ll_session_io");
	/* GLib takes a source's fds out of the poll set around each of its
	 * dispatches unless it may recurse, and puts them back: two
	 * wake-ups of the loop (eventfd writes, and a read) per pass of a
	 * busy stream.  No callback runs a nested main loop (sio_dispatch
	 * refuses to be entered again). */
	g_source_set_can_recurse(s->src, TRUE);

	/* From here on nothing fails: take the stream over. */
	s->conn = stream->conn;
	s->fd = fd;
	set_nonblock(fd);
	{
		/* The kernel keeps at most this much unsent: the rest
		 * waits in the mux, where the screen and WINDOW frames can
		 * still go ahead of a file (out_has_room).  Best effort. */
		int lowat = (int)UNSENT_MAX;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat,
				 sizeof(lowat));
	}
	/* read_stream reads until WANT_READ (or comes back for more):
	 * what the read-ahead buffers is never left unseen */
	ll_tls_conn_read_ahead(s->conn, TLS_READ_AHEAD);
	if (ll_tls_conn_gather_writes(s->conn, TLS_GATHER) != LL_OK)
		ll_debug("session stream: records go out one by one");
	if (stream->extra_len > 0) {
		memcpy(s->rbuf, stream->extra, stream->extra_len);
		s->rlen = stream->extra_len;
		ll_wipe(stream->extra, stream->extra_len);
	}
	free(stream->extra);
	free(stream);

	if (o->hello_timeout_ms > 0)
		s->hello_deadline = g_get_monotonic_time() +
				    (gint64)o->hello_timeout_ms * 1000;
	s->state = LL_SESSION_IO_HANDSHAKE;
	s->tag = g_source_add_unix_fd(s->src, fd, G_IO_IN);
	s->watched = G_IO_IN;
	s->src_alive = true;
	s->refs++; /* the "alive" reference, dropped by source_retire */
	g_source_attach(s->src, o->context);
	/* Our HELLO is queued and extra bytes may wait: go at once. */
	wake(s);
	*out = s;
	return LL_OK;
}

void ll_session_io_free(struct ll_session_io *s)
{
	if (s == NULL || s->detached)
		return;
	s->detached = true;
	memset(&s->cbs, 0, sizeof(s->cbs));
	s->user = NULL;
	if (s->state == LL_SESSION_IO_HANDSHAKE ||
	    s->state == LL_SESSION_IO_READY)
		teardown(s, LL_SESSION_END_ERROR, LL_ERR_CLOSED,
			 "the session was closed");
	if (s->state == LL_SESSION_IO_CLOSED && s->in_dispatch == 0)
		source_retire(s);
	sio_unref(s);
}

enum ll_session_io_state ll_session_io_get_state(const struct ll_session_io *s)
{
	return s->state;
}

enum ll_side ll_session_io_side(const struct ll_session_io *s)
{
	return s->opts.side;
}

bool ll_session_io_stalled(const struct ll_session_io *s)
{
	return s->stalled;
}

int64_t ll_session_io_rtt_ms(const struct ll_session_io *s)
{
	return s->rtt_ms;
}

bool ll_session_io_screen_live(const struct ll_session_io *s)
{
	return s->mux != NULL && ll_mux_is_open(s->mux, LL_MUX_CHANNEL_RFB);
}

uint64_t ll_session_io_bytes_in(const struct ll_session_io *s)
{
	return s->bytes_in;
}

uint64_t ll_session_io_bytes_out(const struct ll_session_io *s)
{
	return s->bytes_out;
}

size_t ll_session_io_buffered(const struct ll_session_io *s)
{
	const struct bridge *b;
	size_t n = s->rlen + ll_buf_len(s->ctrl_out) + ll_buf_len(s->ctrl_in);

	if (s->mux != NULL)
		n += ll_buf_len(ll_mux_out(s->mux));
	for (b = s->bridges; b != NULL; b = b->next)
		n += b->olen + b->ohold + b->ilen + b->ihold_len;
	return n;
}

/* ------------------------------------------------------------ requests */

static bool is_open_state(const struct ll_session_io *s)
{
	return s->state == LL_SESSION_IO_HANDSHAKE ||
	       s->state == LL_SESSION_IO_READY;
}

int ll_session_io_send_control(struct ll_session_io *s,
			       const struct ll_control_msg *msg)
{
	int r;

	if (s == NULL || msg == NULL)
		return LL_ERR_INVALID_ARG;
	if (!is_open_state(s))
		return LL_ERR_CLOSED;
	if ((r = ll_control_encode(msg, s->ctrl_out)) != 0)
		return r;
	wake(s);
	return LL_OK;
}

static void pump_control(struct ll_session_io *s);

int ll_session_io_channel_open(struct ll_session_io *s, uint16_t channel)
{
	int r;

	if (s == NULL)
		return LL_ERR_INVALID_ARG;
	if (!is_open_state(s))
		return LL_ERR_CLOSED;
	/* what was said before goes first: an open must not overtake the
	 * control message that allows it (the grant after a reconnect) */
	pump_control(s);
	if (!is_open_state(s))
		return LL_ERR_CLOSED;
	if ((r = ll_mux_open(s->mux, channel)) == 0)
		wake(s);
	return r;
}

int ll_session_io_channel_open_next(struct ll_session_io *s, uint16_t *channel)
{
	int r;

	if (s == NULL || channel == NULL)
		return LL_ERR_INVALID_ARG;
	if (!is_open_state(s))
		return LL_ERR_CLOSED;
	pump_control(s); /* as ll_session_io_channel_open */
	if (!is_open_state(s))
		return LL_ERR_CLOSED;
	if ((r = ll_mux_open_next(s->mux, channel)) == 0)
		wake(s);
	return r;
}

static bool gone(const struct ll_session_io *s);

void ll_session_io_channel_keep(struct ll_session_io *s)
{
	s->keep = true;
}

int ll_session_io_channel_consume(struct ll_session_io *s, uint16_t channel,
				  size_t n)
{
	int r;

	if (gone(s))
		return LL_ERR_CLOSED;
	/* a WINDOW frame may be queued: the pump writes it */
	r = ll_mux_consume(s->mux, channel, n);
	wake(s);
	return r;
}

int ll_session_io_channel_widen(struct ll_session_io *s, uint16_t channel,
				uint32_t window)
{
	struct bridge *b;
	int r;

	if (s == NULL || channel == LL_MUX_CHANNEL_CONTROL)
		return LL_ERR_INVALID_ARG;
	if (!is_open_state(s))
		return LL_ERR_CLOSED;
	/* A bridge holds up to one window: its buffer is sized on demand
	 * (bridge_input), so only a buffer already made is in the way. */
	if ((b = bridge_find(s, channel)) != NULL && b->icap != 0)
		return LL_ERR_CONFLICT;
	if ((r = ll_mux_widen(s->mux, channel, window)) == 0)
		wake(s);
	return r;
}

int ll_session_io_channel_close(struct ll_session_io *s, uint16_t channel)
{
	struct bridge *b;
	int r;

	if (s == NULL || channel == LL_MUX_CHANNEL_CONTROL)
		return LL_ERR_INVALID_ARG;
	if (!is_open_state(s))
		return LL_ERR_CLOSED;
	/* what was said before goes first: a close must not overtake the
	 * control message that explains it (a file_cancel: without it the
	 * receiver takes the close for a lost sender and waits to resume) */
	pump_control(s);
	if (!is_open_state(s))
		return LL_ERR_CLOSED;
	if ((b = bridge_find(s, channel)) != NULL)
		bridge_free(s, b);
	if ((r = ll_mux_close(s->mux, channel)) == 0)
		wake(s);
	return r;
}

int ll_session_io_bridge(struct ll_session_io *s, uint16_t channel, int fd)
{
	return ll_session_io_bridge_filtered(s, channel, fd, NULL);
}

/*
 * A new bridge on channel, first in the list, fed by nothing yet (fd -1,
 * no source): the caller says from where, then wakes the pump.  The
 * checks both kinds of bridge share.
 */
static int bridge_add(struct ll_session_io *s, uint16_t channel,
		      struct bridge **out)
{
	struct bridge *b;

	if (!is_open_state(s))
		return LL_ERR_CLOSED;
	if (!ll_mux_is_open(s->mux, channel))
		return LL_ERR_NOT_FOUND;
	if (bridge_find(s, channel) != NULL)
		return LL_ERR_CONFLICT;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return LL_ERR_NOMEM;
	if ((b->obuf = malloc(BRIDGE_CHUNK)) == NULL) {
		free(b);
		return LL_ERR_NOMEM;
	}
	b->channel = channel;
	b->fd = -1;
	b->next = s->bridges;
	s->bridges = b;
	*out = b;
	return LL_OK;
}

int ll_session_io_bridge_filtered(struct ll_session_io *s, uint16_t channel,
				  int fd,
				  const struct ll_session_io_filter *filter)
{
	struct bridge *b;
	int r;

	if (s == NULL || channel == LL_MUX_CHANNEL_CONTROL || fd < 0)
		return LL_ERR_INVALID_ARG;
	if ((r = bridge_add(s, channel, &b)) != LL_OK)
		return r;
	b->fd = fd;
	if (filter != NULL)
		b->filter = *filter;
	set_nonblock(fd);
	b->tag = g_source_add_unix_fd(s->src, fd, 0);
	b->watched = 0;
	wake(s);
	return LL_OK;
}

int ll_session_io_bridge_source(struct ll_session_io *s, uint16_t channel,
				const struct ll_session_io_source *src)
{
	struct bridge *b;
	int r;

	if (s == NULL || channel == LL_MUX_CHANNEL_CONTROL || src == NULL ||
	    src->read == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = bridge_add(s, channel, &b)) != LL_OK)
		return r;
	b->source = *src;
	wake(s);
	return LL_OK;
}

int ll_session_io_end(struct ll_session_io *s, const char *reason)
{
	struct ll_control_msg m;
	size_t len;

	if (s == NULL || reason == NULL)
		return LL_ERR_INVALID_ARG;
	len = strlen(reason);
	if (len == 0 || len > LL_CONTROL_MAX_STRING)
		return LL_ERR_INVALID_ARG;
	if (!is_open_state(s))
		return LL_ERR_CLOSED;
	if (s->state == LL_SESSION_IO_READY) {
		memset(&m, 0, sizeof(m));
		m.type = LL_CONTROL_END;
		m.u.end.reason = (char *)reason;
		/* A full queue still ends the session: the peer then learns
		 * of it from the closed stream. */
		(void)ll_control_encode(&m, s->ctrl_out);
	}
	begin_ending(s, LL_SESSION_END_LOCAL, LL_OK, reason);
	return LL_OK;
}

void ll_session_io_close(struct ll_session_io *s, const char *reason)
{
	if (s == NULL || s->state == LL_SESSION_IO_CLOSED)
		return;
	teardown(s, LL_SESSION_END_ERROR, LL_ERR_CLOSED,
		 reason != NULL ? reason : "the session was closed");
}

/* True when the application may no longer be called (freed, or the
 * session was closed from inside a callback). */
static bool gone(const struct ll_session_io *s)
{
	return s->detached || s->state != LL_SESSION_IO_READY;
}

/* ---------------------------------------------------------------- input */

/* Channel bytes for a bridge: written now as far as the fd takes them,
 * the rest kept (unconsumed, so the peer's credit stays taken). */
static void bridge_input(struct ll_session_io *s, struct bridge *b,
			 const uint8_t *data, size_t len)
{
	size_t done = 0;
	ssize_t n;

	/* A source's channel carries nothing our way: what a peer sends
	 * there anyway is dropped unconsumed, so at most one window. */
	if (b->source.read != NULL)
		return;
	if (b->ilen == 0 && b->fd >= 0) {
		while (done < len) {
			n = write(b->fd, data + done, len - done);
			if (n > 0) {
				done += (size_t)n;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		if (done > 0 && ll_mux_consume(s->mux, b->channel, done) != 0)
			return;
	}
	if (done == len)
		return;
	if (b->icap == 0) {
		/* At most one window is ever unconsumed. */
		b->icap = ll_mux_window(s->mux, b->channel);
		if ((b->ibuf = malloc(b->icap)) == NULL) {
			b->icap = 0;
			fail(s, LL_ERR_NOMEM, "out of memory");
			return;
		}
	}
	if (b->ioff + b->ilen + (len - done) > b->icap) {
		memmove(b->ibuf, b->ibuf + b->ioff, b->ilen);
		b->ioff = 0;
	}
	if (b->ilen + (len - done) > b->icap) {
		/* The mux enforces credit, so this is a bug. */
		fail(s, LL_ERR_INTERNAL, "bridge buffer overflow");
		return;
	}
	memcpy(b->ibuf + b->ioff + b->ilen, data + done, len - done);
	b->ilen += len - done;
}

/*
 * A filter's verdict (ll_session_io_filter): true to go on; otherwise the
 * peer hears why (ERROR frame) and the session fails, which frees every
 * bridge.
 */
static bool filter_ok(struct ll_session_io *s, int r, size_t len, size_t pass,
		      char *why)
{
	if (r == LL_OK && pass <= len && len - pass < LL_SESSION_FILTER_HOLD)
		return true;
	if (r >= 0) {
		r = LL_ERR_INTERNAL;
		snprintf(why, REASON_LEN,
			 "a bridge filter held back too much");
	} else if (why[0] == '\0') {
		snprintf(why, REASON_LEN, "%s", ll_strerror(r));
	}
	(void)ll_mux_fail(s->mux, r, why);
	fail(s, r, "%s", why);
	return false;
}

/*
 * Channel bytes for a bridge, through its filter when it has one: what
 * the filter passes goes to bridge_input, an incomplete item it holds
 * back waits in ihold (not consumed) for the bytes that complete it.
 */
static void bridge_data(struct ll_session_io *s, struct bridge *b,
			const uint8_t *data, size_t len)
{
	char why[REASON_LEN];
	unsigned gen = s->bridge_gen;
	size_t take, pass;
	int r;

	if (b->filter.in == NULL) {
		bridge_input(s, b, data, len);
		return;
	}
	while (len > 0) {
		if (b->ihold_len == 0) {
			pass = len;
			why[0] = '\0';
			r = b->filter.in(data, len, &pass, why, sizeof(why),
					 b->filter.user);
			why[sizeof(why) - 1] = '\0';
			if (!filter_ok(s, r, len, pass, why))
				return;
			if (pass > 0) {
				bridge_input(s, b, data, pass);
				if (s->bridge_gen != gen || !is_open_state(s))
					return;
			}
			memcpy(b->ihold, data + pass, len - pass);
			b->ihold_len = len - pass;
			return;
		}
		take = sizeof(b->ihold) - b->ihold_len;
		if (take > len)
			take = len;
		memcpy(b->ihold + b->ihold_len, data, take);
		b->ihold_len += take;
		data += take;
		len -= take;
		pass = b->ihold_len;
		why[0] = '\0';
		r = b->filter.in(b->ihold, b->ihold_len, &pass, why,
				 sizeof(why), b->filter.user);
		why[sizeof(why) - 1] = '\0';
		if (!filter_ok(s, r, b->ihold_len, pass, why))
			return;
		if (pass > 0) {
			bridge_input(s, b, b->ihold, pass);
			if (s->bridge_gen != gen || !is_open_state(s))
				return;
			memmove(b->ihold, b->ihold + pass,
				b->ihold_len - pass);
			b->ihold_len -= pass;
		}
	}
}

/* Complete control messages out of ctrl_in, one callback each. */
/* The answer to our last ping: its round trip (through the relay, and
 * behind whatever the stream had queued, which is what the picture
 * waits for too).  An answer to an older ping is not timed. */
static void note_pong(struct ll_session_io *s, uint32_t seq)
{
	if (s->ping_sent == 0 || seq + 1 != s->ping_seq)
		return;
	s->rtt_ms = (g_get_monotonic_time() - s->ping_sent) / 1000;
	s->ping_sent = 0;
}

static void control_input(struct ll_session_io *s, const uint8_t *data,
			  size_t len)
{
	struct ll_control_msg *msg;
	char errs[LL_CONTROL_ERR_LEN] = "";
	int n, r;

	if ((r = ll_buf_put(s->ctrl_in, data, len)) != 0) {
		ll_mux_fail(s->mux, LL_ERR_TOO_LARGE,
			    "control message too large");
		fail(s, LL_ERR_TOO_LARGE,
		     "the other side sent a control message that is too "
		     "large");
		return;
	}
	if ((r = ll_mux_consume(s->mux, LL_MUX_CHANNEL_CONTROL, len)) != 0) {
		fail(s, r, "flow control failed: %s", ll_strerror(r));
		return;
	}
	while (!gone(s)) {
		msg = NULL;
		n = ll_control_decode(ll_buf_data(s->ctrl_in),
				      ll_buf_len(s->ctrl_in), &msg, errs,
				      sizeof(errs));
		if (n == 0)
			return;
		if (n < 0) {
			ll_mux_fail(s->mux, n, "malformed control message");
			fail(s, n,
			     "the other side sent a malformed control "
			     "message: %s",
			     errs[0] != '\0' ? errs : ll_strerror(n));
			return;
		}
		ll_buf_consume(s->ctrl_in, (size_t)n);
		if (msg->type == LL_CONTROL_PING ||
		    msg->type == LL_CONTROL_PONG) {
			/* Liveness is the pump's own business; a full
			 * queue is no reason to end (the reading itself
			 * was the sign of life). */
			if (msg->type == LL_CONTROL_PING) {
				msg->type = LL_CONTROL_PONG;
				(void)ll_control_encode(msg, s->ctrl_out);
			} else {
				note_pong(s, msg->u.ping.seq);
			}
			ll_control_msg_free(msg);
			continue;
		}
		if (msg->type == LL_CONTROL_END) {
			s->peer_said_end = true;
			set_reason(s->peer_reason, msg->u.end.reason,
				   strlen(msg->u.end.reason));
		}
		if (s->cbs.on_control != NULL)
			s->cbs.on_control(s, msg, s->user);
		ll_control_msg_free(msg);
		if (s->peer_said_end && s->state == LL_SESSION_IO_READY) {
			/* The other side is leaving: close our end too. */
			begin_ending(s, LL_SESSION_END_PEER, LL_OK,
				     s->peer_reason);
			return;
		}
	}
}

static void handle_event(struct ll_session_io *s,
			 const struct ll_mux_event *ev)
{
	struct bridge *b;
	char reason[REASON_LEN];

	switch (ev->type) {
	case LL_MUX_EV_HELLO:
		if (s->state == LL_SESSION_IO_HANDSHAKE) {
			s->state = LL_SESSION_IO_READY;
			s->hello_deadline = 0;
			s->last_life = g_get_monotonic_time();
			s->next_ping = s->last_life;
			if (s->cbs.on_ready != NULL)
				s->cbs.on_ready(s, s->user);
		}
		break;
	case LL_MUX_EV_OPEN:
		if (s->cbs.on_channel_open != NULL)
			s->cbs.on_channel_open(s, ev->channel, s->user);
		break;
	case LL_MUX_EV_DATA:
		if (ev->channel == LL_MUX_CHANNEL_CONTROL) {
			control_input(s, ev->u.data.data, ev->u.data.len);
		} else if ((b = bridge_find(s, ev->channel)) != NULL) {
			bridge_data(s, b, ev->u.data.data, ev->u.data.len);
		} else {
			s->keep = false;
			if (s->cbs.on_channel_data != NULL)
				s->cbs.on_channel_data(s, ev->channel,
						       ev->u.data.data,
						       ev->u.data.len,
						       s->user);
			if (!gone(s) && !s->keep)
				(void)ll_mux_consume(s->mux, ev->channel,
						     ev->u.data.len);
			s->keep = false;
		}
		break;
	case LL_MUX_EV_WINDOW:
		break; /* the watches are recomputed after the dispatch */
	case LL_MUX_EV_CLOSE:
		if ((b = bridge_find(s, ev->channel)) != NULL) {
			/* Write what came before the CLOSE, then close. */
			b->peer_closed = true;
			b->fd_eof = true;
			b->olen = 0;
			if (b->ilen == 0)
				bridge_free(s, b);
		}
		if (s->cbs.on_channel_close != NULL)
			s->cbs.on_channel_close(s, ev->channel, s->user);
		break;
	case LL_MUX_EV_ERROR:
		set_reason(reason, ev->u.error.reason, ev->u.error.reason_len);
		{
			char msg[REASON_LEN + 64];

			snprintf(msg, sizeof(msg),
				 "the other side ended the session with an "
				 "error: %s",
				 reason);
			teardown(s, LL_SESSION_END_ERROR,
				 ev->u.error.err < 0 ? ev->u.error.err
						     : LL_ERR_PROTOCOL,
				 msg);
		}
		break;
	case LL_MUX_EV_NONE:
		break;
	}
}

/* Feeds whole frames out of rbuf to the mux. */
static void feed(struct ll_session_io *s)
{
	struct ll_mux_event ev;
	size_t off = 0;
	int n;

	while (off < s->rlen && is_open_state(s) && !s->detached) {
		memset(&ev, 0, sizeof(ev));
		n = ll_mux_feed(s->mux, s->rbuf + off, s->rlen - off, &ev);
		if (n == 0)
			break;
		if (n < 0) {
			/* The mux queued an ERROR frame for the peer. */
			fail(s, n, "the session broke: %s",
			     ll_mux_error(s->mux));
			break;
		}
		off += (size_t)n;
		handle_event(s, &ev);
	}
	if (s->state == LL_SESSION_IO_CLOSED) {
		s->rlen = 0;
		return;
	}
	if (off > 0) {
		memmove(s->rbuf, s->rbuf + off, s->rlen - off);
		s->rlen -= off;
	}
}

static int opt_ms(int v, int def)
{
	return v != 0 ? v : def;
}

/* A byte came: the stream lives.  May call on_stall(false). */
static void life(struct ll_session_io *s)
{
	s->last_life = g_get_monotonic_time();
	if (!s->stalled)
		return;
	s->stalled = false;
	if (!s->detached && s->cbs.on_stall != NULL)
		s->cbs.on_stall(s, false, s->user);
}

/*
 * Liveness once READY: a ping when one is due, then the verdict on the
 * silence so far.  Time itself is what this judges, so it runs from the
 * dispatch whatever woke it (update_watches sets the next deadline).
 */
static void run_liveness(struct ll_session_io *s)
{
	gint64 now = g_get_monotonic_time(), quiet;
	int dead = opt_ms(s->opts.dead_ms, LL_SESSION_DEAD_MS);
	struct ll_control_msg m;
	char msg[REASON_LEN];

	if (s->state != LL_SESSION_IO_READY || s->detached)
		return;
	if (now >= s->next_ping) {
		memset(&m, 0, sizeof(m));
		m.type = LL_CONTROL_PING;
		m.u.ping.seq = s->ping_seq++;
		s->ping_sent = now;
		/* A full queue already says plenty to the peer. */
		(void)ll_control_encode(&m, s->ctrl_out);
		s->next_ping = now + (gint64)opt_ms(s->opts.ping_interval_ms,
						    LL_SESSION_PING_MS) *
					     1000;
	}
	quiet = now - s->last_life;
	if (dead > 0 && quiet >= (gint64)dead * 1000) {
		snprintf(msg, sizeof(msg),
			 "no sign of life from the other side for %d s",
			 (int)(quiet / 1000000));
		teardown(s, LL_SESSION_END_SILENT, LL_OK, msg);
		return;
	}
	if (!s->stalled &&
	    quiet >= (gint64)opt_ms(s->opts.stall_ms, LL_SESSION_STALL_MS) *
			     1000) {
		s->stalled = true;
		if (s->cbs.on_stall != NULL)
			s->cbs.on_stall(s, true, s->user);
	}
}

/* When run_liveness has something to do next (monotonic us). */
static gint64 liveness_deadline(const struct ll_session_io *s)
{
	gint64 t = s->next_ping;
	int dead = opt_ms(s->opts.dead_ms, LL_SESSION_DEAD_MS);
	gint64 d;

	if (!s->stalled) {
		d = s->last_life +
		    (gint64)opt_ms(s->opts.stall_ms, LL_SESSION_STALL_MS) *
			    1000;
		if (d < t)
			t = d;
	}
	if (dead > 0) {
		d = s->last_life + (gint64)dead * 1000;
		if (d < t)
			t = d;
	}
	return t;
}

static void read_stream(struct ll_session_io *s)
{
	size_t total = 0, n;
	int r;

	s->tls_want_write = false;
	while (is_open_state(s) && !s->detached) {
		if (total >= READ_BUDGET) {
			s->wake = true; /* more may be there: come back */
			return;
		}
		r = ll_tls_conn_read(s->conn, s->rbuf + s->rlen,
				     RBUF_CAP - s->rlen, &n);
		if (r == LL_ERR_WANT_READ)
			return;
		if (r == LL_ERR_WANT_WRITE) {
			s->tls_want_write = true;
			return;
		}
		if (r != LL_OK) {
			lost(s, r);
			return;
		}
		s->rlen += n;
		s->bytes_in += n;
		total += n;
		if (n > 0)
			life(s);
		if (s->detached || !is_open_state(s))
			return;
		feed(s);
		if (s->rlen == RBUF_CAP) {
			/* Cannot happen with frames capped at half of it. */
			fail(s, LL_ERR_INTERNAL, "read buffer full");
			return;
		}
	}
}

/* ------------------------------------------------------ bridges' turn */

/* Writes held channel bytes to the fd; closes once drained after the
 * peer's CLOSE.  Returns false when the bridge was freed. */
static bool bridge_flush_in(struct ll_session_io *s, struct bridge *b)
{
	ssize_t n;
	size_t done = 0;

	while (b->ilen > 0) {
		n = write(b->fd, b->ibuf + b->ioff, b->ilen);
		if (n > 0) {
			b->ioff += (size_t)n;
			b->ilen -= (size_t)n;
			done += (size_t)n;
			continue;
		}
		if (n < 0 && want_retry(errno))
			break;
		/* The local reader is gone: the channel is over. */
		if (!b->peer_closed) {
			uint16_t ch = b->channel;

			bridge_free(s, b);
			(void)ll_mux_close(s->mux, ch);
			if (s->cbs.on_channel_close != NULL)
				s->cbs.on_channel_close(s, ch, s->user);
		} else {
			bridge_free(s, b);
		}
		return false;
	}
	if (b->ilen == 0)
		b->ioff = 0;
	if (done > 0 && !b->peer_closed)
		(void)ll_mux_consume(s->mux, b->channel, done);
	if (b->peer_closed && b->ilen == 0) {
		bridge_free(s, b);
		return false;
	}
	return true;
}

/*
 * Room in the mux for a bridge's bytes.  Leave half the buffer for
 * control and WINDOW frames.  Bulk channels (files) stop at BULK_QUEUE:
 * the screen and the frames that pace it (WINDOW, control) queue behind
 * at most that much of a file, never behind a whole buffer of it.
 */
static bool out_has_room(struct ll_session_io *s, uint16_t channel)
{
	struct ll_buf *o = ll_mux_out(s->mux);
	size_t cap = ll_buf_max(o) / 2;

	if (channel != LL_MUX_CHANNEL_RFB && cap > BULK_QUEUE)
		cap = BULK_QUEUE;
	return ll_buf_len(o) < cap;
}

/* Moves read bytes into the mux as far as credit allows; on EOF with
 * nothing left, closes the channel.  false when the bridge was freed. */
static bool bridge_pump_out(struct ll_session_io *s, struct bridge *b)
{
	size_t taken = 0;
	uint16_t ch;
	int r;

	if (b->olen > 0 && out_has_room(s, b->channel)) {
		r = ll_mux_send(s->mux, b->channel, b->obuf + b->ooff, b->olen,
				&taken);
		if (r != 0) {
			fail(s, r, "sending on channel %u failed: %s",
			     b->channel, ll_strerror(r));
			return true;
		}
		b->ooff += taken;
		b->olen -= taken;
		if (b->olen == 0)
			b->ooff = 0;
	}
	if (b->fd_eof && b->olen == 0 && !b->peer_closed && !b->stopped) {
		ch = b->channel;
		bridge_free(s, b);
		(void)ll_mux_close(s->mux, ch);
		if (s->cbs.on_channel_close != NULL)
			s->cbs.on_channel_close(s, ch, s->user);
		return false;
	}
	return true;
}

static bool bridge_can_read(struct ll_session_io *s, struct bridge *b)
{
	return s->state == LL_SESSION_IO_READY && !b->fd_eof && b->olen == 0 &&
	       ll_mux_credit(s->mux, b->channel) > 0 &&
	       out_has_room(s, b->channel);
}

/* Reads from fd behind what filter.out held back, and lets the filter
 * judge (and possibly rewrite) the lot.  The session may fail inside. */
static void bridge_read(struct ll_session_io *s, struct bridge *b)
{
	size_t want, total, pass;
	uint32_t credit = ll_mux_credit(s->mux, b->channel);
	char why[REASON_LEN];
	ssize_t n;
	int r;

	if (b->ohold > 0 && b->hoff > 0)
		memmove(b->obuf, b->obuf + b->hoff, b->ohold);
	b->hoff = 0;
	want = BRIDGE_CHUNK - b->ohold;
	if (credit < want)
		want = credit;
	if (b->source.read != NULL && !b->stopped) {
		unsigned gen = s->bridge_gen;

		n = b->source.read(b->source.user, b->obuf + b->ohold, want);
		if (s->bridge_gen != gen)
			return; /* it closed the channel: b is gone */
		if (n < 0) {
			/* stopped: never read again, nor closed by us */
			b->fd_eof = true;
			b->stopped = true;
			return;
		}
		if ((size_t)n > want)
			n = 0; /* a broken source: end the channel */
	} else {
		n = read(b->fd, b->obuf + b->ohold, want);
	}
	if (n > 0) {
		total = b->ohold + (size_t)n;
		pass = total;
		if (b->filter.out != NULL) {
			why[0] = '\0';
			r = b->filter.out(b->obuf, total, &pass, why,
					  sizeof(why), b->filter.user);
			why[sizeof(why) - 1] = '\0';
			if (!filter_ok(s, r, total, pass, why))
				return;
		}
		b->ooff = 0;
		b->olen = pass;
		b->hoff = pass;
		b->ohold = total - pass;
	} else if (n == 0 || !want_retry(errno)) {
		b->fd_eof = true;
	}
}

/*
 * One pass over the bridges.  Callbacks inside may free any bridge, so
 * the walk starts over whenever one went away (each step is idempotent).
 */
static void run_bridges(struct ll_session_io *s)
{
	struct bridge *b;
	GIOCondition rev;
	unsigned gen;
	size_t got;

again:
	gen = s->bridge_gen;
	for (b = s->bridges; b != NULL && !gone(s); b = b->next) {
		rev = b->tag != NULL ? g_source_query_unix_fd(s->src, b->tag)
				     : 0;
		if ((rev & (G_IO_HUP | G_IO_ERR)) != 0 && b->tag != NULL) {
			g_source_remove_unix_fd(s->src, b->tag);
			b->tag = NULL;
			b->hup = true;
		}
		if (b->ilen > 0)
			bridge_flush_in(s, b);
		if (s->bridge_gen != gen)
			goto again;
		bridge_pump_out(s, b);
		if (s->bridge_gen != gen)
			goto again;
		if (gone(s))
			break;
		if ((rev & G_IO_IN) == 0 && !b->hup &&
		    (b->source.read == NULL || b->stopped))
			continue;
		/* Chunk after chunk: a screen update larger than one
		 * chunk goes out in this dispatch, not one per wake-up
		 * behind a megabyte of the stream's input each time. */
		for (got = 0; got < BRIDGE_BUDGET && bridge_can_read(s, b);) {
			bridge_read(s, b);
			if (s->bridge_gen != gen)
				goto again;
			if (b->olen == 0)
				break; /* nothing there (or held back) */
			got += b->olen;
			bridge_pump_out(s, b);
			if (s->bridge_gen != gen)
				goto again;
		}
	}
}

/* --------------------------------------------------------------- output */

static void pump_control(struct ll_session_io *s)
{
	size_t taken = 0;
	int r;

	if (ll_buf_len(s->ctrl_out) == 0 ||
	    (s->state != LL_SESSION_IO_READY &&
	     s->state != LL_SESSION_IO_ENDING) ||
	    ll_mux_dead(s->mux))
		return;
	r = ll_mux_send(s->mux, LL_MUX_CHANNEL_CONTROL,
			ll_buf_data(s->ctrl_out), ll_buf_len(s->ctrl_out),
			&taken);
	if (r != 0) {
		fail(s, r, "sending a control message failed: %s",
		     ll_strerror(r));
		return;
	}
	ll_buf_consume(s->ctrl_out, taken);
}

/* Writes what the mux holds; returns an error only for a dead stream. */
static int write_stream(struct ll_session_io *s)
{
	struct ll_buf *o = ll_mux_out(s->mux);
	size_t n;
	int r;

	if ((r = ll_tls_conn_flush(s->conn)) != LL_OK)
		return r == LL_ERR_WANT_WRITE ? LL_OK : r;
	while (ll_buf_len(o) > 0) {
		r = ll_tls_conn_write(s->conn, ll_buf_data(o), ll_buf_len(o),
				      &n);
		if (r == LL_ERR_WANT_WRITE || r == LL_ERR_WANT_READ)
			return LL_OK;
		if (r != LL_OK)
			return r;
		ll_buf_consume(o, n);
		s->bytes_out += n;
	}
	return LL_OK;
}

/* ----------------------------------------------------------------- ending */

static void run_ending(struct ll_session_io *s)
{
	uint8_t junk[4096];
	size_t n;
	int r;

	if (g_get_monotonic_time() >= s->end_deadline) {
		teardown(s, s->why, s->end_err, s->reason);
		return;
	}
	if (s->end_step == END_FLUSH) {
		/* The control queue was pumped before: when the mux holds
		 * nothing more, the stream carried all we meant to say. */
		if (ll_buf_len(ll_mux_out(s->mux)) > 0 ||
		    ll_tls_conn_unsent(s->conn) > 0)
			return;
		if (ll_buf_len(s->ctrl_out) > 0 && !ll_mux_dead(s->mux) &&
		    ll_mux_credit(s->mux, LL_MUX_CHANNEL_CONTROL) > 0)
			return;
		s->end_step = END_SHUTDOWN;
	}
	if (s->end_step == END_SHUTDOWN) {
		r = ll_tls_conn_shutdown(s->conn);
		if (r == LL_ERR_WANT_WRITE) {
			s->tls_want_write = true;
			return;
		}
		s->tls_want_write = false;
		shutdown(s->fd, SHUT_WR);
		s->end_step = END_DRAIN;
	}
	/* Read (and drop) until the relay closes: closing with unread
	 * bytes would reset the connection and could lose our last words. */
	for (;;) {
		r = ll_tls_conn_read(s->conn, junk, sizeof(junk), &n);
		if (r == LL_OK)
			continue;
		if (r == LL_ERR_WANT_READ || r == LL_ERR_WANT_WRITE)
			return;
		teardown(s, s->why, s->end_err, s->reason);
		return;
	}
}

/* ------------------------------------------------------------- dispatch */

/*
 * GLib wakes the loop (an eventfd written, then read) at every
 * g_source_modify_unix_fd, changed or not, and at every new ready time:
 * done after each dispatch, that was three more system calls a pass of
 * a busy stream.  So a watch changes only when it differs, and a later
 * deadline waits for the earlier one already set, whose dispatch (which
 * only finds nothing due) sets it again.
 */
static void watch_fd(struct ll_session_io *s, gpointer tag,
		     GIOCondition *watched, GIOCondition c)
{
	if (c == *watched)
		return;
	*watched = c;
	g_source_modify_unix_fd(s->src, tag, c);
}

static void set_ready(struct ll_session_io *s, gint64 ready)
{
	gint64 cur = g_source_get_ready_time(s->src);

	if (ready == cur)
		return;
	if (cur > 0 && (ready < 0 || cur < ready) &&
	    cur > g_get_monotonic_time())
		return;
	g_source_set_ready_time(s->src, ready);
}

static void update_watches(struct ll_session_io *s)
{
	struct bridge *b;
	GIOCondition c;
	gint64 ready = -1;

	if (!s->src_alive)
		return;
	if (s->tag != NULL) {
		/* While flushing an ending, input is ignored: do not poll
		 * for it (it would wake us for nothing). */
		c = s->state == LL_SESSION_IO_ENDING &&
				    s->end_step != END_DRAIN
			    ? 0
			    : G_IO_IN;
		if ((s->mux != NULL && ll_buf_len(ll_mux_out(s->mux)) > 0) ||
		    ll_tls_conn_unsent(s->conn) > 0 || s->tls_want_write)
			c |= G_IO_OUT;
		watch_fd(s, s->tag, &s->watched, c);
	}
	for (b = s->bridges; b != NULL; b = b->next) {
		/* a source is always readable: run again while it may */
		if (b->source.read != NULL && !b->stopped &&
		    bridge_can_read(s, b))
			s->wake = true;
		if (b->tag == NULL)
			continue;
		c = 0;
		if (bridge_can_read(s, b))
			c |= G_IO_IN;
		if (b->ilen > 0)
			c |= G_IO_OUT;
		watch_fd(s, b->tag, &b->watched, c);
	}
	/* Bytes read from a bridge and waiting only for credit or room
	 * are retried when those come (a WINDOW frame, a write). */
	if (s->wake || s->closed_pending)
		ready = 0;
	else if (s->state == LL_SESSION_IO_ENDING)
		ready = s->end_deadline;
	else if (s->state == LL_SESSION_IO_HANDSHAKE && s->hello_deadline > 0)
		ready = s->hello_deadline;
	else if (s->state == LL_SESSION_IO_READY && !s->detached)
		ready = liveness_deadline(s);
	set_ready(s, ready);
}

static void deliver_closed(struct ll_session_io *s)
{
	if (!s->closed_pending)
		return;
	s->closed_pending = false;
	if (!s->detached && s->cbs.on_closed != NULL)
		s->cbs.on_closed(s, s->why, s->end_err, s->reason, s->user);
	source_retire(s);
}

static gboolean sio_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
	struct ll_session_io *s = ((struct sio_source *)src)->s;
	int r;

	if (s->in_dispatch > 0) {
		struct bridge *b;

		/* A callback of ours runs a nested main loop: not allowed,
		 * and not entered (can_recurse above).  Quiet until the
		 * outer dispatch ends, whose update_watches sets all again:
		 * a ready fd would spin that loop. */
		g_critical("session stream: a nested main loop in its "
			   "callback");
		if (s->tag != NULL)
			watch_fd(s, s->tag, &s->watched, 0);
		for (b = s->bridges; b != NULL; b = b->next)
			if (b->tag != NULL)
				watch_fd(s, b->tag, &b->watched, 0);
		g_source_set_ready_time(s->src, -1);
		return G_SOURCE_CONTINUE;
	}
	sio_ref(s);
	s->in_dispatch++;
	s->wake = false;

	if (s->state == LL_SESSION_IO_HANDSHAKE && s->hello_deadline > 0 &&
	    g_get_monotonic_time() >= s->hello_deadline)
		fail(s, LL_ERR_TIMEOUT,
		     "the other side did not start the session in time");
	if (is_open_state(s)) {
		/* Always try: TLS may hold decrypted bytes the poll cannot
		 * see, and a spare read costs one EAGAIN. */
		if (s->rlen > 0)
			feed(s);
		if (is_open_state(s))
			read_stream(s);
	}
	if (is_open_state(s) && !s->detached)
		run_bridges(s);
	run_liveness(s);
	if (s->state == LL_SESSION_IO_READY ||
	    s->state == LL_SESSION_IO_ENDING)
		pump_control(s);
	if (s->conn != NULL && s->state != LL_SESSION_IO_CLOSED &&
	    !(s->state == LL_SESSION_IO_ENDING && s->end_step == END_DRAIN)) {
		if ((r = write_stream(s)) != 0)
			lost(s, r);
	}
	/* Writing freed room in the mux: bridges may move again. */
	if (s->state == LL_SESSION_IO_READY && !s->detached) {
		struct bridge *b;
		unsigned gen;
again:
		gen = s->bridge_gen;
		for (b = s->bridges; b != NULL && !gone(s); b = b->next) {
			if (b->olen > 0)
				bridge_pump_out(s, b);
			if (s->bridge_gen != gen)
				goto again;
		}
		if (s->conn != NULL && s->state == LL_SESSION_IO_READY &&
		    (r = write_stream(s)) != 0)
			lost(s, r);
	}
	if (s->state == LL_SESSION_IO_ENDING)
		run_ending(s);
	if (s->state == LL_SESSION_IO_CLOSED)
		deliver_closed(s);

	s->in_dispatch--;
	update_watches(s);
	if (s->detached && s->state == LL_SESSION_IO_CLOSED)
		source_retire(s);
	sio_unref(s);
	return G_SOURCE_CONTINUE;
}
