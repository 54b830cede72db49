/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "Sign in with single sign-on" (RFC 8252): the relay starts a sign-in
 * with the agent's PKCE challenge (ll_sso.h, the code the CLI's `login
 * --sso` runs too), the system browser opens at the org's identity
 * provider, and "PRODUCT Agent – Single sign-on" says to finish there,
 * with the address to copy should no browser have opened, and Cancel.
 * Meanwhile a GTask asks the relay at the pace it names; signed in, the
 * agent goes on as after a password login, and a refusal shows the
 * relay's sentence in the form (ll_login_finish, login.h).  Both relay
 * steps run off the main loop (ll_gui_call); the verifier stays in this
 * process.
 */
#include <string.h>

#include "ll_err.h"
#include "ll_log.h"
#include "ll_sso.h"
#include "ll_ui.h"
#include "login.h"

/* The dialog's "Copy address": copies, stays open. */
#define RESPONSE_COPY 1

/* One wait for the browser, from the dialog's opening to the call's end;
 * the job of its ll_gui_call, freed by wait_free. */
struct sso_wait {
	struct login_form *f;
	struct login_job *j;  /* owned */
	GtkWidget *dialog;    /* NULL once closed */
	GCancellable *cancel; /* fired when the dialog goes */
	char *url;
};

static int start_run(void *job, struct ll_api_client *c,
		     const struct ll_gui_conn *conn, struct ll_client_error *e)
{
	struct login_job *j = job;

	(void)conn;
	if ((j->flow = ll_sso_start(c, j->org, e)) != NULL)
		return 0;
	ll_login_job_failed(j, e);
	return e->code != 0 ? e->code : LL_ERR_INTERNAL;
}

/* In the worker: w->j and w->cancel only, which stay as they are until
 * the call is over. */
static int wait_run(void *job, struct ll_api_client *c,
		    const struct ll_gui_conn *conn, struct ll_client_error *e)
{
	struct sso_wait *w = job;
	struct ll_api_login l;
	int r;

	(void)conn;
	memset(&l, 0, sizeof(l));
	if ((r = ll_sso_wait(w->j->flow, c, w->cancel, &l, e)) != 0) {
		ll_login_job_failed(w->j, e);
	} else {
		ll_login_job_take(w->j, &l);
		/* who the provider said, as the profile remembers a user */
		w->j->user = g_strdup(l.technician.name);
	}
	ll_api_login_clear(&l);
	return r;
}

/* Not called when cancelled: the form is the technician's again
 * already. */
static void wait_done(void *job, const struct ll_client_error *e, void *user)
{
	struct sso_wait *w = job;

	(void)user;
	if (w->dialog != NULL)
		gtk_widget_destroy(w->dialog);
	ll_login_job_settle(w->j, e);
	ll_login_finish(w->f, w->j);
}

static void wait_free(void *job)
{
	struct sso_wait *w = job;

	ll_login_job_free(w->j);
	g_object_unref(w->cancel);
	g_free(w->url);
	g_free(w);
}

/* The dialog gone, by Cancel, Escape or with the main window: nothing
 * waits any more. */
static void dialog_gone(GtkWidget *dialog, gpointer data)
{
	struct sso_wait *w = data;

	(void)dialog;
	w->dialog = NULL;
	g_cancellable_cancel(w->cancel);
}

static void dialog_response(GtkDialog *dialog, gint response, gpointer data)
{
	struct sso_wait *w = data;
	struct login_form *f = w->f;

	if (response == RESPONSE_COPY) {
		gtk_clipboard_set_text(
			gtk_widget_get_clipboard(GTK_WIDGET(dialog),
						 GDK_SELECTION_CLIPBOARD),
			w->url, -1);
		ll_info("login: single sign-on: the address is copied");
		return;
	}
	ll_info("login: single sign-on cancelled");
	gtk_widget_destroy(GTK_WIDGET(dialog));
	ll_login_form_busy(f, false);
	gtk_label_set_text(GTK_LABEL(f->error), "Single sign-on cancelled.");
}

static GtkWidget *label_new(const char *text)
{
	GtkWidget *l = gtk_label_new(text);

	gtk_label_set_line_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(l), 60);
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	return l;
}

/* "Finish signing in in your browser…"; why: NULL when the browser
 * opened, else why it did not. */
static void dialog_run(struct sso_wait *w, const char *why)
{
	g_autofree char *title = g_strdup_printf(
		"%s Agent \u2013 Single sign-on", ll_ui_brand()->product);
	g_autofree char *text = NULL;
	GtkWidget *box, *head, *url, *spinner, *cancel;

	w->dialog = gtk_dialog_new();
	gtk_window_set_title(GTK_WINDOW(w->dialog), title);
	gtk_window_set_transient_for(GTK_WINDOW(w->dialog), w->f->g->window);
	gtk_window_set_modal(GTK_WINDOW(w->dialog), TRUE);
	gtk_window_set_destroy_with_parent(GTK_WINDOW(w->dialog), TRUE);
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	gtk_container_set_border_width(GTK_CONTAINER(box), 18);
	gtk_container_add(GTK_CONTAINER(gtk_dialog_get_content_area(
				  GTK_DIALOG(w->dialog))),
			  box);
	head = gtk_label_new(NULL);
	gtk_label_set_markup(GTK_LABEL(head),
			     "<span size='large' weight='bold'>Finish signing "
			     "in in your browser\u2026</span>");
	gtk_label_set_xalign(GTK_LABEL(head), 0);
	gtk_box_pack_start(GTK_BOX(box), head, FALSE, FALSE, 0);
	if (why == NULL)
		text = g_strdup(
			"Your browser shows your organisation\u2019s sign-in "
			"page. Once you are signed in there, this window "
			"closes by itself. If no browser window opened, open "
			"this address in one:");
	else
		text = g_strdup_printf(
			"No browser could be opened (%s). Open this address "
			"in a browser on this computer and sign in there; "
			"this window closes by itself once you are signed "
			"in:",
			why);
	gtk_box_pack_start(GTK_BOX(box), label_new(text), FALSE, FALSE, 0);
	url = label_new(w->url);
	gtk_label_set_line_wrap_mode(GTK_LABEL(url), PANGO_WRAP_CHAR);
	gtk_label_set_selectable(GTK_LABEL(url), TRUE);
	atk_object_set_name(gtk_widget_get_accessible(url), "Sign-in address");
	gtk_box_pack_start(GTK_BOX(box), url, FALSE, FALSE, 0);
	spinner = gtk_spinner_new();
	gtk_spinner_start(GTK_SPINNER(spinner));
	gtk_box_pack_start(GTK_BOX(box), spinner, FALSE, FALSE, 0);
	gtk_dialog_add_button(GTK_DIALOG(w->dialog), "C_opy address",
			      RESPONSE_COPY);
	cancel = gtk_dialog_add_button(GTK_DIALOG(w->dialog), "_Cancel",
				       GTK_RESPONSE_CANCEL);
	g_signal_connect(w->dialog, "response", G_CALLBACK(dialog_response),
			 w);
	g_signal_connect(w->dialog, "destroy", G_CALLBACK(dialog_gone), w);
	gtk_widget_show_all(w->dialog);
	/* not the address: a focused selectable label selects it all */
	gtk_widget_grab_focus(cancel);
}

/* The sign-in is started: the browser, the dialog and the wait; takes j
 * over. */
static void wait_start(struct login_form *f, struct login_job *j)
{
	static const struct ll_gui_call how = {
		.run = wait_run,
		.done = wait_done,
		.job_free = wait_free,
	};
	struct sso_wait *w = g_new0(struct sso_wait, 1);
	g_autoptr(GError) error = NULL;

	w->f = f;
	w->j = j;
	w->cancel = g_cancellable_new();
	w->url = g_strdup(ll_sso_url(j->flow));
	/* the system browser, whatever the desktop's default for https
	 * is: the technician's own, with their provider's session */
	if (gtk_show_uri_on_window(f->g->window, w->url, GDK_CURRENT_TIME,
				   &error))
		ll_info("login: single sign-on: the browser opened at the "
			"identity provider");
	else
		ll_warn("login: single sign-on: no browser opened: %s",
			error->message);
	dialog_run(w, error != NULL ? error->message : NULL);
	ll_info("login: single sign-on: waiting for the browser");
	/* the call holds the form's widget (and so f) until it is done */
	ll_gui_call(j->conn, f->grid, w->cancel, &how, w, NULL);
}

static void start_done(void *job, const struct ll_client_error *e, void *user)
{
	struct login_form *f = user;
	struct login_job *j = job, *mine;

	ll_login_job_settle(j, e);
	if (j->error != NULL) {
		ll_login_finish(f, j);
		return;
	}
	/* the wait takes what the job holds; this call frees the shell */
	mine = g_new0(struct login_job, 1);
	*mine = *j;
	memset(j, 0, sizeof(*j));
	wait_start(f, mine);
}

void ll_sso_login_start(struct login_form *f)
{
	static const struct ll_gui_call how = {
		.run = start_run,
		.done = start_done,
		.job_free = ll_login_job_free,
	};
	struct login_job *j;

	if ((j = ll_login_job_new(f)) == NULL)
		return;
	j->sso = true;
	ll_login_form_busy(f, true);
	gtk_label_set_text(GTK_LABEL(f->error), "");
	ll_info("login: single sign-on through %s", j->conn->url);
	ll_gui_call(j->conn, f->grid, NULL, &how, j, f);
}
