/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scroll detection (scroll_detect.c): is the new content of a damaged
 * band the old content shifted vertically?  Then the viewer can copy
 * what it already has (RFB CopyRect) and only the rows that are really
 * new travel.  Sans-I/O: two pictures of the same band in memory in,
 * a shift and the rows still to send out.  32 bits per pixel.
 */
#ifndef LL_SCROLL_DETECT_H
#define LL_SCROLL_DETECT_H

#include <stddef.h>
#include <stdint.h>

/* Bands smaller than this are not worth a look. */
#define LL_SCROLL_MIN_WIDTH 64
#define LL_SCROLL_MIN_HEIGHT 32
/* Largest shift looked for, in rows (either way). */
#define LL_SCROLL_MAX_DY 512

/* One picture of the band: its top-left pixel, bytes per row. */
struct ll_scroll_pic {
	const void *px;
	size_t stride;
};

/*
 * A scroll found in a band of height rows: new row r shows old row
 * r - dy (dy < 0: the content moved up) for the rows [y0, y1) that are
 * to be copied (RFB's CopyRect destination, band-relative; their source
 * [y0 - dy, y1 - dy) lies inside the band).  dy 0: no scroll.
 */
struct ll_scroll {
	int dy;
	uint32_t y0, y1;
};

/* Rows [y, y + h) of the band whose new content is still to be sent. */
struct ll_scroll_run {
	uint32_t y, h;
};

/*
 * Looks for the vertical shift that explains most of the band's changed
 * rows; found only if it explains at least half of them and at least
 * LL_SCROLL_MIN_ROWS.  Deciding wrong costs bytes, never pixels:
 * ll_scroll_runs compares exactly.
 */
#define LL_SCROLL_MIN_ROWS 16
void ll_scroll_detect(const struct ll_scroll_pic *old_pic,
		      const struct ll_scroll_pic *new_pic, uint32_t width,
		      uint32_t height, struct ll_scroll *out);

/*
 * The rows to send once sc is applied (sc->dy 0: the rows that differ
 * from the old picture at all): inside [y0, y1) those that differ from
 * their source, outside it those that differ from the old picture.
 * Adjacent rows form one run; when more than max runs would be needed
 * the last one reaches to the last changed row.  Returns the number of
 * runs written (0: nothing to send).
 */
size_t ll_scroll_runs(const struct ll_scroll_pic *old_pic,
		      const struct ll_scroll_pic *new_pic, uint32_t width,
		      uint32_t height, const struct ll_scroll *sc,
		      struct ll_scroll_run *runs, size_t max);

#endif
