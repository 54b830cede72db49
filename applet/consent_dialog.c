/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "PRODUCT – Permission request" (DESIGN.md 2.6, API.md window table).
 *
 * Who asks (name and org as the relay verified them at redeem, never what
 * the technician's side claims in the stream), one line per capability in
 * plain words, _Allow and _Deny.  The focus starts on Deny and there is
 * no default button, so Enter or Space typed by accident refuses.  No
 * answer in time is a refusal; the countdown is shown.  Closing the
 * window is a refusal.  "I did not ask for this" ends the session and
 * flags it.  While this window exists the session keeps the input gate
 * closed, so the technician's own input can never answer it.
 */
#include <gtk/gtk.h>

#include "ll_control.h"
#include "applet.h"

struct ll_consent_dialog {
	struct ll_applet *a;
	GtkWidget *win;
	GtkWidget *countdown;
	guint timer;
	int left;
	bool answered;
	bool freeing;
	void (*on_answer)(enum ll_consent_answer ans, void *user);
	void *user;
};

static void answer(struct ll_consent_dialog *d, enum ll_consent_answer ans)
{
	if (d->answered)
		return;
	d->answered = true;
	if (d->timer != 0) {
		g_source_remove(d->timer);
		d->timer = 0;
	}
	/* May free d: nothing after this. */
	d->on_answer(ans, d->user);
}

static void show_left(struct ll_consent_dialog *d)
{
	char *t = g_strdup_printf(
		"If you do not answer, the request is refused in %d s.",
		d->left);

	gtk_label_set_text(GTK_LABEL(d->countdown), t);
	g_free(t);
}

static gboolean on_tick(gpointer data)
{
	struct ll_consent_dialog *d = data;

	if (--d->left > 0) {
		show_left(d);
		return G_SOURCE_CONTINUE;
	}
	d->timer = 0;
	answer(d, LL_CONSENT_TIMEOUT);
	return G_SOURCE_REMOVE;
}

static void on_allow(GtkButton *b, gpointer data)
{
	answer(data, LL_CONSENT_ALLOW);
}

static void on_deny(GtkButton *b, gpointer data)
{
	answer(data, LL_CONSENT_DENY);
}

static gboolean on_not_requested(GtkLinkButton *b, gpointer data)
{
	answer(data, LL_CONSENT_NOT_REQUESTED);
	return TRUE;  /* no URI to open */
}

static gboolean on_delete(GtkWidget *w, GdkEvent *ev, gpointer data)
{
	answer(data, LL_CONSENT_DENY);
	return TRUE;  /* the session frees the window */
}

static void on_destroy(GtkWidget *w, gpointer data)
{
	struct ll_consent_dialog *d = data;

	d->win = NULL;
	if (!d->freeing)
		answer(d, LL_CONSENT_DENY);
}

/* Focus to Deny once the window is really there (a WM may move it). */
static gboolean on_map(GtkWidget *w, GdkEvent *ev, gpointer data)
{
	GtkWidget *deny = data;

	gtk_widget_grab_focus(deny);
	return FALSE;
}

struct ll_consent_dialog *ll_consent_dialog_new(
	struct ll_applet *a, const char *name, const char *org, uint32_t caps,
	int timeout_s,
	void (*on_answer)(enum ll_consent_answer ans, void *user), void *user)
{
	struct ll_consent_dialog *d = g_new0(struct ll_consent_dialog, 1);
	GtkWidget *box, *head, *list, *line, *buttons, *allow, *deny, *link;
	char *title = ll_applet_title("Permission request");
	char *markup;
	uint32_t bit;

	d->a = a;
	d->on_answer = on_answer;
	d->user = user;
	d->left = timeout_s > 0 ? timeout_s : LL_APPLET_CONSENT_TIMEOUT_S;

	d->win = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(d->win), title);
	g_free(title);
	gtk_window_set_type_hint(GTK_WINDOW(d->win),
				 GDK_WINDOW_TYPE_HINT_DIALOG);
	gtk_window_set_keep_above(GTK_WINDOW(d->win), TRUE);
	gtk_window_set_resizable(GTK_WINDOW(d->win), FALSE);
	gtk_window_set_position(GTK_WINDOW(d->win), GTK_WIN_POS_CENTER);
	gtk_window_set_urgency_hint(GTK_WINDOW(d->win), TRUE);
	ll_applet_track_window(a, GTK_WINDOW(d->win));

	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 10);
	gtk_container_set_border_width(GTK_CONTAINER(box), 18);

	markup = g_markup_printf_escaped(
		"<b>%s</b> of <b>%s</b> asks for permission to:",
		name != NULL ? name : "(unknown)",
		org != NULL ? org : "(unknown)");
	head = gtk_label_new(NULL);
	gtk_label_set_markup(GTK_LABEL(head), markup);
	g_free(markup);
	gtk_label_set_xalign(GTK_LABEL(head), 0);
	gtk_label_set_line_wrap(GTK_LABEL(head), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(head), 50);
	gtk_box_pack_start(GTK_BOX(box), head, FALSE, FALSE, 0);

	list = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
	gtk_widget_set_margin_start(list, 12);
	for (bit = 1; bit <= LL_CAP_ALL; bit <<= 1) {
		if (!(caps & bit))
			continue;
		markup = g_strdup_printf("\u2022 %s", ll_applet_cap_words(bit));
		line = gtk_label_new(markup);
		g_free(markup);
		gtk_label_set_xalign(GTK_LABEL(line), 0);
		gtk_box_pack_start(GTK_BOX(list), line, FALSE, FALSE, 0);
	}
	gtk_box_pack_start(GTK_BOX(box), list, FALSE, FALSE, 0);

	d->countdown = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(d->countdown), 0);
	atk_object_set_name(gtk_widget_get_accessible(d->countdown),
			    "Time left");
	show_left(d);
	gtk_box_pack_start(GTK_BOX(box), d->countdown, FALSE, FALSE, 0);

	/* Alt+N: reachable from the keyboard without a detour. */
	link = gtk_link_button_new_with_label("lifeline:not-requested",
					      "I did _not ask for this");
	gtk_button_set_use_underline(GTK_BUTTON(link), TRUE);
	gtk_widget_set_halign(link, GTK_ALIGN_START);
	atk_object_set_name(gtk_widget_get_accessible(link),
			    "I did not ask for this");
	gtk_box_pack_start(GTK_BOX(box), link, FALSE, FALSE, 0);

	buttons = gtk_button_box_new(GTK_ORIENTATION_HORIZONTAL);
	gtk_button_box_set_layout(GTK_BUTTON_BOX(buttons), GTK_BUTTONBOX_END);
	gtk_box_set_spacing(GTK_BOX(buttons), 8);
	deny = gtk_button_new_with_mnemonic("_Deny");
	allow = gtk_button_new_with_mnemonic("_Allow");
	atk_object_set_name(gtk_widget_get_accessible(deny), "Deny");
	atk_object_set_name(gtk_widget_get_accessible(allow), "Allow");
	/* No default: Enter never means Allow. */
	gtk_widget_set_can_default(deny, FALSE);
	gtk_widget_set_can_default(allow, FALSE);
	gtk_container_add(GTK_CONTAINER(buttons), deny);
	gtk_container_add(GTK_CONTAINER(buttons), allow);
	gtk_box_pack_start(GTK_BOX(box), buttons, FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(d->win), box);

	g_signal_connect(allow, "clicked", G_CALLBACK(on_allow), d);
	g_signal_connect(deny, "clicked", G_CALLBACK(on_deny), d);
	g_signal_connect(link, "activate-link", G_CALLBACK(on_not_requested),
			 d);
	g_signal_connect(d->win, "delete-event", G_CALLBACK(on_delete), d);
	g_signal_connect(d->win, "destroy", G_CALLBACK(on_destroy), d);
	g_signal_connect(d->win, "map-event", G_CALLBACK(on_map), deny);

	gtk_window_set_focus(GTK_WINDOW(d->win), deny);
	gtk_widget_show_all(d->win);
	gtk_widget_grab_focus(deny);
	/* Raise and take the keyboard focus (also without a window
	 * manager, where GDK sets the X input focus itself). */
	gtk_window_present(GTK_WINDOW(d->win));
	d->timer = g_timeout_add(1000, on_tick, d);
	return d;
}

void ll_consent_dialog_free(struct ll_consent_dialog *d)
{
	if (d == NULL)
		return;
	d->freeing = true;
	d->answered = true;
	if (d->timer != 0)
		g_source_remove(d->timer);
	if (d->win != NULL)
		gtk_widget_destroy(d->win);
	g_free(d);
}
