/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * File transfer chunks and safe names (ll_xfer.h).  Pure functions over
 * bytes: the applet and the agent drive them from their session pumps,
 * the unit test and the fuzzer directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "ll_buf.h"
#include "ll_err.h"
#include "ll_text.h"
#include "ll_util.h"
#include "ll_xfer.h"

/* After a chunk that did not shrink, send this many raw before trying
 * zlib again, twice as many after each further miss up to the cap:
 * deflate on incompressible data costs more CPU than the link saves. */
#define XFER_SKIP_AFTER_MISS 8u
#define XFER_SKIP_MAX 1024u
/* Longest extension kept whole when a name is cut. */
#define XFER_EXT_KEEP 16u
#define XFER_MIN(a, b) ((a) < (b) ? (a) : (b))

struct ll_xfer_enc {
	uint8_t *tmp; /* deflate output, compressBound(LL_XFER_CHUNK) */
	size_t tmp_size;
	unsigned skip;   /* raw chunks still to send before trying zlib */
	unsigned misses; /* tries in a row that did not shrink */
	uint64_t n_zlib, n_raw;
};

struct ll_xfer_enc *ll_xfer_enc_new(void)
{
	struct ll_xfer_enc *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->tmp_size = compressBound(LL_XFER_CHUNK);
	if ((e->tmp = malloc(e->tmp_size)) == NULL) {
		free(e);
		return NULL;
	}
	return e;
}

void ll_xfer_enc_free(struct ll_xfer_enc *e)
{
	if (e == NULL)
		return;
	free(e->tmp);
	free(e);
}

static int put_chunk(struct ll_buf *out, uint8_t kind, size_t raw_len,
		     const void *wire, size_t wire_len)
{
	uint8_t *p;
	int r;

	if ((r = ll_buf_reserve(out, LL_XFER_HDR + wire_len, &p)) != 0)
		return r;
	p[0] = kind;
	p[1] = (uint8_t)(raw_len >> 24);
	p[2] = (uint8_t)(raw_len >> 16);
	p[3] = (uint8_t)(raw_len >> 8);
	p[4] = (uint8_t)raw_len;
	p[5] = (uint8_t)(wire_len >> 24);
	p[6] = (uint8_t)(wire_len >> 16);
	p[7] = (uint8_t)(wire_len >> 8);
	p[8] = (uint8_t)wire_len;
	memcpy(p + LL_XFER_HDR, wire, wire_len);
	return LL_OK;
}

int ll_xfer_enc_chunk(struct ll_xfer_enc *e, const void *data, size_t len,
		      struct ll_buf *out)
{
	uLongf zlen;
	int r;

	if (e == NULL || data == NULL || out == NULL || len == 0 ||
	    len > LL_XFER_CHUNK)
		return LL_ERR_INVALID_ARG;
	if (e->skip > 0) {
		e->skip--;
	} else {
		zlen = (uLongf)e->tmp_size;
		/* level 1: most of the gain of text and logs at a fraction
		 * of the CPU of the default */
		if (compress2(e->tmp, &zlen, data, (uLong)len, 1) == Z_OK &&
		    zlen > 0 && zlen + zlen / 16 < len) {
			r = put_chunk(out, LL_XFER_KIND_ZLIB, len, e->tmp,
				      zlen);
			if (r == LL_OK) {
				e->n_zlib++;
				e->misses = 0;
			}
			return r;
		}
		e->skip = XFER_SKIP_AFTER_MISS << XFER_MIN(e->misses, 7u);
		if (e->skip > XFER_SKIP_MAX)
			e->skip = XFER_SKIP_MAX;
		e->misses++;
	}
	r = put_chunk(out, LL_XFER_KIND_RAW, len, data, len);
	if (r == LL_OK)
		e->n_raw++;
	return r;
}

void ll_xfer_enc_stats(const struct ll_xfer_enc *e, uint64_t *zlib,
		       uint64_t *raw)
{
	*zlib = e->n_zlib;
	*raw = e->n_raw;
}

struct ll_xfer_dec {
	uint64_t remaining;
	int err; /* sticky */
	uint8_t hdr[LL_XFER_HDR];
	size_t hdr_have;
	uint8_t kind;
	uint32_t raw_len, wire_len;
	uint8_t *wire; /* LL_XFER_CHUNK bytes: the chunk as it arrives */
	size_t wire_have;
	uint8_t *raw; /* LL_XFER_CHUNK bytes: inflated */
};

struct ll_xfer_dec *ll_xfer_dec_new(uint64_t remaining)
{
	struct ll_xfer_dec *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->remaining = remaining;
	d->wire = malloc(LL_XFER_CHUNK);
	d->raw = malloc(LL_XFER_CHUNK);
	if (d->wire == NULL || d->raw == NULL) {
		ll_xfer_dec_free(d);
		return NULL;
	}
	return d;
}

void ll_xfer_dec_free(struct ll_xfer_dec *d)
{
	if (d == NULL)
		return;
	free(d->wire);
	free(d->raw);
	free(d);
}

uint64_t ll_xfer_dec_remaining(const struct ll_xfer_dec *d)
{
	return d->remaining;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The header is whole: check it before a byte of the body is kept. */
static int check_header(struct ll_xfer_dec *d)
{
	d->kind = d->hdr[0];
	d->raw_len = get_be32(d->hdr + 1);
	d->wire_len = get_be32(d->hdr + 5);
	if (d->raw_len == 0 || d->raw_len > LL_XFER_CHUNK)
		return LL_ERR_MALFORMED;
	if (d->raw_len > d->remaining)
		return LL_ERR_TOO_LARGE;
	switch (d->kind) {
	case LL_XFER_KIND_RAW:
		return d->wire_len == d->raw_len ? LL_OK : LL_ERR_MALFORMED;
	case LL_XFER_KIND_ZLIB:
		return d->wire_len >= 1 && d->wire_len < d->raw_len
			       ? LL_OK
			       : LL_ERR_MALFORMED;
	}
	return LL_ERR_MALFORMED;
}

static int finish_chunk(struct ll_xfer_dec *d, const uint8_t **out,
			size_t *out_len)
{
	uLongf n = d->raw_len;

	if (d->kind == LL_XFER_KIND_ZLIB) {
		if (uncompress(d->raw, &n, d->wire, d->wire_len) != Z_OK ||
		    n != d->raw_len)
			return LL_ERR_MALFORMED;
		*out = d->raw;
	} else {
		*out = d->wire;
	}
	*out_len = d->raw_len;
	d->remaining -= d->raw_len;
	d->hdr_have = 0;
	d->wire_have = 0;
	return 1;
}

int ll_xfer_dec_feed(struct ll_xfer_dec *d, const uint8_t *data, size_t len,
		     size_t *used, const uint8_t **out, size_t *out_len)
{
	size_t n, pos = 0;
	int r;

	*used = 0;
	if (d == NULL || (data == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	if (d->err != 0)
		return d->err;
	while (pos < len) {
		if (d->hdr_have < LL_XFER_HDR) {
			n = XFER_MIN(LL_XFER_HDR - d->hdr_have, len - pos);
			memcpy(d->hdr + d->hdr_have, data + pos, n);
			d->hdr_have += n;
			pos += n;
			if (d->hdr_have < LL_XFER_HDR)
				break;
			if ((r = check_header(d)) != 0) {
				*used = pos;
				return d->err = r;
			}
		}
		n = XFER_MIN(d->wire_len - d->wire_have, len - pos);
		memcpy(d->wire + d->wire_have, data + pos, n);
		d->wire_have += n;
		pos += n;
		if (d->wire_have == d->wire_len) {
			*used = pos;
			if ((r = finish_chunk(d, out, out_len)) < 0)
				return d->err = r;
			return r;
		}
	}
	*used = pos;
	return 0;
}

/* ---- names ---- */

static bool is_device_name(const char *s)
{
	static const char *const dev[] = { "CON", "PRN",    "AUX",
					   "NUL", "CONIN$", "CONOUT$" };
	size_t n = strcspn(s, "."), i;

	/* trailing spaces before the dot count as nothing for Windows */
	while (n > 0 && s[n - 1] == ' ')
		n--;
	for (i = 0; i < LL_ARRAY_SIZE(dev); i++) {
		if (n == strlen(dev[i]) && strncasecmp(s, dev[i], n) == 0)
			return true;
	}
	/* COM1-9, LPT1-9 (and the superscript digits Windows also takes) */
	if ((n == 4 &&
	     (strncasecmp(s, "COM", 3) == 0 ||
	      strncasecmp(s, "LPT", 3) == 0) &&
	     s[3] >= '0' && s[3] <= '9') ||
	    (n == 5 &&
	     (strncasecmp(s, "COM", 3) == 0 ||
	      strncasecmp(s, "LPT", 3) == 0) &&
	     (unsigned char)s[3] == 0xc2 &&
	     ((unsigned char)s[4] == 0xb9 || (unsigned char)s[4] == 0xb2 ||
	      (unsigned char)s[4] == 0xb3)))
		return true;
	return false;
}

/* The start of the UTF-8 character that holds byte i (i < len). */
static size_t char_start(const char *s, size_t i)
{
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/* Cut s (len bytes) to at most max bytes at a character boundary,
 * keeping a short extension whole. */
static void cut_name(char *s, size_t max)
{
	size_t len = strlen(s), ext_len = 0, keep;
	const char *dot = strrchr(s, '.');

	if (len <= max)
		return;
	if (dot != NULL && dot != s)
		ext_len = len - (size_t)(dot - s);
	if (ext_len > XFER_EXT_KEEP)
		ext_len = 0;
	keep = char_start(s, max - ext_len);
	memmove(s + keep, s + len - ext_len, ext_len + 1);
}

/* Drops the dots and spaces that end tmp, not before start. */
static void trim_end(char *tmp, size_t start)
{
	size_t end = strlen(tmp);

	while (end > start && (tmp[end - 1] == '.' || tmp[end - 1] == ' '))
		tmp[--end] = '\0';
}

bool ll_xfer_safe_name(const char *name, char *out, size_t size)
{
	char *tmp;
	size_t need, i, start, end;
	bool changed;

	if (out == NULL || size < LL_XFER_NAME_MAX + 1)
		return true;
	if (name == NULL)
		name = "";
	/* one more byte in front for the device names' '_' */
	need = LL_TEXT_PRINTABLE_SIZE(strlen(name));
	if ((tmp = malloc(need + 1)) == NULL) {
		snprintf(out, size, "file");
		return true;
	}
	tmp[0] = '_';
	ll_text_printable(tmp + 1, need, name, strlen(name));
	/* U+FFFD in a file name reads as a broken encoding to file
	 * managers (GLib marks it so): '_' like the other refusals */
	for (i = 1, end = 1; tmp[i] != '\0'; i++) {
		if (strncmp(tmp + i, LL_TEXT_REPLACEMENT, 3) == 0) {
			tmp[end++] = '_';
			i += 2;
		} else {
			tmp[end++] = strchr("/\\:<>|?*\"", tmp[i]) != NULL
					     ? '_'
					     : tmp[i];
		}
	}
	tmp[end] = '\0';
	start = 1;
	while (tmp[start] == '.' || tmp[start] == ' ')
		start++;
	trim_end(tmp, start);
	cut_name(tmp + start, LL_XFER_NAME_MAX);
	trim_end(tmp, start);
	/* after the cut: a cut can make a device name ("CONIN$   ….txt"
	 * cut to "CONIN$   .txt") */
	if (is_device_name(tmp + start)) {
		tmp[--start] = '_';
		cut_name(tmp + start, LL_XFER_NAME_MAX);
		trim_end(tmp, start);
	}
	snprintf(out, size, "%s", tmp[start] != '\0' ? tmp + start : "file");
	changed = strcmp(out, name) != 0;
	free(tmp);
	return changed;
}
