/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scroll detection (applet/scroll_detect.c) on synthetic frames.  Every
 * case also plays the viewer: it starts from the old picture, applies
 * the copy and the rows ll_scroll_runs says to send, and must end with
 * the new picture exactly, whatever was detected.
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "scroll_detect.h"

#define W 200
#define H 160
#define DOC 400 /* rows of the "document" the window scrolls through */

static uint32_t doc[DOC][W];

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Text lines 10 rows high: 8 rows of glyph-like pixels, 2 blank. */
static void make_doc(void)
{
	uint32_t seed = 12345, x, y;

	for (y = 0; y < DOC; y++)
		for (x = 0; x < W; x++)
			doc[y][x] = (y % 10 < 8 && rnd(&seed) % 5 == 0)
					    ? 0xff000000u
					    : 0xffffffffu;
}

static void take(uint32_t *pic, int from)
{
	memcpy(pic, doc[from], sizeof(uint32_t) * W * H);
}

/* The viewer's side: old + copy + runs from new == new. */
static void check_replay(const uint32_t *old, const uint32_t *new,
			 const struct ll_scroll *sc, size_t max_runs,
			 uint32_t *sent_rows)
{
	struct ll_scroll_pic op = { old, W * 4 }, np = { new, W * 4 };
	struct ll_scroll_run runs[64];
	uint32_t *view = g_malloc(sizeof(uint32_t) * W * H);
	size_t n, i;
	uint32_t y;

	g_assert_cmpuint(max_runs, <=, G_N_ELEMENTS(runs));
	memcpy(view, old, sizeof(uint32_t) * W * H);
	if (sc->dy != 0) {
		g_assert_cmpuint(sc->y0, <, sc->y1);
		g_assert_cmpuint(sc->y1, <=, H);
		g_assert_cmpint((int)sc->y0 - sc->dy, >=, 0);
		g_assert_cmpint((int)sc->y1 - sc->dy, <=, H);
		/* CopyRect: the source as the viewer had it. */
		memmove(view + (size_t)sc->y0 * W,
			old + (size_t)((int)sc->y0 - sc->dy) * W,
			sizeof(uint32_t) * W * (sc->y1 - sc->y0));
	}
	n = ll_scroll_runs(&op, &np, W, H, sc, runs, max_runs);
	g_assert_cmpuint(n, <=, max_runs);
	*sent_rows = 0;
	for (i = 0; i < n; i++) {
		g_assert_cmpuint(runs[i].h, >, 0);
		g_assert_cmpuint(runs[i].y + runs[i].h, <=, H);
		if (i > 0)
			g_assert_cmpuint(runs[i].y, >,
					 runs[i - 1].y + runs[i - 1].h);
		for (y = runs[i].y; y < runs[i].y + runs[i].h; y++)
			memcpy(view + (size_t)y * W, new + (size_t)y *W,
			       sizeof(uint32_t) * W);
		*sent_rows += runs[i].h;
	}
	g_assert_true(memcmp(view, new, sizeof(uint32_t) * W * H) == 0);
	g_free(view);
}

static void detect(const uint32_t *old, const uint32_t *new,
		   struct ll_scroll *sc)
{
	struct ll_scroll_pic op = { old, W * 4 }, np = { new, W * 4 };

	ll_scroll_detect(&op, &np, W, H, sc);
}

/* Content moved up 30 rows, 30 new rows at the bottom (a terminal). */
static void test_scroll_new_lines(void)
{
	uint32_t *old = g_malloc(4 * W * H), *new = g_malloc(4 * W * H);
	struct ll_scroll sc;
	uint32_t sent;

	make_doc();
	take(old, 0);
	take(new, 30);
	detect(old, new, &sc);
	g_assert_cmpint(sc.dy, ==, -30);
	g_assert_cmpuint(sc.y0, ==, 0);
	g_assert_cmpuint(sc.y1, >=, H - 30 - 2);
	check_replay(old, new, &sc, 8, &sent);
	/* Only the new lines travel. */
	g_assert_cmpuint(sent, <=, 30);
	g_assert_cmpuint(sent, >, 0);
	g_free(old);
	g_free(new);
}

/* Pure scroll down 7 rows (XCopyArea), the exposed top left as it was:
 * the only rows to send are the 7 at the top, which did change. */
static void test_pure_scroll_down(void)
{
	uint32_t *old = g_malloc(4 * W * H), *new = g_malloc(4 * W * H);
	struct ll_scroll sc;
	uint32_t sent;

	make_doc();
	take(old, 100);
	take(new, 100);
	memmove(new + 7 * W, old, 4 * W * (H - 7));
	detect(old, new, &sc);
	g_assert_cmpint(sc.dy, ==, 7);
	g_assert_cmpuint(sc.y0, <=, 9);
	g_assert_cmpuint(sc.y1, ==, H);
	check_replay(old, new, &sc, 8, &sent);
	g_assert_cmpuint(sent, <=, 7);
	g_free(old);
	g_free(new);
}

/* A few rows typed, nothing moved: no scroll, only those rows. */
static void test_no_scroll(void)
{
	uint32_t *old = g_malloc(4 * W * H), *new = g_malloc(4 * W * H);
	struct ll_scroll sc;
	uint32_t sent, x;

	make_doc();
	take(old, 0);
	take(new, 0);
	detect(old, new, &sc);
	g_assert_cmpint(sc.dy, ==, 0);
	check_replay(old, new, &sc, 8, &sent);
	g_assert_cmpuint(sent, ==, 0);
	for (x = 0; x < 40; x++)
		new[(size_t)50 * W + x] = 0xff00ff00u;
	detect(old, new, &sc);
	g_assert_cmpint(sc.dy, ==, 0);
	check_replay(old, new, &sc, 8, &sent);
	g_assert_cmpuint(sent, ==, 1);
	g_free(old);
	g_free(new);
}

/* Everything moved 5 pixels sideways: no vertical shift explains it. */
static void test_horizontal_only(void)
{
	uint32_t *old = g_malloc(4 * W * H), *new = g_malloc(4 * W * H);
	struct ll_scroll sc;
	uint32_t sent, y;

	make_doc();
	take(old, 0);
	for (y = 0; y < H; y++) {
		memcpy(new + (size_t)y *W + 5, old + (size_t)y * W,
		       4 * (W - 5));
		memcpy(new + (size_t)y *W, old + (size_t)y * W + W - 5, 4 * 5);
	}
	detect(old, new, &sc);
	g_assert_cmpint(sc.dy, ==, 0);
	check_replay(old, new, &sc, 8, &sent);
	/* The blank rows stayed; every text row is sent. */
	g_assert_cmpuint(sent, >=, H * 8 / 10 - 10);
	g_free(old);
	g_free(new);
}

/* Video-like noise: never a scroll; every row sent, in one run. */
static void test_noise(void)
{
	uint32_t *old = g_malloc(4 * W * H), *new = g_malloc(4 * W * H);
	struct ll_scroll sc;
	uint32_t seed = 777, sent, i;

	for (i = 0; i < W * H; i++) {
		old[i] = rnd(&seed) & 0xff0f0f0f;
		new[i] = rnd(&seed) & 0xff0f0f0f;
	}
	detect(old, new, &sc);
	g_assert_cmpint(sc.dy, ==, 0);
	check_replay(old, new, &sc, 8, &sent);
	g_assert_cmpuint(sent, ==, H);
	g_free(old);
	g_free(new);
}

/* A page cleared to blank: blank rows match many shifts, none enough. */
static void test_cleared(void)
{
	uint32_t *old = g_malloc(4 * W * H), *new = g_malloc(4 * W * H);
	struct ll_scroll sc;
	uint32_t sent, i;

	make_doc();
	take(old, 0);
	for (i = 0; i < W * H; i++)
		new[i] = 0xffffffffu;
	detect(old, new, &sc);
	g_assert_cmpint(sc.dy, ==, 0);
	check_replay(old, new, &sc, 8, &sent);
	g_free(old);
	g_free(new);
}

/* Too small to look at; out of runs: the last one grows. */
static void test_limits(void)
{
	uint32_t *old = g_malloc(4 * W * H), *new = g_malloc(4 * W * H);
	struct ll_scroll_pic op = { old, W * 4 }, np = { new, W * 4 };
	struct ll_scroll sc = { 0 };
	struct ll_scroll_run runs[2];
	uint32_t sent;

	make_doc();
	take(old, 0);
	take(new, 30);
	ll_scroll_detect(&op, &np, LL_SCROLL_MIN_WIDTH - 1, H, &sc);
	g_assert_cmpint(sc.dy, ==, 0);
	ll_scroll_detect(&op, &np, W, LL_SCROLL_MIN_HEIGHT - 1, &sc);
	g_assert_cmpint(sc.dy, ==, 0);
	/* Without the copy nearly every row differs; one run covers it. */
	sc.dy = 0;
	g_assert_cmpuint(ll_scroll_runs(&op, &np, W, H, &sc, runs, 0), ==, 0);
	check_replay(old, new, &sc, 1, &sent);
	check_replay(old, new, &sc, 2, &sent);
	g_free(old);
	g_free(new);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/scroll/new-lines", test_scroll_new_lines);
	g_test_add_func("/scroll/pure-down", test_pure_scroll_down);
	g_test_add_func("/scroll/none", test_no_scroll);
	g_test_add_func("/scroll/horizontal", test_horizontal_only);
	g_test_add_func("/scroll/noise", test_noise);
	g_test_add_func("/scroll/cleared", test_cleared);
	g_test_add_func("/scroll/limits", test_limits);
	return g_test_run();
}
