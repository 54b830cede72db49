/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One session seen from the technician's side, on top of the pump of
 * common/client (ll_session_io): capabilities asked and granted, the RFB
 * channel the applet opens after a view grant (bridged to a socketpair
 * whose other end goes to the viewer or the headless client), the end and
 * why.  The GUI and the CLI's holder both run this, so they behave alike.
 * Main loop only.
 *
 * What the applet decides is the truth: capabilities count as granted
 * only from its "grant" and stop counting at its "revoke"; the applet
 * enforces them again on its side.  Each of its answers is reported to
 * the relay's audit through the ordered reporter of common/client
 * (ll_reporter.h), so a grant and its revoke are recorded in that order.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "ll_control.h"
#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_reopen.h"
#include "ll_reporter.h"
#include "ll_stream.h"
#include "ll_sysinfo.h"
#include "ll_text.h"
#include "ll_util.h"
#include "ll_rfb_filter.h"
#include "ll_rfb_quality.h"
#include "ll_xfer_io.h"

/* Each audit report (POST .../events) may take this long. */
#define AGENT_EVENT_TIMEOUT_MS 10000

struct ll_agent_session {
	struct ll_session_io *io;
	/* channel 1's filter's ll_rfb_filter_lossy_update, for the RFB
	 * client's thread (stored before the bytes go on to it) */
	atomic_uint_least64_t rfb_lossy;
	/* what the applet decides, to the relay's audit, in order; NULL
	 * when it could not start (then only logged) */
	struct ll_reporter *rep;
	char *id;
	uint32_t initial_caps;
	struct ll_agent_session_cbs cbs;
	void *user;

	bool joined;
	bool ended;
	uint32_t caps;
	uint32_t next_id;
	bool pending;
	uint32_t pending_id;
	enum ll_agent_answer answer;
	enum ll_deny_reason deny_reason; /* of the latest deny */
	uint32_t retry_after;
	char *end_reason;
	/* the applet's latest monitor list (after a view grant) */
	struct ll_control_monitor *mons;
	size_t n_mons;
	char *mon_current;
	unsigned mon_serial;
	/* the applet's latest control error: its words */
	char *err_code;
	char *err_message;
	unsigned err_serial;
	/* "NAME on HOST" from the applet's user_info, printable; NULL
	 * before it came */
	char *who;
	/* the applet's latest sysinfo answer, printable; NULL before */
	struct ll_sysinfo *sysinfo;
	unsigned sysinfo_serial;

	/* Coming back after a lost stream (issue 9.2): the relay and our
	 * ticket (wiped on free) to reopen our side's stream with, the
	 * worker while it tries (io is NULL then), and the grants as they
	 * were at the loss: the applet's grant id 0 on the new stream is
	 * taken as the truth, never as more than that. */
	struct ll_relay_opts relay;
	char *relay_url;
	char *relay_ca_file;
	char *relay_ca_pem;
	char *relay_spki_pin;
	char *ticket;
	struct ll_reopen *reopen;
	bool resumed;       /* on a stream that came back, before READY */
	bool await_resumed; /* READY again, grant id 0 not yet come */
	uint32_t caps_before;
	char *lost_reason; /* the pump's words at the first loss */
	/* the chat's lines and their upload (chat.c) */
	struct ll_agent_chat *chat;

	/* file transfers (ll_xfer_io.h): the set, and whom it tells */
	struct ll_xfer_set *xfers;
	struct ll_xfer_set_cbs xcbs;
	void *xuser;

	/* The picture's quality from the link (ll_rfb_quality.h): fed on
	 * channel 1's bridge, told to the viewer from an idle source. */
	struct ll_rfb_quality quality;
	unsigned quality_serial;
	guint quality_idle;
};

const char *ll_agent_state_text(enum ll_agent_state st)
{
	switch (st) {
	case LL_AGENT_CONNECTING:
		return "connecting to the relay";
	case LL_AGENT_WAIT_PEER:
		return "waiting for the user";
	case LL_AGENT_WAIT_CONSENT:
		return "waiting for consent";
	case LL_AGENT_VIEWING:
		return "viewing";
	case LL_AGENT_CONTROLLING:
		return "controlling";
	case LL_AGENT_ACTIVE:
		return "connected, nothing allowed";
	case LL_AGENT_ENDED:
		return "ended";
	}
	return "unknown";
}

char *ll_agent_caps_text(uint32_t caps)
{
	GString *s = g_string_new(NULL);
	uint32_t bit;

	for (bit = 1; bit <= LL_CAP_ALL; bit <<= 1) {
		if (!(caps & bit))
			continue;
		if (s->len > 0)
			g_string_append(s, ", ");
		g_string_append(s, ll_cap_name(bit));
	}
	if (s->len == 0)
		g_string_append(s, "nothing");
	return g_string_free(s, FALSE);
}

uint32_t ll_agent_caps_parse(const char *const *names, int n, char **err)
{
	uint32_t caps = 0, bit;
	char **parts;
	int i, j;

	for (i = 0; i < n; i++) {
		parts = g_strsplit_set(names[i], ", ", -1);
		for (j = 0; parts[j] != NULL; j++) {
			if (parts[j][0] == '\0')
				continue;
			bit = ll_cap_from_name(parts[j]);
			if (bit == 0) {
				*err = g_strdup_printf(
					"unknown capability \"%s\" (view, "
					"control, files, chat, sysinfo, "
					"clipboard)",
					g_utf8_validate(parts[j], -1, NULL)
						? parts[j]
						: "?");
				g_strfreev(parts);
				return 0;
			}
			caps |= bit;
		}
		g_strfreev(parts);
	}
	if (caps == 0)
		*err = g_strdup("name at least one capability (view, control, "
				"files, chat, sysinfo, clipboard)");
	return caps;
}

/* ---- pump callbacks ---- */

static void changed(struct ll_agent_session *s)
{
	if (s->cbs.on_changed != NULL)
		s->cbs.on_changed(s, s->user);
}

static int send_request(struct ll_agent_session *s, uint32_t caps,
			uint32_t *id)
{
	struct ll_control_msg m;
	int r;

	memset(&m, 0, sizeof(m));
	m.type = LL_CONTROL_REQUEST;
	m.u.request.id = s->next_id;
	m.u.request.caps = caps;
	if ((r = ll_session_io_send_control(s->io, &m)) != 0)
		return r;
	s->pending = true;
	s->pending_id = s->next_id++;
	s->answer = LL_ANSWER_NONE;
	s->deny_reason = LL_DENY_UNSAID;
	s->retry_after = 0;
	if (id != NULL)
		*id = s->pending_id;
	return LL_OK;
}

static void on_ready(struct ll_session_io *io, void *user)
{
	struct ll_agent_session *s = user;
	struct ll_control_msg m;
	int r;

	s->joined = true;
	memset(&m, 0, sizeof(m));
	m.type = LL_CONTROL_HELLO;
	m.u.hello.version = LL_CONTROL_VERSION;
	m.u.hello.role = LL_SIDE_AGENT;
	if ((r = ll_session_io_send_control(io, &m)) != 0)
		ll_warn("session %s: cannot send hello: %s", s->id,
			ll_strerror(r));
	if (s->resumed) {
		/* Back after a loss: hello again, never the first request
		 * again; what is granted is what the applet's grant id 0
		 * says (none comes when nothing is granted). */
		s->resumed = false;
		s->await_resumed = true;
		s->caps = 0;
		ll_info("session %s: connection restored", s->id);
		changed(s);
		return;
	}
	if (s->initial_caps != 0 &&
	    (r = send_request(s, s->initial_caps, NULL)) != 0)
		ll_warn("session %s: cannot send the request: %s", s->id,
			ll_strerror(r));
	changed(s);
}

/*
 * The applet's grant id 0 (ll_control.h): what is still granted after the
 * stream came back.  Taken as the truth, but never as more than was
 * granted at the loss: consent is given at the applet's dialog, and a
 * reconnect shows none.  Anything wider is logged and ignored, and so is
 * a grant id 0 at any other time.
 */
static void resumed_grant(struct ll_agent_session *s, uint32_t caps)
{
	char *text;

	if (!s->await_resumed) {
		ll_warn("session %s: ignoring a grant that answers no "
			"request",
			s->id);
		return;
	}
	s->await_resumed = false;
	if (caps & ~s->caps_before) {
		text = ll_agent_caps_text(caps & ~s->caps_before);
		ll_warn("session %s: the applet says %s is granted after the "
			"reconnect, which was not granted before: ignored",
			s->id, text);
		g_free(text);
	}
	s->caps = caps & s->caps_before;
	text = ll_agent_caps_text(s->caps);
	ll_info("session %s: still allowed after the reconnect: %s", s->id,
		text);
	g_free(text);
}

/* The applet's clipboard text: to the viewer only while `clipboard` is
 * granted (the real applet sends none else); never logged. */
static void on_clipboard(struct ll_agent_session *s, const char *text)
{
	if (!(s->caps & LL_CAP_CLIPBOARD)) {
		ll_warn("session %s: clipboard text from the applet without "
			"the grant: dropped",
			s->id);
		return;
	}
	ll_info("session %s: %zu bytes of clipboard text from the user", s->id,
		strlen(text));
	if (s->cbs.on_clipboard != NULL)
		s->cbs.on_clipboard(s, text, s->user);
}

/* The applet's answer to sysinfo_request, kept (taken from msg, which
 * the pump frees right after) once made printable.  False when dropped. */
static bool on_sysinfo(struct ll_agent_session *s, struct ll_control_msg *msg)
{
	struct ll_sysinfo *si = msg->u.sysinfo.info;

	if (!(s->caps & LL_CAP_SYSINFO)) {
		ll_warn("session %s: sysinfo from the applet without the "
			"grant: dropped",
			s->id);
		return false;
	}
	if (ll_sysinfo_make_printable(si) != 0)
		return false;
	msg->u.sysinfo.info = NULL;
	ll_sysinfo_free(s->sysinfo);
	s->sysinfo = si;
	s->sysinfo_serial++;
	ll_info("session %s: system information came (%s, %s)", s->id,
		si->host, si->os);
	return true;
}

static void on_control(struct ll_session_io *io,
		       const struct ll_control_msg *msg, void *user)
{
	struct ll_agent_session *s = user;
	char shown[LL_TEXT_PRINTABLE_SIZE(LL_CONTROL_MAX_MONITOR_NAME)];
	char *text;

	switch (msg->type) {
	case LL_CONTROL_GRANT:
		if (msg->u.grant.id == LL_CONTROL_GRANT_RESUMED) {
			resumed_grant(s, msg->u.grant.caps);
			break;
		}
		s->caps |= msg->u.grant.caps;
		if (s->pending && msg->u.grant.id == s->pending_id) {
			s->pending = false;
			s->answer = LL_ANSWER_GRANTED;
		}
		text = ll_agent_caps_text(s->caps);
		ll_info("session %s: the user allowed %s", s->id, text);
		g_free(text);
		ll_reporter_send(s->rep, "consent", msg->u.grant.caps,
				 "granted");
		break;
	case LL_CONTROL_DENY:
		if (s->pending && msg->u.deny.id == s->pending_id) {
			s->pending = false;
			s->answer = LL_ANSWER_DENIED;
			s->deny_reason = msg->u.deny.reason;
			s->retry_after = msg->u.deny.retry_after;
		}
		text = ll_agent_deny_text(msg->u.deny.reason,
					  msg->u.deny.retry_after);
		ll_info("session %s: request %u denied: %s", s->id,
			(unsigned)msg->u.deny.id, text);
		g_free(text);
		ll_reporter_send(s->rep, "consent", 0,
				 msg->u.deny.reason != LL_DENY_UNSAID
					 ? ll_deny_reason_name(
						   msg->u.deny.reason)
					 : "denied");
		break;
	case LL_CONTROL_REVOKE:
		s->caps &= ~msg->u.revoke.caps;
		text = ll_agent_caps_text(msg->u.revoke.caps);
		ll_info("session %s: the user took back %s", s->id, text);
		g_free(text);
		ll_reporter_send(s->rep, "revoke", msg->u.revoke.caps, NULL);
		break;
	case LL_CONTROL_ERROR:
		ll_warn("session %s: the applet reports an error (%s)", s->id,
			msg->u.error.code);
		g_free(s->err_code);
		g_free(s->err_message);
		s->err_code = g_strdup(msg->u.error.code);
		/* Shown by the CLI and the GUI as it is from here on. */
		s->err_message = ll_text_printable_new(
			msg->u.error.message, strlen(msg->u.error.message),
			LL_CONTROL_MAX_STRING);
		s->err_serial++;
		break;
	case LL_CONTROL_MONITORS:
		/* geometry of the user's screen: only ours while viewing */
		if (!(s->caps & LL_CAP_VIEW))
			return;
		g_free(s->mons);
		g_free(s->mon_current);
		s->mons = g_new(struct ll_control_monitor, msg->u.monitors.n);
		memcpy(s->mons, msg->u.monitors.list,
		       msg->u.monitors.n * sizeof(*s->mons));
		s->n_mons = msg->u.monitors.n;
		s->mon_current = g_strdup(msg->u.monitors.current);
		s->mon_serial++;
		ll_text_printable(shown, sizeof(shown), s->mon_current,
				  strlen(s->mon_current));
		ll_info("session %s: %zu monitors, showing %s", s->id,
			s->n_mons, shown);
		break;
	case LL_CONTROL_USER_INFO:
		/* who sits there: the applet sends it with view only */
		if (!(s->caps & LL_CAP_VIEW) || s->who != NULL)
			return;
		text = g_strdup_printf("%s on %s", msg->u.user_info.name,
				       msg->u.user_info.host);
		s->who = ll_text_printable_new(
			text, strlen(text),
			LL_CONTROL_MAX_USER_NAME + LL_CONTROL_MAX_HOST_NAME +
				4);
		g_free(text);
		ll_info("session %s: the user is %s", s->id,
			s->who != NULL ? s->who : "?");
		break;
	case LL_CONTROL_CHAT:
		if (!ll_agent_chat_received(s->chat, io, s->caps,
					    msg->u.chat.text))
			return;
		break;
	case LL_CONTROL_CLIPBOARD:
		on_clipboard(s, msg->u.clipboard.text);
		return;
	case LL_CONTROL_SYSINFO:
		if (!on_sysinfo(s, (struct ll_control_msg *)msg))
			return;
		break;
	default:
		/* files: only ours while the user grants them */
		if ((s->caps & LL_CAP_FILES) &&
		    ll_xfer_set_control(s->xfers, msg))
			return;
		/* hello: nothing to do here */
		return;
	}
	(void)io;
	changed(s);
}

/*
 * The RFB channel's filter (ll_rfb_filter.h) on the bridge: the applet's
 * bytes reach the RFB client (libvncclient in the holder, gtk-vnc in the
 * GUI) only once validated; a refusal ends the session with its reason.
 */
/* What channel 1's bridge holds: the filter, and whom it measures for
 * (the session outlives its pump, and so the bridge). */
struct rfb_bridge {
	struct ll_rfb_filter *f;
	struct ll_agent_session *s;
};

static void rfb_bridge_free(void *user)
{
	struct rfb_bridge *b = user;

	if (b == NULL)
		return;
	ll_rfb_filter_free(b->f);
	g_free(b);
}

static gboolean quality_told(gpointer data)
{
	struct ll_agent_session *s = data;

	s->quality_idle = 0;
	changed(s);
	return G_SOURCE_REMOVE;
}

/* The applet's bytes, once passed, are the link's measure; a new band is
 * told from the main loop, not from inside the pump's dispatch. */
static void rfb_measure(struct ll_agent_session *s, size_t len)
{
	const struct ll_rfb_band *b;

	if (len == 0 || s->io == NULL)
		return;
	ll_rfb_quality_rtt(&s->quality, ll_session_io_rtt_ms(s->io));
	if (!ll_rfb_quality_bytes(&s->quality, g_get_monotonic_time(), len))
		return;
	b = ll_rfb_quality_band(&s->quality);
	ll_debug("session %s: screen quality %s (link ~%llu KiB/s, rtt "
		 "%lld ms)",
		 s->id, b->name,
		 (unsigned long long)(s->quality.rate_Bps / 1024),
		 (long long)s->quality.rtt_ms);
	s->quality_serial++;
	if (s->quality_idle == 0)
		s->quality_idle = g_idle_add(quality_told, s);
}

static int rfb_filter_in(const uint8_t *data, size_t len, size_t *pass,
			 char *why, size_t why_len, void *user)
{
	struct rfb_bridge *b = user;
	int r;

	if ((r = ll_rfb_filter_server_chunk(b->f, data, len, pass)) != 0) {
		snprintf(why, why_len,
			 "the remote side sent RFB data outside what we "
			 "allow: %s",
			 ll_rfb_filter_error(b->f));
		return r;
	}
	/* before the bytes reach the client, which may read it at once */
	atomic_store(&b->s->rfb_lossy, ll_rfb_filter_lossy_update(b->f));
	rfb_measure(b->s, *pass);
	return r;
}

/* Our RFB client's bytes: followed, SetEncodings restricted in place. */
static int rfb_filter_out(uint8_t *data, size_t len, size_t *pass, char *why,
			  size_t why_len, void *user)
{
	struct ll_rfb_filter *f = ((struct rfb_bridge *)user)->f;
	int r;

	if ((r = ll_rfb_filter_client_chunk(f, data, len, pass)) != 0)
		snprintf(why, why_len,
			 "the local RFB client sent data the filter "
			 "refuses: %s",
			 ll_rfb_filter_error(f));
	return r;
}

static void on_channel_open(struct ll_session_io *io, uint16_t channel,
			    void *user)
{
	struct ll_agent_session *s = user;
	struct ll_session_io_filter filt = {
		.in = rfb_filter_in,
		.out = rfb_filter_out,
		.free_user = rfb_bridge_free,
	};
	struct rfb_bridge *rb;
	int sv[2], r;

	if (channel != LL_MUX_CHANNEL_RFB && (s->caps & LL_CAP_FILES) &&
	    ll_xfer_set_channel_open(s->xfers, channel))
		return;
	if (channel != LL_MUX_CHANNEL_RFB || !(s->caps & LL_CAP_VIEW)) {
		/* nothing we asked for: refuse it */
		ll_session_io_channel_close(io, channel);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		ll_warn("session %s: socketpair: %s", s->id,
			g_strerror(errno));
		ll_session_io_channel_close(io, channel);
		return;
	}
	rb = g_new0(struct rfb_bridge, 1);
	rb->s = s;
	atomic_store(&s->rfb_lossy, 0); /* a new filter counts anew */
	filt.user = rb;
	/* A new RFB connection starts from the default band. */
	ll_rfb_quality_init(&s->quality, g_get_monotonic_time());
	s->quality_serial++;
	if ((rb->f = ll_rfb_filter_new()) == NULL)
		r = LL_ERR_NOMEM;
	else
		r = ll_session_io_bridge_filtered(io, channel, sv[0], &filt);
	if (r != 0) {
		ll_warn("session %s: cannot bridge the screen channel: %s",
			s->id, ll_strerror(r));
		rfb_bridge_free(rb);
		close(sv[0]);
		close(sv[1]);
		ll_session_io_channel_close(io, channel);
		return;
	}
	if (s->cbs.on_rfb != NULL)
		s->cbs.on_rfb(s, sv[1], s->user);
	else
		close(sv[1]);
}

/* Bytes of a file the user sends us; anything else is refused. */
static void on_channel_data(struct ll_session_io *io, uint16_t channel,
			    const uint8_t *data, size_t len, void *user)
{
	struct ll_agent_session *s = user;

	if (!ll_xfer_set_channel_data(s->xfers, channel, data, len))
		ll_session_io_channel_close(io, channel);
}

static void on_channel_close(struct ll_session_io *io, uint16_t channel,
			     void *user)
{
	struct ll_agent_session *s = user;

	(void)io;
	if (ll_xfer_set_channel_close(s->xfers, channel))
		return;
	if (channel == LL_MUX_CHANNEL_RFB && s->cbs.on_rfb_closed != NULL)
		s->cbs.on_rfb_closed(s, s->user);
}

/* The stream went silent, or spoke again (ll_session_io.h, Liveness).
 * The applet stops sharing on its side; the viewer keeps its last
 * picture until the applet reopens channel 1. */
static void on_stall(struct ll_session_io *io, bool stalled, void *user)
{
	struct ll_agent_session *s = user;

	(void)io;
	if (stalled)
		ll_info("session %s: %s (nothing from the relay for %d s)",
			s->id, LL_AGENT_STALLED_TEXT,
			LL_SESSION_STALL_MS / 1000);
	else
		ll_info("session %s: connection restored", s->id);
	changed(s);
}

static void start_io(struct ll_agent_session *s, struct ll_stream *stream,
		     int *r);

static void end_now(struct ll_agent_session *s, char *reason)
{
	s->ended = true;
	s->pending = false;
	s->caps = 0;
	s->await_resumed = false;
	LL_FREE_AND_NULL(ll_reopen_free, s->reopen);
	g_free(s->end_reason);
	s->end_reason = reason;
	ll_info("session %s: %s", s->id, s->end_reason);
	changed(s);
	if (s->cbs.on_ended != NULL)
		s->cbs.on_ended(s, s->end_reason, s->user);
}

static void on_reopened(int err, struct ll_stream *stream,
			const struct ll_client_error *cerr, unsigned tries,
			void *user)
{
	struct ll_agent_session *s = user;
	int r;

	s->reopen = NULL; /* the worker freed itself */
	if (err != 0) {
		ll_warn("session %s: could not come back after %u tries: %s",
			s->id, tries,
			cerr->message[0] != '\0' ? cerr->message
						 : ll_strerror(err));
		end_now(s,
			g_strdup_printf("connection lost (%s; it could "
					"not be restored)",
					s->lost_reason != NULL ? s->lost_reason
							       : "?"));
		return;
	}
	ll_info("session %s: stream reopened (try %u), waiting for the "
		"user's side to come back",
		s->id, tries);
	s->resumed = true;
	start_io(s, stream, &r);
	if (r != 0) {
		ll_stream_free(stream);
		end_now(s, g_strdup_printf("connection lost (%s)",
					   ll_strerror(r)));
	}
}

/*
 * The stream broke without an `end` after the user had joined: keep the
 * session and what was granted, say "reconnecting", detach the viewer
 * (the applet opens channel 1 anew once back) and try our ticket again
 * within the relay's grace in a worker thread.  False when it cannot.
 */
static bool start_reconnect(struct ll_agent_session *s,
			    enum ll_session_end why, const char *reason)
{
	if (!s->joined || s->ticket == NULL ||
	    (why != LL_SESSION_END_LOST && why != LL_SESSION_END_SILENT))
		return false;
	/* The pump is closed; free it (safe inside its callbacks). */
	ll_xfer_set_attach(s->xfers, NULL);
	LL_FREE_AND_NULL(ll_session_io_free, s->io);
	if (!s->await_resumed)
		s->caps_before = s->caps;
	s->await_resumed = false;
	s->resumed = false;
	/* The question went with the stream; the technician may ask
	 * again. */
	s->pending = false;
	s->reopen = ll_reopen_start(&s->relay, NULL, s->ticket,
				    ll_now_mono_ms() + LL_STREAM_GRACE_MS,
				    NULL, on_reopened, s);
	if (s->reopen == NULL)
		return false;
	if (s->lost_reason == NULL)
		s->lost_reason = g_strdup(reason);
	ll_info("session %s: %s (%s: %s)", s->id, LL_AGENT_STALLED_TEXT,
		ll_session_end_name(why), reason);
	if (s->cbs.on_rfb_closed != NULL)
		s->cbs.on_rfb_closed(s, s->user);
	changed(s);
	return true;
}

static void on_closed(struct ll_session_io *io, enum ll_session_end why,
		      int err, const char *reason, void *user)
{
	struct ll_agent_session *s = user;

	(void)io;
	(void)err;
	if (start_reconnect(s, why, reason))
		return;
	s->ended = true;
	s->pending = false;
	s->caps = 0;
	switch (why) {
	case LL_SESSION_END_LOCAL:
		s->end_reason = g_strdup_printf("ended here (%s)", reason);
		break;
	case LL_SESSION_END_PEER:
		s->end_reason = g_strdup_printf("ended by the user (%s)",
						reason);
		break;
	case LL_SESSION_END_LOST:
	case LL_SESSION_END_SILENT:
		s->end_reason = g_strdup_printf("connection lost (%s)",
						reason);
		break;
	case LL_SESSION_END_ERROR:
	default:
		s->end_reason = g_strdup_printf("ended by an error (%s)",
						reason);
		break;
	}
	ll_info("session %s: %s", s->id, s->end_reason);
	changed(s);
	if (s->cbs.on_ended != NULL)
		s->cbs.on_ended(s, s->end_reason, s->user);
}

void ll_agent_session_set_end_reason(struct ll_agent_session *s,
				     const char *reason)
{
	if (!s->ended || reason == NULL)
		return;
	g_free(s->end_reason);
	s->end_reason = g_strdup(reason);
	ll_info("session %s: %s", s->id, s->end_reason);
	changed(s);
}

/* The relay's answer is quick; a hung one must not hold the end up. */
#define PIN_EXPIRED_ASK_MS 5000

/* The relay's record of session_id among the technician's sessions, in
 * *l (the caller clears it); NULL when it cannot be had, said in the
 * log. */
static const struct ll_api_session_info *relay_session(
	const struct ll_relay_opts *relay, const char *token,
	const char *session_id, struct ll_api_session_list *l)
{
	const struct ll_api_session_info *found = NULL;
	struct ll_relay_opts o = *relay;
	struct ll_client_error e;
	struct ll_api_client *c;
	size_t i;

	if (token == NULL || session_id == NULL)
		return NULL;
	o.timeout_ms = PIN_EXPIRED_ASK_MS;
	o.connect_timeout_ms = PIN_EXPIRED_ASK_MS;
	ll_client_error_clear(&e);
	if ((c = ll_api_client_new(&o, &e)) == NULL)
		return NULL;
	if (ll_api_client_set_token(c, token) != 0 ||
	    ll_api_sessions_list(c, l, &e) != 0)
		ll_warn("session %s: cannot ask the relay how it ended: %s",
			session_id, e.message);
	else
		for (i = 0; i < l->n_sessions && found == NULL; i++)
			if (strcmp(l->sessions[i].session_id, session_id) == 0)
				found = &l->sessions[i];
	ll_api_client_free(c);
	return found;
}

char *ll_agent_session_relay_end_reason(const struct ll_relay_opts *relay,
					const char *token,
					const char *session_id)
{
	struct ll_api_session_list l = { 0 };
	const struct ll_api_session_info *s;
	char *reason = NULL;

	s = relay_session(relay, token, session_id, &l);
	if (s != NULL && s->end_reason != NULL)
		reason = g_strdup(s->end_reason);
	ll_api_session_list_clear(&l);
	return reason;
}

bool ll_agent_session_pin_expired(const struct ll_relay_opts *relay,
				  const char *token, const char *session_id)
{
	struct ll_api_session_list l = { 0 };
	const struct ll_api_session_info *s;
	bool expired;

	s = relay_session(relay, token, session_id, &l);
	expired = s != NULL && s->state != NULL &&
		  strcmp(s->state, "expired") == 0;
	ll_api_session_list_clear(&l);
	return expired;
}

int ll_agent_session_new(struct ll_stream *stream,
			 const struct ll_relay_opts *relay,
			 const char *session_id, const char *ticket,
			 uint32_t initial_caps,
			 const struct ll_agent_session_cbs *cbs, void *user,
			 struct ll_agent_session **out)
{
	struct ll_relay_opts ro;
	struct ll_client_error err;
	struct ll_agent_session *s;
	int r;

	if (stream == NULL || relay == NULL || session_id == NULL ||
	    ticket == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	s = g_new0(struct ll_agent_session, 1);
	ll_rfb_quality_init(&s->quality, g_get_monotonic_time());
	s->id = g_strdup(session_id);
	ro = *relay;
	ro.timeout_ms = AGENT_EVENT_TIMEOUT_MS;
	ro.connect_timeout_ms = 0;
	if (ll_reporter_new(&ro, session_id, ticket, NULL, &s->rep, &err) != 0)
		ll_warn("session %s: no audit reports: %s", s->id,
			err.message);
	s->initial_caps = initial_caps;
	s->next_id = 1;
	if (cbs != NULL)
		s->cbs = *cbs;
	s->user = user;
	s->relay = *relay;
	s->relay.url = s->relay_url = g_strdup(relay->url);
	s->relay.ca_file = s->relay_ca_file = g_strdup(relay->ca_file);
	s->relay.ca_pem = s->relay_ca_pem = g_strdup(relay->ca_pem);
	s->relay.spki_pin = s->relay_spki_pin = g_strdup(relay->spki_pin);
	s->ticket = g_strdup(ticket);
	s->chat = ll_agent_chat_new(s->id, &s->relay, s->ticket);
	s->xfers = ll_agent_xfers_new(s);
	start_io(s, stream, &r);
	if (r != 0) {
		ll_agent_session_free(s);
		return r;
	}
	*out = s;
	return LL_OK;
}

/* Pumps stream (taken over when *r is LL_OK) as the agent's side. */
static void start_io(struct ll_agent_session *s, struct ll_stream *stream,
		     int *r)
{
	static const struct ll_session_io_cbs io_cbs = {
		.on_ready = on_ready,
		.on_control = on_control,
		.on_channel_open = on_channel_open,
		.on_channel_close = on_channel_close,
		.on_channel_data = on_channel_data,
		.on_stall = on_stall,
		.on_closed = on_closed,
	};
	struct ll_session_io_opts o;

	ll_session_io_opts_default(&o);
	o.side = LL_SIDE_AGENT;
	if ((*r = ll_session_io_new(stream, &o, &io_cbs, s, &s->io)) != 0)
		s->io = NULL;
	ll_xfer_set_attach(s->xfers, s->io);
}

void ll_agent_session_free(struct ll_agent_session *s)
{
	if (s == NULL)
		return;
	ll_reopen_free(s->reopen);
	ll_xfer_set_free(s->xfers);
	ll_session_io_free(s->io);
	if (s->quality_idle != 0)
		g_source_remove(s->quality_idle);
	/* before the ticket and the relay's strings it uploads with */
	ll_agent_chat_free(s->chat);
	if (s->ticket != NULL)
		ll_wipe(s->ticket, strlen(s->ticket));
	g_free(s->ticket);
	g_free(s->relay_url);
	g_free(s->relay_ca_file);
	g_free(s->relay_ca_pem);
	g_free(s->relay_spki_pin);
	g_free(s->lost_reason);
	/* Sends the reports still queued, bounded by its drain time. */
	ll_reporter_free(s->rep);
	g_free(s->id);
	g_free(s->end_reason);
	g_free(s->mons);
	g_free(s->mon_current);
	g_free(s->err_code);
	g_free(s->err_message);
	free(s->who);
	ll_sysinfo_free(s->sysinfo);
	g_free(s);
}

int ll_agent_session_request(struct ll_agent_session *s, uint32_t caps,
			     uint32_t *id)
{
	int r;

	if (s == NULL || caps == 0 || (caps & ~LL_CAP_ALL) != 0)
		return LL_ERR_INVALID_ARG;
	/* ended, or reconnecting (nothing to ask on: ask again once back) */
	if (s->ended || s->io == NULL)
		return LL_ERR_CLOSED;
	if (!s->joined) {
		/* asked together with the first request once they join */
		s->initial_caps |= caps;
		if (id != NULL)
			*id = 0;
		return LL_OK;
	}
	if ((r = send_request(s, caps, id)) != 0)
		return r;
	changed(s);
	return LL_OK;
}

int ll_agent_session_end(struct ll_agent_session *s, const char *reason)
{
	if (s == NULL)
		return LL_ERR_INVALID_ARG;
	if (s->ended)
		return LL_ERR_CLOSED;
	if (s->io == NULL) {
		/* Reconnecting: no stream to say it on.  End here at once,
		 * and tell the relay through the audit report, which ends
		 * a session in its grace (the applet is not kept waiting). */
		if (reason == NULL)
			reason = "technician ended";
		ll_reporter_send(s->rep, "ended", 0, reason);
		end_now(s, g_strdup_printf("ended here (%s)", reason));
		return LL_OK;
	}
	return ll_session_io_end(s->io,
				 reason != NULL ? reason : "technician ended");
}

const struct ll_rfb_band *ll_agent_session_rfb_band(
	const struct ll_agent_session *s, unsigned *serial)
{
	if (serial != NULL)
		*serial = s->quality_serial;
	return ll_rfb_quality_band(&s->quality);
}

const atomic_uint_least64_t *ll_agent_session_rfb_lossy(
	const struct ll_agent_session *s)
{
	return &s->rfb_lossy;
}

bool ll_agent_session_stalled(const struct ll_agent_session *s)
{
	/* Also while the stream is being reopened and until the applet said
	 * again what is granted. */
	return !s->ended && (s->io == NULL || s->resumed || s->await_resumed ||
			     ll_session_io_stalled(s->io));
}

enum ll_agent_state ll_agent_session_state(const struct ll_agent_session *s)
{
	if (s->ended)
		return LL_AGENT_ENDED;
	if (!s->joined)
		return LL_AGENT_WAIT_PEER;
	if (s->pending)
		return LL_AGENT_WAIT_CONSENT;
	if ((s->caps & LL_CAP_VIEW) && (s->caps & LL_CAP_CONTROL))
		return LL_AGENT_CONTROLLING;
	if (s->caps & LL_CAP_VIEW)
		return LL_AGENT_VIEWING;
	return LL_AGENT_ACTIVE;
}

uint32_t ll_agent_session_caps(const struct ll_agent_session *s)
{
	return s->caps;
}

enum ll_deny_reason ll_agent_session_deny_reason(
	const struct ll_agent_session *s, uint32_t *retry_after)
{
	bool denied = s->answer == LL_ANSWER_DENIED;

	if (retry_after != NULL)
		*retry_after = denied ? s->retry_after : 0;
	return denied ? s->deny_reason : LL_DENY_UNSAID;
}

char *ll_agent_deny_text(enum ll_deny_reason why, uint32_t retry_after)
{
	switch (why) {
	case LL_DENY_NO_MORE:
		return g_strdup("The user declined three times; no more "
				"requests in this session.");
	case LL_DENY_DECLINED:
	case LL_DENY_HELD_BACK:
		/* Held back: the user said no a moment ago and is not
		 * asked again yet; to the technician it is the same no. */
		if (retry_after > 0)
			return g_strdup_printf("The user declined; you can "
					       "ask again in %u s.",
					       (unsigned)retry_after);
		return g_strdup("The user declined.");
	default:
		return g_strdup("The user denied the request.");
	}
}

enum ll_agent_answer ll_agent_session_answer(const struct ll_agent_session *s)
{
	return s->answer;
}

bool ll_agent_session_pending(const struct ll_agent_session *s)
{
	return s->pending;
}

bool ll_agent_session_peer_joined(const struct ll_agent_session *s)
{
	return s->joined;
}

const char *ll_agent_session_id(const struct ll_agent_session *s)
{
	return s->id;
}

const char *ll_agent_session_end_reason(const struct ll_agent_session *s)
{
	return s->end_reason;
}

const struct ll_control_monitor *ll_agent_session_monitors(
	const struct ll_agent_session *s, size_t *n, const char **current,
	unsigned *serial)
{
	bool have = s->mons != NULL && !s->ended &&
		    (s->caps & LL_CAP_VIEW) != 0;

	if (n != NULL)
		*n = have ? s->n_mons : 0;
	if (current != NULL)
		*current = have ? s->mon_current : NULL;
	if (serial != NULL)
		*serial = s->mon_serial;
	return have ? s->mons : NULL;
}

int ll_agent_session_select_monitor(struct ll_agent_session *s,
				    const char *name)
{
	struct ll_control_msg m;

	if (s == NULL || name == NULL)
		return LL_ERR_INVALID_ARG;
	if (!ll_control_monitor_name_ok(name) ||
	    !g_utf8_validate(name, -1, NULL))
		return LL_ERR_SCHEMA;
	if (s->ended || s->io == NULL)
		return LL_ERR_CLOSED;
	if (!(s->caps & LL_CAP_VIEW))
		return LL_ERR_DISABLED;
	memset(&m, 0, sizeof(m));
	m.type = LL_CONTROL_SELECT_MONITOR;
	m.u.select_monitor.name = (char *)name;
	return ll_session_io_send_control(s->io, &m);
}

int ll_agent_session_send_clipboard(struct ll_agent_session *s,
				    const char *text)
{
	struct ll_control_msg m = { .type = LL_CONTROL_CLIPBOARD };

	if (s == NULL || text == NULL || text[0] == '\0')
		return LL_ERR_INVALID_ARG;
	if (s->ended || s->io == NULL)
		return LL_ERR_CLOSED;
	if (!(s->caps & LL_CAP_CLIPBOARD))
		return LL_ERR_DISABLED;
	if (strlen(text) > LL_CONTROL_MAX_CLIPBOARD)
		return LL_ERR_TOO_LARGE;
	m.u.clipboard.text = (char *)text;
	return ll_session_io_send_control(s->io, &m);
}

int ll_agent_session_ask_sysinfo(struct ll_agent_session *s)
{
	struct ll_control_msg m = { .type = LL_CONTROL_SYSINFO_REQUEST };

	if (s == NULL)
		return LL_ERR_INVALID_ARG;
	if (s->ended || s->io == NULL)
		return LL_ERR_CLOSED;
	if (!(s->caps & LL_CAP_SYSINFO))
		return LL_ERR_DISABLED;
	return ll_session_io_send_control(s->io, &m);
}

const struct ll_sysinfo *ll_agent_session_sysinfo(
	const struct ll_agent_session *s, unsigned *serial)
{
	if (serial != NULL)
		*serial = s->sysinfo_serial;
	return (s->caps & LL_CAP_SYSINFO) && !s->ended ? s->sysinfo : NULL;
}

const char *ll_agent_session_who(const struct ll_agent_session *s)
{
	return s->who;
}

unsigned ll_agent_session_last_error(const struct ll_agent_session *s,
				     const char **code, const char **message)
{
	if (code != NULL)
		*code = s->err_code;
	if (message != NULL)
		*message = s->err_message;
	return s->err_serial;
}

int ll_agent_session_chat_send(struct ll_agent_session *s, const char *text)
{
	if (s == NULL || text == NULL)
		return LL_ERR_INVALID_ARG;
	if (s->ended || s->chat == NULL)
		return LL_ERR_CLOSED;
	return ll_agent_chat_send(s->chat, s->io, s->caps, text);
}

const struct ll_chat_log *ll_agent_session_chat(
	const struct ll_agent_session *s, unsigned *serial)
{
	if (serial != NULL)
		*serial = ll_agent_chat_serial(s->chat);
	return ll_agent_chat_log(s->chat);
}

/* ---- file transfers: the set's events, audited, then to the user ---- */

static void x_offer(struct ll_xfer_set *set, struct ll_xfer *x, void *user)
{
	struct ll_agent_session *s = user;

	if (s->xcbs.on_offer != NULL)
		s->xcbs.on_offer(set, x, s->xuser);
	else
		ll_xfer_refuse(x, LL_FILE_REFUSED);
}

static void x_changed(struct ll_xfer_set *set, struct ll_xfer *x, void *user)
{
	struct ll_agent_session *s = user;

	if (s->xcbs.on_changed != NULL)
		s->xcbs.on_changed(set, x, s->xuser);
}

static void x_finished(struct ll_xfer_set *set, struct ll_xfer *x, void *user)
{
	struct ll_agent_session *s = user;

	ll_xfer_report(s->rep, x);
	if (s->xcbs.on_finished != NULL)
		s->xcbs.on_finished(set, x, s->xuser);
}

static void x_refused(struct ll_xfer_set *set, uint32_t id, void *user)
{
	struct ll_agent_session *s = user;

	if (s->xcbs.on_request_refused != NULL)
		s->xcbs.on_request_refused(set, id, s->xuser);
}

struct ll_xfer_set *ll_agent_xfers_new(struct ll_agent_session *s)
{
	static const struct ll_xfer_set_cbs cbs = {
		.on_offer = x_offer,
		.on_changed = x_changed,
		.on_finished = x_finished,
		.on_request_refused = x_refused,
	};

	return ll_xfer_set_new(&cbs, s);
}

struct ll_xfer_set *ll_agent_session_xfers(struct ll_agent_session *s,
					   const struct ll_xfer_set_cbs *cbs,
					   void *user)
{
	if (cbs != NULL) {
		s->xcbs = *cbs;
		s->xuser = user;
	}
	return s->xfers;
}
