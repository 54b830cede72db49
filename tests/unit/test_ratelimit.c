/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The relay's per-address token buckets (common/relay/ratelimit.c). */
#include <string.h>

#include <glib.h>

#include "ll_err.h"
#include "ll_ratelimit.h"

static void take_ok(struct ll_ratelimit *rl, const char *ip, int64_t now)
{
	int64_t retry = -1;

	g_assert_cmpint(ll_ratelimit_take(rl, ip, now, &retry), ==, LL_OK);
	g_assert_cmpint(retry, ==, -1); /* untouched on success */
}

static int64_t take_refused(struct ll_ratelimit *rl, const char *ip,
			    int64_t now)
{
	int64_t retry = -1;

	g_assert_cmpint(ll_ratelimit_take(rl, ip, now, &retry), ==,
			LL_ERR_TOO_LARGE);
	g_assert_cmpint(retry, >=, 1);
	return retry;
}

static void test_burst_then_refuse(void)
{
	struct ll_ratelimit *rl = ll_ratelimit_new(30, 5, 16);
	int i;

	g_assert_nonnull(rl);
	for (i = 0; i < 5; i++)
		take_ok(rl, "192.0.2.1", 1000);
	/* 30 per minute: one token every 2 s */
	g_assert_cmpint(take_refused(rl, "192.0.2.1", 1000), ==, 2);
	/* a refused request does not consume anything */
	g_assert_cmpint(take_refused(rl, "192.0.2.1", 1000), ==, 2);
	ll_ratelimit_free(rl);
}

static void test_refill(void)
{
	struct ll_ratelimit *rl = ll_ratelimit_new(60, 2, 16);

	take_ok(rl, "198.51.100.7", 0);
	take_ok(rl, "198.51.100.7", 0);
	g_assert_cmpint(take_refused(rl, "198.51.100.7", 0), ==, 1);
	/* 0.5 s later half a token: still refused, retry rounds up to 1 */
	g_assert_cmpint(take_refused(rl, "198.51.100.7", 500), ==, 1);
	take_ok(rl, "198.51.100.7", 1000);
	g_assert_cmpint(take_refused(rl, "198.51.100.7", 1000), ==, 1);
	/* a long pause refills only up to the burst */
	take_ok(rl, "198.51.100.7", 3600 * 1000);
	take_ok(rl, "198.51.100.7", 3600 * 1000);
	take_refused(rl, "198.51.100.7", 3600 * 1000);
	ll_ratelimit_free(rl);
}

static void test_retry_after_rounds_up(void)
{
	/* 7 per minute: 8.57 s per token -> Retry-After 9 */
	struct ll_ratelimit *rl = ll_ratelimit_new(7, 1, 4);

	take_ok(rl, "203.0.113.9", 0);
	g_assert_cmpint(take_refused(rl, "203.0.113.9", 0), ==, 9);
	g_assert_cmpint(take_refused(rl, "203.0.113.9", 8000), ==, 1);
	take_ok(rl, "203.0.113.9", 8600);
	ll_ratelimit_free(rl);
}

static void test_addresses_independent(void)
{
	struct ll_ratelimit *rl = ll_ratelimit_new(10, 1, 16);

	take_ok(rl, "192.0.2.1", 0);
	take_refused(rl, "192.0.2.1", 0);
	take_ok(rl, "192.0.2.2", 0);
	take_ok(rl, "2001:db8::1", 0);
	g_assert_cmpuint(ll_ratelimit_count(rl), ==, 3);
	ll_ratelimit_free(rl);
}

static void test_ipv6_per_64_and_mapped(void)
{
	struct ll_ratelimit *rl = ll_ratelimit_new(10, 1, 16);
	char key[LL_RATELIMIT_KEY_MAX];

	ll_ratelimit_key("2001:db8:1:2:aaaa::1", key);
	g_assert_cmpstr(key, ==, "2001:db8:1:2::/64");
	ll_ratelimit_key("::ffff:192.0.2.5", key);
	g_assert_cmpstr(key, ==, "192.0.2.5");
	ll_ratelimit_key("192.0.2.5", key);
	g_assert_cmpstr(key, ==, "192.0.2.5");

	/* two hosts of one /64 share a bucket */
	take_ok(rl, "2001:db8:1:2::10", 0);
	take_refused(rl, "2001:db8:1:2:ffff:ffff:ffff:ffff", 0);
	/* another /64 does not */
	take_ok(rl, "2001:db8:1:3::10", 0);
	/* IPv4-mapped counts as the IPv4 address */
	take_ok(rl, "192.0.2.5", 0);
	take_refused(rl, "::ffff:192.0.2.5", 0);
	ll_ratelimit_free(rl);
}

static void test_table_bounded_lru(void)
{
	struct ll_ratelimit *rl = ll_ratelimit_new(1, 1, 4);
	char ip[32];
	int i;

	for (i = 0; i < 4; i++) {
		g_snprintf(ip, sizeof(ip), "10.0.0.%d", i);
		take_ok(rl, ip, 0);
	}
	g_assert_cmpuint(ll_ratelimit_count(rl), ==, 4);
	/* touch 10.0.0.0 so that 10.0.0.1 is now the least recently used */
	take_refused(rl, "10.0.0.0", 1);
	take_ok(rl, "10.0.0.200", 2);
	g_assert_cmpuint(ll_ratelimit_count(rl), ==, 4);
	/* the recently used one kept its empty bucket ... */
	take_refused(rl, "10.0.0.0", 3);
	/* ... the evicted one starts afresh */
	take_ok(rl, "10.0.0.1", 4);
	/* a flood of addresses never grows the table */
	for (i = 0; i < 1000; i++) {
		g_snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 256, i % 256);
		take_ok(rl, ip, 5);
	}
	g_assert_cmpuint(ll_ratelimit_count(rl), ==, 4);
	ll_ratelimit_free(rl);
}

static void test_configure(void)
{
	struct ll_ratelimit *rl = ll_ratelimit_new(60, 10, 8);
	int64_t rate = 0, burst = 0;

	take_ok(rl, "192.0.2.1", 0);
	g_assert_cmpint(ll_ratelimit_configure(rl, 120, 2), ==, LL_OK);
	ll_ratelimit_get_config(rl, &rate, &burst);
	g_assert_cmpint(rate, ==, 120);
	g_assert_cmpint(burst, ==, 2);
	/* 9 tokens left were capped at the new burst of 2 */
	take_ok(rl, "192.0.2.1", 0);
	take_ok(rl, "192.0.2.1", 0);
	take_refused(rl, "192.0.2.1", 0);
	g_assert_cmpint(ll_ratelimit_configure(rl, 0, 2), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_ratelimit_configure(rl, 10, -1), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_ratelimit_configure(NULL, 10, 1), ==,
			LL_ERR_INVALID_ARG);
	ll_ratelimit_free(rl);
}

static void test_bad_args(void)
{
	struct ll_ratelimit *rl;
	int64_t retry = 42;

	g_assert_null(ll_ratelimit_new(0, 1, 1));
	g_assert_null(ll_ratelimit_new(1, 0, 1));
	g_assert_null(ll_ratelimit_new(1, 1, 0));
	g_assert_null(ll_ratelimit_new(-5, 1, 1));
	rl = ll_ratelimit_new(1, 1, 1);
	g_assert_cmpint(ll_ratelimit_take(rl, NULL, 0, &retry), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_ratelimit_take(rl, "192.0.2.1", 0, NULL), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_ratelimit_take(NULL, "192.0.2.1", 0, &retry), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(retry, ==, 42);
	ll_ratelimit_free(rl);
	ll_ratelimit_free(NULL);
}

static void test_clock_backwards_and_odd_keys(void)
{
	struct ll_ratelimit *rl = ll_ratelimit_new(60, 1, 8);
	char longkey[300], key[LL_RATELIMIT_KEY_MAX];

	take_ok(rl, "192.0.2.1", 10000);
	/* a clock going back gives no refill (and no crash) */
	take_refused(rl, "192.0.2.1", 0);
	take_refused(rl, "192.0.2.1", 10500);
	take_ok(rl, "192.0.2.1", 11000);

	/* not an address: used verbatim, truncated to the key size */
	memset(longkey, 'x', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	ll_ratelimit_key(longkey, key);
	g_assert_cmpuint(strlen(key), ==, LL_RATELIMIT_KEY_MAX - 1);
	take_ok(rl, longkey, 0);
	take_refused(rl, longkey, 0);
	take_ok(rl, "", 0);
	take_ok(rl, "unix:/run/x", 0);
	ll_ratelimit_free(rl);
}

/* peek answers as take would, without taking or adding an address. */
static void test_peek(void)
{
	struct ll_ratelimit *rl = ll_ratelimit_new(60, 2, 16);
	int64_t retry = 0;

	g_assert_cmpint(ll_ratelimit_peek(rl, "192.0.2.1", 0, &retry), ==,
			LL_OK);
	g_assert_cmpuint(ll_ratelimit_count(rl), ==, 0);
	g_assert_cmpint(ll_ratelimit_take(rl, "192.0.2.1", 0, &retry), ==,
			LL_OK);
	g_assert_cmpint(ll_ratelimit_peek(rl, "192.0.2.1", 0, &retry), ==,
			LL_OK);
	g_assert_cmpint(ll_ratelimit_take(rl, "192.0.2.1", 0, &retry), ==,
			LL_OK);
	g_assert_cmpint(ll_ratelimit_peek(rl, "192.0.2.1", 0, &retry), ==,
			LL_ERR_TOO_LARGE);
	g_assert_cmpint(retry, ==, 1);
	/* still empty: peeking took nothing, but gave nothing either */
	g_assert_cmpint(ll_ratelimit_peek(rl, "192.0.2.1", 500, &retry), ==,
			LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_ratelimit_peek(rl, "192.0.2.1", 1000, &retry), ==,
			LL_OK);
	g_assert_cmpint(ll_ratelimit_peek(NULL, "x", 0, &retry), ==,
			LL_ERR_INVALID_ARG);
	ll_ratelimit_free(rl);
}

/* ---- windows ---- */

static void test_window_span(void)
{
	struct ll_window w = { 0 };
	int i;

	/* span 1200 s: 20 s buckets, 61 of them counted */
	for (i = 0; i < 5; i++)
		ll_window_add(&w, 1200, 1000);
	g_assert_cmpuint(ll_window_count(&w, 1200, 1000), ==, 5);
	/* counted for at least the span ... */
	g_assert_cmpuint(ll_window_count(&w, 1200, 1000 + 1199), ==, 5);
	g_assert_cmpuint(ll_window_count(&w, 1200, 2219), ==, 5);
	/* ... and at most two buckets longer */
	g_assert_cmpuint(ll_window_count(&w, 1200, 2220), ==, 0);
	g_assert_cmpuint(ll_window_count(&w, 1200, 1000000), ==, 0);
}

static void test_window_retry_after(void)
{
	struct ll_window w = { 0 };

	ll_window_add(&w, 1200, 0);
	ll_window_add(&w, 1200, 0);
	ll_window_add(&w, 1200, 600);
	ll_window_add(&w, 1200, 600);
	g_assert_cmpint(ll_window_retry_after(&w, 1200, 700, 5), ==, 0);
	/* the two of t=0 leave at 1220 */
	g_assert_cmpint(ll_window_retry_after(&w, 1200, 700, 3), ==, 520);
	g_assert_cmpint(ll_window_retry_after(&w, 1200, 700, 4), ==, 520);
	/* below 1 only once the two of t=600 leave too, at 1820 */
	g_assert_cmpint(ll_window_retry_after(&w, 1200, 700, 1), ==, 1120);
	g_assert_cmpint(ll_window_retry_after(&w, 1200, 1819, 1), ==, 1);
	g_assert_cmpint(ll_window_retry_after(&w, 1200, 1820, 1), ==, 0);
}

/* Against a list of every event: the window counts at least those of the
 * last span_s seconds and at most those of two buckets more. */
static void test_window_bounds_random(void)
{
	static const int64_t spans[] = { 1, 7, 61, 62, 63, 600, 1200, 86400 };
	size_t k;

	for (k = 0; k < G_N_ELEMENTS(spans); k++) {
		int64_t span = spans[k], width = (span + 61) / 62;
		int64_t times[400], t = g_test_rand_int_range(0, 100000);
		struct ll_window w = { 0 };
		int n = 0, i, j;

		for (i = 0; i < 400; i++) {
			uint64_t lo = 0, hi = 0, got;

			t += g_test_rand_int_range(0, (int)(span / 8 + 2));
			if (g_test_rand_bit()) {
				ll_window_add(&w, span, t);
				times[n++] = t;
			}
			got = ll_window_count(&w, span, t);
			for (j = 0; j < n; j++) {
				if (times[j] > t - span)
					lo++;
				if (times[j] > t - span - 2 * width)
					hi++;
			}
			g_assert_cmpuint(got, >=, lo);
			g_assert_cmpuint(got, <=, hi);
		}
	}
}

static void test_window_respan_and_clock(void)
{
	struct ll_window w = { 0 };

	ll_window_add(&w, 1200, 5000);
	ll_window_add(&w, 1200, 5600);
	/* a shorter span (config reload) keeps what was counted */
	g_assert_cmpuint(ll_window_count(&w, 60, 5601), ==, 2);
	g_assert_cmpuint(ll_window_count(&w, 60, 5661), ==, 2);
	g_assert_cmpuint(ll_window_count(&w, 60, 5700), ==, 0);
	/* a clock that goes back keeps the events */
	ll_window_add(&w, 60, 9000);
	g_assert_cmpuint(ll_window_count(&w, 60, 8000), ==, 1);
	g_assert_cmpuint(ll_window_count(&w, 60, 9000), ==, 1);
	g_assert_cmpint(ll_window_retry_after(&w, 60, 9000, 1), >=, 60);
}

static void count_windows(struct ll_window *w, void *user)
{
	int64_t *sum = user;

	*sum += w->key;
}

static void test_windows_per_key(void)
{
	struct ll_windows *ws = ll_windows_new();
	struct ll_window *a, *b;
	int64_t sum = 0;

	g_assert_nonnull(ws);
	g_assert_null(ll_windows_get(ws, 7, false));
	a = ll_windows_get(ws, 7, true);
	b = ll_windows_get(ws, 0, true);
	g_assert_nonnull(a);
	g_assert_nonnull(b);
	g_assert_true(a != b);
	g_assert_true(ll_windows_get(ws, 7, true) == a);
	ll_window_add(a, 100, 10);
	g_assert_cmpuint(ll_window_count(a, 100, 10), ==, 1);
	g_assert_cmpuint(ll_window_count(b, 100, 10), ==, 0);
	ll_windows_foreach(ws, count_windows, &sum);
	g_assert_cmpint(sum, ==, 7);
	ll_windows_free(ws);
	ll_windows_free(NULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ratelimit/burst_then_refuse",
			test_burst_then_refuse);
	g_test_add_func("/ratelimit/refill", test_refill);
	g_test_add_func("/ratelimit/retry_after_rounds_up",
			test_retry_after_rounds_up);
	g_test_add_func("/ratelimit/addresses_independent",
			test_addresses_independent);
	g_test_add_func("/ratelimit/ipv6_per_64_and_mapped",
			test_ipv6_per_64_and_mapped);
	g_test_add_func("/ratelimit/table_bounded_lru",
			test_table_bounded_lru);
	g_test_add_func("/ratelimit/configure", test_configure);
	g_test_add_func("/ratelimit/peek", test_peek);
	g_test_add_func("/ratelimit/bad_args", test_bad_args);
	g_test_add_func("/ratelimit/window-span", test_window_span);
	g_test_add_func("/ratelimit/window-retry-after",
			test_window_retry_after);
	g_test_add_func("/ratelimit/window-bounds-random",
			test_window_bounds_random);
	g_test_add_func("/ratelimit/window-respan-and-clock",
			test_window_respan_and_clock);
	g_test_add_func("/ratelimit/windows-per-key", test_windows_per_key);
	g_test_add_func("/ratelimit/clock_backwards_and_odd_keys",
			test_clock_backwards_and_odd_keys);
	return g_test_run();
}
