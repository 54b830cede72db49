/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The client layer (common/client) against a real lifeline-relay on
 * 127.0.0.1: API calls through libcurl with their error codes, streams
 * with TLS and ticket failures, and two session pumps in one GMainLoop
 * exchanging control messages and bridging channel 1 to socketpairs with
 * a slow reader that must hold the sender back; coming back with the
 * same tickets after a black hole past the dead line (ll_stream_reopen
 * and the relay's grace).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "ll_api_client.h"
#include "ll_buf.h"
#include "ll_control.h"
#include "ll_crypto.h"
#include "ll_frame.h"
#include "ll_mux.h"
#include "ll_session_io.h"
#include "ll_stream.h"
#include "ll_util.h"

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

static struct ll_api_client *client_new(const struct ll_relay_opts *o)
{
	struct ll_client_error e;
	struct ll_api_client *c = ll_api_client_new(o, &e);

	if (c == NULL)
		g_error("ll_api_client_new: %s", e.message);
	return c;
}

/* A logged-in technician client (alice). */
static struct ll_api_client *tech_client(void)
{
	struct ll_relay_opts o;
	struct ll_api_login l = { 0 };
	struct ll_client_error e;
	struct ll_api_client *c;

	relay_opts(&o);
	c = client_new(&o);
	if (ll_api_login(c, "alice", NULL, LH_CANARY_PASSWORD, &l, &e) != 0)
		g_error("login: %s", e.message);
	lh_secret("token", l.token);
	ll_api_login_clear(&l);
	return c;
}

/* A session: the PIN made by tech, redeemed by an applet client. */
struct sess {
	struct ll_api_pin pin;
	struct ll_api_redeem red;
};

static void sess_new(struct ll_api_client *tech, struct sess *s)
{
	struct ll_relay_opts o;
	struct ll_client_error e;
	struct ll_api_client *app;

	memset(s, 0, sizeof(*s));
	if (ll_api_pin_new(tech, NULL, &s->pin, &e) != 0)
		g_error("pin_new: %s", e.message);
	lh_secret("pin", s->pin.pin);
	lh_secret("ticket", s->pin.ticket);
	relay_opts(&o);
	app = client_new(&o);
	if (ll_api_pin_redeem(app, s->pin.pin, NULL, &s->red, &e) != 0)
		g_error("redeem: %s", e.message);
	lh_secret("ticket", s->red.ticket);
	g_assert_cmpstr(s->red.session_id, ==, s->pin.session_id);
	ll_api_client_free(app);
}

static void sess_clear(struct sess *s)
{
	ll_api_pin_clear(&s->pin);
	ll_api_redeem_clear(&s->red);
}

static struct ll_stream *stream_open(const char *ticket)
{
	struct ll_relay_opts o;
	struct ll_client_error e;
	struct ll_stream *st = NULL;

	relay_opts(&o);
	if (ll_stream_open(&o, NULL, ticket, &st, &e) != 0)
		g_error("stream_open: %s", e.message);
	return st;
}

/* A port on 127.0.0.1 where nothing listens (bound, then closed). */
static uint16_t dead_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &sl), ==, 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* ---------------------------------------------------------------- API */

static void test_api_calls(void)
{
	struct ll_relay_opts o;
	struct ll_api_login l = { 0 };
	struct ll_api_session_list list = { 0 };
	struct ll_client_error e;
	struct ll_api_client *c, *app;
	struct sess s;
	char *saved_token;
	bool found = false;
	size_t i;
	int r;

	relay_opts(&o);
	c = client_new(&o);
	g_assert_false(ll_api_client_has_token(c));

	/* Wrong password: 401 unauthorized, nothing filled. */
	r = ll_api_login(c, "alice", NULL, "not-the-password", &l, &e);
	g_assert_cmpint(r, ==, LL_ERR_AUTH_FAILED);
	g_assert_cmpint(e.code, ==, LL_ERR_AUTH_FAILED);
	g_assert_cmpint(e.http_status, ==, 401);
	g_assert_cmpstr(e.api_code, ==, "unauthorized");
	g_assert_cmpstr(e.message, !=, "");
	g_assert_null(l.token);

	/* Without a token the calls that need one refuse locally. */
	r = ll_api_pin_new(c, NULL, &s.pin, &e);
	g_assert_cmpint(r, ==, LL_ERR_AUTH_FAILED);
	g_assert_cmpint(e.http_status, ==, 0);

	r = ll_api_login(c, "alice", NULL, LH_CANARY_PASSWORD, &l, &e);
	g_assert_cmpint(r, ==, LL_OK);
	lh_secret("token", l.token);
	g_assert_true(ll_api_client_has_token(c));
	g_assert_cmpstr(l.technician.name, ==, "alice");
	g_assert_cmpstr(l.technician.org, ==, "default");
	g_assert_cmpint(l.technician.id, >, 0);
	g_assert_cmpint(l.expires_in, >, 0);
	g_assert_nonnull(l.technician.permissions);
	g_assert_true((l.technician.caps & LL_CAP_VIEW) != 0);
	saved_token = g_strdup(l.token);
	ll_api_login_clear(&l);

	sess_new(c, &s);
	g_assert_cmpuint(strlen(s.pin.pin), ==, 6);
	g_assert_cmpint(s.pin.expires_at_unix, >, ll_now_unix());
	g_assert_cmpstr(s.red.technician.name, ==, "alice");
	g_assert_cmpstr(s.red.stream_path, ==, "/api/v1/stream");
	g_assert_true((s.red.capabilities & LL_CAP_VIEW) != 0);

	/* A used PIN: pin_invalid (one code for every bad PIN). */
	app = client_new(&o);
	r = ll_api_pin_redeem(app, s.pin.pin, NULL, &s.red, &e);
	g_assert_cmpint(r, <, 0);
	g_assert_cmpstr(e.api_code, ==, "pin_invalid");
	g_assert_cmpint(e.http_status, >=, 400);
	g_assert_cmpint(e.http_status, <, 500);
	r = ll_api_pin_redeem(app, "12345", NULL, &s.red, &e);
	g_assert_cmpint(r, <, 0);
	g_assert_true(g_str_equal(e.api_code, "pin_invalid") ||
		      g_str_equal(e.api_code, "bad_request"));

	/* Events: the applet's ticket reports consent; a bad type is a
	 * bad_request. */
	r = ll_api_session_event(app, s.red.session_id, s.red.ticket,
				 "consent", LL_CAP_VIEW | LL_CAP_CONTROL,
				 "allowed at the dialog", &e);
	g_assert_cmpint(r, ==, LL_OK);
	r = ll_api_session_event(app, s.red.session_id, s.red.ticket, "bogus",
				 0, NULL, &e);
	g_assert_cmpint(r, ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(e.http_status, ==, 400);
	g_assert_cmpstr(e.api_code, ==, "bad_request");
	r = ll_api_session_event(c, s.red.session_id, NULL, "revoke",
				 LL_CAP_CONTROL, NULL, &e);
	g_assert_cmpint(r, ==, LL_OK);
	/* A path-changing id never reaches the relay. */
	r = ll_api_session_event(c, "../logout", NULL, "revoke", 0, NULL, &e);
	g_assert_cmpint(r, ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(e.http_status, ==, 0);

	r = ll_api_sessions_list(c, &list, &e);
	g_assert_cmpint(r, ==, LL_OK);
	for (i = 0; i < list.n_sessions; i++) {
		if (strcmp(list.sessions[i].session_id, s.pin.session_id) ==
		    0) {
			found = true;
			g_assert_cmpstr(list.sessions[i].state, ==, "waiting");
			g_assert_cmpint(list.sessions[i].created_at, >, 0);
		}
	}
	g_assert_true(found);
	ll_api_session_list_clear(&list);

	r = ll_api_session_delete(c, "0123456789abcdef", &e);
	g_assert_cmpint(r, ==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(e.http_status, ==, 404);
	g_assert_cmpstr(e.api_code, ==, "not_found");
	r = ll_api_session_delete(c, s.pin.session_id, &e);
	g_assert_cmpint(r, ==, LL_OK);

	/* Logout forgets the token; the old token is dead at the relay. */
	g_assert_cmpint(ll_api_logout(c, &e), ==, LL_OK);
	g_assert_false(ll_api_client_has_token(c));
	g_assert_cmpint(ll_api_client_set_token(c, saved_token), ==, LL_OK);
	r = ll_api_pin_new(c, NULL, &s.pin, &e);
	g_assert_cmpint(r, ==, LL_ERR_AUTH_FAILED);
	g_assert_cmpint(e.http_status, ==, 401);
	g_assert_cmpstr(e.api_code, ==, "unauthorized");

	g_free(saved_token);
	ll_api_client_free(app);
	ll_api_client_free(c);
	sess_clear(&s);
}

static void test_api_transport(void)
{
	struct ll_relay_opts o;
	struct ll_api_login l = { 0 };
	struct ll_client_error e;
	struct ll_api_client *c;
	g_autofree char *other_ca = NULL, *leaf = NULL, *key = NULL;
	g_autofree char *url = NULL, *want = NULL;
	char pin[128], bad_pin[128];
	int r;

	/* Bad URLs are refused before any connection. */
	relay_opts(&o);
	o.url = "http://127.0.0.1:1";
	g_assert_null(ll_api_client_new(&o, &e));
	g_assert_cmpint(e.code, ==, LL_ERR_INVALID_ARG);
	o.url = "https://127.0.0.1:1/api";
	g_assert_null(ll_api_client_new(&o, &e));
	g_assert_cmpint(e.code, ==, LL_ERR_INVALID_ARG);
	o.url = "https://user@127.0.0.1:1";
	g_assert_null(ll_api_client_new(&o, &e));
	g_assert_cmpint(e.code, ==, LL_ERR_INVALID_ARG);

	/* Nothing listening: a sentence naming the relay and the cause. */
	url = g_strdup_printf("https://127.0.0.1:%u", dead_port());
	relay_opts(&o);
	o.url = url;
	c = client_new(&o);
	r = ll_api_login(c, "alice", NULL, LH_CANARY_PASSWORD, &l, &e);
	g_assert_cmpint(r, ==, LL_ERR_IO);
	g_assert_cmpint(e.http_status, ==, 0);
	g_assert_cmpstr(e.api_code, ==, "");
	want = g_strdup_printf("could not connect to relay at %s: "
			       "Connection refused",
			       url);
	g_assert_cmpstr(e.message, ==, want);
	ll_api_client_free(c);

	/* A CA that did not sign the relay's certificate. */
	leaf = g_build_filename(relay->dir, "other-leaf.pem", NULL);
	key = g_build_filename(relay->dir, "other-leaf.key", NULL);
	lh_make_leaf(relay, leaf, key, &other_ca);
	relay_opts(&o);
	o.ca_file = other_ca;
	c = client_new(&o);
	r = ll_api_login(c, "alice", NULL, LH_CANARY_PASSWORD, &l, &e);
	g_assert_cmpint(r, ==, LL_ERR_TLS_VERIFY);
	g_test_message("wrong CA: %s", e.message);
	ll_api_client_free(c);
	/* The same with the system bundle kept (extra-anchor path). */
	o.no_system_cas = false;
	c = client_new(&o);
	r = ll_api_login(c, "alice", NULL, LH_CANARY_PASSWORD, &l, &e);
	g_assert_cmpint(r, ==, LL_ERR_TLS_VERIFY);
	ll_api_client_free(c);
	/* The right CA as an extra anchor next to the system bundle. */
	relay_opts(&o);
	o.no_system_cas = false;
	c = client_new(&o);
	r = ll_api_login(c, "alice", NULL, LH_CANARY_PASSWORD, &l, &e);
	g_assert_cmpint(r, ==, LL_OK);
	lh_secret("token", l.token);
	ll_api_login_clear(&l);
	ll_api_client_free(c);

	/* SPKI pin: the relay's key passes, another key fails. */
	g_assert_cmpint(ll_tls_cert_spki_pin(relay->cert_file, pin,
					     sizeof(pin)),
			==, 0);
	g_assert_cmpint(ll_tls_cert_spki_pin(leaf, bad_pin, sizeof(bad_pin)),
			==, 0);
	relay_opts(&o);
	o.spki_pin = pin;
	c = client_new(&o);
	r = ll_api_login(c, "alice", NULL, LH_CANARY_PASSWORD, &l, &e);
	g_assert_cmpint(r, ==, LL_OK);
	lh_secret("token", l.token);
	ll_api_login_clear(&l);
	ll_api_client_free(c);
	o.spki_pin = bad_pin;
	c = client_new(&o);
	r = ll_api_login(c, "alice", NULL, LH_CANARY_PASSWORD, &l, &e);
	g_assert_cmpint(r, ==, LL_ERR_TLS_VERIFY);
	g_test_message("wrong pin: %s", e.message);
	ll_api_client_free(c);
}

/* ------------------------------------------------------------- streams */

static void test_stream_errors(void)
{
	struct ll_api_client *tech = tech_client();
	struct ll_relay_opts o;
	struct ll_client_error e;
	struct ll_stream *st = NULL, *st2 = NULL;
	g_autofree char *other_ca = NULL, *leaf = NULL, *key = NULL;
	g_autofree char *url = NULL;
	char bad_pin[128];
	struct sess s;
	int r;

	sess_new(tech, &s);
	relay_opts(&o);

	/* A ticket the relay never issued: 401 with the API's code. */
	r = ll_stream_open(&o, NULL,
			   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &st,
			   &e);
	g_assert_cmpint(r, ==, LL_ERR_AUTH_FAILED);
	g_assert_cmpint(e.http_status, ==, 401);
	g_assert_cmpstr(e.api_code, ==, "unauthorized");
	g_assert_null(st);

	/* Wrong CA: a TLS verification error, no request sent. */
	leaf = g_build_filename(relay->dir, "other2-leaf.pem", NULL);
	key = g_build_filename(relay->dir, "other2-leaf.key", NULL);
	lh_make_leaf(relay, leaf, key, &other_ca);
	o.ca_file = other_ca;
	r = ll_stream_open(&o, NULL, s.red.ticket, &st, &e);
	g_assert_cmpint(r, ==, LL_ERR_TLS_VERIFY);
	g_assert_nonnull(strstr(e.message, "not trusted"));
	g_test_message("stream, wrong CA: %s", e.message);
	relay_opts(&o);
	g_assert_cmpint(ll_tls_cert_spki_pin(leaf, bad_pin, sizeof(bad_pin)),
			==, 0);
	o.spki_pin = bad_pin;
	r = ll_stream_open(&o, NULL, s.red.ticket, &st, &e);
	g_assert_cmpint(r, ==, LL_ERR_TLS_VERIFY);

	/* Nothing listening. */
	url = g_strdup_printf("https://127.0.0.1:%u", dead_port());
	relay_opts(&o);
	o.url = url;
	r = ll_stream_open(&o, NULL, s.red.ticket, &st, &e);
	g_assert_cmpint(r, ==, LL_ERR_IO);
	g_assert_nonnull(strstr(e.message, "Connection refused"));

	/* The real ticket works once; a second stream: 409 conflict. */
	relay_opts(&o);
	r = ll_stream_open(&o, s.red.stream_path, s.red.ticket, &st, &e);
	g_assert_cmpint(r, ==, LL_OK);
	g_assert_nonnull(st);
	r = ll_stream_open(&o, NULL, s.red.ticket, &st2, &e);
	g_assert_cmpint(r, ==, LL_ERR_CONFLICT);
	g_assert_cmpint(e.http_status, ==, 409);
	g_assert_cmpstr(e.api_code, ==, "conflict");
	g_assert_null(st2);
	ll_stream_free(st);

	ll_api_client_free(tech);
	sess_clear(&s);
}

/* ------------------------------------------------------- session pumps */

struct side {
	const char *name;
	enum ll_side role;
	struct ll_session_io *s;
	struct side *other;
	GMainLoop *loop;
	bool ready;
	bool got_hello;
	char *peer_name;
	int n_control;
	bool free_on_close;   /* ll_session_io_free inside on_closed */
	bool bridge_on_hello; /* applet: open + bridge channel 1 */
	bool bridge_on_open;  /* agent: bridge what the peer opens */
	uint32_t widen;       /* != 0: widen that channel to this first */
	int bridge_fd;        /* our end of the socketpair */
	int channel_closes;
	bool closed;
	enum ll_session_end why;
	int err;
	char reason[256];
	int64_t closed_at;
	size_t max_buffered;
	int tcp_fd;         /* the stream's socket */
	bool nest_on_hello; /* run a nested main loop in that callback */
};

static void maybe_quit(struct side *sd)
{
	if (sd->closed && sd->other->closed)
		g_main_loop_quit(sd->loop);
}

static void cb_ready(struct ll_session_io *s, void *user)
{
	struct side *sd = user;
	struct ll_control_msg m = { .type = LL_CONTROL_HELLO };

	sd->ready = true;
	g_assert_cmpint(ll_session_io_get_state(s), ==, LL_SESSION_IO_READY);
	m.u.hello.version = LL_CONTROL_VERSION;
	m.u.hello.role = sd->role;
	m.u.hello.name = (char *)sd->name;
	g_assert_cmpint(ll_session_io_send_control(s, &m), ==, LL_OK);
}

/*
 * What no callback may do: run a nested main loop.  The stream's source
 * may recurse (GLib would otherwise wake the loop twice a dispatch), so
 * its dispatch refuses to be entered again, says so once, and stops
 * polling until the outer dispatch is over (a ready socket would spin
 * this loop).  Here the peer sends a message once it is ready, and the
 * loop runs on until that message is on our socket and then some.
 */
static void nest(struct side *sd)
{
	struct pollfd p = { .fd = sd->tcp_fd, .events = POLLIN };
	struct pollfd q = { .fd = sd->other->tcp_fd, .events = POLLIN };
	gint64 deadline = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
	struct ll_control_msg poke = { .type = LL_CONTROL_CHAT };
	int i;

	poke.u.chat.text = (char *)"meanwhile";
	g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL,
			      "*nested main loop in its callback*");
	while (!sd->other->ready) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, FALSE);
		(void)poll(&q, 1, 10); /* the peer's socket */
	}
	g_assert_cmpint(ll_session_io_send_control(sd->other->s, &poke), ==,
			LL_OK);
	while (poll(&p, 1, 0) == 0) {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, FALSE);
		(void)poll(&p, 1, 10); /* our socket */
	}
	for (i = 0; i < 20; i++)
		g_main_context_iteration(NULL, FALSE);
	g_test_assert_expected_messages();
	g_assert_cmpint(sd->n_control, ==, 1); /* the HELLO only, so far */
}

static void cb_control(struct ll_session_io *s, const struct ll_control_msg *m,
		       void *user)
{
	struct side *sd = user;

	sd->n_control++;
	if (m->type == LL_CONTROL_HELLO) {
		g_assert_false(sd->got_hello);
		sd->got_hello = true;
		g_assert_cmpint(m->u.hello.role, ==, sd->other->role);
		sd->peer_name = g_strdup(m->u.hello.name);
		if (sd->nest_on_hello)
			nest(sd);
		if (sd->bridge_on_hello) {
			g_assert_cmpint(ll_session_io_channel_open(
						s, LL_MUX_CHANNEL_RFB),
					==, LL_OK);
			g_assert_cmpint(
				ll_session_io_bridge(s, LL_MUX_CHANNEL_RFB,
						     sd->bridge_fd),
				==, LL_OK);
			sd->bridge_fd = -1;
		}
	}
}

static void cb_open(struct ll_session_io *s, uint16_t ch, void *user)
{
	struct side *sd = user;

	g_assert_cmpint(ch, ==, LL_MUX_CHANNEL_RFB);
	if (sd->widen != 0) {
		g_assert_cmpint(ll_session_io_channel_widen(s, 0, sd->widen),
				==, LL_ERR_INVALID_ARG);
		g_assert_cmpint(ll_session_io_channel_widen(s, 9, sd->widen),
				==, LL_ERR_NOT_FOUND);
		g_assert_cmpint(ll_session_io_channel_widen(s, ch, 1024), ==,
				LL_ERR_INVALID_ARG);
		g_assert_cmpint(ll_session_io_channel_widen(s, ch, sd->widen),
				==, LL_OK);
	}
	if (sd->bridge_on_open) {
		g_assert_cmpint(ll_session_io_bridge(s, ch, sd->bridge_fd), ==,
				LL_OK);
		sd->bridge_fd = -1;
	}
}

static void cb_chclose(struct ll_session_io *s, uint16_t ch, void *user)
{
	struct side *sd = user;

	sd->channel_closes++;
}

static void cb_closed(struct ll_session_io *s, enum ll_session_end why,
		      int err, const char *reason, void *user)
{
	struct side *sd = user;

	g_assert_false(sd->closed); /* exactly once */
	g_assert_cmpint(ll_session_io_get_state(s), ==, LL_SESSION_IO_CLOSED);
	sd->closed = true;
	sd->why = why;
	sd->err = err;
	sd->closed_at = lh_now_ms();
	g_strlcpy(sd->reason, reason, sizeof(sd->reason));
	g_test_message("%s: closed (%s, %d): %s", sd->name,
		       ll_session_end_name(why), err, reason);
	if (sd->free_on_close) {
		ll_session_io_free(s);
		sd->s = NULL;
	}
	maybe_quit(sd);
}

static const struct ll_session_io_cbs test_cbs = {
	.on_ready = cb_ready,
	.on_control = cb_control,
	.on_channel_open = cb_open,
	.on_channel_close = cb_chclose,
	.on_closed = cb_closed,
};

static void side_start(struct side *sd, struct ll_stream *st,
		       enum ll_side mside)
{
	struct ll_session_io_opts o;

	ll_session_io_opts_default(&o);
	o.side = mside;
	sd->tcp_fd = ll_tls_conn_fd(st->conn);
	g_assert_cmpint(ll_session_io_new(st, &o, &test_cbs, sd, &sd->s), ==,
			LL_OK);
	g_assert_cmpint(ll_session_io_get_state(sd->s), ==,
			LL_SESSION_IO_HANDSHAKE);
}

static void pair_init(struct side *ag, struct side *ap, GMainLoop *loop)
{
	memset(ag, 0, sizeof(*ag));
	memset(ap, 0, sizeof(*ap));
	ag->name = "agent alice";
	ag->role = LL_SIDE_AGENT;
	ap->name = "applet";
	ap->role = LL_SIDE_APPLET;
	ag->other = ap;
	ap->other = ag;
	ag->loop = ap->loop = loop;
	ag->bridge_fd = ap->bridge_fd = -1;
}

static void side_clear(struct side *sd)
{
	ll_session_io_free(sd->s);
	if (sd->bridge_fd >= 0)
		close(sd->bridge_fd);
	g_free(sd->peer_name);
}

static gboolean loop_timeout(gpointer data)
{
	g_error("the session test took too long");
	return G_SOURCE_REMOVE;
}

/* Runs the loop until a test's callback quits it; failing after SECS
 * instead of hanging the suite. */
static void loop_run_guarded(GMainLoop *loop, guint secs)
{
	guint guard = g_timeout_add_seconds(secs, loop_timeout, NULL);

	g_main_loop_run(loop);
	g_source_remove(guard);
}

/* Both ends open their streams with the session's tickets (the agent
 * first, as the real ones do) and start their sessions. */
static void pair_start(struct side *ag, struct side *ap, const struct sess *s)
{
	side_start(ag, stream_open(s->pin.ticket), LL_SIDE_AGENT);
	side_start(ap, stream_open(s->red.ticket), LL_SIDE_APPLET);
}

/* ---- the transfer: seeded bytes, hashed on both ends ---- */

static void fill(uint64_t *state, uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		*state = *state * 6364136223846793005ULL +
			 1442695040888963407ULL;
		buf[i] = (uint8_t)(*state >> 56);
	}
}

static void hex(const uint8_t d[LL_SHA256_LEN], char out[65])
{
	size_t i;

	for (i = 0; i < LL_SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

struct xfer {
	int fd;
	uint64_t total; /* big direction: applet -> agent */
	uint64_t small; /* agent -> applet first */
	atomic_uint_least64_t written;
	atomic_uint_least64_t readn;
	atomic_bool done;
	/* slow reader: pause after pause_at bytes for pause_ms */
	uint64_t pause_at;
	unsigned pause_ms;
	uint64_t written_at_pause_start;
	uint64_t written_at_pause_end;
	uint64_t read_at_pause;
	struct xfer *peer; /* to watch the writer's progress */
	char sha_sent[65];
	char sha_recv[65];
	char err[128];
};

static bool write_all_fd(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Reads exactly len bytes (hashing), or until EOF; returns bytes read. */
static uint64_t read_hash(struct xfer *x, struct ll_sha256_ctx *h,
			  uint64_t len, size_t chunk, unsigned sleep_us)
{
	uint8_t buf[65536];
	uint64_t got = 0;
	ssize_t n;

	while (got < len) {
		size_t want = MIN((uint64_t)MIN(chunk, sizeof(buf)),
				  len - got);
		bool pause = x->pause_ms > 0 && x->pause_at > 0 &&
			     atomic_load(&x->readn) >= x->pause_at &&
			     x->written_at_pause_start == 0;
		gulong us = pause ? (gulong)x->pause_ms * 1000 : sleep_us;

		if (pause) {
			x->read_at_pause = atomic_load(&x->readn);
			x->written_at_pause_start = atomic_load(
				&x->peer->written);
		}
		/* Time itself is under test: a reader slower than the
		 * writer (sleep_us between reads), and one long pause
		 * during which credit, not speed, must hold the writer
		 * back. */
		if (us > 0)
			g_usleep(us);
		if (pause)
			x->written_at_pause_end = atomic_load(
				&x->peer->written);
		n = read(x->fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		ll_sha256_update(h, buf, (size_t)n);
		got += (uint64_t)n;
		atomic_fetch_add(&x->readn, (uint64_t)n);
	}
	return got;
}

/* Applet end: read the small request, send the big stream, shut down our
 * write side, then wait for EOF (the channel's close). */
static gpointer applet_thread(gpointer data)
{
	struct xfer *x = data;
	struct ll_sha256_ctx *hs = ll_sha256_new(), *hr = ll_sha256_new();
	uint8_t d[LL_SHA256_LEN], buf[65536], junk[256];
	uint64_t st = 0xa991e7, left = x->total;

	if (read_hash(x, hr, x->small, sizeof(buf), 0) != x->small) {
		g_strlcpy(x->err, "short request", sizeof(x->err));
		goto out;
	}
	while (left > 0) {
		size_t n = (size_t)MIN((uint64_t)sizeof(buf), left);

		fill(&st, buf, n);
		ll_sha256_update(hs, buf, n);
		if (!write_all_fd(x->fd, buf, n)) {
			g_snprintf(x->err, sizeof(x->err), "write: %s",
				   g_strerror(errno));
			goto out;
		}
		left -= n;
		atomic_fetch_add(&x->written, (uint64_t)n);
	}
	shutdown(x->fd, SHUT_WR);
	while (read(x->fd, junk, sizeof(junk)) > 0)
		;
out:
	ll_sha256_final(hs, d);
	hex(d, x->sha_sent);
	ll_sha256_final(hr, d);
	hex(d, x->sha_recv);
	ll_sha256_free(hs);
	ll_sha256_free(hr);
	atomic_store(&x->done, true);
	return NULL;
}

/* Agent end: send the small request, read the big stream slowly (with
 * one long pause), expect EOF right after it. */
static gpointer agent_thread(gpointer data)
{
	struct xfer *x = data;
	struct ll_sha256_ctx *hs = ll_sha256_new(), *hr = ll_sha256_new();
	uint8_t d[LL_SHA256_LEN], buf[65536], extra;
	uint64_t st = 0xa9e47, got;

	g_assert_cmpuint(x->small, <=, sizeof(buf));
	fill(&st, buf, (size_t)x->small);
	ll_sha256_update(hs, buf, (size_t)x->small);
	if (!write_all_fd(x->fd, buf, (size_t)x->small)) {
		g_strlcpy(x->err, "request write failed", sizeof(x->err));
		goto out;
	}
	atomic_fetch_add(&x->written, x->small);
	/* 16 KiB reads with a pause between: a reader slower than the
	 * writer, so that credit, not speed, decides. */
	got = read_hash(x, hr, x->total, 16384, 200);
	if (got != x->total)
		g_snprintf(x->err, sizeof(x->err),
			   "read %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT,
			   got, x->total);
	else if (read(x->fd, &extra, 1) != 0)
		g_strlcpy(x->err, "no EOF after the stream", sizeof(x->err));
out:
	ll_sha256_final(hs, d);
	hex(d, x->sha_sent);
	ll_sha256_final(hr, d);
	hex(d, x->sha_recv);
	ll_sha256_free(hs);
	ll_sha256_free(hr);
	atomic_store(&x->done, true);
	return NULL;
}

struct watch {
	struct side *ag, *ap;
	struct xfer *xa, *xp;
	bool ended;
	int64_t end_called_at;
};

static gboolean watch_tick(gpointer data)
{
	struct watch *w = data;

	if (w->ag->s != NULL && !w->ag->closed)
		w->ag->max_buffered = MAX(w->ag->max_buffered,
					  ll_session_io_buffered(w->ag->s));
	if (w->ap->s != NULL && !w->ap->closed)
		w->ap->max_buffered = MAX(w->ap->max_buffered,
					  ll_session_io_buffered(w->ap->s));
	if (!w->ended && atomic_load(&w->xa->done) &&
	    atomic_load(&w->xp->done)) {
		/* Both ends done: the applet ends the session. */
		w->ended = true;
		w->end_called_at = lh_now_ms();
		g_assert_cmpint(ll_session_io_end(w->ap->s, "user ended"), ==,
				LL_OK);
		g_assert_cmpint(ll_session_io_get_state(w->ap->s), ==,
				LL_SESSION_IO_ENDING);
		g_assert_cmpint(ll_session_io_end(w->ap->s, "again"), ==,
				LL_ERR_CLOSED);
	}
	return G_SOURCE_CONTINUE;
}

static void test_session_transfer(void)
{
	struct ll_api_client *tech = tech_client();
	uint64_t total = (uint64_t)lh_env_int("LL_TEST_CLIENT_MIB", 32) *
			 LH_MIB;
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	struct side ag, ap;
	struct xfer xa = { 0 }, xp = { 0 };
	struct watch w = { 0 };
	int spa[2], spp[2];
	GThread *ta, *tp;
	guint tick, guard;
	int64_t t0, ms;
	struct sess s;

	sess_new(tech, &s);
	pair_init(&ag, &ap, loop);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				   spa),
			==, 0);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				   spp),
			==, 0);
	ag.bridge_fd = spa[0];
	ag.bridge_on_open = true;
	/* A wide channel (as files get): the bridge must hold a whole
	 * window of it while its reader pauses (no "bridge buffer
	 * overflow"), and the backpressure below still holds. */
	ag.widen = 1024 * 1024;
	ap.bridge_fd = spp[0];
	ap.bridge_on_hello = true;

	pair_start(&ag, &ap, &s);

	xa.fd = spa[1];
	xa.total = total;
	xa.small = 60000;
	xa.pause_at = 2 * LH_MIB;
	xa.pause_ms = 1500;
	xa.peer = &xp;
	xp.fd = spp[1];
	xp.total = total;
	xp.small = 60000;
	xp.peer = &xa;
	t0 = lh_now_ms();
	ta = g_thread_new("agent-end", agent_thread, &xa);
	tp = g_thread_new("applet-end", applet_thread, &xp);

	w.ag = &ag;
	w.ap = &ap;
	w.xa = &xa;
	w.xp = &xp;
	tick = g_timeout_add(20, watch_tick, &w);
	guard = g_timeout_add_seconds(120, loop_timeout, NULL);
	g_main_loop_run(loop);
	g_source_remove(tick);
	g_source_remove(guard);
	g_thread_join(ta);
	g_thread_join(tp);
	ms = MAX(lh_now_ms() - t0, 1);
	g_test_message(
		"%" G_GUINT64_FORMAT
		" MiB through two pumps in %" G_GINT64_FORMAT
		" ms; max buffered agent %zu, applet "
		"%zu; during the 1.5 s pause the writer moved %" G_GUINT64_FORMAT
		" KiB, %" G_GUINT64_FORMAT " KiB ahead of the reader",
		total / LH_MIB, ms, ag.max_buffered, ap.max_buffered,
		(xa.written_at_pause_end - xa.written_at_pause_start) / 1024,
		(xa.written_at_pause_end - xa.read_at_pause) / 1024);

	g_assert_cmpstr(xa.err, ==, "");
	g_assert_cmpstr(xp.err, ==, "");
	/* Control hellos crossed. */
	g_assert_true(ag.ready && ap.ready);
	g_assert_true(ag.got_hello && ap.got_hello);
	g_assert_cmpstr(ag.peer_name, ==, "applet");
	g_assert_cmpstr(ap.peer_name, ==, "agent alice");
	/* The bytes arrived intact both ways. */
	g_assert_cmpstr(xa.sha_sent, ==, xp.sha_recv);
	g_assert_cmpstr(xp.sha_sent, ==, xa.sha_recv);
	/* Backpressure: while the reader slept, the writer got at most a
	 * few windows and socket buffers ahead, far from the whole. */
	g_assert_cmpuint(xa.read_at_pause, >=, xa.pause_at);
	g_assert_cmpuint(xa.written_at_pause_end, >=, xa.read_at_pause);
	g_assert_cmpuint(xa.written_at_pause_end - xa.read_at_pause, <,
			 4 * LH_MIB);
	g_assert_cmpuint(xa.written_at_pause_end, <, total);
	/* The pumps' own buffers stayed bounded. */
	g_assert_cmpuint(ag.max_buffered, <, 2 * LH_MIB);
	g_assert_cmpuint(ap.max_buffered, <, 3 * LH_MIB);
	/* The channel closed on EOF at the applet, seen by the agent. */
	g_assert_cmpint(ap.channel_closes, ==, 1);
	g_assert_cmpint(ag.channel_closes, ==, 1);
	/* The orderly end reached the other side, with its reason. */
	g_assert_cmpint(ap.why, ==, LL_SESSION_END_LOCAL);
	g_assert_cmpint(ap.err, ==, LL_OK);
	g_assert_cmpstr(ap.reason, ==, "user ended");
	g_assert_cmpint(ag.why, ==, LL_SESSION_END_PEER);
	g_assert_cmpstr(ag.reason, ==, "user ended");
	g_assert_cmpint(ag.closed_at - w.end_called_at, <=, 2000);
	g_assert_cmpint(ap.closed_at - w.end_called_at, <=, 2000);

	side_clear(&ag);
	side_clear(&ap);
	g_main_loop_unref(loop);
	ll_api_client_free(tech);
	sess_clear(&s);
}

/* ---- endings ---- */

static gboolean close_when_ready(gpointer data)
{
	struct side *sd = data;

	if (!sd->got_hello || !sd->other->got_hello)
		return G_SOURCE_CONTINUE;
	sd->closed_at = lh_now_ms(); /* reused: time of the close call */
	ll_session_io_close(sd->s, "test hard close");
	/* A closed session refuses new work. */
	g_assert_cmpint(
		ll_session_io_send_control(sd->s,
					   &(struct ll_control_msg){
						   .type = LL_CONTROL_DENY }),
		==, LL_ERR_CLOSED);
	return G_SOURCE_REMOVE;
}

struct del_ctx {
	struct side *ag;
	struct ll_api_client *tech;
	const char *id;
	int64_t at;
};

static gboolean delete_when_ready(gpointer data)
{
	struct del_ctx *d = data;
	struct ll_client_error e;

	if (!d->ag->got_hello || !d->ag->other->got_hello)
		return G_SOURCE_CONTINUE;
	d->at = lh_now_ms();
	/* Blocking in the loop is fine for a test. */
	g_assert_cmpint(ll_api_session_delete(d->tech, d->id, &e), ==, LL_OK);
	return G_SOURCE_REMOVE;
}

static void test_session_endings(void)
{
	struct ll_api_client *tech = tech_client();
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	struct side ag, ap;
	struct del_ctx d = { 0 };
	struct sess s;
	int64_t t_close;

	/* 1. A hard close on the applet: the agent sees the stream lost. */
	sess_new(tech, &s);
	pair_init(&ag, &ap, loop);
	ap.free_on_close = true; /* freeing inside on_closed is safe */
	pair_start(&ag, &ap, &s);
	g_timeout_add(10, close_when_ready, &ap);
	loop_run_guarded(loop, 30);
	t_close = ap.closed_at; /* on_closed overwrote it: both are close */
	g_assert_null(ap.s);
	g_assert_cmpint(ap.why, ==, LL_SESSION_END_ERROR);
	g_assert_cmpint(ap.err, ==, LL_ERR_CLOSED);
	g_assert_cmpint(ag.why, ==, LL_SESSION_END_LOST);
	g_assert_cmpint(ag.closed_at - t_close, <=, 2000);
	side_clear(&ag);
	side_clear(&ap);
	sess_clear(&s);

	/* 2. DELETE at the API closes both streams. */
	sess_new(tech, &s);
	pair_init(&ag, &ap, loop);
	pair_start(&ag, &ap, &s);
	d.ag = &ag;
	d.tech = tech;
	d.id = s.pin.session_id;
	g_timeout_add(10, delete_when_ready, &d);
	loop_run_guarded(loop, 30);
	g_assert_cmpint(ag.why, ==, LL_SESSION_END_LOST);
	g_assert_cmpint(ap.why, ==, LL_SESSION_END_LOST);
	g_assert_cmpint(ag.closed_at - d.at, <=, 2000);
	g_assert_cmpint(ap.closed_at - d.at, <=, 2000);
	side_clear(&ag);
	side_clear(&ap);
	sess_clear(&s);

	/* 3. Freeing a live session: no callback, nothing leaks; the peer
	 * sees the stream lost. */
	sess_new(tech, &s);
	pair_init(&ag, &ap, loop);
	pair_start(&ag, &ap, &s);
	ll_session_io_free(ap.s);
	ap.s = NULL;
	ap.closed = true; /* for maybe_quit: it will never call */
	loop_run_guarded(loop, 30);
	g_assert_cmpint(ag.why, ==, LL_SESSION_END_LOST);
	side_clear(&ag);
	side_clear(&ap);
	sess_clear(&s);

	/* 4. The other side never comes: the HELLO timeout ends it. */
	sess_new(tech, &s);
	pair_init(&ag, &ap, loop);
	{
		struct ll_session_io_opts o;

		ll_session_io_opts_default(&o);
		o.side = LL_SIDE_AGENT;
		o.hello_timeout_ms = 300;
		g_assert_cmpint(ll_session_io_new(stream_open(s.pin.ticket),
						  &o, &test_cbs, &ag, &ag.s),
				==, LL_OK);
	}
	ap.closed = true;
	t_close = lh_now_ms();
	loop_run_guarded(loop, 30);
	g_assert_cmpint(ag.why, ==, LL_SESSION_END_ERROR);
	g_assert_cmpint(ag.err, ==, LL_ERR_TIMEOUT);
	g_assert_false(ag.ready);
	g_assert_cmpint(ag.closed_at - t_close, >=, 250);
	g_assert_cmpint(ag.closed_at - t_close, <=, 2500);
	side_clear(&ag);
	side_clear(&ap);
	sess_clear(&s);

	g_main_loop_unref(loop);
	ll_api_client_free(tech);
}

static gboolean quit_when_poked(gpointer data)
{
	struct side *sd = data;

	if (sd->n_control < 2)
		return G_SOURCE_CONTINUE;
	g_main_loop_quit(sd->loop);
	return G_SOURCE_REMOVE;
}

/* A callback that runs a nested main loop (nest) is refused there, and
 * the session goes on: the message that came meanwhile arrives after. */
static void test_session_nested_loop(void)
{
	struct ll_api_client *tech = tech_client();
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	struct side ag, ap;
	struct sess s;

	sess_new(tech, &s);
	pair_init(&ag, &ap, loop);
	ap.nest_on_hello = true;
	pair_start(&ag, &ap, &s);
	g_timeout_add(10, quit_when_poked, &ap);
	loop_run_guarded(loop, 30);
	g_assert_true(ap.got_hello);
	g_assert_cmpint(ap.n_control, ==, 2);
	g_assert_cmpint(ll_session_io_get_state(ap.s), ==,
			LL_SESSION_IO_READY);
	side_clear(&ag);
	side_clear(&ap);
	sess_clear(&s);
	g_main_loop_unref(loop);
	ll_api_client_free(tech);
}

/* ---- a hostile peer: raw frames on the agent's stream ---- */

static void test_malformed_control(void)
{
	struct ll_api_client *tech = tech_client();
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	struct ll_frame_hello h = { .version = LL_FRAME_VERSION,
				    .max_payload = LL_FRAME_MAX_PAYLOAD,
				    .initial_window = 65536 };
	static const uint8_t bad[] = { 0, 0, 0, 5, '{', 'b', 'a', 'd', '}' };
	struct ll_stream *raw;
	struct ll_buf *out = ll_buf_new(4096);
	struct ll_mux_config mc;
	struct ll_mux *m;
	struct ll_mux_event ev;
	struct side ag, ap;
	uint8_t buf[8192];
	size_t len = 0, n, off;
	struct pollfd p;
	bool saw_error = false;
	struct sess s;
	int r;

	sess_new(tech, &s);
	pair_init(&ag, &ap, loop);
	raw = stream_open(s.pin.ticket);
	side_start(&ap, stream_open(s.red.ticket), LL_SIDE_APPLET);
	ag.closed = true; /* the raw side has no pump */

	g_assert_cmpint(ll_frame_put_hello(out, &h), ==, 0);
	g_assert_cmpint(ll_frame_put_data(out, 0, bad, sizeof(bad)), ==, 0);
	g_assert_cmpint(ll_tls_write_all(raw->conn, ll_buf_data(out),
					 ll_buf_len(out)),
			==, 0);
	loop_run_guarded(loop, 30);
	g_assert_cmpint(ap.why, ==, LL_SESSION_END_ERROR);
	g_assert_cmpint(ap.err, ==, LL_ERR_BAD_JSON);
	g_assert_nonnull(strstr(ap.reason, "malformed control message"));

	/* The raw side got the applet's HELLO and then an ERROR frame. */
	ll_mux_config_default(&mc);
	mc.side = LL_SIDE_AGENT;
	m = ll_mux_new(&mc);
	p.fd = ll_tls_conn_fd(raw->conn);
	p.events = POLLIN;
	if (raw->extra_len > 0) {
		memcpy(buf, raw->extra, raw->extra_len);
		len = raw->extra_len;
	}
	for (;;) {
		r = ll_tls_conn_read(raw->conn, buf + len, sizeof(buf) - len,
				     &n);
		if (r == LL_OK) {
			len += n;
			continue;
		}
		if (r == LL_ERR_WANT_READ && poll(&p, 1, 5000) == 1)
			continue;
		break;
	}
	for (off = 0; off < len;) {
		r = ll_mux_feed(m, buf + off, len - off, &ev);
		if (r <= 0)
			break;
		off += (size_t)r;
		if (ev.type == LL_MUX_EV_ERROR) {
			saw_error = true;
			g_assert_cmpint(ev.u.error.err, ==, LL_ERR_BAD_JSON);
		}
	}
	g_assert_true(saw_error);
	ll_mux_free(m);
	ll_buf_free(out);
	ll_stream_free(raw);
	side_clear(&ap);
	side_clear(&ag);
	sess_clear(&s);
	g_main_loop_unref(loop);
	ll_api_client_free(tech);
}

/*
 * A one-time password through the client: login says
 * password_change_required, other calls are refused with that code,
 * ll_api_password_change gets the technician out (a wrong old password
 * is refused first), and the token works on.
 */
static void test_password_change(void)
{
	g_autofree char *out = NULL, *err = NULL, *otp = NULL;
	struct ll_relay_opts o;
	struct ll_api_login l = { 0 };
	struct ll_api_session_list sl = { 0 };
	struct ll_client_error e;
	struct ll_api_client *c;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, &err, "technician",
				     "add", "olga", NULL),
			==, 0);
	otp = g_strstrip(g_strdup(out));
	lh_secret("password", otp);
	lh_secret("password", "Olga-Chose-This-1");
	relay_opts(&o);
	c = client_new(&o);
	g_assert_cmpint(ll_api_login(c, "olga", NULL, otp, &l, &e), ==, 0);
	lh_secret("token", l.token);
	g_assert_true(l.password_change_required);
	ll_api_login_clear(&l);

	g_assert_cmpint(ll_api_sessions_list(c, &sl, &e), ==,
			LL_ERR_AUTH_FAILED);
	g_assert_cmpint(e.http_status, ==, 403);
	g_assert_cmpstr(e.api_code, ==, "password_change_required");
	g_assert_cmpint(ll_api_password_change(c, "Not-The-Otp-00",
					       "Olga-Chose-This-1", &e),
			==, LL_ERR_AUTH_FAILED);
	g_assert_cmpstr(e.api_code, ==, "forbidden");
	g_assert_cmpint(ll_api_password_change(c, otp, "Tiny7", &e), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpstr(e.api_code, ==, "bad_request");
	g_assert_cmpint(ll_api_password_change(c, otp, "Olga-Chose-This-1",
					       &e),
			==, 0);
	g_assert_cmpint(ll_api_sessions_list(c, &sl, &e), ==, 0);
	ll_api_session_list_clear(&sl);
	g_assert_cmpint(ll_api_login(c, "olga", NULL, "Olga-Chose-This-1", &l,
				     &e),
			==, 0);
	lh_secret("token", l.token);
	g_assert_false(l.password_change_required);
	ll_api_login_clear(&l);
	ll_api_client_free(c);
}

/* ---- liveness: a black hole between the applet's end and the relay ---- */

struct live {
	const char *name;
	GMainLoop *loop;
	bool ready, stalled, closed;
	int stalls, resumes;
	enum ll_session_end why;
};

static void live_ready(struct ll_session_io *s, void *user)
{
	((struct live *)user)->ready = true;
	g_main_loop_quit(((struct live *)user)->loop);
}

static void live_stall(struct ll_session_io *s, bool stalled, void *user)
{
	struct live *l = user;

	g_assert_true(l->stalled != stalled);
	g_assert_true(ll_session_io_stalled(s) == stalled);
	l->stalled = stalled;
	if (stalled)
		l->stalls++;
	else
		l->resumes++;
	g_test_message("%s: %s", l->name, stalled ? "stalled" : "live again");
	g_main_loop_quit(l->loop);
}

static void live_closed(struct ll_session_io *s, enum ll_session_end why,
			int err, const char *reason, void *user)
{
	struct live *l = user;

	l->closed = true;
	l->why = why;
	g_test_message("%s: closed (%s): %s", l->name,
		       ll_session_end_name(why), reason);
	g_main_loop_quit(l->loop);
}

static gboolean live_deadline(gpointer data)
{
	*(bool *)data = true;
	return G_SOURCE_REMOVE;
}

/* Runs the loop until both sides' field is want, within timeout_ms. */
static bool live_until(struct live *a, struct live *b, size_t field, bool want,
		       int timeout_ms)
{
	bool late = false;
	guint t = g_timeout_add((guint)timeout_ms, live_deadline, &late);

	while (!late && (*(bool *)((char *)a + field) != want ||
			 *(bool *)((char *)b + field) != want))
		g_main_context_iteration(NULL, TRUE);
	if (!late)
		g_source_remove(t);
	return !late;
}

static void proxy_say(int in, int out, const char *cmd, char *ans, size_t len)
{
	struct pollfd p = { .fd = out, .events = POLLIN };
	size_t n = 0;
	char c;

	if (cmd != NULL)
		g_assert_cmpint(write(in, cmd, strlen(cmd)), ==,
				(gssize)strlen(cmd));
	while (n + 1 < len) {
		g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
		g_assert_cmpint(read(out, &c, 1), ==, 1);
		if (c == '\n')
			break;
		ans[n++] = c;
	}
	ans[n] = '\0';
}

/* Starts ll-pause-proxy in front of the relay: its URL (g_free). */
static char *proxy_spawn(GPid *pid, int *pin, int *pout)
{
	char port[16], ans[64];
	char *argv[] = { (char *)g_getenv("LL_PAUSE_PROXY"), "127.0.0.1", port,
			 NULL };
	unsigned n = 0;

	g_assert_nonnull(argv[0]);
	g_snprintf(port, sizeof(port), "%u", relay->port);
	g_assert_true(g_spawn_async_with_pipes(NULL, argv, NULL,
					       G_SPAWN_DO_NOT_REAP_CHILD, NULL,
					       NULL, pid, pin, pout, NULL,
					       NULL));
	proxy_say(*pin, *pout, NULL, ans, sizeof(ans));
	g_assert_cmpint(sscanf(ans, "port %u", &n), ==, 1);
	return g_strdup_printf("https://127.0.0.1:%u", n);
}

static void proxy_quit(GPid pid, int pin, int pout)
{
	char ans[64];

	proxy_say(pin, pout, "quit\n", ans, sizeof(ans));
	close(pin);
	close(pout);
	/* it exits once it said "ok quit" */
	g_assert_cmpint(waitpid(pid, NULL, 0), ==, pid);
}

/* The liveness tests' short timers: a ping every 200 ms, a stall after
 * 700 ms of silence, the end after dead_ms (-1: never). */
static void live_opts(struct ll_session_io_opts *o, int dead_ms)
{
	ll_session_io_opts_default(o);
	o->ping_interval_ms = 200;
	o->stall_ms = 700;
	o->dead_ms = dead_ms;
}

/*
 * Session s's two ends with o and cbs, both ready: the agent's straight
 * to the relay, the applet's through the proxy at purl (with *ro, the
 * relay options it used).
 */
static void live_pair_proxied(struct sess *s, const char *purl,
			      struct ll_session_io_opts *o,
			      const struct ll_session_io_cbs *cbs,
			      struct live *ag, struct live *ap,
			      struct ll_relay_opts *ro,
			      struct ll_session_io **sag,
			      struct ll_session_io **sap)
{
	struct ll_client_error e;
	struct ll_stream *st = NULL;

	o->side = LL_SIDE_AGENT;
	g_assert_cmpint(ll_session_io_new(stream_open(s->pin.ticket), o, cbs,
					  ag, sag),
			==, LL_OK);
	relay_opts(ro);
	ro->url = purl;
	if (ll_stream_open(ro, NULL, s->red.ticket, &st, &e) != 0)
		g_error("stream through the proxy: %s", e.message);
	o->side = LL_SIDE_APPLET;
	g_assert_cmpint(ll_session_io_new(st, o, cbs, ap, sap), ==, LL_OK);
	g_assert_true(
		live_until(ag, ap, offsetof(struct live, ready), true, 10000));
}

/*
 * The pump's liveness (ll_session_io.h) with short figures: an idle
 * session stays live on its pings alone; a black hole (ll-pause-proxy
 * paused) is a stall on both sides, traffic again ends it, and a longer
 * one ends the session on both sides as SILENT.
 */
static void test_session_stall(void)
{
	static const struct ll_session_io_cbs cbs = {
		.on_ready = live_ready,
		.on_stall = live_stall,
		.on_closed = live_closed,
	};
	struct ll_api_client *tech = tech_client();
	char ans[64];
	g_autofree char *purl = NULL;
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	struct live ag = { .name = "agent", .loop = loop };
	struct live ap = { .name = "applet", .loop = loop };
	struct ll_session_io *sag = NULL, *sap = NULL;
	struct ll_session_io_opts o;
	struct ll_relay_opts ro;
	struct sess s;
	GPid pid;
	int pin, pout;
	bool quiet;
	guint t;

	purl = proxy_spawn(&pid, &pin, &pout);
	sess_new(tech, &s);
	live_opts(&o, 2000);
	live_pair_proxied(&s, purl, &o, &cbs, &ag, &ap, &ro, &sag, &sap);

	/* Idle but alive: the pings alone keep it so.  Time itself is
	 * under test: five stall periods without a stall. */
	quiet = false;
	t = g_timeout_add(3500, live_deadline, &quiet);
	while (!quiet && ag.stalls == 0 && ap.stalls == 0)
		g_main_context_iteration(NULL, TRUE);
	if (!quiet)
		g_source_remove(t);
	g_assert_cmpint(ag.stalls, ==, 0);
	g_assert_cmpint(ap.stalls, ==, 0);

	proxy_say(pin, pout, "pause\n", ans, sizeof(ans));
	g_assert_cmpstr(ans, ==, "ok pause");
	g_assert_true(live_until(&ag, &ap, offsetof(struct live, stalled),
				 true, 5000));
	g_assert_cmpint(ll_session_io_get_state(sag), ==, LL_SESSION_IO_READY);
	g_assert_cmpint(ll_session_io_get_state(sap), ==, LL_SESSION_IO_READY);
	proxy_say(pin, pout, "resume\n", ans, sizeof(ans));
	g_assert_true(live_until(&ag, &ap, offsetof(struct live, stalled),
				 false, 5000));
	g_assert_false(ag.closed || ap.closed);

	proxy_say(pin, pout, "pause\n", ans, sizeof(ans));
	g_assert_true(live_until(&ag, &ap, offsetof(struct live, closed), true,
				 10000));
	g_assert_cmpint(ag.why, ==, LL_SESSION_END_SILENT);
	g_assert_cmpint(ap.why, ==, LL_SESSION_END_SILENT);
	g_assert_cmpint(ag.stalls, ==, 2);
	g_assert_cmpint(ap.stalls, ==, 2);

	proxy_quit(pid, pin, pout);
	ll_session_io_free(sag);
	ll_session_io_free(sap);
	sess_clear(&s);
	ll_api_client_free(tech);
	g_main_loop_unref(loop);
}

/*
 * A frozen relay (SIGSTOP: its sockets stay open, nothing moves): both
 * ends notice the stall on their own, and go on once it runs again.
 */
static void test_session_frozen_relay(void)
{
	static const struct ll_session_io_cbs cbs = {
		.on_ready = live_ready,
		.on_stall = live_stall,
		.on_closed = live_closed,
	};
	struct ll_api_client *tech = tech_client();
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	struct live ag = { .name = "agent", .loop = loop };
	struct live ap = { .name = "applet", .loop = loop };
	struct ll_session_io *sag = NULL, *sap = NULL;
	struct ll_session_io_opts o;
	struct sess s;
	bool ok;

	sess_new(tech, &s);
	live_opts(&o, -1); /* this test ends it */
	o.side = LL_SIDE_AGENT;
	g_assert_cmpint(ll_session_io_new(stream_open(s.pin.ticket), &o, &cbs,
					  &ag, &sag),
			==, LL_OK);
	o.side = LL_SIDE_APPLET;
	g_assert_cmpint(ll_session_io_new(stream_open(s.red.ticket), &o, &cbs,
					  &ap, &sap),
			==, LL_OK);
	g_assert_true(live_until(&ag, &ap, offsetof(struct live, ready), true,
				 10000));
	lh_relay_signal(relay, SIGSTOP);
	ok = live_until(&ag, &ap, offsetof(struct live, stalled), true, 5000);
	/* the relay runs again whatever happened, for the other tests */
	lh_relay_signal(relay, SIGCONT);
	g_assert_true(ok);
	g_assert_true(live_until(&ag, &ap, offsetof(struct live, stalled),
				 false, 5000));
	g_assert_false(ag.closed || ap.closed);
	g_assert_cmpint(ll_session_io_end(sag, "done"), ==, LL_OK);
	g_assert_true(live_until(&ag, &ap, offsetof(struct live, closed), true,
				 10000));
	g_assert_cmpint(ag.why, ==, LL_SESSION_END_LOCAL);
	g_assert_cmpint(ap.why, ==, LL_SESSION_END_PEER);
	ll_session_io_free(sag);
	ll_session_io_free(sap);
	sess_clear(&s);
	ll_api_client_free(tech);
	g_main_loop_unref(loop);
}

/* ---- coming back after the dead line: the relay's grace ---- */

struct reopen {
	struct ll_relay_opts ro;
	const char *ticket;
	int64_t deadline_ms;
	volatile int cancel;
	unsigned tries;
	int r;
	struct ll_stream *st;
	struct ll_client_error e;
};

static gpointer reopen_thread(gpointer data)
{
	struct reopen *ro = data;

	ro->r = ll_stream_reopen(&ro->ro, NULL, ro->ticket, ro->deadline_ms,
				 &ro->cancel, &ro->tries, &ro->st, &ro->e);
	return NULL;
}

/* The relay's audit records of action for session id. */
static int audit_count(const char *action, const char *id)
{
	json_t *all = lh_audit_records(relay, action), *rec;
	size_t i;
	int n = 0;

	json_array_foreach(all, i, rec)
		n += g_strcmp0(json_string_value(
				       json_object_get(rec, "session_id")),
			       id) == 0;
	json_decref(all);
	return n;
}

/*
 * A black hole (ll-pause-proxy between the applet's end and the relay)
 * past the dead line: both pumps end as SILENT without a close_notify,
 * so the relay keeps the session in its grace.  Each side comes back
 * with its own ticket (ll_stream_reopen; the applet's first try hangs in
 * the black hole until the proxy cuts it), a fresh pair of pumps speaks
 * HELLO again, and the audit shows the interruption and the return.
 * After a deliberate end, coming back is refused at once.
 */
static void test_session_reconnect(void)
{
	static const struct ll_session_io_cbs cbs = {
		.on_ready = live_ready,
		.on_stall = live_stall,
		.on_closed = live_closed,
	};
	struct ll_api_client *tech = tech_client();
	char ans[64];
	g_autofree char *purl = NULL;
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	struct live ag = { .name = "agent", .loop = loop };
	struct live ap = { .name = "applet", .loop = loop };
	struct live ag2 = { .name = "agent again", .loop = loop };
	struct live ap2 = { .name = "applet again", .loop = loop };
	struct ll_session_io *sag = NULL, *sap = NULL;
	struct ll_session_io_opts o;
	struct ll_relay_opts ro;
	struct ll_client_error e;
	struct ll_stream *st = NULL;
	struct reopen back = { 0 };
	GThread *th;
	struct sess s;
	int64_t t0;
	unsigned tries = 0;
	GPid pid;
	int pin, pout;

	purl = proxy_spawn(&pid, &pin, &pout);
	sess_new(tech, &s);
	live_opts(&o, 2000);
	live_pair_proxied(&s, purl, &o, &cbs, &ag, &ap, &ro, &sag, &sap);

	proxy_say(pin, pout, "pause\n", ans, sizeof(ans));
	g_assert_true(live_until(&ag, &ap, offsetof(struct live, closed), true,
				 10000));
	g_assert_cmpint(ag.why, ==, LL_SESSION_END_SILENT);
	g_assert_cmpint(ap.why, ==, LL_SESSION_END_SILENT);
	LL_FREE_AND_NULL(ll_session_io_free, sag);
	LL_FREE_AND_NULL(ll_session_io_free, sap);

	/* The applet's end tries through the black hole, each try short. */
	back.ro = ro;
	back.ro.timeout_ms = 1500;
	back.ro.connect_timeout_ms = 1500;
	back.ticket = s.red.ticket;
	back.deadline_ms = ll_now_mono_ms() + LL_STREAM_GRACE_MS;
	th = g_thread_new("reopen", reopen_thread, &back);
	/* The agent's end comes back at once and waits for its peer. */
	relay_opts(&ro);
	g_assert_cmpint(ll_stream_reopen(&ro, NULL, s.pin.ticket,
					 ll_now_mono_ms() + LL_STREAM_GRACE_MS,
					 NULL, &tries, &st, &e),
			==, LL_OK);
	g_assert_cmpuint(tries, ==, 1);
	o.side = LL_SIDE_AGENT;
	g_assert_cmpint(ll_session_io_new(st, &o, &cbs, &ag2, &sag), ==,
			LL_OK);

	/* The black hole ends: every connection cut, traffic flows. */
	proxy_say(pin, pout, "cut\n", ans, sizeof(ans));
	g_assert_cmpstr(ans, ==, "ok cut");
	proxy_say(pin, pout, "resume\n", ans, sizeof(ans));
	t0 = lh_now_ms();
	g_thread_join(th);
	if (back.r != LL_OK)
		g_error("the applet's end did not come back: %s",
			back.e.message);
	o.side = LL_SIDE_APPLET;
	g_assert_cmpint(ll_session_io_new(back.st, &o, &cbs, &ap2, &sap), ==,
			LL_OK);
	g_assert_true(live_until(&ag2, &ap2, offsetof(struct live, ready),
				 true, 10000));
	g_test_message("back %" G_GINT64_FORMAT
		       " ms after the black hole ended (%u tries)",
		       lh_now_ms() - t0, back.tries);
	printf("# time to resume: %" G_GINT64_FORMAT " ms\n",
	       lh_now_ms() - t0);
	g_assert_cmpint(audit_count("stream.interrupted", s.pin.session_id),
			==, 1);
	g_assert_cmpint(audit_count("stream.resumed", s.pin.session_id), ==,
			1);

	/* A deliberate end: no way back, and nobody waits a grace for it. */
	g_assert_cmpint(ll_session_io_end(sag, "done"), ==, LL_OK);
	g_assert_true(live_until(&ag2, &ap2, offsetof(struct live, closed),
				 true, 10000));
	g_assert_cmpint(ag2.why, ==, LL_SESSION_END_LOCAL);
	g_assert_cmpint(ap2.why, ==, LL_SESSION_END_PEER);
	g_assert_cmpint(ll_stream_reopen(&ro, NULL, s.pin.ticket,
					 ll_now_mono_ms() + LL_STREAM_GRACE_MS,
					 NULL, &tries, &st, &e),
			==, LL_ERR_NOT_FOUND);
	g_assert_cmpuint(tries, ==, 1);

	proxy_quit(pid, pin, pout);
	ll_session_io_free(sag);
	ll_session_io_free(sap);
	sess_clear(&s);
	ll_api_client_free(tech);
	g_main_loop_unref(loop);
}

/*
 * The group calls (issue 11): ll_api_groups adds, lists, changes and
 * removes a group whose name needs escaping in the path;
 * ll_api_technician_group moves alice in and out, and the relay's 409 for
 * removing a group with members, 404 for an unknown group and 403 for a
 * technician who is no admin come back as errors.
 */
static void test_api_groups(void)
{
	struct ll_relay_opts o;
	struct ll_api_login l = { 0 };
	struct ll_client_error e;
	struct ll_api_client *c, *alice;
	json_t *out = NULL, *body, *grp;
	bool found = false;
	size_t i;
	int r;

	relay_opts(&o);
	c = client_new(&o);
	g_assert_cmpint(ll_api_login(c, "gina", NULL, LH_CANARY_PASSWORD, &l,
				     &e),
			==, LL_OK);
	lh_secret("token", l.token);
	ll_api_login_clear(&l);
	alice = tech_client();

	body = json_pack("{s:s,s:[s]}", "name", "Front desk", "permissions",
			 "view");
	r = ll_api_groups(c, "POST", NULL, body, &out, &e);
	json_decref(body);
	g_assert_cmpint(r, ==, LL_OK);
	g_assert_cmpstr(json_string_value(json_object_get(out, "name")), ==,
			"Front desk");
	json_decref(out);

	body = json_pack("{s:[s,s]}", "permissions", "view", "control");
	r = ll_api_groups(c, "PUT", "Front desk", body, &out, &e);
	json_decref(body);
	g_assert_cmpint(r, ==, LL_OK);
	g_assert_cmpuint(json_array_size(json_object_get(out, "permissions")),
			 ==, 2);
	json_decref(out);

	r = ll_api_groups(c, "GET", NULL, NULL, &out, &e);
	g_assert_cmpint(r, ==, LL_OK);
	json_array_foreach(json_object_get(out, "groups"), i, grp)
	{
		if (g_str_equal(json_string_value(json_object_get(grp, "name")),
				"Front desk"))
			found = true;
	}
	g_assert_true(found);
	json_decref(out);

	/* alice is no admin */
	r = ll_api_groups(alice, "GET", NULL, NULL, &out, &e);
	g_assert_cmpint(e.http_status, ==, 403);
	g_assert_cmpint(r, <, 0);
	g_assert_null(out);

	g_assert_cmpint(ll_api_technician_group(c, "alice", "Front desk", &e),
			==, LL_OK);
	r = ll_api_groups(c, "DELETE", "Front desk", NULL, &out, &e);
	g_assert_cmpint(r, <, 0);
	g_assert_cmpint(e.http_status, ==, 409);
	g_assert_cmpstr(e.api_code, ==, "conflict");
	g_assert_cmpstr(e.message, ==,
			"the group still has technicians; move them to "
			"another group first");
	r = ll_api_technician_group(c, "alice", "No such", &e);
	g_assert_cmpint(r, ==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(e.http_status, ==, 404);
	r = ll_api_technician_group(c, "../alice", NULL, &e);
	g_assert_cmpint(r, ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(e.http_status, ==, 0);
	g_assert_cmpint(ll_api_technician_group(c, "alice", NULL, &e), ==,
			LL_OK);
	r = ll_api_groups(c, "DELETE", "Front desk", NULL, &out, &e);
	g_assert_cmpint(r, ==, LL_OK);
	g_assert_null(out);
	r = ll_api_groups(c, "DELETE", "Front desk", NULL, &out, &e);
	g_assert_cmpint(r, ==, LL_ERR_NOT_FOUND);

	ll_api_client_free(alice);
	ll_api_client_free(c);
}

int main(int argc, char **argv)
{
	int rc;

	lh_init(&argc, &argv);
	/* more logins than the default burst of 10 */
	relay = lh_relay_new("client", "login_burst=100\n");
	lh_tech_add(relay, "alice", LH_CANARY_PASSWORD, false);
	lh_tech_add(relay, "gina", LH_CANARY_PASSWORD, true);
	lh_relay_start(relay);
	relay_url = g_strdup_printf("https://127.0.0.1:%u", relay->port);

	g_test_add_func("/client/api/calls-and-errors", test_api_calls);
	g_test_add_func("/client/api/transport-errors", test_api_transport);
	g_test_add_func("/client/api/password-change", test_password_change);
	g_test_add_func("/client/api/groups", test_api_groups);
	g_test_add_func("/client/stream/errors", test_stream_errors);
	g_test_add_func("/client/session/transfer-slow-reader",
			test_session_transfer);
	g_test_add_func("/client/session/endings", test_session_endings);
	g_test_add_func("/client/session/nested-loop",
			test_session_nested_loop);
	g_test_add_func("/client/session/stall", test_session_stall);
	g_test_add_func("/client/session/reconnect", test_session_reconnect);
	g_test_add_func("/client/session/frozen-relay",
			test_session_frozen_relay);
	g_test_add_func("/client/session/malformed-control",
			test_malformed_control);
	rc = g_test_run();
	g_free(relay_url);
	lh_relay_free(relay);
	return rc;
}
