/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audit trail of a real relay: records are there (durably) by the time
 * the 2xx answer is, refusals are recorded too, the chain verifies after a
 * mixed workload, the export carries no secret, and `audit verify` fails,
 * naming the record, once an attacker with write access to the database
 * alters or deletes a record (dropping any trigger that forbids it).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
	g_test_add_func("/audit/verify-intact", test_verify_intact);
	g_test_add_func("/audit/tamper-update", test_tamper_update);
	g_test_add_func("/audit/tamper-delete", test_tamper_delete);
	g_test_add_func("/audit/original-still-intact",
			test_original_still_intact);
	rc = g_test_run();
	g_free(token);
	lh_relay_free(relay);
	return rc;
}
