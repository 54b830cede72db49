/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SQLite store against real files.  Tampering is done the way an
 * attacker (or the integration test) would: a second, plain sqlite3
 * connection that drops the append-only triggers and edits rows.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_store.h"
#include "ll_store_chat.h"

#define SCHEMA_VERSION 12

struct fx {
	char *dir;
	char *path;
	struct ll_store *st;
	int64_t org;
	int64_t tech;
};

static void fx_setup(struct fx *f, gconstpointer data)
{
	const char *base = g_getenv("LL_TEST_TMPDIR");
	char *tmpl = g_build_filename(base ? base : g_get_tmp_dir(),
				      "store-XXXXXX", NULL);

	f->dir = g_mkdtemp(tmpl);
	g_assert_nonnull(f->dir);
	f->path = g_build_filename(f->dir, "lifeline.db", NULL);
	g_assert_cmpint(ll_store_open(f->path, &f->st), ==, LL_OK);
	g_assert_cmpint(ll_store_org_create(f->st, "acme", 100, &f->org), ==,
			LL_OK);
	g_assert_cmpint(ll_store_technician_add(f->st, f->org, "alice",
						"$argon2id$x", false, 100,
						&f->tech),
			==, LL_OK);
}

static void fx_teardown(struct fx *f, gconstpointer data)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	size_t i;

	ll_store_close(f->st);
	for (i = 0; i < G_N_ELEMENTS(sfx); i++) {
		char *p = g_strconcat(f->path, sfx[i], NULL);

		g_unlink(p);
		g_free(p);
	}
	g_rmdir(f->dir);
	g_free(f->path);
	g_free(f->dir);
}

/* A plain connection, as an outside tool would open the file. */
static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static int raw_exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v;

	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &s, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(s), ==, SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void fill(uint8_t out[LL_HASH_LEN], int tag)
{
	memset(out, tag, LL_HASH_LEN);
}

static void make_id(char out[LL_SESSION_ID_LEN + 1], unsigned n)
{
	snprintf(out, LL_SESSION_ID_LEN + 1, "%032x", n);
}

/* A waiting session n with PIN tag pin, created at `at`, 20 min life. */
static int new_session(struct fx *f, unsigned n, int pin, int64_t at)
{
	char id[LL_SESSION_ID_LEN + 1];
	uint8_t mac[LL_HASH_LEN], ticket[LL_HASH_LEN];
	struct ll_session_new s = {
		.id = id,
		.org_id = f->org,
		.technician_id = f->tech,
		.lock = "any",
		.pin_mac = mac,
		.agent_ticket_hash = ticket,
		.created_at = at,
		.expires_at = at + 1200,
	};

	make_id(id, n);
	fill(mac, pin);
	fill(ticket, 0x80 + (int)n);
	return ll_store_session_create(f->st, &s);
}

/* ---- open, migrations ---- */

static void test_open_fresh_reopen(struct fx *f, gconstpointer data)
{
	struct stat sb;
	sqlite3_stmt *s;
	sqlite3 *db;
	int64_t id = 0;

	/* Fresh file: migrated, WAL, private. */
	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==,
			SCHEMA_VERSION);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM sqlite_schema"
				    " WHERE name IN ('orgs', 'technicians',"
				    " 'tokens', 'sessions', 'audit')"),
			==, 5);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM sqlite_schema"
				    " WHERE type = 'trigger'"),
			==, 5);
	g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s,
					   NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(s), ==, SQLITE_ROW);
	g_assert_cmpstr((const char *)sqlite3_column_text(s, 0), ==, "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
	g_assert_cmpint(g_stat(f->path, &sb), ==, 0);
	g_assert_cmpint(sb.st_mode & 0777, ==, 0600);

	/* Reopening keeps the data and runs no migration twice; a dropped
	 * append-only trigger comes back. */
	ll_store_close(f->st);
	db = raw_open(f->path);
	g_assert_cmpint(raw_exec(db, "DROP TRIGGER audit_no_delete"), ==,
			SQLITE_OK);
	sqlite3_close(db);
	g_assert_cmpint(ll_store_open(f->path, &f->st), ==, LL_OK);
	g_assert_cmpint(ll_store_org_find(f->st, "acme", &id), ==, LL_OK);
	g_assert_cmpint(id, ==, f->org);
	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==,
			SCHEMA_VERSION);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM sqlite_schema"
				    " WHERE type = 'trigger'"),
			==, 5);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM orgs"), ==, 1);
	sqlite3_close(db);
	g_assert_cmpstr(ll_store_errmsg(NULL), ==, "no store");
	g_assert_nonnull(ll_store_errmsg(f->st));
}

static void test_open_newer(struct fx *f, gconstpointer data)
{
	struct ll_store *st = (struct ll_store *)&st;
	struct ll_store *const canary = st;
	char *junk;
	sqlite3 *db;

	ll_store_close(f->st);
	f->st = NULL;
	db = raw_open(f->path);
	g_assert_cmpint(raw_exec(db, "PRAGMA user_version = 999"), ==,
			SQLITE_OK);
	sqlite3_close(db);
	g_assert_cmpint(ll_store_open(f->path, &st), ==,
			LL_ERR_SCHEMA_VERSION);
	g_assert_true(st == canary);
	/* The file was left alone. */
	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==, 999);
	sqlite3_close(db);

	/* Not a database at all. */
	junk = g_build_filename(f->dir, "junk.db", NULL);
	g_assert_true(g_file_set_contents(junk,
					  "this is not SQLite, it is "
					  "a text file long enough to "
					  "have a header............",
					  -1, NULL));
	g_assert_cmpint(ll_store_open(junk, &st), ==, LL_ERR_STORE);
	g_assert_true(st == canary);
	g_unlink(junk);
	g_free(junk);

	/* A directory that does not exist. */
	junk = g_build_filename(f->dir, "nope", "x.db", NULL);
	g_assert_cmpint(ll_store_open(junk, &st), ==, LL_ERR_IO);
	g_free(junk);
	g_assert_cmpint(ll_store_open(NULL, &st), ==, LL_ERR_INVALID_ARG);
}

/* ---- transactions ---- */

static void test_transactions(struct fx *f, gconstpointer data)
{
	int64_t id;

	g_assert_cmpint(ll_store_commit(f->st), ==, LL_ERR_INVALID_ARG);
	ll_store_rollback(f->st); /* no-op outside a transaction */

	/* Inner rollback undoes only the inner part. */
	g_assert_cmpint(ll_store_begin(f->st), ==, LL_OK);
	g_assert_cmpint(ll_store_org_create(f->st, "a", 1, NULL), ==, LL_OK);
	g_assert_cmpint(ll_store_begin(f->st), ==, LL_OK);
	g_assert_cmpint(ll_store_org_create(f->st, "b", 1, NULL), ==, LL_OK);
	ll_store_rollback(f->st);
	g_assert_cmpint(ll_store_begin(f->st), ==, LL_OK);
	g_assert_cmpint(ll_store_org_create(f->st, "c", 1, NULL), ==, LL_OK);
	g_assert_cmpint(ll_store_commit(f->st), ==, LL_OK);
	g_assert_cmpint(ll_store_commit(f->st), ==, LL_OK);
	g_assert_cmpint(ll_store_org_find(f->st, "a", &id), ==, LL_OK);
	g_assert_cmpint(ll_store_org_find(f->st, "b", &id), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_org_find(f->st, "c", &id), ==, LL_OK);

	/* Outer rollback undoes everything, committed inner levels too. */
	g_assert_cmpint(ll_store_begin(f->st), ==, LL_OK);
	g_assert_cmpint(ll_store_org_create(f->st, "d", 1, NULL), ==, LL_OK);
	g_assert_cmpint(ll_store_begin(f->st), ==, LL_OK);
	g_assert_cmpint(ll_store_org_create(f->st, "e", 1, NULL), ==, LL_OK);
	g_assert_cmpint(ll_store_commit(f->st), ==, LL_OK);
	ll_store_rollback(f->st);
	g_assert_cmpint(ll_store_org_find(f->st, "d", &id), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_org_find(f->st, "e", &id), ==,
			LL_ERR_NOT_FOUND);

	/* A failing call inside a transaction leaves the rest intact. */
	g_assert_cmpint(ll_store_begin(f->st), ==, LL_OK);
	g_assert_cmpint(ll_store_org_create(f->st, "f", 1, NULL), ==, LL_OK);
	g_assert_cmpint(ll_store_org_create(f->st, "f", 1, NULL), ==,
			LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_commit(f->st), ==, LL_OK);
	g_assert_cmpint(ll_store_org_find(f->st, "f", &id), ==, LL_OK);
}

/* Two handles on one file, as relay and admin CLI: writes interleave. */
static void test_two_handles(struct fx *f, gconstpointer data)
{
	struct ll_audit_event ev = { .actor = "cli",
				     .action = "x",
				     .outcome = "ok" };
	struct ll_store *other = NULL;
	int64_t n = 0, id;
	int i;

	g_assert_cmpint(ll_store_open(f->path, &other), ==, LL_OK);
	for (i = 0; i < 10; i++) {
		g_assert_cmpint(ll_store_audit_append(i % 2 ? other : f->st,
						      &ev, 1000 + i),
				==, LL_OK);
	}
	g_assert_cmpint(ll_store_org_create(other, "beta", 1, NULL), ==,
			LL_OK);
	g_assert_cmpint(ll_store_org_find(f->st, "beta", &id), ==, LL_OK);
	g_assert_cmpint(ll_store_audit_verify(f->st, &n, NULL), ==, LL_OK);
	g_assert_cmpint(n, ==, 10);
	ll_store_close(other);
}

/* ---- orgs ---- */

static void test_orgs(struct fx *f, gconstpointer data)
{
	int64_t id = -7, id2;
	char *name = NULL;

	g_assert_cmpint(ll_store_org_default(f->st, &id), ==, LL_OK);
	g_assert_cmpint(id, ==, f->org);
	g_assert_cmpint(ll_store_org_name(f->st, f->org, &name), ==, LL_OK);
	g_assert_cmpstr(name, ==, "acme");
	free(name);
	name = NULL;

	g_assert_cmpint(ll_store_org_create(f->st, "acme", 5, NULL), ==,
			LL_ERR_CONFLICT);
	g_assert_nonnull(strstr(ll_store_errmsg(f->st), "UNIQUE"));
	g_assert_cmpint(ll_store_org_create(f->st, "", 5, NULL), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_store_org_create(f->st, NULL, 5, NULL), ==,
			LL_ERR_INVALID_ARG);
	id = -7;
	g_assert_cmpint(ll_store_org_find(f->st, "nobody", &id), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(id, ==, -7);
	g_assert_cmpint(ll_store_org_name(f->st, 999, &name), ==,
			LL_ERR_NOT_FOUND);
	g_assert_null(name);

	/* Two orgs: no default. */
	g_assert_cmpint(ll_store_org_create(f->st, "globex", 5, &id2), ==,
			LL_OK);
	g_assert_cmpint(id2, !=, f->org);
	g_assert_cmpint(ll_store_org_default(f->st, &id), ==, LL_ERR_CONFLICT);
	g_assert_cmpint(id, ==, -7);
	g_assert_cmpint(ll_store_org_find(f->st, "globex", &id), ==, LL_OK);
	g_assert_cmpint(id, ==, id2);
}

static void test_org_default_empty(void)
{
	char *dir = g_dir_make_tmp("store-empty-XXXXXX", NULL);
	char *path = g_build_filename(dir, "s.db", NULL);
	char *wal = g_strconcat(path, "-wal", NULL);
	char *shm = g_strconcat(path, "-shm", NULL);
	struct ll_store *st = NULL;
	int64_t id = -7;

	g_assert_cmpint(ll_store_open(path, &st), ==, LL_OK);
	g_assert_cmpint(ll_store_org_default(st, &id), ==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(id, ==, -7);
	ll_store_close(st);
	ll_store_close(NULL);
	g_unlink(path);
	g_unlink(wal);
	g_unlink(shm);
	g_rmdir(dir);
	g_free(wal);
	g_free(shm);
	g_free(path);
	g_free(dir);
}

/* ---- technicians ---- */

static void test_technicians(struct fx *f, gconstpointer data)
{
	struct ll_technician *t = NULL, **list = NULL;
	int64_t globex, bob, alice2;
	size_t n = 0;

	g_assert_cmpint(ll_store_technician_find(f->st, f->org, "alice", &t),
			==, LL_OK);
	g_assert_cmpint(t->id, ==, f->tech);
	g_assert_cmpint(t->org_id, ==, f->org);
	g_assert_cmpstr(t->org_name, ==, "acme");
	g_assert_cmpstr(t->username, ==, "alice");
	g_assert_cmpstr(t->pw_hash, ==, "$argon2id$x");
	g_assert_false(t->is_admin);
	g_assert_false(t->disabled);
	g_assert_cmpint(t->created_at, ==, 100);
	ll_technician_free(t);
	t = NULL;
	ll_technician_free(NULL);

	/* Unique per org, not globally. */
	g_assert_cmpint(ll_store_technician_add(f->st, f->org, "alice", "h",
						true, 1, NULL),
			==, LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_org_create(f->st, "globex", 1, &globex), ==,
			LL_OK);
	g_assert_cmpint(ll_store_technician_add(f->st, globex, "alice", "h",
						true, 1, &alice2),
			==, LL_OK);
	g_assert_cmpint(alice2, !=, f->tech);
	g_assert_cmpint(ll_store_technician_add(f->st, f->org, "bob", "h2",
						true, 2, &bob),
			==, LL_OK);
	/* No such org; bad arguments. */
	g_assert_cmpint(ll_store_technician_add(f->st, 999, "carol", "h",
						false, 1, NULL),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_technician_add(f->st, f->org, "", "h", false,
						1, NULL),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_store_technician_add(f->st, f->org, "x", NULL,
						false, 1, NULL),
			==, LL_ERR_INVALID_ARG);

	g_assert_cmpint(ll_store_technician_get(f->st, bob, &t), ==, LL_OK);
	g_assert_cmpstr(t->username, ==, "bob");
	g_assert_true(t->is_admin);
	ll_technician_free(t);
	t = NULL;
	g_assert_cmpint(ll_store_technician_get(f->st, 999, &t), ==,
			LL_ERR_NOT_FOUND);
	g_assert_null(t);
	g_assert_cmpint(ll_store_technician_find(f->st, f->org, "carol", &t),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_technician_find(f->st, globex, "bob", &t), ==,
			LL_ERR_NOT_FOUND);
	g_assert_null(t);

	/* Disable and enable. */
	g_assert_cmpint(ll_store_technician_set_disabled(f->st, f->org, "bob",
							 true),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_get(f->st, bob, &t), ==, LL_OK);
	g_assert_true(t->disabled);
	ll_technician_free(t);
	g_assert_cmpint(ll_store_technician_set_disabled(f->st, f->org, "bob",
							 false),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_get(f->st, bob, &t), ==, LL_OK);
	g_assert_false(t->disabled);
	ll_technician_free(t);
	g_assert_cmpint(ll_store_technician_set_disabled(f->st, f->org,
							 "carol", true),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_technician_set_disabled(f->st, globex, "bob",
							 true),
			==, LL_ERR_NOT_FOUND);

	/* Lists: one org, then all (by org name, then user name). */
	g_assert_cmpint(ll_store_technician_list(f->st, f->org, &list, &n), ==,
			LL_OK);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpstr(list[0]->username, ==, "alice");
	g_assert_cmpstr(list[1]->username, ==, "bob");
	ll_technician_list_free(list, n);
	g_assert_cmpint(ll_store_technician_list(f->st, 0, &list, &n), ==,
			LL_OK);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpstr(list[2]->org_name, ==, "globex");
	ll_technician_list_free(list, n);
	g_assert_cmpint(ll_store_technician_list(f->st, 999, &list, &n), ==,
			LL_OK);
	g_assert_cmpuint(n, ==, 0);
	ll_technician_list_free(list, n);
	ll_technician_list_free(NULL, 0);
}

/* ---- tokens ---- */

static void test_technician_password(struct fx *f, gconstpointer data)
{
	struct ll_technician *t = NULL;

	g_assert_cmpint(ll_store_technician_set_password(f->st, f->org,
							 "alice", "$new"),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_find(f->st, f->org, "alice", &t),
			==, LL_OK);
	g_assert_cmpstr(t->pw_hash, ==, "$new");
	ll_technician_free(t);
	g_assert_cmpint(ll_store_technician_set_password(f->st, f->org,
							 "nobody", "$x"),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_technician_set_password(f->st, f->org + 99,
							 "alice", "$x"),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_technician_set_password(f->st, f->org,
							 "alice", NULL),
			==, LL_ERR_INVALID_ARG);
}

/* A one-time password: set by `technician add/passwd` without stdin,
 * cleared by an administrator's choice or the technician's own change,
 * which only replaces the hash it was checked against. */
static void test_technician_one_time(struct fx *f, gconstpointer data)
{
	struct ll_technician *t = NULL;

	g_assert_cmpint(ll_store_technician_get(f->st, f->tech, &t), ==,
			LL_OK);
	g_assert_false(t->must_change_password);
	g_assert_cmpint(t->password_expires_at, ==, 0);
	ll_technician_free(t);

	g_assert_cmpint(ll_store_technician_set_one_time(f->st, f->tech, 500),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_find(f->st, f->org, "alice", &t),
			==, LL_OK);
	g_assert_true(t->must_change_password);
	g_assert_cmpint(t->password_expires_at, ==, 500);
	ll_technician_free(t);
	g_assert_cmpint(ll_store_technician_set_one_time(f->st, f->tech + 99,
							 500),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_technician_set_one_time(f->st, f->tech, 0),
			==, LL_ERR_INVALID_ARG);

	/* Changed meanwhile: the old hash no longer matches. */
	g_assert_cmpint(ll_store_technician_change_password(f->st, f->tech,
							    "$argon2id$other",
							    "$mine"),
			==, LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_technician_change_password(
				f->st, f->tech + 99, "$argon2id$x", "$mine"),
			==, LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_technician_change_password(f->st, f->tech,
							    "$argon2id$x",
							    "$mine"),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_get(f->st, f->tech, &t), ==,
			LL_OK);
	g_assert_cmpstr(t->pw_hash, ==, "$mine");
	g_assert_false(t->must_change_password);
	g_assert_cmpint(t->password_expires_at, ==, 0);
	ll_technician_free(t);

	/* An administrator's password is no one-time password either. */
	g_assert_cmpint(ll_store_technician_set_one_time(f->st, f->tech, 700),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_set_password(f->st, f->org,
							 "alice", "$admin"),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_get(f->st, f->tech, &t), ==,
			LL_OK);
	g_assert_false(t->must_change_password);
	g_assert_cmpint(t->password_expires_at, ==, 0);
	ll_technician_free(t);
}

/*
 * What each migration added, newest first, to take a store back to the
 * version before it: the migrations only ever add (migrate.c), so a
 * store that loses them is what an older relay made.  Version 1 (until
 * the keyed audit chain) also made only the first two append-only
 * triggers; the others come with every open now.
 */
static const char *const added_by[] = {
	[12] = "DROP TABLE chat_lines;", /* the chat migration */
	[11] = "ALTER TABLE tech_groups DROP COLUMN end_user_cidrs;",
	[10] = "DROP TABLE at_rest_state;",
	[9] = "ALTER TABLE technicians DROP COLUMN directory_dn;"
	      "ALTER TABLE technicians DROP COLUMN directory_disabled;",
	[8] = "DROP INDEX technicians_group;"
	      "ALTER TABLE technicians DROP COLUMN group_id;"
	      "ALTER TABLE sessions DROP COLUMN permissions;"
	      "DROP TABLE tech_groups;",
	[7] = "DROP TABLE technician_mfa;"
	      "DROP TABLE mfa_recovery_codes;"
	      "DROP TABLE mfa_challenges;",
	[6] = "ALTER TABLE technicians DROP COLUMN display_name;"
	      "ALTER TABLE orgs DROP COLUMN display_name;",
	[5] = "DROP TABLE channels;"
	      "DROP TABLE queue_entries;",
	[4] = "DROP TABLE org_policy;"
	      "DROP INDEX sessions_live_technician;"
	      "DROP INDEX sessions_live_org;",
	[3] = "ALTER TABLE technicians DROP COLUMN must_change_password;"
	      "ALTER TABLE technicians DROP COLUMN password_expires_at;",
	[2] = "DROP INDEX audit_keyed;"
	      "DROP TRIGGER audit_extend_only;"
	      "DROP TRIGGER audit_head_follows;"
	      "DROP TRIGGER audit_head_no_update;",
};

/* Takes the store at path back to the version `to`, as an older relay
 * left it. */
static void store_take_back(const char *path, int to)
{
	sqlite3 *db = raw_open(path);
	char *pragma;
	int k;

	for (k = SCHEMA_VERSION; k > to; k--)
		g_assert_cmpint(raw_exec(db, added_by[k]), ==, SQLITE_OK);
	pragma = g_strdup_printf("PRAGMA user_version = %d", to);
	g_assert_cmpint(raw_exec(db, pragma), ==, SQLITE_OK);
	g_free(pragma);
	sqlite3_close(db);
}

/* A file made before one-time passwords (schema 2) gets the columns,
 * every existing password staying valid as it was. */
static void test_migrate_one_time(struct fx *f, gconstpointer data)
{
	struct ll_technician *t = NULL;
	sqlite3 *db;

	ll_store_close(f->st);
	f->st = NULL;
	store_take_back(f->path, 2);
	g_assert_cmpint(ll_store_open(f->path, &f->st), ==, LL_OK);
	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==,
			SCHEMA_VERSION);
	sqlite3_close(db);
	g_assert_cmpint(ll_store_technician_get(f->st, f->tech, &t), ==,
			LL_OK);
	g_assert_cmpstr(t->pw_hash, ==, "$argon2id$x");
	g_assert_false(t->must_change_password);
	g_assert_cmpint(t->password_expires_at, ==, 0);
	ll_technician_free(t);
}

/* A file made before display names (schema 5) gets the columns, empty:
 * every technician and org reads NULL (shown in plain words), and
 * setting them works. */
static void test_migrate_display_names(struct fx *f, gconstpointer data)
{
	struct ll_technician *t = NULL;
	char *v = (char *)"untouched";
	sqlite3 *db;

	ll_store_close(f->st);
	f->st = NULL;
	store_take_back(f->path, 5);
	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM pragma_table_info("
				    "'technicians') WHERE name ="
				    " 'display_name'"),
			==, 0);
	sqlite3_close(db);
	g_assert_cmpint(ll_store_open(f->path, &f->st), ==, LL_OK);
	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==,
			SCHEMA_VERSION);
	sqlite3_close(db);
	g_assert_cmpint(ll_store_technician_get(f->st, f->tech, &t), ==,
			LL_OK);
	g_assert_cmpstr(t->username, ==, "alice");
	g_assert_null(t->display_name);
	g_assert_null(t->org_display_name);
	ll_technician_free(t);
	g_assert_cmpint(ll_store_org_display_name(f->st, f->org, &v), ==,
			LL_OK);
	g_assert_null(v);

	g_assert_cmpint(ll_store_technician_set_display_name(f->st, f->tech,
							     "Alice Smith"),
			==, LL_OK);
	g_assert_cmpint(ll_store_org_set_display_name(f->st, f->org,
						      "ACME IT"),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_get(f->st, f->tech, &t), ==,
			LL_OK);
	g_assert_cmpstr(t->display_name, ==, "Alice Smith");
	g_assert_cmpstr(t->org_display_name, ==, "ACME IT");
	ll_technician_free(t);
	g_assert_cmpint(ll_store_org_display_name(f->st, f->org, &v), ==,
			LL_OK);
	g_assert_cmpstr(v, ==, "ACME IT");
	free(v);
	/* NULL takes it away again; unknown ids are not found */
	g_assert_cmpint(ll_store_technician_set_display_name(f->st, f->tech,
							     NULL),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_get(f->st, f->tech, &t), ==,
			LL_OK);
	g_assert_null(t->display_name);
	ll_technician_free(t);
	g_assert_cmpint(ll_store_technician_set_display_name(f->st, 9999, "x"),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_org_set_display_name(f->st, 9999, "x"), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_org_display_name(f->st, 9999, &v), ==,
			LL_ERR_NOT_FOUND);
}

/*
 * The relay's start: connected sessions, and waiting ones whose ticket
 * spent its stream, end as relay_restart; a waiting session that opened
 * no stream (its agent may still come) and ended ones are left alone.
 */
static void test_session_end_orphaned(struct fx *f, gconstpointer data)
{
	char id[4][LL_SESSION_ID_LEN + 1];
	struct ll_session *s = NULL;
	char **ids = NULL;
	size_t n = 0;
	unsigned i;

	for (i = 0; i < 4; i++) {
		make_id(id[i], i + 1);
		g_assert_cmpint(new_session(f, i + 1, 0x20 + (int)i, 1000), ==,
				LL_OK);
	}
	/* 1: connected; 2: the agent's stream opened, waiting; 3: nothing
	 * opened; 4: connected, then ended */
	g_assert_cmpint(ll_store_session_claim_stream(f->st, id[0],
						      LL_SIDE_AGENT),
			==, LL_OK);
	g_assert_cmpint(ll_store_session_set_connected(f->st, id[0], 1010), ==,
			LL_OK);
	g_assert_cmpint(ll_store_session_claim_stream(f->st, id[1],
						      LL_SIDE_AGENT),
			==, LL_OK);
	g_assert_cmpint(ll_store_session_set_connected(f->st, id[3], 1010), ==,
			LL_OK);
	g_assert_cmpint(ll_store_session_end(f->st, id[3], 1020, "closed", 0,
					     0),
			==, LL_OK);

	g_assert_cmpint(ll_store_session_end_orphaned(f->st, 1100,
						      "relay_restart", &ids,
						      &n),
			==, LL_OK);
	g_assert_cmpuint(n, ==, 2);
	for (i = 0; i < 2; i++) {
		g_assert_true(strcmp(ids[i], id[0]) == 0 ||
			      strcmp(ids[i], id[1]) == 0);
		free(ids[i]);
	}
	free(ids);
	for (i = 0; i < 4; i++) {
		g_assert_cmpint(ll_store_session_get(f->st, id[i], &s), ==,
				LL_OK);
		if (i < 2) {
			g_assert_cmpint(s->state, ==, LL_SESSION_ENDED);
			g_assert_cmpstr(s->end_reason, ==, "relay_restart");
			g_assert_cmpint(s->ended_at, ==, 1100);
		} else if (i == 2) {
			g_assert_cmpint(s->state, ==, LL_SESSION_WAITING);
		} else {
			g_assert_cmpstr(s->end_reason, ==, "closed");
		}
		ll_session_free(s);
		s = NULL;
	}
	/* Nothing left to end the second time. */
	g_assert_cmpint(ll_store_session_end_orphaned(f->st, 1200,
						      "relay_restart", &ids,
						      &n),
			==, LL_OK);
	g_assert_cmpuint(n, ==, 0);
	free(ids);
}

/* Groups: per org, unique names, members counted, removal refused while
 * technicians are in one; a technician's group and its permissions come
 * with the technician; live sessions carrying more than their
 * technician's group holds are found. */
static void test_groups(struct fx *f, gconstpointer data)
{
	struct ll_technician *t = NULL;
	struct ll_group **list = NULL, *g = NULL;
	int64_t other = 0, gid = 0;
	size_t n = 0;

	g_assert_cmpint(ll_store_org_create(f->st, "other", 100, &other), ==,
			LL_OK);
	g_assert_cmpint(ll_store_group_add(f->st, f->org, "helpdesk", 0x3, 100,
					   &gid),
			==, LL_OK);
	g_assert_cmpint(gid, >, 0);
	g_assert_cmpint(ll_store_group_add(f->st, f->org, "helpdesk", 0x1, 100,
					   NULL),
			==, LL_ERR_CONFLICT);
	/* the same name in another org is another group */
	g_assert_cmpint(ll_store_group_add(f->st, other, "helpdesk", 0x1, 100,
					   NULL),
			==, LL_OK);
	g_assert_cmpint(ll_store_group_add(f->st, f->org, "", 0x1, 100, NULL),
			==, LL_ERR_INVALID_ARG);

	/* no group: NULL name, no permissions of its own */
	g_assert_cmpint(ll_store_technician_get(f->st, f->tech, &t), ==,
			LL_OK);
	g_assert_null(t->group_name);
	g_assert_cmpuint(t->group_permissions, ==, 0);
	ll_technician_free(t);
	t = NULL;

	/* another org's group, an unknown group, an unknown technician */
	g_assert_cmpint(ll_store_technician_set_group(f->st, f->org, "alice",
						      "nope"),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_technician_set_group(f->st, other, "alice",
						      "helpdesk"),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_technician_set_group(f->st, f->org, "bob",
						      "helpdesk"),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_technician_set_group(f->st, f->org, "alice",
						      "helpdesk"),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_find(f->st, f->org, "alice", &t),
			==, LL_OK);
	g_assert_cmpstr(t->group_name, ==, "helpdesk");
	g_assert_cmpuint(t->group_permissions, ==, 0x3);
	g_assert_null(t->group_end_user_cidrs);
	ll_technician_free(t);
	t = NULL;

	/* the group's end-user ranges: the technician sees them; "" is none */
	g_assert_cmpint(ll_store_group_set_end_user_cidrs(f->st, f->org,
							  "nope",
							  "10.0.0.0/8"),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_group_set_end_user_cidrs(f->st, f->org,
							  "helpdesk",
							  "10.0.0.0/8"),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_find(f->st, f->org, "alice", &t),
			==, LL_OK);
	g_assert_cmpstr(t->group_end_user_cidrs, ==, "10.0.0.0/8");
	ll_technician_free(t);
	t = NULL;
	g_assert_cmpint(ll_store_group_find(f->st, f->org, "helpdesk", &g), ==,
			LL_OK);
	g_assert_cmpstr(g->end_user_cidrs, ==, "10.0.0.0/8");
	ll_group_free(g);
	g = NULL;
	g_assert_cmpint(ll_store_group_set_end_user_cidrs(f->st, f->org,
							  "helpdesk", ""),
			==, LL_OK);
	g_assert_cmpint(ll_store_group_find(f->st, f->org, "helpdesk", &g), ==,
			LL_OK);
	g_assert_null(g->end_user_cidrs);
	ll_group_free(g);
	g = NULL;

	g_assert_cmpint(ll_store_group_list(f->st, f->org, &list, &n), ==,
			LL_OK);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpstr(list[0]->name, ==, "helpdesk");
	g_assert_cmpstr(list[0]->org_name, ==, "acme");
	g_assert_cmpint(list[0]->members, ==, 1);
	g_assert_cmpuint(list[0]->permissions, ==, 0x3);
	ll_group_list_free(list, n);
	g_assert_cmpint(ll_store_group_list(f->st, 0, &list, &n), ==, LL_OK);
	g_assert_cmpuint(n, ==, 2);
	ll_group_list_free(list, n);

	/* removal: refused with members, then done */
	g_assert_cmpint(ll_store_technician_set_group(f->st, f->org, "alice",
						      "helpdesk"),
			==, LL_OK);
	g_assert_cmpint(ll_store_group_remove(f->st, f->org, "helpdesk"), ==,
			LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_group_find(f->st, f->org, "helpdesk", &g), ==,
			LL_OK);
	g_assert_cmpint(g->members, ==, 1);
	ll_group_free(g);
	g_assert_cmpint(ll_store_technician_set_group(f->st, f->org, "alice",
						      NULL),
			==, LL_OK);
	g_assert_cmpint(ll_store_group_remove(f->st, f->org, "helpdesk"), ==,
			LL_OK);
	g_assert_cmpint(ll_store_group_remove(f->st, f->org, "helpdesk"), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_group_find(f->st, other, "helpdesk", &g), ==,
			LL_OK);
	ll_group_free(g);
}

/* A session keeps the permissions it was made with; those past what its
 * technician's group (or no group) holds now are found, live ones only. */
static void test_groups_sessions(struct fx *f, gconstpointer data)
{
	struct ll_session *s = NULL;
	char id[LL_SESSION_ID_LEN + 1];
	uint8_t mac[LL_HASH_LEN], ticket[LL_HASH_LEN];
	struct ll_session_new sn = {
		.id = id,
		.org_id = f->org,
		.technician_id = f->tech,
		.lock = "any",
		.pin_mac = mac,
		.agent_ticket_hash = ticket,
		.created_at = 1000,
		.expires_at = 2200,
		.permissions = 0x3, /* view, control */
	};
	char **ids = NULL;
	size_t n = 0;

	g_assert_cmpint(ll_store_group_add(f->st, f->org, "helpdesk", 0x3, 100,
					   NULL),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_set_group(f->st, f->org, "alice",
						      "helpdesk"),
			==, LL_OK);
	/* a session carries what it was made with */
	make_id(id, 7);
	fill(mac, 0x70);
	fill(ticket, 0x71);
	g_assert_cmpint(ll_store_session_create(f->st, &sn), ==, LL_OK);
	g_assert_cmpint(ll_store_session_get(f->st, id, &s), ==, LL_OK);
	g_assert_cmpuint(s->permissions, ==, 0x3);
	ll_session_free(s);
	g_assert_cmpint(ll_store_session_live_not_permitted(f->st, 0x1f, &ids,
							    &n),
			==, LL_OK);
	g_assert_cmpuint(n, ==, 0);
	free(ids);

	/* the group loses control: the session is past its permissions */
	g_assert_cmpint(ll_store_group_set_permissions(f->st, f->org,
						       "helpdesk", 0x1),
			==, LL_OK);
	g_assert_cmpint(ll_store_group_set_permissions(f->st, f->org, "nope",
						       0x1),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_session_live_not_permitted(f->st, 0x1f, &ids,
							    &n),
			==, LL_OK);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpstr(ids[0], ==, id);
	free(ids[0]);
	free(ids);
	/* out of the group: no group holds no_group */
	g_assert_cmpint(ll_store_technician_set_group(f->st, f->org, "alice",
						      NULL),
			==, LL_OK);
	g_assert_cmpint(ll_store_session_live_not_permitted(f->st, 0x1f, &ids,
							    &n),
			==, LL_OK);
	g_assert_cmpuint(n, ==, 0);
	free(ids);
	g_assert_cmpint(ll_store_session_live_not_permitted(f->st, 0x1, &ids,
							    &n),
			==, LL_OK);
	g_assert_cmpuint(n, ==, 1);
	free(ids[0]);
	free(ids);
	/* an ended session is no longer looked at */
	g_assert_cmpint(ll_store_session_end(f->st, id, 1100, "closed", 0, 0),
			==, LL_OK);
	g_assert_cmpint(ll_store_session_live_not_permitted(f->st, 0x1, &ids,
							    &n),
			==, LL_OK);
	g_assert_cmpuint(n, ==, 0);
	free(ids);
}

/* A password change keeps the token it was made with, and no other. */
static void test_tokens_but_one(struct fx *f, gconstpointer data)
{
	uint8_t a[LL_HASH_LEN], b[LL_HASH_LEN], c[LL_HASH_LEN];
	int64_t bob = 0, who = 0;

	fill(a, 1);
	fill(b, 2);
	fill(c, 3);
	g_assert_cmpint(ll_store_technician_add(f->st, f->org, "bob", "h",
						false, 100, &bob),
			==, LL_OK);
	g_assert_cmpint(ll_store_token_add(f->st, a, f->tech, 100, 10000), ==,
			LL_OK);
	g_assert_cmpint(ll_store_token_add(f->st, b, f->tech, 100, 10000), ==,
			LL_OK);
	g_assert_cmpint(ll_store_token_add(f->st, c, bob, 100, 10000), ==,
			LL_OK);
	g_assert_cmpint(ll_store_token_delete_for_technician_but(f->st,
								 f->tech, b),
			==, LL_OK);
	g_assert_cmpint(ll_store_token_check(f->st, a, 200, 0, &who), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_token_check(f->st, b, 200, 0, &who), ==,
			LL_OK);
	g_assert_cmpint(who, ==, f->tech);
	g_assert_cmpint(ll_store_token_check(f->st, c, 200, 0, &who), ==,
			LL_OK);
	g_assert_cmpint(who, ==, bob);
}

static void test_tokens(struct fx *f, gconstpointer data)
{
	uint8_t a[LL_HASH_LEN], b[LL_HASH_LEN], c[LL_HASH_LEN];
	int64_t who = -7;

	fill(a, 0xa1);
	fill(b, 0xb2);
	fill(c, 0xc3);
	g_assert_cmpint(ll_store_token_add(f->st, a, f->tech, 1000, 5000), ==,
			LL_OK);
	g_assert_cmpint(ll_store_token_add(f->st, a, f->tech, 1000, 5000), ==,
			LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_token_add(f->st, c, 999, 1000, 5000), ==,
			LL_ERR_NOT_FOUND);

	/* Idle timeout 600: each use moves the window. */
	g_assert_cmpint(ll_store_token_check(f->st, a, 1500, 600, &who), ==,
			LL_OK);
	g_assert_cmpint(who, ==, f->tech);
	g_assert_cmpint(ll_store_token_check(f->st, a, 2100, 600, &who), ==,
			LL_OK);
	g_assert_cmpint(ll_store_token_check(f->st, a, 2700, 600, &who), ==,
			LL_OK);
	/* Idle 601 s: expired, and gone for good. */
	who = -7;
	g_assert_cmpint(ll_store_token_check(f->st, a, 3301, 600, &who), ==,
			LL_ERR_EXPIRED);
	g_assert_cmpint(who, ==, -7);
	g_assert_cmpint(ll_store_token_check(f->st, a, 3302, 600, &who), ==,
			LL_ERR_NOT_FOUND);

	/* Absolute expiry, used constantly. */
	g_assert_cmpint(ll_store_token_add(f->st, b, f->tech, 1000, 2000), ==,
			LL_OK);
	g_assert_cmpint(ll_store_token_check(f->st, b, 1500, 600, &who), ==,
			LL_OK);
	g_assert_cmpint(ll_store_token_check(f->st, b, 1999, 600, &who), ==,
			LL_OK);
	g_assert_cmpint(ll_store_token_check(f->st, b, 2000, 600, &who), ==,
			LL_ERR_EXPIRED);
	g_assert_cmpint(ll_store_token_check(f->st, b, 2000, 600, &who), ==,
			LL_ERR_NOT_FOUND);

	/* Unknown, delete, delete for a technician. */
	g_assert_cmpint(ll_store_token_check(f->st, c, 1000, 600, &who), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_token_add(f->st, c, f->tech, 1000, 5000), ==,
			LL_OK);
	g_assert_cmpint(ll_store_token_delete(f->st, c), ==, LL_OK);
	g_assert_cmpint(ll_store_token_delete(f->st, c), ==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_token_check(f->st, c, 1001, 600, &who), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_token_add(f->st, a, f->tech, 1000, 5000), ==,
			LL_OK);
	g_assert_cmpint(ll_store_token_add(f->st, b, f->tech, 1000, 5000), ==,
			LL_OK);
	g_assert_cmpint(ll_store_token_delete_for_technician(f->st, f->tech),
			==, LL_OK);
	g_assert_cmpint(ll_store_token_check(f->st, a, 1001, 0, &who), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_token_check(f->st, b, 1001, 0, &who), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_token_check(f->st, NULL, 1, 0, &who), ==,
			LL_ERR_INVALID_ARG);
}

/* ---- sessions ---- */

static void test_session_create(struct fx *f, gconstpointer data)
{
	char id[LL_SESSION_ID_LEN + 1];
	uint8_t mac[LL_HASH_LEN], ticket[LL_HASH_LEN];
	struct ll_session *s = NULL;
	struct ll_session_new n = {
		.id = id,
		.org_id = f->org,
		.technician_id = f->tech,
		.lock = "website",
		.pin_mac = mac,
		.agent_ticket_hash = ticket,
		.created_at = 10,
		.expires_at = 20,
	};

	g_assert_cmpint(new_session(f, 1, 0x11, 1000), ==, LL_OK);
	g_assert_cmpint(ll_store_session_get(
				f->st, "00000000000000000000000000000001", &s),
			==, LL_OK);
	g_assert_cmpstr(s->id, ==, "00000000000000000000000000000001");
	g_assert_cmpint(s->org_id, ==, f->org);
	g_assert_cmpint(s->technician_id, ==, f->tech);
	g_assert_cmpstr(s->lock, ==, "any");
	g_assert_cmpint(s->state, ==, LL_SESSION_WAITING);
	g_assert_false(s->pin_used);
	g_assert_cmpint(s->created_at, ==, 1000);
	g_assert_cmpint(s->expires_at, ==, 2200);
	g_assert_cmpint(s->redeemed_at, ==, 0);
	g_assert_null(s->end_reason);
	g_assert_false(s->agent_stream_used);
	ll_session_free(s);
	ll_session_free(NULL);

	/* Same live PIN: conflict, whoever asks. */
	g_assert_cmpint(new_session(f, 2, 0x11, 1100), ==, LL_ERR_CONFLICT);
	/* Same id or same agent ticket: conflict too. */
	make_id(id, 1);
	fill(mac, 0x12);
	fill(ticket, 0x99);
	g_assert_cmpint(ll_store_session_create(f->st, &n), ==,
			LL_ERR_CONFLICT);
	make_id(id, 3);
	fill(ticket, 0x81); /* session 1's */
	g_assert_cmpint(ll_store_session_create(f->st, &n), ==,
			LL_ERR_CONFLICT);

	/* Once expired (even before session_expire ran), the PIN is free. */
	g_assert_cmpint(new_session(f, 4, 0x11, 2200), ==, LL_OK);
	/* Once redeemed, too. */
	fill(ticket, 0x44);
	g_assert_cmpint(ll_store_session_redeem(
				f->st, "00000000000000000000000000000004",
				ticket, 2300),
			==, LL_OK);
	g_assert_cmpint(new_session(f, 5, 0x11, 2300), ==, LL_OK);
	/* Newest of the three sessions that had the PIN. */
	fill(mac, 0x11);
	g_assert_cmpint(ll_store_session_find_by_pin(f->st, mac, &s), ==,
			LL_OK);
	g_assert_cmpstr(s->id, ==, "00000000000000000000000000000005");
	ll_session_free(s);
	s = NULL;
	fill(mac, 0x77);
	g_assert_cmpint(ll_store_session_find_by_pin(f->st, mac, &s), ==,
			LL_ERR_NOT_FOUND);
	g_assert_null(s);

	/* Bad arguments. */
	fill(ticket, 0x55);
	n.id = "xyz";
	g_assert_cmpint(ll_store_session_create(f->st, &n), ==,
			LL_ERR_INVALID_ARG);
	n.id = "000000000000000000000000000000000"; /* 33 */
	g_assert_cmpint(ll_store_session_create(f->st, &n), ==,
			LL_ERR_INVALID_ARG);
	n.id = "0000000000000000000000000000000g";
	g_assert_cmpint(ll_store_session_create(f->st, &n), ==,
			LL_ERR_INVALID_ARG);
	n.id = id;
	n.lock = "sometimes";
	g_assert_cmpint(ll_store_session_create(f->st, &n), ==,
			LL_ERR_INVALID_ARG);
	n.lock = "shortcut";
	n.technician_id = 999;
	g_assert_cmpint(ll_store_session_create(f->st, &n), ==,
			LL_ERR_NOT_FOUND);
	n.technician_id = f->tech;
	g_assert_cmpint(ll_store_session_create(f->st, &n), ==, LL_OK);
	g_assert_cmpint(ll_store_session_create(f->st, NULL), ==,
			LL_ERR_INVALID_ARG);
}

static void test_session_redeem(struct fx *f, gconstpointer data)
{
	const char *id1 = "00000000000000000000000000000001";
	const char *id2 = "00000000000000000000000000000002";
	const char *id3 = "00000000000000000000000000000003";
	uint8_t t1[LL_HASH_LEN], t2[LL_HASH_LEN], agent[LL_HASH_LEN];
	enum ll_side side = LL_SIDE_APPLET;
	struct ll_session *s = NULL;

	g_assert_cmpint(new_session(f, 1, 0x11, 1000), ==, LL_OK);
	g_assert_cmpint(new_session(f, 2, 0x22, 1000), ==, LL_OK);
	g_assert_cmpint(new_session(f, 3, 0x33, 1000), ==, LL_OK);
	fill(t1, 0x01);
	fill(t2, 0x02);

	/* Single use. */
	g_assert_cmpint(ll_store_session_redeem(f->st, id1, t1, 1100), ==,
			LL_OK);
	g_assert_cmpint(ll_store_session_redeem(f->st, id1, t2, 1101), ==,
			LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_session_get(f->st, id1, &s), ==, LL_OK);
	g_assert_true(s->pin_used);
	g_assert_cmpint(s->redeemed_at, ==, 1100);
	ll_session_free(s);

	/* The tickets lead to their session and side. */
	g_assert_cmpint(ll_store_session_find_by_ticket(f->st, t1, &s, &side),
			==, LL_OK);
	g_assert_cmpstr(s->id, ==, id1);
	g_assert_cmpint(side, ==, LL_SIDE_APPLET);
	ll_session_free(s);
	fill(agent, 0x81);
	g_assert_cmpint(ll_store_session_find_by_ticket(f->st, agent, &s,
							&side),
			==, LL_OK);
	g_assert_cmpstr(s->id, ==, id1);
	g_assert_cmpint(side, ==, LL_SIDE_AGENT);
	ll_session_free(s);
	s = NULL;
	g_assert_cmpint(ll_store_session_find_by_ticket(f->st, t2, &s, &side),
			==, LL_ERR_NOT_FOUND);
	g_assert_null(s);

	/* An applet ticket already bound elsewhere cannot be reused. */
	g_assert_cmpint(ll_store_session_redeem(f->st, id2, t1, 1100), ==,
			LL_ERR_CONFLICT);
	/* Past its lifetime. */
	g_assert_cmpint(ll_store_session_redeem(f->st, id2, t2, 2200), ==,
			LL_ERR_EXPIRED);
	g_assert_cmpint(ll_store_session_redeem(f->st, id2, t2, 2199), ==,
			LL_OK);
	/* Ended before redeem. */
	g_assert_cmpint(ll_store_session_end(f->st, id3, 1200, "deleted", 0,
					     0),
			==, LL_OK);
	fill(t2, 0x03);
	g_assert_cmpint(ll_store_session_redeem(f->st, id3, t2, 1300), ==,
			LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_session_redeem(
				f->st, "0000000000000000000000000000abcd", t2,
				1300),
			==, LL_ERR_NOT_FOUND);
}

static void test_session_claim(struct fx *f, gconstpointer data)
{
	const char *id1 = "00000000000000000000000000000001";
	const char *id2 = "00000000000000000000000000000002";
	struct ll_session *s = NULL;

	g_assert_cmpint(new_session(f, 1, 0x11, 1000), ==, LL_OK);
	g_assert_cmpint(new_session(f, 2, 0x22, 1000), ==, LL_OK);
	g_assert_cmpint(ll_store_session_claim_stream(f->st, id1,
						      LL_SIDE_AGENT),
			==, LL_OK);
	g_assert_cmpint(ll_store_session_claim_stream(f->st, id1,
						      LL_SIDE_AGENT),
			==, LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_session_claim_stream(f->st, id1,
						      LL_SIDE_APPLET),
			==, LL_OK);
	g_assert_cmpint(ll_store_session_claim_stream(f->st, id1,
						      LL_SIDE_APPLET),
			==, LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_session_get(f->st, id1, &s), ==, LL_OK);
	g_assert_true(s->agent_stream_used);
	g_assert_true(s->applet_stream_used);
	ll_session_free(s);
	/* Once connected, each side may come back (the relay's grace). */
	g_assert_cmpint(ll_store_session_set_connected(f->st, id1, 1010), ==,
			LL_OK);
	g_assert_cmpint(ll_store_session_claim_stream(f->st, id1,
						      LL_SIDE_AGENT),
			==, LL_OK);
	g_assert_cmpint(ll_store_session_claim_stream(f->st, id1,
						      LL_SIDE_APPLET),
			==, LL_OK);

	g_assert_cmpint(ll_store_session_end(f->st, id2, 1100, "x", 0, 0), ==,
			LL_OK);
	g_assert_cmpint(ll_store_session_claim_stream(f->st, id2,
						      LL_SIDE_AGENT),
			==, LL_ERR_EXPIRED);
	g_assert_cmpint(ll_store_session_claim_stream(
				f->st, "0000000000000000000000000000abcd",
				LL_SIDE_AGENT),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_session_claim_stream(f->st, id1,
						      (enum ll_side)7),
			==, LL_ERR_INVALID_ARG);
}

static void test_session_lifecycle(struct fx *f, gconstpointer data)
{
	const char *id1 = "00000000000000000000000000000001";
	const char *id2 = "00000000000000000000000000000002";
	const char *id3 = "00000000000000000000000000000003";
	struct ll_session *s = NULL, **list = NULL;
	uint8_t t[LL_HASH_LEN];
	char **ids = NULL;
	size_t n = 0;
	int64_t bob;

	g_assert_cmpint(new_session(f, 1, 0x11, 1000), ==, LL_OK);
	g_assert_cmpint(new_session(f, 2, 0x22, 1001), ==, LL_OK);
	g_assert_cmpint(new_session(f, 3, 0x33, 1002), ==, LL_OK);
	fill(t, 0x01);
	g_assert_cmpint(ll_store_session_redeem(f->st, id1, t, 1010), ==,
			LL_OK);

	/* Connected, then ended with its counters; ending twice is a
	 * no-op that keeps the first record. */
	g_assert_cmpint(ll_store_session_set_connected(f->st, id1, 1020), ==,
			LL_OK);
	g_assert_cmpint(ll_store_session_set_connected(f->st, id1, 1021), ==,
			LL_OK);
	g_assert_cmpint(ll_store_session_get(f->st, id1, &s), ==, LL_OK);
	g_assert_cmpint(s->state, ==, LL_SESSION_CONNECTED);
	g_assert_cmpint(s->connected_at, ==, 1020);
	ll_session_free(s);
	g_assert_cmpint(ll_store_session_end(f->st, id1, 1100, "agent_left",
					     123456789012ULL, UINT64_MAX),
			==, LL_OK);
	g_assert_cmpint(ll_store_session_end(f->st, id1, 1200, "again", 1, 1),
			==, LL_OK);
	g_assert_cmpint(ll_store_session_get(f->st, id1, &s), ==, LL_OK);
	g_assert_cmpint(s->state, ==, LL_SESSION_ENDED);
	g_assert_cmpint(s->ended_at, ==, 1100);
	g_assert_cmpstr(s->end_reason, ==, "agent_left");
	g_assert_cmpuint(s->bytes_agent_to_applet, ==, 123456789012ULL);
	g_assert_cmpuint(s->bytes_applet_to_agent, ==, (uint64_t)INT64_MAX);
	ll_session_free(s);
	g_assert_cmpint(ll_store_session_set_connected(f->st, id1, 1300), ==,
			LL_ERR_CONFLICT);
	g_assert_cmpint(
		ll_store_session_end(f->st, "0000000000000000000000000000abcd",
				     1, NULL, 0, 0),
		==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_session_set_connected(
				f->st, "0000000000000000000000000000abcd", 1),
			==, LL_ERR_NOT_FOUND);

	/* Expiry: only waiting, unredeemed sessions past their PIN life. */
	fill(t, 0x03);
	g_assert_cmpint(ll_store_session_redeem(f->st, id3, t, 1010), ==,
			LL_OK);
	g_assert_cmpint(ll_store_session_expire(f->st, 2200), ==, LL_OK);
	g_assert_cmpint(ll_store_session_get(f->st, id2, &s), ==, LL_OK);
	g_assert_cmpint(s->state, ==, LL_SESSION_WAITING);
	ll_session_free(s);
	{
		char **gone = NULL;
		size_t n_gone = 99;

		g_assert_cmpint(ll_store_session_expire_list(f->st, 2201,
							     &gone, &n_gone),
				==, LL_OK);
		/* Only the unredeemed PIN expires, and only once. */
		g_assert_cmpuint(n_gone, ==, 1);
		g_assert_cmpstr(gone[0], ==, id2);
		free(gone[0]);
		free(gone);
		g_assert_cmpint(ll_store_session_expire_list(f->st, 2201,
							     &gone, &n_gone),
				==, LL_OK);
		g_assert_cmpuint(n_gone, ==, 0);
		free(gone);
	}
	g_assert_cmpint(ll_store_session_get(f->st, id2, &s), ==, LL_OK);
	g_assert_cmpint(s->state, ==, LL_SESSION_EXPIRED);
	g_assert_cmpstr(ll_session_state_name(s->state), ==, "expired");
	ll_session_free(s);
	g_assert_cmpint(ll_store_session_get(f->st, id3, &s), ==, LL_OK);
	g_assert_cmpint(s->state, ==, LL_SESSION_WAITING);
	ll_session_free(s);
	s = NULL;
	g_assert_cmpint(ll_store_session_get(f->st, "nope", &s), ==,
			LL_ERR_NOT_FOUND);
	g_assert_null(s);

	/* Newest first, limited. */
	g_assert_cmpint(ll_store_session_list(f->st, f->tech, 10, &list, &n),
			==, LL_OK);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpstr(list[0]->id, ==, id3);
	g_assert_cmpstr(list[2]->id, ==, id1);
	ll_session_list_free(list, n);
	g_assert_cmpint(ll_store_session_list(f->st, f->tech, 1, &list, &n),
			==, LL_OK);
	g_assert_cmpuint(n, ==, 1);
	ll_session_list_free(list, n);
	g_assert_cmpint(ll_store_session_list(f->st, 999, 10, &list, &n), ==,
			LL_OK);
	g_assert_cmpuint(n, ==, 0);
	ll_session_list_free(list, n);

	/* Live sessions of disabled technicians: alice's id3 only (id1
	 * ended, id2 expired); bob's session counts once he is disabled. */
	g_assert_cmpint(ll_store_technician_add(f->st, f->org, "bob", "h",
						false, 1, &bob),
			==, LL_OK);
	g_assert_cmpint(ll_store_session_live_of_disabled(f->st, &ids, &n), ==,
			LL_OK);
	g_assert_cmpuint(n, ==, 0);
	free(ids);
	g_assert_cmpint(ll_store_technician_set_disabled(f->st, f->org,
							 "alice", true),
			==, LL_OK);
	g_assert_cmpint(ll_store_session_live_of_disabled(f->st, &ids, &n), ==,
			LL_OK);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpstr(ids[0], ==, id3);
	free(ids[0]);
	free(ids);

	g_assert_cmpstr(ll_session_state_name(LL_SESSION_WAITING), ==,
			"waiting");
	g_assert_cmpstr(ll_session_state_name(LL_SESSION_CONNECTED), ==,
			"connected");
	g_assert_cmpstr(ll_session_state_name(LL_SESSION_ENDED), ==, "ended");
	g_assert_cmpstr(ll_session_state_name((enum ll_session_state)9), ==,
			"unknown");
}

/* Live PINs per technician and org; redeemed sessions that never connect
 * expire one PIN lifetime after the redeem. */
static void test_session_limits(struct fx *f, gconstpointer data)
{
	char id1[LL_SESSION_ID_LEN + 1], id2[LL_SESSION_ID_LEN + 1];
	uint8_t t[LL_HASH_LEN];
	int64_t n = -1, first = -1;
	char **ids = NULL;
	size_t n_ids = 99;
	struct ll_session *s = NULL;

	make_id(id1, 1);
	make_id(id2, 2);
	g_assert_cmpint(ll_store_pins_live_of_technician(f->st, f->tech, 1000,
							 &n, &first),
			==, LL_OK);
	g_assert_cmpint(n, ==, 0);
	g_assert_cmpint(first, ==, 0);
	g_assert_cmpint(new_session(f, 1, 0x11, 1000), ==, LL_OK);
	g_assert_cmpint(new_session(f, 2, 0x12, 1000), ==, LL_OK);
	g_assert_cmpint(new_session(f, 3, 0x13, 1100), ==, LL_OK);
	g_assert_cmpint(ll_store_pins_live_of_technician(f->st, f->tech, 1100,
							 &n, &first),
			==, LL_OK);
	g_assert_cmpint(n, ==, 3);
	g_assert_cmpint(first, ==, 2200);
	/* a redeemed PIN is not live */
	fill(t, 0x41);
	g_assert_cmpint(ll_store_session_redeem(f->st, id1, t, 1010), ==,
			LL_OK);
	fill(t, 0x42);
	g_assert_cmpint(ll_store_session_redeem(f->st, id2, t, 1020), ==,
			LL_OK);
	g_assert_cmpint(ll_store_pins_live_of_org(f->st, f->org, 1100, &n,
						  &first),
			==, LL_OK);
	g_assert_cmpint(n, ==, 1);
	g_assert_cmpint(first, ==, 2300);
	/* nor is an expired one, swept or not */
	g_assert_cmpint(ll_store_pins_live_of_org(f->st, f->org, 2300, &n,
						  &first),
			==, LL_OK);
	g_assert_cmpint(n, ==, 0);
	g_assert_cmpint(ll_store_pins_live_of_org(f->st, 999, 1100, &n,
						  &first),
			==, LL_OK);
	g_assert_cmpint(n, ==, 0);

	/* id2 connects; id1 never does and expires at 1010 + 1200 */
	g_assert_cmpint(ll_store_session_set_connected(f->st, id2, 1030), ==,
			LL_OK);
	g_assert_cmpint(ll_store_session_expire_unconnected(f->st, 2209, 1200,
							    &ids, &n_ids),
			==, LL_OK);
	g_assert_cmpuint(n_ids, ==, 0);
	free(ids);
	g_assert_cmpint(ll_store_session_expire_unconnected(f->st, 2210, 1200,
							    &ids, &n_ids),
			==, LL_OK);
	g_assert_cmpuint(n_ids, ==, 1);
	g_assert_cmpstr(ids[0], ==, id1);
	free(ids[0]);
	free(ids);
	g_assert_cmpint(ll_store_session_expire_unconnected(f->st, 9999, 1200,
							    &ids, &n_ids),
			==, LL_OK);
	g_assert_cmpuint(n_ids, ==, 0);
	free(ids);
	g_assert_cmpint(ll_store_session_get(f->st, id1, &s), ==, LL_OK);
	g_assert_cmpint(s->state, ==, LL_SESSION_EXPIRED);
	g_assert_cmpint(s->ended_at, ==, 2210);
	ll_session_free(s);
	g_assert_cmpint(ll_store_session_get(f->st, id2, &s), ==, LL_OK);
	g_assert_cmpint(s->state, ==, LL_SESSION_CONNECTED);
	ll_session_free(s);
}

/* ---- audit ---- */

static void append_n(struct fx *f, int n, int64_t ts0)
{
	int i;

	for (i = 0; i < n; i++) {
		char detail[64];
		struct ll_audit_event ev = {
			.org_id = i % 3 ? f->org : 0,
			.actor = "technician:alice",
			.action = i % 2 ? "login" : "pin.create",
			.outcome = i % 5 ? "ok" : "unauthorized",
			.source_ip = i % 4 ? "192.0.2.7" : NULL,
			.session_id =
				i % 2 ? NULL
				      : "00000000000000000000000000000001",
			.detail_json = detail,
		};

		snprintf(detail, sizeof(detail), "{\"n\":%d}", i);
		if (i % 7 == 0)
			ev.detail_json = NULL;
		g_assert_cmpint(ll_store_audit_append(f->st, &ev, ts0 + i), ==,
				LL_OK);
	}
}

static void put64(GByteArray *b, int64_t v)
{
	uint8_t x[8];
	int i;

	for (i = 0; i < 8; i++)
		x[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
	g_byte_array_append(b, x, 8);
}

static void putstr(GByteArray *b, const char *s)
{
	uint8_t h[5] = { 0 };
	size_t n;

	if (s == NULL) {
		g_byte_array_append(b, h, 1);
		return;
	}
	n = strlen(s);
	h[0] = 1;
	h[1] = (uint8_t)(n >> 24);
	h[2] = (uint8_t)(n >> 16);
	h[3] = (uint8_t)(n >> 8);
	h[4] = (uint8_t)n;
	g_byte_array_append(b, h, 5);
	g_byte_array_append(b, (const uint8_t *)s, (guint)n);
}

/* The first record's hash, computed here from the documented encoding,
 * is what the store wrote. */
static void test_audit_encoding(struct fx *f, gconstpointer data)
{
	struct ll_audit_event ev = {
		.org_id = f->org,
		.actor = "cli",
		.action = "technician.add",
		.outcome = "ok",
		.source_ip = NULL,
		.session_id = "",
		.detail_json = "{\"user\":\"bob\"}",
	};
	GByteArray *b = g_byte_array_new();
	uint8_t zero[32] = { 0 }, want[32];
	sqlite3_stmt *s;
	sqlite3 *db;

	g_assert_cmpint(ll_store_audit_append(f->st, &ev, 1700000000), ==,
			LL_OK);
	g_byte_array_append(b, zero, 32);
	g_byte_array_append(b, (const uint8_t *)"LLA1", 4);
	put64(b, 1);
	put64(b, 1700000000);
	put64(b, f->org);
	putstr(b, "cli");
	putstr(b, "technician.add");
	putstr(b, "ok");
	putstr(b, NULL);
	putstr(b, "");
	putstr(b, "{\"user\":\"bob\"}");
	g_assert_cmpint(ll_sha256(b->data, b->len, want), ==, LL_OK);
	g_byte_array_unref(b);

	db = raw_open(f->path);
	g_assert_cmpint(sqlite3_prepare_v2(db,
					   "SELECT prev_hash, hash FROM"
					   " audit WHERE seq = 1",
					   -1, &s, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(s), ==, SQLITE_ROW);
	g_assert_cmpmem(sqlite3_column_blob(s, 0), sqlite3_column_bytes(s, 0),
			zero, 32);
	g_assert_cmpmem(sqlite3_column_blob(s, 1), sqlite3_column_bytes(s, 1),
			want, 32);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void test_audit_chain(struct fx *f, gconstpointer data)
{
	struct ll_audit_event ev = { .actor = "a",
				     .action = "b",
				     .outcome = "ok" };
	int64_t n = -1, bad = -1;
	char *big;

	/* Empty: intact, zero records. */
	g_assert_cmpint(ll_store_audit_verify(f->st, &n, &bad), ==, LL_OK);
	g_assert_cmpint(n, ==, 0);
	g_assert_cmpint(bad, ==, -1);
	append_n(f, 50, 1000);
	g_assert_cmpint(ll_store_audit_verify(f->st, &n, &bad), ==, LL_OK);
	g_assert_cmpint(n, ==, 50);

	/* Inside a caller's transaction, rolled back with it. */
	g_assert_cmpint(ll_store_begin(f->st), ==, LL_OK);
	g_assert_cmpint(ll_store_audit_append(f->st, &ev, 2000), ==, LL_OK);
	ll_store_rollback(f->st);
	g_assert_cmpint(ll_store_begin(f->st), ==, LL_OK);
	g_assert_cmpint(ll_store_audit_append(f->st, &ev, 2000), ==, LL_OK);
	g_assert_cmpint(ll_store_audit_verify(f->st, &n, &bad), ==, LL_OK);
	g_assert_cmpint(ll_store_commit(f->st), ==, LL_OK);
	g_assert_cmpint(ll_store_audit_verify(f->st, &n, &bad), ==, LL_OK);
	g_assert_cmpint(n, ==, 51);

	/* Refused events write nothing. */
	ev.actor = NULL;
	g_assert_cmpint(ll_store_audit_append(f->st, &ev, 1), ==,
			LL_ERR_INVALID_ARG);
	ev.actor = "a";
	ev.detail_json = "{not json";
	g_assert_cmpint(ll_store_audit_append(f->st, &ev, 1), ==,
			LL_ERR_INVALID_ARG);
	ev.detail_json = "[1, 2]";
	g_assert_cmpint(ll_store_audit_append(f->st, &ev, 1), ==,
			LL_ERR_INVALID_ARG);
	big = g_strnfill(70000, 'x');
	ev.detail_json = NULL;
	ev.source_ip = big;
	g_assert_cmpint(ll_store_audit_append(f->st, &ev, 1), ==,
			LL_ERR_TOO_LARGE);
	g_free(big);
	g_assert_cmpint(ll_store_audit_append(f->st, NULL, 1), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_store_audit_verify(f->st, &n, &bad), ==, LL_OK);
	g_assert_cmpint(n, ==, 51);
	g_assert_cmpint(bad, ==, -1);
}

/* Runs sql through a plain connection, then expects verify to name
 * bad_seq. */
static void expect_tamper(struct fx *f, const char *sql, int64_t bad_seq)
{
	int64_t n = -1, bad = -1;
	sqlite3 *db = raw_open(f->path);
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		g_error("%s: %s", sql, msg);
	sqlite3_close(db);
	g_assert_cmpint(ll_store_audit_verify(f->st, &n, &bad), ==,
			LL_ERR_AUTH_FAILED);
	g_assert_cmpint(bad, ==, bad_seq);
	g_assert_cmpint(n, ==, -1);
}

#define UNLOCK                                                                \
	"DROP TRIGGER IF EXISTS audit_no_update;"                             \
	"DROP TRIGGER IF EXISTS audit_no_delete;"                             \
	"DROP TRIGGER IF EXISTS audit_extend_only;"                           \
	"DROP TRIGGER IF EXISTS audit_head_follows;"                          \
	"DROP TRIGGER IF EXISTS audit_head_no_update;"

static void test_audit_triggers(struct fx *f, gconstpointer data)
{
	sqlite3 *db;

	append_n(f, 3, 1000);
	db = raw_open(f->path);
	g_assert_cmpint(raw_exec(db, "UPDATE audit SET outcome = 'ok'"
				     " WHERE seq = 2"),
			==, SQLITE_CONSTRAINT);
	g_assert_cmpint(raw_exec(db, "DELETE FROM audit WHERE seq = 2"), ==,
			SQLITE_CONSTRAINT);
	/* Inserts that do not extend the chain: a record put back in
	 * place, one with the next seq but another parent, one without a
	 * seq, and audit_head pointed elsewhere. */
	g_assert_cmpint(raw_exec(db, "INSERT OR REPLACE INTO audit"
				     " SELECT * FROM audit WHERE seq = 2"),
			==, SQLITE_CONSTRAINT);
	g_assert_cmpint(raw_exec(db, "INSERT INTO audit (seq, ts, actor,"
				     " action, outcome, prev_hash, hash)"
				     " VALUES (4, 1, 'a', 'b', 'ok',"
				     " zeroblob(32), zeroblob(32))"),
			==, SQLITE_CONSTRAINT);
	g_assert_cmpint(raw_exec(db, "INSERT INTO audit (ts, actor,"
				     " action, outcome, prev_hash, hash)"
				     " SELECT 1, 'a', 'b', 'ok', hash,"
				     " zeroblob(32) FROM audit WHERE seq = 3"),
			==, SQLITE_CONSTRAINT);
	g_assert_cmpint(raw_exec(db, "INSERT OR REPLACE INTO audit_head"
				     " SELECT 1, seq, hash FROM audit"
				     " WHERE seq = 2"),
			==, SQLITE_CONSTRAINT);
	g_assert_cmpint(raw_exec(db, "UPDATE audit_head SET seq = 2"), ==,
			SQLITE_CONSTRAINT);
	/* The one insert that extends it passes the trigger. */
	g_assert_cmpint(raw_exec(db, "INSERT INTO audit (seq, ts, actor,"
				     " action, outcome, prev_hash, hash)"
				     " SELECT 4, 1, 'a', 'b', 'ok', hash,"
				     " zeroblob(32) FROM audit WHERE seq = 3"),
			==, SQLITE_OK);
	sqlite3_close(db);
}

static const uint8_t test_key[LL_AUDIT_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* A keyed chain: the epoch starts with "audit.keyed"; records after it
 * are HMACs that whoever lacks the key cannot recompute. */
static void test_audit_keyed(struct fx *f, gconstpointer data)
{
	struct ll_audit_event ev = { .actor = "a",
				     .action = "b",
				     .outcome = "ok" };
	uint8_t other[LL_AUDIT_KEY_LEN] = { 9 };
	struct ll_audit_verify v;
	int64_t from = -1;

	append_n(f, 3, 1000); /* an old, unkeyed chain */
	g_assert_cmpint(ll_store_audit_set_key(f->st, test_key), ==, LL_OK);
	/* Holding the key, the epoch is started on purpose only. */
	g_assert_cmpint(ll_store_audit_append(f->st, &ev, 2000), ==,
			LL_ERR_CONFLICT);
	ev.action = "audit.keyed";
	g_assert_cmpint(ll_store_audit_append(f->st, &ev, 2000), ==,
			LL_ERR_INVALID_ARG);
	ev.action = "b";
	g_assert_cmpint(ll_store_audit_start_keyed(f->st, "cli", 2000), ==,
			LL_OK);
	g_assert_cmpint(ll_store_audit_start_keyed(f->st, "cli", 2000), ==,
			LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_audit_keyed_from(f->st, &from), ==, LL_OK);
	g_assert_cmpint(from, ==, 4);
	append_n(f, 3, 3000);
	g_assert_cmpint(ll_store_audit_verify_ex(f->st, &v), ==, LL_OK);
	g_assert_cmpint(v.fault, ==, LL_AUDIT_INTACT);
	g_assert_cmpint(v.n_records, ==, 7);
	g_assert_cmpint(v.keyed_from, ==, 4);
	g_assert_true(v.macs_checked);

	/* Without the key: links only, and no appending. */
	g_assert_cmpint(ll_store_audit_set_key(f->st, NULL), ==, LL_OK);
	g_assert_cmpint(ll_store_audit_verify_ex(f->st, &v), ==, LL_OK);
	g_assert_cmpint(v.fault, ==, LL_AUDIT_INTACT);
	g_assert_false(v.macs_checked);
	g_assert_cmpint(ll_store_audit_append(f->st, &ev, 4000), ==,
			LL_ERR_CONFIG);

	/* Another key: the epoch names the one it was made with. */
	g_assert_cmpint(ll_store_audit_set_key(f->st, other), ==, LL_OK);
	g_assert_cmpint(ll_store_audit_verify_ex(f->st, &v), ==, LL_OK);
	g_assert_cmpint(v.fault, ==, LL_AUDIT_KEY_MISMATCH);
	g_assert_cmpint(v.bad_seq, ==, 4);

	/* A keyed record edited, whatever the editor recomputes without
	 * the key, fails. */
	g_assert_cmpint(ll_store_audit_set_key(f->st, test_key), ==, LL_OK);
	expect_tamper(f, UNLOCK "UPDATE audit SET outcome = 'x' WHERE seq = 6",
		      6);
}

/* The whole chain rewritten without its keyed epoch: holding the key,
 * verify says the chain is not keyed. */
static void test_audit_keyed_stripped(struct fx *f, gconstpointer data)
{
	struct ll_audit_verify v;

	g_assert_cmpint(ll_store_audit_set_key(f->st, test_key), ==, LL_OK);
	g_assert_cmpint(ll_store_audit_verify_ex(f->st, &v), ==, LL_OK);
	g_assert_cmpint(v.fault, ==, LL_AUDIT_INTACT); /* empty */
	g_assert_cmpint(ll_store_audit_set_key(f->st, NULL), ==, LL_OK);
	append_n(f, 3, 1000);
	g_assert_cmpint(ll_store_audit_set_key(f->st, test_key), ==, LL_OK);
	g_assert_cmpint(ll_store_audit_verify_ex(f->st, &v), ==, LL_OK);
	g_assert_cmpint(v.fault, ==, LL_AUDIT_NOT_KEYED);
}

static void test_audit_tamper_fields(struct fx *f, gconstpointer data)
{
	static const char *const edits[] = {
		"UPDATE audit SET ts = ts + 1 WHERE seq = 4",
		"UPDATE audit SET org_id = 42 WHERE seq = 4",
		"UPDATE audit SET actor = 'technician:alicE' WHERE seq = 4",
		"UPDATE audit SET source_ip = '' WHERE seq = 4",
		"UPDATE audit SET session_id = '' WHERE seq = 4",
		"UPDATE audit SET detail = '{\"n\": 3}' WHERE seq = 4",
		"UPDATE audit SET hash = zeroblob(32) WHERE seq = 4",
		"UPDATE audit SET prev_hash = zeroblob(32) WHERE seq = 4",
		"UPDATE audit SET hash = x'00' WHERE seq = 4",
	};
	size_t i;

	append_n(f, 6, 1000);
	for (i = 0; i < G_N_ELEMENTS(edits); i++) {
		int64_t bad = -1;
		sqlite3 *db = raw_open(f->path);

		/* Keep the row, edit it, verify, put it back. */
		g_assert_cmpint(raw_exec(db, UNLOCK "CREATE TEMP TABLE keep AS"
						    " SELECT * FROM audit"
						    " WHERE seq = 4"),
				==, SQLITE_OK);
		g_assert_cmpint(raw_exec(db, edits[i]), ==, SQLITE_OK);
		g_assert_cmpint(sqlite3_changes(db), ==, 1);
		g_assert_cmpint(ll_store_audit_verify(f->st, NULL, &bad), ==,
				LL_ERR_AUTH_FAILED);
		g_assert_cmpint(bad, ==, 4);
		g_assert_cmpint(raw_exec(db,
					 "DELETE FROM audit WHERE seq = 4;"
					 "INSERT INTO audit SELECT * FROM"
					 " temp.keep; DROP TABLE temp.keep"),
				==, SQLITE_OK);
		sqlite3_close(db);
		g_assert_cmpint(ll_store_audit_verify(f->st, NULL, &bad), ==,
				LL_OK);
	}
}

/* One edit of the chain behind the store's back: n records appended,
 * then sql run; verify names bad_seq as the first bad record. */
struct tamper {
	const char *test; /* the test's name under /store/audit/ */
	int n;
	const char *sql;
	int64_t bad_seq;
};

static const struct tamper tampers[] = {
	{ "tamper_update", 10,
	  UNLOCK "UPDATE audit SET outcome = 'forbidden' WHERE seq = 5", 5 },
	/* A record in the middle: the next one no longer links. */
	{ "tamper_delete", 10, UNLOCK "DELETE FROM audit WHERE seq = 5", 6 },
	{ "tamper_delete_first", 10, UNLOCK "DELETE FROM audit WHERE seq = 1",
	  2 },
	/* The last records: the head still says 10. */
	{ "tamper_truncate", 10, UNLOCK "DELETE FROM audit WHERE seq >= 9",
	  9 },
	{ "tamper_wipe", 4, UNLOCK "DELETE FROM audit", 1 },
	/* Closing the gap by renumbering still breaks the link. */
	{ "tamper_renumber", 6,
	  UNLOCK "DELETE FROM audit WHERE seq = 3;"
		 "UPDATE audit SET seq = seq - 1 WHERE seq > 3",
	  3 },
};

static void test_audit_tamper(struct fx *f, gconstpointer data)
{
	const struct tamper *t = data;

	append_n(f, t->n, 1000);
	expect_tamper(f, t->sql, t->bad_seq);
}

static void test_audit_append_after_tamper(struct fx *f, gconstpointer data)
{
	struct ll_audit_event ev = { .actor = "a",
				     .action = "b",
				     .outcome = "ok" };
	int64_t bad = -1;

	append_n(f, 5, 1000);
	expect_tamper(f, UNLOCK "UPDATE audit SET actor = 'x' WHERE seq = 2",
		      2);
	/* Appending goes on, and the damage stays visible. */
	g_assert_cmpint(ll_store_audit_append(f->st, &ev, 3000), ==, LL_OK);
	g_assert_cmpint(ll_store_audit_verify(f->st, NULL, &bad), ==,
			LL_ERR_AUTH_FAILED);
	g_assert_cmpint(bad, ==, 2);
}

static void test_audit_append_after_bad_tail(struct fx *f, gconstpointer data)
{
	struct ll_audit_event ev = { .actor = "a",
				     .action = "b",
				     .outcome = "ok" };
	int64_t bad = -1;

	append_n(f, 3, 1000);
	/* A mangled newest hash must not stop the relay from auditing. */
	expect_tamper(f, UNLOCK "UPDATE audit SET hash = x'00' WHERE seq = 3",
		      3);
	g_assert_cmpint(ll_store_audit_append(f->st, &ev, 3000), ==, LL_OK);
	g_assert_cmpint(ll_store_audit_verify(f->st, NULL, &bad), ==,
			LL_ERR_AUTH_FAILED);
	g_assert_cmpint(bad, ==, 3);
}

static char *export_str(struct fx *f, const char *format, int64_t since,
			int *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	g_assert_nonnull(fp);
	*r = ll_store_audit_export(f->st, fp, format, since);
	fclose(fp);
	return buf;
}

static void test_audit_export(struct fx *f, gconstpointer data)
{
	struct ll_audit_event ev = {
		.org_id = 0,
		.actor = "anonymous",
		.action = "login",
		.outcome = "unauthorized",
		.source_ip = "198.51.100.9",
		.detail_json = "{\"user\":\"=cmd|' /C calc'!A0\","
			       "\"note\":\"a, \\\"b\\\"\\nc\"}",
	};
	char **lines;
	char *out;
	json_t *j;
	int r;

	append_n(f, 2, 1000); /* ts 1000, 1001 */
	g_assert_cmpint(ll_store_audit_append(f->st, &ev, 1700000000), ==,
			LL_OK);
	ev.actor = "-1+1";
	ev.detail_json = NULL;
	ev.source_ip = NULL;
	g_assert_cmpint(ll_store_audit_append(f->st, &ev, 1700000001), ==,
			LL_OK);

	/* JSON lines since 1001: three records. */
	out = export_str(f, "jsonl", 1001, &r);
	g_assert_cmpint(r, ==, LL_OK);
	lines = g_strsplit(out, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 4);
	g_assert_cmpstr(lines[3], ==, "");
	j = json_loads(lines[1], 0, NULL);
	g_assert_nonnull(j);
	g_assert_cmpint(json_integer_value(json_object_get(j, "seq")), ==, 3);
	g_assert_cmpstr(json_string_value(json_object_get(j, "time")), ==,
			"2023-11-14T22:13:20Z");
	g_assert_cmpstr(json_string_value(json_object_get(j, "actor")), ==,
			"anonymous");
	g_assert_cmpstr(json_string_value(json_object_get(j, "outcome")), ==,
			"unauthorized");
	g_assert_true(json_is_null(json_object_get(j, "session_id")));
	g_assert_cmpstr(json_string_value(
				json_object_get(json_object_get(j, "detail"),
						"note")),
			==, "a, \"b\"\nc");
	g_assert_cmpuint(strlen(json_string_value(json_object_get(j, "hash"))),
			 ==, 64);
	json_decref(j);
	j = json_loads(lines[0], 0, NULL);
	g_assert_cmpint(json_integer_value(json_object_get(j, "seq")), ==, 2);
	g_assert_cmpstr(json_string_value(json_object_get(j, "time")), ==,
			"1970-01-01T00:16:41Z");
	json_decref(j);
	g_strfreev(lines);
	free(out);

	/* CSV (RFC 4180: CRLF, quotes doubled, fields with , " or newline
	 * quoted), with spreadsheet formulas defused. */
	out = export_str(f, "csv", 1700000000, &r);
	g_assert_cmpint(r, ==, LL_OK);
	lines = g_strsplit(out, "\r\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 4);
	g_assert_cmpstr(lines[0], ==,
			"seq,time,org_id,actor,action,outcome,source_ip,"
			"session_id,detail,prev_hash,hash");
	g_assert_true(g_str_has_prefix(
		lines[1],
		"3,2023-11-14T22:13:20Z,0,anonymous,login,unauthorized,"
		"198.51.100.9,,\"{\"\"user\"\":\"\"=cmd|' /C calc'!A0\"\","
		"\"\"note\"\":\"\"a, \\\"\"b\\\"\"\\nc\"\"}\","));
	g_assert_true(
		g_str_has_prefix(lines[2],
				 "4,2023-11-14T22:13:21Z,0,\"'-1+1\",login,"
				 "unauthorized,,,,"));
	g_assert_cmpuint(strlen(lines[2]) - strlen("4,2023-11-14T22:13:21Z,0,"
						   "\"'-1+1\",login,"
						   "unauthorized,,,,"),
			 ==, 64 + 1 + 64);
	g_strfreev(lines);
	free(out);

	/* Nothing since the future: just the header; bad format refused. */
	out = export_str(f, "csv", 1800000000, &r);
	g_assert_cmpint(r, ==, LL_OK);
	g_assert_cmpstr(out, ==,
			"seq,time,org_id,actor,action,outcome,source_ip,"
			"session_id,detail,prev_hash,hash\r\n");
	free(out);
	out = export_str(f, "jsonl", 1800000000, &r);
	g_assert_cmpint(r, ==, LL_OK);
	g_assert_cmpstr(out, ==, "");
	free(out);
	out = export_str(f, "xml", 0, &r);
	g_assert_cmpint(r, ==, LL_ERR_INVALID_ARG);
	free(out);
}

/* ---- upgrades ---- */

/* The schema as text, ordered by name: what two stores must share. */
static char *schema_of(const char *path)
{
	GString *out = g_string_new(NULL);
	sqlite3 *db = raw_open(path);
	sqlite3_stmt *s;

	g_assert_cmpint(sqlite3_prepare_v2(db,
					   "SELECT type, name, sql FROM"
					   " sqlite_schema ORDER BY name",
					   -1, &s, NULL),
			==, SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(s, 0);
		const char *name = (const char *)sqlite3_column_text(s, 1);
		const char *sql = (const char *)sqlite3_column_text(s, 2);

		g_string_append_printf(out, "%s %s: %s\n", type, name,
				       sql ? sql : "-");
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return g_string_free(out, FALSE);
}

/*
 * A store made by an older relay (version 1: the first release; 2: the
 * keyed audit chain; 3: one-time passwords), with an org, a technician, a live PIN and audit
 * records, opened by this one: migrated to the newest version, the
 * same schema as a fresh store, its data kept, and what the newer
 * migrations brought works (an org policy; the live-PIN counts).
 */
static void test_open_upgrade(struct fx *f, gconstpointer data)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	const int from = GPOINTER_TO_INT(data);
	char *fresh_path = g_build_filename(f->dir, "fresh.db", NULL);
	char *want, *got, *v = NULL;
	struct ll_store *fresh = NULL;
	struct ll_audit_verify av;
	int64_t id = 0, n = -1, first = -1;
	sqlite3 *db;
	int k;

	g_assert_cmpint(new_session(f, 1, 0x11, 1000), ==, LL_OK);
	append_n(f, 5, 1000);
	ll_store_close(f->st);
	f->st = NULL;
	store_take_back(f->path, from);
	db = raw_open(f->path);
	if (from < 5)
		g_assert_cmpint(raw_int(db,
					"SELECT count(*) FROM sqlite_schema"
					" WHERE name = 'channels'"),
				==, 0);
	if (from < 4)
		g_assert_cmpint(raw_int(db,
					"SELECT count(*) FROM sqlite_schema"
					" WHERE name = 'org_policy'"),
				==, 0);
	sqlite3_close(db);

	g_assert_cmpint(ll_store_open(f->path, &f->st), ==, LL_OK);
	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==,
			SCHEMA_VERSION);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM sessions"), ==, 1);
	sqlite3_close(db);
	g_assert_cmpint(ll_store_open(fresh_path, &fresh), ==, LL_OK);
	ll_store_close(fresh);
	want = schema_of(fresh_path);
	got = schema_of(f->path);
	g_assert_cmpstr(got, ==, want);

	g_assert_cmpint(ll_store_org_find(f->st, "acme", &id), ==, LL_OK);
	g_assert_cmpint(id, ==, f->org);
	g_assert_cmpint(ll_store_audit_verify_ex(f->st, &av), ==, LL_OK);
	g_assert_cmpint(av.fault, ==, LL_AUDIT_INTACT);
	g_assert_cmpint(av.n_records, ==, 5);
	g_assert_cmpint(ll_store_policy_set(f->st, f->org, "pin_length", "8"),
			==, LL_OK);
	g_assert_cmpint(ll_store_policy_get(f->st, f->org, "pin_length", &v),
			==, LL_OK);
	g_assert_cmpstr(v, ==, "8");
	g_assert_cmpint(ll_store_pins_live_of_org(f->st, f->org, 1100, &n,
						  &first),
			==, LL_OK);
	g_assert_cmpint(n, ==, 1);
	g_assert_cmpint(first, ==, 2200);

	free(v);
	g_free(want);
	g_free(got);
	for (k = 0; k < (int)G_N_ELEMENTS(sfx); k++) {
		char *p = g_strconcat(fresh_path, sfx[k], NULL);

		g_unlink(p);
		g_free(p);
	}
	g_free(fresh_path);
}

/* ---- org policy ---- */

static void test_policy(struct fx *f, gconstpointer data)
{
	struct ll_policy_entry *list = NULL;
	char *v = (char *)"untouched";
	int64_t other = 0;
	size_t n = 0;

	g_assert_cmpint(ll_store_org_create(f->st, "other", 100, &other), ==,
			LL_OK);
	g_assert_cmpint(ll_store_policy_get(f->st, f->org, "pin_length", &v),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpstr(v, ==, "untouched");
	g_assert_cmpint(ll_store_policy_set(f->st, f->org, "pin_length", "8"),
			==, LL_OK);
	g_assert_cmpint(ll_store_policy_set(f->st, f->org, "a_key", "x"), ==,
			LL_OK);
	g_assert_cmpint(ll_store_policy_get(f->st, f->org, "pin_length", &v),
			==, LL_OK);
	g_assert_cmpstr(v, ==, "8");
	free(v);
	/* replaced, not added */
	g_assert_cmpint(ll_store_policy_set(f->st, f->org, "pin_length", "10"),
			==, LL_OK);
	g_assert_cmpint(ll_store_policy_list(f->st, f->org, &list, &n), ==,
			LL_OK);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpstr(list[0].key, ==, "a_key");
	g_assert_cmpstr(list[1].key, ==, "pin_length");
	g_assert_cmpstr(list[1].value, ==, "10");
	ll_policy_entries_free(list, n);
	/* per org */
	g_assert_cmpint(ll_store_policy_get(f->st, other, "pin_length", &v),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_policy_list(f->st, other, &list, &n), ==,
			LL_OK);
	g_assert_cmpuint(n, ==, 0);
	ll_policy_entries_free(list, n);
	/* unset */
	g_assert_cmpint(ll_store_policy_unset(f->st, f->org, "pin_length"), ==,
			LL_OK);
	g_assert_cmpint(ll_store_policy_unset(f->st, f->org, "pin_length"), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_policy_get(f->st, f->org, "pin_length", &v),
			==, LL_ERR_NOT_FOUND);
	/* an org that does not exist */
	g_assert_cmpint(ll_store_policy_set(f->st, 9999, "pin_length", "8"),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_policy_set(f->st, f->org, "", "8"), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_store_policy_set(f->st, f->org, "k", NULL), ==,
			LL_ERR_INVALID_ARG);
}

/* A waiting entry of channel ch, id made of c, created at t. */
static void queue_add(struct fx *f, int64_t ch, char c, int64_t t,
		      const char *ip)
{
	struct ll_queue_entry_new e = { 0 };
	char id[LL_SESSION_ID_LEN + 1];
	uint8_t th[LL_HASH_LEN];

	memset(id, c, LL_SESSION_ID_LEN);
	id[LL_SESSION_ID_LEN] = '\0';
	memset(th, c, sizeof(th));
	e.id = id;
	e.channel_id = ch;
	e.org_id = f->org;
	e.ticket_hash = th;
	e.description = "printer";
	e.source_ip = ip;
	e.created_at = t;
	e.expires_at = t + 3600;
	e.deadline = t + 30;
	g_assert_cmpint(ll_store_queue_add(f->st, &e), ==, LL_OK);
}

static void test_channels_queue(struct fx *f, gconstpointer data)
{
	uint8_t handle[LL_CHANNEL_HANDLE_LEN], th[LL_HASH_LEN];
	struct ll_queue_entry **list = NULL, *e = NULL;
	struct ll_channel *c = NULL;
	char **ids = NULL;
	int64_t ch = 0, n = 0;
	size_t k = 0;

	(void)data;
	memset(handle, 7, sizeof(handle));
	g_assert_cmpint(ll_store_channel_add(f->st, f->org, "desk", NULL,
					     handle, 100, &ch),
			==, LL_OK);
	g_assert_cmpint(ll_store_channel_add(f->st, f->org, "desk", "g",
					     handle, 100, NULL),
			==, LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_channel_by_handle(f->st, handle, &c), ==,
			LL_OK);
	g_assert_cmpint(c->id, ==, ch);
	g_assert_cmpstr(c->name, ==, "desk");
	g_assert_null(c->group_name);
	ll_channel_free(c);

	queue_add(f, ch, 'a', 1000, "192.0.2.1");
	queue_add(f, ch, 'b', 1001, "192.0.2.1");
	queue_add(f, ch, 'c', 1002, "192.0.2.2");
	g_assert_cmpint(ll_store_queue_count(f->st, f->org, NULL, 1010, &n),
			==, LL_OK);
	g_assert_cmpint(n, ==, 3);
	g_assert_cmpint(ll_store_queue_count(f->st, f->org, "192.0.2.1", 1010,
					     &n),
			==, LL_OK);
	g_assert_cmpint(n, ==, 2);
	memset(th, 'b', sizeof(th));
	g_assert_cmpint(ll_store_queue_by_ticket(f->st, th, &e), ==, LL_OK);
	g_assert_cmpstr(e->channel_name, ==, "desk");
	g_assert_cmpint(ll_store_queue_position(f->st, e, 1010, &n), ==,
			LL_OK);
	g_assert_cmpint(n, ==, 2);
	/* exactly one pickup wins */
	g_assert_cmpint(ll_store_queue_pickup(
				f->st, e->id, f->tech,
				"0123456789abcdef0123456789abcdef", 1010),
			==, LL_OK);
	g_assert_cmpint(ll_store_queue_pickup(
				f->st, e->id, f->tech,
				"0123456789abcdef0123456789abcdee", 1010),
			==, LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_queue_cancel(f->st, e->id, 1010), ==,
			LL_ERR_CONFLICT);
	ll_queue_entry_free(e);
	/* a deadline passed: not listed, expired by the sweep */
	g_assert_cmpint(
		ll_store_queue_touch(f->st, "cccccccccccccccccccccccccccccccc",
				     1100),
		==, LL_OK);
	g_assert_cmpint(ll_store_queue_list(f->st, f->org, 1050, 10, &list,
					    &k),
			==, LL_OK);
	g_assert_cmpuint(k, ==, 1);
	g_assert_cmpint(list[0]->id[0], ==, 'c');
	ll_queue_entry_list_free(list, k);
	g_assert_cmpint(ll_store_queue_expire(f->st, 1050, 0, &list, &k), ==,
			LL_OK);
	g_assert_cmpuint(k, ==, 1);
	g_assert_cmpint(list[0]->id[0], ==, 'a');
	ll_queue_entry_list_free(list, k);
	/* removing the channel cancels who still waits */
	g_assert_cmpint(ll_store_channel_remove(f->st, f->org, "desk", &ids,
						&k),
			==, LL_OK);
	g_assert_cmpuint(k, ==, 1);
	g_assert_cmpint(ids[0][0], ==, 'c');
	free(ids[0]);
	free(ids);
	g_assert_cmpint(ll_store_channel_remove(f->st, f->org, "desk", &ids,
						&k),
			==, LL_ERR_NOT_FOUND);
}

/* ---- second factor ---- */

/* Kept chat lines (ll_store_chat.h): only sealed bytes, in order. */
static void test_chat(struct fx *f, gconstpointer data)
{
	struct ll_chat_row *rows = NULL;
	uint8_t sealed[40];
	int64_t id = 0, id2 = 0, n = -1;
	size_t len = 0;

	memset(sealed, 0x5c, sizeof(sealed));
	g_assert_cmpint(ll_store_chat_insert(f->st, "s1", "user", 1000, &id),
			==, LL_OK);
	g_assert_cmpint(ll_store_chat_set_sealed(f->st, id, sealed,
						 sizeof(sealed)),
			==, LL_OK);
	g_assert_cmpint(ll_store_chat_insert(f->st, "s1", "technician", 2000,
					     &id2),
			==, LL_OK);
	g_assert_cmpint(ll_store_chat_insert(f->st, "s2", "user", 3000, &n),
			==, LL_OK);
	g_assert_cmpint(ll_store_chat_insert(f->st, "s1", "admin", 4000, &n),
			!=, LL_OK);
	g_assert_cmpint(ll_store_chat_set_sealed(f->st, 9999, sealed,
						 sizeof(sealed)),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_chat_set_sealed(f->st, id, sealed, 0), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_store_chat_count(f->st, "s1", &n), ==, LL_OK);
	g_assert_cmpint(n, ==, 2);
	g_assert_cmpint(ll_store_chat_list(f->st, "s1", &rows, &len), ==,
			LL_OK);
	g_assert_cmpuint(len, ==, 2);
	g_assert_cmpint(rows[0].id, ==, id);
	g_assert_cmpstr(rows[0].said_by, ==, "user");
	g_assert_cmpint(rows[0].said_at_ms, ==, 1000);
	g_assert_cmpmem(rows[0].sealed, rows[0].sealed_len, sealed,
			sizeof(sealed));
	g_assert_cmpuint(rows[1].sealed_len, ==, 0);
	ll_chat_rows_free(rows, len);
	g_assert_cmpint(ll_store_chat_list(f->st, NULL, &rows, &len), ==,
			LL_OK);
	g_assert_cmpuint(len, ==, 3);
	ll_chat_rows_free(rows, len);
}

static void test_mfa(struct fx *f, gconstpointer data)
{
	uint8_t a[40], b[48], mac[2][LL_HASH_LEN], h[LL_HASH_LEN];
	struct ll_mfa m;
	int64_t n = 0, tech = 0;
	int i;

	memset(a, 0xa1, sizeof(a));
	memset(b, 0xb2, sizeof(b));
	g_assert_cmpint(ll_store_mfa_get(f->st, f->tech, &m), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_mfa_confirm(f->st, f->tech, b, sizeof(b), 5,
					     100),
			==, LL_ERR_NOT_FOUND);
	/* Pending, then confirmed: the seed moves, the step is used. */
	g_assert_cmpint(ll_store_mfa_set_pending(f->st, f->tech, a, sizeof(a),
						 100),
			==, LL_OK);
	g_assert_cmpint(ll_store_mfa_get(f->st, f->tech, &m), ==, LL_OK);
	g_assert_cmpmem(m.pending_seed, m.pending_len, a, sizeof(a));
	g_assert_cmpuint(m.seed_len, ==, 0);
	g_assert_cmpint(m.last_step, ==, -1);
	g_assert_cmpint(ll_store_mfa_confirm(f->st, f->tech, b, sizeof(b), 5,
					     101),
			==, LL_OK);
	g_assert_cmpint(ll_store_mfa_get(f->st, f->tech, &m), ==, LL_OK);
	g_assert_cmpmem(m.seed, m.seed_len, b, sizeof(b));
	g_assert_cmpuint(m.pending_len, ==, 0);
	g_assert_cmpint(m.enabled_at, ==, 101);
	g_assert_cmpint(m.last_step, ==, 5);
	/* A step is good once, and only forward. */
	g_assert_cmpint(ll_store_mfa_use_step(f->st, f->tech, 5), ==,
			LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_mfa_use_step(f->st, f->tech, 4), ==,
			LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_mfa_use_step(f->st, f->tech, 6), ==, LL_OK);
	/* Failures lock on the 10th in a row; a good code clears them. */
	g_assert_cmpint(ll_store_mfa_fail(f->st, f->tech, 10, &m), ==, LL_OK);
	g_assert_cmpint(m.failures, ==, 1);
	g_assert_cmpint(ll_store_mfa_use_step(f->st, f->tech, 7), ==, LL_OK);
	g_assert_cmpint(ll_store_mfa_get(f->st, f->tech, &m), ==, LL_OK);
	g_assert_cmpint(m.failures, ==, 0);
	for (i = 1; i <= 10; i++) {
		g_assert_cmpint(ll_store_mfa_fail(f->st, f->tech, 10, &m), ==,
				LL_OK);
		g_assert_cmpint(m.failures, ==, i);
		g_assert_cmpint(m.locked, ==, i == 10);
	}
	g_assert_cmpint(ll_store_mfa_unlock(f->st, f->tech), ==, LL_OK);
	g_assert_cmpint(ll_store_mfa_get(f->st, f->tech, &m), ==, LL_OK);
	g_assert_false(m.locked);
	g_assert_cmpint(m.failures, ==, 0);
	/* Recovery codes: each good once; replaced as a set. */
	fill(mac[0], 1);
	fill(mac[1], 2);
	g_assert_cmpint(ll_store_mfa_recovery_set(f->st, f->tech, mac, 2), ==,
			LL_OK);
	g_assert_cmpint(ll_store_mfa_recovery_left(f->st, f->tech, &n), ==,
			LL_OK);
	g_assert_cmpint(n, ==, 2);
	g_assert_cmpint(ll_store_mfa_recovery_use(f->st, f->tech, mac[0], 9),
			==, LL_OK);
	g_assert_cmpint(ll_store_mfa_recovery_use(f->st, f->tech, mac[0], 9),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_mfa_recovery_left(f->st, f->tech, &n), ==,
			LL_OK);
	g_assert_cmpint(n, ==, 1);
	/* Challenges: found until they expire. */
	fill(h, 7);
	g_assert_cmpint(ll_store_mfa_challenge_add(f->st, h, f->tech, 100,
						   400),
			==, LL_OK);
	g_assert_cmpint(ll_store_mfa_challenge_get(f->st, h, 399, &tech), ==,
			LL_OK);
	g_assert_cmpint(tech, ==, f->tech);
	g_assert_cmpint(ll_store_mfa_challenge_get(f->st, h, 400, &tech), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_mfa_challenge_delete(f->st, h), ==, LL_OK);
	g_assert_cmpint(ll_store_mfa_challenge_get(f->st, h, 1, &tech), ==,
			LL_ERR_NOT_FOUND);
	/* Reset forgets everything. */
	g_assert_cmpint(ll_store_mfa_reset(f->st, f->tech), ==, LL_OK);
	g_assert_cmpint(ll_store_mfa_get(f->st, f->tech, &m), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_mfa_recovery_left(f->st, f->tech, &n), ==,
			LL_OK);
	g_assert_cmpint(n, ==, 0);
	g_assert_cmpint(ll_store_mfa_reset(f->st, f->tech), ==,
			LL_ERR_NOT_FOUND);
}

/* Directory technicians (issue 12): no password of their own, their DN,
 * and a disabled flag the sync may lift only when it set it. */
static void test_directory(struct fx *f, gconstpointer data)
{
	struct ll_technician *t = NULL;
	int64_t id = 0, first = 0;

	g_assert_cmpint(ll_store_technician_add_directory(f->st, f->org, "bob",
							  "uid=bob,dc=x",
							  "Bob B", false, 200,
							  &id),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_add_directory(
				f->st, f->org, "alice", "uid=alice,dc=x", NULL,
				false, 200, NULL),
			==, LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_technician_get(f->st, id, &t), ==, LL_OK);
	g_assert_cmpstr(t->pw_hash, ==, LL_STORE_DIRECTORY_PW);
	g_assert_cmpstr(t->directory_dn, ==, "uid=bob,dc=x");
	g_assert_cmpstr(t->display_name, ==, "Bob B");
	g_assert_false(t->disabled);
	g_assert_false(t->directory_disabled);
	ll_technician_free(t);
	/* a local account has no DN, and its DN cannot be set */
	g_assert_cmpint(ll_store_technician_get(f->st, f->tech, &t), ==,
			LL_OK);
	g_assert_null(t->directory_dn);
	ll_technician_free(t);
	g_assert_cmpint(ll_store_technician_set_directory_dn(f->st, f->tech,
							     "uid=a,dc=x"),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_store_technician_set_directory_dn(f->st, id,
							     "uid=b2,dc=x"),
			==, LL_OK);
	/* disabled by the directory, enabled by it again */
	g_assert_cmpint(ll_store_technician_set_directory_disabled(f->st, id,
								   true),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_get(f->st, id, &t), ==, LL_OK);
	g_assert_true(t->disabled);
	g_assert_true(t->directory_disabled);
	g_assert_cmpstr(t->directory_dn, ==, "uid=b2,dc=x");
	ll_technician_free(t);
	g_assert_cmpint(ll_store_technician_set_directory_disabled(f->st, id,
								   false),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_get(f->st, id, &t), ==, LL_OK);
	g_assert_false(t->disabled);
	g_assert_false(t->directory_disabled);
	ll_technician_free(t);
	/* disabled by an administrator: the directory cannot enable it */
	g_assert_cmpint(ll_store_technician_set_disabled(f->st, f->org, "bob",
							 true),
			==, LL_OK);
	g_assert_cmpint(ll_store_technician_set_directory_disabled(f->st, id,
								   false),
			==, LL_ERR_CONFLICT);
	g_assert_cmpint(ll_store_technician_get(f->st, id, &t), ==, LL_OK);
	g_assert_true(t->disabled);
	ll_technician_free(t);
	/* the first org is the lowest id */
	g_assert_cmpint(ll_store_org_create(f->st, "second", 300, NULL), ==,
			LL_OK);
	g_assert_cmpint(ll_store_org_first(f->st, &first), ==, LL_OK);
	g_assert_cmpint(first, ==, f->org);
}

int main(int argc, char **argv)
{
	size_t i;
	int v;

	g_test_init(&argc, &argv, NULL);
#define ADD(name, fn)                                                         \
	g_test_add(name, struct fx, NULL, fx_setup, fn, fx_teardown)
	ADD("/store/open/fresh_reopen", test_open_fresh_reopen);
	ADD("/store/open/newer_or_broken", test_open_newer);
	g_test_add("/store/technician/directory", struct fx, NULL, fx_setup,
		   test_directory, fx_teardown);
	/* from each older schema version */
	for (v = 1; v <= 11; v++) {
		char *name = g_strdup_printf("/store/open/upgrade_from_v%d",
					     v);

		g_test_add(name, struct fx, GINT_TO_POINTER(v), fx_setup,
			   test_open_upgrade, fx_teardown);
		g_free(name);
	}
	ADD("/store/open/migrate_display_names", test_migrate_display_names);
	ADD("/store/transactions", test_transactions);
	ADD("/store/chat", test_chat);
	ADD("/store/two_handles", test_two_handles);
	ADD("/store/orgs", test_orgs);
	g_test_add_func("/store/orgs/default_empty", test_org_default_empty);
	ADD("/store/technicians", test_technicians);
	ADD("/store/technician_password", test_technician_password);
	ADD("/store/technician_one_time", test_technician_one_time);
	ADD("/store/open/migrate_one_time", test_migrate_one_time);
	ADD("/store/tokens", test_tokens);
	ADD("/store/tokens_but_one", test_tokens_but_one);
	ADD("/store/session/create", test_session_create);
	ADD("/store/session/redeem", test_session_redeem);
	ADD("/store/session/claim_stream", test_session_claim);
	ADD("/store/session/lifecycle", test_session_lifecycle);
	ADD("/store/session/end_orphaned", test_session_end_orphaned);
	ADD("/store/session/limits", test_session_limits);
	ADD("/store/groups", test_groups);
	ADD("/store/groups/sessions", test_groups_sessions);
	ADD("/store/policy", test_policy);
	ADD("/store/mfa", test_mfa);
	ADD("/store/channels_queue", test_channels_queue);
	ADD("/store/audit/encoding", test_audit_encoding);
	ADD("/store/audit/chain", test_audit_chain);
	ADD("/store/audit/triggers", test_audit_triggers);
	ADD("/store/audit/keyed", test_audit_keyed);
	ADD("/store/audit/keyed_stripped", test_audit_keyed_stripped);
	for (i = 0; i < G_N_ELEMENTS(tampers); i++) {
		char *name = g_strdup_printf("/store/audit/%s",
					     tampers[i].test);

		g_test_add(name, struct fx, &tampers[i], fx_setup,
			   test_audit_tamper, fx_teardown);
		g_free(name);
	}
	ADD("/store/audit/tamper_fields", test_audit_tamper_fields);
	ADD("/store/audit/append_after_tamper",
	    test_audit_append_after_tamper);
	ADD("/store/audit/append_after_bad_tail",
	    test_audit_append_after_bad_tail);
	ADD("/store/audit/export", test_audit_export);
#undef ADD
	return g_test_run();
}
