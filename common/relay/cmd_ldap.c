/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-relay ldap test USER | ldap sync  (docs/API.md, "Directory
 * login").
 *
 * test: the login the relay would do (search-then-bind, the password a
 * line on stdin), and what it found: DN, display name, disabled flag,
 * groups, the mapped technician group.  Changes nothing; never prints
 * the password.
 * sync: what `serve` does every sync_interval_s, at once: technicians
 * follow the directory (api_directory.c), every change audited with
 * actor "cli"; a running relay ends the sessions of those it disabled
 * within a second.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "ll_crypto.h"
#include "ll_ldap.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "ll_relay_api.h"
#include "cmd.h"

/* The password: one line on stdin (wiped by the caller). */
static bool ldap_password_read(char *buf, size_t size)
{
	size_t n;

	if (fgets(buf, (int)size, stdin) == NULL) {
		buf[0] = '\0';
		return true; /* empty: refused as such, before any bind */
	}
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (!feof(stdin)) {
		ll_cmd_fail("ldap test: the password is longer than %d bytes",
			    LL_LDAP_VALUE_MAX);
		return false;
	}
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return true;
}

static void user_print(const struct ll_ldap_config *c,
		       const struct ll_ldap_user *u)
{
	size_t i;

	printf("dn: %s\n", u->dn);
	printf("login: %s\n", u->login);
	printf("display name: %s\n",
	       u->display_name ? u->display_name : "(none)");
	printf("disabled in the directory: %s\n", u->disabled ? "yes" : "no");
	for (i = 0; i < u->n_groups; i++)
		printf("group: %s\n", u->groups[i]);
	if (u->map_index >= 0)
		printf("mapped group: %s -> %s\n",
		       c->map[u->map_index].group_dn,
		       c->map[u->map_index].tech_group);
	else
		printf("mapped group: none (this user may not log in)\n");
	fflush(stdout);
}

static int ldap_test(struct ll_cmd_org *c, const char *user)
{
	const struct ll_ldap_config *cfg;
	struct ll_ldap_user *u = NULL;
	char pw[LL_LDAP_VALUE_MAX + 3], err[512] = "";
	int r, rc = 1;

	if ((cfg = ll_api_ldap_config(&c->relay, c->org_id)) == NULL) {
		ll_cmd_fail("ldap test: org '%s' has no [ldap] group in "
			    "relay.conf",
			    c->org_name);
		return 1;
	}
	if (!ldap_password_read(pw, sizeof(pw)))
		goto out;
	r = ll_ldap_login(cfg, user, pw, &u, err, sizeof(err));
	if (r == LL_ERR_AUTH_FAILED) {
		ll_cmd_fail("ldap test: %s: login refused (wrong password, "
			    "no such user or an empty password): %s",
			    user, err);
		goto out;
	}
	if (r != LL_OK) {
		ll_cmd_fail("ldap test: directory_unavailable: %s", err);
		goto out;
	}
	user_print(cfg, u);
	rc = 0;
out:
	ll_wipe(pw, sizeof(pw));
	ll_ldap_user_free(u);
	return rc;
}

/* One [ldap] group: read, then applied; 0 or 1 after saying why. */
static int ldap_sync_one(struct ll_relay *relay,
			 const struct ll_ldap_config *cfg)
{
	static const struct ll_dir_actor who = { "cli", NULL };
	const char *org = cfg->org ? cfg->org : "(first)";
	struct ll_ldap_user **users = NULL;
	struct ll_dir_counts cnt;
	size_t n = 0;
	char err[512] = "";
	int64_t org_id;
	int r, rc = 1;

	if ((r = ll_api_ldap_org(relay, cfg, &org_id)) != LL_OK) {
		ll_cmd_fail("ldap sync: org %s: %s", org, ll_strerror(r));
		return 1;
	}
	r = ll_ldap_sync_read(cfg, &users, &n, err, sizeof(err));
	if (r != LL_OK) {
		ll_cmd_fail("ldap sync: org %s: directory_unavailable: %s",
			    org, err);
		goto out;
	}
	r = ll_api_ldap_sync_apply(relay, org_id, cfg, users, n, &who, &cnt);
	if (r != LL_OK) {
		ll_cmd_fail("ldap sync: org %s: %s: %s", org, ll_strerror(r),
			    ll_store_errmsg(relay->store));
		goto out;
	}
	printf("ldap sync: org %s: %zu users in mapped groups; %u added, "
	       "%u updated, %u disabled, %u enabled, %u skipped\n",
	       org, n, cnt.added, cnt.updated, cnt.disabled, cnt.enabled,
	       cnt.skipped);
	fflush(stdout);
	rc = 0;
out:
	ll_ldap_user_list_free(users, n);
	return rc;
}

static int ldap_sync(struct ll_cmd_org *c)
{
	const struct ll_ldap_config *cfg;
	size_t i;
	int rc = 0;

	if (c->org_name != NULL) {
		cfg = ll_api_ldap_config(&c->relay, c->org_id);
		if (cfg == NULL) {
			ll_cmd_fail("ldap sync: org '%s' has no [ldap] group "
				    "in relay.conf",
				    c->org_name);
			return 1;
		}
		return ldap_sync_one(&c->relay, cfg);
	}
	if (c->relay.cfg.n_ldap == 0) {
		ll_cmd_fail("ldap sync: relay.conf has no [ldap] group");
		return 1;
	}
	for (i = 0; i < c->relay.cfg.n_ldap; i++)
		if (ldap_sync_one(&c->relay, c->relay.cfg.ldap[i]) != 0)
			rc = 1;
	return rc;
}

static void ldap_usage(FILE *f)
{
	fprintf(f, "Usage: lifeline-relay ldap test USER [--org ORG]   "
		   "(the password on standard input)\n"
		   "       lifeline-relay ldap sync [--org ORG]\n"
		   "All take --state-dir DIR (default " LL_DEFAULT_STATE_DIR
		   ").  The directory is the [ldap] (or [ldap ORG]) group of "
		   "relay.conf.\n");
}

int ll_cmd_ldap(int argc, char **argv)
{
	static const char *const subs[] = { "test", "sync", NULL };
	struct ll_cmd_opts o = { 0 };
	struct ll_cmd_org c = { 0 };
	const char *sub;
	bool test;
	int rc = 2;

	if (!ll_cmd_subcommand("ldap", argc, argv, subs, ldap_usage, &sub,
			       &rc))
		return rc;
	test = strcmp(sub, "test") == 0;
	if (!ll_cmd_parse("ldap", sub, test ? "USER" : "", &o, true, NULL,
			  &argc, &argv))
		goto out;
	if (test ? argc != 2 : argc != 1) {
		ll_cmd_fail("ldap %s: %s", sub,
			    test ? "name one USER" : "takes no argument");
		goto out;
	}
	rc = 1;
	/* sync without --org: every [ldap] group */
	if (ll_cmd_org_open(&c, &o, !test) != 0)
		goto out;
	rc = test ? ldap_test(&c, argv[1]) : ldap_sync(&c);
out:
	ll_cmd_org_close(&c);
	ll_cmd_opts_clear(&o);
	return rc;
}
