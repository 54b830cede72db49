/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CLI's command table (cli_commands.h) and what reads it, on both
 * sides of the holder's socket: the command line's values, the request
 * lines, the answers, and the help.  Both sides check a value with the
 * same function, so what the command line accepts the holder accepts, and
 * a request written by hand is held to the same rules.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cli_commands.h"
#include "ll_control.h"
#include "ll_err.h"

/* ---- the parameters, each defined once ---- */

static const struct ll_cli_param p_relay = {
	.name = "--relay",
	.metavar = "URL",
	.key = "relay",
	.type = LL_CLI_URL,
	.help = "the relay, https://HOST:PORT (login remembers it)",
};
static const struct ll_cli_param p_ca = {
	.name = "--ca",
	.metavar = "FILE",
	.key = "ca",
	.type = LL_CLI_FILE,
	.help = "an extra trust anchor for the relay's certificate",
};
static const struct ll_cli_param p_profile = {
	.name = "--profile",
	.metavar = "DIR",
	.key = "profile",
	.type = LL_CLI_FILE,
	.help = "where the token is kept (default in the user's config "
		"dir)",
};
static const struct ll_cli_param p_json = {
	.name = "--json",
	.key = "json",
	.type = LL_CLI_FLAG,
	.help = "one JSON object as the result (errors too)",
};

static const struct ll_cli_param p_user = {
	.name = "--user",
	.metavar = "U",
	.key = "user",
	.type = LL_CLI_WORD,
	.help = "the technician's login name (all but --sso)",
};
static const struct ll_cli_param p_sso = {
	.name = "--sso",
	.key = "sso",
	.type = LL_CLI_FLAG,
	.help = "sign in through the organisation's identity provider: "
		"prints the URL to open in a browser and waits",
};
static const struct ll_cli_param p_org = {
	.name = "--org",
	.metavar = "O",
	.key = "org",
	.type = LL_CLI_WORD,
	.help = "the organisation (default: the relay's only one)",
};
static const struct ll_cli_param p_password_stdin = {
	.name = "--password-stdin",
	.key = "password-stdin",
	.type = LL_CLI_FLAG,
	.help = "read the password as one line from standard input "
		"(else asked on the terminal)",
};
static const struct ll_cli_param p_code = {
	.name = "--code",
	.metavar = "TOTP",
	.key = "code",
	.type = LL_CLI_WORD,
	.help = "the authenticator's code, for an account with MFA",
};
static const struct ll_cli_param p_recovery_stdin = {
	.name = "--recovery-code-stdin",
	.key = "recovery-code-stdin",
	.type = LL_CLI_FLAG,
	.help = "answer MFA with a recovery code, read as one line from "
		"standard input (after the password's line with "
		"--password-stdin)",
};
static const struct ll_cli_param p_mfa_code = {
	.name = "CODE",
	.key = "code",
	.type = LL_CLI_WORD,
	.help = "the authenticator's current code for the new seed",
};
static const struct ll_cli_param p_lock = {
	.name = "--lock",
	.metavar = "any|website|shortcut",
	.key = "lock",
	.type = LL_CLI_CHOICE,
	.help = "where the PIN may be entered (default: the org's policy)",
};
static const struct ll_cli_param p_request = {
	.name = "--request",
	.metavar = "CAP,...",
	.key = "request",
	.type = LL_CLI_CAPS,
	.help = "what to ask the user for once they join (default "
		"view,control)",
};
static const struct ll_cli_param p_id = {
	.name = "ID",
	.key = "id",
	.type = LL_CLI_SESSION,
	.help = "the session_id that `pin new` printed (or `queue "
		"pickup`; for `queue pickup` itself, the entry_id that "
		"`queue list` printed)",
};
static const struct ll_cli_param p_timeout = {
	.name = "--timeout",
	.metavar = "S",
	.key = "timeout",
	.type = LL_CLI_INT,
	.min = 1,
	.max = 24 * 3600,
	.help = "give up after S seconds (exit 4)",
};
static const struct ll_cli_param p_caps = {
	.name = "CAP",
	.key = "capabilities",
	.type = LL_CLI_CAPS,
	.flags = LL_CLI_REST,
	.help = "view, control, files, chat, sysinfo, clipboard",
};
static const struct ll_cli_param p_png = {
	.name = "FILE.png",
	.key = "path",
	.type = LL_CLI_PATH,
	.help = "where to write the picture",
};
static const struct ll_cli_param p_as_shown = {
	.name = "--as-shown",
	.key = "as_shown",
	.type = LL_CLI_FLAG,
	.help = "the picture as the technician sees it now (JPEG while "
		"things move), without asking the applet for a fresh one",
};
static const struct ll_cli_param p_x = {
	.name = "X",
	.key = "x",
	.type = LL_CLI_INT,
	.min = 0,
	.max = LL_CONTROL_MAX_COORD,
	.help = "pixels from the remote screen's left edge",
};
static const struct ll_cli_param p_y = {
	.name = "Y",
	.key = "y",
	.type = LL_CLI_INT,
	.min = 0,
	.max = LL_CONTROL_MAX_COORD,
	.help = "pixels from the remote screen's top edge",
};
static const struct ll_cli_param p_button = {
	.name = "--button",
	.metavar = "N",
	.key = "button",
	.type = LL_CLI_INT,
	.min = 1,
	.max = 8,
	.def = 1,
	.help = "the mouse button: 1 left, 2 middle, 3 right",
};
static const struct ll_cli_param p_text = {
	.name = "TEXT",
	.key = "text",
	.type = LL_CLI_TEXT,
	.help = "UTF-8 text, typed as it is (a newline is Return)",
};
static const struct ll_cli_param p_keysym = {
	.name = "KEYSYM",
	.key = "key",
	.type = LL_CLI_KEYSYM,
	.help = "an X key name, or a chord: Return, ctrl+alt+Delete, 0xff0d",
};
static const struct ll_cli_param p_monitor = {
	.name = "NAME|all",
	.key = "name",
	.type = LL_CLI_MONITOR,
	.help = "a name from `session monitors`, or all for the whole "
		"desktop",
};

static const struct ll_cli_param p_chat = {
	.name = "TEXT",
	.key = "text",
	.type = LL_CLI_CHAT,
	.help = "what to write to the user: UTF-8, 1..4096 bytes",
};
static const struct ll_cli_param p_send_file = {
	.name = "FILE",
	.key = "file",
	.type = LL_CLI_PATH,
	.help = "the local file to send (a regular file)",
};
static const struct ll_cli_param p_fetch_name = {
	.name = "NAME",
	.key = "name",
	.type = LL_CLI_WORD,
	.help = "the file you ask for, as the user will read it",
};
static const struct ll_cli_param p_fetch_local = {
	.name = "LOCAL",
	.key = "local",
	.type = LL_CLI_PATH,
	.help = "where to save it; never overwritten: an existing LOCAL "
		"gets a \" (2)\" name",
};

static const struct ll_cli_param p_receive_dir = {
	.name = "DIR",
	.key = "dir",
	.type = LL_CLI_PATH,
	.help = "the folder to save into, under the file's name made safe; "
		"never overwritten: an existing name gets a \" (2)\" name",
};

const struct ll_cli_param *const ll_cli_globals[] = {
	&p_relay,
	&p_ca,
	&p_profile,
	&p_json,
};
const size_t ll_cli_n_globals = G_N_ELEMENTS(ll_cli_globals);

/* ---- the commands ---- */

#define HOLDER_ANSWER_MS 20000
/* A snapshot right after a grant may wait for the first picture. */
#define SNAPSHOT_ANSWER_MS 60000

const struct ll_cli_command ll_cli_commands[] = {
	{
		.words = "login",
		.params = { &p_user, &p_org, &p_password_stdin, &p_code,
			    &p_recovery_stdin, &p_sso },
		.summary = "Logs in (with --user and a password, or --sso "
			   "through the organisation's identity provider) "
			   "and keeps the token in the profile.",
		.run = ll_cli_run_login,
	},
	{
		.words = "mfa enroll",
		.summary = "Starts setting up a second factor: prints the "
			   "otpauth URI (the seed) for an authenticator app; "
			   "`mfa confirm` finishes.",
		.run = ll_cli_run_mfa_enroll,
	},
	{
		.words = "mfa confirm",
		.params = { &p_mfa_code },
		.summary = "Finishes setting up the second factor with the "
			   "app's current code and prints the 10 recovery "
			   "codes, one a line: they are shown this once.",
		.run = ll_cli_run_mfa_confirm,
	},
	{
		.words = "logout",
		.summary = "Logs out and forgets the token.",
		.run = ll_cli_run_logout,
	},
	{
		.words = "password change",
		.summary = "Changes the technician's password (the way out of "
			   "a one-time password): the old one, then the new "
			   "one, each a line of standard input; on a "
			   "terminal asked without echo.",
		.run = ll_cli_run_password_change,
	},
	{
		.words = "pin new",
		.params = { &p_lock, &p_request },
		.summary = "Prints a PIN for the user, then the session_id; "
			   "a background holder keeps the session for the "
			   "session commands.",
		.run = ll_cli_run_pin_new,
	},
	{
		.words = "session list",
		.summary = "Prints the technician's sessions on the relay, "
			   "each as its session_id and state.",
		.run = ll_cli_run_session_list,
	},
	{
		.words = "queue list",
		.summary = "Prints who waits in the organisation's channel "
			   "queues, oldest first: entry_id, channel, seconds "
			   "waited and the user's description.",
		.run = ll_cli_run_queue_list,
	},
	{
		.words = "queue pickup",
		.params = { &p_id, &p_request },
		.summary = "Picks up a waiting user and prints the new "
			   "session_id; a background holder keeps the "
			   "session for the session commands, as for `pin "
			   "new`.",
		.run = ll_cli_run_queue_pickup,
	},
	{
		.words = "session status",
		.params = { &p_id },
		.answer_ms = HOLDER_ANSWER_MS,
		.summary = "Prints the session's state, then the "
			   "capabilities the user allowed, one per line.",
		.holder = ll_holder_status,
		.print = ll_cli_print_status,
	},
	{
		.words = "session wait",
		.params = { &p_id, &p_timeout },
		.answer_ms = 0,
		.summary = "Waits until the user has joined and answered the "
			   "latest request; prints the capabilities allowed "
			   "(exit 3 when denied), then each chat line of the "
			   "user's not yet printed, after \"chat \".",
		.holder = ll_holder_wait,
		.print = ll_cli_print_wait,
	},
	{
		.words = "session request",
		.params = { &p_id, &p_caps, &p_timeout },
		.answer_ms = 0,
		.summary = "Asks the user for more capabilities and waits for "
			   "the answer: prints ok (exit 3 when denied, 7 when "
			   "held back after a recent no, 8 after three).",
		.holder = ll_holder_request,
		.print = ll_cli_print_granted,
	},
	{
		.words = "session snapshot",
		.params = { &p_id, &p_png, &p_as_shown },
		.needs = LL_CAP_VIEW,
		.refusal = "no framebuffer: the user has not allowed viewing",
		.answer_ms = SNAPSHOT_ANSWER_MS,
		.summary = "Writes the remote screen as a PNG file and prints "
			   "its path.",
		.holder = ll_holder_snapshot,
		.print = ll_cli_print_path,
	},
	{
		.words = "session click",
		.params = { &p_id, &p_x, &p_y, &p_button },
		.needs = LL_CAP_CONTROL,
		.refusal = "refused: the user has not allowed control",
		.answer_ms = HOLDER_ANSWER_MS,
		.summary = "Clicks at X, Y on the remote screen.",
		.holder = ll_holder_click,
	},
	{
		.words = "session type",
		.params = { &p_id, &p_text },
		.needs = LL_CAP_CONTROL,
		.refusal = "refused: the user has not allowed control",
		.answer_ms = HOLDER_ANSWER_MS,
		.summary = "Types the text on the remote side.",
		.holder = ll_holder_type,
	},
	{
		.words = "session key",
		.params = { &p_id, &p_keysym },
		.needs = LL_CAP_CONTROL,
		.refusal = "refused: the user has not allowed control",
		.answer_ms = HOLDER_ANSWER_MS,
		.summary = "Presses a key, or a chord (released in reverse).",
		.holder = ll_holder_key,
	},
	{
		.words = "session monitors",
		.params = { &p_id },
		.needs = LL_CAP_VIEW,
		.refusal = "no monitors: the user has not allowed viewing",
		.answer_ms = HOLDER_ANSWER_MS,
		.summary = "Prints the remote monitors as NAME WxH+X+Y, the "
			   "one shown marked with *.",
		.holder = ll_holder_monitors,
		.print = ll_cli_print_monitors,
	},
	{
		.words = "session monitor",
		.params = { &p_id, &p_monitor },
		.needs = LL_CAP_VIEW,
		.refusal = "no monitors: the user has not allowed viewing",
		.answer_ms = HOLDER_ANSWER_MS,
		.summary = "Shows only that monitor (or all of them), then "
			   "prints the monitors as `session monitors` does.",
		.holder = ll_holder_monitor,
		.print = ll_cli_print_monitors,
	},
	{
		.words = "session chat",
		.params = { &p_id, &p_chat },
		.needs = LL_CAP_CHAT,
		.refusal = "refused: the user has not allowed chat",
		.answer_ms = HOLDER_ANSWER_MS,
		.summary = "Writes one line to the user's chat window.",
		.holder = ll_holder_chat,
	},
	{
		.words = "session chat-log",
		.params = { &p_id },
		.answer_ms = HOLDER_ANSWER_MS,
		.summary = "Prints the session's chat so far, a line each: "
			   "HH:MM:SS, who said it (technician or user), the "
			   "text.",
		.holder = ll_holder_chat_log,
		.print = ll_cli_print_chat_log,
	},
	{
		.words = "session sysinfo",
		.params = { &p_id },
		.needs = LL_CAP_SYSINFO,
		.refusal = "no system information: the user has not allowed "
			   "sysinfo",
		.answer_ms = HOLDER_ANSWER_MS,
		.summary = "Asks the user's computer for its system "
			   "information (OS, kernel, CPU, memory, disks, "
			   "network, displays, uptime) and prints it.",
		.holder = ll_holder_sysinfo,
		.print = ll_cli_print_sysinfo,
	},
	{
		.words = "session send",
		.params = { &p_id, &p_send_file, &p_timeout },
		.needs = LL_CAP_FILES,
		.refusal = "refused: the user has not allowed file transfer",
		.summary = "Sends a file to the user, who saves or refuses it; "
			   "waits until it is saved and its SHA-256 checked.",
		.holder = ll_holder_send,
		.transfer = true,
		.print = ll_cli_print_file,
	},
	{
		.words = "session fetch",
		.params = { &p_id, &p_fetch_name, &p_fetch_local, &p_timeout },
		.needs = LL_CAP_FILES,
		.refusal = "refused: the user has not allowed file transfer",
		.summary = "Asks the user for a file, who picks it or refuses; "
			   "saves it as LOCAL and prints where.",
		.holder = ll_holder_fetch,
		.transfer = true,
		.print = ll_cli_print_file,
	},
	{
		.words = "session receive",
		.params = { &p_id, &p_receive_dir, &p_timeout },
		.needs = LL_CAP_FILES,
		.refusal = "refused: the user has not allowed file transfer",
		.summary = "Accepts the file the user offers from the session "
			   "bar (the oldest not yet received, else waits for "
			   "the next) and saves it in DIR; prints where.",
		.holder = ll_holder_receive,
		.transfer = true,
		.print = ll_cli_print_file,
	},
	{
		.words = "session end",
		.params = { &p_id },
		.answer_ms = HOLDER_ANSWER_MS,
		.summary = "Ends the session; its holder exits.",
		.holder = ll_holder_end,
		.print = ll_cli_print_ended,
	},
};
const size_t ll_cli_n_commands = G_N_ELEMENTS(ll_cli_commands);

/* The exit statuses of the CLI (agent.h), in words for the help. */
static const struct {
	int status;
	const char *meaning;
} exits[] = {
	{ LL_EXIT_OK, "ok" },
	{ LL_EXIT_ERROR, "error" },
	{ LL_EXIT_USAGE, "usage" },
	{ LL_EXIT_DENIED, "not allowed by the user" },
	{ LL_EXIT_TIMEOUT, "timed out" },
	{ LL_EXIT_ENDED, "session over" },
	{ LL_EXIT_AUTH, "not logged in / refused" },
	{ LL_EXIT_HELD_BACK, "held back: the user said no just now" },
	{ LL_EXIT_NO_MORE, "the user said no three times" },
	{ LL_EXIT_NOT_PERMITTED, "your group does not permit that" },
	{ LL_EXIT_INTERRUPTED, "stopped by ^C: the transfer cancelled" },
};

/*
 * The holder's answer codes and the CLI's exit status for each.  Besides
 * these, "no_CAP" for each capability (the row's refusal): exit 3.
 */
static const struct {
	const char *code;
	int exit;
} answer_codes[] = {
	{ "usage", LL_EXIT_USAGE },         /* the request is not one */
	{ "denied", LL_EXIT_DENIED },       /* the user said no */
	{ "held_back", LL_EXIT_HELD_BACK }, /* asked again too soon */
	{ "no_more", LL_EXIT_NO_MORE },     /* said no three times */
	{ "timeout", LL_EXIT_TIMEOUT },     /* wait --timeout passed */
	{ "ended", LL_EXIT_ENDED },         /* the session is over */
	{ "failed", LL_EXIT_ERROR },        /* anything else */
	{ "no_monitor", LL_EXIT_ERROR },    /* the applet has no such one */
	{ "refused", LL_EXIT_DENIED },      /* the user refused the file */
	{ "cancelled", LL_EXIT_ERROR },     /* a transfer was cancelled */
	/* beyond the technician's permissions: never sent */
	{ "capability_not_permitted", LL_EXIT_NOT_PERMITTED },
};

int ll_cli_answer_exit(const char *code)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(answer_codes); i++)
		if (strcmp(code, answer_codes[i].code) == 0)
			return answer_codes[i].exit;
	if (strncmp(code, "no_", 3) == 0 && ll_cap_from_name(code + 3) != 0)
		return LL_EXIT_DENIED;
	return LL_EXIT_ERROR;
}

/* ---- finding a row ---- */

/* True if words[0..n) begin with all of cmd's words; *used their count. */
static bool words_match(const struct ll_cli_command *cmd,
			const char *const *words, size_t n, size_t *used)
{
	const char *p = cmd->words, *sp;
	size_t i = 0, len;

	for (;;) {
		sp = strchr(p, ' ');
		len = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (i >= n || strlen(words[i]) != len ||
		    strncmp(words[i], p, len) != 0)
			return false;
		i++;
		if (sp == NULL)
			break;
		p = sp + 1;
	}
	*used = i;
	return true;
}

const struct ll_cli_command *ll_cli_command_find(const char *const *words,
						 size_t n, size_t *used)
{
	const struct ll_cli_command *best = NULL;
	size_t i, u, best_u = 0;

	for (i = 0; i < ll_cli_n_commands; i++)
		if (words_match(&ll_cli_commands[i], words, n, &u) &&
		    u > best_u) {
			best = &ll_cli_commands[i];
			best_u = u;
		}
	if (best != NULL)
		*used = best_u;
	return best;
}

const char *ll_cli_command_request(const struct ll_cli_command *cmd)
{
	const char *sp = strrchr(cmd->words, ' ');

	return sp != NULL ? sp + 1 : cmd->words;
}

static const struct ll_cli_command *command_by_request(const char *name)
{
	size_t i;

	for (i = 0; i < ll_cli_n_commands; i++)
		if (ll_cli_commands[i].holder != NULL &&
		    strcmp(ll_cli_command_request(&ll_cli_commands[i]),
			   name) == 0)
			return &ll_cli_commands[i];
	return NULL;
}

static bool is_option(const struct ll_cli_param *p)
{
	return p->name[0] == '-';
}

/* Whether the holder's request carries the value. */
static bool is_sent(const struct ll_cli_param *p)
{
	return p->type != LL_CLI_SESSION && p->type != LL_CLI_FILE;
}

/* ---- values: one check for both sides ---- */

static void value_clear(struct ll_cli_value *v)
{
	g_free(v->str);
	if (v->keys != NULL)
		g_array_unref(v->keys);
	memset(v, 0, sizeof(*v));
}

static int parse_long(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* A choice among the metavar's words "a|b|c". */
static bool choice_ok(const char *choices, const char *s)
{
	g_auto(GStrv) words = g_strsplit(choices, "|", -1);

	return g_strv_contains((const char *const *)words, s);
}

/* Names (each may hold several, split at commas and blanks) to v->caps
 * and v->str. */
static int caps_take(const struct ll_cli_param *p, const char *const *names,
		     size_t n, struct ll_cli_value *v, char **err)
{
	GString *s;
	char *e = NULL;
	size_t i;

	if (n == 0 || n > 16) {
		*err = g_strdup_printf("%s: name 1 to 16 capabilities",
				       p->name);
		return LL_ERR_INVALID_ARG;
	}
	if ((v->caps = ll_agent_caps_parse(names, (int)n, &e)) == 0) {
		*err = e;
		return LL_ERR_INVALID_ARG;
	}
	s = g_string_new(NULL);
	for (i = 0; i < n; i++)
		g_string_append_printf(s, "%s%s", i > 0 ? "," : "", names[i]);
	v->str = g_string_free(s, FALSE);
	return 0;
}

/*
 * Checks what v holds for p (str, or num for INT; CAPS are taken by
 * caps_take) and derives the rest.  The message names the parameter as
 * the command line does.
 */
static int value_check(const struct ll_cli_param *p, struct ll_cli_value *v,
		       char **err)
{
	const char *s = v->str;

	switch (p->type) {
	case LL_CLI_FLAG:
	case LL_CLI_FILE:
	case LL_CLI_CAPS:
		break;
	case LL_CLI_INT:
		if (v->num < p->min || v->num > p->max) {
			*err = g_strdup_printf("%s is %ld..%ld", p->name,
					       p->min, p->max);
			return LL_ERR_INVALID_ARG;
		}
		break;
	case LL_CLI_WORD:
		if (!g_utf8_validate(s, -1, NULL)) {
			*err = g_strdup_printf("%s is not valid UTF-8",
					       p->name);
			return LL_ERR_MALFORMED;
		}
		break;
	case LL_CLI_CHAT:
		if (!g_utf8_validate(s, -1, NULL) || s[0] == '\0' ||
		    strlen(s) > LL_CONTROL_MAX_CHAT) {
			*err = g_strdup_printf("%s is UTF-8, 1..%u bytes",
					       p->name, LL_CONTROL_MAX_CHAT);
			return LL_ERR_INVALID_ARG;
		}
		break;
	case LL_CLI_URL:
		if (!g_str_has_prefix(s, "https://")) {
			*err = g_strdup_printf("%s must be an https:// URL",
					       p->name);
			return LL_ERR_INVALID_ARG;
		}
		break;
	case LL_CLI_CHOICE:
		if (!choice_ok(p->metavar, s)) {
			*err = g_strdup_printf("%s is one of %s", p->name,
					       p->metavar);
			return LL_ERR_INVALID_ARG;
		}
		break;
	case LL_CLI_SESSION:
		if (!ll_agent_session_id_ok(s)) {
			*err = g_strdup_printf("%s is %s", p->name, p->help);
			return LL_ERR_INVALID_ARG;
		}
		break;
	case LL_CLI_PATH:
		if (!g_utf8_validate(s, -1, NULL)) {
			*err = g_strdup_printf("%s: the file name is not "
					       "valid UTF-8",
					       p->name);
			return LL_ERR_MALFORMED;
		}
		if (!g_path_is_absolute(s)) {
			*err = g_strdup_printf("%s must be an absolute path",
					       p->name);
			return LL_ERR_INVALID_ARG;
		}
		break;
	case LL_CLI_TEXT:
		return ll_keys_from_text(s, &v->keys, err);
	case LL_CLI_KEYSYM:
		if (!g_utf8_validate(s, -1, NULL)) {
			*err = g_strdup_printf("%s is not valid UTF-8",
					       p->name);
			return LL_ERR_MALFORMED;
		}
		return ll_keys_parse_combo(s, &v->keys, err);
	case LL_CLI_MONITOR:
		if (!g_utf8_validate(s, -1, NULL) ||
		    !ll_control_monitor_name_ok(s)) {
			*err = g_strdup_printf("%s is 1..%u characters, no "
					       "control characters",
					       p->name,
					       LL_CONTROL_MAX_MONITOR_NAME);
			return LL_ERR_INVALID_ARG;
		}
		break;
	}
	return 0;
}

/* One value from the command line's text. */
static int value_from_text(const struct ll_cli_param *p, const char *s,
			   struct ll_cli_value *v, char **err)
{
	int r;

	v->set = true;
	switch (p->type) {
	case LL_CLI_FLAG:
		v->num = 1;
		return 0;
	case LL_CLI_INT:
		if (parse_long(s, &v->num) != 0) {
			*err = g_strdup_printf("%s is a number, %ld..%ld",
					       p->name, p->min, p->max);
			return LL_ERR_INVALID_ARG;
		}
		break;
	case LL_CLI_CAPS:
		return caps_take(p, &s, 1, v, err);
	case LL_CLI_PATH:
		/* the holder runs in another directory */
		v->str = g_canonicalize_filename(s, NULL);
		break;
	default:
		v->str = g_strdup(s);
		break;
	}
	if ((r = value_check(p, v, err)) != 0)
		return r;
	return 0;
}

int ll_cli_param_check(const struct ll_cli_param *p, const char *s, char **err)
{
	struct ll_cli_value v = { .set = true };
	int r;

	r = value_from_text(p, s, &v, err);
	value_clear(&v);
	return r;
}

static struct ll_cli_req *req_new(const struct ll_cli_command *cmd)
{
	struct ll_cli_req *req = g_new0(struct ll_cli_req, 1);

	req->cmd = cmd;
	return req;
}

void ll_cli_req_free(struct ll_cli_req *req)
{
	size_t i;

	if (req == NULL)
		return;
	for (i = 0; i < LL_CLI_MAX_PARAMS; i++)
		value_clear(&req->v[i]);
	g_free(req);
}

static size_t n_params(const struct ll_cli_command *cmd)
{
	size_t n = 0;

	while (n < LL_CLI_MAX_PARAMS && cmd->params[n] != NULL)
		n++;
	return n;
}

/* The synopsis is the message for a wrong count or a missing option. */
static char *usage_of(const struct ll_cli_command *cmd)
{
	return ll_cli_synopsis(cmd);
}

int ll_cli_req_from_argv(const struct ll_cli_command *cmd,
			 const char *const *args, size_t n,
			 const char *const *options, struct ll_cli_req **out,
			 char **err)
{
	struct ll_cli_req *req = req_new(cmd);
	const struct ll_cli_param *p;
	size_t i, np = n_params(cmd), a = 0;
	int r = LL_ERR_INVALID_ARG;

	for (i = 0; i < np; i++) {
		p = cmd->params[i];
		if (is_option(p)) {
			if (options[i] != NULL) {
				if ((r = value_from_text(p, options[i],
							 &req->v[i], err)) !=
				    0)
					goto out;
			} else if (p->flags & LL_CLI_REQUIRED) {
				*err = usage_of(cmd);
				goto out;
			} else if (p->type == LL_CLI_INT) {
				req->v[i].num = p->def;
			}
			continue;
		}
		if (p->flags & LL_CLI_REST) {
			if (a >= n) {
				*err = usage_of(cmd);
				goto out;
			}
			req->v[i].set = true;
			if ((r = caps_take(p, args + a, n - a, &req->v[i],
					   err)) != 0)
				goto out;
			a = n;
			continue;
		}
		if (a >= n) {
			*err = usage_of(cmd);
			goto out;
		}
		if ((r = value_from_text(p, args[a++], &req->v[i], err)) != 0)
			goto out;
	}
	if (a != n) {
		*err = usage_of(cmd);
		goto out;
	}
	*out = req;
	return 0;
out:
	ll_cli_req_free(req);
	return r < 0 ? r : LL_ERR_INVALID_ARG;
}

json_t *ll_cli_caps_json(uint32_t caps)
{
	json_t *a = json_array();
	uint32_t bit;

	for (bit = 1; bit <= LL_CAP_ALL; bit <<= 1)
		if (caps & bit)
			json_array_append_new(a,
					      json_string(ll_cap_name(bit)));
	return a;
}

char *ll_cli_req_to_json(const struct ll_cli_req *req)
{
	const struct ll_cli_command *cmd = req->cmd;
	const struct ll_cli_param *p;
	json_t *o = json_object(), *v;
	size_t i, np = n_params(cmd);
	char *text;

	json_object_set_new(o, "cmd",
			    json_string(ll_cli_command_request(cmd)));
	for (i = 0; i < np; i++) {
		p = cmd->params[i];
		if (!req->v[i].set || !is_sent(p))
			continue;
		switch (p->type) {
		case LL_CLI_FLAG:
			v = json_true();
			break;
		case LL_CLI_INT:
			v = json_integer(req->v[i].num);
			break;
		case LL_CLI_CAPS:
			v = ll_cli_caps_json(req->v[i].caps);
			break;
		default:
			/* checked UTF-8 where it is sent */
			v = json_string(req->v[i].str);
			break;
		}
		json_object_set_new(o, p->key, v);
	}
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

/* "click takes only cmd, x, y, button" */
static char *members_of(const struct ll_cli_command *cmd)
{
	GString *s = g_string_new(NULL);
	size_t i, np = n_params(cmd);

	g_string_append_printf(s, "%s takes only cmd",
			       ll_cli_command_request(cmd));
	for (i = 0; i < np; i++)
		if (is_sent(cmd->params[i]))
			g_string_append_printf(s, ", %s", cmd->params[i]->key);
	return g_string_free(s, FALSE);
}

/* One value from the request's member. */
static int value_from_json(const struct ll_cli_param *p, json_t *j,
			   struct ll_cli_value *v, const char *cmd, char **err)
{
	const char **names;
	json_t *e;
	size_t i;
	int r;

	v->set = true;
	switch (p->type) {
	case LL_CLI_FLAG:
		if (!json_is_true(j))
			goto type;
		v->num = 1;
		return 0;
	case LL_CLI_INT:
		if (!json_is_integer(j) || json_integer_value(j) < p->min ||
		    json_integer_value(j) > p->max)
			goto type;
		v->num = (long)json_integer_value(j);
		return 0;
	case LL_CLI_CAPS:
		if (!json_is_array(j))
			goto type;
		names = g_new0(const char *, json_array_size(j) + 1);
		json_array_foreach(j, i, e)
			names[i] = json_is_string(e) ? json_string_value(e)
						     : "?";
		r = caps_take(p, names, json_array_size(j), v, err);
		g_free(names);
		return r;
	default:
		/* jansson hands out valid UTF-8 only; a NUL inside would
		 * cut the text short: refused */
		if (!json_is_string(j) ||
		    strlen(json_string_value(j)) != json_string_length(j))
			goto type;
		v->str = g_strdup(json_string_value(j));
		return value_check(p, v, err);
	}
type:
	*err = g_strdup_printf("%s needs %s as \"%s\"%s", cmd, p->name, p->key,
			       p->type == LL_CLI_INT ? " (a number in range)"
						     : "");
	return LL_ERR_SCHEMA;
}

int ll_cli_req_from_json(const char *line, size_t len, struct ll_cli_req **out,
			 char **err)
{
	const struct ll_cli_command *cmd;
	const struct ll_cli_param *p;
	struct ll_cli_req *req = NULL;
	const char *name = NULL, *key;
	json_t *o, *j;
	size_t i, np;
	bool known;
	int r = LL_ERR_SCHEMA;

	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (o == NULL || !json_is_object(o)) {
		*err = g_strdup("the request is not a JSON object");
		r = LL_ERR_BAD_JSON;
		goto out;
	}
	if (json_unpack(o, "{s:s}", "cmd", &name) != 0) {
		*err = g_strdup("no command");
		goto out;
	}
	if ((cmd = command_by_request(name)) == NULL) {
		*err = g_strdup("unknown command");
		goto out;
	}
	np = n_params(cmd);
	json_object_foreach(o, key, j)
	{
		known = strcmp(key, "cmd") == 0;
		for (i = 0; i < np && !known; i++)
			known = is_sent(cmd->params[i]) &&
				strcmp(cmd->params[i]->key, key) == 0;
		if (!known) {
			/* what it takes, not what came: no echo of
			 * arbitrary text */
			*err = members_of(cmd);
			goto out;
		}
	}
	req = req_new(cmd);
	for (i = 0; i < np; i++) {
		p = cmd->params[i];
		if (!is_sent(p))
			continue;
		if ((j = json_object_get(o, p->key)) == NULL) {
			if (!is_option(p) || (p->flags & LL_CLI_REQUIRED)) {
				*err = g_strdup_printf("%s needs %s as \"%s\"",
						       name, p->name, p->key);
				r = LL_ERR_SCHEMA;
				goto out;
			}
			if (p->type == LL_CLI_INT)
				req->v[i].num = p->def;
			continue;
		}
		if ((r = value_from_json(p, j, &req->v[i], name, err)) != 0)
			goto out;
	}
	*out = req;
	req = NULL;
	r = 0;
out:
	ll_cli_req_free(req);
	json_decref(o);
	return r;
}

/* ---- accessors ---- */

static const struct ll_cli_value *value_of(const struct ll_cli_req *req,
					   const char *key, size_t *idx)
{
	size_t i, np = n_params(req->cmd);

	for (i = 0; i < np; i++)
		if (strcmp(req->cmd->params[i]->key, key) == 0) {
			if (idx != NULL)
				*idx = i;
			return &req->v[i];
		}
	/* a handler asking for what its row does not have */
	g_critical("command \"%s\" has no \"%s\"", req->cmd->words, key);
	return NULL;
}

bool ll_cli_req_takes(const struct ll_cli_req *req, const char *key)
{
	size_t i, np = n_params(req->cmd);

	for (i = 0; i < np; i++)
		if (strcmp(req->cmd->params[i]->key, key) == 0)
			return true;
	return false;
}

bool ll_cli_req_has(const struct ll_cli_req *req, const char *key)
{
	const struct ll_cli_value *v = value_of(req, key, NULL);

	return v != NULL && v->set;
}

const char *ll_cli_req_str(const struct ll_cli_req *req, const char *key)
{
	const struct ll_cli_value *v = value_of(req, key, NULL);

	return v != NULL && v->set ? v->str : NULL;
}

long ll_cli_req_int(const struct ll_cli_req *req, const char *key)
{
	const struct ll_cli_value *v = value_of(req, key, NULL);

	return v != NULL ? v->num : 0;
}

const GArray *ll_cli_req_keys(const struct ll_cli_req *req, const char *key)
{
	const struct ll_cli_value *v = value_of(req, key, NULL);

	return v != NULL ? v->keys : NULL;
}

uint32_t ll_cli_req_caps(const struct ll_cli_req *req, const char *key)
{
	const struct ll_cli_value *v = value_of(req, key, NULL);

	return v != NULL ? v->caps : 0;
}

/* ---- answers ---- */

int ll_cli_answer_parse(const char *line, size_t len,
			struct ll_cli_answer *out)
{
	const char *code = "failed", *msg = "failed";
	json_t *o, *j;

	o = json_loadb(line, len, 0, NULL);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		return LL_ERR_BAD_JSON;
	}
	memset(out, 0, sizeof(*out));
	out->ok = json_is_true(json_object_get(o, "ok"));
	if (out->ok) {
		json_object_del(o, "ok");
		out->body = o;
		return 0;
	}
	if ((j = json_object_get(o, "code")) != NULL && json_is_string(j) &&
	    json_string_length(j) > 0)
		code = json_string_value(j);
	if ((j = json_object_get(o, "error")) != NULL && json_is_string(j) &&
	    json_string_length(j) > 0)
		msg = json_string_value(j);
	out->code = g_strdup(code);
	out->message = g_strdup(msg);
	out->exit = ll_cli_answer_exit(out->code);
	json_decref(o);
	return 0;
}

void ll_cli_answer_clear(struct ll_cli_answer *a)
{
	g_free(a->code);
	g_free(a->message);
	json_decref(a->body);
	memset(a, 0, sizeof(*a));
}

/* ---- lines ---- */

int ll_cli_line_feed(GString *buf, const void *data, size_t n, size_t max,
		     size_t *len)
{
	const char *nl;
	size_t old = buf->len;

	/* never hold more than max + 1 bytes: the rest cannot matter */
	if (old > max)
		return LL_ERR_TOO_LARGE;
	g_string_append_len(buf, data, (gssize)MIN(n, max + 1 - old));
	/* only the new bytes can hold the first newline */
	if ((nl = memchr(buf->str + old, '\n', buf->len - old)) != NULL) {
		*len = (size_t)(nl - buf->str);
		return 1;
	}
	return buf->len > max ? LL_ERR_TOO_LARGE : 0;
}

/* ---- help ---- */

static void param_synopsis(GString *s, const struct ll_cli_param *p)
{
	bool opt = is_option(p) && !(p->flags & LL_CLI_REQUIRED);

	g_string_append_printf(s, " %s%s%s%s%s", opt ? "[" : "", p->name,
			       p->metavar != NULL ? " " : "",
			       p->metavar != NULL ? p->metavar : "",
			       (p->flags & LL_CLI_REST) ? "..." : "");
	if (opt)
		g_string_append_c(s, ']');
}

char *ll_cli_synopsis(const struct ll_cli_command *cmd)
{
	GString *s = g_string_new(cmd->words);
	size_t i, np = n_params(cmd);

	for (i = 0; i < np; i++)
		param_synopsis(s, cmd->params[i]);
	return g_string_free(s, FALSE);
}

void ll_cli_help(FILE *out)
{
	GString *s = g_string_new("lifeline-agent --cli");
	char *syn;
	size_t i;

	for (i = 0; i < ll_cli_n_globals; i++)
		param_synopsis(s, ll_cli_globals[i]);
	fprintf(out, "%s COMMAND\n", s->str);
	g_string_free(s, TRUE);
	for (i = 0; i < ll_cli_n_commands; i++) {
		syn = ll_cli_synopsis(&ll_cli_commands[i]);
		fprintf(out, "  %s\n", syn);
		g_free(syn);
	}
	fputs("`lifeline-agent --cli help COMMAND` tells more.\nExit status:",
	      out);
	for (i = 0; i < G_N_ELEMENTS(exits); i++)
		fprintf(out, "%s %d %s", i > 0 ? "," : "", exits[i].status,
			exits[i].meaning);
	fputc('\n', out);
}

static void param_help(FILE *out, const struct ll_cli_param *p)
{
	g_autofree char *head = g_strdup_printf(
		"%s%s%s%s", p->name, p->metavar != NULL ? " " : "",
		p->metavar != NULL ? p->metavar : "",
		(p->flags & LL_CLI_REST) ? "..." : "");

	fprintf(out, "  %-14s %s", head, p->help);
	if (p->type == LL_CLI_INT)
		fprintf(out, "; %ld..%ld", p->min, p->max);
	if (p->type == LL_CLI_INT && is_option(p) && p->def != 0)
		fprintf(out, ", default %ld", p->def);
	fputc('\n', out);
}

static void command_help(FILE *out, const struct ll_cli_command *cmd)
{
	g_autofree char *syn = ll_cli_synopsis(cmd);
	size_t i, np = n_params(cmd);

	fprintf(out, "lifeline-agent --cli %s\n%s\n", syn, cmd->summary);
	if (cmd->needs != 0)
		fprintf(out,
			"Needs the user's permission for %s (else exit "
			"%d).\n",
			ll_cap_name(cmd->needs), LL_EXIT_DENIED);
	for (i = 0; i < np; i++)
		param_help(out, cmd->params[i]);
}

bool ll_cli_help_command(FILE *out, const char *const *words, size_t n)
{
	GString *s = g_string_new(NULL);
	g_autofree char *want = NULL;
	const char *w;
	size_t i, k = 0, len;

	for (i = 0; i < n; i++)
		g_string_append_printf(s, "%s%s", i > 0 ? " " : "", words[i]);
	want = g_string_free(s, FALSE);
	len = strlen(want);

	for (i = 0; i < ll_cli_n_commands; i++) {
		w = ll_cli_commands[i].words;
		if (n > 0 && (strncmp(w, want, len) != 0 ||
			      (w[len] != '\0' && w[len] != ' ')))
			continue;
		if (k++ > 0)
			fputc('\n', out);
		command_help(out, &ll_cli_commands[i]);
	}
	if (k == 0)
		return false;
	fputs("\nGlobal options:\n", out);
	for (i = 0; i < ll_cli_n_globals; i++)
		param_help(out, ll_cli_globals[i]);
	return true;
}
