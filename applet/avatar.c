/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The technician's avatar in the consent dialog and the session bar: the
 * brand's photo when it has one (avatar.png, docs/API.md section 13),
 * else the initial of the name the relay verified (never what the
 * technician's side claims), in the brand's accent colour (ui/brand.css
 * .ll-avatar).
 */
#include <gtk/gtk.h>

#include "applet.h"

/* The brand's photo (branding/meson.build stages it when there). */
#define LL_APPLET_AVATAR_RESOURCE "/org/lifeline/brand/avatar.png"

void ll_applet_avatar_fill(GtkWidget *label, const char *name, const char *org)
{
	const char *from = name != NULL && name[0] != '\0' ? name : org;
	gunichar c = 0;
	char text[8];
	int n;

	/* Shown here or not at all, whatever show_all does later. */
	gtk_widget_set_no_show_all(label, TRUE);
	if (g_resources_get_info(LL_APPLET_AVATAR_RESOURCE, 0, NULL, NULL,
				 NULL)) {
		/* brand.css draws it (.ll-avatar.photo), clipped round */
		gtk_label_set_text(GTK_LABEL(label), "");
		gtk_style_context_add_class(gtk_widget_get_style_context(
						    label),
					    "photo");
		gtk_widget_show(label);
		return;
	}
	/* The first letter or digit: names are sanitised already
	 * (session.c make_shown), but may start with a quote or a
	 * bracket. */
	for (; from != NULL && *from != '\0'; from = g_utf8_next_char(from)) {
		c = g_utf8_get_char_validated(from, -1);
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			c = 0;
			break;
		}
		if (g_unichar_isalnum(c))
			break;
		c = 0;
	}
	/* Without a display name there is nobody to picture: no avatar,
	 * rather than a made-up one. */
	if (c == 0) {
		gtk_widget_hide(label);
		return;
	}
	n = g_unichar_to_utf8(g_unichar_toupper(c), text);
	text[n] = '\0';
	gtk_label_set_text(GTK_LABEL(label), text);
	gtk_widget_show(label);
}
