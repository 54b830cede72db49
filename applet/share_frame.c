/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "PRODUCT – Screen shared": a thin frame in the brand's accent colour
 * around each monitor the technician sees, for as long as they see it
 * (docs/API.md section 8; docs/ARCHITECTURE.md, "The session bar,
 * the frame and the tray").
 *
 * Four override-redirect strips per monitor: the window manager neither
 * decorates, moves, minimises nor lists them, and they take no input at
 * all (an empty input shape), so clicks and the technician's injected
 * input pass through to what is under them.  They are in the capture
 * too: the technician sees the same frame at the edges of their view,
 * which tells them the same thing and hides no more than BORDER pixels
 * of the edge.
 */
#include <gtk/gtk.h>

#include "ll_log.h"
#include "ll_ui.h"
#include "applet.h"

/* Logical pixels: visible at a glance, hides next to nothing. */
#define BORDER 4

struct ll_share_frame {
	GPtrArray *strips; /* GtkWindow, owned */
	GdkRGBA color;
	const char *hex;
};

static gboolean on_draw(GtkWidget *w, cairo_t *cr, gpointer data)
{
	const struct ll_share_frame *f = data;

	gdk_cairo_set_source_rgba(cr, &f->color);
	cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
	cairo_paint(cr);
	return TRUE;
}

static void add_strip(struct ll_share_frame *f, GdkScreen *screen,
		      const GdkRectangle *r)
{
	GtkWidget *w = gtk_window_new(GTK_WINDOW_POPUP);
	cairo_region_t *none = cairo_region_create();
	char *title = ll_applet_title("Screen shared");

	gtk_window_set_screen(GTK_WINDOW(w), screen);
	gtk_window_set_title(GTK_WINDOW(w), title);
	g_free(title);
	gtk_window_set_accept_focus(GTK_WINDOW(w), FALSE);
	gtk_window_set_focus_on_map(GTK_WINDOW(w), FALSE);
	gtk_widget_set_app_paintable(w, TRUE);
	gtk_window_move(GTK_WINDOW(w), r->x, r->y);
	gtk_window_set_default_size(GTK_WINDOW(w), r->width, r->height);
	gtk_widget_set_size_request(w, r->width, r->height);
	/* Never takes a click, a key or the pointer: all go through. */
	gtk_widget_input_shape_combine_region(w, none);
	cairo_region_destroy(none);
	g_signal_connect(w, "draw", G_CALLBACK(on_draw), f);
	gtk_widget_show(w);
	g_ptr_array_add(f->strips, w);
}

/* The four edges of m (logical pixels), inside it. */
static void add_monitor(struct ll_share_frame *f, GdkScreen *screen,
			const GdkRectangle *m)
{
	int b = MIN(BORDER, MIN(m->width, m->height) / 2);
	GdkRectangle edges[] = {
		{ m->x, m->y, m->width, b },
		{ m->x, m->y + m->height - b, m->width, b },
		{ m->x, m->y + b, b, m->height - 2 * b },
		{ m->x + m->width - b, m->y + b, b, m->height - 2 * b },
	};
	size_t i;

	if (b <= 0)
		return;
	for (i = 0; i < G_N_ELEMENTS(edges); i++)
		if (edges[i].width > 0 && edges[i].height > 0)
			add_strip(f, screen, &edges[i]);
}

struct ll_share_frame *ll_share_frame_new(GdkDisplay *dpy,
					  const GdkRectangle *area)
{
	struct ll_share_frame *f = g_new0(struct ll_share_frame, 1);
	GdkScreen *screen = gdk_display_get_default_screen(dpy);
	GdkMonitor *mon0 = gdk_display_get_monitor(dpy, 0);
	int scale = mon0 != NULL ? gdk_monitor_get_scale_factor(mon0) : 1;
	GdkRectangle r;
	int i, n;

	f->strips = g_ptr_array_new_with_free_func(
		(GDestroyNotify)gtk_widget_destroy);
	f->hex = ll_ui_brand()->colors[LL_BRAND_ACCENT];
	if (!gdk_rgba_parse(&f->color, f->hex)) {
		f->hex = "#e8590c"; /* a clear orange */
		gdk_rgba_parse(&f->color, f->hex);
	}
	f->color.alpha = 1.0;
	if (area != NULL) {
		/* Device pixels in, GDK's logical pixels out. */
		r.x = area->x / scale;
		r.y = area->y / scale;
		r.width = area->width / scale;
		r.height = area->height / scale;
		add_monitor(f, screen, &r);
	} else {
		/* The whole desktop: each monitor its own frame, so that
		 * no edge lies off screen in an L-shaped layout. */
		n = gdk_display_get_n_monitors(dpy);
		for (i = 0; i < n; i++) {
			gdk_monitor_get_geometry(gdk_display_get_monitor(dpy,
									 i),
						 &r);
			add_monitor(f, screen, &r);
		}
	}
	ll_info("screen frame: shown around %s (%u strips, %s)",
		area != NULL ? "the shared monitor" : "every monitor",
		f->strips->len, f->hex);
	return f;
}

void ll_share_frame_raise(struct ll_share_frame *f)
{
	guint i;

	if (f == NULL)
		return;
	for (i = 0; i < f->strips->len; i++) {
		GdkWindow *gw = gtk_widget_get_window(
			g_ptr_array_index(f->strips, i));

		if (gw != NULL)
			gdk_window_raise(gw);
	}
}

void ll_share_frame_free(struct ll_share_frame *f)
{
	if (f == NULL)
		return;
	g_ptr_array_free(f->strips, TRUE);
	ll_info("screen frame: gone");
	g_free(f);
}
