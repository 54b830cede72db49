/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Screen sharing of the applet's session (session_int.h), which exists
 * only while `view` is granted: before the grant nothing is captured and
 * there is no RFB thread, no socketpair and no mux channel 1, so not even
 * the screen size (RFB ServerInit) can leave.  While the consent dialog
 * asks for view, ll_applet_rfb_prepare may set up the platform instance
 * and the RFB server (display connection, shared memory, framebuffer:
 * memory, no pixels; the segment warmed with a fill of the applet's
 * own, rfb_server.c warm) and libvncserver's client on a socketpair whose
 * other end reaches nobody (it holds the RFB version string, nothing
 * else), because doing that after the click is most of the wait for the
 * first frame; a refusal drops it all unread.  On the grant
 * ll_applet_rfb_start lets the RFB thread go: it grabs the first frame,
 * then channel 1 is opened and bridged to the other end of the
 * socketpair.
 *
 * The RFB thread (rfb_server.c) reaches the main loop only through
 * messages posted with g_idle_add on a reference-counted link that
 * outlives the session: a message that arrives after ll_applet_rfb_stop
 * finds no session and is dropped.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtk/gtk.h>

#include "ll_control.h"
#include "ll_session_io.h"
#include "ll_ui.h"
#include "ll_util.h"
#include "platform.h"
#include "applet.h"
#include "session_int.h"

/* The RFB thread's way back to the main loop; outlives the session. */
struct ll_applet_rfb_link {
	gint ref;
	/* main thread only; NULL once detached */
	struct ll_applet_session *s;
};

enum rfb_msg_kind { RFB_MSG_READY = 1, RFB_MSG_ENDED, RFB_MSG_MONITORS };

struct rfb_msg {
	struct ll_applet_rfb_link *link;
	enum rfb_msg_kind kind;
	char why[160];
	/* RFB_MSG_MONITORS: what may travel of the platform's list */
	struct ll_control_monitor mons[LL_CONTROL_MAX_MONITORS];
	size_t n_mons;
	char current[LL_PLATFORM_MONITOR_NAME_MAX];
	int err;
	bool answer;    /* to a select_monitor */
	unsigned tries; /* RFB_MSG_READY: channel 1 still closing */
	char requested[LL_CONTROL_MAX_MONITOR_NAME + 1];
};

static struct ll_applet_rfb_link *link_ref(struct ll_applet_rfb_link *l)
{
	g_atomic_int_inc(&l->ref);
	return l;
}

static void link_unref(struct ll_applet_rfb_link *l)
{
	if (l != NULL && g_atomic_int_dec_and_test(&l->ref))
		g_free(l);
}

static void on_rfb_msg_ready(struct ll_applet_session *s,
			     const struct rfb_msg *m);
static void on_rfb_msg_ended(struct ll_applet_session *s, const char *why);
static void on_rfb_msg_monitors(struct ll_applet_session *s,
				const struct rfb_msg *m);

static gboolean rfb_msg_dispatch(gpointer data)
{
	struct rfb_msg *m = data;
	struct ll_applet_session *s = m->link->s;

	if (s != NULL) {
		if (m->kind == RFB_MSG_READY)
			on_rfb_msg_ready(s, m);
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
static void rfb_post(struct ll_applet_rfb_link *l, enum rfb_msg_kind kind,
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

void ll_applet_rfb_stop(struct ll_applet_session *s)
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
						     LL_MUX_CHANNEL_RFB)) !=
			    0 &&
		    r != LL_ERR_NOT_FOUND)
			ll_debug("closing the RFB channel: %s",
				 ll_strerror(r));
	}
	/* Joins the RFB thread (its socket is shut down first); only then
	 * may our reference to the link go: the thread posts with it. */
	LL_FREE_AND_NULL(ll_rfb_server_free, s->rfb);
	LL_FREE_AND_NULL(ll_rfb_server_free, s->rfb_ready);
	LL_FREE_AND_NULL(link_unref, s->link);
	ll_input_gate_set_injector(ll_applet_gate(s->a), NULL);
	ll_session_bar_set_sharing(s->bar, NULL, NULL);
}

static void fail_screen(struct ll_applet_session *s, const char *what, int r)
{
	struct ll_control_msg m = { .type = LL_CONTROL_ERROR };
	char *msg = g_strdup_printf("%s: %s", what, ll_strerror(r));

	ll_warn("%s", msg);
	m.u.error.code = "screen_unavailable";
	m.u.error.message = msg;
	ll_applet_send_ctl(s, &m);
	ll_applet_status(s, "Your screen cannot be shared on this system.");
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

/*
 * The platform instance and the RFB server, not started: no capture, no
 * thread, no socket.  The link to the main loop is made here too (the
 * server keeps its callbacks); it goes with ll_applet_rfb_stop or
 * ll_applet_rfb_unprepare.
 */
static int rfb_create(struct ll_applet_session *s, const char **what,
		      struct ll_rfb_server **out)
{
	struct ll_rfb_server_cbs cbs = { 0 };
	struct ll_platform *p = NULL;
	int r;

	*what = "cannot open the display";
	if ((r = ll_platform_open(NULL, s->display, &p)) != 0)
		return r;
	if (s->link == NULL) {
		s->link = g_new0(struct ll_applet_rfb_link, 1);
		s->link->ref = 1;
		s->link->s = s;
	}
	cbs.client_ready = rfb_cb_ready;
	cbs.ended = rfb_cb_ended;
	cbs.monitors = rfb_cb_monitors;
	cbs.user = s->link;
	*what = "cannot start screen sharing";
	r = ll_rfb_server_new(p, ll_applet_gate(s->a), s->monitor,
			      ll_ui_brand()->product, &cbs, out);
	if (r != 0)
		ll_platform_free(p);
	return r;
}

void ll_applet_rfb_prepare(struct ll_applet_session *s)
{
	const char *what;
	int r;

	if (s->rfb != NULL || s->rfb_ready != NULL ||
	    s->state != LL_APPLET_RUNNING)
		return;
	/* A failure shows again, and is reported, on the grant. */
	if ((r = rfb_create(s, &what, &s->rfb_ready)) == 0) {
		what = "cannot start screen sharing";
		r = ll_rfb_server_open(s->rfb_ready);
	}
	if (r != 0) {
		ll_debug("preparing the screen: %s: %s", what, ll_strerror(r));
		ll_applet_rfb_unprepare(s);
	}
}

void ll_applet_rfb_unprepare(struct ll_applet_session *s)
{
	LL_FREE_AND_NULL(ll_rfb_server_free, s->rfb_ready);
	if (s->rfb == NULL && s->link != NULL) {
		s->link->s = NULL;
		LL_FREE_AND_NULL(link_unref, s->link);
	}
}

/* `view` was granted: from here on the screen may be shared. */
void ll_applet_rfb_start(struct ll_applet_session *s)
{
	const char *what = NULL;
	int r = 0;

	/* While the stream is stalled nothing is shared (fail closed):
	 * on_stall(false) in session.c starts again. */
	if (s->rfb != NULL || s->state != LL_APPLET_RUNNING || s->stalled)
		return;
	if (s->rfb_ready != NULL) {
		s->rfb = s->rfb_ready;
		s->rfb_ready = NULL;
	} else if ((r = rfb_create(s, &what, &s->rfb)) == 0) {
		what = "cannot start screen sharing";
		r = ll_rfb_server_open(s->rfb);
	}
	if (r == 0)
		start_injector(s);
	if (r != 0) {
		fail_screen(s, what, r);
		ll_applet_rfb_stop(s);
		return;
	}
	/* From here on the RFB thread captures. */
	if ((r = ll_rfb_server_go(s->rfb, &s->bridge_fd)) != 0) {
		fail_screen(s, "cannot start screen sharing", r);
		ll_applet_rfb_stop(s);
		return;
	}
	ll_applet_status(s, "Starting to share your screen\u2026");
}

/* Tries of a channel 1 still closing, READY_RETRY_MS apart. */
#define READY_RETRIES 100
#define READY_RETRY_MS 50

/* libvncserver's client exists: now, and only now, open channel 1. */
static void on_rfb_msg_ready(struct ll_applet_session *s,
			     const struct rfb_msg *m)
{
	struct rfb_msg *again;
	int r;

	if (s->io == NULL || s->bridge_fd < 0 || s->state != LL_APPLET_RUNNING)
		return;
	r = ll_session_io_channel_open(s->io, LL_MUX_CHANNEL_RFB);
	if (r == LL_ERR_CONFLICT && m->tries < READY_RETRIES &&
	    s->link != NULL) {
		/* Sharing restarts after a stall (session.c on_stall)
		 * while the close of the old channel 1 may still wait for
		 * the technician's answer: the id is free once it came. */
		again = g_new0(struct rfb_msg, 1);
		again->link = link_ref(s->link);
		again->kind = RFB_MSG_READY;
		again->tries = m->tries + 1;
		g_timeout_add(READY_RETRY_MS, rfb_msg_dispatch, again);
		return;
	}
	if (r != 0) {
		fail_screen(s, "cannot open the screen channel", r);
		ll_applet_rfb_stop(s);
		return;
	}
	s->rfb_channel = true;
	if ((r = ll_session_io_bridge(s->io, LL_MUX_CHANNEL_RFB,
				      s->bridge_fd)) != 0) {
		fail_screen(s, "cannot connect the screen channel", r);
		ll_applet_rfb_stop(s);
		return;
	}
	s->bridge_fd = -1; /* the pump's now */
	ll_applet_status(
		s, (s->granted & LL_CAP_CONTROL)
			   ? "The technician sees your screen and may control "
			     "it."
			   : "The technician sees your screen (view only: "
			     "no control).");
}

/* What the session bar says is shared. */
static void update_sharing(struct ll_applet_session *s,
			   const struct rfb_msg *m)
{
	const struct ll_control_monitor *c = NULL;
	GdkRectangle area, *where = NULL;
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
	/* The whole desktop is framed monitor by monitor (share_frame.c). */
	if (c != NULL && strcmp(m->current, LL_PLATFORM_ALL) != 0) {
		area.x = c->x;
		area.y = c->y;
		area.width = (int)c->width;
		area.height = (int)c->height;
		where = &area;
	}
	ll_session_bar_set_sharing(s->bar, t, where);
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

	if (s->state != LL_APPLET_RUNNING || !(s->granted & LL_CAP_VIEW))
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
			ll_applet_send_error(s, "unknown_monitor", t);
			g_string_free(names, TRUE);
		} else if (m->err == LL_ERR_DISABLED) {
			t = g_strdup_printf("cannot show monitor \"%s\": the "
					    "viewer cannot follow a change "
					    "of the screen size",
					    m->requested);
			ll_applet_send_error(s, "monitor_unavailable", t);
		} else {
			t = g_strdup_printf("cannot show monitor \"%s\": %s",
					    m->requested, ll_strerror(m->err));
			ll_applet_send_error(s, "monitor_unavailable", t);
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
	s->monitor = strcmp(m->current, LL_PLATFORM_ALL) == 0
			     ? NULL
			     : g_strdup(m->current);
	update_sharing(s, m);
	if (!known) {
		/* Its name cannot travel (or no list): say nothing wrong. */
		ll_warn("the monitor list cannot be sent to the technician");
		if (m->answer)
			ll_applet_send_error(
				s, "monitor_unavailable",
				"the monitor list cannot be described");
		return;
	}
	if (m->answer)
		ll_info("the technician now sees %s", m->current);
	out.u.monitors.list = (struct ll_control_monitor *)m->mons;
	out.u.monitors.n = m->n_mons;
	out.u.monitors.current = (char *)m->current;
	ll_applet_send_ctl(s, &out);
}

/* The technician picks what to see: honoured only while view is granted
 * and the screen is being shared; the name is checked by the RFB thread
 * against the monitors that exist right now. */
void ll_applet_rfb_select_monitor(struct ll_applet_session *s,
				  const char *name)
{
	int r;

	if (!(s->granted & LL_CAP_VIEW)) {
		/* Not a word about the screen before consent. */
		ll_applet_send_error(s, "not_granted",
				     "choosing a monitor needs the "
				     "view permission");
		return;
	}
	if (s->rfb == NULL) {
		ll_applet_send_error(s, "monitor_unavailable",
				     "the screen is not being "
				     "shared right now");
		return;
	}
	if ((r = ll_rfb_server_select_monitor(s->rfb, name)) != 0)
		ll_applet_send_error(s, "monitor_unavailable", ll_strerror(r));
}

static void on_rfb_msg_ended(struct ll_applet_session *s, const char *why)
{
	char *t;

	ll_info("screen sharing stopped: %s", why);
	ll_applet_rfb_stop(s);
	if (s->state != LL_APPLET_RUNNING)
		return;
	t = g_strdup_printf("Screen sharing stopped (%s).", why);
	ll_applet_status(s, t);
	g_free(t);
}
