/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Administration of a running relay: a disabled technician (login
 * refused, token refused, live session closed), SIGHUP reloading a new
 * certificate for new connections while old ones go on, a bad certificate
 * on reload keeping the old one, and SIGTERM ending cleanly with live
 * sessions; then a restart on the same state.  Display names (`technician
 * add|set --name`, `org set --name`, `init --org-name`) as the redeem
 * answer carries them; a relay killed (SIGKILL) with a live session and
 * started again on the same state ends it as relay_restart.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "harness.h"

static struct lh_relay *relay;

static struct lh_resp *login(const char *user, const char *pw)
{
	json_t *b = json_pack("{ssss}", "username", user, "password", pw);
	struct lh_resp *r = lh_post(relay, "/api/v1/login", NULL, b);

	json_decref(b);
	return r;
}

static void test_disable(void)
{
	g_autofree char *tok = NULL, *other = NULL, *err = NULL;
	struct lh_session s = { 0 };
	struct lh_conn *a, *b;
	struct lh_resp *r;
	int64_t t0, ta, tb;

	tok = lh_login(relay, "carol", LH_CANARY_PASSWORD);
	other = lh_login(relay, "dave", LH_CANARY_PASSWORD);
	lh_session_new(relay, tok, &s);
	lh_pair_open(relay, &s, &a, &b);
	lh_pair_ping(a, b);

	t0 = lh_now_ms();
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, &err, "technician",
				     "disable", "carol", NULL),
			==, 0);
	/* The running relay ends carol's live session on its own. */
	g_assert_cmpint(lh_conn_wait_closed(a, 3000), ==, LL_OK);
	ta = lh_now_ms() - t0;
	g_assert_cmpint(lh_conn_wait_closed(b, 3000), ==, LL_OK);
	tb = lh_now_ms() - t0;
	g_test_message("streams closed %" G_GINT64_FORMAT
		       " / %" G_GINT64_FORMAT " ms after disable",
		       ta, tb);
	g_assert_cmpint(MAX(ta, tb), <=, 2500);

	/* Her token no longer works, for anything. */
	r = lh_get(relay, "/api/v1/sessions", tok);
	g_assert_true(r->status == 401 || r->status == 403);
	g_assert_true(g_strcmp0(lh_resp_error_code(r), "account_disabled") ==
			      0 ||
		      g_strcmp0(lh_resp_error_code(r), "unauthorized") == 0);
	lh_resp_free(r);
	r = lh_post(relay, "/api/v1/sessions", tok, NULL);
	g_assert_true(r->status == 401 || r->status == 403);
	lh_resp_free(r);

	/* Logging in again, with the right password: account_disabled. */
	r = login("carol", LH_CANARY_PASSWORD);
	lh_assert_error(r, 0, "account_disabled");
	g_assert_true(r->status == 401 || r->status == 403);
	g_assert_null(lh_resp_str(r, "token"));
	lh_resp_free(r);

	/* Dave is not affected. */
	r = lh_get(relay, "/api/v1/sessions", other);
	g_assert_cmpint(r->status, ==, 200);
	lh_resp_free(r);

	/* Enabled again, she logs in afresh. */
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "technician",
				     "enable", "carol", NULL),
			==, 0);
	g_free(lh_login(relay, "carol", LH_CANARY_PASSWORD));

	lh_conn_free(a);
	lh_conn_free(b);
	lh_session_clear(&s);
}

static void test_unknown_technician_cmd(void)
{
	g_autofree char *err = NULL;
	int st;

	st = lh_relay_cmd(relay, NULL, NULL, &err, "technician", "disable",
			  "nobody-such", NULL);
	g_assert_cmpint(st, !=, 0);
	/* One clear line on stderr. */
	g_assert_cmpuint(strlen(err), >, 0);
}

static struct ll_tls_ctx *pinned_ctx(const char *cert_file)
{
	struct ll_tls_client_opts o = { 0 };
	char pin[128] = "", errbuf[256] = "";
	struct ll_tls_ctx *ctx;
	int e = 0;

	g_assert_cmpint(ll_tls_cert_spki_pin(cert_file, pin, sizeof(pin)), ==,
			LL_OK);
	o.ca_file = relay->ca_cert;
	o.no_system_cas = true;
	o.spki_pin = pin;
	ctx = ll_tls_client_ctx_new(&o, &e, errbuf, sizeof(errbuf));
	if (ctx == NULL)
		g_error("pinned ctx: %s", errbuf);
	return ctx;
}

static bool dial_ok(struct ll_tls_ctx *ctx)
{
	struct lh_conn *c = NULL;
	char errbuf[256] = "";
	int rv = lh_connect_try(relay, NULL, ctx, &c, errbuf, sizeof(errbuf));

	if (rv != LL_OK)
		g_test_message("dial: %s: %s", ll_strerror(rv), errbuf);
	lh_conn_free(c);
	return rv == LL_OK;
}

static void test_sighup_reload(void)
{
	g_autofree char *new_cert = g_build_filename(relay->dir, "new.pem",
						     NULL);
	g_autofree char *new_key = g_build_filename(relay->dir, "new.key",
						    NULL);
	g_autofree char *tok = lh_login(relay, "dave", LH_CANARY_PASSWORD);
	g_autofree char *old_text = NULL;
	struct ll_tls_ctx *ctx_old, *ctx_new;
	struct lh_session s = { 0 };
	struct lh_conn *a, *b, *keep;
	struct lh_req q = { .method = "GET", .path = "/healthz" };
	struct lh_resp *r;
	g_autofree char *loaded = NULL;
	/* What the relay logs after each reload of the certificate. */
	static const char refused[] = "reload: certificate: ";
	int n_loaded, n_refused;

	loaded = g_strdup_printf("reload: certificate %s loaded",
				 relay->cert_file);
	lh_make_leaf(relay, new_cert, new_key, NULL);
	ctx_old = pinned_ctx(relay->cert_file);
	ctx_new = pinned_ctx(new_cert);
	g_assert_true(dial_ok(ctx_old));
	g_assert_false(dial_ok(ctx_new));

	/* Live connections from before the reload. */
	lh_session_new(relay, tok, &s);
	lh_pair_open(relay, &s, &a, &b);
	keep = lh_connect(relay, NULL);
	q.conn = keep;

	/* Replace the files relay.conf names, then SIGHUP. */
	g_assert_true(
		g_file_get_contents(relay->cert_file, &old_text, NULL, NULL));
	g_assert_cmpint(g_rename(new_key, relay->key_file), ==, 0);
	g_assert_cmpint(g_rename(new_cert, relay->cert_file), ==, 0);
	n_loaded = lh_relay_log_count(relay, loaded);
	lh_relay_signal(relay, SIGHUP);
	g_assert_true(lh_relay_wait_log(relay, loaded, n_loaded + 1, 10000));
	g_assert_true(dial_ok(ctx_new));
	g_assert_false(dial_ok(ctx_old));
	g_assert_true(lh_relay_alive(relay));

	/* What was open goes on. */
	lh_pair_ping(a, b);
	r = lh_do(relay, &q);
	g_assert_cmpint(r->status, ==, 200);
	lh_resp_free(r);

	/* A broken certificate on reload: the relay keeps serving the one it
	 * has, and says why in its log. */
	g_assert_true(g_file_set_contents(relay->cert_file,
					  "-----BEGIN CERTIFICATE-----\n"
					  "bm90IGEgY2VydGlmaWNhdGU=\n"
					  "-----END CERTIFICATE-----\n",
					  -1, NULL));
	n_refused = lh_relay_log_count(relay, refused);
	n_loaded = lh_relay_log_count(relay, loaded);
	lh_relay_signal(relay, SIGHUP);
	g_assert_true(lh_relay_wait_log(relay, refused, n_refused + 1, 10000));
	g_assert_true(lh_relay_log_count(relay, "keeping the previous one") >
		      0);
	g_assert_cmpint(lh_relay_log_count(relay, loaded), ==, n_loaded);
	g_assert_true(lh_relay_alive(relay));
	g_assert_true(dial_ok(ctx_new));
	lh_pair_ping(a, b);

	/* Put a good certificate back for the tests after this one. */
	lh_make_leaf(relay, relay->cert_file, relay->key_file, NULL);
	lh_relay_signal(relay, SIGHUP);
	g_assert_true(lh_relay_wait_log(relay, loaded, n_loaded + 1, 10000));
	g_assert_true(dial_ok(NULL));
	g_assert_false(dial_ok(ctx_new));

	lh_conn_free(keep);
	lh_conn_free(a);
	lh_conn_free(b);
	lh_session_clear(&s);
	ll_tls_ctx_free(ctx_old);
	ll_tls_ctx_free(ctx_new);
}

static char *sigterm_token;
static char *sigterm_session;

static void test_sigterm(void)
{
	struct lh_session s = { 0 };
	struct lh_conn *a, *b, *keep, *waiting;
	struct lh_session s2 = { 0 };
	struct lh_resp *r = NULL;
	int64_t t0;
	int st;

	sigterm_token = lh_login(relay, "dave", LH_CANARY_PASSWORD);
	lh_session_new(relay, sigterm_token, &s);
	lh_pair_open(relay, &s, &a, &b);
	lh_pair_ping(a, b);
	/* A stream waiting for its peer and an idle keep-alive one. */
	lh_session_new(relay, sigterm_token, &s2);
	g_assert_cmpint(lh_stream_begin_try(relay, s2.pin.agent_ticket,
					    &waiting),
			==, LL_OK);
	keep = lh_connect(relay, NULL);
	sigterm_session = g_strdup(s.pin.session_id);

	t0 = lh_now_ms();
	st = lh_relay_stop(relay, 5000);
	g_test_message("SIGTERM: exit %d after %" G_GINT64_FORMAT " ms", st,
		       lh_now_ms() - t0);
	g_assert_cmpint(st, ==, 0);
	g_assert_cmpint(lh_conn_wait_closed(a, 1000), ==, LL_OK);
	g_assert_cmpint(lh_conn_wait_closed(b, 1000), ==, LL_OK);
	g_assert_cmpint(lh_conn_wait_closed(keep, 1000), ==, LL_OK);
	if (lh_stream_finish_try(waiting, 1000, &r) == LL_OK)
		g_assert_cmpint(r->status, !=, 200);
	lh_resp_free(r);
	lh_conn_free(a);
	lh_conn_free(b);
	lh_conn_free(keep);
	lh_conn_free(waiting);
	lh_session_clear(&s);
	lh_session_clear(&s2);

	g_assert_cmpint(lh_audit_verify_intact(relay), >=, 10);
}

static void test_restart(void)
{
	struct lh_resp *r;
	json_t *sess;
	size_t i;
	bool found = false;

	lh_relay_start(relay);
	/* Tokens live in the store: still good after a restart. */
	r = lh_get(relay, "/api/v1/sessions", sigterm_token);
	g_assert_cmpint(r->status, ==, 200);
	json_array_foreach(json_object_get(r->json, "sessions"), i, sess)
	{
		if (g_strcmp0(json_string_value(
				      json_object_get(sess, "session_id")),
			      sigterm_session) != 0)
			continue;
		found = true;
		/* The session cut by the shutdown is over, not live. */
		g_assert_cmpstr(json_string_value(
					json_object_get(sess, "state")),
				==, "ended");
	}
	g_assert_true(found);
	lh_resp_free(r);
	g_assert_cmpint(lh_relay_stop(relay, 10000), ==, 0);
	lh_audit_verify_intact(relay);
	g_free(sigterm_token);
	g_free(sigterm_session);
}

/* How many audit records of action mention needle. */
static int audit_count(const char *action, const char *needle)
{
	json_t *all = lh_audit_records(relay, action), *rec;
	size_t i;
	int n = 0;

	json_array_foreach(all, i, rec)
	{
		char *text = json_dumps(rec, 0);

		if (needle == NULL || strstr(text, needle) != NULL)
			n++;
		free(text);
	}
	json_decref(all);
	return n;
}

/* A new PIN of tok's, redeemed: the answer's technician object. */
static json_t *redeemed_technician(const char *tok)
{
	struct lh_pin pin = { 0 };
	struct lh_resp *r;
	json_t *body, *t;

	lh_pin_new(relay, tok, NULL, &pin);
	body = json_pack("{ss}", "pin", pin.pin);
	r = lh_post(relay, "/api/v1/pins/redeem", NULL, body);
	json_decref(body);
	g_assert_cmpint(r->status, ==, 200);
	lh_secret("ticket", lh_resp_str(r, "ticket"));
	t = json_incref(json_object_get(r->json, "technician"));
	g_assert_nonnull(t);
	lh_resp_free(r);
	lh_pin_clear(&pin);
	return t;
}

static const char *member(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void test_display_names(void)
{
	g_autofree char *in = g_strdup_printf("%s\n", LH_CANARY_PASSWORD);
	g_autofree char *tok = NULL, *ctok = NULL, *out = NULL, *err = NULL;
	json_t *t;

	/* Unset: null, and name and org as they always were. */
	ctok = lh_login(relay, "carol", LH_CANARY_PASSWORD);
	t = redeemed_technician(ctok);
	g_assert_cmpstr(member(t, "name"), ==, "carol");
	g_assert_cmpstr(member(t, "org"), ==, "default");
	g_assert_true(json_is_null(json_object_get(t, "display_name")));
	g_assert_true(json_is_null(json_object_get(t, "org_display_name")));
	json_decref(t);

	g_assert_cmpint(lh_relay_cmd(relay, in, NULL, NULL, "technician",
				     "add", "erin", "--name", "Erin Example",
				     "--password-stdin", NULL),
			==, 0);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, NULL, "org", "set",
				     "default", "--name", "Example Corp IT",
				     NULL),
			==, 0);
	g_assert_nonnull(strstr(out, "Example Corp IT"));
	g_clear_pointer(&out, g_free);
	tok = lh_login(relay, "erin", LH_CANARY_PASSWORD);
	t = redeemed_technician(tok);
	g_assert_cmpstr(member(t, "name"), ==, "erin");
	g_assert_cmpstr(member(t, "org"), ==, "default");
	g_assert_cmpstr(member(t, "display_name"), ==, "Erin Example");
	g_assert_cmpstr(member(t, "org_display_name"), ==, "Example Corp IT");
	json_decref(t);

	/* set takes effect at the next redeem, without a restart */
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "technician",
				     "set", "erin", "--name", "Erin E.", NULL),
			==, 0);
	t = redeemed_technician(tok);
	g_assert_cmpstr(member(t, "display_name"), ==, "Erin E.");
	json_decref(t);
	g_assert_cmpint(audit_count("technician.set", "Erin E."), ==, 1);
	g_assert_cmpint(audit_count("technician.add", "Erin Example"), ==, 1);
	g_assert_cmpint(audit_count("org.set", "Example Corp IT"), ==, 1);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, NULL, "org", "show",
				     "default", "--json", NULL),
			==, 0);
	g_assert_nonnull(strstr(out, "\"Example Corp IT\""));

	/* Refused: controls and bidi overrides, empty, too long; no such
	 * technician or org; set without --name. */
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, &err, "technician",
				     "set", "erin", "--name", "Erin\x1b[31m",
				     NULL),
			==, 2);
	g_assert_nonnull(strstr(err, "printable"));
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "org", "set",
				     "default", "--name",
				     "\xe2\x80\xae"
				     "TI proC",
				     NULL),
			==, 2);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "org", "set",
				     "default", "--name", "", NULL),
			==, 2);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "technician",
				     "set", "nobody", "--name", "N", NULL),
			==, 1);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "org", "set",
				     "nosuch", "--name", "N", NULL),
			==, 1);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "technician",
				     "set", "erin", NULL),
			==, 2);
	t = redeemed_technician(tok);
	g_assert_cmpstr(member(t, "display_name"), ==, "Erin E.");
	g_assert_cmpstr(member(t, "org_display_name"), ==, "Example Corp IT");
	json_decref(t);
}

/* init --org-name: the first org's display name from the start. */
static void test_init_org_name(void)
{
	const char *bin = g_getenv("LL_RELAY_BIN");
	g_autofree char *dir = g_build_filename(lh_tmpdir(), "init-org-name",
						NULL);
	g_autofree char *out = NULL, *err = NULL;
	GError *e = NULL;
	int st = -1;

	g_assert_nonnull(bin);
	if (g_file_test(dir, G_FILE_TEST_EXISTS)) {
		g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);

		g_assert_true(
			g_spawn_command_line_sync(rm, NULL, NULL, &st, NULL));
	}
	g_assert_true(
		g_spawn_sync(NULL,
			     (char *[]){ (char *)bin, "init", "--state-dir",
					 dir, "--org", "acme", "--org-name",
					 "ACME Help Desk", NULL },
			     NULL, 0, NULL, NULL, NULL, &err, &st, &e));
	g_assert_no_error(e);
	g_test_message("init: %s", err);
	g_assert_cmpint(st, ==, 0);
	g_clear_pointer(&err, g_free);
	g_assert_true(
		g_spawn_sync(NULL,
			     (char *[]){ (char *)bin, "org", "show", "acme",
					 "--json", "--state-dir", dir, NULL },
			     NULL, 0, NULL, NULL, &out, &err, &st, &e));
	g_assert_no_error(e);
	g_assert_cmpint(st, ==, 0);
	g_assert_nonnull(strstr(out, "\"ACME Help Desk\""));
}

/*
 * A relay that dies (SIGKILL: no shutdown code runs) with a connected
 * session and a waiting one whose agent stream was open: started again
 * on the same state, it ends both as relay_restart (audited), and a
 * session whose streams never opened still waits.
 */
static void test_crash_restart(void)
{
	g_autofree char *tok = NULL;
	struct lh_session s = { 0 }, w = { 0 };
	struct lh_pin idle = { 0 };
	struct lh_conn *a, *b, *waiting;
	struct lh_resp *r;
	json_t *sess;
	size_t i;
	int seen = 0;

	lh_relay_start(relay);
	tok = lh_login(relay, "dave", LH_CANARY_PASSWORD);
	lh_session_new(relay, tok, &s);
	lh_pair_open(relay, &s, &a, &b);
	lh_pair_ping(a, b);
	lh_session_new(relay, tok, &w);
	g_assert_cmpint(lh_stream_begin_try(relay, w.pin.agent_ticket,
					    &waiting),
			==, LL_OK);
	g_assert_cmpint(lh_stream_finish_try(waiting, 10000, &r), ==, LL_OK);
	g_assert_cmpint(r->status, ==, 101);
	lh_resp_free(r);
	lh_pin_new(relay, tok, NULL, &idle);

	r = lh_get(relay, "/api/v1/sessions", tok);
	json_array_foreach(json_object_get(r->json, "sessions"), i,
			   sess) if (g_strcmp0(member(sess, "session_id"),
					       s.pin.session_id) == 0)
		g_assert_cmpstr(member(sess, "state"), ==, "connected");
	lh_resp_free(r);

	lh_relay_signal(relay, SIGKILL);
	g_assert_cmpint(lh_relay_stop(relay, 5000), ==, -1);
	g_assert_cmpint(lh_conn_wait_closed(a, 2000), ==, LL_OK);
	g_assert_cmpint(lh_conn_wait_closed(b, 2000), ==, LL_OK);
	lh_relay_start(relay);
	g_assert_true(
		lh_relay_wait_log(relay, "ended (relay_restart)", 2, 10000));

	r = lh_get(relay, "/api/v1/sessions", tok);
	g_assert_cmpint(r->status, ==, 200);
	json_array_foreach(json_object_get(r->json, "sessions"), i, sess)
	{
		const char *id = member(sess, "session_id");

		if (g_strcmp0(id, s.pin.session_id) == 0 ||
		    g_strcmp0(id, w.pin.session_id) == 0) {
			g_assert_cmpstr(member(sess, "state"), ==, "ended");
			g_assert_cmpstr(member(sess, "end_reason"), ==,
					"relay_restart");
			seen++;
		} else if (g_strcmp0(id, idle.session_id) == 0) {
			g_assert_cmpstr(member(sess, "state"), ==, "waiting");
			seen++;
		}
	}
	g_assert_cmpint(seen, ==, 3);
	lh_resp_free(r);
	g_assert_cmpint(audit_count("session.end", "relay_restart"), ==, 2);
	/* A second start finds nothing more to end. */
	g_assert_cmpint(lh_relay_stop(relay, 10000), ==, 0);
	lh_relay_start(relay);
	g_assert_cmpint(audit_count("session.end", "relay_restart"), ==, 2);
	g_assert_cmpint(lh_relay_stop(relay, 10000), ==, 0);
	lh_audit_verify_intact(relay);
	lh_conn_free(a);
	lh_conn_free(b);
	lh_conn_free(waiting);
	lh_session_clear(&s);
	lh_session_clear(&w);
	lh_pin_clear(&idle);
}

int main(int argc, char **argv)
{
	int rc;

	lh_init(&argc, &argv);
	relay = lh_relay_new("admin", NULL);
	lh_tech_add(relay, "carol", LH_CANARY_PASSWORD, false);
	lh_tech_add(relay, "dave", LH_CANARY_PASSWORD, true);
	lh_relay_start(relay);

	g_test_add_func("/admin/technician-disable", test_disable);
	g_test_add_func("/admin/technician-unknown",
			test_unknown_technician_cmd);
	g_test_add_func("/admin/sighup-reload", test_sighup_reload);
	g_test_add_func("/admin/display-names", test_display_names);
	g_test_add_func("/admin/init-org-name", test_init_org_name);
	g_test_add_func("/admin/sigterm", test_sigterm);
	g_test_add_func("/admin/restart", test_restart);
	g_test_add_func("/admin/crash-restart", test_crash_restart);
	rc = g_test_run();
	lh_relay_free(relay);
	return rc;
}
