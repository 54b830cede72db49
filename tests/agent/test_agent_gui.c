/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's GUI on a private Xvfb (-displayfd) against a real relay
 * (harness.h), driven with xdotool as a person would: a technician with a
 * one-time password logs in, "PRODUCT Agent – Choose a new password"
 * comes up, a new password typed twice (after a mistyped repetition,
 * which keeps the dialog up) changes it, and the agent goes on logged in;
 * the relay then takes the new password, and no longer asks for a change.
 *
 * careful: `--help` lists --relay, --ca, --profile and --cli.  Against a
 * relay with a self-signed certificate like init's and no --ca, the login
 * shows "Check the relay's certificate" with its fingerprint; Alt+T
 * trusts it and logs in (stored in the profile).  A New PIN's session
 * window asks "End the session with ...?" on End session: Escape keeps
 * it, Alt+E ends it.  After the relay reloads another certificate on the
 * same port, the next login is refused with "The relay's certificate has
 * changed" and nothing logs in.  Screenshots to LL_ARTIFACTS_DIR.
 * The session list then refreshes itself: a session made and ended
 * through the API shows up and ends in it without a click; a New PIN
 * nobody entered ends, when it runs out, with "The PIN expired before
 * the user entered it" in its window.
 * Exit 77 (skipped) without Xvfb or xdotool.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "ll_tls.h"
#include "lt_wait.h"
#include "lt_x.h"

#define NEW_PW "Gui-Chosen-Pw-8642"

static char **child_env(const char *display)
{
	return lt_x_env(display != NULL ? display : ":99");
}

/* Starts argv in the background, stdout+stderr appended to log. */
static GPid spawn_bg(char **argv, const char *display, const char *log)
{
	return lt_x_spawn(argv, display != NULL ? display : ":99", log);
}

static void stop(GPid pid)
{
	int st;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	if (waitpid(pid, &st, 0) < 0 && errno != ECHILD)
		g_test_message("waitpid: %s", g_strerror(errno));
}

/* xdotool ARGS... on display; its exit status, stdout in *out. */
static int xdo(const char *display, char **out, ...) G_GNUC_NULL_TERMINATED;
static int xdo(const char *display, char **out, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_auto(GStrv) env = child_env(display);
	const char *a;
	va_list ap;
	int st = -1;

	g_ptr_array_add(argv, "xdotool");
	va_start(ap, out);
	while ((a = va_arg(ap, const char *)) != NULL)
		g_ptr_array_add(argv, (char *)a);
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	if (!g_spawn_sync(NULL, (char **)argv->pdata, env, G_SPAWN_SEARCH_PATH,
			  NULL, NULL, out, NULL, &st, NULL))
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static unsigned long find_window(const char *display, const char *re)
{
	g_autofree char *out = NULL;

	if (xdo(display, &out, "search", "--onlyvisible", "--name", re,
		NULL) != 0 ||
	    out == NULL)
		return 0;
	return strtoul(out, NULL, 10);
}

/* The visible window whose title matches re, waiting for it. */
static unsigned long wait_window(const char *display, const char *re)
{
	g_autofree char *id = NULL;

	if (!lt_x_wait_window(display, re, false, 30000, NULL, NULL, &id))
		g_error("no window \"%s\" within 30 s", re);
	return strtoul(id, NULL, 10);
}

/* Focuses w (pointer over it too: there is no window manager) and
 * sends keys, or types text when type is set. */
static void keys(const char *display, unsigned long w, const char *what,
		 bool type)
{
	g_autofree char *id = g_strdup_printf("%lu", w);

	g_assert_cmpint(xdo(display, NULL, "mousemove", "--window", id, "20",
			    "20", NULL),
			==, 0);
	g_assert_cmpint(xdo(display, NULL, "windowfocus", "--sync", id, NULL),
			==, 0);
	if (type)
		g_assert_cmpint(xdo(display, NULL, "type", "--delay", "5",
				    what, NULL),
				==, 0);
	else
		g_assert_cmpint(xdo(display, NULL, "key", "--clearmodifiers",
				    what, NULL),
				==, 0);
}

/* Waits for count lines of the GUI's log holding needle. */
static void wait_log(const char *log, const char *needle, int count)
{
	if (!lt_wait_file(log, 0, needle, count, 30000))
		g_error("the agent did not log \"%s\" within 30 s (see %s)",
			needle, log);
}

/* The audit records of action (the relay stopped) whose actor is
 * actor. */
static size_t audit_count(struct lh_relay *relay, const char *action,
			  const char *actor)
{
	json_t *recs = lh_audit_records(relay, action);
	json_t *rec;
	size_t i, n = 0;

	json_array_foreach(recs, i, rec)
	{
		if (strcmp(json_string_value(json_object_get(rec, "actor")),
			   actor) == 0)
			n++;
	}
	json_decref(recs);
	return n;
}

/* POST /api/v1/groups: group name with the one permission perm, 201. */
static void group_add(struct lh_relay *relay, const char *tok,
		      const char *name, const char *perm)
{
	json_t *body = json_pack("{s:s,s:[s]}", "name", name, "permissions",
				 perm);
	struct lh_resp *r = lh_post(relay, "/api/v1/groups", tok, body);

	g_assert_cmpint(r->status, ==, 201);
	lh_resp_free(r);
	json_decref(body);
}

static void screenshot(const char *display, const char *name);

/* The regex of the title "PRODUCT Agent – what" (NULL: the main
 * window's, "PRODUCT Agent"). */
static char *agent_re(const char *what)
{
	const char *product = g_getenv("LL_PRODUCT");

	if (what == NULL)
		return g_strdup_printf("^%s Agent$", product);
	return g_strdup_printf("^%s Agent – %s$", product, what);
}

/* The regex of a session window's title, whatever its session. */
static char *agent_session_re(void)
{
	return g_strdup_printf("^%s Agent – Session ", g_getenv("LL_PRODUCT"));
}

/*
 * One GUI test's world: an Xvfb of its own beside the test's relay, and
 * the agent's GUI on it with a fresh profile, logging to log; main_win
 * is its main window.
 */
struct gui {
	struct lh_relay *relay;
	struct lt_xvfb *xvfb;
	const char *display;
	char *url, *profile, *log;
	GPid pid;
	unsigned long main_win;
};

/* True (the test skipped) without Xvfb or xdotool. */
static bool gui_skip(void)
{
	if (g_getenv("LL_XVFB") != NULL && g_getenv("LL_XDOTOOL") != NULL)
		return false;
	g_test_skip("needs Xvfb and xdotool");
	return true;
}

/* Starts the agent's GUI for g->relay (trusting its CA when ca) and
 * waits for its main window. */
static void gui_spawn(struct gui *g, bool ca)
{
	char *argv[] = { (char *)g_getenv("LL_AGENT_BIN"),
			 "--relay",
			 g->url,
			 "--profile",
			 g->profile,
			 ca ? "--ca" : NULL,
			 g->relay->ca_cert,
			 NULL };
	g_autofree char *main_re = agent_re(NULL);

	g->pid = spawn_bg(argv, g->display, g->log);
	g->main_win = wait_window(g->display, main_re);
}

/* Starts an Xvfb and the agent's GUI on it for relay (running). */
static void gui_start(struct gui *g, struct lh_relay *relay, bool ca)
{
	g_autofree char *xvfb_log = g_build_filename(relay->dir, "xvfb.log",
						     NULL);

	g->relay = relay;
	g->xvfb = lt_xvfb_start("1024x768x24", xvfb_log);
	g->display = lt_xvfb_display(g->xvfb);
	g->url = g_strdup_printf("https://127.0.0.1:%u", relay->port);
	g->profile = g_build_filename(relay->dir, "gui-profile", NULL);
	g->log = g_build_filename(relay->dir, "agent-gui.log", NULL);
	gui_spawn(g, ca);
}

/* Ends the GUI, waits until its main window is gone, and starts it
 * again with the same profile and log. */
static void gui_restart(struct gui *g, bool ca)
{
	g_autofree char *main_re = agent_re(NULL);

	stop(g->pid);
	if (!lt_x_wait_window(g->display, main_re, true, 30000, NULL, NULL,
			      NULL))
		g_error("the first agent's window stays");
	gui_spawn(g, ca);
}

/* Types user and password into the login form and logs in (Alt+L). */
static void gui_login(struct gui *g, const char *user, const char *pw)
{
	keys(g->display, g->main_win, "alt+u", false);
	keys(g->display, g->main_win, user, true);
	keys(g->display, g->main_win, "alt+p", false);
	keys(g->display, g->main_win, pw, true);
	keys(g->display, g->main_win, "alt+l", false);
}

/* A relay started as name, with ada, an admin of the default org
 * (NEW_PW, recorded as a secret). */
static struct lh_relay *admin_relay(const char *name)
{
	struct lh_relay *relay = lh_relay_new(name, NULL);

	lh_relay_start(relay);
	lh_tech_add(relay, "ada", NEW_PW, true);
	lh_secret("password", NEW_PW);
	return relay;
}

/* Add (Alt+A) in the admin's window w: the dialog titled
 * "PRODUCT Agent – title", once it is there. */
static unsigned long gui_add_dialog(struct gui *g, unsigned long w,
				    const char *title)
{
	g_autofree char *re = agent_re(title);

	keys(g->display, w, "alt+a", false);
	return wait_window(g->display, re);
}

/*
 * Logs in as ada (an admin) and opens an admin's window, titled
 * "PRODUCT Agent – title", with key: the GUI logs "tag: offered (an
 * admin)" first, shown once the window is.  The window's id.
 */
static unsigned long gui_admin_window(struct gui *g, const char *tag,
				      const char *key, const char *title,
				      const char *shown)
{
	g_autofree char *offered = g_strdup_printf("%s: offered (an admin)",
						   tag);
	g_autofree char *re = agent_re(title);
	unsigned long w;

	gui_login(g, "ada", NEW_PW);
	wait_log(g->log, offered, 1);
	keys(g->display, g->main_win, key, false);
	w = wait_window(g->display, re);
	wait_log(g->log, shown, 1);
	return w;
}

/* Ends the GUI and its Xvfb; the relay stays the caller's. */
static void gui_stop(struct gui *g)
{
	stop(g->pid);
	lt_xvfb_stop(g->xvfb);
	g_free(g->url);
	g_free(g->profile);
	g_free(g->log);
}

/*
 * A New PIN nobody entered: when it runs out, the session window says so,
 * not "connection lost" (issue 9 item 1).  Last of a test: it moves the
 * relay's clock past the PIN's lifetime (1200 s), not past the token's
 * idle time (1800 s).
 */
static void pin_runs_out(struct lh_relay *relay, const char *display,
			 unsigned long main_win, const char *log)
{
	g_autofree char *session_re = agent_session_re();

	keys(display, main_win, "alt+n", false);
	wait_window(display, session_re);
	if (!lh_relay_clock_advance(relay, 1300))
		return; /* without -Dtest_hooks=true */
	wait_log(log, "The PIN expired before the user entered it", 1);
	screenshot(display, "agent-pin-expired");
}

static void test_one_time_password(void)
{
	struct lh_relay *relay;
	g_autofree char *out = NULL, *err = NULL;
	g_autofree char *otp = NULL;
	g_autofree char *dlg_re = NULL;
	struct gui g = { 0 };
	unsigned long dlg;
	struct lh_resp *r;

	if (gui_skip())
		return;
	relay = lh_relay_new("agent-gui", NULL);
	lh_relay_start(relay);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, &err, "technician",
				     "add", "gina", NULL),
			==, 0);
	otp = g_strstrip(g_strdup(out));
	lh_secret("password", otp);
	lh_secret("password", NEW_PW);

	gui_start(&g, relay, true);
	dlg_re = agent_re("Choose a new password");
	gui_login(&g, "gina", otp);

	/* The focus starts on the new password; the old one is filled in. */
	dlg = wait_window(g.display, dlg_re);
	wait_log(g.log, "a one-time password; asking for a new one", 1);
	keys(g.display, dlg, NEW_PW, true);
	keys(g.display, dlg, "alt+r", false);
	keys(g.display, dlg, "Not-The-Same-000", true);
	keys(g.display, dlg, "Return", false);
	/* mistyped: still asked, nothing changed */
	wait_log(g.log, "the new passwords differ", 1);
	g_assert_cmpuint(find_window(g.display, dlg_re), ==, dlg);
	r = lh_login_try(relay, "gina", NEW_PW);
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);

	keys(g.display, dlg, "alt+r", false);
	keys(g.display, dlg, "ctrl+a", false);
	keys(g.display, dlg, NEW_PW, true);
	keys(g.display, dlg, "Return", false);
	wait_log(g.log, "the one-time password is changed", 1);
	g_assert_cmpuint(find_window(g.display, dlg_re), ==, 0);

	g_free(lh_login(relay, "gina", NEW_PW));
	r = lh_login_try(relay, "gina", NEW_PW);
	g_assert_cmpint(r->status, ==, 200);
	lh_secret("token", lh_resp_str(r, "token"));
	g_assert_true(json_is_false(
		json_object_get(r->json, "password_change_required")));
	lh_resp_free(r);

	/* The list keeps itself true, with nobody pressing Refresh: a PIN
	 * made elsewhere (the technician's CLI, say) shows up, and its end
	 * shows too (issue 9 item 3). */
	{
		g_autofree char *tok = lh_login(relay, "gina", NEW_PW);
		g_autofree char *path = NULL, *needle = NULL;
		struct lh_pin pin = { 0 };

		lh_pin_new(relay, tok, NULL, &pin);
		needle = g_strdup_printf("sessions: %s is waiting",
					 pin.session_id);
		wait_log(g.log, needle, 1);
		path = g_strdup_printf("/api/v1/sessions/%s", pin.session_id);
		r = lh_delete(relay, path, tok);
		g_assert_cmpint(r->status, ==, 204);
		lh_resp_free(r);
		g_free(needle);
		needle = g_strdup_printf("sessions: %s is ended",
					 pin.session_id);
		wait_log(g.log, needle, 1);
		lh_pin_clear(&pin);
	}

	pin_runs_out(relay, g.display, g.main_win, g.log);

	gui_stop(&g);
	lh_relay_free(relay);
}

/* Lines of the GUI's log holding needle, now. */
static int log_count(const char *log, const char *needle)
{
	g_autofree char *text = NULL;
	const char *p;
	int n = 0;

	if (!g_file_get_contents(log, &text, NULL, NULL))
		return 0;
	for (p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* The whole screen to LL_ARTIFACTS_DIR/NAME.png (none without it). */
static void screenshot(const char *display, const char *name)
{
	const char *adir = g_getenv("LL_ARTIFACTS_DIR");
	g_autofree char *path = NULL;
	g_auto(GStrv) env = child_env(display);
	int st = -1;

	if (adir == NULL || adir[0] == '\0')
		return;
	g_mkdir_with_parents(adir, 0755);
	path = g_strdup_printf("%s/%s.png", adir, name);
	{
		char *argv[] = { "import", "-window", "root", path, NULL };

		if (!g_spawn_sync(NULL, argv, env, G_SPAWN_SEARCH_PATH, NULL,
				  NULL, NULL, NULL, &st, NULL) ||
		    st != 0)
			g_test_message("screenshot %s failed", path);
	}
}

static void test_help(void)
{
	g_autofree char *out = NULL;
	char *argv[] = { (char *)g_getenv("LL_AGENT_BIN"), "--help", NULL };
	static const char *const opts[] = { "--relay=URL", "--ca=FILE",
					    "--profile=DIR", "--cli" };
	size_t i;
	int st;

	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL,
				   NULL, &out, NULL, &st, NULL));
	g_assert_true(g_spawn_check_wait_status(st, NULL));
	for (i = 0; i < G_N_ELEMENTS(opts); i++)
		if (strstr(out, opts[i]) == NULL)
			g_error("--help does not list %s:\n%s", opts[i], out);
}

/* Replaces the relay's certificate with a fresh self-signed one, as
 * `lifeline-relay init` makes them; its fingerprint in fp. */
static void self_signed(struct lh_relay *relay, char *fp, size_t fplen)
{
	char why[256];

	/* it writes new files only */
	unlink(relay->key_file);
	unlink(relay->cert_file);
	g_assert_cmpint(ll_tls_selfsigned_create(relay->key_file,
						 relay->cert_file, "localhost",
						 NULL, why, sizeof(why)),
			==, 0);
	g_assert_cmpint(ll_tls_cert_fingerprint(relay->cert_file, fp, fplen),
			==, 0);
}

/* Waits until the relay presents the certificate with fingerprint fp. */
static void wait_presented(struct lh_relay *relay, const char *fp)
{
	int64_t deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	char got[96], why[256];
	char *pem = NULL;

	for (;;) {
		got[0] = '\0';
		if (ll_tls_peer_cert_fetch("127.0.0.1", relay->port, 5000,
					   &pem, got, sizeof(got), why,
					   sizeof(why)) == 0)
			free(pem);
		pem = NULL;
		if (strcmp(got, fp) == 0)
			return;
		if (g_get_monotonic_time() > deadline)
			g_error("the relay does not present %s", fp);
		/* polling the relay's state: each probe is a new
		 * connection, answered once the reload is done */
		lt_iterate(50);
	}
}

/* End session asks first: Escape keeps the session, Alt+E ends it. */
static void end_session_asks(const char *display, unsigned long main_win,
			     const char *log)
{
	g_autofree char *session_re = agent_session_re();
	unsigned long w;

	keys(display, main_win, "alt+n", false);
	w = wait_window(display, session_re);
	keys(display, w, "alt+e", false);
	wait_log(log, "asking the technician to confirm the end", 1);
	g_assert_cmpuint(wait_window(display, "^End the session\\?$"), !=, 0);
	screenshot(display, "agent-end-session-confirm");
	keys(display, wait_window(display, "^End the session\\?$"), "Escape",
	     false);
	wait_log(log, "the technician keeps the session", 1);
	g_assert_cmpint(log_count(log, "the technician ended"), ==, 0);
	keys(display, w, "alt+e", false);
	wait_log(log, "asking the technician to confirm the end", 2);
	keys(display, wait_window(display, "^End the session\\?$"), "alt+e",
	     false);
	wait_log(log, "the technician ended the session", 1);
}

static void test_careful(void)
{
	struct lh_relay *relay;
	g_autofree char *trust_re = NULL;
	g_autofree char *changed_re = NULL, *known = NULL, *stored = NULL;
	g_autofree char *logtext = NULL;
	char fp1[96], fp2[96];
	struct gui g = { 0 };
	unsigned long w;

	if (gui_skip())
		return;
	relay = lh_relay_new("agent-careful", NULL);
	self_signed(relay, fp1, sizeof(fp1));
	lh_relay_start(relay);
	lh_tech_add(relay, "tina", NEW_PW, false);
	lh_secret("password", NEW_PW);

	/* no --ca: the system's CAs do not know this relay */
	gui_start(&g, relay, false);
	trust_re = agent_re("Check the relay’s certificate");
	changed_re = agent_re("The relay’s certificate has changed");
	/* the relay is filled in: the focus starts in User */
	keys(g.display, g.main_win, "tina", true);
	keys(g.display, g.main_win, "alt+p", false);
	keys(g.display, g.main_win, NEW_PW, true);
	keys(g.display, g.main_win, "Return", false);

	w = wait_window(g.display, trust_re);
	wait_log(g.log, "presents a certificate this computer cannot verify",
		 1);
	screenshot(g.display, "agent-trust-relay");
	g_assert_cmpint(log_count(g.log, "login: logged in"), ==, 0);
	keys(g.display, w, "alt+t", false);
	wait_log(g.log, "login: logged in", 1);
	/* no admin: no Policies button (issue 10 item 8) */
	wait_log(g.log, "policies: not offered (not an admin)", 1);
	wait_log(g.log, "technicians: not offered (not an admin)", 1);
	wait_log(g.log, "live: not offered (not an admin)", 1);
	wait_log(g.log, "groups: not offered (not an admin)", 1);
	g_assert_true(g_file_get_contents(g.log, &logtext, NULL, NULL));
	g_assert_nonnull(strstr(logtext, fp1));
	known = g_build_filename(g.profile, "known_relays", NULL);
	g_assert_true(g_file_get_contents(known, &stored, NULL, NULL));
	g_assert_nonnull(strstr(stored, fp1));

	end_session_asks(g.display, g.main_win, g.log);
	/* in no group: every capability, Request control is not greyed */
	g_assert_cmpint(log_count(g.log, "Request control greyed out"), ==, 0);

	/* another certificate on the same port: refused, loudly */
	self_signed(relay, fp2, sizeof(fp2));
	g_assert_cmpstr(fp1, !=, fp2);
	lh_relay_signal(relay, SIGHUP);
	wait_presented(relay, fp2);
	/* later, a new start of the agent with the same profile: user
	 * and relay are filled in, the focus is in Password */
	gui_restart(&g, false);
	keys(g.display, g.main_win, NEW_PW, true);
	keys(g.display, g.main_win, "Return", false);
	w = wait_window(g.display, changed_re);
	wait_log(g.log, "REFUSED: the certificate of", 1);
	screenshot(g.display, "agent-relay-certificate-changed");
	g_clear_pointer(&logtext, g_free);
	g_assert_true(g_file_get_contents(g.log, &logtext, NULL, NULL));
	g_assert_nonnull(strstr(logtext, fp2));
	/* no click-through: Close, and still not logged in again */
	keys(g.display, w, "alt+c", false);
	if (!lt_x_wait_window(g.display, changed_re, true, 30000, NULL, NULL,
			      NULL))
		g_error("the warning did not close");
	g_assert_cmpint(log_count(g.log, "login: logged in"), ==, 1);
	g_clear_pointer(&stored, g_free);
	g_assert_true(g_file_get_contents(known, &stored, NULL, NULL));
	g_assert_nonnull(strstr(stored, fp1));
	g_assert_null(strstr(stored, fp2));

	gui_stop(&g);
	lh_relay_free(relay);
}

/* The text zbarimg (an independent QR decoder) reads in window w. */
static char *qr_read(const char *display, unsigned long w, const char *in)
{
	g_autofree char *path = g_build_filename(in, "mfa-qr.png", NULL);
	g_autofree char *id = g_strdup_printf("%lu", w);
	g_auto(GStrv) env = child_env(display);
	char *out = NULL;
	int st = -1;

	{
		char *argv[] = { "import", "-window", id, path, NULL };

		g_assert_true(g_spawn_sync(NULL, argv, env,
					   G_SPAWN_SEARCH_PATH, NULL, NULL,
					   NULL, NULL, &st, NULL));
		g_assert_true(g_spawn_check_wait_status(st, NULL));
	}
	{
		char *argv[] = { "zbarimg", "--raw", "-q", path, NULL };

		g_assert_true(g_spawn_sync(NULL, argv, NULL,
					   G_SPAWN_SEARCH_PATH, NULL, NULL,
					   &out, NULL, &st, NULL));
		g_assert_true(g_spawn_check_wait_status(st, NULL));
	}
	return g_strchomp(out);
}

/* The TOTP code of a base32 seed at the relay's time, from oathtool. */
static char *totp_at(const char *b32, const struct lh_relay *relay)
{
	g_autofree char *now = g_strdup_printf("@%" G_GINT64_FORMAT,
					       (gint64)g_get_real_time() /
							       G_USEC_PER_SEC +
						       relay->clock_offset);
	char *argv[] = { "oathtool", "--totp", "-b", (char *)b32,
			 "-N",       now,      NULL };
	char *out = NULL;
	int st = -1;

	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
				   NULL, &out, NULL, &st, NULL));
	g_assert_true(g_spawn_check_wait_status(st, NULL));
	return g_strchomp(out);
}

/* Turns user's second factor on through the API: one of the recovery
 * codes the confirm answers (g_free). */
static char *mfa_by_api(struct lh_relay *relay, const char *user)
{
	g_autofree char *tok = lh_login(relay, user, NEW_PW);
	g_autofree char *code = NULL;
	struct lh_resp *r;
	json_t *body;
	char *rc;

	r = lh_post(relay, "/api/v1/mfa/enroll", tok, NULL);
	g_assert_cmpint(r->status, ==, 200);
	lh_secret("seed", lh_resp_str(r, "secret"));
	code = totp_at(lh_resp_str(r, "secret"), relay);
	lh_resp_free(r);
	r = lh_post(relay, "/api/v1/mfa/confirm", tok,
		    body = json_pack("{ss}", "code", code));
	json_decref(body);
	g_assert_cmpint(r->status, ==, 200);
	rc = g_strdup(json_string_value(
		json_array_get(json_object_get(r->json, "recovery_codes"),
			       3)));
	g_assert_nonnull(rc);
	lh_secret("recovery code", rc);
	lh_resp_free(r);
	return rc;
}

/* Fills the login form's User, Password (NEW_PW) and Code fields anew,
 * without logging in. */
static void gui_fill_login(const char *display, unsigned long main_win,
			   const char *user, const char *code)
{
	keys(display, main_win, "alt+u", false);
	keys(display, main_win, "ctrl+a", false);
	keys(display, main_win, user, true);
	keys(display, main_win, "alt+p", false);
	keys(display, main_win, "ctrl+a", false);
	keys(display, main_win, NEW_PW, true);
	keys(display, main_win, "alt+c", false);
	keys(display, main_win, "ctrl+a", false);
	keys(display, main_win, code, true);
}

/* Logs out, and in as user with code in the form's Code field (typed
 * once the form is there: what is typed before goes elsewhere). */
static void gui_login_code(const char *display, unsigned long main_win,
			   const char *log, const char *user, const char *code)
{
	int shown = log_count(log, "login: the login form is shown");

	keys(display, main_win, "alt+o", false);
	wait_log(log, "login: the login form is shown", shown + 1);
	gui_fill_login(display, main_win, user, code);
	keys(display, main_win, "alt+l", false);
}

/*
 * The phone is lost: the login form's Code field takes a recovery code
 * as well (anything but 6 digits is tried as one), once; the same code
 * again is refused with a sentence that says why.
 */
static void mfa_recovery_login(const char *display, unsigned long main_win,
			       const char *log, struct lh_relay *relay,
			       int logins)
{
	g_autofree char *rc = NULL;

	lh_tech_add(relay, "hana", NEW_PW, false);
	rc = mfa_by_api(relay, "hana");
	gui_login_code(display, main_win, log, "hana", rc);
	wait_log(log, "login: logged in to", logins + 1);
	screenshot(display, "agent-mfa-login-recovery-code");
	gui_login_code(display, main_win, log, "hana", rc);
	wait_log(log,
		 "login: refused: This recovery code was not accepted: it is "
		 "mistyped, or it was already used. Each recovery code works "
		 "only once.",
		 1);
	screenshot(display, "agent-mfa-recovery-code-used");
	/* both went to the relay as recovery codes, not as TOTP codes */
	{
		json_t *all = lh_audit_records(relay, "login.mfa"), *rec;
		size_t n = json_array_size(all);
		const char *want[] = { "ok", "invalid_mfa_code" };

		g_assert_cmpuint(n, >=, 2);
		for (size_t i = 0; i < 2; i++) {
			rec = json_array_get(all, n - 2 + i);
			g_assert_cmpstr(json_string_value(
						json_object_get(rec,
								"outcome")),
					==, want[i]);
			g_assert_cmpstr(json_string_value(json_object_get(
						json_object_get(rec, "detail"),
						"method")),
					==, "recovery_code");
		}
		json_decref(all);
	}
}

/*
 * Two-factor sign-in from the GUI (issue 11): the QR code the window
 * shows, read back by zbarimg, is the otpauth URI of a seed; oathtool's
 * code for that seed turns the factor on, the recovery codes show, and
 * from then on the relay asks this technician for a code.
 */
static void test_mfa_enrol(void)
{
	struct lh_relay *relay;
	g_autofree char *dlg_re = NULL;
	g_autofree char *uri = NULL, *b32 = NULL, *code = NULL;
	struct gui g = { 0 };
	unsigned long dlg;
	struct lh_resp *r;
	const char *p;
	int logins = 1;

	if (gui_skip())
		return;
	relay = lh_relay_new("agent-gui-mfa", NULL);
	lh_relay_start(relay);
	lh_tech_add(relay, "gabe", NEW_PW, false);
	lh_secret("password", NEW_PW);
	gui_start(&g, relay, true);
	dlg_re = agent_re("Two-factor sign-in");
	gui_login(&g, "gabe", NEW_PW);
	wait_log(g.log, "login: logged in to", 1);

	keys(g.display, g.main_win, "alt+t", false);
	dlg = wait_window(g.display, dlg_re);
	wait_log(g.log, "mfa: enrolment started", 1);
	uri = qr_read(g.display, dlg, relay->dir);
	g_assert_true(g_str_has_prefix(uri, "otpauth://totp/Lifeline:gabe"));
	p = strstr(uri, "secret=");
	g_assert_nonnull(p);
	b32 = g_strndup(p + 7, strcspn(p + 7, "&"));
	lh_secret("seed", b32);
	screenshot(g.display, "agent-mfa-qr");

	/* a wrong length first: said so, nothing sent */
	keys(g.display, dlg, "123", true);
	keys(g.display, dlg, "Return", false);
	wait_log(g.log, "mfa: the code is not 6 digits", 1);
	g_assert_cmpuint(find_window(g.display, dlg_re), ==, dlg);
	keys(g.display, dlg, "ctrl+a", false);
	code = totp_at(b32, relay);
	keys(g.display, dlg, code, true);
	keys(g.display, dlg, "Return", false);
	wait_log(g.log, "mfa: two-factor sign-in is on; 10 recovery codes", 1);
	screenshot(g.display, "agent-mfa-recovery-codes");
	keys(g.display, dlg, "alt+d", false); /* Done */
	if (!lt_x_wait_window(g.display, dlg_re, true, 30000, NULL, NULL,
			      NULL))
		g_error("the two-factor window did not close");

	r = lh_login_try(relay, "gabe", NEW_PW);
	g_assert_cmpint(r->status, ==, 401);
	g_assert_cmpstr(lh_resp_error_code(r), ==, "mfa_required");
	lh_resp_free(r);

	/* The login form's Code field answers it: out, and in again with
	 * the next step's code (the confirm's is spent). */
	keys(g.display, g.main_win, "alt+o", false);
	wait_log(g.log, "login: the login form is shown", 1);
	if (lh_relay_clock_advance(relay, 30)) {
		g_free(code);
		code = totp_at(b32, relay);
		gui_fill_login(g.display, g.main_win, "gabe", code);
		screenshot(g.display, "agent-mfa-login-code");
		keys(g.display, g.main_win, "alt+l", false);
		wait_log(g.log, "login: logged in to", 2);
		logins++;
	}
	mfa_recovery_login(g.display, g.main_win, g.log, relay, logins);

	gui_stop(&g);
	lh_relay_free(relay);
}

/*
 * An admin's Policies window (issue 10 item 8): Polic_ies (Alt+I) shows
 * the org's policy, the focus in its first value (pin_length); a new
 * value saved (Alt+S) is what the relay now has; a value it refuses
 * changes nothing and says why.  test_careful checks that a technician
 * who is no admin is not offered the button.
 */
static void test_policies(void)
{
	struct lh_relay *relay;
	g_autofree char *tok = NULL;
	struct gui g = { 0 };
	unsigned long w;
	struct lh_resp *r;

	if (gui_skip())
		return;
	relay = admin_relay("agent-policies");
	gui_start(&g, relay, true);
	w = gui_admin_window(&g, "policies", "alt+i", "Policies",
			     "policies: shown");
	keys(g.display, w, "ctrl+a", false);
	keys(g.display, w, "8", true);
	keys(g.display, w, "alt+s", false);
	wait_log(g.log, "policies: saved 1 change", 1);
	screenshot(g.display, "agent-policies");
	tok = lh_login(relay, "ada", NEW_PW);
	r = lh_get(relay, "/api/v1/orgs/default/policy", tok);
	g_assert_cmpint(r->status, ==, 200);
	g_assert_cmpint(json_integer_value(
				json_object_get(r->json, "pin_length")),
			==, 8);
	lh_resp_free(r);

	/* out of range: the relay refuses, nothing changes, it says why */
	keys(g.display, w, "alt+s", false);
	wait_log(g.log, "policies: nothing changed", 1);
	keys(g.display, w, "ctrl+a", false);
	keys(g.display, w, "99", true);
	keys(g.display, w, "alt+s", false);
	wait_log(g.log, "policies: Nothing was changed: ", 1);
	screenshot(g.display, "agent-policies-refused");
	r = lh_get(relay, "/api/v1/orgs/default/policy", tok);
	g_assert_cmpint(json_integer_value(
				json_object_get(r->json, "pin_length")),
			==, 8);
	lh_resp_free(r);

	gui_stop(&g);
	lh_relay_free(relay);
}

/* The technician name's entry of GET /api/v1/technicians as admin. */
static json_t *tech_listed(struct lh_relay *relay, const char *tok,
			   const char *name)
{
	struct lh_resp *r = lh_get(relay, "/api/v1/technicians", tok);
	json_t *t, *found = NULL;
	size_t i;

	g_assert_cmpint(r->status, ==, 200);
	json_array_foreach(json_object_get(r->json, "technicians"), i, t)
	{
		if (strcmp(json_string_value(json_object_get(t, "name")),
			   name) == 0)
			found = json_deep_copy(t);
	}
	lh_resp_free(r);
	g_assert_nonnull(found);
	return found;
}

static void tech_state_is(struct lh_relay *relay, const char *tok,
			  const char *key, const char *want)
{
	json_t *t = tech_listed(relay, tok, "carol");
	json_t *v = json_object_get(t, key);

	if (json_is_string(v))
		g_assert_cmpstr(json_string_value(v), ==, want);
	else
		g_assert_cmpstr(json_is_true(v) ? "true" : "false", ==, want);
	json_decref(t);
}

/* On the selected carol: each action of the Technicians window. */
static void tech_actions(struct lh_relay *relay, const char *tok,
			 const char *display, unsigned long w, const char *log)
{
	g_autofree char *pw_re = agent_re("One-time password");
	g_autofree char *dn_re = agent_re("Display name");
	unsigned long d;

	keys(display, w, "alt+n", false);
	d = wait_window(display, dn_re);
	keys(display, d, "ctrl+a", false);
	keys(display, d, "Carol Cee", true);
	keys(display, d, "Return", false);
	wait_log(log, "technicians: carol is shown as \"Carol Cee\"", 1);
	wait_log(log, "technicians: shown 2", 2);
	tech_state_is(relay, tok, "display_name", "Carol Cee");
	keys(display, w, "alt+d", false);
	wait_log(log, "technicians: carol disabled", 1);
	wait_log(log, "technicians: shown 2", 3);
	tech_state_is(relay, tok, "disabled", "true");
	screenshot(display, "agent-technicians");
	keys(display, w, "alt+e", false);
	wait_log(log, "technicians: carol enabled", 1);
	wait_log(log, "technicians: shown 2", 4);
	tech_state_is(relay, tok, "disabled", "false");
	keys(display, w, "alt+u", false);
	wait_log(log, "technicians: carol unlocked", 1);
	wait_log(log, "technicians: shown 2", 5);
	keys(display, w, "alt+t", false);
	wait_log(log, "technicians: carol: second factor reset", 1);
	wait_log(log, "technicians: shown 2", 6);
	keys(display, w, "alt+p", false);
	wait_log(log, "technicians: carol: new one-time password", 1);
	d = wait_window(display, pw_re);
	wait_log(log, "technicians: one-time password of carol shown", 2);
	keys(display, d, "Escape", false);
	wait_log(log, "technicians: shown 2", 7);
}

/* Group (Alt+G) on the selected carol: the combo offers "No group" and
 * the org's groups; Down picks Helpdesk, then back to No group. */
static void tech_group(struct lh_relay *relay, const char *tok,
		       const char *display, unsigned long w, const char *log)
{
	g_autofree char *grp_re = agent_re("Group");
	json_t *t;
	unsigned long d;

	t = tech_listed(relay, tok, "carol");
	g_assert_true(json_is_null(json_object_get(t, "group")));
	json_decref(t);
	keys(display, w, "alt+g", false);
	d = wait_window(display, grp_re);
	wait_log(log, "technicians: group of carol asked", 1);
	keys(display, d, "Down", false);
	screenshot(display, "agent-technicians-group");
	keys(display, d, "alt+s", false);
	wait_log(log, "technicians: carol is in group Helpdesk", 1);
	wait_log(log, "technicians: shown 2", 9);
	tech_state_is(relay, tok, "group", "Helpdesk");
	screenshot(display, "agent-technicians-grouped");
	keys(display, w, "alt+g", false);
	d = wait_window(display, grp_re);
	wait_log(log, "technicians: group of carol asked", 2);
	keys(display, d, "Up", false);
	keys(display, d, "alt+s", false);
	wait_log(log, "technicians: carol is in no group", 1);
	wait_log(log, "technicians: shown 2", 10);
	t = tech_listed(relay, tok, "carol");
	g_assert_true(json_is_null(json_object_get(t, "group")));
	json_decref(t);
}

/*
 * An admin's Technicians window (issue 11 item 4): Tec_hnicians (Alt+H)
 * lists the org's technicians; Add (Alt+A) makes carol, whose one-time
 * password is shown once in a window of its own (Copy, Close); Display
 * name (Alt+N), Disable (Alt+D), Enable (Alt+E), Unlock (Alt+U), Reset
 * two-factor (Alt+T) and New password (Alt+P) act on the selected one,
 * each checked through the relay.  test_careful checks that a technician
 * who is no admin is not offered the button.
 */
static void test_technicians(void)
{
	struct lh_relay *relay;
	g_autofree char *pw_re = NULL;
	g_autofree char *tok = NULL;
	struct gui g = { 0 };
	unsigned long w, d;

	if (gui_skip())
		return;
	relay = admin_relay("agent-technicians");
	tok = lh_login(relay, "ada", NEW_PW);
	gui_start(&g, relay, true);
	pw_re = agent_re("One-time password");
	w = gui_admin_window(&g, "technicians", "alt+h", "Technicians",
			     "technicians: shown 1");

	/* Add: the one-time password in a window of its own */
	d = gui_add_dialog(&g, w, "Add a technician");
	keys(g.display, d, "carol", true);
	keys(g.display, d, "alt+d", false);
	keys(g.display, d, "Carol C", true);
	screenshot(g.display, "agent-technicians-add");
	keys(g.display, d, "Return", false);
	wait_log(g.log, "technicians: added carol", 1);
	d = wait_window(g.display, pw_re);
	wait_log(g.log, "technicians: one-time password of carol shown", 1);
	screenshot(g.display, "agent-technicians-password");
	keys(g.display, d, "alt+o", false);
	wait_log(g.log, "technicians: one-time password copied", 1);
	keys(g.display, d, "Escape", false);
	wait_log(g.log, "technicians: shown 2", 1);
	tech_state_is(relay, tok, "display_name", "Carol C");
	tech_state_is(relay, tok, "password_change_required", "true");

	tech_actions(relay, tok, g.display, w, g.log);
	group_add(relay, tok, "Helpdesk", "view");
	/* the list reads the groups anew */
	keys(g.display, w, "alt+r", false);
	wait_log(g.log, "technicians: shown 2", 8);
	tech_group(relay, tok, g.display, w, g.log);
	g_assert_cmpint(log_count(g.log, "Nothing was changed"), ==, 0);

	gui_stop(&g);
	lh_relay_stop_verify(relay);
	/* name, disable, enable, group, no group */
	g_assert_cmpuint(audit_count(relay, "technician.set",
				     "technician:ada"),
			 ==, 5);
	lh_relay_free(relay);
}

/* The permissions of group name as GET /api/v1/groups lists them,
 * "view,control" ("" for none); NULL when there is no such group. */
static char *group_perms(struct lh_relay *relay, const char *tok,
			 const char *name)
{
	struct lh_resp *r = lh_get(relay, "/api/v1/groups", tok);
	GString *out = NULL;
	json_t *grp, *p;
	size_t i, k;

	g_assert_cmpint(r->status, ==, 200);
	json_array_foreach(json_object_get(r->json, "groups"), i, grp)
	{
		if (strcmp(json_string_value(json_object_get(grp, "name")),
			   name) != 0)
			continue;
		out = g_string_new("");
		json_array_foreach(json_object_get(grp, "permissions"), k, p)
			g_string_append_printf(out, "%s%s", k ? "," : "",
					       json_string_value(p));
	}
	lh_resp_free(r);
	return out != NULL ? g_string_free(out, FALSE) : NULL;
}

/* PUT /api/v1/technicians/carol/group {"group": group}, 204. */
static void carol_group(struct lh_relay *relay, const char *tok,
			const char *group)
{
	g_autofree char *body = g_strdup_printf("{\"group\": %s%s%s}",
						group ? "\"" : "",
						group ? group : "null",
						group ? "\"" : "");
	struct lh_req q = { .method = "PUT",
			    .path = "/api/v1/technicians/carol/group",
			    .bearer = tok,
			    .body = body };
	struct lh_resp *r = lh_do(relay, &q);

	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
}

/*
 * An admin's Groups window (issue 11 item 3): _Groups (Alt+G) lists the
 * org's groups with a check box per permission; Add (Alt+A) makes
 * "Help desk" (a name with a space), which grants nothing; the
 * selected group's check boxes (Alt+P: the first, view; Tab: control)
 * and Save (Alt+S) give it view and control; Remove (Alt+M) is refused
 * while carol is in it, with the relay's sentence, and works once she
 * is not.  Each step checked through the API.
 */
static void test_groups(void)
{
	struct lh_relay *relay;
	g_autofree char *tok = NULL, *perms = NULL;
	struct gui g = { 0 };
	unsigned long w, d;

	if (gui_skip())
		return;
	relay = admin_relay("agent-groups");
	lh_tech_add(relay, "carol", NEW_PW, false);
	tok = lh_login(relay, "ada", NEW_PW);
	gui_start(&g, relay, true);
	w = gui_admin_window(&g, "groups", "alt+g", "Groups",
			     "groups: shown 0");

	/* add */
	d = gui_add_dialog(&g, w, "Add a group");
	keys(g.display, d, "Help desk", true);
	keys(g.display, d, "Return", false);
	wait_log(g.log, "groups: added Help desk", 1);
	wait_log(g.log, "groups: shown 1", 1);
	perms = group_perms(relay, tok, "Help desk");
	g_assert_cmpstr(perms, ==, "");
	g_clear_pointer(&perms, g_free);

	/* change: view and control */
	keys(g.display, w, "alt+p", false);
	keys(g.display, w, "space", false);
	keys(g.display, w, "Tab", false);
	keys(g.display, w, "space", false);
	keys(g.display, w, "alt+s", false);
	wait_log(g.log, "groups: saved 1 group", 1);
	wait_log(g.log, "groups: shown 1", 2);
	perms = group_perms(relay, tok, "Help desk");
	g_assert_cmpstr(perms, ==, "view,control");
	g_clear_pointer(&perms, g_free);
	screenshot(g.display, "agent-groups");

	/* remove: refused while carol is in it, with the relay's words */
	carol_group(relay, tok, "Help desk");
	keys(g.display, w, "alt+m", false);
	wait_log(g.log,
		 "groups: Nothing was changed: the group still has "
		 "technicians; move them to another group first",
		 1);
	screenshot(g.display, "agent-groups-refused");
	perms = group_perms(relay, tok, "Help desk");
	g_assert_cmpstr(perms, ==, "view,control");
	g_clear_pointer(&perms, g_free);
	carol_group(relay, tok, NULL);
	keys(g.display, w, "alt+m", false);
	wait_log(g.log, "groups: removed Help desk", 1);
	wait_log(g.log, "groups: shown 0", 2);
	g_assert_null(group_perms(relay, tok, "Help desk"));

	gui_stop(&g);
	lh_relay_free(relay);
}

/*
 * A technician in a view-only group (issue 11 item 4): the login answer's
 * permissions reach the session window, whose Request control is greyed
 * out with "Your group does not permit this" (test_careful: not so for a
 * technician in no group).
 */
static void test_view_only(void)
{
	struct lh_relay *relay;
	g_autofree char *session_re = NULL;
	g_autofree char *tok = NULL;
	struct gui g = { 0 };

	if (gui_skip())
		return;
	relay = admin_relay("agent-view-only");
	lh_tech_add(relay, "carol", NEW_PW, false);
	tok = lh_login(relay, "ada", NEW_PW);
	group_add(relay, tok, "Viewers", "view");
	carol_group(relay, tok, "Viewers");

	gui_start(&g, relay, true);
	session_re = agent_session_re();
	gui_login(&g, "carol", NEW_PW);
	wait_log(g.log, "login: logged in", 1);
	g_assert_cmpint(log_count(g.log, "Request control greyed out"), ==, 0);
	keys(g.display, g.main_win, "alt+n", false);
	wait_window(g.display, session_re);
	wait_log(g.log,
		 "Request control greyed out: Your group does not "
		 "permit this",
		 1);
	/* issue 13: what the group does not permit is not offered */
	wait_log(g.log, "Share clipboard greyed out: Your group does not", 1);
	wait_log(g.log, "System info greyed out: Your group does not", 1);
	screenshot(g.display, "agent-view-only");

	gui_stop(&g);
	lh_relay_free(relay);
}

/*
 * An admin's Live window (issue 11 item 5): Li_ve (Alt+V) lists the org's
 * live sessions, kept current by the relay's long-poll: bob's session
 * shows up when its streams pair and shows the capabilities the end
 * user granted, without a click; End session (Alt+E) ends it (the
 * streams close) and the row goes.
 */
static void test_live(void)
{
	struct lh_relay *relay;
	g_autofree char *bob = NULL, *path = NULL, *ended = NULL;
	struct lh_conn *agent = NULL, *applet = NULL;
	struct lh_session s;
	struct gui g = { 0 };
	unsigned long w;
	struct lh_resp *r;

	if (gui_skip())
		return;
	relay = admin_relay("agent-live");
	lh_tech_add(relay, "bob", NEW_PW, false);
	bob = lh_login(relay, "bob", NEW_PW);
	lh_session_new(relay, bob, &s);
	gui_start(&g, relay, true);
	w = gui_admin_window(&g, "live", "alt+v", "Live",
			     "live: 0 sessions live");

	/* no click from here: the long-poll brings each change */
	lh_pair_open(relay, &s, &agent, &applet);
	wait_log(g.log, "live: 1 session live", 1);
	path = g_strdup_printf("/api/v1/sessions/%s/events", s.pin.session_id);
	{
		struct lh_req q = { .method = "POST",
				    .path = path,
				    .bearer = s.applet_ticket,
				    .body = "{\"type\":\"consent\","
					    "\"capabilities\":[\"view\"]}" };

		r = lh_do(relay, &q);
		g_assert_cmpint(r->status, ==, 204);
		lh_resp_free(r);
	}
	wait_log(g.log, "live: 1 session live", 2);
	/* the end user as the relay knows them: the applet's address */
	wait_log(g.log, "end user 127.0.0.1, granted view", 1);
	lh_pair_ping(agent, applet);
	screenshot(g.display, "agent-live");

	keys(g.display, w, "alt+e", false);
	ended = g_strdup_printf("live: ended %s", s.pin.session_id);
	wait_log(g.log, ended, 1);
	wait_log(g.log, "live: 0 sessions live", 2);
	g_assert_cmpint(lh_conn_wait_closed(agent, 10000), ==, 0);
	screenshot(g.display, "agent-live-ended");

	gui_stop(&g);
	lh_relay_stop_verify(relay);
	g_assert_cmpuint(audit_count(relay, "session.delete",
				     "technician:ada"),
			 ==, 1);
	lh_conn_free(agent);
	lh_conn_free(applet);
	lh_session_clear(&s);
	lh_relay_free(relay);
}

int main(int argc, char **argv)
{
	lh_init(&argc, &argv);
	g_test_add_func("/agent/gui/help", test_help);
	g_test_add_func("/agent/gui/careful", test_careful);
	g_test_add_func("/agent/gui/policies", test_policies);
	g_test_add_func("/agent/gui/technicians", test_technicians);
	g_test_add_func("/agent/gui/live", test_live);
	g_test_add_func("/agent/gui/groups", test_groups);
	g_test_add_func("/agent/gui/view-only", test_view_only);
	g_test_add_func("/agent/gui/one-time-password",
			test_one_time_password);
	g_test_add_func("/agent/gui/mfa-enrol", test_mfa_enrol);
	return g_test_run();
}
