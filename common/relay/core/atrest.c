/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The at-rest key (docs/SECURITY.md, "Rotating the at-rest key"): what it
 * seals (the second factor's seeds, the key of the keyed hashes, the
 * kept chat lines), the
 * lock every process holding it takes, finishing a rotation cut short,
 * and `lifeline-relay key rotate` itself.
 *
 * Two keys come out of it.  relay->at_rest_key seals: every sealed value
 * is opened and sealed again under a new key by a rotation.  Keyed
 * hashes (PIN MACs, recovery codes, channel credentials, launch tokens)
 * cannot be computed again without what they hash, so their key,
 * relay->mac_key, stays: it is the first at-rest key, kept from the first
 * rotation on sealed in the store (at_rest_state) like a seed.
 *
 * Crash safety: the new key is written beside the old one
 * (at-rest.key.new), one transaction seals everything again and records
 * the new key's id, then the new file replaces the old one.  Whoever opens
 * the state and finds a .new file finishes the rotation when the store
 * names the new key, and drops the file otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ll_crypto.h"
#include "ll_log.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "ll_store_chat.h"

void ll_relay_key_id(const uint8_t key[32], char out[LL_KEY_ID_LEN + 1])
{
	static const char label[] = "lifeline at-rest key id";
	static const char digits[] = "0123456789abcdef";
	uint8_t mac[LL_HASH_LEN];
	size_t i;

	if (ll_hmac_sha256(key, 32, label, sizeof(label) - 1, mac) != 0)
		memset(mac, 0, sizeof(mac));
	for (i = 0; i < LL_KEY_ID_LEN / 2; i++) {
		out[2 * i] = digits[mac[i] >> 4];
		out[2 * i + 1] = digits[mac[i] & 15];
	}
	out[LL_KEY_ID_LEN] = '\0';
}

/* "lifeline mfa v1" NUL, the row id (8 bytes big-endian), the column:
 * what a sealed value is bound to.  The seeds' label predates the MAC
 * key's row and stays. */
static size_t seal_aad(const char *label, size_t label_len, int64_t row,
		       const char *column, uint8_t *aad, size_t size)
{
	size_t c = strlen(column);
	int i;

	if (label_len + 8 + c > size)
		return 0;
	memcpy(aad, label, label_len);
	for (i = 0; i < 8; i++)
		aad[label_len + (size_t)i] = (uint8_t)((uint64_t)row >>
						       (8 * (7 - i)));
	memcpy(aad + label_len + 8, column, c);
	return label_len + 8 + c;
}

static const char seed_label[] = "lifeline mfa v1";
static const char state_label[] = "lifeline at-rest v1";

int ll_relay_seed_seal(const uint8_t key[32], int64_t tech_id,
		       const char *column,
		       const uint8_t seed[LL_TOTP_SEED_LEN], uint8_t *out,
		       size_t *out_len)
{
	uint8_t aad[64];
	size_t n = seal_aad(seed_label, sizeof(seed_label), tech_id, column,
			    aad, sizeof(aad));

	return ll_aead_seal(key, aad, n, seed, LL_TOTP_SEED_LEN, out,
			    LL_MFA_SEALED_MAX, out_len);
}

/* Opens what key sealed under (label, row, column): exactly want bytes. */
static int sealed_open(const uint8_t key[32], const char *label,
		       size_t label_len, int64_t row, const char *column,
		       const uint8_t *in, size_t in_len, uint8_t *out,
		       size_t want)
{
	uint8_t aad[64], buf[LL_MFA_SEALED_MAX];
	size_t n = seal_aad(label, label_len, row, column, aad, sizeof(aad));
	size_t len = 0;
	int r;

	r = ll_aead_open(key, aad, n, in, in_len, buf, sizeof(buf), &len);
	if (r == LL_OK && len != want)
		r = LL_ERR_MALFORMED;
	if (r == LL_OK)
		memcpy(out, buf, want);
	ll_wipe(buf, sizeof(buf));
	return r;
}

int ll_relay_seed_open(const uint8_t key[32], int64_t tech_id,
		       const char *column, const uint8_t *in, size_t in_len,
		       uint8_t seed[LL_TOTP_SEED_LEN])
{
	return sealed_open(key, seed_label, sizeof(seed_label), tech_id,
			   column, in, in_len, seed, LL_TOTP_SEED_LEN);
}

/* ---- chat lines (policy keep_chat) ---- */

static const char chat_label[] = "lifeline chat v1";

int ll_relay_chat_seal(const uint8_t key[32], int64_t row, const char *text,
		       uint8_t **out, size_t *out_len)
{
	uint8_t aad[64];
	size_t n = seal_aad(chat_label, sizeof(chat_label), row, "text", aad,
			    sizeof(aad));
	size_t len = strlen(text), cap = len + LL_AEAD_OVERHEAD;
	uint8_t *buf;
	int r;

	if (cap > LL_STORE_CHAT_SEALED_MAX)
		return LL_ERR_TOO_LARGE;
	if ((buf = malloc(cap)) == NULL)
		return LL_ERR_NOMEM;
	r = ll_aead_seal(key, aad, n, text, len, buf, cap, out_len);
	if (r != LL_OK) {
		free(buf);
		return r;
	}
	*out = buf;
	return LL_OK;
}

int ll_relay_chat_open(const uint8_t key[32], int64_t row, const uint8_t *in,
		       size_t in_len, char **text)
{
	uint8_t aad[64];
	size_t n = seal_aad(chat_label, sizeof(chat_label), row, "text", aad,
			    sizeof(aad));
	size_t len = 0;
	char *buf;
	int r;

	if (in_len < LL_AEAD_OVERHEAD || in_len > LL_STORE_CHAT_SEALED_MAX)
		return LL_ERR_MALFORMED;
	if ((buf = malloc(in_len - LL_AEAD_OVERHEAD + 1)) == NULL)
		return LL_ERR_NOMEM;
	r = ll_aead_open(key, aad, n, in, in_len, (uint8_t *)buf,
			 in_len - LL_AEAD_OVERHEAD, &len);
	if (r != LL_OK) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*text = buf;
	return LL_OK;
}

/* Opens every kept chat line under old and seals it under new. */
static int reseal_chat(struct ll_store *st, const uint8_t old[32],
		       const uint8_t new[32], size_t *count)
{
	struct ll_chat_row *rows = NULL;
	uint8_t *sealed = NULL;
	size_t n = 0, i, len = 0;
	char *text = NULL;
	int r;

	if ((r = ll_store_chat_list(st, NULL, &rows, &n)) != LL_OK)
		return r;
	for (i = 0; i < n && r == LL_OK; i++) {
		r = ll_relay_chat_open(old, rows[i].id, rows[i].sealed,
				       rows[i].sealed_len, &text);
		if (r == LL_OK)
			r = ll_relay_chat_seal(new, rows[i].id, text, &sealed,
					       &len);
		if (r == LL_OK)
			r = ll_store_chat_set_sealed(st, rows[i].id, sealed,
						     len);
		if (r == LL_OK)
			(*count)++;
		if (text != NULL)
			ll_wipe(text, strlen(text));
		LL_FREE_AND_NULL(free, text);
		LL_FREE_AND_NULL(free, sealed);
	}
	ll_chat_rows_free(rows, n);
	return r;
}

/* ---- the lock ---- */

static char *path_with(const char *path, const char *suffix)
{
	size_t n = strlen(path) + strlen(suffix) + 1;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s%s", path, suffix);
	return p;
}

/* Makes a rename in path's directory durable. */
static void sync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (copy == NULL)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

static int flock_retry(int fd, int op)
{
	int rc;

	do
		rc = flock(fd, op);
	while (rc != 0 && errno == EINTR);
	return rc;
}

/*
 * at-rest.key.lock beside the key: shared by every process holding the
 * key (serve and the admin commands alike), exclusive for a rotation and
 * for finishing one.
 */
static int lock_take(struct ll_relay *relay, const char *key_file,
		     char *errbuf, size_t errlen)
{
	char *path = path_with(key_file, ".lock");
	int fd;

	if (path == NULL)
		return LL_ERR_NOMEM;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EROFS || errno == EACCES)) {
		/* A state nobody here may write (an auditor's copy): no
		 * rotation can run on it either. */
		free(path);
		return LL_OK;
	}
	if (fd < 0 || flock_retry(fd, LOCK_SH) != 0) {
		snprintf(errbuf, errlen, "cannot lock %s: %s", path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		free(path);
		return LL_ERR_IO;
	}
	free(path);
	relay->key_lock_fd = fd;
	relay->key_locked = true;
	return LL_OK;
}

void ll_relay_key_unlock(struct ll_relay *relay)
{
	if (relay == NULL || !relay->key_locked)
		return;
	close(relay->key_lock_fd);
	relay->key_locked = false;
}

/* ---- opening ---- */

/*
 * A rotation cut short left at-rest.key.new: when the store already
 * names its key, the transaction committed and only the rename is left;
 * otherwise it never committed and the file goes.
 */
static int finish_rotation(struct ll_relay *relay, const char *key_file,
			   char *errbuf, size_t errlen)
{
	char *tmp = path_with(key_file, ".new");
	char id_new[LL_KEY_ID_LEN + 1], id_store[LL_KEY_ID_LEN + 1];
	uint8_t key[32], sealed[LL_MFA_SEALED_MAX];
	size_t len = 0;
	int r;

	if (tmp == NULL)
		return LL_ERR_NOMEM;
	if (access(tmp, F_OK) != 0) {
		free(tmp);
		return LL_OK;
	}
	/* Whoever rotated is gone (it held the lock exclusively). */
	if (!relay->key_locked) {
		snprintf(errbuf, errlen,
			 "a rotation of the at-rest key was cut short (%s "
			 "exists): open the state once where it can be "
			 "written",
			 tmp);
		r = LL_ERR_CONFIG;
		goto out;
	}
	if (flock_retry(relay->key_lock_fd, LOCK_EX) != 0) {
		r = LL_ERR_IO;
		goto out;
	}
	r = ll_relay_read_at_rest_key(tmp, key, errbuf, errlen);
	if (r == LL_ERR_NOT_FOUND) { /* another process finished it */
		r = LL_OK;
		goto relock;
	}
	if (r == LL_OK)
		ll_relay_key_id(key, id_new);
	ll_wipe(key, sizeof(key));
	if (r == LL_OK)
		r = ll_store_at_rest_get(relay->store, id_store, sealed,
					 sizeof(sealed), &len);
	if (r == LL_OK && strcmp(id_store, id_new) == 0) {
		if (rename(tmp, key_file) != 0) {
			snprintf(errbuf, errlen, "cannot rename %s: %s", tmp,
				 strerror(errno));
			r = LL_ERR_IO;
			goto relock;
		}
		sync_dir_of(key_file);
		ll_info("at-rest key: finished the rotation to key %s that "
			"was cut short",
			id_new);
	} else if (r == LL_OK || r == LL_ERR_NOT_FOUND || r == LL_ERR_CONFIG) {
		/* Never committed (or a torn file that could not have). */
		(void)unlink(tmp);
		sync_dir_of(key_file);
		ll_info("at-rest key: dropped %s, a rotation that never "
			"committed",
			tmp);
		errbuf[0] = '\0';
		r = LL_OK;
	}
relock:
	if (flock_retry(relay->key_lock_fd, LOCK_SH) != 0 && r == LL_OK)
		r = LL_ERR_IO;
out:
	free(tmp);
	return r;
}

int ll_relay_at_rest_open(struct ll_relay *relay, char *errbuf, size_t errlen)
{
	const char *key_file = relay->cfg.at_rest_key_file;
	char id_file[LL_KEY_ID_LEN + 1], id_store[LL_KEY_ID_LEN + 1];
	uint8_t sealed[LL_MFA_SEALED_MAX];
	size_t len = 0;
	int r;

	if ((r = lock_take(relay, key_file, errbuf, errlen)) != LL_OK ||
	    (r = finish_rotation(relay, key_file, errbuf, errlen)) != LL_OK ||
	    (r = ll_relay_read_at_rest_key(key_file, relay->at_rest_key,
					   errbuf, errlen)) != LL_OK)
		return r;
	r = ll_store_at_rest_get(relay->store, id_store, sealed,
				 sizeof(sealed), &len);
	if (r == LL_ERR_NOT_FOUND) { /* never rotated: one key for both */
		memcpy(relay->mac_key, relay->at_rest_key, 32);
		return LL_OK;
	}
	if (r != LL_OK) {
		snprintf(errbuf, errlen, "cannot read the at-rest state: %s",
			 ll_strerror(r));
		return r;
	}
	ll_relay_key_id(relay->at_rest_key, id_file);
	if (strcmp(id_file, id_store) != 0) {
		snprintf(errbuf, errlen,
			 "the at-rest key %s (key id %s) is not the key the "
			 "store is sealed under (key id %s): restore the key "
			 "file that goes with this store",
			 key_file, id_file, id_store);
		return LL_ERR_CONFIG;
	}
	r = sealed_open(relay->at_rest_key, state_label, sizeof(state_label),
			1, "mac_key", sealed, len, relay->mac_key, 32);
	if (r != LL_OK)
		snprintf(errbuf, errlen,
			 "the store's sealed MAC key does not open under the "
			 "at-rest key %s: %s",
			 key_file, ll_strerror(r));
	return r;
}

/* ---- rotation ---- */

static int write_new_key(const char *path, const uint8_t key[32], char *errbuf,
			 size_t errlen)
{
	size_t off = 0;
	ssize_t n;
	int fd, r = LL_OK;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		snprintf(errbuf, errlen, "cannot create %s: %s", path,
			 strerror(errno));
		return LL_ERR_IO;
	}
	while (off < 32 && r == LL_OK) {
		n = write(fd, key + off, 32 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = LL_ERR_IO;
		else
			off += (size_t)n;
	}
	if (r != LL_OK || fchmod(fd, 0600) != 0 || fsync(fd) != 0) {
		snprintf(errbuf, errlen, "cannot write %s: %s", path,
			 strerror(errno));
		r = LL_ERR_IO;
	}
	close(fd);
	if (r != LL_OK)
		(void)unlink(path);
	else
		sync_dir_of(path);
	return r;
}

/* Opens every sealed seed under old and seals it under new. */
static int reseal_seeds(struct ll_store *st, const uint8_t old[32],
			const uint8_t new[32], size_t *count)
{
	struct ll_mfa *rows = NULL;
	uint8_t seed[LL_TOTP_SEED_LEN];
	size_t n = 0, i, k;
	int r;

	if ((r = ll_store_mfa_sealed_list(st, &rows, &n)) != LL_OK)
		return r;
	for (i = 0; i < n && r == LL_OK; i++) {
		struct {
			const char *column;
			uint8_t *buf;
			size_t *len;
		} cols[] = {
			{ "seed", rows[i].seed, &rows[i].seed_len },
			{ "pending_seed", rows[i].pending_seed,
			  &rows[i].pending_len },
		};

		for (k = 0; k < LL_ARRAY_SIZE(cols) && r == LL_OK; k++) {
			if (*cols[k].len == 0)
				continue;
			r = ll_relay_seed_open(old, rows[i].technician_id,
					       cols[k].column, cols[k].buf,
					       *cols[k].len, seed);
			if (r == LL_OK)
				r = ll_relay_seed_seal(new,
						       rows[i].technician_id,
						       cols[k].column, seed,
						       cols[k].buf,
						       cols[k].len);
			if (r == LL_OK)
				(*count)++;
		}
		if (r == LL_OK)
			r = ll_store_mfa_reseal(st, &rows[i]);
	}
	ll_wipe(seed, sizeof(seed));
	ll_wipe(rows, n * sizeof(*rows));
	free(rows);
	return r;
}

/* The transaction of a rotation: every seed, the MAC key and the new
 * key's id, and its audit record. */
static int rotate_store(struct ll_relay *relay, const uint8_t new[32],
			const char *id_old, const char *id_new, char *errbuf,
			size_t errlen)
{
	struct ll_store *st = relay->store;
	uint8_t aad[64], sealed[LL_MFA_SEALED_MAX];
	size_t n, len = 0, seeds = 0, chat = 0;
	int r;

	if ((r = ll_store_begin(st)) != LL_OK)
		return r;
	if ((r = reseal_seeds(st, relay->at_rest_key, new, &seeds)) != LL_OK) {
		snprintf(errbuf, errlen,
			 "a sealed seed does not open under the current "
			 "at-rest key: %s",
			 ll_strerror(r));
		goto out;
	}
	if ((r = reseal_chat(st, relay->at_rest_key, new, &chat)) != LL_OK) {
		snprintf(errbuf, errlen,
			 "a kept chat line does not open under the current "
			 "at-rest key: %s",
			 ll_strerror(r));
		goto out;
	}
	n = seal_aad(state_label, sizeof(state_label), 1, "mac_key", aad,
		     sizeof(aad));
	if ((r = ll_aead_seal(new, aad, n, relay->mac_key, 32, sealed,
			      sizeof(sealed), &len)) != LL_OK ||
	    (r = ll_store_at_rest_set(st, id_new, sealed, len,
				      ll_now_unix())) != LL_OK)
		goto out;
	r = ll_cmd_audit_append(st, 0, "key.rotate", "ok",
				json_pack("{s:s,s:s,s:I,s:I}", "old_key_id",
					  id_old, "new_key_id", id_new,
					  "seeds", (json_int_t)seeds,
					  "chat_lines", (json_int_t)chat));
out:
	if (r == LL_OK)
		r = ll_store_commit(st);
	else
		ll_store_rollback(st);
	return r;
}

int ll_relay_key_rotate(struct ll_relay *relay, const char *crash_at,
			char *errbuf, size_t errlen)
{
	const char *key_file = relay->cfg.at_rest_key_file;
	char id_old[LL_KEY_ID_LEN + 1], id_new[LL_KEY_ID_LEN + 1];
	char *tmp = path_with(key_file, ".new");
	uint8_t new[32];
	int r;

	if (tmp == NULL)
		return LL_ERR_NOMEM;
	/* The lock is shared by every process holding the key: a serve
	 * running would go on sealing under the old key. */
	if (!relay->key_locked ||
	    flock(relay->key_lock_fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(errbuf, errlen,
			 "another process holds the at-rest key (%s.lock): "
			 "stop `lifeline-relay serve` and try again",
			 key_file);
		r = LL_ERR_CONFLICT;
		goto out;
	}
	if ((r = ll_random_bytes(new, sizeof(new))) != 0 ||
	    (r = write_new_key(tmp, new, errbuf, errlen)) != LL_OK)
		goto out;
	ll_relay_key_id(relay->at_rest_key, id_old);
	ll_relay_key_id(new, id_new);
	if (crash_at != NULL && strcmp(crash_at, "before-commit") == 0)
		_exit(99);
	if ((r = rotate_store(relay, new, id_old, id_new, errbuf, errlen)) !=
	    LL_OK) {
		(void)unlink(tmp);
		goto out;
	}
	if (crash_at != NULL && strcmp(crash_at, "after-commit") == 0)
		_exit(99);
	if (rename(tmp, key_file) != 0) {
		/* The next open finishes it (finish_rotation). */
		snprintf(errbuf, errlen, "cannot rename %s: %s", tmp,
			 strerror(errno));
		r = LL_ERR_IO;
		goto out;
	}
	sync_dir_of(key_file);
	memcpy(relay->at_rest_key, new, sizeof(new));
	ll_info("at-rest key rotated: %s -> %s", id_old, id_new);
out:
	ll_wipe(new, sizeof(new));
	free(tmp);
	return r;
}
