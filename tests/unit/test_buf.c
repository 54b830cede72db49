/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "ll_buf.h"
#include "ll_err.h"

static void test_new_free(void)
{
	struct ll_buf *b = ll_buf_new(100);

	g_assert_nonnull(b);
	g_assert_cmpuint(ll_buf_len(b), ==, 0);
	g_assert_cmpuint(ll_buf_max(b), ==, 100);
	g_assert_cmpuint(ll_buf_room(b), ==, 100);
	g_assert_nonnull(ll_buf_data(b));
	ll_buf_free(b);
	ll_buf_free(NULL);
}

static void test_put_get_ints(void)
{
	struct ll_buf *b = ll_buf_new(64);
	uint8_t u8 = 0;
	uint16_t u16 = 0;
	uint32_t u32 = 0;
	uint64_t u64 = 0;
	static const uint8_t wire[] = {
		0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01,
		0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	};

	g_assert_cmpint(ll_buf_put_u8(b, 0xab), ==, LL_OK);
	g_assert_cmpint(ll_buf_put_u16(b, 0x1234), ==, LL_OK);
	g_assert_cmpint(ll_buf_put_u32(b, 0xdeadbeef), ==, LL_OK);
	g_assert_cmpint(ll_buf_put_u64(b, 0x0123456789abcdefULL), ==, LL_OK);
	/* Network byte order on the wire. */
	g_assert_cmpmem(ll_buf_data(b), ll_buf_len(b), wire, sizeof(wire));
	g_assert_cmpuint(ll_buf_room(b), ==, 64 - sizeof(wire));

	g_assert_cmpint(ll_buf_get_u8(b, &u8), ==, LL_OK);
	g_assert_cmpint(ll_buf_get_u16(b, &u16), ==, LL_OK);
	g_assert_cmpint(ll_buf_get_u32(b, &u32), ==, LL_OK);
	g_assert_cmpint(ll_buf_get_u64(b, &u64), ==, LL_OK);
	g_assert_cmpuint(u8, ==, 0xab);
	g_assert_cmpuint(u16, ==, 0x1234);
	g_assert_cmpuint(u32, ==, 0xdeadbeef);
	g_assert_cmpuint(u64, ==, 0x0123456789abcdefULL);
	g_assert_cmpuint(ll_buf_len(b), ==, 0);
	ll_buf_free(b);
}

static void test_extreme_values(void)
{
	struct ll_buf *b = ll_buf_new(32);
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	g_assert_cmpint(ll_buf_put_u16(b, UINT16_MAX), ==, LL_OK);
	g_assert_cmpint(ll_buf_put_u32(b, UINT32_MAX), ==, LL_OK);
	g_assert_cmpint(ll_buf_put_u64(b, UINT64_MAX), ==, LL_OK);
	g_assert_cmpint(ll_buf_put_u64(b, 0), ==, LL_OK);
	g_assert_cmpint(ll_buf_get_u16(b, &u16), ==, LL_OK);
	g_assert_cmpint(ll_buf_get_u32(b, &u32), ==, LL_OK);
	g_assert_cmpint(ll_buf_get_u64(b, &u64), ==, LL_OK);
	g_assert_cmpuint(u16, ==, UINT16_MAX);
	g_assert_cmpuint(u32, ==, UINT32_MAX);
	g_assert_cmpuint(u64, ==, UINT64_MAX);
	g_assert_cmpint(ll_buf_get_u64(b, &u64), ==, LL_OK);
	g_assert_cmpuint(u64, ==, 0);
	ll_buf_free(b);
}

/* Every get on short input: LL_ERR_TRUNCATED, buffer and output intact. */
static void test_truncated_gets(void)
{
	struct ll_buf *b = ll_buf_new(16);
	uint8_t u8 = 0x5a, out[8];
	uint16_t u16 = 0x5a5a;
	uint32_t u32 = 0x5a5a5a5a;
	uint64_t u64 = 0x5a5a5a5a5a5a5a5aULL;
	size_t n;

	/* Empty buffer. */
	g_assert_cmpint(ll_buf_get_u8(b, &u8), ==, LL_ERR_TRUNCATED);
	g_assert_cmpuint(u8, ==, 0x5a);

	for (n = 1; n < 8; n++) {
		ll_buf_reset(b);
		g_assert_cmpint(ll_buf_put(b, "\x01\x02\x03\x04\x05\x06\x07",
					   n),
				==, LL_OK);
		if (n < 2) {
			g_assert_cmpint(ll_buf_get_u16(b, &u16), ==,
					LL_ERR_TRUNCATED);
			g_assert_cmpuint(u16, ==, 0x5a5a);
		}
		if (n < 4) {
			g_assert_cmpint(ll_buf_get_u32(b, &u32), ==,
					LL_ERR_TRUNCATED);
			g_assert_cmpuint(u32, ==, 0x5a5a5a5a);
		}
		g_assert_cmpint(ll_buf_get_u64(b, &u64), ==, LL_ERR_TRUNCATED);
		g_assert_cmpuint(u64, ==, 0x5a5a5a5a5a5a5a5aULL);
		memset(out, 0x5a, sizeof(out));
		g_assert_cmpint(ll_buf_get_bytes(b, out, n + 1), ==,
				LL_ERR_TRUNCATED);
		g_assert_cmpuint(out[0], ==, 0x5a);
		/* Nothing was consumed. */
		g_assert_cmpuint(ll_buf_len(b), ==, n);
		g_assert_cmpmem(ll_buf_data(b), n,
				"\x01\x02\x03\x04\x05\x06\x07", n);
		g_assert_cmpint(ll_buf_get_bytes(b, out, n), ==, LL_OK);
		g_assert_cmpmem(out, n, "\x01\x02\x03\x04\x05\x06\x07", n);
	}
	/* A huge length must not wrap around. */
	g_assert_cmpint(ll_buf_put_u8(b, 1), ==, LL_OK);
	g_assert_cmpint(ll_buf_get_bytes(b, out, SIZE_MAX), ==,
			LL_ERR_TRUNCATED);
	g_assert_cmpint(ll_buf_consume(b, SIZE_MAX), ==, LL_ERR_TRUNCATED);
	g_assert_cmpuint(ll_buf_len(b), ==, 1);
	ll_buf_free(b);
}

static void test_consume(void)
{
	struct ll_buf *b = ll_buf_new(16);
	uint8_t v;

	g_assert_cmpint(ll_buf_consume(b, 0), ==, LL_OK);
	g_assert_cmpint(ll_buf_consume(b, 1), ==, LL_ERR_TRUNCATED);
	g_assert_cmpint(ll_buf_put(b, "abcdef", 6), ==, LL_OK);
	g_assert_cmpint(ll_buf_consume(b, 7), ==, LL_ERR_TRUNCATED);
	g_assert_cmpuint(ll_buf_len(b), ==, 6);
	g_assert_cmpint(ll_buf_consume(b, 2), ==, LL_OK);
	g_assert_cmpmem(ll_buf_data(b), ll_buf_len(b), "cdef", 4);
	g_assert_cmpint(ll_buf_get_u8(b, &v), ==, LL_OK);
	g_assert_cmpuint(v, ==, 'c');
	/* NULL output skips the item. */
	g_assert_cmpint(ll_buf_get_u8(b, NULL), ==, LL_OK);
	g_assert_cmpint(ll_buf_get_bytes(b, NULL, 2), ==, LL_OK);
	g_assert_cmpuint(ll_buf_len(b), ==, 0);
	g_assert_cmpint(ll_buf_consume(b, 1), ==, LL_ERR_TRUNCATED);
	ll_buf_free(b);
}

/* The cap: exactly max fits, one byte more fails and changes nothing. */
static void test_cap(void)
{
	struct ll_buf *b = ll_buf_new(8);
	uint8_t *p = (uint8_t *)0x1;

	g_assert_cmpint(ll_buf_put(b, "123456789", 9), ==, LL_ERR_TOO_LARGE);
	g_assert_cmpuint(ll_buf_len(b), ==, 0);
	g_assert_cmpint(ll_buf_put(b, "1234567", 7), ==, LL_OK);
	g_assert_cmpint(ll_buf_put_u16(b, 1), ==, LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_buf_put_u32(b, 1), ==, LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_buf_put_u64(b, 1), ==, LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_buf_putf(b, "%s", "ab"), ==, LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_buf_reserve(b, 2, &p), ==, LL_ERR_TOO_LARGE);
	g_assert_true(p == (uint8_t *)0x1);
	g_assert_cmpuint(ll_buf_len(b), ==, 7);
	g_assert_cmpint(ll_buf_put_u8(b, '8'), ==, LL_OK);
	g_assert_cmpuint(ll_buf_room(b), ==, 0);
	g_assert_cmpint(ll_buf_put_u8(b, '9'), ==, LL_ERR_TOO_LARGE);
	g_assert_cmpmem(ll_buf_data(b), ll_buf_len(b), "12345678", 8);
	/* Lengths near SIZE_MAX must not wrap the check. */
	g_assert_cmpint(ll_buf_reserve(b, SIZE_MAX, &p), ==, LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_buf_put(b, "x", SIZE_MAX), ==, LL_ERR_TOO_LARGE);
	/* Consuming frees room again (the cap counts readable bytes). */
	g_assert_cmpint(ll_buf_consume(b, 3), ==, LL_OK);
	g_assert_cmpuint(ll_buf_room(b), ==, 3);
	g_assert_cmpint(ll_buf_put(b, "9ab", 3), ==, LL_OK);
	g_assert_cmpmem(ll_buf_data(b), ll_buf_len(b),
			"45678"
			"9ab",
			8);
	g_assert_cmpint(ll_buf_put_u8(b, 'c'), ==, LL_ERR_TOO_LARGE);
	ll_buf_free(b);

	/* A zero-capacity buffer takes nothing but empty appends. */
	b = ll_buf_new(0);
	g_assert_cmpint(ll_buf_put(b, "", 0), ==, LL_OK);
	g_assert_cmpint(ll_buf_put_u8(b, 0), ==, LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_buf_putf(b, "%s", ""), ==, LL_OK);
	g_assert_cmpuint(ll_buf_len(b), ==, 0);
	ll_buf_free(b);

	/* A huge cap allocates lazily, not at creation. */
	b = ll_buf_new(SIZE_MAX);
	g_assert_nonnull(b);
	g_assert_cmpint(ll_buf_put_u8(b, 7), ==, LL_OK);
	g_assert_cmpuint(ll_buf_room(b), ==, SIZE_MAX - 1);
	g_assert_cmpint(ll_buf_put(b, "x", SIZE_MAX), ==, LL_ERR_TOO_LARGE);
	ll_buf_free(b);
}

/* Growth past the first allocation and compaction keep the data. */
static void test_grow_and_compact(void)
{
	struct ll_buf *b = ll_buf_new(100000);
	uint8_t chunk[1000], out[1000];
	size_t i, j;

	for (i = 0; i < 100; i++) {
		memset(chunk, (int)i, sizeof(chunk));
		g_assert_cmpint(ll_buf_put(b, chunk, sizeof(chunk)), ==,
				LL_OK);
	}
	g_assert_cmpuint(ll_buf_len(b), ==, 100000);
	g_assert_cmpint(ll_buf_put_u8(b, 0), ==, LL_ERR_TOO_LARGE);
	/* Interleave reads and writes so the data must slide forward. */
	for (i = 0; i < 300; i++) {
		g_assert_cmpint(ll_buf_get_bytes(b, out, sizeof(out)), ==,
				LL_OK);
		for (j = 0; j < sizeof(out); j++)
			g_assert_cmpuint(out[j], ==, (uint8_t)(i % 100));
		memset(chunk, (int)(i % 100), sizeof(chunk));
		g_assert_cmpint(ll_buf_put(b, chunk, sizeof(chunk)), ==,
				LL_OK);
	}
	g_assert_cmpuint(ll_buf_len(b), ==, 100000);
	ll_buf_free(b);
}

static void test_putf(void)
{
	struct ll_buf *b = ll_buf_new(32);

	g_assert_cmpint(ll_buf_putf(b, "%d-%s", 42, "x"), ==, LL_OK);
	g_assert_cmpint(ll_buf_putf(b, "%u", 7u), ==, LL_OK);
	/* No NUL is appended. */
	g_assert_cmpmem(ll_buf_data(b), ll_buf_len(b), "42-x7", 5);
	/* Exactly filling the room is fine. */
	g_assert_cmpint(ll_buf_putf(b, "%27s", "y"), ==, LL_OK);
	g_assert_cmpuint(ll_buf_room(b), ==, 0);
	g_assert_cmpint(ll_buf_putf(b, "%s", "z"), ==, LL_ERR_TOO_LARGE);
	g_assert_cmpuint(ll_buf_len(b), ==, 32);
	ll_buf_free(b);
}

static void test_reserve(void)
{
	struct ll_buf *b = ll_buf_new(16);
	uint8_t *p = NULL;

	g_assert_cmpint(ll_buf_reserve(b, 0, &p), ==, LL_OK);
	g_assert_nonnull(p);
	g_assert_cmpuint(ll_buf_len(b), ==, 0);
	g_assert_cmpint(ll_buf_put(b, "ab", 2), ==, LL_OK);
	g_assert_cmpint(ll_buf_reserve(b, 3, &p), ==, LL_OK);
	memcpy(p, "cde", 3);
	g_assert_cmpmem(ll_buf_data(b), ll_buf_len(b), "abcde", 5);
	g_assert_cmpint(ll_buf_reserve(b, 3, NULL), ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_buf_put(b, NULL, 1), ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_buf_put(b, NULL, 0), ==, LL_OK);
	g_assert_cmpuint(ll_buf_len(b), ==, 5);
	ll_buf_free(b);
}

static void test_reset(void)
{
	struct ll_buf *b = ll_buf_new(4);
	uint32_t v;

	g_assert_cmpint(ll_buf_put_u32(b, 0x01020304), ==, LL_OK);
	g_assert_cmpuint(ll_buf_room(b), ==, 0);
	ll_buf_reset(b);
	g_assert_cmpuint(ll_buf_len(b), ==, 0);
	g_assert_cmpuint(ll_buf_room(b), ==, 4);
	g_assert_cmpint(ll_buf_get_u8(b, NULL), ==, LL_ERR_TRUNCATED);
	g_assert_cmpint(ll_buf_put_u32(b, 0x05060708), ==, LL_OK);
	g_assert_cmpint(ll_buf_get_u32(b, &v), ==, LL_OK);
	g_assert_cmpuint(v, ==, 0x05060708);
	ll_buf_free(b);
}

static void test_view(void)
{
	static const uint8_t wire[] = {
		0x7f, 0xfe, 0xdc, 0x01, 0x02, 0x03, 0x04, 1,   2,
		3,    4,    5,    6,    7,    8,    'h',  'i', '!',
	};
	struct ll_buf_view v;
	uint8_t u8, out[4];
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	const uint8_t *p = NULL;

	ll_buf_view_init(&v, wire, sizeof(wire));
	g_assert_cmpuint(ll_view_remaining(&v), ==, sizeof(wire));
	g_assert_cmpint(ll_view_get_u8(&v, &u8), ==, LL_OK);
	g_assert_cmpuint(u8, ==, 0x7f);
	g_assert_cmpint(ll_view_get_u16(&v, &u16), ==, LL_OK);
	g_assert_cmpuint(u16, ==, 0xfedc);
	g_assert_cmpint(ll_view_get_u32(&v, &u32), ==, LL_OK);
	g_assert_cmpuint(u32, ==, 0x01020304);
	g_assert_cmpint(ll_view_get_u64(&v, &u64), ==, LL_OK);
	g_assert_cmpuint(u64, ==, 0x0102030405060708ULL);
	g_assert_cmpint(ll_view_get_ptr(&v, 2, &p), ==, LL_OK);
	g_assert_true(p == wire + 15);
	g_assert_cmpuint(ll_view_remaining(&v), ==, 1);

	/* Short reads fail, consume nothing, leave outputs alone. */
	u16 = 0x5a5a;
	u32 = 0x5a5a5a5a;
	u64 = 0x5a;
	memset(out, 0x5a, sizeof(out));
	g_assert_cmpint(ll_view_get_u16(&v, &u16), ==, LL_ERR_TRUNCATED);
	g_assert_cmpint(ll_view_get_u32(&v, &u32), ==, LL_ERR_TRUNCATED);
	g_assert_cmpint(ll_view_get_u64(&v, &u64), ==, LL_ERR_TRUNCATED);
	g_assert_cmpint(ll_view_get_bytes(&v, out, 2), ==, LL_ERR_TRUNCATED);
	g_assert_cmpint(ll_view_get_ptr(&v, 2, &p), ==, LL_ERR_TRUNCATED);
	g_assert_cmpint(ll_view_get_ptr(&v, SIZE_MAX, &p), ==,
			LL_ERR_TRUNCATED);
	g_assert_true(p == wire + 15);
	g_assert_cmpuint(u16, ==, 0x5a5a);
	g_assert_cmpuint(u32, ==, 0x5a5a5a5a);
	g_assert_cmpuint(u64, ==, 0x5a);
	g_assert_cmpuint(out[0], ==, 0x5a);
	g_assert_cmpuint(ll_view_remaining(&v), ==, 1);
	g_assert_cmpint(ll_view_get_bytes(&v, out, 1), ==, LL_OK);
	g_assert_cmpuint(out[0], ==, '!');
	g_assert_cmpint(ll_view_get_u8(&v, &u8), ==, LL_ERR_TRUNCATED);
	g_assert_cmpint(ll_view_get_bytes(&v, out, 0), ==, LL_OK);
	g_assert_cmpuint(ll_view_remaining(&v), ==, 0);

	/* An empty view over NULL is valid. */
	ll_buf_view_init(&v, NULL, 0);
	g_assert_cmpuint(ll_view_remaining(&v), ==, 0);
	g_assert_cmpint(ll_view_get_ptr(&v, 0, &p), ==, LL_OK);
	g_assert_nonnull(p);
	g_assert_cmpint(ll_view_get_u8(&v, &u8), ==, LL_ERR_TRUNCATED);
}

/* A typical length-prefixed parse: the length is checked before use. */
static void test_length_prefixed(void)
{
	struct ll_buf *b = ll_buf_new(64);
	struct ll_buf_view v;
	uint32_t n;
	const uint8_t *p;

	g_assert_cmpint(ll_buf_put_u32(b, 0xffffffff), ==, LL_OK);
	g_assert_cmpint(ll_buf_put(b, "abc", 3), ==, LL_OK);
	ll_buf_view_init(&v, ll_buf_data(b), ll_buf_len(b));
	g_assert_cmpint(ll_view_get_u32(&v, &n), ==, LL_OK);
	g_assert_cmpint(ll_view_get_ptr(&v, n, &p), ==, LL_ERR_TRUNCATED);
	g_assert_cmpuint(ll_view_remaining(&v), ==, 3);
	ll_buf_free(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/buf/new_free", test_new_free);
	g_test_add_func("/buf/put_get_ints", test_put_get_ints);
	g_test_add_func("/buf/extreme_values", test_extreme_values);
	g_test_add_func("/buf/truncated_gets", test_truncated_gets);
	g_test_add_func("/buf/consume", test_consume);
	g_test_add_func("/buf/cap", test_cap);
	g_test_add_func("/buf/grow_and_compact", test_grow_and_compact);
	g_test_add_func("/buf/putf", test_putf);
	g_test_add_func("/buf/reserve", test_reserve);
	g_test_add_func("/buf/reset", test_reset);
	g_test_add_func("/buf/view", test_view);
	g_test_add_func("/buf/length_prefixed", test_length_prefixed);
	return g_test_run();
}
