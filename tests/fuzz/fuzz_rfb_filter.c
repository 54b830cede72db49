/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the agent's RFB filter (common/proto/rfb_filter.c), fed
 * the way the session's bridge feeds it: pieces, with what the filter
 * holds back presented again in front of the next piece.
 *
 * Input: byte 0 chooses the mode and the piece size.
 *  - bit 7 clear: our client's usual opening (32 bpp, an encoding list
 *    with allowed and forbidden entries, an update request) is fed
 *    first, then the rest is the applet's stream in pieces of
 *    1 + (byte0 & 0x7f) bytes.
 *  - bit 7 set: the rest is records, each a header byte (bit 7: 1 =
 *    client to server, 0 = server to client; bits 0-6: length - 1)
 *    and that many bytes for that direction, so both parsers and their
 *    interplay are explored.
 * Checked: no crash, no UB, the filter never passes more than it was
 * given nor holds back a whole item's worth, errors are sticky.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_err.h"
#include "ll_rfb_filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct side {
	uint8_t hold[2 * LL_RFB_FILTER_ITEM_MAX + 256];
	size_t len;
};

static const uint8_t
	client_opening
		[] = {
			'R',  'F',  'B',  ' ',  '0',  '0', '3',
			'.',  '0',  '0',  '8',  '\n', 1, /* security None */
			1,                   /* ClientInit: shared */
			0,    0,    0,    0, /* SetPixelFormat */
			32,   24,   0,    1,    0,    255, 0,
			255,  0,    255,  16,   8,    0,   0,
			0,    0,    2,    0,    0,    16, /* SetEncodings, 16 */
			0,    0,    0,    16,             /* ZRLE */
			0,    0,    0,    7,              /* Tight */
			0,    0,    0,    1,              /* CopyRect */
			0,    0,    0,    0,              /* Raw */
			0xff, 0xff, 0xff, 0x11,           /* Cursor */
			0xff, 0xff, 0xff, 0x10,           /* XCursor */
			0,    0,    0,    5,    /* Hextile: rewritten */
			0xff, 0xff, 0xff, 0x21, /* DesktopSize */
			0xff, 0xff, 0xfe, 0xcc, /* ExtendedDesktopSize */
			0x57, 0x4d, 0x56, 0x69, /* WMVi: rewritten */
			0xff, 0xff, 0xff, 0x20, /* LastRect */
			0xff, 0xff, 0xff, 0x18, /* PointerPos */
			0xff, 0xff, 0xfe, 0xff, /* PointerChange */
			0xff, 0xfe, 0x00, 0x01, /* SupportedMessages: rewritten */
			0xff, 0xff, 0xff, 0xe6, /* JPEG quality 6 */
			0xff, 0xff, 0xff, 0x06, /* compression level 6 */
			3,    0,    0,    0,    0,    0,   0x20,
			0,    0x20, 0, /* FramebufferUpdateRequest */
		};

/* One piece through one direction; false once the filter refused. */
static bool feed(struct ll_rfb_filter *f, struct side *sd, bool server,
		 const uint8_t *p, size_t n)
{
	size_t pass = (size_t)-1;
	int r;

	while (n > 0) {
		size_t take = sizeof(sd->hold) - sd->len;

		if (take > n)
			take = n;
		memcpy(sd->hold + sd->len, p, take);
		sd->len += take;
		p += take;
		n -= take;
		r = server ? ll_rfb_filter_server_chunk(f, sd->hold, sd->len,
							&pass)
			   : ll_rfb_filter_client_chunk(f, sd->hold, sd->len,
							&pass);
		if (r != LL_OK) {
			if (r >= 0 || pass != (size_t)-1)
				abort();
			/* sticky */
			if (ll_rfb_filter_server(f, sd->hold, 1) != r ||
			    ll_rfb_filter_error(f)[0] == '\0')
				abort();
			return false;
		}
		if (pass > sd->len || sd->len - pass >= LL_RFB_FILTER_ITEM_MAX)
			abort();
		memmove(sd->hold, sd->hold + pass, sd->len - pass);
		sd->len -= pass;
		pass = (size_t)-1;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ll_rfb_filter *f;
	struct side srv = { .len = 0 }, cli = { .len = 0 };
	size_t off = 1, n, piece;
	bool ok = true;

	if (size < 1)
		return 0;
	if ((f = ll_rfb_filter_new()) == NULL)
		return 0;
	if (!(data[0] & 0x80)) {
		uint8_t opening[sizeof(client_opening)];

		memcpy(opening, client_opening, sizeof(opening));
		ok = feed(f, &cli, false, opening, sizeof(opening));
		piece = 1 + (data[0] & 0x7f);
		while (ok && off < size) {
			n = size - off < piece ? size - off : piece;
			ok = feed(f, &srv, true, data + off, n);
			off += n;
		}
	} else {
		while (ok && off < size) {
			bool to_server = (data[off] & 0x80) != 0;
			uint8_t buf[128];

			n = (size_t)(data[off] & 0x7f) + 1;
			off++;
			if (n > size - off)
				n = size - off;
			/* the client side is rewritten in place: a copy */
			memcpy(buf, data + off, n);
			ok = feed(f, to_server ? &cli : &srv, !to_server, buf,
				  n);
			off += n;
		}
	}
	if (ok)
		(void)ll_rfb_filter_server_end(f, srv.len);
	ll_rfb_filter_free(f);
	return 0;
}
