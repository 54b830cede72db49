/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "PRODUCT – Waiting for a technician" (docs/API.md section 8): the
 * window of an applet started on a channel (a calling card).  The user
 * may say in a line what they need help with, asks for help, and then
 * sees that they wait: a spinner, their place in line and how long they
 * have waited, in plain words, and `_Cancel` to leave the queue.  The
 * layout is the template waiting_window.ui under the brand's header; the
 * flow behind it is channel.c.  Nothing here touches consent: once a
 * technician picks the user up, the permission window asks as always.
 */
#include <gtk/gtk.h>

#include "ll_ui.h"
#include "applet.h"

/* What the user may type: enough for a sentence or two. */
#define DESCRIPTION_MAX_CHARS 300

#define LL_TYPE_APPLET_WAITING_WINDOW (ll_applet_waiting_window_get_type())
G_DECLARE_FINAL_TYPE(LlAppletWaitingWindow, ll_applet_waiting_window, LL,
		     APPLET_WAITING_WINDOW, GtkWindow)

struct _LlAppletWaitingWindow {
	GtkWindow parent;
	GtkWidget *heading;
	GtkWidget *prompt;
	GtkWidget *entry;
	GtkWidget *spinner;
	GtkWidget *status;
	GtkWidget *note;
	GtkWidget *cancel;
	GtkWidget *ask;
};

G_DEFINE_TYPE(LlAppletWaitingWindow, ll_applet_waiting_window, GTK_TYPE_WINDOW)

static void ll_applet_waiting_window_class_init(LlAppletWaitingWindowClass *k)
{
	GtkWidgetClass *wk = GTK_WIDGET_CLASS(k);

	g_type_ensure(LL_TYPE_BRAND_HEADER);
	gtk_widget_class_set_template_from_resource(
		wk, "/org/lifeline/applet/waiting_window.ui");
	gtk_widget_class_bind_template_child(wk, LlAppletWaitingWindow,
					     heading);
	gtk_widget_class_bind_template_child(wk, LlAppletWaitingWindow,
					     prompt);
	gtk_widget_class_bind_template_child(wk, LlAppletWaitingWindow, entry);
	gtk_widget_class_bind_template_child(wk, LlAppletWaitingWindow,
					     spinner);
	gtk_widget_class_bind_template_child(wk, LlAppletWaitingWindow,
					     status);
	gtk_widget_class_bind_template_child(wk, LlAppletWaitingWindow, note);
	gtk_widget_class_bind_template_child(wk, LlAppletWaitingWindow,
					     cancel);
	gtk_widget_class_bind_template_child(wk, LlAppletWaitingWindow, ask);
}

static void ll_applet_waiting_window_init(LlAppletWaitingWindow *w)
{
	gtk_widget_init_template(GTK_WIDGET(w));
}

struct ll_waiting_window {
	LlAppletWaitingWindow *t;
	void (*on_ask)(const char *description, void *user);
	void (*on_cancel)(void *user);
	void *user;
	bool asked;
	bool freeing;
};

static void ask(struct ll_waiting_window *w)
{
	if (w->asked || !gtk_widget_get_sensitive(w->t->ask))
		return;
	w->asked = true;
	gtk_widget_set_sensitive(w->t->entry, FALSE);
	gtk_widget_hide(w->t->ask);
	ll_waiting_window_set_status(w, "Asking for a technician\u2026", true);
	gtk_widget_grab_focus(w->t->cancel);
	w->on_ask(gtk_entry_get_text(GTK_ENTRY(w->t->entry)), w->user);
}

static void on_entry_activate(GtkEntry *e, gpointer data)
{
	ask(data);
}

static void on_ask_clicked(GtkButton *b, gpointer data)
{
	ask(data);
}

static void on_cancel_clicked(GtkButton *b, gpointer data)
{
	struct ll_waiting_window *w = data;

	w->on_cancel(w->user);
}

/* Closing the window is Cancel; the flow decides when it goes. */
static gboolean on_delete(GtkWidget *win, GdkEvent *ev, gpointer data)
{
	struct ll_waiting_window *w = data;

	w->on_cancel(w->user);
	return TRUE;
}

struct ll_waiting_window *ll_waiting_window_new(
	struct ll_applet *a,
	void (*on_ask)(const char *description, void *user),
	void (*on_cancel)(void *user), void *user)
{
	struct ll_waiting_window *w = g_new0(struct ll_waiting_window, 1);
	const struct ll_brand *b = ll_ui_brand();
	char *title = ll_applet_title("Waiting for a technician");
	char *text;

	w->on_ask = on_ask;
	w->on_cancel = on_cancel;
	w->user = user;
	w->t = g_object_new(LL_TYPE_APPLET_WAITING_WINDOW, NULL);
	gtk_window_set_title(GTK_WINDOW(w->t), title);
	g_free(title);
	gtk_window_set_resizable(GTK_WINDOW(w->t), FALSE);
	gtk_window_set_position(GTK_WINDOW(w->t), GTK_WIN_POS_CENTER);
	ll_applet_track_window(a, GTK_WINDOW(w->t));

	text = g_strdup_printf("Get help from %s", b->org);
	gtk_label_set_text(GTK_LABEL(w->t->heading), text);
	g_free(text);
	text = ll_brand_format(b, LL_BRAND_PIN_NOTE, NULL, false);
	gtk_label_set_text(GTK_LABEL(w->t->note), text);
	g_free(text);
	gtk_entry_set_max_length(GTK_ENTRY(w->t->entry),
				 DESCRIPTION_MAX_CHARS);
	gtk_entry_set_width_chars(GTK_ENTRY(w->t->entry), 40);
	ll_waiting_window_set_status(
		w,
		"A technician will see your request and connect to you. "
		"Nothing is shared before you allow it.",
		false);

	g_signal_connect(w->t->entry, "activate",
			 G_CALLBACK(on_entry_activate), w);
	g_signal_connect(w->t->ask, "clicked", G_CALLBACK(on_ask_clicked), w);
	g_signal_connect(w->t->cancel, "clicked",
			 G_CALLBACK(on_cancel_clicked), w);
	g_signal_connect(w->t, "delete-event", G_CALLBACK(on_delete), w);
	gtk_widget_show(GTK_WIDGET(w->t));
	gtk_widget_grab_focus(w->t->entry);
	gtk_window_present(GTK_WINDOW(w->t));
	return w;
}

void ll_waiting_window_set_status(struct ll_waiting_window *w,
				  const char *status, bool busy)
{
	gtk_widget_set_visible(w->t->spinner, busy);
	if (busy)
		gtk_spinner_start(GTK_SPINNER(w->t->spinner));
	else
		gtk_spinner_stop(GTK_SPINNER(w->t->spinner));
	gtk_label_set_text(GTK_LABEL(w->t->status), status);
}

void ll_waiting_window_free(struct ll_waiting_window *w)
{
	if (w == NULL)
		return;
	w->freeing = true;
	gtk_widget_destroy(GTK_WIDGET(w->t));
	g_free(w);
}
