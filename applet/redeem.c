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
	char *org;
	char *applet_config; /* secret: may hold a channel credential */
	char pin[16];
	char launch[LL_APPLET_LAUNCH_MAX + 1]; /* "" when none */
	bool at_stream;                        /* the PIN was redeemed */
	struct ll_applet_redeemed res;
	void (*done)(struct ll_applet_redeemed *res, void *user);
};

static void redeem_job_free(void *data)
{
	struct redeem_job *j = data;

	ll_wipe(j->pin, sizeof(j->pin));
	ll_wipe(j->launch, sizeof(j->launch));
	ll_api_redeem_clear(&j->res.redeem);
	ll_stream_free(j->res.stream);
	g_free(j->org);
	if (j->applet_config != NULL)
		ll_secret_free(j->applet_config);
	g_free(j);
}

static int redeem_run(void *data, struct ll_api_client *c,
		      const struct ll_relay_opts *o, struct ll_client_error *e)
{
	struct redeem_job *j = data;
	int r;

	r = ll_api_pin_redeem_ask(c,
				  &(struct ll_api_redeem_ask){
					  .pin = j->pin,
					  .org = j->org,
					  .launch = j->launch[0] != '\0'
							    ? j->launch
							    : NULL,
					  .applet_config = j->applet_config },
				  &j->res.redeem, e);
	ll_wipe(j->pin, sizeof(j->pin));
	if (r != 0)
		return r;
	j->at_stream = true;
	return ll_stream_open(o, j->res.redeem.stream_path,
			      j->res.redeem.ticket, &j->res.stream, e);
}

static void redeem_done(void *data, int r, const struct ll_client_error *e,
			void *user)
{
	struct redeem_job *j = data;

	j->res.err = r;
	if (r != 0) {
		/* The libraries' words (OpenSSL, libcurl) to the log only. */
		j->res.why = e->message[0] != '\0' ? e->message
						   : ll_strerror(r);
		j->res.end = ll_applet_end_of_error(e, j->at_stream);
	}
	j->done(&j->res, user);
}

void ll_applet_redeem_start(
	const struct ll_relay_opts *o, const struct ll_api_redeem_ask *ask,
	GCancellable *cancel,
	void (*done)(struct ll_applet_redeemed *res, void *user), void *user)
{
	static const struct ll_applet_call how = {
		.run = redeem_run,
		.done = redeem_done,
		.job_free = redeem_job_free,
	};
	struct redeem_job *j = g_new0(struct redeem_job, 1);

	j->org = g_strdup(ask->org);
	j->applet_config = g_strdup(ask->applet_config);
	g_strlcpy(j->pin, ask->pin, sizeof(j->pin));
	if (ask->launch != NULL)
		g_strlcpy(j->launch, ask->launch, sizeof(j->launch));
	j->done = done;
	ll_applet_call(o, cancel, &how, j, user);
}
