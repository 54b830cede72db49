/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "PRODUCT – Enter PIN" (docs/API.md section 8): the PIN field has the
 * focus, Enter connects, errors from the API are shown in plain words.
 */
#include <string.h>

#include <gtk/gtk.h>

#include "ll_crypto.h"
#include "ll_util.h"
#include "applet.h"

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

/* Digits only: people read PINs out as "123 456" or "123-456". */
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

struct ll_pin_window *ll_pin_window_new(struct ll_applet *a,
					void (*on_submit)(const char *pin,
							  void *user),
					void *user)
{
	struct ll_pin_window *w = g_new0(struct ll_pin_window, 1);
	GtkWidget *box, *label, *row;
	char *title = ll_applet_title("Enter PIN");

	w->a = a;
	w->on_submit = on_submit;
	w->user = user;
	w->win = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(w->win), title);
	g_free(title);
	gtk_window_set_resizable(GTK_WINDOW(w->win), FALSE);
	gtk_window_set_position(GTK_WINDOW(w->win), GTK_WIN_POS_CENTER);
	ll_applet_track_window(a, GTK_WINDOW(w->win));

	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 10);
	gtk_container_set_border_width(GTK_CONTAINER(box), 18);
	label = gtk_label_new_with_mnemonic(
		"Enter the _PIN your technician gave you:");
	gtk_label_set_xalign(GTK_LABEL(label), 0);

	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	w->entry = gtk_entry_new();
	gtk_entry_set_max_length(GTK_ENTRY(w->entry), 11);
	gtk_entry_set_width_chars(GTK_ENTRY(w->entry), 10);
	gtk_entry_set_input_purpose(GTK_ENTRY(w->entry),
				    GTK_INPUT_PURPOSE_DIGITS);
	gtk_label_set_mnemonic_widget(GTK_LABEL(label), w->entry);
	atk_object_set_name(gtk_widget_get_accessible(w->entry), "PIN");
	w->button = gtk_button_new_with_mnemonic("_Connect");
	atk_object_set_name(gtk_widget_get_accessible(w->button), "Connect");
	w->spinner = gtk_spinner_new();
	gtk_box_pack_start(GTK_BOX(row), w->entry, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(row), w->button, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(row), w->spinner, FALSE, FALSE, 0);

	w->status = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(w->status), 0);
	gtk_label_set_line_wrap(GTK_LABEL(w->status), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(w->status), 44);
	gtk_label_set_selectable(GTK_LABEL(w->status), FALSE);
	atk_object_set_name(gtk_widget_get_accessible(w->status), "Status");

	gtk_box_pack_start(GTK_BOX(box), label, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), row, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), w->status, FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(w->win), box);

	g_signal_connect(w->entry, "activate", G_CALLBACK(on_activate), w);
	g_signal_connect(w->button, "clicked", G_CALLBACK(on_clicked), w);
	g_signal_connect(w->win, "destroy", G_CALLBACK(on_destroy), w);
	gtk_widget_show_all(w->win);
	gtk_widget_hide(w->spinner);
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
	if (!busy)
		gtk_widget_grab_focus(w->entry);
}

void ll_pin_window_show_error(struct ll_pin_window *w, const char *message)
{
	char *m = g_markup_printf_escaped("<b>%s</b>", message);

	gtk_label_set_markup(GTK_LABEL(w->status), m);
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
