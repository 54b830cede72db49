/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Address ranges of the relay's configuration (metrics_allow, later the
 * policy CIDRs): the list as text, then checks against a few addresses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_err.h"
#include "ll_cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const probes[] = {
		"127.0.0.1",      "::1",     "::ffff:10.1.2.3",
		"2001:db8::1",    "0.0.0.0", "255.255.255.255",
		"not an address",
	};
	struct ll_cidr_list *l = NULL;
	char err[160];
	char *text;
	size_t i;
	int r;

	if (size > 8192 || (text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	r = ll_cidr_list_parse(text, &l, err, sizeof(err));
	if (r == LL_OK) {
		if (l == NULL || ll_cidr_list_len(l) > LL_CIDR_LIST_MAX)
			abort();
		for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
			(void)ll_cidr_list_match(l, probes[i]);
		(void)ll_cidr_list_match(l, text);
	} else if (l != NULL || (r == LL_ERR_CONFIG && err[0] == '\0')) {
		abort();
	}
	ll_cidr_list_free(l);
	free(text);
	return 0;
}
