/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "ll_buf.h"
#include "ll_err.h"
#include "ll_frame.h"
#include "ll_mux.h"

#define WIN 4096u

/* Events seen by one side, with DATA copied out per channel. */
struct seen {
	GArray *types; /* enum ll_mux_event_type */
	GArray *channels;
	GByteArray *data[8]; /* channels 0..7 */
	uint32_t last_credit;
	int peer_err;
	char reason[64];
};

static void seen_init(struct seen *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->types = g_array_new(FALSE, TRUE, sizeof(int));
	s->channels = g_array_new(FALSE, TRUE, sizeof(int));
	for (i = 0; i < G_N_ELEMENTS(s->data); i++)
		s->data[i] = g_byte_array_new();
}

static void seen_clear(struct seen *s)
{
	size_t i;

	g_array_free(s->types, TRUE);
	g_array_free(s->channels, TRUE);
	for (i = 0; i < G_N_ELEMENTS(s->data); i++)
		g_byte_array_free(s->data[i], TRUE);
}

static void seen_reset(struct seen *s)
{
	seen_clear(s);
	seen_init(s);
}

static int seen_type(const struct seen *s, guint i)
{
	return g_array_index(s->types, int, i);
}

/* Move everything `from` has queued into `to`; 0 or to's error. */
static int pump(struct ll_mux *from, struct ll_mux *to, struct seen *s)
{
	struct ll_buf *out = ll_mux_out(from);
	struct ll_mux_event ev;
	size_t off = 0, len = ll_buf_len(out);
	const uint8_t *d = ll_buf_data(out);
	int n;

	while ((n = ll_mux_feed(to, d + off, len - off, &ev)) > 0) {
		int t = ev.type, ch = ev.channel;

		off += (size_t)n;
		g_array_append_val(s->types, t);
		g_array_append_val(s->channels, ch);
		if (ev.type == LL_MUX_EV_DATA && ev.channel < 8)
			g_byte_array_append(s->data[ev.channel],
					    ev.u.data.data,
					    (guint)ev.u.data.len);
		if (ev.type == LL_MUX_EV_WINDOW)
			s->last_credit = ev.u.credit;
		if (ev.type == LL_MUX_EV_ERROR) {
			s->peer_err = ev.u.error.err;
			g_strlcpy(s->reason, ev.u.error.reason,
				  MIN(sizeof(s->reason),
				      ev.u.error.reason_len + 1));
			/* The session is over: nothing after it counts. */
			n = 0;
			break;
		}
	}
	g_assert_cmpint(ll_buf_consume(out, off), ==, 0);
	return n < 0 ? n : 0;
}

static void new_pair(struct ll_mux **agent, struct ll_mux **applet)
{
	struct ll_mux_config cfg;
	struct seen s;

	ll_mux_config_default(&cfg);
	cfg.initial_window = WIN;
	*agent = ll_mux_new(&cfg);
	cfg.side = LL_SIDE_APPLET;
	*applet = ll_mux_new(&cfg);
	g_assert_nonnull(*agent);
	g_assert_nonnull(*applet);
	g_assert_false(ll_mux_ready(*agent));
	seen_init(&s);
	g_assert_cmpint(pump(*agent, *applet, &s), ==, 0);
	g_assert_cmpint(pump(*applet, *agent, &s), ==, 0);
	g_assert_cmpuint(s.types->len, ==, 2);
	g_assert_cmpint(seen_type(&s, 0), ==, LL_MUX_EV_HELLO);
	g_assert_cmpint(seen_type(&s, 1), ==, LL_MUX_EV_HELLO);
	g_assert_true(ll_mux_ready(*agent));
	g_assert_true(ll_mux_ready(*applet));
	seen_clear(&s);
}

static void test_handshake_and_control(void)
{
	struct ll_mux *a, *p;
	struct seen s;
	size_t taken = 0;

	new_pair(&a, &p);
	seen_init(&s);
	g_assert_true(ll_mux_is_open(a, 0));
	g_assert_cmpuint(ll_mux_credit(a, 0), ==, WIN);
	g_assert_cmpint(ll_mux_send(a, 0, "{\"type\":\"chat\"}", 15, &taken),
			==, 0);
	g_assert_cmpuint(taken, ==, 15);
	g_assert_cmpuint(ll_mux_credit(a, 0), ==, WIN - 15);
	g_assert_cmpint(pump(a, p, &s), ==, 0);
	g_assert_cmpint(seen_type(&s, 0), ==, LL_MUX_EV_DATA);
	g_assert_cmpmem(s.data[0]->data, s.data[0]->len, "{\"type\":\"chat\"}",
			15);
	/* Under a quarter of the window: no WINDOW yet. */
	g_assert_cmpint(ll_mux_consume(p, 0, 15), ==, 0);
	g_assert_cmpuint(ll_buf_len(ll_mux_out(p)), ==, 0);
	g_assert_cmpint(ll_mux_consume(p, 0, 1), ==, LL_ERR_INVALID_ARG);
	seen_clear(&s);
	ll_mux_free(a);
	ll_mux_free(p);
	ll_mux_free(NULL);
}

static void test_credit_flow(void)
{
	static uint8_t blob[3 * WIN];
	struct ll_mux *a, *p;
	struct seen s;
	size_t taken = 0, i;

	for (i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7);
	new_pair(&a, &p);
	seen_init(&s);
	g_assert_cmpint(ll_mux_open(p, LL_MUX_CHANNEL_RFB), ==, 0);
	g_assert_cmpint(pump(p, a, &s), ==, 0);
	g_assert_cmpint(seen_type(&s, 0), ==, LL_MUX_EV_OPEN);
	g_assert_cmpint(g_array_index(s.channels, int, 0), ==, 1);
	g_assert_true(ll_mux_is_open(a, 1));
	seen_reset(&s);

	/* Only the credit is taken. */
	g_assert_cmpint(ll_mux_send(p, 1, blob, sizeof(blob), &taken), ==, 0);
	g_assert_cmpuint(taken, ==, WIN);
	g_assert_cmpuint(ll_mux_credit(p, 1), ==, 0);
	g_assert_cmpint(ll_mux_send(p, 1, blob + WIN, 10, &taken), ==, 0);
	g_assert_cmpuint(taken, ==, 0);
	/* The control channel has its own credit. */
	g_assert_cmpint(ll_mux_send(p, 0, "x", 1, &taken), ==, 0);
	g_assert_cmpuint(taken, ==, 1);
	g_assert_cmpint(pump(p, a, &s), ==, 0);
	g_assert_cmpmem(s.data[1]->data, s.data[1]->len, blob, WIN);

	/* Consuming gives credit back via WINDOW. */
	g_assert_cmpint(ll_mux_consume(a, 1, WIN / 4 - 1), ==, 0);
	g_assert_cmpuint(ll_buf_len(ll_mux_out(a)), ==, 0);
	g_assert_cmpint(ll_mux_consume(a, 1, 1), ==, 0);
	g_assert_cmpuint(ll_buf_len(ll_mux_out(a)), ==,
			 LL_FRAME_HEADER_LEN + 4);
	g_assert_cmpint(ll_mux_consume(a, 1, WIN - WIN / 4), ==, 0);
	seen_reset(&s);
	g_assert_cmpint(pump(a, p, &s), ==, 0);
	g_assert_cmpuint(s.types->len, ==, 2);
	g_assert_cmpint(seen_type(&s, 0), ==, LL_MUX_EV_WINDOW);
	g_assert_cmpuint(ll_mux_credit(p, 1), ==, WIN);
	g_assert_cmpuint(s.last_credit, ==, WIN);
	g_assert_cmpint(ll_mux_send(p, 1, blob + WIN, 2 * WIN, &taken), ==, 0);
	g_assert_cmpuint(taken, ==, WIN);
	seen_reset(&s);
	g_assert_cmpint(pump(p, a, &s), ==, 0);
	g_assert_cmpmem(s.data[1]->data, s.data[1]->len, blob + WIN, WIN);
	seen_clear(&s);
	ll_mux_free(a);
	ll_mux_free(p);
}

static void test_open_close(void)
{
	struct ll_mux *a, *p;
	struct seen s;
	uint16_t ch = 0;
	size_t taken;

	new_pair(&a, &p);
	seen_init(&s);
	/* Parity: the agent opens even ids, the applet odd ones. */
	g_assert_cmpint(ll_mux_open(a, 1), ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_mux_open(a, 0), ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_mux_open(p, 2), ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_mux_open_next(a, &ch), ==, 0);
	g_assert_cmpuint(ch, ==, 2);
	g_assert_cmpint(ll_mux_open(a, 2), ==, LL_ERR_CONFLICT);
	g_assert_cmpint(ll_mux_open_next(a, &ch), ==, 0);
	g_assert_cmpuint(ch, ==, 4);
	g_assert_cmpint(ll_mux_open_next(p, &ch), ==, 0);
	g_assert_cmpuint(ch, ==, 3);
	g_assert_cmpint(pump(a, p, &s), ==, 0);
	g_assert_cmpint(pump(p, a, &s), ==, 0);
	g_assert_true(ll_mux_is_open(p, 2));
	g_assert_true(ll_mux_is_open(p, 4));
	g_assert_true(ll_mux_is_open(a, 3));
	seen_reset(&s);

	/* The applet sends on 2 while the agent's CLOSE is under way. */
	g_assert_cmpint(ll_mux_close(a, 2), ==, 0);
	g_assert_false(ll_mux_is_open(a, 2));
	g_assert_cmpint(ll_mux_close(a, 2), ==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_mux_send(a, 2, "x", 1, &taken), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_mux_send(p, 2, "late", 4, &taken), ==, 0);
	g_assert_cmpint(pump(p, a, &s), ==, 0);
	/* Dropped without an event, not a violation. */
	g_assert_cmpint(seen_type(&s, 0), ==, LL_MUX_EV_NONE);
	g_assert_cmpuint(s.data[2]->len, ==, 0);
	seen_reset(&s);
	g_assert_cmpint(pump(a, p, &s), ==, 0);
	g_assert_cmpint(seen_type(&s, 0), ==, LL_MUX_EV_CLOSE);
	g_assert_cmpint(g_array_index(s.channels, int, 0), ==, 2);
	g_assert_false(ll_mux_is_open(p, 2));
	seen_reset(&s);
	/* The applet's answer frees the id on the agent's side. */
	g_assert_cmpint(ll_mux_open(a, 2), ==, LL_ERR_CONFLICT);
	g_assert_cmpint(pump(p, a, &s), ==, 0);
	g_assert_cmpint(seen_type(&s, 0), ==, LL_MUX_EV_NONE);
	g_assert_cmpint(ll_mux_open_next(a, &ch), ==, 0);
	g_assert_cmpuint(ch, ==, 2);
	g_assert_cmpint(ll_mux_close(a, 0), ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_mux_close(a, 99), ==, LL_ERR_NOT_FOUND);
	/* Consume on a closed channel is a no-op. */
	g_assert_cmpint(ll_mux_consume(a, 99, 5), ==, 0);

	/* Both close at once: each CLOSE is the other's answer. */
	g_assert_cmpint(pump(a, p, &s), ==, 0);
	seen_reset(&s);
	g_assert_cmpint(ll_mux_close(a, 4), ==, 0);
	g_assert_cmpint(ll_mux_close(p, 4), ==, 0);
	g_assert_cmpint(pump(a, p, &s), ==, 0);
	g_assert_cmpint(pump(p, a, &s), ==, 0);
	g_assert_cmpuint(ll_buf_len(ll_mux_out(a)), ==, 0);
	g_assert_cmpuint(ll_buf_len(ll_mux_out(p)), ==, 0);
	g_assert_cmpint(seen_type(&s, 0), ==, LL_MUX_EV_NONE);
	g_assert_cmpint(seen_type(&s, 1), ==, LL_MUX_EV_NONE);
	g_assert_false(ll_mux_is_open(a, 4));
	g_assert_false(ll_mux_is_open(p, 4));
	seen_clear(&s);
	ll_mux_free(a);
	ll_mux_free(p);
}

static void test_split_by_peer_max(void)
{
	static uint8_t blob[3000];
	struct ll_mux_config cfg;
	struct ll_mux *a, *p;
	struct seen s;
	size_t taken;
	guint i;

	ll_mux_config_default(&cfg);
	cfg.max_payload = 1024;
	a = ll_mux_new(&cfg);
	cfg.side = LL_SIDE_APPLET;
	p = ll_mux_new(&cfg);
	seen_init(&s);
	g_assert_cmpint(pump(a, p, &s), ==, 0);
	g_assert_cmpint(pump(p, a, &s), ==, 0);
	seen_reset(&s);
	memset(blob, 'z', sizeof(blob));
	g_assert_cmpint(ll_mux_send(a, 0, blob, sizeof(blob), &taken), ==, 0);
	g_assert_cmpuint(taken, ==, sizeof(blob));
	g_assert_cmpint(pump(a, p, &s), ==, 0);
	g_assert_cmpuint(s.types->len, ==, 3);
	for (i = 0; i < 3; i++)
		g_assert_cmpint(seen_type(&s, i), ==, LL_MUX_EV_DATA);
	g_assert_cmpmem(s.data[0]->data, s.data[0]->len, blob, sizeof(blob));
	seen_clear(&s);
	ll_mux_free(a);
	ll_mux_free(p);
}

static void test_out_buffer_bounded(void)
{
	static uint8_t blob[64 * 1024];
	struct ll_mux_config cfg;
	struct ll_mux *a, *p;
	struct seen s;
	size_t taken;

	ll_mux_config_default(&cfg);
	cfg.out_max = 16 * 1024;
	a = ll_mux_new(&cfg);
	cfg.side = LL_SIDE_APPLET;
	cfg.out_max = LL_MUX_DEFAULT_OUT_MAX;
	p = ll_mux_new(&cfg);
	seen_init(&s);
	g_assert_cmpint(pump(a, p, &s), ==, 0);
	g_assert_cmpint(pump(p, a, &s), ==, 0);
	g_assert_cmpint(ll_mux_send(a, 0, blob, sizeof(blob), &taken), ==, 0);
	g_assert_cmpuint(taken, >, 0);
	g_assert_cmpuint(taken, <, 16 * 1024);
	/* Room kept for control frames. */
	g_assert_cmpuint(ll_buf_room(ll_mux_out(a)), >=, 4096);
	g_assert_cmpint(ll_mux_send(a, 0, blob, sizeof(blob), &taken), ==, 0);
	g_assert_cmpuint(taken, ==, 0);
	seen_clear(&s);
	ll_mux_free(a);
	ll_mux_free(p);
}

static void test_config_invalid(void)
{
	struct ll_mux_config cfg;

	ll_mux_config_default(&cfg);
	cfg.max_payload = 100;
	g_assert_null(ll_mux_new(&cfg));
	ll_mux_config_default(&cfg);
	cfg.max_payload = LL_FRAME_MAX_PAYLOAD + 1;
	g_assert_null(ll_mux_new(&cfg));
	ll_mux_config_default(&cfg);
	cfg.initial_window = 0;
	g_assert_null(ll_mux_new(&cfg));
	ll_mux_config_default(&cfg);
	cfg.out_max = 100;
	g_assert_null(ll_mux_new(&cfg));
	ll_mux_config_default(&cfg);
	cfg.side = 7;
	g_assert_null(ll_mux_new(&cfg));
}

/* A fresh agent mux that has seen the applet's HELLO (window WIN). */
static struct ll_mux *ready_agent(void)
{
	struct ll_buf *b = ll_buf_new(1024);
	struct ll_frame_hello h = { 1, 4096, WIN };
	struct ll_mux_event ev;
	struct ll_mux_config cfg;
	struct ll_mux *m;

	ll_mux_config_default(&cfg);
	cfg.initial_window = WIN;
	m = ll_mux_new(&cfg);
	g_assert_cmpint(ll_frame_put_hello(b, &h), ==, 0);
	g_assert_cmpint(ll_mux_feed(m, ll_buf_data(b), ll_buf_len(b), &ev), ==,
			(int)ll_buf_len(b));
	g_assert_cmpint(ev.type, ==, LL_MUX_EV_HELLO);
	g_assert_cmpuint(ev.u.hello.max_payload, ==, 4096);
	/* Forget our own HELLO so the out buffer shows only what follows. */
	ll_buf_reset(ll_mux_out(m));
	ll_buf_free(b);
	return m;
}

/* Feed raw bytes; expect err; check the mux is dead and told the peer. */
static void expect_violation(struct ll_mux *m, struct ll_buf *in, int err)
{
	struct ll_mux_event ev;
	struct ll_buf *out = ll_mux_out(m);
	struct ll_frame f;
	const uint8_t *d = ll_buf_data(in);
	size_t off = 0, len = ll_buf_len(in);
	int n;

	while ((n = ll_mux_feed(m, d + off, len - off, &ev)) > 0)
		off += (size_t)n;
	g_assert_cmpint(n, ==, err);
	g_assert_cmpint(ev.type, ==, LL_MUX_EV_NONE);
	g_assert_true(ll_mux_dead(m));
	g_assert_false(ll_mux_ready(m));
	g_assert_cmpstr(ll_mux_error(m), !=, "no error");
	/* The last queued frame is our ERROR with the code. */
	g_assert_cmpuint(ll_buf_len(out), >, 0);
	{
		const uint8_t *o = ll_buf_data(out);
		size_t left = ll_buf_len(out);

		while ((n = ll_frame_decode(o, left, 0, &f)) > 0 &&
		       (size_t)n < left) {
			o += n;
			left -= (size_t)n;
		}
		g_assert_cmpint(n, ==, (int)left);
		g_assert_cmpuint(f.type, ==, LL_FRAME_ERROR);
		g_assert_cmpuint(f.u.error.code, ==, (unsigned)-err);
	}
	/* Dead stays dead. */
	g_assert_cmpint(ll_mux_feed(m, d, len, &ev), ==, err);
	g_assert_cmpint(ll_mux_open(m, 2), ==, err);
	{
		size_t taken = 99;

		g_assert_cmpint(ll_mux_send(m, 0, "x", 1, &taken), ==, err);
		g_assert_cmpuint(taken, ==, 0);
	}
	ll_mux_free(m);
	ll_buf_free(in);
}

static void test_violations(void)
{
	struct ll_frame_hello h = { 1, 4096, WIN };
	static uint8_t blob[WIN + 1];
	struct ll_buf *in;
	struct ll_mux *m;
	size_t i;

	/* DATA before HELLO. */
	m = ll_mux_new(NULL);
	in = ll_buf_new(1 << 16);
	ll_frame_put_data(in, 0, "x", 1);
	expect_violation(m, in, LL_ERR_PROTOCOL);

	/* A second HELLO. */
	m = ready_agent();
	in = ll_buf_new(1 << 16);
	ll_frame_put_hello(in, &h);
	expect_violation(m, in, LL_ERR_PROTOCOL);

	/* Data beyond credit, in two frames. */
	m = ready_agent();
	in = ll_buf_new(1 << 16);
	ll_frame_put_data(in, 0, blob, WIN);
	ll_frame_put_data(in, 0, blob, 1);
	expect_violation(m, in, LL_ERR_PROTOCOL);

	/* In one frame. */
	m = ready_agent();
	in = ll_buf_new(1 << 16);
	ll_frame_put_data(in, 0, blob, WIN + 1);
	expect_violation(m, in, LL_ERR_PROTOCOL);

	/* Data, WINDOW or CLOSE on a channel nobody opened. */
	m = ready_agent();
	in = ll_buf_new(1 << 16);
	ll_frame_put_data(in, 3, "x", 1);
	expect_violation(m, in, LL_ERR_PROTOCOL);
	m = ready_agent();
	in = ll_buf_new(1 << 16);
	ll_frame_put_window(in, 3, 1);
	expect_violation(m, in, LL_ERR_PROTOCOL);
	m = ready_agent();
	in = ll_buf_new(1 << 16);
	ll_frame_put_close(in, 3);
	expect_violation(m, in, LL_ERR_PROTOCOL);

	/* The applet opening an agent's id, or the control channel. */
	m = ready_agent();
	in = ll_buf_new(1 << 16);
	ll_frame_put_open(in, 2);
	expect_violation(m, in, LL_ERR_PROTOCOL);
	m = ready_agent();
	in = ll_buf_new(1 << 16);
	ll_frame_put_open(in, 0);
	expect_violation(m, in, LL_ERR_PROTOCOL);

	/* Opening an open channel. */
	m = ready_agent();
	in = ll_buf_new(1 << 16);
	ll_frame_put_open(in, 1);
	ll_frame_put_open(in, 1);
	expect_violation(m, in, LL_ERR_PROTOCOL);

	/* Closing the control channel. */
	m = ready_agent();
	in = ll_buf_new(1 << 16);
	ll_frame_put_close(in, 0);
	expect_violation(m, in, LL_ERR_PROTOCOL);

	/* Credit past 2^32-1. */
	m = ready_agent();
	in = ll_buf_new(1 << 16);
	ll_frame_put_window(in, 0, UINT32_MAX - WIN);
	ll_frame_put_window(in, 0, 1);
	expect_violation(m, in, LL_ERR_PROTOCOL);

	/* Too many channels. */
	m = ready_agent();
	in = ll_buf_new(1 << 16);
	for (i = 0; i < LL_MUX_MAX_CHANNELS; i++)
		ll_frame_put_open(in, (uint16_t)(2 * i + 1));
	expect_violation(m, in, LL_ERR_PROTOCOL);

	/* Undecodable frames carry the codec's error. */
	m = ready_agent();
	in = ll_buf_new(1 << 16);
	ll_buf_put(in, "\x09\x00\x00\x00\x00\x00\x00", 7);
	expect_violation(m, in, LL_ERR_UNKNOWN_TYPE);
	m = ready_agent();
	in = ll_buf_new(1 << 16);
	ll_buf_put(in, "\x02\x00\x00\x00\x01\x00\x01", 7);
	expect_violation(m, in, LL_ERR_TOO_LARGE);
	m = ready_agent();
	in = ll_buf_new(1 << 16);
	ll_buf_put(in, "\x04\x00\x01\x00\x00\x00\x01\x00", 8);
	expect_violation(m, in, LL_ERR_MALFORMED);
	m = ll_mux_new(NULL);
	in = ll_buf_new(1 << 16);
	h.version = 2;
	ll_frame_put_hello(in, &h);
	expect_violation(m, in, LL_ERR_BAD_VERSION);
}

static void test_feed_byte_by_byte(void)
{
	struct ll_mux *a, *p;
	struct ll_buf *out;
	struct ll_mux_event ev;
	const uint8_t *d;
	size_t i, start = 0, events = 0, taken;
	int n;

	new_pair(&a, &p);
	g_assert_cmpint(ll_mux_open(p, 1), ==, 0);
	g_assert_cmpint(ll_mux_send(p, 1, "hello world", 11, &taken), ==, 0);
	g_assert_cmpint(ll_mux_close(p, 1), ==, 0);
	out = ll_mux_out(p);
	d = ll_buf_data(out);
	/* Grow the window one byte at a time: 0 until a frame is whole. */
	for (i = 1; i <= ll_buf_len(out); i++) {
		n = ll_mux_feed(a, d + start, i - start, &ev);
		g_assert_cmpint(n, >=, 0);
		if (n > 0) {
			g_assert_cmpuint(start + (size_t)n, ==, i);
			start = i;
			events++;
		} else {
			g_assert_cmpint(ev.type, ==, LL_MUX_EV_NONE);
		}
	}
	g_assert_cmpuint(events, ==, 3);
	g_assert_cmpint(ev.type, ==, LL_MUX_EV_CLOSE);
	ll_mux_free(a);
	ll_mux_free(p);
}

static void test_peer_error_and_fail(void)
{
	struct ll_mux *a, *p;
	struct ll_mux_event ev;
	struct seen s;
	size_t taken;

	new_pair(&a, &p);
	seen_init(&s);
	g_assert_cmpint(ll_mux_fail(p, LL_ERR_TIMEOUT, "consent timed out"),
			==, 0);
	g_assert_true(ll_mux_dead(p));
	g_assert_cmpint(ll_mux_fail(p, LL_ERR_IO, "again"), ==, 0);
	g_assert_cmpint(ll_mux_fail(p, 0, "not an error"), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpstr(ll_mux_error(p), ==, "consent timed out");
	g_assert_cmpint(ll_mux_send(p, 0, "x", 1, &taken), ==, LL_ERR_TIMEOUT);
	g_assert_cmpint(pump(p, a, &s), ==, 0);
	g_assert_cmpint(seen_type(&s, 0), ==, LL_MUX_EV_ERROR);
	g_assert_cmpint(s.peer_err, ==, LL_ERR_TIMEOUT);
	g_assert_cmpstr(s.reason, ==, "consent timed out");
	g_assert_true(ll_mux_dead(a));
	g_assert_nonnull(strstr(ll_mux_error(a), "consent timed out"));
	g_assert_cmpint(ll_mux_feed(a, (const uint8_t *)"x", 1, &ev), ==,
			LL_ERR_CLOSED);
	seen_clear(&s);
	ll_mux_free(a);
	ll_mux_free(p);
}

/* A peer refusing our HELLO says so before any HELLO of its own. */
static void test_error_before_hello(void)
{
	struct ll_mux *m = ll_mux_new(NULL);
	struct ll_buf *in = ll_buf_new(1024);
	struct ll_mux_event ev;

	ll_frame_put_error(in, (uint16_t)-LL_ERR_BAD_VERSION, "version 1?");
	g_assert_cmpint(ll_mux_feed(m, ll_buf_data(in), ll_buf_len(in), &ev),
			==, (int)ll_buf_len(in));
	g_assert_cmpint(ev.type, ==, LL_MUX_EV_ERROR);
	g_assert_cmpint(ev.u.error.err, ==, LL_ERR_BAD_VERSION);
	ll_buf_free(in);
	ll_mux_free(m);
}

/* Opening before the peer's HELLO: credit arrives with it. */
static void test_open_before_hello(void)
{
	struct ll_mux_config cfg;
	struct ll_mux *a, *p;
	struct seen s;
	size_t taken;

	ll_mux_config_default(&cfg);
	cfg.side = LL_SIDE_APPLET;
	p = ll_mux_new(&cfg);
	cfg.side = LL_SIDE_AGENT;
	cfg.initial_window = WIN;
	a = ll_mux_new(&cfg);
	g_assert_cmpint(ll_mux_open(p, 1), ==, 0);
	g_assert_cmpuint(ll_mux_credit(p, 1), ==, 0);
	g_assert_cmpint(ll_mux_send(p, 1, "x", 1, &taken), ==, 0);
	g_assert_cmpuint(taken, ==, 0);
	seen_init(&s);
	g_assert_cmpint(pump(a, p, &s), ==, 0);
	g_assert_cmpuint(ll_mux_credit(p, 1), ==, WIN);
	g_assert_cmpint(pump(p, a, &s), ==, 0);
	g_assert_true(ll_mux_is_open(a, 1));
	seen_clear(&s);
	ll_mux_free(a);
	ll_mux_free(p);
}

/* A widened channel: the peer gets the larger credit, the others keep
 * theirs, and credit comes back in quarters of the larger window. */
static void test_widen(void)
{
	static uint8_t blob[4 * WIN];
	struct ll_mux *a, *p;
	struct seen s;
	size_t taken = 0;

	new_pair(&a, &p);
	seen_init(&s);
	g_assert_cmpint(ll_mux_open(p, 1), ==, 0);
	g_assert_cmpint(ll_mux_open(p, 3), ==, 0);
	g_assert_cmpint(pump(p, a, &s), ==, 0);
	g_assert_cmpuint(ll_mux_window(a, 3), ==, WIN);
	g_assert_cmpint(ll_mux_widen(a, 3, WIN - 1), ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_mux_widen(a, 3, LL_MUX_MAX_WINDOW + 1), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_mux_widen(a, 5, 4 * WIN), ==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_mux_widen(a, 3, 4 * WIN), ==, 0);
	g_assert_cmpint(ll_mux_widen(a, 3, 4 * WIN), ==, 0); /* no-op */
	g_assert_cmpuint(ll_mux_window(a, 3), ==, 4 * WIN);
	g_assert_cmpuint(ll_mux_window(a, 1), ==, WIN);
	seen_reset(&s);
	g_assert_cmpint(pump(a, p, &s), ==, 0);
	g_assert_cmpuint(s.types->len, ==, 1);
	g_assert_cmpint(seen_type(&s, 0), ==, LL_MUX_EV_WINDOW);
	g_assert_cmpuint(ll_mux_credit(p, 3), ==, 4 * WIN);
	g_assert_cmpuint(ll_mux_credit(p, 1), ==, WIN);
	g_assert_cmpint(ll_mux_send(p, 3, blob, sizeof(blob), &taken), ==, 0);
	g_assert_cmpuint(taken, ==, 4 * WIN);
	g_assert_cmpint(pump(p, a, &s), ==, 0);
	/* A quarter of the HELLO's window is not yet a quarter of this. */
	g_assert_cmpint(ll_mux_consume(a, 3, WIN / 4), ==, 0);
	g_assert_cmpuint(ll_buf_len(ll_mux_out(a)), ==, 0);
	g_assert_cmpint(ll_mux_consume(a, 3, WIN - WIN / 4 - 1), ==, 0);
	g_assert_cmpuint(ll_buf_len(ll_mux_out(a)), ==, 0);
	g_assert_cmpint(ll_mux_consume(a, 3, 1), ==, 0);
	g_assert_cmpuint(ll_buf_len(ll_mux_out(a)), ==,
			 LL_FRAME_HEADER_LEN + 4);
	seen_reset(&s);
	g_assert_cmpint(pump(a, p, &s), ==, 0);
	g_assert_cmpuint(ll_mux_credit(p, 3), ==, WIN);
	seen_clear(&s);
	ll_mux_free(a);
	ll_mux_free(p);
}

/* A hostile sender on a widened channel: everything granted is fine,
 * one byte more ends the session, as on any other channel. */
static void test_widen_hostile(void)
{
	static uint8_t blob[4096];
	struct ll_mux_event ev;
	struct ll_buf *in;
	struct ll_mux *m;
	size_t i;

	m = ready_agent();
	in = ll_buf_new(1 << 16);
	ll_frame_put_open(in, 1);
	g_assert_cmpint(ll_mux_feed(m, ll_buf_data(in), ll_buf_len(in), &ev),
			==, (int)ll_buf_len(in));
	ll_buf_free(in);
	g_assert_cmpint(ll_mux_widen(m, 1, 8 * WIN), ==, 0);
	in = ll_buf_new(16 * WIN);
	for (i = 0; i < 8 * WIN / sizeof(blob); i++)
		ll_frame_put_data(in, 1, blob, sizeof(blob));
	for (i = 0; i < ll_buf_len(in);) {
		int n = ll_mux_feed(m, ll_buf_data(in) + i, ll_buf_len(in) - i,
				    &ev);

		g_assert_cmpint(n, >, 0);
		g_assert_cmpint(ev.type, ==, LL_MUX_EV_DATA);
		i += (size_t)n;
	}
	ll_buf_reset(in);
	ll_frame_put_data(in, 1, blob, 1);
	expect_violation(m, in, LL_ERR_PROTOCOL);
	g_assert_cmpuint(ll_mux_window(NULL, 1), ==, 0);
	g_assert_cmpint(ll_mux_widen(NULL, 1, WIN), ==, LL_ERR_INVALID_ARG);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mux/handshake_and_control",
			test_handshake_and_control);
	g_test_add_func("/mux/credit_flow", test_credit_flow);
	g_test_add_func("/mux/open_close", test_open_close);
	g_test_add_func("/mux/split_by_peer_max", test_split_by_peer_max);
	g_test_add_func("/mux/out_buffer_bounded", test_out_buffer_bounded);
	g_test_add_func("/mux/config_invalid", test_config_invalid);
	g_test_add_func("/mux/violations", test_violations);
	g_test_add_func("/mux/feed_byte_by_byte", test_feed_byte_by_byte);
	g_test_add_func("/mux/peer_error_and_fail", test_peer_error_and_fail);
	g_test_add_func("/mux/error_before_hello", test_error_before_hello);
	g_test_add_func("/mux/open_before_hello", test_open_before_hello);
	g_test_add_func("/mux/widen", test_widen);
	g_test_add_func("/mux/widen_hostile", test_widen_hostile);
	return g_test_run();
}
