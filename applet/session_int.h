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
 *   session_chat.c the chat: the technician's lines shown, the user's
 *                  sent, only while `chat` is granted
 *   clipboard.c    the shared clipboard, only while `clipboard` is
 *                  granted (issue 13)
 *   sysinfo.c      the answer to sysinfo_request, only while `sysinfo`
 *                  is granted (issue 13)
 *   relay_call.c   one request to the relay in a GTask thread, the
 *                  outcome handed back on the main loop
 *   redeem.c       the redeem worker: the PIN redeemed and the stream
 *                  opened in a GTask thread, the outcome handed back
 *   end_reason.c   after a stream closed without an `end`: the relay
 *                  asked why it ended the session, in a GTask thread
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
struct ll_chat_log;
struct ll_chat_window;
struct ll_clipsync;
struct ll_sysinfo;
struct ll_reopen;
struct ll_reporter;
struct ll_session_io;
struct ll_stream;

#define LL_APPLET_CAPS 6 /* bits of LL_CAP_ALL */

struct ll_applet_session {
	struct ll_applet *a;
	struct ll_relay_opts_copy relay; /* timeouts set per call */
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

	/* chat (session_chat.c): made at the first line or opening */
	struct ll_chat_log *chat;
	struct ll_chat_window *chat_win;
	bool chat_flood_told;
	struct ll_clipsync *clip; /* clipboard.c; NULL until first granted */
	/* LL_CAP_* whose use without the grant was reported to the audit:
	 * once each, so a hostile technician cannot flood it */
	uint32_t refusals_reported;
	struct ll_applet_files *files; /* transfer.c; NULL before a stream */

	enum ll_applet_end end; /* once ENDING */
};

/* ---- session.c ---- */

/* Sends a control message to the technician (logged when it fails). */
void ll_applet_send_ctl(struct ll_applet_session *s,
			const struct ll_control_msg *m);
/* Sends an error message (code [a-z_]+, a sentence) to the technician. */
void ll_applet_send_error(struct ll_applet_session *s, const char *code,
			  const char *message);
/* The session bar's status line. */
void ll_applet_status(struct ll_applet_session *s, const char *status);
/* Queued for the relay's audit (POST .../events), in order. */
void ll_applet_report(struct ll_applet_session *s, const char *type,
		      uint32_t caps, const char *reason);
/* The technician used cap without the grant (a hostile agent): an error
 * not_granted with message, and the first time in the session an audit
 * report not_permitted with reason. */
void ll_applet_refuse_ungranted(struct ll_applet_session *s, uint32_t cap,
				const char *message, const char *reason);

/* ---- clipboard.c ---- */

/* Switches the shared clipboard on or off as the grants, the session's
 * state and the stream say now; the bar's Stop clipboard follows. */
void ll_applet_clip_sync(struct ll_applet_session *s);
/* The technician's clipboard text: put on ours only while on, refused
 * (error not_granted, reported) else. */
void ll_applet_clip_received(struct ll_applet_session *s, const char *text);
/* The bar's Stop clipboard (user: the session): revokes `clipboard`. */
void ll_applet_clip_stop(void *user);
void ll_applet_clip_free(struct ll_applet_session *s);

/* ---- sysinfo.c ---- */

/* This computer's information, read now (caller ll_sysinfo_free()s). */
struct ll_sysinfo *ll_applet_sysinfo_read(void);
/* A sysinfo_request: answered while `sysinfo` is granted, refused (error
 * not_granted, reported) else. */
void ll_applet_sysinfo_answer(struct ll_applet_session *s);

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

/* ---- session_chat.c ---- */

/* The technician's chat message: shown while `chat` is granted, refused
 * (control error not_granted) otherwise. */
void ll_applet_chat_received(struct ll_applet_session *s, const char *text);
/* The session bar's _Chat: the window, shown (only with the grant). */
void ll_applet_chat_open(struct ll_applet_session *s);
/* The grants changed: the window may be written in only with chat. */
void ll_applet_chat_sync(struct ll_applet_session *s);
/* The window and the lines gone (the session's end). */
void ll_applet_chat_free(struct ll_applet_session *s);
/* ---- transfer.c: files, only while `files` is granted ---- */

struct ll_applet_files;
/* The set on s->io (made at the first stream; again on each new one). */
void ll_applet_files_attach(struct ll_applet_session *s);
/* The stream is lost: running transfers wait to resume. */
void ll_applet_files_detach(struct ll_applet_session *s);
/* The session bar's Send a file…: the user picks a file and offers it
 * to the technician (user: the session). */
void ll_applet_files_pick(void *user);
/* Windows closed, transfers stopped (parts kept). */
void ll_applet_files_free(struct ll_applet_session *s);
/* The pump's events; true when they were a file transfer's. */
bool ll_applet_files_control(struct ll_applet_session *s,
			     const struct ll_control_msg *m);
bool ll_applet_files_open(struct ll_applet_session *s, uint16_t channel);
bool ll_applet_files_close(struct ll_applet_session *s, uint16_t channel);
/* on_channel_data of the pump: a channel that is not a transfer's is
 * closed. */
void ll_applet_files_data(struct ll_session_io *io, uint16_t channel,
			  const uint8_t *data, size_t len, void *user);

/* ---- relay_call.c ---- */

/* What one request to the relay does: run() in the worker thread with a
 * client on a copy of the relay's options (o, for a stream too); done()
 * on the main loop with run's result (or the client's failure), unless
 * cancelled; job_free(job), when not NULL, after either. */
struct ll_applet_call {
	int (*run)(void *job, struct ll_api_client *c,
		   const struct ll_relay_opts *o, struct ll_client_error *e);
	void (*done)(void *job, int r, const struct ll_client_error *e,
		     void *user);
	void (*job_free)(void *job);
};
/* Runs how on job in a GTask thread at the relay of o (copied); `done`
 * runs once on the main loop unless `cancel` was cancelled by then. */
void ll_applet_call(const struct ll_relay_opts *o, GCancellable *cancel,
		    const struct ll_applet_call *how, void *job, void *user);

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

/* ---- end_reason.c ---- */

typedef void (*ll_applet_end_reason_fn)(enum ll_applet_end end, void *user);
/* Whether an end of the stream's own (it closed without an `end`) may
 * be the relay's doing, so that the relay is asked why. */
bool ll_applet_end_reason_asks(enum ll_applet_end end);
/*
 * Asks the relay of o (copied) why session_id ended, with the applet's
 * ticket (copied, wiped), in a GTask thread bounded by o's timeouts.
 * `done` runs once on the main loop, unless `cancel` was cancelled by
 * then, with the end the relay names, else with end.
 */
void ll_applet_end_reason_start(const struct ll_relay_opts *o,
				const char *session_id, const char *ticket,
				enum ll_applet_end end, GCancellable *cancel,
				ll_applet_end_reason_fn done, void *user);

#endif
