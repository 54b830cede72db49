/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The viewer's chat pane (docs/API.md, "Chat"): the session's lines as
 * the agent's session keeps them (ll_chat.h: sanitised, bounded), each
 * with its time and who wrote it, a line to write to the user (_Message,
 * _Send), and Request c_hat while the user has not allowed it.  Writing is possible
 * only while chat is granted; the applet enforces it again.
 */
#include <string.h>

#include <gtk/gtk.h>

#include "gui.h"
#include "ll_chat.h"
#include "ll_control.h"
#include "ll_err.h"
#include "ll_log.h"

struct ll_chat_pane {
	struct ll_agent_session *sess;
	uint32_t permitted; /* what the technician's group allows */
	GtkWidget *box, *view, *entry, *send, *ask, *note;
	GtkTextBuffer *buf;
	uint64_t shown_seq; /* the newest line in the view */
};

static void note(struct ll_chat_pane *p, const char *text)
{
	gtk_label_set_text(GTK_LABEL(p->note), text != NULL ? text : "");
	gtk_widget_set_visible(p->note, text != NULL);
}

static void on_send(GtkWidget *w, gpointer data)
{
	struct ll_chat_pane *p = data;
	const char *text = gtk_entry_get_text(GTK_ENTRY(p->entry));
	int r;

	(void)w;
	if (text[0] == '\0')
		return;
	r = ll_agent_session_chat_send(p->sess, text);
	if (r == LL_ERR_TOO_LARGE) {
		note(p, "Too long for one chat line (4096 bytes at most).");
		return;
	}
	if (r != 0) {
		note(p, r == LL_ERR_DISABLED ? "The user has not allowed chat."
					     : ll_strerror(r));
		return;
	}
	note(p, NULL);
	gtk_entry_set_text(GTK_ENTRY(p->entry), "");
	ll_chat_pane_update(p);
}

static void on_ask(GtkWidget *w, gpointer data)
{
	struct ll_chat_pane *p = data;
	int r;

	(void)w;
	if ((r = ll_agent_session_request(p->sess, LL_CAP_CHAT, NULL)) != 0)
		note(p, ll_strerror(r));
}

struct ll_chat_pane *ll_chat_pane_new(struct ll_agent_session *sess,
				      uint32_t permitted)
{
	struct ll_chat_pane *p = g_new0(struct ll_chat_pane, 1);
	GtkWidget *scroll, *row, *title, *label;

	p->sess = sess;
	p->permitted = permitted;
	p->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	gtk_widget_set_size_request(p->box, 260, -1);
	title = gtk_label_new("Chat");
	gtk_widget_set_halign(title, GTK_ALIGN_START);
	gtk_box_pack_start(GTK_BOX(p->box), title, FALSE, FALSE, 0);
	scroll = gtk_scrolled_window_new(NULL, NULL);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll),
				       GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
	p->view = gtk_text_view_new();
	atk_object_set_name(gtk_widget_get_accessible(p->view), "Chat");
	gtk_text_view_set_editable(GTK_TEXT_VIEW(p->view), FALSE);
	gtk_text_view_set_cursor_visible(GTK_TEXT_VIEW(p->view), FALSE);
	gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(p->view),
				    GTK_WRAP_WORD_CHAR);
	p->buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(p->view));
	gtk_text_buffer_create_tag(p->buf, "who", "weight", PANGO_WEIGHT_BOLD,
				   NULL);
	gtk_container_add(GTK_CONTAINER(scroll), p->view);
	gtk_box_pack_start(GTK_BOX(p->box), scroll, TRUE, TRUE, 0);
	p->note = gtk_label_new(NULL);
	gtk_label_set_line_wrap(GTK_LABEL(p->note), TRUE);
	gtk_widget_set_no_show_all(p->note, TRUE);
	gtk_box_pack_start(GTK_BOX(p->box), p->note, FALSE, FALSE, 0);
	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	p->entry = gtk_entry_new();
	label = gtk_label_new_with_mnemonic("_Message:");
	gtk_label_set_mnemonic_widget(GTK_LABEL(label), p->entry);
	gtk_box_pack_start(GTK_BOX(row), label, FALSE, FALSE, 0);
	atk_object_set_name(gtk_widget_get_accessible(p->entry),
			    "Chat message");
	gtk_entry_set_placeholder_text(GTK_ENTRY(p->entry),
				       "Write to the user");
	gtk_widget_set_hexpand(p->entry, TRUE);
	p->send = gtk_button_new_with_mnemonic("_Send");
	gtk_box_pack_start(GTK_BOX(row), p->entry, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(row), p->send, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(p->box), row, FALSE, FALSE, 0);
	p->ask = gtk_button_new_with_mnemonic("Request c_hat");
	if (!(permitted & LL_CAP_CHAT))
		gtk_widget_set_tooltip_text(p->ask, LL_GUI_NOT_PERMITTED);
	gtk_box_pack_start(GTK_BOX(p->box), p->ask, FALSE, FALSE, 0);
	g_signal_connect(p->entry, "activate", G_CALLBACK(on_send), p);
	g_signal_connect(p->send, "clicked", G_CALLBACK(on_send), p);
	g_signal_connect(p->ask, "clicked", G_CALLBACK(on_ask), p);
	return p;
}

GtkWidget *ll_chat_pane_widget(struct ll_chat_pane *p)
{
	return p->box;
}

static void append(struct ll_chat_pane *p, const struct ll_chat_line *l)
{
	GtkTextIter end;
	GDateTime *t = g_date_time_new_from_unix_local(l->time_ms / 1000);
	char *stamp = t != NULL ? g_date_time_format(t, "%H:%M ") : NULL;
	const char *who = l->from == LL_CHAT_USER ? "User" : "You";

	if (t != NULL)
		g_date_time_unref(t);
	gtk_text_buffer_get_end_iter(p->buf, &end);
	if (gtk_text_buffer_get_char_count(p->buf) > 0)
		gtk_text_buffer_insert(p->buf, &end, "\n", 1);
	if (stamp != NULL)
		gtk_text_buffer_insert(p->buf, &end, stamp, -1);
	gtk_text_buffer_insert_with_tags_by_name(p->buf, &end, who, -1, "who",
						 NULL);
	gtk_text_buffer_insert(p->buf, &end, ": ", 2);
	/* sanitised by ll_chat.h when it was kept */
	gtk_text_buffer_insert(p->buf, &end, l->text, -1);
	g_free(stamp);
}

void ll_chat_pane_update(struct ll_chat_pane *p)
{
	const struct ll_chat_log *log;
	const struct ll_chat_line *l;
	uint32_t caps;
	bool running, can;
	GtkTextIter end;
	size_t i, added = 0;

	if (p == NULL)
		return;
	caps = ll_agent_session_caps(p->sess);
	running = ll_agent_session_state(p->sess) != LL_AGENT_ENDED;
	can = running && (caps & LL_CAP_CHAT) != 0;
	log = ll_agent_session_chat(p->sess, NULL);
	for (i = 0; i < ll_chat_log_count(log); i++) {
		l = ll_chat_log_get(log, i);
		if (l->seq <= p->shown_seq)
			continue;
		append(p, l);
		p->shown_seq = l->seq;
		added++;
	}
	if (added > 0) {
		gtk_text_buffer_get_end_iter(p->buf, &end);
		gtk_text_buffer_place_cursor(p->buf, &end);
		gtk_text_view_scroll_to_mark(GTK_TEXT_VIEW(p->view),
					     gtk_text_buffer_get_insert(
						     p->buf),
					     0, FALSE, 0, 0);
		ll_info("session %.8s: chat pane shows %zu more line(s)",
			ll_agent_session_id(p->sess), added);
	}
	gtk_widget_set_sensitive(p->entry, can);
	gtk_widget_set_sensitive(p->send, can);
	gtk_widget_set_visible(p->ask, !can);
	gtk_widget_set_sensitive(
		p->ask, running && ll_agent_session_peer_joined(p->sess) &&
				!ll_agent_session_pending(p->sess) &&
				(p->permitted & LL_CAP_CHAT) != 0);
}

void ll_chat_pane_free(struct ll_chat_pane *p)
{
	g_free(p);
}
