/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Policy values as `policy set` and PUT /api/v1/orgs/ORG/policy read them
 * (common/relay/core/policy.c): the first byte picks the key, the rest is
 * the value.  What parses must parse again to itself (the plain form is
 * a fixed point), and every origin kept must match itself exactly and
 * be in lowercase.  Then the same bytes as Forwarded and X-Forwarded-For
 * headers (ll_cidr_forwarded_client): what comes out is an address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ll_err.h"
#include "ll_cidr.h"
#include "ll_relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_origins(const char *canon)
{
	char *copy = strdup(canon), *save = NULL, *item;
	const char *p;

	if (copy == NULL)
		return;
	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		if (!ll_policy_origin_listed(canon, item))
			abort();
		for (p = item; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
		if (item[strlen(item) - 1] == '.')
			abort();
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ll_policy_key *k;
	char *text, *canon = NULL, *again = NULL, err[256], addr[64];
	uint8_t buf[16];
	int r;

	if (size < 1 || size > 8192 || (text = malloc(size)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	k = &ll_policy_keys[data[0] % ll_policy_key_count];
	r = ll_policy_parse(k, text, &canon, err, sizeof(err));
	if (r == LL_OK) {
		if (ll_policy_parse(k, canon, &again, err, sizeof(err)) !=
			    LL_OK ||
		    strcmp(canon, again) != 0)
			abort();
		if (k->type == LL_POLICY_ORIGINS)
			check_origins(canon);
	} else if (canon != NULL) {
		abort();
	}
	free(canon);
	free(again);

	if (ll_cidr_forwarded_client(data[0] & 1 ? text : NULL, text, addr,
				     sizeof(addr)) &&
	    inet_pton(AF_INET, addr, buf) != 1 &&
	    inet_pton(AF_INET6, addr, buf) != 1)
		abort();
	free(text);
	return 0;
}
