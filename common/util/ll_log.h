/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging to stderr (journald picks it up).  Secrets (passwords, tokens,
 * tickets, PINs, clipboard, file contents) are never passed here: log
 * ids and outcomes, not values.
 */
#ifndef LL_LOG_H
#define LL_LOG_H

enum ll_log_level {
	LL_LOG_ERROR = 0,
	LL_LOG_WARN = 1,
	LL_LOG_INFO = 2,
	LL_LOG_DEBUG = 3,
};

/* Messages above this level are dropped.  Default LL_LOG_INFO. */
void ll_log_set_level(enum ll_log_level level);
/* Program name printed in front of each line (not copied: pass a literal). */
void ll_log_set_ident(const char *ident);

void ll_log(enum ll_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define ll_error(...) ll_log(LL_LOG_ERROR, __VA_ARGS__)
#define ll_warn(...) ll_log(LL_LOG_WARN, __VA_ARGS__)
#define ll_info(...) ll_log(LL_LOG_INFO, __VA_ARGS__)
#define ll_debug(...) ll_log(LL_LOG_DEBUG, __VA_ARGS__)

#endif
