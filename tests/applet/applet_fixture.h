/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the applet's GUI tests (test_applet_gui.c, test_applet_bar.c,
 * test_brand_gui.c) share: the real lifeline-applet run in the
 * background with its stderr in a log, and the technician's side of a
 * session played over the relay with the client library's session pump
 * (the same code the agent uses).
 */
#ifndef APPLET_FIXTURE_H
#define APPLET_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <gio/gio.h>

#include "harness.h"
#include "ll_session_io.h"
#include "lt_x.h"

#define WAIT_TICK_MS 20

/* Until cond holds or ms passed, the main context running. */
#define WAIT_FOR(cond, ms)                                                    \
	do {                                                                  \
		int64_t end_ = lh_now_ms() + (ms);                            \
		while (!(cond) && lh_now_ms() < end_)                         \
			lt_iterate(WAIT_TICK_MS);                             \
	} while (0)

/* A program under test, its exit seen on the default main context. */
struct applet {
	GSubprocess *proc;
	char *log; /* its stderr */
	bool exited;
	int status; /* its exit status once exited (-1: a signal) */
};

/* A child's setup: it dies with the test, even when an assertion
 * aborts it. */
void die_with_parent(gpointer data);

/*
 * Starts argv (argv[0] a path) with environment env (borrowed; plus
 * LSAN_OPTIONS from LL_APPLET_LSAN_SUPP when set: GTK's and fontconfig's
 * process-long caches under ASan), stdout dropped, stderr into log_path
 * (made anew).
 */
void applet_spawn(struct applet *ap, char *const *env, const char *log_path,
		  const char *const *argv);

/* The applet of this build (LL_APPLET_BIN) for relay, --relay URL
 * --ca FILE, then args (NULL-terminated), with applet_spawn. */
void applet_spawn_for(struct applet *ap, const struct lh_relay *relay,
		      char *const *env, const char *log_path,
		      const char *const *args);

/* Until it exited or timeout_ms passed: whether it exited. */
bool applet_wait(struct applet *ap, int timeout_ms);

/* Its log so far (g_free; "" when there is none). */
char *applet_log(struct applet *ap);

/* For lt_x_wait_window's stop: true once the applet data exited. */
bool applet_gone(void *data);

/* Kills it if it still runs, waits for its end and frees ap's parts. */
void applet_reap(struct applet *ap);

/* "https://127.0.0.1:PORT" of relay (g_free). */
char *applet_relay_url(const struct lh_relay *relay);

/*
 * The technician's side: a session pump on ticket's stream to relay (its
 * CA only), with cbs for user.  Fails the test when the stream does not
 * open.
 */
struct ll_session_io *tech_session_open(const struct lh_relay *relay,
					const char *ticket,
					const struct ll_session_io_cbs *cbs,
					void *user);

/* Sends the technician's hello (name may be NULL) and the request of
 * caps with id 1. */
void tech_hello_request(struct ll_session_io *io, const char *name,
			uint32_t caps);

#endif
