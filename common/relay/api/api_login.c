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
#include "ll_ldap.h"
#include "ll_text.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "ll_relay_api.h"
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
static const char *const body_secrets[] = { "password", NULL };

static void login_resume(struct ll_api_ctx *ctx);
static bool login_refused(struct ll_api_ctx *ctx,
			  const struct ll_technician *t);

/*
 * Directory login (ll_ldap.h, docs/SECURITY.md "Directory login"): the
 * search and the bind run on the worker pool with a copy of the org's
 * configuration; dir_resume applies what the directory said.
 */
struct dir_login_job {
	struct ll_ldap_config *cfg;
	char *login;
	char *password; /* secret */
	int result;     /* ll_ldap_login's */
	struct ll_ldap_user *user;
	char err[512]; /* what happened, never the password */
};

static void dir_login_job_free(void *arg)
{
	struct dir_login_job *j = arg;

	ll_secret_free(j->password);
	free(j->login);
	ll_ldap_user_free(j->user);
	ll_ldap_config_free(j->cfg);
	free(j);
}

static void dir_login_work(void *arg)
{
	struct dir_login_job *j = arg;

	j->result = ll_ldap_login(j->cfg, j->login, j->password, &j->user,
				  j->err, sizeof(j->err));
	LL_FREE_AND_NULL(ll_secret_free, j->password);
}

static void dir_resume(struct ll_api_ctx *ctx);

/* Hands the login to the directory of the org (cfg). */
static void dir_login_start(struct ll_api_ctx *ctx,
			    const struct ll_ldap_config *cfg,
			    const char *username, const char *password)
{
	struct dir_login_job *j;

	ll_api_detail_set(ctx, "directory", json_true());
	/* An empty password would be an anonymous bind, which many
	 * directories answer "success": refused before any bind. */
	if (password[0] == '\0') {
		ll_api_detail_set(ctx, "reason",
				  json_string("empty password"));
		ll_api_fail(ctx, LL_API_UNAUTHORIZED, LOGIN_FAILED);
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->cfg = ll_ldap_config_dup(cfg)) == NULL ||
	    (j->login = strdup(username)) == NULL ||
	    (j->password = strdup(password)) == NULL) {
		if (j != NULL)
			dir_login_job_free(j);
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return;
	}
	ll_api_defer(ctx, dir_login_work, dir_resume, j, dir_login_job_free);
}

/* What the directory answered, as the API's answer; true when the
 * login goes on. */
static bool dir_answer(struct ll_api_ctx *ctx, struct dir_login_job *j)
{
	if (j->result == LL_ERR_AUTH_FAILED) {
		/* the name as typed, made printable: no forged log lines */
		char *who = ll_text_printable_new(j->login, strlen(j->login),
						  64);

		ll_info("login: directory: %s: %s", who ? who : "?", j->err);
		free(who);
		ll_api_fail(ctx, LL_API_UNAUTHORIZED, LOGIN_FAILED);
		return false;
	}
	if (j->result != LL_OK) {
		ll_warn("login: directory unavailable: %s: %s",
			ll_strerror(j->result), j->err);
		ll_api_detail_set(ctx, "reason",
				  ll_api_json_text(j->err, 200));
		ll_api_fail(ctx, LL_API_DIRECTORY_UNAVAILABLE,
			    "the directory cannot be reached; try again "
			    "later");
		return false;
	}
	if (ll_username_valid(j->user->login))
		snprintf(ctx->actor, sizeof(ctx->actor), "technician:%s",
			 j->user->login);
	if (j->user->disabled) {
		ll_api_fail(ctx, LL_API_ACCOUNT_DISABLED,
			    "this account is disabled in the directory");
		return false;
	}
	if (j->user->map_index < 0) {
		ll_api_fail(ctx, LL_API_FORBIDDEN,
			    "this account is in no directory group that "
			    "may use this relay");
		return false;
	}
	return true;
}

/*
 * On the loop: the technician made what the directory says (added at
 * its first login), then the same refusals, second factor and token as
 * a local login.
 */
static void dir_resume(struct ll_api_ctx *ctx)
{
	struct dir_login_job *j = ctx->job;
	struct ll_dir_actor who = { ctx->actor, ctx->req->source_ip };
	struct ll_dir_counts cnt = { 0 };
	struct ll_technician *t = NULL;
	bool enrol = false;
	int64_t id = 0;
	int r;

	if (!dir_answer(ctx, j))
		goto out;
	r = ll_api_ldap_user_apply(ctx->relay, ctx->org_id, j->cfg, j->user,
				   &who, &cnt, &id);
	if (r == LL_ERR_NOT_FOUND) {
		ll_api_fail(ctx, LL_API_FORBIDDEN,
			    "the technician group this account's directory "
			    "group maps to does not exist");
		goto out;
	}
	if (r == LL_ERR_CONFLICT || r == LL_ERR_INVALID_ARG) {
		/* a local account of that name, or a name we cannot take */
		ll_api_fail(ctx, LL_API_UNAUTHORIZED, LOGIN_FAILED);
		goto out;
	}
	if (r != LL_OK || (r = ll_store_technician_get(ctx->relay->store, id,
						       &t)) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (login_refused(ctx, t) || ll_api_mfa_login(ctx, t, &enrol))
		goto out;
	ll_api_login_issue(ctx, t, enrol);
out:
	ll_technician_free(t);
}

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
	const struct ll_ldap_config *dir;
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
	/* Not a local account, in an org with a directory: the
	 * directory's to answer.  Local accounts (a break-glass admin)
	 * keep their password. */
	if (org_id != 0 && (t == NULL || t->directory_dn != NULL) &&
	    (dir = ll_api_ldap_config(relay, org_id)) != NULL) {
		dir_login_start(ctx, dir, username, password);
		goto out;
	}
	/* A directory technician without its directory: no password of
	 * its own (pw_hash is a marker), so the dummy verification. */
	if (t != NULL && t->directory_dn != NULL)
		LL_FREE_AND_NULL(ll_technician_free, t);
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
	ll_api_body_free(body, body_secrets);
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
