/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Address ranges of the relay's configuration (common/relay/core/cidr.c). */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "ll_err.h"
#include "ll_cidr.h"
#include "ll_relay.h"

static struct ll_cidr_list *parse_ok(const char *text)
{
	struct ll_cidr_list *l = NULL;
	char err[128] = "";

	if (ll_cidr_list_parse(text, &l, err, sizeof(err)) != LL_OK)
		g_error("'%s' refused: %s", text, err);
	g_assert_nonnull(l);
	return l;
}

static void test_default_loopback(void)
{
	struct ll_cidr_list *l = parse_ok("127.0.0.0/8,::1/128");

	g_assert_cmpuint(ll_cidr_list_len(l), ==, 2);
	g_assert_true(ll_cidr_list_match(l, "127.0.0.1"));
	g_assert_true(ll_cidr_list_match(l, "127.255.1.2"));
	g_assert_true(ll_cidr_list_match(l, "::1"));
	/* A mapped address is its IPv4 address. */
	g_assert_true(ll_cidr_list_match(l, "::ffff:127.0.0.9"));
	g_assert_false(ll_cidr_list_match(l, "128.0.0.1"));
	g_assert_false(ll_cidr_list_match(l, "126.255.255.255"));
	g_assert_false(ll_cidr_list_match(l, "::2"));
	g_assert_false(ll_cidr_list_match(l, "::ffff:10.0.0.1"));
	/* Not an address, or nothing: never a match. */
	g_assert_false(ll_cidr_list_match(l, "localhost"));
	g_assert_false(ll_cidr_list_match(l, ""));
	g_assert_false(ll_cidr_list_match(l, NULL));
	g_assert_false(ll_cidr_list_match(NULL, "127.0.0.1"));
	ll_cidr_list_free(l);
	ll_cidr_list_free(NULL);
}

static void test_prefixes(void)
{
	struct ll_cidr_list *l = parse_ok(
		" 10.1.2.3 ,\t192.168.0.0/23, 2001:db8:0:8::/61, "
		"::ffff:172.16.0.0/108, 0.0.0.0/0 ");

	g_assert_cmpuint(ll_cidr_list_len(l), ==, 5);
	g_assert_true(ll_cidr_list_match(l, "10.1.2.3"));
	g_assert_true(ll_cidr_list_match(l, "192.168.1.255"));
	g_assert_true(ll_cidr_list_match(l, "2001:db8:0:f::1"));
	g_assert_false(ll_cidr_list_match(l, "2001:db8:0:10::1"));
	g_assert_false(ll_cidr_list_match(l, "2001:db8:0:7::1"));
	/* 0.0.0.0/0 is every IPv4 address and no IPv6 one. */
	g_assert_true(ll_cidr_list_match(l, "203.0.113.7"));
	g_assert_false(ll_cidr_list_match(l, "2001:db9::1"));
	ll_cidr_list_free(l);

	l = parse_ok("192.168.0.0/23");
	g_assert_false(ll_cidr_list_match(l, "192.168.2.0"));
	g_assert_false(ll_cidr_list_match(l, "10.1.2.4"));
	ll_cidr_list_free(l);
	/* The mapped form with a prefix counts the 96 bits of the map. */
	l = parse_ok("::ffff:172.16.0.0/108");
	g_assert_true(ll_cidr_list_match(l, "172.31.255.255"));
	g_assert_false(ll_cidr_list_match(l, "172.32.0.0"));
	ll_cidr_list_free(l);
	l = parse_ok("::/0");
	g_assert_true(ll_cidr_list_match(l, "2001:db8::1"));
	g_assert_false(ll_cidr_list_match(l, "10.0.0.1"));
	ll_cidr_list_free(l);
}

static void test_empty(void)
{
	struct ll_cidr_list *l = parse_ok("");

	g_assert_cmpuint(ll_cidr_list_len(l), ==, 0);
	g_assert_false(ll_cidr_list_match(l, "127.0.0.1"));
	ll_cidr_list_free(l);
	l = parse_ok("  \t ");
	g_assert_cmpuint(ll_cidr_list_len(l), ==, 0);
	ll_cidr_list_free(l);
}

static void test_refused(void)
{
	static const struct {
		const char *text, *msg_part;
	} cases[] = {
		{ "127.0.0.1,", "empty item" },
		{ ",127.0.0.1", "empty item" },
		{ "127.0.0.1,,::1", "empty item" },
		{ "127.0.0.1, ,::1", "empty item" },
		{ "localhost", "not an IPv4 or IPv6 address" },
		{ "127.1", "not an IPv4 or IPv6 address" },
		{ "[::1]/128", "not an IPv4 or IPv6 address" },
		{ "10.0.0.0/33", "out of range" },
		{ "::/129", "out of range" },
		{ "::ffff:10.0.0.0/95", "out of range" },
		{ "10.0.0.0/", "not a number" },
		{ "10.0.0.0/+8", "not a number" },
		{ "10.0.0.0/ 8", "not a number" },
		{ "10.0.0.0/8x", "not a number" },
		{ "10.0.0.0/0008", "not a number" },
		/* A typo more often than not: say so. */
		{ "10.0.0.1/8", "bits set past the prefix" },
		{ "2001:db8::1/64", "bits set past the prefix" },
		{ "127.0.0.0 /8", "not an IPv4 or IPv6 address" },
	};
	struct ll_cidr_list *l = (struct ll_cidr_list *)&l;
	struct ll_cidr_list *const sentinel = l;
	GString *many = g_string_new("");
	char err[128];
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		err[0] = '\0';
		g_assert_cmpint(ll_cidr_list_parse(cases[i].text, &l, err,
						   sizeof(err)),
				==, LL_ERR_CONFIG);
		/* Untouched on failure. */
		g_assert_true(l == sentinel);
		if (strstr(err, cases[i].msg_part) == NULL)
			g_error("'%s': message '%s' lacks '%s'", cases[i].text,
				err, cases[i].msg_part);
	}
	for (i = 0; i <= LL_CIDR_LIST_MAX; i++)
		g_string_append_printf(many, "%s10.0.%zu.%zu", i ? "," : "",
				       i / 256, i % 256);
	g_assert_cmpint(ll_cidr_list_parse(many->str, &l, err, sizeof(err)),
			==, LL_ERR_CONFIG);
	g_assert_nonnull(strstr(err, "more than"));
	g_string_free(many, TRUE);
	g_assert_cmpint(ll_cidr_list_parse(NULL, &l, err, sizeof(err)), ==,
			LL_ERR_INVALID_ARG);
}

/* The client a trusted proxy names: its own (last) entry only. */
static void test_forwarded(void)
{
	static const struct {
		const char *fwd, *xff, *want; /* want NULL: none */
	} cases[] = {
		{ NULL, "10.1.2.3", "10.1.2.3" },
		{ NULL, " 10.9.9.9 , 10.1.2.3 ", "10.1.2.3" },
		{ NULL, "10.1.2.3, 2001:db8::1", "2001:db8::1" },
		{ NULL, "10.1.2.3,", NULL },
		{ NULL, "evil.example", NULL },
		{ NULL, "10.1.2.3:80", NULL },
		{ NULL, "", NULL },
		{ "for=192.0.2.60;proto=http", "10.0.0.1", "192.0.2.60" },
		{ "for=1.1.1.1, For=\"[2001:db8:cafe::17]:4711\"", NULL,
		  "2001:db8:cafe::17" },
		{ "proto=https;for=\"192.0.2.43:47011\"", NULL, "192.0.2.43" },
		{ "for=unknown", "10.0.0.1", NULL },
		{ "for=_hidden", NULL, NULL },
		{ "for=\"[2001:db8::1\"", NULL, NULL },
		{ "proto=https", NULL, NULL },
		{ "for=\"", NULL, NULL },
	};
	char out[64];
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		bool ok = ll_cidr_forwarded_client(cases[i].fwd, cases[i].xff,
						   out, sizeof(out));

		g_test_message("case %zu", i);
		g_assert_cmpint(ok, ==, cases[i].want != NULL);
		if (ok)
			g_assert_cmpstr(out, ==, cases[i].want);
	}
	g_assert_false(ll_cidr_forwarded_client(NULL, NULL, out, sizeof(out)));
	/* too long for out: refused, not cut */
	g_assert_false(ll_cidr_forwarded_client(NULL, "2001:db8::1", out, 8));
}

/* Policy values of the CIDR and origin kinds, as policy set keeps them. */
static void test_policy_values(void)
{
	static const struct {
		const char *key, *in, *want; /* want NULL: refused */
	} cases[] = {
		{ "technician_cidrs", " 10.0.0.0/8 , fd00::/8",
		  "10.0.0.0/8,"
		  "fd00::/8" },
		{ "technician_cidrs", "", "" },
		{ "technician_cidrs", "10.0.0.1/8", NULL },
		{ "trusted_proxies", "::1/129", NULL },
		{ "end_user_cidrs", "192.0.2.7", "192.0.2.7" },
		{ "allowed_origins", "HTTPS://Help.Example.COM.",
		  "https://help.example.com" },
		{ "allowed_origins",
		  "https://a.example:443, http://b.example:80",
		  "https://a.example,http://b.example" },
		{ "allowed_origins", "https://a.example.:8443",
		  "https://a.example:8443" },
		{ "allowed_origins", "http://a.example:443",
		  "http://a.example:443" },
		{ "allowed_origins", "https://[::1]:8443",
		  "https://[::1]:8443" },
		{ "allowed_origins", "https://a.example..", NULL },
		{ "allowed_origins", "https://.", NULL },
		{ "allowed_origins", "https://a.example/", NULL },
		{ "allowed_origins", "https://*.example", NULL },
		{ "allowed_origins", "null", NULL },
		{ "require_org_scoped_redeem", "true", "true" },
		{ "require_org_scoped_redeem", "TRUE", NULL },
		{ "internal_only", "false", "false" },
		{ "internal_only", "1", NULL },
		{ "pin_lock_default", "shortcut", "shortcut" },
		{ "pin_lock_default", "none", NULL },
	};
	char err[256], *canon;
	size_t i;
	int r;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		canon = NULL;
		r = ll_policy_parse(ll_policy_key_find(cases[i].key),
				    cases[i].in, &canon, err, sizeof(err));
		g_test_message("%s = '%s': %s", cases[i].key, cases[i].in,
			       r == LL_OK ? canon : err);
		if (cases[i].want == NULL) {
			g_assert_cmpint(r, ==, LL_ERR_INVALID_ARG);
			g_assert_nonnull(strstr(err, cases[i].key));
		} else {
			g_assert_cmpint(r, ==, LL_OK);
			g_assert_cmpstr(canon, ==, cases[i].want);
		}
		free(canon);
	}
	/* the request's Origin: byte for byte against the plain list */
	g_assert_true(ll_policy_origin_listed("https://a.example,https://b",
					      "https://b"));
	g_assert_false(ll_policy_origin_listed("https://a.example",
					       "https://a.example."));
	g_assert_false(ll_policy_origin_listed("https://a.example",
					       "https://A.example"));
	g_assert_false(ll_policy_origin_listed("https://a.example",
					       "https://a.exampl"));
	g_assert_false(ll_policy_origin_listed("https://a.example", ""));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cidr/default_loopback", test_default_loopback);
	g_test_add_func("/cidr/prefixes", test_prefixes);
	g_test_add_func("/cidr/empty", test_empty);
	g_test_add_func("/cidr/refused", test_refused);
	g_test_add_func("/cidr/forwarded", test_forwarded);
	g_test_add_func("/cidr/policy-values", test_policy_values);
	return g_test_run();
}
