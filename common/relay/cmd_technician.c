/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-relay technician add|disable|enable|list|passwd|set|unlock|
 * mfa-reset ...
 *
 * A generated password (add or passwd without --password-stdin) is a
 * one-time password: the technician must change it at the first login,
 * and it expires otp_lifetime_s (relay.conf) after it was made.  A
 * password read from stdin is the administrator's choice and stays valid.
 *
 * Every change is written to the audit log (actor "cli") in the same
 * transaction as the change.  Disabling an account or setting a new
 * password deletes its tokens; a running relay ends the account's live
 * sessions within a second (ll_api_periodic); so does moving it to a
 * group that grants less (--group, docs/API.md "Groups and
 * permissions").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_store.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "cmd.h"

#define USERNAME_MAX LL_USERNAME_MAX

struct tech_opts {
	struct ll_cmd_opts cmd;
	gboolean admin;
	gboolean password_stdin;
	gboolean json;
	gchar *name;  /* --name: the display name */
	gchar *group; /* --group: the technician group */
	gboolean no_group;
};

/* One line from stdin, without its newline; NULL with a message. */
static char *password_from_stdin(void)
{
	char buf[LL_PASSWORD_MAX + 3];
	const char *why;
	char *pw = NULL;
	size_t n;

	if (fgets(buf, sizeof(buf), stdin) == NULL) {
		ll_cmd_fail("no password on standard input");
		goto out;
	}
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (!feof(stdin)) {
		ll_cmd_fail("the password is longer than %d bytes",
			    LL_PASSWORD_MAX);
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	if (strlen(buf) != n) {
		ll_cmd_fail("the password must be one line of at most %d "
			    "bytes",
			    LL_PASSWORD_MAX);
		goto out;
	}
	if ((why = ll_password_problem(buf)) != NULL) {
		ll_cmd_fail("%s", why);
		goto out;
	}
	pw = strdup(buf);
	if (pw == NULL)
		ll_cmd_fail("out of memory");
out:
	ll_wipe(buf, sizeof(buf));
	return pw;
}

/*
 * The new password (from stdin, or generated) and its hash, for the
 * caller to free even on failure; false, with a message, when either
 * cannot be had.
 */
static bool password_new(const struct tech_opts *o, char **pw, char **hash)
{
	if (o->password_stdin)
		*pw = password_from_stdin();
	else if ((*pw = ll_password_generate_new()) == NULL)
		ll_cmd_fail("cannot generate a password");
	if (*pw == NULL)
		return false;
	if ((*hash = ll_password_hash_new(*pw)) == NULL) {
		ll_cmd_fail("cannot hash the password");
		return false;
	}
	return true;
}

/* A generated password is shown once: the only line on stdout, for
 * scripts; what it is goes to stderr. */
static void password_print(const struct tech_opts *o, const char *pw,
			   int64_t expires_at)
{
	char when[40];

	if (o->password_stdin)
		return;
	printf("%s\n", pw);
	fflush(stdout);
	ll_format_rfc3339(expires_at, when, sizeof(when));
	fprintf(stderr,
		"lifeline-relay: a one-time password: it must be changed at "
		"the first login, and expires at %s\n",
		when);
}

/*
 * The end of a change made in the open transaction, r its result: when it
 * succeeded, audits detail as action and commits.  detail is stolen
 * either way.  0, or the error with everything rolled back.
 */
static int tech_commit(struct ll_cmd_org *c, int r, const char *action,
		       json_t *detail)
{
	struct ll_store *st = c->relay.store;

	if (r != 0) {
		json_decref(detail);
		ll_store_rollback(st);
		return r;
	}
	if ((r = ll_cmd_audit_append(st, c->org_id, action, "ok", detail)) !=
		    0 ||
	    (r = ll_store_commit(st)) != 0)
		ll_store_rollback(st);
	return r;
}

static int tech_add(struct ll_cmd_org *c, const struct tech_opts *o,
		    const char *user)
{
	struct ll_store *st = c->relay.store;
	struct ll_tech_new n = { .org_id = c->org_id,
				 .username = user,
				 .display_name = o->name,
				 .admin = o->admin,
				 .one_time = !o->password_stdin };
	char *pw = NULL, *hash = NULL;
	int64_t expires_at = 0;
	json_t *detail = NULL;
	int rc = 1, r;

	if (!password_new(o, &pw, &hash))
		goto out;
	n.pw_hash = hash;
	if ((r = ll_store_begin(st)) != 0)
		goto store_err;
	detail = json_object();
	r = ll_tech_add(&c->relay, &n, NULL, &expires_at, detail);
	if (r == LL_ERR_CONFLICT) {
		ll_store_rollback(st);
		ll_cmd_fail("technician '%s' already exists in org '%s'", user,
			    c->org_name);
		goto out;
	}
	if (r == LL_OK && o->group != NULL) {
		r = ll_store_technician_set_group(st, c->org_id, user,
						  o->group);
		if (r == LL_ERR_NOT_FOUND) {
			ll_store_rollback(st);
			ll_cmd_fail("group '%s' not found in org '%s' (group "
				    "add)",
				    o->group, c->org_name);
			goto out;
		}
		if (r == LL_OK)
			json_object_set_new(detail, "group",
					    json_string(o->group));
	}
	if (tech_commit(c, r, "technician.add", g_steal_pointer(&detail)) != 0)
		goto store_err;
	password_print(o, pw, expires_at);
	rc = 0;
	goto out;
store_err:
	ll_cmd_fail("cannot add technician '%s': %s", user,
		    ll_store_errmsg(st));
out:
	json_decref(detail);
	ll_secret_free(pw);
	free(hash);
	return rc;
}

/*
 * Begins the store's transaction and finds USER in the org: 0 with *t
 * (the transaction open), or 1 with the failure said and nothing left
 * open.
 */
static int tech_begin_find(struct ll_cmd_org *c, const char *user,
			   struct ll_technician **t)
{
	struct ll_store *st = c->relay.store;
	int r;

	if ((r = ll_store_begin(st)) == 0) {
		r = ll_store_technician_find(st, c->org_id, user, t);
		if (r == 0)
			return 0;
		ll_store_rollback(st);
	}
	if (r == LL_ERR_NOT_FOUND)
		ll_cmd_fail("technician '%s' not found in org '%s'", user,
			    c->org_name);
	else
		ll_cmd_fail("cannot change technician '%s': %s", user,
			    ll_store_errmsg(st));
	return 1;
}

static int tech_set_disabled(struct ll_cmd_org *c, const char *user,
			     bool disabled)
{
	struct ll_store *st = c->relay.store;
	struct ll_technician *t = NULL;
	const char *action = disabled ? "technician.disable"
				      : "technician.enable";
	json_t *detail = json_object();
	int rc = 1, r;

	if (tech_begin_find(c, user, &t) != 0)
		goto out;
	r = ll_tech_set_disabled(&c->relay, t, disabled, detail);
	if (tech_commit(c, r, action, g_steal_pointer(&detail)) != 0)
		goto store_err;
	if (disabled)
		printf("technician '%s' in org '%s' disabled; its tokens are "
		       "revoked and a running relay ends its sessions\n",
		       user, c->org_name);
	else
		printf("technician '%s' in org '%s' enabled\n", user,
		       c->org_name);
	rc = 0;
	goto out;
store_err:
	ll_cmd_fail("cannot change technician '%s': %s", user,
		    ll_store_errmsg(st));
out:
	json_decref(detail);
	ll_technician_free(t);
	return rc;
}

/*
 * unlock: lifts the lock that 10 wrong second-factor codes in a row put
 * on the account.  mfa-reset: forgets the technician's second factor
 * (seed, recovery codes, lock) and revokes its tokens, for a lost phone;
 * with the org's mfa_required policy the next login enrols again.
 */
static int tech_mfa_change(struct ll_cmd_org *c, const char *user, bool reset)
{
	struct ll_store *st = c->relay.store;
	struct ll_technician *t = NULL;
	const char *action = reset ? "technician.mfa_reset"
				   : "technician.unlock";
	json_t *detail = json_object();
	bool was_locked = false, enrolled = false;
	int rc = 1, r;

	if (tech_begin_find(c, user, &t) != 0)
		goto out;
	r = ll_tech_mfa_change(&c->relay, t, reset, &was_locked, &enrolled,
			       detail);
	if (tech_commit(c, r, action, g_steal_pointer(&detail)) != 0)
		goto store_err;
	if (reset)
		printf("technician '%s' in org '%s': second factor %s; its "
		       "tokens are revoked\n",
		       user, c->org_name,
		       enrolled ? "removed"
				: "was not set up (nothing removed)");
	else
		printf("technician '%s' in org '%s' %s\n", user, c->org_name,
		       was_locked ? "unlocked" : "was not locked");
	rc = 0;
	goto out;
store_err:
	ll_cmd_fail("cannot change technician '%s': %s", user,
		    ll_store_errmsg(st));
out:
	json_decref(detail);
	ll_technician_free(t);
	return rc;
}

static int tech_passwd(struct ll_cmd_org *c, const struct tech_opts *o,
		       const char *user)
{
	struct ll_store *st = c->relay.store;
	struct ll_technician *t = NULL;
	char *pw = NULL, *hash = NULL;
	int64_t expires_at = 0;
	json_t *detail = NULL;
	int rc = 1, r;

	r = ll_store_technician_find(st, c->org_id, user, &t);
	if (r == LL_ERR_NOT_FOUND) {
		ll_cmd_fail("technician '%s' not found in org '%s'", user,
			    c->org_name);
		goto out;
	}
	if (r != 0)
		goto store_err;
	if (t->directory_dn != NULL) {
		ll_cmd_fail("technician '%s' in org '%s' is the directory's: "
			    "its password is set there",
			    user, c->org_name);
		goto out;
	}
	if (!password_new(o, &pw, &hash))
		goto out;
	if ((r = ll_store_begin(st)) != 0)
		goto store_err;
	detail = json_object();
	r = ll_tech_set_password(&c->relay, t, hash, !o->password_stdin,
				 &expires_at, detail);
	if (tech_commit(c, r, "technician.passwd", g_steal_pointer(&detail)) !=
	    0)
		goto store_err;
	password_print(o, pw, expires_at);
	rc = 0;
	goto out;
store_err:
	ll_cmd_fail("cannot set the password of '%s': %s", user,
		    ll_store_errmsg(st));
out:
	json_decref(detail);
	ll_technician_free(t);
	ll_secret_free(pw);
	free(hash);
	return rc;
}

static int tech_set(struct ll_cmd_org *c, const struct tech_opts *o,
		    const char *user)
{
	struct ll_store *st = c->relay.store;
	struct ll_technician *t = NULL;
	bool set_group = o->group != NULL || o->no_group;
	json_t *detail = json_object();
	int rc = 1, r = LL_OK;

	if (tech_begin_find(c, user, &t) != 0)
		goto out;
	if (o->name != NULL)
		r = ll_tech_set_display_name(&c->relay, t, o->name, detail);
	if (r == LL_OK && set_group &&
	    (r = ll_store_technician_set_group(st, c->org_id, user,
					       o->group)) ==
		    LL_ERR_NOT_FOUND) {
		ll_store_rollback(st);
		ll_cmd_fail("group '%s' not found in org '%s' (group add)",
			    o->group, c->org_name);
		goto out;
	}
	/* the old group and the new, null for none */
	if (r == LL_OK && set_group) {
		json_object_set_new(detail, "username", json_string(user));
		json_object_set_new(detail, "technician_id",
				    json_integer((json_int_t)t->id));
		json_object_set_new(detail, "old_group",
				    t->group_name ? json_string(t->group_name)
						  : json_null());
		json_object_set_new(detail, "group",
				    o->group ? json_string(o->group)
					     : json_null());
	}
	if (tech_commit(c, r, "technician.set", g_steal_pointer(&detail)) != 0)
		goto store_err;
	if (o->name != NULL)
		printf("technician '%s' in org '%s' is shown as \"%s\"\n",
		       user, c->org_name, o->name);
	if (o->group != NULL)
		printf("technician '%s' in org '%s' is in group '%s'\n", user,
		       c->org_name, o->group);
	else if (o->no_group)
		printf("technician '%s' in org '%s' is in no group\n", user,
		       c->org_name);
	rc = 0;
	goto out;
store_err:
	ll_cmd_fail("cannot change technician '%s': %s", user,
		    ll_store_errmsg(st));
out:
	json_decref(detail);
	ll_technician_free(t);
	return rc;
}

static int tech_list(struct ll_cmd_org *c, const struct tech_opts *o)
{
	struct ll_technician **list = NULL;
	size_t n = 0, i;
	json_t *arr = NULL, *doc = NULL;
	char when[40];
	int rc = 1;

	/* without --org every org's technicians are listed */
	if (ll_store_technician_list(c->relay.store,
				     o->cmd.org ? c->org_id : 0, &list,
				     &n) != 0) {
		ll_cmd_fail("cannot list technicians: %s",
			    ll_store_errmsg(c->relay.store));
		goto out;
	}
	if (o->json) {
		if ((arr = json_array()) == NULL)
			goto nomem;
		for (i = 0; i < n; i++) {
			const struct ll_technician *t = list[i];
			json_t *item;

			ll_format_rfc3339(t->created_at, when, sizeof(when));
			item = json_pack("{s:I,s:s,s:s,s:b,s:b,s:s,s:s,s:b}",
					 "id", (json_int_t)t->id, "name",
					 t->username, "org",
					 t->org_name ? t->org_name : "",
					 "admin", t->is_admin, "disabled",
					 t->disabled, "state",
					 t->disabled ? "disabled" : "enabled",
					 "created_at", when,
					 "password_change_required",
					 t->must_change_password);
			if (item == NULL || json_array_append_new(arr, item))
				goto nomem;
			ll_format_rfc3339(t->password_expires_at, when,
					  sizeof(when));
			json_object_set_new(item, "password_expires_at",
					    t->password_expires_at > 0
						    ? json_string(when)
						    : json_null());
			json_object_set_new(item, "display_name",
					    t->display_name
						    ? json_string(
							      t->display_name)
						    : json_null());
			json_object_set_new(item, "group",
					    t->group_name
						    ? json_string(
							      t->group_name)
						    : json_null());
		}
		doc = json_pack("{s:O}", "technicians", arr);
		if (!ll_cmd_print_json(doc))
			goto nomem;
	} else {
		printf("%-24s %-16s %-10s %-9s %-20s %s\n", "USER", "ORG",
		       "ROLE", "STATE", "CREATED", "GROUP");
		for (i = 0; i < n; i++) {
			const struct ll_technician *t = list[i];

			ll_format_rfc3339(t->created_at, when, sizeof(when));
			printf("%-24s %-16s %-10s %-9s %-20s %s\n",
			       t->username, t->org_name ? t->org_name : "-",
			       t->is_admin ? "admin" : "technician",
			       t->disabled ? "disabled" : "enabled", when,
			       t->group_name ? t->group_name : "-");
		}
	}
	fflush(stdout);
	rc = 0;
	goto out;
nomem:
	ll_cmd_fail("out of memory");
out:
	json_decref(doc);
	json_decref(arr);
	ll_technician_list_free(list, n);
	return rc;
}

/* The options of set and add, checked before the store is opened. */
static bool tech_opts_ok(const char *sub, const struct tech_opts *o)
{
	if (strcmp(sub, "set") == 0 && o->name == NULL && o->group == NULL &&
	    !o->no_group) {
		ll_cmd_fail("technician set: say what to change (--name, "
			    "--group or --no-group)");
		return false;
	}
	if (o->group != NULL && o->no_group) {
		ll_cmd_fail("technician set: --group and --no-group do not go "
			    "together");
		return false;
	}
	if (o->group != NULL && !ll_group_name_valid(o->group)) {
		ll_cmd_fail("technician %s: '%s' is not a valid group name",
			    sub, o->group);
		return false;
	}
	return o->name == NULL ||
	       ll_cmd_display_name_ok("technician", o->name);
}

static void tech_usage(FILE *f)
{
	fprintf(f,
		"Usage: lifeline-relay technician add USER [--org ORG] "
		"[--name \"Display Name\"] [--group G] [--admin] "
		"[--password-stdin]\n"
		"       lifeline-relay technician set USER [--org ORG] "
		"[--name \"Display Name\"] [--group G | --no-group]\n"
		"       lifeline-relay technician disable USER [--org ORG]\n"
		"       lifeline-relay technician enable USER [--org ORG]\n"
		"       lifeline-relay technician passwd USER [--org ORG] "
		"[--password-stdin]\n"
		"       lifeline-relay technician list [--org ORG] [--json]\n"
		"       lifeline-relay technician unlock USER [--org ORG]\n"
		"       lifeline-relay technician mfa-reset USER [--org ORG]\n"
		"All take --state-dir DIR (default " LL_DEFAULT_STATE_DIR
		").\n");
}

int ll_cmd_technician(int argc, char **argv)
{
	struct tech_opts o;
	GOptionEntry add_opts[] = {
		{ "name", 0, 0, G_OPTION_ARG_STRING, &o.name,
		  "the display name end users see (\"Ann Smith\")", "NAME" },
		{ "group", 0, 0, G_OPTION_ARG_STRING, &o.group,
		  "put the technician into this group (group add)", "G" },
		{ "admin", 0, 0, G_OPTION_ARG_NONE, &o.admin,
		  "give the technician the admin and reports permissions",
		  NULL },
		{ "password-stdin", 0, 0, G_OPTION_ARG_NONE, &o.password_stdin,
		  "read the password from standard input instead of "
		  "generating one",
		  NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	GOptionEntry passwd_opts[] = {
		{ "password-stdin", 0, 0, G_OPTION_ARG_NONE, &o.password_stdin,
		  "read the password from standard input instead of "
		  "generating one",
		  NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	GOptionEntry set_opts[] = {
		{ "name", 0, 0, G_OPTION_ARG_STRING, &o.name,
		  "the display name end users see (\"Ann Smith\")", "NAME" },
		{ "group", 0, 0, G_OPTION_ARG_STRING, &o.group,
		  "move the technician into this group (group add)", "G" },
		{ "no-group", 0, 0, G_OPTION_ARG_NONE, &o.no_group,
		  "take the technician out of its group (every capability "
		  "again)",
		  NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	GOptionEntry list_opts[] = { { "json", 0, 0, G_OPTION_ARG_NONE,
				       &o.json,
				       "print JSON instead of a table", NULL },
				     { NULL, 0, 0, 0, NULL, NULL, NULL } };
	static const char *const subs[] = { "add",    "disable",   "enable",
					    "list",   "passwd",    "set",
					    "unlock", "mfa-reset", NULL };
	struct ll_cmd_org c = { 0 };
	const GOptionEntry *extra = NULL;
	const char *sub, *user = NULL;
	int rc = 2;

	memset(&o, 0, sizeof(o));
	if (!ll_cmd_subcommand("technician", argc, argv, subs, tech_usage,
			       &sub, &rc))
		return rc;
	if (strcmp(sub, "add") == 0)
		extra = add_opts;
	else if (strcmp(sub, "passwd") == 0)
		extra = passwd_opts;
	else if (strcmp(sub, "list") == 0)
		extra = list_opts;
	else if (strcmp(sub, "set") == 0)
		extra = set_opts;
	if (!ll_cmd_parse("technician", sub,
			  strcmp(sub, "list") == 0 ? "- list technicians"
						   : "USER",
			  &o.cmd, true, extra, &argc, &argv))
		goto out;
	if (strcmp(sub, "list") == 0) {
		if (argc > 1) {
			ll_cmd_fail("technician list: unexpected argument "
				    "'%s'",
				    argv[1]);
			goto out;
		}
	} else {
		if (!ll_cmd_one_arg("technician", sub, argc, "USER", "USER"))
			goto out;
		user = argv[1];
		if (!ll_username_valid(user)) {
			ll_cmd_fail("technician %s: '%s' is not a valid user "
				    "name (1-%d of A-Z a-z 0-9 . _ - @, "
				    "starting with a letter or digit)",
				    sub, user, LL_USERNAME_MAX);
			goto out;
		}
	}
	if (!tech_opts_ok(sub, &o))
		goto out;
	rc = 1;
	if (ll_cmd_org_open(&c, &o.cmd, strcmp(sub, "list") == 0) != 0)
		goto out;
	if (strcmp(sub, "add") == 0)
		rc = tech_add(&c, &o, user);
	else if (strcmp(sub, "disable") == 0)
		rc = tech_set_disabled(&c, user, true);
	else if (strcmp(sub, "enable") == 0)
		rc = tech_set_disabled(&c, user, false);
	else if (strcmp(sub, "passwd") == 0)
		rc = tech_passwd(&c, &o, user);
	else if (strcmp(sub, "set") == 0)
		rc = tech_set(&c, &o, user);
	else if (strcmp(sub, "unlock") == 0)
		rc = tech_mfa_change(&c, user, false);
	else if (strcmp(sub, "mfa-reset") == 0)
		rc = tech_mfa_change(&c, user, true);
	else
		rc = tech_list(&c, &o);
out:
	ll_cmd_org_close(&c);
	ll_cmd_opts_clear(&o.cmd);
	g_free(o.name);
	g_free(o.group);
	return rc;
}
