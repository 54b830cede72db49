/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A platform backend without a display, for tests and the fuzz target of
 * the applet's RFB path: a synthetic framebuffer, and input that is
 * counted instead of injected.  The counters are atomics owned by the
 * caller, so they can be read from any thread while the RFB thread runs.
 */
#ifndef LL_FAKE_PLATFORM_H
#define LL_FAKE_PLATFORM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct ll_platform;

struct ll_fake_input {
	atomic_uint moves;
	atomic_uint buttons_down;
	atomic_uint buttons_up;
	atomic_uint keys;
	atomic_uint resets;
	atomic_int last_x, last_y;
};

/*
 * width x height, 32 bpp XRGB.  damage: report exact damage (one full
 * frame, then nothing); without it the RFB server polls full frames.
 * counters may be NULL.
 */
int ll_fake_platform_new(uint32_t width, uint32_t height, bool damage,
			 struct ll_fake_input *counters,
			 struct ll_platform **out);

/*
 * From any thread: the screen shows a document (ll_fake_doc_pixel) and
 * scrolls it up by rows, reported as damage of the whole screen, as a
 * terminal's scroll is.  Screen pixel (x, y) is then
 * ll_fake_doc_pixel(x, y + the rows scrolled so far).
 */
void ll_fake_platform_scroll(struct ll_platform *p, int rows);
uint32_t ll_fake_doc_pixel(uint32_t x, uint32_t y);

/*
 * From any thread: paints ll_fake_photo_pixel(x, y, phase), a
 * full-colour picture (what Tight sends as JPEG when the viewer allows
 * it), over the rectangle and reports it as damage; the first paint
 * covers the whole screen.  From then on the screen is what
 * ll_fake_platform_pixel() says once the RFB thread took the paint
 * (ll_fake_platform_poke).  Up to 16 paints wait at a time; more are
 * dropped.
 */
void ll_fake_platform_photo(struct ll_platform *p, uint32_t phase, uint32_t x,
			    uint32_t y, uint32_t w, uint32_t h);
uint32_t ll_fake_photo_pixel(uint32_t x, uint32_t y, uint32_t phase);
uint32_t ll_fake_platform_pixel(struct ll_platform *p, uint32_t x, uint32_t y);

/*
 * From any thread: the RFB thread's next loop dispatches events
 * (nothing else to report); ll_fake_platform_poked() is true until it
 * did.  A poke taken took everything asked before it; two, one after
 * the other: a whole loop of the RFB thread ran after the first (an
 * event to wait for, not a time).  ll_fake_platform_grabs() counts
 * grabs.
 */
void ll_fake_platform_poke(struct ll_platform *p);
bool ll_fake_platform_poked(struct ll_platform *p);
unsigned ll_fake_platform_grabs(struct ll_platform *p);

#endif
