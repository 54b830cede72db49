/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sans-I/O stream multiplexer with per-channel credit flow control (as SSH
 * channels do), on the frames of ll_frame.h.  No sockets, no callbacks, no
 * clock: the caller feeds received bytes and gets one event per frame, asks
 * to send and gets told how much was taken, and drains the bytes to write
 * from ll_mux_out().  The relay never uses this; the applet and the agent
 * each run one over their stream.
 *
 * Session rules:
 *  - Each side's HELLO is queued by ll_mux_new(); the peer's HELLO must be
 *    the first frame received, and come exactly once.
 *  - Channel 0 (control, JSON of ll_control.h) is open from the start and
 *    never closes.  Other channels are opened with OPEN by one side:
 *    the applet opens odd ids (1 = RFB, once "view" is granted; 3, 5, ...
 *    for files it sends), the agent even ids (2, 4, ... for files), so the
 *    two sides never pick the same id.  No more than LL_MUX_MAX_CHANNELS
 *    channels may be open at once.
 *  - Credit: each side may send on a channel at most what the other side
 *    granted: the initial window of the receiver's HELLO, plus every
 *    WINDOW increment since.  The receiver grants more (WINDOW) only as
 *    the application reports bytes as consumed (ll_mux_consume), so a slow
 *    consumer slows its sender and memory stays bounded.
 *    A receiver may widen one channel's window beyond the HELLO's
 *    (ll_mux_widen: a WINDOW frame for the difference): bulk channels
 *    (files) go as fast as window / round trip allows, while the screen
 *    keeps the small window that keeps its latency.  Either way the
 *    sender gets exactly what was granted, and not a byte more.
 *  - Closing: CLOSE from one side is answered by CLOSE from the other; a
 *    channel id is free again once both were sent.  Data still in flight
 *    to a side that sent CLOSE is counted against credit and dropped.
 *  - Any violation by the peer (a frame before HELLO, a second HELLO, data
 *    beyond credit, data/WINDOW/CLOSE on a channel that is not open, an
 *    OPEN of the wrong parity or of an open channel, credit above 2^32-1)
 *    is LL_ERR_PROTOCOL; undecodable frames give the frame codec's error
 *    (LL_ERR_UNKNOWN_TYPE, LL_ERR_TOO_LARGE, LL_ERR_BAD_VERSION,
 *    LL_ERR_MALFORMED).  Either way the mux is dead: it queues an ERROR
 *    frame for the peer (flush it, then close the stream), every later
 *    call returns the same error, and ll_mux_error() says what happened.
 *  - An ERROR frame from the peer ends the session too (LL_MUX_EV_ERROR,
 *    then every later feed returns LL_ERR_CLOSED).
 */
#ifndef LL_MUX_H
#define LL_MUX_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "ll_frame.h"
#include "ll_util.h"

struct ll_buf;
struct ll_mux;

#define LL_MUX_CHANNEL_CONTROL 0
#define LL_MUX_CHANNEL_RFB 1
#define LL_MUX_MAX_CHANNELS 64 /* open at once, control included */
#define LL_MUX_DEFAULT_WINDOW (256u * 1024u)
/* Largest window ll_mux_widen grants on one channel. */
#define LL_MUX_MAX_WINDOW (64u * 1024u * 1024u)
#define LL_MUX_DEFAULT_OUT_MAX (2u * 1024u * 1024u)

struct ll_mux_config {
	enum ll_side side;
	uint32_t max_payload;    /* largest frame payload we accept */
	uint32_t initial_window; /* credit we grant per channel */
	size_t out_max;          /* cap of the outgoing buffer */
};
/* side = agent, max_payload = LL_FRAME_MAX_PAYLOAD, the defaults above. */
void ll_mux_config_default(struct ll_mux_config *cfg);

enum ll_mux_event_type {
	LL_MUX_EV_NONE = 0, /* a frame with nothing for the application */
	LL_MUX_EV_HELLO,    /* the peer's HELLO: ev.u.hello */
	LL_MUX_EV_OPEN,     /* the peer opened ev.channel */
	LL_MUX_EV_DATA,     /* ev.u.data bytes arrived on ev.channel */
	LL_MUX_EV_WINDOW,   /* more credit on ev.channel: ev.u.credit */
	LL_MUX_EV_CLOSE,    /* the peer closed ev.channel (answered) */
	LL_MUX_EV_ERROR,    /* the peer ended the session: ev.u.error */
};

struct ll_mux_event {
	enum ll_mux_event_type type;
	uint16_t channel;
	union {
		struct ll_frame_hello hello;
		struct {
			/* Points into the bytes just fed: use or copy them
			 * before they change, then ll_mux_consume(). */
			const uint8_t *data;
			size_t len;
		} data;
		uint32_t credit; /* send credit now on channel */
		struct {
			int err;            /* negative ll_err: -code */
			const char *reason; /* into the fed bytes, no NUL */
			size_t reason_len;
		} error;
	} u;
};

/* A new mux with its HELLO queued; cfg NULL means defaults.  NULL on OOM
 * or a config outside the frame limits. */
struct ll_mux *ll_mux_new(const struct ll_mux_config *cfg);
void ll_mux_free(struct ll_mux *m);

/*
 * Feed received bytes.  Handles at most one frame per call: returns its
 * size (> 0) with *ev filled, 0 when data[0..len) holds no whole frame yet
 * (ev->type = LL_MUX_EV_NONE), or a negative ll_err (see above; the mux is
 * then dead).  Loop until 0, advancing by the returned count.
 */
int ll_mux_feed(struct ll_mux *m, const uint8_t *data, size_t len,
		struct ll_mux_event *ev);

/* The bytes to write to the stream: read ll_buf_data/len, ll_buf_consume
 * what was written.  Owned by the mux. */
struct ll_buf *ll_mux_out(struct ll_mux *m);

/* True once the peer's HELLO was accepted. */
bool ll_mux_ready(const struct ll_mux *m);
/* True after an error (ours or the peer's). */
bool ll_mux_dead(const struct ll_mux *m);
/* A sentence about the error that ended the session, or "no error". */
const char *ll_mux_error(const struct ll_mux *m);

/*
 * Open a channel of our parity (see above).  LL_ERR_INVALID_ARG for
 * channel 0 or the peer's parity, LL_ERR_CONFLICT if it is not free,
 * LL_ERR_TOO_LARGE over LL_MUX_MAX_CHANNELS.  Allowed before the peer's
 * HELLO (credit then starts when it arrives).
 */
int ll_mux_open(struct ll_mux *m, uint16_t channel);
/* Open the lowest free id of our parity >= 2 (files). */
int ll_mux_open_next(struct ll_mux *m, uint16_t *channel);
/* Close an open channel (not 0).  LL_ERR_NOT_FOUND if it is not open. */
int ll_mux_close(struct ll_mux *m, uint16_t channel);
/* True while the channel is open for sending (not closing). */
bool ll_mux_is_open(const struct ll_mux *m, uint16_t channel);

/*
 * Queue up to len bytes on an open channel as DATA frames.  Takes at most
 * the channel's credit and what fits the outgoing buffer; *taken says how
 * much (possibly 0: wait for LL_MUX_EV_WINDOW or for the buffer to drain).
 * LL_ERR_NOT_FOUND if the channel is not open.
 */
int ll_mux_send(struct ll_mux *m, uint16_t channel, const void *data,
		size_t len, size_t *taken);
/* Bytes we may still send on the channel (0 if not open). */
uint32_t ll_mux_credit(const struct ll_mux *m, uint16_t channel);

/*
 * Report n bytes delivered on the channel as used; the peer gets the
 * credit back (a WINDOW frame once a quarter of the window is owed).
 * LL_ERR_INVALID_ARG if n is more than was delivered and not yet consumed.
 * On a channel closed meanwhile it does nothing.
 */
int ll_mux_consume(struct ll_mux *m, uint16_t channel, size_t n);

/*
 * Grant the peer a window of `window` bytes on an open channel instead of
 * the HELLO's initial window (for a bulk channel: files): the difference
 * is queued at once as a WINDOW increment, and consumed bytes are granted
 * back in quarters of the new window.  Windows only grow.  Credit stays
 * strict: data beyond what was granted is still LL_ERR_PROTOCOL.
 * LL_ERR_NOT_FOUND if the channel is not open, LL_ERR_INVALID_ARG below
 * the current window or above LL_MUX_MAX_WINDOW, or the frame codec's
 * error when the outgoing buffer is full.
 */
int ll_mux_widen(struct ll_mux *m, uint16_t channel, uint32_t window);
/* The window we grant on the channel (0 if not open). */
uint32_t ll_mux_window(const struct ll_mux *m, uint16_t channel);

/*
 * End the session from our side: queue ERROR (code = -err, reason) and
 * mark the mux dead.  err is a negative ll_err.
 */
int ll_mux_fail(struct ll_mux *m, int err, const char *reason);

#endif
