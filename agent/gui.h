/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's GUI internals (GTK 3, written against 3.22).  UI objects
 * are touched from the main loop only; relay calls run in GTask threads
 * on a copy of what they need (struct ll_gui_conn).
 */
#ifndef LL_AGENT_GUI_H
#define LL_AGENT_GUI_H

#include <gtk/gtk.h>

#include "agent.h"

/* What a worker thread needs to reach the relay (copied, token wiped). */
struct ll_gui_conn {
	char *url;
	char *ca_file;
	/* the relay's certificate the technician trusted on first use
	 * (ll_profile_known_relay), an extra anchor; NULL when none */
	char *ca_pem;
	char *token; /* NULL before login */
};
struct ll_gui_conn *ll_gui_conn_copy(const struct ll_gui_conn *c);
void ll_gui_conn_free(struct ll_gui_conn *c);
/* A client for c (in the worker thread); NULL with e filled. */
struct ll_api_client *ll_gui_client_new(const struct ll_gui_conn *c,
					struct ll_client_error *e);
/* The session stream for ticket (in the worker thread): ll_stream_open
 * with c's relay and trust. */
int ll_gui_stream_open(const struct ll_gui_conn *c, const char *ticket,
		       struct ll_stream **out, struct ll_client_error *e);

/*
 * One request of a window to the relay, run off the main loop
 * (gui_call.c).  run() is called in a worker thread with a client for a
 * copy of the connection (and that copy, for a stream to open); it
 * returns 0 or a negative ll_err with e filled.  done() is then called on
 * the main loop (if not NULL), e->code 0 when it worked, unless cancel
 * (may be NULL) was cancelled first: the window that asked is gone.
 * job_free (may be NULL) frees the job in every case, after done().
 * hold (a GObject, may be NULL) is kept alive until then, as a GTask's
 * source object is.
 */
struct ll_gui_call {
	int (*run)(void *job, struct ll_api_client *c,
		   const struct ll_gui_conn *conn, struct ll_client_error *e);
	void (*done)(void *job, const struct ll_client_error *e, void *user);
	void (*job_free)(void *job);
};
void ll_gui_call(const struct ll_gui_conn *conn, gpointer hold,
		 GCancellable *cancel, const struct ll_gui_call *how,
		 void *job, void *user);
/* The sentence for a failed call: e's message, else its code's; NULL
 * when e->code is 0. */
const char *ll_gui_error_text(const struct ll_client_error *e);

/* The tooltip of a control asking for what the technician's group does
 * not permit (the login answer's permissions, ll_profile_caps). */
#define LL_GUI_NOT_PERMITTED "Your group does not permit this"

struct ll_gui {
	GtkApplication *app;
	GtkWindow *window;
	struct ll_profile *profile;
	struct ll_gui_conn conn;
	char *tech_name;
	char *tech_org;
	bool admin; /* the login answer's permissions name "admin" */
	/* viewer.c: the sessions whose window is open and not ended */
	unsigned live_sessions;
	/* viewer.c: session id -> "NAME on HOST" the applet told */
	GHashTable *users;
	/* main_window.c */
	GtkWidget *stack;
	GtkWidget *login_view;
	GtkWidget *sessions_view;
	GtkListStore *sessions;
	GtkWidget *sessions_tree;
	guint sessions_timer;
	bool sessions_busy; /* a list request is in flight */
	GtkWidget *status;
	GtkWidget *who;
	GtkWidget *new_pin;
	GtkWidget *policies_btn;    /* shown to admins only */
	GtkWidget *policies;        /* policy_view.c's window while open */
	GtkWidget *technicians_btn; /* shown to admins only */
	GtkWidget *technicians; /* technicians_view.c's window while open */
	GtkWidget *live_btn;    /* shown to admins only */
	GtkWidget *live;        /* live_view.c's window while open */
	GtkWidget *groups_btn;  /* shown to admins only */
	GtkWidget *groups;      /* groups_view.c's window while open */
	/* queue_view.c */
	GtkListStore *queue;
	GtkWidget *queue_tree;
	GtkWidget *queue_label;
	GtkWidget *pickup;
	guint queue_timer;
	bool queue_busy; /* a list request is in flight */
};

/* app.c */
void ll_gui_logged_in(struct ll_gui *g);
void ll_gui_logged_out(struct ll_gui *g);

/* login_window.c: the login form (relay URL, user, password, org, TOTP) */
GtkWidget *ll_login_view_new(struct ll_gui *g);
/* Puts the keyboard focus in the form's first empty field. */
void ll_login_view_focus(struct ll_gui *g);

/* main_window.c: "PRODUCT Agent" with the login view and the sessions,
 * refreshed every few seconds while logged in */
GtkWindow *ll_main_window_new(struct ll_gui *g);
void ll_main_window_show_sessions(struct ll_gui *g);
void ll_main_window_show_login(struct ll_gui *g);
void ll_main_window_refresh(struct ll_gui *g);
void ll_main_window_status(struct ll_gui *g, const char *text);

/* admin_window.c: the frame of the admin windows below.  Presents win
 * and says true when it is open already. */
bool ll_admin_window_raise(GtkWidget *win);
/* A window "PRODUCT Agent – WHAT" of width x height, transient for the
 * main window, holding *box (vertical, border 12) with the heading
 * "HEADING of ORG"; the caller packs the rest into *box. */
GtkWidget *ll_admin_window_new(struct ll_gui *g, const char *what, int width,
			       int height, const char *heading,
			       GtkWidget **box);
/* The status label at box's end so far, line-wrapped when wrap. */
GtkWidget *ll_admin_status_new(GtkWidget *box, const char *text, bool wrap);
/* A scrolled list of n text columns titled titles, named name for
 * accessibility; fills *store (n G_TYPE_STRING columns) and *tree. */
GtkWidget *ll_admin_list_new(const char *const *titles, int n,
			     const char *name, GtkListStore **store,
			     GtkWidget **tree);

/* policy_view.c: "PRODUCT Agent – Policies", the org's connection
 * policies for an admin (raised when already open) */
void ll_policy_window_open(struct ll_gui *g);

/* technicians_view.c: "PRODUCT Agent – Technicians", the org's
 * technicians for an admin (raised when already open) */
void ll_technicians_window_open(struct ll_gui *g);

/* live_view.c: "PRODUCT Agent – Live", the org's live sessions for an
 * admin, kept current by a long-poll, with End session */
void ll_live_window_open(struct ll_gui *g);

/* groups_view.c: "PRODUCT Agent – Groups", the org's technician groups
 * and their permissions for an admin (raised when already open) */
void ll_groups_window_open(struct ll_gui *g);

/* queue_view.c: who waits in the org's channel queues, with Pick up;
 * refreshed every few seconds between start and stop */
GtkWidget *ll_queue_view_new(struct ll_gui *g);
void ll_queue_view_start(struct ll_gui *g);
void ll_queue_view_stop(struct ll_gui *g);
void ll_queue_view_refresh(struct ll_gui *g);

/* pin_dialog.c: the PIN, large, with a copy button and a countdown */
GtkWidget *ll_pin_panel_new(const char *pin, int64_t expires_at_unix);
/* Asks the relay for a PIN and opens the session's window. */
void ll_pin_new_start(struct ll_gui *g);
/* mfa_dialog.c: "Two-factor sign-in", the enrolment with a QR code */
void ll_mfa_dialog_start(struct ll_gui *g);

/* chat_pane.c: the viewer's chat (its widget lives in the viewer's
 * window; the pane is freed with it, after the window). */
struct ll_chat_pane;
struct ll_chat_pane *ll_chat_pane_new(struct ll_agent_session *sess,
				      uint32_t permitted);
GtkWidget *ll_chat_pane_widget(struct ll_chat_pane *p);
/* The session changed: new lines shown, writing as granted. */
void ll_chat_pane_update(struct ll_chat_pane *p);
void ll_chat_pane_free(struct ll_chat_pane *p);
/* clipboard.c: the viewer's Share clipboard button (in bar) and the
 * shared clipboard while the user grants it */
struct ll_viewer_clip;
struct ll_viewer_clip *ll_viewer_clip_new(struct ll_agent_session *sess,
					  uint32_t permitted, GtkBox *bar);
/* The session's grants or state changed. */
void ll_viewer_clip_update(struct ll_viewer_clip *vc);
/* The user's text (the session's on_clipboard). */
void ll_viewer_clip_received(struct ll_viewer_clip *vc, const char *text);
void ll_viewer_clip_free(struct ll_viewer_clip *vc);

/* sysinfo_pane.c: the viewer's System info button (in bar) and its pane
 * (in row, beside the screen) */
struct ll_sysinfo_pane;
struct ll_sysinfo_pane *ll_sysinfo_pane_new(struct ll_agent_session *sess,
					    uint32_t permitted, GtkBox *bar,
					    GtkBox *row);
void ll_sysinfo_pane_update(struct ll_sysinfo_pane *p);
void ll_sysinfo_pane_free(struct ll_sysinfo_pane *p);

/* viewer.c: one session's window (PIN panel until the user joins, then
 * the screen).  Takes over stream; pin and ticket are copied. */
void ll_viewer_open(struct ll_gui *g, struct ll_stream *stream,
		    const struct ll_api_pin *pin);

/* viewer_files.c: `Send _file…` and its progress line, packed at the end
 * of bar; files dropped on drop are sent too.  permitted: the profile's
 * capabilities (the button is greyed out without files). */
struct ll_viewer_files;
struct ll_viewer_files *ll_viewer_files_new(GtkWindow *parent,
					    struct ll_agent_session *sess,
					    uint32_t permitted, GtkWidget *bar,
					    GtkWidget *drop);
/* After every change of the session: the button, a file waiting for the
 * grant. */
void ll_viewer_files_update(struct ll_viewer_files *vf);
void ll_viewer_files_free(struct ll_viewer_files *vf);

/* viewer_incoming.c: "PRODUCT Agent – Incoming file", the user's offer x
 * (borrowed: its changes are passed to _update) from who (NULL: "the
 * user"); _Save into a folder the technician picks, or _Refuse. */
struct ll_xfer;
struct ll_viewer_incoming;
struct ll_viewer_incoming *ll_viewer_incoming_new(GtkWindow *parent,
						  struct ll_xfer *x,
						  const char *who);
void ll_viewer_incoming_update(struct ll_viewer_incoming *vi);
/* Closes the window: an offer not answered is refused, a transfer
 * running is cancelled.  NULL ok. */
void ll_viewer_incoming_free(struct ll_viewer_incoming *vi);

#endif
