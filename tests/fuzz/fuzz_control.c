/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Control JSON: parse, and what parses serialises and parses the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_buf.h"
#include "ll_control.h"
#include "ll_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ll_control_msg *m = NULL, *back = NULL;
	char err[LL_CONTROL_ERR_LEN];
	struct ll_buf *b;
	int r;

	r = ll_control_parse(data, size, &m, err, sizeof(err));
	if (r != 0) {
		if (m != NULL || err[0] == '\0' || strlen(err) >= sizeof(err))
			abort();
	} else {
		b = ll_buf_new(LL_CONTROL_MAX_MSG * 8);
		if (b == NULL)
			abort();
		/* Escaping may grow a message past the cap: that is refused. */
		r = ll_control_serialize(m, b);
		if (r == 0) {
			if (ll_control_parse(ll_buf_data(b), ll_buf_len(b),
					     &back, NULL, 0) != 0 ||
			    back->type != m->type)
				abort();
			ll_control_msg_free(back);
		} else if (r != LL_ERR_TOO_LARGE) {
			abort();
		}
		ll_buf_free(b);
		ll_control_msg_free(m);
	}
	m = NULL;
	r = ll_control_decode(data, size, &m, NULL, 0);
	if (r > 0) {
		if ((size_t)r > size)
			abort();
		ll_control_msg_free(m);
	} else if (m != NULL) {
		abort();
	}
	return 0;
}
