/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's GUI on a private Xvfb (-displayfd) against a real relay
 * (harness.h), driven with xdotool as a person would: a technician with a
 * one-time password logs in, "PRODUCT Agent – Choose a new password"
 * comes up, a new password typed twice (after a mistyped repetition,
 * which keeps the dialog up) changes it, and the agent goes on logged in;
 * the relay then takes the new password, and no longer asks for a change.
 * The session list then refreshes itself: a session made and ended
 * through the API shows up and ends in it without a click.
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
#include "lt_wait.h"
#include "lt_x.h"

#define NEW_PW "Gui-Chosen-Pw-8642"

static char *dir;

static void child_setup(gpointer data)
{
	/* an aborted test leaves nothing behind */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static char **child_env(const char *display)
{
	char **env = g_get_environ();

	env = g_environ_unsetenv(env, "DBUS_SESSION_BUS_ADDRESS");
	env = g_environ_setenv(env, "NO_AT_BRIDGE", "1", TRUE);
	env = g_environ_setenv(env, "GDK_BACKEND", "x11", TRUE);
	env = g_environ_setenv(env, "GSETTINGS_BACKEND", "memory", TRUE);
	/* window titles carry an en dash: xdotool matches UTF-8 */
	env = g_environ_setenv(env, "LC_ALL", "C.UTF-8", TRUE);
	return g_environ_setenv(env, "DISPLAY", display ? display : ":99",
				TRUE);
}

static GPid spawn_bg(char **argv, const char *display, const char *log)
{
	g_auto(GStrv) env = child_env(display);
	GError *error = NULL;
	GPid pid = 0;
	int in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int out_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			  0600);

	g_assert_cmpint(in_fd, >=, 0);
	g_assert_cmpint(out_fd, >=, 0);
	if (!g_spawn_async_with_fds(NULL, argv, env,
				    G_SPAWN_DO_NOT_REAP_CHILD |
					    G_SPAWN_SEARCH_PATH,
				    child_setup, NULL, &pid, in_fd, out_fd,
				    out_fd, &error))
		g_error("cannot start %s: %s", argv[0], error->message);
	close(in_fd);
	close(out_fd);
	return pid;
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

static void test_one_time_password(void)
{
	const char *product = g_getenv("LL_PRODUCT");
	struct lh_relay *relay;
	g_autofree char *out = NULL, *err = NULL, *xvfb_log = NULL;
	g_autofree char *otp = NULL, *url = NULL, *profile = NULL;
	g_autofree char *log = NULL, *main_re = NULL, *dlg_re = NULL;
	unsigned long main_win, dlg;
	struct lh_resp *r;
	json_t *body;
	struct lt_xvfb *xvfb;
	const char *display;
	GPid gui;

	if (g_getenv("LL_XVFB") == NULL || g_getenv("LL_XDOTOOL") == NULL) {
		g_test_skip("needs Xvfb and xdotool");
		return;
	}
	relay = lh_relay_new("agent-gui", NULL);
	lh_relay_start(relay);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, &err, "technician",
				     "add", "gina", NULL),
			==, 0);
	otp = g_strstrip(g_strdup(out));
	lh_secret("password", otp);
	lh_secret("password", NEW_PW);

	dir = relay->dir;
	xvfb_log = g_build_filename(dir, "xvfb.log", NULL);
	xvfb = lt_xvfb_start("1024x768x24", xvfb_log);
	display = lt_xvfb_display(xvfb);
	url = g_strdup_printf("https://127.0.0.1:%u", relay->port);
	profile = g_build_filename(relay->dir, "gui-profile", NULL);
	log = g_build_filename(relay->dir, "agent-gui.log", NULL);
	{
		char *argv[] = { (char *)g_getenv("LL_AGENT_BIN"),
				 "--relay",
				 url,
				 "--ca",
				 relay->ca_cert,
				 "--profile",
				 profile,
				 NULL };

		gui = spawn_bg(argv, display, log);
	}
	main_re = g_strdup_printf("^%s Agent$", product);
	dlg_re = g_strdup_printf("^%s Agent – Choose a new password$",
				 product);
	main_win = wait_window(display, main_re);
	keys(display, main_win, "alt+u", false);
	keys(display, main_win, "gina", true);
	keys(display, main_win, "alt+p", false);
	keys(display, main_win, otp, true);
	keys(display, main_win, "alt+l", false);

	/* The focus starts on the new password; the old one is filled in. */
	dlg = wait_window(display, dlg_re);
	wait_log(log, "a one-time password; asking for a new one", 1);
	keys(display, dlg, NEW_PW, true);
	keys(display, dlg, "alt+r", false);
	keys(display, dlg, "Not-The-Same-000", true);
	keys(display, dlg, "Return", false);
	/* mistyped: still asked, nothing changed */
	wait_log(log, "the new passwords differ", 1);
	g_assert_cmpuint(find_window(display, dlg_re), ==, dlg);
	r = lh_post(relay, "/api/v1/login", NULL,
		    body = json_pack("{ssss}", "username", "gina", "password",
				     NEW_PW));
	json_decref(body);
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);

	keys(display, dlg, "alt+r", false);
	keys(display, dlg, "ctrl+a", false);
	keys(display, dlg, NEW_PW, true);
	keys(display, dlg, "Return", false);
	wait_log(log, "the one-time password is changed", 1);
	g_assert_cmpuint(find_window(display, dlg_re), ==, 0);

	g_free(lh_login(relay, "gina", NEW_PW));
	r = lh_post(relay, "/api/v1/login", NULL,
		    body = json_pack("{ssss}", "username", "gina", "password",
				     NEW_PW));
	json_decref(body);
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
		wait_log(log, needle, 1);
		path = g_strdup_printf("/api/v1/sessions/%s", pin.session_id);
		r = lh_delete(relay, path, tok);
		g_assert_cmpint(r->status, ==, 204);
		lh_resp_free(r);
		g_free(needle);
		needle = g_strdup_printf("sessions: %s is ended",
					 pin.session_id);
		wait_log(log, needle, 1);
		lh_pin_clear(&pin);
	}

	stop(gui);
	lt_xvfb_stop(xvfb);
	lh_relay_free(relay);
}

int main(int argc, char **argv)
{
	lh_init(&argc, &argv);
	g_test_add_func("/agent/gui/one-time-password",
			test_one_time_password);
	return g_test_run();
}
