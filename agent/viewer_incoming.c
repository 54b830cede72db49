/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "PRODUCT Agent – Incoming file" (issue 13.1): the user offers a file
 * from the applet's session bar; the technician sees who sends it, its
 * name (printable, as the user's side gave it) and size, picks the folder
 * (the XDG download folder by default) and chooses _Save or _Refuse;
 * then progress with rate and time left, Cancel _transfer, the outcome.
 * Nothing is written before _Save; the file is created inside the folder
 * only, under ll_xfer_safe_name() of the offered name, never over an
 * existing file (ll_xfer_io.h).  One window per offer.
 */
#include <fcntl.h>
#include <unistd.h>

#include <gtk/gtk.h>

#include "gui.h"
#include "ll_log.h"
#include "ll_ui.h"
#include "ll_xfer_io.h"

struct ll_viewer_incoming {
	struct ll_xfer *x; /* borrowed from the set; NULL once forgotten */
	GtkWidget *win, *folder, *progress, *status;
	GtkWidget *save, *refuse, *cancel, *close;
	char *default_dir;
};

static bool over(const struct ll_xfer *x)
{
	return ll_xfer_state(x) == LL_XFER_DONE ||
	       ll_xfer_state(x) == LL_XFER_FAILED;
}

void ll_viewer_incoming_update(struct ll_viewer_incoming *vi)
{
	enum ll_xfer_state st;
	bool asked, ended;
	char *text;

	if (vi == NULL || vi->x == NULL || vi->win == NULL)
		return;
	st = ll_xfer_state(vi->x);
	asked = st == LL_XFER_OFFERED;
	ended = over(vi->x);
	if (ll_xfer_size(vi->x) > 0)
		gtk_progress_bar_set_fraction(
			GTK_PROGRESS_BAR(vi->progress),
			(double)ll_xfer_done_bytes(vi->x) /
				(double)ll_xfer_size(vi->x));
	if (ended && st == LL_XFER_DONE)
		text = g_strdup_printf("Saved as \u201c%s\u201d (SHA-256 "
				       "verified).",
				       ll_xfer_saved_name(vi->x));
	else if (ended)
		text = g_strdup_printf("Not saved: %s.",
				       ll_xfer_outcome(vi->x));
	else if (asked)
		text = g_strdup("Nothing is saved unless you choose Save.");
	else if (st == LL_XFER_INTERRUPTED)
		text = g_strdup("Connection interrupted \u2014 the transfer "
				"resumes when it is back\u2026");
	else
		text = ll_xfer_progress_text(vi->x);
	gtk_label_set_text(GTK_LABEL(vi->status), text);
	g_free(text);
	gtk_widget_set_visible(vi->progress, !asked);
	gtk_widget_set_visible(vi->save, asked);
	gtk_widget_set_visible(vi->refuse, asked);
	gtk_widget_set_sensitive(vi->folder, asked);
	gtk_widget_set_visible(vi->cancel, !asked && !ended);
	gtk_widget_set_visible(vi->close, ended);
	if (ended)
		gtk_widget_grab_focus(vi->close);
}

static void on_save(GtkButton *b, gpointer data)
{
	struct ll_viewer_incoming *vi = data;
	g_autofree char *dir = gtk_file_chooser_get_filename(
		GTK_FILE_CHOOSER(vi->folder));
	int fd;

	if (dir == NULL)
		dir = g_strdup(vi->default_dir);
	/* opened once: the file is made inside it with openat only */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		gtk_label_set_text(GTK_LABEL(vi->status),
				   "That folder cannot be opened.");
		return;
	}
	ll_info("the technician saves the user's file");
	if (ll_xfer_accept(vi->x, fd, NULL) != 0)
		gtk_label_set_text(GTK_LABEL(vi->status),
				   "The file cannot be created there.");
	close(fd);
	ll_viewer_incoming_update(vi);
}

static void on_refuse(GtkButton *b, gpointer data)
{
	struct ll_viewer_incoming *vi = data;

	ll_info("the technician refused the user's file");
	ll_xfer_refuse(vi->x, LL_FILE_REFUSED);
}

static void on_cancel(GtkButton *b, gpointer data)
{
	struct ll_viewer_incoming *vi = data;

	ll_info("the technician cancelled the user's file");
	ll_xfer_cancel(vi->x);
}

static void on_close(GtkButton *b, gpointer data)
{
	struct ll_viewer_incoming *vi = data;

	gtk_widget_destroy(vi->win);
}

/* Closing the window answers for the technician: refused or cancelled. */
static void on_destroy(GtkWidget *w, gpointer data)
{
	struct ll_viewer_incoming *vi = data;

	vi->win = NULL;
	if (vi->x != NULL && !over(vi->x)) {
		if (ll_xfer_state(vi->x) == LL_XFER_OFFERED)
			ll_xfer_refuse(vi->x, LL_FILE_REFUSED);
		else
			ll_xfer_cancel(vi->x);
	}
}

static GtkWidget *button(GtkWidget *box, const char *label, GCallback cb,
			 struct ll_viewer_incoming *vi)
{
	GtkWidget *b = gtk_button_new_with_mnemonic(label);

	g_signal_connect(b, "clicked", cb, vi);
	gtk_box_pack_end(GTK_BOX(box), b, FALSE, FALSE, 0);
	gtk_widget_set_no_show_all(b, TRUE);
	return b;
}

static void row(GtkWidget *grid, int y, const char *label, GtkWidget *value)
{
	GtkWidget *l = gtk_label_new_with_mnemonic(label);

	gtk_label_set_xalign(GTK_LABEL(l), 1);
	gtk_label_set_mnemonic_widget(GTK_LABEL(l), value);
	gtk_grid_attach(GTK_GRID(grid), l, 0, y, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), value, 1, y, 1, 1);
}

static GtkWidget *value(const char *text)
{
	GtkWidget *l = gtk_label_new(text); /* never markup */

	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_MIDDLE);
	gtk_label_set_max_width_chars(GTK_LABEL(l), 48);
	return l;
}

static GtkWidget *details(struct ll_viewer_incoming *vi, const char *who)
{
	const char *dl = g_get_user_special_dir(G_USER_DIRECTORY_DOWNLOAD);
	GtkWidget *grid = gtk_grid_new();
	char *size;

	gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	row(grid, 0, "From", value(who));
	row(grid, 1, "Name", value(ll_xfer_name(vi->x)));
	size = g_format_size_full(ll_xfer_size(vi->x),
				  G_FORMAT_SIZE_LONG_FORMAT);
	row(grid, 2, "Size", value(size));
	g_free(size);
	vi->default_dir = g_strdup(
		dl != NULL && g_file_test(dl, G_FILE_TEST_IS_DIR)
			? dl
			: g_get_home_dir());
	vi->folder = gtk_file_chooser_button_new(
		"Save in", GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
	gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(vi->folder),
					    vi->default_dir);
	gtk_widget_set_hexpand(vi->folder, TRUE);
	row(grid, 3, "Save _in", vi->folder);
	return grid;
}

struct ll_viewer_incoming *ll_viewer_incoming_new(GtkWindow *parent,
						  struct ll_xfer *x,
						  const char *who)
{
	struct ll_viewer_incoming *vi = g_new0(struct ll_viewer_incoming, 1);
	GtkWidget *box, *l, *buttons;
	char *title;

	vi->x = x;
	if (who == NULL || who[0] == '\0')
		who = "the user";
	title = g_strdup_printf("%s Agent \u2013 Incoming file",
				ll_ui_brand()->product);
	vi->win = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(vi->win), title);
	gtk_window_set_transient_for(GTK_WINDOW(vi->win), parent);
	gtk_window_set_default_size(GTK_WINDOW(vi->win), 460, -1);
	g_free(title);
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	gtk_container_set_border_width(GTK_CONTAINER(box), 18);
	gtk_container_add(GTK_CONTAINER(vi->win), box);
	l = gtk_label_new("The user offers you a file:");
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_box_pack_start(GTK_BOX(box), l, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), details(vi, who), FALSE, FALSE, 0);
	vi->progress = gtk_progress_bar_new();
	gtk_widget_set_no_show_all(vi->progress, TRUE);
	gtk_box_pack_start(GTK_BOX(box), vi->progress, FALSE, FALSE, 0);
	vi->status = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(vi->status), 0);
	gtk_label_set_line_wrap(GTK_LABEL(vi->status), TRUE);
	atk_object_set_name(gtk_widget_get_accessible(vi->status),
			    "Incoming file");
	gtk_box_pack_start(GTK_BOX(box), vi->status, FALSE, FALSE, 0);
	buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	gtk_box_pack_end(GTK_BOX(box), buttons, FALSE, FALSE, 0);
	vi->close = button(buttons, "_Close", G_CALLBACK(on_close), vi);
	vi->save = button(buttons, "_Save", G_CALLBACK(on_save), vi);
	vi->cancel = button(buttons, "Cancel _transfer", G_CALLBACK(on_cancel),
			    vi);
	vi->refuse = button(buttons, "_Refuse", G_CALLBACK(on_refuse), vi);
	g_signal_connect(vi->win, "destroy", G_CALLBACK(on_destroy), vi);
	ll_viewer_incoming_update(vi);
	gtk_widget_show_all(vi->win);
	/* nothing is saved by a stray Enter */
	gtk_widget_grab_focus(vi->refuse);
	ll_info("incoming file from the user: %" G_GUINT64_FORMAT " bytes, "
		"asking the technician",
		ll_xfer_size(x));
	return vi;
}

void ll_viewer_incoming_free(struct ll_viewer_incoming *vi)
{
	if (vi == NULL)
		return;
	if (vi->win != NULL)
		gtk_widget_destroy(vi->win); /* refuses or cancels */
	if (vi->x != NULL)
		ll_xfer_set_user(vi->x, NULL);
	g_free(vi->default_dir);
	g_free(vi);
}
