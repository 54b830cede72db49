/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Password hashing (Argon2id via libargon2, PHC strings, m=19 MiB, t=2,
 * p=1), one-time passwords, PINs and the hashes under which tokens,
 * tickets and PINs are stored.
 */
#ifndef LL_AUTH_H
#define LL_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "ll_util.h"

/* A password a person chooses: LL_PASSWORD_MIN..LL_PASSWORD_MAX bytes. */
#define LL_PASSWORD_MIN 8
#define LL_PASSWORD_MAX 1024

/* The password hash of a technician who signs in through the org's
 * identity provider (api_sso.c): no PHC string, so no password ever
 * matches; password login treats the account as unknown. */
#define LL_PW_HASH_SSO "!sso"

/* PHC string "$argon2id$v=19$m=19456,t=2,p=1$salt$hash"; NULL on error. */
char *ll_password_hash_new(const char *password);
/* LL_OK when password matches (constant time), LL_ERR_AUTH_FAILED when
 * not, LL_ERR_MALFORMED for a bad PHC string. */
int ll_password_verify(const char *phc, const char *password);
/* Same work as a verify against a fixed hash: unknown users cost the same
 * time as known ones.  Always LL_ERR_AUTH_FAILED. */
int ll_password_verify_dummy(const char *password);
/*
 * Test builds only (-Dtest_hooks=true; not defined otherwise): while the
 * file at path exists, every hash and verification waits before it
 * starts (logging "test hash gate: ..." once each), so that a test can
 * hold the relay's password work as long as it likes.  Call before any
 * thread hashes.
 */
int ll_password_test_gate_use(const char *path);
/*
 * The one rule for a password a person chooses (an administrator on
 * stdin, a technician changing theirs): NULL when it may be used, else a
 * sentence saying why not.  LL_PASSWORD_MIN..LL_PASSWORD_MAX bytes and
 * no control characters, so that it fits on one line of a terminal or of
 * standard input.
 */
const char *ll_password_problem(const char *password);

/* Technicians' user names: 1 to LL_USERNAME_MAX of A-Z a-z 0-9 . _ - @,
 * starting with a letter or digit (the CLI's and the directory's). */
#define LL_USERNAME_MAX 64
bool ll_username_valid(const char *u);
/* A generated one-time password: 20 characters from an unambiguous
 * alphabet, ~100 bits.  Caller frees with ll_secret_free. */
char *ll_password_generate_new(void);

/* digits (LL_PIN_MIN_DIGITS..LL_PIN_MAX_DIGITS) digits from the CSPRNG,
 * uniform over all 10^digits PINs, NUL-terminated into out.  Checked with
 * ll_pin_well_formed (ll_util.h). */
int ll_pin_generate(int digits, char out[LL_PIN_MAX_DIGITS + 1]);

/* SHA-256 of a bearer token or ticket, for storage and lookup. */
int ll_secret_hash(const char *secret, uint8_t out[32]);
/* HMAC-SHA256(key, pin): PINs are stored keyed so a stolen database does
 * not reveal live PINs.  key is the 32-byte at-rest key. */
int ll_pin_mac(const uint8_t key[32], const char *pin, uint8_t out[32]);

/*
 * Channel credentials (channel.c; the shape is ll_util.h's).  The MAC is
 * HMAC-SHA256(key, "lifeline channel credential v1" NUL, the id as 8
 * bytes big-endian, the handle); key is the 32-byte at-rest key.
 */
int ll_channel_credential_mac(const uint8_t key[32], int64_t channel_id,
			      const uint8_t handle[LL_CHANNEL_HANDLE_LEN],
			      uint8_t out[32]);
/* The credential text; NULL on error.  Free with ll_secret_free. */
char *ll_channel_credential_new(const uint8_t key[32], int64_t channel_id,
				const uint8_t handle[LL_CHANNEL_HANDLE_LEN]);
/* Splits a credential into its handle and MAC: LL_ERR_MALFORMED when it
 * does not have the shape. */
int ll_channel_credential_parse(const char *text,
				uint8_t handle[LL_CHANNEL_HANDLE_LEN],
				uint8_t mac[32]);

#endif
