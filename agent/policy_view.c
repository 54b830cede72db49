/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "PRODUCT Agent – Policies": an admin reads and changes the org's
 * connection policies (docs/API.md section 2, "Policy keys") through
 * GET and PUT /api/v1/orgs/ORG/policy, in GTask threads.  One row per key
 * the relay sends, in its order: the key's name and its value as text.
 * Save sends the rows that changed, all or nothing (the relay refuses
 * the whole change when one value is wrong, and says which); an emptied
 * row goes back to its default.  The relay decides who may: only admins
 * see the button (main_window.c), and the API refuses everyone else.
 */
#include <string.h>

#include "gui.h"
#include "ll_api_client.h"
#include "ll_log.h"
#include "ll_text.h"
#include "ll_ui.h"
#include "ll_util.h"

struct policy_view {
	struct ll_gui *g;
	GtkWidget *win, *grid, *status, *save;
	json_t *shown;      /* the policy as the relay last sent it */
	GPtrArray *entries; /* GtkEntry per key, key name as "key" data */
	GCancellable *busy; /* a request in flight */
};

/* What a request needs in its thread. */
struct policy_job {
	char *org;
	json_t *changes; /* NULL: read */
	json_t *answer;
};

static void job_free(void *data)
{
	struct policy_job *j = data;

	g_free(j->org);
	json_decref(j->changes);
	json_decref(j->answer);
	g_free(j);
}

static int job_run(void *job, struct ll_api_client *c,
		   const struct ll_gui_conn *conn, struct ll_client_error *e)
{
	struct policy_job *j = job;

	return ll_api_org_policy(c, j->org, j->changes, &j->answer, e);
}

/* A value of the relay's answer as the row shows it. */
static char *value_text(json_t *v)
{
	if (json_is_string(v))
		return g_strdup(json_string_value(v));
	if (json_is_integer(v))
		return g_strdup_printf("%" JSON_INTEGER_FORMAT,
				       json_integer_value(v));
	if (json_is_boolean(v))
		return g_strdup(json_is_true(v) ? "true" : "false");
	return g_strdup("");
}

static void status(struct policy_view *p, const char *text)
{
	gtk_label_set_text(GTK_LABEL(p->status), text);
	ll_info("policies: %s", text);
}

static void destroy_child(GtkWidget *w, gpointer data)
{
	(void)data;
	gtk_widget_destroy(w);
}

/* The rows for the relay's answer, the focus in the first value. */
static void fill(struct policy_view *p, json_t *policy)
{
	const char *key;
	GtkWidget *label, *entry;
	json_t *v;
	char *text, *shown;
	int y = 0;

	gtk_container_foreach(GTK_CONTAINER(p->grid), destroy_child, NULL);
	g_ptr_array_set_size(p->entries, 0);
	json_decref(p->shown);
	p->shown = json_incref(policy);
	json_object_foreach(policy, key, v)
	{
		shown = ll_text_printable_new(key, strlen(key), 64);
		label = gtk_label_new(shown);
		free(shown);
		gtk_widget_set_halign(label, GTK_ALIGN_END);
		text = value_text(v);
		shown = ll_text_printable_new(text, strlen(text), 4096);
		entry = gtk_entry_new();
		gtk_entry_set_text(GTK_ENTRY(entry),
				   shown != NULL ? shown : "");
		gtk_entry_set_width_chars(GTK_ENTRY(entry), 40);
		gtk_widget_set_hexpand(entry, TRUE);
		g_object_set_data_full(G_OBJECT(entry), "key", g_strdup(key),
				       g_free);
		g_object_set_data_full(G_OBJECT(entry), "was", text, g_free);
		free(shown);
		gtk_label_set_mnemonic_widget(GTK_LABEL(label), entry);
		gtk_grid_attach(GTK_GRID(p->grid), label, 0, y, 1, 1);
		gtk_grid_attach(GTK_GRID(p->grid), entry, 1, y, 1, 1);
		g_ptr_array_add(p->entries, entry);
		y++;
	}
	gtk_widget_show_all(p->grid);
	if (p->entries->len > 0)
		gtk_widget_grab_focus(g_ptr_array_index(p->entries, 0));
}

/* The changed rows as a PUT's body ({KEY: "text"} or null for an
 * emptied row); NULL when nothing changed. */
static json_t *changes_of(struct policy_view *p)
{
	json_t *ch = json_object();
	const char *key, *was, *now;
	guint i;

	for (i = 0; i < p->entries->len; i++) {
		GObject *e = g_ptr_array_index(p->entries, i);

		key = g_object_get_data(e, "key");
		was = g_object_get_data(e, "was");
		now = gtk_entry_get_text(GTK_ENTRY(e));
		if (strcmp(was, now) == 0)
			continue;
		json_object_set_new(ch, key,
				    now[0] == '\0' ? json_null()
						   : json_string(now));
	}
	if (json_object_size(ch) == 0) {
		json_decref(ch);
		return NULL;
	}
	return ch;
}

static void job_done(void *job, const struct ll_client_error *e, void *user)
{
	struct policy_view *p = user;
	struct policy_job *j = job;
	char *text;

	g_clear_object(&p->busy);
	gtk_widget_set_sensitive(p->save, TRUE);
	if (e->code != 0) {
		text = g_strdup_printf("%s: %s",
				       j->changes != NULL
					       ? "Nothing was changed"
					       : "Cannot read the policies",
				       ll_gui_error_text(e));
		status(p, text);
		g_free(text);
		return;
	}
	fill(p, j->answer);
	if (j->changes == NULL) {
		status(p, "shown; change a value and press Save (an empty "
			  "value goes back to its default)");
		return;
	}
	text = g_strdup_printf("saved %zu change%s",
			       json_object_size(j->changes),
			       json_object_size(j->changes) == 1 ? "" : "s");
	status(p, text);
	g_free(text);
}

/* GET (changes NULL) or PUT, in a thread; one at a time. */
static void request(struct policy_view *p, json_t *changes)
{
	static const struct ll_gui_call how = { job_run, job_done, job_free };
	struct policy_job *j;

	if (p->busy != NULL) {
		json_decref(changes);
		return;
	}
	j = g_new0(struct policy_job, 1);
	j->org = g_strdup(p->g->tech_org);
	j->changes = changes;
	p->busy = g_cancellable_new();
	gtk_widget_set_sensitive(p->save, FALSE);
	ll_gui_call(&p->g->conn, NULL, p->busy, &how, j, p);
}

static void on_save(GtkButton *b, gpointer data)
{
	struct policy_view *p = data;
	json_t *ch = changes_of(p);

	(void)b;
	if (ch == NULL) {
		status(p, "nothing changed");
		return;
	}
	request(p, ch);
}

static void on_close(GtkButton *b, gpointer data)
{
	struct policy_view *p = data;

	(void)b;
	gtk_widget_destroy(p->win);
}

static void on_destroy(GtkWidget *w, gpointer data)
{
	struct policy_view *p = data;

	(void)w;
	if (p->busy != NULL) {
		/* its answer finds no window to fill */
		g_cancellable_cancel(p->busy);
		g_clear_object(&p->busy);
	}
	json_decref(p->shown);
	g_ptr_array_unref(p->entries);
	p->g->policies = NULL;
	g_free(p);
}

void ll_policy_window_open(struct ll_gui *g)
{
	struct policy_view *p;
	GtkWidget *box, *bar, *b, *sw;

	if (ll_admin_window_raise(g->policies))
		return;
	p = g_new0(struct policy_view, 1);
	p->g = g;
	p->entries = g_ptr_array_new();
	p->win = ll_admin_window_new(g, "Policies", 640, 480,
				     "Connection policies", &box);
	g->policies = p->win;
	p->grid = gtk_grid_new();
	gtk_grid_set_row_spacing(GTK_GRID(p->grid), 6);
	gtk_grid_set_column_spacing(GTK_GRID(p->grid), 12);
	sw = gtk_scrolled_window_new(NULL, NULL);
	gtk_container_add(GTK_CONTAINER(sw), p->grid);
	gtk_box_pack_start(GTK_BOX(box), sw, TRUE, TRUE, 0);
	p->status = ll_admin_status_new(box, "Reading the policies\u2026",
					true);
	bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	b = gtk_button_new_with_mnemonic("_Close");
	g_signal_connect(b, "clicked", G_CALLBACK(on_close), p);
	gtk_box_pack_end(GTK_BOX(bar), b, FALSE, FALSE, 0);
	p->save = gtk_button_new_with_mnemonic("_Save");
	ll_ui_add_class(p->save, "ll-accent");
	g_signal_connect(p->save, "clicked", G_CALLBACK(on_save), p);
	gtk_box_pack_end(GTK_BOX(bar), p->save, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), bar, FALSE, FALSE, 0);
	g_signal_connect(p->win, "destroy", G_CALLBACK(on_destroy), p);
	gtk_widget_show_all(p->win);
	request(p, NULL);
}
