/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * POST /api/v1/pins/redeem.  The checks run in the order docs/ARCHITECTURE.md
 * (Flows, 3. Redeem)
 * gives, each with its own answer; every way a PIN can be wrong for this
 * caller (malformed, unknown, used, another org's) is the one answer
 * pin_invalid so PINs cannot be enumerated.
 *
 * Guess budgets (docs/SECURITY.md, "Guessing PINs"): beyond the limit per
 * source address, failed redeems are counted per PIN lifetime, for the
 * org a redeem names (policy redeem_fail_budget) or, when it names none or
 * an unknown one, for the whole relay (redeem_fail_budget).  Once a budget
 * is spent its redeems are refused before the PIN is even looked at, so
 * however many addresses guess, at most the two budgets' worth of guesses
 * are ever evaluated against an org's PINs per lifetime.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_appconf.h"
#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_util.h"
#include "ll_ratelimit.h"
#include "ll_relay.h"
#include "api.h"

#define PIN_INVALID_MSG "this PIN is not valid"

/* ll_window flags of a budget (the window's owner is this file). */
#define BUDGET_TRIPPED 0x1   /* spent since the sweep last looked */
#define BUDGET_ANNOUNCED 0x2 /* its exhaustion is in the audit */

static const char *const scope_names[LL_REDEEM_SCOPE_COUNT] = {
	[LL_REDEEM_SCOPE_RELAY] = "relay",
	[LL_REDEEM_SCOPE_ORG] = "org",
};

/* The budget a redeem spends when it fails. */
struct budget {
	struct ll_window *w; /* NULL: none (no memory); not counted */
	enum ll_redeem_scope scope;
	int64_t org_id; /* the org named, when it exists; else 0 */
	uint64_t limit;
};

static int budget_limit(struct ll_relay *relay, int64_t org_id,
			uint64_t *limit)
{
	int64_t v = relay->cfg.redeem_fail_budget;
	int r = LL_OK;

	if (org_id != 0)
		r = ll_policy_get_int(relay->store, &relay->cfg, org_id,
				      "redeem_fail_budget", &v, NULL);
	*limit = v > 0 ? (uint64_t)v : 1;
	return r;
}

/* Did this answer spend a guess?  Every way the PIN was wrong for the
 * caller, not refusals that never looked at it. */
static bool spends_guess(enum ll_api_code code)
{
	switch (code) {
	case LL_API_PIN_INVALID:
	case LL_API_PIN_EXPIRED:
	case LL_API_PIN_LOCKED_WEBSITE:
	case LL_API_PIN_LOCKED_SHORTCUT:
	case LL_API_ORIGIN_NOT_ALLOWED:
	case LL_API_END_USER_IP_NOT_ALLOWED:
		return true;
	default:
		return false;
	}
}

/*
 * The redeem's budget: the org it names when that org exists (no state is
 * ever made for a name that is not an org), else the relay's.  A spent
 * budget refuses the redeem here, before any PIN is looked up: 429
 * rate_limited with Retry-After (when the oldest failures leave the
 * window).
 */
static int budget_open(struct ll_api_ctx *ctx, const char *org,
		       struct budget *b)
{
	struct ll_relay *relay = ctx->relay;
	int64_t span = relay->cfg.pin_lifetime_s, retry;
	char msg[200], hdr[64];
	int r;

	memset(b, 0, sizeof(*b));
	b->scope = LL_REDEEM_SCOPE_RELAY;
	if (org != NULL) {
		r = ll_store_org_find(relay->store, org, &b->org_id);
		if (r == LL_OK)
			b->scope = LL_REDEEM_SCOPE_ORG;
		else if (r != LL_ERR_NOT_FOUND)
			goto internal;
		else
			b->org_id = 0;
	}
	if (budget_limit(relay, b->org_id, &b->limit) != LL_OK)
		goto internal;
	b->w = ll_windows_get(relay->redeem_fails, b->org_id, true);
	if (b->w == NULL)
		goto internal;
	if (ll_window_count(b->w, span, ctx->now) < b->limit)
		return LL_OK;

	retry = ll_window_retry_after(b->w, span, ctx->now, b->limit);
	if (!(b->w->flags & BUDGET_ANNOUNCED))
		b->w->flags |= BUDGET_TRIPPED;
	relay->metrics.redeem_budget_refusals[b->scope]++;
	snprintf(msg, sizeof(msg),
		 b->scope == LL_REDEEM_SCOPE_ORG
			 ? "too many wrong PINs were tried for this "
			   "organisation; retry in %lld s"
			 : "too many wrong PINs were tried on this server; "
			   "retry in %lld s, or use your organisation's "
			   "support page",
		 (long long)retry);
	ll_api_fail(ctx, LL_API_RATE_LIMITED, msg);
	snprintf(hdr, sizeof(hdr), "Retry-After: %lld\r\n", (long long)retry);
	ctx->resp->extra_headers = strdup(hdr);
	ll_api_detail_set(ctx, "budget", json_string(scope_names[b->scope]));
	ll_api_detail_set(ctx, "retry_after", json_integer(retry));
	b->w = NULL; /* a refusal spends nothing */
	return LL_ERR_TOO_LARGE;
internal:
	ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
	b->w = NULL;
	return LL_ERR_INTERNAL;
}

/* The redeem failed after its PIN was looked at: one guess spent. */
static void budget_spend(struct ll_api_ctx *ctx, struct budget *b)
{
	struct ll_relay *relay = ctx->relay;
	int64_t span = relay->cfg.pin_lifetime_s;

	ll_window_add(b->w, span, ctx->now);
	relay->metrics.redeem_failures[b->scope]++;
	if (ll_window_count(b->w, span, ctx->now) >= b->limit &&
	    !(b->w->flags & BUDGET_ANNOUNCED))
		b->w->flags |= BUDGET_TRIPPED;
}

struct budget_sweep {
	struct ll_relay *relay;
	int64_t now;
};

/* Writes pin.budget_exhausted / pin.budget_recovered for one window. */
static void budget_announce(struct ll_relay *relay, struct ll_window *w,
			    bool exhausted, uint64_t count, uint64_t limit,
			    int64_t now)
{
	enum ll_redeem_scope scope = w->key != 0 ? LL_REDEEM_SCOPE_ORG
						 : LL_REDEEM_SCOPE_RELAY;
	int64_t span = relay->cfg.pin_lifetime_s;
	int64_t retry = ll_window_retry_after(w, span, now, limit);
	char *org = NULL;
	json_t *detail;

	if (w->key != 0 &&
	    ll_store_org_name(relay->store, w->key, &org) != LL_OK)
		org = NULL;
	detail = json_pack("{s:s,s:I,s:I,s:I}", "scope", scope_names[scope],
			   "failures", (json_int_t)count, "budget",
			   (json_int_t)limit, "window_s", (json_int_t)span);
	if (detail != NULL && org != NULL)
		json_object_set_new(detail, "org", json_string(org));
	if (detail != NULL && exhausted)
		json_object_set_new(detail, "retry_after",
				    json_integer(retry));
	ll_api_audit(relay, w->key, "relay",
		     exhausted ? "pin.budget_exhausted"
			       : "pin.budget_recovered",
		     "ok", NULL, NULL, detail);
	json_decref(detail);
	if (exhausted && scope == LL_REDEEM_SCOPE_ORG)
		ll_warn("guess budget of org %s spent: %llu failed redeems "
			"naming it within %lld s; such redeems are refused "
			"for up to %lld s",
			org ? org : "?", (unsigned long long)count,
			(long long)span, (long long)retry);
	else if (exhausted)
		ll_warn("relay-wide guess budget spent: %llu failed redeems "
			"naming no org within %lld s; such redeems are "
			"refused for up to %lld s",
			(unsigned long long)count, (long long)span,
			(long long)retry);
	else
		ll_info("guess budget of %s%s recovered",
			scope == LL_REDEEM_SCOPE_ORG ? "org " : "the relay",
			org ? org : "");
	free(org);
}

static void budget_sweep_one(struct ll_window *w, void *user)
{
	struct budget_sweep *sw = user;
	struct ll_relay *relay = sw->relay;
	enum ll_redeem_scope scope = w->key != 0 ? LL_REDEEM_SCOPE_ORG
						 : LL_REDEEM_SCOPE_RELAY;
	uint64_t count, limit = 0;

	count = ll_window_count(w, relay->cfg.pin_lifetime_s, sw->now);
	if (count == 0 && w->flags == 0)
		return;
	if (budget_limit(relay, w->key, &limit) != LL_OK)
		return; /* logged by the store; look again next second */
	if (!(w->flags & BUDGET_ANNOUNCED) &&
	    ((w->flags & BUDGET_TRIPPED) || count >= limit)) {
		budget_announce(relay, w, true, count, limit, sw->now);
		w->flags = BUDGET_ANNOUNCED;
		relay->metrics.redeem_budget_exhausted_total[scope]++;
	} else if ((w->flags & BUDGET_ANNOUNCED) && count < limit) {
		budget_announce(relay, w, false, count, limit, sw->now);
		w->flags = 0;
	}
	if (w->flags & BUDGET_ANNOUNCED)
		relay->metrics.redeem_budget_exhausted[scope]++;
}

void ll_api_redeem_budgets_sweep(struct ll_relay *relay)
{
	struct budget_sweep sw = { .relay = relay, .now = ll_now_unix() };
	int i;

	for (i = 0; i < LL_REDEEM_SCOPE_COUNT; i++)
		relay->metrics.redeem_budget_exhausted[i] = 0;
	ll_windows_foreach(relay->redeem_fails, budget_sweep_one, &sw);
}

/*
 * CORS for the PIN endpoints (docs/API.md, "CORS"): every answer varies
 * by Origin; Access-Control-Allow-Origin is added only when the request's
 * Origin is exactly one of allowed_origins of org_id (the org named, else
 * the PIN's), never "*", and no credentials are ever allowed.
 */
static void cors_headers(struct ll_api_ctx *ctx, int64_t org_id)
{
	const char *origin = ll_http_request_header(ctx->req->http, "Origin");
	char *list = NULL, hdr[LL_POLICY_ORIGIN_LEN + 64];

	ll_api_header_add(ctx, "Vary: Origin\r\n");
	if (origin == NULL || org_id == 0 ||
	    ll_policy_get_text(ctx->relay->store, &ctx->relay->cfg, org_id,
			       "allowed_origins", &list, NULL) != LL_OK)
		return;
	if (ll_policy_origin_listed(list, origin)) {
		snprintf(hdr, sizeof(hdr),
			 "Access-Control-Allow-Origin: %s\r\n", origin);
		ll_api_header_add(ctx, hdr);
	}
	free(list);
}

/* Is this Origin one the org approved (allowed_origins)? */
static int origin_approved(struct ll_api_ctx *ctx, int64_t org_id,
			   const char *origin, bool *ok)
{
	char *list = NULL;
	int r;

	*ok = false;
	r = ll_policy_get_text(ctx->relay->store, &ctx->relay->cfg, org_id,
			       "allowed_origins", &list, NULL);
	if (r == LL_OK)
		*ok = ll_policy_origin_listed(list, origin);
	free(list);
	return r;
}

/*
 * The launch token of a session: HMAC(at-rest key, label, session id) in
 * hex.  The PIN page's check hands it out in its lifeline: link for a
 * website-locked PIN (a check that passed the Origin rule); the applet
 * started from the link redeems with it.  Bound to the PIN's session and
 * as single-use as the PIN, it needs no state of its own.
 */
static int launch_token(struct ll_relay *relay, const char *session_id,
			char out[LL_HASH_LEN * 2 + 1])
{
	static const char label[] = "lifeline launch token v1";
	uint8_t data[sizeof(label) + LL_SESSION_ID_LEN], mac[32];
	char *hex;
	int r;

	memcpy(data, label, sizeof(label));
	memcpy(data + sizeof(label), session_id, LL_SESSION_ID_LEN);
	r = ll_hmac_sha256(relay->mac_key, 32, data, sizeof(data), mac);
	if (r != LL_OK)
		return r;
	hex = ll_hex_new(mac, sizeof(mac));
	ll_wipe(mac, sizeof(mac));
	if (hex == NULL)
		return LL_ERR_NOMEM;
	memcpy(out, hex, LL_HASH_LEN * 2 + 1);
	ll_secret_free(hex);
	return LL_OK;
}

char *ll_api_launch_token_new(struct ll_api_ctx *ctx,
			      const struct ll_session *s)
{
	char tok[LL_HASH_LEN * 2 + 1];

	if (s->lock == NULL || strcmp(s->lock, "website") != 0 ||
	    launch_token(ctx->relay, s->id, tok) != LL_OK)
		return NULL;
	return strdup(tok);
}

static bool launch_token_ok(struct ll_api_ctx *ctx, const struct ll_session *s,
			    const char *given)
{
	char want[LL_HASH_LEN * 2 + 1];
	bool ok;

	if (given == NULL || strlen(given) != LL_HASH_LEN * 2 ||
	    launch_token(ctx->relay, s->id, want) != LL_OK)
		return false;
	ok = ll_ct_equal(want, given, LL_HASH_LEN * 2);
	ll_wipe(want, sizeof(want));
	return ok;
}

/*
 * The request comes from the relay's own pages (its PIN page, /o/ORG/):
 * Sec-Fetch-Site: same-origin, which only the browser sets (a form POST
 * of a page with Referrer-Policy: no-referrer carries Origin: null), or
 * an Origin of https:// and the Host.
 */
static bool same_origin(struct ll_api_ctx *ctx, const char *origin)
{
	const struct ll_http_request *http = ctx->req->http;
	const char *host = ll_http_request_header(http, "Host");
	const char *site = ll_http_request_header(http, "Sec-Fetch-Site");

	if (site != NULL && strcmp(site, "same-origin") == 0)
		return true;
	return origin != NULL && host != NULL && host[0] != '\0' &&
	       strncmp(origin, "https://", 8) == 0 &&
	       strcmp(origin + 8, host) == 0;
}

/*
 * A browser's request: it has an Origin, or the Sec-Fetch-* headers every
 * current browser sends (and no native client does); such a request whose
 * Origin is missing or "null" is refused like a foreign one.
 */
static bool from_browser(struct ll_api_ctx *ctx, const char *origin)
{
	const struct ll_http_request *http = ctx->req->http;

	return origin != NULL ||
	       ll_http_request_header(http, "Sec-Fetch-Site") != NULL ||
	       ll_http_request_header(http, "Sec-Fetch-Mode") != NULL ||
	       ll_http_request_header(http, "Sec-Fetch-Dest") != NULL;
}

/* The host of the request's Host header, without its port, as the
 * client named this relay (malloc'd); NULL without one. */
static char *request_host(struct ll_api_ctx *ctx)
{
	const char *h = ll_http_request_header(ctx->req->http, "Host");
	const char *end;

	if (h == NULL || h[0] == '\0')
		return NULL;
	if (h[0] == '[') {
		end = strchr(h, ']');
		return end != NULL ? strndup(h + 1, (size_t)(end - h - 1))
				   : NULL;
	}
	end = strchr(h, ':');
	return strndup(h, end != NULL ? (size_t)(end - h) : strlen(h));
}

/*
 * The applet's signed configuration as a shortcut's proof
 * (docs/SECURITY.md, "What a PIN lock proves"): it parses, it is signed
 * with this relay's applet key, it is for the PIN's org, and the host
 * this request came to is one of its relay_hosts.  NULL when it passes,
 * else what failed (for the audit).
 */
static const char *appconf_refusal(struct ll_api_ctx *ctx,
				   const struct ll_session *s,
				   const char *text)
{
	struct ll_relay *relay = ctx->relay;
	struct ll_appconf c = { 0 };
	const char *why = NULL;
	char *host = NULL;
	int64_t org_id = 0;

	if (!relay->have_applet_pub)
		return "config_no_key";
	if (ll_appconf_parse(text, strlen(text), &c, NULL, 0) != LL_OK)
		return "config_invalid";
	if (!ll_appconf_signed_by(&c, relay->applet_pub))
		why = "config_foreign_key";
	else if (ll_store_org_find(relay->store, c.org, &org_id) != LL_OK ||
		 org_id != s->org_id)
		why = "config_other_org";
	else if ((host = request_host(ctx)) == NULL ||
		 !ll_appconf_host_listed(&c, host))
		why = "config_other_relay";
	free(host);
	ll_appconf_clear(&c);
	return why;
}

/*
 * The shortcut's proof: a channel credential of the PIN's org, or the
 * org's signed applet configuration.  Which one passed, or why neither
 * did, goes to the audit ("proof" / "why").
 */
static bool shortcut_ok(struct ll_api_ctx *ctx, const struct ll_session *s,
			const struct ll_api_pin_ask *ask)
{
	struct ll_channel *ch = NULL;
	const char *why = "no_proof";
	bool ok = false;

	if (ask->channel != NULL) {
		ok = ll_api_channel_of_credential(ctx, ask->channel, &ch) ==
			     LL_OK &&
		     ch->org_id == s->org_id;
		ll_channel_free(ch);
		/* a credential that failed is this PIN's lock refusal, not
		 * 401 */
		ctx->resp->code = LL_API_OK;
		why = "channel_invalid";
		if (ok)
			ll_api_detail_set(ctx, "proof",
					  json_string("channel"));
	}
	if (!ok && ask->applet_config != NULL) {
		why = appconf_refusal(ctx, s, ask->applet_config);
		ok = why == NULL;
		if (ok)
			ll_api_detail_set(ctx, "proof",
					  json_string("applet_config"));
	}
	if (!ok)
		ll_api_detail_set(ctx, "why", json_string(why));
	return ok;
}

/* Steps 5 and 6 of a check: fills the refusal and returns false. */
static bool origin_and_lock_ok(struct ll_api_ctx *ctx,
			       const struct ll_session *s,
			       const struct ll_api_pin_ask *ask)
{
	const char *origin;
	bool browser, approved, shortcut, internal = false;

	/* 5. where it comes from: a browser only from the org's approved
	 * origins (or the relay's own PIN page), compared exactly, never by
	 * Referer */
	origin = ll_http_request_header(ctx->req->http, "Origin");
	browser = from_browser(ctx, origin);
	if (browser && !same_origin(ctx, origin)) {
		ll_api_detail_set(ctx, "origin",
				  origin ? ll_api_json_text(origin, 128)
					 : json_string("(none)"));
		approved = false;
		if (origin != NULL && origin_approved(ctx, s->org_id, origin,
						      &approved) != LL_OK) {
			ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
			return false;
		}
		if (!approved) {
			ll_api_fail(ctx, LL_API_ORIGIN_NOT_ALLOWED,
				    "this web page is not one of the "
				    "organisation's support pages; enter the "
				    "PIN on the page your technician named");
			return false;
		}
	}

	/* 6. its lock */
	if (s->lock != NULL && strcmp(s->lock, "website") == 0 && !browser &&
	    !launch_token_ok(ctx, s, ask->launch)) {
		ll_api_fail(ctx, LL_API_PIN_LOCKED_WEBSITE,
			    "this PIN can only be entered on the "
			    "organisation's support web page");
		return false;
	}
	/* internal_only: a redeem only in the org's bound applet, whatever
	 * the lock (the PIN page may still check it, from inside) */
	if (ask->redeem &&
	    ll_policy_get_bool(ctx->relay->store, &ctx->relay->cfg, s->org_id,
			       "internal_only", &internal) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return false;
	}
	shortcut = s->lock != NULL && strcmp(s->lock, "shortcut") == 0;
	if ((shortcut || internal) && (browser || !shortcut_ok(ctx, s, ask))) {
		if (internal)
			ll_api_detail_set(ctx, "internal_only", json_true());
		ll_api_fail(ctx, LL_API_PIN_LOCKED_SHORTCUT,
			    "this PIN can only be entered in the "
			    "organisation's support shortcut");
		return false;
	}

	return true;
}

/* Steps 3 to 6 of a check (see ll_api_pin_check): *s_out on success. */
static void pin_rules(struct ll_api_ctx *ctx, const struct ll_api_pin_ask *ask,
		      const struct budget *b, struct ll_session **s_out,
		      struct ll_technician **t_out)
{
	const char *pin = ask->pin, *org = ask->org;
	struct ll_relay *relay = ctx->relay;
	struct ll_session *s = NULL;
	struct ll_technician *t = NULL;
	uint8_t pin_mac[LL_HASH_LEN];
	bool scoped = false;
	int r;

	/* 3. the PIN exists, is unused and belongs to the org asked for */
	if (!ll_pin_well_formed(pin)) {
		ll_api_detail_set(ctx, "why", json_string("malformed"));
		ll_api_fail(ctx, LL_API_PIN_INVALID, PIN_INVALID_MSG);
		return;
	}
	if (ll_pin_mac(relay->mac_key, pin, pin_mac) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return;
	}
	r = ll_store_session_find_by_pin(relay->store, pin_mac, &s);
	ll_wipe(pin_mac, sizeof(pin_mac));
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
	/* b->org_id is 0 for a name that is no org */
	if (org != NULL && b->org_id != s->org_id) {
		ll_api_detail_set(ctx, "why", json_string("other_org"));
		ll_api_fail(ctx, LL_API_PIN_INVALID, PIN_INVALID_MSG);
		goto out;
	}
	/* an org that wants every redeem to name it: the same answer, so
	 * that nobody learns the PIN is good elsewhere */
	if (org == NULL &&
	    (ll_policy_get_bool(relay->store, &relay->cfg, s->org_id,
				"require_org_scoped_redeem",
				&scoped) != LL_OK ||
	     scoped)) {
		if (!scoped) {
			ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
			goto out;
		}
		ll_api_detail_set(ctx, "why", json_string("org_not_named"));
		ll_api_fail(ctx, LL_API_PIN_INVALID, PIN_INVALID_MSG);
		goto out;
	}

	/* 4. still within its lifetime */
	if (s->state == LL_SESSION_EXPIRED || s->expires_at <= ctx->now) {
		ll_api_fail(ctx, LL_API_PIN_EXPIRED,
			    "this PIN has expired; ask for a new one");
		goto out;
	}

	/* The technician who will be shown to the end user (its group's
	 * ranges are checked with the org's). */
	r = ll_store_technician_get(relay->store, s->technician_id, &t);
	if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}

	/* the end user's network, as the org and the group allow it */
	if (ll_api_end_user_ip_refused(ctx, s->org_id, t))
		goto out;

	/* 5. and 6. */
	if (!origin_and_lock_ok(ctx, s, ask))
		goto out;

	if (t->disabled) {
		/* the periodic sweep ends it; do not hand it out meanwhile */
		ll_api_detail_set(ctx, "why",
				  json_string("technician_disabled"));
		ll_api_fail(ctx, LL_API_PIN_INVALID, PIN_INVALID_MSG);
		goto out;
	}
	*s_out = s;
	*t_out = t;
	s = NULL;
	t = NULL;
out:
	ll_session_free(s);
	ll_technician_free(t);
}

void ll_api_pin_check(struct ll_api_ctx *ctx, const char *pin, const char *org,
		      ll_api_pin_then then, void *user)
{
	struct ll_api_pin_ask ask = { .pin = pin, .org = org };

	ll_api_pin_check_ask(ctx, &ask, then, user);
}

void ll_api_pin_check_ask(struct ll_api_ctx *ctx,
			  const struct ll_api_pin_ask *ask,
			  ll_api_pin_then then, void *user)
{
	const char *org = ask->org;
	struct ll_session *s = NULL;
	struct ll_technician *t = NULL;
	struct budget b = { 0 };

	if (org != NULL)
		ll_api_detail_set(ctx, "org", ll_api_json_text(org, 64));
	/* 2. the guess budget of the org named, or of the relay */
	if (budget_open(ctx, org, &b) == LL_OK) {
		pin_rules(ctx, ask, &b, &s, &t);
		if (s != NULL)
			then(ctx, s, t, user);
	}
	if (b.w != NULL && spends_guess(ctx->resp->code))
		budget_spend(ctx, &b);
	cors_headers(ctx, b.org_id != 0 ? b.org_id : ctx->org_id);
	ll_session_free(s);
	ll_technician_free(t);
}

/* The redeem proper, once every rule passed: the applet's ticket. */
static void redeem_then(struct ll_api_ctx *ctx, const struct ll_session *s,
			const struct ll_technician *t, void *user)
{
	struct ll_relay *relay = ctx->relay;
	uint8_t ticket_hash[LL_HASH_LEN];
	json_t *caps = NULL;
	char *ticket = NULL;
	int r;

	(void)user;
	memset(ticket_hash, 0, sizeof(ticket_hash));
	if ((ticket = ll_random_token_new(32)) == NULL ||
	    ll_secret_hash(ticket, ticket_hash) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	r = ll_store_session_redeem(relay->store, s->id, ticket_hash,
				    ctx->now);
	if (r == LL_ERR_EXPIRED) {
		/* its lifetime ended between the check and now */
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
	caps = ll_api_session_caps_json(s, t);
	if (!ll_api_answer(ctx, 200,
			   json_pack("{s:s,s:s,s:o,s:O,s:s}", "session_id",
				     s->id, "ticket", ticket, "technician",
				     ll_api_technician_shown(t),
				     "capabilities", caps, "stream_path",
				     "/api/v1/stream")))
		goto out;
	ll_api_detail_set(ctx, "technician", json_string(t->username));
	if (caps != NULL)
		ll_api_detail_set(ctx, "capabilities", json_incref(caps));
out:
	ll_wipe(ticket_hash, sizeof(ticket_hash));
	ll_secret_free(ticket);
	json_decref(caps);
}

/* The PIN lives in the parsed body: wiped before it is freed (a
 * configuration may hold a channel credential). */
static const char *const body_secrets[] = { "pin", "launch", "channel",
					    "applet_config", NULL };

/* {"pin", "org"?}, after the limit per address (step 1). */
static int pin_body(struct ll_api_ctx *ctx, json_t **body)
{
	static const struct ll_api_field fields[] = {
		{ "pin", JSON_STRING, true, 64 },
		{ "org", JSON_STRING, false, 128 },
		{ "launch", JSON_STRING, false, 128 },
		{ "channel", JSON_STRING, false, 256 },
		{ "applet_config", JSON_STRING, false, LL_APPCONF_MAX },
		{ NULL, 0, false, 0 },
	};

	/* 1. rate limit per source address */
	if (ll_api_ratelimit_check(ctx, ctx->relay->rl_redeem) != 0)
		return LL_ERR_TOO_LARGE;
	return ll_api_parse_body(ctx, fields, false, body);
}

void ll_api_handle_pin_redeem(struct ll_api_ctx *ctx)
{
	json_t *body = NULL;

	snprintf(ctx->actor, sizeof(ctx->actor), "applet");
	if (pin_body(ctx, &body) == LL_OK) {
		struct ll_api_pin_ask ask = {
			.pin = json_string_value(json_object_get(body, "pin")),
			.org = json_string_value(json_object_get(body, "org")),
			.launch = json_string_value(
				json_object_get(body, "launch")),
			.channel = json_string_value(
				json_object_get(body, "channel")),
			.applet_config = json_string_value(
				json_object_get(body, "applet_config")),
			.redeem = true,
		};

		ll_api_pin_check_ask(ctx, &ask, redeem_then, NULL);
	} else
		cors_headers(ctx, 0);
	ll_api_body_free(body, body_secrets);
}

void ll_api_handle_pin_check(struct ll_api_ctx *ctx)
{
	json_t *body = NULL;
	const char *pin;

	ll_api_detail_set(ctx, "via", json_string("api"));
	if (pin_body(ctx, &body) == LL_OK) {
		pin = json_string_value(json_object_get(body, "pin"));
		ll_api_pin_check(ctx, pin,
				 json_string_value(
					 json_object_get(body, "org")),
				 ll_api_page_check_answer, &pin);
	} else
		cors_headers(ctx, 0);
	ll_api_body_free(body, body_secrets);
}

/*
 * OPTIONS on a PIN endpoint: the CORS preflight.  The org is in the body
 * that is still to come, so an Origin passes when some org of the relay
 * lists it; the request itself is then answered for its own org only
 * (cors_headers).  Nothing is looked up or recorded beyond that.
 */
void ll_api_handle_pin_preflight(struct ll_api_ctx *ctx)
{
	const char *origin = ll_http_request_header(ctx->req->http, "Origin");
	struct ll_policy_entry *list = NULL;
	char hdr[LL_POLICY_ORIGIN_LEN + 64];
	size_t i, n = 0;
	bool ok = false;

	if (origin != NULL &&
	    ll_store_policy_list_key(ctx->relay->store, "allowed_origins",
				     &list, &n) == LL_OK) {
		for (i = 0; i < n && !ok; i++)
			ok = ll_policy_origin_listed(list[i].value, origin);
		ll_policy_entries_free(list, n);
	}
	ctx->resp->status = 204;
	ctx->resp->code = LL_API_OK;
	ll_api_header_add(ctx, "Vary: Origin\r\n");
	if (!ok)
		return;
	snprintf(hdr, sizeof(hdr),
		 "Access-Control-Allow-Origin: %s\r\n"
		 "Access-Control-Allow-Methods: POST\r\n"
		 "Access-Control-Allow-Headers: Content-Type\r\n"
		 "Access-Control-Max-Age: 600\r\n",
		 origin);
	ll_api_header_add(ctx, hdr);
}
