/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What cannot disappear, and one applet at a time (issue 9 items 6, 7),
 * on real windows: our own Xvfb with a window manager (openbox: without
 * one nothing minimises and nobody keeps _NET_WM_STATE), our own session
 * bus (dbus-daemon: GApplication's uniqueness lives there), a real relay
 * on 127.0.0.1 (tests/integration/harness.h), the real lifeline-applet,
 * and the technician's side played over the relay with the client
 * library's session pump.  Screenshots go to LL_ARTIFACTS_DIR
 * (artifacts/bar/).
 *
 *  session  a second start during the permission request answers
 *           nothing; once view is granted the bar is above and in the
 *           taskbar, a frame in the brand's accent colour hugs the shared
 *           monitor, minimising the bar brings it back, a second start and a
 *           lifeline: link raise the running applet and open no PIN
 *           window; the frame stays through Stop control and is gone with
 *           End session.
 *  monitor  one monitor shared (--monitor): the frame hugs it alone, and
 *           is gone when the technician ends.
 *  pin      a second start while the PIN window is open exits 0 and the
 *           PIN window stays the only one.
 *  tray     with a tray on the session bus (this test plays its
 *           StatusNotifierWatcher): the session's icon registers, titled
 *           as the bar, and its menu's Stop control and End session work
 *           as the bar's buttons (com.canonical.dbusmenu Event).
 */
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/Xrandr.h>

#include "applet_fixture.h"
#include "harness.h"
#include "lt_wait.h"
#include "lt_x.h"
#include "ll_api_client.h"
#include "ll_control.h"
#include "ll_session_io.h"
#include "ll_stream.h"

static struct lh_relay *relay;
static char *token;
static struct lt_xvfb *xvfb;
static const char *display; /* ":N" */
static Display *dpy;        /* ours, for properties and pixels */
static char *bus_address;   /* the test's session bus */
static GPid wm_pid, bus_pid;

/* The tests' X environment, with our session bus. */
static char **env_with_bus(void)
{
	return g_environ_setenv(lt_x_env(display), "DBUS_SESSION_BUS_ADDRESS",
				bus_address, TRUE);
}

/* Runs a tool on our display: its exit status, stdout in *out. */
static int tool(const char *const *argv, char **out)
{
	int status = -1;

	status = lt_x_run(display, argv, 30000, NULL, NULL, out);
	if (out != NULL && *out != NULL)
		g_strstrip(*out);
	return status;
}

/* The number of windows whose title matches re: shown ones, or all
 * (also those never mapped, such as the fallback tray icon's plug that
 * is titled like the bar). */
static int count_windows(const char *re, bool shown)
{
	char *out = NULL, **lines;
	int n = 0, i;

	/* xdotool search exits 1 when nothing matches */
	tool(shown ? (const char *const[]){ "xdotool", "search",
					    "--onlyvisible", "--name", re,
					    NULL }
		   : (const char *const[]){ "xdotool", "search", "--name", re,
					    NULL },
	     &out);
	lines = g_strsplit(out != NULL ? out : "", "\n", -1);
	for (i = 0; lines[i] != NULL; i++)
		if (lines[i][0] != '\0')
			n++;
	g_strfreev(lines);
	g_free(out);
	return n;
}

static void screenshot(const char *name, const char *win)
{
	const char *dir = g_getenv("LL_ARTIFACTS_DIR");
	char *path;

	if (dir == NULL || dir[0] == '\0')
		return;
	if (win != NULL &&
	    lt_x_target(display,
			(const char *const[]){ "--drawn", win, "--timeout",
					       "5000", NULL },
			60000, NULL, NULL, NULL) != 0)
		g_test_message("window %s still drawing after 5 s", win);
	g_mkdir_with_parents(dir, 0755);
	path = g_strdup_printf("%s/%s.png", dir, name);
	if (tool((const char *const[]){ "import", "-window", "root", path,
					NULL },
		 NULL) != 0)
		g_test_message("screenshot %s failed", path);
	else
		g_test_message("screenshot: %s", path);
	g_free(path);
}

static void key(const char *keys)
{
	g_assert_cmpint(tool((const char *const[]){ "xdotool", "key",
						    "--clearmodifiers", keys,
						    NULL },
			     NULL),
			==, 0);
}

static void focus_window(const char *win)
{
	tool((const char *const[]){ "xdotool", "windowfocus", "--sync", win,
				    NULL },
	     NULL);
}

/* ---- X properties and pixels ---- */

/* Whether window win's _NET_WM_STATE holds the atom named state. */
static bool wm_state_has(Window win, const char *state)
{
	Atom prop = XInternAtom(dpy, "_NET_WM_STATE", False);
	Atom want = XInternAtom(dpy, state, False);
	Atom type;
	int format;
	unsigned long n, after, i;
	unsigned char *data = NULL;
	bool found = false;

	if (XGetWindowProperty(dpy, win, prop, 0, 64, False, XA_ATOM, &type,
			       &format, &n, &after, &data) != Success)
		return false;
	for (i = 0; data != NULL && format == 32 && i < n; i++)
		if (((Atom *)data)[i] == want)
			found = true;
	if (data != NULL)
		XFree(data);
	return found;
}

/* The client window an id from xdotool names (decimal). */
static Window xid(const char *id)
{
	return (Window)g_ascii_strtoull(id, NULL, 10);
}

static bool wm_running(void *data)
{
	Atom check = XInternAtom(dpy, "_NET_SUPPORTING_WM_CHECK", False);
	Atom type;
	int format;
	unsigned long n, after;
	unsigned char *prop = NULL;
	bool yes;

	if (XGetWindowProperty(dpy, DefaultRootWindow(dpy), check, 0, 1, False,
			       XA_WINDOW, &type, &format, &n, &after,
			       &prop) != Success)
		return false;
	yes = prop != NULL && n == 1;
	if (prop != NULL)
		XFree(prop);
	return yes;
}

struct state_want {
	Window win;
	const char *state;
	bool present;
};

static bool state_is(void *data)
{
	const struct state_want *w = data;

	return wm_state_has(w->win, w->state) == w->present;
}

/* _NET_WM_STATE is the window manager's to change: no event tells us
 * when it did, so this looks (lt_wait_until) up to a deadline. */
static bool wait_state(Window win, const char *state, bool present)
{
	struct state_want w = { win, state, present };

	return lt_wait_until(state_is, &w, 10000, 20000);
}

/* The colour of the root window's pixel at x, y as "#rrggbb". */
static char *pixel(int x, int y)
{
	XImage *im = XGetImage(dpy, DefaultRootWindow(dpy), x, y, 1, 1,
			       AllPlanes, ZPixmap);
	unsigned long p;
	char *s;

	g_assert_nonnull(im);
	p = XGetPixel(im, 0, 0);
	s = g_strdup_printf("#%02lx%02lx%02lx", (p >> 16) & 0xff,
			    (p >> 8) & 0xff, p & 0xff);
	XDestroyImage(im);
	return s;
}

static void assert_pixel(int x, int y, const char *color, bool is)
{
	char *p = pixel(x, y);

	g_test_message("pixel %d,%d is %s (frame %s)", x, y, p, color);
	if (is)
		g_assert_cmpstr(p, ==, color);
	else
		g_assert_cmpstr(p, !=, color);
	g_free(p);
}

/* ---- the technician's side ---- */

struct agent {
	struct ll_session_io *io;
	bool ready, closed;
	int n_grant, n_deny, n_revoke, n_monitors, n_open;
	int viewer_fd;
};

static void ag_ready(struct ll_session_io *io, void *user)
{
	((struct agent *)user)->ready = true;
}

static void ag_control(struct ll_session_io *io,
		       const struct ll_control_msg *m, void *user)
{
	struct agent *ag = user;

	if (m->type == LL_CONTROL_GRANT)
		ag->n_grant++;
	else if (m->type == LL_CONTROL_DENY)
		ag->n_deny++;
	else if (m->type == LL_CONTROL_REVOKE)
		ag->n_revoke++;
	else if (m->type == LL_CONTROL_MONITORS)
		ag->n_monitors++;
}

static void ag_open(struct ll_session_io *io, uint16_t ch, void *user)
{
	struct agent *ag = user;
	int sv[2];

	ag->n_open++;
	if (ch != LL_MUX_CHANNEL_RFB)
		return;
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			==, 0);
	g_assert_cmpint(ll_session_io_bridge(io, ch, sv[0]), ==, 0);
	ag->viewer_fd = sv[1];
}

static void ag_data(struct ll_session_io *io, uint16_t ch, const uint8_t *data,
		    size_t len, void *user)
{
}

static void ag_closed(struct ll_session_io *io, enum ll_session_end why,
		      int err, const char *reason, void *user)
{
	((struct agent *)user)->closed = true;
}

static void agent_connect(struct agent *ag, const char *ticket)
{
	struct ll_session_io_cbs cbs = {
		.on_ready = ag_ready,
		.on_control = ag_control,
		.on_channel_open = ag_open,
		.on_channel_data = ag_data,
		.on_closed = ag_closed,
	};

	memset(ag, 0, sizeof(*ag));
	ag->viewer_fd = -1;
	ag->io = tech_session_open(relay, ticket, &cbs, ag);
}

static void agent_request(struct agent *ag, uint32_t caps)
{
	tech_hello_request(ag->io, "tech", caps);
}

static void agent_free(struct agent *ag)
{
	if (ag->viewer_fd >= 0)
		close(ag->viewer_fd);
	ll_session_io_free(ag->io);
}

/* ---- the applet ---- */

/* lifeline-applet --relay URL --ca FILE [arg [arg2]], on our display
 * and bus. */
static void applet_start2(struct applet *ap, const char *tag, const char *arg,
			  const char *arg2)
{
	char **env = env_with_bus();
	char *log = g_strdup_printf("%s/applet-bar-%s.log", lh_tmpdir(), tag);

	applet_spawn_for(ap, relay, env, log,
			 (const char *const[]){ arg, arg2, NULL });
	g_strfreev(env);
	g_free(log);
}

static void applet_start(struct applet *ap, const char *tag, const char *arg)
{
	applet_start2(ap, tag, arg, NULL);
}

static void applet_finish(struct applet *ap)
{
	char *log;

	if (!ap->exited) {
		g_subprocess_force_exit(ap->proc);
		applet_wait(ap, 5000);
	}
	log = applet_log(ap);
	g_test_message("applet log (%s):\n%s", ap->log, log);
	g_free(log);
	applet_reap(ap);
}

/* The applet's log holds needle count times (inotify, lt_wait_file). */
static bool wait_log(struct applet *ap, const char *needle, int count)
{
	return lt_wait_file(ap->log, 0, needle, count, 15000);
}

static char *wait_window(const char *re, struct applet *ap)
{
	char *id = NULL;

	if (!lt_x_wait_window(display, re, false, 20000, applet_gone, ap, &id))
		return NULL;
	return id;
}

static bool wait_window_gone(const char *re)
{
	return lt_x_wait_window(display, re, true, 10000, NULL, NULL, NULL);
}

/* A second lifeline-applet with arg: it hands over and exits 0. */
static void second_start(struct applet *first, const char *arg, int nth)
{
	struct applet second;
	char *log;

	applet_start(&second, "second", arg);
	g_assert_true(applet_wait(&second, 20000));
	log = applet_log(&second);
	g_test_message("second start's log:\n%s", log);
	g_free(log);
	g_assert_cmpint(second.status, ==, 0);
	g_assert_true(wait_log(first, "another start of the applet", nth));
	applet_finish(&second);
}

/* The frame's colour, as the applet logged it ("... strips, #rrggbb)"). */
static char *frame_color(struct applet *ap)
{
	char *log = applet_log(ap);
	const char *p = strstr(log, "screen frame: shown");
	char *c;

	g_assert_nonnull(p);
	p = strchr(p, '#');
	g_assert_nonnull(p);
	c = g_strndup(p, 7);
	g_free(log);
	return c;
}

/* ---- tests ---- */

static void test_session(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *win, *bar, *color, *link, *arg;
	Window w;

	lh_pin_new(relay, token, NULL, &pin);
	arg = g_strdup_printf("--pin=%s", pin.pin);
	applet_start(&ap, "session", arg);
	g_free(arg);
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	agent_request(&ag, LL_CAP_VIEW | LL_CAP_CONTROL);
	win = wait_window("Permission request", &ap);
	g_assert_nonnull(win);
	g_assert_true(wait_log(&ap, "accepts answers now", 1));

	/* A second start now raises what is there and answers nothing. */
	second_start(&ap, NULL, 1);
	g_assert_cmpint(ag.n_grant + ag.n_deny, ==, 0);
	g_assert_cmpint(count_windows("Permission request", true), ==, 1);
	g_assert_cmpint(count_windows("Enter PIN", true), ==, 0);

	focus_window(win);
	key("alt+a");
	WAIT_FOR((ag.n_grant > 0 && ag.n_monitors > 0) || ag.closed, 15000);
	g_assert_cmpint(ag.n_grant, ==, 1);
	g_assert_true(wait_window_gone("Permission request"));
	bar = wait_window("Session$", &ap);
	g_assert_nonnull(bar);
	w = xid(bar);

	/* Above other windows and in the taskbar, as the WM keeps it. */
	g_assert_true(wait_state(w, "_NET_WM_STATE_ABOVE", true));
	g_assert_false(wm_state_has(w, "_NET_WM_STATE_SKIP_TASKBAR"));

	/* The frame: the accent colour on every edge of the screen (the
	 * whole desktop is shared), not inside. */
	g_assert_true(wait_log(&ap, "screen frame: shown around every", 1));
	color = frame_color(&ap);
	g_assert_cmpint(count_windows("Screen shared$", false), >=, 4);
	screenshot("bar-frame-all", bar);
	assert_pixel(1, 700, color, true);
	assert_pixel(1022, 700, color, true);
	assert_pixel(512, 1, color, true);
	assert_pixel(512, 766, color, true);
	assert_pixel(512, 700, color, false);

	/* Minimised: back it comes, above again. */
	g_assert_cmpint(tool((const char *const[]){ "xdotool",
						    "windowminimize", bar,
						    NULL },
			     NULL),
			==, 0);
	g_assert_true(wait_log(&ap, "session bar: minimised while", 1));
	g_assert_true(wait_state(w, "_NET_WM_STATE_HIDDEN", false));
	g_assert_true(wm_state_has(w, "_NET_WM_STATE_ABOVE"));
	screenshot("bar-after-minimise", bar);

	/* A second start, and a lifeline: link, during the session: raised,
	 * told, not applied; no PIN window, still one bar. */
	second_start(&ap, NULL, 2);
	link = g_strdup_printf("lifeline:pin?code=%s", pin.pin);
	second_start(&ap, link, 3);
	g_free(link);
	g_assert_true(wait_log(&ap, "is already running a session", 2));
	g_assert_cmpint(count_windows("Enter PIN", true), ==, 0);
	g_assert_cmpint(count_windows("Session$", true), ==, 1);
	g_assert_false(ap.exited);
	screenshot("bar-second-start", bar);

	/* Stop control keeps view, and the frame; End session ends both. */
	focus_window(bar);
	key("alt+s");
	WAIT_FOR(ag.n_revoke > 0 || ag.closed, 10000);
	g_assert_cmpint(ag.n_revoke, ==, 1);
	g_assert_cmpint(count_windows("Screen shared$", false), >=, 4);
	focus_window(bar);
	key("alt+e");
	g_assert_true(wait_window_gone("Screen shared$"));
	g_assert_cmpint(count_windows("Screen shared$", false), ==, 0);
	g_free(win);
	win = wait_window("Session ended$", &ap);
	g_assert_nonnull(win);
	screenshot("bar-ended-no-frame", win);
	assert_pixel(1, 700, color, false);
	focus_window(win);
	key("alt+c");
	g_assert_true(applet_wait(&ap, 10000));
	g_assert_cmpint(ap.status, ==, 0);

	g_free(color);
	g_free(win);
	g_free(bar);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
}

/* One monitor shared (--monitor): the frame hugs it and nothing else;
 * gone when the technician ends. */
static void test_monitor(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *win, *color, *arg;

	lh_pin_new(relay, token, NULL, &pin);
	arg = g_strdup_printf("--pin=%s", pin.pin);
	applet_start2(&ap, "monitor", arg, "--monitor=LL-MON2");
	g_free(arg);
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	agent_request(&ag, LL_CAP_VIEW);
	win = wait_window("Permission request", &ap);
	g_assert_nonnull(win);
	g_assert_true(wait_log(&ap, "accepts answers now", 1));
	g_assert_cmpint(count_windows("Screen shared$", false), ==, 0);
	focus_window(win);
	key("alt+a");
	g_assert_true(
		wait_log(&ap, "screen frame: shown around the shared", 1));
	color = frame_color(&ap);
	g_free(win);
	win = wait_window("Session$", &ap);
	g_assert_nonnull(win);
	screenshot("bar-frame-monitor", win);
	assert_pixel(601, 380, color, true);
	assert_pixel(800, 398, color, true);
	assert_pixel(998, 380, color, true);
	assert_pixel(1, 700, color, false);
	assert_pixel(800, 380, color, false);

	g_assert_cmpint(ll_session_io_end(ag.io, "done"), ==, 0);
	g_assert_true(wait_window_gone("Screen shared$"));
	g_free(win);
	win = wait_window("Session ended$", &ap);
	g_assert_nonnull(win);
	assert_pixel(800, 398, color, false);
	focus_window(win);
	key("alt+c");
	g_assert_true(applet_wait(&ap, 10000));
	g_assert_cmpint(ap.status, ==, 0);
	g_free(color);
	g_free(win);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
}

static void test_pin_window(void)
{
	struct applet ap;
	char *win;

	applet_start(&ap, "pin", NULL);
	win = wait_window("Enter PIN", &ap);
	g_assert_nonnull(win);
	second_start(&ap, "--pin=123456", 1);
	g_assert_true(wait_log(&ap, "is already open", 1));
	g_assert_cmpint(count_windows("Enter PIN", true), ==, 1);
	screenshot("pin-second-start", win);
	g_free(win);
	applet_finish(&ap);
}

/* ---- the desktop's tray, played by the test ---- */

/* A StatusNotifierWatcher (the tray's side of the protocol) that takes
 * whatever registers. */
static const char watcher_xml[] =
	"<node><interface name='org.kde.StatusNotifierWatcher'>"
	"<method name='RegisterStatusNotifierItem'>"
	"<arg type='s' direction='in'/></method>"
	"<method name='RegisterStatusNotifierHost'>"
	"<arg type='s' direction='in'/></method>"
	"<property name='RegisteredStatusNotifierItems' type='as' "
	"access='read'/>"
	"<property name='IsStatusNotifierHostRegistered' type='b' "
	"access='read'/>"
	"<property name='ProtocolVersion' type='i' access='read'/>"
	"</interface></node>";

struct watcher {
	char *sender; /* the item's bus name, once registered */
	char *path;   /* its object path */
};

static void watcher_call(GDBusConnection *c, const char *sender,
			 const char *path, const char *iface,
			 const char *method, GVariant *args,
			 GDBusMethodInvocation *inv, gpointer data)
{
	struct watcher *w = data;
	const char *what = NULL;

	if (strcmp(method, "RegisterStatusNotifierItem") == 0) {
		g_variant_get(args, "(&s)", &what);
		g_test_message("tray: %s registers %s", sender, what);
		g_free(w->sender);
		g_free(w->path);
		w->sender = g_strdup(sender);
		w->path = g_strdup(what[0] == '/' ? what
						  : "/StatusNotifierItem");
	}
	g_dbus_method_invocation_return_value(inv, NULL);
}

static GVariant *watcher_prop(GDBusConnection *c, const char *sender,
			      const char *path, const char *iface,
			      const char *prop, GError **error, gpointer data)
{
	if (strcmp(prop, "IsStatusNotifierHostRegistered") == 0)
		return g_variant_new_boolean(TRUE);
	if (strcmp(prop, "ProtocolVersion") == 0)
		return g_variant_new_int32(0);
	return g_variant_new_strv(NULL, 0);
}

/* A property of the registered item (g_variant_unref). */
static GVariant *item_prop(GDBusConnection *c, const struct watcher *w,
			   const char *prop)
{
	GError *e = NULL;
	GVariant *r, *v;

	r = g_dbus_connection_call_sync(
		c, w->sender, w->path, "org.freedesktop.DBus.Properties",
		"Get",
		g_variant_new("(ss)", "org.kde.StatusNotifierItem", prop),
		G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, 10000, NULL,
		&e);
	g_assert_no_error(e);
	g_variant_get(r, "(v)", &v);
	g_variant_unref(r);
	return v;
}

/* The id of the item of the menu at path labelled label. */
static int menu_item(GDBusConnection *c, const char *sender, const char *path,
		     const char *label)
{
	const char *const none[] = { NULL };
	GError *e = NULL;
	GVariant *r, *layout, *kids, *kid, *props;
	GVariantIter it;
	const char *l;
	int id = -1, kid_id;
	guint32 rev;

	r = g_dbus_connection_call_sync(c, sender, path,
					"com.canonical.dbusmenu", "GetLayout",
					g_variant_new("(ii^as)", 0, -1, none),
					NULL, G_DBUS_CALL_FLAGS_NONE, 10000,
					NULL, &e);
	g_assert_no_error(e);
	g_variant_get(r, "(u@(ia{sv}av))", &rev, &layout);
	kids = g_variant_get_child_value(layout, 2);
	g_variant_iter_init(&it, kids);
	while (id < 0 && g_variant_iter_next(&it, "v", &kid)) {
		g_variant_get_child(kid, 0, "i", &kid_id);
		props = g_variant_get_child_value(kid, 1);
		if (g_variant_lookup(props, "label", "&s", &l)) {
			g_test_message("tray menu item %d: %s", kid_id, l);
			if (strcmp(l, label) == 0)
				id = kid_id;
		}
		g_variant_unref(props);
		g_variant_unref(kid);
	}
	g_variant_unref(kids);
	g_variant_unref(layout);
	g_variant_unref(r);
	g_assert_cmpint(id, >=, 0);
	return id;
}

/* A click on the menu item labelled label, as the tray sends it. */
static void menu_click(GDBusConnection *c, const struct watcher *w,
		       const char *label)
{
	GVariant *menu = item_prop(c, w, "Menu");
	const char *path = g_variant_get_string(menu, NULL);
	int id = menu_item(c, w->sender, path, label);
	GError *e = NULL;
	GVariant *r;

	r = g_dbus_connection_call_sync(c, w->sender, path,
					"com.canonical.dbusmenu", "Event",
					g_variant_new("(isvu)", id, "clicked",
						      g_variant_new_int32(0),
						      0),
					NULL, G_DBUS_CALL_FLAGS_NONE, 10000,
					NULL, &e);
	g_assert_no_error(e);
	g_variant_unref(r);
	g_variant_unref(menu);
}

/*
 * Where the desktop has a tray: the session's icon registers with it,
 * titled as the bar, and its menu's Stop control and End session do
 * what the bar's buttons do.
 */
static void test_tray(void)
{
	static const GDBusInterfaceVTable vt = {
		watcher_call, watcher_prop, NULL, { 0 }
	};
	struct lh_pin pin = { 0 };
	struct watcher w = { 0 };
	struct agent ag;
	struct applet ap;
	GDBusConnection *c;
	GDBusNodeInfo *node;
	GVariant *v;
	GError *e = NULL;
	char *win, *arg;
	guint reg, own;

	c = g_dbus_connection_new_for_address_sync(
		bus_address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &e);
	g_assert_no_error(e);
	node = g_dbus_node_info_new_for_xml(watcher_xml, &e);
	g_assert_no_error(e);
	reg = g_dbus_connection_register_object(c, "/StatusNotifierWatcher",
						node->interfaces[0], &vt, &w,
						NULL, &e);
	g_assert_no_error(e);
	own = g_bus_own_name_on_connection(c, "org.kde.StatusNotifierWatcher",
					   G_BUS_NAME_OWNER_FLAGS_NONE, NULL,
					   NULL, NULL, NULL);

	lh_pin_new(relay, token, NULL, &pin);
	arg = g_strdup_printf("--pin=%s", pin.pin);
	applet_start(&ap, "tray", arg);
	g_free(arg);
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	WAIT_FOR(w.sender != NULL || ap.exited, 20000);
	g_assert_nonnull(w.sender);
	v = item_prop(c, &w, "Title");
	g_assert_true(g_str_has_suffix(g_variant_get_string(v, NULL),
				       "\u2013 Session"));
	g_variant_unref(v);
	v = item_prop(c, &w, "Status");
	g_assert_cmpstr(g_variant_get_string(v, NULL), ==, "Active");
	g_variant_unref(v);

	agent_request(&ag, LL_CAP_VIEW | LL_CAP_CONTROL);
	win = wait_window("Permission request", &ap);
	g_assert_nonnull(win);
	g_assert_true(wait_log(&ap, "accepts answers now", 1));
	focus_window(win);
	key("alt+a");
	WAIT_FOR(ag.n_grant > 0 || ag.closed, 15000);
	g_assert_cmpint(ag.n_grant, ==, 1);

	menu_click(c, &w, "_Stop control");
	WAIT_FOR(ag.n_revoke > 0 || ag.closed, 10000);
	g_assert_cmpint(ag.n_revoke, ==, 1);
	menu_click(c, &w, "_End session");
	g_assert_true(wait_log(&ap, "tray: End session chosen", 1));
	g_free(win);
	win = wait_window("Session ended$", &ap);
	g_assert_nonnull(win);
	g_assert_true(wait_window_gone("Screen shared$"));
	focus_window(win);
	key("alt+c");
	g_assert_true(applet_wait(&ap, 10000));
	g_assert_cmpint(ap.status, ==, 0);

	g_free(win);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
	g_bus_unown_name(own);
	g_dbus_connection_unregister_object(c, reg);
	g_dbus_node_info_unref(node);
	g_object_unref(c);
	g_free(w.sender);
	g_free(w.path);
}

/* ---- setup ---- */

static GPid spawn_bg(char **argv, const char *log)
{
	int pid = lt_x_spawn(argv, display, log);

	g_assert_cmpint(pid, >, 0);
	return pid;
}

static void start_bus(void)
{
	char *dir = g_strdup_printf("%s/bar-bus", lh_tmpdir());
	char *log = g_strdup_printf("%s/bar-bus.log", lh_tmpdir());
	char *addr_arg;

	g_mkdir_with_parents(dir, 0700);
	bus_address = g_strdup_printf("unix:path=%s/bus", dir);
	g_unlink(log);
	g_unlink(bus_address + strlen("unix:path="));
	addr_arg = g_strdup_printf("--address=%s", bus_address);
	bus_pid = spawn_bg((char *[]){ "dbus-daemon", "--session", "--nofork",
				       addr_arg, "--print-address=1", NULL },
			   log);
	/* it prints its address once it listens */
	g_assert_true(lt_wait_file(log, 0, "unix:path=", 1, 20000));
	g_free(addr_arg);
	g_free(dir);
	g_free(log);
}

/* A second (virtual RandR) monitor: LL-MON2 400x300+600+100. */
static void add_monitor(void)
{
	XRRMonitorInfo *vm = XRRAllocateMonitor(dpy, 0);

	vm->name = XInternAtom(dpy, "LL-MON2", False);
	vm->x = 600;
	vm->y = 100;
	vm->width = 400;
	vm->height = 300;
	vm->mwidth = 100;
	vm->mheight = 75;
	XRRSetMonitor(dpy, DefaultRootWindow(dpy), vm);
	XRRFreeMonitors(vm);
	XSync(dpy, False);
}

static void stop(GPid pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		g_assert_true(lt_wait_pid_exit(pid, 10000));
		waitpid(pid, NULL, 0); /* ours: lt_x_spawn leaves it to us */
	}
}

int main(int argc, char **argv)
{
	static const char *const tools[] = { "Xvfb", "xdotool", "import",
					     "openbox", "dbus-daemon" };
	char *log;
	size_t i;
	int rc;

	if (g_getenv("LL_APPLET_BIN") == NULL ||
	    g_getenv("LL_E2E_TARGET") == NULL) {
		printf("1..0 # SKIP LL_APPLET_BIN or LL_E2E_TARGET not set "
		       "(run it through meson test)\n");
		return 77;
	}
	for (i = 0; i < G_N_ELEMENTS(tools); i++) {
		char *path = g_find_program_in_path(tools[i]);

		if (path == NULL) {
			printf("1..0 # SKIP %s is not installed\n", tools[i]);
			return 77;
		}
		g_free(path);
	}
	lh_init(&argc, &argv);
	xvfb = lt_xvfb_start("1024x768x24", NULL);
	display = lt_xvfb_display(xvfb);
	dpy = XOpenDisplay(display);
	g_assert_nonnull(dpy);
	add_monitor();
	log = g_strdup_printf("%s/bar-openbox.log", lh_tmpdir());
	wm_pid = spawn_bg((char *[]){ "openbox", "--sm-disable", NULL }, log);
	g_assert_true(lt_wait_until(wm_running, NULL, 20000, 20000));
	g_free(log);
	start_bus();
	relay = lh_relay_new("applet_bar", NULL);
	lh_relay_start(relay);
	lh_tech_add(relay, "alice", "Alice-Passw0rd-long", false);
	token = lh_login(relay, "alice", "Alice-Passw0rd-long");

	g_test_add_func("/applet-bar/session", test_session);
	g_test_add_func("/applet-bar/monitor", test_monitor);
	g_test_add_func("/applet-bar/pin-window", test_pin_window);
	g_test_add_func("/applet-bar/tray", test_tray);
	rc = g_test_run();

	g_assert_cmpint(lh_relay_stop(relay, 5000), ==, 0);
	lh_relay_free(relay);
	g_free(token);
	stop(bus_pid);
	stop(wm_pid);
	XCloseDisplay(dpy);
	lt_xvfb_stop(xvfb);
	g_free(bus_address);
	return rc;
}
