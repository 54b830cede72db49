/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * File transfer chunks (ll_xfer.h) as a hostile peer sends them: the
 * first byte picks how the rest is split, the next four the file size
 * left; the decoder must never give more than that size, never a chunk
 * over LL_XFER_CHUNK, and stay refused after an error.  The same bytes
 * as a file name: what comes out is safe (no separator, not . or ..,
 * valid UTF-8, capped) and stays the same when made safe again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_xfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	while (*p != 0) {
		if (*p < 0x80)
			n = 0;
		else if ((*p & 0xe0) == 0xc0)
			n = 1;
		else if ((*p & 0xf0) == 0xe0)
			n = 2;
		else if ((*p & 0xf8) == 0xf0)
			n = 3;
		else
			return 0;
		p++;
		while (n-- > 0) {
			if ((*p & 0xc0) != 0x80)
				return 0;
			p++;
		}
	}
	return 1;
}

static void fuzz_name(const uint8_t *data, size_t size)
{
	char out[LL_XFER_NAME_MAX + 1], again[LL_XFER_NAME_MAX + 1];
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	ll_xfer_safe_name(s, out, sizeof(out));
	if (out[0] == '\0' || strlen(out) > LL_XFER_NAME_MAX ||
	    strpbrk(out, "/\\:") != NULL || out[0] == '.' ||
	    strcmp(out, "..") == 0 || !utf8_ok(out))
		abort();
	if (ll_xfer_safe_name(out, again, sizeof(again)) ||
	    strcmp(out, again) != 0)
		abort();
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ll_xfer_dec *d;
	const uint8_t *chunk;
	uint64_t want, got = 0;
	size_t step, used, n, give;
	int r;

	if (size < 5)
		return 0;
	fuzz_name(data, size);
	step = (size_t)data[0] + 1;
	want = (uint64_t)data[1] << 24 | (uint64_t)data[2] << 16 |
	       (uint64_t)data[3] << 8 | data[4];
	data += 5;
	size -= 5;
	if ((d = ll_xfer_dec_new(want)) == NULL)
		abort();
	while (size > 0) {
		give = size < step ? size : step;
		r = ll_xfer_dec_feed(d, data, give, &used, &chunk, &n);
		if (used > give)
			abort();
		data += used;
		size -= used;
		if (r < 0) {
			if (ll_xfer_dec_feed(d, data, size, &used, &chunk,
					     &n) != r)
				abort();
			break;
		}
		if (r == 1) {
			if (n == 0 || n > LL_XFER_CHUNK)
				abort();
			got += n;
		}
	}
	if (got > want || ll_xfer_dec_remaining(d) != want - got)
		abort();
	ll_xfer_dec_free(d);
	return 0;
}
