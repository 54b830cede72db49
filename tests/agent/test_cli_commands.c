/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent CLI's command table (agent/cli_commands.c) without a relay:
 *  - the table is whole: every row runs in one place, holder rows begin
 *    with the session ID, an option is one definition wherever it is
 *    used, a row that needs a capability says how it refuses;
 *  - the synopses are those of docs/API.md and the help;
 *  - what the command line makes of each holder command, the holder
 *    reads back the same (the request line is the only link);
 *  - the holder refuses, with a sentence, what the command line would
 *    not have sent;
 *  - answers map to the exit statuses of agent.h; lines are bounded.
 */
#include <string.h>

#include <glib.h>

#include "agent.h"
#include "cli_commands.h"
#include "ll_control.h"
#include "ll_err.h"

static const struct ll_cli_command *find(const char *words)
{
	g_auto(GStrv) w = g_strsplit(words, " ", -1);
	size_t used = 0;
	const struct ll_cli_command *cmd;

	cmd = ll_cli_command_find((const char *const *)w, g_strv_length(w),
				  &used);
	g_assert_nonnull(cmd);
	g_assert_cmpstr(cmd->words, ==, words);
	g_assert_cmpuint(used, ==, g_strv_length(w));
	return cmd;
}

static size_t n_params(const struct ll_cli_command *cmd)
{
	size_t n = 0;

	while (n < LL_CLI_MAX_PARAMS && cmd->params[n] != NULL)
		n++;
	return n;
}

static void test_table(void)
{
	const struct ll_cli_command *a, *b;
	const struct ll_cli_param *p, *q;
	size_t i, j, k, l;
	bool options;

	for (i = 0; i < ll_cli_n_commands; i++) {
		a = &ll_cli_commands[i];
		g_test_message("%s", a->words);
		g_assert_true((a->run != NULL) != (a->holder != NULL));
		g_assert_true(a->print == NULL || a->holder != NULL);
		g_assert_nonnull(a->summary);
		g_assert_true((a->needs == 0) == (a->refusal == NULL));
		g_assert_true(a->needs == 0 || ll_cap_name(a->needs) != NULL);
		if (a->holder != NULL) {
			g_assert_nonnull(a->params[0]);
			g_assert_cmpint(a->params[0]->type, ==,
					LL_CLI_SESSION);
			g_assert_cmpstr(a->params[0]->key, ==, "id");
			/* only the user's answer may take unbounded (a
			 * file waits for Save, then for its bytes) */
			g_assert_true(
				a->answer_ms > 0 ||
				strcmp(a->words, "session wait") == 0 ||
				strcmp(a->words, "session request") == 0 ||
				strcmp(a->words, "session send") == 0 ||
				strcmp(a->words, "session fetch") == 0 ||
				strcmp(a->words, "session receive") == 0);
		}
		options = false;
		for (j = 0; j < n_params(a); j++) {
			p = a->params[j];
			g_assert_nonnull(p->help);
			if (p->name[0] == '-') {
				options = true;
				g_assert_true((p->metavar == NULL) ==
					      (p->type == LL_CLI_FLAG));
				g_assert_false(p->flags & LL_CLI_REST);
			} else {
				/* positionals first, a rest last */
				g_assert_false(options);
				g_assert_false(p->flags & LL_CLI_REQUIRED);
				g_assert_true(!(p->flags & LL_CLI_REST) ||
					      j + 1 == n_params(a) ||
					      a->params[j + 1]->name[0] ==
						      '-');
			}
			/* a flag goes to the holder as true
			 * (session snapshot --as-shown) */
			if (a->holder != NULL)
				g_assert_true(p->type != LL_CLI_FILE &&
					      !(p->flags & LL_CLI_REQUIRED));
			for (k = 0; k < j; k++)
				g_assert_cmpstr(a->params[k]->key, !=, p->key);
		}
		for (k = 0; k < i; k++) {
			b = &ll_cli_commands[k];
			g_assert_cmpstr(a->words, !=, b->words);
			if (a->holder != NULL && b->holder != NULL)
				g_assert_cmpstr(ll_cli_command_request(a), !=,
						ll_cli_command_request(b));
			/* one option, one definition (a positional's name
			 * is a placeholder: TEXT to type is not TEXT to
			 * chat) */
			for (j = 0; j < n_params(a); j++)
				for (l = 0; l < n_params(b); l++) {
					p = a->params[j];
					q = b->params[l];
					if (p->name[0] == '-' &&
					    strcmp(p->name, q->name) == 0)
						g_assert_true(p == q);
				}
		}
		for (j = 0; j < n_params(a); j++)
			for (k = 0; k < ll_cli_n_globals; k++)
				g_assert_cmpstr(a->params[j]->name, !=,
						ll_cli_globals[k]->name);
	}
}

static void test_synopsis(void)
{
	/* docs/API.md's agent command line, and the help before the table */
	static const char *const lines[] = {
		"login [--user U] [--org O] [--password-stdin] [--code TOTP] "
		"[--recovery-code-stdin] [--sso]",
		"mfa enroll",
		"mfa confirm CODE",
		"logout",
		"password change",
		"pin new [--lock any|website|shortcut] [--request CAP,...]",
		"session list",
		"queue list",
		"queue pickup ID [--request CAP,...]",
		"session status ID",
		"session wait ID [--timeout S]",
		"session request ID CAP... [--timeout S]",
		"session snapshot ID FILE.png [--as-shown]",
		"session click ID X Y [--button N]",
		"session type ID TEXT",
		"session key ID KEYSYM",
		"session monitors ID",
		"session monitor ID NAME|all",
		"session chat ID TEXT",
		"session chat-log ID",
		"session sysinfo ID",
		"session send ID FILE [--timeout S]",
		"session fetch ID NAME LOCAL [--timeout S]",
		"session receive ID DIR [--timeout S]",
		"session end ID",
	};
	size_t i;
	char *s, *help = NULL;
	size_t len = 0;
	FILE *f;

	g_assert_cmpuint(ll_cli_n_commands, ==, G_N_ELEMENTS(lines));
	for (i = 0; i < G_N_ELEMENTS(lines); i++) {
		s = ll_cli_synopsis(&ll_cli_commands[i]);
		g_assert_cmpstr(s, ==, lines[i]);
		g_free(s);
	}
	f = open_memstream(&help, &len);
	ll_cli_help(f);
	fclose(f);
	g_assert_true(g_str_has_prefix(
		help, "lifeline-agent --cli [--relay URL] [--ca FILE] "
		      "[--profile DIR] [--json] COMMAND\n"));
	for (i = 0; i < G_N_ELEMENTS(lines); i++) {
		s = g_strdup_printf("\n  %s\n", lines[i]);
		g_assert_nonnull(strstr(help, s));
		g_free(s);
	}
	g_assert_nonnull(strstr(help, "3 not allowed by the user"));
	free(help);

	/* a group: all of its commands; a word that is none: nothing */
	help = NULL;
	f = open_memstream(&help, &len);
	g_assert_true(
		ll_cli_help_command(f, (const char *const[]){ "session" }, 1));
	fclose(f);
	g_assert_nonnull(strstr(help, "session monitor ID NAME|all\n"));
	g_assert_nonnull(strstr(help, "--button N"));
	g_assert_null(strstr(help, "--cli pin new"));
	g_assert_nonnull(strstr(help, "--cli session end ID\n"));
	free(help);
	help = NULL;
	f = open_memstream(&help, &len);
	g_assert_false(
		ll_cli_help_command(f, (const char *const[]){ "sess" }, 1));
	g_assert_false(ll_cli_help_command(
		f, (const char *const[]){ "session", "clik" }, 2));
	fclose(f);
	free(help);
}

/* The command line's request, read back by the holder. */
static struct ll_cli_req *round_trip(const char *words,
				     const char *const *args,
				     const char *const *opts)
{
	const struct ll_cli_command *cmd = find(words);
	struct ll_cli_req *a = NULL, *b = NULL;
	const char *none[LL_CLI_MAX_PARAMS] = { NULL };
	char *err = NULL, *line;
	size_t n = 0, i;

	while (args[n] != NULL)
		n++;
	g_assert_cmpint(ll_cli_req_from_argv(cmd, args, n,
					     opts != NULL ? opts : none, &a,
					     &err),
			==, 0);
	g_assert_null(err);
	line = ll_cli_req_to_json(a);
	g_test_message("%s", line);
	g_assert_cmpint(ll_cli_req_from_json(line, strlen(line), &b, &err), ==,
			0);
	g_assert_null(err);
	g_assert_true(b->cmd == cmd);
	for (i = 0; i < n_params(cmd); i++) {
		if (cmd->params[i]->type == LL_CLI_SESSION) {
			g_assert_false(b->v[i].set);
			continue;
		}
		g_assert_cmpint(a->v[i].set, ==, b->v[i].set);
		g_assert_cmpint(a->v[i].num, ==, b->v[i].num);
		g_assert_cmpuint(a->v[i].caps, ==, b->v[i].caps);
		if (cmd->params[i]->type != LL_CLI_CAPS)
			g_assert_cmpstr(a->v[i].str, ==, b->v[i].str);
		g_assert_true((a->v[i].keys == NULL) ==
			      (b->v[i].keys == NULL));
		if (a->v[i].keys != NULL) {
			g_assert_cmpuint(a->v[i].keys->len, ==,
					 b->v[i].keys->len);
			g_assert_cmpint(memcmp(a->v[i].keys->data,
					       b->v[i].keys->data,
					       a->v[i].keys->len * 4),
					==, 0);
		}
	}
	g_free(line);
	ll_cli_req_free(a);
	return b;
}

#define ID "0123456789abcdef0123456789abcdef"

static void test_round_trip(void)
{
	struct ll_cli_req *r;

	r = round_trip("session status", (const char *[]){ ID, NULL }, NULL);
	ll_cli_req_free(r);

	r = round_trip("session wait", (const char *[]){ ID, NULL }, NULL);
	g_assert_false(ll_cli_req_has(r, "timeout"));
	ll_cli_req_free(r);
	r = round_trip("session wait", (const char *[]){ ID, NULL },
		       (const char *[]){ NULL, "20" });
	g_assert_cmpint(ll_cli_req_int(r, "timeout"), ==, 20);
	ll_cli_req_free(r);

	r = round_trip("session request",
		       (const char *[]){ ID, "control", "view,chat", NULL },
		       NULL);
	g_assert_cmpuint(ll_cli_req_caps(r, "capabilities"), ==,
			 LL_CAP_VIEW | LL_CAP_CONTROL | LL_CAP_CHAT);
	g_assert_false(ll_cli_req_has(r, "timeout"));
	ll_cli_req_free(r);
	/* every capability travels, clipboard (#13) included */
	r = round_trip("session request",
		       (const char *[]){ ID, "clipboard", "sysinfo,view",
					 NULL },
		       NULL);
	g_assert_cmpuint(ll_cli_req_caps(r, "capabilities"), ==,
			 LL_CAP_CLIPBOARD | LL_CAP_SYSINFO | LL_CAP_VIEW);
	ll_cli_req_free(r);
	r = round_trip("session sysinfo", (const char *[]){ ID, NULL }, NULL);
	ll_cli_req_free(r);
	r = round_trip("session request", (const char *[]){ ID, "view", NULL },
		       (const char *[]){ NULL, NULL, "45" });
	g_assert_cmpint(ll_cli_req_int(r, "timeout"), ==, 45);
	ll_cli_req_free(r);

	/* relative on the command line, absolute on the wire */
	r = round_trip("session snapshot",
		       (const char *[]){ ID, "shot.png", NULL }, NULL);
	g_assert_true(g_path_is_absolute(ll_cli_req_str(r, "path")));
	g_assert_true(
		g_str_has_suffix(ll_cli_req_str(r, "path"), "/shot.png"));
	g_assert_false(ll_cli_req_has(r, "as_shown"));
	ll_cli_req_free(r);
	/* --as-shown reaches the holder, and only when given */
	r = round_trip("session snapshot",
		       (const char *[]){ ID, "s.png", NULL },
		       (const char *[]){ NULL, NULL, "" });
	g_assert_true(ll_cli_req_has(r, "as_shown"));
	ll_cli_req_free(r);

	r = round_trip("session click",
		       (const char *[]){ ID, "0", "65535", NULL }, NULL);
	g_assert_cmpint(ll_cli_req_int(r, "x"), ==, 0);
	g_assert_cmpint(ll_cli_req_int(r, "y"), ==, 65535);
	g_assert_cmpint(ll_cli_req_int(r, "button"), ==, 1); /* default */
	ll_cli_req_free(r);
	r = round_trip("session click", (const char *[]){ ID, "5", "6", NULL },
		       (const char *[]){ NULL, NULL, NULL, "3" });
	g_assert_cmpint(ll_cli_req_int(r, "button"), ==, 3);
	ll_cli_req_free(r);

	r = round_trip("session type",
		       (const char *[]){ ID, "Hi \xc3\xa9\xe4\xb8\xad\n",
					 NULL },
		       NULL);
	g_assert_cmpuint(ll_cli_req_keys(r, "text")->len, ==, 6);
	ll_cli_req_free(r);
	r = round_trip("session key",
		       (const char *[]){ ID, "ctrl+alt+Delete", NULL }, NULL);
	g_assert_cmpuint(ll_cli_req_keys(r, "key")->len, ==, 3);
	ll_cli_req_free(r);

	r = round_trip("session monitors", (const char *[]){ ID, NULL }, NULL);
	ll_cli_req_free(r);
	r = round_trip("session monitor",
		       (const char *[]){ ID, "HDMI-2", NULL }, NULL);
	g_assert_cmpstr(ll_cli_req_str(r, "name"), ==, "HDMI-2");
	ll_cli_req_free(r);
	r = round_trip("session end", (const char *[]){ ID, NULL }, NULL);
	ll_cli_req_free(r);
}

/* What the command line refuses, with its sentence. */
static void argv_refused(const char *words, const char *const *args,
			 const char *const *opts, const char *sentence)
{
	const struct ll_cli_command *cmd = find(words);
	const char *none[LL_CLI_MAX_PARAMS] = { NULL };
	struct ll_cli_req *req = (struct ll_cli_req *)&none; /* sentinel */
	char *err = NULL;
	size_t n = 0;

	while (args[n] != NULL)
		n++;
	g_assert_cmpint(ll_cli_req_from_argv(cmd, args, n,
					     opts != NULL ? opts : none, &req,
					     &err),
			<, 0);
	g_assert_true(req == (struct ll_cli_req *)&none);
	g_assert_nonnull(err);
	g_test_message("%s: %s", words, err);
	g_assert_nonnull(strstr(err, sentence));
	g_free(err);
}

static void test_argv_refused(void)
{
	argv_refused("session wait", (const char *[]){ "../x", NULL }, NULL,
		     "ID is the session_id that `pin new` printed");
	argv_refused("session wait", (const char *[]){ ID, "x", NULL }, NULL,
		     "session wait ID [--timeout S]");
	argv_refused("session wait", (const char *[]){ ID, NULL },
		     (const char *[]){ NULL, "0" }, "--timeout is 1..86400");
	argv_refused("session click", (const char *[]){ ID, "1", NULL }, NULL,
		     "session click ID X Y [--button N]");
	argv_refused("session click", (const char *[]){ ID, "1", "x", NULL },
		     NULL, "Y is a number");
	argv_refused("session click", (const char *[]){ ID, "-1", "2", NULL },
		     NULL, "X is 0..65535");
	argv_refused("session click", (const char *[]){ ID, "1", "2", NULL },
		     (const char *[]){ NULL, NULL, NULL, "9" },
		     "--button is 1..8");
	argv_refused("session request", (const char *[]){ ID, NULL }, NULL,
		     "session request ID CAP... [--timeout S]");
	argv_refused("session request",
		     (const char *[]){ ID, "view", "fly", NULL }, NULL,
		     "unknown capability \"fly\"");
	argv_refused("session key", (const char *[]){ ID, "NoSuchKey", NULL },
		     NULL, "NoSuchKey");
	argv_refused("session type", (const char *[]){ ID, "a\x01", NULL },
		     NULL, "control character");
	argv_refused("session type", (const char *[]){ ID, "\xff", NULL },
		     NULL, "not valid UTF-8");
	argv_refused("session snapshot",
		     (const char *[]){ ID, "\xff.png", NULL }, NULL,
		     "not valid UTF-8");
	argv_refused("session monitor",
		     (const char *[]){ ID,
				       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				       "xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
				       NULL },
		     NULL, "NAME|all is 1..64 characters");
	argv_refused("pin new", (const char *[]){ NULL },
		     (const char *[]){ "nowhere", NULL },
		     "--lock is one of any|website|shortcut");
	argv_refused("pin new", (const char *[]){ NULL },
		     (const char *[]){ NULL, "view,fly" }, "\"fly\"");
}

/* What the holder refuses, with its sentence. */
static void json_refused(const char *line, const char *sentence)
{
	struct ll_cli_req *req = (struct ll_cli_req *)&line; /* sentinel */
	char *err = NULL;

	g_assert_cmpint(ll_cli_req_from_json(line, strlen(line), &req, &err),
			<, 0);
	g_assert_true(req == (struct ll_cli_req *)&line);
	g_assert_nonnull(err);
	g_test_message("%s: %s", line, err);
	g_assert_nonnull(strstr(err, sentence));
	g_free(err);
}

static void test_json_refused(void)
{
	json_refused("", "not a JSON object");
	json_refused("[]", "not a JSON object");
	json_refused("{\"cmd\":\"status\"", "not a JSON object");
	json_refused("{}", "no command");
	json_refused("{\"cmd\":7}", "no command");
	json_refused("{\"cmd\":\"fly\"}", "unknown command");
	/* the CLI's own commands are none of the holder's */
	json_refused("{\"cmd\":\"login\",\"user\":\"a\"}", "unknown command");
	json_refused("{\"cmd\":\"list\"}", "unknown command");
	json_refused("{\"cmd\":\"status\",\"cmd\":\"end\"}",
		     "not a JSON object");
	json_refused("{\"cmd\":\"status\",\"id\":\"" ID "\"}",
		     "status takes only cmd");
	json_refused("{\"cmd\":\"click\",\"x\":1,\"z\":1}",
		     "click takes only cmd, x, y, button");
	json_refused("{\"cmd\":\"click\",\"x\":1}", "click needs Y");
	json_refused("{\"cmd\":\"click\",\"x\":1,\"y\":65536}",
		     "click needs Y");
	json_refused("{\"cmd\":\"click\",\"x\":\"1\",\"y\":1}",
		     "click needs X");
	json_refused("{\"cmd\":\"click\",\"x\":1,\"y\":1,\"button\":0}",
		     "click needs --button");
	json_refused("{\"cmd\":\"wait\",\"timeout\":0}",
		     "wait needs --timeout");
	json_refused("{\"cmd\":\"wait\",\"timeout\":1.5}",
		     "wait needs --timeout");
	json_refused("{\"cmd\":\"snapshot\",\"path\":\"rel.png\"}",
		     "must be an absolute path");
	/* jansson refuses a NUL inside a string (no JSON_ALLOW_NUL) */
	json_refused("{\"cmd\":\"snapshot\",\"path\":\"/a\\u0000b\"}",
		     "not a JSON object");
	json_refused("{\"cmd\":\"type\",\"text\":\"\\u0007\"}",
		     "control character");
	json_refused("{\"cmd\":\"key\",\"key\":\"NoSuchKey\"}", "NoSuchKey");
	json_refused("{\"cmd\":\"monitor\",\"name\":\"\"}",
		     "NAME|all is 1..64");
	json_refused("{\"cmd\":\"monitor\",\"name\":\"a\\nb\"}",
		     "NAME|all is 1..64");
	json_refused("{\"cmd\":\"request\",\"capabilities\":[]}",
		     "name 1 to 16 capabilities");
	json_refused("{\"cmd\":\"request\",\"capabilities\":\"view\"}",
		     "request needs CAP");
	json_refused("{\"cmd\":\"request\",\"capabilities\":[\"view\",3]}",
		     "unknown capability \"?\"");
}

static void test_answers(void)
{
	static const struct {
		const char *code;
		int exit;
	} codes[] = {
		{ "usage", LL_EXIT_USAGE },
		{ "denied", LL_EXIT_DENIED },
		{ "held_back", LL_EXIT_HELD_BACK },
		{ "no_more", LL_EXIT_NO_MORE },
		{ "capability_not_permitted", LL_EXIT_NOT_PERMITTED },
		{ "no_view", LL_EXIT_DENIED },
		{ "no_control", LL_EXIT_DENIED },
		{ "no_files", LL_EXIT_DENIED },
		{ "no_sysinfo", LL_EXIT_DENIED },
		{ "no_clipboard", LL_EXIT_DENIED },
		{ "timeout", LL_EXIT_TIMEOUT },
		{ "ended", LL_EXIT_ENDED },
		{ "failed", LL_EXIT_ERROR },
		{ "no_monitor", LL_EXIT_ERROR },
		{ "no_", LL_EXIT_ERROR },
		{ "whatever", LL_EXIT_ERROR },
	};
	struct ll_cli_answer a;
	const char *line;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(codes); i++)
		g_assert_cmpint(ll_cli_answer_exit(codes[i].code), ==,
				codes[i].exit);

	line = "{\"ok\":true,\"capabilities\":[\"view\"]}";
	g_assert_cmpint(ll_cli_answer_parse(line, strlen(line), &a), ==, 0);
	g_assert_true(a.ok);
	g_assert_cmpint(a.exit, ==, 0);
	g_assert_null(json_object_get(a.body, "ok"));
	g_assert_nonnull(json_object_get(a.body, "capabilities"));
	ll_cli_answer_clear(&a);

	line = "{\"ok\":false,\"code\":\"no_control\",\"error\":\"refused\"}";
	g_assert_cmpint(ll_cli_answer_parse(line, strlen(line), &a), ==, 0);
	g_assert_false(a.ok);
	g_assert_cmpint(a.exit, ==, LL_EXIT_DENIED);
	g_assert_cmpstr(a.code, ==, "no_control");
	g_assert_cmpstr(a.message, ==, "refused");
	g_assert_null(a.body);
	ll_cli_answer_clear(&a);

	/* no code or sentence of use: a plain failure */
	line = "{\"ok\":1,\"code\":5,\"error\":\"\"}";
	g_assert_cmpint(ll_cli_answer_parse(line, strlen(line), &a), ==, 0);
	g_assert_false(a.ok);
	g_assert_cmpint(a.exit, ==, LL_EXIT_ERROR);
	g_assert_cmpstr(a.code, ==, "failed");
	g_assert_cmpstr(a.message, ==, "failed");
	ll_cli_answer_clear(&a);

	memset(&a, 0x5a, sizeof(a));
	g_assert_cmpint(ll_cli_answer_parse("[1]", 3, &a), ==,
			LL_ERR_BAD_JSON);
	g_assert_cmpint(ll_cli_answer_parse("{\"ok\":true} x", 13, &a), ==,
			LL_ERR_BAD_JSON);
	/* untouched on failure */
	g_assert_cmpint(a.exit, ==, 0x5a5a5a5a);
}

static void test_lines(void)
{
	GString *b = g_string_new(NULL);
	size_t len = 99;

	g_assert_cmpint(ll_cli_line_feed(b, "{\"a\"", 4, 16, &len), ==, 0);
	g_assert_cmpint(ll_cli_line_feed(b, ":1}\nmore\n", 9, 16, &len), ==,
			1);
	g_assert_cmpuint(len, ==, 7);
	g_assert_cmpint(strncmp(b->str, "{\"a\":1}", len), ==, 0);
	g_string_truncate(b, 0);

	/* max bytes without a newline: too large, and no more is kept */
	g_assert_cmpint(ll_cli_line_feed(b, "0123456789", 10, 16, &len), ==,
			0);
	g_assert_cmpint(ll_cli_line_feed(b, "0123456789", 10, 16, &len), ==,
			LL_ERR_TOO_LARGE);
	g_assert_cmpuint(b->len, <=, 17);
	g_assert_cmpint(ll_cli_line_feed(b, "\n", 1, 16, &len), ==,
			LL_ERR_TOO_LARGE);
	g_string_truncate(b, 0);
	/* a line of exactly max bytes is one */
	g_assert_cmpint(ll_cli_line_feed(b, "0123456789abcdef\n", 17, 16,
					 &len),
			==, 1);
	g_assert_cmpuint(len, ==, 16);
	g_string_free(b, TRUE);
}

/*
 * `session wait`'s offers as the CLI prints them: the name made safe
 * again here, whatever the holder sent (ESC, a bidi override, a path),
 * malformed entries skipped.
 */
static void test_offers(void)
{
	json_t *a = json_loads(
		"{\"offers\":[{\"name\":\"a\\u001b[2Jb\\u202etxt.exe\","
		"\"size\":4},{\"name\":\"../etc/passwd\",\"size\":0},"
		"{\"name\":7,\"size\":1},{\"name\":\"x\",\"size\":-1},"
		"{\"name\":\"y\"}]}",
		0, NULL);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	g_assert_nonnull(a);
	g_assert_nonnull(out);
	ll_cli_print_offers(out, a);
	fclose(out);
	g_assert_cmpstr(text, ==,
			"offer a_[2Jb_txt.exe (4 bytes)\n"
			"offer _etc_passwd (0 bytes)\n");
	free(text);
	json_decref(a);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agent/cli_commands/table", test_table);
	g_test_add_func("/agent/cli_commands/synopsis", test_synopsis);
	g_test_add_func("/agent/cli_commands/round_trip", test_round_trip);
	g_test_add_func("/agent/cli_commands/argv_refused", test_argv_refused);
	g_test_add_func("/agent/cli_commands/json_refused", test_json_refused);
	g_test_add_func("/agent/cli_commands/answers", test_answers);
	g_test_add_func("/agent/cli_commands/lines", test_lines);
	g_test_add_func("/agent/cli_commands/offers", test_offers);
	return g_test_run();
}
