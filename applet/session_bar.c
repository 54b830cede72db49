/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "PRODUCT – Session": visible for the whole session, above other
 * windows, on every workspace.  Who is connected (as the relay verified
 * it), what they may do right now, _Stop control and _End session.
 * Closing the bar ends the session: a session nobody can see must not go
 * on.
 */
#include <gtk/gtk.h>

#include "ll_control.h"
#include "applet.h"

struct ll_session_bar {
	struct ll_applet *a;
	GtkWidget *win;
	GtkWidget *may;
	GtkWidget *status;
	GtkWidget *sharing;
	GtkWidget *stop;
	void (*on_stop_control)(void *user);
	void (*on_end)(void *user);
	void *user;
	bool freeing;
};

static void on_stop(GtkButton *b, gpointer data)
{
	struct ll_session_bar *bar = data;

	bar->on_stop_control(bar->user);
}

static void on_end_clicked(GtkButton *b, gpointer data)
{
	struct ll_session_bar *bar = data;

	bar->on_end(bar->user);
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

/* Top right of the primary monitor's work area, out of the way. */
static void place(struct ll_session_bar *bar)
{
	GdkDisplay *dpy = gtk_widget_get_display(bar->win);
	GdkMonitor *mon = gdk_display_get_primary_monitor(dpy);
	GdkRectangle wa;
	int w, h;

	if (mon == NULL)
		mon = gdk_display_get_monitor(dpy, 0);
	if (mon == NULL)
		return;
	gdk_monitor_get_workarea(mon, &wa);
	gtk_window_get_size(GTK_WINDOW(bar->win), &w, &h);
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
	GtkWidget *box, *who, *buttons, *end;
	char *title = ll_applet_title("Session");
	char *markup;

	bar->a = a;
	bar->on_stop_control = on_stop_control;
	bar->on_end = on_end;
	bar->user = user;

	bar->win = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(bar->win), title);
	g_free(title);
	gtk_window_set_keep_above(GTK_WINDOW(bar->win), TRUE);
	gtk_window_stick(GTK_WINDOW(bar->win));
	gtk_window_set_resizable(GTK_WINDOW(bar->win), FALSE);
	gtk_window_set_type_hint(GTK_WINDOW(bar->win),
				 GDK_WINDOW_TYPE_HINT_UTILITY);
	ll_applet_track_window(a, GTK_WINDOW(bar->win));

	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	gtk_container_set_border_width(GTK_CONTAINER(box), 12);

	markup = g_markup_printf_escaped("Connected to <b>%s</b> of <b>%s</b>",
					 name != NULL ? name : "(unknown)",
					 org != NULL ? org : "(unknown)");
	who = gtk_label_new(NULL);
	gtk_label_set_markup(GTK_LABEL(who), markup);
	g_free(markup);
	gtk_label_set_xalign(GTK_LABEL(who), 0);
	gtk_label_set_line_wrap(GTK_LABEL(who), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(who), 46);

	bar->may = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(bar->may), 0);
	gtk_label_set_line_wrap(GTK_LABEL(bar->may), TRUE);
	/* A fixed width: the bar must not grow off the screen edge when
	 * its text changes. */
	gtk_label_set_width_chars(GTK_LABEL(bar->may), 46);
	gtk_label_set_max_width_chars(GTK_LABEL(bar->may), 46);
	atk_object_set_name(gtk_widget_get_accessible(bar->may),
			    "Allowed now");

	bar->status = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(bar->status), 0);
	gtk_label_set_line_wrap(GTK_LABEL(bar->status), TRUE);
	gtk_label_set_width_chars(GTK_LABEL(bar->status), 46);
	gtk_label_set_max_width_chars(GTK_LABEL(bar->status), 46);
	atk_object_set_name(gtk_widget_get_accessible(bar->status), "Status");

	/* Which monitor the technician sees: shown while anything is. */
	bar->sharing = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(bar->sharing), 0);
	gtk_label_set_line_wrap(GTK_LABEL(bar->sharing), TRUE);
	gtk_label_set_width_chars(GTK_LABEL(bar->sharing), 46);
	gtk_label_set_max_width_chars(GTK_LABEL(bar->sharing), 46);
	gtk_widget_set_no_show_all(bar->sharing, TRUE);
	atk_object_set_name(gtk_widget_get_accessible(bar->sharing),
			    "Shown to the technician");

	buttons = gtk_button_box_new(GTK_ORIENTATION_HORIZONTAL);
	gtk_button_box_set_layout(GTK_BUTTON_BOX(buttons), GTK_BUTTONBOX_END);
	gtk_box_set_spacing(GTK_BOX(buttons), 8);
	bar->stop = gtk_button_new_with_mnemonic("_Stop control");
	end = gtk_button_new_with_mnemonic("_End session");
	atk_object_set_name(gtk_widget_get_accessible(bar->stop),
			    "Stop control");
	atk_object_set_name(gtk_widget_get_accessible(end), "End session");
	gtk_container_add(GTK_CONTAINER(buttons), bar->stop);
	gtk_container_add(GTK_CONTAINER(buttons), end);

	gtk_box_pack_start(GTK_BOX(box), who, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), bar->may, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), bar->status, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), bar->sharing, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), buttons, FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(bar->win), box);

	g_signal_connect(bar->stop, "clicked", G_CALLBACK(on_stop), bar);
	g_signal_connect(end, "clicked", G_CALLBACK(on_end_clicked), bar);
	g_signal_connect(bar->win, "delete-event", G_CALLBACK(on_delete), bar);
	g_signal_connect(bar->win, "destroy", G_CALLBACK(on_destroy), bar);

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
	caps = ll_applet_caps_sentence(granted, "Nothing yet");
	t = g_strdup_printf("Allowed now: %s", caps);
	gtk_label_set_text(GTK_LABEL(bar->may), t);
	g_free(t);
	g_free(caps);
	if (status != NULL)
		gtk_label_set_text(GTK_LABEL(bar->status), status);
	gtk_widget_set_sensitive(bar->stop, (granted & LL_CAP_CONTROL) != 0);
}

void ll_session_bar_set_sharing(struct ll_session_bar *bar, const char *text)
{
	if (bar == NULL || bar->win == NULL)
		return;
	gtk_label_set_text(GTK_LABEL(bar->sharing), text != NULL ? text : "");
	gtk_widget_set_visible(bar->sharing, text != NULL);
}

void ll_session_bar_free(struct ll_session_bar *bar)
{
	if (bar == NULL)
		return;
	bar->freeing = true;
	if (bar->win != NULL)
		gtk_widget_destroy(bar->win);
	g_free(bar);
}
