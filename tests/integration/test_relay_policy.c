/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An organisation's connection policies against a real relay (issue 10):
 * administration by the CLI and by GET/PUT /api/v1/orgs/ORG/policy, a
 * second org (`org add`), PINs that redeem only for their own org, PIN
 * locks (website with the PIN page's launch token, shortcut with a
 * channel credential or the org's signed applet configuration), the
 * Origin rule of browser redeems with its matrix
 * of look-alikes, and technician_cidrs with trusted_proxies.  Every
 * refusal is checked for its code and for its audit record.
 *
 * Each refused case comes from its own source address (127.0.x.y): the
 * first refusal of an (address, action, code) is written to the audit on
 * its own, so each case has a record of its own to look for.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "ll_control.h"
#include "ll_text.h"

#define ALLOWED "https://example.com"

static struct lh_relay *relay;
static char *admin_tok;  /* alice, admin of "default" */
static char *plain_tok;  /* bob, of "default" */
static char *acme_tok;   /* carol, admin of "acme" */
static int next_src = 1; /* 127.0.9.N: a fresh address per refusal */

static const char *fresh_src(void)
{
	static char buf[32];

	g_assert_cmpint(next_src, <, 255);
	snprintf(buf, sizeof(buf), "127.0.9.%d", next_src++);
	return buf;
}

static int policy(char **out, char **err, const char *a1, const char *a2,
		  const char *a3, const char *a4, const char *a5)
{
	return lh_relay_cmd(relay, NULL, out, err, "policy", a1, a2, a3, a4,
			    a5, NULL);
}

static void policy_ok(const char *key, const char *value)
{
	g_assert_cmpint(value ? policy(NULL, NULL, "set", key, value, "--org",
				       "default")
			      : policy(NULL, NULL, "unset", key, "--org",
				       "default", NULL),
			==, 0);
}

/* The newest audit record of action whose outcome is code, asserted to
 * exist; borrowed from *recs (caller frees *recs). */
static json_t *audit_find(const char *action, const char *code, json_t **recs)
{
	size_t i;
	json_t *r;

	*recs = lh_audit_records(relay, action);
	for (i = json_array_size(*recs); i > 0; i--) {
		r = json_array_get(*recs, i - 1);
		if (strcmp(json_string_value(json_object_get(r, "outcome")),
			   code) == 0)
			return r;
	}
	g_error("no audit record %s / %s", action, code);
	return NULL;
}

/* Login with an org, from src (NULL: default address), extra headers. */
static struct lh_resp *login_try(const char *org, const char *user,
				 const char *src, const char *headers)
{
	g_autofree char *body = g_strdup_printf(
		"{\"org\":\"%s\",\"username\":\"%s\",\"password\":\"%s\"}",
		org, user, LH_CANARY_PASSWORD);
	struct lh_req q = { .method = "POST",
			    .path = "/api/v1/login",
			    .body = body,
			    .src_ip = src,
			    .headers = headers };

	return lh_do(relay, &q);
}

static char *login(const char *org, const char *user)
{
	struct lh_resp *r = login_try(org, user, NULL, NULL);
	char *tok;

	g_assert_cmpint(r->status, ==, 200);
	tok = g_strdup(lh_resp_str(r, "token"));
	lh_secret("token", tok);
	lh_resp_free(r);
	return tok;
}

/* POST /pins/redeem with a raw JSON body and extra headers. */
static struct lh_resp *redeem_try(const char *body, const char *headers,
				  const char *src)
{
	struct lh_req q = { .method = "POST",
			    .path = "/api/v1/pins/redeem",
			    .body = body,
			    .headers = headers,
			    .src_ip = src };

	return lh_do(relay, &q);
}

static struct lh_resp *redeem_pin(const char *pin, const char *org,
				  const char *extra_field,
				  const char *extra_value, const char *headers,
				  const char *src)
{
	json_t *b = json_pack("{s:s}", "pin", pin);
	struct lh_resp *r;
	char *text;

	if (org != NULL)
		json_object_set_new(b, "org", json_string(org));
	if (extra_field != NULL)
		json_object_set_new(b, extra_field, json_string(extra_value));
	text = json_dumps(b, JSON_COMPACT);
	r = redeem_try(text, headers, src);
	free(text);
	json_decref(b);
	return r;
}

/* Redeems pin as redeem_pin does and asserts that it works (a ticket). */
static void redeem_ok(const char *pin, const char *org,
		      const char *extra_field, const char *extra_value,
		      const char *headers, const char *src)
{
	struct lh_resp *r = redeem_pin(pin, org, extra_field, extra_value,
				       headers, src);

	g_assert_cmpint(r->status, ==, 200);
	lh_secret("ticket", lh_resp_str(r, "ticket"));
	lh_resp_free(r);
}

/* Redeems pin as redeem_pin does and asserts that it is refused with
 * status and code. */
static void redeem_refused(const char *pin, const char *org,
			   const char *extra_field, const char *extra_value,
			   const char *headers, const char *src, int status,
			   const char *code)
{
	struct lh_resp *r = redeem_pin(pin, org, extra_field, extra_value,
				       headers, src);

	lh_assert_error(r, status, code);
	lh_resp_free(r);
}

/* POST /api/v1/pins/check of pin in "default", as the PIN page does,
 * with extra headers, from src (NULL: the default address). */
static struct lh_resp *pin_check(const char *pin, const char *headers,
				 const char *src)
{
	g_autofree char *body = g_strdup_printf(
		"{\"pin\":\"%s\",\"org\":\"default\"}", pin);
	struct lh_req q = { .method = "POST",
			    .path = "/api/v1/pins/check",
			    .body = body,
			    .headers = headers,
			    .src_ip = src };

	return lh_do(relay, &q);
}

/* The string detail.key of audit record rec (NULL: none). */
static const char *detail_str(json_t *rec, const char *key)
{
	return json_string_value(
		json_object_get(json_object_get(rec, "detail"), key));
}

/* ---- 1. administration ---- */

static void test_org_add(void)
{
	g_autofree char *out = NULL, *err = NULL;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, NULL, "org", "add",
				     "acme", "--name", "Acme IT", NULL),
			==, 0);
	g_assert_nonnull(strstr(out, "acme"));
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, &err, "org", "add",
				     "acme", "--name", "Again", NULL),
			==, 1);
	g_assert_nonnull(strstr(err, "exists already"));
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, &err, "org", "add",
				     "Bad Name", "--name", "x", NULL),
			==, 2);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, &err, "org", "add",
				     "noname", NULL),
			==, 2);
	g_assert_cmpint(lh_relay_cmd(relay, LH_CANARY_PASSWORD "\n", NULL,
				     NULL, "technician", "add", "carol",
				     "--org", "acme", "--admin",
				     "--password-stdin", NULL),
			==, 0);
	acme_tok = login("acme", "carol");
	json_decref(lh_audit_records(relay, "org.add"));
}

static void test_policy_cli(void)
{
	g_autofree char *out = NULL, *err = NULL;
	json_t *recs, *rec, *d, *j;
	static const char *const bad[][2] = {
		{ "require_org_scoped_redeem", "yes" },
		{ "require_org_scoped_redeem", "1" },
		{ "pin_lock_default", "web" },
		{ "technician_cidrs", "10.0.0.1/8" },
		{ "technician_cidrs", "10.0.0.0/33" },
		{ "technician_cidrs", "example.com" },
		{ "trusted_proxies", "::1/129" },
		{ "allowed_origins", "https://example.com/path" },
		{ "allowed_origins", "null" },
		{ "allowed_origins", "*" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(policy(NULL, &err, "set", bad[i][0], bad[i][1],
				       "--org", "default"),
				==, 2);
		g_assert_nonnull(strstr(err, bad[i][0]));
		g_clear_pointer(&err, g_free);
	}
	/* an origin as an admin writes it, stored as a browser sends it */
	g_assert_cmpint(policy(&out, NULL, "set", "allowed_origins",
			       "HTTPS://Example.COM.:443, "
			       "https://app.example.com:8443",
			       "--org", "default"),
			==, 0);
	g_clear_pointer(&out, g_free);
	g_assert_cmpint(policy(&out, NULL, "show", "--json", "--org",
			       "default", NULL),
			==, 0);
	j = json_loads(out, 0, NULL);
	g_assert_nonnull(j);
	g_assert_cmpstr(json_string_value(
				json_object_get(j, "allowed_origins")),
			==, ALLOWED ",https://app.example.com:8443");
	g_assert_true(json_is_false(
		json_object_get(j, "require_org_scoped_redeem")));
	g_assert_cmpstr(json_string_value(
				json_object_get(j, "pin_lock_default")),
			==, "any");
	g_assert_cmpstr(json_string_value(
				json_object_get(j, "technician_cidrs")),
			==, "");
	json_decref(j);

	g_assert_cmpint(policy(NULL, NULL, "set", "technician_cidrs",
			       " 10.0.0.0/8 , fd00::/8", "--org", "default"),
			==, 0);
	rec = audit_find("policy.set", "ok", &recs);
	d = json_object_get(rec, "detail");
	g_assert_cmpstr(json_string_value(json_object_get(d, "key")), ==,
			"technician_cidrs");
	g_assert_cmpstr(json_string_value(json_object_get(d, "old")), ==, "");
	g_assert_cmpstr(json_string_value(json_object_get(d, "new")), ==,
			"10.0.0.0/8,fd00::/8");
	json_decref(recs);
	policy_ok("technician_cidrs", NULL);
	rec = audit_find("policy.unset", "ok", &recs);
	d = json_object_get(rec, "detail");
	g_assert_cmpstr(json_string_value(json_object_get(d, "old")), ==,
			"10.0.0.0/8,fd00::/8");
	json_decref(recs);
}

static struct lh_resp *policy_req(const char *method, const char *org,
				  const char *token, const char *body)
{
	g_autofree char *path = g_strdup_printf("/api/v1/orgs/%s/policy", org);
	struct lh_req q = {
		.method = method, .path = path, .bearer = token, .body = body
	};

	return lh_do(relay, &q);
}

static void test_policy_api(void)
{
	struct lh_resp *r;
	json_t *recs, *rec, *ch;
	struct lh_pin p;

	r = policy_req("GET", "default", admin_tok, NULL);
	g_assert_cmpint(r->status, ==, 200);
	g_assert_cmpint(json_integer_value(
				json_object_get(r->json, "pin_length")),
			==, 6);
	g_assert_cmpstr(json_string_value(
				json_object_get(r->json, "allowed_origins")),
			==, ALLOWED ",https://app.example.com:8443");
	lh_resp_free(r);

	/* not an admin; another org's admin; a PUT by them */
	r = policy_req("GET", "default", plain_tok, NULL);
	lh_assert_error(r, 403, "forbidden");
	lh_resp_free(r);
	r = policy_req("GET", "default", acme_tok, NULL);
	lh_assert_error(r, 403, "forbidden");
	lh_resp_free(r);
	r = policy_req("PUT", "default", acme_tok,
		       "{\"pin_lock_default\":\"website\"}");
	lh_assert_error(r, 403, "forbidden");
	lh_resp_free(r);
	rec = audit_find("policy.set", "forbidden", &recs);
	json_decref(recs);
	r = policy_req("GET", "default", NULL, NULL);
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);

	/* a bad value or key changes nothing, not even the good keys */
	r = policy_req("PUT", "default", admin_tok,
		       "{\"pin_length\":8,\"technician_cidrs\":\"10.1/8\"}");
	lh_assert_error(r, 400, "bad_request");
	g_assert_nonnull(strstr(r->body, "technician_cidrs"));
	lh_resp_free(r);
	r = policy_req("PUT", "default", admin_tok,
		       "{\"pin_length\":8,\"no_such_key\":1}");
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);
	r = policy_req("PUT", "default", admin_tok, "{\"pin_length\":true}");
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);
	r = policy_req("GET", "default", admin_tok, NULL);
	g_assert_cmpint(json_integer_value(
				json_object_get(r->json, "pin_length")),
			==, 6);
	lh_resp_free(r);

	/* a good PUT: audited with old and new, in force at once */
	r = policy_req("PUT", "default", admin_tok,
		       "{\"pin_length\":8,\"pin_lock_default\":\"website\","
		       "\"require_org_scoped_redeem\":false}");
	g_assert_cmpint(r->status, ==, 200);
	g_assert_cmpint(json_integer_value(
				json_object_get(r->json, "pin_length")),
			==, 8);
	lh_resp_free(r);
	rec = audit_find("policy.set", "ok", &recs);
	g_assert_cmpstr(json_string_value(json_object_get(rec, "actor")), ==,
			"technician:alice");
	ch = json_object_get(json_object_get(rec, "detail"), "changes");
	/* require_org_scoped_redeem was false by default, now the org's */
	g_assert_cmpuint(json_array_size(ch), ==, 3);
	g_assert_true(json_is_true(
		json_object_get(json_array_get(ch, 2), "old_default")));
	g_assert_cmpstr(json_string_value(
				json_object_get(json_array_get(ch, 0), "key")),
			==, "pin_length");
	g_assert_cmpint(json_integer_value(
				json_object_get(json_array_get(ch, 0), "old")),
			==, 6);
	g_assert_cmpint(json_integer_value(
				json_object_get(json_array_get(ch, 0), "new")),
			==, 8);
	g_assert_cmpstr(json_string_value(
				json_object_get(json_array_get(ch, 1), "new")),
			==, "website");
	json_decref(recs);
	lh_pin_new(relay, admin_tok, NULL, &p);
	g_assert_cmpuint(strlen(p.pin), ==, 8);
	lh_pin_clear(&p);
	r = lh_get(relay, "/api/v1/sessions", admin_tok);
	g_assert_cmpstr(json_string_value(json_object_get(
				json_array_get(json_object_get(r->json,
							       "sessions"),
					       0),
				"lock")),
			==, "website");
	lh_resp_free(r);

	/* null unsets */
	r = policy_req("PUT", "default", admin_tok,
		       "{\"pin_length\":null,\"pin_lock_default\":null}");
	g_assert_cmpint(r->status, ==, 200);
	g_assert_cmpint(json_integer_value(
				json_object_get(r->json, "pin_length")),
			==, 6);
	lh_resp_free(r);
}

/* ---- 2. a PIN redeems for its own org only ---- */

static void test_org_scoped(void)
{
	struct lh_pin p;
	json_t *recs, *rec;

	lh_pin_new(relay, admin_tok, "any", &p);
	/* named another org (one that exists, one that does not) */
	redeem_refused(p.pin, "acme", NULL, NULL, NULL, fresh_src(), 404,
		       "pin_invalid");
	rec = audit_find("pin.redeem", "pin_invalid", &recs);
	g_assert_cmpstr(detail_str(rec, "why"), ==, "other_org");
	json_decref(recs);
	redeem_refused(p.pin, "nobody", NULL, NULL, NULL, fresh_src(), 404,
		       "pin_invalid");

	/* the org asks every redeem to name it */
	policy_ok("require_org_scoped_redeem", "true");
	redeem_refused(p.pin, NULL, NULL, NULL, NULL, fresh_src(), 404,
		       "pin_invalid");
	rec = audit_find("pin.redeem", "pin_invalid", &recs);
	g_assert_cmpstr(detail_str(rec, "why"), ==, "org_not_named");
	json_decref(recs);
	redeem_ok(p.pin, "default", NULL, NULL, NULL, fresh_src());
	lh_pin_clear(&p);
	policy_ok("require_org_scoped_redeem", NULL);

	/* unset: a redeem naming no org works again */
	lh_pin_new(relay, admin_tok, "any", &p);
	redeem_ok(p.pin, NULL, NULL, NULL, NULL, fresh_src());
	lh_pin_clear(&p);
}

/* ---- 3. PIN locks ---- */

static char *channel_add(const char *name, const char *org)
{
	char *out = NULL;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, NULL, "channel", "add",
				     name, "--org", org, NULL),
			==, 0);
	g_strstrip(out);
	lh_secret("channel credential", out);
	return out;
}

static void test_lock_website(void)
{
	g_autofree char *launch = NULL;
	struct lh_resp *r;
	struct lh_pin p;
	const char *uri, *l;
	json_t *recs;

	lh_pin_new(relay, admin_tok, "website", &p);
	/* the applet without the page's token */
	r = redeem_pin(p.pin, "default", NULL, NULL, NULL, fresh_src());
	lh_assert_error(r, 403, "pin_locked_website");
	g_assert_nonnull(strstr(r->body, "support web page"));
	lh_resp_free(r);
	audit_find("pin.redeem", "pin_locked_website", &recs);
	json_decref(recs);
	/* a forged token */
	redeem_refused(p.pin, "default", "launch",
		       "00000000000000000000000000000000"
		       "00000000000000000000000000000000",
		       NULL, fresh_src(), 403, "pin_locked_website");

	/* the PIN page's check (from an allowed origin) hands out the
	 * launch link with the token; the applet redeems with it */
	r = pin_check(p.pin, "Origin: " ALLOWED "\r\n", NULL);
	g_assert_cmpint(r->status, ==, 200);
	uri = lh_resp_str(r, "launch_uri");
	g_assert_nonnull(uri);
	l = strstr(uri, "&launch=");
	g_assert_nonnull(l);
	launch = g_strdup(l + 8);
	lh_secret("launch token", launch);
	lh_resp_free(r);
	redeem_ok(p.pin, "default", "launch", launch, NULL, fresh_src());
	/* one time: the PIN is used now */
	redeem_refused(p.pin, "default", "launch", launch, NULL, fresh_src(),
		       404, "pin_invalid");
	lh_pin_clear(&p);

	/* another website PIN's token does not open this one */
	lh_pin_new(relay, admin_tok, "website", &p);
	redeem_refused(p.pin, "default", "launch", launch, NULL, fresh_src(),
		       403, "pin_locked_website");
	/* an 'any' PIN's check hands out no token */
	lh_pin_clear(&p);
	lh_pin_new(relay, admin_tok, "any", &p);
	r = pin_check(p.pin, "Origin: " ALLOWED "\r\n", NULL);
	g_assert_cmpint(r->status, ==, 200);
	g_assert_null(strstr(lh_resp_str(r, "launch_uri"), "launch="));
	lh_resp_free(r);
	lh_pin_clear(&p);
}

static void test_lock_shortcut(void)
{
	g_autofree char *cred = channel_add("desk", "default");
	g_autofree char *other = channel_add("acme-desk", "acme");
	struct lh_resp *r;
	struct lh_pin p;
	json_t *recs;

	lh_pin_new(relay, admin_tok, "shortcut", &p);
	r = redeem_pin(p.pin, "default", NULL, NULL, NULL, fresh_src());
	lh_assert_error(r, 403, "pin_locked_shortcut");
	g_assert_nonnull(strstr(r->body, "shortcut"));
	lh_resp_free(r);
	audit_find("pin.redeem", "pin_locked_shortcut", &recs);
	json_decref(recs);
	/* another org's credential, a forged one */
	redeem_refused(p.pin, "default", "channel", other, NULL, fresh_src(),
		       403, "pin_locked_shortcut");
	redeem_refused(p.pin, "default", "channel", "llc1_AAAA", NULL,
		       fresh_src(), 403, "pin_locked_shortcut");
	/* from the org's web page: not the shortcut either */
	redeem_refused(p.pin, "default", "channel", cred,
		       "Origin: " ALLOWED "\r\n", fresh_src(), 403,
		       "pin_locked_shortcut");
	redeem_ok(p.pin, "default", "channel", cred, NULL, fresh_src());
	lh_pin_clear(&p);

	/* the org's default lock applies when the technician names none */
	policy_ok("pin_lock_default", "shortcut");
	lh_pin_new(relay, admin_tok, NULL, &p);
	redeem_refused(p.pin, "default", NULL, NULL, NULL, fresh_src(), 403,
		       "pin_locked_shortcut");
	lh_pin_clear(&p);
	/* ... and an explicit lock overrides it */
	lh_pin_new(relay, admin_tok, "any", &p);
	redeem_ok(p.pin, "default", NULL, NULL, NULL, fresh_src());
	lh_pin_clear(&p);
	policy_ok("pin_lock_default", NULL);
}

/* relay.conf's public_url set to url (applet-config reads it; the
 * running relay does not). */
static void set_public_url(struct lh_relay *r, const char *url)
{
	g_autofree char *conf = g_build_filename(r->state_dir, "relay.conf",
						 NULL);
	g_autofree char *text = NULL, *more = NULL;
	char *p;

	g_assert_true(g_file_get_contents(conf, &text, NULL, NULL));
	if ((p = strstr(text, "public_url = ")) != NULL)
		*p = '\0';
	more = g_strdup_printf("%spublic_url = %s\n", text, url);
	g_assert_true(g_file_set_contents(conf, more, -1, NULL));
}

/* A signed applet configuration of r for org, as text (g_free). */
static char *applet_config(struct lh_relay *r, const char *org,
			   const char *url)
{
	g_autofree char *path = g_build_filename(r->dir, "policy.lifeline",
						 NULL);
	char *text = NULL;

	set_public_url(r, url);
	g_assert_cmpint(lh_relay_cmd(r, NULL, NULL, NULL, "applet-config",
				     "--org", org, "--out", path, NULL),
			==, 0);
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

/* A redeem of a fresh shortcut PIN with conf as its proof (and headers)
 * refused as pin_locked_shortcut, audited with why. */
static void assert_config_refused(const char *conf, const char *headers,
				  const char *why)
{
	struct lh_resp *r;
	struct lh_pin p;
	json_t *recs, *rec;

	lh_pin_new(relay, admin_tok, "shortcut", &p);
	r = redeem_pin(p.pin, "default", "applet_config", conf, headers,
		       fresh_src());
	lh_assert_error(r, 403, "pin_locked_shortcut");
	g_assert_nonnull(strstr(r->body, "shortcut"));
	lh_resp_free(r);
	rec = audit_find("pin.redeem", "pin_locked_shortcut", &recs);
	g_assert_cmpstr(detail_str(rec, "why"), ==, why);
	g_assert_cmpstr(json_string_value(json_object_get(rec, "session_id")),
			==, p.session_id);
	json_decref(recs);
	lh_pin_clear(&p);
}

/*
 * A shortcut PIN redeemed with the org's signed applet configuration as
 * its proof (what an applet bound by the shortcut sends): allowed; and
 * refused for another org's configuration, a configuration altered, one
 * signed by another relay's key, one for another relay host, garbage,
 * and from a browser even with a good one.
 */
static void test_lock_shortcut_config(void)
{
	struct lh_relay *evil = lh_relay_new("policy-evil", NULL);
	g_autofree char *conf = applet_config(relay, "default",
					      "https://127.0.0.1:8443");
	g_autofree char *acme = applet_config(relay, "acme",
					      "https://127.0.0.1:8443");
	g_autofree char *elsewhere = applet_config(relay, "default",
						   "https://localhost:8443");
	g_autofree char *foreign = applet_config(evil, "default",
						 "https://127.0.0.1:8443");
	g_autofree char *altered = g_strdup(conf);
	struct lh_pin p;
	json_t *recs, *rec;
	char *o;

	lh_pin_new(relay, admin_tok, "shortcut", &p);
	redeem_ok(p.pin, "default", "applet_config", conf, NULL, fresh_src());
	rec = audit_find("pin.redeem", "ok", &recs);
	g_assert_cmpstr(json_string_value(json_object_get(rec, "session_id")),
			==, p.session_id);
	g_assert_cmpstr(detail_str(rec, "proof"), ==, "applet_config");
	/* the configuration itself is never in the record */
	o = json_dumps(rec, JSON_COMPACT);
	g_assert_null(strstr(o, "sign_key"));
	g_assert_null(strstr(o, "relay_pin"));
	free(o);
	json_decref(recs);
	lh_pin_clear(&p);

	assert_config_refused(acme, NULL, "config_other_org");
	o = strstr(altered, "org=default");
	o[4] = 'e'; /* "deeault": same length, signature broken */
	assert_config_refused(altered, NULL, "config_invalid");
	assert_config_refused("lifeline-applet-config 2\n", NULL,
			      "config_invalid");
	assert_config_refused(foreign, NULL, "config_foreign_key");
	assert_config_refused(elsewhere, NULL, "config_other_relay");
	/* from the org's web page: a good configuration, but a browser */
	lh_pin_new(relay, admin_tok, "shortcut", &p);
	redeem_refused(p.pin, "default", "applet_config", conf,
		       "Origin: " ALLOWED "\r\n", fresh_src(), 403,
		       "pin_locked_shortcut");
	lh_pin_clear(&p);
	/* an 'any' PIN does not mind one */
	lh_pin_new(relay, admin_tok, "any", &p);
	redeem_ok(p.pin, "default", "applet_config", acme, NULL, fresh_src());
	lh_pin_clear(&p);
	lh_relay_free(evil);
}

/* ---- 4. the Origin of browser redeems ---- */

static void test_origin_matrix(void)
{
	static const char *const refused[] = {
		"Origin: null\r\n",
		"Origin: null\r\nSec-Fetch-Site: cross-site\r\n",
		/* a browser's request (Sec-Fetch-*) without Origin */
		"Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: cors\r\n",
		"Origin: https://evil-example.com\r\n",
		"Origin: https://example.com.evil.net\r\n",
		"Origin: https://help.example.com\r\n",
		"Origin: http://example.com\r\n",
		"Origin: https://example.com:8443\r\n",
		"Origin: https://EXAMPLE.COM\r\n",
		"Origin: https://example.com.\r\n",
		"Origin: https://exampleXcom\r\n",
		/* a punycode look-alike (exаmple.com, Cyrillic a) */
		"Origin: https://xn--exmple-4nf.com\r\n",
		"Origin: https://example.com/\r\n",
		"Origin: https://app.example.com\r\n",
		"Origin: https://example.com:443\r\n",
		"Origin: \r\n",
		/* Referer does not count */
		"Origin: https://evil.net\r\nReferer: " ALLOWED "/\r\n",
	};
	struct lh_resp *r;
	struct lh_pin p;
	json_t *recs, *rec;
	size_t i;

	lh_pin_new(relay, admin_tok, "any", &p);
	for (i = 0; i < G_N_ELEMENTS(refused); i++) {
		const char *src = fresh_src();

		r = redeem_pin(p.pin, "default", NULL, NULL, refused[i], src);
		if (r->status != 403)
			g_error("case %zu (%s): %d %s", i, refused[i],
				r->status, r->body);
		lh_assert_error(r, 403, "origin_not_allowed");
		g_assert_null(
			lh_resp_header(r, "Access-Control-Allow-Origin"));
		g_assert_cmpstr(lh_resp_header(r, "Vary"), ==, "Origin");
		lh_resp_free(r);
		/* the preflight reflects none of them either */
		{
			struct lh_req q = { .method = "OPTIONS",
					    .path = "/api/v1/pins/redeem",
					    .headers = refused[i] };

			r = lh_do(relay, &q);
			g_assert_cmpint(r->status, ==, 204);
			g_assert_null(
				lh_resp_header(r,
					       "Access-Control-Allow-Origin"));
			lh_resp_free(r);
		}
		/* the refusal's own audit record, from its address */
		recs = lh_audit_records(relay, "pin.redeem");
		rec = NULL;
		for (size_t k = 0; k < json_array_size(recs); k++) {
			json_t *x = json_array_get(recs, k);

			if (g_strcmp0(json_string_value(
					      json_object_get(x, "source_ip")),
				      src) == 0)
				rec = x;
		}
		g_assert_nonnull(rec);
		g_assert_cmpstr(json_string_value(
					json_object_get(rec, "outcome")),
				==, "origin_not_allowed");
		json_decref(recs);
	}
	/* the allowed origin, exactly: redeems, and is the one reflected */
	r = redeem_pin(p.pin, "default", NULL, NULL,
		       "Origin: " ALLOWED "\r\nReferer: https://evil.net/\r\n"
		       "Sec-Fetch-Site: cross-site\r\n",
		       fresh_src());
	g_assert_cmpint(r->status, ==, 200);
	g_assert_cmpstr(lh_resp_header(r, "Access-Control-Allow-Origin"), ==,
			ALLOWED);
	lh_secret("ticket", lh_resp_str(r, "ticket"));
	lh_resp_free(r);
	lh_pin_clear(&p);

	/* another org's allowed origin is not this org's */
	g_assert_cmpint(policy(NULL, NULL, "set", "allowed_origins",
			       "https://acme.example", "--org", "acme"),
			==, 0);
	lh_pin_new(relay, admin_tok, "any", &p);
	r = redeem_pin(p.pin, "default", NULL, NULL,
		       "Origin: https://acme.example\r\n", fresh_src());
	lh_assert_error(r, 403, "origin_not_allowed");
	g_assert_null(lh_resp_header(r, "Access-Control-Allow-Origin"));
	lh_resp_free(r);
	/* a native client (no Origin, no Sec-Fetch-*) is no browser */
	redeem_ok(p.pin, "default", NULL, NULL, NULL, fresh_src());
	lh_pin_clear(&p);
}

/* ---- 5. technician_cidrs and trusted_proxies ---- */

static void test_technician_cidrs(void)
{
	g_autofree char *tok = NULL;
	struct lh_resp *r;
	json_t *recs, *rec;

	tok = login("default", "bob");
	policy_ok("technician_cidrs", "10.0.0.0/8, fd00::/8, 127.0.8.1/32");
	/* login from outside */
	r = login_try("default", "bob", "127.0.8.2", NULL);
	lh_assert_error(r, 403, "ip_not_allowed");
	g_assert_null(lh_resp_str(r, "token"));
	lh_resp_free(r);
	rec = audit_find("login", "ip_not_allowed", &recs);
	g_assert_cmpstr(detail_str(rec, "client_addr"), ==, "127.0.8.2");
	json_decref(recs);
	/* a live token from outside */
	r = lh_get(relay, "/api/v1/sessions", tok);
	lh_assert_error(r, 403, "ip_not_allowed");
	lh_resp_free(r);
	audit_find("session.list", "ip_not_allowed", &recs);
	json_decref(recs);
	/* from inside */
	r = login_try("default", "bob", "127.0.8.1", NULL);
	g_assert_cmpint(r->status, ==, 200);
	lh_secret("token", lh_resp_str(r, "token"));
	lh_resp_free(r);
	/* another org's ranges are its own */
	r = lh_get(relay, "/api/v1/sessions", acme_tok);
	g_assert_cmpint(r->status, ==, 200);
	lh_resp_free(r);

	/* X-Forwarded-For is nobody's word until trusted_proxies says */
	r = login_try("default", "bob", "127.0.8.5",
		      "X-Forwarded-For: 10.1.2.3\r\n");
	lh_assert_error(r, 403, "ip_not_allowed");
	lh_resp_free(r);
	policy_ok("trusted_proxies", "127.0.8.5");
	r = login_try("default", "bob", "127.0.8.5",
		      "X-Forwarded-For: 10.1.2.3\r\n");
	g_assert_cmpint(r->status, ==, 200);
	lh_secret("token", lh_resp_str(r, "token"));
	lh_resp_free(r);
	r = login_try("default", "bob", "127.0.8.5",
		      "Forwarded: for=\"[fd00::7]:4711\";proto=https\r\n");
	g_assert_cmpint(r->status, ==, 200);
	lh_secret("token", lh_resp_str(r, "token"));
	lh_resp_free(r);
	/* only the proxy's own (last) entry counts */
	r = login_try("default", "bob", "127.0.8.5",
		      "X-Forwarded-For: 10.1.2.3, 192.0.2.1\r\n");
	lh_assert_error(r, 403, "ip_not_allowed");
	lh_resp_free(r);
	/* from an address that is no trusted proxy */
	r = login_try("default", "bob", "127.0.8.6",
		      "X-Forwarded-For: 10.1.2.3\r\n");
	lh_assert_error(r, 403, "ip_not_allowed");
	lh_resp_free(r);
	/* garbage from the proxy: its own address counts, outside */
	r = login_try("default", "bob", "127.0.8.5",
		      "X-Forwarded-For: not-an-address\r\n");
	lh_assert_error(r, 403, "ip_not_allowed");
	lh_resp_free(r);

	policy_ok("trusted_proxies", NULL);
	policy_ok("technician_cidrs", NULL);
	/* no restart: the old token works again */
	r = lh_get(relay, "/api/v1/sessions", tok);
	g_assert_cmpint(r->status, ==, 200);
	lh_resp_free(r);
}

/* ---- 6. end_user_cidrs ---- */

static void test_end_user_cidrs(void)
{
	struct lh_resp *r;
	struct lh_pin p;
	json_t *recs, *rec;

	policy_ok("end_user_cidrs", "127.0.7.0/24, 2001:db8::/32");
	lh_pin_new(relay, admin_tok, "any", &p);
	redeem_refused(p.pin, "default", NULL, NULL, NULL, "127.0.6.1", 403,
		       "end_user_ip_not_allowed");
	rec = audit_find("pin.redeem", "end_user_ip_not_allowed", &recs);
	g_assert_cmpstr(detail_str(rec, "client_addr"), ==, "127.0.6.1");
	json_decref(recs);
	/* the PIN page's check says the same */
	r = pin_check(p.pin, NULL, "127.0.6.2");
	lh_assert_error(r, 403, "end_user_ip_not_allowed");
	lh_resp_free(r);
	/* a proxy's word counts only when the org trusts it */
	redeem_refused(p.pin, "default", NULL, NULL,
		       "X-Forwarded-For: 127.0.7.9\r\n", "127.0.6.3", 403,
		       "end_user_ip_not_allowed");
	policy_ok("trusted_proxies", "127.0.6.3");
	redeem_ok(p.pin, "default", NULL, NULL,
		  "X-Forwarded-For: 127.0.7.9\r\n", "127.0.6.3");
	lh_pin_clear(&p);
	policy_ok("trusted_proxies", NULL);
	/* from inside */
	lh_pin_new(relay, admin_tok, "any", &p);
	redeem_ok(p.pin, "default", NULL, NULL, NULL, "127.0.7.5");
	lh_pin_clear(&p);
	policy_ok("end_user_cidrs", NULL);
}

/* ---- 6b. end_user_cidrs per technician group ---- */

static int group_cli(char **err, const char *a1, const char *a2,
		     const char *a3, const char *a4, const char *a5)
{
	/* what an earlier command said is done with (lh_relay_cmd sets
	 * *err, even to "", without looking at it) */
	g_clear_pointer(err, g_free);
	/* the options first: a5 may be the NULL that ends the list */
	return lh_relay_cmd(relay, NULL, NULL, err, "group", a1, "--org",
			    "default", a2, a3, a4, a5, NULL);
}

/* A redeem of a fresh PIN of tok's technician from src: its status; a
 * refusal must be end_user_ip_not_allowed, audited for that session with
 * the client's address and detail.why = why (NULL: the org's ranges,
 * which say no why).  Refusals are aggregated per source address: a
 * refused src is used once. */
static int group_redeem(const char *tok, const char *headers, const char *src,
			const char *why)
{
	struct lh_resp *r;
	struct lh_pin p;
	json_t *recs, *rec, *d;
	int status;

	lh_pin_new(relay, tok, "any", &p);
	r = redeem_pin(p.pin, "default", NULL, NULL, headers, src);
	status = r->status;
	if (status == 200) {
		lh_secret("ticket", lh_resp_str(r, "ticket"));
		lh_resp_free(r);
		lh_pin_clear(&p);
		return status;
	}
	lh_assert_error(r, 403, "end_user_ip_not_allowed");
	lh_resp_free(r);
	rec = audit_find("pin.redeem", "end_user_ip_not_allowed", &recs);
	g_assert_cmpstr(json_string_value(json_object_get(rec, "session_id")),
			==, p.session_id);
	d = json_object_get(rec, "detail");
	g_assert_cmpstr(json_string_value(json_object_get(d, "why")), ==, why);
	g_assert_cmpstr(json_string_value(json_object_get(d, "group")), ==,
			why ? "field" : NULL);
	g_assert_nonnull(json_string_value(json_object_get(d, "client_addr")));
	json_decref(recs);
	lh_pin_clear(&p);
	return status;
}

/* The group's end_user_cidrs as `group list --json` shows it (NULL:
 * null); "missing" when there is no such group. */
static char *group_listed_cidrs(const char *name)
{
	g_autofree char *out = NULL;
	json_t *doc, *g;
	char *ret = g_strdup("missing");
	size_t i;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, NULL, "group", "list",
				     "--json", "--org", "default", NULL),
			==, 0);
	doc = json_loads(out, 0, NULL);
	g_assert_nonnull(doc);
	json_array_foreach(json_object_get(doc, "groups"), i, g)
	{
		if (strcmp(json_string_value(json_object_get(g, "name")),
			   name) != 0)
			continue;
		g_free(ret);
		g_assert_true(json_object_get(g, "end_user_cidrs") != NULL);
		ret = g_strdup(json_string_value(
			json_object_get(g, "end_user_cidrs")));
	}
	json_decref(doc);
	return ret;
}

/*
 * A group's end_user_cidrs: its technicians' PINs redeem (and check)
 * only from its ranges; another group's, or no group's, are not
 * touched; with the org's ranges set too, both must allow.  dave is in
 * "field" (127.0.8.0/24), erin in "desk" (no ranges).
 */
static void test_group_end_user_cidrs(void)
{
	g_autofree char *err = NULL, *dave = NULL, *erin = NULL, *v = NULL;
	json_t *rec, *d;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, &err, "group", "add",
				     "field", "--permissions",
				     "view,control,files,chat,sysinfo",
				     "--end-user-cidrs", " 127.0.8.0/24 ",
				     "--org", "default", NULL),
			==, 0);
	rec = lh_audit_records(relay, "group.add");
	d = json_object_get(json_array_get(rec, json_array_size(rec) - 1),
			    "detail");
	g_assert_cmpstr(json_string_value(
				json_object_get(d, "end_user_cidrs")),
			==, "127.0.8.0/24");
	json_decref(rec);
	g_assert_cmpint(group_cli(&err, "add", "desk", "--permissions",
				  "view,control,files,chat,sysinfo", NULL),
			==, 0);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "technician",
				     "set", "dave", "--group", "field",
				     "--org", "default", NULL),
			==, 0);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "technician",
				     "set", "erin", "--group", "desk", "--org",
				     "default", NULL),
			==, 0);
	dave = login("default", "dave");
	erin = login("default", "erin");

	/* outside the group's ranges: the redeem and the PIN check */
	g_assert_cmpint(group_redeem(dave, NULL, "127.0.10.1",
				     "group_end_user_cidrs"),
			==, 403);
	{
		struct lh_pin p;
		struct lh_resp *r;

		lh_pin_new(relay, dave, "any", &p);
		r = pin_check(p.pin, NULL, "127.0.10.2");
		lh_assert_error(r, 403, "end_user_ip_not_allowed");
		lh_resp_free(r);
		r = pin_check(p.pin, NULL, "127.0.8.2");
		g_assert_cmpint(r->status, ==, 200);
		lh_resp_free(r);
		lh_pin_clear(&p);
	}
	/* inside; and the other group, without ranges, from anywhere */
	g_assert_cmpint(group_redeem(dave, NULL, "127.0.8.5", NULL), ==, 200);
	g_assert_cmpint(group_redeem(erin, NULL, "127.0.6.1", NULL), ==, 200);
	g_assert_cmpint(group_redeem(admin_tok, NULL, "127.0.6.1", NULL), ==,
			200);
	/* the address the org's trusted proxy names, as the org's check */
	g_assert_cmpint(group_redeem(dave, "X-Forwarded-For: 127.0.8.9\r\n",
				     "127.0.10.3", "group_end_user_cidrs"),
			==, 403);
	policy_ok("trusted_proxies", "127.0.10.3");
	g_assert_cmpint(group_redeem(dave, "X-Forwarded-For: 127.0.8.9\r\n",
				     "127.0.10.3", NULL),
			==, 200);
	policy_ok("trusted_proxies", NULL);

	/* org and group both set: both must allow */
	policy_ok("end_user_cidrs", "127.0.7.0/24,127.0.8.0/25");
	g_assert_cmpint(group_redeem(dave, NULL, "127.0.8.200", NULL), ==,
			403); /* the group's, not the org's */
	g_assert_cmpint(group_redeem(dave, NULL, "127.0.7.5",
				     "group_end_user_cidrs"),
			==, 403); /* the org's, not the group's */
	g_assert_cmpint(group_redeem(dave, NULL, "127.0.8.5", NULL), ==, 200);
	g_assert_cmpint(group_redeem(erin, NULL, "127.0.8.201", NULL), ==,
			403);
	g_assert_cmpint(group_redeem(erin, NULL, "127.0.7.5", NULL), ==, 200);
	policy_ok("end_user_cidrs", NULL);

	/* bad ranges: refused, nothing changed */
	g_assert_cmpint(group_cli(&err, "set", "field", "--end-user-cidrs",
				  "127.0.8.1/24", NULL),
			==, 2);
	g_assert_nonnull(strstr(err, "address bits set past the prefix"));
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, &err, "group", "add",
				     "bad", "--permissions", "view",
				     "--end-user-cidrs", "300.0.0.0/8",
				     "--org", "default", NULL),
			==, 2);
	g_assert_nonnull(strstr(err, "'300.0.0.0' is not an IPv4"));
	g_clear_pointer(&err, g_free);
	v = group_listed_cidrs("field");
	g_assert_cmpstr(v, ==, "127.0.8.0/24");
	g_clear_pointer(&v, g_free);
	v = group_listed_cidrs("bad");
	g_assert_cmpstr(v, ==, "missing");
	g_clear_pointer(&v, g_free);

	/* "" clears: dave's PINs redeem wherever the org allows */
	g_assert_cmpint(group_cli(&err, "set", "field", "--end-user-cidrs", "",
				  NULL),
			==, 0);
	rec = lh_audit_records(relay, "group.set");
	d = json_object_get(json_array_get(rec, json_array_size(rec) - 1),
			    "detail");
	g_assert_cmpstr(json_string_value(
				json_object_get(d, "old_end_user_cidrs")),
			==, "127.0.8.0/24");
	g_assert_true(json_is_null(json_object_get(d, "end_user_cidrs")));
	g_assert_null(json_object_get(d, "permissions"));
	json_decref(rec);
	v = group_listed_cidrs("field");
	g_assert_null(v);
	g_assert_cmpint(group_redeem(dave, NULL, "127.0.6.1", NULL), ==, 200);
}

/* The same through the API: shown, set, cleared, bad values refused. */
static void test_group_end_user_cidrs_api(void)
{
	struct lh_req q = { .bearer = admin_tok };
	g_autofree char *v = NULL;
	struct lh_resp *r;
	json_t *rec, *d, *g;
	const char *msg;
	size_t i;
	bool seen = false;

	q.method = "POST";
	q.path = "/api/v1/groups";
	q.body = "{\"name\":\"api-cidrs\",\"permissions\":[\"view\"],"
		 "\"end_user_cidrs\":\"10.1.0.0/16 , 2001:db8::/32\"}";
	r = lh_do(relay, &q);
	g_assert_cmpint(r->status, ==, 201);
	g_assert_cmpstr(lh_resp_str(r, "end_user_cidrs"), ==,
			"10.1.0.0/16,2001:db8::/32");
	lh_resp_free(r);
	q.body = "{\"name\":\"api-bad\",\"permissions\":[\"view\"],"
		 "\"end_user_cidrs\":\"10.1.0.1/16\"}";
	r = lh_do(relay, &q);
	lh_assert_error(r, 400, "bad_request");
	msg = json_string_value(
		json_object_get(json_object_get(r->json, "error"), "message"));
	g_assert_nonnull(msg);
	g_assert_nonnull(strstr(msg, "end_user_cidrs"));
	g_assert_nonnull(strstr(msg, "address bits set past the prefix"));
	lh_resp_free(r);
	v = group_listed_cidrs("api-bad");
	g_assert_cmpstr(v, ==, "missing");
	g_clear_pointer(&v, g_free);

	q.method = "PUT";
	q.path = "/api/v1/groups/api-cidrs";
	q.body = "{\"end_user_cidrs\":\"nonsense\"}";
	r = lh_do(relay, &q);
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);
	q.body = "{}";
	r = lh_do(relay, &q);
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);
	v = group_listed_cidrs("api-cidrs");
	g_assert_cmpstr(v, ==, "10.1.0.0/16,2001:db8::/32");
	g_clear_pointer(&v, g_free);
	q.body = "{\"end_user_cidrs\":\"10.2.0.0/16\"}";
	r = lh_do(relay, &q);
	g_assert_cmpint(r->status, ==, 200);
	g_assert_cmpstr(lh_resp_str(r, "end_user_cidrs"), ==, "10.2.0.0/16");
	g_assert_cmpuint(json_array_size(
				 json_object_get(r->json, "permissions")),
			 ==, 1);
	lh_resp_free(r);
	rec = audit_find("group.set", "ok", &d);
	g_assert_cmpstr(detail_str(rec, "old_end_user_cidrs"), ==,
			"10.1.0.0/16,2001:db8::/32");
	g_assert_cmpstr(detail_str(rec, "end_user_cidrs"), ==, "10.2.0.0/16");
	json_decref(d);

	q.method = "GET";
	q.path = "/api/v1/groups";
	q.body = NULL;
	r = lh_do(relay, &q);
	g_assert_cmpint(r->status, ==, 200);
	json_array_foreach(json_object_get(r->json, "groups"), i, g)
	{
		const char *name = json_string_value(
			json_object_get(g, "name"));

		if (strcmp(name, "api-cidrs") == 0) {
			g_assert_cmpstr(json_string_value(json_object_get(
						g, "end_user_cidrs")),
					==, "10.2.0.0/16");
			seen = true;
		} else if (strcmp(name, "desk") == 0) {
			g_assert_true(json_is_null(
				json_object_get(g, "end_user_cidrs")));
		}
	}
	g_assert_true(seen);
	lh_resp_free(r);

	q.method = "PUT";
	q.path = "/api/v1/groups/api-cidrs";
	q.body = "{\"end_user_cidrs\":\"\"}";
	r = lh_do(relay, &q);
	g_assert_cmpint(r->status, ==, 200);
	g_assert_true(
		json_is_null(json_object_get(r->json, "end_user_cidrs")));
	lh_resp_free(r);
}

/* A redeem of a fresh PIN (lock any) with field=value from src, refused
 * with code and audited with the detail key=want (NULL: not checked). */
static void assert_internal_refused(const char *field, const char *value,
				    const char *headers, const char *src,
				    int status, const char *code,
				    const char *key, const char *want)
{
	struct lh_resp *r;
	struct lh_pin p;
	json_t *recs, *rec, *d;

	lh_pin_new(relay, admin_tok, "any", &p);
	r = redeem_pin(p.pin, "default", field, value, headers, src);
	lh_assert_error(r, status, code);
	lh_resp_free(r);
	rec = audit_find("pin.redeem", code, &recs);
	g_assert_cmpstr(json_string_value(json_object_get(rec, "session_id")),
			==, p.session_id);
	d = json_object_get(rec, "detail");
	if (key != NULL)
		g_assert_cmpstr(json_string_value(json_object_get(d, key)), ==,
				want);
	json_decref(recs);
	lh_pin_clear(&p);
}

/*
 * internal_only: the org's PINs (whatever their lock) redeem only from
 * its end_user_cidrs, none while they are empty, and only with the
 * org-bound applet's proof (its signed configuration or a channel
 * credential), never from a browser.  The PIN page may still check a PIN
 * from inside.
 */
static void test_internal_only(void)
{
	g_autofree char *conf = applet_config(relay, "default",
					      "https://127.0.0.1:8443");
	g_autofree char *acme = applet_config(relay, "acme",
					      "https://127.0.0.1:8443");
	g_autofree char *cred = channel_add("inside-desk", "default");
	struct lh_resp *r;
	struct lh_pin p;
	json_t *recs, *rec;

	policy_ok("internal_only", "true");
	/* no ranges: no address is inside */
	assert_internal_refused("applet_config", conf, NULL, "127.0.5.1", 403,
				"end_user_ip_not_allowed", "why", "no_ranges");
	policy_ok("end_user_cidrs", "127.0.5.0/24");
	/* outside, with every proof */
	{
		g_autofree char *src = g_strdup(fresh_src());

		assert_internal_refused("applet_config", conf, NULL, src, 403,
					"end_user_ip_not_allowed",
					"client_addr", src);
	}
	/* inside, but no proof, a browser, another org's configuration */
	assert_internal_refused(NULL, NULL, NULL, "127.0.5.2", 403,
				"pin_locked_shortcut", "why", "no_proof");
	assert_internal_refused("applet_config", conf,
				"Origin: " ALLOWED "\r\n", "127.0.5.3", 403,
				"pin_locked_shortcut", NULL, NULL);
	assert_internal_refused("applet_config", acme, NULL, "127.0.5.4", 403,
				"pin_locked_shortcut", "why",
				"config_other_org");
	rec = audit_find("pin.redeem", "pin_locked_shortcut", &recs);
	g_assert_true(
		json_is_true(json_object_get(json_object_get(rec, "detail"),
					     "internal_only")));
	json_decref(recs);

	/* inside, in the bound applet: by configuration, by channel */
	lh_pin_new(relay, admin_tok, "any", &p);
	redeem_ok(p.pin, "default", "applet_config", conf, NULL, "127.0.5.5");
	rec = audit_find("pin.redeem", "ok", &recs);
	g_assert_cmpstr(json_string_value(json_object_get(rec, "session_id")),
			==, p.session_id);
	json_decref(recs);
	lh_pin_clear(&p);
	lh_pin_new(relay, admin_tok, "any", &p);
	redeem_ok(p.pin, "default", "channel", cred, NULL, "127.0.5.6");
	lh_pin_clear(&p);

	/* the PIN page's check from inside passes (the redeem is the
	 * bound applet's), from outside not */
	lh_pin_new(relay, admin_tok, "any", &p);
	r = pin_check(p.pin, "Origin: " ALLOWED "\r\n", "127.0.5.7");
	g_assert_cmpint(r->status, ==, 200);
	lh_resp_free(r);
	r = pin_check(p.pin, "Origin: " ALLOWED "\r\n", fresh_src());
	lh_assert_error(r, 403, "end_user_ip_not_allowed");
	lh_resp_free(r);
	lh_pin_clear(&p);

	/* off again: as before */
	policy_ok("internal_only", NULL);
	policy_ok("end_user_cidrs", NULL);
	lh_pin_new(relay, admin_tok, "any", &p);
	redeem_ok(p.pin, "default", NULL, NULL, NULL, fresh_src());
	lh_pin_clear(&p);
}

/* ---- the chat transcript (issue 13 item 2) ---- */

#define CHAT_PLAIN "Kept-Chat-Line-7c1e"

/* POST /sessions/ID/chat with bearer and a body. */
static struct lh_resp *chat_post(const char *id, const char *bearer,
				 json_t *body)
{
	g_autofree char *path = g_strdup_printf("/api/v1/sessions/%s/chat",
						id);
	struct lh_resp *r = lh_post(relay, path, bearer, body);

	json_decref(body);
	return r;
}

static json_t *chat_line(const char *from, const char *text)
{
	return json_pack("{s:s,s:I,s:s}", "from", from, "time",
			 (json_int_t)lh_now_ms(), "text", text);
}

/* True when any file of the store (the database, its WAL) holds needle:
 * what a copy of the store without the key would give away. */
static bool store_has(const char *needle)
{
	static const char *const files[] = { "lifeline.db", "lifeline.db-wal",
					     "lifeline.db-journal" };
	bool found = false;
	gchar *data;
	gsize len;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *p = g_build_filename(relay->state_dir,
						      files[i], NULL);

		if (!g_file_get_contents(p, &data, &len, NULL))
			continue;
		found = found ||
			memmem(data, len, needle, strlen(needle)) != NULL;
		g_free(data);
	}
	return found;
}

/*
 * keep_chat off (the default): a line is refused with 409 chat_not_kept,
 * recorded as a refusal, and nothing is stored.  On: kept sealed (no
 * plaintext in any file of the store), sanitised, readable by an admin
 * of the org through the API and `chat show` (each audited, never with
 * the text), sealed again by `key rotate`.  Bad lines and wrong callers
 * get their own answers.
 */
static void test_keep_chat(void)
{
	g_autofree char *path = NULL;
	g_autofree char *out = NULL;
	char big[LL_CONTROL_MAX_CHAT + 2];
	struct lh_pin pin = { 0 };
	struct lh_resp *r;
	json_t *recs, *rec, *lines;
	const char *text;
	char *dump;

	lh_pin_new(relay, plain_tok, NULL, &pin);
	path = g_strdup_printf("/api/v1/sessions/%s/chat", pin.session_id);
	r = chat_post(pin.session_id, pin.agent_ticket,
		      chat_line("user", CHAT_PLAIN " off"));
	lh_assert_error(r, 409, "chat_not_kept");
	lh_resp_free(r);
	rec = audit_find("session.chat", "chat_not_kept", &recs);
	g_assert_nonnull(rec);
	json_decref(recs);

	policy_ok("keep_chat", "true");
	/* a token is not the session's ticket */
	r = chat_post(pin.session_id, plain_tok, chat_line("user", "x"));
	g_assert_cmpint(r->status, ==, 401);
	lh_resp_free(r);
	r = chat_post(pin.session_id, pin.agent_ticket,
		      chat_line("admin", "x"));
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	r = chat_post(pin.session_id, pin.agent_ticket,
		      chat_line("user", big));
	lh_assert_error(r, 400, "bad_request");
	lh_resp_free(r);
	/* a bidi override and a bell: kept as U+FFFD */
	r = chat_post(pin.session_id, pin.agent_ticket,
		      chat_line("user", CHAT_PLAIN " \xe2\x80\xae\x07!"));
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	r = chat_post(pin.session_id, pin.agent_ticket,
		      chat_line("technician", "second line"));
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	rec = audit_find("session.chat", "ok", &recs);
	g_assert_cmpint(json_integer_value(
				json_object_get(json_object_get(rec, "detail"),
						"bytes")),
			==, strlen("second line"));
	dump = json_dumps(rec, 0);
	g_assert_null(strstr(dump, CHAT_PLAIN));
	free(dump);
	json_decref(recs);
	g_assert_false(store_has(CHAT_PLAIN));

	/* an admin of the org reads it; a plain technician may not */
	r = lh_get(relay, path, plain_tok);
	lh_assert_error(r, 403, "forbidden");
	lh_resp_free(r);
	r = lh_get(relay, path, admin_tok);
	g_assert_cmpint(r->status, ==, 200);
	lines = json_object_get(r->json, "lines");
	g_assert_cmpint(json_array_size(lines), ==, 2);
	text = json_string_value(
		json_object_get(json_array_get(lines, 0), "text"));
	g_assert_cmpstr(text, ==,
			CHAT_PLAIN " " LL_TEXT_REPLACEMENT LL_TEXT_REPLACEMENT
				   "!");
	g_assert_cmpstr(json_string_value(
				json_object_get(json_array_get(lines, 1),
						"from")),
			==, "technician");
	lh_resp_free(r);
	rec = audit_find("session.chat.read", "ok", &recs);
	json_decref(recs);

	/* the command line, while serve runs; then after a rotation */
	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, NULL, "chat", "show",
				     pin.session_id, NULL),
			==, 0);
	g_assert_nonnull(strstr(out, " user: " CHAT_PLAIN " "));
	g_assert_nonnull(strstr(out, " technician: second line"));
	g_clear_pointer(&out, g_free);
	g_assert_cmpint(lh_relay_stop(relay, 10000), ==, 0);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "key", "rotate",
				     NULL),
			==, 0);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, NULL, "chat", "show",
				     pin.session_id, "--json", NULL),
			==, 0);
	g_assert_nonnull(strstr(out, CHAT_PLAIN));
	g_assert_false(store_has(CHAT_PLAIN));
	lh_relay_start(relay);
	policy_ok("keep_chat", NULL);
	lh_pin_clear(&pin);
}

static void test_stop_and_verify(void)
{
	g_assert_cmpint(lh_relay_stop_verify(relay), >=, 10);
}

int main(int argc, char **argv)
{
	int rc;

	lh_init(&argc, &argv);
	relay = lh_relay_new("policy",
			     "redeem_burst=1000\nredeem_rate_per_min=1000\n"
			     "session_create_burst=1000\n"
			     "session_create_rate_per_min=1000\n"
			     "login_burst=1000\nlogin_rate_per_min=1000\n");
	lh_tech_add(relay, "alice", LH_CANARY_PASSWORD, true);
	lh_tech_add(relay, "bob", LH_CANARY_PASSWORD, false);
	lh_tech_add(relay, "dave", LH_CANARY_PASSWORD, false);
	lh_tech_add(relay, "erin", LH_CANARY_PASSWORD, false);
	lh_relay_start(relay);
	admin_tok = login("default", "alice");
	plain_tok = login("default", "bob");

	g_test_add_func("/policy/org-add", test_org_add);
	g_test_add_func("/policy/cli", test_policy_cli);
	g_test_add_func("/policy/api", test_policy_api);
	g_test_add_func("/policy/org-scoped", test_org_scoped);
	g_test_add_func("/policy/lock-website", test_lock_website);
	g_test_add_func("/policy/lock-shortcut", test_lock_shortcut);
	g_test_add_func("/policy/lock-shortcut-config",
			test_lock_shortcut_config);
	g_test_add_func("/policy/origin-matrix", test_origin_matrix);
	g_test_add_func("/policy/technician-cidrs", test_technician_cidrs);
	g_test_add_func("/policy/end-user-cidrs", test_end_user_cidrs);
	g_test_add_func("/policy/group-end-user-cidrs",
			test_group_end_user_cidrs);
	g_test_add_func("/policy/group-end-user-cidrs-api",
			test_group_end_user_cidrs_api);
	g_test_add_func("/policy/internal-only", test_internal_only);
	g_test_add_func("/policy/keep-chat", test_keep_chat);
	g_test_add_func("/policy/stop-and-audit-verify", test_stop_and_verify);
	rc = g_test_run();
	g_free(admin_tok);
	g_free(plain_tok);
	g_free(acme_tok);
	lh_relay_free(relay);
	return rc;
}
