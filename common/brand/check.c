/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A brand folder: the files it may hold (files[], the one list) and the
 * rules for each.  Every PNG must have its size; a PNG left out is
 * rendered from the SVG beside it at build time (branding/meson.build),
 * so that SVG must then be there and fit the rules.
 */
#include <stdarg.h>
#include <string.h>

#include "ll_brand.h"
#include "ll_err.h"

const unsigned ll_brand_icon_sizes[LL_BRAND_N_ICON_SIZES] = { 16, 32,  48,
							      64, 128, 256 };

/* Files bigger than this are not read (the programs carry them). */
#define MAX_FILE (1024 * 1024)

/* The logo is shown LOGO_SHOWN px high; a sharp one on a 2x screen
 * needs twice that.  Wider than LOGO_MAX_RATIO times its height would
 * crowd out the organisation's name. */
#define LOGO_SHOWN 48
#define LOGO_MAX_RATIO 4.0
/* The technician's photo (optional, avatar.png) is shown in a disc 44 px
 * wide: square, sharp on a 2x screen, not needlessly large. */
#define AVATAR_MIN 88
#define AVATAR_MAX 512

enum kind { K_INI, K_LOGO_SVG, K_LOGO_PNG, K_ICON_SVG, K_ICON_PNG };

struct check {
	const char *dir;
	enum ll_brand_check_mode mode;
	GPtrArray *errors;
	unsigned n;
	bool logo_svg, icon_svg;
};

static void problem(struct check *c, const char *file, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static void problem(struct check *c, const char *file, const char *fmt, ...)
{
	va_list ap;
	char *msg, *path;

	c->n++;
	if (c->errors == NULL)
		return;
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	path = g_build_filename(c->dir, file, NULL);
	g_ptr_array_add(c->errors, g_strdup_printf("%s: %s", path, msg));
	g_free(path);
	g_free(msg);
}

/* Reads a file of at most MAX_FILE bytes; NULL when it is absent
 * (*absent set) or cannot be read (a problem reported). */
static char *slurp(struct check *c, const char *file, size_t *len,
		   bool *absent)
{
	char *path = g_build_filename(c->dir, file, NULL);
	char *data = NULL;
	GError *e = NULL;
	gsize n = 0;

	*absent = false;
	if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
		*absent = true;
	} else if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
		problem(c, file, "is not a regular file");
	} else if (!g_file_get_contents(path, &data, &n, &e)) {
		problem(c, file, "cannot be read: %s", e->message);
		g_clear_error(&e);
	} else if (n > MAX_FILE) {
		problem(c, file, "is larger than 1 MiB");
		g_clear_pointer(&data, g_free);
	}
	g_free(path);
	*len = n;
	return data;
}

/* *present: the file is there (its problems are reported here), so a
 * missing PNG is not reported again. */
static void check_svg(struct check *c, const char *file, bool icon,
		      bool *present)
{
	char *path, *data;
	size_t len;
	bool absent;
	double w, h;

	if ((data = slurp(c, file, &len, &absent)) == NULL) {
		*present = !absent;
		return;
	}
	*present = true;
	path = g_build_filename(c->dir, file, NULL);
	if (ll_brand_svg_check(data, len, path, &w, &h, c->errors) != 0) {
		/* Counted by the SVG checker itself. */
		c->n++;
	} else if (icon && (w / h > 1.01 || h / w > 1.01)) {
		problem(c, file, "is %gx%g; an icon must be square", w, h);
	} else if (!icon && (w / h > LOGO_MAX_RATIO || h / w > 1.5)) {
		problem(c, file,
			"is %gx%g; a logo may be at most 4 times as wide as "
			"high, and not taller than 1.5 times its width",
			w, h);
	}
	g_free(path);
	g_free(data);
}

/* A PNG: its size must be exactly want x want, or (want 0) a logo's. */
static void check_png(struct check *c, const char *file, unsigned want,
		      bool svg_beside, const char *svg)
{
	char why[128];
	char *data;
	size_t len;
	bool absent;
	uint32_t w, h;

	if ((data = slurp(c, file, &len, &absent)) == NULL) {
		if (absent &&
		    (c->mode == LL_BRAND_CHECK_STAGED || !svg_beside))
			problem(c, file,
				"is missing (give it, or %s to render it "
				"from)",
				svg);
		return;
	}
	if (ll_brand_png_size((const uint8_t *)data, len, &w, &h, why,
			      sizeof(why)) != 0) {
		problem(c, file, "%s", why);
	} else if (want != 0 && (w != want || h != want)) {
		problem(c, file, "is %ux%u; it must be %ux%u", w, h, want,
			want);
	} else if (want == 0 &&
		   (h < LOGO_SHOWN || h > 1024 ||
		    (double)w / h > LOGO_MAX_RATIO || (double)h / w > 1.5)) {
		problem(c, file,
			"is %ux%u; a logo must be 48 to 1024 pixels high "
			"(96 or more looks sharp on every screen), at most 4 "
			"times as wide as high and not taller than 1.5 times "
			"its width",
			w, h);
	}
	g_free(data);
}

/* The files a brand may hold besides these: notes about it. */
static bool note_file(const char *name)
{
	return g_str_has_suffix(name, ".md") ||
	       g_str_has_suffix(name, ".txt") ||
	       g_str_has_prefix(name, "LICENSE") ||
	       g_str_has_prefix(name, "COPYING");
}

static bool known_file(const char *name)
{
	static const char *const fixed[] = { "branding.ini", "logo.svg",
					     "logo.png", "icon.svg",
					     "avatar.png" };
	char *png;
	size_t i;
	bool known = false;

	for (i = 0; i < G_N_ELEMENTS(fixed); i++)
		if (strcmp(name, fixed[i]) == 0)
			return true;
	for (i = 0; i < LL_BRAND_N_ICON_SIZES && !known; i++) {
		png = g_strdup_printf("icon-%u.png", ll_brand_icon_sizes[i]);
		known = strcmp(name, png) == 0;
		g_free(png);
	}
	return known || note_file(name);
}

static void check_unknown(struct check *c)
{
	GDir *d = g_dir_open(c->dir, 0, NULL);
	const char *name;

	if (d == NULL)
		return;
	while ((name = g_dir_read_name(d)) != NULL)
		if (!known_file(name))
			problem(c, name,
				"is not a file a brand holds (branding.ini, "
				"logo.svg, logo.png, icon.svg, "
				"icon-SIZE.png, avatar.png; notes as *.md "
				"or *.txt)");
	g_dir_close(d);
}

/* avatar.png, the technician's photo: optional; when there, square. */
static void check_avatar(struct check *c)
{
	char why[128];
	char *data;
	size_t len;
	bool absent;
	uint32_t w, h;

	if ((data = slurp(c, "avatar.png", &len, &absent)) == NULL)
		return;
	if (ll_brand_png_size((const uint8_t *)data, len, &w, &h, why,
			      sizeof(why)) != 0)
		problem(c, "avatar.png", "%s", why);
	else if (w != h || w < AVATAR_MIN || w > AVATAR_MAX)
		problem(c, "avatar.png",
			"is %ux%u; the technician's photo must be square, "
			"%u to %u pixels",
			w, h, AVATAR_MIN, AVATAR_MAX);
	g_free(data);
}

static void check_ini(struct check *c, struct ll_brand **out)
{
	char *data, *path;
	size_t len;
	bool absent;

	if ((data = slurp(c, "branding.ini", &len, &absent)) == NULL) {
		if (absent)
			problem(c, "branding.ini", "is missing");
		return;
	}
	path = g_build_filename(c->dir, "branding.ini", NULL);
	if (ll_brand_parse(data, len, path, out, c->errors) != LL_OK) {
		/* ll_brand_parse reported them; count one at least. */
		c->n++;
	}
	g_free(path);
	g_free(data);
}

unsigned ll_brand_check_dir(const char *dir, enum ll_brand_check_mode mode,
			    struct ll_brand **out, GPtrArray *errors)
{
	struct check c = { .dir = dir, .mode = mode, .errors = errors };
	struct ll_brand *b = NULL;
	char *png;
	size_t i;

	if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
		c.n++;
		if (errors != NULL)
			g_ptr_array_add(errors,
					g_strdup_printf("%s: is not a folder",
							dir));
		return c.n;
	}
	check_ini(&c, &b);
	if (mode == LL_BRAND_CHECK_SOURCE) {
		check_unknown(&c);
		check_svg(&c, "logo.svg", false, &c.logo_svg);
		check_svg(&c, "icon.svg", true, &c.icon_svg);
	}
	check_png(&c, "logo.png", 0, c.logo_svg, "logo.svg");
	check_avatar(&c);
	for (i = 0; i < LL_BRAND_N_ICON_SIZES; i++) {
		png = g_strdup_printf("icon-%u.png", ll_brand_icon_sizes[i]);
		check_png(&c, png, ll_brand_icon_sizes[i], c.icon_svg,
			  "icon.svg");
		g_free(png);
	}
	if (c.n == 0 && out != NULL)
		*out = b;
	else
		ll_brand_free(b);
	return c.n;
}

unsigned ll_brand_check_print(const char *dir, enum ll_brand_check_mode mode,
			      struct ll_brand **out, FILE *ok, FILE *err)
{
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	struct ll_brand *b = NULL;
	unsigned n;
	guint i;

	n = ll_brand_check_dir(dir, mode, &b, errors);
	for (i = 0; i < errors->len; i++)
		fprintf(err, "%s\n", (char *)g_ptr_array_index(errors, i));
	if (n == 0 && ok != NULL)
		fprintf(ok, "%s: brand \"%s\" of %s is fine\n", dir,
			b->product, b->org);
	g_ptr_array_free(errors, TRUE);
	if (out != NULL && n == 0)
		*out = b;
	else
		ll_brand_free(b);
	return n;
}
