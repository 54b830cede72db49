/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-relay org add ORG --name "Display Name" | set ORG --name ... |
 *                show ORG [--json]
 *
 * `org add` makes a further org on a multi-tenant relay (init made the
 * first): its name is what paths (/o/ORG/), `--org` options and signed
 * applet configurations carry, so it is kept to lowercase letters,
 * digits, '.', '_' and '-'.
 *
 * An org's display name is what end users read for who asks (the
 * applet's permission window and session bar, through the redeem
 * answer); the org's name (ORG, "default") is an identifier they never
 * see.  `init --org-name` sets the first org's; this command changes it
 * later.  A change is written to the audit log (actor "cli") with the
 * old and the new value, in the same transaction; a running relay reads
 * it at every redeem, so it takes effect without a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "ll_store.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "cmd.h"

struct org_opts {
	struct ll_cmd_opts cmd;
	gchar *name;
	gboolean json;
};

static void org_usage(FILE *f)
{
	fprintf(f,
		"Usage: lifeline-relay org add ORG --name \"Display Name\"\n"
		"       lifeline-relay org set ORG --name \"Display Name\"\n"
		"       lifeline-relay org show ORG [--json]\n"
		"Both take --state-dir DIR (default " LL_DEFAULT_STATE_DIR
		").\n");
}

static int org_set(struct ll_cmd_org *c, const struct org_opts *o)
{
	struct ll_store *st = c->relay.store;
	char *old = NULL;
	int rc = 1, r;

	if ((r = ll_store_begin(st)) != 0 ||
	    (r = ll_store_org_display_name(st, c->org_id, &old)) != 0 ||
	    (r = ll_store_org_set_display_name(st, c->org_id, o->name)) != 0 ||
	    (r = ll_cmd_audit_append(st, c->org_id, "org.set", "ok",
				     json_pack("{s:s,s:s?,s:s}", "org",
					       c->org_name, "old_display_name",
					       old, "display_name",
					       o->name))) != 0 ||
	    (r = ll_store_commit(st)) != 0) {
		ll_store_rollback(st);
		ll_cmd_fail("cannot change org '%s': %s", c->org_name,
			    ll_store_errmsg(st));
		goto out;
	}
	printf("org '%s' is shown as \"%s\"\n", c->org_name, o->name);
	rc = 0;
out:
	free(old);
	return rc;
}

/* An org's name: 1..64 bytes of [a-z0-9._-], not starting with '.'. */
static bool org_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '_' || s[i] == '-'))
			return false;
	return i > 0 && i <= 64 && s[0] != '.';
}

static int org_add(const struct org_opts *o, const char *org)
{
	struct ll_relay relay;
	struct ll_store *st;
	char errbuf[512];
	int64_t id = 0;
	int rc = 1, r;

	memset(&relay, 0, sizeof(relay));
	if (!org_name_ok(org)) {
		ll_cmd_fail("org add: '%s' is not an org name: 1 to 64 "
			    "lowercase letters, digits, '.', '_' or '-'",
			    org);
		return 2;
	}
	if (ll_relay_open_state(ll_cmd_state_dir(&o->cmd), &relay, errbuf,
				sizeof(errbuf)) != 0) {
		ll_cmd_fail("%s", errbuf);
		return 1;
	}
	st = relay.store;
	if ((r = ll_store_begin(st)) != 0)
		goto fail;
	if ((r = ll_store_org_find(st, org, &id)) == LL_OK) {
		ll_store_rollback(st);
		ll_cmd_fail("org add: org '%s' exists already", org);
		goto out;
	}
	if (r != LL_ERR_NOT_FOUND ||
	    (r = ll_store_org_create(st, org, ll_now_unix(), &id)) != 0 ||
	    (r = ll_store_org_set_display_name(st, id, o->name)) != 0 ||
	    (r = ll_cmd_audit_append(st, id, "org.add", "ok",
				     json_pack("{s:s,s:s}", "org", org,
					       "display_name", o->name))) !=
		    0 ||
	    (r = ll_store_commit(st)) != 0)
		goto fail;
	printf("org '%s' added, shown as \"%s\"\n", org, o->name);
	rc = 0;
	goto out;
fail:
	ll_store_rollback(st);
	ll_cmd_fail("cannot add org '%s': %s", org, ll_store_errmsg(st));
out:
	ll_relay_close_state(&relay);
	return rc;
}

static int org_show(struct ll_cmd_org *c, const struct org_opts *o)
{
	char *name = NULL;
	bool ok;
	json_t *doc;
	int rc = 1;

	if (ll_store_org_display_name(c->relay.store, c->org_id, &name) != 0) {
		ll_cmd_fail("cannot read org '%s': %s", c->org_name,
			    ll_store_errmsg(c->relay.store));
		return 1;
	}
	if (o->json) {
		doc = json_pack("{s:s,s:s?}", "org", c->org_name,
				"display_name", name);
		ok = ll_cmd_print_json(doc);
		json_decref(doc);
		if (!ok) {
			ll_cmd_fail("out of memory");
			goto out;
		}
	} else {
		printf("org:          %s\ndisplay name: %s\n", c->org_name,
		       name ? name
			    : "(none: end users read \"a technician\")");
	}
	rc = 0;
out:
	free(name);
	return rc;
}

int ll_cmd_org(int argc, char **argv)
{
	struct org_opts o;
	GOptionEntry set_opts[] = {
		{ "name", 0, 0, G_OPTION_ARG_STRING, &o.name,
		  "the display name end users see (\"Example Corp IT\")",
		  "NAME" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	GOptionEntry show_opts[] = { { "json", 0, 0, G_OPTION_ARG_NONE,
				       &o.json, "print JSON instead of text",
				       NULL },
				     { NULL, 0, 0, 0, NULL, NULL, NULL } };
	static const char *const subs[] = { "add", "set", "show", NULL };
	struct ll_cmd_org c = { 0 };
	const char *sub;
	bool set;
	int rc = 2;

	memset(&o, 0, sizeof(o));
	if (!ll_cmd_subcommand("org", argc, argv, subs, org_usage, &sub, &rc))
		return rc;
	set = strcmp(sub, "set") == 0 || strcmp(sub, "add") == 0;
	/* ORG is the argument here, not --org */
	if (!ll_cmd_parse("org", sub, "ORG", &o.cmd, false,
			  set ? set_opts : show_opts, &argc, &argv))
		goto out;
	if (!ll_cmd_one_arg("org", sub, argc, "ORG", "ORG"))
		goto out;
	if (set && o.name == NULL) {
		ll_cmd_fail("org %s: %s", sub,
			    sub[0] == 'a' ? "give the org's display name "
					    "(--name)"
					  : "say what to change (--name)");
		goto out;
	}
	if (set &&
	    !ll_cmd_display_name_ok(sub[0] == 'a' ? "org add" : "org set",
				    o.name))
		goto out;
	if (strcmp(sub, "add") == 0) {
		rc = org_add(&o, argv[1]);
		goto out;
	}
	o.cmd.org = g_strdup(argv[1]);
	rc = 1;
	if (ll_cmd_org_open(&c, &o.cmd, false) != 0)
		goto out;
	rc = set ? org_set(&c, &o) : org_show(&c, &o);
out:
	ll_cmd_org_close(&c);
	ll_cmd_opts_clear(&o.cmd);
	g_free(o.name);
	return rc;
}
