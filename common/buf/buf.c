/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bounded byte buffer (see ll_buf.h).  Memory grows lazily up to max_size;
 * a grow never uses realloc() so that the old block, which may hold
 * secrets, can be wiped before it is released.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_buf.h"
#include "ll_util.h"

/* First allocation; small enough for headers, big enough to avoid churn. */
#define LL_BUF_MIN_ALLOC 256

struct ll_buf {
	uint8_t *d;   /* allocation, NULL until the first append */
	size_t alloc; /* bytes allocated at d */
	size_t off;   /* start of readable data */
	size_t end;   /* end of readable data (off <= end <= alloc) */
	size_t max;   /* cap on readable bytes, fixed at creation */
};

/* Returned for empty buffers/views so callers never see NULL + offset. */
static const uint8_t ll_buf_empty[1];

static void wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}

struct ll_buf *ll_buf_new(size_t max_size)
{
	struct ll_buf *buf;

	if ((buf = calloc(1, sizeof(*buf))) == NULL)
		return NULL;
	buf->max = max_size;
	return buf;
}

void ll_buf_free(struct ll_buf *buf)
{
	if (buf == NULL)
		return;
	wipe(buf->d, buf->alloc);
	free(buf->d);
	explicit_bzero(buf, sizeof(*buf));
	free(buf);
}

void ll_buf_view_init(struct ll_buf_view *v, const void *data, size_t len)
{
	v->data = data != NULL ? data : ll_buf_empty;
	v->len = data != NULL ? len : 0;
	v->off = 0;
}

size_t ll_buf_len(const struct ll_buf *buf)
{
	return buf->end - buf->off;
}

size_t ll_buf_max(const struct ll_buf *buf)
{
	return buf->max;
}

size_t ll_buf_room(const struct ll_buf *buf)
{
	return buf->max - ll_buf_len(buf);
}

const uint8_t *ll_buf_data(const struct ll_buf *buf)
{
	if (buf->d == NULL)
		return ll_buf_empty;
	return buf->d + buf->off;
}

void ll_buf_reset(struct ll_buf *buf)
{
	/* The old contents may be secret; the memory stays for reuse. */
	wipe(buf->d, buf->end);
	buf->off = buf->end = 0;
}

int ll_buf_consume(struct ll_buf *buf, size_t n)
{
	if (n > ll_buf_len(buf))
		return LL_ERR_TRUNCATED;
	buf->off += n;
	if (buf->off == buf->end) {
		/* Empty again: restart at the front, no compaction needed. */
		wipe(buf->d, buf->end);
		buf->off = buf->end = 0;
	}
	return LL_OK;
}

/*
 * Make room for len more bytes after end, compacting or growing as needed.
 * The cap applies to readable bytes (len + ll_buf_len <= max), checked
 * before any allocation.
 */
static int ll_buf_make_room(struct ll_buf *buf, size_t len)
{
	size_t have = ll_buf_len(buf), need, nalloc;
	uint8_t *nd;

	if (len > buf->max || have > buf->max - len)
		return LL_ERR_TOO_LARGE;
	need = have + len; /* cannot overflow: need <= max */
	if (buf->alloc - buf->end >= len)
		return LL_OK;
	if (buf->alloc >= need) {
		/* Enough memory overall: slide the readable data forward. */
		memmove(buf->d, buf->d + buf->off, have);
		wipe(buf->d + have, buf->end - have);
		buf->off = 0;
		buf->end = have;
		return LL_OK;
	}
	/* Grow geometrically, never beyond max. */
	nalloc = buf->alloc < LL_BUF_MIN_ALLOC ? LL_BUF_MIN_ALLOC : buf->alloc;
	while (nalloc < need && nalloc <= SIZE_MAX / 2)
		nalloc *= 2;
	if (nalloc < need)
		nalloc = need;
	if (nalloc > buf->max)
		nalloc = buf->max;
	if ((nd = malloc(nalloc)) == NULL)
		return LL_ERR_NOMEM;
	if (have > 0)
		memcpy(nd, buf->d + buf->off, have);
	wipe(buf->d, buf->alloc);
	free(buf->d);
	buf->d = nd;
	buf->alloc = nalloc;
	buf->off = 0;
	buf->end = have;
	return LL_OK;
}

int ll_buf_reserve(struct ll_buf *buf, size_t len, uint8_t **out)
{
	int r;

	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	if (len == 0) {
		/* Nothing to fill (so nothing is written through *out). */
		*out = buf->d != NULL ? buf->d + buf->end
				      : (uint8_t *)ll_buf_empty;
		return LL_OK;
	}
	if ((r = ll_buf_make_room(buf, len)) != 0)
		return r;
	*out = buf->d + buf->end;
	buf->end += len;
	return LL_OK;
}

int ll_buf_put(struct ll_buf *buf, const void *data, size_t len)
{
	uint8_t *p;
	int r;

	if (len == 0)
		return LL_OK;
	if (data == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_buf_reserve(buf, len, &p)) != 0)
		return r;
	memcpy(p, data, len);
	return LL_OK;
}

int ll_buf_put_u8(struct ll_buf *buf, uint8_t v)
{
	return ll_buf_put(buf, &v, 1);
}

int ll_buf_put_u16(struct ll_buf *buf, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return ll_buf_put(buf, b, sizeof(b));
}

int ll_buf_put_u32(struct ll_buf *buf, uint32_t v)
{
	uint8_t b[4] = {
		(uint8_t)(v >> 24),
		(uint8_t)(v >> 16),
		(uint8_t)(v >> 8),
		(uint8_t)v,
	};

	return ll_buf_put(buf, b, sizeof(b));
}

int ll_buf_put_u64(struct ll_buf *buf, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
	return ll_buf_put(buf, b, sizeof(b));
}

int ll_buf_putf(struct ll_buf *buf, const char *fmt, ...)
{
	va_list ap;
	char *tmp = NULL;
	size_t len;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return LL_ERR_INVALID_ARG;
	len = (size_t)n;
	/* Check the cap before allocating the scratch copy. */
	if (len > ll_buf_room(buf))
		return LL_ERR_TOO_LARGE;
	if (len == 0)
		return LL_OK;
	if ((tmp = malloc(len + 1)) == NULL)
		return LL_ERR_NOMEM;
	va_start(ap, fmt);
	n = vsnprintf(tmp, len + 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n != len) {
		r = LL_ERR_INTERNAL;
		goto out;
	}
	r = ll_buf_put(buf, tmp, len);
out:
	wipe(tmp, len + 1);
	free(tmp);
	return r;
}

/* Big-endian decode of n <= 8 bytes. */
static uint64_t peek_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Reads: out may be NULL to skip the item (as sshbuf allows). */
int ll_buf_get_bytes(struct ll_buf *buf, void *out, size_t len)
{
	if (len > ll_buf_len(buf))
		return LL_ERR_TRUNCATED;
	if (out != NULL && len > 0)
		memcpy(out, buf->d + buf->off, len);
	return ll_buf_consume(buf, len);
}

int ll_buf_get_u8(struct ll_buf *buf, uint8_t *v)
{
	return ll_buf_get_bytes(buf, v, 1);
}

int ll_buf_get_u16(struct ll_buf *buf, uint16_t *v)
{
	if (ll_buf_len(buf) < 2)
		return LL_ERR_TRUNCATED;
	if (v != NULL)
		*v = (uint16_t)peek_be(buf->d + buf->off, 2);
	return ll_buf_consume(buf, 2);
}

int ll_buf_get_u32(struct ll_buf *buf, uint32_t *v)
{
	if (ll_buf_len(buf) < 4)
		return LL_ERR_TRUNCATED;
	if (v != NULL)
		*v = (uint32_t)peek_be(buf->d + buf->off, 4);
	return ll_buf_consume(buf, 4);
}

int ll_buf_get_u64(struct ll_buf *buf, uint64_t *v)
{
	if (ll_buf_len(buf) < 8)
		return LL_ERR_TRUNCATED;
	if (v != NULL)
		*v = peek_be(buf->d + buf->off, 8);
	return ll_buf_consume(buf, 8);
}

size_t ll_view_remaining(const struct ll_buf_view *v)
{
	return v->len - v->off;
}

int ll_view_get_ptr(struct ll_buf_view *v, size_t len, const uint8_t **out)
{
	if (len > ll_view_remaining(v))
		return LL_ERR_TRUNCATED;
	if (out != NULL)
		*out = v->data != NULL ? v->data + v->off : ll_buf_empty;
	v->off += len;
	return LL_OK;
}

int ll_view_get_bytes(struct ll_buf_view *v, void *out, size_t len)
{
	const uint8_t *p;
	int r;

	if ((r = ll_view_get_ptr(v, len, &p)) != 0)
		return r;
	if (out != NULL && len > 0)
		memcpy(out, p, len);
	return LL_OK;
}

int ll_view_get_u8(struct ll_buf_view *v, uint8_t *out)
{
	return ll_view_get_bytes(v, out, 1);
}

int ll_view_get_u16(struct ll_buf_view *v, uint16_t *out)
{
	const uint8_t *p;
	int r;

	if ((r = ll_view_get_ptr(v, 2, &p)) != 0)
		return r;
	if (out != NULL)
		*out = (uint16_t)peek_be(p, 2);
	return LL_OK;
}

int ll_view_get_u32(struct ll_buf_view *v, uint32_t *out)
{
	const uint8_t *p;
	int r;

	if ((r = ll_view_get_ptr(v, 4, &p)) != 0)
		return r;
	if (out != NULL)
		*out = (uint32_t)peek_be(p, 4);
	return LL_OK;
}

int ll_view_get_u64(struct ll_buf_view *v, uint64_t *out)
{
	const uint8_t *p;
	int r;

	if ((r = ll_view_get_ptr(v, 8, &p)) != 0)
		return r;
	if (out != NULL)
		*out = peek_be(p, 8);
	return LL_OK;
}
