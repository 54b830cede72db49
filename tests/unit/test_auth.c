/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Passwords, PINs and secret hashes.  Each Argon2 hash costs ~50 ms, so
 * the tests that must run it do so a handful of times; parameter and
 * syntax checks happen before any hashing and cost nothing.
 */
#include <argon2.h>
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_err.h"

#define PREFIX "$argon2id$v=19$m=19456,t=2,p=1$"

/* A PHC string for pw with the given parameters (cheap ones are fast). */
static char *phc_with(uint32_t t, uint32_t m, uint32_t p, const char *pw,
		      size_t saltlen, size_t hashlen)
{
	uint8_t salt[64];
	size_t len;
	char *enc;

	memset(salt, 0x5a, sizeof(salt));
	len = argon2_encodedlen(t, m, p, (uint32_t)saltlen, (uint32_t)hashlen,
				Argon2_id);
	enc = g_malloc(len);
	g_assert_cmpint(argon2id_hash_encoded(t, m, p, pw, strlen(pw), salt,
					      saltlen, hashlen, enc, len),
			==, ARGON2_OK);
	return enc;
}

static void test_hash_verify(void)
{
	char *a = ll_password_hash_new("correct horse");
	char *b = ll_password_hash_new("correct horse");

	g_assert_nonnull(a);
	g_assert_nonnull(b);
	g_assert_true(g_str_has_prefix(a, PREFIX));
	/* Random salt: the same password never hashes the same twice. */
	g_assert_cmpstr(a, !=, b);
	g_assert_cmpint(ll_password_verify(a, "correct horse"), ==, LL_OK);
	g_assert_cmpint(ll_password_verify(b, "correct horse"), ==, LL_OK);
	g_assert_cmpint(ll_password_verify(a, "correct horsE"), ==,
			LL_ERR_AUTH_FAILED);
	g_assert_cmpint(ll_password_verify(a, ""), ==, LL_ERR_AUTH_FAILED);
	g_assert_cmpint(ll_password_verify(NULL, "x"), ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_password_verify(a, NULL), ==, LL_ERR_INVALID_ARG);
	g_assert_null(ll_password_hash_new(NULL));
	free(a);
	free(b);
}

static void test_malformed(void)
{
	/* A valid string to derive broken ones from (hash of "x", our
	 * parameters, 16-byte salt, 32-byte hash). */
	static const char good_tail[] =
		"c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE";
	static const char *const bad[] = {
		"",
		"plaintext",
		"$argon2id$",
		"$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		"$argon2d$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		/* version 0x10 and a missing version */
		"$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		"$argon2id$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		/* parameters out of order, leading zero, sign, overflow */
		"$argon2id$v=19$t=2,m=19456,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		"$argon2id$v=19$m=019456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		"$argon2id$v=19$m=+19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		"$argon2id$v=19$m=99999999999,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		/* truncated: no hash, empty hash, no salt */
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$",
		"$argon2id$v=19$m=19456,t=2,p=1$$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		/* salt 8 bytes, hash 16 bytes: shorter than ours */
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2Q",
		/* padding, bad characters, impossible length, trailing junk */
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA==$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8a-",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdAxyz$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE$",
		"$argon2id$v=19$m=19456,t=2,p=1,keyid=abc$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		" $argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
	};
	char *huge;
	size_t i;

	/* The control: the base string itself passes the syntax check
	 * (and fails only on the password). */
	{
		char *ok = g_strconcat(PREFIX, good_tail, NULL);

		g_assert_cmpint(ll_password_verify(ok, "x"), ==,
				LL_ERR_AUTH_FAILED);
		g_free(ok);
	}
	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		if (ll_password_verify(bad[i], "x") != LL_ERR_MALFORMED)
			g_error("accepted: \"%s\"", bad[i]);
	}
	/* Oversized: refused before any parsing. */
	huge = g_strnfill(100000, 'A');
	memcpy(huge, PREFIX, strlen(PREFIX));
	g_assert_cmpint(ll_password_verify(huge, "x"), ==, LL_ERR_MALFORMED);
	g_free(huge);
}

static void test_weak_params(void)
{
	/* Genuinely computed with weak parameters: the password is right,
	 * but a tampered database must not get it accepted. */
	char *weak_m = phc_with(2, 4096, 1, "pw", 16, 32);
	char *weak_t = phc_with(1, 19456, 1, "pw", 16, 32);
	char *short_hash = phc_with(2, 19456, 1, "pw", 16, 16);
	char *short_salt = phc_with(2, 19456, 1, "pw", 8, 32);
	char *stronger = phc_with(3, 19456, 1, "pw", 16, 32);
	static const char *const absurd[] = {
		/* over 1 GiB, too many passes, lanes out of range */
		"$argon2id$v=19$m=1048577,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		"$argon2id$v=19$m=4294967295,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		"$argon2id$v=19$m=19456,t=100000,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		"$argon2id$v=19$m=19456,t=2,p=0$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
		"$argon2id$v=19$m=19456,t=2,p=255$c29tZXNhbHRzb21lc2FsdA$"
		"3N9+4tB9Fq1VcbE3Hd3l2WmW3Q0wZr3rWcS2pD6v8aE",
	};
	size_t i;

	g_assert_cmpint(ll_password_verify(weak_m, "pw"), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_password_verify(weak_t, "pw"), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_password_verify(short_hash, "pw"), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_password_verify(short_salt, "pw"), ==,
			LL_ERR_MALFORMED);
	/* Stronger than ours is fine (a later version may raise them). */
	g_assert_cmpint(ll_password_verify(stronger, "pw"), ==, LL_OK);
	for (i = 0; i < G_N_ELEMENTS(absurd); i++)
		g_assert_cmpint(ll_password_verify(absurd[i], "pw"), ==,
				LL_ERR_MALFORMED);
	g_free(weak_m);
	g_free(weak_t);
	g_free(short_hash);
	g_free(short_salt);
	g_free(stronger);
}

static void test_dummy(void)
{
	gint64 t0, t1;

	g_assert_cmpint(ll_password_verify_dummy("anything"), ==,
			LL_ERR_AUTH_FAILED);
	/* Second call uses the cached hash and still does the work (well
	 * over the ~1 ms a skipped hash would take; timing is only a sanity
	 * bound here, never a measurement). */
	t0 = g_get_monotonic_time();
	g_assert_cmpint(ll_password_verify_dummy(""), ==, LL_ERR_AUTH_FAILED);
	t1 = g_get_monotonic_time();
	g_assert_cmpint(t1 - t0, >, 5000);
	g_assert_cmpint(ll_password_verify_dummy(NULL), ==,
			LL_ERR_AUTH_FAILED);
}

static void test_generate(void)
{
	static const char allowed[] = "23456789abcdefghjkmnpqrstuvwxyz"
				      "ABCDEFGHJKLMNPQRSTUVWXYZ";
	bool seen[256] = { false };
	char *prev = NULL;
	size_t i, j, distinct = 0;

	for (i = 0; i < 300; i++) {
		char *pw = ll_password_generate_new();

		g_assert_nonnull(pw);
		g_assert_cmpuint(strlen(pw), ==, 20);
		for (j = 0; j < 20; j++) {
			g_assert_nonnull(strchr(allowed, pw[j]));
			seen[(unsigned char)pw[j]] = true;
		}
		if (prev != NULL)
			g_assert_cmpstr(pw, !=, prev);
		ll_secret_free(prev);
		prev = pw;
	}
	ll_secret_free(prev);
	/* 6000 draws over 55 symbols: every one shows up. */
	for (i = 0; i < 256; i++)
		distinct += seen[i];
	g_assert_cmpuint(distinct, ==, strlen(allowed));
}

static void test_pin_format(void)
{
	char pin[LL_PIN_MAX_DIGITS + 1];
	int digits;

	for (digits = LL_PIN_MIN_DIGITS; digits <= LL_PIN_MAX_DIGITS;
	     digits++) {
		memset(pin, 'x', sizeof(pin));
		g_assert_cmpint(ll_pin_generate(digits, pin), ==, LL_OK);
		g_assert_cmpuint(strlen(pin), ==, (size_t)digits);
		g_assert_true(ll_pin_well_formed(pin));
	}
	g_assert_cmpint(ll_pin_generate(6, NULL), ==, LL_ERR_INVALID_ARG);
	memset(pin, 'x', sizeof(pin));
	g_assert_cmpint(ll_pin_generate(5, pin), ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_pin_generate(11, pin), ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(pin[0], ==, 'x');

	g_assert_true(ll_pin_well_formed("000000"));
	g_assert_true(ll_pin_well_formed("999999"));
	g_assert_true(ll_pin_well_formed("1234567"));
	g_assert_true(ll_pin_well_formed("0123456789"));
	g_assert_false(ll_pin_well_formed(NULL));
	g_assert_false(ll_pin_well_formed(""));
	g_assert_false(ll_pin_well_formed("12345"));
	g_assert_false(ll_pin_well_formed("01234567890"));
	g_assert_false(ll_pin_well_formed("12a456"));
	g_assert_false(ll_pin_well_formed(" 12345"));
	g_assert_false(ll_pin_well_formed("123456 "));
	g_assert_false(ll_pin_well_formed("-123456"));
	g_assert_false(ll_pin_well_formed("123456\n"));
	g_assert_false(ll_pin_well_formed("\xef\xbc\x91\x32\x33\x34\x35\x36"));
}

static void test_pin_distribution(void)
{
	enum { N = 20000 };
	unsigned digit[LL_PIN_MIN_DIGITS][10] = { { 0 } };
	GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	unsigned dups = 0, low = 0, i, j;
	double sum = 0;

	for (i = 0; i < N; i++) {
		char pin[LL_PIN_MAX_DIGITS + 1];
		long v;

		g_assert_cmpint(ll_pin_generate(6, pin), ==, LL_OK);
		g_assert_true(ll_pin_well_formed(pin));
		for (j = 0; j < LL_PIN_MIN_DIGITS; j++)
			digit[j][pin[j] - '0']++;
		v = strtol(pin, NULL, 10);
		sum += (double)v;
		low += v < 100000;
		if (!g_hash_table_add(seen, GINT_TO_POINTER(v + 1)))
			dups++;
	}
	/* Every digit in every position ~2000 times (sd ~42). */
	for (j = 0; j < LL_PIN_MIN_DIGITS; j++)
		for (i = 0; i < 10; i++) {
			g_assert_cmpuint(digit[j][i], >, 1700);
			g_assert_cmpuint(digit[j][i], <, 2300);
		}
	/* Leading zeros are drawn (~10%), the mean is ~500000 (sd ~2000),
	 * and repeats are at the birthday rate (~200), not more. */
	g_assert_cmpuint(low, >, 1500);
	g_assert_cmpuint(low, <, 2500);
	g_assert_cmpfloat(sum / N, >, 485000.0);
	g_assert_cmpfloat(sum / N, <, 515000.0);
	g_assert_cmpuint(dups, <, 300);
	g_hash_table_destroy(seen);
}

static void test_secret_hash(void)
{
	static const uint8_t abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
		0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
		0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	uint8_t out[32];

	g_assert_cmpint(ll_secret_hash("abc", out), ==, LL_OK);
	g_assert_cmpmem(out, 32, abc, 32);
	g_assert_cmpint(ll_secret_hash(NULL, out), ==, LL_ERR_INVALID_ARG);
}

static void test_pin_mac(void)
{
	/* HMAC-SHA256(key = 00 01 .. 1f, "123456") */
	static const uint8_t want[32] = {
		0x8b, 0xa5, 0x39, 0xf5, 0xf9, 0x32, 0xc3, 0xfc,
		0x8a, 0x67, 0xc2, 0xb8, 0x66, 0xe2, 0x5b, 0xbc,
		0x32, 0x66, 0x37, 0xf3, 0xc6, 0xc8, 0x8b, 0x7b,
		0x0e, 0x2b, 0x66, 0x6e, 0x3c, 0xb3, 0x30, 0x66,
	};
	uint8_t key[32], out[32], other[32];
	size_t i;

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	g_assert_cmpint(ll_pin_mac(key, "123456", out), ==, LL_OK);
	g_assert_cmpmem(out, 32, want, 32);
	/* Another key, another MAC: a stolen database without the key
	 * does not give the PINs away. */
	key[0] ^= 1;
	g_assert_cmpint(ll_pin_mac(key, "123456", other), ==, LL_OK);
	g_assert_cmpint(memcmp(out, other, 32), !=, 0);
	g_assert_cmpint(ll_pin_mac(NULL, "123456", out), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_pin_mac(key, NULL, out), ==, LL_ERR_INVALID_ARG);
}

static void test_problem(void)
{
	char *gen = ll_password_generate_new();
	char big[LL_PASSWORD_MAX + 2];

	g_assert_nonnull(gen);
	/* A generated password passes the rule a chosen one must pass. */
	g_assert_null(ll_password_problem(gen));
	ll_secret_free(gen);
	g_assert_null(ll_password_problem("12345678"));
	g_assert_null(ll_password_problem("mot de passe \xc3\xa9t\xc3\xa9"));
	g_assert_nonnull(ll_password_problem("1234567"));
	g_assert_nonnull(ll_password_problem(""));
	g_assert_nonnull(ll_password_problem(NULL));
	g_assert_nonnull(ll_password_problem("line one\nline two"));
	g_assert_nonnull(ll_password_problem("tab\there!"));
	g_assert_nonnull(ll_password_problem("delete\x7fme!"));
	memset(big, 'a', sizeof(big));
	big[LL_PASSWORD_MAX] = '\0';
	g_assert_null(ll_password_problem(big));
	big[LL_PASSWORD_MAX] = 'a';
	big[LL_PASSWORD_MAX + 1] = '\0';
	g_assert_nonnull(ll_password_problem(big));
}

/* A channel credential: its shape, its round trip, and that the MAC binds
 * the key, the channel id and the handle. */
static void test_channel_credential(void)
{
	uint8_t key[32], handle[LL_CHANNEL_HANDLE_LEN];
	uint8_t h2[LL_CHANNEL_HANDLE_LEN], mac[32], want[32];
	char *a, *b;

	memset(key, 1, sizeof(key));
	memset(handle, 2, sizeof(handle));
	a = ll_channel_credential_new(key, 7, handle);
	g_assert_nonnull(a);
	g_assert_cmpuint(strlen(a), ==, LL_CHANNEL_CREDENTIAL_LEN);
	g_assert_true(ll_channel_credential_well_formed(a));
	g_assert_cmpint(ll_channel_credential_parse(a, h2, mac), ==, LL_OK);
	g_assert_cmpmem(h2, sizeof(h2), handle, sizeof(handle));
	g_assert_cmpint(ll_channel_credential_mac(key, 7, handle, want), ==,
			LL_OK);
	g_assert_cmpmem(mac, sizeof(mac), want, sizeof(want));
	/* another id, another key: another MAC */
	b = ll_channel_credential_new(key, 8, handle);
	g_assert_cmpstr(a, !=, b);
	ll_secret_free(b);
	key[0] ^= 1;
	b = ll_channel_credential_new(key, 7, handle);
	g_assert_cmpstr(a, !=, b);
	ll_secret_free(b);
	/* shape */
	a[LL_CHANNEL_CREDENTIAL_LEN - 1] = '\0';
	g_assert_false(ll_channel_credential_well_formed(a));
	g_assert_cmpint(ll_channel_credential_parse(a, h2, mac), ==,
			LL_ERR_MALFORMED);
	g_assert_false(ll_channel_credential_well_formed(NULL));
	g_assert_false(ll_channel_credential_well_formed(
		"llch1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="));
	g_assert_false(ll_channel_credential_well_formed("123456"));
	ll_secret_free(a);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/auth/password/hash_verify", test_hash_verify);
	g_test_add_func("/auth/password/malformed", test_malformed);
	g_test_add_func("/auth/password/weak_params", test_weak_params);
	g_test_add_func("/auth/password/dummy", test_dummy);
	g_test_add_func("/auth/password/generate", test_generate);
	g_test_add_func("/auth/password/problem", test_problem);
	g_test_add_func("/auth/pin/format", test_pin_format);
	g_test_add_func("/auth/pin/distribution", test_pin_distribution);
	g_test_add_func("/auth/secret_hash", test_secret_hash);
	g_test_add_func("/auth/pin_mac", test_pin_mac);
	g_test_add_func("/auth/channel_credential", test_channel_credential);
	return g_test_run();
}
