/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The applet's session, as a state machine on the GTK main loop:
 *
 *   IDLE --start(pin)--> REDEEMING --(worker: redeem, open stream)-->
 *   RUNNING --(user/technician/consent/connection)--> ENDING --> DONE
 *
 * REDEEMING runs the blocking libcurl redeem and the stream opening in a
 * GTask thread, so the UI never waits.  RUNNING pumps the stream with
 * ll_session_io as side "applet" and speaks control messages: each
 * request of the technician's is asked at the consent dialog and answered
 * grant or deny; the answer is enforced here (input gate, RFB server) and
 * reported to the relay's audit (POST /api/v1/sessions/ID/events with our
 * ticket) through the ordered reporter of common/client (ll_reporter.h).
 *
 * Before `view` is granted nothing about the screen exists: no platform
 * instance, no RFB server, no mux channel 1, so not even the screen size
 * (RFB ServerInit) can leave.  On the grant the RFB server is created on
 * a socketpair; once its client exists, channel 1 is opened and bridged
 * to the other end of the socketpair.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtk/gtk.h>

#include "ll_api_client.h"
#include "ll_build.h"
#include "ll_control.h"
#include "ll_crypto.h"
#include "ll_reporter.h"
#include "ll_session_io.h"
#include "ll_stream.h"
#include "ll_text.h"
#include "ll_util.h"
#include "platform.h"
#include "applet.h"

#define SESSION_API_TIMEOUT_MS 20000
#define SESSION_CONNECT_TIMEOUT_MS 10000
/* Audit reports must not hold the exit up for long: each report, and all
 * those still queued at the end together. */
#define SESSION_EVENT_TIMEOUT_MS 5000
/* The technician's name and org in our windows: bytes, cut beyond. */
#define SHOWN_NAME_MAX 256

enum sess_state {
	S_IDLE = 0,
	S_REDEEMING,
	S_RUNNING,
	S_ENDING,
	S_DONE,
};

/* The RFB thread's way back to the main loop; outlives the session. */
struct rfb_link {
	gint ref;
	/* main thread only; NULL once detached */
	struct ll_applet_session *s;
};

enum rfb_msg_kind { RFB_MSG_READY = 1, RFB_MSG_ENDED, RFB_MSG_MONITORS };

struct rfb_msg {
	struct rfb_link *link;
	enum rfb_msg_kind kind;
	char why[160];
	/* RFB_MSG_MONITORS: what may travel of the platform's list */
	struct ll_control_monitor mons[LL_CONTROL_MAX_MONITORS];
	size_t n_mons;
	char current[LL_PLATFORM_MONITOR_NAME_MAX];
	int err;
	bool answer;                    /* to a select_monitor */
	char requested[LL_CONTROL_MAX_MONITOR_NAME + 1];
};

struct ll_applet_session {
	struct ll_applet *a;
	char *relay_url;
	char *ca_file;
	char *display;
	char *monitor;
	void (*done)(int exit_code, const char *why, void *user);
	void *user;
	void (*on_redeem_error)(const char *message, void *user);

	enum sess_state state;
	GCancellable *cancel;
	bool end_requested;             /* user ended while redeeming */

	struct ll_api_redeem redeem;
	struct ll_session_io *io;
	uint32_t granted;
	bool ever_granted;

	struct ll_consent_dialog *consent;
	uint32_t ask_id;
	uint32_t ask_caps;

	struct ll_session_bar *bar;

	struct ll_rfb_server *rfb;
	struct rfb_link *link;
	int bridge_fd;
	bool rfb_channel;

	struct ll_reporter *rep;        /* audit reports, in order */

	int end_code;
	char end_why[320];
};

static void finish(struct ll_applet_session *s, int code, const char *why);
static void begin_end(struct ll_applet_session *s, int code, const char *why,
		      const char *peer_reason);

/* ---- small helpers ---- */

static void fill_relay_opts(struct ll_relay_opts *o, const char *url,
			    const char *ca_file, int timeout_ms)
{
	memset(o, 0, sizeof(*o));
	o->url = url;
	o->ca_file = ca_file;
	o->timeout_ms = timeout_ms;
	o->connect_timeout_ms = SESSION_CONNECT_TIMEOUT_MS;
}

/*
 * The technician's name or org as the relay sent them, made fit for the
 * consent dialog and the session bar by the display rule (ll_text.h);
 * NULL (shown as "(unknown)") when there is no memory for it.
 */
static void make_shown(char **text)
{
	char *t;

	if (*text == NULL)
		return;
	t = ll_text_printable_new(*text, strlen(*text), SHOWN_NAME_MAX);
	free(*text);
	*text = t;
}

static void update_bar(struct ll_applet_session *s, const char *status)
{
	ll_session_bar_update(s->bar, s->granted, status);
}

static void send_ctl(struct ll_applet_session *s,
		     const struct ll_control_msg *m)
{
	int r;

	if (s->io == NULL)
		return;
	if ((r = ll_session_io_send_control(s->io, m)) != 0)
		ll_warn("cannot send control %s: %s",
			ll_control_type_name(m->type), ll_strerror(r));
}

/* ---- audit reports ---- */

static void reporter_start(struct ll_applet_session *s)
{
	struct ll_reporter_opts ro = { .drain_ms = SESSION_EVENT_TIMEOUT_MS };
	struct ll_relay_opts o;
	struct ll_client_error err;

	fill_relay_opts(&o, s->relay_url, s->ca_file,
			SESSION_EVENT_TIMEOUT_MS);
	if (ll_reporter_new(&o, s->redeem.session_id, s->redeem.ticket, &ro,
			    &s->rep, &err) != 0)
		ll_warn("session %s: no audit reports: %s",
			s->redeem.session_id, err.message);
}

/* Queued for the relay's audit; sent in this order (ll_reporter.h). */
static void report(struct ll_applet_session *s, const char *type, uint32_t caps,
		   const char *reason)
{
	if (s->rep != NULL)
		ll_reporter_send(s->rep, type, caps, reason);
}

/* ---- the RFB server ---- */

static struct rfb_link *link_ref(struct rfb_link *l)
{
	g_atomic_int_inc(&l->ref);
	return l;
}

static void link_unref(struct rfb_link *l)
{
	if (l != NULL && g_atomic_int_dec_and_test(&l->ref))
		g_free(l);
}

static void on_rfb_msg_ready(struct ll_applet_session *s);
static void on_rfb_msg_ended(struct ll_applet_session *s, const char *why);
static void on_rfb_msg_monitors(struct ll_applet_session *s,
				const struct rfb_msg *m);

static gboolean rfb_msg_dispatch(gpointer data)
{
	struct rfb_msg *m = data;
	struct ll_applet_session *s = m->link->s;

	if (s != NULL) {
		if (m->kind == RFB_MSG_READY)
			on_rfb_msg_ready(s);
		else if (m->kind == RFB_MSG_MONITORS)
			on_rfb_msg_monitors(s, m);
		else
			on_rfb_msg_ended(s, m->why);
	}
	link_unref(m->link);
	g_free(m);
	return G_SOURCE_REMOVE;
}

/* RFB thread: hand over to the main loop. */
static void rfb_post(struct rfb_link *l, enum rfb_msg_kind kind,
		     const char *why)
{
	struct rfb_msg *m = g_new0(struct rfb_msg, 1);

	m->link = link_ref(l);
	m->kind = kind;
	if (why != NULL)
		g_strlcpy(m->why, why, sizeof(m->why));
	g_idle_add(rfb_msg_dispatch, m);
}

static void rfb_cb_ready(void *user)
{
	rfb_post(user, RFB_MSG_READY, NULL);
}

static void rfb_cb_ended(void *user, const char *reason)
{
	rfb_post(user, RFB_MSG_ENDED, reason);
}

/* RFB thread: the monitor list, reduced to what a monitors message can
 * carry (names the schema refuses and sizes RFB cannot describe are
 * left out; at most LL_CONTROL_MAX_MONITORS). */
static void rfb_cb_monitors(void *user, const struct ll_platform_monitor *mons,
			    size_t n, const char *current, int err,
			    const char *requested)
{
	struct rfb_msg *m = g_new0(struct rfb_msg, 1);
	struct ll_control_monitor *c;
	size_t i;

	m->link = link_ref(user);
	m->kind = RFB_MSG_MONITORS;
	m->err = err;
	g_strlcpy(m->current, current, sizeof(m->current));
	if (requested != NULL) {
		m->answer = true;
		g_strlcpy(m->requested, requested, sizeof(m->requested));
	}
	for (i = 0; i < n && m->n_mons < LL_CONTROL_MAX_MONITORS; i++) {
		if (!ll_control_monitor_name_ok(mons[i].name) ||
		    !g_utf8_validate(mons[i].name, -1, NULL) ||
		    mons[i].width == 0 || mons[i].height == 0 ||
		    mons[i].width > LL_CONTROL_MAX_COORD ||
		    mons[i].height > LL_CONTROL_MAX_COORD ||
		    mons[i].x < -LL_CONTROL_MAX_COORD ||
		    mons[i].x > LL_CONTROL_MAX_COORD ||
		    mons[i].y < -LL_CONTROL_MAX_COORD ||
		    mons[i].y > LL_CONTROL_MAX_COORD)
			continue;
		c = &m->mons[m->n_mons++];
		g_strlcpy(c->name, mons[i].name, sizeof(c->name));
		c->x = mons[i].x;
		c->y = mons[i].y;
		c->width = mons[i].width;
		c->height = mons[i].height;
	}
	g_idle_add(rfb_msg_dispatch, m);
}

static void stop_rfb(struct ll_applet_session *s)
{
	int r;

	/* Messages already posted by the RFB thread find no session. */
	if (s->link != NULL)
		s->link->s = NULL;
	/*
	 * The viewer's end of the socketpair goes first (closing the
	 * channel closes the bridged fd): that drops what libvncserver
	 * wrote and nobody read, so a write it is blocked in fails at once
	 * instead of after its 5 s select() (tests/applet/test_rfb_server
	 * "slow-reader").
	 */
	if (s->bridge_fd >= 0) {
		close(s->bridge_fd);
		s->bridge_fd = -1;
	}
	if (s->rfb_channel) {
		s->rfb_channel = false;
		if (s->io != NULL &&
		    (r = ll_session_io_channel_close(s->io,
						     LL_MUX_CHANNEL_RFB)) != 0 &&
		    r != LL_ERR_NOT_FOUND)
			ll_debug("closing the RFB channel: %s", ll_strerror(r));
	}
	/* Joins the RFB thread (its socket is shut down first); only then
	 * may our reference to the link go: the thread posts with it. */
	LL_FREE_AND_NULL(ll_rfb_server_free, s->rfb);
	LL_FREE_AND_NULL(link_unref, s->link);
	ll_input_gate_set_injector(ll_applet_gate(s->a), NULL);
	ll_session_bar_set_sharing(s->bar, NULL);
}

static void fail_screen(struct ll_applet_session *s, const char *what, int r)
{
	struct ll_control_msg m = { .type = LL_CONTROL_ERROR };
	char *msg = g_strdup_printf("%s: %s", what, ll_strerror(r));

	ll_warn("%s", msg);
	m.u.error.code = "screen_unavailable";
	m.u.error.message = msg;
	send_ctl(s, &m);
	update_bar(s, "Your screen cannot be shared on this system.");
	g_free(msg);
}

/*
 * The input gate's own display connection, through which (and only
 * through which) the technician's input is injected while the gate is
 * open.  Without it the screen is still shared; control does nothing.
 */
static void start_injector(struct ll_applet_session *s)
{
	struct ll_platform *inj = NULL;
	int r;

	if ((r = ll_platform_open_input(NULL, s->display, &inj)) != 0) {
		ll_warn("input injection unavailable: %s", ll_strerror(r));
		return;
	}
	ll_input_gate_set_injector(ll_applet_gate(s->a), inj);
}

/* `view` was granted: from here on the screen may be shared. */
static void start_rfb(struct ll_applet_session *s)
{
	struct ll_rfb_server_cbs cbs = { 0 };
	struct ll_platform *p = NULL;
	int sv[2] = { -1, -1 };
	int r;

	if (s->rfb != NULL || s->state != S_RUNNING)
		return;
	if ((r = ll_platform_open(NULL, s->display, &p)) != 0) {
		fail_screen(s, "cannot open the display", r);
		return;
	}
	s->link = g_new0(struct rfb_link, 1);
	s->link->ref = 1;
	s->link->s = s;
	cbs.client_ready = rfb_cb_ready;
	cbs.ended = rfb_cb_ended;
	cbs.monitors = rfb_cb_monitors;
	cbs.user = s->link;
	r = ll_rfb_server_new(p, ll_applet_gate(s->a), s->monitor, LL_PRODUCT,
			      &cbs, &s->rfb);
	if (r == 0)
		start_injector(s);
	if (r != 0) {
		ll_platform_free(p);
		fail_screen(s, "cannot start screen sharing", r);
		stop_rfb(s);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		fail_screen(s, "socketpair", LL_ERR_IO);
		stop_rfb(s);
		return;
	}
	s->bridge_fd = sv[1];
	/* sv[0] is the server's now, whatever happens. */
	if ((r = ll_rfb_server_start(s->rfb, sv[0])) != 0) {
		fail_screen(s, "cannot start screen sharing", r);
		stop_rfb(s);
		return;
	}
	update_bar(s, "Starting to share your screen\u2026");
}

/* libvncserver's client exists: now, and only now, open channel 1. */
static void on_rfb_msg_ready(struct ll_applet_session *s)
{
	int r;

	if (s->io == NULL || s->bridge_fd < 0 || s->state != S_RUNNING)
		return;
	if ((r = ll_session_io_channel_open(s->io, LL_MUX_CHANNEL_RFB)) != 0) {
		fail_screen(s, "cannot open the screen channel", r);
		stop_rfb(s);
		return;
	}
	s->rfb_channel = true;
	if ((r = ll_session_io_bridge(s->io, LL_MUX_CHANNEL_RFB,
				      s->bridge_fd)) != 0) {
		fail_screen(s, "cannot connect the screen channel", r);
		stop_rfb(s);
		return;
	}
	s->bridge_fd = -1;  /* the pump's now */
	update_bar(s, (s->granted & LL_CAP_CONTROL) ?
		      "The technician sees your screen and may control it." :
		      "The technician sees your screen.");
}

static void send_error(struct ll_applet_session *s, const char *code,
		       const char *message)
{
	struct ll_control_msg m = { .type = LL_CONTROL_ERROR };

	m.u.error.code = (char *)code;
	m.u.error.message = (char *)message;
	send_ctl(s, &m);
}

/* What the session bar says is shared. */
static void update_sharing(struct ll_applet_session *s, const struct rfb_msg *m)
{
	const struct ll_control_monitor *c = NULL;
	char *t;
	size_t i;

	for (i = 0; i < m->n_mons; i++)
		if (strcmp(m->mons[i].name, m->current) == 0)
			c = &m->mons[i];
	if (strcmp(m->current, LL_PLATFORM_ALL) == 0)
		t = c != NULL ? g_strdup_printf("Shown: your whole screen "
						"(%u\u00d7%u)",
						c->width, c->height)
			      : g_strdup("Shown: your whole screen");
	else
		t = c != NULL ? g_strdup_printf("Shown: monitor %s only "
						"(%u\u00d7%u)",
						c->name, c->width, c->height)
			      : g_strdup_printf("Shown: monitor %s only",
						m->current);
	ll_session_bar_set_sharing(s->bar, t);
	g_free(t);
}

/*
 * The RFB thread's monitor list, after the view grant only (the RFB
 * server does not exist before it): an answer to select_monitor that
 * failed becomes an error, anything else a monitors message.
 */
static void on_rfb_msg_monitors(struct ll_applet_session *s,
				const struct rfb_msg *m)
{
	struct ll_control_msg out = { .type = LL_CONTROL_MONITORS };
	GString *names;
	char *t;
	size_t i;
	bool known = false;

	if (s->state != S_RUNNING || !(s->granted & LL_CAP_VIEW))
		return;
	if (m->answer && m->err != 0) {
		if (m->err == LL_ERR_NOT_FOUND) {
			names = g_string_new(NULL);
			for (i = 0; i < m->n_mons; i++)
				g_string_append_printf(names, "%s%s",
						       i > 0 ? ", " : "",
						       m->mons[i].name);
			t = g_strdup_printf("no monitor named \"%s\" on this "
					    "screen (there are: %s)",
					    m->requested, names->str);
			send_error(s, "unknown_monitor", t);
			g_string_free(names, TRUE);
		} else if (m->err == LL_ERR_DISABLED) {
			t = g_strdup_printf("cannot show monitor \"%s\": the "
					    "viewer cannot follow a change "
					    "of the screen size",
					    m->requested);
			send_error(s, "monitor_unavailable", t);
		} else {
			t = g_strdup_printf("cannot show monitor \"%s\": %s",
					    m->requested,
					    ll_strerror(m->err));
			send_error(s, "monitor_unavailable", t);
		}
		ll_info("monitor \"%s\" not selected: %s", m->requested,
			ll_strerror(m->err));
		g_free(t);
		return;
	}
	for (i = 0; i < m->n_mons; i++)
		if (strcmp(m->mons[i].name, m->current) == 0)
			known = true;
	/* Keeps the choice for a viewer that reconnects. */
	g_free(s->monitor);
	s->monitor = strcmp(m->current, LL_PLATFORM_ALL) == 0 ?
			     NULL : g_strdup(m->current);
	update_sharing(s, m);
	if (!known) {
		/* Its name cannot travel (or no list): say nothing wrong. */
		ll_warn("the monitor list cannot be sent to the technician");
		if (m->answer)
			send_error(s, "monitor_unavailable",
				   "the monitor list cannot be described");
		return;
	}
	if (m->answer)
		ll_info("the technician now sees %s", m->current);
	out.u.monitors.list = (struct ll_control_monitor *)m->mons;
	out.u.monitors.n = m->n_mons;
	out.u.monitors.current = (char *)m->current;
	send_ctl(s, &out);
}

/* The technician picks what to see: honoured only while view is granted
 * and the screen is being shared; the name is checked by the RFB thread
 * against the monitors that exist right now. */
static void handle_select_monitor(struct ll_applet_session *s, const char *name)
{
	int r;

	if (!(s->granted & LL_CAP_VIEW)) {
		/* Not a word about the screen before consent. */
		send_error(s, "not_granted", "choosing a monitor needs the "
					     "view permission");
		return;
	}
	if (s->rfb == NULL) {
		send_error(s, "monitor_unavailable", "the screen is not being "
						     "shared right now");
		return;
	}
	if ((r = ll_rfb_server_select_monitor(s->rfb, name)) != 0)
		send_error(s, "monitor_unavailable", ll_strerror(r));
}

static void on_rfb_msg_ended(struct ll_applet_session *s, const char *why)
{
	char *t;

	ll_info("screen sharing stopped: %s", why);
	stop_rfb(s);
	if (s->state != S_RUNNING)
		return;
	t = g_strdup_printf("Screen sharing stopped (%s).", why);
	update_bar(s, t);
	g_free(t);
}

/* ---- consent ---- */

static void gate_changed(struct ll_applet_session *s)
{
	struct ll_input_gate *g = ll_applet_gate(s->a);

	ll_input_gate_set_control(g, (s->granted & LL_CAP_CONTROL) != 0 &&
				     s->state == S_RUNNING);
	/* Each call that closes the gate has released every held key and
	 * button by the time it returns (before any dialog maps). */
	ll_input_gate_set_consent_open(g, s->consent != NULL);
}

static void send_grant(struct ll_applet_session *s, uint32_t id, uint32_t caps)
{
	struct ll_control_msg m = { .type = LL_CONTROL_GRANT };

	m.u.grant.id = id;
	m.u.grant.caps = caps;
	send_ctl(s, &m);
}

static void send_deny(struct ll_applet_session *s, uint32_t id)
{
	struct ll_control_msg m = { .type = LL_CONTROL_DENY };

	m.u.deny.id = id;
	send_ctl(s, &m);
}

/* Enforce what is granted now. */
static void apply_grants(struct ll_applet_session *s)
{
	gate_changed(s);
	if ((s->granted & LL_CAP_VIEW) && s->rfb == NULL)
		start_rfb(s);
}

static void on_consent_answer(enum ll_consent_answer ans, void *user)
{
	struct ll_applet_session *s = user;
	uint32_t caps = s->ask_caps, id = s->ask_id;
	char *words;

	LL_FREE_AND_NULL(ll_consent_dialog_free, s->consent);
	gate_changed(s);
	if (s->state != S_RUNNING)
		return;
	switch (ans) {
	case LL_CONSENT_ALLOW:
		s->granted |= caps;
		s->ever_granted = true;
		send_grant(s, id, caps);
		report(s, "consent", caps, "allowed");
		words = ll_applet_caps_sentence(caps, "");
		ll_info("the user allowed: %s", words);
		g_free(words);
		update_bar(s, "You gave permission.");
		apply_grants(s);
		break;
	case LL_CONSENT_DENY:
		send_deny(s, id);
		report(s, "consent", caps, "denied");
		ll_info("the user denied the request");
		update_bar(s, "You refused the request.");
		break;
	case LL_CONSENT_TIMEOUT:
		send_deny(s, id);
		report(s, "consent", caps, "timeout");
		ll_info("the permission request timed out");
		if (!s->ever_granted) {
			/* Nobody is at the screen: do not leave a session
			 * open that nobody watches. */
			begin_end(s, LL_APPLET_EXIT_OK,
				  "Nobody answered the permission request in "
				  "time, so the session was ended.",
				  "consent timeout: the user did not answer");
			return;
		}
		update_bar(s, "No answer in time: the request was refused.");
		break;
	case LL_CONSENT_NOT_REQUESTED:
		send_deny(s, id);
		report(s, "not_requested", caps,
		       "the user says they did not ask for this session");
		begin_end(s, LL_APPLET_EXIT_OK,
			  "You said you did not ask for this session. It was "
			  "ended and reported to the administrators.",
			  "the user did not ask for this session");
		return;
	}
}

static void handle_request(struct ll_applet_session *s, uint32_t id,
			   uint32_t caps)
{
	uint32_t ask;

	if (caps & ~s->redeem.capabilities) {
		/* The relay did not give this technician that right. */
		send_deny(s, id);
		report(s, "consent", caps,
		       "refused: not permitted for this technician");
		update_bar(s, "A request beyond this technician's rights was "
			      "refused.");
		return;
	}
	if (s->consent != NULL) {
		/* One question at a time; the technician may ask again. */
		send_deny(s, id);
		return;
	}
	ask = caps & ~s->granted;
	if (ask == 0) {
		/* Already granted: confirm without asking again (the RFB
		 * channel is reopened if the viewer had closed it). */
		send_grant(s, id, caps);
		apply_grants(s);
		return;
	}
	s->ask_id = id;
	s->ask_caps = caps;
	/* Gate closed, and every key and button the technician held
	 * released, before the dialog exists. */
	ll_input_gate_set_consent_open(ll_applet_gate(s->a), true);
	s->consent = ll_consent_dialog_new(s->a, s->redeem.technician.name,
					   s->redeem.technician.org, ask,
					   LL_APPLET_CONSENT_TIMEOUT_S,
					   on_consent_answer, s);
	gate_changed(s);
	update_bar(s, "The technician asks for your permission.");
}

/* ---- session bar ---- */

static void on_stop_control(void *user)
{
	struct ll_applet_session *s = user;
	struct ll_control_msg m = { .type = LL_CONTROL_REVOKE };
	gint64 t0;

	if (s->state != S_RUNNING || !(s->granted & LL_CAP_CONTROL))
		return;
	/* Gate first: not one more event gets through, and every key and
	 * button the technician held is released before we go on. */
	t0 = g_get_monotonic_time();
	s->granted &= ~(uint32_t)LL_CAP_CONTROL;
	gate_changed(s);
	t0 = g_get_monotonic_time() - t0;
	m.u.revoke.caps = LL_CAP_CONTROL;
	send_ctl(s, &m);
	report(s, "revoke", LL_CAP_CONTROL, "stopped by the user");
	ll_info("the user stopped control (input released in %" G_GINT64_FORMAT
		" us)", t0);
	update_bar(s, "You took back control of your mouse and keyboard.");
}

static void on_bar_end(void *user)
{
	ll_applet_session_end_by_user(user);
}

/* ---- the stream ---- */

static void on_ready(struct ll_session_io *io, void *user)
{
	struct ll_applet_session *s = user;

	ll_info("the technician's console joined the session");
	update_bar(s, "Connected. Nothing is shared until you allow it.");
}

static void on_control(struct ll_session_io *io,
		       const struct ll_control_msg *msg, void *user)
{
	struct ll_applet_session *s = user;

	if (s->state != S_RUNNING)
		return;
	switch (msg->type) {
	case LL_CONTROL_HELLO:
		if (msg->u.hello.role != LL_SIDE_AGENT) {
			ll_warn("the other side is not a technician console");
			ll_session_io_close(io, "peer is not an agent");
		}
		break;
	case LL_CONTROL_REQUEST:
		handle_request(s, msg->u.request.id, msg->u.request.caps);
		break;
	case LL_CONTROL_SELECT_MONITOR:
		handle_select_monitor(s, msg->u.select_monitor.name);
		break;
	case LL_CONTROL_ERROR:
		ll_warn("the technician's console reported an error (%s)",
			msg->u.error.code);
		break;
	case LL_CONTROL_END:
		/* on_closed(PEER) follows. */
		break;
	default:
		/* grant/deny/revoke are ours to send; chat and files are not
		 * offered by this applet yet. */
		ll_debug("ignoring control %s",
			 ll_control_type_name(msg->type));
		break;
	}
}

static void on_channel_open(struct ll_session_io *io, uint16_t channel,
			    void *user)
{
	/* No channel of the technician's is served (files come later). */
	ll_session_io_channel_close(io, channel);
}

static void on_channel_close(struct ll_session_io *io, uint16_t channel,
			     void *user)
{
	struct ll_applet_session *s = user;

	if (channel != LL_MUX_CHANNEL_RFB || !s->rfb_channel)
		return;
	/* The viewer went away (or libvncserver closed): the channel is
	 * gone already, do not close it again. */
	s->rfb_channel = false;
	ll_info("the screen channel closed");
	stop_rfb(s);
	if (s->state == S_RUNNING)
		update_bar(s, "The technician stopped watching your screen.");
}

static void on_closed(struct ll_session_io *io, enum ll_session_end why,
		      int err, const char *reason, void *user)
{
	struct ll_applet_session *s = user;
	char *t;

	if (s->state == S_ENDING) {
		finish(s, s->end_code, s->end_why);
		return;
	}
	switch (why) {
	case LL_SESSION_END_LOCAL:
		finish(s, s->end_code, s->end_why);
		break;
	case LL_SESSION_END_PEER:
		/* reason passed the display rule in the session pump. */
		t = g_strdup_printf("The technician ended the session (%s).",
				    reason);
		finish(s, LL_APPLET_EXIT_OK, t);
		g_free(t);
		break;
	case LL_SESSION_END_LOST:
		finish(s, LL_APPLET_EXIT_LOST,
		       "The connection to the support server was lost.");
		break;
	case LL_SESSION_END_ERROR:
	default:
		t = g_strdup_printf("The session failed: %s.", reason);
		finish(s, LL_APPLET_EXIT_LOST, t);
		g_free(t);
		break;
	}
}

/* ---- endings ---- */

static void finish(struct ll_applet_session *s, int code, const char *why)
{
	if (s->state == S_DONE)
		return;
	s->state = S_DONE;
	ll_info("session over: %s", why);
	stop_rfb(s);
	LL_FREE_AND_NULL(ll_consent_dialog_free, s->consent);
	s->granted = 0;
	gate_changed(s);
	LL_FREE_AND_NULL(ll_session_bar_free, s->bar);
	/* Safe inside the pump's callbacks (it holds its own reference). */
	LL_FREE_AND_NULL(ll_session_io_free, s->io);
	s->done(code, why, s->user);
}

static void begin_end(struct ll_applet_session *s, int code, const char *why,
		      const char *peer_reason)
{
	if (s->state != S_RUNNING)
		return;
	s->state = S_ENDING;
	s->end_code = code;
	g_strlcpy(s->end_why, why, sizeof(s->end_why));
	/* Nothing more is shared from this moment on. */
	LL_FREE_AND_NULL(ll_consent_dialog_free, s->consent);
	s->granted = 0;
	gate_changed(s);
	stop_rfb(s);
	report(s, "ended", 0, peer_reason);
	update_bar(s, "Ending the session\u2026");
	if (s->io == NULL || ll_session_io_end(s->io, peer_reason) != 0)
		finish(s, code, why);
	/* else on_closed(LOCAL) finishes. */
}

void ll_applet_session_end_by_user(struct ll_applet_session *s)
{
	switch (s->state) {
	case S_IDLE:
		s->state = S_RUNNING;  /* so that finish() reports once */
		finish(s, LL_APPLET_EXIT_OK, "You closed the applet.");
		break;
	case S_REDEEMING:
		/* The worker is bounded by its timeouts; finish after it. */
		s->end_requested = true;
		break;
	case S_RUNNING:
		begin_end(s, LL_APPLET_EXIT_OK, "You ended the session.",
			  "the user ended the session");
		break;
	default:
		break;
	}
}

/* ---- redeem + stream (worker thread) ---- */

struct redeem_job {
	struct ll_relay_opts opts;
	char *url;
	char *ca_file;
	char pin[16];
	int r;
	bool at_stream;
	struct ll_client_error err;
	struct ll_api_redeem redeem;
	struct ll_stream *stream;
};

static void redeem_job_free(gpointer data)
{
	struct redeem_job *j = data;

	ll_wipe(j->pin, sizeof(j->pin));
	ll_api_redeem_clear(&j->redeem);
	ll_stream_free(j->stream);
	g_free(j->url);
	g_free(j->ca_file);
	g_free(j);
}

static void redeem_thread(GTask *task, gpointer src, gpointer data,
			  GCancellable *cancel)
{
	struct redeem_job *j = data;
	struct ll_api_client *c;
	int r;

	ll_client_error_clear(&j->err);
	if ((c = ll_api_client_new(&j->opts, &j->err)) == NULL) {
		r = j->err.code != 0 ? j->err.code : LL_ERR_NOMEM;
		goto out;
	}
	r = ll_api_pin_redeem(c, j->pin, NULL, &j->redeem, &j->err);
	ll_wipe(j->pin, sizeof(j->pin));
	if (r != 0)
		goto out;
	j->at_stream = true;
	r = ll_stream_open(&j->opts, j->redeem.stream_path, j->redeem.ticket,
			   &j->stream, &j->err);
out:
	ll_api_client_free(c);
	j->r = r;
	g_task_return_boolean(task, TRUE);
}

/* What went wrong, for the person at the screen. */
static char *redeem_words(const struct redeem_job *j)
{
	const struct ll_client_error *e = &j->err;
	const char *c = e->api_code;

	if (strcmp(c, "pin_invalid") == 0)
		return g_strdup("This PIN is not valid. Please check the "
				"digits with your technician.");
	if (strcmp(c, "pin_expired") == 0)
		return g_strdup("This PIN has expired. Please ask your "
				"technician for a new one.");
	if (strcmp(c, "rate_limited") == 0)
		return e->retry_after > 0 ?
			g_strdup_printf("Too many attempts. Please wait %d "
					"seconds and try again.",
					e->retry_after) :
			g_strdup("Too many attempts. Please wait a moment "
				 "and try again.");
	if (strcmp(c, "pin_locked_website") == 0)
		return g_strdup("This PIN can only be used on your support "
				"organisation's web page.");
	if (strcmp(c, "pin_locked_shortcut") == 0)
		return g_strdup("This PIN can only be used with your "
				"organisation's support shortcut.");
	if (strcmp(c, "end_user_ip_not_allowed") == 0)
		return g_strdup("Your technician may not support this "
				"computer from the network it is on now.");
	if (e->code == LL_ERR_TLS_VERIFY)
		return g_strdup_printf("The support server's identity could "
				       "not be verified, so the applet did "
				       "not connect (%s).", e->message);
	if (e->http_status == 0 && !j->at_stream)
		return g_strdup_printf("Cannot reach the support server: %s",
				       e->message);
	if (j->at_stream)
		return g_strdup_printf("The support server accepted the PIN "
				       "but the session could not start: %s",
				       e->message);
	if (e->message[0] != '\0')
		return g_strdup(e->message);
	return g_strdup(ll_strerror(j->r));
}

static void redeem_done(GObject *src, GAsyncResult *res, gpointer data)
{
	GTask *task = G_TASK(res);
	struct redeem_job *j = g_task_get_task_data(task);
	struct ll_session_io_opts io_opts;
	struct ll_session_io_cbs cbs = {
		.on_ready = on_ready,
		.on_control = on_control,
		.on_channel_open = on_channel_open,
		.on_channel_close = on_channel_close,
		.on_closed = on_closed,
	};
	struct ll_control_msg hello = { .type = LL_CONTROL_HELLO };
	struct ll_applet_session *s;
	char *words;
	int r;

	/* The session may be gone: look at it only if not cancelled. */
	if (g_cancellable_is_cancelled(g_task_get_cancellable(task)))
		return;
	s = data;
	if (s->end_requested) {
		s->state = S_RUNNING;
		finish(s, LL_APPLET_EXIT_OK, "You cancelled the connection.");
		return;
	}
	if (j->r != 0) {
		words = redeem_words(j);
		ll_warn("connecting failed: %s (%s)", j->err.message,
			ll_strerror(j->r));
		if (s->on_redeem_error != NULL) {
			s->state = S_IDLE;
			s->on_redeem_error(words, s->user);
		} else {
			s->state = S_RUNNING;
			finish(s, LL_APPLET_EXIT_RELAY, words);
		}
		g_free(words);
		return;
	}

	/* Take the results over. */
	s->redeem = j->redeem;
	memset(&j->redeem, 0, sizeof(j->redeem));
	make_shown(&s->redeem.technician.name);
	make_shown(&s->redeem.technician.org);
	ll_session_io_opts_default(&io_opts);
	io_opts.side = LL_SIDE_APPLET;
	r = ll_session_io_new(j->stream, &io_opts, &cbs, s, &s->io);
	if (r != 0) {
		s->state = S_RUNNING;
		finish(s, LL_APPLET_EXIT_FAILURE, "Cannot start the session.");
		return;
	}
	j->stream = NULL;
	s->state = S_RUNNING;
	ll_info("session %s: connected, waiting for the technician",
		s->redeem.session_id);
	reporter_start(s);
	ll_applet_pin_done(s->a);

	hello.u.hello.version = LL_CONTROL_VERSION;
	hello.u.hello.role = LL_SIDE_APPLET;
	send_ctl(s, &hello);
	s->bar = ll_session_bar_new(s->a, s->redeem.technician.name,
				    s->redeem.technician.org, on_stop_control,
				    on_bar_end, s);
}

void ll_applet_session_start(struct ll_applet_session *s, const char *pin,
			     void (*on_redeem_error)(const char *message,
						     void *user))
{
	struct redeem_job *j;
	GTask *task;

	if (s->state != S_IDLE)
		return;
	s->on_redeem_error = on_redeem_error;
	s->state = S_REDEEMING;
	j = g_new0(struct redeem_job, 1);
	j->url = g_strdup(s->relay_url);
	j->ca_file = g_strdup(s->ca_file);
	fill_relay_opts(&j->opts, j->url, j->ca_file,
			SESSION_API_TIMEOUT_MS);
	g_strlcpy(j->pin, pin, sizeof(j->pin));
	task = g_task_new(NULL, s->cancel, redeem_done, s);
	g_task_set_task_data(task, j, redeem_job_free);
	g_task_set_return_on_cancel(task, FALSE);
	g_task_run_in_thread(task, redeem_thread);
	g_object_unref(task);
}

struct ll_applet_session *ll_applet_session_new(
	struct ll_applet *a, const struct ll_applet_session_opts *o,
	void (*done)(int exit_code, const char *why, void *user), void *user)
{
	struct ll_applet_session *s = g_new0(struct ll_applet_session, 1);

	s->a = a;
	s->relay_url = g_strdup(o->relay_url);
	s->ca_file = g_strdup(o->ca_file);
	s->display = g_strdup(o->display);
	s->monitor = g_strdup(o->monitor);
	s->done = done;
	s->user = user;
	s->cancel = g_cancellable_new();
	s->bridge_fd = -1;
	return s;
}

void ll_applet_session_free(struct ll_applet_session *s)
{
	if (s == NULL)
		return;
	g_cancellable_cancel(s->cancel);
	stop_rfb(s);
	LL_FREE_AND_NULL(ll_consent_dialog_free, s->consent);
	LL_FREE_AND_NULL(ll_session_bar_free, s->bar);
	LL_FREE_AND_NULL(ll_session_io_free, s->io);
	/* Sends the audit reports still queued, bounded by its drain time. */
	LL_FREE_AND_NULL(ll_reporter_free, s->rep);
	ll_api_redeem_clear(&s->redeem);
	g_object_unref(s->cancel);
	g_free(s->relay_url);
	g_free(s->ca_file);
	g_free(s->display);
	g_free(s->monitor);
	g_free(s);
}
