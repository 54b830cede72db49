/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/oidc: the ID token's checks against tokens this test signs with
 * cjose (a good one, then one thing wrong at a time), the provider's
 * documents, PKCE (RFC 7636's own example) and the authorization URL.
 * The test, not the module, makes tokens: the module only verifies.
 */
#include <string.h>

#include <cjose/cjose.h>
#include <glib.h>
#include <jansson.h>

#include "ll_err.h"
#include "ll_oidc.h"

#define ISS "https://idp.example"
#define CLIENT "lifeline"
#define NONCE "n-0S6_WzA2Mj"
#define NOW 1800000000

static cjose_jwk_t *key_new(const char *kid)
{
	static const uint8_t e[] = { 1, 0, 1 };
	cjose_err err;
	cjose_jwk_t *k = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &err);

	g_assert_nonnull(k);
	g_assert_true(cjose_jwk_set_kid(k, kid, strlen(kid), &err));
	return k;
}

/* {"keys": [public keys]} */
static char *jwks_new(cjose_jwk_t **keys, size_t n)
{
	json_t *set = json_pack("{s:[]}", "keys");
	cjose_err err;
	size_t i;
	char *out;

	for (i = 0; i < n; i++) {
		char *pub = cjose_jwk_to_json(keys[i], false, &err);

		g_assert_nonnull(pub);
		json_array_append_new(json_object_get(set, "keys"),
				      json_loads(pub, 0, NULL));
		free(pub);
	}
	out = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	return out;
}

static json_t *claims_good(void)
{
	return json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:[s]}", "iss", ISS,
			 "sub", "u-1", "aud", CLIENT, "exp",
			 (json_int_t)NOW + 300, "iat", (json_int_t)NOW - 5,
			 "nonce", NONCE, "preferred_username", "alice",
			 "groups", "techs");
}

static char *sign(cjose_jwk_t *k, const char *alg, json_t *claims)
{
	cjose_err err;
	cjose_header_t *h = cjose_header_new(&err);
	char *payload = json_dumps(claims, JSON_COMPACT);
	const char *ser = NULL;
	cjose_jws_t *jws;
	char *out;

	g_assert_true(cjose_header_set(h, CJOSE_HDR_ALG, alg, &err));
	g_assert_true(cjose_header_set(h, CJOSE_HDR_KID,
				       cjose_jwk_get_kid(k, &err), &err));
	jws = cjose_jws_sign(k, h, (const uint8_t *)payload, strlen(payload),
			     &err);
	g_assert_nonnull(jws);
	g_assert_true(cjose_jws_export(jws, &ser, &err));
	out = g_strdup(ser);
	cjose_jws_release(jws);
	cjose_header_release(h);
	free(payload);
	json_decref(claims);
	return out;
}

struct fixture {
	cjose_jwk_t *key, *other;
	char *jwks;
};

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	(void)data;
	f->key = key_new("k1");
	f->other = key_new("k2");
	f->jwks = jwks_new(&f->key, 1);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	(void)data;
	cjose_jwk_release(f->key);
	cjose_jwk_release(f->other);
	free(f->jwks);
}

static enum ll_oidc_failure verify(struct fixture *f, const char *jwt)
{
	struct ll_oidc_expect e = { ISS, CLIENT, NONCE, NOW };
	enum ll_oidc_failure why = LL_OIDC_OK;
	json_t *claims = NULL;
	int r;

	r = ll_oidc_id_token_verify(jwt, f->jwks, strlen(f->jwks), &e, &claims,
				    &why);
	if (r == LL_OK) {
		g_assert_cmpint(why, ==, LL_OIDC_OK);
		g_assert_true(ll_oidc_claim_has(claims, "groups", "techs"));
		json_decref(claims);
	} else {
		g_assert_cmpint(r, ==, LL_ERR_AUTH_FAILED);
		g_assert_null(claims);
		g_assert_cmpint(why, !=, LL_OIDC_OK);
	}
	g_free((char *)jwt);
	return why;
}

static json_t *with(json_t *c, const char *name, json_t *v)
{
	json_object_set_new(c, name, v);
	return c;
}

static void test_good(struct fixture *f, gconstpointer d)
{
	(void)d;
	g_assert_cmpint(verify(f, sign(f->key, "RS256", claims_good())), ==,
			LL_OIDC_OK);
	g_assert_cmpint(verify(f, sign(f->key, "PS256", claims_good())), ==,
			LL_OIDC_OK);
	/* within the clock skew */
	g_assert_cmpint(verify(f, sign(f->key, "RS256",
				       with(claims_good(), "exp",
					    json_integer(NOW - 10)))),
			==, LL_OIDC_OK);
}

static void test_signature(struct fixture *f, gconstpointer d)
{
	char *jwt = sign(f->key, "RS256", claims_good());
	char *dot = strchr(jwt, '.');
	json_t *c;
	char *p, *forged;

	(void)d;
	/* another key, even under the right kid */
	g_assert_cmpint(verify(f, sign(f->other, "RS256", claims_good())), ==,
			LL_OIDC_SIGNATURE);
	g_assert_true(cjose_jwk_set_kid(f->other, "k1", 2, NULL));
	g_assert_cmpint(verify(f, sign(f->other, "RS256", claims_good())), ==,
			LL_OIDC_SIGNATURE);
	/* a claim changed, the signature kept */
	c = with(claims_good(), "preferred_username", json_string("mallory"));
	p = json_dumps(c, JSON_COMPACT);
	{
		cjose_err err;
		char *b64 = NULL;
		size_t n = 0;

		g_assert_true(cjose_base64url_encode((const uint8_t *)p,
						     strlen(p), &b64, &n,
						     &err));
		forged = g_strdup_printf("%.*s.%.*s%s", (int)(dot - jwt), jwt,
					 (int)n, b64, strchr(dot + 1, '.'));
		free(b64);
	}
	free(p);
	json_decref(c);
	g_assert_cmpint(verify(f, forged), ==, LL_OIDC_SIGNATURE);
	/* alg none: no signature at all */
	forged = g_strdup_printf("eyJhbGciOiJub25lIn0.%.*s.",
				 (int)(strchr(dot + 1, '.') - (dot + 1)),
				 dot + 1);
	g_assert_cmpint(verify(f, forged), !=, LL_OIDC_OK);
	g_assert_cmpint(verify(f, g_strdup("not a token")), ==,
			LL_OIDC_MALFORMED);
	/* a part of 4k+1 characters: libcjose's decoder would abort
	 * (tests/fuzz/corpus/fuzz_oidc/cjose-b64-assert) */
	g_assert_cmpint(verify(f, g_strdup("eyJhbGciOiJSUzI1NiJ9.eyJ9a.b")),
			==, LL_OIDC_MALFORMED);
	g_free(jwt);
}

static void test_algorithm(struct fixture *f, gconstpointer d)
{
	static const char secret[] = "0123456789abcdef0123456789abcdef";
	cjose_err err;
	cjose_jwk_t *oct = cjose_jwk_create_oct_spec((const uint8_t *)secret,
						     32, &err);

	(void)d;
	g_assert_nonnull(oct);
	g_assert_true(cjose_jwk_set_kid(oct, "k1", 2, &err));
	g_assert_cmpint(verify(f, sign(oct, "HS256", claims_good())), ==,
			LL_OIDC_ALGORITHM);
	cjose_jwk_release(oct);
}

static void test_claims(struct fixture *f, gconstpointer d)
{
	(void)d;
	g_assert_cmpint(verify(f, sign(f->key, "RS256",
				       with(claims_good(), "iss",
					    json_string(ISS "/")))),
			==, LL_OIDC_ISSUER);
	g_assert_cmpint(verify(f, sign(f->key, "RS256",
				       with(claims_good(), "aud",
					    json_string("other")))),
			==, LL_OIDC_AUDIENCE);
	g_assert_cmpint(verify(f, sign(f->key, "RS256",
				       with(claims_good(), "aud",
					    json_pack("[s,s]", "other",
						      CLIENT)))),
			==, LL_OIDC_AUDIENCE); /* several, and no azp */
	g_assert_cmpint(
		verify(f, sign(f->key, "RS256",
			       with(with(claims_good(), "aud",
					 json_pack("[s,s]", "other", CLIENT)),
				    "azp", json_string(CLIENT)))),
		==, LL_OIDC_OK);
	g_assert_cmpint(verify(f, sign(f->key, "RS256",
				       with(claims_good(), "azp",
					    json_string("other")))),
			==, LL_OIDC_AUDIENCE);
	g_assert_cmpint(verify(f, sign(f->key, "RS256",
				       with(claims_good(), "exp",
					    json_integer(NOW - 61)))),
			==, LL_OIDC_EXPIRED);
	g_assert_cmpint(verify(f, sign(f->key, "RS256",
				       with(claims_good(), "iat",
					    json_integer(NOW + 3600)))),
			==, LL_OIDC_EXPIRED);
	g_assert_cmpint(verify(f, sign(f->key, "RS256",
				       with(claims_good(), "nonce",
					    json_string("other")))),
			==, LL_OIDC_NONCE);
	g_assert_cmpint(verify(f, sign(f->key, "RS256",
				       with(claims_good(), "exp",
					    json_string("soon")))),
			==, LL_OIDC_CLAIMS);
	g_assert_cmpint(verify(f, sign(f->key, "RS256",
				       with(claims_good(), "sub",
					    json_string("")))),
			==, LL_OIDC_CLAIMS);
}

static void test_discovery(void)
{
	static const char good[] = "{\"issuer\":\"" ISS
				   "\",\"authorization_endpoint\":\"" ISS
				   "/auth\",\"token_endpoint\":\"" ISS
				   "/token\",\"jwks_uri\":\"" ISS "/jwks\"}";
	struct ll_oidc_endpoints e = { NULL, NULL, NULL };
	char *t = NULL;

	g_assert_cmpint(ll_oidc_discovery_parse(good, strlen(good), ISS, &e),
			==, LL_OK);
	g_assert_cmpstr(e.token_endpoint, ==, ISS "/token");
	ll_oidc_endpoints_clear(&e);
	g_assert_cmpint(ll_oidc_discovery_parse(good, strlen(good),
						"https://idp.other", &e),
			==, LL_ERR_AUTH_FAILED);
	g_assert_null(e.jwks_uri);
	g_assert_cmpint(
		ll_oidc_discovery_parse(
			"{\"issuer\":\"" ISS "\","
			"\"authorization_endpoint\":\"http://a\","
			"\"token_endpoint\":\"" ISS "/t\","
			"\"jwks_uri\":\"" ISS "/j\"}",
			strlen("{\"issuer\":\"" ISS "\","
			       "\"authorization_endpoint\":\"http://a\","
			       "\"token_endpoint\":\"" ISS "/t\","
			       "\"jwks_uri\":\"" ISS "/j\"}"),
			ISS, &e),
		==, LL_ERR_SCHEMA);
	g_assert_cmpint(ll_oidc_discovery_parse("[1]", 3, ISS, &e), ==,
			LL_ERR_SCHEMA);
	g_assert_cmpint(ll_oidc_discovery_parse("{", 1, ISS, &e), ==,
			LL_ERR_BAD_JSON);
	g_assert_cmpint(ll_oidc_token_response_parse(
				"{\"id_token\":\"a.b.c\"}", 20, &t),
			==, LL_OK);
	g_assert_cmpstr(t, ==, "a.b.c");
	free(t);
	g_assert_cmpint(ll_oidc_token_response_parse("{\"id_token\":1}", 14,
						     &t),
			==, LL_ERR_SCHEMA);
}

static void test_pkce(void)
{
	/* RFC 7636, appendix B */
	char *c = ll_oidc_pkce_challenge_new(
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");

	g_assert_cmpstr(c, ==, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	g_assert_true(ll_oidc_pkce_challenge_valid(c));
	free(c);
	g_assert_true(ll_oidc_pkce_verifier_valid(
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
	g_assert_false(ll_oidc_pkce_verifier_valid("short"));
	g_assert_false(ll_oidc_pkce_verifier_valid(
		"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+"));
	g_assert_false(ll_oidc_pkce_challenge_valid(
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
	g_assert_false(ll_oidc_pkce_challenge_valid(
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c="));
}

static void test_authorize_url(void)
{
	struct ll_oidc_authorize a = { ISS "/auth?x=1",
				       CLIENT,
				       "https://r/cb",
				       "openid profile",
				       "st",
				       "no&nce",
				       "ch" };
	char *url = ll_oidc_authorize_url_new(&a);

	g_assert_cmpstr(url, ==,
			ISS "/auth?x=1&response_type=code&client_id=lifeline"
			    "&redirect_uri=https%3A%2F%2Fr%2Fcb&scope=openid%"
			    "20profile&state=st&nonce=no%26nce&code_challenge="
			    "ch&code_challenge_method=S256");
	free(url);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/oidc/id-token/good", struct fixture, NULL, fixture_setup,
		   test_good, fixture_teardown);
	g_test_add("/oidc/id-token/signature", struct fixture, NULL,
		   fixture_setup, test_signature, fixture_teardown);
	g_test_add("/oidc/id-token/algorithm", struct fixture, NULL,
		   fixture_setup, test_algorithm, fixture_teardown);
	g_test_add("/oidc/id-token/claims", struct fixture, NULL,
		   fixture_setup, test_claims, fixture_teardown);
	g_test_add_func("/oidc/discovery", test_discovery);
	g_test_add_func("/oidc/pkce", test_pkce);
	g_test_add_func("/oidc/authorize-url", test_authorize_url);
	return g_test_run();
}
