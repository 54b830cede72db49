/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A sans-I/O TLS 1.3 record layer for an established connection (RFC
 * 8446 section 5, and the KeyUpdate of 4.6.3): the application traffic
 * secrets, keys, IVs and sequence numbers of both directions, nothing
 * of the handshake.  The forwarding pipes (ll_tls_pipe.h) move an idle
 * stream onto it and free OpenSSL's SSL, which holds some 13 KiB per
 * connection after the handshake (bench/results/relay-idle-profile.md);
 * this holds a few hundred bytes while idle.  Internal to common/tls
 * (and its tests and fuzzer): nothing else speaks records.
 *
 * The crypto is OpenSSL's EVP (AEAD and HKDF); the cipher contexts are
 * made on first use and freed by ll_rec13_trim.  Server or client: the
 * caller names the read and the write secret.  Not thread-safe.
 */
#ifndef LL_TLS_REC13_H
#define LL_TLS_REC13_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
 * TLS_CHACHA20_POLY1305_SHA256 */
#define LL_REC13_AES128 0x1301
#define LL_REC13_AES256 0x1302
#define LL_REC13_CHACHA 0x1303

#define LL_REC13_MAX_PLAIN 16384
#define LL_REC13_HDR 5
/* The largest record a peer may send: header + 2^14 + 256. */
#define LL_REC13_MAX_RECORD (LL_REC13_HDR + LL_REC13_MAX_PLAIN + 256)
/* The record ll_rec13_seal makes of len plaintext bytes. */
#define LL_REC13_SEALED_LEN(len) (LL_REC13_HDR + (len) + 1 + 16)
#define LL_REC13_SECRET_MAX 48

/* Inner content types. */
#define LL_REC13_ALERT 21
#define LL_REC13_HANDSHAKE 22
#define LL_REC13_APPDATA 23

struct ll_rec13;

/*
 * For suite (one of the three above), the current application traffic
 * secrets (secret_len: the suite's hash length) and the sequence numbers
 * of the next record each way.  NULL: unknown suite, wrong length, no
 * memory.  Copies the secrets (the caller cleanses its own).
 */
struct ll_rec13 *ll_rec13_new(uint16_t suite, const uint8_t *rd_secret,
			      const uint8_t *wr_secret, size_t secret_len,
			      uint64_t rd_seq, uint64_t wr_seq);
/* Cleanses and frees; NULL is a no-op. */
void ll_rec13_free(struct ll_rec13 *r);
/* Frees the cipher contexts when none was used since the last trim (an
 * idle connection; a busy one trimmed after each small burst keeps
 * them); the next use makes them again from the keys. */
void ll_rec13_trim(struct ll_rec13 *r);

/*
 * Seals len (<= LL_REC13_MAX_PLAIN) bytes of inner content type into one
 * record at out, which has room for LL_REC13_SEALED_LEN(len).  in and
 * out do not overlap.  LL_OK, LL_ERR_TOO_LARGE, LL_ERR_CRYPTO.
 */
int ll_rec13_seal(struct ll_rec13 *r, uint8_t type, const void *in, size_t len,
		  uint8_t *out);

/*
 * How long the record at the start of buf[0, len) is: LL_OK and *reclen;
 * LL_ERR_TRUNCATED when more bytes must come first; LL_ERR_TLS when it
 * cannot be a protected TLS 1.3 record (outer type, version, length).
 */
int ll_rec13_record_len(const uint8_t *buf, size_t len, size_t *reclen);

/*
 * Opens one whole record (reclen from ll_rec13_record_len) in place.
 *   LL_OK: application data at *plain, *plain_len bytes (0 is allowed
 *     and also what a KeyUpdate leaves);
 *   LL_ERR_CLOSED: the peer's close_notify;
 *   LL_ERR_TLS: a bad tag, another alert, a CCS, a handshake message
 *     other than a whole KeyUpdate, an oversized or empty inner text.
 * Once it failed or closed, every later call says the same.  A peer's
 * KeyUpdate moves the read keys; one with update_requested makes
 * ll_rec13_update_due true.
 */
int ll_rec13_open(struct ll_rec13 *r, uint8_t *rec, size_t reclen,
		  uint8_t **plain, size_t *plain_len);
/* Does the peer wait for our KeyUpdate?  Seal it with
 * ll_rec13_seal_key_update before any other record. */
bool ll_rec13_update_due(const struct ll_rec13 *r);
/* Our KeyUpdate(update_not_requested) under the current write key into
 * out (room for LL_REC13_SEALED_LEN(5)), then the next write key. */
int ll_rec13_seal_key_update(struct ll_rec13 *r, uint8_t *out);
/* The close_notify alert record into out (room for
 * LL_REC13_SEALED_LEN(2)). */
int ll_rec13_seal_close_notify(struct ll_rec13 *r, uint8_t *out);
/* Has the peer's close_notify come? */
bool ll_rec13_got_close_notify(const struct ll_rec13 *r);

#endif
