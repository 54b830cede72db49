/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Why the relay ended the session, asked after the stream closed without
 * an `end` (issue 11): the relay ends a session on its own when the
 * technician's group loses a permission the session holds, when the
 * technician's account is disabled, or when an administrator ends it;
 * the stream then just closes.  Without asking, "Session ended" would
 * say the connection was lost, which is wrong and frightening.
 *
 * GET /api/v1/sessions/ID/end with the applet's own ticket answers a
 * fixed code (never text from the technician's side); relay_ends[] turns
 * the codes the applet has words for into its ends (ended_window.c has
 * the words).  Any other answer, or none within the time, leaves the end
 * the stream gave.  Everything is shut before the question is asked
 * (session.c finish): waiting for the answer shares nothing.
 */
#include <string.h>

#include <gio/gio.h>

#include "ll_api_client.h"
#include "ll_crypto.h"
#include "ll_log.h"
#include "ll_util.h"
#include "session_int.h"

/* The relay's codes (docs/API.md "How a session ends") the applet says
 * in its own words; the others keep the stream's end. */
static const struct {
	const char *code;
	enum ll_applet_end end;
} relay_ends[] = {
	{ "permission_withdrawn", LL_APPLET_END_PERMISSION_WITHDRAWN },
	{ "technician_disabled", LL_APPLET_END_TECHNICIAN_DISABLED },
	{ "ended_by_admin", LL_APPLET_END_ENDED_BY_ADMIN },
	{ "ended_by_technician", LL_APPLET_END_TECHNICIAN },
};

struct end_job {
	char *session_id;
	char *ticket; /* secret */
	enum ll_applet_end end;
	struct ll_api_session_end answer;
	ll_applet_end_reason_fn done;
};

static void end_job_free(void *data)
{
	struct end_job *j = data;

	g_free(j->session_id);
	if (j->ticket != NULL)
		ll_secret_free(j->ticket);
	g_free(j);
}

static int end_run(void *data, struct ll_api_client *c,
		   const struct ll_relay_opts *o, struct ll_client_error *e)
{
	struct end_job *j = data;

	(void)o;
	return ll_api_session_end_reason(c, j->session_id, j->ticket,
					 &j->answer, e);
}

static void end_done(void *data, int r, const struct ll_client_error *e,
		     void *user)
{
	struct end_job *j = data;
	size_t i;

	if (r != 0) {
		ll_info("the relay could not say why the session ended: %s",
			e->message[0] != '\0' ? e->message : ll_strerror(r));
	} else {
		ll_info("the relay says the session is %s (%s)",
			j->answer.state,
			j->answer.end_reason[0] != '\0' ? j->answer.end_reason
							: "not over");
		for (i = 0; i < G_N_ELEMENTS(relay_ends); i++)
			if (strcmp(j->answer.end_reason, relay_ends[i].code) ==
			    0)
				j->end = relay_ends[i].end;
	}
	j->done(j->end, user);
}

bool ll_applet_end_reason_asks(enum ll_applet_end end)
{
	return end == LL_APPLET_END_LOST || end == LL_APPLET_END_STALLED;
}

void ll_applet_end_reason_start(const struct ll_relay_opts *o,
				const char *session_id, const char *ticket,
				enum ll_applet_end end, GCancellable *cancel,
				ll_applet_end_reason_fn done, void *user)
{
	static const struct ll_applet_call how = {
		.run = end_run,
		.done = end_done,
		.job_free = end_job_free,
	};
	struct end_job *j = g_new0(struct end_job, 1);

	j->session_id = g_strdup(session_id);
	j->ticket = g_strdup(ticket);
	j->end = end;
	j->done = done;
	ll_applet_call(o, cancel, &how, j, user);
}
