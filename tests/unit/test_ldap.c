/* SPDX-License-Identifier: GPL-2.0-or-later */
/* common/ldap: the [ldap] configuration, group_map, RFC 4515 escaping.
 * The directory itself is tested against a real slapd
 * (tests/integration/test_relay_ldap.c). */
#include <string.h>

#include <glib.h>

#include "ll_config.h"
#include "ll_err.h"
#include "ll_ldap.h"

static void test_escape(void)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "alice", "alice" },
		{ "*", "\\2a" },
		{ "*)(uid=*", "\\2a\\29\\28uid=\\2a" },
		{ "a\\b", "a\\5cb" },
		{ "x)(|(objectClass=*)",
		  "x\\29\\28|\\28objectClass=\\2a\\29" },
		{ "J\xc3\xbcrgen", "J\\c3\\bcrgen" },
		{ "a b", "a\\20b" },
		{ "", "" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *e = ll_ldap_escape_value(cases[i].in,
					       strlen(cases[i].in));

		g_assert_cmpstr(e, ==, cases[i].out);
		g_free(e);
	}
	/* a NUL inside the value is escaped, not an end */
	{
		char *e = ll_ldap_escape_value("a\0b", 3);

		g_assert_cmpstr(e, ==, "a\\00b");
		g_free(e);
	}
}

static void test_filter_build(void)
{
	char *f = NULL;

	g_assert_cmpint(
		ll_ldap_filter_build("(&(objectClass=inetOrgPerson)(uid=%s))",
				     "*)(uid=*", &f),
		==, LL_OK);
	g_assert_cmpstr(f, ==,
			"(&(objectClass=inetOrgPerson)(uid=\\2a\\29\\28uid="
			"\\2a))");
	g_free(f);
	g_assert_cmpint(ll_ldap_filter_build("(|(uid=%s)(mail=%s))", "bob",
					     &f),
			==, LL_OK);
	g_assert_cmpstr(f, ==, "(|(uid=bob)(mail=bob))");
	g_free(f);
	/* NULL: a presence match, for the sync */
	g_assert_cmpint(ll_ldap_filter_build("(uid=%s)", NULL, &f), ==, LL_OK);
	g_assert_cmpstr(f, ==, "(uid=*)");
	g_free(f);
	g_assert_cmpint(ll_ldap_filter_build("(pct=100%%)(uid=%s)", "a", &f),
			==, LL_OK);
	g_assert_cmpstr(f, ==, "(pct=100%)(uid=a)");
	g_free(f);
	f = NULL;
	g_assert_cmpint(ll_ldap_filter_build("(uid=%d)", "a", &f), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_ldap_filter_build("(uid=%", "a", &f), ==,
			LL_ERR_INVALID_ARG);
	g_assert_null(f);
}

static void test_login_attribute(void)
{
	char *a;

	a = ll_ldap_filter_login_attribute(
		"(&(objectClass=inetOrgPerson)(uid=%s))");
	g_assert_cmpstr(a, ==, "uid");
	g_free(a);
	a = ll_ldap_filter_login_attribute(
		"(&(objectCategory=person)(sAMAccountName=%s))");
	g_assert_cmpstr(a, ==, "sAMAccountName");
	g_free(a);
	g_assert_null(ll_ldap_filter_login_attribute("(uid=x%s)"));
	g_assert_null(ll_ldap_filter_login_attribute("=%s"));
	g_assert_null(ll_ldap_filter_login_attribute("(uid=*)"));
}

static void test_group_map(void)
{
	struct ll_ldap_group_map *m = NULL;
	char err[160] = "";
	size_t n = 0;

	g_assert_cmpint(ll_ldap_group_map_parse(
				"cn=helpdesk,ou=groups,dc=example,dc=org="
				"support ; cn=admins,dc=example,dc=org=admins;",
				&m, &n, err, sizeof(err)),
			==, LL_OK);
	g_assert_cmpuint(n, ==, 2);
	/* split at the last '=': the DN keeps its own */
	g_assert_cmpstr(m[0].group_dn, ==,
			"cn=helpdesk,ou=groups,dc=example,dc=org");
	g_assert_cmpstr(m[0].tech_group, ==, "support");
	g_assert_cmpstr(m[1].group_dn, ==, "cn=admins,dc=example,dc=org");
	g_assert_cmpstr(m[1].tech_group, ==, "admins");
	ll_ldap_group_map_free(m, n);

	static const char *const bad[] = {
		"",
		";;",
		"cn=a,dc=x=", /* an empty group after the last '=' */
		"support",    /* no '=' */
		"=support",   /* no DN */
		"admins=support" /* a DN without an '=' of its own */,
		"cn=a,dc=x=one;CN=A,dc=x=two", /* the same DN twice */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		m = NULL;
		err[0] = '\0';
		g_assert_cmpint(ll_ldap_group_map_parse(bad[i], &m, &n, err,
							sizeof(err)),
				==, LL_ERR_CONFIG);
		g_assert_null(m);
		g_assert_cmpstr(err, !=, "");
	}
	/* more than LL_LDAP_MAP_MAX pairs */
	{
		GString *s = g_string_new(NULL);

		for (int i = 0; i <= LL_LDAP_MAP_MAX; i++)
			g_string_append_printf(s, "cn=g%d,dc=x=t;", i);
		g_assert_cmpint(ll_ldap_group_map_parse(s->str, &m, &n, err,
							sizeof(err)),
				==, LL_ERR_CONFIG);
		g_string_free(s, TRUE);
	}
}

static void test_group_name(void)
{
	const char *org = "x";

	g_assert_true(ll_ldap_group_name("ldap", &org));
	g_assert_null(org);
	g_assert_true(ll_ldap_group_name("ldap acme", &org));
	g_assert_cmpstr(org, ==, "acme");
	g_assert_false(ll_ldap_group_name("ldapx", NULL));
	g_assert_false(ll_ldap_group_name("ldap ", NULL));
	g_assert_false(ll_ldap_group_name("ldap a b", NULL));
	g_assert_false(ll_ldap_group_name("relay", NULL));
}

#define GOOD                                                                  \
	"uri = ldaps://127.0.0.1:636\n"                                       \
	"ca_file = ca.pem\n"                                                  \
	"bind_dn = cn=svc,dc=example,dc=org\n"                                \
	"bind_password_file = /etc/lifeline/ldap.pw\n"                        \
	"user_base = ou=people,dc=example,dc=org\n"                           \
	"user_filter = (&(objectClass=inetOrgPerson)(uid=%s))\n"              \
	"group_base = ou=groups,dc=example,dc=org\n"                          \
	"group_map = cn=helpdesk,ou=groups,dc=example,dc=org=support\n"

/* Parses "[ldap]\n" + text: the result, the config in *out. */
static int parse(const char *group, const char *text,
		 struct ll_ldap_config **out, char *err, size_t errlen)
{
	struct ll_config *file = NULL;
	char *data = g_strdup_printf("[%s]\n%s", group, text);
	int r;

	r = ll_config_load_data(data, strlen(data), "relay.conf", &file, err,
				errlen);
	g_assert_cmpint(r, ==, LL_OK);
	r = ll_ldap_config_parse(file, group, "/state", out, err, errlen);
	ll_config_free(file);
	g_free(data);
	return r;
}

static void test_config_good(void)
{
	struct ll_ldap_config *c = NULL, *d;
	char err[256] = "";

	g_assert_cmpint(parse("ldap acme", GOOD, &c, err, sizeof(err)), ==,
			LL_OK);
	g_assert_cmpstr(c->org, ==, "acme");
	g_assert_false(c->starttls);
	g_assert_cmpstr(c->ca_file, ==, "/state/ca.pem");
	g_assert_cmpstr(c->bind_password_file, ==, "/etc/lifeline/ldap.pw");
	g_assert_cmpstr(c->login_attribute, ==, "uid");
	g_assert_cmpstr(c->display_name_attribute, ==, "cn");
	g_assert_cmpstr(c->group_member_attribute, ==, "member");
	g_assert_cmpint(c->sync_interval_s, ==, 300);
	g_assert_cmpuint(c->n_map, ==, 1);
	d = ll_ldap_config_dup(c);
	g_assert_nonnull(d);
	g_assert_cmpstr(d->map[0].tech_group, ==, "support");
	g_assert_cmpstr(d->user_filter, ==, c->user_filter);
	ll_ldap_config_free(c);
	ll_ldap_config_free(d);
	c = NULL;
	g_assert_cmpint(parse("ldap",
			      GOOD "starttls = true\nsync_interval_s = 60\n"
				   "display_name_attribute = displayName\n",
			      &c, err, sizeof(err)),
			==, LL_ERR_CONFIG);
	g_assert_nonnull(strstr(err, "starttls is for ldap://"));
	g_assert_null(c);
}

static void test_config_bad(void)
{
	static const struct {
		const char *text;
		const char *says;
	} cases[] = {
		/* no TLS: refused */
		{ "uri = ldap://127.0.0.1\nbind_dn = a=b\n"
		  "bind_password_file = p\nuser_base = a=b\n"
		  "user_filter = (uid=%s)\ngroup_base = a=b\n"
		  "group_map = cn=a,dc=b=c\n",
		  "needs starttls" },
		{ "uri = http://x\nstarttls = true\nbind_dn = a=b\n"
		  "bind_password_file = p\nuser_base = a=b\n"
		  "user_filter = (uid=%s)\ngroup_base = a=b\n"
		  "group_map = cn=a,dc=b=c\n",
		  "must start with" },
		{ "uri = ldaps://x\nbind_dn = a=b\n"
		  "bind_password_file = p\nuser_base = a=b\n"
		  "user_filter = (uid=alice)\ngroup_base = a=b\n"
		  "group_map = cn=a,dc=b=c\n",
		  "user_filter" },
		{ "uri = ldaps://x\nbind_dn = a=b\n"
		  "bind_password_file = p\nuser_base = a=b\n"
		  "user_filter = (uid=%s)(cn=%x)\ngroup_base = a=b\n"
		  "group_map = cn=a,dc=b=c\n",
		  "user_filter" },
		{ "uri = ldaps://x\nbind_dn = a=b\n"
		  "bind_password_file = p\nuser_base = a=b\n"
		  "user_filter = (uid=%s)\ngroup_base = a=b\n",
		  "group_map is missing" },
		{ "uri = ldaps://x\nbind_dn = a=b\n"
		  "user_base = a=b\nuser_filter = (uid=%s)\n"
		  "group_base = a=b\ngroup_map = cn=a,dc=b=c\n",
		  "bind_password_file is missing" },
		{ "uri = ldaps://x\nbind_dn = a=b\n"
		  "bind_password_file = p\nuser_base = a=b\n"
		  "user_filter = (uid=%s)\ngroup_base = a=b\n"
		  "group_map = nodn\n",
		  "group_map" },
		{ "uri = ldaps://x\nbind_dn = a=b\n"
		  "bind_password_file = p\nuser_base = a=b\n"
		  "user_filter = (uid=%s)\ngroup_base = a=b\n"
		  "group_map = cn=a,dc=b=c\nsync_interval_s = 1\n",
		  "sync_interval_s" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct ll_ldap_config *c = NULL;
		char err[256] = "";

		g_assert_cmpint(parse("ldap", cases[i].text, &c, err,
				      sizeof(err)),
				==, LL_ERR_CONFIG);
		g_assert_null(c);
		if (strstr(err, cases[i].says) == NULL)
			g_error("case %zu: '%s' does not say '%s'", i, err,
				cases[i].says);
	}
}

static void test_dn_equal(void)
{
	g_assert_true(
		ll_ldap_dn_equal("uid=alice,ou=people,dc=example,dc=org",
				 "UID=Alice, ou=People,DC=example,dc=org"));
	g_assert_false(ll_ldap_dn_equal("uid=alice,dc=example,dc=org",
					"uid=bob,dc=example,dc=org"));
	g_assert_false(ll_ldap_dn_equal(NULL, "uid=bob"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ldap/escape", test_escape);
	g_test_add_func("/ldap/filter-build", test_filter_build);
	g_test_add_func("/ldap/login-attribute", test_login_attribute);
	g_test_add_func("/ldap/group-map", test_group_map);
	g_test_add_func("/ldap/group-name", test_group_name);
	g_test_add_func("/ldap/config-good", test_config_good);
	g_test_add_func("/ldap/config-bad", test_config_bad);
	g_test_add_func("/ldap/dn-equal", test_dn_equal);
	return g_test_run();
}
