/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OpenID Connect, the relay's side as the client of an org's identity
 * provider (docs/ARCHITECTURE.md, "Single sign-on"; docs/SECURITY.md):
 *
 *  - parsers of what the provider sends: its discovery document, the
 *    token endpoint's answer (pure functions over bytes, fuzzed by
 *    tests/fuzz/fuzz_oidc.c);
 *  - the ID token's checks: the signature with cjose against the
 *    provider's JWKS (asymmetric algorithms only), then iss, aud (and
 *    azp), exp, iat and nonce;
 *  - PKCE (RFC 7636, S256 only) and the authorization request's URL;
 *  - the HTTPS calls to the provider on libcurl, certificate verification
 *    always on.  They block: worker threads only (ll_workpool.h).
 *
 * The only module that includes <cjose/cjose.h>; with common/client, the
 * only one that uses libcurl.
 */
#ifndef LL_OIDC_H
#define LL_OIDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Bytes any answer of the provider may have (discovery, JWKS, token). */
#define LL_OIDC_MAX_ANSWER (256 * 1024)
/* Clock skew allowed on exp and iat. */
#define LL_OIDC_LEEWAY_S 60

/* What discovery (/.well-known/openid-configuration) says, each an
 * https:// URL. */
struct ll_oidc_endpoints {
	char *authorization_endpoint;
	char *token_endpoint;
	char *jwks_uri;
};
/*
 * Parses a discovery document whose "issuer" must equal issuer byte for
 * byte (OpenID Connect Discovery 4.3).  LL_OK with out filled (clear it
 * with ll_oidc_endpoints_clear), else LL_ERR_BAD_JSON, LL_ERR_SCHEMA (a
 * member missing, not a string, not https://), LL_ERR_AUTH_FAILED (another
 * issuer), LL_ERR_TOO_LARGE; out untouched then.
 */
int ll_oidc_discovery_parse(const char *text, size_t len, const char *issuer,
			    struct ll_oidc_endpoints *out);
void ll_oidc_endpoints_clear(struct ll_oidc_endpoints *e);

/* The token endpoint's 200 answer: its "id_token" (malloc'd, a secret).
 * LL_ERR_BAD_JSON, LL_ERR_SCHEMA, LL_ERR_TOO_LARGE otherwise. */
int ll_oidc_token_response_parse(const char *text, size_t len,
				 char **id_token_out);

/* Why an ID token was refused: one name each, for the audit. */
enum ll_oidc_failure {
	LL_OIDC_OK = 0,
	LL_OIDC_MALFORMED, /* not a JWS, or claims not a JSON object */
	LL_OIDC_SIGNATURE, /* no key of the JWKS verifies it */
	LL_OIDC_ALGORITHM, /* an algorithm we do not accept ("none", HS*) */
	LL_OIDC_ISSUER,    /* iss is not the configured issuer */
	LL_OIDC_AUDIENCE,  /* aud does not name our client, or azp another */
	LL_OIDC_EXPIRED,   /* exp passed (or iat in the future) */
	LL_OIDC_NONCE,     /* not the nonce of this sign-in */
	LL_OIDC_CLAIMS,    /* a required claim missing or mistyped */
	LL_OIDC_FAILURE_COUNT
};
/* "signature", "audience", ... */
const char *ll_oidc_failure_name(enum ll_oidc_failure f);

struct ll_oidc_expect {
	const char *issuer;
	const char *client_id;
	const char *nonce;
	int64_t now; /* unix seconds */
};
/*
 * Verifies a compact-serialised ID token against the provider's JWKS
 * (its JSON text), then its claims against e.  LL_OK with *claims_out
 * (a new reference), or LL_ERR_AUTH_FAILED with *why set (and
 * LL_ERR_NOMEM / LL_ERR_BAD_JSON for a JWKS that is no JSON: *why
 * LL_OIDC_SIGNATURE then).  *claims_out untouched on failure.
 */
int ll_oidc_id_token_verify(const char *jwt, const char *jwks, size_t jwks_len,
			    const struct ll_oidc_expect *e,
			    json_t **claims_out, enum ll_oidc_failure *why);

/* Is the claim name a string equal to value, or an array holding it? */
bool ll_oidc_claim_has(const json_t *claims, const char *name,
		       const char *value);

/* RFC 7636: 43 to 128 characters of [A-Za-z0-9-._~]. */
bool ll_oidc_pkce_verifier_valid(const char *v);
/* Is s a well-formed S256 challenge (43 base64url characters)? */
bool ll_oidc_pkce_challenge_valid(const char *s);
/* base64url(SHA-256(verifier)), malloc'd; NULL on no memory. */
char *ll_oidc_pkce_challenge_new(const char *verifier);

/* The authorization request (code flow, S256), malloc'd. */
struct ll_oidc_authorize {
	const char *endpoint;
	const char *client_id;
	const char *redirect_uri;
	const char *scope;
	const char *state;
	const char *nonce;
	const char *code_challenge;
};
char *ll_oidc_authorize_url_new(const struct ll_oidc_authorize *a);

/* ---- HTTPS to the provider (oidc_http.c; blocking) ---- */
struct ll_oidc_http {
	const char *ca_file; /* NULL: the system's trust store */
	long timeout_ms;
	/* client_secret_basic (RFC 6749 2.3.1), or NULL */
	const char *basic_user;
	const char *basic_secret;
};
/*
 * GET url (or POST form, application/x-www-form-urlencoded, when form is
 * not NULL).  https:// only, certificate and name verified, no
 * redirects, the answer capped at LL_OIDC_MAX_ANSWER.  LL_OK with
 * *body_out (malloc'd, NUL-terminated) and *status_out (any status: the
 * caller decides); LL_ERR_TLS_VERIFY (the provider's certificate not
 * trusted), LL_ERR_IO (cannot connect or resolve), LL_ERR_TIMEOUT,
 * LL_ERR_TOO_LARGE, LL_ERR_INVALID_ARG (not https://).
 */
int ll_oidc_http_fetch(const char *url, const char *form,
		       const struct ll_oidc_http *o, char **body_out,
		       size_t *len_out, long *status_out);
/* Appends "&name=value" (no '&' when *form is empty), both escaped. */
int ll_oidc_form_add(char **form, const char *name, const char *value);

#endif
