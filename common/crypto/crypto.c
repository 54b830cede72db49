/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Crypto helpers on OpenSSL 3 (see ll_crypto.h).  Every failure path
 * clears OpenSSL's per-thread error queue: a stale entry there would
 * otherwise make a later SSL_get_error() on the same thread misreport.
 */
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "ll_crypto.h"
#include "ll_util.h"

/* OpenSSL takes int lengths; larger inputs are fed in pieces. */
#define LL_CHUNK ((size_t)INT_MAX & ~(size_t)0xfff)

/* HKDF-SHA256 can expand to at most 255 blocks (RFC 5869 §2.3). */
#define LL_HKDF_MAX_OUT (255 * LL_SHA256_LEN)

static int crypto_fail(void)
{
	ERR_clear_error();
	return LL_ERR_CRYPTO;
}

void ll_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

void ll_secret_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

bool ll_ct_equal(const void *a, const void *b, size_t len)
{
	if (len == 0)
		return true;
	if (a == NULL || b == NULL)
		return false;
	return CRYPTO_memcmp(a, b, len) == 0;
}

bool ll_ct_streq(const char *a, const char *b)
{
	size_t la, lb;

	if (a == NULL || b == NULL)
		return false;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return false;
	return CRYPTO_memcmp(a, b, la) == 0;
}

int ll_random_bytes(void *out, size_t len)
{
	uint8_t *p = out;
	size_t n;

	if (len == 0)
		return LL_OK;
	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	while (len > 0) {
		n = len < LL_CHUNK ? len : LL_CHUNK;
		if (RAND_bytes(p, (int)n) != 1)
			return crypto_fail();
		p += n;
		len -= n;
	}
	return LL_OK;
}

int ll_random_uniform(uint32_t bound, uint32_t *out)
{
	uint32_t v, min;
	int r;

	if (bound == 0 || out == NULL)
		return LL_ERR_INVALID_ARG;
	/*
	 * Reject draws below 2^32 mod bound so that every residue is equally
	 * likely (OpenBSD's arc4random_uniform).  At most half of the draws
	 * are rejected, so the loop ends quickly.
	 */
	min = (uint32_t)(-bound) % bound;
	do {
		if ((r = ll_random_bytes(&v, sizeof(v))) != 0)
			return r;
	} while (v < min);
	*out = v % bound;
	return LL_OK;
}

int ll_sha256(const void *data, size_t len, uint8_t out[LL_SHA256_LEN])
{
	struct ll_sha256_ctx *ctx;
	int r;

	if (out == NULL || (data == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	if ((ctx = ll_sha256_new()) == NULL)
		return LL_ERR_NOMEM;
	if ((r = ll_sha256_update(ctx, data, len)) == 0)
		r = ll_sha256_final(ctx, out);
	ll_sha256_free(ctx);
	return r;
}

struct ll_sha256_ctx {
	EVP_MD_CTX *md;
};

struct ll_sha256_ctx *ll_sha256_new(void)
{
	struct ll_sha256_ctx *ctx;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return NULL;
	if ((ctx->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL) != 1) {
		ERR_clear_error();
		ll_sha256_free(ctx);
		return NULL;
	}
	return ctx;
}

int ll_sha256_update(struct ll_sha256_ctx *ctx, const void *data, size_t len)
{
	if (ctx == NULL || (data == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	if (len == 0)
		return LL_OK;
	if (EVP_DigestUpdate(ctx->md, data, len) != 1)
		return crypto_fail();
	return LL_OK;
}

/* Writes the digest and starts the context over for a new hash. */
int ll_sha256_final(struct ll_sha256_ctx *ctx, uint8_t out[LL_SHA256_LEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (ctx == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if (EVP_DigestFinal_ex(ctx->md, md, &mdlen) != 1 ||
	    mdlen != LL_SHA256_LEN ||
	    EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL) != 1)
		return crypto_fail();
	memcpy(out, md, LL_SHA256_LEN);
	return LL_OK;
}

void ll_sha256_free(struct ll_sha256_ctx *ctx)
{
	if (ctx == NULL)
		return;
	EVP_MD_CTX_free(ctx->md);
	free(ctx);
}

int ll_hmac_sha256(const void *key, size_t key_len, const void *data,
		   size_t len, uint8_t out[LL_SHA256_LEN])
{
	static const uint8_t empty[1];
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	uint8_t md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0;
	int r = LL_ERR_CRYPTO;

	if (out == NULL || (key == NULL && key_len > 0) ||
	    (data == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	/* A NULL key would mean "keep the previous key" to EVP_MAC_init. */
	if (key_len == 0)
		key = empty;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(ctx, key, key_len, params) != 1)
		goto out;
	if (len > 0 && EVP_MAC_update(ctx, data, len) != 1)
		goto out;
	if (EVP_MAC_final(ctx, md, &mdlen, sizeof(md)) != 1 ||
	    mdlen != LL_SHA256_LEN)
		goto out;
	memcpy(out, md, LL_SHA256_LEN);
	r = LL_OK;
out:
	if (r != LL_OK)
		ERR_clear_error();
	OPENSSL_cleanse(md, sizeof(md));
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return r;
}

int ll_hkdf_sha256(const void *ikm, size_t ikm_len, const void *salt,
		   size_t salt_len, const void *info, size_t info_len,
		   void *out, size_t out_len)
{
	static const uint8_t empty[1];
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[5], *p = params;
	uint8_t okm[LL_HKDF_MAX_OUT];
	int r = LL_ERR_CRYPTO;

	if (out == NULL || out_len == 0 || out_len > LL_HKDF_MAX_OUT ||
	    (ikm == NULL && ikm_len > 0) || (salt == NULL && salt_len > 0) ||
	    (info == NULL && info_len > 0))
		return LL_ERR_INVALID_ARG;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)(ikm_len > 0 ? ikm
								      : empty),
						 ikm_len);
	/* No salt: HKDF uses HashLen zero bytes, which OpenSSL does itself. */
	if (salt_len > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
							 (void *)salt,
							 salt_len);
	if (info_len > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
							 (void *)info,
							 info_len);
	*p = OSSL_PARAM_construct_end();
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL ||
	    EVP_KDF_derive(ctx, okm, out_len, params) != 1)
		goto out;
	memcpy(out, okm, out_len);
	r = LL_OK;
out:
	if (r != LL_OK)
		ERR_clear_error();
	OPENSSL_cleanse(okm, out_len);
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return r;
}

/* Feed AAD (out == NULL) or data through EVP in int-sized pieces. */
static int gcm_update(EVP_CIPHER_CTX *ctx, bool enc, uint8_t *out,
		      const uint8_t *in, size_t len)
{
	int n, outl;

	while (len > 0) {
		n = (int)(len < LL_CHUNK ? len : LL_CHUNK);
		if ((enc ? EVP_EncryptUpdate(ctx, out, &outl, in, n)
			 : EVP_DecryptUpdate(ctx, out, &outl, in, n)) != 1)
			return LL_ERR_CRYPTO;
		/* GCM is a stream mode: output keeps pace with input. */
		if (out != NULL) {
			if (outl != n)
				return LL_ERR_CRYPTO;
			out += n;
		}
		in += n;
		len -= (size_t)n;
	}
	return LL_OK;
}

static int gcm_init(EVP_CIPHER_CTX *ctx, bool enc,
		    const uint8_t key[LL_AES256_KEY_LEN], const uint8_t *iv,
		    size_t iv_len)
{
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
			      enc ? 1 : 0) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)iv_len,
				NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, enc ? 1 : 0) != 1)
		return LL_ERR_CRYPTO;
	return LL_OK;
}

static bool gcm_args_ok(const uint8_t *key, const uint8_t *iv, size_t iv_len,
			const void *aad, size_t aad_len, const void *in,
			size_t in_len, const void *out, const void *tag)
{
	/* 96-bit IVs are the norm; others are hashed (GHASH) by GCM. */
	return key != NULL && iv != NULL && iv_len > 0 && iv_len <= 128 &&
	       tag != NULL && (aad != NULL || aad_len == 0) &&
	       (in_len == 0 || (in != NULL && out != NULL));
}

int ll_aes256gcm_encrypt(const uint8_t key[LL_AES256_KEY_LEN],
			 const uint8_t *iv, size_t iv_len, const void *aad,
			 size_t aad_len, const void *pt, size_t pt_len,
			 uint8_t *ct, uint8_t tag[LL_GCM_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t t[LL_GCM_TAG_LEN];
	int r, outl;

	if (!gcm_args_ok(key, iv, iv_len, aad, aad_len, pt, pt_len, ct, tag))
		return LL_ERR_INVALID_ARG;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	if ((r = gcm_init(ctx, true, key, iv, iv_len)) != 0 ||
	    (r = gcm_update(ctx, true, NULL, aad, aad_len)) != 0 ||
	    (r = gcm_update(ctx, true, ct, pt, pt_len)) != 0)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, t, &outl) != 1 || outl != 0 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, LL_GCM_TAG_LEN,
				t) != 1) {
		r = LL_ERR_CRYPTO;
		goto out;
	}
	memcpy(tag, t, LL_GCM_TAG_LEN);
	r = LL_OK;
out:
	if (r != LL_OK) {
		ERR_clear_error();
		if (pt_len > 0)
			OPENSSL_cleanse(ct, pt_len);
	}
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int ll_aes256gcm_decrypt(const uint8_t key[LL_AES256_KEY_LEN],
			 const uint8_t *iv, size_t iv_len, const void *aad,
			 size_t aad_len, const void *ct, size_t ct_len,
			 const uint8_t tag[LL_GCM_TAG_LEN], uint8_t *pt)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t t[LL_GCM_TAG_LEN], fin[16];
	int r, outl;

	if (!gcm_args_ok(key, iv, iv_len, aad, aad_len, ct, ct_len, pt, tag))
		return LL_ERR_INVALID_ARG;
	memcpy(t, tag, LL_GCM_TAG_LEN);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	if ((r = gcm_init(ctx, false, key, iv, iv_len)) != 0 ||
	    (r = gcm_update(ctx, false, NULL, aad, aad_len)) != 0 ||
	    (r = gcm_update(ctx, false, pt, ct, ct_len)) != 0)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, LL_GCM_TAG_LEN,
				t) != 1) {
		r = LL_ERR_CRYPTO;
		goto out;
	}
	/* Final compares the tag in constant time; failure is a mismatch. */
	if (EVP_DecryptFinal_ex(ctx, fin, &outl) != 1) {
		r = LL_ERR_AUTH_FAILED;
		goto out;
	}
	r = LL_OK;
out:
	if (r != LL_OK) {
		ERR_clear_error();
		/* Never leave unauthenticated plaintext behind. */
		if (ct_len > 0)
			OPENSSL_cleanse(pt, ct_len);
	}
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int ll_aead_seal(const uint8_t key[LL_AES256_KEY_LEN], const void *aad,
		 size_t aad_len, const void *pt, size_t pt_len, uint8_t *out,
		 size_t out_size, size_t *out_len)
{
	uint8_t nonce[LL_GCM_NONCE_LEN];
	size_t total;
	int r;

	if (key == NULL || out == NULL || out_len == NULL ||
	    (pt == NULL && pt_len > 0) || (aad == NULL && aad_len > 0))
		return LL_ERR_INVALID_ARG;
	if (!ll_size_add(pt_len, LL_AEAD_OVERHEAD, &total) || out_size < total)
		return LL_ERR_INVALID_ARG;
	/*
	 * A random 96-bit nonce per message: safe for up to 2^32 messages
	 * under one key (NIST SP 800-38D §8.3), far beyond our use.
	 */
	if ((r = ll_random_bytes(nonce, sizeof(nonce))) != 0)
		return r;
	if ((r = ll_aes256gcm_encrypt(key, nonce, sizeof(nonce), aad, aad_len,
				      pt, pt_len, out + LL_GCM_NONCE_LEN,
				      out + LL_GCM_NONCE_LEN + pt_len)) != 0)
		return r;
	memcpy(out, nonce, sizeof(nonce));
	*out_len = total;
	return LL_OK;
}

int ll_aead_open(const uint8_t key[LL_AES256_KEY_LEN], const void *aad,
		 size_t aad_len, const void *in, size_t in_len, uint8_t *out,
		 size_t out_size, size_t *out_len)
{
	const uint8_t *p = in;
	size_t ct_len;
	int r;

	if (key == NULL || in == NULL || out_len == NULL ||
	    (aad == NULL && aad_len > 0))
		return LL_ERR_INVALID_ARG;
	if (in_len < LL_AEAD_OVERHEAD)
		return LL_ERR_TRUNCATED;
	ct_len = in_len - LL_AEAD_OVERHEAD;
	if (out_size < ct_len || (out == NULL && ct_len > 0))
		return LL_ERR_INVALID_ARG;
	if ((r = ll_aes256gcm_decrypt(key, p, LL_GCM_NONCE_LEN, aad, aad_len,
				      p + LL_GCM_NONCE_LEN, ct_len,
				      p + LL_GCM_NONCE_LEN + ct_len, out)) !=
	    0)
		return r;
	*out_len = ct_len;
	return LL_OK;
}

char *ll_random_token_new(size_t nbytes)
{
	uint8_t raw[256];
	char *s;

	/* A token without entropy, or an absurd one, is a caller bug. */
	if (nbytes == 0 || nbytes > sizeof(raw))
		return NULL;
	if (ll_random_bytes(raw, nbytes) != 0)
		return NULL;
	s = ll_base64url_new(raw, nbytes);
	OPENSSL_cleanse(raw, nbytes);
	return s;
}
