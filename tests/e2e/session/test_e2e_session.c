/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * End to end: a consented screen session through a real relay, with the
 * real programs on real X servers (docs/ARCHITECTURE.md, Flows 4-6;
 * docs/API.md's window table and command lines).
 *
 *  - a private Xvfb for the end user (the applet and e2e-target, a window
 *    with a known picture that logs the input it gets) and a second one
 *    for the technician's GUI agent;
 *  - a real lifeline-relay on 127.0.0.1 with a test CA (the integration
 *    harness), a technician logged in with `lifeline-agent --cli`;
 *  - `pin new`, then `lifeline-applet --pin PIN` on the user's display;
 *    the consent dialog is found by its title and answered with xdotool
 *    on the real window, as a person with a keyboard would.
 *
 * Checks: after Deny no framebuffer arrives and the CLI says so; after
 * Allow the snapshot equals the known picture pixel for pixel (the
 * agent's encodings are lossless); focus starts on Deny (Space on a fresh
 * dialog denies); clicks and text reach the window only while control is
 * granted and stop after the bar's Stop control; the agent's clicks and
 * keys aimed at an open consent dialog never answer it; ending from
 * either side makes the other side's process exit within 2 s.
 * Screenshots of the consent dialog, the session bar and the agent's
 * viewer go to LL_ARTIFACTS_DIR (artifacts/e2e/).
 *
 * Every wait is bounded.  A program that cannot do a step fails the test
 * at that step with what was missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "harness.h"
#include "ll_build.h"
#include "lt_x.h"
#include "lt_wait.h"
#include "e2e_picture.h"
#include "ll_rfb_filter.h"

#define LL_RFB_TIGHT 7 /* RFB's number for Tight */

#define TECH_USER "e2e-tech"
#define TECH_PASSWORD "E2e-Session-Pw-4d1c"
/* The end user's screen and where the known picture sits on it: left,
 * below the middle, away from the centred dialog and the bar at the
 * top right. */
#define SCREEN_W 1280
#define SCREEN_H 800
#define PIC_X 16
#define PIC_Y 420
/* Ending from either side closes the other within this. */
#define END_WITHIN_MS 2000

static struct {
	char *dir;
	char *artifacts;
	struct lh_relay *relay;
	char *url;
	char *profile;
	char *product;
	struct lt_xvfb *xvfb_user, *xvfb_agent;
	const char *disp_user, *disp_agent; /* ":N" */
	GPid target;
	char *target_log;
	GPtrArray *secrets; /* PINs and the password used */
} E;

/* ---- processes ---- */

static void child_setup(gpointer data)
{
	/* an aborted test leaves nothing behind */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* The environment for a program on display (NULL: none). */
static char **child_env(const char *display)
{
	return lt_x_env(display);
}

/* Starts argv in the background, stdout+stderr appended to log. */
static GPid spawn_bg(char **argv, const char *display, const char *log)
{
	return lt_x_spawn(argv, display, log);
}

/* Waits up to timeout_ms for pid to exit: its exit status, -1 when it
 * died by a signal, -2 when still running (not killed). */
static int wait_exit(GPid pid, int timeout_ms)
{
	int st = 0;
	pid_t w;

	if (!lt_wait_pid_exit(pid, timeout_ms))
		return -2;
	do
		w = waitpid(pid, &st, 0);
	while (w < 0 && errno == EINTR);
	if (w != pid)
		return -3;
	if (WIFSIGNALED(st))
		g_test_message("pid %d died by signal %d", (int)pid,
			       WTERMSIG(st));
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void stop_proc(GPid *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	if (wait_exit(*pid, 3000) == -2) {
		kill(*pid, SIGKILL);
		wait_exit(*pid, 3000);
	}
	*pid = 0;
}

/* Runs argv to completion (bounded): exit status, -1 signal, -2 timeout
 * (killed).  out/err may be NULL. */
static int run(char **argv, const char *display, const char *stdin_text,
	       int timeout_ms, char **out, char **err)
{
	g_autofree char *opath = NULL, *epath = NULL;
	g_auto(GStrv) env = child_env(display);
	GError *error = NULL;
	GPid pid = 0;
	int pfd[2], in_fd, out_fd, err_fd, st;
	static int n;

	opath = g_strdup_printf("%s/run-%d.out", E.dir, ++n);
	epath = g_strdup_printf("%s/run-%d.err", E.dir, n);
	if (stdin_text != NULL) {
		g_assert_cmpint(pipe2(pfd, O_CLOEXEC), ==, 0);
		g_assert_cmpint(write(pfd[1], stdin_text, strlen(stdin_text)),
				==, (ssize_t)strlen(stdin_text));
		close(pfd[1]);
		in_fd = pfd[0];
	} else {
		in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	out_fd = open(opath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	err_fd = open(epath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	g_assert_cmpint(out_fd, >=, 0);
	g_assert_cmpint(err_fd, >=, 0);
	if (!g_spawn_async_with_fds(NULL, argv, env,
				    G_SPAWN_DO_NOT_REAP_CHILD |
					    G_SPAWN_SEARCH_PATH,
				    child_setup, NULL, &pid, in_fd, out_fd,
				    err_fd, &error))
		g_error("cannot run %s: %s", argv[0], error->message);
	close(in_fd);
	close(out_fd);
	close(err_fd);
	st = wait_exit(pid, timeout_ms);
	if (st == -2) {
		kill(pid, SIGKILL);
		wait_exit(pid, 5000);
	}
	if (out != NULL)
		g_file_get_contents(opath, out, NULL, NULL);
	if (err != NULL)
		g_file_get_contents(epath, err, NULL, NULL);
	g_unlink(opath);
	g_unlink(epath);
	return st;
}

/* `lifeline-agent --cli --relay URL --ca CA --profile DIR ARGS...`;
 * exit status; out/err (may be NULL) are the program's. */
static int cli(const char *stdin_text, int timeout_ms, char **out, char **err,
	       ...) G_GNUC_NULL_TERMINATED;
static int cli(const char *stdin_text, int timeout_ms, char **out, char **err,
	       ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree char *o = NULL, *e = NULL;
	GString *line = g_string_new("lifeline-agent --cli");
	const char *a;
	va_list ap;
	int st;

	g_ptr_array_add(argv, (char *)g_getenv("LL_AGENT_BIN"));
	g_ptr_array_add(argv, "--cli");
	g_ptr_array_add(argv, "--relay");
	g_ptr_array_add(argv, E.url);
	g_ptr_array_add(argv, "--ca");
	g_ptr_array_add(argv, E.relay->ca_cert);
	g_ptr_array_add(argv, "--profile");
	g_ptr_array_add(argv, E.profile);
	va_start(ap, err);
	while ((a = va_arg(ap, const char *)) != NULL) {
		g_ptr_array_add(argv, (char *)a);
		g_string_append_printf(line, " %s", a);
	}
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	st = run((char **)argv->pdata, NULL, stdin_text, timeout_ms, &o, &e);
	/* `pin new` prints the PIN: a secret, kept out of the log */
	g_test_message("$ %s -> %d; stdout: %s; stderr: %s", line->str, st,
		       strstr(line->str, " pin new") ? "(not logged)"
						     : (o ? o : ""),
		       e ? e : "");
	g_string_free(line, TRUE);
	if (out != NULL)
		*out = g_steal_pointer(&o);
	if (err != NULL)
		*err = g_steal_pointer(&e);
	return st;
}

/* ---- X servers and windows ---- */

/* An Xvfb of the test's own, its output in E.dir/xvfb-NAME.log. */
static struct lt_xvfb *start_xvfb(const char *name, const char **display)
{
	g_autofree char *log = g_strdup_printf("%s/xvfb-%s.log", E.dir, name);
	g_autofree char *screen = g_strdup_printf("%dx%dx24", SCREEN_W,
						  SCREEN_H);
	struct lt_xvfb *x = lt_xvfb_start(screen, log);

	*display = lt_xvfb_display(x);
	return x;
}

/* xdotool ARGS... on display; exit status, stdout in *out. */
static int xdo(const char *display, char **out, ...) G_GNUC_NULL_TERMINATED;
static int xdo(const char *display, char **out, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	const char *a;
	va_list ap;

	g_ptr_array_add(argv, "xdotool");
	va_start(ap, out);
	while ((a = va_arg(ap, const char *)) != NULL)
		g_ptr_array_add(argv, (char *)a);
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	return run((char **)argv->pdata, display, NULL, 10000, out, NULL);
}

/* The first visible window whose title matches the regex, waiting up to
 * timeout_ms for it (0: one look); 0 when there is none. */
static unsigned long wait_window_re(const char *display, const char *re,
				    int timeout_ms)
{
	g_autofree char *id = NULL;

	if (!lt_x_wait_window(display, re, false, timeout_ms, NULL, NULL, &id))
		return 0;
	return strtoul(id, NULL, 10);
}

/* The applet's window titled exactly "PRODUCT – what", or 0. */
static unsigned long find_window(const char *display, const char *what)
{
	g_autofree char *re = g_strdup_printf("^%s – %s$", E.product, what);

	return wait_window_re(display, re, 0);
}

static unsigned long wait_window(const char *display, const char *what,
				 int timeout_ms)
{
	g_autofree char *re = g_strdup_printf("^%s – %s$", E.product, what);

	return wait_window_re(display, re, timeout_ms);
}

static bool wait_window_gone(const char *display, const char *what,
			     int timeout_ms)
{
	g_autofree char *re = g_strdup_printf("^%s – %s$", E.product, what);

	return lt_x_wait_window(display, re, true, timeout_ms, NULL, NULL,
				NULL);
}

/* Until window w has stopped drawing (`e2e-target --drawn`): what a
 * screenshot of it waits for.  Best effort: a window that keeps
 * drawing is shot as it is. */
static void wait_drawn(const char *display, unsigned long w)
{
	g_autofree char *id = g_strdup_printf("%lu", w);
	char *argv[] = { (char *)g_getenv("LL_E2E_TARGET"),
			 "--drawn",
			 id,
			 "--timeout",
			 "5000",
			 NULL };

	if (run(argv, display, NULL, 15000, NULL, NULL) != 0)
		g_test_message("window %lu still drawing after 5 s", w);
}

/* Focuses window w and types keys (xdotool syntax) with XTest: what a
 * person at the keyboard does.  The pointer goes over w too: without a
 * window manager, focus that reverts (a closing window) falls back to
 * the window under the pointer. */
static void press(const char *display, unsigned long w, const char *keys)
{
	g_autofree char *id = g_strdup_printf("%lu", w);
	g_autofree char *focus = NULL;

	/* no --sync: it waits forever when the pointer is there already */
	g_assert_cmpint(xdo(display, NULL, "mousemove", "--window", id, "20",
			    "20", NULL),
			==, 0);
	g_assert_cmpint(xdo(display, NULL, "windowfocus", "--sync", id, NULL),
			==, 0);
	g_assert_cmpint(xdo(display, &focus, "getwindowfocus", NULL), ==, 0);
	if (strtoul(focus, NULL, 10) != w)
		g_error("window %lu did not get the keyboard focus (%s has "
			"it)",
			w, focus);
	g_assert_cmpint(xdo(display, NULL, "key", "--clearmodifiers", keys,
			    NULL),
			==, 0);
}

static void geometry(const char *display, unsigned long w, int *x, int *y,
		     int *width, int *height)
{
	g_autofree char *id = g_strdup_printf("%lu", w);
	g_autofree char *out = NULL;
	g_auto(GStrv) lines = NULL;
	int i;

	g_assert_cmpint(xdo(display, &out, "getwindowgeometry", "--shell", id,
			    NULL),
			==, 0);
	lines = g_strsplit(out, "\n", -1);
	*x = *y = *width = *height = -1;
	for (i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix(lines[i], "X="))
			*x = atoi(lines[i] + 2);
		else if (g_str_has_prefix(lines[i], "Y="))
			*y = atoi(lines[i] + 2);
		else if (g_str_has_prefix(lines[i], "WIDTH="))
			*width = atoi(lines[i] + 6);
		else if (g_str_has_prefix(lines[i], "HEIGHT="))
			*height = atoi(lines[i] + 7);
	}
	g_assert_cmpint(*width, >, 0);
	g_assert_cmpint(*height, >, 0);
}

/* A PNG of one window (or "root") into the artifacts folder, once the
 * window has drawn. */
static void screenshot(const char *display, unsigned long w, const char *name)
{
	g_autofree char *id = w ? g_strdup_printf("%lu", w) : g_strdup("root");
	g_autofree char *path = g_build_filename(E.artifacts, name, NULL);
	char *argv[] = { "import", "-window", id, path, NULL };
	g_autofree char *err = NULL;
	int st;

	if (w != 0)
		wait_drawn(display, w);
	st = run(argv, display, NULL, 20000, NULL, &err);
	if (st != 0)
		g_error("import -window %s %s: exit %d: %s", id, path, st,
			err ? err : "");
	g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
	g_test_message("screenshot: %s", path);
}

/* ---- the test window ---- */

static char *target_log_text(void)
{
	char *t = NULL;

	if (!g_file_get_contents(E.target_log, &t, NULL, NULL))
		return g_strdup("");
	return t;
}

static size_t target_log_len(void)
{
	g_autofree char *t = target_log_text();

	return strlen(t);
}

/* Waits until the log, from offset `from`, contains `needle`. */
static bool target_log_wait(size_t from, const char *needle, int timeout_ms)
{
	return lt_wait_file(E.target_log, from, needle, 1, timeout_ms);
}

/* The key names logged since `from`, modifiers left out, joined by ' '. */
static char *target_keys_since(size_t from)
{
	g_autofree char *t = target_log_text();
	g_auto(GStrv) lines = g_strsplit(strlen(t) >= from ? t + from : "",
					 "\n", -1);
	GString *s = g_string_new(NULL);
	const char *k;
	int i;

	for (i = 0; lines[i] != NULL; i++) {
		if (!g_str_has_prefix(lines[i], "key "))
			continue;
		k = lines[i] + 4;
		/* the name only (keycode and state follow) */
		lines[i][4 + strcspn(k, " ")] = '\0';
		if (g_str_has_prefix(k, "Shift") ||
		    g_str_has_prefix(k, "Control") ||
		    g_str_has_prefix(k, "Alt") ||
		    g_str_has_prefix(k, "Meta") ||
		    g_str_has_prefix(k, "Super") ||
		    g_str_has_prefix(k, "ISO_Level") ||
		    g_str_has_prefix(k, "Mode_switch"))
			continue;
		if (s->len > 0)
			g_string_append_c(s, ' ');
		g_string_append(s, k);
	}
	return g_string_free(s, FALSE);
}

static void start_target(void)
{
	g_autofree char *out_path = g_build_filename(E.dir, "target.out",
						     NULL);
	g_autofree char *x = g_strdup_printf("%d", PIC_X);
	g_autofree char *y = g_strdup_printf("%d", PIC_Y);
	char *argv[] = { (char *)g_getenv("LL_E2E_TARGET"),
			 "--x",
			 x,
			 "--y",
			 y,
			 "--log",
			 E.target_log,
			 NULL };

	E.target = spawn_bg(argv, E.disp_user, out_path);
	if (!lt_wait_file(out_path, 0, "ready ", 1, 15000))
		g_error("e2e-target did not draw its picture");
}

/* ---- pictures ---- */

/* Compares the snapshot's picture region with the known picture:
 * exact.  On a mismatch, keeps the snapshot in the artifacts. */
struct picture_diff {
	int bad, fx, fy;
	uint32_t got, want;
};

/* How the snapshot's picture region differs from the known picture. */
static struct picture_diff picture_compare(const char *png)
{
	struct picture_diff d = { 0, -1, -1, 0, 0 };
	GError *error = NULL;
	GdkPixbuf *pb = gdk_pixbuf_new_from_file(png, &error);
	const guint8 *px;
	int stride, nch, x, y;
	uint32_t g, w;

	if (pb == NULL)
		g_error("snapshot %s: %s", png, error->message);
	g_assert_cmpint(gdk_pixbuf_get_width(pb), ==, SCREEN_W);
	g_assert_cmpint(gdk_pixbuf_get_height(pb), ==, SCREEN_H);
	g_assert_cmpint(gdk_pixbuf_get_bits_per_sample(pb), ==, 8);
	px = gdk_pixbuf_read_pixels(pb);
	stride = gdk_pixbuf_get_rowstride(pb);
	nch = gdk_pixbuf_get_n_channels(pb);
	for (y = 0; y < E2E_PIC_H; y++) {
		for (x = 0; x < E2E_PIC_W; x++) {
			const guint8 *p = px + (size_t)(PIC_Y + y) * stride +
					  (size_t)(PIC_X + x) * nch;

			g = ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) |
			    p[2];
			w = e2e_picture_rgb(x, y);
			if (g != w && d.bad++ == 0) {
				d.fx = x;
				d.fy = y;
				d.got = g;
				d.want = w;
			}
		}
	}
	g_object_unref(pb);
	return d;
}

static void assert_picture(const char *png)
{
	struct picture_diff d = picture_compare(png);

	if (d.bad != 0) {
		g_autofree char *keep = g_build_filename(
			E.artifacts, "snapshot-mismatch.png", NULL);
		g_autofree char *data = NULL;
		gsize len;

		if (g_file_get_contents(png, &data, &len, NULL))
			g_file_set_contents(keep, data, (gssize)len, NULL);
		g_error("snapshot differs from the known picture in %d of %d "
			"pixels; first at (%d,%d) of the picture: got %06x, "
			"want %06x (kept as %s)",
			d.bad, E2E_PIC_W * E2E_PIC_H, d.fx, d.fy, d.got,
			d.want, keep);
	}
}

/*
 * Motion on the user's screen goes out as JPEG (the agent asks for
 * Tight with a JPEG quality: the applet's first lossless refresh shows
 * that it did); once it stops, the applet's lossless refresh makes the
 * picture the technician has exact again.  Checked on the picture as
 * shown (--as-shown asks the applet for nothing), taken again until it
 * matches or EXACT_WITHIN_MS passed.
 */
#define EXACT_WITHIN_MS 5000
static void assert_exact_after_motion(const char *id, const char *tag)
{
	g_autofree char *png = g_build_filename(E.dir, "as-shown.png", NULL);
	g_autofree char *alog = g_strdup_printf("%s/applet-%s.log", E.dir,
						tag);
	struct picture_diff d;
	size_t mark = target_log_len();
	int64_t t0;
	int st, tries = 0;

	/* Until the agent's RFB filter validates Tight rectangles (issue
	 * 14), it rewrites the agent's Tight into lossless encodings. */
	if (!ll_rfb_filter_encoding_allowed(LL_RFB_TIGHT)) {
		g_test_message("the RFB filter does not pass Tight yet: no "
			       "JPEG to refresh");
		return;
	}
	g_assert_cmpint(kill(E.target, SIGUSR2), ==, 0);
	if (!target_log_wait(mark, "motion done\n", 15000))
		g_error("e2e-target did not finish its motion");
	if (!lt_wait_file(alog, 0, "rfb: lossless refresh", 1, 10000))
		g_error("the applet never refreshed JPEG areas losslessly: "
			"the agent did not get Tight with JPEG");
	t0 = g_get_monotonic_time();
	do {
		g_autofree char *err = NULL;

		st = cli(NULL, 20000, NULL, &err, "session", "snapshot", id,
			 png, "--as-shown", NULL);
		if (st != 0)
			g_error("`session snapshot --as-shown`: exit %d: %s",
				st, err);
		tries++;
		d = picture_compare(png);
	} while (d.bad != 0 &&
		 g_get_monotonic_time() - t0 < EXACT_WITHIN_MS * 1000);
	g_test_message("after the motion, %d snapshot%s: %d pixels differ",
		       tries, tries == 1 ? "" : "s", d.bad);
	assert_picture(png);
}

/* ---- session helpers ---- */

struct pin {
	char *pin;
	char *id;
};

static void pin_new(const char *request, struct pin *p)
{
	g_autofree char *out = NULL, *err = NULL;
	g_auto(GStrv) lines = NULL;
	int st;

	st = cli(NULL, 30000, &out, &err, "pin", "new", "--request", request,
		 NULL);
	if (st != 0)
		g_error("`pin new` failed (%d): %s", st, err);
	lines = g_strsplit(out, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), >=, 2);
	g_assert_cmpuint(strlen(lines[0]), ==, 6);
	g_assert_cmpuint(strlen(lines[1]), >=, 1);
	g_assert_cmpuint(strspn(lines[1], "0123456789abcdefABCDEF"), ==,
			 strlen(lines[1]));
	p->pin = g_strdup(lines[0]);
	p->id = g_strdup(lines[1]);
	lh_secret("pin", p->pin);
	g_ptr_array_add(E.secrets, g_strdup(p->pin));
}

static void pin_clear(struct pin *p)
{
	g_free(p->pin);
	g_free(p->id);
}

/* The applet's exit status must be 0 (API: the session ended normally);
 * otherwise the test fails with the end of its log. */
static void assert_applet_ok(int st, const char *tag)
{
	g_autofree char *log = NULL, *path = NULL;
	size_t len;

	if (st == 0)
		return;
	path = g_strdup_printf("%s/applet-%s.log", E.dir, tag);
	g_file_get_contents(path, &log, NULL, NULL);
	len = log ? strlen(log) : 0;
	g_error("the applet %s (status %d); the end of its log:\n%s",
		st == -1 ? "died by a signal" : "exited with an error", st,
		log ? log + (len > 1500 ? len - 1500 : 0) : "");
}

/*
 * Waits until the applet `tag`'s n-th permission window takes answers:
 * it is armed a moment after it maps (applet/consent_dialog.c) and says
 * so in its log.
 */
static void wait_armed(const char *tag, int n)
{
	g_autofree char *path = g_strdup_printf("%s/applet-%s.log", E.dir,
						tag);

	if (!lt_wait_file(path, 0, "accepts answers now", n, 10000))
		g_error("the applet's permission window %d was not armed "
			"within 10 s",
			n);
}

/*
 * Before the answer the applet only sets up its capture (docs/
 * ARCHITECTURE.md, "Consent"): the X server has written a pixmap the
 * applet filled itself into the shared segment, and the framebuffer is
 * untouched, although the screen shows the known picture and the
 * dialog.  Test builds log what both hold once the RFB client is held
 * (rfb_server.c warm, x11.c x11_warm); a capture of the screen there
 * would count the picture's pixels.
 */
static void assert_nothing_captured(const char *tag)
{
	g_autofree char *path = g_strdup_printf("%s/applet-%s.log", E.dir,
						tag);
	g_autofree char *log = NULL;
	const char *seg, *fb;
	size_t n = 0, other = 1;

	if (!LL_TEST_HOOKS)
		return;
	if (!lt_wait_file(path, 0, "held until consent", 1, 20000))
		g_error("the applet did not prepare its screen server while "
			"the permission window was open");
	g_assert_true(g_file_get_contents(path, &log, NULL, NULL));
	seg = strstr(log, "test: capture segment warmed: ");
	fb = strstr(log, "test: framebuffer before consent: ");
	g_assert_nonnull(seg);
	g_assert_nonnull(fb);
	g_assert_cmpint(sscanf(seg,
			       "test: capture segment warmed: %zu "
			       "pixels, %zu not",
			       &n, &other),
			==, 2);
	g_assert_cmpuint(n, >=,
			 (size_t)(PIC_X + E2E_PIC_W) * (PIC_Y + E2E_PIC_H));
	g_assert_cmpuint(other, ==, 0);
	other = 1;
	g_assert_cmpint(sscanf(fb,
			       "test: framebuffer before consent: %zu "
			       "bytes, %zu not",
			       &n, &other),
			==, 2);
	g_assert_cmpuint(other, ==, 0);
	/* and both before the answer */
	g_assert_null(strstr(log, "the user allowed"));
}

/*
 * The session ended for the user: within timeout_ms the applet shows
 * "PRODUCT – Session ended" (by then nothing is shared: its session's
 * windows and sharing are gone before it maps), which waits for the
 * person; Close (Alt+C) ends the applet.  Its exit status, or -2 when
 * the window did not come.
 */
static int close_ended(GPid applet, int timeout_ms)
{
	unsigned long win = wait_window(E.disp_user, "Session ended",
					timeout_ms > 0 ? timeout_ms : 1);

	if (win == 0)
		return -2;
	press(E.disp_user, win, "alt+c");
	return wait_exit(applet, 10000);
}

static GPid start_applet(const struct pin *p, const char *tag)
{
	g_autofree char *log = g_strdup_printf("%s/applet-%s.log", E.dir, tag);
	char *argv[] = { (char *)g_getenv("LL_APPLET_BIN"), "--relay", E.url,
			 "--ca", E.relay->ca_cert, "--pin", p->pin,
			 /* A test build's applet waits longer for an answer
			  * than the 60 s a user gets: the barrier below sends
			  * a few hundred clicks at an open dialog, one CLI
			  * call each, which on a loaded machine can take
			  * longer than that.  Nothing here waits for a
			  * timeout. */
			 LL_TEST_HOOKS ? "--test-consent-timeout=600" : NULL,
			 NULL };

	return spawn_bg(argv, E.disp_user, log);
}

/* The CLI's session holder whose command line holds arg (a session id
 * or the profile folder): the background process `pin new` started; 0
 * when there is none. */
static GPid find_holder(const char *arg)
{
	GDir *d = g_dir_open("/proc", 0, NULL);
	const char *e;
	GPid found = 0;
	const char *id = arg;

	g_assert_nonnull(d);
	while (found == 0 && (e = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = NULL, *cmd = NULL;
		gsize len, i;
		bool holder = false, ours = false;

		if (!g_ascii_isdigit(e[0]))
			continue;
		path = g_strdup_printf("/proc/%s/cmdline", e);
		if (!g_file_get_contents(path, &cmd, &len, NULL))
			continue;
		for (i = 0; i < len; i += strlen(cmd + i) + 1) {
			if (strcmp(cmd + i, "--cli-holder") == 0)
				holder = true;
			if (strcmp(cmd + i, id) == 0)
				ours = true;
		}
		if (holder && ours)
			found = (GPid)atoi(e);
	}
	g_dir_close(d);
	return found;
}

/* Holders of this test's profile still running (a hung one of a failed
 * run is not our child and outlives us): killed, so none is left. */
static void kill_holders(void)
{
	GPid pid;
	int n = 0;

	while (E.profile != NULL && (pid = find_holder(E.profile)) > 0 &&
	       n++ < 16) {
		g_test_message("killing the left-over session holder %d",
			       (int)pid);
		kill(pid, SIGKILL);
		if (!lt_wait_pid_exit(pid, 5000))
			g_error("the session holder %d outlived SIGKILL",
				(int)pid);
	}
}

/* Not our child: exited (a zombie of whoever reaps it counts). */
static bool pid_gone_within(GPid pid, int timeout_ms)
{
	return lt_wait_pid_exit(pid, timeout_ms);
}

/* `session status ID`: the first line (the state), caps in *caps. */
static int status(const char *id, char **state, char **caps)
{
	g_autofree char *out = NULL;
	char *nl;
	int st;

	st = cli(NULL, 15000, &out, NULL, "session", "status", id, NULL);
	if (st != 0)
		return st;
	nl = strchr(out, '\n');
	if (state != NULL)
		*state = nl ? g_strndup(out, (gsize)(nl - out))
			    : g_strdup(out);
	if (caps != NULL)
		*caps = g_strdup(nl ? nl + 1 : "");
	return 0;
}

/*
 * Waits until the applet has handled all the input the technician sent
 * before: the snapshot's full update request goes out after it (the
 * holder's RFB client sends in order), and the applet's RFB server
 * answers it only after reading everything that came earlier.  Input the
 * applet let through is then with the X server: the user's next key or
 * click comes after it.
 */
static void rfb_barrier(const char *id)
{
	g_autofree char *png = g_build_filename(E.dir, "barrier.png", NULL);
	g_autofree char *err = NULL;
	int st;

	st = cli(NULL, 40000, NULL, &err, "session", "snapshot", id, png,
		 NULL);
	if (st != 0)
		g_error("`session snapshot` (as a barrier): exit %d: %s", st,
			err);
}

static void assert_wait_granted(const char *id, const char *want_caps)
{
	g_autofree char *out = NULL, *err = NULL;
	int st = cli(NULL, 40000, &out, &err, "session", "wait", id,
		     "--timeout", "25", NULL);

	if (st != 0)
		g_error("`session wait` after Allow: exit %d: %s", st, err);
	g_assert_cmpstr(out, ==, want_caps);
}

static void assert_wait_denied(const char *id)
{
	g_autofree char *out = NULL, *err = NULL;
	int st = cli(NULL, 40000, &out, &err, "session", "wait", id,
		     "--timeout", "25", NULL);

	if (st != 3)
		g_error("`session wait` after Deny: exit %d (want 3, denied): "
			"%s%s",
			st, out, err);
	g_assert_nonnull(strstr(err, "The user declined; you can ask again in "
				     "30 s."));
}

/* `session request ID caps` in the background: it waits for the user's
 * answer (request_done). */
static GPid request_bg(const char *id, const char *caps, const char *tag,
		       char **log)
{
	char *argv[] = { (char *)g_getenv("LL_AGENT_BIN"), "--cli", "--relay",
			 E.url, "--ca", E.relay->ca_cert, "--profile",
			 E.profile, "session", "request", (char *)id,
			 (char *)caps,
			 /* no test waits for it to give up; the barrier in
			  * allow_and_control keeps one open for a few hundred
			  * CLI calls, long on a loaded machine */
			 "--timeout", "600", NULL };

	*log = g_strdup_printf("%s/request-%s.log", E.dir, tag);
	g_unlink(*log); /* appended to */
	return spawn_bg(argv, NULL, *log);
}

/* The request answered: its exit status and what it said (stdout and
 * stderr, in its log). */
static void request_done(GPid pid, char *log, int want, const char *says)
{
	g_autofree char *text = NULL;
	int st = wait_exit(pid, 50000);

	g_file_get_contents(log, &text, NULL, NULL);
	g_test_message("session request -> %d: %s", st, text ? text : "");
	if (st != want || text == NULL || strstr(text, says) == NULL)
		g_error("`session request`: exit %d (want %d), said \"%s\" "
			"(want \"%s\")",
			st, want, text ? text : "", says);
	g_free(log);
}

/*
 * A fresh dialog has the focus on Deny: Space answers Deny, and `session
 * request` waits for that answer (exit 3, when to ask again).  Asked
 * again at once: held back without a dialog (the applet answers before
 * it would make one), and the technician is told (exit 7).  The n-th
 * dialog of the applet tag.
 */
static void deny_then_held_back(const char *id, const char *tag, int n)
{
	g_autofree char *err = NULL;
	unsigned long dlg;
	char *req_log;
	GPid req;
	int st;

	req = request_bg(id, "sysinfo", "sysinfo", &req_log);
	dlg = wait_window(E.disp_user, "Permission request", 15000);
	g_assert_cmpuint(dlg, !=, 0);
	wait_armed(tag, n);
	press(E.disp_user, dlg, "space");
	request_done(req, req_log, 3,
		     "lifeline-agent: The user declined; you can ask again "
		     "in 30 s.");
	g_assert_true(
		wait_window_gone(E.disp_user, "Permission request", 3000));
	st = cli(NULL, 15000, NULL, &err, "session", "request", id, "sysinfo",
		 NULL);
	g_assert_cmpint(st, ==, 7);
	g_assert_nonnull(strstr(err, "The user declined; you can ask again "
				     "in "));
	g_assert_cmpuint(find_window(E.disp_user, "Permission request"), ==,
			 0);
}

/* ---- tests ---- */

/*
 * Deny: nothing of the screen reaches the agent, and the CLI says so.
 * Then the technician ends: the applet exits within 2 s.
 */
static void test_deny(void)
{
	g_autofree char *png = g_build_filename(E.dir, "deny.png", NULL);
	g_autofree char *out = NULL, *err = NULL;
	struct pin p;
	unsigned long dlg;
	GPid applet, holder;
	int64_t t0;
	int st;

	pin_new("view", &p);
	holder = find_holder(p.id);
	g_assert_cmpint(holder, >, 0);
	applet = start_applet(&p, "deny");

	dlg = wait_window(E.disp_user, "Permission request", 30000);
	if (dlg == 0)
		g_error("no consent dialog (\"%s – Permission request\") on "
			"the user's screen within 30 s",
			E.product);
	wait_armed("deny", 1);
	assert_nothing_captured("deny");
	press(E.disp_user, dlg, "alt+d");
	g_assert_true(
		wait_window_gone(E.disp_user, "Permission request", 3000));
	assert_wait_denied(p.id);

	st = cli(NULL, 30000, &out, &err, "session", "snapshot", p.id, png,
		 NULL);
	g_assert_cmpint(st, ==, 3);
	g_assert_nonnull(strstr(err, "no framebuffer"));
	g_assert_false(g_file_test(png, G_FILE_TEST_EXISTS));
	/* not even the screen's size: no RFB channel was opened */
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&out, g_free);
	g_assert_cmpint(status(p.id, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	/* chat was never granted: refused by the holder, nothing shown */
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(cli(NULL, 15000, NULL, &err, "session", "chat", p.id,
			    "hello?", NULL),
			==, 3);
	g_assert_nonnull(strstr(err, "not allowed chat"));
	g_assert_cmpuint(find_window(E.disp_user, "Chat"), ==, 0);

	/* the technician ends: the applet goes within 2 s */
	t0 = lh_now_ms();
	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "end", p.id,
			    NULL),
			==, 0);
	st = close_ended(applet, END_WITHIN_MS - (int)(lh_now_ms() - t0));
	if (st == -2)
		g_error("the applet did not say \"Session ended\" within %d "
			"ms of `session end`",
			END_WITHIN_MS);
	assert_applet_ok(st, "deny");
	if (!pid_gone_within(holder, END_WITHIN_MS)) {
		kill(holder, SIGKILL);
		g_error("the agent's session holder (pid %d) was still "
			"running %d ms after `session end`",
			(int)holder, END_WITHIN_MS);
	}
	pin_clear(&p);
}

/* The applet's log (test builds) says the chat window shows text. */
static void applet_shows(const char *tag, const char *text)
{
	g_autofree char *path = g_strdup_printf("%s/applet-%s.log", E.dir,
						tag);
	g_autofree char *needle = g_strdup_printf("chat window shows: %s",
						  text);

	if (!lt_wait_file(path, 0, needle, 1, 10000))
		g_error("the applet's chat window did not show '%s' within "
			"10 s",
			text);
}

/* The user writes in "PRODUCT – Chat" (window w) and presses Return. */
static void user_writes(unsigned long w, const char *text)
{
	press(E.disp_user, w, "ctrl+a");
	g_assert_cmpint(xdo(E.disp_user, NULL, "type", "--delay", "5", text,
			    NULL),
			==, 0);
	press(E.disp_user, w, "Return");
}

/* `chat show ID` (the relay's kept transcript) holds both lines. */
static bool transcript_has_both(void *data)
{
	g_autofree char *out = NULL;

	if (lh_relay_cmd(E.relay, NULL, &out, NULL, "chat", "show",
			 (const char *)data, NULL) != 0)
		return false;
	return strstr(out, " technician: Hi, I am looking") != NULL &&
	       strstr(out, " user: Thank you, go ahead") != NULL;
}

static GPid files_bg(const char *cmd, const char *id, const char *a1,
		     const char *a2, const char *log);
static void files_done(GPid pid, const char *log, int want, const char *says);

/*
 * Chat with the CLI, before any control: `pin new --request chat`, the
 * user allows it, `session chat` opens "PRODUCT – Chat" with the line
 * (a bidi override shown as U+FFFD), what the user writes back is
 * printed by `session wait` (once) and `session chat-log` with time and
 * sender.  The org keeps transcripts (keep_chat): the holder's uploads
 * are in `chat show`.
 */
static void test_chat_cli(void)
{
	g_autofree char *out = NULL, *err = NULL, *hlog = NULL;
	struct pin p;
	unsigned long dlg, chat;
	GPid applet;
	int st;

	g_assert_cmpint(lh_relay_cmd(E.relay, NULL, NULL, NULL, "policy",
				     "set", "keep_chat", "true", NULL),
			==, 0);
	pin_new("chat", &p);
	hlog = g_strdup_printf("%s/%s.log", E.profile, p.id);
	applet = start_applet(&p, "chat");
	dlg = wait_window(E.disp_user, "Permission request", 30000);
	g_assert_cmpuint(dlg, !=, 0);
	wait_armed("chat", 1);
	press(E.disp_user, dlg, "alt+a");
	assert_wait_granted(p.id, "chat\n");

	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "chat", p.id,
			    "Hi, I am looking \xe2\x80\xae at it", NULL),
			==, 0);
	chat = wait_window(E.disp_user, "Chat", 10000);
	if (chat == 0)
		g_error("`session chat` opened no \"%s – Chat\" on the "
			"user's screen",
			E.product);
	applet_shows("chat", "Hi, I am looking \xef\xbf\xbd at it");
	user_writes(chat, "Thank you, go ahead");
	if (!lt_wait_file(hlog, 0, "chat line from the user", 1, 10000))
		g_error("the holder got no chat line from the user");
	screenshot(E.disp_user, chat, "applet-chat.png");

	st = cli(NULL, 40000, &out, &err, "session", "wait", p.id, "--timeout",
		 "25", NULL);
	g_assert_cmpint(st, ==, 0);
	g_assert_nonnull(strstr(out, "chat\nchat "));
	g_assert_nonnull(strstr(out, " user: Thank you, go ahead\n"));
	g_clear_pointer(&out, g_free);
	/* printed once by wait */
	g_assert_cmpint(cli(NULL, 40000, &out, NULL, "session", "wait", p.id,
			    "--timeout", "25", NULL),
			==, 0);
	g_assert_cmpstr(out, ==, "chat\n");
	g_clear_pointer(&out, g_free);
	g_assert_cmpint(cli(NULL, 15000, &out, NULL, "session", "chat-log",
			    p.id, NULL),
			==, 0);
	g_assert_nonnull(strstr(out, " technician: Hi, I am looking "
				     "\xef\xbf\xbd at it\n"));
	g_assert_nonnull(strstr(out, " user: Thank you, go ahead\n"));
	g_assert_true(g_ascii_isdigit(out[0]) && out[2] == ':');
	/* each line went to the relay, kept sealed */
	if (!lt_wait_until(transcript_has_both, p.id, 10000, 200000))
		g_error("the relay's transcript lacks the session's lines");
	g_assert_cmpint(lh_relay_cmd(E.relay, NULL, NULL, NULL, "policy",
				     "unset", "keep_chat", NULL),
			==, 0);

	/* `files` not granted: the CLI offers nothing and says so (exit
	 * 3); the user is asked nothing (the applet's own refusal of such
	 * an offer: applet_gui /applet/files) */
	{
		g_autofree char *src = g_build_filename(E.dir, "nogrant.txt",
							NULL);
		g_autofree char *log = g_build_filename(E.dir,
							"nogrant-cli.log",
							NULL);

		g_assert_true(g_file_set_contents(src, "x\n", -1, NULL));
		files_done(files_bg("send", p.id, src, NULL, log), log, 3,
			   "the user has not allowed file transfer");
		g_assert_true(find_window(E.disp_user, "Incoming file") == 0);
	}

	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "end", p.id,
			    NULL),
			==, 0);
	assert_applet_ok(close_ended(applet, 10000), "chat");
	pin_clear(&p);
}

/*
 * Allow: the picture, control only while granted, consent immune to the
 * technician's own input, Stop control, then the user ends the session
 * from the bar: the agent's holder exits within 2 s.
 */
/*
 * The picture scrolls a full turn (e2e-target on SIGUSR1: XCopyArea, a
 * row band at a time) while the agent watches: the applet sends the
 * scrolls as CopyRect (its log says so), and the agent's picture ends
 * exactly as the screen shows it.
 */
static void assert_scrolled_picture(const char *id, const char *png)
{
	g_autofree char *alog = g_strdup_printf("%s/applet-allow.log", E.dir);
	g_autofree char *err = NULL;
	size_t mark = target_log_len();
	int st;

	g_assert_cmpint(kill(E.target, SIGUSR1), ==, 0);
	if (!target_log_wait(mark, "scrolled ", 15000))
		g_error("e2e-target did not scroll");
	if (!lt_wait_file(alog, 0, "scrolling sent as CopyRect", 1, 10000))
		g_error("no scroll was sent as CopyRect (%s)", alog);
	st = cli(NULL, 40000, NULL, &err, "session", "snapshot", id, png,
		 NULL);
	if (st != 0)
		g_error("`session snapshot` after scrolling: exit %d: %s", st,
			err);
	assert_picture(png);
}

static void test_allow_and_control(void)
{
	g_autofree char *png = g_build_filename(E.dir, "allow.png", NULL);
	g_autofree char *out = NULL, *err = NULL, *keys = NULL;
	g_autofree char *cx = g_strdup_printf("%d", PIC_X + 60);
	g_autofree char *cy = g_strdup_printf("%d", PIC_Y + 50);
	struct pin p;
	unsigned long dlg, bar;
	GPid applet, holder, req;
	char *req_log;
	size_t mark;
	int64_t t0;
	int st, dx, dy, dw, dh, x, y, n;

	pin_new("view", &p);
	holder = find_holder(p.id);
	g_assert_cmpint(holder, >, 0);
	applet = start_applet(&p, "allow");

	dlg = wait_window(E.disp_user, "Permission request", 30000);
	if (dlg == 0)
		g_error("no consent dialog on the user's screen within 30 s");
	wait_armed("allow", 1);
	assert_nothing_captured("allow");
	screenshot(E.disp_user, dlg, "consent-dialog.png");
	press(E.disp_user, dlg, "alt+a");
	assert_wait_granted(p.id, "view\n");

	/* the picture, pixel for pixel */
	st = cli(NULL, 40000, &out, &err, "session", "snapshot", p.id, png,
		 NULL);
	if (st != 0)
		g_error("`session snapshot` after Allow: exit %d: %s", st,
			err);
	assert_picture(png);
	assert_scrolled_picture(p.id, png);
	assert_exact_after_motion(p.id, "allow");

	bar = wait_window(E.disp_user, "Session", 10000);
	if (bar == 0)
		g_error("no session bar (\"%s – Session\") while a session "
			"runs",
			E.product);
	screenshot(E.disp_user, bar, "session-bar.png");

	/* no control yet: refused by the agent, nothing reaches the window */
	mark = target_log_len();
	g_clear_pointer(&err, g_free);
	st = cli(NULL, 15000, NULL, &err, "session", "click", p.id, cx, cy,
		 NULL);
	g_assert_cmpint(st, ==, 3);
	g_assert_nonnull(strstr(err, "control"));

	deny_then_held_back(p.id, "allow", 2);

	/* control: allowed */
	req = request_bg(p.id, "control", "control", &req_log);
	dlg = wait_window(E.disp_user, "Permission request", 15000);
	g_assert_cmpuint(dlg, !=, 0);
	wait_armed("allow", 3);
	press(E.disp_user, dlg, "alt+a");
	request_done(req, req_log, 0, "ok\n");
	assert_wait_granted(p.id, "view\ncontrol\n");

	/* a click and text reach the window */
	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "click", p.id,
			    cx, cy, NULL),
			==, 0);
	if (!target_log_wait(mark, "button 1 60 50\n", 3000)) {
		g_autofree char *t = target_log_text();

		g_error("the agent's click did not reach the window at "
			"(%s,%s); its log: %s",
			cx, cy, t);
	}
	mark = target_log_len();
	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "type", p.id,
			    "Hi é", NULL),
			==, 0);
	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "key", p.id,
			    "Return", NULL),
			==, 0);
	target_log_wait(mark, "key Return ", 3000);
	keys = target_keys_since(mark);
	g_assert_cmpstr(keys, ==, "H i space eacute Return");

	/* a consent dialog is open: the agent's clicks and keys aimed at it
	 * never answer it */
	req = request_bg(p.id, "chat", "chat", &req_log);
	dlg = wait_window(E.disp_user, "Permission request", 15000);
	g_assert_cmpuint(dlg, !=, 0);
	/* armed: the clicks below reach a dialog that takes answers */
	wait_armed("allow", 4);
	geometry(E.disp_user, dlg, &dx, &dy, &dw, &dh);
	mark = target_log_len();
	n = 0;
	/* every 24 px: each button (taller and wider than that) is hit */
	for (y = dy + 4; y < dy + dh; y += 24) {
		for (x = dx + 4; x < dx + dw; x += 24) {
			g_autofree char *sx = g_strdup_printf("%d", x);
			g_autofree char *sy = g_strdup_printf("%d", y);

			st = cli(NULL, 15000, NULL, NULL, "session", "click",
				 p.id, sx, sy, NULL);
			g_assert_cmpint(st, ==, 0);
			n++;
		}
	}
	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "key", p.id,
			    "alt+a", NULL),
			==, 0);
	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "key", p.id,
			    "space", NULL),
			==, 0);
	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "key", p.id,
			    "Return", NULL),
			==, 0);
	g_test_message("%d clicks and 3 keys sent at the open dialog", n);
	rfb_barrier(p.id);
	if (find_window(E.disp_user, "Permission request") != dlg) {
		g_autofree char *path = g_strdup_printf("%s/applet-allow.log",
							E.dir);
		g_autofree char *alog = NULL;

		g_assert_true(g_file_get_contents(path, &alog, NULL, NULL));
		if (strstr(alog, "the permission request timed out") != NULL)
			g_error("the consent dialog timed out while the "
				"clicks were sent (a slow machine)");
		g_error("the consent dialog was answered or closed by the "
			"technician's own input");
	}
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(status(p.id, &out, &err), ==, 0);
	g_assert_cmpstr(out, ==, "waiting for consent");
	/* nothing went elsewhere either */
	g_assert_cmpuint(target_log_len(), ==, mark);
	/* The user's Deny comes after anything of the technician's that
	 * reached the X server: had that answered, this would fail. */
	press(E.disp_user, dlg, "alt+d");
	request_done(req, req_log, 3, "The user declined");
	assert_wait_denied(p.id);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(status(p.id, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "view\ncontrol\n");

	/* Stop control on the bar: control ends at once (each `session
	 * status` is a round trip to the holder) */
	press(E.disp_user, bar, "alt+s");
	t0 = lh_now_ms();
	for (;;) {
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&err, g_free);
		g_assert_cmpint(status(p.id, &out, &err), ==, 0);
		if (strstr(err, "control") == NULL)
			break;
		if (lh_now_ms() - t0 > 2000)
			g_error("control still granted 2 s after Stop "
				"control: %s",
				err);
	}
	g_assert_cmpstr(err, ==, "view\n");
	mark = target_log_len();
	g_clear_pointer(&err, g_free);
	st = cli(NULL, 15000, NULL, &err, "session", "click", p.id, cx, cy,
		 NULL);
	g_assert_cmpint(st, ==, 3);
	st = cli(NULL, 15000, NULL, NULL, "session", "type", p.id, "x", NULL);
	g_assert_cmpint(st, ==, 3);
	rfb_barrier(p.id);
	g_assert_cmpuint(target_log_len(), ==, mark);

	/* the user ends on the bar: the agent's side goes within 2 s */
	press(E.disp_user, bar, "alt+e");
	t0 = lh_now_ms();
	if (!pid_gone_within(holder, END_WITHIN_MS)) {
		g_autofree char *sock = g_strdup_printf("%s/%s.sock",
							E.profile, p.id);

		kill(holder, SIGKILL);
		g_error("the agent's session holder (pid %d) was still "
			"running %d ms after End session (its socket %s)",
			(int)holder, END_WITHIN_MS,
			g_file_test(sock, G_FILE_TEST_EXISTS)
				? "is still there"
				: "is gone: the session ended, the process "
				  "lingers");
	}
	st = close_ended(applet, END_WITHIN_MS - (int)(lh_now_ms() - t0) + 1);
	if (st == -2)
		g_error("no \"Session ended\" %d ms after End", END_WITHIN_MS);
	assert_applet_ok(st, "allow");
	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "status", p.id,
			    NULL),
			==, 5);
	pin_clear(&p);
}

/* ---- stalls (ll_session_io.h, Liveness) ---- */

/* The applet's status while its stream is silent (applet/applet.h). */
#define STALLED_TEXT "Connection interrupted \u2014 reconnecting\u2026"
/* The session goes on when the stream speaks again before this, and
 * ends after it (LL_SESSION_DEAD_MS). */
#define DEAD_MS 15000
/* The relay's stream_grace_s here: how long a session whose stream was
 * lost waits for both sides to come back.  Comfortably longer than a
 * reconnect takes once traffic flows again (stall-reconnect), short
 * enough for stall-dead to wait it out. */
#define GRACE_S 20

/* ll-pause-proxy between the applet and the relay (tests/common). */
struct proxy {
	GPid pid;
	int in, out; /* its stdin, its stdout */
	char *url;
};

static char *proxy_line(struct proxy *x, int timeout_ms)
{
	GString *l = g_string_new(NULL);
	struct pollfd p = { .fd = x->out, .events = POLLIN };
	int64_t deadline = lh_now_ms() + timeout_ms;
	char c;

	for (;;) {
		int64_t left = deadline - lh_now_ms();

		if (left <= 0 || poll(&p, 1, (int)left) <= 0 ||
		    read(x->out, &c, 1) != 1)
			g_error("ll-pause-proxy said nothing (so far: %s)",
				l->str);
		if (c == '\n')
			return g_string_free(l, FALSE);
		g_string_append_c(l, c);
	}
}

static void proxy_start(struct proxy *x)
{
	char port[16];
	char *argv[] = { (char *)g_getenv("LL_PAUSE_PROXY"), "127.0.0.1", port,
			 NULL };
	g_autofree char *l = NULL;
	GError *e = NULL;
	unsigned n = 0;

	g_assert_nonnull(argv[0]);
	g_snprintf(port, sizeof(port), "%u", E.relay->port);
	if (!g_spawn_async_with_pipes(NULL, argv, NULL,
				      G_SPAWN_DO_NOT_REAP_CHILD, child_setup,
				      NULL, &x->pid, &x->in, &x->out, NULL,
				      &e))
		g_error("ll-pause-proxy: %s", e->message);
	l = proxy_line(x, 5000);
	g_assert_cmpint(sscanf(l, "port %u", &n), ==, 1);
	x->url = g_strdup_printf("https://127.0.0.1:%u", n);
}

/* A command, done once the proxy answers: its time (ms). */
static int64_t proxy_cmd(struct proxy *x, const char *cmd)
{
	g_autofree char *line = g_strdup_printf("%s\n", cmd);
	g_autofree char *want = g_strdup_printf("ok %s", cmd);
	g_autofree char *got = NULL;

	g_assert_cmpint(write(x->in, line, strlen(line)), ==,
			(gssize)strlen(line));
	got = proxy_line(x, 5000);
	g_assert_cmpstr(got, ==, want);
	return lh_now_ms();
}

static void proxy_stop(struct proxy *x)
{
	if (x->pid > 0) {
		proxy_cmd(x, "quit");
		close(x->in);
		close(x->out);
		if (wait_exit(x->pid, 5000) == -2)
			stop_proc(&x->pid);
	}
	x->pid = 0;
	g_free(x->url);
}

static GPid start_applet_via(const struct pin *p, const char *tag,
			     const char *url)
{
	g_autofree char *log = g_strdup_printf("%s/applet-%s.log", E.dir, tag);
	char *argv[] = { (char *)g_getenv("LL_APPLET_BIN"),
			 "--relay",
			 (char *)url,
			 "--ca",
			 E.relay->ca_cert,
			 "--pin",
			 p->pin,
			 NULL };

	return spawn_bg(argv, E.disp_user, log);
}

static size_t file_len(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

/* Waits for needle in path after from: the ms since t0, or fails. */
static int64_t wait_log_since(const char *path, size_t from,
			      const char *needle, int timeout_ms, int64_t t0,
			      const char *what)
{
	if (!lt_wait_file(path, from, needle, 1, timeout_ms)) {
		g_autofree char *log = NULL;

		g_file_get_contents(path, &log, NULL, NULL);
		g_error("%s: \"%s\" not in %s within %d ms; the log:\n%s",
			what, needle, path, timeout_ms, log ? log : "");
	}
	return lh_now_ms() - t0;
}

/* One side's wait of wait_both, on a thread of its own. */
struct side_wait {
	const char *path, *needle, *what;
	size_t from;
	int timeout_ms;
	int64_t t0, took;
};

static gpointer side_wait_run(gpointer data)
{
	struct side_wait *w = data;

	w->took = wait_log_since(w->path, w->from, w->needle, w->timeout_ms,
				 w->t0, w->what);
	return NULL;
}

/* Both sides' lines waited for at once, so that each time is its own
 * (ms since t0 into *ta, *th). */
static void wait_both(const char *alog, size_t amark, const char *aneedle,
		      const char *hlog, size_t hmark, const char *hneedle,
		      int timeout_ms, int64_t t0, int64_t *ta, int64_t *th)
{
	struct side_wait h = {
		hlog, hneedle, "agent", hmark, timeout_ms, t0, 0
	};
	GThread *t = g_thread_new("wait-agent", side_wait_run, &h);

	*ta = wait_log_since(alog, amark, aneedle, timeout_ms, t0, "applet");
	g_thread_join(t);
	*th = h.took;
}

/* A session through the proxy with everything granted: the picture
 * arrives, a click reaches the window. */
static GPid stall_session(struct pin *p, struct proxy *x, const char *tag,
			  GPid *holder)
{
	g_autofree char *png = g_build_filename(E.dir, "stall.png", NULL);
	g_autofree char *err = NULL;
	unsigned long dlg;
	GPid applet;
	int st;

	pin_new("view,control", p);
	*holder = find_holder(p->id);
	g_assert_cmpint(*holder, >, 0);
	proxy_start(x);
	applet = start_applet_via(p, tag, x->url);
	dlg = wait_window(E.disp_user, "Permission request", 30000);
	if (dlg == 0)
		g_error("no consent dialog on the user's screen within 30 s");
	wait_armed(tag, 1);
	press(E.disp_user, dlg, "alt+a");
	assert_wait_granted(p->id, "view\ncontrol\n");
	st = cli(NULL, 40000, NULL, &err, "session", "snapshot", p->id, png,
		 NULL);
	if (st != 0)
		g_error("`session snapshot`: exit %d: %s", st, err);
	assert_picture(png);
	return applet;
}

static void assert_click_reaches(const char *id)
{
	g_autofree char *cx = g_strdup_printf("%d", PIC_X + 60);
	g_autofree char *cy = g_strdup_printf("%d", PIC_Y + 50);
	size_t mark = target_log_len();

	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "click", id,
			    cx, cy, NULL),
			==, 0);
	if (!target_log_wait(mark, "button 1 60 50\n", 5000))
		g_error("the agent's click did not reach the window");
}

/* Pixels of the snapshot png that are exactly each palette colour of the
 * known picture: a scaled view keeps the inside of its 16-pixel blocks
 * exact, so the agent's viewer shows the user's screen when every colour
 * is there.  Returns the smallest count. */
static int palette_min_count(const char *png)
{
	GdkPixbuf *pb = gdk_pixbuf_new_from_file(png, NULL);
	int counts[E2E_PALETTE_N] = { 0 }, x, y, i, nch, stride, min;
	const guint8 *px;
	uint32_t c;

	if (pb == NULL)
		return 0;
	px = gdk_pixbuf_read_pixels(pb);
	nch = gdk_pixbuf_get_n_channels(pb);
	stride = gdk_pixbuf_get_rowstride(pb);
	for (y = 0; y < gdk_pixbuf_get_height(pb); y++) {
		for (x = 0; x < gdk_pixbuf_get_width(pb); x++) {
			const guint8 *p = px + (size_t)y * stride +
					  (size_t)x * nch;

			c = ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) |
			    p[2];
			for (i = 0; i < E2E_PALETTE_N; i++)
				if (c == e2e_picture_palette(i))
					counts[i]++;
		}
	}
	g_object_unref(pb);
	min = counts[0];
	for (i = 1; i < E2E_PALETTE_N; i++)
		if (counts[i] < min)
			min = counts[i];
	return min;
}

/*
 * A black hole on the applet's path while the GUI agent views: its
 * session window says "Connection interrupted — reconnecting…"
 * (screenshot); traffic again, and the viewer shows the user's screen
 * again on the new channel 1.
 */
static void gui_stall(struct proxy *x, unsigned long viewer,
		      const char *gui_log, const char *shot)
{
	size_t mark = file_len(gui_log);
	int64_t t0 = proxy_cmd(x, "pause");
	int best = 0;

	g_test_message("GUI agent noticed the stall %" G_GINT64_FORMAT
		       " ms after the pause",
		       wait_log_since(gui_log, mark, STALLED_TEXT, 8000, t0,
				      "GUI agent"));
	screenshot(E.disp_agent, viewer, "agent-viewer-interrupted.png");
	mark = file_len(gui_log);
	t0 = proxy_cmd(x, "resume");
	wait_log_since(gui_log, mark, "connection restored", 8000, t0,
		       "GUI agent");
	t0 = lh_now_ms();
	do {
		screenshot(E.disp_agent, viewer, "agent-viewer.png");
		best = palette_min_count(shot);
	} while (best < 16 && lh_now_ms() - t0 < 15000);
	if (best < 16)
		g_error("the GUI agent's viewer does not show the user's "
			"screen again within 15 s of the resume (see %s)",
			shot);
}

/*
 * A black hole past the dead line while the GUI agent views: its session
 * window keeps saying "Connection interrupted — reconnecting…" while both
 * sides come back; traffic again within the relay's grace, and the viewer
 * (gtk-vnc opened again on the new channel 1) shows the user's screen,
 * with no permission window on the user's side.
 */
static void gui_reconnect(struct proxy *x, unsigned long viewer,
			  const char *gui_log, const char *shot)
{
	size_t mark = file_len(gui_log);
	int64_t t0 = proxy_cmd(x, "pause");
	int best = 0;

	wait_log_since(gui_log, mark, STALLED_TEXT " (no sign of life",
		       DEAD_MS + 5000, t0, "GUI agent");
	screenshot(E.disp_agent, viewer, "agent-viewer-reconnecting.png");
	mark = file_len(gui_log);
	t0 = proxy_cmd(x, "resume");
	g_test_message("GUI agent back %" G_GINT64_FORMAT
		       " ms after the black hole",
		       wait_log_since(gui_log, mark,
				      "still allowed after the reconnect",
				      GRACE_S * 1000, t0, "GUI agent"));
	g_assert_true(find_window(E.disp_user, "Permission request") == 0);
	t0 = lh_now_ms();
	do {
		screenshot(E.disp_agent, viewer, "agent-viewer.png");
		best = palette_min_count(shot);
	} while (best < 16 && lh_now_ms() - t0 < 15000);
	if (best < 16)
		g_error("the GUI agent's viewer does not show the user's "
			"screen again within 15 s of the reconnect (see %s)",
			shot);
	screenshot(E.disp_agent, viewer, "agent-viewer-reconnected.png");
}

/*
 * The technician's GUI on the second display: log in with the keyboard,
 * New PIN, the PIN read from the Copy button (clipboard), the applet
 * joins, Allow, the viewer shows the user's screen (screenshot), then
 * End session in the viewer: the applet exits within 2 s.
 */
/* The session window's title names who sits there, as the applet told
 * after view (the OS user and host name of the user's side: this
 * machine). */
static void viewer_names_user(unsigned long viewer)
{
	g_autofree char *named_re = g_strdup_printf(
		"^%s Agent – Session [0-9a-f]{8} – .+ on %s$", E.product,
		g_get_host_name());

	if (wait_window_re(E.disp_agent, named_re, 10000) != viewer)
		g_error("the session window's title does not name the user "
			"and computer (%s)",
			named_re);
}

/*
 * The viewer's chat pane: Request chat (Alt+H), the user allows it and
 * opens "PRODUCT – Chat" from the session bar (Alt+C) and writes; the
 * pane shows it; the technician answers in the pane (Alt+M, Return) and
 * the user's window shows that.  Screenshots of both.
 */
static void gui_chat(unsigned long viewer, const char *gui_log)
{
	unsigned long dlg, bar, chat;

	press(E.disp_agent, viewer, "alt+h");
	dlg = wait_window(E.disp_user, "Permission request", 20000);
	if (dlg == 0)
		g_error("Request chat (Alt+H) in the viewer asked nothing");
	wait_armed("gui", 2);
	press(E.disp_user, dlg, "alt+a");
	if (!lt_wait_file(gui_log, 0, "the user allowed view, control, chat",
			  1, 10000))
		g_error("the GUI agent was not allowed chat (see %s)",
			gui_log);
	bar = wait_window(E.disp_user, "Session", 5000);
	g_assert_cmpuint(bar, !=, 0);
	press(E.disp_user, bar, "alt+c");
	chat = wait_window(E.disp_user, "Chat", 10000);
	if (chat == 0)
		g_error("the session bar's Chat (Alt+C) opened no chat window");
	user_writes(chat, "Can you see the icon?");
	if (!lt_wait_file(gui_log, 0, "chat pane shows 1 more line", 1, 10000))
		g_error("the viewer's chat pane did not show the user's line "
			"(see %s)",
			gui_log);
	press(E.disp_agent, viewer, "alt+m");
	g_assert_cmpint(xdo(E.disp_agent, NULL, "type", "--delay", "5",
			    "Yes, top left", NULL),
			==, 0);
	press(E.disp_agent, viewer, "Return");
	applet_shows("gui", "Yes, top left");
	screenshot(E.disp_agent, viewer, "agent-viewer-chat.png");
	screenshot(E.disp_user, chat, "applet-chat-gui.png");
	press(E.disp_user, chat, "Escape");
	g_assert_true(wait_window_gone(E.disp_user, "Chat", 5000));
}

/*
 * Issue 13 in the GUI viewer, with the real applet, after gui_chat
 * (consent dialogs 3 and 4 of the session): System info (Alt+I)
 * asks the user for sysinfo, then fills the pane with this machine's
 * host name (screenshot); Share clipboard (Alt+B), once allowed, carries
 * a copy on the technician's display to the user's, and one of the
 * user's back.
 */
static void gui_clipboard_sysinfo(unsigned long viewer, const char *gui_log)
{
	g_autofree char *shows = g_strdup_printf("sysinfo pane shows %s",
						 g_get_host_name());
	g_autofree char *app_log = g_strdup_printf("%s/applet-gui.log", E.dir);
	g_autofree char *pasted = NULL;
	g_autofree char *cp_log = g_strdup_printf("%s/copy.log", E.dir);
	char *copy_agent[] = { (char *)g_getenv("LL_E2E_TARGET"),
			       "--set-clipboard",
			       "lsblk -f # from the technician",
			       "--timeout",
			       "60000",
			       NULL };
	char *copy_user[] = { (char *)g_getenv("LL_E2E_TARGET"),
			      "--set-clipboard",
			      "Error 0x80070005 # the user's",
			      "--timeout",
			      "60000",
			      NULL };
	char *paste[] = { (char *)g_getenv("LL_E2E_TARGET"), "--clipboard",
			  "--timeout", "5000", NULL };
	unsigned long dlg;
	GPid cp;

	/* clipboard texts are never logged (test_no_secrets_in_logs) */
	g_ptr_array_add(E.secrets, g_strdup(copy_agent[2]));
	g_ptr_array_add(E.secrets, g_strdup(copy_user[2]));
	press(E.disp_agent, viewer, "alt+i");
	dlg = wait_window(E.disp_user, "Permission request", 30000);
	if (dlg == 0)
		g_error("System info (Alt+I) asked the user nothing");
	wait_armed("gui", 3);
	press(E.disp_user, dlg, "alt+a");
	if (!lt_wait_file(gui_log, 0, shows, 1, 15000))
		g_error("the sysinfo pane did not show this machine (see %s)",
			gui_log);
	screenshot(E.disp_agent, viewer, "agent-sysinfo-pane.png");

	press(E.disp_agent, viewer, "alt+b");
	dlg = wait_window(E.disp_user, "Permission request", 30000);
	if (dlg == 0)
		g_error("Share clipboard (Alt+B) asked the user nothing");
	wait_armed("gui", 4);
	press(E.disp_user, dlg, "alt+a");
	if (!lt_wait_file(gui_log, 0, "clipboard sharing on", 1, 10000) ||
	    !lt_wait_file(app_log, 0, "clipboard sharing on", 1, 10000))
		g_error("the clipboard was not shared after Allow");

	/* technician -> user */
	cp = spawn_bg(copy_agent, E.disp_agent, cp_log);
	if (!lt_wait_file(app_log, 0,
			  "bytes from the technician put on the "
			  "clipboard",
			  1, 10000))
		g_error("the technician's copy did not reach the user");
	g_assert_cmpint(run(paste, E.disp_user, NULL, 10000, &pasted, NULL),
			==, 0);
	g_assert_cmpstr(g_strstrip(pasted), ==,
			"lsblk -f # from the technician");
	g_clear_pointer(&pasted, g_free);
	stop_proc(&cp);
	/* user -> technician */
	cp = spawn_bg(copy_user, E.disp_user, cp_log);
	if (!lt_wait_file(gui_log, 0,
			  "bytes from the user put on the "
			  "clipboard",
			  1, 10000))
		g_error("the user's copy did not reach the technician");
	g_assert_cmpint(run(paste, E.disp_agent, NULL, 10000, &pasted, NULL),
			==, 0);
	g_assert_cmpstr(g_strstrip(pasted), ==,
			"Error 0x80070005 # the user's");
	stop_proc(&cp);
}

static void applet_log_wait(const char *tag, const char *needle, int n,
			    int timeout_ms);
static bool same_file(const char *a, const char *b);
static void gui_cancel_mid(struct proxy *x, unsigned long viewer,
			   const char *gui_log);

/* A file chooser ch on display: the file's path typed in its location
 * entry, then Enter (the chooser's Send), until it is gone: an Enter
 * that closed the entry's completion popup instead is pressed again. */
static void chooser_pick(const char *display, unsigned long ch,
			 const char *path)
{
	int i;

	press(display, ch, "ctrl+l");
	g_assert_cmpint(xdo(display, NULL, "type", "--delay", "5", path, NULL),
			==, 0);
	for (i = 0; i < 3; i++) {
		press(display, ch, "Return");
		if (lt_x_wait_window(display, "Send a file( to the user)?$",
				     true, 3000, NULL, NULL, NULL))
			return;
		screenshot(display, ch, "chooser-still-open.png");
	}
	g_error("the file chooser %lu took no file", ch);
}

/* The user offers path from the session bar's Send a file…; the
 * "Sending a file" window that follows. */
static unsigned long bar_send(const char *tag, const char *path,
			      const char *shot)
{
	unsigned long bar = wait_window(E.disp_user, "Session", 10000), ch;

	g_assert_cmpuint(bar, !=, 0);
	applet_log_wait(tag, "session bar: Send a file shown", 1, 10000);
	press(E.disp_user, bar, "alt+f");
	ch = wait_window(E.disp_user, "Send a file", 15000);
	if (ch == 0)
		g_error("Send a file… (Alt+F) on the session bar opened no "
			"chooser");
	if (shot != NULL)
		screenshot(E.disp_user, ch, shot);
	chooser_pick(E.disp_user, ch, path);
	ch = wait_window(E.disp_user, "Sending a file", 15000);
	g_assert_cmpuint(ch, !=, 0);
	return ch;
}

static void close_sending(unsigned long w)
{
	press(E.disp_user, w, "alt+c");
	g_assert_true(wait_window_gone(E.disp_user, "Sending a file", 5000));
}

/* Where the agent's Incoming file window saves by default. */
static char *download_dir(void)
{
	const char *d = g_get_user_special_dir(G_USER_DIRECTORY_DOWNLOAD);

	return g_strdup(d != NULL && g_file_test(d, G_FILE_TEST_IS_DIR)
				? d
				: g_get_home_dir());
}

/*
 * Files both ways in the GUI (#13).  The viewer's Send _file… asks for
 * `files`, Cancel _transfer takes the offer back before the user saves,
 * the next is saved (SHA-256 checked); then the user sends from the
 * session bar and the technician saves it in "PRODUCT Agent – Incoming
 * file" (SHA-256 checked), and refuses the next.  Last, Cancel _transfer
 * while the bytes move, through the proxy x (gui_cancel_mid).
 */
static void gui_files(struct proxy *x, unsigned long viewer,
		      const char *gui_log)
{
	g_autofree char *dl = download_dir();
	g_autofree char *to_user = g_build_filename(E.dir, "gui-to-user.bin",
						    NULL);
	g_autofree char *from_user = g_build_filename(E.dir,
						      "gui-from-user.log",
						      NULL);
	g_autofree char *saved_user = g_build_filename(dl, "gui-to-user.bin",
						       NULL);
	g_autofree char *saved_agent = g_build_filename(dl,
							"gui-from-user.log",
							NULL);
	g_autofree char *re = g_strdup_printf("^%s Agent – Incoming file$",
					      E.product);
	gchar *data = g_malloc(200000);
	unsigned long ch, dlg, in, out;
	size_t i;

	for (i = 0; i < 200000; i++)
		data[i] = (char)g_random_int();
	g_assert_true(g_file_set_contents(to_user, data, 200000, NULL));
	g_assert_true(
		g_file_set_contents(from_user, "the user's log\n", -1, NULL));
	g_unlink(saved_user);
	g_unlink(saved_agent);
	g_free(data);

	/* the viewer's Send _file…: files asked for first */
	press(E.disp_agent, viewer, "alt+f");
	ch = wait_window_re(E.disp_agent, "^Send a file to the user$", 15000);
	if (ch == 0)
		g_error("Send _file… (Alt+F) in the viewer opened no chooser");
	chooser_pick(E.disp_agent, ch, to_user);
	dlg = wait_window(E.disp_user, "Permission request", 30000);
	g_assert_cmpuint(dlg, !=, 0);
	wait_armed("gui", 5);
	press(E.disp_user, dlg, "alt+a");
	in = wait_window(E.disp_user, "Incoming file", 20000);
	g_assert_cmpuint(in, !=, 0);
	screenshot(E.disp_agent, viewer, "agent-viewer-sending.png");
	/* Cancel _transfer before the user answers */
	press(E.disp_agent, viewer, "alt+t");
	applet_log_wait("gui",
			"file window says: Your technician stopped the "
			"transfer. Nothing was saved.",
			1, 10000);
	press(E.disp_user, in, "alt+c");
	g_assert_true(wait_window_gone(E.disp_user, "Incoming file", 5000));
	g_assert_false(g_file_test(saved_user, G_FILE_TEST_EXISTS));

	press(E.disp_agent, viewer, "alt+f");
	ch = wait_window_re(E.disp_agent, "^Send a file to the user$", 15000);
	g_assert_cmpuint(ch, !=, 0);
	chooser_pick(E.disp_agent, ch, to_user);
	in = wait_window(E.disp_user, "Incoming file", 20000);
	g_assert_cmpuint(in, !=, 0);
	press(E.disp_user, in, "alt+s");
	if (!lt_wait_file(gui_log, 0,
			  "file transfer of gui-to-user.bin: delivered", 1,
			  20000))
		g_error("the viewer's file was not delivered (see %s)",
			gui_log);
	g_assert_true(same_file(to_user, saved_user));
	/* the screen is live: the applet's writer gave way to it */
	applet_log_wait("gui",
			"file transfer to gui-to-user.bin: the worker gives "
			"way to the screen",
			1, 5000);
	press(E.disp_user, in, "alt+c");
	g_assert_true(wait_window_gone(E.disp_user, "Incoming file", 5000));

	/* the user's own file, saved by the technician */
	out = bar_send("gui", from_user, NULL);
	in = wait_window_re(E.disp_agent, re, 15000);
	if (in == 0)
		g_error("the user's offer opened no Incoming file window on "
			"the agent's display (see %s)",
			gui_log);
	screenshot(E.disp_agent, in, "agent-incoming-file.png");
	screenshot(E.disp_user, out, "gui-sending-a-file-waiting.png");
	press(E.disp_agent, in, "alt+s");
	if (!lt_wait_file(gui_log, 0,
			  "file transfer to gui-from-user.log: saved as "
			  "gui-from-user.log (SHA-256 verified)",
			  1, 20000))
		g_error("the technician's Save wrote nothing (see %s)",
			gui_log);
	g_assert_true(same_file(from_user, saved_agent));
	/* and so did the agent's, beside its viewer */
	g_assert_true(lt_wait_file(gui_log, 0,
				   "file transfer to gui-from-user.log: the "
				   "worker gives way to the screen",
				   1, 5000));
	screenshot(E.disp_agent, in, "agent-incoming-file-saved.png");
	press(E.disp_agent, in, "alt+c");
	g_assert_true(lt_x_wait_window(E.disp_agent, re, true, 5000, NULL,
				       NULL, NULL));
	applet_log_wait("gui", "file window says: Delivered", 1, 10000);
	close_sending(out);

	/* and refused */
	out = bar_send("gui", from_user, NULL);
	in = wait_window_re(E.disp_agent, re, 15000);
	g_assert_cmpuint(in, !=, 0);
	press(E.disp_agent, in, "alt+r");
	applet_log_wait("gui",
			"file window says: Your technician did not accept "
			"the file.",
			1, 10000);
	screenshot(E.disp_user, out, "gui-sending-a-file-refused.png");
	close_sending(out);
	press(E.disp_agent, in, "alt+c");
	g_assert_true(lt_x_wait_window(E.disp_agent, re, true, 5000, NULL,
				       NULL, NULL));
	gui_cancel_mid(x, viewer, gui_log);
}

static void test_gui_viewer(void)
{
	g_autofree char *gui_profile = g_build_filename(E.dir, "gui-profile",
							NULL);
	g_autofree char *ini = g_build_filename(gui_profile, "profile.ini",
						NULL);
	g_autofree char *gui_log = g_build_filename(E.dir, "agent-gui.log",
						    NULL);
	g_autofree char *shot = g_build_filename(E.artifacts,
						 "agent-viewer.png", NULL);
	g_autofree char *main_re = g_strdup_printf("^%s Agent$", E.product);
	g_autofree char *viewer_re = g_strdup_printf("^%s Agent – Session ",
						     E.product);
	g_autofree char *clip = NULL;
	char *argv[] = { (char *)g_getenv("LL_AGENT_BIN"),
			 "--relay",
			 E.url,
			 "--ca",
			 E.relay->ca_cert,
			 "--profile",
			 gui_profile,
			 NULL };
	char *clip_argv[] = { (char *)g_getenv("LL_E2E_TARGET"), "--clipboard",
			      "--timeout", "10000", NULL };
	struct pin p = { NULL, NULL };
	struct proxy x = { 0 };
	unsigned long main_win, viewer, dlg, confirm;
	GPid gui, applet;
	int64_t t0;
	int st, best = 0;

	/* made here, so that the wait for its profile.ini can watch it */
	g_assert_cmpint(g_mkdir_with_parents(gui_profile, 0700), ==, 0);
	gui = spawn_bg(argv, E.disp_agent, gui_log);
	main_win = wait_window_re(E.disp_agent, main_re, 30000);
	if (main_win == 0)
		g_error("no \"%s Agent\" window on the agent's display within "
			"30 s (see %s)",
			E.product, gui_log);
	press(E.disp_agent, main_win, "alt+u");
	g_assert_cmpint(xdo(E.disp_agent, NULL, "type", "--delay", "5",
			    TECH_USER, NULL),
			==, 0);
	press(E.disp_agent, main_win, "alt+p");
	g_assert_cmpint(xdo(E.disp_agent, NULL, "type", "--delay", "5",
			    TECH_PASSWORD, NULL),
			==, 0);
	press(E.disp_agent, main_win, "alt+l");
	/* logged in once the GUI remembers the relay in its profile: it
	 * shows the sessions view (New PIN) in the same step */
	if (!lt_wait_file(ini, 0, "relay=", 1, 20000))
		g_error("the GUI agent did not log in within 20 s (see %s)",
			gui_log);
	press(E.disp_agent, main_win, "alt+n");
	viewer = wait_window_re(E.disp_agent, viewer_re, 15000);
	if (viewer == 0)
		g_error("New PIN (Alt+N) opened no session window on the "
			"agent's display");
	press(E.disp_agent, viewer, "alt+c");
	/* waits for the clipboard to have an owner */
	st = run(clip_argv, E.disp_agent, NULL, 20000, &clip, NULL);
	if (st != 0)
		g_error("the PIN's Copy button (Alt+C) put nothing on the "
			"clipboard");
	g_strstrip(clip);
	p.pin = g_strdup(clip);
	g_assert_cmpuint(strlen(p.pin), ==, 6);
	lh_secret("pin", p.pin);
	g_ptr_array_add(E.secrets, g_strdup(p.pin));
	/* through ll-pause-proxy: the stall below */
	proxy_start(&x);
	applet = start_applet_via(&p, "gui", x.url);

	dlg = wait_window(E.disp_user, "Permission request", 30000);
	if (dlg == 0)
		g_error("no consent dialog for the GUI agent's session");
	wait_armed("gui", 1);
	press(E.disp_user, dlg, "alt+a");

	/* the viewer shows the user's screen: the known picture's colours
	 * appear in a screenshot of it (each taken once the viewer has
	 * stopped drawing) */
	t0 = lh_now_ms();
	do {
		screenshot(E.disp_agent, viewer, "agent-viewer.png");
		best = palette_min_count(shot);
	} while (best < 16 && lh_now_ms() - t0 < 15000);
	if (best < 16)
		g_error("the GUI agent's viewer does not show the user's "
			"screen within 15 s (see %s)",
			shot);
	viewer_names_user(viewer);
	gui_chat(viewer, gui_log);
	gui_clipboard_sysinfo(viewer, gui_log);
	gui_files(&x, viewer, gui_log);

	gui_stall(&x, viewer, gui_log, shot);
	gui_reconnect(&x, viewer, gui_log, shot);

	/* End session in the viewer asks first (agent/viewer.c
	 * confirm_end); End session there: the applet goes within 2 s */
	press(E.disp_agent, viewer, "alt+e");
	confirm = wait_window_re(E.disp_agent, "^End the session\\?$", 10000);
	if (confirm == 0)
		g_error("End session (Alt+E) in the GUI agent asked nothing");
	press(E.disp_agent, confirm, "alt+e");
	t0 = lh_now_ms();
	st = close_ended(applet, END_WITHIN_MS);
	if (st == -2)
		g_error("the applet did not say \"Session ended\" within %d "
			"ms of End session in the GUI agent",
			END_WITHIN_MS);
	assert_applet_ok(st, "gui");
	/* the viewer shows the end once the GUI has logged it */
	if (!lt_wait_file(gui_log, 0, ": ended here (", 1, 10000))
		g_error("the GUI agent did not log the end of the session "
			"(see %s)",
			gui_log);
	screenshot(E.disp_agent, viewer, "agent-viewer-ended.png");
	stop_proc(&gui);
	proxy_stop(&x);
	pin_clear(&p);
}

/* Appends the *.log files under dir (one level of subfolders). */
static void collect_logs(const char *dir, GPtrArray *out, int depth)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *e;

	if (d == NULL)
		return;
	while ((e = g_dir_read_name(d)) != NULL) {
		char *path = g_build_filename(dir, e, NULL);

		if (g_str_has_suffix(e, ".log"))
			g_ptr_array_add(out, g_steal_pointer(&path));
		else if (depth > 0 && g_file_test(path, G_FILE_TEST_IS_DIR))
			collect_logs(path, out, depth - 1);
		g_free(path);
	}
	g_dir_close(d);
}

/*
 * No PIN and no password in any log of the run: the applet's, the GUI
 * agent's, the CLI holders' (profile/ID.log) and the relay's.
 */
static void test_no_secrets_in_logs(void)
{
	g_autoptr(GPtrArray) logs = g_ptr_array_new_with_free_func(g_free);
	guint i, j;

	collect_logs(E.dir, logs, 1);
	if (E.relay->log_path != NULL)
		g_ptr_array_add(logs, g_strdup(E.relay->log_path));
	g_assert_cmpuint(logs->len, >=, 4);
	g_assert_cmpuint(E.secrets->len, >=, 5);
	for (i = 0; i < logs->len; i++) {
		g_autofree char *text = NULL;

		if (!g_file_get_contents(logs->pdata[i], &text, NULL, NULL))
			continue;
		for (j = 0; j < E.secrets->len; j++)
			if (strstr(text, E.secrets->pdata[j]) != NULL)
				g_error("a secret (#%u: password, token, "
					"PINs) is in %s",
					j, (char *)logs->pdata[i]);
	}
	g_test_message("%u logs checked for %u secrets", logs->len,
		       E.secrets->len);
}

/* ---- setup ---- */

static void setup(void)
{
	g_autofree char *in = g_strdup_printf("%s\n", TECH_PASSWORD);
	g_autofree char *err = NULL;
	const char *need[] = { "LL_AGENT_BIN", "LL_APPLET_BIN",
			       "LL_E2E_TARGET", "LL_ARTIFACTS_DIR" };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(need); i++)
		if (g_getenv(need[i]) == NULL)
			g_error("%s is not set (run through meson test)",
				need[i]);
	E.product = g_strdup(g_getenv("LL_PRODUCT") ?: "Lifeline");
	E.dir = g_build_filename(lh_tmpdir(), "e2e-session-run", NULL);
	E.profile = g_build_filename(E.dir, "profile", NULL);
	kill_holders();
	{
		char *argv[] = { "rm", "-rf", E.dir, NULL };

		g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
			     NULL, NULL, NULL, NULL);
	}
	g_assert_cmpint(g_mkdir_with_parents(E.dir, 0700), ==, 0);
	E.artifacts = g_strdup(g_getenv("LL_ARTIFACTS_DIR"));
	g_assert_cmpint(g_mkdir_with_parents(E.artifacts, 0755), ==, 0);
	E.target_log = g_build_filename(E.dir, "target.log", NULL);
	E.secrets = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(E.secrets, g_strdup(TECH_PASSWORD));

	E.xvfb_user = start_xvfb("user", &E.disp_user);
	E.xvfb_agent = start_xvfb("agent", &E.disp_agent);

	/* A short grace after a lost stream (stall-dead waits for it to
	 * run out). */
	E.relay = lh_relay_new("e2e-session",
			       "stream_grace_s=" G_STRINGIFY(GRACE_S) "\n");
	lh_relay_start(E.relay);
	lh_tech_add(E.relay, TECH_USER, TECH_PASSWORD, false);
	E.url = g_strdup_printf("https://127.0.0.1:%u", E.relay->port);

	if (cli(in, 30000, NULL, &err, "login", "--user", TECH_USER,
		"--password-stdin", NULL) != 0)
		g_error("`lifeline-agent --cli login` failed: %s", err);
	{
		/* the bearer token the CLI keeps: never in a log either */
		g_autofree char *tok_path = g_build_filename(E.profile,
							     "token", NULL);
		char *tok = NULL;

		if (g_file_get_contents(tok_path, &tok, NULL, NULL) &&
		    strlen(g_strstrip(tok)) >= 16)
			g_ptr_array_add(E.secrets, tok);
		else
			g_free(tok);
	}

	start_target();
	/* the pointer out of the way of the picture */
	xdo(E.disp_user, NULL, "mousemove", "1270", "790", NULL);
}

static void teardown(void)
{
	kill_holders();
	stop_proc(&E.target);
	if (E.relay != NULL && E.relay->pid != 0)
		lh_relay_stop(E.relay, 5000);
	lh_relay_free(E.relay);
	if (E.secrets != NULL)
		g_ptr_array_unref(E.secrets);
	lt_xvfb_stop(E.xvfb_agent);
	lt_xvfb_stop(E.xvfb_user);
}

/* ---- channels (calling cards) ---- */

/* `channel add NAME` on the relay: the credential (a secret). */
static char *channel_add(const char *name)
{
	char *out = NULL;

	g_assert_cmpint(lh_relay_cmd(E.relay, NULL, &out, NULL, "channel",
				     "add", name, NULL),
			==, 0);
	g_strstrip(out);
	lh_secret("channel credential", out);
	g_ptr_array_add(E.secrets, g_strdup(out));
	return out;
}

static GPid start_applet_channel(const char *cred, const char *tag)
{
	g_autofree char *log = g_strdup_printf("%s/applet-%s.log", E.dir, tag);
	char *argv[] = { (char *)g_getenv("LL_APPLET_BIN"),
			 "--relay",
			 E.url,
			 "--ca",
			 E.relay->ca_cert,
			 "--channel",
			 (char *)cred,
			 NULL };

	return spawn_bg(argv, E.disp_user, log);
}

/* The applet `tag` logged needle (n times) within timeout_ms. */
static void applet_log_wait(const char *tag, const char *needle, int n,
			    int timeout_ms)
{
	g_autofree char *path = g_strdup_printf("%s/applet-%s.log", E.dir,
						tag);

	if (!lt_wait_file(path, 0, needle, n, timeout_ms))
		g_error("the applet %s did not log \"%s\" within %d ms", tag,
			needle, timeout_ms);
}

/* The entry_id of the queue's only entry whose description has `what`. */
static char *queue_entry(const char *what)
{
	g_autofree char *out = NULL, *err = NULL;
	g_auto(GStrv) lines = NULL;
	char *id = NULL;
	int i;

	if (cli(NULL, 15000, &out, &err, "queue", "list", NULL) != 0)
		g_error("`queue list` failed: %s", err);
	lines = g_strsplit(out, "\n", -1);
	for (i = 0; lines[i] != NULL; i++)
		if (strstr(lines[i], what) != NULL) {
			g_assert_null(id);
			id = g_strndup(lines[i], 32);
		}
	return id;
}

/* A PNG of window w as artifacts/channels/NAME. */
static void screenshot_channels(const char *display, unsigned long w,
				const char *name)
{
	g_autofree char *dir = g_build_filename(E.artifacts, "..", "channels",
						NULL);
	g_autofree char *rel = g_build_filename("..", "channels", name, NULL);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	screenshot(display, w, rel);
}

/*
 * The calling card: the applet on a channel shows the waiting window,
 * the user types what they need and asks, the technician sees them in
 * `queue list`, picks them up, and the permission window asks as for
 * any session; Allow, and the session works.
 */
static void test_channel(void)
{
	g_autofree char *cred = channel_add("desk");
	g_autofree char *out = NULL, *err = NULL, *entry = NULL, *id = NULL;
	unsigned long win, dlg;
	GPid applet;
	int st;

	applet = start_applet_channel(cred, "channel");
	win = wait_window(E.disp_user, "Waiting for a technician", 30000);
	if (win == 0)
		g_error("no \"%s – Waiting for a technician\" window within "
			"30 s",
			E.product);
	/* the description field has the focus; Enter asks */
	press(E.disp_user, win, "ctrl+a");
	g_assert_cmpint(xdo(E.disp_user, NULL, "type", "--delay", "5",
			    "My printer says paper jam", NULL),
			==, 0);
	press(E.disp_user, win, "Return");
	applet_log_wait("channel", "channel: waiting in the queue", 1, 20000);
	entry = queue_entry("My printer says paper jam");
	g_assert_nonnull(entry);
	/* a second poll has updated the window with the time waited */
	screenshot_channels(E.disp_user, win, "waiting.png");

	st = cli(NULL, 30000, &out, &err, "queue", "pickup", entry, NULL);
	if (st != 0)
		g_error("`queue pickup` failed (%d): %s", st, err);
	id = g_strdup(g_strstrip(out));
	g_assert_cmpuint(strlen(id), ==, 32);
	g_assert_null(queue_entry("My printer says paper jam"));

	/* consent is asked as for any session */
	dlg = wait_window(E.disp_user, "Permission request", 30000);
	if (dlg == 0)
		g_error("no consent dialog after the pickup within 30 s");
	g_assert_true(wait_window_gone(E.disp_user, "Waiting for a technician",
				       5000));
	wait_armed("channel", 1);
	press(E.disp_user, dlg, "alt+a");
	assert_wait_granted(id, "view\ncontrol\n");
	rfb_barrier(id);

	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "end", id,
			    NULL),
			==, 0);
	st = close_ended(applet, 10000);
	assert_applet_ok(st, "channel");
}

/* Cancel leaves the queue: the entry is gone, the applet exits 0. */
static void test_channel_cancel(void)
{
	g_autofree char *cred = channel_add("front-desk");
	g_autofree char *entry = NULL;
	unsigned long win;
	GPid applet;
	int st;

	applet = start_applet_channel(cred, "channel-cancel");
	win = wait_window(E.disp_user, "Waiting for a technician", 30000);
	g_assert_cmpuint(win, !=, 0);
	g_assert_cmpint(xdo(E.disp_user, NULL, "type", "--delay", "5",
			    "Cancel me", NULL),
			==, 0);
	press(E.disp_user, win, "Return");
	applet_log_wait("channel-cancel", "channel: waiting in the queue", 1,
			20000);
	entry = queue_entry("Cancel me");
	g_assert_nonnull(entry);
	press(E.disp_user, win, "alt+c");
	st = wait_exit(applet, 15000);
	assert_applet_ok(st, "channel-cancel");
	g_assert_null(queue_entry("Cancel me"));
}

/*
 * The agent's GUI shows the queue (screenshot artifacts/channels/
 * agent-queue.png) and Pick up (Alt+P) opens the session: the user is
 * asked for consent as always.
 */
static void test_channel_agent_gui(void)
{
	g_autofree char *cred = channel_add("helpdesk");
	g_autofree char *gui_profile = g_build_filename(E.dir, "gui-q-profile",
							NULL);
	g_autofree char *ini = g_build_filename(gui_profile, "profile.ini",
						NULL);
	g_autofree char *gui_log = g_build_filename(E.dir, "agent-gui-q.log",
						    NULL);
	g_autofree char *main_re = g_strdup_printf("^%s Agent$", E.product);
	g_autofree char *viewer_re = g_strdup_printf("^%s Agent – Session ",
						     E.product);
	char *argv[] = { (char *)g_getenv("LL_AGENT_BIN"),
			 "--relay",
			 E.url,
			 "--ca",
			 E.relay->ca_cert,
			 "--profile",
			 gui_profile,
			 NULL };
	unsigned long win, main_win, viewer, dlg;
	GPid gui, applet;
	int st;

	applet = start_applet_channel(cred, "channel-gui");
	win = wait_window(E.disp_user, "Waiting for a technician", 30000);
	g_assert_cmpuint(win, !=, 0);
	g_assert_cmpint(xdo(E.disp_user, NULL, "type", "--delay", "5",
			    "Outlook keeps asking for my password", NULL),
			==, 0);
	press(E.disp_user, win, "Return");
	applet_log_wait("channel-gui", "channel: waiting in the queue", 1,
			20000);

	g_assert_cmpint(g_mkdir_with_parents(gui_profile, 0700), ==, 0);
	gui = spawn_bg(argv, E.disp_agent, gui_log);
	main_win = wait_window_re(E.disp_agent, main_re, 30000);
	g_assert_cmpuint(main_win, !=, 0);
	press(E.disp_agent, main_win, "alt+u");
	g_assert_cmpint(xdo(E.disp_agent, NULL, "type", "--delay", "5",
			    TECH_USER, NULL),
			==, 0);
	press(E.disp_agent, main_win, "alt+p");
	g_assert_cmpint(xdo(E.disp_agent, NULL, "type", "--delay", "5",
			    TECH_PASSWORD, NULL),
			==, 0);
	press(E.disp_agent, main_win, "alt+l");
	if (!lt_wait_file(ini, 0, "relay=", 1, 20000))
		g_error("the GUI agent did not log in within 20 s");
	if (!lt_wait_file(gui_log, 0, "queue: 1 waiting", 1, 20000))
		g_error("the GUI agent's queue did not show the user within "
			"20 s (see %s)",
			gui_log);
	screenshot_channels(E.disp_agent, main_win, "agent-queue.png");

	/* the first row is selected: Pick up */
	press(E.disp_agent, main_win, "alt+p");
	viewer = wait_window_re(E.disp_agent, viewer_re, 20000);
	if (viewer == 0)
		g_error("Pick up (Alt+P) opened no session window");
	dlg = wait_window(E.disp_user, "Permission request", 30000);
	if (dlg == 0)
		g_error("no consent dialog after the GUI's pickup");
	wait_armed("channel-gui", 1);
	press(E.disp_user, dlg, "alt+d");
	g_assert_true(
		wait_window_gone(E.disp_user, "Permission request", 5000));

	stop_proc(&gui);
	/* the agent's side went away without a goodbye: the applet tries
	 * to come back while the relay keeps the session in its grace,
	 * then ends */
	st = close_ended(applet, GRACE_S * 1000 + 15000);
	g_assert_cmpint(st, >=, 0);
}

/*
 * A black hole shorter than the dead line: within 5 s of the pause the
 * applet stops sharing and input and says "Connection interrupted", the
 * agent's holder says so too; once traffic flows again the session goes
 * on with what was granted: the picture arrives again on a new channel
 * 1 and the technician's click reaches the window.  The detection times
 * are printed (bench/stall prints them too).
 */
static void test_stall_resume(void)
{
	g_autofree char *alog = g_strdup_printf("%s/applet-stall.log", E.dir);
	g_autofree char *hlog = NULL, *png = NULL, *err = NULL;
	char *state = NULL;
	struct proxy x = { 0 };
	struct pin p;
	GPid applet, holder;
	unsigned long bar;
	size_t amark, hmark;
	int64_t t0, ta, th;
	int st;

	applet = stall_session(&p, &x, "stall", &holder);
	hlog = g_strdup_printf("%s/%s.log", E.profile, p.id);
	assert_click_reaches(p.id);
	bar = wait_window(E.disp_user, "Session", 10000);
	g_assert_cmpuint(bar, !=, 0);

	amark = file_len(alog);
	hmark = file_len(hlog);
	t0 = proxy_cmd(&x, "pause");
	wait_both(alog, amark, "sharing and input stopped", hlog, hmark,
		  STALLED_TEXT, 8000, t0, &ta, &th);
	g_test_message("stall detected: applet %" G_GINT64_FORMAT
		       " ms, agent %" G_GINT64_FORMAT " ms after the pause",
		       ta, th);
	printf("# stall detection: applet %" G_GINT64_FORMAT
	       " ms, agent %" G_GINT64_FORMAT " ms\n",
	       ta, th);
	/* Fail closed within 5 s (a little slack for the log's write and
	 * the test's wake-up; time itself is under test here). */
	g_assert_cmpint(ta, <=, 5500);
	g_assert_cmpint(th, <=, 5500);
	screenshot(E.disp_user, bar, "stall-session-bar.png");
	/* the CLI says so too (its holder answers on its own socket) */
	g_assert_cmpint(status(p.id, &state, NULL), ==, 0);
	g_assert_nonnull(strstr(state, STALLED_TEXT));
	g_clear_pointer(&state, g_free);

	amark = file_len(alog);
	hmark = file_len(hlog);
	t0 = proxy_cmd(&x, "resume");
	wait_both(alog, amark, "connection restored", hlog, hmark,
		  "connection restored", 8000, t0, &ta, &th);
	g_test_message("resumed: applet %" G_GINT64_FORMAT
		       " ms, agent %" G_GINT64_FORMAT " ms after the resume",
		       ta, th);
	/* the same grants, no new question: the picture and the input
	 * flow again */
	g_assert_true(find_window(E.disp_user, "Permission request") == 0);
	g_assert_cmpint(status(p.id, &state, NULL), ==, 0);
	g_assert_cmpstr(state, ==, "controlling");
	g_clear_pointer(&state, g_free);
	png = g_build_filename(E.dir, "stall-after.png", NULL);
	st = cli(NULL, 40000, NULL, &err, "session", "snapshot", p.id, png,
		 NULL);
	if (st != 0)
		g_error("`session snapshot` after the resume: exit %d: %s", st,
			err);
	assert_picture(png);
	assert_click_reaches(p.id);

	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "end", p.id,
			    NULL),
			==, 0);
	st = close_ended(applet, 10000);
	assert_applet_ok(st, "stall");
	g_assert_true(pid_gone_within(holder, 10000));
	proxy_stop(&x);
	pin_clear(&p);
}

/* The applet's and the agent's log lines once the pump declared the
 * stream dead and they try to come back (ll_session_end_name(SILENT)). */
#define APPLET_RECONNECTING "connection interrupted (no sign of life"
#define AGENT_RECONNECTING STALLED_TEXT " (no sign of life"

/*
 * A black hole past the dead line, then traffic again within the relay's
 * grace: both pumps declare the stream dead, both sides keep the session
 * and say "reconnecting" (the applet fails closed), both come back with
 * their tickets (the applet's try waits in the black hole), the relay
 * pairs them again, and the session goes on with what was granted: no
 * permission window, the picture again on a new channel 1, the click
 * reaches the window.
 */
static void test_stall_reconnect(void)
{
	g_autofree char *alog = g_strdup_printf("%s/applet-reconnect.log",
						E.dir);
	g_autofree char *hlog = NULL, *png = NULL, *err = NULL;
	g_autofree char *needle = NULL;
	char *state = NULL;
	struct proxy x = { 0 };
	struct pin p;
	GPid applet, holder;
	unsigned long bar;
	size_t amark, hmark;
	int64_t t0, ta, th;
	int st;

	applet = stall_session(&p, &x, "reconnect", &holder);
	hlog = g_strdup_printf("%s/%s.log", E.profile, p.id);
	bar = wait_window(E.disp_user, "Session", 10000);
	g_assert_cmpuint(bar, !=, 0);

	amark = file_len(alog);
	hmark = file_len(hlog);
	t0 = proxy_cmd(&x, "pause");
	wait_both(alog, amark, APPLET_RECONNECTING, hlog, hmark,
		  AGENT_RECONNECTING, DEAD_MS + 5000, t0, &ta, &th);
	g_test_message("reconnecting: applet %" G_GINT64_FORMAT
		       " ms, agent %" G_GINT64_FORMAT " ms after the pause",
		       ta, th);
	/* past the dead line and still there, failed closed */
	g_assert_true(find_window(E.disp_user, "Session ended") == 0);
	screenshot(E.disp_user, bar, "stall-reconnecting.png");
	g_assert_cmpint(status(p.id, &state, NULL), ==, 0);
	g_assert_nonnull(strstr(state, STALLED_TEXT));
	g_clear_pointer(&state, g_free);
	needle = g_strdup_printf("session %s: stream interrupted (", p.id);
	g_assert_true(lh_relay_wait_log(E.relay, needle, 1, 10000));
	g_clear_pointer(&needle, g_free);

	amark = file_len(alog);
	hmark = file_len(hlog);
	t0 = proxy_cmd(&x, "resume");
	wait_both(alog, amark, "connection restored: the session resumes",
		  hlog, hmark,
		  "still allowed after the reconnect: view, "
		  "control",
		  GRACE_S * 1000, t0, &ta, &th);
	g_test_message("back: applet %" G_GINT64_FORMAT
		       " ms, agent %" G_GINT64_FORMAT " ms after the resume",
		       ta, th);
	printf("# reconnect: applet %" G_GINT64_FORMAT
	       " ms, agent %" G_GINT64_FORMAT " ms after the black hole\n",
	       ta, th);
	/* logged right after the stream.resumed audit record */
	needle = g_strdup_printf("session %s: streams paired again", p.id);
	g_assert_true(lh_relay_wait_log(E.relay, needle, 1, 10000));
	g_clear_pointer(&needle, g_free);
	/* the same grants, no new question */
	g_assert_true(find_window(E.disp_user, "Permission request") == 0);
	g_assert_cmpint(status(p.id, &state, NULL), ==, 0);
	g_assert_cmpstr(state, ==, "controlling");
	g_clear_pointer(&state, g_free);
	png = g_build_filename(E.dir, "reconnect-after.png", NULL);
	st = cli(NULL, 40000, NULL, &err, "session", "snapshot", p.id, png,
		 NULL);
	if (st != 0)
		g_error("`session snapshot` after the reconnect: exit %d: %s",
			st, err);
	assert_picture(png);
	assert_click_reaches(p.id);
	screenshot(E.disp_user, bar, "stall-reconnected.png");

	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "end", p.id,
			    NULL),
			==, 0);
	st = close_ended(applet, 10000);
	assert_applet_ok(st, "reconnect");
	g_assert_true(pid_gone_within(holder, 10000));
	proxy_stop(&x);
	pin_clear(&p);
}

/*
 * End session on the applet's bar while both sides try to come back: the
 * applet ends at once, and its `ended` report (held in the black hole
 * until the traffic flows again) ends the session on the relay at once,
 * not when the grace runs out; the agent, whose stream is closed, ends
 * too.
 */
static void test_stall_end_reconnecting(void)
{
	g_autofree char *alog = g_strdup_printf("%s/applet-endrc.log", E.dir);
	g_autofree char *hlog = NULL, *needle = NULL;
	struct proxy x = { 0 };
	struct pin p;
	GPid applet, holder;
	unsigned long bar;
	size_t amark, hmark;
	int64_t t0, ta, th;
	int st;

	applet = stall_session(&p, &x, "endrc", &holder);
	hlog = g_strdup_printf("%s/%s.log", E.profile, p.id);
	bar = wait_window(E.disp_user, "Session", 10000);
	g_assert_cmpuint(bar, !=, 0);
	amark = file_len(alog);
	hmark = file_len(hlog);
	t0 = proxy_cmd(&x, "pause");
	wait_both(alog, amark, APPLET_RECONNECTING, hlog, hmark,
		  AGENT_RECONNECTING, DEAD_MS + 5000, t0, &ta, &th);
	amark = file_len(alog);
	press(E.disp_user, bar, "alt+e");
	wait_log_since(alog, amark, "session over (user)", 5000, lh_now_ms(),
		       "applet");
	hmark = file_len(hlog);
	t0 = proxy_cmd(&x, "resume");
	needle = g_strdup_printf("session %s: stream ended (ended by the "
				 "applet while interrupted)",
				 p.id);
	/* well before the grace (GRACE_S) would have run out */
	g_assert_true(lh_relay_wait_log(E.relay, needle, 1, 10000));
	wait_log_since(hlog, hmark, "connection lost (", 20000, t0, "agent");
	g_assert_true(pid_gone_within(holder, 10000));
	st = close_ended(applet, 10000);
	assert_applet_ok(st, "endrc");
	proxy_stop(&x);
	pin_clear(&p);
}

/*
 * A black hole past the dead line and past the relay's grace: both sides
 * try to come back, the relay records the streams' loss and, nobody
 * coming back within its grace, the session's end as lost; then both
 * end with their message (the applet's "Session ended" says the
 * connection was lost and could not be restored, exit 4).
 */
static void test_stall_dead(void)
{
	g_autofree char *alog = g_strdup_printf("%s/applet-dead.log", E.dir);
	g_autofree char *hlog = NULL, *needle = NULL;
	struct proxy x = { 0 };
	struct pin p;
	GPid applet, holder;
	unsigned long win;
	size_t amark, hmark;
	int64_t t0, ta, th;
	int st;

	applet = stall_session(&p, &x, "dead", &holder);
	hlog = g_strdup_printf("%s/%s.log", E.profile, p.id);
	amark = file_len(alog);
	hmark = file_len(hlog);
	t0 = proxy_cmd(&x, "pause");
	wait_both(alog, amark, APPLET_RECONNECTING, hlog, hmark,
		  AGENT_RECONNECTING, DEAD_MS + 5000, t0, &ta, &th);
	g_test_message("declared dead: applet %" G_GINT64_FORMAT
		       " ms, agent %" G_GINT64_FORMAT " ms after the pause",
		       ta, th);
	printf("# dead line: applet %" G_GINT64_FORMAT
	       " ms, agent %" G_GINT64_FORMAT " ms\n",
	       ta, th);
	/* the agent's stream closed without a goodbye: a loss, the session
	 * waits for its sides in the grace (the applet's try hangs in the
	 * black hole), then ends, on record */
	needle = g_strdup_printf("session %s: stream interrupted (", p.id);
	g_assert_true(lh_relay_wait_log(E.relay, needle, 1, 10000));
	g_free(needle);
	needle = g_strdup_printf("session %s: ended (lost)", p.id);
	g_assert_true(
		lh_relay_wait_log(E.relay, needle, 1, GRACE_S * 1000 + 10000));
	/* traffic again, too late: the relay says the session is over */
	amark = file_len(alog);
	hmark = file_len(hlog);
	t0 = proxy_cmd(&x, "resume");
	wait_both(alog, amark, "session over (stalled)", hlog, hmark,
		  "connection lost (", 30000, t0, &ta, &th);
	win = wait_window(E.disp_user, "Session ended", 10000);
	g_assert_cmpuint(win, !=, 0);
	screenshot(E.disp_user, win, "stall-session-ended.png");
	press(E.disp_user, win, "alt+c");
	st = wait_exit(applet, 10000);
	g_assert_cmpint(st, ==, 4);
	g_assert_true(pid_gone_within(holder, 10000));
	proxy_cmd(&x, "cut");
	proxy_stop(&x);
	pin_clear(&p);
}

/* ---- files (issue 13.1) ---- */

/* `session send|fetch ID ARGS...` in the background: it waits for the
 * user, who saves, picks or refuses in the applet's window. */
static GPid files_bg3(const char *cmd, const char *id, const char *a1,
		      const char *a2, const char *a3, const char *log)
{
	char *argv[] = { (char *)g_getenv("LL_AGENT_BIN"),
			 "--cli",
			 "--relay",
			 E.url,
			 "--ca",
			 E.relay->ca_cert,
			 "--profile",
			 E.profile,
			 "session",
			 (char *)cmd,
			 (char *)id,
			 (char *)a1,
			 (char *)a2,
			 (char *)a3,
			 NULL };

	g_unlink(log); /* appended to */
	return spawn_bg(argv, NULL, log);
}

static GPid files_bg(const char *cmd, const char *id, const char *a1,
		     const char *a2, const char *log)
{
	return files_bg3(cmd, id, a1, a2, NULL, log);
}

static void files_done(GPid pid, const char *log, int want, const char *says)
{
	g_autofree char *text = NULL;
	int st = wait_exit(pid, 30000);

	g_file_get_contents(log, &text, NULL, NULL);
	g_test_message("session send/fetch -> %d: %s", st, text ? text : "");
	if (st != want || text == NULL || strstr(text, says) == NULL)
		g_error("`session send/fetch`: exit %d (want %d), said \"%s\" "
			"(want \"%s\")",
			st, want, text ? text : "", says);
}

static bool same_file(const char *a, const char *b)
{
	g_autofree char *x = NULL, *y = NULL;
	gsize nx = 0, ny = 0;

	return g_file_get_contents(a, &x, &nx, NULL) &&
	       g_file_get_contents(b, &y, &ny, NULL) && nx == ny &&
	       memcmp(x, y, nx) == 0;
}

/*
 * A session granted `files` whose applet saves into home (its download
 * folder: its own HOME, not the test's; the environment is the test's
 * again for the next applets), through url.
 */
static GPid files_session(struct pin *p, const char *tag, const char *url,
			  const char *home, const char *xdg)
{
	static const char *const vars[] = { "HOME", "XDG_CONFIG_HOME",
					    "XDG_DATA_HOME",
					    "XDG_CACHE_HOME" };
	char *old[G_N_ELEMENTS(vars)];
	unsigned long win;
	GPid applet;
	size_t i;

	g_assert_cmpint(g_mkdir_with_parents(home, 0700), ==, 0);
	pin_new("files", p);
	for (i = 0; i < G_N_ELEMENTS(vars); i++) {
		old[i] = g_strdup(g_getenv(vars[i]));
		g_setenv(vars[i], i == 0 ? home : xdg, TRUE);
	}
	applet = start_applet_via(p, tag, url);
	for (i = 0; i < G_N_ELEMENTS(vars); i++) {
		if (old[i] != NULL)
			g_setenv(vars[i], old[i], TRUE);
		else
			g_unsetenv(vars[i]);
		g_free(old[i]);
	}
	win = wait_window(E.disp_user, "Permission request", 30000);
	g_assert_cmpuint(win, !=, 0);
	wait_armed(tag, 1);
	press(E.disp_user, win, "alt+a");
	assert_wait_granted(p->id, "files\n");
	return applet;
}

/*
 * The user sends from the session bar; `session receive` takes it: one
 * waiting before the offer, one after (the holder kept the offer), the
 * second with a name the technician's folder must not take as it is
 * (a dot file: made plain).
 */
static void files_from_bar(const char *id, const char *src, const char *sha,
			   const char *log)
{
	g_autofree char *rdir = g_build_filename(E.dir, "received", NULL);
	g_autofree char *evil_dir = g_build_filename(E.dir, "evil", NULL);
	g_autofree char *evil = g_build_filename(evil_dir, ".bashrc", NULL);
	g_autofree char *says = NULL, *got = NULL, *plain = NULL;
	unsigned long out;
	GPid cmd;

	g_assert_cmpint(g_mkdir_with_parents(rdir, 0700), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(evil_dir, 0700), ==, 0);
	g_assert_true(g_file_set_contents(evil, "alias ls=rm\n", -1, NULL));
	/* the fetched file's window first */
	applet_log_wait("files", "file window says: Delivered", 1, 10000);
	close_sending(find_window(E.disp_user, "Sending a file"));
	cmd = files_bg("receive", id, rdir, NULL, log);
	out = bar_send("files", src, "files-bar-send-a-file.png");
	says = g_strdup_printf("saved %s/send-me.bin (1048576 bytes, "
			       "SHA-256 %s)",
			       rdir, sha);
	files_done(cmd, log, 0, says);
	got = g_build_filename(rdir, "send-me.bin", NULL);
	g_assert_true(same_file(src, got));
	applet_log_wait("files", "file window says: Delivered", 2, 10000);
	close_sending(out);

	out = bar_send("files", evil, NULL);
	screenshot(E.disp_user, out, "files-sending-a-file.png");
	cmd = files_bg("receive", id, rdir, NULL, log);
	plain = g_build_filename(rdir, "bashrc", NULL);
	g_free(says);
	says = g_strdup_printf("saved %s (", plain);
	files_done(cmd, log, 0, says);
	g_assert_true(same_file(evil, plain));
	g_free(got);
	got = g_build_filename(rdir, ".bashrc", NULL);
	g_assert_false(g_file_test(got, G_FILE_TEST_EXISTS));
	applet_log_wait("files", "file window says: Delivered", 3, 10000);
	close_sending(out);
}

/*
 * The technician sends a file with the real CLI: the user sees
 * "PRODUCT – Incoming file", saves it (in the download folder: here the
 * applet's HOME) and the CLI prints its SHA-256; refused, the CLI says so
 * (exit 3); then the technician fetches a file the user picks in
 * "PRODUCT – Send a file".
 */
static void test_files(void)
{
	g_autofree char *home = g_build_filename(E.dir, "files-home", NULL);
	g_autofree char *xdg = g_build_filename(E.dir, "files-xdg", NULL);
	g_autofree char *src = g_build_filename(E.dir, "send-me.bin", NULL);
	g_autofree char *saved = g_build_filename(home, "send-me.bin", NULL);
	g_autofree char *want = g_build_filename(home, "wanted.log", NULL);
	g_autofree char *got = g_build_filename(E.dir, "got.log", NULL);
	g_autofree char *log = g_build_filename(E.dir, "files-cli.log", NULL);
	g_autofree char *alog = g_strdup_printf("%s/applet-files.log", E.dir);
	g_autofree char *twin = g_build_filename(home, "send-me (2).bin",
						 NULL);
	g_autofree char *sha = NULL, *says = NULL;
	gchar *data = g_malloc(1 << 20);
	unsigned long win;
	struct pin p;
	GPid applet, cmd;
	size_t i;

	for (i = 0; i < 1u << 20; i++)
		data[i] = i % 3 ? 'a' + (char)(i % 26) : (char)g_random_int();
	g_assert_true(g_file_set_contents(src, data, 1 << 20, NULL));
	sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data,
					  1 << 20);
	g_assert_cmpint(g_mkdir_with_parents(home, 0700), ==, 0);
	g_assert_true(g_file_set_contents(want, "the log\n", -1, NULL));

	applet = files_session(&p, "files", E.url, home, xdg);

	cmd = files_bg("send", p.id, src, NULL, log);
	win = wait_window(E.disp_user, "Incoming file", 20000);
	g_assert_cmpuint(win, !=, 0);
	screenshot(E.disp_user, win, "files-incoming.png");
	press(E.disp_user, win, "alt+s");
	says = g_strdup_printf("sent send-me.bin (1048576 bytes, SHA-256 %s)",
			       sha);
	files_done(cmd, log, 0, says);
	g_assert_true(same_file(src, saved));
	press(E.disp_user, win, "alt+c");
	g_assert_true(wait_window_gone(E.disp_user, "Incoming file", 5000));

	cmd = files_bg("send", p.id, src, NULL, log);
	win = wait_window(E.disp_user, "Incoming file", 20000);
	g_assert_cmpuint(win, !=, 0);
	press(E.disp_user, win, "alt+r");
	files_done(cmd, log, 3, "refused");
	press(E.disp_user, win, "alt+c");
	g_assert_true(wait_window_gone(E.disp_user, "Incoming file", 5000));

	/* the technician gives up before the user answers (--timeout: the
	 * agent cancels the transfer): the user's window says so, and
	 * nothing is saved */
	cmd = files_bg3("send", p.id, src, "--timeout", "2", log);
	win = wait_window(E.disp_user, "Incoming file", 20000);
	g_assert_cmpuint(win, !=, 0);
	files_done(cmd, log, 4, "the transfer is cancelled");
	if (!lt_wait_file(alog, 0, "send-me.bin: cancelled by the other side",
			  1, 10000))
		g_error("the applet did not learn of the technician's cancel");
	screenshot(E.disp_user, win, "files-cancelled-by-technician.png");
	g_assert_false(g_file_test(twin, G_FILE_TEST_EXISTS));
	press(E.disp_user, win, "alt+c");
	g_assert_true(wait_window_gone(E.disp_user, "Incoming file", 5000));

	cmd = files_bg("fetch", p.id, "wanted.log", got, log);
	win = wait_window(E.disp_user, "Send a file", 20000);
	g_assert_cmpuint(win, !=, 0);
	screenshot(E.disp_user, win, "files-send-a-file.png");
	press(E.disp_user, win, "alt+s");
	files_done(cmd, log, 0, "saved ");
	g_assert_true(same_file(want, got));
	files_from_bar(p.id, src, sha, log);

	/* asked again, refused: the CLI says so (exit 3), nothing saved */
	g_assert_cmpint(g_unlink(got), ==, 0);
	cmd = files_bg("fetch", p.id, "wanted.log", got, log);
	win = wait_window(E.disp_user, "Send a file", 20000);
	g_assert_cmpuint(win, !=, 0);
	press(E.disp_user, win, "alt+r");
	files_done(cmd, log, 3, "refused");
	g_assert_false(g_file_test(got, G_FILE_TEST_EXISTS));
	g_assert_true(wait_window_gone(E.disp_user, "Send a file", 5000));

	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "end", p.id,
			    NULL),
			==, 0);
	assert_applet_ok(close_ended(applet, 10000), "files");
	pin_clear(&p);
	g_free(data);
}

/* ---- files through a lost stream (issue 13.1: resumable) ---- */

/* The file, and how much of the stream (both ways, TLS and all) the
 * proxy lets through once the transfer is about to start: the cut falls
 * in its middle whatever the rate. */
#define RESUME_SIZE (4u << 20)
#define RESUME_CUT (1u << 20)

/* A file of RESUME_SIZE that zlib cannot shrink much: its SHA-256. */
static char *resume_file(const char *path, guint32 seed)
{
	GRand *r = g_rand_new_with_seed(seed);
	guint32 *data = g_malloc(RESUME_SIZE);
	char *sha;
	size_t i;

	for (i = 0; i < RESUME_SIZE / 4; i++)
		data[i] = g_rand_int(r);
	g_assert_true(
		g_file_set_contents(path, (char *)data, RESUME_SIZE, NULL));
	sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data,
					  RESUME_SIZE);
	g_free(data);
	g_rand_free(r);
	return sha;
}

/* The byte a side's log says the transfer `of`/`to` name resumed at,
 * after from (the line waited for); fails without one. */
static uint64_t resumed_at(const char *log, size_t from, const char *dir,
			   const char *name)
{
	g_autofree char *needle = g_strdup_printf(
		"file transfer %s %s resumes at byte ", dir, name);
	g_autofree char *text = NULL;
	const char *at;

	wait_log_since(log, from, needle, GRACE_S * 1000, lh_now_ms(),
		       "resume");
	g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
	at = strstr(text + from, needle);
	g_assert_nonnull(at);
	return g_ascii_strtoull(at + strlen(needle), NULL, 10);
}

struct part_look {
	const char *dir, *prefix;
	size_t min; /* bytes it must hold */
	char *path; /* the part once seen */
};

static bool part_seen(void *data)
{
	struct part_look *l = data;
	GDir *d = g_dir_open(l->dir, 0, NULL);
	const char *e;

	while (d != NULL && l->path == NULL &&
	       (e = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(l->dir, e, NULL);

		if (g_str_has_prefix(e, l->prefix) &&
		    g_str_has_suffix(e, ".lifeline-part") &&
		    file_len(p) >= l->min)
			l->path = g_steal_pointer(&p);
	}
	if (d != NULL)
		g_dir_close(d);
	return l->path != NULL;
}

/* The part in dir of a transfer of name, once it holds a byte (g_free). */
static char *part_of(const char *dir, const char *name)
{
	g_autofree char *prefix = g_strdup_printf(".%s.", name);
	struct part_look l = { dir, prefix, 1, NULL };

	if (!lt_wait_until(part_seen, &l, 10000, 10000))
		g_error("no part of %s with a byte in it in %s", name, dir);
	return l.path;
}

/* The first byte of a part turned over while the stream is down: what
 * arrived before the cut is no longer what was sent. */
static void tamper(const char *part)
{
	int fd = open(part, O_RDWR | O_CLOEXEC);
	unsigned char c;

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(pread(fd, &c, 1, 0), ==, 1);
	c ^= 0xff;
	g_assert_cmpint(pwrite(fd, &c, 1, 0), ==, 1);
	close(fd);
}

/*
 * Lets RESUME_CUT bytes through from now, then black-holes the applet's
 * stream (ll-pause-proxy's pause-after): the transfer that keys pressed
 * on win (on display) start is held in its middle until the proxy
 * resumes or cuts -- less than 5 s, LL_SESSION_STALL_MS, for nobody to
 * see a stall.  The receiver's part in part_dir (g_free), checked to
 * hold more than 0 bytes and fewer than RESUME_SIZE: what arrived.
 */
static char *hold_mid_transfer(struct proxy *x, const char *display,
			       unsigned long win, const char *keys,
			       const char *part_dir, const char *name)
{
	g_autofree char *cmd = g_strdup_printf("pause-after %u", RESUME_CUT);
	g_autofree char *line = g_strdup_printf("%s\n", cmd);
	g_autofree char *ok = g_strdup_printf("ok %s", cmd);
	g_autofree char *got = NULL;
	char *part;

	g_assert_cmpint(write(x->in, line, strlen(line)), ==,
			(gssize)strlen(line));
	press(display, win, keys);
	/* answered once that much went through: the transfer's middle */
	got = proxy_line(x, 30000);
	g_assert_cmpstr(got, ==, ok);
	part = part_of(part_dir, name);
	g_test_message("%s: %zu of %u bytes arrived when held", name,
		       file_len(part), RESUME_SIZE);
	g_assert_cmpuint(file_len(part), <, RESUME_SIZE);
	return part;
}

/*
 * Holds the transfer in its middle (hold_mid_transfer), then cuts both
 * streams (the applet's to the proxy, hence the relay's to the agent)
 * and lets traffic flow again: both sides come back within the relay's
 * grace with their tickets.  The receiver's part is turned over while
 * the stream is down when hostile.
 */
static void cut_mid_transfer(struct proxy *x, unsigned long win,
			     const char *keys, const char *part_dir,
			     const char *name, bool hostile)
{
	g_autofree char *part = hold_mid_transfer(x, E.disp_user, win, keys,
						  part_dir, name);

	if (hostile)
		tamper(part);
	proxy_cmd(x, "cut");
	proxy_cmd(x, "resume");
}

/* ---- cancel while the bytes move (issue 13.1) ---- */

/* No file and no part of name in dir: what a cancel leaves (a part is
 * kept only when the stream was lost, for the resume above). */
static void assert_nothing_of(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autofree char *prefix = g_strdup_printf(".%s.", name);
	struct part_look l = { dir, prefix, 0, NULL };

	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	if (part_seen(&l))
		g_error("a cancel left the part %s", l.path);
}

struct audit_look {
	const char *sha, *direction;
};

/* A "file" record of the file sha, as direction saw it, cancelled:
 * found by its SHA-256 as an auditor would (`audit export
 * --file-sha256`). */
static bool audit_cancelled(void *data)
{
	struct audit_look *a = data;
	g_autofree char *out = NULL;
	g_auto(GStrv) lines = NULL;
	bool found = false;
	size_t i;

	if (lh_relay_cmd(E.relay, NULL, &out, NULL, "audit", "export",
			 "--file-sha256", a->sha, NULL) != 0 ||
	    out == NULL)
		return false;
	lines = g_strsplit(out, "\n", -1);
	for (i = 0; lines[i] != NULL && !found; i++) {
		json_t *rec = json_loads(lines[i], 0, NULL);
		json_t *f = json_object_get(json_object_get(rec, "detail"),
					    "file");

		found = g_strcmp0(json_string_value(
					  json_object_get(f, "direction")),
				  a->direction) == 0 &&
			g_strcmp0(json_string_value(
					  json_object_get(f, "outcome")),
				  "cancelled") == 0;
		json_decref(rec);
	}
	return found;
}

/* Both sides' reports of the cancelled file sha are in the audit. */
static void assert_audit_cancelled(const char *sha)
{
	static const char *const dirs[] = { "sent", "received" };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(dirs); i++) {
		struct audit_look a = { sha, dirs[i] };

		if (!lt_wait_until(audit_cancelled, &a, 15000, 250000))
			g_error("no \"file\" audit record of %s: %s "
				"cancelled",
				sha, dirs[i]);
	}
}

/*
 * The technician's Cancel _transfer in the viewer while the bytes move
 * (the proxy holds the transfer in its middle): the agent says
 * "cancelled here", the user's window "Your technician stopped the
 * transfer. Nothing was saved.", the download folder keeps no file and
 * no part, and both sides' records are in the audit.  What follows in
 * the GUI test (stall, reconnect: the screen) runs in the same session.
 */
static void gui_cancel_mid(struct proxy *x, unsigned long viewer,
			   const char *gui_log)
{
	g_autofree char *dl = download_dir();
	g_autofree char *src = g_build_filename(E.dir, "gui-cancel.bin", NULL);
	g_autofree char *sha = resume_file(src, 61);
	g_autofree char *alog = g_strdup_printf("%s/applet-gui.log", E.dir);
	size_t amark = file_len(alog), gmark = file_len(gui_log);
	unsigned long ch, in;

	press(E.disp_agent, viewer, "alt+f");
	ch = wait_window_re(E.disp_agent, "^Send a file to the user$", 15000);
	g_assert_cmpuint(ch, !=, 0);
	chooser_pick(E.disp_agent, ch, src);
	in = wait_window(E.disp_user, "Incoming file", 20000);
	g_assert_cmpuint(in, !=, 0);
	g_free(hold_mid_transfer(x, E.disp_user, in, "alt+s", dl,
				 "gui-cancel.bin"));
	press(E.disp_agent, viewer, "alt+t");
	wait_log_since(gui_log, gmark,
		       "file transfer of gui-cancel.bin: cancelled here",
		       10000, lh_now_ms(), "agent");
	proxy_cmd(x, "resume");
	wait_log_since(alog, amark,
		       "file transfer to gui-cancel.bin: cancelled by the "
		       "other side",
		       10000, lh_now_ms(), "applet");
	wait_log_since(alog, amark,
		       "file window says: Your technician stopped the "
		       "transfer. Nothing was saved.",
		       10000, lh_now_ms(), "applet");
	assert_nothing_of(dl, "gui-cancel.bin");
	screenshot(E.disp_user, in, "files-cancelled-mid-by-technician.png");
	screenshot(E.disp_agent, viewer, "agent-viewer-cancelled-mid.png");
	press(E.disp_user, in, "alt+c");
	g_assert_true(wait_window_gone(E.disp_user, "Incoming file", 5000));
	assert_audit_cancelled(sha);
}

/* After a stop: a small file the user saves arrives whole (the session
 * and both sides' transfers go on). */
static void send_small(const char *id, const char *small,
		       const char *small_saved, const char *log)
{
	g_autofree char *base = g_path_get_basename(small);
	g_autofree char *says = g_strdup_printf("sent %s (11 bytes, SHA-256 ",
						base);
	unsigned long win;
	GPid cmd;

	g_assert_true(g_file_set_contents(small, "still here\n", -1, NULL));
	cmd = files_bg("send", id, small, NULL, log);
	win = wait_window(E.disp_user, "Incoming file", 20000);
	g_assert_cmpuint(win, !=, 0);
	press(E.disp_user, win, "alt+s");
	files_done(cmd, log, 0, says);
	g_assert_true(same_file(small, small_saved));
	press(E.disp_user, win, "alt+c");
	g_assert_true(wait_window_gone(E.disp_user, "Incoming file", 5000));
}

/*
 * The user cancels while the bytes move, each way (the proxy holds the
 * transfer in its middle): _Cancel in "Incoming file" while the
 * technician's `session send` runs, _Cancel in "Sending a file" while
 * `session fetch` runs.  The applet says "cancelled here", the CLI
 * "NAME: cancelled by the other side" (exit 1), the receiver keeps no
 * file and no part, both sides' records are in the audit; and the
 * session goes on: the next file arrives whole.
 */
static void files_cancel_mid(struct proxy *x, const char *id, const char *home,
			     const char *log, const char *alog)
{
	g_autofree char *src = g_build_filename(E.dir, "cancel-send.bin",
						NULL);
	g_autofree char *pick = g_build_filename(home, "cancel-pick.bin",
						 NULL);
	g_autofree char *got = g_build_filename(E.dir, "cancel-got.bin", NULL);
	g_autofree char *small = g_build_filename(E.dir, "after-cancel.txt",
						  NULL);
	g_autofree char *small_saved = g_build_filename(home,
							"after-cancel.txt",
							NULL);
	g_autofree char *sha_src = resume_file(src, 53);
	g_autofree char *sha_pick = resume_file(pick, 59);
	unsigned long win, out;
	size_t amark;
	GPid cmd;

	/* the user cancels what the technician sends */
	cmd = files_bg("send", id, src, NULL, log);
	win = wait_window(E.disp_user, "Incoming file", 20000);
	g_assert_cmpuint(win, !=, 0);
	amark = file_len(alog);
	g_free(hold_mid_transfer(x, E.disp_user, win, "alt+s", home,
				 "cancel-send.bin"));
	press(E.disp_user, win, "alt+c");
	wait_log_since(alog, amark,
		       "file transfer to cancel-send.bin: cancelled here",
		       10000, lh_now_ms(), "applet");
	proxy_cmd(x, "resume");
	files_done(cmd, log, 1,
		   "cancel-send.bin: cancelled by the other side");
	assert_nothing_of(home, "cancel-send.bin");
	screenshot(E.disp_user, win, "files-cancelled-mid-by-user.png");
	press(E.disp_user, win, "alt+c");
	g_assert_true(wait_window_gone(E.disp_user, "Incoming file", 5000));

	/* the user cancels what the technician fetches */
	cmd = files_bg("fetch", id, "cancel-pick.bin", got, log);
	win = wait_window(E.disp_user, "Send a file", 20000);
	g_assert_cmpuint(win, !=, 0);
	amark = file_len(alog);
	g_free(hold_mid_transfer(x, E.disp_user, win, "alt+s", E.dir,
				 "cancel-got.bin"));
	out = wait_window(E.disp_user, "Sending a file", 10000);
	g_assert_cmpuint(out, !=, 0);
	press(E.disp_user, out, "alt+c");
	wait_log_since(alog, amark,
		       "file transfer of cancel-pick.bin: cancelled here",
		       10000, lh_now_ms(), "applet");
	proxy_cmd(x, "resume");
	files_done(cmd, log, 1,
		   "cancel-pick.bin: cancelled by the other side");
	assert_nothing_of(E.dir, "cancel-got.bin");
	screenshot(E.disp_user, out, "files-sending-cancelled-mid.png");
	close_sending(out);

	/* the session goes on */
	send_small(id, small, small_saved, log);
	assert_audit_cancelled(sha_src);
	assert_audit_cancelled(sha_pick);
}

/* The CLI's stop of a transfer (kill(2) on the CLI, or close(2) on a
 * raw client's socket) while the proxy holds it in its middle: the
 * holder says why it cancels, and once traffic flows again the user's
 * window says so in the user's words. */
static void stopped_mid(struct proxy *x, const char *hlog, size_t hmark,
			const char *alog, size_t amark, const char *holder,
			const char *applet, const char *says)
{
	g_autofree char *h = g_strdup_printf(
		"file transfer %s: its command went away; cancelling", holder);
	g_autofree char *a = g_strdup_printf(
		"file transfer %s: cancelled by the other side", applet);
	g_autofree char *w = g_strdup_printf("file window says: %s", says);

	wait_log_since(hlog, hmark, h, 10000, lh_now_ms(), "holder");
	proxy_cmd(x, "resume");
	wait_log_since(alog, amark, a, 10000, lh_now_ms(), "applet");
	wait_log_since(alog, amark, w, 10000, lh_now_ms(), "applet");
}

/* `session send` by hand on the holder's socket (the CLI's request
 * line); the connection, which the caller closes. */
static int raw_send(const char *id, const char *path)
{
	g_autofree char *sock = g_strdup_printf("%s/%s.sock", E.profile, id);
	json_t *o = json_pack("{s:s,s:s}", "cmd", "send", "file", path);
	g_autofree char *req = json_dumps(o, JSON_COMPACT);
	g_autofree char *line = g_strdup_printf("%s\n", req);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	json_decref(o);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpuint(strlen(sock), <, sizeof(sun.sun_path));
	memcpy(sun.sun_path, sock, strlen(sock) + 1);
	g_assert_cmpint(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), ==,
			0);
	g_assert_cmpint(write(fd, line, strlen(line)), ==,
			(gssize)strlen(line));
	return fd;
}

/*
 * The technician stops a transfer while the bytes move (the proxy holds
 * it in its middle), each way: ^C (SIGINT) on `session send`, SIGTERM on
 * `session fetch`, and a client that sent `send` on the holder's socket
 * and closes it without a word (no signal handler in the way).  The CLI
 * says "NAME: cancelled" (exit 10); the holder cancels as the viewer's
 * Cancel transfer does: the user reads that the technician stopped it,
 * no file and no part is left on either side, both sides' records say
 * cancelled; the holder still answers, and the next file arrives whole.
 * A `fetch` stopped before the user picked takes its question back.
 */
static void files_stop_mid(struct proxy *x, const char *id, const char *home,
			   const char *log, const char *alog, const char *hlog)
{
	g_autofree char *src = g_build_filename(E.dir, "stop-send.bin", NULL);
	g_autofree char *pick = g_build_filename(home, "stop-pick.bin", NULL);
	g_autofree char *got = g_build_filename(E.dir, "stop-got.bin", NULL);
	g_autofree char *raw = g_build_filename(E.dir, "stop-raw.bin", NULL);
	g_autofree char *small = g_build_filename(E.dir, "after-stop.txt",
						  NULL);
	g_autofree char *small_saved = g_build_filename(home, "after-stop.txt",
							NULL);
	g_autofree char *sha_src = resume_file(src, 67);
	g_autofree char *sha_pick = resume_file(pick, 71);
	g_autofree char *sha_raw = resume_file(raw, 73);
	g_autofree char *state = NULL;
	unsigned long win, out;
	size_t amark, hmark;
	GPid cmd;
	int fd;

	/* ^C on `session send` */
	cmd = files_bg("send", id, src, NULL, log);
	win = wait_window(E.disp_user, "Incoming file", 20000);
	g_assert_cmpuint(win, !=, 0);
	amark = file_len(alog);
	hmark = file_len(hlog);
	g_free(hold_mid_transfer(x, E.disp_user, win, "alt+s", home,
				 "stop-send.bin"));
	g_assert_cmpint(kill(cmd, SIGINT), ==, 0);
	files_done(cmd, log, 10, "lifeline-agent: stop-send.bin: cancelled");
	stopped_mid(x, hlog, hmark, alog, amark, "of stop-send.bin",
		    "to stop-send.bin",
		    "Your technician stopped the transfer. Nothing was saved.");
	assert_nothing_of(home, "stop-send.bin");
	screenshot(E.disp_user, win, "files-stopped-mid-by-cli.png");
	press(E.disp_user, win, "alt+c");
	g_assert_true(wait_window_gone(E.disp_user, "Incoming file", 5000));
	g_assert_cmpint(status(id, &state, NULL), ==, 0);
	g_assert_cmpstr(state, !=, "ended");

	/* SIGTERM on `session fetch` */
	cmd = files_bg("fetch", id, "stop-pick.bin", got, log);
	win = wait_window(E.disp_user, "Send a file", 20000);
	g_assert_cmpuint(win, !=, 0);
	amark = file_len(alog);
	hmark = file_len(hlog);
	g_free(hold_mid_transfer(x, E.disp_user, win, "alt+s", E.dir,
				 "stop-got.bin"));
	out = wait_window(E.disp_user, "Sending a file", 10000);
	g_assert_cmpuint(out, !=, 0);
	g_assert_cmpint(kill(cmd, SIGTERM), ==, 0);
	files_done(cmd, log, 10, "lifeline-agent: stop-pick.bin: cancelled");
	stopped_mid(x, hlog, hmark, alog, amark, "to stop-pick.bin",
		    "of stop-pick.bin",
		    "Your technician stopped the transfer.");
	assert_nothing_of(E.dir, "stop-got.bin");
	screenshot(E.disp_user, out, "files-sending-stopped-by-cli.png");
	close_sending(out);

	/* ^C on `session fetch` while the user still chooses: the
	 * question is taken back, the chooser closes and the bar says
	 * why; nothing is sent */
	cmd = files_bg("fetch", id, "stop-pick.bin", got, log);
	win = wait_window(E.disp_user, "Send a file", 20000);
	g_assert_cmpuint(win, !=, 0);
	amark = file_len(alog);
	hmark = file_len(hlog);
	g_assert_cmpint(kill(cmd, SIGINT), ==, 0);
	files_done(cmd, log, 10, "lifeline-agent: stop-pick.bin: cancelled");
	wait_log_since(hlog, hmark, ": its command went away; taken back",
		       20000, lh_now_ms(), "holder");
	wait_log_since(alog, amark,
		       "session bar says: Your technician no longer needs "
		       "the file. Nothing was sent.",
		       20000, lh_now_ms(), "applet");
	g_assert_true(wait_window_gone(E.disp_user, "Send a file", 5000));
	screenshot(E.disp_user, 0, "files-fetch-taken-back.png");
	assert_nothing_of(E.dir, "stop-got.bin");

	/* hostile: a client that hangs up without a word */
	fd = raw_send(id, raw);
	win = wait_window(E.disp_user, "Incoming file", 20000);
	g_assert_cmpuint(win, !=, 0);
	amark = file_len(alog);
	hmark = file_len(hlog);
	g_free(hold_mid_transfer(x, E.disp_user, win, "alt+s", home,
				 "stop-raw.bin"));
	close(fd);
	stopped_mid(x, hlog, hmark, alog, amark, "of stop-raw.bin",
		    "to stop-raw.bin",
		    "Your technician stopped the transfer. Nothing was saved.");
	assert_nothing_of(home, "stop-raw.bin");
	press(E.disp_user, win, "alt+c");
	g_assert_true(wait_window_gone(E.disp_user, "Incoming file", 5000));

	/* the holder goes on */
	g_free(state);
	state = NULL;
	g_assert_cmpint(status(id, &state, NULL), ==, 0);
	g_assert_cmpstr(state, !=, "ended");
	send_small(id, small, small_saved, log);
	assert_audit_cancelled(sha_src);
	assert_audit_cancelled(sha_pick);
	assert_audit_cancelled(sha_raw);
}

/*
 * A file each way whose stream is lost in the middle (ll-pause-proxy
 * between the applet and the relay cuts it after RESUME_CUT bytes): both
 * sides keep the part and the session, come back within the grace, and
 * the transfer goes on at the part's length -- more than 0, less than
 * what the proxy let through -- not from 0; the file then arrives whole
 * (its SHA-256 checked by the receiver and here).  Then a part turned
 * over during the loss: the resumed transfer ends in a hash mismatch and
 * leaves no file and no part.  Last, the user's cancels in the middle of
 * a transfer (files_cancel_mid), through the same proxy.
 */
static void test_files_resume(void)
{
	g_autofree char *home = g_build_filename(E.dir, "resume-home", NULL);
	g_autofree char *xdg = g_build_filename(E.dir, "resume-xdg", NULL);
	g_autofree char *src = g_build_filename(E.dir, "big-send.bin", NULL);
	g_autofree char *saved = g_build_filename(home, "big-send.bin", NULL);
	g_autofree char *want = g_build_filename(home, "big-want.bin", NULL);
	g_autofree char *got = g_build_filename(E.dir, "big-got.bin", NULL);
	g_autofree char *log = g_build_filename(E.dir, "resume-cli.log", NULL);
	g_autofree char *alog = g_strdup_printf("%s/applet-resume.log", E.dir);
	g_autofree char *hlog = NULL, *says = NULL, *sha_src = NULL;
	g_autofree char *sha_want = NULL, *saved_sha = NULL;
	g_autofree char *evil = g_build_filename(home, "big-evil.bin", NULL);
	g_autofree char *evil_src = g_build_filename(E.dir, "big-evil.bin",
						     NULL);
	g_autofree char *data = NULL;
	struct proxy x = { 0 };
	unsigned long win;
	size_t amark, hmark;
	uint64_t at, at2;
	struct pin p;
	GPid applet, cmd;

	g_assert_cmpint(g_mkdir_with_parents(home, 0700), ==, 0);
	sha_src = resume_file(src, 13);
	sha_want = resume_file(want, 31);
	g_free(resume_file(evil_src, 7));
	proxy_start(&x);
	applet = files_session(&p, "resume", x.url, home, xdg);
	hlog = g_strdup_printf("%s/%s.log", E.profile, p.id);

	/* technician -> user: the applet receives, resumes, verifies */
	cmd = files_bg("send", p.id, src, NULL, log);
	win = wait_window(E.disp_user, "Incoming file", 20000);
	g_assert_cmpuint(win, !=, 0);
	amark = file_len(alog);
	hmark = file_len(hlog);
	cut_mid_transfer(&x, win, "alt+s", home, "big-send.bin", false);
	at = resumed_at(alog, amark, "to", "big-send.bin");
	at2 = resumed_at(hlog, hmark, "of", "big-send.bin");
	g_test_message("send: resumed at byte %" G_GUINT64_FORMAT
		       " of %u after %u bytes through the proxy",
		       at, RESUME_SIZE, RESUME_CUT);
	g_assert_cmpuint(at, >, 0);
	g_assert_cmpuint(at, <, RESUME_CUT);
	g_assert_cmpuint(at2, ==, at);
	says = g_strdup_printf("sent big-send.bin (%u bytes, SHA-256 %s)",
			       RESUME_SIZE, sha_src);
	files_done(cmd, log, 0, says);
	g_assert_true(same_file(src, saved));
	g_assert_true(g_file_get_contents(saved, &data, NULL, NULL));
	saved_sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
						(guchar *)data, RESUME_SIZE);
	g_assert_cmpstr(saved_sha, ==, sha_src);
	screenshot(E.disp_user, win, "files-resumed-saved.png");
	press(E.disp_user, win, "alt+c");
	g_assert_true(wait_window_gone(E.disp_user, "Incoming file", 5000));

	/* user -> technician: the holder receives, resumes, verifies */
	cmd = files_bg("fetch", p.id, "big-want.bin", got, log);
	win = wait_window(E.disp_user, "Send a file", 20000);
	g_assert_cmpuint(win, !=, 0);
	amark = file_len(alog);
	hmark = file_len(hlog);
	cut_mid_transfer(&x, win, "alt+s", E.dir, "big-got.bin", false);
	/* logged under the name offered; the part is named after LOCAL */
	at = resumed_at(hlog, hmark, "to", "big-want.bin");
	at2 = resumed_at(alog, amark, "of", "big-want.bin");
	g_test_message("fetch: resumed at byte %" G_GUINT64_FORMAT
		       " of %u after %u bytes through the proxy",
		       at, RESUME_SIZE, RESUME_CUT);
	g_assert_cmpuint(at, >, 0);
	g_assert_cmpuint(at, <, RESUME_CUT);
	g_assert_cmpuint(at2, ==, at);
	files_done(cmd, log, 0, sha_want);
	g_assert_true(same_file(want, got));
	/* its "Sending a file" window, closed: the next is the cancel's */
	close_sending(find_window(E.disp_user, "Sending a file"));

	/* hostile: what the part holds is not what was sent */
	cmd = files_bg("send", p.id, evil_src, NULL, log);
	win = wait_window(E.disp_user, "Incoming file", 20000);
	g_assert_cmpuint(win, !=, 0);
	amark = file_len(alog);
	cut_mid_transfer(&x, win, "alt+s", home, "big-evil.bin", true);
	g_assert_cmpuint(resumed_at(alog, amark, "to", "big-evil.bin"), >, 0);
	files_done(cmd, log, 1, "bad_hash");
	wait_log_since(alog, amark, "SHA-256 mismatch", 5000, lh_now_ms(),
		       "applet");
	g_assert_false(g_file_test(evil, G_FILE_TEST_EXISTS));
	{
		struct part_look l = { home, ".big-evil.bin.", 0, NULL };

		g_assert_false(part_seen(&l));
	}
	screenshot(E.disp_user, win, "files-resumed-bad-hash.png");
	press(E.disp_user, win, "alt+c");
	g_assert_true(wait_window_gone(E.disp_user, "Incoming file", 5000));

	files_cancel_mid(&x, p.id, home, log, alog);
	files_stop_mid(&x, p.id, home, log, alog, hlog);

	g_assert_cmpint(cli(NULL, 15000, NULL, NULL, "session", "end", p.id,
			    NULL),
			==, 0);
	assert_applet_ok(close_ended(applet, 10000), "resume");
	proxy_stop(&x);
	pin_clear(&p);
}

int main(int argc, char **argv)
{
	const char *tools[] = { "Xvfb", "xdotool", "import" };
	size_t i;
	int r;

	/* as the other e2e tests: skipped (77) without the X tools */
	for (i = 0; i < G_N_ELEMENTS(tools); i++) {
		g_autofree char *path = g_find_program_in_path(tools[i]);

		if (path == NULL && !(i == 0 && g_getenv("LL_XVFB") != NULL)) {
			printf("1..0 # SKIP %s is not installed\n", tools[i]);
			return 77;
		}
	}
	lh_init(&argc, &argv);
	setup();
	g_test_add_func("/e2e/session/deny", test_deny);
	g_test_add_func("/e2e/session/allow-and-control",
			test_allow_and_control);
	g_test_add_func("/e2e/session/chat-cli", test_chat_cli);
	g_test_add_func("/e2e/session/gui-viewer", test_gui_viewer);
	g_test_add_func("/e2e/session/files", test_files);
	g_test_add_func("/e2e/session/files-resume", test_files_resume);
	g_test_add_func("/e2e/session/channel", test_channel);
	g_test_add_func("/e2e/session/channel-cancel", test_channel_cancel);
	g_test_add_func("/e2e/session/channel-agent-gui",
			test_channel_agent_gui);
	g_test_add_func("/e2e/session/stall-resume", test_stall_resume);
	g_test_add_func("/e2e/session/stall-reconnect", test_stall_reconnect);
	g_test_add_func("/e2e/session/stall-end-reconnecting",
			test_stall_end_reconnecting);
	g_test_add_func("/e2e/session/stall-dead", test_stall_dead);
	g_test_add_func("/e2e/session/no-secrets-in-logs",
			test_no_secrets_in_logs);
	r = g_test_run();
	teardown();
	return r;
}
