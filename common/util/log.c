/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ll_log.h"

#include <stdarg.h>
#include <stdio.h>

static enum ll_log_level max_level = LL_LOG_INFO;
static const char *ident = "lifeline";

void ll_log_set_level(enum ll_log_level level)
{
	max_level = level;
}

void ll_log_set_ident(const char *new_ident)
{
	ident = new_ident ? new_ident : "lifeline";
}

void ll_log(enum ll_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info",
					     "debug" };
	char line[1024];
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line so concurrent writers do not interleave. */
	fprintf(stderr, "%s: %s: %s\n", ident,
		names[level <= LL_LOG_DEBUG ? level : LL_LOG_DEBUG], line);
}
