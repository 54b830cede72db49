/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The applet's session, as a state machine on the GTK main loop (states
 * in session_int.h):
 *
 *   IDLE --start(pin)--> REDEEMING --(worker: redeem, open stream)-->
 *   RUNNING --(user/technician/consent/connection)--> ENDING --> DONE
 *
 * REDEEMING runs the blocking libcurl redeem and the stream opening in
 * the redeem worker (redeem.c), so the UI never waits.  RUNNING pumps the
 * stream with ll_session_io as side "applet" and speaks control messages:
 * each request of the technician's is asked at the consent dialog and
 * answered grant or deny; the answer is enforced here (input gate, screen
 * sharing in session_rfb.c) and reported to the relay's audit (POST
 * /api/v1/sessions/ID/events with our ticket) through the ordered
 * reporter of common/client (ll_reporter.h).
 *
 * A stream lost without an `end` after the technician had joined does not
 * end RUNNING: the session keeps its grants, stays failed closed (as in a
 * stall), and the reopen worker (ll_reopen.h) tries our ticket again
 * within the relay's grace; on a new stream we say hello and, once the
 * technician's console is back, grant id 0 with what is still granted,
 * then share it again.  No dialog is shown for it (docs/ARCHITECTURE.md,
 * flow 6).
 */
#include <string.h>

#include <gtk/gtk.h>

#include "ll_api_client.h"
#include "ll_control.h"
#include "ll_crypto.h"
#include "ll_reopen.h"
#include "ll_reporter.h"
#include "ll_session_io.h"
#include "ll_stream.h"
#include "ll_text.h"
#include "ll_util.h"
#include "applet.h"
#include "session_int.h"

#define SESSION_API_TIMEOUT_MS 20000
#define SESSION_CONNECT_TIMEOUT_MS 10000
/* Audit reports must not hold the exit up for long: each report, and all
 * those still queued at the end together. */
#define SESSION_EVENT_TIMEOUT_MS 5000
/* The technician's name and org in our windows: bytes, cut beyond. */
#define SHOWN_NAME_MAX 256

static void finish(struct ll_applet_session *s, enum ll_applet_end end,
		   const char *detail);
static void begin_end(struct ll_applet_session *s, enum ll_applet_end end,
		      const char *peer_reason);
static int start_io(struct ll_applet_session *s, struct ll_stream *stream);

/* ---- small helpers ---- */

static void fill_relay_opts(struct ll_relay_opts *o,
			    const struct ll_applet_session *s, int timeout_ms)
{
	*o = s->relay.opts;
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

void ll_applet_status(struct ll_applet_session *s, const char *status)
{
	/* What the user reads, in the log too (the GUI tests wait for it,
	 * there being no AT-SPI there). */
	if (status != NULL && s->bar != NULL)
		ll_info("session bar says: %s", status);
	ll_session_bar_update(s->bar, s->granted, status);
	ll_applet_chat_sync(s);
}

void ll_applet_send_ctl(struct ll_applet_session *s,
			const struct ll_control_msg *m)
{
	int r;

	if (s->io == NULL)
		return;
	if ((r = ll_session_io_send_control(s->io, m)) != 0)
		ll_warn("cannot send control %s: %s",
			ll_control_type_name(m->type), ll_strerror(r));
}

void ll_applet_send_error(struct ll_applet_session *s, const char *code,
			  const char *message)
{
	struct ll_control_msg m = { .type = LL_CONTROL_ERROR };

	m.u.error.code = (char *)code;
	m.u.error.message = (char *)message;
	ll_applet_send_ctl(s, &m);
}

/* ---- audit reports ---- */

static void reporter_start(struct ll_applet_session *s)
{
	struct ll_reporter_opts ro = { .drain_ms = SESSION_EVENT_TIMEOUT_MS };
	struct ll_relay_opts o;
	struct ll_client_error err;

	fill_relay_opts(&o, s, SESSION_EVENT_TIMEOUT_MS);
	if (ll_reporter_new(&o, s->redeem.session_id, s->redeem.ticket, &ro,
			    &s->rep, &err) != 0)
		ll_warn("session %s: no audit reports: %s",
			s->redeem.session_id, err.message);
}

/* Queued for the relay's audit; sent in this order (ll_reporter.h). */
static void report(struct ll_applet_session *s, const char *type,
		   uint32_t caps, const char *reason)
{
	if (s->rep != NULL)
		ll_reporter_send(s->rep, type, caps, reason);
}

void ll_applet_report(struct ll_applet_session *s, const char *type,
		      uint32_t caps, const char *reason)
{
	report(s, type, caps, reason);
}

void ll_applet_refuse_ungranted(struct ll_applet_session *s, uint32_t cap,
				const char *message, const char *reason)
{
	ll_warn("refused: %s", message);
	ll_applet_send_error(s, "not_granted", message);
	if (s->refusals_reported & cap)
		return;
	s->refusals_reported |= cap;
	report(s, "not_permitted", cap, reason);
}

/* ---- consent ---- */

static void gate_changed(struct ll_applet_session *s)
{
	struct ll_input_gate *g = ll_applet_gate(s->a);

	ll_input_gate_set_control(g, (s->granted & LL_CAP_CONTROL) != 0 &&
					     s->state == LL_APPLET_RUNNING &&
					     !s->stalled);
	/* Each call that closes the gate has released every held key and
	 * button by the time it returns (before any dialog maps). */
	ll_input_gate_set_consent_open(g, s->consent != NULL);
	ll_applet_clip_sync(s);
}

static void send_grant(struct ll_applet_session *s, uint32_t id, uint32_t caps)
{
	struct ll_control_msg m = { .type = LL_CONTROL_GRANT };

	m.u.grant.id = id;
	m.u.grant.caps = caps;
	ll_applet_send_ctl(s, &m);
}

static void send_deny_why(struct ll_applet_session *s, uint32_t id,
			  enum ll_deny_reason why, uint32_t retry_after)
{
	struct ll_control_msg m = { .type = LL_CONTROL_DENY };

	m.u.deny.id = id;
	m.u.deny.reason = why;
	m.u.deny.retry_after = retry_after;
	ll_applet_send_ctl(s, &m);
}

/*
 * Who sits here, for the technician's list and window titles: the OS
 * user's full name (else the login name) and the computer's host name,
 * made printable and cut to the control schema's caps.  Only once view
 * is granted (a name is as personal as the screen), once, and the bar
 * says so: nothing about the user leaves unannounced.
 */
static void tell_who(struct ll_applet_session *s)
{
	struct ll_control_msg m = { .type = LL_CONTROL_USER_INFO };
	char name[LL_CONTROL_MAX_USER_NAME + 1];
	char host[LL_CONTROL_MAX_HOST_NAME + 1];
	const char *real = g_get_real_name();
	char *words;

	if (s->told_who || !(s->granted & LL_CAP_VIEW))
		return;
	/* GLib says "Unknown" when the account has no full name. */
	if (real == NULL || real[0] == '\0' || strcmp(real, "Unknown") == 0)
		real = g_get_user_name();
	ll_text_printable(name, sizeof(name), real, strlen(real));
	ll_text_printable(host, sizeof(host), g_get_host_name(),
			  strlen(g_get_host_name()));
	if (name[0] == '\0' || host[0] == '\0')
		return;
	s->told_who = true;
	m.u.user_info.name = name;
	m.u.user_info.host = host;
	ll_applet_send_ctl(s, &m);
	words = g_strdup_printf("You gave permission. The technician also "
				"sees your name (%s) and this computer's "
				"name (%s).",
				name, host);
	ll_info("told the technician who: %s", words);
	ll_applet_status(s, words);
	g_free(words);
}

static void send_deny(struct ll_applet_session *s, uint32_t id)
{
	send_deny_why(s, id, LL_DENY_UNSAID, 0);
}

/* ---- no pestering ---- */

G_STATIC_ASSERT(LL_CAP_ALL == (1u << LL_APPLET_CAPS) - 1);

static int64_t hold_ms(const struct ll_applet_session *s)
{
	return (int64_t)s->consent_hold_s * 1000;
}

/*
 * The user refused caps (how: "denied", ...): counted per capability and
 * reported with the count.  Returns the highest count among caps.
 */
static unsigned note_refused(struct ll_applet_session *s, uint32_t caps,
			     const char *how)
{
	int64_t now = ll_now_mono_ms();
	unsigned i, most = 0;
	char *words, *why;

	for (i = 0; i < LL_APPLET_CAPS; i++) {
		if (!(caps & (1u << i)))
			continue;
		s->denials[i]++;
		s->denied_ms[i] = now;
		most = MAX(most, s->denials[i]);
	}
	words = ll_applet_caps_sentence(caps, "nothing");
	why = g_strdup_printf("%s (refusal %u of %u for this capability in "
			      "this session)",
			      how, most, LL_APPLET_CONSENT_MAX_DENIALS);
	report(s, "consent", caps, why);
	ll_info("the user refused: %s: %s", words, why);
	g_free(why);
	g_free(words);
	return most;
}

/*
 * A request for capabilities the user refused three times, or refused
 * less than the hold-back time ago, is denied without a dialog: a
 * technician must not be able to wear the user down by asking again and
 * again.  True when it was (reported to the audit with the counts).
 */
static bool hold_back(struct ll_applet_session *s, uint32_t id, uint32_t ask)
{
	int64_t now = ll_now_mono_ms(), wait = 0;
	uint32_t no_more = 0, held = 0, bit;
	unsigned i, n = 0;
	char *words, *why;

	for (i = 0; i < LL_APPLET_CAPS; i++) {
		bit = 1u << i;
		if (!(ask & bit) || s->denials[i] == 0)
			continue;
		if (s->denials[i] >= LL_APPLET_CONSENT_MAX_DENIALS) {
			no_more |= bit;
		} else if (now - s->denied_ms[i] < hold_ms(s)) {
			held |= bit;
			wait = MAX(wait, s->denied_ms[i] + hold_ms(s) - now);
		}
	}
	if (no_more == 0 && held == 0)
		return false;
	for (i = 0; i < LL_APPLET_CAPS; i++) {
		if (!((no_more | held) & (1u << i)))
			continue;
		s->held[i]++;
		n = MAX(n, s->held[i]);
	}
	words = ll_applet_caps_sentence(no_more | held, "nothing");
	if (no_more != 0) {
		why = g_strdup_printf("not shown: the user refused %u times "
				      "(%u requests held back)",
				      LL_APPLET_CONSENT_MAX_DENIALS, n);
		send_deny_why(s, id, LL_DENY_NO_MORE, 0);
	} else {
		/* Rounded up: asking again after that many seconds is
		 * shown. */
		uint32_t left = (uint32_t)((wait + 999) / 1000);

		why = g_strdup_printf("not shown: asked again within %d s of "
				      "a refusal, %u s left (%u requests "
				      "held back)",
				      s->consent_hold_s, left, n);
		send_deny_why(s, id, LL_DENY_HELD_BACK, left);
	}
	report(s, "consent", no_more | held, why);
	ll_info("consent: a request for %s was %s", words, why);
	g_free(why);
	g_free(words);
	return true;
}

/* Enforce what is granted now. */
static void apply_grants(struct ll_applet_session *s)
{
	gate_changed(s);
	if ((s->granted & LL_CAP_VIEW) && s->rfb == NULL)
		ll_applet_rfb_start(s);
	ll_applet_rfb_unprepare(s);
	tell_who(s);
}

static void on_consent_answer(enum ll_consent_answer ans, void *user)
{
	struct ll_applet_session *s = user;
	uint32_t caps = s->ask_caps, id = s->ask_id;
	char *words;

	LL_FREE_AND_NULL(ll_consent_dialog_free, s->consent);
	/* What was prepared for the screen is used now or never. */
	if ((ans != LL_CONSENT_ALLOW && ans != LL_CONSENT_VIEW_ONLY) ||
	    s->state != LL_APPLET_RUNNING)
		ll_applet_rfb_unprepare(s);
	gate_changed(s);
	if (s->state != LL_APPLET_RUNNING)
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
		ll_applet_status(s, "You gave permission.");
		apply_grants(s);
		break;
	case LL_CONSENT_VIEW_ONLY:
		/* The dialog offers it only when view and more are asked
		 * together: view is granted, the rest refused (and counted
		 * as refused, so it is not asked again at once). */
		s->granted |= LL_CAP_VIEW;
		s->ever_granted = true;
		send_grant(s, id, LL_CAP_VIEW);
		report(s, "consent", LL_CAP_VIEW, "allowed (view only)");
		ll_info("the user allowed view only");
		note_refused(s, caps & ~s->granted, "denied (view only)");
		ll_applet_status(s, "You allowed viewing only. The technician "
				    "cannot control your computer.");
		apply_grants(s);
		break;
	case LL_CONSENT_DENY:
		/* The technician learns when they may ask again, or that
		 * they may not. */
		if (note_refused(s, caps & ~s->granted, "denied") >=
		    LL_APPLET_CONSENT_MAX_DENIALS)
			send_deny_why(s, id, LL_DENY_NO_MORE, 0);
		else
			send_deny_why(s, id, LL_DENY_DECLINED,
				      (uint32_t)s->consent_hold_s);
		ll_applet_status(s, "You refused the request.");
		break;
	case LL_CONSENT_TIMEOUT:
		send_deny(s, id);
		report(s, "consent", caps, "timeout");
		ll_info("the permission request timed out");
		if (!s->ever_granted) {
			/* Nobody is at the screen: do not leave a session
			 * open that nobody watches. */
			begin_end(s, LL_APPLET_END_CONSENT_TIMEOUT,
				  "consent timeout: the user did not answer");
			return;
		}
		ll_applet_status(s, "No answer in time: the request was "
				    "refused.");
		break;
	case LL_CONSENT_NOT_REQUESTED:
		send_deny(s, id);
		report(s, "not_requested", caps,
		       "the user says they did not ask for this session");
		begin_end(s, LL_APPLET_END_NOT_REQUESTED,
			  "the user did not ask for this session");
		return;
	}
}

static void handle_request(struct ll_applet_session *s, uint32_t id,
			   uint32_t caps)
{
	uint32_t ask;

	if (caps & ~s->redeem.capabilities) {
		/* The relay did not give this technician that right (its
		 * group, docs/API.md "Groups and permissions"): refused
		 * unseen, and reported as such to the relay's audit. */
		send_deny(s, id);
		report(s, "not_permitted", caps & ~s->redeem.capabilities,
		       "refused: not permitted for this technician");
		ll_applet_status(s, "A request beyond this technician's "
				    "rights was refused.");
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
	if (hold_back(s, id, ask))
		return;
	s->ask_id = id;
	s->ask_caps = caps;
	/* Gate closed, and every key and button the technician held
	 * released, before the dialog exists. */
	ll_input_gate_set_consent_open(ll_applet_gate(s->a), true);
	if (ask & LL_CAP_VIEW)
		ll_applet_rfb_prepare(s);
	s->consent = ll_consent_dialog_new(
		s->a, s->redeem.technician.display_name,
		s->redeem.technician.org_display_name, ask,
		s->consent_timeout_s, on_consent_answer, s);
	gate_changed(s);
	ll_applet_status(s, "The technician asks for your permission.");
}

/* ---- session bar ---- */

static void on_stop_control(void *user)
{
	struct ll_applet_session *s = user;
	struct ll_control_msg m = { .type = LL_CONTROL_REVOKE };
	gint64 t0;

	if (s->state != LL_APPLET_RUNNING || !(s->granted & LL_CAP_CONTROL))
		return;
	/* Gate first: not one more event gets through, and every key and
	 * button the technician held is released before we go on. */
	t0 = g_get_monotonic_time();
	s->granted &= ~(uint32_t)LL_CAP_CONTROL;
	gate_changed(s);
	t0 = g_get_monotonic_time() - t0;
	m.u.revoke.caps = LL_CAP_CONTROL;
	ll_applet_send_ctl(s, &m);
	report(s, "revoke", LL_CAP_CONTROL, "stopped by the user");
	ll_info("the user stopped control (input released in %" G_GINT64_FORMAT
		" us)",
		t0);
	ll_applet_status(s, "You took back control of your mouse and "
			    "keyboard.");
}

static void on_bar_end(void *user)
{
	ll_applet_session_end_by_user(user);
}

static void on_bar_chat(void *user)
{
	ll_applet_chat_open(user);
}

/* ---- the stream ---- */

static void on_ready(struct ll_session_io *io, void *user)
{
	struct ll_applet_session *s = user;
	struct ll_control_msg m = { .type = LL_CONTROL_GRANT };

	s->was_ready = true;
	if (!s->resumed) {
		ll_info("the technician's console joined the session");
		ll_applet_status(s, "Connected. Nothing is shared until you "
				    "allow it.");
		return;
	}
	/* Back after a lost stream: say again what the user had granted,
	 * exactly that (grant id 0, docs/API.md section 5, Liveness; the
	 * agent takes it as the truth, never as more than it had), then
	 * share it again.  No dialog: consent was given in this session and
	 * not taken back. */
	s->resumed = false;
	s->stalled = false;
	m.u.grant.id = LL_CONTROL_GRANT_RESUMED;
	m.u.grant.caps = s->granted;
	ll_applet_send_ctl(s, &m);
	ll_applet_files_attach(s);
	report(s, "consent", s->granted, "still granted after a reconnect");
	ll_info("connection restored: the session resumes with what was "
		"granted");
	ll_applet_status(s, "Connection restored.");
	apply_grants(s);
}

/*
 * The stream went silent (ll_session_io.h, Liveness): fail closed at once
 * (input gate shut with held keys released, sharing stopped, channel 1
 * closed) and say so.  The grants are kept: when the stream speaks again
 * before it is declared dead, what was allowed resumes as it was, never
 * more.
 */
static void on_stall(struct ll_session_io *io, bool stalled, void *user)
{
	struct ll_applet_session *s = user;

	if (s->state != LL_APPLET_RUNNING)
		return;
	s->stalled = stalled;
	gate_changed(s);
	if (stalled) {
		ll_applet_rfb_stop(s);
		ll_applet_status(s, LL_APPLET_STALLED_TEXT);
		ll_info("connection interrupted: nothing from the support "
			"server for %d s; sharing and input stopped",
			LL_SESSION_STALL_MS / 1000);
		return;
	}
	ll_info("connection restored");
	ll_applet_status(s, "Connection restored.");
	apply_grants(s);
}

static void on_control(struct ll_session_io *io,
		       const struct ll_control_msg *msg, void *user)
{
	struct ll_applet_session *s = user;

	if (s->state != LL_APPLET_RUNNING)
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
		ll_applet_rfb_select_monitor(s, msg->u.select_monitor.name);
		break;
	case LL_CONTROL_CHAT:
		ll_applet_chat_received(s, msg->u.chat.text);
		break;
	case LL_CONTROL_CLIPBOARD:
		ll_applet_clip_received(s, msg->u.clipboard.text);
		break;
	case LL_CONTROL_SYSINFO_REQUEST:
		ll_applet_sysinfo_answer(s);
		break;
	case LL_CONTROL_ERROR:
		ll_warn("the technician's console reported an error (%s)",
			msg->u.error.code);
		break;
	case LL_CONTROL_END:
		/* on_closed(PEER) follows. */
		break;
	default:
		if (ll_applet_files_control(s, msg))
			break;
		/* grant/deny/revoke are ours to send; nothing else is
		 * by this applet yet. */
		ll_debug("ignoring control %s",
			 ll_control_type_name(msg->type));
		break;
	}
}

static void on_channel_open(struct ll_session_io *io, uint16_t channel,
			    void *user)
{
	/* Only a file the technician sends while `files` is granted. */
	if (!ll_applet_files_open(user, channel))
		ll_session_io_channel_close(io, channel);
}

static void on_channel_close(struct ll_session_io *io, uint16_t channel,
			     void *user)
{
	struct ll_applet_session *s = user;

	if (ll_applet_files_close(s, channel))
		return;
	if (channel != LL_MUX_CHANNEL_RFB || !s->rfb_channel)
		return;
	/* The viewer went away (or libvncserver closed): the channel is
	 * gone already, do not close it again. */
	s->rfb_channel = false;
	ll_info("the screen channel closed");
	ll_applet_rfb_stop(s);
	if (s->state == LL_APPLET_RUNNING)
		ll_applet_status(s, "The technician stopped watching your "
				    "screen.");
}

/* ---- coming back after a lost stream (issue 9.2) ---- */

static void on_reopened(int err, struct ll_stream *stream,
			const struct ll_client_error *cerr, unsigned tries,
			void *user)
{
	struct ll_applet_session *s = user;
	int r;

	s->reopen = NULL; /* the worker freed itself */
	if (s->state != LL_APPLET_RUNNING) {
		ll_stream_free(stream);
		return;
	}
	if (err != 0) {
		ll_warn("could not come back to the session after %u tries: "
			"%s (%s)",
			tries,
			cerr->message[0] != '\0' ? cerr->message
						 : ll_strerror(err),
			ll_strerror(err));
		finish(s, LL_APPLET_END_STALLED,
		       "the stream could not be reopened within the grace");
		return;
	}
	ll_info("stream reopened (try %u): waiting for the technician's "
		"console to come back",
		tries);
	s->resumed = true;
	if ((r = start_io(s, stream)) != 0) {
		ll_stream_free(stream);
		finish(s, LL_APPLET_END_STALLED, ll_strerror(r));
	}
}

/*
 * The stream broke without an `end` (closed, or declared dead by the
 * pump): keep the session and its grants, stay failed closed (gate shut,
 * nothing shared, any open question withdrawn: it went with the stream
 * and the technician may ask again), and try the ticket again within the
 * relay's grace in a worker thread.  False when it cannot even start.
 */
static bool start_reconnect(struct ll_applet_session *s,
			    enum ll_session_end why, const char *reason)
{
	struct ll_relay_opts o;

	fill_relay_opts(&o, s, SESSION_API_TIMEOUT_MS);
	s->stalled = true;
	s->resumed = false;
	LL_FREE_AND_NULL(ll_consent_dialog_free, s->consent);
	gate_changed(s);
	ll_applet_rfb_stop(s);
	ll_applet_files_detach(s);
	/* Safe inside the pump's callbacks (it holds its own reference). */
	LL_FREE_AND_NULL(ll_session_io_free, s->io);
	s->reopen = ll_reopen_start(&o, s->redeem.stream_path,
				    s->redeem.ticket,
				    ll_now_mono_ms() + LL_STREAM_GRACE_MS,
				    NULL, on_reopened, s);
	if (s->reopen == NULL)
		return false;
	ll_info("connection interrupted (%s: %s): reconnecting",
		ll_session_end_name(why), reason);
	ll_applet_status(s, LL_APPLET_STALLED_TEXT);
	return true;
}

static void on_closed(struct ll_session_io *io, enum ll_session_end why,
		      int err, const char *reason, void *user)
{
	struct ll_applet_session *s = user;
	/* The stream's own kinds of end, as the user is told them. */
	static const enum ll_applet_end of_stream[] = {
		/* we closed it without ending: a protocol error */
		[LL_SESSION_END_LOCAL] = LL_APPLET_END_FAILED,
		[LL_SESSION_END_PEER] = LL_APPLET_END_TECHNICIAN,
		[LL_SESSION_END_LOST] = LL_APPLET_END_LOST,
		[LL_SESSION_END_ERROR] = LL_APPLET_END_FAILED,
		[LL_SESSION_END_SILENT] = LL_APPLET_END_STALLED,
	};

	if (s->state == LL_APPLET_ENDING) {
		finish(s, s->end, reason);
		return;
	}
	if ((why == LL_SESSION_END_LOST || why == LL_SESSION_END_SILENT) &&
	    s->state == LL_APPLET_RUNNING && s->was_ready &&
	    start_reconnect(s, why, reason))
		return;
	/* reason passed the display rule in the session pump; it goes to
	 * the log only. */
	finish(s,
	       (size_t)why < G_N_ELEMENTS(of_stream) && of_stream[why] != 0
		       ? of_stream[why]
		       : LL_APPLET_END_FAILED,
	       reason);
}

/* ---- endings ---- */

/* The end as the relay named it, or the stream's own. */
static void finish_told(enum ll_applet_end end, void *user)
{
	struct ll_applet_session *s = user;

	ll_info("session over (%s)", ll_applet_end_tag(end));
	s->done(end, s->user);
}

static void finish(struct ll_applet_session *s, enum ll_applet_end end,
		   const char *detail)
{
	struct ll_relay_opts o;
	bool ask;

	if (s->state == LL_APPLET_DONE)
		return;
	/* a stream that closed without an `end` may be the relay's doing
	 * (a permission withdrawn, the technician disabled, an admin): it
	 * says which, after everything here is shut */
	ask = ll_applet_end_reason_asks(end) && s->redeem.ticket != NULL;
	s->state = LL_APPLET_DONE;
	ll_info("%s (%s)%s%s%s", ask ? "stream over" : "session over",
		ll_applet_end_tag(end), detail != NULL ? ": " : "",
		detail != NULL ? detail : "",
		ask ? "; asking the relay why" : "");
	LL_FREE_AND_NULL(ll_reopen_free, s->reopen);
	ll_applet_rfb_stop(s);
	LL_FREE_AND_NULL(ll_consent_dialog_free, s->consent);
	s->granted = 0;
	gate_changed(s);
	ll_applet_chat_free(s);
	LL_FREE_AND_NULL(ll_session_bar_free, s->bar);
	ll_applet_clip_free(s);
	ll_applet_files_free(s);
	/* Safe inside the pump's callbacks (it holds its own reference). */
	LL_FREE_AND_NULL(ll_session_io_free, s->io);
	if (ask) {
		fill_relay_opts(&o, s, SESSION_EVENT_TIMEOUT_MS);
		o.connect_timeout_ms = SESSION_EVENT_TIMEOUT_MS;
		ll_applet_end_reason_start(&o, s->redeem.session_id,
					   s->redeem.ticket, end, s->cancel,
					   finish_told, s);
		return;
	}
	s->done(end, s->user);
}

static void begin_end(struct ll_applet_session *s, enum ll_applet_end end,
		      const char *peer_reason)
{
	if (s->state != LL_APPLET_RUNNING)
		return;
	s->state = LL_APPLET_ENDING;
	s->end = end;
	/* Nothing more is shared from this moment on. */
	LL_FREE_AND_NULL(ll_consent_dialog_free, s->consent);
	s->granted = 0;
	gate_changed(s);
	ll_applet_rfb_stop(s);
	/* While coming back this report is also what tells the relay the
	 * session is over, so it does not wait out its grace. */
	report(s, "ended", 0, peer_reason);
	ll_applet_status(s, "Ending the session\u2026");
	LL_FREE_AND_NULL(ll_reopen_free, s->reopen);
	if (s->io == NULL || ll_session_io_end(s->io, peer_reason) != 0)
		finish(s, end, peer_reason);
	/* else on_closed(LOCAL) finishes. */
}

void ll_applet_session_end_by_user(struct ll_applet_session *s)
{
	switch (s->state) {
	case LL_APPLET_IDLE:
		/* RUNNING, so that finish() reports once */
		s->state = LL_APPLET_RUNNING;
		finish(s, LL_APPLET_END_CLOSED, NULL);
		break;
	case LL_APPLET_REDEEMING:
		/* The worker is bounded by its timeouts; finish after it. */
		s->end_requested = true;
		break;
	case LL_APPLET_RUNNING:
		begin_end(s, LL_APPLET_END_USER, "the user ended the session");
		break;
	default:
		break;
	}
}

/* ---- redeem and start ---- */

/* The redeem worker is back (redeem.c): run the session, or say why
 * not. */
/*
 * Pumps stream (taken over on success) as the applet's side and says
 * hello: at the start, and again on each stream that comes back.
 */
static int start_io(struct ll_applet_session *s, struct ll_stream *stream)
{
	struct ll_session_io_opts io_opts;
	struct ll_session_io_cbs cbs = {
		.on_ready = on_ready,
		.on_control = on_control,
		.on_channel_open = on_channel_open,
		.on_channel_close = on_channel_close,
		.on_channel_data = ll_applet_files_data,
		.on_stall = on_stall,
		.on_closed = on_closed,
	};
	struct ll_control_msg hello = { .type = LL_CONTROL_HELLO };
	int r;

	ll_session_io_opts_default(&io_opts);
	io_opts.side = LL_SIDE_APPLET;
	if ((r = ll_session_io_new(stream, &io_opts, &cbs, s, &s->io)) != 0)
		return r;
	/* back after a loss: in on_ready, after the grant (our transfers
	 * are offered again at once, and the agent takes file messages only
	 * once it knows `files` is still granted) */
	if (!s->resumed)
		ll_applet_files_attach(s);
	hello.u.hello.version = LL_CONTROL_VERSION;
	hello.u.hello.role = LL_SIDE_APPLET;
	ll_applet_send_ctl(s, &hello);
	return 0;
}

static void on_redeemed(struct ll_applet_redeemed *res, void *user)
{
	struct ll_applet_session *s = user;
	int r;

	if (s->end_requested) {
		s->state = LL_APPLET_RUNNING;
		finish(s, LL_APPLET_END_CANCELLED, NULL);
		return;
	}
	if (res->err != 0) {
		ll_warn("connecting failed: %s (%s)", res->why,
			ll_strerror(res->err));
		if (s->on_redeem_error != NULL) {
			s->state = LL_APPLET_IDLE;
			s->on_redeem_error(res->end, s->user);
		} else {
			s->state = LL_APPLET_RUNNING;
			finish(s, res->end, res->why);
		}
		return;
	}

	/* Take the results over. */
	s->redeem = res->redeem;
	memset(&res->redeem, 0, sizeof(res->redeem));
	make_shown(&s->redeem.technician.name);
	make_shown(&s->redeem.technician.org);
	make_shown(&s->redeem.technician.display_name);
	make_shown(&s->redeem.technician.org_display_name);
	ll_applet_set_org_name(s->a, s->redeem.technician.org_display_name);
	r = start_io(s, res->stream);
	if (r != 0) {
		s->state = LL_APPLET_RUNNING;
		finish(s, LL_APPLET_END_START_FAILED, ll_strerror(r));
		return;
	}
	res->stream = NULL;
	s->state = LL_APPLET_RUNNING;
	ll_info("session %s: connected, waiting for the technician",
		s->redeem.session_id);
	reporter_start(s);
	ll_applet_pin_done(s->a);
	s->bar = ll_session_bar_new(s->a, s->redeem.technician.display_name,
				    s->redeem.technician.org_display_name,
				    on_stop_control, on_bar_end, s);
	ll_session_bar_set_chat(s->bar, on_bar_chat);
	ll_session_bar_set_send(s->bar, ll_applet_files_pick);
	ll_session_bar_add_clipboard(s->bar, ll_applet_clip_stop, s);
}

void ll_applet_session_start_picked(struct ll_applet_session *s,
				    struct ll_applet_redeemed *res)
{
	if (s->state != LL_APPLET_IDLE)
		return;
	s->on_redeem_error = NULL;
	s->state = LL_APPLET_REDEEMING;
	on_redeemed(res, s);
}

void ll_applet_session_start(struct ll_applet_session *s, const char *pin,
			     void (*on_redeem_error)(enum ll_applet_end end,
						     void *user))
{
	struct ll_relay_opts o;

	if (s->state != LL_APPLET_IDLE)
		return;
	s->on_redeem_error = on_redeem_error;
	s->state = LL_APPLET_REDEEMING;
	fill_relay_opts(&o, s, SESSION_API_TIMEOUT_MS);
	ll_applet_redeem_start(&o,
			       &(struct ll_api_redeem_ask){
				       .pin = pin,
				       .org = s->org,
				       .launch = s->launch,
				       .applet_config = s->applet_config },
			       s->cancel, on_redeemed, s);
}

struct ll_applet_session *ll_applet_session_new(
	struct ll_applet *a, const struct ll_applet_session_opts *o,
	void (*done)(enum ll_applet_end end, void *user), void *user)
{
	struct ll_applet_session *s = g_new0(struct ll_applet_session, 1);

	s->a = a;
	ll_relay_opts_copy_init(&s->relay, &o->relay);
	s->org = g_strdup(o->org);
	s->launch = g_strdup(o->launch);
	s->applet_config = g_strdup(o->applet_config);
	s->display = g_strdup(o->display);
	s->monitor = g_strdup(o->monitor);
	s->consent_timeout_s = o->consent_timeout_s > 0
				       ? o->consent_timeout_s
				       : LL_APPLET_CONSENT_TIMEOUT_S;
	/* It travels as a deny's retry_after: within that field's range. */
	s->consent_hold_s = CLAMP(o->consent_hold_s > 0
					  ? o->consent_hold_s
					  : LL_APPLET_CONSENT_HOLD_S,
				  1, (int)LL_CONTROL_MAX_RETRY_AFTER);
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
	LL_FREE_AND_NULL(ll_reopen_free, s->reopen);
	ll_applet_rfb_stop(s);
	LL_FREE_AND_NULL(ll_consent_dialog_free, s->consent);
	ll_applet_chat_free(s);
	LL_FREE_AND_NULL(ll_session_bar_free, s->bar);
	ll_applet_clip_free(s);
	ll_applet_files_free(s);
	LL_FREE_AND_NULL(ll_session_io_free, s->io);
	/* Sends the audit reports still queued, bounded by its drain time. */
	LL_FREE_AND_NULL(ll_reporter_free, s->rep);
	ll_api_redeem_clear(&s->redeem);
	g_object_unref(s->cancel);
	ll_relay_opts_copy_clear(&s->relay);
	g_free(s->org);
	if (s->launch != NULL)
		ll_wipe(s->launch, strlen(s->launch));
	g_free(s->launch);
	if (s->applet_config != NULL)
		ll_secret_free(s->applet_config);
	g_free(s->display);
	g_free(s->monitor);
	g_free(s);
}
