/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PINs and the hashes under which tokens, tickets and PINs are stored. */
#include <stdio.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_util.h"

#define LL_PIN_SPACE 1000000u /* 10^LL_PIN_DIGITS */

int ll_pin_generate(char out[LL_PIN_DIGITS + 1])
{
	char buf[LL_PIN_DIGITS + 2];
	uint32_t v;
	int r;

	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	/* Uniform over all 10^6 PINs, leading zeros included. */
	if ((r = ll_random_uniform(LL_PIN_SPACE, &v)) != LL_OK)
		return r;
	if (snprintf(buf, sizeof(buf), "%06u", (unsigned)v) != LL_PIN_DIGITS) {
		ll_wipe(&v, sizeof(v));
		return LL_ERR_INTERNAL;
	}
	memcpy(out, buf, LL_PIN_DIGITS + 1);
	ll_wipe(buf, sizeof(buf));
	ll_wipe(&v, sizeof(v));
	return LL_OK;
}

bool ll_pin_well_formed(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < LL_PIN_DIGITS; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return s[LL_PIN_DIGITS] == '\0';
}

int ll_secret_hash(const char *secret, uint8_t out[32])
{
	if (secret == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_sha256(secret, strlen(secret), out);
}

int ll_pin_mac(const uint8_t key[32], const char *pin, uint8_t out[32])
{
	if (key == NULL || pin == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_hmac_sha256(key, 32, pin, strlen(pin), out);
}
