/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GET and PUT /api/v1/orgs/ORG/policy: the org's policy for technicians
 * with the admin permission, the API face of `lifeline-relay policy`
 * (cmd_policy.c).  The keys, their types and defaults are the one table
 * of core/policy.c.  An administrator manages their own org only.
 *
 * A PUT is all or nothing: every key is checked before anything is
 * written, and the envelope's transaction commits the changes together
 * with their audit record (action policy.set, detail.changes: key, old,
 * new for each key whose value changed).  The relay reads policy per
 * request, so a change holds from the next request on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ll_util.h"
#include "ll_cidr.h"
#include "ll_relay.h"
#include "api.h"

/* The org of the path, when it is the caller's own: 403 otherwise. */
static bool own_org(struct ll_api_ctx *ctx)
{
	const char *org = ll_api_param(ctx, "org");

	ll_api_detail_set(ctx, "org", ll_api_json_text(org, 64));
	if (org != NULL && ctx->tech->org_name != NULL &&
	    strcmp(org, ctx->tech->org_name) == 0)
		return true;
	ll_api_fail(ctx, LL_API_FORBIDDEN,
		    "an administrator manages their own organisation's "
		    "policy only");
	return false;
}

/* {KEY: VALUE, ...} of every key, in the table's order. */
static json_t *policy_doc(struct ll_api_ctx *ctx)
{
	json_t *doc = json_object(), *v;
	char *text = NULL;
	size_t i;

	for (i = 0; doc != NULL && i < ll_policy_key_count; i++) {
		const struct ll_policy_key *k = &ll_policy_keys[i];

		if (ll_policy_get_text(ctx->relay->store, &ctx->relay->cfg,
				       ctx->org_id, k->name, &text,
				       NULL) != LL_OK ||
		    (v = ll_policy_value_json(k, text)) == NULL ||
		    json_object_set_new(doc, k->name, v) != 0) {
			json_decref(doc);
			doc = NULL;
		}
		LL_FREE_AND_NULL(free, text);
	}
	return doc;
}

void ll_api_handle_policy_get(struct ll_api_ctx *ctx)
{
	if (!own_org(ctx))
		return;
	ll_api_answer(ctx, 200, policy_doc(ctx));
}

static bool body_object(struct ll_api_ctx *ctx, json_t **out)
{
	const struct ll_http_request *http = ctx->req->http;
	const char *ct = ll_http_request_header(http, "Content-Type");

	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
	    http->body == NULL || http->body_len == 0) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "the body must be a JSON object {KEY: VALUE, ...} "
			    "(Content-Type: application/json)");
		return false;
	}
	*out = json_loadb((const char *)http->body, http->body_len,
			  JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "the body must be a JSON object {KEY: VALUE, ...}");
		return false;
	}
	return true;
}

/* One key of a PUT: value NULL (JSON null) unsets it.  Appends the change,
 * when the value in force changes, to changes. */
static bool put_one(struct ll_api_ctx *ctx, const struct ll_policy_key *k,
		    const json_t *value, json_t *changes)
{
	struct ll_store *st = ctx->relay->store;
	char *old = NULL, *now = NULL, err[256], msg[320];
	bool old_set = false, ok = false;
	int r;

	if (json_is_null(value))
		now = ll_policy_default_text(k, &ctx->relay->cfg);
	else if ((r = ll_policy_parse_json(k, value, &now, err,
					   sizeof(err))) != LL_OK) {
		snprintf(msg, sizeof(msg), "%s",
			 r == LL_ERR_INVALID_ARG ? err : "out of memory");
		ll_api_fail(ctx,
			    r == LL_ERR_INVALID_ARG ? LL_API_BAD_REQUEST
						    : LL_API_INTERNAL,
			    msg);
		ll_api_detail_set(ctx, "key", json_string(k->name));
		return false;
	}
	if (now == NULL ||
	    ll_policy_get_text(st, &ctx->relay->cfg, ctx->org_id, k->name,
			       &old, &old_set) != LL_OK)
		goto internal;
	if (json_is_null(value))
		r = old_set ? ll_store_policy_unset(st, ctx->org_id, k->name)
			    : LL_OK;
	else
		r = ll_store_policy_set(st, ctx->org_id, k->name, now);
	if (r != LL_OK)
		goto internal;
	if (old_set != !json_is_null(value) || strcmp(old, now) != 0)
		json_array_append_new(
			changes,
			json_pack("{s:s,s:o,s:o,s:b,s:b}", "key", k->name,
				  "old", ll_policy_value_json(k, old), "new",
				  ll_policy_value_json(k, now), "old_default",
				  !old_set, "new_default",
				  json_is_null(value)));
	ok = true;
	goto out;
internal:
	ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
out:
	free(old);
	free(now);
	return ok;
}

void ll_api_handle_policy_put(struct ll_api_ctx *ctx)
{
	json_t *body = NULL, *changes = NULL, *v, *shown;
	const struct ll_policy_key *k;
	const char *key;
	char msg[160];

	if (!own_org(ctx) || !body_object(ctx, &body))
		goto out;
	/* every key first: an unknown one changes nothing */
	json_object_foreach(body, key, v)
	{
		if (ll_policy_key_find(key) != NULL)
			continue;
		shown = ll_api_json_text(key, 40);
		snprintf(msg, sizeof(msg), "unknown policy key \"%s\"",
			 json_is_string(shown) ? json_string_value(shown)
					       : "?");
		json_decref(shown);
		ll_api_fail(ctx, LL_API_BAD_REQUEST, msg);
		goto out;
	}
	if ((changes = json_array()) == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "out of memory");
		goto out;
	}
	json_object_foreach(body, key, v)
	{
		k = ll_policy_key_find(key);
		if (!put_one(ctx, k, v, changes))
			goto out; /* the envelope rolls every key back */
	}
	ll_api_detail_set(ctx, "changes", json_incref(changes));
	ll_api_answer(ctx, 200, policy_doc(ctx));
out:
	json_decref(changes);
	json_decref(body);
}

/* ---- who is asking: technician_cidrs and trusted_proxies ---- */

int ll_api_client_addr(struct ll_api_ctx *ctx, int64_t org_id, char *out,
		       size_t outlen)
{
	const struct ll_http_request *http = ctx->req->http;
	const char *peer = ctx->req->source_ip ? ctx->req->source_ip : "";
	struct ll_cidr_list *proxies = NULL;
	char *text = NULL, err[200];
	int r;

	snprintf(out, outlen, "%s", peer);
	r = ll_policy_get_text(ctx->relay->store, &ctx->relay->cfg, org_id,
			       "trusted_proxies", &text, NULL);
	if (r != LL_OK)
		return r;
	/* off by default: an empty list trusts no one */
	if (text[0] != '\0' &&
	    ll_cidr_list_parse(text, &proxies, err, sizeof(err)) == LL_OK &&
	    ll_cidr_list_match(proxies, peer) &&
	    !ll_cidr_forwarded_client(
		    ll_http_request_header(http, "Forwarded"),
		    ll_http_request_header(http, "X-Forwarded-For"), out,
		    outlen))
		snprintf(out, outlen, "%s", peer);
	ll_cidr_list_free(proxies);
	free(text);
	return LL_OK;
}

/* Is the client outside org_id's ranges `key`?  Fills the refusal.
 * An empty list is any address, or none when empty_is_none. */
static bool ip_refused(struct ll_api_ctx *ctx, int64_t org_id, const char *key,
		       bool empty_is_none, enum ll_api_code code,
		       const char *message)
{
	struct ll_cidr_list *allow = NULL;
	char *text = NULL, err[200], addr[64];
	bool refused = true;

	if (ll_policy_get_text(ctx->relay->store, &ctx->relay->cfg, org_id,
			       key, &text, NULL) != LL_OK ||
	    ll_api_client_addr(ctx, org_id, addr, sizeof(addr)) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	/* empty: any address (or none) */
	if (text[0] == '\0' && !empty_is_none) {
		refused = false;
		goto out;
	}
	if (text[0] == '\0') {
		ll_api_detail_set(ctx, "client_addr", json_string(addr));
		ll_api_detail_set(ctx, "why", json_string("no_ranges"));
		ll_api_fail(ctx, code, message);
		goto out;
	}
	if (ll_cidr_list_parse(text, &allow, err, sizeof(err)) != LL_OK) {
		/* policy set checks every value: a store edited by hand */
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (ll_cidr_list_match(allow, addr)) {
		refused = false;
		goto out;
	}
	ll_api_detail_set(ctx, "client_addr", json_string(addr));
	ll_api_fail(ctx, code, message);
out:
	ll_cidr_list_free(allow);
	free(text);
	return refused;
}

bool ll_api_technician_ip_refused(struct ll_api_ctx *ctx, int64_t org_id)
{
	return ip_refused(ctx, org_id, "technician_cidrs", false,
			  LL_API_IP_NOT_ALLOWED,
			  "your organisation does not allow technicians to "
			  "work from this network (technician_cidrs)");
}

/*
 * The technician's group's ranges, after the org's: both must allow.
 * The same client address as the org's check (its trusted_proxies).
 */
static bool group_ip_refused(struct ll_api_ctx *ctx, int64_t org_id,
			     const struct ll_technician *t)
{
	struct ll_cidr_list *allow = NULL;
	char err[200], addr[64];
	bool refused = true;

	if (t == NULL || t->group_end_user_cidrs == NULL ||
	    t->group_end_user_cidrs[0] == '\0')
		return false;
	if (ll_api_client_addr(ctx, org_id, addr, sizeof(addr)) != LL_OK ||
	    ll_cidr_list_parse(t->group_end_user_cidrs, &allow, err,
			       sizeof(err)) != LL_OK) {
		/* group set checks every value: a store edited by hand */
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (ll_cidr_list_match(allow, addr)) {
		refused = false;
		goto out;
	}
	ll_api_detail_set(ctx, "client_addr", json_string(addr));
	ll_api_detail_set(ctx, "why", json_string("group_end_user_cidrs"));
	ll_api_detail_set(ctx, "group", json_string(t->group_name));
	/* the group's name is the org's business, not the end user's */
	ll_api_fail(ctx, LL_API_END_USER_IP_NOT_ALLOWED,
		    "your technician may not support a computer on this "
		    "network (end_user_cidrs)");
out:
	ll_cidr_list_free(allow);
	return refused;
}

/*
 * internal_only makes the org's ranges a must: while they are empty no
 * address is the org's own network, so nothing redeems (closed, rather
 * than open to the world by an oversight).
 */
bool ll_api_end_user_ip_refused(struct ll_api_ctx *ctx, int64_t org_id,
				const struct ll_technician *t)
{
	bool internal = false;

	if (ll_policy_get_bool(ctx->relay->store, &ctx->relay->cfg, org_id,
			       "internal_only", &internal) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return true;
	}
	return ip_refused(ctx, org_id, "end_user_cidrs", internal,
			  LL_API_END_USER_IP_NOT_ALLOWED,
			  internal ? "this organisation's PINs work only from "
				     "its own network (internal_only)"
				   : "this organisation's technicians may not "
				     "support a computer on this network "
				     "(end_user_cidrs)") ||
	       group_ip_refused(ctx, org_id, t);
}
