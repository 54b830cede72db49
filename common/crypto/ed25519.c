/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Ed25519 (RFC 8032) on OpenSSL 3: raw 32-byte keys for our own files,
 * the public key also as a PEM SubjectPublicKeyInfo so that outside tools
 * (openssl pkeyutl -verify -rawin) can check a signature without us.
 */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ll_crypto.h"
#include "ll_util.h"

static EVP_PKEY *priv_pkey(const uint8_t priv[LL_ED25519_KEY_LEN])
{
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv,
					    LL_ED25519_KEY_LEN);
}

int ll_ed25519_keygen(uint8_t priv[LL_ED25519_KEY_LEN],
		      uint8_t pub[LL_ED25519_KEY_LEN])
{
	uint8_t seed[LL_ED25519_KEY_LEN];
	int r;

	/* Any 32 random bytes are a private key (RFC 8032, 5.1.5). */
	if ((r = ll_random_bytes(seed, sizeof(seed))) != LL_OK)
		return r;
	r = ll_ed25519_public(seed, pub);
	if (r == LL_OK)
		memcpy(priv, seed, sizeof(seed));
	ll_wipe(seed, sizeof(seed));
	return r;
}

int ll_ed25519_public(const uint8_t priv[LL_ED25519_KEY_LEN],
		      uint8_t pub[LL_ED25519_KEY_LEN])
{
	EVP_PKEY *pk;
	size_t len = LL_ED25519_KEY_LEN;
	int r = LL_ERR_CRYPTO;

	if (priv == NULL || pub == NULL)
		return LL_ERR_INVALID_ARG;
	if ((pk = priv_pkey(priv)) == NULL)
		return LL_ERR_CRYPTO;
	if (EVP_PKEY_get_raw_public_key(pk, pub, &len) == 1 &&
	    len == LL_ED25519_KEY_LEN)
		r = LL_OK;
	EVP_PKEY_free(pk);
	return r;
}

int ll_ed25519_sign(const uint8_t priv[LL_ED25519_KEY_LEN], const void *msg,
		    size_t len, uint8_t sig[LL_ED25519_SIG_LEN])
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *pk = NULL;
	size_t siglen = LL_ED25519_SIG_LEN;
	int r = LL_ERR_CRYPTO;

	if (priv == NULL || sig == NULL || (msg == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	if ((pk = priv_pkey(priv)) == NULL || (md = EVP_MD_CTX_new()) == NULL)
		goto out;
	/* Ed25519 is one-shot: no digest, the whole message at once. */
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, pk) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, msg, len) == 1 &&
	    siglen == LL_ED25519_SIG_LEN)
		r = LL_OK;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	return r;
}

int ll_ed25519_verify(const uint8_t pub[LL_ED25519_KEY_LEN], const void *msg,
		      size_t len, const uint8_t sig[LL_ED25519_SIG_LEN])
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *pk = NULL;
	int r = LL_ERR_CRYPTO;

	if (pub == NULL || sig == NULL || (msg == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
					 LL_ED25519_KEY_LEN);
	if (pk == NULL || (md = EVP_MD_CTX_new()) == NULL)
		goto out;
	if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) != 1)
		goto out;
	r = EVP_DigestVerify(md, sig, LL_ED25519_SIG_LEN, msg, len) == 1
		    ? LL_OK
		    : LL_ERR_AUTH_FAILED;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	return r;
}

char *ll_ed25519_public_pem_new(const uint8_t pub[LL_ED25519_KEY_LEN])
{
	EVP_PKEY *pk;
	BIO *bio = NULL;
	char *out = NULL, *data;
	long n;

	pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
					 LL_ED25519_KEY_LEN);
	if (pk == NULL || (bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PUBKEY(bio, pk) != 1)
		goto out;
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || (out = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
out:
	BIO_free(bio);
	EVP_PKEY_free(pk);
	return out;
}

int ll_ed25519_public_from_pem(const char *pem,
			       uint8_t pub[LL_ED25519_KEY_LEN])
{
	EVP_PKEY *pk = NULL;
	BIO *bio;
	size_t len = LL_ED25519_KEY_LEN;
	int r = LL_ERR_MALFORMED;

	if (pem == NULL || pub == NULL)
		return LL_ERR_INVALID_ARG;
	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return LL_ERR_NOMEM;
	pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (pk != NULL && EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519 &&
	    EVP_PKEY_get_raw_public_key(pk, pub, &len) == 1 &&
	    len == LL_ED25519_KEY_LEN)
		r = LL_OK;
	EVP_PKEY_free(pk);
	BIO_free(bio);
	return r;
}
