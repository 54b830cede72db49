/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SQLite store: connection setup, the statement cache, transactions,
 * orgs, technicians, tokens and sessions.  The audit chain is in audit.c,
 * the schema in migrate.c.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_int.h"
#include "ll_crypto.h"
#include "ll_util.h"

/* The admin CLI writes the same file while the relay runs. */
#define LL_STORE_BUSY_MS 5000

#define TECH_COLS                                                             \
	"t.id, t.org_id, o.name, t.username, t.pw_hash, t.is_admin,"          \
	" t.disabled, t.created_at, t.must_change_password,"                  \
	" t.password_expires_at, t.display_name, o.display_name,"             \
	" g.name, g.permissions, t.directory_dn, t.directory_disabled,"       \
	" g.end_user_cidrs"
#define TECH_FROM                                                             \
	" FROM technicians t JOIN orgs o ON o.id = t.org_id"                  \
	" LEFT JOIN tech_groups g ON g.id = t.group_id"

#define SESSION_COLS                                                          \
	"id, org_id, technician_id, lock, state, pin_used, created_at,"       \
	" expires_at, redeemed_at, connected_at, ended_at, end_reason,"       \
	" bytes_agent_to_applet, bytes_applet_to_agent, agent_stream_used,"   \
	" applet_stream_used, permissions"

#define GROUP_COLS                                                            \
	"g.id, g.org_id, o.name, g.name, g.permissions, g.created_at,"        \
	" (SELECT count(*) FROM technicians t WHERE t.group_id = g.id),"      \
	" g.end_user_cidrs"
#define GROUP_FROM " FROM tech_groups g JOIN orgs o ON o.id = g.org_id"

#define CHANNEL_COLS                                                          \
	"c.id, c.org_id, o.name, c.name, c.group_name, c.handle,"             \
	" c.created_at"
#define CHANNEL_FROM " FROM channels c JOIN orgs o ON o.id = c.org_id"
#define QUEUE_COLS                                                            \
	"q.id, q.channel_id, q.org_id, c.name, q.description, q.state,"       \
	" q.created_at, q.expires_at, q.deadline, q.session_id,"              \
	" q.technician_id"
#define QUEUE_FROM                                                            \
	" FROM queue_entries q LEFT JOIN channels c ON c.id = q.channel_id"

static const char *const stmt_sql[STMT__COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_BEGIN_READ] = "BEGIN DEFERRED",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SAVEPOINT] = "SAVEPOINT ll_nested",
	[STMT_RELEASE] = "RELEASE ll_nested",
	[STMT_ROLLBACK_TO] = "ROLLBACK TO ll_nested",

	[STMT_ORG_CREATE] = "INSERT INTO orgs (name, created_at) VALUES (?, ?)",
	[STMT_ORG_FIND] = "SELECT id FROM orgs WHERE name = ?",
	[STMT_ORG_NAME] = "SELECT name FROM orgs WHERE id = ?",
	[STMT_ORG_FIRST_TWO] = "SELECT id FROM orgs ORDER BY id LIMIT 2",
	[STMT_ORG_DISPLAY_NAME] = "SELECT display_name FROM orgs WHERE id = ?",
	[STMT_ORG_SET_DISPLAY_NAME] = "UPDATE orgs SET display_name = ?"
				      " WHERE id = ?",

	[STMT_TECH_ADD] = "INSERT INTO technicians"
			  " (org_id, username, pw_hash, is_admin, created_at)"
			  " VALUES (?, ?, ?, ?, ?)",
	[STMT_TECH_FIND] = "SELECT " TECH_COLS TECH_FROM
			   " WHERE t.org_id = ? AND t.username = ?",
	[STMT_TECH_GET] = "SELECT " TECH_COLS TECH_FROM " WHERE t.id = ?",
	[STMT_TECH_SET_DISABLED] = "UPDATE technicians SET disabled = ?"
				   " WHERE org_id = ? AND username = ?",
	/* A password set by an administrator is theirs to choose: it is
	 * no one-time password (ll_store_technician_set_one_time). */
	[STMT_TECH_SET_PASSWORD] = "UPDATE technicians SET pw_hash = ?,"
				   " must_change_password = 0,"
				   " password_expires_at = 0"
				   " WHERE org_id = ? AND username = ?",
	[STMT_TECH_SET_ONE_TIME] = "UPDATE technicians"
				   " SET must_change_password = 1,"
				   " password_expires_at = ? WHERE id = ?",
	[STMT_TECH_CHANGE_PASSWORD] = "UPDATE technicians SET pw_hash = ?,"
				      " must_change_password = 0,"
				      " password_expires_at = 0"
				      " WHERE id = ? AND pw_hash = ?",
	[STMT_TECH_LIST] = "SELECT " TECH_COLS TECH_FROM
			   " WHERE ?1 = 0 OR t.org_id = ?1"
			   " ORDER BY o.name, t.username",
	[STMT_TECH_SET_DISPLAY_NAME] = "UPDATE technicians SET display_name = ?"
				       " WHERE id = ?",
	[STMT_TECH_ADD_DIRECTORY] =
		"INSERT INTO technicians"
		" (org_id, username, pw_hash, is_admin, created_at,"
		" directory_dn, display_name, disabled, directory_disabled)"
		" VALUES (?1, ?2, '" LL_STORE_DIRECTORY_PW "', 0, ?3, ?4, ?5,"
		" ?6, ?6)",
	[STMT_TECH_SET_DIRECTORY_DN] = "UPDATE technicians SET directory_dn = ?"
				       " WHERE id = ? AND directory_dn"
				       " IS NOT NULL",
	[STMT_TECH_DIRECTORY_DISABLE] = "UPDATE technicians SET disabled = 1,"
					" directory_disabled = 1 WHERE id = ?",
	[STMT_TECH_DIRECTORY_ENABLE] = "UPDATE technicians SET disabled = 0,"
				       " directory_disabled = 0 WHERE id = ?"
				       " AND (disabled = 0 OR"
				       " directory_disabled = 1)",
	/* ?3 NULL: no group; a name not of the org changes nothing. */
	[STMT_TECH_SET_GROUP] = "UPDATE technicians SET group_id ="
				" (SELECT id FROM tech_groups"
				" WHERE org_id = ?1 AND name = ?3)"
				" WHERE org_id = ?1 AND username = ?2"
				" AND (?3 IS NULL OR EXISTS (SELECT 1"
				" FROM tech_groups"
				" WHERE org_id = ?1 AND name = ?3))",

	[STMT_GROUP_ADD] = "INSERT INTO tech_groups"
			   " (org_id, name, permissions, created_at)"
			   " VALUES (?, ?, ?, ?)",
	[STMT_GROUP_FIND] = "SELECT " GROUP_COLS GROUP_FROM
			    " WHERE g.org_id = ? AND g.name = ?",
	[STMT_GROUP_SET_PERMISSIONS] = "UPDATE tech_groups SET permissions = ?"
				       " WHERE org_id = ? AND name = ?",
	/* "" is stored as NULL: one way to say "no ranges" */
	[STMT_GROUP_SET_END_USER_CIDRS] = "UPDATE tech_groups"
					  " SET end_user_cidrs = nullif(?, '')"
					  " WHERE org_id = ? AND name = ?",
	/* Only without members: a technician left without a group would
	 * get every capability (no group: the rights of before groups). */
	[STMT_GROUP_REMOVE] = "DELETE FROM tech_groups"
			      " WHERE org_id = ?1 AND name = ?2"
			      " AND NOT EXISTS (SELECT 1 FROM technicians"
			      " WHERE group_id = tech_groups.id)",
	[STMT_GROUP_LIST] = "SELECT " GROUP_COLS GROUP_FROM
			    " WHERE ?1 = 0 OR g.org_id = ?1"
			    " ORDER BY o.name, g.name",

	[STMT_TOKEN_ADD] = "INSERT INTO tokens"
			   " (hash, technician_id, created_at, expires_at,"
			   " last_used) VALUES (?, ?, ?, ?, ?)",
	[STMT_TOKEN_GET] = "SELECT technician_id, expires_at, last_used"
			   " FROM tokens WHERE hash = ?",
	[STMT_TOKEN_TOUCH] = "UPDATE tokens SET last_used = ? WHERE hash = ?",
	[STMT_TOKEN_DELETE] = "DELETE FROM tokens WHERE hash = ?",
	[STMT_TOKEN_DELETE_TECH] = "DELETE FROM tokens WHERE technician_id = ?",
	[STMT_TOKEN_DELETE_TECH_BUT] = "DELETE FROM tokens"
				       " WHERE technician_id = ? AND hash != ?",

	[STMT_SESSION_KILL_EXPIRED_PIN] = "UPDATE sessions SET pin_live = 0"
					  " WHERE pin_mac = ? AND pin_live = 1"
					  " AND expires_at <= ?",
	[STMT_SESSION_INSERT] = "INSERT INTO sessions"
				" (id, org_id, technician_id, lock, pin_mac,"
				" agent_ticket_hash, created_at, expires_at,"
				" permissions)"
				" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[STMT_SESSION_BY_PIN] = "SELECT " SESSION_COLS " FROM sessions"
				" WHERE pin_mac = ?"
				" ORDER BY created_at DESC, rowid DESC LIMIT 1",
	[STMT_SESSION_REDEEM_CHECK] = "SELECT pin_used, state, expires_at"
				      " FROM sessions WHERE id = ?",
	[STMT_SESSION_REDEEM] = "UPDATE sessions SET pin_used = 1,"
				" pin_live = 0, applet_ticket_hash = ?1,"
				" redeemed_at = ?2"
				" WHERE id = ?3 AND pin_used = 0 AND state = 0"
				" AND expires_at > ?2",
	[STMT_SESSION_BY_TICKET] = "SELECT " SESSION_COLS ", 0 FROM sessions"
				   " WHERE agent_ticket_hash = ?1"
				   " UNION ALL"
				   " SELECT " SESSION_COLS ", 1 FROM sessions"
				   " WHERE applet_ticket_hash = ?1 LIMIT 1",
	/* Once while waiting; again and again once connected (state 1),
	 * to come back after a lost stream (the relay's grace). */
	[STMT_SESSION_CLAIM_AGENT] = "UPDATE sessions SET agent_stream_used = 1"
				     " WHERE id = ? AND (state = 1 OR"
				     " (agent_stream_used = 0 AND state = 0))",
	[STMT_SESSION_CLAIM_APPLET] =
		"UPDATE sessions"
		" SET applet_stream_used = 1"
		" WHERE id = ? AND (state = 1 OR"
		" (applet_stream_used = 0 AND state = 0))",
	[STMT_SESSION_GET] = "SELECT " SESSION_COLS " FROM sessions"
			     " WHERE id = ?",
	[STMT_SESSION_STATE] = "SELECT state FROM sessions WHERE id = ?",
	[STMT_SESSION_CONNECT] = "UPDATE sessions SET state = 1,"
				 " connected_at = ?, pin_live = 0"
				 " WHERE id = ? AND state = 0",
	[STMT_SESSION_END] = "UPDATE sessions SET state = 2, ended_at = ?,"
			     " end_reason = ?, bytes_agent_to_applet = ?,"
			     " bytes_applet_to_agent = ?, pin_live = 0"
			     " WHERE id = ? AND state IN (0, 1)",
	[STMT_SESSION_EXPIRE] = "UPDATE sessions SET state = 3, pin_live = 0,"
				" ended_at = ?1, end_reason = 'expired'"
				" WHERE state = 0 AND pin_used = 0"
				" AND expires_at <= ?1 RETURNING id",
	[STMT_SESSION_EXPIRE_UNCONNECTED] = "UPDATE sessions SET state = 3,"
					    " pin_live = 0, ended_at = ?1,"
					    " end_reason = 'not connected"
					    " in time'"
					    " WHERE state = 0 AND pin_used = 1"
					    " AND redeemed_at <= ?1 - ?2"
					    " RETURNING id",
	/* At start no stream is live: a connected session, or a waiting
	 * one whose ticket already spent its one stream, can never go on
	 * (issue 9 item 3). */
	[STMT_SESSION_END_ORPHANED] = "UPDATE sessions SET state = 2,"
				      " pin_live = 0, ended_at = ?1,"
				      " end_reason = ?2"
				      " WHERE state = 1 OR (state = 0 AND"
				      " (agent_stream_used = 1 OR"
				      " applet_stream_used = 1))"
				      " RETURNING id",
	[STMT_SESSION_LIST] = "SELECT " SESSION_COLS " FROM sessions"
			      " WHERE technician_id = ?"
			      " ORDER BY created_at DESC, rowid DESC LIMIT ?",
	[STMT_SESSION_CONNECTED_ORG] = "SELECT " SESSION_COLS " FROM sessions"
				       " WHERE org_id = ? AND state = 1"
				       " ORDER BY connected_at, rowid"
				       " LIMIT ?",
	[STMT_SESSION_LIVE_DISABLED] = "SELECT s.id FROM sessions s"
				       " JOIN technicians t"
				       " ON t.id = s.technician_id"
				       " WHERE t.disabled = 1"
				       " AND s.state IN (0, 1) ORDER BY s.id",
	/* ?1: what a technician without a group holds. */
	[STMT_SESSION_LIVE_NOT_PERMITTED] =
		"SELECT s.id FROM sessions s"
		" JOIN technicians t ON t.id = s.technician_id"
		" LEFT JOIN tech_groups g ON g.id = t.group_id"
		" WHERE s.state IN (0, 1) AND t.disabled = 0"
		" AND (s.permissions & ~coalesce(g.permissions, ?1)) != 0"
		" ORDER BY s.id",
	[STMT_SESSION_LIVE_PINS_TECH] = "SELECT count(*), min(expires_at)"
					" FROM sessions"
					" WHERE technician_id = ?1"
					" AND pin_live = 1 AND expires_at > ?2",
	[STMT_SESSION_LIVE_PINS_ORG] = "SELECT count(*), min(expires_at)"
				       " FROM sessions"
				       " WHERE org_id = ?1"
				       " AND pin_live = 1 AND expires_at > ?2",

	/* A channel pickup: redeemed at birth with the queue entry's ticket
	 * as the applet's, its PIN never live. */
	[STMT_SESSION_INSERT_PICKED] = "INSERT INTO sessions"
				       " (id, org_id, technician_id, lock,"
				       " pin_mac, agent_ticket_hash,"
				       " applet_ticket_hash, created_at,"
				       " expires_at, pin_live, pin_used,"
				       " redeemed_at, permissions)"
				       " SELECT ?1, ?2, ?3, ?4, ?5, ?6,"
				       " ticket_hash, ?8, ?9, 0, 1, ?8, ?10"
				       " FROM queue_entries WHERE id = ?7",

	[STMT_CHANNEL_ADD] = "INSERT INTO channels"
			     " (org_id, name, group_name, handle, created_at)"
			     " VALUES (?, ?, ?, ?, ?)",
	[STMT_CHANNEL_FIND] = "SELECT " CHANNEL_COLS CHANNEL_FROM
			      " WHERE c.org_id = ? AND c.name = ?",
	[STMT_CHANNEL_BY_HANDLE] = "SELECT " CHANNEL_COLS CHANNEL_FROM
				   " WHERE c.handle = ?",
	[STMT_CHANNEL_GET] = "SELECT " CHANNEL_COLS CHANNEL_FROM
			     " WHERE c.id = ?",
	[STMT_CHANNEL_DELETE] = "DELETE FROM channels WHERE id = ?",
	[STMT_CHANNEL_CANCEL_WAITING] = "UPDATE queue_entries SET state = 2,"
					" ended_at = ?2"
					" WHERE channel_id = ?1 AND state = 0"
					" RETURNING id",
	[STMT_CHANNEL_LIST] = "SELECT " CHANNEL_COLS CHANNEL_FROM
			      " WHERE ?1 = 0 OR c.org_id = ?1"
			      " ORDER BY o.name, c.name",
	[STMT_QUEUE_ADD] = "INSERT INTO queue_entries"
			   " (id, channel_id, org_id, ticket_hash, description,"
			   " source_ip, created_at, expires_at, deadline)"
			   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[STMT_QUEUE_GET] = "SELECT " QUEUE_COLS QUEUE_FROM " WHERE q.id = ?",
	[STMT_QUEUE_BY_TICKET] = "SELECT " QUEUE_COLS QUEUE_FROM
				 " WHERE q.ticket_hash = ?",
	[STMT_QUEUE_COUNT] = "SELECT count(*) FROM queue_entries"
			     " WHERE (?1 = 0 OR org_id = ?1) AND state = 0"
			     " AND deadline > ?2"
			     " AND (?3 IS NULL OR source_ip = ?3)",
	[STMT_QUEUE_POSITION] = "SELECT count(*) FROM queue_entries"
				" WHERE org_id = ?1 AND state = 0"
				" AND deadline > ?2 AND (created_at < ?3"
				" OR (created_at = ?3 AND rowid <= (SELECT"
				" rowid FROM queue_entries WHERE id = ?4)))",
	[STMT_QUEUE_LIST] = "SELECT " QUEUE_COLS QUEUE_FROM
			    " WHERE q.org_id = ?1 AND q.state = 0"
			    " AND q.deadline > ?2"
			    " ORDER BY q.created_at, q.rowid LIMIT ?3",
	[STMT_QUEUE_TOUCH] = "UPDATE queue_entries SET deadline = ?2"
			     " WHERE id = ?1 AND state = 0",
	[STMT_QUEUE_PICKUP] = "UPDATE queue_entries SET state = 1,"
			      " technician_id = ?2, session_id = ?3,"
			      " ended_at = ?4"
			      " WHERE id = ?1 AND state = 0 AND deadline > ?4",
	[STMT_QUEUE_CANCEL] = "UPDATE queue_entries SET state = 2,"
			      " ended_at = ?2 WHERE id = ?1 AND state = 0",
	[STMT_QUEUE_EXPIRE] = "UPDATE queue_entries SET state = 3,"
			      " ended_at = ?1"
			      " WHERE state = 0 AND deadline <= ?1"
			      " RETURNING id, channel_id, org_id, created_at",
	[STMT_QUEUE_FORGET] = "DELETE FROM queue_entries"
			      " WHERE state != 0 AND ended_at < ?",

	[STMT_MFA_GET] = "SELECT seed, pending_seed, pending_at, enabled_at,"
			 " last_step, failures, locked FROM technician_mfa"
			 " WHERE technician_id = ?",
	/* A new enrolment starts over, but neither a lock nor the
	 * failures before it go away with it. */
	[STMT_MFA_SET_PENDING] = "INSERT INTO technician_mfa"
				 " (technician_id, pending_seed, pending_at)"
				 " VALUES (?1, ?2, ?3)"
				 " ON CONFLICT (technician_id) DO UPDATE"
				 " SET pending_seed = ?2, pending_at = ?3",
	[STMT_MFA_CONFIRM] = "UPDATE technician_mfa SET seed = ?2,"
			     " pending_seed = NULL, pending_at = 0,"
			     " enabled_at = ?3, last_step = ?4, failures = 0"
			     " WHERE technician_id = ?1"
			     " AND pending_seed IS NOT NULL",
	[STMT_MFA_USE_STEP] = "UPDATE technician_mfa SET last_step = ?2,"
			      " failures = 0"
			      " WHERE technician_id = ?1 AND last_step < ?2",
	[STMT_MFA_FAIL] = "UPDATE technician_mfa SET failures = failures + 1,"
			  " locked = locked OR failures + 1 >= ?2"
			  " WHERE technician_id = ?1",
	[STMT_MFA_FAILURES] = "UPDATE technician_mfa SET failures = 0"
			      " WHERE technician_id = ?",
	[STMT_MFA_UNLOCK] = "UPDATE technician_mfa SET locked = 0,"
			    " failures = 0 WHERE technician_id = ?",
	[STMT_MFA_DELETE] =
		"DELETE FROM technician_mfa WHERE technician_id = ?",
	[STMT_MFA_RECOVERY_DELETE] = "DELETE FROM mfa_recovery_codes"
				     " WHERE technician_id = ?",
	[STMT_MFA_RECOVERY_ADD] = "INSERT INTO mfa_recovery_codes"
				  " (technician_id, code_mac) VALUES (?, ?)",
	[STMT_MFA_RECOVERY_USE] = "UPDATE mfa_recovery_codes SET used_at = ?3"
				  " WHERE technician_id = ?1"
				  " AND code_mac = ?2 AND used_at = 0",
	[STMT_MFA_RECOVERY_LEFT] = "SELECT count(*) FROM mfa_recovery_codes"
				   " WHERE technician_id = ? AND used_at = 0",
	[STMT_MFA_CHALLENGE_ADD] = "INSERT INTO mfa_challenges"
				   " (hash, technician_id, expires_at)"
				   " VALUES (?, ?, ?)",
	[STMT_MFA_CHALLENGE_GET] = "SELECT technician_id FROM mfa_challenges"
				   " WHERE hash = ?1 AND expires_at > ?2",
	[STMT_MFA_SEALED_LIST] = "SELECT seed, pending_seed, pending_at,"
				 " enabled_at, last_step, failures, locked,"
				 " technician_id FROM technician_mfa"
				 " WHERE seed IS NOT NULL"
				 " OR pending_seed IS NOT NULL"
				 " ORDER BY technician_id",
	[STMT_MFA_RESEAL] = "UPDATE technician_mfa SET seed = ?2,"
			    " pending_seed = ?3 WHERE technician_id = ?1",
	[STMT_AT_REST_GET] = "SELECT key_id, mac_key FROM at_rest_state"
			     " WHERE id = 1",
	[STMT_AT_REST_SET] = "INSERT INTO at_rest_state"
			     " (id, key_id, mac_key, rotated_at)"
			     " VALUES (1, ?1, ?2, ?3)"
			     " ON CONFLICT (id) DO UPDATE SET key_id = ?1,"
			     " mac_key = ?2, rotated_at = ?3",
	[STMT_MFA_CHALLENGE_DELETE] = "DELETE FROM mfa_challenges"
				      " WHERE hash = ?",
	[STMT_MFA_CHALLENGE_EXPIRE] = "DELETE FROM mfa_challenges"
				      " WHERE expires_at <= ?",

	[STMT_POLICY_GET] = "SELECT value FROM org_policy"
			    " WHERE org_id = ? AND key = ?",
	[STMT_POLICY_SET] = "INSERT INTO org_policy (org_id, key, value)"
			    " VALUES (?, ?, ?) ON CONFLICT (org_id, key)"
			    " DO UPDATE SET value = excluded.value",
	[STMT_POLICY_UNSET] = "DELETE FROM org_policy"
			      " WHERE org_id = ? AND key = ?",
	[STMT_POLICY_LIST] = "SELECT key, value FROM org_policy"
			     " WHERE org_id = ? ORDER BY key",
	[STMT_POLICY_OF_KEY] = "SELECT CAST(org_id AS TEXT), value"
			       " FROM org_policy WHERE key = ?"
			       " ORDER BY org_id",

	[STMT_AUDIT_LAST] = "SELECT seq, hash FROM audit"
			    " ORDER BY seq DESC LIMIT 1",
	[STMT_AUDIT_INSERT] = "INSERT INTO audit"
			      " (seq, ts, org_id, actor, action, outcome,"
			      " source_ip, session_id, detail, prev_hash, hash)"
			      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[STMT_AUDIT_HEAD_SET] = "INSERT OR REPLACE INTO audit_head"
				" (id, seq, hash) VALUES (1, ?, ?)",
	[STMT_AUDIT_HEAD_GET] = "SELECT seq, hash FROM audit_head WHERE id = 1",
	[STMT_AUDIT_ALL] = "SELECT seq, ts, org_id, actor, action, outcome,"
			   " source_ip, session_id, detail, prev_hash, hash"
			   " FROM audit ORDER BY seq",
	[STMT_AUDIT_SINCE] = "SELECT seq, ts, org_id, actor, action, outcome,"
			     " source_ip, session_id, detail, prev_hash, hash"
			     " FROM audit WHERE ts >= ? ORDER BY seq",
	/* The literal matches the partial index audit_keyed (migrate.c). */
	[STMT_AUDIT_KEYED_FROM] = "SELECT seq FROM audit"
				  " WHERE action = 'audit.keyed'"
				  " ORDER BY seq LIMIT 1",
	[STMT_AUDIT_MAC_AT] = "SELECT hash FROM audit WHERE seq = ?",
};

/* ---- plumbing ---- */

int ll_store_sqlite_err(struct ll_store *st, int rc)
{
	snprintf(st->errmsg, sizeof(st->errmsg), "%s", sqlite3_errmsg(st->db));
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return LL_OK;
	case SQLITE_NOMEM:
		return LL_ERR_NOMEM;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return LL_ERR_CONFLICT;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		/* The row refers to an org/technician that does not exist. */
		return LL_ERR_NOT_FOUND;
	case SQLITE_CONSTRAINT_CHECK:
	case SQLITE_CONSTRAINT_NOTNULL:
		return LL_ERR_INVALID_ARG;
	case SQLITE_TOOBIG:
		return LL_ERR_TOO_LARGE;
	default:
		return LL_ERR_STORE;
	}
}

int ll_store_stmt(struct ll_store *st, enum ll_stmt id, sqlite3_stmt **out)
{
	int rc;

	if (st->stmts[id] == NULL) {
		rc = sqlite3_prepare_v3(st->db, stmt_sql[id], -1,
					SQLITE_PREPARE_PERSISTENT,
					&st->stmts[id], NULL);
		if (rc != SQLITE_OK)
			return ll_store_sqlite_err(st, rc);
	}
	*out = st->stmts[id];
	return LL_OK;
}

void ll_store_stmt_done(sqlite3_stmt *s)
{
	if (s == NULL)
		return;
	/* Resetting ends the statement's read transaction, which would
	 * otherwise hold back WAL checkpoints. */
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

int ll_store_step_done(struct ll_store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_DONE)
		return LL_OK;
	if (rc == SQLITE_ROW)
		return LL_ERR_INTERNAL;
	return ll_store_sqlite_err(st, rc);
}

int ll_store_run(struct ll_store *st, enum ll_stmt id)
{
	return ll_store_exec(st, id, NO_ARGS);
}

int ll_store_collect(struct ll_store *st, sqlite3_stmt *s, size_t size,
		     int (*row)(sqlite3_stmt *s, void *elem),
		     void (*free_list)(void *list, size_t n), void **out,
		     size_t *n_out)
{
	unsigned char *list = NULL, *grown;
	size_t n = 0, cap = 0;
	int r = LL_OK, rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			grown = reallocarray(list, cap, size);
			if (grown == NULL) {
				r = LL_ERR_NOMEM;
				goto out;
			}
			list = grown;
		}
		if ((r = row(s, list + n * size)) != LL_OK)
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE) {
		r = ll_store_sqlite_err(st, rc);
		goto out;
	}
	*out = list;
	*n_out = n;
	list = NULL;
	n = 0;
out:
	free_list(list, n);
	return r;
}

static int bind_arg(struct ll_store *st, sqlite3_stmt *s, int i,
		    const struct ll_store_arg *a)
{
	switch (a->type) {
	case LL_STORE_I64:
		return bind_i64(st, s, i, a->i64);
	case LL_STORE_TEXT:
		return bind_text(st, s, i, a->text);
	case LL_STORE_HASH:
		return bind_blob(st, s, i, a->hash, LL_HASH_LEN);
	case LL_STORE_HANDLE:
		return bind_blob(st, s, i, a->handle, LL_CHANNEL_HANDLE_LEN);
	case LL_STORE_BLOB:
		if (a->blob == NULL || a->blob_len > INT32_MAX) {
			int rc = sqlite3_bind_null(s, i);

			return rc == SQLITE_OK ? LL_OK
					       : ll_store_sqlite_err(st, rc);
		}
		return bind_blob(st, s, i, a->blob, (int)a->blob_len);
	}
	return LL_ERR_INTERNAL;
}

int ll_store_prep(struct ll_store *st, enum ll_stmt id,
		  const struct ll_store_arg *args, size_t n_args,
		  sqlite3_stmt **out)
{
	sqlite3_stmt *s;
	size_t i;
	int r;

	if ((r = ll_store_stmt(st, id, &s)) != LL_OK)
		return r;
	for (i = 0; i < n_args; i++) {
		if ((r = bind_arg(st, s, (int)i + 1, &args[i])) != LL_OK) {
			ll_store_stmt_done(s);
			return r;
		}
	}
	*out = s;
	return LL_OK;
}

int ll_store_exec(struct ll_store *st, enum ll_stmt id,
		  const struct ll_store_arg *args, size_t n_args)
{
	sqlite3_stmt *s;
	int r;

	if ((r = ll_store_prep(st, id, args, n_args, &s)) != LL_OK)
		return r;
	r = ll_store_step_done(st, s);
	ll_store_stmt_done(s);
	return r;
}

int ll_store_exec_changed(struct ll_store *st, enum ll_stmt id,
			  const struct ll_store_arg *args, size_t n_args)
{
	int r = ll_store_exec(st, id, args, n_args);

	/* sqlite3_changes() outlives the statement's reset. */
	if (r == LL_OK && sqlite3_changes(st->db) == 0)
		r = LL_ERR_NOT_FOUND;
	return r;
}

int ll_store_get(struct ll_store *st, enum ll_stmt id,
		 const struct ll_store_arg *args, size_t n_args,
		 int (*row)(sqlite3_stmt *s, void *out), void *out)
{
	sqlite3_stmt *s;
	int r;

	if ((r = ll_store_prep(st, id, args, n_args, &s)) != LL_OK)
		return r;
	if ((r = step_row(st, s)) == LL_OK)
		r = row(s, out);
	ll_store_stmt_done(s);
	return r;
}

int ll_store_row_i64(sqlite3_stmt *s, void *out)
{
	*(int64_t *)out = sqlite3_column_int64(s, 0);
	return LL_OK;
}

int ll_store_row_text(sqlite3_stmt *s, void *out)
{
	char *t = dup_col(s, 0);

	if (t == NULL)
		return LL_ERR_NOMEM;
	*(char **)out = t;
	return LL_OK;
}

void ll_store_text_list_free(void *list, size_t n)
{
	char **texts = list;
	size_t i;

	for (i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
}

int ll_store_list(struct ll_store *st, enum ll_stmt id,
		  const struct ll_store_arg *args, size_t n_args, size_t size,
		  int (*row)(sqlite3_stmt *s, void *elem),
		  void (*free_list)(void *list, size_t n), void **out,
		  size_t *n_out)
{
	sqlite3_stmt *s;
	int r;

	if ((r = ll_store_prep(st, id, args, n_args, &s)) != LL_OK)
		return r;
	r = ll_store_collect(st, s, size, row, free_list, out, n_out);
	ll_store_stmt_done(s);
	return r;
}

/* ---- open / close ---- */

static int exec_pragma(struct ll_store *st, const char *sql,
		       const char *expect)
{
	sqlite3_stmt *s = NULL;
	int rc, r = LL_OK;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		r = ll_store_sqlite_err(st, rc);
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = ll_store_sqlite_err(st, rc);
		goto out;
	}
	if (expect != NULL &&
	    (rc != SQLITE_ROW || sqlite3_column_text(s, 0) == NULL ||
	     strcmp((const char *)sqlite3_column_text(s, 0), expect) != 0)) {
		snprintf(st->errmsg, sizeof(st->errmsg), "%s did not give %s",
			 sql, expect);
		r = LL_ERR_STORE;
	}
out:
	sqlite3_finalize(s);
	return r;
}

/*
 * The file holds password hashes: create it 0600 ourselves, as SQLite
 * would use the umask.  Its -wal and -shm files inherit the mode.
 */
static int precreate(const char *path)
{
	int fd;

	if (path[0] == '\0' || strcmp(path, ":memory:") == 0)
		return LL_OK;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return LL_ERR_IO;
	close(fd);
	return LL_OK;
}

int ll_store_open(const char *path, struct ll_store **out)
{
	struct ll_store *st = NULL;
	int rc, r;

	if (path == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = precreate(path)) != LL_OK)
		return r;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return LL_ERR_NOMEM;
	rc = sqlite3_open_v2(path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOFOLLOW,
			     NULL);
	if (rc != SQLITE_OK) {
		r = st->db ? ll_store_sqlite_err(st, rc) : LL_ERR_NOMEM;
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, LL_STORE_BUSY_MS);
	/* A tampered file must not run functions from its schema, nor can
	 * we be talked into writable_schema. */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);

	/* synchronous=FULL: a commit is on disk when it returns, which the
	 * relay relies on before answering 2xx. */
	if ((r = exec_pragma(st, "PRAGMA journal_mode = WAL", "wal")) != 0 ||
	    (r = exec_pragma(st, "PRAGMA synchronous = FULL", NULL)) != 0 ||
	    (r = exec_pragma(st, "PRAGMA foreign_keys = ON", NULL)) != 0 ||
	    (r = ll_store_migrate(st)) != LL_OK)
		goto out;
	*out = st;
	st = NULL;
out:
	ll_store_close(st);
	return r;
}

void ll_store_close(struct ll_store *st)
{
	size_t i;

	if (st == NULL)
		return;
	if (st->db != NULL && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	for (i = 0; i < STMT__COUNT; i++)
		sqlite3_finalize(st->stmts[i]);
	sqlite3_close(st->db);
	ll_wipe(st->audit_key, sizeof(st->audit_key));
	free(st);
}

const char *ll_store_errmsg(const struct ll_store *st)
{
	if (st == NULL)
		return "no store";
	return st->errmsg[0] ? st->errmsg : "no error";
}

/* ---- transactions ---- */

/*
 * The outer level is a BEGIN IMMEDIATE transaction (taking the write lock
 * up front, so the busy timeout applies instead of a deadlock between two
 * readers upgrading); inner levels are savepoints, so an inner rollback
 * undoes only its own part.
 */
int ll_store_begin(struct ll_store *st)
{
	int r;

	if (st == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_run(st, st->tx_depth == 0 ? STMT_BEGIN : STMT_SAVEPOINT);
	if (r == LL_OK)
		st->tx_depth++;
	return r;
}

int ll_store_commit(struct ll_store *st)
{
	int r;

	if (st == NULL || st->tx_depth == 0)
		return LL_ERR_INVALID_ARG;
	if (sqlite3_get_autocommit(st->db)) {
		/* SQLite already rolled the whole transaction back (I/O
		 * error, out of memory): nothing of it is committed. */
		st->tx_depth--;
		snprintf(st->errmsg, sizeof(st->errmsg),
			 "transaction was rolled back");
		return LL_ERR_STORE;
	}
	if (st->tx_depth > 1) {
		if ((r = ll_store_run(st, STMT_RELEASE)) != LL_OK) {
			ll_store_rollback(st);
			return r;
		}
		st->tx_depth--;
		return LL_OK;
	}
	if ((r = ll_store_run(st, STMT_COMMIT)) != LL_OK) {
		ll_store_rollback(st);
		return r;
	}
	st->tx_depth = 0;
	return LL_OK;
}

void ll_store_rollback(struct ll_store *st)
{
	if (st == NULL || st->tx_depth == 0)
		return;
	if (sqlite3_get_autocommit(st->db)) {
		st->tx_depth--;
		return;
	}
	if (st->tx_depth > 1) {
		(void)ll_store_run(st, STMT_ROLLBACK_TO);
		(void)ll_store_run(st, STMT_RELEASE);
	} else {
		(void)ll_store_run(st, STMT_ROLLBACK);
	}
	st->tx_depth--;
}

int ll_store_tx_end(struct ll_store *st, int r)
{
	if (r == LL_OK)
		return ll_store_commit(st);
	ll_store_rollback(st);
	return r;
}

/* ---- orgs ---- */

int ll_store_org_create(struct ll_store *st, const char *name, int64_t now,
			int64_t *id_out)
{
	int r;

	if (st == NULL || name == NULL || name[0] == '\0')
		return LL_ERR_INVALID_ARG;
	r = ll_store_exec(st, STMT_ORG_CREATE,
			  STORE_ARGS(ARG_TEXT(name), ARG_I64(now)));
	if (r == LL_OK && id_out != NULL)
		*id_out = sqlite3_last_insert_rowid(st->db);
	return r;
}

int ll_store_org_find(struct ll_store *st, const char *name, int64_t *id_out)
{
	if (st == NULL || name == NULL || id_out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_ORG_FIND, STORE_ARGS(ARG_TEXT(name)),
			    ll_store_row_i64, id_out);
}

int ll_store_org_name(struct ll_store *st, int64_t id, char **name_out)
{
	if (st == NULL || name_out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_ORG_NAME, STORE_ARGS(ARG_I64(id)),
			    ll_store_row_text, name_out);
}

/* A text column that may be NULL (then *out is NULL). */
static int row_text_or_null(sqlite3_stmt *s, void *out)
{
	if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
		*(char **)out = NULL;
		return LL_OK;
	}
	return ll_store_row_text(s, out);
}

int ll_store_org_display_name(struct ll_store *st, int64_t id, char **name_out)
{
	if (st == NULL || name_out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_ORG_DISPLAY_NAME, STORE_ARGS(ARG_I64(id)),
			    row_text_or_null, name_out);
}

int ll_store_org_set_display_name(struct ll_store *st, int64_t id,
				  const char *name)
{
	if (st == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec_changed(st, STMT_ORG_SET_DISPLAY_NAME,
				     STORE_ARGS(ARG_TEXT(name), ARG_I64(id)));
}

int ll_store_org_default(struct ll_store *st, int64_t *id_out)
{
	sqlite3_stmt *s = NULL;
	int64_t id = 0;
	int r, rc;

	if (st == NULL || id_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_ORG_FIRST_TWO, &s)) != LL_OK ||
	    (r = one_i64(st, s, &id)) != LL_OK)
		goto out;
	/* Several orgs: there is no default, the caller must name one. */
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = LL_ERR_CONFLICT;
		goto out;
	} else if (rc != SQLITE_DONE) {
		r = ll_store_sqlite_err(st, rc);
		goto out;
	}
	*id_out = id;
out:
	ll_store_stmt_done(s);
	return r;
}

int ll_store_org_first(struct ll_store *st, int64_t *id_out)
{
	sqlite3_stmt *s = NULL;
	int64_t id = 0;
	int r;

	if (st == NULL || id_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_ORG_FIRST_TWO, &s)) == LL_OK &&
	    (r = one_i64(st, s, &id)) == LL_OK)
		*id_out = id;
	ll_store_stmt_done(s);
	return r;
}

/* ---- technicians ---- */

void ll_technician_free(struct ll_technician *t)
{
	if (t == NULL)
		return;
	free(t->org_name);
	free(t->username);
	free(t->pw_hash);
	free(t->display_name);
	free(t->org_display_name);
	free(t->directory_dn);
	free(t->group_name);
	free(t->group_end_user_cidrs);
	free(t);
}

void ll_technician_list_free(struct ll_technician **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		ll_technician_free(list[i]);
	free(list);
}

static int tech_from_row(sqlite3_stmt *s, struct ll_technician **out)
{
	struct ll_technician *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return LL_ERR_NOMEM;
	t->id = sqlite3_column_int64(s, 0);
	t->org_id = sqlite3_column_int64(s, 1);
	t->org_name = dup_col(s, 2);
	t->username = dup_col(s, 3);
	t->pw_hash = dup_col(s, 4);
	t->is_admin = sqlite3_column_int(s, 5) != 0;
	t->disabled = sqlite3_column_int(s, 6) != 0;
	t->created_at = sqlite3_column_int64(s, 7);
	t->must_change_password = sqlite3_column_int(s, 8) != 0;
	t->password_expires_at = sqlite3_column_int64(s, 9);
	t->group_permissions = (uint32_t)sqlite3_column_int64(s, 13);
	t->directory_disabled = sqlite3_column_int(s, 15) != 0;
	/* NULL (never set) stays NULL: the caller says it in plain words */
	if ((sqlite3_column_type(s, 10) != SQLITE_NULL &&
	     (t->display_name = dup_col(s, 10)) == NULL) ||
	    (sqlite3_column_type(s, 11) != SQLITE_NULL &&
	     (t->org_display_name = dup_col(s, 11)) == NULL) ||
	    (sqlite3_column_type(s, 12) != SQLITE_NULL &&
	     (t->group_name = dup_col(s, 12)) == NULL) ||
	    (sqlite3_column_type(s, 14) != SQLITE_NULL &&
	     (t->directory_dn = dup_col(s, 14)) == NULL) ||
	    (sqlite3_column_type(s, 16) != SQLITE_NULL &&
	     (t->group_end_user_cidrs = dup_col(s, 16)) == NULL)) {
		ll_technician_free(t);
		return LL_ERR_NOMEM;
	}
	if (t->org_name == NULL || t->username == NULL || t->pw_hash == NULL) {
		ll_technician_free(t);
		return LL_ERR_NOMEM;
	}
	*out = t;
	return LL_OK;
}

/* Row callbacks (ll_store_get, ll_store_list) for technicians. */
static int tech_row(sqlite3_stmt *s, void *elem)
{
	return tech_from_row(s, elem);
}

static void tech_list_free(void *list, size_t n)
{
	ll_technician_list_free(list, n);
}

int ll_store_technician_add(struct ll_store *st, int64_t org_id,
			    const char *username, const char *pw_hash,
			    bool is_admin, int64_t now, int64_t *id_out)
{
	int r;

	if (st == NULL || username == NULL || username[0] == '\0' ||
	    pw_hash == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_exec(st, STMT_TECH_ADD,
			  STORE_ARGS(ARG_I64(org_id), ARG_TEXT(username),
				     ARG_TEXT(pw_hash), ARG_I64(is_admin),
				     ARG_I64(now)));
	if (r == LL_OK && id_out != NULL)
		*id_out = sqlite3_last_insert_rowid(st->db);
	return r;
}

int ll_store_technician_find(struct ll_store *st, int64_t org_id,
			     const char *username, struct ll_technician **out)
{
	if (st == NULL || username == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_TECH_FIND,
			    STORE_ARGS(ARG_I64(org_id), ARG_TEXT(username)),
			    tech_row, out);
}

int ll_store_technician_get(struct ll_store *st, int64_t id,
			    struct ll_technician **out)
{
	if (st == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_TECH_GET, STORE_ARGS(ARG_I64(id)),
			    tech_row, out);
}

int ll_store_technician_set_disabled(struct ll_store *st, int64_t org_id,
				     const char *username, bool disabled)
{
	if (st == NULL || username == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec_changed(st, STMT_TECH_SET_DISABLED,
				     STORE_ARGS(ARG_I64(disabled),
						ARG_I64(org_id),
						ARG_TEXT(username)));
}

int ll_store_technician_set_password(struct ll_store *st, int64_t org_id,
				     const char *username, const char *pw_hash)
{
	if (st == NULL || username == NULL || pw_hash == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec_changed(st, STMT_TECH_SET_PASSWORD,
				     STORE_ARGS(ARG_TEXT(pw_hash),
						ARG_I64(org_id),
						ARG_TEXT(username)));
}

int ll_store_technician_set_one_time(struct ll_store *st, int64_t id,
				     int64_t expires_at)
{
	if (st == NULL || expires_at <= 0)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec_changed(st, STMT_TECH_SET_ONE_TIME,
				     STORE_ARGS(ARG_I64(expires_at),
						ARG_I64(id)));
}

int ll_store_technician_set_display_name(struct ll_store *st, int64_t id,
					 const char *name)
{
	if (st == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec_changed(st, STMT_TECH_SET_DISPLAY_NAME,
				     STORE_ARGS(ARG_TEXT(name), ARG_I64(id)));
}

int ll_store_technician_set_group(struct ll_store *st, int64_t org_id,
				  const char *username, const char *group_name)
{
	if (st == NULL || username == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec_changed(st, STMT_TECH_SET_GROUP,
				     STORE_ARGS(ARG_I64(org_id),
						ARG_TEXT(username),
						ARG_TEXT(group_name)));
}

int ll_store_technician_change_password(struct ll_store *st, int64_t id,
					const char *old_hash,
					const char *new_hash)
{
	int r;

	if (st == NULL || old_hash == NULL || new_hash == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_exec_changed(st, STMT_TECH_CHANGE_PASSWORD,
				  STORE_ARGS(ARG_TEXT(new_hash), ARG_I64(id),
					     ARG_TEXT(old_hash)));
	/* No row: no such technician, or its hash is no longer old_hash. */
	return r == LL_ERR_NOT_FOUND ? LL_ERR_CONFLICT : r;
}

int ll_store_technician_add_directory(struct ll_store *st, int64_t org_id,
				      const char *username, const char *dn,
				      const char *display_name, bool disabled,
				      int64_t now, int64_t *id_out)
{
	int r;

	if (st == NULL || username == NULL || username[0] == '\0' ||
	    dn == NULL || dn[0] == '\0')
		return LL_ERR_INVALID_ARG;
	r = ll_store_exec(st, STMT_TECH_ADD_DIRECTORY,
			  STORE_ARGS(ARG_I64(org_id), ARG_TEXT(username),
				     ARG_I64(now), ARG_TEXT(dn),
				     ARG_TEXT(display_name),
				     ARG_I64(disabled)));
	if (r == LL_OK && id_out != NULL)
		*id_out = sqlite3_last_insert_rowid(st->db);
	return r;
}

int ll_store_technician_set_directory_dn(struct ll_store *st, int64_t id,
					 const char *dn)
{
	if (st == NULL || dn == NULL || dn[0] == '\0')
		return LL_ERR_INVALID_ARG;
	return ll_store_exec_changed(st, STMT_TECH_SET_DIRECTORY_DN,
				     STORE_ARGS(ARG_TEXT(dn), ARG_I64(id)));
}

int ll_store_technician_set_directory_disabled(struct ll_store *st, int64_t id,
					       bool disabled)
{
	int r;

	if (st == NULL)
		return LL_ERR_INVALID_ARG;
	if (disabled)
		return ll_store_exec_changed(st, STMT_TECH_DIRECTORY_DISABLE,
					     STORE_ARGS(ARG_I64(id)));
	r = ll_store_exec_changed(st, STMT_TECH_DIRECTORY_ENABLE,
				  STORE_ARGS(ARG_I64(id)));
	/* no row: an administrator disabled it (or no such technician) */
	return r == LL_ERR_NOT_FOUND ? LL_ERR_CONFLICT : r;
}

int ll_store_technician_list(struct ll_store *st, int64_t org_id,
			     struct ll_technician ***out, size_t *n_out)
{
	void *list;
	size_t n;
	int r;

	if (st == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_list(st, STMT_TECH_LIST, STORE_ARGS(ARG_I64(org_id)),
			  sizeof(**out), tech_row, tech_list_free, &list, &n);
	if (r == LL_OK) {
		*out = list;
		*n_out = n;
	}
	return r;
}

/* ---- tokens ---- */

int ll_store_token_add(struct ll_store *st, const uint8_t hash[LL_HASH_LEN],
		       int64_t technician_id, int64_t now, int64_t expires_at)
{
	if (st == NULL || hash == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec(st, STMT_TOKEN_ADD,
			     STORE_ARGS(ARG_HASH(hash), ARG_I64(technician_id),
					ARG_I64(now), ARG_I64(expires_at),
					ARG_I64(now)));
}

static int token_delete(struct ll_store *st, const uint8_t *hash)
{
	return ll_store_exec_changed(st, STMT_TOKEN_DELETE,
				     STORE_ARGS(ARG_HASH(hash)));
}

struct token_row {
	int64_t tech, expires_at, last_used;
};

static int token_row(sqlite3_stmt *s, void *out)
{
	struct token_row *t = out;

	t->tech = sqlite3_column_int64(s, 0);
	t->expires_at = sqlite3_column_int64(s, 1);
	t->last_used = sqlite3_column_int64(s, 2);
	return LL_OK;
}

int ll_store_token_check(struct ll_store *st, const uint8_t hash[LL_HASH_LEN],
			 int64_t now, int64_t idle_timeout,
			 int64_t *technician_id_out)
{
	struct token_row t = { 0 };
	int r;

	if (st == NULL || hash == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_begin(st)) != LL_OK)
		return r;
	if ((r = ll_store_get(st, STMT_TOKEN_GET, STORE_ARGS(ARG_HASH(hash)),
			      token_row, &t)) != LL_OK)
		goto out;
	if (now >= t.expires_at ||
	    (idle_timeout > 0 && now - t.last_used > idle_timeout)) {
		/* Delete, and commit the deletion: the token is dead. */
		if ((r = token_delete(st, hash)) == LL_OK)
			r = ll_store_commit(st);
		else
			ll_store_rollback(st);
		return r == LL_OK ? LL_ERR_EXPIRED : r;
	}
	/* Spare the fsync when nothing changes (several requests in one
	 * second). */
	if (now > t.last_used)
		r = ll_store_exec(st, STMT_TOKEN_TOUCH,
				  STORE_ARGS(ARG_I64(now), ARG_HASH(hash)));
out:
	if ((r = ll_store_tx_end(st, r)) == LL_OK && technician_id_out)
		*technician_id_out = t.tech;
	return r;
}

int ll_store_token_delete(struct ll_store *st, const uint8_t hash[LL_HASH_LEN])
{
	if (st == NULL || hash == NULL)
		return LL_ERR_INVALID_ARG;
	return token_delete(st, hash);
}

int ll_store_token_delete_for_technician(struct ll_store *st,
					 int64_t technician_id)
{
	if (st == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec(st, STMT_TOKEN_DELETE_TECH,
			     STORE_ARGS(ARG_I64(technician_id)));
}

int ll_store_token_delete_for_technician_but(struct ll_store *st,
					     int64_t technician_id,
					     const uint8_t keep[LL_HASH_LEN])
{
	if (st == NULL || keep == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec(st, STMT_TOKEN_DELETE_TECH_BUT,
			     STORE_ARGS(ARG_I64(technician_id),
					ARG_HASH(keep)));
}
