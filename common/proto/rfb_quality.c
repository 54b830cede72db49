/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's Tight quality policy (see ll_rfb_quality.h): one table of
 * bands, a rate estimate from the picture's own bytes, hysteresis.
 */
#include <stdlib.h>
#include <string.h>

#include "ll_rfb_quality.h"

/*
 * Best first.  The rates are what the link must carry for a 640x360
 * region moving at 15-30 frames/s at that quality (libvncserver's JPEG
 * at Tight levels 8/6/4/2 is about 0.9/0.5/0.3/0.2 bytes a pixel on
 * photographic content, bench/results/screen-tight.md).  Text and flat
 * areas go as Tight's lossless palette and zlib rectangles at any band;
 * only many-coloured areas become JPEG.  With JPEG on libvncserver uses
 * compression levels 1-2 only (higher levels cost CPU for nothing).
 */
static const struct ll_rfb_band bands[] = {
	{ "lan", 12000000, 20, 8, 1 },
	{ "broadband", 4000000, 60, 6, 1 },
	{ "dsl", 700000, 0, 4, 2 },
	{ "slow", 0, 0, 2, 2 },
};

#define DEFAULT_BAND 1

const struct ll_rfb_band *ll_rfb_quality_bands(size_t *n)
{
	if (n != NULL)
		*n = sizeof(bands) / sizeof(bands[0]);
	return bands;
}

void ll_rfb_quality_init(struct ll_rfb_quality *q, int64_t now_us)
{
	memset(q, 0, sizeof(*q));
	q->win_start_us = now_us;
	q->last_chunk_us = -1;
	q->rtt_ms = -1;
	q->band = DEFAULT_BAND;
}

void ll_rfb_quality_rtt(struct ll_rfb_quality *q, int64_t rtt_ms)
{
	q->rtt_ms = rtt_ms < 0 ? -1 : rtt_ms;
}

const struct ll_rfb_band *ll_rfb_quality_band(const struct ll_rfb_quality *q)
{
	return &bands[q->band];
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool rtt_fits(const struct ll_rfb_quality *q, size_t i)
{
	return bands[i].max_rtt_ms == 0 || q->rtt_ms < 0 ||
	       q->rtt_ms <= (int64_t)bands[i].max_rtt_ms;
}

/* The best band a link of `rate` and the known round trip can carry. */
static size_t band_for(const struct ll_rfb_quality *q, uint64_t rate)
{
	size_t i, n = sizeof(bands) / sizeof(bands[0]);

	for (i = 0; i + 1 < n; i++) {
		if (rate >= bands[i].min_Bps && rtt_fits(q, i))
			return i;
	}
	return n - 1;
}

/* The window's verdict; true when the band changed. */
static bool decide(struct ll_rfb_quality *q)
{
	size_t target, better;

	if (q->nsamples < LL_RFB_QUALITY_MIN_SAMPLES)
		return false; /* quiet: nothing moved, nothing learned */
	qsort(q->samples, q->nsamples, sizeof(q->samples[0]), cmp_u64);
	q->rate_Bps = q->samples[q->nsamples / 2];
	target = band_for(q, q->rate_Bps);
	if (target > q->band) {
		/* Frames queue up now: lower the quality at once. */
		q->band = target;
		q->up_windows = 0;
		return true;
	}
	if (target == q->band) {
		q->up_windows = 0;
		return false;
	}
	/* Better, one step at a time, with a margin, after a while. */
	better = q->band - 1;
	if (q->rate_Bps / LL_RFB_QUALITY_UP_MARGIN <
	    bands[better].min_Bps / 100) {
		q->up_windows = 0;
		return false;
	}
	if (++q->up_windows < LL_RFB_QUALITY_UP_WINDOWS)
		return false;
	q->band = better;
	q->up_windows = 0;
	return true;
}

bool ll_rfb_quality_bytes(struct ll_rfb_quality *q, int64_t now_us, size_t n)
{
	bool changed = false;
	int64_t gap;

	if (now_us - q->win_start_us >= LL_RFB_QUALITY_WINDOW_MS * 1000) {
		changed = decide(q);
		q->nsamples = 0;
		q->win_start_us = now_us;
	}
	gap = q->last_chunk_us < 0 ? -1 : now_us - q->last_chunk_us;
	q->last_chunk_us = now_us;
	if (gap < 0 || gap > LL_RFB_QUALITY_MAX_GAP_MS * 1000 ||
	    n < LL_RFB_QUALITY_MIN_CHUNK ||
	    q->nsamples >= LL_RFB_QUALITY_MAX_SAMPLES)
		return changed;
	/* Two chunks in one read are no faster than the clock can tell:
	 * 100 us is the finest gap believed. */
	if (gap < 100)
		gap = 100;
	q->samples[q->nsamples++] = (uint64_t)n * 1000000u / (uint64_t)gap;
	return changed;
}
