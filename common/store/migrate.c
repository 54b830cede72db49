/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Schema migrations: an ordered list of SQL scripts.  PRAGMA user_version
 * holds how many have been applied; pending ones run in one IMMEDIATE
 * transaction together with the new user_version, so a crash leaves the
 * file at the old version or the new one, never in between.
 *
 * Append new scripts at the end; never edit one that has shipped.
 */
#include <stdio.h>

#include "store_int.h"
#include "ll_util.h"

static const char *const migrations[] = {
	/* 1: the foundation. */
	"CREATE TABLE orgs ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE TABLE technicians ("
	"  id INTEGER PRIMARY KEY,"
	"  org_id INTEGER NOT NULL REFERENCES orgs(id),"
	"  username TEXT NOT NULL,"
	"  pw_hash TEXT NOT NULL,"
	"  is_admin INTEGER NOT NULL DEFAULT 0,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (org_id, username)"
	");"
	"CREATE TABLE tokens ("
	"  hash BLOB PRIMARY KEY CHECK (length(hash) = 32),"
	"  technician_id INTEGER NOT NULL"
	"    REFERENCES technicians(id) ON DELETE CASCADE,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  last_used INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX tokens_technician ON tokens(technician_id);"
	"CREATE TABLE sessions ("
	"  id TEXT PRIMARY KEY,"
	"  org_id INTEGER NOT NULL REFERENCES orgs(id),"
	"  technician_id INTEGER NOT NULL REFERENCES technicians(id),"
	"  lock TEXT NOT NULL CHECK (lock IN ('any', 'website', 'shortcut')),"
	"  pin_mac BLOB NOT NULL CHECK (length(pin_mac) = 32),"
	/* 1 while the PIN may still be redeemed; the partial unique index
	 * below keeps live PINs unique. */
	"  pin_live INTEGER NOT NULL DEFAULT 1,"
	"  pin_used INTEGER NOT NULL DEFAULT 0,"
	"  agent_ticket_hash BLOB NOT NULL UNIQUE,"
	"  applet_ticket_hash BLOB UNIQUE,"
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  redeemed_at INTEGER NOT NULL DEFAULT 0,"
	"  connected_at INTEGER NOT NULL DEFAULT 0,"
	"  ended_at INTEGER NOT NULL DEFAULT 0,"
	"  end_reason TEXT,"
	"  bytes_agent_to_applet INTEGER NOT NULL DEFAULT 0,"
	"  bytes_applet_to_agent INTEGER NOT NULL DEFAULT 0,"
	"  agent_stream_used INTEGER NOT NULL DEFAULT 0,"
	"  applet_stream_used INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE UNIQUE INDEX sessions_live_pin ON sessions(pin_mac)"
	"  WHERE pin_live = 1;"
	"CREATE INDEX sessions_pin ON sessions(pin_mac, created_at);"
	"CREATE INDEX sessions_technician"
	"  ON sessions(technician_id, created_at);"
	"CREATE INDEX sessions_state ON sessions(state, expires_at);"
	/* No foreign keys on audit: records outlive what they mention. */
	"CREATE TABLE audit ("
	"  seq INTEGER PRIMARY KEY,"
	"  ts INTEGER NOT NULL,"
	"  org_id INTEGER NOT NULL DEFAULT 0,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  outcome TEXT NOT NULL,"
	"  source_ip TEXT,"
	"  session_id TEXT,"
	"  detail TEXT,"
	"  prev_hash BLOB NOT NULL,"
	"  hash BLOB NOT NULL"
	");"
	"CREATE INDEX audit_ts ON audit(ts);"
	/* The newest record's seq and hash, so that cutting records off the
	 * end of the chain shows too. */
	"CREATE TABLE audit_head ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  seq INTEGER NOT NULL,"
	"  hash BLOB NOT NULL"
	");",
	/* 2: the keyed epoch of the audit chain (audit.c) starts at its
	 * "audit.keyed" record; a partial index finds it without a scan. */
	"CREATE INDEX audit_keyed ON audit(seq)"
	"  WHERE action = 'audit.keyed';",
	/* 3: one-time passwords: changed at first login, expiring. */
	"ALTER TABLE technicians"
	"  ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE technicians"
	"  ADD COLUMN password_expires_at INTEGER NOT NULL DEFAULT 0;",
	/* 4: per-org policy, KEY = VALUE as text; which keys exist and what
	 * values they take is the relay's table (common/relay/core/policy.c). */
	"CREATE TABLE org_policy ("
	"  org_id INTEGER NOT NULL REFERENCES orgs(id),"
	"  key TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  PRIMARY KEY (org_id, key)"
	") WITHOUT ROWID;"
	/* Live PINs per technician and per org, counted at every new PIN
	 * (the caps of issue 7), without scanning all history. */
	"CREATE INDEX sessions_live_technician"
	"  ON sessions(technician_id, expires_at) WHERE pin_live = 1;"
	"CREATE INDEX sessions_live_org"
	"  ON sessions(org_id, expires_at) WHERE pin_live = 1;",
	/* 5: channels (calling cards) and their queue.  A channel's
	 * credential is never stored: it is derived from the at-rest key,
	 * the channel's id and its random handle (ll_channel_credential,
	 * ll_auth.h), the handle being the credential's public half by
	 * which join finds the channel.  group_name: the technician group
	 * that may pick its callers up (groups come with issue 11; until
	 * then any technician of the org may).  A queue entry's ticket is
	 * kept as SHA-256; at pickup it becomes the applet's ticket of
	 * the new session.  deadline: the entry's end unless the waiting
	 * applet asks again before (min of last poll + grace and
	 * expires_at). */
	"CREATE TABLE channels ("
	"  id INTEGER PRIMARY KEY,"
	"  org_id INTEGER NOT NULL REFERENCES orgs(id),"
	"  name TEXT NOT NULL,"
	"  group_name TEXT,"
	"  handle BLOB NOT NULL UNIQUE CHECK (length(handle) = 16),"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (org_id, name)"
	");"
	"CREATE TABLE queue_entries ("
	"  id TEXT PRIMARY KEY,"
	"  channel_id INTEGER NOT NULL,"
	"  org_id INTEGER NOT NULL,"
	"  ticket_hash BLOB NOT NULL UNIQUE CHECK (length(ticket_hash) = 32),"
	"  description TEXT,"
	"  source_ip TEXT,"
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  deadline INTEGER NOT NULL,"
	"  session_id TEXT,"
	"  technician_id INTEGER,"
	"  ended_at INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX queue_waiting"
	"  ON queue_entries(org_id, created_at) WHERE state = 0;"
	"CREATE INDEX queue_ended ON queue_entries(ended_at) WHERE state != 0;",
	/* 6: display names, the words end users see for who asks (issue 9
	 * item 4); NULL until an administrator sets one, and the login
	 * name and org id are never shown in their place. */
	"ALTER TABLE technicians ADD COLUMN display_name TEXT;"
	"ALTER TABLE orgs ADD COLUMN display_name TEXT;",
	/* 7: the second factor (issue 11 item 1).  Seeds are sealed by
	 * the relay (AES-256-GCM under the at-rest key, the technician id
	 * and the column as associated data), recovery codes kept as keyed
	 * hashes; nothing here opens without the key.  failures counts
	 * wrong codes in a row, locked stops logins until `technician
	 * unlock`.  A login's second step waits in mfa_challenges. */
	"CREATE TABLE technician_mfa ("
	"  technician_id INTEGER PRIMARY KEY,"
	"  seed BLOB,"
	"  pending_seed BLOB,"
	"  pending_at INTEGER NOT NULL DEFAULT 0,"
	"  enabled_at INTEGER NOT NULL DEFAULT 0,"
	"  last_step INTEGER NOT NULL DEFAULT -1,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  locked INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE mfa_recovery_codes ("
	"  id INTEGER PRIMARY KEY,"
	"  technician_id INTEGER NOT NULL,"
	"  code_mac BLOB NOT NULL CHECK (length(code_mac) = 32),"
	"  used_at INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (technician_id, code_mac)"
	");"
	"CREATE TABLE mfa_challenges ("
	"  hash BLOB PRIMARY KEY CHECK (length(hash) = 32),"
	"  technician_id INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL"
	");",
	/* 8: technician groups and their permissions (issue 11 item 3).
	 * permissions is the relay's bitmask (LL_PERM_*, ll_control.h);
	 * group_id NULL: no group, the rights technicians had before
	 * groups.  A session keeps the capabilities its tickets carry, so
	 * the relay's tick can end it once its technician no longer holds
	 * one of them; sessions from before had every capability there
	 * was then (view, control, files, chat, sysinfo: 31). */
	"CREATE TABLE tech_groups ("
	"  id INTEGER PRIMARY KEY,"
	"  org_id INTEGER NOT NULL REFERENCES orgs(id),"
	"  name TEXT NOT NULL,"
	"  permissions INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (org_id, name)"
	");"
	/* no REFERENCES: the store keeps a group with members from going
	 * (ll_store_group_remove) */
	"ALTER TABLE technicians ADD COLUMN group_id INTEGER;"
	"CREATE INDEX technicians_group ON technicians(group_id)"
	"  WHERE group_id IS NOT NULL;"
	"ALTER TABLE sessions"
	"  ADD COLUMN permissions INTEGER NOT NULL DEFAULT 31;",
	/* 9: directory technicians (issue 12).  directory_dn not NULL:
	 * the account is the directory's, its pw_hash the marker
	 * LL_STORE_DIRECTORY_PW (no password verifies against it), and
	 * only the directory logs it in.  directory_disabled: the sync
	 * disabled it (so the sync may enable it again, never an account
	 * an administrator disabled). */
	"ALTER TABLE technicians ADD COLUMN directory_dn TEXT;"
	"ALTER TABLE technicians ADD COLUMN directory_disabled INTEGER"
	"  NOT NULL DEFAULT 0;",
	/* 10: the at-rest key's rotation (issue 11 item 2, `lifeline-relay
	 * key rotate`).  key_id names the key every sealed value is sealed
	 * under now (what a relay checks its key file against, and how it
	 * finishes a rotation cut short); mac_key is the key of the keyed
	 * hashes (PIN MACs, recovery codes, channel credentials), which
	 * cannot be computed again without their input: sealed under the
	 * at-rest key like a seed.  No row: never rotated, the at-rest key
	 * is both. */
	"CREATE TABLE at_rest_state ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  key_id TEXT NOT NULL,"
	"  mac_key BLOB NOT NULL,"
	"  rotated_at INTEGER NOT NULL"
	");",
	/* 11: end-user ranges per technician group (issue 10 item 6): the
	 * text of the end_user_cidrs policy, checked by the relay before
	 * it is stored; NULL: the group adds no restriction. */
	"ALTER TABLE tech_groups ADD COLUMN end_user_cidrs TEXT;",
	/* 12 (chat, issue 13 item 2; renumber when merged after others):
	 * the chat lines an org keeps (policy keep_chat).  text is sealed
	 * by the relay (AES-256-GCM under the at-rest key, bound to the row
	 * id and "text"; core/atrest.c), X'' only inside the transaction
	 * that inserts the row; said_at in ms. */
	"CREATE TABLE chat_lines ("
	"  id INTEGER PRIMARY KEY,"
	"  session_id TEXT NOT NULL,"
	"  said_by TEXT NOT NULL CHECK (said_by IN ('technician', 'user')),"
	"  said_at INTEGER NOT NULL,"
	"  text BLOB NOT NULL"
	");"
	"CREATE INDEX chat_lines_session ON chat_lines(session_id, id);",
};

/*
 * A guard against accidental writes, not a security boundary (whoever can
 * write the file can drop them; the keyed chain and the signed
 * checkpoints outside the database are what detect that).  Made again on
 * every open so that a dropped trigger comes back.  An INSERT must extend
 * the chain: the next seq, linked to the newest record's hash (so neither
 * INSERT OR REPLACE of an old record nor a record squeezed in passes),
 * and audit_head may only name the newest record.
 */
static const char audit_triggers[] =
	"CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS audit_extend_only BEFORE INSERT ON audit"
	" WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM audit)"
	"  OR NEW.prev_hash IS NOT coalesce((SELECT CASE WHEN length(hash) = 32"
	"   THEN hash ELSE zeroblob(32) END FROM audit"
	"   ORDER BY seq DESC LIMIT 1), zeroblob(32))"
	" BEGIN SELECT RAISE(ABORT, 'audit: an insert must extend the chain');"
	" END;"
	"CREATE TRIGGER IF NOT EXISTS audit_head_follows"
	" BEFORE INSERT ON audit_head"
	" WHEN NEW.seq IS NOT (SELECT max(seq) FROM audit)"
	"  OR NEW.hash IS NOT (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1)"
	" BEGIN SELECT RAISE(ABORT, 'audit_head must name the newest record');"
	" END;"
	"CREATE TRIGGER IF NOT EXISTS audit_head_no_update"
	" BEFORE UPDATE ON audit_head"
	" BEGIN SELECT RAISE(ABORT, 'audit_head is set by inserts only'); END;";

/* Their names, to see that none was dropped. */
static const char *const audit_trigger_names[] = {
	"audit_no_update",    "audit_no_delete",      "audit_extend_only",
	"audit_head_follows", "audit_head_no_update",
};

static int exec_sql(struct ll_store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? LL_OK : ll_store_sqlite_err(st, rc);
}

static int user_version(struct ll_store *st, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		r = ll_store_sqlite_err(st, rc);
		goto out;
	}
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		r = ll_store_sqlite_err(st, rc);
		goto out;
	}
	*out = sqlite3_column_int64(s, 0);
	r = LL_OK;
out:
	sqlite3_finalize(s);
	return r;
}

static bool triggers_present(struct ll_store *st)
{
	sqlite3_stmt *s = NULL;
	size_t i, n = 0;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT 1 FROM sqlite_schema"
			       " WHERE type = 'trigger' AND name = ?",
			       -1, &s, NULL) != SQLITE_OK)
		return false;
	for (i = 0; i < LL_ARRAY_SIZE(audit_trigger_names); i++) {
		sqlite3_bind_text(s, 1, audit_trigger_names[i], -1,
				  SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			n++;
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	return n == LL_ARRAY_SIZE(audit_trigger_names);
}

int ll_store_migrate(struct ll_store *st)
{
	const int64_t latest = (int64_t)LL_ARRAY_SIZE(migrations);
	char pragma[64];
	int64_t v;
	int r;

	/* Reading first keeps the common case (nothing to do) free of
	 * write locks, so the admin CLI does not wait on the relay. */
	if ((r = user_version(st, &v)) != LL_OK)
		return r;
	if (v > latest)
		return LL_ERR_SCHEMA_VERSION;
	if (v == latest && triggers_present(st))
		return LL_OK;

	if ((r = ll_store_begin(st)) != LL_OK)
		return r;
	/* Again inside the write lock: another process may have won. */
	if ((r = user_version(st, &v)) != LL_OK)
		goto out;
	if (v > latest || v < 0) {
		r = LL_ERR_SCHEMA_VERSION;
		goto out;
	}
	for (; v < latest; v++) {
		if ((r = exec_sql(st, migrations[v])) != LL_OK)
			goto out;
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %lld",
		 (long long)latest);
	if ((r = exec_sql(st, pragma)) != LL_OK ||
	    (r = exec_sql(st, audit_triggers)) != LL_OK)
		goto out;
out:
	return ll_store_tx_end(st, r);
}
