/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One request of a window to the relay, off the main loop (gui.h,
 * ll_gui_call): the relay may be slow or far away, and the window must
 * stay alive meanwhile.  The worker thread gets copies only (the
 * connection, the job); the main loop gets the outcome back in done(),
 * unless the window went away first and cancelled.
 */
#include "gui.h"
#include "ll_err.h"

struct gui_call {
	struct ll_gui_call how;
	struct ll_gui_conn *conn;
	void *job;
	void *user;
	struct ll_client_error e;
};

static void gui_call_free(gpointer data)
{
	struct gui_call *k = data;

	if (k->how.job_free != NULL)
		k->how.job_free(k->job);
	ll_gui_conn_free(k->conn);
	g_free(k);
}

static void gui_call_thread(GTask *task, gpointer src, gpointer data,
			    GCancellable *cancel)
{
	struct gui_call *k = data;
	struct ll_api_client *c;
	int r;

	(void)src;
	(void)cancel;
	ll_client_error_clear(&k->e);
	if ((c = ll_gui_client_new(k->conn, &k->e)) == NULL)
		r = k->e.code != 0 ? k->e.code : LL_ERR_NOMEM;
	else
		r = k->how.run(k->job, c, k->conn, &k->e);
	/* done() tells success by e->code alone */
	if (r != 0 && k->e.code == 0)
		k->e.code = r;
	ll_api_client_free(c);
	g_task_return_boolean(task, TRUE);
}

static void gui_call_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct gui_call *k = g_task_get_task_data(G_TASK(res));

	(void)src;
	(void)data;
	/* cancelled: the window that asked is gone */
	if (!g_task_propagate_boolean(G_TASK(res), NULL))
		return;
	if (k->how.done != NULL)
		k->how.done(k->job, &k->e, k->user);
}

void ll_gui_call(const struct ll_gui_conn *conn, gpointer hold,
		 GCancellable *cancel, const struct ll_gui_call *how,
		 void *job, void *user)
{
	struct gui_call *k = g_new0(struct gui_call, 1);
	g_autoptr(GTask) task = NULL;

	k->how = *how;
	k->conn = ll_gui_conn_copy(conn);
	k->job = job;
	k->user = user;
	task = g_task_new(hold, cancel, gui_call_done, NULL);
	g_task_set_task_data(task, k, gui_call_free);
	g_task_run_in_thread(task, gui_call_thread);
}

const char *ll_gui_error_text(const struct ll_client_error *e)
{
	if (e->code == 0)
		return NULL;
	return e->message[0] != '\0' ? e->message : ll_strerror(e->code);
}
