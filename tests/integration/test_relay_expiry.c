/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What outlives its session, against a real relay on its test clock:
 *  - a stream waiting for its peer closes when the session's time is up:
 *    the PIN's lifetime unredeemed, one PIN lifetime after the redeem once
 *    redeemed (the session expires, and its tickets die with it);
 *  - waiting streams count toward max_sessions, and how much memory they
 *    hold meanwhile;
 *  - a ticket reports events only while its session lives (plus a short
 *    grace for the closing reports) and only while its technician's
 *    account is enabled.
 *
 * Each test makes its own sessions after the clock moved for the ones
 * before.  Without -Dtest_hooks=true (no test clock) the tests that need
 * the clock skip.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define PIN_LIFETIME_S 1200
/* api.h LL_API_TICKET_GRACE_S */
#define TICKET_GRACE_S 30
/* the second relay's max_sessions, and how many technicians fill it */
#define MAX_SESSIONS 200
#define FILL_TECHS 10
#define EARLY_BYTES (100 * 1024)

/* Tokens must outlive every jump of the test clock. */
#define CONF_TOKENS "token_lifetime_s=2592000\ntoken_idle_s=2592000\n"

static struct lh_relay *relay;
static char *token;

static bool clock_advance(struct lh_relay *r, int64_t s)
{
	if (lh_relay_clock_advance(r, s))
		return true;
	g_test_skip("needs -Dtest_hooks=true (the relay's test clock)");
	return false;
}

/* Opens ticket's stream and asserts the answer's status. */
static struct lh_conn *stream_open(struct lh_relay *r, const char *ticket,
				   int status, const char *code)
{
	struct lh_conn *c = NULL;
	struct lh_resp *resp = NULL;

	g_assert_cmpint(lh_stream_begin_try(r, ticket, &c), ==, LL_OK);
	g_assert_cmpint(lh_stream_finish_try(c, 15000, &resp), ==, LL_OK);
	if (resp->status != status)
		g_error("stream: %d %s, not %d", resp->status, resp->body,
			status);
	if (code != NULL)
		lh_assert_error(resp, status, code);
	lh_resp_free(resp);
	if (status == 101)
		return c;
	lh_conn_free(c);
	return NULL;
}

static struct lh_resp *event(const char *session_id, const char *bearer,
			     const char *type)
{
	g_autofree char *path = g_strdup_printf("/api/v1/sessions/%s/events",
						session_id);
	json_t *b = json_pack("{ss}", "type", type);
	struct lh_resp *r = lh_post(relay, path, bearer, b);

	json_decref(b);
	return r;
}

static void assert_event(const char *session_id, const char *bearer,
			 int status, const char *code)
{
	struct lh_resp *r = event(session_id, bearer, "ended");

	if (code == NULL)
		g_assert_cmpint(r->status, ==, status);
	else
		lh_assert_error(r, status, code);
	lh_resp_free(r);
}

static const char *session_state(const char *id, char *buf, size_t len)
{
	struct lh_resp *r = lh_get(relay, "/api/v1/sessions", token);
	json_t *s;
	size_t i;

	g_assert_cmpint(r->status, ==, 200);
	buf[0] = '\0';
	json_array_foreach(json_object_get(r->json, "sessions"), i, s)
	{
		if (g_strcmp0(json_string_value(
				      json_object_get(s, "session_id")),
			      id) == 0)
			g_strlcpy(buf,
				  json_string_value(
					  json_object_get(s, "state")),
				  len);
	}
	lh_resp_free(r);
	return buf;
}

/* An unredeemed PIN's waiting agent stream closes when the PIN expires
 * (this held before issue 7 too; kept as a regression test). */
static void test_waiting_unredeemed(void)
{
	struct lh_pin p = { 0 };
	struct lh_conn *a;

	lh_pin_new(relay, token, NULL, &p);
	a = stream_open(relay, p.agent_ticket, 101, NULL);
	if (!clock_advance(relay, PIN_LIFETIME_S + 1))
		goto out;
	g_assert_cmpint(lh_conn_wait_closed(a, 10000), ==, LL_OK);
	stream_open(relay, p.agent_ticket, 404, "not_found");
out:
	lh_conn_free(a);
	lh_pin_clear(&p);
}

/*
 * Redeemed, but the applet never comes: the agent's stream waited forever
 * and both tickets stayed good.  Now the session expires one PIN lifetime
 * after the redeem, the stream closes, and the tickets die.
 */
static void test_redeemed_never_connected(void)
{
	struct lh_session s = { 0 };
	struct lh_conn *a;
	char st[32];

	lh_session_new(relay, token, &s);
	a = stream_open(relay, s.pin.agent_ticket, 101, NULL);
	if (!clock_advance(relay, PIN_LIFETIME_S + 1))
		goto out;
	g_assert_cmpint(lh_conn_wait_closed(a, 10000), ==, LL_OK);
	g_assert_cmpstr(session_state(s.pin.session_id, st, sizeof(st)), ==,
			"expired");
	stream_open(relay, s.applet_ticket, 404, "not_found");
	assert_event(s.pin.session_id, s.applet_ticket, 404, "not_found");
	assert_event(s.pin.session_id, s.pin.agent_ticket, 404, "not_found");
out:
	lh_conn_free(a);
	lh_session_clear(&s);
}

/* The same with the applet waiting for an agent that never comes. */
static void test_applet_waits_in_vain(void)
{
	struct lh_session s = { 0 };
	struct lh_conn *b;

	lh_session_new(relay, token, &s);
	b = stream_open(relay, s.applet_ticket, 101, NULL);
	if (!clock_advance(relay, PIN_LIFETIME_S + 1))
		goto out;
	g_assert_cmpint(lh_conn_wait_closed(b, 10000), ==, LL_OK);
	stream_open(relay, s.pin.agent_ticket, 404, "not_found");
out:
	lh_conn_free(b);
	lh_session_clear(&s);
}

/*
 * After the session ended, its tickets report for a short grace (the
 * closing "ended" reports race the streams' close), then never again.
 */
static void test_events_after_end(void)
{
	g_autofree char *path = NULL;
	struct lh_session s = { 0 };
	struct lh_conn *a, *b;
	struct lh_resp *r;

	lh_session_new(relay, token, &s);
	lh_pair_open(relay, &s, &a, &b);
	lh_pair_ping(a, b);
	path = g_strdup_printf("/api/v1/sessions/%s", s.pin.session_id);
	r = lh_delete(relay, path, token);
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	g_assert_cmpint(lh_conn_wait_closed(a, 5000), ==, LL_OK);
	g_assert_cmpint(lh_conn_wait_closed(b, 5000), ==, LL_OK);
	/* within the grace: the closing reports are recorded */
	assert_event(s.pin.session_id, s.applet_ticket, 204, NULL);
	assert_event(s.pin.session_id, s.pin.agent_ticket, 204, NULL);
	if (!clock_advance(relay, TICKET_GRACE_S))
		goto out;
	assert_event(s.pin.session_id, s.applet_ticket, 404, "not_found");
	assert_event(s.pin.session_id, s.pin.agent_ticket, 404, "not_found");
	/* the technician's own token still reports on it */
	assert_event(s.pin.session_id, token, 204, NULL);
out:
	lh_conn_free(a);
	lh_conn_free(b);
	lh_session_clear(&s);
}

/* A disabled technician's tickets are refused, either side's. */
static void test_tickets_of_disabled_technician(void)
{
	g_autofree char *dave = lh_login(relay, "dave", LH_CANARY_PASSWORD);
	struct lh_session s = { 0 };

	lh_session_new(relay, dave, &s);
	assert_event(s.pin.session_id, s.applet_ticket, 204, NULL);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "technician",
				     "disable", "dave", NULL),
			==, 0);
	assert_event(s.pin.session_id, s.applet_ticket, 403,
		     "account_disabled");
	assert_event(s.pin.session_id, s.pin.agent_ticket, 403,
		     "account_disabled");
	stream_open(relay, s.applet_ticket, 403, "account_disabled");
	stream_open(relay, s.pin.agent_ticket, 403, "account_disabled");
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "technician",
				     "enable", "dave", NULL),
			==, 0);
	lh_session_clear(&s);
}

/*
 * The relay's RSS once it stops changing (for the record, not asserted):
 * it has read what the streams sent when it no longer grows.
 */
static int64_t rss_settled(struct lh_relay *r)
{
	int64_t last = -1, now = lh_relay_rss_kib(r);
	int64_t deadline = lh_now_ms() + 10000;
	int same = 0;

	while (same < 3 && lh_now_ms() < deadline) {
		g_usleep(300 * 1000); /* sampling a value, not waiting for
				       * an event */
		last = now;
		now = lh_relay_rss_kib(r);
		same = now == last ? same + 1 : 0;
	}
	return now;
}

/*
 * Waiting streams count toward max_sessions, and they hold memory until
 * their session's time is up: MAX_SESSIONS of them fill the relay, one
 * more session's stream is refused, the peer of a waiting one still
 * pairs, and one PIN lifetime later all are gone.
 */
static void test_waiting_streams_capped(void)
{
	g_autofree char *conf = g_strdup_printf(CONF_TOKENS "max_sessions=%d\n"
							    "login_burst=%d\n",
						MAX_SESSIONS, FILL_TECHS + 1);
	struct lh_relay *cr = lh_relay_new("expiry-cap", conf);
	struct lh_pin pins[MAX_SESSIONS + 1];
	struct lh_conn *waiting[MAX_SESSIONS], *applet;
	char *toks[FILL_TECHS + 1], name[32];
	g_autofree char *applet_ticket = NULL;
	static uint8_t early[EARLY_BYTES];
	int64_t rss0, rss1, rss2;
	struct lh_resp *m;
	int i;

	for (i = 0; i <= FILL_TECHS; i++) {
		snprintf(name, sizeof(name), "tech%d", i);
		lh_tech_add(cr, name, LH_CANARY_PASSWORD, false);
	}
	lh_relay_start(cr);
	for (i = 0; i <= FILL_TECHS; i++) {
		snprintf(name, sizeof(name), "tech%d", i);
		toks[i] = lh_login(cr, name, LH_CANARY_PASSWORD);
	}
	/* within each technician's caps: 20 live PINs each */
	for (i = 0; i <= MAX_SESSIONS; i++)
		lh_pin_new(cr, toks[i / (MAX_SESSIONS / FILL_TECHS)], NULL,
			   &pins[i]);
	rss0 = lh_relay_rss_kib(cr);
	/* each sends EARLY_BYTES before its peer comes: the relay keeps
	 * them (up to stream_buffer_bytes) */
	for (i = 0; i < MAX_SESSIONS; i++) {
		waiting[i] = stream_open(cr, pins[i].agent_ticket, 101, NULL);
		if (i > 0) /* the first pairs later */
			g_assert_cmpint(lh_conn_write_all(waiting[i], early,
							  sizeof(early)),
					==, LL_OK);
	}
	rss1 = rss_settled(cr);
	g_test_message("%d waiting streams: relay RSS %" G_GINT64_FORMAT
		       " -> %" G_GINT64_FORMAT " KiB (%.1f KiB each, "
		       "%d KiB sent by each)",
		       MAX_SESSIONS, rss0, rss1,
		       (double)(rss1 - rss0) / MAX_SESSIONS,
		       EARLY_BYTES / 1024);

	/* One session more: refused, before its ticket is spent ... */
	stream_open(cr, pins[MAX_SESSIONS].agent_ticket, 429, "rate_limited");
	/* ... but the peer of a waiting stream adds no session: it pairs. */
	applet_ticket = lh_redeem(cr, pins[0].pin, pins[0].session_id);
	applet = stream_open(cr, applet_ticket, 101, NULL);
	lh_pair_ping(waiting[0], applet);

	if (!clock_advance(cr, PIN_LIFETIME_S + 1))
		goto out;
	for (i = 1; i < MAX_SESSIONS; i++)
		g_assert_cmpint(lh_conn_wait_closed(waiting[i], 10000), ==,
				LL_OK);
	m = lh_get(cr, "/metrics", NULL);
	g_assert_cmpfloat(lh_metric_sum(m->body, "lifeline_streams_waiting",
					NULL),
			  ==, 0);
	g_assert_cmpfloat(lh_metric_sum(m->body, "lifeline_sessions_live",
					NULL),
			  ==, 1);
	lh_resp_free(m);
	rss2 = rss_settled(cr);
	g_test_message(
		"after their sessions expired: relay RSS %" G_GINT64_FORMAT
		" KiB",
		rss2);
	/* the paired session goes on */
	lh_pair_ping(waiting[0], applet);
out:
	for (i = 0; i < MAX_SESSIONS; i++)
		lh_conn_free(waiting[i]);
	lh_conn_free(applet);
	for (i = 0; i <= MAX_SESSIONS; i++)
		lh_pin_clear(&pins[i]);
	for (i = 0; i <= FILL_TECHS; i++)
		g_free(toks[i]);
	lh_relay_stop_verify(cr);
	lh_relay_free(cr);
}

static void test_stop_and_verify(void)
{
	g_assert_cmpint(lh_relay_stop_verify(relay), >=, 10);
}

int main(int argc, char **argv)
{
	int rc;

	lh_init(&argc, &argv);
	relay = lh_relay_new("expiry", CONF_TOKENS);
	lh_tech_add(relay, "carol", LH_CANARY_PASSWORD, false);
	lh_tech_add(relay, "dave", LH_CANARY_PASSWORD, false);
	lh_relay_start(relay);
	token = lh_login(relay, "carol", LH_CANARY_PASSWORD);

	g_test_add_func("/expiry/waiting-unredeemed", test_waiting_unredeemed);
	g_test_add_func("/expiry/redeemed-never-connected",
			test_redeemed_never_connected);
	g_test_add_func("/expiry/applet-waits-in-vain",
			test_applet_waits_in_vain);
	g_test_add_func("/expiry/events-after-end", test_events_after_end);
	g_test_add_func("/expiry/tickets-of-disabled-technician",
			test_tickets_of_disabled_technician);
	g_test_add_func("/expiry/waiting-streams-capped",
			test_waiting_streams_capped);
	g_test_add_func("/expiry/stop-and-audit-verify", test_stop_and_verify);
	rc = g_test_run();
	g_free(token);
	lh_relay_free(relay);
	return rc;
}
