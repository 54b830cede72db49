/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/screen's workloads on $DISPLAY (Xlib only, no toolkit, so that
 * the work they cause is the same for every run):
 *
 *   screen_load scroll [--fps N] [--lines K]   a terminal-sized window
 *       (100x40 cells, core font "fixed") scrolling `ls -lR`-like text,
 *       K new lines per refresh (as a terminal's jump scroll does)
 *   screen_load anim [--fps N]   a 640x360 region whose every pixel
 *       changes every frame (a moving pattern drawn with XPutImage, a
 *       function of the frame's marker: screen_pattern.h)
 *
 * Both run until SIGTERM/SIGINT (or --seconds), at fixed positions
 * (--x, --y).  Default 30 frames per second.
 *
 * Every frame carries a marker in the window's top-left corner (the time
 * it was drawn, screen_pattern.h): bench/screen/screen_viewer.c, --marker,
 * reads it: frames delivered, how old each was when it arrived, and for
 * the animation how far each differs from what was drawn (PSNR).
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

#include "screen_pattern.h"

static volatile sig_atomic_t stop;

/* The marker of frame n, drawn now. */
static uint32_t mark_value(uint32_t n)
{
	return sl_mark_of((uint32_t)(g_get_monotonic_time() / SL_MARK_TICK_US),
			  n);
}

/* Draws the marker into a window. */
static void mark_window(Display *dpy, Window win, GC gc, uint32_t v)
{
	int scr = DefaultScreen(dpy), b;

	for (b = 0; b < SL_MARK_BITS; b++) {
		XSetForeground(dpy, gc,
			       (v >> b) & 1 ? WhitePixel(dpy, scr)
					    : BlackPixel(dpy, scr));
		XFillRectangle(dpy, win, gc, b * SL_MARK_CELL, 0, SL_MARK_CELL,
			       SL_MARK_CELL);
	}
	XSetForeground(dpy, gc, BlackPixel(dpy, scr));
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static Window make_window(Display *dpy, int x, int y, int w, int h,
			  const char *title)
{
	XSetWindowAttributes a;
	Window win;

	memset(&a, 0, sizeof(a));
	a.override_redirect = True;
	a.background_pixel = WhitePixel(dpy, DefaultScreen(dpy));
	win = XCreateWindow(dpy, DefaultRootWindow(dpy), x, y, (unsigned)w,
			    (unsigned)h, 0, CopyFromParent, InputOutput,
			    CopyFromParent, CWOverrideRedirect | CWBackPixel,
			    &a);
	XStoreName(dpy, win, title);
	XMapRaised(dpy, win);
	XSync(dpy, False);
	return win;
}

static void sleep_until(struct timespec *next, long period_ns)
{
	next->tv_nsec += period_ns;
	while (next->tv_nsec >= 1000000000L) {
		next->tv_nsec -= 1000000000L;
		next->tv_sec++;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) !=
		       0 &&
	       !stop)
		;
}

static int run_scroll(Display *dpy, int x, int y, int fps, int k,
		      double seconds)
{
	static const char *const names[] = {
		"libX11.so.6.4.0",
		"README.Debian",
		"changelog.gz",
		"copyright",
		"python3.11",
		"share",
		"locale",
		"man1",
		"gtk-3.0",
		"vnc",
		"bin",
		"include",
		"pkgconfig",
	};
	const int cols = 100, rows = 40;
	XFontStruct *font;
	Window win;
	GC gc;
	int cw, ch, w, h, line = 0, i;
	struct timespec next;
	int64_t end_us;
	char text[160];

	font = XLoadQueryFont(dpy, "fixed");
	if (font == NULL) {
		fprintf(stderr, "screen_load: no \"fixed\" font\n");
		return 1;
	}
	cw = font->max_bounds.width;
	ch = font->ascent + font->descent;
	w = cols * cw;
	h = rows * ch;
	win = make_window(dpy, x, y, w, h, "screen_load scroll");
	gc = XCreateGC(dpy, win, 0, NULL);
	XSetFont(dpy, gc, font->fid);
	XSetForeground(dpy, gc, BlackPixel(dpy, DefaultScreen(dpy)));
	XSetBackground(dpy, gc, WhitePixel(dpy, DefaultScreen(dpy)));
	clock_gettime(CLOCK_MONOTONIC, &next);
	end_us = g_get_monotonic_time() + (int64_t)(seconds * 1e6);
	while (!stop && (seconds <= 0 || g_get_monotonic_time() < end_us)) {
		/* jump scroll: k lines up, then k new lines at the bottom */
		XCopyArea(dpy, win, win, gc, 0, k * ch, (unsigned)w,
			  (unsigned)(h - k * ch), 0, 0);
		XClearArea(dpy, win, 0, h - k * ch, (unsigned)w,
			   (unsigned)(k * ch), False);
		for (i = 0; i < k; i++, line++) {
			snprintf(text, sizeof(text),
				 "-rw-r--r-- 1 root root %8d Jan %2d %02d:%02d "
				 "/usr/share/doc/%s/%s.%d",
				 (line * 7919) % 9999999, 1 + line % 28,
				 line % 24, line % 60,
				 names[line % G_N_ELEMENTS(names)],
				 names[(line / 13) % G_N_ELEMENTS(names)],
				 line);
			XDrawImageString(dpy, win, gc, 2,
					 h - (k - i) * ch + font->ascent, text,
					 (int)strlen(text));
		}
		mark_window(dpy, win, gc, mark_value((uint32_t)line));
		XSync(dpy, False);
		sleep_until(&next, 1000000000L / fps);
	}
	XFreeGC(dpy, gc);
	XFreeFont(dpy, font);
	return 0;
}

static int run_anim(Display *dpy, int x, int y, int fps, double seconds)
{
	const int w = SL_ANIM_W, h = SL_ANIM_H;
	Visual *vis = DefaultVisual(dpy, DefaultScreen(dpy));
	Window win;
	XImage *img;
	GC gc;
	uint32_t *px;
	struct timespec next;
	int64_t end_us;
	uint32_t m, n = 0;
	int i, j;

	if (DefaultDepth(dpy, DefaultScreen(dpy)) != 24) {
		fprintf(stderr, "screen_load: anim needs depth 24\n");
		return 1;
	}
	win = make_window(dpy, x, y, w, h, "screen_load anim");
	gc = XCreateGC(dpy, win, 0, NULL);
	px = g_new(uint32_t, (size_t)w * h);
	img = XCreateImage(dpy, vis, 24, ZPixmap, 0, (char *)px, (unsigned)w,
			   (unsigned)h, 32, w * 4);
	clock_gettime(CLOCK_MONOTONIC, &next);
	end_us = g_get_monotonic_time() + (int64_t)(seconds * 1e6);
	while (!stop && (seconds <= 0 || g_get_monotonic_time() < end_us)) {
		m = mark_value(n++);
		for (j = 0; j < h; j++)
			for (i = 0; i < w; i++)
				px[(size_t)j * w + i] = sl_anim_marked(m, i,
								       j);
		XPutImage(dpy, win, gc, img, 0, 0, 0, 0, (unsigned)w,
			  (unsigned)h);
		XSync(dpy, False);
		sleep_until(&next, 1000000000L / fps);
	}
	XDestroyImage(img); /* frees px */
	XFreeGC(dpy, gc);
	return 0;
}

int main(int argc, char **argv)
{
	int fps = 30, lines = 5, x = 100, y = 100;
	double seconds = 0;
	GOptionEntry entries[] = {
		{ "fps", 0, 0, G_OPTION_ARG_INT, &fps, "frames per second",
		  NULL },
		{ "lines", 0, 0, G_OPTION_ARG_INT, &lines,
		  "scroll: lines per frame", NULL },
		{ "x", 0, 0, G_OPTION_ARG_INT, &x, "window x", NULL },
		{ "y", 0, 0, G_OPTION_ARG_INT, &y, "window y", NULL },
		{ "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds,
		  "stop after (0 = on SIGTERM)", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	GOptionContext *ctx;
	GError *error = NULL;
	Display *dpy;
	int r;

	ctx = g_option_context_new("scroll|anim - bench/screen workloads");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2 ||
	    fps < 1 || fps > 240 || lines < 1 || lines > 20) {
		fprintf(stderr, "usage: screen_load scroll|anim [--fps N] "
				"[--lines K] [--x X --y Y] [--seconds S]\n");
		return 2;
	}
	g_option_context_free(ctx);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if ((dpy = XOpenDisplay(NULL)) == NULL) {
		fprintf(stderr, "screen_load: cannot open display\n");
		return 1;
	}
	if (strcmp(argv[1], "scroll") == 0)
		r = run_scroll(dpy, x, y, fps, lines, seconds);
	else if (strcmp(argv[1], "anim") == 0)
		r = run_anim(dpy, x, y, fps, seconds);
	else
		r = 2;
	XCloseDisplay(dpy);
	return r;
}
