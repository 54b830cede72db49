/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Channels (calling cards) against a real relay: `channel add` prints a
 * credential, an applet joins with it and waits, a technician of the org
 * lists the queue and picks the user up, and the waiting applet learns
 * the technician and opens its stream with the ticket it already holds.
 * Then the hostile peers: a flood of joins from one address, bad
 * credentials, a description with control characters and one of 1 MiB,
 * two technicians racing for one entry, a technician of another org; and
 * entries that expire when their applet stops asking.
 *
 * Source addresses 127.0.x.y keep the per-address limits of one test
 * away from the others (Linux routes all of 127/8 to lo).
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "harness.h"

/* relay.conf of this relay: small caps, so the flood reaches them */
#define MAX_PER_ORG 8
#define MAX_PER_ADDRESS 3
#define QUEUE_GRACE_S 30 /* api_channels.c */
#define LL_TEXT_REPL "\xef\xbf\xbd"

static struct lh_relay *relay;
static char *cred;       /* channel "desk" of org default */
static char *cred_other; /* channel "desk" of org "other" */
static char *tok_alice, *tok_bob, *tok_mallory;

/* How many records of action have outcome. */
static size_t audit_count(const char *action, const char *outcome)
{
	json_t *all = lh_audit_records(relay, action), *rec;
	size_t i, n = 0;

	json_array_foreach(all, i, rec)
	{
		if (g_strcmp0(json_string_value(
				      json_object_get(rec, "outcome")),
			      outcome) == 0)
			n++;
	}
	json_decref(all);
	return n;
}

/* POST /channels/join from src with a credential and a description. */
static struct lh_resp *join(const char *src, const char *credential,
			    const char *description)
{
	json_t *body = json_pack("{s:s}", "credential", credential);
	char *text;
	struct lh_req q = { .method = "POST",
			    .path = "/api/v1/channels/join",
			    .src_ip = src };
	struct lh_resp *resp;

	if (description != NULL)
		json_object_set_new(body, "description",
				    json_string(description));
	text = json_dumps(body, JSON_COMPACT);
	q.body = text;
	resp = lh_do(relay, &q);
	free(text);
	json_decref(body);
	return resp;
}

/* A join that must succeed: the entry's id and ticket. */
static void join_ok(const char *src, const char *credential, char **entry,
		    char **ticket)
{
	struct lh_resp *r = join(src, credential, "my printer is stuck");

	g_assert_cmpint(r->status, ==, 201);
	*entry = g_strdup(lh_resp_str(r, "entry_id"));
	*ticket = g_strdup(lh_resp_str(r, "ticket"));
	g_assert_nonnull(*entry);
	g_assert_nonnull(*ticket);
	lh_secret("queue ticket", *ticket);
	lh_resp_free(r);
}

static struct lh_resp *pickup(const char *token, const char *entry)
{
	g_autofree char *path = g_strdup_printf("/api/v1/queue/%s/pickup",
						entry);

	return lh_post(relay, path, token, NULL);
}

/* The entries the token's technician sees. */
static json_t *queue_list(const char *token)
{
	struct lh_resp *r = lh_get(relay, "/api/v1/queue", token);
	json_t *e;

	g_assert_cmpint(r->status, ==, 200);
	e = json_incref(json_object_get(r->json, "entries"));
	g_assert_true(json_is_array(e));
	lh_resp_free(r);
	return e;
}

static bool listed(const char *token, const char *entry)
{
	json_t *list = queue_list(token), *e;
	bool found = false;
	size_t i;

	json_array_foreach(list, i, e)
	{
		if (g_strcmp0(json_string_value(json_object_get(e, "entry_id")),
			      entry) == 0)
			found = true;
	}
	json_decref(list);
	return found;
}

static void cancel(const char *ticket)
{
	struct lh_resp *r = lh_delete(relay, "/api/v1/queue/entry", ticket);

	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
}

/* The whole path: join, wait, list, pick up, the applet learns it, both
 * streams pair, the audit tells the story. */
static void test_join_pickup(void)
{
	g_autofree char *entry = NULL, *ticket = NULL;
	struct lh_session s = { 0 };
	struct lh_conn *agent = NULL, *applet = NULL;
	struct lh_resp *r;
	json_t *list;

	join_ok("127.0.1.1", cred, &entry, &ticket);
	r = lh_get(relay, "/api/v1/queue/entry", ticket);
	g_assert_cmpint(r->status, ==, 200);
	g_assert_cmpstr(lh_resp_str(r, "state"), ==, "waiting");
	g_assert_cmpint(json_integer_value(
				json_object_get(r->json, "position")),
			>=, 1);
	lh_resp_free(r);

	list = queue_list(tok_alice);
	g_assert_cmpuint(json_array_size(list), >=, 1);
	g_assert_true(listed(tok_alice, entry));
	json_decref(list);
	/* before the pickup the ticket is no session's */
	g_assert_cmpint(lh_stream_begin_try(relay, ticket, &applet), ==,
			LL_OK);
	g_assert_cmpint(lh_stream_finish_try(applet, 5000, &r), ==, LL_OK);
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);
	lh_conn_free(applet);
	applet = NULL;

	r = pickup(tok_alice, entry);
	g_assert_cmpint(r->status, ==, 201);
	g_assert_cmpstr(lh_resp_str(r, "channel"), ==, "desk");
	g_assert_cmpstr(lh_resp_str(r, "description"), ==,
			"my printer is stuck");
	s.pin.session_id = g_strdup(lh_resp_str(r, "session_id"));
	s.pin.agent_ticket = g_strdup(lh_resp_str(r, "ticket"));
	lh_secret("agent ticket", s.pin.agent_ticket);
	lh_resp_free(r);
	g_assert_false(listed(tok_alice, entry));

	/* the waiting applet learns who picked it up, as a redeem says */
	r = lh_get(relay, "/api/v1/queue/entry", ticket);
	g_assert_cmpint(r->status, ==, 200);
	g_assert_cmpstr(lh_resp_str(r, "state"), ==, "picked");
	g_assert_cmpstr(lh_resp_str(r, "session_id"), ==, s.pin.session_id);
	g_assert_cmpstr(json_string_value(json_object_get(
				json_object_get(r->json, "technician"),
				"name")),
			==, "alice");
	g_assert_true(json_is_array(json_object_get(r->json, "capabilities")));
	lh_resp_free(r);

	/* the join ticket is the applet's ticket of the session */
	s.applet_ticket = g_strdup(ticket);
	lh_pair_open(relay, &s, &agent, &applet);
	lh_pair_ping(agent, applet);
	lh_conn_free(agent);
	lh_conn_free(applet);
	lh_session_clear(&s);

	g_assert_cmpuint(audit_count("channel.join", "ok"), >=, 1);
	g_assert_cmpuint(audit_count("queue.pickup", "ok"), >=, 1);
	g_assert_cmpuint(audit_count("queue.wait", "ok"), >=, 1);
	g_assert_cmpuint(audit_count("channel.add", "ok"), ==, 2);
}

/* Cancel leaves the queue; the ticket then opens nothing. */
static void test_cancel(void)
{
	g_autofree char *entry = NULL, *ticket = NULL;
	struct lh_resp *r;

	join_ok("127.0.1.2", cred, &entry, &ticket);
	g_assert_true(listed(tok_alice, entry));
	cancel(ticket);
	g_assert_false(listed(tok_alice, entry));
	r = lh_get(relay, "/api/v1/queue/entry", ticket);
	lh_assert_error(r, 404, "not_found");
	lh_resp_free(r);
	r = pickup(tok_alice, entry);
	lh_assert_error(r, 404, "not_found");
	lh_resp_free(r);
	r = lh_delete(relay, "/api/v1/queue/entry", ticket);
	lh_assert_error(r, 404, "not_found");
	lh_resp_free(r);
	g_assert_cmpuint(audit_count("queue.cancel", "ok"), >=, 1);
}

/* Bad credentials: one answer, whatever is wrong, and audited. */
static void test_bad_credential(void)
{
	g_autofree char *wrong_mac = g_strdup(cred);
	g_autofree char *unknown = g_strdup(cred);
	const char *bad[] = { "", "123456", "llch1_short", wrong_mac,
			      unknown };
	size_t before = audit_count("channel.join", "unauthorized");
	struct lh_resp *r;
	size_t i;

	/* the last character of the MAC; the first of the handle */
	wrong_mac[strlen(wrong_mac) - 2] = wrong_mac[strlen(wrong_mac) - 2] ==
							   'A'
						   ? 'B'
						   : 'A';
	unknown[7] = unknown[7] == 'A' ? 'B' : 'A';
	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		r = join("127.0.2.1", bad[i], NULL);
		lh_assert_error(r, 401, "unauthorized");
		g_assert_nonnull(strstr(r->body, "not valid"));
		lh_resp_free(r);
	}
	/* refusals of one (address, action, code) are aggregated: the first
	 * is a record at once */
	g_assert_cmpuint(audit_count("channel.join", "unauthorized"), >,
			 before);
	/* no bearer, an unknown ticket */
	r = lh_get(relay, "/api/v1/queue/entry", NULL);
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);
	r = lh_get(relay, "/api/v1/queue/entry", "not-a-ticket");
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);
	/* the queue is the technicians' */
	r = lh_get(relay, "/api/v1/queue", NULL);
	lh_assert_error(r, 401, "unauthorized");
	lh_resp_free(r);
}

/* A description: control characters become U+FFFD, line ends blanks,
 * the kept text is bounded; 1 MiB is refused before it is parsed. */
static void test_description(void)
{
	g_autofree char *entry = NULL, *ticket = NULL;
	g_autofree char *big = g_malloc(1024 * 1024 + 1);
	g_autofree char *long_one = g_malloc(4001);
	json_t *list, *e;
	struct lh_resp *r;
	const char *d = NULL;
	size_t i;

	r = join("127.0.3.1", cred,
		 "line one\nline\x1b[31m two\x7f\xe2\x80\xae");
	g_assert_cmpint(r->status, ==, 201);
	entry = g_strdup(lh_resp_str(r, "entry_id"));
	ticket = g_strdup(lh_resp_str(r, "ticket"));
	lh_secret("queue ticket", ticket);
	lh_resp_free(r);
	list = queue_list(tok_alice);
	json_array_foreach(list, i, e)
	{
		if (g_strcmp0(json_string_value(json_object_get(e, "entry_id")),
			      entry) == 0)
			d = json_string_value(
				json_object_get(e, "description"));
	}
	g_assert_cmpstr(d, ==,
			"line one line" LL_TEXT_REPL
			"[31m two" LL_TEXT_REPL LL_TEXT_REPL);
	json_decref(list);
	cancel(ticket);

	/* over the field's cap: refused naming the field */
	memset(long_one, 'x', 4000);
	long_one[4000] = '\0';
	r = join("127.0.3.1", cred, long_one);
	lh_assert_error(r, 400, "bad_request");
	g_assert_nonnull(strstr(r->body, "description"));
	lh_resp_free(r);
	/* 1 MiB: over max_body_bytes */
	memset(big, 'x', 1024 * 1024);
	big[1024 * 1024] = '\0';
	r = join("127.0.3.1", cred, big);
	lh_assert_error(r, 413, "payload_too_large");
	lh_resp_free(r);
}

/* A flood of joins from one address: at most queue_max_per_address wait
 * at once, then the rate limit; and at most queue_max_per_org in all. */
static void test_flood(void)
{
	char *entries[64], *tickets[64];
	int n = 0, limited = 0, i;
	char src[32];
	struct lh_resp *r;

	for (i = 0; i < 40; i++) {
		r = join("127.0.4.1", cred, NULL);
		if (r->status == 201) {
			g_assert_cmpint(n, <, 64);
			entries[n] = g_strdup(lh_resp_str(r, "entry_id"));
			tickets[n] = g_strdup(lh_resp_str(r, "ticket"));
			lh_secret("queue ticket", tickets[n]);
			n++;
		} else {
			lh_assert_error(r, 429, "rate_limited");
			g_assert_nonnull(lh_resp_header(r, "Retry-After"));
			limited++;
		}
		lh_resp_free(r);
	}
	g_assert_cmpint(n, ==, MAX_PER_ADDRESS);
	g_assert_cmpint(limited, ==, 40 - MAX_PER_ADDRESS);
	/* many addresses: the org's cap */
	for (i = 0; i < 20; i++) {
		snprintf(src, sizeof(src), "127.0.5.%d", i + 1);
		r = join(src, cred, NULL);
		if (r->status == 201) {
			g_assert_cmpint(n, <, 64);
			entries[n] = g_strdup(lh_resp_str(r, "entry_id"));
			tickets[n] = g_strdup(lh_resp_str(r, "ticket"));
			lh_secret("queue ticket", tickets[n]);
			n++;
		} else {
			lh_assert_error(r, 429, "rate_limited");
		}
		lh_resp_free(r);
	}
	/* the org's cap counts what still waits: nothing else waits now */
	g_assert_cmpint(n, ==, MAX_PER_ORG);
	/* another org's queue is its own */
	r = join("127.0.5.100", cred_other, NULL);
	g_assert_cmpint(r->status, ==, 201);
	lh_secret("queue ticket", lh_resp_str(r, "ticket"));
	cancel(lh_resp_str(r, "ticket"));
	lh_resp_free(r);
	for (i = 0; i < n; i++) {
		cancel(tickets[i]);
		g_free(entries[i]);
		g_free(tickets[i]);
	}
}

/* Two technicians race for one entry: exactly one wins, each time. */
struct racer {
	const char *token;
	const char *entry;
	GMutex *lock;
	GCond *go;
	bool *started;
	int status;
};

static gpointer race(gpointer data)
{
	struct racer *rc = data;
	struct lh_resp *r;

	g_mutex_lock(rc->lock);
	while (!*rc->started)
		g_cond_wait(rc->go, rc->lock);
	g_mutex_unlock(rc->lock);
	r = pickup(rc->token, rc->entry);
	rc->status = r->status;
	if (r->status != 201)
		lh_assert_error(r, 409, "conflict");
	lh_resp_free(r);
	return NULL;
}

static void test_pickup_race(void)
{
	GMutex lock;
	GCond go;
	int round;

	g_mutex_init(&lock);
	g_cond_init(&go);
	for (round = 0; round < 5; round++) {
		g_autofree char *entry = NULL, *ticket = NULL;
		bool started = false;
		struct racer a = { tok_alice, NULL, &lock, &go, &started, 0 };
		struct racer b = { tok_bob, NULL, &lock, &go, &started, 0 };
		GThread *ta, *tb;

		join_ok("127.0.6.1", cred, &entry, &ticket);
		a.entry = b.entry = entry;
		ta = g_thread_new("a", race, &a);
		tb = g_thread_new("b", race, &b);
		g_mutex_lock(&lock);
		started = true;
		g_cond_broadcast(&go);
		g_mutex_unlock(&lock);
		g_thread_join(ta);
		g_thread_join(tb);
		g_assert_true((a.status == 201 && b.status == 409) ||
			      (a.status == 409 && b.status == 201));
		cancel(ticket); /* ends the winner's session */
	}
	g_mutex_clear(&lock);
	g_cond_clear(&go);
	g_assert_cmpuint(audit_count("queue.pickup", "conflict"), >=, 1);
}

/* A technician of another org neither sees nor picks up this org's
 * callers; their own org's are theirs. */
static void test_other_org(void)
{
	g_autofree char *entry = NULL, *ticket = NULL;
	g_autofree char *oentry = NULL, *oticket = NULL;
	struct lh_resp *r;

	join_ok("127.0.7.1", cred, &entry, &ticket);
	join_ok("127.0.7.2", cred_other, &oentry, &oticket);
	g_assert_false(listed(tok_mallory, entry));
	g_assert_true(listed(tok_mallory, oentry));
	g_assert_false(listed(tok_alice, oentry));
	r = pickup(tok_mallory, entry);
	lh_assert_error(r, 404, "not_found");
	lh_resp_free(r);
	r = pickup(tok_alice, oentry);
	lh_assert_error(r, 404, "not_found");
	lh_resp_free(r);
	/* the entry still waits for its own org */
	g_assert_true(listed(tok_alice, entry));
	cancel(ticket);
	cancel(oticket);
}

/* An applet that stops asking is gone within QUEUE_GRACE_S; one that
 * keeps asking stays until queue_wait_s (the test clock). */
static void test_expiry(void)
{
	g_autofree char *entry = NULL, *ticket = NULL;
	g_autofree char *metrics = NULL;
	struct lh_resp *r;

	join_ok("127.0.8.1", cred, &entry, &ticket);
	if (!lh_relay_clock_advance(relay, QUEUE_GRACE_S + 1)) {
		g_test_skip("needs -Dtest_hooks=true");
		cancel(ticket);
		return;
	}
	g_assert_true(lh_relay_wait_log(relay, entry, 1, 10000));
	g_assert_false(listed(tok_alice, entry));
	r = lh_get(relay, "/api/v1/queue/entry", ticket);
	lh_assert_error(r, 404, "not_found");
	lh_resp_free(r);
	g_assert_cmpuint(audit_count("queue.expire", "ok"), >=, 1);
	/* the gauge follows */
	r = lh_get(relay, "/metrics", NULL);
	g_assert_cmpint(r->status, ==, 200);
	g_assert_cmpfloat(lh_metric_sum(r->body, "lifeline_queue_waiting",
					NULL),
			  ==, 0);
	lh_resp_free(r);
}

static void test_cli(void)
{
	g_autofree char *out = NULL, *err = NULL;
	json_t *j;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, &err, "channel",
				     "list", "--json", NULL),
			==, 0);
	j = json_loads(out, 0, NULL);
	g_assert_nonnull(j);
	g_assert_cmpuint(json_array_size(json_object_get(j, "channels")), ==,
			 2);
	json_decref(j);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, &err, "channel", "add",
				     "desk", "--org", "default", NULL),
			==, 1);
	g_assert_nonnull(strstr(err, "already exists"));
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, &err, "channel", "add",
				     "bad name", "--org", "default", NULL),
			==, 2);
	g_clear_pointer(&err, g_free);
	/* removing a channel kills its credential */
	g_clear_pointer(&out, g_free);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, NULL, "channel", "add",
				     "temp", "--group", "helpdesk", "--org",
				     "default", NULL),
			==, 0);
	g_strstrip(out);
	lh_secret("channel credential", out);
	{
		struct lh_resp *r = join("127.0.9.1", out, NULL);

		g_assert_cmpint(r->status, ==, 201);
		lh_secret("queue ticket", lh_resp_str(r, "ticket"));
		cancel(lh_resp_str(r, "ticket"));
		lh_resp_free(r);
	}
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "channel",
				     "remove", "temp", "--org", "default",
				     NULL),
			==, 0);
	{
		struct lh_resp *r = join("127.0.9.1", out, NULL);

		lh_assert_error(r, 401, "unauthorized");
		lh_resp_free(r);
	}
	g_assert_cmpuint(audit_count("channel.remove", "ok"), ==, 1);
}

static void test_stop_and_verify(void)
{
	g_assert_cmpint(lh_relay_stop_verify(relay), >=, 10);
}

/* A second org, made in the store as `org add` (issue 11) will. */
static void org_add(const char *name)
{
	g_autofree char *db = g_build_filename(relay->state_dir, "lifeline.db",
					       NULL);
	g_autofree char *sql = g_strdup_printf(
		"INSERT INTO orgs (name, created_at) VALUES ('%s', 1)", name);
	sqlite3 *h = NULL;

	g_assert_cmpint(sqlite3_open(db, &h), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(h, sql, NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(h);
}

static char *channel_add(const char *name, const char *org)
{
	char *out = NULL;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, NULL, "channel", "add",
				     name, "--org", org, NULL),
			==, 0);
	g_strstrip(out);
	g_assert_cmpuint(strlen(out), ==, 70);
	g_assert_null(strchr(out, '\n'));
	lh_secret("channel credential", out);
	return out;
}

/* Login naming the org (the relay has two). */
static char *login(const char *org, const char *user)
{
	json_t *b = json_pack("{s:s,s:s,s:s}", "org", org, "username", user,
			      "password", LH_CANARY_PASSWORD);
	struct lh_resp *r = lh_post(relay, "/api/v1/login", NULL, b);
	char *tok;

	g_assert_cmpint(r->status, ==, 200);
	tok = g_strdup(lh_resp_str(r, "token"));
	lh_secret("token", tok);
	lh_resp_free(r);
	json_decref(b);
	return tok;
}

int main(int argc, char **argv)
{
	g_autofree char *conf = g_strdup_printf(
		"queue_max_per_org = %d\nqueue_max_per_address = %d\n",
		MAX_PER_ORG, MAX_PER_ADDRESS);
	int rc;

	lh_init(&argc, &argv);
	relay = lh_relay_new("channels", conf);
	lh_tech_add(relay, "alice", LH_CANARY_PASSWORD, false);
	lh_tech_add(relay, "bob", LH_CANARY_PASSWORD, false);
	org_add("other");
	g_assert_cmpint(lh_relay_cmd(relay, LH_CANARY_PASSWORD "\n", NULL,
				     NULL, "technician", "add", "mallory",
				     "--org", "other", "--password-stdin",
				     NULL),
			==, 0);
	cred = channel_add("desk", "default");
	cred_other = channel_add("desk", "other");
	lh_relay_start(relay);
	tok_alice = login("default", "alice");
	tok_bob = login("default", "bob");
	tok_mallory = login("other", "mallory");

	g_test_add_func("/channels/join-pickup", test_join_pickup);
	g_test_add_func("/channels/cancel", test_cancel);
	g_test_add_func("/channels/bad-credential", test_bad_credential);
	g_test_add_func("/channels/description", test_description);
	g_test_add_func("/channels/flood", test_flood);
	g_test_add_func("/channels/pickup-race", test_pickup_race);
	g_test_add_func("/channels/other-org", test_other_org);
	g_test_add_func("/channels/cli", test_cli);
	g_test_add_func("/channels/expiry", test_expiry);
	g_test_add_func("/channels/stop-and-audit-verify",
			test_stop_and_verify);
	rc = g_test_run();
	g_free(cred);
	g_free(cred_other);
	g_free(tok_alice);
	g_free(tok_bob);
	g_free(tok_mallory);
	lh_relay_free(relay);
	return rc;
}
