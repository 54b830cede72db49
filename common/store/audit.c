/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audit table: append-only, SHA-256 hash-chained.
 *
 *   hash(n) = SHA-256(hash(n-1) || canonical(record n)),  hash(0) = 0^32
 *
 * canonical() is "LLA1", then seq, ts and org_id as 8-byte big-endian,
 * then actor, action, outcome, source_ip, session_id and detail, each as
 * one presence byte (0 = NULL, 1 = present) followed, when present, by a
 * 4-byte big-endian length and the bytes.  With every field
 * length-prefixed, no two different records encode alike (text cannot be
 * moved from one field into its neighbour), and seq in the hash ties each
 * record to its place.
 *
 * audit_head keeps the newest seq and hash, so cutting records off the
 * end shows as well as a gap or an edit in the middle.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "store_int.h"
#include "ll_crypto.h"
#include "ll_util.h"

#define AUDIT_TAG "LLA1"
#define AUDIT_MAX_FIELD (64u * 1024u)

struct audit_rec {
	int64_t seq;
	int64_t ts;
	int64_t org_id;
	/* text fields: NULL = absent; lengths need not be NUL-bounded */
	const char *text[6];
	size_t len[6];
};

enum { F_ACTOR, F_ACTION, F_OUTCOME, F_SOURCE_IP, F_SESSION_ID, F_DETAIL };

static void put_be64(uint8_t *b, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
}

static int audit_hash(const uint8_t prev[LL_HASH_LEN],
		      const struct audit_rec *rec, uint8_t out[LL_HASH_LEN])
{
	struct ll_sha256_ctx *ctx;
	uint8_t b[24];
	size_t i;
	int r;

	if ((ctx = ll_sha256_new()) == NULL)
		return LL_ERR_NOMEM;
	put_be64(b, (uint64_t)rec->seq);
	put_be64(b + 8, (uint64_t)rec->ts);
	put_be64(b + 16, (uint64_t)rec->org_id);
	if ((r = ll_sha256_update(ctx, prev, LL_HASH_LEN)) != LL_OK ||
	    (r = ll_sha256_update(ctx, AUDIT_TAG, 4)) != LL_OK ||
	    (r = ll_sha256_update(ctx, b, 24)) != LL_OK)
		goto out;
	for (i = 0; i < LL_ARRAY_SIZE(rec->text); i++) {
		uint8_t h[5] = { 0 };
		size_t hl = 1;

		if (rec->text[i] != NULL) {
			if (rec->len[i] > UINT32_MAX) {
				r = LL_ERR_TOO_LARGE;
				goto out;
			}
			h[0] = 1;
			h[1] = (uint8_t)(rec->len[i] >> 24);
			h[2] = (uint8_t)(rec->len[i] >> 16);
			h[3] = (uint8_t)(rec->len[i] >> 8);
			h[4] = (uint8_t)rec->len[i];
			hl = 5;
		}
		if ((r = ll_sha256_update(ctx, h, hl)) != LL_OK)
			goto out;
		if (rec->text[i] != NULL && rec->len[i] > 0 &&
		    (r = ll_sha256_update(ctx, rec->text[i], rec->len[i])) !=
			    0)
			goto out;
	}
	r = ll_sha256_final(ctx, out);
out:
	ll_sha256_free(ctx);
	return r;
}

static int set_text(struct audit_rec *rec, int i, const char *s)
{
	rec->text[i] = s;
	rec->len[i] = s ? strlen(s) : 0;
	return rec->len[i] > AUDIT_MAX_FIELD ? LL_ERR_TOO_LARGE : LL_OK;
}

static int bind_rec_text(struct ll_store *st, sqlite3_stmt *s, int col,
			 const struct audit_rec *rec, int i)
{
	int rc;

	if (rec->text[i] == NULL)
		rc = sqlite3_bind_null(s, col);
	else
		rc = sqlite3_bind_text(s, col, rec->text[i], (int)rec->len[i],
				       SQLITE_STATIC);
	return rc == SQLITE_OK ? LL_OK : ll_store_sqlite_err(st, rc);
}

/* Reads the newest record's seq and hash (0 and zeros when empty). */
static int audit_last(struct ll_store *st, int64_t *seq,
		      uint8_t hash[LL_HASH_LEN])
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	if ((r = ll_store_stmt(st, STMT_AUDIT_LAST, &s)) != LL_OK)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		*seq = 0;
		memset(hash, 0, LL_HASH_LEN);
	} else if (rc == SQLITE_ROW) {
		int len = sqlite3_column_bytes(s, 1);
		const void *blob = sqlite3_column_blob(s, 1);

		/* A hash of the wrong size was written by hand.  Chain on
		 * anyway (the relay must keep working, and verify names
		 * that record whatever we link to). */
		memset(hash, 0, LL_HASH_LEN);
		if (blob != NULL && len > 0)
			memcpy(hash, blob,
			       len < LL_HASH_LEN ? (size_t)len : LL_HASH_LEN);
		*seq = sqlite3_column_int64(s, 0);
	} else {
		r = ll_store_sqlite_err(st, rc);
	}
out:
	ll_store_stmt_done(s);
	return r;
}

int ll_store_audit_append(struct ll_store *st, const struct ll_audit_event *ev,
			  int64_t now)
{
	struct audit_rec rec = { 0 };
	uint8_t prev[LL_HASH_LEN], hash[LL_HASH_LEN];
	sqlite3_stmt *s = NULL;
	json_t *detail;
	int r, i;

	if (st == NULL || ev == NULL || ev->actor == NULL ||
	    ev->action == NULL || ev->outcome == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = set_text(&rec, F_ACTOR, ev->actor)) != LL_OK ||
	    (r = set_text(&rec, F_ACTION, ev->action)) != LL_OK ||
	    (r = set_text(&rec, F_OUTCOME, ev->outcome)) != LL_OK ||
	    (r = set_text(&rec, F_SOURCE_IP, ev->source_ip)) != LL_OK ||
	    (r = set_text(&rec, F_SESSION_ID, ev->session_id)) != LL_OK ||
	    (r = set_text(&rec, F_DETAIL, ev->detail_json)) != LL_OK)
		return r;
	/* detail must be a JSON object: exports embed it as one. */
	if (ev->detail_json != NULL) {
		detail = json_loads(ev->detail_json, JSON_REJECT_DUPLICATES,
				    NULL);
		i = json_is_object(detail);
		json_decref(detail);
		if (!i)
			return LL_ERR_INVALID_ARG;
	}
	rec.ts = now;
	rec.org_id = ev->org_id;

	if ((r = ll_store_begin(st)) != LL_OK)
		return r;
	if ((r = audit_last(st, &rec.seq, prev)) != LL_OK)
		goto out;
	rec.seq++;
	if ((r = audit_hash(prev, &rec, hash)) != LL_OK)
		goto out;
	if ((r = ll_store_stmt(st, STMT_AUDIT_INSERT, &s)) != LL_OK)
		goto out;
	if (sqlite3_bind_int64(s, 1, rec.seq) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, rec.ts) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, rec.org_id) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 10, prev, LL_HASH_LEN, SQLITE_STATIC) != 0 ||
	    sqlite3_bind_blob(s, 11, hash, LL_HASH_LEN, SQLITE_STATIC) != 0) {
		r = ll_store_sqlite_err(st, sqlite3_errcode(st->db));
		goto out;
	}
	for (i = 0; i < 6; i++) {
		if ((r = bind_rec_text(st, s, 4 + i, &rec, i)) != LL_OK)
			goto out;
	}
	if ((r = ll_store_step_done(st, s)) != LL_OK)
		goto out;
	ll_store_stmt_done(s);
	if ((r = ll_store_stmt(st, STMT_AUDIT_HEAD_SET, &s)) != LL_OK)
		goto out;
	if (sqlite3_bind_int64(s, 1, rec.seq) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 2, hash, LL_HASH_LEN, SQLITE_STATIC) != 0) {
		r = ll_store_sqlite_err(st, sqlite3_errcode(st->db));
		goto out;
	}
	r = ll_store_step_done(st, s);
out:
	ll_store_stmt_done(s);
	/* The outer commit (this one when not nested) is fsync'd. */
	return ll_store_tx_end(st, r);
}

/* Fills rec from a row of STMT_AUDIT_ALL / STMT_AUDIT_SINCE. */
static void rec_from_row(sqlite3_stmt *s, struct audit_rec *rec)
{
	int i;

	rec->seq = sqlite3_column_int64(s, 0);
	rec->ts = sqlite3_column_int64(s, 1);
	rec->org_id = sqlite3_column_int64(s, 2);
	for (i = 0; i < 6; i++) {
		if (sqlite3_column_type(s, 3 + i) == SQLITE_NULL) {
			rec->text[i] = NULL;
			rec->len[i] = 0;
		} else {
			/* text before bytes: the length is of that form */
			rec->text[i] = (const char *)
				sqlite3_column_text(s, 3 + i);
			rec->len[i] = (size_t)sqlite3_column_bytes(s, 3 + i);
			if (rec->text[i] == NULL)
				rec->text[i] = "";
		}
	}
}

static bool blob_is(sqlite3_stmt *s, int col, const uint8_t want[LL_HASH_LEN])
{
	const void *b = sqlite3_column_blob(s, col);

	return sqlite3_column_bytes(s, col) == LL_HASH_LEN && b != NULL &&
	       ll_ct_equal(b, want, LL_HASH_LEN);
}

/* Reads audit_head: (0, zeros) when the row is missing. */
static int audit_head(struct ll_store *st, int64_t *seq,
		      uint8_t hash[LL_HASH_LEN])
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	*seq = 0;
	memset(hash, 0, LL_HASH_LEN);
	if ((r = ll_store_stmt(st, STMT_AUDIT_HEAD_GET, &s)) != LL_OK)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(s, 0);
		if (sqlite3_column_bytes(s, 1) == LL_HASH_LEN)
			memcpy(hash, sqlite3_column_blob(s, 1), LL_HASH_LEN);
	} else if (rc != SQLITE_DONE) {
		r = ll_store_sqlite_err(st, rc);
	}
out:
	ll_store_stmt_done(s);
	return r;
}

/* Walks the chain; *bad = seq of the first record that fails, or 0. */
static int audit_walk(struct ll_store *st, int64_t *n_out, int64_t *bad)
{
	uint8_t prev[LL_HASH_LEN] = { 0 }, calc[LL_HASH_LEN];
	uint8_t head_hash[LL_HASH_LEN];
	struct audit_rec rec;
	sqlite3_stmt *s = NULL;
	int64_t n = 0, head_seq;
	int r, rc;

	*bad = 0;
	if ((r = audit_head(st, &head_seq, head_hash)) != LL_OK ||
	    (r = ll_store_stmt(st, STMT_AUDIT_ALL, &s)) != LL_OK)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		rec_from_row(s, &rec);
		/* A gap in seq means a record was deleted: the one after
		 * the gap is the first that does not link. */
		if (rec.seq != n + 1 || !blob_is(s, 9, prev)) {
			*bad = rec.seq;
			goto out;
		}
		if ((r = audit_hash(prev, &rec, calc)) != LL_OK)
			goto out;
		if (!blob_is(s, 10, calc)) {
			*bad = rec.seq;
			goto out;
		}
		memcpy(prev, calc, LL_HASH_LEN);
		n++;
	}
	if (rc != SQLITE_DONE) {
		r = ll_store_sqlite_err(st, rc);
		goto out;
	}
	/* The chain links; does it end where the head says? */
	if (head_seq < n)
		*bad = head_seq + 1; /* records nobody vouches for */
	else if (head_seq > n)
		*bad = n + 1; /* records cut off the end */
	else if (!ll_ct_equal(head_hash, prev, LL_HASH_LEN))
		*bad = n > 0 ? n : 1;
	*n_out = n;
out:
	ll_store_stmt_done(s);
	return r;
}

int ll_store_audit_verify(struct ll_store *st, int64_t *n_records,
			  int64_t *first_bad_seq)
{
	int64_t n = 0, bad = 0;
	bool own_tx;
	int r;

	if (st == NULL)
		return LL_ERR_INVALID_ARG;
	/* One read transaction, so the head and the records are one
	 * snapshot whatever the relay appends meanwhile.  Deferred: it
	 * must not hold the write lock for a long walk. */
	own_tx = st->tx_depth == 0;
	if (own_tx && (r = ll_store_run(st, STMT_BEGIN_READ)) != LL_OK)
		return r;
	r = audit_walk(st, &n, &bad);
	if (own_tx)
		(void)ll_store_run(st, STMT_ROLLBACK);
	if (r != LL_OK)
		return r;
	if (bad != 0) {
		if (first_bad_seq != NULL)
			*first_bad_seq = bad;
		return LL_ERR_AUTH_FAILED;
	}
	if (n_records != NULL)
		*n_records = n;
	return LL_OK;
}

/* ---- export ---- */

/* RFC 4180: quote when needed, double the quotes. */
static int csv_field(FILE *out, const char *v, size_t len)
{
	bool quote = false, formula;
	size_t i;

	if (v == NULL)
		return 0;
	for (i = 0; i < len; i++) {
		if (v[i] == '"' || v[i] == ',' || v[i] == '\r' || v[i] == '\n')
			quote = true;
	}
	/* A leading = + - @ makes spreadsheets run the cell as a formula
	 * (CSV injection): those fields get a leading apostrophe, as OWASP
	 * recommends.  Our own fields never start so. */
	formula = len > 0 && strchr("=+-@\t\r", v[0]) != NULL;
	if ((quote || formula) && fputc('"', out) == EOF)
		return -1;
	if (formula && fputc('\'', out) == EOF)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] == '"' && fputc('"', out) == EOF)
			return -1;
		if (fputc(v[i], out) == EOF)
			return -1;
	}
	if ((quote || formula) && fputc('"', out) == EOF)
		return -1;
	return 0;
}

/* The row's prev_hash and hash as hex, both to be freed whatever this
 * returns. */
static int row_hashes_hex(sqlite3_stmt *s, char **prev, char **hash)
{
	*prev = ll_hex_new(sqlite3_column_blob(s, 9),
			   (size_t)sqlite3_column_bytes(s, 9));
	*hash = ll_hex_new(sqlite3_column_blob(s, 10),
			   (size_t)sqlite3_column_bytes(s, 10));
	return *prev != NULL && *hash != NULL ? LL_OK : LL_ERR_NOMEM;
}

static int export_csv_row(FILE *out, sqlite3_stmt *s,
			  const struct audit_rec *rec)
{
	char ts[32];
	char *prev = NULL, *hash = NULL;
	int i, r;

	ll_format_rfc3339(rec->ts, ts, sizeof(ts));
	if ((r = row_hashes_hex(s, &prev, &hash)) != LL_OK)
		goto out;
	r = LL_ERR_IO;
	if (fprintf(out, "%lld,%s,%lld", (long long)rec->seq, ts,
		    (long long)rec->org_id) < 0)
		goto out;
	for (i = 0; i < 6; i++) {
		if (fputc(',', out) == EOF ||
		    csv_field(out, rec->text[i], rec->len[i]) != 0)
			goto out;
	}
	if (fprintf(out, ",%s,%s\r\n", prev, hash) < 0)
		goto out;
	r = LL_OK;
out:
	free(prev);
	free(hash);
	return r;
}

static int export_json_row(FILE *out, sqlite3_stmt *s,
			   const struct audit_rec *rec)
{
	static const char *const names[6] = { "actor",      "action",
					      "outcome",    "source_ip",
					      "session_id", "detail" };
	char ts[32];
	char *prev = NULL, *hash = NULL, *line = NULL;
	json_t *o = NULL, *v;
	int i, r = LL_ERR_NOMEM;

	ll_format_rfc3339(rec->ts, ts, sizeof(ts));
	if (row_hashes_hex(s, &prev, &hash) != LL_OK ||
	    (o = json_object()) == NULL)
		goto out;
	if (json_object_set_new(o, "seq", json_integer(rec->seq)) != 0 ||
	    json_object_set_new(o, "time", json_string(ts)) != 0 ||
	    json_object_set_new(o, "org_id", json_integer(rec->org_id)) != 0)
		goto out;
	for (i = 0; i < 6; i++) {
		v = NULL;
		if (rec->text[i] == NULL)
			v = json_null();
		else if (i == F_DETAIL) /* an object, as append checked */
			v = json_loadb(rec->text[i], rec->len[i], 0, NULL);
		/* else, or a tampered detail: as text */
		if (v == NULL)
			v = json_stringn(rec->text[i], rec->len[i]);
		if (v == NULL) /* not UTF-8: only by tampering */
			v = json_string("(invalid UTF-8)");
		if (json_object_set_new(o, names[i], v) != 0)
			goto out;
	}
	if (json_object_set_new(o, "prev_hash", json_string(prev)) != 0 ||
	    json_object_set_new(o, "hash", json_string(hash)) != 0)
		goto out;
	if ((line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		goto out;
	r = fprintf(out, "%s\n", line) < 0 ? LL_ERR_IO : LL_OK;
out:
	free(line);
	json_decref(o);
	free(prev);
	free(hash);
	return r;
}

int ll_store_audit_export(struct ll_store *st, FILE *out, const char *format,
			  int64_t since)
{
	struct audit_rec rec;
	sqlite3_stmt *s = NULL;
	bool csv;
	int r, rc;

	if (st == NULL || out == NULL || format == NULL)
		return LL_ERR_INVALID_ARG;
	if (strcmp(format, "csv") == 0)
		csv = true;
	else if (strcmp(format, "jsonl") == 0)
		csv = false;
	else
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_AUDIT_SINCE, &s)) != LL_OK)
		goto out;
	if ((rc = sqlite3_bind_int64(s, 1, since)) != SQLITE_OK) {
		r = ll_store_sqlite_err(st, rc);
		goto out;
	}
	if (csv && fputs("seq,time,org_id,actor,action,outcome,source_ip,"
			 "session_id,detail,prev_hash,hash\r\n",
			 out) == EOF) {
		r = LL_ERR_IO;
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		rec_from_row(s, &rec);
		r = csv ? export_csv_row(out, s, &rec)
			: export_json_row(out, s, &rec);
		if (r != LL_OK)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		r = ll_store_sqlite_err(st, rc);
		goto out;
	}
	r = fflush(out) == 0 && !ferror(out) ? LL_OK : LL_ERR_IO;
out:
	ll_store_stmt_done(s);
	return r;
}
