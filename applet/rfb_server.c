/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvncserver, driven the way gnome-remote-desktop drives it, but on a
 * thread of its own.  The only file of the applet that includes
 * <rfb/rfb.h>.
 *
 * No listening socket, ever: rfbInitServer() is never called (it is what
 * opens listening ports), port/ipv6port are -1, autoPort is off, httpDir
 * is NULL, and our single client is one end of a socketpair handed in
 * with rfbNewClient().  No VNC authentication (authPasswdData NULL: the
 * security type is None) -- the relay tunnel is the authentication.
 *
 * Why a thread: once libvncserver starts reading a message it blocks
 * (select() up to rfbMaxClientWait, 20 s) until the whole message is
 * there.  If the GTK thread ran rfbProcessEvents() and also fed the
 * socketpair, a peer that sends half a message would freeze the UI -- the
 * very dialog that lets the user end the session.  On its own thread a
 * stalled read only delays the next frame; the GTK thread never waits
 * for this thread except in ll_rfb_server_free(), which first shuts the
 * socket down so that any blocked read or write returns at once.
 *
 * Everything libvncserver touches is touched only on this thread: the
 * framebuffer (captured here with the platform layer, so grabs and the
 * encoder never race) and the cursor.  The capture platform instance is
 * single-threaded by contract and belongs to this thread once started.
 * Input (ptrAddEvent / kbdAddEvent, run inside rfbProcessEvents()) goes
 * to the input gate, which injects it through an instance of its own
 * under its mutex: the gate, not this thread, releases held keys when it
 * closes, so a read stalled here cannot keep a key pressed.  The GTK
 * thread shares only the input gate and the stop flag + wake pipe here.
 *
 * A websocket/TLS sniff at client creation (libvncserver 0.9.14 peeks
 * at the first client byte for 100 ms) cannot be fed by the peer: the
 * client is created before the session layer opens the mux channel, so
 * no byte of the agent's can be in the socket yet; the sniff times out
 * and the plain RFB path is taken.  Its 100 ms are spent while the
 * consent dialog is open when the session uses ll_rfb_server_open().
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include <glib.h>
#include <rfb/rfb.h>
#include <rfb/rfbregion.h>

#include "ll_build.h"
#include "ll_util.h"
#include "platform.h"
#include "applet_rfb.h"
#include "scroll_detect.h"

#define RFB_LOOP_MS 50        /* longest sleep: pointer position polls */
#define RFB_POLL_FRAME_MS 100 /* full-frame polling without XDamage */
#define RFB_DAMAGE_RECTS 32
#define RFB_SCROLL_RUNS 16 /* rows still to send after a CopyRect */
/* Lossless refresh: what went out as JPEG is sent again without it once
 * it has been still this long (TurboVNC's ALR does the same). */
#define RFB_ALR_MS 250
/* tightQualityLevel while a refresh holds JPEG off.  libvncserver says
 * nothing when it reads a SetEncodings, but sets this field to -1 or a
 * level 0..9 then (and only ZYWRLE reads it, as "none" below 0): any
 * other value left there shows that none was read meanwhile. */
#define RFB_ALR_MARK (-2)

struct ll_rfb_server {
	struct ll_platform *p;
	struct ll_input_gate *gate;
	struct ll_rfb_server_cbs cbs;
	rfbScreenInfoPtr screen;
	char *desktop_name;
	char *monitor; /* NULL = all */
	struct ll_capture_format fmt;
	char *fb;
	int32_t mon_x, mon_y; /* selected monitor in root coords */
	unsigned features;

	GThread *thread;
	GAsyncQueue *selects; /* monitor names asked for (char *) */
	atomic_bool done;     /* the thread left its loop */
	int wake[2];          /* GTK thread -> RFB thread */
	int shut_fd;          /* dup of the client socket */
	int client_fd;
	int peer_fd;    /* ll_rfb_server_open's other end, until go */
	atomic_bool go; /* consent given: capture may start */
	atomic_bool stop;

	/* RFB thread only. */
	rfbClientPtr cl;
	bool client_gone;
	bool first_grabbed; /* scroll detection from the second grab on */
	bool damage_held;   /* until the viewer asks (take_held_damage) */
	int32_t ptr_x, ptr_y;
	int64_t last_poll_ms;
	char why[160];
	/* scroll detection (grab_rect): the damaged band before the grab */
	uint8_t *scroll_old;
	size_t scroll_old_size;
	uint32_t copyrects; /* scrolls sent as CopyRect */
	/* lossless refresh (alr_*): what may have gone out as JPEG since
	 * the last refresh, when it last changed; while a refresh is on its
	 * way, its area and what changed since (redo) and the client's
	 * quality */
	sraRegionPtr lossy;
	int64_t lossy_ms;
	sraRegionPtr redo;
	bool refreshing;
	int saved_tight_q, saved_turbo_q;
	atomic_uint refreshes; /* read by ll_rfb_server_refreshes() */
	/* update pipelining (pipe_*): the viewer asked at least once;
	 * updates sent minus requests read, never below -1; the area of
	 * its last request (host order, clipped), asked again */
	bool asked;
	int ahead;
	int ask_x, ask_y, ask_w, ask_h;
};

/* ---- logging: libvncserver's chatter goes to our log ---- */

static void rfb_log(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void rfb_err(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void rfb_vlog(enum ll_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void rfb_vlog(enum ll_log_level level, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	/* Our client is a socketpair: TCP options cannot apply. */
	if (strstr(line, "TCP_NODELAY") != NULL)
		level = LL_LOG_DEBUG;
	ll_log(level, "libvncserver: %s", line);
}

static void rfb_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rfb_vlog(LL_LOG_DEBUG, fmt, ap);
	va_end(ap);
}

static void rfb_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rfb_vlog(LL_LOG_WARN, fmt, ap);
	va_end(ap);
}

/* ---- input: runs inside rfbProcessEvents() on the RFB thread ---- */

static struct ll_rfb_server *server_of(rfbClientPtr cl)
{
	return cl->screen->screenData;
}

/* Through the gate, which injects only while control is granted and no
 * consent dialog is open, and releases held input itself when it closes
 * (so that nothing depends on this thread, which may be stuck in a read
 * of a half-sent message). */
static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	ll_input_gate_key(server_of(cl)->gate, (uint32_t)keysym, down != 0);
}

static void on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	struct ll_rfb_server *s = server_of(cl);

	if (x < 0 || y < 0 || (uint32_t)x >= s->fmt.width ||
	    (uint32_t)y >= s->fmt.height)
		return;
	ll_input_gate_pointer(s->gate, (uint8_t)mask, s->mon_x + x,
			      s->mon_y + y);
}

/* The technician's clipboard is not ours to take: dropped, never logged. */
static void on_cut_text(char *str, int len, rfbClientPtr cl)
{
	(void)str;
	(void)len;
	(void)cl;
}

static void on_client_gone(rfbClientPtr cl)
{
	struct ll_rfb_server *s = server_of(cl);

	s->client_gone = true;
	s->cl = NULL;
}

/* ---- capture ---- */

static void set_format(struct ll_rfb_server *s)
{
	rfbPixelFormat *f = &s->screen->serverFormat;

	f->bitsPerPixel = 32;
	f->depth = s->fmt.depth;
	f->bigEndian = s->fmt.big_endian;
	f->trueColour = TRUE;
	f->redMax = s->fmt.red_max;
	f->greenMax = s->fmt.green_max;
	f->blueMax = s->fmt.blue_max;
	f->redShift = s->fmt.red_shift;
	f->greenShift = s->fmt.green_shift;
	f->blueShift = s->fmt.blue_shift;
	s->screen->depth = s->fmt.depth;
}

/* Where the selected monitor sits on the root: pointer positions are
 * monitor-relative, our windows' rectangles are root-relative. */
static void find_monitor_origin(struct ll_rfb_server *s, const char *monitor)
{
	struct ll_platform_monitor *mons = NULL;
	size_t n = 0, i;

	s->mon_x = s->mon_y = 0;
	if (monitor == NULL || strcmp(monitor, LL_PLATFORM_ALL) == 0)
		return;
	if (ll_platform_monitors(s->p, &mons, &n) != 0)
		return;
	for (i = 0; i < n; i++) {
		if (!mons[i].is_all && strcmp(mons[i].name, monitor) == 0) {
			s->mon_x = mons[i].x;
			s->mon_y = mons[i].y;
		}
	}
	free(mons);
}

static int alloc_fb(const struct ll_capture_format *fmt, char **out)
{
	char *fb;

	if (fmt->width == 0 || fmt->height == 0 || fmt->width > 16384 ||
	    fmt->height > 16384 || fmt->bits_per_pixel != 32 ||
	    fmt->stride != (size_t)fmt->width * 4 || fmt->size == 0)
		return LL_ERR_INVALID_ARG;
	if ((fb = calloc(1, fmt->size)) == NULL)
		return LL_ERR_NOMEM;
	ll_prefault(fb, fmt->size);
	*out = fb;
	return 0;
}

/* The selected monitor changed size: a new framebuffer for libvncserver. */
static int resize(struct ll_rfb_server *s)
{
	struct ll_capture_format fmt;
	char *fb = NULL, *old = s->fb;
	rfbClientIteratorPtr it;
	rfbClientPtr cl;
	int r;

	if ((r = ll_platform_get_format(s->p, &fmt)) != 0 ||
	    (r = alloc_fb(&fmt, &fb)) != 0)
		return r;
	s->fmt = fmt;
	s->fb = fb;
	rfbNewFramebuffer(s->screen, fb, (int)fmt.width, (int)fmt.height, 8, 3,
			  4);
	/* rfbNewFramebuffer() resets the format to its own idea of RGB. */
	set_format(s);
	it = rfbGetClientIterator(s->screen);
	while ((cl = rfbClientIteratorNext(it)) != NULL)
		s->screen->setTranslateFunction(cl);
	rfbReleaseClientIterator(it);
	free(old);
	find_monitor_origin(s, s->monitor);
	return 0;
}

static int update_damage(struct ll_rfb_server *s);
static void alr_add(struct ll_rfb_server *s, int x1, int y1, int x2, int y2);

/* Tells the session which monitors exist and which one is shown. */
static void report_monitors(struct ll_rfb_server *s, int err,
			    const char *requested)
{
	struct ll_platform_monitor *mons = NULL;
	size_t n = 0, i;
	bool found = false;
	int r;

	if (s->cbs.monitors == NULL)
		return;
	if ((r = ll_platform_monitors(s->p, &mons, &n)) != 0) {
		mons = NULL;
		n = 0;
		if (err == 0)
			err = r;
	}
	if (s->monitor != NULL && n > 0) {
		for (i = 0; i < n; i++) {
			if (!mons[i].is_all &&
			    strcmp(mons[i].name, s->monitor) == 0)
				found = true;
		}
		/* It went away: the platform fell back to the desktop. */
		if (!found) {
			free(s->monitor);
			s->monitor = NULL;
		}
	}
	s->cbs.monitors(s->cbs.user, mons, n,
			s->monitor != NULL ? s->monitor : LL_PLATFORM_ALL, err,
			requested);
	free(mons);
}

/*
 * Switches the capture to monitor `name` ("all": the desktop).  A refusal
 * (unknown name, a viewer that cannot follow a size change) leaves the
 * picture as it was and is reported; the return value is for failures
 * that end the screen session (capture or memory).
 */
static int select_monitor(struct ll_rfb_server *s, const char *name)
{
	struct ll_capture_format fmt;
	const char *want = strcmp(name, LL_PLATFORM_ALL) == 0 ? NULL : name;
	char *copy = NULL;
	int r, refused = 0;

	if (want != NULL && (copy = strdup(want)) == NULL)
		return LL_ERR_NOMEM;
	if ((refused = ll_platform_select_monitor(s->p, want)) != 0)
		goto report;
	if ((r = ll_platform_get_format(s->p, &fmt)) != 0) {
		free(copy);
		return r;
	}
	if ((fmt.width != s->fmt.width || fmt.height != s->fmt.height) &&
	    s->cl != NULL && !s->cl->useNewFBSize) {
		/* Its picture would be garbage: keep the old selection. */
		refused = LL_ERR_DISABLED;
		ll_platform_select_monitor(s->p, s->monitor);
		goto report;
	}
	free(s->monitor);
	s->monitor = copy;
	copy = NULL;
	if (fmt.width != s->fmt.width || fmt.height != s->fmt.height ||
	    fmt.stride != s->fmt.stride) {
		if ((r = resize(s)) != 0)
			return r;
	} else {
		find_monitor_origin(s, s->monitor);
	}
	/* The platform reports the whole new picture as damaged. */
	if ((r = update_damage(s)) != 0)
		return r;
report:
	free(copy);
	report_monitors(s, refused, name);
	return 0;
}

/* Keeps the band's old rows for scroll detection: false when it is not
 * worth a look (small, no client, a viewer without CopyRect). */
static bool keep_old_band(struct ll_rfb_server *s,
			  const struct ll_capture_rect *rc)
{
	size_t need = (size_t)rc->width * 4 * rc->height, y;
	uint8_t *b;

	if (!s->first_grabbed || s->cl == NULL || !s->cl->useCopyRect ||
	    rc->width < LL_SCROLL_MIN_WIDTH ||
	    rc->height < LL_SCROLL_MIN_HEIGHT ||
	    (uint64_t)rc->x + rc->width > s->fmt.width ||
	    (uint64_t)rc->y + rc->height > s->fmt.height)
		return false;
	if (need > s->scroll_old_size) {
		if ((b = realloc(s->scroll_old, need)) == NULL)
			return false;
		s->scroll_old = b;
		s->scroll_old_size = need;
	}
	for (y = 0; y < rc->height; y++)
		memcpy(s->scroll_old + y * rc->width * 4,
		       s->fb + (rc->y + y) * s->fmt.stride + (size_t)rc->x * 4,
		       (size_t)rc->width * 4);
	return true;
}

/*
 * What changed in a grabbed band, for libvncserver: a scroll becomes a
 * CopyRect (the viewer moves what it has) and only the rows that are
 * new are marked; without one only the rows that differ.  The copy is
 * scheduled first: libvncserver moves pending modified rows along with
 * it, and rows marked afterwards are taken out of the copy.
 */
static void mark_band(struct ll_rfb_server *s,
		      const struct ll_capture_rect *rc)
{
	struct ll_scroll_pic old_pic = { s->scroll_old,
					 (size_t)rc->width * 4 };
	struct ll_scroll_pic new_pic = {
		s->fb + (size_t)rc->y * s->fmt.stride + (size_t)rc->x * 4,
		s->fmt.stride
	};
	struct ll_scroll_run runs[RFB_SCROLL_RUNS];
	struct ll_scroll sc;
	int x1 = (int)rc->x, x2 = (int)(rc->x + rc->width);
	size_t n, i;

	ll_scroll_detect(&old_pic, &new_pic, rc->width, rc->height, &sc);
	if (sc.dy != 0) {
		rfbScheduleCopyRect(s->screen, x1, (int)(rc->y + sc.y0), x2,
				    (int)(rc->y + sc.y1), 0, sc.dy);
		if (s->copyrects++ == 0)
			ll_info("screen: scrolling sent as CopyRect (%d rows "
				"in %ux%u)",
				sc.dy, rc->width, sc.y1 - sc.y0);
	}
	n = ll_scroll_runs(&old_pic, &new_pic, rc->width, rc->height, &sc,
			   runs, RFB_SCROLL_RUNS);
	for (i = 0; i < n; i++)
		rfbMarkRectAsModified(s->screen, x1, (int)(rc->y + runs[i].y),
				      x2,
				      (int)(rc->y + runs[i].y + runs[i].h));
}

/* One damaged rectangle into the framebuffer, and to the viewer. */
static int grab_rect(struct ll_rfb_server *s, const struct ll_capture_rect *rc)
{
	bool look = keep_old_band(s, rc);
	int r;

	if ((r = ll_platform_grab(s->p, rc, s->fb, s->fmt.size)) != 0)
		return r;
	if (look)
		mark_band(s, rc);
	else
		rfbMarkRectAsModified(s->screen, (int)rc->x, (int)rc->y,
				      (int)(rc->x + rc->width),
				      (int)(rc->y + rc->height));
	/* the whole band: a CopyRect's destination may be JPEG's too */
	alr_add(s, (int)rc->x, (int)rc->y, (int)(rc->x + rc->width),
		(int)(rc->y + rc->height));
	return 0;
}

static int update_damage(struct ll_rfb_server *s)
{
	struct ll_capture_rect rects[RFB_DAMAGE_RECTS];
	size_t n = 0, i;
	int r;

	if ((r = ll_platform_damage(s->p, rects, RFB_DAMAGE_RECTS, &n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		r = grab_rect(s, &rects[i]);
		if (r == LL_ERR_TOO_LARGE)
			return resize(s);
		if (r != 0)
			return r;
	}
	return 0;
}

static void update_cursor(struct ll_rfb_server *s)
{
	struct ll_capture_cursor *c = NULL;
	rfbCursorPtr rc;
	size_t n, i, bpr;
	uint32_t px, a, r, g, b, out;
	int x, y;

	if (ll_platform_cursor(s->p, &c) != 0)
		return;
	if (c->width == 0 || c->height == 0 || c->width > 1024 ||
	    c->height > 1024)
		goto out;
	n = (size_t)c->width * c->height;
	bpr = ((size_t)c->width + 7) / 8;
	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		goto out;
	rc->cleanup = rc->cleanupMask = rc->cleanupRichSource = TRUE;
	rc->width = (unsigned short)c->width;
	rc->height = (unsigned short)c->height;
	rc->xhot = (unsigned short)MIN(c->xhot, c->width - 1);
	rc->yhot = (unsigned short)MIN(c->yhot, c->height - 1);
	rc->richSource = malloc(n * 4);
	rc->alphaSource = malloc(n);
	rc->mask = calloc(bpr, c->height);
	if (rc->richSource == NULL || rc->alphaSource == NULL ||
	    rc->mask == NULL) {
		rfbFreeCursor(rc);
		goto out;
	}
	for (i = 0; i < n; i++) {
		px = c->pixels[i];
		a = px >> 24;
		r = (px >> 16) & 0xff;
		g = (px >> 8) & 0xff;
		b = px & 0xff;
		if (a != 0 && a != 255) {
			/* Premultiplied in, straight colours out. */
			r = MIN(255u, r * 255u / a);
			g = MIN(255u, g * 255u / a);
			b = MIN(255u, b * 255u / a);
		}
		out = r * s->fmt.red_max / 255u << s->fmt.red_shift |
		      g * s->fmt.green_max / 255u << s->fmt.green_shift |
		      b * s->fmt.blue_max / 255u << s->fmt.blue_shift;
		memcpy(rc->richSource + i * 4, &out, 4);
		rc->alphaSource[i] = (unsigned char)a;
		x = (int)(i % c->width);
		y = (int)(i / c->width);
		if (a >= 128)
			rc->mask[(size_t)y * bpr + (size_t)x / 8] |=
				(unsigned char)(0x80u >> (x & 7));
	}
	rc->alphaPreMultiplied = FALSE;
	/* Takes ownership; frees the previous cursor. */
	rfbSetCursor(s->screen, rc);
out:
	ll_capture_cursor_free(c);
}

/* The pointer moved by the user's own hand: tell the viewer. */
static void update_pointer(struct ll_rfb_server *s)
{
	int32_t x, y;

	if (s->cl == NULL || ll_platform_pointer_position(s->p, &x, &y) != 0)
		return;
	if (x < 0 || y < 0 || (uint32_t)x >= s->fmt.width ||
	    (uint32_t)y >= s->fmt.height)
		return;
	if (x == s->ptr_x && y == s->ptr_y)
		return;
	s->ptr_x = x;
	s->ptr_y = y;
	s->screen->cursorX = x;
	s->screen->cursorY = y;
	s->cl->cursorWasMoved = TRUE;
}

/*
 * Damage is grabbed when the viewer asks for a picture, not when it
 * happens (the platform keeps collecting it meanwhile): the framebuffer
 * then still holds what the viewer has, so several scrolls that
 * happened between two of its requests (a slow link) are found as one
 * against its picture, and pictures it would never see are not
 * grabbed.  send: an update may go out at once (a request was just
 * read).
 */
static int take_held_damage(struct ll_rfb_server *s, bool send)
{
	int r;

	if (!s->damage_held ||
	    (s->cl != NULL && sraRgnEmpty(s->cl->requestedRegion)))
		return 0;
	s->damage_held = false;
	if ((r = update_damage(s)) != 0)
		return r;
	if (send)
		rfbProcessEvents(s->screen, 0);
	return 0;
}

static int handle_platform(struct ll_rfb_server *s, bool readable)
{
	unsigned ev = 0;
	int64_t now = ll_now_mono_ms();
	int r;

	if (readable || ll_platform_pending(s->p)) {
		if ((r = ll_platform_dispatch(s->p, &ev)) != 0)
			return r;
	}
	if (!(s->features & LL_PLATFORM_FEAT_DAMAGE) &&
	    now - s->last_poll_ms >= RFB_POLL_FRAME_MS) {
		s->last_poll_ms = now;
		ev |= LL_PLATFORM_EV_DAMAGE;
	}
	if (ev & LL_PLATFORM_EV_DAMAGE)
		s->damage_held = true;
	if ((ev & LL_PLATFORM_EV_GEOMETRY) && (r = resize(s)) != 0)
		return r;
	if (ev & LL_PLATFORM_EV_GEOMETRY)
		s->damage_held = true;
	if ((r = take_held_damage(s, false)) != 0)
		return r;
	/* Monitors came or went: the technician's list follows. */
	if (ev & LL_PLATFORM_EV_GEOMETRY)
		report_monitors(s, 0, NULL);
	if (ev & LL_PLATFORM_EV_CURSOR)
		update_cursor(s);
	update_pointer(s);
	return 0;
}

/* ---- lossless refresh (RFB thread) ---- */

/*
 * A viewer that asked for Tight with a JPEG quality gets full-colour
 * areas as JPEG: fine while they move, wrong once they stop.  Every area
 * sent while JPEG is on is remembered (libvncserver does not say which
 * rectangles became JPEG, so all of them: a palette or zlib rectangle
 * sent again costs little); RFB_ALR_MS after the last change there, it
 * is marked modified again with the client's JPEG off, and the quality
 * comes back once that update left.  New damage meanwhile goes out
 * lossless too, and counts from there -- unless the viewer sends
 * SetEncodings during the refresh (the agent does when the link's band
 * changes, which motion starting is what makes it do): its JPEG is on
 * again at once, so the refresh's area and what changed since may go
 * out as JPEG, and are remembered again (alr_done).
 */
static bool alr_jpeg_on(const struct ll_rfb_server *s)
{
	return s->cl != NULL && s->cl->preferredEncoding == rfbEncodingTight &&
	       s->cl->turboQualityLevel != -1;
}

static void alr_or(sraRegionPtr *to, sraRegionPtr what)
{
	if (*to == NULL && (*to = sraRgnCreate()) == NULL)
		return;
	sraRgnOr(*to, what);
}

/* Damage: lossy while JPEG is on; while a refresh is on its way, kept
 * with it (redo) in case a SetEncodings turns JPEG on under it. */
static void alr_add(struct ll_rfb_server *s, int x1, int y1, int x2, int y2)
{
	sraRegionPtr r;

	/* an empty one would stay in the region (pipe_on_update) */
	if ((!s->refreshing && !alr_jpeg_on(s)) || x2 <= x1 || y2 <= y1)
		return;
	if ((r = sraRgnCreateRect(x1, y1, x2, y2)) == NULL)
		return;
	alr_or(s->refreshing ? &s->redo : &s->lossy, r);
	sraRgnDestroy(r);
	if (!s->refreshing)
		s->lossy_ms = ll_now_mono_ms();
}

/*
 * A full update request is sent as JPEG too: remember it.  libvncserver
 * hands the request over in host order, already clipped to the screen
 * (rectSwapIfLEAndClip() before the hook): swapping it again made a
 * 1280x800 request a 5-pixel strip, and the picture it sent as JPEG
 * was never refreshed.
 */
static void alr_on_request(rfbClientPtr cl, rfbFramebufferUpdateRequestMsg *m)
{
	struct ll_rfb_server *s = server_of(cl);
	int x = m->x, y = m->y;

	if (!m->incremental)
		alr_add(s, x, y, x + m->w, y + m->h);
}

/* ---- update pipelining (RFB thread) ---- */

/*
 * RFB viewers (libvncclient, gtk-vnc) ask for the next update only once
 * the last one arrived, so on a link with a round trip R every picture
 * waits R plus its transfer: 60 ms + 20 ms caps an animation at ~12
 * frames/s.  After an update that answered a request, the request is
 * re-armed as if the viewer had asked again at once (incremental, its
 * last request's area): one more update is on its way meanwhile, as with a
 * viewer keeping two requests in flight.  At most one update more than
 * the viewer asked for is ever sent (ahead <= 1), so a slow link never
 * queues more than one extra picture.  The agent's RFB filter only wants
 * a request before the first update, which the viewer always sends.
 */
static void pipe_on_request(rfbClientPtr cl, rfbFramebufferUpdateRequestMsg *m)
{
	struct ll_rfb_server *s = server_of(cl);

	s->asked = true;
	s->ask_x = m->x;
	s->ask_y = m->y;
	s->ask_w = m->w;
	s->ask_h = m->h;
	if (s->ahead > -1)
		s->ahead--;
	alr_on_request(cl, m);
}

/* An update went out when libvncserver emptied the request it answered
 * (a size change or an empty update leaves it, and is not counted). */
static void pipe_on_sent(rfbClientPtr cl, int result)
{
	struct ll_rfb_server *s = server_of(cl);

	if (result && sraRgnEmpty(cl->requestedRegion))
		s->ahead++;
}

/* Whether rgn holds an empty rectangle; with clean, the rest into it. */
static bool rgn_empty_rects(sraRegionPtr rgn, sraRegionPtr clean)
{
	sraRectangleIterator *it;
	sraRegionPtr r;
	sraRect rc;
	bool found = false;

	if ((it = sraRgnGetIterator(rgn)) == NULL)
		return false;
	while (sraRgnIteratorNext(it, &rc)) {
		if (rc.x2 <= rc.x1 || rc.y2 <= rc.y1)
			found = true;
		else if (clean != NULL &&
			 (r = sraRgnCreateRect(rc.x1, rc.y1, rc.x2, rc.y2))) {
			sraRgnOr(clean, r);
			sraRgnDestroy(r);
		}
	}
	sraRgnReleaseIterator(it);
	return found;
}

/* rgn without its empty rectangles (rebuilt only when it has some). */
static void rgn_drop_empty(sraRegionPtr rgn)
{
	sraRegionPtr clean;

	if (!rgn_empty_rects(rgn, NULL) || (clean = sraRgnCreate()) == NULL)
		return;
	rgn_empty_rects(rgn, clean);
	sraRgnMakeEmpty(rgn);
	sraRgnOr(rgn, clean);
	sraRgnDestroy(clean);
}

/*
 * Before libvncserver builds an update: a request of zero width or
 * height (a hostile or broken viewer's; RFB allows it) becomes an empty
 * rectangle that libvncserver's regions keep, count in the update's
 * header and then send no rectangle for: the viewer's stream would
 * break.  Dropped from what was asked and what was marked.
 */
static void pipe_on_update(rfbClientPtr cl)
{
	rgn_drop_empty(cl->requestedRegion);
	rgn_drop_empty(cl->modifiedRegion);
}

static void pipe_rearm(struct ll_rfb_server *s)
{
	sraRegionPtr again;

	if (s->cl == NULL || !s->asked || s->ahead > 0 || s->ask_w == 0 ||
	    s->ask_h == 0 || !sraRgnEmpty(s->cl->requestedRegion))
		return;
	/* the viewer's own area only: a viewer asking for part of the
	 * screen never gets the rest unasked */
	again = sraRgnCreateRect(s->ask_x, s->ask_y, s->ask_x + s->ask_w,
				 s->ask_y + s->ask_h);
	if (again == NULL)
		return;
	sraRgnOr(s->cl->requestedRegion, again);
	sraRgnDestroy(again);
}

/* Before libvncserver sends: start a refresh when the area is still. */
static void alr_start(struct ll_rfb_server *s)
{
	sraRegionPtr screen, t;
	unsigned n;

	if (s->refreshing || s->lossy == NULL || sraRgnEmpty(s->lossy) ||
	    !alr_jpeg_on(s) || ll_now_mono_ms() - s->lossy_ms < RFB_ALR_MS)
		return;
	screen = sraRgnCreateRect(0, 0, (int)s->fmt.width, (int)s->fmt.height);
	if (screen == NULL)
		return;
	sraRgnAnd(s->lossy, screen);
	sraRgnDestroy(screen);
	s->saved_tight_q = s->cl->tightQualityLevel;
	s->saved_turbo_q = s->cl->turboQualityLevel;
	s->cl->tightQualityLevel = RFB_ALR_MARK;
	s->cl->turboQualityLevel = -1;
	s->refreshing = true;
	rfbMarkRegionAsModified(s->screen, s->lossy);
	/* the refresh's area is redo now; lossy starts empty */
	t = s->redo;
	s->redo = s->lossy;
	s->lossy = t;
	if (s->lossy != NULL)
		sraRgnMakeEmpty(s->lossy);
	/* Once at info: the viewer takes JPEG, and its refresh works. */
	n = atomic_fetch_add(&s->refreshes, 1) + 1;
	ll_log(n == 1 ? LL_LOG_INFO : LL_LOG_DEBUG,
	       "rfb: lossless refresh of the areas sent as JPEG (%u)", n);
}

static void alr_end(struct ll_rfb_server *s)
{
	s->refreshing = false;
	if (s->redo != NULL)
		sraRgnMakeEmpty(s->redo);
}

/*
 * After libvncserver sent: once nothing modified is left to send, the
 * refresh went out and JPEG comes back.  A SetEncodings read meanwhile
 * set the client's own choice: that one stays, and when it is JPEG,
 * what the refresh had to send may have gone out as JPEG after it:
 * lossy again, for the next refresh.
 */
static void alr_done(struct ll_rfb_server *s)
{
	if (!s->refreshing)
		return;
	if (s->cl != NULL && s->cl->tightQualityLevel != RFB_ALR_MARK) {
		if (alr_jpeg_on(s) && s->redo != NULL) {
			alr_or(&s->lossy, s->redo);
			s->lossy_ms = ll_now_mono_ms();
		}
		alr_end(s);
		return;
	}
	if (s->cl != NULL && !sraRgnEmpty(s->cl->modifiedRegion))
		return;
	if (s->cl != NULL) {
		s->cl->tightQualityLevel = s->saved_tight_q;
		s->cl->turboQualityLevel = s->saved_turbo_q;
	}
	alr_end(s);
}

static void drain(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/*
 * Before the click, set-up only: the capture memory is made ready for
 * the first grab with a colour of our own (ll_platform_warm), never with
 * the screen.  Black, as the framebuffer is from calloc: until the
 * grant neither holds anything else.
 */
static void warm(struct ll_rfb_server *s)
{
	int r;

	if ((r = ll_platform_warm(s->p, 0)) != 0)
		ll_debug("screen: capture not warmed: %s", ll_strerror(r));
#if LL_TEST_HOOKS
	{
		/* what the framebuffer holds now, for the GUI tests */
		size_t i, other = 0;

		for (i = 0; i < s->fmt.size; i++)
			if (s->fb[i] != 0)
				other++;
		ll_info("test: framebuffer before consent: %zu bytes, %zu "
			"not zero",
			s->fmt.size, other);
	}
#endif
}

/*
 * libvncserver's client on our socketpair, then, until
 * ll_rfb_server_go(), nothing: no capture, no read (the other end
 * reaches nobody yet).  Made first because rfbNewClient() waits 100 ms
 * for a WebSocket or TLS client to speak first (webSocketsCheck(); ours
 * never does): when the session prepares the server while the consent
 * dialog is open that wait is over before the click.  All it writes is
 * the RFB version string, into the socketpair.
 */
static bool make_client(struct ll_rfb_server *s)
{
	struct pollfd pfd = { .fd = s->wake[0], .events = POLLIN };

	/* Closes the socket itself on failure. */
	s->cl = rfbNewClient(s->screen, s->client_fd);
	if (s->cl == NULL) {
		g_strlcpy(s->why, "the screen session could not start",
			  sizeof(s->why));
		return false;
	}
	s->cl->clientGoneHook = on_client_gone;
	s->cl->clientFramebufferUpdateRequestHook = pipe_on_request;
	if (!atomic_load(&s->go)) {
		warm(s);
		ll_info("screen: RFB client ready, held until consent");
	}
	while (!atomic_load(&s->go) && !atomic_load(&s->stop)) {
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		drain(s->wake[0]);
	}
	return atomic_load(&s->go) && !atomic_load(&s->stop);
}

static gpointer rfb_thread(gpointer data)
{
	struct ll_rfb_server *s = data;
	struct pollfd pfd[3];
	char *name;
	nfds_t n;
	int r, pfd_x, timeout;

	g_strlcpy(s->why, "the screen session ended", sizeof(s->why));
	if (!make_client(s))
		goto out;
	/* The first damage call reports the full frame: grab it now. */
	if ((r = update_damage(s)) != 0) {
		snprintf(s->why, sizeof(s->why), "screen capture failed: %s",
			 ll_strerror(r));
		goto out;
	}
	s->first_grabbed = true;
	if (s->features & LL_PLATFORM_FEAT_CURSOR)
		update_cursor(s);
	if (s->cbs.client_ready != NULL)
		s->cbs.client_ready(s->cbs.user);
	report_monitors(s, 0, NULL);

	while (!atomic_load(&s->stop) && !s->client_gone) {
		n = 0;
		pfd[n].fd = s->wake[0];
		pfd[n++].events = POLLIN;
		pfd_x = -1;
		if (ll_platform_fd(s->p) >= 0) {
			pfd_x = (int)n;
			pfd[n].fd = ll_platform_fd(s->p);
			pfd[n++].events = POLLIN;
		}
		if (s->cl != NULL && s->cl->sock != RFB_INVALID_SOCKET) {
			pfd[n].fd = s->cl->sock;
			pfd[n++].events = POLLIN;
		}
		timeout = ll_platform_pending(s->p) ? 0 : RFB_LOOP_MS;
		if (poll(pfd, n, timeout) < 0 && errno != EINTR) {
			snprintf(s->why, sizeof(s->why), "poll: %s",
				 strerror(errno));
			break;
		}
		if (pfd[0].revents)
			drain(s->wake[0]);
		if (atomic_load(&s->stop))
			break;
		r = 0;
		while (r == 0 &&
		       (name = g_async_queue_try_pop(s->selects)) != NULL) {
			r = select_monitor(s, name);
			free(name);
		}
		if (r == 0)
			r = handle_platform(s,
					    pfd_x >= 0 && pfd[pfd_x].revents);
		if (r != 0) {
			snprintf(s->why, sizeof(s->why),
				 "screen capture failed: %s", ll_strerror(r));
			break;
		}
		/* Reads at most one message per readable client, then sends
		 * the updates the client asked for. */
		alr_start(s);
		rfbProcessEvents(s->screen, 0);
		alr_done(s);
		pipe_rearm(s);
		if ((r = take_held_damage(s, true)) != 0) {
			snprintf(s->why, sizeof(s->why),
				 "screen capture failed: %s", ll_strerror(r));
			break;
		}
		pipe_rearm(s);
	}
	if (s->client_gone && !atomic_load(&s->stop))
		g_strlcpy(s->why, "the technician's viewer disconnected",
			  sizeof(s->why));
out:
	atomic_store(&s->done, true);
	/* libvncserver closed its fd, but our dup keeps the socket open:
	 * let the viewer's end see the end now. */
	shutdown(s->shut_fd, SHUT_RDWR);
	if (!atomic_load(&s->stop) && s->cbs.ended != NULL)
		s->cbs.ended(s->cbs.user, s->why);
	return NULL;
}

/* ---- lifetime (GTK thread) ---- */

int ll_rfb_server_new(struct ll_platform *p, struct ll_input_gate *gate,
		      const char *monitor, const char *desktop_name,
		      const struct ll_rfb_server_cbs *cbs,
		      struct ll_rfb_server **out)
{
	/* rfbGetScreen parses argv: give it nothing to parse. */
	char arg0[] = "lifeline-applet";
	char *argv[] = { arg0, NULL };
	int argc = 1;
	struct ll_rfb_server *s;
	int r;

	if (p == NULL || gate == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return LL_ERR_NOMEM;
	s->wake[0] = s->wake[1] = s->shut_fd = s->client_fd = -1;
	s->peer_fd = -1;
	s->selects = g_async_queue_new_full(free);
	s->ptr_x = s->ptr_y = -1;
	s->gate = gate;
	if (cbs != NULL)
		s->cbs = *cbs;
	rfbLog = rfb_log;
	rfbErr = rfb_err;

	if (monitor != NULL && (s->monitor = strdup(monitor)) == NULL) {
		r = LL_ERR_NOMEM;
		goto fail;
	}
	if ((r = ll_platform_select_monitor(p, monitor)) != 0 ||
	    (r = ll_platform_get_format(p, &s->fmt)) != 0 ||
	    (r = alloc_fb(&s->fmt, &s->fb)) != 0)
		goto fail;
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		r = LL_ERR_IO;
		goto fail;
	}
	s->desktop_name = strdup(desktop_name != NULL ? desktop_name : "");
	s->screen = rfbGetScreen(&argc, argv, (int)s->fmt.width,
				 (int)s->fmt.height, 8, 3, 4);
	if (s->desktop_name == NULL || s->screen == NULL) {
		r = LL_ERR_NOMEM;
		goto fail;
	}
	/* No listening socket of any kind (and rfbInitServer never runs). */
	s->screen->port = -1;
	s->screen->ipv6port = -1;
	s->screen->autoPort = FALSE;
	s->screen->httpDir = NULL;
	s->screen->httpPort = -1;
	s->screen->http6Port = -1;
	s->screen->udpPort = 0;
	s->screen->inetdSock = RFB_INVALID_SOCKET;
	/* No VNC auth inside the tunnel; no file transfer through RFB. */
	s->screen->authPasswdData = NULL;
	s->screen->permitFileTransfer = FALSE;
	s->screen->neverShared = TRUE;
	s->screen->desktopName = s->desktop_name;
	s->screen->frameBuffer = s->fb;
	s->screen->screenData = s;
	s->screen->kbdAddEvent = on_key;
	s->screen->ptrAddEvent = on_pointer;
	s->screen->setXCutText = on_cut_text;
	s->screen->setXCutTextUTF8 = on_cut_text;
	s->screen->deferUpdateTime = 0;
	s->screen->deferPtrUpdateTime = 0;
	s->screen->displayHook = pipe_on_update;
	s->screen->displayFinishedHook = pipe_on_sent;
	set_format(s);
	s->p = p;
	s->features = ll_platform_features(p);
	find_monitor_origin(s, monitor);
	*out = s;
	return 0;
fail:
	s->p = NULL;
	ll_rfb_server_free(s);
	return r;
}

/* The RFB thread on fd, held before the capture until go. */
static int open_fd(struct ll_rfb_server *s, int fd)
{
	if (s == NULL || s->thread != NULL || fd < 0) {
		if (fd >= 0)
			close(fd);
		return LL_ERR_INVALID_ARG;
	}
	/* libvncserver watches its client with select(). */
	if (fd >= FD_SETSIZE) {
		close(fd);
		return LL_ERR_TOO_LARGE;
	}
	/* Ours to shut down from this thread without racing its close. */
	if ((s->shut_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		close(fd);
		return LL_ERR_IO;
	}
	s->client_fd = fd;
	s->thread = g_thread_try_new("ll-rfb", rfb_thread, s, NULL);
	if (s->thread == NULL) {
		close(fd);
		s->client_fd = -1;
		return LL_ERR_NOMEM;
	}
	return 0;
}

int ll_rfb_server_start(struct ll_rfb_server *s, int fd)
{
	if (s != NULL)
		atomic_store(&s->go, true);
	return open_fd(s, fd);
}

int ll_rfb_server_open(struct ll_rfb_server *s)
{
	int sv[2], r;

	if (s == NULL || s->thread != NULL)
		return LL_ERR_INVALID_ARG;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return LL_ERR_IO;
	/* sv[0] is taken over in every case. */
	if ((r = open_fd(s, sv[0])) != 0) {
		close(sv[1]);
		return r;
	}
	s->peer_fd = sv[1];
	return 0;
}

int ll_rfb_server_go(struct ll_rfb_server *s, int *peer_fd)
{
	if (s == NULL || s->thread == NULL || s->peer_fd < 0 ||
	    peer_fd == NULL)
		return LL_ERR_INVALID_ARG;
	*peer_fd = s->peer_fd;
	s->peer_fd = -1;
	atomic_store(&s->go, true);
	ll_rfb_server_wake(s);
	return 0;
}

int ll_rfb_server_select_monitor(struct ll_rfb_server *s, const char *name)
{
	char *copy;

	if (s == NULL || s->thread == NULL)
		return LL_ERR_INVALID_ARG;
	if (atomic_load(&s->done))
		return LL_ERR_CLOSED;
	if ((copy = strdup(name != NULL ? name : LL_PLATFORM_ALL)) == NULL)
		return LL_ERR_NOMEM;
	g_async_queue_push(s->selects, copy);
	ll_rfb_server_wake(s);
	return 0;
}

void ll_rfb_server_wake(struct ll_rfb_server *s)
{
	ssize_t n;

	if (s == NULL || s->wake[1] < 0)
		return;
	n = write(s->wake[1], "", 1);
	(void)n; /* a full pipe already wakes the thread */
}

unsigned ll_rfb_server_refreshes(struct ll_rfb_server *s)
{
	return s != NULL ? atomic_load(&s->refreshes) : 0;
}

void ll_rfb_server_free(struct ll_rfb_server *s)
{
	if (s == NULL)
		return;
	if (s->thread != NULL) {
		atomic_store(&s->stop, true);
		ll_rfb_server_wake(s);
		/*
		 * Unblocks a read libvncserver may be stuck in at once, and
		 * makes its writes fail.  A write already waiting in its
		 * select() for a peer that reads nothing wakes when the
		 * peer's end is closed (the session closes it first) or
		 * after at most 5 s.
		 */
		if (s->shut_fd >= 0)
			shutdown(s->shut_fd, SHUT_RDWR);
		g_thread_join(s->thread);
	}
	if (s->screen != NULL) {
		/* Closes the client socket (if still open) and the cursor. */
		rfbScreenCleanup(s->screen);
	}
	if (s->shut_fd >= 0)
		close(s->shut_fd);
	/* Never bridged: what libvncserver wrote goes unread. */
	if (s->peer_fd >= 0)
		close(s->peer_fd);
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	ll_platform_free(s->p);
	if (s->selects != NULL)
		g_async_queue_unref(s->selects);
	if (s->copyrects > 0)
		ll_info("screen: %u scrolls sent as CopyRect", s->copyrects);
	free(s->scroll_old);
	if (s->lossy != NULL)
		sraRgnDestroy(s->lossy);
	if (s->redo != NULL)
		sraRgnDestroy(s->redo);
	free(s->fb);
	free(s->desktop_name);
	free(s->monitor);
	free(s);
}
