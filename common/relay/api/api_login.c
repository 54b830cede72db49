/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * POST /api/v1/login and /api/v1/logout.  An unknown user, an unknown org
 * and a wrong password get the same answer after the same work (one
 * Argon2id verification each), so neither accounts nor orgs can be told
 * apart from the outside.
 */
#include <stdio.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "api.h"

#define LOGIN_FAILED "wrong username or password"

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
	json_t *body = NULL, *perms = NULL;
	const char *org, *username, *password;
	char *token = NULL;
	uint8_t hash[LL_HASH_LEN];
	int64_t org_id = 0, tech_id;
	int r;

	memset(hash, 0, sizeof(hash));
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
	if (r == LL_OK) {
		ctx->org_id = org_id;
		r = ll_store_technician_find(relay->store, org_id, username,
					     &t);
	}
	if (r == LL_ERR_NOT_FOUND) {
		ll_password_verify_dummy(password);
		ll_api_fail(ctx, LL_API_UNAUTHORIZED, LOGIN_FAILED);
		goto out;
	}
	if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	snprintf(ctx->actor, sizeof(ctx->actor), "technician:%s", t->username);
	r = ll_password_verify(t->pw_hash, password);
	if (r == LL_ERR_AUTH_FAILED) {
		ll_api_fail(ctx, LL_API_UNAUTHORIZED, LOGIN_FAILED);
		goto out;
	}
	if (r != LL_OK) {
		ll_error("login: technician %lld has an unusable password "
			 "hash: %s",
			 (long long)t->id, ll_strerror(r));
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	/* Only someone who knows the password learns the account state. */
	if (t->disabled) {
		ll_api_fail(ctx, LL_API_ACCOUNT_DISABLED,
			    "this technician account is disabled");
		goto out;
	}

	if ((token = ll_random_token_new(32)) == NULL ||
	    ll_secret_hash(token, hash) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	tech_id = t->id;
	if (ll_store_token_add(relay->store, hash, tech_id, ctx->now,
			       ctx->now + relay->cfg.token_lifetime_s) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	perms = ll_api_permissions_json(t);
	ctx->resp->body = json_pack("{s:s,s:I,s:{s:I,s:s,s:s,s:o}}", "token",
				    token, "expires_in",
				    (json_int_t)relay->cfg.token_lifetime_s,
				    "technician", "id", (json_int_t)t->id,
				    "name", t->username, "org",
				    t->org_name ? t->org_name : "",
				    "permissions", perms);
	perms = NULL; /* "o" steals it, also on failure */
	if (ctx->resp->body == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	ctx->resp->status = 200;
	ctx->resp->code = LL_API_OK;
	ll_api_detail_set(ctx, "expires_in",
			  json_integer(relay->cfg.token_lifetime_s));
out:
	ll_wipe(hash, sizeof(hash));
	ll_secret_free(token);
	ll_technician_free(t);
	json_decref(perms);
	/* the password lives in the parsed body: wipe it before freeing */
	if (body != NULL) {
		json_t *p = json_object_get(body, "password");

		if (json_is_string(p) && json_string_length(p) > 0)
			ll_wipe((char *)json_string_value(p),
				json_string_length(p));
	}
	json_decref(body);
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
