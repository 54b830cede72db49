/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Single sign-on with OpenID Connect (docs/ARCHITECTURE.md, "Single
 * sign-on"): the relay is the client of the org's identity provider, in
 * the authorization-code flow with PKCE, and hands the agent the result
 * through a one-time sign-in bound to the agent's own PKCE verifier.
 *
 *   POST /api/v1/login/sso {"org"?, "code_challenge"}
 *        discovery (worker pool), a new sign-in: its sso_id, and the
 *        provider's authorize URL with our state, nonce and S256
 *        challenge (our verifier never leaves the relay)
 *   GET  /api/v1/sso/callback?code&state   (the browser, from the IdP)
 *        the state used once; code exchanged, ID token checked against
 *        the provider's JWKS (worker pool); the claims make or find the
 *        technician; a plain page says the window can close
 *   POST /api/v1/login/sso/token {"sso_id", "code_verifier"}
 *        the agent asks until the sign-in is over: 202 while it runs,
 *        then login's 200 (or the sign-in's refusal) once; a verifier
 *        that does not match the challenge ends the sign-in.
 *
 * The sign-ins in flight live in memory (a restart drops them: the
 * agent starts again), at most SSO_MAX, each for SSO_LIFETIME_S.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_auth.h"
#include "ll_crypto.h"
#include "ll_form.h"
#include "ll_oidc.h"
#include "ll_text.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "api.h"

#define SSO_MAX 1000
#define SSO_LIFETIME_S 600
#define SSO_TOKEN_LEN 43 /* base64url of 32 random bytes */
#define SSO_POLL_S 1     /* what the agent is told to wait between asks */

enum sso_state {
	SSO_STARTED,    /* the browser is at the provider */
	SSO_EXCHANGING, /* the callback came: its state is spent */
	SSO_DONE,       /* a technician signed in: tech_id */
	SSO_FAILED,     /* refused: code and message */
	SSO_SPENT,      /* over (taken, or a wrong verifier): kept until it
			 * expires so that its callback, replayed, is told
			 * apart from a made-up one */
};

struct sso_flow {
	char id[SSO_TOKEN_LEN + 1];        /* the agent's sso_id */
	char state[SSO_TOKEN_LEN + 1];     /* sent to the provider */
	char nonce[SSO_TOKEN_LEN + 1];     /* in the ID token */
	char verifier[SSO_TOKEN_LEN + 1];  /* ours, for the provider */
	char challenge[SSO_TOKEN_LEN + 1]; /* the agent's */
	int64_t org_id;
	char *org_name;
	bool org_default; /* the org came from [oidc] */
	char *token_endpoint;
	char *jwks_uri;
	int64_t expires_at;
	enum sso_state st;
	int64_t tech_id;
	enum ll_api_code code;
	char message[160];
};

struct ll_sso {
	struct sso_flow *flows[SSO_MAX];
	size_t n;
};

static struct ll_sso *sso_get(struct ll_relay *relay)
{
	if (relay->sso == NULL)
		relay->sso = calloc(1, sizeof(*relay->sso));
	return relay->sso;
}

static void flow_free(struct sso_flow *f)
{
	if (f == NULL)
		return;
	free(f->org_name);
	free(f->token_endpoint);
	free(f->jwks_uri);
	ll_wipe(f, sizeof(*f));
	free(f);
}

static void flow_remove(struct ll_relay *relay, struct sso_flow *f)
{
	struct ll_sso *s = relay->sso;
	size_t i;

	for (i = 0; s != NULL && i < s->n; i++) {
		if (s->flows[i] == f) {
			s->flows[i] = s->flows[--s->n];
			flow_free(f);
			return;
		}
	}
}

/* Over: nothing more to give, its callback a replay from now on. */
static void flow_spend(struct sso_flow *f)
{
	f->st = SSO_SPENT;
	f->tech_id = 0;
}

/* By sso_id or by state, compared in constant time. */
static struct sso_flow *flow_find(struct ll_relay *relay, const char *id,
				  const char *state)
{
	struct ll_sso *s = relay->sso;
	struct sso_flow *found = NULL;
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < s->n; i++) {
		struct sso_flow *f = s->flows[i];

		if (id != NULL && strlen(id) == SSO_TOKEN_LEN &&
		    ll_ct_equal(f->id, id, SSO_TOKEN_LEN))
			found = f;
		if (state != NULL && strlen(state) == SSO_TOKEN_LEN &&
		    ll_ct_equal(f->state, state, SSO_TOKEN_LEN))
			found = f;
	}
	return found;
}

void ll_api_sso_sweep(struct ll_relay *relay)
{
	struct ll_sso *s = relay->sso;
	int64_t now = ll_now_unix();
	size_t i = 0;

	while (s != NULL && i < s->n) {
		if (s->flows[i]->expires_at <= now)
			flow_remove(relay, s->flows[i]);
		else
			i++;
	}
}

void ll_api_sso_close(struct ll_relay *relay)
{
	struct ll_sso *s = relay->sso;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		flow_free(s->flows[i]);
	free(s);
	relay->sso = NULL;
}

static int random_token(char out[SSO_TOKEN_LEN + 1])
{
	char *t = ll_random_token_new(32);

	if (t == NULL || strlen(t) != SSO_TOKEN_LEN) {
		ll_secret_free(t);
		return LL_ERR_CRYPTO;
	}
	memcpy(out, t, SSO_TOKEN_LEN + 1);
	ll_secret_free(t);
	return LL_OK;
}

/* The [oidc] group of ctx->org_id (named org_name; is_default: the org
 * the request named none for, or the relay's only one). */
static const struct ll_oidc_conf *conf_of(struct ll_api_ctx *ctx,
					  const char *org_name,
					  bool is_default)
{
	return ll_relay_oidc_find(&ctx->relay->cfg, org_name, is_default);
}

/* ---- POST /api/v1/login/sso ---- */

struct start_job {
	/* in */
	char *issuer;
	char *ca_file;
	/* out */
	int result;
	struct ll_oidc_endpoints ep;
	/* kept for the resume */
	char challenge[SSO_TOKEN_LEN + 1];
	char *org_name;
	bool org_default;
};

static void start_job_free(void *arg)
{
	struct start_job *j = arg;

	free(j->issuer);
	free(j->ca_file);
	free(j->org_name);
	ll_oidc_endpoints_clear(&j->ep);
	free(j);
}

/* Discovery: ISSUER/.well-known/openid-configuration. */
static int discover(const char *issuer, const char *ca_file,
		    struct ll_oidc_endpoints *ep)
{
	struct ll_oidc_http o = { ca_file, 10000, NULL, NULL };
	char url[2200], *body = NULL;
	size_t len = 0, n = strlen(issuer);
	long status = 0;
	int r;

	while (n > 8 && issuer[n - 1] == '/')
		n--;
	if (n > 2048)
		return LL_ERR_TOO_LARGE;
	snprintf(url, sizeof(url), "%.*s/.well-known/openid-configuration",
		 (int)n, issuer);
	r = ll_oidc_http_fetch(url, NULL, &o, &body, &len, &status);
	if (r == LL_OK && status != 200)
		r = LL_ERR_PROTOCOL;
	if (r == LL_OK)
		r = ll_oidc_discovery_parse(body, len, issuer, ep);
	free(body);
	return r;
}

static void start_work(void *arg)
{
	struct start_job *j = arg;

	j->result = discover(j->issuer, j->ca_file, &j->ep);
}

/* The provider could not be asked, or answered what it must not. */
static void unavailable(struct ll_api_ctx *ctx, int r, const char *what)
{
	char msg[160];

	ll_warn("sso: %s: %s", what, ll_strerror(r));
	snprintf(msg, sizeof(msg),
		 "the identity provider cannot be reached (%s)", what);
	ll_api_detail_set(ctx, "reason", json_string("provider_unreachable"));
	ll_api_fail(ctx, LL_API_DIRECTORY_UNAVAILABLE, msg);
}

static struct sso_flow *flow_new(struct ll_api_ctx *ctx, struct start_job *j)
{
	struct sso_flow *f = calloc(1, sizeof(*f));

	if (f == NULL || random_token(f->id) != LL_OK ||
	    random_token(f->state) != LL_OK ||
	    random_token(f->nonce) != LL_OK ||
	    random_token(f->verifier) != LL_OK ||
	    (j->org_name != NULL &&
	     (f->org_name = strdup(j->org_name)) == NULL) ||
	    (f->token_endpoint = strdup(j->ep.token_endpoint)) == NULL ||
	    (f->jwks_uri = strdup(j->ep.jwks_uri)) == NULL) {
		flow_free(f);
		return NULL;
	}
	memcpy(f->challenge, j->challenge, sizeof(f->challenge));
	f->org_id = ctx->org_id;
	f->org_default = j->org_default;
	f->expires_at = ctx->now + SSO_LIFETIME_S;
	f->st = SSO_STARTED;
	return f;
}

static void start_resume(struct ll_api_ctx *ctx)
{
	struct start_job *j = ctx->job;
	const struct ll_oidc_conf *c;
	struct ll_sso *s = sso_get(ctx->relay);
	struct ll_oidc_authorize a;
	struct sso_flow *f = NULL;
	char *ours = NULL, *url = NULL;
	json_t *body;

	if (j->result != LL_OK) {
		unavailable(ctx, j->result, "discovery");
		return;
	}
	/* the configuration may have been reloaded meanwhile */
	c = conf_of(ctx, j->org_name, j->org_default);
	if (c == NULL || strcmp(c->issuer, j->issuer) != 0) {
		ll_api_fail(ctx, LL_API_CONFLICT,
			    "the single sign-on configuration changed; "
			    "try again");
		return;
	}
	if (s == NULL || (f = flow_new(ctx, j)) == NULL ||
	    (ours = ll_oidc_pkce_challenge_new(f->verifier)) == NULL)
		goto fail;
	a = (struct ll_oidc_authorize){ j->ep.authorization_endpoint,
					c->client_id,
					c->redirect_uri,
					c->scopes,
					f->state,
					f->nonce,
					ours };
	if ((url = ll_oidc_authorize_url_new(&a)) == NULL)
		goto fail;
	body = json_pack("{s:s,s:s,s:I,s:I}", "authorize_url", url, "sso_id",
			 f->id, "expires_in", (json_int_t)SSO_LIFETIME_S,
			 "poll_interval", (json_int_t)SSO_POLL_S);
	if (!ll_api_answer(ctx, 200, body))
		goto out;
	s->flows[s->n++] = f;
	f = NULL;
	ll_api_detail_set(ctx, "issuer", json_string(c->issuer));
	goto out;
fail:
	ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
out:
	flow_free(f);
	free(ours);
	free(url);
}

/* The org a sign-in is for: "org", or the relay's only one.  Fills the
 * refusal and returns false when there is none. */
static bool sso_org(struct ll_api_ctx *ctx, const char *org,
		    const struct ll_oidc_conf **conf, bool *is_default)
{
	struct ll_store *st = ctx->relay->store;
	int64_t def_id = 0;
	int r;

	if (org != NULL)
		r = ll_store_org_find(st, org, &ctx->org_id);
	else
		r = ll_store_org_default(st, &ctx->org_id);
	if (r == LL_ERR_CONFLICT) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "this relay serves several orgs: name one in "
			    "\"org\"");
		return false;
	}
	if (r == LL_ERR_NOT_FOUND) {
		/* as an org without single sign-on: names stay unconfirmed */
		ctx->org_id = 0;
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "single sign-on is not set up for this org");
		return false;
	}
	if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return false;
	}
	*is_default = org == NULL ||
		      (ll_store_org_default(st, &def_id) == LL_OK &&
		       def_id == ctx->org_id);
	*conf = conf_of(ctx, org, *is_default);
	if (*conf == NULL) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "single sign-on is not set up for this org");
		return false;
	}
	return true;
}

void ll_api_handle_login_sso(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "org", JSON_STRING, false, 128 },
		{ "code_challenge", JSON_STRING, true, 128 },
		{ NULL, 0, false, 0 },
	};
	struct ll_relay *relay = ctx->relay;
	const struct ll_oidc_conf *c = NULL;
	struct start_job *j = NULL;
	const char *org, *challenge;
	json_t *body = NULL;
	bool is_default = false;

	if (ll_api_ratelimit_check(ctx, relay->rl_login) != 0)
		goto out;
	if (ll_api_parse_body(ctx, fields, false, &body) != 0)
		goto out;
	org = json_string_value(json_object_get(body, "org"));
	challenge = json_string_value(json_object_get(body, "code_challenge"));
	if (org != NULL)
		ll_api_detail_set(ctx, "org", ll_api_json_text(org, 64));
	if (!ll_oidc_pkce_challenge_valid(challenge)) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "code_challenge must be the 43 characters of an "
			    "S256 challenge (RFC 7636)");
		goto out;
	}
	if (!sso_org(ctx, org, &c, &is_default) ||
	    ll_api_technician_ip_refused(ctx, ctx->org_id))
		goto out;
	if (sso_get(relay) == NULL || relay->sso->n >= SSO_MAX) {
		ll_api_fail(ctx, LL_API_RATE_LIMITED,
			    "too many sign-ins in progress; try again later");
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->issuer = strdup(c->issuer)) == NULL ||
	    (c->ca_file != NULL &&
	     (j->ca_file = strdup(c->ca_file)) == NULL) ||
	    (org != NULL && (j->org_name = strdup(org)) == NULL)) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		goto out;
	}
	memcpy(j->challenge, challenge, sizeof(j->challenge));
	j->org_default = is_default;
	ll_api_defer(ctx, start_work, start_resume, j, start_job_free);
	j = NULL;
out:
	if (j != NULL)
		start_job_free(j);
	json_decref(body);
}

/* ---- GET /api/v1/sso/callback ---- */

struct callback_job {
	/* in */
	char id[SSO_TOKEN_LEN + 1];
	char *code; /* secret */
	char verifier[SSO_TOKEN_LEN + 1];
	char nonce[SSO_TOKEN_LEN + 1];
	char *issuer, *client_id, *client_secret, *ca_file, *redirect_uri;
	char *token_endpoint, *jwks_uri;
	int64_t now;
	/* out */
	int result;               /* LL_OK, or what failed */
	const char *stage;        /* "token", "jwks", "id_token" */
	enum ll_oidc_failure why; /* of the ID token */
	long status;              /* the token endpoint's */
	json_t *claims;
};

static void callback_job_free(void *arg)
{
	struct callback_job *j = arg;

	ll_secret_free(j->code);
	free(j->issuer);
	free(j->client_id);
	ll_secret_free(j->client_secret);
	free(j->ca_file);
	free(j->redirect_uri);
	free(j->token_endpoint);
	free(j->jwks_uri);
	json_decref(j->claims);
	ll_wipe(j, sizeof(*j));
	free(j);
}

static int exchange(struct callback_job *j, char **id_token)
{
	struct ll_oidc_http o = { j->ca_file, 10000, j->client_id,
				  j->client_secret };
	char *form = NULL, *body = NULL;
	size_t len = 0;
	int r;

	j->stage = "token";
	if ((r = ll_oidc_form_add(&form, "grant_type",
				  "authorization_code")) != LL_OK ||
	    (r = ll_oidc_form_add(&form, "code", j->code)) != LL_OK ||
	    (r = ll_oidc_form_add(&form, "redirect_uri", j->redirect_uri)) !=
		    LL_OK ||
	    (r = ll_oidc_form_add(&form, "code_verifier", j->verifier)) !=
		    LL_OK)
		goto out;
	r = ll_oidc_http_fetch(j->token_endpoint, form, &o, &body, &len,
			       &j->status);
	if (r == LL_OK && j->status != 200)
		r = LL_ERR_AUTH_FAILED; /* the provider refused the code */
	if (r == LL_OK)
		r = ll_oidc_token_response_parse(body, len, id_token);
out:
	ll_secret_free(form);
	if (body != NULL)
		ll_wipe(body, len);
	free(body);
	return r;
}

static void callback_work(void *arg)
{
	struct callback_job *j = arg;
	struct ll_oidc_http o = { j->ca_file, 10000, NULL, NULL };
	struct ll_oidc_expect e = { j->issuer, j->client_id, j->nonce,
				    j->now };
	char *id_token = NULL, *jwks = NULL;
	size_t len = 0;
	long status = 0;

	if ((j->result = exchange(j, &id_token)) != LL_OK)
		goto out;
	j->stage = "jwks";
	j->result = ll_oidc_http_fetch(j->jwks_uri, NULL, &o, &jwks, &len,
				       &status);
	if (j->result == LL_OK && status != 200)
		j->result = LL_ERR_PROTOCOL;
	if (j->result != LL_OK)
		goto out;
	j->stage = "id_token";
	j->result = ll_oidc_id_token_verify(id_token, jwks, len, &e,
					    &j->claims, &j->why);
out:
	ll_secret_free(id_token);
	free(jwks);
}

/* Ends the sign-in as refused (the agent learns it once) and fills the
 * callback's refusal, with its reason in the audit detail. */
static void flow_fail(struct ll_api_ctx *ctx, struct sso_flow *f,
		      enum ll_api_code code, const char *reason,
		      const char *message)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "%s (%s)", message, reason);
	ll_api_detail_set(ctx, "reason", json_string(reason));
	ll_api_fail(ctx, code, msg);
	if (f != NULL) {
		f->st = SSO_FAILED;
		f->code = code;
		snprintf(f->message, sizeof(f->message), "%s", msg);
	}
}

static const char *const callback_page_ok =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<title>Signed in</title></head><body><h1>Signed in</h1>"
	"<p>You are signed in. You can close this window and go back to "
	"the agent.</p></body></html>\n";

/* The browser's answer: a plain page, success or refusal. */
static void callback_page(struct ll_api_ctx *ctx, bool ok)
{
	struct ll_api_response *resp = ctx->resp;
	const char *msg = NULL;
	json_t *err;
	char *html, *text = NULL;
	size_t n;

	err = resp->body ? json_object_get(resp->body, "error") : NULL;
	if (!ok && err != NULL)
		msg = json_string_value(json_object_get(err, "message"));
	if (ok) {
		html = strdup(callback_page_ok);
	} else {
		/* our own sentences only, printable and without markup */
		text = ll_text_printable_new(msg ? msg : "refused",
					     msg ? strlen(msg) : 7, 200);
		n = (text ? strlen(text) : 0) + 400;
		if ((html = malloc(n)) != NULL)
			snprintf(html, n,
				 "<!DOCTYPE html>\n<html lang=\"en\"><head>"
				 "<meta charset=\"utf-8\"><title>Sign-in "
				 "failed</title></head><body><h1>Sign-in "
				 "failed</h1><p>%s</p><p>Close this window "
				 "and try again from the agent.</p></body>"
				 "</html>\n",
				 text && !strpbrk(text, "<>&\"") ? text
								 : "refused");
	}
	free(text);
	if (html == NULL)
		return; /* the JSON answer stays */
	json_decref(resp->body);
	resp->body = NULL;
	free(resp->raw_body);
	resp->raw_body = html;
	resp->raw_len = 0;
	resp->content_type = "text/html; charset=utf-8";
}

void ll_api_sso_page_refused(struct ll_api_ctx *ctx)
{
	callback_page(ctx, false);
}

static struct callback_job *callback_job_new(const struct sso_flow *f,
					     const struct ll_oidc_conf *c,
					     const char *code, int64_t now)
{
	struct callback_job *j = calloc(1, sizeof(*j));

	if (j == NULL || (j->code = strdup(code)) == NULL ||
	    (j->issuer = strdup(c->issuer)) == NULL ||
	    (j->client_id = strdup(c->client_id)) == NULL ||
	    (j->client_secret = strdup(c->client_secret)) == NULL ||
	    (c->ca_file != NULL &&
	     (j->ca_file = strdup(c->ca_file)) == NULL) ||
	    (j->redirect_uri = strdup(c->redirect_uri)) == NULL ||
	    (j->token_endpoint = strdup(f->token_endpoint)) == NULL ||
	    (j->jwks_uri = strdup(f->jwks_uri)) == NULL) {
		if (j != NULL)
			callback_job_free(j);
		return NULL;
	}
	memcpy(j->id, f->id, sizeof(j->id));
	memcpy(j->verifier, f->verifier, sizeof(j->verifier));
	memcpy(j->nonce, f->nonce, sizeof(j->nonce));
	j->now = now;
	return j;
}

static void callback_resume(struct ll_api_ctx *ctx);

/* The callback's query (RFC 6749 4.1.2, RFC 9207's iss), and what
 * providers add that we do not use (Keycloak's and Azure's session_state,
 * Google's scope, authuser, prompt and hd): the form parser refuses any
 * other name. */
enum {
	Q_CODE,
	Q_STATE,
	Q_ISS,
	Q_ERROR,
	Q_ERROR_DESC,
	Q_ERROR_URI,
	Q_SSTATE,
	Q_SCOPE,
	Q_AUTHUSER,
	Q_PROMPT,
	Q_HD
};
static const struct ll_form_field query_fields[] = {
	[Q_CODE] = { "code", 2048, false },
	[Q_STATE] = { "state", 128, true },
	[Q_ISS] = { "iss", 2048, false },
	[Q_ERROR] = { "error", 128, false },
	[Q_ERROR_DESC] = { "error_description", 1024, false },
	[Q_ERROR_URI] = { "error_uri", 2048, false },
	[Q_SSTATE] = { "session_state", 512, false },
	[Q_SCOPE] = { "scope", 1024, false },
	[Q_AUTHUSER] = { "authuser", 16, false },
	[Q_PROMPT] = { "prompt", 64, false },
	[Q_HD] = { "hd", 256, false },
};
#define N_QUERY LL_ARRAY_SIZE(query_fields)

/* The sign-in of the callback's state, still waiting for it: NULL with
 * the refusal filled otherwise. */
static struct sso_flow *callback_flow(struct ll_api_ctx *ctx, char **q)
{
	struct sso_flow *f = flow_find(ctx->relay, NULL, q[Q_STATE]);

	if (f == NULL) {
		flow_fail(ctx, NULL, LL_API_SSO_FAILED, "state",
			  "this sign-in is unknown or over");
		return NULL;
	}
	ctx->org_id = f->org_id;
	if (f->st != SSO_STARTED) {
		/* the state is spent: a replayed callback (its code too) */
		flow_fail(ctx, NULL, LL_API_SSO_FAILED, "replayed",
			  "this sign-in's answer was already used");
		return NULL;
	}
	if (f->expires_at <= ctx->now) {
		flow_fail(ctx, f, LL_API_SSO_FAILED, "expired_sign_in",
			  "this sign-in took too long");
		return NULL;
	}
	return f;
}

void ll_api_handle_sso_callback(struct ll_api_ctx *ctx)
{
	const char *query = ctx->req->http->query;
	const struct ll_oidc_conf *c;
	struct callback_job *j = NULL;
	struct sso_flow *f;
	char *q[N_QUERY];
	char why[128];

	ctx->sso_page = true;
	memset(q, 0, sizeof(q));
	if (query == NULL ||
	    ll_form_parse((const uint8_t *)query, strlen(query), query_fields,
			  N_QUERY, q, why, sizeof(why)) != LL_OK) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "not an answer of an identity provider");
		return;
	}
	if ((f = callback_flow(ctx, q)) == NULL)
		goto out;
	f->st = SSO_EXCHANGING; /* from here on the state is spent */
	c = conf_of(ctx, f->org_name, f->org_default);
	if (c == NULL) {
		flow_fail(ctx, f, LL_API_SSO_FAILED, "configuration",
			  "single sign-on is no longer set up for this org");
		goto out;
	}
	if (q[Q_ERROR] != NULL) {
		ll_api_detail_set(ctx, "provider_error",
				  ll_api_json_text(q[Q_ERROR], 64));
		flow_fail(ctx, f, LL_API_SSO_FAILED, "provider_error",
			  "the identity provider did not sign you in");
		goto out;
	}
	if (q[Q_ISS] != NULL && strcmp(q[Q_ISS], c->issuer) != 0) {
		flow_fail(ctx, f, LL_API_SSO_FAILED, "issuer",
			  "the answer came from another identity provider");
		goto out;
	}
	if (q[Q_CODE] == NULL) {
		flow_fail(ctx, f, LL_API_SSO_FAILED, "code",
			  "the identity provider sent no code");
		goto out;
	}
	if ((j = callback_job_new(f, c, q[Q_CODE], ctx->now)) == NULL) {
		flow_fail(ctx, f, LL_API_INTERNAL, "internal",
			  "internal error");
		goto out;
	}
	ll_api_defer(ctx, callback_work, callback_resume, j,
		     callback_job_free);
out:
	ll_form_values_free(q, N_QUERY);
}

/* The provider's answer did not sign anyone in: which check failed. */
static void callback_refused(struct ll_api_ctx *ctx, struct sso_flow *f,
			     const struct callback_job *j)
{
	if (strcmp(j->stage, "token") == 0 &&
	    j->result == LL_ERR_AUTH_FAILED) {
		flow_fail(ctx, f, LL_API_SSO_FAILED, "code_rejected",
			  "the identity provider refused the sign-in's code");
	} else if (strcmp(j->stage, "id_token") == 0 &&
		   j->result == LL_ERR_AUTH_FAILED) {
		flow_fail(ctx, f, LL_API_SSO_FAILED,
			  ll_oidc_failure_name(j->why),
			  "the identity provider's ID token failed its "
			  "check");
	} else if (j->result == LL_ERR_BAD_JSON ||
		   j->result == LL_ERR_SCHEMA ||
		   j->result == LL_ERR_TOO_LARGE) {
		ll_warn("sso: the provider's %s answer: %s", j->stage,
			ll_strerror(j->result));
		flow_fail(ctx, f, LL_API_SSO_FAILED, "malformed",
			  "the identity provider's answer is malformed");
	} else {
		ll_warn("sso: %s: %s", j->stage, ll_strerror(j->result));
		flow_fail(ctx, f, LL_API_DIRECTORY_UNAVAILABLE,
			  "provider_unreachable",
			  "the identity provider cannot be reached");
	}
}

/* The technician group the claims map to (group_map); NULL with
 * *mapped false when no mapped group is there.  Without a group_map
 * everyone the provider signs in may come in, with no group. */
static const char *group_of(const struct ll_oidc_conf *c, const json_t *claims,
			    bool *mapped)
{
	size_t i;

	*mapped = c->n_group_map == 0;
	for (i = 0; i < c->n_group_map; i++) {
		if (ll_oidc_claim_has(claims, c->groups_claim,
				      c->group_map[i].idp_group)) {
			*mapped = true;
			return c->group_map[i].technician;
		}
	}
	return NULL;
}

/* A technician name, as `technician add` allows them. */
static bool username_ok(const char *u)
{
	size_t i;

	if (u == NULL || u[0] == '\0' || strlen(u) > 64)
		return false;
	for (i = 0; u[i] != '\0'; i++) {
		char ch = u[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') ||
		      (i > 0 && strchr("._-@", ch) != NULL)))
			return false;
	}
	return true;
}

/* MFA is the provider's: mfa_required needs the amr value the org named. */
static bool mfa_refused(struct ll_api_ctx *ctx, struct sso_flow *f,
			const struct ll_oidc_conf *c, const json_t *claims)
{
	bool required = false;

	if (ll_policy_get_bool(ctx->relay->store, &ctx->relay->cfg, f->org_id,
			       "mfa_required", &required) != LL_OK) {
		flow_fail(ctx, f, LL_API_INTERNAL, "internal",
			  "internal error");
		return true;
	}
	if (required && (c->mfa_amr == NULL ||
			 !ll_oidc_claim_has(claims, "amr", c->mfa_amr))) {
		flow_fail(ctx, f, LL_API_MFA_REQUIRED, "amr",
			  "your organisation requires a second factor, and "
			  "the identity provider did not report one");
		return true;
	}
	return false;
}

/* Finds the technician the claims name, or makes one (no local
 * password: LL_PW_HASH_SSO).  A local account of that name is not the
 * provider's to sign in to. */
static int technician_for(struct ll_api_ctx *ctx, struct sso_flow *f,
			  const char *user, struct ll_technician **out)
{
	struct ll_store *st = ctx->relay->store;
	int64_t id = 0;
	int r;

	r = ll_store_technician_find(st, f->org_id, user, out);
	if (r == LL_ERR_NOT_FOUND) {
		r = ll_store_technician_add(st, f->org_id, user,
					    LL_PW_HASH_SSO, false, ctx->now,
					    &id);
		if (r == LL_OK)
			r = ll_store_technician_get(st, id, out);
		if (r == LL_OK)
			ll_api_detail_set(ctx, "created", json_true());
	}
	if (r != LL_OK) {
		flow_fail(ctx, f, LL_API_INTERNAL, "internal",
			  "internal error");
		return r;
	}
	if (strcmp((*out)->pw_hash, LL_PW_HASH_SSO) != 0) {
		flow_fail(ctx, f, LL_API_CONFLICT, "local_account",
			  "a technician of this name signs in with a "
			  "password here");
		return LL_ERR_CONFLICT;
	}
	if ((*out)->disabled) {
		flow_fail(ctx, f, LL_API_ACCOUNT_DISABLED, "disabled",
			  "this technician account is disabled");
		return LL_ERR_DISABLED;
	}
	return LL_OK;
}

/* The technician group group_map chose; one the org does not have is
 * the configuration's mistake, told to the administrator in the log. */
static int set_group(struct ll_api_ctx *ctx, struct sso_flow *f,
		     const struct ll_technician *t, const char *group)
{
	int r;

	if (t->group_name != NULL && strcmp(t->group_name, group) == 0)
		return LL_OK;
	r = ll_store_technician_set_group(ctx->relay->store, f->org_id,
					  t->username, group);
	if (r == LL_ERR_NOT_FOUND) {
		ll_warn("sso: group_map names the technician group '%s', "
			"which this org does not have",
			group);
		flow_fail(ctx, f, LL_API_FORBIDDEN, "no_such_group",
			  "your technician group is not set up here");
	} else if (r != LL_OK) {
		flow_fail(ctx, f, LL_API_INTERNAL, "internal",
			  "internal error");
	}
	return r;
}

static void signed_in(struct ll_api_ctx *ctx, struct sso_flow *f,
		      const struct ll_oidc_conf *c, const json_t *claims)
{
	const char *user, *name, *group;
	struct ll_technician *t = NULL;
	bool mapped;

	user = json_string_value(json_object_get(claims, c->username_claim));
	if (!username_ok(user)) {
		flow_fail(ctx, f, LL_API_SSO_FAILED, "username",
			  "the ID token names no usable technician name");
		return;
	}
	ll_api_detail_set(ctx, "username", json_string(user));
	snprintf(ctx->actor, sizeof(ctx->actor), "technician:%s", user);
	group = group_of(c, claims, &mapped);
	if (!mapped) {
		flow_fail(ctx, f, LL_API_FORBIDDEN, "no_mapped_group",
			  "you are in none of the groups this organisation "
			  "lets in");
		return;
	}
	if (group != NULL)
		ll_api_detail_set(ctx, "group", json_string(group));
	if (mfa_refused(ctx, f, c, claims) ||
	    technician_for(ctx, f, user, &t) != LL_OK)
		goto out;
	/* the group follows the provider's at every sign-in */
	if (group != NULL && set_group(ctx, f, t, group) != LL_OK)
		goto out;
	name = json_string_value(json_object_get(claims, "name"));
	if (name != NULL && name[0] != '\0' &&
	    ll_store_technician_set_display_name(ctx->relay->store, t->id,
						 name) != LL_OK) {
		flow_fail(ctx, f, LL_API_INTERNAL, "internal",
			  "internal error");
		goto out;
	}
	f->st = SSO_DONE;
	f->tech_id = t->id;
	ctx->resp->status = 200;
	ctx->resp->code = LL_API_OK;
	callback_page(ctx, true);
out:
	ll_technician_free(t);
}

static void callback_resume(struct ll_api_ctx *ctx)
{
	struct callback_job *j = ctx->job;
	struct sso_flow *f = flow_find(ctx->relay, j->id, NULL);
	const struct ll_oidc_conf *c;

	if (f == NULL || f->st != SSO_EXCHANGING) {
		/* gone, or ended meanwhile (a wrong verifier) */
		flow_fail(ctx, NULL, LL_API_SSO_FAILED, "expired_sign_in",
			  "this sign-in is over");
		return;
	}
	c = conf_of(ctx, f->org_name, f->org_default);
	if (c == NULL || strcmp(c->issuer, j->issuer) != 0 ||
	    strcmp(c->client_id, j->client_id) != 0) {
		flow_fail(ctx, f, LL_API_SSO_FAILED, "configuration",
			  "the single sign-on configuration changed");
		return;
	}
	if (j->result != LL_OK) {
		callback_refused(ctx, f, j);
		return;
	}
	signed_in(ctx, f, c, j->claims);
}

/* ---- POST /api/v1/login/sso/token ---- */

void ll_api_handle_login_sso_token(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "sso_id", JSON_STRING, true, 64 },
		{ "code_verifier", JSON_STRING, true, 128 },
		{ NULL, 0, false, 0 },
	};
	struct ll_technician *t = NULL;
	struct sso_flow *f;
	const char *verifier;
	char *challenge = NULL;
	json_t *body = NULL;

	if (ll_api_parse_body(ctx, fields, false, &body) != 0)
		goto out;
	f = flow_find(ctx->relay,
		      json_string_value(json_object_get(body, "sso_id")),
		      NULL);
	verifier = json_string_value(json_object_get(body, "code_verifier"));
	if (f == NULL || f->expires_at <= ctx->now || f->st == SSO_SPENT) {
		ll_api_fail(ctx, LL_API_UNAUTHORIZED,
			    "this sign-in is unknown or over");
		goto out;
	}
	ctx->org_id = f->org_id;
	if (!ll_oidc_pkce_verifier_valid(verifier) ||
	    (challenge = ll_oidc_pkce_challenge_new(verifier)) == NULL ||
	    !ll_ct_streq(challenge, f->challenge)) {
		/* whoever asks does not hold the verifier: the sign-in
		 * is no good to anyone any more */
		flow_spend(f);
		ll_api_detail_set(ctx, "reason", json_string("verifier"));
		ll_api_fail(ctx, LL_API_UNAUTHORIZED,
			    "this sign-in is unknown or over");
		goto out;
	}
	if (f->st == SSO_STARTED || f->st == SSO_EXCHANGING) {
		ctx->audit_quiet = true;
		(void)ll_api_answer(ctx, 202,
				    json_pack("{s:s,s:I}", "status", "pending",
					      "poll_interval",
					      (json_int_t)SSO_POLL_S));
		goto out;
	}
	if (f->st == SSO_FAILED) {
		ll_api_fail(ctx, f->code, f->message);
		flow_spend(f);
		goto out;
	}
	if (ll_store_technician_get(ctx->relay->store, f->tech_id, &t) !=
	    LL_OK) {
		ll_api_fail(ctx, LL_API_UNAUTHORIZED,
			    "this sign-in is unknown or over");
		flow_spend(f);
		goto out;
	}
	flow_spend(f); /* one token per sign-in */
	snprintf(ctx->actor, sizeof(ctx->actor), "technician:%s", t->username);
	if (t->disabled) {
		ll_api_fail(ctx, LL_API_ACCOUNT_DISABLED,
			    "this technician account is disabled");
		goto out;
	}
	ll_api_detail_set(ctx, "sso", json_true());
	ll_api_login_issue(ctx, t, false);
out:
	ll_technician_free(t);
	ll_secret_free(challenge);
	json_decref(body);
}
