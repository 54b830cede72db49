/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Channel credentials (docs/SECURITY.md, "Channel credentials").
 *
 * Derived, not stored: the MAC is HMAC-SHA256 under the relay's at-rest
 * key of a label, the channel's id and its random handle, so the relay
 * can give the credential again (to a signed applet configuration)
 * while a copy of the database alone gives nobody a credential.  The
 * handle travels in the credential and finds the channel; the MAC is
 * compared in constant time.
 */
#include <stdlib.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_err.h"

#define LABEL "lifeline channel credential v1"

int ll_channel_credential_mac(const uint8_t key[32], int64_t channel_id,
			      const uint8_t handle[LL_CHANNEL_HANDLE_LEN],
			      uint8_t out[32])
{
	uint8_t msg[sizeof(LABEL) + 8 + LL_CHANNEL_HANDLE_LEN];
	uint64_t id = (uint64_t)channel_id;
	size_t i;
	int r;

	if (key == NULL || handle == NULL || out == NULL || channel_id <= 0)
		return LL_ERR_INVALID_ARG;
	memcpy(msg, LABEL, sizeof(LABEL)); /* its NUL ends the label */
	for (i = 0; i < 8; i++)
		msg[sizeof(LABEL) + i] = (uint8_t)(id >> (56 - 8 * i));
	memcpy(msg + sizeof(LABEL) + 8, handle, LL_CHANNEL_HANDLE_LEN);
	r = ll_hmac_sha256(key, 32, msg, sizeof(msg), out);
	ll_wipe(msg, sizeof(msg));
	return r;
}

char *ll_channel_credential_new(const uint8_t key[32], int64_t channel_id,
				const uint8_t handle[LL_CHANNEL_HANDLE_LEN])
{
	uint8_t raw[LL_CHANNEL_HANDLE_LEN + 32];
	char *b64 = NULL, *out = NULL;
	size_t pre = sizeof(LL_CHANNEL_CREDENTIAL_PREFIX) - 1;

	memcpy(raw, handle, LL_CHANNEL_HANDLE_LEN);
	if (ll_channel_credential_mac(key, channel_id, handle,
				      raw + LL_CHANNEL_HANDLE_LEN) != LL_OK)
		goto out;
	if ((b64 = ll_base64url_new(raw, sizeof(raw))) == NULL ||
	    strlen(b64) + pre != LL_CHANNEL_CREDENTIAL_LEN ||
	    (out = malloc(LL_CHANNEL_CREDENTIAL_LEN + 1)) == NULL)
		goto out;
	memcpy(out, LL_CHANNEL_CREDENTIAL_PREFIX, pre);
	memcpy(out + pre, b64, LL_CHANNEL_CREDENTIAL_LEN - pre + 1);
out:
	ll_wipe(raw, sizeof(raw));
	ll_secret_free(b64);
	return out;
}

int ll_channel_credential_parse(const char *text,
				uint8_t handle[LL_CHANNEL_HANDLE_LEN],
				uint8_t mac[32])
{
	uint8_t raw[LL_CHANNEL_HANDLE_LEN + 32 + 1];
	size_t n = 0;
	int r;

	if (!ll_channel_credential_well_formed(text))
		return LL_ERR_MALFORMED;
	r = ll_base64url_decode(text + sizeof(LL_CHANNEL_CREDENTIAL_PREFIX) -
					1,
				raw, sizeof(raw), &n);
	if (r == LL_OK && n == LL_CHANNEL_HANDLE_LEN + 32) {
		memcpy(handle, raw, LL_CHANNEL_HANDLE_LEN);
		memcpy(mac, raw + LL_CHANNEL_HANDLE_LEN, 32);
	} else {
		r = LL_ERR_MALFORMED;
	}
	ll_wipe(raw, sizeof(raw));
	return r;
}
