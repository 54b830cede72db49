/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for a brand's parsers (common/brand): the first byte
 * picks branding.ini (with every text formatted, plain and as markup),
 * a PNG, or an SVG; the rest is the file.
 */
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "ll_brand.h"
#include "ll_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ini(const char *text, size_t len)
{
	struct ll_brand_vars v = { .technician = "a<b>",
				   .technician_org = "%ORG%" };
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	struct ll_brand *b = NULL;
	size_t t;

	if (ll_brand_parse(text, len, "fuzz.ini", &b, errors) == LL_OK) {
		for (t = 0; t < LL_BRAND_N_TEXTS; t++) {
			g_free(ll_brand_format(b, (enum ll_brand_text)t, &v,
					       false));
			g_free(ll_brand_format(b, (enum ll_brand_text)t, &v,
					       true));
		}
		(void)ll_brand_contrast(b->colors[LL_BRAND_ACCENT],
					b->colors[LL_BRAND_ACCENT_TEXT]);
		ll_brand_free(b);
	}
	g_ptr_array_free(errors, TRUE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GPtrArray *errors;
	char why[128];
	uint32_t w, h;
	double sw, sh;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		ini((const char *)data + 1, size - 1);
		break;
	case 1:
		(void)ll_brand_png_size(data + 1, size - 1, &w, &h, why,
					sizeof(why));
		break;
	default:
		errors = g_ptr_array_new_with_free_func(g_free);
		(void)ll_brand_svg_check((const char *)data + 1, size - 1,
					 "fuzz.svg", &sw, &sh, errors);
		g_ptr_array_free(errors, TRUE);
		break;
	}
	return 0;
}
