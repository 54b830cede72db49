/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The session window's files (issue 13.1): `Send _file…` (or a file
 * dropped on the window) offers a file to the user, asking for `files`
 * first when it is not granted (the file goes once the user allows it);
 * a line beside the button shows its progress with rate and time left,
 * then the outcome.  A file the user offers from the applet's session
 * bar opens "PRODUCT Agent – Incoming file" (viewer_incoming.c), one
 * window per offer.  The transfer itself is common/client's
 * (ll_xfer_io.h), audited by agent/session.c.
 */
#include <string.h>

#include <gtk/gtk.h>

#include "gui.h"
#include "ll_control.h"
#include "ll_err.h"
#include "ll_log.h"
#include "ll_xfer_io.h"

struct ll_viewer_files {
	struct ll_agent_session *sess;
	GtkWindow *parent;
	GtkWidget *button, *line, *cancel;
	uint32_t permitted;  /* what the technician's group permits */
	char *waiting;       /* a file to send once `files` is granted */
	struct ll_xfer *x;   /* the latest sent (borrowed from the set) */
	GPtrArray *incoming; /* struct ll_viewer_incoming *, owned */
};

static void show(struct ll_viewer_files *vf)
{
	char *text, *prog;
	enum ll_xfer_state st;

	if (vf->x == NULL) {
		gtk_widget_hide(vf->cancel);
		return;
	}
	st = ll_xfer_state(vf->x);
	gtk_widget_set_visible(vf->cancel,
			       st != LL_XFER_DONE && st != LL_XFER_FAILED);
	switch (st) {
	case LL_XFER_DONE:
	case LL_XFER_FAILED:
		text = g_strdup_printf("%s: %s", ll_xfer_name(vf->x),
				       ll_xfer_outcome(vf->x));
		break;
	case LL_XFER_HASHING:
		text = g_strdup_printf("%s: checking\u2026",
				       ll_xfer_name(vf->x));
		break;
	case LL_XFER_OFFERED:
		text = g_strdup_printf("%s: waiting for the user to save it",
				       ll_xfer_name(vf->x));
		break;
	default:
		prog = ll_xfer_progress_text(vf->x);
		text = g_strdup_printf("%s: %s", ll_xfer_name(vf->x), prog);
		g_free(prog);
		break;
	}
	gtk_label_set_text(GTK_LABEL(vf->line), text);
	/* the whole line where the bar cuts it */
	gtk_widget_set_tooltip_text(vf->line, text);
	g_free(text);
}

static void on_xfer(struct ll_xfer_set *set, struct ll_xfer *x, void *user)
{
	struct ll_viewer_files *vf = user;

	if (x == vf->x)
		show(vf);
	else if (ll_xfer_dir(x) == LL_XFER_IN)
		ll_viewer_incoming_update(ll_xfer_get_user(x));
}

/* The user offers a file (the session bar's Send a file…): asked. */
static void on_offer(struct ll_xfer_set *set, struct ll_xfer *x, void *user)
{
	struct ll_viewer_files *vf = user;
	struct ll_viewer_incoming *vi;

	vi = ll_viewer_incoming_new(vf->parent, x,
				    ll_agent_session_who(vf->sess));
	ll_xfer_set_user(x, vi);
	g_ptr_array_add(vf->incoming, vi);
}

static void send_now(struct ll_viewer_files *vf, const char *path)
{
	struct ll_xfer_set *set = ll_agent_session_xfers(vf->sess, NULL, NULL);
	int r;

	if ((r = ll_xfer_send_file(set, path, 0, &vf->x)) != 0) {
		vf->x = NULL;
		gtk_label_set_text(GTK_LABEL(vf->line),
				   "That file cannot be sent (not a "
				   "readable regular file).");
		return;
	}
	show(vf);
}

static void send_or_ask(struct ll_viewer_files *vf, const char *path)
{
	if (ll_agent_session_caps(vf->sess) & LL_CAP_FILES) {
		send_now(vf, path);
		return;
	}
	g_free(vf->waiting);
	vf->waiting = g_strdup(path);
	if (ll_agent_session_request(vf->sess, LL_CAP_FILES, NULL) != 0) {
		gtk_label_set_text(GTK_LABEL(vf->line),
				   "Cannot ask the user now.");
		return;
	}
	gtk_label_set_text(GTK_LABEL(vf->line),
			   "Asking the user to allow file transfer\u2026");
}

static void on_send(GtkButton *b, gpointer data)
{
	struct ll_viewer_files *vf = data;
	GtkFileChooserNative *fc;
	char *path;

	fc = gtk_file_chooser_native_new("Send a file to the user", vf->parent,
					 GTK_FILE_CHOOSER_ACTION_OPEN, "_Send",
					 "_Cancel");
	if (gtk_native_dialog_run(GTK_NATIVE_DIALOG(fc)) ==
	    GTK_RESPONSE_ACCEPT) {
		path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(fc));
		if (path != NULL)
			send_or_ask(vf, path);
		g_free(path);
	}
	g_object_unref(fc);
}

static void on_cancel(GtkButton *b, gpointer data)
{
	struct ll_viewer_files *vf = data;

	if (vf->x != NULL)
		ll_xfer_cancel(vf->x);
}

static void on_drop(GtkWidget *w, GdkDragContext *ctx, int x, int y,
		    GtkSelectionData *sel, guint info, guint time,
		    gpointer data)
{
	struct ll_viewer_files *vf = data;
	char **uris = gtk_selection_data_get_uris(sel);
	char *path = uris != NULL && uris[0] != NULL
			     ? g_filename_from_uri(uris[0], NULL, NULL)
			     : NULL;

	/* one file at a time; the technician drops again for the next */
	if (path != NULL && gtk_widget_get_sensitive(vf->button))
		send_or_ask(vf, path);
	gtk_drag_finish(ctx, path != NULL, FALSE, time);
	g_free(path);
	g_strfreev(uris);
}

struct ll_viewer_files *ll_viewer_files_new(GtkWindow *parent,
					    struct ll_agent_session *sess,
					    uint32_t permitted, GtkWidget *bar,
					    GtkWidget *drop)
{
	static const struct ll_xfer_set_cbs cbs = {
		.on_offer = on_offer,
		.on_changed = on_xfer,
		.on_finished = on_xfer,
	};
	struct ll_viewer_files *vf = g_new0(struct ll_viewer_files, 1);

	vf->sess = sess;
	vf->parent = parent;
	vf->permitted = permitted;
	vf->button = gtk_button_new_with_mnemonic("Send _file\u2026");
	gtk_widget_set_tooltip_text(vf->button,
				    "Offer a file to the user (or drop one "
				    "on the screen)");
	g_signal_connect(vf->button, "clicked", G_CALLBACK(on_send), vf);
	vf->line = gtk_label_new(NULL);
	gtk_label_set_ellipsize(GTK_LABEL(vf->line), PANGO_ELLIPSIZE_MIDDLE);
	/* ellipsized without a width it would be a bare "…" */
	gtk_label_set_width_chars(GTK_LABEL(vf->line), 24);
	atk_object_set_name(gtk_widget_get_accessible(vf->line),
			    "File transfer");
	vf->cancel = gtk_button_new_with_mnemonic("Cancel _transfer");
	gtk_widget_set_no_show_all(vf->cancel, TRUE);
	g_signal_connect(vf->cancel, "clicked", G_CALLBACK(on_cancel), vf);
	gtk_box_pack_end(GTK_BOX(bar), vf->button, FALSE, FALSE, 0);
	gtk_box_pack_end(GTK_BOX(bar), vf->cancel, FALSE, FALSE, 0);
	gtk_box_pack_end(GTK_BOX(bar), vf->line, FALSE, FALSE, 0);
	gtk_drag_dest_set(drop, GTK_DEST_DEFAULT_ALL, NULL, 0,
			  GDK_ACTION_COPY);
	gtk_drag_dest_add_uri_targets(drop);
	g_signal_connect(drop, "drag-data-received", G_CALLBACK(on_drop), vf);
	vf->incoming = g_ptr_array_new();
	ll_agent_session_xfers(sess, &cbs, vf);
	return vf;
}

void ll_viewer_files_update(struct ll_viewer_files *vf)
{
	bool joined = ll_agent_session_peer_joined(vf->sess);
	bool ended = ll_agent_session_state(vf->sess) == LL_AGENT_ENDED;
	bool may = (vf->permitted & LL_CAP_FILES) != 0;

	gtk_widget_set_sensitive(vf->button, joined && !ended && may);
	if (vf->waiting != NULL &&
	    (ll_agent_session_caps(vf->sess) & LL_CAP_FILES)) {
		char *path = vf->waiting;

		vf->waiting = NULL;
		send_now(vf, path);
		g_free(path);
	}
}

void ll_viewer_files_free(struct ll_viewer_files *vf)
{
	static const struct ll_xfer_set_cbs none = { 0 };
	guint i;

	if (vf == NULL)
		return;
	/* offers after the viewer are refused, nobody being there to ask */
	ll_agent_session_xfers(vf->sess, &none, NULL);
	for (i = 0; i < vf->incoming->len; i++)
		ll_viewer_incoming_free(g_ptr_array_index(vf->incoming, i));
	g_ptr_array_free(vf->incoming, TRUE);
	g_free(vf->waiting);
	g_free(vf);
}
