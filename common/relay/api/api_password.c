/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * POST /api/v1/password {"old_password", "new_password"} (bearer): a
 * technician changes their own password, which is also the only way out
 * of a one-time password (the envelope lets such a token call nothing
 * else but logout).  The old password is checked and the new one hashed
 * on the worker pool; the change then replaces exactly the hash that was
 * checked, and every other token of the technician is revoked (the one
 * this request came with stays).  The same per-address rate limit as
 * login: the old password is a guess like any other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_util.h"
#include "ll_ratelimit.h"
#include "ll_relay.h"
#include "api.h"

struct pw_job {
	int64_t tech_id;
	bool was_one_time;
	char *phc;     /* the hash old_pw is checked against */
	char *old_pw;  /* secret */
	char *new_pw;  /* secret */
	char *new_phc; /* the worker's, once old_pw matched */
	int result;    /* ll_password_verify's, or LL_ERR_NOMEM */
};

static void pw_job_free(void *arg)
{
	struct pw_job *j = arg;

	ll_secret_free(j->old_pw);
	ll_secret_free(j->new_pw);
	free(j->phc);
	free(j->new_phc);
	free(j);
}

static void pw_work(void *arg)
{
	struct pw_job *j = arg;

	j->result = ll_password_verify(j->phc, j->old_pw);
	if (j->result == LL_OK &&
	    (j->new_phc = ll_password_hash_new(j->new_pw)) == NULL)
		j->result = LL_ERR_NOMEM;
}

/* Both passwords live in the parsed body: wiped before it is freed. */
static const char *const body_secrets[] = { "old_password", "new_password",
					    NULL };

static void pw_resume(struct ll_api_ctx *ctx);

void ll_api_handle_password_change(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "old_password", JSON_STRING, true, LL_PASSWORD_MAX },
		{ "new_password", JSON_STRING, true, LL_PASSWORD_MAX },
		{ NULL, 0, false, 0 },
	};
	const struct ll_technician *t = ctx->tech;
	struct pw_job *j = NULL;
	json_t *body = NULL;
	const char *old_pw, *new_pw, *why;
	char msg[160];

	if (ll_api_ratelimit_check(ctx, ctx->relay->rl_login) != 0)
		goto out;
	if (ll_api_parse_body(ctx, fields, false, &body) != 0)
		goto out;
	/* A directory technician's password is the directory's. */
	if (t->directory_dn != NULL) {
		ll_api_fail(ctx, LL_API_FORBIDDEN,
			    "this account's password is the directory's: "
			    "change it there");
		goto out;
	}
	old_pw = json_string_value(json_object_get(body, "old_password"));
	new_pw = json_string_value(json_object_get(body, "new_password"));
	ll_api_detail_set(ctx, "one_time_password",
			  json_boolean(t->must_change_password));
	/* An expired one-time password is no way in, not even here. */
	if (ll_api_password_expired(ctx, t))
		goto out;
	if ((why = ll_password_problem(new_pw)) != NULL) {
		snprintf(msg, sizeof(msg), "new_password: %s", why);
		ll_api_fail(ctx, LL_API_BAD_REQUEST, msg);
		goto out;
	}
	if (strcmp(old_pw, new_pw) == 0) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "the new password must not be the old one");
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->phc = strdup(t->pw_hash)) == NULL ||
	    (j->old_pw = strdup(old_pw)) == NULL ||
	    (j->new_pw = strdup(new_pw)) == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	j->tech_id = t->id;
	j->was_one_time = t->must_change_password;
	ll_api_defer(ctx, pw_work, pw_resume, j, pw_job_free);
	j = NULL;
out:
	if (j != NULL)
		pw_job_free(j);
	ll_api_body_free(body, body_secrets);
}

/* The technician as it is now: gone or disabled meanwhile is a refusal. */
static int pw_still_allowed(struct ll_api_ctx *ctx, int64_t id)
{
	struct ll_technician *t = NULL;
	int r = ll_store_technician_get(ctx->relay->store, id, &t);

	if (r == LL_ERR_NOT_FOUND)
		ll_api_fail(ctx, LL_API_UNAUTHORIZED,
			    "the token is unknown or has expired");
	else if (r != LL_OK)
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
	else if (t->disabled)
		ll_api_fail(ctx, LL_API_ACCOUNT_DISABLED,
			    "this technician account is disabled");
	if (r == LL_OK && t->disabled)
		r = LL_ERR_DISABLED;
	ll_technician_free(t);
	return r;
}

static void pw_resume(struct ll_api_ctx *ctx)
{
	struct ll_store *st = ctx->relay->store;
	struct pw_job *j = ctx->job;
	const char *bearer = ll_http_request_bearer(ctx->req->http);
	uint8_t hash[LL_HASH_LEN];
	int r;

	memset(hash, 0, sizeof(hash));
	if (j->result == LL_ERR_AUTH_FAILED) {
		ll_api_fail(ctx, LL_API_FORBIDDEN,
			    "the old password is wrong");
		goto out;
	}
	if (j->result != LL_OK) {
		ll_error("password change: technician %lld: %s",
			 (long long)j->tech_id, ll_strerror(j->result));
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (pw_still_allowed(ctx, j->tech_id) != LL_OK)
		goto out;
	r = ll_store_technician_change_password(st, j->tech_id, j->phc,
						j->new_phc);
	if (r == LL_ERR_CONFLICT) {
		/* An administrator set another one during the check. */
		ll_api_fail(ctx, LL_API_CONFLICT,
			    "the password was changed meanwhile; log in "
			    "again");
		goto out;
	}
	if (r != LL_OK || bearer == NULL ||
	    ll_secret_hash(bearer, hash) != 0 ||
	    ll_store_token_delete_for_technician_but(st, j->tech_id, hash) !=
		    0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	ctx->resp->status = 204;
	ctx->resp->code = LL_API_OK;
out:
	ll_wipe(hash, sizeof(hash));
}
