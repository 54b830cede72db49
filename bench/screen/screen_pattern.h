/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What bench/screen's workloads draw, in one home: screen_load.c draws
 * it, screen_viewer.c reads the marker and rebuilds the animation's
 * frames from it to measure what a lossy encoding costs (PSNR).
 *
 * The marker: a strip of SL_MARK_BITS cells of SL_MARK_CELL pixels,
 * black or white, in a workload window's top-left corner, holding the
 * low 16 bits of CLOCK_MONOTONIC in SL_MARK_TICK_US steps when the frame
 * was drawn, the low 8 bits of the frame's number and an 8-bit check.
 * (Quarter milliseconds: an idle p95 of 5 ms measured in whole ms made
 * a 2x target a matter of one step; ages wrap after 16 s.)  Black
 * and white cells survive lossy encodings; a marker torn between two
 * captures fails the check.
 *
 * The animation: SL_ANIM_W x SL_ANIM_H pixels, every one of them a
 * function of its position and of the frame's number (mod 256) only, so
 * that a viewer which read the marker knows every pixel that was drawn,
 * and those of the frames drawn after it (a capture that tears takes
 * part of the region from a later frame).
 */
#ifndef LL_BENCH_SCREEN_PATTERN_H
#define LL_BENCH_SCREEN_PATTERN_H

#include <stdint.h>

#define SL_MARK_CELL 8
#define SL_MARK_BITS 32
#define SL_ANIM_W 640
#define SL_ANIM_H 360

#define SL_MARK_TICK_US 250

/* The marker's 32 bits for frame n drawn at tick t (SL_MARK_TICK_US):
 * 16 bits of time, 8 of the frame's number, 8 of check. */
static inline uint32_t sl_mark_of(uint32_t tick, uint32_t n)
{
	uint32_t t = tick & 0xffff, s = n & 0xff;

	return t | s << 16 | (((t >> 8) ^ t ^ (s * 7) ^ 0x5a) & 0xff) << 24;
}

/* True if a marker read back is whole (its check matches). */
static inline int sl_mark_ok(uint32_t m)
{
	return sl_mark_of(m & 0xffff, (m >> 16) & 0xff) == m;
}

/* The tick the frame marked m was drawn at. */
static inline uint32_t sl_mark_tick(uint32_t m)
{
	return m & 0xffff;
}

/* The age in ms of the frame marked m, at CLOCK_MONOTONIC now_us. */
static inline double sl_mark_age_ms(uint32_t m, int64_t now_us)
{
	uint32_t now = (uint32_t)(now_us / SL_MARK_TICK_US);

	return (double)((now - sl_mark_tick(m)) & 0xffff) * SL_MARK_TICK_US /
	       1000.0;
}

static inline uint32_t sl_mark_frame(uint32_t m)
{
	return (m >> 16) & 0xff;
}

/* The animation's pixel (0xRRGGBB) at i,j of frame n, outside the
 * marker: bands plus an xor hash, so every pixel changes every frame,
 * like video rather than a flat fill.  The phase moves by 99, 165 and
 * 231 levels a frame (3, 5 and 7 levels a millisecond at 30 frames/s),
 * so that two frames up to 8 apart differ far more than any encoding's
 * error and a viewer can tell which frame a torn tile came from. */
static inline uint32_t sl_anim_pixel(uint32_t n, int i, int j)
{
	uint32_t r, g, b;

	r = ((uint32_t)i + n * 99) & 0xff;
	g = ((uint32_t)j * 2 + n * 165) & 0xff;
	b = ((uint32_t)(i ^ j) + n * 231) & 0xff;
	return (r << 16) | (g << 8) | b;
}

/* The pixel of the frame marked m, marker included. */
static inline uint32_t sl_anim_marked(uint32_t m, int i, int j)
{
	if (j < SL_MARK_CELL && i < SL_MARK_BITS * SL_MARK_CELL)
		return (m >> (i / SL_MARK_CELL)) & 1 ? 0xffffff : 0x000000;
	return sl_anim_pixel(sl_mark_frame(m), i, j);
}

#endif
