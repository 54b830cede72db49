/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Live page's long-poll against a real relay (issue 11 item 5): GET
 * /api/v1/live?since=VERSION held while nothing changes answers soon
 * after a session's streams pair, after the end user grants
 * capabilities, and after an admin ends the session -- each well before
 * the relay's hold of 25 s runs out, so an answer that came from the
 * timer instead of the event fails the test.  Admins only; another org
 * sees none of it; a relay stopping with long-polls held stops cleanly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lt_wait.h"

#define PW "Live-Test-Pw-1"
/* Far below the relay's hold (LL_LIVE_HOLD_S, 25 s). */
#define EVENT_DEADLINE_MS 15000

struct poll {
	struct lh_relay *r;
	char *token;
	char *path;
	struct lh_resp *resp; /* NULL: the request failed */
	int rc;
	int64_t took_ms;
};

static gpointer poll_thread(gpointer data)
{
	struct poll *p = data;
	struct lh_req q = { .method = "GET",
			    .path = p->path,
			    .bearer = p->token };
	int64_t t0 = lh_now_ms();

	p->rc = lh_do_try(p->r, &q, &p->resp);
	p->took_ms = lh_now_ms() - t0;
	return NULL;
}

/* Starts GET /api/v1/live?since=version on a thread of its own. */
static GThread *poll_start(struct poll *p, struct lh_relay *r,
			   const char *token, int64_t version)
{
	memset(p, 0, sizeof(*p));
	p->r = r;
	p->token = g_strdup(token);
	p->path = g_strdup_printf("/api/v1/live?since=%lld",
				  (long long)version);
	return g_thread_new("live-poll", poll_thread, p);
}

static json_t *poll_join(struct poll *p, GThread *t)
{
	json_t *doc;

	g_thread_join(t);
	g_assert_cmpint(p->rc, ==, 0);
	g_assert_nonnull(p->resp);
	g_assert_cmpint(p->resp->status, ==, 200);
	if (p->took_ms > EVENT_DEADLINE_MS)
		g_error("the long-poll answered after %lld ms: the hold ran "
			"out instead of the change answering it",
			(long long)p->took_ms);
	doc = json_incref(p->resp->json);
	lh_resp_free(p->resp);
	g_free(p->token);
	g_free(p->path);
	return doc;
}

static int64_t version_of(json_t *doc)
{
	g_assert_true(json_is_integer(json_object_get(doc, "version")));
	return json_integer_value(json_object_get(doc, "version"));
}

static json_t *live_now(struct lh_relay *r, const char *token)
{
	struct lh_resp *resp = lh_get(r, "/api/v1/live", token);
	json_t *doc;

	g_assert_cmpint(resp->status, ==, 200);
	doc = json_incref(resp->json);
	lh_resp_free(resp);
	return doc;
}

/* Long-polls from version until the first session's key is want (or
 * until there are no sessions, want NULL), each answer within the
 * deadline; the last answer. */
static json_t *poll_until(struct lh_relay *r, const char *token,
			  int64_t version, void (*act)(void *), void *arg,
			  bool (*done)(json_t *doc))
{
	struct poll p;
	GThread *t;
	json_t *doc = NULL;
	int i;

	for (i = 0; i < 5; i++) {
		t = poll_start(&p, r, token, version);
		if (i == 0 && act != NULL)
			act(arg);
		json_decref(doc);
		doc = poll_join(&p, t);
		g_assert_cmpint(version_of(doc), >, version);
		if (done(doc))
			return doc;
		version = version_of(doc);
	}
	g_error("the change never showed in the long-poll's answers");
	return NULL;
}

struct live_fx {
	struct lh_relay *r;
	char *bob;
	struct lh_session s;
	struct lh_conn *agent, *applet;
};

static void act_pair(void *arg)
{
	struct live_fx *f = arg;

	/* the poll is on its way first: it is held when the streams pair
	 * (or answers at once, had the version moved: then poll_until
	 * polls again) */
	lh_pair_open(f->r, &f->s, &f->agent, &f->applet);
}

static void act_consent(void *arg)
{
	struct live_fx *f = arg;
	g_autofree char *path = g_strdup_printf("/api/v1/sessions/%s/events",
						f->s.pin.session_id);
	struct lh_req q = { .method = "POST",
			    .path = path,
			    .bearer = f->s.applet_ticket,
			    .body = "{\"type\":\"consent\",\"capabilities\":"
				    "[\"view\",\"control\"]}" };
	struct lh_resp *resp = lh_do(f->r, &q);

	g_assert_cmpint(resp->status, ==, 204);
	lh_resp_free(resp);
}

static char *admin_token;
static struct lh_relay *live_relay;

static void act_end(void *arg)
{
	struct live_fx *f = arg;
	g_autofree char *path = g_strdup_printf("/api/v1/sessions/%s",
						f->s.pin.session_id);
	struct lh_resp *resp = lh_delete(f->r, path, admin_token);

	g_assert_cmpint(resp->status, ==, 204);
	lh_resp_free(resp);
}

static json_t *first(json_t *doc)
{
	return json_array_get(json_object_get(doc, "sessions"), 0);
}

static bool is_connected(json_t *doc)
{
	json_t *s = first(doc);

	return s != NULL &&
	       strcmp(json_string_value(json_object_get(s, "state")),
		      "connected") == 0;
}

static bool has_consent(json_t *doc)
{
	return json_array_size(json_object_get(first(doc), "capabilities")) ==
	       2;
}

static bool is_empty(json_t *doc)
{
	return json_array_size(json_object_get(doc, "sessions")) == 0;
}

static void refusals(struct live_fx *f)
{
	struct lh_resp *resp;

	resp = lh_get(f->r, "/api/v1/live", f->bob);
	lh_assert_error(resp, 403, "forbidden");
	lh_resp_free(resp);
	resp = lh_get(f->r, "/api/v1/live?since=x", admin_token);
	lh_assert_error(resp, 400, "bad_request");
	lh_resp_free(resp);
	resp = lh_get(f->r, "/api/v1/live", NULL);
	lh_assert_error(resp, 401, "unauthorized");
	lh_resp_free(resp);
}

struct held {
	struct lh_relay *r;
	double want, got;
};

static bool held_is(void *data)
{
	struct held *h = data;
	struct lh_resp *resp = lh_get(h->r, "/metrics", NULL);

	h->got = lh_metric_sum(resp->body, "lifeline_live_polls_held", NULL);
	lh_resp_free(resp);
	return h->got == h->want;
}

/* Waits until n long-polls are held (the relay's metrics say so). */
static void held_wait(struct lh_relay *r, double n)
{
	struct held h = { r, n, -1 };

	if (!lt_wait_until(held_is, &h, 10000, 20 * 1000))
		g_error("%g long-polls held, not %g", h.got, n);
}

/* An applet stream that comes from 127.0.8.5 and names another client
 * in X-Forwarded-For, with the agent's stream to pair it. */
static struct lh_conn *proxied_agent, *proxied_applet;

static void act_pair_proxied(void *arg)
{
	const struct lh_session *s = arg;
	g_autofree char *req = g_strdup_printf(
		"GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		"Connection: Upgrade\r\nUpgrade: lifeline/1\r\n"
		"Authorization: Bearer %s\r\n"
		"X-Forwarded-For: 203.0.113.7\r\n\r\n",
		s->applet_ticket);
	struct lh_resp *r = NULL;

	proxied_applet = lh_connect(live_relay, "127.0.8.5");
	g_assert_cmpint(lh_raw_try(proxied_applet, req, strlen(req), 10000,
				   &r),
			==, LL_OK);
	g_assert_cmpint(r->status, ==, 101);
	lh_resp_free(r);
	g_assert_cmpint(lh_stream_begin_try(live_relay, s->pin.agent_ticket,
					    &proxied_agent),
			==, LL_OK);
	g_assert_cmpint(lh_stream_finish_try(proxied_agent, 10000, &r), ==,
			LL_OK);
	g_assert_cmpint(r->status, ==, 101);
	lh_resp_free(r);
}

/*
 * The end user's address is the org's view of them: a forwarding header
 * is nobody's word (the peer's address shows) until the org's
 * trusted_proxies names the peer, then the client it names shows.  A
 * hostile applet cannot choose what the admin sees.
 */
static void proxied_address(const char *tok, int64_t *version,
			    const char *trusted, const char *want)
{
	struct lh_session s = { 0 };
	g_autofree char *path = NULL;
	struct lh_resp *r;
	json_t *doc;

	g_assert_cmpint(lh_relay_cmd(live_relay, NULL, NULL, NULL, "policy",
				     trusted ? "set" : "unset",
				     "trusted_proxies",
				     trusted ? trusted : "--org",
				     trusted ? "--org" : "default",
				     trusted ? "default" : NULL, NULL),
			==, 0);
	lh_session_new(live_relay, tok, &s);
	doc = poll_until(live_relay, admin_token, *version, act_pair_proxied,
			 &s, is_connected);
	g_assert_cmpstr(json_string_value(json_object_get(first(doc),
							  "end_user_address")),
			==, want);
	*version = version_of(doc);
	json_decref(doc);
	path = g_strdup_printf("/api/v1/sessions/%s", s.pin.session_id);
	r = lh_delete(live_relay, path, admin_token);
	g_assert_cmpint(r->status, ==, 204);
	lh_resp_free(r);
	g_assert_cmpint(lh_conn_wait_closed(proxied_agent, 10000), ==, 0);
	lh_conn_free(proxied_agent);
	lh_conn_free(proxied_applet);
	proxied_agent = proxied_applet = NULL;
	lh_session_clear(&s);
}

static void test_live(void)
{
	struct live_fx f;
	json_t *doc, *s;
	struct poll p;
	GThread *t;
	int64_t v;

	memset(&f, 0, sizeof(f));
	f.r = lh_relay_new("live", NULL);
	lh_relay_start(f.r);
	lh_tech_add(f.r, "root", PW, true);
	lh_tech_add(f.r, "bob", PW, false);
	admin_token = lh_login(f.r, "root", PW);
	f.bob = lh_login(f.r, "bob", PW);
	refusals(&f);

	doc = live_now(f.r, admin_token);
	g_assert_true(is_empty(doc));
	v = version_of(doc);
	json_decref(doc);

	lh_session_new(f.r, f.bob, &f.s);
	doc = poll_until(f.r, admin_token, v, act_pair, &f, is_connected);
	s = first(doc);
	g_assert_cmpstr(json_string_value(json_object_get(s, "session_id")),
			==, f.s.pin.session_id);
	g_assert_cmpstr(json_string_value(json_object_get(s, "technician")),
			==, "bob");
	/* the end user as the relay knows them: their applet's address */
	g_assert_cmpstr(json_string_value(
				json_object_get(s, "end_user_address")),
			==, "127.0.0.1");
	g_assert_true(json_is_integer(json_object_get(s, "duration_s")));
	v = version_of(doc);
	json_decref(doc);

	doc = poll_until(f.r, admin_token, v, act_consent, &f, has_consent);
	v = version_of(doc);
	json_decref(doc);
	lh_pair_ping(f.agent, f.applet);
	doc = live_now(f.r, admin_token);
	g_assert_cmpint(json_integer_value(
				json_object_get(first(doc),
						"bytes_agent_to_applet")),
			>, 0);
	json_decref(doc);

	/* the admin ends bob's session: the page hears it */
	doc = poll_until(f.r, admin_token, v, act_end, &f, is_empty);
	v = version_of(doc);
	json_decref(doc);
	g_assert_cmpint(lh_conn_wait_closed(f.agent, 10000), ==, 0);

	live_relay = f.r;
	proxied_address(f.bob, &v, NULL, "127.0.8.5");
	proxied_address(f.bob, &v, "127.0.8.5", "203.0.113.7");
	doc = live_now(f.r, admin_token);
	v = version_of(doc);
	json_decref(doc);

	/* stopping with a long-poll held: a clean stop, the poll closed */
	t = poll_start(&p, f.r, admin_token, v);
	held_wait(f.r, 1);
	g_assert_cmpint(lh_relay_stop(f.r, 10000), ==, 0);
	g_thread_join(t);
	if (p.resp != NULL)
		g_assert_cmpint(p.resp->status, !=, 200);
	lh_resp_free(p.resp);
	g_free(p.token);
	g_free(p.path);
	g_assert_cmpint(lh_audit_verify_intact(f.r), >, 0);
	{
		json_t *recs = lh_audit_records(f.r, "session.delete"), *rec;
		size_t i, n = 0;

		json_array_foreach(recs, i, rec)
		{
			if (strcmp(json_string_value(
					   json_object_get(rec, "actor")),
				   "technician:root") == 0)
				n++;
		}
		/* bob's, and the two of proxied_address */
		g_assert_cmpuint(n, ==, 3);
		json_decref(recs);
	}
	lh_conn_free(f.agent);
	lh_conn_free(f.applet);
	lh_session_clear(&f.s);
	g_free(f.bob);
	g_free(admin_token);
	lh_relay_free(f.r);
}

int main(int argc, char **argv)
{
	lh_init(&argc, &argv);
	g_test_add_func("/relay/live/long-poll", test_live);
	return g_test_run();
}
