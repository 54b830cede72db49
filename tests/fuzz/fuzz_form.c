/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PIN page's form bodies (common/proto/form.c, ll_form.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_err.h"
#include "ll_text.h"
#include "ll_form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ll_form_field fields[] = {
		{ "pin", 10, true },
		{ "org", 128, false },
		{ "go", 0, false },
	};
	char *v[3] = { NULL, NULL, NULL };
	char why[160], tmp[LL_TEXT_PRINTABLE_SIZE(128)];
	size_t i, n;
	int r;

	why[0] = '\0';
	r = ll_form_parse(data, size, fields, 3, v, why, sizeof(why));
	if (r != LL_OK) {
		/* untouched on failure, and a reason given */
		if (v[0] != NULL || v[1] != NULL || v[2] != NULL ||
		    why[0] == '\0')
			abort();
		return 0;
	}
	if (v[0] == NULL)
		abort(); /* required */
	for (i = 0; i < 3; i++) {
		if (v[i] == NULL)
			continue;
		n = strlen(v[i]);
		if (n > fields[i].max_len)
			abort();
		/* what the parser accepts passes the display rule as is */
		if (ll_text_printable(tmp, sizeof(tmp), v[i], n) != n ||
		    memcmp(tmp, v[i], n) != 0)
			abort();
	}
	ll_form_values_free(v, 3);
	return 0;
}
