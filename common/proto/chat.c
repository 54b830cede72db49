/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The chat's lines (ll_chat.h): a ring of sanitised lines and the peer's
 * token bucket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ll_chat.h"
#include "ll_err.h"

struct ll_chat_log {
	struct ll_chat_line *ring; /* max entries */
	size_t max;
	size_t first; /* index of the oldest */
	size_t n;
	uint64_t next_seq;
	/* the peer's bucket: tokens at bucket_ms */
	unsigned tokens;
	int64_t bucket_ms;
	bool bucket_set;
	uint64_t dropped;
};

static const char *const from_names[] = {
	[LL_CHAT_TECHNICIAN] = "technician",
	[LL_CHAT_USER] = "user",
};

const char *ll_chat_from_name(enum ll_chat_from from)
{
	if ((size_t)from >= sizeof(from_names) / sizeof(from_names[0]))
		return NULL;
	return from_names[from];
}

int ll_chat_from_parse(const char *name)
{
	size_t i;

	for (i = 0;
	     name != NULL && i < sizeof(from_names) / sizeof(from_names[0]);
	     i++)
		if (strcmp(name, from_names[i]) == 0)
			return (int)i;
	return -1;
}

struct ll_chat_log *ll_chat_log_new(size_t max_lines)
{
	struct ll_chat_log *log;

	if (max_lines == 0 || max_lines > LL_CHAT_KEEP)
		max_lines = LL_CHAT_KEEP;
	if ((log = calloc(1, sizeof(*log))) == NULL)
		return NULL;
	if ((log->ring = calloc(max_lines, sizeof(*log->ring))) == NULL) {
		free(log);
		return NULL;
	}
	log->max = max_lines;
	log->next_seq = 1;
	log->tokens = LL_CHAT_BURST;
	return log;
}

void ll_chat_log_free(struct ll_chat_log *log)
{
	size_t i;

	if (log == NULL)
		return;
	for (i = 0; i < log->max; i++)
		free(log->ring[i].text);
	free(log->ring);
	free(log);
}

/* True when the peer may say one more line now (one token taken). */
static bool bucket_take(struct ll_chat_log *log, int64_t mono_ms)
{
	int64_t gained;

	if (!log->bucket_set) {
		log->bucket_set = true;
		log->bucket_ms = mono_ms;
	}
	if (mono_ms > log->bucket_ms) {
		gained = (mono_ms - log->bucket_ms) / LL_CHAT_REFILL_MS;
		if (gained > 0) {
			if (gained >= LL_CHAT_BURST - log->tokens)
				log->tokens = LL_CHAT_BURST;
			else
				log->tokens += (unsigned)gained;
			log->bucket_ms += gained * LL_CHAT_REFILL_MS;
		}
	}
	if (log->tokens == LL_CHAT_BURST)
		log->bucket_ms = mono_ms;
	if (log->tokens == 0)
		return false;
	log->tokens--;
	return true;
}

/* Each '\n'-separated part through the display rule, joined again. */
static char *sanitise(const char *text, size_t len)
{
	char *out = malloc(LL_CHAT_SHOWN_MAX + 1);
	size_t used = 0, part, room;
	const char *nl;

	if (out == NULL)
		return NULL;
	for (;;) {
		nl = memchr(text, '\n', len);
		part = nl != NULL ? (size_t)(nl - text) : len;
		room = LL_CHAT_SHOWN_MAX + 1 - used;
		used += ll_text_printable(out + used, room, text, part);
		if (used >= LL_CHAT_SHOWN_MAX) {
			/* cut at a character boundary by the rule */
			used = strlen(out);
			break;
		}
		if (nl == NULL)
			break;
		out[used++] = '\n';
		out[used] = '\0';
		len -= part + 1;
		text = nl + 1;
	}
	return out;
}

int ll_chat_log_add(struct ll_chat_log *log, enum ll_chat_from from, bool peer,
		    const char *text, size_t len, int64_t wall_ms,
		    int64_t mono_ms, const struct ll_chat_line **out)
{
	struct ll_chat_line *line;
	char *shown;

	if (log == NULL || text == NULL || ll_chat_from_name(from) == NULL)
		return LL_ERR_INVALID_ARG;
	if (len > LL_CONTROL_MAX_CHAT)
		return LL_ERR_TOO_LARGE;
	if (len == 0 || memchr(text, '\0', len) != NULL)
		return LL_ERR_INVALID_ARG;
	if (peer && !bucket_take(log, mono_ms)) {
		log->dropped++;
		return LL_ERR_NO_CREDIT;
	}
	if ((shown = sanitise(text, len)) == NULL)
		return LL_ERR_NOMEM;
	if (log->n == log->max) {
		line = &log->ring[log->first];
		free(line->text);
		log->first = (log->first + 1) % log->max;
		log->n--;
	}
	line = &log->ring[(log->first + log->n) % log->max];
	line->seq = log->next_seq++;
	line->time_ms = wall_ms;
	line->from = from;
	line->text = shown;
	log->n++;
	if (out != NULL)
		*out = line;
	return LL_OK;
}

size_t ll_chat_log_count(const struct ll_chat_log *log)
{
	return log != NULL ? log->n : 0;
}

const struct ll_chat_line *ll_chat_log_get(const struct ll_chat_log *log,
					   size_t i)
{
	if (log == NULL || i >= log->n)
		return NULL;
	return &log->ring[(log->first + i) % log->max];
}

uint64_t ll_chat_log_dropped(const struct ll_chat_log *log)
{
	return log != NULL ? log->dropped : 0;
}

char *ll_chat_line_format(const struct ll_chat_line *line, const char *sender)
{
	char stamp[16] = "??:??:??";
	time_t t = (time_t)(line->time_ms / 1000);
	struct tm tm;
	size_t n = 0, cap;
	const char *p;
	char *out;
	int w;

	if (localtime_r(&t, &tm) != NULL)
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	if (sender == NULL)
		sender = ll_chat_from_name(line->from);
	for (p = line->text; *p != '\0'; p++)
		n += *p == '\n';
	cap = strlen(stamp) + strlen(sender) + strlen(line->text) + 4 * n + 4;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	w = snprintf(out, cap, "%s %s: ", stamp, sender);
	if (w < 0) {
		free(out);
		return NULL;
	}
	n = (size_t)w;
	for (p = line->text; *p != '\0'; p++) {
		out[n++] = *p;
		if (*p == '\n') {
			memcpy(out + n, "    ", 4);
			n += 4;
		}
	}
	out[n] = '\0';
	return out;
}
