/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The applet's platform layer: screen capture and input injection behind
 * one vtable, so that X11 (today), the Wayland portal + PipeWire and other
 * systems are interchangeable backends (docs/ARCHITECTURE.md, The clients
 * inside).
 *
 * Model
 *   A backend is opened on a display.  It lists monitors; the applet
 *   selects one of them or "all" (the whole root / desktop).  From then on
 *   every coordinate in this API -- the framebuffer, damage rectangles, the
 *   pointer position and injected pointer motion -- is relative to the
 *   selected monitor's top-left corner.
 *
 *   The framebuffer is always 32 bits per pixel, rows of `stride` bytes.
 *   Each pixel is one uint32_t in host byte order whose value is
 *   (r << red_shift) | (g << green_shift) | (b << blue_shift), the other
 *   bits undefined: on a little-endian host with the usual X visual that is
 *   B, G, R, X in memory ("BGRX" / XRGB8888).  struct ll_capture_format
 *   carries what an RFB server needs to declare that pixel format.
 *
 *   Every size is computed in size_t with overflow checks; widths and
 *   heights are uint32_t and never multiplied as int.
 *
 * Event loop
 *   ll_platform_fd() is the descriptor to watch (G_IO_IN) in a GLib main
 *   loop; when it is readable, or when ll_platform_pending() says events
 *   already sit in the backend's queue (X11: Xlib reads events while it
 *   waits for replies, so they can be queued without the fd becoming
 *   readable -- check it in a GSource prepare/check), call
 *   ll_platform_dispatch() and act on the LL_PLATFORM_EV_* bits it returns.
 *   The whole API is single-threaded: one thread per backend instance.
 *
 * Input
 *   The input functions work whenever the backend supports them.  Granting
 *   or refusing control is the applet's job, not this layer's: the applet
 *   calls them ONLY while the technician holds the `control` capability and
 *   no consent dialog is open, and calls ll_platform_input_reset() when
 *   control ends so that no key or button stays pressed.
 *
 * Errors are negative ll_err codes.  LL_ERR_DISABLED means "this display
 * or backend does not offer that feature" (see ll_platform_features()).
 */
#ifndef LL_PLATFORM_H
#define LL_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A rectangle in selected-monitor coordinates. */
struct ll_capture_rect {
	uint32_t x, y;
	uint32_t width, height;
};

/* Geometry and pixel format of the selected monitor's framebuffer. */
struct ll_capture_format {
	uint32_t width, height;
	size_t stride;          /* bytes per row ll_platform_grab() writes */
	size_t size;            /* stride * height: the buffer to pass */
	uint8_t bits_per_pixel; /* always 32 */
	uint8_t depth;          /* significant bits, e.g. 24 */
	bool big_endian;        /* host byte order of the uint32_t pixels */
	uint8_t red_shift, green_shift, blue_shift;
	uint16_t red_max, green_max, blue_max; /* e.g. 255 */
};

#define LL_PLATFORM_MONITOR_NAME_MAX 64

/*
 * One entry of the monitor list.  Entry 0 is always "all" (the whole
 * desktop, is_all true); real monitors follow in the system's order.
 * x and y are in desktop (root) coordinates.
 */
struct ll_platform_monitor {
	char name[LL_PLATFORM_MONITOR_NAME_MAX];
	int32_t x, y;
	uint32_t width, height;
	bool primary;
	bool is_all;
};

#define LL_PLATFORM_ALL "all"

/*
 * A cursor image.  pixels holds width * height uint32_t in host order,
 * ARGB with premultiplied alpha (A in bits 24..31).  serial changes
 * whenever the cursor shape changes.  Free with ll_capture_cursor_free().
 */
struct ll_capture_cursor {
	uint32_t width, height;
	uint32_t xhot, yhot;
	uint64_t serial;
	uint32_t *pixels;
};

void ll_capture_cursor_free(struct ll_capture_cursor *c);

/* ll_platform_features() bits: what this display offers. */
enum ll_platform_feature {
	LL_PLATFORM_FEAT_SHM = 1u << 0,      /* fast shared-memory capture */
	LL_PLATFORM_FEAT_DAMAGE = 1u << 1,   /* exact damage, else full */
	LL_PLATFORM_FEAT_CURSOR = 1u << 2,   /* cursor image */
	LL_PLATFORM_FEAT_MONITORS = 1u << 3, /* per-monitor list */
	LL_PLATFORM_FEAT_INPUT = 1u << 4,    /* pointer and key injection */
};

/* ll_platform_dispatch() result bits. */
enum ll_platform_event {
	LL_PLATFORM_EV_DAMAGE = 1u << 0,   /* call ll_platform_damage() */
	LL_PLATFORM_EV_CURSOR = 1u << 1,   /* cursor shape changed */
	LL_PLATFORM_EV_GEOMETRY = 1u << 2, /* monitors or size changed: re-read
					    * the format and re-allocate */
};

/* Largest pointer button ll_platform_pointer_button() accepts. */
#define LL_PLATFORM_BUTTON_MAX 7

struct ll_platform;

/*
 * The vtable every backend fills.  Callers use the ll_platform_*()
 * wrappers below, which check arguments before dispatching; a backend may
 * rely on non-NULL pointers and in-range buttons.  Semantics are those of
 * the wrappers.
 */
struct ll_platform_ops {
	const char *name;
	int (*open)(const char *display, struct ll_platform **out);
	int (*open_input)(const char *display, struct ll_platform **out);
	void (*free)(struct ll_platform *p);
	unsigned (*features)(struct ll_platform *p);
	int (*monitors)(struct ll_platform *p,
			struct ll_platform_monitor **out, size_t *n_out);
	int (*select_monitor)(struct ll_platform *p, const char *name);
	int (*get_format)(struct ll_platform *p,
			  struct ll_capture_format *out);
	int (*grab)(struct ll_platform *p, const struct ll_capture_rect *rect,
		    void *fb, size_t fb_len);
	int (*damage)(struct ll_platform *p, struct ll_capture_rect *rects,
		      size_t max, size_t *n_out);
	int (*cursor)(struct ll_platform *p, struct ll_capture_cursor **out);
	int (*pointer_position)(struct ll_platform *p, int32_t *x, int32_t *y);
	int (*fd)(struct ll_platform *p);
	bool (*pending)(struct ll_platform *p);
	int (*dispatch)(struct ll_platform *p, unsigned *events);
	int (*pointer_move)(struct ll_platform *p, int32_t x, int32_t y);
	int (*pointer_button)(struct ll_platform *p, unsigned button,
			      bool down);
	int (*key)(struct ll_platform *p, uint32_t keysym, bool down);
	int (*input_reset)(struct ll_platform *p);
	/* optional: NULL when the backend has nothing to warm */
	int (*warm)(struct ll_platform *p, uint32_t fill);
};

/* Every backend's instance starts with this (its first member). */
struct ll_platform {
	const struct ll_platform_ops *ops;
};

/* Backends compiled in. */
extern const struct ll_platform_ops ll_platform_x11_ops;

/*
 * The X11 backend with fallbacks forced, for tests and for debugging a
 * misbehaving server.  ll_platform_open("x11", ...) reads the same from
 * the environment: LL_PLATFORM_X11_NO_SHM=1, LL_PLATFORM_X11_NO_DAMAGE=1.
 */
enum ll_platform_x11_flag {
	LL_PLATFORM_X11_NO_SHM = 1u << 0,     /* XGetImage instead of XShm */
	LL_PLATFORM_X11_NO_DAMAGE = 1u << 1,  /* full frames, no XDamage */
	LL_PLATFORM_X11_INPUT_ONLY = 1u << 2, /* injection only, no capture */
};
int ll_platform_x11_open(const char *display, unsigned flags,
			 struct ll_platform **out);

/*
 * Opens backend `backend` ("x11"; NULL picks the first that opens) on
 * `display` (X11: a display name, NULL for $DISPLAY).  "all" is selected.
 */
int ll_platform_open(const char *backend, const char *display,
		     struct ll_platform **out);
/*
 * An instance for input injection only (the input gate's injector): its
 * own connection, no capture set up, no events but geometry selected.
 * Still single-threaded: the input gate serialises every call under its
 * mutex, from whichever thread.
 */
int ll_platform_open_input(const char *backend, const char *display,
			   struct ll_platform **out);
/* Closes the display, restores any keyboard mapping changed for input. */
void ll_platform_free(struct ll_platform *p);
const char *ll_platform_name(const struct ll_platform *p);
unsigned ll_platform_features(struct ll_platform *p);

/*
 * Fresh monitor list (entry 0 = "all"); *out is malloc'ed, free() it.
 * Without a monitor extension the list holds "all" only.
 */
int ll_platform_monitors(struct ll_platform *p,
			 struct ll_platform_monitor **out, size_t *n_out);
/*
 * Selects a monitor by name, or the whole desktop with NULL or "all".
 * LL_ERR_NOT_FOUND when no monitor has that name (selection unchanged).
 * The next ll_platform_damage() reports the full frame.
 */
int ll_platform_select_monitor(struct ll_platform *p, const char *name);
int ll_platform_get_format(struct ll_platform *p,
			   struct ll_capture_format *out);
/*
 * Copies the screen into fb, a buffer laid out as the format says (fb_len
 * at least format.size).  rect NULL grabs the whole frame; otherwise only
 * that rectangle (clipped to the frame) is written, at its place in fb, so
 * one framebuffer can be kept up to date from the damage rectangles.
 * LL_ERR_TOO_LARGE when fb_len is short (e.g. the geometry changed).
 */
int ll_platform_grab(struct ll_platform *p, const struct ll_capture_rect *rect,
		     void *fb, size_t fb_len);
/*
 * Set-up, not capture: makes the backend's capture memory ready for the
 * first ll_platform_grab() WITHOUT reading the screen.  The X11 backend
 * has the X server write a pixmap of its own, filled with `fill` (a
 * pixel value as the format describes it), into its shared segment, so
 * that the server's first touch of every page of the segment (on a VM
 * 90-190 ms for 1920x1080) is over before the user allows anything.
 * Afterwards the backend's memory holds `fill` only.  A backend without
 * such memory does nothing (0).
 */
int ll_platform_warm(struct ll_platform *p, uint32_t fill);
/*
 * Regions changed since the previous call, clipped to the selected
 * monitor, into rects[0..max-1] (max >= 1), count in *n_out (may be 0).
 * More rectangles than max collapse into their bounding box.  The first
 * call after open/select/geometry change reports the full frame; so does
 * every call when the display offers no damage tracking (no
 * LL_PLATFORM_FEAT_DAMAGE: then poll at the frame rate you want).
 */
int ll_platform_damage(struct ll_platform *p, struct ll_capture_rect *rects,
		       size_t max, size_t *n_out);
int ll_platform_cursor(struct ll_platform *p, struct ll_capture_cursor **out);
/* Pointer position relative to the selected monitor (may lie outside). */
int ll_platform_pointer_position(struct ll_platform *p, int32_t *x,
				 int32_t *y);

int ll_platform_fd(struct ll_platform *p);
bool ll_platform_pending(struct ll_platform *p);
/* Handles all queued events; *events gets LL_PLATFORM_EV_* bits. */
int ll_platform_dispatch(struct ll_platform *p, unsigned *events);

/*
 * Input -- call only while control is granted (see the top of this file).
 * Pointer motion is absolute in selected-monitor coordinates, clamped to
 * the monitor.  Buttons: 1 left, 2 middle, 3 right, 4/5 wheel up/down,
 * 6/7 wheel left/right.  Keys by X keysym (the RFB key event's value),
 * including non-ASCII and Unicode (0x01000000 + code point) keysyms that
 * the current keyboard map lacks.
 */
int ll_platform_pointer_move(struct ll_platform *p, int32_t x, int32_t y);
int ll_platform_pointer_button(struct ll_platform *p, unsigned button,
			       bool down);
/*
 * LL_ERR_NOT_FOUND: the keysym is not in the map and no keycode is free
 * to bind it; LL_ERR_TOO_LARGE: too many keys held down at once.
 */
int ll_platform_key(struct ll_platform *p, uint32_t keysym, bool down);
/*
 * Releases every key and button this instance holds pressed, and returns
 * only once the display server has processed the releases.
 */
int ll_platform_input_reset(struct ll_platform *p);

#endif
