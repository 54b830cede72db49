/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The frame the admin windows (policies, technicians, live sessions,
 * groups) share, so that they look and behave alike and a change to
 * that look is made once.
 */
#include "gui.h"
#include "ll_ui.h"

bool ll_admin_window_raise(GtkWidget *win)
{
	if (win == NULL)
		return false;
	gtk_window_present(GTK_WINDOW(win));
	return true;
}

GtkWidget *ll_admin_window_new(struct ll_gui *g, const char *what, int width,
			       int height, const char *heading,
			       GtkWidget **box)
{
	GtkWidget *win = gtk_application_window_new(g->app);
	char *title;

	title = g_strdup_printf("%s Agent \u2013 %s", ll_ui_brand()->product,
				what);
	gtk_window_set_title(GTK_WINDOW(win), title);
	g_free(title);
	gtk_window_set_transient_for(GTK_WINDOW(win), g->window);
	gtk_window_set_default_size(GTK_WINDOW(win), width, height);
	*box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	gtk_container_set_border_width(GTK_CONTAINER(*box), 12);
	title = g_strdup_printf("%s of %s", heading,
				g->tech_org != NULL ? g->tech_org : "?");
	gtk_box_pack_start(GTK_BOX(*box), gtk_label_new(title), FALSE, FALSE,
			   0);
	g_free(title);
	gtk_container_add(GTK_CONTAINER(win), *box);
	return win;
}

GtkWidget *ll_admin_status_new(GtkWidget *box, const char *text, bool wrap)
{
	GtkWidget *status = gtk_label_new(text);

	if (wrap)
		gtk_label_set_line_wrap(GTK_LABEL(status), TRUE);
	gtk_widget_set_halign(status, GTK_ALIGN_START);
	gtk_box_pack_start(GTK_BOX(box), status, FALSE, FALSE, 0);
	return status;
}

GtkWidget *ll_admin_list_new(const char *const *titles, int n,
			     const char *name, GtkListStore **store,
			     GtkWidget **tree)
{
	GtkWidget *sw = gtk_scrolled_window_new(NULL, NULL);
	GType *types = g_new(GType, n);
	int i;

	for (i = 0; i < n; i++)
		types[i] = G_TYPE_STRING;
	*store = gtk_list_store_newv(n, types);
	g_free(types);
	*tree = gtk_tree_view_new_with_model(GTK_TREE_MODEL(*store));
	for (i = 0; i < n; i++)
		gtk_tree_view_append_column(
			GTK_TREE_VIEW(*tree),
			gtk_tree_view_column_new_with_attributes(
				titles[i], gtk_cell_renderer_text_new(),
				"text", i, NULL));
	atk_object_set_name(gtk_widget_get_accessible(*tree), name);
	gtk_container_add(GTK_CONTAINER(sw), *tree);
	return sw;
}
