/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_crypto.h"
#include "ll_err.h"

/* Test-local hex decoder, independent of the one under test. */
static uint8_t *unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex), i;
	uint8_t *out;

	g_assert_cmpuint(n % 2, ==, 0);
	out = g_malloc(n / 2 + 1);
	for (i = 0; i < n / 2; i++) {
		int hi = g_ascii_xdigit_value(hex[2 * i]);
		int lo = g_ascii_xdigit_value(hex[2 * i + 1]);

		g_assert_cmpint(hi, >=, 0);
		g_assert_cmpint(lo, >=, 0);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return out;
}

static uint8_t *filled(uint8_t byte, size_t len)
{
	uint8_t *p = g_malloc(len);

	memset(p, byte, len);
	return p;
}

static uint8_t *counting(uint8_t start, size_t len)
{
	uint8_t *p = g_malloc(len);
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(start + i);
	return p;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want)
{
	size_t wlen;
	uint8_t *w = unhex(want, &wlen);

	g_assert_cmpmem(got, len, w, wlen);
	g_free(w);
}

/* FIPS 180-2 / NIST examples. */
static void test_sha256(void)
{
	uint8_t md[LL_SHA256_LEN];
	struct ll_sha256_ctx *ctx;

	g_assert_cmpint(ll_sha256("abc", 3, md), ==, LL_OK);
	assert_hex(md, sizeof(md),
		   "ba7816bf8f01cfea414140de5dae2223"
		   "b00361a396177a9cb410ff61f20015ad");
	g_assert_cmpint(ll_sha256("", 0, md), ==, LL_OK);
	assert_hex(md, sizeof(md),
		   "e3b0c44298fc1c149afbf4c8996fb924"
		   "27ae41e4649b934ca495991b7852b855");
	g_assert_cmpint(ll_sha256(NULL, 0, md), ==, LL_OK);
	assert_hex(md, sizeof(md),
		   "e3b0c44298fc1c149afbf4c8996fb924"
		   "27ae41e4649b934ca495991b7852b855");
	g_assert_cmpint(ll_sha256(NULL, 1, md), ==, LL_ERR_INVALID_ARG);

	/* Incremental, and the context is reusable after final. */
	ctx = ll_sha256_new();
	g_assert_nonnull(ctx);
	g_assert_cmpint(ll_sha256_update(ctx, "a", 1), ==, LL_OK);
	g_assert_cmpint(ll_sha256_update(ctx, "", 0), ==, LL_OK);
	g_assert_cmpint(ll_sha256_update(ctx, "bc", 2), ==, LL_OK);
	g_assert_cmpint(ll_sha256_final(ctx, md), ==, LL_OK);
	assert_hex(md, sizeof(md),
		   "ba7816bf8f01cfea414140de5dae2223"
		   "b00361a396177a9cb410ff61f20015ad");
	g_assert_cmpint(ll_sha256_final(ctx, md), ==, LL_OK);
	assert_hex(md, sizeof(md),
		   "e3b0c44298fc1c149afbf4c8996fb924"
		   "27ae41e4649b934ca495991b7852b855");
	/* The two-block NIST message. */
	g_assert_cmpint(
		ll_sha256_update(
			ctx,
			"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
			56),
		==, LL_OK);
	g_assert_cmpint(ll_sha256_final(ctx, md), ==, LL_OK);
	assert_hex(md, sizeof(md),
		   "248d6a61d20638b8e5c026930c3e6039"
		   "a33ce45964ff2167f6ecedd419db06c1");
	ll_sha256_free(ctx);
	ll_sha256_free(NULL);
}

struct hmac_case {
	const char *name;
	uint8_t key_byte; /* key = key_byte * key_len, unless key_str */
	size_t key_len;
	const char *key_str;
	bool key_counting; /* key = 0x01, 0x02, ... */
	uint8_t data_byte; /* data = data_byte * data_len, unless data_str */
	size_t data_len;
	const char *data_str;
	const char *mac;
};

/* RFC 4231 test cases 1-4, 6, 7 (5 is a truncated MAC). */
static const struct hmac_case hmac_cases[] = {
	{ "1", 0x0b, 20, NULL, false, 0, 0, "Hi There",
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "2", 0, 0, "Jefe", false, 0, 0, "what do ya want for nothing?",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "3", 0xaa, 20, NULL, false, 0xdd, 50, NULL,
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ "4", 0, 25, NULL, true, 0xcd, 50, NULL,
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ "6", 0xaa, 131, NULL, false, 0, 0,
	  "Test Using Larger Than Block-Size Key - Hash Key First",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ "7", 0xaa, 131, NULL, false, 0, 0,
	  "This is a test using a larger than block-size key and a larger "
	  "than block-size data. The key needs to be hashed before being "
	  "used by the HMAC algorithm.",
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

static void test_hmac_rfc4231(void)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(hmac_cases); i++) {
		const struct hmac_case *c = &hmac_cases[i];
		uint8_t *key, *data, mac[LL_SHA256_LEN];
		size_t key_len, data_len;

		g_test_message("RFC 4231 test case %s", c->name);
		if (c->key_str != NULL) {
			key_len = strlen(c->key_str);
			key = (uint8_t *)g_strdup(c->key_str);
		} else if (c->key_counting) {
			key_len = c->key_len;
			key = counting(1, key_len);
		} else {
			key_len = c->key_len;
			key = filled(c->key_byte, key_len);
		}
		if (c->data_str != NULL) {
			data_len = strlen(c->data_str);
			data = (uint8_t *)g_strdup(c->data_str);
		} else {
			data_len = c->data_len;
			data = filled(c->data_byte, data_len);
		}
		g_assert_cmpint(ll_hmac_sha256(key, key_len, data, data_len,
					       mac),
				==, LL_OK);
		assert_hex(mac, sizeof(mac), c->mac);
		g_free(key);
		g_free(data);
	}
}

static void test_hmac_edges(void)
{
	uint8_t mac[LL_SHA256_LEN], mac2[LL_SHA256_LEN];

	/* Empty key and message: a well-known value. */
	g_assert_cmpint(ll_hmac_sha256(NULL, 0, NULL, 0, mac), ==, LL_OK);
	assert_hex(mac, sizeof(mac),
		   "b613679a0814d9ec772f95d778c35fc5"
		   "ff1697c493715653c6c712144292c5ad");
	g_assert_cmpint(ll_hmac_sha256("k", 1, "m", 1, mac), ==, LL_OK);
	g_assert_cmpint(ll_hmac_sha256("k\0", 2, "m", 1, mac2), ==, LL_OK);
	/* HMAC pads short keys with zeros, so these two are equal. */
	g_assert_cmpmem(mac, sizeof(mac), mac2, sizeof(mac2));
	g_assert_cmpint(ll_hmac_sha256(NULL, 1, "m", 1, mac), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_hmac_sha256("k", 1, NULL, 1, mac), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_hmac_sha256("k", 1, "m", 1, NULL), ==,
			LL_ERR_INVALID_ARG);
}

/* RFC 5869 appendix A.1-A.3 (SHA-256). */
/* RFC 8032 section 7.1, tests 1 and 2; then sign/verify round trips,
 * a flipped bit, and the PEM form of the public key. */
static void test_ed25519(void)
{
	static const struct {
		const char *priv, *pub, *msg, *sig;
	} v[] = {
		{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		  "",
		  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
		  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
		{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
		  "72",
		  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
		  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
	};
	uint8_t priv[32], pub[32], pub2[32], sig[64];
	char *pem;
	size_t i, n;

	for (i = 0; i < G_N_ELEMENTS(v); i++) {
		uint8_t *k = unhex(v[i].priv, &n), *m, *want;
		size_t mlen, slen;

		g_assert_cmpuint(n, ==, 32);
		g_assert_cmpint(ll_ed25519_public(k, pub), ==, LL_OK);
		assert_hex(pub, 32, v[i].pub);
		m = unhex(v[i].msg, &mlen);
		g_assert_cmpint(ll_ed25519_sign(k, m, mlen, sig), ==, LL_OK);
		assert_hex(sig, 64, v[i].sig);
		want = unhex(v[i].sig, &slen);
		g_assert_cmpint(ll_ed25519_verify(pub, m, mlen, want), ==,
				LL_OK);
		want[10] ^= 1;
		g_assert_cmpint(ll_ed25519_verify(pub, m, mlen, want), ==,
				LL_ERR_AUTH_FAILED);
		g_free(k);
		g_free(m);
		g_free(want);
	}

	g_assert_cmpint(ll_ed25519_keygen(priv, pub), ==, LL_OK);
	g_assert_cmpint(ll_ed25519_sign(priv, "checkpoint", 10, sig), ==,
			LL_OK);
	g_assert_cmpint(ll_ed25519_verify(pub, "checkpoint", 10, sig), ==,
			LL_OK);
	g_assert_cmpint(ll_ed25519_verify(pub, "checkpoinT", 10, sig), ==,
			LL_ERR_AUTH_FAILED);
	pem = ll_ed25519_public_pem_new(pub);
	g_assert_nonnull(pem);
	g_assert_true(g_str_has_prefix(pem, "-----BEGIN PUBLIC KEY-----"));
	g_assert_cmpint(ll_ed25519_public_from_pem(pem, pub2), ==, LL_OK);
	g_assert_cmpmem(pub, 32, pub2, 32);
	free(pem);
	g_assert_cmpint(ll_ed25519_public_from_pem("not a key", pub2), ==,
			LL_ERR_MALFORMED);
}

static void test_hkdf_rfc5869(void)
{
	uint8_t *ikm, *salt, *info, okm[82];

	/* A.1 */
	ikm = filled(0x0b, 22);
	salt = counting(0x00, 13);
	info = counting(0xf0, 10);
	g_assert_cmpint(ll_hkdf_sha256(ikm, 22, salt, 13, info, 10, okm, 42),
			==, LL_OK);
	assert_hex(okm, 42,
		   "3cb25f25faacd57a90434f64d0362f2a"
		   "2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
	g_free(ikm);
	g_free(salt);
	g_free(info);

	/* A.2: long inputs. */
	ikm = counting(0x00, 80);
	salt = counting(0x60, 80);
	info = counting(0xb0, 80);
	g_assert_cmpint(ll_hkdf_sha256(ikm, 80, salt, 80, info, 80, okm, 82),
			==, LL_OK);
	assert_hex(okm, 82,
		   "b11e398dc80327a1c8e7f78c596a4934"
		   "4f012eda2d4efad8a050cc4c19afa97c"
		   "59045a99cac7827271cb41c65e590e09"
		   "da3275600c2f09b8367793a9aca3db71"
		   "cc30c58179ec3e87c14c01d5c1f3434f1d87");
	g_free(ikm);
	g_free(salt);
	g_free(info);

	/* A.3: empty salt and info. */
	ikm = filled(0x0b, 22);
	g_assert_cmpint(ll_hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, okm, 42), ==,
			LL_OK);
	assert_hex(okm, 42,
		   "8da4e775a563c18f715f802a063c5a31"
		   "b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
	/* An empty (non-NULL) salt means the same as no salt. */
	g_assert_cmpint(ll_hkdf_sha256(ikm, 22, "", 0, "", 0, okm, 42), ==,
			LL_OK);
	assert_hex(okm, 42,
		   "8da4e775a563c18f715f802a063c5a31"
		   "b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
	g_free(ikm);
}

static void test_hkdf_limits(void)
{
	uint8_t ikm[32] = { 1 }, *out = g_malloc(255 * 32 + 1);

	memset(out, 0x5a, 255 * 32 + 1);
	/* RFC 5869: L <= 255 * HashLen. */
	g_assert_cmpint(ll_hkdf_sha256(ikm, 32, NULL, 0, NULL, 0, out,
				       255 * 32 + 1),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpuint(out[0], ==, 0x5a);
	g_assert_cmpint(ll_hkdf_sha256(ikm, 32, NULL, 0, NULL, 0, out,
				       255 * 32),
			==, LL_OK);
	g_assert_cmpuint(out[255 * 32], ==, 0x5a);
	g_assert_cmpint(ll_hkdf_sha256(ikm, 32, NULL, 0, NULL, 0, out, 0), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_hkdf_sha256(NULL, 32, NULL, 0, NULL, 0, out, 32),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_hkdf_sha256(ikm, 32, NULL, 1, NULL, 0, out, 32), ==,
			LL_ERR_INVALID_ARG);
	g_free(out);
}

struct gcm_case {
	const char *name, *key, *iv, *pt, *aad, *ct, *tag;
};

#define GCM_K2                                                                \
	"feffe9928665731c6d6a8f9467308308"                                    \
	"feffe9928665731c6d6a8f9467308308"
#define GCM_P2                                                                \
	"d9313225f88406e5a55909c5aff5269a"                                    \
	"86a7a9531534f7da2e4c303d8a318a72"                                    \
	"1c3c0c95956809532fcf0e2449a6b525"                                    \
	"b16aedf5aa0de657ba637b39"
#define GCM_C2                                                                \
	"522dc1f099567d07f47f37a32a84427d"                                    \
	"643a8cdcbfe5c0c97598a2bd2555d1aa"                                    \
	"8cb08e48590dbb3da7b08b1056828838"                                    \
	"c5f61e6393ba7a0abcc9f662"

/* McGrew-Viega, "The GCM Mode of Operation", test cases 13-16. */
static const struct gcm_case gcm_cases[] = {
	{ "13",
	  "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "", "",
	  "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "14",
	  "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "00000000000000000000000000000000", "",
	  "cea7403d4d606b6e074ec5d3baf39d18",
	  "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "15", GCM_K2, "cafebabefacedbaddecaf888", GCM_P2 "1aafd255", "",
	  GCM_C2 "898015ad", "b094dac5d93471bdec1a502270e3cc6c" },
	{ "16", GCM_K2, "cafebabefacedbaddecaf888", GCM_P2,
	  "feedfacedeadbeeffeedfacedeadbeefabaddad2", GCM_C2,
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
};

static void test_gcm_vectors(void)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(gcm_cases); i++) {
		const struct gcm_case *c = &gcm_cases[i];
		size_t klen, ivlen, ptlen, aadlen, ctlen, taglen;
		uint8_t *key = unhex(c->key, &klen);
		uint8_t *iv = unhex(c->iv, &ivlen);
		uint8_t *pt = unhex(c->pt, &ptlen);
		uint8_t *aad = unhex(c->aad, &aadlen);
		uint8_t *ct = unhex(c->ct, &ctlen);
		uint8_t *want_tag = unhex(c->tag, &taglen);
		uint8_t out[64], tag[LL_GCM_TAG_LEN], back[64];

		g_test_message("GCM test case %s", c->name);
		g_assert_cmpuint(klen, ==, LL_AES256_KEY_LEN);
		g_assert_cmpint(ll_aes256gcm_encrypt(key, iv, ivlen,
						     aadlen ? aad : NULL,
						     aadlen, pt, ptlen, out,
						     tag),
				==, LL_OK);
		g_assert_cmpmem(out, ptlen, ct, ctlen);
		g_assert_cmpmem(tag, sizeof(tag), want_tag, taglen);

		g_assert_cmpint(ll_aes256gcm_decrypt(key, iv, ivlen,
						     aadlen ? aad : NULL,
						     aadlen, ct, ctlen, tag,
						     back),
				==, LL_OK);
		g_assert_cmpmem(back, ctlen, pt, ptlen);

		/* A flipped tag bit: refused, no plaintext left behind. */
		tag[15] ^= 0x01;
		memset(back, 0x5a, sizeof(back));
		g_assert_cmpint(ll_aes256gcm_decrypt(key, iv, ivlen,
						     aadlen ? aad : NULL,
						     aadlen, ct, ctlen, tag,
						     back),
				==, LL_ERR_AUTH_FAILED);
		for (size_t j = 0; j < ctlen; j++)
			g_assert_cmpuint(back[j], ==, 0);
		g_free(key);
		g_free(iv);
		g_free(pt);
		g_free(aad);
		g_free(ct);
		g_free(want_tag);
	}
}

static void test_gcm_args(void)
{
	uint8_t key[32] = { 0 }, iv[12] = { 0 }, tag[16], ct[4];

	g_assert_cmpint(ll_aes256gcm_encrypt(key, iv, 0, NULL, 0, "abcd", 4,
					     ct, tag),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_aes256gcm_encrypt(NULL, iv, 12, NULL, 0, "abcd", 4,
					     ct, tag),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_aes256gcm_encrypt(key, iv, 12, NULL, 1, "abcd", 4,
					     ct, tag),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_aes256gcm_encrypt(key, iv, 12, NULL, 0, "abcd", 4,
					     NULL, tag),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_aes256gcm_decrypt(key, iv, 12, NULL, 0, ct, 4, NULL,
					     ct),
			==, LL_ERR_INVALID_ARG);
}

static void test_aead_roundtrip(void)
{
	uint8_t key[LL_AES256_KEY_LEN], out[128], out2[128], back[128];
	const char *msg = "the TOTP seed is JBSWY3DPEHPK3PXP";
	size_t mlen = strlen(msg), n = 0, n2 = 0, m = 0;

	g_assert_cmpint(ll_random_bytes(key, sizeof(key)), ==, LL_OK);
	g_assert_cmpint(ll_aead_seal(key, "row:7", 5, msg, mlen, out,
				     sizeof(out), &n),
			==, LL_OK);
	g_assert_cmpuint(n, ==, mlen + LL_AEAD_OVERHEAD);
	g_assert_cmpint(ll_aead_open(key, "row:7", 5, out, n, back,
				     sizeof(back), &m),
			==, LL_OK);
	g_assert_cmpmem(back, m, msg, mlen);

	/* Fresh nonce each time: two seals of one message differ. */
	g_assert_cmpint(ll_aead_seal(key, "row:7", 5, msg, mlen, out2,
				     sizeof(out2), &n2),
			==, LL_OK);
	g_assert_cmpuint(n2, ==, n);
	g_assert_false(memcmp(out, out2, LL_GCM_NONCE_LEN) == 0);
	g_assert_false(memcmp(out, out2, n) == 0);

	/* Exactly enough room is enough. */
	g_assert_cmpint(ll_aead_open(key, "row:7", 5, out, n, back, mlen, &m),
			==, LL_OK);

	/* Empty plaintext and no AAD. */
	g_assert_cmpint(ll_aead_seal(key, NULL, 0, NULL, 0, out,
				     LL_AEAD_OVERHEAD, &n),
			==, LL_OK);
	g_assert_cmpuint(n, ==, LL_AEAD_OVERHEAD);
	m = 99;
	g_assert_cmpint(ll_aead_open(key, NULL, 0, out, n, NULL, 0, &m), ==,
			LL_OK);
	g_assert_cmpuint(m, ==, 0);
}

static void test_aead_tamper(void)
{
	uint8_t key[LL_AES256_KEY_LEN], key2[LL_AES256_KEY_LEN];
	uint8_t out[128], back[128];
	const char *msg = "ldap bind password";
	size_t mlen = strlen(msg), n = 0, m, i;

	g_assert_cmpint(ll_random_bytes(key, sizeof(key)), ==, LL_OK);
	memcpy(key2, key, sizeof(key));
	key2[0] ^= 0x80;
	g_assert_cmpint(ll_aead_seal(key, "aad", 3, msg, mlen, out,
				     sizeof(out), &n),
			==, LL_OK);

	/* Every single bit flip anywhere (nonce, ciphertext, tag) fails. */
	for (i = 0; i < n * 8; i++) {
		out[i / 8] ^= (uint8_t)(1u << (i % 8));
		m = 12345;
		memset(back, 0x5a, sizeof(back));
		g_assert_cmpint(ll_aead_open(key, "aad", 3, out, n, back,
					     sizeof(back), &m),
				==, LL_ERR_AUTH_FAILED);
		g_assert_cmpuint(m, ==, 12345);
		g_assert_false(memcmp(back, msg, mlen) == 0);
		out[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	/* Wrong AAD, missing AAD, wrong key. */
	g_assert_cmpint(ll_aead_open(key, "aae", 3, out, n, back, sizeof(back),
				     &m),
			==, LL_ERR_AUTH_FAILED);
	g_assert_cmpint(ll_aead_open(key, NULL, 0, out, n, back, sizeof(back),
				     &m),
			==, LL_ERR_AUTH_FAILED);
	g_assert_cmpint(ll_aead_open(key2, "aad", 3, out, n, back,
				     sizeof(back), &m),
			==, LL_ERR_AUTH_FAILED);
	/* Truncated ciphertext (a byte dropped before the tag). */
	g_assert_cmpint(ll_aead_open(key, "aad", 3, out, n - 1, back,
				     sizeof(back), &m),
			==, LL_ERR_AUTH_FAILED);
	/* Shorter than nonce + tag: cannot even be parsed. */
	g_assert_cmpint(ll_aead_open(key, "aad", 3, out, LL_AEAD_OVERHEAD - 1,
				     back, sizeof(back), &m),
			==, LL_ERR_TRUNCATED);
	/* The untampered message still opens. */
	g_assert_cmpint(ll_aead_open(key, "aad", 3, out, n, back, sizeof(back),
				     &m),
			==, LL_OK);
	g_assert_cmpmem(back, m, msg, mlen);
}

static void test_aead_small_buffers(void)
{
	uint8_t key[LL_AES256_KEY_LEN] = { 7 }, out[64], back[64];
	size_t n = 777, m = 777;

	memset(out, 0x5a, sizeof(out));
	g_assert_cmpint(ll_aead_seal(key, NULL, 0, "hello", 5, out,
				     5 + LL_AEAD_OVERHEAD - 1, &n),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpuint(n, ==, 777);
	g_assert_cmpuint(out[0], ==, 0x5a);
	/* pt_len + overhead overflowing size_t is refused, not wrapped. */
	g_assert_cmpint(ll_aead_seal(key, NULL, 0, "hello", SIZE_MAX - 3, out,
				     sizeof(out), &n),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_aead_seal(key, NULL, 0, "hello", 5, out,
				     sizeof(out), &n),
			==, LL_OK);
	memset(back, 0x5a, sizeof(back));
	g_assert_cmpint(ll_aead_open(key, NULL, 0, out, n, back, 4, &m), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpuint(m, ==, 777);
	g_assert_cmpuint(back[0], ==, 0x5a);
	g_assert_cmpint(ll_aead_seal(key, NULL, 0, "hello", 5, out,
				     sizeof(out), NULL),
			==, LL_ERR_INVALID_ARG);
}

static void test_hex(void)
{
	static const uint8_t bin[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	uint8_t out[8];
	size_t n = 99;
	char *s;

	s = ll_hex_new(bin, sizeof(bin));
	g_assert_cmpstr(s, ==, "00017f80abff");
	g_assert_cmpint(ll_hex_decode(s, out, sizeof(out), &n), ==, LL_OK);
	g_assert_cmpmem(out, n, bin, sizeof(bin));
	free(s);
	g_assert_cmpint(ll_hex_decode("00017F80ABFF", out, sizeof(out), &n),
			==, LL_OK);
	g_assert_cmpmem(out, n, bin, sizeof(bin));

	s = ll_hex_new(NULL, 0);
	g_assert_cmpstr(s, ==, "");
	free(s);
	g_assert_cmpint(ll_hex_decode("", NULL, 0, &n), ==, LL_OK);
	g_assert_cmpuint(n, ==, 0);

	/* Malformed input: nothing written, *out_len untouched. */
	n = 99;
	memset(out, 0x5a, sizeof(out));
	g_assert_cmpint(ll_hex_decode("abc", out, sizeof(out), &n), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_hex_decode("0g", out, sizeof(out), &n), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_hex_decode("00 1", out, sizeof(out), &n), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_hex_decode("0x00", out, sizeof(out), &n), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_hex_decode("aabbccdd00", out, 4, &n), ==,
			LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_hex_decode("aa", out, 1, NULL), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_hex_decode(NULL, out, 1, &n), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpuint(n, ==, 99);
	g_assert_cmpuint(out[0], ==, 0x5a);
}

static void test_base64url(void)
{
	/* RFC 4648 §10 vectors (the alphabet is the same for these). */
	static const char *const plain[] = {
		"", "f", "fo", "foo", "foob", "fooba", "foobar",
	};
	static const char *const enc[] = {
		"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy",
	};
	static const uint8_t urlsafe[] = { 0xfb, 0xff, 0xbf };
	uint8_t out[16];
	size_t i, n;
	char *s;

	for (i = 0; i < G_N_ELEMENTS(plain); i++) {
		s = ll_base64url_new(plain[i], strlen(plain[i]));
		g_assert_cmpstr(s, ==, enc[i]);
		free(s);
		g_assert_cmpint(ll_base64url_decode(enc[i], out, sizeof(out),
						    &n),
				==, LL_OK);
		g_assert_cmpmem(out, n, plain[i], strlen(plain[i]));
	}
	/* '-' and '_' instead of '+' and '/'. */
	s = ll_base64url_new(urlsafe, sizeof(urlsafe));
	g_assert_cmpstr(s, ==, "-_-_");
	free(s);
	g_assert_cmpint(ll_base64url_decode("-_-_", out, sizeof(out), &n), ==,
			LL_OK);
	g_assert_cmpmem(out, n, urlsafe, sizeof(urlsafe));

	/* Every length round-trips with random content. */
	for (i = 0; i <= sizeof(out); i++) {
		uint8_t in[16], back[16];

		g_assert_cmpint(ll_random_bytes(in, i), ==, LL_OK);
		s = ll_base64url_new(in, i);
		g_assert_nonnull(s);
		g_assert_null(strpbrk(s, "+/="));
		g_assert_cmpint(ll_base64url_decode(s, back, i, &n), ==,
				LL_OK);
		g_assert_cmpmem(back, n, in, i);
		free(s);
	}

	/* Malformed: nothing written, *out_len untouched. */
	n = 99;
	memset(out, 0x5a, sizeof(out));
	g_assert_cmpint(ll_base64url_decode("Zm9vYg==", out, sizeof(out), &n),
			==, LL_ERR_MALFORMED);
	g_assert_cmpint(ll_base64url_decode("Zm9v+g", out, sizeof(out), &n),
			==, LL_ERR_MALFORMED);
	g_assert_cmpint(ll_base64url_decode("Zm9v/g", out, sizeof(out), &n),
			==, LL_ERR_MALFORMED);
	g_assert_cmpint(ll_base64url_decode("Zm9 v", out, sizeof(out), &n), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_base64url_decode("Zm9vY", out, sizeof(out), &n), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_base64url_decode("Z", out, sizeof(out), &n), ==,
			LL_ERR_MALFORMED);
	/* Non-canonical: spare bits set ("Zh" would also decode to "f"). */
	g_assert_cmpint(ll_base64url_decode("Zh", out, sizeof(out), &n), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_base64url_decode("Zm9", out, sizeof(out), &n), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_base64url_decode("Zm9vYmFy", out, 5, &n), ==,
			LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_base64url_decode(NULL, out, 5, &n), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpuint(n, ==, 99);
	g_assert_cmpuint(out[0], ==, 0x5a);
	/* Exactly the room needed. */
	g_assert_cmpint(ll_base64url_decode("Zm9vYmFy", out, 6, &n), ==,
			LL_OK);
	g_assert_cmpuint(n, ==, 6);
}

static void test_random(void)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 }, zero[32] = { 0 };
	char *t1, *t2;

	g_assert_cmpint(ll_random_bytes(a, sizeof(a)), ==, LL_OK);
	g_assert_cmpint(ll_random_bytes(b, sizeof(b)), ==, LL_OK);
	g_assert_false(memcmp(a, b, sizeof(a)) == 0);
	g_assert_false(memcmp(a, zero, sizeof(a)) == 0);
	g_assert_cmpint(ll_random_bytes(NULL, 0), ==, LL_OK);
	g_assert_cmpint(ll_random_bytes(NULL, 1), ==, LL_ERR_INVALID_ARG);

	t1 = ll_random_token_new(32);
	t2 = ll_random_token_new(32);
	g_assert_nonnull(t1);
	g_assert_nonnull(t2);
	g_assert_cmpuint(strlen(t1), ==, 43); /* ceil(256 / 6) */
	g_assert_cmpstr(t1, !=, t2);
	g_assert_cmpuint(strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
				    "nopqrstuvwxyz0123456789-_"),
			 ==, 43);
	ll_secret_free(t1);
	ll_secret_free(t2);
	ll_secret_free(NULL);
	g_assert_null(ll_random_token_new(0));
}

static void test_random_uniform(void)
{
	unsigned counts[6] = { 0 };
	uint32_t v = 77;
	int i;

	g_assert_cmpint(ll_random_uniform(0, &v), ==, LL_ERR_INVALID_ARG);
	g_assert_cmpuint(v, ==, 77);
	g_assert_cmpint(ll_random_uniform(1, &v), ==, LL_OK);
	g_assert_cmpuint(v, ==, 0);
	for (i = 0; i < 6000; i++) {
		g_assert_cmpint(ll_random_uniform(6, &v), ==, LL_OK);
		g_assert_cmpuint(v, <, 6);
		counts[v]++;
	}
	/* Each face ~1000; 700 is > 10 sigma away, so this never flakes. */
	for (i = 0; i < 6; i++)
		g_assert_cmpuint(counts[i], >, 700);
	/* A bound just over 2^31 (the worst case for rejection). */
	for (i = 0; i < 100; i++) {
		g_assert_cmpint(ll_random_uniform(0x80000001u, &v), ==, LL_OK);
		g_assert_cmpuint(v, <=, 0x80000000u);
	}
	for (i = 0; i < 100; i++) {
		g_assert_cmpint(ll_random_uniform(UINT32_MAX, &v), ==, LL_OK);
		g_assert_cmpuint(v, <, UINT32_MAX);
	}
	/* PIN-style: 6 digits. */
	for (i = 0; i < 100; i++) {
		g_assert_cmpint(ll_random_uniform(1000000, &v), ==, LL_OK);
		g_assert_cmpuint(v, <, 1000000);
	}
}

static void test_ct_equal(void)
{
	g_assert_true(ll_ct_equal("abc", "abc", 3));
	g_assert_false(ll_ct_equal("abc", "abd", 3));
	g_assert_false(ll_ct_equal("\x80", "\x00", 1));
	g_assert_true(ll_ct_equal("abc", "abd", 2));
	g_assert_true(ll_ct_equal(NULL, NULL, 0));
	g_assert_false(ll_ct_equal(NULL, "a", 1));

	g_assert_true(ll_ct_streq("token", "token"));
	g_assert_true(ll_ct_streq("", ""));
	g_assert_false(ll_ct_streq("token", "tokem"));
	g_assert_false(ll_ct_streq("token", "token2"));
	g_assert_false(ll_ct_streq("token", "toke"));
	g_assert_false(ll_ct_streq(NULL, "x"));
	g_assert_false(ll_ct_streq("x", NULL));
}

static void test_wipe(void)
{
	char buf[8];
	char *s = strdup("secret");

	memcpy(buf, "secret!", 8);
	ll_wipe(buf, sizeof(buf));
	g_assert_cmpmem(buf, 8, "\0\0\0\0\0\0\0\0", 8);
	ll_wipe(NULL, 0);
	ll_wipe(NULL, 5);
	ll_secret_free(s);
}

/* RFC 4226 appendix D: the secret "12345678901234567890", counts 0..9. */
static void test_hotp_rfc4226(void)
{
	static const char *const want[] = {
		"755224", "287082", "359152", "969429", "338314",
		"254676", "287922", "162583", "399871", "520489",
	};
	const char *key = "12345678901234567890";
	char out[LL_OTP_DIGITS_MAX + 1];
	uint64_t i;

	for (i = 0; i < G_N_ELEMENTS(want); i++) {
		g_assert_cmpint(ll_hotp(LL_OTP_SHA1, key, 20, i, 6, out), ==,
				LL_OK);
		g_assert_cmpstr(out, ==, want[i]);
	}
}

/* RFC 6238 appendix B (8 digits), with the RFC's seed for each hash; the
 * last two rows are past 2038 (a 32-bit time_t would wrap). */
static void test_totp_rfc6238(void)
{
	static const char *const seed[] = {
		[LL_OTP_SHA1] = "12345678901234567890",
		[LL_OTP_SHA256] = "12345678901234567890123456789012",
		[LL_OTP_SHA512] = "1234567890123456789012345678901234567890"
				  "123456789012345678901234",
	};
	static const struct {
		int64_t t;
		const char *code[3];
	} v[] = {
		{ 59, { "94287082", "46119246", "90693936" } },
		{ 1111111109, { "07081804", "68084774", "25091201" } },
		{ 1111111111, { "14050471", "67062674", "99943326" } },
		{ 1234567890, { "89005924", "91819424", "93441116" } },
		{ 2000000000, { "69279037", "90698825", "38618901" } },
		{ 20000000000, { "65353130", "77737706", "47863826" } },
	};
	char out[LL_OTP_DIGITS_MAX + 1];
	size_t i;
	int h;

	for (i = 0; i < G_N_ELEMENTS(v); i++) {
		for (h = LL_OTP_SHA1; h <= LL_OTP_SHA512; h++) {
			g_assert_cmpint(ll_totp((enum ll_otp_hash)h, seed[h],
						strlen(seed[h]), v[i].t, 8,
						out),
					==, LL_OK);
			g_assert_cmpstr(out, ==, v[i].code[h]);
		}
	}
	/* The 6-digit code is the 8-digit one's last six. */
	g_assert_cmpint(ll_totp(LL_OTP_SHA1, seed[0], 20, 59, 6, out), ==,
			LL_OK);
	g_assert_cmpstr(out, ==, "287082");
	g_assert_cmpint(ll_totp_step(59), ==, 1);
	g_assert_cmpint(ll_totp_step(60), ==, 2);
	g_assert_cmpint(ll_totp_step(-1), ==, -1);
	g_assert_cmpint(ll_totp(LL_OTP_SHA1, seed[0], 20, -1, 6, out), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_hotp(LL_OTP_SHA1, seed[0], 20, 0, 5, out), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_hotp(LL_OTP_SHA1, seed[0], 20, 0, 9, out), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_hotp(LL_OTP_SHA1, seed[0], 0, 0, 6, out), ==,
			LL_ERR_INVALID_ARG);
}

/* The window, the replay rule and the refusals of ll_totp_verify. */
static void test_totp_verify(void)
{
	const char *key = "12345678901234567890";
	const int64_t t = 1111111111; /* step 37037037 */
	char code[8];
	int64_t step = 0;
	int d;

	for (d = -2; d <= 2; d++) {
		g_assert_cmpint(ll_totp(LL_OTP_SHA1, key, 20, t + d * 30, 6,
					code),
				==, LL_OK);
		step = 0;
		g_assert_cmpint(ll_totp_verify(key, 20, code, t, 1, 0, &step),
				==,
				d >= -1 && d <= 1 ? LL_OK
						  : LL_ERR_AUTH_FAILED);
		if (d >= -1 && d <= 1)
			g_assert_cmpint(step, ==, 37037037 + d);
	}
	/* Used once: the same step again is refused, a later one taken. */
	g_assert_cmpint(ll_totp(LL_OTP_SHA1, key, 20, t, 6, code), ==, LL_OK);
	g_assert_cmpint(ll_totp_verify(key, 20, code, t, 1, 37037037, &step),
			==, LL_ERR_AUTH_FAILED);
	g_assert_cmpint(ll_totp_verify(key, 20, code, t, 1, 37037036, &step),
			==, LL_OK);
	g_assert_cmpint(step, ==, 37037037);
	g_assert_cmpint(ll_totp_verify(key, 20, "14050", t, 1, 0, &step), ==,
			LL_ERR_AUTH_FAILED);
	g_assert_cmpint(ll_totp_verify(key, 20, "1405047", t, 1, 0, &step), ==,
			LL_ERR_AUTH_FAILED);
	g_assert_cmpint(ll_totp_verify(key, 20, "", t, 1, 0, &step), ==,
			LL_ERR_AUTH_FAILED);
	g_assert_cmpint(ll_totp_verify(key, 20, NULL, t, 1, 0, &step), ==,
			LL_ERR_INVALID_ARG);
}

/* RFC 4648 section 10, without padding; decoding takes either case. */
static void test_base32(void)
{
	static const struct {
		const char *plain, *b32;
	} v[] = {
		{ "", "" },
		{ "f", "MY" },
		{ "fo", "MZXQ" },
		{ "foo", "MZXW6" },
		{ "foob", "MZXW6YQ" },
		{ "fooba", "MZXW6YTB" },
		{ "foobar", "MZXW6YTBOI" },
	};
	uint8_t buf[16];
	size_t i, n;
	char *s, *lower;

	for (i = 0; i < G_N_ELEMENTS(v); i++) {
		s = ll_base32_new(v[i].plain, strlen(v[i].plain));
		g_assert_cmpstr(s, ==, v[i].b32);
		free(s);
		g_assert_cmpint(ll_base32_decode(v[i].b32, buf, sizeof(buf),
						 &n),
				==, LL_OK);
		g_assert_cmpmem(buf, n, v[i].plain, strlen(v[i].plain));
		lower = g_ascii_strdown(v[i].b32, -1);
		g_assert_cmpint(ll_base32_decode(lower, buf, sizeof(buf), &n),
				==, LL_OK);
		g_assert_cmpmem(buf, n, v[i].plain, strlen(v[i].plain));
		g_free(lower);
	}
	g_assert_cmpint(ll_base32_decode("MZXW6===", buf, sizeof(buf), &n), ==,
			LL_OK);
	g_assert_cmpmem(buf, n, "foo", 3);
	g_assert_cmpint(ll_base32_decode("MZXW1", buf, sizeof(buf), &n), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_base32_decode("M", buf, sizeof(buf), &n), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_base32_decode("MZ", buf, sizeof(buf), &n), ==,
			LL_ERR_MALFORMED); /* spare bits not zero */
	g_assert_cmpint(ll_base32_decode("MZ=XW6", buf, sizeof(buf), &n), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_base32_decode("MZXW6YTBOI", buf, 5, &n), ==,
			LL_ERR_TOO_LARGE);
}

/*
 * oathtool (OATH Toolkit) as an independent oracle: random seeds through
 * base32 into its --totp, at times before and after 2038.  The build
 * environment installs it (scripts/deps.sh); its absence fails the test.
 */
static void test_totp_oathtool(void)
{
	static const int64_t times[] = { 59, 1700000000, 2147483647,
					 2147483648, 4102444800 };
	uint8_t seed[LL_TOTP_SEED_LEN];
	char mine[LL_OTP_DIGITS_MAX + 1], now[32], *b32, *out = NULL;
	int round, status;
	size_t i;

	for (round = 0; round < 4; round++) {
		g_assert_cmpint(ll_random_bytes(seed, sizeof(seed)), ==,
				LL_OK);
		b32 = ll_base32_new(seed, sizeof(seed));
		g_assert_nonnull(b32);
		for (i = 0; i < G_N_ELEMENTS(times); i++) {
			char *argv[] = { "oathtool", "--totp", "-b", b32,
					 "-N",       now,      NULL };
			GError *err = NULL;

			snprintf(now, sizeof(now), "@%lld",
				 (long long)times[i]);
			g_assert_true(g_spawn_sync(NULL, argv, NULL,
						   G_SPAWN_SEARCH_PATH, NULL,
						   NULL, &out, NULL, &status,
						   &err));
			g_assert_no_error(err);
			g_assert_cmpint(status, ==, 0);
			g_strchomp(out);
			g_assert_cmpint(ll_totp(LL_OTP_SHA1, seed,
						sizeof(seed), times[i], 6,
						mine),
					==, LL_OK);
			g_assert_cmpstr(mine, ==, out);
			g_free(out);
		}
		free(b32);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/crypto/sha256", test_sha256);
	g_test_add_func("/crypto/hmac_rfc4231", test_hmac_rfc4231);
	g_test_add_func("/crypto/hmac_edges", test_hmac_edges);
	g_test_add_func("/crypto/hkdf_rfc5869", test_hkdf_rfc5869);
	g_test_add_func("/crypto/hkdf_limits", test_hkdf_limits);
	g_test_add_func("/crypto/gcm_vectors", test_gcm_vectors);
	g_test_add_func("/crypto/gcm_args", test_gcm_args);
	g_test_add_func("/crypto/aead_roundtrip", test_aead_roundtrip);
	g_test_add_func("/crypto/aead_tamper", test_aead_tamper);
	g_test_add_func("/crypto/aead_small_buffers", test_aead_small_buffers);
	g_test_add_func("/crypto/hex", test_hex);
	g_test_add_func("/crypto/base64url", test_base64url);
	g_test_add_func("/crypto/random", test_random);
	g_test_add_func("/crypto/random_uniform", test_random_uniform);
	g_test_add_func("/crypto/ct_equal", test_ct_equal);
	g_test_add_func("/crypto/wipe", test_wipe);
	g_test_add_func("/crypto/ed25519", test_ed25519);
	g_test_add_func("/crypto/hotp_rfc4226", test_hotp_rfc4226);
	g_test_add_func("/crypto/totp_rfc6238", test_totp_rfc6238);
	g_test_add_func("/crypto/totp_verify", test_totp_verify);
	g_test_add_func("/crypto/base32", test_base32);
	g_test_add_func("/crypto/totp_oathtool", test_totp_oathtool);
	return g_test_run();
}
