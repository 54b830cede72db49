/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Administering technicians: the one code path of `lifeline-relay
 * technician ...` (cmd_technician.c) and of /api/v1/technicians
 * (api/api_technicians.c).  Each change runs inside the caller's
 * transaction and fills the caller's audit detail with what it was
 * before and what it is now; the caller writes the record (actor "cli",
 * or the administrator through the API's envelope) and commits.
 * Passwords come hashed: the command line hashes inline, the API on the
 * worker pool.
 */
#include <string.h>

#include "ll_text.h"
#include "ll_util.h"
#include "ll_relay.h"

bool ll_tech_display_name_ok(const char *name)
{
	char buf[LL_TEXT_PRINTABLE_SIZE(LL_DISPLAY_NAME_MAX)];
	size_t n = strlen(name);

	if (n == 0 || n > LL_DISPLAY_NAME_MAX)
		return false;
	/* Refused rather than changed: what the administrator typed is
	 * what end users will read, or nothing. */
	return ll_text_printable(buf, sizeof(buf), name, n) == n &&
	       strcmp(buf, name) == 0;
}

static json_t *who(const struct ll_technician *t)
{
	return json_pack("{s:s,s:I}", "username", t->username, "technician_id",
			 (json_int_t)t->id);
}

/* Merges src (stolen) into detail. */
static int detail_merge(json_t *detail, json_t *src)
{
	int r = src != NULL && json_object_update(detail, src) == 0
			? LL_OK
			: LL_ERR_NOMEM;

	json_decref(src);
	return r;
}

/* A generated password is a one-time password: changed at the first
 * login, refused from otp_lifetime_s on. */
static int one_time(const struct ll_relay *relay, int64_t id, bool is_one_time,
		    int64_t *expires_at)
{
	*expires_at = 0;
	if (!is_one_time)
		return LL_OK;
	*expires_at = ll_now_unix() + relay->cfg.otp_lifetime_s;
	return ll_store_technician_set_one_time(relay->store, id, *expires_at);
}

int ll_tech_add(struct ll_relay *relay, const struct ll_tech_new *n,
		int64_t *id_out, int64_t *expires_at, json_t *detail)
{
	struct ll_store *st = relay->store;
	int64_t id = 0;
	int r;

	r = ll_store_technician_add(st, n->org_id, n->username, n->pw_hash,
				    n->admin, ll_now_unix(), &id);
	if (r == LL_OK && n->display_name != NULL)
		r = ll_store_technician_set_display_name(st, id,
							 n->display_name);
	if (r == LL_OK)
		r = one_time(relay, id, n->one_time, expires_at);
	if (r == LL_OK)
		r = detail_merge(detail,
				 json_pack("{s:s,s:I,s:b,s:b,s:s?}",
					   "username", n->username,
					   "technician_id", (json_int_t)id,
					   "admin", n->admin,
					   "one_time_password", n->one_time,
					   "display_name", n->display_name));
	if (r == LL_OK && id_out != NULL)
		*id_out = id;
	return r;
}

int ll_tech_set_disabled(struct ll_relay *relay, const struct ll_technician *t,
			 bool disabled, json_t *detail)
{
	struct ll_store *st = relay->store;
	int r;

	if ((r = ll_store_technician_set_disabled(st, t->org_id, t->username,
						  disabled)) != LL_OK)
		return r;
	/* Its tokens go at once; a running relay ends its live sessions
	 * within a second (ll_api_periodic). */
	if (disabled &&
	    (r = ll_store_token_delete_for_technician(st, t->id)) != LL_OK)
		return r;
	if ((r = detail_merge(detail, who(t))) != LL_OK)
		return r;
	return detail_merge(detail,
			    json_pack("{s:b,s:b}", "was_disabled", t->disabled,
				      "disabled", disabled));
}

int ll_tech_set_display_name(struct ll_relay *relay,
			     const struct ll_technician *t, const char *name,
			     json_t *detail)
{
	int r;

	if ((r = ll_store_technician_set_display_name(relay->store, t->id,
						      name)) != LL_OK ||
	    (r = detail_merge(detail, who(t))) != LL_OK)
		return r;
	return detail_merge(detail,
			    json_pack("{s:s?,s:s}", "old_display_name",
				      t->display_name, "display_name", name));
}

int ll_tech_mfa_change(struct ll_relay *relay, const struct ll_technician *t,
		       bool reset, bool *was_locked, bool *was_enrolled,
		       json_t *detail)
{
	struct ll_store *st = relay->store;
	struct ll_mfa m;
	int r;

	*was_locked = *was_enrolled = false;
	r = ll_store_mfa_get(st, t->id, &m);
	if (r == LL_OK) {
		*was_locked = m.locked;
		*was_enrolled = m.seed_len > 0;
		ll_wipe(&m, sizeof(m));
	} else if (r != LL_ERR_NOT_FOUND) {
		return r;
	}
	if (reset && r == LL_OK)
		r = ll_store_mfa_reset(st, t->id);
	else if (!reset && *was_locked)
		r = ll_store_mfa_unlock(st, t->id);
	else
		r = LL_OK;
	/* A lost phone: whoever holds it may hold a token as well. */
	if (r == LL_OK && reset)
		r = ll_store_token_delete_for_technician(st, t->id);
	if (r == LL_OK)
		r = detail_merge(detail, who(t));
	if (r == LL_OK)
		r = detail_merge(detail, json_pack("{s:b,s:b}", "was_locked",
						   *was_locked, "was_enrolled",
						   *was_enrolled));
	return r;
}

int ll_tech_set_password(struct ll_relay *relay, const struct ll_technician *t,
			 const char *pw_hash, bool is_one_time,
			 int64_t *expires_at, json_t *detail)
{
	struct ll_store *st = relay->store;
	int r;

	if ((r = ll_store_technician_set_password(st, t->org_id, t->username,
						  pw_hash)) != LL_OK ||
	    (r = one_time(relay, t->id, is_one_time, expires_at)) != LL_OK ||
	    (r = ll_store_token_delete_for_technician(st, t->id)) != LL_OK ||
	    (r = detail_merge(detail, who(t))) != LL_OK)
		return r;
	return detail_merge(detail, json_pack("{s:b}", "one_time_password",
					      is_one_time));
}

int ll_tech_other_admins(struct ll_relay *relay, const struct ll_technician *t,
			 size_t *n_out)
{
	struct ll_technician **list = NULL;
	size_t n = 0, i, k = 0;
	int r;

	r = ll_store_technician_list(relay->store, t->org_id, &list, &n);
	if (r != LL_OK)
		return r;
	for (i = 0; i < n; i++)
		if (list[i]->id != t->id && list[i]->is_admin &&
		    !list[i]->disabled)
			k++;
	ll_technician_list_free(list, n);
	*n_out = k;
	return LL_OK;
}
