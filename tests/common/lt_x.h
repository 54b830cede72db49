/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * X for the GUI and e2e tests: an Xvfb of the test's own (-displayfd, so
 * tests run side by side, each on the display the server picked), and
 * the wait for a window, on the X server's events (e2e-target --window,
 * tests/e2e/session/e2e_target.c) with a deadline (HACKING.md, "Tests
 * wait for events").
 */
#ifndef LT_X_H
#define LT_X_H

#include <stdbool.h>

struct lt_xvfb;

/*
 * Starts Xvfb (LL_XVFB, else "Xvfb" on the PATH) with one screen of
 * geometry ("1024x768x24"), its output appended to log_path (NULL:
 * dropped), and waits until it names its display.  It dies with the
 * test, even when an assertion aborts it.  Fails the test when it
 * cannot start.
 */
struct lt_xvfb *lt_xvfb_start(const char *geometry, const char *log_path);
/* Its display, ":N". */
const char *lt_xvfb_display(const struct lt_xvfb *x);
/* Ends it (SIGTERM, then waits) and frees x; NULL is fine. */
void lt_xvfb_stop(struct lt_xvfb *x);

/*
 * The environment of a program on display (NULL: none) for a test:
 * DISPLAY, GDK on X11, no accessibility bus, no session bus, GSettings
 * in memory, a UTF-8 locale (g_strfreev).
 */
char **lt_x_env(const char *display);

/*
 * Runs argv (found on the PATH) on display with lt_x_env, the default
 * main context running meanwhile.  Gives up, killing it, when stop (may
 * be NULL) returns true for stop_data or after limit_ms.  Its exit
 * status (-1: given up or killed by a signal); its stdout in *out (may
 * be NULL; the caller's).
 */
int lt_x_run(const char *display, const char *const *argv, int limit_ms,
	     bool (*stop)(void *data), void *stop_data, char **out);

/*
 * Starts argv (found on the PATH) in the background on display (NULL:
 * none) with lt_x_env, stdin from /dev/null, stdout and stderr appended
 * to log_path; it dies with the test (SIGKILL), even when an assertion
 * aborts it.  Not reaped: the caller waits for it.
 */
int lt_x_spawn(char **argv, const char *display, const char *log_path);

/* The extended regex that matches exactly title (g_free). */
char *lt_x_title_re(const char *title);

/*
 * Runs e2e-target ARGS... (LL_E2E_TARGET) on display, the default main
 * context running meanwhile: it waits for X events (a window, its
 * drawing, the clipboard) with its own --timeout.  Gives up, killing it,
 * when stop (may be NULL) returns true for stop_data or after limit_ms.
 * Its exit status (0: the event came; -1 given up); its stdout in *out
 * (may be NULL; the caller's).
 */
int lt_x_target(const char *display, const char *const *args, int limit_ms,
		bool (*stop)(void *data), void *stop_data, char **out);

/*
 * Waits, the default main context running, for a mapped window on
 * display whose title matches the extended regex re (or, gone, until no
 * window matches), up to timeout_ms, with lt_x_target.  True when the
 * event came; then *id (may be NULL; the caller's) is the window's id in
 * decimal.
 */
bool lt_x_wait_window(const char *display, const char *re, bool gone,
		      int timeout_ms, bool (*stop)(void *data),
		      void *stop_data, char **id);

/*
 * One round of the default main context, blocking until one of its
 * sources fired or ms passed.  What the tests wait on (a session, a
 * child's exit, e2e-target) reports there, so a wait wakes at once; ms
 * only bounds how late a wait sees state outside the loop (a log file,
 * /proc).
 */
void lt_iterate(int ms);

#endif
