/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers every module uses: ownership macros, time, overflow. */
#ifndef LL_UTIL_H
#define LL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>

#include "ll_err.h"
#include "ll_log.h"

#define LL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Free and clear a pointer in one step (Tor's FREE_AND_NULL). */
#define LL_FREE_AND_NULL(freefn, p)                                           \
	do {                                                                  \
		freefn(p);                                                    \
		(p) = NULL;                                                   \
	} while (0)

/*
 * __attribute__((cleanup)) helpers: `LL_AUTOFREE char *s = malloc(..)`
 * frees at scope exit.  GTK code uses g_autoptr instead.
 */
void ll_autofree_cleanup(void *pp);
#define LL_AUTOFREE __attribute__((cleanup(ll_autofree_cleanup)))

/* Checked size arithmetic: return false on overflow, *out untouched. */
static inline bool ll_size_add(size_t a, size_t b, size_t *out)
{
	if (a > SIZE_MAX - b)
		return false;
	*out = a + b;
	return true;
}

static inline bool ll_size_mul(size_t a, size_t b, size_t *out)
{
	if (a != 0 && b > SIZE_MAX / a)
		return false;
	*out = a * b;
	return true;
}

/*
 * Touches every page of a fresh allocation now, so that the kernel maps
 * (and zeroes) them here rather than on the first write, which for a
 * framebuffer would be the first frame, while someone waits for it.  The
 * writes are volatile: a compiler may drop a memset of calloc'd memory.
 */
static inline void ll_prefault(void *p, size_t len)
{
	volatile unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i += 4096)
		b[i] = 0;
}

/*
 * The two ends of a session, one enum for every layer: the mux's channel
 * parity (the agent opens even ids, the applet odd ones), the control
 * hello's role, the relay's pairing and the store's tickets.  The numbers
 * never reach the wire: the mux derives parity from them, the hello says
 * "agent" or "applet" (ll_side_name), the store has a column per side.
 */
enum ll_side {
	LL_SIDE_AGENT = 0,  /* the technician's console */
	LL_SIDE_APPLET = 1, /* the end user's applet */
};
#define LL_SIDE_COUNT 2
/* "agent", "applet"; NULL for a value outside the enum. */
const char *ll_side_name(enum ll_side side);
/* LL_OK and *out set for "agent" or "applet", else LL_ERR_INVALID_ARG
 * (*out untouched). */
int ll_side_from_name(const char *name, enum ll_side *out);

/*
 * A PIN is LL_PIN_MIN_DIGITS to LL_PIN_MAX_DIGITS ASCII digits; each org
 * chooses its length (policy pin_length, docs/API.md).  The relay that
 * makes and redeems PINs, the client that parses them and the applet
 * that reads what the user typed all check them with this one rule.
 */
#define LL_PIN_MIN_DIGITS 6
#define LL_PIN_MAX_DIGITS 10
/* True if s is 6..10 ASCII digits and nothing else. */
bool ll_pin_well_formed(const char *s);

/*
 * A channel credential (docs/SECURITY.md, "Channel credentials"):
 * "llch1_" and the unpadded base64url of the channel's 16-byte handle
 * followed by a 32-byte MAC, 70 characters in all.  The relay derives it
 * (ll_channel_credential_new, ll_auth.h); the applet checks its shape
 * with this one rule before it sends it anywhere.
 */
#define LL_CHANNEL_CREDENTIAL_PREFIX "llch1_"
#define LL_CHANNEL_HANDLE_LEN 16
#define LL_CHANNEL_CREDENTIAL_LEN 70
/* True if s has the shape of a channel credential. */
bool ll_channel_credential_well_formed(const char *s);

/* Wall clock, seconds since the epoch. */
int64_t ll_now_unix(void);
/*
 * Test builds only (meson -Dtest_hooks=true; not defined otherwise, so a
 * call outside `#if LL_TEST_HOOKS` does not link): from now on
 * ll_now_unix() adds the signed whole seconds written in the file at
 * path, read again at every call, so a test moves this process's wall
 * clock by rewriting the file (atomically, by rename).  Monotonic time
 * is not moved.  LL_ERR_IO or LL_ERR_MALFORMED when it cannot be read.
 */
int ll_test_clock_use(const char *path);
/* Monotonic clock in milliseconds (for timeouts and rate limits). */
int64_t ll_now_mono_ms(void);
/* RFC 3339 UTC ("2026-11-26T23:51:52Z") into buf (>= 21 bytes). */
void ll_format_rfc3339(int64_t unix_seconds, char *buf, size_t bufsize);
/* Parse RFC 3339 (Z or +hh:mm offset); LL_ERR_MALFORMED on bad input. */
int ll_parse_rfc3339(const char *text, int64_t *unix_seconds);

#endif
