/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the display-text rule (common/util/ll_text.h).
 * The first two bytes pick the output cap, the rest is the peer's text.
 * Checked with GLib's UTF-8 reader, not ours: the output is valid UTF-8
 * without the code points the rule takes out, within the cap, a prefix
 * of the uncut output cut only where the next character did not fit,
 * unchanged by a second pass, and equal to the input when the input was
 * clean already.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "ll_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool hidden(gunichar c)
{
	static const gunichar ranges[][2] = {
		{ 0x0000, 0x001f }, { 0x007f, 0x009f },   { 0x00ad, 0x00ad },
		{ 0x061c, 0x061c }, { 0x180e, 0x180e },   { 0x200b, 0x200f },
		{ 0x2028, 0x202e }, { 0x2060, 0x206f },   { 0xfeff, 0xfeff },
		{ 0xfff9, 0xfffb }, { 0xe0000, 0xe007f },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(ranges); i++)
		if (c >= ranges[i][0] && c <= ranges[i][1])
			return true;
	return false;
}

/* Valid UTF-8 (GLib's reading) with nothing the rule takes out. */
static bool clean(const char *s, size_t len)
{
	const char *p;

	if (!g_utf8_validate(s, (gssize)len, NULL))
		return false;
	for (p = s; p < s + len; p = g_utf8_next_char(p))
		if (hidden(g_utf8_get_char(p)))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in;
	size_t len, cap, need, big, outlen;
	char *full, *cut, *again, *dup;

	if (size < 2)
		return 0;
	cap = ((size_t)data[0] << 8 | data[1]) % 512;
	in = (const char *)data + 2;
	len = size - 2;
	big = LL_TEXT_PRINTABLE_SIZE(len);
	full = malloc(big);
	cut = malloc(cap > 0 ? cap : 1);
	again = malloc(big > cap + 1 ? big : cap + 1);
	if (full == NULL || cut == NULL || again == NULL)
		abort();

	/* Room for all of it: never cut, and clean. */
	need = ll_text_printable(full, big, in, len);
	if (need >= big || strlen(full) != need || !clean(full, need))
		abort();
	/* Applying the rule twice changes nothing. */
	if (ll_text_printable(again, big, full, need) != need ||
	    strcmp(again, full) != 0)
		abort();
	/* Clean input comes out as it went in (a NUL is a control). */
	if (memchr(in, '\0', len) == NULL && clean(in, len) &&
	    (need != len || memcmp(full, in, len) != 0))
		abort();

	/* The caller's cap: a prefix, cut at a character boundary and only
	 * where the next character would not fit. */
	cut[0] = 'x';
	if (ll_text_printable(cap > 0 ? cut : NULL, cap, in, len) != need)
		abort();
	if (cap > 0) {
		outlen = strlen(cut);
		if (outlen >= cap || !clean(cut, outlen) ||
		    memcmp(cut, full, outlen) != 0)
			abort();
		if (outlen < need &&
		    outlen + (size_t)(g_utf8_next_char(full + outlen) -
				      (full + outlen)) <
			    cap)
			abort();
	}

	/* The allocating form: at most cap bytes and a NUL, cut the same
	 * way as a buffer of cap + 1. */
	dup = ll_text_printable_new(in, len, cap);
	if (dup == NULL)
		abort();
	ll_text_printable(again, cap + 1, in, len);
	if (strlen(dup) > cap || strcmp(dup, again) != 0)
		abort();
	free(dup);
	free(full);
	free(cut);
	free(again);
	return 0;
}
