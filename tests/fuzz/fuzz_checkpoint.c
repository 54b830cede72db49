/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the audit checkpoint reader (ll_checkpoint_parse in
 * common/relay/core/checkpoint.c): `audit verify --checkpoint FILE` feeds it
 * lines an admin copied from syslog, the journal or another host.  A line
 * that parses must format back to a line that parses to the same
 * checkpoint; verifying it against a fixed key must not crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_checkpoint.h"
#include "ll_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pub[32] = { 1, 2, 3 };
	struct ll_checkpoint cp, again;
	char line[LL_CHECKPOINT_LINE_MAX];
	char *text;

	if (size > 4 * LL_CHECKPOINT_LINE_MAX)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ll_checkpoint_parse(text, &cp) == LL_OK) {
		(void)ll_checkpoint_verify(&cp, pub);
		if (ll_checkpoint_format(&cp, line, sizeof(line)) == LL_OK) {
			if (ll_checkpoint_parse(line, &again) != LL_OK ||
			    again.seq != cp.seq || again.time != cp.time ||
			    again.keyed_from != cp.keyed_from ||
			    memcmp(again.head, cp.head, sizeof(cp.head)) !=
				    0 ||
			    memcmp(again.sig, cp.sig, sizeof(cp.sig)) != 0 ||
			    strcmp(again.key_id, cp.key_id) != 0 ||
			    strcmp(again.sign_id, cp.sign_id) != 0)
				abort();
		}
	}
	free(text);
	return 0;
}
