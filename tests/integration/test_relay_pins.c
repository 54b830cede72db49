/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PINs against a real relay: an org's policy (`lifeline-relay policy`)
 * and the length of its PINs.
 *
 * Source addresses 127.0.x.y keep the per-address limits of one test away
 * from the others (Linux routes all of 127/8 to lo).
 */
#include <string.h>

#include "harness.h"

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

/* Audit records (jsonl export) whose action is `action`, as an array. */
static json_t *audit_records(const char *action)
{
	g_autofree char *out = NULL;
	g_auto(GStrv) lines = NULL;
	json_t *all = json_array();
	guint i;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, NULL, "audit",
				     "export", NULL),
			==, 0);
	lines = g_strsplit(out, "\n", -1);
	for (i = 0; lines[i] != NULL; i++) {
		json_t *rec;

		if (lines[i][0] == '\0')
			continue;
		rec = json_loads(lines[i], 0, NULL);
		g_assert_nonnull(rec);
		if (g_strcmp0(json_string_value(json_object_get(rec, "action")),
			      action) == 0)
			json_array_append(all, rec);
		json_decref(rec);
	}
	return all;
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
	recs = audit_records("policy.set");
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
	recs = audit_records("policy.unset");
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
	recs = audit_records("policy.unset");
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

static void test_stop_and_verify(void)
{
	g_assert_cmpint(lh_relay_stop(relay, 10000), ==, 0);
	g_assert_cmpint(lh_audit_verify_intact(relay), >=, 10);
}

int main(int argc, char **argv)
{
	int rc;

	lh_init(&argc, &argv);
	relay = lh_relay_new("pins", NULL);
	lh_tech_add(relay, "alice", LH_CANARY_PASSWORD, false);
	lh_relay_start(relay);
	token = lh_login(relay, "alice", LH_CANARY_PASSWORD);

	g_test_add_func("/pins/policy-cli", test_policy_cli);
	g_test_add_func("/pins/length", test_pin_length);
	g_test_add_func("/pins/stop-and-audit-verify", test_stop_and_verify);
	rc = g_test_run();
	g_free(token);
	lh_relay_free(relay);
	return rc;
}
