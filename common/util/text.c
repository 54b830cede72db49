/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one display-text sanitiser; the rule is in ll_text.h. */
#include "ll_text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_util.h"

/* Code points the rule replaces, in order (ll_text.h says why). */
static const struct {
	uint32_t first, last;
} hidden[] = {
	{ 0x0000, 0x001f },   /* C0 controls */
	{ 0x007f, 0x009f },   /* DEL, C1 controls */
	{ 0x00ad, 0x00ad },   /* soft hyphen */
	{ 0x061c, 0x061c },   /* arabic letter mark */
	{ 0x180e, 0x180e },   /* mongolian vowel separator */
	{ 0x200b, 0x200f },   /* zero-width space, ZWNJ, ZWJ, LRM, RLM */
	{ 0x2028, 0x2029 },   /* line and paragraph separators */
	{ 0x202a, 0x202e },   /* bidi embeddings and overrides */
	{ 0x2060, 0x206f },   /* word joiner .. isolates .. deprecated */
	{ 0xfeff, 0xfeff },   /* BOM, zero-width no-break space */
	{ 0xfff9, 0xfffb },   /* interlinear annotation */
	{ 0xe0000, 0xe007f }, /* tags */
};

static bool is_hidden(uint32_t cp)
{
	size_t i;

	for (i = 0; i < LL_ARRAY_SIZE(hidden) && hidden[i].first <= cp; i++)
		if (cp <= hidden[i].last)
			return true;
	return false;
}

/*
 * Decodes one character at p[0..left), left > 0.  Returns the bytes it
 * takes; *cp is the code point, or UINT32_MAX for an ill-formed sequence,
 * in which case the return value is its maximal subpart (at least 1):
 * the lead byte and the continuation bytes that were valid where they
 * stood (Unicode table 3-7, "well-formed UTF-8 byte sequences").
 */
static size_t decode(const unsigned char *p, size_t left, uint32_t *cp)
{
	unsigned char b = p[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;
	uint32_t v;

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf) {
		need = 1;
		v = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		need = 2;
		v = b & 0x0f;
		if (b == 0xe0)
			lo = 0xa0; /* no overlong 3-byte forms */
		else if (b == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		need = 3;
		v = b & 0x07;
		if (b == 0xf0)
			lo = 0x90; /* no overlong 4-byte forms */
		else if (b == 0xf4)
			hi = 0x8f; /* nothing over U+10FFFF */
	} else {
		/* 0x80..0xc1 (continuation, overlong 2-byte lead), 0xf5.. */
		*cp = UINT32_MAX;
		return 1;
	}
	for (i = 1; i <= need; i++) {
		if (i >= left || p[i] < lo || p[i] > hi) {
			*cp = UINT32_MAX;
			return i;
		}
		v = (v << 6) | (p[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return need + 1;
}

size_t ll_text_printable(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t in = 0, out = 0, total = 0, n, unit_len;
	bool full = size == 0;
	const char *unit;
	uint32_t cp;

	if (src == NULL)
		len = 0;
	while (in < len) {
		n = decode(p + in, len - in, &cp);
		if (cp == UINT32_MAX || is_hidden(cp)) {
			unit = LL_TEXT_REPLACEMENT;
			unit_len = sizeof(LL_TEXT_REPLACEMENT) - 1;
		} else {
			unit = src + in;
			unit_len = n;
		}
		in += n;
		total += unit_len;
		/* Whole characters only; once one does not fit, none after
		 * it is written (the output is a prefix of the text). */
		if (!full && out + unit_len < size) {
			memcpy(dst + out, unit, unit_len);
			out += unit_len;
		} else {
			full = true;
		}
	}
	if (size > 0)
		dst[out] = '\0';
	return total;
}

char *ll_text_printable_new(const char *src, size_t len, size_t max)
{
	size_t need = ll_text_printable(NULL, 0, src, len), size;
	char *s;

	if (need > max)
		need = max;
	size = need + 1;
	if ((s = malloc(size)) == NULL)
		return NULL;
	ll_text_printable(s, size, src, len);
	return s;
}
