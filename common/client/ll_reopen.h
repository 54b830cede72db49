/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Coming back after a lost stream, for a GLib main loop (issue 9.2): runs
 * the blocking ll_stream_reopen (ll_stream.h) in a thread of its own and
 * hands the outcome back on a GMainContext, so the applet's and the
 * agent's UIs never wait for a relay.  One home for the worker, shared by
 * the applet, the agent's session window and the CLI holder
 * (docs/ARCHITECTURE.md, flow 6).
 *
 * Threading: ll_reopen_start and ll_reopen_free from the thread that runs
 * context; done runs there too.
 */
#ifndef LL_REOPEN_H
#define LL_REOPEN_H

#include <stdint.h>

#include <glib.h>

#include "ll_api_client.h"

struct ll_stream;
struct ll_reopen;

/*
 * The outcome, once.  On success (err LL_OK) stream is the callee's to
 * keep (ll_session_io_new or ll_stream_free).  On failure stream is NULL
 * and cerr says what the last try met (for the log).  tries: attempts.
 */
typedef void (*ll_reopen_done_fn)(int err, struct ll_stream *stream,
				  const struct ll_client_error *cerr,
				  unsigned tries, void *user);

/*
 * Starts reopening the side's stream with its own ticket (copied, wiped
 * when done) until deadline_ms (ll_now_mono_ms) at the relay of relay
 * (copied).  path NULL = the default stream path.  context NULL = the
 * thread-default context.  NULL only without memory.
 */
struct ll_reopen *ll_reopen_start(const struct ll_relay_opts *relay,
				  const char *path, const char *ticket,
				  int64_t deadline_ms, GMainContext *context,
				  ll_reopen_done_fn done, void *user);

/*
 * Cancels: done is never called after this returns.  The worker stops
 * between tries or within 100 ms of a wait (a try under way is bounded
 * by the relay options' timeouts) and cleans up by itself.  NULL ok.
 */
void ll_reopen_free(struct ll_reopen *r);

#endif
