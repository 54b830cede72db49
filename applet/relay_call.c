/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One request of the applet to the relay, off the main loop
 * (session_int.h, ll_applet_call): libcurl and TLS block, so the request
 * runs in a GTask thread with its own client on a copy of the relay's
 * options, and the UI never waits.  The outcome goes back on the main
 * loop, unless the session that asked went away first and cancelled.
 * The agent's windows have the same for theirs (agent/gui_call.c).
 */
#include <gio/gio.h>

#include "ll_api_client.h"
#include "ll_err.h"
#include "session_int.h"

struct applet_call {
	struct ll_applet_call how;
	struct ll_relay_opts_copy relay;
	void *job;
	void *user;
	int r;
	struct ll_client_error e;
};

static void applet_call_free(gpointer data)
{
	struct applet_call *k = data;

	if (k->how.job_free != NULL)
		k->how.job_free(k->job);
	ll_relay_opts_copy_clear(&k->relay);
	g_free(k);
}

static void applet_call_thread(GTask *task, gpointer src, gpointer data,
			       GCancellable *cancel)
{
	struct applet_call *k = data;
	struct ll_api_client *c;

	(void)src;
	(void)cancel;
	ll_client_error_clear(&k->e);
	if ((c = ll_api_client_new(&k->relay.opts, &k->e)) == NULL)
		k->r = k->e.code != 0 ? k->e.code : LL_ERR_NOMEM;
	else
		k->r = k->how.run(k->job, c, &k->relay.opts, &k->e);
	ll_api_client_free(c);
	g_task_return_boolean(task, TRUE);
}

static void applet_call_done(GObject *src, GAsyncResult *result, gpointer data)
{
	GTask *task = G_TASK(result);
	struct applet_call *k = g_task_get_task_data(task);

	(void)src;
	(void)data;
	/* The session may be gone: call back only if not cancelled. */
	if (g_cancellable_is_cancelled(g_task_get_cancellable(task)))
		return;
	k->how.done(k->job, k->r, &k->e, k->user);
}

void ll_applet_call(const struct ll_relay_opts *o, GCancellable *cancel,
		    const struct ll_applet_call *how, void *job, void *user)
{
	struct applet_call *k = g_new0(struct applet_call, 1);
	g_autoptr(GTask) task = NULL;

	k->how = *how;
	ll_relay_opts_copy_init(&k->relay, o);
	k->job = job;
	k->user = user;
	task = g_task_new(NULL, cancel, applet_call_done, NULL);
	g_task_set_task_data(task, k, applet_call_free);
	g_task_run_in_thread(task, applet_call_thread);
}
