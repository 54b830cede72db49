/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <string.h>

#include "ll_config.h"
#include "ll_err.h"

#define SENTINEL ((struct ll_config *)0x1)

static struct ll_config *load_ok(const char *text)
{
	struct ll_config *cfg = NULL;
	char err[256] = "";
	int r;

	r = ll_config_load_data(text, strlen(text), "t.conf", &cfg, err,
				sizeof(err));
	if (r != LL_OK)
		g_test_message("unexpected error: %s", err);
	g_assert_cmpint(r, ==, LL_OK);
	g_assert_nonnull(cfg);
	return cfg;
}

/* Loading len bytes must fail with exactly this message. */
static void load_fails_len(const char *text, size_t len, const char *msg)
{
	struct ll_config *cfg = SENTINEL;
	char err[256] = "";

	g_assert_cmpint(ll_config_load_data(text, len, "t.conf", &cfg, err,
					    sizeof(err)),
			==, LL_ERR_CONFIG);
	g_assert_true(cfg == SENTINEL);
	g_assert_cmpstr(err, ==, msg);
}

static void load_fails(const char *text, const char *msg)
{
	load_fails_len(text, strlen(text), msg);
}

static void test_basic(void)
{
	struct ll_config *cfg = load_ok("# Lifeline relay\n"
					"; another comment style\n"
					"   # indented comment\n"
					"\n"
					"[relay]\n"
					"listen = 127.0.0.1:8443\n"
					"  pin_lifetime=1200  \n"
					"\tempty =\n"
					"url = https://x/?a=b#frag\n"
					"name.with-dots_and-dash = ok\n"
					"\n"
					"[store]\n"
					"path = /var/lib/lifeline/store.db\n"
					"greeting = Grüß Gott\n"
					"crlf = yes\r\n"
					"last = no newline at end");

	g_assert_cmpstr(ll_config_get(cfg, "relay", "listen"), ==,
			"127.0.0.1:8443");
	g_assert_cmpstr(ll_config_get(cfg, "relay", "pin_lifetime"), ==,
			"1200");
	g_assert_cmpstr(ll_config_get(cfg, "relay", "empty"), ==, "");
	/* Everything after the first '=' is the value; '#' is not special. */
	g_assert_cmpstr(ll_config_get(cfg, "relay", "url"), ==,
			"https://x/?a=b#frag");
	g_assert_cmpstr(ll_config_get(cfg, "relay", "name.with-dots_and-dash"),
			==, "ok");
	g_assert_cmpstr(ll_config_get(cfg, "store", "path"), ==,
			"/var/lib/lifeline/store.db");
	g_assert_cmpstr(ll_config_get(cfg, "store", "greeting"), ==,
			"Grüß Gott");
	g_assert_cmpstr(ll_config_get(cfg, "store", "crlf"), ==, "yes");
	g_assert_cmpstr(ll_config_get(cfg, "store", "last"), ==,
			"no newline at end");
	/* Absent keys and groups; keys are per group and case-sensitive. */
	g_assert_null(ll_config_get(cfg, "store", "listen"));
	g_assert_null(ll_config_get(cfg, "relay", "Listen"));
	g_assert_null(ll_config_get(cfg, "nogroup", "listen"));
	g_assert_null(ll_config_get(cfg, NULL, "listen"));
	g_assert_null(ll_config_get(cfg, "relay", NULL));
	g_assert_null(ll_config_get(NULL, "relay", "listen"));
	ll_config_free(cfg);
	ll_config_free(NULL);
}

static void test_empty_inputs(void)
{
	struct ll_config *cfg = NULL;

	g_assert_cmpint(ll_config_load_data(NULL, 0, "e", &cfg, NULL, 0), ==,
			LL_OK);
	g_assert_null(ll_config_get(cfg, "a", "b"));
	ll_config_free(cfg);
	cfg = load_ok("\n\n# only comments\n\n");
	ll_config_free(cfg);
	/* Group headers without keys are fine; so is a NULL name. */
	g_assert_cmpint(ll_config_load_data("[a]\n[b]\n", 8, NULL, &cfg, NULL,
					    0),
			==, LL_OK);
	ll_config_free(cfg);
	g_assert_cmpint(ll_config_load_data("x", 1, "e", NULL, NULL, 0), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_config_load_data(NULL, 1, "e", &cfg, NULL, 0), ==,
			LL_ERR_INVALID_ARG);
}

static void test_syntax_errors(void)
{
	load_fails("key = 1\n[g]\n", "t.conf:1: key 'key' before any [group]");
	load_fails("# c\n\n  a=b\n", "t.conf:3: key 'a' before any [group]");
	load_fails("[g]\n[broken\n",
		   "t.conf:2: malformed group header (expected '[name]')");
	load_fails("[]\n",
		   "t.conf:1: malformed group header (expected '[name]')");
	load_fails("[g] x\n",
		   "t.conf:1: malformed group header (expected '[name]')");
	load_fails("[a]b]\n",
		   "t.conf:1: malformed group header (expected '[name]')");
	load_fails("[[a]]\n",
		   "t.conf:1: malformed group header (expected '[name]')");
	load_fails("[ a]\n",
		   "t.conf:1: malformed group header (expected '[name]')");
	load_fails("[a\tb]\n",
		   "t.conf:1: malformed group header (expected '[name]')");
	load_fails("[\n",
		   "t.conf:1: malformed group header (expected '[name]')");
	load_fails("[g]\nok = 1\njust words\n",
		   "t.conf:3: expected 'key = value', '[group]' or a comment");
	load_fails("[g]\n = value\n", "t.conf:2: empty key before '='");
	load_fails("[g]\n=\n", "t.conf:2: empty key before '='");
	load_fails("[g]\nmy key = 1\n",
		   "t.conf:2: key has a character outside [A-Za-z0-9_.-]");
	load_fails("[g]\nkéy = 1\n",
		   "t.conf:2: key has a character outside [A-Za-z0-9_.-]");
	load_fails("[g]\nkey/x = 1\n",
		   "t.conf:2: key has a character outside [A-Za-z0-9_.-]");
	load_fails("[g]\na = 1\nb = 2\na = 3\n",
		   "t.conf:4: duplicate key 'a' in [g] (first at line 2)");
	/* Trimming makes these the same key. */
	load_fails("[g]\na = 1\n  a=2\n",
		   "t.conf:3: duplicate key 'a' in [g] (first at line 2)");
	load_fails("[g]\na = 1\n[h]\nb = 1\n[g]\nc = 1\n",
		   "t.conf:5: duplicate group [g] (first at line 1)");
	/* The same key in two groups is fine. */
	ll_config_free(load_ok("[g]\na = 1\n[h]\na = 2\n"));
}

static void test_encoding_errors(void)
{
	load_fails_len("[g]\na = x\0y\n", 12, "t.conf:2: NUL byte in text");
	load_fails_len("[g]\0\n", 5, "t.conf:1: NUL byte in text");
	load_fails("[g]\na = \xff\n", "t.conf:2: text is not valid UTF-8");
	/* Overlong '/', a lone continuation byte, a cut-off sequence. */
	load_fails("[g]\n\na = \xc0\xaf\n",
		   "t.conf:3: text is not valid UTF-8");
	load_fails("[g]\na = \x80\n", "t.conf:2: text is not valid UTF-8");
	load_fails("[g]\na = \xe2\x82\n", "t.conf:2: text is not valid UTF-8");
	/* In a comment too: the whole file must be text. */
	load_fails("# \xfe\n", "t.conf:1: text is not valid UTF-8");
	/* A UTF-16 surrogate encoded in UTF-8 (CESU) is not UTF-8. */
	load_fails("[g]\na = \xed\xa0\x80\n",
		   "t.conf:2: text is not valid UTF-8");
}

static void test_line_limit(void)
{
	GString *s = g_string_new("[g]\nk = ");
	struct ll_config *cfg;

	/* Exactly 4096 bytes on line 2 is allowed... */
	while (s->len < 4 + 4096)
		g_string_append_c(s, 'v');
	g_string_append_c(s, '\n');
	cfg = load_ok(s->str);
	g_assert_cmpuint(strlen(ll_config_get(cfg, "g", "k")), ==, 4096 - 4);
	ll_config_free(cfg);

	/* ...4097 is not, even in a comment or without a final newline. */
	g_string_truncate(s, s->len - 1);
	g_string_append(s, "v\n");
	load_fails(s->str, "t.conf:2: line longer than 4096 bytes");
	g_string_truncate(s, s->len - 1);
	load_fails(s->str, "t.conf:2: line longer than 4096 bytes");
	g_string_assign(s, "[g]\n\n#");
	while (s->len < 5 + 4097)
		g_string_append_c(s, '#');
	load_fails(s->str, "t.conf:3: line longer than 4096 bytes");
	g_string_free(s, TRUE);
}

static void test_file_limit(void)
{
	const size_t mib = 1024 * 1024;
	GString *s = g_string_sized_new(mib + 2);
	struct ll_config *cfg;
	char *line = g_strnfill(1023, '#');
	size_t i;

	/* "[g]\n", then lines filling exactly 1 MiB: accepted. */
	g_string_append(s, "[g]\n");
	g_string_append(s, line + 4);
	g_string_append_c(s, '\n');
	for (i = 1; i < 1024; i++) {
		g_string_append(s, line);
		g_string_append_c(s, '\n');
	}
	g_assert_cmpuint(s->len, ==, mib);
	cfg = load_ok(s->str);
	ll_config_free(cfg);
	/* One byte more: refused, naming the line where the cap is crossed. */
	g_string_append_c(s, 'x');
	load_fails(s->str, "t.conf:1026: file larger than 1 MiB");
	g_string_free(s, TRUE);
	g_free(line);
}

static void test_errbuf_handling(void)
{
	struct ll_config *cfg = SENTINEL;
	char small[8];

	/* Truncated message, still NUL-terminated. */
	g_assert_cmpint(ll_config_load_data("x = 1", 5, "t.conf", &cfg, small,
					    sizeof(small)),
			==, LL_ERR_CONFIG);
	g_assert_cmpstr(small, ==, "t.conf:");
	/* No errbuf at all. */
	g_assert_cmpint(ll_config_load_data("x = 1", 5, "t.conf", &cfg, NULL,
					    0),
			==, LL_ERR_CONFIG);
	g_assert_true(cfg == SENTINEL);
}

static const char typed_text[] = "[t]\n"
				 "port = 8443\n"
				 "neg = -5\n"
				 "plus = +7\n"
				 "zero = 0\n"
				 "big = 9223372036854775807\n"
				 "huge = 9223372036854775808\n"
				 "tiny = -9223372036854775809\n"
				 "word = twelve\n"
				 "trail = 12a\n"
				 "hex = 0x10\n"
				 "exp = 1e3\n"
				 "space = 1 2\n"
				 "empty =\n"
				 "sign = -\n"
				 "yes1 = true\n"
				 "yes2 = YES\n"
				 "yes3 = on\n"
				 "yes4 = 1\n"
				 "no1 = False\n"
				 "no2 = no\n"
				 "no3 = off\n"
				 "no4 = 0\n"
				 "maybe = maybe\n";

static void test_get_int(void)
{
	struct ll_config *cfg = load_ok(typed_text);
	static const struct {
		const char *key;
		int line;
	} bad[] = {
		{ "word", 9 },  { "trail", 10 }, { "hex", 11 },
		{ "exp", 12 },  { "space", 13 }, { "empty", 14 },
		{ "sign", 15 },
	};
	char err[256], want[256];
	int64_t v = 0;
	size_t i;

	g_assert_cmpint(ll_config_get_int(cfg, "t", "port", 1, 65535, 0, &v,
					  err, sizeof(err)),
			==, LL_OK);
	g_assert_cmpint(v, ==, 8443);
	g_assert_cmpint(ll_config_get_int(cfg, "t", "neg", -10, 10, 0, &v, err,
					  sizeof(err)),
			==, LL_OK);
	g_assert_cmpint(v, ==, -5);
	g_assert_cmpint(ll_config_get_int(cfg, "t", "plus", -10, 10, 0, &v,
					  err, sizeof(err)),
			==, LL_OK);
	g_assert_cmpint(v, ==, 7);
	g_assert_cmpint(ll_config_get_int(cfg, "t", "big", INT64_MIN,
					  INT64_MAX, 0, &v, err, sizeof(err)),
			==, LL_OK);
	g_assert_cmpint(v, ==, INT64_MAX);
	/* Absent: the default, even outside the range. */
	g_assert_cmpint(ll_config_get_int(cfg, "t", "nope", 1, 2, 42, &v, err,
					  sizeof(err)),
			==, LL_OK);
	g_assert_cmpint(v, ==, 42);
	g_assert_cmpint(ll_config_get_int(cfg, "nogroup", "port", 1, 2, 3, &v,
					  err, sizeof(err)),
			==, LL_OK);
	g_assert_cmpint(v, ==, 3);

	/* Out of range, with the line of the value. */
	v = 99;
	g_assert_cmpint(ll_config_get_int(cfg, "t", "port", 1, 1024, 0, &v,
					  err, sizeof(err)),
			==, LL_ERR_CONFIG);
	g_assert_cmpstr(err, ==,
			"t.conf:2: value of 'port' in [t] must be "
			"between 1 and 1024");
	g_assert_cmpint(v, ==, 99);
	g_assert_cmpint(ll_config_get_int(cfg, "t", "zero", 1, 10, 0, &v, err,
					  sizeof(err)),
			==, LL_ERR_CONFIG);
	g_assert_cmpstr(err, ==,
			"t.conf:5: value of 'zero' in [t] must be "
			"between 1 and 10");
	g_assert_cmpint(ll_config_get_int(cfg, "t", "huge", INT64_MIN,
					  INT64_MAX, 0, &v, err, sizeof(err)),
			==, LL_ERR_CONFIG);
	g_assert_true(g_str_has_prefix(err, "t.conf:7: "));
	g_assert_cmpint(ll_config_get_int(cfg, "t", "tiny", INT64_MIN,
					  INT64_MAX, 0, &v, err, sizeof(err)),
			==, LL_ERR_CONFIG);
	g_assert_true(g_str_has_prefix(err, "t.conf:8: "));
	g_assert_cmpint(v, ==, 99);

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(ll_config_get_int(cfg, "t", bad[i].key,
						  INT64_MIN, INT64_MAX, 0, &v,
						  err, sizeof(err)),
				==, LL_ERR_CONFIG);
		g_snprintf(want, sizeof(want),
			   "t.conf:%d: value of '%s' in [t] is not an integer",
			   bad[i].line, bad[i].key);
		g_assert_cmpstr(err, ==, want);
		g_assert_cmpint(v, ==, 99);
	}
	g_assert_cmpint(ll_config_get_int(cfg, "t", "port", 10, 1, 0, &v, err,
					  sizeof(err)),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_config_get_int(cfg, "t", "port", 1, 10, 0, NULL,
					  err, sizeof(err)),
			==, LL_ERR_INVALID_ARG);
	ll_config_free(cfg);
}

static void test_get_bool(void)
{
	struct ll_config *cfg = load_ok(typed_text);
	static const char *const yes[] = { "yes1", "yes2", "yes3", "yes4" };
	static const char *const no[] = { "no1", "no2", "no3", "no4" };
	char err[256];
	bool b;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(yes); i++) {
		b = false;
		g_assert_cmpint(ll_config_get_bool(cfg, "t", yes[i], false, &b,
						   err, sizeof(err)),
				==, LL_OK);
		g_assert_true(b);
		g_assert_cmpint(ll_config_get_bool(cfg, "t", no[i], true, &b,
						   err, sizeof(err)),
				==, LL_OK);
		g_assert_false(b);
	}
	g_assert_cmpint(ll_config_get_bool(cfg, "t", "absent", true, &b, err,
					   sizeof(err)),
			==, LL_OK);
	g_assert_true(b);
	g_assert_cmpint(ll_config_get_bool(cfg, "t", "maybe", true, &b, err,
					   sizeof(err)),
			==, LL_ERR_CONFIG);
	g_assert_cmpstr(err, ==,
			"t.conf:24: value of 'maybe' in [t] is not "
			"a boolean (use true or false)");
	g_assert_true(b);
	b = false;
	g_assert_cmpint(ll_config_get_bool(cfg, "t", "empty", true, &b, err,
					   sizeof(err)),
			==, LL_ERR_CONFIG);
	g_assert_true(g_str_has_prefix(err, "t.conf:14: "));
	g_assert_cmpint(ll_config_get_bool(cfg, "t", "port", true, &b, err,
					   sizeof(err)),
			==, LL_ERR_CONFIG);
	g_assert_true(g_str_has_prefix(err, "t.conf:2: "));
	g_assert_false(b);
	ll_config_free(cfg);
}

static void test_check_keys(void)
{
	static const char *const groups[] = { "relay", "store", NULL };
	static const char *const relay_keys[] = { "listen", "pin_lifetime",
						  NULL };
	static const char *const store_keys[] = { "path", NULL };
	static const char *const *const keys[] = { relay_keys, store_keys };
	static const char *const no_store[] = { "relay", NULL };
	struct ll_config *cfg;
	char err[256] = "";

	cfg = load_ok("[relay]\nlisten = :1\n\n[store]\npath = /x\n");
	g_assert_cmpint(ll_config_check_keys(cfg, groups, keys, err,
					     sizeof(err)),
			==, LL_OK);
	g_assert_cmpint(ll_config_check_keys(cfg, no_store, keys, err,
					     sizeof(err)),
			==, LL_ERR_CONFIG);
	g_assert_cmpstr(err, ==, "t.conf:4: unknown group [store]");
	ll_config_free(cfg);

	cfg = load_ok("[relay]\nlisten = :1\nlisen = :2\n");
	g_assert_cmpint(ll_config_check_keys(cfg, groups, keys, err,
					     sizeof(err)),
			==, LL_ERR_CONFIG);
	g_assert_cmpstr(err, ==, "t.conf:3: unknown key 'lisen' in [relay]");
	ll_config_free(cfg);

	/* A key allowed in another group is still unknown here. */
	cfg = load_ok("[store]\nlisten = :1\n");
	g_assert_cmpint(ll_config_check_keys(cfg, groups, keys, err,
					     sizeof(err)),
			==, LL_ERR_CONFIG);
	g_assert_cmpstr(err, ==, "t.conf:2: unknown key 'listen' in [store]");
	ll_config_free(cfg);

	/* The first offending line in file order is the one named. */
	cfg = load_ok("[relay]\nbad1 = x\n[other]\n[store]\nbad2 = y\n");
	g_assert_cmpint(ll_config_check_keys(cfg, groups, keys, err,
					     sizeof(err)),
			==, LL_ERR_CONFIG);
	g_assert_cmpstr(err, ==, "t.conf:2: unknown key 'bad1' in [relay]");
	ll_config_free(cfg);
	cfg = load_ok("[other]\n[relay]\nbad1 = x\n");
	g_assert_cmpint(ll_config_check_keys(cfg, groups, keys, err,
					     sizeof(err)),
			==, LL_ERR_CONFIG);
	g_assert_cmpstr(err, ==, "t.conf:1: unknown group [other]");
	g_assert_cmpint(ll_config_check_keys(cfg, NULL, keys, err,
					     sizeof(err)),
			==, LL_ERR_INVALID_ARG);
	ll_config_free(cfg);
}

static char *tmp_dir(void)
{
	const char *base = g_getenv("LL_TEST_TMPDIR");
	char *tmpl = g_build_filename(base != NULL ? base : g_get_tmp_dir(),
				      "test_config-XXXXXX", NULL);
	char *dir = g_mkdtemp(tmpl);

	g_assert_nonnull(dir);
	return dir;
}

static void test_load_file(void)
{
	char *dir = tmp_dir();
	char *path = g_build_filename(dir, "relay.conf", NULL);
	char *missing = g_build_filename(dir, "missing.conf", NULL);
	char *big = g_build_filename(dir, "big.conf", NULL);
	struct ll_config *cfg = NULL;
	char err[512], want[512];
	char *content;

	g_assert_true(g_file_set_contents(
		path, "[relay]\nlisten = 127.0.0.1:9\n\n[store\n", -1, NULL));
	g_assert_cmpint(ll_config_load_file(path, &cfg, err, sizeof(err)), ==,
			LL_ERR_CONFIG);
	g_assert_null(cfg);
	g_snprintf(want, sizeof(want),
		   "%s:4: malformed group header (expected '[name]')", path);
	g_assert_cmpstr(err, ==, want);

	g_assert_true(g_file_set_contents(path,
					  "[relay]\nlisten = 127.0.0.1:9\n",
					  -1, NULL));
	g_assert_cmpint(ll_config_load_file(path, &cfg, err, sizeof(err)), ==,
			LL_OK);
	g_assert_cmpstr(ll_config_get(cfg, "relay", "listen"), ==,
			"127.0.0.1:9");
	ll_config_free(cfg);
	cfg = NULL;

	g_assert_cmpint(ll_config_load_file(missing, &cfg, err, sizeof(err)),
			==, LL_ERR_NOT_FOUND);
	g_assert_true(g_str_has_prefix(err, missing));
	g_assert_cmpint(ll_config_load_file(dir, &cfg, err, sizeof(err)), ==,
			LL_ERR_IO);
	g_assert_null(cfg);

	/* Over 1 MiB on disk: refused without reading it all. */
	content = g_strnfill(2 * 1024 * 1024, '#');
	g_assert_true(g_file_set_contents(big, content, -1, NULL));
	g_assert_cmpint(ll_config_load_file(big, &cfg, err, sizeof(err)), ==,
			LL_ERR_CONFIG);
	g_snprintf(want, sizeof(want), "%s:1: file larger than 1 MiB", big);
	g_assert_cmpstr(err, ==, want);
	g_assert_null(cfg);
	g_free(content);

	g_assert_cmpint(ll_config_load_file(NULL, &cfg, err, sizeof(err)), ==,
			LL_ERR_INVALID_ARG);
	g_unlink(path);
	g_unlink(big);
	g_rmdir(dir);
	g_free(path);
	g_free(missing);
	g_free(big);
	g_free(dir);
}

static void collect(const char *group, const char *key, const char *value,
		    unsigned line, void *user)
{
	g_string_append_printf(user, "%u:%s/%s=%s;", line, group,
			       key != NULL ? key : "",
			       value != NULL ? value : "");
}

/* Lines and file order, for checkers that report every problem. */
static void test_lines_foreach(void)
{
	struct ll_config *cfg = load_ok("# c\n[a]\nx = 1\n\n[b]\ny=2\nz =\n");
	GString *s = g_string_new(NULL);

	g_assert_cmpstr(ll_config_name(cfg), ==, "t.conf");
	g_assert_cmpuint(ll_config_line(cfg, "a", NULL), ==, 2);
	g_assert_cmpuint(ll_config_line(cfg, "a", "x"), ==, 3);
	g_assert_cmpuint(ll_config_line(cfg, "b", "z"), ==, 7);
	g_assert_cmpuint(ll_config_line(cfg, "b", "x"), ==, 0);
	g_assert_cmpuint(ll_config_line(cfg, "c", NULL), ==, 0);
	ll_config_foreach(cfg, collect, s);
	g_assert_cmpstr(s->str, ==, "2:a/=;3:a/x=1;5:b/=;6:b/y=2;7:b/z=;");
	g_string_free(s, TRUE);
	ll_config_free(cfg);
	g_assert_null(ll_config_name(NULL));
	g_assert_cmpuint(ll_config_line(NULL, "a", NULL), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config/basic", test_basic);
	g_test_add_func("/config/empty_inputs", test_empty_inputs);
	g_test_add_func("/config/syntax_errors", test_syntax_errors);
	g_test_add_func("/config/encoding_errors", test_encoding_errors);
	g_test_add_func("/config/line_limit", test_line_limit);
	g_test_add_func("/config/file_limit", test_file_limit);
	g_test_add_func("/config/errbuf", test_errbuf_handling);
	g_test_add_func("/config/get_int", test_get_int);
	g_test_add_func("/config/get_bool", test_get_bool);
	g_test_add_func("/config/check_keys", test_check_keys);
	g_test_add_func("/config/load_file", test_load_file);
	g_test_add_func("/config/lines_foreach", test_lines_foreach);
	return g_test_run();
}
