/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PINs and the hashes under which tokens, tickets and PINs are stored. */
#include <stdio.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_util.h"

int ll_pin_generate(int digits, char out[LL_PIN_MAX_DIGITS + 1])
{
	char buf[LL_PIN_MAX_DIGITS + 1];
	uint32_t v = 0;
	int i, r = LL_OK;

	if (out == NULL || digits < LL_PIN_MIN_DIGITS ||
	    digits > LL_PIN_MAX_DIGITS)
		return LL_ERR_INVALID_ARG;
	/* Digit by digit: uniform over all 10^digits PINs, leading zeros
	 * included, whatever the length (10^10 does not fit a uint32). */
	for (i = 0; i < digits && r == LL_OK; i++) {
		r = ll_random_uniform(10, &v);
		buf[i] = (char)('0' + v);
	}
	buf[digits] = '\0';
	if (r == LL_OK)
		memcpy(out, buf, (size_t)digits + 1);
	ll_wipe(buf, sizeof(buf));
	ll_wipe(&v, sizeof(v));
	return r;
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
