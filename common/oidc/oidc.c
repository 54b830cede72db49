/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OpenID Connect: the provider's documents, the ID token's checks, PKCE
 * and the authorization URL (ll_oidc.h).  JOSE is cjose's, never ours:
 * we only choose which algorithms and keys may be used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>

#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_util.h"
#include "ll_oidc.h"

static const char *const failure_names[LL_OIDC_FAILURE_COUNT] = {
	[LL_OIDC_OK] = "ok",
	[LL_OIDC_MALFORMED] = "malformed",
	[LL_OIDC_SIGNATURE] = "signature",
	[LL_OIDC_ALGORITHM] = "algorithm",
	[LL_OIDC_ISSUER] = "issuer",
	[LL_OIDC_AUDIENCE] = "audience",
	[LL_OIDC_EXPIRED] = "expired",
	[LL_OIDC_NONCE] = "nonce",
	[LL_OIDC_CLAIMS] = "claims",
};

const char *ll_oidc_failure_name(enum ll_oidc_failure f)
{
	if ((unsigned)f >= LL_OIDC_FAILURE_COUNT)
		return "unknown";
	return failure_names[f];
}

/* ---- documents ---- */

static json_t *load_object(const char *text, size_t len, int *err)
{
	json_t *o;

	if (text == NULL || len > LL_OIDC_MAX_ANSWER) {
		*err = LL_ERR_TOO_LARGE;
		return NULL;
	}
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (o == NULL) {
		*err = LL_ERR_BAD_JSON;
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		*err = LL_ERR_SCHEMA;
		return NULL;
	}
	return o;
}

static const char *https_member(const json_t *o, const char *name)
{
	const char *s = json_string_value(json_object_get(o, name));

	if (s == NULL || strncmp(s, "https://", 8) != 0 || strlen(s) > 2048)
		return NULL;
	return s;
}

int ll_oidc_discovery_parse(const char *text, size_t len, const char *issuer,
			    struct ll_oidc_endpoints *out)
{
	struct ll_oidc_endpoints e = { NULL, NULL, NULL };
	const char *iss, *authz, *token, *jwks;
	json_t *o;
	int r;

	if ((o = load_object(text, len, &r)) == NULL)
		return r;
	iss = json_string_value(json_object_get(o, "issuer"));
	authz = https_member(o, "authorization_endpoint");
	token = https_member(o, "token_endpoint");
	jwks = https_member(o, "jwks_uri");
	if (iss == NULL || authz == NULL || token == NULL || jwks == NULL) {
		r = LL_ERR_SCHEMA;
		goto out;
	}
	if (issuer == NULL || strcmp(iss, issuer) != 0) {
		r = LL_ERR_AUTH_FAILED;
		goto out;
	}
	if ((e.authorization_endpoint = strdup(authz)) == NULL ||
	    (e.token_endpoint = strdup(token)) == NULL ||
	    (e.jwks_uri = strdup(jwks)) == NULL) {
		ll_oidc_endpoints_clear(&e);
		r = LL_ERR_NOMEM;
		goto out;
	}
	*out = e;
	r = LL_OK;
out:
	json_decref(o);
	return r;
}

void ll_oidc_endpoints_clear(struct ll_oidc_endpoints *e)
{
	if (e == NULL)
		return;
	free(e->authorization_endpoint);
	free(e->token_endpoint);
	free(e->jwks_uri);
	memset(e, 0, sizeof(*e));
}

int ll_oidc_token_response_parse(const char *text, size_t len,
				 char **id_token_out)
{
	const char *t;
	json_t *o;
	int r;

	if ((o = load_object(text, len, &r)) == NULL)
		return r;
	t = json_string_value(json_object_get(o, "id_token"));
	if (t == NULL || t[0] == '\0') {
		r = LL_ERR_SCHEMA;
	} else if ((*id_token_out = strdup(t)) == NULL) {
		r = LL_ERR_NOMEM;
	} else {
		r = LL_OK;
	}
	/* the answer holds the access token too: gone with o */
	json_decref(o);
	return r;
}

/* ---- the ID token ---- */

/* The algorithms a provider may sign with, and the key type of each:
 * asymmetric only (no "none", no HS* whose key would be our secret). */
static const struct {
	const char *alg;
	const char *kty;
} algs[] = {
	{ "RS256", "RSA" }, { "RS384", "RSA" }, { "RS512", "RSA" },
	{ "PS256", "RSA" }, { "PS384", "RSA" }, { "PS512", "RSA" },
	{ "ES256", "EC" },  { "ES384", "EC" },  { "ES512", "EC" },
};

static const char *alg_kty(const char *alg)
{
	size_t i;

	for (i = 0; alg != NULL && i < LL_ARRAY_SIZE(algs); i++)
		if (strcmp(algs[i].alg, alg) == 0)
			return algs[i].kty;
	return NULL;
}

/*
 * Is s[0..n) base64url as cjose can decode it?  Debian's libcjose asserts
 * (aborts) on a length of 4k+1 (tests/fuzz/fuzz_oidc found it), so every
 * base64url text goes through this before cjose sees it.
 */
static bool b64url_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_'))
			return false;
	return n % 4 != 1;
}

/* A compact JWS: three base64url parts, none of them cjose's trap. */
static bool compact_ok(const char *jwt)
{
	const char *p = jwt, *dot;
	int parts;

	for (parts = 1; parts <= 3; parts++) {
		dot = strchr(p, '.');
		if ((dot == NULL) != (parts == 3))
			return false;
		if (!b64url_ok(p, dot ? (size_t)(dot - p) : strlen(p)))
			return false;
		if (dot != NULL)
			p = dot + 1;
	}
	return true;
}

/* Every string member of a JWK that cjose decodes as base64url. */
static bool jwk_ok(const json_t *k)
{
	static const char *const b64[] = { "n", "e", "x",  "y",  "k", "d",
					   "p", "q", "dp", "dq", "qi" };
	size_t i;

	for (i = 0; i < LL_ARRAY_SIZE(b64); i++) {
		const json_t *v = json_object_get(k, b64[i]);

		if (v != NULL &&
		    (!json_is_string(v) ||
		     !b64url_ok(json_string_value(v), json_string_length(v))))
			return false;
	}
	return true;
}

/* Could this JWK have signed with alg under kid (NULL: any key)? */
static bool key_fits(const json_t *k, const char *alg, const char *kty,
		     const char *kid)
{
	const char *k_kty = json_string_value(json_object_get(k, "kty"));
	const char *k_use = json_string_value(json_object_get(k, "use"));
	const char *k_alg = json_string_value(json_object_get(k, "alg"));
	const char *k_kid = json_string_value(json_object_get(k, "kid"));

	if (k_kty == NULL || strcmp(k_kty, kty) != 0)
		return false;
	if (k_use != NULL && strcmp(k_use, "sig") != 0)
		return false;
	if (k_alg != NULL && strcmp(k_alg, alg) != 0)
		return false;
	if (kid != NULL && (k_kid == NULL || strcmp(k_kid, kid) != 0))
		return false;
	return true;
}

/* Does one key of the JWKS that fits verify jws? */
static int jws_verify_jwks(cjose_jws_t *jws, const json_t *keys,
			   const char *alg, const char *kid, bool *ok)
{
	size_t i;
	json_t *k;

	*ok = false;
	json_array_foreach(keys, i, k)
	{
		cjose_err cerr;
		cjose_jwk_t *jwk;
		char *text;

		if (!json_is_object(k) ||
		    !key_fits(k, alg, alg_kty(alg), kid) || !jwk_ok(k))
			continue;
		if ((text = json_dumps(k, JSON_COMPACT)) == NULL)
			return LL_ERR_NOMEM;
		jwk = cjose_jwk_import(text, strlen(text), &cerr);
		free(text);
		if (jwk == NULL)
			continue; /* a key cjose cannot use cannot verify */
		*ok = cjose_jws_verify(jws, jwk, &cerr);
		cjose_jwk_release(jwk);
		if (*ok)
			return LL_OK;
	}
	return LL_OK;
}

/* The signature: LL_OIDC_OK with the payload as a JSON object in *out. */
static enum ll_oidc_failure jws_check(const char *jwt, const json_t *keys,
				      json_t **out)
{
	enum ll_oidc_failure f;
	cjose_err cerr;
	cjose_jws_t *jws;
	cjose_header_t *hdr;
	const char *alg, *kid;
	uint8_t *plain = NULL;
	size_t plain_len = 0;
	bool ok = false;

	if (!compact_ok(jwt))
		return LL_OIDC_MALFORMED;
	jws = cjose_jws_import(jwt, strlen(jwt), &cerr);
	if (jws == NULL)
		return LL_OIDC_MALFORMED;
	hdr = cjose_jws_get_protected(jws);
	alg = hdr ? cjose_header_get(hdr, CJOSE_HDR_ALG, &cerr) : NULL;
	kid = hdr ? cjose_header_get(hdr, CJOSE_HDR_KID, &cerr) : NULL;
	if (alg_kty(alg) == NULL) {
		f = LL_OIDC_ALGORITHM;
		goto out;
	}
	if (jws_verify_jwks(jws, keys, alg, kid, &ok) != LL_OK || !ok) {
		f = LL_OIDC_SIGNATURE;
		goto out;
	}
	if (!cjose_jws_get_plaintext(jws, &plain, &plain_len, &cerr)) {
		f = LL_OIDC_MALFORMED;
		goto out;
	}
	*out = json_loadb((const char *)plain, plain_len,
			  JSON_REJECT_DUPLICATES, NULL);
	if (*out == NULL || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		f = LL_OIDC_MALFORMED;
		goto out;
	}
	f = LL_OIDC_OK;
out:
	cjose_jws_release(jws); /* plain is the jws's */
	return f;
}

static bool number_claim(const json_t *c, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(c, name);

	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return true;
	}
	if (json_is_real(v) && json_real_value(v) > -9e15 &&
	    json_real_value(v) < 9e15) {
		*out = (int64_t)json_real_value(v);
		return true;
	}
	return false;
}

/* OpenID Connect Core 3.1.3.7, the checks of items 2, 3, 4, 9, 10, 11. */
static enum ll_oidc_failure claims_check(const json_t *c,
					 const struct ll_oidc_expect *e)
{
	const char *iss = json_string_value(json_object_get(c, "iss"));
	const char *sub = json_string_value(json_object_get(c, "sub"));
	const char *nonce = json_string_value(json_object_get(c, "nonce"));
	const json_t *aud = json_object_get(c, "aud");
	const json_t *azp = json_object_get(c, "azp");
	int64_t exp, iat;

	if (iss == NULL || strcmp(iss, e->issuer) != 0)
		return LL_OIDC_ISSUER;
	if (!ll_oidc_claim_has(c, "aud", e->client_id))
		return LL_OIDC_AUDIENCE;
	if (azp != NULL && (!json_is_string(azp) ||
			    strcmp(json_string_value(azp), e->client_id) != 0))
		return LL_OIDC_AUDIENCE;
	if (json_is_array(aud) && json_array_size(aud) > 1 && azp == NULL)
		return LL_OIDC_AUDIENCE;
	if (!number_claim(c, "exp", &exp) || !number_claim(c, "iat", &iat))
		return LL_OIDC_CLAIMS;
	if (e->now >= exp + LL_OIDC_LEEWAY_S ||
	    iat > e->now + LL_OIDC_LEEWAY_S)
		return LL_OIDC_EXPIRED;
	if (nonce == NULL || e->nonce == NULL || !ll_ct_streq(nonce, e->nonce))
		return LL_OIDC_NONCE;
	if (sub == NULL || sub[0] == '\0')
		return LL_OIDC_CLAIMS;
	return LL_OIDC_OK;
}

int ll_oidc_id_token_verify(const char *jwt, const char *jwks, size_t jwks_len,
			    const struct ll_oidc_expect *e,
			    json_t **claims_out, enum ll_oidc_failure *why)
{
	json_t *set, *claims = NULL;
	enum ll_oidc_failure f;
	int r;

	*why = LL_OIDC_SIGNATURE;
	if (jwt == NULL || e == NULL || e->issuer == NULL ||
	    e->client_id == NULL)
		return LL_ERR_INVALID_ARG;
	if ((set = load_object(jwks, jwks_len, &r)) == NULL)
		return r;
	if (!json_is_array(json_object_get(set, "keys"))) {
		json_decref(set);
		return LL_ERR_SCHEMA;
	}
	f = jws_check(jwt, json_object_get(set, "keys"), &claims);
	json_decref(set);
	if (f == LL_OIDC_OK)
		f = claims_check(claims, e);
	*why = f;
	if (f != LL_OIDC_OK) {
		json_decref(claims);
		return LL_ERR_AUTH_FAILED;
	}
	*claims_out = claims;
	return LL_OK;
}

bool ll_oidc_claim_has(const json_t *claims, const char *name,
		       const char *value)
{
	const json_t *v = json_object_get(claims, name), *item;
	size_t i;

	if (value == NULL)
		return false;
	if (json_is_string(v))
		return strcmp(json_string_value(v), value) == 0;
	json_array_foreach(v, i, item) if (json_is_string(item) &&
					   strcmp(json_string_value(item),
						  value) == 0) return true;
	return false;
}

/* ---- PKCE and the authorization URL ---- */

static bool unreserved(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

bool ll_oidc_pkce_verifier_valid(const char *v)
{
	size_t i;

	if (v == NULL)
		return false;
	for (i = 0; v[i] != '\0'; i++)
		if (!unreserved((unsigned char)v[i]) || i >= 128)
			return false;
	return i >= 43;
}

bool ll_oidc_pkce_challenge_valid(const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (!unreserved((unsigned char)s[i]) || s[i] == '.' ||
		    s[i] == '~' || i >= 43)
			return false;
	return i == 43;
}

char *ll_oidc_pkce_challenge_new(const char *verifier)
{
	uint8_t h[LL_SHA256_LEN];
	char *c;

	if (verifier == NULL ||
	    ll_sha256(verifier, strlen(verifier), h) != LL_OK)
		return NULL;
	c = ll_base64url_new(h, sizeof(h));
	ll_wipe(h, sizeof(h));
	return c;
}

/* value percent-encoded (RFC 3986: all but unreserved), malloc'd. */
static char *escape_new(const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(value), cap, i, o = 0;
	char *out;

	if (!ll_size_mul(n, 3, &cap) || !ll_size_add(cap, 1, &cap) ||
	    (out = malloc(cap)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];

		if (unreserved(c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

int ll_oidc_form_add(char **form, const char *name, const char *value)
{
	char *en = NULL, *ev = NULL, *nf = NULL;
	size_t n;
	int r = LL_ERR_NOMEM;

	if (name == NULL || value == NULL)
		return LL_ERR_INVALID_ARG;
	if ((en = escape_new(name)) == NULL ||
	    (ev = escape_new(value)) == NULL)
		goto out;
	n = (*form ? strlen(*form) : 0) + strlen(en) + strlen(ev) + 3;
	if ((nf = malloc(n)) == NULL)
		goto out;
	snprintf(nf, n, "%s%s%s=%s", *form ? *form : "",
		 (*form && (*form)[0]) ? "&" : "", en, ev);
	ll_secret_free(*form); /* a form may hold the code or secret */
	*form = nf;
	r = LL_OK;
out:
	ll_secret_free(ev);
	free(en);
	return r;
}

char *ll_oidc_authorize_url_new(const struct ll_oidc_authorize *a)
{
	char *q = NULL, *url = NULL;
	size_t n;

	if (ll_oidc_form_add(&q, "response_type", "code") != LL_OK ||
	    ll_oidc_form_add(&q, "client_id", a->client_id) != LL_OK ||
	    ll_oidc_form_add(&q, "redirect_uri", a->redirect_uri) != LL_OK ||
	    ll_oidc_form_add(&q, "scope", a->scope) != LL_OK ||
	    ll_oidc_form_add(&q, "state", a->state) != LL_OK ||
	    ll_oidc_form_add(&q, "nonce", a->nonce) != LL_OK ||
	    ll_oidc_form_add(&q, "code_challenge", a->code_challenge) !=
		    LL_OK ||
	    ll_oidc_form_add(&q, "code_challenge_method", "S256") != LL_OK)
		goto out;
	n = strlen(a->endpoint) + strlen(q) + 2;
	if ((url = malloc(n)) != NULL)
		snprintf(url, n, "%s%c%s", a->endpoint,
			 strchr(a->endpoint, '?') ? '&' : '?', q);
out:
	free(q);
	return url;
}
