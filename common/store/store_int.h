/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals shared by store.c, migrate.c and audit.c; not for callers. */
#ifndef LL_STORE_INT_H
#define LL_STORE_INT_H

#include <sqlite3.h>

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

	STMT_TECH_ADD,
	STMT_TECH_FIND,
	STMT_TECH_GET,
	STMT_TECH_SET_DISABLED,
	STMT_TECH_LIST,

	STMT_TOKEN_ADD,
	STMT_TOKEN_GET,
	STMT_TOKEN_TOUCH,
	STMT_TOKEN_DELETE,
	STMT_TOKEN_DELETE_TECH,

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
	STMT_SESSION_LIST,
	STMT_SESSION_LIVE_DISABLED,

	STMT_AUDIT_LAST,
	STMT_AUDIT_INSERT,
	STMT_AUDIT_HEAD_SET,
	STMT_AUDIT_HEAD_GET,
	STMT_AUDIT_ALL,
	STMT_AUDIT_SINCE,

	STMT__COUNT
};

struct ll_store {
	sqlite3 *db;
	sqlite3_stmt *stmts[STMT__COUNT];
	int tx_depth;
	char errmsg[256];
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

#endif
