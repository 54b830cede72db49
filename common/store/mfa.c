/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The second factor's state (ll_store.h, "second factor").  The store
 * never sees a seed or a recovery code: the relay hands it sealed seeds
 * and keyed hashes of codes, and opens what it reads back.
 */
#include "store_int.h"
#include "ll_crypto.h"

static int mfa_row(sqlite3_stmt *s, void *arg)
{
	struct ll_mfa *m = arg;
	const void *b;
	int i, n;
	struct {
		uint8_t *buf;
		size_t *len;
	} blobs[] = {
		{ m->seed, &m->seed_len },
		{ m->pending_seed, &m->pending_len },
	};

	for (i = 0; i < 2; i++) {
		b = sqlite3_column_blob(s, i);
		n = sqlite3_column_bytes(s, i);
		if (b == NULL || n <= 0) {
			*blobs[i].len = 0;
			continue;
		}
		if ((size_t)n > LL_MFA_SEALED_MAX)
			return LL_ERR_TOO_LARGE;
		memcpy(blobs[i].buf, b, (size_t)n);
		*blobs[i].len = (size_t)n;
	}
	m->pending_at = sqlite3_column_int64(s, 2);
	m->enabled_at = sqlite3_column_int64(s, 3);
	m->last_step = sqlite3_column_int64(s, 4);
	m->failures = sqlite3_column_int64(s, 5);
	m->locked = sqlite3_column_int64(s, 6) != 0;
	return LL_OK;
}

int ll_store_mfa_get(struct ll_store *st, int64_t technician_id,
		     struct ll_mfa *out)
{
	struct ll_mfa m;
	int r;

	if (st == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	memset(&m, 0, sizeof(m));
	m.technician_id = technician_id;
	r = ll_store_get(st, STMT_MFA_GET, STORE_ARGS(ARG_I64(technician_id)),
			 mfa_row, &m);
	if (r == LL_OK)
		*out = m;
	ll_wipe(&m, sizeof(m));
	return r;
}

int ll_store_mfa_set_pending(struct ll_store *st, int64_t technician_id,
			     const uint8_t *sealed, size_t len, int64_t now)
{
	if (st == NULL || sealed == NULL || len == 0 ||
	    len > LL_MFA_SEALED_MAX)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec(st, STMT_MFA_SET_PENDING,
			     STORE_ARGS(ARG_I64(technician_id),
					ARG_BLOB(sealed, len), ARG_I64(now)));
}

int ll_store_mfa_confirm(struct ll_store *st, int64_t technician_id,
			 const uint8_t *sealed, size_t len, int64_t step,
			 int64_t now)
{
	if (st == NULL || sealed == NULL || len == 0 ||
	    len > LL_MFA_SEALED_MAX)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec_changed(st, STMT_MFA_CONFIRM,
				     STORE_ARGS(ARG_I64(technician_id),
						ARG_BLOB(sealed, len),
						ARG_I64(now), ARG_I64(step)));
}

int ll_store_mfa_use_step(struct ll_store *st, int64_t technician_id,
			  int64_t step)
{
	int r;

	if (st == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_exec_changed(st, STMT_MFA_USE_STEP,
				  STORE_ARGS(ARG_I64(technician_id),
					     ARG_I64(step)));
	return r == LL_ERR_NOT_FOUND ? LL_ERR_CONFLICT : r;
}

int ll_store_mfa_fail(struct ll_store *st, int64_t technician_id,
		      int64_t lock_at, struct ll_mfa *after)
{
	int r;

	if (st == NULL || lock_at < 1)
		return LL_ERR_INVALID_ARG;
	r = ll_store_exec_changed(st, STMT_MFA_FAIL,
				  STORE_ARGS(ARG_I64(technician_id),
					     ARG_I64(lock_at)));
	if (r == LL_OK && after != NULL)
		r = ll_store_mfa_get(st, technician_id, after);
	return r;
}

int ll_store_mfa_clear_failures(struct ll_store *st, int64_t technician_id)
{
	if (st == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec(st, STMT_MFA_FAILURES,
			     STORE_ARGS(ARG_I64(technician_id)));
}

int ll_store_mfa_unlock(struct ll_store *st, int64_t technician_id)
{
	if (st == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec_changed(st, STMT_MFA_UNLOCK,
				     STORE_ARGS(ARG_I64(technician_id)));
}

int ll_store_mfa_reset(struct ll_store *st, int64_t technician_id)
{
	int r;

	if (st == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_begin(st)) != LL_OK)
		return r;
	r = ll_store_exec(st, STMT_MFA_RECOVERY_DELETE,
			  STORE_ARGS(ARG_I64(technician_id)));
	if (r == LL_OK)
		r = ll_store_exec_changed(st, STMT_MFA_DELETE,
					  STORE_ARGS(ARG_I64(technician_id)));
	return ll_store_tx_end(st, r);
}

int ll_store_mfa_recovery_set(struct ll_store *st, int64_t technician_id,
			      const uint8_t (*macs)[LL_HASH_LEN], size_t n)
{
	size_t i;
	int r;

	if (st == NULL || (macs == NULL && n > 0))
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_begin(st)) != LL_OK)
		return r;
	r = ll_store_exec(st, STMT_MFA_RECOVERY_DELETE,
			  STORE_ARGS(ARG_I64(technician_id)));
	for (i = 0; r == LL_OK && i < n; i++)
		r = ll_store_exec(st, STMT_MFA_RECOVERY_ADD,
				  STORE_ARGS(ARG_I64(technician_id),
					     ARG_HASH(macs[i])));
	return ll_store_tx_end(st, r);
}

int ll_store_mfa_recovery_use(struct ll_store *st, int64_t technician_id,
			      const uint8_t mac[LL_HASH_LEN], int64_t now)
{
	if (st == NULL || mac == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec_changed(st, STMT_MFA_RECOVERY_USE,
				     STORE_ARGS(ARG_I64(technician_id),
						ARG_HASH(mac), ARG_I64(now)));
}

int ll_store_mfa_recovery_left(struct ll_store *st, int64_t technician_id,
			       int64_t *n_out)
{
	if (st == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_MFA_RECOVERY_LEFT,
			    STORE_ARGS(ARG_I64(technician_id)),
			    ll_store_row_i64, n_out);
}

int ll_store_mfa_challenge_add(struct ll_store *st,
			       const uint8_t hash[LL_HASH_LEN],
			       int64_t technician_id, int64_t now,
			       int64_t expires_at)
{
	int r;

	if (st == NULL || hash == NULL)
		return LL_ERR_INVALID_ARG;
	/* Expired challenges go as new ones come: no sweep needed. */
	r = ll_store_exec(st, STMT_MFA_CHALLENGE_EXPIRE,
			  STORE_ARGS(ARG_I64(now)));
	if (r == LL_OK)
		r = ll_store_exec(st, STMT_MFA_CHALLENGE_ADD,
				  STORE_ARGS(ARG_HASH(hash),
					     ARG_I64(technician_id),
					     ARG_I64(expires_at)));
	return r;
}

int ll_store_mfa_challenge_get(struct ll_store *st,
			       const uint8_t hash[LL_HASH_LEN], int64_t now,
			       int64_t *technician_id_out)
{
	if (st == NULL || hash == NULL || technician_id_out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_MFA_CHALLENGE_GET,
			    STORE_ARGS(ARG_HASH(hash), ARG_I64(now)),
			    ll_store_row_i64, technician_id_out);
}

int ll_store_mfa_challenge_delete(struct ll_store *st,
				  const uint8_t hash[LL_HASH_LEN])
{
	if (st == NULL || hash == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec(st, STMT_MFA_CHALLENGE_DELETE,
			     STORE_ARGS(ARG_HASH(hash)));
}

static int sealed_row(sqlite3_stmt *s, void *elem)
{
	struct ll_mfa *m = elem;
	int r;

	memset(m, 0, sizeof(*m));
	if ((r = mfa_row(s, m)) == LL_OK)
		m->technician_id = sqlite3_column_int64(s, 7);
	return r;
}

static void sealed_list_free(void *list, size_t n)
{
	ll_wipe(list, n * sizeof(struct ll_mfa));
	free(list);
}

int ll_store_mfa_sealed_list(struct ll_store *st, struct ll_mfa **out,
			     size_t *n_out)
{
	if (st == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_list(st, STMT_MFA_SEALED_LIST, NO_ARGS,
			     sizeof(struct ll_mfa), sealed_row,
			     sealed_list_free, (void **)out, n_out);
}

int ll_store_mfa_reseal(struct ll_store *st, const struct ll_mfa *m)
{
	if (st == NULL || m == NULL || m->seed_len > LL_MFA_SEALED_MAX ||
	    m->pending_len > LL_MFA_SEALED_MAX)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec_changed(
		st, STMT_MFA_RESEAL,
		STORE_ARGS(ARG_I64(m->technician_id),
			   ARG_BLOB(m->seed_len ? m->seed : NULL, m->seed_len),
			   ARG_BLOB(m->pending_len ? m->pending_seed : NULL,
				    m->pending_len)));
}

struct at_rest_row {
	char *key_id;
	uint8_t *buf;
	size_t size, len;
};

static int at_rest_row(sqlite3_stmt *s, void *out)
{
	struct at_rest_row *a = out;
	const unsigned char *id = sqlite3_column_text(s, 0);
	const void *b = sqlite3_column_blob(s, 1);
	int n = sqlite3_column_bytes(s, 1);

	if (id == NULL || strlen((const char *)id) != LL_KEY_ID_LEN ||
	    b == NULL || n <= 0)
		return LL_ERR_MALFORMED;
	if ((size_t)n > a->size)
		return LL_ERR_TOO_LARGE;
	memcpy(a->key_id, id, LL_KEY_ID_LEN + 1);
	memcpy(a->buf, b, (size_t)n);
	a->len = (size_t)n;
	return LL_OK;
}

int ll_store_at_rest_get(struct ll_store *st, char key_id[LL_KEY_ID_LEN + 1],
			 uint8_t *mac_sealed, size_t size, size_t *len_out)
{
	struct at_rest_row a = { key_id, mac_sealed, size, 0 };
	int r;

	if (st == NULL || key_id == NULL || mac_sealed == NULL ||
	    len_out == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_get(st, STMT_AT_REST_GET, NO_ARGS, at_rest_row, &a);
	if (r == LL_OK)
		*len_out = a.len;
	return r;
}

int ll_store_at_rest_set(struct ll_store *st, const char *key_id,
			 const uint8_t *mac_sealed, size_t len, int64_t now)
{
	if (st == NULL || key_id == NULL || strlen(key_id) != LL_KEY_ID_LEN ||
	    mac_sealed == NULL || len == 0)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec(st, STMT_AT_REST_SET,
			     STORE_ARGS(ARG_TEXT(key_id),
					ARG_BLOB(mac_sealed, len),
					ARG_I64(now)));
}
