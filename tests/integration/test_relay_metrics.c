/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who may read /metrics: a peer address in metrics_allow, or anyone with
 * the token of metrics_token_file; everyone else gets 403 forbidden and
 * no counters.  Then the rules change on SIGHUP, a bad reload keeps the
 * old ones, and the relay refuses to start on a token file others may
 * read or on a list that is not one.
 *
 * The relay listens on 127.0.0.1 only, so "another address" is another
 * loopback address (127.0.0.x) outside the configured list.
 */
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "harness.h"

#define TOKEN "mEtr1cs-T0ken_for.the~test+run/0123456789="
#define WRONG "mEtr1cs-T0ken_for.the~test+run/0123456789A"
#define ALLOWED "127.0.0.5"
#define OTHER "127.0.0.6"

static struct lh_relay *relay;

static struct lh_resp *get_metrics(const char *method, const char *src,
				   const char *bearer)
{
	struct lh_req q = {
		.method = method,
		.path = "/metrics",
		.bearer = bearer,
		.src_ip = src,
	};

	return lh_do(relay, &q);
}

static void assert_served(const char *src, const char *bearer)
{
	struct lh_resp *r = get_metrics("GET", src, bearer);

	if (r->status != 200)
		g_error("from %s%s: %d %s", src, bearer ? " with a token" : "",
			r->status, r->body);
	g_assert_nonnull(strstr(r->body, "lifeline_requests_total"));
	lh_resp_free(r);
}

static void assert_forbidden(const char *method, const char *src,
			     const char *bearer)
{
	struct lh_resp *r = get_metrics(method, src, bearer);

	lh_assert_error(r, 403, "forbidden");
	/* Not a counter leaks out with the refusal. */
	g_assert_null(strstr(r->body, "lifeline_"));
	lh_resp_free(r);
}

static void write_conf(const char *lines)
{
	g_autofree char *path = g_build_filename(relay->state_dir,
						 "relay.conf", NULL);
	g_autofree char *conf = g_strdup_printf(
		"[relay]\ncert_file=%s\nkey_file=%s\n%s", relay->cert_file,
		relay->key_file, lines);

	g_assert_true(g_file_set_contents(path, conf, -1, NULL));
}

static void write_token(const char *name, const char *token, int mode)
{
	g_autofree char *path = g_build_filename(relay->state_dir, name, NULL);
	g_autofree char *text = g_strdup_printf("%s\n", token);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_assert_cmpint(g_chmod(path, mode), ==, 0);
}

/* SIGHUP, then the reload's outcome in the log: a new rule line, or
 * the refusal. */
static void reload(const char *expect)
{
	int before = lh_relay_log_count(relay, expect);

	lh_relay_signal(relay, SIGHUP);
	g_assert_true(lh_relay_wait_log(relay, expect, before + 1, 10000));
}

static void test_address_or_token(void)
{
	struct lh_resp *r;

	/* Configured: one loopback address, and the token. */
	assert_served(ALLOWED, NULL);
	assert_served("127.0.0.1", TOKEN);
	assert_served(OTHER, TOKEN);
	/* Loopback is not enough once the list says otherwise. */
	assert_forbidden("GET", "127.0.0.1", NULL);
	assert_forbidden("GET", OTHER, NULL);
	assert_forbidden("GET", OTHER, WRONG);
	/* A prefix of the token, or the token with more after it. */
	assert_forbidden("GET", OTHER, "mEtr1cs-T0ken");
	assert_forbidden("GET", OTHER, TOKEN "x");
	/* The access rule comes before the method's. */
	assert_forbidden("POST", OTHER, NULL);
	/* /healthz stays open to all. */
	r = lh_get(relay, "/healthz", NULL);
	g_assert_cmpint(r->status, ==, 200);
	lh_resp_free(r);
	/* The refusals are counted (and the counter read with the token). */
	r = get_metrics("GET", OTHER, TOKEN);
	g_assert_cmpfloat(lh_metric_sum(r->body, "\"forbidden\"", NULL), >=,
			  6);
	lh_resp_free(r);
	/* One line per refusal, naming the peer, never the token. */
	g_assert_cmpint(lh_relay_log_count(relay, "/metrics: 403 forbidden"),
			>=, 6);
}

static void test_reload(void)
{
	/* Token only: no address may read without it. */
	write_conf("metrics_allow=\nmetrics_token_file=metrics.token\n");
	reload("metrics: served to no address and with the token of");
	assert_forbidden("GET", ALLOWED, NULL);
	assert_served(ALLOWED, TOKEN);

	/* A new token replaces the old one. */
	write_token("metrics2.token", "Second-metrics-token-42", 0600);
	write_conf("metrics_allow=\nmetrics_token_file=metrics2.token\n");
	reload("metrics: served to no address and with the token of");
	assert_forbidden("GET", ALLOWED, TOKEN);
	assert_served(ALLOWED, "Second-metrics-token-42");
	lh_secret("token", "Second-metrics-token-42");

	/* A token file others may read: the reload is refused whole. */
	write_token("metrics3.token", "Third-metrics-token-4242", 0644);
	write_conf("metrics_allow=" ALLOWED "\n"
		   "metrics_token_file=metrics3.token\n");
	reload("keeping the previous configuration");
	assert_forbidden("GET", ALLOWED, NULL);
	assert_forbidden("GET", ALLOWED, "Third-metrics-token-4242");
	assert_served(ALLOWED, "Second-metrics-token-42");
	lh_secret("token", "Third-metrics-token-4242");

	/* No token file and the default list: loopback, all of it. */
	write_conf("");
	reload("metrics: served to 127.0.0.0/8,::1/128");
	g_assert_cmpint(lh_relay_log_count(relay, "metrics: served to "
						  "127.0.0.0/8,::1/128 and"),
			==, 0);
	assert_served(OTHER, NULL);
}

/* `serve` with this configuration exits 1 saying why. */
static void assert_serve_refused(const char *lines, const char *why)
{
	g_autofree char *err = NULL;
	int st;

	write_conf(lines);
	st = lh_relay_cmd(relay, NULL, NULL, &err, "serve", "--listen",
			  "127.0.0.1:0", NULL);
	if (st != 1 || strstr(err, why) == NULL)
		g_error("serve with '%s': exit %d: %s", lines, st, err);
}

static void test_refused_at_start(void)
{
	g_assert_cmpint(lh_relay_stop(relay, 10000), ==, 0);
	assert_serve_refused("metrics_token_file=metrics3.token\n",
			     "accessible to group or others");
	assert_serve_refused("metrics_token_file=missing.token\n",
			     "cannot open metrics token file");
	write_token("short.token", "short", 0600);
	assert_serve_refused("metrics_token_file=short.token\n",
			     "must hold one line of 16 to 256");
	write_token("bad.token", "a-token-with a-blank", 0600);
	assert_serve_refused("metrics_token_file=bad.token\n",
			     "must hold one line of 16 to 256");
	assert_serve_refused("metrics_allow=10.0.0.1/8\n",
			     "metrics_allow: '10.0.0.1/8' has address bits");
	assert_serve_refused("metrics_allow=localhost\n",
			     "metrics_allow: 'localhost' is not an IPv4");
}

int main(int argc, char **argv)
{
	int rc;

	lh_init(&argc, &argv);
	lh_secret("token", TOKEN);
	relay = lh_relay_new("metrics", "metrics_allow=" ALLOWED "/32, ::1\n"
					"metrics_token_file=metrics.token\n");
	write_token("metrics.token", TOKEN, 0600);
	lh_relay_start(relay);
	g_assert_true(lh_relay_wait_log(relay,
					"metrics: served to " ALLOWED
					"/32, ::1 and with the token of",
					1, 10000));

	g_test_add_func("/metrics/address-or-token", test_address_or_token);
	g_test_add_func("/metrics/reload", test_reload);
	g_test_add_func("/metrics/refused-at-start", test_refused_at_start);
	rc = g_test_run();
	lh_relay_free(relay);
	return rc;
}
