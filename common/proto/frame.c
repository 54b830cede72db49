/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mux frame codec: see ll_frame.h for the wire format. */
#include "ll_frame.h"

#include <string.h>

#include "ll_buf.h"
#include "ll_err.h"

const char *ll_frame_type_name(int type)
{
	switch (type) {
	case LL_FRAME_HELLO:
		return "HELLO";
	case LL_FRAME_DATA:
		return "DATA";
	case LL_FRAME_WINDOW:
		return "WINDOW";
	case LL_FRAME_OPEN:
		return "OPEN";
	case LL_FRAME_CLOSE:
		return "CLOSE";
	case LL_FRAME_ERROR:
		return "ERROR";
	default:
		return "unknown";
	}
}

static int decode_hello(struct ll_buf_view *v, struct ll_frame *f)
{
	uint8_t magic[4];
	int r;

	if (f->channel != 0 || f->len != LL_FRAME_HELLO_LEN)
		return LL_ERR_MALFORMED;
	if ((r = ll_view_get_bytes(v, magic, sizeof(magic))) != 0 ||
	    (r = ll_view_get_u16(v, &f->u.hello.version)) != 0 ||
	    (r = ll_view_get_u32(v, &f->u.hello.max_payload)) != 0 ||
	    (r = ll_view_get_u32(v, &f->u.hello.initial_window)) != 0)
		return LL_ERR_MALFORMED;
	if (memcmp(magic, LL_FRAME_HELLO_MAGIC, sizeof(magic)) != 0)
		return LL_ERR_MALFORMED;
	/* Magic first: a foreign protocol is malformed, not a new version. */
	if (f->u.hello.version != LL_FRAME_VERSION)
		return LL_ERR_BAD_VERSION;
	if (f->u.hello.max_payload < LL_FRAME_MIN_PAYLOAD ||
	    f->u.hello.max_payload > LL_FRAME_MAX_PAYLOAD)
		return LL_ERR_MALFORMED;
	return 0;
}

static int decode_error(struct ll_buf_view *v, struct ll_frame *f)
{
	const uint8_t *reason;
	size_t n;

	if (f->channel != 0 || f->len < LL_FRAME_ERROR_MIN_LEN)
		return LL_ERR_MALFORMED;
	if (ll_view_get_u16(v, &f->u.error.code) != 0)
		return LL_ERR_MALFORMED;
	n = ll_view_remaining(v);
	if (ll_view_get_ptr(v, n, &reason) != 0)
		return LL_ERR_MALFORMED;
	/* Receivers print reasons as C strings. */
	if (memchr(reason, '\0', n) != NULL)
		return LL_ERR_MALFORMED;
	f->u.error.reason = (const char *)reason;
	f->u.error.reason_len = n;
	return 0;
}

int ll_frame_decode(const uint8_t *data, size_t len, uint32_t max_payload,
		    struct ll_frame *out)
{
	struct ll_buf_view hv, pv;
	struct ll_frame f;
	int r;

	if (out == NULL || (data == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	if (max_payload == 0 || max_payload > LL_FRAME_MAX_PAYLOAD)
		max_payload = LL_FRAME_MAX_PAYLOAD;
	memset(&f, 0, sizeof(f));

	ll_buf_view_init(&hv, data, len);
	/* A short header is "need more", never an error. */
	if (ll_view_get_u8(&hv, &f.type) != 0)
		return 0;
	if (f.type < LL_FRAME_HELLO || f.type > LL_FRAME_ERROR)
		return LL_ERR_UNKNOWN_TYPE;
	if (ll_view_get_u16(&hv, &f.channel) != 0 ||
	    ll_view_get_u32(&hv, &f.len) != 0)
		return 0;
	/* The cap holds before a byte of payload is waited for. */
	if (f.len > max_payload)
		return LL_ERR_TOO_LARGE;
	if (ll_view_get_ptr(&hv, f.len, &f.payload) != 0)
		return 0;

	ll_buf_view_init(&pv, f.payload, f.len);
	switch (f.type) {
	case LL_FRAME_HELLO:
		r = decode_hello(&pv, &f);
		break;
	case LL_FRAME_WINDOW:
		r = f.len == LL_FRAME_WINDOW_LEN
			    ? ll_view_get_u32(&pv, &f.u.window_increment)
			    : LL_ERR_MALFORMED;
		break;
	case LL_FRAME_OPEN:
	case LL_FRAME_CLOSE:
		r = f.len == 0 ? 0 : LL_ERR_MALFORMED;
		break;
	case LL_FRAME_ERROR:
		r = decode_error(&pv, &f);
		break;
	default: /* DATA: any bytes */
		r = 0;
		break;
	}
	if (r != 0)
		return r;
	*out = f;
	/* <= 7 + 65536: fits an int. */
	return (int)(LL_FRAME_HEADER_LEN + f.len);
}

int ll_frame_put(struct ll_buf *out, uint8_t type, uint16_t channel,
		 const void *payload, size_t len)
{
	uint8_t *p;
	int r;

	if (out == NULL || (payload == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	if (type < LL_FRAME_HELLO || type > LL_FRAME_ERROR)
		return LL_ERR_INVALID_ARG;
	if (len > LL_FRAME_MAX_PAYLOAD)
		return LL_ERR_TOO_LARGE;
	/* One reservation for the whole frame: all of it or nothing. */
	if ((r = ll_buf_reserve(out, LL_FRAME_HEADER_LEN + len, &p)) != 0)
		return r;
	p[0] = type;
	p[1] = (uint8_t)(channel >> 8);
	p[2] = (uint8_t)channel;
	p[3] = (uint8_t)(len >> 24);
	p[4] = (uint8_t)(len >> 16);
	p[5] = (uint8_t)(len >> 8);
	p[6] = (uint8_t)len;
	if (len > 0)
		memcpy(p + LL_FRAME_HEADER_LEN, payload, len);
	return 0;
}

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int ll_frame_put_hello(struct ll_buf *out, const struct ll_frame_hello *h)
{
	uint8_t pl[LL_FRAME_HELLO_LEN];

	if (h == NULL)
		return LL_ERR_INVALID_ARG;
	memcpy(pl, LL_FRAME_HELLO_MAGIC, 4);
	be16(pl + 4, h->version);
	be32(pl + 6, h->max_payload);
	be32(pl + 10, h->initial_window);
	return ll_frame_put(out, LL_FRAME_HELLO, 0, pl, sizeof(pl));
}

int ll_frame_put_data(struct ll_buf *out, uint16_t channel, const void *data,
		      size_t len)
{
	return ll_frame_put(out, LL_FRAME_DATA, channel, data, len);
}

int ll_frame_put_window(struct ll_buf *out, uint16_t channel,
			uint32_t increment)
{
	uint8_t pl[LL_FRAME_WINDOW_LEN];

	be32(pl, increment);
	return ll_frame_put(out, LL_FRAME_WINDOW, channel, pl, sizeof(pl));
}

int ll_frame_put_open(struct ll_buf *out, uint16_t channel)
{
	return ll_frame_put(out, LL_FRAME_OPEN, channel, NULL, 0);
}

int ll_frame_put_close(struct ll_buf *out, uint16_t channel)
{
	return ll_frame_put(out, LL_FRAME_CLOSE, channel, NULL, 0);
}

int ll_frame_put_error(struct ll_buf *out, uint16_t code, const char *reason)
{
	uint8_t pl[LL_FRAME_MIN_PAYLOAD];
	size_t n = reason != NULL ? strlen(reason) : 0;

	/* Every peer accepts LL_FRAME_MIN_PAYLOAD; cut at a UTF-8 boundary. */
	if (n > sizeof(pl) - 2) {
		n = sizeof(pl) - 2;
		while (n > 0 && ((uint8_t)reason[n] & 0xc0) == 0x80)
			n--;
	}
	be16(pl, code);
	if (n > 0)
		memcpy(pl + 2, reason, n);
	return ll_frame_put(out, LL_FRAME_ERROR, 0, pl, 2 + n);
}
