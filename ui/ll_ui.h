/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GTK code the applet and the agent share: the brand at run time.
 *
 *   brand.c         the brand compiled into the program (the GResource
 *                   of branding/meson.build): its words, its colours as
 *                   CSS (brand.css), its icons as every window's icon
 *   brand_header.c  LlBrandHeader, the band with the logo and the
 *                   organisation's name atop the windows (brand_header.ui)
 *
 * The brand was checked when it was built in (common/brand), so loading
 * it cannot fail but for a broken build.
 */
#ifndef LL_UI_H
#define LL_UI_H

#include <gtk/gtk.h>

#include "ll_brand.h"

/*
 * The brand of this build; parsed once, on the first call (any thread).
 * Aborts with the validator's messages if the compiled-in brand does
 * not parse: that build is broken.
 */
const struct ll_brand *ll_ui_brand(void);

/*
 * Once GTK is up (in "startup" or "activate"): the brand's CSS for the
 * default screen and its icon for every window.  Idempotent.
 */
void ll_ui_init(void);

/* A CSS class of brand.css for a widget ("ll-accent", "ll-heading"). */
void ll_ui_add_class(GtkWidget *w, const char *css_class);

/* ---- brand_header.c ---- */

#define LL_TYPE_BRAND_HEADER (ll_brand_header_get_type())
G_DECLARE_FINAL_TYPE(LlBrandHeader, ll_brand_header, LL, BRAND_HEADER, GtkBox)

/* The band: logo, organisation name and the brand's tagline.  compact:
 * a smaller logo and the two names on one line (the session bar). */
GtkWidget *ll_brand_header_new(gboolean compact);
/* Replaces the tagline (the agent shows "PRODUCT Agent"). */
void ll_brand_header_set_tagline(LlBrandHeader *h, const char *text);

#endif
