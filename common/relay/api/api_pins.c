/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * POST /api/v1/pins/redeem.  The checks run in the order docs/ARCHITECTURE.md
 * (Flows, 3. Redeem)
 * gives, each with its own answer; every way a PIN can be wrong for this
 * caller (malformed, unknown, used, another org's) is the one answer
 * pin_invalid so PINs cannot be enumerated.
 */
#include <stdio.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "api.h"

#define PIN_INVALID_MSG "this PIN is not valid"

void ll_api_handle_pin_redeem(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "pin", JSON_STRING, true, 64 },
		{ "org", JSON_STRING, false, 128 },
		{ NULL, 0, false, 0 },
	};
	struct ll_relay *relay = ctx->relay;
	struct ll_session *s = NULL;
	struct ll_technician *t = NULL;
	json_t *body = NULL, *caps = NULL;
	const char *pin, *org, *origin;
	char *ticket = NULL;
	uint8_t pin_mac[LL_HASH_LEN], ticket_hash[LL_HASH_LEN];
	int64_t org_id = 0;
	int r;

	snprintf(ctx->actor, sizeof(ctx->actor), "applet");
	memset(pin_mac, 0, sizeof(pin_mac));
	memset(ticket_hash, 0, sizeof(ticket_hash));

	/* 1. rate limit per source address */
	if (ll_api_ratelimit_check(ctx, relay->rl_redeem) != 0)
		goto out;
	if (ll_api_parse_body(ctx, fields, false, &body) != 0)
		goto out;
	pin = json_string_value(json_object_get(body, "pin"));
	org = json_string_value(json_object_get(body, "org"));
	if (org != NULL)
		ll_api_detail_set(ctx, "org", ll_api_json_text(org, 64));

	/* 2. the PIN exists, is unused and belongs to the org asked for */
	if (!ll_pin_well_formed(pin)) {
		ll_api_detail_set(ctx, "why", json_string("malformed"));
		ll_api_fail(ctx, LL_API_PIN_INVALID, PIN_INVALID_MSG);
		goto out;
	}
	if (ll_pin_mac(relay->at_rest_key, pin, pin_mac) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	r = ll_store_session_find_by_pin(relay->store, pin_mac, &s);
	if (r == LL_ERR_NOT_FOUND) {
		ll_api_detail_set(ctx, "why", json_string("unknown"));
		ll_api_fail(ctx, LL_API_PIN_INVALID, PIN_INVALID_MSG);
		goto out;
	}
	if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	memcpy(ctx->session_id, s->id, sizeof(ctx->session_id));
	ctx->org_id = s->org_id;
	if (s->pin_used || s->state == LL_SESSION_ENDED) {
		ll_api_detail_set(ctx, "why", json_string("used"));
		ll_api_fail(ctx, LL_API_PIN_INVALID, PIN_INVALID_MSG);
		goto out;
	}
	if (org != NULL) {
		r = ll_store_org_find(relay->store, org, &org_id);
		if (r != LL_OK && r != LL_ERR_NOT_FOUND) {
			ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
			goto out;
		}
		if (r == LL_ERR_NOT_FOUND || org_id != s->org_id) {
			ll_api_detail_set(ctx, "why",
					  json_string("other_org"));
			ll_api_fail(ctx, LL_API_PIN_INVALID, PIN_INVALID_MSG);
			goto out;
		}
	}

	/* 3. still within its lifetime */
	if (s->state == LL_SESSION_EXPIRED || s->expires_at <= ctx->now) {
		ll_api_fail(ctx, LL_API_PIN_EXPIRED,
			    "this PIN has expired; ask for a new one");
		goto out;
	}

	/* 4. lock mode */
	origin = ll_http_request_header(ctx->req->http, "Origin");
	if (s->lock != NULL && strcmp(s->lock, "website") == 0) {
		if (origin == NULL) {
			ll_api_fail(ctx, LL_API_PIN_LOCKED_WEBSITE,
				    "this PIN can only be used on the "
				    "organisation's support website");
			goto out;
		}
		/* No org has approved domains yet, so no Origin passes. */
		ll_api_detail_set(ctx, "origin",
				  ll_api_json_text(origin, 128));
		ll_api_fail(ctx, LL_API_ORIGIN_NOT_ALLOWED,
			    "this website is not approved for this "
			    "organisation's PINs");
		goto out;
	}
	if (s->lock != NULL && strcmp(s->lock, "shortcut") == 0) {
		/* Channel credentials arrive with channels (later). */
		ll_api_fail(ctx, LL_API_PIN_LOCKED_SHORTCUT,
			    "this PIN can only be used from the "
			    "organisation's support shortcut");
		goto out;
	}

	/* The technician who will be shown to the end user. */
	r = ll_store_technician_get(relay->store, s->technician_id, &t);
	if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (t->disabled) {
		/* the periodic sweep ends it; do not hand it out meanwhile */
		ll_api_detail_set(ctx, "why",
				  json_string("technician_disabled"));
		ll_api_fail(ctx, LL_API_PIN_INVALID, PIN_INVALID_MSG);
		goto out;
	}

	if ((ticket = ll_random_token_new(32)) == NULL ||
	    ll_secret_hash(ticket, ticket_hash) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	r = ll_store_session_redeem(relay->store, s->id, ticket_hash,
				    ctx->now);
	if (r == LL_ERR_EXPIRED) {
		/* its lifetime ended between the check above and now */
		ll_api_fail(ctx, LL_API_PIN_EXPIRED,
			    "this PIN has expired; ask for a new one");
		goto out;
	}
	if (r == LL_ERR_CONFLICT || r == LL_ERR_NOT_FOUND) {
		/* someone else redeemed it a moment ago */
		ll_api_detail_set(ctx, "why", json_string("used"));
		ll_api_fail(ctx, LL_API_PIN_INVALID, PIN_INVALID_MSG);
		goto out;
	}
	if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	caps = ll_api_capabilities_json(t);
	ctx->resp->body = json_pack("{s:s,s:s,s:{s:s,s:s},s:O,s:s}",
				    "session_id", s->id, "ticket", ticket,
				    "technician", "name", t->username, "org",
				    t->org_name ? t->org_name : "",
				    "capabilities", caps, "stream_path",
				    "/api/v1/stream");
	if (ctx->resp->body == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	ctx->resp->status = 200;
	ctx->resp->code = LL_API_OK;
	ll_api_detail_set(ctx, "technician", json_string(t->username));
	if (caps != NULL)
		ll_api_detail_set(ctx, "capabilities", json_incref(caps));
out:
	ll_wipe(pin_mac, sizeof(pin_mac));
	ll_wipe(ticket_hash, sizeof(ticket_hash));
	ll_secret_free(ticket);
	json_decref(caps);
	ll_session_free(s);
	ll_technician_free(t);
	/* the PIN lives in the parsed body: wipe it before freeing */
	if (body != NULL) {
		json_t *p = json_object_get(body, "pin");

		if (json_is_string(p) && json_string_length(p) > 0)
			ll_wipe((char *)json_string_value(p),
				json_string_length(p));
	}
	json_decref(body);
}
