/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What an OpenID provider sends the relay (common/oidc): the first byte
 * picks the parser, the rest is the provider's bytes.
 *   0  a discovery document (issuer https://idp.example)
 *   1  the token endpoint's answer
 *   2  a JWKS, a NUL, then an ID token: cjose's import and verification
 *      under our choice of algorithms and keys, then the claims' checks
 * Each must accept or refuse without a crash or leak, with its output
 * untouched on refusal and a reason on every refused ID token.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_err.h"
#include "ll_oidc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void discovery(const char *text, size_t len)
{
	struct ll_oidc_endpoints e = { NULL, NULL, NULL };
	int r = ll_oidc_discovery_parse(text, len, "https://idp.example", &e);

	if (r == LL_OK) {
		if (e.authorization_endpoint == NULL ||
		    strncmp(e.token_endpoint, "https://", 8) != 0 ||
		    strncmp(e.jwks_uri, "https://", 8) != 0)
			abort();
	} else if (e.authorization_endpoint != NULL || e.jwks_uri != NULL) {
		abort();
	}
	ll_oidc_endpoints_clear(&e);
}

static void token_response(const char *text, size_t len)
{
	char *t = NULL;
	int r = ll_oidc_token_response_parse(text, len, &t);

	if ((r == LL_OK) != (t != NULL) || (t != NULL && t[0] == '\0'))
		abort();
	free(t);
}

static void id_token(const char *text, size_t len)
{
	const char *nul = memchr(text, '\0', len);
	struct ll_oidc_expect e = { "https://idp.example", "lifeline", "n",
				    1800000000 };
	enum ll_oidc_failure why = LL_OIDC_OK;
	json_t *claims = NULL;
	int r;

	if (nul == NULL)
		return;
	r = ll_oidc_id_token_verify(nul + 1, text, (size_t)(nul - text), &e,
				    &claims, &why);
	if (r == LL_OK) {
		if (claims == NULL || why != LL_OIDC_OK)
			abort();
	} else if (claims != NULL || why == LL_OIDC_OK) {
		abort();
	}
	json_decref(claims);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1 || size > LL_OIDC_MAX_ANSWER ||
	    (text = malloc(size)) == NULL)
		return 0;
	/* NUL-terminated: the ID token is a C string */
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0:
		discovery(text, size - 1);
		break;
	case 1:
		token_response(text, size - 1);
		break;
	default:
		id_token(text, size - 1);
		break;
	}
	free(text);
	return 0;
}
