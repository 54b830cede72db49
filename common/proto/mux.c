/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stream multiplexer: see ll_mux.h for the rules it enforces. */
#include "ll_mux.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_buf.h"
#include "ll_err.h"
#include "ll_text.h"

/*
 * Room in the outgoing buffer that DATA never takes, so that WINDOW, CLOSE
 * and ERROR frames still fit when a fast sender has filled the rest.
 */
#define CTRL_RESERVE 4096u

enum chan_state {
	C_FREE = 0,
	C_OPEN,
	C_CLOSE_SENT, /* our CLOSE is out, the peer's not yet in */
};

struct chan {
	enum chan_state state;
	uint16_t id;
	uint32_t send_credit; /* what we may still send */
	uint32_t recv_window; /* what the peer may still send */
	uint32_t window;      /* what we grant in all (ll_mux_widen) */
	size_t delivered;     /* handed to the application, not consumed */
	uint32_t pending_ack; /* consumed, not yet granted back */
};

struct ll_mux {
	struct ll_mux_config cfg;
	struct ll_buf *out;
	struct chan ch[LL_MUX_MAX_CHANNELS];
	bool got_hello;
	struct ll_frame_hello peer;
	bool dead;
	int err;
	char msg[256];
};

void ll_mux_config_default(struct ll_mux_config *cfg)
{
	cfg->side = LL_SIDE_AGENT;
	cfg->max_payload = LL_FRAME_MAX_PAYLOAD;
	cfg->initial_window = LL_MUX_DEFAULT_WINDOW;
	cfg->out_max = LL_MUX_DEFAULT_OUT_MAX;
}

static int mux_fail(struct ll_mux *m, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Mark the mux dead (first reason wins) and tell the peer why. */
static int mux_fail(struct ll_mux *m, int err, const char *fmt, ...)
{
	va_list ap;

	if (m->dead)
		return m->err;
	m->dead = true;
	m->err = err;
	va_start(ap, fmt);
	vsnprintf(m->msg, sizeof(m->msg), fmt, ap);
	va_end(ap);
	/* Best effort: if even this does not fit, the close says enough. */
	(void)ll_frame_put_error(m->out, (uint16_t)-err, m->msg);
	return err;
}

static struct chan *chan_find(struct ll_mux *m, uint16_t id)
{
	size_t i;

	for (i = 0; i < LL_MUX_MAX_CHANNELS; i++) {
		if (m->ch[i].state != C_FREE && m->ch[i].id == id)
			return &m->ch[i];
	}
	return NULL;
}

static const struct chan *chan_find_const(const struct ll_mux *m, uint16_t id)
{
	return chan_find((struct ll_mux *)m, id);
}

static struct chan *chan_alloc(struct ll_mux *m, uint16_t id)
{
	size_t i;

	for (i = 0; i < LL_MUX_MAX_CHANNELS; i++) {
		if (m->ch[i].state == C_FREE) {
			memset(&m->ch[i], 0, sizeof(m->ch[i]));
			m->ch[i].state = C_OPEN;
			m->ch[i].id = id;
			m->ch[i].send_credit = m->got_hello
						       ? m->peer.initial_window
						       : 0;
			m->ch[i].recv_window = m->cfg.initial_window;
			m->ch[i].window = m->cfg.initial_window;
			return &m->ch[i];
		}
	}
	return NULL;
}

static void chan_release(struct chan *c)
{
	memset(c, 0, sizeof(*c));
	c->state = C_FREE;
}

/* Does this id belong to the given side's half of the id space? */
static bool parity_of(enum ll_side side, uint16_t id)
{
	if (id == LL_MUX_CHANNEL_CONTROL)
		return false;
	return side == LL_SIDE_APPLET ? (id % 2) == 1 : (id % 2) == 0;
}

struct ll_mux *ll_mux_new(const struct ll_mux_config *cfg)
{
	struct ll_frame_hello h;
	struct ll_mux *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if (cfg != NULL)
		m->cfg = *cfg;
	else
		ll_mux_config_default(&m->cfg);
	if ((m->cfg.side != LL_SIDE_AGENT && m->cfg.side != LL_SIDE_APPLET) ||
	    m->cfg.max_payload < LL_FRAME_MIN_PAYLOAD ||
	    m->cfg.max_payload > LL_FRAME_MAX_PAYLOAD ||
	    m->cfg.initial_window < LL_FRAME_MIN_PAYLOAD ||
	    m->cfg.out_max < 2 * CTRL_RESERVE)
		goto fail;
	if ((m->out = ll_buf_new(m->cfg.out_max)) == NULL)
		goto fail;
	h.version = LL_FRAME_VERSION;
	h.max_payload = m->cfg.max_payload;
	h.initial_window = m->cfg.initial_window;
	if (ll_frame_put_hello(m->out, &h) != 0)
		goto fail;
	/* The control channel exists from the start, on both sides. */
	chan_alloc(m, LL_MUX_CHANNEL_CONTROL);
	return m;
fail:
	ll_buf_free(m->out);
	free(m);
	return NULL;
}

void ll_mux_free(struct ll_mux *m)
{
	if (m == NULL)
		return;
	ll_buf_free(m->out);
	free(m);
}

struct ll_buf *ll_mux_out(struct ll_mux *m)
{
	return m != NULL ? m->out : NULL;
}

bool ll_mux_ready(const struct ll_mux *m)
{
	return m != NULL && m->got_hello && !m->dead;
}

bool ll_mux_dead(const struct ll_mux *m)
{
	return m == NULL || m->dead;
}

const char *ll_mux_error(const struct ll_mux *m)
{
	if (m == NULL)
		return "no mux";
	return m->dead ? m->msg : "no error";
}

static int on_hello(struct ll_mux *m, const struct ll_frame *f,
		    struct ll_mux_event *ev)
{
	size_t i;

	if (m->got_hello)
		return mux_fail(m, LL_ERR_PROTOCOL, "second HELLO from peer");
	m->got_hello = true;
	m->peer = f->u.hello;
	/* Channels we opened before it start with the peer's window now. */
	for (i = 0; i < LL_MUX_MAX_CHANNELS; i++) {
		if (m->ch[i].state != C_FREE)
			m->ch[i].send_credit = m->peer.initial_window;
	}
	ev->type = LL_MUX_EV_HELLO;
	ev->u.hello = f->u.hello;
	return 0;
}

/* The open channel frame f is for; NULL, the mux failed and *r saying
 * why, when the peer names a channel that is not open. */
static struct chan *frame_chan(struct ll_mux *m, const struct ll_frame *f,
			       int *r)
{
	struct chan *c = chan_find(m, f->channel);

	if (c == NULL)
		*r = mux_fail(m, LL_ERR_PROTOCOL,
			      "%s on channel %u, which is not open",
			      ll_frame_type_name(f->type), f->channel);
	return c;
}

static int on_data(struct ll_mux *m, const struct ll_frame *f,
		   struct ll_mux_event *ev)
{
	struct chan *c;
	int r;

	if ((c = frame_chan(m, f, &r)) == NULL)
		return r;
	if (f->len > c->recv_window)
		return mux_fail(m, LL_ERR_PROTOCOL,
				"DATA of %u bytes on channel %u beyond the "
				"%u bytes of credit granted",
				f->len, f->channel, c->recv_window);
	c->recv_window -= f->len;
	/* Closing (we said CLOSE): still in flight from the peer, dropped. */
	if (c->state == C_CLOSE_SENT || f->len == 0)
		return 0;
	c->delivered += f->len;
	ev->type = LL_MUX_EV_DATA;
	ev->u.data.data = f->payload;
	ev->u.data.len = f->len;
	return 0;
}

static int on_window(struct ll_mux *m, const struct ll_frame *f,
		     struct ll_mux_event *ev)
{
	struct chan *c;
	int r;

	if ((c = frame_chan(m, f, &r)) == NULL)
		return r;
	if (c->state == C_CLOSE_SENT)
		return 0;
	if (f->u.window_increment > UINT32_MAX - c->send_credit)
		return mux_fail(m, LL_ERR_PROTOCOL,
				"WINDOW on channel %u grows credit past 2^32-1",
				f->channel);
	c->send_credit += f->u.window_increment;
	if (f->u.window_increment == 0)
		return 0;
	ev->type = LL_MUX_EV_WINDOW;
	ev->u.credit = c->send_credit;
	return 0;
}

static int on_open(struct ll_mux *m, const struct ll_frame *f,
		   struct ll_mux_event *ev)
{
	enum ll_side peer_side = m->cfg.side == LL_SIDE_AGENT ? LL_SIDE_APPLET
							      : LL_SIDE_AGENT;

	if (!parity_of(peer_side, f->channel))
		return mux_fail(m, LL_ERR_PROTOCOL,
				"OPEN of channel %u, which the peer may not "
				"open",
				f->channel);
	if (chan_find(m, f->channel) != NULL)
		return mux_fail(m, LL_ERR_PROTOCOL,
				"OPEN of channel %u, which is in use",
				f->channel);
	if (chan_alloc(m, f->channel) == NULL)
		return mux_fail(m, LL_ERR_PROTOCOL,
				"OPEN of channel %u beyond %d open channels",
				f->channel, LL_MUX_MAX_CHANNELS);
	ev->type = LL_MUX_EV_OPEN;
	return 0;
}

static int on_close(struct ll_mux *m, const struct ll_frame *f,
		    struct ll_mux_event *ev)
{
	struct chan *c;
	int r;

	if (f->channel == LL_MUX_CHANNEL_CONTROL)
		return mux_fail(m, LL_ERR_PROTOCOL,
				"CLOSE of the control channel");
	if ((c = frame_chan(m, f, &r)) == NULL)
		return r;
	if (c->state == C_OPEN) {
		/* Answer, so the peer knows when the id is free again. */
		if ((r = ll_frame_put_close(m->out, c->id)) != 0)
			return mux_fail(m, r,
					"outgoing buffer full: the stream is "
					"not being written");
		ev->type = LL_MUX_EV_CLOSE;
	}
	chan_release(c);
	return 0;
}

/* What the peer says passes the display rule (ll_text.h) before it
 * reaches a log line or a label. */
static void on_error(struct ll_mux *m, const struct ll_frame *f,
		     struct ll_mux_event *ev)
{
	char reason[160];

	ll_text_printable(reason, sizeof(reason), f->u.error.reason,
			  f->u.error.reason_len);
	m->dead = true;
	m->err = LL_ERR_CLOSED;
	snprintf(m->msg, sizeof(m->msg),
		 "peer ended the session with error %u: %s", f->u.error.code,
		 reason);
	ev->type = LL_MUX_EV_ERROR;
	ev->u.error.err = f->u.error.code != 0 ? -(int)f->u.error.code
					       : LL_ERR_PROTOCOL;
	ev->u.error.reason = f->u.error.reason;
	ev->u.error.reason_len = f->u.error.reason_len;
}

int ll_mux_feed(struct ll_mux *m, const uint8_t *data, size_t len,
		struct ll_mux_event *ev)
{
	struct ll_frame f;
	int n, r = 0;

	if (m == NULL || ev == NULL || (data == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	memset(ev, 0, sizeof(*ev));
	if (m->dead)
		return m->err;
	n = ll_frame_decode(data, len, m->cfg.max_payload, &f);
	if (n == 0)
		return 0;
	if (n < 0)
		return mux_fail(m, n, "undecodable frame from peer: %s",
				ll_strerror(n));
	/* ERROR may come first: a peer that refuses our HELLO says why. */
	if (!m->got_hello && f.type != LL_FRAME_HELLO &&
	    f.type != LL_FRAME_ERROR)
		return mux_fail(m, LL_ERR_PROTOCOL, "%s frame before HELLO",
				ll_frame_type_name(f.type));
	ev->channel = f.channel;
	switch (f.type) {
	case LL_FRAME_HELLO:
		r = on_hello(m, &f, ev);
		break;
	case LL_FRAME_DATA:
		r = on_data(m, &f, ev);
		break;
	case LL_FRAME_WINDOW:
		r = on_window(m, &f, ev);
		break;
	case LL_FRAME_OPEN:
		r = on_open(m, &f, ev);
		break;
	case LL_FRAME_CLOSE:
		r = on_close(m, &f, ev);
		break;
	case LL_FRAME_ERROR:
		on_error(m, &f, ev);
		break;
	default:
		r = mux_fail(m, LL_ERR_INTERNAL, "frame type %u", f.type);
		break;
	}
	if (r != 0) {
		memset(ev, 0, sizeof(*ev));
		return r;
	}
	return n;
}

int ll_mux_open(struct ll_mux *m, uint16_t channel)
{
	size_t i, used = 0;
	int r;

	if (m == NULL)
		return LL_ERR_INVALID_ARG;
	if (m->dead)
		return m->err;
	if (!parity_of(m->cfg.side, channel))
		return LL_ERR_INVALID_ARG;
	if (chan_find(m, channel) != NULL)
		return LL_ERR_CONFLICT;
	for (i = 0; i < LL_MUX_MAX_CHANNELS; i++)
		used += m->ch[i].state != C_FREE;
	if (used >= LL_MUX_MAX_CHANNELS)
		return LL_ERR_TOO_LARGE;
	if ((r = ll_frame_put_open(m->out, channel)) != 0)
		return r;
	chan_alloc(m, channel);
	return 0;
}

int ll_mux_open_next(struct ll_mux *m, uint16_t *channel)
{
	uint32_t id;
	int r;

	if (m == NULL || channel == NULL)
		return LL_ERR_INVALID_ARG;
	for (id = m->cfg.side == LL_SIDE_APPLET ? 3 : 2; id <= UINT16_MAX;
	     id += 2) {
		if (chan_find(m, (uint16_t)id) != NULL)
			continue;
		if ((r = ll_mux_open(m, (uint16_t)id)) != 0)
			return r;
		*channel = (uint16_t)id;
		return 0;
	}
	return LL_ERR_TOO_LARGE;
}

int ll_mux_close(struct ll_mux *m, uint16_t channel)
{
	struct chan *c;
	int r;

	if (m == NULL || channel == LL_MUX_CHANNEL_CONTROL)
		return LL_ERR_INVALID_ARG;
	if (m->dead)
		return m->err;
	c = chan_find(m, channel);
	if (c == NULL || c->state != C_OPEN)
		return LL_ERR_NOT_FOUND;
	if ((r = ll_frame_put_close(m->out, channel)) != 0)
		return r;
	c->state = C_CLOSE_SENT;
	c->send_credit = 0;
	c->delivered = 0;
	c->pending_ack = 0;
	return 0;
}

bool ll_mux_is_open(const struct ll_mux *m, uint16_t channel)
{
	const struct chan *c;

	if (m == NULL || m->dead)
		return false;
	c = chan_find_const(m, channel);
	return c != NULL && c->state == C_OPEN;
}

uint32_t ll_mux_credit(const struct ll_mux *m, uint16_t channel)
{
	const struct chan *c;

	if (m == NULL || m->dead)
		return 0;
	c = chan_find_const(m, channel);
	return c != NULL && c->state == C_OPEN ? c->send_credit : 0;
}

int ll_mux_send(struct ll_mux *m, uint16_t channel, const void *data,
		size_t len, size_t *taken)
{
	const uint8_t *p = data;
	struct chan *c;
	size_t done = 0, want, chunk, room, frame_max;
	int r;

	if (m == NULL || taken == NULL || (data == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	*taken = 0;
	if (m->dead)
		return m->err;
	c = chan_find(m, channel);
	if (c == NULL || c->state != C_OPEN)
		return LL_ERR_NOT_FOUND;
	frame_max = m->got_hello ? m->peer.max_payload : 0;
	want = len < c->send_credit ? len : c->send_credit;
	while (done < want) {
		room = ll_buf_room(m->out);
		if (room <= CTRL_RESERVE + LL_FRAME_HEADER_LEN)
			break;
		chunk = want - done;
		if (chunk > frame_max)
			chunk = frame_max;
		if (chunk > room - CTRL_RESERVE - LL_FRAME_HEADER_LEN)
			chunk = room - CTRL_RESERVE - LL_FRAME_HEADER_LEN;
		if ((r = ll_frame_put_data(m->out, channel, p + done,
					   chunk)) != 0) {
			if (done == 0)
				return r;
			break;
		}
		done += chunk;
		c->send_credit -= (uint32_t)chunk;
	}
	*taken = done;
	return 0;
}

int ll_mux_consume(struct ll_mux *m, uint16_t channel, size_t n)
{
	struct chan *c;
	uint32_t threshold;
	int r;

	if (m == NULL)
		return LL_ERR_INVALID_ARG;
	if (m->dead)
		return m->err;
	c = chan_find(m, channel);
	if (c == NULL || c->state != C_OPEN)
		return 0;
	if (n > c->delivered)
		return LL_ERR_INVALID_ARG;
	c->delivered -= n;
	/* pending + recv_window + delivered never exceed c->window. */
	c->pending_ack += (uint32_t)n;
	threshold = c->window / 4;
	if (c->pending_ack == 0 || c->pending_ack < threshold)
		return 0;
	if ((r = ll_frame_put_window(m->out, channel, c->pending_ack)) != 0)
		return mux_fail(m, r,
				"outgoing buffer full: the stream is not "
				"being written");
	c->recv_window += c->pending_ack;
	c->pending_ack = 0;
	return 0;
}

int ll_mux_widen(struct ll_mux *m, uint16_t channel, uint32_t window)
{
	struct chan *c;
	int r;

	if (m == NULL || window > LL_MUX_MAX_WINDOW)
		return LL_ERR_INVALID_ARG;
	if (m->dead)
		return m->err;
	c = chan_find(m, channel);
	if (c == NULL || c->state != C_OPEN)
		return LL_ERR_NOT_FOUND;
	if (window < c->window)
		return LL_ERR_INVALID_ARG;
	if (window == c->window)
		return 0;
	if ((r = ll_frame_put_window(m->out, channel, window - c->window)) !=
	    0)
		return r;
	/* The peer may send the difference at once: counted from now. */
	c->recv_window += window - c->window;
	c->window = window;
	return 0;
}

uint32_t ll_mux_window(const struct ll_mux *m, uint16_t channel)
{
	const struct chan *c;

	if (m == NULL)
		return 0;
	c = chan_find_const(m, channel);
	return c != NULL ? c->window : 0;
}

int ll_mux_fail(struct ll_mux *m, int err, const char *reason)
{
	if (m == NULL || err >= 0)
		return LL_ERR_INVALID_ARG;
	if (m->dead)
		return 0;
	mux_fail(m, err, "%s", reason != NULL ? reason : ll_strerror(err));
	return 0;
}
