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
	struct ll_relay_opts_copy relay;
	char *session_id;
	char *ticket; /* secret */
	enum ll_applet_end end;
	struct ll_api_session_end answer;
	int err;
	struct ll_client_error cerr;
	ll_applet_end_reason_fn done;
	void *user;
};

static void end_job_free(gpointer data)
{
	struct end_job *j = data;

	ll_relay_opts_copy_clear(&j->relay);
	g_free(j->session_id);
	if (j->ticket != NULL)
		ll_secret_free(j->ticket);
	g_free(j);
}

static void end_thread(GTask *task, gpointer src, gpointer data,
		       GCancellable *cancel)
{
	struct end_job *j = data;
	struct ll_api_client *c;

	(void)src;
	(void)cancel;
	ll_client_error_clear(&j->cerr);
	if ((c = ll_api_client_new(&j->relay.opts, &j->cerr)) == NULL)
		j->err = j->cerr.code != 0 ? j->cerr.code : LL_ERR_NOMEM;
	else
		j->err = ll_api_session_end_reason(c, j->session_id, j->ticket,
						   &j->answer, &j->cerr);
	ll_api_client_free(c);
	g_task_return_boolean(task, TRUE);
}

static void end_done(GObject *src, GAsyncResult *result, gpointer data)
{
	GTask *task = G_TASK(result);
	struct end_job *j = g_task_get_task_data(task);
	size_t i;

	(void)src;
	(void)data;
	/* The session may be gone: call back only if not cancelled. */
	if (g_cancellable_is_cancelled(g_task_get_cancellable(task)))
		return;
	if (j->err != 0) {
		ll_info("the relay could not say why the session ended: %s",
			j->cerr.message[0] != '\0' ? j->cerr.message
						   : ll_strerror(j->err));
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
	j->done(j->end, j->user);
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
	struct end_job *j = g_new0(struct end_job, 1);
	g_autoptr(GTask) task = NULL;

	ll_relay_opts_copy_init(&j->relay, o);
	j->session_id = g_strdup(session_id);
	j->ticket = g_strdup(ticket);
	j->end = end;
	j->done = done;
	j->user = user;
	task = g_task_new(NULL, cancel, end_done, NULL);
	g_task_set_task_data(task, j, end_job_free);
	g_task_run_in_thread(task, end_thread);
}
