/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-applet internals: the interfaces between the applet's files.
 *
 *   main.c            process setup, exit codes
 *   app.c             GtkApplication, command line, window bookkeeping
 *   pin_window.c      "PRODUCT – Enter PIN"
 *   consent_dialog.c  "PRODUCT – Permission request"
 *   avatar.c          the technician's photo (the brand's) or initial in
 *                     the dialog and the bar
 *   session_bar.c     "PRODUCT – Session"
 *   share_frame.c     "PRODUCT – Screen shared", the frame around what
 *                     the technician sees
 *   tray.c            the session's tray icon (libayatana-appindicator3,
 *                     loaded when there)
 *   waiting_window.c  "PRODUCT – Waiting for a technician" (a channel)
 *   ended_window.c    "PRODUCT – Session ended", and the table of the
 *                     ways a session ends (enum ll_applet_end)
 *   channel.c         the channel's flow: join, wait, picked up, cancel
 *   session.c         the session state machine (stream, control,
 *                     consent, audit events, endings); its insides are
 *                     shared with the next three in session_int.h
 *   session_rfb.c     screen sharing after the view grant: the RFB
 *                     server's thread and messages, monitors, channel 1
 *   redeem.c          the redeem worker (PIN redeemed, stream opened in a
 *                     GTask thread)
 *   end_reason.c      asks the relay why it ended the session after the
 *                     stream closed without an `end` (GTask thread)
 *   input_gate.c      what the technician's input may do right now,
 *                     shared between the GTK thread and the RFB thread
 *   rfb_server.c      libvncserver on its own thread (the only file that
 *                     includes <rfb/rfb.h>)
 *
 * Threads: the GTK main thread runs the UI and the session pump; the RFB
 * thread (only while `view` is granted) owns libvncserver and the platform
 * capture/input instance.  They share only the input gate (mutex) and the
 * RFB server's stop/wake pipe.
 */
#ifndef LL_APPLET_H
#define LL_APPLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gtk/gtk.h>

#include "applet_rfb.h"
#include "ll_api_client.h"

/*
 * Exit codes (also in --help):
 *   0  the session ended normally: the user or the technician ended it,
 *      or nobody answered the first permission request in time
 *   1  internal failure (out of memory, cannot start the UI)
 *   2  usage: bad command line
 *   3  relay or redeem error: relay unreachable, TLS refused, PIN wrong
 *      or expired, stream refused
 *   4  connection lost during the session
 *   5  the signed configuration was refused: altered, signed by a key
 *      this computer does not trust, an unsafe system file, or a relay
 *      or org other than the configuration's was asked for
 */
enum ll_applet_exit {
	LL_APPLET_EXIT_OK = 0,
	LL_APPLET_EXIT_FAILURE = 1,
	LL_APPLET_EXIT_USAGE = 2,
	LL_APPLET_EXIT_RELAY = 3,
	LL_APPLET_EXIT_LOST = 4,
	LL_APPLET_EXIT_CONFIG = 5,
};

struct ll_applet;

/*
 * Why the applet's session ended (or never started): one row each in
 * ended_window.c, with its name in the log, its exit code, whether
 * "PRODUCT – Session ended" says so, and the sentence it says.
 */
enum ll_applet_end {
	LL_APPLET_END_CLOSED = 0,    /* the PIN window closed: no window */
	LL_APPLET_END_CANCELLED,     /* closed while connecting: no window */
	LL_APPLET_END_QUEUE_LEFT,    /* Cancel in the waiting window */
	LL_APPLET_END_USER,          /* the user's End session */
	LL_APPLET_END_TECHNICIAN,    /* the technician's End */
	LL_APPLET_END_NOT_REQUESTED, /* "I did not ask for this" */
	LL_APPLET_END_CONSENT_TIMEOUT,
	LL_APPLET_END_LOST,         /* the support server's stream broke */
	LL_APPLET_END_STALLED,      /* the stream went silent for good */
	LL_APPLET_END_FAILED,       /* a protocol error */
	LL_APPLET_END_START_FAILED, /* could not start here */
	/* the redeem (redeem.c), in the PIN window when there is one */
	LL_APPLET_END_PIN_INVALID,
	LL_APPLET_END_PIN_EXPIRED,
	LL_APPLET_END_RATE_LIMITED,
	LL_APPLET_END_PIN_LOCKED_WEBSITE,
	LL_APPLET_END_PIN_LOCKED_SHORTCUT,
	LL_APPLET_END_IP_NOT_ALLOWED,
	LL_APPLET_END_UNTRUSTED,   /* TLS verification failed */
	LL_APPLET_END_UNREACHABLE, /* no answer from the support server */
	LL_APPLET_END_NOT_STARTED, /* PIN redeemed, stream refused */
	LL_APPLET_END_REFUSED,     /* any other refusal */
	/* a channel (channel.c) */
	LL_APPLET_END_SHORTCUT_INVALID,
	LL_APPLET_END_QUEUE_BUSY,
	LL_APPLET_END_QUEUE_GONE, /* the entry expired or was removed */
	LL_APPLET_END_PICKUP_FAILED,
	/* the relay ended it, as it says when asked (end_reason.c) */
	LL_APPLET_END_PERMISSION_WITHDRAWN,
	LL_APPLET_END_TECHNICIAN_DISABLED,
	LL_APPLET_END_ENDED_BY_ADMIN,
	LL_APPLET_END_N
};

/* The session bar's status while the stream is silent (session.c
 * on_stall; ll_session_io.h, Liveness). */
#define LL_APPLET_STALLED_TEXT                                                \
	"Connection interrupted \u2014 reconnecting\u2026"

/* Its name in the log ("pin_expired"). */
const char *ll_applet_end_tag(enum ll_applet_end e);
/* Its exit code (enum ll_applet_exit). */
int ll_applet_end_exit_code(enum ll_applet_end e);
/* Whether "PRODUCT – Session ended" says so. */
bool ll_applet_end_shown(enum ll_applet_end e);
/* What happened and what to do next, in plain words (g_free), naming
 * the org that helps as ll_applet_org_name says, else the brand's. */
char *ll_applet_end_words(const struct ll_applet *a, enum ll_applet_end e);
struct ll_client_error;
/* A failed call to the support server as an end: the API code, else
 * the kind of failure (at_stream: the PIN was redeemed already). */
enum ll_applet_end ll_applet_end_of_error(const struct ll_client_error *e,
					  bool at_stream);

/* Where the system's configuration is installed (docs/API.md section 11). */
#define LL_APPLET_ETC_DIR "/etc/lifeline"

struct ll_appconf;
/*
 * The signed configuration in force (appconf.c): this binary's trailer,
 * else file_arg (a FILE.lifeline, may be NULL), else ETC_DIR/applet.conf.
 * etc_dir NULL is LL_APPLET_ETC_DIR; test_dir (test builds) lets files
 * there be owned by us instead of root.  LL_OK with *found false when
 * there is none; a negative ll_err and one line in *why (g_free) when
 * one is there but refused.  *text: the configuration's signed text as
 * read (ll_secret_free: it may hold a channel credential), what a
 * redeem sends as its proof; NULL when none.
 */
int ll_applet_conf_load(const char *file_arg, const char *etc_dir,
			bool test_dir, struct ll_appconf *out, char **text,
			bool *found, char **why);

/*
 * The PIN, org and launch token the PIN page's download appended to this
 * program (ll_appconf.h, LL_PIN_TRAILER_MAGIC): LL_OK with *pin
 * (ll_secret_free), *org (g_free) and *launch (ll_secret_free; NULL but
 * for a website-locked PIN) set, or all NULL when there is none; a
 * negative ll_err and one line in *why (g_free) when the trailer is
 * damaged.
 */
int ll_applet_pin_trailer_load(char **pin, char **org, char **launch,
			       char **why);

/* Seconds a permission request waits for an answer before it is denied. */
#define LL_APPLET_CONSENT_TIMEOUT_S 60
/* Milliseconds from mapping a permission window until it takes answers. */
#define LL_APPLET_CONSENT_ARM_MS 1000
/* No pestering (session.c hold_back): after the user refused a
 * capability, a new request for it within this many seconds is denied
 * without asking; after this many refusals of it in one session, every
 * further one is. */
#define LL_APPLET_CONSENT_HOLD_S 30
#define LL_APPLET_CONSENT_MAX_DENIALS 3

/* Plain words for one LL_CAP_* bit ("See your screen", ...). */
const char *ll_applet_cap_words(uint32_t cap);
/* "See your screen, Control your mouse and keyboard" or `none` when caps
 * is 0 (g_free the result). */
char *ll_applet_caps_sentence(uint32_t caps, const char *none);

/* ---- windows (pin_window.c, consent_dialog.c, session_bar.c) ---- */

struct ll_applet;

/* Window bookkeeping shared by all windows (app.c): WM_CLASS, icon,
 * keep-above, rectangle and focus tracking for the input gate. */
void ll_applet_track_window(struct ll_applet *a, GtkWindow *w);
/* "PRODUCT – what" (g_free). */
char *ll_applet_title(const char *what);
/*
 * Who asks, in the words an end user reads: the technician's and the
 * org's display names as the relay sent them (already sanitised), or
 * plain words when there is none ("A technician" at the start of a
 * sentence, "a technician" inside one; "your support team").  The login
 * name and the org's id ("default") are never shown.  The results point
 * into name, org or static text.
 */
void ll_applet_who(const char *name, const char *org, bool sentence_start,
		   const char **name_out, const char **org_out);
/* avatar.c: label (class ll-avatar) shows the brand's photo, else the
 * initial of name, else of org (the relay's display names), and is
 * hidden without any. */
void ll_applet_avatar_fill(GtkWidget *label, const char *name,
			   const char *org);

struct ll_pin_window;
/* on_submit gets the PIN the user typed (digits only). */
struct ll_pin_window *ll_pin_window_new(struct ll_applet *a,
					void (*on_submit)(const char *pin,
							  void *user),
					void *user);
void ll_pin_window_set_busy(struct ll_pin_window *w, bool busy,
			    const char *status);
void ll_pin_window_show_error(struct ll_pin_window *w, const char *message);
void ll_pin_window_free(struct ll_pin_window *w);

enum ll_consent_answer {
	LL_CONSENT_ALLOW = 1,
	LL_CONSENT_DENY,
	LL_CONSENT_TIMEOUT,
	LL_CONSENT_NOT_REQUESTED, /* "I did not ask for this" */
	LL_CONSENT_VIEW_ONLY,     /* view allowed, the rest refused */
};

struct ll_consent_dialog;
/*
 * Shows the dialog for caps asked by `name` of `org` (the display names
 * the relay sent, NULL when none: ll_applet_who).  on_answer is called once (never from inside _new or
 * _free); the dialog stays until freed.
 */
struct ll_consent_dialog *ll_consent_dialog_new(
	struct ll_applet *a, const char *name, const char *org, uint32_t caps,
	int timeout_s,
	void (*on_answer)(enum ll_consent_answer ans, void *user), void *user);
void ll_consent_dialog_free(struct ll_consent_dialog *d);

struct ll_session_bar;
struct ll_session_bar *ll_session_bar_new(struct ll_applet *a,
					  const char *name, const char *org,
					  void (*on_stop_control)(void *user),
					  void (*on_end)(void *user),
					  void *user);
/* Refreshes "what they may do now" and a status line. */
void ll_session_bar_update(struct ll_session_bar *b, uint32_t granted,
			   const char *status);
/*
 * What of the screen is shown ("Shown: monitor DP-1 only ..."), and
 * where: area is the shared monitor in root coordinates (device pixels),
 * NULL for the whole desktop.  Frames it (share_frame.c).  text NULL
 * hides the line and the frame (nothing is shared).
 */
void ll_session_bar_set_sharing(struct ll_session_bar *b, const char *text,
				const GdkRectangle *area);
/* Adds Stop clipboard (hidden until set on), which calls on_stop. */
void ll_session_bar_add_clipboard(struct ll_session_bar *b,
				  void (*on_stop)(void *user), void *user);
/* Shows Stop clipboard while the clipboard is shared. */
void ll_session_bar_set_clipboard(struct ll_session_bar *b, bool on);
/* A sentence for the person in the status line (a second start). */
void ll_session_bar_notice(struct ll_session_bar *b, const char *text);
/* Raises the bar (and the frame) above other windows. */
void ll_session_bar_present(struct ll_session_bar *b);
void ll_session_bar_free(struct ll_session_bar *b);

struct ll_chat_line;
struct ll_chat_window;
/*
 * "PRODUCT – Chat" (chat_window.c): the lines (already sanitised), with
 * the technician's name (NULL: "Technician") on theirs, and a line to
 * write; on_send gets what the user wrote (never from inside _new or
 * _free).  Closing it hides it.
 */
struct ll_chat_window *ll_chat_window_new(
	struct ll_applet *a, const char *technician,
	void (*on_send)(const char *text, void *user), void *user);
void ll_chat_window_add(struct ll_chat_window *w,
			const struct ll_chat_line *line);
/* A sentence under the lines (NULL: none). */
void ll_chat_window_note(struct ll_chat_window *w, const char *text);
void ll_chat_window_set_writable(struct ll_chat_window *w, bool writable);
void ll_chat_window_present(struct ll_chat_window *w);
/* A new line came: shown and focused when it was hidden, else only
 * marked urgent (no focus taken while the user works elsewhere). */
void ll_chat_window_reveal(struct ll_chat_window *w);
void ll_chat_window_free(struct ll_chat_window *w);
/* The session bar's _Chat button, shown once on_chat is set and usable
 * while chat is granted. */
void ll_session_bar_set_chat(struct ll_session_bar *b,
			     void (*on_chat)(void *user));
/* The session bar's Send a _file… button (transfer.c's picker), shown
 * while `files` is granted once on_send is set. */
void ll_session_bar_set_send(struct ll_session_bar *b,
			     void (*on_send)(void *user));

struct ll_share_frame;
/*
 * "PRODUCT – Screen shared": thin input-transparent strips in the brand's
 * accent colour along the edges of area (root coordinates, device
 * pixels), or of every monitor when area is NULL.
 */
struct ll_share_frame *ll_share_frame_new(GdkDisplay *dpy,
					  const GdkRectangle *area);
/* Back above windows raised since (the bar was brought back). */
void ll_share_frame_raise(struct ll_share_frame *f);
void ll_share_frame_free(struct ll_share_frame *f);

struct ll_tray;
/*
 * The session's tray icon (tray.c) titled title, its menu Show the
 * session window, Stop control (off until ll_tray_set_control) and End
 * session calling back with user.  NULL where no tray library is
 * installed; where the desktop has no tray it is simply not seen.
 */
struct ll_tray *ll_tray_new(const char *title,
			    void (*on_stop_control)(void *user),
			    void (*on_end)(void *user),
			    void (*on_show)(void *user), void *user);
void ll_tray_set_control(struct ll_tray *t, bool control);
void ll_tray_free(struct ll_tray *t);

struct ll_waiting_window;
/* on_ask gets what the user typed (may be ""); on_cancel is Cancel,
 * Close and the window's close button alike (the window stays until
 * freed). */
struct ll_waiting_window *ll_waiting_window_new(
	struct ll_applet *a,
	void (*on_ask)(const char *description, void *user),
	void (*on_cancel)(void *user), void *user);
/* A plain sentence, with the spinner when busy. */
void ll_waiting_window_set_status(struct ll_waiting_window *w,
				  const char *status, bool busy);
void ll_waiting_window_free(struct ll_waiting_window *w);

struct ll_ended_window;
/* "PRODUCT – Session ended" saying e's words; on_close is Close, Escape
 * and the window's close button alike (the window stays until freed). */
struct ll_ended_window *ll_ended_window_new(struct ll_applet *a,
					    enum ll_applet_end e,
					    void (*on_close)(void *user),
					    void *user);
void ll_ended_window_free(struct ll_ended_window *w);

/* ---- session (session.c, session_rfb.c, redeem.c) ---- */

struct ll_applet_session;

/* Bytes of the PIN page's launch token (64 hex digits, docs/API.md). */
#define LL_APPLET_LAUNCH_MAX 64

struct ll_applet_session_opts {
	/* The relay and its trust: .url, .ca_file (NULL: system CAs only),
	 * and from a signed configuration (appconf.c), each NULL without
	 * one: .ca_pem (the relay's root), .spki_pin (its key's pin),
	 * .allowed_hosts (its relay_hosts, the only hosts contacted).
	 * Timeouts are the session's own. */
	struct ll_relay_opts relay;
	/* From a signed configuration: the org sent with every redeem. */
	const char *org;
	/* The signed configuration's text, sent with every redeem: the
	 * proof a shortcut-locked PIN asks for (docs/SECURITY.md, "What a
	 * PIN lock proves"); NULL without one. */
	const char *applet_config;
	/* The PIN page's launch token from a lifeline: link (launch=), for
	 * website-locked PINs; NULL: none. */
	const char *launch;
	const char *display; /* X display for capture; NULL = $DISPLAY */
	const char *monitor; /* monitor to share; NULL = all */
	/* Seconds a permission request waits; 0 is
	 * LL_APPLET_CONSENT_TIMEOUT_S (test builds may shorten it). */
	int consent_timeout_s;
	/* Seconds a refused capability is held back; 0 is
	 * LL_APPLET_CONSENT_HOLD_S (test builds may shorten it). */
	int consent_hold_s;
};

/*
 * A session of the applet; `done` is called on the main loop once it has
 * ended (why, and what the log should add), after which the session may
 * be freed.
 */
struct ll_applet_session *ll_applet_session_new(
	struct ll_applet *a, const struct ll_applet_session_opts *o,
	void (*done)(enum ll_applet_end end, void *user), void *user);
/* Redeems pin (wiped after use), then runs the session.  Errors of the
 * redeem step come back through on_redeem_error when it is set (the PIN
 * window shows them and lets the user try again), else through done. */
void ll_applet_session_start(struct ll_applet_session *s, const char *pin,
			     void (*on_redeem_error)(enum ll_applet_end end,
						     void *user));
struct ll_applet_redeemed;
/* A channel's technician picked the user up (channel.c): run the
 * session as after a redeem, taking res's redeem and stream over. */
void ll_applet_session_start_picked(struct ll_applet_session *s,
				    struct ll_applet_redeemed *res);
/* The user asked to end (window closed, End session). */
void ll_applet_session_end_by_user(struct ll_applet_session *s);
void ll_applet_session_free(struct ll_applet_session *s);

/* ---- application (app.c) ---- */

/* The session redeemed the PIN: the PIN window goes away. */
void ll_applet_pin_done(struct ll_applet *a);
/* The user closed the PIN window (pin_window.c). */
void ll_applet_pin_cancelled(struct ll_applet *a);
/* The session bar exists (NULL: no more): a second start of the applet
 * says so there (session_bar.c). */
void ll_applet_set_session_bar(struct ll_applet *a, struct ll_session_bar *b);

/* ---- channels (channel.c) ---- */
struct ll_applet_channel;
/* Shows the waiting window for the channel credential (copied; the
 * caller wipes its own) and runs the flow, on the relay of o (whose
 * strings are copied); the session s runs once a technician picks the
 * user up. */
struct ll_applet_channel *ll_applet_channel_new(
	struct ll_applet *a, struct ll_applet_session *s,
	const struct ll_applet_session_opts *o, const char *credential);
/* Stops the flow (leaving the queue when still in it) and waits for its
 * worker. */
void ll_applet_channel_free(struct ll_applet_channel *c);

struct ll_input_gate *ll_applet_gate(struct ll_applet *a);
/* Ends the process's main loop with that exit code. */
void ll_applet_quit(struct ll_applet *a, int exit_code);
/* The way out after end: "PRODUCT – Session ended" when its row says so
 * (the applet quits when it is closed), else at once; e's exit code. */
void ll_applet_ended(struct ll_applet *a, enum ll_applet_end end);
/* Who helps, from the redeem's answer (the org's display name), for
 * the words of an end; ll_applet_org_name gives it, else the brand's. */
void ll_applet_set_org_name(struct ll_applet *a, const char *name);
const char *ll_applet_org_name(const struct ll_applet *a);
int ll_applet_main(int argc, char **argv);

#endif
