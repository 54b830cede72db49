/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `lifeline-agent --cli ...`: the agent's command line of API.md, for
 * scripts and tests.
 *
 *   lifeline-agent --cli [--relay URL] [--ca FILE] [--profile DIR] [--json]
 *     login --user U [--org O] [--password-stdin] [--code TOTP]
 *     logout
 *     pin new [--lock any|website|shortcut] [--request CAP,...]
 *     session list
 *     session status ID
 *     session wait ID [--timeout S]
 *     session request ID CAP...
 *     session snapshot ID FILE.png
 *     session click ID X Y [--button N]
 *     session type ID TEXT
 *     session key ID KEYSYM           (e.g. Return, ctrl+alt+Delete)
 *     session monitors ID             (name WxH+X+Y, the shown one " *")
 *     session monitor ID NAME|all     (show that monitor only, or all)
 *     session end ID
 *
 * Output: one result per line on stdout (with --json one JSON object);
 * errors as one line "lifeline-agent: ..." on stderr (and with --json
 * also {"error": {"code", "message"}} on stdout).  Exit status:
 *   0 success, 1 error, 2 bad command line, 3 not allowed by the user
 *   (denied, no view, no control), 4 timed out, 5 session over or no
 *   holder for it, 6 login refused or not logged in.
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
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "agent.h"
#include "ll_control.h"
#include "ll_err.h"
#include "ll_util.h"

struct cli {
	const char *relay;
	const char *ca_file;
	const char *profile_dir;
	bool json;
	struct ll_profile *profile;
	GPtrArray *args;      /* the command and its arguments */
};

static int fail(struct cli *cli, int code, const char *api_code,
		const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static int fail(struct cli *cli, int code, const char *api_code,
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

static int usage(struct cli *cli, const char *what)
{
	return fail(cli, LL_EXIT_USAGE, "usage", "%s (see lifeline-agent "
		    "--cli help)", what);
}

static void print_json(json_t *o)
{
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
}

/* ---- small option parser for one command ---- */

struct opt {
	const char *name;     /* "--user" */
	bool has_value;
	const char *value;    /* result (or "" for flags that were given) */
};

/* Splits args[from..] into options of `opts` and positionals. */
static int parse_opts(struct cli *cli, guint from, struct opt *opts,
		      GPtrArray *pos)
{
	const char *a, *eq;
	size_t nlen;
	guint i;
	int k;
	bool dashdash = false;

	for (i = from; i < cli->args->len; i++) {
		a = g_ptr_array_index(cli->args, i);
		if (dashdash || a[0] != '-' || a[1] != '-' || a[2] == '\0') {
			if (!dashdash && strcmp(a, "--") == 0) {
				dashdash = true;
				continue;
			}
			g_ptr_array_add(pos, (gpointer)a);
			continue;
		}
		eq = strchr(a, '=');
		nlen = eq != NULL ? (size_t)(eq - a) : strlen(a);
		for (k = 0; opts[k].name != NULL; k++)
			if (strlen(opts[k].name) == nlen &&
			    strncmp(opts[k].name, a, nlen) == 0)
				break;
		if (opts[k].name == NULL) {
			fail(cli, LL_EXIT_USAGE, "usage",
			     "unknown option %.*s", (int)MIN(nlen, 64), a);
			return -1;
		}
		if (!opts[k].has_value) {
			opts[k].value = "";
		} else if (eq != NULL) {
			opts[k].value = eq + 1;
		} else if (i + 1 < cli->args->len) {
			opts[k].value = g_ptr_array_index(cli->args, ++i);
		} else {
			fail(cli, LL_EXIT_USAGE, "usage", "%s needs a value",
			     opts[k].name);
			return -1;
		}
	}
	return 0;
}

/* ---- relay access ---- */

static int need_relay(struct cli *cli, struct ll_relay_opts *o)
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

static int api_fail(struct cli *cli, const char *what,
		    const struct ll_client_error *e)
{
	int code = LL_EXIT_ERROR;

	if (e->code == LL_ERR_AUTH_FAILED || e->code == LL_ERR_DISABLED)
		code = LL_EXIT_AUTH;
	return fail(cli, code, e->api_code[0] != '\0' ? e->api_code
						      : "transport",
		    "%s: %s", what,
		    e->message[0] != '\0' ? e->message : ll_strerror(e->code));
}

/* A client with the stored token.  *out NULL and an exit code returned
 * on failure. */
static int client_with_token(struct cli *cli, struct ll_api_client **out)
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

static char *read_password(struct cli *cli, bool from_stdin)
{
	char buf[1024];
	struct termios old, quiet;
	bool tty = false;
	size_t len;
	char *pw = NULL;
	FILE *in = stdin;

	if (!from_stdin) {
		if (!isatty(0)) {
			fail(cli, LL_EXIT_USAGE, "usage",
			     "no terminal to ask for the password: use "
			     "--password-stdin");
			return NULL;
		}
		tty = tcgetattr(0, &old) == 0;
		if (tty) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(0, TCSAFLUSH, &quiet);
		}
		fputs("Password: ", stderr);
		fflush(stderr);
	}
	if (fgets(buf, sizeof(buf), in) != NULL) {
		len = strlen(buf);
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		if (len > 0)
			pw = g_strdup(buf);
	}
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	memset(buf, 0, sizeof(buf));
	if (pw == NULL)
		fail(cli, LL_EXIT_USAGE, "usage", "no password given");
	return pw;
}

static int cmd_login(struct cli *cli)
{
	struct opt opts[] = {
		{ "--user", true, NULL }, { "--org", true, NULL },
		{ "--password-stdin", false, NULL }, { "--code", true, NULL },
		{ NULL, false, NULL },
	};
	GPtrArray *pos = g_ptr_array_new();
	struct ll_relay_opts o;
	struct ll_client_error e;
	struct ll_api_client *c = NULL;
	struct ll_api_login l, l2;
	char *pw = NULL, *err = NULL;
	int r;

	memset(&l, 0, sizeof(l));
	memset(&l2, 0, sizeof(l2));
	ll_client_error_clear(&e);
	if (parse_opts(cli, 1, opts, pos) != 0) {
		r = LL_EXIT_USAGE;
		goto out;
	}
	if (opts[0].value == NULL || pos->len != 0) {
		r = usage(cli, "login --user NAME [--org ORG] "
			       "[--password-stdin] [--code TOTP]");
		goto out;
	}
	if ((r = need_relay(cli, &o)) != 0)
		goto out;
	if ((pw = read_password(cli, opts[2].value != NULL)) == NULL) {
		r = LL_EXIT_USAGE;
		goto out;
	}
	if ((c = ll_api_client_new(&o, &e)) == NULL) {
		r = api_fail(cli, "cannot use the relay", &e);
		goto out;
	}
	if (ll_api_login(c, opts[0].value, opts[1].value, pw, &l, &e) != 0) {
		r = api_fail(cli, "login refused", &e);
		goto out;
	}
	if (l.mfa_token != NULL) {
		if (opts[3].value == NULL) {
			r = fail(cli, LL_EXIT_AUTH, "mfa_required",
				 "this account needs a TOTP code: add --code "
				 "CODE");
			goto out;
		}
		if (ll_api_login_mfa(c, l.mfa_token, opts[3].value, &l2,
				     &e) != 0) {
			r = api_fail(cli, "login refused", &e);
			goto out;
		}
		ll_api_login_clear(&l);
		l = l2;
		memset(&l2, 0, sizeof(l2));
	}
	/* remember where and who, then the token */
	g_free(cli->profile->relay);
	cli->profile->relay = g_strdup(o.url);
	if (cli->ca_file != NULL) {
		g_free(cli->profile->ca_file);
		cli->profile->ca_file = g_canonicalize_filename(cli->ca_file,
								NULL);
	}
	g_free(cli->profile->user);
	cli->profile->user = g_strdup(opts[0].value);
	g_free(cli->profile->org);
	cli->profile->org = g_strdup(opts[1].value);
	if (ll_profile_save(cli->profile, &err) != 0 ||
	    ll_profile_set_token(cli->profile, l.token, &err) != 0) {
		r = fail(cli, LL_EXIT_ERROR, "io", "%s", err);
		goto out;
	}
	if (cli->json)
		print_json(json_pack("{s:s,s:s?,s:s?,s:I}", "user",
				     opts[0].value, "name", l.technician.name,
				     "org", l.technician.org, "expires_in",
				     (json_int_t)l.expires_in));
	else
		printf("logged in as %s (%s)\n",
		       l.technician.name != NULL ? l.technician.name
						 : opts[0].value,
		       l.technician.org != NULL ? l.technician.org : "-");
	r = 0;
out:
	ll_secret_free(pw);
	ll_api_login_clear(&l);
	ll_api_login_clear(&l2);
	ll_api_client_free(c);
	g_free(err);
	g_ptr_array_unref(pos);
	return r;
}

static int cmd_logout(struct cli *cli)
{
	struct ll_client_error e;
	struct ll_api_client *c;
	int r;

	if (cli->args->len != 1)
		return usage(cli, "logout");
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
	ssize_t n;

	while (strchr(s->str, '\n') == NULL && s->len < 4096) {
		int left = (int)(end - ll_now_mono_ms());

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		g_string_append_len(s, buf, n);
	}
	if (s->len > 0 && strchr(s->str, '\n') != NULL)
		*strchr(s->str, '\n') = '\0';
	return g_string_free(s, FALSE);
}

static int start_holder(struct cli *cli, const struct ll_relay_opts *o,
			const struct ll_api_pin *pin, const char *request,
			char **err)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	struct spawn_setup ss;
	GError *gerr = NULL;
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
		g_ptr_array_add(argv, g_canonicalize_filename(o->ca_file,
							      NULL));
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
		g_error_free(gerr);
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

static int cmd_pin(struct cli *cli)
{
	struct opt opts[] = {
		{ "--lock", true, NULL }, { "--request", true, NULL },
		{ NULL, false, NULL },
	};
	GPtrArray *pos = g_ptr_array_new();
	struct ll_relay_opts o;
	struct ll_client_error e;
	struct ll_api_client *c = NULL;
	struct ll_api_pin pin;
	const char *one[1];
	char *err = NULL;
	int r;

	memset(&pin, 0, sizeof(pin));
	ll_client_error_clear(&e);
	if (parse_opts(cli, 1, opts, pos) != 0) {
		r = LL_EXIT_USAGE;
		goto out;
	}
	if (pos->len != 1 || strcmp(g_ptr_array_index(pos, 0), "new") != 0) {
		r = usage(cli, "pin new [--lock any|website|shortcut] "
			       "[--request CAP,...]");
		goto out;
	}
	if (opts[0].value != NULL && strcmp(opts[0].value, "any") != 0 &&
	    strcmp(opts[0].value, "website") != 0 &&
	    strcmp(opts[0].value, "shortcut") != 0) {
		r = usage(cli, "--lock is any, website or shortcut");
		goto out;
	}
	if (opts[1].value != NULL) {
		one[0] = opts[1].value;
		if (ll_agent_caps_parse(one, 1, &err) == 0) {
			r = fail(cli, LL_EXIT_USAGE, "usage", "%s", err);
			goto out;
		}
	}
	if ((r = client_with_token(cli, &c)) != 0)
		goto out;
	need_relay(cli, &o);
	if (ll_api_pin_new(c, opts[0].value, &pin, &e) != 0) {
		r = api_fail(cli, "no PIN", &e);
		goto out;
	}
	if (start_holder(cli, &o, &pin, opts[1].value, &err) != 0) {
		/* a PIN nobody holds is of no use: withdraw it */
		ll_api_session_delete(c, pin.session_id, NULL);
		r = fail(cli, LL_EXIT_ERROR, "holder", "%s", err);
		goto out;
	}
	if (cli->json)
		print_json(json_pack("{s:s,s:s,s:s}", "pin", pin.pin,
				     "session_id", pin.session_id,
				     "expires_at", pin.expires_at));
	else
		printf("%s\n%s\n", pin.pin, pin.session_id);
	fflush(stdout);
	r = 0;
out:
	ll_api_pin_clear(&pin);
	ll_api_client_free(c);
	g_free(err);
	g_ptr_array_unref(pos);
	return r;
}

/* ---- session commands: the holder's socket ---- */

/* One request to the holder; *resp set on a parsed answer.  timeout_ms
 * < 0: no limit. */
static int holder_call(struct cli *cli, const char *id, json_t *req,
		       int timeout_ms, json_t **resp)
{
	struct sockaddr_un sun;
	struct pollfd pfd;
	GString *in = g_string_new(NULL);
	char *path, *text = NULL, buf[4096];
	int64_t end = ll_now_mono_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	int fd = -1, r, left;
	size_t off = 0, len;
	ssize_t n;

	*resp = NULL;
	if ((path = ll_profile_socket_path(cli->profile, id)) == NULL) {
		r = usage(cli, "ID is the session_id that `pin new` printed");
		goto out;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		r = fail(cli, LL_EXIT_ENDED, "ended",
			 "no session %s here: it has ended, or it was not "
			 "started by `pin new` with this profile",
			 id);
		goto out;
	}
	text = json_dumps(req, JSON_COMPACT);
	len = strlen(text);
	text = g_realloc(text, len + 2);
	text[len++] = '\n';
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
	while (strchr(in->str, '\n') == NULL && in->len < 65536) {
		left = timeout_ms < 0 ? -1 : (int)(end - ll_now_mono_ms());
		if (timeout_ms >= 0 && left <= 0)
			break;
		r = poll(&pfd, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		g_string_append_len(in, buf, n);
	}
	if (strchr(in->str, '\n') == NULL) {
		r = fail(cli, LL_EXIT_ENDED, "ended",
			 "the session holder went away without an answer");
		goto out;
	}
	*resp = json_loads(in->str, JSON_DISABLE_EOF_CHECK, NULL);
	if (*resp == NULL || !json_is_object(*resp)) {
		json_decref(*resp);
		*resp = NULL;
		r = fail(cli, LL_EXIT_ERROR, "internal",
			 "the session holder answered nonsense");
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(text);
	g_free(path);
	g_string_free(in, TRUE);
	return r;
}

/* Maps a holder error answer to an exit code and message. */
static int holder_error(struct cli *cli, json_t *resp)
{
	const char *code = "failed", *msg = "failed";
	int ex = LL_EXIT_ERROR;

	json_unpack(resp, "{s?s,s?s}", "code", &code, "error", &msg);
	/* no_monitor: the applet has no such monitor -> 1, an error */
	if (strcmp(code, "denied") == 0 || strcmp(code, "no_view") == 0 ||
	    strcmp(code, "no_control") == 0)
		ex = LL_EXIT_DENIED;
	else if (strcmp(code, "timeout") == 0)
		ex = LL_EXIT_TIMEOUT;
	else if (strcmp(code, "ended") == 0)
		ex = LL_EXIT_ENDED;
	else if (strcmp(code, "usage") == 0)
		ex = LL_EXIT_USAGE;
	return fail(cli, ex, code, "%s", msg);
}

static int parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "name WxH+X+Y" per monitor, " *" after the one shown.  Names are the
 * applet's, but the control schema keeps control characters out. */
static void print_monitors(json_t *resp)
{
	const char *current = NULL, *name;
	json_int_t x, y, w, h;
	json_t *v;
	size_t i;

	json_unpack(resp, "{s?s}", "current", &current);
	json_array_foreach(json_object_get(resp, "monitors"), i, v) {
		name = NULL;
		x = y = w = h = 0;
		if (json_unpack(v, "{s:s,s:I,s:I,s:I,s:I}", "name", &name,
				"x", &x, "y", &y, "width", &w, "height",
				&h) != 0)
			continue;
		printf("%s %" JSON_INTEGER_FORMAT "x%" JSON_INTEGER_FORMAT
		       "%+" JSON_INTEGER_FORMAT "%+" JSON_INTEGER_FORMAT "%s\n",
		       name, w, h, x, y,
		       current != NULL && strcmp(current, name) == 0 ? " *"
								    : "");
	}
}

static int cmd_session_list(struct cli *cli)
{
	struct ll_api_session_list l;
	struct ll_client_error e;
	struct ll_api_client *c;
	json_t *arr;
	size_t i;
	int r;

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
				arr, json_pack("{s:s,s:s,s:I,s:I}",
					       "session_id",
					       l.sessions[i].session_id,
					       "state", l.sessions[i].state,
					       "created_at",
					       (json_int_t)l.sessions[i]
						       .created_at,
					       "expires_at",
					       (json_int_t)l.sessions[i]
						       .expires_at));
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

static int cmd_session(struct cli *cli)
{
	struct opt opts[] = {
		{ "--timeout", true, NULL }, { "--button", true, NULL },
		{ NULL, false, NULL },
	};
	GPtrArray *pos = g_ptr_array_new();
	const char *sub, *id;
	json_t *req = NULL, *resp = NULL, *caps, *v;
	char *abs = NULL;
	long t = 0, x, y, b = 1;
	int r, timeout_ms = 20000;
	size_t i;

	if (parse_opts(cli, 1, opts, pos) != 0) {
		r = LL_EXIT_USAGE;
		goto out;
	}
	if (pos->len >= 1 &&
	    strcmp(g_ptr_array_index(pos, 0), "list") == 0) {
		r = pos->len == 1 ? cmd_session_list(cli)
				  : usage(cli, "session list");
		goto out;
	}
	if (pos->len < 2) {
		r = usage(cli, "session wait|request|snapshot|click|type|"
			       "key|monitors|monitor|end|status ID ...");
		goto out;
	}
	sub = g_ptr_array_index(pos, 0);
	id = g_ptr_array_index(pos, 1);
	if (!ll_agent_session_id_ok(id)) {
		r = usage(cli, "ID is the session_id that `pin new` printed");
		goto out;
	}
	if (strcmp(sub, "wait") == 0 && pos->len == 2) {
		if (opts[0].value != NULL &&
		    parse_int(opts[0].value, 1, 86400, &t) != 0) {
			r = usage(cli, "--timeout is 1..86400 seconds");
			goto out;
		}
		req = json_pack("{s:s,s:I}", "cmd", "wait", "timeout",
				(json_int_t)t);
		timeout_ms = t > 0 ? (int)(t * 1000 + 10000) : -1;
	} else if (strcmp(sub, "status") == 0 && pos->len == 2) {
		req = json_pack("{s:s}", "cmd", "status");
	} else if (strcmp(sub, "request") == 0 && pos->len >= 3) {
		caps = json_array();
		for (i = 2; i < pos->len; i++)
			json_array_append_new(
				caps, json_string(g_ptr_array_index(pos, i)));
		req = json_pack("{s:s,s:o}", "cmd", "request", "capabilities",
				caps);
	} else if (strcmp(sub, "snapshot") == 0 && pos->len == 3) {
		abs = g_canonicalize_filename(g_ptr_array_index(pos, 2), NULL);
		req = json_pack("{s:s,s:s}", "cmd", "snapshot", "path", abs);
		timeout_ms = 60000;
	} else if (strcmp(sub, "click") == 0 && pos->len == 4) {
		if (parse_int(g_ptr_array_index(pos, 2), 0, 65535, &x) != 0 ||
		    parse_int(g_ptr_array_index(pos, 3), 0, 65535, &y) != 0 ||
		    (opts[1].value != NULL &&
		     parse_int(opts[1].value, 1, 8, &b) != 0)) {
			r = usage(cli, "session click ID X Y [--button 1..8]");
			goto out;
		}
		req = json_pack("{s:s,s:I,s:I,s:I}", "cmd", "click", "x",
				(json_int_t)x, "y", (json_int_t)y, "button",
				(json_int_t)b);
	} else if (strcmp(sub, "type") == 0 && pos->len == 3) {
		req = json_pack("{s:s,s:s}", "cmd", "type", "text",
				(const char *)g_ptr_array_index(pos, 2));
		if (req == NULL) {
			r = usage(cli, "the text is not valid UTF-8");
			goto out;
		}
	} else if (strcmp(sub, "key") == 0 && pos->len == 3) {
		req = json_pack("{s:s,s:s}", "cmd", "key", "key",
				(const char *)g_ptr_array_index(pos, 2));
		if (req == NULL) {
			r = usage(cli, "the key name is not valid UTF-8");
			goto out;
		}
	} else if (strcmp(sub, "monitors") == 0 && pos->len == 2) {
		req = json_pack("{s:s}", "cmd", "monitors");
	} else if (strcmp(sub, "monitor") == 0 && pos->len == 3) {
		req = json_pack("{s:s,s:s}", "cmd", "monitor", "name",
				(const char *)g_ptr_array_index(pos, 2));
		if (req == NULL) {
			r = usage(cli, "the monitor name is not valid UTF-8");
			goto out;
		}
	} else if (strcmp(sub, "end") == 0 && pos->len == 2) {
		req = json_pack("{s:s}", "cmd", "end");
	} else {
		r = usage(cli, "session wait ID [--timeout S] | request ID "
			       "CAP... | snapshot ID FILE.png | click ID X Y "
			       "[--button N] | type ID TEXT | key ID KEYSYM "
			       "| monitors ID | monitor ID NAME|all "
			       "| status ID | end ID");
		goto out;
	}
	if ((r = holder_call(cli, id, req, timeout_ms, &resp)) != 0)
		goto out;
	if (!json_is_true(json_object_get(resp, "ok"))) {
		r = holder_error(cli, resp);
		goto out;
	}
	json_object_del(resp, "ok");
	r = 0;
	if (cli->json) {
		print_json(json_incref(resp));
	} else if (strcmp(sub, "wait") == 0) {
		json_array_foreach(json_object_get(resp, "capabilities"), i, v)
			printf("%s\n", json_string_value(v));
	} else if (strcmp(sub, "status") == 0) {
		printf("%s\n",
		       json_string_value(json_object_get(resp, "state")));
		json_array_foreach(json_object_get(resp, "capabilities"), i, v)
			printf("%s\n", json_string_value(v));
	} else if (strcmp(sub, "snapshot") == 0) {
		printf("%s\n", abs);
	} else if (strcmp(sub, "monitors") == 0 ||
		   strcmp(sub, "monitor") == 0) {
		print_monitors(resp);
	} else if (strcmp(sub, "end") == 0) {
		printf("ended\n");
	} else {
		printf("ok\n");
	}
out:
	json_decref(req);
	json_decref(resp);
	g_free(abs);
	g_ptr_array_unref(pos);
	return r;
}

static int cmd_help(void)
{
	puts("lifeline-agent --cli [--relay URL] [--ca FILE] [--profile DIR] "
	     "[--json] COMMAND\n"
	     "  login --user U [--org O] [--password-stdin] [--code TOTP]\n"
	     "  logout\n"
	     "  pin new [--lock any|website|shortcut] [--request CAP,...]\n"
	     "  session list\n"
	     "  session status ID\n"
	     "  session wait ID [--timeout S]\n"
	     "  session request ID CAP...\n"
	     "  session snapshot ID FILE.png\n"
	     "  session click ID X Y [--button N]\n"
	     "  session type ID TEXT\n"
	     "  session key ID KEYSYM\n"
	     "  session monitors ID\n"
	     "  session monitor ID NAME|all\n"
	     "  session end ID\n"
	     "Exit status: 0 ok, 1 error, 2 usage, 3 not allowed by the "
	     "user, 4 timed out, 5 session over, 6 not logged in / refused");
	return 0;
}

int ll_agent_cli_main(int argc, char **argv)
{
	struct cli cli;
	const char *cmd, *a;
	char *err = NULL;
	int i, r;
	bool dashdash = false;

	memset(&cli, 0, sizeof(cli));
	cli.args = g_ptr_array_new();
	/* global options anywhere before "--" */
	for (i = 2; i < argc; i++) {
		a = argv[i];
		if (!dashdash && strcmp(a, "--json") == 0) {
			cli.json = true;
		} else if (!dashdash && (strcmp(a, "--relay") == 0 ||
					 strcmp(a, "--ca") == 0 ||
					 strcmp(a, "--profile") == 0)) {
			if (i + 1 >= argc) {
				r = fail(&cli, LL_EXIT_USAGE, "usage",
					 "%s needs a value", a);
				goto out;
			}
			if (strcmp(a, "--relay") == 0)
				cli.relay = argv[++i];
			else if (strcmp(a, "--ca") == 0)
				cli.ca_file = argv[++i];
			else
				cli.profile_dir = argv[++i];
		} else if (!dashdash && g_str_has_prefix(a, "--relay=")) {
			cli.relay = a + 8;
		} else if (!dashdash && g_str_has_prefix(a, "--ca=")) {
			cli.ca_file = a + 5;
		} else if (!dashdash && g_str_has_prefix(a, "--profile=")) {
			cli.profile_dir = a + 10;
		} else {
			if (strcmp(a, "--") == 0)
				dashdash = true;
			g_ptr_array_add(cli.args, (gpointer)a);
		}
	}
	if (cli.args->len == 0 ||
	    strcmp(g_ptr_array_index(cli.args, 0), "help") == 0 ||
	    strcmp(g_ptr_array_index(cli.args, 0), "--help") == 0) {
		r = cli.args->len == 0 ? (cmd_help(), LL_EXIT_USAGE)
				       : cmd_help();
		goto out;
	}
	if (cli.relay != NULL && !g_str_has_prefix(cli.relay, "https://")) {
		r = usage(&cli, "--relay must be an https:// URL");
		goto out;
	}
	if (ll_profile_open(cli.profile_dir, &cli.profile, &err) != 0) {
		r = fail(&cli, LL_EXIT_ERROR, "io", "%s", err);
		goto out;
	}
	cmd = g_ptr_array_index(cli.args, 0);
	if (strcmp(cmd, "login") == 0)
		r = cmd_login(&cli);
	else if (strcmp(cmd, "logout") == 0)
		r = cmd_logout(&cli);
	else if (strcmp(cmd, "pin") == 0)
		r = cmd_pin(&cli);
	else if (strcmp(cmd, "session") == 0)
		r = cmd_session(&cli);
	else
		r = usage(&cli, "unknown command");
out:
	fflush(stdout);
	ll_profile_free(cli.profile);
	g_free(err);
	g_ptr_array_unref(cli.args);
	return r;
}
