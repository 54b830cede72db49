/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "PRODUCT Agent – Technicians": an admin's technicians of their org
 * (issue 11 item 4) through /api/v1/technicians, in GTask threads: the
 * list (name, display name, role, state, second factor), and Add, Display
 * name, Disable, Enable, Unlock, Reset two-factor, New password on the
 * selected one, and Group (a combo of the org's groups and "No group").
 * A generated one-time password is shown once, in a window
 * of its own the admin can copy it from; it is never logged, and the
 * window forgets it when closed.  Only admins see the button
 * (main_window.c); the relay refuses everyone else.
 */
#include <string.h>

#include "gui.h"
#include "ll_api_client.h"
#include "ll_crypto.h"
#include "ll_log.h"
#include "ll_text.h"
#include "ll_ui.h"
#include "ll_util.h"

enum {
	COL_NAME,
	COL_DISPLAY,
	COL_ROLE,
	COL_STATE,
	COL_MFA,
	COL_GROUP,
	N_COLS
};

struct tech_view {
	struct ll_gui *g;
	GtkWidget *win, *tree, *status;
	GtkListStore *store;
	GCancellable *busy; /* a request in flight */
	char *select;       /* the name to select once the list is back */
	GPtrArray *groups;  /* the org's group names, as last read */
};

/* One request, in its thread. */
struct tech_job {
	const char *method;
	char *name;   /* NULL: the collection */
	char *action; /* "unlock", ... or NULL */
	json_t *body;
	char *done; /* what the status says once it worked */
	json_t *answer;
	json_t *groups; /* with the list: GET /api/v1/groups */
};

static void job_free(void *data)
{
	struct tech_job *j = data;
	json_t *pw;

	g_free(j->name);
	g_free(j->action);
	g_free(j->done);
	json_decref(j->body);
	/* a one-time password: gone with the answer */
	pw = json_object_get(j->answer, "one_time_password");
	if (json_is_string(pw))
		ll_wipe((char *)json_string_value(pw), json_string_length(pw));
	json_decref(j->answer);
	json_decref(j->groups);
	g_free(j);
}

static int job_run(void *job, struct ll_api_client *c,
		   const struct ll_gui_conn *conn, struct ll_client_error *e)
{
	struct tech_job *j = job;
	int r;

	if (j->action != NULL && strcmp(j->action, "group") == 0)
		/* 204, no answer */
		r = ll_api_technician_group(
			c, j->name,
			json_string_value(json_object_get(j->body, "group")),
			e);
	else
		r = ll_api_technicians(c, j->method, j->name, j->action,
				       j->body, &j->answer, e);
	/* the list comes with the groups a technician may be put in */
	if (r == 0 && j->done == NULL)
		r = ll_api_groups(c, "GET", NULL, NULL, &j->groups, e);
	return r;
}

static void status(struct tech_view *v, const char *text)
{
	gtk_label_set_text(GTK_LABEL(v->status), text);
	ll_info("technicians: %s", text);
}

/* Text from the relay as a cell shows it. */
static char *shown(json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL ? ll_text_printable_new(s, strlen(s), 256)
			 : g_strdup("");
}

static bool flag(json_t *t, const char *key)
{
	return json_is_true(json_object_get(t, key));
}

static void fill(struct tech_view *v, json_t *list)
{
	GtkTreeSelection *sel;
	GtkTreeIter it;
	json_t *t;
	size_t i;

	gtk_list_store_clear(v->store);
	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(v->tree));
	json_array_foreach(list, i, t)
	{
		char *name = shown(json_object_get(t, "name"));
		char *dn = shown(json_object_get(t, "display_name"));
		char *group = shown(json_object_get(t, "group"));

		gtk_list_store_append(v->store, &it);
		gtk_list_store_set(
			v->store, &it, COL_NAME, name, COL_DISPLAY, dn,
			COL_ROLE,
			flag(t, "admin") ? "administrator" : "technician",
			COL_STATE,
			flag(t, "disabled") ? "disabled" : "enabled", COL_MFA,
			flag(t, "locked") ? "locked"
			: flag(t, "mfa")  ? "on"
					  : "off",
			COL_GROUP, group, -1);
		if (v->select != NULL && strcmp(name, v->select) == 0)
			gtk_tree_selection_select_iter(sel, &it);
		free(name);
		free(dn);
		free(group);
	}
}

static void groups_keep(struct tech_view *v, json_t *list)
{
	json_t *grp;
	size_t i;

	g_ptr_array_set_size(v->groups, 0);
	json_array_foreach(list, i, grp)
	{
		const char *n = json_string_value(
			json_object_get(grp, "name"));

		if (n != NULL)
			g_ptr_array_add(v->groups, g_strdup(n));
	}
}

/* "The one-time password of NAME": the password selectable, Copy, and
 * Close; nothing of it is logged. */
static void password_window(struct tech_view *v, const char *name,
			    const char *pw)
{
	GtkWidget *dlg, *area, *label, *entry;
	char *title, *text;

	title = g_strdup_printf("%s Agent \u2013 One-time password",
				ll_ui_brand()->product);
	dlg = gtk_dialog_new_with_buttons(
		title, GTK_WINDOW(v->win),
		GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, "C_opy", 1,
		"_Close", GTK_RESPONSE_CLOSE, NULL);
	g_free(title);
	area = gtk_dialog_get_content_area(GTK_DIALOG(dlg));
	gtk_container_set_border_width(GTK_CONTAINER(area), 12);
	gtk_box_set_spacing(GTK_BOX(area), 8);
	text = g_strdup_printf("The one-time password of %s, shown only "
			       "now. Give it to them: they choose their own "
			       "at the first login.",
			       name);
	label = gtk_label_new(text);
	g_free(text);
	gtk_label_set_line_wrap(GTK_LABEL(label), TRUE);
	gtk_box_pack_start(GTK_BOX(area), label, FALSE, FALSE, 0);
	entry = gtk_entry_new();
	gtk_entry_set_text(GTK_ENTRY(entry), pw);
	gtk_editable_set_editable(GTK_EDITABLE(entry), FALSE);
	gtk_entry_set_width_chars(GTK_ENTRY(entry), 28);
	ll_ui_add_class(entry, "monospace");
	atk_object_set_name(gtk_widget_get_accessible(entry),
			    "One-time password");
	gtk_box_pack_start(GTK_BOX(area), entry, FALSE, FALSE, 0);
	gtk_widget_show_all(dlg);
	ll_info("technicians: one-time password of %s shown", name);
	while (gtk_dialog_run(GTK_DIALOG(dlg)) == 1) {
		gtk_clipboard_set_text(gtk_widget_get_clipboard(
					       entry, GDK_SELECTION_CLIPBOARD),
				       pw, -1);
		ll_info("technicians: one-time password copied");
	}
	gtk_entry_set_text(GTK_ENTRY(entry), "");
	gtk_widget_destroy(dlg);
}

static void request(struct tech_view *v, const char *method, const char *name,
		    const char *action, json_t *body, char *done);

static void job_done(void *job, const struct ll_client_error *e, void *user)
{
	struct tech_view *v = user;
	struct tech_job *j = job;
	const char *pw;
	char *text;

	g_clear_object(&v->busy);
	if (e->code != 0) {
		text = g_strdup_printf("%s: %s",
				       j->done != NULL
					       ? "Nothing was changed"
					       : "Cannot read the list",
				       ll_gui_error_text(e));
		status(v, text);
		g_free(text);
		return;
	}
	if (j->done == NULL) {
		fill(v, json_object_get(j->answer, "technicians"));
		groups_keep(v, json_object_get(j->groups, "groups"));
		text = g_strdup_printf("shown %zu",
				       json_array_size(json_object_get(
					       j->answer, "technicians")));
		status(v, text);
		g_free(text);
		return;
	}
	status(v, j->done);
	pw = json_string_value(
		json_object_get(j->answer, "one_time_password"));
	if (pw != NULL)
		password_window(v, j->name != NULL ? j->name : v->select, pw);
	request(v, "GET", NULL, NULL, NULL, NULL);
}

/* One request at a time; done (taken) is the status once it worked,
 * NULL for reading the list. */
static void request(struct tech_view *v, const char *method, const char *name,
		    const char *action, json_t *body, char *done)
{
	static const struct ll_gui_call how = { job_run, job_done, job_free };
	struct tech_job *j;

	if (v->busy != NULL) {
		json_decref(body);
		g_free(done);
		return;
	}
	j = g_new0(struct tech_job, 1);
	j->method = method;
	j->name = g_strdup(name);
	j->action = g_strdup(action);
	j->body = body;
	j->done = done;
	v->busy = g_cancellable_new();
	ll_gui_call(&v->g->conn, NULL, v->busy, &how, j, v);
}

/* The selected technician's name (g_free), or NULL after saying so. */
static char *selected(struct tech_view *v)
{
	GtkTreeSelection *sel;
	GtkTreeModel *m;
	GtkTreeIter it;
	char *name = NULL;

	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(v->tree));
	if (gtk_tree_selection_get_selected(sel, &m, &it))
		gtk_tree_model_get(m, &it, COL_NAME, &name, -1);
	if (name == NULL)
		status(v, "select a technician first");
	return name;
}

/* A dialog of this window: title after "PRODUCT Agent – ", OK button
 * ok (the default). */
static GtkWidget *dialog_new(struct tech_view *v, const char *title,
			     const char *ok, GtkWidget **grid)
{
	GtkWidget *dlg, *area;
	char *t = g_strdup_printf("%s Agent \u2013 %s", ll_ui_brand()->product,
				  title);

	dlg = gtk_dialog_new_with_buttons(
		t, GTK_WINDOW(v->win),
		GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, "_Cancel",
		GTK_RESPONSE_CANCEL, ok, GTK_RESPONSE_OK, NULL);
	g_free(t);
	gtk_dialog_set_default_response(GTK_DIALOG(dlg), GTK_RESPONSE_OK);
	area = gtk_dialog_get_content_area(GTK_DIALOG(dlg));
	gtk_container_set_border_width(GTK_CONTAINER(area), 12);
	*grid = gtk_grid_new();
	gtk_grid_set_row_spacing(GTK_GRID(*grid), 6);
	gtk_grid_set_column_spacing(GTK_GRID(*grid), 12);
	gtk_box_pack_start(GTK_BOX(area), *grid, TRUE, TRUE, 0);
	return dlg;
}

static GtkWidget *field(GtkWidget *grid, int y, const char *label,
			const char *text)
{
	GtkWidget *l = gtk_label_new_with_mnemonic(label);
	GtkWidget *e = gtk_entry_new();

	gtk_widget_set_halign(l, GTK_ALIGN_END);
	gtk_entry_set_text(GTK_ENTRY(e), text != NULL ? text : "");
	gtk_entry_set_activates_default(GTK_ENTRY(e), TRUE);
	gtk_entry_set_width_chars(GTK_ENTRY(e), 30);
	gtk_label_set_mnemonic_widget(GTK_LABEL(l), e);
	gtk_grid_attach(GTK_GRID(grid), l, 0, y, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), e, 1, y, 1, 1);
	return e;
}

static void on_add(GtkButton *b, gpointer data)
{
	struct tech_view *v = data;
	GtkWidget *grid, *dlg, *name, *dn, *admin;
	const char *n, *d;
	json_t *body;

	(void)b;
	dlg = dialog_new(v, "Add a technician", "_Add", &grid);
	name = field(grid, 0, "_Login name", NULL);
	dn = field(grid, 1, "_Display name", NULL);
	admin = gtk_check_button_new_with_mnemonic("Ad_ministrator");
	gtk_grid_attach(GTK_GRID(grid), admin, 1, 2, 1, 1);
	gtk_widget_show_all(dlg);
	ll_info("technicians: add asked");
	if (gtk_dialog_run(GTK_DIALOG(dlg)) == GTK_RESPONSE_OK) {
		n = gtk_entry_get_text(GTK_ENTRY(name));
		d = gtk_entry_get_text(GTK_ENTRY(dn));
		body = json_pack("{s:s,s:b}", "name", n, "admin",
				 gtk_toggle_button_get_active(
					 GTK_TOGGLE_BUTTON(admin)));
		if (body != NULL && d[0] != '\0')
			json_object_set_new(body, "display_name",
					    json_string(d));
		g_free(v->select);
		v->select = g_strdup(n);
		request(v, "POST", NULL, NULL, body,
			g_strdup_printf("added %s", n));
	}
	gtk_widget_destroy(dlg);
}

static void on_display_name(GtkButton *b, gpointer data)
{
	struct tech_view *v = data;
	g_autofree char *name = selected(v), *was = NULL;
	GtkWidget *grid, *dlg, *dn;
	GtkTreeSelection *sel;
	GtkTreeModel *m;
	GtkTreeIter it;
	const char *d;

	(void)b;
	if (name == NULL)
		return;
	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(v->tree));
	if (gtk_tree_selection_get_selected(sel, &m, &it))
		gtk_tree_model_get(m, &it, COL_DISPLAY, &was, -1);
	dlg = dialog_new(v, "Display name", "_Save", &grid);
	dn = field(grid, 0, "_Display name", was);
	gtk_widget_show_all(dlg);
	if (gtk_dialog_run(GTK_DIALOG(dlg)) == GTK_RESPONSE_OK) {
		d = gtk_entry_get_text(GTK_ENTRY(dn));
		request(v, "PATCH", name, NULL,
			json_pack("{s:s}", "display_name", d),
			g_strdup_printf("%s is shown as \"%s\"", name, d));
	}
	gtk_widget_destroy(dlg);
}

/* Group: the org's groups in a combo, "No group" first, the current one
 * chosen. */
static void on_group(GtkButton *b, gpointer data)
{
	struct tech_view *v = data;
	g_autofree char *name = selected(v), *was = NULL;
	GtkWidget *grid, *dlg, *combo, *label;
	GtkTreeSelection *sel;
	GtkTreeModel *m;
	GtkTreeIter it;
	g_autofree char *group = NULL;
	guint i;

	(void)b;
	if (name == NULL)
		return;
	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(v->tree));
	if (gtk_tree_selection_get_selected(sel, &m, &it))
		gtk_tree_model_get(m, &it, COL_GROUP, &was, -1);
	dlg = dialog_new(v, "Group", "_Save", &grid);
	label = gtk_label_new_with_mnemonic("_Group");
	combo = gtk_combo_box_text_new();
	gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(combo), "", "No group");
	gtk_combo_box_set_active(GTK_COMBO_BOX(combo), 0);
	for (i = 0; i < v->groups->len; i++) {
		const char *n = g_ptr_array_index(v->groups, i);

		gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(combo), n, n);
		if (was != NULL && strcmp(was, n) == 0)
			gtk_combo_box_set_active(GTK_COMBO_BOX(combo),
						 (gint)i + 1);
	}
	gtk_label_set_mnemonic_widget(GTK_LABEL(label), combo);
	gtk_widget_set_halign(label, GTK_ALIGN_END);
	gtk_grid_attach(GTK_GRID(grid), label, 0, 0, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), combo, 1, 0, 1, 1);
	gtk_widget_show_all(dlg);
	gtk_widget_grab_focus(combo);
	ll_info("technicians: group of %s asked", name);
	if (gtk_dialog_run(GTK_DIALOG(dlg)) == GTK_RESPONSE_OK) {
		group = g_strdup(
			gtk_combo_box_get_active_id(GTK_COMBO_BOX(combo)));
		g_free(v->select);
		v->select = g_strdup(name);
		if (group == NULL || group[0] == '\0')
			request(v, "PUT", name, "group",
				json_pack("{s:n}", "group"),
				g_strdup_printf("%s is in no group", name));
		else
			request(v, "PUT", name, "group",
				json_pack("{s:s}", "group", group),
				g_strdup_printf("%s is in group %s", name,
						group));
	}
	gtk_widget_destroy(dlg);
}

/* A change of the selected technician with no questions: which is its
 * "what" data (on the button). */
static void on_change(GtkButton *b, gpointer data)
{
	struct tech_view *v = data;
	const char *what = g_object_get_data(G_OBJECT(b), "what");
	char *name = selected(v);

	if (name == NULL)
		return;
	g_free(v->select);
	v->select = g_strdup(name);
	if (strcmp(what, "disable") == 0 || strcmp(what, "enable") == 0)
		request(v, "PATCH", name, NULL,
			json_pack("{s:b}", "disabled",
				  strcmp(what, "disable") == 0),
			g_strdup_printf("%s %sd", name, what));
	else if (strcmp(what, "unlock") == 0)
		request(v, "POST", name, what, NULL,
			g_strdup_printf("%s unlocked", name));
	else if (strcmp(what, "mfa-reset") == 0)
		request(v, "POST", name, what, NULL,
			g_strdup_printf("%s: second factor reset", name));
	else
		request(v, "POST", name, what, NULL,
			g_strdup_printf("%s: new one-time password", name));
	g_free(name);
}

static void on_refresh(GtkButton *b, gpointer data)
{
	(void)b;
	request(data, "GET", NULL, NULL, NULL, NULL);
}

static void on_close(GtkButton *b, gpointer data)
{
	struct tech_view *v = data;

	(void)b;
	gtk_widget_destroy(v->win);
}

static void on_destroy(GtkWidget *w, gpointer data)
{
	struct tech_view *v = data;

	(void)w;
	if (v->busy != NULL) {
		g_cancellable_cancel(v->busy);
		g_clear_object(&v->busy);
	}
	g_object_unref(v->store);
	g_free(v->select);
	g_ptr_array_unref(v->groups);
	v->g->technicians = NULL;
	g_free(v);
}

static GtkWidget *list_new(struct tech_view *v)
{
	static const char *const titles[N_COLS] = {
		"Login name", "Display name", "Role",
		"State",      "Two-factor",   "Group"
	};

	return ll_admin_list_new(titles, N_COLS, "Technicians", &v->store,
				 &v->tree);
}

static GtkWidget *buttons_new(struct tech_view *v)
{
	static const struct {
		const char *label, *what;
	} changes[] = {
		{ "_Disable", "disable" },
		{ "_Enable", "enable" },
		{ "_Unlock", "unlock" },
		{ "Reset _two-factor", "mfa-reset" },
		{ "New _password", "password" },
	};
	GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *b;
	size_t i;

	b = gtk_button_new_with_mnemonic("_Add\u2026");
	ll_ui_add_class(b, "ll-accent");
	g_signal_connect(b, "clicked", G_CALLBACK(on_add), v);
	gtk_box_pack_start(GTK_BOX(bar), b, FALSE, FALSE, 0);
	b = gtk_button_new_with_mnemonic("Display _name\u2026");
	g_signal_connect(b, "clicked", G_CALLBACK(on_display_name), v);
	gtk_box_pack_start(GTK_BOX(bar), b, FALSE, FALSE, 0);
	b = gtk_button_new_with_mnemonic("_Group\u2026");
	g_signal_connect(b, "clicked", G_CALLBACK(on_group), v);
	gtk_box_pack_start(GTK_BOX(bar), b, FALSE, FALSE, 0);
	for (i = 0; i < LL_ARRAY_SIZE(changes); i++) {
		b = gtk_button_new_with_mnemonic(changes[i].label);
		g_object_set_data(G_OBJECT(b), "what",
				  (gpointer)changes[i].what);
		g_signal_connect(b, "clicked", G_CALLBACK(on_change), v);
		gtk_box_pack_start(GTK_BOX(bar), b, FALSE, FALSE, 0);
	}
	b = gtk_button_new_with_mnemonic("_Close");
	g_signal_connect(b, "clicked", G_CALLBACK(on_close), v);
	gtk_box_pack_end(GTK_BOX(bar), b, FALSE, FALSE, 0);
	b = gtk_button_new_with_mnemonic("_Refresh");
	g_signal_connect(b, "clicked", G_CALLBACK(on_refresh), v);
	gtk_box_pack_end(GTK_BOX(bar), b, FALSE, FALSE, 0);
	return bar;
}

void ll_technicians_window_open(struct ll_gui *g)
{
	struct tech_view *v;
	GtkWidget *box;

	if (ll_admin_window_raise(g->technicians))
		return;
	v = g_new0(struct tech_view, 1);
	v->g = g;
	v->groups = g_ptr_array_new_with_free_func(g_free);
	v->win = ll_admin_window_new(g, "Technicians", 900, 420, "Technicians",
				     &box);
	g->technicians = v->win;
	gtk_box_pack_start(GTK_BOX(box), list_new(v), TRUE, TRUE, 0);
	v->status = ll_admin_status_new(box, "Reading the list\u2026", true);
	gtk_box_pack_start(GTK_BOX(box), buttons_new(v), FALSE, FALSE, 0);
	g_signal_connect(v->win, "destroy", G_CALLBACK(on_destroy), v);
	gtk_widget_show_all(v->win);
	request(v, "GET", NULL, NULL, NULL, NULL);
}
