/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-brand-check: the brand validator as the build runs it
 * (branding/meson.build).  People use `lifeline-relay brand check DIR`,
 * the same check; this small program exists so that a build of the
 * clients alone need not build the relay first.
 *
 *   lifeline-brand-check [--staged] [--expect-product NAME]
 *                        [--expect-org NAME] [--stamp FILE] DIR
 *
 * --expect-*: what meson read from branding.ini at configure time (for the
 * desktop files and the tests); a difference means meson's reading and
 * ours disagree, and the build must not go on with either.
 * --stamp: written (empty) when the brand is fine, for the build's
 * ordering; with it the program says nothing when all is well.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "ll_brand.h"

static int expect(const char *what, const char *meson, const char *ours)
{
	if (meson == NULL || strcmp(meson, ours) == 0)
		return 0;
	fprintf(stderr,
		"lifeline-brand-check: meson read %s as \"%s\", but it is "
		"\"%s\": run meson setup --reconfigure\n",
		what, meson, ours);
	return 1;
}

int main(int argc, char **argv)
{
	gboolean staged = FALSE;
	char *product = NULL, *org = NULL, *stamp = NULL;
	char **dirs = NULL;
	GOptionEntry entries[] = {
		{ "staged", 0, 0, G_OPTION_ARG_NONE, &staged,
		  "Check a staged folder: every PNG present", NULL },
		{ "expect-product", 0, 0, G_OPTION_ARG_STRING, &product,
		  "The product name meson read", "NAME" },
		{ "expect-org", 0, 0, G_OPTION_ARG_STRING, &org,
		  "The organisation name meson read", "NAME" },
		{ "stamp", 0, 0, G_OPTION_ARG_FILENAME, &stamp,
		  "Write this file when the brand is fine", "FILE" },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &dirs,
		  NULL, "DIR" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GOptionContext *ctx = g_option_context_new("DIR");
	struct ll_brand *b = NULL;
	GError *e = NULL;
	int r = 2;

	g_option_context_set_summary(ctx,
				     "Check a brand folder (branding/NAME).");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &e)) {
		fprintf(stderr, "lifeline-brand-check: %s\n", e->message);
		g_clear_error(&e);
		goto out;
	}
	if (dirs == NULL || dirs[0] == NULL || dirs[1] != NULL) {
		fprintf(stderr, "lifeline-brand-check: give one folder\n");
		goto out;
	}
	r = 1;
	if (ll_brand_check_print(dirs[0],
				 staged ? LL_BRAND_CHECK_STAGED
					: LL_BRAND_CHECK_SOURCE,
				 &b, stamp != NULL ? NULL : stdout,
				 stderr) != 0)
		goto out;
	if (expect("product_name", product, b->product) != 0 ||
	    expect("organisation_name", org, b->org) != 0)
		goto out;
	if (stamp != NULL && !g_file_set_contents(stamp, "", 0, &e)) {
		fprintf(stderr, "lifeline-brand-check: %s\n", e->message);
		g_clear_error(&e);
		goto out;
	}
	r = 0;
out:
	ll_brand_free(b);
	g_option_context_free(ctx);
	g_strfreev(dirs);
	g_free(product);
	g_free(org);
	g_free(stamp);
	return r;
}
