/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audit reporter (common/client/ll_reporter.h) against a real
 * lifeline-relay on 127.0.0.1: a burst of consent/revoke pairs must reach
 * the relay's audit in exactly the order it was queued (a thread per
 * event, as the agent had, lets them race and fails here), a relay that
 * never answers must not hold _free up beyond its drain time, the queue
 * is bounded, and every event that did not reach the audit is handed to
 * on_failed, in order.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "ll_api_client.h"
#include "ll_control.h"
#include "ll_crypto.h"
#include "ll_reporter.h"
#include "ll_util.h"

/* Consent/revoke pairs of the burst. */
#define N_PAIRS 50

static struct lh_relay *relay;
static char *relay_url;

static void relay_opts(struct ll_relay_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->url = relay_url;
	o->ca_file = relay->ca_cert;
	o->no_system_cas = true;
	o->timeout_ms = 10000;
}

/* A redeemed session: its id and the applet's ticket (g_free both). */
static void session_new(char **id, char **ticket)
{
	struct ll_relay_opts o;
	struct ll_api_login l = { 0 };
	struct ll_api_pin pin = { 0 };
	struct ll_api_redeem red = { 0 };
	struct ll_client_error e;
	struct ll_api_client *c;

	relay_opts(&o);
	if ((c = ll_api_client_new(&o, &e)) == NULL)
		g_error("ll_api_client_new: %s", e.message);
	if (ll_api_login(c, "alice", NULL, LH_CANARY_PASSWORD, &l, &e) != 0)
		g_error("login: %s", e.message);
	lh_secret("token", l.token);
	if (ll_api_pin_new(c, NULL, &pin, &e) != 0)
		g_error("pin_new: %s", e.message);
	lh_secret("pin", pin.pin);
	lh_secret("ticket", pin.ticket);
	if (ll_api_pin_redeem(c, pin.pin, NULL, &red, &e) != 0)
		g_error("redeem: %s", e.message);
	lh_secret("ticket", red.ticket);
	*id = g_strdup(red.session_id);
	*ticket = g_strdup(red.ticket);
	ll_api_redeem_clear(&red);
	ll_api_pin_clear(&pin);
	ll_api_login_clear(&l);
	ll_api_client_free(c);
}

/* What on_failed saw: the reasons, in order. */
struct failures {
	GMutex lock;
	GPtrArray *reasons;
	atomic_int n;
};

static void on_failed(const char *type, const char *reason,
		      const struct ll_client_error *err, void *user)
{
	struct failures *f = user;

	g_assert_nonnull(type);
	g_assert_cmpint(err->code, <, 0);
	g_assert_cmpstr(err->message, !=, "");
	g_mutex_lock(&f->lock);
	g_ptr_array_add(f->reasons, g_strdup(reason));
	g_mutex_unlock(&f->lock);
	atomic_fetch_add(&f->n, 1);
}

static void failures_init(struct failures *f)
{
	g_mutex_init(&f->lock);
	f->reasons = g_ptr_array_new_with_free_func(g_free);
	atomic_init(&f->n, 0);
}

static void failures_clear(struct failures *f)
{
	g_ptr_array_unref(f->reasons);
	g_mutex_clear(&f->lock);
}

/*
 * The reasons of the session.event records of session `id` in the
 * relay's audit, in the audit's order (seq), as `audit export` gives
 * them; also checks each record's side and type against its reason.
 */
static GPtrArray *audit_reasons(const char *id)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	json_int_t last_seq = -1;
	guint i;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &text, NULL, "audit",
				     "export", "--format", "jsonl", NULL),
			==, 0);
	lines = g_strsplit(text, "\n", -1);
	for (i = 0; lines[i] != NULL; i++) {
		json_t *rec, *det;
		const char *reason, *type;

		if (lines[i][0] == '\0')
			continue;
		rec = json_loads(lines[i], 0, NULL);
		g_assert_nonnull(rec);
		/* The export is in the audit's order. */
		g_assert_cmpint(json_integer_value(
					json_object_get(rec, "seq")),
				>, last_seq);
		last_seq = json_integer_value(json_object_get(rec, "seq"));
		det = json_object_get(rec, "detail");
		if (g_strcmp0(json_string_value(json_object_get(rec, "action")),
			      "session.event") != 0 ||
		    g_strcmp0(json_string_value(
				      json_object_get(rec, "session_id")),
			      id) != 0) {
			json_decref(rec);
			continue;
		}
		g_assert_cmpstr(json_string_value(
					json_object_get(rec, "outcome")),
				==, "ok");
		g_assert_cmpstr(json_string_value(
					json_object_get(det, "side")),
				==, "applet");
		reason = json_string_value(json_object_get(det, "reason"));
		type = json_string_value(json_object_get(det, "type"));
		g_assert_nonnull(reason);
		g_assert_nonnull(type);
		g_assert_true(g_str_has_suffix(reason, type));
		g_ptr_array_add(out, g_strdup(reason));
		json_decref(rec);
	}
	return out;
}

/*
 * A consent and its revoke, N_PAIRS times as fast as they can be queued:
 * the audit must hold all of them in exactly that order.
 */
static void test_order(void)
{
	struct ll_reporter_opts ro = { 0 };
	struct ll_relay_opts o;
	struct ll_client_error e;
	struct ll_reporter *rep = NULL;
	struct failures f;
	g_autoptr(GPtrArray) sent = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) got = NULL;
	g_autofree char *id = NULL;
	char *ticket = NULL;
	guint i;

	session_new(&id, &ticket);
	failures_init(&f);
	relay_opts(&o);
	ro.queue_max = 2 * N_PAIRS;
	/* Far beyond what the burst needs: this test is about order. */
	ro.drain_ms = 120000;
	ro.on_failed = on_failed;
	ro.user = &f;
	g_assert_cmpint(ll_reporter_new(&o, id, ticket, &ro, &rep, &e), ==,
			LL_OK);
	ll_secret_free(ticket);
	for (i = 0; i < N_PAIRS; i++) {
		char *c = g_strdup_printf("pair %03u consent", i);
		char *r = g_strdup_printf("pair %03u revoke", i);

		g_assert_cmpint(ll_reporter_send(rep, "consent",
						 LL_CAP_VIEW | LL_CAP_CONTROL,
						 c),
				==, LL_OK);
		g_assert_cmpint(ll_reporter_send(rep, "revoke", LL_CAP_CONTROL,
						 r),
				==, LL_OK);
		g_ptr_array_add(sent, c);
		g_ptr_array_add(sent, r);
	}
	/* Sends all that is queued before it returns. */
	ll_reporter_free(rep);
	g_assert_cmpint(atomic_load(&f.n), ==, 0);

	got = audit_reasons(id);
	g_assert_cmpuint(got->len, ==, sent->len);
	for (i = 0; i < sent->len; i++)
		if (strcmp(g_ptr_array_index(got, i),
			   g_ptr_array_index(sent, i)) != 0)
			g_error("audit record %u of the session is \"%s\", "
				"sent as \"%s\": the order was not kept",
				i, (char *)g_ptr_array_index(got, i),
				(char *)g_ptr_array_index(sent, i));
	failures_clear(&f);
}

/* A TCP listener on 127.0.0.1 that never says a word. */
static int black_hole(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(listen(fd, 8), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &sl), ==, 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/*
 * A relay that accepts the connection and never answers: the queue holds
 * queue_max events besides the one in flight and refuses the next; _free
 * gives up after its drain time (this test is about that timeout, so it
 * measures time) and every event, the one in flight first, goes to
 * on_failed in order.
 */
static void test_bounded(void)
{
	struct ll_reporter_opts ro = { 0 };
	struct ll_relay_opts o;
	struct ll_client_error e;
	struct ll_reporter *rep = NULL;
	struct failures f;
	struct pollfd p;
	g_autofree char *url = NULL;
	int64_t t0, took;
	uint16_t port;
	int lfd, cfd;
	guint i;

	lfd = black_hole(&port);
	url = g_strdup_printf("https://127.0.0.1:%u", port);
	failures_init(&f);
	relay_opts(&o);
	o.url = url;
	/* Only the drain time may end the call in flight. */
	o.timeout_ms = 600000;
	o.connect_timeout_ms = 600000;
	ro.queue_max = 4;
	ro.drain_ms = 500;
	ro.on_failed = on_failed;
	ro.user = &f;
	g_assert_cmpint(ll_reporter_new(&o, "0123abcd", "not-a-ticket", &ro,
					&rep, &e),
			==, LL_OK);
	g_assert_cmpint(ll_reporter_send(rep, "consent", LL_CAP_VIEW,
					 "event 0"),
			==, LL_OK);
	/* The worker took it: its connection is here (and stays unread). */
	p.fd = lfd;
	p.events = POLLIN;
	g_assert_cmpint(poll(&p, 1, 20000), ==, 1);
	cfd = accept(lfd, NULL, NULL);
	g_assert_cmpint(cfd, >=, 0);
	for (i = 1; i <= 4; i++) {
		g_autofree char *r = g_strdup_printf("event %u", i);

		g_assert_cmpint(ll_reporter_send(rep, "revoke", LL_CAP_CONTROL,
						 r),
				==, LL_OK);
	}
	g_assert_cmpint(ll_reporter_send(rep, "ended", 0, "event 5"), ==,
			LL_ERR_TOO_LARGE);
	g_assert_cmpint(atomic_load(&f.n), ==, 0);

	t0 = lh_now_ms();
	ll_reporter_free(rep);
	took = lh_now_ms() - t0;
	g_test_message("_free took %" G_GINT64_FORMAT " ms", took);
	g_assert_cmpint(took, >=, 450);
	/* The drain time, then about a second for libcurl to notice. */
	g_assert_cmpint(took, <, 500 + 3000);

	g_assert_cmpint(atomic_load(&f.n), ==, 5);
	for (i = 0; i < 5; i++) {
		g_autofree char *r = g_strdup_printf("event %u", i);

		g_assert_cmpstr(g_ptr_array_index(f.reasons, i), ==, r);
	}
	close(cfd);
	close(lfd);
	failures_clear(&f);
}

static void test_args(void)
{
	struct ll_relay_opts o;
	struct ll_client_error e;
	struct ll_reporter *rep = NULL;

	relay_opts(&o);
	g_assert_cmpint(ll_reporter_new(NULL, "ab", "t", NULL, &rep, &e), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_reporter_new(&o, NULL, "t", NULL, &rep, &e), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_reporter_new(&o, "ab", NULL, NULL, &rep, &e), ==,
			LL_ERR_INVALID_ARG);
	g_assert_null(rep);
	o.url = "http://127.0.0.1:1";
	g_assert_cmpint(ll_reporter_new(&o, "ab", "t", NULL, &rep, &e), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpstr(e.message, !=, "");
	g_assert_null(rep);
	g_assert_cmpint(ll_reporter_send(NULL, "consent", 0, NULL), ==,
			LL_ERR_INVALID_ARG);
	ll_reporter_free(NULL);
}

int main(int argc, char **argv)
{
	int rc;

	lh_init(&argc, &argv);
	relay = lh_relay_new("reporter", NULL);
	lh_tech_add(relay, "alice", LH_CANARY_PASSWORD, false);
	lh_relay_start(relay);
	relay_url = g_strdup_printf("https://127.0.0.1:%u", relay->port);

	g_test_add_func("/client/reporter/order", test_order);
	g_test_add_func("/client/reporter/bounded", test_bounded);
	g_test_add_func("/client/reporter/args", test_args);
	rc = g_test_run();
	g_free(relay_url);
	lh_relay_free(relay);
	return rc;
}
