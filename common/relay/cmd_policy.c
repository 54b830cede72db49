/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-relay policy set KEY VALUE | unset KEY | show [--json]
 *                [--org ORG]
 *
 * Per-org policy: the keys, their values and defaults are the table of
 * common/relay/core/policy.c (docs/API.md lists them).  Every change is
 * written to the audit log (actor "cli") with the old and the new value,
 * in the same transaction as the change.  A running relay reads policy
 * per request, so a change takes effect without a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "ll_store.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "cmd.h"

static void policy_usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: lifeline-relay policy set KEY VALUE [--org ORG]\n"
		   "       lifeline-relay policy unset KEY [--org ORG]\n"
		   "       lifeline-relay policy show [--org ORG] [--json]\n"
		   "All take --state-dir DIR (default " LL_DEFAULT_STATE_DIR
		   ").\n\nKeys:\n");
	for (i = 0; i < ll_policy_key_count; i++)
		fprintf(f, "  %-26s %s\n", ll_policy_keys[i].name,
			ll_policy_keys[i].summary);
}

/* The org's value of k now (plain text, caller frees), and whether it is
 * the org's own. */
static int current(struct ll_cmd_org *c, const struct ll_policy_key *k,
		   char **v, bool *set)
{
	int r = ll_policy_get_text(c->relay.store, &c->relay.cfg, c->org_id,
				   k->name, v, set);

	if (r != LL_OK)
		ll_cmd_fail("cannot read the policy of org '%s': %s",
			    c->org_name, ll_store_errmsg(c->relay.store));
	return r;
}

/*
 * Sets (value != NULL) or unsets k, audited as policy.set / policy.unset
 * with the value in force before and after.
 */
static int policy_change(struct ll_cmd_org *c, const struct ll_policy_key *k,
			 const char *value)
{
	struct ll_store *st = c->relay.store;
	char *old = NULL, *now = NULL;
	bool old_set = false;
	char errbuf[256];
	int r, rc = 1;

	if (value != NULL) {
		/* stored in its plain form: "08" is kept as "8" */
		if (ll_policy_parse(k, value, &now, errbuf, sizeof(errbuf)) !=
		    LL_OK) {
			ll_cmd_fail("policy set: %s", errbuf);
			return 2;
		}
	} else if ((now = ll_policy_default_text(k, &c->relay.cfg)) == NULL) {
		ll_cmd_fail("out of memory");
		return 1;
	}
	if ((r = ll_store_begin(st)) != LL_OK)
		goto store_err;
	if (current(c, k, &old, &old_set) != LL_OK) {
		ll_store_rollback(st);
		goto out;
	}
	if (value == NULL && !old_set) {
		ll_store_rollback(st);
		printf("policy: %s was not set for org '%s'; it stays at its "
		       "default %s\n",
		       k->name, c->org_name, now);
		rc = 0;
		goto out;
	}
	r = value != NULL ? ll_store_policy_set(st, c->org_id, k->name, now)
			  : ll_store_policy_unset(st, c->org_id, k->name);
	if (r != LL_OK ||
	    (r = ll_cmd_audit_append(
		     st, c->org_id, value ? "policy.set" : "policy.unset",
		     "ok",
		     json_pack("{s:s,s:s,s:o,s:o,s:b,s:b}", "org", c->org_name,
			       "key", k->name, "old",
			       ll_policy_value_json(k, old), "new",
			       ll_policy_value_json(k, now), "old_default",
			       !old_set, "new_default", value == NULL))) !=
		    LL_OK ||
	    (r = ll_store_commit(st)) != LL_OK) {
		ll_store_rollback(st);
		goto store_err;
	}
	printf("policy: %s = %s%s for org '%s' (was %s%s)\n", k->name, now,
	       value == NULL ? ", the default," : "", c->org_name, old,
	       old_set ? "" : ", the default");
	rc = 0;
	goto out;
store_err:
	ll_cmd_fail("cannot change the policy of org '%s': %s", c->org_name,
		    ll_store_errmsg(st));
out:
	free(old);
	free(now);
	return rc;
}

static int policy_show(struct ll_cmd_org *c, bool json)
{
	json_t *doc = json_object();
	char *v = NULL;
	size_t i;
	bool set;
	int rc = 1;

	if (doc == NULL)
		goto nomem;
	if (!json)
		printf("%-26s %-12s %s\n", "KEY", "VALUE", "SOURCE");
	for (i = 0; i < ll_policy_key_count; i++) {
		const struct ll_policy_key *k = &ll_policy_keys[i];

		if (current(c, k, &v, &set) != LL_OK)
			goto out;
		if (json) {
			if (json_object_set_new(doc, k->name,
						ll_policy_value_json(k, v)))
				goto nomem;
		} else {
			printf("%-26s %-12s %s\n", k->name,
			       v[0] != '\0' ? v : "(none)",
			       set ? "org" : "default");
		}
		LL_FREE_AND_NULL(free, v);
	}
	if (json) {
		if (!ll_cmd_print_json(doc))
			goto nomem;
	}
	fflush(stdout);
	rc = 0;
	goto out;
nomem:
	ll_cmd_fail("out of memory");
out:
	free(v);
	json_decref(doc);
	return rc;
}

/* The arguments after the subcommand's options: KEY [VALUE]. */
static int policy_args(const char *sub, int argc, char **argv,
		       const struct ll_policy_key **k, const char **value)
{
	int want = strcmp(sub, "set") == 0     ? 3
		   : strcmp(sub, "unset") == 0 ? 2
					       : 1;

	if (argc != want) {
		ll_cmd_fail("policy %s: %s", sub,
			    want == 3   ? "takes KEY VALUE"
			    : want == 2 ? "takes one KEY"
					: "takes no argument");
		return 2;
	}
	if (want == 1)
		return 0;
	if ((*k = ll_policy_key_find(argv[1])) == NULL) {
		ll_cmd_fail("policy %s: unknown key '%s' (lifeline-relay "
			    "policy --help lists them)",
			    sub, argv[1]);
		return 2;
	}
	if (want == 3)
		*value = argv[2];
	return 0;
}

int ll_cmd_policy(int argc, char **argv)
{
	static const char *const subs[] = { "set", "unset", "show", NULL };
	struct ll_cmd_opts o = { 0 };
	struct ll_cmd_org c = { 0 };
	gboolean json = FALSE;
	const GOptionEntry show_opts[] = {
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json,
		  "print {KEY: VALUE, ...} as JSON instead of a table", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	const struct ll_policy_key *k = NULL;
	const char *sub, *value = NULL;
	int rc = 2;

	if (!ll_cmd_subcommand("policy", argc, argv, subs, policy_usage, &sub,
			       &rc))
		return rc;
	if (!ll_cmd_parse("policy", sub,
			  strcmp(sub, "set") == 0     ? "KEY VALUE"
			  : strcmp(sub, "unset") == 0 ? "KEY"
						      : "- show the policy",
			  &o, true,
			  strcmp(sub, "show") == 0 ? show_opts : NULL, &argc,
			  &argv))
		goto out;
	if ((rc = policy_args(sub, argc, argv, &k, &value)) != 0)
		goto out;
	rc = 1;
	if (ll_cmd_org_open(&c, &o, false) != 0)
		goto out;
	if (strcmp(sub, "show") == 0)
		rc = policy_show(&c, json);
	else
		rc = policy_change(&c, k, value);
out:
	ll_cmd_org_close(&c);
	ll_cmd_opts_clear(&o);
	return rc;
}
