/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The login form: relay URL, user, password, organisation (optional) and
 * a TOTP code when the account needs one.  The call runs in a GTask
 * thread; the API's own sentence is shown when it refuses ("wrong
 * username or password", "this account is disabled", ...).
 */
#include <string.h>

#include "gui.h"
#include "ll_crypto.h"
#include "ll_err.h"
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

static void login_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct login_form *f = data;
	struct login_job *j = g_task_get_task_data(G_TASK(res));
	struct ll_gui *g = f->g;

	(void)src;
	gtk_spinner_stop(GTK_SPINNER(f->spinner));
	gtk_widget_set_sensitive(f->button, TRUE);
	if (j->error != NULL) {
		gtk_label_set_text(GTK_LABEL(f->error), j->error);
		if (j->need_code)
			gtk_widget_grab_focus(f->code);
		return;
	}
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
	GTask *task;
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
	g_object_unref(task);
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
