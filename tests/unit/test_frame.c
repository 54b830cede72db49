/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "ll_buf.h"
#include "ll_err.h"
#include "ll_frame.h"

static const uint8_t hello_wire[] = {
	LL_FRAME_HELLO, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e, 'L', 'L', 'M', 'X',
	0x00,           0x01, 0x00, 0x01, 0x00, 0x00, /* max payload 65536 */
	0x00,           0x04, 0x00, 0x00,             /* window 262144 */
};

static void test_hello_wire(void)
{
	struct ll_buf *b = ll_buf_new(1024);
	struct ll_frame_hello h = { 1, 65536, 262144 };
	struct ll_frame f;

	g_assert_cmpint(ll_frame_put_hello(b, &h), ==, 0);
	g_assert_cmpmem(ll_buf_data(b), ll_buf_len(b), hello_wire,
			sizeof(hello_wire));
	g_assert_cmpint(ll_frame_decode(hello_wire, sizeof(hello_wire), 0, &f),
			==, (int)sizeof(hello_wire));
	g_assert_cmpuint(f.type, ==, LL_FRAME_HELLO);
	g_assert_cmpuint(f.channel, ==, 0);
	g_assert_cmpuint(f.len, ==, LL_FRAME_HELLO_LEN);
	g_assert_cmpuint(f.u.hello.version, ==, 1);
	g_assert_cmpuint(f.u.hello.max_payload, ==, 65536);
	g_assert_cmpuint(f.u.hello.initial_window, ==, 262144);
	ll_buf_free(b);
}

/* Encode one of each type; decode all back from one buffer. */
static void test_roundtrip(void)
{
	struct ll_buf *b = ll_buf_new(1 << 20);
	struct ll_frame_hello h = { 1, 4096, 1 << 20 };
	struct ll_frame f;
	const uint8_t *p;
	size_t left;
	int n;

	g_assert_cmpint(ll_frame_put_hello(b, &h), ==, 0);
	g_assert_cmpint(ll_frame_put_data(b, 1, "pixels", 6), ==, 0);
	g_assert_cmpint(ll_frame_put_data(b, 7, NULL, 0), ==, 0);
	g_assert_cmpint(ll_frame_put_window(b, 65535, 0xfffffffeu), ==, 0);
	g_assert_cmpint(ll_frame_put_open(b, 2), ==, 0);
	g_assert_cmpint(ll_frame_put_close(b, 2), ==, 0);
	g_assert_cmpint(ll_frame_put_error(b, 25, "protocol violation"), ==,
			0);
	g_assert_cmpint(ll_frame_put_error(b, 1, NULL), ==, 0);

	p = ll_buf_data(b);
	left = ll_buf_len(b);
#define NEXT()                                                                \
	do {                                                                  \
		n = ll_frame_decode(p, left, 0, &f);                          \
		g_assert_cmpint(n, >, 0);                                     \
		p += n;                                                       \
		left -= (size_t)n;                                            \
	} while (0)
	NEXT();
	g_assert_cmpuint(f.type, ==, LL_FRAME_HELLO);
	g_assert_cmpuint(f.u.hello.max_payload, ==, 4096);
	g_assert_cmpuint(f.u.hello.initial_window, ==, 1 << 20);
	NEXT();
	g_assert_cmpuint(f.type, ==, LL_FRAME_DATA);
	g_assert_cmpuint(f.channel, ==, 1);
	g_assert_cmpmem(f.payload, f.len, "pixels", 6);
	NEXT();
	g_assert_cmpuint(f.type, ==, LL_FRAME_DATA);
	g_assert_cmpuint(f.channel, ==, 7);
	g_assert_cmpuint(f.len, ==, 0);
	NEXT();
	g_assert_cmpuint(f.type, ==, LL_FRAME_WINDOW);
	g_assert_cmpuint(f.channel, ==, 65535);
	g_assert_cmpuint(f.u.window_increment, ==, 0xfffffffeu);
	NEXT();
	g_assert_cmpuint(f.type, ==, LL_FRAME_OPEN);
	g_assert_cmpuint(f.channel, ==, 2);
	NEXT();
	g_assert_cmpuint(f.type, ==, LL_FRAME_CLOSE);
	NEXT();
	g_assert_cmpuint(f.type, ==, LL_FRAME_ERROR);
	g_assert_cmpuint(f.u.error.code, ==, 25);
	g_assert_cmpmem(f.u.error.reason, f.u.error.reason_len,
			"protocol violation", 18);
	NEXT();
	g_assert_cmpuint(f.type, ==, LL_FRAME_ERROR);
	g_assert_cmpuint(f.u.error.reason_len, ==, 0);
#undef NEXT
	g_assert_cmpuint(left, ==, 0);
	g_assert_cmpint(ll_frame_decode(p, 0, 0, &f), ==, 0);
	ll_buf_free(b);
}

/* Every strict prefix of every frame is "need more", never an error. */
static void test_truncated_every_byte(void)
{
	struct ll_buf *b = ll_buf_new(1 << 20);
	struct ll_frame_hello h = { 1, 65536, 65536 };
	struct ll_frame f, sentinel;
	size_t i;

	g_assert_cmpint(ll_frame_put_hello(b, &h), ==, 0);
	g_assert_cmpint(ll_frame_put_data(b, 3, "abcdefgh", 8), ==, 0);
	g_assert_cmpint(ll_frame_put_window(b, 3, 100), ==, 0);
	g_assert_cmpint(ll_frame_put_open(b, 3), ==, 0);
	g_assert_cmpint(ll_frame_put_close(b, 3), ==, 0);
	g_assert_cmpint(ll_frame_put_error(b, 8, "bad"), ==, 0);

	{
		const uint8_t *p = ll_buf_data(b);
		size_t left = ll_buf_len(b);

		while (left > 0) {
			int whole = ll_frame_decode(p, left, 0, &f);

			g_assert_cmpint(whole, >, 0);
			for (i = 0; i < (size_t)whole; i++) {
				memset(&sentinel, 0xa5, sizeof(sentinel));
				g_assert_cmpint(ll_frame_decode(p, i, 0,
								&sentinel),
						==, 0);
				/* Output untouched when nothing decoded. */
				g_assert_cmpuint(sentinel.type, ==, 0xa5);
			}
			p += whole;
			left -= (size_t)whole;
		}
	}
	ll_buf_free(b);
}

static void test_max_payload(void)
{
	static uint8_t big[LL_FRAME_MAX_PAYLOAD + 1];
	struct ll_buf *b = ll_buf_new(2 * LL_FRAME_MAX_PAYLOAD);
	struct ll_frame f;
	uint8_t hdr[7] = { LL_FRAME_DATA, 0, 1, 0, 0x01, 0x00, 0x01 };

	/* Exactly the cap passes. */
	g_assert_cmpint(ll_frame_put_data(b, 1, big, LL_FRAME_MAX_PAYLOAD), ==,
			0);
	g_assert_cmpint(ll_frame_decode(ll_buf_data(b), ll_buf_len(b), 0, &f),
			==, (int)(LL_FRAME_HEADER_LEN + LL_FRAME_MAX_PAYLOAD));
	g_assert_cmpuint(f.len, ==, LL_FRAME_MAX_PAYLOAD);
	/* One more is refused when encoding... */
	ll_buf_reset(b);
	g_assert_cmpint(ll_frame_put_data(b, 1, big, sizeof(big)), ==,
			LL_ERR_TOO_LARGE);
	g_assert_cmpuint(ll_buf_len(b), ==, 0);
	/* ...and when decoding, from the header alone. */
	g_assert_cmpint(ll_frame_decode(hdr, sizeof(hdr), 0, &f), ==,
			LL_ERR_TOO_LARGE);
	/* A smaller announced cap: 0x1001 = 4097 > 4096. */
	hdr[4] = 0;
	hdr[5] = 0x10;
	hdr[6] = 0x01;
	g_assert_cmpint(ll_frame_decode(hdr, sizeof(hdr), 4096, &f), ==,
			LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_frame_decode(hdr, sizeof(hdr), 4097, &f), ==, 0);
	/* 4 GiB - 1: refused, nothing allocated or waited for. */
	memset(hdr + 3, 0xff, 4);
	g_assert_cmpint(ll_frame_decode(hdr, sizeof(hdr), 0, &f), ==,
			LL_ERR_TOO_LARGE);
	ll_buf_free(b);
}

static void test_unknown_type(void)
{
	static const uint8_t types[] = { 0, 7, 8, 0x80, 0xff };
	uint8_t frame[7] = { 0, 0, 0, 0, 0, 0, 0 };
	struct ll_frame f;
	size_t i;

	for (i = 0; i < sizeof(types); i++) {
		frame[0] = types[i];
		g_assert_cmpint(ll_frame_decode(frame, sizeof(frame), 0, &f),
				==, LL_ERR_UNKNOWN_TYPE);
		/* Known from the first byte. */
		g_assert_cmpint(ll_frame_decode(frame, 1, 0, &f), ==,
				LL_ERR_UNKNOWN_TYPE);
	}
	g_assert_cmpstr(ll_frame_type_name(9), ==, "unknown");
	g_assert_cmpstr(ll_frame_type_name(LL_FRAME_WINDOW), ==, "WINDOW");
}

static int decode_bytes(const uint8_t *d, size_t len)
{
	struct ll_frame f;

	return ll_frame_decode(d, len, 0, &f);
}

static void test_hello_bad(void)
{
	uint8_t w[sizeof(hello_wire)];

	memcpy(w, hello_wire, sizeof(w));
	w[12] = 2; /* version 2 */
	g_assert_cmpint(decode_bytes(w, sizeof(w)), ==, LL_ERR_BAD_VERSION);
	w[11] = 1; /* version 0x0102 */
	g_assert_cmpint(decode_bytes(w, sizeof(w)), ==, LL_ERR_BAD_VERSION);

	memcpy(w, hello_wire, sizeof(w));
	w[7] = 'X'; /* magic */
	g_assert_cmpint(decode_bytes(w, sizeof(w)), ==, LL_ERR_MALFORMED);

	memcpy(w, hello_wire, sizeof(w));
	w[2] = 1; /* channel 1 */
	g_assert_cmpint(decode_bytes(w, sizeof(w)), ==, LL_ERR_MALFORMED);

	memcpy(w, hello_wire, sizeof(w));
	w[14] = 0; /* max payload 0 */
	w[15] = 0;
	g_assert_cmpint(decode_bytes(w, sizeof(w)), ==, LL_ERR_MALFORMED);
	w[15] = 0x03; /* 1023 */
	w[16] = 0xff;
	g_assert_cmpint(decode_bytes(w, sizeof(w)), ==, LL_ERR_MALFORMED);
	w[15] = 0x04; /* 1024 */
	w[16] = 0x00;
	g_assert_cmpint(decode_bytes(w, sizeof(w)), ==, (int)sizeof(w));
	w[14] = 0x01; /* 65536 + 1024 */
	g_assert_cmpint(decode_bytes(w, sizeof(w)), ==, LL_ERR_MALFORMED);

	/* Wrong payload sizes: 13 and 15 bytes. */
	memcpy(w, hello_wire, sizeof(w));
	w[6] = 13;
	g_assert_cmpint(decode_bytes(w, sizeof(w) - 1), ==, LL_ERR_MALFORMED);
	{
		uint8_t l[sizeof(hello_wire) + 1];

		memcpy(l, hello_wire, sizeof(hello_wire));
		l[6] = 15;
		l[sizeof(l) - 1] = 0;
		g_assert_cmpint(decode_bytes(l, sizeof(l)), ==,
				LL_ERR_MALFORMED);
	}
}

static void test_fixed_sizes(void)
{
	static const uint8_t win3[] = {
		LL_FRAME_WINDOW, 0, 1, 0, 0, 0, 3, 0, 0, 1
	};
	static const uint8_t win5[] = {
		LL_FRAME_WINDOW, 0, 1, 0, 0, 0, 5, 0, 0, 0, 0, 1
	};
	static const uint8_t open1[] = { LL_FRAME_OPEN, 0, 2, 0, 0, 0, 1, 0 };
	static const uint8_t close1[] = { LL_FRAME_CLOSE, 0, 2, 0, 0, 0, 1, 0 };
	static const uint8_t err1[] = { LL_FRAME_ERROR, 0, 0, 0, 0, 0, 1, 0 };
	static const uint8_t err_ch[] = {
		LL_FRAME_ERROR, 0, 1, 0, 0, 0, 2, 0, 1
	};
	static const uint8_t err_nul[] = {
		LL_FRAME_ERROR, 0, 0, 0, 0, 0, 4, 0, 1, 'a', 0
	};

	g_assert_cmpint(decode_bytes(win3, sizeof(win3)), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(decode_bytes(win5, sizeof(win5)), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(decode_bytes(open1, sizeof(open1)), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(decode_bytes(close1, sizeof(close1)), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(decode_bytes(err1, sizeof(err1)), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(decode_bytes(err_ch, sizeof(err_ch)), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(decode_bytes(err_nul, sizeof(err_nul)), ==,
			LL_ERR_MALFORMED);
}

static void test_encode_errors(void)
{
	struct ll_buf *small = ll_buf_new(10);
	struct ll_buf *b = ll_buf_new(4096);
	struct ll_frame_hello h = { 1, 4096, 4096 };
	struct ll_frame f;
	GString *long_reason = g_string_new(NULL);
	int n;

	g_assert_cmpint(ll_frame_put_data(small, 1, "x", 1), ==, 0);
	/* No room: all or nothing. */
	g_assert_cmpint(ll_frame_put_data(small, 1, "xyz", 3), ==,
			LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_frame_put_hello(small, &h), ==, LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_frame_put_window(small, 1, 5), ==,
			LL_ERR_TOO_LARGE);
	g_assert_cmpuint(ll_buf_len(small), ==, 8);
	g_assert_cmpint(ll_frame_put(small, 0, 1, NULL, 0), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_frame_put(small, 9, 1, NULL, 0), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_frame_put(NULL, 2, 1, NULL, 0), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_frame_put(small, 2, 1, NULL, 5), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_frame_put_hello(small, NULL), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_frame_decode(NULL, 5, 0, &f), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_frame_decode(hello_wire, 5, 0, NULL), ==,
			LL_ERR_INVALID_ARG);

	/* A long reason is cut so that every peer accepts it. */
	while (long_reason->len < 3000)
		g_string_append(long_reason, "\xc3\xa9");
	g_assert_cmpint(ll_frame_put_error(b, 25, long_reason->str), ==, 0);
	n = ll_frame_decode(ll_buf_data(b), ll_buf_len(b),
			    LL_FRAME_MIN_PAYLOAD, &f);
	g_assert_cmpint(n, >, 0);
	g_assert_cmpuint(f.u.error.reason_len, <=, LL_FRAME_MIN_PAYLOAD - 2);
	g_assert_cmpuint(f.u.error.reason_len % 2, ==, 0); /* whole chars */
	g_assert_true(g_utf8_validate(f.u.error.reason,
				      (gssize)f.u.error.reason_len, NULL));
	g_string_free(long_reason, TRUE);
	ll_buf_free(small);
	ll_buf_free(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/frame/hello_wire", test_hello_wire);
	g_test_add_func("/frame/roundtrip", test_roundtrip);
	g_test_add_func("/frame/truncated_every_byte",
			test_truncated_every_byte);
	g_test_add_func("/frame/max_payload", test_max_payload);
	g_test_add_func("/frame/unknown_type", test_unknown_type);
	g_test_add_func("/frame/hello_bad", test_hello_bad);
	g_test_add_func("/frame/fixed_sizes", test_fixed_sizes);
	g_test_add_func("/frame/encode_errors", test_encode_errors);
	return g_test_run();
}
