/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Token buckets per source address for login and PIN redeem.  The table
 * is bounded: when it is full the least recently used address is
 * forgotten (a forgotten address starts again with a full bucket, which
 * an attacker could get anyway from a fresh address), so memory stays
 * fixed however many addresses knock.
 *
 * IPv6 addresses are limited per /64 (one host usually owns a whole /64)
 * and IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
#ifndef LL_RATELIMIT_H
#define LL_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct ll_ratelimit;

#define LL_RATELIMIT_DEFAULT_ENTRIES 65536
#define LL_RATELIMIT_KEY_MAX 64

/* rate_per_min >= 1, burst >= 1, max_entries >= 1; NULL on bad args or
 * out of memory. */
struct ll_ratelimit *ll_ratelimit_new(int64_t rate_per_min, int64_t burst,
				      size_t max_entries);
void ll_ratelimit_free(struct ll_ratelimit *rl);

/* Changes rate and burst (config reload); existing buckets keep their
 * tokens, capped at the new burst.  LL_ERR_INVALID_ARG on bad values. */
int ll_ratelimit_configure(struct ll_ratelimit *rl, int64_t rate_per_min,
			   int64_t burst);
void ll_ratelimit_get_config(const struct ll_ratelimit *rl,
			     int64_t *rate_per_min, int64_t *burst);

/*
 * Takes one token from the bucket of the address `ip` (textual; anything
 * that does not parse as an address is used verbatim, truncated) at
 * monotonic time now_ms.  LL_OK when allowed; LL_ERR_TOO_LARGE when the
 * bucket is empty, with *retry_after_s (>= 1, whole seconds) set to when
 * the next token will be there.  LL_ERR_INVALID_ARG for NULL arguments.
 */
int ll_ratelimit_take(struct ll_ratelimit *rl, const char *ip, int64_t now_ms,
		      int64_t *retry_after_s);

/* Would ll_ratelimit_take allow ip now?  The same answer, but nothing
 * is taken and no address is added: for a bucket that is charged only
 * by what follows (refusals), checked before the work. */
int ll_ratelimit_peek(const struct ll_ratelimit *rl, const char *ip,
		      int64_t now_ms, int64_t *retry_after_s);

/* Addresses currently tracked (for tests and /metrics). */
size_t ll_ratelimit_count(const struct ll_ratelimit *rl);

/* The bucket key for an address ("192.0.2.1", "2001:db8:1:2::/64"). */
void ll_ratelimit_key(const char *ip, char out[LL_RATELIMIT_KEY_MAX]);

/*
 * Events counted over a sliding window of span_s seconds, one window per
 * key (the failed PIN redeems of an org, key = its id; 0 = relay-wide).
 * Each window has LL_WINDOW_BUCKETS buckets of equal width, so its memory
 * is fixed however many events it counts.  It never under-counts: an event
 * is counted for at least span_s seconds and less than two buckets'
 * widths (about span_s / 31) longer.  Times are Unix seconds; a clock that goes
 * back keeps the events where they are.
 */
#define LL_WINDOW_BUCKETS 64

struct ll_window {
	int64_t key;
	int64_t span_s;  /* the span the buckets were laid out for */
	int64_t width_s; /* seconds per bucket */
	int64_t newest;  /* index (time / width_s) of the newest bucket */
	uint32_t count[LL_WINDOW_BUCKETS]; /* by index % LL_WINDOW_BUCKETS */
	unsigned flags;                    /* the owner's, untouched here */
};
struct ll_windows;

struct ll_windows *ll_windows_new(void);
void ll_windows_free(struct ll_windows *ws);
/* The window of key; an empty one is made when create and there is none
 * (NULL when not, or out of memory).  Valid until ll_windows_free. */
struct ll_window *ll_windows_get(struct ll_windows *ws, int64_t key,
				 bool create);
/* Calls fn for every window, in no particular order. */
void ll_windows_foreach(struct ll_windows *ws,
			void (*fn)(struct ll_window *w, void *user),
			void *user);

/* Counts one event at now.  A new span_s (a reloaded configuration) keeps
 * every event counted so far, in the newest bucket. */
void ll_window_add(struct ll_window *w, int64_t span_s, int64_t now);
/* Events within the window ending at now. */
uint64_t ll_window_count(struct ll_window *w, int64_t span_s, int64_t now);
/* Whole seconds (>= 1) until fewer than limit events are in the window,
 * or 0 when that is already so. */
int64_t ll_window_retry_after(struct ll_window *w, int64_t span_s, int64_t now,
			      uint64_t limit);

#endif
