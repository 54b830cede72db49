/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-agent: for now the main window only (login, PINs and the
 * viewer come with the screen-session issue).  Window names follow API.md.
 */
#include <gtk/gtk.h>

#include "ll_build.h"

static void on_activate(GtkApplication *app, gpointer user_data)
{
	GtkWidget *win = gtk_application_window_new(app);
	GtkWidget *label = gtk_label_new("Not connected to a relay.");

	gtk_window_set_title(GTK_WINDOW(win), LL_PRODUCT " Agent");
	gtk_window_set_default_size(GTK_WINDOW(win), 640, 400);
	gtk_container_add(GTK_CONTAINER(win), label);
	gtk_widget_show_all(win);
}

int main(int argc, char **argv)
{
	GtkApplication *app;
	int status;

	g_set_prgname("lifeline-agent");
	app = gtk_application_new("org.lifeline.Agent",
				  G_APPLICATION_NON_UNIQUE);
	g_signal_connect(app, "activate", G_CALLBACK(on_activate), NULL);
	status = g_application_run(G_APPLICATION(app), argc, argv);
	g_object_unref(app);
	return status;
}
