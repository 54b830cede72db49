/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The login form: relay URL, user, password, organisation (optional) and
 * a second-factor code when the account needs one: 6 digits are the
 * authenticator's TOTP code, anything else is tried as one of the
 * single-use recovery codes (the account's phone may be lost).  The call runs in a GTask
 * thread; the API's own sentence is shown when it refuses ("wrong
 * username or password", "this account is disabled", ...).  "Sign in
 * with single sign-on" takes the other way in, through the org's
 * identity provider in the browser (sso_window.c); both end in
 * ll_login_finish (login.h).
 *
 * A one-time password (the login answer's password_change_required) must
 * be changed before anything else: "PRODUCT Agent – Choose a new
 * password" asks for the old one (filled in from the form), the new one
 * and the new one again, changes it (ll_api_password_change, in a GTask)
 * and then goes on as after any login.  Cancel goes back to the form.
 *
 * Trust on first use: when the relay's certificate does not verify
 * against the system's CAs or the CA file, the login asks the relay for
 * the certificate it presents (ll_tls_peer_cert_fetch, which refuses it
 * all the same) and "PRODUCT Agent – Check the relay's certificate"
 * shows its SHA-256 fingerprint in groups to compare with the one
 * `lifeline-relay init` (and scripts/run.sh) printed.  Trusting stores
 * it in the profile (ll_profile_trust_relay) as an extra anchor for this
 * relay and logs in again: verification stays on.  A relay that later
 * presents another certificate is refused: "PRODUCT Agent – The relay's
 * certificate has changed" has no button that goes on; only removing
 * the stored entry lets a new certificate be compared and trusted.
 */
#include <stdlib.h>
#include <string.h>

#include "ll_control.h"
#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_log.h"
#include "ll_sso.h"
#include "ll_tls.h"
#include "ll_ui.h"
#include "login.h"

void ll_login_job_free(gpointer data)
{
	struct login_job *j = data;

	ll_gui_conn_free(j->conn);
	g_free(j->user);
	g_free(j->org);
	g_free(j->hostport);
	g_free(j->host);
	g_free(j->known_fp);
	g_free(j->peer_pem);
	g_free(j->peer_fp);
	ll_secret_free(j->password);
	ll_secret_free(j->code);
	ll_secret_free(j->token);
	g_free(j->name);
	g_free(j->torg);
	g_free(j->caps);
	g_free(j->error);
	ll_sso_free(j->flow);
	g_free(j);
}

/* In the worker: the certificate the relay presents, for the technician
 * to compare (or to notice that it changed). */
static void fetch_peer_cert(struct login_job *j)
{
	char fp[96], why[256] = "";
	char *pem = NULL;

	if (ll_tls_peer_cert_fetch(j->host, j->port, 10000, &pem, fp,
				   sizeof(fp), why, sizeof(why)) != LL_OK) {
		ll_info("login: no certificate from %s: %s", j->hostport, why);
		return;
	}
	j->peer_pem = g_strdup(pem);
	j->peer_fp = g_strdup(fp);
	free(pem);
}

/* Six digits: the authenticator's code; else a recovery code. */
static bool is_totp_code(const char *code)
{
	size_t i;

	for (i = 0; code[i] != '\0'; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return i == 6;
}

/* The second step of an mfa_required login, with whichever code the
 * form holds; a refused code said in plain words. */
static int login_second_factor(struct ll_api_client *c, struct login_job *j,
			       const char *mfa_token, struct ll_api_login *out,
			       struct ll_client_error *e)
{
	bool totp;
	int r;

	g_strchomp(j->code);
	totp = is_totp_code(j->code);
	r = totp ? ll_api_login_mfa(c, mfa_token, j->code, out, e)
		 : ll_api_login_recovery(c, mfa_token, j->code, out, e);
	if (r != 0 && strcmp(e->api_code, "invalid_mfa_code") == 0)
		g_strlcpy(e->message,
			  totp ? "This code was not accepted: it is "
				 "mistyped, too old, or was already used. "
				 "Wait for the next code and try again."
			       : "This recovery code was not accepted: it "
				 "is mistyped, or it was already used. "
				 "Each recovery code works only once.",
			  sizeof(e->message));
	return r;
}

void ll_login_job_take(struct login_job *j, const struct ll_api_login *l)
{
	j->token = g_strdup(l->token);
	j->must_change = l->password_change_required;
	j->name = g_strdup(l->technician.name);
	j->torg = g_strdup(l->technician.org);
	if (l->technician.permissions != NULL) {
		char caps[LL_PERM_TEXT_MAX];

		if (ll_perm_format(l->technician.caps, caps, sizeof(caps)) ==
		    LL_OK)
			j->caps = g_strdup(caps);
	}
	for (size_t i = 0; i < l->technician.n_permissions; i++)
		if (strcmp(l->technician.permissions[i], "admin") == 0)
			j->admin = true;
}

void ll_login_job_failed(struct login_job *j, const struct ll_client_error *e)
{
	j->error = g_strdup(e->message[0] != '\0' ? e->message
						  : ll_strerror(e->code));
	if (e->code == LL_ERR_TLS_VERIFY)
		fetch_peer_cert(j);
}

void ll_login_job_settle(struct login_job *j, const struct ll_client_error *e)
{
	/* only when no client could be made: nothing reached the relay,
	 * so there is no certificate to fetch on the main loop */
	if (j->error == NULL && e->code != 0)
		ll_login_job_failed(j, e);
}

static int login_run(void *job, struct ll_api_client *c,
		     const struct ll_gui_conn *conn, struct ll_client_error *e)
{
	struct login_job *j = job;
	struct ll_api_login l, l2;
	int r;

	(void)conn;
	memset(&l, 0, sizeof(l));
	memset(&l2, 0, sizeof(l2));
	if ((r = ll_api_login(c, j->user, j->org, j->password, &l, e)) != 0)
		goto fail;
	if (l.mfa_token != NULL) {
		if (j->code == NULL) {
			j->need_code = true;
			j->error = g_strdup("This account needs the 6-digit "
					    "code from your authenticator "
					    "app, or one of your recovery "
					    "codes.");
			goto out;
		}
		if ((r = login_second_factor(c, j, l.mfa_token, &l2, e)) != 0)
			goto fail;
		ll_api_login_clear(&l);
		l = l2;
		memset(&l2, 0, sizeof(l2));
	}
	ll_login_job_take(j, &l);
	goto out;
fail:
	ll_login_job_failed(j, e);
out:
	ll_api_login_clear(&l);
	ll_api_login_clear(&l2);
	return r;
}

static void password_dialog_run(struct login_form *f, struct login_job *j);
static void trust_dialog_run(struct login_form *f, struct login_job *j);
static void changed_dialog_run(struct login_form *f, struct login_job *j);
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
	g_free(g->conn.ca_file);
	g->conn.ca_file = g_strdup(j->conn->ca_file);
	g_free(g->conn.ca_pem);
	g->conn.ca_pem = g_strdup(j->conn->ca_pem);
	ll_secret_free(g->conn.token);
	g->conn.token = g_steal_pointer(&j->token);
	g_free(g->tech_name);
	g->tech_name = g_strdup(j->name);
	g_free(g->tech_org);
	g->tech_org = g_strdup(j->torg);
	g->admin = j->admin;
	/* what the viewer greys out; the applet enforces it */
	g_free(g->profile->capabilities);
	g->profile->capabilities = g_steal_pointer(&j->caps);
	g_free(g->profile->user);
	g->profile->user = g_strdup(j->user);
	g_free(g->profile->org);
	g->profile->org = g_strdup(j->org);
	ll_gui_logged_in(g);
}

void ll_login_form_busy(struct login_form *f, bool busy)
{
	if (busy)
		gtk_spinner_start(GTK_SPINNER(f->spinner));
	else
		gtk_spinner_stop(GTK_SPINNER(f->spinner));
	gtk_widget_set_sensitive(f->button, !busy);
	gtk_widget_set_sensitive(f->sso_button, !busy);
}

void ll_login_finish(struct login_form *f, struct login_job *j)
{
	ll_login_form_busy(f, false);
	if (j->error != NULL && j->peer_fp != NULL &&
	    (j->known_fp == NULL || strcmp(j->known_fp, j->peer_fp) != 0)) {
		gtk_label_set_text(GTK_LABEL(f->error), j->error);
		if (j->known_fp == NULL)
			trust_dialog_run(f, j);
		else
			changed_dialog_run(f, j);
		return;
	}
	if (j->error != NULL) {
		/* the relay's sentence, as the form shows it */
		ll_info("login: refused: %s", j->error);
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

static void login_done(void *job, const struct ll_client_error *e, void *user)
{
	ll_login_job_settle(job, e);
	ll_login_finish(user, job);
}

/* ---- "Choose a new password", after a one-time password ---- */

struct pw_dialog {
	struct login_form *f;
	struct login_job *login; /* owned: the token, who, where */
	GtkWidget *dialog, *old_pw, *new_pw, *again, *error, *spinner;
	bool busy;
};

struct pw_job {
	char *old_pw, *new_pw;
};

static void pw_job_free(void *data)
{
	struct pw_job *j = data;

	ll_secret_free(j->old_pw);
	ll_secret_free(j->new_pw);
	g_free(j);
}

static int pw_run(void *job, struct ll_api_client *c,
		  const struct ll_gui_conn *conn, struct ll_client_error *e)
{
	struct pw_job *j = job;

	return ll_api_password_change(c, j->old_pw, j->new_pw, e);
}

static void pw_dialog_free(struct pw_dialog *d)
{
	gtk_widget_destroy(d->dialog);
	ll_login_job_free(d->login);
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

static void pw_done(void *job, const struct ll_client_error *e, void *user)
{
	struct pw_dialog *d = user;

	pw_busy(d, false);
	if (e->code != 0) {
		gtk_label_set_text(GTK_LABEL(d->error), ll_gui_error_text(e));
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
	static const struct ll_gui_call how = { pw_run, pw_done, pw_job_free };
	/* the login's relay and token, the window's trust */
	struct ll_gui_conn conn = { .url = d->login->conn->url,
				    .ca_file = d->f->g->conn.ca_file,
				    .ca_pem = d->f->g->conn.ca_pem,
				    .token = d->login->token };
	struct pw_job *j;

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
	j->old_pw = g_strdup(o);
	j->new_pw = g_strdup(n);
	gtk_label_set_text(GTK_LABEL(d->error), "");
	pw_busy(d, true);
	/* the call holds the dialog until it is done; Cancel waits */
	ll_gui_call(&conn, d->dialog, NULL, &how, j, d);
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

/* ---- the relay's certificate: trust on first use, or changed ---- */

/*
 * "AB:CD:...": 4 lines of two groups of four bytes, to read aloud and
 * compare a group at a time with what the relay's administrator has.
 */
static char *fingerprint_grouped(const char *fp)
{
	GString *s = g_string_new(NULL);
	size_t i, n = strlen(fp);

	for (i = 0; i < n; i += 3) {
		if (i > 0 && i % 24 == 0)
			g_string_append_c(s, '\n');
		else if (i > 0 && i % 12 == 0)
			g_string_append(s, "   ");
		else if (i > 0)
			g_string_append_c(s, ':');
		g_string_append_len(s, fp + i, MIN(2, n - i));
	}
	return g_string_free(s, FALSE);
}

static GtkWidget *fingerprint_label(const char *fp)
{
	g_autofree char *grouped = fingerprint_grouped(fp);
	g_autofree char *markup = g_markup_printf_escaped(
		"<span font_family='monospace' size='large' "
		"weight='bold'>%s</span>",
		grouped);
	GtkWidget *l = gtk_label_new(NULL);

	gtk_label_set_markup(GTK_LABEL(l), markup);
	gtk_label_set_selectable(GTK_LABEL(l), TRUE);
	atk_object_set_name(gtk_widget_get_accessible(l),
			    "SHA-256 fingerprint");
	return l;
}

static GtkWidget *wrapped(const char *text)
{
	GtkWidget *l = gtk_label_new(text);

	gtk_label_set_line_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(l), 60);
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	return l;
}

struct trust_dialog {
	struct login_form *f;
	struct login_job *j; /* owned */
};

static void on_login(GtkWidget *w, gpointer data);

static void trust_response(GtkDialog *dialog, gint response, gpointer data)
{
	struct trust_dialog *d = data;
	struct login_form *f = d->f;
	struct login_job *j = d->j;
	bool sso = j->sso;
	char *err = NULL;

	if (response == GTK_RESPONSE_ACCEPT) {
		if (ll_profile_trust_relay(f->g->profile, j->hostport,
					   j->peer_pem, j->peer_fp,
					   &err) != 0) {
			gtk_label_set_text(GTK_LABEL(f->error), err);
			g_free(err);
		} else {
			ll_info("login: the technician trusted the "
				"certificate of %s, SHA-256 %s",
				j->hostport, j->peer_fp);
			gtk_widget_destroy(GTK_WIDGET(dialog));
			ll_login_job_free(j);
			g_free(d);
			/* the same way in again, now with the anchor */
			if (sso)
				ll_sso_login_start(f);
			else
				on_login(NULL, f);
			return;
		}
	} else {
		ll_info("login: the relay's certificate was not trusted");
		gtk_label_set_text(GTK_LABEL(f->error),
				   "Not logged in: the relay's certificate "
				   "is not trusted.");
	}
	gtk_widget_destroy(GTK_WIDGET(dialog));
	ll_login_job_free(j);
	g_free(d);
}

static GtkWidget *cert_dialog_new(struct login_form *f, const char *what,
				  GtkWidget **box)
{
	g_autofree char *title = g_strdup_printf("%s Agent \u2013 %s",
						 ll_ui_brand()->product, what);
	GtkWidget *dialog = gtk_dialog_new();

	gtk_window_set_title(GTK_WINDOW(dialog), title);
	gtk_window_set_transient_for(GTK_WINDOW(dialog), f->g->window);
	gtk_window_set_modal(GTK_WINDOW(dialog), TRUE);
	gtk_window_set_destroy_with_parent(GTK_WINDOW(dialog), TRUE);
	*box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	gtk_container_set_border_width(GTK_CONTAINER(*box), 18);
	gtk_container_add(GTK_CONTAINER(gtk_dialog_get_content_area(
				  GTK_DIALOG(dialog))),
			  *box);
	return dialog;
}

/* Takes j over. */
static void trust_dialog_run(struct login_form *f, struct login_job *job)
{
	struct trust_dialog *d = g_new0(struct trust_dialog, 1);
	struct login_job *j = g_new0(struct login_job, 1);
	g_autofree char *intro = NULL;
	GtkWidget *dialog, *box, *head, *b;

	*j = *job;
	memset(job, 0, sizeof(*job));
	d->f = f;
	d->j = j;
	ll_info("login: %s presents a certificate this computer cannot "
		"verify; showing its fingerprint",
		j->hostport);
	dialog = cert_dialog_new(f, "Check the relay\u2019s certificate",
				 &box);
	head = gtk_label_new(NULL);
	gtk_label_set_markup(GTK_LABEL(head),
			     "<span size='large' weight='bold'>Is this your "
			     "relay?</span>");
	gtk_label_set_xalign(GTK_LABEL(head), 0);
	gtk_box_pack_start(GTK_BOX(box), head, FALSE, FALSE, 0);
	intro = g_strdup_printf(
		"The relay at %s presents a certificate that is not signed by "
		"an authority this computer trusts, nor by a CA file you "
		"chose. Compare its SHA-256 fingerprint with the one the "
		"relay\u2019s administrator has (lifeline-relay init printed "
		"it as \u201ccertificate SHA-256 fingerprint\u201d, "
		"scripts/run.sh prints it at every start):",
		j->hostport);
	gtk_box_pack_start(GTK_BOX(box), wrapped(intro), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), fingerprint_label(j->peer_fp), FALSE,
			   FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box),
			   wrapped("Trust it only if every group is the "
				   "same. It is remembered for this relay; "
				   "should the relay ever present another "
				   "certificate, you will be warned and not "
				   "logged in."),
			   FALSE, FALSE, 0);
	b = gtk_dialog_add_button(GTK_DIALOG(dialog), "_Cancel",
				  GTK_RESPONSE_CANCEL);
	gtk_dialog_add_button(GTK_DIALOG(dialog), "_Trust and log in",
			      GTK_RESPONSE_ACCEPT);
	g_signal_connect(dialog, "response", G_CALLBACK(trust_response), d);
	gtk_widget_show_all(dialog);
	/* careful by default: Return does not trust */
	gtk_widget_grab_focus(b);
}

static void changed_response(GtkDialog *dialog, gint response, gpointer data)
{
	(void)response;
	(void)data;
	gtk_widget_destroy(GTK_WIDGET(dialog));
}

/* The loud refusal: nothing here logs in. */
static void changed_dialog_run(struct login_form *f, struct login_job *j)
{
	g_autofree char *path = ll_profile_known_relays_path(f->g->profile);
	g_autofree char *text = NULL;
	GtkWidget *dialog, *box, *head, *l, *b;

	ll_warn("login: REFUSED: the certificate of %s changed: SHA-256 %s, "
		"trusted %s",
		j->hostport, j->peer_fp, j->known_fp);
	gtk_label_set_text(GTK_LABEL(f->error),
			   "Not logged in: the relay\u2019s certificate has "
			   "changed.");
	dialog = cert_dialog_new(f, "The relay\u2019s certificate has changed",
				 &box);
	head = gtk_label_new(NULL);
	gtk_label_set_markup(GTK_LABEL(head),
			     "<span size='x-large' weight='bold' "
			     "foreground='#c01c28'>Warning: the relay\u2019s "
			     "certificate has CHANGED</span>");
	gtk_label_set_xalign(GTK_LABEL(head), 0);
	gtk_box_pack_start(GTK_BOX(box), head, FALSE, FALSE, 0);
	text = g_strdup_printf("%s now presents a certificate with this "
			       "SHA-256 fingerprint:",
			       j->hostport);
	gtk_box_pack_start(GTK_BOX(box), wrapped(text), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), fingerprint_label(j->peer_fp), FALSE,
			   FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), wrapped("but you trusted this one:"),
			   FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), fingerprint_label(j->known_fp), FALSE,
			   FALSE, 0);
	g_clear_pointer(&text, g_free);
	text = g_strdup_printf(
		"Somebody may be intercepting the connection, or the relay "
		"got a new certificate. You are not logged in. Ask the "
		"relay\u2019s administrator. Only if they confirm a new "
		"certificate, remove the group [%s] from %s and log in again "
		"to compare the new fingerprint.",
		j->hostport, path);
	l = wrapped(text);
	gtk_label_set_selectable(GTK_LABEL(l), TRUE);
	gtk_box_pack_start(GTK_BOX(box), l, FALSE, FALSE, 0);
	b = gtk_dialog_add_button(GTK_DIALOG(dialog), "_Close",
				  GTK_RESPONSE_CLOSE);
	g_signal_connect(dialog, "response", G_CALLBACK(changed_response),
			 NULL);
	gtk_widget_show_all(dialog);
	gtk_widget_grab_focus(b);
}

static char *entry_text(GtkWidget *e)
{
	const char *t = gtk_entry_get_text(GTK_ENTRY(e));

	while (*t == ' ')
		t++;
	return t[0] != '\0' ? g_strdup(t) : NULL;
}

struct login_job *ll_login_job_new(struct login_form *f)
{
	struct login_job *j;
	char *url = entry_text(f->url);

	if (url == NULL || !g_str_has_prefix(url, "https://")) {
		gtk_label_set_text(GTK_LABEL(f->error),
				   "The relay address starts with https://");
		g_free(url);
		return NULL;
	}
	j = g_new0(struct login_job, 1);
	j->conn = ll_gui_conn_copy(&f->g->conn);
	g_free(j->conn->url);
	j->conn->url = url;
	ll_secret_free(j->conn->token);
	j->conn->token = NULL;
	g_free(j->conn->ca_file);
	j->conn->ca_file = gtk_file_chooser_get_filename(
		GTK_FILE_CHOOSER(f->ca));
	/* a certificate trusted for this relay is one more anchor */
	g_clear_pointer(&j->conn->ca_pem, g_free);
	j->hostport = ll_relay_hostport(url, &j->host, &j->port);
	if (j->hostport == NULL) {
		gtk_label_set_text(GTK_LABEL(f->error),
				   "This is not a relay address "
				   "(https://HOST or https://HOST:PORT).");
		ll_login_job_free(j);
		return NULL;
	}
	ll_profile_known_relay(f->g->profile, j->hostport, &j->conn->ca_pem,
			       &j->known_fp);
	j->org = entry_text(f->org);
	return j;
}

static void on_login(GtkWidget *w, gpointer data)
{
	static const struct ll_gui_call how = {
		.run = login_run,
		.done = login_done,
		.job_free = ll_login_job_free,
	};
	struct login_form *f = data;
	struct login_job *j;

	(void)w;
	if ((j = ll_login_job_new(f)) == NULL)
		return;
	j->user = entry_text(f->user);
	j->password = g_strdup(gtk_entry_get_text(GTK_ENTRY(f->password)));
	j->code = entry_text(f->code);
	if (j->user == NULL || j->password[0] == '\0') {
		gtk_label_set_text(GTK_LABEL(f->error),
				   "Enter your user name and password.");
		ll_login_job_free(j);
		return;
	}
	ll_login_form_busy(f, true);
	gtk_label_set_text(GTK_LABEL(f->error), "");
	/* the call holds the form's widget (and so f) until it is done */
	ll_gui_call(j->conn, f->grid, NULL, &how, j, f);
}

static void on_sso(GtkWidget *w, gpointer data)
{
	(void)w;
	ll_sso_login_start(data);
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
				       "authenticator or recovery code, if "
				       "asked");
	/* free form: a recovery code has letters and a dash */
	gtk_entry_set_input_purpose(GTK_ENTRY(f->code),
				    GTK_INPUT_PURPOSE_FREE_FORM);
	/* an extra trust anchor for a relay with a private CA (--ca) */
	f->ca = row(GTK_GRID(grid), 6, "C_A file",
		    gtk_file_chooser_button_new("Choose the relay\u2019s CA "
						"certificate (PEM)",
						GTK_FILE_CHOOSER_ACTION_OPEN));
	gtk_widget_set_tooltip_text(f->ca, "Optional: the certificate of the "
					   "authority that signed the "
					   "relay\u2019s certificate, when "
					   "it is not one this computer "
					   "trusts");
	if (g->conn.ca_file != NULL)
		gtk_file_chooser_set_filename(GTK_FILE_CHOOSER(f->ca),
					      g->conn.ca_file);
	f->error = gtk_label_new("");
	gtk_label_set_line_wrap(GTK_LABEL(f->error), TRUE);
	gtk_style_context_add_class(gtk_widget_get_style_context(f->error),
				    "error");
	gtk_grid_attach(GTK_GRID(grid), f->error, 0, 7, 2, 1);
	box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	f->spinner = gtk_spinner_new();
	f->button = gtk_button_new_with_mnemonic("_Log in");
	ll_ui_add_class(f->button, "ll-accent");
	gtk_widget_set_can_default(f->button, TRUE);
	gtk_box_pack_end(GTK_BOX(box), f->button, FALSE, FALSE, 0);
	gtk_box_pack_end(GTK_BOX(box), f->spinner, FALSE, FALSE, 0);
	gtk_grid_attach(GTK_GRID(grid), box, 0, 8, 2, 1);
	/* the org's identity provider in the browser (sso_window.c): no
	 * user or password here */
	f->sso_button = gtk_button_new_with_mnemonic("Sign in with "
						     "_single sign-on");
	gtk_widget_set_tooltip_text(f->sso_button,
				    "Sign in in your web browser with your "
				    "organisation\u2019s account");
	gtk_widget_set_halign(f->sso_button, GTK_ALIGN_END);
	gtk_grid_attach(GTK_GRID(grid), f->sso_button, 0, 9, 2, 1);
	g_signal_connect(f->button, "clicked", G_CALLBACK(on_login), f);
	g_signal_connect(f->sso_button, "clicked", G_CALLBACK(on_sso), f);
	g_signal_connect(f->password, "activate", G_CALLBACK(on_login), f);
	g_signal_connect(f->code, "activate", G_CALLBACK(on_login), f);
	f->grid = grid;
	g_object_set_data(G_OBJECT(grid), "ll-login-form", f);
	g_object_weak_ref(G_OBJECT(grid), form_gone, f);
	return grid;
}

void ll_login_view_focus(struct ll_gui *g)
{
	struct login_form *f = g_object_get_data(G_OBJECT(g->login_view),
						 "ll-login-form");
	GtkWidget *order[] = { f->url, f->user, f->password };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(order); i++) {
		if (gtk_entry_get_text(GTK_ENTRY(order[i]))[0] == '\0') {
			gtk_widget_grab_focus(order[i]);
			return;
		}
	}
	gtk_widget_grab_focus(f->button);
}
