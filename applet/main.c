/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-applet: for now the PIN entry window only (the session comes
 * with the screen-session issue).  Window names follow API.md.
 */
#include <gtk/gtk.h>

#include "ll_build.h"

static void on_activate(GtkApplication *app, gpointer user_data)
{
	GtkWidget *win = gtk_application_window_new(app);
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	GtkWidget *label = gtk_label_new("Enter the PIN your technician gave you");
	GtkWidget *entry = gtk_entry_new();

	gtk_window_set_title(GTK_WINDOW(win), LL_PRODUCT " \u2013 Enter PIN");
	gtk_container_set_border_width(GTK_CONTAINER(box), 16);
	gtk_entry_set_max_length(GTK_ENTRY(entry), 6);
	gtk_entry_set_input_purpose(GTK_ENTRY(entry), GTK_INPUT_PURPOSE_DIGITS);
	atk_object_set_name(gtk_widget_get_accessible(entry), "PIN");
	gtk_box_pack_start(GTK_BOX(box), label, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), entry, FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(win), box);
	gtk_widget_show_all(win);
	gtk_widget_grab_focus(entry);
}

int main(int argc, char **argv)
{
	GtkApplication *app;
	int status;

	g_set_prgname("lifeline-applet");
	app = gtk_application_new("org.lifeline.Applet",
				  G_APPLICATION_NON_UNIQUE);
	g_signal_connect(app, "activate", G_CALLBACK(on_activate), NULL);
	status = g_application_run(G_APPLICATION(app), argc, argv);
	g_object_unref(app);
	return status;
}
