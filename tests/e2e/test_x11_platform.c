/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * End-to-end test of the X11 platform backend on a private Xvfb: a known
 * picture drawn with plain Xlib is captured and compared pixel by pixel
 * (XShm and the XGetImage fallback), damage must cover what changed,
 * monitors are listed and a virtual RandR monitor crops the capture, and
 * injected pointer and key events (non-ASCII keysyms included) must reach
 * a real window.  A PNG of the screen as captured goes to
 * $LL_ARTIFACTS_DIR/x11-platform.png (default artifacts/e2e/).
 *
 * Exit status 77 (skip) when Xvfb is not installed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cairo.h>
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/cursorfont.h>
#include <X11/keysym.h>
#include <X11/extensions/Xrandr.h>

#include "ll_err.h"
#include "platform.h"

#define SCREEN_W 1024
#define SCREEN_H 768
#define WAIT_MS 5000

static GSubprocess *xvfb;
static char display_name[32];
static Display *tdpy; /* the test's own client connection */
static Window canvas; /* full-screen window with the picture */
static GC gc;
static uint32_t expected[SCREEN_W * SCREEN_H]; /* 0x00RRGGBB */

/* ---- Xvfb --------------------------------------------------------------- */

static void child_setup(gpointer data)
{
	(void)data;
	/* No orphan Xvfb if this test dies. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static gboolean start_xvfb(void)
{
	const char *bin = g_getenv("LL_XVFB");
	g_autoptr(GSubprocessLauncher) l = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	char buf[32] = "";
	size_t len = 0;
	int fds[2];
	gint64 deadline;

	path = g_find_program_in_path(bin != NULL ? bin : "Xvfb");
	if (path == NULL)
		return FALSE;
	g_assert_cmpint(pipe(fds), ==, 0);
	l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
				      G_SUBPROCESS_FLAGS_STDERR_SILENCE);
	g_subprocess_launcher_take_fd(l, fds[1], 3);
	g_subprocess_launcher_set_child_setup(l, child_setup, NULL, NULL);
	xvfb = g_subprocess_launcher_spawn(l, &error, path, "-displayfd", "3",
					   "-screen", "0", "1024x768x24",
					   "-nolisten", "tcp", "-noreset",
					   NULL);
	g_assert_no_error(error);
	/* -displayfd: the server writes "N\n" once it accepts clients. */
	deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	while (len < sizeof(buf) - 1 && strchr(buf, '\n') == NULL) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;
		ssize_t n;

		g_assert_cmpint(left, >, 0);
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = read(fds[0], buf + len, sizeof(buf) - 1 - len);
		g_assert_cmpint(n, >, 0);
		len += (size_t)n;
		buf[len] = '\0';
	}
	close(fds[0]);
	g_snprintf(display_name, sizeof(display_name), ":%d", atoi(buf));
	return TRUE;
}

static void stop_xvfb(void)
{
	if (xvfb == NULL)
		return;
	g_subprocess_send_signal(xvfb, SIGTERM);
	g_subprocess_wait(xvfb, NULL, NULL);
	g_clear_object(&xvfb);
}

/* ---- X helpers ----------------------------------------------------------- */

/* The next event of `type` for `win` within WAIT_MS; others dropped. */
static gboolean wait_event(Window win, int type, XEvent *out)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_MS * 1000;

	for (;;) {
		struct pollfd pfd = { .fd = ConnectionNumber(tdpy),
				      .events = POLLIN };
		gint64 left;

		while (XPending(tdpy) > 0) {
			XEvent e;

			XNextEvent(tdpy, &e);
			/* Keysyms bound on the fly: refresh the cache. */
			if (e.type == MappingNotify)
				XRefreshKeyboardMapping(&e.xmapping);
			if (e.type == type && e.xany.window == win) {
				*out = e;
				return TRUE;
			}
		}
		left = (deadline - g_get_monotonic_time()) / 1000;
		if (left <= 0)
			return FALSE;
		poll(&pfd, 1, (int)left);
	}
}

/* Drops whatever events are queued for the test connection. */
static void drain_events(void)
{
	XEvent e;

	XSync(tdpy, False);
	while (XPending(tdpy) > 0) {
		XNextEvent(tdpy, &e);
		if (e.type == MappingNotify)
			XRefreshKeyboardMapping(&e.xmapping);
	}
}

static unsigned long pixel_of(uint32_t rgb)
{
	/* Xvfb depth 24 TrueColor: 0xRRGGBB is the pixel value. */
	return rgb & 0xffffff;
}

/* Draws on the canvas and records the same in `expected`. */
static void fill(int x, int y, int w, int h, uint32_t rgb)
{
	int i, j;

	XSetForeground(tdpy, gc, pixel_of(rgb));
	XFillRectangle(tdpy, canvas, gc, x, y, (unsigned)w, (unsigned)h);
	for (j = y; j < y + h; j++)
		for (i = x; i < x + w; i++)
			expected[(size_t)j * SCREEN_W + (size_t)i] = rgb;
}

static void draw_picture(void)
{
	int i;

	fill(0, 0, SCREEN_W, SCREEN_H, 0x000000);
	fill(0, 0, 200, 150, 0xff0000);
	fill(200, 0, 200, 150, 0x00ff00);
	fill(400, 0, 200, 150, 0x0000ff);
	fill(0, 150, SCREEN_W, 10, 0xffffff);
	fill(600, 300, 100, 100, 0x7b2d43);
	/* One-pixel columns and rows catch off-by-one and stride errors. */
	for (i = 0; i < 64; i++) {
		fill(100 + 2 * i, 400, 1, 300, (uint32_t)(i * 4) << 16 | 0x80);
		fill(300, 400 + 2 * i, 200, 1, (uint32_t)(255 - i * 4) << 8);
	}
	fill(SCREEN_W - 1, SCREEN_H - 1, 1, 1, 0x123456);
	fill(0, SCREEN_H - 1, 1, 1, 0xabcdef);
	XSync(tdpy, False);
}

static Window make_window(int x, int y, int w, int h, long mask)
{
	XSetWindowAttributes a = { .override_redirect = True,
				   .event_mask = mask | ExposureMask };
	Window win;
	XEvent e;

	win = XCreateWindow(tdpy, DefaultRootWindow(tdpy), x, y, (unsigned)w,
			    (unsigned)h, 0, CopyFromParent, InputOutput,
			    CopyFromParent, CWOverrideRedirect | CWEventMask,
			    &a);
	XMapRaised(tdpy, win);
	g_assert_true(wait_event(win, Expose, &e));
	return win;
}

/* Channel values of a captured pixel, as the declared format says. */
static uint32_t rgb_of(const struct ll_capture_format *f, uint32_t px)
{
	uint32_t r = (px >> f->red_shift) & f->red_max;
	uint32_t g = (px >> f->green_shift) & f->green_max;
	uint32_t b = (px >> f->blue_shift) & f->blue_max;

	return r << 16 | g << 8 | b;
}

static uint32_t fb_pixel(const struct ll_capture_format *f, const uint8_t *fb,
			 uint32_t x, uint32_t y)
{
	uint32_t px;

	memcpy(&px, fb + (size_t)y * f->stride + (size_t)x * 4, 4);
	return rgb_of(f, px);
}

/* Counts pixels of fb (at ox, oy of the screen) that differ. */
static size_t compare_picture(const struct ll_capture_format *f,
			      const uint8_t *fb, uint32_t ox, uint32_t oy)
{
	size_t bad = 0;
	uint32_t x, y;

	for (y = 0; y < f->height; y++) {
		for (x = 0; x < f->width; x++) {
			uint32_t want =
				expected[(size_t)(y + oy) * SCREEN_W + x + ox];

			if (fb_pixel(f, fb, x, y) != want) {
				if (bad == 0)
					g_test_message("first diff at %u,%u: "
						       "%06x != %06x",
						       x, y,
						       fb_pixel(f, fb, x, y),
						       want);
				bad++;
			}
		}
	}
	return bad;
}

static struct ll_platform *open_flags(unsigned flags)
{
	struct ll_platform *p = NULL;

	g_assert_cmpint(ll_platform_x11_open(display_name, flags, &p), ==, 0);
	g_assert_nonnull(p);
	g_assert_cmpstr(ll_platform_name(p), ==, "x11");
	return p;
}

static struct ll_platform *open_backend(void)
{
	struct ll_platform *p = NULL;

	g_assert_cmpint(ll_platform_open("x11", display_name, &p), ==, 0);
	g_assert_nonnull(p);
	g_assert_cmpstr(ll_platform_name(p), ==, "x11");
	return p;
}

static uint8_t *grab_full(struct ll_platform *p, struct ll_capture_format *f)
{
	uint8_t *fb;

	g_assert_cmpint(ll_platform_get_format(p, f), ==, 0);
	fb = g_malloc0(f->size);
	g_assert_cmpint(ll_platform_grab(p, NULL, fb, f->size), ==, 0);
	return fb;
}

/* Dispatches the backend until one of `want` arrives (or times out). */
static unsigned wait_backend(struct ll_platform *p, unsigned want)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_MS * 1000;
	unsigned got = 0, ev;

	while (!(got & want)) {
		struct pollfd pfd = { .fd = ll_platform_fd(p),
				      .events = POLLIN };
		gint64 left = (deadline - g_get_monotonic_time()) / 1000;

		if (!ll_platform_pending(p)) {
			if (left <= 0)
				break;
			poll(&pfd, 1, (int)left);
		}
		g_assert_cmpint(ll_platform_dispatch(p, &ev), ==, 0);
		got |= ev;
	}
	return got;
}

static gboolean covers(const struct ll_capture_rect *r, size_t n, uint32_t x,
		       uint32_t y)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (x >= r[i].x && x < r[i].x + r[i].width && y >= r[i].y &&
		    y < r[i].y + r[i].height)
			return TRUE;
	return FALSE;
}

/* ---- tests ------------------------------------------------------------- */

static void test_format(void)
{
	struct ll_platform *p = open_backend();
	struct ll_capture_format f;
	unsigned feat = ll_platform_features(p);

	g_assert_cmpuint(feat & LL_PLATFORM_FEAT_SHM, !=, 0);
	g_assert_cmpuint(feat & LL_PLATFORM_FEAT_DAMAGE, !=, 0);
	g_assert_cmpuint(feat & LL_PLATFORM_FEAT_CURSOR, !=, 0);
	g_assert_cmpuint(feat & LL_PLATFORM_FEAT_MONITORS, !=, 0);
	g_assert_cmpuint(feat & LL_PLATFORM_FEAT_INPUT, !=, 0);
	g_assert_cmpint(ll_platform_get_format(p, &f), ==, 0);
	g_assert_cmpuint(f.width, ==, SCREEN_W);
	g_assert_cmpuint(f.height, ==, SCREEN_H);
	g_assert_cmpuint(f.stride, ==, SCREEN_W * 4);
	g_assert_cmpuint(f.size, ==, (size_t)SCREEN_W * SCREEN_H * 4);
	g_assert_cmpuint(f.bits_per_pixel, ==, 32);
	g_assert_cmpuint(f.depth, ==, 24);
	g_assert_cmpuint(f.red_max, ==, 255);
	g_assert_cmpuint(f.green_max, ==, 255);
	g_assert_cmpuint(f.blue_max, ==, 255);
	g_assert_cmpuint(f.red_shift, ==, 16);
	g_assert_cmpuint(f.green_shift, ==, 8);
	g_assert_cmpuint(f.blue_shift, ==, 0);
	g_assert_cmpint(f.big_endian, ==, G_BYTE_ORDER == G_BIG_ENDIAN);
	g_assert_cmpint(ll_platform_fd(p), >=, 0);

	/* Argument checks with their specific codes. */
	g_assert_cmpint(ll_platform_get_format(p, NULL), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_platform_open("wayland-someday", display_name, &p),
			==, LL_ERR_NOT_FOUND);
	ll_platform_free(p);
	ll_platform_free(NULL);
}

static void test_open_bad_display(void)
{
	struct ll_platform *p = NULL;

	/* A display nobody serves: an error code, no exit, *out untouched. */
	g_assert_cmpint(ll_platform_open("x11", ":4242", &p), ==, LL_ERR_IO);
	g_assert_null(p);
}

static void test_capture(void)
{
	struct ll_platform *p = open_backend();
	struct ll_capture_format f;
	struct ll_capture_rect r = { 150, 100, 100, 80 };
	uint8_t *fb, *part;
	uint32_t x, y;

	draw_picture();
	fb = grab_full(p, &f);
	g_assert_cmpuint(compare_picture(&f, fb, 0, 0), ==, 0);

	/* A rectangle lands at its place; the rest of the buffer untouched. */
	part = g_malloc0(f.size);
	g_assert_cmpint(ll_platform_grab(p, &r, part, f.size), ==, 0);
	for (y = 0; y < f.height; y += 7) {
		for (x = 0; x < f.width; x += 5) {
			gboolean in = x >= r.x && x < r.x + r.width &&
				      y >= r.y && y < r.y + r.height;
			uint32_t px;

			memcpy(&px, part + y * f.stride + x * 4, 4);
			if (in)
				g_assert_cmphex(rgb_of(&f, px), ==,
						expected[y * SCREEN_W + x]);
			else
				g_assert_cmphex(px, ==, 0);
		}
	}
	/* Rectangles past the edge are clipped, not an error. */
	r = (struct ll_capture_rect){ SCREEN_W - 10, SCREEN_H - 10, 500, 500 };
	g_assert_cmpint(ll_platform_grab(p, &r, part, f.size), ==, 0);
	g_assert_cmphex(fb_pixel(&f, part, SCREEN_W - 1, SCREEN_H - 1), ==,
			0x123456);
	r = (struct ll_capture_rect){ SCREEN_W, 0, 10, 10 };
	g_assert_cmpint(ll_platform_grab(p, &r, part, f.size), ==, 0);

	/* A buffer one byte short is refused before anything is written. */
	g_assert_cmpint(ll_platform_grab(p, NULL, part, f.size - 1), ==,
			LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_platform_grab(p, NULL, NULL, f.size), ==,
			LL_ERR_INVALID_ARG);
	g_free(part);
	g_free(fb);
	ll_platform_free(p);
}

static void test_xgetimage_fallback(void)
{
	struct ll_platform *shm, *plain;
	struct ll_capture_format f1, f2;
	struct ll_capture_rect r = { 97, 399, 211, 123 };
	uint8_t *a, *b;

	draw_picture();
	shm = open_backend();
	plain = open_flags(LL_PLATFORM_X11_NO_SHM);
	g_assert_cmpuint(ll_platform_features(shm) & LL_PLATFORM_FEAT_SHM, !=,
			 0);
	g_assert_cmpuint(ll_platform_features(plain) & LL_PLATFORM_FEAT_SHM,
			 ==, 0);

	a = grab_full(shm, &f1);
	b = grab_full(plain, &f2);
	g_assert_cmpmem(&f1, sizeof(f1), &f2, sizeof(f2));
	g_assert_cmpuint(compare_picture(&f2, b, 0, 0), ==, 0);
	g_assert_cmpmem(a, f1.size, b, f2.size);

	/* Odd-sized rectangles through both paths, too. */
	memset(a, 0, f1.size);
	memset(b, 0, f2.size);
	g_assert_cmpint(ll_platform_grab(shm, &r, a, f1.size), ==, 0);
	g_assert_cmpint(ll_platform_grab(plain, &r, b, f2.size), ==, 0);
	g_assert_cmpmem(a, f1.size, b, f2.size);
	g_assert_cmphex(fb_pixel(&f1, a, 100, 400), ==,
			expected[400 * SCREEN_W + 100]);
	g_free(a);
	g_free(b);
	ll_platform_free(plain);
	ll_platform_free(shm);
}

static void test_damage(void)
{
	struct ll_platform *p = open_backend();
	struct ll_capture_format f;
	struct ll_capture_rect rects[16];
	size_t n = 0, i;
	uint64_t area = 0;
	uint8_t *fb;

	draw_picture();
	fb = grab_full(p, &f);
	/* First call: the full frame. */
	g_assert_cmpint(ll_platform_damage(p, rects, 16, &n), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpuint(rects[0].width, ==, SCREEN_W);
	g_assert_cmpuint(rects[0].height, ==, SCREEN_H);
	/* Nothing drawn since: nothing reported. */
	XSync(tdpy, False);
	g_assert_cmpint(ll_platform_damage(p, rects, 16, &n), ==, 0);
	g_assert_cmpuint(n, ==, 0);

	fill(300, 200, 50, 40, 0x11ee22);
	fill(800, 600, 20, 10, 0xee1122);
	XSync(tdpy, False);
	g_assert_cmpuint(wait_backend(p, LL_PLATFORM_EV_DAMAGE) &
				 LL_PLATFORM_EV_DAMAGE,
			 !=, 0);
	g_assert_cmpint(ll_platform_damage(p, rects, 16, &n), ==, 0);
	g_assert_cmpuint(n, >=, 1);
	for (i = 0; i < n; i++) {
		area += (uint64_t)rects[i].width * rects[i].height;
		g_assert_cmpint(ll_platform_grab(p, &rects[i], fb, f.size), ==,
				0);
	}
	g_assert_true(covers(rects, n, 300, 200));
	g_assert_true(covers(rects, n, 349, 239));
	g_assert_true(covers(rects, n, 819, 609));
	g_assert_false(covers(rects, n, 10, 10));
	g_assert_cmpuint(area, <, (uint64_t)SCREEN_W * SCREEN_H / 4);
	/* The framebuffer, updated from the damage only, is the screen. */
	g_assert_cmpuint(compare_picture(&f, fb, 0, 0), ==, 0);

	/* max 1: both changes collapse into their bounding box. */
	fill(10, 10, 5, 5, 0x010203);
	fill(500, 300, 5, 5, 0x040506);
	XSync(tdpy, False);
	wait_backend(p, LL_PLATFORM_EV_DAMAGE);
	g_assert_cmpint(ll_platform_damage(p, rects, 1, &n), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	g_assert_true(covers(rects, 1, 10, 10));
	g_assert_true(covers(rects, 1, 504, 304));
	g_assert_cmpint(ll_platform_damage(p, rects, 0, &n), ==,
			LL_ERR_INVALID_ARG);
	g_free(fb);
	ll_platform_free(p);

	/* Without XDamage every call is a full frame. */
	p = open_flags(LL_PLATFORM_X11_NO_DAMAGE);
	g_assert_cmpuint(ll_platform_features(p) & LL_PLATFORM_FEAT_DAMAGE, ==,
			 0);
	for (i = 0; i < 2; i++) {
		g_assert_cmpint(ll_platform_damage(p, rects, 16, &n), ==, 0);
		g_assert_cmpuint(n, ==, 1);
		g_assert_cmpuint(rects[0].x, ==, 0);
		g_assert_cmpuint(rects[0].width, ==, SCREEN_W);
		g_assert_cmpuint(rects[0].height, ==, SCREEN_H);
	}
	ll_platform_free(p);
	draw_picture();
}

static const struct ll_platform_monitor *find_monitor(
	const struct ll_platform_monitor *m, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(m[i].name, name) == 0)
			return &m[i];
	return NULL;
}

static void test_monitors(void)
{
	struct ll_platform *p = open_backend();
	struct ll_platform_monitor *mons = NULL;
	const struct ll_platform_monitor *m;
	struct ll_capture_format f;
	struct ll_capture_rect rects[16];
	XRRMonitorInfo *vm;
	Atom name = XInternAtom(tdpy, "LL-TEST", False);
	Window root_ret, child;
	int rx, ry, wx, wy;
	unsigned mask;
	int32_t px, py;
	size_t n = 0;
	uint8_t *fb;

	draw_picture();
	g_assert_cmpint(ll_platform_monitors(p, &mons, &n), ==, 0);
	g_assert_cmpuint(n, >=, 2); /* "all" and Xvfb's one screen */
	g_assert_cmpstr(mons[0].name, ==, LL_PLATFORM_ALL);
	g_assert_true(mons[0].is_all);
	g_assert_cmpuint(mons[0].width, ==, SCREEN_W);
	g_assert_cmpuint(mons[0].height, ==, SCREEN_H);
	g_assert_false(mons[1].is_all);
	g_assert_cmpuint(mons[1].width, ==, SCREEN_W);
	g_test_message("Xvfb monitor: %s", mons[1].name);
	free(mons);

	/* As `xrandr --setmonitor LL-TEST 400/100x300/75+100+50 none`. */
	vm = XRRAllocateMonitor(tdpy, 0);
	vm->name = name;
	vm->x = 100;
	vm->y = 50;
	vm->width = 400;
	vm->height = 300;
	vm->mwidth = 100;
	vm->mheight = 75;
	XRRSetMonitor(tdpy, DefaultRootWindow(tdpy), vm);
	XRRFreeMonitors(vm);
	XSync(tdpy, False);
	g_assert_cmpuint(wait_backend(p, LL_PLATFORM_EV_GEOMETRY) &
				 LL_PLATFORM_EV_GEOMETRY,
			 !=, 0);

	g_assert_cmpint(ll_platform_monitors(p, &mons, &n), ==, 0);
	m = find_monitor(mons, n, "LL-TEST");
	g_assert_nonnull(m);
	g_assert_cmpint(m->x, ==, 100);
	g_assert_cmpint(m->y, ==, 50);
	g_assert_cmpuint(m->width, ==, 400);
	g_assert_cmpuint(m->height, ==, 300);
	free(mons);

	g_assert_cmpint(ll_platform_select_monitor(p, "no-such-monitor"), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_platform_select_monitor(p, "LL-TEST"), ==, 0);
	fb = grab_full(p, &f);
	g_assert_cmpuint(f.width, ==, 400);
	g_assert_cmpuint(f.height, ==, 300);
	g_assert_cmpuint(f.stride, ==, 1600);
	g_assert_cmpuint(compare_picture(&f, fb, 100, 50), ==, 0);

	/* Damage: full (new selection), then clipped and translated. */
	g_assert_cmpint(ll_platform_damage(p, rects, 16, &n), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpuint(rects[0].width, ==, 400);
	fill(450, 320, 100, 100, 0x33cc99);
	XSync(tdpy, False);
	g_assert_cmpuint(wait_backend(p, LL_PLATFORM_EV_DAMAGE) &
				 LL_PLATFORM_EV_DAMAGE,
			 !=, 0);
	g_assert_cmpint(ll_platform_damage(p, rects, 16, &n), ==, 0);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpuint(rects[0].x, ==, 350);
	g_assert_cmpuint(rects[0].y, ==, 270);
	g_assert_cmpuint(rects[0].width, ==, 50);
	g_assert_cmpuint(rects[0].height, ==, 30);

	/* Pointer coordinates are the monitor's. */
	g_assert_cmpint(ll_platform_pointer_move(p, 10, 20), ==, 0);
	/* A round trip on the backend's connection: the motion is done. */
	g_assert_cmpint(ll_platform_pointer_position(p, &px, &py), ==, 0);
	g_assert_cmpint(px, ==, 10);
	g_assert_cmpint(py, ==, 20);
	XQueryPointer(tdpy, DefaultRootWindow(tdpy), &root_ret, &child, &rx,
		      &ry, &wx, &wy, &mask);
	g_assert_cmpint(rx, ==, 110);
	g_assert_cmpint(ry, ==, 70);
	/* Clamped to the monitor: never into the rest of the desktop. */
	g_assert_cmpint(ll_platform_pointer_move(p, 5000, -30), ==, 0);
	g_assert_cmpint(ll_platform_pointer_position(p, &px, &py), ==, 0);
	g_assert_cmpint(px, ==, 399);
	g_assert_cmpint(py, ==, 0);
	XQueryPointer(tdpy, DefaultRootWindow(tdpy), &root_ret, &child, &rx,
		      &ry, &wx, &wy, &mask);
	g_assert_cmpint(rx, ==, 499);
	g_assert_cmpint(ry, ==, 50);

	/* The monitor goes away: the selection falls back to "all". */
	XRRDeleteMonitor(tdpy, DefaultRootWindow(tdpy), name);
	XSync(tdpy, False);
	g_assert_cmpuint(wait_backend(p, LL_PLATFORM_EV_GEOMETRY) &
				 LL_PLATFORM_EV_GEOMETRY,
			 !=, 0);
	g_assert_cmpint(ll_platform_get_format(p, &f), ==, 0);
	g_assert_cmpuint(f.width, ==, SCREEN_W);
	g_assert_cmpuint(f.height, ==, SCREEN_H);
	g_free(fb);
	ll_platform_free(p);
	draw_picture();
}

static void test_cursor(void)
{
	struct ll_platform *p = open_backend();
	struct ll_capture_cursor *c1 = NULL, *c2 = NULL;
	Cursor cross = XCreateFontCursor(tdpy, XC_crosshair);
	Cursor watch = XCreateFontCursor(tdpy, XC_watch);
	size_t i, opaque = 0;

	XDefineCursor(tdpy, canvas, cross);
	XSync(tdpy, False);
	g_assert_cmpint(ll_platform_pointer_move(p, 512, 384), ==, 0);
	wait_backend(p, LL_PLATFORM_EV_CURSOR);
	g_assert_cmpint(ll_platform_cursor(p, &c1), ==, 0);
	g_assert_cmpuint(c1->width, >, 0);
	g_assert_cmpuint(c1->height, >, 0);
	g_assert_cmpuint(c1->xhot, <, c1->width);
	g_assert_cmpuint(c1->yhot, <, c1->height);
	for (i = 0; i < (size_t)c1->width * c1->height; i++)
		if (c1->pixels[i] >> 24 != 0)
			opaque++;
	g_assert_cmpuint(opaque, >, 0);

	XDefineCursor(tdpy, canvas, watch);
	XSync(tdpy, False);
	g_assert_cmpuint(wait_backend(p, LL_PLATFORM_EV_CURSOR) &
				 LL_PLATFORM_EV_CURSOR,
			 !=, 0);
	g_assert_cmpint(ll_platform_cursor(p, &c2), ==, 0);
	g_assert_cmpuint(c2->serial, !=, c1->serial);
	g_assert_cmpint(ll_platform_cursor(p, NULL), ==, LL_ERR_INVALID_ARG);
	ll_capture_cursor_free(c1);
	ll_capture_cursor_free(c2);
	ll_capture_cursor_free(NULL);
	XUndefineCursor(tdpy, canvas);
	XFreeCursor(tdpy, cross);
	XFreeCursor(tdpy, watch);
	ll_platform_free(p);
}

/*
 * The process-wide Xlib error handler belongs to the toolkit (GDK, on the
 * GTK thread); the backend runs on another thread and must never swap it,
 * not even for an instant around its own risky calls (that raced with
 * GDK's error traps at the applet's End session).  A worker thread drives
 * every call that can raise an error (grabs, cursor, damage, key binding
 * with a keysym the map lacks) while this thread keeps checking that the
 * installed handler is still its own.
 */
static int sentinel_calls;

static int sentinel_handler(Display *dpy, XErrorEvent *ev)
{
	(void)dpy;
	(void)ev;
	sentinel_calls++;
	return 0;
}

struct err_worker {
	struct ll_platform *p;
	uint32_t *fb;
	size_t fb_len;
	gint stop;
	gint rounds;
};

static gpointer err_worker_run(gpointer data)
{
	struct err_worker *w = data;
	struct ll_capture_cursor *c;
	struct ll_capture_rect rects[4];
	size_t n;

	while (!g_atomic_int_get(&w->stop)) {
		g_assert_cmpint(ll_platform_grab(w->p, NULL, w->fb, w->fb_len),
				==, 0);
		if (ll_platform_cursor(w->p, &c) == 0)
			ll_capture_cursor_free(c);
		g_assert_cmpint(ll_platform_damage(w->p, rects, 4, &n), ==, 0);
		/* bound to a spare keycode: XChangeKeyboardMapping + sync */
		g_assert_cmpint(ll_platform_key(w->p, 0x010003b1, true), ==,
				0);
		g_assert_cmpint(ll_platform_key(w->p, 0x010003b1, false), ==,
				0);
		g_atomic_int_inc(&w->rounds);
	}
	return NULL;
}

static void test_error_handler_untouched(void)
{
	struct err_worker w = { 0 };
	struct ll_capture_format fmt;
	XErrorHandler prev, mine;
	GThread *t;
	gint64 end;
	int foreign = 0, checks = 0;

	mine = sentinel_handler;
	prev = XSetErrorHandler(mine);
	w.p = open_backend();
	g_assert_cmpint(ll_platform_get_format(w.p, &fmt), ==, 0);
	w.fb_len = fmt.size;
	w.fb = g_malloc(w.fb_len);
	t = g_thread_new("backend", err_worker_run, &w);
	end = g_get_monotonic_time() + G_USEC_PER_SEC;
	while (g_get_monotonic_time() < end ||
	       g_atomic_int_get(&w.rounds) < 20) {
		/* returns what was installed: must still be ours */
		if (XSetErrorHandler(mine) != mine)
			foreign++;
		checks++;
	}
	g_atomic_int_set(&w.stop, 1);
	g_thread_join(t);
	/* closing (key map restored under a trap) leaves it alone too */
	ll_platform_free(w.p);
	if (XSetErrorHandler(mine) != mine)
		foreign++;
	g_test_message("%d checks during %d rounds", checks,
		       g_atomic_int_get(&w.rounds));
	g_assert_cmpint(foreign, ==, 0);
	g_assert_cmpint(sentinel_calls, ==, 0);
	XSetErrorHandler(prev);
	g_free(w.fb);
}

/* The server auto-repeats this key (its per-key setting). */
static bool key_repeats(KeyCode code)
{
	XKeyboardState ks;

	XGetKeyboardControl(tdpy, &ks);
	return (ks.auto_repeats[code / 8] & (1 << (code % 8))) != 0;
}

/* Presses and releases keysym; the window must see it as keysym. */
static void type_and_check(struct ll_platform *p, Window win, KeySym sym)
{
	char text[16];
	KeySym got = NoSymbol;
	XEvent e;

	g_assert_cmpint(ll_platform_key(p, (uint32_t)sym, true), ==, 0);
	g_assert_cmpint(ll_platform_key(p, (uint32_t)sym, false), ==, 0);
	/* Skip a Shift the backend added or lifted around the key. */
	do {
		g_assert_true(wait_event(win, KeyPress, &e));
		XLookupString(&e.xkey, text, sizeof(text), &got, NULL);
	} while (IsModifierKey(got) && !IsModifierKey(sym));
	/* Hex only: XKeysymToString leaks for Unicode keysyms. */
	g_test_message("sent keysym 0x%lx, got 0x%lx", sym, got);
	g_assert_cmphex(got, ==, sym);
	do {
		g_assert_true(wait_event(win, KeyRelease, &e));
	} while (IsModifierKey(XLookupKeysym(&e.xkey, 0)) &&
		 !IsModifierKey(sym));
}

static void test_input(void)
{
	struct ll_platform *p = open_backend();
	const long mask = KeyPressMask | KeyReleaseMask | ButtonPressMask |
			  ButtonReleaseMask | PointerMotionMask;
	static const KeySym keys[] = {
		XK_a,
		XK_A,
		XK_1,
		XK_exclam,
		XK_Return,
		XK_space,
		XK_eacute,
		XK_Cyrillic_zhe,
		XK_Cyrillic_ZHE,
		XK_EuroSign,
		0x100263a, /* U+263A as a Unicode keysym */
		XK_eacute, /* again: the spare keycode is reused */
	};
	Display *fresh;
	Window win;
	XEvent e;
	KeyCode bcode;
	unsigned b;
	size_t i;

	win = make_window(600, 400, 300, 200, mask);
	XSetInputFocus(tdpy, win, RevertToParent, CurrentTime);
	drain_events();

	g_assert_cmpint(ll_platform_pointer_move(p, 650, 450), ==, 0);
	g_assert_true(wait_event(win, MotionNotify, &e));
	while (e.xmotion.x_root != 650 || e.xmotion.y_root != 450)
		g_assert_true(wait_event(win, MotionNotify, &e));
	g_assert_cmpint(e.xmotion.x, ==, 50);
	g_assert_cmpint(e.xmotion.y, ==, 50);

	for (b = 1; b <= 5; b++) {
		g_assert_cmpint(ll_platform_pointer_button(p, b, true), ==, 0);
		g_assert_cmpint(ll_platform_pointer_button(p, b, false), ==,
				0);
		g_assert_true(wait_event(win, ButtonPress, &e));
		g_assert_cmpuint(e.xbutton.button, ==, b);
		g_assert_cmpint(e.xbutton.x, ==, 50);
		g_assert_true(wait_event(win, ButtonRelease, &e));
		g_assert_cmpuint(e.xbutton.button, ==, b);
	}
	g_assert_cmpint(ll_platform_pointer_button(p, 0, true), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_platform_pointer_button(p, 8, true), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_platform_key(p, 0, true), ==, LL_ERR_INVALID_ARG);

	for (i = 0; i < G_N_ELEMENTS(keys); i++)
		type_and_check(p, win, keys[i]);

	/*
	 * The technician holds Shift (as a German keyboard does for "/"):
	 * the slash must still arrive as slash, not as "?".
	 */
	g_assert_cmpint(ll_platform_key(p, XK_Shift_L, true), ==, 0);
	g_assert_true(wait_event(win, KeyPress, &e));
	type_and_check(p, win, XK_slash);
	type_and_check(p, win, XK_question);
	g_assert_cmpint(ll_platform_key(p, XK_Shift_L, false), ==, 0);
	g_assert_true(wait_event(win, KeyRelease, &e));
	drain_events();

	/* Stop control: whatever is held is released.  A held key never
	 * auto-repeats (its per-key autorepeat is off while we hold it),
	 * and repeats again once released. */
	bcode = XKeysymToKeycode(tdpy, XK_b);
	g_assert_true(key_repeats(bcode));
	g_assert_cmpint(ll_platform_key(p, XK_b, true), ==, 0);
	g_assert_cmpint(ll_platform_pointer_button(p, 1, true), ==, 0);
	g_assert_true(wait_event(win, KeyPress, &e));
	g_assert_true(wait_event(win, ButtonPress, &e));
	g_assert_false(key_repeats(bcode));
	g_assert_cmpint(ll_platform_input_reset(p), ==, 0);
	g_assert_true(key_repeats(bcode));
	g_assert_true(wait_event(win, KeyRelease, &e));
	g_assert_true(wait_event(win, ButtonRelease, &e));
	g_assert_cmpuint(e.xbutton.button, ==, 1);

	/* Spare keycodes are given back when the backend closes. */
	ll_platform_free(p);
	fresh = XOpenDisplay(display_name);
	g_assert_nonnull(fresh);
	g_assert_cmpuint(XKeysymToKeycode(fresh, XK_eacute), ==, 0);
	g_assert_cmpuint(XKeysymToKeycode(fresh, XK_Cyrillic_zhe), ==, 0);
	g_assert_cmpuint(XKeysymToKeycode(fresh, 0x100263a), ==, 0);
	g_assert_cmpuint(XKeysymToKeycode(fresh, XK_a), !=, 0);
	XCloseDisplay(fresh);
	XDestroyWindow(tdpy, win);
	drain_events();
}

static void test_screenshot(void)
{
	struct ll_platform *p = open_backend();
	struct ll_capture_format f;
	const char *dir = g_getenv("LL_ARTIFACTS_DIR");
	g_autofree char *path = NULL;
	g_autofree char *data = NULL;
	cairo_surface_t *s;
	uint8_t *fb, *row;
	uint32_t x, y;
	size_t len = 0;
	Window win;

	/* Something in front of the picture, to show the stacking works. */
	win = make_window(700, 500, 200, 120, 0);
	XSetWindowBackground(tdpy, win, pixel_of(0xffcc00));
	XClearWindow(tdpy, win);
	XSync(tdpy, False);
	fb = grab_full(p, &f);
	g_assert_cmphex(fb_pixel(&f, fb, 710, 510), ==, 0xffcc00);

	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)f.width,
				       (int)f.height);
	cairo_surface_flush(s);
	for (y = 0; y < f.height; y++) {
		row = cairo_image_surface_get_data(s) +
		      (size_t)y * (size_t)cairo_image_surface_get_stride(s);
		for (x = 0; x < f.width; x++) {
			uint32_t v = fb_pixel(&f, fb, x, y);

			memcpy(row + (size_t)x * 4, &v, 4);
		}
	}
	cairo_surface_mark_dirty(s);
	if (dir == NULL)
		dir = "artifacts/e2e";
	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	path = g_build_filename(dir, "x11-platform.png", NULL);
	g_assert_cmpint(cairo_surface_write_to_png(s, path), ==,
			CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	g_assert_cmpuint(len, >, 8);
	g_assert_cmpmem(data, 8, "\x89PNG\r\n\x1a\n", 8);
	g_test_message("screenshot: %s", path);
	XDestroyWindow(tdpy, win);
	g_free(fb);
	ll_platform_free(p);
}

int main(int argc, char **argv)
{
	int status;

	/* as the applet: the backend runs on a thread of its own */
	XInitThreads();
	g_test_init(&argc, &argv, NULL);
	if (!start_xvfb()) {
		g_printerr("Xvfb not found: skipping\n");
		return 77;
	}
	tdpy = XOpenDisplay(display_name);
	g_assert_nonnull(tdpy);
	canvas = make_window(0, 0, SCREEN_W, SCREEN_H, 0);
	gc = XCreateGC(tdpy, canvas, 0, NULL);
	draw_picture();

	g_test_add_func("/x11/format", test_format);
	g_test_add_func("/x11/open-bad-display", test_open_bad_display);
	g_test_add_func("/x11/capture", test_capture);
	g_test_add_func("/x11/xgetimage-fallback", test_xgetimage_fallback);
	g_test_add_func("/x11/damage", test_damage);
	g_test_add_func("/x11/monitors", test_monitors);
	g_test_add_func("/x11/cursor", test_cursor);
	g_test_add_func("/x11/input", test_input);
	g_test_add_func("/x11/error-handler-untouched",
			test_error_handler_untouched);
	g_test_add_func("/x11/screenshot", test_screenshot);
	status = g_test_run();

	XFreeGC(tdpy, gc);
	XCloseDisplay(tdpy);
	stop_xvfb();
	return status;
}
