/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kept chat lines (ll_store_chat.h).  Rare writes, rarer reads: each
 * call prepares its statement itself rather than taking a slot of the
 * cache in store.c.
 */
#include "store_int.h"
#include "ll_store_chat.h"

static int prepare(struct ll_store *st, const char *sql, sqlite3_stmt **s)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);

	return rc == SQLITE_OK ? LL_OK : ll_store_sqlite_err(st, rc);
}

int ll_store_chat_insert(struct ll_store *st, const char *session_id,
			 const char *said_by, int64_t said_at_ms, int64_t *row)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || session_id == NULL || said_by == NULL || row == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = prepare(st,
			 "INSERT INTO chat_lines (session_id, said_by, "
			 "said_at, text) VALUES (?1, ?2, ?3, X'')",
			 &s)) != LL_OK)
		return r;
	if ((r = bind_text(st, s, 1, session_id)) == LL_OK &&
	    (r = bind_text(st, s, 2, said_by)) == LL_OK &&
	    (r = bind_i64(st, s, 3, said_at_ms)) == LL_OK &&
	    (r = ll_store_step_done(st, s)) == LL_OK)
		*row = sqlite3_last_insert_rowid(st->db);
	sqlite3_finalize(s);
	return r;
}

int ll_store_chat_set_sealed(struct ll_store *st, int64_t row,
			     const uint8_t *sealed, size_t len)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || sealed == NULL || len == 0 ||
	    len > LL_STORE_CHAT_SEALED_MAX)
		return LL_ERR_INVALID_ARG;
	if ((r = prepare(st, "UPDATE chat_lines SET text = ?2 WHERE id = ?1",
			 &s)) != LL_OK)
		return r;
	if ((r = bind_i64(st, s, 1, row)) == LL_OK &&
	    (r = bind_blob(st, s, 2, sealed, (int)len)) == LL_OK)
		r = ll_store_step_done(st, s);
	if (r == LL_OK && sqlite3_changes(st->db) != 1)
		r = LL_ERR_NOT_FOUND;
	sqlite3_finalize(s);
	return r;
}

int ll_store_chat_count(struct ll_store *st, const char *session_id,
			int64_t *n)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || session_id == NULL || n == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = prepare(st,
			 "SELECT count(*) FROM chat_lines WHERE session_id "
			 "= ?1",
			 &s)) != LL_OK)
		return r;
	if ((r = bind_text(st, s, 1, session_id)) == LL_OK)
		r = one_i64(st, s, n);
	sqlite3_finalize(s);
	return r;
}

/* The current row into *row. */
static int take_row(sqlite3_stmt *s, struct ll_chat_row *row)
{
	const unsigned char *t;
	const void *b = sqlite3_column_blob(s, 4);
	int n = sqlite3_column_bytes(s, 4);

	row->id = sqlite3_column_int64(s, 0);
	t = sqlite3_column_text(s, 1);
	snprintf(row->session_id, sizeof(row->session_id), "%s",
		 t != NULL ? (const char *)t : "");
	t = sqlite3_column_text(s, 2);
	snprintf(row->said_by, sizeof(row->said_by), "%s",
		 t != NULL ? (const char *)t : "");
	row->said_at_ms = sqlite3_column_int64(s, 3);
	if (n < 0 || (size_t)n > LL_STORE_CHAT_SEALED_MAX)
		return LL_ERR_TOO_LARGE;
	row->sealed_len = (size_t)n;
	if (n > 0) {
		if ((row->sealed = malloc((size_t)n)) == NULL)
			return LL_ERR_NOMEM;
		memcpy(row->sealed, b, (size_t)n);
	}
	return LL_OK;
}

int ll_store_chat_list(struct ll_store *st, const char *session_id,
		       struct ll_chat_row **rows, size_t *n)
{
	struct ll_chat_row *out = NULL, *grown;
	size_t len = 0, cap = 0;
	sqlite3_stmt *s = NULL;
	int r, rc;

	if (st == NULL || rows == NULL || n == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = prepare(st,
			 "SELECT id, session_id, said_by, said_at, text FROM "
			 "chat_lines WHERE ?1 IS NULL OR session_id = ?1 "
			 "ORDER BY id",
			 &s)) != LL_OK)
		return r;
	if ((r = bind_text(st, s, 1, session_id)) != LL_OK)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap != 0 ? 2 * cap : 16;
			grown = realloc(out, cap * sizeof(*out));
			if (grown == NULL) {
				r = LL_ERR_NOMEM;
				goto out;
			}
			out = grown;
		}
		memset(&out[len], 0, sizeof(out[len]));
		len++;
		if ((r = take_row(s, &out[len - 1])) != LL_OK)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = ll_store_sqlite_err(st, rc);
out:
	sqlite3_finalize(s);
	if (r != LL_OK) {
		ll_chat_rows_free(out, len);
		return r;
	}
	*rows = out;
	*n = len;
	return LL_OK;
}

void ll_chat_rows_free(struct ll_chat_row *rows, size_t n)
{
	size_t i;

	if (rows == NULL)
		return;
	for (i = 0; i < n; i++)
		free(rows[i].sealed);
	free(rows);
}
