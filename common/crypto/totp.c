/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HOTP (RFC 4226) and TOTP (RFC 6238) on OpenSSL 3's EVP_MAC, and the
 * base32 (RFC 4648) that otpauth URIs carry seeds in.  Written here
 * rather than taken from liboath: it is the HMAC we already link plus
 * forty lines, and the integration tests check it against oathtool, a
 * separate implementation.
 */
#include <string.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/core_names.h>

#include "ll_crypto.h"
#include "ll_err.h"

static const char *const otp_digest[] = {
	[LL_OTP_SHA1] = "SHA1",
	[LL_OTP_SHA256] = "SHA256",
	[LL_OTP_SHA512] = "SHA512",
};

static const uint32_t pow10[] = { 1,      10,      100,      1000,     10000,
				  100000, 1000000, 10000000, 100000000 };

int ll_hotp(enum ll_otp_hash hash, const void *key, size_t key_len,
	    uint64_t counter, int digits, char *out)
{
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	uint8_t msg[8], md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0, off;
	uint32_t bin;
	int i, r = LL_ERR_CRYPTO;

	if ((unsigned)hash > LL_OTP_SHA512 || key == NULL || key_len == 0 ||
	    digits < LL_OTP_DIGITS_MIN || digits > LL_OTP_DIGITS_MAX ||
	    out == NULL)
		return LL_ERR_INVALID_ARG;
	for (i = 7; i >= 0; i--) {
		msg[i] = (uint8_t)(counter & 0xff);
		counter >>= 8;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)otp_digest[hash],
						     0);
	params[1] = OSSL_PARAM_construct_end();
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(ctx, key, key_len, params) != 1 ||
	    EVP_MAC_update(ctx, msg, sizeof(msg)) != 1 ||
	    EVP_MAC_final(ctx, md, &mdlen, sizeof(md)) != 1 || mdlen < 20)
		goto out;
	/* RFC 4226 5.3: dynamic truncation */
	off = md[mdlen - 1] & 0x0f;
	bin = ((uint32_t)(md[off] & 0x7f) << 24) |
	      ((uint32_t)md[off + 1] << 16) | ((uint32_t)md[off + 2] << 8) |
	      md[off + 3];
	bin %= pow10[digits];
	for (i = digits - 1; i >= 0; i--) {
		out[i] = (char)('0' + bin % 10);
		bin /= 10;
	}
	out[digits] = '\0';
	r = LL_OK;
out:
	OPENSSL_cleanse(md, sizeof(md));
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return r;
}

int64_t ll_totp_step(int64_t unix_time)
{
	/* Floor division, so that times before 1970 do not round up. */
	if (unix_time < 0)
		return -((-unix_time + LL_TOTP_STEP_S - 1) / LL_TOTP_STEP_S);
	return unix_time / LL_TOTP_STEP_S;
}

int ll_totp(enum ll_otp_hash hash, const void *key, size_t key_len,
	    int64_t unix_time, int digits, char *out)
{
	int64_t step = ll_totp_step(unix_time);

	if (step < 0)
		return LL_ERR_INVALID_ARG;
	return ll_hotp(hash, key, key_len, (uint64_t)step, digits, out);
}

int ll_totp_verify(const void *key, size_t key_len, const char *code,
		   int64_t unix_time, int window, int64_t after_step,
		   int64_t *step_out)
{
	char want[LL_OTP_DIGITS_MAX + 1];
	int64_t now_step = ll_totp_step(unix_time), s, found = -1;
	int r;

	if (code == NULL || window < 0 || window > 10 || step_out == NULL)
		return LL_ERR_INVALID_ARG;
	if (strlen(code) != LL_TOTP_DIGITS)
		return LL_ERR_AUTH_FAILED;
	/* Every step of the window is computed and compared, so the time
	 * taken does not say which one matched. */
	for (s = now_step - window; s <= now_step + window; s++) {
		if (s < 0)
			continue;
		r = ll_hotp(LL_OTP_SHA1, key, key_len, (uint64_t)s,
			    LL_TOTP_DIGITS, want);
		if (r != LL_OK)
			return r;
		if (ll_ct_equal(want, code, LL_TOTP_DIGITS) &&
		    s > after_step && found < 0)
			found = s;
	}
	ll_wipe(want, sizeof(want));
	if (found < 0)
		return LL_ERR_AUTH_FAILED;
	*step_out = found;
	return LL_OK;
}

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

char *ll_base32_new(const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i, o = 0, bits = 0;
	uint32_t acc = 0;
	char *out;

	if (data == NULL && len > 0)
		return NULL;
	if ((out = malloc((len * 8 + 4) / 5 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alphabet[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return out;
}

static int b32_value(int c)
{
	if (c >= 'a' && c <= 'z')
		c -= 'a' - 'A';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int ll_base32_decode(const char *text, uint8_t *out, size_t out_size,
		     size_t *out_len)
{
	size_t n, i, o = 0, bits = 0;
	uint32_t acc = 0;
	int v;

	if (text == NULL || out_len == NULL || (out == NULL && out_size > 0))
		return LL_ERR_INVALID_ARG;
	n = strlen(text);
	/* '=' padding is optional, but only at the end */
	while (n > 0 && text[n - 1] == '=')
		n--;
	/* 1, 3 and 6 characters past a full group cannot end a byte */
	if (n % 8 == 1 || n % 8 == 3 || n % 8 == 6)
		return LL_ERR_MALFORMED;
	for (i = 0; i < n; i++)
		if (b32_value((unsigned char)text[i]) < 0)
			return LL_ERR_MALFORMED;
	if (n * 5 / 8 > out_size)
		return LL_ERR_TOO_LARGE;
	for (i = 0; i < n; i++) {
		v = b32_value((unsigned char)text[i]);
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if ((acc & ((1u << bits) - 1)) != 0) {
		ll_wipe(out, o);
		return LL_ERR_MALFORMED; /* non-zero spare bits */
	}
	*out_len = o;
	return LL_OK;
}
