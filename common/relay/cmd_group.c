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
 */
#include <stdio.h>
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
	gboolean json;
};

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

static int group_add(struct ll_cmd_org *c, const char *name, uint32_t perms)
{
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
	if (r != 0 ||
	    (r = ll_cmd_audit_append(st, c->org_id, "group.add", "ok",
				     json_pack("{s:s,s:I,s:o}", "group", name,
					       "group_id", (json_int_t)id,
					       "permissions",
					       perms_json(perms)))) != 0 ||
	    (r = ll_store_commit(st)) != 0) {
		ll_store_rollback(st);
		goto store_err;
	}
	printf("group '%s' in org '%s' added: %s\n", name, c->org_name,
	       perms_text(perms, text));
	return 0;
store_err:
	ll_cmd_fail("cannot add group '%s': %s", name, ll_store_errmsg(st));
	return 1;
}

/* set (perms) or remove (remove true): both look at the group first, for
 * the audit's old value and a clear refusal. */
static int group_change(struct ll_cmd_org *c, const char *name, bool remove,
			uint32_t perms)
{
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
	r = remove ? ll_store_group_remove(st, c->org_id, name)
		   : ll_store_group_set_permissions(st, c->org_id, name,
						    perms);
	detail = remove ? json_pack("{s:s,s:I,s:o}", "group", name, "group_id",
				    (json_int_t)g->id, "old_permissions",
				    perms_json(g->permissions))
			: json_pack("{s:s,s:I,s:o,s:o}", "group", name,
				    "group_id", (json_int_t)g->id,
				    "old_permissions",
				    perms_json(g->permissions), "permissions",
				    perms_json(perms));
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
	else if ((g->permissions & ~perms) != 0 && g->members > 0)
		printf("group '%s' in org '%s' now grants %s; a running relay "
		       "ends its members' sessions that hold a permission "
		       "taken away\n",
		       name, c->org_name, perms_text(perms, text));
	else
		printf("group '%s' in org '%s' now grants %s\n", name,
		       c->org_name, perms_text(perms, text));
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
	char *dump;
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
		printf("%-24s %-16s %-7s %s\n", "GROUP", "ORG", "MEMBERS",
		       "PERMISSIONS");
		for (i = 0; i < n; i++)
			printf("%-24s %-16s %-7lld %s\n", list[i]->name,
			       list[i]->org_name, (long long)list[i]->members,
			       perms_text(list[i]->permissions, text));
		fflush(stdout);
		rc = 0;
		goto out;
	}
	if ((arr = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		item = json_pack("{s:s,s:s,s:o,s:I}", "name", list[i]->name,
				 "org", list[i]->org_name, "permissions",
				 perms_json(list[i]->permissions), "members",
				 (json_int_t)list[i]->members);
		if (item == NULL || json_array_append_new(arr, item) != 0)
			goto nomem;
	}
	doc = json_pack("{s:O}", "groups", arr);
	if (doc == NULL ||
	    (dump = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) ==
		    NULL)
		goto nomem;
	printf("%s\n", dump);
	free(dump);
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
		"[--org ORG]\n"
		"       lifeline-relay group set NAME --permissions P,P,... "
		"[--org ORG]\n"
		"       lifeline-relay group list [--org ORG] [--json]\n"
		"       lifeline-relay group remove NAME [--org ORG]\n"
		"Permissions: view, control, files, chat, clipboard, sysinfo, "
		"reports, admin\n"
		"(\"\" for none).  A group with members is not removed.\n"
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
	bool list;
	uint32_t perms = 0;
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
		if (argc != 2) {
			ll_cmd_fail("group %s: %s", sub,
				    argc < 2 ? "name one group"
					     : "takes exactly one NAME");
			goto out;
		}
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
		if (o.permissions == NULL) {
			ll_cmd_fail("group %s: say what the group may do "
				    "(--permissions P,P,...)",
				    sub);
			goto out;
		}
		if (ll_perm_parse_list(o.permissions, &perms) != LL_OK) {
			ll_cmd_fail("group %s: '%s' is not a list of "
				    "permissions (comma-separated, each once: "
				    "view, control, files, chat, clipboard, "
				    "sysinfo, reports, admin)",
				    sub, o.permissions);
			goto out;
		}
	}
	rc = 1;
	if (ll_cmd_org_open(&c, &o.cmd, list) != 0)
		goto out;
	if (strcmp(sub, "add") == 0)
		rc = group_add(&c, name, perms);
	else if (strcmp(sub, "set") == 0)
		rc = group_change(&c, name, false, perms);
	else if (strcmp(sub, "remove") == 0)
		rc = group_change(&c, name, true, 0);
	else
		rc = group_list(&c, &o);
out:
	ll_cmd_org_close(&c);
	ll_cmd_opts_clear(&o.cmd);
	g_free(o.permissions);
	return rc;
}
