/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Directory technicians (issue 12, docs/ARCHITECTURE.md "Directory
 * login"): what the directory says of a user made true of the org's
 * technician, by a login (api_login.c), by `lifeline-relay ldap sync`
 * and by the sync `serve` runs every sync_interval_s.
 *
 * The directory is read on the worker pool (ll_ldap.h blocks); what it
 * said is applied here, on the loop (or in the admin command), in one
 * transaction, every change audited.  A sync disables the directory
 * technicians of the org that are no longer members of a mapped group
 * or are disabled in the directory; the relay's one-second tick
 * (ll_api_periodic) then ends their live sessions.  It enables again
 * only an account the directory had disabled, never one an
 * administrator disabled, and never touches a local account.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_ldap.h"
#include "ll_text.h"
#include "ll_util.h"
#include "ll_workpool.h"
#include "ll_relay.h"
#include "ll_relay_api.h"
#include "api.h"

/* The longest display name taken from the directory (as the CLI's). */
#define DIR_DISPLAY_NAME_MAX 128

int ll_api_ldap_org(struct ll_relay *relay, const struct ll_ldap_config *c,
		    int64_t *org_id)
{
	if (c->org == NULL)
		return ll_store_org_first(relay->store, org_id);
	return ll_store_org_find(relay->store, c->org, org_id);
}

const struct ll_ldap_config *ll_api_ldap_config(struct ll_relay *relay,
						int64_t org_id)
{
	int64_t id;
	size_t i;

	for (i = 0; i < relay->cfg.n_ldap; i++)
		if (ll_api_ldap_org(relay, relay->cfg.ldap[i], &id) == LL_OK &&
		    id == org_id)
			return relay->cfg.ldap[i];
	return NULL;
}

/* One audit record of a change to technician t (or the new id). */
static int dir_audit(struct ll_relay *relay, int64_t org_id,
		     const struct ll_dir_actor *who, const char *action,
		     const char *username, int64_t id, json_t *detail)
{
	int r;

	if (detail == NULL)
		return LL_ERR_NOMEM;
	json_object_set_new(detail, "username", json_string(username));
	json_object_set_new(detail, "technician_id", json_integer(id));
	json_object_set_new(detail, "source", json_string("directory"));
	r = ll_api_audit(relay, org_id, who->actor, action, "ok",
			 who->source_ip, NULL, detail);
	json_decref(detail);
	return r;
}

/* The directory's display name as end users may read it (or NULL). */
static char *dir_display_name(const struct ll_ldap_user *u)
{
	if (u->display_name == NULL)
		return NULL;
	return ll_text_printable_new(u->display_name, strlen(u->display_name),
				     DIR_DISPLAY_NAME_MAX);
}

static bool str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* Disables technician t for the directory: tokens revoked, audited. */
static int dir_disable(struct ll_relay *relay, const struct ll_technician *t,
		       const struct ll_dir_actor *who, const char *why,
		       struct ll_dir_counts *cnt)
{
	int r;

	if ((r = ll_store_technician_set_directory_disabled(relay->store,
							    t->id, true)) !=
		    LL_OK ||
	    (r = ll_store_token_delete_for_technician(relay->store, t->id)) !=
		    LL_OK)
		return r;
	ll_info("directory: technician %s disabled: %s", t->username, why);
	cnt->disabled++;
	return dir_audit(relay, t->org_id, who, "technician.disable",
			 t->username, t->id,
			 json_pack("{s:s}", "reason", why));
}

/* A directory technician that exists: DN, display name, group, state. */
static int dir_update(struct ll_relay *relay, const struct ll_technician *t,
		      const struct ll_ldap_user *u, const char *group,
		      const struct ll_dir_actor *who,
		      struct ll_dir_counts *cnt)
{
	char *name = dir_display_name(u);
	json_t *d = NULL;
	int r = LL_OK;

	if (str_differs(t->directory_dn, u->dn) &&
	    (r = ll_store_technician_set_directory_dn(relay->store, t->id,
						      u->dn)) == LL_OK)
		d = json_pack("{s:s}", "dn", u->dn);
	if (r == LL_OK && str_differs(t->display_name, name) &&
	    (r = ll_store_technician_set_display_name(relay->store, t->id,
						      name)) == LL_OK) {
		if (d == NULL)
			d = json_object();
		json_object_set_new(d, "display_name",
				    name ? json_string(name) : json_null());
	}
	if (r == LL_OK && str_differs(t->group_name, group) &&
	    (r = ll_store_technician_set_group(relay->store, t->org_id,
					       t->username, group)) == LL_OK) {
		if (d == NULL)
			d = json_object();
		json_object_set_new(d, "group", json_string(group));
	}
	if (r == LL_OK && d != NULL) {
		cnt->updated++;
		r = dir_audit(relay, t->org_id, who, "technician.set",
			      t->username, t->id, json_incref(d));
	}
	json_decref(d);
	free(name);
	if (r != LL_OK)
		return r;
	if (u->disabled && !t->disabled)
		return dir_disable(relay, t, who, "disabled in the directory",
				   cnt);
	if (!u->disabled && t->disabled && t->directory_disabled) {
		r = ll_store_technician_set_directory_disabled(relay->store,
							       t->id, false);
		if (r != LL_OK)
			return r;
		ll_info("directory: technician %s enabled", t->username);
		cnt->enabled++;
		return dir_audit(relay, t->org_id, who, "technician.enable",
				 t->username, t->id, json_object());
	}
	return LL_OK;
}

/*
 * The technician group group_map gives u, which must exist in the org:
 * a directory technician without a group would have every permission
 * (no group: the rights of before groups).  NULL when it does not.
 */
static const char *dir_group(struct ll_relay *relay, int64_t org_id,
			     const struct ll_ldap_config *c,
			     const struct ll_ldap_user *u)
{
	struct ll_group *g = NULL;
	const char *name;
	int r;

	if (u->map_index < 0 || (size_t)u->map_index >= c->n_map)
		return NULL;
	name = c->map[u->map_index].tech_group;
	r = ll_store_group_find(relay->store, org_id, name, &g);
	ll_group_free(g);
	if (r != LL_OK) {
		ll_warn("directory: user %s: technician group '%s' of "
			"group_map: %s; left out (lifeline-relay group add)",
			u->dn, name, ll_strerror(r));
		return NULL;
	}
	return name;
}

/* A technician made for the directory, in its group. */
static int dir_add(struct ll_relay *relay, int64_t org_id,
		   const struct ll_ldap_user *u, const char *group,
		   const struct ll_dir_actor *who, struct ll_dir_counts *cnt,
		   int64_t *id)
{
	char *name = dir_display_name(u);
	int r;

	r = ll_store_technician_add_directory(relay->store, org_id, u->login,
					      u->dn, name, u->disabled,
					      ll_now_unix(), id);
	if (r == LL_OK)
		r = ll_store_technician_set_group(relay->store, org_id,
						  u->login, group);
	if (r == LL_OK) {
		cnt->added++;
		r = dir_audit(relay, org_id, who, "technician.add", u->login,
			      *id,
			      json_pack("{s:s,s:s?,s:s,s:b}", "dn", u->dn,
					"display_name", name, "group", group,
					"disabled", u->disabled));
	}
	free(name);
	return r;
}

int ll_api_ldap_user_apply(struct ll_relay *relay, int64_t org_id,
			   const struct ll_ldap_config *c,
			   const struct ll_ldap_user *u,
			   const struct ll_dir_actor *who,
			   struct ll_dir_counts *cnt, int64_t *id_out)
{
	struct ll_technician *t = NULL;
	const char *group;
	int64_t id = 0;
	int r;

	if (!ll_username_valid(u->login)) {
		ll_warn("directory: user %s: its login name is not one a "
			"technician may have; left out",
			u->dn);
		cnt->skipped++;
		return LL_ERR_INVALID_ARG;
	}
	if ((group = dir_group(relay, org_id, c, u)) == NULL) {
		cnt->skipped++;
		return LL_ERR_NOT_FOUND;
	}
	r = ll_store_technician_find(relay->store, org_id, u->login, &t);
	if (r == LL_ERR_NOT_FOUND) {
		r = dir_add(relay, org_id, u, group, who, cnt, &id);
	} else if (r == LL_OK && t->directory_dn == NULL) {
		/* A local account of that name stays local (a break-glass
		 * admin must not become the directory's). */
		ll_warn("directory: user %s: a local technician is called "
			"%s; left alone",
			u->dn, u->login);
		cnt->skipped++;
		r = LL_ERR_CONFLICT;
	} else if (r == LL_OK) {
		id = t->id;
		r = dir_update(relay, t, u, group, who, cnt);
	}
	if (r == LL_OK && id_out != NULL)
		*id_out = id;
	ll_technician_free(t);
	return r;
}

/* Is technician t among the users the directory listed? */
static bool dir_listed(const struct ll_technician *t,
		       struct ll_ldap_user *const *users, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(users[i]->login, t->username) == 0)
			return true;
	return false;
}

int ll_api_ldap_sync_apply(struct ll_relay *relay, int64_t org_id,
			   const struct ll_ldap_config *c,
			   struct ll_ldap_user *const *users, size_t n,
			   const struct ll_dir_actor *who,
			   struct ll_dir_counts *cnt)
{
	struct ll_technician **techs = NULL;
	size_t n_techs = 0, i;
	int r;

	memset(cnt, 0, sizeof(*cnt));
	if ((r = ll_store_begin(relay->store)) != LL_OK)
		return r;
	for (i = 0; i < n; i++) {
		r = ll_api_ldap_user_apply(relay, org_id, c, users[i], who,
					   cnt, NULL);
		/* a user we cannot take is skipped (and said), not fatal */
		if (r != LL_OK && r != LL_ERR_CONFLICT &&
		    r != LL_ERR_INVALID_ARG && r != LL_ERR_NOT_FOUND)
			goto fail;
	}
	if ((r = ll_store_technician_list(relay->store, org_id, &techs,
					  &n_techs)) != LL_OK)
		goto fail;
	for (i = 0; i < n_techs; i++) {
		const struct ll_technician *t = techs[i];

		if (t->directory_dn == NULL || t->disabled ||
		    dir_listed(t, users, n))
			continue;
		r = dir_disable(relay, t, who,
				"not a member of a mapped directory group",
				cnt);
		if (r != LL_OK)
			goto fail;
	}
	if ((r = ll_store_commit(relay->store)) != LL_OK)
		goto fail;
	ll_technician_list_free(techs, n_techs);
	return LL_OK;
fail:
	ll_store_rollback(relay->store);
	ll_technician_list_free(techs, n_techs);
	memset(cnt, 0, sizeof(*cnt));
	return r;
}

/* ---- the sync inside `serve` ---- */

/* One [ldap] group's timer: when its next sync is due, and whether one
 * is on the worker pool. */
struct dir_slot {
	int64_t due;
	bool running;
};

struct ll_dir_sync {
	uint64_t cfg_gen; /* the configuration slots was made for */
	struct dir_slot *slots;
	size_t n;
};

/* A sync on the worker pool: a copy of the configuration, the answer. */
struct dir_job {
	struct ll_relay *relay;
	struct ll_ldap_config *cfg;
	uint64_t cfg_gen;
	size_t slot;
	int result;
	struct ll_ldap_user **users;
	size_t n_users;
	char err[512];
};

static void dir_job_free(struct dir_job *j)
{
	ll_ldap_user_list_free(j->users, j->n_users);
	ll_ldap_config_free(j->cfg);
	free(j);
}

static void dir_work(void *arg)
{
	struct dir_job *j = arg;

	j->result = ll_ldap_sync_read(j->cfg, &j->users, &j->n_users, j->err,
				      sizeof(j->err));
}

/* On the loop: what the directory said, applied (or why not, logged). */
static void dir_done(void *arg, bool cancelled)
{
	static const struct ll_dir_actor who = { "directory", NULL };
	struct dir_job *j = arg;
	struct ll_relay *relay = j->relay;
	struct ll_dir_sync *ds = relay->dir_sync;
	struct ll_dir_counts cnt;
	int64_t org_id;
	int r;

	if (ds != NULL && ds->cfg_gen == j->cfg_gen && j->slot < ds->n)
		ds->slots[j->slot].running = false;
	if (cancelled)
		goto out;
	if (j->result != LL_OK) {
		ll_warn("directory sync of org %s: %s: %s",
			j->cfg->org ? j->cfg->org : "(first)",
			ll_strerror(j->result), j->err);
		goto out;
	}
	if ((r = ll_api_ldap_org(relay, j->cfg, &org_id)) != LL_OK ||
	    (r = ll_api_ldap_sync_apply(relay, org_id, j->cfg, j->users,
					j->n_users, &who, &cnt)) != LL_OK) {
		ll_warn("directory sync of org %s: %s",
			j->cfg->org ? j->cfg->org : "(first)", ll_strerror(r));
		goto out;
	}
	ll_info("directory sync of org %s: %zu users in mapped groups, "
		"%u added, %u updated, %u disabled, %u enabled, %u skipped",
		j->cfg->org ? j->cfg->org : "(first)", j->n_users, cnt.added,
		cnt.updated, cnt.disabled, cnt.enabled, cnt.skipped);
out:
	dir_job_free(j);
}

/* The slots follow the configuration: a reload starts them afresh. */
static struct ll_dir_sync *dir_sync_get(struct ll_relay *relay)
{
	struct ll_dir_sync *ds = relay->dir_sync;
	size_t i;

	if (ds != NULL && ds->cfg_gen == relay->cfg_gen)
		return ds;
	ll_api_dir_sync_free(relay);
	if ((ds = calloc(1, sizeof(*ds))) == NULL)
		return NULL;
	ds->cfg_gen = relay->cfg_gen;
	ds->n = relay->cfg.n_ldap;
	if (ds->n > 0 &&
	    (ds->slots = calloc(ds->n, sizeof(*ds->slots))) == NULL) {
		free(ds);
		return NULL;
	}
	/* the first sync right away: the directory may have changed while
	 * the relay was down */
	for (i = 0; i < ds->n; i++)
		ds->slots[i].due = 0;
	relay->dir_sync = ds;
	return ds;
}

void ll_api_dir_sync_free(struct ll_relay *relay)
{
	if (relay->dir_sync == NULL)
		return;
	free(relay->dir_sync->slots);
	free(relay->dir_sync);
	relay->dir_sync = NULL;
}

void ll_api_dir_sync_tick(struct ll_relay *relay)
{
	struct ll_dir_sync *ds;
	struct dir_job *j;
	int64_t now = ll_now_unix();
	size_t i;
	int r;

	if (relay->cfg.n_ldap == 0 || relay->pool == NULL ||
	    (ds = dir_sync_get(relay)) == NULL)
		return;
	for (i = 0; i < ds->n; i++) {
		struct dir_slot *s = &ds->slots[i];

		if (s->running || now < s->due)
			continue;
		s->due = now + relay->cfg.ldap[i]->sync_interval_s;
		if ((j = calloc(1, sizeof(*j))) == NULL ||
		    (j->cfg = ll_ldap_config_dup(relay->cfg.ldap[i])) ==
			    NULL) {
			free(j);
			continue;
		}
		j->relay = relay;
		j->cfg_gen = ds->cfg_gen;
		j->slot = i;
		r = ll_workpool_submit(relay->pool, dir_work, dir_done, j);
		if (r != LL_OK) {
			/* a full queue: try again at the next interval */
			dir_job_free(j);
			continue;
		}
		s->running = true;
	}
}
