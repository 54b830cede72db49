/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The applet's windows and consent rules, for real: our own Xvfb, a real
 * relay on 127.0.0.1 (tests/integration/harness.h), the real
 * lifeline-applet joining by --pin, and the technician's side played by
 * this test over the relay with the client library's session pump (the
 * same code the agent uses).  Keys are typed with xdotool into the real
 * windows; screenshots go to LL_ARTIFACTS_DIR (artifacts/e2e/).
 *
 *  deny   the consent dialog appears with the keyboard focus on it and on
 *         Deny (Space answers Deny); no mux channel is opened before an
 *         answer; Alt+D answers deny on the stream and in the audit; the
 *         technician's end ends the applet with status 0.
 *  allow  Alt+A answers grant, and only after the grant channel 1 opens
 *         and carries RFB's version string; the applet listens on no
 *         socket; the user's "End session" (Alt+E) ends it with status 0.
 *  monitors  with a second (virtual RandR) monitor: no monitors message
 *         and no select_monitor honoured before view is granted; after
 *         Alt+A the list names both with their geometry; select_monitor
 *         switches the capture and the RFB framebuffer follows
 *         (DesktopSize), an unknown name is a control error and the
 *         session goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <X11/Xlib.h>
#include <X11/extensions/Xrandr.h>

#include "applet_fixture.h"
#include "harness.h"
#include "lt_names.h"
#include "lt_x.h"
#include "ll_api_client.h"
#include "ll_buf.h"
#include "ll_chat.h"
#include "ll_control.h"
#include "ll_session_io.h"
#include "ll_stream.h"
#include "ll_text.h"
#include "ll_sysinfo.h"
#include "ll_xfer.h"
#include "ll_xfer_io.h"

/* applet/applet.h: a refused capability is held back this long, and not
 * asked again after this many refusals. */
#define HOLD_S 30
#define MAX_DENIALS 3
/* The hold-back of the no-pestering test (--test-consent-hold). */
#define TEST_HOLD_S 2
/* The relay's stream_grace_s here (its least): how long a session whose
 * stream was lost waits for its sides to come back. */
#define GRACE_S 5

static struct lh_relay *relay;
static char *token;
/* HOME of the next applet (NULL: the test's): where it saves files. */
static const char *applet_home;
static struct lt_xvfb *xvfb;
static const char *display; /* ":N" */

/* ---- helpers ---- */

static char **tool_env(void)
{
	return lt_x_env(display);
}

/* Runs a tool on our display; returns its stdout (trimmed), or NULL if
 * it failed. */
static char *tool(const char *const *argv)
{
	char **env = tool_env();
	char *out = NULL, *err = NULL;
	GError *e = NULL;
	int status = -1;

	if (!g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_SEARCH_PATH, NULL,
			  NULL, &out, &err, &status, &e)) {
		g_test_message("%s: %s", argv[0], e->message);
		g_clear_error(&e);
	}
	g_strfreev(env);
	g_free(err);
	if (status != 0) {
		g_free(out);
		return NULL;
	}
	return g_strstrip(out);
}

static void wait_drawn(const char *win);

/* A PNG of the screen into LL_ARTIFACTS_DIR (or its sibling folder
 * sub, when not NULL), once win (may be NULL) has drawn. */
static void screenshot_in(const char *sub, const char *name, const char *win)
{
	const char *base = g_getenv("LL_ARTIFACTS_DIR");
	char *dir, *path;
	char *out;

	if (base == NULL || base[0] == '\0')
		return;
	if (win != NULL)
		wait_drawn(win);
	if (sub != NULL) {
		char *up = g_path_get_dirname(base);

		dir = g_build_filename(up, sub, NULL);
		g_free(up);
	} else {
		dir = g_strdup(base);
	}
	g_mkdir_with_parents(dir, 0755);
	path = g_strdup_printf("%s/%s.png", dir, name);
	g_free(dir);
	out = tool((const char *const[]){ "import", "-window", "root", path,
					  NULL });
	if (out == NULL)
		g_test_message("screenshot %s failed", path);
	else
		g_test_message("screenshot: %s", path);
	g_free(out);
	g_free(path);
}

static void screenshot(const char *name, const char *win)
{
	screenshot_in(NULL, name, win);
}

static void focus_window(const char *win)
{
	char *out = tool((const char *const[]){ "xdotool", "windowfocus",
						"--sync", win, NULL });

	g_free(out);
}

/*
 * Lets ms pass with the main context running: only where time itself is
 * under test (X auto-repeat), with a comment saying so.
 */
static void spin(int ms)
{
	int64_t end = lh_now_ms() + ms;

	WAIT_FOR(lh_now_ms() >= end, ms);
}

/* ---- the technician's side ---- */

struct agent {
	struct ll_session_io *io;
	bool ready;
	bool closed;
	enum ll_session_end why;
	int n_grant, n_deny, n_revoke;
	uint32_t last_id;
	enum ll_deny_reason deny_reason; /* of the latest deny */
	uint32_t retry_after;
	uint32_t revoke_caps;
	uint32_t grant_caps;
	int n_open;
	bool open_before_grant;
	GByteArray *rfb;
	bool bridge; /* bridge channel 1 to viewer_fd */
	int viewer_fd;
	/* order of arrival, to tell what came before the grant */
	int seq, grant_seq, monitors_seq;
	int n_monitors, n_error;
	struct ll_control_msg *monitors; /* the latest */
	char error_code[64];
	char error_message[1100];
	int user_info_seq; /* 0 until user_info came */
	char user_name[LL_CONTROL_MAX_USER_NAME + 1];
	char user_host[LL_CONTROL_MAX_HOST_NAME + 1];
	int n_chat;
	char chat_text[LL_CONTROL_MAX_CHAT + 1]; /* the latest */
	/* issue 13: the user's clipboard texts and sysinfo answers */
	int n_clip, n_sysinfo;
	char clip_text[LL_CONTROL_MAX_CLIPBOARD + 1];
	struct ll_control_msg *sysinfo; /* the latest */
	/* files: the agent's own transfer code, and what the applet said
	 * about a transfer the test drives by hand */
	struct ll_xfer_set *xs;
	int n_file_cancel, n_file_accept, n_file_done;
	enum ll_file_cancel_reason cancel_reason;
	uint64_t accept_offset;
	uint16_t accept_channel;
};

static void ag_ready(struct ll_session_io *io, void *user)
{
	((struct agent *)user)->ready = true;
}

static void ag_control(struct ll_session_io *io,
		       const struct ll_control_msg *m, void *user)
{
	struct agent *ag = user;

	g_test_message("agent got control %s", ll_control_type_name(m->type));
	if (m->type == LL_CONTROL_FILE_CANCEL) {
		ag->n_file_cancel++;
		ag->cancel_reason = m->u.file_cancel.reason;
	} else if (m->type == LL_CONTROL_FILE_ACCEPT) {
		ag->n_file_accept++;
		ag->accept_offset = m->u.file_accept.offset;
		ag->accept_channel = m->u.file_accept.channel;
	} else if (m->type == LL_CONTROL_FILE_DONE) {
		ag->n_file_done++;
	}
	if (ag->xs != NULL && ll_xfer_set_control(ag->xs, m))
		return;
	if (m->type == LL_CONTROL_GRANT) {
		ag->n_grant++;
		ag->last_id = m->u.grant.id;
		ag->grant_caps = m->u.grant.caps;
	} else if (m->type == LL_CONTROL_DENY) {
		ag->n_deny++;
		ag->last_id = m->u.deny.id;
		ag->deny_reason = m->u.deny.reason;
		ag->retry_after = m->u.deny.retry_after;
		g_test_message("deny %u: %s, retry after %u s", m->u.deny.id,
			       ll_deny_reason_name(m->u.deny.reason),
			       m->u.deny.retry_after);
	} else if (m->type == LL_CONTROL_REVOKE) {
		ag->n_revoke++;
		ag->revoke_caps = m->u.revoke.caps;
	} else if (m->type == LL_CONTROL_MONITORS) {
		struct ll_buf *b = ll_buf_new(LL_CONTROL_MAX_MSG);

		/* A copy through the wire format: the callback's is
		 * borrowed. */
		ag->n_monitors++;
		ag->monitors_seq = ++ag->seq;
		ll_control_msg_free(ag->monitors);
		ag->monitors = NULL;
		g_assert_cmpint(ll_control_serialize(m, b), ==, 0);
		g_assert_cmpint(ll_control_parse(ll_buf_data(b), ll_buf_len(b),
						 &ag->monitors, NULL, 0),
				==, 0);
		ll_buf_free(b);
		g_test_message("monitors: %zu, current %s", m->u.monitors.n,
			       m->u.monitors.current);
	} else if (m->type == LL_CONTROL_CLIPBOARD) {
		ag->n_clip++;
		g_strlcpy(ag->clip_text, m->u.clipboard.text,
			  sizeof(ag->clip_text));
	} else if (m->type == LL_CONTROL_SYSINFO) {
		struct ll_buf *b = ll_buf_new(LL_CONTROL_MAX_MSG);

		ag->n_sysinfo++;
		ll_control_msg_free(ag->sysinfo);
		ag->sysinfo = NULL;
		g_assert_cmpint(ll_control_serialize(m, b), ==, 0);
		g_assert_cmpint(ll_control_parse(ll_buf_data(b), ll_buf_len(b),
						 &ag->sysinfo, NULL, 0),
				==, 0);
		ll_buf_free(b);
	} else if (m->type == LL_CONTROL_USER_INFO) {
		ag->user_info_seq = ++ag->seq;
		g_strlcpy(ag->user_name, m->u.user_info.name,
			  sizeof(ag->user_name));
		g_strlcpy(ag->user_host, m->u.user_info.host,
			  sizeof(ag->user_host));
	} else if (m->type == LL_CONTROL_CHAT) {
		ag->n_chat++;
		g_strlcpy(ag->chat_text, m->u.chat.text,
			  sizeof(ag->chat_text));
	} else if (m->type == LL_CONTROL_ERROR) {
		ag->n_error++;
		g_strlcpy(ag->error_code, m->u.error.code,
			  sizeof(ag->error_code));
		g_strlcpy(ag->error_message, m->u.error.message,
			  sizeof(ag->error_message));
		g_test_message("error %s: %s", m->u.error.code,
			       m->u.error.message);
	}
	if (m->type == LL_CONTROL_GRANT)
		ag->grant_seq = ++ag->seq;
}

static void ag_open(struct ll_session_io *io, uint16_t ch, void *user)
{
	struct agent *ag = user;

	g_test_message("agent: the applet opened channel %u", ch);
	if (ag->xs != NULL && ll_xfer_set_channel_open(ag->xs, ch))
		return;
	ag->n_open++;
	if (ag->n_grant == 0)
		ag->open_before_grant = true;
	if (ch == LL_MUX_CHANNEL_RFB && ag->bridge) {
		int sv[2];

		g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
					   0, sv),
				==, 0);
		g_assert_cmpint(ll_session_io_bridge(io, ch, sv[0]), ==, 0);
		ag->viewer_fd = sv[1];
	}
}

/* Reads from the bridged RFB channel while the pump runs. */
static bool viewer_read(struct agent *ag, void *buf, size_t len,
			int timeout_ms)
{
	int64_t end = lh_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = ag->viewer_fd, .events = POLLIN };
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0 && lh_now_ms() < end) {
		if (poll(&pfd, 1, 0) == 1) {
			n = read(ag->viewer_fd, p, len);
			if (n <= 0)
				return false;
			p += n;
			len -= (size_t)n;
		} else {
			/* the bridge writes from the main context */
			lt_iterate(WAIT_TICK_MS);
		}
	}
	return len == 0;
}

static void viewer_write(struct agent *ag, const void *buf, size_t len)
{
	g_assert_cmpint(write(ag->viewer_fd, buf, len), ==, (ssize_t)len);
}

static void ag_data(struct ll_session_io *io, uint16_t ch, const uint8_t *data,
		    size_t len, void *user)
{
	struct agent *ag = user;

	if (ag->xs != NULL && ll_xfer_set_channel_data(ag->xs, ch, data, len))
		return;
	if (ch == LL_MUX_CHANNEL_RFB && ag->rfb->len < 65536)
		g_byte_array_append(ag->rfb, data, (guint)len);
}

static void ag_closed(struct ll_session_io *io, enum ll_session_end why,
		      int err, const char *reason, void *user)
{
	struct agent *ag = user;

	g_test_message("agent: session closed (%s: %s)",
		       ll_session_end_name(why), reason);
	ag->closed = true;
	ag->why = why;
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
	ag->rfb = g_byte_array_new();
	ag->viewer_fd = -1;
	ag->io = tech_session_open(relay, ticket, &cbs, ag);
}

static void agent_send_hello_and_request(struct agent *ag, uint32_t caps)
{
	tech_hello_request(ag->io, "someone claiming to be your bank", caps);
}

/* The technician asks (again) for caps. */
static void agent_request(struct agent *ag, uint32_t id, uint32_t caps)
{
	struct ll_control_msg req = { .type = LL_CONTROL_REQUEST };

	req.u.request.id = id;
	req.u.request.caps = caps;
	g_assert_cmpint(ll_session_io_send_control(ag->io, &req), ==, 0);
}

static void agent_free(struct agent *ag)
{
	ll_xfer_set_free(ag->xs);
	if (ag->viewer_fd >= 0)
		close(ag->viewer_fd);
	ll_session_io_free(ag->io);
	g_byte_array_unref(ag->rfb);
	ll_control_msg_free(ag->monitors);
	ll_control_msg_free(ag->sysinfo);
}

/* ---- the applet ---- */

static void applet_start_args(struct applet *ap, const char *pin,
			      const char *tag, const char *extra);

static void applet_start(struct applet *ap, const char *pin, const char *tag)
{
	applet_start_args(ap, pin, tag, NULL);
}

/* With one more option (extra, may be NULL) after the usual ones. */
static void applet_start_args(struct applet *ap, const char *pin,
			      const char *tag, const char *extra)
{
	char **env = tool_env();
	char *log = g_strdup_printf("%s/applet-%s.log", lh_tmpdir(), tag);
	const char *const args[] = { pin != NULL ? "--pin" : extra,
				     pin != NULL ? pin : NULL,
				     pin != NULL ? extra : NULL, NULL };

	if (applet_home != NULL) {
		/* GTK's own files (recently used, caches) beside it, so the
		 * folder holds only what the applet saved */
		char *x = g_strconcat(applet_home, ".xdg", NULL);

		env = g_environ_setenv(env, "HOME", applet_home, TRUE);
		env = g_environ_setenv(env, "XDG_CONFIG_HOME", x, TRUE);
		env = g_environ_setenv(env, "XDG_DATA_HOME", x, TRUE);
		env = g_environ_setenv(env, "XDG_CACHE_HOME", x, TRUE);
		g_free(x);
	}
	applet_spawn_for(ap, relay, env, log, args);
	g_strfreev(env);
	g_free(log);
}

static void applet_finish(struct applet *ap)
{
	applet_reap(ap);
}

/* How often the applet's log says needle by now. */
static int log_count(struct applet *ap, const char *needle)
{
	char *log = applet_log(ap), *p = log;
	int n = 0;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	g_free(log);
	return n;
}

/* Waits until the applet's log holds `needle` at least `count` times. */
static bool wait_log(struct applet *ap, const char *needle, int count,
		     int timeout_ms)
{
	int64_t end = lh_now_ms() + timeout_ms;

	for (;;) {
		if (log_count(ap, needle) >= count)
			return true;
		if (lh_now_ms() >= end || ap->exited)
			return false;
		lt_iterate(WAIT_TICK_MS);
	}
}

/* The n-th permission window of this applet takes answers now (it is
 * armed a moment after it maps; see applet/consent_dialog.c). */
static void wait_armed(struct applet *ap, int n)
{
	g_assert_true(wait_log(ap, "accepts answers now", n, 10000));
}

/* The id of a mapped window whose title matches name (a regex), once
 * there is one; NULL after timeout_ms or when the applet ap exited. */
static char *wait_window(const char *name, struct applet *ap, int timeout_ms)
{
	char *id = NULL;

	if (!lt_x_wait_window(display, name, false, timeout_ms, applet_gone,
			      ap, &id))
		return NULL;
	return id;
}

/* Until no mapped window's title matches name. */
static bool wait_window_gone(const char *name, int timeout_ms)
{
	return lt_x_wait_window(display, name, true, timeout_ms, NULL, NULL,
				NULL);
}

/* Until the window has stopped drawing: what a screenshot waits for.
 * Best effort: one that keeps drawing is shot as it is. */
static void wait_drawn(const char *win)
{
	if (lt_x_target(display,
			(const char *const[]){ "--drawn", win, "--timeout",
					       "5000", NULL },
			60000, NULL, NULL, NULL) != 0)
		g_test_message("window %s still drawing after 5 s", win);
}

static void key(const char *keys)
{
	char *out = tool((const char *const[]){
		"xdotool", "key", "--clearmodifiers", keys, NULL });

	g_assert_nonnull(out);
	g_free(out);
}

/* What "Session ended" says first after these ends (applet/ended_window.c). */
#define ENDED_TECHNICIAN                                                      \
	"The technician ended the session. Nobody can see your screen now."
#define ENDED_USER "You ended the session. Nobody can see your screen now."

/*
 * The session is over: "PRODUCT – Session ended" maps, says words (the
 * applet logs the text it shows, there being no AT-SPI here), is shot to
 * artifacts/ended/TAG.png, and its Close (Alt+C) ends the applet with
 * exit status want_status.
 */
static void applet_close_ended(struct applet *ap, const char *tag,
			       const char *words, int want_status)
{
	char *win = wait_window("Session ended$", ap, 15000);
	char *line = g_strdup_printf("Session ended\" shown (%s): %s", tag,
				     words);
	char *log;

	g_assert_nonnull(win);
	if (!wait_log(ap, line, 1, 5000)) {
		log = applet_log(ap);
		g_error("the applet's \"Session ended\" window does not say "
			"'%s'; its log:\n%s",
			line, log);
	}
	/* Said once: the window's line and the one for scripts only. */
	log = applet_log(ap);
	g_assert_null(strstr(strstr(log, line) + strlen(line), line));
	g_free(log);
	/* Nothing else of the session is left on the screen. */
	g_assert_true(wait_window_gone("Session$", 5000));
	g_assert_true(wait_window_gone("Permission request", 5000));
	screenshot_in("ended", tag, win);
	/* It waits for the person: not gone before Close. */
	g_assert_false(ap->exited);
	focus_window(win);
	key("alt+c");
	g_assert_true(applet_wait(ap, 10000));
	g_assert_cmpint(ap->status, ==, want_status);
	g_free(line);
	g_free(win);
}

/* The audit shows a consent record with that outcome (polls: the applet
 * reports from a worker thread). */
static bool audit_has(const char *type, const char *what, int timeout_ms)
{
	int64_t end = lh_now_ms() + timeout_ms;
	char *out = NULL;
	bool found = false;

	while (!found && lh_now_ms() < end) {
		g_free(out);
		out = NULL;
		lh_relay_cmd(relay, NULL, &out, NULL, "audit", "export", NULL);
		found = out != NULL && strstr(out, type) != NULL &&
			strstr(out, what) != NULL;
		/* nothing tells when the applet's report is in: look again
		 * (each look runs the relay's CLI) */
		if (!found)
			lt_iterate(100);
	}
	g_free(out);
	return found;
}

/* No socket of the process is in LISTEN state (tcp, tcp6, unix). */
static int count_listening(pid_t pid)
{
	static const char *const tables[] = { "/proc/net/tcp",
					      "/proc/net/tcp6" };
	char *fddir = g_strdup_printf("/proc/%d/fd", (int)pid);
	GHashTable *inodes = g_hash_table_new_full(g_str_hash, g_str_equal,
						   g_free, NULL);
	GDir *d = g_dir_open(fddir, 0, NULL);
	const char *ent;
	char target[128];
	int listening = 0;
	size_t t;

	g_assert_nonnull(d);
	while ((ent = g_dir_read_name(d)) != NULL) {
		char *p = g_strdup_printf("%s/%s", fddir, ent);
		ssize_t n = readlink(p, target, sizeof(target) - 1);

		g_free(p);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (g_str_has_prefix(target, "socket:[")) {
			target[strlen(target) - 1] = '\0';
			g_hash_table_add(inodes, g_strdup(target + 8));
		}
	}
	g_dir_close(d);
	for (t = 0; t < G_N_ELEMENTS(tables); t++) {
		char *text = NULL, **lines, **l;

		if (!g_file_get_contents(tables[t], &text, NULL, NULL))
			continue;
		lines = g_strsplit(text, "\n", -1);
		for (l = lines + 1; *l != NULL; l++) {
			char **f = g_strsplit_set(g_strstrip(*l), " ", -1);
			char *fields[16];
			int k = 0, i;

			for (i = 0; f[i] != NULL && k < 16; i++)
				if (f[i][0] != '\0')
					fields[k++] = f[i];
			/* st == 0A is LISTEN; field 9 is the inode */
			if (k > 9 && strcmp(fields[3], "0A") == 0 &&
			    g_hash_table_contains(inodes, fields[9]))
				listening++;
			g_strfreev(f);
		}
		g_strfreev(lines);
		g_free(text);
	}
	g_hash_table_unref(inodes);
	g_free(fddir);
	return listening;
}

/* ---- tests ---- */

static void test_deny(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *win, *focus, *log, *bar;

	lh_pin_new(relay, token, NULL, &pin);
	applet_start(&ap, pin.pin, "deny");
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	agent_send_hello_and_request(&ag, LL_CAP_VIEW | LL_CAP_CONTROL);

	win = wait_window("Permission request", &ap, 20000);
	g_assert_nonnull(win);
	wait_armed(&ap, 1);
	screenshot("applet-consent-dialog", win);
	/* No display names set yet: plain words, never the login name, the
	 * org's id or what the technician's side claims (its hello). */
	log = applet_log(&ap);
	g_assert_nonnull(strstr(log, "consent: A technician of your support "
				     "team asks for permission to:"));
	g_assert_nonnull(strstr(log, "session bar: Connected to a technician "
				     "of your support team"));
	g_assert_null(strstr(log, "alice"));
	g_assert_null(strstr(log, "default"));
	g_assert_null(strstr(log, "bank"));
	g_free(log);

	/* The dialog has the keyboard focus ... */
	focus = tool(
		(const char *const[]){ "xdotool", "getwindowfocus", NULL });
	g_assert_nonnull(focus);
	g_test_message("consent window %s, focus %s", win, focus);
	g_assert_cmpstr(focus, ==, win);
	g_free(focus);

	/* ... and nothing is answered but by the user. */
	g_assert_cmpint(ag.n_grant + ag.n_deny, ==, 0);

	/* The screen server is made while the dialog is open, its RFB
	 * client on a socketpair that reaches nobody: the deny below must
	 * drop what it holds, unread. */
	g_assert_true(wait_log(&ap, "RFB client ready, held until consent", 1,
			       10000));
	key("alt+d");
	WAIT_FOR(ag.n_deny > 0 || ag.closed, 10000);
	g_assert_cmpint(ag.n_deny, ==, 1);
	g_assert_cmpint(ag.n_grant, ==, 0);
	/* nothing about the user leaves without view */
	g_assert_cmpint(ag.user_info_seq, ==, 0);
	g_assert_cmpuint(ag.last_id, ==, 1);
	/* Nothing of the screen left before the answer: no channel, no RFB
	 * byte.  The applet sends in order on one stream, so whatever it
	 * sent before its deny has been read by now. */
	g_assert_cmpint(ag.n_open, ==, 0);
	g_assert_cmpuint(ag.rfb->len, ==, 0);
	g_assert_true(wait_window_gone("Permission request", 5000));
	bar = wait_window("Session", &ap, 2000);
	g_assert_nonnull(bar);
	screenshot("applet-session-bar-after-deny", bar);
	g_free(bar);
	g_assert_true(audit_has("consent", "denied", 20000));

	/* The technician is told when they may ask again ... */
	g_assert_cmpint(ag.deny_reason, ==, LL_DENY_DECLINED);
	g_assert_cmpuint(ag.retry_after, ==, HOLD_S);
	/* ... and asking again at once is held back: denied without a
	 * dialog, and the technician is told how long to wait. */
	agent_request(&ag, 2, LL_CAP_VIEW);
	WAIT_FOR(ag.n_deny > 1 || ag.closed, 10000);
	g_assert_cmpint(ag.n_deny, ==, 2);
	g_assert_cmpuint(ag.last_id, ==, 2);
	g_assert_cmpint(ag.deny_reason, ==, LL_DENY_HELD_BACK);
	g_assert_cmpuint(ag.retry_after, >=, 1);
	g_assert_cmpuint(ag.retry_after, <=, HOLD_S);
	/* The dialog is made before the answer is sent: there was none. */
	g_assert_cmpint(log_count(&ap, "asks for permission to:"), ==, 1);
	g_assert_true(wait_window_gone("Permission request", 5000));
	g_assert_true(audit_has("consent", "not shown: asked again", 20000));
	/* nor after the first deny (read in order, as above) */
	g_assert_cmpint(ag.n_open, ==, 0);

	/* The technician ends: the applet leaves with status 0. */
	g_assert_cmpint(ll_session_io_end(ag.io, "the technician is done"), ==,
			0);
	applet_close_ended(&ap, "technician", ENDED_TECHNICIAN, 0);
	log = applet_log(&ap);
	g_test_message("applet log:\n%s", log);
	/* the technician's own words go to the log only */
	g_assert_nonnull(strstr(log, "(technician): the technician is done"));
	/* Secrets never in the applet's output. */
	g_assert_null(strstr(log, pin.pin));
	g_assert_null(strstr(log, pin.agent_ticket));
	g_free(log);
	g_free(win);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
}

/*
 * With display names set by the administrator (technician set --name,
 * org set --name), the permission window and the bar name them, with the
 * warning naming the org; login name, org id and the technician side's
 * claim are never shown.  Screenshots in artifacts/names/.
 */
static void test_display_names(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *win, *log, *bar;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "technician",
				     "set", "alice", "--name", "Alice Smith",
				     NULL),
			==, 0);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "org", "set",
				     "default", "--name", "Example Corp IT",
				     NULL),
			==, 0);
	lh_pin_new(relay, token, NULL, &pin);
	applet_start(&ap, pin.pin, "names");
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	agent_send_hello_and_request(&ag, LL_CAP_VIEW | LL_CAP_CONTROL);

	win = wait_window("Permission request", &ap, 20000);
	g_assert_nonnull(win);
	wait_armed(&ap, 1);
	screenshot_in("names", "applet-consent-display-names", win);
	log = applet_log(&ap);
	g_test_message("applet log:\n%s", log);
	g_assert_nonnull(strstr(log, "consent: Alice Smith of Example Corp IT "
				     "asks for permission to:"));
	g_assert_nonnull(strstr(log, "session bar: Connected to Alice Smith "
				     "of Example Corp IT"));
	g_assert_null(strstr(log, "alice"));
	g_assert_null(strstr(log, "default"));
	g_assert_null(strstr(log, "bank"));
	g_free(log);

	key("alt+d");
	WAIT_FOR(ag.n_deny > 0 || ag.closed, 10000);
	g_assert_cmpint(ag.n_deny, ==, 1);
	g_assert_true(wait_window_gone("Permission request", 5000));
	bar = wait_window("Session", &ap, 2000);
	g_assert_nonnull(bar);
	screenshot_in("names", "applet-session-bar-display-names", bar);
	g_free(bar);

	g_assert_cmpint(ll_session_io_end(ag.io, "the technician is done"), ==,
			0);
	applet_close_ended(&ap, "technician", ENDED_TECHNICIAN, 0);
	/* What to do next names the org by its display name too. */
	log = applet_log(&ap);
	g_assert_nonnull(strstr(log, "contact Example Corp IT again"));
	g_free(log);
	g_free(win);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
}

static void test_allow(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *win, *log;
	pid_t pid;

	lh_pin_new(relay, token, NULL, &pin);
	applet_start(&ap, pin.pin, "allow");
	pid = atoi(g_subprocess_get_identifier(ap.proc));
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	agent_send_hello_and_request(&ag, LL_CAP_VIEW | LL_CAP_CONTROL);
	win = wait_window("Permission request", &ap, 20000);
	g_assert_nonnull(win);
	wait_armed(&ap, 1);
	g_assert_cmpint(ag.n_open, ==, 0);

	ag.bridge = true;
	key("alt+a");
	WAIT_FOR((ag.n_grant > 0 && ag.viewer_fd >= 0) || ag.closed, 15000);
	g_assert_cmpint(ag.n_grant, ==, 1);
	g_assert_cmpuint(ag.grant_caps, ==, LL_CAP_VIEW | LL_CAP_CONTROL);
	g_assert_false(ag.open_before_grant);
	g_assert_cmpint(ag.n_open, ==, 1);
	/* who sits here, only after the grant, and the bar says so */
	WAIT_FOR(ag.user_info_seq > 0 || ag.closed, 10000);
	g_assert_cmpint(ag.user_info_seq, >, ag.grant_seq);
	g_assert_cmpstr(ag.user_host, ==, g_get_host_name());
	g_assert_cmpstr(ag.user_name, !=, "");
	g_assert_true(wait_log(&ap,
			       "told the technician who: You gave "
			       "permission. The technician also sees "
			       "your name (",
			       1, 5000));

	/* RFB 3.8 through the relay: no authentication inside the tunnel,
	 * the screen's real size, real pixels from the X11 capture. */
	{
		uint8_t b[64], n, *px;
		uint32_t i, lit = 0, nrects, r, area, total = 0;

		g_assert_true(viewer_read(&ag, b, 12, 10000));
		g_assert_cmpmem(b, 12, "RFB 003.008\n", 12);
		viewer_write(&ag, "RFB 003.008\n", 12);
		g_assert_true(viewer_read(&ag, &n, 1, 5000));
		g_assert_cmpuint(n, ==, 1);
		g_assert_true(viewer_read(&ag, b, 1, 5000));
		g_assert_cmpuint(b[0], ==, 1); /* None */
		viewer_write(&ag, "\x01", 1);
		g_assert_true(viewer_read(&ag, b, 4, 5000));
		g_assert_cmpuint(b[3], ==, 0);
		viewer_write(&ag, "\x01", 1); /* shared */
		g_assert_true(viewer_read(&ag, b, 24, 5000));
		g_assert_cmpuint(b[0] << 8 | b[1], ==, 1024);
		g_assert_cmpuint(b[2] << 8 | b[3], ==, 768);
		g_assert_cmpuint(b[23], <, 40);
		g_assert_true(viewer_read(&ag, b + 24, b[23], 5000));
		/* 32x32 at the top right: the session bar is there. */
		viewer_write(&ag, "\x03\x00\x03\xc0\x00\x20\x00\x20\x00\x20",
			     10);
		g_assert_true(viewer_read(&ag, b, 4, 10000));
		g_assert_cmpuint(b[0], ==, 0);
		nrects = b[2] << 8 | b[3];
		g_assert_cmpuint(nrects, >=, 1);
		for (r = 0; r < nrects; r++) {
			g_assert_true(viewer_read(&ag, b, 12, 5000));
			g_assert_cmpuint(b[8] | b[9] | b[10] | b[11], ==, 0);
			area = (uint32_t)(b[4] << 8 | b[5]) *
			       (b[6] << 8 | b[7]);
			/* The cursor's rectangle may come along (drawn into
			 * the frame for viewers without cursor updates). */
			g_assert_cmpuint(area, <=, 1024 * 768);
			px = g_malloc((size_t)area * 4 + 1);
			g_assert_true(
				viewer_read(&ag, px, (size_t)area * 4, 10000));
			for (i = 0; i < area; i++)
				if (px[4 * i] > 0x80 && px[4 * i + 1] > 0x80)
					lit++;
			total += area;
			g_free(px);
		}
		g_assert_cmpuint(total, >=, 32 * 32);
		g_test_message("%u of 1024 pixels of the bar are light", lit);
		g_assert_cmpuint(lit, >, 512);
	}
	g_assert_true(audit_has("consent", "allowed", 20000));
	g_assert_cmpint(count_listening(pid), ==, 0);

	/* Stop control (Alt+S on the session bar): revoked at once. */
	g_free(win);
	win = wait_window("Session", &ap, 2000);
	g_assert_nonnull(win);
	screenshot("applet-session-bar-viewing", win);
	focus_window(win);
	key("alt+s");
	WAIT_FOR(ag.n_revoke > 0 || ag.closed, 10000);
	g_assert_cmpint(ag.n_revoke, ==, 1);
	g_assert_cmpuint(ag.revoke_caps, ==, LL_CAP_CONTROL);
	g_assert_true(audit_has("revoke", "stopped by the user", 20000));

	/* The user ends with Alt+E on the session bar. */
	focus_window(win);
	key("alt+e");
	applet_close_ended(&ap, "user", ENDED_USER, 0);
	log = applet_log(&ap);
	g_test_message("applet log:\n%s", log);
	WAIT_FOR(ag.closed, 5000);
	g_assert_true(ag.closed);
	g_assert_true(audit_has("ended", "the user ended the session", 20000));
	g_free(log);
	g_free(win);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
}

/* ---- monitors ---- */

static void agent_select(struct agent *ag, const char *name)
{
	struct ll_control_msg m = { .type = LL_CONTROL_SELECT_MONITOR };

	m.u.select_monitor.name = (char *)name;
	g_assert_cmpint(ll_session_io_send_control(ag->io, &m), ==, 0);
}

static const struct ll_control_monitor *agent_monitor(const struct agent *ag,
						      const char *name)
{
	size_t i;

	for (i = 0; ag->monitors != NULL && i < ag->monitors->u.monitors.n;
	     i++)
		if (strcmp(ag->monitors->u.monitors.list[i].name, name) == 0)
			return &ag->monitors->u.monitors.list[i];
	return NULL;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void fb_request(struct agent *ag, bool incremental, uint16_t x,
		       uint16_t y, uint16_t w, uint16_t h)
{
	uint8_t m[10] = { 3, incremental };

	put16(m + 2, x);
	put16(m + 4, y);
	put16(m + 6, w);
	put16(m + 8, h);
	viewer_write(ag, m, sizeof(m));
}

/*
 * Reads one FramebufferUpdate (raw pixels skipped, 32 bpp): true if it
 * carries a DesktopSize rectangle (*w, *h set).  Every raw rectangle
 * must lie inside the size in force: *w x *h.
 */
static bool read_update(struct agent *ag, uint16_t *w, uint16_t *h)
{
	uint8_t b[12], *px;
	uint32_t nrects, r, rx, ry, rw, rh;
	int32_t enc;
	bool resized = false;

	g_assert_true(viewer_read(ag, b, 4, 10000));
	g_assert_cmpuint(b[0], ==, 0); /* FramebufferUpdate only */
	nrects = b[2] << 8 | b[3];
	for (r = 0; r < nrects; r++) {
		g_assert_true(viewer_read(ag, b, 12, 5000));
		rx = b[0] << 8 | b[1];
		ry = b[2] << 8 | b[3];
		rw = b[4] << 8 | b[5];
		rh = b[6] << 8 | b[7];
		enc = (int32_t)((uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 |
				(uint32_t)b[10] << 8 | b[11]);
		if (enc == -223) { /* DesktopSize */
			*w = (uint16_t)rw;
			*h = (uint16_t)rh;
			resized = true;
			continue;
		}
		g_assert_cmpint(enc, ==, 0); /* raw */
		g_assert_cmpuint(rx + rw, <=, *w);
		g_assert_cmpuint(ry + rh, <=, *h);
		px = g_malloc((size_t)rw * rh * 4 + 1);
		g_assert_true(viewer_read(ag, px, (size_t)rw * rh * 4, 10000));
		g_free(px);
	}
	return resized;
}

/* Reads FramebufferUpdates until one carries a DesktopSize rectangle;
 * false when timeout_ms passed first. */
static bool read_until_resize(struct agent *ag, uint16_t *w, uint16_t *h,
			      int timeout_ms)
{
	int64_t end = lh_now_ms() + timeout_ms;

	while (lh_now_ms() < end)
		if (read_update(ag, w, h))
			return true;
	return false;
}

static void test_monitors(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	const struct ll_control_monitor *all, *mon2;
	Display *dpy = XOpenDisplay(display);
	Atom name;
	XRRMonitorInfo *vm;
	uint8_t b[64], n;
	uint16_t w, h;
	char *win, *log;
	int before;

	/* A second monitor on the right half, as `xrandr --setmonitor
	 * LL-MON2 400/100x300/75+600+100 none` (tests/e2e). */
	g_assert_nonnull(dpy);
	name = XInternAtom(dpy, "LL-MON2", False);
	vm = XRRAllocateMonitor(dpy, 0);
	vm->name = name;
	vm->x = 600;
	vm->y = 100;
	vm->width = 400;
	vm->height = 300;
	vm->mwidth = 100;
	vm->mheight = 75;
	XRRSetMonitor(dpy, DefaultRootWindow(dpy), vm);
	XRRFreeMonitors(vm);
	XSync(dpy, False);

	lh_pin_new(relay, token, NULL, &pin);
	applet_start(&ap, pin.pin, "monitors");
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);

	/* Before any consent: refused without a word about the screen. */
	agent_select(&ag, "LL-MON2");
	WAIT_FOR(ag.n_error > 0 || ag.closed, 10000);
	g_assert_cmpint(ag.n_error, ==, 1);
	g_assert_cmpstr(ag.error_code, ==, "not_granted");
	g_assert_null(strstr(ag.error_message, "LL-MON2"));

	agent_send_hello_and_request(&ag, LL_CAP_VIEW);
	win = wait_window("Permission request", &ap, 20000);
	g_assert_nonnull(win);
	agent_select(&ag, "all");
	WAIT_FOR(ag.n_error > 1 || ag.closed, 10000);
	g_assert_cmpstr(ag.error_code, ==, "not_granted");
	/* Whatever the applet sent before this refusal is in (one stream,
	 * in order); that nothing comes later before the grant is checked
	 * with the grant below. */
	g_assert_cmpint(ag.n_monitors, ==, 0);
	g_assert_cmpint(ag.n_open, ==, 0);

	ag.bridge = true;
	wait_armed(&ap, 1);
	key("alt+a");
	WAIT_FOR((ag.n_monitors > 0 && ag.viewer_fd >= 0) || ag.closed, 15000);
	g_assert_cmpint(ag.n_grant, ==, 1);
	g_assert_cmpint(ag.n_monitors, ==, 1);
	/* The list came after the grant, never before. */
	g_assert_cmpint(ag.monitors_seq, >, ag.grant_seq);
	g_assert_cmpstr(ag.monitors->u.monitors.current, ==, "all");
	g_assert_cmpstr(ag.monitors->u.monitors.list[0].name, ==, "all");
	all = agent_monitor(&ag, "all");
	g_assert_cmpuint(all->width, ==, 1024);
	g_assert_cmpuint(all->height, ==, 768);
	mon2 = agent_monitor(&ag, "LL-MON2");
	g_assert_nonnull(mon2);
	g_assert_cmpint(mon2->x, ==, 600);
	g_assert_cmpint(mon2->y, ==, 100);
	g_assert_cmpuint(mon2->width, ==, 400);
	g_assert_cmpuint(mon2->height, ==, 300);
	/* Xvfb's own screen is listed too. */
	g_assert_cmpuint(ag.monitors->u.monitors.n, >=, 3);

	/* An RFB viewer that follows size changes (DesktopSize). */
	g_assert_true(viewer_read(&ag, b, 12, 10000));
	g_assert_cmpmem(b, 12, "RFB 003.008\n", 12);
	viewer_write(&ag, "RFB 003.008\n", 12);
	g_assert_true(viewer_read(&ag, &n, 1, 5000));
	g_assert_true(viewer_read(&ag, b, n, 5000));
	viewer_write(&ag, "\x01", 1);
	g_assert_true(viewer_read(&ag, b, 4, 5000));
	g_assert_cmpuint(b[3], ==, 0);
	viewer_write(&ag, "\x01", 1);
	g_assert_true(viewer_read(&ag, b, 24, 5000));
	w = (uint16_t)(b[0] << 8 | b[1]);
	h = (uint16_t)(b[2] << 8 | b[3]);
	g_assert_cmpuint(w, ==, 1024);
	g_assert_cmpuint(h, ==, 768);
	g_assert_cmpuint(b[4], ==, 32);
	g_assert_true(viewer_read(&ag, b + 24, b[23], 5000));
	/* SetEncodings: raw, DesktopSize (-223). */
	viewer_write(&ag, "\x02\x00\x00\x02\x00\x00\x00\x00\xff\xff\xff\x21",
		     12);
	/* The answer to a full request: pixels, no change of size. */
	fb_request(&ag, false, 0, 0, 32, 32);
	g_assert_false(read_update(&ag, &w, &h));

	/* Switch: the answer names it, the framebuffer follows. */
	before = ag.n_monitors;
	agent_select(&ag, "LL-MON2");
	WAIT_FOR(ag.n_monitors > before || ag.n_error > 2 || ag.closed, 10000);
	g_assert_cmpint(ag.n_monitors, ==, before + 1);
	g_assert_cmpstr(ag.monitors->u.monitors.current, ==, "LL-MON2");
	fb_request(&ag, true, 0, 0, 32, 32);
	g_assert_true(read_until_resize(&ag, &w, &h, 10000));
	g_assert_cmpuint(w, ==, 400);
	g_assert_cmpuint(h, ==, 300);
	fb_request(&ag, false, 0, 0, 400, 300);
	g_assert_false(read_update(&ag, &w, &h));
	g_free(win);
	win = wait_window("Session", &ap, 2000);
	g_assert_nonnull(win);
	screenshot("applet-session-bar-monitor", win);

	/* An unknown name: a clear error, nothing changes, the session
	 * goes on. */
	before = ag.n_monitors;
	agent_select(&ag, "no-such-monitor");
	WAIT_FOR(ag.n_error > 2 || ag.closed, 10000);
	g_assert_cmpint(ag.n_error, ==, 3);
	g_assert_cmpstr(ag.error_code, ==, "unknown_monitor");
	g_assert_nonnull(strstr(ag.error_message, "no-such-monitor"));
	g_assert_nonnull(strstr(ag.error_message, "LL-MON2"));
	g_assert_cmpint(ag.n_monitors, ==, before);
	g_assert_false(ag.closed);
	g_assert_false(ap.exited);

	/* Back to the whole desktop. */
	agent_select(&ag, "all");
	WAIT_FOR(ag.n_monitors > before || ag.closed, 10000);
	g_assert_cmpstr(ag.monitors->u.monitors.current, ==, "all");
	fb_request(&ag, true, 0, 0, 32, 32);
	g_assert_true(read_until_resize(&ag, &w, &h, 10000));
	g_assert_cmpuint(w, ==, 1024);
	g_assert_cmpuint(h, ==, 768);

	g_assert_cmpint(ll_session_io_end(ag.io, "the technician is done"), ==,
			0);
	applet_close_ended(&ap, "technician", ENDED_TECHNICIAN, 0);
	log = applet_log(&ap);
	g_test_message("applet log:\n%s", log);
	g_free(log);
	g_free(win);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
	XRRDeleteMonitor(dpy, DefaultRootWindow(dpy), name);
	XCloseDisplay(dpy);
}

/* ---- Stop control, then End session, with input in flight ---- */

/* RFB 3.8 as a viewer up to ServerInit (bridged channel 1). */
static void viewer_handshake(struct agent *ag)
{
	uint8_t b[64], n;

	g_assert_true(viewer_read(ag, b, 12, 10000));
	g_assert_cmpmem(b, 12, "RFB 003.008\n", 12);
	viewer_write(ag, "RFB 003.008\n", 12);
	g_assert_true(viewer_read(ag, &n, 1, 5000));
	g_assert_cmpuint(n, >=, 1);
	g_assert_true(viewer_read(ag, b, n, 5000));
	viewer_write(ag, "\x01", 1);
	g_assert_true(viewer_read(ag, b, 4, 5000));
	g_assert_cmpuint(b[3], ==, 0);
	viewer_write(ag, "\x01", 1);
	g_assert_true(viewer_read(ag, b, 24, 5000));
	g_assert_cmpuint(b[23], <, 40);
	g_assert_true(viewer_read(ag, b + 24, b[23], 5000));
}

struct flood {
	int fd;
	atomic_bool stop;
	atomic_uint sent; /* rounds of input */
};

/* Best effort: the applet may go away at any moment. */
static bool flood_send(struct flood *f, const void *buf, size_t len)
{
	struct pollfd pfd = { .fd = f->fd, .events = POLLOUT };
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0 && !atomic_load(&f->stop)) {
		if (poll(&pfd, 1, 50) != 1)
			continue;
		if (pfd.revents & (POLLERR | POLLHUP))
			return false;
		n = send(f->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return len == 0;
}

/*
 * The technician's side of RFB, as fast as it goes: incremental update
 * requests, pointer motion with clicks and wheel, and keys whose keysyms
 * the keyboard map lacks (the platform binds spare keycodes for them, and
 * gives them back when it closes), while everything the applet sends is
 * read and dropped.
 */
static gpointer flood_thread(gpointer data)
{
	/* raw, CopyRect, RichCursor, XCursor, PointerPos, DesktopSize */
	static const uint8_t enc[] = { 2,    0,    0,    6,    0,    0,
				       0,    0,    0,    0,    0,    1,
				       0xff, 0xff, 0xff, 0x11, 0xff, 0xff,
				       0xff, 0x10, 0xff, 0xff, 0xff, 0x18,
				       0xff, 0xff, 0xff, 0x21 };
	/* none needs Shift: that would spoil the user's Alt+S */
	static const uint32_t syms[] = { 0x61,   0xe9,       0x7e1,
					 0x20ac, 0x0100263a, 0x01000416 };
	struct flood *f = data;
	uint8_t m[10], sink[65536];
	uint32_t i = 0, sym;
	uint16_t x, y;

	if (!flood_send(f, enc, sizeof(enc)))
		return NULL;
	while (!atomic_load(&f->stop)) {
		/* drain what came */
		while (recv(f->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
		/* an incremental request for the whole screen */
		m[0] = 3;
		m[1] = i > 0;
		put16(m + 2, 0);
		put16(m + 4, 0);
		put16(m + 6, 1024);
		put16(m + 8, 768);
		if (!flood_send(f, m, 10))
			break;
		/* pointer: away from the session bar (top right) */
		x = (uint16_t)(100 + (i * 37) % 300);
		y = (uint16_t)(300 + (i * 53) % 300);
		m[0] = 5;
		m[1] = (uint8_t)((i % 3 == 0) ? 1 : (i % 7 == 0) ? 8 : 0);
		put16(m + 2, x);
		put16(m + 4, y);
		if (!flood_send(f, m, 6))
			break;
		/* a key down or up */
		sym = syms[(i / 2) % G_N_ELEMENTS(syms)];
		m[0] = 4;
		m[1] = (i % 2) == 0;
		m[2] = m[3] = 0;
		m[4] = (uint8_t)(sym >> 24);
		m[5] = (uint8_t)(sym >> 16);
		m[6] = (uint8_t)(sym >> 8);
		m[7] = (uint8_t)sym;
		if (!flood_send(f, m, 8))
			break;
		atomic_fetch_add(&f->sent, 1);
		i++;
		/* Time itself is under test: the technician's pace, about
		 * 500 rounds a second, for the revoke and the teardown to
		 * race against (as fast as the socket takes would flood
		 * the shared X server with keymap changes instead). */
		g_usleep(2000);
	}
	return NULL;
}

/*
 * Stop control and End session on the bar while the technician's input
 * keeps coming, many times: the revoke and the teardown race the RFB
 * thread injecting input and sending frames.  Every run must end with
 * status 0 and nothing from a sanitizer or malloc in the log (run the
 * suite from an -Db_sanitize=address build to catch more).
 * LL_APPLET_STRESS sets the number of runs.
 */
static void test_stop_end_stress(void)
{
	const char *env = g_getenv("LL_APPLET_STRESS");
	int runs = env != NULL ? atoi(env) : 8, i;

	for (i = 0; i < runs; i++) {
		struct lh_pin pin = { 0 };
		struct agent ag;
		struct applet ap;
		struct flood f;
		GThread *t;
		char *win, *log;
		unsigned rounds;

		lh_pin_new(relay, token, NULL, &pin);
		applet_start(&ap, pin.pin, "stress");
		agent_connect(&ag, pin.agent_ticket);
		WAIT_FOR(ag.ready || ag.closed, 20000);
		g_assert_true(ag.ready);
		agent_send_hello_and_request(&ag,
					     LL_CAP_VIEW | LL_CAP_CONTROL);
		win = wait_window("Permission request", &ap, 20000);
		g_assert_nonnull(win);
		wait_armed(&ap, 1);
		ag.bridge = true;
		key("alt+a");
		WAIT_FOR((ag.n_grant > 0 && ag.viewer_fd >= 0) || ag.closed,
			 15000);
		g_assert_cmpint(ag.n_grant, ==, 1);
		viewer_handshake(&ag);

		memset(&f, 0, sizeof(f));
		f.fd = ag.viewer_fd;
		t = g_thread_new("flood", flood_thread, &f);
		/* Stop control with input in flight: after some rounds */
		rounds = 100u + 25u * (unsigned)(i % 5);
		WAIT_FOR(atomic_load(&f.sent) >= rounds || ap.exited, 10000);
		g_assert_cmpuint(atomic_load(&f.sent), >=, rounds);
		g_free(win);
		win = wait_window("Session", &ap, 5000);
		g_assert_nonnull(win);
		focus_window(win);
		key("alt+s");
		WAIT_FOR(ag.n_revoke > 0 || ag.closed || ap.exited, 5000);
		g_assert_cmpint(ag.n_revoke, ==, 1);
		/* End right after Stop control, at varying distances:
		 * 0 to 30 more rounds of input */
		{
			unsigned at = atomic_load(&f.sent) + 10u * (i % 4);

			WAIT_FOR(atomic_load(&f.sent) >= at || ap.exited,
				 5000);
		}
		key("alt+e");
		applet_close_ended(&ap, "user", ENDED_USER, 0);
		atomic_store(&f.stop, true);
		g_thread_join(t);
		log = applet_log(&ap);
		if (ap.status != 0 || strstr(log, "Sanitizer") != NULL ||
		    strstr(log, "malloc") != NULL)
			g_error("run %d: the applet ended with status %d after "
				"%u input rounds; its log:\n%s",
				i, ap.status, atomic_load(&f.sent), log);
		g_assert_nonnull(strstr(log, "You ended the session"));
		g_test_message("run %d: %u input rounds, ended cleanly", i,
			       atomic_load(&f.sent));
		g_free(log);
		g_free(win);
		agent_free(&ag);
		applet_finish(&ap);
		lh_pin_clear(&pin);
	}
}

/* ---- the held-key attack (a hostile technician) ---- */

/* A window of the user's (tests/e2e/session/e2e_target.c) that logs every
 * key press and click it receives. */
struct target {
	GSubprocess *proc;
	char *log;
};

static void target_start(struct target *t, int x, int y)
{
	GSubprocessLauncher *l;
	char **env = tool_env();
	char *xs = g_strdup_printf("%d", x), *ys = g_strdup_printf("%d", y);
	GInputStream *out;
	char buf[64];
	gsize got = 0;
	gssize n;
	GError *e = NULL;

	t->log = g_strdup_printf("%s/target-keys.log", lh_tmpdir());
	g_unlink(t->log);
	l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	g_subprocess_launcher_set_environ(l, env);
	t->proc = g_subprocess_launcher_spawn(l, &e, g_getenv("LL_E2E_TARGET"),
					      "--x", xs, "--y", ys, "--log",
					      t->log, NULL);
	g_assert_no_error(e);
	/* "ready 0xWINDOW" once its picture is drawn (blocking read: the
	 * target prints it or dies with the display). */
	out = g_subprocess_get_stdout_pipe(t->proc);
	while (got < sizeof(buf) - 1 && memchr(buf, '\n', got) == NULL) {
		n = g_input_stream_read(out, buf + got, sizeof(buf) - 1 - got,
					NULL, &e);
		g_assert_no_error(e);
		g_assert_cmpint(n, >, 0);
		got += (gsize)n;
	}
	buf[got] = '\0';
	g_assert_nonnull(strstr(buf, "ready 0x"));
	g_object_unref(l);
	g_strfreev(env);
	g_free(xs);
	g_free(ys);
}

/* Key presses the target logged from byte `from` on. */
static int target_keys(struct target *t, size_t from, size_t *len)
{
	char *text = NULL, *p;
	int n = 0;

	g_file_get_contents(t->log, &text, NULL, NULL);
	if (text == NULL)
		text = g_strdup("");
	if (len != NULL)
		*len = strlen(text);
	for (p = strlen(text) >= from ? text + from : text + strlen(text);
	     (p = strstr(p, "key ")) != NULL; p += 4)
		n++;
	g_free(text);
	return n;
}

static bool target_has(struct target *t, size_t from, const char *needle)
{
	char *text = NULL;
	bool found;

	g_file_get_contents(t->log, &text, NULL, NULL);
	found = text != NULL && strlen(text) >= from &&
		strstr(text + from, needle) != NULL;
	g_free(text);
	return found;
}

static void target_stop(struct target *t)
{
	g_subprocess_send_signal(t->proc, SIGTERM);
	g_subprocess_wait(t->proc, NULL, NULL);
	g_object_unref(t->proc);
	g_free(t->log);
}

static void viewer_key(struct agent *ag, bool down, uint32_t sym)
{
	uint8_t m[8] = { 4,
			 down,
			 0,
			 0,
			 (uint8_t)(sym >> 24),
			 (uint8_t)(sym >> 16),
			 (uint8_t)(sym >> 8),
			 (uint8_t)sym };

	viewer_write(ag, m, sizeof(m));
}

/*
 * True once the applet's RFB thread ("ll-rfb") waits in select(): that
 * is libvncserver's read of the rest of a message (our own loop waits in
 * poll()).  The C library's select() is the select or the pselect6 system
 * call, by architecture.
 */
static bool rfb_thread_in_select(pid_t pid)
{
	char *dir = g_strdup_printf("/proc/%d/task", (int)pid);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *tid;
	bool found = false;

	while (d != NULL && !found && (tid = g_dir_read_name(d)) != NULL) {
		char *comm_p = g_strdup_printf("%s/%s/comm", dir, tid);
		char *sys_p = g_strdup_printf("%s/%s/syscall", dir, tid);
		char *comm = NULL, *sys = NULL;

		if (g_file_get_contents(comm_p, &comm, NULL, NULL) &&
		    g_str_has_prefix(comm, "ll-rfb") &&
		    g_file_get_contents(sys_p, &sys, NULL, NULL)) {
			long nr = strtol(sys, NULL, 10);

			found = nr == SYS_pselect6;
#ifdef SYS_select
			found = found || nr == SYS_select;
#endif
		}
		g_free(comm);
		g_free(sys);
		g_free(comm_p);
		g_free(sys_p);
	}
	if (d != NULL)
		g_dir_close(d);
	g_free(dir);
	return found;
}

/* Clicks the bar's Stop control button (right-aligned in the last row,
 * left of End session). */
/* Clicks the middle of the bar's Stop control, where the applet last
 * logged it (session_bar.c: the bar's other buttons come and go). */
static void click_stop_control(struct applet *ap, const char *bar)
{
	char *geo = tool((const char *const[]){ "xdotool", "getwindowgeometry",
						"--shell", bar, NULL });
	int x = -1, y = -1, bx = -1, by = -1, bw = -1, bh = -1;
	char **lines, **l, *px, *py, *text = NULL;
	const char *at, *p;

	g_assert_nonnull(geo);
	lines = g_strsplit(geo, "\n", -1);
	for (l = lines; *l != NULL; l++) {
		sscanf(*l, "X=%d", &x);
		sscanf(*l, "Y=%d", &y);
	}
	g_strfreev(lines);
	g_free(geo);
	g_assert_true(wait_log(ap, "Stop control at ", 1, 5000));
	g_assert_true(g_file_get_contents(ap->log, &text, NULL, NULL));
	for (at = NULL, p = text; (p = strstr(p, "Stop control at ")) != NULL;
	     p++)
		at = p;
	g_assert_nonnull(at);
	g_assert_cmpint(sscanf(at, "Stop control at %d,%d size %dx%d", &bx,
			       &by, &bw, &bh),
			==, 4);
	g_free(text);
	g_assert_cmpint(bw, >, 0);
	px = g_strdup_printf("%d", x + bx + bw / 2);
	py = g_strdup_printf("%d", y + by + bh / 2);
	g_free(tool((const char *const[]){ "xdotool", "mousemove", px, py,
					   "click", "1", NULL }));
	g_free(px);
	g_free(py);
}

/*
 * The attack of docs/ARCHITECTURE.md, "Consent": with control granted the
 * technician holds Alt+A down (X would auto-repeat it), then sends half an
 * RFB message so that libvncserver's thread sits in a blocking read.  The
 * user presses Stop control; the technician asks for control again.  The
 * new permission window must stay unanswered -- only the user answers it
 * -- and no key may reach the user's window after Stop control.
 */
static void test_held_keys_attack(void)
{
	struct lh_pin pin = { 0 };
	struct target tg;
	struct agent ag;
	struct applet ap;
	struct ll_control_msg req = { .type = LL_CONTROL_REQUEST };
	char *win, *bar, *log;
	size_t mark;
	int keys;
	int64_t t0;
	pid_t pid;

	/* The user's own window, focused (a click gives it the focus). */
	target_start(&tg, 40, 300);
	g_free(tool((const char *const[]){ "xdotool", "mousemove", "60", "320",
					   "click", "1", NULL }));

	lh_pin_new(relay, token, NULL, &pin);
	applet_start(&ap, pin.pin, "held-keys");
	pid = atoi(g_subprocess_get_identifier(ap.proc));
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	agent_send_hello_and_request(&ag, LL_CAP_VIEW | LL_CAP_CONTROL);
	win = wait_window("Permission request", &ap, 20000);
	g_assert_nonnull(win);
	wait_armed(&ap, 1);
	ag.bridge = true;
	key("alt+a");
	WAIT_FOR((ag.n_grant > 0 && ag.viewer_fd >= 0) || ag.closed, 15000);
	g_assert_cmpint(ag.n_grant, ==, 1);
	viewer_handshake(&ag);
	/* Back to the user's window, as the user would be. */
	g_free(tool((const char *const[]){ "xdotool", "mousemove", "60", "320",
					   "click", "1", NULL }));

	/* The technician presses Alt and A and never lets go. */
	target_keys(&tg, 0, &mark);
	viewer_key(&ag, true, 0xffe9); /* Alt_L */
	viewer_key(&ag, true, 'a');
	WAIT_FOR(target_keys(&tg, mark, NULL) >= 2, 10000);
	g_assert_cmpint(target_keys(&tg, mark, NULL), >=, 2);
	/* Then two bytes of an 8-byte KeyEvent: libvncserver blocks. */
	viewer_write(&ag, "\x04\x01", 2);
	WAIT_FOR(rfb_thread_in_select(pid), 10000);
	g_assert_true(rfb_thread_in_select(pid));

	/* The user clicks Stop control on the bar (a click: a key of the
	 * user's would end X's auto-repeat of the technician's key). */
	bar = wait_window("Session", &ap, 5000);
	g_assert_nonnull(bar);
	target_keys(&tg, 0, &mark);
	t0 = lh_now_ms();
	click_stop_control(&ap, bar);
	WAIT_FOR(target_has(&tg, mark, "release a ") || ag.closed, 5000);
	g_assert_true(target_has(&tg, mark, "release a "));
	g_test_message("held keys released %" G_GINT64_FORMAT " ms after "
		       "the click on Stop control",
		       lh_now_ms() - t0);
	WAIT_FOR(ag.n_revoke > 0 || ag.closed, 5000);
	g_assert_cmpint(ag.n_revoke, ==, 1);
	{
		char *l = applet_log(&ap),
		     *at = strstr(l, "input released in");

		g_assert_nonnull(at);
		g_test_message("applet: %.*s", (int)strcspn(at, "\n"), at);
		g_free(l);
	}
	target_keys(&tg, 0, &mark);

	/* The technician asks for control again. */
	req.u.request.id = 2;
	req.u.request.caps = LL_CAP_VIEW | LL_CAP_CONTROL;
	g_assert_cmpint(ll_session_io_send_control(ag.io, &req), ==, 0);
	g_free(win);
	win = wait_window("Permission request", &ap, 20000);
	g_assert_nonnull(win);
	/* Armed, or answered by the held keys (the failure this test is
	 * for: then the grant arrives instead). */
	WAIT_FOR(ag.n_grant > 1 || wait_log(&ap, "accepts answers now", 2, 0),
		 10000);
	g_assert_cmpint(ag.n_grant, ==, 1);
	/*
	 * Time itself is under test here: a held key would auto-repeat
	 * (after X's 660 ms delay, 25 times a second) into the armed
	 * window.  Give it two seconds to try.
	 */
	spin(2000);
	screenshot("applet-consent-after-held-keys", win);
	g_assert_cmpint(ag.n_grant, ==, 1);
	g_assert_cmpint(ag.n_deny, ==, 0);
	keys = target_keys(&tg, mark, NULL);
	g_test_message("keys that reached the user's window after Stop "
		       "control: %d",
		       keys);
	g_assert_cmpint(keys, ==, 0);

	/* Only the user answers it. */
	key("alt+d");
	WAIT_FOR(ag.n_deny > 0 || ag.closed, 10000);
	g_assert_cmpint(ag.n_deny, ==, 1);
	g_assert_cmpint(ag.n_grant, ==, 1);
	g_assert_cmpint(target_keys(&tg, mark, NULL), ==, 0);

	g_assert_cmpint(ll_session_io_end(ag.io, "done"), ==, 0);
	applet_close_ended(&ap, "technician", ENDED_TECHNICIAN, 0);
	log = applet_log(&ap);
	g_free(log);
	g_free(bar);
	g_free(win);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
	target_stop(&tg);
}

/*
 * A key the user already holds when the permission window appears --
 * Alt+A, auto-repeating into the window once it has the focus -- never
 * answers it, neither by its repeats nor by its release: only a press and
 * a release that both come after the window is armed do.
 */
static void test_consent_held_key(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *win;

	lh_pin_new(relay, token, NULL, &pin);
	applet_start(&ap, pin.pin, "held-key");
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	g_free(tool((const char *const[]){ "xdotool", "keydown", "alt+a+v",
					   NULL }));
	agent_send_hello_and_request(&ag, LL_CAP_VIEW | LL_CAP_CONTROL);
	win = wait_window("Permission request", &ap, 20000);
	g_assert_nonnull(win);
	wait_armed(&ap, 1);
	/* Time itself is under test: X auto-repeats the held key (after
	 * 660 ms, 25 times a second) into the window that has the focus. */
	spin(1500);
	g_assert_cmpint(ag.n_grant + ag.n_deny, ==, 0);
	g_free(tool((const char *const[]){ "xdotool", "keyup", "v", "a", "alt",
					   NULL }));
	/* The first answer the technician gets is the user's Deny, so the
	 * release above answered nothing. */
	key("alt+d");
	WAIT_FOR(ag.n_deny > 0 || ag.n_grant > 0 || ag.closed, 10000);
	g_assert_cmpint(ag.n_grant, ==, 0);
	g_assert_cmpint(ag.n_deny, ==, 1);
	g_assert_cmpint(ll_session_io_end(ag.io, "done"), ==, 0);
	applet_close_ended(&ap, "technician", ENDED_TECHNICIAN, 0);
	g_free(win);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
}

/* Clicks the Deny button of the permission window win with the mouse, as
 * the user would: Deny is left of Allow, at the bottom right (the layout
 * of applet/consent_dialog.ui with two answers). */
static void click_deny(const char *win)
{
	char *geo = tool((const char *const[]){ "xdotool", "getwindowgeometry",
						"--shell", win, NULL });
	int x = -1, y = -1, w = -1, h = -1;
	char **lines, **l, *px, *py;

	g_assert_nonnull(geo);
	lines = g_strsplit(geo, "\n", -1);
	for (l = lines; *l != NULL; l++) {
		sscanf(*l, "X=%d", &x);
		sscanf(*l, "Y=%d", &y);
		sscanf(*l, "WIDTH=%d", &w);
		sscanf(*l, "HEIGHT=%d", &h);
	}
	g_strfreev(lines);
	g_free(geo);
	g_assert_cmpint(w, >, 300);
	g_test_message("permission window at %d,%d %dx%d", x, y, w, h);
	px = g_strdup_printf("%d", x + w - 158);
	py = g_strdup_printf("%d", y + h - 40);
	g_free(tool((const char *const[]){ "xdotool", "mousemove", px, py,
					   "click", "1", NULL }));
	g_free(px);
	g_free(py);
}

/* The technician asks again for caps: denied without a dialog for the
 * reason why; true when it was (no new dialog was made: the applet makes
 * it before it would answer). */
static void expect_held(struct agent *ag, struct applet *ap, uint32_t id,
			uint32_t caps, enum ll_deny_reason why)
{
	int dialogs = log_count(ap, "asks for permission to:");
	int denies = ag->n_deny;

	agent_request(ag, id, caps);
	WAIT_FOR(ag->n_deny > denies || ag->closed, 10000);
	g_assert_cmpint(ag->n_deny, ==, denies + 1);
	g_assert_cmpuint(ag->last_id, ==, id);
	g_assert_cmpint(ag->deny_reason, ==, why);
	if (why == LL_DENY_HELD_BACK) {
		g_assert_cmpuint(ag->retry_after, >=, 1);
		g_assert_cmpuint(ag->retry_after, <=, TEST_HOLD_S);
	} else {
		g_assert_cmpuint(ag->retry_after, ==, 0);
	}
	g_assert_cmpint(log_count(ap, "asks for permission to:"), ==, dialogs);
	g_assert_true(wait_window_gone("Permission request", 5000));
}

/* The technician asks for caps: the n-th dialog of the applet, armed. */
static char *expect_dialog(struct agent *ag, struct applet *ap, uint32_t id,
			   uint32_t caps, int n)
{
	char *win;

	agent_request(ag, id, caps);
	win = wait_window("Permission request", ap, 20000);
	g_assert_nonnull(win);
	wait_armed(ap, n);
	g_assert_cmpint(log_count(ap, "asks for permission to:"), ==, n);
	return win;
}

/* The user's no, as the technician hears it. */
static void expect_deny(struct agent *ag, int n, enum ll_deny_reason why,
			uint32_t retry)
{
	WAIT_FOR(ag->n_deny >= n || ag->n_grant > 0 || ag->closed, 10000);
	g_assert_cmpint(ag->n_grant, ==, 0);
	g_assert_cmpint(ag->n_deny, ==, n);
	g_assert_cmpint(ag->deny_reason, ==, why);
	g_assert_cmpuint(ag->retry_after, ==, retry);
	g_assert_true(wait_window_gone("Permission request", 5000));
}

/*
 * No pestering (issue 9.5), with the hold-back shortened to TEST_HOLD_S
 * (--test-consent-hold, test builds only): a refused capability asked
 * again at once is denied without a dialog ("held_back", with the
 * seconds left); once the hold-back is over it is asked again; after
 * three refusals ("no_more") it is never shown again in this session,
 * however long the technician waits, while another capability still is.
 * Every way of refusing counts: Enter (on the focused Deny; an Enter
 * typed before the window took answers refuses nothing), a click on
 * Deny, Alt+D.
 */
static void test_no_pestering(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *win,
		*arg = g_strdup_printf("--test-consent-hold=%d", TEST_HOLD_S);

	lh_pin_new(relay, token, NULL, &pin);
	applet_start_args(&ap, pin.pin, "no-pestering", arg);
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	agent_send_hello_and_request(&ag, LL_CAP_VIEW);
	win = wait_window("Permission request", &ap, 20000);
	g_assert_nonnull(win);
	/* Enter at once, before the window takes answers (it arms 1 s
	 * after it maps): dropped, nothing is answered. */
	key("Return");
	wait_armed(&ap, 1);
	g_assert_cmpint(ag.n_grant + ag.n_deny, ==, 0);
	/* Enter now: on Deny, where the focus is.  Refusal 1. */
	key("Return");
	expect_deny(&ag, 1, LL_DENY_DECLINED, TEST_HOLD_S);
	g_free(win);

	expect_held(&ag, &ap, 2, LL_CAP_VIEW, LL_DENY_HELD_BACK);
	g_assert_true(audit_has("consent", "not shown: asked again", 20000));

	/* Time itself is under test: the hold-back ends. */
	spin(TEST_HOLD_S * 1000 + 100);
	win = expect_dialog(&ag, &ap, 3, LL_CAP_VIEW, 2);
	click_deny(win); /* refusal 2 */
	expect_deny(&ag, 3, LL_DENY_DECLINED, TEST_HOLD_S);
	g_free(win);

	spin(TEST_HOLD_S * 1000 + 100); /* as above */
	win = expect_dialog(&ag, &ap, 4, LL_CAP_VIEW, 3);
	key("alt+d"); /* refusal 3: no more */
	expect_deny(&ag, 4, LL_DENY_NO_MORE, 0);
	g_free(win);

	expect_held(&ag, &ap, 5, LL_CAP_VIEW, LL_DENY_NO_MORE);
	spin(TEST_HOLD_S * 1000 + 100); /* as above: waiting does not help */
	expect_held(&ag, &ap, 6, LL_CAP_VIEW | LL_CAP_CONTROL,
		    LL_DENY_NO_MORE);
	g_assert_true(audit_has("consent",
				"not shown: the user refused 3 "
				"times",
				20000));

	/* Per capability: control was never refused, it is asked. */
	win = expect_dialog(&ag, &ap, 7, LL_CAP_CONTROL, 4);
	key("alt+d");
	expect_deny(&ag, 7, LL_DENY_DECLINED, TEST_HOLD_S);
	g_free(win);
	g_assert_cmpint(ag.n_open, ==, 0);

	g_assert_cmpint(ll_session_io_end(ag.io, "done"), ==, 0);
	applet_close_ended(&ap, "technician", ENDED_TECHNICIAN, 0);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
	g_free(arg);
}

/*
 * View only: asked for view and control together, the dialog offers
 * Allow all, View only and Deny, with the focus (and a visible ring) on
 * Deny, and the technician's initial (display names are set by now).
 * Alt+V grants view alone: the screen channel opens, control is not
 * granted, the bar says so, and asking for control at once is held back.
 * Before/after screenshots in artifacts/consent/.
 */
static void test_view_only(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *win, *bar, *focus;

	lh_pin_new(relay, token, NULL, &pin);
	applet_start(&ap, pin.pin, "view-only");
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	agent_send_hello_and_request(&ag, LL_CAP_VIEW | LL_CAP_CONTROL);
	win = wait_window("Permission request", &ap, 20000);
	g_assert_nonnull(win);
	wait_armed(&ap, 1);
	focus = tool(
		(const char *const[]){ "xdotool", "getwindowfocus", NULL });
	g_assert_cmpstr(focus, ==, win);
	g_free(focus);
	screenshot_in("consent", "after-consent-dialog", win);
	g_assert_cmpint(ag.n_grant + ag.n_deny, ==, 0);

	ag.bridge = true;
	key("alt+v");
	WAIT_FOR((ag.n_grant > 0 && ag.viewer_fd >= 0) || ag.n_deny > 0 ||
			 ag.closed,
		 15000);
	g_assert_cmpint(ag.n_deny, ==, 0);
	g_assert_cmpint(ag.n_grant, ==, 1);
	g_assert_cmpuint(ag.grant_caps, ==, LL_CAP_VIEW);
	g_assert_cmpint(ag.n_open, ==, 1); /* the screen, as allowed */
	g_assert_true(wait_log(&ap, "the user allowed view only", 1, 5000));
	g_assert_true(wait_window_gone("Permission request", 5000));
	g_assert_true(wait_log(&ap,
			       "session bar says: The technician sees your "
			       "screen (view only: no control).",
			       1, 10000));
	bar = wait_window("Session", &ap, 5000);
	g_assert_nonnull(bar);
	screenshot_in("consent", "after-session-bar-view-only", bar);
	g_assert_true(audit_has("consent", "allowed (view only)", 20000));
	g_assert_true(audit_has("consent", "denied (view only)", 20000));

	/* Control was refused with View only: asking for it at once is
	 * held back, without a dialog. */
	agent_request(&ag, 2, LL_CAP_CONTROL);
	WAIT_FOR(ag.n_deny > 0 || ag.n_grant > 1 || ag.closed, 10000);
	g_assert_cmpint(ag.n_grant, ==, 1);
	g_assert_cmpint(ag.n_deny, ==, 1);
	g_assert_cmpint(ag.deny_reason, ==, LL_DENY_HELD_BACK);
	g_assert_cmpint(log_count(&ap, "asks for permission to:"), ==, 1);

	g_assert_cmpint(ll_session_io_end(ag.io, "done"), ==, 0);
	applet_close_ended(&ap, "technician", ENDED_TECHNICIAN, 0);
	g_free(bar);
	g_free(win);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
}

/*
 * A hostile agent of a technician whose group permits view and chat
 * asks for control: the applet refuses without a dialog (the redeem
 * answer did not list control) and reports it to the relay's audit as
 * not_permitted; a permitted request afterwards is the first and only
 * one the user is asked.
 */
static void test_not_permitted(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *win, *tok;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "group", "add",
				     "chatters", "--permissions", "view,chat",
				     NULL),
			==, 0);
	lh_tech_add(relay, "bea", "Bea-Passw0rd-long", false);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "technician",
				     "set", "bea", "--group", "chatters",
				     NULL),
			==, 0);
	tok = lh_login(relay, "bea", "Bea-Passw0rd-long");
	lh_pin_new(relay, tok, NULL, &pin);
	applet_start(&ap, pin.pin, "not-permitted");
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);

	/* control alone, then with view: both refused unseen */
	agent_send_hello_and_request(&ag, LL_CAP_CONTROL);
	WAIT_FOR(ag.n_deny >= 1 || ag.n_grant > 0 || ag.closed, 10000);
	agent_request(&ag, 2, LL_CAP_VIEW | LL_CAP_FILES);
	WAIT_FOR(ag.n_deny >= 2 || ag.n_grant > 0 || ag.closed, 10000);
	g_assert_cmpint(ag.n_grant, ==, 0);
	g_assert_cmpint(ag.n_deny, ==, 2);
	g_assert_false(ag.closed);
	g_assert_true(audit_has("not_permitted",
				"refused: not permitted for this technician",
				20000));

	/* view is permitted: the dialog, asked for the first time */
	win = expect_dialog(&ag, &ap, 3, LL_CAP_VIEW, 1);
	key("alt+d");
	expect_deny(&ag, 3, LL_DENY_DECLINED, HOLD_S);
	g_free(win);
	g_assert_cmpint(ag.n_open, ==, 0);

	g_assert_cmpint(ll_session_io_end(ag.io, "done"), ==, 0);
	applet_close_ended(&ap, "technician", ENDED_TECHNICIAN, 0);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
	g_free(tok);
}

/* ---- chat (issue 13 item 2) ---- */

static void agent_chat(struct agent *ag, const char *text)
{
	struct ll_control_msg m = { .type = LL_CONTROL_CHAT };

	m.u.chat.text = (char *)text;
	g_assert_cmpint(ll_session_io_send_control(ag->io, &m), ==, 0);
}

/* Until the agent got its n-th control error; asserts its code. */
static void expect_error(struct agent *ag, int n, const char *code)
{
	WAIT_FOR(ag->n_error >= n || ag->closed, 10000);
	g_assert_cmpint(ag->n_error, ==, n);
	g_assert_cmpstr(ag->error_code, ==, code);
}

/*
 * Chat before control, both ways, and a hostile technician's console:
 * a line before `chat` is granted is refused (not_granted) and shows
 * nothing; once granted (chat alone, no screen) the line opens
 * "PRODUCT – Chat" with controls and bidi overrides shown as U+FFFD; what
 * the user types there reaches the technician; a flood is cut at the
 * burst with one chat_flood error, the applet still answering; the
 * session bar's Chat brings the window back after it was closed.
 */
static void test_chat(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *win, *chat, *bar;
	int i, shown;

	lh_pin_new(relay, token, NULL, &pin);
	applet_start(&ap, pin.pin, "chat");
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	agent_send_hello_and_request(&ag, LL_CAP_CHAT);
	win = wait_window("Permission request", &ap, 20000);
	g_assert_nonnull(win);
	/* asked, not yet answered: refused unseen */
	agent_chat(&ag, "before the grant");
	expect_error(&ag, 1, "not_granted");
	g_assert_true(wait_log(&ap,
			       "chat from the technician refused: chat "
			       "is not granted",
			       1, 5000));
	g_assert_cmpint(log_count(&ap, "chat window:"), ==, 0);

	wait_armed(&ap, 1);
	key("alt+a");
	WAIT_FOR(ag.n_grant > 0 || ag.closed, 15000);
	g_assert_cmpuint(ag.grant_caps, ==, LL_CAP_CHAT);
	agent_chat(&ag,
		   "Hello\xe2\x80\xae evil\x07 \xe2\x81\xa6x\nsecond line");
	chat = wait_window("Chat$", &ap, 10000);
	g_assert_nonnull(chat);
	g_assert_true(
		wait_log(&ap,
			 "test: chat window shows: Hello" LL_TEXT_REPLACEMENT
			 " evil" LL_TEXT_REPLACEMENT " " LL_TEXT_REPLACEMENT
			 "x\nsecond line",
			 1, 5000));
	g_assert_cmpint(ag.n_open, ==, 0); /* no screen with chat alone */

	/* the user answers in the window */
	focus_window(chat);
	g_free(tool((const char *const[]){ "xdotool", "type", "--delay", "5",
					   "Thanks, I see it", NULL }));
	key("Return");
	WAIT_FOR(ag.n_chat > 0 || ag.closed, 10000);
	g_assert_cmpint(ag.n_chat, ==, 1);
	g_assert_cmpstr(ag.chat_text, ==, "Thanks, I see it");
	g_assert_true(wait_log(&ap, "line 2 from the user shown", 1, 5000));
	screenshot_in("chat", "applet-chat-window", chat);

	/* a flood: the burst is shown, the rest dropped, told once */
	for (i = 0; i < 200; i++)
		agent_chat(&ag, "flood");
	expect_error(&ag, 2, "chat_flood");
	g_assert_true(
		wait_log(&ap, "chat flood from the technician", 1, 5000));
	shown = log_count(&ap, "from the technician shown");
	g_assert_cmpint(shown, >=, LL_CHAT_BURST);
	g_assert_cmpint(shown, <=, 1 + LL_CHAT_BURST + 2);
	g_assert_cmpint(log_count(&ap, "chat flood from the technician"), ==,
			1);
	g_assert_false(ag.closed);

	/* put away by the user (Escape), back through the bar's _Chat */
	focus_window(chat);
	key("Escape");
	g_assert_true(wait_window_gone("Chat$", 5000));
	bar = wait_window("Session$", &ap, 5000);
	g_assert_nonnull(bar);
	focus_window(bar);
	key("alt+c");
	g_assert_true(wait_log(&ap, "chat window opened from the session bar",
			       1, 5000));
	g_free(chat);
	chat = wait_window("Chat$", &ap, 5000);
	g_assert_nonnull(chat);

	g_assert_cmpint(ll_session_io_end(ag.io, "done"), ==, 0);
	applet_close_ended(&ap, "technician", ENDED_TECHNICIAN, 0);
	g_assert_true(wait_window_gone("Chat$", 5000));
	g_free(bar);
	g_free(chat);
	g_free(win);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
}

/* "I did not ask for this" (Alt+N) ends the session and flags it in the
 * audit. */
static void test_not_requested(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *win, *log;

	lh_pin_new(relay, token, NULL, &pin);
	applet_start(&ap, pin.pin, "not-requested");
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	agent_send_hello_and_request(&ag, LL_CAP_VIEW);
	win = wait_window("Permission request", &ap, 20000);
	g_assert_nonnull(win);
	wait_armed(&ap, 1);
	key("alt+n");
	applet_close_ended(&ap, "not_requested",
			   "You said you did not ask for this session. The "
			   "session was ended and reported to ",
			   0);
	log = applet_log(&ap);
	g_test_message("applet log:\n%s", log);
	g_assert_nonnull(strstr(log, "'s administrators. Nobody can see "
				     "your screen now."));
	WAIT_FOR(ag.closed, 5000);
	g_assert_cmpint(ag.n_deny, ==, 1);
	g_assert_cmpint(ag.n_open, ==, 0);
	g_assert_true(audit_has("not_requested", "did not ask", 20000));
	g_free(log);
	g_free(win);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
}

/* ---- the ways a session ends, each in "Session ended" ---- */

/* Nobody answers the first permission request: the session ends (a
 * shortened wait, a hidden option of test builds). */
static void test_ended_consent_timeout(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *win;

	lh_pin_new(relay, token, NULL, &pin);
	applet_start_args(&ap, pin.pin, "ended-timeout",
			  "--test-consent-timeout=3");
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	agent_send_hello_and_request(&ag, LL_CAP_VIEW);
	win = wait_window("Permission request", &ap, 20000);
	g_assert_nonnull(win);
	applet_close_ended(&ap, "consent_timeout",
			   "Nobody answered the permission request in time, "
			   "so the session was ended. Nobody can see your "
			   "screen now.",
			   0);
	WAIT_FOR(ag.closed, 5000);
	g_assert_cmpint(ag.n_deny, ==, 1);
	g_assert_cmpint(ag.n_open, ==, 0);
	g_free(win);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
}

/* The stream to the support server breaks (the technician's side
 * vanishes without an end, so the relay closes ours): the applet tries to
 * come back within the relay's grace (GRACE_S here), says so, and once
 * the grace is over and the relay says the session is gone it ends with
 * "could not be restored", status 4. */
static void test_ended_lost(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *bar;

	lh_pin_new(relay, token, NULL, &pin);
	applet_start(&ap, pin.pin, "ended-lost");
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	bar = wait_window("Session$", &ap, 20000);
	g_assert_nonnull(bar);
	/* no end message: the stream just goes */
	ll_session_io_free(ag.io);
	ag.io = NULL;
	g_assert_true(wait_log(&ap, "reconnecting", 1, 10000));
	applet_close_ended(&ap, "stalled",
			   "The connection to the support server was lost "
			   "and could not be restored. Nobody can see your "
			   "screen now.",
			   4);
	g_free(bar);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
}

/* A session of tok's technician with view granted by the user's Allow. */
static void granted_session(const char *tok, const char *tag,
			    struct lh_pin *pin, struct agent *ag,
			    struct applet *ap)
{
	char *win;

	lh_pin_new(relay, tok, NULL, pin);
	applet_start(ap, pin->pin, tag);
	agent_connect(ag, pin->agent_ticket);
	WAIT_FOR(ag->ready || ag->closed, 20000);
	g_assert_true(ag->ready);
	agent_send_hello_and_request(ag, LL_CAP_VIEW);
	win = wait_window("Permission request", ap, 20000);
	g_assert_nonnull(win);
	wait_armed(ap, 1);
	ag->bridge = true;
	key("alt+a");
	WAIT_FOR((ag->n_grant > 0 && ag->viewer_fd >= 0) || ag->closed, 15000);
	g_assert_cmpint(ag->n_grant, ==, 1);
	g_free(win);
}

/*
 * The relay ends a session on its own (issue 11): the technician's group
 * loses the permission the session holds (`group set`), or an
 * administrator ends it (DELETE).  The stream just closes; the applet
 * asks the relay why, and "Session ended" says so in plain words instead
 * of "the connection was lost".
 */
static void test_ended_by_relay(void)
{
	struct lh_pin pin = { 0 }, pin2 = { 0 };
	struct agent ag, ag2;
	struct applet ap, ap2;
	char *tok, *adm, *path;
	struct lh_resp *r;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "group", "add",
				     "helpers", "--permissions",
				     "view,control", NULL),
			==, 0);
	lh_tech_add(relay, "cai", "Cai-Passw0rd-long", false);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "technician",
				     "set", "cai", "--group", "helpers", NULL),
			==, 0);
	tok = lh_login(relay, "cai", "Cai-Passw0rd-long");
	granted_session(tok, "ended-withdrawn", &pin, &ag, &ap);
	/* view, which the user granted, is no longer the group's */
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "group", "set",
				     "helpers", "--permissions", "control",
				     NULL),
			==, 0);
	applet_close_ended(&ap, "permission_withdrawn",
			   "Your technician is no longer allowed by ", 0);
	g_assert_cmpint(log_count(&ap, "session over (stalled)"), ==, 0);
	g_assert_true(wait_log(&ap,
			       "the relay says the session is ended "
			       "(permission_withdrawn)",
			       1, 1000));
	agent_free(&ag);
	applet_finish(&ap);

	/* an administrator ends alice's session from the Live page */
	lh_tech_add(relay, "ada", "Ada-Passw0rd-long", true);
	adm = lh_login(relay, "ada", "Ada-Passw0rd-long");
	granted_session(token, "ended-admin", &pin2, &ag2, &ap2);
	path = g_strdup_printf("/api/v1/sessions/%s", pin2.session_id);
	r = lh_delete(relay, path, adm);
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	applet_close_ended(&ap2, "ended_by_admin", "An administrator at ", 0);
	agent_free(&ag2);
	applet_finish(&ap2);
	lh_pin_clear(&pin);
	lh_pin_clear(&pin2);
	g_free(path);
	g_free(adm);
	g_free(tok);
}

/* Waiting in a channel's queue when the channel is withdrawn (its entry
 * goes with it): the wait ends in "Session ended", status 3. */
static void test_ended_queue_gone(void)
{
	struct applet ap;
	char *cred = NULL, *arg, *win;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &cred, NULL, "channel",
				     "add", "desk-gone", NULL),
			==, 0);
	g_strstrip(cred);
	lh_secret("channel credential", cred);
	arg = g_strdup_printf("--channel=%s", cred);
	applet_start_args(&ap, NULL, "ended-queue-gone", arg);
	win = wait_window("Waiting for a technician", &ap, 20000);
	g_assert_nonnull(win);
	focus_window(win);
	key("Return");
	g_assert_true(
		wait_log(&ap, "channel: waiting in the queue", 1, 20000));
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "channel",
				     "remove", "desk-gone", NULL),
			==, 0);
	applet_close_ended(&ap, "queue_gone",
			   "You are no longer waiting for a technician (it "
			   "took too long, or the support shortcut was "
			   "withdrawn). Please start again.",
			   3);
	g_assert_true(wait_window_gone("Waiting for a technician", 5000));
	applet_finish(&ap);
	g_free(win);
	g_free(arg);
	g_free(cred);
}

/*
 * A PIN that expired before the user came (--pin, so there is no PIN
 * window to say it in): "Session ended" says so, status 3.  Moves the
 * relay's clock: the last test of the file.
 */
static void test_ended_pin_expired(void)
{
	struct lh_pin pin = { 0 };
	struct applet ap;
	char *log;

	lh_pin_new(relay, token, NULL, &pin);
	if (!lh_relay_clock_advance(relay, 24 * 3600)) {
		g_test_skip("needs -Dtest_hooks=true (the relay's clock)");
		lh_pin_clear(&pin);
		return;
	}
	applet_start(&ap, pin.pin, "ended-pin-expired");
	applet_close_ended(&ap, "pin_expired",
			   "This PIN has expired. Please ask your technician "
			   "for a new one.",
			   3);
	log = applet_log(&ap);
	/* what the relay said goes to the log; the person reads the table */
	g_assert_nonnull(strstr(log, "connecting failed"));
	g_free(log);
	applet_finish(&ap);
	lh_pin_clear(&pin);
}

/* Without --pin: the PIN window, its field focused, Enter connects; a
 * wrong PIN is explained and the user can try again. */
static void test_pin_window(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *win, *focus, *typed;

	lh_pin_new(relay, token, NULL, &pin);
	applet_start(&ap, NULL, "pin-window");
	win = wait_window("Enter PIN", &ap, 20000);
	g_assert_nonnull(win);
	focus = tool(
		(const char *const[]){ "xdotool", "getwindowfocus", NULL });
	g_assert_cmpstr(focus, ==, win);
	g_free(focus);
	screenshot("applet-pin-window", win);

	/* A PIN nobody issued: refused, the window stays. */
	typed = tool((const char *const[]){ "xdotool", "type", "--delay", "20",
					    "000000", NULL });
	g_free(typed);
	key("Return");
	/* the applet logs the refusal, then shows it in the window */
	g_assert_true(wait_log(&ap, "connecting failed", 1, 20000));
	g_assert_false(ap.exited);
	g_free(win);
	win = wait_window("Enter PIN", &ap, 2000);
	g_assert_nonnull(win);
	screenshot("applet-pin-window-error", win);

	/* The right one, after clearing the field. */
	key("ctrl+a");
	key("BackSpace");
	typed = tool((const char *const[]){ "xdotool", "type", "--delay", "20",
					    pin.pin, NULL });
	g_free(typed);
	key("Return");
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed || ap.exited, 20000);
	g_assert_true(ag.ready);
	g_assert_true(wait_window_gone("Enter PIN", 5000));

	g_assert_cmpint(ll_session_io_end(ag.io, "done"), ==, 0);
	applet_close_ended(&ap, "technician", ENDED_TECHNICIAN, 0);
	g_free(win);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
}

/*
 * A PIN of 10 digits (the org's policy pin_length) typed as people read
 * it out, "123-456-7890": the field takes all of it and it connects.
 */
static void test_pin_window_long(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *win, *typed, *spoken;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "policy", "set",
				     "pin_length", "10", NULL),
			==, 0);
	lh_pin_new(relay, token, NULL, &pin);
	g_assert_cmpuint(strlen(pin.pin), ==, 10);
	spoken = g_strdup_printf("%.3s-%.3s-%.4s", pin.pin, pin.pin + 3,
				 pin.pin + 6);
	applet_start(&ap, NULL, "pin-window-long");
	win = wait_window("Enter PIN", &ap, 20000);
	g_assert_nonnull(win);
	typed = tool((const char *const[]){ "xdotool", "type", "--delay", "20",
					    spoken, NULL });
	g_free(typed);
	key("Return");
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed || ap.exited, 20000);
	g_assert_true(ag.ready);
	g_assert_true(wait_window_gone("Enter PIN", 5000));

	g_assert_cmpint(ll_session_io_end(ag.io, "done"), ==, 0);
	applet_close_ended(&ap, "technician", ENDED_TECHNICIAN, 0);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "policy",
				     "unset", "pin_length", NULL),
			==, 0);
	g_free(spoken);
	g_free(win);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
}

/* ---- clipboard and system information (issue 13) ---- */

/* Copies text on the user's desktop (e2e-target --set-clipboard), as
 * someone pressing Ctrl+C: it owns the CLIPBOARD until someone else
 * takes it. */
static GSubprocess *copy_text(const char *text)
{
	GSubprocessLauncher *l;
	GSubprocess *p;
	char **env = tool_env();
	GInputStream *out;
	char buf[16];
	gssize n;
	GError *e = NULL;

	l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	g_subprocess_launcher_set_environ(l, env);
	p = g_subprocess_launcher_spawn(l, &e, g_getenv("LL_E2E_TARGET"),
					"--set-clipboard", text, "--timeout",
					"60000", NULL);
	g_assert_no_error(e);
	/* "owned" once it is the owner (a blocking read: it says so or
	 * fails) */
	out = g_subprocess_get_stdout_pipe(p);
	n = g_input_stream_read(out, buf, sizeof(buf) - 1, NULL, &e);
	g_assert_no_error(e);
	g_assert_cmpint(n, >, 0);
	buf[n] = '\0';
	g_assert_nonnull(strstr(buf, "owned"));
	g_object_unref(l);
	g_strfreev(env);
	return p;
}

static void copy_done(GSubprocess *p)
{
	g_subprocess_force_exit(p);
	g_subprocess_wait(p, NULL, NULL);
	g_object_unref(p);
}

/* What the user would paste now. */
static char *paste_text(void)
{
	return tool((const char *const[]){ g_getenv("LL_E2E_TARGET"),
					   "--clipboard", "--timeout", "5000",
					   NULL });
}

/* The technician sends clipboard text, as a hostile one may at any time. */
static void agent_clip(struct agent *ag, const char *text)
{
	struct ll_control_msg m = { .type = LL_CONTROL_CLIPBOARD };

	m.u.clipboard.text = (char *)text;
	g_assert_cmpint(ll_session_io_send_control(ag->io, &m), ==, 0);
}

static void agent_ask_sysinfo(struct agent *ag)
{
	struct ll_control_msg m = { .type = LL_CONTROL_SYSINFO_REQUEST };

	g_assert_cmpint(ll_session_io_send_control(ag->io, &m), ==, 0);
}

/* An error not_granted comes for what was sent without the grant. */
static void expect_not_granted(struct agent *ag, const char *what)
{
	int errors = ag->n_error;

	WAIT_FOR(ag->n_error > errors || ag->closed, 10000);
	g_assert_cmpint(ag->n_error, ==, errors + 1);
	g_assert_cmpstr(ag->error_code, ==, "not_granted");
	g_assert_nonnull(strstr(ag->error_message, what));
	g_assert_false(ag->closed);
}

/* The answer checked against this machine's own values. */
static void check_sysinfo(const struct ll_sysinfo *si)
{
	struct utsname u;
	size_t i;
	bool root = false, lo = false;

	g_assert_cmpint(uname(&u), ==, 0);
	g_assert_cmpstr(si->host, ==, g_get_host_name());
	g_assert_nonnull(strstr(si->kernel, u.release));
	g_assert_cmpuint(si->cpus, ==,
			 (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	g_assert_cmpuint(si->memory_total, >, 0);
	g_assert_cmpuint(si->memory_free, <=, si->memory_total);
	g_assert_cmpuint(si->uptime, >, 0);
	for (i = 0; i < si->n_disks; i++)
		root = root || strcmp(si->disks[i].mount, "/") == 0;
	for (i = 0; i < si->n_ifaces; i++)
		lo = lo ||
		     (strcmp(si->ifaces[i].name, "lo") == 0 &&
		      si->ifaces[i].n_addrs > 0 &&
		      strcmp(si->ifaces[i].addrs[0], "127.0.0.1/8") == 0);
	g_test_message("sysinfo: %s, %s, %zu disks (/ %s), %zu interfaces",
		       si->os, si->kernel, si->n_disks,
		       root ? "among them" : "not a block device here",
		       si->n_ifaces);
	g_assert_true(lo);
	/* our Xvfb's one screen */
	g_assert_cmpuint(si->n_displays, ==, 1);
	g_assert_cmpuint(si->displays[0].width, ==, 1024);
	g_assert_cmpuint(si->displays[0].height, ==, 768);
}

/*
 * clipboard and sysinfo: nothing before the grant (a hostile technician's
 * clipboard text and sysinfo_request are refused with not_granted and the
 * user's clipboard stays as it was; a text copied before the grant never
 * crosses); the dialog names both; then sysinfo with this machine's
 * values, copied text both ways; Stop clipboard on the bar revokes it and
 * nothing crosses either way; asked again and allowed, a new copy
 * crosses (the one made while it was off does not).
 */
static void test_clipboard_sysinfo(void)
{
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	GSubprocess *cp;
	char *win, *bar, *text;

	lh_pin_new(relay, token, NULL, &pin);
	applet_start(&ap, pin.pin, "clipboard");
	agent_connect(&ag, pin.agent_ticket);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	cp = copy_text("copied before the grant");
	agent_send_hello_and_request(&ag, LL_CAP_CLIPBOARD | LL_CAP_SYSINFO);
	win = wait_window("Permission request", &ap, 20000);
	g_assert_nonnull(win);
	wait_armed(&ap, 1);
	g_assert_true(wait_log(&ap,
			       "Share text you copy, both ways "
			       "(clipboard)",
			       1, 1000));
	screenshot_in("consent", "consent-dialog-clipboard-sysinfo", win);

	/* While the question is open: nothing is granted. */
	agent_ask_sysinfo(&ag);
	expect_not_granted(&ag, "sysinfo");
	agent_clip(&ag, "rm -rf ~ # pasted by a stranger");
	expect_not_granted(&ag, "clipboard");
	text = paste_text();
	g_assert_cmpstr(text, ==, "copied before the grant");
	g_free(text);
	g_assert_true(audit_has("not_permitted",
				"refused: clipboard text without the grant",
				20000));

	key("alt+a");
	WAIT_FOR(ag.n_grant > 0 || ag.n_deny > 0 || ag.closed, 15000);
	g_assert_cmpint(ag.n_grant, ==, 1);
	g_assert_cmpuint(ag.grant_caps, ==, LL_CAP_CLIPBOARD | LL_CAP_SYSINFO);
	g_assert_true(wait_log(&ap, "clipboard sharing on", 1, 5000));

	agent_ask_sysinfo(&ag);
	WAIT_FOR(ag.n_sysinfo > 0 || ag.closed, 10000);
	g_assert_cmpint(ag.n_sysinfo, ==, 1);
	check_sysinfo(ag.sysinfo->u.sysinfo.info);

	/* user -> technician: the copy made after the grant is the first
	 * text that crosses */
	copy_done(cp);
	cp = copy_text("journalctl -b -p err");
	WAIT_FOR(ag.n_clip > 0 || ag.closed, 10000);
	g_assert_cmpint(ag.n_clip, ==, 1);
	g_assert_cmpstr(ag.clip_text, ==, "journalctl -b -p err");
	/* technician -> user (the copy above loses the clipboard to it) */
	agent_clip(&ag, "sudo apt install --reinstall cups");
	g_assert_true(wait_log(&ap,
			       "bytes from the technician put on the "
			       "clipboard",
			       1, 10000));
	text = paste_text();
	g_assert_cmpstr(text, ==, "sudo apt install --reinstall cups");
	g_free(text);
	copy_done(cp);
	/* ...and is not sent back */
	g_assert_cmpint(ag.n_clip, ==, 1);

	/* Stop clipboard on the bar: a revoke, and nothing crosses */
	bar = wait_window("Session", &ap, 5000);
	g_assert_nonnull(bar);
	screenshot_in("consent", "session-bar-clipboard", bar);
	focus_window(bar);
	key("alt+l");
	WAIT_FOR(ag.n_revoke > 0 || ag.closed, 10000);
	g_assert_cmpint(ag.n_revoke, ==, 1);
	g_assert_cmpuint(ag.revoke_caps, ==, LL_CAP_CLIPBOARD);
	g_assert_true(wait_log(&ap, "clipboard sharing off", 1, 5000));
	g_assert_true(audit_has("revoke", "stopped by the user", 20000));
	agent_clip(&ag, "after the stop");
	expect_not_granted(&ag, "clipboard");
	g_assert_cmpint(log_count(&ap, "refused: clipboard is not granted"),
			==, 2);
	text = paste_text();
	g_assert_cmpstr(text, ==, "sudo apt install --reinstall cups");
	g_free(text);
	cp = copy_text("copied while it was off");
	/* sysinfo stays granted */
	agent_ask_sysinfo(&ag);
	WAIT_FOR(ag.n_sysinfo > 1 || ag.closed, 10000);
	g_assert_cmpint(ag.n_sysinfo, ==, 2);

	/* asked again and allowed: only what is copied from now on */
	g_free(win);
	win = expect_dialog(&ag, &ap, 2, LL_CAP_CLIPBOARD, 2);
	key("alt+a");
	WAIT_FOR(ag.n_grant > 1 || ag.closed, 15000);
	g_assert_cmpint(ag.n_grant, ==, 2);
	copy_done(cp);
	cp = copy_text("copied after the second grant");
	WAIT_FOR(ag.n_clip > 1 || ag.closed, 10000);
	g_assert_cmpint(ag.n_clip, ==, 2);
	g_assert_cmpstr(ag.clip_text, ==, "copied after the second grant");
	copy_done(cp);
	/* never logged */
	g_assert_cmpint(log_count(&ap, "journalctl"), ==, 0);
	g_assert_cmpint(log_count(&ap, "apt install"), ==, 0);

	g_assert_cmpint(ll_session_io_end(ag.io, "done"), ==, 0);
	applet_close_ended(&ap, "technician", ENDED_TECHNICIAN, 0);
	g_free(bar);
	g_free(win);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
}

/* ---- files ---- */

static struct ll_xfer *offered; /* the latest offer to the test's agent */
static char *fetch_dir;
/* what the test's technician answers to an offer */
static enum { OFFER_SAVE = 0, OFFER_REFUSE, OFFER_HOLD } offer_answer;

static void tx_offer(struct ll_xfer_set *set, struct ll_xfer *x, void *user)
{
	int fd;

	offered = x;
	if (offer_answer == OFFER_REFUSE) {
		g_assert_cmpint(ll_xfer_refuse(x, LL_FILE_REFUSED), ==, 0);
		return;
	}
	if (offer_answer == OFFER_HOLD)
		return;
	fd = open(fetch_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ll_xfer_accept(x, fd, NULL), ==, 0);
	close(fd);
}

static char *sha_hex(const void *data, size_t len)
{
	return g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
}

static void raw_offer(struct agent *ag, uint16_t ch, const char *name,
		      uint64_t size, const char *sha)
{
	struct ll_control_msg m = { .type = LL_CONTROL_FILE_OFFER };

	m.u.file_offer.channel = ch;
	m.u.file_offer.name = (char *)name;
	m.u.file_offer.size = size;
	g_strlcpy(m.u.file_offer.sha256, sha, sizeof(m.u.file_offer.sha256));
	g_assert_cmpint(ll_session_io_send_control(ag->io, &m), ==, 0);
}

/* A hostile technician's channel: opened by hand, bytes written as they
 * are (chunks or anything), through a bridged socketpair. */
static int raw_open(struct agent *ag, uint16_t ch)
{
	int sv[2];

	g_assert_cmpint(socketpair(AF_UNIX,
				   SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
				   0, sv),
			==, 0);
	g_assert_cmpint(ll_session_io_channel_open(ag->io, ch), ==, 0);
	g_assert_cmpint(ll_session_io_bridge(ag->io, ch, sv[0]), ==, 0);
	return sv[1];
}

static void raw_write(int fd, const uint8_t *p, size_t len)
{
	int64_t end = lh_now_ms() + 20000;
	ssize_t n;

	while (len > 0 && lh_now_ms() < end) {
		n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else {
			lt_iterate(WAIT_TICK_MS);
		}
	}
	g_assert_cmpuint(len, ==, 0);
}

static void raw_chunks(int fd, const uint8_t *data, size_t len)
{
	struct ll_xfer_enc *e = ll_xfer_enc_new();
	struct ll_buf *b = ll_buf_new(2 * len + 4096);
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = MIN(len - off, LL_XFER_CHUNK);
		g_assert_cmpint(ll_xfer_enc_chunk(e, data + off, n, b), ==, 0);
	}
	raw_write(fd, ll_buf_data(b), ll_buf_len(b));
	ll_buf_free(b);
	ll_xfer_enc_free(e);
}

static bool file_is(const char *dir, const char *name, const void *data,
		    size_t len)
{
	char *path = g_build_filename(dir, name, NULL), *got = NULL;
	gsize n = 0;
	bool same;

	same = g_file_get_contents(path, &got, &n, NULL) && n == len &&
	       memcmp(got, data, len) == 0;
	if (!same)
		g_test_message("%s: %s", path,
			       got != NULL ? "other content" : "missing");
	g_free(got);
	g_free(path);
	return same;
}

static uint64_t file_size(const char *dir, const char *name)
{
	char *path = g_build_filename(dir, name, NULL);
	struct stat st;
	uint64_t n = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;

	g_free(path);
	return n;
}

static char *part_name(const char *name, const char *sha)
{
	return g_strdup_printf(".%s.%.16s.lifeline-part", name, sha);
}

/* An "Incoming file" window maps; Save (alt+s) or Refuse (alt+r).  Until
 * the applet says the user answered: on a loaded machine the key can
 * reach the window of the previous file, still closing, so the newest
 * window is looked up and the key pressed again. */
static char *answer_incoming(struct applet *ap, const char *keys,
			     const char *shot)
{
	const char *said = strcmp(keys, "alt+s") == 0
				   ? "the user saves the incoming file"
				   : "the user refused the incoming file";
	int n = log_count(ap, said), tries;
	char *win = NULL;

	for (tries = 0; tries < 4; tries++) {
		g_free(win);
		win = wait_window("Incoming file$", ap, 15000);
		g_assert_nonnull(win);
		if (shot != NULL && tries == 0)
			screenshot(shot, win);
		focus_window(win);
		key(keys);
		if (wait_log(ap, said, n + 1, 3000))
			return win;
	}
	g_assert_not_reached();
	return win;
}

/* Closes win (Alt+C); an "Incoming file" window, until none is mapped:
 * the next one is then not mistaken for it. */
static void close_window(char *win)
{
	char *title = tool((const char *const[]){ "xdotool", "getwindowname",
						  win, NULL });
	bool incoming = title != NULL &&
			g_str_has_suffix(title, "Incoming file");

	focus_window(win);
	key("alt+c");
	if (incoming && !wait_window_gone("Incoming file$", 10000))
		g_test_message("an \"Incoming file\" window stays");
	g_free(title);
	g_free(win);
}

static int n_entries(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	int n = 0;

	while (d != NULL && g_dir_read_name(d) != NULL)
		n++;
	if (d != NULL)
		g_dir_close(d);
	return n;
}

/* The applet's report of the file (data, len) is in the audit with its
 * fields (detail.file), found by its SHA-256 as an auditor would. */
static void audit_file_fields(const void *data, size_t len, const char *dir,
			      const char *outcome)
{
	char *sha = sha_hex(data, len), *out = NULL, *nl;
	json_t *rec, *f;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, NULL, "audit",
				     "export", "--file-sha256", sha, NULL),
			==, 0);
	g_assert_nonnull(out);
	nl = strchr(out, '\n');
	g_assert_nonnull(nl);
	*nl = '\0';
	rec = json_loads(out, 0, NULL);
	g_assert_nonnull(rec);
	f = json_object_get(json_object_get(rec, "detail"), "file");
	g_assert_cmpstr(json_string_value(json_object_get(f, "sha256")), ==,
			sha);
	g_assert_cmpint(json_integer_value(json_object_get(f, "size")), ==,
			(json_int_t)len);
	g_assert_cmpstr(json_string_value(json_object_get(f, "direction")), ==,
			dir);
	g_assert_cmpstr(json_string_value(json_object_get(f, "outcome")), ==,
			outcome);
	g_assert_cmpstr(json_string_value(json_object_get(f, "name")), ==,
			"report.txt");
	json_decref(rec);
	g_free(out);
	g_free(sha);
}

/* Sent by the technician's transfer code, saved, SHA-256 checked. */
static void files_send_save(struct agent *ag, struct applet *ap,
			    const char *src, const char *home,
			    const uint8_t *data, size_t len)
{
	struct ll_xfer *x = NULL;
	char *win;

	g_assert_cmpint(ll_xfer_send_file(ag->xs, src, 0, &x), ==, 0);
	win = answer_incoming(ap, "alt+s", "applet-incoming-file");
	WAIT_FOR(ll_xfer_state(x) == LL_XFER_DONE ||
			 ll_xfer_state(x) == LL_XFER_FAILED,
		 20000);
	g_assert_cmpint(ll_xfer_state(x), ==, LL_XFER_DONE);
	g_assert_true(file_is(home, "report.txt", data, len));
	screenshot("applet-incoming-file-saved", win);
	close_window(win);
	g_assert_true(audit_has("\"file\"", "received done size=", 20000));
	audit_file_fields(data, len, "received", "done");

	/* the same again: refused, nothing written */
	g_assert_cmpint(ll_xfer_send_file(ag->xs, src, 0, &x), ==, 0);
	win = answer_incoming(ap, "alt+r", NULL);
	WAIT_FOR(ll_xfer_state(x) == LL_XFER_FAILED, 10000);
	g_assert_cmpint(ll_xfer_reason(x), ==, LL_FILE_REFUSED);
	g_assert_true(ll_xfer_by_peer(x));
	close_window(win);
	g_assert_true(audit_has("\"file\"", "received refused", 20000));
	g_assert_cmpint(n_entries(home), ==, 1);
}

/* A hostile technician: names that would escape or deceive (the shared
 * list, tests/common/lt_names.h), bytes past the size.  Nothing lands
 * outside the folder. */
static void files_hostile(struct agent *ag, struct applet *ap,
			  const char *home)
{
	static const uint8_t data[] = "four";
	const struct lt_hostile_name *names = lt_hostile_names;
	const size_t n_names = lt_n_hostile_names;
	/* the channel of the offer of more than offered: after the names' */
	const uint16_t more_ch = (uint16_t)(100 + 2 * n_names);
	char *sha = sha_hex(data, 4), *win, *up = g_path_get_dirname(home);
	int fd, n0 = n_entries(home), cancels, n_up = n_entries(up);
	size_t i;

	for (i = 0; i < n_names; i++) {
		uint16_t ch = (uint16_t)(100 + 2 * i);
		int done = ag->n_file_done;

		raw_offer(ag, ch, names[i].name, 4, sha);
		/* the one that hides its extension, on screen */
		win = answer_incoming(ap, "alt+s",
				      strcmp(names[i].saved, "_txt.exe") == 0
					      ? "applet-incoming-file-hostile"
					      : NULL);
		WAIT_FOR(ag->n_file_accept > 0 && ag->accept_channel == ch,
			 10000);
		fd = raw_open(ag, ch);
		raw_chunks(fd, data, 4);
		WAIT_FOR(ag->n_file_done > done, 10000);
		g_assert_cmpint(ag->n_file_done, ==, done + 1);
		g_assert_true(file_is(home, names[i].saved, data, 4));
		close(fd);
		close_window(win);
	}
	/* more than offered: refused, the part removed */
	cancels = ag->n_file_cancel;
	raw_offer(ag, more_ch, "more.txt", 2, sha_hex(data, 2));
	win = answer_incoming(ap, "alt+s", NULL);
	WAIT_FOR(ag->accept_channel == more_ch, 10000);
	fd = raw_open(ag, more_ch);
	raw_chunks(fd, data, 4);
	WAIT_FOR(ag->n_file_cancel > cancels, 10000);
	g_assert_cmpint(ag->cancel_reason, ==, LL_FILE_FAILED);
	close(fd);
	close_window(win);
	g_assert_cmpint(n_entries(home), ==, n0 + (int)n_names);
	/* nothing beside the folder either */
	g_assert_cmpint(n_entries(up), ==, n_up);
	g_free(up);
	g_free(sha);
}

/* Cut after two of three chunks, offered again: resumed at the cut
 * without asking, the whole file's hash checked. */
static void files_resume(struct agent *ag, struct applet *ap, const char *home)
{
	size_t len = 3 * LL_XFER_CHUNK, i;
	uint8_t *data = g_malloc(len);
	char *sha, *part, *win, *path;
	int fd, done = ag->n_file_done;

	for (i = 0; i < len; i++)
		data[i] = (uint8_t)g_random_int();
	sha = sha_hex(data, len);
	part = part_name("big.bin", sha);
	raw_offer(ag, 130, "big.bin", len, sha);
	win = answer_incoming(ap, "alt+s", NULL);
	WAIT_FOR(ag->accept_channel == 130, 10000);
	g_assert_cmpuint(ag->accept_offset, ==, 0);
	fd = raw_open(ag, 130);
	raw_chunks(fd, data, 2 * LL_XFER_CHUNK);
	WAIT_FOR(file_size(home, part) == 2 * LL_XFER_CHUNK, 10000);
	g_assert_cmpuint(file_size(home, part), ==, 2 * LL_XFER_CHUNK);
	/* the stream of this transfer breaks */
	close(fd);
	g_assert_cmpint(ll_session_io_channel_close(ag->io, 130), ==, 0);
	raw_offer(ag, 132, "big.bin", len, sha);
	WAIT_FOR(ag->accept_channel == 132, 10000);
	g_assert_cmpuint(ag->accept_offset, ==, 2 * LL_XFER_CHUNK);
	g_assert_true(wait_log(ap, "resumes at byte 131072", 1, 5000));
	fd = raw_open(ag, 132);
	raw_chunks(fd, data + 2 * LL_XFER_CHUNK, LL_XFER_CHUNK);
	WAIT_FOR(ag->n_file_done > done, 10000);
	g_assert_true(file_is(home, "big.bin", data, len));
	g_assert_cmpuint(file_size(home, part), ==, 0);
	close(fd);
	close_window(win);

	/* a part already whole (cut before the check): accepted at its end,
	 * hashed and saved without a byte more */
	data[0] ^= 1;
	g_free(sha);
	g_free(part);
	sha = sha_hex(data, len);
	part = part_name("whole.bin", sha);
	path = g_build_filename(home, part, NULL);
	g_assert_true(
		g_file_set_contents(path, (char *)data, (gssize)len, NULL));
	g_assert_cmpint(chmod(path, 0600), ==, 0);
	done = ag->n_file_done;
	raw_offer(ag, 134, "whole.bin", len, sha);
	win = answer_incoming(ap, "alt+s", NULL);
	WAIT_FOR(ag->n_file_done > done, 10000);
	g_assert_cmpuint(ag->accept_offset, ==, len);
	g_assert_true(file_is(home, "whole.bin", data, len));
	g_assert_cmpuint(file_size(home, part), ==, 0);
	close_window(win);
	g_free(path);
	g_free(part);
	g_free(sha);
	g_free(data);
}

/* Cancel from the user's window, then from the technician's side. */
static void files_cancel(struct agent *ag, struct applet *ap, const char *home)
{
	size_t len = 2 * LL_XFER_CHUNK;
	uint8_t *data = g_malloc0(len);
	struct ll_control_msg m = { .type = LL_CONTROL_FILE_CANCEL };
	char *sha = sha_hex(data, len), *part = part_name("c.bin", sha);
	char *win;
	int fd, cancels = ag->n_file_cancel, n0 = n_entries(home);

	raw_offer(ag, 140, "c.bin", len, sha);
	win = answer_incoming(ap, "alt+s", NULL);
	WAIT_FOR(ag->accept_channel == 140, 10000);
	fd = raw_open(ag, 140);
	raw_chunks(fd, data, LL_XFER_CHUNK);
	WAIT_FOR(file_size(home, part) == LL_XFER_CHUNK, 10000);
	screenshot("applet-incoming-file-progress", win);
	focus_window(win);
	key("alt+c"); /* Cancel */
	WAIT_FOR(ag->n_file_cancel > cancels, 10000);
	g_assert_cmpint(ag->cancel_reason, ==, LL_FILE_CANCELLED);
	g_assert_cmpint(n_entries(home), ==, n0);
	close(fd);
	close_window(win);

	raw_offer(ag, 142, "c.bin", len, sha);
	win = answer_incoming(ap, "alt+s", NULL);
	WAIT_FOR(ag->accept_channel == 142, 10000);
	fd = raw_open(ag, 142);
	raw_chunks(fd, data, LL_XFER_CHUNK);
	WAIT_FOR(file_size(home, part) == LL_XFER_CHUNK, 10000);
	m.u.file_cancel.channel = 142;
	m.u.file_cancel.reason = LL_FILE_CANCELLED;
	g_assert_cmpint(ll_session_io_send_control(ag->io, &m), ==, 0);
	g_assert_true(wait_log(ap, "cancelled by the other side", 1, 10000));
	g_assert_cmpint(n_entries(home), ==, n0);
	close(fd);
	close_window(win);
	g_free(part);
	g_free(sha);
	g_free(data);
}

/* The number after needle in the applet's log (its last mention). */
static uint64_t log_number(struct applet *ap, const char *needle)
{
	char *log = applet_log(ap), *p = log, *last = NULL;
	uint64_t n;

	while ((p = strstr(p, needle)) != NULL) {
		p += strlen(needle);
		last = p;
	}
	g_assert_nonnull(last);
	n = g_ascii_strtoull(last, NULL, 10);
	g_free(log);
	return n;
}

/*
 * A disk slower than the technician: the applet's writing worker is held
 * (test hook LL_TEST_XFER_HOLD: while that file exists) while a hostile
 * technician sends as fast as credit allows.  The applet returns credit
 * only for bytes on disk, so it never queues more than the window and
 * the technician cannot send the file; once the disk moves again, it
 * arrives whole.
 */
static void files_held(struct agent *ag, struct applet *ap, const char *home,
		       const char *hold)
{
	size_t len = 8u << 20, off, n, sent = 0, i;
	uint8_t *data = g_malloc(len);
	struct ll_xfer_enc *e = ll_xfer_enc_new();
	struct ll_buf *b = ll_buf_new(len + len / 8);
	char *sha, *part, *win;
	int fd, done = ag->n_file_done;
	int64_t moved_ms, end;
	ssize_t w;

	for (i = 0; i < len; i++)
		data[i] = (uint8_t)g_random_int();
	for (off = 0; off < len; off += n) {
		n = MIN(len - off, LL_XFER_CHUNK);
		g_assert_cmpint(ll_xfer_enc_chunk(e, data + off, n, b), ==, 0);
	}
	sha = sha_hex(data, len);
	part = part_name("held.bin", sha);
	g_assert_true(g_file_set_contents(hold, "", 0, NULL));
	raw_offer(ag, 150, "held.bin", len, sha);
	win = answer_incoming(ap, "alt+s", NULL);
	WAIT_FOR(ag->accept_channel == 150, 10000);
	fd = raw_open(ag, 150);
	moved_ms = lh_now_ms();
	end = moved_ms + 20000;
	/* send until nothing more goes for 1 s (the time is what is under
	 * test: without back-pressure all 8 MiB go in a fraction of it) */
	while (sent < ll_buf_len(b) && lh_now_ms() < end &&
	       lh_now_ms() - moved_ms < 1000) {
		w = write(fd, ll_buf_data(b) + sent, ll_buf_len(b) - sent);
		if (w > 0) {
			sent += (size_t)w;
			moved_ms = lh_now_ms();
		}
		lt_iterate(WAIT_TICK_MS);
	}
	g_test_message("held: %zu bytes sent, %" G_GUINT64_FORMAT
		       " out on the stream",
		       sent, ll_session_io_bytes_out(ag->io));
	g_assert_true(wait_log(ap, "the window's worth", 1, 5000));
	/* at most the window queued; nothing written; the sender stuck */
	g_assert_cmpuint(log_number(ap, "file transfer to held.bin: "), <=,
			 LL_MUX_DEFAULT_WINDOW);
	g_assert_cmpuint(file_size(home, part), ==, 0);
	g_assert_cmpuint(sent, <, ll_buf_len(b) / 2);
	/* the disk moves again */
	g_assert_cmpint(g_unlink(hold), ==, 0);
	raw_write(fd, ll_buf_data(b) + sent, ll_buf_len(b) - sent);
	WAIT_FOR(ag->n_file_done > done, 20000);
	g_assert_true(file_is(home, "held.bin", data, len));
	g_assert_true(wait_log(ap, "held.bin: at most ", 1, 5000));
	/* the window may grow once the disk keeps up, never past 4 MiB */
	g_assert_cmpuint(log_number(ap, "held.bin: at most "), <=, 4u << 20);
	close(fd);
	close_window(win);
	ll_buf_free(b);
	ll_xfer_enc_free(e);
	g_free(part);
	g_free(sha);
	g_free(data);
}

/* The disk fills up during a transfer (a 256 KiB tmpfs mounted over the
 * folder): the user reads a plain sentence, the technician gets a
 * cancel, nothing is left behind. */
static void files_disk_full(struct agent *ag, struct applet *ap,
			    const char *home)
{
	size_t len = 1u << 20, i;
	uint8_t *data = g_malloc(len);
	char *sha, *win;
	int fd, cancels = ag->n_file_cancel;

	if (mount("tmpfs", home, "tmpfs", MS_NOSUID | MS_NODEV,
		  "size=256k,mode=0700") != 0) {
		g_test_message("no tmpfs (%s): the disk-full case is not run",
			       g_strerror(errno));
		g_free(data);
		return;
	}
	for (i = 0; i < len; i++)
		data[i] = (uint8_t)g_random_int();
	sha = sha_hex(data, len);
	raw_offer(ag, 160, "full.bin", len, sha);
	win = answer_incoming(ap, "alt+s", NULL);
	WAIT_FOR(ag->accept_channel == 160, 10000);
	fd = raw_open(ag, 160);
	raw_chunks(fd, data, len);
	WAIT_FOR(ag->n_file_cancel > cancels, 20000);
	g_assert_cmpint(ag->cancel_reason, ==, LL_FILE_FAILED);
	g_assert_true(wait_log(ap,
			       "file window says: The disk is full; the "
			       "file was not saved.",
			       1, 5000));
	screenshot("applet-incoming-file-disk-full", win);
	g_assert_cmpint(n_entries(home), ==, 0); /* the part is gone */
	close(fd);
	close_window(win);
	g_assert_cmpint(umount2(home, MNT_DETACH), ==, 0);
	g_free(sha);
	g_free(data);
}

/* file_cancel with request, as a technician's agent withdraws one,
 * whether the applet has that request pending or not. */
static void raw_withdraw(struct agent *ag, uint32_t id)
{
	struct ll_control_msg m = { .type = LL_CONTROL_FILE_CANCEL };

	m.u.file_cancel.request = id;
	m.u.file_cancel.reason = LL_FILE_CANCELLED;
	g_assert_cmpint(ll_session_io_send_control(ag->io, &m), ==, 0);
}

#define WITHDRAWN_SAYS                                                        \
	"session bar says: Your technician no longer needs the file. "        \
	"Nothing was sent."

/*
 * The technician asks, then takes the question back (a `fetch` given
 * up): the chooser closes and the bar says why.  Withdrawals of what is
 * not pending (never asked, already taken back, already answered) change
 * nothing.  Then it asks again; the user picks the file (preselected)
 * and sends.
 */
static void files_fetch(struct agent *ag, struct applet *ap, const char *home)
{
	static const char text[] = "the log you asked for\n";
	char *path = g_build_filename(home, "wanted.txt", NULL), *win;
	uint32_t id = 0;

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	offered = NULL;
	raw_withdraw(ag, 4242); /* never asked */
	g_assert_cmpint(ll_xfer_request(ag->xs, "wanted.txt", &id), ==, 0);
	win = wait_window("Send a file$", ap, 15000);
	g_assert_nonnull(win);
	g_free(win);
	g_assert_cmpint(ll_xfer_withdraw_request(ag->xs, id), ==, LL_OK);
	g_assert_true(wait_log(ap, WITHDRAWN_SAYS, 1, 10000));
	g_assert_true(wait_window_gone("Send a file$", 5000));
	screenshot("applet-file-request-taken-back", NULL);
	g_assert_cmpint(ll_xfer_withdraw_request(ag->xs, id), ==,
			LL_ERR_NOT_FOUND);
	raw_withdraw(ag, id); /* taken back already */

	g_assert_cmpint(ll_xfer_request(ag->xs, "wanted.txt", &id), ==, 0);
	win = wait_window("Send a file$", ap, 15000);
	g_assert_nonnull(win);
	screenshot("applet-send-a-file", win);
	focus_window(win);
	key("alt+s");
	WAIT_FOR(offered != NULL, 20000);
	raw_withdraw(ag, id); /* answered already: the file goes on */
	WAIT_FOR(offered != NULL && ll_xfer_state(offered) == LL_XFER_DONE,
		 20000);
	g_assert_nonnull(offered);
	g_assert_cmpuint(ll_xfer_request_id(offered), ==, id);
	g_assert_true(file_is(fetch_dir, "wanted.txt", text, strlen(text)));
	g_assert_cmpint(log_count(ap, WITHDRAWN_SAYS), ==, 1);
	win = wait_window("Sending a file$", ap, 5000);
	g_assert_nonnull(win);
	close_window(win);
	g_assert_true(audit_has("\"file\"", "sent done size=", 20000));
	g_free(path);
}

/*
 * The user's own offer from the session bar's Send a file…: picked in
 * the chooser (its path typed in the location entry), then the test's
 * technician answers `answer`.  The "Sending a file" window's id.
 */
static char *bar_send(struct applet *ap, const char *path, int answer,
		      const char *shot)
{
	char *bar = wait_window("Session$", ap, 5000), *win;
	int i;

	g_assert_nonnull(bar);
	offered = NULL;
	offer_answer = answer;
	focus_window(bar);
	key("alt+f");
	g_free(bar);
	win = wait_window("Send a file$", ap, 15000);
	g_assert_nonnull(win);
	if (shot != NULL)
		screenshot(shot, win);
	focus_window(win);
	key("ctrl+l");
	g_free(tool((const char *const[]){ "xdotool", "type", "--delay", "5",
					   path, NULL }));
	/* an Enter that only closed the entry's completion popup is
	 * pressed again */
	for (i = 0; i < 3; i++) {
		focus_window(win);
		key("Return");
		if (wait_window_gone("Send a file$", 3000))
			break;
	}
	g_assert_cmpint(i, <, 3);
	g_free(win);
	WAIT_FOR(offered != NULL, 15000);
	g_assert_nonnull(offered);
	win = wait_window("Sending a file$", ap, 5000);
	g_assert_nonnull(win);
	return win;
}

/* Sent by the user from the bar: saved (SHA-256 checked), refused,
 * cancelled by the user, cancelled by the technician. */
static void files_from_bar(struct agent *ag, struct applet *ap,
			   const char *home)
{
	static const char text[] = "the log the user sends unasked\n";
	char *path = g_build_filename(home, "mine.log", NULL), *win, *sha;

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	sha = sha_hex(text, strlen(text));
	win = bar_send(ap, path, OFFER_SAVE, "applet-bar-send-a-file");
	WAIT_FOR(ll_xfer_state(offered) == LL_XFER_DONE ||
			 ll_xfer_state(offered) == LL_XFER_FAILED,
		 20000);
	g_assert_cmpint(ll_xfer_state(offered), ==, LL_XFER_DONE);
	g_assert_cmpuint(ll_xfer_request_id(offered), ==, 0);
	g_assert_cmpstr(ll_xfer_sha256(offered), ==, sha);
	g_assert_true(file_is(fetch_dir, "mine.log", text, strlen(text)));
	g_assert_true(wait_log(ap, "file window says: Delivered", 1, 5000));
	screenshot("applet-sending-a-file-done", win);
	close_window(win);

	win = bar_send(ap, path, OFFER_REFUSE, NULL);
	g_assert_true(wait_log(ap,
			       "file window says: Your technician did not "
			       "accept the file.",
			       1, 10000));
	screenshot("applet-sending-a-file-refused", win);
	close_window(win);

	/* the user gives up waiting */
	win = bar_send(ap, path, OFFER_HOLD, NULL);
	screenshot("applet-sending-a-file-waiting", win);
	focus_window(win);
	key("alt+c");
	WAIT_FOR(ll_xfer_state(offered) == LL_XFER_FAILED, 10000);
	g_assert_cmpint(ll_xfer_reason(offered), ==, LL_FILE_CANCELLED);
	g_assert_true(ll_xfer_by_peer(offered));
	close_window(win);

	/* the technician takes it back */
	win = bar_send(ap, path, OFFER_HOLD, NULL);
	g_assert_cmpint(ll_xfer_cancel(offered), ==, 0);
	g_assert_true(wait_log(ap,
			       "file window says: Your technician stopped "
			       "the transfer.",
			       1, 10000));
	close_window(win);
	g_assert_true(file_is(fetch_dir, "mine.log", text, strlen(text)));
	offer_answer = OFFER_SAVE;
	g_free(sha);
	g_free(path);
}

static void test_files(void)
{
	static const struct ll_xfer_set_cbs cbs = { .on_offer = tx_offer };
	struct lh_pin pin = { 0 };
	struct agent ag;
	struct applet ap;
	char *base = g_build_filename(lh_tmpdir(), "files", NULL);
	char *home = g_build_filename(base, "home", NULL);
	char *src = g_build_filename(lh_tmpdir(), "report.txt", NULL);
	char *hold = g_build_filename(base, "hold", NULL);
	char *win, *sha;
	size_t len = 300000, i;
	uint8_t *data = g_malloc(len);

	/* text that deflates, and a random tail that does not */
	for (i = 0; i < len; i++)
		data[i] = i < len / 2 ? "help me\n"[i % 8]
				      : (uint8_t)g_random_int();
	g_assert_true(
		g_file_set_contents(src, (char *)data, (gssize)len, NULL));
	fetch_dir = g_build_filename(base, "fetched", NULL);
	/* a clean slate: what an earlier run saved would make twins */
	g_assert_true(g_spawn_sync(NULL, (char *[]){ "rm", "-rf", base, NULL },
				   NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
				   NULL, NULL, NULL));
	g_assert_cmpint(g_mkdir_with_parents(home, 0700), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(fetch_dir, 0700), ==, 0);
	lh_pin_new(relay, token, NULL, &pin);
	applet_home = home;
	g_setenv("LL_TEST_XFER_HOLD", hold, TRUE);
	applet_start(&ap, pin.pin, "files");
	g_unsetenv("LL_TEST_XFER_HOLD");
	applet_home = NULL;
	agent_connect(&ag, pin.agent_ticket);
	ag.xs = ll_xfer_set_new(&cbs, &ag);
	ll_xfer_set_attach(ag.xs, ag.io);
	WAIT_FOR(ag.ready || ag.closed, 20000);
	g_assert_true(ag.ready);
	agent_send_hello_and_request(&ag, LL_CAP_FILES);

	/* before the grant: refused unseen, nothing written */
	sha = sha_hex("x", 1);
	raw_offer(&ag, 2, "early.txt", 1, sha);
	WAIT_FOR(ag.n_file_cancel > 0 || ag.closed, 10000);
	g_assert_cmpint(ag.cancel_reason, ==, LL_FILE_NOT_PERMITTED);
	g_free(sha);
	/* and a request for a file: no chooser, refused unseen */
	{
		struct ll_control_msg m = { .type = LL_CONTROL_FILE_REQUEST };

		m.u.file_request.id = 77;
		m.u.file_request.name = "early.txt";
		ag.cancel_reason = 0;
		g_assert_cmpint(ll_session_io_send_control(ag.io, &m), ==, 0);
		WAIT_FOR(ag.n_file_cancel > 1 || ag.closed, 10000);
		g_assert_cmpint(ag.n_file_cancel, ==, 2);
		g_assert_cmpint(ag.cancel_reason, ==, LL_FILE_NOT_PERMITTED);
		g_assert_true(wait_log(&ap,
				       "refused a file request: files "
				       "are not granted",
				       1, 5000));
	}
	/* nor is there Send a file… on the bar */
	g_assert_cmpint(log_count(&ap, "session bar: Send a file shown"), ==,
			0);

	win = wait_window("Permission request", &ap, 20000);
	g_assert_nonnull(win);
	wait_armed(&ap, 1);
	key("alt+a");
	WAIT_FOR(ag.n_grant > 0 || ag.closed, 10000);
	g_assert_cmpuint(ag.grant_caps, ==, LL_CAP_FILES);
	g_free(win);
	g_assert_true(
		wait_log(&ap, "session bar: Send a file shown", 1, 5000));
	win = wait_window("Session$", &ap, 5000);
	g_assert_nonnull(win);
	screenshot("applet-session-bar-send-file", win);
	g_free(win);

	files_send_save(&ag, &ap, src, home, data, len);
	files_hostile(&ag, &ap, home);
	files_resume(&ag, &ap, home);
	files_cancel(&ag, &ap, home);
	files_held(&ag, &ap, home, hold);
	files_disk_full(&ag, &ap, home);
	files_fetch(&ag, &ap, home);
	files_from_bar(&ag, &ap, home);

	g_assert_cmpint(ll_session_io_end(ag.io, "done"), ==, 0);
	applet_close_ended(&ap, "technician", ENDED_TECHNICIAN, 0);
	agent_free(&ag);
	applet_finish(&ap);
	lh_pin_clear(&pin);
	g_free(data);
	g_free(src);
	g_free(hold);
	g_free(home);
	g_free(base);
	g_clear_pointer(&fetch_dir, g_free);
}

int main(int argc, char **argv)
{
	static const char *const tools[] = { "Xvfb", "xdotool", "import" };
	size_t i;
	int rc;

	/* Skipped, and said so (meson: exit 77), without what it needs. */
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
	/* The shortest grace after a lost stream (ended/lost waits for it
	 * to run out). */
	relay = lh_relay_new("applet_gui",
			     "stream_grace_s=" G_STRINGIFY(GRACE_S) "\n");
	lh_relay_start(relay);
	lh_tech_add(relay, "alice", "Alice-Passw0rd-long", false);
	token = lh_login(relay, "alice", "Alice-Passw0rd-long");

	g_test_add_func("/applet/consent-deny", test_deny);
	g_test_add_func("/applet/consent-allow", test_allow);
	g_test_add_func("/applet/files", test_files);
	g_test_add_func("/applet/monitors", test_monitors);
	g_test_add_func("/applet/not-requested", test_not_requested);
	g_test_add_func("/applet/not-permitted", test_not_permitted);
	g_test_add_func("/applet/chat", test_chat);
	g_test_add_func("/applet/stop-end-stress", test_stop_end_stress);
	g_test_add_func("/applet/held-keys-attack", test_held_keys_attack);
	g_test_add_func("/applet/consent-held-key", test_consent_held_key);
	g_test_add_func("/applet/consent-no-pestering", test_no_pestering);
	g_test_add_func("/applet/pin-window", test_pin_window);
	g_test_add_func("/applet/pin-window-long", test_pin_window_long);
	g_test_add_func("/applet/ended/consent-timeout",
			test_ended_consent_timeout);
	g_test_add_func("/applet/ended/lost", test_ended_lost);
	g_test_add_func("/applet/ended/by-relay", test_ended_by_relay);
	g_test_add_func("/applet/ended/queue-gone", test_ended_queue_gone);
	/* last: it moves the relay's clock a day ahead */
	g_test_add_func("/applet/ended/pin-expired", test_ended_pin_expired);
	g_test_add_func("/applet/display-names", test_display_names);
	/* after display-names: its screenshots show the names */
	g_test_add_func("/applet/consent-view-only", test_view_only);
	g_test_add_func("/applet/clipboard-sysinfo", test_clipboard_sysinfo);
	rc = g_test_run();

	g_assert_cmpint(lh_relay_stop(relay, 5000), ==, 0);
	lh_relay_free(relay);
	g_free(token);
	lt_xvfb_stop(xvfb);
	return rc;
}
