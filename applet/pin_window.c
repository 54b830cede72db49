/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "PRODUCT – Enter PIN" (docs/API.md section 8): the PIN field has the
 * focus, Enter connects, errors from the API are shown in plain words.
 * The layout is the template pin_window.ui (LlAppletPinWindow), under the
 * brand's header; the words are the brand's.
 */
#include <string.h>

#include <gtk/gtk.h>

#include "ll_crypto.h"
#include "ll_ui.h"
#include "ll_util.h"
#include "applet.h"

#define LL_TYPE_APPLET_PIN_WINDOW (ll_applet_pin_window_get_type())
G_DECLARE_FINAL_TYPE(LlAppletPinWindow, ll_applet_pin_window, LL,
		     APPLET_PIN_WINDOW, GtkWindow)

struct _LlAppletPinWindow {
	GtkWindow parent;
	GtkWidget *heading;
	GtkWidget *prompt;
	GtkWidget *entry;
	GtkWidget *button;
	GtkWidget *spinner;
	GtkWidget *status;
	GtkWidget *note;
	GtkWidget *footer;
};

G_DEFINE_TYPE(LlAppletPinWindow, ll_applet_pin_window, GTK_TYPE_WINDOW)

static void ll_applet_pin_window_class_init(LlAppletPinWindowClass *k)
{
	GtkWidgetClass *wk = GTK_WIDGET_CLASS(k);

	g_type_ensure(LL_TYPE_BRAND_HEADER);
	gtk_widget_class_set_template_from_resource(
		wk, "/org/lifeline/applet/pin_window.ui");
	gtk_widget_class_bind_template_child(wk, LlAppletPinWindow, heading);
	gtk_widget_class_bind_template_child(wk, LlAppletPinWindow, prompt);
	gtk_widget_class_bind_template_child(wk, LlAppletPinWindow, entry);
	gtk_widget_class_bind_template_child(wk, LlAppletPinWindow, button);
	gtk_widget_class_bind_template_child(wk, LlAppletPinWindow, spinner);
	gtk_widget_class_bind_template_child(wk, LlAppletPinWindow, status);
	gtk_widget_class_bind_template_child(wk, LlAppletPinWindow, note);
	gtk_widget_class_bind_template_child(wk, LlAppletPinWindow, footer);
}

static void ll_applet_pin_window_init(LlAppletPinWindow *w)
{
	gtk_widget_init_template(GTK_WIDGET(w));
}

struct ll_pin_window {
	struct ll_applet *a;
	GtkWidget *win;
	GtkWidget *entry;
	GtkWidget *button;
	GtkWidget *spinner;
	GtkWidget *status;
	void (*on_submit)(const char *pin, void *user);
	void *user;
	bool freeing;
};

/* Digits only: people read PINs out as "123 456", "123-456" or
 * "12345 67890". */
static bool normalise(const char *text, char out[LL_PIN_MAX_DIGITS + 1])
{
	size_t n = 0;

	for (; *text != '\0'; text++) {
		if (*text == ' ' || *text == '-')
			continue;
		if (!g_ascii_isdigit(*text) || n == LL_PIN_MAX_DIGITS)
			return false;
		out[n++] = *text;
	}
	out[n] = '\0';
	return ll_pin_well_formed(out);
}

static void submit(struct ll_pin_window *w)
{
	char pin[LL_PIN_MAX_DIGITS + 1];

	if (!gtk_widget_get_sensitive(w->entry))
		return;
	if (!normalise(gtk_entry_get_text(GTK_ENTRY(w->entry)), pin)) {
		ll_pin_window_show_error(
			w, "A PIN has 6 to 10 digits. Please check it with "
			   "your technician.");
		gtk_widget_grab_focus(w->entry);
		return;
	}
	w->on_submit(pin, w->user);
	ll_wipe(pin, sizeof(pin));
}

static void on_activate(GtkEntry *e, gpointer data)
{
	submit(data);
}

static void on_clicked(GtkButton *b, gpointer data)
{
	submit(data);
}

static void on_destroy(GtkWidget *win, gpointer data)
{
	struct ll_pin_window *w = data;

	if (w->freeing)
		return;
	/* Closed by the user: the applet is done unless a session runs. */
	w->win = NULL;
	ll_applet_pin_cancelled(w->a);
	g_free(w);
}

/* "Help: help.example.com · +1 555 0100", or NULL when the brand names
 * neither (g_free). */
static char *footer_markup(const struct ll_brand *b)
{
	GString *s;
	const char *shown;
	char *m, **parts, *phone;

	if (b->support_url == NULL && b->support_phone == NULL)
		return NULL;
	s = g_string_new("Help: ");
	if (b->support_url != NULL) {
		shown = b->support_url +
			(g_str_has_prefix(b->support_url, "https://") ? 8 : 7);
		m = g_markup_printf_escaped("<a href=\"%s\">%s</a>",
					    b->support_url, shown);
		g_string_append(s, m);
		g_free(m);
	}
	if (b->support_phone != NULL) {
		/* On one line, as ll_brand_format() keeps it. */
		parts = g_strsplit(b->support_phone, " ", -1);
		phone = g_strjoinv("\u00a0", parts);
		g_strfreev(parts);
		m = g_markup_escape_text(phone, -1);
		g_free(phone);
		g_string_append_printf(s, "%s%s",
				       b->support_url != NULL ? " \u00b7 "
							      : "",
				       m);
		g_free(m);
	}
	return g_string_free(s, FALSE);
}

/* The brand's words into the template's labels. */
static void fill(LlAppletPinWindow *t)
{
	const struct ll_brand *b = ll_ui_brand();
	char *text;

	text = ll_brand_format(b, LL_BRAND_PIN_HEADING, NULL, false);
	gtk_label_set_text(GTK_LABEL(t->heading), text);
	g_free(text);
	text = ll_brand_format(b, LL_BRAND_PIN_PROMPT, NULL, false);
	gtk_label_set_text(GTK_LABEL(t->prompt), text);
	g_free(text);
	text = ll_brand_format(b, LL_BRAND_PIN_NOTE, NULL, false);
	gtk_label_set_text(GTK_LABEL(t->note), text);
	g_free(text);
	if ((text = footer_markup(b)) != NULL) {
		gtk_label_set_markup(GTK_LABEL(t->footer), text);
		gtk_widget_show(t->footer);
		g_free(text);
	}
}

struct ll_pin_window *ll_pin_window_new(struct ll_applet *a,
					void (*on_submit)(const char *pin,
							  void *user),
					void *user)
{
	struct ll_pin_window *w = g_new0(struct ll_pin_window, 1);
	LlAppletPinWindow *t;
	char *title = ll_applet_title("Enter PIN");

	w->a = a;
	w->on_submit = on_submit;
	w->user = user;
	t = g_object_new(LL_TYPE_APPLET_PIN_WINDOW, NULL);
	w->win = GTK_WIDGET(t);
	gtk_window_set_title(GTK_WINDOW(w->win), title);
	g_free(title);
	gtk_window_set_resizable(GTK_WINDOW(w->win), FALSE);
	gtk_window_set_position(GTK_WINDOW(w->win), GTK_WIN_POS_CENTER);
	ll_applet_track_window(a, GTK_WINDOW(w->win));
	fill(t);

	w->entry = t->entry;
	/* Room for the longest PIN read out with a separator between any
	 * two digits ("12 34 56 78 90"); its usual forms ("12345 67890",
	 * what the agent shows) fit the width. */
	gtk_entry_set_max_length(GTK_ENTRY(w->entry),
				 2 * LL_PIN_MAX_DIGITS - 1);
	gtk_entry_set_width_chars(GTK_ENTRY(w->entry), LL_PIN_MAX_DIGITS + 2);
	gtk_entry_set_input_purpose(GTK_ENTRY(w->entry),
				    GTK_INPUT_PURPOSE_DIGITS);
	w->button = t->button;
	w->spinner = t->spinner;
	w->status = t->status;
	gtk_label_set_selectable(GTK_LABEL(w->status), FALSE);

	g_signal_connect(w->entry, "activate", G_CALLBACK(on_activate), w);
	g_signal_connect(w->button, "clicked", G_CALLBACK(on_clicked), w);
	g_signal_connect(w->win, "destroy", G_CALLBACK(on_destroy), w);
	gtk_widget_show(w->win);
	gtk_widget_grab_focus(w->entry);
	gtk_window_present(GTK_WINDOW(w->win));
	return w;
}

void ll_pin_window_set_busy(struct ll_pin_window *w, bool busy,
			    const char *status)
{
	gtk_widget_set_sensitive(w->entry, !busy);
	gtk_widget_set_sensitive(w->button, !busy);
	gtk_widget_set_visible(w->spinner, busy);
	if (busy)
		gtk_spinner_start(GTK_SPINNER(w->spinner));
	else
		gtk_spinner_stop(GTK_SPINNER(w->spinner));
	gtk_label_set_text(GTK_LABEL(w->status), status != NULL ? status : "");
	/* An empty line would only push the note down. */
	gtk_widget_set_visible(w->status, status != NULL && status[0] != '\0');
	if (!busy)
		gtk_widget_grab_focus(w->entry);
}

void ll_pin_window_show_error(struct ll_pin_window *w, const char *message)
{
	char *m = g_markup_printf_escaped("<b>%s</b>", message);

	gtk_label_set_markup(GTK_LABEL(w->status), m);
	gtk_widget_show(w->status);
	g_free(m);
}

void ll_pin_window_free(struct ll_pin_window *w)
{
	if (w == NULL)
		return;
	w->freeing = true;
	if (w->win != NULL)
		gtk_widget_destroy(w->win);
	g_free(w);
}
