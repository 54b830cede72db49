/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Crypto helpers on OpenSSL 3.  Together with common/tls this is the only
 * module that includes <openssl/...>.  All functions return LL_OK or a
 * negative ll_err; outputs are untouched on failure.
 */
#ifndef LL_CRYPTO_H
#define LL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define LL_SHA256_LEN 32
#define LL_AES256_KEY_LEN 32
#define LL_GCM_NONCE_LEN 12
#define LL_GCM_TAG_LEN 16
/* ll_aead_seal output = nonce || ciphertext || tag */
#define LL_AEAD_OVERHEAD (LL_GCM_NONCE_LEN + LL_GCM_TAG_LEN)

/* CSPRNG (RAND_bytes); LL_ERR_CRYPTO if the generator fails. */
int ll_random_bytes(void *out, size_t len);
/* Uniform integer in [0, bound) without modulo bias. bound >= 1. */
int ll_random_uniform(uint32_t bound, uint32_t *out);

int ll_sha256(const void *data, size_t len, uint8_t out[LL_SHA256_LEN]);

/*
 * Incremental SHA-256 (for the audit chain and file hashing).  _final
 * starts the context over, so one context can hash many messages.
 */
struct ll_sha256_ctx;
struct ll_sha256_ctx *ll_sha256_new(void);
int ll_sha256_update(struct ll_sha256_ctx *ctx, const void *data, size_t len);
int ll_sha256_final(struct ll_sha256_ctx *ctx, uint8_t out[LL_SHA256_LEN]);
void ll_sha256_free(struct ll_sha256_ctx *ctx);

int ll_hmac_sha256(const void *key, size_t key_len, const void *data,
		   size_t len, uint8_t out[LL_SHA256_LEN]);

/*
 * Ed25519 signatures (RFC 8032) with raw 32-byte keys (ed25519.c).  The
 * private key is the 32-byte seed; keep it like any key (0600, wiped).
 * verify: LL_OK, or LL_ERR_AUTH_FAILED for a signature that does not
 * match.  The PEM form of a public key is a SubjectPublicKeyInfo
 * ("-----BEGIN PUBLIC KEY-----"), as `openssl pkey -pubout` writes it.
 */
#define LL_ED25519_KEY_LEN 32
#define LL_ED25519_SIG_LEN 64
int ll_ed25519_keygen(uint8_t priv[LL_ED25519_KEY_LEN],
		      uint8_t pub[LL_ED25519_KEY_LEN]);
int ll_ed25519_public(const uint8_t priv[LL_ED25519_KEY_LEN],
		      uint8_t pub[LL_ED25519_KEY_LEN]);
int ll_ed25519_sign(const uint8_t priv[LL_ED25519_KEY_LEN], const void *msg,
		    size_t len, uint8_t sig[LL_ED25519_SIG_LEN]);
int ll_ed25519_verify(const uint8_t pub[LL_ED25519_KEY_LEN], const void *msg,
		      size_t len, const uint8_t sig[LL_ED25519_SIG_LEN]);
/* malloc'd PEM text (caller frees), NULL on failure. */
char *ll_ed25519_public_pem_new(const uint8_t pub[LL_ED25519_KEY_LEN]);
/* LL_ERR_MALFORMED when pem holds no Ed25519 public key. */
int ll_ed25519_public_from_pem(const char *pem,
			       uint8_t pub[LL_ED25519_KEY_LEN]);

/* HKDF-SHA256 (RFC 5869), extract-and-expand. salt/info may be NULL/0. */
int ll_hkdf_sha256(const void *ikm, size_t ikm_len, const void *salt,
		   size_t salt_len, const void *info, size_t info_len,
		   void *out, size_t out_len);

/*
 * AES-256-GCM with a random 96-bit nonce.  Seal writes
 * nonce||ciphertext||tag (pt_len + LL_AEAD_OVERHEAD bytes) to out, which
 * must have that room (LL_ERR_INVALID_ARG otherwise).  Open reverses it and
 * returns LL_ERR_AUTH_FAILED on any tag mismatch, writing nothing usable.
 * aad may be NULL/0.
 */
int ll_aead_seal(const uint8_t key[LL_AES256_KEY_LEN], const void *aad,
		 size_t aad_len, const void *pt, size_t pt_len, uint8_t *out,
		 size_t out_size, size_t *out_len);
/* Open: LL_ERR_TRUNCATED when in_len < LL_AEAD_OVERHEAD. */
int ll_aead_open(const uint8_t key[LL_AES256_KEY_LEN], const void *aad,
		 size_t aad_len, const void *in, size_t in_len, uint8_t *out,
		 size_t out_size, size_t *out_len);

/*
 * Low-level AES-256-GCM with an explicit nonce (for known-answer tests
 * and protocols that derive nonces).  ct has pt_len bytes.
 */
int ll_aes256gcm_encrypt(const uint8_t key[LL_AES256_KEY_LEN],
			 const uint8_t *iv, size_t iv_len, const void *aad,
			 size_t aad_len, const void *pt, size_t pt_len,
			 uint8_t *ct, uint8_t tag[LL_GCM_TAG_LEN]);
int ll_aes256gcm_decrypt(const uint8_t key[LL_AES256_KEY_LEN],
			 const uint8_t *iv, size_t iv_len, const void *aad,
			 size_t aad_len, const void *ct, size_t ct_len,
			 const uint8_t tag[LL_GCM_TAG_LEN], uint8_t *pt);

/* Constant-time equality (CRYPTO_memcmp): true when equal. */
bool ll_ct_equal(const void *a, const void *b, size_t len);
/* Constant-time string equality: length differences leak only length. */
bool ll_ct_streq(const char *a, const char *b);

/* Wipe memory so the compiler cannot elide it (OPENSSL_cleanse). */
void ll_wipe(void *p, size_t len);
/*
 * Wipe a NUL-terminated secret (token, ticket, password, PIN) and free it;
 * NULL ok.  The one way to drop a secret string in every program: it
 * serves strings from malloc() and from g_malloc() alike (GLib >= 2.46
 * allocates with the system malloc).
 */
void ll_secret_free(char *s);

/*
 * Encoding helpers.  Results are malloc'd, caller frees (wipe if secret);
 * NULL on allocation failure.  Decoders validate everything before writing:
 * LL_ERR_MALFORMED for bad input (odd hex length, a character outside the
 * alphabet, base64url padding/whitespace/non-zero spare bits),
 * LL_ERR_TOO_LARGE when the result exceeds out_size.  Hex decoding accepts
 * either case.
 */
char *ll_hex_new(const void *data, size_t len); /* lowercase */
/* The value of one hex digit of either case; -1 for any other byte. */
int ll_hex_digit(int c);
int ll_hex_decode(const char *hex, uint8_t *out, size_t out_size,
		  size_t *out_len);
char *ll_base64url_new(const void *data, size_t len); /* no padding */
int ll_base64url_decode(const char *text, uint8_t *out, size_t out_size,
			size_t *out_len);

/*
 * A random URL-safe token of nbytes entropy (e.g. 32 for 256-bit);
 * NULL when nbytes is 0 or over 256.  Free with ll_secret_free.
 */
char *ll_random_token_new(size_t nbytes);

/*
 * One-time passwords (totp.c): HOTP (RFC 4226) and TOTP (RFC 6238, T0 = 0,
 * 30 s steps).  Lifeline's own TOTP is what authenticator apps do: SHA-1,
 * 6 digits; the other hashes and lengths are for the RFC's vectors.
 * out has room for digits + 1 bytes.
 */
enum ll_otp_hash { LL_OTP_SHA1, LL_OTP_SHA256, LL_OTP_SHA512 };
#define LL_OTP_DIGITS_MIN 6
#define LL_OTP_DIGITS_MAX 8
#define LL_TOTP_DIGITS 6
#define LL_TOTP_STEP_S 30
#define LL_TOTP_SEED_LEN 20 /* 160 bits, RFC 4226's recommendation */
int ll_hotp(enum ll_otp_hash hash, const void *key, size_t key_len,
	    uint64_t counter, int digits, char *out);
/* The time step of unix_time (floor(t / 30)). */
int64_t ll_totp_step(int64_t unix_time);
/* LL_ERR_INVALID_ARG for a time before 1970. */
int ll_totp(enum ll_otp_hash hash, const void *key, size_t key_len,
	    int64_t unix_time, int digits, char *out);
/*
 * Checks a 6-digit SHA-1 code against the steps within +-window of
 * unix_time, taking only steps after after_step (the last one used, so
 * that a code is good once).  LL_OK with the matching step (the earliest
 * one, when several match) in *step_out; LL_ERR_AUTH_FAILED otherwise.
 * Constant time in where the match was.
 */
int ll_totp_verify(const void *key, size_t key_len, const char *code,
		   int64_t unix_time, int window, int64_t after_step,
		   int64_t *step_out);

/* Base32 (RFC 4648, upper case, no padding), as in otpauth URIs.  The
 * decoder takes either case and optional trailing '='. */
char *ll_base32_new(const void *data, size_t len);
int ll_base32_decode(const char *text, uint8_t *out, size_t out_size,
		     size_t *out_len);

#endif
