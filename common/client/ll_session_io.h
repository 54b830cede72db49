/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pump that runs one session over an open stream (ll_stream.h) from a
 * GLib main loop, for both the applet and the agent.  It owns the TLS
 * connection and an ll_mux (docs/ARCHITECTURE.md, Inside a stream) and
 *  - delivers the peer's HELLO, control messages of channel 0 (parsed by
 *    ll_control), channel opens and closes, and the session's end through
 *    callbacks;
 *  - sends control messages, opens and closes channels;
 *  - BRIDGES a mux channel to a local file descriptor (one end of a
 *    socketpair), which is how libvncserver in the applet and the RFB
 *    client in the agent speak RFB over channel 1 without any listening
 *    port.  Flow control is end to end: bytes from the fd go out only as
 *    far as the peer granted credit (the fd is not polled while the
 *    credit is 0 or the outgoing buffer is full), bytes from the channel
 *    are acknowledged to the peer (ll_mux_consume) only once written to
 *    the fd.  A slow local reader thus slows the remote sender and memory
 *    stays bounded (at most one window per bridged channel buffered here).
 *
 * Threading: one GMainContext; every function must be called from the
 * thread that runs it.  All I/O happens in the session's GSource; the
 * functions below only queue work and wake the source, so they never
 * call a callback from inside themselves.
 *
 * Lifetime: ll_session_io_new() returns the application's reference.
 * on_closed is delivered exactly once (from the main loop), unless the
 * application calls ll_session_io_free() first: free detaches the
 * callbacks (none is called after it), closes hard, or lets an orderly
 * end already in progress (ll_session_io_end) finish in the background.
 * Calling ll_session_io_free() or any other function from inside any
 * callback is safe: the pump holds its own reference while dispatching.
 *
 * Liveness: once READY, each side sends control "ping" every
 * ping_interval_ms and answers the peer's with "pong" (both handled here,
 * never delivered to on_control).  Any byte read from the stream counts
 * as a sign of life.  With none for stall_ms the session is STALLED:
 * on_stall(true) tells the application at once (the applet then stops
 * sharing and input, fail closed); the first byte after it brings
 * on_stall(false).  With none for dead_ms the stream is declared dead and
 * the session ends: on_closed(LL_SESSION_END_SILENT).  A frozen relay or
 * a network black hole keeps the TCP connection open and silent for
 * minutes, which neither TCP nor TLS would notice this early.
 *
 * Control messages travel as ll_control_encode() frames (u32 length +
 * JSON).  A control message that does not parse ends the session with an
 * ERROR frame to the peer and on_closed(err = the parse error).
 */
#ifndef LL_SESSION_IO_H
#define LL_SESSION_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

#include <glib.h>

#include "ll_mux.h"
#include "ll_control.h"

struct ll_stream;
struct ll_session_io;

/* The pump's own state (the store's enum ll_session_state is the relay's
 * record of a session, a different thing). */
enum ll_session_io_state {
	LL_SESSION_IO_HANDSHAKE = 0, /* our HELLO queued; waiting for the
				      * peer's (the relay holds us until the
				      * other side joins: this can take
				      * minutes) */
	LL_SESSION_IO_READY,         /* peer HELLO received: channels work */
	LL_SESSION_IO_ENDING,        /* orderly end: flushing, TLS shutdown */
	LL_SESSION_IO_CLOSED,        /* socket closed; on_closed delivered or
				      * about to be */
};
/* "handshake", "ready", "ending", "closed". */
const char *ll_session_io_state_name(enum ll_session_io_state st);

/* Why a session ended (on_closed). */
enum ll_session_end {
	LL_SESSION_END_LOCAL = 0, /* we called ll_session_io_end() */
	LL_SESSION_END_PEER,      /* the peer sent control "end" (reason is
				   * the peer's) */
	LL_SESSION_END_LOST,      /* the stream closed without "end": relay
				   * gone, session deleted, network lost */
	LL_SESSION_END_ERROR,     /* a protocol or TLS error, ours or the
				   * peer's (ERROR frame), or hard close */
	LL_SESSION_END_SILENT,    /* no byte from the stream for dead_ms
				   * (see Liveness): a frozen relay or a
				   * network black hole */
};
/* "ended here", "ended by the other side", "connection lost", "error",
 * "no sign of life". */
const char *ll_session_end_name(enum ll_session_end why);

/*
 * Callbacks; any may be NULL.  user is the pointer given to _new.
 * Pointers passed in are valid only during the call.
 */
struct ll_session_io_cbs {
	/* The peer's mux HELLO arrived: state is READY now. */
	void (*on_ready)(struct ll_session_io *s, void *user);
	/* A control message from channel 0.  An "end" message is delivered
	 * here too; the pump then closes the stream by itself and reports
	 * on_closed(LL_SESSION_END_PEER, its reason). */
	void (*on_control)(struct ll_session_io *s,
			   const struct ll_control_msg *msg, void *user);
	/* The peer opened a channel.  Bridge it from inside this callback
	 * if it is to be bridged: its data may follow in the same read,
	 * and data on a channel without a bridge goes to on_channel_data
	 * (or is dropped when that is NULL). */
	void (*on_channel_open)(struct ll_session_io *s, uint16_t channel,
				void *user);
	/* A channel ended other than by ll_session_io_channel_close():
	 * the peer closed it, or its bridged fd reached EOF or failed.  A
	 * bridged fd is closed by the pump once what the peer had sent
	 * before its CLOSE is written (possibly after this callback). */
	void (*on_channel_close)(struct ll_session_io *s, uint16_t channel,
				 void *user);
	/* Data on an open channel that is not bridged.  Counted as consumed
	 * when the callback returns (copy what you need), unless the
	 * callback calls ll_session_io_channel_keep(): then the peer's
	 * credit comes back only with ll_session_io_channel_consume(), once
	 * the bytes are dealt with (a file written by a worker thread). */
	void (*on_channel_data)(struct ll_session_io *s, uint16_t channel,
				const uint8_t *data, size_t len, void *user);
	/* Nothing came from the stream for stall_ms (stalled true), or
	 * bytes came again after that (false).  See Liveness. */
	void (*on_stall)(struct ll_session_io *s, bool stalled, void *user);
	/* The session is over (exactly once; see Lifetime).  err is LL_OK
	 * for LOCAL/PEER/LOST/SILENT endings, the negative ll_err otherwise.
	 * reason is a sentence for a person (never NULL), already through
	 * ll_text_printable() (ll_text.h): show it as it is. */
	void (*on_closed)(struct ll_session_io *s, enum ll_session_end why,
			  int err, const char *reason, void *user);
};

struct ll_session_io_opts {
	enum ll_side side; /* LL_SIDE_APPLET or LL_SIDE_AGENT */
	/* Mux tuning; 0 = ll_mux_config_default()'s values. */
	uint32_t initial_window;
	size_t out_max;
	/* Longest an orderly end may take before the hard close; 0 = 2000. */
	int end_timeout_ms;
	/* Fail with LL_ERR_TIMEOUT if the peer's HELLO does not come in
	 * time; 0 = wait forever (the other side may join much later). */
	int hello_timeout_ms;
	/* Liveness (see above); 0 = LL_SESSION_PING_MS, LL_SESSION_STALL_MS,
	 * LL_SESSION_DEAD_MS.  dead_ms < 0: never declared dead here (the
	 * stall is still reported). */
	int ping_interval_ms;
	int stall_ms;
	int dead_ms;
	GMainContext *context; /* NULL = the thread-default context */
};
#define LL_SESSION_PING_MS 2000
#define LL_SESSION_STALL_MS 5000
#define LL_SESSION_DEAD_MS 15000
/* side agent, the defaults above. */
void ll_session_io_opts_default(struct ll_session_io_opts *o);

/*
 * Starts pumping stream (from ll_stream_open) in o->context.  On success
 * the session owns stream (and its extra bytes, fed first) and *out is
 * the application's reference; on failure stream is still the caller's.
 * cbs is copied.  LL_ERR_INVALID_ARG, LL_ERR_NOMEM.
 */
int ll_session_io_new(struct ll_stream *stream,
		      const struct ll_session_io_opts *o,
		      const struct ll_session_io_cbs *cbs, void *user,
		      struct ll_session_io **out);
/* Drops the application's reference (see Lifetime).  NULL ok. */
void ll_session_io_free(struct ll_session_io *s);

enum ll_session_io_state ll_session_io_get_state(const struct ll_session_io *s);
/* The mux side this session speaks as. */
enum ll_side ll_session_io_side(const struct ll_session_io *s);
/* True between on_stall(true) and on_stall(false). */
bool ll_session_io_stalled(const struct ll_session_io *s);

/*
 * Queue a control message (serialised with ll_control_encode; checked
 * against the schema before anything is queued).  May be called before
 * READY: it goes out once the peer's HELLO granted credit.  The queue is
 * bounded (LL_SESSION_CONTROL_QUEUE): LL_ERR_TOO_LARGE when full.
 * LL_ERR_CLOSED once ENDING or CLOSED.
 */
#define LL_SESSION_CONTROL_QUEUE (256u * 1024u)
int ll_session_io_send_control(struct ll_session_io *s,
			       const struct ll_control_msg *msg);

/*
 * Open a channel of our parity (applet odd: 1 = RFB; agent even >= 2);
 * errors as ll_mux_open.  open_next picks the lowest free id >= 2.
 */
int ll_session_io_channel_open(struct ll_session_io *s, uint16_t channel);
int ll_session_io_channel_open_next(struct ll_session_io *s,
				    uint16_t *channel);
/*
 * From inside on_channel_data only: the bytes it got stay unconsumed (the
 * peer's credit stays taken) until ll_session_io_channel_consume() says
 * they are dealt with.  Consuming on a channel that has closed since is a
 * no-op; LL_ERR_INVALID_ARG for more than was kept.
 */
void ll_session_io_channel_keep(struct ll_session_io *s);
int ll_session_io_channel_consume(struct ll_session_io *s, uint16_t channel,
				  size_t n);
/*
 * Grant the peer `window` bytes of credit on an open channel instead of
 * the HELLO's (ll_mux_widen): for a bulk channel, whose rate is window /
 * round trip.  Call it before the channel's first byte arrives when it is
 * bridged (the bridge buffers up to one window): LL_ERR_CONFLICT after.
 * Errors as ll_mux_widen, LL_ERR_CLOSED once ending.
 */
int ll_session_io_channel_widen(struct ll_session_io *s, uint16_t channel,
				uint32_t window);
/*
 * Close an open channel now (a bridge is torn down: its fd closed, bytes
 * not yet sent dropped).  No on_channel_close follows.  LL_ERR_NOT_FOUND
 * if it is not open.
 */
int ll_session_io_channel_close(struct ll_session_io *s, uint16_t channel);

/*
 * Bridge an open channel (opened by either side) to fd, which the
 * session takes over on success: it is made non-blocking, and closed when
 * the channel or the session ends.  Bytes read from fd go out on the
 * channel; bytes arriving on it are written to fd.  EOF on fd closes the
 * channel once what was read has been sent; a CLOSE from the peer closes
 * fd once what was received has been written (or when the session ends).
 * A bridged fd that hangs up is no longer polled (poll would report it
 * forever): what is left in it is still read as credit allows.
 * LL_ERR_NOT_FOUND (channel not open), LL_ERR_CONFLICT (already bridged),
 * LL_ERR_INVALID_ARG (channel 0, fd < 0), LL_ERR_CLOSED (session ending).
 */
int ll_session_io_bridge(struct ll_session_io *s, uint16_t channel, int fd);

/*
 * An optional check on a bridge's bytes, for a protocol validator in
 * front of a parser that must never see what the peer may not send (the
 * agent's RFB filter).  Both functions are called from the pump and must
 * not call back into the session; either may be NULL.
 *
 * in: bytes the peer sent on the channel, before any of them is written
 * to fd, in order, each byte once.  out: bytes read from fd, before they
 * go out on the channel; it may rewrite them in place.
 *
 * Each returns LL_OK with *pass (preset to len) = how many bytes from
 * the front may go on now; the other len - *pass bytes (fewer than
 * LL_SESSION_FILTER_HOLD) are held back by the bridge and presented
 * again, in front of the next bytes, so that a filter only ever judges
 * whole items.  Or it refuses with a negative ll_err and a sentence in
 * why (why_len bytes, NUL-terminated): nothing of the refused bytes is
 * passed, the peer gets an ERROR frame with that sentence, and the
 * session fails (on_closed(LL_SESSION_END_ERROR, err, why)).
 * free_user (may be NULL) is called with user when the bridge goes away
 * (with the channel or the session).
 */
#define LL_SESSION_FILTER_HOLD 256u
struct ll_session_io_filter {
	int (*in)(const uint8_t *data, size_t len, size_t *pass, char *why,
		  size_t why_len, void *user);
	int (*out)(uint8_t *data, size_t len, size_t *pass, char *why,
		   size_t why_len, void *user);
	void (*free_user)(void *user);
	void *user;
};

/* ll_session_io_bridge() with a filter (copied; NULL = none).  Errors as
 * ll_session_io_bridge; on failure fd and filter->user stay the
 * caller's. */
int ll_session_io_bridge_filtered(struct ll_session_io *s, uint16_t channel,
				  int fd,
				  const struct ll_session_io_filter *filter);

/*
 * A channel fed by a function instead of an fd (a file we send): the
 * pump calls read(user, buf, len) whenever the channel has credit and
 * the mux has room, as it would read a bridged fd, so the bytes go from
 * the file into the frame without a socketpair's two copies.  read
 * returns the bytes it put in buf (1..len), 0 at the end (the channel is
 * then closed as at a bridged fd's EOF), or a negative ll_err: the
 * source stops and the channel stays open for the caller to close or
 * cancel.  read may call any function of this pump, closing the channel
 * too (the source then goes at once).  The source goes with the channel
 * (ll_session_io_channel_close) and with the pump; user is never freed
 * here.  Errors as ll_session_io_bridge.
 */
struct ll_session_io_source {
	ssize_t (*read)(void *user, uint8_t *buf, size_t len);
	void *user;
};
int ll_session_io_bridge_source(struct ll_session_io *s, uint16_t channel,
				const struct ll_session_io_source *src);

/*
 * Orderly end: queue control {"type":"end","reason":reason} (when the
 * peer's HELLO has come, so it can be sent), flush what is queued for the
 * stream (bridged bytes not yet taken are dropped), close TLS cleanly,
 * close the socket, then on_closed(LL_SESSION_END_LOCAL, LL_OK, reason).
 * Bounded by end_timeout_ms, after which it closes hard.  reason: 1..1024
 * bytes, no NUL.  LL_ERR_CLOSED if already ending or closed.
 */
int ll_session_io_end(struct ll_session_io *s, const char *reason);

/*
 * Hard close: socket and bridged fds closed now, nothing more sent;
 * on_closed(LL_SESSION_END_ERROR, LL_ERR_CLOSED, reason) follows from the
 * main loop (if the application still holds its reference).  A no-op
 * once CLOSED.
 */
void ll_session_io_close(struct ll_session_io *s, const char *reason);

/* The round trip of the last answered ping (ms), -1 before the first
 * answer: the agent's picture quality takes it into account. */
int64_t ll_session_io_rtt_ms(const struct ll_session_io *s);
/* Whether the screen's channel (LL_MUX_CHANNEL_RFB) is open: bulk work
 * then gives way to it. */
bool ll_session_io_screen_live(const struct ll_session_io *s);
/* Counters: stream bytes read and written (TLS payload, all channels). */
uint64_t ll_session_io_bytes_in(const struct ll_session_io *s);
uint64_t ll_session_io_bytes_out(const struct ll_session_io *s);
/* Bytes currently buffered by the pump (mux out, control queue, bridge
 * buffers): the figure a memory-bound test watches. */
size_t ll_session_io_buffered(const struct ll_session_io *s);

#endif
