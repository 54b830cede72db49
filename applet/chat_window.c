/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "PRODUCT – Chat" (docs/API.md section 8): the session's chat as the
 * person at the screen sees it, each line with its time and who wrote
 * it, and a line to write back.  Opened by the technician's first line
 * or the session bar's _Chat button, once `chat` is granted; closing it
 * (or Escape) only hides it (the lines stay with the session).  What is shown was
 * sanitised by ll_chat.h; what is written goes to the session
 * (session_chat.c), which checks the grant again.
 */
#include <string.h>

#include <gtk/gtk.h>

#include "ll_chat.h"
#include "ll_util.h"
#include "applet.h"

struct ll_chat_window {
	GtkWidget *win;
	GtkWidget *view;
	GtkWidget *entry;
	GtkWidget *send;
	GtkWidget *note;
	GtkTextBuffer *buf;
	char *technician; /* the name the lines of the technician carry */
	void (*on_send)(const char *text, void *user);
	void *user;
};

static void send_entry(struct ll_chat_window *w)
{
	const char *text = gtk_entry_get_text(GTK_ENTRY(w->entry));
	char *copy;

	if (text[0] == '\0')
		return;
	if (strlen(text) > LL_CONTROL_MAX_CHAT) {
		ll_chat_window_note(w, "That is too long to send; please "
				       "make it shorter.");
		return;
	}
	copy = g_strdup(text);
	gtk_entry_set_text(GTK_ENTRY(w->entry), "");
	w->on_send(copy, w->user);
	g_free(copy);
}

static void on_activate(GtkEntry *e, gpointer data)
{
	send_entry(data);
}

static void on_send_clicked(GtkButton *b, gpointer data)
{
	send_entry(data);
}

static gboolean on_delete(GtkWidget *widget, GdkEvent *ev, gpointer data)
{
	/* hidden, not gone: the session bar's _Chat shows it again */
	gtk_widget_hide(widget);
	return TRUE;
}

/* Escape puts it away, as closing does. */
static gboolean on_key(GtkWidget *widget, GdkEventKey *ev, gpointer data)
{
	if (ev->keyval != GDK_KEY_Escape)
		return FALSE;
	gtk_widget_hide(widget);
	return TRUE;
}

static void on_destroy(GtkWidget *widget, gpointer data)
{
	struct ll_chat_window *w = data;

	w->win = NULL;
}

struct ll_chat_window *ll_chat_window_new(
	struct ll_applet *a, const char *technician,
	void (*on_send)(const char *text, void *user), void *user)
{
	struct ll_chat_window *w = g_new0(struct ll_chat_window, 1);
	GtkWidget *box, *row, *scroll;
	char *title = ll_applet_title("Chat");

	w->technician = g_strdup(technician);
	w->on_send = on_send;
	w->user = user;
	w->win = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(w->win), title);
	g_free(title);
	gtk_window_set_default_size(GTK_WINDOW(w->win), 440, 340);
	/* the input gate knows it: the technician's input never writes
	 * here in the user's name */
	ll_applet_track_window(a, GTK_WINDOW(w->win));

	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	gtk_container_set_border_width(GTK_CONTAINER(box), 10);
	scroll = gtk_scrolled_window_new(NULL, NULL);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll),
				       GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
	gtk_widget_set_vexpand(scroll, TRUE);
	w->view = gtk_text_view_new();
	gtk_text_view_set_editable(GTK_TEXT_VIEW(w->view), FALSE);
	gtk_text_view_set_cursor_visible(GTK_TEXT_VIEW(w->view), FALSE);
	gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(w->view),
				    GTK_WRAP_WORD_CHAR);
	w->buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(w->view));
	gtk_text_buffer_create_tag(w->buf, "who", "weight", PANGO_WEIGHT_BOLD,
				   NULL);
	gtk_text_buffer_create_tag(w->buf, "time", "foreground", "#666666",
				   NULL);
	gtk_container_add(GTK_CONTAINER(scroll), w->view);
	gtk_box_pack_start(GTK_BOX(box), scroll, TRUE, TRUE, 0);

	w->note = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(w->note), 0);
	gtk_label_set_line_wrap(GTK_LABEL(w->note), TRUE);
	gtk_widget_set_no_show_all(w->note, TRUE);
	gtk_box_pack_start(GTK_BOX(box), w->note, FALSE, FALSE, 0);

	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	w->entry = gtk_entry_new();
	gtk_entry_set_placeholder_text(GTK_ENTRY(w->entry),
				       "Write to the technician");
	gtk_widget_set_hexpand(w->entry, TRUE);
	w->send = gtk_button_new_with_mnemonic("_Send");
	gtk_box_pack_start(GTK_BOX(row), w->entry, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(row), w->send, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), row, FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(w->win), box);

	g_signal_connect(w->entry, "activate", G_CALLBACK(on_activate), w);
	g_signal_connect(w->send, "clicked", G_CALLBACK(on_send_clicked), w);
	g_signal_connect(w->win, "delete-event", G_CALLBACK(on_delete), w);
	g_signal_connect(w->win, "destroy", G_CALLBACK(on_destroy), w);
	g_signal_connect(w->win, "key-press-event", G_CALLBACK(on_key), NULL);
	gtk_widget_show_all(w->win);
	gtk_widget_grab_focus(w->entry);
	return w;
}

void ll_chat_window_add(struct ll_chat_window *w,
			const struct ll_chat_line *line)
{
	GtkTextIter end;
	char stamp[16] = "";
	GDateTime *t;
	const char *who;

	if (w == NULL || w->win == NULL)
		return;
	t = g_date_time_new_from_unix_local(line->time_ms / 1000);
	if (t != NULL) {
		g_snprintf(stamp, sizeof(stamp), "%02d:%02d ",
			   g_date_time_get_hour(t), g_date_time_get_minute(t));
		g_date_time_unref(t);
	}
	who = line->from == LL_CHAT_USER ? "You"
	      : w->technician != NULL    ? w->technician
					 : "Technician";
	gtk_text_buffer_get_end_iter(w->buf, &end);
	if (gtk_text_buffer_get_char_count(w->buf) > 0)
		gtk_text_buffer_insert(w->buf, &end, "\n", 1);
	gtk_text_buffer_insert_with_tags_by_name(w->buf, &end, stamp, -1,
						 "time", NULL);
	gtk_text_buffer_insert_with_tags_by_name(w->buf, &end, who, -1, "who",
						 NULL);
	gtk_text_buffer_insert(w->buf, &end, ": ", 2);
	gtk_text_buffer_insert(w->buf, &end, line->text, -1);
	gtk_text_buffer_get_end_iter(w->buf, &end);
	gtk_text_buffer_place_cursor(w->buf, &end);
	gtk_text_view_scroll_to_mark(GTK_TEXT_VIEW(w->view),
				     gtk_text_buffer_get_insert(w->buf), 0,
				     FALSE, 0, 0);
}

void ll_chat_window_note(struct ll_chat_window *w, const char *text)
{
	if (w == NULL || w->win == NULL)
		return;
	gtk_label_set_text(GTK_LABEL(w->note), text != NULL ? text : "");
	gtk_widget_set_visible(w->note, text != NULL);
	if (text != NULL)
		ll_info("chat window says: %s", text);
}

void ll_chat_window_set_writable(struct ll_chat_window *w, bool writable)
{
	if (w == NULL || w->win == NULL)
		return;
	gtk_widget_set_sensitive(w->entry, writable);
	gtk_widget_set_sensitive(w->send, writable);
}

void ll_chat_window_present(struct ll_chat_window *w)
{
	if (w == NULL || w->win == NULL)
		return;
	gtk_window_set_urgency_hint(GTK_WINDOW(w->win), FALSE);
	gtk_window_present(GTK_WINDOW(w->win));
	gtk_widget_grab_focus(w->entry);
}

void ll_chat_window_reveal(struct ll_chat_window *w)
{
	if (w == NULL || w->win == NULL)
		return;
	if (!gtk_widget_get_visible(w->win)) {
		ll_chat_window_present(w);
		return;
	}
	/* in sight already: no focus taken from what the user (or, with
	 * control, the technician) is typing elsewhere */
	if (!gtk_window_is_active(GTK_WINDOW(w->win)))
		gtk_window_set_urgency_hint(GTK_WINDOW(w->win), TRUE);
}

void ll_chat_window_free(struct ll_chat_window *w)
{
	if (w == NULL)
		return;
	if (w->win != NULL)
		gtk_widget_destroy(w->win);
	g_free(w->technician);
	g_free(w);
}
