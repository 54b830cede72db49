/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Frame decoder: never crashes, and what decodes re-encodes to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_buf.h"
#include "ll_err.h"
#include "ll_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(const uint8_t *wire, int n,
			    const struct ll_frame *f)
{
	struct ll_buf *b = ll_buf_new(LL_FRAME_HEADER_LEN +
				      LL_FRAME_MAX_PAYLOAD);
	int r;

	if (b == NULL)
		return;
	switch (f->type) {
	case LL_FRAME_HELLO:
		r = ll_frame_put_hello(b, &f->u.hello);
		break;
	case LL_FRAME_WINDOW:
		r = ll_frame_put_window(b, f->channel, f->u.window_increment);
		break;
	default:
		r = ll_frame_put(b, f->type, f->channel, f->payload, f->len);
		break;
	}
	if (r != 0 || ll_buf_len(b) != (size_t)n ||
	    memcmp(ll_buf_data(b), wire, (size_t)n) != 0)
		abort();
	ll_buf_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t caps[] = { 0, LL_FRAME_MIN_PAYLOAD, 4096 };
	struct ll_frame f;
	size_t off = 0;
	uint32_t cap;
	int n;

	if (size < 1)
		return 0;
	cap = caps[data[0] % 3];
	data++;
	size--;
	while (off < size) {
		n = ll_frame_decode(data + off, size - off, cap, &f);
		if (n <= 0)
			break;
		if ((size_t)n > size - off ||
		    f.len + LL_FRAME_HEADER_LEN != (size_t)n)
			abort();
		check_roundtrip(data + off, n, &f);
		off += (size_t)n;
	}
	return 0;
}
