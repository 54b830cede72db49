/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * X11 backend of the platform layer, the way x11vnc captures a display:
 *   capture  XShmGetImage into one shared segment the size of the root
 *            (XGetImage when MIT-SHM is missing or cannot attach, e.g. on
 *            a remote display);
 *   damage   XDamage on the root (ReportNonEmpty: one event, then the
 *            accumulated region is fetched and cleared with
 *            XDamageSubtract + XFixesFetchRegion), full frames otherwise;
 *   cursor   XFixesGetCursorImage + cursor-change events;
 *   monitors XRRGetMonitors (RandR 1.5);
 *   input    XTest; keysyms missing from the keyboard map are bound to a
 *            spare keycode (as x11vnc and xdotool do), kept while this
 *            instance lives (clients look keycodes up when they process
 *            the event, later than we send it) and restored at free.
 *            A key we hold never auto-repeats: its per-key autorepeat
 *            is off from our press to our release (x11vnc's -norepeat,
 *            per key so the user's own typing keeps repeating).  The
 *            technician's viewer sends its own repeats, which pass only
 *            while the input gate is open; a key held when the gate
 *            closes can therefore not go on typing into a dialog.
 *            LL_PLATFORM_OPEN_INPUT_ONLY opens a connection that only
 *            injects: no capture, no events selected.
 *
 * Its own Display connection, single-threaded.  X errors raised by our
 * requests never reach Xlib's process-wide error handler: that one is
 * GDK's, on the GTK thread, while this connection lives on the RFB thread
 * (see route_errors()).
 */
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <X11/Xlib.h>
/* XESetWireToError(), the per-display error hook (see route_errors) */
#include <X11/Xlibint.h>
#include <X11/Xutil.h>
#include <X11/keysym.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/XTest.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>
#include <X11/extensions/Xrandr.h>

#include "ll_build.h"
#include "ll_util.h"
#include "platform.h"

#define X11_SCRATCH_MAX 16  /* keysyms bound to spare keycodes at once */
#define X11_PRESSED_MAX 32  /* keys held down at once */
#define X11_CURSOR_MAX 1024 /* cursor side cap in pixels */

struct x11_scratch {
	KeyCode code;
	KeySym sym;
	uint64_t last_use;
};

struct x11_pressed {
	uint32_t keysym;
	KeyCode code;
	bool repeat_was_on; /* per-key autorepeat to restore at release */
};

struct x11 {
	struct ll_platform base; /* first: the generic layer casts */
	Display *dpy;
	int screen;
	Window root;
	uint32_t root_w, root_h;
	int scanline_pad; /* bits, for XShmGetImage's rows */
	bool swap;        /* server pixel byte order != host */

	char sel_name[LL_PLATFORM_MONITOR_NAME_MAX];
	int32_t sel_x, sel_y; /* selection in root coordinates */
	uint32_t sel_w, sel_h;
	struct ll_capture_format fmt;
	bool full_pending; /* next damage call: the full frame */

	bool have_shm;
	XShmSegmentInfo shminfo;
	XImage *shm_img; /* root-sized, data in the segment */

	bool have_damage;
	int damage_event, damage_error;
	Damage damage;
	XserverRegion region;

	bool have_xfixes;
	int xfixes_event, xfixes_error;

	bool have_randr; /* events; monitors need >= 1.5 */
	bool have_monitors;
	int randr_event, randr_error;

	bool have_xtest;
	int min_kc, max_kc, per_kc;
	KeySym *kmap; /* core map, (max-min+1) * per_kc */
	struct x11_scratch scratch[X11_SCRATCH_MAX];
	size_t n_scratch;
	uint64_t use_clock;
	struct x11_pressed pressed[X11_PRESSED_MAX];
	size_t n_pressed;
	unsigned buttons_down; /* bit b for button b */
};

static struct x11 *to_x11(struct ll_platform *p)
{
	return (struct x11 *)p;
}

/*
 * X errors of our connection.  Xlib's XSetErrorHandler() handler is one
 * per process, and GDK owns it: it installs its own at start-up and swaps
 * it around each of its error traps on the GTK thread.  Swapping it from
 * the RFB thread as well (as this file once did around every grab, cursor
 * fetch and key binding) races with GDK: errors of either connection go
 * to the other side's handler, GDK warns "XSetErrorHandler() called with
 * a GDK error trap pushed", and either side's handler can be left
 * installed for good (the e2e test's applet log showed that warning at
 * End session right after Stop control).
 *
 * Instead, every error code of our own Display is routed to a per-display
 * hook (the wire-to-error converters Xlib keeps in each Display) that
 * records the code and stops the error there.  Xlib runs the hook on the
 * thread that reads the reply, i.e. the one thread using this Display at
 * the time (the RFB thread, or the GTK thread before start and after the
 * join), so the record is per thread and needs no lock.  Requests with a
 * reply still report failure through their return value.
 */
static _Thread_local int x11_error;

static Bool x11_wire_error(Display *dpy, XErrorEvent *ev, xError *we)
{
	(void)dpy;
	(void)we;
	if (x11_error == 0)
		x11_error = ev->error_code != 0 ? ev->error_code
						: BadImplementation;
	return False; /* handled: not for XSetErrorHandler's handler */
}

/* Before any other request on dpy: no error of ours ever leaves it. */
static void route_errors(Display *dpy)
{
	Bool (*def)(Display *, XErrorEvent *, xError *);
	Bool (*prev)(Display *, XErrorEvent *, xError *);
	int code;

	/* Xlib's default converter (nothing else converts core errors) */
	def = XESetWireToError(dpy, BadRequest, x11_wire_error);
	for (code = BadRequest + 1; code < 256; code++) {
		prev = XESetWireToError(dpy, code, x11_wire_error);
		/* an extension's own converter stays (none of ours has one) */
		if (prev != def && prev != NULL)
			XESetWireToError(dpy, code, prev);
	}
}

static void trap_begin(void)
{
	x11_error = 0;
}

/* sync: also wait for errors of requests that have no reply. */
static int trap_end(Display *dpy, bool sync)
{
	if (sync)
		XSync(dpy, False);
	return x11_error;
}

static bool env_set(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

/* Shift and max of a contiguous channel mask; false if unusable. */
static bool mask_shift(unsigned long mask, uint8_t *shift, uint16_t *max)
{
	unsigned s = 0;

	if (mask == 0 || mask > 0xffffffffUL)
		return false;
	while (!(mask & 1UL)) {
		mask >>= 1;
		s++;
	}
	if ((mask & (mask + 1)) != 0 || mask > 0xffff)
		return false;
	*shift = (uint8_t)s;
	*max = (uint16_t)mask;
	return true;
}

static bool host_big_endian(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one == 0;
}

/* ---- shared memory ---------------------------------------------------- */

static void shm_destroy(struct x11 *x)
{
	if (x->shm_img == NULL)
		return;
	XShmDetach(x->dpy, &x->shminfo);
	XSync(x->dpy, False);
	/* destroy_image of a shm image frees the struct, not the segment. */
	XDestroyImage(x->shm_img);
	x->shm_img = NULL;
	shmdt(x->shminfo.shmaddr);
	x->shminfo.shmaddr = NULL;
}

/* One segment the size of the root: covers every selection. */
static int shm_create(struct x11 *x)
{
	Visual *vis = DefaultVisual(x->dpy, x->screen);
	int depth = DefaultDepth(x->dpy, x->screen);
	XImage *img;
	size_t row, size;
	int id, err;

	if (!ll_size_mul(x->root_w, 4, &row) ||
	    !ll_size_mul(row, x->root_h, &size) || size == 0)
		return LL_ERR_TOO_LARGE;
	img = XShmCreateImage(x->dpy, vis, (unsigned)depth, ZPixmap, NULL,
			      &x->shminfo, x->root_w, x->root_h);
	if (img == NULL)
		return LL_ERR_IO;
	if (img->bits_per_pixel != 32 || img->bytes_per_line < 0 ||
	    (size_t)img->bytes_per_line < row) {
		XDestroyImage(img);
		return LL_ERR_IO;
	}
	if (!ll_size_mul((size_t)img->bytes_per_line, x->root_h, &size)) {
		XDestroyImage(img);
		return LL_ERR_TOO_LARGE;
	}
	id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
	if (id < 0) {
		XDestroyImage(img);
		return LL_ERR_IO;
	}
	x->shminfo.shmid = id;
	x->shminfo.shmaddr = shmat(id, NULL, 0);
	if (x->shminfo.shmaddr == (char *)-1) {
		shmctl(id, IPC_RMID, NULL);
		x->shminfo.shmaddr = NULL;
		XDestroyImage(img);
		return LL_ERR_IO;
	}
	img->data = x->shminfo.shmaddr;
	x->shminfo.readOnly = False;
	ll_prefault(x->shminfo.shmaddr, size);

	/* A remote server answers BadAccess here: trap it, do not die. */
	trap_begin();
	if (!XShmAttach(x->dpy, &x->shminfo))
		x11_error = BadAccess;
	err = trap_end(x->dpy, true);
	/* Attached (or not): the id can go, the mappings keep it alive. */
	shmctl(id, IPC_RMID, NULL);
	if (err != 0) {
		shmdt(x->shminfo.shmaddr);
		x->shminfo.shmaddr = NULL;
		XDestroyImage(img);
		return LL_ERR_IO;
	}
	x->shm_img = img;
	return 0;
}

/* ---- geometry and selection ------------------------------------------- */

static int set_format(struct x11 *x)
{
	struct ll_capture_format f = x->fmt;

	f.width = x->sel_w;
	f.height = x->sel_h;
	if (!ll_size_mul(f.width, 4, &f.stride) ||
	    !ll_size_mul(f.stride, f.height, &f.size))
		return LL_ERR_TOO_LARGE;
	x->fmt = f;
	x->full_pending = true;
	return 0;
}

static int x11_monitors(struct ll_platform *p,
			struct ll_platform_monitor **out, size_t *n_out)
{
	struct x11 *x = to_x11(p);
	struct ll_platform_monitor *list;
	XRRMonitorInfo *mons = NULL;
	int n = 0, i;
	size_t count = 1, size;

	if (x->have_monitors) {
		mons = XRRGetMonitors(x->dpy, x->root, True, &n);
		if (mons == NULL || n < 0)
			n = 0;
	}
	count += (size_t)n;
	if (!ll_size_mul(count, sizeof(*list), &size)) {
		if (mons != NULL)
			XRRFreeMonitors(mons);
		return LL_ERR_TOO_LARGE;
	}
	if ((list = calloc(1, size)) == NULL) {
		if (mons != NULL)
			XRRFreeMonitors(mons);
		return LL_ERR_NOMEM;
	}
	snprintf(list[0].name, sizeof(list[0].name), "%s", LL_PLATFORM_ALL);
	list[0].width = x->root_w;
	list[0].height = x->root_h;
	list[0].is_all = true;
	for (i = 0; i < n; i++) {
		struct ll_platform_monitor *m = &list[1 + i];
		char *name = XGetAtomName(x->dpy, mons[i].name);

		snprintf(m->name, sizeof(m->name), "%s",
			 name != NULL ? name : "?");
		if (name != NULL)
			XFree(name);
		m->x = mons[i].x;
		m->y = mons[i].y;
		m->width = mons[i].width > 0 ? (uint32_t)mons[i].width : 0;
		m->height = mons[i].height > 0 ? (uint32_t)mons[i].height : 0;
		m->primary = mons[i].primary;
	}
	if (mons != NULL)
		XRRFreeMonitors(mons);
	*out = list;
	*n_out = count;
	return 0;
}

/* The selection by name, clipped to the root; LL_ERR_NOT_FOUND if gone. */
static int resolve_selection(struct x11 *x, const char *name, int32_t *sx,
			     int32_t *sy, uint32_t *sw, uint32_t *sh)
{
	struct ll_platform_monitor *list = NULL;
	size_t n = 0, i;
	int64_t x0, y0, x1, y1;
	int r;

	if ((r = x11_monitors(&x->base, &list, &n)) != 0)
		return r;
	r = LL_ERR_NOT_FOUND;
	for (i = 0; i < n; i++) {
		if (strcmp(list[i].name, name) != 0)
			continue;
		x0 = list[i].x < 0 ? 0 : list[i].x;
		y0 = list[i].y < 0 ? 0 : list[i].y;
		x1 = (int64_t)list[i].x + list[i].width;
		y1 = (int64_t)list[i].y + list[i].height;
		if (x1 > x->root_w)
			x1 = x->root_w;
		if (y1 > x->root_h)
			y1 = x->root_h;
		if (x1 <= x0 || y1 <= y0)
			break;
		*sx = (int32_t)x0;
		*sy = (int32_t)y0;
		*sw = (uint32_t)(x1 - x0);
		*sh = (uint32_t)(y1 - y0);
		r = 0;
		break;
	}
	free(list);
	return r;
}

static int x11_select_monitor(struct ll_platform *p, const char *name)
{
	struct x11 *x = to_x11(p);
	char copy[LL_PLATFORM_MONITOR_NAME_MAX];
	int32_t sx, sy;
	uint32_t sw, sh;
	int r;

	/* name may be x->sel_name itself (refresh_geometry). */
	if (strlen(name) >= sizeof(copy))
		return LL_ERR_NOT_FOUND;
	memcpy(copy, name, strlen(name) + 1);
	if ((r = resolve_selection(x, copy, &sx, &sy, &sw, &sh)) != 0)
		return r;
	memcpy(x->sel_name, copy, sizeof(copy));
	x->sel_x = sx;
	x->sel_y = sy;
	x->sel_w = sw;
	x->sel_h = sh;
	return set_format(x);
}

/*
 * After RandR or ConfigureNotify events: re-read the root size, rebuild
 * the segment if it changed, and re-resolve the selection (back to "all"
 * when its monitor is gone).
 */
static void refresh_geometry(struct x11 *x)
{
	Window root_ret;
	int gx, gy;
	unsigned gw, gh, bw, gd;

	if (XGetGeometry(x->dpy, x->root, &root_ret, &gx, &gy, &gw, &gh, &bw,
			 &gd) &&
	    (gw != x->root_w || gh != x->root_h)) {
		x->root_w = gw;
		x->root_h = gh;
		if (x->have_shm) {
			shm_destroy(x);
			if (shm_create(x) != 0) {
				ll_warn("x11: shared memory lost on resize, "
					"using XGetImage");
				x->have_shm = false;
			}
		}
	}
	if (x11_select_monitor(&x->base, x->sel_name) != 0 &&
	    x11_select_monitor(&x->base, LL_PLATFORM_ALL) != 0) {
		/* Cannot happen with a non-empty root; keep a sane state. */
		x->sel_x = x->sel_y = 0;
		x->sel_w = x->root_w;
		x->sel_h = x->root_h;
		set_format(x);
	}
}

static int x11_get_format(struct ll_platform *p, struct ll_capture_format *out)
{
	*out = to_x11(p)->fmt;
	return 0;
}

/* ---- capture ----------------------------------------------------------- */

static uint32_t bswap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) |
	       (v << 24);
}

static void copy_rows(struct x11 *x, const char *src, size_t src_stride,
		      uint8_t *dst, size_t dst_stride, uint32_t w, uint32_t h)
{
	size_t row = (size_t)w * 4; /* w <= sel_w: checked in set_format */
	uint32_t i, j;

	for (i = 0; i < h; i++) {
		const char *s = src + (size_t)i * src_stride;
		uint8_t *d = dst + (size_t)i * dst_stride;

		if (!x->swap) {
			memcpy(d, s, row);
			continue;
		}
		for (j = 0; j < w; j++) {
			uint32_t v;

			memcpy(&v, s + (size_t)j * 4, 4);
			v = bswap32(v);
			memcpy(d + (size_t)j * 4, &v, 4);
		}
	}
}

static int grab_shm(struct x11 *x, int32_t rx, int32_t ry, uint32_t w,
		    uint32_t h, uint8_t *dst)
{
	XImage tmp = *x->shm_img;
	size_t bits, bpl;
	Status ok;
	int err;

	/*
	 * A copy of the root-sized image narrowed to the rectangle: the
	 * server writes its rows packed (scanline pad) from the segment's
	 * start, which the copy's bytes_per_line describes.
	 */
	bits = (size_t)w * 32;
	bpl = (bits + (size_t)x->scanline_pad - 1) / (size_t)x->scanline_pad *
	      (size_t)x->scanline_pad / 8;
	tmp.width = (int)w;
	tmp.height = (int)h;
	tmp.bytes_per_line = (int)bpl;
	trap_begin();
	ok = XShmGetImage(x->dpy, x->root, &tmp, rx, ry, AllPlanes);
	err = trap_end(x->dpy, false);
	if (!ok || err != 0)
		return LL_ERR_IO;
	copy_rows(x, x->shm_img->data, bpl, dst, x->fmt.stride, w, h);
	return 0;
}

static int grab_xgetimage(struct x11 *x, int32_t rx, int32_t ry, uint32_t w,
			  uint32_t h, uint8_t *dst)
{
	XImage *img;
	int err, r = LL_ERR_IO;

	trap_begin();
	img = XGetImage(x->dpy, x->root, rx, ry, w, h, AllPlanes, ZPixmap);
	err = trap_end(x->dpy, false);
	if (img == NULL || err != 0)
		goto out;
	if (img->bits_per_pixel != 32 || img->width != (int)w ||
	    img->height != (int)h || img->bytes_per_line < 0 ||
	    (size_t)img->bytes_per_line < (size_t)w * 4)
		goto out;
	copy_rows(x, img->data, (size_t)img->bytes_per_line, dst,
		  x->fmt.stride, w, h);
	r = 0;
out:
	if (img != NULL)
		XDestroyImage(img);
	return r;
}

static int x11_grab(struct ll_platform *p, const struct ll_capture_rect *rect,
		    void *fb, size_t fb_len)
{
	struct x11 *x = to_x11(p);
	uint32_t rx = 0, ry = 0, w = x->fmt.width, h = x->fmt.height;
	size_t off, tmp;
	uint8_t *dst;

	if (fb_len < x->fmt.size)
		return LL_ERR_TOO_LARGE;
	if (rect != NULL) {
		if (rect->x >= x->fmt.width || rect->y >= x->fmt.height)
			return 0;
		rx = rect->x;
		ry = rect->y;
		w = rect->width < x->fmt.width - rx ? rect->width
						    : x->fmt.width - rx;
		h = rect->height < x->fmt.height - ry ? rect->height
						      : x->fmt.height - ry;
	}
	if (w == 0 || h == 0)
		return 0;
	/* In bounds of fmt.size, which was computed with overflow checks. */
	if (!ll_size_mul(ry, x->fmt.stride, &off) ||
	    !ll_size_mul(rx, 4, &tmp) || !ll_size_add(off, tmp, &off))
		return LL_ERR_TOO_LARGE;
	dst = (uint8_t *)fb + off;
	if (x->shm_img != NULL &&
	    grab_shm(x, x->sel_x + (int32_t)rx, x->sel_y + (int32_t)ry, w, h,
		     dst) == 0)
		return 0;
	return grab_xgetimage(x, x->sel_x + (int32_t)rx,
			      x->sel_y + (int32_t)ry, w, h, dst);
}

/*
 * Set-up, not capture (platform.h ll_platform_warm): the X server's first
 * write into a fresh segment faults in every page on its side, which made
 * the first grab after the consent click 90-190 ms on a VM.  A pixmap of
 * our own, filled with one colour (a new pixmap's memory can hold stale
 * data, hence the fill), is copied into the segment with the same
 * request a grab uses: the server touches the segment, the screen is
 * never read.
 */
static int x11_warm(struct ll_platform *p, uint32_t fill)
{
	struct x11 *x = to_x11(p);
	XImage tmp;
	Pixmap pm;
	GC gc;
	Status ok;
	int err;

	if (x->shm_img == NULL)
		return 0;
	tmp = *x->shm_img;
	trap_begin();
	pm = XCreatePixmap(x->dpy, x->root, x->root_w, x->root_h,
			   (unsigned)DefaultDepth(x->dpy, x->screen));
	gc = XCreateGC(x->dpy, pm, 0, NULL);
	XSetForeground(x->dpy, gc, fill);
	XFillRectangle(x->dpy, pm, gc, 0, 0, x->root_w, x->root_h);
	ok = XShmGetImage(x->dpy, pm, &tmp, 0, 0, AllPlanes);
	XFreeGC(x->dpy, gc);
	XFreePixmap(x->dpy, pm);
	err = trap_end(x->dpy, true);
	if (!ok || err != 0)
		return LL_ERR_IO;
#if LL_TEST_HOOKS
	{
		/* what the segment holds now, for the GUI tests */
		unsigned long mask =
			DefaultVisual(x->dpy, x->screen)->red_mask |
			DefaultVisual(x->dpy, x->screen)->green_mask |
			DefaultVisual(x->dpy, x->screen)->blue_mask;
		size_t n = (size_t)x->root_w * x->root_h, other = 0, i, j;
		size_t bpl = (size_t)tmp.bytes_per_line;
		uint32_t v;

		for (j = 0; j < x->root_h; j++) {
			for (i = 0; i < x->root_w; i++) {
				memcpy(&v, tmp.data + j * bpl + i * 4, 4);
				if (x->swap)
					v = bswap32(v);
				if ((v & mask) != (fill & mask))
					other++;
			}
		}
		ll_info("test: capture segment warmed: %zu pixels, %zu not "
			"the fill colour",
			n, other);
	}
#endif
	return 0;
}

/* ---- damage ------------------------------------------------------------ */

static void rect_union(struct ll_capture_rect *a,
		       const struct ll_capture_rect *b)
{
	uint64_t x0 = a->x < b->x ? a->x : b->x;
	uint64_t y0 = a->y < b->y ? a->y : b->y;
	uint64_t ax1 = (uint64_t)a->x + a->width;
	uint64_t bx1 = (uint64_t)b->x + b->width;
	uint64_t ay1 = (uint64_t)a->y + a->height;
	uint64_t by1 = (uint64_t)b->y + b->height;

	a->x = (uint32_t)x0;
	a->y = (uint32_t)y0;
	a->width = (uint32_t)((ax1 > bx1 ? ax1 : bx1) - x0);
	a->height = (uint32_t)((ay1 > by1 ? ay1 : by1) - y0);
}

static int x11_damage(struct ll_platform *p, struct ll_capture_rect *rects,
		      size_t max, size_t *n_out)
{
	struct x11 *x = to_x11(p);
	XRectangle *xr;
	size_t n = 0;
	int nr = 0, i;

	if (x->full_pending || !x->have_damage) {
		/*
		 * Done on the server before we return: a subtract still in
		 * flight would swallow damage drawn after this call.
		 */
		if (x->have_damage) {
			XDamageSubtract(x->dpy, x->damage, None, None);
			XSync(x->dpy, False);
		}
		rects[0].x = rects[0].y = 0;
		rects[0].width = x->fmt.width;
		rects[0].height = x->fmt.height;
		x->full_pending = false;
		*n_out = 1;
		return 0;
	}
	XDamageSubtract(x->dpy, x->damage, None, x->region);
	xr = XFixesFetchRegion(x->dpy, x->region, &nr);
	for (i = 0; xr != NULL && i < nr; i++) {
		int64_t x0 = xr[i].x, y0 = xr[i].y;
		int64_t x1 = x0 + xr[i].width, y1 = y0 + xr[i].height;
		int64_t sx1 = (int64_t)x->sel_x + x->sel_w;
		int64_t sy1 = (int64_t)x->sel_y + x->sel_h;
		struct ll_capture_rect c;

		if (x0 < x->sel_x)
			x0 = x->sel_x;
		if (y0 < x->sel_y)
			y0 = x->sel_y;
		if (x1 > sx1)
			x1 = sx1;
		if (y1 > sy1)
			y1 = sy1;
		if (x1 <= x0 || y1 <= y0)
			continue;
		c.x = (uint32_t)(x0 - x->sel_x);
		c.y = (uint32_t)(y0 - x->sel_y);
		c.width = (uint32_t)(x1 - x0);
		c.height = (uint32_t)(y1 - y0);
		if (n < max) {
			rects[n++] = c;
			continue;
		}
		/* Over the cap: everything collapses into one box. */
		while (n > 1)
			rect_union(&rects[0], &rects[--n]);
		rect_union(&rects[0], &c);
	}
	if (xr != NULL)
		XFree(xr);
	*n_out = n;
	return 0;
}

/* ---- cursor and pointer ------------------------------------------------ */

static int x11_cursor(struct ll_platform *p, struct ll_capture_cursor **out)
{
	struct x11 *x = to_x11(p);
	struct ll_capture_cursor *c = NULL;
	XFixesCursorImage *img;
	size_t count, size, i;
	int err, r;

	if (!x->have_xfixes)
		return LL_ERR_DISABLED;
	trap_begin();
	img = XFixesGetCursorImage(x->dpy);
	err = trap_end(x->dpy, false);
	if (img == NULL || err != 0) {
		r = LL_ERR_IO;
		goto out;
	}
	if (img->width > X11_CURSOR_MAX || img->height > X11_CURSOR_MAX) {
		r = LL_ERR_TOO_LARGE;
		goto out;
	}
	if (!ll_size_mul(img->width, img->height, &count) ||
	    !ll_size_mul(count, sizeof(uint32_t), &size)) {
		r = LL_ERR_TOO_LARGE;
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->pixels = malloc(size > 0 ? size : 1)) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	c->width = img->width;
	c->height = img->height;
	c->xhot = img->xhot < img->width ? img->xhot : 0;
	c->yhot = img->yhot < img->height ? img->yhot : 0;
	c->serial = img->cursor_serial;
	/* Xlib hands out one unsigned long (64 bits here) per ARGB pixel. */
	for (i = 0; i < count; i++)
		c->pixels[i] = (uint32_t)(img->pixels[i] & 0xffffffffUL);
	*out = c;
	c = NULL;
	r = 0;
out:
	ll_capture_cursor_free(c);
	if (img != NULL)
		XFree(img);
	return r;
}

static int x11_pointer_position(struct ll_platform *p, int32_t *px,
				int32_t *py)
{
	struct x11 *x = to_x11(p);
	Window root_ret, child;
	int rx, ry, wx, wy;
	unsigned mask;

	if (!XQueryPointer(x->dpy, x->root, &root_ret, &child, &rx, &ry, &wx,
			   &wy, &mask))
		return LL_ERR_NOT_FOUND; /* on another screen */
	*px = rx - x->sel_x;
	*py = ry - x->sel_y;
	return 0;
}

/* ---- events ------------------------------------------------------------ */

static int load_keymap(struct x11 *x)
{
	KeySym *map;
	int per = 0;
	size_t i, j, k;

	map = XGetKeyboardMapping(x->dpy, (KeyCode)x->min_kc,
				  x->max_kc - x->min_kc + 1, &per);
	if (map == NULL || per < 1) {
		if (map != NULL)
			XFree(map);
		return LL_ERR_IO;
	}
	if (x->kmap != NULL)
		XFree(x->kmap);
	x->kmap = map;
	x->per_kc = per;
	/* Drop bindings someone else (setxkbmap, ...) overwrote. */
	for (i = 0, j = 0; i < x->n_scratch; i++) {
		k = (size_t)(x->scratch[i].code - x->min_kc) * (size_t)per;
		if (map[k] == x->scratch[i].sym)
			x->scratch[j++] = x->scratch[i];
	}
	x->n_scratch = j;
	return 0;
}

static int x11_fd(struct ll_platform *p)
{
	return ConnectionNumber(to_x11(p)->dpy);
}

static bool x11_pending(struct ll_platform *p)
{
	/* Flushes too: requests must leave before the loop sleeps. */
	return XEventsQueued(to_x11(p)->dpy, QueuedAfterFlush) > 0;
}

static int x11_dispatch(struct ll_platform *p, unsigned *events)
{
	struct x11 *x = to_x11(p);
	unsigned ev = 0;
	bool geometry = false, keymap = false;
	XEvent e;

	while (XPending(x->dpy) > 0) {
		XNextEvent(x->dpy, &e);
		if (x->have_damage &&
		    e.type == x->damage_event + XDamageNotify) {
			ev |= LL_PLATFORM_EV_DAMAGE;
		} else if (x->have_xfixes &&
			   e.type == x->xfixes_event + XFixesCursorNotify) {
			ev |= LL_PLATFORM_EV_CURSOR;
		} else if (x->have_randr &&
			   (e.type == x->randr_event + RRScreenChangeNotify ||
			    e.type == x->randr_event + RRNotify)) {
			XRRUpdateConfiguration(&e);
			geometry = true;
		} else if (e.type == ConfigureNotify &&
			   e.xconfigure.window == x->root) {
			XRRUpdateConfiguration(&e);
			geometry = true;
		} else if (e.type == MappingNotify) {
			XRefreshKeyboardMapping(&e.xmapping);
			if (e.xmapping.request == MappingKeyboard)
				keymap = true;
		}
	}
	if (keymap && load_keymap(x) != 0)
		ll_warn("x11: cannot reload the keyboard map");
	if (geometry) {
		refresh_geometry(x);
		ev |= LL_PLATFORM_EV_GEOMETRY | LL_PLATFORM_EV_DAMAGE;
	}
	*events = ev;
	return 0;
}

/* ---- input ------------------------------------------------------------- */

static int x11_pointer_move(struct ll_platform *p, int32_t px, int32_t py)
{
	struct x11 *x = to_x11(p);
	int64_t rx, ry;

	if (!x->have_xtest)
		return LL_ERR_DISABLED;
	if (px < 0)
		px = 0;
	if (py < 0)
		py = 0;
	if ((uint32_t)px >= x->sel_w)
		px = x->sel_w > 0 ? (int32_t)(x->sel_w - 1) : 0;
	if ((uint32_t)py >= x->sel_h)
		py = x->sel_h > 0 ? (int32_t)(x->sel_h - 1) : 0;
	rx = (int64_t)x->sel_x + px;
	ry = (int64_t)x->sel_y + py;
	XTestFakeMotionEvent(x->dpy, x->screen, (int)rx, (int)ry, CurrentTime);
	XFlush(x->dpy);
	return 0;
}

static int x11_pointer_button(struct ll_platform *p, unsigned button,
			      bool down)
{
	struct x11 *x = to_x11(p);

	if (!x->have_xtest)
		return LL_ERR_DISABLED;
	XTestFakeButtonEvent(x->dpy, button, down ? True : False, CurrentTime);
	if (down)
		x->buttons_down |= 1u << button;
	else
		x->buttons_down &= ~(1u << button);
	XFlush(x->dpy);
	return 0;
}

static KeySym kmap_at(const struct x11 *x, int kc, int col)
{
	if (col >= x->per_kc)
		return NoSymbol;
	return x->kmap[(size_t)(kc - x->min_kc) * (size_t)x->per_kc +
		       (size_t)col];
}

/* Keycode carrying sym on level 1 or 2 of group 1 (col 0 or 1), or 0. */
static KeyCode find_keycode(const struct x11 *x, KeySym sym, int *col)
{
	int c, kc;

	for (c = 0; c < 2; c++) {
		for (kc = x->min_kc; kc <= x->max_kc; kc++) {
			if (kmap_at(x, kc, c) == sym) {
				*col = c;
				return (KeyCode)kc;
			}
		}
	}
	return 0;
}

static bool key_is_pressed(const struct x11 *x, KeyCode code)
{
	size_t i;

	for (i = 0; i < x->n_pressed; i++)
		if (x->pressed[i].code == code)
			return true;
	return false;
}

static bool keycode_is_scratch(const struct x11 *x, int kc)
{
	size_t i;

	for (i = 0; i < x->n_scratch; i++)
		if (x->scratch[i].code == kc)
			return true;
	return false;
}

static int set_keysyms(struct x11 *x, KeyCode code, KeySym sym)
{
	KeySym syms[2] = { sym, sym };
	int err, per = x->per_kc < 2 ? x->per_kc : 2, c;

	/* Both levels: the result must not depend on Shift. */
	trap_begin();
	XChangeKeyboardMapping(x->dpy, code, per, syms, 1);
	err = trap_end(x->dpy, true);
	if (err != 0)
		return LL_ERR_IO;
	for (c = 0; c < x->per_kc; c++)
		x->kmap[(size_t)(code - x->min_kc) * (size_t)x->per_kc +
			(size_t)c] = c < per ? sym : NoSymbol;
	return 0;
}

/*
 * Binds sym to a keycode with no symbols at all; when all spares are in
 * use, the least recently used binding that is not held down is reused.
 */
static int bind_scratch(struct x11 *x, KeySym sym, KeyCode *code)
{
	struct x11_scratch *s = NULL;
	size_t i;
	int kc, c, r;

	if (x->n_scratch < X11_SCRATCH_MAX) {
		/* From the top down, as x11vnc: low codes are real keys. */
		for (kc = x->max_kc; kc >= x->min_kc && s == NULL; kc--) {
			if (keycode_is_scratch(x, kc))
				continue;
			for (c = 0; c < x->per_kc; c++)
				if (kmap_at(x, kc, c) != NoSymbol)
					break;
			if (c == x->per_kc) {
				s = &x->scratch[x->n_scratch];
				s->code = (KeyCode)kc;
			}
		}
	}
	for (i = 0; s == NULL && i < x->n_scratch; i++) {
		if (key_is_pressed(x, x->scratch[i].code))
			continue;
		if (s == NULL || x->scratch[i].last_use < s->last_use)
			s = &x->scratch[i];
	}
	if (s == NULL)
		return LL_ERR_NOT_FOUND; /* no keycode to spare */
	if ((r = set_keysyms(x, s->code, sym)) != 0)
		return r;
	if (s == &x->scratch[x->n_scratch])
		x->n_scratch++;
	s->sym = sym;
	s->last_use = ++x->use_clock;
	*code = s->code;
	return 0;
}

static void touch_scratch(struct x11 *x, KeyCode code)
{
	size_t i;

	for (i = 0; i < x->n_scratch; i++)
		if (x->scratch[i].code == code)
			x->scratch[i].last_use = ++x->use_clock;
}

/* Keycodes of the Shift modifier that are down now, into codes[]. */
static size_t shift_keys_down(struct x11 *x, KeyCode *codes, size_t max)
{
	XModifierKeymap *mm;
	char keys[32];
	size_t n = 0;
	int i;

	if ((mm = XGetModifierMapping(x->dpy)) == NULL)
		return 0;
	XQueryKeymap(x->dpy, keys);
	for (i = 0; i < mm->max_keypermod && n < max; i++) {
		KeyCode kc =
			mm->modifiermap[ShiftMapIndex * mm->max_keypermod + i];

		if (kc != 0 && (keys[kc / 8] & (1 << (kc % 8))))
			codes[n++] = kc;
	}
	XFreeModifiermap(mm);
	return n;
}

static void set_repeat(struct x11 *x, KeyCode code, bool on)
{
	XKeyboardControl kc = { 0 };

	kc.key = code;
	kc.auto_repeat_mode = on ? AutoRepeatModeOn : AutoRepeatModeOff;
	trap_begin();
	XChangeKeyboardControl(x->dpy, KBKey | KBAutoRepeatMode, &kc);
	trap_end(x->dpy, false);
}

/*
 * Turns the server's autorepeat off for code before we press it, so a key
 * the technician holds produces one press, never a stream of them.
 * Returns whether it was on (to restore at our release).
 */
static bool repeat_off(struct x11 *x, KeyCode code)
{
	XKeyboardState ks;

	XGetKeyboardControl(x->dpy, &ks);
	if (!(ks.auto_repeats[code / 8] & (1 << (code % 8))))
		return false;
	set_repeat(x, code, false);
	return true;
}

/* Releases pressed[i] and forgets it. */
static void key_release_at(struct x11 *x, size_t i)
{
	struct x11_pressed k = x->pressed[i];

	x->pressed[i] = x->pressed[--x->n_pressed];
	XTestFakeKeyEvent(x->dpy, k.code, False, CurrentTime);
	if (k.repeat_was_on && !key_is_pressed(x, k.code))
		set_repeat(x, k.code, true);
}

static int key_down(struct x11 *x, uint32_t keysym)
{
	KeyCode code, shifts[8], shift_l = 0;
	Window root_ret, child;
	int rx, ry, wx, wy, col = 0, c2, r;
	unsigned mask = 0;
	size_t n_shifts = 0, i;
	bool add_shift = false;

	code = find_keycode(x, keysym, &col);
	if (code == 0) {
		if ((r = bind_scratch(x, keysym, &code)) != 0)
			return r;
		col = 0;
	} else {
		touch_scratch(x, code);
	}
	if (!key_is_pressed(x, code)) {
		if (x->n_pressed == X11_PRESSED_MAX)
			return LL_ERR_TOO_LARGE;
		x->pressed[x->n_pressed].keysym = keysym;
		x->pressed[x->n_pressed].code = code;
		x->pressed[x->n_pressed].repeat_was_on = repeat_off(x, code);
		x->n_pressed++;
	}

	/*
	 * The keysym asked for decides the level, not the Shift state the
	 * technician's keyboard left on our server: a German "/" is Shift+7
	 * there but unshifted here.  Adjust Shift around the press only.
	 */
	XQueryPointer(x->dpy, x->root, &root_ret, &child, &rx, &ry, &wx, &wy,
		      &mask);
	if (col == 1 && !(mask & ShiftMask)) {
		shift_l = find_keycode(x, XK_Shift_L, &c2);
		add_shift = shift_l != 0;
	} else if (col == 0 && (mask & ShiftMask) &&
		   kmap_at(x, code, 1) != NoSymbol &&
		   kmap_at(x, code, 1) != keysym) {
		n_shifts = shift_keys_down(x, shifts, LL_ARRAY_SIZE(shifts));
	}
	if (add_shift)
		XTestFakeKeyEvent(x->dpy, shift_l, True, CurrentTime);
	for (i = 0; i < n_shifts; i++)
		XTestFakeKeyEvent(x->dpy, shifts[i], False, CurrentTime);
	XTestFakeKeyEvent(x->dpy, code, True, CurrentTime);
	for (i = 0; i < n_shifts; i++)
		XTestFakeKeyEvent(x->dpy, shifts[i], True, CurrentTime);
	if (add_shift)
		XTestFakeKeyEvent(x->dpy, shift_l, False, CurrentTime);
	XFlush(x->dpy);
	return 0;
}

static int key_up(struct x11 *x, uint32_t keysym)
{
	KeyCode code = 0;
	size_t i;
	int col;

	for (i = 0; i < x->n_pressed; i++) {
		if (x->pressed[i].keysym == keysym) {
			key_release_at(x, i);
			XFlush(x->dpy);
			return 0;
		}
	}
	/* A release we never pressed (control granted mid-stroke): map it. */
	if ((code = find_keycode(x, keysym, &col)) == 0)
		return 0;
	XTestFakeKeyEvent(x->dpy, code, False, CurrentTime);
	XFlush(x->dpy);
	return 0;
}

static int x11_key(struct ll_platform *p, uint32_t keysym, bool down)
{
	struct x11 *x = to_x11(p);

	if (!x->have_xtest)
		return LL_ERR_DISABLED;
	return down ? key_down(x, keysym) : key_up(x, keysym);
}

static int x11_input_reset(struct ll_platform *p)
{
	struct x11 *x = to_x11(p);
	unsigned b;

	if (!x->have_xtest)
		return 0;
	while (x->n_pressed > 0)
		key_release_at(x, x->n_pressed - 1);
	for (b = 1; b <= LL_PLATFORM_BUTTON_MAX; b++)
		if (x->buttons_down & (1u << b))
			XTestFakeButtonEvent(x->dpy, b, False, CurrentTime);
	x->buttons_down = 0;
	/* Synchronous: once we return, the server has processed the
	 * releases, so a window mapped after this never sees a held key. */
	XSync(x->dpy, False);
	return 0;
}

/* ---- lifetime ---------------------------------------------------------- */

static unsigned x11_features(struct ll_platform *p)
{
	struct x11 *x = to_x11(p);
	unsigned f = 0;

	if (x->shm_img != NULL)
		f |= LL_PLATFORM_FEAT_SHM;
	if (x->have_damage)
		f |= LL_PLATFORM_FEAT_DAMAGE;
	if (x->have_xfixes)
		f |= LL_PLATFORM_FEAT_CURSOR;
	if (x->have_monitors)
		f |= LL_PLATFORM_FEAT_MONITORS;
	if (x->have_xtest)
		f |= LL_PLATFORM_FEAT_INPUT;
	return f;
}

static void x11_free(struct ll_platform *p)
{
	struct x11 *x = to_x11(p);
	KeySym none = NoSymbol;
	size_t i;

	if (x == NULL)
		return;
	if (x->dpy != NULL) {
		x11_input_reset(p);
		trap_begin();
		for (i = 0; i < x->n_scratch; i++)
			XChangeKeyboardMapping(x->dpy, x->scratch[i].code, 1,
					       &none, 1);
		if (x->have_damage)
			XDamageDestroy(x->dpy, x->damage);
		if (x->region != None)
			XFixesDestroyRegion(x->dpy, x->region);
		shm_destroy(x);
		trap_end(x->dpy, true);
		XCloseDisplay(x->dpy);
	}
	if (x->kmap != NULL)
		XFree(x->kmap);
	free(x);
}

static int probe_format(struct x11 *x)
{
	Visual *vis = DefaultVisual(x->dpy, x->screen);
	int depth = DefaultDepth(x->dpy, x->screen);
	XPixmapFormatValues *pf;
	struct ll_capture_format *f = &x->fmt;
	int n = 0, i, bpp = 0;

	if (vis->class != TrueColor && vis->class != DirectColor)
		return LL_ERR_INVALID_ARG;
	pf = XListPixmapFormats(x->dpy, &n);
	for (i = 0; pf != NULL && i < n; i++) {
		if (pf[i].depth == depth) {
			bpp = pf[i].bits_per_pixel;
			x->scanline_pad = pf[i].scanline_pad;
		}
	}
	if (pf != NULL)
		XFree(pf);
	/* 32-bit pixels only: what every current X server runs. */
	if (bpp != 32 || x->scanline_pad < 8 || x->scanline_pad % 8 != 0)
		return LL_ERR_INVALID_ARG;
	if (!mask_shift(vis->red_mask, &f->red_shift, &f->red_max) ||
	    !mask_shift(vis->green_mask, &f->green_shift, &f->green_max) ||
	    !mask_shift(vis->blue_mask, &f->blue_shift, &f->blue_max))
		return LL_ERR_INVALID_ARG;
	f->bits_per_pixel = 32;
	f->depth = (uint8_t)depth;
	f->big_endian = host_big_endian();
	x->swap = (ImageByteOrder(x->dpy) == MSBFirst) != f->big_endian;
	return 0;
}

static void probe_extensions(struct x11 *x, unsigned flags)
{
	int major = 0, minor = 0, ev, err;

	if (flags & LL_PLATFORM_X11_INPUT_ONLY) {
		/* Root resizes only: the pointer is clamped to the root. */
		XSelectInput(x->dpy, x->root, StructureNotifyMask);
		goto xtest;
	}
	if (XShmQueryExtension(x->dpy) && !(flags & LL_PLATFORM_X11_NO_SHM)) {
		x->have_shm = shm_create(x) == 0;
		if (!x->have_shm)
			ll_info("x11: MIT-SHM unusable, using XGetImage");
	}
	if (XFixesQueryExtension(x->dpy, &x->xfixes_event, &x->xfixes_error) &&
	    XFixesQueryVersion(x->dpy, &major, &minor) && major >= 2) {
		x->have_xfixes = true;
		XFixesSelectCursorInput(x->dpy, x->root,
					XFixesDisplayCursorNotifyMask);
	}
	if (x->have_xfixes && !(flags & LL_PLATFORM_X11_NO_DAMAGE) &&
	    XDamageQueryExtension(x->dpy, &x->damage_event,
				  &x->damage_error) &&
	    XDamageQueryVersion(x->dpy, &major, &minor) &&
	    (major > 1 || (major == 1 && minor >= 1))) {
		/* NonEmpty: one event, then we fetch and clear the region. */
		x->damage = XDamageCreate(x->dpy, x->root,
					  XDamageReportNonEmpty);
		x->region = XFixesCreateRegion(x->dpy, NULL, 0);
		x->have_damage = true;
	}
	if (XRRQueryExtension(x->dpy, &x->randr_event, &x->randr_error) &&
	    XRRQueryVersion(x->dpy, &major, &minor)) {
		x->have_randr = true;
		x->have_monitors = major > 1 || (major == 1 && minor >= 5);
		XRRSelectInput(x->dpy, x->root,
			       RRScreenChangeNotifyMask |
				       RRCrtcChangeNotifyMask |
				       RROutputChangeNotifyMask);
	}
	XSelectInput(x->dpy, x->root, StructureNotifyMask);
xtest:
	if (XTestQueryExtension(x->dpy, &ev, &err, &major, &minor)) {
		x->have_xtest = true;
		/* Our fake input must pass even while a client grabs. */
		XTestGrabControl(x->dpy, True);
	}
	(void)ev;
	(void)err;
}

int ll_platform_x11_open(const char *display, unsigned flags,
			 struct ll_platform **out)
{
	struct x11 *x;
	int r, err;

	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return LL_ERR_NOMEM;
	x->base.ops = &ll_platform_x11_ops;
	if ((x->dpy = XOpenDisplay(display)) == NULL) {
		r = LL_ERR_IO;
		goto out;
	}
	route_errors(x->dpy);
	x->screen = DefaultScreen(x->dpy);
	x->root = RootWindow(x->dpy, x->screen);
	x->root_w = (uint32_t)DisplayWidth(x->dpy, x->screen);
	x->root_h = (uint32_t)DisplayHeight(x->dpy, x->screen);
	if ((r = probe_format(x)) != 0)
		goto out;
	XDisplayKeycodes(x->dpy, &x->min_kc, &x->max_kc);
	if ((r = load_keymap(x)) != 0)
		goto out;
	trap_begin();
	probe_extensions(x, flags);
	err = trap_end(x->dpy, true);
	if (err != 0)
		ll_warn("x11: X error %d while setting up extensions", err);
	if ((r = x11_select_monitor(&x->base, LL_PLATFORM_ALL)) != 0)
		goto out;
	ll_debug("x11: %ux%u shm=%d damage=%d cursor=%d monitors=%d xtest=%d",
		 x->root_w, x->root_h, x->shm_img != NULL, x->have_damage,
		 x->have_xfixes, x->have_monitors, x->have_xtest);
	*out = &x->base;
	x = NULL;
	r = 0;
out:
	x11_free(x != NULL ? &x->base : NULL);
	return r;
}

static int x11_open_input(const char *display, struct ll_platform **out)
{
	return ll_platform_x11_open(display, LL_PLATFORM_X11_INPUT_ONLY, out);
}

static int x11_open(const char *display, struct ll_platform **out)
{
	unsigned flags = 0;

	if (env_set("LL_PLATFORM_X11_NO_SHM"))
		flags |= LL_PLATFORM_X11_NO_SHM;
	if (env_set("LL_PLATFORM_X11_NO_DAMAGE"))
		flags |= LL_PLATFORM_X11_NO_DAMAGE;
	return ll_platform_x11_open(display, flags, out);
}

const struct ll_platform_ops ll_platform_x11_ops = {
	.name = "x11",
	.open = x11_open,
	.open_input = x11_open_input,
	.free = x11_free,
	.features = x11_features,
	.monitors = x11_monitors,
	.select_monitor = x11_select_monitor,
	.get_format = x11_get_format,
	.grab = x11_grab,
	.damage = x11_damage,
	.cursor = x11_cursor,
	.pointer_position = x11_pointer_position,
	.fd = x11_fd,
	.pending = x11_pending,
	.dispatch = x11_dispatch,
	.pointer_move = x11_pointer_move,
	.pointer_button = x11_pointer_button,
	.key = x11_key,
	.input_reset = x11_input_reset,
	.warm = x11_warm,
};
