/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "PRODUCT – Session": visible for the whole session, above other
 * windows, on every workspace.  Who is connected (as the relay verified
 * it, with the technician's initial), what they may do right now,
 * _Chat (while chat is granted), Send a _file… (while files are), _Stop
 * control and _End session.
 * Closing the bar ends the session: a session nobody can see must not go
 * on.  While anything is granted it cannot be made to disappear: kept
 * above, listed in the taskbar, brought back when minimised; and while
 * the screen is shared a frame (share_frame.c) marks the monitor(s) the
 * technician sees.
 */
#include <gtk/gtk.h>

#include "ll_control.h"
#include "ll_ui.h"
#include "ll_util.h"
#include "applet.h"

/* The layout: the template session_bar.ui, under the brand's header. */
#define LL_TYPE_APPLET_SESSION_BAR (ll_applet_session_bar_get_type())
G_DECLARE_FINAL_TYPE(LlAppletSessionBar, ll_applet_session_bar, LL,
		     APPLET_SESSION_BAR, GtkWindow)

struct _LlAppletSessionBar {
	GtkWindow parent;
	GtkWidget *avatar;
	GtkWidget *who;
	GtkWidget *may;
	GtkWidget *status;
	GtkWidget *sharing;
	GtkWidget *stop;
	GtkWidget *chat;
	GtkWidget *send;
	GtkWidget *end;
};

G_DEFINE_TYPE(LlAppletSessionBar, ll_applet_session_bar, GTK_TYPE_WINDOW)

static void ll_applet_session_bar_class_init(LlAppletSessionBarClass *k)
{
	GtkWidgetClass *wk = GTK_WIDGET_CLASS(k);

	g_type_ensure(LL_TYPE_BRAND_HEADER);
	gtk_widget_class_set_template_from_resource(
		wk, "/org/lifeline/applet/session_bar.ui");
	gtk_widget_class_bind_template_child(wk, LlAppletSessionBar, avatar);
	gtk_widget_class_bind_template_child(wk, LlAppletSessionBar, who);
	gtk_widget_class_bind_template_child(wk, LlAppletSessionBar, may);
	gtk_widget_class_bind_template_child(wk, LlAppletSessionBar, status);
	gtk_widget_class_bind_template_child(wk, LlAppletSessionBar, sharing);
	gtk_widget_class_bind_template_child(wk, LlAppletSessionBar, stop);
	gtk_widget_class_bind_template_child(wk, LlAppletSessionBar, chat);
	gtk_widget_class_bind_template_child(wk, LlAppletSessionBar, send);
	gtk_widget_class_bind_template_child(wk, LlAppletSessionBar, end);
}

static void ll_applet_session_bar_init(LlAppletSessionBar *w)
{
	gtk_widget_init_template(GTK_WIDGET(w));
}

struct ll_session_bar {
	struct ll_applet *a;
	GtkWidget *win;
	GtkWidget *may;
	GtkWidget *status;
	GtkWidget *sharing;
	GtkWidget *stop;
	GtkWidget *chat;
	void (*on_chat)(void *user);
	GtkWidget *send;
	void (*on_send)(void *user);
	GtkWidget *stop_clip; /* NULL until added */
	void (*on_stop_clip)(void *user);
	void *clip_user;
	void (*on_stop_control)(void *user);
	void (*on_end)(void *user);
	void *user;
	bool freeing;
	uint32_t granted;
	struct ll_share_frame *frame; /* while the screen is shared */
	struct ll_tray *tray;         /* NULL without a tray library */
	guint restore_id;             /* an idle that brings the bar back */
	GdkRectangle stop_at;         /* Stop control's last logged place */
};

/*
 * Where Stop control sits in the bar's window, logged each time it moves
 * (not on every layout: the bar is laid out again whenever a label
 * changes): the GUI test of the held-keys attack must click it with the
 * mouse (a key of the user's would end X's auto-repeat of the
 * technician's held key), and the bar's other buttons come and go with
 * the grants.
 */
static void on_stop_allocate(GtkWidget *w, GdkRectangle *a, gpointer data)
{
	struct ll_session_bar *bar = data;

	(void)w;
	if (gdk_rectangle_equal(&bar->stop_at, a))
		return;
	bar->stop_at = *a;
	ll_info("session bar: Stop control at %d,%d size %dx%d", a->x, a->y,
		a->width, a->height);
}

static void on_stop(GtkButton *b, gpointer data)
{
	struct ll_session_bar *bar = data;

	bar->on_stop_control(bar->user);
}

static void on_chat_clicked(GtkButton *b, gpointer data)
{
	struct ll_session_bar *bar = data;

	if (bar->on_chat != NULL)
		bar->on_chat(bar->user);
}

void ll_session_bar_set_chat(struct ll_session_bar *bar,
			     void (*on_chat)(void *user))
{
	if (bar == NULL || bar->win == NULL)
		return;
	bar->on_chat = on_chat;
	gtk_widget_set_visible(bar->chat, on_chat != NULL);
}

static void on_send_clicked(GtkButton *b, gpointer data)
{
	struct ll_session_bar *bar = data;

	if (bar->on_send != NULL && (bar->granted & LL_CAP_FILES))
		bar->on_send(bar->user);
}

void ll_session_bar_set_send(struct ll_session_bar *bar,
			     void (*on_send)(void *user))
{
	if (bar == NULL || bar->win == NULL)
		return;
	bar->on_send = on_send;
}

static void place(struct ll_session_bar *bar);

/*
 * Send a file… is there only while `files` is granted: a button that
 * could only say "not allowed" would ask the user to allow it.  Logged
 * when it comes and goes (the GUI tests wait for it).
 */
static void show_send(struct ll_session_bar *bar)
{
	bool on = bar->on_send != NULL && (bar->granted & LL_CAP_FILES);

	if (gtk_widget_get_visible(bar->send) == on)
		return;
	gtk_widget_set_visible(bar->send, on);
	ll_info("session bar: Send a file %s", on ? "shown" : "hidden");
	place(bar);
}

static void on_end_clicked(GtkButton *b, gpointer data)
{
	struct ll_session_bar *bar = data;

	bar->on_end(bar->user);
}

static void on_tray_stop(void *data)
{
	struct ll_session_bar *bar = data;

	bar->on_stop_control(bar->user);
}

static void on_tray_end(void *data)
{
	struct ll_session_bar *bar = data;

	bar->on_end(bar->user);
}

static void on_tray_show(void *data)
{
	ll_session_bar_present(data);
}

static gboolean on_delete(GtkWidget *w, GdkEvent *ev, gpointer data)
{
	struct ll_session_bar *bar = data;

	bar->on_end(bar->user);
	return TRUE; /* the session frees the bar */
}

static void on_destroy(GtkWidget *w, gpointer data)
{
	struct ll_session_bar *bar = data;

	bar->win = NULL;
}

/* Whether the bar must stay in sight: something is granted or shown. */
static bool must_show(const struct ll_session_bar *bar)
{
	return bar->granted != 0 || bar->frame != NULL;
}

static gboolean restore(gpointer data)
{
	struct ll_session_bar *bar = data;

	bar->restore_id = 0;
	if (bar->win == NULL || !must_show(bar))
		return G_SOURCE_REMOVE;
	gtk_window_deiconify(GTK_WINDOW(bar->win));
	gtk_window_set_keep_above(GTK_WINDOW(bar->win), TRUE);
	gtk_window_present(GTK_WINDOW(bar->win));
	ll_share_frame_raise(bar->frame);
	return G_SOURCE_REMOVE;
}

/*
 * Minimised, or no longer above, while something is granted: back it
 * comes (from an idle: not inside the window manager's own change).  The
 * person ends what they granted with the bar's buttons, not by hiding
 * it.
 */
static gboolean on_window_state(GtkWidget *w, GdkEventWindowState *ev,
				gpointer data)
{
	struct ll_session_bar *bar = data;
	bool hidden = (ev->new_window_state & GDK_WINDOW_STATE_ICONIFIED) != 0;
	bool below = (ev->changed_mask & GDK_WINDOW_STATE_ABOVE) != 0 &&
		     !(ev->new_window_state & GDK_WINDOW_STATE_ABOVE);

	if (!must_show(bar) || (!hidden && !below) || bar->restore_id != 0)
		return FALSE;
	ll_info("session bar: %s while something is shared; shown again",
		hidden ? "minimised" : "no longer above other windows");
	bar->restore_id = g_idle_add(restore, bar);
	return FALSE;
}

/* Top right of the primary monitor's work area, out of the way. */
static void place(struct ll_session_bar *bar)
{
	GdkDisplay *dpy = gtk_widget_get_display(bar->win);
	GdkMonitor *mon = gdk_display_get_primary_monitor(dpy);
	GdkRectangle wa;
	int w, h, nat = 0;

	if (mon == NULL)
		mon = gdk_display_get_monitor(dpy, 0);
	if (mon == NULL)
		return;
	gdk_monitor_get_workarea(mon, &wa);
	gtk_window_get_size(GTK_WINDOW(bar->win), &w, &h);
	/* Not resizable: it takes its natural width (which a button shown
	 * later makes wider) before its size says so. */
	gtk_widget_get_preferred_width(bar->win, NULL, &nat);
	w = MAX(w, nat);
	gtk_window_move(GTK_WINDOW(bar->win), wa.x + wa.width - w - 16,
			wa.y + 16);
}

struct ll_session_bar *ll_session_bar_new(struct ll_applet *a,
					  const char *name, const char *org,
					  void (*on_stop_control)(void *user),
					  void (*on_end)(void *user),
					  void *user)
{
	struct ll_session_bar *bar = g_new0(struct ll_session_bar, 1);
	struct ll_brand_vars v;
	LlAppletSessionBar *t;
	char *title = ll_applet_title("Session");
	char *markup;

	bar->a = a;
	bar->on_stop_control = on_stop_control;
	bar->on_end = on_end;
	bar->user = user;

	t = g_object_new(LL_TYPE_APPLET_SESSION_BAR, NULL);
	bar->win = GTK_WIDGET(t);
	gtk_window_set_title(GTK_WINDOW(bar->win), title);
	g_free(title);
	gtk_window_set_keep_above(GTK_WINDOW(bar->win), TRUE);
	gtk_window_stick(GTK_WINDOW(bar->win));
	gtk_window_set_resizable(GTK_WINDOW(bar->win), FALSE);
	/* A normal window, in the taskbar and the window switcher: panels
	 * leave utility windows out, and the bar must not be out of sight. */
	gtk_window_set_type_hint(GTK_WINDOW(bar->win),
				 GDK_WINDOW_TYPE_HINT_NORMAL);
	gtk_window_set_skip_taskbar_hint(GTK_WINDOW(bar->win), FALSE);
	gtk_window_set_skip_pager_hint(GTK_WINDOW(bar->win), FALSE);
	ll_applet_track_window(a, GTK_WINDOW(bar->win));

	/* Who is connected, as the relay verified it, in bold. */
	ll_applet_who(name, org, false, &v.technician, &v.technician_org);
	ll_applet_avatar_fill(t->avatar, name, org);
	markup = ll_brand_format(ll_ui_brand(), LL_BRAND_SESSION_BAR_INTRO, &v,
				 true);
	gtk_label_set_markup(GTK_LABEL(t->who), markup);
	g_free(markup);
	markup = ll_brand_format(ll_ui_brand(), LL_BRAND_SESSION_BAR_INTRO, &v,
				 false);
	ll_info("session bar: %s", markup);
	g_free(markup);
	bar->may = t->may;
	bar->status = t->status;
	bar->sharing = t->sharing;
	bar->stop = t->stop;
	bar->chat = t->chat;
	bar->send = t->send;

	g_signal_connect(bar->stop, "clicked", G_CALLBACK(on_stop), bar);
	g_signal_connect(bar->stop, "size-allocate",
			 G_CALLBACK(on_stop_allocate), bar);
	g_signal_connect(t->end, "clicked", G_CALLBACK(on_end_clicked), bar);
	g_signal_connect(bar->chat, "clicked", G_CALLBACK(on_chat_clicked),
			 bar);
	g_signal_connect(bar->send, "clicked", G_CALLBACK(on_send_clicked),
			 bar);
	g_signal_connect(bar->win, "delete-event", G_CALLBACK(on_delete), bar);
	g_signal_connect(bar->win, "destroy", G_CALLBACK(on_destroy), bar);
	g_signal_connect(bar->win, "window-state-event",
			 G_CALLBACK(on_window_state), bar);
	ll_applet_set_session_bar(a, bar);
	bar->tray = ll_tray_new(gtk_window_get_title(GTK_WINDOW(bar->win)),
				on_tray_stop, on_tray_end, on_tray_show, bar);

	ll_session_bar_update(bar, 0, "Waiting for the technician\u2026");
	gtk_widget_show_all(bar->win);
	place(bar);
	return bar;
}

void ll_session_bar_update(struct ll_session_bar *bar, uint32_t granted,
			   const char *status)
{
	char *caps, *t;

	if (bar == NULL || bar->win == NULL)
		return;
	bar->granted = granted;
	caps = ll_applet_caps_sentence(granted, "Nothing yet");
	t = g_strdup_printf("Allowed now: %s", caps);
	gtk_label_set_text(GTK_LABEL(bar->may), t);
	g_free(t);
	g_free(caps);
	if (status != NULL)
		gtk_label_set_text(GTK_LABEL(bar->status), status);
	gtk_widget_set_sensitive(bar->stop, (granted & LL_CAP_CONTROL) != 0);
	gtk_widget_set_sensitive(bar->chat, (granted & LL_CAP_CHAT) != 0);
	show_send(bar);
	ll_tray_set_control(bar->tray, (granted & LL_CAP_CONTROL) != 0);
}

static void on_stop_clip_clicked(GtkButton *b, gpointer data)
{
	struct ll_session_bar *bar = data;

	(void)b;
	bar->on_stop_clip(bar->clip_user);
}

void ll_session_bar_add_clipboard(struct ll_session_bar *bar,
				  void (*stop)(void *user), void *user)
{
	GtkWidget *b;

	if (bar == NULL || bar->win == NULL || bar->stop_clip != NULL)
		return;
	bar->on_stop_clip = stop;
	bar->clip_user = user;
	/* Beside Stop control, in the same button box. */
	b = gtk_button_new_with_mnemonic("Stop c_lipboard");
	atk_object_set_name(gtk_widget_get_accessible(b), "Stop clipboard");
	gtk_widget_set_no_show_all(b, TRUE);
	gtk_box_pack_start(GTK_BOX(gtk_widget_get_parent(bar->stop)), b, FALSE,
			   FALSE, 0);
	gtk_box_reorder_child(GTK_BOX(gtk_widget_get_parent(bar->stop)), b, 0);
	g_signal_connect(b, "clicked", G_CALLBACK(on_stop_clip_clicked), bar);
	bar->stop_clip = b;
}

void ll_session_bar_set_clipboard(struct ll_session_bar *bar, bool on)
{
	if (bar == NULL || bar->win == NULL || bar->stop_clip == NULL)
		return;
	if (gtk_widget_get_visible(bar->stop_clip) == on)
		return;
	gtk_widget_set_visible(bar->stop_clip, on);
	place(bar);
}

void ll_session_bar_set_sharing(struct ll_session_bar *bar, const char *text,
				const GdkRectangle *area)
{
	if (bar == NULL || bar->win == NULL)
		return;
	gtk_label_set_text(GTK_LABEL(bar->sharing), text != NULL ? text : "");
	gtk_widget_set_visible(bar->sharing, text != NULL);
	/* Anew each time: the technician may have switched monitors. */
	LL_FREE_AND_NULL(ll_share_frame_free, bar->frame);
	if (text != NULL)
		bar->frame = ll_share_frame_new(gtk_widget_get_display(
							bar->win),
						area);
}

void ll_session_bar_notice(struct ll_session_bar *bar, const char *text)
{
	if (bar == NULL || bar->win == NULL)
		return;
	gtk_label_set_text(GTK_LABEL(bar->status), text);
	ll_info("session bar says: %s", text);
}

void ll_session_bar_present(struct ll_session_bar *bar)
{
	if (bar == NULL || bar->win == NULL)
		return;
	gtk_window_present(GTK_WINDOW(bar->win));
	ll_share_frame_raise(bar->frame);
}

void ll_session_bar_free(struct ll_session_bar *bar)
{
	if (bar == NULL)
		return;
	bar->freeing = true;
	ll_applet_set_session_bar(bar->a, NULL);
	if (bar->restore_id != 0)
		g_source_remove(bar->restore_id);
	/* Gone the moment the session is: nothing is shared any more. */
	LL_FREE_AND_NULL(ll_share_frame_free, bar->frame);
	LL_FREE_AND_NULL(ll_tray_free, bar->tray);
	if (bar->win != NULL)
		gtk_widget_destroy(bar->win);
	g_free(bar);
}
