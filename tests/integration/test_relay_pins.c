/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PINs against a real relay: an org's policy (`lifeline-relay policy`),
 * the length of its PINs, and the guess budgets that keep a botnet from
 * trying its way through them (docs/SECURITY.md, "Guessing PINs"):
 * 10^4 wrong guesses from 1,000 addresses get at most the relay's budget
 * evaluated, while the org's own PIN still redeems with the org named.
 * Then the limits on making PINs: how fast one technician may, and how
 * many live PINs a technician and an org may hold.
 *
 * Source addresses 127.0.x.y keep the per-address limits of one test away
 * from the others (Linux routes all of 127/8 to lo).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "lt_wait.h"

/* relay.conf defaults: redeem_fail_budget, redeem_fail_budget_org, and
 * pin_lifetime_s */
#define RELAY_BUDGET 1000
#define ORG_BUDGET 100
#define PIN_LIFETIME_S 1200
/* the botnet: GUESSES wrong PINs, GUESSES / ADDRESSES from each address
 * (under the per-address limit, redeem_burst 30), THREADS at a time */
#define GUESSES 10000
#define ADDRESSES 1000
#define THREADS 4
/* relay.conf defaults: session_create_burst, session_create_rate_per_min */
#define CREATE_BURST 20
#define CREATE_PER_MIN 60
/* the second relay's caps */
#define CAP_TECH 3
#define CAP_ORG 5

static struct lh_relay *relay;
static char *token;

/* `lifeline-relay policy ARGS...`: exit status, stdout in *out. */
static int policy(char **out, char **err, const char *a1, const char *a2,
		  const char *a3)
{
	return lh_relay_cmd(relay, NULL, out, err, "policy", a1, a2, a3, NULL);
}

static json_t *policy_json(void)
{
	g_autofree char *out = NULL;
	json_t *j;

	g_assert_cmpint(policy(&out, NULL, "show", "--json", NULL), ==, 0);
	j = json_loads(out, 0, NULL);
	g_assert_nonnull(j);
	return j;
}

static void test_policy_cli(void)
{
	g_autofree char *out = NULL, *err = NULL;
	json_t *j, *recs, *last, *detail;

	j = policy_json();
	g_assert_cmpint(json_integer_value(json_object_get(j, "pin_length")),
			==, 6);
	g_assert_cmpint(json_integer_value(
				json_object_get(j, "redeem_fail_budget")),
			==, 100);
	json_decref(j);

	/* out of range, not a number, an unknown key: exit 2, one line */
	g_assert_cmpint(policy(NULL, &err, "set", "pin_length", "11"), ==, 2);
	g_assert_nonnull(strstr(err, "pin_length must be an integer from 6 "
				     "to 10"));
	g_free(err);
	g_assert_cmpint(policy(NULL, &err, "set", "pin_length", "5"), ==, 2);
	g_free(err);
	g_assert_cmpint(policy(NULL, &err, "set", "pin_length", "+8"), ==, 2);
	g_free(err);
	g_assert_cmpint(policy(NULL, &err, "set", "no_such_key", "1"), ==, 2);
	g_assert_nonnull(strstr(err, "unknown key"));
	g_free(err);
	err = NULL;
	g_assert_cmpint(policy(NULL, NULL, "set", "redeem_fail_budget", "0"),
			==, 2);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "policy", "show",
				     "--org", "no-such-org", NULL),
			==, 1);

	/* set: shown as the org's, audited with old and new */
	g_assert_cmpint(policy(&out, NULL, "set", "redeem_fail_budget", "250"),
			==, 0);
	g_assert_nonnull(strstr(out, "redeem_fail_budget = 250"));
	j = policy_json();
	g_assert_cmpint(json_integer_value(
				json_object_get(j, "redeem_fail_budget")),
			==, 250);
	json_decref(j);
	recs = lh_audit_records(relay, "policy.set");
	g_assert_cmpuint(json_array_size(recs), >=, 1);
	last = json_array_get(recs, json_array_size(recs) - 1);
	g_assert_cmpstr(json_string_value(json_object_get(last, "actor")), ==,
			"cli");
	detail = json_object_get(last, "detail");
	g_assert_cmpstr(json_string_value(json_object_get(detail, "key")), ==,
			"redeem_fail_budget");
	g_assert_cmpint(json_integer_value(json_object_get(detail, "old")), ==,
			100);
	g_assert_cmpint(json_integer_value(json_object_get(detail, "new")), ==,
			250);
	json_decref(recs);

	/* unset: back to the default, audited; a second unset changes
	 * nothing and writes nothing */
	g_free(out);
	g_assert_cmpint(policy(&out, NULL, "unset", "redeem_fail_budget",
			       NULL),
			==, 0);
	recs = lh_audit_records(relay, "policy.unset");
	g_assert_cmpuint(json_array_size(recs), ==, 1);
	detail = json_object_get(json_array_get(recs, 0), "detail");
	g_assert_cmpint(json_integer_value(json_object_get(detail, "old")), ==,
			250);
	g_assert_cmpint(json_integer_value(json_object_get(detail, "new")), ==,
			100);
	json_decref(recs);
	g_free(out);
	g_assert_cmpint(policy(&out, NULL, "unset", "redeem_fail_budget",
			       NULL),
			==, 0);
	g_assert_nonnull(strstr(out, "was not set"));
	recs = lh_audit_records(relay, "policy.unset");
	g_assert_cmpuint(json_array_size(recs), ==, 1);
	json_decref(recs);
}

static struct lh_resp *redeem(const char *pin, const char *org,
			      const char *src)
{
	json_t *b = json_pack("{ss}", "pin", pin);
	g_autofree char *text = NULL;
	struct lh_req q = { .method = "POST",
			    .path = "/api/v1/pins/redeem",
			    .src_ip = src };
	struct lh_resp *r;

	if (org != NULL)
		json_object_set_new(b, "org", json_string(org));
	text = json_dumps(b, JSON_COMPACT);
	q.body = text;
	r = lh_do(relay, &q);
	json_decref(b);
	if (r->status == 200)
		lh_secret("ticket", lh_resp_str(r, "ticket"));
	return r;
}

/* A new PIN of the org has `digits` digits and redeems. */
static void assert_pin_length(int digits, const char *org)
{
	struct lh_pin p = { 0 };
	struct lh_resp *r;

	lh_pin_new(relay, token, NULL, &p);
	g_assert_cmpuint(strlen(p.pin), ==, (size_t)digits);
	r = redeem(p.pin, org, "127.0.1.1");
	g_assert_cmpint(r->status, ==, 200);
	g_assert_cmpstr(lh_resp_str(r, "session_id"), ==, p.session_id);
	lh_resp_free(r);
	lh_pin_clear(&p);
}

static void test_pin_length(void)
{
	struct lh_resp *r;

	assert_pin_length(6, NULL);
	/* takes effect without a restart */
	g_assert_cmpint(policy(NULL, NULL, "set", "pin_length", "8"), ==, 0);
	assert_pin_length(8, NULL);
	assert_pin_length(8, "default");
	g_assert_cmpint(policy(NULL, NULL, "set", "pin_length", "10"), ==, 0);
	assert_pin_length(10, "default");
	g_assert_cmpint(policy(NULL, NULL, "unset", "pin_length", NULL), ==,
			0);
	assert_pin_length(6, NULL);

	/* Redeem takes 6..10 digits: other lengths are simply wrong PINs. */
	r = redeem("12345", NULL, "127.0.1.2");
	lh_assert_error(r, 404, "pin_invalid");
	lh_resp_free(r);
	r = redeem("01234567890", NULL, "127.0.1.2");
	lh_assert_error(r, 404, "pin_invalid");
	lh_resp_free(r);
}

/* ---- guess budgets ---- */

static double metric(const char *name_and_label)
{
	struct lh_resp *m = lh_get(relay, "/metrics", NULL);
	double v;

	g_assert_cmpint(m->status, ==, 200);
	v = lh_metric_sum(m->body, name_and_label, NULL);
	lh_resp_free(m);
	return v;
}

/*
 * Waits until the relay's sweep has seen a budget spent (or whole again):
 * its gauge in /metrics, set in the same step as the audit record and the
 * log line.  (Cheaper to poll than the log, which the refused guesses
 * made long.)
 */
struct gauge_want {
	const char *name;
	double want;
};

static bool gauge_is(void *data)
{
	const struct gauge_want *g = data;

	return metric(g->name) == g->want;
}

static bool wait_exhausted(const char *scope, double want, int timeout_ms)
{
	g_autofree char *name = g_strdup_printf(
		"lifeline_redeem_budget_exhausted{scope=\"%s\"}", scope);
	struct gauge_want g = { name, want };

	return lt_wait_until(gauge_is, &g, timeout_ms, 50000);
}

struct guesser {
	int first, n_addr; /* its addresses: index first .. first+n_addr-1 */
	const char *not_this; /* the real PIN, never guessed */
	int evaluated;        /* answered pin_invalid: the relay looked */
	int limited;          /* answered 429 rate_limited */
	int other;
	int64_t min_retry, max_retry;
	char err[320];
};

/* 127.0.10.1 .. 127.0.13.250: every guesser's own addresses */
static void guess_addr(int i, char out[32])
{
	snprintf(out, 32, "127.0.%d.%d", 10 + i / 250, 1 + i % 250);
}

static gpointer guess_thread(gpointer data)
{
	struct guesser *g = data;
	const int per = GUESSES / ADDRESSES;
	int a, k;

	g->min_retry = INT64_MAX;
	for (a = g->first; a < g->first + g->n_addr; a++) {
		GString *reqs = g_string_new(NULL);
		struct lh_conn *c = NULL;
		char src[32], errbuf[256] = "";
		int rv;

		guess_addr(a, src);
		/* per requests on one connection, pipelined */
		for (k = 0; k < per; k++) {
			char pin[16], body[64];

			snprintf(pin, sizeof(pin), "%06d",
				 (a * per + k) * 97 % 1000000);
			if (strcmp(pin, g->not_this) == 0)
				pin[0] = pin[0] == '9' ? '0' : pin[0] + 1;
			snprintf(body, sizeof(body), "{\"pin\":\"%s\"}", pin);
			g_string_append_printf(
				reqs,
				"POST /api/v1/pins/redeem HTTP/1.1\r\n"
				"Host: 127.0.0.1\r\n"
				"Content-Type: application/json\r\n"
				"Content-Length: %zu\r\n%s\r\n%s",
				strlen(body),
				k == per - 1 ? "Connection: close\r\n" : "",
				body);
		}
		rv = lh_connect_try(relay, src, NULL, &c, errbuf,
				    sizeof(errbuf));
		if (rv == LL_OK)
			rv = lh_conn_write_all(c, reqs->str, reqs->len);
		for (k = 0; rv == LL_OK && k < per; k++) {
			struct lh_resp *r = NULL;
			const char *code, *ra;

			rv = lh_read_response(c, 30000, &r);
			if (rv != LL_OK)
				break;
			code = lh_resp_error_code(r);
			ra = lh_resp_header(r, "Retry-After");
			if (r->status == 404 &&
			    g_strcmp0(code, "pin_invalid") == 0)
				g->evaluated++;
			else if (r->status == 429 &&
				 g_strcmp0(code, "rate_limited") == 0 &&
				 ra != NULL) {
				int64_t s = g_ascii_strtoll(ra, NULL, 10);

				g->limited++;
				g->min_retry = MIN(g->min_retry, s);
				g->max_retry = MAX(g->max_retry, s);
			} else {
				g->other++;
			}
			lh_resp_free(r);
		}
		if (rv != LL_OK && g->err[0] == '\0')
			snprintf(g->err, sizeof(g->err), "from %s: %s %.200s",
				 src, ll_strerror(rv), errbuf);
		lh_conn_free(c);
		g_string_free(reqs, TRUE);
	}
	return NULL;
}

static void test_guess_budget(void)
{
	struct guesser g[THREADS];
	GThread *th[THREADS];
	struct lh_pin p = { 0 };
	struct lh_resp *r;
	double failed_before;
	int evaluated = 0, limited = 0, other = 0, i;
	int64_t t0, ms, min_retry = INT64_MAX, max_retry = 0;
	json_t *recs, *detail;

	/* wrong PINs tried by the tests before count too */
	failed_before = MAX(0, metric("lifeline_redeem_failures_total{scope="
				      "\"relay\"}"));
	lh_pin_new(relay, token, NULL, &p);

	t0 = lh_now_ms();
	for (i = 0; i < THREADS; i++) {
		memset(&g[i], 0, sizeof(g[i]));
		g[i].first = i * (ADDRESSES / THREADS);
		g[i].n_addr = ADDRESSES / THREADS;
		g[i].not_this = p.pin;
		th[i] = g_thread_new("guesser", guess_thread, &g[i]);
	}
	for (i = 0; i < THREADS; i++) {
		g_thread_join(th[i]);
		if (g[i].err[0] != '\0')
			g_error("guesser %d: %s", i, g[i].err);
		evaluated += g[i].evaluated;
		limited += g[i].limited;
		other += g[i].other;
		min_retry = MIN(min_retry, g[i].min_retry);
		max_retry = MAX(max_retry, g[i].max_retry);
	}
	ms = lh_now_ms() - t0;
	g_test_message("%d wrong guesses from %d addresses in %" G_GINT64_FORMAT
		       " ms: %d evaluated (pin_invalid), %d refused "
		       "rate_limited, %d other",
		       GUESSES, ADDRESSES, ms, evaluated, limited, other);

	/* At most the relay's budget was evaluated, then every guess was
	 * refused without a look at the PINs. */
	g_assert_cmpint(other, ==, 0);
	g_assert_cmpint(evaluated + limited, ==, GUESSES);
	g_assert_cmpint(evaluated, <=, RELAY_BUDGET);
	g_assert_cmpint(evaluated, >=, RELAY_BUDGET - (int)failed_before);
	/* Retry-After: when the oldest failures leave the window */
	g_assert_cmpint(min_retry, >=, 1);
	g_assert_cmpint(max_retry, <=, PIN_LIFETIME_S + 2 * 20);

	/* The real PIN, unscoped: refused like every other guess ... */
	r = redeem(p.pin, NULL, "127.0.2.1");
	lh_assert_error(r, 429, "rate_limited");
	g_assert_nonnull(lh_resp_header(r, "Retry-After"));
	g_assert_null(lh_resp_str(r, "ticket"));
	lh_resp_free(r);
	/* ... a name that is no org spends the relay's budget too ... */
	r = redeem(p.pin, "no-such-org", "127.0.2.1");
	lh_assert_error(r, 429, "rate_limited");
	lh_resp_free(r);
	/* ... but with its org named it still redeems. */
	r = redeem(p.pin, "default", "127.0.2.2");
	g_assert_cmpint(r->status, ==, 200);
	g_assert_cmpstr(lh_resp_str(r, "session_id"), ==, p.session_id);
	lh_resp_free(r);

	/* Admins see it: one audit record for the exhaustion (not one per
	 * refused guess), and /metrics. */
	g_assert_true(wait_exhausted("relay", 1, 30000));
	g_assert_cmpint(lh_relay_log_count(relay,
					   "relay-wide guess budget spent"),
			==, 1);
	recs = lh_audit_records(relay, "pin.budget_exhausted");
	g_assert_cmpuint(json_array_size(recs), ==, 1);
	detail = json_object_get(json_array_get(recs, 0), "detail");
	g_assert_cmpstr(json_string_value(json_object_get(detail, "scope")),
			==, "relay");
	g_assert_cmpint(json_integer_value(json_object_get(detail, "budget")),
			==, RELAY_BUDGET);
	g_assert_cmpint(json_integer_value(
				json_object_get(detail, "failures")),
			>=, RELAY_BUDGET);
	json_decref(recs);
	g_assert_cmpfloat(metric("lifeline_redeem_budget_exhausted{scope="
				 "\"relay\"}"),
			  ==, 1);
	g_assert_cmpfloat(metric("lifeline_redeem_budget_exhausted_total{"
				 "scope=\"relay\"}"),
			  ==, 1);
	g_assert_cmpfloat(metric("lifeline_redeem_budget_refusals_total{"
				 "scope=\"relay\"}"),
			  >=, limited);
	g_assert_cmpfloat(metric("lifeline_redeem_failures_total{scope="
				 "\"relay\"}"),
			  ==, RELAY_BUDGET);
	lh_pin_clear(&p);
}

/*
 * An org's own budget: redeems naming it spend it and, once it is spent,
 * are refused too -- even with the right PIN (the price: a botnet can
 * lock an org's scoped redeems for up to one PIN lifetime).
 */
static void test_guess_budget_org(void)
{
	struct lh_pin p = { 0 };
	struct lh_resp *r;
	json_t *recs, *detail;
	char src[32];
	int i;

	g_assert_cmpint(policy(NULL, NULL, "set", "redeem_fail_budget", "5"),
			==, 0);
	lh_pin_new(relay, token, NULL, &p);
	for (i = 0; i < 5; i++) {
		snprintf(src, sizeof(src), "127.0.3.%d", i + 1);
		r = redeem(strcmp(p.pin, "000000") ? "000000" : "000001",
			   "default", src);
		lh_assert_error(r, 404, "pin_invalid");
		lh_resp_free(r);
	}
	r = redeem("000002", "default", "127.0.3.10");
	lh_assert_error(r, 429, "rate_limited");
	g_assert_nonnull(strstr(r->body, "for this organisation"));
	lh_resp_free(r);
	r = redeem(p.pin, "default", "127.0.3.11");
	lh_assert_error(r, 429, "rate_limited");
	g_assert_nonnull(lh_resp_header(r, "Retry-After"));
	lh_resp_free(r);

	g_assert_true(wait_exhausted("org", 1, 30000));
	g_assert_cmpint(
		lh_relay_log_count(relay, "guess budget of org default spent"),
		==, 1);
	recs = lh_audit_records(relay, "pin.budget_exhausted");
	g_assert_cmpuint(json_array_size(recs), ==, 2);
	detail = json_object_get(json_array_get(recs, 1), "detail");
	g_assert_cmpstr(json_string_value(json_object_get(detail, "scope")),
			==, "org");
	g_assert_cmpstr(json_string_value(json_object_get(detail, "org")), ==,
			"default");
	g_assert_cmpint(json_integer_value(json_object_get(detail, "budget")),
			==, 5);
	json_decref(recs);
	g_assert_cmpfloat(metric("lifeline_redeem_budget_exhausted{scope="
				 "\"org\"}"),
			  ==, 1);
	g_assert_cmpfloat(metric("lifeline_redeem_failures_total{scope="
				 "\"org\"}"),
			  ==, 5);

	/* Raising the budget takes effect at once, and the sweep says so. */
	g_assert_cmpint(policy(NULL, NULL, "set", "redeem_fail_budget", "6"),
			==, 0);
	r = redeem(p.pin, "default", "127.0.3.12");
	g_assert_cmpint(r->status, ==, 200);
	lh_resp_free(r);
	g_assert_true(wait_exhausted("org", 0, 30000));
	g_assert_cmpint(
		lh_relay_log_count(relay,
				   "guess budget of org default recovered"),
		==, 1);
	g_assert_cmpint(policy(NULL, NULL, "unset", "redeem_fail_budget",
			       NULL),
			==, 0);
	lh_pin_clear(&p);
}

/* One PIN lifetime later both budgets are whole again. */
static void test_guess_budget_recovers(void)
{
	struct lh_pin p = { 0 };
	struct lh_resp *r;
	json_t *recs;

	if (!lh_relay_clock_advance(relay, PIN_LIFETIME_S + 2 * 20)) {
		g_test_skip(
			"needs -Dtest_hooks=true (the relay's test clock)");
		return;
	}
	g_assert_true(wait_exhausted("relay", 0, 30000));
	g_assert_cmpint(lh_relay_log_count(
				relay, "guess budget of the relay recovered"),
			==, 1);
	recs = lh_audit_records(relay, "pin.budget_recovered");
	g_assert_cmpuint(json_array_size(recs), ==, 2);
	json_decref(recs);
	g_assert_cmpfloat(metric("lifeline_redeem_budget_exhausted{scope="
				 "\"relay\"}"),
			  ==, 0);
	lh_pin_new(relay, token, NULL, &p);
	r = redeem(p.pin, NULL, "127.0.4.1");
	g_assert_cmpint(r->status, ==, 200);
	lh_resp_free(r);
	lh_pin_clear(&p);
}

/* ---- limits on new PINs ---- */

static void assert_retry_after(const struct lh_resp *r, int64_t lo, int64_t hi)
{
	const char *ra = lh_resp_header(r, "Retry-After");
	int64_t s;

	g_assert_nonnull(ra);
	s = g_ascii_strtoll(ra, NULL, 10);
	g_assert_cmpint(s, >=, lo);
	g_assert_cmpint(s, <=, hi);
}

/*
 * How many sessions can one technician make per second?  Each is deleted
 * at once, so only the creation rate limits.  Time itself is under test:
 * the loop runs for a fixed 3 s.
 */
static void test_creation_rate(void)
{
	g_autofree char *tok = lh_login(relay, "erin", LH_CANARY_PASSWORD);
	struct lh_conn *c = lh_connect(relay, "127.0.5.1");
	struct lh_req q = { .method = "POST",
			    .path = "/api/v1/sessions",
			    .bearer = tok,
			    .body = "{}",
			    .conn = c };
	struct lh_resp *r, *refused = NULL;
	int64_t t0 = lh_now_ms(), ms;
	int made = 0;

	while ((ms = lh_now_ms() - t0) < 3000) {
		r = lh_do(relay, &q);
		if (r->status == 201) {
			g_autofree char *path = g_strdup_printf(
				"/api/v1/sessions/%s",
				lh_resp_str(r, "session_id"));
			struct lh_req d = { .method = "DELETE",
					    .path = path,
					    .bearer = tok,
					    .conn = c };
			struct lh_resp *dr;

			lh_secret("pin", lh_resp_str(r, "pin"));
			lh_secret("ticket", lh_resp_str(r, "ticket"));
			made++;
			dr = lh_do(relay, &d);
			g_assert_cmpint(dr->status, ==, 204);
			lh_resp_free(dr);
			lh_resp_free(r);
		} else if (refused == NULL) {
			refused = r;
		} else {
			lh_assert_error(r, 429, "rate_limited");
			lh_resp_free(r);
		}
	}
	g_test_message("one technician made %d sessions in %" G_GINT64_FORMAT
		       " ms (%.1f per second)",
		       made, ms, made * 1000.0 / (double)ms);
	/* the burst, then one a second */
	g_assert_cmpint(made, <=,
			CREATE_BURST + (ms / 1000 + 1) * CREATE_PER_MIN / 60);
	g_assert_nonnull(refused);
	lh_assert_error(refused, 429, "rate_limited");
	assert_retry_after(refused, 1, 60 / CREATE_PER_MIN + 1);
	lh_resp_free(refused);
	lh_conn_free(c);
}

static struct lh_relay *caps;

static struct lh_resp *pin_new_try(struct lh_relay *r, const char *tok)
{
	struct lh_resp *resp = lh_post(r, "/api/v1/sessions", tok, NULL);

	if (resp->status == 201) {
		lh_secret("pin", lh_resp_str(resp, "pin"));
		lh_secret("ticket", lh_resp_str(resp, "ticket"));
	}
	return resp;
}

static void test_live_pin_caps(void)
{
	g_autofree char *ann = NULL, *bob = NULL;
	struct lh_pin p[CAP_TECH];
	struct lh_resp *r;
	g_autofree char *ticket = NULL;
	int i;

	caps = lh_relay_new("pins-caps", "max_live_pins_per_technician=3\n"
					 "max_live_pins_per_org=5\n");
	lh_tech_add(caps, "ann", LH_CANARY_PASSWORD, false);
	lh_tech_add(caps, "bob", LH_CANARY_PASSWORD, false);
	lh_relay_start(caps);
	ann = lh_login(caps, "ann", LH_CANARY_PASSWORD);
	bob = lh_login(caps, "bob", LH_CANARY_PASSWORD);

	/* A technician's live PINs: 429 beyond the cap, until one of them
	 * expires (Retry-After) ... */
	for (i = 0; i < CAP_TECH; i++)
		lh_pin_new(caps, ann, NULL, &p[i]);
	r = pin_new_try(caps, ann);
	lh_assert_error(r, 429, "rate_limited");
	g_assert_nonnull(strstr(r->body, "live PINs"));
	assert_retry_after(r, PIN_LIFETIME_S - 60, PIN_LIFETIME_S);
	lh_resp_free(r);
	/* ... or is used: a redeemed PIN is not live */
	ticket = lh_redeem(caps, p[0].pin, p[0].session_id);
	lh_pin_clear(&p[0]);
	lh_pin_new(caps, ann, NULL, &p[0]);

	/* The org's live PINs: 409 conflict beyond its cap, for everyone */
	lh_pin_clear(&p[1]);
	lh_pin_new(caps, bob, NULL, &p[1]);
	r = pin_new_try(caps, bob);
	g_assert_cmpint(r->status, ==, 201);
	lh_resp_free(r);
	r = pin_new_try(caps, bob);
	lh_assert_error(r, 409, "conflict");
	g_assert_nonnull(strstr(r->body, "organisation"));
	lh_resp_free(r);

	/* Expired PINs are not live: one lifetime later both make PINs
	 * again. */
	if (lh_relay_clock_advance(caps, PIN_LIFETIME_S + 1)) {
		r = pin_new_try(caps, bob);
		g_assert_cmpint(r->status, ==, 201);
		lh_resp_free(r);
		r = pin_new_try(caps, ann);
		g_assert_cmpint(r->status, ==, 201);
		lh_resp_free(r);
	}
	for (i = 0; i < CAP_TECH; i++)
		lh_pin_clear(&p[i]);
	lh_relay_stop_verify(caps);
	lh_relay_free(caps);
}

static void test_stop_and_verify(void)
{
	g_assert_cmpint(lh_relay_stop_verify(relay), >=, 10);
}

int main(int argc, char **argv)
{
	int rc;

	lh_init(&argc, &argv);
	relay = lh_relay_new("pins", NULL);
	lh_tech_add(relay, "alice", LH_CANARY_PASSWORD, false);
	lh_tech_add(relay, "erin", LH_CANARY_PASSWORD, false);
	lh_relay_start(relay);
	token = lh_login(relay, "alice", LH_CANARY_PASSWORD);

	g_test_add_func("/pins/policy-cli", test_policy_cli);
	g_test_add_func("/pins/length", test_pin_length);
	g_test_add_func("/pins/guess-budget", test_guess_budget);
	g_test_add_func("/pins/guess-budget-org", test_guess_budget_org);
	g_test_add_func("/pins/guess-budget-recovers",
			test_guess_budget_recovers);
	g_test_add_func("/pins/creation-rate", test_creation_rate);
	g_test_add_func("/pins/live-pin-caps", test_live_pin_caps);
	g_test_add_func("/pins/stop-and-audit-verify", test_stop_and_verify);
	rc = g_test_run();
	g_free(token);
	lh_relay_free(relay);
	return rc;
}
