/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals shared by store.c, migrate.c and audit.c; not for callers. */
#ifndef LL_STORE_INT_H
#define LL_STORE_INT_H

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "ll_err.h"

#include "ll_store.h"

/* Every statement the store runs, prepared once and cached. */
enum ll_stmt {
	STMT_BEGIN,
	STMT_BEGIN_READ,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,

	STMT_ORG_CREATE,
	STMT_ORG_FIND,
	STMT_ORG_NAME,
	STMT_ORG_FIRST_TWO,
	STMT_ORG_DISPLAY_NAME,
	STMT_ORG_SET_DISPLAY_NAME,

	STMT_TECH_ADD,
	STMT_TECH_FIND,
	STMT_TECH_GET,
	STMT_TECH_SET_DISABLED,
	STMT_TECH_SET_PASSWORD,
	STMT_TECH_SET_ONE_TIME,
	STMT_TECH_CHANGE_PASSWORD,
	STMT_TECH_LIST,
	STMT_TECH_SET_DISPLAY_NAME,
	STMT_TECH_ADD_DIRECTORY,
	STMT_TECH_SET_DIRECTORY_DN,
	STMT_TECH_DIRECTORY_DISABLE,
	STMT_TECH_DIRECTORY_ENABLE,
	STMT_TECH_SET_GROUP,

	STMT_GROUP_ADD,
	STMT_GROUP_FIND,
	STMT_GROUP_SET_PERMISSIONS,
	STMT_GROUP_SET_END_USER_CIDRS,
	STMT_GROUP_REMOVE,
	STMT_GROUP_LIST,

	STMT_TOKEN_ADD,
	STMT_TOKEN_GET,
	STMT_TOKEN_TOUCH,
	STMT_TOKEN_DELETE,
	STMT_TOKEN_DELETE_TECH,
	STMT_TOKEN_DELETE_TECH_BUT,

	STMT_SESSION_KILL_EXPIRED_PIN,
	STMT_SESSION_INSERT,
	STMT_SESSION_BY_PIN,
	STMT_SESSION_REDEEM_CHECK,
	STMT_SESSION_REDEEM,
	STMT_SESSION_BY_TICKET,
	STMT_SESSION_CLAIM_AGENT,
	STMT_SESSION_CLAIM_APPLET,
	STMT_SESSION_GET,
	STMT_SESSION_STATE,
	STMT_SESSION_CONNECT,
	STMT_SESSION_END,
	STMT_SESSION_EXPIRE,
	STMT_SESSION_EXPIRE_UNCONNECTED,
	STMT_SESSION_END_ORPHANED,
	STMT_SESSION_LIST,
	STMT_SESSION_CONNECTED_ORG,
	STMT_SESSION_LIVE_DISABLED,
	STMT_SESSION_LIVE_NOT_PERMITTED,
	STMT_SESSION_LIVE_PINS_TECH,
	STMT_SESSION_LIVE_PINS_ORG,

	STMT_SESSION_INSERT_PICKED,

	STMT_CHANNEL_ADD,
	STMT_CHANNEL_FIND,
	STMT_CHANNEL_BY_HANDLE,
	STMT_CHANNEL_GET,
	STMT_CHANNEL_DELETE,
	STMT_CHANNEL_CANCEL_WAITING,
	STMT_CHANNEL_LIST,
	STMT_QUEUE_ADD,
	STMT_QUEUE_GET,
	STMT_QUEUE_BY_TICKET,
	STMT_QUEUE_COUNT,
	STMT_QUEUE_POSITION,
	STMT_QUEUE_LIST,
	STMT_QUEUE_TOUCH,
	STMT_QUEUE_PICKUP,
	STMT_QUEUE_CANCEL,
	STMT_QUEUE_EXPIRE,
	STMT_QUEUE_FORGET,

	STMT_POLICY_GET,
	STMT_POLICY_SET,
	STMT_POLICY_UNSET,
	STMT_POLICY_LIST,
	STMT_POLICY_OF_KEY,

	STMT_MFA_GET,
	STMT_MFA_SET_PENDING,
	STMT_MFA_CONFIRM,
	STMT_MFA_USE_STEP,
	STMT_MFA_FAIL,
	STMT_MFA_FAILURES,
	STMT_MFA_UNLOCK,
	STMT_MFA_DELETE,
	STMT_MFA_RECOVERY_DELETE,
	STMT_MFA_RECOVERY_ADD,
	STMT_MFA_RECOVERY_USE,
	STMT_MFA_RECOVERY_LEFT,
	STMT_MFA_CHALLENGE_ADD,
	STMT_MFA_CHALLENGE_GET,
	STMT_MFA_CHALLENGE_DELETE,
	STMT_MFA_CHALLENGE_EXPIRE,
	STMT_MFA_SEALED_LIST,
	STMT_MFA_RESEAL,

	STMT_AT_REST_GET,
	STMT_AT_REST_SET,

	STMT_AUDIT_LAST,
	STMT_AUDIT_INSERT,
	STMT_AUDIT_HEAD_SET,
	STMT_AUDIT_HEAD_GET,
	STMT_AUDIT_ALL,
	STMT_AUDIT_SINCE,
	STMT_AUDIT_KEYED_FROM,
	STMT_AUDIT_MAC_AT,

	STMT__COUNT
};

struct ll_store {
	sqlite3 *db;
	sqlite3_stmt *stmts[STMT__COUNT];
	int tx_depth;
	char errmsg[256];
	uint8_t audit_key[LL_AUDIT_KEY_LEN]; /* ll_store_audit_set_key */
	bool has_audit_key;
};

/* The prepared statement for id (prepared on first use). */
int ll_store_stmt(struct ll_store *st, enum ll_stmt id, sqlite3_stmt **out);
/* Resets a statement and clears its bindings; NULL ok. */
void ll_store_stmt_done(sqlite3_stmt *s);
/* Maps a SQLite result code to an ll_err and remembers the message. */
int ll_store_sqlite_err(struct ll_store *st, int rc);
/* Runs a cached statement without parameters that returns no rows. */
int ll_store_run(struct ll_store *st, enum ll_stmt id);
/* Steps a statement that returns no rows; LL_OK on SQLITE_DONE. */
int ll_store_step_done(struct ll_store *st, sqlite3_stmt *s);
/*
 * Ends a transaction level opened with ll_store_begin: commits when r is
 * LL_OK, rolls back (this level only) otherwise.  Returns r, or the
 * commit's error when r was LL_OK.
 */
int ll_store_tx_end(struct ll_store *st, int r);

/* Applies the pending migrations (migrate.c). */
int ll_store_migrate(struct ll_store *st);

/* Binding helpers: SQLITE_STATIC is safe because every statement is
 * stepped and its bindings cleared before the caller's data goes away. */
static inline int bind_text(struct ll_store *st, sqlite3_stmt *s, int i,
			    const char *v)
{
	int rc = v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC)
		   : sqlite3_bind_null(s, i);

	return rc == SQLITE_OK ? LL_OK : ll_store_sqlite_err(st, rc);
}

static inline int bind_blob(struct ll_store *st, sqlite3_stmt *s, int i,
			    const uint8_t *v, int len)
{
	int rc = sqlite3_bind_blob(s, i, v, len, SQLITE_STATIC);

	return rc == SQLITE_OK ? LL_OK : ll_store_sqlite_err(st, rc);
}

static inline int bind_i64(struct ll_store *st, sqlite3_stmt *s, int i,
			   int64_t v)
{
	int rc = sqlite3_bind_int64(s, i, v);

	return rc == SQLITE_OK ? LL_OK : ll_store_sqlite_err(st, rc);
}

/* Byte counters are unsigned; SQLite integers are signed 64-bit. */
static inline int64_t clamp_u64(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static inline char *dup_col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? strdup((const char *)t) : NULL;
}

/* Steps a bound statement expecting one row: LL_OK with that row current,
 * LL_ERR_NOT_FOUND when there is none. */
static inline int step_row(struct ll_store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_DONE)
		return LL_ERR_NOT_FOUND;
	if (rc != SQLITE_ROW)
		return ll_store_sqlite_err(st, rc);
	return LL_OK;
}

/* Steps a bound statement expecting one row whose first column is an
 * integer: LL_ERR_NOT_FOUND when there is none. */
static inline int one_i64(struct ll_store *st, sqlite3_stmt *s, int64_t *out)
{
	int r = step_row(st, s);

	if (r == LL_OK)
		*out = sqlite3_column_int64(s, 0);
	return r;
}

/*
 * A statement's parameters, bound in order to ?1, ?2, ...  Pass them to
 * the functions below as STORE_ARGS(ARG_I64(id), ARG_TEXT(name), ...),
 * or NO_ARGS; the values are bound SQLITE_STATIC, like bind_text().
 */
struct ll_store_arg {
	enum {
		LL_STORE_I64,
		LL_STORE_TEXT,
		LL_STORE_HASH,
		LL_STORE_HANDLE,
		LL_STORE_BLOB
	} type;
	int64_t i64;
	const char *text;      /* NULL binds NULL */
	const uint8_t *hash;   /* LL_HASH_LEN bytes */
	const uint8_t *handle; /* LL_CHANNEL_HANDLE_LEN bytes */
	const uint8_t *blob;   /* blob_len bytes; NULL binds NULL */
	size_t blob_len;
};

#define ARG_I64(v) ((struct ll_store_arg){ .type = LL_STORE_I64, .i64 = (v) })
#define ARG_TEXT(v)                                                           \
	((struct ll_store_arg){ .type = LL_STORE_TEXT, .text = (v) })
#define ARG_HASH(v)                                                           \
	((struct ll_store_arg){ .type = LL_STORE_HASH, .hash = (v) })
#define ARG_HANDLE(v)                                                         \
	((struct ll_store_arg){ .type = LL_STORE_HANDLE, .handle = (v) })
#define ARG_BLOB(v, n)                                                        \
	((struct ll_store_arg){                                               \
		.type = LL_STORE_BLOB, .blob = (v), .blob_len = (n) })
/* Expands to two arguments: the array and its length. */
#define STORE_ARGS(...)                                                       \
	(const struct ll_store_arg[]){ __VA_ARGS__ },                         \
		(sizeof((const struct ll_store_arg[]){ __VA_ARGS__ }) /       \
		 sizeof(struct ll_store_arg))
#define NO_ARGS NULL, 0

/*
 * The prepared statement for id with args bound.  On failure *out is
 * untouched and the statement reset; on success the caller ends it with
 * ll_store_stmt_done().
 */
int ll_store_prep(struct ll_store *st, enum ll_stmt id,
		  const struct ll_store_arg *args, size_t n_args,
		  sqlite3_stmt **out);
/* Runs statement id, which returns no rows, and ends it. */
int ll_store_exec(struct ll_store *st, enum ll_stmt id,
		  const struct ll_store_arg *args, size_t n_args);
/* ll_store_exec for an UPDATE or DELETE: LL_ERR_NOT_FOUND when it
 * changed no row. */
int ll_store_exec_changed(struct ll_store *st, enum ll_stmt id,
			  const struct ll_store_arg *args, size_t n_args);
/*
 * Runs statement id expecting one row and hands it to row(s, out), which
 * fills out (ll_store_collect's row callbacks fit); LL_ERR_NOT_FOUND when
 * there is no row, and then out is untouched.
 */
int ll_store_get(struct ll_store *st, enum ll_stmt id,
		 const struct ll_store_arg *args, size_t n_args,
		 int (*row)(sqlite3_stmt *s, void *out), void *out);
/* Row callbacks for a first column that is an int64_t, or text (a
 * strdup'ed char *). */
int ll_store_row_i64(sqlite3_stmt *s, void *out);
int ll_store_row_text(sqlite3_stmt *s, void *out);
/* ll_store_collect's free_list for rows of ll_store_row_text: frees
 * each string, then the array. */
void ll_store_text_list_free(void *list, size_t n);

/*
 * Steps a bound statement to its end, one array element per row: row()
 * fills the element (size bytes, a pointer) it is handed.  On success
 * *out and *n_out get the array; on failure free_list(array, n) undoes
 * the rows made so far and the outputs are untouched.
 */
int ll_store_collect(struct ll_store *st, sqlite3_stmt *s, size_t size,
		     int (*row)(sqlite3_stmt *s, void *elem),
		     void (*free_list)(void *list, size_t n), void **out,
		     size_t *n_out);
/* ll_store_collect over statement id run with args, ended after. */
int ll_store_list(struct ll_store *st, enum ll_stmt id,
		  const struct ll_store_arg *args, size_t n_args, size_t size,
		  int (*row)(sqlite3_stmt *s, void *elem),
		  void (*free_list)(void *list, size_t n), void **out,
		  size_t *n_out);

#endif
