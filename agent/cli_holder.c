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
 * The socket speaks one JSON request per connection, one line each way,
 * as cli_commands.h describes: the request is parsed and checked by the
 * command table, refused without the row's capability, and handed to the
 * row's handler here, which answers:
 *   status     -> session_id, state, capabilities, joined, ended
 *   wait       -> capabilities, once the user answered
 *   request    -> capabilities, once the user answered (as wait)
 *   snapshot   -> path, width, height
 *   click, type, key -> (keys)
 *   monitors   -> monitors, current
 *   monitor    -> monitors, current (= the name asked for)
 *   sysinfo    -> sysinfo (ll_sysinfo.h's fields, printable)
 *   end        -> ended, once ended
 *   chat       -> (the line sent)
 *   chat-log   -> lines [{seq, time, from, text}]; wait adds chat, the
 *                 user's lines since the previous wait, and offers
 *                 [{name, size}], the user's file offers no wait told
 * Answer codes: usage, denied, held_back, no_more (the applet's reason of
 * a deny), no_view, no_control, timeout, ended, failed, no_monitor (the applet refused the monitor; the sentence is
 * its reason).
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
#include "cli_commands.h"
#include "ll_control.h"
#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_rfb_quality.h"
#include "ll_rfbc.h"
#include "ll_stream.h"
#include "ll_sysinfo.h"
#include "ll_text.h"
#include "ll_util.h"
#include "ll_xfer.h"
#include "ll_xfer_io.h"

/* A snapshot right after a grant may come before the first picture. */
#define FRAME_WAIT_MS 15000
/* The applet's monitor list follows a grant, its answer a choice. */
#define MONITOR_WAIT_MS 10000
/* The applet reads its system information at once. */
#define SYSINFO_WAIT_MS 10000

struct holder;

struct ll_holder_client {
	struct holder *h;
	int fd;
	guint watch;
	guint timer;
	GString *in;
	struct ll_cli_req *req; /* set once the request is parsed */
	const char *path;       /* snapshot: of req */
	bool as_shown;          /* snapshot: --as-shown */
	const char *name;       /* monitor: of req */
	unsigned mon_serial;    /* lists and errors seen when asked */
	unsigned err_serial;
	unsigned info_serial; /* sysinfo answers seen when asked */
	bool answered;
	/* send / fetch: the transfer, or the request not yet answered */
	struct ll_xfer *xfer;
	uint32_t fetch_id;
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
	unsigned band_serial; /* the quality band rfb was last told */
	GList *waiters;  /* struct ll_holder_client * waiting for an answer */
	GList *snappers; /* waiting for the first picture */
	GList *enders;   /* waiting for the end */
	GList *monitorers; /* waiting for a monitor list or an answer */
	GList *sysinfoers; /* waiting for the applet's sysinfo */
	GList *filers;     /* waiting for a file transfer's end */
	GList *offers;     /* the user's offers no `receive` took yet */
	GList *announced;  /* of those, the ones `wait` printed */
	bool ended;
	bool pin_expired; /* our own timer ended it: nobody came */
	/* the user's chat lines `wait` printed */
	uint64_t chat_waited;
	struct ll_relay_opts ro;
	int exit_code;
};

static void holder_client_free(struct ll_holder_client *c)
{
	if (c == NULL)
		return;
	g_clear_handle_id(&c->watch, g_source_remove);
	g_clear_handle_id(&c->timer, g_source_remove);
	if (c->fd >= 0)
		close(c->fd);
	if (c->in != NULL)
		g_string_free(c->in, TRUE);
	ll_cli_req_free(c->req);
	g_free(c);
}

static void forget(struct holder *h, struct ll_holder_client *c)
{
	h->waiters = g_list_remove(h->waiters, c);
	h->snappers = g_list_remove(h->snappers, c);
	h->enders = g_list_remove(h->enders, c);
	h->monitorers = g_list_remove(h->monitorers, c);
	h->sysinfoers = g_list_remove(h->sysinfoers, c);
	h->filers = g_list_remove(h->filers, c);
}

/* Sends the answer (stealing o), then closes and frees the client. */
static void reply(struct ll_holder_client *c, json_t *o)
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
	holder_client_free(c);
}

static void reply_err(struct ll_holder_client *c, const char *code,
		      const char *msg)
{
	reply(c,
	      json_pack("{s:b,s:s,s:s}", "ok", 0, "code", code, "error", msg));
}

static void reply_ended(struct ll_holder_client *c)
{
	const char *why = ll_agent_session_end_reason(c->h->sess);
	char *msg = g_strdup_printf("the session ended: %s",
				    why != NULL ? why : "unknown");

	reply_err(c, "ended", msg);
	g_free(msg);
}

/*
 * The capability the client's command needs (the table's row): false,
 * with the client answered (and gone), when the session is over or the
 * user has not allowed it.  At dispatch, and again whenever a waiting
 * client is looked at.
 */
static bool allowed(struct ll_holder_client *c)
{
	const struct ll_cli_command *cmd = c->req->cmd;
	struct holder *h = c->h;
	char *code;

	if (cmd->needs == 0)
		return true;
	if (h->ended) {
		reply_ended(c);
		return false;
	}
	if (!(ll_agent_session_caps(h->sess) & cmd->needs)) {
		code = g_strdup_printf("no_%s", ll_cap_name(cmd->needs));
		reply_err(c, code, cmd->refusal);
		g_free(code);
		return false;
	}
	return true;
}

/* ---- wait ---- */

/* The user's no, with the applet's reason: its own code (and exit
 * status) for a request held back or refused for good. */
static void reply_denied(struct ll_holder_client *c)
{
	static const char *const codes[] = {
		[LL_DENY_UNSAID] = "denied",
		[LL_DENY_DECLINED] = "denied",
		[LL_DENY_HELD_BACK] = "held_back",
		[LL_DENY_NO_MORE] = "no_more",
	};
	uint32_t retry = 0;
	enum ll_deny_reason why = ll_agent_session_deny_reason(c->h->sess,
							       &retry);
	char *text = ll_agent_deny_text(why, retry);

	reply_err(c, (size_t)why < G_N_ELEMENTS(codes) ? codes[why] : "denied",
		  text);
	g_free(text);
}

/* `session wait` prints the user's chat lines it has not printed yet. */
static json_t *wait_chat(struct ll_holder_client *c)
{
	const struct ll_chat_log *log;
	json_t *lines;

	if (c->req->cmd->holder != ll_holder_wait)
		return NULL;
	log = ll_agent_session_chat(c->h->sess, NULL);
	lines = ll_cli_chat_json(log, c->h->chat_waited, true);
	c->h->chat_waited = ll_cli_chat_last_seq(log);
	return lines;
}

/* `session wait` prints the user's offers it has not printed yet: the
 * name made safe (as `receive` would save it) and the size. */
static json_t *wait_offers(struct ll_holder_client *c)
{
	char safe[LL_XFER_NAME_MAX + 1];
	json_t *a;
	GList *l;

	if (c->req->cmd->holder != ll_holder_wait ||
	    (a = json_array()) == NULL)
		return NULL;
	for (l = c->h->offers; l != NULL; l = l->next) {
		if (g_list_find(c->h->announced, l->data) != NULL)
			continue;
		ll_xfer_safe_name(ll_xfer_name(l->data), safe, sizeof(safe));
		json_array_append_new(
			a, json_pack("{s:s,s:I}", "name", safe, "size",
				     (json_int_t)ll_xfer_size(l->data)));
		c->h->announced = g_list_prepend(c->h->announced, l->data);
	}
	return a;
}

/* Answers a waiter if its condition holds; true if it did. */
static bool wait_check(struct ll_holder_client *c)
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
		reply_denied(c);
		return true;
	case LL_ANSWER_GRANTED:
		reply(c,
		      json_pack("{s:b,s:o,s:o*,s:o*}", "ok", 1, "capabilities",
				ll_cli_caps_json(ll_agent_session_caps(s)),
				"chat", wait_chat(c), "offers",
				wait_offers(c)));
		return true;
	default:
		return false;
	}
}

static gboolean wait_timeout(gpointer data)
{
	struct ll_holder_client *c = data;

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
	struct ll_holder_client *c = user;
	int w, hh;

	if (err != 0) {
		reply_err(c, "failed", msg);
		return;
	}
	ll_rfbc_size(c->h->rfb, &w, &hh);
	reply(c, json_pack("{s:b,s:s,s:i,s:i}", "ok", 1, "path", c->path,
			   "width", w, "height", hh));
}

/* Starts the snapshot if the picture is there; true if handled. */
static bool snap_try(struct ll_holder_client *c)
{
	struct holder *h = c->h;
	int r;

	if (!allowed(c))
		return true;
	if (h->rfb == NULL || !ll_rfbc_has_frame(h->rfb))
		return false;
	/* the client now belongs to the RFB request until snap_done */
	forget(h, c);
	g_clear_handle_id(&c->timer, g_source_remove);
	if ((r = ll_rfbc_snapshot(h->rfb, c->path, c->as_shown, snap_done,
				  c)) != 0)
		reply_err(c, "failed",
			  "no framebuffer: the screen "
			  "connection is closed");
	return true;
}

static gboolean snap_timeout(gpointer data)
{
	struct ll_holder_client *c = data;

	c->timer = 0;
	reply_err(c, "failed",
		  "no framebuffer: the applet has not sent a "
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

/*
 * The applet's names go to a terminal (or a script's): through the
 * display rule (ll_text.h) here, where they leave the session, so that
 * the CLI prints the holder's answers as they are.
 */
static void reply_monitors(struct ll_holder_client *c)
{
	char shown[LL_TEXT_PRINTABLE_SIZE(LL_CONTROL_MAX_MONITOR_NAME)];
	const struct ll_control_monitor *m;
	const char *current = NULL;
	json_t *a = json_array();
	size_t n = 0, i;

	m = ll_agent_session_monitors(c->h->sess, &n, &current, NULL);
	for (i = 0; i < n; i++) {
		ll_text_printable(shown, sizeof(shown), m[i].name,
				  strlen(m[i].name));
		json_array_append_new(
			a, json_pack("{s:s,s:i,s:i,s:I,s:I}", "name", shown,
				     "x", (int)m[i].x, "y", (int)m[i].y,
				     "width", (json_int_t)m[i].width, "height",
				     (json_int_t)m[i].height));
	}
	ll_text_printable(shown, sizeof(shown), current,
			  current != NULL ? strlen(current) : 0);
	reply(c, json_pack("{s:b,s:o,s:s}", "ok", 1, "monitors", a, "current",
			   shown));
}

/*
 * Answers a monitors / monitor request if it can be answered now; true
 * if it was.  "monitor" waits for the applet's new list naming the choice
 * or its error, "monitors" for a first list after the grant.
 */
static bool monitor_check(struct ll_holder_client *c)
{
	struct ll_agent_session *s = c->h->sess;
	const char *current = NULL, *code = NULL, *msg = NULL;
	unsigned serial = 0, eserial;
	size_t n = 0;
	char *t;

	if (!allowed(c))
		return true;
	ll_agent_session_monitors(s, &n, &current, &serial);
	eserial = ll_agent_session_last_error(s, &code, &msg);
	if (c->name == NULL) {
		if (n == 0)
			return false;
		reply_monitors(c);
		return true;
	}
	if (eserial != c->err_serial) {
		/* msg passed the display rule in session.c. */
		t = g_strdup_printf("the applet refused monitor %s: %s",
				    c->name, msg != NULL ? msg : "no reason");
		reply_err(c,
			  code != NULL && strcmp(code, "unknown_monitor") == 0
				  ? "no_monitor"
				  : "failed",
			  t);
		g_free(t);
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
	struct ll_holder_client *c = data;

	c->timer = 0;
	reply_err(c, "timeout",
		  c->name != NULL
			  ? "the applet did not answer the monitor choice "
			    "in time"
			  : "the applet has not sent its monitor list");
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

/* Answers now, or when the applet's list or error comes. */
static void monitors_wait(struct ll_holder_client *c)
{
	if (monitor_check(c))
		return;
	c->h->monitorers = g_list_append(c->h->monitorers, c);
	c->timer = g_timeout_add(MONITOR_WAIT_MS, monitor_timeout, c);
}

void ll_holder_monitors(struct ll_holder_client *c,
			const struct ll_cli_req *req)
{
	(void)req;
	monitors_wait(c);
}

void ll_holder_monitor(struct ll_holder_client *c,
		       const struct ll_cli_req *req)
{
	struct holder *h = c->h;
	int r;

	/* the answer is the first list, or error, after these */
	c->name = ll_cli_req_str(req, "name");
	ll_agent_session_monitors(h->sess, NULL, NULL, &c->mon_serial);
	c->err_serial = ll_agent_session_last_error(h->sess, NULL, NULL);
	if ((r = ll_agent_session_select_monitor(h->sess, c->name)) != 0) {
		reply_err(c, r == LL_ERR_SCHEMA ? "usage" : "failed",
			  ll_strerror(r));
		return;
	}
	monitors_wait(c);
}

/* ---- sysinfo ---- */

/* Answers a sysinfo request once the applet's answer (newer than the
 * request) or its error came; true if it did. */
static bool sysinfo_check(struct ll_holder_client *c)
{
	struct ll_agent_session *s = c->h->sess;
	const struct ll_sysinfo *si;
	const char *msg = NULL;
	unsigned serial = 0;
	json_t *o;
	char *t;

	if (!allowed(c))
		return true;
	si = ll_agent_session_sysinfo(s, &serial);
	if (ll_agent_session_last_error(s, NULL, &msg) != c->err_serial) {
		/* msg passed the display rule in session.c. */
		t = g_strdup_printf("the applet refused: %s",
				    msg != NULL ? msg : "no reason");
		reply_err(c, "failed", t);
		g_free(t);
		return true;
	}
	if (serial == c->info_serial || si == NULL)
		return false;
	o = json_object();
	if (o == NULL || ll_sysinfo_to_json(si, o) != 0) {
		json_decref(o);
		reply_err(c, "failed",
			  "the system information cannot be "
			  "described");
		return true;
	}
	reply(c, json_pack("{s:b,s:o}", "ok", 1, "sysinfo", o));
	return true;
}

static gboolean sysinfo_timeout(gpointer data)
{
	struct ll_holder_client *c = data;

	c->timer = 0;
	reply_err(c, "timeout", "the applet did not answer in time");
	return G_SOURCE_REMOVE;
}

static void check_sysinfoers(struct holder *h)
{
	GList *l, *next;

	for (l = h->sysinfoers; l != NULL; l = next) {
		next = l->next;
		sysinfo_check(l->data);
	}
}

void ll_holder_sysinfo(struct ll_holder_client *c,
		       const struct ll_cli_req *req)
{
	struct holder *h = c->h;
	int r;

	(void)req;
	ll_agent_session_sysinfo(h->sess, &c->info_serial);
	c->err_serial = ll_agent_session_last_error(h->sess, NULL, NULL);
	if ((r = ll_agent_session_ask_sysinfo(h->sess)) != 0) {
		reply_err(c, "failed", ll_strerror(r));
		return;
	}
	h->sysinfoers = g_list_append(h->sysinfoers, c);
	c->timer = g_timeout_add(SYSINFO_WAIT_MS, sysinfo_timeout, c);
}

/* ---- input ---- */

/* Input goes over the screen connection: control needs view too. */
static bool screen_open(struct ll_holder_client *c)
{
	if (c->h->rfb == NULL) {
		reply_err(c, "failed",
			  "the screen connection is not open "
			  "(control needs view too)");
		return false;
	}
	return true;
}

void ll_holder_click(struct ll_holder_client *c, const struct ll_cli_req *req)
{
	struct ll_rfbc *rfb = c->h->rfb;
	int x = (int)ll_cli_req_int(req, "x");
	int y = (int)ll_cli_req_int(req, "y");
	int b = (int)ll_cli_req_int(req, "button");
	int r;

	if (!screen_open(c))
		return;
	if ((r = ll_rfbc_pointer(rfb, x, y, 0)) != 0 ||
	    (r = ll_rfbc_pointer(rfb, x, y, 1 << (b - 1))) != 0 ||
	    (r = ll_rfbc_pointer(rfb, x, y, 0)) != 0) {
		reply_err(c, "failed", ll_strerror(r));
		return;
	}
	reply(c, json_pack("{s:b}", "ok", 1));
}

static void send_keys(struct ll_holder_client *c, const GArray *keys,
		      bool chord)
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
				r = ll_rfbc_key(rfb,
						g_array_index(keys, guint32,
							      i),
						false);
		}
	}
	if (r != 0)
		reply_err(c, "failed", ll_strerror(r));
	else
		reply(c,
		      json_pack("{s:b,s:i}", "ok", 1, "keys", (int)keys->len));
}

void ll_holder_type(struct ll_holder_client *c, const struct ll_cli_req *req)
{
	if (screen_open(c))
		send_keys(c, ll_cli_req_keys(req, "text"), false);
}

void ll_holder_key(struct ll_holder_client *c, const struct ll_cli_req *req)
{
	if (screen_open(c))
		send_keys(c, ll_cli_req_keys(req, "key"), true);
}

/* ---- the other commands ---- */

void ll_holder_status(struct ll_holder_client *c, const struct ll_cli_req *req)
{
	struct holder *h = c->h;
	char *state;

	(void)req;
	state = g_strdup(ll_agent_state_text(ll_agent_session_state(h->sess)));
	reply(c, json_pack("{s:b,s:s,s:s,s:o,s:b,s:b,s:s?,s:s?}", "ok", 1,
			   "session_id", h->id, "state", state, "capabilities",
			   ll_cli_caps_json(ll_agent_session_caps(h->sess)),
			   "joined", ll_agent_session_peer_joined(h->sess),
			   "interrupted", ll_agent_session_stalled(h->sess),
			   "ended", ll_agent_session_end_reason(h->sess),
			   "user", ll_agent_session_who(h->sess)));
	g_free(state);
}

void ll_holder_wait(struct ll_holder_client *c, const struct ll_cli_req *req)
{
	struct holder *h = c->h;

	if (wait_check(c))
		return;
	h->waiters = g_list_append(h->waiters, c);
	if (ll_cli_req_has(req, "timeout"))
		c->timer = g_timeout_add_seconds(
			(guint)ll_cli_req_int(req, "timeout"), wait_timeout,
			c);
}

void ll_holder_request(struct ll_holder_client *c,
		       const struct ll_cli_req *req)
{
	struct holder *h = c->h;
	uint32_t caps = ll_cli_req_caps(req, "capabilities");
	uint32_t beyond = caps & ~ll_profile_caps(h->profile);
	char names[LL_PERM_TEXT_MAX], *msg;
	uint32_t id = 0;
	int r;

	if (h->ended) {
		reply_ended(c);
		return;
	}
	/* what the group does not permit is not asked for: the applet
	 * would refuse it unseen (docs/API.md "Groups and permissions") */
	if (beyond != 0) {
		if (ll_perm_format(beyond, names, sizeof(names)) != LL_OK)
			names[0] = '\0';
		msg = g_strdup_printf("your group does not permit %s", names);
		reply_err(c, "capability_not_permitted", msg);
		g_free(msg);
		return;
	}
	if ((r = ll_agent_session_request(h->sess, caps, &id)) != 0) {
		reply_err(c, "failed", ll_strerror(r));
		return;
	}
	/* The answer is the user's, as for `session wait`: an "ok" before
	 * it would tell a script nothing. */
	ll_holder_wait(c, req);
}

void ll_holder_snapshot(struct ll_holder_client *c,
			const struct ll_cli_req *req)
{
	struct holder *h = c->h;

	c->path = ll_cli_req_str(req, "path");
	c->as_shown = ll_cli_req_has(req, "as_shown");
	if (snap_try(c))
		return;
	h->snappers = g_list_append(h->snappers, c);
	c->timer = g_timeout_add(FRAME_WAIT_MS, snap_timeout, c);
}

void ll_holder_end(struct ll_holder_client *c, const struct ll_cli_req *req)
{
	struct holder *h = c->h;

	(void)req;
	if (h->ended) {
		reply(c, json_pack("{s:b,s:s}", "ok", 1, "ended",
				   ll_agent_session_end_reason(h->sess)));
		return;
	}
	h->enders = g_list_append(h->enders, c);
	ll_agent_session_end(h->sess, "the technician ended the session");
}

/* ---- chat ---- */

void ll_holder_chat(struct ll_holder_client *c, const struct ll_cli_req *req)
{
	int r = ll_agent_session_chat_send(c->h->sess,
					   ll_cli_req_str(req, "text"));

	if (r == LL_ERR_CLOSED)
		reply_ended(c);
	else if (r != 0)
		reply_err(c, "failed", ll_strerror(r));
	else
		reply(c, json_pack("{s:b}", "ok", 1));
}

void ll_holder_chat_log(struct ll_holder_client *c,
			const struct ll_cli_req *req)
{
	(void)req;
	reply(c, json_pack("{s:b,s:o}", "ok", 1, "lines",
			   ll_cli_chat_json(ll_agent_session_chat(c->h->sess,
								  NULL),
					    0, false)));
}

/* ---- requests ---- */

/* The request line through the command table to its row's handler. */
static void dispatch(struct ll_holder_client *c, const char *line, size_t len)
{
	char *err = NULL;

	if (ll_cli_req_from_json(line, len, &c->req, &err) != 0) {
		reply_err(c, "usage", err);
		g_free(err);
		return;
	}
	if (allowed(c))
		c->req->cmd->holder(c, c->req);
}

static void drop_transfer(struct ll_xfer *x, const char *why);
static void withdraw_fetch(struct holder *h, uint32_t id, const char *why);

static gboolean client_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct ll_holder_client *c = data;
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	int r;

	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		/* the CLI went away (e.g. ^C during wait); a transfer it
		 * waited for goes with it (after the client: the cancel
		 * finishes it, on_file_finished) */
		struct ll_xfer *x = c->xfer;
		struct holder *h = c->h;
		uint32_t asked = x == NULL ? c->fetch_id : 0;

		c->watch = 0;
		forget(h, c);
		holder_client_free(c);
		if (x != NULL)
			drop_transfer(x, "its command went away");
		else if (asked != 0)
			withdraw_fetch(h, asked, "its command went away");
		return G_SOURCE_REMOVE;
	}
	if (c->req != NULL)
		return G_SOURCE_CONTINUE; /* one request per connection */
	r = ll_cli_line_feed(c->in, buf, (size_t)n, LL_CLI_REQUEST_MAX, &len);
	if (r == 0)
		return G_SOURCE_CONTINUE;
	if (r < 0) {
		c->watch = 0;
		reply_err(c, "usage", "request too large");
		return G_SOURCE_REMOVE;
	}
	/* keep watching for a hang-up while the answer is pending (the
	 * client may be answered and gone when this returns) */
	dispatch(c, c->in->str, len);
	(void)cond;
	return G_SOURCE_CONTINUE;
}

static gboolean listen_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct holder *h = data;
	struct ll_holder_client *c;
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
	c = g_new0(struct ll_holder_client, 1);
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

/* The session's quality band changed: the RFB client follows. */
static void holder_band(struct holder *h)
{
	const struct ll_rfb_band *b;
	unsigned serial;

	b = ll_agent_session_rfb_band(h->sess, &serial);
	if (h->rfb == NULL || serial == h->band_serial)
		return;
	h->band_serial = serial;
	(void)ll_rfbc_set_quality(h->rfb, b->quality, b->compress);
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
	check_sysinfoers(h);
	holder_band(h);
}

static void on_rfb(struct ll_agent_session *s, int fd, void *user)
{
	const struct ll_rfbc_cbs cbs = {
		.on_frame = rfb_frame,
		.on_closed = rfb_closed,
		.lossy = ll_agent_session_rfb_lossy(s),
	};
	struct holder *h = user;
	int r;

	ll_rfbc_free(h->rfb);
	h->rfb = NULL;
	if ((r = ll_rfbc_start(fd, NULL, &cbs, h, &h->rfb)) != 0) {
		ll_warn("session %s: cannot start the RFB client: %s", h->id,
			ll_strerror(r));
		close(fd);
		return;
	}
	h->band_serial = 0;
	holder_band(h);
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

/* PROFILE/ID.ended holds the reason (a command that comes after the
 * holder stopped answering prints it). */
static void record_end(struct holder *h, const char *reason)
{
	char *path = ll_profile_ended_path(h->profile, h->id);
	GError *err = NULL;

	if (path == NULL)
		return;
	if (!g_file_set_contents(path, reason != NULL ? reason : "ended", -1,
				 &err)) {
		ll_warn("session %s: cannot record its end: %s", h->id,
			err->message);
		g_error_free(err);
	}
	g_free(path);
}

static void on_ended(struct ll_agent_session *s, const char *reason,
		     void *user)
{
	struct holder *h = user;
	struct ll_holder_client *c;

	h->ended = true;
	/*
	 * Before the user joined, the relay closes our stream without a
	 * word when the PIN runs out: ask it, so the technician reads the
	 * true reason and not "connection lost".
	 */
	if (!ll_agent_session_peer_joined(s)) {
		char *token = NULL;

		if (!h->pin_expired &&
		    ll_profile_get_token(h->profile, &token) == 0)
			h->pin_expired = ll_agent_session_pin_expired(&h->ro,
								      token,
								      h->id);
		ll_secret_free(token);
		if (h->pin_expired) {
			ll_agent_session_set_end_reason(
				s, LL_AGENT_END_PIN_EXPIRED);
			reason = ll_agent_session_end_reason(s);
		}
	} else if (h->enders == NULL) {
		/* not our own end: the relay may have ended it for a
		 * permission withdrawn, which reaches us as a lost stream */
		char *token = NULL, *why = NULL;

		if (ll_profile_get_token(h->profile, &token) == 0)
			why = ll_agent_session_relay_end_reason(&h->ro, token,
								h->id);
		ll_secret_free(token);
		if (why != NULL && strcmp(why, "permission withdrawn") == 0) {
			ll_agent_session_set_end_reason(
				s, LL_AGENT_END_PERMISSION_WITHDRAWN);
			reason = ll_agent_session_end_reason(s);
		}
		g_free(why);
	}
	/* no new clients from now on; one that connected too late reads
	 * why from the profile */
	record_end(h, reason);
	g_clear_handle_id(&h->listen_watch, g_source_remove);
	unlink(h->sock_path);
	while (h->enders != NULL) {
		c = h->enders->data;
		reply(c, json_pack("{s:b,s:s}", "ok", 1, "ended", reason));
	}
	check_waiters(h);
	check_snappers(h);
	check_monitorers(h);
	check_sysinfoers(h);
	while (h->filers != NULL)
		reply_ended(h->filers->data);
	g_idle_add(quit_idle, h);
}

static gboolean on_expiry(gpointer data)
{
	struct holder *h = data;

	h->expiry_timer = 0;
	if (!ll_agent_session_peer_joined(h->sess)) {
		ll_info("session %s: the PIN expired; nobody joined", h->id);
		h->pin_expired = true;
		if (ll_agent_session_end(h->sess, "the PIN expired") != 0)
			g_main_loop_quit(h->loop);
	}
	return G_SOURCE_REMOVE;
}

static gboolean on_signal(gpointer data)
{
	struct holder *h = data;

	if (h->ended ||
	    ll_agent_session_end(h->sess, "the technician "
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

/* ---- files: `session send`, `session fetch`, `session receive` ---- */

static struct ll_holder_client *filer_of(struct holder *h,
					 const struct ll_xfer *x, uint32_t id)
{
	GList *l;

	for (l = h->filers; l != NULL; l = l->next) {
		struct ll_holder_client *c = l->data;

		if ((x != NULL && c->xfer == x) ||
		    (id != 0 && c->xfer == NULL && c->fetch_id == id))
			return c;
	}
	return NULL;
}

/* Into the folder dir under name (NULL: the offer's, made safe). */
static void accept_into(struct ll_holder_client *c, struct ll_xfer *x,
			const char *dir, const char *name)
{
	int dfd, r;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		/* the client goes first: the refusal finishes x, and
		 * on_file_finished would answer (and free) it */
		reply_err(c, "failed", "cannot create the file there");
		ll_xfer_refuse(x, LL_FILE_FAILED);
		return;
	}
	c->xfer = x;
	r = ll_xfer_accept(x, dfd, name);
	close(dfd);
	/* a failure that finished x was answered there, with its reason */
	if (r != 0 && ll_xfer_state(x) != LL_XFER_FAILED)
		reply_err(c, "failed", "cannot create the file there");
}

/* A `session receive` waiting for the user's next offer. */
static struct ll_holder_client *receiver(struct holder *h)
{
	GList *l;

	for (l = h->filers; l != NULL; l = l->next) {
		struct ll_holder_client *c = l->data;

		if (c->xfer == NULL && ll_cli_req_takes(c->req, "dir"))
			return c;
	}
	return NULL;
}

/*
 * The applet answers our file_request with an offer: into LOCAL.  An
 * offer the user made from the session bar goes to a waiting `session
 * receive`, else waits for one (the user sees "waiting for your
 * technician" and may cancel).
 */
static void on_file_offer(struct ll_xfer_set *set, struct ll_xfer *x,
			  void *user)
{
	struct holder *h = user;
	struct ll_holder_client *c;
	char *dir, *base;

	if (ll_xfer_request_id(x) == 0) {
		if ((c = receiver(h)) != NULL) {
			accept_into(c, x, ll_cli_req_str(c->req, "dir"), NULL);
			return;
		}
		ll_info("the user offers a file; waiting for `session "
			"receive`");
		h->offers = g_list_append(h->offers, x);
		return;
	}
	c = filer_of(h, NULL, ll_xfer_request_id(x));
	if (c == NULL) {
		/* answers nothing anyone waits for (a `fetch` given up
		 * takes its request back, withdraw_fetch, so an offer that
		 * crossed that comes as the user's own, above): the user
		 * reads "Your technician stopped the transfer." */
		ll_xfer_refuse(x, LL_FILE_CANCELLED);
		return;
	}
	dir = g_path_get_dirname(ll_cli_req_str(c->req, "local"));
	base = g_path_get_basename(ll_cli_req_str(c->req, "local"));
	accept_into(c, x, dir, base);
	g_free(dir);
	g_free(base);
}

static void on_file_finished(struct ll_xfer_set *set, struct ll_xfer *x,
			     void *user)
{
	struct holder *h = user;
	struct ll_holder_client *c = filer_of(h, x, 0);
	enum ll_file_cancel_reason why = ll_xfer_reason(x);
	char *dir, *path, *msg;
	json_t *o;

	/* an offer the user took back before anyone received it */
	h->offers = g_list_remove(h->offers, x);
	h->announced = g_list_remove(h->announced, x);
	if (c == NULL)
		return;
	if (ll_xfer_state(x) != LL_XFER_DONE) {
		msg = g_strdup_printf("%s: %s", ll_xfer_name(x),
				      ll_xfer_outcome(x));
		reply_err(c,
			  why == LL_FILE_REFUSED     ? "refused"
			  : why == LL_FILE_CANCELLED ? "cancelled"
						     : "failed",
			  msg);
		g_free(msg);
		return;
	}
	o = json_pack("{s:b,s:s,s:I,s:s}", "ok", 1, "name", ll_xfer_name(x),
		      "size", (json_int_t)ll_xfer_size(x), "sha256",
		      ll_xfer_sha256(x));
	if (ll_xfer_dir(x) == LL_XFER_IN) {
		dir = ll_cli_req_takes(c->req, "dir")
			      ? g_strdup(ll_cli_req_str(c->req, "dir"))
			      : g_path_get_dirname(
					ll_cli_req_str(c->req, "local"));
		path = g_build_filename(dir, ll_xfer_saved_name(x), NULL);
		json_object_set_new(o, "path", json_string(path));
		g_free(dir);
		g_free(path);
	}
	reply(c, o);
}

static void on_file_refused(struct ll_xfer_set *set, uint32_t id, void *user)
{
	struct ll_holder_client *c = filer_of(user, NULL, id);

	if (c != NULL)
		reply_err(c, "refused", "the user refused to send the file");
}

/*
 * A transfer whose command no longer waits for it (--timeout passed, or
 * the CLI went away: ^C, killed) is cancelled as the viewer's Cancel
 * transfer does: file_cancel to the applet, an incoming part removed,
 * the audit's outcome "cancelled".  Its client must be gone already.
 */
static void drop_transfer(struct ll_xfer *x, const char *why)
{
	if (ll_xfer_state(x) == LL_XFER_DONE ||
	    ll_xfer_state(x) == LL_XFER_FAILED)
		return;
	ll_info("file transfer %s %s: %s; cancelling",
		ll_xfer_dir(x) == LL_XFER_OUT ? "of" : "to", ll_xfer_name(x),
		why);
	ll_xfer_cancel(x);
}

/* A `fetch` given up before the user picked the file: the question is
 * taken back, and the user's chooser closes saying why. */
static void withdraw_fetch(struct holder *h, uint32_t id, const char *why)
{
	struct ll_xfer_set *set = ll_agent_session_xfers(h->sess, NULL, NULL);

	if (set != NULL && ll_xfer_withdraw_request(set, id) == LL_OK)
		ll_info("file request %u: %s; taken back", (unsigned)id, why);
}

/* --timeout: the transfer (or the question) is given up, exit 4. */
static gboolean file_timeout(gpointer data)
{
	struct ll_holder_client *c = data;

	c->timer = 0;
	if (c->xfer != NULL && ll_xfer_state(c->xfer) != LL_XFER_DONE &&
	    ll_xfer_state(c->xfer) != LL_XFER_FAILED) {
		/* no answer after this: the client goes first */
		struct ll_xfer *x = c->xfer;

		reply_err(c, "timeout",
			  "timed out; the transfer is cancelled");
		drop_transfer(x, "--timeout passed");
		return G_SOURCE_REMOVE;
	}
	if (c->xfer == NULL && c->fetch_id != 0) {
		struct holder *h = c->h;
		uint32_t id = c->fetch_id;

		reply_err(c, "timeout",
			  "timed out; the question is taken back");
		withdraw_fetch(h, id, "--timeout passed");
		return G_SOURCE_REMOVE;
	}
	reply_err(c, "timeout", "timed out");
	return G_SOURCE_REMOVE;
}

static void file_wait(struct ll_holder_client *c, const struct ll_cli_req *req)
{
	c->h->filers = g_list_append(c->h->filers, c);
	if (ll_cli_req_has(req, "timeout"))
		c->timer = g_timeout_add_seconds(
			(guint)ll_cli_req_int(req, "timeout"), file_timeout,
			c);
}

static const struct ll_xfer_set_cbs holder_xfer_cbs = {
	.on_offer = on_file_offer,
	.on_finished = on_file_finished,
	.on_request_refused = on_file_refused,
};

void ll_holder_send(struct ll_holder_client *c, const struct ll_cli_req *req)
{
	struct holder *h = c->h;
	struct ll_xfer_set *set = ll_agent_session_xfers(h->sess, NULL, NULL);
	int r;

	r = ll_xfer_send_file(set, ll_cli_req_str(req, "file"), 0, &c->xfer);
	if (r != 0) {
		reply_err(c, r == LL_ERR_INVALID_ARG ? "usage" : "failed",
			  r == LL_ERR_INVALID_ARG
				  ? "FILE must be a regular file"
				  : "cannot read FILE");
		return;
	}
	file_wait(c, req);
}

void ll_holder_fetch(struct ll_holder_client *c, const struct ll_cli_req *req)
{
	struct holder *h = c->h;
	struct ll_xfer_set *set = ll_agent_session_xfers(h->sess, NULL, NULL);
	char safe[LL_XFER_NAME_MAX + 1];
	int r;

	/* the applet's parser takes plain names only */
	ll_xfer_safe_name(ll_cli_req_str(req, "name"), safe, sizeof(safe));
	if ((r = ll_xfer_request(set, safe, &c->fetch_id)) != 0) {
		reply_err(c, "failed", ll_strerror(r));
		return;
	}
	file_wait(c, req);
}

/* The user's oldest offer not yet received, else the next one. */
void ll_holder_receive(struct ll_holder_client *c,
		       const struct ll_cli_req *req)
{
	struct holder *h = c->h;
	struct ll_xfer *x;

	file_wait(c, req);
	if (h->offers == NULL)
		return;
	x = h->offers->data;
	h->offers = g_list_delete_link(h->offers, h->offers);
	h->announced = g_list_remove(h->announced, x);
	accept_into(c, x, ll_cli_req_str(req, "dir"), NULL);
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

/*
 * The first request: --request, else view and control as far as the
 * login's group permits (the applet would refuse the rest unseen, as the
 * GUI's viewer knows too; a --request beyond it never got this far).
 * 0 after saying why.
 */
static uint32_t first_request_caps(const char *request,
				   const struct ll_profile *p)
{
	const char *one[1] = { request };
	char *err = NULL;
	uint32_t caps;

	if (request == NULL) {
		caps = (LL_CAP_VIEW | LL_CAP_CONTROL) & ll_profile_caps(p);
		if (caps == 0)
			status_line("error: your group permits neither view "
				    "nor control");
		return caps;
	}
	if ((caps = ll_agent_caps_parse(one, 1, &err)) == 0)
		status_line("error: %s", err);
	g_free(err);
	return caps;
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
	g_autoptr(GError) gerr = NULL;
	uint32_t caps;
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
		goto out;
	}
	if (profile_dir == NULL || relay == NULL ||
	    !ll_agent_session_id_ok(id)) {
		status_line("error: the holder needs --profile, --relay and "
			    "--session");
		goto out;
	}
	if ((ticket = read_ticket()) == NULL) {
		status_line("error: no ticket on stdin");
		goto out;
	}
	if (ll_profile_open(profile_dir, &h.profile, &err) != 0) {
		status_line("error: %s", err);
		goto out;
	}
	if ((caps = first_request_caps(request, h.profile)) == 0)
		goto out;
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
	h.ro = ro;
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
	ll_agent_session_xfers(h.sess, &holder_xfer_cbs, &h);
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
	g_clear_handle_id(&h.expiry_timer, g_source_remove);
	g_clear_handle_id(&h.listen_watch, g_source_remove);
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
	while (h.filers != NULL)
		reply_err(h.filers->data, "ended", "the holder stopped");
	g_list_free(h.offers);
	g_list_free(h.announced);
	ll_rfbc_free(h.rfb);
	/* Sends the audit reports still queued (bounded) before exit. */
	ll_agent_session_free(h.sess);
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
