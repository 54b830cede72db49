/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The brand compiled into this program (see ll_ui.h): resources, words,
 * CSS and icons.
 */
#include <string.h>

#include <gtk/gtk.h>

#include "ll-brand-resources.h"
#include "ll-ui-resources.h"
#include "ll_err.h"
#include "ll_ui.h"

#define BRAND_INI "/org/lifeline/brand/branding.ini"
#define BRAND_CSS "/org/lifeline/ui/brand.css"

/* The resources of the brand and of ui/, registered once: they live in
 * static libraries, where a self-registering resource would be dropped
 * by the linker (branding/meson.build). */
static void register_resources(void)
{
	static gsize once;

	if (g_once_init_enter(&once)) {
		ll_brand_data_register_resource();
		ll_ui_res_register_resource();
		g_once_init_leave(&once, 1);
	}
}

static struct ll_brand *load(void)
{
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	struct ll_brand *b = NULL;
	GError *e = NULL;
	GBytes *ini;
	gsize len;
	const char *data;
	guint i;

	register_resources();
	ini = g_resources_lookup_data(BRAND_INI, G_RESOURCE_LOOKUP_FLAGS_NONE,
				      &e);
	if (ini == NULL)
		g_error("the brand is missing from this build: %s",
			e->message);
	data = g_bytes_get_data(ini, &len);
	if (ll_brand_parse(data, len, "branding.ini", &b, errors) != LL_OK) {
		for (i = 0; i < errors->len; i++)
			g_printerr("%s\n",
				   (char *)g_ptr_array_index(errors, i));
		g_error("the brand built into this program does not parse");
	}
	g_ptr_array_free(errors, TRUE);
	g_bytes_unref(ini);
	return b;
}

const struct ll_brand *ll_ui_brand(void)
{
	static struct ll_brand *brand;

	if (g_once_init_enter(&brand))
		g_once_init_leave(&brand, load());
	return brand;
}

/* brand.css with the brand's colours defined before it. */
static void install_css(const struct ll_brand *b)
{
	static const char *const names[LL_BRAND_N_COLORS] = {
		[LL_BRAND_ACCENT] = "ll_accent",
		[LL_BRAND_ACCENT_TEXT] = "ll_accent_text",
		[LL_BRAND_HEADER_BG] = "ll_header_bg",
		[LL_BRAND_HEADER_TEXT] = "ll_header_text",
	};
	g_autoptr(GtkCssProvider) css = gtk_css_provider_new();
	g_autoptr(GBytes) sheet = NULL;
	g_autoptr(GError) e = NULL;
	GString *text = g_string_new(NULL);
	gsize len;
	const char *data;
	size_t i;

	for (i = 0; i < LL_BRAND_N_COLORS; i++)
		g_string_append_printf(text, "@define-color %s %s;\n",
				       names[i], b->colors[i]);
	sheet = g_resources_lookup_data(BRAND_CSS,
					G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
	if (sheet != NULL) {
		data = g_bytes_get_data(sheet, &len);
		g_string_append_len(text, data, (gssize)len);
	}
	if (!gtk_css_provider_load_from_data(css, text->str, -1, &e))
		g_warning("brand.css: %s", e->message);
	gtk_style_context_add_provider_for_screen(
		gdk_screen_get_default(), GTK_STYLE_PROVIDER(css),
		GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_string_free(text, TRUE);
}

/* Every window's icon, from the brand itself: it is there even when the
 * program runs from its build folder, with no icon theme installed. */
static void install_icons(void)
{
	GList *icons = NULL;
	GdkPixbuf *p;
	char *path;
	size_t i;

	for (i = 0; i < LL_BRAND_N_ICON_SIZES; i++) {
		path = g_strdup_printf("/org/lifeline/brand/icon-%u.png",
				       ll_brand_icon_sizes[i]);
		p = gdk_pixbuf_new_from_resource(path, NULL);
		if (p != NULL)
			icons = g_list_append(icons, p);
		g_free(path);
	}
	gtk_window_set_default_icon_list(icons);
	g_list_free_full(icons, g_object_unref);
}

void ll_ui_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	install_css(ll_ui_brand());
	install_icons();
}

void ll_ui_add_class(GtkWidget *w, const char *css_class)
{
	gtk_style_context_add_class(gtk_widget_get_style_context(w),
				    css_class);
}
