/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The client's parser of the relay's answer head. */
#include <stdint.h>
#include <stdlib.h>

#include "ll_err.h"
#include "ll_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ll_http_limits lim;
	struct ll_http_response *r = NULL;
	int n;

	ll_http_limits_default(&lim);
	n = ll_http_response_head_parse(data, size, &lim, &r);
	if (n > 0) {
		if ((size_t)n > size || r == NULL)
			abort();
		(void)ll_http_response_is_upgrade(r);
		(void)ll_http_response_header(r, "Connection");
		ll_http_response_free(r);
	} else if (r != NULL) {
		abort();
	}
	return 0;
}
