/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Brands on real windows: for the brand of this build (LL_BRAND) and for
 * every other build named in LL_BRAND_EXTRA ("NAME=BUILD_DIR,...", set by
 * scripts/test.sh for the example-corp build beside the default), the
 * applet and the agent of that build run on our own Xvfb against a real
 * relay (tests/integration/harness.h):
 *
 *   the PIN window (the applet without --pin) is "PRODUCT – Enter PIN"
 *   with that brand's product name, its WM_CLASS is lifeline-applet, and
 *   its top band is the brand's header_bg; the PIN typed there starts the
 *   session; the consent dialog shows the same name and band, the
 *   session bar the same name; the agent's main window is "PRODUCT
 *   Agent", with the band, logged in with a session listed; the applet
 *   on a channel (--channel, a credential of `channel add`) shows "PRODUCT
 *   – Waiting for a technician" with the band, asks with a description,
 *   waits in the queue and leaves it with Cancel (exit 0).
 *
 * Each window is captured into LL_ARTIFACTS_DIR (artifacts/brands/) as
 * NAME-pin-window.png, NAME-consent-dialog.png, NAME-session-bar.png,
 * NAME-agent-main-window.png and NAME-waiting-window.png: what end users
 * and technicians see.  The
 * technician's side of the session is played by this test with the client
 * library's session pump, as in test_applet_gui.c.
 */
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "applet_fixture.h"
#include "harness.h"
#include "lt_x.h"
#include "ll_brand.h"
#include "ll_control.h"
#include "ll_session_io.h"
#include "ll_stream.h"

#define TECH "alice"
#define TECH_PASSWORD "Alice-Passw0rd-long"

struct brand {
	char *name;
	char *applet;
	char *agent;
	struct ll_brand *b;
};

static struct lh_relay *relay;
static char *token;
static struct lt_xvfb *xvfb;
static const char *display; /* ":N" */

/* ---- X helpers ---- */

static char **tool_env(void)
{
	return lt_x_env(display);
}

/* Runs a program on our display while the main context runs; its exit
 * status, its stdout (trimmed) in *out (may be NULL). */
static int run(char **out, const char *const *argv)
{
	char *o = NULL;
	int status = lt_x_run(display, argv, 90000, NULL, NULL, &o);

	if (out != NULL)
		*out = o != NULL ? g_strstrip(o) : NULL;
	else
		g_free(o);
	return status;
}

/* The id of the mapped window titled exactly title, waiting for it. */
static char *wait_window(const char *title)
{
	char *re = lt_x_title_re(title), *id = NULL;

	if (!lt_x_wait_window(display, re, false, 30000, NULL, NULL, &id))
		g_error("no window \"%s\" within 30 s", title);
	g_free(re);
	return id;
}

static void key(const char *keys)
{
	g_assert_cmpint(run(NULL, (const char *const[]){ "xdotool", "key",
							 "--clearmodifiers",
							 keys, NULL }),
			==, 0);
}

static void type(const char *text)
{
	g_assert_cmpint(run(NULL, (const char *const[]){ "xdotool", "type",
							 "--delay", "20", text,
							 NULL }),
			==, 0);
}

static void check_wm_class(const char *win, const char *class)
{
	char *out = NULL, *want;

	g_assert_cmpint(run(&out, (const char *const[]){ "xprop", "-id", win,
							 "WM_CLASS", NULL }),
			==, 0);
	want = g_strdup_printf("\"%s\", \"%s\"", class, class);
	g_assert_nonnull(strstr(out, want));
	g_free(want);
	g_free(out);
}

/*
 * Captures window win, once it has stopped drawing, as NAME-what.png;
 * with band, checks that its top band has the brand's header colour: the
 * brand's look is really on the window.
 */
static void shot(const struct brand *br, const char *win, const char *what,
		 bool band)
{
	const char *dir = g_getenv("LL_ARTIFACTS_DIR");
	char *path, *file, *want;
	GdkPixbuf *p;
	GError *e = NULL;
	const guint8 *px;
	char got[8];

	if (run(NULL,
		(const char *const[]){ g_getenv("LL_E2E_TARGET"), "--drawn",
				       win, "--timeout", "5000", NULL }) != 0)
		g_test_message("window %s still drawing after 5 s", win);
	if (dir == NULL || dir[0] == '\0')
		dir = lh_tmpdir();
	g_mkdir_with_parents(dir, 0755);
	file = g_strdup_printf("%s-%s.png", br->name, what);
	path = g_build_filename(dir, file, NULL);
	g_assert_cmpint(run(NULL, (const char *const[]){ "import", "-window",
							 win, path, NULL }),
			==, 0);
	g_test_message("screenshot: %s", path);
	p = gdk_pixbuf_new_from_file(path, &e);
	g_assert_no_error(e);
	if (!band)
		goto out;
	/* Inside the band, left of the logo: the padding. */
	px = gdk_pixbuf_read_pixels(p) + 4 * gdk_pixbuf_get_rowstride(p) +
	     4 * gdk_pixbuf_get_n_channels(p);
	snprintf(got, sizeof(got), "#%02x%02x%02x", px[0], px[1], px[2]);
	want = br->b->colors[LL_BRAND_HEADER_BG];
	g_assert_cmpstr(got, ==, want);
out:
	g_object_unref(p);
	g_free(path);
	g_free(file);
}

/* ---- the technician's side (the client library's session pump) ---- */

struct tech {
	struct ll_session_io *io;
	bool ready, closed;
	int n_grant;
};

static void t_ready(struct ll_session_io *io, void *user)
{
	((struct tech *)user)->ready = true;
}

static void t_control(struct ll_session_io *io, const struct ll_control_msg *m,
		      void *user)
{
	if (m->type == LL_CONTROL_GRANT)
		((struct tech *)user)->n_grant++;
}

static void t_closed(struct ll_session_io *io, enum ll_session_end why,
		     int err, const char *reason, void *user)
{
	((struct tech *)user)->closed = true;
}

static void tech_connect(struct tech *t, const char *ticket)
{
	struct ll_session_io_cbs cbs = {
		.on_ready = t_ready,
		.on_control = t_control,
		.on_closed = t_closed,
	};

	memset(t, 0, sizeof(*t));
	t->io = tech_session_open(relay, ticket, &cbs, t);
}

static void tech_request(struct tech *t, uint32_t caps)
{
	tech_hello_request(t->io, NULL, caps);
}

/* ---- the programs ---- */

/* Starts argv on our display, stderr into LL_TEST_TMPDIR/tag.log. */
static void proc_start(struct applet *pr, const char *tag,
		       const char *const *argv)
{
	char **env = tool_env();
	char *log = g_strdup_printf("%s/%s.log", lh_tmpdir(), tag);

	applet_spawn(pr, env, log, argv);
	g_strfreev(env);
	g_free(log);
}

static void proc_finish(struct applet *pr)
{
	if (!pr->exited) {
		g_subprocess_send_signal(pr->proc, SIGTERM);
		WAIT_FOR(pr->exited, 10000);
		if (!pr->exited)
			g_subprocess_force_exit(pr->proc);
		WAIT_FOR(pr->exited, 5000);
	}
	g_object_unref(pr->proc);
	g_free(pr->log);
}

/* Until the program's log holds needle (it writes it from its own
 * thread: looked at every 20 ms). */
static bool proc_wait_log(struct applet *pr, const char *needle, int ms)
{
	int64_t end = lh_now_ms() + ms;
	char *text = NULL;
	bool found = false;

	while (!found && !pr->exited && lh_now_ms() < end) {
		g_free(text);
		text = NULL;
		g_file_get_contents(pr->log, &text, NULL, NULL);
		found = text != NULL && strstr(text, needle) != NULL;
		if (!found)
			lt_iterate(20);
	}
	g_free(text);
	return found;
}

/* ---- the windows of one brand ---- */

static char *title(const struct brand *br, const char *what)
{
	return g_strdup_printf("%s \u2013 %s", br->b->product, what);
}

/* PIN window, consent dialog and session bar, in one session. */
static void applet_windows(const struct brand *br)
{
	char *url = g_strdup_printf("https://127.0.0.1:%u", relay->port);
	char *t, *win, *tag = g_strdup_printf("brand-%s-applet", br->name);
	struct lh_pin pin = { 0 };
	struct applet ap;
	struct tech tech;

	lh_pin_new(relay, token, NULL, &pin);
	proc_start(&ap, tag,
		   (const char *const[]){ br->applet, "--relay", url, "--ca",
					  relay->ca_cert, NULL });

	/* The PIN window: this brand's name in the title. */
	t = title(br, "Enter PIN");
	win = wait_window(t);
	check_wm_class(win, "lifeline-applet");
	shot(br, win, "pin-window", true);
	g_free(win);
	type(pin.pin);
	key("Return");
	tech_connect(&tech, pin.agent_ticket);
	WAIT_FOR(tech.ready || tech.closed || ap.exited, 20000);
	g_assert_true(tech.ready);
	g_free(t);

	/* The consent dialog, once it takes answers (and so is drawn with
	 * its answers enabled). */
	tech_request(&tech, LL_CAP_VIEW | LL_CAP_CONTROL);
	t = title(br, "Permission request");
	win = wait_window(t);
	g_assert_true(proc_wait_log(&ap, "accepts answers now", 10000));
	shot(br, win, "consent-dialog", true);
	key("alt+a");
	WAIT_FOR(tech.n_grant > 0 || tech.closed, 10000);
	g_assert_cmpint(tech.n_grant, ==, 1);
	g_free(win);
	g_free(t);

	/* The session bar, with what was just allowed: its band is the
	 * calm one, on the window's own background. */
	t = title(br, "Session");
	win = wait_window(t);
	shot(br, win, "session-bar", false);
	g_free(win);
	g_free(t);

	g_assert_cmpint(ll_session_io_end(tech.io, "done"), ==, 0);
	/* "Session ended", in the brand's look; Close ends the applet */
	t = title(br, "Session ended");
	win = wait_window(t);
	shot(br, win, "session-ended", true);
	g_assert_cmpint(run(NULL,
			    (const char *const[]){ "xdotool", "windowfocus",
						   "--sync", win, NULL }),
			==, 0);
	key("alt+c");
	g_free(win);
	g_free(t);
	WAIT_FOR(ap.exited, 10000);
	g_assert_true(ap.exited);
	g_assert_cmpint(ap.status, ==, 0);
	ll_session_io_free(tech.io);
	proc_finish(&ap);
	lh_pin_clear(&pin);
	g_free(tag);
	g_free(url);
}

/* The waiting window of a channel (the calling card), waiting in the
 * queue; Cancel leaves it. */
static void waiting_window(const struct brand *br)
{
	char *url = g_strdup_printf("https://127.0.0.1:%u", relay->port);
	char *name = g_strdup_printf("desk-%s", br->name);
	char *tag = g_strdup_printf("brand-%s-waiting", br->name);
	char *cred = NULL, *t, *win;
	struct applet ap;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &cred, NULL, "channel",
				     "add", name, NULL),
			==, 0);
	g_strstrip(cred);
	lh_secret("channel credential", cred);
	proc_start(&ap, tag,
		   (const char *const[]){ br->applet, "--relay", url, "--ca",
					  relay->ca_cert, "--channel", cred,
					  NULL });
	t = title(br, "Waiting for a technician");
	win = wait_window(t);
	check_wm_class(win, "lifeline-applet");
	/* the description field has the focus; Enter asks */
	key("ctrl+a");
	type("My printer says paper jam");
	key("Return");
	g_assert_true(
		proc_wait_log(&ap, "channel: waiting in the queue", 20000));
	shot(br, win, "waiting-window", true);
	key("alt+c");
	WAIT_FOR(ap.exited, 10000);
	g_assert_true(ap.exited);
	g_assert_cmpint(ap.status, ==, 0);
	proc_finish(&ap);
	g_free(win);
	g_free(t);
	g_free(cred);
	g_free(tag);
	g_free(name);
	g_free(url);
}

/* How many times the audit records a session list. */
static int n_listed(void)
{
	char *out = NULL, *p;
	int n = 0;

	lh_relay_cmd(relay, NULL, &out, NULL, "audit", "export", NULL);
	for (p = out; p != NULL && (p = strstr(p, "\"session.list\"")) != NULL;
	     p++)
		n++;
	g_free(out);
	return n;
}

/* A session list was fetched after the first `before`: the agent is past
 * its login and shows its sessions. */
static bool listed(int before, int ms)
{
	int64_t end = lh_now_ms() + ms;
	bool found = false;

	while (!found && lh_now_ms() < end) {
		found = n_listed() > before;
		/* nothing tells when the request is in: look again (each
		 * look runs the relay's CLI) */
		if (!found)
			lt_iterate(200);
	}
	return found;
}

/* The agent's main window, logged in, with a session waiting. */
static void agent_window(const struct brand *br)
{
	char *url = g_strdup_printf("https://127.0.0.1:%u", relay->port);
	char *profile = g_strdup_printf("%s/brand-%s-profile", lh_tmpdir(),
					br->name);
	char *tag = g_strdup_printf("brand-%s-agent", br->name);
	char *t = g_strdup_printf("%s Agent", br->b->product), *win;
	struct lh_pin pin = { 0 };
	struct applet ag;
	int before;

	g_mkdir_with_parents(profile, 0700);
	lh_pin_new(relay, token, NULL, &pin);
	/* Earlier brands' lists are in the audit too. */
	before = n_listed();
	proc_start(&ag, tag,
		   (const char *const[]){ br->agent, "--relay", url, "--ca",
					  relay->ca_cert, "--profile", profile,
					  NULL });
	win = wait_window(t);
	check_wm_class(win, "lifeline-agent");
	key("alt+u");
	type(TECH);
	key("alt+p");
	type(TECH_PASSWORD);
	key("Return");
	g_assert_true(listed(before, 20000));
	shot(br, win, "agent-main-window", true);
	proc_finish(&ag);
	lh_pin_clear(&pin);
	g_free(win);
	g_free(t);
	g_free(tag);
	g_free(profile);
	g_free(url);
}

static void test_brand(gconstpointer data)
{
	const struct brand *br = data;

	g_test_message("brand %s: \"%s\" of %s", br->name, br->b->product,
		       br->b->org);
	applet_windows(br);
	waiting_window(br);
	agent_window(br);
}

/* A brand built in build_dir (NULL: this build, the programs of
 * LL_APPLET_BIN and LL_AGENT_BIN). */
static struct brand *brand_new(const char *name, const char *build_dir)
{
	struct brand *br = g_new0(struct brand, 1);
	char *dir = g_build_filename(g_getenv("LL_SOURCE_ROOT"), "branding",
				     name, NULL);

	br->name = g_strdup(name);
	if (build_dir == NULL) {
		br->applet = g_strdup(g_getenv("LL_APPLET_BIN"));
		br->agent = g_strdup(g_getenv("LL_AGENT_BIN"));
	} else {
		br->applet = g_build_filename(build_dir, "applet",
					      "lifeline-applet", NULL);
		br->agent = g_build_filename(build_dir, "agent",
					     "lifeline-agent", NULL);
	}
	if (ll_brand_check_dir(dir, LL_BRAND_CHECK_SOURCE, &br->b, NULL) != 0)
		g_error("branding/%s does not pass the validator", name);
	if (!g_file_test(br->applet, G_FILE_TEST_IS_EXECUTABLE) ||
	    !g_file_test(br->agent, G_FILE_TEST_IS_EXECUTABLE))
		g_error("brand %s: no applet or agent built in %s", name,
			build_dir != NULL ? build_dir : "this build");
	g_free(dir);
	return br;
}

static void brand_free(gpointer data)
{
	struct brand *br = data;

	ll_brand_free(br->b);
	g_free(br->name);
	g_free(br->applet);
	g_free(br->agent);
	g_free(br);
}

int main(int argc, char **argv)
{
	GPtrArray *brands = g_ptr_array_new_with_free_func(brand_free);
	const char *extra = g_getenv("LL_BRAND_EXTRA");
	char **pairs, *path;
	guint i;
	int rc;

	lh_init(&argc, &argv);
	if (g_getenv("LL_APPLET_BIN") == NULL ||
	    g_getenv("LL_BRAND") == NULL) {
		g_test_skip("LL_APPLET_BIN or LL_BRAND not set");
		return 0;
	}
	g_ptr_array_add(brands, brand_new(g_getenv("LL_BRAND"), NULL));
	pairs = g_strsplit(extra != NULL ? extra : "", ",", -1);
	for (i = 0; pairs[i] != NULL; i++) {
		char **kv = g_strsplit(pairs[i], "=", 2);

		if (kv[0] != NULL && kv[0][0] != '\0') {
			if (kv[1] == NULL)
				g_error("LL_BRAND_EXTRA: '%s' is not "
					"NAME=BUILD_DIR",
					pairs[i]);
			g_ptr_array_add(brands, brand_new(kv[0], kv[1]));
		}
		g_strfreev(kv);
	}
	g_strfreev(pairs);

	xvfb = lt_xvfb_start("1024x768x24", NULL);
	display = lt_xvfb_display(xvfb);
	relay = lh_relay_new("brand_gui", NULL);
	lh_relay_start(relay);
	lh_tech_add(relay, TECH, TECH_PASSWORD, false);
	token = lh_login(relay, TECH, TECH_PASSWORD);
	for (i = 0; i < brands->len; i++) {
		struct brand *br = g_ptr_array_index(brands, i);

		path = g_strdup_printf("/brand-gui/%s", br->name);
		g_test_add_data_func(path, br, test_brand);
		g_free(path);
	}
	rc = g_test_run();

	g_assert_cmpint(lh_relay_stop(relay, 5000), ==, 0);
	lh_relay_free(relay);
	g_free(token);
	lt_xvfb_stop(xvfb);
	g_ptr_array_unref(brands);
	return rc;
}
