/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-relay channel add NAME [--org ORG] [--group G]
 *                channel list [--org ORG] [--json]
 *                channel remove NAME [--org ORG]
 *
 * Channels are calling cards (docs/ARCHITECTURE.md, "Channels"): an
 * applet started with a channel's credential waits in the org's queue
 * until a technician picks the user up.  `add` prints the credential as
 * the only line on stdout; the relay can derive it again
 * (ll_cmd_channel_credential) for a signed applet configuration, so it
 * is never stored.  Every change is audited (actor "cli").
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_store.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "cmd.h"

#define CHANNEL_NAME_MAX 64

/* What add and list take beyond the common options. */
struct channel_opts {
	gchar *group;
	gboolean json;
};

/* Channel and group names: 1..64 of A-Z a-z 0-9 . _ -, starting with a
 * letter or digit (they appear in desktop files and package names). */
static bool channel_name_valid(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0 || n > CHANNEL_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') ||
		      (i > 0 && (c == '.' || c == '_' || c == '-'))))
			return false;
	}
	return true;
}

int ll_cmd_channel_credential(struct ll_relay *relay, const char *org,
			      const char *name, char **out)
{
	struct ll_channel *ch = NULL;
	char *org_name = NULL, *cred;
	int64_t org_id = 0;
	int r;

	if (ll_cmd_org_resolve(relay->store, org, &org_id, &org_name) != 0)
		return 1;
	r = ll_store_channel_find(relay->store, org_id, name, &ch);
	if (r != LL_OK) {
		if (r == LL_ERR_NOT_FOUND)
			ll_cmd_fail("no channel '%s' in org '%s' (lifeline-"
				    "relay channel list shows them)",
				    name, org_name);
		else
			ll_cmd_fail("cannot read channel '%s': %s", name,
				    ll_store_errmsg(relay->store));
		free(org_name);
		return 1;
	}
	cred = ll_channel_credential_new(relay->mac_key, ch->id, ch->handle);
	ll_channel_free(ch);
	free(org_name);
	if (cred == NULL) {
		ll_cmd_fail("cannot derive the channel's credential");
		return 1;
	}
	*out = cred;
	return 0;
}

static int channel_add(struct ll_cmd_org *c, const struct channel_opts *o,
		       const char *name)
{
	struct ll_store *st = c->relay.store;
	uint8_t handle[LL_CHANNEL_HANDLE_LEN];
	char *cred = NULL;
	int64_t id = 0;
	int r;

	if (ll_random_bytes(handle, sizeof(handle)) != 0) {
		ll_cmd_fail("no randomness for the channel's handle");
		return 1;
	}
	if ((r = ll_store_begin(st)) != LL_OK)
		goto store_err;
	r = ll_store_channel_add(st, c->org_id, name, o->group, handle,
				 ll_now_unix(), &id);
	if (r == LL_ERR_CONFLICT) {
		ll_store_rollback(st);
		ll_cmd_fail("channel '%s' already exists in org '%s'", name,
			    c->org_name);
		return 1;
	}
	if (r != LL_OK ||
	    (r = ll_cmd_audit_append(st, c->org_id, "channel.add", "ok",
				     json_pack("{s:s,s:s,s:I,s:s?}", "org",
					       c->org_name, "channel", name,
					       "channel_id", (json_int_t)id,
					       "group", o->group))) != LL_OK) {
		ll_store_rollback(st);
		goto store_err;
	}
	if ((cred = ll_channel_credential_new(c->relay.mac_key, id, handle)) ==
	    NULL) {
		ll_store_rollback(st);
		ll_cmd_fail("cannot derive the channel's credential");
		return 1;
	}
	if ((r = ll_store_commit(st)) != LL_OK) {
		ll_store_rollback(st);
		ll_secret_free(cred);
		goto store_err;
	}
	printf("%s\n", cred);
	fflush(stdout);
	ll_secret_free(cred);
	fprintf(stderr,
		"lifeline-relay: channel '%s' of org '%s' made%s%s; the line "
		"on stdout is its credential: whoever holds it can wait in "
		"this org's queue (docs/SECURITY.md)\n",
		name, c->org_name, o->group ? " for group " : "",
		o->group ? o->group : "");
	return 0;
store_err:
	ll_cmd_fail("cannot add channel '%s': %s", name, ll_store_errmsg(st));
	return 1;
}

static int channel_remove(struct ll_cmd_org *c, const char *name)
{
	struct ll_store *st = c->relay.store;
	char **ids = NULL;
	size_t n = 0, i;
	int r;

	if ((r = ll_store_begin(st)) != LL_OK)
		goto store_err;
	r = ll_store_channel_remove(st, c->org_id, name, &ids, &n);
	if (r == LL_ERR_NOT_FOUND) {
		ll_store_rollback(st);
		ll_cmd_fail("no channel '%s' in org '%s'", name, c->org_name);
		return 1;
	}
	if (r != LL_OK ||
	    (r = ll_cmd_audit_append(st, c->org_id, "channel.remove", "ok",
				     json_pack("{s:s,s:s,s:I}", "org",
					       c->org_name, "channel", name,
					       "cancelled", (json_int_t)n))) !=
		    LL_OK ||
	    (r = ll_store_commit(st)) != LL_OK) {
		ll_store_rollback(st);
		goto store_err;
	}
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	printf("channel '%s' of org '%s' removed; its credential no longer "
	       "works (%zu waiting user%s sent away)\n",
	       name, c->org_name, n, n == 1 ? "" : "s");
	return 0;
store_err:
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	ll_cmd_fail("cannot remove channel '%s': %s", name,
		    ll_store_errmsg(st));
	return 1;
}

static int channel_list(struct ll_cmd_org *c, const struct channel_opts *o)
{
	struct ll_channel **list = NULL;
	json_t *arr = NULL, *doc = NULL;
	size_t n = 0, i;
	char when[40];
	int rc = 1;

	if (ll_store_channel_list(c->relay.store, c->org_id, &list, &n) !=
	    LL_OK) {
		ll_cmd_fail("cannot list channels: %s",
			    ll_store_errmsg(c->relay.store));
		return 1;
	}
	if (!o->json)
		printf("%-24s %-16s %-16s %s\n", "NAME", "ORG", "GROUP",
		       "CREATED");
	if ((arr = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		const struct ll_channel *ch = list[i];

		ll_format_rfc3339(ch->created_at, when, sizeof(when));
		if (!o->json) {
			printf("%-24s %-16s %-16s %s\n", ch->name,
			       ch->org_name,
			       ch->group_name ? ch->group_name : "-", when);
			continue;
		}
		if (json_array_append_new(arr,
					  json_pack("{s:I,s:s,s:s,s:s?,s:s}",
						    "id", (json_int_t)ch->id,
						    "name", ch->name, "org",
						    ch->org_name, "group",
						    ch->group_name,
						    "created_at", when)) != 0)
			goto nomem;
	}
	if (o->json) {
		doc = json_pack("{s:O}", "channels", arr);
		if (!ll_cmd_print_json(doc))
			goto nomem;
	}
	fflush(stdout);
	rc = 0;
	goto out;
nomem:
	ll_cmd_fail("out of memory");
out:
	json_decref(doc);
	json_decref(arr);
	ll_channel_list_free(list, n);
	return rc;
}

static void channel_usage(FILE *f)
{
	fprintf(f,
		"Usage: lifeline-relay channel add NAME [--org ORG] "
		"[--group G]\n"
		"       lifeline-relay channel list [--org ORG] [--json]\n"
		"       lifeline-relay channel remove NAME [--org ORG]\n"
		"All take --state-dir DIR (default " LL_DEFAULT_STATE_DIR
		").\n"
		"NAME and G: 1-%d of A-Z a-z 0-9 . _ -, starting with a "
		"letter or digit.\n",
		CHANNEL_NAME_MAX);
}

/* The arguments after the options: NAME for add and remove. */
static int channel_args(const char *sub, int argc, char **argv,
			const struct channel_opts *o, const char **name)
{
	if (strcmp(sub, "list") == 0) {
		if (argc > 1) {
			ll_cmd_fail("channel list: unexpected argument '%s'",
				    argv[1]);
			return 2;
		}
		return 0;
	}
	if (!ll_cmd_one_arg("channel", sub, argc, "NAME", "NAME"))
		return 2;
	*name = argv[1];
	if (!channel_name_valid(*name) ||
	    (o->group != NULL && !channel_name_valid(o->group))) {
		ll_cmd_fail("channel %s: '%s' is not a valid name (1-%d of "
			    "A-Z a-z 0-9 . _ -, starting with a letter or "
			    "digit)",
			    sub, channel_name_valid(*name) ? o->group : *name,
			    CHANNEL_NAME_MAX);
		return 2;
	}
	return 0;
}

int ll_cmd_channel(int argc, char **argv)
{
	static const char *const subs[] = { "add", "list", "remove", NULL };
	struct ll_cmd_opts co = { 0 };
	struct ll_cmd_org c = { 0 };
	struct channel_opts o = { 0 };
	const GOptionEntry add_opts[] = {
		{ "group", 0, 0, G_OPTION_ARG_STRING, &o.group,
		  "the technician group that may pick callers up (until "
		  "groups exist: any technician of the org)",
		  "G" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	const GOptionEntry list_opts[] = {
		{ "json", 0, 0, G_OPTION_ARG_NONE, &o.json,
		  "print JSON instead of a table", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	const char *sub, *name = NULL;
	bool list;
	int rc = 2;

	if (!ll_cmd_subcommand("channel", argc, argv, subs, channel_usage,
			       &sub, &rc))
		return rc;
	list = strcmp(sub, "list") == 0;
	if (!ll_cmd_parse("channel", sub, list ? "- list channels" : "NAME",
			  &co, true,
			  strcmp(sub, "add") == 0 ? add_opts
			  : list                  ? list_opts
						  : NULL,
			  &argc, &argv))
		goto out;
	if ((rc = channel_args(sub, argc, argv, &o, &name)) != 0)
		goto out;
	rc = 1;
	/* list without --org: every org's channels (org_id 0) */
	if (ll_cmd_org_open(&c, &co, list) != 0)
		goto out;
	if (strcmp(sub, "add") == 0)
		rc = channel_add(&c, &o, name);
	else if (strcmp(sub, "remove") == 0)
		rc = channel_remove(&c, name);
	else
		rc = channel_list(&c, &o);
out:
	ll_cmd_org_close(&c);
	ll_cmd_opts_clear(&co);
	g_free(o.group);
	return rc;
}
