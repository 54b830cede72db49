/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The session's icon in the desktop's tray, where it has one: a
 * StatusNotifierItem through libayatana-appindicator3 (which itself
 * falls back to an XEmbed tray icon), with the session bar's Stop
 * control and End session in its menu.
 *
 * The library is loaded when the session starts, not linked: the applet
 * runs the same without it (the portable applet carries no tray
 * library, installers/portable/bundle.list), and where the library is
 * there but the desktop shows no tray, the icon is simply nowhere.  The
 * session bar stays the indicator that cannot disappear; the icon is a
 * second way to the same buttons.
 */
#include <dlfcn.h>

#include <gtk/gtk.h>

#include "ll_log.h"
#include "ll_ui.h"
#include "applet.h"

#define TRAY_LIB "libayatana-appindicator3.so.1"

/* The few calls we make (libayatana-appindicator/app-indicator.h). */
enum {
	APP_INDICATOR_CATEGORY_APPLICATION_STATUS = 0,
	APP_INDICATOR_STATUS_ACTIVE = 1,
};

struct tray_api {
	void *(*new_)(const char *id, const char *icon_name, int category);
	void (*set_status)(void *self, int status);
	void (*set_menu)(void *self, GtkMenu *menu);
	void (*set_title)(void *self, const char *title);
};

struct ll_tray {
	void *indicator; /* AppIndicator (a GObject) */
	GtkWidget *menu;
	GtkWidget *stop;
	void (*on_stop_control)(void *user);
	void (*on_end)(void *user);
	void (*on_show)(void *user);
	void *user;
};

/* The library, once per process; NULL when it is not installed. */
static const struct tray_api *tray_api(void)
{
	static struct tray_api api;
	static gsize once;
	static bool ok;
	void *h;

	if (g_once_init_enter(&once)) {
		/* Stays loaded: its GTypes cannot be unregistered. */
		h = dlopen(TRAY_LIB, RTLD_NOW | RTLD_LOCAL);
		if (h != NULL) {
			*(void **)&api.new_ = dlsym(h, "app_indicator_new");
			*(void **)&api.set_status = dlsym(
				h, "app_indicator_set_status");
			*(void **)&api.set_menu = dlsym(
				h, "app_indicator_set_menu");
			*(void **)&api.set_title = dlsym(
				h, "app_indicator_set_title");
			ok = api.new_ != NULL && api.set_status != NULL &&
			     api.set_menu != NULL && api.set_title != NULL;
		}
		if (!ok)
			ll_info("tray: no %s here, no tray icon", TRAY_LIB);
		g_once_init_leave(&once, 1);
	}
	return ok ? &api : NULL;
}

static void on_show_item(GtkMenuItem *mi, gpointer data)
{
	struct ll_tray *t = data;

	t->on_show(t->user);
}

static void on_stop_item(GtkMenuItem *mi, gpointer data)
{
	struct ll_tray *t = data;

	ll_info("tray: Stop control chosen");
	t->on_stop_control(t->user);
}

static void on_end_item(GtkMenuItem *mi, gpointer data)
{
	struct ll_tray *t = data;

	ll_info("tray: End session chosen");
	t->on_end(t->user);
}

static GtkWidget *add_item(struct ll_tray *t, const char *label, GCallback cb)
{
	GtkWidget *mi = gtk_menu_item_new_with_mnemonic(label);

	g_signal_connect(mi, "activate", cb, t);
	gtk_menu_shell_append(GTK_MENU_SHELL(t->menu), mi);
	return mi;
}

struct ll_tray *ll_tray_new(const char *title,
			    void (*on_stop_control)(void *user),
			    void (*on_end)(void *user),
			    void (*on_show)(void *user), void *user)
{
	const struct tray_api *api = tray_api();
	struct ll_tray *t;
	const char *icon = "lifeline-applet";

	if (api == NULL)
		return NULL;
	t = g_new0(struct ll_tray, 1);
	t->on_stop_control = on_stop_control;
	t->on_end = on_end;
	t->on_show = on_show;
	t->user = user;
	t->menu = g_object_ref_sink(gtk_menu_new());
	add_item(t, "_Show the session window", G_CALLBACK(on_show_item));
	gtk_menu_shell_append(GTK_MENU_SHELL(t->menu),
			      gtk_separator_menu_item_new());
	t->stop = add_item(t, "_Stop control", G_CALLBACK(on_stop_item));
	add_item(t, "_End session", G_CALLBACK(on_end_item));
	gtk_widget_show_all(t->menu);
	gtk_widget_set_sensitive(t->stop, FALSE);

	/* The installed icon; else a screen, which is what is shared. */
	if (!gtk_icon_theme_has_icon(gtk_icon_theme_get_default(), icon))
		icon = "video-display";
	t->indicator = api->new_("lifeline-applet", icon,
				 APP_INDICATOR_CATEGORY_APPLICATION_STATUS);
	if (t->indicator == NULL) {
		g_object_unref(t->menu);
		g_free(t);
		return NULL;
	}
	api->set_title(t->indicator, title);
	api->set_menu(t->indicator, GTK_MENU(t->menu));
	api->set_status(t->indicator, APP_INDICATOR_STATUS_ACTIVE);
	ll_info("tray: icon offered (shown where the desktop has a tray)");
	return t;
}

void ll_tray_set_control(struct ll_tray *t, bool control)
{
	if (t != NULL)
		gtk_widget_set_sensitive(t->stop, control);
}

void ll_tray_free(struct ll_tray *t)
{
	if (t == NULL)
		return;
	/* The last reference: the item leaves the bus and the tray. */
	g_object_unref(t->indicator);
	gtk_widget_destroy(t->menu);
	g_object_unref(t->menu);
	g_free(t);
}
