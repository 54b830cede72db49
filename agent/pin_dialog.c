/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * New PIN: the relay call and the stream opening run in a GTask thread
 * (both block); then the session's window opens with the PIN panel: the
 * PIN large enough to read out over the phone, a copy button and a
 * countdown to its expiry.
 */
#include <string.h>

#include "gui.h"
#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_stream.h"
#include "ll_util.h"

struct pin_panel {
	GtkWidget *countdown;
	int64_t expires_at;
	guint timer;
	char *pin;
	GtkWidget *copied; /* "Copied" beside the button, for a moment */
	guint copied_timer;
};

static gboolean tick(gpointer data)
{
	struct pin_panel *p = data;
	int64_t left = p->expires_at - ll_now_unix();
	char *t;

	if (left <= 0) {
		gtk_label_set_text(GTK_LABEL(p->countdown),
				   "This PIN has expired.");
		p->timer = 0;
		return G_SOURCE_REMOVE;
	}
	t = g_strdup_printf("Valid for %d:%02d", (int)(left / 60),
			    (int)(left % 60));
	gtk_label_set_text(GTK_LABEL(p->countdown), t);
	g_free(t);
	return G_SOURCE_CONTINUE;
}

static void panel_gone(gpointer data, GObject *where)
{
	struct pin_panel *p = data;

	(void)where;
	g_clear_handle_id(&p->timer, g_source_remove);
	g_clear_handle_id(&p->copied_timer, g_source_remove);
	ll_secret_free(p->pin);
	g_free(p);
}

static gboolean copied_gone(gpointer data)
{
	struct pin_panel *p = data;

	gtk_label_set_text(GTK_LABEL(p->copied), "");
	p->copied_timer = 0;
	return G_SOURCE_REMOVE;
}

static void on_copy(GtkWidget *w, gpointer data)
{
	struct pin_panel *p = data;

	gtk_clipboard_set_text(
		gtk_widget_get_clipboard(w, GDK_SELECTION_CLIPBOARD), p->pin,
		-1);
	/* the feedback is read, then goes: a time on purpose */
	gtk_label_set_text(GTK_LABEL(p->copied), "Copied");
	g_clear_handle_id(&p->copied_timer, g_source_remove);
	p->copied_timer = g_timeout_add_seconds(3, copied_gone, p);
}

/* Groups of three (6, 9 digits) or four (8), else two halves. */
static char *pin_spaced(const char *pin, size_t n)
{
	size_t group = n % 3 == 0 ? 3 : n % 4 == 0 ? 4 : (n + 1) / 2;
	GString *s = g_string_sized_new(2 * n);
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0 && i % group == 0)
			g_string_append_c(s, ' ');
		g_string_append_c(s, pin[i]);
	}
	return g_string_free(s, FALSE);
}

GtkWidget *ll_pin_panel_new(const char *pin, int64_t expires_at_unix)
{
	struct pin_panel *p = g_new0(struct pin_panel, 1);
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	GtkWidget *hint, *label, *copy;
	char *markup, *spaced;
	size_t n = strlen(pin);

	p->pin = g_strdup(pin);
	p->expires_at = expires_at_unix;
	/* "123 456", "1234 5678": easier to read out */
	spaced = pin_spaced(pin, n);
	hint = gtk_label_new("Read this PIN to the person you help. They "
			     "enter it in the applet.");
	gtk_box_pack_start(GTK_BOX(box), hint, FALSE, FALSE, 0);
	label = gtk_label_new(NULL);
	markup = g_markup_printf_escaped("<span font_family='monospace' "
					 "size='400%%' weight='bold'>%s"
					 "</span>",
					 spaced);
	gtk_label_set_markup(GTK_LABEL(label), markup);
	gtk_label_set_selectable(GTK_LABEL(label), TRUE);
	atk_object_set_name(gtk_widget_get_accessible(label), "PIN");
	copy = gtk_button_new_with_mnemonic("_Copy");
	g_signal_connect(copy, "clicked", G_CALLBACK(on_copy), p);
	gtk_widget_set_valign(copy, GTK_ALIGN_CENTER);
	gtk_box_pack_start(GTK_BOX(row), label, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(row), copy, FALSE, FALSE, 0);
	/* the width reserved, so that the PIN does not move */
	p->copied = gtk_label_new("");
	gtk_label_set_width_chars(GTK_LABEL(p->copied), 7);
	atk_object_set_name(gtk_widget_get_accessible(p->copied),
			    "Copy feedback");
	gtk_box_pack_start(GTK_BOX(row), p->copied, FALSE, FALSE, 0);
	gtk_widget_set_halign(row, GTK_ALIGN_CENTER);
	gtk_box_pack_start(GTK_BOX(box), row, FALSE, FALSE, 0);
	p->countdown = gtk_label_new("");
	gtk_box_pack_start(GTK_BOX(box), p->countdown, FALSE, FALSE, 0);
	tick(p);
	p->timer = g_timeout_add_seconds(1, tick, p);
	g_object_weak_ref(G_OBJECT(box), panel_gone, p);
	g_free(markup);
	ll_secret_free(spaced);
	return box;
}

/* ---- New PIN ---- */

struct pin_job {
	struct ll_api_pin pin;
	struct ll_stream *stream;
	bool at_stream; /* the PIN was made: its stream failed */
};

static void pin_job_free(void *data)
{
	struct pin_job *j = data;

	ll_api_pin_clear(&j->pin);
	ll_stream_free(j->stream);
	g_free(j);
}

static int pin_run(void *job, struct ll_api_client *c,
		   const struct ll_gui_conn *conn, struct ll_client_error *e)
{
	struct pin_job *j = job;
	int r;

	if ((r = ll_api_pin_new(c, NULL, &j->pin, e)) != 0)
		return r;
	j->at_stream = true;
	if ((r = ll_gui_stream_open(conn, j->pin.ticket, &j->stream, e)) != 0)
		ll_api_session_delete(c, j->pin.session_id, NULL);
	return r;
}

static void pin_done(void *job, const struct ll_client_error *e, void *user)
{
	struct ll_gui *g = user;
	struct pin_job *j = job;
	char *text;

	if (e->code != 0) {
		text = g_strdup_printf("%s: %s",
				       j->at_stream ? "Cannot open the session"
						    : "No PIN",
				       e->message);
		ll_main_window_status(g, text);
		g_free(text);
		return;
	}
	ll_viewer_open(g, j->stream, &j->pin);
	j->stream = NULL;
	ll_main_window_status(g, "");
	ll_main_window_refresh(g);
}

void ll_pin_new_start(struct ll_gui *g)
{
	static const struct ll_gui_call how = { pin_run, pin_done,
						pin_job_free };

	if (g->conn.token == NULL)
		return;
	ll_main_window_status(g, "Asking the relay for a PIN...");
	ll_gui_call(&g->conn, g->window, NULL, &how, g_new0(struct pin_job, 1),
		    g);
}
