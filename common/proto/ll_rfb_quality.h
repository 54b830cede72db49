/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How lossy the screen may be: the agent's choice of Tight's JPEG quality
 * and compression level from the link it measures (sans-I/O: the caller
 * feeds the times and byte counts, nothing here reads a clock or a
 * socket).
 *
 * The picture's bytes from the applet arrive in chunks on channel 1.  A
 * chunk that follows the previous one closely was queued behind it on
 * the link, so its size over the gap between them is a sample of the
 * link's rate (a chunk after a pause says nothing and is skipped).  Once
 * a second, the median of the window's samples picks the best band of
 * the table (rfb_quality.c) whose rate it reaches and whose round trip
 * limit the last known round trip keeps.  A quiet window (too few
 * samples: nothing moves) changes nothing.  Hysteresis: a worse band is
 * taken after one window below the current band's rate, a better one
 * only after LL_RFB_QUALITY_UP_WINDOWS windows at LL_RFB_QUALITY_UP_MARGIN
 * percent of its rate, so that a link at a band's edge does not make the
 * picture flicker between two qualities.
 *
 * The lossless picture comes back when motion stops: the applet resends
 * what it sent as JPEG once it has been still for a while
 * (applet/rfb_server.c, "lossless refresh"), whatever band is chosen.
 */
#ifndef LL_RFB_QUALITY_H
#define LL_RFB_QUALITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A band is sent as ll_rfb_filter.h's LL_RFB_ENC_QUALITY_FIRST + quality
 * and LL_RFB_ENC_COMPRESS_FIRST + compress. */
#include "ll_rfb_filter.h"

#define LL_RFB_QUALITY_WINDOW_MS 1000
/* A chunk smaller than this is mostly overhead: not a rate sample. */
#define LL_RFB_QUALITY_MIN_CHUNK 2048
/* A chunk later than this after the previous one followed a pause. */
#define LL_RFB_QUALITY_MAX_GAP_MS 150
#define LL_RFB_QUALITY_MIN_SAMPLES 4
#define LL_RFB_QUALITY_MAX_SAMPLES 256
#define LL_RFB_QUALITY_UP_WINDOWS 3
#define LL_RFB_QUALITY_UP_MARGIN 125

struct ll_rfb_band {
	const char *name;
	uint64_t min_Bps;    /* link rate (bytes/s) this band needs */
	uint32_t max_rtt_ms; /* 0: any round trip */
	int quality;         /* Tight JPEG quality level, 0..9 */
	int compress;        /* Tight compression level, 0..9 */
};

struct ll_rfb_quality {
	int64_t win_start_us;
	int64_t last_chunk_us; /* -1: none yet */
	uint64_t samples[LL_RFB_QUALITY_MAX_SAMPLES];
	size_t nsamples;
	int64_t rtt_ms; /* -1: unknown */
	size_t band;    /* index into the table */
	unsigned up_windows;
	uint64_t rate_Bps; /* the last window's estimate, 0: none */
};

/* The bands, best first, and how many there are. */
const struct ll_rfb_band *ll_rfb_quality_bands(size_t *n);

/* Starts at the table's default band (the second: a link is not assumed
 * fast before it was measured). */
void ll_rfb_quality_init(struct ll_rfb_quality *q, int64_t now_us);

/* n bytes of the picture arrived at now_us (monotonic).  True when the
 * band changed: the client sends SetEncodings again. */
bool ll_rfb_quality_bytes(struct ll_rfb_quality *q, int64_t now_us, size_t n);

/* A round trip measured on the session (ms; negative: unknown).  Taken
 * into account at the next window's decision. */
void ll_rfb_quality_rtt(struct ll_rfb_quality *q, int64_t rtt_ms);

const struct ll_rfb_band *ll_rfb_quality_band(const struct ll_rfb_quality *q);

#endif
