/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's headless RFB client (agent/rfb_client.c) against a scripted
 * RFB 3.8 server played by this test on the other end of a socketpair,
 * as the session holder uses it (its owner's context is the default one).
 *
 *  end-mid-read  the session ends while the RFB thread is blocked in the
 *         middle of a FramebufferUpdate, 50 times, the three ways the
 *         holder sees it: the peer's end goes away and the owner frees
 *         right after its loop quit (without iterating the context); the
 *         peer goes away and on_closed (on the owner's thread, never the
 *         RFB thread) frees the client; the owner frees while the peer is
 *         still there.  No hang (a watchdog aborts), no callback on the
 *         wrong thread, none after ll_rfbc_free(), nothing left attached
 *         to the context.
 *  incremental  after the first full update the client keeps asking for
 *         the whole screen incrementally, so a change arrives unasked;
 *         the snapshot then shows it although the server answers the
 *         snapshot's full request with "keep what you have" (a CopyRect
 *         of the whole screen onto itself).
 *  lossy-cover  an update on its way before the snapshot's request
 *         covers the whole picture and the filter counted JPEG in it:
 *         the snapshot asks again and shows the picture that followed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "ll_err.h"
#include "ll_rfbc.h"
#include "lt_wait.h"

#define W 64
#define H 48
#define ITERATIONS 50
#define WATCHDOG_S 60

static GThread *main_thread;
static char *tmpdir;

/* ---- byte helpers ---- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		g_assert_cmpint(n, >, 0);
		p += n;
		len -= (size_t)n;
	}
}

/* Reads exactly len bytes within timeout_ms; false on EOF or timeout. */
static bool recv_all(int fd, void *buf, size_t len, int timeout_ms)
{
	int64_t end = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t *p = buf;
	ssize_t n;
	int left;

	while (len > 0) {
		left = (int)((end - g_get_monotonic_time()) / 1000);
		if (left <= 0 || poll(&pfd, 1, left) != 1)
			return false;
		n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* ---- the scripted server ---- */

struct srv {
	int fd;
	/* the client's pixel format (SetPixelFormat) */
	bool big_endian;
	uint16_t rmax, gmax, bmax;
	uint8_t rshift, gshift, bshift;
	/* the screen, one RGB triple per pixel */
	uint8_t screen[W * H * 3];
	/* requests seen */
	int n_full, n_incr;
	/* FramebufferUpdates sent; with lossy set, a snapshot's full
	 * request is met first by a wrong whole picture counted as JPEG
	 * (an update already on its way), then by the right one */
	unsigned n_updates;
	atomic_uint_least64_t *lossy;
	uint16_t incr_x, incr_y, incr_w, incr_h;
	/* a change waiting for an incremental request that covers it */
	bool dirty;
	int dx, dy, dw, dh;
};

static void srv_fill(struct srv *s, int x, int y, int w, int h,
		     const uint8_t rgb[3])
{
	int i, j;

	for (j = y; j < y + h; j++)
		for (i = x; i < x + w; i++)
			memcpy(&s->screen[(j * W + i) * 3], rgb, 3);
}

static void srv_handshake(struct srv *s)
{
	static const uint8_t sec[] = { 1, 1 }; /* one type: None */
	uint8_t b[64];

	send_all(s->fd, "RFB 003.008\n", 12);
	g_assert_true(recv_all(s->fd, b, 12, 5000));
	g_assert_cmpmem(b, 12, "RFB 003.008\n", 12);
	send_all(s->fd, sec, sizeof(sec));
	g_assert_true(recv_all(s->fd, b, 1, 5000));
	g_assert_cmpuint(b[0], ==, 1);
	send_all(s->fd, "\0\0\0\0", 4);             /* SecurityResult OK */
	g_assert_true(recv_all(s->fd, b, 1, 5000)); /* ClientInit */
	memset(b, 0, 24);
	put16(b, W);
	put16(b + 2, H);
	b[4] = 32; /* bits per pixel */
	b[5] = 24; /* depth */
	b[6] = 0;  /* little endian */
	b[7] = 1;  /* true colour */
	put16(b + 8, 255);
	put16(b + 10, 255);
	put16(b + 12, 255);
	b[14] = 16;
	b[15] = 8;
	b[16] = 0;
	put32(b + 20, 4);
	memcpy(b + 24, "test", 4);
	send_all(s->fd, b, 28);
}

static void srv_pixel(const struct srv *s, const uint8_t *rgb, uint8_t *out)
{
	uint32_t v = (uint32_t)(rgb[0] * s->rmax / 255) << s->rshift |
		     (uint32_t)(rgb[1] * s->gmax / 255) << s->gshift |
		     (uint32_t)(rgb[2] * s->bmax / 255) << s->bshift;

	if (s->big_endian) {
		put32(out, v);
	} else {
		out[0] = (uint8_t)v;
		out[1] = (uint8_t)(v >> 8);
		out[2] = (uint8_t)(v >> 16);
		out[3] = (uint8_t)(v >> 24);
	}
}

/* A FramebufferUpdate with one raw rectangle; only the first `send_px`
 * pixels of it go out when send_px >= 0 (a stalled peer). */
static void srv_send_raw(struct srv *s, int x, int y, int w, int h,
			 int send_px)
{
	uint8_t hdr[16], *px;
	int i, j, n = 0;

	px = g_malloc((size_t)w * (size_t)h * 4);
	for (j = y; j < y + h; j++)
		for (i = x; i < x + w; i++)
			srv_pixel(s, &s->screen[(j * W + i) * 3],
				  px + 4 * n++);
	s->n_updates++;
	hdr[0] = 0; /* FramebufferUpdate */
	hdr[1] = 0;
	put16(hdr + 2, 1);
	put16(hdr + 4, (uint16_t)x);
	put16(hdr + 6, (uint16_t)y);
	put16(hdr + 8, (uint16_t)w);
	put16(hdr + 10, (uint16_t)h);
	put32(hdr + 12, 0); /* raw */
	send_all(s->fd, hdr, sizeof(hdr));
	send_all(s->fd, px,
		 send_px >= 0 ? (size_t)send_px * 4 : (size_t)n * 4);
	g_free(px);
}

/* "Keep what you have": the whole screen copied onto itself. */
static void srv_send_keep(struct srv *s)
{
	uint8_t m[20];

	s->n_updates++;
	m[0] = 0;
	m[1] = 0;
	put16(m + 2, 1);
	put16(m + 4, 0);
	put16(m + 6, 0);
	put16(m + 8, W);
	put16(m + 10, H);
	put32(m + 12, 1); /* CopyRect */
	put16(m + 16, 0);
	put16(m + 18, 0);
	send_all(s->fd, m, sizeof(m));
}

/* The first full request after the first: a wrong (blue) whole picture
 * the filter would have seen JPEG in, told before it is sent, as the
 * agent's filter tells it; then the screen as it is. */
static void srv_send_lossy_first(struct srv *s)
{
	static const uint8_t blue[3] = { 0x00, 0x00, 0xff };
	uint8_t keep[W * H * 3];

	if (s->n_full == 2) {
		memcpy(keep, s->screen, sizeof(keep));
		srv_fill(s, 0, 0, W, H, blue);
		atomic_store(s->lossy, s->n_updates + 1);
		srv_send_raw(s, 0, 0, W, H, -1);
		memcpy(s->screen, keep, sizeof(keep));
	}
	srv_send_raw(s, 0, 0, W, H, -1);
}

/*
 * Reads one client message within timeout_ms and answers it.  Requests:
 * the first full one gets the whole picture; later full ones get "keep
 * what you have"; an incremental one gets the pending change if its
 * rectangle covers it (clipped to the screen, as libvncserver does), else
 * it waits.  false when nothing came.
 */
static bool srv_step(struct srv *s, int timeout_ms)
{
	uint8_t b[64];
	uint16_t x, y, w, h, n;
	uint32_t len;
	uint8_t *skip;

	if (!recv_all(s->fd, b, 1, timeout_ms))
		return false;
	switch (b[0]) {
	case 0: /* SetPixelFormat */
		g_assert_true(recv_all(s->fd, b + 1, 19, 5000));
		g_assert_cmpuint(b[4], ==, 32);
		s->big_endian = b[6] != 0;
		s->rmax = get16(b + 8);
		s->gmax = get16(b + 10);
		s->bmax = get16(b + 12);
		s->rshift = b[14];
		s->gshift = b[15];
		s->bshift = b[16];
		break;
	case 2: /* SetEncodings */
		g_assert_true(recv_all(s->fd, b + 1, 3, 5000));
		n = get16(b + 2);
		skip = g_malloc((size_t)n * 4 + 1);
		g_assert_true(recv_all(s->fd, skip, (size_t)n * 4, 5000));
		g_free(skip);
		break;
	case 3: /* UpdateRequest */
		g_assert_true(recv_all(s->fd, b + 1, 9, 5000));
		x = get16(b + 2);
		y = get16(b + 4);
		w = get16(b + 6);
		h = get16(b + 8);
		if (!b[1]) {
			if (s->n_full++ == 0)
				srv_send_raw(s, 0, 0, W, H, -1);
			else if (s->lossy != NULL)
				srv_send_lossy_first(s);
			else
				srv_send_keep(s);
			break;
		}
		s->n_incr++;
		s->incr_x = x;
		s->incr_y = y;
		s->incr_w = w;
		s->incr_h = h;
		if (s->dirty && x <= s->dx && y <= s->dy &&
		    (int)x + w >= s->dx + s->dw &&
		    (int)y + h >= s->dy + s->dh) {
			s->dirty = false;
			srv_send_raw(s, s->dx, s->dy, s->dw, s->dh, -1);
		}
		break;
	case 4: /* KeyEvent */
		g_assert_true(recv_all(s->fd, b + 1, 7, 5000));
		break;
	case 5: /* PointerEvent */
		g_assert_true(recv_all(s->fd, b + 1, 5, 5000));
		break;
	case 6: /* ClientCutText */
		g_assert_true(recv_all(s->fd, b + 1, 7, 5000));
		len = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 |
		      (uint32_t)b[6] << 8 | b[7];
		g_assert_cmpuint(len, <, 65536);
		skip = g_malloc(len + 1);
		g_assert_true(recv_all(s->fd, skip, len, 5000));
		g_free(skip);
		break;
	default:
		g_error("unexpected client message type %u", b[0]);
	}
	return true;
}

/* Handshake, then the client's setup up to its first full request. */
static void srv_start(struct srv *s, int fd)
{
	static const uint8_t grey[3] = { 0x40, 0x40, 0x40 };

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	srv_fill(s, 0, 0, W, H, grey);
	srv_handshake(s);
	while (s->n_full == 0 && s->n_incr == 0)
		g_assert_true(srv_step(s, 5000));
}

/* ---- the client's owner ---- */

struct owner {
	struct ll_rfbc *c;
	int n_closed;
	int closed_err;
	bool free_in_closed; /* as the holder's rfb_closed */
	bool freed;          /* ll_rfbc_free() returned */
	int n_after_free;
	int snap_err;
	bool snap_done;
};

static void own_frame(struct ll_rfbc *c, void *user)
{
	struct owner *o = user;

	/* never on the RFB thread */
	g_assert_true(g_thread_self() == main_thread);
	g_assert_true(c == o->c);
	if (o->freed)
		o->n_after_free++;
}

static void own_closed(struct ll_rfbc *c, int err, const char *why, void *user)
{
	struct owner *o = user;

	g_assert_true(g_thread_self() == main_thread);
	g_assert_nonnull(why);
	if (o->freed) {
		o->n_after_free++;
		return;
	}
	o->n_closed++;
	o->closed_err = err;
	if (o->free_in_closed && o->c == c) {
		ll_rfbc_free(o->c);
		o->c = NULL;
		o->freed = true;
	}
}

static void own_snap(int err, const char *msg, void *user)
{
	struct owner *o = user;

	g_assert_true(g_thread_self() == main_thread);
	o->snap_err = err;
	o->snap_done = true;
	if (err != LL_OK)
		g_test_message("snapshot: %s", msg);
}

static const struct ll_rfbc_cbs own_cbs = {
	.on_frame = own_frame,
	.on_closed = own_closed,
};

static void own_start_with(struct owner *o, int *peer_fd,
			   const struct ll_rfbc_cbs *cbs)
{
	int sv[2];

	memset(o, 0, sizeof(*o));
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			==, 0);
	/* NULL: the thread-default context of this (the main) thread, the
	 * global default one, as in the holder */
	g_assert_cmpint(ll_rfbc_start(sv[0], NULL, cbs, o, &o->c), ==, LL_OK);
	*peer_fd = sv[1];
}

static void own_start(struct owner *o, int *peer_fd)
{
	own_start_with(o, peer_fd, &own_cbs);
}

/* Pixels of the PNG at path (W x H) that are not `in` inside the
 * rectangle x0,y0 - x1,y1 (exclusive) and `out` elsewhere. */
static int png_bad_pixels(const char *path, const uint8_t *in, int x0, int y0,
			  int x1, int y1, const uint8_t *out)
{
	GError *e = NULL;
	GdkPixbuf *pb = gdk_pixbuf_new_from_file(path, &e);
	const uint8_t *px, *want;
	int x, y, stride, bad = 0;

	g_assert_no_error(e);
	g_assert_cmpint(gdk_pixbuf_get_width(pb), ==, W);
	g_assert_cmpint(gdk_pixbuf_get_height(pb), ==, H);
	g_assert_cmpint(gdk_pixbuf_get_n_channels(pb), ==, 3);
	stride = gdk_pixbuf_get_rowstride(pb);
	for (y = 0; y < H; y++) {
		for (x = 0; x < W; x++) {
			want = x >= x0 && x < x1 && y >= y0 && y < y1 ? in
								      : out;
			px = gdk_pixbuf_read_pixels(pb) + y * stride + x * 3;
			if (memcmp(px, want, 3) != 0)
				bad++;
		}
	}
	g_object_unref(pb);
	return bad;
}

static void drain_context(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

/* Runs the client's context and the server until pred(o, s) or ms. */
static void run_until(struct owner *o, struct srv *s,
		      bool (*pred)(struct owner *o), int ms)
{
	int64_t t0 = g_get_monotonic_time();

	while (!pred(o) && g_get_monotonic_time() - t0 < ms * 1000LL) {
		drain_context();
		srv_step(s, 20);
	}
}

static bool has_frame(struct owner *o)
{
	return ll_rfbc_has_frame(o->c);
}

static bool snap_done(struct owner *o)
{
	return o->snap_done;
}

static gboolean set_flag(gpointer data)
{
	*(bool *)data = true;
	return G_SOURCE_REMOVE;
}

/* Runs the context until *flag is set by what it dispatches, or ms
 * passed; leaves nothing of its own attached. */
static void iterate_until(bool *flag, int ms)
{
	bool late = false;
	GSource *t = g_timeout_source_new((guint)ms);

	g_source_set_callback(t, set_flag, &late, NULL);
	g_source_attach(t, NULL);
	while (!*flag && !late)
		g_main_context_iteration(NULL, TRUE);
	g_source_destroy(t);
	g_source_unref(t);
}

/* ---- tests ---- */

static void test_bad_args(void)
{
	struct ll_rfbc *c = NULL;

	g_assert_cmpint(ll_rfbc_start(-1, NULL, &own_cbs, NULL, &c), ==,
			LL_ERR_INVALID_ARG);
	g_assert_null(c);
	g_assert_cmpint(ll_rfbc_snapshot(NULL, "x", false, own_snap, NULL), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_rfbc_pointer(NULL, 0, 0, 0), ==,
			LL_ERR_INVALID_ARG);
	ll_rfbc_free(NULL);
}

/*
 * The three endings of a session while the RFB thread waits for the rest
 * of a FramebufferUpdate (see the top of the file).
 */
static void test_end_mid_read(void)
{
	struct owner o;
	struct srv s;
	int64_t t0, took;
	int i, peer, way;

	for (i = 0; i < ITERATIONS; i++) {
		way = i % 3;
		own_start(&o, &peer);
		srv_start(&s, peer);
		/* a whole-screen update of which a third arrives */
		srv_send_raw(&s, 0, 0, W, H, W * H / 3);
		/* the client has read all of it: it is blocked mid-message */
		g_assert_true(lt_wait_peer_read(peer, 5000));

		/* on_closed frees, as the holder's rfb_closed does */
		o.free_in_closed = true;
		t0 = g_get_monotonic_time();
		switch (way) {
		case 0:
			/* The session ended (the bridge closed the peer) and
			 * the holder's loop quit: it frees without iterating,
			 * while the thread is reporting the EOF.  */
			close(peer);
			/* Time itself is under test: the free lands at a
			 * varying point of the thread's report of the EOF. */
			if (i % 2)
				g_usleep((gulong)g_random_int_range(0, 3000));
			ll_rfbc_free(o.c);
			o.c = NULL;
			o.freed = true;
			break;
		case 1:
			/* EOF; on_closed frees (the holder's rfb_closed) */
			close(peer);
			iterate_until(&o.freed, 10000);
			g_assert_true(o.freed);
			g_assert_cmpint(o.n_closed, ==, 1);
			g_assert_cmpint(o.closed_err, ==, LL_ERR_PROTOCOL);
			break;
		default:
			/* the technician ends: the peer is still there */
			ll_rfbc_free(o.c);
			o.c = NULL;
			o.freed = true;
			close(peer);
			break;
		}
		took = g_get_monotonic_time() - t0;
		g_assert_cmpint(took, <, 2 * G_USEC_PER_SEC);
		/* nothing after the free, nothing left in the context */
		drain_context();
		g_assert_cmpint(o.n_after_free, ==, 0);
		g_assert_false(g_main_context_pending(NULL));
		if (way != 1)
			g_assert_cmpint(o.n_closed, ==, 0);
	}
}

/* A change on the server's screen reaches the client through its
 * automatic incremental request, without a full one. */
static void test_incremental(void)
{
	static const uint8_t red[3] = { 0xff, 0x00, 0x00 };
	static const uint8_t grey[3] = { 0x40, 0x40, 0x40 };
	struct owner o;
	struct srv s;
	char *path = g_build_filename(tmpdir, "incr.png", NULL);
	int64_t t0;
	int peer;

	own_start(&o, &peer);
	srv_start(&s, peer);
	g_assert_cmpint(s.n_full, ==, 1);
	/* after the first picture: an incremental request comes by itself */
	t0 = g_get_monotonic_time();
	while (s.n_incr == 0 &&
	       g_get_monotonic_time() - t0 < 5 * G_USEC_PER_SEC) {
		drain_context();
		srv_step(&s, 20);
	}
	g_assert_cmpint(s.n_incr, >=, 1);
	g_test_message("incremental request %u,%u %ux%u", s.incr_x, s.incr_y,
		       s.incr_w, s.incr_h);
	/*
	 * libvncclient sends the automatic incremental request at the end
	 * of an update BEFORE it calls FinishedFrameBufferUpdate, where the
	 * client marks the frame complete: the request can reach us first.
	 * Wait for the frame, as the holder does (it waits for POST_FRAME).
	 */
	run_until(&o, &s, has_frame, 5000);
	g_assert_true(ll_rfbc_has_frame(o.c));

	/* the screen changes */
	srv_fill(&s, 8, 8, 16, 16, red);
	s.dirty = true;
	s.dx = 8;
	s.dy = 8;
	s.dw = 16;
	s.dh = 16;
	/* answered now if the pending request covers it, else at the next */
	t0 = g_get_monotonic_time();
	do {
		if (s.n_incr > 0 && s.incr_x == 0 && s.incr_y == 0 &&
		    s.incr_w >= W && s.incr_h >= H && s.dirty) {
			s.dirty = false;
			srv_send_raw(&s, s.dx, s.dy, s.dw, s.dh, -1);
		}
		drain_context();
		srv_step(&s, 20);
	} while (s.dirty && g_get_monotonic_time() - t0 < 2 * G_USEC_PER_SEC);
	/* the snapshot's full request is answered with "keep what you
	 * have": the picture is what came incrementally */
	g_assert_cmpint(ll_rfbc_snapshot(o.c, path, false, own_snap, &o), ==,
			LL_OK);
	run_until(&o, &s, snap_done, 10000);
	g_assert_true(o.snap_done);
	g_assert_cmpint(o.snap_err, ==, LL_OK);
	g_assert_cmpint(s.n_full, ==, 2);

	g_assert_cmpint(png_bad_pixels(path, red, 8, 8, 24, 24, grey), ==, 0);
	/* and on the wire: the whole screen, incrementally */
	g_assert_cmpuint(s.incr_x, ==, 0);
	g_assert_cmpuint(s.incr_y, ==, 0);
	g_assert_cmpuint(s.incr_w, ==, W);
	g_assert_cmpuint(s.incr_h, ==, H);
	g_assert_false(s.dirty);

	ll_rfbc_free(o.c);
	o.freed = true;
	close(peer);
	drain_context();
	g_assert_cmpint(o.n_after_free, ==, 0);
	g_unlink(path);
	g_free(path);
}

/*
 * An update already on its way when the snapshot asked with JPEG off
 * covers the whole picture, and the filter saw JPEG in it: the snapshot
 * is not made of it, but of the picture asked for again.
 */
static void test_lossy_cover(void)
{
	static const uint8_t grey[3] = { 0x40, 0x40, 0x40 };
	static atomic_uint_least64_t lossy;
	const struct ll_rfbc_cbs cbs = {
		.on_frame = own_frame,
		.on_closed = own_closed,
		.lossy = &lossy,
	};
	char *path = g_build_filename(tmpdir, "lossy.png", NULL);
	struct owner o;
	struct srv s;
	int64_t t0;
	int peer;

	atomic_store(&lossy, 0);
	own_start_with(&o, &peer, &cbs);
	srv_start(&s, peer);
	s.lossy = &lossy;
	run_until(&o, &s, has_frame, 5000);
	g_assert_true(ll_rfbc_has_frame(o.c));
	g_assert_cmpint(ll_rfbc_snapshot(o.c, path, false, own_snap, &o), ==,
			LL_OK);
	run_until(&o, &s, snap_done, 10000);
	g_assert_true(o.snap_done);
	g_assert_cmpint(o.snap_err, ==, LL_OK);
	/* asked again (the request may still be on its way to us) */
	t0 = g_get_monotonic_time();
	while (s.n_full < 3 && g_get_monotonic_time() - t0 < G_USEC_PER_SEC)
		srv_step(&s, 20);
	g_assert_cmpint(s.n_full, >=, 3);
	g_assert_cmpint(png_bad_pixels(path, grey, 0, 0, 0, 0, grey), ==, 0);

	ll_rfbc_free(o.c);
	o.freed = true;
	close(peer);
	drain_context();
	g_unlink(path);
	g_free(path);
}

int main(int argc, char **argv)
{
	GError *e = NULL;
	int rc;

	g_test_init(&argc, &argv, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* a hang (the deadlock this test is about) fails instead of
	 * waiting for meson's timeout */
	alarm(WATCHDOG_S);
	main_thread = g_thread_self();
	tmpdir = g_dir_make_tmp("ll-rfbc-XXXXXX", &e);
	g_assert_no_error(e);
	g_test_add_func("/agent/rfb-client/bad-args", test_bad_args);
	g_test_add_func("/agent/rfb-client/end-mid-read", test_end_mid_read);
	g_test_add_func("/agent/rfb-client/incremental", test_incremental);
	g_test_add_func("/agent/rfb-client/lossy-cover", test_lossy_cover);
	rc = g_test_run();
	g_rmdir(tmpdir);
	g_free(tmpdir);
	return rc;
}
