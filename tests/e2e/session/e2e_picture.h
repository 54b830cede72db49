/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The known picture of the session e2e test: drawn by e2e-target on the
 * end user's screen, recomputed by the test to check the agent's
 * snapshot pixel by pixel.  Hard edges, 1-pixel lines, a 1-pixel
 * checkerboard and smooth gradients: a lossy encoding or an off-by-one
 * in a rectangle shows up as a mismatch.  0xRRGGBB.
 */
#ifndef E2E_PICTURE_H
#define E2E_PICTURE_H

#include <stdint.h>

#define E2E_PIC_W 256
#define E2E_PIC_H 192

#define E2E_PALETTE_N 8

/* The colours of the blocks (i = 0..7). */
static inline uint32_t e2e_picture_palette(int i)
{
	static const uint32_t palette[E2E_PALETTE_N] = {
		0xe6194b, 0x3cb44b, 0xffe119, 0x4363d8,
		0xf58231, 0x911eb4, 0x46f0f0, 0xf032e6,
	};

	return palette[i % E2E_PALETTE_N];
}

static inline uint32_t e2e_picture_rgb(int x, int y)
{
	uint32_t r, g, b;

	if (x == 0 || y == 0 || x == E2E_PIC_W - 1 || y == E2E_PIC_H - 1)
		return 0x000000; /* 1-pixel frame */
	if (y < 96 && x < 128)   /* colour blocks */
		return e2e_picture_palette((x / 16) + (y / 16) * 3);
	if (y < 96) { /* gradients */
		r = (uint32_t)(x - 128) * 2;
		g = (uint32_t)y * 2 + 40;
		b = 255 - r;
		return (r << 16) | (g << 8) | b;
	}
	if (x < 128) /* checkerboard */
		return ((x ^ y) & 1) ? 0xffffff : 0x101010;
	if ((x - 128) % 7 == (y - 96) % 7) /* diagonal lines */
		return 0x0000ff;
	if (y % 9 == 0)
		return 0xff8000;
	return 0xf0f0e0;
}

#endif
