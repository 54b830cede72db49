/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The applet's redeem worker (session_int.h): the PIN goes to POST
 * /api/v1/pins/redeem and the ticket of the answer opens the applet's
 * stream.  Both block (libcurl, TLS), so they run in a GTask thread on a
 * copy of what they need and the UI never waits.  Back on the main loop
 * the outcome, with what went wrong put in plain words for the person at
 * the screen (ll_applet_end_of_error), goes to the session (session.c).
 */
#include <string.h>

#include <gio/gio.h>

#include "ll_api_client.h"
#include "ll_crypto.h"
#include "ll_stream.h"
#include "ll_util.h"
#include "session_int.h"

struct redeem_job {
	struct ll_relay_opts_copy relay;
	char *org;
	char *applet_config; /* secret: may hold a channel credential */
	char pin[16];
	char launch[LL_APPLET_LAUNCH_MAX + 1]; /* "" when none */
	bool at_stream;                        /* the PIN was redeemed */
	struct ll_client_error err;
	struct ll_applet_redeemed res;
	void (*done)(struct ll_applet_redeemed *res, void *user);
	void *user;
};

static void redeem_job_free(gpointer data)
{
	struct redeem_job *j = data;

	ll_wipe(j->pin, sizeof(j->pin));
	ll_wipe(j->launch, sizeof(j->launch));
	ll_api_redeem_clear(&j->res.redeem);
	ll_stream_free(j->res.stream);
	ll_relay_opts_copy_clear(&j->relay);
	g_free(j->org);
	if (j->applet_config != NULL)
		ll_secret_free(j->applet_config);
	g_free(j);
}

static void redeem_thread(GTask *task, gpointer src, gpointer data,
			  GCancellable *cancel)
{
	struct redeem_job *j = data;
	struct ll_api_client *c;
	int r;

	ll_client_error_clear(&j->err);
	if ((c = ll_api_client_new(&j->relay.opts, &j->err)) == NULL) {
		r = j->err.code != 0 ? j->err.code : LL_ERR_NOMEM;
		goto out;
	}
	r = ll_api_pin_redeem_ask(c,
				  &(struct ll_api_redeem_ask){
					  .pin = j->pin,
					  .org = j->org,
					  .launch = j->launch[0] != '\0'
							    ? j->launch
							    : NULL,
					  .applet_config = j->applet_config },
				  &j->res.redeem, &j->err);
	ll_wipe(j->pin, sizeof(j->pin));
	if (r != 0)
		goto out;
	j->at_stream = true;
	r = ll_stream_open(&j->relay.opts, j->res.redeem.stream_path,
			   j->res.redeem.ticket, &j->res.stream, &j->err);
out:
	ll_api_client_free(c);
	j->res.err = r;
	g_task_return_boolean(task, TRUE);
}

static void redeem_done(GObject *src, GAsyncResult *result, gpointer data)
{
	GTask *task = G_TASK(result);
	struct redeem_job *j = g_task_get_task_data(task);

	/* The session may be gone: call back only if not cancelled. */
	if (g_cancellable_is_cancelled(g_task_get_cancellable(task)))
		return;
	if (j->res.err != 0) {
		/* The libraries' words (OpenSSL, libcurl) to the log only. */
		j->res.why = j->err.message[0] != '\0'
				     ? j->err.message
				     : ll_strerror(j->res.err);
		j->res.end = ll_applet_end_of_error(&j->err, j->at_stream);
	}
	j->done(&j->res, j->user);
}

void ll_applet_redeem_start(
	const struct ll_relay_opts *o, const struct ll_api_redeem_ask *ask,
	GCancellable *cancel,
	void (*done)(struct ll_applet_redeemed *res, void *user), void *user)
{
	struct redeem_job *j = g_new0(struct redeem_job, 1);
	g_autoptr(GTask) task = NULL;

	ll_relay_opts_copy_init(&j->relay, o);
	j->org = g_strdup(ask->org);
	j->applet_config = g_strdup(ask->applet_config);
	g_strlcpy(j->pin, ask->pin, sizeof(j->pin));
	if (ask->launch != NULL)
		g_strlcpy(j->launch, ask->launch, sizeof(j->launch));
	j->done = done;
	j->user = user;
	task = g_task_new(NULL, cancel, redeem_done, NULL);
	g_task_set_task_data(task, j, redeem_job_free);
	g_task_set_return_on_cancel(task, FALSE);
	g_task_run_in_thread(task, redeem_thread);
}
