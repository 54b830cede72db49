/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * LlBrandHeader (ll_ui.h): logo, organisation name and tagline on the
 * brand's colours (brand.css).  The logo is drawn at the screen's scale,
 * so it stays sharp on a 2x screen.
 */
#include <gtk/gtk.h>

#include "ll_ui.h"

#define LOGO_PX 48
#define LOGO_COMPACT_PX 28
#define LOGO_RESOURCE "/org/lifeline/brand/logo.png"

struct _LlBrandHeader {
	GtkBox parent;
	GtkWidget *logo;
	GtkWidget *names;
	GtkWidget *org;
	GtkWidget *tagline;
	gboolean compact;
};

G_DEFINE_TYPE(LlBrandHeader, ll_brand_header, GTK_TYPE_BOX)

enum { PROP_0, PROP_COMPACT, N_PROPS };

static void draw_logo(LlBrandHeader *h)
{
	int scale = gtk_widget_get_scale_factor(GTK_WIDGET(h));
	int px = h->compact ? LOGO_COMPACT_PX : LOGO_PX;
	g_autoptr(GdkPixbuf) p = NULL;
	cairo_surface_t *s;

	p = gdk_pixbuf_new_from_resource_at_scale(LOGO_RESOURCE, -1,
						  px * scale, TRUE, NULL);
	if (p == NULL) {
		/* Not for a checked brand: a damaged image only loses the
		 * logo, never the window. */
		gtk_widget_hide(h->logo);
		return;
	}
	s = gdk_cairo_surface_create_from_pixbuf(p, scale, NULL);
	gtk_image_set_from_surface(GTK_IMAGE(h->logo), s);
	cairo_surface_destroy(s);
}

static void on_scale(GObject *obj, GParamSpec *ps, gpointer data)
{
	draw_logo(LL_BRAND_HEADER(obj));
}

static void set_compact(LlBrandHeader *h, gboolean compact)
{
	GtkStyleContext *sc = gtk_widget_get_style_context(GTK_WIDGET(h));

	h->compact = compact;
	/* One line: "Organisation · tagline". */
	gtk_orientable_set_orientation(GTK_ORIENTABLE(h->names),
				       compact ? GTK_ORIENTATION_HORIZONTAL
					       : GTK_ORIENTATION_VERTICAL);
	gtk_box_set_spacing(GTK_BOX(h->names), compact ? 8 : 2);
	if (compact)
		gtk_style_context_add_class(sc, "compact");
	else
		gtk_style_context_remove_class(sc, "compact");
	draw_logo(h);
}

static void set_property(GObject *obj, guint id, const GValue *v,
			 GParamSpec *ps)
{
	if (id == PROP_COMPACT)
		set_compact(LL_BRAND_HEADER(obj), g_value_get_boolean(v));
	else
		G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, ps);
}

static void get_property(GObject *obj, guint id, GValue *v, GParamSpec *ps)
{
	if (id == PROP_COMPACT)
		g_value_set_boolean(v, LL_BRAND_HEADER(obj)->compact);
	else
		G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, ps);
}

static void ll_brand_header_class_init(LlBrandHeaderClass *k)
{
	GObjectClass *ok = G_OBJECT_CLASS(k);
	GtkWidgetClass *wk = GTK_WIDGET_CLASS(k);

	ok->set_property = set_property;
	ok->get_property = get_property;
	g_object_class_install_property(
		ok, PROP_COMPACT,
		g_param_spec_boolean("compact", "Compact",
				     "Smaller logo, names on one line", FALSE,
				     G_PARAM_READWRITE |
					     G_PARAM_STATIC_STRINGS));
	/* ll_ui_brand() registers the resources the template is in. */
	(void)ll_ui_brand();
	gtk_widget_class_set_template_from_resource(
		wk, "/org/lifeline/ui/brand_header.ui");
	gtk_widget_class_bind_template_child(wk, LlBrandHeader, logo);
	gtk_widget_class_bind_template_child(wk, LlBrandHeader, names);
	gtk_widget_class_bind_template_child(wk, LlBrandHeader, org);
	gtk_widget_class_bind_template_child(wk, LlBrandHeader, tagline);
}

static void ll_brand_header_init(LlBrandHeader *h)
{
	const struct ll_brand *b = ll_ui_brand();
	char *name, *tagline;

	gtk_widget_init_template(GTK_WIDGET(h));
	gtk_label_set_text(GTK_LABEL(h->org), b->org);
	tagline = ll_brand_format(b, LL_BRAND_HEADER_TAGLINE, NULL, false);
	gtk_label_set_text(GTK_LABEL(h->tagline), tagline);
	g_free(tagline);
	name = g_strdup_printf("%s logo", b->org);
	atk_object_set_name(gtk_widget_get_accessible(h->logo), name);
	g_free(name);
	draw_logo(h);
	g_signal_connect(h, "notify::scale-factor", G_CALLBACK(on_scale),
			 NULL);
}

GtkWidget *ll_brand_header_new(gboolean compact)
{
	return g_object_new(LL_TYPE_BRAND_HEADER, "compact", compact, NULL);
}

void ll_brand_header_set_tagline(LlBrandHeader *h, const char *text)
{
	gtk_label_set_text(GTK_LABEL(h->tagline), text);
}
