/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One session's window: the PIN panel until the user joins, a state line
 * (waiting for the user / waiting for consent / viewing / controlling /
 * ended and why), the remote screen in gtk-vnc's VncDisplay, and the
 * buttons Scale to fit (else 1:1), Request control and End session, and
 * a Monitor drop-down filled from the applet's "monitors" message (it
 * comes once view is granted) that sends select_monitor; a single
 * monitor is the whole screen and offered once.  1:1 gives the display
 * the remote screen's size, so the window scrolls.  End session and
 * closing the window ask "End the session with NAME?" first while the
 * session runs.  Beside the screen, the chat pane (chat_pane.c).
 * The only file of the agent that includes gtk-vnc.
 *
 * The VncDisplay reads our end of a socketpair bridged to mux channel 1
 * (vnc_display_open_fd): no TCP, no listening port.  It is read-only
 * unless the user granted control; the applet enforces that again.
 * gtk-vnc sends its own encoding list at connect; right after it, in our
 * "vnc-initialized" handler (connected after VncDisplay's), we send
 * SetEncodings again with only the ones we use (Tight with JPEG at the
 * quality the measured link allows, ZRLE as fallback; again whenever
 * the session's quality band changes), so an honest applet uses those
 * from the first update on.  (Like libvncclient,
 * gvnc decodes whatever a server sends: the RFB filter on the channel's
 * bridge, ll_rfb_filter.h, restricts gtk-vnc's own list in place and
 * ends the session before a byte outside our encodings reaches it.)
 */
#include <string.h>
#include <unistd.h>

#include <gtk-vnc.h>

#include "gui.h"
#include "ll_control.h"
#include "ll_err.h"
#include "ll_log.h"
#include "ll_rfb_quality.h"
#include "ll_stream.h"
#include "ll_text.h"
#include "ll_ui.h"

struct viewer {
	struct ll_gui *g;
	struct ll_agent_session *sess;
	GtkWidget *win, *state, *pin_panel, *display, *scroll;
	GtkWidget *fit, *req, *end;
	GtkWidget *monitor;
	bool screen_open;
	/* the monitor list as last shown, and the applet's last refusal */
	unsigned mon_serial, err_serial;
	bool filling;
	bool live;          /* counted in g->live_sessions */
	GtkWidget *confirm; /* "End the session with NAME?" while shown */
	char *mon_note;
	GCancellable *asking; /* the relay is asked why it ended */
	bool named;           /* the title names who sits there */
	/* chat_pane.c, beside the screen */
	struct ll_chat_pane *chat;
	/* issue 13: clipboard.c, sysinfo_pane.c */
	struct ll_viewer_clip *clip;
	struct ll_sysinfo_pane *info;
	/* viewer_files.c: Send file and its progress */
	struct ll_viewer_files *files;
	/* the quality band last sent in SetEncodings, and whether gtk-vnc
	 * is past its handshake (only then can it send them) */
	unsigned band_serial;
	bool vnc_ready;
};

/* Not counted as running any more (ended, or the window gone). */
static void viewer_not_live(struct viewer *v)
{
	if (!v->live)
		return;
	v->live = false;
	v->g->live_sessions--;
}

/* The drop-down follows the applet's list; a refusal goes to the state
 * line until the next list. */
static void update_monitors(struct viewer *v)
{
	char shown[LL_TEXT_PRINTABLE_SIZE(LL_CONTROL_MAX_MONITOR_NAME)];
	const struct ll_control_monitor *m;
	const char *current = NULL, *msg = NULL;
	unsigned serial = 0, eserial;
	size_t n = 0, i, real = 0, shown_n = 0;
	char *label;

	m = ll_agent_session_monitors(v->sess, &n, &current, &serial);
	eserial = ll_agent_session_last_error(v->sess, NULL, &msg);
	if (eserial != v->err_serial) {
		v->err_serial = eserial;
		g_free(v->mon_note);
		v->mon_note = g_strdup(msg);
	}
	if (serial == v->mon_serial && n > 0)
		return;
	if (serial != v->mon_serial)
		g_clear_pointer(&v->mon_note, g_free);
	v->mon_serial = serial;
	v->filling = true;
	gtk_combo_box_text_remove_all(GTK_COMBO_BOX_TEXT(v->monitor));
	for (i = 0; i < n; i++) {
		if (strcmp(m[i].name, "all") != 0)
			real++;
	}
	for (i = 0; i < n; i++) {
		/* One monitor is the whole screen: not offered twice. */
		if (real == 1 && strcmp(m[i].name, "all") != 0 &&
		    (current == NULL || strcmp(current, m[i].name) != 0))
			continue;
		shown_n++;
		/* The label is shown, the id (the applet's own name) goes
		 * back in select_monitor. */
		ll_text_printable(shown, sizeof(shown), m[i].name,
				  strlen(m[i].name));
		label = strcmp(m[i].name, "all") == 0
				? g_strdup_printf("Whole screen (%ux%u)",
						  m[i].width, m[i].height)
				: g_strdup_printf("%s (%ux%u)", shown,
						  m[i].width, m[i].height);
		gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(v->monitor),
					  m[i].name, label);
		g_free(label);
	}
	if (current != NULL)
		gtk_combo_box_set_active_id(GTK_COMBO_BOX(v->monitor),
					    current);
	gtk_widget_set_sensitive(v->monitor, shown_n > 1);
	v->filling = false;
}

static void on_monitor(GtkComboBox *box, gpointer data)
{
	struct viewer *v = data;
	const char *id = gtk_combo_box_get_active_id(box);
	const char *current = NULL;
	int r;

	if (v->filling || id == NULL)
		return;
	ll_agent_session_monitors(v->sess, NULL, &current, NULL);
	if (current != NULL && strcmp(current, id) == 0)
		return;
	if ((r = ll_agent_session_select_monitor(v->sess, id)) != 0) {
		g_free(v->mon_note);
		v->mon_note = g_strdup_printf("cannot choose that monitor: %s",
					      ll_strerror(r));
	}
}

/*
 * Once the applet said who sits there (after view was granted): the
 * window's title and the main window's row name the user and the
 * computer, so that among twenty sessions the technician finds this one.
 */
static void name_user(struct viewer *v)
{
	const char *who = ll_agent_session_who(v->sess);
	const char *id = ll_agent_session_id(v->sess);
	char *title;

	if (v->named || who == NULL)
		return;
	v->named = true;
	title = g_strdup_printf("%s Agent \u2013 Session %.8s \u2013 %s",
				ll_ui_brand()->product, id, who);
	gtk_window_set_title(GTK_WINDOW(v->win), title);
	g_free(title);
	g_hash_table_replace(v->g->users, g_strdup(id), g_strdup(who));
	ll_main_window_refresh(v->g);
}

/* The applet's answer as the technician reads it (while viewing, a
 * refused control request keeps the picture). */
static char *deny_text(struct viewer *v, enum ll_agent_state st)
{
	uint32_t retry = 0;
	enum ll_deny_reason why = ll_agent_session_deny_reason(v->sess,
							       &retry);
	char *t = ll_agent_deny_text(why, retry), *all;

	if (st != LL_AGENT_VIEWING)
		return t;
	all = g_strdup_printf("Viewing (no control). %s", t);
	g_free(t);
	return all;
}

/*
 * Our encodings, Tight first with the JPEG quality and compression level
 * of the session's band (ll_rfb_quality.h), ZRLE as the lossless
 * fallback.  Sent at connect and again whenever the band changes; the
 * applet resends what went out as JPEG losslessly once it is still.
 */
/*
 * JPEG in gtk-vnc: on.  (Off, Tight stays lossless with the band's
 * compression level: the switch for telling a decoding problem from a
 * refresh one.)
 */
#define VIEWER_JPEG 1

static void send_encodings(struct viewer *v, VncConnection *conn)
{
	const struct ll_rfb_band *b;
	gint32 encodings[] = {
		/* pseudo-encodings gtk-vnc needs to follow the screen */
		VNC_CONNECTION_ENCODING_DESKTOP_RESIZE,
		VNC_CONNECTION_ENCODING_EXTENDED_DESKTOP_RESIZE,
		VNC_CONNECTION_ENCODING_RICH_CURSOR,
		VNC_CONNECTION_ENCODING_XCURSOR,
		VNC_CONNECTION_ENCODING_POINTER_CHANGE,
		VNC_CONNECTION_ENCODING_LAST_RECT,
		/* pictures */
		VNC_CONNECTION_ENCODING_TIGHT,
		VNC_CONNECTION_ENCODING_ZRLE,
		VNC_CONNECTION_ENCODING_COPY_RECT,
		VNC_CONNECTION_ENCODING_RAW,
		/* the band's compression and JPEG quality (set below; the
		 * quality last, so that it can be left out) */
		LL_RFB_ENC_COMPRESS_FIRST,
		LL_RFB_ENC_QUALITY_FIRST,
	};

	b = ll_agent_session_rfb_band(v->sess, &v->band_serial);
	encodings[G_N_ELEMENTS(encodings) - 2] = LL_RFB_ENC_COMPRESS_FIRST +
						 b->compress;
	encodings[G_N_ELEMENTS(encodings) - 1] = LL_RFB_ENC_QUALITY_FIRST +
						 b->quality;
	/* Without a quality level Tight stays lossless. */
	vnc_connection_set_encodings(conn,
				     G_N_ELEMENTS(encodings) -
					     (VIEWER_JPEG ? 0 : 1),
				     encodings);
}

static void on_initialized(VncConnection *conn, gpointer data)
{
	struct viewer *v = data;

	v->vnc_ready = true;
	send_encodings(v, conn);
}

/* The session's band changed: the applet hears it at once. */
static void update_band(struct viewer *v)
{
	unsigned serial;

	ll_agent_session_rfb_band(v->sess, &serial);
	if (!v->screen_open || !v->vnc_ready || serial == v->band_serial)
		return;
	send_encodings(v, vnc_display_get_connection(VNC_DISPLAY(v->display)));
}

static void update(struct viewer *v)
{
	enum ll_agent_state st = ll_agent_session_state(v->sess);
	uint32_t caps = ll_agent_session_caps(v->sess);
	bool joined = ll_agent_session_peer_joined(v->sess);
	char *text;

	if (st == LL_AGENT_ENDED)
		text = g_strdup_printf("Ended: %s",
				       ll_agent_session_end_reason(v->sess));
	else if (ll_agent_session_stalled(v->sess))
		text = g_strdup(LL_AGENT_STALLED_TEXT);
	else if ((st == LL_AGENT_ACTIVE || st == LL_AGENT_VIEWING) &&
		 ll_agent_session_answer(v->sess) == LL_ANSWER_DENIED)
		text = deny_text(v, st);
	else if (st == LL_AGENT_WAIT_PEER)
		text = g_strdup("Waiting for the user to enter the PIN.");
	else if (st == LL_AGENT_WAIT_CONSENT)
		text = g_strdup("Waiting for the user's consent.");
	else if (st == LL_AGENT_VIEWING)
		text = g_strdup("Viewing (no control).");
	else if (st == LL_AGENT_CONTROLLING)
		text = g_strdup("Controlling.");
	else
		text = g_strdup(ll_agent_state_text(st));
	update_monitors(v);
	if (v->mon_note != NULL && st != LL_AGENT_ENDED) {
		/* The applet's words passed the display rule in
		 * session.c. */
		char *t = g_strdup_printf("%s \u2014 Monitor: %s", text,
					  v->mon_note);

		g_free(text);
		text = t;
	}
	gtk_label_set_text(GTK_LABEL(v->state), text);
	g_free(text);
	gtk_widget_set_visible(v->pin_panel, !joined && st != LL_AGENT_ENDED);
	/* pointer and keyboard go out only with control */
	vnc_display_set_read_only(VNC_DISPLAY(v->display),
				  !(caps & LL_CAP_CONTROL));
	gtk_widget_set_sensitive(v->req,
				 joined && st != LL_AGENT_ENDED &&
					 (ll_profile_caps(v->g->profile) &
					  LL_CAP_CONTROL) &&
					 !ll_agent_session_pending(v->sess) &&
					 !(caps & LL_CAP_CONTROL));
	gtk_widget_set_sensitive(v->end, st != LL_AGENT_ENDED);
	ll_viewer_clip_update(v->clip);
	ll_sysinfo_pane_update(v->info);
	if (v->files != NULL)
		ll_viewer_files_update(v->files);
	name_user(v);
	ll_chat_pane_update(v->chat);
	update_band(v);
}

static void on_vnc_disconnected(GtkWidget *w, gpointer data)
{
	struct viewer *v = data;

	(void)w;
	v->screen_open = false;
	v->vnc_ready = false;
}

static void on_changed(struct ll_agent_session *s, void *user)
{
	(void)s;
	update(user);
}

static void on_clipboard(struct ll_agent_session *s, const char *text,
			 void *user)
{
	struct viewer *v = user;

	(void)s;
	ll_viewer_clip_received(v->clip, text);
}

static void on_rfb(struct ll_agent_session *s, int fd, void *user)
{
	struct viewer *v = user;

	(void)s;
	if (v->screen_open)
		vnc_display_close(VNC_DISPLAY(v->display));
	v->vnc_ready = false;
	if (!vnc_display_open_fd(VNC_DISPLAY(v->display), fd)) {
		close(fd);
		return;
	}
	v->screen_open = true;
	gtk_widget_grab_focus(v->display);
}

static void on_rfb_closed(struct ll_agent_session *s, void *user)
{
	struct viewer *v = user;

	(void)s;
	if (v->screen_open)
		vnc_display_close(VNC_DISPLAY(v->display));
	v->screen_open = false;
}

/* What asking the relay why a session ended needs, in its thread. */
struct end_ask {
	struct ll_gui_conn *conn;
	char *session_id;
};

static void end_ask_free(gpointer data)
{
	struct end_ask *q = data;

	ll_gui_conn_free(q->conn);
	g_free(q->session_id);
	g_free(q);
}

static void end_ask_thread(GTask *task, gpointer src, gpointer data,
			   GCancellable *cancel)
{
	struct end_ask *q = data;
	struct ll_relay_opts o = { 0 };

	(void)src;
	(void)cancel;
	o.url = q->conn->url;
	o.ca_file = q->conn->ca_file;
	o.ca_pem = q->conn->ca_pem;
	g_task_return_boolean(task,
			      ll_agent_session_pin_expired(&o, q->conn->token,
							   q->session_id));
}

/* v is still there unless the ask was cancelled (the window gone). */
static void end_ask_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct viewer *v = data;
	g_autoptr(GError) err = NULL;
	bool expired = g_task_propagate_boolean(G_TASK(res), &err);

	(void)src;
	if (err != NULL)
		return;
	g_clear_object(&v->asking);
	if (!expired)
		return;
	ll_agent_session_set_end_reason(v->sess, LL_AGENT_END_PIN_EXPIRED);
	update(v);
}

/*
 * Before the user joined, the relay closes our stream without a word when
 * the PIN runs out: ask it, off the main loop, so that the technician
 * reads the true reason and not "connection lost" (as the CLI's holder
 * does).
 */
static void ask_why_ended(struct viewer *v)
{
	g_autoptr(GTask) task = NULL;
	struct end_ask *q;

	if (ll_agent_session_peer_joined(v->sess) || v->asking != NULL)
		return;
	q = g_new0(struct end_ask, 1);
	q->conn = ll_gui_conn_copy(&v->g->conn);
	q->session_id = g_strdup(ll_agent_session_id(v->sess));
	v->asking = g_cancellable_new();
	task = g_task_new(NULL, v->asking, end_ask_done, v);
	g_task_set_task_data(task, q, end_ask_free);
	g_task_run_in_thread(task, end_ask_thread);
}

static void on_ended(struct ll_agent_session *s, const char *reason,
		     void *user)
{
	struct viewer *v = user;

	(void)s;
	(void)reason;
	viewer_not_live(v);
	ask_why_ended(v);
	/* nothing left to confirm */
	if (v->confirm != NULL)
		gtk_widget_destroy(v->confirm);
	on_rfb_closed(s, v);
	update(v);
	ll_main_window_refresh(v->g);
}

/* 1:1: the display asks for the remote screen's size, so that the
 * scrolled window scrolls; to fit, it takes what it is given. */
static void size_display(struct viewer *v)
{
	bool fit = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(v->fit));
	int w = vnc_display_get_width(VNC_DISPLAY(v->display));
	int h = vnc_display_get_height(VNC_DISPLAY(v->display));

	if (fit || w <= 0 || h <= 0)
		gtk_widget_set_size_request(v->display, -1, -1);
	else
		gtk_widget_set_size_request(v->display, w, h);
}

static void on_desktop_resize(GtkWidget *w, int width, int height,
			      gpointer data)
{
	(void)w;
	(void)width;
	(void)height;
	size_display(data);
}

static void on_fit(GtkToggleButton *b, gpointer data)
{
	struct viewer *v = data;
	gboolean fit = gtk_toggle_button_get_active(b);

	vnc_display_set_scaling(VNC_DISPLAY(v->display), fit);
	size_display(v);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(v->scroll),
				       fit ? GTK_POLICY_NEVER
					   : GTK_POLICY_AUTOMATIC,
				       fit ? GTK_POLICY_NEVER
					   : GTK_POLICY_AUTOMATIC);
}

static void on_request(GtkWidget *w, gpointer data)
{
	struct viewer *v = data;

	(void)w;
	ll_agent_session_request(v->sess, LL_CAP_VIEW | LL_CAP_CONTROL, NULL);
}

static void confirm_response(GtkDialog *d, gint response, gpointer data)
{
	struct viewer *v = data;
	bool close = GPOINTER_TO_INT(
		g_object_get_data(G_OBJECT(d), "ll-close-window"));

	gtk_widget_destroy(GTK_WIDGET(d));
	if (response != GTK_RESPONSE_ACCEPT) {
		ll_info("session %s: the technician keeps the session",
			ll_agent_session_id(v->sess));
		return;
	}
	if (ll_agent_session_state(v->sess) != LL_AGENT_ENDED)
		ll_agent_session_end(v->sess,
				     close ? "the technician closed the viewer"
					   : "the technician ended the "
					     "session");
	if (close)
		gtk_widget_destroy(v->win);
}

/*
 * "End the session with NAME?" -- NAME is who the technician sees in
 * this window: the session as its title names it.  close: the window
 * goes too.
 */
static void confirm_end(struct viewer *v, bool close)
{
	g_autofree char *name = NULL;
	GtkWidget *d, *b;

	if (v->confirm != NULL) {
		gtk_window_present(GTK_WINDOW(v->confirm));
		return;
	}
	name = g_strdup_printf("the user of session %.8s",
			       ll_agent_session_id(v->sess));
	d = gtk_message_dialog_new(GTK_WINDOW(v->win),
				   GTK_DIALOG_MODAL |
					   GTK_DIALOG_DESTROY_WITH_PARENT,
				   GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
				   "End the session with %s?", name);
	gtk_message_dialog_format_secondary_text(
		GTK_MESSAGE_DIALOG(d),
		"Their screen is no longer shared, and the session cannot "
		"be resumed: a new one needs a new PIN.");
	gtk_window_set_title(GTK_WINDOW(d), "End the session?");
	b = gtk_dialog_add_button(GTK_DIALOG(d), "_Keep session",
				  GTK_RESPONSE_CANCEL);
	gtk_dialog_add_button(GTK_DIALOG(d), "_End session",
			      GTK_RESPONSE_ACCEPT);
	gtk_style_context_add_class(gtk_widget_get_style_context(
					    gtk_dialog_get_widget_for_response(
						    GTK_DIALOG(d),
						    GTK_RESPONSE_ACCEPT)),
				    "destructive-action");
	g_object_set_data(G_OBJECT(d), "ll-close-window",
			  GINT_TO_POINTER(close));
	v->confirm = d;
	g_object_add_weak_pointer(G_OBJECT(d), (gpointer *)&v->confirm);
	g_signal_connect(d, "response", G_CALLBACK(confirm_response), v);
	ll_info("session %s: asking the technician to confirm the end",
		ll_agent_session_id(v->sess));
	gtk_widget_show_all(d);
	gtk_widget_grab_focus(b);
}

static void on_end(GtkWidget *w, gpointer data)
{
	(void)w;
	confirm_end(data, false);
}

static gboolean on_delete(GtkWidget *w, GdkEvent *ev, gpointer data)
{
	struct viewer *v = data;

	(void)w;
	(void)ev;
	if (ll_agent_session_state(v->sess) == LL_AGENT_ENDED)
		return FALSE;
	confirm_end(v, true);
	return TRUE;
}

static void on_destroy(GtkWidget *w, gpointer data)
{
	struct viewer *v = data;

	(void)w;
	viewer_not_live(v);
	if (v->confirm != NULL) {
		g_object_remove_weak_pointer(G_OBJECT(v->confirm),
					     (gpointer *)&v->confirm);
		v->confirm = NULL;
	}
	if (ll_agent_session_state(v->sess) != LL_AGENT_ENDED)
		ll_agent_session_end(v->sess, "the technician closed the "
					      "viewer");
	LL_FREE_AND_NULL(ll_viewer_clip_free, v->clip);
	LL_FREE_AND_NULL(ll_sysinfo_pane_free, v->info);
	/* an orderly end in progress finishes in the background */
	ll_viewer_files_free(v->files);
	ll_agent_session_free(v->sess);
	if (v->asking != NULL) {
		/* its answer finds no viewer to tell */
		g_cancellable_cancel(v->asking);
		g_clear_object(&v->asking);
	}
	g_free(v->mon_note);
	ll_chat_pane_free(v->chat);
	g_free(v);
}

void ll_viewer_open(struct ll_gui *g, struct ll_stream *stream,
		    const struct ll_api_pin *pin)
{
	static const struct ll_agent_session_cbs cbs = {
		.on_changed = on_changed,
		.on_rfb = on_rfb,
		.on_rfb_closed = on_rfb_closed,
		.on_ended = on_ended,
		.on_clipboard = on_clipboard,
	};
	struct ll_relay_opts o = { 0 };
	struct viewer *v = g_new0(struct viewer, 1);
	GtkWidget *box, *bar, *paned, *row;
	char *title;
	int r;

	v->g = g;
	o.url = g->conn.url;
	o.ca_file = g->conn.ca_file;
	o.ca_pem = g->conn.ca_pem;
	/* view and control in one question: the user sees both lines;
	 * only what the technician's group permits (the applet would
	 * refuse the rest unseen) */
	r = ll_agent_session_new(stream, &o, pin->session_id, pin->ticket,
				 (LL_CAP_VIEW | LL_CAP_CONTROL) &
					 ll_profile_caps(g->profile),
				 &cbs, v, &v->sess);
	if (r != 0) {
		ll_stream_free(stream);
		ll_main_window_status(g, "Cannot start the session.");
		g_free(v);
		return;
	}
	v->win = gtk_application_window_new(g->app);
	title = g_strdup_printf("%s Agent \u2013 Session %.8s",
				ll_ui_brand()->product, pin->session_id);
	gtk_window_set_title(GTK_WINDOW(v->win), title);
	g_free(title);
	gtk_window_set_default_size(GTK_WINDOW(v->win), 1024, 700);
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	gtk_container_set_border_width(GTK_CONTAINER(box), 8);

	bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	v->state = gtk_label_new("");
	gtk_widget_set_halign(v->state, GTK_ALIGN_START);
	atk_object_set_name(gtk_widget_get_accessible(v->state), "State");
	gtk_box_pack_start(GTK_BOX(bar), v->state, TRUE, TRUE, 0);
	v->end = gtk_button_new_with_mnemonic("_End session");
	gtk_style_context_add_class(gtk_widget_get_style_context(v->end),
				    "destructive-action");
	g_signal_connect(v->end, "clicked", G_CALLBACK(on_end), v);
	gtk_box_pack_end(GTK_BOX(bar), v->end, FALSE, FALSE, 0);
	v->req = gtk_button_new_with_mnemonic("_Request control");
	g_signal_connect(v->req, "clicked", G_CALLBACK(on_request), v);
	if (!(ll_profile_caps(g->profile) & LL_CAP_CONTROL)) {
		gtk_widget_set_tooltip_text(v->req, LL_GUI_NOT_PERMITTED);
		ll_info("session %.8s: Request control greyed out: %s",
			pin->session_id, LL_GUI_NOT_PERMITTED);
	}
	gtk_box_pack_end(GTK_BOX(bar), v->req, FALSE, FALSE, 0);
	v->monitor = gtk_combo_box_text_new();
	atk_object_set_name(gtk_widget_get_accessible(v->monitor), "Monitor");
	gtk_widget_set_tooltip_text(v->monitor, "Which of the user's monitors "
						"to show (the list comes once "
						"viewing is allowed)");
	gtk_widget_set_sensitive(v->monitor, FALSE);
	g_signal_connect(v->monitor, "changed", G_CALLBACK(on_monitor), v);
	gtk_box_pack_end(GTK_BOX(bar), v->monitor, FALSE, FALSE, 0);
	v->fit = gtk_toggle_button_new_with_mnemonic("Sc_ale to fit");
	gtk_widget_set_tooltip_text(v->fit, "Off: one remote pixel per "
					    "screen pixel (1:1)");
	gtk_box_pack_end(GTK_BOX(bar), v->fit, FALSE, FALSE, 0);
	v->files = ll_viewer_files_new(GTK_WINDOW(v->win), v->sess,
				       ll_profile_caps(g->profile), bar, box);
	gtk_box_pack_start(GTK_BOX(box), bar, FALSE, FALSE, 0);
	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);

	/* a user picked up from the queue has no PIN to read out */
	v->pin_panel = pin->pin != NULL
			       ? ll_pin_panel_new(pin->pin,
						  pin->expires_at_unix)
			       : gtk_label_new("You picked this user up from "
					       "the queue. Waiting for their "
					       "applet to connect\u2026");
	gtk_box_pack_start(GTK_BOX(box), v->pin_panel, FALSE, FALSE, 12);

	v->display = vnc_display_new();
	atk_object_set_name(gtk_widget_get_accessible(v->display),
			    "Remote screen");
	/* gtk-vnc's own first list: JPEG only as VIEWER_JPEG says. */
	vnc_display_set_lossy_encoding(VNC_DISPLAY(v->display), VIEWER_JPEG);
	vnc_display_set_read_only(VNC_DISPLAY(v->display), TRUE);
	g_signal_connect(vnc_display_get_connection(VNC_DISPLAY(v->display)),
			 "vnc-initialized", G_CALLBACK(on_initialized), v);
	g_signal_connect(v->display, "vnc-disconnected",
			 G_CALLBACK(on_vnc_disconnected), v);
	g_signal_connect(v->display, "vnc-desktop-resize",
			 G_CALLBACK(on_desktop_resize), v);
	v->scroll = gtk_scrolled_window_new(NULL, NULL);
	gtk_container_add(GTK_CONTAINER(v->scroll), v->display);
	gtk_box_pack_start(GTK_BOX(row), v->scroll, TRUE, TRUE, 0);
	/* the screen (and the system information pane), and the chat
	 * beside them */
	paned = gtk_paned_new(GTK_ORIENTATION_HORIZONTAL);
	gtk_paned_pack1(GTK_PANED(paned), row, TRUE, FALSE);
	v->chat = ll_chat_pane_new(v->sess, ll_profile_caps(g->profile));
	gtk_paned_pack2(GTK_PANED(paned), ll_chat_pane_widget(v->chat), FALSE,
			FALSE);
	gtk_box_pack_start(GTK_BOX(box), paned, TRUE, TRUE, 0);
	v->clip = ll_viewer_clip_new(v->sess, ll_profile_caps(g->profile),
				     GTK_BOX(bar));
	v->info = ll_sysinfo_pane_new(v->sess, ll_profile_caps(g->profile),
				      GTK_BOX(bar), GTK_BOX(row));
	g_signal_connect(v->fit, "toggled", G_CALLBACK(on_fit), v);
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(v->fit), TRUE);

	gtk_container_add(GTK_CONTAINER(v->win), box);
	g_signal_connect(v->win, "delete-event", G_CALLBACK(on_delete), v);
	g_signal_connect(v->win, "destroy", G_CALLBACK(on_destroy), v);
	v->live = true;
	g->live_sessions++;
	gtk_widget_show_all(v->win);
	update(v);
}
