/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One side of the shared clipboard (issue 13, `clipboard`), the same in
 * the applet and the agent's viewer: watches the desktop's CLIPBOARD
 * selection and hands each new text copied here to `send`, and puts the
 * other side's text on it.  Text only; nothing crosses while it is off;
 * what was on the clipboard when it was switched on stays here (only
 * what is copied afterwards crosses); the text that came from the other
 * side is not sent back to it.  The text is never logged here: `send`
 * gets it, and its callers log sizes only.
 */
#ifndef LL_CLIPSYNC_H
#define LL_CLIPSYNC_H

#include <stdbool.h>
#include <stddef.h>

#include <gtk/gtk.h>

struct ll_clipsync;

/* text: NUL-terminated UTF-8, len bytes (> 0), valid during the call. */
typedef void (*ll_clipsync_send_fn)(const char *text, size_t len, void *user);

/* Off at first.  display NULL: the default display. */
struct ll_clipsync *ll_clipsync_new(GdkDisplay *display,
				    ll_clipsync_send_fn send, void *user);
/* Stops at once: a text asked for before and arriving after is dropped,
 * and `send` is never called after this.  NULL ok. */
void ll_clipsync_free(struct ll_clipsync *c);

/* On: texts copied from now on are sent.  Off: nothing crosses, the
 * remembered last text is wiped. */
void ll_clipsync_set_enabled(struct ll_clipsync *c, bool on);
bool ll_clipsync_enabled(const struct ll_clipsync *c);
/* The other side's text: put on the clipboard here, only while on; false
 * (nothing done) while off. */
bool ll_clipsync_set_remote(struct ll_clipsync *c, const char *text);

#endif
