/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audit trail of a real relay: records are there (durably) by the time
 * the 2xx answer is, refusals are recorded too, the chain verifies after a
 * mixed workload, the export carries no secret, and `audit verify` fails,
 * naming the record, once an attacker with write access to the database
 * alters or deletes a record (dropping any trigger that forbids it).
 *
 * The attacker holds the database only, not the audit key: cutting the
 * tail (and fixing audit_head), rewriting a record with INSERT OR REPLACE
 * and recomputing the chain with the SHA-256 rule of the unkeyed chain,
 * and deleting a record and renumbering the rest are each detected by
 * the keyed chain and the signed checkpoints, and named.  Checkpoints
 * appear within audit_checkpoint_s and at SIGTERM.  A flood of 10^4
 * refused requests from one address adds a few records, gets 429s, and
 * every refusal is still on record (one by one or counted).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ll_crypto.h"

#include <sqlite3.h>

#include "harness.h"

static struct lh_relay *relay;
static char *token;

/* Exported records (jsonl) whose action contains `action` and whose
 * outcome equals `outcome` (NULL: any). */
static int count_records(const char *action, const char *outcome)
{
	g_autofree char *out = NULL, *err = NULL;
	g_auto(GStrv) lines = NULL;
	int n = 0;
	guint i;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, &err, "audit",
				     "export", "--format", "jsonl", NULL),
			==, 0);
	lines = g_strsplit(out, "\n", -1);
	for (i = 0; lines[i] != NULL; i++) {
		json_t *rec;
		const char *a, *o;

		if (lines[i][0] == '\0')
			continue;
		rec = json_loads(lines[i], 0, NULL);
		if (rec == NULL)
			g_error("export line %u is not JSON: %s", i, lines[i]);
		a = json_string_value(json_object_get(rec, "action"));
		o = json_string_value(json_object_get(rec, "outcome"));
		g_assert_nonnull(a);
		g_assert_nonnull(o);
		if (strstr(a, action) != NULL &&
		    (outcome == NULL || strcmp(o, outcome) == 0))
			n++;
		json_decref(rec);
	}
	return n;
}

static void test_durable_before_answer(void)
{
	json_t *b;
	struct lh_resp *r;
	int ok0, bad0;

	ok0 = count_records("login", "ok");
	bad0 = count_records("login", "unauthorized");
	token = lh_login(relay, "erin", LH_CANARY_PASSWORD);
	/* The relay still runs; another process reads the store now. */
	g_assert_cmpint(count_records("login", "ok"), ==, ok0 + 1);

	b = json_pack("{ssss}", "username", "erin", "password",
		      "Wrong-Pw-2222");
	lh_secret("password", "Wrong-Pw-2222");
	r = lh_post(relay, "/api/v1/login", NULL, b);
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);
	json_decref(b);
	/* Refusals are recorded as well (by the time they are answered). */
	g_assert_cmpint(count_records("login", "unauthorized"), ==, bad0 + 1);
}

static void test_workload(void)
{
	struct lh_session s = { 0 };
	struct lh_pin p = { 0 };
	g_autofree char *path = NULL, *evpath = NULL;
	struct lh_conn *a, *b;
	struct lh_end ea, eb;
	struct lh_resp *r;
	json_t *ev, *bad;

	lh_session_new(relay, token, &s);
	lh_pair_open(relay, &s, &a, &b);
	evpath = g_strdup_printf("/api/v1/sessions/%s/events",
				 s.pin.session_id);
	ev = json_pack("{ss s[s]}", "type", "consent", "capabilities", "view");
	r = lh_post(relay, evpath, s.applet_ticket, ev);
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	json_decref(ev);
	lh_end_start(&ea, a, 4 * LH_MIB, 4 * LH_MIB, 21, 0, false);
	lh_end_start(&eb, b, 4 * LH_MIB, 4 * LH_MIB, 22, 0, false);
	g_assert_true(lh_end_join(&ea));
	g_assert_true(lh_end_join(&eb));
	g_assert_cmpstr(ea.sent_sha, ==, eb.recv_sha);
	lh_conn_free(a);
	g_assert_cmpint(lh_conn_wait_closed(b, 3000), ==, LL_OK);
	lh_conn_free(b);

	bad = json_pack("{ss}", "pin", "999999");
	r = lh_post(relay, "/api/v1/pins/redeem", NULL, bad);
	g_assert_cmpint(r->status, >=, 400);
	lh_resp_free(r);
	json_decref(bad);

	lh_pin_new(relay, token, NULL, &p);
	path = g_strdup_printf("/api/v1/sessions/%s", p.session_id);
	r = lh_delete(relay, path, token);
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);

	r = lh_post(relay, "/api/v1/logout", token, NULL);
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);

	g_assert_cmpint(count_records("pin", NULL), >=, 2);
	g_assert_cmpint(count_records("stream", NULL), >=, 2);
	g_assert_cmpint(count_records("logout", "ok"), ==, 1);
	lh_pin_clear(&p);
	lh_session_clear(&s);
}

/* A hostile side's `file` objects: each refused 400, each on record as
 * the refusal it is (never as a file). */
static void file_fields_hostile(const char *evpath, const char *ticket)
{
	static const char *const hostile[] = {
		/* unknown member */
		"{\"name\":\"a\",\"size\":1,\"direction\":\"sent\","
		"\"outcome\":\"done\",\"path\":\"/etc/passwd\"}",
		/* not a hash */
		"{\"name\":\"a\",\"size\":1,\"sha256\":\"ABCD\","
		"\"direction\":\"sent\",\"outcome\":\"done\"}",
		/* upper case: one spelling of a hash, so a search finds it */
		"{\"name\":\"a\",\"size\":1,\"sha256\":"
		"\"5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6"
		"BE03\",\"direction\":\"sent\",\"outcome\":\"done\"}",
		"{\"name\":\"a\",\"size\":-1,\"direction\":\"sent\","
		"\"outcome\":\"done\"}",
		"{\"name\":\"a\",\"size\":\"1\",\"direction\":\"sent\","
		"\"outcome\":\"done\"}",
		"{\"name\":\"a\",\"size\":1,\"direction\":\"sideways\","
		"\"outcome\":\"done\"}",
		"{\"name\":\"a\",\"size\":1,\"direction\":\"sent\","
		"\"outcome\":\"exploded\"}",
		"{\"size\":1,\"direction\":\"sent\",\"outcome\":\"done\"}",
		"{\"name\":7,\"size\":1,\"direction\":\"sent\","
		"\"outcome\":\"done\"}",
	};
	g_autofree char *long_name = NULL;
	struct lh_resp *r;
	json_t *ev;
	size_t i;
	int bad0;

	bad0 = count_records("session.event", "bad_request");
	for (i = 0; i < G_N_ELEMENTS(hostile); i++) {
		json_t *fo = json_loads(hostile[i], 0, NULL);

		g_assert_nonnull(fo);
		ev = json_pack("{ss ss so}", "type", "file", "reason", "x",
			       "file", fo);
		r = lh_post(relay, evpath, ticket, ev);
		g_test_message("hostile file object %zu -> %d", i, r->status);
		lh_assert_error(r, 400, "bad_request");
		lh_resp_free(r);
		json_decref(ev);
	}
	/* a name past 256 bytes; and `file` on another type of event */
	long_name = g_strnfill(257, 'n');
	ev = json_pack("{ss ss s{ss sI ss ss}}", "type", "file", "reason", "x",
		       "file", "name", long_name, "size", (json_int_t)1,
		       "direction", "sent", "outcome", "done");
	r = lh_post(relay, evpath, ticket, ev);
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);
	json_decref(ev);
	ev = json_pack("{ss s[s] s{ss sI ss ss}}", "type", "consent",
		       "capabilities", "view", "file", "name", "a", "size",
		       (json_int_t)1, "direction", "sent", "outcome", "done");
	r = lh_post(relay, evpath, ticket, ev);
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);
	json_decref(ev);
	g_assert_cmpint(count_records("session.event", "bad_request"), ==,
			bad0 + (int)G_N_ELEMENTS(hostile) + 2);
}

/*
 * A "file" event's `file` object (#13): the audit keeps what moved as
 * fields of detail.file, so that an auditor finds a file by its SHA-256
 * in the export; each member is checked (a hostile side's odd object is
 * refused 400 and kept as a refusal only, never as a file); the older
 * form, a reason alone, is still recorded as before.  The chain with
 * these records verifies in /audit/verify-intact.
 */
static void test_file_fields(void)
{
	static const char sha[] = "5891b5b522d5df086d0ff0b110fbd9d2"
				  "1bb4fc7163af34d08286a2e846f6be03";
	g_autofree char *evpath = NULL, *tok = NULL;
	struct lh_session s = { 0 };
	struct lh_resp *r;
	json_t *ev, *all, *rec, *f, *found = NULL;
	size_t i;
	int n_sha = 0;

	/* the workload logged the first token out */
	tok = lh_login(relay, "erin", LH_CANARY_PASSWORD);
	lh_session_new(relay, tok, &s);
	evpath = g_strdup_printf("/api/v1/sessions/%s/events",
				 s.pin.session_id);
	/* a name with a bidi override: kept through the display rule */
	ev = json_pack("{ss s[s] ss s{ss sI ss ss ss}}", "type", "file",
		       "capabilities", "files", "reason",
		       "received done size=1048576 sha256=5891 name=x", "file",
		       "name", "report\xe2\x80\xaegpj.exe", "size",
		       (json_int_t)1048576, "sha256", sha, "direction",
		       "received", "outcome", "done");
	r = lh_post(relay, evpath, s.applet_ticket, ev);
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	json_decref(ev);
	/* the older form: still a record, without fields */
	ev = json_pack("{ss ss}", "type", "file", "reason",
		       "sent refused size=3 sha256=- name=old");
	r = lh_post(relay, evpath, s.applet_ticket, ev);
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	json_decref(ev);

	file_fields_hostile(evpath, s.applet_ticket);

	/* the auditor's search: every record of this hash */
	all = lh_audit_records(relay, "session.event");
	json_array_foreach(all, i, rec)
	{
		f = json_object_get(json_object_get(rec, "detail"), "file");
		if (f == NULL)
			continue;
		/* only what passed every check became fields */
		g_assert_cmpstr(json_string_value(
					json_object_get(rec, "outcome")),
				==, "ok");
		if (g_strcmp0(json_string_value(json_object_get(f, "sha256")),
			      sha) == 0) {
			n_sha++;
			found = rec;
		}
	}
	g_assert_cmpint(n_sha, ==, 1);
	f = json_object_get(json_object_get(found, "detail"), "file");
	g_assert_cmpstr(json_string_value(
				json_object_get(found, "session_id")),
			==, s.pin.session_id);
	g_assert_cmpint(json_integer_value(json_object_get(f, "size")), ==,
			1048576);
	g_assert_cmpstr(json_string_value(json_object_get(f, "direction")), ==,
			"received");
	g_assert_cmpstr(json_string_value(json_object_get(f, "outcome")), ==,
			"done");
	g_assert_null(strstr(json_string_value(json_object_get(f, "name")),
			     "\xe2\x80\xae"));
	g_assert_true(
		g_str_has_prefix(json_string_value(json_object_get(f, "name")),
				 "report"));
	/* the sentence stays where it was */
	g_assert_nonnull(
		json_object_get(json_object_get(found, "detail"), "reason"));
	json_decref(all);

	/* the same search by the CLI: that record alone */
	{
		g_autofree char *out = NULL, *err = NULL;
		g_auto(GStrv) lines = NULL;
		json_t *one;

		g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, &err, "audit",
					     "export", "--file-sha256", sha,
					     NULL),
				==, 0);
		lines = g_strsplit(out, "\n", -1);
		g_assert_cmpuint(g_strv_length(lines), ==, 2);
		g_assert_cmpstr(lines[1], ==, "");
		one = json_loads(lines[0], 0, NULL);
		g_assert_nonnull(one);
		g_assert_cmpstr(
			json_string_value(json_object_get(
				json_object_get(json_object_get(one, "detail"),
						"file"),
				"sha256")),
			==, sha);
		json_decref(one);
		g_clear_pointer(&out, g_free);
		g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, NULL, "audit",
					     "export", "--file-sha256",
					     "5891b5", NULL),
				==, 2);
	}
	lh_session_clear(&s);
}

static int64_t n_intact;

static void test_verify_intact(void)
{
	g_autofree char *out = NULL, *err = NULL, *logs = NULL;
	g_autofree char *csv = NULL;
	g_autofree char *exp_path = NULL;
	g_auto(GStrv) lines = NULL;
	guint n = 0, i;

	g_assert_cmpint(lh_relay_stop(relay, 10000), ==, 0);
	n_intact = lh_audit_verify_intact(relay);
	g_assert_cmpint(n_intact, >=, 12);

	/* The export, kept as a log: the canary greps it for secrets. */
	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, &err, "audit",
				     "export", "--format", "jsonl", NULL),
			==, 0);
	lines = g_strsplit(out, "\n", -1);
	for (i = 0; lines[i] != NULL; i++)
		if (lines[i][0] != '\0')
			n++;
	g_assert_cmpint(n, ==, n_intact);
	logs = g_build_filename(lh_tmpdir(), "logs", NULL);
	exp_path = g_build_filename(logs, "audit-export.jsonl.log", NULL);
	g_assert_true(g_file_set_contents(exp_path, out, -1, NULL));
	g_assert_null(strstr(out, LH_CANARY_PASSWORD));
	g_assert_null(strstr(out, token));

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &csv, NULL, "audit",
				     "export", "--format", "csv", NULL),
			==, 0);
	g_assert_cmpuint(strlen(csv), >, 0);
	g_assert_null(strstr(csv, token));
}

/* ---- the attacker ---- */

static void exec_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		g_error("%s: %s", sql, msg);
}

/* Copies the state directory so that each tamper starts clean. */
static char *copy_state(const char *name)
{
	g_autofree char *dst = g_build_filename(relay->dir, name, NULL);
	g_autofree char *cmd = NULL;
	g_autofree char *qs = g_shell_quote(relay->state_dir);
	g_autofree char *qd = g_shell_quote(dst);
	int st = 0;

	cmd = g_strdup_printf("/bin/sh -c 'rm -rf %s && cp -a %s %s'", qd, qs,
			      qd);
	g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, &st, NULL));
	g_assert_cmpint(st, ==, 0);
	return g_steal_pointer(&dst);
}

struct audit_table {
	char *table;
	char *column;     /* a text column that is part of the record */
	char *seq_column; /* "seq" or similar; NULL = rowid */
};

static void audit_table_clear(struct audit_table *t)
{
	g_free(t->table);
	g_free(t->column);
	g_free(t->seq_column);
}

static void find_audit_table(sqlite3 *db, struct audit_table *t)
{
	sqlite3_stmt *st = NULL;
	static const char *const prefer[] = { "outcome",     "action",
					      "actor",       "detail",
					      "detail_json", "source_ip",
					      NULL };
	GPtrArray *cols = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *sql = NULL;
	int i;
	guint j;

	g_assert_cmpint(
		sqlite3_prepare_v2(
			db,
			"SELECT name FROM sqlite_master WHERE type = 'table' AND "
			"name LIKE '%audit%' ORDER BY length(name) LIMIT 1",
			-1, &st, NULL),
		==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	t->table = g_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);

	sql = g_strdup_printf("SELECT name, type FROM pragma_table_info(%s)",
			      "?1");
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==,
			SQLITE_OK);
	sqlite3_bind_text(st, 1, t->table, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		g_ptr_array_add(cols, g_strdup(name));
		if (t->seq_column == NULL &&
		    (strcmp(name, "seq") == 0 || strcmp(name, "id") == 0))
			t->seq_column = g_strdup(name);
	}
	sqlite3_finalize(st);
	for (i = 0; prefer[i] != NULL && t->column == NULL; i++)
		for (j = 0; j < cols->len; j++)
			if (strcmp(cols->pdata[j], prefer[i]) == 0)
				t->column = g_strdup(prefer[i]);
	if (t->column == NULL)
		g_error("audit table %s: no known text column", t->table);
	g_ptr_array_free(cols, TRUE);
}

/* Drops the triggers that guard the table, as an attacker would; says
 * how many there were. */
static int drop_triggers(sqlite3 *db, const char *table)
{
	sqlite3_stmt *st = NULL;
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	int n;
	guint i;

	g_assert_cmpint(
		sqlite3_prepare_v2(
			db,
			"SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
			"tbl_name = ?1",
			-1, &st, NULL),
		==, SQLITE_OK);
	sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW)
		g_ptr_array_add(
			names,
			g_strdup((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	for (i = 0; i < names->len; i++) {
		g_autofree char *sql = g_strdup_printf(
			"DROP TRIGGER \"%s\"", (char *)names->pdata[i]);

		exec_sql(db, sql);
	}
	n = (int)names->len;
	g_ptr_array_free(names, TRUE);
	return n;
}

/* Runs `audit verify` on another state dir: exit status, all output. */
static int verify_dir(const char *state_dir, char **all)
{
	char *saved = relay->state_dir;
	g_autofree char *out = NULL, *err = NULL;
	int st;

	relay->state_dir = (char *)state_dir;
	st = lh_relay_cmd(relay, NULL, &out, &err, "audit", "verify", NULL);
	relay->state_dir = saved;
	*all = g_strconcat(out, err, NULL);
	return st;
}

static bool names_record(const char *text, int64_t seq)
{
	g_autofree char *pat = g_strdup_printf("(^|[^0-9])%" G_GINT64_FORMAT
					       "([^0-9]|$)",
					       seq);

	return g_regex_match_simple(pat, text, G_REGEX_MULTILINE, 0);
}

static void tamper(const char *name, bool delete_row)
{
	g_autofree char *dir = copy_state(name);
	g_autofree char *dbpath = g_build_filename(dir, "lifeline.db", NULL);
	g_autofree char *sql = NULL, *all = NULL;
	struct audit_table t = { 0 };
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	int64_t rowid, seq, count;
	int n_trig, rc;

	g_assert_cmpint(sqlite3_open(dbpath, &db), ==, SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	find_audit_table(db, &t);

	sql = g_strdup_printf("SELECT count(*) FROM \"%s\"", t.table);
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	count = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	g_free(sql);
	g_assert_cmpint(count, ==, n_intact);

	/* A record in the middle of the chain. */
	sql = g_strdup_printf("SELECT rowid, %s FROM \"%s\" ORDER BY rowid "
			      "LIMIT 1 OFFSET %" G_GINT64_FORMAT,
			      t.seq_column ? t.seq_column : "rowid", t.table,
			      count / 2);
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	rowid = sqlite3_column_int64(st, 0);
	seq = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	g_free(sql);

	if (delete_row)
		sql = g_strdup_printf(
			"DELETE FROM \"%s\" WHERE rowid = %" G_GINT64_FORMAT,
			t.table, rowid);
	else
		sql = g_strdup_printf("UPDATE \"%s\" SET \"%s\" = 'ok-ish' "
				      "WHERE rowid = %" G_GINT64_FORMAT,
				      t.table, t.column, rowid);
	/* Append-only guard first, if the store has one. */
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	n_trig = drop_triggers(db, t.table);
	g_test_message("%s: table %s column %s, record %" G_GINT64_FORMAT
		       "; %d trigger(s) dropped; first try %s",
		       name, t.table, t.column, seq, n_trig,
		       rc == SQLITE_OK ? "succeeded" : "refused");
	if (n_trig > 0)
		g_assert_cmpint(rc, !=, SQLITE_OK);
	if (rc != SQLITE_OK)
		exec_sql(db, sql);
	g_assert_cmpint(sqlite3_changes(db), ==, 1);
	sqlite3_close(db);

	rc = verify_dir(dir, &all);
	g_test_message("audit verify after %s: exit %d: %s", name, rc, all);
	g_assert_cmpint(rc, !=, 0);
	g_assert_null(strstr(all, "chain intact"));
	/* It names the first bad record: the altered one, or for a deleted
	 * one its successor (whose link no longer holds) or itself. */
	g_assert_true(names_record(all, seq) || names_record(all, seq + 1));
	audit_table_clear(&t);
}

static void test_tamper_update(void)
{
	tamper("tampered-update", false);
}

static void test_tamper_delete(void)
{
	tamper("tampered-delete", true);
}

/* ---- the attacker without the key ---- */

static sqlite3 *open_db(const char *dir)
{
	g_autofree char *path = g_build_filename(dir, "lifeline.db", NULL);
	sqlite3 *db = NULL;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static int64_t db_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v;

	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void put_be64(GByteArray *b, int64_t v)
{
	uint8_t x[8];
	int i;

	for (i = 0; i < 8; i++)
		x[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
	g_byte_array_append(b, x, 8);
}

/*
 * Recomputes every hash from record `from` on with the documented rule of
 * the unkeyed chain (SHA-256 of prev || "LLA1" || canonical), as an
 * attacker who read the source but lacks the audit key would, and points
 * audit_head at the new end.
 */
static void recompute_chain(sqlite3 *db, int64_t from)
{
	sqlite3_stmt *st = NULL, *up = NULL;
	uint8_t prev[32] = { 0 }, hash[32];
	int64_t last = 0;
	int i;

	if (from > 1) {
		g_autofree char *sql = g_strdup_printf(
			"SELECT hash FROM audit WHERE seq = %" G_GINT64_FORMAT,
			from - 1);

		g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==,
				SQLITE_OK);
		g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
		memcpy(prev, sqlite3_column_blob(st, 0), 32);
		sqlite3_finalize(st);
	}
	g_assert_cmpint(
		sqlite3_prepare_v2(db,
				   "SELECT seq, ts, org_id, actor, action,"
				   " outcome, source_ip, session_id, detail"
				   " FROM audit WHERE seq >= ? ORDER BY seq",
				   -1, &st, NULL),
		==, SQLITE_OK);
	sqlite3_bind_int64(st, 1, from);
	g_assert_cmpint(sqlite3_prepare_v2(db,
					   "UPDATE audit SET prev_hash = ?,"
					   " hash = ? WHERE seq = ?",
					   -1, &up, NULL),
			==, SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		GByteArray *b = g_byte_array_new();

		g_byte_array_append(b, prev, 32);
		g_byte_array_append(b, (const uint8_t *)"LLA1", 4);
		for (i = 0; i < 3; i++)
			put_be64(b, sqlite3_column_int64(st, i));
		for (i = 3; i < 9; i++) {
			uint8_t h[5] = { 0 };
			int n = sqlite3_column_bytes(st, i);

			if (sqlite3_column_type(st, i) == SQLITE_NULL) {
				g_byte_array_append(b, h, 1);
				continue;
			}
			h[0] = 1;
			h[1] = (uint8_t)(n >> 24);
			h[2] = (uint8_t)(n >> 16);
			h[3] = (uint8_t)(n >> 8);
			h[4] = (uint8_t)n;
			g_byte_array_append(b, h, 5);
			g_byte_array_append(b, sqlite3_column_text(st, i),
					    (guint)n);
		}
		g_assert_cmpint(ll_sha256(b->data, b->len, hash), ==, LL_OK);
		g_byte_array_unref(b);
		sqlite3_bind_blob(up, 1, prev, 32, SQLITE_TRANSIENT);
		sqlite3_bind_blob(up, 2, hash, 32, SQLITE_TRANSIENT);
		last = sqlite3_column_int64(st, 0);
		sqlite3_bind_int64(up, 3, last);
		g_assert_cmpint(sqlite3_step(up), ==, SQLITE_DONE);
		sqlite3_reset(up);
		memcpy(prev, hash, 32);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	exec_sql(db, "DELETE FROM audit_head");
	exec_sql(db, "INSERT INTO audit_head (id, seq, hash) SELECT 1, seq,"
		     " hash FROM audit ORDER BY seq DESC LIMIT 1");
}

/* A copy of the stopped relay's state for one tampering, and its store
 * opened as the attacker would. */
static sqlite3 *attack_copy(const char *name, char **dir_out)
{
	*dir_out = copy_state(name);
	return open_db(*dir_out);
}

/* Verifies the tampered copy (with the audit key, as the admin would)
 * and expects a failure naming seq (or seq + 1) and saying `word`. */
static void expect_named(const char *dir, const char *what, int64_t seq,
			 const char *word)
{
	g_autofree char *all = NULL;
	int rc = verify_dir(dir, &all);

	g_test_message("audit verify after %s: exit %d: %s", what, rc, all);
	g_assert_cmpint(rc, !=, 0);
	g_assert_null(strstr(all, "chain intact"));
	g_assert_true(names_record(all, seq) || names_record(all, seq + 1));
	if (strstr(all, word) == NULL)
		g_error("audit verify after %s does not say \"%s\": %s", what,
			word, all);
}

/* (a) Cut the tail: the last records deleted, audit_head fixed. */
static void test_tamper_cut_tail(void)
{
	g_autofree char *dir = NULL, *keyfile = NULL, *all = NULL;
	sqlite3 *db = attack_copy("tampered-tail", &dir);
	int64_t n = db_int(db, "SELECT max(seq) FROM audit"), keep = n - 3;
	g_autofree char *sql = g_strdup_printf(
		"DELETE FROM audit WHERE seq > %" G_GINT64_FORMAT, keep);

	g_assert_cmpint(n, ==, n_intact);
	drop_triggers(db, "audit");
	drop_triggers(db, "audit_head");
	exec_sql(db, sql);
	exec_sql(db, "DELETE FROM audit_head");
	exec_sql(db, "INSERT INTO audit_head (id, seq, hash) SELECT 1, seq,"
		     " hash FROM audit ORDER BY seq DESC LIMIT 1");
	sqlite3_close(db);
	expect_named(dir, "cutting the tail", keep + 1, "truncated");

	/* An auditor with the database and the public key only sees it
	 * too: the checkpoint is signed, not keyed. */
	keyfile = g_build_filename(dir, "audit.key", NULL);
	g_assert_cmpint(unlink(keyfile), ==, 0);
	g_assert_cmpint(verify_dir(dir, &all), !=, 0);
	g_test_message("without the audit key: %s", all);
	g_assert_nonnull(strstr(all, "truncated"));
}

/* (b) A record rewritten with INSERT OR REPLACE, the chain recomputed
 * with the unkeyed rule. */
static void test_tamper_rewrite(void)
{
	g_autofree char *dir = NULL, *sql = NULL;
	sqlite3 *db = attack_copy("tampered-rewrite", &dir);
	int64_t seq = n_intact / 2;
	int rc;

	sql = g_strdup_printf("INSERT OR REPLACE INTO audit SELECT seq, ts,"
			      " org_id, actor, action, 'ok', source_ip,"
			      " session_id, detail, prev_hash, hash FROM audit"
			      " WHERE seq = %" G_GINT64_FORMAT,
			      seq);
	/* The store refuses an insert that does not extend the chain. */
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	g_assert_cmpint(rc, ==, SQLITE_CONSTRAINT);
	drop_triggers(db, "audit");
	drop_triggers(db, "audit_head");
	exec_sql(db, sql);
	recompute_chain(db, seq);
	sqlite3_close(db);
	expect_named(dir, "rewriting a record", seq, "altered");
}

/* (c) A record deleted and every later one renumbered, the chain
 * recomputed with the unkeyed rule. */
static void test_tamper_renumber(void)
{
	g_autofree char *dir = NULL, *sql = NULL;
	sqlite3 *db = attack_copy("tampered-renumber", &dir);
	int64_t seq = n_intact / 2;

	drop_triggers(db, "audit");
	drop_triggers(db, "audit_head");
	sql = g_strdup_printf("DELETE FROM audit WHERE seq = %" G_GINT64_FORMAT
			      "; UPDATE audit SET seq = seq - 1 WHERE seq > "
			      "%" G_GINT64_FORMAT,
			      seq, seq);
	exec_sql(db, sql);
	recompute_chain(db, seq);
	sqlite3_close(db);
	expect_named(dir, "deleting a record and renumbering", seq,
		     "renumbered");
}

/* The checkpoint of SIGTERM names the last record. */
static void test_checkpoint_at_shutdown(void)
{
	g_autofree char *path = NULL, *text = NULL, *want = NULL;
	g_autofree char *log = lh_relay_log(relay);

	want = g_strdup_printf("audit checkpoint v1 seq=%" G_GINT64_FORMAT " ",
			       n_intact);
	g_assert_nonnull(strstr(log, want));
	path = g_build_filename(relay->state_dir, "audit.checkpoint", NULL);
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_true(g_str_has_prefix(text, want));
	g_assert_nonnull(strstr(text, " sig="));
}

/* Within audit_checkpoint_s of a record, a checkpoint names it. */
static void test_checkpoint_interval(void)
{
	struct lh_relay *r = lh_relay_new("audit-cp",
					  "audit_checkpoint_s = 1\n");
	g_autofree char *path = NULL, *text = NULL, *want = NULL;
	struct lh_resp *resp;
	json_t *b;
	int64_t n;

	lh_relay_start(r);
	b = json_pack("{ssss}", "username", "nobody", "password",
		      "Wrong-Pw-3333");
	lh_secret("password", "Wrong-Pw-3333");
	resp = lh_post(r, "/api/v1/login", NULL, b);
	lh_assert_error(resp, 401, "unauthorized");
	lh_resp_free(resp);
	json_decref(b);
	/* init's records plus the refusal: 3 */
	n = 3;
	want = g_strdup_printf("audit checkpoint v1 seq=%" G_GINT64_FORMAT " ",
			       n);
	g_assert_true(lh_relay_wait_log(r, want, 1, 10000));
	path = g_build_filename(r->state_dir, "audit.checkpoint", NULL);
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_true(g_str_has_prefix(text, want));
	g_assert_cmpint(lh_relay_stop(r, 10000), ==, 0);
	g_assert_cmpint(lh_audit_verify_intact(r), ==, n);
	lh_relay_free(r);
}

/* ---- a flood of refusals ---- */

#define FLOOD_N 10000
#define FLOOD_BATCH 200
#define FLOOD_SRC "127.0.0.9"

/* Records of one source address and action: rows, and the refusals they
 * stand for (a summary's count, 1 otherwise). */
static void flood_records(struct lh_relay *r, const char *src,
			  const char *action, int64_t *rows, int64_t *refusals)
{
	json_t *all = lh_audit_records(r, action), *rec, *d;
	const char *ip;
	size_t i;

	*rows = *refusals = 0;
	json_array_foreach(all, i, rec)
	{
		ip = json_string_value(json_object_get(rec, "source_ip"));
		if (ip == NULL || strcmp(ip, src) != 0)
			continue;
		d = json_object_get(json_object_get(rec, "detail"), "count");
		(*rows)++;
		*refusals += json_is_integer(d) ? json_integer_value(d) : 1;
	}
	json_decref(all);
}

static void test_refusal_flood(void)
{
	struct lh_relay *r = lh_relay_new("audit-flood", NULL);
	struct lh_conn *c;
	GString *batch = g_string_new(NULL);
	int64_t t0, ms, rows, refusals, n404 = 0, n429 = 0, done;
	bool clock;
	int i;

	lh_relay_start(r);
	c = lh_connect(r, FLOOD_SRC);
	for (i = 0; i < FLOOD_BATCH; i++)
		g_string_append_printf(batch,
				       "GET /api/v1/no-such-%d HTTP/1.1\r\n"
				       "Host: 127.0.0.1\r\n\r\n",
				       i);
	t0 = lh_now_ms();
	/* Pipelined, one connection: a batch out, its answers in. */
	for (done = 0; done < FLOOD_N; done += FLOOD_BATCH) {
		g_assert_cmpint(lh_conn_write_all(c, batch->str, batch->len),
				==, LL_OK);
		for (i = 0; i < FLOOD_BATCH; i++) {
			struct lh_resp *resp = NULL;

			g_assert_cmpint(lh_read_response(c, 30000, &resp), ==,
					LL_OK);
			if (resp->status == 404) {
				n404++;
			} else {
				lh_assert_error(resp, 429, "rate_limited");
				g_assert_nonnull(
					lh_resp_header(resp, "Retry-After"));
				n429++;
			}
			lh_resp_free(resp);
		}
	}
	ms = lh_now_ms() - t0;
	lh_conn_free(c);
	g_string_free(batch, TRUE);
	flood_records(r, FLOOD_SRC, "request", &rows, &refusals);
	g_test_message("%d refused requests in %" G_GINT64_FORMAT
		       " ms: %" G_GINT64_FORMAT " x 404, %" G_GINT64_FORMAT
		       " x 429; %" G_GINT64_FORMAT " records so far",
		       FLOOD_N, ms, n404, n429, rows);
	g_assert_cmpint(rows, <=, 2);
	g_assert_cmpint(n429, >, 0);
	g_assert_cmpint(n404 + n429, ==, FLOOD_N);

	/* The window's end writes the summaries (test clock), else the
	 * shutdown does. */
	clock = lh_relay_clock_advance(r, 61);
	if (clock)
		g_assert_true(
			lh_relay_wait_log(r, "refusals aggregated", 2, 10000));
	g_assert_cmpint(lh_relay_stop(r, 10000), ==, 0);
	flood_records(r, FLOOD_SRC, "request", &rows, &refusals);
	g_test_message("after the window: %" G_GINT64_FORMAT
		       " records for %" G_GINT64_FORMAT " refusals",
		       rows, refusals);
	g_assert_cmpint(rows, <=, 4);
	/* every refusal is on record, one by one or counted */
	g_assert_cmpint(refusals, ==, FLOOD_N);
	lh_audit_verify_intact(r);
	lh_relay_free(r);
}

static void test_original_still_intact(void)
{
	g_assert_cmpint(lh_audit_verify_intact(relay), ==, n_intact);
}

int main(int argc, char **argv)
{
	int rc;

	lh_init(&argc, &argv);
	relay = lh_relay_new("audit", NULL);
	lh_tech_add(relay, "erin", LH_CANARY_PASSWORD, false);
	lh_relay_start(relay);

	g_test_add_func("/audit/durable-before-answer",
			test_durable_before_answer);
	g_test_add_func("/audit/workload", test_workload);
	g_test_add_func("/audit/file-fields", test_file_fields);
	g_test_add_func("/audit/verify-intact", test_verify_intact);
	g_test_add_func("/audit/tamper-update", test_tamper_update);
	g_test_add_func("/audit/tamper-delete", test_tamper_delete);
	g_test_add_func("/audit/checkpoint-at-shutdown",
			test_checkpoint_at_shutdown);
	g_test_add_func("/audit/tamper-cut-tail", test_tamper_cut_tail);
	g_test_add_func("/audit/tamper-rewrite", test_tamper_rewrite);
	g_test_add_func("/audit/tamper-renumber", test_tamper_renumber);
	g_test_add_func("/audit/original-still-intact",
			test_original_still_intact);
	g_test_add_func("/audit/checkpoint-interval",
			test_checkpoint_interval);
	g_test_add_func("/audit/refusal-flood", test_refusal_flood);
	rc = g_test_run();
	g_free(token);
	lh_relay_free(relay);
	return rc;
}
