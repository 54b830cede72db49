/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-agent internals shared between its files (one file per job):
 *   main.c          dispatch: GUI, --cli, --cli-holder
 *   profile.c       the profile directory (token 0600, dir 0700)
 *   keys.c          text and key names to X keysyms
 *   session.c       one session over the relay's stream (GUI and holder),
 *                   the RFB filter (common/proto, ll_rfb_filter.h) on
 *                   the RFB channel's bridge
 *   cli.c           the command line of docs/API.md section 6
 *   cli_holder.c    the background session holder and its socket
 *   chat.c          a session's chat: its lines, the transcript's upload
 *   rfb_client.c    headless RFB (libvncclient), see ll_rfbc.h
 *   app.c, login_window.c, main_window.c, pin_dialog.c, viewer.c: GUI
 *   sso_window.c    the login form's single sign-on (login.h)
 *   policy_view.c, technicians_view.c, live_view.c: an admin's windows
 */
#ifndef LL_AGENT_H
#define LL_AGENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "ll_api_client.h"
#include "ll_session_io.h"

struct ll_chat_log;

/* ---- profile.c ---- */

/*
 * A profile: DIR/profile.ini (relay URL, CA file, user, org; 0600) and
 * DIR/token (the bearer token alone; 0600).  DIR is created 0700 and its
 * mode is corrected to 0700 if it exists (the token must not be readable
 * by others).
 */
struct ll_profile {
	char *dir;
	char *relay;   /* NULL when never set */
	char *ca_file; /* NULL when none */
	char *user;
	char *org;
	/* The capabilities the last login's permissions name ("view,chat";
	 * its group's, docs/API.md "Groups and permissions"); NULL when
	 * not known (a profile from before groups): nothing is checked. */
	char *capabilities;
};
/* The capabilities of the profile as LL_CAP_*; LL_CAP_ALL when not
 * known (the relay and the applet still refuse what is not permitted). */
uint32_t ll_profile_caps(const struct ll_profile *p);

/* Opens (creating) dir, or the default g_get_user_config_dir()/
 * lifeline-agent when dir is NULL.  *err gets a sentence on failure. */
int ll_profile_open(const char *dir, struct ll_profile **out, char **err);
void ll_profile_free(struct ll_profile *p);
/* Writes profile.ini (0600, atomically). */
int ll_profile_save(const struct ll_profile *p, char **err);
/* Writes the token file (0600, atomically; the old one replaced). */
int ll_profile_set_token(const struct ll_profile *p, const char *token,
			 char **err);
/* Reads the token (caller wipes and frees with ll_secret_free).
 * LL_ERR_NOT_FOUND when not logged in. */
int ll_profile_get_token(const struct ll_profile *p, char **token);
int ll_profile_clear_token(const struct ll_profile *p);
/* DIR/ID.sock: the holder's socket for a session (caller frees).  NULL
 * when the id is not a plain session id or the path is too long for a
 * Unix socket. */
char *ll_profile_socket_path(const struct ll_profile *p, const char *id);
/* DIR/ID.log: the holder's log (no secrets in it). */
char *ll_profile_log_path(const struct ll_profile *p, const char *id);
/* DIR/ID.ended: why the session's holder ended, written before it stops
 * answering, so that a command that comes too late still says why. */
char *ll_profile_ended_path(const struct ll_profile *p, const char *id);
/*
 * Trust on first use (DIR/known_relays, 0600): the certificate a
 * technician trusted for a relay ("host:port", ll_relay_hostport) after
 * comparing its SHA-256 fingerprint.  It is an extra trust anchor for
 * that relay, never a switch that turns verification off.
 * ll_profile_known_relay: LL_ERR_NOT_FOUND when none is stored; *pem and
 * *fp (either may be NULL) are the caller's.
 */
int ll_profile_known_relay(const struct ll_profile *p, const char *hostport,
			   char **pem, char **fp);
int ll_profile_trust_relay(const struct ll_profile *p, const char *hostport,
			   const char *pem, const char *fp, char **err);
/* DIR/known_relays (caller frees), for the texts that name it. */
char *ll_profile_known_relays_path(const struct ll_profile *p);
/* "host:port" of an https:// URL (lower case, port 443 by default;
 * caller frees), and the host without brackets and the port; NULL when
 * it is not such a URL. */
char *ll_relay_hostport(const char *url, char **host, uint16_t *port);
/* True for 1..64 characters of [0-9a-fA-F] (what the relay hands out). */
bool ll_agent_session_id_ok(const char *id);

/* ---- keys.c ---- */

/*
 * UTF-8 text to keysyms, one per character (Latin-1 and named keysyms
 * through GDK's table; other characters as 0x01000000 | code point;
 * '\n' Return, '\t' Tab).  Refuses invalid UTF-8 and other control
 * characters with a sentence.  *out is a GArray of guint32.
 */
int ll_keys_from_text(const char *text, GArray **out, char **err);
/*
 * "Return", "ctrl+alt+Delete", "0xff0d", "a": the keysyms to press in
 * order (released in reverse).  Modifier aliases ctrl, alt, shift,
 * super, meta.  A GArray of guint32.
 */
int ll_keys_parse_combo(const char *spec, GArray **out, char **err);

/* ---- session.c: one session over the relay's stream ---- */

enum ll_agent_state {
	LL_AGENT_CONNECTING = 0, /* opening the stream */
	LL_AGENT_WAIT_PEER,      /* stream open; the applet has not joined */
	LL_AGENT_WAIT_CONSENT,   /* asked; the user has not answered */
	LL_AGENT_VIEWING,        /* view granted, no control */
	LL_AGENT_CONTROLLING,    /* view and control granted */
	LL_AGENT_ACTIVE,         /* joined, answered, neither view nor
				   * control (e.g. denied) */
	LL_AGENT_ENDED,
};
/* "waiting for the user", ... (what the GUI's state line says). */
const char *ll_agent_state_text(enum ll_agent_state st);

/* The answer to the latest request. */
enum ll_agent_answer {
	LL_ANSWER_NONE = 0, /* nothing asked, or not answered yet */
	LL_ANSWER_GRANTED,
	LL_ANSWER_DENIED,
};

struct ll_agent_session;

struct ll_agent_session_cbs {
	/* State, capabilities or answer changed (see the getters). */
	void (*on_changed)(struct ll_agent_session *s, void *user);
	/* The applet opened channel 1 (RFB): fd is our end of a socketpair
	 * bridged to it, the callee owns it.  Comes after a view grant. */
	void (*on_rfb)(struct ll_agent_session *s, int fd, void *user);
	/* The RFB channel closed (revoked, or the applet stopped). */
	void (*on_rfb_closed)(struct ll_agent_session *s, void *user);
	/* The session is over; reason is a sentence (also in _end_reason).
	 * Exactly once, unless the session is freed first. */
	void (*on_ended)(struct ll_agent_session *s, const char *reason,
			 void *user);
	/* The user's clipboard text (only while `clipboard` is granted);
	 * valid during the call, never to be logged. */
	void (*on_clipboard)(struct ll_agent_session *s, const char *text,
			     void *user);
};

/*
 * A session on an open stream (ownership taken on success).  relay and
 * ticket are copied: the session's audit reporter (ll_reporter.h) keeps
 * the ticket for the audit events and wipes it on free.  initial_caps:
 * asked for as soon as the applet joins (0 = wait for
 * ll_agent_session_request).
 */
int ll_agent_session_new(struct ll_stream *stream,
			 const struct ll_relay_opts *relay,
			 const char *session_id, const char *ticket,
			 uint32_t initial_caps,
			 const struct ll_agent_session_cbs *cbs, void *user,
			 struct ll_agent_session **out);
/* Ends hard if still running; no callback after this.  Sends the audit
 * reports still queued first, waiting at most LL_REPORTER_DRAIN_MS.  NULL
 * ok. */
void ll_agent_session_free(struct ll_agent_session *s);

/* Ask the user for caps (added to what is granted).  *id (may be NULL)
 * gets the request id.  LL_ERR_CLOSED after the end, and while the
 * stream is being reopened (ll_agent_session_stalled). */
int ll_agent_session_request(struct ll_agent_session *s, uint32_t caps,
			     uint32_t *id);
/* Orderly end, telling the applet why. */
int ll_agent_session_end(struct ll_agent_session *s, const char *reason);

enum ll_agent_state ll_agent_session_state(const struct ll_agent_session *s);
uint32_t ll_agent_session_caps(const struct ll_agent_session *s);
/* True while the stream is silent (ll_session_io.h, Liveness), and after
 * it was lost while it comes back (the session keeps its grants, reopens
 * the stream with its ticket in a worker thread within the relay's grace
 * and, once back, takes the applet's grant id 0 as what is still granted,
 * never more; the viewer gets on_rfb_closed at the loss and on_rfb again
 * when the applet reopens channel 1): the GUI and the holder say
 * LL_AGENT_STALLED_TEXT.  If it cannot come back it ends with "connection
 * lost (...)"; ll_agent_session_end while it tries ends at once. */
bool ll_agent_session_stalled(const struct ll_agent_session *s);
/* The screen's quality band (ll_rfb_quality.h), chosen from what channel
 * 1 carries; *serial (may be NULL) changes with it, and on_changed is
 * called: the RFB client then sends SetEncodings with the band's JPEG
 * quality and compression level. */
struct ll_rfb_band;
const struct ll_rfb_band *ll_agent_session_rfb_band(
	const struct ll_agent_session *s, unsigned *serial);
/* The number of the last update on channel 1 that held JPEG
 * (ll_rfb_filter_lossy_update), readable from any thread while s lives;
 * 0 again when the channel reopens.  For ll_rfbc_cbs.lossy. */
const atomic_uint_least64_t *ll_agent_session_rfb_lossy(
	const struct ll_agent_session *s);
#define LL_AGENT_STALLED_TEXT                                                 \
	"Connection interrupted \u2014 reconnecting\u2026"
enum ll_agent_answer ll_agent_session_answer(const struct ll_agent_session *s);
/* Why the latest request was denied, as the applet said (LL_DENY_UNSAID
 * when it did not, or when it was not denied); *retry_after (may be NULL)
 * the seconds after which it may be asked again as the deny came, 0 when
 * not said. */
enum ll_deny_reason ll_agent_session_deny_reason(
	const struct ll_agent_session *s, uint32_t *retry_after);
/* What the technician reads about a deny ("The user declined; you can ask
 * again in 30 s.", ...; g_free), the CLI and the GUI alike. */
char *ll_agent_deny_text(enum ll_deny_reason why, uint32_t retry_after);
/* True while a request is out without an answer. */
bool ll_agent_session_pending(const struct ll_agent_session *s);
bool ll_agent_session_peer_joined(const struct ll_agent_session *s);
const char *ll_agent_session_id(const struct ll_agent_session *s);
/* Why it ended (NULL while running). */
const char *ll_agent_session_end_reason(const struct ll_agent_session *s);
/* Once it ended: the true reason, where the caller knows better than the
 * stream (the relay closes a waiting stream without saying why). */
void ll_agent_session_set_end_reason(struct ll_agent_session *s,
				     const char *reason);
/* What the technician is told when nobody redeemed the PIN in time. */
#define LL_AGENT_END_PIN_EXPIRED "The PIN expired before the user entered it"
/* The relay's end_reason of the session (GET /api/v1/sessions; caller
 * g_free()s), NULL when it cannot say.  Ends the relay decides (a
 * permission withdrawn: docs/API.md section 4) reach us as a closed
 * stream: this is how the technician reads why. */
char *ll_agent_session_relay_end_reason(const struct ll_relay_opts *relay,
					const char *token,
					const char *session_id);
#define LL_AGENT_END_PERMISSION_WITHDRAWN                                     \
	"The relay ended the session: your group no longer permits what it "  \
	"was allowed"
/*
 * After a session ended before the user joined: asks the relay (with the
 * technician's token) whether its PIN expired, bounded by a short
 * timeout.  True only when the relay says so.
 */
bool ll_agent_session_pin_expired(const struct ll_relay_opts *relay,
				  const char *token, const char *session_id);
/* "view, control" (caller frees); "nothing" for 0. */
char *ll_agent_caps_text(uint32_t caps);
/* Who sits at the applet, "NAME on HOST" (the OS user's full name and the
 * computer's host name, printable), once the applet said so after view
 * was granted; NULL before. */
const char *ll_agent_session_who(const struct ll_agent_session *s);
/* "view,control" / "view control" / ["view"] list to bits; 0 and *err on an
 * unknown name. */
uint32_t ll_agent_caps_parse(const char *const *names, int n, char **err);

/*
 * The applet's latest monitor list (it sends one once view is granted,
 * and after every change or choice): *n entries (0 and NULL before one
 * came, or without view), *current the one shown ("all" = the whole
 * desktop), *serial grows with every list.  Borrowed until the next
 * callback.  Any argument but s may be NULL.  The names are the applet's
 * own (a choice must send them back as they are): pass them through
 * ll_text_printable() (ll_text.h) before showing them.
 */
const struct ll_control_monitor *ll_agent_session_monitors(
	const struct ll_agent_session *s, size_t *n, const char **current,
	unsigned *serial);
/*
 * Asks the applet to show monitor `name` ("all": the whole desktop).  It
 * answers with a new list (the serial above grows, current is name) or a
 * control error (ll_agent_session_last_error).  LL_ERR_SCHEMA: not a name
 * that can travel; LL_ERR_DISABLED: view is not granted; LL_ERR_CLOSED.
 */
int ll_agent_session_select_monitor(struct ll_agent_session *s,
				    const char *name);
/* The applet's latest control error (code: [a-z_] only; message: its
 * words, already through ll_text_printable(); NULL if none came); returns
 * a serial that grows with each error. */
unsigned ll_agent_session_last_error(const struct ll_agent_session *s,
				     const char **code, const char **message);

/*
 * Chat (chat.c, docs/API.md "Chat"): sends one line to the user (UTF-8,
 * 1..LL_CONTROL_MAX_CHAT bytes) and keeps it.  LL_ERR_DISABLED: chat is
 * not granted; LL_ERR_CLOSED; LL_ERR_TOO_LARGE, LL_ERR_INVALID_ARG,
 * LL_ERR_MALFORMED for text that cannot travel.
 */
int ll_agent_session_chat_send(struct ll_agent_session *s, const char *text);
/* The lines said both ways (ll_chat.h), and a serial that grows with
 * each one kept. */
const struct ll_chat_log *ll_agent_session_chat(
	const struct ll_agent_session *s, unsigned *serial);

/* ---- chat.c: the session's chat (the session's own use) ---- */

struct ll_agent_chat;
/* relay and ticket (secret) stay the caller's and must outlive it. */
struct ll_agent_chat *ll_agent_chat_new(const char *session_id,
					const struct ll_relay_opts *relay,
					const char *ticket);
/* Waits for the lines still being uploaded (each bounded in time). */
void ll_agent_chat_free(struct ll_agent_chat *c);
const struct ll_chat_log *ll_agent_chat_log(const struct ll_agent_chat *c);
unsigned ll_agent_chat_serial(const struct ll_agent_chat *c);
/* A chat message from the applet: kept when chat is granted (caps) and
 * the applet does not flood; else refused with a control error to it.
 * True when a line was kept. */
bool ll_agent_chat_received(struct ll_agent_chat *c, struct ll_session_io *io,
			    uint32_t caps, const char *text);
/* ll_agent_session_chat_send's work. */
int ll_agent_chat_send(struct ll_agent_chat *c, struct ll_session_io *io,
		       uint32_t caps, const char *text);

/*
 * Sends our clipboard text to the user's (never logged).  LL_ERR_DISABLED
 * without `clipboard` granted, LL_ERR_TOO_LARGE over
 * LL_CONTROL_MAX_CLIPBOARD bytes, LL_ERR_CLOSED.
 */
int ll_agent_session_send_clipboard(struct ll_agent_session *s,
				    const char *text);
/*
 * Asks the applet for its system information (sysinfo_request); the
 * answer comes as ll_agent_session_sysinfo with a new serial, or as a
 * control error.  LL_ERR_DISABLED without `sysinfo` granted, LL_ERR_CLOSED.
 */
int ll_agent_session_ask_sysinfo(struct ll_agent_session *s);
struct ll_sysinfo;
/* The applet's latest answer, every string printable (ll_text.h); NULL
 * before one came, or once `sysinfo` is no longer granted.  *serial (may
 * be NULL) grows with each answer.  Borrowed until the next callback. */
const struct ll_sysinfo *ll_agent_session_sysinfo(
	const struct ll_agent_session *s, unsigned *serial);

/* sysinfo_text.c: the lines the viewer's pane and `session sysinfo`
 * show ("Computer: pc-01", ...; caller g_free()s). */
char *ll_agent_sysinfo_text(const struct ll_sysinfo *si);

/*
 * The session's file transfers (ll_xfer_io.h; files travel only while
 * the user grants `files`): every one that ends is reported to the
 * relay's audit (type "file") before cbs->on_finished.  cbs (copied;
 * NULL keeps the last) gets the set's events with user; on_offer left
 * NULL refuses every offer.  The set is the session's.
 */
struct ll_xfer_set_cbs;
struct ll_xfer_set *ll_agent_session_xfers(struct ll_agent_session *s,
					   const struct ll_xfer_set_cbs *cbs,
					   void *user);
/* session.c's own: the set with the session's audit in front. */
struct ll_xfer_set *ll_agent_xfers_new(struct ll_agent_session *s);

/* ---- cli.c / cli_holder.c ---- */

/* `lifeline-agent --cli ...`: argv[0] is the program, argv[1] "--cli". */
int ll_agent_cli_main(int argc, char **argv);
/* `lifeline-agent --cli-holder ...` (started by `pin new` only). */
int ll_agent_holder_main(int argc, char **argv);

/* Exit codes of the CLI (documented in cli.c). */
enum {
	LL_EXIT_OK = 0,
	LL_EXIT_ERROR = 1,         /* anything else */
	LL_EXIT_USAGE = 2,         /* bad command line */
	LL_EXIT_DENIED = 3,        /* the user said no / refused: no cap */
	LL_EXIT_TIMEOUT = 4,       /* session wait --timeout passed */
	LL_EXIT_ENDED = 5,         /* the session is over (or no holder) */
	LL_EXIT_AUTH = 6,          /* login refused / not logged in */
	LL_EXIT_HELD_BACK = 7,     /* asked again too soon after a no */
	LL_EXIT_NO_MORE = 8,       /* the user said no three times */
	LL_EXIT_NOT_PERMITTED = 9, /* the technician's group does not
					* permit that capability */
	LL_EXIT_INTERRUPTED = 10,  /* ^C (SIGINT, SIGTERM) stopped a
				    * transfer: cancelled */
	LL_EXIT_LAST = LL_EXIT_INTERRUPTED /* the highest: keep it last */
};

/* ---- GUI ---- */

/* app.c */
int ll_agent_gui_main(int argc, char **argv);

#endif
