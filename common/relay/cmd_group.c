/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-relay group add|set|list|remove ...
 *
 * Technician groups of an org and their permissions (docs/API.md,
 * "Groups and permissions").  Every change is written to the audit log
 * (actor "cli", the old and the new permissions) in the same
 * transaction as the change.  Narrowing a group takes effect at once:
 * a running relay ends, within a second, the live sessions whose tickets
 * carry a permission the group no longer grants (ll_api_periodic).  A
 * group with members is not removed (left without a group, they would
 * hold every capability): move them first (`technician set --group`).
 * --end-user-cidrs limits where the group's technicians' PINs redeem
 * from, besides the org's end_user_cidrs (both must allow).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "ll_control.h"
#include "ll_store.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "cmd.h"

struct group_opts {
	struct ll_cmd_opts cmd;
	gchar *permissions;
	gchar *end_user_cidrs;
	gboolean json;
};

/* What add or set changes: perms when has_perms, the ranges when cidrs
 * is not NULL (plain form, "" for none). */
struct group_change {
	bool has_perms;
	uint32_t perms;
	char *cidrs;
};

/* The ranges as the audit and --json show them: null for none. */
static json_t *cidrs_json(const char *cidrs)
{
	return cidrs != NULL && cidrs[0] != '\0' ? json_string(cidrs)
						 : json_null();
}

/* The mask as a JSON array of names (new reference). */
static json_t *perms_json(uint32_t mask)
{
	json_t *a = json_array();
	uint32_t bit;

	for (bit = 1; a != NULL && bit <= LL_PERM_ALL; bit <<= 1)
		if ((mask & bit) != 0 && ll_perm_name(bit) != NULL)
			json_array_append_new(a,
					      json_string(ll_perm_name(bit)));
	return a;
}

static const char *perms_text(uint32_t mask, char buf[LL_PERM_TEXT_MAX])
{
	if (ll_perm_format(mask, buf, LL_PERM_TEXT_MAX) != LL_OK)
		buf[0] = '\0';
	return buf[0] != '\0' ? buf : "(none)";
}

static int group_add(struct ll_cmd_org *c, const char *name,
		     const struct group_change *ch)
{
	uint32_t perms = ch->perms;
	struct ll_store *st = c->relay.store;
	char text[LL_PERM_TEXT_MAX];
	int64_t id = 0;
	int r;

	if ((r = ll_store_begin(st)) != 0)
		goto store_err;
	r = ll_store_group_add(st, c->org_id, name, perms, ll_now_unix(), &id);
	if (r == LL_ERR_CONFLICT) {
		ll_store_rollback(st);
		ll_cmd_fail("group '%s' already exists in org '%s'", name,
			    c->org_name);
		return 1;
	}
	if (r == 0 && ch->cidrs != NULL)
		r = ll_store_group_set_end_user_cidrs(st, c->org_id, name,
						      ch->cidrs);
	if (r != 0 ||
	    (r = ll_cmd_audit_append(
		     st, c->org_id, "group.add", "ok",
		     json_pack("{s:s,s:I,s:o,s:o}", "group", name, "group_id",
			       (json_int_t)id, "permissions",
			       perms_json(perms), "end_user_cidrs",
			       cidrs_json(ch->cidrs)))) != 0 ||
	    (r = ll_store_commit(st)) != 0) {
		ll_store_rollback(st);
		goto store_err;
	}
	printf("group '%s' in org '%s' added: %s\n", name, c->org_name,
	       perms_text(perms, text));
	if (ch->cidrs != NULL && ch->cidrs[0] != '\0')
		printf("its technicians' PINs redeem only from %s\n",
		       ch->cidrs);
	return 0;
store_err:
	ll_cmd_fail("cannot add group '%s': %s", name, ll_store_errmsg(st));
	return 1;
}

/* The audit detail of a set: the old and the new of what changed. */
static json_t *set_detail(const char *name, const struct ll_group *g,
			  const struct group_change *ch)
{
	json_t *d = json_pack("{s:s,s:I}", "group", name, "group_id",
			      (json_int_t)g->id);

	if (d != NULL && ch->has_perms) {
		json_object_set_new(d, "old_permissions",
				    perms_json(g->permissions));
		json_object_set_new(d, "permissions", perms_json(ch->perms));
	}
	if (d != NULL && ch->cidrs != NULL) {
		json_object_set_new(d, "old_end_user_cidrs",
				    cidrs_json(g->end_user_cidrs));
		json_object_set_new(d, "end_user_cidrs",
				    cidrs_json(ch->cidrs));
	}
	return d;
}

/* set (ch) or remove (remove true): both look at the group first, for
 * the audit's old value and a clear refusal. */
static int group_change(struct ll_cmd_org *c, const char *name, bool remove,
			const struct group_change *ch)
{
	uint32_t perms = 0;
	struct ll_store *st = c->relay.store;
	struct ll_group *g = NULL;
	char text[LL_PERM_TEXT_MAX];
	json_t *detail;
	int rc = 1, r;

	if ((r = ll_store_begin(st)) != 0)
		goto store_err;
	if ((r = ll_store_group_find(st, c->org_id, name, &g)) != 0) {
		ll_store_rollback(st);
		if (r != LL_ERR_NOT_FOUND)
			goto store_err;
		ll_cmd_fail("group '%s' not found in org '%s'", name,
			    c->org_name);
		goto out;
	}
	if (remove && g->members > 0) {
		ll_store_rollback(st);
		ll_cmd_fail("group '%s' in org '%s' still has %lld "
			    "technician(s); move them to another group first "
			    "(technician set USER --group G)",
			    name, c->org_name, (long long)g->members);
		goto out;
	}
	perms = remove || !ch->has_perms ? g->permissions : ch->perms;
	if (remove)
		r = ll_store_group_remove(st, c->org_id, name);
	else if ((r = ll_store_group_set_permissions(st, c->org_id, name,
						     perms)) == 0 &&
		 ch->cidrs != NULL)
		r = ll_store_group_set_end_user_cidrs(st, c->org_id, name,
						      ch->cidrs);
	detail = remove ? json_pack("{s:s,s:I,s:o}", "group", name, "group_id",
				    (json_int_t)g->id, "old_permissions",
				    perms_json(g->permissions))
			: set_detail(name, g, ch);
	if (r != 0 ||
	    (r = ll_cmd_audit_append(st, c->org_id,
				     remove ? "group.remove" : "group.set",
				     "ok", detail)) != 0 ||
	    (r = ll_store_commit(st)) != 0) {
		ll_store_rollback(st);
		goto store_err;
	}
	if (remove)
		printf("group '%s' in org '%s' removed\n", name, c->org_name);
	else if (ch->has_perms && (g->permissions & ~perms) != 0 &&
		 g->members > 0)
		printf("group '%s' in org '%s' now grants %s; a running relay "
		       "ends its members' sessions that hold a permission "
		       "taken away\n",
		       name, c->org_name, perms_text(perms, text));
	else if (ch->has_perms)
		printf("group '%s' in org '%s' now grants %s\n", name,
		       c->org_name, perms_text(perms, text));
	if (!remove && ch->cidrs != NULL)
		printf("group '%s' in org '%s': its technicians' PINs redeem "
		       "from %s\n",
		       name, c->org_name,
		       ch->cidrs[0] != '\0' ? ch->cidrs
					    : "wherever the org allows");
	rc = 0;
	goto out;
store_err:
	ll_cmd_fail("cannot change group '%s': %s", name, ll_store_errmsg(st));
out:
	ll_group_free(g);
	return rc;
}

static int group_list(struct ll_cmd_org *c, const struct group_opts *o)
{
	struct ll_group **list = NULL;
	json_t *arr = NULL, *doc = NULL, *item;
	char text[LL_PERM_TEXT_MAX];
	size_t n = 0, i;
	int rc = 1;

	/* without --org every org's groups are listed */
	if (ll_store_group_list(c->relay.store, o->cmd.org ? c->org_id : 0,
				&list, &n) != 0) {
		ll_cmd_fail("cannot list groups: %s",
			    ll_store_errmsg(c->relay.store));
		goto out;
	}
	if (!o->json) {
		printf("%-24s %-16s %-7s %-40s %s\n", "GROUP", "ORG",
		       "MEMBERS", "PERMISSIONS", "END-USER CIDRS");
		for (i = 0; i < n; i++)
			printf("%-24s %-16s %-7lld %-40s %s\n", list[i]->name,
			       list[i]->org_name, (long long)list[i]->members,
			       perms_text(list[i]->permissions, text),
			       list[i]->end_user_cidrs
				       ? list[i]->end_user_cidrs
				       : "(any)");
		fflush(stdout);
		rc = 0;
		goto out;
	}
	if ((arr = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		item = json_pack("{s:s,s:s,s:o,s:I,s:o}", "name",
				 list[i]->name, "org", list[i]->org_name,
				 "permissions",
				 perms_json(list[i]->permissions), "members",
				 (json_int_t)list[i]->members,
				 "end_user_cidrs",
				 cidrs_json(list[i]->end_user_cidrs));
		if (item == NULL || json_array_append_new(arr, item) != 0)
			goto nomem;
	}
	doc = json_pack("{s:O}", "groups", arr);
	if (!ll_cmd_print_json(doc))
		goto nomem;
	fflush(stdout);
	rc = 0;
	goto out;
nomem:
	ll_cmd_fail("out of memory");
out:
	json_decref(doc);
	json_decref(arr);
	ll_group_list_free(list, n);
	return rc;
}

static void group_usage(FILE *f)
{
	fprintf(f,
		"Usage: lifeline-relay group add NAME --permissions P,P,... "
		"[--end-user-cidrs CIDRS] [--org ORG]\n"
		"       lifeline-relay group set NAME [--permissions P,P,...] "
		"[--end-user-cidrs CIDRS] [--org ORG]\n"
		"       lifeline-relay group list [--org ORG] [--json]\n"
		"       lifeline-relay group remove NAME [--org ORG]\n"
		"Permissions: view, control, files, chat, clipboard, sysinfo, "
		"reports, admin\n"
		"(\"\" for none).  A group with members is not removed.\n"
		"--end-user-cidrs: where its technicians' PINs redeem from, "
		"as the policy\n"
		"end_user_cidrs (\"\" for wherever the org allows).\n"
		"All take --state-dir DIR (default " LL_DEFAULT_STATE_DIR
		").\n");
}

int ll_cmd_group(int argc, char **argv)
{
	struct group_opts o;
	GOptionEntry perm_opts[] = {
		{ "permissions", 0, 0, G_OPTION_ARG_STRING, &o.permissions,
		  "what the group's technicians may do: a comma-separated "
		  "list of view, control, files, chat, clipboard, sysinfo, "
		  "reports, admin",
		  "P,P,..." },
		{ "end-user-cidrs", 0, 0, G_OPTION_ARG_STRING,
		  &o.end_user_cidrs,
		  "where the group's technicians' PINs may be redeemed "
		  "from, comma-separated IPv4/IPv6 ranges (\"\": wherever "
		  "the org allows)",
		  "CIDRS" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	GOptionEntry list_opts[] = { { "json", 0, 0, G_OPTION_ARG_NONE,
				       &o.json,
				       "print JSON instead of a table", NULL },
				     { NULL, 0, 0, 0, NULL, NULL, NULL } };
	static const char *const subs[] = { "add", "set", "list", "remove",
					    NULL };
	struct ll_cmd_org c = { 0 };
	const GOptionEntry *extra = NULL;
	const char *sub, *name = NULL;
	struct group_change ch = { 0 };
	char err[256] = "";
	bool list;
	int rc = 2;

	memset(&o, 0, sizeof(o));
	if (!ll_cmd_subcommand("group", argc, argv, subs, group_usage, &sub,
			       &rc))
		return rc;
	list = strcmp(sub, "list") == 0;
	if (strcmp(sub, "add") == 0 || strcmp(sub, "set") == 0)
		extra = perm_opts;
	else if (list)
		extra = list_opts;
	if (!ll_cmd_parse("group", sub, list ? "- list groups" : "NAME",
			  &o.cmd, true, extra, &argc, &argv))
		goto out;
	if (list && argc > 1) {
		ll_cmd_fail("group list: unexpected argument '%s'", argv[1]);
		goto out;
	}
	if (!list) {
		if (!ll_cmd_one_arg("group", sub, argc, "group", "NAME"))
			goto out;
		name = argv[1];
		if (!ll_group_name_valid(name)) {
			ll_cmd_fail("group %s: '%s' is not a valid group name "
				    "(1-%d of A-Z a-z 0-9 . _ - and spaces, "
				    "starting with a letter or digit)",
				    sub, name, LL_GROUP_NAME_MAX);
			goto out;
		}
	}
	if (extra == perm_opts) {
		/* set may change either; add needs the permissions */
		if (o.permissions == NULL && strcmp(sub, "add") == 0) {
			ll_cmd_fail("group add: say what the group may do "
				    "(--permissions P,P,...)");
			goto out;
		}
		if (o.permissions == NULL && o.end_user_cidrs == NULL) {
			ll_cmd_fail("group set: say what to change "
				    "(--permissions P,P,... and/or "
				    "--end-user-cidrs CIDRS)");
			goto out;
		}
		ch.has_perms = o.permissions != NULL;
		if (ch.has_perms &&
		    ll_perm_parse_list(o.permissions, &ch.perms) != LL_OK) {
			ll_cmd_fail("group %s: '%s' is not a list of "
				    "permissions (comma-separated, each once: "
				    "view, control, files, chat, clipboard, "
				    "sysinfo, reports, admin)",
				    sub, o.permissions);
			goto out;
		}
		if (o.end_user_cidrs != NULL &&
		    ll_group_cidrs_parse(o.end_user_cidrs, &ch.cidrs, err,
					 sizeof(err)) != LL_OK) {
			ll_cmd_fail("group %s: %s", sub,
				    err[0] != '\0' ? err : "out of memory");
			goto out;
		}
	}
	rc = 1;
	if (ll_cmd_org_open(&c, &o.cmd, list) != 0)
		goto out;
	if (strcmp(sub, "add") == 0)
		rc = group_add(&c, name, &ch);
	else if (strcmp(sub, "set") == 0)
		rc = group_change(&c, name, false, &ch);
	else if (strcmp(sub, "remove") == 0)
		rc = group_change(&c, name, true, &ch);
	else
		rc = group_list(&c, &o);
out:
	ll_cmd_org_close(&c);
	ll_cmd_opts_clear(&o.cmd);
	g_free(o.permissions);
	g_free(o.end_user_cidrs);
	free(ch.cidrs);
	return rc;
}
