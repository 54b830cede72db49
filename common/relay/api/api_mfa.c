/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The second factor: TOTP (RFC 6238; SHA-1, 6 digits, 30 s, as
 * authenticator apps do it) and single-use recovery codes.
 *
 *   POST /api/v1/mfa/enroll (bearer)          a new seed, as otpauth URI
 *   POST /api/v1/mfa/confirm {"code"}         the first code turns it on
 *                                             and hands out 10 recovery
 *                                             codes, shown this once
 *   POST /api/v1/login/mfa {"mfa_token", "code" | "recovery_code"}
 *
 * Seeds are sealed with AES-256-GCM under the at-rest key; the associated
 * data names the technician and the column, so a sealed seed copied into
 * another row (or from pending_seed to seed) does not open.  Recovery
 * codes are kept as HMAC-SHA256 under the at-rest key, over the
 * technician id and the code, so a stolen database holds neither.  A code
 * is good within +-1 step, once: the step used is kept and only later
 * ones are taken.  LL_MFA_LOCK_AT wrong codes in a row lock the account
 * until `lifeline-relay technician unlock`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "api.h"

#define LL_MFA_LOCK_AT 10
#define LL_MFA_WINDOW 1        /* steps either side of now */
#define LL_MFA_CHALLENGE_S 300 /* how long a login waits for its code */
#define LL_MFA_RECOVERY_CODES 10
#define LL_MFA_RECOVERY_CHARS 10 /* 50 bits, shown as xxxxx-xxxxx */
#define LL_MFA_ISSUER "Lifeline"

/* The seal is core's (atrest.c), so that `key rotate` opens what the
 * API sealed. */
static int seed_seal(const struct ll_relay *relay, int64_t tech_id,
		     const char *column, const uint8_t seed[LL_TOTP_SEED_LEN],
		     uint8_t *out, size_t *out_len)
{
	return ll_relay_seed_seal(relay->at_rest_key, tech_id, column, seed,
				  out, out_len);
}

static int seed_open(const struct ll_relay *relay, int64_t tech_id,
		     const char *column, const uint8_t *in, size_t in_len,
		     uint8_t seed[LL_TOTP_SEED_LEN])
{
	return ll_relay_seed_open(relay->at_rest_key, tech_id, column, in,
				  in_len, seed);
}

/*
 * A recovery code as typed (either case, the dash and blanks optional)
 * to its keyed hash; LL_ERR_MALFORMED when it is not one.
 */
static int recovery_mac(const struct ll_relay *relay, int64_t tech_id,
			const char *code, uint8_t out[LL_HASH_LEN])
{
	static const char label[] = "lifeline recovery code v1";
	uint8_t msg[sizeof(label) + 8 + LL_MFA_RECOVERY_CHARS];
	size_t n = sizeof(label), k = 0;
	const char *p;
	int i, r;

	memcpy(msg, label, n);
	for (i = 0; i < 8; i++)
		msg[n + (size_t)i] = (uint8_t)((uint64_t)tech_id >>
					       (8 * (7 - i)));
	n += 8;
	for (p = code; *p != '\0'; p++) {
		char c = *p;

		if (c == '-' || c == ' ')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) ||
		    k == LL_MFA_RECOVERY_CHARS) {
			ll_wipe(msg, sizeof(msg));
			return LL_ERR_MALFORMED;
		}
		msg[n + k++] = (uint8_t)c;
	}
	if (k != LL_MFA_RECOVERY_CHARS) {
		ll_wipe(msg, sizeof(msg));
		return LL_ERR_MALFORMED;
	}
	r = ll_hmac_sha256(relay->mac_key, 32, msg, n + k, out);
	ll_wipe(msg, sizeof(msg));
	return r;
}

/* One recovery code, xxxxx-xxxxx from base32's lowercase alphabet. */
static int recovery_new(char out[LL_MFA_RECOVERY_CHARS + 2])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t raw[LL_MFA_RECOVERY_CHARS];
	size_t i, o = 0;

	if (ll_random_bytes(raw, sizeof(raw)) != LL_OK)
		return LL_ERR_CRYPTO;
	for (i = 0; i < LL_MFA_RECOVERY_CHARS; i++) {
		if (i == LL_MFA_RECOVERY_CHARS / 2)
			out[o++] = '-';
		out[o++] = alphabet[raw[i] & 31];
	}
	out[o] = '\0';
	ll_wipe(raw, sizeof(raw));
	return LL_OK;
}

/* Percent-encodes s into a GString-free buffer for the otpauth label. */
static void uri_escape(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0' && o + 4 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

int ll_api_mfa_enrol_required(struct ll_api_ctx *ctx,
			      const struct ll_technician *t, bool *out)
{
	struct ll_relay *relay = ctx->relay;
	struct ll_mfa m;
	bool required = false;
	int r;

	r = ll_policy_get_bool(relay->store, &relay->cfg, t->org_id,
			       "mfa_required", &required);
	if (r != LL_OK)
		return r;
	/* a technician of the org's identity provider: its second factor
	 * is the provider's, checked at each sign-in (mfa_amr, api_sso.c) */
	if (!required || strcmp(t->pw_hash, LL_PW_HASH_SSO) == 0) {
		*out = false;
		return LL_OK;
	}
	r = ll_store_mfa_get(relay->store, t->id, &m);
	if (r == LL_OK) {
		*out = m.seed_len == 0;
		ll_wipe(&m, sizeof(m));
		return LL_OK;
	}
	if (r == LL_ERR_NOT_FOUND) {
		*out = true;
		return LL_OK;
	}
	return r;
}

/* After the rollback of a mfa_required answer: the challenge it names. */
static void challenge_keep(struct ll_api_ctx *ctx)
{
	if (ll_store_mfa_challenge_add(ctx->relay->store, ctx->mfa_hash,
				       ctx->mfa_tech_id, ctx->now,
				       ctx->now + LL_MFA_CHALLENGE_S) != LL_OK)
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
	ll_wipe(ctx->mfa_hash, sizeof(ctx->mfa_hash));
}

static void account_locked(struct ll_api_ctx *ctx)
{
	ll_api_fail(ctx, LL_API_ACCOUNT_LOCKED,
		    "too many wrong codes: this account is locked until an "
		    "administrator unlocks it");
}

bool ll_api_mfa_login(struct ll_api_ctx *ctx, const struct ll_technician *t,
		      bool *enrol_required)
{
	struct ll_relay *relay = ctx->relay;
	struct ll_mfa m;
	char *token = NULL;
	int r;

	*enrol_required = false;
	r = ll_store_mfa_get(relay->store, t->id, &m);
	if (r == LL_ERR_NOT_FOUND) {
		memset(&m, 0, sizeof(m));
	} else if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return true;
	}
	if (m.locked) {
		account_locked(ctx);
		goto answered;
	}
	if (m.seed_len == 0) {
		ll_wipe(&m, sizeof(m));
		if (ll_api_mfa_enrol_required(ctx, t, enrol_required) !=
		    LL_OK) {
			ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
			return true;
		}
		return false;
	}
	/* The password was right: the second step gets a token of its
	 * own, kept (as SHA-256) once the refusal is rolled back. */
	if ((token = ll_random_token_new(32)) == NULL ||
	    ll_secret_hash(token, ctx->mfa_hash) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto answered;
	}
	ll_api_fail(ctx, LL_API_MFA_REQUIRED,
		    "this account has a second factor: POST "
		    "/api/v1/login/mfa with the mfa_token and a code");
	/* inside the error object, where the other fields of the
	 * refusal are */
	if (json_object_set_new(json_object_get(ctx->resp->body, "error"),
				"mfa_token", json_string(token)) != 0) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto answered;
	}
	ctx->mfa_tech_id = t->id;
	ctx->after_rollback = challenge_keep;
answered:
	ll_secret_free(token);
	ll_wipe(&m, sizeof(m));
	return true;
}

/* After the rollback of a wrong code: it counts, and the last one
 * allowed locks the account (and says so). */
static void failure_count(struct ll_api_ctx *ctx)
{
	struct ll_mfa m;
	json_t *d;

	if (ll_store_mfa_fail(ctx->relay->store, ctx->mfa_tech_id,
			      LL_MFA_LOCK_AT, &m) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return;
	}
	ll_api_detail_set(ctx, "failures", json_integer(m.failures));
	if (m.locked && m.failures == LL_MFA_LOCK_AT) {
		account_locked(ctx);
		ll_warn("technician %lld: locked after %d wrong codes in a "
			"row",
			(long long)ctx->mfa_tech_id, LL_MFA_LOCK_AT);
		/* ll_api_audit does not take the detail */
		d = json_pack("{s:I,s:i}", "technician_id",
			      (json_int_t)ctx->mfa_tech_id, "failures",
			      LL_MFA_LOCK_AT);
		(void)ll_api_audit(ctx->relay, ctx->org_id, ctx->actor,
				   "technician.lock", "ok",
				   ctx->req->source_ip, NULL, d);
		json_decref(d);
	}
	ll_wipe(&m, sizeof(m));
}

static void code_wrong(struct ll_api_ctx *ctx, int64_t tech_id)
{
	ll_api_fail(ctx, LL_API_INVALID_MFA_CODE,
		    "the code is wrong, or was already used");
	ctx->mfa_tech_id = tech_id;
	ctx->after_rollback = failure_count;
}

/* The body's secrets, wiped before the body is freed. */
static const char *const body_secrets[] = { "mfa_token", "code",
					    "recovery_code", NULL };

void ll_api_handle_login_mfa(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "mfa_token", JSON_STRING, true, 128 },
		{ "code", JSON_STRING, false, 16 },
		{ "recovery_code", JSON_STRING, false, 32 },
		{ NULL, 0, false, 0 },
	};
	struct ll_relay *relay = ctx->relay;
	struct ll_technician *t = NULL;
	struct ll_mfa m;
	json_t *body = NULL;
	const char *mfa_token, *code, *recovery;
	uint8_t hash[LL_HASH_LEN], seed[LL_TOTP_SEED_LEN], mac[LL_HASH_LEN];
	int64_t tech_id = 0, step = 0;
	int r;

	memset(&m, 0, sizeof(m));
	if (ll_api_ratelimit_check(ctx, relay->rl_login) != 0)
		goto out;
	if (ll_api_parse_body(ctx, fields, false, &body) != 0)
		goto out;
	mfa_token = json_string_value(json_object_get(body, "mfa_token"));
	code = json_string_value(json_object_get(body, "code"));
	recovery = json_string_value(json_object_get(body, "recovery_code"));
	if ((code == NULL) == (recovery == NULL)) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "give exactly one of \"code\" and "
			    "\"recovery_code\"");
		goto out;
	}
	ll_api_detail_set(ctx, "method",
			  json_string(code ? "totp" : "recovery_code"));
	if (ll_secret_hash(mfa_token, hash) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	r = ll_store_mfa_challenge_get(relay->store, hash, ctx->now, &tech_id);
	if (r == LL_OK)
		r = ll_store_technician_get(relay->store, tech_id, &t);
	if (r == LL_ERR_NOT_FOUND) {
		ll_api_fail(ctx, LL_API_UNAUTHORIZED,
			    "the mfa_token is unknown or has expired; log in "
			    "again");
		goto out;
	}
	if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	snprintf(ctx->actor, sizeof(ctx->actor), "technician:%s", t->username);
	ctx->org_id = t->org_id;
	/* the second step from where the first may come from */
	if (ll_api_technician_ip_refused(ctx, t->org_id))
		goto out;
	if (t->disabled) {
		ll_api_fail(ctx, LL_API_ACCOUNT_DISABLED,
			    "this technician account is disabled");
		goto out;
	}
	r = ll_store_mfa_get(relay->store, t->id, &m);
	if (r != LL_OK || m.seed_len == 0) {
		/* reset meanwhile: the password login starts over */
		ll_api_fail(ctx,
			    r == LL_OK || r == LL_ERR_NOT_FOUND
				    ? LL_API_UNAUTHORIZED
				    : LL_API_INTERNAL,
			    "log in again");
		goto out;
	}
	if (m.locked) {
		account_locked(ctx);
		goto out;
	}
	if (code != NULL) {
		if (seed_open(relay, t->id, "seed", m.seed, m.seed_len,
			      seed) != LL_OK) {
			ll_error("technician %lld: the sealed seed does not "
				 "open (another at-rest key?)",
				 (long long)t->id);
			ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
			goto out;
		}
		r = ll_totp_verify(seed, sizeof(seed), code, ctx->now,
				   LL_MFA_WINDOW, m.last_step, &step);
		if (r == LL_OK)
			r = ll_store_mfa_use_step(relay->store, t->id, step);
		if (r == LL_ERR_AUTH_FAILED || r == LL_ERR_CONFLICT) {
			code_wrong(ctx, t->id);
			goto out;
		}
	} else {
		r = recovery_mac(relay, t->id, recovery, mac);
		if (r == LL_OK)
			r = ll_store_mfa_recovery_use(relay->store, t->id, mac,
						      ctx->now);
		if (r == LL_ERR_MALFORMED || r == LL_ERR_NOT_FOUND) {
			code_wrong(ctx, t->id);
			goto out;
		}
		if (r == LL_OK)
			r = ll_store_mfa_clear_failures(relay->store, t->id);
	}
	if (r != LL_OK ||
	    ll_store_mfa_challenge_delete(relay->store, hash) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (ll_api_password_expired(ctx, t))
		goto out;
	ll_api_login_issue(ctx, t, false);
out:
	ll_wipe(seed, sizeof(seed));
	ll_wipe(mac, sizeof(mac));
	ll_wipe(hash, sizeof(hash));
	ll_wipe(&m, sizeof(m));
	ll_technician_free(t);
	ll_api_body_free(body, body_secrets);
}

void ll_api_handle_mfa_enroll(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ NULL, 0, false, 0 },
	};
	struct ll_relay *relay = ctx->relay;
	const struct ll_technician *t = ctx->tech;
	uint8_t seed[LL_TOTP_SEED_LEN], sealed[LL_MFA_SEALED_MAX];
	char label[3 * 2 * 130], user[3 * 130], org[3 * 130], *b32 = NULL;
	char *uri = NULL;
	size_t sealed_len = 0;
	json_t *body = NULL;
	struct ll_mfa m;
	int n, r;

	if (ll_api_parse_body(ctx, fields, true, &body) != 0)
		goto out;
	/* A token alone does not replace a factor that is on: whoever
	 * stole one could make the account theirs for good.  Replacing it
	 * is an administrator's mfa-reset. */
	r = ll_store_mfa_get(relay->store, t->id, &m);
	if (r == LL_OK && m.seed_len > 0) {
		ll_wipe(&m, sizeof(m));
		ll_api_fail(ctx, LL_API_CONFLICT,
			    "a second factor is already set up; to replace "
			    "it, ask an administrator to reset it "
			    "(lifeline-relay technician mfa-reset)");
		goto out;
	}
	ll_wipe(&m, sizeof(m));
	if (r != LL_OK && r != LL_ERR_NOT_FOUND) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (ll_random_bytes(seed, sizeof(seed)) != LL_OK ||
	    seed_seal(relay, t->id, "pending_seed", seed, sealed,
		      &sealed_len) != LL_OK ||
	    ll_store_mfa_set_pending(relay->store, t->id, sealed, sealed_len,
				     ctx->now) != LL_OK ||
	    (b32 = ll_base32_new(seed, sizeof(seed))) == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	/* otpauth://totp/ISSUER:USER@ORG?secret=...: the label is what the
	 * authenticator app lists. */
	uri_escape(t->username, user, sizeof(user));
	uri_escape(t->org_name ? t->org_name : "", org, sizeof(org));
	snprintf(label, sizeof(label), "%s@%s", user, org);
	n = snprintf(NULL, 0,
		     "otpauth://totp/" LL_MFA_ISSUER
		     ":%s?secret=%s&issuer=" LL_MFA_ISSUER
		     "&algorithm=SHA1&digits=%d&period=%d",
		     label, b32, LL_TOTP_DIGITS, LL_TOTP_STEP_S);
	if (n < 0 || (uri = malloc((size_t)n + 1)) == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	snprintf(uri, (size_t)n + 1,
		 "otpauth://totp/" LL_MFA_ISSUER
		 ":%s?secret=%s&issuer=" LL_MFA_ISSUER
		 "&algorithm=SHA1&digits=%d&period=%d",
		 label, b32, LL_TOTP_DIGITS, LL_TOTP_STEP_S);
	ll_api_answer(ctx, 200,
		      json_pack("{s:s,s:s,s:i,s:i,s:s}", "otpauth_uri", uri,
				"secret", b32, "digits", LL_TOTP_DIGITS,
				"period", LL_TOTP_STEP_S, "algorithm",
				"SHA1"));
out:
	ll_wipe(seed, sizeof(seed));
	ll_secret_free(b32);
	ll_secret_free(uri);
	json_decref(body);
}

void ll_api_handle_mfa_confirm(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "code", JSON_STRING, true, 16 },
		{ NULL, 0, false, 0 },
	};
	struct ll_relay *relay = ctx->relay;
	const struct ll_technician *t = ctx->tech;
	uint8_t seed[LL_TOTP_SEED_LEN], sealed[LL_MFA_SEALED_MAX];
	uint8_t macs[LL_MFA_RECOVERY_CODES][LL_HASH_LEN];
	char codes[LL_MFA_RECOVERY_CODES][LL_MFA_RECOVERY_CHARS + 2];
	size_t sealed_len = 0, i;
	json_t *body = NULL, *list = NULL;
	struct ll_mfa m;
	int64_t step = 0;
	int r;

	memset(&m, 0, sizeof(m));
	memset(codes, 0, sizeof(codes));
	if (ll_api_parse_body(ctx, fields, false, &body) != 0)
		goto out;
	r = ll_store_mfa_get(relay->store, t->id, &m);
	if (r == LL_ERR_NOT_FOUND || (r == LL_OK && m.pending_len == 0)) {
		ll_api_fail(ctx, LL_API_CONFLICT,
			    "no enrolment under way: POST /api/v1/mfa/enroll "
			    "first");
		goto out;
	}
	if (r != LL_OK ||
	    seed_open(relay, t->id, "pending_seed", m.pending_seed,
		      m.pending_len, seed) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	if (ll_totp_verify(seed, sizeof(seed),
			   json_string_value(json_object_get(body, "code")),
			   ctx->now, LL_MFA_WINDOW, -1, &step) != LL_OK) {
		ll_api_fail(ctx, LL_API_INVALID_MFA_CODE,
			    "the code does not match the new seed; check the "
			    "phone's clock and try the next code");
		goto out;
	}
	if ((list = json_array()) == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	for (i = 0; i < LL_MFA_RECOVERY_CODES; i++) {
		if (recovery_new(codes[i]) != LL_OK ||
		    recovery_mac(relay, t->id, codes[i], macs[i]) != LL_OK ||
		    json_array_append_new(list, json_string(codes[i])) != 0) {
			ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
			goto out;
		}
	}
	if (seed_seal(relay, t->id, "seed", seed, sealed, &sealed_len) !=
		    LL_OK ||
	    ll_store_mfa_confirm(relay->store, t->id, sealed, sealed_len, step,
				 ctx->now) != LL_OK ||
	    ll_store_mfa_recovery_set(relay->store, t->id, macs,
				      LL_MFA_RECOVERY_CODES) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	ll_api_detail_set(ctx, "recovery_codes",
			  json_integer(LL_MFA_RECOVERY_CODES));
	ll_api_answer(ctx, 200, json_pack("{s:o}", "recovery_codes", list));
	list = NULL; /* "o" steals it, also on failure */
out:
	ll_wipe(seed, sizeof(seed));
	ll_wipe(codes, sizeof(codes));
	ll_wipe(macs, sizeof(macs));
	ll_wipe(&m, sizeof(m));
	json_decref(list);
	ll_api_body_free(body, body_secrets);
}
