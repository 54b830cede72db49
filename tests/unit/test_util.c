/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <string.h>

#include "ll_util.h"

static void test_strerror(void)
{
	for (int e = 0; e > LL_ERR_LAST; e--) {
		const char *m = ll_strerror(e);

		g_assert_nonnull(m);
		g_assert_cmpstr(m, !=, "unknown error");
	}
	g_assert_cmpstr(ll_strerror(1), ==, "unknown error");
	g_assert_cmpstr(ll_strerror(LL_ERR_LAST), ==, "unknown error");
	g_assert_cmpstr(ll_strerror(-1000), ==, "unknown error");
	g_assert_cmpstr(ll_strerror(LL_ERR_TRUNCATED), ==,
			"input is truncated");
}

static void test_size_math(void)
{
	size_t out = 7;

	g_assert_true(ll_size_add(1, 2, &out));
	g_assert_cmpuint(out, ==, 3);
	g_assert_false(ll_size_add(SIZE_MAX, 1, &out));
	g_assert_cmpuint(out, ==, 3);
	g_assert_true(ll_size_mul(0, SIZE_MAX, &out));
	g_assert_cmpuint(out, ==, 0);
	g_assert_false(ll_size_mul(SIZE_MAX / 2 + 1, 2, &out));
	g_assert_cmpuint(out, ==, 0);
}

static void test_rfc3339(void)
{
	char buf[32];
	int64_t t = -1;

	ll_format_rfc3339(0, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "1970-01-01T00:00:00Z");
	ll_format_rfc3339(1795737112, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "2026-11-26T23:51:52Z");
	g_assert_cmpint(ll_parse_rfc3339(buf, &t), ==, LL_OK);
	g_assert_cmpint(t, ==, 1795737112);
	g_assert_cmpint(ll_parse_rfc3339("2026-11-27T00:51:52+01:00", &t), ==,
			LL_OK);
	g_assert_cmpint(t, ==, 1795737112);
	g_assert_cmpint(ll_parse_rfc3339("2026-11-26T23:51:52.250Z", &t), ==,
			LL_OK);
	g_assert_cmpint(t, ==, 1795737112);
	g_assert_cmpint(ll_parse_rfc3339("2000-02-29T00:00:00Z", &t), ==,
			LL_OK);
	g_assert_cmpint(t, ==, 951782400);

	t = 42;
	g_assert_cmpint(ll_parse_rfc3339("2026-13-01T00:00:00Z", &t), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_parse_rfc3339("2026-11-26", &t), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_parse_rfc3339("2026-11-26T23:51:52", &t), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_parse_rfc3339("2026-11-26T23:51:52Zjunk", &t), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_parse_rfc3339("2026-11-26T23:61:52Z", &t), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_parse_rfc3339("2026-11-26T23:51:52+1:00", &t), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_parse_rfc3339("2026-11-26T23:51:52.Z", &t), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_parse_rfc3339(NULL, &t), ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(t, ==, 42);
}

static void test_clocks(void)
{
	int64_t a = ll_now_mono_ms();
	int64_t b = ll_now_mono_ms();

	g_assert_cmpint(b, >=, a);
	g_assert_cmpint(ll_now_unix(), >, 1700000000);
}

static void test_autofree(void)
{
	char *seen;

	{
		LL_AUTOFREE char *p = strdup("x");

		seen = p;
		g_assert_nonnull(seen);
	}
	/* ASan reports a leak here if the cleanup did not run. */
}

/* The one side enum: its names are the control hello's "role" values. */
static void test_side(void)
{
	enum ll_side side = LL_SIDE_APPLET;

	g_assert_cmpstr(ll_side_name(LL_SIDE_AGENT), ==, "agent");
	g_assert_cmpstr(ll_side_name(LL_SIDE_APPLET), ==, "applet");
	g_assert_null(ll_side_name((enum ll_side)LL_SIDE_COUNT));
	g_assert_null(ll_side_name((enum ll_side) - 1));
	g_assert_cmpint(ll_side_from_name("agent", &side), ==, LL_OK);
	g_assert_cmpint(side, ==, LL_SIDE_AGENT);
	g_assert_cmpint(ll_side_from_name("applet", &side), ==, LL_OK);
	g_assert_cmpint(side, ==, LL_SIDE_APPLET);
	g_assert_cmpint(ll_side_from_name("Agent", &side), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_side_from_name("", &side), ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_side_from_name(NULL, &side), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(side, ==, LL_SIDE_APPLET); /* untouched on failure */
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/util/strerror", test_strerror);
	g_test_add_func("/util/size_math", test_size_math);
	g_test_add_func("/util/rfc3339", test_rfc3339);
	g_test_add_func("/util/clocks", test_clocks);
	g_test_add_func("/util/autofree", test_autofree);
	g_test_add_func("/util/side", test_side);
	return g_test_run();
}
