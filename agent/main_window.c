/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The main window, "PRODUCT Agent" (docs/API.md section 8): the login
 * form until a login succeeds, then the technician's sessions (GET
 * /api/v1/sessions in a GTask thread) with New PIN, Refresh and Log out.
 * The list asks again every SESSIONS_REFRESH_S by itself, so that a
 * session's state (connected, ended by the user, ended by a relay
 * restart: issue 9 item 3) never stays stale on screen.
 */
#include <string.h>

#include "gui.h"
#include "ll_build.h"
#include "ll_err.h"
#include "ll_log.h"
#include "ll_text.h"
#include "ll_ui.h"
#include "ll_util.h"

#define SESSIONS_REFRESH_S 5

enum { COL_ID, COL_USER, COL_STATE, COL_CREATED, COL_EXPIRES, N_COLS };

struct list_job {
	struct ll_api_session_list list;
	bool quiet; /* the timer's: the status line keeps what it said */
};

static void list_job_free(void *data)
{
	struct list_job *j = data;

	ll_api_session_list_clear(&j->list);
	g_free(j);
}

static int list_run(void *job, struct ll_api_client *c,
		    const struct ll_gui_conn *conn, struct ll_client_error *e)
{
	struct list_job *j = job;

	return ll_api_sessions_list(c, &j->list, e);
}

static char *when(int64_t t)
{
	GDateTime *d;
	char *s;

	if (t <= 0)
		return g_strdup("");
	d = g_date_time_new_from_unix_local(t);
	s = g_date_time_format(d, "%H:%M:%S");
	g_date_time_unref(d);
	return s;
}

/* The rows now, id to state (both owned by the table). */
static GHashTable *rows_now(struct ll_gui *g)
{
	GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      g_free);
	GtkTreeModel *m = GTK_TREE_MODEL(g->sessions);
	GtkTreeIter it;
	char *id, *state;
	gboolean ok;

	for (ok = gtk_tree_model_get_iter_first(m, &it); ok;
	     ok = gtk_tree_model_iter_next(m, &it)) {
		gtk_tree_model_get(m, &it, COL_ID, &id, COL_STATE, &state, -1);
		g_hash_table_replace(h, id, state);
	}
	return h;
}

/* The selected row's session id (g_free), NULL for none. */
static char *selected_id(struct ll_gui *g)
{
	GtkTreeSelection *sel;
	GtkTreeModel *m;
	GtkTreeIter it;
	char *id = NULL;

	if (g->sessions_tree == NULL)
		return NULL;
	sel = gtk_tree_view_get_selection(GTK_TREE_VIEW(g->sessions_tree));
	if (gtk_tree_selection_get_selected(sel, &m, &it))
		gtk_tree_model_get(m, &it, COL_ID, &id, -1);
	return id;
}

/* "sessions: ID is STATE (REASON)", the relay's words made printable. */
static void log_change(const struct ll_api_session_info *s)
{
	char *line, *shown;

	line = g_strdup_printf("%s is %s%s%s%s", s->session_id, s->state,
			       s->end_reason ? " (" : "",
			       s->end_reason ? s->end_reason : "",
			       s->end_reason ? ")" : "");
	shown = ll_text_printable_new(line, strlen(line), 512);
	ll_info("sessions: %s", shown ? shown : "?");
	free(shown);
	g_free(line);
}

/* Replaces the rows by the list, keeping the selection; a new row or a
 * changed state is logged (the GUI tests wait for it). */
static void rows_set(struct ll_gui *g, const struct ll_api_session_list *l)
{
	GHashTable *was = rows_now(g);
	char *keep = selected_id(g), *c, *e;
	const char *old, *who;
	GtkTreeIter it;
	size_t i;

	gtk_list_store_clear(g->sessions);
	for (i = 0; i < l->n_sessions; i++) {
		const struct ll_api_session_info *s = &l->sessions[i];

		c = when(s->created_at);
		e = when(s->expires_at);
		who = g_hash_table_lookup(g->users, s->session_id);
		gtk_list_store_insert_with_values(g->sessions, &it, -1, COL_ID,
						  s->session_id, COL_USER,
						  who != NULL ? who : "",
						  COL_STATE, s->state,
						  COL_CREATED, c, COL_EXPIRES,
						  e, -1);
		g_free(c);
		g_free(e);
		old = g_hash_table_lookup(was, s->session_id);
		if (old == NULL || strcmp(old, s->state) != 0)
			log_change(s);
		if (keep != NULL && strcmp(keep, s->session_id) == 0)
			gtk_tree_selection_select_iter(
				gtk_tree_view_get_selection(
					GTK_TREE_VIEW(g->sessions_tree)),
				&it);
	}
	g_free(keep);
	g_hash_table_unref(was);
}

static void list_done(void *job, const struct ll_client_error *e, void *user)
{
	struct ll_gui *g = user;
	struct list_job *j = job;
	char *msg;

	g->sessions_busy = false;
	if (e->code != 0) {
		msg = g_strdup_printf("Could not list sessions: %s",
				      ll_gui_error_text(e));
		ll_main_window_status(g, msg);
		g_free(msg);
		if (e->code == LL_ERR_AUTH_FAILED)
			ll_gui_logged_out(g);
		return;
	}
	/* logged out while the request was on its way */
	if (g->conn.token == NULL)
		return;
	rows_set(g, &j->list);
	if (j->quiet)
		return;
	msg = g_strdup_printf("%zu session%s", j->list.n_sessions,
			      j->list.n_sessions == 1 ? "" : "s");
	ll_main_window_status(g, msg);
	g_free(msg);
}

static void refresh(struct ll_gui *g, bool quiet)
{
	static const struct ll_gui_call how = { list_run, list_done,
						list_job_free };
	struct list_job *j;

	if (g->conn.token == NULL || g->sessions_busy)
		return;
	g->sessions_busy = true;
	j = g_new0(struct list_job, 1);
	j->quiet = quiet;
	ll_gui_call(&g->conn, g->window, NULL, &how, j, g);
}

void ll_main_window_refresh(struct ll_gui *g)
{
	refresh(g, false);
}

static gboolean on_tick(gpointer data)
{
	refresh(data, true);
	return G_SOURCE_CONTINUE;
}

void ll_main_window_status(struct ll_gui *g, const char *text)
{
	gtk_label_set_text(GTK_LABEL(g->status), text);
}

void ll_main_window_show_sessions(struct ll_gui *g)
{
	char *who = g_strdup_printf("%s (%s) on %s",
				    g->tech_name != NULL ? g->tech_name : "?",
				    g->tech_org != NULL ? g->tech_org : "?",
				    g->conn.url);

	gtk_label_set_text(GTK_LABEL(g->who), who);
	g_free(who);
	gtk_widget_set_visible(g->policies_btn, g->admin);
	ll_info("policies: %s", g->admin ? "offered (an admin)"
					 : "not offered (not an admin)");
	gtk_widget_set_visible(g->technicians_btn, g->admin);
	gtk_widget_set_visible(g->live_btn, g->admin);
	ll_info("live: %s", g->admin ? "offered (an admin)"
				     : "not offered (not an admin)");
	ll_info("technicians: %s", g->admin ? "offered (an admin)"
					    : "not offered (not an admin)");
	gtk_widget_set_visible(g->groups_btn, g->admin);
	ll_info("groups: %s", g->admin ? "offered (an admin)"
				       : "not offered (not an admin)");
	gtk_stack_set_visible_child(GTK_STACK(g->stack), g->sessions_view);
	/* Not Log out, where the focus would land by itself. */
	gtk_widget_grab_focus(g->new_pin);
	ll_queue_view_start(g);
	if (g->sessions_timer == 0)
		g->sessions_timer = g_timeout_add_seconds(SESSIONS_REFRESH_S,
							  on_tick, g);
}

void ll_main_window_show_login(struct ll_gui *g)
{
	if (g->sessions_timer != 0)
		g_source_remove(g->sessions_timer);
	g->sessions_timer = 0;
	ll_queue_view_stop(g);
	gtk_list_store_clear(g->sessions);
	/* another login may be no admin */
	if (g->policies != NULL)
		gtk_widget_destroy(g->policies);
	if (g->technicians != NULL)
		gtk_widget_destroy(g->technicians);
	if (g->live != NULL)
		gtk_widget_destroy(g->live);
	if (g->groups != NULL)
		gtk_widget_destroy(g->groups);
	g->admin = false;
	gtk_stack_set_visible_child(GTK_STACK(g->stack), g->login_view);
	ll_login_view_focus(g);
	/* tests type into the form only once it is there */
	ll_info("login: the login form is shown");
}

static void on_new_pin(GtkWidget *w, gpointer data)
{
	(void)w;
	ll_pin_new_start(data);
}

static void on_mfa(GtkWidget *w, gpointer data)
{
	(void)w;
	ll_mfa_dialog_start(data);
}

static void on_refresh(GtkWidget *w, gpointer data)
{
	(void)w;
	ll_main_window_refresh(data);
	ll_queue_view_refresh(data);
}

static int logout_run(void *job, struct ll_api_client *c,
		      const struct ll_gui_conn *conn,
		      struct ll_client_error *e)
{
	return ll_api_logout(c, e);
}

static void on_logout(GtkWidget *w, gpointer data)
{
	static const struct ll_gui_call how = { logout_run, NULL, NULL };
	struct ll_gui *g = data;

	(void)w;
	ll_gui_call(&g->conn, NULL, NULL, &how, NULL, NULL);
	ll_gui_logged_out(g);
}

static void on_policies(GtkButton *b, gpointer data)
{
	(void)b;
	ll_policy_window_open(data);
}

static void on_technicians(GtkButton *b, gpointer data)
{
	(void)b;
	ll_technicians_window_open(data);
}

static void on_live(GtkButton *b, gpointer data)
{
	(void)b;
	ll_live_window_open(data);
}

static void on_groups(GtkButton *b, gpointer data)
{
	(void)b;
	ll_groups_window_open(data);
}

static GtkWidget *sessions_view(struct ll_gui *g)
{
	static const char *const titles[] = { "Session", "User", "State",
					      "Created", "Expires" };
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	GtkWidget *tree, *sw, *b;
	int i;

	gtk_container_set_border_width(GTK_CONTAINER(box), 12);
	g->who = gtk_label_new("");
	gtk_widget_set_halign(g->who, GTK_ALIGN_START);
	gtk_box_pack_start(GTK_BOX(bar), g->who, TRUE, TRUE, 0);
	b = gtk_button_new_with_mnemonic("_New PIN");
	/* The main action, in the brand's colour. */
	ll_ui_add_class(b, "ll-accent");
	g->new_pin = b;
	g_signal_connect(b, "clicked", G_CALLBACK(on_new_pin), g);
	gtk_box_pack_end(GTK_BOX(bar), b, FALSE, FALSE, 0);
	b = gtk_button_new_with_mnemonic("_Refresh");
	g_signal_connect(b, "clicked", G_CALLBACK(on_refresh), g);
	gtk_box_pack_end(GTK_BOX(bar), b, FALSE, FALSE, 0);
	b = gtk_button_new_with_mnemonic("Log _out");
	g_signal_connect(b, "clicked", G_CALLBACK(on_logout), g);
	gtk_box_pack_end(GTK_BOX(bar), b, FALSE, FALSE, 0);
	b = gtk_button_new_with_mnemonic("Polic_ies");
	g->policies_btn = b;
	g_signal_connect(b, "clicked", G_CALLBACK(on_policies), g);
	gtk_box_pack_end(GTK_BOX(bar), b, FALSE, FALSE, 0);
	/* shown after login, to admins (ll_main_window_show_sessions) */
	gtk_widget_set_no_show_all(b, TRUE);
	b = gtk_button_new_with_mnemonic("Li_ve");
	g->live_btn = b;
	g_signal_connect(b, "clicked", G_CALLBACK(on_live), g);
	gtk_box_pack_end(GTK_BOX(bar), b, FALSE, FALSE, 0);
	gtk_widget_set_no_show_all(b, TRUE);
	b = gtk_button_new_with_mnemonic("Tec_hnicians");
	g->technicians_btn = b;
	g_signal_connect(b, "clicked", G_CALLBACK(on_technicians), g);
	gtk_box_pack_end(GTK_BOX(bar), b, FALSE, FALSE, 0);
	gtk_widget_set_no_show_all(b, TRUE);
	b = gtk_button_new_with_mnemonic("_Groups");
	g->groups_btn = b;
	g_signal_connect(b, "clicked", G_CALLBACK(on_groups), g);
	gtk_box_pack_end(GTK_BOX(bar), b, FALSE, FALSE, 0);
	gtk_widget_set_no_show_all(b, TRUE);
	b = gtk_button_new_with_mnemonic("_Two-factor...");
	gtk_widget_set_tooltip_text(b, "Set up two-factor sign-in with an "
				       "authenticator app");
	g_signal_connect(b, "clicked", G_CALLBACK(on_mfa), g);
	gtk_box_pack_end(GTK_BOX(bar), b, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), bar, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), ll_queue_view_new(g), FALSE, FALSE,
			   0);

	g->sessions = gtk_list_store_new(N_COLS, G_TYPE_STRING, G_TYPE_STRING,
					 G_TYPE_STRING, G_TYPE_STRING,
					 G_TYPE_STRING);
	tree = gtk_tree_view_new_with_model(GTK_TREE_MODEL(g->sessions));
	g->sessions_tree = tree;
	g_object_unref(g->sessions);
	for (i = 0; i < N_COLS; i++)
		gtk_tree_view_append_column(
			GTK_TREE_VIEW(tree),
			gtk_tree_view_column_new_with_attributes(
				titles[i], gtk_cell_renderer_text_new(),
				"text", i, NULL));
	atk_object_set_name(gtk_widget_get_accessible(tree), "Sessions");
	sw = gtk_scrolled_window_new(NULL, NULL);
	gtk_container_add(GTK_CONTAINER(sw), tree);
	gtk_box_pack_start(GTK_BOX(box), sw, TRUE, TRUE, 0);
	return box;
}

/* The brand's About window: who made this build, and what it is. */
static void on_about(GtkWidget *w, gpointer data)
{
	const struct ll_brand *b = ll_ui_brand();
	struct ll_gui *g = data;
	GdkPixbuf *logo;
	char *name, *about, *comments;

	name = g_strdup_printf("%s Agent", b->product);
	about = ll_brand_format(b, LL_BRAND_AGENT_ABOUT, NULL, false);
	/* A branded build still says what it is made of (GPL). */
	comments = g_strdup_printf("%s\n\nMade with Lifeline %s.", about,
				   LL_VERSION);
	logo = gdk_pixbuf_new_from_resource_at_scale(
		"/org/lifeline/brand/logo.png", -1, 96, TRUE, NULL);
	gtk_show_about_dialog(g->window, "program-name", name, "version",
			      LL_VERSION, "comments", comments, "logo", logo,
			      "license-type", GTK_LICENSE_GPL_2_0, "website",
			      b->support_url, "website-label",
			      b->support_url != NULL ? "Help desk" : NULL,
			      NULL);
	g_clear_object(&logo);
	g_free(comments);
	g_free(about);
	g_free(name);
}

/* The status line, and About at the other end. */
static GtkWidget *status_row(struct ll_gui *g)
{
	GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	GtkWidget *about = gtk_button_new_with_mnemonic("A_bout");

	gtk_container_set_border_width(GTK_CONTAINER(row), 6);
	g->status = gtk_label_new("");
	gtk_widget_set_halign(g->status, GTK_ALIGN_START);
	gtk_widget_set_margin_start(g->status, 6);
	gtk_box_pack_start(GTK_BOX(row), g->status, TRUE, TRUE, 0);
	gtk_button_set_relief(GTK_BUTTON(about), GTK_RELIEF_NONE);
	g_signal_connect(about, "clicked", G_CALLBACK(on_about), g);
	gtk_box_pack_end(GTK_BOX(row), about, FALSE, FALSE, 0);
	return row;
}

/*
 * Closing this window while sessions run would leave their windows
 * without the list and the queue (and quit with the last one closed):
 * it is refused with a message saying how to end them.
 */
static gboolean on_delete(GtkWidget *w, GdkEvent *ev, gpointer data)
{
	struct ll_gui *g = data;
	GtkWidget *dlg;

	(void)ev;
	if (g->live_sessions == 0)
		return FALSE;
	ll_info("main window: not closed, %u sessions running",
		g->live_sessions);
	dlg = gtk_message_dialog_new(GTK_WINDOW(w),
				     GTK_DIALOG_MODAL |
					     GTK_DIALOG_DESTROY_WITH_PARENT,
				     GTK_MESSAGE_INFO, GTK_BUTTONS_CLOSE,
				     g->live_sessions == 1
					     ? "A session is still running"
					     : "%u sessions are still running",
				     g->live_sessions);
	gtk_message_dialog_format_secondary_text(
		GTK_MESSAGE_DIALOG(dlg),
		"This window stays open while a session runs, so that you "
		"can reach it. End the session in its window first (End "
		"session), then close this one.");
	gtk_window_set_title(GTK_WINDOW(dlg), "Sessions still running");
	g_signal_connect(dlg, "response", G_CALLBACK(gtk_widget_destroy),
			 NULL);
	gtk_widget_show(dlg);
	return TRUE;
}

GtkWindow *ll_main_window_new(struct ll_gui *g)
{
	const struct ll_brand *b = ll_ui_brand();
	GtkWidget *win = gtk_application_window_new(g->app);
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *header = ll_brand_header_new(FALSE);
	char *title = g_strdup_printf("%s Agent", b->product);

	/* "PRODUCT Agent" (docs/API.md section 8). */
	gtk_window_set_title(GTK_WINDOW(win), title);
	ll_brand_header_set_tagline(LL_BRAND_HEADER(header), title);
	g_free(title);
	gtk_window_set_default_size(GTK_WINDOW(win), 720, 480);
	gtk_box_pack_start(GTK_BOX(box), header, FALSE, FALSE, 0);
	g->stack = gtk_stack_new();
	g->login_view = ll_login_view_new(g);
	g->sessions_view = sessions_view(g);
	gtk_stack_add_named(GTK_STACK(g->stack), g->login_view, "login");
	gtk_stack_add_named(GTK_STACK(g->stack), g->sessions_view, "sessions");
	gtk_box_pack_start(GTK_BOX(box), g->stack, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(box), status_row(g), FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(win), box);
	g_signal_connect(win, "delete-event", G_CALLBACK(on_delete), g);
	gtk_widget_show_all(win);
	gtk_stack_set_visible_child(GTK_STACK(g->stack), g->login_view);
	ll_login_view_focus(g);
	return GTK_WINDOW(win);
}
