/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent CLI's commands: one table that the command line (cli.c), the
 * session holder (cli_holder.c) and the help text all read, as wayvnc's
 * ctl-commands.c and tmux's cmd_entry are.  A row names the command's
 * words, its arguments and options with their types, the capability the
 * user must have allowed, how it runs and how its answer is printed.
 * Adding a holder command is one row in cli_commands.c and one handler in
 * cli_holder.c.
 *
 * The holder's socket speaks one JSON request per connection, one line
 * each way:
 *   {"cmd": LAST_WORD, KEY: VALUE, ...}
 * with the row's arguments and options under their keys (the session id
 * names the socket and is not sent; an option left out is not sent), and
 *   {"ok":true, ...}  or  {"ok":false, "code":C, "error":SENTENCE}
 * with C one of the answer codes of cli_commands.c (ll_cli_answer_exit).
 */
#ifndef LL_CLI_COMMANDS_H
#define LL_CLI_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>
#include <jansson.h>

/* The largest request line the holder reads (without its newline). */
#define LL_CLI_REQUEST_MAX (16 * 1024)
/* The largest answer line the CLI reads. */
#define LL_CLI_ANSWER_MAX (64 * 1024)
/* Arguments and options of one command. */
#define LL_CLI_MAX_PARAMS 6

/* What a value is, and so how both sides check it. */
enum ll_cli_type {
	LL_CLI_FLAG = 0, /* an option without a value */
	LL_CLI_WORD,     /* UTF-8 text, as given (--user, --org, --code) */
	LL_CLI_FILE,     /* a local file name, any bytes; never sent */
	LL_CLI_URL,      /* an https:// URL */
	LL_CLI_CHOICE,   /* one of the words of the metavar: a|b|c */
	LL_CLI_INT,      /* a decimal integer in min..max */
	LL_CLI_SESSION,  /* a session id; names the holder's socket, never
			  * sent */
	LL_CLI_PATH,     /* a file the holder writes: sent absolute, UTF-8 */
	LL_CLI_TEXT,     /* text to type: every character has a key */
	LL_CLI_KEYSYM,   /* a key or a chord: Return, ctrl+alt+Delete */
	LL_CLI_MONITOR,  /* one of the applet's monitor names, or all */
	LL_CLI_CAPS,     /* capability names: view control / view,control */
	LL_CLI_CHAT,     /* a chat line: UTF-8, 1..LL_CONTROL_MAX_CHAT bytes */
};

/* ll_cli_param.flags */
#define LL_CLI_REQUIRED (1u << 0) /* an option that must be given */
#define LL_CLI_REST (1u << 1)     /* a positional taking all the rest */

struct ll_cli_param {
	const char *name;    /* positional "X", option "--button" */
	const char *metavar; /* an option's value in the synopsis: "N";
			      * NULL for positionals and flags */
	const char *key;     /* the request's member, the accessors' name */
	enum ll_cli_type type;
	unsigned flags;
	long min, max;    /* LL_CLI_INT */
	long def;         /* LL_CLI_INT: the value when left out */
	const char *help; /* a phrase for `help COMMAND` */
};

struct ll_cli;           /* cli.c: one run of the command line */
struct ll_holder_client; /* cli_holder.c: one request on the socket */
struct ll_cli_req;

struct ll_cli_command {
	const char *words; /* "session click"; the last word is the
			      * request's "cmd" */
	/* the positionals in order, then the options */
	const struct ll_cli_param *params[LL_CLI_MAX_PARAMS];
	/* The holder refuses the command, code "no_CAP" and exit 3, unless
	 * the user allowed this capability (0: no check), with this
	 * sentence. */
	uint32_t needs;
	const char *refusal;
	/* How long the CLI waits for the holder's answer; 0: as long as the
	 * --timeout option says and 10 s more, without end when not
	 * given. */
	int answer_ms;
	const char *summary; /* one sentence for `help` */
	/* Exactly one of run and holder: the CLI runs the command itself,
	 * or asks the session's holder, whose handler answers the client
	 * now or later (the request stays valid until it does). */
	int (*run)(struct ll_cli *cli, const struct ll_cli_req *req);
	void (*holder)(struct ll_holder_client *c,
		       const struct ll_cli_req *req);
	/* A file transfer: ^C (SIGINT, SIGTERM) while the CLI waits stops
	 * it -- the CLI hangs up, the holder cancels the transfer -- and
	 * the CLI says "NAME: cancelled", exit LL_EXIT_INTERRUPTED.  Other
	 * rows keep the signals' default (the holder forgets the client). */
	bool transfer;
	/* Prints a successful answer without --json (NULL: "ok"). */
	void (*print)(FILE *out, const struct ll_cli_req *req, json_t *answer);
};

extern const struct ll_cli_command ll_cli_commands[];
extern const size_t ll_cli_n_commands;
/* The options every command takes: --relay, --ca, --profile, --json. */
extern const struct ll_cli_param *const ll_cli_globals[];
extern const size_t ll_cli_n_globals;

/* One argument's value, checked. */
struct ll_cli_value {
	bool set;
	long num;      /* FLAG (1), INT */
	char *str;     /* the text of every other type: PATH absolute,
			  * CAPS the names joined by "," */
	GArray *keys;  /* TEXT, KEYSYM: the keysyms (guint32) to send */
	uint32_t caps; /* CAPS */
};

/* A command with its values, as either side parsed it. */
struct ll_cli_req {
	const struct ll_cli_command *cmd;
	struct ll_cli_value v[LL_CLI_MAX_PARAMS]; /* as cmd->params */
};

/*
 * The row for the longest run of words[0..n) that names one; *used gets
 * how many words it took.  NULL when none does.
 */
const struct ll_cli_command *ll_cli_command_find(const char *const *words,
						 size_t n, size_t *used);
/* The request's "cmd" of a row (its last word). */
const char *ll_cli_command_request(const struct ll_cli_command *cmd);
/* "session click ID X Y [--button N]" (caller frees). */
char *ll_cli_synopsis(const struct ll_cli_command *cmd);

/* Checks one option's text as the command line does (for the globals). */
int ll_cli_param_check(const struct ll_cli_param *p, const char *s,
		       char **err);
/*
 * The CLI's side: the positionals after the command's words, and for
 * each of cmd->params the option's value given (NULL: not given; any
 * non-NULL for a flag; ignored for positionals).  *err gets a sentence
 * for the user on failure.
 */
int ll_cli_req_from_argv(const struct ll_cli_command *cmd,
			 const char *const *args, size_t n,
			 const char *const *options, struct ll_cli_req **out,
			 char **err);
/* The request line for the holder, without its newline (caller frees). */
char *ll_cli_req_to_json(const struct ll_cli_req *req);
/*
 * The holder's side: one request line (len bytes, no NUL needed), checked
 * as strictly as the command line was: a known holder command, every
 * argument there and of its type, nothing else.  *err gets a sentence.
 */
int ll_cli_req_from_json(const char *line, size_t len, struct ll_cli_req **out,
			 char **err);
void ll_cli_req_free(struct ll_cli_req *req);

/* Does req's command take key at all?  (Asking the getters below for a
 * key the command does not take is a programming error.) */
bool ll_cli_req_takes(const struct ll_cli_req *req, const char *key);
/* A value by its key; for an option left out: false, NULL, its default,
 * NULL, 0. */
bool ll_cli_req_has(const struct ll_cli_req *req, const char *key);
const char *ll_cli_req_str(const struct ll_cli_req *req, const char *key);
long ll_cli_req_int(const struct ll_cli_req *req, const char *key);
const GArray *ll_cli_req_keys(const struct ll_cli_req *req, const char *key);
uint32_t ll_cli_req_caps(const struct ll_cli_req *req, const char *key);

/* ["view", "control"] for a capability mask. */
json_t *ll_cli_caps_json(uint32_t caps);

/* The holder's answer, as the CLI reads it. */
struct ll_cli_answer {
	bool ok;
	int exit;      /* LL_EXIT_*: 0 when ok */
	char *code;    /* not ok: the answer code ("failed" if none) */
	char *message; /* not ok: the holder's sentence */
	json_t *body;  /* ok: the answer without "ok" */
};
/* One answer line (len bytes).  LL_ERR_BAD_JSON when it is not a JSON
 * object; *out untouched then. */
int ll_cli_answer_parse(const char *line, size_t len,
			struct ll_cli_answer *out);
void ll_cli_answer_clear(struct ll_cli_answer *a);
/* The exit status for an answer code. */
int ll_cli_answer_exit(const char *code);

/*
 * Reads one line: appends data to buf and returns 1 with *len (the line
 * without its '\n') once buf holds a whole one, 0 for more,
 * LL_ERR_TOO_LARGE when max bytes came without one.
 */
int ll_cli_line_feed(GString *buf, const void *data, size_t n, size_t max,
		     size_t *len);

/* Every command's synopsis and the exit statuses. */
void ll_cli_help(FILE *out);
/* The commands that words[0..n) names or begins ("session"), each with
 * its arguments explained; false when there is none. */
bool ll_cli_help_command(FILE *out, const char *const *words, size_t n);

/* ---- cli.c: the commands the CLI runs itself, and printers ---- */

int ll_cli_run_login(struct ll_cli *cli, const struct ll_cli_req *req);
int ll_cli_run_mfa_enroll(struct ll_cli *cli, const struct ll_cli_req *req);
int ll_cli_run_mfa_confirm(struct ll_cli *cli, const struct ll_cli_req *req);
int ll_cli_run_logout(struct ll_cli *cli, const struct ll_cli_req *req);
int ll_cli_run_password_change(struct ll_cli *cli,
			       const struct ll_cli_req *req);
int ll_cli_run_pin_new(struct ll_cli *cli, const struct ll_cli_req *req);
int ll_cli_run_session_list(struct ll_cli *cli, const struct ll_cli_req *req);
int ll_cli_run_queue_list(struct ll_cli *cli, const struct ll_cli_req *req);
int ll_cli_run_queue_pickup(struct ll_cli *cli, const struct ll_cli_req *req);

void ll_cli_print_caps(FILE *out, const struct ll_cli_req *req,
		       json_t *answer);
/* `session request`: "ok", or what was allowed when not all of it. */
void ll_cli_print_granted(FILE *out, const struct ll_cli_req *req,
			  json_t *answer);
void ll_cli_print_status(FILE *out, const struct ll_cli_req *req,
			 json_t *answer);
void ll_cli_print_path(FILE *out, const struct ll_cli_req *req,
		       json_t *answer);
void ll_cli_print_monitors(FILE *out, const struct ll_cli_req *req,
			   json_t *answer);
void ll_cli_print_ended(FILE *out, const struct ll_cli_req *req,
			json_t *answer);
/* sysinfo_text.c: `session sysinfo`'s lines. */
void ll_cli_print_sysinfo(FILE *out, const struct ll_cli_req *req,
			  json_t *answer);

/* ---- cli_holder.c: the holder's handlers ---- */

void ll_holder_status(struct ll_holder_client *c,
		      const struct ll_cli_req *req);
void ll_holder_wait(struct ll_holder_client *c, const struct ll_cli_req *req);
void ll_holder_request(struct ll_holder_client *c,
		       const struct ll_cli_req *req);
void ll_holder_snapshot(struct ll_holder_client *c,
			const struct ll_cli_req *req);
void ll_holder_click(struct ll_holder_client *c, const struct ll_cli_req *req);
void ll_holder_type(struct ll_holder_client *c, const struct ll_cli_req *req);
void ll_holder_key(struct ll_holder_client *c, const struct ll_cli_req *req);
void ll_holder_monitors(struct ll_holder_client *c,
			const struct ll_cli_req *req);
void ll_holder_monitor(struct ll_holder_client *c,
		       const struct ll_cli_req *req);
void ll_holder_end(struct ll_holder_client *c, const struct ll_cli_req *req);
void ll_holder_chat(struct ll_holder_client *c, const struct ll_cli_req *req);
void ll_holder_chat_log(struct ll_holder_client *c,
			const struct ll_cli_req *req);

/* ---- cli_chat.c: chat lines in answers and on the terminal ---- */

struct ll_chat_log;
/* The lines after seq after_seq (only the user's when user_only) as a
 * JSON array of {seq, time, from, text}. */
json_t *ll_cli_chat_json(const struct ll_chat_log *log, uint64_t after_seq,
			 bool user_only);
/* The latest line's seq (0: none yet). */
uint64_t ll_cli_chat_last_seq(const struct ll_chat_log *log);
/* `session chat-log`: "HH:MM:SS SENDER: TEXT" a line. */
void ll_cli_print_chat_log(FILE *out, const struct ll_cli_req *req,
			   json_t *answer);
/* `session wait`: the capabilities, then "chat " and each new line of
 * the user's, then "offer NAME (N bytes)" for each new file offer of
 * the user's (ll_cli_print_offers, cli_files.c). */
void ll_cli_print_wait(FILE *out, const struct ll_cli_req *req,
		       json_t *answer);
/* The answer's "offers" [{name, size}], a line each as `session wait`
 * prints them, each name made safe again (ll_xfer_safe_name). */
void ll_cli_print_offers(FILE *out, json_t *answer);
void ll_holder_sysinfo(struct ll_holder_client *c,
		       const struct ll_cli_req *req);
void ll_holder_send(struct ll_holder_client *c, const struct ll_cli_req *req);
void ll_holder_fetch(struct ll_holder_client *c, const struct ll_cli_req *req);
void ll_holder_receive(struct ll_holder_client *c,
		       const struct ll_cli_req *req);

/* ---- cli_files.c ---- */

/* `session send`/`fetch`: what went where, its size and SHA-256. */
void ll_cli_print_file(FILE *out, const struct ll_cli_req *req,
		       json_t *answer);

#endif
