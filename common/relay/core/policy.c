/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one table of per-org policy keys: name, type, range, default and a
 * line of description.  The admin command (`lifeline-relay policy`), the
 * API and the docs all go by it; the store keeps only what an org set.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_util.h"
#include "ll_relay.h"

#define NO_CFG ((ptrdiff_t)-1)

const struct ll_policy_key ll_policy_keys[] = {
	{ "pin_length", LL_POLICY_INT, 6, 10, 6, NO_CFG,
	  "digits of the org's new PINs (6..10)" },
	{ "redeem_fail_budget", LL_POLICY_INT, 1, 1000000000, 0,
	  offsetof(struct ll_relay_config, redeem_fail_budget_org),
	  "failed redeems naming the org per PIN lifetime before such "
	  "redeems are refused (default: redeem_fail_budget_org of "
	  "relay.conf)" },
};
const size_t ll_policy_key_count = LL_ARRAY_SIZE(ll_policy_keys);

const struct ll_policy_key *ll_policy_key_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < ll_policy_key_count; i++)
		if (strcmp(ll_policy_keys[i].name, name) == 0)
			return &ll_policy_keys[i];
	return NULL;
}

int ll_policy_parse_int(const struct ll_policy_key *k, const char *text,
			int64_t *out, char *errbuf, size_t errlen)
{
	const char *p;
	long long v;
	char *end;

	if (k == NULL || text == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	/* Plain decimal digits only: no sign, space, hex or exponent. */
	for (p = text; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			break;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (text[0] == '\0' || *p != '\0' || *end != '\0' || errno != 0 ||
	    v < k->min || v > k->max) {
		snprintf(errbuf, errlen,
			 "%s must be an integer from %lld to %lld", k->name,
			 (long long)k->min, (long long)k->max);
		return LL_ERR_INVALID_ARG;
	}
	*out = (int64_t)v;
	return LL_OK;
}

int64_t ll_policy_default_int(const struct ll_policy_key *k,
			      const struct ll_relay_config *cfg)
{
	if (k->def_cfg >= 0 && cfg != NULL)
		return *(const int64_t *)((const char *)cfg + k->def_cfg);
	return k->def;
}

int ll_policy_get_int(struct ll_store *st, const struct ll_relay_config *cfg,
		      int64_t org_id, const char *name, int64_t *out,
		      bool *set_out)
{
	const struct ll_policy_key *k = ll_policy_key_find(name);
	char *text = NULL, err[160];
	int64_t v;
	bool set = false;
	int r;

	if (k == NULL || k->type != LL_POLICY_INT || out == NULL)
		return LL_ERR_INVALID_ARG;
	v = ll_policy_default_int(k, cfg);
	r = ll_store_policy_get(st, org_id, name, &text);
	if (r == LL_OK) {
		if (ll_policy_parse_int(k, text, &v, err, sizeof(err)) ==
		    LL_OK) {
			set = true;
		} else {
			/* Not written by this relay's checks: the default. */
			ll_warn("org %lld: policy %s: %s; using the default",
				(long long)org_id, name, err);
			v = ll_policy_default_int(k, cfg);
		}
	} else if (r != LL_ERR_NOT_FOUND) {
		return r;
	}
	free(text);
	*out = v;
	if (set_out != NULL)
		*set_out = set;
	return LL_OK;
}
