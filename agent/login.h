/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The login form's insides, shared by its two ways in: the password
 * (login_window.c) and single sign-on (sso_window.c).  Both end the same
 * way, in ll_login_finish: the relay's sentence on a refusal, the
 * relay's certificate checked on first use, or logged in.
 */
#ifndef LL_AGENT_LOGIN_H
#define LL_AGENT_LOGIN_H

#include "gui.h"

struct ll_sso;

struct login_form {
	struct ll_gui *g;
	GtkWidget *url, *user, *password, *org, *code, *ca, *button, *error;
	GtkWidget *sso_button;
	GtkWidget *spinner;
	GtkWidget *grid;
};

struct login_job {
	struct ll_gui_conn *conn;
	char *user, *org, *password, *code;
	bool admin; /* the answer's permissions name "admin" */
	/* the capabilities among them, as the profile keeps them (NULL:
	 * an older relay named none, ll_profile_caps allows all) */
	char *caps;
	/* the relay as the profile knows it: "host:port", and the
	 * fingerprint trusted for it (NULL when none) */
	char *hostport, *host, *known_fp;
	uint16_t port;
	/* single sign-on: its verifier and sign-in (sso_window.c) */
	bool sso;
	struct ll_sso *flow;
	/* results */
	char *peer_pem, *peer_fp; /* what an unverified relay presented */
	char *token, *name, *torg;
	bool need_code;
	bool must_change; /* a one-time password */
	char *error;
};

/* A job for the relay the form names (its URL, CA file and the
 * certificate trusted for it), with the org; NULL with the reason shown
 * in the form.  The user and password are the caller's to add. */
struct login_job *ll_login_job_new(struct login_form *f);
void ll_login_job_free(gpointer j);
/* In the worker: what the relay answered, signed in (the token, who,
 * what they may do) or refused (its sentence, and the certificate an
 * unverified relay presents). */
void ll_login_job_take(struct login_job *j, const struct ll_api_login *l);
void ll_login_job_failed(struct login_job *j, const struct ll_client_error *e);
/* On the main loop, in the done() of the job's ll_gui_call: a failure
 * its run() could not record (no client was made) taken from e. */
void ll_login_job_settle(struct login_job *j, const struct ll_client_error *e);
/* Both ways' end, on the main loop; the form is usable again. */
void ll_login_finish(struct login_form *f, struct login_job *j);
/* Greys out both ways in while one is under way. */
void ll_login_form_busy(struct login_form *f, bool busy);

/* sso_window.c: "Sign in with single sign-on": the system browser at the
 * provider, "PRODUCT Agent – Single sign-on" while it is away. */
void ll_sso_login_start(struct login_form *f);

#endif
