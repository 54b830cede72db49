/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Audit checkpoints (common/relay/core/checkpoint.c): a signed line that
 * formats and parses back, found inside a syslog line, refused when
 * altered or signed by another key, and the reader's specific errors for
 * lines that are no checkpoint or a broken one.
 */
#include <string.h>

#include <glib.h>

#include "ll_checkpoint.h"
#include "ll_crypto.h"
#include "ll_err.h"

static void make(struct ll_checkpoint *cp, uint8_t priv[32], uint8_t pub[32])
{
	memset(cp, 0, sizeof(*cp));
	g_assert_cmpint(ll_ed25519_keygen(priv, pub), ==, LL_OK);
	cp->seq = 42;
	memset(cp->head, 0xab, sizeof(cp->head));
	cp->time = 1796431174;
	cp->keyed_from = 1;
	g_strlcpy(cp->key_id, "1cbdfe4a01007f35", sizeof(cp->key_id));
	g_assert_cmpint(ll_checkpoint_sign(cp, priv), ==, LL_OK);
}

static void test_round_trip(void)
{
	struct ll_checkpoint cp, got;
	uint8_t priv[32], pub[32], other_priv[32], other_pub[32];
	char line[LL_CHECKPOINT_LINE_MAX], *syslog_line;

	make(&cp, priv, pub);
	g_assert_cmpint(ll_checkpoint_format(&cp, line, sizeof(line)), ==,
			LL_OK);
	g_assert_true(g_str_has_prefix(line, LL_CHECKPOINT_TAG));
	g_assert_cmpint(ll_checkpoint_parse(line, &got), ==, LL_OK);
	g_assert_cmpint(got.seq, ==, 42);
	g_assert_cmpmem(got.head, sizeof(got.head), cp.head, sizeof(cp.head));
	g_assert_cmpint(ll_checkpoint_verify(&got, pub), ==, LL_OK);

	/* As journald or syslog keep it: a prefix, a newline. */
	syslog_line = g_strdup_printf("Dec  4 23:59:01 relay lifeline-relay"
				      "[123]: %s\n",
				      line);
	g_assert_cmpint(ll_checkpoint_parse(syslog_line, &got), ==, LL_OK);
	g_assert_cmpint(ll_checkpoint_verify(&got, pub), ==, LL_OK);
	g_free(syslog_line);

	/* Altered, or another signer: refused. */
	got.seq = 43;
	g_assert_cmpint(ll_checkpoint_verify(&got, pub), ==,
			LL_ERR_AUTH_FAILED);
	g_assert_cmpint(ll_ed25519_keygen(other_priv, other_pub), ==, LL_OK);
	g_assert_cmpint(ll_checkpoint_parse(line, &got), ==, LL_OK);
	g_assert_cmpint(ll_checkpoint_verify(&got, other_pub), ==,
			LL_ERR_AUTH_FAILED);
	/* The text says a higher seq than was signed. */
	{
		char *forged = g_strdup(line), *at = strstr(forged, "seq=42");

		g_assert_nonnull(at);
		at[5] = '3';
		g_assert_cmpint(ll_checkpoint_parse(forged, &got), ==, LL_OK);
		g_assert_cmpint(ll_checkpoint_verify(&got, pub), ==,
				LL_ERR_AUTH_FAILED);
		g_free(forged);
	}
}

static void test_bad_lines(void)
{
	static const char *const malformed[] = {
		LL_CHECKPOINT_TAG,
		LL_CHECKPOINT_TAG "seq=x",
		LL_CHECKPOINT_TAG "seq=1 head=zz time=1 keyed_from=0 key_id=- "
				  "sign_key=00 sig=AA",
		LL_CHECKPOINT_TAG "seq=1 head=00 time=1 keyed_from=0 key_id=- "
				  "sign_key=00 sig=AA",
	};
	struct ll_checkpoint cp;
	size_t i;

	g_assert_cmpint(ll_checkpoint_parse("nothing here", &cp), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_checkpoint_parse("", &cp), ==, LL_ERR_NOT_FOUND);
	for (i = 0; i < G_N_ELEMENTS(malformed); i++)
		g_assert_cmpint(ll_checkpoint_parse(malformed[i], &cp), ==,
				LL_ERR_MALFORMED);
	g_assert_cmpint(ll_checkpoint_parse(NULL, &cp), ==,
			LL_ERR_INVALID_ARG);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/checkpoint/round-trip", test_round_trip);
	g_test_add_func("/checkpoint/bad-lines", test_bad_lines);
	return g_test_run();
}
