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

#endif
