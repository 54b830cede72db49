/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ll_text_printable(): the one rule for display text from the peer. */
#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ll_text.h"

#define R LL_TEXT_REPLACEMENT

/* Sanitises the len bytes of in with room for everything and compares. */
static void check_len(const char *in, size_t len, const char *want)
{
	char out[256];
	size_t need = ll_text_printable(out, sizeof(out), in, len);

	g_assert_cmpstr(out, ==, want);
	g_assert_cmpuint(need, ==, strlen(want));
	g_assert_true(g_utf8_validate(out, -1, NULL));
}

static void check(const char *in, const char *want)
{
	check_len(in, strlen(in), want);
}

static void test_kept(void)
{
	check("", "");
	check("HDMI-1", "HDMI-1");
	check("user ended the session", "user ended the session");
	check("Gr\xc3\xbc\xc3\x9f"
	      "e \xe2\x82\xac",
	      "Gr\xc3\xbc\xc3\x9f"
	      "e \xe2\x82\xac");
	check("\xf0\x9f\x96\xa5 x", "\xf0\x9f\x96\xa5 x"); /* 4 bytes */
	check("\xc2\xa0", "\xc2\xa0");            /* NBSP: visible gap */
	check("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", /* Hebrew, no marks */
	      "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d");
	check("\xed\x9f\xbf", "\xed\x9f\xbf");         /* U+D7FF */
	check("\xee\x80\x80", "\xee\x80\x80");         /* U+E000 */
	check("\xef\xbf\xbd", "\xef\xbf\xbd");         /* U+FFFD itself */
	check("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
	check("~", "~");
}

static void test_c0_del(void)
{
	check("a\x1b[2Jb", "a" R "[2Jb");
	check("line 1\nline 2", "line 1" R "line 2");
	check("\t\r\n", R R R);
	check("\x01\x07\x08\x1f", R R R R);
	check("x\x7fy", "x" R "y");
	/* A NUL inside the given length is a control like the others. */
	check_len("a\0b", 3, "a" R "b");
}

static void test_c1(void)
{
	check("\xc2\x80", R); /* U+0080 */
	check("a\xc2\x85"
	      "b",
	      "a" R "b"); /* NEL */
	check("\xc2\x9b"
	      "31m",
	      R "31m"); /* CSI */
	check("\xc2\x9d"
	      "0;x\xc2\x9c",
	      R "0;x" R);     /* OSC .. ST */
	check("\xc2\x9f", R); /* U+009F */
}

static void test_format(void)
{
	check("abc\xe2\x80\xae"
	      "fdp.exe",
	      "abc" R "fdp.exe"); /* RLO */
	check("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad", R R R R);
	check("\xe2\x81\xa6"
	      "x\xe2\x81\xa9",
	      R "x" R);                         /* LRI, PDI */
	check("\xe2\x81\xa7\xe2\x81\xa8", R R); /* RLI, FSI */
	check("\xe2\x80\x8e\xe2\x80\x8f", R R); /* LRM, RLM */
	check("\xd8\x9c", R);                   /* ALM */
	check("a\xe2\x80\x8b"
	      "b",
	      "a" R "b");                       /* ZWSP */
	check("\xe2\x80\x8c\xe2\x80\x8d", R R); /* ZWNJ, ZWJ */
	check("\xef\xbb\xbf"
	      "name",
	      R "name");                        /* BOM */
	check("\xe2\x81\xa0", R);               /* WJ */
	check("\xe2\x80\xa8\xe2\x80\xa9", R R); /* LS, PS */
	check("\xc2\xad", R);                   /* SHY */
	check("\xe1\xa0\x8e", R);               /* MVS */
	check("\xef\xbf\xb9", R);               /* IAA */
	check("\xf3\xa0\x81\x81", R);           /* TAG A */
	check("\xf3\xa0\x81\xbf", R);           /* CANCEL TAG */
	/* Neighbours of the ranges stay. */
	check("\xe2\x80\x8a", "\xe2\x80\x8a");         /* U+200A */
	check("\xe2\x80\x90", "\xe2\x80\x90");         /* U+2010 */
	check("\xe2\x80\xaf", "\xe2\x80\xaf");         /* U+202F */
	check("\xe2\x81\xb0", "\xe2\x81\xb0");         /* U+2070 */
	check("\xf3\xa0\x82\x80", "\xf3\xa0\x82\x80"); /* U+E0080 */
}

static void test_invalid(void)
{
	check("\xff", R);
	check("\xfe\xff", R R);
	check("a\x80"
	      "b",
	      "a" R "b"); /* stray continuation */
	check("\xbf\xbf", R R);
	check("\xc3", R); /* cut at the end */
	check("\xc3(", R "(");
	check("\xe2\x82", R); /* one maximal subpart */
	check("\xe2\x82"
	      "A",
	      R "A");
	check("\xf0\x9f\x96", R);
	check("\xf0\x9f\x96"
	      "A\xe2\x82\xac",
	      R "A\xe2\x82\xac");
	check("\xf5\x80\x80\x80", R R R R); /* lead over U+10FFFF */
	check("\xf4\x90\x80\x80", R R R R); /* U+110000 */
	check("\xf8\x88\x80\x80\x80", R R R R R);
}

static void test_overlong(void)
{
	check("\xc0\xaf", R R); /* '/' in two bytes */
	check("\xc1\xbf", R R);
	check("\xc0\x80", R R); /* NUL in two bytes */
	check("\xe0\x80\xaf", R R R);
	check("\xe0\x9f\xbf", R R R); /* U+07FF in three */
	check("\xf0\x80\x80\xaf", R R R R);
	check("\xf0\x8f\xbf\xbf", R R R R); /* U+FFFF in four */
	/* The shortest forms of the same are fine. */
	check("\xe0\xa0\x80", "\xe0\xa0\x80"); /* U+0800 */
	check("\xf0\x90\x80\x80", "\xf0\x90\x80\x80");
	/* An overlong C1 control is two bad bytes, not a control. */
	check("\xc0\x9b", R R);
}

static void test_surrogates(void)
{
	check("\xed\xa0\x80", R R R);                   /* U+D800 */
	check("\xed\xbf\xbf", R R R);                   /* U+DFFF */
	check("\xed\xa0\xbd\xed\xb2\xa9", R R R R R R); /* CESU-8 pair */
}

static void test_truncate(void)
{
	char out[16];

	/* "ab€": the euro sign does not fit in 3 bytes and a NUL. */
	g_assert_cmpuint(ll_text_printable(out, 4, "ab\xe2\x82\xac", 5), ==,
			 5);
	g_assert_cmpstr(out, ==, "ab");
	g_assert_cmpuint(ll_text_printable(out, 5, "ab\xe2\x82\xac", 5), ==,
			 5);
	g_assert_cmpstr(out, ==, "ab");
	g_assert_cmpuint(ll_text_printable(out, 6, "ab\xe2\x82\xac", 5), ==,
			 5);
	g_assert_cmpstr(out, ==, "ab\xe2\x82\xac");
	/* A replacement is never cut either. */
	g_assert_cmpuint(ll_text_printable(out, 3, "a\x1b", 2), ==, 4);
	g_assert_cmpstr(out, ==, "a");
	/* Nothing after a character that did not fit, even if it would. */
	g_assert_cmpuint(ll_text_printable(out, 3,
					   "\xe2\x82\xac"
					   "a",
					   4),
			 ==, 4);
	g_assert_cmpstr(out, ==, "");
	/* Four-byte characters at the edge. */
	g_assert_cmpuint(ll_text_printable(out, 8,
					   "\xf0\x9f\x96\xa5"
					   "\xf0\x9f\x96\xa5",
					   8),
			 ==, 8);
	g_assert_cmpstr(out, ==, "\xf0\x9f\x96\xa5");
	/* size 1: only the NUL. */
	g_assert_cmpuint(ll_text_printable(out, 1, "abc", 3), ==, 3);
	g_assert_cmpstr(out, ==, "");
	/* size 0: nothing written, dst may be NULL; the need is returned. */
	out[0] = 'z';
	g_assert_cmpuint(ll_text_printable(out, 0, "a\x1b", 2), ==, 4);
	g_assert_cmpint(out[0], ==, 'z');
	g_assert_cmpuint(ll_text_printable(NULL, 0, "\xff\xff", 2), ==, 6);
	/* The length given is the limit, not the NUL. */
	g_assert_cmpuint(ll_text_printable(out, sizeof(out), "abcdef", 3), ==,
			 3);
	g_assert_cmpstr(out, ==, "abc");
	/* NULL reads as "". */
	g_assert_cmpuint(ll_text_printable(out, sizeof(out), NULL, 5), ==, 0);
	g_assert_cmpstr(out, ==, "");
}

static void test_new(void)
{
	char *s;

	s = ll_text_printable_new("DP-1\xe2\x80\xae", 7, 64);
	g_assert_cmpstr(s, ==, "DP-1" R);
	free(s);
	s = ll_text_printable_new("abc\xe2\x82\xac", 6, 5);
	g_assert_cmpstr(s, ==, "abc");
	free(s);
	s = ll_text_printable_new("abc", 3, 0);
	g_assert_cmpstr(s, ==, "");
	free(s);
	s = ll_text_printable_new(NULL, 0, 10);
	g_assert_cmpstr(s, ==, "");
	free(s);
}

/* True when s (valid UTF-8) has a code point the rule takes out. */
static bool has_hidden(const char *s)
{
	static const gunichar ranges[][2] = {
		{ 0x0000, 0x001f }, { 0x007f, 0x009f },   { 0x00ad, 0x00ad },
		{ 0x061c, 0x061c }, { 0x180e, 0x180e },   { 0x200b, 0x200f },
		{ 0x2028, 0x202e }, { 0x2060, 0x206f },   { 0xfeff, 0xfeff },
		{ 0xfff9, 0xfffb }, { 0xe0000, 0xe007f },
	};
	size_t i;

	for (; *s != '\0'; s = g_utf8_next_char(s)) {
		gunichar c = g_utf8_get_char(s);

		for (i = 0; i < G_N_ELEMENTS(ranges); i++)
			if (c >= ranges[i][0] && c <= ranges[i][1])
				return true;
	}
	return false;
}

/*
 * Random bytes, biased towards UTF-8 lead and continuation bytes and the
 * code points of the rule: the output is valid UTF-8, free of them,
 * within the cap, a prefix of the uncut output, and unchanged by a
 * second pass.
 */
static void test_random(void)
{
	static const char *const pieces[] = {
		"\xe2\x80\xae",
		"\xc2\x9b",
		"\x1b",
		"\n",
		"\xef\xbb\xbf",
		"\xed\xa0\x80",
		"\xc0\xaf",
		"\xf4\x90\x80\x80",
		"\xe2\x82\xac",
		"\xf0\x9f\x96\xa5",
		"a",
		"\xc3",
		"\xe2\x82",
		"\xf3\xa0\x81\x81",
	};
	char in[64], full[256], cut[256], again[256];
	size_t i, len, size, need;
	int round;

	for (round = 0; round < 20000; round++) {
		len = 0;
		while (len < 40) {
			if (g_test_rand_int_range(0, 2) == 0) {
				const char *p = pieces[g_test_rand_int_range(
					0, G_N_ELEMENTS(pieces))];

				memcpy(in + len, p, strlen(p));
				len += strlen(p);
			} else {
				in[len++] = (char)g_test_rand_int_range(0,
									256);
			}
		}
		need = ll_text_printable(full, sizeof(full), in, len);
		g_assert_cmpuint(need, ==, strlen(full));
		g_assert_true(g_utf8_validate(full, -1, NULL));
		g_assert_false(has_hidden(full));
		size = (size_t)g_test_rand_int_range(1, (gint32)need + 2);
		g_assert_cmpuint(ll_text_printable(cut, size, in, len), ==,
				 need);
		g_assert_cmpuint(strlen(cut), <, size);
		g_assert_true(g_utf8_validate(cut, -1, NULL));
		g_assert_true(strncmp(full, cut, strlen(cut)) == 0);
		/* Cut only where the next character would not fit. */
		if (strlen(cut) < need) {
			const char *next = full + strlen(cut);
			size_t next_len = (size_t)(g_utf8_next_char(next) -
						   next);

			g_assert_cmpuint(strlen(cut) + next_len, >=, size);
		}
		g_assert_cmpuint(ll_text_printable(again, sizeof(again), full,
						   need),
				 ==, need);
		g_assert_cmpstr(again, ==, full);
		for (i = 0; i < need; i++)
			g_assert_cmpint(full[i], !=, '\0');
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/text/kept", test_kept);
	g_test_add_func("/text/c0_del", test_c0_del);
	g_test_add_func("/text/c1", test_c1);
	g_test_add_func("/text/format", test_format);
	g_test_add_func("/text/invalid", test_invalid);
	g_test_add_func("/text/overlong", test_overlong);
	g_test_add_func("/text/surrogates", test_surrogates);
	g_test_add_func("/text/truncate", test_truncate);
	g_test_add_func("/text/new", test_new);
	g_test_add_func("/text/random", test_random);
	return g_test_run();
}
