/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * POST /api/v1/login and /api/v1/logout.  An unknown user, an unknown org
 * and a wrong password get the same answer after the same work (one
 * Argon2id verification each, on the worker pool), so neither accounts
 * nor orgs can be told apart from the outside.  A one-time password
 * (cmd_technician.c) past its expiry is refused, but said so only to
 * whoever knows it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "api.h"

#define LOGIN_FAILED "wrong username or password"

/* What the worker pool checks: the technician's hash (NULL for an unknown
 * org or user: the dummy verification, the same work) and the password. */
struct login_job {
	int64_t tech_id;
	char *phc;
	char *password; /* secret */
	int result;     /* ll_password_verify's */
};

static void login_job_free(void *arg)
{
	struct login_job *j = arg;

	ll_secret_free(j->password);
	free(j->phc);
	free(j);
}

static void login_work(void *arg)
{
	struct login_job *j = arg;

	if (j->phc != NULL)
		j->result = ll_password_verify(j->phc, j->password);
	else
		j->result = ll_password_verify_dummy(j->password);
}

/* The body's password, wiped before the body is freed. */
static void body_free(json_t *body)
{
	json_t *p;

	if (body == NULL)
		return;
	p = json_object_get(body, "password");
	if (json_is_string(p) && json_string_length(p) > 0)
		ll_wipe((char *)json_string_value(p), json_string_length(p));
	json_decref(body);
}

static void login_resume(struct ll_api_ctx *ctx);

/*
 * The first half: rate limit, body, org and technician; the password is
 * checked on the worker pool (ll_api_defer), login_resume does the rest.
 */
void ll_api_handle_login(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "org", JSON_STRING, false, 128 },
		{ "username", JSON_STRING, true, 128 },
		{ "password", JSON_STRING, true, 1024 },
		{ NULL, 0, false, 0 },
	};
	struct ll_relay *relay = ctx->relay;
	struct ll_technician *t = NULL;
	struct login_job *j = NULL;
	json_t *body = NULL;
	const char *org, *username, *password;
	int64_t org_id = 0;
	int r;

	if (ll_api_ratelimit_check(ctx, relay->rl_login) != 0)
		goto out;
	if (ll_api_parse_body(ctx, fields, false, &body) != 0)
		goto out;
	org = json_string_value(json_object_get(body, "org"));
	username = json_string_value(json_object_get(body, "username"));
	password = json_string_value(json_object_get(body, "password"));
	ll_api_detail_set(ctx, "username", ll_api_json_text(username, 64));
	if (org != NULL)
		ll_api_detail_set(ctx, "org", ll_api_json_text(org, 64));

	if (org != NULL) {
		r = ll_store_org_find(relay->store, org, &org_id);
	} else {
		r = ll_store_org_default(relay->store, &org_id);
		if (r == LL_ERR_CONFLICT) {
			/* several orgs and none named: say which */
			ll_api_fail(ctx, LL_API_BAD_REQUEST,
				    "this relay serves several orgs: name one "
				    "in \"org\"");
			goto out;
		}
	}
	/* from outside the org's ranges: refused before any password */
	if (r == LL_OK && ll_api_technician_ip_refused(ctx, org_id)) {
		ctx->org_id = org_id;
		goto out;
	}
	if (r == LL_OK) {
		ctx->org_id = org_id;
		r = ll_store_technician_find(relay->store, org_id, username,
					     &t);
	}
	if (r != LL_OK && r != LL_ERR_NOT_FOUND) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->password = strdup(password)) == NULL ||
	    (t != NULL && strcmp(t->pw_hash, LL_PW_HASH_SSO) != 0 &&
	     (j->phc = strdup(t->pw_hash)) == NULL)) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (t != NULL) {
		snprintf(ctx->actor, sizeof(ctx->actor), "technician:%s",
			 t->username);
		j->tech_id = t->id;
	}
	ll_api_defer(ctx, login_work, login_resume, j, login_job_free);
	j = NULL;
out:
	if (j != NULL)
		login_job_free(j);
	ll_technician_free(t);
	body_free(body);
}

/* Refusals that only someone who knows the password may see. */
static bool login_refused(struct ll_api_ctx *ctx,
			  const struct ll_technician *t)
{
	if (t->disabled) {
		ll_api_fail(ctx, LL_API_ACCOUNT_DISABLED,
			    "this technician account is disabled");
		return true;
	}
	if (ll_api_password_expired(ctx, t))
		return true;
	return false;
}

/*
 * The second half, after the verification: the technician once more (it
 * may have changed during the check), then the token.
 */
static void login_resume(struct ll_api_ctx *ctx)
{
	struct ll_relay *relay = ctx->relay;
	struct login_job *j = ctx->job;
	struct ll_technician *t = NULL;
	bool enrol = false;
	int r;

	/* An unknown org or user and a wrong password: one answer. */
	if (j->phc == NULL || j->result == LL_ERR_AUTH_FAILED) {
		ll_api_fail(ctx, LL_API_UNAUTHORIZED, LOGIN_FAILED);
		goto out;
	}
	if (j->result != LL_OK) {
		ll_error("login: technician %lld has an unusable password "
			 "hash: %s",
			 (long long)j->tech_id, ll_strerror(j->result));
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	r = ll_store_technician_get(relay->store, j->tech_id, &t);
	if (r == LL_ERR_NOT_FOUND ||
	    (r == LL_OK && strcmp(t->pw_hash, j->phc) != 0)) {
		/* Gone, or the password changed meanwhile: the one that was
		 * checked is no longer it. */
		ll_api_fail(ctx, LL_API_UNAUTHORIZED, LOGIN_FAILED);
		goto out;
	}
	if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (login_refused(ctx, t))
		goto out;
	if (ll_api_mfa_login(ctx, t, &enrol))
		goto out;
	ll_api_login_issue(ctx, t, enrol);
out:
	ll_technician_free(t);
}

void ll_api_login_issue(struct ll_api_ctx *ctx, const struct ll_technician *t,
			bool enrol_required)
{
	struct ll_relay *relay = ctx->relay;
	json_t *perms = NULL;
	char *token = NULL;
	uint8_t hash[LL_HASH_LEN];

	memset(hash, 0, sizeof(hash));
	if ((token = ll_random_token_new(32)) == NULL ||
	    ll_secret_hash(token, hash) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (ll_store_token_add(relay->store, hash, t->id, ctx->now,
			       ctx->now + relay->cfg.token_lifetime_s) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	perms = ll_api_permissions_json(t);
	/* password_change_required and mfa_enrollment_required: every
	 * other request of this token answers 403 until the password is
	 * changed / the second factor set up (api.c, authenticate). */
	ctx->resp->body = json_pack(
		"{s:s,s:I,s:b,s:b,s:{s:I,s:s,s:s,s:o}}", "token", token,
		"expires_in", (json_int_t)relay->cfg.token_lifetime_s,
		"password_change_required", t->must_change_password,
		"mfa_enrollment_required", enrol_required, "technician", "id",
		(json_int_t)t->id, "name", t->username, "org",
		t->org_name ? t->org_name : "", "permissions", perms);
	perms = NULL; /* "o" steals it, also on failure */
	if (ctx->resp->body == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	ctx->resp->status = 200;
	ctx->resp->code = LL_API_OK;
	ll_api_detail_set(ctx, "expires_in",
			  json_integer(relay->cfg.token_lifetime_s));
	if (t->must_change_password)
		ll_api_detail_set(ctx, "password_change_required",
				  json_true());
	if (enrol_required)
		ll_api_detail_set(ctx, "mfa_enrollment_required", json_true());
out:
	ll_wipe(hash, sizeof(hash));
	ll_secret_free(token);
	json_decref(perms);
}

void ll_api_handle_logout(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ NULL, 0, false, 0 },
	};
	json_t *body = NULL;
	uint8_t hash[LL_HASH_LEN];
	const char *bearer;

	memset(hash, 0, sizeof(hash));
	if (ll_api_parse_body(ctx, fields, true, &body) != 0)
		goto out;
	bearer = ll_http_request_bearer(ctx->req->http);
	if (ll_secret_hash(bearer, hash) != 0 ||
	    ll_store_token_delete(ctx->relay->store, hash) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	ctx->resp->status = 204;
	ctx->resp->code = LL_API_OK;
out:
	ll_wipe(hash, sizeof(hash));
	json_decref(body);
}
