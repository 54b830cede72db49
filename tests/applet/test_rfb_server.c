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
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

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
	return g_test_run();
}
