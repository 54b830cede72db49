/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CLI's session holder (as ssh's ControlMaster): one background
 * process per session, started by `pin new` as
 *
 *   lifeline-agent --cli-holder --profile DIR --relay URL [--ca FILE]
 *                  --session ID --expires UNIX [--request CAPS]
 *
 * with the agent ticket as the only line on stdin (never in argv, where
 * `ps` would show it).  It opens the session's stream with the ticket,
 * runs the session pump as the agent side, and listens on DIR/ID.sock
 * (0600, in the 0700 profile, peers checked with SO_PEERCRED) for the
 * later `session ...` commands.  It answers "ready" or "error: ..." on
 * stdout once (the starter waits for it), then lives on in its own
 * session (setsid) with stderr on DIR/ID.log, and exits when the session
 * ends, removing its socket.  The RFB screen channel, once the user
 * allowed view, goes to the headless client of rfb_client.c.
 *
 * The socket speaks one JSON request per connection, one line each way:
 *   {"cmd":"status"}                      -> state, capabilities
 *   {"cmd":"wait","timeout":S}            -> capabilities, once answered
 *   {"cmd":"request","capabilities":[..]}
 *   {"cmd":"snapshot","path":ABS}         -> width, height
 *   {"cmd":"click","x":X,"y":Y,"button":N}
 *   {"cmd":"type","text":T}   {"cmd":"key","key":K}
 *   {"cmd":"monitors"}                    -> monitors, current
 *   {"cmd":"monitor","name":N}            -> monitors, current (= N)
 *   {"cmd":"end"}                         -> once ended
 * Answers: {"ok":true,...} or {"ok":false,"code":C,"error":SENTENCE} with
 * C one of usage, denied, no_view, no_control, timeout, ended, failed,
 * no_monitor (the applet refused the monitor; SENTENCE is its reason).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>
#include <jansson.h>

#include "agent.h"
#include "ll_control.h"
#include "ll_err.h"
#include "ll_rfbc.h"
#include "ll_stream.h"
#include "ll_util.h"

#define REQ_MAX (16 * 1024)
#define WAIT_MAX_S (24 * 3600)
/* A snapshot right after a grant may come before the first picture. */
#define FRAME_WAIT_MS 15000
/* The applet's monitor list follows a grant, its answer a choice. */
#define MONITOR_WAIT_MS 10000

struct holder;

struct hclient {
	struct holder *h;
	int fd;
	guint watch;
	guint timer;
	GString *in;
	char *cmd;           /* set once the request is parsed */
	char *path;          /* snapshot */
	char *name;          /* monitor */
	unsigned mon_serial; /* lists and errors seen when asked */
	unsigned err_serial;
	bool answered;
};

struct holder {
	GMainLoop *loop;
	struct ll_profile *profile;
	char *id;
	char *sock_path;
	int listen_fd;
	guint listen_watch;
	guint expiry_timer;
	struct ll_agent_session *sess;
	struct ll_rfbc *rfb;
	GList *waiters;      /* struct hclient * waiting for an answer */
	GList *snappers;     /* waiting for the first picture */
	GList *enders;       /* waiting for the end */
	GList *monitorers;   /* waiting for a monitor list or an answer */
	bool ended;
	int exit_code;
};

static void hclient_free(struct hclient *c)
{
	if (c == NULL)
		return;
	if (c->watch != 0)
		g_source_remove(c->watch);
	if (c->timer != 0)
		g_source_remove(c->timer);
	if (c->fd >= 0)
		close(c->fd);
	if (c->in != NULL)
		g_string_free(c->in, TRUE);
	g_free(c->cmd);
	g_free(c->path);
	g_free(c->name);
	g_free(c);
}

static void forget(struct holder *h, struct hclient *c)
{
	h->waiters = g_list_remove(h->waiters, c);
	h->snappers = g_list_remove(h->snappers, c);
	h->enders = g_list_remove(h->enders, c);
	h->monitorers = g_list_remove(h->monitorers, c);
}

/* Sends the answer (stealing o), then closes and frees the client. */
static void reply(struct hclient *c, json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT);
	size_t off = 0, len;
	ssize_t n;
	int fl;

	json_decref(o);
	forget(c->h, c);
	if (text != NULL) {
		/* a few hundred bytes to our own CLI: blocking is fine */
		fl = fcntl(c->fd, F_GETFL);
		if (fl >= 0)
			fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
		len = strlen(text);
		while (off < len) {
			n = send(c->fd, text + off, len - off, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		(void)send(c->fd, "\n", 1, MSG_NOSIGNAL);
		free(text);
	}
	hclient_free(c);
}

static void reply_err(struct hclient *c, const char *code, const char *msg)
{
	reply(c, json_pack("{s:b,s:s,s:s}", "ok", 0, "code", code, "error",
			   msg));
}

static json_t *caps_json(uint32_t caps)
{
	json_t *a = json_array();
	uint32_t bit;

	for (bit = 1; bit <= LL_CAP_SYSINFO; bit <<= 1)
		if (caps & bit)
			json_array_append_new(a, json_string(ll_cap_name(bit)));
	return a;
}

static void reply_ended(struct hclient *c)
{
	const char *why = ll_agent_session_end_reason(c->h->sess);
	char *msg = g_strdup_printf("the session ended: %s",
				    why != NULL ? why : "unknown");

	reply_err(c, "ended", msg);
	g_free(msg);
}

/* ---- wait ---- */

/* Answers a waiter if its condition holds; true if it did. */
static bool wait_check(struct hclient *c)
{
	struct ll_agent_session *s = c->h->sess;

	if (c->h->ended) {
		reply_ended(c);
		return true;
	}
	if (!ll_agent_session_peer_joined(s) || ll_agent_session_pending(s))
		return false;
	switch (ll_agent_session_answer(s)) {
	case LL_ANSWER_DENIED:
		reply_err(c, "denied", "denied by the user");
		return true;
	case LL_ANSWER_GRANTED:
		reply(c, json_pack("{s:b,s:o}", "ok", 1, "capabilities",
				   caps_json(ll_agent_session_caps(s))));
		return true;
	default:
		return false;
	}
}

static gboolean wait_timeout(gpointer data)
{
	struct hclient *c = data;

	c->timer = 0;
	reply_err(c, "timeout", "timed out");
	return G_SOURCE_REMOVE;
}

static void check_waiters(struct holder *h)
{
	GList *l, *next;

	for (l = h->waiters; l != NULL; l = next) {
		next = l->next;
		wait_check(l->data);
	}
}

/* ---- snapshot ---- */

static void snap_done(int err, const char *msg, void *user)
{
	struct hclient *c = user;
	int w, hh;

	if (err != 0) {
		reply_err(c, "failed", msg);
		return;
	}
	ll_rfbc_size(c->h->rfb, &w, &hh);
	reply(c, json_pack("{s:b,s:s,s:i,s:i}", "ok", 1, "path", c->path,
			   "width", w, "height", hh));
}

static const char no_view_msg[] =
	"no framebuffer: the user has not allowed viewing";

/* Starts the snapshot if the picture is there; true if handled. */
static bool snap_try(struct hclient *c)
{
	struct holder *h = c->h;
	int r;

	if (h->ended) {
		reply_ended(c);
		return true;
	}
	if (!(ll_agent_session_caps(h->sess) & LL_CAP_VIEW)) {
		reply_err(c, "no_view", no_view_msg);
		return true;
	}
	if (h->rfb == NULL || !ll_rfbc_has_frame(h->rfb))
		return false;
	/* the client now belongs to the RFB request until snap_done */
	forget(h, c);
	if (c->timer != 0) {
		g_source_remove(c->timer);
		c->timer = 0;
	}
	if ((r = ll_rfbc_snapshot(h->rfb, c->path, snap_done, c)) != 0)
		reply_err(c, "failed", "no framebuffer: the screen "
				       "connection is closed");
	return true;
}

static gboolean snap_timeout(gpointer data)
{
	struct hclient *c = data;

	c->timer = 0;
	reply_err(c, "failed", "no framebuffer: the applet has not sent a "
			       "picture yet");
	return G_SOURCE_REMOVE;
}

static void check_snappers(struct holder *h)
{
	GList *l, *next;

	for (l = h->snappers; l != NULL; l = next) {
		next = l->next;
		snap_try(l->data);
	}
}

/* ---- monitors ---- */

/* The applet's words, for a terminal: no control characters. */
static char *printable(const char *text)
{
	char *t = g_strdup(text != NULL && g_utf8_validate(text, -1, NULL) ?
				   text : "(unreadable)");
	char *p;

	for (p = t; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return t;
}

static void reply_monitors(struct hclient *c)
{
	const struct ll_control_monitor *m;
	const char *current = NULL;
	json_t *a = json_array();
	size_t n = 0, i;

	m = ll_agent_session_monitors(c->h->sess, &n, &current, NULL);
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:i,s:i,s:I,s:I}",
						   "name", m[i].name,
						   "x", (int)m[i].x,
						   "y", (int)m[i].y,
						   "width",
						   (json_int_t)m[i].width,
						   "height",
						   (json_int_t)m[i].height));
	reply(c, json_pack("{s:b,s:o,s:s}", "ok", 1, "monitors", a,
			   "current", current));
}

/*
 * Answers a monitors / monitor request if it can be answered now; true
 * if it was.  "monitor" waits for the applet's new list naming the choice
 * or its error, "monitors" for a first list after the grant.
 */
static bool monitor_check(struct hclient *c)
{
	struct ll_agent_session *s = c->h->sess;
	const char *current = NULL, *code = NULL, *msg = NULL;
	unsigned serial = 0, eserial;
	size_t n = 0;
	char *t, *words;

	if (c->h->ended) {
		reply_ended(c);
		return true;
	}
	if (!(ll_agent_session_caps(s) & LL_CAP_VIEW)) {
		reply_err(c, "no_view", "no monitors: the user has not "
					"allowed viewing");
		return true;
	}
	ll_agent_session_monitors(s, &n, &current, &serial);
	eserial = ll_agent_session_last_error(s, &code, &msg);
	if (c->name == NULL) {
		if (n == 0)
			return false;
		reply_monitors(c);
		return true;
	}
	if (eserial != c->err_serial) {
		words = printable(msg);
		t = g_strdup_printf("the applet refused monitor %s: %s",
				    c->name, words);
		reply_err(c, code != NULL &&
				     strcmp(code, "unknown_monitor") == 0 ?
				     "no_monitor" : "failed", t);
		g_free(t);
		g_free(words);
		return true;
	}
	if (serial != c->mon_serial && n > 0 &&
	    strcmp(current, c->name) == 0) {
		reply_monitors(c);
		return true;
	}
	return false;
}

static gboolean monitor_timeout(gpointer data)
{
	struct hclient *c = data;

	c->timer = 0;
	reply_err(c, "timeout", c->name != NULL ?
				"the applet did not answer the monitor choice "
				"in time" :
				"the applet has not sent its monitor list");
	return G_SOURCE_REMOVE;
}

static void check_monitorers(struct holder *h)
{
	GList *l, *next;

	for (l = h->monitorers; l != NULL; l = next) {
		next = l->next;
		monitor_check(l->data);
	}
}

static void do_monitors(struct hclient *c, json_t *req, bool select)
{
	struct holder *h = c->h;
	const char *name = NULL;
	int r;

	if (select && (json_unpack(req, "{s:s}", "name", &name) != 0 ||
		       !ll_control_monitor_name_ok(name))) {
		reply_err(c, "usage", "monitor needs a NAME of 1..64 "
				      "characters (or all)");
		return;
	}
	if (name != NULL) {
		c->name = g_strdup(name);
		ll_agent_session_monitors(h->sess, NULL, NULL,
					  &c->mon_serial);
		c->err_serial = ll_agent_session_last_error(h->sess, NULL,
							    NULL);
		if (!h->ended &&
		    (ll_agent_session_caps(h->sess) & LL_CAP_VIEW) &&
		    (r = ll_agent_session_select_monitor(h->sess, name)) !=
			    0) {
			reply_err(c, r == LL_ERR_SCHEMA ? "usage" : "failed",
				  ll_strerror(r));
			return;
		}
	}
	if (monitor_check(c))
		return;
	h->monitorers = g_list_append(h->monitorers, c);
	c->timer = g_timeout_add(MONITOR_WAIT_MS, monitor_timeout, c);
}

/* ---- input ---- */

static bool may_control(struct hclient *c)
{
	struct holder *h = c->h;

	if (h->ended) {
		reply_ended(c);
		return false;
	}
	if (!(ll_agent_session_caps(h->sess) & LL_CAP_CONTROL)) {
		reply_err(c, "no_control",
			  "refused: the user has not allowed control");
		return false;
	}
	if (h->rfb == NULL) {
		reply_err(c, "failed", "the screen connection is not open "
				       "(control needs view too)");
		return false;
	}
	return true;
}

static void do_click(struct hclient *c, json_t *req)
{
	struct ll_rfbc *rfb = c->h->rfb;
	json_int_t x, y, b = 1;
	int r;

	if (json_unpack(req, "{s:I,s:I,s?I}", "x", &x, "y", &y, "button",
			&b) != 0 ||
	    x < 0 || y < 0 || x > 65535 || y > 65535 || b < 1 || b > 8) {
		reply_err(c, "usage", "click needs X and Y in 0..65535 and a "
				      "button 1..8");
		return;
	}
	if (!may_control(c))
		return;
	if ((r = ll_rfbc_pointer(rfb, (int)x, (int)y, 0)) != 0 ||
	    (r = ll_rfbc_pointer(rfb, (int)x, (int)y, 1 << (b - 1))) != 0 ||
	    (r = ll_rfbc_pointer(rfb, (int)x, (int)y, 0)) != 0) {
		reply_err(c, "failed", ll_strerror(r));
		return;
	}
	reply(c, json_pack("{s:b}", "ok", 1));
}

static void send_keys(struct hclient *c, GArray *keys, bool chord)
{
	struct ll_rfbc *rfb = c->h->rfb;
	guint i;
	int r = 0;

	if (chord) {
		for (i = 0; i < keys->len && r == 0; i++)
			r = ll_rfbc_key(rfb, g_array_index(keys, guint32, i),
					true);
		for (i = keys->len; i > 0 && r == 0; i--)
			r = ll_rfbc_key(rfb,
					g_array_index(keys, guint32, i - 1),
					false);
	} else {
		for (i = 0; i < keys->len && r == 0; i++) {
			r = ll_rfbc_key(rfb, g_array_index(keys, guint32, i),
					true);
			if (r == 0)
				r = ll_rfbc_key(
					rfb, g_array_index(keys, guint32, i),
					false);
		}
	}
	if (r != 0)
		reply_err(c, "failed", ll_strerror(r));
	else
		reply(c, json_pack("{s:b,s:i}", "ok", 1, "keys",
				   (int)keys->len));
}

static void do_keys(struct hclient *c, json_t *req, bool text)
{
	const char *arg = NULL;
	GArray *keys = NULL;
	char *err = NULL;

	if (json_unpack(req, "{s:s}", text ? "text" : "key", &arg) != 0) {
		reply_err(c, "usage", text ? "type needs TEXT"
					   : "key needs KEYSYM");
		return;
	}
	/* parse first: a bad key name is a usage error either way */
	if ((text ? ll_keys_from_text(arg, &keys, &err)
		  : ll_keys_parse_combo(arg, &keys, &err)) != 0) {
		reply_err(c, "usage", err);
		g_free(err);
		return;
	}
	if (may_control(c))
		send_keys(c, keys, !text);
	g_array_unref(keys);
}

/* ---- requests ---- */

static void handle(struct hclient *c, json_t *req)
{
	struct holder *h = c->h;
	const char *cmd = NULL, *path = NULL;
	json_int_t timeout = 0;
	json_t *caps_arr = NULL, *v;
	const char **names;
	char *err = NULL, *state;
	uint32_t caps, id = 0;
	size_t i;
	int r;

	if (json_unpack(req, "{s:s}", "cmd", &cmd) != 0) {
		reply_err(c, "usage", "no command");
		return;
	}
	c->cmd = g_strdup(cmd);
	if (strcmp(cmd, "status") == 0) {
		state = g_strdup(ll_agent_state_text(
			ll_agent_session_state(h->sess)));
		reply(c, json_pack(
			"{s:b,s:s,s:s,s:o,s:b,s:s?}", "ok", 1, "session_id",
			h->id, "state", state, "capabilities",
			caps_json(ll_agent_session_caps(h->sess)), "joined",
			ll_agent_session_peer_joined(h->sess), "ended",
			ll_agent_session_end_reason(h->sess)));
		g_free(state);
	} else if (strcmp(cmd, "wait") == 0) {
		if (json_unpack(req, "{s?I}", "timeout", &timeout) != 0 ||
		    timeout < 0 || timeout > WAIT_MAX_S) {
			reply_err(c, "usage", "timeout must be 0..86400 s");
			return;
		}
		if (wait_check(c))
			return;
		h->waiters = g_list_append(h->waiters, c);
		if (timeout > 0)
			c->timer = g_timeout_add_seconds((guint)timeout,
							 wait_timeout, c);
	} else if (strcmp(cmd, "request") == 0) {
		if (json_unpack(req, "{s:o}", "capabilities", &caps_arr) != 0 ||
		    !json_is_array(caps_arr) ||
		    json_array_size(caps_arr) == 0 ||
		    json_array_size(caps_arr) > 16) {
			reply_err(c, "usage", "request needs capabilities");
			return;
		}
		names = g_new0(const char *, json_array_size(caps_arr) + 1);
		json_array_foreach(caps_arr, i, v)
			names[i] = json_is_string(v) ? json_string_value(v)
						     : "?";
		caps = ll_agent_caps_parse(names,
					   (int)json_array_size(caps_arr),
					   &err);
		g_free(names);
		if (caps == 0) {
			reply_err(c, "usage", err);
			g_free(err);
			return;
		}
		if (h->ended) {
			reply_ended(c);
			return;
		}
		if ((r = ll_agent_session_request(h->sess, caps, &id)) != 0) {
			reply_err(c, "failed", ll_strerror(r));
			return;
		}
		reply(c, json_pack("{s:b,s:i}", "ok", 1, "id", (int)id));
	} else if (strcmp(cmd, "snapshot") == 0) {
		if (json_unpack(req, "{s:s}", "path", &path) != 0 ||
		    !g_path_is_absolute(path)) {
			reply_err(c, "usage", "snapshot needs an absolute "
					      "path");
			return;
		}
		c->path = g_strdup(path);
		if (snap_try(c))
			return;
		h->snappers = g_list_append(h->snappers, c);
		c->timer = g_timeout_add(FRAME_WAIT_MS, snap_timeout, c);
	} else if (strcmp(cmd, "click") == 0) {
		do_click(c, req);
	} else if (strcmp(cmd, "type") == 0) {
		do_keys(c, req, true);
	} else if (strcmp(cmd, "key") == 0) {
		do_keys(c, req, false);
	} else if (strcmp(cmd, "monitors") == 0) {
		do_monitors(c, req, false);
	} else if (strcmp(cmd, "monitor") == 0) {
		do_monitors(c, req, true);
	} else if (strcmp(cmd, "end") == 0) {
		if (h->ended) {
			reply(c, json_pack("{s:b,s:s}", "ok", 1, "ended",
					   ll_agent_session_end_reason(
						   h->sess)));
			return;
		}
		h->enders = g_list_append(h->enders, c);
		ll_agent_session_end(h->sess, "the technician ended the "
					      "session");
	} else {
		reply_err(c, "usage", "unknown command");
	}
}

static gboolean client_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct hclient *c = data;
	char buf[4096], *nl;
	json_t *req;
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		/* the CLI went away (e.g. ^C during wait) */
		c->watch = 0;
		forget(c->h, c);
		hclient_free(c);
		return G_SOURCE_REMOVE;
	}
	if (c->cmd != NULL)
		return G_SOURCE_CONTINUE;  /* one request per connection */
	g_string_append_len(c->in, buf, n);
	if ((nl = memchr(c->in->str, '\n', c->in->len)) == NULL) {
		if (c->in->len > REQ_MAX) {
			c->watch = 0;
			reply_err(c, "usage", "request too large");
			return G_SOURCE_REMOVE;
		}
		return G_SOURCE_CONTINUE;
	}
	req = json_loadb(c->in->str, (size_t)(nl - c->in->str),
			 JSON_REJECT_DUPLICATES, NULL);
	if (req == NULL || !json_is_object(req)) {
		json_decref(req);
		c->watch = 0;
		reply_err(c, "usage", "the request is not a JSON object");
		return G_SOURCE_REMOVE;
	}
	/* keep watching for a hang-up while the answer is pending */
	handle(c, req);
	json_decref(req);
	(void)cond;
	return G_SOURCE_CONTINUE;
}

static gboolean listen_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct holder *h = data;
	struct hclient *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int cfd;

	(void)cond;
	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return G_SOURCE_CONTINUE;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    cred.uid != geteuid()) {
		close(cfd);
		return G_SOURCE_CONTINUE;
	}
	c = g_new0(struct hclient, 1);
	c->h = h;
	c->fd = cfd;
	c->in = g_string_new(NULL);
	c->watch = g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR,
				 client_readable, c);
	return G_SOURCE_CONTINUE;
}

/* ---- session events ---- */

static void rfb_frame(struct ll_rfbc *rfb, void *user)
{
	(void)rfb;
	check_snappers(user);
}

static void rfb_closed(struct ll_rfbc *rfb, int err, const char *why,
		       void *user)
{
	struct holder *h = user;

	ll_info("session %s: screen connection closed (%s)", h->id, why);
	(void)err;
	if (h->rfb == rfb) {
		ll_rfbc_free(h->rfb);
		h->rfb = NULL;
	}
}

static void on_changed(struct ll_agent_session *s, void *user)
{
	struct holder *h = user;

	/* The end is reported as a change first (capabilities gone), then
	 * on_ended: answer waiting clients there, with the reason, rather
	 * than "not allowed" here. */
	if (ll_agent_session_state(s) == LL_AGENT_ENDED)
		return;
	check_waiters(h);
	check_snappers(h);
	check_monitorers(h);
}

static void on_rfb(struct ll_agent_session *s, int fd, void *user)
{
	static const struct ll_rfbc_cbs cbs = {
		.on_frame = rfb_frame,
		.on_closed = rfb_closed,
	};
	struct holder *h = user;
	int r;

	(void)s;
	ll_rfbc_free(h->rfb);
	h->rfb = NULL;
	if ((r = ll_rfbc_start(fd, NULL, &cbs, h, &h->rfb)) != 0) {
		ll_warn("session %s: cannot start the RFB client: %s", h->id,
			ll_strerror(r));
		close(fd);
	}
}

static void on_rfb_closed(struct ll_agent_session *s, void *user)
{
	/* The bridge closed our socket's peer: the RFB thread reads EOF,
	 * fails what is in flight (snapshots answer "closed") and reports
	 * rfb_closed, which frees it.  Freeing here would drop those. */
	(void)s;
	(void)user;
}

static gboolean quit_idle(gpointer data)
{
	struct holder *h = data;

	g_main_loop_quit(h->loop);
	return G_SOURCE_REMOVE;
}

static void on_ended(struct ll_agent_session *s, const char *reason,
		     void *user)
{
	struct holder *h = user;
	struct hclient *c;

	(void)s;
	h->ended = true;
	/* no new clients from now on */
	if (h->listen_watch != 0) {
		g_source_remove(h->listen_watch);
		h->listen_watch = 0;
	}
	unlink(h->sock_path);
	while (h->enders != NULL) {
		c = h->enders->data;
		reply(c, json_pack("{s:b,s:s}", "ok", 1, "ended", reason));
	}
	check_waiters(h);
	check_snappers(h);
	check_monitorers(h);
	g_idle_add(quit_idle, h);
}

static gboolean on_expiry(gpointer data)
{
	struct holder *h = data;

	h->expiry_timer = 0;
	if (!ll_agent_session_peer_joined(h->sess)) {
		ll_info("session %s: the PIN expired; nobody joined", h->id);
		if (ll_agent_session_end(h->sess, "the PIN expired") != 0)
			g_main_loop_quit(h->loop);
	}
	return G_SOURCE_REMOVE;
}

static gboolean on_signal(gpointer data)
{
	struct holder *h = data;

	if (h->ended || ll_agent_session_end(h->sess, "the technician "
						      "ended the session") != 0)
		g_main_loop_quit(h->loop);
	return G_SOURCE_CONTINUE;
}

/* ---- start ---- */

static int listen_socket(const char *path, char **err)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*err = g_strdup_printf("the socket path %s is too long: use a "
				       "shorter --profile",
				       path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		*err = g_strdup_printf("socket: %s", g_strerror(errno));
		return -1;
	}
	unlink(path);
	/* created 0600 from the start, not chmod'ed afterwards */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r != 0 || chmod(path, 0600) != 0 || listen(fd, 16) != 0) {
		*err = g_strdup_printf("cannot listen on %s: %s", path,
				       g_strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static char *read_ticket(void)
{
	char buf[1024];
	size_t len = 0;
	ssize_t n;
	char *t = NULL;

	while (len < sizeof(buf) - 1) {
		n = read(0, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len) != NULL)
			break;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len > 0 && memchr(buf, '\n', len) == NULL)
		t = g_strndup(buf, len);
	memset(buf, 0, sizeof(buf));
	return t;
}

static void status_line(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void status_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

int ll_agent_holder_main(int argc, char **argv)
{
	static const struct ll_agent_session_cbs cbs = {
		.on_changed = on_changed,
		.on_rfb = on_rfb,
		.on_rfb_closed = on_rfb_closed,
		.on_ended = on_ended,
	};
	char *profile_dir = NULL, *relay = NULL, *ca = NULL, *id = NULL;
	char *request = NULL, *err = NULL, *ticket = NULL, *log_path;
	gint64 expires = 0;
	GOptionEntry entries[] = {
		{ "cli-holder", 0, 0, G_OPTION_ARG_NONE, NULL, NULL, NULL },
		{ "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile_dir, NULL,
		  NULL },
		{ "relay", 0, 0, G_OPTION_ARG_STRING, &relay, NULL, NULL },
		{ "ca", 0, 0, G_OPTION_ARG_FILENAME, &ca, NULL, NULL },
		{ "session", 0, 0, G_OPTION_ARG_STRING, &id, NULL, NULL },
		{ "expires", 0, 0, G_OPTION_ARG_INT64, &expires, NULL, NULL },
		{ "request", 0, 0, G_OPTION_ARG_STRING, &request, NULL, NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	gboolean dummy = FALSE;
	struct ll_relay_opts ro = { 0 };
	struct ll_client_error cerr;
	struct ll_stream *stream = NULL;
	struct holder h;
	GOptionContext *octx;
	GError *gerr = NULL;
	uint32_t caps = LL_CAP_VIEW | LL_CAP_CONTROL;
	const char *one[1];
	int64_t wait_s;
	int r, fd;

	memset(&h, 0, sizeof(h));
	h.listen_fd = -1;
	h.exit_code = 1;
	entries[0].arg_data = &dummy;
	octx = g_option_context_new(NULL);
	g_option_context_add_main_entries(octx, entries, NULL);
	if (!g_option_context_parse(octx, &argc, &argv, &gerr)) {
		status_line("error: %s", gerr->message);
		g_error_free(gerr);
		goto out;
	}
	if (profile_dir == NULL || relay == NULL ||
	    !ll_agent_session_id_ok(id)) {
		status_line("error: the holder needs --profile, --relay and "
			    "--session");
		goto out;
	}
	if (request != NULL) {
		one[0] = request;
		if ((caps = ll_agent_caps_parse(one, 1, &err)) == 0) {
			status_line("error: %s", err);
			goto out;
		}
	}
	if ((ticket = read_ticket()) == NULL) {
		status_line("error: no ticket on stdin");
		goto out;
	}
	if (ll_profile_open(profile_dir, &h.profile, &err) != 0) {
		status_line("error: %s", err);
		goto out;
	}
	h.id = g_strdup(id);
	h.sock_path = ll_profile_socket_path(h.profile, id);
	if (h.sock_path == NULL) {
		status_line("error: the profile path %s is too long for a "
			    "socket",
			    profile_dir);
		goto out;
	}
	ro.url = relay;
	ro.ca_file = ca;
	ll_client_error_clear(&cerr);
	if ((r = ll_stream_open(&ro, NULL, ticket, &stream, &cerr)) != 0) {
		status_line("error: cannot open the session stream: %s",
			    cerr.message);
		goto out;
	}
	if ((h.listen_fd = listen_socket(h.sock_path, &err)) < 0) {
		status_line("error: %s", err);
		goto out;
	}
	h.loop = g_main_loop_new(NULL, FALSE);
	if ((r = ll_agent_session_new(stream, &ro, id, ticket, caps, &cbs, &h,
				      &h.sess)) != 0) {
		status_line("error: cannot start the session: %s",
			    ll_strerror(r));
		goto out;
	}
	stream = NULL;
	h.listen_watch = g_unix_fd_add(h.listen_fd, G_IO_IN, listen_readable,
				       &h);
	wait_s = expires > 0 ? expires - ll_now_unix() + 30 : 0;
	if (wait_s > 0 && wait_s < 7 * 24 * 3600)
		h.expiry_timer = g_timeout_add_seconds((guint)wait_s,
						       on_expiry, &h);
	g_unix_signal_add(SIGTERM, on_signal, &h);
	g_unix_signal_add(SIGINT, on_signal, &h);
	g_unix_signal_add(SIGHUP, on_signal, &h);

	/* ready: detach from the starter's terminal and pipes */
	status_line("ready");
	log_path = ll_profile_log_path(h.profile, id);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		close(fd);
	}
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
	g_free(log_path);
	ll_info("session %s: holder started, socket %s", id, h.sock_path);

	g_main_loop_run(h.loop);
	h.exit_code = 0;
out:
	if (h.expiry_timer != 0)
		g_source_remove(h.expiry_timer);
	if (h.listen_watch != 0)
		g_source_remove(h.listen_watch);
	if (h.listen_fd >= 0) {
		close(h.listen_fd);
		unlink(h.sock_path);
	}
	while (h.waiters != NULL)
		reply_err(h.waiters->data, "ended", "the holder stopped");
	while (h.snappers != NULL)
		reply_err(h.snappers->data, "ended", "the holder stopped");
	while (h.enders != NULL)
		reply_err(h.enders->data, "ended", "the holder stopped");
	while (h.monitorers != NULL)
		reply_err(h.monitorers->data, "ended", "the holder stopped");
	ll_rfbc_free(h.rfb);
	ll_agent_session_free(h.sess);
	ll_agent_events_wait(12000);
	ll_stream_free(stream);
	if (h.loop != NULL)
		g_main_loop_unref(h.loop);
	ll_profile_free(h.profile);
	g_free(h.id);
	g_free(h.sock_path);
	ll_secret_free(ticket);
	g_free(err);
	g_free(profile_dir);
	g_free(relay);
	g_free(ca);
	g_free(id);
	g_free(request);
	g_option_context_free(octx);
	return h.exit_code;
}
