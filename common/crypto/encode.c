/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hex and base64url (RFC 4648 §5, no padding).  Decoders are strict: they
 * validate the whole input before writing anything, and base64url rejects
 * padding, whitespace and non-zero trailing bits, so that every value has
 * exactly one encoding (tokens compared as text cannot be malleated).
 */
#include <string.h>

#include "ll_crypto.h"
#include "ll_util.h"

static const char hexdig[] = "0123456789abcdef";
static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *ll_hex_new(const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n, i;
	char *s;

	if (data == NULL && len > 0)
		return NULL;
	if (!ll_size_mul(len, 2, &n) || !ll_size_add(n, 1, &n))
		return NULL;
	if ((s = malloc(n)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		s[2 * i] = hexdig[p[i] >> 4];
		s[2 * i + 1] = hexdig[p[i] & 0x0f];
	}
	s[2 * len] = '\0';
	return s;
}

int ll_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Accepts upper- and lowercase digits.  LL_ERR_MALFORMED for an odd length
 * or a non-hex character, LL_ERR_TOO_LARGE when the result would not fit
 * in out_size bytes.
 */
int ll_hex_decode(const char *hex, uint8_t *out, size_t out_size,
		  size_t *out_len)
{
	size_t len, i;

	if (hex == NULL || out_len == NULL)
		return LL_ERR_INVALID_ARG;
	len = strlen(hex);
	if (len % 2 != 0)
		return LL_ERR_MALFORMED;
	for (i = 0; i < len; i++) {
		if (ll_hex_digit(hex[i]) < 0)
			return LL_ERR_MALFORMED;
	}
	if (len / 2 > out_size)
		return LL_ERR_TOO_LARGE;
	if (out == NULL && len > 0)
		return LL_ERR_INVALID_ARG;
	for (i = 0; i < len / 2; i++)
		out[i] = (uint8_t)(ll_hex_digit(hex[2 * i]) << 4 |
				   ll_hex_digit(hex[2 * i + 1]));
	*out_len = len / 2;
	return LL_OK;
}

char *ll_base64url_new(const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n, rem = len % 3, i, o = 0;
	uint32_t v;
	char *s;

	if (data == NULL && len > 0)
		return NULL;
	/* 4 characters per full 3 bytes, rem + 1 for a partial group. */
	if (!ll_size_mul(len / 3, 4, &n) ||
	    !ll_size_add(n, rem > 0 ? rem + 1 : 0, &n) ||
	    !ll_size_add(n, 1, &n))
		return NULL;
	if ((s = malloc(n)) == NULL)
		return NULL;
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		s[o++] = b64url[v >> 18 & 0x3f];
		s[o++] = b64url[v >> 12 & 0x3f];
		s[o++] = b64url[v >> 6 & 0x3f];
		s[o++] = b64url[v & 0x3f];
	}
	if (rem > 0) {
		v = (uint32_t)p[i] << 16;
		if (rem == 2)
			v |= (uint32_t)p[i + 1] << 8;
		s[o++] = b64url[v >> 18 & 0x3f];
		s[o++] = b64url[v >> 12 & 0x3f];
		if (rem == 2)
			s[o++] = b64url[v >> 6 & 0x3f];
	}
	s[o] = '\0';
	return s;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * LL_ERR_MALFORMED for characters outside the URL-safe alphabet
 * (including '=' and whitespace), an impossible length (4n+1) or non-zero
 * unused bits in the last character; LL_ERR_TOO_LARGE when the result
 * would not fit in out_size bytes.
 */
int ll_base64url_decode(const char *text, uint8_t *out, size_t out_size,
			size_t *out_len)
{
	size_t len, n, i, o = 0, rem;
	uint32_t v;
	int last;

	if (text == NULL || out_len == NULL)
		return LL_ERR_INVALID_ARG;
	len = strlen(text);
	rem = len % 4;
	if (rem == 1)
		return LL_ERR_MALFORMED;
	for (i = 0; i < len; i++) {
		if (b64val(text[i]) < 0)
			return LL_ERR_MALFORMED;
	}
	if (rem > 0) {
		/* The last character has 4 (rem 2) or 2 (rem 3) spare bits. */
		last = b64val(text[len - 1]);
		if ((rem == 2 && (last & 0x0f) != 0) ||
		    (rem == 3 && (last & 0x03) != 0))
			return LL_ERR_MALFORMED;
	}
	n = len / 4 * 3 + (rem > 0 ? rem - 1 : 0);
	if (n > out_size)
		return LL_ERR_TOO_LARGE;
	if (out == NULL && n > 0)
		return LL_ERR_INVALID_ARG;
	for (i = 0; i + 4 <= len; i += 4) {
		v = (uint32_t)b64val(text[i]) << 18 |
		    (uint32_t)b64val(text[i + 1]) << 12 |
		    (uint32_t)b64val(text[i + 2]) << 6 |
		    (uint32_t)b64val(text[i + 3]);
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	if (rem > 0) {
		v = (uint32_t)b64val(text[i]) << 18 |
		    (uint32_t)b64val(text[i + 1]) << 12;
		if (rem == 3)
			v |= (uint32_t)b64val(text[i + 2]) << 6;
		out[o++] = (uint8_t)(v >> 16);
		if (rem == 3)
			out[o++] = (uint8_t)(v >> 8);
	}
	*out_len = o;
	return LL_OK;
}
