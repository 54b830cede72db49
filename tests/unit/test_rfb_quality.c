/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Tight quality policy (common/proto/ll_rfb_quality.h). */
#include <string.h>

#include <glib.h>

#include "ll_rfb_quality.h"

/* A simulated link: `secs` seconds of motion, chunks of `chunk` bytes
 * back to back at `Bps`, from *t on; returns how often the band
 * changed. */
static unsigned run(struct ll_rfb_quality *q, int64_t *t, uint64_t Bps,
		    size_t chunk, double secs)
{
	int64_t end = *t + (int64_t)(secs * 1e6);
	int64_t step = (int64_t)((uint64_t)chunk * 1000000u / Bps);
	unsigned changes = 0;

	if (step < 1)
		step = 1;
	while (*t < end) {
		*t += step;
		changes += ll_rfb_quality_bytes(q, *t, chunk);
	}
	return changes;
}

static const char *band(const struct ll_rfb_quality *q)
{
	return ll_rfb_quality_band(q)->name;
}

/* Best first: rates fall, so do qualities; the last takes any link. */
static void test_table(void)
{
	const struct ll_rfb_band *b;
	size_t n, i;

	b = ll_rfb_quality_bands(&n);
	g_assert_cmpuint(n, >=, 2);
	for (i = 0; i < n; i++) {
		g_assert_cmpint(b[i].quality, >=, 0);
		g_assert_cmpint(b[i].quality, <=, 9);
		g_assert_cmpint(b[i].compress, >=, 0);
		g_assert_cmpint(b[i].compress, <=, 9);
		if (i > 0) {
			g_assert_cmpuint(b[i].min_Bps, <, b[i - 1].min_Bps);
			g_assert_cmpint(b[i].quality, <, b[i - 1].quality);
		}
	}
	g_assert_cmpuint(b[n - 1].min_Bps, ==, 0);
}

/* Loopback: up from the default, one band per UP_WINDOWS windows. */
static void test_loopback(void)
{
	struct ll_rfb_quality q;
	int64_t t = 1000000;

	ll_rfb_quality_init(&q, t);
	g_assert_cmpstr(band(&q), ==, "broadband");
	/* Not before the third window that asks for it. */
	run(&q, &t, 200000000, 65536, 2.5);
	g_assert_cmpstr(band(&q), ==, "broadband");
	g_assert_cmpuint(run(&q, &t, 200000000, 65536, 2), ==, 1);
	g_assert_cmpstr(band(&q), ==, "lan");
	g_assert_cmpuint(q.rate_Bps, >, 100000000);
	g_assert_cmpint(ll_rfb_quality_band(&q)->quality, ==, 8);
}

/* 8 Mbit/s: down in the first window, and it stays there. */
static void test_8mbit(void)
{
	struct ll_rfb_quality q;
	int64_t t = 0;

	ll_rfb_quality_init(&q, t);
	g_assert_cmpuint(run(&q, &t, 1000000, 16384, 1.1), ==, 1);
	g_assert_cmpstr(band(&q), ==, "dsl");
	g_assert_cmpuint(run(&q, &t, 1000000, 16384, 10), ==, 0);
	g_assert_cmpstr(band(&q), ==, "dsl");
	g_assert_cmpint(ll_rfb_quality_band(&q)->quality, <, 6);
}

/* 50 Mbit/s: the default band is right; 1.6 Mbit/s: the slowest. */
static void test_middle_and_slow(void)
{
	struct ll_rfb_quality q;
	int64_t t = 0;

	ll_rfb_quality_init(&q, t);
	g_assert_cmpuint(run(&q, &t, 6250000, 16384, 10), ==, 0);
	g_assert_cmpstr(band(&q), ==, "broadband");
	ll_rfb_quality_init(&q, t);
	run(&q, &t, 200000, 4096, 2.1);
	g_assert_cmpstr(band(&q), ==, "slow");
}

/* Hysteresis: a link just above the better band's rate but inside the
 * margin does not go up; a fast one falls back at once when it slows. */
static void test_hysteresis(void)
{
	struct ll_rfb_quality q;
	int64_t t = 0;

	ll_rfb_quality_init(&q, t);
	g_assert_cmpuint(run(&q, &t, 13000000, 65536, 10), ==, 0);
	g_assert_cmpstr(band(&q), ==, "broadband");
	/* Up, then alternating windows above and below: down follows the
	 * slow window, up needs three good ones in a row. */
	run(&q, &t, 100000000, 65536, 4.1);
	g_assert_cmpstr(band(&q), ==, "lan");
	run(&q, &t, 5000000, 16384, 1.1);
	g_assert_cmpstr(band(&q), ==, "broadband");
	for (int i = 0; i < 4; i++) {
		run(&q, &t, 100000000, 65536, 1);
		run(&q, &t, 5000000, 16384, 1.5);
	}
	g_assert_cmpstr(band(&q), ==, "broadband");
}

/* Nothing moving (small chunks, pauses) teaches nothing: the band stays,
 * whatever the chunks' timing suggests. */
static void test_quiet(void)
{
	struct ll_rfb_quality q;
	int64_t t = 0;
	int i;

	ll_rfb_quality_init(&q, t);
	/* A big chunk every 200 ms: each after a pause, none a sample. */
	for (i = 0; i < 50; i++) {
		t += 200000;
		g_assert_false(ll_rfb_quality_bytes(&q, t, 100000));
	}
	/* Small chunks back to back at a crawl: below the sample size. */
	g_assert_cmpuint(run(&q, &t, 10000, 512, 5), ==, 0);
	g_assert_cmpstr(band(&q), ==, "broadband");
	g_assert_cmpuint(q.rate_Bps, ==, 0);
}

/* A long round trip keeps the bands that need a short one away. */
static void test_rtt(void)
{
	struct ll_rfb_quality q;
	int64_t t = 0;

	ll_rfb_quality_init(&q, t);
	ll_rfb_quality_rtt(&q, 100);
	g_assert_cmpuint(run(&q, &t, 200000000, 65536, 1.1), ==, 1);
	g_assert_cmpstr(band(&q), ==, "dsl");
	/* The round trip shrinks: up again, step by step. */
	ll_rfb_quality_rtt(&q, 1);
	run(&q, &t, 200000000, 65536, 7);
	g_assert_cmpstr(band(&q), ==, "lan");
	/* Unknown again: no limit from it. */
	ll_rfb_quality_rtt(&q, -5);
	g_assert_cmpint(q.rtt_ms, ==, -1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rfb_quality/table", test_table);
	g_test_add_func("/rfb_quality/loopback", test_loopback);
	g_test_add_func("/rfb_quality/8mbit", test_8mbit);
	g_test_add_func("/rfb_quality/middle-and-slow", test_middle_and_slow);
	g_test_add_func("/rfb_quality/hysteresis", test_hysteresis);
	g_test_add_func("/rfb_quality/quiet", test_quiet);
	g_test_add_func("/rfb_quality/rtt", test_rtt);
	return g_test_run();
}
