/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two-factor sign-in: the GUI's enrolment (issue 11).  The relay draws a
 * seed (POST /api/v1/mfa/enroll, in a GTask thread); the window shows it
 * as a QR code (libqrencode) for the phone's authenticator app and as the
 * otpauth URI to copy; the app's first code confirms it (POST
 * /api/v1/mfa/confirm), and the window then shows the 10 recovery codes,
 * this once.  The seed and the codes are wiped when the window goes.
 */
#include <string.h>

#include <qrencode.h>

#include "gui.h"
#include "ll_ui.h"
#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_log.h"
#include "ll_util.h"

#define QR_MODULE_PX 6 /* pixels per QR module: scannable off a screen */
#define QR_QUIET 4     /* modules of white border, as the standard asks */

struct mfa_dialog {
	struct ll_gui *g;
	GtkWidget *window, *stack, *code, *confirm, *error, *codes, *done;
	char *uri; /* secret: it holds the seed */
	bool busy;
	bool gone; /* the window was closed while confirm ran */
};

struct mfa_job {
	char *code;
	char *uri;    /* enroll's answer; secret */
	char **codes; /* confirm's answer; secrets */
	size_t n_codes;
};

static void mfa_job_free(void *data)
{
	struct mfa_job *j = data;
	size_t i;

	ll_secret_free(j->code);
	ll_secret_free(j->uri);
	for (i = 0; i < j->n_codes; i++)
		ll_secret_free(j->codes[i]);
	free(j->codes);
	g_free(j);
}

/* The QR code of text as a pixbuf, black on white with its quiet zone;
 * NULL when it does not encode. */
static GdkPixbuf *qr_pixbuf(const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	GdkPixbuf *pb;
	guchar *px;
	int side, stride, x, y, n;

	if (qr == NULL)
		return NULL;
	n = qr->width;
	side = (n + 2 * QR_QUIET) * QR_MODULE_PX;
	pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, side, side);
	if (pb == NULL) {
		QRcode_free(qr);
		return NULL;
	}
	px = gdk_pixbuf_get_pixels(pb);
	stride = gdk_pixbuf_get_rowstride(pb);
	for (y = 0; y < side; y++) {
		for (x = 0; x < side; x++) {
			int mx = x / QR_MODULE_PX - QR_QUIET;
			int my = y / QR_MODULE_PX - QR_QUIET;
			bool dark = mx >= 0 && my >= 0 && mx < n && my < n &&
				    (qr->data[my * n + mx] & 1);
			guchar v = dark ? 0 : 255;

			px[y * stride + x * 3] = v;
			px[y * stride + x * 3 + 1] = v;
			px[y * stride + x * 3 + 2] = v;
		}
	}
	QRcode_free(qr);
	return pb;
}

static void dialog_gone(gpointer data, GObject *where)
{
	struct mfa_dialog *d = data;

	(void)where;
	ll_secret_free(d->uri);
	g_free(d);
}

static void on_destroy(GtkWidget *w, gpointer data)
{
	struct mfa_dialog *d = data;

	(void)w;
	d->gone = true;
}

static void on_copy(GtkWidget *w, gpointer data)
{
	struct mfa_dialog *d = data;

	gtk_clipboard_set_text(
		gtk_widget_get_clipboard(w, GDK_SELECTION_CLIPBOARD), d->uri,
		-1);
}

static int confirm_run(void *job, struct ll_api_client *c,
		       const struct ll_gui_conn *conn,
		       struct ll_client_error *e)
{
	struct mfa_job *j = job;

	return ll_api_mfa_confirm(c, j->code, &j->codes, &j->n_codes, e);
}

static void confirm_done(void *job, const struct ll_client_error *e,
			 void *user)
{
	struct mfa_dialog *d = user;
	struct mfa_job *j = job;
	GString *text;
	size_t i;

	if (d->gone)
		return; /* the task's reference kept d; the widgets went */
	d->busy = false;
	gtk_widget_set_sensitive(d->confirm, TRUE);
	if (e->code != 0) {
		ll_info("mfa: the code was not taken");
		gtk_label_set_text(GTK_LABEL(d->error), e->message);
		gtk_widget_grab_focus(d->code);
		return;
	}
	text = g_string_new(NULL);
	for (i = 0; i < j->n_codes; i++)
		g_string_append_printf(text, "%s%s", i > 0 ? "\n" : "",
				       j->codes[i]);
	gtk_label_set_text(GTK_LABEL(d->codes), text->str);
	ll_wipe(text->str, text->len);
	g_string_free(text, TRUE);
	gtk_stack_set_visible_child_name(GTK_STACK(d->stack), "codes");
	gtk_widget_grab_focus(d->done);
	ll_main_window_status(d->g, "Two-factor sign-in is on.");
	ll_info("mfa: two-factor sign-in is on; %zu recovery codes shown",
		j->n_codes);
}

static void on_confirm(GtkWidget *w, gpointer data)
{
	static const struct ll_gui_call how = { confirm_run, confirm_done,
						mfa_job_free };
	struct mfa_dialog *d = data;
	struct mfa_job *j;
	const char *code = gtk_entry_get_text(GTK_ENTRY(d->code));

	(void)w;
	if (d->busy)
		return;
	if (strlen(code) != LL_TOTP_DIGITS) {
		gtk_label_set_text(GTK_LABEL(d->error),
				   "Type the 6 digits the app shows.");
		ll_info("mfa: the code is not 6 digits; asking again");
		return;
	}
	d->busy = true;
	gtk_widget_set_sensitive(d->confirm, FALSE);
	gtk_label_set_text(GTK_LABEL(d->error), "");
	j = g_new0(struct mfa_job, 1);
	j->code = g_strdup(code);
	/* the call holds the window (and so d) */
	ll_gui_call(&d->g->conn, d->window, NULL, &how, j, d);
}

static GtkWidget *label_new(const char *text)
{
	GtkWidget *l = gtk_label_new(text);

	gtk_label_set_line_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(l), 50);
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	return l;
}

/* The first page: QR, URI, the code; the second: the recovery codes. */
static void dialog_open(struct ll_gui *g, char *uri)
{
	struct mfa_dialog *d = g_new0(struct mfa_dialog, 1);
	GtkWidget *box, *row, *b, *img, *uri_entry;
	g_autoptr(GdkPixbuf) pb = qr_pixbuf(uri);
	char *title;

	d->g = g;
	d->uri = uri;
	title = g_strdup_printf("%s Agent \u2013 Two-factor sign-in",
				ll_ui_brand()->product);
	d->window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(d->window), title);
	g_free(title);
	gtk_window_set_transient_for(GTK_WINDOW(d->window), g->window);
	gtk_window_set_modal(GTK_WINDOW(d->window), TRUE);
	gtk_window_set_destroy_with_parent(GTK_WINDOW(d->window), TRUE);
	g_object_weak_ref(G_OBJECT(d->window), dialog_gone, d);
	g_signal_connect(d->window, "destroy", G_CALLBACK(on_destroy), d);
	d->stack = gtk_stack_new();
	gtk_container_add(GTK_CONTAINER(d->window), d->stack);

	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	gtk_container_set_border_width(GTK_CONTAINER(box), 12);
	gtk_box_pack_start(
		GTK_BOX(box),
		label_new("Scan this code with an authenticator app on your "
			  "phone (or copy the link into it), then type the "
			  "6 digits it shows."),
		FALSE, FALSE, 0);
	img = pb != NULL ? gtk_image_new_from_pixbuf(pb)
			 : gtk_label_new("(no QR code: copy the link)");
	atk_object_set_name(gtk_widget_get_accessible(img), "QR code");
	gtk_box_pack_start(GTK_BOX(box), img, FALSE, FALSE, 0);
	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	uri_entry = gtk_entry_new();
	gtk_entry_set_text(GTK_ENTRY(uri_entry), uri);
	gtk_editable_set_editable(GTK_EDITABLE(uri_entry), FALSE);
	atk_object_set_name(gtk_widget_get_accessible(uri_entry),
			    "otpauth link");
	gtk_box_pack_start(GTK_BOX(row), uri_entry, TRUE, TRUE, 0);
	b = gtk_button_new_with_mnemonic("Co_py link");
	g_signal_connect(b, "clicked", G_CALLBACK(on_copy), d);
	gtk_box_pack_start(GTK_BOX(row), b, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), row, FALSE, FALSE, 0);
	row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	b = gtk_label_new_with_mnemonic("_Code");
	gtk_box_pack_start(GTK_BOX(row), b, FALSE, FALSE, 0);
	d->code = gtk_entry_new();
	gtk_label_set_mnemonic_widget(GTK_LABEL(b), d->code);
	gtk_entry_set_max_length(GTK_ENTRY(d->code), LL_TOTP_DIGITS);
	gtk_entry_set_input_purpose(GTK_ENTRY(d->code), GTK_INPUT_PURPOSE_PIN);
	gtk_entry_set_activates_default(GTK_ENTRY(d->code), TRUE);
	gtk_box_pack_start(GTK_BOX(row), d->code, FALSE, FALSE, 0);
	d->confirm = gtk_button_new_with_mnemonic("_Turn on");
	ll_ui_add_class(d->confirm, "ll-accent");
	gtk_widget_set_can_default(d->confirm, TRUE);
	g_signal_connect(d->confirm, "clicked", G_CALLBACK(on_confirm), d);
	gtk_box_pack_end(GTK_BOX(row), d->confirm, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), row, FALSE, FALSE, 0);
	d->error = label_new("");
	gtk_box_pack_start(GTK_BOX(box), d->error, FALSE, FALSE, 0);
	gtk_stack_add_named(GTK_STACK(d->stack), box, "enrol");

	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	gtk_container_set_border_width(GTK_CONTAINER(box), 12);
	gtk_box_pack_start(
		GTK_BOX(box),
		label_new("Two-factor sign-in is on. Keep these recovery "
			  "codes somewhere safe: each signs you in once "
			  "when the phone is not at hand. They are not shown "
			  "again."),
		FALSE, FALSE, 0);
	d->codes = gtk_label_new("");
	gtk_label_set_selectable(GTK_LABEL(d->codes), TRUE);
	ll_ui_add_class(d->codes, "monospace");
	gtk_box_pack_start(GTK_BOX(box), d->codes, FALSE, FALSE, 0);
	d->done = gtk_button_new_with_mnemonic("_Done");
	g_signal_connect_swapped(d->done, "clicked",
				 G_CALLBACK(gtk_widget_destroy), d->window);
	gtk_widget_set_halign(d->done, GTK_ALIGN_END);
	gtk_box_pack_start(GTK_BOX(box), d->done, FALSE, FALSE, 0);
	gtk_stack_add_named(GTK_STACK(d->stack), box, "codes");

	gtk_widget_show_all(d->window);
	gtk_window_set_default(GTK_WINDOW(d->window), d->confirm);
	gtk_widget_grab_focus(d->code);
	ll_info("mfa: enrolment started; showing the QR code");
}

static int enroll_run(void *job, struct ll_api_client *c,
		      const struct ll_gui_conn *conn,
		      struct ll_client_error *e)
{
	struct mfa_job *j = job;

	return ll_api_mfa_enroll(c, &j->uri, e);
}

static void enroll_done(void *job, const struct ll_client_error *e, void *user)
{
	struct ll_gui *g = user;
	struct mfa_job *j = job;
	char *text;

	if (e->code != 0) {
		text = g_strdup_printf("No two-factor sign-in: %s",
				       e->message);
		ll_main_window_status(g, text);
		g_free(text);
		return;
	}
	ll_main_window_status(g, "");
	dialog_open(g, j->uri);
	j->uri = NULL;
}

void ll_mfa_dialog_start(struct ll_gui *g)
{
	static const struct ll_gui_call how = { enroll_run, enroll_done,
						mfa_job_free };

	if (g->conn.token == NULL)
		return;
	ll_main_window_status(g, "Asking the relay for a new seed...");
	ll_gui_call(&g->conn, g->window, NULL, &how, g_new0(struct mfa_job, 1),
		    g);
}
