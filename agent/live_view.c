/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "PRODUCT Agent – Live": every live session of the admin's org (issue 11
 * item 5): technician, what the end user granted, state, duration, bytes.
 * One GET /api/v1/live long-poll is always under way in a GTask thread
 * while the window is open: the relay holds it until the list changes,
 * the answer refreshes the rows and the next poll asks with the answer's
 * version.  Closing the window cancels the poll (curl's progress
 * callback sees the flag).  End session ends the selected one (DELETE
 * /api/v1/sessions/ID, which an admin may do for any session of the
 * org); the next answer shows it gone.  Only admins see the button
 * (main_window.c); the relay refuses everyone else.
 */
#include <stdatomic.h>
#include <string.h>

#include "gui.h"
#include "ll_api_client.h"
#include "ll_log.h"
#include "ll_text.h"
#include "ll_ui.h"
#include "ll_util.h"

#define LIVE_RETRY_S 2 /* after a failed poll */

enum {
	COL_ID,
	COL_TECH,
	COL_USER, /* the end user's address: the relay knows no name */
	COL_CAPS,
	COL_STATE,
	COL_DURATION,
	COL_BYTES,
	N_COLS
};

struct live_view {
	struct ll_gui *g;
	GtkWidget *win, *tree, *status;
	GtkListStore *store;
	GCancellable *poll; /* the long-poll under way */
	atomic_bool *stop;  /* its curl's cancel flag, shared */
	guint retry;
	int64_t version; /* -1 before the first answer */
};

struct live_job {
	atomic_bool *stop; /* owned by the job when it outlives the view */
	int64_t since;
	char *end_id; /* an End: the session to end */
	json_t *answer;
};

static void job_free(void *data)
{
	struct live_job *j = data;

	g_free(j->stop);
	g_free(j->end_id);
	json_decref(j->answer);
	g_free(j);
}

static int job_run(void *job, struct ll_api_client *c,
		   const struct ll_gui_conn *conn, struct ll_client_error *e)
{
	struct live_job *j = job;

	if (j->stop != NULL)
		ll_api_client_set_cancel(c, j->stop);
	return j->end_id != NULL ? ll_api_session_delete(c, j->end_id, e)
				 : ll_api_live(c, j->since, &j->answer, e);
}

static void status(struct live_view *v, const char *text)
{
	gtk_label_set_text(GTK_LABEL(v->status), text);
	ll_info("live: %s", text);
}

static char *caps_text(json_t *caps)
{
	GString *s = g_string_new(NULL);
	json_t *c;
	size_t i;

	json_array_foreach(caps, i, c)
	{
		if (!json_is_string(c))
			continue;
		g_string_append_printf(s, "%s%s", s->len > 0 ? ", " : "",
				       json_string_value(c));
	}
	if (s->len == 0)
		g_string_append(s, "none yet");
	return g_string_free(s, FALSE);
}

static char *text_of(json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL ? ll_text_printable_new(s, strlen(s), 128)
			 : g_strdup("");
}

static void fill_row(struct live_view *v, GtkTreeIter *it, json_t *s)
{
	json_int_t d = json_integer_value(json_object_get(s, "duration_s"));
	char *id = text_of(json_object_get(s, "session_id"));
	char *tech = text_of(json_object_get(s, "technician"));
	char *user = text_of(json_object_get(s, "end_user_address"));
	char *caps = caps_text(json_object_get(s, "capabilities"));
	char *state = text_of(json_object_get(s, "state"));
	char *dur = g_strdup_printf("%lld:%02lld", (long long)(d / 60),
				    (long long)(d % 60));
	char *bytes = g_strdup_printf(
		"%" JSON_INTEGER_FORMAT " / %" JSON_INTEGER_FORMAT,
		json_integer_value(
			json_object_get(s, "bytes_agent_to_applet")),
		json_integer_value(
			json_object_get(s, "bytes_applet_to_agent")));

	gtk_list_store_set(v->store, it, COL_ID, id, COL_TECH, tech, COL_USER,
			   user, COL_CAPS, caps, COL_STATE, state,
			   COL_DURATION, dur, COL_BYTES, bytes, -1);
	/* the row as shown, for the log (an answer comes on a change, or
	 * every 25 s) */
	ll_info("live: row %.8s: %s, end user %s, granted %s", id, tech,
		user[0] != '\0' ? user : "unknown", caps);
	free(id);
	free(tech);
	free(user);
	g_free(caps);
	free(state);
	g_free(dur);
	g_free(bytes);
}

/* The rows of an answer; the selected session stays selected, the first
 * one is selected when none is. */
static void fill(struct live_view *v, json_t *sessions)
{
	GtkTreeSelection *sel;
	GtkTreeModel *m;
	GtkTreeIter it;
	char *keep = NULL;
	bool kept = false;
	json_t *s;
	size_t i;

	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(v->tree));
	if (gtk_tree_selection_get_selected(sel, &m, &it))
		gtk_tree_model_get(m, &it, COL_ID, &keep, -1);
	gtk_list_store_clear(v->store);
	json_array_foreach(sessions, i, s)
	{
		gtk_list_store_append(v->store, &it);
		fill_row(v, &it, s);
		if (keep != NULL &&
		    g_strcmp0(json_string_value(
				      json_object_get(s, "session_id")),
			      keep) == 0) {
			gtk_tree_selection_select_iter(sel, &it);
			kept = true;
		}
	}
	if (!kept &&
	    gtk_tree_model_get_iter_first(GTK_TREE_MODEL(v->store), &it))
		gtk_tree_selection_select_iter(sel, &it);
	g_free(keep);
}

static void poll_start(struct live_view *v);

static gboolean on_retry(gpointer data)
{
	struct live_view *v = data;

	v->retry = 0;
	poll_start(v);
	return G_SOURCE_REMOVE;
}

static void poll_done(void *job, const struct ll_client_error *e, void *user)
{
	struct live_view *v = user;
	struct live_job *j = job;
	json_t *sessions;
	char *text;

	g_clear_object(&v->poll);
	v->stop = NULL; /* the job's, freed with it */
	if (e->code != 0) {
		text = g_strdup_printf("Cannot read the live sessions: %s "
				       "(trying again)",
				       ll_gui_error_text(e));
		status(v, text);
		g_free(text);
		v->retry = g_timeout_add_seconds(LIVE_RETRY_S, on_retry, v);
		return;
	}
	sessions = json_object_get(j->answer, "sessions");
	fill(v, sessions);
	v->version = json_integer_value(json_object_get(j->answer, "version"));
	text = g_strdup_printf("%zu session%s live", json_array_size(sessions),
			       json_array_size(sessions) == 1 ? "" : "s");
	status(v, text);
	g_free(text);
	poll_start(v);
}

/* The next long-poll, with the last answer's version. */
static void poll_start(struct live_view *v)
{
	static const struct ll_gui_call how = { job_run, poll_done, job_free };
	struct live_job *j = g_new0(struct live_job, 1);

	j->since = v->version;
	j->stop = g_new0(atomic_bool, 1);
	v->stop = j->stop;
	v->poll = g_cancellable_new();
	ll_gui_call(&v->g->conn, NULL, v->poll, &how, j, v);
}

static void end_done(void *job, const struct ll_client_error *e, void *user)
{
	struct live_job *j = job;
	char *text;

	(void)user;
	/* the window may be gone: log only (the poll shows the rest) */
	if (e->code != 0)
		text = g_strdup_printf("session %s not ended: %s", j->end_id,
				       ll_gui_error_text(e));
	else
		text = g_strdup_printf("ended %s", j->end_id);
	ll_info("live: %s", text);
	g_free(text);
}

static void on_end(GtkButton *b, gpointer data)
{
	static const struct ll_gui_call how = { job_run, end_done, job_free };
	struct live_view *v = data;
	GtkTreeSelection *sel;
	GtkTreeModel *m;
	GtkTreeIter it;
	struct live_job *j;
	char *id = NULL;

	(void)b;
	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(v->tree));
	if (gtk_tree_selection_get_selected(sel, &m, &it))
		gtk_tree_model_get(m, &it, COL_ID, &id, -1);
	if (id == NULL) {
		status(v, "no session selected");
		return;
	}
	j = g_new0(struct live_job, 1);
	j->end_id = id;
	ll_info("live: ending %s", id);
	ll_gui_call(&v->g->conn, NULL, NULL, &how, j, NULL);
}

static void on_close(GtkButton *b, gpointer data)
{
	struct live_view *v = data;

	(void)b;
	gtk_widget_destroy(v->win);
}

static void on_destroy(GtkWidget *w, gpointer data)
{
	struct live_view *v = data;

	(void)w;
	if (v->retry != 0)
		g_source_remove(v->retry);
	if (v->poll != NULL) {
		/* the thread gives up its request; its answer finds no
		 * window (the flag is the job's, freed with it) */
		atomic_store(v->stop, true);
		g_cancellable_cancel(v->poll);
		g_clear_object(&v->poll);
	}
	g_object_unref(v->store);
	v->g->live = NULL;
	g_free(v);
}

static GtkWidget *list_new(struct live_view *v)
{
	static const char *const titles[N_COLS] = { "Session",
						    "Technician",
						    "End user",
						    "Granted",
						    "State",
						    "Duration",
						    "Bytes sent / received" };

	return ll_admin_list_new(titles, N_COLS, "Live sessions", &v->store,
				 &v->tree);
}

void ll_live_window_open(struct ll_gui *g)
{
	struct live_view *v;
	GtkWidget *box, *bar, *b;

	if (ll_admin_window_raise(g->live))
		return;
	v = g_new0(struct live_view, 1);
	v->g = g;
	v->version = -1;
	v->win = ll_admin_window_new(g, "Live", 900, 360, "Live sessions",
				     &box);
	g->live = v->win;
	gtk_box_pack_start(GTK_BOX(box), list_new(v), TRUE, TRUE, 0);
	v->status = ll_admin_status_new(box, "Reading the live sessions\u2026",
					false);
	bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	b = gtk_button_new_with_mnemonic("_End session");
	ll_ui_add_class(b, "ll-accent");
	g_signal_connect(b, "clicked", G_CALLBACK(on_end), v);
	gtk_box_pack_start(GTK_BOX(bar), b, FALSE, FALSE, 0);
	b = gtk_button_new_with_mnemonic("_Close");
	g_signal_connect(b, "clicked", G_CALLBACK(on_close), v);
	gtk_box_pack_end(GTK_BOX(bar), b, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), bar, FALSE, FALSE, 0);
	g_signal_connect(v->win, "destroy", G_CALLBACK(on_destroy), v);
	gtk_widget_show_all(v->win);
	poll_start(v);
}
