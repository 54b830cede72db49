/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audit table: append-only, chained record to record.
 *
 * Two rules, one per epoch of a chain:
 *
 *   unkeyed (records before the keyed epoch, written by Lifeline before
 *   the audit key existed):
 *     hash(n) = SHA-256(hash(n-1) || "LLA1" || canonical(record n))
 *   keyed (from the "audit.keyed" record on, which starts the epoch):
 *     hash(n) = HMAC-SHA256(audit key, hash(n-1) || "LLA2" ||
 *                           canonical(record n))
 *   hash(0) = 0^32.
 *
 * canonical() is seq, ts and org_id as 8-byte big-endian, then actor,
 * action, outcome, source_ip, session_id and detail, each as one presence
 * byte (0 = NULL, 1 = present) followed, when present, by a 4-byte
 * big-endian length and the bytes.  With every field length-prefixed, no
 * two different records encode alike (text cannot be moved from one field
 * into its neighbour), and seq in the MAC ties each record to its place.
 *
 * The key lives outside the database (STATE/audit.key): someone who can
 * write the database but does not hold the key can no longer recompute
 * the chain after an edit.  The first keyed record (action "audit.keyed",
 * detail {"key_id": ...}) marks where the keyed epoch starts; a new store
 * starts keyed at record 1.  What anchors the head against truncation is
 * the signed checkpoint outside the database (docs/SECURITY.md); within
 * the database audit_head and the triggers of migrate.c guard against
 * accidents and naive tools.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "store_int.h"
#include "ll_crypto.h"
#include "ll_util.h"

#define AUDIT_TAG "LLA1"       /* unkeyed epoch */
#define AUDIT_TAG_KEYED "LLA2" /* keyed epoch */
#define AUDIT_MARKER "audit.keyed"
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

/* canonical(rec) as described at the top, into a malloc'd buffer after
 * LL_HASH_LEN bytes of room for the previous hash and the 4-byte tag. */
static int audit_encode(const uint8_t prev[LL_HASH_LEN], const char *tag,
			const struct audit_rec *rec, uint8_t **out,
			size_t *out_len)
{
	size_t i, n = LL_HASH_LEN + 4 + 24, o = 0;
	uint8_t *b;

	for (i = 0; i < LL_ARRAY_SIZE(rec->text); i++) {
		if (rec->text[i] == NULL)
			n += 1;
		else if (rec->len[i] > AUDIT_MAX_FIELD * 16)
			return LL_ERR_TOO_LARGE; /* only by tampering */
		else
			n += 5 + rec->len[i];
	}
	if ((b = malloc(n)) == NULL)
		return LL_ERR_NOMEM;
	memcpy(b, prev, LL_HASH_LEN);
	memcpy(b + LL_HASH_LEN, tag, 4);
	o = LL_HASH_LEN + 4;
	put_be64(b + o, (uint64_t)rec->seq);
	put_be64(b + o + 8, (uint64_t)rec->ts);
	put_be64(b + o + 16, (uint64_t)rec->org_id);
	o += 24;
	for (i = 0; i < LL_ARRAY_SIZE(rec->text); i++) {
		if (rec->text[i] == NULL) {
			b[o++] = 0;
			continue;
		}
		b[o++] = 1;
		b[o++] = (uint8_t)(rec->len[i] >> 24);
		b[o++] = (uint8_t)(rec->len[i] >> 16);
		b[o++] = (uint8_t)(rec->len[i] >> 8);
		b[o++] = (uint8_t)rec->len[i];
		if (rec->len[i] > 0)
			memcpy(b + o, rec->text[i], rec->len[i]);
		o += rec->len[i];
	}
	*out = b;
	*out_len = o;
	return LL_OK;
}

/* The record's hash under its epoch's rule: key NULL = unkeyed. */
static int audit_hash(const uint8_t prev[LL_HASH_LEN],
		      const struct audit_rec *rec, const uint8_t *key,
		      uint8_t out[LL_HASH_LEN])
{
	uint8_t *b = NULL;
	size_t n = 0;
	int r;

	if ((r = audit_encode(prev, key ? AUDIT_TAG_KEYED : AUDIT_TAG, rec, &b,
			      &n)) != LL_OK)
		return r;
	r = key ? ll_hmac_sha256(key, LL_AUDIT_KEY_LEN, b, n, out)
		: ll_sha256(b, n, out);
	free(b);
	return r;
}

int ll_audit_key_id(const uint8_t key[LL_AUDIT_KEY_LEN],
		    char out[LL_AUDIT_KEY_ID_LEN + 1])
{
	static const char label[] = "lifeline audit key id";
	uint8_t mac[LL_HASH_LEN];
	char *hex;
	int r;

	/* A one-way name for the key: says which key, tells nothing of
	 * it. */
	if ((r = ll_hmac_sha256(key, LL_AUDIT_KEY_LEN, label,
				sizeof(label) - 1, mac)) != LL_OK)
		return r;
	if ((hex = ll_hex_new(mac, LL_AUDIT_KEY_ID_LEN / 2)) == NULL)
		return LL_ERR_NOMEM;
	memcpy(out, hex, LL_AUDIT_KEY_ID_LEN + 1);
	free(hex);
	return LL_OK;
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
		 * to zeros anyway (the relay must keep working, verify
		 * names that record whatever we link to, and the trigger
		 * audit_extend_only expects the same). */
		memset(hash, 0, LL_HASH_LEN);
		if (blob != NULL && len == LL_HASH_LEN)
			memcpy(hash, blob, LL_HASH_LEN);
		*seq = sqlite3_column_int64(s, 0);
	} else {
		r = ll_store_sqlite_err(st, rc);
	}
out:
	ll_store_stmt_done(s);
	return r;
}

/* Where the keyed epoch starts (its "audit.keyed" record), 0 when the
 * chain has none. */
static int audit_keyed_from(struct ll_store *st, int64_t *seq)
{
	int r;

	*seq = 0;
	r = ll_store_get(st, STMT_AUDIT_KEYED_FROM, NO_ARGS, ll_store_row_i64,
			 seq);
	return r == LL_ERR_NOT_FOUND ? LL_OK : r;
}

int ll_store_audit_set_key(struct ll_store *st,
			   const uint8_t key[LL_AUDIT_KEY_LEN])
{
	if (st == NULL)
		return LL_ERR_INVALID_ARG;
	ll_wipe(st->audit_key, sizeof(st->audit_key));
	st->has_audit_key = key != NULL;
	if (key != NULL)
		memcpy(st->audit_key, key, LL_AUDIT_KEY_LEN);
	return LL_OK;
}

int ll_store_audit_keyed_from(struct ll_store *st, int64_t *seq_out)
{
	int64_t seq = 0;
	int r;

	if (st == NULL || seq_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = audit_keyed_from(st, &seq)) == LL_OK)
		*seq_out = seq;
	return r;
}

/* Appends rec (seq and ts set here) to the chain, keyed or not as the
 * chain and is_marker say; inside the caller's transaction level. */
static int audit_insert(struct ll_store *st, struct audit_rec *rec,
			bool is_marker)
{
	uint8_t prev[LL_HASH_LEN], hash[LL_HASH_LEN];
	sqlite3_stmt *s = NULL;
	int64_t keyed_from;
	int r, i;

	if ((r = audit_last(st, &rec->seq, prev)) != LL_OK ||
	    (r = audit_keyed_from(st, &keyed_from)) != LL_OK)
		goto out;
	rec->seq++;
	if (is_marker && keyed_from != 0) {
		r = LL_ERR_CONFLICT; /* one keyed epoch per chain */
		goto out;
	}
	/* A keyed chain is only extended with the key; a store that holds
	 * the key extends only a keyed chain (the epoch starts with
	 * ll_store_audit_start_keyed, never by itself, so that a chain
	 * rewritten without its marker is not quietly keyed again). */
	if ((keyed_from != 0 || is_marker) && !st->has_audit_key) {
		snprintf(st->errmsg, sizeof(st->errmsg),
			 "the audit chain is keyed: appending needs the "
			 "audit key");
		r = LL_ERR_CONFIG;
		goto out;
	}
	if (keyed_from == 0 && !is_marker && st->has_audit_key) {
		snprintf(st->errmsg, sizeof(st->errmsg),
			 "the audit chain has no keyed epoch yet");
		r = LL_ERR_CONFLICT;
		goto out;
	}
	if ((r = audit_hash(prev, rec,
			    st->has_audit_key ? st->audit_key : NULL, hash)) !=
	    LL_OK)
		goto out;
	if ((r = ll_store_stmt(st, STMT_AUDIT_INSERT, &s)) != LL_OK)
		goto out;
	if (sqlite3_bind_int64(s, 1, rec->seq) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, rec->ts) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, rec->org_id) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 10, prev, LL_HASH_LEN, SQLITE_STATIC) != 0 ||
	    sqlite3_bind_blob(s, 11, hash, LL_HASH_LEN, SQLITE_STATIC) != 0) {
		r = ll_store_sqlite_err(st, sqlite3_errcode(st->db));
		goto out;
	}
	for (i = 0; i < 6; i++) {
		if ((r = bind_rec_text(st, s, 4 + i, rec, i)) != LL_OK)
			goto out;
	}
	if ((r = ll_store_step_done(st, s)) != LL_OK)
		goto out;
	ll_store_stmt_done(s);
	r = ll_store_exec(st, STMT_AUDIT_HEAD_SET,
			  STORE_ARGS(ARG_I64(rec->seq), ARG_HASH(hash)));
out:
	ll_store_stmt_done(s);
	return r;
}

int ll_store_audit_append(struct ll_store *st, const struct ll_audit_event *ev,
			  int64_t now)
{
	struct audit_rec rec = { 0 };
	json_t *detail;
	int r, i;

	if (st == NULL || ev == NULL || ev->actor == NULL ||
	    ev->action == NULL || ev->outcome == NULL)
		return LL_ERR_INVALID_ARG;
	/* The marker starts an epoch: only ll_store_audit_start_keyed. */
	if (strcmp(ev->action, AUDIT_MARKER) == 0)
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
	r = audit_insert(st, &rec, false);
	/* The outer commit (this one when not nested) is fsync'd. */
	return ll_store_tx_end(st, r);
}

int ll_store_audit_start_keyed(struct ll_store *st, const char *actor,
			       int64_t now)
{
	struct audit_rec rec = { 0 };
	char key_id[LL_AUDIT_KEY_ID_LEN + 1], detail[64];
	int r;

	if (st == NULL || actor == NULL || !st->has_audit_key)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_audit_key_id(st->audit_key, key_id)) != LL_OK)
		return r;
	snprintf(detail, sizeof(detail), "{\"key_id\":\"%s\"}", key_id);
	set_text(&rec, F_ACTOR, actor);
	set_text(&rec, F_ACTION, AUDIT_MARKER);
	set_text(&rec, F_OUTCOME, "ok");
	set_text(&rec, F_DETAIL, detail);
	rec.ts = now;
	if ((r = ll_store_begin(st)) != LL_OK)
		return r;
	r = audit_insert(st, &rec, true);
	return ll_store_tx_end(st, r);
}

int ll_store_audit_head(struct ll_store *st, int64_t *seq_out,
			uint8_t mac_out[LL_HASH_LEN])
{
	uint8_t mac[LL_HASH_LEN];
	int64_t seq = 0;
	int r;

	if (st == NULL || seq_out == NULL || mac_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = audit_last(st, &seq, mac)) != LL_OK)
		return r;
	*seq_out = seq;
	memcpy(mac_out, mac, LL_HASH_LEN);
	return LL_OK;
}

static int mac_row(sqlite3_stmt *s, void *out)
{
	const void *b = sqlite3_column_blob(s, 0);

	if (sqlite3_column_bytes(s, 0) != LL_HASH_LEN || b == NULL)
		return LL_ERR_MALFORMED;
	memcpy(out, b, LL_HASH_LEN);
	return LL_OK;
}

int ll_store_audit_mac_at(struct ll_store *st, int64_t seq,
			  uint8_t mac_out[LL_HASH_LEN])
{
	if (st == NULL || mac_out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_AUDIT_MAC_AT, STORE_ARGS(ARG_I64(seq)),
			    mac_row, mac_out);
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

/* The key id an "audit.keyed" record names, "" when it names none. */
static void marker_key_id(const struct audit_rec *rec,
			  char out[LL_AUDIT_KEY_ID_LEN + 1])
{
	json_t *d = NULL;
	const char *id;

	out[0] = '\0';
	if (rec->text[F_DETAIL] != NULL)
		d = json_loadb(rec->text[F_DETAIL], rec->len[F_DETAIL], 0,
			       NULL);
	id = json_string_value(json_object_get(d, "key_id"));
	if (id != NULL && strlen(id) == LL_AUDIT_KEY_ID_LEN)
		memcpy(out, id, LL_AUDIT_KEY_ID_LEN + 1);
	json_decref(d);
}

static bool rec_is_marker(const struct audit_rec *rec)
{
	return rec->text[F_ACTION] != NULL &&
	       rec->len[F_ACTION] == strlen(AUDIT_MARKER) &&
	       memcmp(rec->text[F_ACTION], AUDIT_MARKER,
		      strlen(AUDIT_MARKER)) == 0;
}

static void walk_fault(struct ll_audit_verify *v, enum ll_audit_fault f,
		       int64_t seq)
{
	if (v->fault == LL_AUDIT_INTACT) {
		v->fault = f;
		v->bad_seq = seq;
	}
}

/* Checks one row against the chain so far; false when it breaks it (the
 * fault is in v).  prev becomes this row's hash. */
static int walk_row(struct ll_store *st, sqlite3_stmt *s,
		    struct ll_audit_verify *v, uint8_t prev[LL_HASH_LEN],
		    bool *ok)
{
	uint8_t calc[LL_HASH_LEN];
	const uint8_t *key = NULL;
	struct audit_rec rec;
	const void *stored;
	int r;

	*ok = false;
	rec_from_row(s, &rec);
	/* A gap in seq means records were deleted: the one after the gap
	 * is the first that does not follow. */
	if (rec.seq != v->last_seq + 1) {
		walk_fault(v, LL_AUDIT_GAP, rec.seq);
		return LL_OK;
	}
	if (!blob_is(s, 9, prev)) {
		walk_fault(v, LL_AUDIT_LINK, rec.seq);
		return LL_OK;
	}
	if (v->keyed_from == 0 && rec_is_marker(&rec)) {
		v->keyed_from = rec.seq;
		marker_key_id(&rec, v->key_id);
		if (st->has_audit_key) {
			char mine[LL_AUDIT_KEY_ID_LEN + 1];

			if ((r = ll_audit_key_id(st->audit_key, mine)) != 0)
				return r;
			if (strcmp(mine, v->key_id) != 0) {
				walk_fault(v, LL_AUDIT_KEY_MISMATCH, rec.seq);
				return LL_OK;
			}
		}
	}
	if (v->keyed_from != 0) {
		if (!st->has_audit_key) {
			/* Without the key only the links can be followed. */
			stored = sqlite3_column_blob(s, 10);
			if (sqlite3_column_bytes(s, 10) != LL_HASH_LEN ||
			    stored == NULL) {
				walk_fault(v, LL_AUDIT_MAC, rec.seq);
				return LL_OK;
			}
			memcpy(prev, stored, LL_HASH_LEN);
			v->n_records++;
			v->last_seq = rec.seq;
			*ok = true;
			return LL_OK;
		}
		key = st->audit_key;
	}
	if ((r = audit_hash(prev, &rec, key, calc)) != LL_OK)
		return r;
	if (!blob_is(s, 10, calc)) {
		walk_fault(v, LL_AUDIT_MAC, rec.seq);
		return LL_OK;
	}
	memcpy(prev, calc, LL_HASH_LEN);
	v->n_records++;
	v->last_seq = rec.seq;
	*ok = true;
	return LL_OK;
}

/* Walks the chain into v (the first fault, or none). */
static int audit_walk(struct ll_store *st, struct ll_audit_verify *v)
{
	uint8_t prev[LL_HASH_LEN] = { 0 };
	uint8_t head_hash[LL_HASH_LEN];
	sqlite3_stmt *s = NULL;
	int64_t head_seq;
	bool ok = true;
	int r, rc;

	if ((r = audit_head(st, &head_seq, head_hash)) != LL_OK ||
	    (r = ll_store_stmt(st, STMT_AUDIT_ALL, &s)) != LL_OK)
		goto out;
	while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((r = walk_row(st, s, v, prev, &ok)) != LL_OK)
			goto out;
	}
	if (!ok)
		goto out;
	if (rc != SQLITE_DONE) {
		r = ll_store_sqlite_err(st, rc);
		goto out;
	}
	v->macs_checked = v->keyed_from == 0 || st->has_audit_key;
	/* Holding the key, a chain without a keyed epoch was rewritten
	 * without it (the relay keys every chain it writes to). */
	if (st->has_audit_key && v->keyed_from == 0 && v->n_records > 0) {
		walk_fault(v, LL_AUDIT_NOT_KEYED, 1);
		goto out;
	}
	/* The chain links; does it end where the head says? */
	if (head_seq < v->n_records)
		walk_fault(v, LL_AUDIT_HEAD, head_seq + 1);
	else if (head_seq > v->n_records)
		walk_fault(v, LL_AUDIT_HEAD, v->n_records + 1);
	else if (!ll_ct_equal(head_hash, prev, LL_HASH_LEN))
		walk_fault(v, LL_AUDIT_HEAD,
			   v->n_records > 0 ? v->n_records : 1);
out:
	ll_store_stmt_done(s);
	return r;
}

int ll_store_audit_verify_ex(struct ll_store *st, struct ll_audit_verify *out)
{
	struct ll_audit_verify v;
	bool own_tx;
	int r;

	if (st == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	memset(&v, 0, sizeof(v));
	/* One read transaction, so the head and the records are one
	 * snapshot whatever the relay appends meanwhile.  Deferred: it
	 * must not hold the write lock for a long walk. */
	own_tx = st->tx_depth == 0;
	if (own_tx && (r = ll_store_run(st, STMT_BEGIN_READ)) != LL_OK)
		return r;
	r = audit_walk(st, &v);
	if (own_tx)
		(void)ll_store_run(st, STMT_ROLLBACK);
	if (r == LL_OK)
		*out = v;
	return r;
}

int ll_store_audit_verify(struct ll_store *st, int64_t *n_records,
			  int64_t *first_bad_seq)
{
	struct ll_audit_verify v;
	int r;

	if ((r = ll_store_audit_verify_ex(st, &v)) != LL_OK)
		return r;
	if (v.fault != LL_AUDIT_INTACT) {
		if (first_bad_seq != NULL)
			*first_bad_seq = v.bad_seq;
		return LL_ERR_AUTH_FAILED;
	}
	if (n_records != NULL)
		*n_records = v.n_records;
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

/* The record's detail.file.sha256 is sha (a "file" event, #13). */
static bool rec_of_file(const struct audit_rec *rec, const char *sha)
{
	const char *v;
	json_t *d;
	bool yes;

	if (rec->text[F_DETAIL] == NULL)
		return false;
	d = json_loadb(rec->text[F_DETAIL], rec->len[F_DETAIL], 0, NULL);
	v = json_string_value(
		json_object_get(json_object_get(d, "file"), "sha256"));
	yes = v != NULL && strcmp(v, sha) == 0;
	json_decref(d);
	return yes;
}

int ll_store_audit_export(struct ll_store *st, FILE *out, const char *format,
			  int64_t since)
{
	return ll_store_audit_export_file(st, out, format, since, NULL);
}

int ll_store_audit_export_file(struct ll_store *st, FILE *out,
			       const char *format, int64_t since,
			       const char *file_sha256)
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
	if ((r = ll_store_prep(st, STMT_AUDIT_SINCE,
			       STORE_ARGS(ARG_I64(since)), &s)) != LL_OK)
		goto out;
	if (csv && fputs("seq,time,org_id,actor,action,outcome,source_ip,"
			 "session_id,detail,prev_hash,hash\r\n",
			 out) == EOF) {
		r = LL_ERR_IO;
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		rec_from_row(s, &rec);
		if (file_sha256 != NULL && !rec_of_file(&rec, file_sha256))
			continue;
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
