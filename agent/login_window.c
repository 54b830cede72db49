/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The login form: relay URL, user, password, organisation (optional) and
 * a TOTP code when the account needs one.  The call runs in a GTask
 * thread; the API's own sentence is shown when it refuses ("wrong
 * username or password", "this account is disabled", ...).
 *
 * A one-time password (the login answer's password_change_required) must
 * be changed before anything else: "PRODUCT Agent – Choose a new
 * password" asks for the old one (filled in from the form), the new one
 * and the new one again, changes it (ll_api_password_change, in a GTask)
 * and then goes on as after any login.  Cancel goes back to the form.
 */
#include <string.h>

#include "gui.h"
#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_log.h"
#include "ll_ui.h"

struct login_form {
	struct ll_gui *g;
	GtkWidget *url, *user, *password, *org, *code, *button, *error;
	GtkWidget *spinner;
	GtkWidget *grid;
};

struct login_job {
	struct ll_gui_conn *conn;
	char *user, *org, *password, *code;
	/* results */
	char *token, *name, *torg;
	bool need_code;
	bool must_change; /* a one-time password */
	char *error;
};

static void login_job_free(gpointer data)
{
	struct login_job *j = data;

	ll_gui_conn_free(j->conn);
	g_free(j->user);
	g_free(j->org);
	ll_secret_free(j->password);
	ll_secret_free(j->code);
	ll_secret_free(j->token);
	g_free(j->name);
	g_free(j->torg);
	g_free(j->error);
	g_free(j);
}

static void login_thread(GTask *task, gpointer src, gpointer data,
			 GCancellable *cancel)
{
	struct login_job *j = data;
	struct ll_client_error e;
	struct ll_api_client *c;
	struct ll_api_login l, l2;

	(void)src;
	(void)cancel;
	memset(&l, 0, sizeof(l));
	memset(&l2, 0, sizeof(l2));
	ll_client_error_clear(&e);
	if ((c = ll_gui_client_new(j->conn, &e)) == NULL)
		goto fail;
	if (ll_api_login(c, j->user, j->org, j->password, &l, &e) != 0)
		goto fail;
	if (l.mfa_token != NULL) {
		if (j->code == NULL) {
			j->need_code = true;
			j->error = g_strdup("This account needs the 6-digit "
					    "code from your authenticator "
					    "app.");
			goto out;
		}
		if (ll_api_login_mfa(c, l.mfa_token, j->code, &l2, &e) != 0)
			goto fail;
		ll_api_login_clear(&l);
		l = l2;
		memset(&l2, 0, sizeof(l2));
	}
	j->token = g_strdup(l.token);
	j->must_change = l.password_change_required;
	j->name = g_strdup(l.technician.name);
	j->torg = g_strdup(l.technician.org);
	goto out;
fail:
	j->error = g_strdup(e.message[0] != '\0' ? e.message
						 : ll_strerror(e.code));
out:
	ll_api_login_clear(&l);
	ll_api_login_clear(&l2);
	ll_api_client_free(c);
	g_task_return_boolean(task, j->error == NULL);
}

static void password_dialog_run(struct login_form *f, struct login_job *j);
static GtkWidget *row(GtkGrid *grid, int y, const char *label,
		      GtkWidget *entry);

/* The login (and the password change, if it needed one) is done:
 * remember who, and show the sessions. */
static void logged_in(struct login_form *f, struct login_job *j)
{
	struct ll_gui *g = f->g;

	gtk_label_set_text(GTK_LABEL(f->error), "");
	gtk_entry_set_text(GTK_ENTRY(f->password), "");
	gtk_entry_set_text(GTK_ENTRY(f->code), "");
	g_free(g->conn.url);
	g->conn.url = g_strdup(j->conn->url);
	ll_secret_free(g->conn.token);
	g->conn.token = g_steal_pointer(&j->token);
	g_free(g->tech_name);
	g->tech_name = g_strdup(j->name);
	g_free(g->tech_org);
	g->tech_org = g_strdup(j->torg);
	g_free(g->profile->user);
	g->profile->user = g_strdup(j->user);
	g_free(g->profile->org);
	g->profile->org = g_strdup(j->org);
	ll_gui_logged_in(g);
}

static void login_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct login_form *f = data;
	struct login_job *j = g_task_get_task_data(G_TASK(res));

	(void)src;
	gtk_spinner_stop(GTK_SPINNER(f->spinner));
	gtk_widget_set_sensitive(f->button, TRUE);
	if (j->error != NULL) {
		gtk_label_set_text(GTK_LABEL(f->error), j->error);
		if (j->need_code)
			gtk_widget_grab_focus(f->code);
		return;
	}
	if (j->must_change) {
		/* the dialog takes what the job holds; the task frees the
		 * emptied shell */
		struct login_job *mine = g_new0(struct login_job, 1);

		*mine = *j;
		memset(j, 0, sizeof(*j));
		password_dialog_run(f, mine);
		return;
	}
	logged_in(f, j);
}

/* ---- "Choose a new password", after a one-time password ---- */

struct pw_dialog {
	struct login_form *f;
	struct login_job *login; /* owned: the token, who, where */
	GtkWidget *dialog, *old_pw, *new_pw, *again, *error, *spinner;
	bool busy;
};

struct pw_job {
	struct ll_gui_conn *conn; /* with the login's token */
	char *old_pw, *new_pw;
	char *error;
};

static void pw_job_free(gpointer data)
{
	struct pw_job *j = data;

	ll_gui_conn_free(j->conn);
	ll_secret_free(j->old_pw);
	ll_secret_free(j->new_pw);
	g_free(j->error);
	g_free(j);
}

static void pw_thread(GTask *task, gpointer src, gpointer data,
		      GCancellable *cancel)
{
	struct pw_job *j = data;
	struct ll_client_error e;
	struct ll_api_client *c;

	(void)src;
	(void)cancel;
	ll_client_error_clear(&e);
	if ((c = ll_gui_client_new(j->conn, &e)) == NULL ||
	    ll_api_password_change(c, j->old_pw, j->new_pw, &e) != 0)
		j->error = g_strdup(e.message[0] != '\0'
					    ? e.message
					    : ll_strerror(e.code));
	ll_api_client_free(c);
	g_task_return_boolean(task, j->error == NULL);
}

static void pw_dialog_free(struct pw_dialog *d)
{
	gtk_widget_destroy(d->dialog);
	login_job_free(d->login);
	g_free(d);
}

static void pw_busy(struct pw_dialog *d, bool busy)
{
	d->busy = busy;
	if (busy)
		gtk_spinner_start(GTK_SPINNER(d->spinner));
	else
		gtk_spinner_stop(GTK_SPINNER(d->spinner));
	gtk_dialog_set_response_sensitive(GTK_DIALOG(d->dialog),
					  GTK_RESPONSE_OK, !busy);
	gtk_dialog_set_response_sensitive(GTK_DIALOG(d->dialog),
					  GTK_RESPONSE_CANCEL, !busy);
}

static void pw_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct pw_dialog *d = data;
	struct pw_job *j = g_task_get_task_data(G_TASK(res));

	(void)src;
	pw_busy(d, false);
	if (j->error != NULL) {
		gtk_label_set_text(GTK_LABEL(d->error), j->error);
		return;
	}
	ll_info("login: the one-time password is changed");
	logged_in(d->f, d->login);
	pw_dialog_free(d);
}

/* Change: the two new ones must agree; the relay judges the rest. */
static void pw_change(struct pw_dialog *d)
{
	const char *o = gtk_entry_get_text(GTK_ENTRY(d->old_pw));
	const char *n = gtk_entry_get_text(GTK_ENTRY(d->new_pw));
	const char *a = gtk_entry_get_text(GTK_ENTRY(d->again));
	struct pw_job *j;
	g_autoptr(GTask) task = NULL;

	if (o[0] == '\0' || n[0] == '\0') {
		gtk_label_set_text(GTK_LABEL(d->error),
				   "Enter the old and the new password.");
		return;
	}
	if (strcmp(n, a) != 0) {
		ll_info("login: the new passwords differ; asking again");
		gtk_label_set_text(GTK_LABEL(d->error),
				   "The new password and its repetition "
				   "differ.");
		gtk_widget_grab_focus(d->again);
		return;
	}
	j = g_new0(struct pw_job, 1);
	j->conn = ll_gui_conn_copy(&d->f->g->conn);
	g_free(j->conn->url);
	j->conn->url = g_strdup(d->login->conn->url);
	ll_secret_free(j->conn->token);
	j->conn->token = g_strdup(d->login->token);
	j->old_pw = g_strdup(o);
	j->new_pw = g_strdup(n);
	gtk_label_set_text(GTK_LABEL(d->error), "");
	pw_busy(d, true);
	/* the task holds the dialog until it is done; Cancel waits */
	task = g_task_new(d->dialog, NULL, pw_done, d);
	g_task_set_task_data(task, j, pw_job_free);
	g_task_run_in_thread(task, pw_thread);
}

static void pw_response(GtkDialog *dialog, gint response, gpointer data)
{
	struct pw_dialog *d = data;
	struct login_form *f = d->f;

	(void)dialog;
	if (d->busy)
		return; /* the change is under way: its answer decides */
	if (response == GTK_RESPONSE_OK) {
		pw_change(d);
		return;
	}
	/* Cancel or closed: not logged in (the token serves nothing else
	 * and expires by itself). */
	gtk_label_set_text(GTK_LABEL(f->error),
			   "This account has a one-time password: choose a "
			   "new one to log in.");
	pw_dialog_free(d);
}

static GtkWidget *pw_entry(GtkGrid *grid, int y, const char *label)
{
	GtkWidget *e = gtk_entry_new();

	gtk_entry_set_visibility(GTK_ENTRY(e), FALSE);
	gtk_entry_set_input_purpose(GTK_ENTRY(e), GTK_INPUT_PURPOSE_PASSWORD);
	gtk_entry_set_activates_default(GTK_ENTRY(e), TRUE);
	return row(grid, y, label, e);
}

/* Takes j over. */
static void password_dialog_run(struct login_form *f, struct login_job *j)
{
	struct pw_dialog *d = g_new0(struct pw_dialog, 1);
	GtkWidget *area, *grid, *intro;
	char *title;

	ll_info("login: a one-time password; asking for a new one");
	d->f = f;
	d->login = j;
	title = g_strdup_printf("%s Agent \u2013 Choose a new password",
				ll_ui_brand()->product);
	d->dialog = gtk_dialog_new_with_buttons(
		title, f->g->window,
		GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, "_Cancel",
		GTK_RESPONSE_CANCEL, "_Change password", GTK_RESPONSE_OK,
		NULL);
	g_free(title);
	gtk_dialog_set_default_response(GTK_DIALOG(d->dialog),
					GTK_RESPONSE_OK);
	area = gtk_dialog_get_content_area(GTK_DIALOG(d->dialog));
	grid = gtk_grid_new();
	gtk_container_set_border_width(GTK_CONTAINER(grid), 12);
	gtk_grid_set_row_spacing(GTK_GRID(grid), 8);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	intro = gtk_label_new("You logged in with a one-time password. "
			      "Choose your own password to go on.");
	gtk_label_set_line_wrap(GTK_LABEL(intro), TRUE);
	gtk_grid_attach(GTK_GRID(grid), intro, 0, 0, 2, 1);
	d->old_pw = pw_entry(GTK_GRID(grid), 1, "_Old password");
	gtk_entry_set_text(GTK_ENTRY(d->old_pw), j->password);
	d->new_pw = pw_entry(GTK_GRID(grid), 2, "_New password");
	d->again = pw_entry(GTK_GRID(grid), 3, "_Repeat new password");
	d->error = gtk_label_new("");
	gtk_label_set_line_wrap(GTK_LABEL(d->error), TRUE);
	gtk_style_context_add_class(gtk_widget_get_style_context(d->error),
				    "error");
	gtk_grid_attach(GTK_GRID(grid), d->error, 0, 4, 2, 1);
	d->spinner = gtk_spinner_new();
	gtk_grid_attach(GTK_GRID(grid), d->spinner, 0, 5, 2, 1);
	gtk_container_add(GTK_CONTAINER(area), grid);
	g_signal_connect(d->dialog, "response", G_CALLBACK(pw_response), d);
	gtk_widget_show_all(d->dialog);
	gtk_widget_grab_focus(d->new_pw);
}

static char *entry_text(GtkWidget *e)
{
	const char *t = gtk_entry_get_text(GTK_ENTRY(e));

	while (*t == ' ')
		t++;
	return t[0] != '\0' ? g_strdup(t) : NULL;
}

static void on_login(GtkWidget *w, gpointer data)
{
	struct login_form *f = data;
	struct login_job *j;
	g_autoptr(GTask) task = NULL;
	char *url = entry_text(f->url);

	(void)w;
	if (url == NULL || !g_str_has_prefix(url, "https://")) {
		gtk_label_set_text(GTK_LABEL(f->error),
				   "The relay address starts with https://");
		g_free(url);
		return;
	}
	j = g_new0(struct login_job, 1);
	j->conn = ll_gui_conn_copy(&f->g->conn);
	g_free(j->conn->url);
	j->conn->url = url;
	ll_secret_free(j->conn->token);
	j->conn->token = NULL;
	j->user = entry_text(f->user);
	j->org = entry_text(f->org);
	j->password = g_strdup(gtk_entry_get_text(GTK_ENTRY(f->password)));
	j->code = entry_text(f->code);
	if (j->user == NULL || j->password[0] == '\0') {
		gtk_label_set_text(GTK_LABEL(f->error),
				   "Enter your user name and password.");
		login_job_free(j);
		return;
	}
	gtk_widget_set_sensitive(f->button, FALSE);
	gtk_spinner_start(GTK_SPINNER(f->spinner));
	gtk_label_set_text(GTK_LABEL(f->error), "");
	/* the task holds the form's widget (and so f) until it is done */
	task = g_task_new(f->grid, NULL, login_done, f);
	g_task_set_task_data(task, j, login_job_free);
	g_task_run_in_thread(task, login_thread);
}

static GtkWidget *row(GtkGrid *grid, int y, const char *label,
		      GtkWidget *entry)
{
	GtkWidget *l = gtk_label_new_with_mnemonic(label);

	gtk_widget_set_halign(l, GTK_ALIGN_END);
	gtk_label_set_mnemonic_widget(GTK_LABEL(l), entry);
	gtk_widget_set_hexpand(entry, TRUE);
	gtk_grid_attach(grid, l, 0, y, 1, 1);
	gtk_grid_attach(grid, entry, 1, y, 1, 1);
	return entry;
}

static void form_gone(gpointer data, GObject *where)
{
	(void)where;
	g_free(data);
}

GtkWidget *ll_login_view_new(struct ll_gui *g)
{
	struct login_form *f = g_new0(struct login_form, 1);
	GtkWidget *grid = gtk_grid_new(), *title, *box;

	f->g = g;
	gtk_grid_set_row_spacing(GTK_GRID(grid), 8);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	gtk_widget_set_halign(grid, GTK_ALIGN_CENTER);
	gtk_widget_set_valign(grid, GTK_ALIGN_CENTER);
	gtk_widget_set_size_request(grid, 420, -1);
	title = gtk_label_new(NULL);
	gtk_label_set_markup(GTK_LABEL(title),
			     "<span size='x-large' weight='bold'>Log in to "
			     "the relay</span>");
	gtk_grid_attach(GTK_GRID(grid), title, 0, 0, 2, 1);
	f->url = row(GTK_GRID(grid), 1, "_Relay", gtk_entry_new());
	gtk_entry_set_placeholder_text(GTK_ENTRY(f->url),
				       "https://relay.example.org:8443");
	if (g->conn.url != NULL)
		gtk_entry_set_text(GTK_ENTRY(f->url), g->conn.url);
	f->user = row(GTK_GRID(grid), 2, "_User", gtk_entry_new());
	if (g->profile->user != NULL)
		gtk_entry_set_text(GTK_ENTRY(f->user), g->profile->user);
	f->password = row(GTK_GRID(grid), 3, "_Password", gtk_entry_new());
	gtk_entry_set_visibility(GTK_ENTRY(f->password), FALSE);
	gtk_entry_set_input_purpose(GTK_ENTRY(f->password),
				    GTK_INPUT_PURPOSE_PASSWORD);
	f->org = row(GTK_GRID(grid), 4, "_Organisation", gtk_entry_new());
	gtk_entry_set_placeholder_text(GTK_ENTRY(f->org), "optional");
	if (g->profile->org != NULL)
		gtk_entry_set_text(GTK_ENTRY(f->org), g->profile->org);
	f->code = row(GTK_GRID(grid), 5, "_Code", gtk_entry_new());
	gtk_entry_set_placeholder_text(GTK_ENTRY(f->code),
				       "authenticator code, if asked");
	gtk_entry_set_input_purpose(GTK_ENTRY(f->code), GTK_INPUT_PURPOSE_PIN);
	f->error = gtk_label_new("");
	gtk_label_set_line_wrap(GTK_LABEL(f->error), TRUE);
	gtk_style_context_add_class(gtk_widget_get_style_context(f->error),
				    "error");
	gtk_grid_attach(GTK_GRID(grid), f->error, 0, 6, 2, 1);
	box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	f->spinner = gtk_spinner_new();
	f->button = gtk_button_new_with_mnemonic("_Log in");
	ll_ui_add_class(f->button, "ll-accent");
	gtk_widget_set_can_default(f->button, TRUE);
	gtk_box_pack_end(GTK_BOX(box), f->button, FALSE, FALSE, 0);
	gtk_box_pack_end(GTK_BOX(box), f->spinner, FALSE, FALSE, 0);
	gtk_grid_attach(GTK_GRID(grid), box, 0, 7, 2, 1);
	g_signal_connect(f->button, "clicked", G_CALLBACK(on_login), f);
	g_signal_connect(f->password, "activate", G_CALLBACK(on_login), f);
	g_signal_connect(f->code, "activate", G_CALLBACK(on_login), f);
	f->grid = grid;
	g_object_weak_ref(G_OBJECT(grid), form_gone, f);
	return grid;
}
