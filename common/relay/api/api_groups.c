/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Technician groups through the API, for administrators of the org
 * (AUTH_ADMIN rows; docs/API.md "Groups and permissions"): list, add,
 * change and remove the org's groups, and put a technician into one.
 * Each change's audit record has the old value and the new.  Narrowing
 * ends the live sessions that carry a permission taken away at the
 * relay's next tick (ll_api_periodic), as the CLI's changes do.
 * end_user_cidrs limits where the group's technicians' PINs redeem
 * from (ll_api_end_user_ip_refused), besides the org's own ranges.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ll_control.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "ll_cidr.h"
#include "api.h"

/* The longest end_user_cidrs text accepted: the policy value's bound */
#define CIDRS_CAP (LL_CIDR_LIST_MAX * 64)

/* A group's ranges as the API and the audit show them: null for none. */
static json_t *cidrs_json(const char *cidrs)
{
	return cidrs != NULL && cidrs[0] != '\0' ? json_string(cidrs)
						 : json_null();
}

/* A group as the API shows it. */
static json_t *group_json(const struct ll_group *g)
{
	return json_pack("{s:s,s:o,s:I,s:o}", "name", g->name, "permissions",
			 ll_api_perms_json(g->permissions), "members",
			 (json_int_t)g->members, "end_user_cidrs",
			 cidrs_json(g->end_user_cidrs));
}

/* "end_user_cidrs" of the body, when there: its plain form ("" for
 * none) in *out; 400 naming the problem when it is no list of ranges. */
static bool cidrs_from_body(struct ll_api_ctx *ctx, json_t *body, char **out)
{
	json_t *v = json_object_get(body, "end_user_cidrs");
	char err[200] = "", msg[300];
	int r;

	*out = NULL;
	if (v == NULL)
		return true;
	r = ll_group_cidrs_parse(json_string_value(v), out, err, sizeof(err));
	if (r == LL_OK)
		return true;
	if (r != LL_ERR_INVALID_ARG) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return false;
	}
	snprintf(msg, sizeof(msg), "field \"end_user_cidrs\": %s", err);
	ll_api_fail(ctx, LL_API_BAD_REQUEST, msg);
	return false;
}

/* The {name} of the path as a group name; 404 when it cannot be one
 * (the same answer as no such group). */
static const char *path_group(struct ll_api_ctx *ctx)
{
	const char *name = ll_api_param(ctx, "name");

	if (name != NULL && ll_group_name_valid(name)) {
		ll_api_detail_set(ctx, "group", json_string(name));
		return name;
	}
	ll_api_fail(ctx, LL_API_NOT_FOUND, "no such group");
	return NULL;
}

/* "permissions": an array of distinct names of the table; 400 else. */
static bool perms_from_json(struct ll_api_ctx *ctx, json_t *arr, uint32_t *out)
{
	uint32_t mask = 0, bit;
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
	{
		bit = json_is_string(v)
			      ? ll_perm_from_name(json_string_value(v))
			      : 0;
		if (bit == 0 || (mask & bit) != 0) {
			ll_api_fail(ctx, LL_API_BAD_REQUEST,
				    "field \"permissions\" must list each of "
				    "view, control, files, chat, clipboard, "
				    "sysinfo, reports, admin at most once");
			return false;
		}
		mask |= bit;
	}
	*out = mask;
	return true;
}

void ll_api_handle_group_list(struct ll_api_ctx *ctx)
{
	struct ll_group **list = NULL;
	json_t *arr = json_array(), *item;
	size_t n = 0, i;

	if (arr == NULL ||
	    ll_store_group_list(ctx->relay->store, ctx->tech->org_id, &list,
				&n) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	for (i = 0; i < n; i++) {
		item = group_json(list[i]);
		if (item == NULL || json_array_append_new(arr, item) != 0) {
			ll_api_fail(ctx, LL_API_INTERNAL, "out of memory");
			goto out;
		}
	}
	ll_api_answer(ctx, 200, json_pack("{s:O}", "groups", arr));
out:
	json_decref(arr);
	ll_group_list_free(list, n);
}

void ll_api_handle_group_add(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "name", JSON_STRING, true, LL_GROUP_NAME_MAX },
		{ "permissions", JSON_ARRAY, true, 16 },
		{ "end_user_cidrs", JSON_STRING, false, CIDRS_CAP },
		{ NULL, 0, false, 0 },
	};
	struct ll_group *g = NULL;
	json_t *body = NULL;
	char *cidrs = NULL;
	const char *name;
	uint32_t perms = 0;
	int r;

	if (ll_api_parse_body(ctx, fields, false, &body) != LL_OK)
		return;
	name = json_string_value(json_object_get(body, "name"));
	if (!ll_group_name_valid(name)) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "field \"name\" must be 1-64 of A-Z a-z 0-9 . _ - "
			    "and spaces, starting with a letter or digit");
		goto out;
	}
	ll_api_detail_set(ctx, "group", json_string(name));
	if (!perms_from_json(ctx, json_object_get(body, "permissions"),
			     &perms) ||
	    !cidrs_from_body(ctx, body, &cidrs))
		goto out;
	r = ll_store_group_add(ctx->relay->store, ctx->tech->org_id, name,
			       perms, ctx->now, NULL);
	if (r == LL_OK && cidrs != NULL)
		r = ll_store_group_set_end_user_cidrs(ctx->relay->store,
						      ctx->tech->org_id, name,
						      cidrs);
	if (r == LL_ERR_CONFLICT) {
		ll_api_fail(ctx, LL_API_CONFLICT,
			    "a group of that name exists already");
		goto out;
	}
	if (r != LL_OK ||
	    ll_store_group_find(ctx->relay->store, ctx->tech->org_id, name,
				&g) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	ll_api_detail_set(ctx, "permissions", ll_api_perms_json(perms));
	ll_api_detail_set(ctx, "end_user_cidrs", cidrs_json(cidrs));
	ll_api_answer(ctx, 201, group_json(g));
out:
	free(cidrs);
	ll_group_free(g);
	json_decref(body);
}

void ll_api_handle_group_set(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "permissions", JSON_ARRAY, false, 16 },
		{ "end_user_cidrs", JSON_STRING, false, CIDRS_CAP },
		{ NULL, 0, false, 0 },
	};
	struct ll_store *st = ctx->relay->store;
	struct ll_group *g = NULL;
	json_t *body = NULL, *perms_v;
	char *cidrs = NULL;
	const char *name;
	uint32_t perms = 0;
	int r;

	if ((name = path_group(ctx)) == NULL ||
	    ll_api_parse_body(ctx, fields, false, &body) != LL_OK)
		goto out;
	perms_v = json_object_get(body, "permissions");
	if (perms_v == NULL &&
	    json_object_get(body, "end_user_cidrs") == NULL) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "say what to change: \"permissions\" and/or "
			    "\"end_user_cidrs\"");
		goto out;
	}
	if ((perms_v != NULL && !perms_from_json(ctx, perms_v, &perms)) ||
	    !cidrs_from_body(ctx, body, &cidrs))
		goto out;
	r = ll_store_group_find(st, ctx->tech->org_id, name, &g);
	if (r == LL_ERR_NOT_FOUND) {
		ll_api_fail(ctx, LL_API_NOT_FOUND, "no such group");
		goto out;
	}
	if (r == LL_OK && perms_v != NULL)
		r = ll_store_group_set_permissions(st, ctx->tech->org_id, name,
						   perms);
	if (r == LL_OK && cidrs != NULL)
		r = ll_store_group_set_end_user_cidrs(st, ctx->tech->org_id,
						      name, cidrs);
	if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (perms_v != NULL) {
		ll_api_detail_set(ctx, "old_permissions",
				  ll_api_perms_json(g->permissions));
		ll_api_detail_set(ctx, "permissions",
				  ll_api_perms_json(perms));
		g->permissions = perms;
	}
	if (cidrs != NULL) {
		ll_api_detail_set(ctx, "old_end_user_cidrs",
				  cidrs_json(g->end_user_cidrs));
		ll_api_detail_set(ctx, "end_user_cidrs", cidrs_json(cidrs));
		free(g->end_user_cidrs);
		g->end_user_cidrs = cidrs[0] != '\0' ? cidrs : NULL;
		if (g->end_user_cidrs != NULL)
			cidrs = NULL;
	}
	ll_api_answer(ctx, 200, group_json(g));
out:
	free(cidrs);
	ll_group_free(g);
	json_decref(body);
}

void ll_api_handle_group_delete(struct ll_api_ctx *ctx)
{
	struct ll_store *st = ctx->relay->store;
	struct ll_group *g = NULL;
	const char *name;
	int r;

	if ((name = path_group(ctx)) == NULL)
		return;
	r = ll_store_group_find(st, ctx->tech->org_id, name, &g);
	if (r == LL_ERR_NOT_FOUND) {
		ll_api_fail(ctx, LL_API_NOT_FOUND, "no such group");
		goto out;
	}
	if (r == LL_OK)
		r = ll_store_group_remove(st, ctx->tech->org_id, name);
	if (r == LL_ERR_CONFLICT) {
		ll_api_detail_set(ctx, "members", json_integer(g->members));
		ll_api_fail(ctx, LL_API_CONFLICT,
			    "the group still has technicians; move them to "
			    "another group first");
		goto out;
	}
	if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	ll_api_detail_set(ctx, "old_permissions",
			  ll_api_perms_json(g->permissions));
	ctx->resp->status = 204;
	ctx->resp->code = LL_API_OK;
out:
	ll_group_free(g);
}

/* {"group": null} takes the technician out of its group.  The strict
 * body parser knows one type per field, so that body is looked for
 * first; anything else goes through the parser. */
static bool body_is_no_group(struct ll_api_ctx *ctx)
{
	const struct ll_http_request *http = ctx->req->http;
	const char *ct = ll_http_request_header(http, "Content-Type");
	json_t *obj;
	bool none;

	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
	    http->body == NULL || http->body_len == 0)
		return false;
	obj = json_loadb((const char *)http->body, http->body_len,
			 JSON_REJECT_DUPLICATES, NULL);
	none = json_is_object(obj) && json_object_size(obj) == 1 &&
	       json_is_null(json_object_get(obj, "group"));
	json_decref(obj);
	return none;
}

void ll_api_handle_technician_group(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "group", JSON_STRING, true, LL_GROUP_NAME_MAX },
		{ NULL, 0, false, 0 },
	};
	struct ll_store *st = ctx->relay->store;
	const char *user = ll_api_param(ctx, "name"), *group;
	struct ll_technician *t = NULL;
	struct ll_group *g = NULL;
	json_t *body = NULL;
	int r;

	if (!body_is_no_group(ctx) &&
	    ll_api_parse_body(ctx, fields, false, &body) != LL_OK)
		return;
	group = json_string_value(json_object_get(body, "group"));
	ll_api_detail_set(ctx, "username", ll_api_json_text(user, 64));
	r = user != NULL
		    ? ll_store_technician_find(st, ctx->tech->org_id, user, &t)
		    : LL_ERR_NOT_FOUND;
	if (r == LL_ERR_NOT_FOUND) {
		ll_api_fail(ctx, LL_API_NOT_FOUND, "no such technician");
		goto out;
	}
	if (r == LL_OK && group != NULL)
		r = ll_group_name_valid(group)
			    ? ll_store_group_find(st, ctx->tech->org_id, group,
						  &g)
			    : LL_ERR_NOT_FOUND;
	if (r == LL_ERR_NOT_FOUND) {
		ll_api_fail(ctx, LL_API_NOT_FOUND, "no such group");
		goto out;
	}
	if (r != LL_OK ||
	    ll_store_technician_set_group(st, ctx->tech->org_id, user,
					  group) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	ll_api_detail_set(ctx, "old_group",
			  t->group_name ? json_string(t->group_name)
					: json_null());
	ll_api_detail_set(ctx, "group",
			  group ? json_string(group) : json_null());
	ctx->resp->status = 204;
	ctx->resp->code = LL_API_OK;
out:
	ll_group_free(g);
	ll_technician_free(t);
	json_decref(body);
}
