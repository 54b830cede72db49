/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The insides of the applet's session (struct ll_applet_session of
 * applet.h), shared by the three files that make it:
 *
 *   session.c      the state machine on the GTK main loop: the stream's
 *                  callbacks, consent, the session bar, the audit reports,
 *                  the endings
 *   session_rfb.c  screen sharing, only after `view` is granted: the RFB
 *                  server and its thread's messages marshalled to the main
 *                  loop, the monitors, channel 1
 *   redeem.c       the redeem worker: the PIN redeemed and the stream
 *                  opened in a GTask thread, the outcome handed back
 *
 * Main loop only, unless a comment says otherwise.
 */
#ifndef LL_APPLET_SESSION_INT_H
#define LL_APPLET_SESSION_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <gio/gio.h>

#include "ll_api_client.h"
#include "ll_control.h"
#include "applet.h"

/*
 *   IDLE --start(pin)--> REDEEMING --(worker: redeem, open stream)-->
 *   RUNNING --(user/technician/consent/connection)--> ENDING --> DONE
 */
enum ll_applet_state {
	LL_APPLET_IDLE = 0,
	LL_APPLET_REDEEMING,
	LL_APPLET_RUNNING,
	LL_APPLET_ENDING,
	LL_APPLET_DONE,
};

struct ll_applet_rfb_link;
struct ll_reopen;
struct ll_reporter;
struct ll_session_io;
struct ll_stream;

#define LL_APPLET_CAPS 5 /* bits of LL_CAP_ALL */

struct ll_applet_session {
	struct ll_applet *a;
	char *relay_url;
	char *ca_file;
	char *ca_pem;
	char *spki_pin;
	char *relay_hosts;
	char *applet_config; /* the signed configuration (secret), or NULL */
	char *org;
	char *launch; /* the link's launch token (secret), or NULL */
	char *display;
	char *monitor;
	int consent_timeout_s;
	int consent_hold_s;
	void (*done)(enum ll_applet_end end, void *user);
	void *user;
	void (*on_redeem_error)(enum ll_applet_end end, void *user);

	enum ll_applet_state state;
	GCancellable *cancel;
	bool end_requested; /* user ended while redeeming */

	struct ll_api_redeem redeem;
	struct ll_session_io *io;
	/* the stream is silent (ll_session_io.h, Liveness): nothing is
	 * shared and the input gate stays closed until it speaks again */
	bool stalled;
	/* the peer's HELLO came on this session's stream at least once:
	 * the relay lets us come back only to a connected session */
	bool was_ready;
	/* coming back after a lost stream (issue 9.2): io is NULL, stalled
	 * stays true (fail closed), the grants are kept, and the reopen
	 * worker (ll_reopen.h) tries the ticket again within the grace */
	struct ll_reopen *reopen;
	/* set when a new stream starts: on its READY the grants are said
	 * again (grant id 0) and applied */
	bool resumed;
	uint32_t granted;
	bool ever_granted;
	bool told_who; /* user_info sent (once view was granted) */

	struct ll_consent_dialog *consent;
	uint32_t ask_id;
	uint32_t ask_caps;
	/* No pestering, per capability (index: LL_CAP_* bit number): the
	 * user's refusals in this session, when the latest was (monotonic
	 * ms), and the requests denied since without asking. */
	unsigned denials[LL_APPLET_CAPS];
	int64_t denied_ms[LL_APPLET_CAPS];
	unsigned held[LL_APPLET_CAPS];

	struct ll_session_bar *bar;

	/* screen sharing (session_rfb.c) */
	struct ll_rfb_server *rfb;
	/* prepared while the dialog asks for view: nothing captured yet */
	struct ll_rfb_server *rfb_ready;
	struct ll_applet_rfb_link *link;
	int bridge_fd;
	bool rfb_channel;

	struct ll_reporter *rep; /* audit reports, in order */

	enum ll_applet_end end; /* once ENDING */
};

/* ---- session.c ---- */

/* Sends a control message to the technician (logged when it fails). */
void ll_applet_send_ctl(struct ll_applet_session *s,
			const struct ll_control_msg *m);
/* The session bar's status line. */
void ll_applet_status(struct ll_applet_session *s, const char *status);

/* ---- session_rfb.c ---- */

/* The dialog asks for `view`: set up what takes long (display
 * connection, shared memory, framebuffer) without capturing anything, so
 * that the first frame follows the click quickly.  Best effort. */
void ll_applet_rfb_prepare(struct ll_applet_session *s);
/* Drops what ll_applet_rfb_prepare set up and the grant did not use.
 * Idempotent. */
void ll_applet_rfb_unprepare(struct ll_applet_session *s);
/* `view` was granted: start sharing the screen (RFB server, thread,
 * socketpair; channel 1 once libvncserver's client exists). */
void ll_applet_rfb_start(struct ll_applet_session *s);
/* Stops sharing: channel 1 closed, the RFB thread joined, the injector
 * gone.  Nothing is left of the screen afterwards.  Idempotent. */
void ll_applet_rfb_stop(struct ll_applet_session *s);
/* The technician's select_monitor: honoured only while `view` is granted
 * and the screen is shared; an error message to the technician else. */
void ll_applet_rfb_select_monitor(struct ll_applet_session *s,
				  const char *name);

/* ---- redeem.c ---- */

/* What the redeem worker found; valid during the `done` callback. */
struct ll_applet_redeemed {
	int err;                     /* LL_OK or a negative ll_err */
	const char *why;             /* on failure: for the log */
	enum ll_applet_end end;      /* on failure: what the person at the
					* screen is told */
	struct ll_api_redeem redeem; /* on success: take it over (and zero
					* it) */
	struct ll_stream *stream;    /* on success: take it over (and set
					* it to NULL) */
};

/*
 * Redeems ask->pin (copied, then wiped) at the relay of o (copied),
 * naming ask->org when it is not NULL (an applet with a signed
 * configuration), with the PIN page's launch token and the signed
 * configuration's text when not NULL (copied, then wiped), and opens
 * the applet's stream with the ticket, in a GTask thread bounded by o's
 * timeouts.  `done` runs once on the main loop, unless `cancel` was
 * cancelled by then; what it did not take over is freed after it.
 */
void ll_applet_redeem_start(
	const struct ll_relay_opts *o, const struct ll_api_redeem_ask *ask,
	GCancellable *cancel,
	void (*done)(struct ll_applet_redeemed *res, void *user), void *user);

#endif
