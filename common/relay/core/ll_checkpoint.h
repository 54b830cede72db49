/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Signed checkpoints of the audit chain's head, kept outside the
 * database (docs/SECURITY.md, "The audit chain and its checkpoints").
 *
 * A checkpoint is one line of text, the same in every place it is kept:
 *
 *   audit checkpoint v1 seq=N head=HEX time=UNIX keyed_from=K
 *     key_id=HEX16 sign_key=HEX16 sig=BASE64URL
 *
 * (one line; wrapped here).  seq and head are the newest record and its
 * hash, time when the checkpoint was made, keyed_from the record that
 * starts the keyed epoch (0: none), key_id the audit key's id
 * (ll_audit_key_id), sign_key the first 8 bytes of SHA-256 of the Ed25519
 * public key, and sig the Ed25519 signature of every byte before " sig=".
 *
 * The relay writes one every audit_checkpoint_s seconds when the head
 * moved, at start and at shutdown (so do admin commands that appended):
 * STATE/audit.checkpoint (the latest; written to a temporary file,
 * fsync'd and renamed), a line appended to STATE/audit.checkpoints.log
 * (fsync'd; at 1 MiB it becomes audit.checkpoints.log.1), syslog
 * (LOG_AUTHPRIV | LOG_NOTICE, which journald takes on systemd hosts) and
 * the relay's log.
 */
#ifndef LL_CHECKPOINT_H
#define LL_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "ll_store.h"

struct ll_relay;

#define LL_CHECKPOINT_TAG "audit checkpoint v1 "
#define LL_CHECKPOINT_FILE "audit.checkpoint"
#define LL_CHECKPOINT_LOG "audit.checkpoints.log"
#define LL_CHECKPOINT_LOG_MAX (1024 * 1024)
#define LL_CHECKPOINT_LINE_MAX 512

struct ll_checkpoint {
	int64_t seq;
	uint8_t head[LL_HASH_LEN];
	int64_t time;
	int64_t keyed_from;
	char key_id[LL_AUDIT_KEY_ID_LEN + 1]; /* "" when unkeyed */
	char sign_id[17];
	uint8_t sig[64];
};

/* The id of a signing key: hex of SHA-256(public key)[:8]. */
int ll_checkpoint_sign_id(const uint8_t pub[32], char out[17]);
/* Fills sign_id and sig. */
int ll_checkpoint_sign(struct ll_checkpoint *cp, const uint8_t priv[32]);
/* The line (without newline) into out; LL_ERR_TOO_LARGE when short. */
int ll_checkpoint_format(const struct ll_checkpoint *cp, char *out,
			 size_t outlen);
/* Reads a checkpoint from a line that contains one anywhere (a syslog or
 * journal line too).  LL_ERR_NOT_FOUND: no checkpoint in it;
 * LL_ERR_MALFORMED: a checkpoint that does not parse. */
int ll_checkpoint_parse(const char *line, struct ll_checkpoint *out);
/* LL_OK, or LL_ERR_AUTH_FAILED (not signed by pub, or altered). */
int ll_checkpoint_verify(const struct ll_checkpoint *cp,
			 const uint8_t pub[32]);

/*
 * Writes a checkpoint of the store's head to every place above, unless
 * the head is where this process's last checkpoint left it (force: even
 * then).  A reader (ll_relay_open_state_ro) writes nothing.  Logs and
 * returns the error when a place cannot be written.
 */
int ll_relay_checkpoint(struct ll_relay *relay, bool force);
/* Once a second on the loop: a checkpoint when audit_checkpoint_s have
 * passed since the last one and the head moved. */
void ll_relay_checkpoint_tick(struct ll_relay *relay);

#endif
