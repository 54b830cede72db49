/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The applet's RFB server (applet/rfb_server.c) through a socketpair, as
 * the technician's viewer sees it after the bridge, with the fake capture
 * backend (tests/applet/fake_platform.c) counting injected input.
 *
 *  handshake-and-gate  RFB 3.8 without authentication, ServerInit with
 *                      the capture's size, a raw frame; input reaches the
 *                      platform only while the gate is open, never as a
 *                      click on one of the applet's windows; held input
 *                      is released when the gate closes.
 *  held-key-stalled    a key held down through the gate, then half a
 *                      message that leaves the RFB thread stuck in a read:
 *                      closing the gate releases the key on the closing
 *                      thread before the call returns, without waiting
 *                      for the RFB thread.
 *  stalled-peer        a viewer that sends half a message and stops:
 *                      libvncserver blocks in its read (up to 20 s), but
 *                      on its own thread -- the main loop keeps ticking
 *                      and the server stops at once when asked.
 *  slow-reader         a viewer that asks for frames and never reads:
 *                      libvncserver blocks in its write; the same holds.
 *  scroll-copyrect     a server opened and let go in two steps (as the
 *                      session does around the consent click); the
 *                      screen scrolls: the viewer gets CopyRects and,
 *                      applying only incremental updates, ends with the
 *                      screen's picture exactly.
 *  lossless-refresh-motion  Tight with JPEG: motion and a SetEncodings
 *                      while a lossless refresh is on its way; once
 *                      still, the viewer's picture is the screen's.
 *  pipeline-bounded    one request buys its answer and one update ahead,
 *                      no more, and only in the area asked for.
 *  pipeline-hostile-flood  20,000 odd update requests (zero size,
 *                      outside, wrapping, overlapping): a well-formed
 *                      stream, the bound, no growth, a right picture.
 *  pipeline-stalled-viewer  a viewer that stops reading: the socket's
 *                      buffer waits, nothing grows; it reads again and
 *                      the session goes on.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <zlib.h>

#include "ll_util.h"
#include "applet_rfb.h"
#include "fake_platform.h"
#include "lt_wait.h"

/* What the server reports from its thread, under lock. */
struct ready {
	GMutex lock;
	GCond changed;
	int ready;
	int ended;
};

static void cb_ready(void *user)
{
	struct ready *rd = user;

	g_mutex_lock(&rd->lock);
	rd->ready++;
	g_cond_broadcast(&rd->changed);
	g_mutex_unlock(&rd->lock);
}

static void cb_ended(void *user, const char *why)
{
	struct ready *rd = user;

	g_mutex_lock(&rd->lock);
	rd->ended++;
	g_cond_broadcast(&rd->changed);
	g_mutex_unlock(&rd->lock);
}

/* The number of "ended" reports, once there are want of them or
 * timeout_ms passed. */
static int wait_ended(struct ready *rd, int want, int timeout_ms)
{
	int64_t end = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
	int n;

	g_mutex_lock(&rd->lock);
	while (rd->ended < want &&
	       g_cond_wait_until(&rd->changed, &rd->lock, end))
		;
	n = rd->ended;
	g_mutex_unlock(&rd->lock);
	return n;
}

static int n_ready(struct ready *rd)
{
	int n;

	g_mutex_lock(&rd->lock);
	n = rd->ready;
	g_mutex_unlock(&rd->lock);
	return n;
}

static bool read_exact(int fd, void *buf, size_t len, int timeout_ms)
{
	uint8_t *p = buf;
	int64_t end = g_get_monotonic_time() / 1000 + timeout_ms;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	while (len > 0) {
		int left = (int)(end - g_get_monotonic_time() / 1000);

		if (left <= 0 || poll(&pfd, 1, left) != 1)
			return false;
		n = read(fd, p, len);
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void write_all(int fd, const void *buf, size_t len)
{
	g_assert_cmpint(write(fd, buf, len), ==, (ssize_t)len);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* RFB 3.8 as a viewer: version, security None, ClientInit, ServerInit. */
static void handshake(int fd, uint16_t *w, uint16_t *h, char **name)
{
	uint8_t buf[64], n;
	uint32_t len;
	bool none = false;
	int i;

	g_assert_true(read_exact(fd, buf, 12, 5000));
	g_assert_cmpmem(buf, 12, "RFB 003.008\n", 12);
	write_all(fd, "RFB 003.008\n", 12);
	g_assert_true(read_exact(fd, &n, 1, 5000));
	g_assert_cmpuint(n, >, 0);
	g_assert_true(read_exact(fd, buf, n, 5000));
	for (i = 0; i < n; i++)
		if (buf[i] == 1)
			none = true;
	/* The tunnel is the authentication: security type None only. */
	g_assert_true(none);
	g_assert_cmpuint(n, ==, 1);
	write_all(fd, "\x01", 1);
	g_assert_true(read_exact(fd, buf, 4, 5000));
	g_assert_cmpuint(be32(buf), ==, 0);
	write_all(fd, "\x01", 1); /* ClientInit: shared */
	g_assert_true(read_exact(fd, buf, 24, 5000));
	*w = be16(buf);
	*h = be16(buf + 2);
	g_assert_cmpuint(buf[4], ==, 32); /* bits per pixel */
	len = be32(buf + 20);
	g_assert_cmpuint(len, <, 64);
	*name = g_malloc0(len + 1);
	g_assert_true(read_exact(fd, *name, len, 5000));
}

static void pointer(int fd, uint8_t mask, uint16_t x, uint16_t y)
{
	uint8_t m[6] = { 5,
			 mask,
			 (uint8_t)(x >> 8),
			 (uint8_t)x,
			 (uint8_t)(y >> 8),
			 (uint8_t)y };

	write_all(fd, m, sizeof(m));
}

static void keyev(int fd, bool down, uint32_t sym)
{
	uint8_t m[8] = { 4,
			 down,
			 0,
			 0,
			 (uint8_t)(sym >> 24),
			 (uint8_t)(sym >> 16),
			 (uint8_t)(sym >> 8),
			 (uint8_t)sym };

	write_all(fd, m, sizeof(m));
}

static void fb_request(int fd, bool incremental, uint16_t w, uint16_t h)
{
	uint8_t m[10] = { 3,
			  incremental,
			  0,
			  0,
			  0,
			  0,
			  (uint8_t)(w >> 8),
			  (uint8_t)w,
			  (uint8_t)(h >> 8),
			  (uint8_t)h };

	write_all(fd, m, sizeof(m));
}

/*
 * Waits until the server has handled every message sent before: it
 * answers a full (non-incremental) update request only after reading
 * all that came earlier on the socket, in order.  Reads the whole raw
 * update (w x h at 32 bpp).
 */
static void barrier(int fd, uint16_t w, uint16_t h)
{
	uint8_t hdr[12];
	uint16_t i, nrects;
	size_t len;
	uint8_t *pix;

	fb_request(fd, false, w, h);
	g_assert_true(read_exact(fd, hdr, 4, 5000));
	g_assert_cmpuint(hdr[0], ==, 0);
	nrects = be16(hdr + 2);
	for (i = 0; i < nrects; i++) {
		g_assert_true(read_exact(fd, hdr, 12, 5000));
		g_assert_cmpuint(be32(hdr + 8), ==, 0); /* raw */
		len = (size_t)be16(hdr + 4) * be16(hdr + 6) * 4;
		pix = g_malloc(len);
		g_assert_true(read_exact(fd, pix, len, 5000));
		g_free(pix);
	}
}

struct rig {
	struct ll_input_gate *gate;
	struct ll_fake_input in;
	struct ready rd;
	struct ll_rfb_server *srv;
	struct ll_platform *cap; /* the server's */
	int fd;                  /* the viewer's end */
};

/* The server, not started. */
static void rig_make(struct rig *r, uint32_t w, uint32_t h, bool damage)
{
	struct ll_rfb_server_cbs cbs = { .client_ready = cb_ready,
					 .ended = cb_ended };
	struct ll_platform *p = NULL, *inj = NULL;

	memset(r, 0, sizeof(*r));
	g_mutex_init(&r->rd.lock);
	g_cond_init(&r->rd.changed);
	cbs.user = &r->rd;
	r->gate = ll_input_gate_new();
	/* Capture and injection are two instances, as in the applet. */
	g_assert_cmpint(ll_fake_platform_new(w, h, damage, NULL, &p), ==, 0);
	r->cap = p;
	g_assert_cmpint(ll_fake_platform_new(w, h, damage, &r->in, &inj), ==,
			0);
	ll_input_gate_set_injector(r->gate, inj);
	g_assert_cmpint(ll_rfb_server_new(p, r->gate, NULL, "Test desk", &cbs,
					  &r->srv),
			==, 0);
	r->fd = -1;
}

static void rig_start(struct rig *r, uint32_t w, uint32_t h, bool damage)
{
	int sv[2];

	rig_make(r, w, h, damage);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			==, 0);
	g_assert_cmpint(ll_rfb_server_start(r->srv, sv[0]), ==, 0);
	r->fd = sv[1];
}

/*
 * Frees the server and returns how long that took (ms).  close_first:
 * close the viewer's end before, as the session does (it closes the
 * bridged channel before it frees the server).
 */
static int64_t rig_stop(struct rig *r, bool close_first)
{
	int64_t t0 = g_get_monotonic_time();

	if (close_first)
		close(r->fd);
	ll_rfb_server_free(r->srv);
	t0 = (g_get_monotonic_time() - t0) / 1000;
	if (!close_first)
		close(r->fd);
	ll_input_gate_free(r->gate);
	g_mutex_clear(&r->rd.lock);
	g_cond_clear(&r->rd.changed);
	return t0;
}

static void test_handshake_and_gate(void)
{
	struct rig r;
	uint8_t hdr[16];
	uint16_t w, h, nrects;
	char *name;
	uint8_t *pix;
	unsigned downs, resets;
	int key_win;

	rig_start(&r, 64, 32, true);
	handshake(r.fd, &w, &h, &name);
	g_assert_cmpuint(w, ==, 64);
	g_assert_cmpuint(h, ==, 32);
	g_assert_cmpstr(name, ==, "Test desk");
	g_free(name);
	/* reported before the thread served the handshake */
	g_assert_cmpint(n_ready(&r.rd), ==, 1);

	/* One raw frame of the fake's gradient. */
	fb_request(r.fd, false, 64, 32);
	g_assert_true(read_exact(r.fd, hdr, 4, 5000));
	g_assert_cmpuint(hdr[0], ==, 0);
	nrects = be16(hdr + 2);
	g_assert_cmpuint(nrects, ==, 1);
	g_assert_true(read_exact(r.fd, hdr, 12, 5000));
	g_assert_cmpuint(be16(hdr + 4), ==, 64);
	g_assert_cmpuint(be16(hdr + 6), ==, 32);
	g_assert_cmpuint(be32(hdr + 8), ==, 0); /* raw */
	pix = g_malloc(64 * 32 * 4);
	g_assert_true(read_exact(r.fd, pix, 64 * 32 * 4, 5000));
	g_assert_cmpuint(pix[0] | pix[1] | pix[2], !=, 0);
	g_free(pix);

	/* Gate closed (no control): nothing reaches the desktop. */
	pointer(r.fd, 1, 10, 10);
	pointer(r.fd, 0, 10, 10);
	keyev(r.fd, true, 'a');
	keyev(r.fd, false, 'a');
	barrier(r.fd, 64, 32);
	g_assert_cmpuint(atomic_load(&r.in.moves), ==, 0);
	g_assert_cmpuint(atomic_load(&r.in.buttons_down), ==, 0);
	g_assert_cmpuint(atomic_load(&r.in.keys), ==, 0);

	/* Control granted: it does. */
	ll_input_gate_set_control(r.gate, true);
	pointer(r.fd, 1, 10, 11);
	pointer(r.fd, 0, 10, 11);
	keyev(r.fd, true, 0x20ac); /* EuroSign: a non-ASCII keysym */
	keyev(r.fd, false, 0x20ac);
	barrier(r.fd, 64, 32);
	g_assert_cmpuint(atomic_load(&r.in.buttons_down), ==, 1);
	g_assert_cmpuint(atomic_load(&r.in.buttons_up), ==, 1);
	g_assert_cmpuint(atomic_load(&r.in.keys), ==, 2);
	g_assert_cmpint(atomic_load(&r.in.last_x), ==, 10);
	g_assert_cmpint(atomic_load(&r.in.last_y), ==, 11);

	/* Never a click on one of the applet's windows. */
	ll_input_gate_set_window(r.gate, &key_win, 0, 0, 20, 20, true);
	pointer(r.fd, 1, 5, 5);
	pointer(r.fd, 0, 5, 5);
	pointer(r.fd, 4, 30, 5); /* right button, outside */
	pointer(r.fd, 0, 30, 5);
	barrier(r.fd, 64, 32);
	g_assert_cmpuint(atomic_load(&r.in.buttons_down), ==, 2);
	g_assert_cmpuint(atomic_load(&r.in.buttons_up), ==, 2);

	/* While the applet has the focus, keys go nowhere. */
	ll_input_gate_set_applet_focus(r.gate, true);
	keyev(r.fd, true, 'b');
	keyev(r.fd, false, 'b');
	pointer(r.fd, 0, 31, 6);
	barrier(r.fd, 64, 32);
	g_assert_cmpint(atomic_load(&r.in.last_x), ==, 31);
	g_assert_cmpuint(atomic_load(&r.in.keys), ==, 2);
	ll_input_gate_set_applet_focus(r.gate, false);

	/* A consent dialog opens with a button held: released at once,
	 * and nothing more gets through. */
	pointer(r.fd, 1, 40, 20);
	barrier(r.fd, 64, 32);
	g_assert_cmpuint(atomic_load(&r.in.buttons_down), ==, 3);
	resets = atomic_load(&r.in.resets);
	ll_input_gate_set_consent_open(r.gate, true);
	/* Released by the call itself, not later by the RFB thread. */
	g_assert_cmpuint(atomic_load(&r.in.resets), >, resets);
	downs = atomic_load(&r.in.buttons_down);
	pointer(r.fd, 0, 40, 20);
	pointer(r.fd, 1, 41, 20);
	keyev(r.fd, true, 'c');
	barrier(r.fd, 64, 32);
	g_assert_cmpuint(atomic_load(&r.in.buttons_down), ==, downs);
	g_assert_cmpuint(atomic_load(&r.in.keys), ==, 2);

	/* Stop control: the same. */
	ll_input_gate_set_consent_open(r.gate, false);
	ll_input_gate_set_control(r.gate, false);
	pointer(r.fd, 0, 41, 20);
	pointer(r.fd, 1, 42, 20);
	barrier(r.fd, 64, 32);
	g_assert_cmpuint(atomic_load(&r.in.buttons_down), ==, downs);

	/* Control again: the button held through the closed gate is not
	 * ours, neither its release nor a new press while it stays down. */
	ll_input_gate_set_control(r.gate, true);
	pointer(r.fd, 1, 43, 20);
	pointer(r.fd, 0, 43, 20);
	barrier(r.fd, 64, 32);
	g_assert_cmpuint(atomic_load(&r.in.buttons_down), ==, downs);
	g_assert_cmpuint(atomic_load(&r.in.buttons_up), ==, 2);
	ll_input_gate_set_control(r.gate, false);

	g_assert_cmpint(rig_stop(&r, false), <, 2000);
	/* Stopped on request: no "ended" report (the thread is joined). */
	g_assert_cmpint(r.rd.ended, ==, 0);
}

static int64_t max_gap_ms;
static int64_t last_tick;

static gboolean tick(gpointer data)
{
	int64_t now = g_get_monotonic_time() / 1000;

	if (last_tick != 0 && now - last_tick > max_gap_ms)
		max_gap_ms = now - last_tick;
	last_tick = now;
	return G_SOURCE_CONTINUE;
}

static gboolean quit_loop(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

/* The main loop runs for ms while the RFB thread is stuck: time itself
 * is under test (the longest gap between its 10 ms ticks). */
static void run_main_loop(int ms)
{
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	guint t = g_timeout_add(10, tick, NULL);

	max_gap_ms = 0;
	last_tick = 0;
	g_timeout_add(ms, quit_loop, loop);
	g_main_loop_run(loop);
	g_source_remove(t);
	g_main_loop_unref(loop);
}

/*
 * Waits until the server has read everything we sent: after half a
 * message, the RFB thread is then blocked in its read for the rest.
 */
static void barrier_thread_blocked(struct rig *r)
{
	g_assert_true(lt_wait_peer_read(r->fd, 3000));
}

/*
 * The attack of a hostile technician: hold a key through the open gate,
 * then stall libvncserver in the middle of a message.  Closing the gate
 * must release the key from the closing thread, at once.
 */
static void test_held_key_stalled(void)
{
	struct rig r;
	uint16_t w, h;
	char *name;
	unsigned resets;
	int64_t t0, us;

	rig_start(&r, 64, 32, true);
	handshake(r.fd, &w, &h, &name);
	g_free(name);
	ll_input_gate_set_control(r.gate, true);
	keyev(r.fd, true, 0xffe9); /* Alt_L */
	keyev(r.fd, true, 'a');
	barrier(r.fd, 64, 32);
	g_assert_cmpuint(atomic_load(&r.in.keys), ==, 2);
	/* Two bytes of an 8-byte KeyEvent: the RFB thread now sits in
	 * rfbReadExact() waiting for the other six. */
	write_all(r.fd, "\x04\x01", 2);
	barrier_thread_blocked(&r);

	resets = atomic_load(&r.in.resets);
	t0 = g_get_monotonic_time();
	ll_input_gate_set_control(r.gate, false); /* Stop control */
	us = g_get_monotonic_time() - t0;
	g_test_message("held keys released in %" G_GINT64_FORMAT " us", us);
	g_assert_cmpuint(atomic_load(&r.in.resets), ==, resets + 1);

	/* The rest of the message arrives after the gate closed: the key
	 * it carries is dropped. */
	write_all(r.fd, "\x00\x00\x00\x00\x00\x61", 6);
	barrier(r.fd, 64, 32);
	g_assert_cmpuint(atomic_load(&r.in.keys), ==, 2);
	g_assert_cmpint(rig_stop(&r, false), <, 2000);
}

static void test_stalled_peer(void)
{
	struct rig r;
	uint16_t w, h;
	char *name;
	int64_t ms;

	rig_start(&r, 64, 32, true);
	handshake(r.fd, &w, &h, &name);
	g_free(name);
	ll_input_gate_set_control(r.gate, true);
	/* The first byte of a 6-byte PointerEvent, then silence:
	 * libvncserver now waits in rfbReadExact for the other five. */
	write_all(r.fd, "\x05", 1);
	barrier_thread_blocked(&r);

	run_main_loop(1000);
	g_test_message("main loop: longest gap %" G_GINT64_FORMAT " ms",
		       max_gap_ms);
	g_assert_cmpint(max_gap_ms, <, 500);
	/* The gate (shared with the RFB thread) never waits for it. */
	ll_input_gate_set_control(r.gate, false);
	ll_input_gate_set_control(r.gate, true);
	ll_rfb_server_wake(r.srv);
	g_assert_cmpuint(atomic_load(&r.in.moves), ==, 0);

	/* The viewer's end stays open: shutdown() alone wakes the read. */
	ms = rig_stop(&r, false);
	g_test_message("stopped a stalled server in %" G_GINT64_FORMAT " ms",
		       ms);
	g_assert_cmpint(ms, <, 2000);
}

static void test_slow_reader(void)
{
	struct rig r;
	uint16_t w, h;
	char *name;
	int64_t ms;
	int i;

	/* Full frames every 100 ms (no damage), 1 MiB each. */
	rig_start(&r, 512, 512, false);
	handshake(r.fd, &w, &h, &name);
	g_free(name);
	for (i = 0; i < 20; i++)
		fb_request(r.fd, i > 0, 512, 512);
	/* Never read: the socket fills and libvncserver's write blocks. */
	run_main_loop(1500);
	g_test_message("main loop: longest gap %" G_GINT64_FORMAT " ms",
		       max_gap_ms);
	g_assert_cmpint(max_gap_ms, <, 500);
	ms = rig_stop(&r, true);
	g_test_message("stopped a blocked writer in %" G_GINT64_FORMAT " ms",
		       ms);
	g_assert_cmpint(ms, <, 2000);
}

static void test_viewer_leaves(void)
{
	struct rig r;
	uint16_t w, h;
	char *name;

	rig_start(&r, 64, 32, true);
	handshake(r.fd, &w, &h, &name);
	g_free(name);
	/* The bridge closes the other end: the thread ends by itself. */
	shutdown(r.fd, SHUT_RDWR);
	g_assert_cmpint(wait_ended(&r.rd, 1, 3000), ==, 1);
	g_assert_cmpint(rig_stop(&r, false), <, 2000);
}

/* One FramebufferUpdate, Raw and CopyRect only, applied to view (w
 * wide, 32 bpp); returns the number of CopyRects. */
static unsigned apply_update(int fd, uint32_t *view, uint16_t w, uint16_t h)
{
	uint8_t hdr[12];
	uint16_t i, nrects, x, y, rw, rh, sx, sy, j;
	uint32_t *tmp;
	unsigned copies = 0;

	g_assert_true(read_exact(fd, hdr, 4, 5000));
	g_assert_cmpuint(hdr[0], ==, 0);
	nrects = be16(hdr + 2);
	for (i = 0; i < nrects; i++) {
		g_assert_true(read_exact(fd, hdr, 12, 5000));
		x = be16(hdr);
		y = be16(hdr + 2);
		rw = be16(hdr + 4);
		rh = be16(hdr + 6);
		g_assert_cmpuint((uint32_t)x + rw, <=, w);
		g_assert_cmpuint((uint32_t)y + rh, <=, h);
		if (be32(hdr + 8) == 0) { /* Raw */
			for (j = 0; j < rh; j++)
				g_assert_true(read_exact(
					fd, view + (size_t)(y + j) * w + x,
					(size_t)rw * 4, 5000));
			continue;
		}
		g_assert_cmpuint(be32(hdr + 8), ==, 1); /* CopyRect */
		g_assert_true(read_exact(fd, hdr, 4, 5000));
		sx = be16(hdr);
		sy = be16(hdr + 2);
		g_assert_cmpuint((uint32_t)sx + rw, <=, w);
		g_assert_cmpuint((uint32_t)sy + rh, <=, h);
		tmp = g_malloc((size_t)rw * rh * 4);
		for (j = 0; j < rh; j++)
			memcpy(tmp + (size_t)j * rw,
			       view + (size_t)(sy + j) * w + sx,
			       (size_t)rw * 4);
		for (j = 0; j < rh; j++)
			memcpy(view + (size_t)(y + j) * w + x,
			       tmp + (size_t)j * rw, (size_t)rw * 4);
		g_free(tmp);
		copies++;
	}
	return copies;
}

static void test_scroll_copyrect(void)
{
	/* SetEncodings: CopyRect, Raw */
	static const uint8_t enc[] = { 2, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0 };
	struct rig r;
	uint16_t w, h;
	uint32_t *view, top = 0, x, y;
	unsigned copies = 0, step, bad = 0;
	char *name;
	int sv[2];

	/* The session's way: opened first, let go on the grant. */
	rig_make(&r, 320, 240, true);
	g_assert_cmpint(ll_rfb_server_open(r.srv), ==, 0);
	g_assert_cmpint(ll_rfb_server_go(r.srv, &r.fd), ==, 0);
	g_assert_cmpint(r.fd, >=, 0);
	/* Once only. */
	g_assert_cmpint(ll_rfb_server_go(r.srv, &sv[0]), ==,
			LL_ERR_INVALID_ARG);
	handshake(r.fd, &w, &h, &name);
	g_free(name);
	write_all(r.fd, enc, sizeof(enc));
	view = g_malloc0((size_t)w * h * 4);
	fb_request(r.fd, false, w, h);
	apply_update(r.fd, view, w, h);
	/* The first step replaces the picture; the others scroll it. */
	for (step = 0; step < 6; step++) {
		ll_fake_platform_scroll(r.cap, 12 + (int)step);
		top += 12 + step;
		fb_request(r.fd, true, w, h);
		copies += apply_update(r.fd, view, w, h);
	}
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			/* This viewer has no cursor encoding: libvncserver
			 * draws the 8x8 cursor (hot spot 1,1) at 3,4. */
			if (x >= 2 && x < 10 && y >= 3 && y < 11)
				continue;
			if ((view[(size_t)y * w + x] & 0xffffff) !=
				    ll_fake_doc_pixel(x, y + top) &&
			    bad++ == 0)
				g_test_message("first wrong pixel at %u,%u", x,
					       y);
		}
	}
	g_assert_cmpuint(bad, ==, 0);
	g_assert_cmpuint(copies, >=, 4);
	g_free(view);
	rig_stop(&r, true);
}

/* ---- a viewer that speaks Tight: lossless refresh, pipelining ---- */

/* What a JPEG rectangle paints: a colour the screen never shows (its
 * top byte), so that only a lossless resend makes the picture right. */
#define VIEW_JPEG 0xff00ff00u

struct viewer {
	int fd;
	uint16_t w, h;
	uint32_t *pix;
	z_stream zs[4];
	bool zon[4];
	unsigned updates, jpeg_rects;
	/* every rectangle must lie in here: the area asked for */
	uint32_t ax, ay, aw, ah;
};

static void viewer_init(struct viewer *v, int fd, uint16_t w, uint16_t h)
{
	memset(v, 0, sizeof(*v));
	v->fd = fd;
	v->w = w;
	v->h = h;
	v->aw = w;
	v->ah = h;
	v->pix = g_malloc0((size_t)w * h * 4);
}

static void viewer_clear(struct viewer *v)
{
	int i;

	for (i = 0; i < 4; i++)
		if (v->zon[i])
			inflateEnd(&v->zs[i]);
	g_free(v->pix);
}

static void vread(struct viewer *v, void *buf, size_t n)
{
	g_assert_true(read_exact(v->fd, buf, n, 5000));
}

static void view_fill(struct viewer *v, uint16_t x, uint16_t y, uint16_t rw,
		      uint16_t rh, uint32_t px)
{
	uint16_t i, j;

	for (j = 0; j < rh; j++)
		for (i = 0; i < rw; i++)
			v->pix[(size_t)(y + j) * v->w + x + i] = px;
}

/* Tight's compact length: 7, 7 and 8 bits. */
static size_t tight_len(struct viewer *v)
{
	size_t len = 0;
	uint8_t b;
	int i;

	for (i = 0; i < 3; i++) {
		vread(v, &b, 1);
		len |= (size_t)(i < 2 ? b & 0x7f : b) << (7 * i);
		if (i < 2 && !(b & 0x80))
			break;
	}
	return len;
}

/* n bytes of Tight data: as they are under 12, else zlib on stream id. */
static void tight_data(struct viewer *v, unsigned id, uint8_t *out, size_t n)
{
	z_stream *z = &v->zs[id];
	size_t len;
	uint8_t *in;
	int r;

	if (n < 12) {
		vread(v, out, n);
		return;
	}
	len = tight_len(v);
	in = g_malloc(len + 1);
	vread(v, in, len);
	if (!v->zon[id]) {
		g_assert_cmpint(inflateInit(z), ==, Z_OK);
		v->zon[id] = true;
	}
	z->next_in = in;
	z->avail_in = (uInt)len;
	z->next_out = out;
	z->avail_out = (uInt)n;
	r = inflate(z, Z_SYNC_FLUSH);
	g_assert_true(r == Z_OK || r == Z_STREAM_END);
	g_assert_cmpuint(z->avail_out, ==, 0);
	g_free(in);
}

/* Tight's 24-bit pixel (depth 24): R, G, B. */
static uint32_t tpixel(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* One Tight rectangle (rfbproto, "Tight Encoding"): fill, JPEG (painted
 * VIEW_JPEG), basic with the copy or palette filter. */
static void tight_rect(struct viewer *v, uint16_t x, uint16_t y, uint16_t rw,
		       uint16_t rh)
{
	uint8_t ctl, filter = 0, pal[256 * 3], *data;
	unsigned type, n_pal = 0, i, j, k;
	size_t row;

	vread(v, &ctl, 1);
	for (i = 0; i < 4; i++)
		if ((ctl >> i & 1) && v->zon[i])
			inflateReset(&v->zs[i]);
	type = ctl >> 4;
	if (type == 8) {
		vread(v, pal, 3);
		view_fill(v, x, y, rw, rh, tpixel(pal));
		return;
	}
	if (type == 9) {
		row = tight_len(v);
		data = g_malloc(row + 1);
		vread(v, data, row);
		g_free(data);
		view_fill(v, x, y, rw, rh, VIEW_JPEG);
		v->jpeg_rects++;
		return;
	}
	g_assert_cmpuint(type, <=, 7);
	if (type & 4)
		vread(v, &filter, 1);
	/* copy or palette: libvncserver's encoder has no gradient */
	g_assert_cmpuint(filter, <=, 1);
	if (filter == 1) {
		vread(v, pal, 1);
		n_pal = pal[0] + 1u;
		vread(v, pal, n_pal * 3);
	}
	row = n_pal == 2 ? (rw + 7u) / 8 : n_pal > 0 ? rw : (size_t)rw * 3;
	data = g_malloc(row * rh);
	tight_data(v, type & 3, data, row * rh);
	for (j = 0; j < rh; j++) {
		const uint8_t *r = data + j * row;

		for (i = 0; i < rw; i++) {
			if (n_pal == 0) {
				v->pix[(size_t)(y + j) * v->w + x + i] = tpixel(
					r + 3 * i);
				continue;
			}
			k = n_pal == 2 ? r[i / 8] >> (7 - i % 8) & 1 : r[i];
			g_assert_cmpuint(k, <, n_pal);
			v->pix[(size_t)(y + j) * v->w + x + i] = tpixel(pal +
									3 * k);
		}
	}
	g_free(data);
}

/*
 * One FramebufferUpdate (Raw or Tight) applied, if its first byte comes
 * within timeout_ms: false when none did.  Every rectangle is checked
 * to be non-empty and inside the area asked for.
 */
static bool viewer_update(struct viewer *v, int timeout_ms)
{
	struct pollfd pfd = { .fd = v->fd, .events = POLLIN };
	uint8_t hdr[12];
	uint16_t i, n, x, y, rw, rh, j;
	uint8_t *skip;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return false;
	vread(v, hdr, 4);
	g_assert_cmpuint(hdr[0], ==, 0);
	n = be16(hdr + 2);
	for (i = 0; i < n; i++) {
		vread(v, hdr, 12);
		x = be16(hdr);
		y = be16(hdr + 2);
		rw = be16(hdr + 4);
		rh = be16(hdr + 6);
		if (be32(hdr + 8) == 0xffffff11) { /* RichCursor */
			skip = g_malloc((size_t)rw * rh * 4 +
					(rw + 7u) / 8 * rh + 1);
			vread(v, skip,
			      (size_t)rw * rh * 4 + (rw + 7u) / 8 * rh);
			g_free(skip);
			continue;
		}
		g_assert_cmpuint(rw, >, 0);
		g_assert_cmpuint(rh, >, 0);
		g_assert_cmpuint(x, >=, v->ax);
		g_assert_cmpuint(y, >=, v->ay);
		g_assert_cmpuint((uint32_t)x + rw, <=, v->ax + v->aw);
		g_assert_cmpuint((uint32_t)y + rh, <=, v->ay + v->ah);
		if (be32(hdr + 8) == 0) { /* Raw */
			for (j = 0; j < rh; j++)
				vread(v, v->pix + (size_t)(y + j) * v->w + x,
				      (size_t)rw * 4);
			continue;
		}
		g_assert_cmpuint(be32(hdr + 8), ==, 7); /* Tight */
		tight_rect(v, x, y, rw, rh);
	}
	v->updates++;
	return true;
}

/* All updates already sent, applied. */
static void viewer_drain(struct viewer *v)
{
	while (viewer_update(v, 0))
		;
}

/* Pixels of the viewer's picture in the area it asked for that differ
 * from the screen (it takes the cursor's shape: none is drawn in). */
static unsigned viewer_wrong(struct viewer *v, struct ll_platform *cap)
{
	uint32_t x, y;
	unsigned bad = 0;

	for (y = v->ay; y < v->ay + v->ah; y++) {
		for (x = v->ax; x < v->ax + v->aw; x++) {
			if (v->pix[(size_t)y * v->w + x] !=
			    ll_fake_platform_pixel(cap, x, y))
				bad++;
		}
	}
	return bad;
}

/* SetEncodings: Tight, Raw, RichCursor, compression 1, JPEG quality 5
 * (the agent's kind of list; sent again when its band changes). */
static void set_encodings_jpeg(int fd)
{
	static const uint8_t enc[] = { 2,    0,    0,    5,    0,    0,
				       0,    7,    0,    0,    0,    0,
				       0xff, 0xff, 0xff, 0x11, 0xff, 0xff,
				       0xff, 0x01, 0xff, 0xff, 0xff, 0xe5 };

	write_all(fd, enc, sizeof(enc));
}

/* SetEncodings: Raw, RichCursor (the cursor is not drawn in, and
 * nothing is sent outside the area asked for). */
static void set_encodings_raw(int fd)
{
	static const uint8_t enc[] = { 2, 0, 0,    2,    0,    0,
				       0, 0, 0xff, 0xff, 0xff, 0x11 };

	write_all(fd, enc, sizeof(enc));
}

static void fb_request_at(int fd, bool incremental, uint16_t x, uint16_t y,
			  uint16_t w, uint16_t h)
{
	uint8_t m[10] = { 3,
			  incremental,
			  (uint8_t)(x >> 8),
			  (uint8_t)x,
			  (uint8_t)(y >> 8),
			  (uint8_t)y,
			  (uint8_t)(w >> 8),
			  (uint8_t)w,
			  (uint8_t)(h >> 8),
			  (uint8_t)h };

	write_all(fd, m, sizeof(m));
}

static bool poke_taken(void *data)
{
	return !ll_fake_platform_poked(data);
}

/* Returns once a whole loop of the RFB thread ran after the call: what
 * it had to do for the messages it read and the paints made before is
 * done (a write included: the updates are in the socket). */
static void settle(struct rig *r)
{
	int i;

	for (i = 0; i < 2; i++) {
		ll_fake_platform_poke(r->cap);
		ll_rfb_server_wake(r->srv);
		g_assert_true(lt_wait_until(poke_taken, r->cap, 5000, 500));
	}
}

static bool refreshed(void *data)
{
	return ll_rfb_server_refreshes(data) > 0;
}

/*
 * The lossless refresh and motion at the same time: a refresh is on its
 * way (marked, the viewer has not asked yet) when the screen moves and
 * the viewer sends SetEncodings, as the agent does when motion changes
 * the link's band.  JPEG is on again then, and the refresh's area goes
 * out as JPEG: it must be refreshed again once things are still, so the
 * viewer ends with the screen's picture exactly.
 */
static void test_alr_motion_in_refresh(void)
{
	struct rig r;
	struct viewer v;
	uint16_t w, h;
	char *name;
	int64_t end;

	rig_start(&r, 160, 96, true);
	handshake(r.fd, &w, &h, &name);
	g_free(name);
	viewer_init(&v, r.fd, w, h);
	ll_fake_platform_photo(r.cap, 1, 0, 0, w, h);
	settle(&r);
	set_encodings_jpeg(r.fd);
	fb_request(r.fd, false, w, h);
	g_assert_true(viewer_update(&v, 5000));
	/* JPEG is on: without a refresh the picture stays wrong */
	g_assert_cmpuint(v.jpeg_rects, >, 0);
	/* Motion: the update sent ahead (pipelining) carries it; then the
	 * viewer has nothing asked for. */
	ll_fake_platform_photo(r.cap, 2, 20, 20, 40, 30);
	settle(&r);
	g_assert_true(viewer_update(&v, 5000));
	g_assert_cmpuint(v.updates, ==, 2);
	/* Still for RFB_ALR_MS: the refresh is marked, not sent. */
	g_assert_true(lt_wait_until(refreshed, r.srv, 5000, 5000));
	/* Motion elsewhere, a new band, a request. */
	ll_fake_platform_photo(r.cap, 3, 100, 50, 30, 20);
	set_encodings_jpeg(r.fd);
	fb_request(r.fd, true, w, h);
	/* Then stillness: the viewer keeps asking until its picture is the
	 * screen's, or the deadline. */
	end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (viewer_wrong(&v, r.cap) > 0 && g_get_monotonic_time() < end) {
		if (!viewer_update(&v, 200))
			fb_request(r.fd, true, w, h);
	}
	g_test_message("%u updates, %u JPEG rectangles, %u refreshes",
		       v.updates, v.jpeg_rects,
		       ll_rfb_server_refreshes(r.srv));
	g_assert_cmpuint(viewer_wrong(&v, r.cap), ==, 0);
	g_assert_cmpuint(ll_rfb_server_refreshes(r.srv), >=, 2);
	viewer_clear(&v);
	rig_stop(&r, true);
}

/* Paints the whole screen n times (phases from *phase on), each taken by
 * the RFB thread before the next, and applies what the viewer got. */
static void motion(struct rig *r, struct viewer *v, uint32_t *phase,
		   unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		ll_fake_platform_photo(r->cap, (*phase)++, 0, 0, v->w, v->h);
		settle(r);
		viewer_drain(v);
	}
}

/*
 * Pipelining's bound (pipe_*): a viewer that asked once and then only
 * reads gets the answer and one update ahead, no more, however much
 * moves; each request after that buys one more.  Only in the area it
 * asked for: re-arming the whole screen sent the rest unasked.
 */
static void test_pipe_bounded(void)
{
	struct rig r;
	struct viewer v;
	uint16_t w, h;
	uint32_t phase = 10;
	unsigned grabs;
	char *name;

	rig_start(&r, 64, 32, true);
	handshake(r.fd, &w, &h, &name);
	g_free(name);
	viewer_init(&v, r.fd, w, h);
	set_encodings_raw(r.fd);
	v.ax = 8;
	v.ay = 4;
	v.aw = 40;
	v.ah = 20;
	fb_request_at(r.fd, false, 8, 4, 40, 20);
	g_assert_true(viewer_update(&v, 5000));
	motion(&r, &v, &phase, 6);
	g_assert_cmpuint(v.updates, ==, 2);
	/* nobody asks: the picture is not even grabbed */
	grabs = ll_fake_platform_grabs(r.cap);
	motion(&r, &v, &phase, 2);
	g_assert_cmpuint(ll_fake_platform_grabs(r.cap), ==, grabs);
	g_assert_cmpuint(v.updates, ==, 2);
	/* One request: the held motion at once, then nothing more. */
	fb_request_at(r.fd, true, 8, 4, 40, 20);
	settle(&r);
	viewer_drain(&v);
	g_assert_cmpuint(v.updates, ==, 3);
	g_assert_cmpuint(viewer_wrong(&v, r.cap), ==, 0);
	motion(&r, &v, &phase, 4);
	g_assert_cmpuint(v.updates, ==, 3);
	viewer_clear(&v);
	rig_stop(&r, true);
}

/* ASan keeps freed memory resident (its quarantine): growth is not
 * measured there. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_CHECKED false
#else
#define RSS_CHECKED true
#endif

static size_t rss_kib(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	g_assert_nonnull(f);
	g_assert_cmpint(fscanf(f, "%lu %lu", &size, &resident), ==, 2);
	fclose(f);
	return resident * (size_t)sysconf(_SC_PAGESIZE) / 1024;
}

/* The hostile flood's request number k (on a 64x32 screen); the first
 * three kinds ask for no valid area. */
static void odd_request(uint8_t *m, unsigned k, bool valid_too)
{
	static const uint16_t kinds[6][4] = {
		{ 0, 10, 0, 9 }, /* zero width, x below */
		{ 64, 3, 5, 5 }, /* outside the screen, x below */
		{ 65535, 65535, 65535, 65535 }, /* x + w wraps around */
		{ 60, 30, 65535, 65535 },       /* larger: clipped to 4x2 */
		{ 0, 0, 9, 9 },   /* small, overlapping: x, y below */
		{ 0, 0, 64, 32 }, /* the whole screen, again */
	};
	unsigned kind = k % (valid_too ? 6 : 3);
	uint16_t f[4];
	int i;

	memcpy(f, kinds[kind], sizeof(f));
	if (kind == 0)
		f[0] = (uint16_t)(k % 70);
	if (kind == 1)
		f[0] = (uint16_t)(64 + k);
	if (kind == 4) {
		f[0] = (uint16_t)(k % 50);
		f[1] = (uint16_t)(k % 20);
	}
	m[0] = 3;
	m[1] = (uint8_t)(k % 2);
	for (i = 0; i < 4; i++) {
		m[2 + 2 * i] = (uint8_t)(f[i] >> 8);
		m[3 + 2 * i] = (uint8_t)f[i];
	}
}

/* n odd requests written while the updates they bring are read, until
 * the server has read them all. */
static void flood(struct rig *r, struct viewer *v, unsigned n, bool valid_too)
{
	size_t len = (size_t)n * 10, off = 0;
	uint8_t *buf = g_malloc(len);
	struct pollfd pfd = { .fd = r->fd };
	ssize_t k;
	unsigned i;

	for (i = 0; i < n; i++)
		odd_request(buf + (size_t)i * 10, i, valid_too);
	while (off < len) {
		pfd.events = POLLIN | POLLOUT;
		g_assert_cmpint(poll(&pfd, 1, 5000), ==, 1);
		if (pfd.revents & POLLIN)
			viewer_update(v, 0);
		if (!(pfd.revents & POLLOUT))
			continue;
		k = send(r->fd, buf + off, MIN(len - off, 4096), MSG_DONTWAIT);
		g_assert_true(k > 0 || errno == EAGAIN);
		if (k > 0)
			off += (size_t)k;
	}
	/* read everything: 10 s at most */
	for (i = 0; i < 200 && !lt_wait_peer_read(r->fd, 50); i++)
		viewer_drain(v);
	g_assert_cmpuint(i, <, 200);
	settle(r);
	viewer_drain(v);
	g_free(buf);
}

/*
 * A hostile viewer floods FramebufferUpdateRequests: zero size, outside
 * the screen, wrapping around, overlapping, thousands.  No crash, no
 * growth, every rectangle inside the screen; thousands of requests buy
 * no more than the bound; requests for nothing valid buy nothing; and
 * the picture is still right.
 */
static void test_pipe_hostile_flood(void)
{
	struct rig r;
	struct viewer v;
	uint16_t w, h;
	uint32_t phase = 30;
	unsigned before;
	size_t rss0;
	char *name;

	rig_start(&r, 64, 32, true);
	handshake(r.fd, &w, &h, &name);
	g_free(name);
	viewer_init(&v, r.fd, w, h);
	set_encodings_raw(r.fd);
	ll_fake_platform_photo(r.cap, phase++, 0, 0, w, h);
	rss0 = rss_kib();
	flood(&r, &v, 20000, true);
	g_test_message("20000 odd requests: %u updates", v.updates);
	/* No more than the answer and one ahead once they stop. */
	before = v.updates;
	motion(&r, &v, &phase, 6);
	g_assert_cmpuint(v.updates - before, <=, 2);
	/* Requests for no valid area: no update at all. */
	flood(&r, &v, 3000, false);
	before = v.updates;
	motion(&r, &v, &phase, 4);
	g_assert_cmpuint(v.updates, ==, before);
	g_test_message("RSS %zu KiB -> %zu KiB", rss0, rss_kib());
	if (RSS_CHECKED)
		g_assert_cmpuint(rss_kib(), <, rss0 + 8 * 1024);
	/* Still serving, and right. */
	fb_request(r.fd, false, w, h);
	settle(&r);
	viewer_drain(&v);
	g_assert_cmpuint(v.updates, >, before);
	g_assert_cmpuint(viewer_wrong(&v, r.cap), ==, 0);
	viewer_clear(&v);
	rig_stop(&r, true);
}

static bool inq_full(void *data)
{
	int inq = 0;

	return ioctl(*(int *)data, FIONREAD, &inq) == 0 && inq > 64 * 1024;
}

/* The RFB thread took the last poke, or waits on the viewer's socket. */
static bool taken_or_stalled(void *data)
{
	struct rig *r = data;

	return poke_taken(r->cap) || inq_full(&r->fd);
}

/*
 * A viewer that stops reading while the screen keeps changing: the RFB
 * thread waits in its write (libvncserver writes synchronously), so
 * what waits for the viewer is the socket's buffer and no more, and
 * nothing grows.  It reads again (before libvncserver's 20 s give-up):
 * the session goes on and the picture becomes the screen's.
 */
static void test_pipe_stalled_viewer(void)
{
	struct rig r;
	struct viewer v;
	uint16_t w, h;
	uint32_t phase = 50;
	int64_t end;
	size_t rss0;
	char *name;
	int inq = 0, i;

	rig_start(&r, 512, 512, true);
	handshake(r.fd, &w, &h, &name);
	g_free(name);
	viewer_init(&v, r.fd, w, h);
	set_encodings_raw(r.fd);
	ll_fake_platform_photo(r.cap, phase++, 0, 0, w, h);
	settle(&r);
	fb_request(r.fd, false, w, h);
	g_assert_true(viewer_update(&v, 5000));
	rss0 = rss_kib();
	/* Stalled: full frames (1 MiB each) asked for, none read.  The
	 * screen changes 60 times, each once the RFB thread took the last
	 * change or is held by the viewer's full socket. */
	fb_request(r.fd, false, w, h);
	for (i = 0; i < 60; i++) {
		ll_fake_platform_photo(r.cap, phase++, 0, 0, w, h);
		ll_fake_platform_poke(r.cap);
		ll_rfb_server_wake(r.srv);
		g_assert_true(lt_wait_until(taken_or_stalled, &r, 5000, 500));
	}
	/* the socket's buffer is what waits: full, and no more than 60
	 * frames' worth of it */
	g_assert_true(lt_wait_until(inq_full, &r.fd, 5000, 1000));
	g_assert_cmpint(ioctl(r.fd, FIONREAD, &inq), ==, 0);
	g_test_message("stalled: %d bytes waiting, RSS %zu KiB -> %zu KiB",
		       inq, rss0, rss_kib());
	g_assert_cmpint(inq, <, 4 * 1024 * 1024);
	if (RSS_CHECKED)
		g_assert_cmpuint(rss_kib(), <, rss0 + 16 * 1024);
	/* Reads again: the same session, and the screen's picture. */
	end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (viewer_wrong(&v, r.cap) > 0 && g_get_monotonic_time() < end) {
		if (!viewer_update(&v, 200))
			fb_request(r.fd, true, w, h);
	}
	g_assert_cmpuint(viewer_wrong(&v, r.cap), ==, 0);
	g_assert_cmpint(r.rd.ended, ==, 0);
	viewer_clear(&v);
	rig_stop(&r, true);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	signal(SIGPIPE, SIG_IGN);
	g_test_add_func("/applet/rfb/handshake-and-gate",
			test_handshake_and_gate);
	g_test_add_func("/applet/rfb/held-key-stalled", test_held_key_stalled);
	g_test_add_func("/applet/rfb/stalled-peer", test_stalled_peer);
	g_test_add_func("/applet/rfb/slow-reader", test_slow_reader);
	g_test_add_func("/applet/rfb/viewer-leaves", test_viewer_leaves);
	g_test_add_func("/applet/rfb/scroll-copyrect", test_scroll_copyrect);
	g_test_add_func("/applet/rfb/lossless-refresh-motion",
			test_alr_motion_in_refresh);
	g_test_add_func("/applet/rfb/pipeline-bounded", test_pipe_bounded);
	g_test_add_func("/applet/rfb/pipeline-hostile-flood",
			test_pipe_hostile_flood);
	g_test_add_func("/applet/rfb/pipeline-stalled-viewer",
			test_pipe_stalled_viewer);
	return g_test_run();
}
