/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "PRODUCT Agent – Groups": an admin's technician groups of their org
 * (issue 11 item 3) through /api/v1/groups, in GTask threads: the list
 * with each permission as a check box (the names from ll_perm_name, the
 * one table of common/proto/control.c), Add, Save (a PUT per changed
 * group) and Remove.  The relay refuses to remove a group with members
 * (409); its sentence is shown.  Only admins see the button
 * (main_window.c); the relay refuses everyone else.
 */
#include <string.h>

#include "gui.h"
#include "ll_api_client.h"
#include "ll_control.h"
#include "ll_log.h"
#include "ll_text.h"
#include "ll_ui.h"
#include "ll_util.h"

enum { COL_NAME, COL_MEMBERS, COL_PERMS, COL_CHANGED, N_COLS };

/* The permissions there are: the bits of LL_PERM_ALL, in their order. */
#define N_PERMS 8

struct groups_view {
	struct ll_gui *g;
	GtkWidget *win, *tree, *status;
	GtkWidget *checks[N_PERMS]; /* the selected group's permissions */
	bool syncing;               /* the check boxes follow the selection */
	GtkListStore *store;
	GCancellable *busy; /* a request in flight */
	char *select;       /* the name to select once the list is back */
};

/* One change of a group, or the list. */
struct groups_put {
	char *name;
	uint32_t perms;
};

struct groups_job {
	const char *method; /* GET (the list), POST, PUT or DELETE */
	char *name;         /* POST, DELETE */
	GArray *puts;       /* PUT: struct groups_put, one per group */
	char *done;         /* the status once it worked; NULL: the list */
	json_t *answer;
};

static json_t *perms_json(uint32_t perms)
{
	json_t *a = json_array();
	uint32_t bit;

	for (bit = 1; bit != 0 && (bit & LL_PERM_ALL) != 0; bit <<= 1)
		if ((perms & bit) != 0)
			json_array_append_new(a,
					      json_string(ll_perm_name(bit)));
	return a;
}

static void put_clear(gpointer data)
{
	g_free(((struct groups_put *)data)->name);
}

static void job_free(void *data)
{
	struct groups_job *j = data;

	g_free(j->name);
	if (j->puts != NULL)
		g_array_unref(j->puts);
	g_free(j->done);
	json_decref(j->answer);
	g_free(j);
}

static int job_run(void *job, struct ll_api_client *c,
		   const struct ll_gui_conn *conn, struct ll_client_error *e)
{
	struct groups_job *j = job;
	json_t *out = NULL, *body;
	guint i;
	int r = 0;

	if (strcmp(j->method, "POST") == 0) {
		body = json_pack("{s:s,s:[]}", "name", j->name, "permissions");
		r = ll_api_groups(c, "POST", NULL, body, &out, e);
		json_decref(body);
	} else if (strcmp(j->method, "DELETE") == 0) {
		r = ll_api_groups(c, "DELETE", j->name, NULL, &out, e);
	} else if (strcmp(j->method, "PUT") == 0) {
		/* one after the other; the first refusal stops the rest */
		for (i = 0; r == 0 && i < j->puts->len; i++) {
			struct groups_put *p = &g_array_index(
				j->puts, struct groups_put, i);

			body = json_pack("{s:o}", "permissions",
					 perms_json(p->perms));
			r = ll_api_groups(c, "PUT", p->name, body, &out, e);
			json_decref(body);
			json_decref(out);
			out = NULL;
		}
	} else {
		r = ll_api_groups(c, "GET", NULL, NULL, &j->answer, e);
	}
	json_decref(out);
	return r;
}

static void status(struct groups_view *v, const char *text)
{
	gtk_label_set_text(GTK_LABEL(v->status), text);
	ll_info("groups: %s", text);
}

static void fill(struct groups_view *v, json_t *list)
{
	GtkTreeSelection *sel;
	GtkTreeIter it;
	json_t *grp, *p;
	size_t i, k;

	gtk_list_store_clear(v->store);
	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(v->tree));
	json_array_foreach(list, i, grp)
	{
		const char *s = json_string_value(
			json_object_get(grp, "name"));
		uint32_t perms = 0;
		char *name;

		if (s == NULL)
			continue;
		name = ll_text_printable_new(s, strlen(s), 256);
		json_array_foreach(json_object_get(grp, "permissions"), k, p)
			perms |= ll_perm_from_name(json_string_value(p));
		gtk_list_store_append(v->store, &it);
		gtk_list_store_set(v->store, &it, COL_NAME, name, COL_MEMBERS,
				   (gint)json_integer_value(
					   json_object_get(grp, "members")),
				   COL_PERMS, perms, COL_CHANGED, FALSE, -1);
		if (v->select != NULL && strcmp(name, v->select) == 0)
			gtk_tree_selection_select_iter(sel, &it);
		free(name);
	}
}

static void request(struct groups_view *v, struct groups_job *j);

static void job_done(void *job, const struct ll_client_error *e, void *user)
{
	struct groups_view *v = user;
	struct groups_job *j = job;
	g_autofree char *text = NULL;
	struct groups_job *list;

	g_clear_object(&v->busy);
	if (e->code != 0) {
		text = g_strdup_printf("%s: %s",
				       j->done != NULL
					       ? "Nothing was changed"
					       : "Cannot read the list",
				       ll_gui_error_text(e));
		status(v, text);
		return;
	}
	if (j->done == NULL) {
		fill(v, json_object_get(j->answer, "groups"));
		text = g_strdup_printf(
			"shown %zu",
			json_array_size(json_object_get(j->answer, "groups")));
		status(v, text);
		return;
	}
	status(v, j->done);
	list = g_new0(struct groups_job, 1);
	list->method = "GET";
	request(v, list);
}

/* One request at a time (j is taken). */
static void request(struct groups_view *v, struct groups_job *j)
{
	static const struct ll_gui_call how = { job_run, job_done, job_free };

	if (v->busy != NULL) {
		job_free(j);
		return;
	}
	v->busy = g_cancellable_new();
	ll_gui_call(&v->g->conn, NULL, v->busy, &how, j, v);
}

static void refresh(struct groups_view *v)
{
	struct groups_job *j = g_new0(struct groups_job, 1);

	j->method = "GET";
	request(v, j);
}

/* The selected row: its permissions into the check boxes. */
static void on_selection(GtkTreeSelection *sel, gpointer data)
{
	struct groups_view *v = data;
	GtkTreeModel *m;
	GtkTreeIter it;
	guint perms = 0;
	bool any;
	int i;

	any = gtk_tree_selection_get_selected(sel, &m, &it);
	if (any)
		gtk_tree_model_get(m, &it, COL_PERMS, &perms, -1);
	v->syncing = true;
	for (i = 0; i < N_PERMS; i++) {
		gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(v->checks[i]),
					     (perms & (1u << i)) != 0);
		gtk_widget_set_sensitive(v->checks[i], any);
	}
	v->syncing = false;
}

/* A permission of the row at it flipped, by its cell or its box. */
static void row_flip(struct groups_view *v, GtkTreeIter *it, uint32_t bit,
		     bool on)
{
	GtkTreeModel *m = GTK_TREE_MODEL(v->store);
	guint perms;

	gtk_tree_model_get(m, it, COL_PERMS, &perms, -1);
	perms = on ? perms | bit : perms & ~bit;
	gtk_list_store_set(v->store, it, COL_PERMS, perms, COL_CHANGED, TRUE,
			   -1);
}

static void on_check(GtkToggleButton *b, gpointer data)
{
	struct groups_view *v = data;
	uint32_t bit = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(b), "bit"));
	GtkTreeSelection *sel;
	GtkTreeIter it;

	if (v->syncing)
		return;
	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(v->tree));
	if (gtk_tree_selection_get_selected(sel, NULL, &it))
		row_flip(v, &it, bit, gtk_toggle_button_get_active(b));
}

static void on_cell_toggled(GtkCellRendererToggle *cell, gchar *path,
			    gpointer data)
{
	struct groups_view *v = data;
	uint32_t bit = GPOINTER_TO_UINT(
		g_object_get_data(G_OBJECT(cell), "bit"));
	GtkTreeSelection *sel;
	GtkTreeIter it;

	if (!gtk_tree_model_get_iter_from_string(GTK_TREE_MODEL(v->store), &it,
						 path))
		return;
	row_flip(v, &it, bit, !gtk_cell_renderer_toggle_get_active(cell));
	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(v->tree));
	gtk_tree_selection_select_iter(sel, &it);
	on_selection(sel, v);
}

static void cell_perm(GtkTreeViewColumn *col, GtkCellRenderer *cell,
		      GtkTreeModel *m, GtkTreeIter *it, gpointer data)
{
	guint perms;

	(void)col;
	gtk_tree_model_get(m, it, COL_PERMS, &perms, -1);
	gtk_cell_renderer_toggle_set_active(GTK_CELL_RENDERER_TOGGLE(cell),
					    (perms & GPOINTER_TO_UINT(data)) !=
						    0);
}

/* The selected group's name (g_free), or NULL after saying so. */
static char *selected(struct groups_view *v)
{
	GtkTreeSelection *sel;
	GtkTreeModel *m;
	GtkTreeIter it;
	char *name = NULL;

	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(v->tree));
	if (gtk_tree_selection_get_selected(sel, &m, &it))
		gtk_tree_model_get(m, &it, COL_NAME, &name, -1);
	if (name == NULL)
		status(v, "select a group first");
	return name;
}

static void on_add(GtkButton *b, gpointer data)
{
	struct groups_view *v = data;
	GtkWidget *dlg, *area, *grid, *label, *entry;
	struct groups_job *j;
	char *title;

	(void)b;
	title = g_strdup_printf("%s Agent \u2013 Add a group",
				ll_ui_brand()->product);
	dlg = gtk_dialog_new_with_buttons(
		title, GTK_WINDOW(v->win),
		GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, "_Cancel",
		GTK_RESPONSE_CANCEL, "_Add", GTK_RESPONSE_OK, NULL);
	g_free(title);
	gtk_dialog_set_default_response(GTK_DIALOG(dlg), GTK_RESPONSE_OK);
	area = gtk_dialog_get_content_area(GTK_DIALOG(dlg));
	gtk_container_set_border_width(GTK_CONTAINER(area), 12);
	grid = gtk_grid_new();
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	label = gtk_label_new_with_mnemonic("_Name");
	entry = gtk_entry_new();
	gtk_entry_set_activates_default(GTK_ENTRY(entry), TRUE);
	gtk_entry_set_width_chars(GTK_ENTRY(entry), 30);
	gtk_label_set_mnemonic_widget(GTK_LABEL(label), entry);
	gtk_grid_attach(GTK_GRID(grid), label, 0, 0, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), entry, 1, 0, 1, 1);
	gtk_grid_attach(GTK_GRID(grid),
			gtk_label_new("A new group grants nothing until you "
				      "tick its permissions and save."),
			0, 1, 2, 1);
	gtk_box_pack_start(GTK_BOX(area), grid, TRUE, TRUE, 0);
	gtk_widget_show_all(dlg);
	ll_info("groups: add asked");
	if (gtk_dialog_run(GTK_DIALOG(dlg)) == GTK_RESPONSE_OK) {
		j = g_new0(struct groups_job, 1);
		j->method = "POST";
		j->name = g_strdup(gtk_entry_get_text(GTK_ENTRY(entry)));
		j->done = g_strdup_printf("added %s", j->name);
		g_free(v->select);
		v->select = g_strdup(j->name);
		request(v, j);
	}
	gtk_widget_destroy(dlg);
}

static gboolean changed_add(GtkTreeModel *m, GtkTreePath *path,
			    GtkTreeIter *it, gpointer data)
{
	struct groups_put p = { NULL, 0 };
	gboolean changed;
	guint perms;

	(void)path;
	gtk_tree_model_get(m, it, COL_CHANGED, &changed, COL_PERMS, &perms,
			   COL_NAME, &p.name, -1);
	p.perms = perms;
	if (changed)
		g_array_append_val((GArray *)data, p);
	else
		g_free(p.name);
	return FALSE;
}

static void on_save(GtkButton *b, gpointer data)
{
	struct groups_view *v = data;
	struct groups_job *j;
	GArray *puts;

	(void)b;
	puts = g_array_new(FALSE, FALSE, sizeof(struct groups_put));
	g_array_set_clear_func(puts, put_clear);
	gtk_tree_model_foreach(GTK_TREE_MODEL(v->store), changed_add, puts);
	if (puts->len == 0) {
		g_array_unref(puts);
		status(v, "nothing changed");
		return;
	}
	j = g_new0(struct groups_job, 1);
	j->method = "PUT";
	j->puts = puts;
	j->done = g_strdup_printf("saved %u group%s", puts->len,
				  puts->len == 1 ? "" : "s");
	g_free(v->select);
	v->select = g_strdup(g_array_index(puts, struct groups_put, 0).name);
	request(v, j);
}

static void on_remove(GtkButton *b, gpointer data)
{
	struct groups_view *v = data;
	char *name = selected(v);
	struct groups_job *j;

	(void)b;
	if (name == NULL)
		return;
	j = g_new0(struct groups_job, 1);
	j->method = "DELETE";
	j->name = name;
	j->done = g_strdup_printf("removed %s", name);
	request(v, j);
}

static void on_refresh(GtkButton *b, gpointer data)
{
	(void)b;
	refresh(data);
}

static void on_close(GtkButton *b, gpointer data)
{
	struct groups_view *v = data;

	(void)b;
	gtk_widget_destroy(v->win);
}

static void on_destroy(GtkWidget *w, gpointer data)
{
	struct groups_view *v = data;

	(void)w;
	if (v->busy != NULL) {
		g_cancellable_cancel(v->busy);
		g_clear_object(&v->busy);
	}
	g_object_unref(v->store);
	g_free(v->select);
	v->g->groups = NULL;
	g_free(v);
}

static GtkWidget *list_new(struct groups_view *v)
{
	GtkWidget *sw = gtk_scrolled_window_new(NULL, NULL);
	GtkTreeViewColumn *col;
	GtkCellRenderer *cell;
	GtkTreeSelection *sel;
	int i;

	v->store = gtk_list_store_new(N_COLS, G_TYPE_STRING, G_TYPE_INT,
				      G_TYPE_UINT, G_TYPE_BOOLEAN);
	v->tree = gtk_tree_view_new_with_model(GTK_TREE_MODEL(v->store));
	gtk_tree_view_append_column(GTK_TREE_VIEW(v->tree),
				    gtk_tree_view_column_new_with_attributes(
					    "Group",
					    gtk_cell_renderer_text_new(),
					    "text", COL_NAME, NULL));
	gtk_tree_view_append_column(GTK_TREE_VIEW(v->tree),
				    gtk_tree_view_column_new_with_attributes(
					    "Members",
					    gtk_cell_renderer_text_new(),
					    "text", COL_MEMBERS, NULL));
	for (i = 0; i < N_PERMS; i++) {
		cell = gtk_cell_renderer_toggle_new();
		g_object_set_data(G_OBJECT(cell), "bit",
				  GUINT_TO_POINTER(1u << i));
		g_signal_connect(cell, "toggled", G_CALLBACK(on_cell_toggled),
				 v);
		col = gtk_tree_view_column_new_with_attributes(
			ll_perm_name(1u << i), cell, NULL);
		gtk_tree_view_column_set_cell_data_func(
			col, cell, cell_perm, GUINT_TO_POINTER(1u << i), NULL);
		gtk_tree_view_append_column(GTK_TREE_VIEW(v->tree), col);
	}
	atk_object_set_name(gtk_widget_get_accessible(v->tree), "Groups");
	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(v->tree));
	g_signal_connect(sel, "changed", G_CALLBACK(on_selection), v);
	gtk_container_add(GTK_CONTAINER(sw), v->tree);
	return sw;
}

/* Alt+P moves to the first box; it does not tick it, as a check box's
 * own mnemonic would. */
static gboolean on_check_mnemonic(GtkWidget *w, gboolean cycling,
				  gpointer data)
{
	(void)cycling;
	(void)data;
	gtk_widget_grab_focus(w);
	return TRUE;
}

/* The selected group's permissions as check boxes, for the keyboard. */
static GtkWidget *checks_new(struct groups_view *v)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	GtkWidget *label;
	int i;

	label = gtk_label_new_with_mnemonic("_Permissions of the selected "
					    "group:");
	gtk_box_pack_start(GTK_BOX(box), label, FALSE, FALSE, 0);
	for (i = 0; i < N_PERMS; i++) {
		v->checks[i] = gtk_check_button_new_with_label(
			ll_perm_name(1u << i));
		g_object_set_data(G_OBJECT(v->checks[i]), "bit",
				  GUINT_TO_POINTER(1u << i));
		g_signal_connect(v->checks[i], "toggled", G_CALLBACK(on_check),
				 v);
		gtk_widget_set_sensitive(v->checks[i], FALSE);
		gtk_box_pack_start(GTK_BOX(box), v->checks[i], FALSE, FALSE,
				   0);
	}
	gtk_label_set_mnemonic_widget(GTK_LABEL(label), v->checks[0]);
	g_signal_connect(v->checks[0], "mnemonic-activate",
			 G_CALLBACK(on_check_mnemonic), NULL);
	return box;
}

static GtkWidget *buttons_new(struct groups_view *v)
{
	static const struct {
		const char *label;
		GCallback cb;
		bool end;
	} buttons[] = {
		{ "_Add\u2026", G_CALLBACK(on_add), false },
		{ "_Save", G_CALLBACK(on_save), false },
		{ "Re_move", G_CALLBACK(on_remove), false },
		{ "_Close", G_CALLBACK(on_close), true },
		{ "_Refresh", G_CALLBACK(on_refresh), true },
	};
	GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *b;
	size_t i;

	for (i = 0; i < LL_ARRAY_SIZE(buttons); i++) {
		b = gtk_button_new_with_mnemonic(buttons[i].label);
		g_signal_connect(b, "clicked", buttons[i].cb, v);
		if (buttons[i].end)
			gtk_box_pack_end(GTK_BOX(bar), b, FALSE, FALSE, 0);
		else
			gtk_box_pack_start(GTK_BOX(bar), b, FALSE, FALSE, 0);
	}
	return bar;
}

void ll_groups_window_open(struct ll_gui *g)
{
	struct groups_view *v;
	GtkWidget *box;

	G_STATIC_ASSERT(LL_PERM_ALL == (1u << N_PERMS) - 1);
	if (ll_admin_window_raise(g->groups))
		return;
	v = g_new0(struct groups_view, 1);
	v->g = g;
	v->win = ll_admin_window_new(g, "Groups", 900, 360,
				     "Technician groups", &box);
	g->groups = v->win;
	gtk_box_pack_start(GTK_BOX(box), list_new(v), TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(box), checks_new(v), FALSE, FALSE, 0);
	v->status = ll_admin_status_new(box, "Reading the list\u2026", true);
	gtk_box_pack_start(GTK_BOX(box), buttons_new(v), FALSE, FALSE, 0);
	g_signal_connect(v->win, "destroy", G_CALLBACK(on_destroy), v);
	gtk_widget_show_all(v->win);
	refresh(v);
}
