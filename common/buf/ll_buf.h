/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bounded byte buffer for all wire parsing and building (after OpenSSH's
 * sshbuf and curl's dynbuf).  The maximum size is fixed at creation; every
 * append checks it before allocating; every get fails on short input with
 * LL_ERR_TRUNCATED and leaves both the buffer and the output untouched.
 * Integers are big-endian (network order).
 *
 * Layout: [consumed | readable data | free room].  Reads consume from the
 * front; appends go to the end.
 */
#ifndef LL_BUF_H
#define LL_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct ll_buf;

/* A new empty buffer that will never hold more than max_size bytes. */
struct ll_buf *ll_buf_new(size_t max_size);
/* Frees the buffer; wipes its memory first (it may hold secrets). NULL ok. */
void ll_buf_free(struct ll_buf *buf);

/* A read-only view over caller memory (no copy, no allocation). */
struct ll_buf_view {
	const uint8_t *data;
	size_t len;
	size_t off;
};
void ll_buf_view_init(struct ll_buf_view *v, const void *data, size_t len);

size_t ll_buf_len(const struct ll_buf *buf); /* readable bytes */
size_t ll_buf_max(const struct ll_buf *buf);
size_t ll_buf_room(const struct ll_buf *buf);         /* max - len */
const uint8_t *ll_buf_data(const struct ll_buf *buf); /* readable start */
void ll_buf_reset(struct ll_buf *buf);                /* empty, keeps memory */

/* Drop n readable bytes from the front; LL_ERR_TRUNCATED if fewer. */
int ll_buf_consume(struct ll_buf *buf, size_t n);

/* Appends: LL_ERR_TOO_LARGE if max_size would be exceeded, LL_ERR_NOMEM. */
int ll_buf_put(struct ll_buf *buf, const void *data, size_t len);
int ll_buf_put_u8(struct ll_buf *buf, uint8_t v);
int ll_buf_put_u16(struct ll_buf *buf, uint16_t v);
int ll_buf_put_u32(struct ll_buf *buf, uint32_t v);
int ll_buf_put_u64(struct ll_buf *buf, uint64_t v);
int ll_buf_putf(struct ll_buf *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Reserve len bytes at the end for the caller to fill; *out points there. */
int ll_buf_reserve(struct ll_buf *buf, size_t len, uint8_t **out);

/* Reads from a buffer (consuming).  A NULL output skips the item. */
int ll_buf_get_u8(struct ll_buf *buf, uint8_t *v);
int ll_buf_get_u16(struct ll_buf *buf, uint16_t *v);
int ll_buf_get_u32(struct ll_buf *buf, uint32_t *v);
int ll_buf_get_u64(struct ll_buf *buf, uint64_t *v);
int ll_buf_get_bytes(struct ll_buf *buf, void *out, size_t len);

/* The same reads over a view. */
int ll_view_get_u8(struct ll_buf_view *v, uint8_t *out);
int ll_view_get_u16(struct ll_buf_view *v, uint16_t *out);
int ll_view_get_u32(struct ll_buf_view *v, uint32_t *out);
int ll_view_get_u64(struct ll_buf_view *v, uint64_t *out);
int ll_view_get_bytes(struct ll_buf_view *v, void *out, size_t len);
/* Points *out at len bytes inside the view and consumes them (no copy). */
int ll_view_get_ptr(struct ll_buf_view *v, size_t len, const uint8_t **out);
size_t ll_view_remaining(const struct ll_buf_view *v);

#endif
