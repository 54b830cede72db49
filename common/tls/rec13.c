/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The TLS 1.3 record layer of an established connection
 * (ll_tls_rec13.h).  RFC 8446: 5.2 (record protection), 5.3 (nonce),
 * 7.1 and 7.3 (HKDF-Expand-Label, traffic keys), 4.6.3 (KeyUpdate).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "ll_tls_rec13.h"
#include "ll_util.h"

#define IV_LEN 12
#define TAG_LEN 16
#define KEY_MAX 32

struct rec13_dir {
	EVP_CIPHER_CTX *ctx; /* made on use, freed by ll_rec13_trim */
	uint64_t seq;
	uint8_t secret[LL_REC13_SECRET_MAX];
	uint8_t key[KEY_MAX];
	uint8_t iv[IV_LEN];
};

struct ll_rec13 {
	struct rec13_dir rd, wr;
	uint8_t suite;      /* index into suites[] */
	uint8_t secret_len; /* the hash's length */
	bool update_due;
	bool used;   /* a context was used since the last trim */
	bool closed; /* close_notify came */
	bool failed; /* the read side failed: it stays failed */
};

static const struct {
	uint16_t id;
	const char *cipher, *md;
	uint8_t key_len, hash_len;
} suites[] = {
	{ LL_REC13_AES128, "AES-128-GCM", "SHA256", 16, 32 },
	{ LL_REC13_AES256, "AES-256-GCM", "SHA384", 32, 48 },
	{ LL_REC13_CHACHA, "ChaCha20-Poly1305", "SHA256", 32, 32 },
};
#define N_SUITES (sizeof(suites) / sizeof(suites[0]))

/* Fetched once: a fetch per use is a lock and a lookup. */
static EVP_CIPHER *ciphers[N_SUITES];
static EVP_KDF *hkdf;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_init(void)
{
	size_t i;

	for (i = 0; i < N_SUITES; i++)
		ciphers[i] = EVP_CIPHER_fetch(NULL, suites[i].cipher, NULL);
	hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
}

/* HKDF-Expand-Label(secret, label, "", out_len) (RFC 8446 7.1). */
static int expand_label(const struct ll_rec13 *r, const uint8_t *secret,
			const char *label, uint8_t *out, size_t out_len)
{
	uint8_t info[2 + 1 + 6 + 16 + 1];
	size_t ll = strlen(label), n = 0;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, ok;
	OSSL_PARAM params[5];
	EVP_KDF_CTX *kctx;

	if (ll > 16 || hkdf == NULL)
		return LL_ERR_INTERNAL;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = 0; /* empty context */
	if ((kctx = EVP_KDF_CTX_new(hkdf)) == NULL)
		return LL_ERR_NOMEM;
	params[0] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[1] = OSSL_PARAM_construct_utf8_string(
		OSSL_KDF_PARAM_DIGEST, (char *)suites[r->suite].md, 0);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						      (void *)secret,
						      r->secret_len);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
						      info, n);
	params[4] = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(kctx, out, out_len, params);
	EVP_KDF_CTX_free(kctx);
	return ok == 1 ? LL_OK : LL_ERR_CRYPTO;
}

/* The key and IV of d's secret; the sequence starts again. */
static int dir_keys(struct ll_rec13 *r, struct rec13_dir *d)
{
	int e;

	EVP_CIPHER_CTX_free(d->ctx);
	d->ctx = NULL;
	if ((e = expand_label(r, d->secret, "key", d->key,
			      suites[r->suite].key_len)) != LL_OK ||
	    (e = expand_label(r, d->secret, "iv", d->iv, IV_LEN)) != LL_OK)
		return e;
	d->seq = 0;
	return LL_OK;
}

/* The next secret of d (RFC 8446 7.2), then its keys. */
static int dir_update(struct ll_rec13 *r, struct rec13_dir *d)
{
	uint8_t next[LL_REC13_SECRET_MAX];
	int e;

	if ((e = expand_label(r, d->secret, "traffic upd", next,
			      r->secret_len)) != LL_OK)
		return e;
	memcpy(d->secret, next, r->secret_len);
	OPENSSL_cleanse(next, sizeof(next));
	return dir_keys(r, d);
}

static void dir_clear(struct rec13_dir *d)
{
	EVP_CIPHER_CTX_free(d->ctx);
	OPENSSL_cleanse(d, sizeof(*d));
}

struct ll_rec13 *ll_rec13_new(uint16_t suite, const uint8_t *rd_secret,
			      const uint8_t *wr_secret, size_t secret_len,
			      uint64_t rd_seq, uint64_t wr_seq)
{
	struct ll_rec13 *r;
	size_t i;

	pthread_once(&fetch_once, fetch_init);
	for (i = 0; i < N_SUITES && suites[i].id != suite; i++)
		;
	if (i == N_SUITES || ciphers[i] == NULL || hkdf == NULL ||
	    rd_secret == NULL || wr_secret == NULL ||
	    secret_len != suites[i].hash_len ||
	    (r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->suite = (uint8_t)i;
	r->secret_len = (uint8_t)secret_len;
	memcpy(r->rd.secret, rd_secret, secret_len);
	memcpy(r->wr.secret, wr_secret, secret_len);
	if (dir_keys(r, &r->rd) != LL_OK || dir_keys(r, &r->wr) != LL_OK) {
		ll_rec13_free(r);
		return NULL;
	}
	r->rd.seq = rd_seq;
	r->wr.seq = wr_seq;
	return r;
}

void ll_rec13_free(struct ll_rec13 *r)
{
	if (r == NULL)
		return;
	dir_clear(&r->rd);
	dir_clear(&r->wr);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

void ll_rec13_trim(struct ll_rec13 *r)
{
	if (r->used) {
		r->used = false;
		return;
	}
	EVP_CIPHER_CTX_free(r->rd.ctx);
	EVP_CIPHER_CTX_free(r->wr.ctx);
	r->rd.ctx = r->wr.ctx = NULL;
}

/* d's context, keyed, and the nonce of its next record (RFC 8446 5.3);
 * NULL on failure, or when the sequence ran out. */
static EVP_CIPHER_CTX *dir_begin(struct ll_rec13 *r, struct rec13_dir *d,
				 int enc)
{
	uint8_t nonce[IV_LEN];
	int i;

	if (d->seq == UINT64_MAX)
		return NULL;
	r->used = true;
	if (d->ctx == NULL) {
		if ((d->ctx = EVP_CIPHER_CTX_new()) == NULL)
			return NULL;
		if (EVP_CipherInit_ex2(d->ctx, ciphers[r->suite], d->key, NULL,
				       enc, NULL) != 1) {
			EVP_CIPHER_CTX_free(d->ctx);
			d->ctx = NULL;
			return NULL;
		}
	}
	memcpy(nonce, d->iv, IV_LEN);
	for (i = 0; i < 8; i++)
		nonce[IV_LEN - 1 - i] ^= (uint8_t)(d->seq >> (8 * i));
	if (EVP_CipherInit_ex2(d->ctx, NULL, NULL, nonce, enc, NULL) != 1)
		return NULL;
	return d->ctx;
}

int ll_rec13_seal(struct ll_rec13 *r, uint8_t type, const void *in, size_t len,
		  uint8_t *out)
{
	size_t clen = len + 1 + TAG_LEN;
	uint8_t *c = out + LL_REC13_HDR;
	EVP_CIPHER_CTX *ctx;
	int n;

	if (len > LL_REC13_MAX_PLAIN)
		return LL_ERR_TOO_LARGE;
	out[0] = LL_REC13_APPDATA;
	out[1] = 0x03;
	out[2] = 0x03;
	out[3] = (uint8_t)(clen >> 8);
	out[4] = (uint8_t)clen;
	if ((ctx = dir_begin(r, &r->wr, 1)) == NULL ||
	    EVP_EncryptUpdate(ctx, NULL, &n, out, LL_REC13_HDR) != 1 ||
	    (len > 0 && EVP_EncryptUpdate(ctx, c, &n, in, (int)len) != 1) ||
	    EVP_EncryptUpdate(ctx, c + len, &n, &type, 1) != 1 ||
	    EVP_EncryptFinal_ex(ctx, c + len + 1, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN,
				c + len + 1) != 1)
		return LL_ERR_CRYPTO;
	r->wr.seq++;
	return LL_OK;
}

int ll_rec13_record_len(const uint8_t *buf, size_t len, size_t *reclen)
{
	size_t body;

	if (len < LL_REC13_HDR)
		return LL_ERR_TRUNCATED;
	/* Every record after the handshake is protected: a plaintext
	 * alert or CCS is not for us (RFC 8446 5: unexpected_message). */
	if (buf[0] != LL_REC13_APPDATA || buf[1] != 0x03 || buf[2] != 0x03)
		return LL_ERR_TLS;
	body = (size_t)buf[3] << 8 | buf[4];
	/* record_overflow above 2^14 + 256; a tag at least */
	if (body > LL_REC13_MAX_PLAIN + 256 || body < 1 + TAG_LEN)
		return LL_ERR_TLS;
	if (len < LL_REC13_HDR + body)
		return LL_ERR_TRUNCATED;
	*reclen = LL_REC13_HDR + body;
	return LL_OK;
}

/* A whole KeyUpdate in the record, and nothing else (RFC 8446 5.1: no
 * handshake message may span a key change). */
static int got_handshake(struct ll_rec13 *r, const uint8_t *m, size_t n)
{
	if (n != 5 || m[0] != 24 || m[1] != 0 || m[2] != 0 || m[3] != 1 ||
	    m[4] > 1)
		return LL_ERR_TLS;
	if (dir_update(r, &r->rd) != LL_OK)
		return LL_ERR_CRYPTO;
	if (m[4] == 1)
		r->update_due = true;
	return LL_OK;
}

int ll_rec13_open(struct ll_rec13 *r, uint8_t *rec, size_t reclen,
		  uint8_t **plain, size_t *plain_len)
{
	EVP_CIPHER_CTX *ctx;
	size_t reclen2, clen, n;
	uint8_t *c = rec + LL_REC13_HDR, type;
	int outl, e;

	*plain = NULL;
	*plain_len = 0;
	if (r->closed)
		return LL_ERR_CLOSED;
	if (r->failed)
		return LL_ERR_TLS;
	r->failed = true; /* until it is all right */
	if (ll_rec13_record_len(rec, reclen, &reclen2) != LL_OK ||
	    reclen2 != reclen)
		return LL_ERR_TLS;
	clen = reclen - LL_REC13_HDR - TAG_LEN;
	if ((ctx = dir_begin(r, &r->rd, 0)) == NULL)
		return LL_ERR_CRYPTO;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
				c + clen) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &outl, rec, LL_REC13_HDR) != 1 ||
	    EVP_DecryptUpdate(ctx, c, &outl, c, (int)clen) != 1 ||
	    EVP_DecryptFinal_ex(ctx, c + clen, &outl) != 1) {
		/* Wrong tag: what was decrypted in place is nobody's. */
		OPENSSL_cleanse(c, clen);
		return LL_ERR_TLS;
	}
	r->rd.seq++;
	/* The inner content type is the last non-zero byte (5.4). */
	for (n = clen; n > 0 && c[n - 1] == 0; n--)
		;
	if (n == 0)
		return LL_ERR_TLS;
	type = c[--n];
	if (n > LL_REC13_MAX_PLAIN)
		return LL_ERR_TLS; /* record_overflow */
	switch (type) {
	case LL_REC13_APPDATA:
		*plain = c;
		*plain_len = n;
		break;
	case LL_REC13_HANDSHAKE:
		if ((e = got_handshake(r, c, n)) != LL_OK)
			return e;
		break;
	case LL_REC13_ALERT:
		/* close_notify ends; every other alert is fatal here
		 * (user_canceled is followed by a close_notify anyway). */
		if (n == 2 && c[1] == 0) {
			r->failed = false;
			r->closed = true;
			return LL_ERR_CLOSED;
		}
		return LL_ERR_TLS;
	default: /* a CCS after the handshake, or unknown */
		return LL_ERR_TLS;
	}
	r->failed = false;
	return LL_OK;
}

bool ll_rec13_update_due(const struct ll_rec13 *r)
{
	return r->update_due;
}

int ll_rec13_seal_key_update(struct ll_rec13 *r, uint8_t *out)
{
	static const uint8_t ku[4] = { 24, 0, 0, 1 };
	uint8_t m[5];
	int e;

	memcpy(m, ku, 4);
	m[4] = 0; /* update_not_requested */
	if ((e = ll_rec13_seal(r, LL_REC13_HANDSHAKE, m, sizeof(m), out)) !=
	    LL_OK)
		return e;
	if ((e = dir_update(r, &r->wr)) != LL_OK)
		return e;
	r->update_due = false;
	return LL_OK;
}

int ll_rec13_seal_close_notify(struct ll_rec13 *r, uint8_t *out)
{
	static const uint8_t alert[2] = { 1, 0 }; /* warning, close_notify */

	return ll_rec13_seal(r, LL_REC13_ALERT, alert, sizeof(alert), out);
}

bool ll_rec13_got_close_notify(const struct ll_rec13 *r)
{
	return r->closed;
}
