/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A session's chat (docs/API.md, "Chat"), the same on both sides: the
 * lines said so far, each with its sender and time, kept for the window,
 * the viewer's pane and the CLI.  Sans-I/O: the caller gives the clocks.
 *
 * What it guarantees, whatever the peer sends:
 *   - memory is bounded: at most max_lines lines (the oldest go first),
 *     each at most LL_CHAT_SHOWN_MAX bytes;
 *   - a line's text is fit to show: split on '\n', each part through the
 *     display rule of ll_text.h (controls, bidi overrides and invisible
 *     format characters become U+FFFD), joined again with '\n' (the only
 *     control a stored line holds);
 *   - the peer cannot flood: its lines pass a token bucket
 *     (LL_CHAT_BURST lines at once, one more each LL_CHAT_REFILL_MS);
 *     beyond it a line is dropped with LL_ERR_NO_CREDIT, and the caller
 *     tells the peer once (control error "chat_flood").  Our own lines
 *     are not limited.
 */
#ifndef LL_CHAT_H
#define LL_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ll_control.h"
#include "ll_text.h"

/* Lines a session keeps in memory (the transcript, if the org keeps
 * one, is on the relay). */
#define LL_CHAT_KEEP 100u
/* The longest stored text: a whole message sanitised, uncut. */
#define LL_CHAT_SHOWN_MAX (LL_TEXT_PRINTABLE_SIZE(LL_CONTROL_MAX_CHAT) - 1)
#define LL_CHAT_BURST 20u
#define LL_CHAT_REFILL_MS 500

/* Who said it; also the name the relay's transcript uses. */
enum ll_chat_from {
	LL_CHAT_TECHNICIAN = 0,
	LL_CHAT_USER,
};
/* "technician", "user"; NULL for anything else. */
const char *ll_chat_from_name(enum ll_chat_from from);
/* The value for a name; -1 when it is neither. */
int ll_chat_from_parse(const char *name);

struct ll_chat_line {
	uint64_t seq;    /* 1, 2, ... in the order said */
	int64_t time_ms; /* wall clock, ms since the epoch */
	enum ll_chat_from from;
	char *text; /* sanitised as above */
};

struct ll_chat_log;

/* max_lines 1..LL_CHAT_KEEP (0: LL_CHAT_KEEP).  NULL without memory. */
struct ll_chat_log *ll_chat_log_new(size_t max_lines);
void ll_chat_log_free(struct ll_chat_log *log);

/*
 * Checks text[0..len) as a chat message (1..LL_CONTROL_MAX_CHAT bytes,
 * no NUL: LL_ERR_TOO_LARGE, LL_ERR_INVALID_ARG) and, for a line from the
 * peer (peer true), the flood limit (LL_ERR_NO_CREDIT, at monotonic time
 * mono_ms), then keeps it sanitised, said at wall_ms.  *out (may be
 * NULL) points at the kept line, valid until the next add or free.
 * LL_ERR_NOMEM.  Nothing is kept on error.
 */
int ll_chat_log_add(struct ll_chat_log *log, enum ll_chat_from from, bool peer,
		    const char *text, size_t len, int64_t wall_ms,
		    int64_t mono_ms, const struct ll_chat_line **out);

/* Lines kept, oldest first: index 0..count-1. */
size_t ll_chat_log_count(const struct ll_chat_log *log);
const struct ll_chat_line *ll_chat_log_get(const struct ll_chat_log *log,
					   size_t i);
/* Lines the flood limit dropped so far. */
uint64_t ll_chat_log_dropped(const struct ll_chat_log *log);

/*
 * "HH:MM:SS SENDER: TEXT" in local time, every further line of the text
 * indented by four spaces (caller frees).  sender NULL: the role's name.
 * NULL without memory.
 */
char *ll_chat_line_format(const struct ll_chat_line *line, const char *sender);

#endif
