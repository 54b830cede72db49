/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The channel queue in the main window: who waits for a technician of
 * this org (GET /api/v1/queue, asked every QUEUE_REFRESH_S in a GTask
 * thread while the sessions are shown, one request at a time, so the UI
 * never waits), and `_Pick up`, which takes the selected user (POST
 * .../pickup) and opens the session's window as New PIN does.  What the
 * user wrote arrives through the relay's display rule; GTK shows it as
 * text, never as markup.
 */
#include <string.h>

#include "gui.h"
#include "ll_err.h"
#include "ll_stream.h"
#include "ll_ui.h"
#include "ll_util.h"

#define QUEUE_REFRESH_S 3

enum { QCOL_ID, QCOL_CHANNEL, QCOL_WAITED, QCOL_DESCRIPTION, N_QCOLS };

struct queue_job {
	char *entry_id; /* pickup */
	struct ll_api_queue_list list;
	struct ll_api_pin pin;
	struct ll_stream *stream;
};

static void queue_job_free(void *data)
{
	struct queue_job *j = data;

	g_free(j->entry_id);
	ll_api_queue_list_clear(&j->list);
	ll_api_pin_clear(&j->pin);
	ll_stream_free(j->stream);
	g_free(j);
}

static int list_run(void *job, struct ll_api_client *c,
		    const struct ll_gui_conn *conn, struct ll_client_error *e)
{
	struct queue_job *j = job;

	return ll_api_queue_list(c, &j->list, e);
}

static char *waited(int64_t s)
{
	return s >= 3600 ? g_strdup_printf("%lld h %02lld min",
					   (long long)(s / 3600),
					   (long long)(s % 3600 / 60))
			 : g_strdup_printf("%lld:%02lld", (long long)(s / 60),
					   (long long)(s % 60));
}

/* The rows again, the selection kept when its entry is still there. */
static void list_done(void *job, const struct ll_client_error *e, void *user)
{
	struct ll_gui *g = user;
	struct queue_job *j = job;
	GtkTreeSelection *sel;
	GtkTreeModel *model;
	GtkTreeIter it;
	char *keep = NULL, *w, *label;
	size_t i, before;

	g->queue_busy = false;
	if (e->code != 0) {
		if (e->code == LL_ERR_AUTH_FAILED)
			ll_gui_logged_out(g);
		return;
	}
	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(g->queue_tree));
	if (gtk_tree_selection_get_selected(sel, &model, &it))
		gtk_tree_model_get(model, &it, QCOL_ID, &keep, -1);
	before = (size_t)
		gtk_tree_model_iter_n_children(GTK_TREE_MODEL(g->queue), NULL);
	gtk_list_store_clear(g->queue);
	for (i = 0; i < j->list.n_entries; i++) {
		const struct ll_api_queue_item *q = &j->list.entries[i];

		w = waited(q->waiting_s);
		gtk_list_store_insert_with_values(
			g->queue, &it, -1, QCOL_ID, q->entry_id, QCOL_CHANNEL,
			q->channel, QCOL_WAITED, w, QCOL_DESCRIPTION,
			q->description ? q->description : "", -1);
		if (keep != NULL && strcmp(keep, q->entry_id) == 0)
			gtk_tree_selection_select_iter(sel, &it);
		g_free(w);
	}
	if (keep == NULL && j->list.n_entries > 0 &&
	    gtk_tree_model_get_iter_first(GTK_TREE_MODEL(g->queue), &it))
		gtk_tree_selection_select_iter(sel, &it);
	label = j->list.n_entries == 0
			? g_strdup("Nobody is waiting in the queue.")
			: g_strdup_printf("%zu waiting in the queue:",
					  j->list.n_entries);
	gtk_label_set_text(GTK_LABEL(g->queue_label), label);
	if (j->list.n_entries != before)
		ll_info("queue: %zu waiting", j->list.n_entries);
	gtk_widget_set_sensitive(g->pickup, j->list.n_entries > 0);
	g_free(label);
	g_free(keep);
}

void ll_queue_view_refresh(struct ll_gui *g)
{
	static const struct ll_gui_call how = { list_run, list_done,
						queue_job_free };

	if (g->conn.token == NULL || g->queue_busy)
		return;
	g->queue_busy = true;
	ll_gui_call(&g->conn, g->window, NULL, &how,
		    g_new0(struct queue_job, 1), g);
}

static gboolean on_tick(gpointer data)
{
	ll_queue_view_refresh(data);
	return G_SOURCE_CONTINUE;
}

void ll_queue_view_start(struct ll_gui *g)
{
	if (g->queue_timer == 0)
		g->queue_timer = g_timeout_add_seconds(QUEUE_REFRESH_S,
						       on_tick, g);
	ll_queue_view_refresh(g);
}

void ll_queue_view_stop(struct ll_gui *g)
{
	if (g->queue_timer != 0)
		g_source_remove(g->queue_timer);
	g->queue_timer = 0;
	gtk_list_store_clear(g->queue);
}

/* ---- Pick up ---- */

static int pickup_run(void *job, struct ll_api_client *c,
		      const struct ll_gui_conn *conn,
		      struct ll_client_error *e)
{
	struct queue_job *j = job;
	int r;

	if ((r = ll_api_queue_pickup(c, j->entry_id, &j->pin, e)) != 0)
		return r;
	if ((r = ll_gui_stream_open(conn, j->pin.ticket, &j->stream, e)) != 0)
		ll_api_session_delete(c, j->pin.session_id, NULL);
	return r;
}

static void pickup_done(void *job, const struct ll_client_error *e, void *user)
{
	struct ll_gui *g = user;
	struct queue_job *j = job;
	char *msg;

	gtk_widget_set_sensitive(g->pickup, TRUE);
	if (e->code != 0) {
		msg = e->code == LL_ERR_CONFLICT
			      ? g_strdup("Another technician has already "
					 "picked this user up.")
			      : g_strdup_printf("Could not pick up: %s",
						ll_gui_error_text(e));
		ll_main_window_status(g, msg);
		g_free(msg);
		ll_queue_view_refresh(g);
		return;
	}
	ll_viewer_open(g, j->stream, &j->pin);
	j->stream = NULL;
	ll_main_window_status(g, "Picked up: waiting for the user's applet.");
	ll_queue_view_refresh(g);
	ll_main_window_refresh(g);
}

static void on_pickup(GtkWidget *w, gpointer data)
{
	struct ll_gui *g = data;
	GtkTreeSelection *sel;
	GtkTreeModel *model;
	static const struct ll_gui_call how = { pickup_run, pickup_done,
						queue_job_free };
	struct queue_job *j;
	GtkTreeIter it;
	char *id = NULL;

	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(g->queue_tree));
	if (!gtk_tree_selection_get_selected(sel, &model, &it))
		return;
	gtk_tree_model_get(model, &it, QCOL_ID, &id, -1);
	gtk_widget_set_sensitive(g->pickup, FALSE);
	j = g_new0(struct queue_job, 1);
	j->entry_id = id;
	ll_gui_call(&g->conn, g->window, NULL, &how, j, g);
}

static void on_row_activated(GtkTreeView *t, GtkTreePath *p,
			     GtkTreeViewColumn *c, gpointer data)
{
	on_pickup(NULL, data);
}

GtkWidget *ll_queue_view_new(struct ll_gui *g)
{
	static const char *const titles[] = { NULL, "Channel", "Waiting",
					      "What they need help with" };
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	GtkWidget *sw;
	GtkCellRenderer *cell;
	int i;

	g->queue_label = gtk_label_new("Nobody is waiting in the queue.");
	gtk_widget_set_halign(g->queue_label, GTK_ALIGN_START);
	gtk_box_pack_start(GTK_BOX(row), g->queue_label, TRUE, TRUE, 0);
	g->pickup = gtk_button_new_with_mnemonic("_Pick up");
	gtk_widget_set_sensitive(g->pickup, FALSE);
	g_signal_connect(g->pickup, "clicked", G_CALLBACK(on_pickup), g);
	gtk_box_pack_end(GTK_BOX(row), g->pickup, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), row, FALSE, FALSE, 0);

	g->queue = gtk_list_store_new(N_QCOLS, G_TYPE_STRING, G_TYPE_STRING,
				      G_TYPE_STRING, G_TYPE_STRING);
	g->queue_tree = gtk_tree_view_new_with_model(GTK_TREE_MODEL(g->queue));
	g_object_unref(g->queue);
	for (i = QCOL_CHANNEL; i < N_QCOLS; i++) {
		cell = gtk_cell_renderer_text_new();
		if (i == QCOL_DESCRIPTION)
			g_object_set(cell, "ellipsize", PANGO_ELLIPSIZE_END,
				     NULL);
		gtk_tree_view_append_column(
			GTK_TREE_VIEW(g->queue_tree),
			gtk_tree_view_column_new_with_attributes(titles[i],
								 cell, "text",
								 i, NULL));
	}
	atk_object_set_name(gtk_widget_get_accessible(g->queue_tree),
			    "Waiting in the queue");
	g_signal_connect(g->queue_tree, "row-activated",
			 G_CALLBACK(on_row_activated), g);
	sw = gtk_scrolled_window_new(NULL, NULL);
	gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(sw),
						   110);
	gtk_container_add(GTK_CONTAINER(sw), g->queue_tree);
	gtk_box_pack_start(GTK_BOX(box), sw, FALSE, FALSE, 0);
	return box;
}
