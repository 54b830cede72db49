/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scroll detection by row hashes: every row of the band is hashed in
 * the old and the new picture; for each shift dy in a bounded range we
 * count the changed rows whose new hash is the old hash dy rows above
 * (or below), and keep the shift that explains most.  Uniform rows (the
 * blank lines of a terminal) match many shifts, but only the true shift
 * also matches the rows that carry text, so it wins.  The hashes only
 * choose: ll_scroll_runs compares bytes, so a collision or a wrong guess
 * sends more, never a wrong picture.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "scroll_detect.h"

static const uint8_t *row_of(const struct ll_scroll_pic *p, uint32_t y)
{
	return (const uint8_t *)p->px + (size_t)y * p->stride;
}

static uint64_t row_hash(const uint8_t *row, uint32_t width)
{
	uint64_t h = 0x9e3779b97f4a7c15ull, w;
	size_t i, n = (size_t)width * 4;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, row + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	if (i < n) {
		w = 0;
		memcpy(&w, row + i, n - i);
		h = (h ^ w) * 0x100000001b3ull;
	}
	return h ^ (h >> 32);
}

static bool row_same(const struct ll_scroll_pic *a, uint32_t ya,
		     const struct ll_scroll_pic *b, uint32_t yb,
		     uint32_t width)
{
	return memcmp(row_of(a, ya), row_of(b, yb), (size_t)width * 4) == 0;
}

/* Changed rows explained by shift dy. */
static uint32_t score(const uint64_t *oh, const uint64_t *nh,
		      const uint32_t *changed, uint32_t n_changed,
		      uint32_t height, int dy)
{
	uint32_t i, hits = 0;
	int64_t src;

	for (i = 0; i < n_changed; i++) {
		src = (int64_t)changed[i] - dy;
		if (src >= 0 && src < height && nh[changed[i]] == oh[src])
			hits++;
	}
	return hits;
}

/* The copied rows: from the first to the last row the shift explains. */
static void find_span(const uint64_t *oh, const uint64_t *nh, uint32_t height,
		      struct ll_scroll *sc)
{
	uint32_t r, lo = height, hi = 0;
	int64_t src;

	for (r = 0; r < height; r++) {
		src = (int64_t)r - sc->dy;
		if (src < 0 || src >= height || nh[r] != oh[src])
			continue;
		if (r < lo)
			lo = r;
		hi = r + 1;
	}
	sc->y0 = lo;
	sc->y1 = hi;
}

void ll_scroll_detect(const struct ll_scroll_pic *old_pic,
		      const struct ll_scroll_pic *new_pic, uint32_t width,
		      uint32_t height, struct ll_scroll *out)
{
	uint64_t *oh = NULL, *nh = NULL;
	uint32_t *changed = NULL, n_changed = 0, r, s, best = 0;
	int dy, max_dy, best_dy = 0;

	memset(out, 0, sizeof(*out));
	if (width < LL_SCROLL_MIN_WIDTH || height < LL_SCROLL_MIN_HEIGHT)
		return;
	oh = malloc(sizeof(*oh) * height);
	nh = malloc(sizeof(*nh) * height);
	changed = malloc(sizeof(*changed) * height);
	if (oh == NULL || nh == NULL || changed == NULL)
		goto out;
	for (r = 0; r < height; r++) {
		oh[r] = row_hash(row_of(old_pic, r), width);
		nh[r] = row_hash(row_of(new_pic, r), width);
		if (oh[r] != nh[r])
			changed[n_changed++] = r;
	}
	if (n_changed < LL_SCROLL_MIN_ROWS)
		goto out;
	max_dy = (int)(height - LL_SCROLL_MIN_ROWS);
	if (max_dy > LL_SCROLL_MAX_DY)
		max_dy = LL_SCROLL_MAX_DY;
	/* Smaller shifts first: a tie goes to the nearer one. */
	for (s = 1; s <= (uint32_t)max_dy * 2; s++) {
		dy = (s & 1) ? -(int)((s + 1) / 2) : (int)(s / 2);
		r = score(oh, nh, changed, n_changed, height, dy);
		if (r > best) {
			best = r;
			best_dy = dy;
		}
	}
	if (best < LL_SCROLL_MIN_ROWS || best * 2 < n_changed)
		goto out;
	out->dy = best_dy;
	find_span(oh, nh, height, out);
out:
	free(oh);
	free(nh);
	free(changed);
}

/* Does row r still need sending once sc is applied? */
static bool row_dirty(const struct ll_scroll_pic *old_pic,
		      const struct ll_scroll_pic *new_pic, uint32_t width,
		      const struct ll_scroll *sc, uint32_t r)
{
	if (sc->dy != 0 && r >= sc->y0 && r < sc->y1)
		return !row_same(new_pic, r, old_pic,
				 (uint32_t)((int64_t)r - sc->dy), width);
	return !row_same(new_pic, r, old_pic, r, width);
}

size_t ll_scroll_runs(const struct ll_scroll_pic *old_pic,
		      const struct ll_scroll_pic *new_pic, uint32_t width,
		      uint32_t height, const struct ll_scroll *sc,
		      struct ll_scroll_run *runs, size_t max)
{
	size_t n = 0;
	uint32_t r;

	if (max == 0)
		return 0;
	for (r = 0; r < height; r++) {
		if (!row_dirty(old_pic, new_pic, width, sc, r))
			continue;
		if (n > 0 &&
		    (runs[n - 1].y + runs[n - 1].h == r || n == max)) {
			/* Adjacent, or out of runs: the last one grows. */
			runs[n - 1].h = r + 1 - runs[n - 1].y;
			continue;
		}
		runs[n].y = r;
		runs[n].h = 1;
		n++;
	}
	return n;
}
