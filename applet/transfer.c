/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Files between the technician and the user (docs/API.md section 5,
 * "File transfer"), the user's side: only while `files` is granted,
 * every file seen and placed by the user.
 *
 *  - "PRODUCT – Incoming file": the technician's offer with the file's
 *    name (printable), size and sender, the folder to save into (the XDG
 *    download folder unless the user picks another), _Save and _Refuse;
 *    then progress with rate and time left, _Cancel, and the outcome.
 *    Nothing is written before _Save; the name is made safe
 *    (ll_xfer_safe_name) and the file is created only inside the chosen
 *    folder, never over an existing one (ll_xfer_io.h).
 *  - "PRODUCT – Send a file": the technician asks for a file; the user
 *    picks one or refuses; the session bar's Send a _file… opens the
 *    same chooser for a file the user offers unasked.  The file sent
 *    shows its progress in a "PRODUCT – Sending a file" window with
 *    _Cancel, in plain words ("Waiting for your technician to accept
 *    the file…", "Your technician did not accept the file.").
 *
 * Offers and requests while `files` is not granted are refused unseen
 * ("not_permitted").  Every transfer that ends is reported to the audit
 * (type "file": name, size, SHA-256, outcome).  The windows are the
 * applet's own (ll_applet_track_window): the technician's injected input
 * never reaches them.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gtk/gtk.h>

#include "ll_err.h"
#include "ll_log.h"
#include "ll_reporter.h"
#include "ll_session_io.h"
#include "ll_ui.h"
#include "ll_util.h"
#include "ll_xfer_io.h"
#include "applet.h"
#include "session_int.h"

struct xfer_win;

struct ll_applet_files {
	struct ll_applet_session *s;
	struct ll_xfer_set *set;
	GPtrArray *wins; /* struct xfer_win *, owned */
	GList *picks;    /* struct pick *: Send a file choosers open */
};

struct xfer_win {
	struct ll_applet_files *f;
	struct ll_xfer *x;
	GtkWidget *win;
	GtkWidget *folder; /* in: where to save */
	char *default_dir;
	GtkWidget *progress;
	GtkWidget *status;
	GtkWidget *save, *refuse, *cancel, *close;
};

/* The technician's name, or words for them at the start of a sentence
 * (start) or inside one. */
static const char *sender(const struct ll_applet_files *f, bool start)
{
	const char *n = f->s->redeem.technician.display_name;

	if (n != NULL && n[0] != '\0')
		return n;
	return start ? "Your technician" : "your technician";
}

static void win_destroyed(GtkWidget *w, gpointer data)
{
	struct xfer_win *xw = data;

	xw->win = NULL;
	/* closing the window of a running transfer cancels it */
	if (xw->x != NULL) {
		ll_xfer_set_user(xw->x, NULL);
		if (ll_xfer_state(xw->x) != LL_XFER_DONE &&
		    ll_xfer_state(xw->x) != LL_XFER_FAILED)
			ll_xfer_cancel(xw->x);
	}
	g_ptr_array_remove(xw->f->wins, xw);
}

/*
 * What the technician did, in the user's words; other outcomes are the
 * transfer's own sentence ("saved as ..."), capitalised.
 */
static char *outcome_text(const struct ll_xfer *x)
{
	static const struct {
		enum ll_xfer_dir dir;
		enum ll_file_cancel_reason why;
		const char *text;
	} by_peer[] = {
		{ LL_XFER_OUT, LL_FILE_REFUSED,
		  "Your technician did not accept the file." },
		{ LL_XFER_OUT, LL_FILE_CANCELLED,
		  "Your technician stopped the transfer." },
		{ LL_XFER_IN, LL_FILE_CANCELLED,
		  "Your technician stopped the transfer. Nothing was "
		  "saved." },
	};
	const char *o = ll_xfer_outcome(x);
	size_t i;

	for (i = 0; ll_xfer_by_peer(x) && i < G_N_ELEMENTS(by_peer); i++)
		if (by_peer[i].dir == ll_xfer_dir(x) &&
		    by_peer[i].why == ll_xfer_reason(x))
			return g_strdup(by_peer[i].text);
	return g_strdup_printf("%c%s.", g_ascii_toupper(o[0]), o + 1);
}

static void show_state(struct xfer_win *xw)
{
	enum ll_xfer_state st = ll_xfer_state(xw->x);
	bool running = st == LL_XFER_RUNNING || st == LL_XFER_HASHING ||
		       st == LL_XFER_INTERRUPTED ||
		       (st == LL_XFER_OFFERED &&
			ll_xfer_dir(xw->x) == LL_XFER_OUT);
	bool over = st == LL_XFER_DONE || st == LL_XFER_FAILED;
	char *text;

	if (ll_xfer_size(xw->x) > 0)
		gtk_progress_bar_set_fraction(
			GTK_PROGRESS_BAR(xw->progress),
			(double)ll_xfer_done_bytes(xw->x) /
				(double)ll_xfer_size(xw->x));
	if (over) {
		text = outcome_text(xw->x);
		/* what the user read, in the log too (the GUI tests) */
		ll_info("file window says: %s", text);
	} else if (st == LL_XFER_OFFERED && ll_xfer_dir(xw->x) == LL_XFER_IN)
		text = g_strdup("Nothing is saved unless you choose Save.");
	else if (st == LL_XFER_INTERRUPTED)
		text = g_strdup("Connection interrupted \u2014 the transfer "
				"resumes when it is back\u2026");
	else if (st == LL_XFER_OFFERED && ll_xfer_dir(xw->x) == LL_XFER_OUT)
		text = g_strdup("Waiting for your technician to accept "
				"the file\u2026");
	else if (st == LL_XFER_HASHING)
		text = g_strdup("Checking the file\u2026");
	else
		text = ll_xfer_progress_text(xw->x);
	gtk_label_set_text(GTK_LABEL(xw->status), text);
	g_free(text);
	/* no bar for a file nothing of which moved */
	gtk_widget_set_visible(
		xw->progress,
		!(st == LL_XFER_OFFERED && ll_xfer_dir(xw->x) == LL_XFER_IN) &&
			!(over && ll_xfer_done_bytes(xw->x) == 0));
	gtk_widget_set_visible(xw->save,
			       st == LL_XFER_OFFERED &&
				       ll_xfer_dir(xw->x) == LL_XFER_IN);
	gtk_widget_set_visible(xw->refuse,
			       st == LL_XFER_OFFERED &&
				       ll_xfer_dir(xw->x) == LL_XFER_IN);
	if (xw->folder != NULL)
		gtk_widget_set_sensitive(xw->folder, st == LL_XFER_OFFERED);
	gtk_widget_set_visible(xw->cancel, running);
	gtk_widget_set_visible(xw->close, over);
	if (over)
		gtk_widget_grab_focus(xw->close);
}

static void on_save(GtkButton *b, gpointer data)
{
	struct xfer_win *xw = data;
	g_autofree char *dir = gtk_file_chooser_get_filename(
		GTK_FILE_CHOOSER(xw->folder));
	int fd;

	if (dir == NULL)
		dir = g_strdup(xw->default_dir);
	/* the folder the user chose, opened once: everything is created
	 * inside it with openat, never through a path */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		gtk_label_set_text(GTK_LABEL(xw->status),
				   "That folder cannot be opened.");
		return;
	}
	ll_info("the user saves the incoming file");
	ll_xfer_accept(xw->x, fd, NULL);
	close(fd);
	if (xw->x != NULL)
		show_state(xw);
}

static void on_refuse(GtkButton *b, gpointer data)
{
	struct xfer_win *xw = data;

	ll_info("the user refused the incoming file");
	ll_xfer_refuse(xw->x, LL_FILE_REFUSED);
}

static void on_cancel(GtkButton *b, gpointer data)
{
	struct xfer_win *xw = data;

	ll_info("the user cancelled a file transfer");
	ll_xfer_cancel(xw->x);
}

static void on_close(GtkButton *b, gpointer data)
{
	struct xfer_win *xw = data;

	gtk_widget_destroy(xw->win);
}

static GtkWidget *button(GtkWidget *box, const char *label, GCallback cb,
			 struct xfer_win *xw)
{
	GtkWidget *b = gtk_button_new_with_mnemonic(label);

	g_signal_connect(b, "clicked", cb, xw);
	gtk_box_pack_end(GTK_BOX(box), b, FALSE, FALSE, 0);
	gtk_widget_set_no_show_all(b, TRUE);
	return b;
}

static char *download_dir(void)
{
	const char *d = g_get_user_special_dir(G_USER_DIRECTORY_DOWNLOAD);

	if (d != NULL && g_file_test(d, G_FILE_TEST_IS_DIR))
		return g_strdup(d);
	return g_strdup(g_get_home_dir());
}

static struct xfer_win *win_new(struct ll_applet_files *f, struct ll_xfer *x)
{
	struct xfer_win *xw = g_new0(struct xfer_win, 1);
	bool in = ll_xfer_dir(x) == LL_XFER_IN;
	GtkWidget *box, *grid, *l, *buttons;
	char *title, *text, *size, *dir;

	xw->f = f;
	xw->x = x;
	ll_xfer_set_user(x, xw);
	title = ll_applet_title(in ? "Incoming file" : "Sending a file");
	xw->win = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(xw->win), title);
	gtk_window_set_default_size(GTK_WINDOW(xw->win), 460, -1);
	gtk_window_set_keep_above(GTK_WINDOW(xw->win), TRUE);
	g_free(title);
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	gtk_container_set_border_width(GTK_CONTAINER(box), 18);
	gtk_container_add(GTK_CONTAINER(xw->win), box);

	text = g_strdup_printf(in ? "%s wants to send you a file:"
				  : "Sending this file to %s:",
			       sender(f, in));
	l = gtk_label_new(text);
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_label_set_line_wrap(GTK_LABEL(l), TRUE);
	gtk_box_pack_start(GTK_BOX(box), l, FALSE, FALSE, 0);
	g_free(text);

	grid = gtk_grid_new();
	gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	gtk_box_pack_start(GTK_BOX(box), grid, FALSE, FALSE, 0);
	l = gtk_label_new("Name");
	gtk_label_set_xalign(GTK_LABEL(l), 1);
	gtk_grid_attach(GTK_GRID(grid), l, 0, 0, 1, 1);
	/* the peer's name, printable (ll_xfer_io) and never markup */
	l = gtk_label_new(ll_xfer_name(x));
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_MIDDLE);
	gtk_label_set_max_width_chars(GTK_LABEL(l), 48);
	gtk_grid_attach(GTK_GRID(grid), l, 1, 0, 1, 1);
	l = gtk_label_new("Size");
	gtk_label_set_xalign(GTK_LABEL(l), 1);
	gtk_grid_attach(GTK_GRID(grid), l, 0, 1, 1, 1);
	size = g_format_size_full(ll_xfer_size(x), G_FORMAT_SIZE_LONG_FORMAT);
	l = gtk_label_new(size);
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_grid_attach(GTK_GRID(grid), l, 1, 1, 1, 1);
	g_free(size);
	if (in) {
		l = gtk_label_new_with_mnemonic("Save _in");
		gtk_label_set_xalign(GTK_LABEL(l), 1);
		gtk_grid_attach(GTK_GRID(grid), l, 0, 2, 1, 1);
		xw->folder = gtk_file_chooser_button_new(
			"Save in", GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
		dir = download_dir();
		gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(
							    xw->folder),
						    dir);
		xw->default_dir = dir;
		gtk_widget_set_hexpand(xw->folder, TRUE);
		gtk_label_set_mnemonic_widget(GTK_LABEL(l), xw->folder);
		gtk_grid_attach(GTK_GRID(grid), xw->folder, 1, 2, 1, 1);
	}

	xw->progress = gtk_progress_bar_new();
	gtk_widget_set_no_show_all(xw->progress, TRUE);
	gtk_box_pack_start(GTK_BOX(box), xw->progress, FALSE, FALSE, 0);
	xw->status = gtk_label_new(NULL);
	gtk_label_set_xalign(GTK_LABEL(xw->status), 0);
	gtk_label_set_line_wrap(GTK_LABEL(xw->status), TRUE);
	gtk_box_pack_start(GTK_BOX(box), xw->status, FALSE, FALSE, 0);

	buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	gtk_box_pack_end(GTK_BOX(box), buttons, FALSE, FALSE, 0);
	xw->close = button(buttons, "_Close", G_CALLBACK(on_close), xw);
	xw->save = button(buttons, "_Save", G_CALLBACK(on_save), xw);
	xw->cancel = button(buttons, "_Cancel", G_CALLBACK(on_cancel), xw);
	xw->refuse = button(buttons, "_Refuse", G_CALLBACK(on_refuse), xw);
	g_signal_connect(xw->win, "destroy", G_CALLBACK(win_destroyed), xw);
	g_ptr_array_add(f->wins, xw);
	ll_applet_track_window(f->s->a, GTK_WINDOW(xw->win));
	show_state(xw);
	gtk_widget_show_all(xw->win);
	/* nothing is saved by a stray Enter: Refuse has the focus */
	if (in)
		gtk_widget_grab_focus(xw->refuse);
	return xw;
}

static void win_free(gpointer p)
{
	struct xfer_win *xw = p;

	if (xw->x != NULL)
		ll_xfer_set_user(xw->x, NULL);
	if (xw->win != NULL) {
		g_signal_handlers_disconnect_by_data(xw->win, xw);
		gtk_widget_destroy(xw->win);
	}
	g_free(xw->default_dir);
	g_free(xw);
}

/* ---- the set's events ---- */

static void x_offer(struct ll_xfer_set *set, struct ll_xfer *x, void *user)
{
	struct ll_applet_files *f = user;

	ll_info("the technician offers a file of %" G_GUINT64_FORMAT " bytes",
		ll_xfer_size(x));
	win_new(f, x);
	ll_applet_status(f->s, "The technician offers you a file.");
}

static void x_changed(struct ll_xfer_set *set, struct ll_xfer *x, void *user)
{
	struct xfer_win *xw = ll_xfer_get_user(x);

	if (xw != NULL)
		show_state(xw);
}

static void x_finished(struct ll_xfer_set *set, struct ll_xfer *x, void *user)
{
	struct ll_applet_files *f = user;

	ll_xfer_report(f->s->rep, x);
}

static void on_pick(GtkDialog *d, int response, gpointer data);

struct pick {
	struct ll_applet_files *f;
	GtkWidget *dialog;
	uint32_t id;
};

/* Before the response handler's data goes (GObject frees it after). */
static void pick_destroyed(GtkWidget *d, gpointer data)
{
	struct pick *p = data;

	(void)d;
	p->f->picks = g_list_remove(p->f->picks, p);
}

static void pick_fit(GtkWidget *w, gpointer data)
{
	GdkRectangle wa;
	GdkMonitor *mon = gdk_display_get_monitor_at_window(
		gtk_widget_get_display(w), gtk_widget_get_window(w));

	gdk_monitor_get_workarea(mon, &wa);
	gtk_window_resize(GTK_WINDOW(w), MIN(720, wa.width * 9 / 10),
			  MIN(480, wa.height * 9 / 10));
}

/* "PRODUCT – Send a file": a chooser for the file to send, for a
 * request of the technician's (id) or for the bar's Send a file… (0). */
static GtkWidget *pick_new(struct ll_applet_files *f, uint32_t id,
			   const char *text, const char *refuse)
{
	struct pick *p = g_new0(struct pick, 1);
	GtkWidget *d, *l;
	char *title = ll_applet_title("Send a file");

	p->f = f;
	p->id = id;
	d = gtk_file_chooser_dialog_new(title, NULL,
					GTK_FILE_CHOOSER_ACTION_OPEN, refuse,
					GTK_RESPONSE_CANCEL, "_Send",
					GTK_RESPONSE_ACCEPT, NULL);
	g_free(title);
	/* its own size (remembered by GTK, or made from the font) can be
	 * more than a small screen, the question and the buttons below its
	 * edge: set once it is mapped, after GTK's own */
	g_signal_connect_after(d, "map", G_CALLBACK(pick_fit), NULL);
	l = gtk_label_new(text);
	gtk_label_set_line_wrap(GTK_LABEL(l), TRUE);
	gtk_file_chooser_set_extra_widget(GTK_FILE_CHOOSER(d), l);
	p->dialog = d;
	f->picks = g_list_prepend(f->picks, p);
	g_signal_connect(d, "destroy", G_CALLBACK(pick_destroyed), p);
	g_signal_connect_data(d, "response", G_CALLBACK(on_pick), p,
			      (GClosureNotify)(void (*)(void))g_free, 0);
	ll_applet_track_window(f->s->a, GTK_WINDOW(d));
	return d;
}

static void x_request(struct ll_xfer_set *set, uint32_t id, const char *name,
		      void *user)
{
	struct ll_applet_files *f = user;
	GtkWidget *d;
	char *text, *dir, *want;

	text = g_strdup_printf("%s asks you for a file: \u201c%s\u201d. "
			       "Pick the file to send, or refuse.",
			       sender(f, true), name);
	d = pick_new(f, id, text, "_Refuse");
	g_free(text);
	/* the file asked for, if the download folder has one of that name:
	 * selected, never sent before the user says _Send */
	dir = download_dir();
	want = g_build_filename(dir, name, NULL);
	if (strchr(name, '/') == NULL &&
	    g_file_test(want, G_FILE_TEST_IS_REGULAR))
		gtk_file_chooser_select_filename(GTK_FILE_CHOOSER(d), want);
	else
		gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(d), dir);
	g_free(want);
	g_free(dir);
	gtk_widget_show_all(d);
	ll_applet_status(f->s, "The technician asks you for a file.");
}

/* The technician took its question back (a `fetch` given up) before the
 * user answered: the chooser closes, and the bar says why. */
static void x_request_withdrawn(struct ll_xfer_set *set, uint32_t id,
				void *user)
{
	struct ll_applet_files *f = user;
	GList *l;

	(void)set;
	for (l = f->picks; l != NULL; l = l->next) {
		struct pick *p = l->data;

		if (p->id == id) {
			ll_info("the technician no longer asks for a file");
			gtk_widget_destroy(p->dialog);
			ll_applet_status(f->s, "Your technician no longer "
					       "needs the file. Nothing was "
					       "sent.");
			return;
		}
	}
}

void ll_applet_files_pick(void *user)
{
	struct ll_applet_session *s = user;
	struct ll_applet_files *f = s->files;
	GtkWidget *d;
	char *text, *dir;

	if (f == NULL || !(s->granted & LL_CAP_FILES))
		return;
	text = g_strdup_printf("Pick a file to send to %s. Nothing is sent "
			       "until you choose Send.",
			       sender(f, false));
	d = pick_new(f, 0, text, "_Cancel");
	g_free(text);
	dir = download_dir();
	gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(d), dir);
	g_free(dir);
	gtk_widget_show_all(d);
	ll_info("the user picks a file to send");
}

static void on_pick(GtkDialog *d, int response, gpointer data)
{
	struct pick *p = data;
	struct ll_applet_files *f = p->f;
	g_autofree char *path = NULL;
	struct ll_xfer *x = NULL;

	/* files may have been taken back while the chooser was open */
	if (response == GTK_RESPONSE_ACCEPT && (f->s->granted & LL_CAP_FILES))
		path = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(d));
	if (path == NULL ||
	    ll_xfer_send_file(f->set, path, p->id, &x) != LL_OK) {
		ll_info("the user %s", p->id != 0 ? "refused to send a file"
						  : "sent no file");
		if (p->id != 0)
			ll_xfer_refuse_request(f->set, p->id);
	} else {
		ll_info("the user sends a file");
		win_new(f, x);
		ll_applet_status(f->s, "You are sending a file.");
	}
	gtk_widget_destroy(GTK_WIDGET(d));
}

/* ---- hooks for session.c ---- */

void ll_applet_files_attach(struct ll_applet_session *s)
{
	static const struct ll_xfer_set_cbs cbs = {
		.on_offer = x_offer,
		.on_request = x_request,
		.on_request_withdrawn = x_request_withdrawn,
		.on_changed = x_changed,
		.on_finished = x_finished,
	};
	struct ll_applet_files *f = s->files;

	if (f == NULL) {
		f = g_new0(struct ll_applet_files, 1);
		f->s = s;
		f->wins = g_ptr_array_new_with_free_func(win_free);
		f->set = ll_xfer_set_new(&cbs, f);
		s->files = f;
	}
	ll_xfer_set_attach(f->set, s->io);
}

void ll_applet_files_detach(struct ll_applet_session *s)
{
	if (s->files != NULL)
		ll_xfer_set_attach(s->files->set, NULL);
}

void ll_applet_files_free(struct ll_applet_session *s)
{
	struct ll_applet_files *f = s->files;

	if (f == NULL)
		return;
	s->files = NULL;
	while (f->picks != NULL) /* each takes itself off the list */
		gtk_widget_destroy(((struct pick *)f->picks->data)->dialog);
	g_ptr_array_unref(f->wins);
	ll_xfer_set_free(f->set);
	g_free(f);
}

/* Refused unseen while `files` is not granted. */
static void not_permitted(struct ll_applet_session *s,
			  const struct ll_control_msg *m)
{
	struct ll_control_msg c = { .type = LL_CONTROL_FILE_CANCEL };

	c.u.file_cancel.reason = LL_FILE_NOT_PERMITTED;
	if (m->type == LL_CONTROL_FILE_OFFER)
		c.u.file_cancel.channel = m->u.file_offer.channel;
	else if (m->type == LL_CONTROL_FILE_REQUEST)
		c.u.file_cancel.request = m->u.file_request.id;
	else
		return;
	ll_warn("refused a file %s: files are not granted",
		m->type == LL_CONTROL_FILE_OFFER ? "offer" : "request");
	ll_applet_send_ctl(s, &c);
}

bool ll_applet_files_control(struct ll_applet_session *s,
			     const struct ll_control_msg *m)
{
	switch (m->type) {
	case LL_CONTROL_FILE_OFFER:
	case LL_CONTROL_FILE_ACCEPT:
	case LL_CONTROL_FILE_REQUEST:
	case LL_CONTROL_FILE_CANCEL:
	case LL_CONTROL_FILE_DONE:
		break;
	default:
		return false;
	}
	if (!(s->granted & LL_CAP_FILES) || s->files == NULL) {
		not_permitted(s, m);
		return true;
	}
	return ll_xfer_set_control(s->files->set, m);
}

bool ll_applet_files_open(struct ll_applet_session *s, uint16_t channel)
{
	return (s->granted & LL_CAP_FILES) && s->files != NULL &&
	       ll_xfer_set_channel_open(s->files->set, channel);
}

void ll_applet_files_data(struct ll_session_io *io, uint16_t channel,
			  const uint8_t *data, size_t len, void *user)
{
	struct ll_applet_session *s = user;

	if (s->files == NULL ||
	    !ll_xfer_set_channel_data(s->files->set, channel, data, len))
		ll_session_io_channel_close(io, channel);
}

bool ll_applet_files_close(struct ll_applet_session *s, uint16_t channel)
{
	return s->files != NULL &&
	       ll_xfer_set_channel_close(s->files->set, channel);
}
