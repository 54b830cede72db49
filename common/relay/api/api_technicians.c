/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The technicians of the administrator's own org (bearer, `admin`; issue
 * 11 item 4), the API face of `lifeline-relay technician ...`: the same
 * changes (core/techadmin.c), audited by the envelope as the
 * administrator with the values before and after.
 *
 *   GET    /api/v1/technicians                     the list
 *   POST   /api/v1/technicians {"name", "display_name"?, "admin"?}
 *                                                  201 with a one-time
 *                                                  password, shown once
 *   PATCH  /api/v1/technicians/NAME {"display_name"?, "disabled"?}
 *   POST   /api/v1/technicians/NAME/unlock         the second factor's lock
 *   POST   /api/v1/technicians/NAME/mfa-reset      forgets the factor
 *   POST   /api/v1/technicians/NAME/password       a new one-time password
 *
 * Another org's technician is not found (404), as an unknown name.  The
 * last enabled administrator of an org cannot be disabled (409
 * conflict): nobody could administer the org through the API then.
 * Passwords are generated and hashed on the worker pool; the answer is
 * the only place a generated password ever appears.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "api.h"

/* Adds every key of src (stolen) to the request's audit detail. */
static void detail_take(struct ll_api_ctx *ctx, json_t *src)
{
	const char *k;
	json_t *v;

	json_object_foreach(src, k, v)
		ll_api_detail_set(ctx, k, json_incref(v));
	json_decref(src);
}

/* One technician as the list shows it; NULL when out of memory. */
static json_t *tech_json(struct ll_api_ctx *ctx, const struct ll_technician *t)
{
	struct ll_mfa m;
	bool mfa = false, locked = false;
	json_t *o;

	if (ll_store_mfa_get(ctx->relay->store, t->id, &m) == LL_OK) {
		mfa = m.seed_len > 0;
		locked = m.locked;
		ll_wipe(&m, sizeof(m));
	}
	o = json_pack("{s:s,s:o,s:o,s:b,s:b,s:b,s:b,s:b}", "name", t->username,
		      "display_name",
		      t->display_name ? json_string(t->display_name)
				      : json_null(),
		      "group",
		      t->group_name ? json_string(t->group_name) : json_null(),
		      "admin", t->is_admin, "disabled", t->disabled, "locked",
		      locked, "mfa", mfa, "password_change_required",
		      t->must_change_password);
	return o;
}

void ll_api_handle_technician_list(struct ll_api_ctx *ctx)
{
	struct ll_technician **list = NULL;
	json_t *arr = json_array(), *o;
	size_t n = 0, i;

	if (arr == NULL ||
	    ll_store_technician_list(ctx->relay->store, ctx->tech->org_id,
				     &list, &n) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((o = tech_json(ctx, list[i])) == NULL ||
		    json_array_append_new(arr, o) != 0) {
			ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
			goto out;
		}
	}
	/* a page that reloads often: the list is not news */
	ctx->audit_quiet = true;
	ll_api_answer(ctx, 200, json_pack("{s:O}", "technicians", arr));
out:
	json_decref(arr);
	ll_technician_list_free(list, n);
}

/* The technician of the path in the administrator's org, or NULL with
 * 404 filled. */
static struct ll_technician *path_tech(struct ll_api_ctx *ctx)
{
	const char *name = ll_api_param(ctx, "name");
	struct ll_technician *t = NULL;
	int r = LL_ERR_NOT_FOUND;

	if (name != NULL)
		r = ll_store_technician_find(ctx->relay->store,
					     ctx->tech->org_id, name, &t);
	ll_api_detail_set(ctx, "username",
			  ll_api_json_text(name ? name : "", 64));
	if (r == LL_ERR_NOT_FOUND)
		ll_api_fail(ctx, LL_API_NOT_FOUND,
			    "no such technician in your organisation");
	else if (r != LL_OK)
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
	return r == LL_OK ? t : NULL;
}

/* ---- a generated password, hashed off the loop ---- */

struct pw_job {
	char *name;         /* the technician's */
	char *display_name; /* add only */
	bool admin;         /* add only */
	char *pw;           /* secret, generated */
	char *hash;         /* the worker's */
};

static void pw_job_free(void *arg)
{
	struct pw_job *j = arg;

	ll_secret_free(j->pw);
	free(j->hash);
	free(j->name);
	free(j->display_name);
	free(j);
}

static void pw_work(void *arg)
{
	struct pw_job *j = arg;

	j->hash = ll_password_hash_new(j->pw);
}

/* A job with a generated password, or NULL with 500 filled. */
static struct pw_job *pw_job_new(struct ll_api_ctx *ctx, const char *name,
				 const char *display_name)
{
	struct pw_job *j = calloc(1, sizeof(*j));

	if (j == NULL || (j->name = strdup(name)) == NULL ||
	    (display_name != NULL &&
	     (j->display_name = strdup(display_name)) == NULL) ||
	    (j->pw = ll_password_generate_new()) == NULL) {
		if (j != NULL)
			pw_job_free(j);
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return NULL;
	}
	return j;
}

/* 2xx with the password, shown this once, and its expiry. */
static void pw_answer(struct ll_api_ctx *ctx, int status,
		      const struct pw_job *j, int64_t expires_at)
{
	ll_api_answer(ctx, status,
		      json_pack("{s:s,s:s,s:o}", "name", j->name,
				"one_time_password", j->pw, "expires_at",
				ll_api_time_json(expires_at)));
}

static void add_resume(struct ll_api_ctx *ctx)
{
	struct pw_job *j = ctx->job;
	struct ll_tech_new n = { .org_id = ctx->tech->org_id,
				 .username = j->name,
				 .pw_hash = j->hash,
				 .display_name = j->display_name,
				 .admin = j->admin,
				 .one_time = true };
	json_t *detail = json_object();
	int64_t expires_at = 0;
	int r;

	if (j->hash == NULL || detail == NULL) {
		json_decref(detail);
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return;
	}
	r = ll_tech_add(ctx->relay, &n, NULL, &expires_at, detail);
	detail_take(ctx, detail);
	if (r == LL_ERR_CONFLICT) {
		ll_api_fail(ctx, LL_API_CONFLICT,
			    "a technician of that name exists already");
		return;
	}
	if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return;
	}
	pw_answer(ctx, 201, j, expires_at);
}

void ll_api_handle_technician_add(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "name", JSON_STRING, true, LL_USERNAME_MAX },
		{ "display_name", JSON_STRING, false, LL_DISPLAY_NAME_MAX },
		{ "admin", JSON_TRUE, false, 0 },
		{ NULL, 0, false, 0 },
	};
	struct ll_technician *t = NULL;
	struct pw_job *j;
	json_t *body = NULL;
	const char *name, *dn;

	if (ll_api_parse_body(ctx, fields, false, &body) != 0)
		return;
	name = json_string_value(json_object_get(body, "name"));
	dn = json_string_value(json_object_get(body, "display_name"));
	ll_api_detail_set(ctx, "username", ll_api_json_text(name, 64));
	if (!ll_username_valid(name)) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "name: 1 to 64 of A-Z a-z 0-9 . _ - @, starting "
			    "with a letter or digit");
	} else if (dn != NULL && !ll_tech_display_name_ok(dn)) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "display_name: one line of printable UTF-8 (no "
			    "control or bidi characters)");
	} else if (ll_store_technician_find(ctx->relay->store,
					    ctx->tech->org_id, name,
					    &t) == LL_OK) {
		/* at once, rather than after the hash (add_resume looks
		 * again) */
		ll_api_fail(ctx, LL_API_CONFLICT,
			    "a technician of that name exists already");
	} else if ((j = pw_job_new(ctx, name, dn)) != NULL) {
		j->admin = json_is_true(json_object_get(body, "admin"));
		ll_api_defer(ctx, pw_work, add_resume, j, pw_job_free);
	}
	ll_technician_free(t);
	json_decref(body);
}

/* An admin disabled leaves the org with another enabled admin, or the
 * answer is 409 (filled; true). */
static bool last_admin(struct ll_api_ctx *ctx, const struct ll_technician *t)
{
	size_t others = 0;

	if (!t->is_admin || t->disabled)
		return false;
	if (ll_tech_other_admins(ctx->relay, t, &others) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return true;
	}
	if (others > 0)
		return false;
	ll_api_fail(ctx, LL_API_CONFLICT,
		    "this is the organisation's last enabled administrator: "
		    "make another one first");
	return true;
}

void ll_api_handle_technician_patch(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "display_name", JSON_STRING, false, LL_DISPLAY_NAME_MAX },
		{ "disabled", JSON_TRUE, false, 0 },
		{ NULL, 0, false, 0 },
	};
	struct ll_technician *t = NULL;
	json_t *body = NULL, *detail = json_object(), *dis;
	const char *dn;
	int r = LL_OK;

	if (detail == NULL || ll_api_parse_body(ctx, fields, false, &body) ||
	    (t = path_tech(ctx)) == NULL)
		goto out;
	dn = json_string_value(json_object_get(body, "display_name"));
	dis = json_object_get(body, "disabled");
	if (dn == NULL && dis == NULL) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "say what to change: display_name, disabled");
		goto out;
	}
	if (dn != NULL && !ll_tech_display_name_ok(dn)) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "display_name: one line of printable UTF-8 (no "
			    "control or bidi characters)");
		goto out;
	}
	if (json_is_true(dis) && last_admin(ctx, t))
		goto out;
	if (dn != NULL)
		r = ll_tech_set_display_name(ctx->relay, t, dn, detail);
	if (r == LL_OK && dis != NULL)
		r = ll_tech_set_disabled(ctx->relay, t, json_is_true(dis),
					 detail);
	detail_take(ctx, detail);
	detail = NULL;
	if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	ll_technician_free(t);
	t = NULL;
	if ((r = ll_store_technician_find(ctx->relay->store, ctx->tech->org_id,
					  ll_api_param(ctx, "name"), &t)) !=
	    LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	ll_api_answer(ctx, 200, tech_json(ctx, t));
out:
	json_decref(detail);
	json_decref(body);
	ll_technician_free(t);
}

static void mfa_change(struct ll_api_ctx *ctx, bool reset)
{
	struct ll_technician *t = path_tech(ctx);
	json_t *detail;
	bool was_locked = false, enrolled = false;
	int r;

	if (t == NULL)
		return;
	detail = json_object();
	r = detail ? ll_tech_mfa_change(ctx->relay, t, reset, &was_locked,
					&enrolled, detail)
		   : LL_ERR_NOMEM;
	detail_take(ctx, detail);
	if (r != LL_OK)
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
	else
		ll_api_answer(ctx, 200,
			      json_pack("{s:s,s:b,s:b}", "name", t->username,
					"was_locked", was_locked,
					"was_enrolled", enrolled));
	ll_technician_free(t);
}

void ll_api_handle_technician_unlock(struct ll_api_ctx *ctx)
{
	mfa_change(ctx, false);
}

void ll_api_handle_technician_mfa_reset(struct ll_api_ctx *ctx)
{
	mfa_change(ctx, true);
}

static void password_resume(struct ll_api_ctx *ctx)
{
	struct pw_job *j = ctx->job;
	struct ll_technician *t = NULL;
	json_t *detail = json_object();
	int64_t expires_at = 0;
	int r;

	/* looked up again: it may be gone since */
	if ((t = path_tech(ctx)) == NULL)
		goto out;
	if (j->hash == NULL || detail == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	r = ll_tech_set_password(ctx->relay, t, j->hash, true, &expires_at,
				 detail);
	detail_take(ctx, detail);
	detail = NULL;
	if (r != LL_OK)
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
	else
		pw_answer(ctx, 200, j, expires_at);
out:
	json_decref(detail);
	ll_technician_free(t);
}

void ll_api_handle_technician_password(struct ll_api_ctx *ctx)
{
	struct ll_technician *t = path_tech(ctx);
	struct pw_job *j;

	if (t != NULL && (j = pw_job_new(ctx, t->username, NULL)) != NULL)
		ll_api_defer(ctx, pw_work, password_resume, j, pw_job_free);
	ll_technician_free(t);
}
