/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/brand: branding.ini's rules, the PNG and SVG checks, and every
 * broken brand under tests/unit/brands/ (each folder's expected.txt holds
 * the exact problems, paths relative to the folder; a folder without one
 * must pass).  The real brands under branding/ must pass too, and the
 * validator's two command lines (lifeline-relay brand check, the build's
 * lifeline-brand-check) must say the same.
 */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "ll_brand.h"
#include "ll_control.h"
#include "ll_err.h"

static const char minimal[] = "[brand]\n"
			      "product_name = Acme Help\n"
			      "organisation_name = Acme & Sons\n";

static struct ll_brand *parse_ok(const char *text)
{
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	struct ll_brand *b = NULL;
	guint i;

	for (i = 0; ll_brand_parse(text, strlen(text), "b.ini", &b, errors) !=
			    LL_OK &&
		    i < errors->len;
	     i++)
		g_test_message("%s", (char *)g_ptr_array_index(errors, i));
	g_assert_cmpuint(errors->len, ==, 0);
	g_assert_nonnull(b);
	g_ptr_array_free(errors, TRUE);
	return b;
}

/* The problems of text, one per line. */
static char *parse_fails(const char *text)
{
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	struct ll_brand *b = (struct ll_brand *)0x1;
	char *joined;

	g_assert_cmpint(ll_brand_parse(text, strlen(text), "b.ini", &b,
				       errors),
			==, LL_ERR_CONFIG);
	/* Untouched on failure. */
	g_assert_true(b == (struct ll_brand *)0x1);
	g_assert_cmpuint(errors->len, >, 0);
	g_ptr_array_add(errors, NULL);
	joined = g_strjoinv("\n", (char **)errors->pdata);
	g_ptr_array_free(errors, TRUE);
	return joined;
}

static void test_defaults(void)
{
	struct ll_brand *b = parse_ok(minimal);

	g_assert_cmpstr(b->product, ==, "Acme Help");
	g_assert_cmpstr(b->org, ==, "Acme & Sons");
	g_assert_null(b->support_url);
	g_assert_null(b->support_phone);
	g_assert_cmpstr(b->colors[LL_BRAND_ACCENT], ==, "#1b5fa8");
	g_assert_cmpstr(b->colors[LL_BRAND_HEADER_TEXT], ==, "#ffffff");
	g_assert_cmpstr(b->texts[LL_BRAND_HEADER_TAGLINE], ==,
			"Remote support");
	g_assert_cmpstr(ll_brand_cap_words(b, "view"), ==, "See your screen");
	g_assert_null(ll_brand_cap_words(b, "teleport"));
	g_assert_cmpstr(ll_brand_text_key(LL_BRAND_PIN_PROMPT), ==,
			"pin_prompt");
	g_assert_null(ll_brand_text_key(LL_BRAND_N_TEXTS));
	ll_brand_free(b);
	ll_brand_free(NULL);
}

static void test_values(void)
{
	struct ll_brand *b = parse_ok(
		"; a comment\n"
		"[brand]\n"
		"product_name = Ünïcode Help\n"
		"organisation_name = Acme\n"
		"support_url = https://help.acme.example/start?x=1\n"
		"support_phone = +44 (0)20 7946-0000 ext. 12\n"
		"[colors]\n"
		"accent = #0B6E4F\n"
		"header_bg = #FFFFFF\n"
		"header_text = #000000\n"
		"[texts]\n"
		"pin_note = Call %SUPPORT_PHONE%: 100%% free\n"
		"[capabilities]\n"
		"control = Use your mouse\n");

	g_assert_cmpstr(b->product, ==, "Ünïcode Help");
	/* Colours are kept in one spelling, for CSS. */
	g_assert_cmpstr(b->colors[LL_BRAND_ACCENT], ==, "#0b6e4f");
	g_assert_cmpstr(b->colors[LL_BRAND_HEADER_BG], ==, "#ffffff");
	g_assert_cmpstr(ll_brand_cap_words(b, "control"), ==,
			"Use your mouse");
	g_assert_cmpstr(ll_brand_cap_words(b, "view"), ==, "See your screen");
	ll_brand_free(b);
}

static void test_refusals(void)
{
	static const struct {
		const char *text;
		const char *problems;
	} cases[] = {
		{ "", "b.ini:1: [brand] has no product_name\n"
		      "b.ini:1: [brand] has no organisation_name" },
		{ "[brand]\nproduct_name = \norganisation_name = O\n",
		  "b.ini:2: product_name is empty" },
		{ "[brand]\nproduct_name = A\u202eB\norganisation_name = O\n",
		  "b.ini:2: product_name has a control or invisible "
		  "character" },
		{ "[brand]\nproduct_name = A\xc2\x85"
		  "B\norganisation_name = O\n",
		  "b.ini:2: product_name has a control or invisible "
		  "character" },
		{ "[brand]\nproduct_name = A\u00a0\norganisation_name = O\n",
		  "b.ini:2: product_name starts or ends with a blank" },
		{ "[brand]\nproduct_name = "
		  "A product name that is far too long to fit\n"
		  "organisation_name = O\n",
		  "b.ini:2: product_name is too long (at most 40 "
		  "characters)" },
		{ "[brand]\nproduct_name = P\norganisation_name = O\n"
		  "[colors]\naccent = blue\nheader_bg = #12345\n",
		  "b.ini:5: accent must be a colour written #rrggbb\n"
		  "b.ini:6: header_bg must be a colour written #rrggbb" },
		{ "[brand]\nproduct_name = P\norganisation_name = O\n"
		  "[brand]\n",
		  "b.ini:4: duplicate group [brand] (first at line 1)" },
		{ "[brand]\nproduct_name = P\norganisation_name = O\n"
		  "[texts]\nconsent_intro = %TECHNICIAN_ORG% asks %PRODUCT%\n",
		  "b.ini:5: consent_intro must use each of %TECHNICIAN%, "
		  "%TECHNICIAN_ORG%: the user has to see who really asks" },
		{ "[brand]\nproduct_name = P\norganisation_name = O\n"
		  "[texts]\npin_heading = %SUPPORT_URL%\n",
		  "b.ini:5: pin_heading uses %SUPPORT_URL% but [brand] has no "
		  "support_url" },
		{ "[brand]\nproduct_name = P\norganisation_name = O\n"
		  "[capabilities]\nview = 100% your screen\nchat = \n",
		  "b.ini:5: view may not contain '%'\n"
		  "b.ini:6: chat is empty" },
		/* Translations are for later: refused, not ignored. */
		{ "[brand]\nproduct_name = P\norganisation_name = O\n"
		  "[texts]\npin_heading[de] = Hilfe\n",
		  "b.ini:5: key has a character outside [A-Za-z0-9_.-]" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *got = parse_fails(cases[i].text);

		g_test_message("case %zu", i);
		g_assert_cmpstr(got, ==, cases[i].problems);
		g_free(got);
	}
}

static void test_format(void)
{
	struct ll_brand *b = parse_ok(
		"[brand]\nproduct_name = P&Q\norganisation_name = <Org>\n"
		"support_phone = 0800 1\n"
		"[texts]\n"
		"consent_intro = %TECHNICIAN% (%TECHNICIAN_ORG%) of %ORG% "
		"asks, 100%%:\n"
		"pin_note = Call %SUPPORT_PHONE% about %PRODUCT%\n");
	struct ll_brand_vars v = { .technician = "<b>eve</b>",
				   .technician_org = "acme" };
	char *s;

	s = ll_brand_format(b, LL_BRAND_CONSENT_INTRO, &v, false);
	g_assert_cmpstr(s, ==, "<b>eve</b> (acme) of <Org> asks, 100%:");
	g_free(s);
	/* Markup: everything escaped, the verified names in bold. */
	s = ll_brand_format(b, LL_BRAND_CONSENT_INTRO, &v, true);
	g_assert_cmpstr(s, ==,
			"<b>&lt;b&gt;eve&lt;/b&gt;</b> (<b>acme</b>) of "
			"&lt;Org&gt; asks, 100%:");
	g_free(s);
	s = ll_brand_format(b, LL_BRAND_CONSENT_INTRO, NULL, false);
	g_assert_cmpstr(s, ==, "(unknown) ((unknown)) of <Org> asks, 100%:");
	g_free(s);
	/* A phone number keeps together: no-break spaces. */
	s = ll_brand_format(b, LL_BRAND_PIN_NOTE, NULL, true);
	g_assert_cmpstr(s, ==, "Call 0800\u00a01 about P&amp;Q");
	g_free(s);
	s = ll_brand_format(b, LL_BRAND_N_TEXTS, NULL, false);
	g_assert_cmpstr(s, ==, "");
	g_free(s);
	ll_brand_free(b);
}

static void test_contrast(void)
{
	g_assert_cmpfloat_with_epsilon(ll_brand_contrast("#000000", "#ffffff"),
				       21.0, 0.001);
	g_assert_cmpfloat_with_epsilon(ll_brand_contrast("#FFFFFF", "#000000"),
				       21.0, 0.001);
	g_assert_cmpfloat_with_epsilon(ll_brand_contrast("#777777", "#777777"),
				       1.0, 0.001);
	/* The threshold's neighbourhood: #767676 on white passes AA. */
	g_assert_cmpfloat(ll_brand_contrast("#767676", "#ffffff"), >=, 4.5);
	g_assert_cmpfloat(ll_brand_contrast("#777777", "#ffffff"), <, 4.5);
	g_assert_cmpfloat(ll_brand_contrast("#fff", "#000000"), ==, 0);
	g_assert_cmpfloat(ll_brand_contrast(NULL, "#000000"), ==, 0);
}

/* Every capability of the protocol has words in every brand. */
static void test_caps_match_protocol(void)
{
	struct ll_brand *b = parse_ok(minimal);
	uint32_t bit;
	size_t i;
	bool known;

	for (bit = 1; bit <= LL_CAP_ALL; bit <<= 1) {
		g_assert_nonnull(ll_cap_name(bit));
		g_assert_nonnull(ll_brand_cap_words(b, ll_cap_name(bit)));
	}
	/* ... and every brand key is a protocol name or clipboard. */
	for (i = 0; i < LL_BRAND_N_CAPS; i++) {
		known = ll_cap_from_name(ll_brand_cap_key(i)) != 0 ||
			strcmp(ll_brand_cap_key(i), "clipboard") == 0;
		g_assert_true(known);
	}
	g_assert_null(ll_brand_cap_key(LL_BRAND_N_CAPS));
	ll_brand_free(b);
}

/* ---- images ---- */

static char *fixture(const char *dir, const char *file, size_t *len)
{
	char *path = g_test_build_filename(G_TEST_DIST, "brands", dir, file,
					   NULL);
	char *data = NULL;
	gsize n = 0;

	g_assert_true(g_file_get_contents(path, &data, &n, NULL));
	g_free(path);
	*len = n;
	return data;
}

static void expect_png(const uint8_t *d, size_t len, const char *why)
{
	char buf[128] = "";
	uint32_t w = 7, h = 7;

	g_assert_cmpint(ll_brand_png_size(d, len, &w, &h, buf, sizeof(buf)),
			==, LL_ERR_MALFORMED);
	g_assert_cmpstr(buf, ==, why);
	g_assert_cmpuint(w, ==, 7);
}

static void test_png(void)
{
	size_t len, end;
	uint8_t *d = (uint8_t *)fixture("good-png", "icon-48.png", &len);
	uint8_t *copy;
	uint32_t w = 0, h = 0;

	g_assert_cmpint(ll_brand_png_size(d, len, &w, &h, NULL, 0), ==, LL_OK);
	g_assert_cmpuint(w, ==, 48);
	g_assert_cmpuint(h, ==, 48);

	expect_png(d, 4, "is not a PNG image");
	expect_png((const uint8_t *)"GIF89a..........", 16,
		   "is not a PNG image");
	expect_png(d, len - 1,
		   "is cut short (a PNG chunk runs past the end of the file)");
	expect_png(d, 8,
		   "is cut short (a PNG chunk runs past the end of the file)");
	copy = g_memdup2(d, len);
	copy[20] ^= 1; /* the width, under IHDR's CRC */
	expect_png(copy, len, "is damaged (a PNG chunk's checksum is wrong)");
	g_free(copy);
	copy = g_malloc(len + 1);
	memcpy(copy, d, len);
	copy[len] = 0;
	expect_png(copy, len + 1, "has bytes after its end (IEND)");
	g_free(copy);
	/* IHDR then IEND: no image data. */
	end = 8 + 25;
	copy = g_malloc(end + 12);
	memcpy(copy, d, end);
	memcpy(copy + end, d + len - 12, 12);
	expect_png(copy, end + 12, "has no image data (no IDAT)");
	g_free(copy);
	g_free(d);
}

static char *svg_fails(const char *svg)
{
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	char *joined;

	g_assert_cmpuint(ll_brand_svg_check(svg, strlen(svg), "x.svg", NULL,
					    NULL, errors),
			 >, 0);
	g_ptr_array_add(errors, NULL);
	joined = g_strjoinv("\n", (char **)errors->pdata);
	g_ptr_array_free(errors, TRUE);
	return joined;
}

static void test_svg(void)
{
	static const struct {
		const char *svg;
		const char *problems;
	} cases[] = {
		{ "<svg viewBox='0 0 10 10'><rect></svg>",
		  "x.svg:1: is not well-formed XML: Error on line 1 char 37: "
		  "Element “svg” was closed, but the currently open element "
		  "is “rect”" },
		{ "<html/>", "x.svg:1: the outermost element is <html>, not "
			     "<svg>" },
		{ "<svg width='100%' height='10'/>",
		  "x.svg:1: <svg> has no size: give it a viewBox (or a width "
		  "and height in px)" },
		{ "<svg viewBox='0 0 0 10'/>",
		  "x.svg:1: viewBox must be four numbers with a positive "
		  "width and height\n"
		  "x.svg:1: <svg> has no size: give it a viewBox (or a width "
		  "and height in px)" },
		{ "<!DOCTYPE svg [<!ENTITY a 'b'>]>\n<svg viewBox='0 0 1 1'/>",
		  "x.svg:1: entity declarations are not allowed" },
		{ "<svg viewBox='0 0 1 1'>\n<style>@import 'x.css';"
		  "rect{fill:url( \"http://x/#a\")}</style></svg>",
		  "x.svg:2: a style may only use url(#id)\n"
		  "x.svg:2: a style may not @import anything" },
		{ "<svg viewBox='0 0 1 1'><foreignObject/></svg>",
		  "x.svg:1: <foreignObject> is not allowed in a brand's "
		  "image" },
		{ "\xff<svg/>", "x.svg:1: is not UTF-8 text" },
		{ "", "x.svg:1: is not well-formed XML: Error on line 1 char "
		      "1: Document was empty or contained only whitespace" },
		{ "<!-- only a comment -->", "x.svg:1: has no <svg> element" },
	};
	static const char good[] =
		"<?xml version='1.0'?>\n<!-- c -->\n"
		"<svg xmlns='http://www.w3.org/2000/svg' "
		"xmlns:xlink='http://www.w3.org/1999/xlink' width='64px' "
		"height='32'><defs><linearGradient id='g'/></defs>"
		"<rect fill='url(#g)'/><use xlink:href='#g'/>"
		"<image href='data:image/png;base64,AAAA'/></svg>";
	double w = 0, h = 0;
	size_t i;

	g_assert_cmpuint(ll_brand_svg_check(good, strlen(good), "g.svg", &w,
					    &h, NULL),
			 ==, 0);
	g_assert_cmpfloat(w, ==, 64);
	g_assert_cmpfloat(h, ==, 32);
	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *got = svg_fails(cases[i].svg);

		g_test_message("case %zu", i);
		g_assert_cmpstr(got, ==, cases[i].problems);
		g_free(got);
	}
}

/* ---- brand folders ---- */

/* The problems of a folder, each without the folder's path. */
static char *dir_problems(const char *dir)
{
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	GString *s = g_string_new(NULL);
	size_t plen = strlen(dir) + 1;
	guint i;

	ll_brand_check_dir(dir, LL_BRAND_CHECK_SOURCE, NULL, errors);
	for (i = 0; i < errors->len; i++) {
		const char *e = g_ptr_array_index(errors, i);

		g_assert_true(g_str_has_prefix(e, dir));
		g_string_append_printf(s, "%s\n", e + plen);
	}
	g_ptr_array_free(errors, TRUE);
	return g_string_free(s, FALSE);
}

static void test_fixtures(void)
{
	char *root = g_test_build_filename(G_TEST_DIST, "brands", NULL);
	GDir *d = g_dir_open(root, 0, NULL);
	const char *name;
	unsigned n = 0;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d)) != NULL) {
		char *dir = g_build_filename(root, name, NULL);
		char *exp_path = g_build_filename(dir, "expected.txt", NULL);
		char *expected = NULL, *got;

		if (!g_file_get_contents(exp_path, &expected, NULL, NULL))
			expected = g_strdup("");
		got = dir_problems(dir);
		g_test_message("brands/%s", name);
		g_assert_cmpstr(got, ==, expected);
		g_free(got);
		g_free(expected);
		g_free(exp_path);
		g_free(dir);
		n++;
	}
	g_dir_close(d);
	g_free(root);
	/* A fixture folder that went missing must not go unnoticed. */
	g_assert_cmpuint(n, >=, 8);
}

/* The brands the tree ships: Lifeline's own and the example CI builds. */
static void test_real_brands(void)
{
	static const char *const names[] = { "default", "example-corp" };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(names); i++) {
		char *dir = g_test_build_filename(G_TEST_DIST, "..", "..",
						  "branding", names[i], NULL);
		char *got = dir_problems(dir);
		struct ll_brand *b = NULL;

		g_assert_cmpstr(got, ==, "");
		g_assert_cmpuint(ll_brand_check_dir(dir, LL_BRAND_CHECK_SOURCE,
						    &b, NULL),
				 ==, 0);
		g_assert_nonnull(b);
		ll_brand_free(b);
		g_free(got);
		g_free(dir);
	}
}

/* A staged folder must hold every PNG: the SVG no longer counts. */
static void test_staged(void)
{
	char *good = g_test_build_filename(G_TEST_DIST, "brands", "good-png",
					   NULL);
	char *svg_only = g_test_build_filename(G_TEST_DIST, "..", "..",
					       "branding", "example-corp",
					       NULL);
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);

	g_assert_cmpuint(ll_brand_check_dir(good, LL_BRAND_CHECK_STAGED, NULL,
					    NULL),
			 ==, 0);
	g_assert_cmpuint(ll_brand_check_dir(svg_only, LL_BRAND_CHECK_STAGED,
					    NULL, errors),
			 ==, 7);
	g_assert_true(g_str_has_suffix(g_ptr_array_index(errors, 0),
				       "logo.png: is missing (give it, or "
				       "logo.svg to render it from)"));
	g_assert_cmpuint(ll_brand_check_dir("/nonexistent/brand",
					    LL_BRAND_CHECK_SOURCE, NULL, NULL),
			 ==, 1);
	g_ptr_array_free(errors, TRUE);
	g_free(good);
	g_free(svg_only);
}

/* ---- the command lines ---- */

static int run(const char *const *argv, char **out, char **err)
{
	GError *e = NULL;
	int status = -1;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, 0, NULL, NULL,
				   out, err, &status, &e));
	g_assert_no_error(e);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_cli(void)
{
	const char *relay = g_getenv("LL_RELAY_BIN");
	const char *tool = g_getenv("LL_BRAND_CHECK_BIN");
	char *bad = g_test_build_filename(G_TEST_DIST, "brands",
					  "bad-contrast", NULL);
	char *good = g_test_build_filename(G_TEST_DIST, "brands", "good-png",
					   NULL);
	char *stamp = g_build_filename(g_get_tmp_dir(), "ll-brand-stamp",
				       NULL);
	char *out = NULL, *err = NULL, *line;

	if (relay == NULL || tool == NULL) {
		g_test_skip("LL_RELAY_BIN or LL_BRAND_CHECK_BIN not set");
		goto out;
	}
	/* A bad brand: exit 1, FILE:LINE: on stderr. */
	g_assert_cmpint(run((const char *const[]){ relay, "brand", "check",
						   bad, NULL },
			    &out, &err),
			==, 1);
	line = g_strdup_printf("%s/branding.ini:8: header_text", bad);
	g_assert_true(g_str_has_prefix(err, line));
	g_free(line);
	g_assert_cmpstr(out, ==, "");
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	/* The build's tool says the same. */
	g_assert_cmpint(run((const char *const[]){ tool, bad, NULL }, &out,
			    &err),
			==, 1);
	g_assert_true(strstr(err, "branding.ini:9: accent_text") != NULL);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	/* A good one: exit 0 and one line. */
	g_assert_cmpint(run((const char *const[]){ relay, "brand", "check",
						   good, NULL },
			    &out, &err),
			==, 0);
	line = g_strdup_printf("%s: brand \"Tiny Help\" of Tiny Ltd is fine\n",
			       good);
	g_assert_cmpstr(out, ==, line);
	g_free(line);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run((const char *const[]){ relay, "brand", "verify",
						   NULL },
			    &out, &err),
			==, 2);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	/* What meson read must be what the brand says; the stamp only
	 * when all is well. */
	g_unlink(stamp);
	g_assert_cmpint(run((const char *const[]){ tool, "--expect-product",
						   "Tiny", "--stamp", stamp,
						   good, NULL },
			    &out, &err),
			==, 1);
	g_assert_true(strstr(err, "meson read product_name as \"Tiny\"") !=
		      NULL);
	g_assert_false(g_file_test(stamp, G_FILE_TEST_EXISTS));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run((const char *const[]){ tool, "--expect-product",
						   "Tiny Help", "--expect-org",
						   "Tiny Ltd", "--stamp",
						   stamp, good, NULL },
			    &out, &err),
			==, 0);
	g_assert_cmpstr(out, ==, "");
	g_assert_true(g_file_test(stamp, G_FILE_TEST_EXISTS));
	g_unlink(stamp);
out:
	g_free(out);
	g_free(err);
	g_free(stamp);
	g_free(bad);
	g_free(good);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/brand/defaults", test_defaults);
	g_test_add_func("/brand/values", test_values);
	g_test_add_func("/brand/refusals", test_refusals);
	g_test_add_func("/brand/format", test_format);
	g_test_add_func("/brand/contrast", test_contrast);
	g_test_add_func("/brand/caps-match-protocol",
			test_caps_match_protocol);
	g_test_add_func("/brand/png", test_png);
	g_test_add_func("/brand/svg", test_svg);
	g_test_add_func("/brand/fixtures", test_fixtures);
	g_test_add_func("/brand/real-brands", test_real_brands);
	g_test_add_func("/brand/staged", test_staged);
	g_test_add_func("/brand/cli", test_cli);
	return g_test_run();
}
