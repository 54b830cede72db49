/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Argon2id password hashing through libargon2, stored as PHC strings.
 *
 * The PHC string comes from the database, which an attacker who can write
 * the file controls.  libargon2 would happily verify against whatever
 * parameters the string names, so we parse it ourselves first: weaker
 * parameters than ours would make an offline guess (and our own verify)
 * cheap, absurdly large ones would let one login attempt eat the relay's
 * memory or CPU.
 */
#include <argon2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ll_auth.h"
#include "ll_build.h"
#include "ll_crypto.h"
#include "ll_log.h"
#include "ll_util.h"

#define LL_ARGON2_T 2
#define LL_ARGON2_M 19456 /* KiB: 19 MiB, OWASP's first recommendation */
#define LL_ARGON2_P 1
#define LL_ARGON2_SALT_LEN 16
#define LL_ARGON2_HASH_LEN 32

/* Bounds for PHC strings we accept on verify. */
#define LL_ARGON2_MAX_M (1024u * 1024u) /* KiB: 1 GiB */
#define LL_ARGON2_MAX_T 16u
#define LL_ARGON2_MAX_P 8u
#define LL_ARGON2_MAX_BIN 64u /* salt and hash, bytes */
#define LL_PHC_MAX_LEN 256u

/* No 0/O/o, 1/l/I/i: the one-time password is read off a terminal. */
static const char pw_alphabet[] = "23456789"
				  "abcdefghjkmnpqrstuvwxyz"
				  "ABCDEFGHJKLMNPQRSTUVWXYZ";
#define LL_GENERATED_PW_LEN 20

#if LL_TEST_HOOKS
/*
 * The test gate (ll_auth.h): compiled only with -Dtest_hooks=true, idle
 * until `serve --test-hash-gate FILE` names the file.  Set once before
 * any thread hashes, read-only afterwards.
 */
static char *test_gate_path;

int ll_password_test_gate_use(const char *path)
{
	if (path == NULL)
		return LL_ERR_INVALID_ARG;
	free(test_gate_path);
	if ((test_gate_path = strdup(path)) == NULL)
		return LL_ERR_NOMEM;
	return LL_OK;
}

static void test_gate_wait(void)
{
	const struct timespec tick = { 0, 2 * 1000 * 1000 };
	bool said = false;

	if (test_gate_path == NULL)
		return;
	/* Waiting for a file is all this hook does: a test's way to hold
	 * a hash on a worker as long as it likes. */
	while (access(test_gate_path, F_OK) == 0) {
		if (!said)
			ll_info("test hash gate: a hash waits for %s to go",
				test_gate_path);
		said = true;
		nanosleep(&tick, NULL);
	}
}
#else
static void test_gate_wait(void)
{
}
#endif

char *ll_password_hash_new(const char *password)
{
	uint8_t salt[LL_ARGON2_SALT_LEN];
	char *enc = NULL;
	size_t enc_len;
	int rc;

	if (password == NULL)
		return NULL;
	test_gate_wait();
	enc_len = argon2_encodedlen(LL_ARGON2_T, LL_ARGON2_M, LL_ARGON2_P,
				    LL_ARGON2_SALT_LEN, LL_ARGON2_HASH_LEN,
				    Argon2_id);
	if (ll_random_bytes(salt, sizeof(salt)) != LL_OK)
		goto out;
	if ((enc = malloc(enc_len)) == NULL)
		goto out;
	rc = argon2id_hash_encoded(LL_ARGON2_T, LL_ARGON2_M, LL_ARGON2_P,
				   password, strlen(password), salt,
				   sizeof(salt), LL_ARGON2_HASH_LEN, enc,
				   enc_len);
	if (rc != ARGON2_OK)
		LL_FREE_AND_NULL(free, enc);
out:
	ll_wipe(salt, sizeof(salt));
	return enc;
}

/* Parses a decimal without sign or leading zeros; advances *p. */
static bool parse_u32(const char **p, uint32_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	size_t n = 0;

	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return false;
	while (s[n] >= '0' && s[n] <= '9') {
		v = v * 10 + (uint64_t)(s[n] - '0');
		if (v > UINT32_MAX)
			return false;
		n++;
	}
	if (n == 0)
		return false;
	*p = s + n;
	*out = (uint32_t)v;
	return true;
}

static bool expect(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

static bool is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/*
 * Unpadded standard base64 of min..max bytes up to the next '$' or NUL;
 * advances *p past it.
 */
static bool parse_b64(const char **p, size_t min, size_t max)
{
	const char *s = *p;
	size_t n = 0, bytes;

	while (is_b64(s[n]))
		n++;
	if (n % 4 == 1)
		return false;
	bytes = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	if (bytes < min || bytes > max)
		return false;
	*p = s + n;
	return true;
}

/*
 * Checks the whole string: "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH" with
 * our parameters as the floor and sane ceilings.  LL_ERR_MALFORMED for
 * anything else.
 */
static int phc_check(const char *phc)
{
	const char *p = phc;
	uint32_t v, m, t, par;

	if (strnlen(phc, LL_PHC_MAX_LEN + 1) > LL_PHC_MAX_LEN)
		return LL_ERR_MALFORMED;
	if (!expect(&p, "$argon2id$v=") || !parse_u32(&p, &v) ||
	    !expect(&p, "$m=") || !parse_u32(&p, &m) || !expect(&p, ",t=") ||
	    !parse_u32(&p, &t) || !expect(&p, ",p=") || !parse_u32(&p, &par) ||
	    !expect(&p, "$") ||
	    !parse_b64(&p, LL_ARGON2_SALT_LEN, LL_ARGON2_MAX_BIN) ||
	    !expect(&p, "$") ||
	    !parse_b64(&p, LL_ARGON2_HASH_LEN, LL_ARGON2_MAX_BIN) ||
	    *p != '\0')
		return LL_ERR_MALFORMED;
	if (v != ARGON2_VERSION_13)
		return LL_ERR_MALFORMED;
	if (m < LL_ARGON2_M || m > LL_ARGON2_MAX_M || t < LL_ARGON2_T ||
	    t > LL_ARGON2_MAX_T || par < LL_ARGON2_P || par > LL_ARGON2_MAX_P)
		return LL_ERR_MALFORMED;
	return LL_OK;
}

int ll_password_verify(const char *phc, const char *password)
{
	int r, rc;

	if (phc == NULL || password == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = phc_check(phc)) != LL_OK)
		return r;
	test_gate_wait();
	/* argon2_verify compares the digests in constant time. */
	rc = argon2id_verify(phc, password, strlen(password));
	switch (rc) {
	case ARGON2_OK:
		return LL_OK;
	case ARGON2_VERIFY_MISMATCH:
		return LL_ERR_AUTH_FAILED;
	case ARGON2_MEMORY_ALLOCATION_ERROR:
		return LL_ERR_NOMEM;
	case ARGON2_DECODING_FAIL:
	case ARGON2_DECODING_LENGTH_FAIL:
	case ARGON2_INCORRECT_TYPE:
	case ARGON2_SALT_TOO_SHORT:
	case ARGON2_SALT_TOO_LONG:
	case ARGON2_OUTPUT_TOO_SHORT:
	case ARGON2_OUTPUT_TOO_LONG:
		return LL_ERR_MALFORMED;
	default:
		return LL_ERR_INTERNAL;
	}
}

/* The fixed hash unknown users are checked against, made on first use. */
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char *dummy_phc;

static void dummy_init(void)
{
	char *pw = ll_random_token_new(32);

	/* Nobody knows this password: the dummy can never match. */
	if (pw != NULL)
		dummy_phc = ll_password_hash_new(pw);
	ll_secret_free(pw);
}

int ll_password_verify_dummy(const char *password)
{
	static const uint8_t salt[LL_ARGON2_SALT_LEN];
	uint8_t out[LL_ARGON2_HASH_LEN];

	if (password == NULL)
		return LL_ERR_AUTH_FAILED;
	pthread_once(&dummy_once, dummy_init);
	if (dummy_phc != NULL) {
		(void)ll_password_verify(dummy_phc, password);
	} else {
		/* Could not make one (no memory, no randomness): still spend
		 * the same work so timing does not tell users apart. */
		(void)argon2id_hash_raw(LL_ARGON2_T, LL_ARGON2_M, LL_ARGON2_P,
					password, strlen(password), salt,
					sizeof(salt), out, sizeof(out));
		ll_wipe(out, sizeof(out));
	}
	return LL_ERR_AUTH_FAILED;
}

bool ll_username_valid(const char *u)
{
	size_t i, n;

	if (u == NULL || (n = strlen(u)) == 0 || n > LL_USERNAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = u[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') ||
		      (i > 0 &&
		       (c == '.' || c == '_' || c == '-' || c == '@'))))
			return false;
	}
	return true;
}

const char *ll_password_problem(const char *password)
{
	size_t i, n;

	if (password == NULL)
		return "no password given";
	n = strnlen(password, LL_PASSWORD_MAX + 1);
	if (n < LL_PASSWORD_MIN)
		return "the password is shorter than 8 characters";
	if (n > LL_PASSWORD_MAX)
		return "the password is longer than 1024 bytes";
	for (i = 0; i < n; i++)
		if ((unsigned char)password[i] < 0x20 ||
		    (unsigned char)password[i] == 0x7f)
			return "the password must not contain control "
			       "characters";
	return NULL;
}

char *ll_password_generate_new(void)
{
	char *pw;
	uint32_t k;
	size_t i;

	if ((pw = malloc(LL_GENERATED_PW_LEN + 1)) == NULL)
		return NULL;
	for (i = 0; i < LL_GENERATED_PW_LEN; i++) {
		if (ll_random_uniform(sizeof(pw_alphabet) - 1, &k) != LL_OK) {
			ll_wipe(pw, i);
			free(pw);
			return NULL;
		}
		pw[i] = pw_alphabet[k];
	}
	pw[LL_GENERATED_PW_LEN] = '\0';
	return pw;
}
