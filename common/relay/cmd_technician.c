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

#define USERNAME_MAX 64

struct tech_opts {
	struct ll_cmd_opts cmd;
	gboolean admin;
	gboolean password_stdin;
	gboolean json;
	gchar *name;  /* --name: the display name */
	gchar *group; /* --group: the technician group */
	gboolean no_group;
};

static bool username_valid(const char *u)
{
	size_t i, n = strlen(u);

	if (n == 0 || n > USERNAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = u[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') ||
		      (i > 0 &&
		       (c == '.' || c == '_' || c == '-' || c == '@'))))
			return false;
	}
	return true;
}

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

/*
 * A generated password is a one-time password: it must be changed at
 * first login and expires otp_lifetime_s from now.  One given on stdin is
 * the administrator's explicit choice and stays valid (the store's
 * set_password already made it so).  Returns the expiry, 0 for none.
 */
static int password_one_time(struct ll_cmd_org *c, const struct tech_opts *o,
			     int64_t id, int64_t *expires_at)
{
	*expires_at = 0;
	if (o->password_stdin)
		return LL_OK;
	*expires_at = ll_now_unix() + c->relay.cfg.otp_lifetime_s;
	return ll_store_technician_set_one_time(c->relay.store, id,
						*expires_at);
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

/* Opens the state and resolves the org (unless any org will do). */
static int tech_add(struct ll_cmd_org *c, const struct tech_opts *o,
		    const char *user)
{
	struct ll_store *st = c->relay.store;
	char *pw = NULL, *hash = NULL;
	int64_t id = 0, expires_at = 0;
	int rc = 1, r;

	if (!password_new(o, &pw, &hash))
		goto out;
	if ((r = ll_store_begin(st)) != 0)
		goto store_err;
	r = ll_store_technician_add(st, c->org_id, user, hash, o->admin,
				    ll_now_unix(), &id);
	if (r == LL_OK && o->name != NULL)
		r = ll_store_technician_set_display_name(st, id, o->name);
	if (r == LL_ERR_CONFLICT) {
		ll_store_rollback(st);
		ll_cmd_fail("technician '%s' already exists in org '%s'", user,
			    c->org_name);
		goto out;
	}
	if (r == LL_OK && o->group != NULL &&
	    (r = ll_store_technician_set_group(st, c->org_id, user,
					       o->group)) ==
		    LL_ERR_NOT_FOUND) {
		ll_store_rollback(st);
		ll_cmd_fail("group '%s' not found in org '%s' (group add)",
			    o->group, c->org_name);
		goto out;
	}
	if (r != 0 || (r = password_one_time(c, o, id, &expires_at)) != 0 ||
	    (r = ll_cmd_audit_append(
		     st, c->org_id, "technician.add", "ok",
		     json_pack("{s:s,s:I,s:b,s:b,s:s?,s:s?}", "username", user,
			       "technician_id", (json_int_t)id, "admin",
			       o->admin, "one_time_password",
			       !o->password_stdin, "display_name", o->name,
			       "group", o->group))) != 0 ||
	    (r = ll_store_commit(st)) != 0) {
		ll_store_rollback(st);
		goto store_err;
	}
	password_print(o, pw, expires_at);
	rc = 0;
	goto out;
store_err:
	ll_cmd_fail("cannot add technician '%s': %s", user,
		    ll_store_errmsg(st));
out:
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
	int rc = 1, r;

	if (tech_begin_find(c, user, &t) != 0)
		goto out;
	if ((r = ll_store_technician_set_disabled(st, c->org_id, user,
						  disabled)) != 0 ||
	    (disabled &&
	     (r = ll_store_token_delete_for_technician(st, t->id)) != 0) ||
	    (r = ll_cmd_audit_append(
		     st, c->org_id, action, "ok",
		     json_pack("{s:s,s:I,s:b}", "username", user,
			       "technician_id", (json_int_t)t->id,
			       "was_disabled", t->disabled))) != 0 ||
	    (r = ll_store_commit(st)) != 0) {
		ll_store_rollback(st);
		goto store_err;
	}
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
	struct ll_mfa m;
	const char *action = reset ? "technician.mfa_reset"
				   : "technician.unlock";
	bool was_locked = false, enrolled = false;
	int rc = 1, r;

	if (tech_begin_find(c, user, &t) != 0)
		goto out;
	r = ll_store_mfa_get(st, t->id, &m);
	if (r == LL_OK) {
		was_locked = m.locked;
		enrolled = m.seed_len > 0;
		ll_wipe(&m, sizeof(m));
	} else if (r != LL_ERR_NOT_FOUND) {
		goto tx_err;
	}
	if (reset && r == LL_OK)
		r = ll_store_mfa_reset(st, t->id);
	else if (!reset && was_locked)
		r = ll_store_mfa_unlock(st, t->id);
	else
		r = LL_OK;
	if (r != LL_OK ||
	    (reset &&
	     (r = ll_store_token_delete_for_technician(st, t->id)) != 0) ||
	    (r = ll_cmd_audit_append(st, c->org_id, action, "ok",
				     json_pack("{s:s,s:I,s:b,s:b}", "username",
					       user, "technician_id",
					       (json_int_t)t->id, "was_locked",
					       was_locked, "was_enrolled",
					       enrolled))) != 0 ||
	    (r = ll_store_commit(st)) != 0)
		goto tx_err;
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
tx_err:
	ll_store_rollback(st);
	ll_cmd_fail("cannot change technician '%s': %s", user,
		    ll_store_errmsg(st));
out:
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
	int rc = 1, r;

	r = ll_store_technician_find(st, c->org_id, user, &t);
	if (r == LL_ERR_NOT_FOUND) {
		ll_cmd_fail("technician '%s' not found in org '%s'", user,
			    c->org_name);
		goto out;
	}
	if (r != 0)
		goto store_err;
	if (!password_new(o, &pw, &hash))
		goto out;
	if ((r = ll_store_begin(st)) != 0)
		goto store_err;
	if ((r = ll_store_technician_set_password(st, c->org_id, user,
						  hash)) != 0 ||
	    (r = password_one_time(c, o, t->id, &expires_at)) != 0 ||
	    (r = ll_store_token_delete_for_technician(st, t->id)) != 0 ||
	    (r = ll_cmd_audit_append(st, c->org_id, "technician.passwd", "ok",
				     json_pack("{s:s,s:I,s:b}", "username",
					       user, "technician_id",
					       (json_int_t)t->id,
					       "one_time_password",
					       !o->password_stdin))) != 0 ||
	    (r = ll_store_commit(st)) != 0) {
		ll_store_rollback(st);
		goto store_err;
	}
	password_print(o, pw, expires_at);
	rc = 0;
	goto out;
store_err:
	ll_cmd_fail("cannot set the password of '%s': %s", user,
		    ll_store_errmsg(st));
out:
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
	json_t *detail;
	int rc = 1, r = LL_OK;

	if (tech_begin_find(c, user, &t) != 0)
		goto out;
	if (o->name != NULL)
		r = ll_store_technician_set_display_name(st, t->id, o->name);
	if (r == LL_OK && set_group &&
	    (r = ll_store_technician_set_group(st, c->org_id, user,
					       o->group)) ==
		    LL_ERR_NOT_FOUND) {
		ll_store_rollback(st);
		ll_cmd_fail("group '%s' not found in org '%s' (group add)",
			    o->group, c->org_name);
		goto out;
	}
	detail = json_pack("{s:s,s:I}", "username", user, "technician_id",
			   (json_int_t)t->id);
	if (detail != NULL && o->name != NULL)
		json_object_set_new(detail, "display_name",
				    json_string(o->name));
	/* the old group and the new, null for none */
	if (detail != NULL && set_group) {
		json_object_set_new(detail, "old_group",
				    t->group_name ? json_string(t->group_name)
						  : json_null());
		json_object_set_new(detail, "group",
				    o->group ? json_string(o->group)
					     : json_null());
	}
	if (r != 0 ||
	    (r = ll_cmd_audit_append(st, c->org_id, "technician.set", "ok",
				     detail)) != 0 ||
	    (r = ll_store_commit(st)) != 0) {
		ll_store_rollback(st);
		goto store_err;
	}
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
	ll_technician_free(t);
	return rc;
}

static int tech_list(struct ll_cmd_org *c, const struct tech_opts *o)
{
	struct ll_technician **list = NULL;
	size_t n = 0, i;
	json_t *arr = NULL, *doc = NULL;
	char when[40];
	char *text;
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
		if (doc == NULL ||
		    (text = json_dumps(doc, JSON_INDENT(2) |
						    JSON_PRESERVE_ORDER)) ==
			    NULL)
			goto nomem;
		printf("%s\n", text);
		free(text);
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
		if (argc != 2) {
			ll_cmd_fail("technician %s: %s", sub,
				    argc < 2 ? "name one USER"
					     : "takes exactly one USER");
			goto out;
		}
		user = argv[1];
		if (!username_valid(user)) {
			ll_cmd_fail("technician %s: '%s' is not a valid user "
				    "name (1-%d of A-Z a-z 0-9 . _ - @, "
				    "starting with a letter or digit)",
				    sub, user, USERNAME_MAX);
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
