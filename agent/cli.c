/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `lifeline-agent --cli ...`: the agent's command line of docs/API.md,, for
 * scripts and tests.  The commands, their arguments and the help are
 * the table of cli_commands.c; `lifeline-agent --cli help` prints it:
 *
 *   lifeline-agent --cli [--relay URL] [--ca FILE] [--profile DIR] [--json]
 *     login --user U [--org O] [--password-stdin] [--code TOTP]
 *     logout
 *     password change                 (old, new password: 2 stdin lines)
 *     pin new [--lock any|website|shortcut] [--request CAP,...]
 *     session list
 *     session status ID
 *     session wait ID [--timeout S]
 *     session request ID CAP...
 *     session snapshot ID FILE.png [--as-shown]
 *     session click ID X Y [--button N]
 *     session type ID TEXT
 *     session key ID KEYSYM           (e.g. Return, ctrl+alt+Delete)
 *     session monitors ID             (name WxH+X+Y, the shown one " *")
 *     session monitor ID NAME|all     (show that monitor only, or all)
 *     session end ID
 *
 * Options go anywhere (GOptionContext); after "--" everything is an
 * argument, as a TEXT beginning with '-' needs.
 *
 * Output: one result per line on stdout (with --json one JSON object);
 * errors as one line "lifeline-agent: ..." on stderr (and with --json
 * also {"error": {"code", "message"}} on stdout).  Exit status:
 *   0 success, 1 error, 2 bad command line, 3 not allowed by the user
 *   (denied, no view, no control), 4 timed out, 5 session over or no
 *   holder for it, 6 login refused or not logged in, 7 asked again too
 *   soon after the user said no (not shown to them), 8 the user said no
 *   three times (no more requests are shown in this session), 9 not
 *   permitted to the technician's group, 10 a file transfer stopped by
 *   ^C (SIGINT, SIGTERM): cancelled.
 *
 * `pin new` asks the relay for a PIN and starts the session's holder
 * (cli_holder.c), which asks the user for --request (default
 * "view,control") as soon as they join.  The other session commands talk
 * to that holder over DIR/ID.sock.  The token, the ticket and the
 * password are never printed or logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "agent.h"
#include "cli_commands.h"
#include "ll_control.h"
#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_sso.h"
#include "ll_text.h"
#include "ll_util.h"
#include "ll_xfer.h"

struct ll_cli {
	const char *relay;
	const char *ca_file;
	const char *profile_dir;
	bool json;
	struct ll_profile *profile;
};

static int fail(struct ll_cli *cli, int code, const char *api_code,
		const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static int fail(struct ll_cli *cli, int code, const char *api_code,
		const char *fmt, ...)
{
	va_list ap;
	char *msg;
	json_t *o;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "lifeline-agent: %s\n", msg);
	if (cli->json) {
		o = json_pack("{s:{s:s,s:s}}", "error", "code", api_code,
			      "message", msg);
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
	}
	g_free(msg);
	return code;
}

/* A bad command line: what is wrong, and where the help for it is. */
static int usage(struct ll_cli *cli, const struct ll_cli_command *cmd,
		 const char *what)
{
	return fail(cli, LL_EXIT_USAGE, "usage",
		    "%s (see lifeline-agent "
		    "--cli help%s%s)",
		    what, cmd != NULL ? " " : "",
		    cmd != NULL ? cmd->words : "");
}

static void print_json(json_t *o)
{
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
}

/* ---- relay access ---- */

static int need_relay(struct ll_cli *cli, struct ll_relay_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->url = cli->relay != NULL ? cli->relay : cli->profile->relay;
	o->ca_file = cli->ca_file != NULL ? cli->ca_file
					  : cli->profile->ca_file;
	if (o->url == NULL)
		return fail(cli, LL_EXIT_USAGE, "usage",
			    "which relay? give --relay https://HOST:PORT "
			    "(login remembers it)");
	return 0;
}

/* What to do about a one-time password, wherever the relay says so. */
#define PASSWORD_CHANGE_HINT                                                  \
	"choose your own password first: lifeline-agent --cli password "      \
	"change (the old and the new password on two lines of standard "      \
	"input)"

static int api_fail(struct ll_cli *cli, const char *what,
		    const struct ll_client_error *e)
{
	int code = LL_EXIT_ERROR;
	bool otp = strcmp(e->api_code, "password_change_required") == 0;

	if (e->code == LL_ERR_AUTH_FAILED || e->code == LL_ERR_DISABLED)
		code = LL_EXIT_AUTH;
	return fail(cli, code,
		    e->api_code[0] != '\0' ? e->api_code : "transport",
		    "%s: %s%s%s", what,
		    e->message[0] != '\0' ? e->message : ll_strerror(e->code),
		    otp ? "; " : "", otp ? PASSWORD_CHANGE_HINT : "");
}

/* A client with the stored token.  *out NULL and an exit code returned
 * on failure. */
static int client_with_token(struct ll_cli *cli, struct ll_api_client **out)
{
	struct ll_relay_opts o;
	struct ll_client_error e;
	struct ll_api_client *c;
	char *token = NULL;
	int r;

	*out = NULL;
	if ((r = need_relay(cli, &o)) != 0)
		return r;
	if (ll_profile_get_token(cli->profile, &token) != 0)
		return fail(cli, LL_EXIT_AUTH, "unauthorized",
			    "not logged in: run `lifeline-agent --cli login "
			    "--user NAME` first");
	ll_client_error_clear(&e);
	if ((c = ll_api_client_new(&o, &e)) == NULL) {
		ll_secret_free(token);
		return api_fail(cli, "cannot use the relay", &e);
	}
	r = ll_api_client_set_token(c, token);
	ll_secret_free(token);
	if (r != 0) {
		ll_api_client_free(c);
		return fail(cli, LL_EXIT_ERROR, "internal", "%s",
			    ll_strerror(r));
	}
	*out = c;
	return 0;
}

/* ---- login ---- */

/*
 * One line of standard input holding a secret; with a prompt, asked on
 * the terminal without echo.  NULL, with a usage error naming what, when
 * there is none.
 */
static char *read_secret(struct ll_cli *cli, const char *prompt,
			 const char *what)
{
	char buf[1100];
	struct termios old, quiet;
	bool tty = false, long_line = false;
	size_t len;
	char *pw = NULL;

	if (prompt != NULL) {
		tty = tcgetattr(0, &old) == 0;
		if (tty) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(0, TCSAFLUSH, &quiet);
		}
		fputs(prompt, stderr);
		fflush(stderr);
	}
	if (fgets(buf, sizeof(buf), stdin) != NULL) {
		len = strlen(buf);
		/* no line end yet: too long, and the rest is no next line */
		long_line = len == sizeof(buf) - 1 && buf[len - 1] != '\n';
		while (len > 0 &&
		       (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		if (len > 0 && !long_line)
			pw = g_strdup(buf);
	}
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	memset(buf, 0, sizeof(buf));
	if (long_line)
		fail(cli, LL_EXIT_USAGE, "usage", "the %s is too long", what);
	else if (pw == NULL)
		fail(cli, LL_EXIT_USAGE, "usage", "no %s given", what);
	return pw;
}

static char *read_password(struct ll_cli *cli, bool from_stdin)
{
	if (from_stdin)
		return read_secret(cli, NULL, "password");
	if (!isatty(0)) {
		fail(cli, LL_EXIT_USAGE, "usage",
		     "no terminal to ask for the password: use "
		     "--password-stdin");
		return NULL;
	}
	return read_secret(cli, "Password: ", "password");
}

/* A login's end: where and who in the profile, then the token, and the
 * line that says who is logged in. */
static int login_keep(struct ll_cli *cli, const struct ll_relay_opts *o,
		      const char *user, const char *org,
		      const struct ll_api_login *l)
{
	char *err = NULL;
	int r;

	/* remember where and who, then the token */
	g_free(cli->profile->relay);
	cli->profile->relay = g_strdup(o->url);
	if (cli->ca_file != NULL) {
		g_free(cli->profile->ca_file);
		cli->profile->ca_file = g_canonicalize_filename(cli->ca_file,
								NULL);
	}
	g_free(cli->profile->user);
	cli->profile->user = g_strdup(user);
	g_free(cli->profile->org);
	cli->profile->org = g_strdup(org);
	g_free(cli->profile->capabilities);
	cli->profile->capabilities = NULL;
	if (l->technician.permissions != NULL) {
		char caps[LL_PERM_TEXT_MAX];

		if (ll_perm_format(l->technician.caps, caps, sizeof(caps)) ==
		    LL_OK)
			cli->profile->capabilities = g_strdup(caps);
	}
	if (ll_profile_save(cli->profile, &err) != 0 ||
	    ll_profile_set_token(cli->profile, l->token, &err) != 0) {
		r = fail(cli, LL_EXIT_ERROR, "io", "%s", err);
		g_free(err);
		return r;
	}
	if (l->password_change_required) {
		/* The token is kept: `password change` needs it, and it
		 * serves nothing else until then. */
		r = fail(cli, LL_EXIT_AUTH, "password_change_required",
			 "logged in as %s (%s) with a one-time password: "
			 "%s",
			 l->technician.name != NULL ? l->technician.name
						    : user,
			 l->technician.org != NULL ? l->technician.org : "-",
			 PASSWORD_CHANGE_HINT);
		return r;
	}
	if (cli->json)
		print_json(json_pack("{s:s,s:s?,s:s?,s:I}", "user", user,
				     "name", l->technician.name, "org",
				     l->technician.org, "expires_in",
				     (json_int_t)l->expires_in));
	else
		printf("logged in as %s (%s)\n",
		       l->technician.name != NULL ? l->technician.name : user,
		       l->technician.org != NULL ? l->technician.org : "-");
	return 0;
}

/*
 * login --sso: the sign-in's URL on stdout for the system browser, then
 * the wait for the browser's return (ll_sso.h, shared with the GUI).
 */
static int login_sso(struct ll_cli *cli, const char *org)
{
	struct ll_relay_opts o;
	struct ll_client_error e;
	struct ll_api_client *c = NULL;
	struct ll_api_login l;
	struct ll_sso *s = NULL;
	int r;

	memset(&l, 0, sizeof(l));
	ll_client_error_clear(&e);
	if ((r = need_relay(cli, &o)) != 0)
		return r;
	if ((c = ll_api_client_new(&o, &e)) == NULL) {
		r = api_fail(cli, "cannot use the relay", &e);
		goto out;
	}
	if ((s = ll_sso_start(c, org, &e)) == NULL) {
		r = api_fail(cli, "single sign-on refused", &e);
		goto out;
	}
	if (cli->json)
		print_json(json_pack("{s:s}", "authorize_url", ll_sso_url(s)));
	else
		printf("%s\n", ll_sso_url(s));
	fflush(stdout);
	fprintf(stderr, "lifeline-agent: open the URL above in a browser "
			"to sign in; waiting\n");
	r = ll_sso_wait(s, c, NULL, &l, &e);
	if (r == LL_ERR_EXPIRED && e.api_code[0] == '\0')
		r = fail(cli, LL_EXIT_TIMEOUT, "timeout", "%s", e.message);
	else if (r != 0)
		r = api_fail(cli, "single sign-on refused", &e);
	else
		r = login_keep(cli, &o, l.technician.name, org, &l);
out:
	ll_sso_free(s);
	ll_api_login_clear(&l);
	ll_api_client_free(c);
	return r;
}

int ll_cli_run_login(struct ll_cli *cli, const struct ll_cli_req *req)
{
	const char *user = ll_cli_req_str(req, "user");
	const char *org = ll_cli_req_str(req, "org");
	const char *code = ll_cli_req_str(req, "code");
	bool recovery = ll_cli_req_has(req, "recovery-code-stdin");
	struct ll_relay_opts o;
	struct ll_client_error e;
	struct ll_api_client *c = NULL;
	struct ll_api_login l, l2;
	char *pw = NULL, *err = NULL, *rc = NULL;
	int r;

	memset(&l, 0, sizeof(l));
	memset(&l2, 0, sizeof(l2));
	ll_client_error_clear(&e);
	if (ll_cli_req_has(req, "sso")) {
		if (user != NULL || code != NULL || recovery ||
		    ll_cli_req_has(req, "password-stdin"))
			return fail(cli, LL_EXIT_USAGE, "bad_request",
				    "--sso signs in through the identity "
				    "provider: no --user, password or code");
		return login_sso(cli, org);
	}
	if (user == NULL)
		return fail(cli, LL_EXIT_USAGE, "bad_request",
			    "login needs --user U (or --sso)");
	if ((r = need_relay(cli, &o)) != 0)
		goto out;
	if ((pw = read_password(cli, ll_cli_req_has(req, "password-stdin"))) ==
	    NULL) {
		r = LL_EXIT_USAGE;
		goto out;
	}
	if ((c = ll_api_client_new(&o, &e)) == NULL) {
		r = api_fail(cli, "cannot use the relay", &e);
		goto out;
	}
	if (ll_api_login(c, user, org, pw, &l, &e) != 0) {
		r = api_fail(cli, "login refused", &e);
		goto out;
	}
	if (l.mfa_token != NULL) {
		if (code == NULL && !recovery) {
			r = fail(cli, LL_EXIT_AUTH, "mfa_required",
				 "this account needs a TOTP code: add --code "
				 "CODE (or --recovery-code-stdin)");
			goto out;
		}
		/* a recovery code never in argv: from stdin, like the
		 * password (and after it) */
		if (recovery &&
		    (rc = read_secret(cli, NULL, "recovery code")) == NULL) {
			r = LL_EXIT_USAGE;
			goto out;
		}
		if ((rc != NULL ? ll_api_login_recovery(c, l.mfa_token, rc,
							&l2, &e)
				: ll_api_login_mfa(c, l.mfa_token, code, &l2,
						   &e)) != 0) {
			r = api_fail(cli, "login refused", &e);
			goto out;
		}
		ll_api_login_clear(&l);
		l = l2;
		memset(&l2, 0, sizeof(l2));
	}
	r = login_keep(cli, &o, user, org, &l);
out:
	ll_secret_free(pw);
	ll_secret_free(rc);
	ll_api_login_clear(&l);
	ll_api_login_clear(&l2);
	ll_api_client_free(c);
	g_free(err);
	return r;
}

int ll_cli_run_logout(struct ll_cli *cli, const struct ll_cli_req *req)
{
	struct ll_client_error e;
	struct ll_api_client *c;
	int r;

	(void)req;
	if ((r = client_with_token(cli, &c)) != 0)
		return r;
	ll_client_error_clear(&e);
	if (ll_api_logout(c, &e) != 0 && e.code != LL_ERR_AUTH_FAILED)
		r = api_fail(cli, "logout failed", &e);
	ll_api_client_free(c);
	ll_profile_clear_token(cli->profile);
	if (r == 0)
		puts(cli->json ? "{}" : "ok");
	return r;
}

/* ---- password change ---- */

/* The old and the new password: two lines of stdin, or asked on the
 * terminal (the new one twice).  An exit code on failure. */
static int read_password_change(struct ll_cli *cli, char **old_pw,
				char **new_pw)
{
	bool tty = isatty(0);
	char *again = NULL;
	int r = 0;

	*old_pw = *new_pw = NULL;
	if ((*old_pw = read_secret(cli, tty ? "Old password: " : NULL,
				   "old password")) == NULL ||
	    (*new_pw = read_secret(cli, tty ? "New password: " : NULL,
				   "new password")) == NULL) {
		r = LL_EXIT_USAGE;
	} else if (tty) {
		again = read_secret(cli, "Repeat the new password: ",
				    "new password");
		if (again == NULL)
			r = LL_EXIT_USAGE;
		else if (strcmp(again, *new_pw) != 0)
			r = fail(cli, LL_EXIT_USAGE, "usage",
				 "the new passwords differ; nothing changed");
	}
	ll_secret_free(again);
	if (r != 0) {
		LL_FREE_AND_NULL(ll_secret_free, *old_pw);
		LL_FREE_AND_NULL(ll_secret_free, *new_pw);
	}
	return r;
}

int ll_cli_run_password_change(struct ll_cli *cli,
			       const struct ll_cli_req *req)
{
	struct ll_client_error e;
	struct ll_api_client *c = NULL;
	char *old_pw = NULL, *new_pw = NULL;
	int r;

	(void)req;
	if ((r = client_with_token(cli, &c)) != 0)
		return r;
	if ((r = read_password_change(cli, &old_pw, &new_pw)) != 0)
		goto out;
	ll_client_error_clear(&e);
	if (ll_api_password_change(c, old_pw, new_pw, &e) != 0) {
		r = api_fail(cli, "password not changed", &e);
		goto out;
	}
	puts(cli->json ? "{}" : "password changed");
out:
	ll_secret_free(old_pw);
	ll_secret_free(new_pw);
	ll_api_client_free(c);
	return r;
}

/* ---- mfa enroll, mfa confirm ---- */

int ll_cli_run_mfa_enroll(struct ll_cli *cli, const struct ll_cli_req *req)
{
	struct ll_client_error e;
	struct ll_api_client *c = NULL;
	char *uri = NULL;
	int r;

	(void)req;
	if ((r = client_with_token(cli, &c)) != 0)
		return r;
	ll_client_error_clear(&e);
	if (ll_api_mfa_enroll(c, &uri, &e) != 0) {
		r = api_fail(cli, "enrolment refused", &e);
		goto out;
	}
	/* The seed goes to stdout only, for the authenticator app. */
	if (cli->json)
		print_json(json_pack("{s:s}", "otpauth_uri", uri));
	else
		printf("%s\n", uri);
	if (!cli->json)
		fputs("add it to an authenticator app, then: lifeline-agent "
		      "--cli mfa confirm CODE\n",
		      stderr);
out:
	ll_secret_free(uri);
	ll_api_client_free(c);
	return r;
}

int ll_cli_run_mfa_confirm(struct ll_cli *cli, const struct ll_cli_req *req)
{
	const char *code = ll_cli_req_str(req, "code");
	struct ll_client_error e;
	struct ll_api_client *c = NULL;
	char **codes = NULL;
	json_t *list = NULL;
	size_t i, n = 0;
	int r;

	if ((r = client_with_token(cli, &c)) != 0)
		return r;
	ll_client_error_clear(&e);
	if (ll_api_mfa_confirm(c, code, &codes, &n, &e) != 0) {
		r = api_fail(cli, "second factor not confirmed", &e);
		goto out;
	}
	if (cli->json) {
		list = json_array();
		for (i = 0; list != NULL && i < n; i++)
			json_array_append_new(list, json_string(codes[i]));
		print_json(json_pack("{s:o?}", "recovery_codes", list));
	} else {
		for (i = 0; i < n; i++)
			printf("%s\n", codes[i]);
		fputs("the second factor is on; keep these recovery codes "
		      "somewhere safe: each logs in once instead of a code "
		      "(login --recovery-code-stdin), and they are not shown "
		      "again\n",
		      stderr);
	}
out:
	for (i = 0; i < n; i++)
		ll_secret_free(codes[i]);
	free(codes);
	ll_api_client_free(c);
	return r;
}

/* ---- pin new: the PIN and the holder ---- */

struct spawn_setup {
	char *log_path;
};

static void holder_child_setup(gpointer data)
{
	struct spawn_setup *ss = data;
	int fd;

	/* its own session: no terminal, no signals of ours */
	setsid();
	/* our stderr may be a pipe somebody reads to EOF: not the
	 * holder's (async-signal-safe calls only here) */
	fd = open(ss->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		  0600);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
}

static char *self_exe(void)
{
	char *p = g_file_read_link("/proc/self/exe", NULL);

	return p != NULL ? p : g_strdup(g_get_prgname());
}

/* Reads the holder's one status line (bounded). */
static char *read_status(int fd, int timeout_ms)
{
	GString *s = g_string_new(NULL);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t end = ll_now_mono_ms() + timeout_ms;
	char buf[256];
	size_t len = 0;
	ssize_t n;
	int got = 0;

	while (got == 0) {
		int left = (int)(end - ll_now_mono_ms());

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got = ll_cli_line_feed(s, buf, (size_t)n, 4096, &len);
	}
	if (got == 1)
		g_string_truncate(s, len);
	return g_string_free(s, FALSE);
}

static int start_holder(struct ll_cli *cli, const struct ll_relay_opts *o,
			const struct ll_api_pin *pin, const char *request,
			char **err)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	struct spawn_setup ss;
	g_autoptr(GError) gerr = NULL;
	char *status = NULL, *line;
	int in_fd = -1, out_fd = -1, r = LL_ERR_IO;
	size_t off = 0, len;
	ssize_t n;

	ss.log_path = ll_profile_log_path(cli->profile, pin->session_id);
	g_ptr_array_add(argv, self_exe());
	g_ptr_array_add(argv, g_strdup("--cli-holder"));
	g_ptr_array_add(argv, g_strdup("--profile"));
	g_ptr_array_add(argv, g_strdup(cli->profile->dir));
	g_ptr_array_add(argv, g_strdup("--relay"));
	g_ptr_array_add(argv, g_strdup(o->url));
	if (o->ca_file != NULL) {
		g_ptr_array_add(argv, g_strdup("--ca"));
		g_ptr_array_add(argv,
				g_canonicalize_filename(o->ca_file, NULL));
	}
	g_ptr_array_add(argv, g_strdup("--session"));
	g_ptr_array_add(argv, g_strdup(pin->session_id));
	g_ptr_array_add(argv, g_strdup("--expires"));
	g_ptr_array_add(argv, g_strdup_printf("%" G_GINT64_FORMAT,
					      (gint64)pin->expires_at_unix));
	if (request != NULL) {
		g_ptr_array_add(argv, g_strdup("--request"));
		g_ptr_array_add(argv, g_strdup(request));
	}
	g_ptr_array_add(argv, NULL);
	/* Not reaped by us: GLib's intermediate child makes the holder a
	 * child of init, so it outlives this command. */
	if (!g_spawn_async_with_pipes("/", (char **)argv->pdata, NULL,
				      G_SPAWN_DEFAULT, holder_child_setup, &ss,
				      NULL, &in_fd, &out_fd, NULL, &gerr)) {
		*err = g_strdup_printf("cannot start the session holder: %s",
				       gerr->message);
		goto out;
	}
	/* the ticket goes over a pipe, never in argv */
	line = g_strdup_printf("%s\n", pin->ticket);
	len = strlen(line);
	while (off < len) {
		n = write(in_fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	ll_secret_free(line);
	close(in_fd);
	in_fd = -1;
	status = read_status(out_fd, 60000);
	if (strcmp(status, "ready") == 0) {
		r = LL_OK;
	} else if (g_str_has_prefix(status, "error: ")) {
		*err = g_strdup(status + 7);
	} else {
		*err = g_strdup("the session holder did not start (see its "
				"log in the profile)");
	}
out:
	if (in_fd >= 0)
		close(in_fd);
	if (out_fd >= 0)
		close(out_fd);
	g_free(status);
	g_free(ss.log_path);
	g_ptr_array_unref(argv);
	return r;
}

/* What gives the CLI a session to hold: a new PIN, or a queue entry
 * picked up. */
typedef int (*session_get_fn)(struct ll_api_client *c, const char *arg,
			      struct ll_api_pin *out,
			      struct ll_client_error *err);

/*
 * Has the relay make a session with get(arg), starts its holder and
 * prints it (with its PIN when show_pin); what says what failed.
 */
static int run_held_session(struct ll_cli *cli, const struct ll_cli_req *req,
			    session_get_fn get, const char *arg,
			    const char *what, bool show_pin)
{
	struct ll_relay_opts o;
	struct ll_client_error e;
	struct ll_api_client *c = NULL;
	struct ll_api_pin pin;
	char *err = NULL, names[LL_PERM_TEXT_MAX];
	uint32_t beyond = ll_cli_req_caps(req, "request") &
			  ~ll_profile_caps(cli->profile);
	int r;

	/* --request beyond the group's permissions: the applet would
	 * refuse it unseen, so no session is made for it */
	if (ll_cli_req_has(req, "request") && beyond != 0) {
		if (ll_perm_format(beyond, names, sizeof(names)) != LL_OK)
			names[0] = '\0';
		return fail(cli, LL_EXIT_NOT_PERMITTED,
			    "capability_not_permitted",
			    "your group does not permit %s", names);
	}
	memset(&pin, 0, sizeof(pin));
	ll_client_error_clear(&e);
	if ((r = client_with_token(cli, &c)) != 0)
		goto out;
	need_relay(cli, &o);
	if (get(c, arg, &pin, &e) != 0) {
		r = api_fail(cli, what, &e);
		goto out;
	}
	if (start_holder(cli, &o, &pin, ll_cli_req_str(req, "request"),
			 &err) != 0) {
		/* a session nobody holds is of no use: withdraw it */
		ll_api_session_delete(c, pin.session_id, NULL);
		r = fail(cli, LL_EXIT_ERROR, "holder", "%s", err);
		goto out;
	}
	if (show_pin && cli->json)
		print_json(json_pack("{s:s,s:s,s:s}", "pin", pin.pin,
				     "session_id", pin.session_id,
				     "expires_at", pin.expires_at));
	else if (show_pin)
		printf("%s\n%s\n", pin.pin, pin.session_id);
	else if (cli->json)
		print_json(json_pack("{s:s,s:s}", "session_id", pin.session_id,
				     "expires_at", pin.expires_at));
	else
		printf("%s\n", pin.session_id);
	fflush(stdout);
	r = 0;
out:
	ll_api_pin_clear(&pin);
	ll_api_client_free(c);
	g_free(err);
	return r;
}

int ll_cli_run_pin_new(struct ll_cli *cli, const struct ll_cli_req *req)
{
	return run_held_session(cli, req, ll_api_pin_new,
				ll_cli_req_str(req, "lock"), "no PIN", true);
}

/* ---- session commands: the holder's socket ---- */

/*
 * The session's holder does not answer: it ended.  Its reason when it
 * left one (PROFILE/ID.ended, written as it ended), else otherwise
 * (which it frees).
 */
static int holder_gone(struct ll_cli *cli, const char *id, char *otherwise)
{
	char *path = ll_profile_ended_path(cli->profile, id);
	char *why = NULL, *shown;
	int r;

	if (path != NULL && g_file_get_contents(path, &why, NULL, NULL)) {
		shown = ll_text_printable_new(why, strlen(why), 512);
		r = fail(cli, LL_EXIT_ENDED, "ended", "the session ended: %s",
			 shown != NULL ? shown : "?");
		free(shown);
	} else {
		r = fail(cli, LL_EXIT_ENDED, "ended", "%s", otherwise);
	}
	g_free(otherwise);
	g_free(why);
	g_free(path);
	return r;
}

static volatile sig_atomic_t stopped;

static void on_stop(int sig)
{
	(void)sig;
	stopped = 1;
}

/*
 * A transfer's command (the row's `transfer`) catches ^C: SIGINT and
 * SIGTERM are blocked from here on and only let through while the CLI
 * waits in ppoll with *wait_mask, so none is lost between a check of
 * `stopped` and the wait.
 */
static void catch_stop(sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t stop;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: ppoll returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, wait_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* The value of key when req's row has it, else NULL. */
static const char *req_str_if(const struct ll_cli_req *req, const char *key)
{
	return ll_cli_req_takes(req, key) ? ll_cli_req_str(req, key) : NULL;
}

/* The transfer's name as the technician gave it: fetch's NAME, send's
 * FILE (its base name); receive names none. */
static char *transfer_name(const struct ll_cli_req *req)
{
	char safe[LL_XFER_NAME_MAX + 1];
	const char *name = req_str_if(req, "name");
	const char *file = req_str_if(req, "file");
	char *base;

	if (name != NULL) {
		ll_xfer_safe_name(name, safe, sizeof(safe));
	} else if (file != NULL) {
		base = g_path_get_basename(file);
		ll_xfer_safe_name(base, safe, sizeof(safe));
		g_free(base);
	} else {
		return g_strdup("the file");
	}
	return g_strdup(safe);
}

/*
 * One request line to the session's holder; *a gets its answer.  An exit
 * code (the failure said) when there is none.  timeout_ms < 0: no limit.
 * A transfer's request (the row's `transfer`) is given up on ^C: the CLI
 * hangs up, which makes the holder cancel the transfer.
 */
static int holder_call(struct ll_cli *cli, const struct ll_cli_req *creq,
		       const char *req, int timeout_ms,
		       struct ll_cli_answer *a)
{
	const char *id = ll_cli_req_str(creq, "id");
	struct sockaddr_un sun;
	struct pollfd pfd;
	struct timespec ts;
	sigset_t wait_mask;
	GString *in = g_string_new(NULL);
	char *path, *text = NULL, *name, buf[4096];
	int64_t end = ll_now_mono_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	int fd = -1, r, left, got = 0;
	size_t off = 0, len = 0;
	ssize_t n;

	if (creq->cmd->transfer)
		catch_stop(&wait_mask);
	if ((path = ll_profile_socket_path(cli->profile, id)) == NULL) {
		r = usage(cli, NULL,
			  "ID is the session_id that `pin new` printed");
		goto out;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		r = holder_gone(cli, id,
				g_strdup_printf("no session %s here: it has "
						"ended, or it was not started "
						"by `pin new` with this "
						"profile",
						id));
		goto out;
	}
	text = g_strdup_printf("%s\n", req);
	len = strlen(text);
	while (off < len) {
		n = send(fd, text + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (got == 0) {
		left = timeout_ms < 0 ? -1 : (int)(end - ll_now_mono_ms());
		if (timeout_ms >= 0 && left <= 0)
			break;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		r = ppoll(&pfd, 1, left < 0 ? NULL : &ts,
			  creq->cmd->transfer ? &wait_mask : NULL);
		if (r < 0 && errno == EINTR && stopped) {
			/* an answer that came before the ^C still counts */
			while (got == 0 && (n = recv(fd, buf, sizeof(buf),
						     MSG_DONTWAIT)) > 0)
				got = ll_cli_line_feed(in, buf, (size_t)n,
						       LL_CLI_ANSWER_MAX,
						       &len);
			break;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got = ll_cli_line_feed(in, buf, (size_t)n, LL_CLI_ANSWER_MAX,
				       &len);
	}
	if (got == 0 && stopped) {
		/* the holder cancels on our hang-up: close first */
		close(fd);
		fd = -1;
		name = transfer_name(creq);
		r = fail(cli, LL_EXIT_INTERRUPTED, "interrupted",
			 "%s: cancelled", name);
		g_free(name);
		goto out;
	}
	if (got == 0) {
		r = holder_gone(cli, id,
				g_strdup_printf("the session holder of %s "
						"went away without an answer",
						id));
		goto out;
	}
	if (got < 0 || ll_cli_answer_parse(in->str, len, a) != 0) {
		r = fail(cli, LL_EXIT_ERROR, "internal",
			 "the session holder answered nonsense");
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (creq->cmd->transfer)
		sigprocmask(SIG_SETMASK, &wait_mask, NULL);
	g_free(text);
	g_free(path);
	g_string_free(in, TRUE);
	return r;
}

/* A command of the session's holder: the request from the table, the
 * answer printed by the row's printer. */
static int run_holder(struct ll_cli *cli, const struct ll_cli_req *req)
{
	const struct ll_cli_command *cmd = req->cmd;
	struct ll_cli_answer a;
	char *text;
	int r, timeout_ms = cmd->answer_ms;

	memset(&a, 0, sizeof(a));
	text = ll_cli_req_to_json(req);
	if (text == NULL || strlen(text) > LL_CLI_REQUEST_MAX) {
		r = usage(cli, cmd, "the request is too large");
		goto out;
	}
	if (timeout_ms == 0)
		timeout_ms = ll_cli_req_has(req, "timeout")
				     ? (int)ll_cli_req_int(req, "timeout") *
						       1000 +
					       10000
				     : -1;
	if ((r = holder_call(cli, req, text, timeout_ms, &a)) != 0)
		goto out;
	if (!a.ok) {
		r = fail(cli, a.exit, a.code, "%s", a.message);
		goto out;
	}
	if (cli->json)
		print_json(json_incref(a.body));
	else if (cmd->print != NULL)
		cmd->print(stdout, req, a.body);
	else
		puts("ok");
	r = 0;
out:
	ll_cli_answer_clear(&a);
	free(text);
	return r;
}

/* ---- printers of the holder's answers ---- */

static void print_strings(FILE *out, json_t *arr)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v) if (json_is_string(v))
		fprintf(out, "%s\n", json_string_value(v));
}

void ll_cli_print_caps(FILE *out, const struct ll_cli_req *req, json_t *answer)
{
	(void)req;
	print_strings(out, json_object_get(answer, "capabilities"));
}

void ll_cli_print_granted(FILE *out, const struct ll_cli_req *req,
			  json_t *answer)
{
	uint32_t asked = ll_cli_req_caps(req, "capabilities"), got = 0;
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(answer, "capabilities"), i, v)
		got |= ll_cap_from_name(json_string_value(v));
	if ((asked & ~got) == 0) {
		fputs("ok\n", out);
		return;
	}
	/* Allowed in part (View only): say what the user kept back. */
	fputs("ok, partly; allowed:", out);
	json_array_foreach(json_object_get(answer, "capabilities"), i,
			   v) if (json_is_string(v))
		fprintf(out, " %s", json_string_value(v));
	fputs("\n", out);
}

void ll_cli_print_status(FILE *out, const struct ll_cli_req *req,
			 json_t *answer)
{
	const char *state = json_string_value(
		json_object_get(answer, "state"));

	(void)req;
	/* While the stream is stalled the grants are not in force: the
	 * state line says so rather than "viewing". */
	fprintf(out, "%s%s\n", state != NULL ? state : "unknown",
		json_is_true(json_object_get(answer, "interrupted"))
			? " (" LL_AGENT_STALLED_TEXT ")"
			: "");
	print_strings(out, json_object_get(answer, "capabilities"));
}

void ll_cli_print_path(FILE *out, const struct ll_cli_req *req, json_t *answer)
{
	(void)answer;
	fprintf(out, "%s\n", ll_cli_req_str(req, "path"));
}

/* "name WxH+X+Y" per monitor, " *" after the one shown.  Names are the
 * applet's, through the display rule (ll_text.h) in the holder. */
void ll_cli_print_monitors(FILE *out, const struct ll_cli_req *req,
			   json_t *answer)
{
	const char *current = NULL, *name;
	json_int_t x, y, w, h;
	json_t *v;
	size_t i;

	(void)req;
	json_unpack(answer, "{s?s}", "current", &current);
	json_array_foreach(json_object_get(answer, "monitors"), i, v)
	{
		name = NULL;
		x = y = w = h = 0;
		if (json_unpack(v, "{s:s,s:I,s:I,s:I,s:I}", "name", &name, "x",
				&x, "y", &y, "width", &w, "height", &h) != 0)
			continue;
		fprintf(out,
			"%s %" JSON_INTEGER_FORMAT "x%" JSON_INTEGER_FORMAT
			"%+" JSON_INTEGER_FORMAT "%+" JSON_INTEGER_FORMAT
			"%s\n",
			name, w, h, x, y,
			current != NULL && strcmp(current, name) == 0 ? " *"
								      : "");
	}
}

void ll_cli_print_ended(FILE *out, const struct ll_cli_req *req,
			json_t *answer)
{
	(void)req;
	(void)answer;
	fputs("ended\n", out);
}

/* ---- sessions on the relay ---- */

int ll_cli_run_session_list(struct ll_cli *cli, const struct ll_cli_req *req)
{
	struct ll_api_session_list l;
	struct ll_client_error e;
	struct ll_api_client *c;
	json_t *arr;
	size_t i;
	int r;

	(void)req;
	if ((r = client_with_token(cli, &c)) != 0)
		return r;
	memset(&l, 0, sizeof(l));
	ll_client_error_clear(&e);
	if (ll_api_sessions_list(c, &l, &e) != 0) {
		r = api_fail(cli, "cannot list sessions", &e);
		goto out;
	}
	arr = json_array();
	for (i = 0; i < l.n_sessions; i++) {
		if (cli->json)
			json_array_append_new(
				arr,
				json_pack(
					"{s:s,s:s,s:I,s:I}", "session_id",
					l.sessions[i].session_id, "state",
					l.sessions[i].state, "created_at",
					(json_int_t)l.sessions[i].created_at,
					"expires_at",
					(json_int_t)l.sessions[i].expires_at));
		else
			printf("%s %s\n", l.sessions[i].session_id,
			       l.sessions[i].state);
	}
	if (cli->json)
		print_json(json_pack("{s:o}", "sessions", arr));
	else
		json_decref(arr);
out:
	ll_api_session_list_clear(&l);
	ll_api_client_free(c);
	return r;
}

/* ---- the channel queue ---- */

int ll_cli_run_queue_list(struct ll_cli *cli, const struct ll_cli_req *req)
{
	struct ll_api_queue_list l;
	struct ll_client_error e;
	struct ll_api_client *c;
	json_t *arr;
	size_t i;
	int r;

	(void)req;
	if ((r = client_with_token(cli, &c)) != 0)
		return r;
	memset(&l, 0, sizeof(l));
	ll_client_error_clear(&e);
	if (ll_api_queue_list(c, &l, &e) != 0) {
		r = api_fail(cli, "cannot list the queue", &e);
		goto out;
	}
	arr = json_array();
	for (i = 0; i < l.n_entries; i++) {
		const struct ll_api_queue_item *q = &l.entries[i];
		/* the relay's display rule made it one printable line */
		const char *d = q->description ? q->description : "";

		if (cli->json)
			json_array_append_new(
				arr,
				json_pack("{s:s,s:s,s:s?,s:I,s:I,s:I}",
					  "entry_id", q->entry_id, "channel",
					  q->channel, "description",
					  q->description, "position",
					  (json_int_t)q->position,
					  "waiting_since",
					  (json_int_t)q->waiting_since,
					  "waiting_s",
					  (json_int_t)q->waiting_s));
		else
			printf("%s %s %lld%s%s\n", q->entry_id, q->channel,
			       (long long)q->waiting_s, d[0] ? " " : "", d);
	}
	if (cli->json)
		print_json(json_pack("{s:o}", "entries", arr));
	else
		json_decref(arr);
	fflush(stdout);
out:
	ll_api_queue_list_clear(&l);
	ll_api_client_free(c);
	return r;
}

int ll_cli_run_queue_pickup(struct ll_cli *cli, const struct ll_cli_req *req)
{
	return run_held_session(cli, req, ll_api_queue_pickup,
				ll_cli_req_str(req, "id"), "no pickup", false);
}

/* ---- the command line ---- */

/* An option of the command line and where GOption puts it. */
struct opt_slot {
	const struct ll_cli_param *p;
	char *value;    /* G_OPTION_ARG_FILENAME: bytes as given */
	gboolean given; /* G_OPTION_ARG_NONE */
};

struct cmdline {
	struct opt_slot *slots; /* the globals first */
	size_t n_slots;
	GOptionEntry *entries;
	gboolean help;
	char **args; /* what GOption left: the words */
	int n_args;
};

static void cmdline_clear(struct cmdline *cl)
{
	size_t i;

	for (i = 0; i < cl->n_slots; i++)
		g_free(cl->slots[i].value);
	g_free(cl->slots);
	g_free(cl->entries);
	g_free(cl->args);
	memset(cl, 0, sizeof(*cl));
}

static struct opt_slot *slot_of(struct cmdline *cl, const char *name)
{
	size_t i;

	for (i = 0; i < cl->n_slots; i++)
		if (strcmp(cl->slots[i].p->name, name) == 0)
			return &cl->slots[i];
	return NULL;
}

static void slot_add(struct cmdline *cl, const struct ll_cli_param *p)
{
	GOptionEntry *e;

	if (slot_of(cl, p->name) != NULL)
		return; /* one option, shared by several commands */
	cl->slots[cl->n_slots].p = p;
	e = &cl->entries[cl->n_slots];
	e->long_name = p->name + 2;
	e->arg = p->type == LL_CLI_FLAG ? G_OPTION_ARG_NONE
					: G_OPTION_ARG_FILENAME;
	e->arg_description = p->metavar;
	e->description = p->help;
	cl->n_slots++;
}

static const char *slot_value(const struct opt_slot *s)
{
	if (s == NULL)
		return NULL;
	if (s->p->type == LL_CLI_FLAG)
		return s->given ? "" : NULL;
	return s->value;
}

/*
 * Every option of the globals and of all the commands in one
 * GOptionContext, so that options go anywhere, as before the command's
 * words too; which command may have which is checked once the words
 * name it.  GOption's own --help is off: the help is the table's.
 */
static int cmdline_parse(struct ll_cli *cli, struct cmdline *cl, int argc,
			 char **argv)
{
	const struct ll_cli_command *cmd;
	GOptionContext *octx;
	g_autoptr(GError) gerr = NULL;
	char *m;
	size_t i, j, max = ll_cli_n_globals + 1;
	int k, r = 0;

	memset(cl, 0, sizeof(*cl));
	for (i = 0; i < ll_cli_n_commands; i++)
		max += LL_CLI_MAX_PARAMS;
	cl->slots = g_new0(struct opt_slot, max);
	cl->entries = g_new0(GOptionEntry, max + 1);
	for (i = 0; i < ll_cli_n_globals; i++)
		slot_add(cl, ll_cli_globals[i]);
	for (i = 0; i < ll_cli_n_commands; i++) {
		cmd = &ll_cli_commands[i];
		for (j = 0; j < LL_CLI_MAX_PARAMS && cmd->params[j] != NULL;
		     j++)
			if (cmd->params[j]->name[0] == '-')
				slot_add(cl, cmd->params[j]);
	}
	for (i = 0; i < cl->n_slots; i++) {
		if (cl->slots[i].p->type == LL_CLI_FLAG)
			cl->entries[i].arg_data = &cl->slots[i].given;
		else
			cl->entries[i].arg_data = &cl->slots[i].value;
	}
	cl->entries[cl->n_slots] = (GOptionEntry){
		"help",    0,
		0,         G_OPTION_ARG_NONE,
		&cl->help, "the commands, or one command's arguments",
		NULL
	};
	/* argv[1], "--cli", plays the program's name for the parser */
	cl->n_args = argc - 1;
	cl->args = g_new0(char *, (size_t)argc);
	for (k = 1; k < argc; k++)
		cl->args[k - 1] = argv[k];
	octx = g_option_context_new(NULL);
	g_option_context_set_help_enabled(octx, FALSE);
	g_option_context_add_main_entries(octx, cl->entries, NULL);
	if (!g_option_context_parse(octx, &cl->n_args, &cl->args, &gerr)) {
		/* GOption kept nothing: --json by hand, for the error */
		for (k = 1; k < argc && strcmp(argv[k], "--") != 0; k++)
			cli->json = cli->json ||
				    strcmp(argv[k], "--json") == 0;
		m = g_strdup_printf(
			"%s%s", gerr->message,
			g_error_matches(gerr, G_OPTION_ERROR,
					G_OPTION_ERROR_UNKNOWN_OPTION)
				? "; an argument that begins with "
				  "'-' goes after --"
				: "");
		r = usage(cli, NULL, m);
		g_free(m);
	}
	g_option_context_free(octx);
	if (r != 0)
		return r;
	/* drop the program's name; GOption keeps "--" when something
	 * after it begins with '-': the separator, not a word */
	memmove(cl->args, cl->args + 1, (size_t)cl->n_args * sizeof(char *));
	cl->n_args--;
	for (k = 0; k < cl->n_args; k++)
		if (strcmp(cl->args[k], "--") == 0) {
			memmove(cl->args + k, cl->args + k + 1,
				(size_t)(cl->n_args - k) * sizeof(char *));
			cl->n_args--;
			break;
		}
	return 0;
}

/* The row's options from the command line; refuses those of other
 * commands. */
static int cmdline_options(struct ll_cli *cli, struct cmdline *cl,
			   const struct ll_cli_command *cmd,
			   const char **values)
{
	const struct opt_slot *s;
	size_t i, j;
	bool ours;

	for (i = ll_cli_n_globals; i < cl->n_slots; i++) {
		s = &cl->slots[i];
		if (slot_value(s) == NULL)
			continue;
		ours = false;
		for (j = 0; j < LL_CLI_MAX_PARAMS && cmd->params[j] != NULL;
		     j++)
			ours = ours || cmd->params[j] == s->p;
		if (!ours) {
			g_autofree char *m = g_strdup_printf("%s takes no %s",
							     cmd->words,
							     s->p->name);

			return usage(cli, cmd, m);
		}
	}
	for (j = 0; j < LL_CLI_MAX_PARAMS && cmd->params[j] != NULL; j++)
		values[j] = cmd->params[j]->name[0] == '-'
				    ? slot_value(slot_of(cl,
							 cmd->params[j]->name))
				    : NULL;
	return 0;
}

/* No row for the words: the commands that begin like them, or none. */
static int unknown_command(struct ll_cli *cli, const char *word)
{
	GString *s = g_string_new(NULL);
	const char *w;
	size_t i, len = strlen(word);
	int r;

	for (i = 0; i < ll_cli_n_commands; i++) {
		w = ll_cli_commands[i].words;
		if (strncmp(w, word, len) == 0 && w[len] == ' ')
			g_string_append_printf(s, "%s%s",
					       s->len > 0 ? "|" : "",
					       w + len + 1);
	}
	if (s->len > 0) {
		g_autofree char *m = g_strdup_printf("%s %s ...", word,
						     s->str);

		r = fail(cli, LL_EXIT_USAGE, "usage",
			 "%s (see lifeline-agent --cli help %s)", m, word);
	} else {
		r = usage(cli, NULL, "unknown command");
	}
	g_string_free(s, TRUE);
	return r;
}

/* `help [WORDS]`, or `WORDS --help`: all commands, one command (the
 * words may go on with its arguments), or those that begin so. */
static int help(struct ll_cli *cli, const char *const *words, size_t n)
{
	const struct ll_cli_command *cmd;
	size_t used;

	if (n > 0 && strcmp(words[0], "help") == 0) {
		words++;
		n--;
	}
	if (n == 0)
		ll_cli_help(stdout);
	else if ((cmd = ll_cli_command_find(words, n, &used)) != NULL)
		ll_cli_help_command(stdout, &cmd->words, 1);
	else if (!ll_cli_help_command(stdout, words, n))
		return unknown_command(cli, words[0]);
	return 0;
}

int ll_agent_cli_main(int argc, char **argv)
{
	const struct ll_cli_command *cmd = NULL;
	const char *values[LL_CLI_MAX_PARAMS] = { NULL };
	const char *const *words;
	struct ll_cli_req *req = NULL;
	struct cmdline cl;
	struct ll_cli cli;
	char *err = NULL;
	size_t used = 0, n;
	int r;

	memset(&cli, 0, sizeof(cli));
	if ((r = cmdline_parse(&cli, &cl, argc, argv)) != 0)
		goto out;
	cli.relay = slot_value(slot_of(&cl, "--relay"));
	cli.ca_file = slot_value(slot_of(&cl, "--ca"));
	cli.profile_dir = slot_value(slot_of(&cl, "--profile"));
	cli.json = slot_value(slot_of(&cl, "--json")) != NULL;
	words = (const char *const *)cl.args;
	n = (size_t)cl.n_args;

	if (n == 0 && !cl.help) {
		/* without any command, the help is the answer to a mistake */
		ll_cli_help(stdout);
		r = LL_EXIT_USAGE;
		goto out;
	}
	if (cl.help || strcmp(words[0], "help") == 0) {
		r = help(&cli, words, n);
		goto out;
	}
	if ((cmd = ll_cli_command_find(words, n, &used)) == NULL) {
		r = unknown_command(&cli, words[0]);
		goto out;
	}
	if ((r = cmdline_options(&cli, &cl, cmd, values)) != 0)
		goto out;
	if (ll_cli_req_from_argv(cmd, words + used, n - used, values, &req,
				 &err) != 0) {
		r = usage(&cli, cmd, err);
		goto out;
	}
	if (cli.relay != NULL && ll_cli_param_check(slot_of(&cl, "--relay")->p,
						    cli.relay, &err) != 0) {
		r = usage(&cli, NULL, err);
		goto out;
	}
	/* A wrong --ca fails here, in plain words, before any request. */
	if (cli.ca_file != NULL && !ll_ca_file_usable(cli.ca_file, &err)) {
		r = usage(&cli, NULL, err);
		goto out;
	}
	if (ll_profile_open(cli.profile_dir, &cli.profile, &err) != 0) {
		r = fail(&cli, LL_EXIT_ERROR, "io", "%s", err);
		goto out;
	}
	r = cmd->run != NULL ? cmd->run(&cli, req) : run_holder(&cli, req);
out:
	fflush(stdout);
	ll_cli_req_free(req);
	ll_profile_free(cli.profile);
	g_free(err);
	cmdline_clear(&cl);
	return r;
}
