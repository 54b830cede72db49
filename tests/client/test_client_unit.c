/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/client without a relay: relay URL checks, the mapping of HTTP
 * statuses and API error bodies to ll_err codes and sentences (hostile
 * bodies included), argument checks of the pump.
 */
#include <string.h>

#include <glib.h>

#include "client_internal.h"
#include "ll_api_client.h"
#include "ll_api_parse.h"
#include "ll_control.h"
#include "ll_session_io.h"
#include "ll_stream.h"
#include "ll_text.h"
#include "ll_util.h"

static void test_url(void)
{
	struct ll_client_url u = { 0 };
	struct ll_client_error e;
	static const char *const bad[] = {
		"",
		"http://relay.example",
		"ftp://relay.example",
		"https://",
		"https://relay.example/api/v1",
		"https://relay.example/?x=1",
		"https://relay.example/#f",
		"https://user:pw@relay.example",
		"https://relay.example:0",
		"https://relay.example:65536",
		"relay.example",
		"https//x",
		"https://relay.example:12ab",
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		memset(&u, 0, sizeof(u));
		g_assert_cmpint(ll_client_url_parse(bad[i], &u, &e), ==,
				LL_ERR_INVALID_ARG);
		g_assert_cmpint(e.code, ==, LL_ERR_INVALID_ARG);
		g_assert_cmpstr(e.message, !=, "");
		g_assert_null(u.host); /* untouched */
	}
	g_assert_cmpint(ll_client_url_parse(NULL, &u, &e), ==,
			LL_ERR_INVALID_ARG);

	g_assert_cmpint(ll_client_url_parse("https://relay.example", &u, &e),
			==, LL_OK);
	g_assert_cmpstr(u.host, ==, "relay.example");
	g_assert_cmpstr(u.base, ==, "https://relay.example:443");
	g_assert_cmpuint(u.port, ==, 443);
	ll_client_url_clear(&u);

	g_assert_cmpint(ll_client_url_parse("HTTPS://127.0.0.1:8443/", &u, &e),
			==, LL_OK);
	g_assert_cmpstr(u.host, ==, "127.0.0.1");
	g_assert_cmpuint(u.port, ==, 8443);
	ll_client_url_clear(&u);

	g_assert_cmpint(ll_client_url_parse("https://[::1]:9000", &u, &e), ==,
			LL_OK);
	g_assert_cmpstr(u.host, ==, "::1");
	g_assert_cmpstr(u.host_hdr, ==, "[::1]");
	g_assert_cmpstr(u.base, ==, "https://[::1]:9000");
	ll_client_url_clear(&u);
	ll_client_url_clear(NULL);
}

static void test_status_map(void)
{
	g_assert_cmpint(ll_client_error_from_status(400, "bad_request"), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_client_error_from_status(400,
						    "unsupported_version"),
			==, LL_ERR_BAD_VERSION);
	g_assert_cmpint(ll_client_error_from_status(401, "unauthorized"), ==,
			LL_ERR_AUTH_FAILED);
	g_assert_cmpint(ll_client_error_from_status(403, "account_disabled"),
			==, LL_ERR_DISABLED);
	g_assert_cmpint(ll_client_error_from_status(403, "forbidden"), ==,
			LL_ERR_AUTH_FAILED);
	g_assert_cmpint(ll_client_error_from_status(404, NULL), ==,
			LL_ERR_NOT_FOUND);
	g_assert_cmpint(ll_client_error_from_status(409, "conflict"), ==,
			LL_ERR_CONFLICT);
	g_assert_cmpint(ll_client_error_from_status(410, NULL), ==,
			LL_ERR_EXPIRED);
	g_assert_cmpint(ll_client_error_from_status(404, "pin_expired"), ==,
			LL_ERR_EXPIRED);
	g_assert_cmpint(ll_client_error_from_status(413, NULL), ==,
			LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_client_error_from_status(429, "rate_limited"), ==,
			LL_ERR_PROTOCOL);
	g_assert_cmpint(ll_client_error_from_status(500, "internal"), ==,
			LL_ERR_INTERNAL);
	g_assert_cmpint(ll_client_error_from_status(503, NULL), ==,
			LL_ERR_INTERNAL);
}

static void test_error_body(void)
{
	struct ll_client_error e;
	const char *ok = "{\"error\":{\"code\":\"pin_invalid\","
			 "\"message\":\"That PIN is not valid.\"}}";
	char big[1024];
	int r;

	r = ll_client_error_from_body(404, ok, strlen(ok), 0, &e);
	g_assert_cmpint(r, ==, LL_ERR_NOT_FOUND);
	g_assert_cmpint(e.code, ==, r);
	g_assert_cmpint(e.http_status, ==, 404);
	g_assert_cmpstr(e.api_code, ==, "pin_invalid");
	g_assert_cmpstr(e.message, ==, "That PIN is not valid.");

	/* Retry-After is kept within reason. */
	r = ll_client_error_from_body(429, ok, strlen(ok), 30, &e);
	g_assert_cmpint(e.retry_after, ==, 30);
	r = ll_client_error_from_body(429, ok, strlen(ok), 10000000, &e);
	g_assert_cmpint(e.retry_after, ==, 0);

	/* Not JSON, truncated, wrong shapes: status only, a sentence. */
	r = ll_client_error_from_body(502, "<html>bad gateway</html>", 24, 0,
				      &e);
	g_assert_cmpint(r, ==, LL_ERR_INTERNAL);
	g_assert_cmpstr(e.api_code, ==, "");
	g_assert_nonnull(strstr(e.message, "502"));
	r = ll_client_error_from_body(401, ok, 20, 0, &e);
	g_assert_cmpint(r, ==, LL_ERR_AUTH_FAILED);
	g_assert_cmpstr(e.api_code, ==, "");
	r = ll_client_error_from_body(400, "{\"error\":\"x\"}", 13, 0, &e);
	g_assert_cmpstr(e.api_code, ==, "");
	r = ll_client_error_from_body(400, "{\"error\":{\"code\":7}}", 20, 0,
				      &e);
	g_assert_cmpstr(e.api_code, ==, "");
	r = ll_client_error_from_body(400, NULL, 0, 0, &e);
	g_assert_cmpint(r, ==, LL_ERR_INVALID_ARG);
	/* Duplicate keys are refused by the strict parser. */
	r = ll_client_error_from_body(
		400, "{\"error\":{\"code\":\"a\",\"code\":\"b\"}}", 34, 0, &e);
	g_assert_cmpstr(e.api_code, ==, "");

	/* Control characters from the relay never reach a label raw; long
	 * strings are cut. */
	r = ll_client_error_from_body(
		403,
		"{\"error\":{\"code\":\"forbidden\",\"message\":\"a\\u001b[2Jb\"}}",
		54, 0, &e);
	g_assert_cmpstr(e.message, ==, "a" LL_TEXT_REPLACEMENT "[2Jb");
	memset(big, 'x', sizeof(big));
	memcpy(big, "{\"error\":{\"code\":\"", 18);
	memcpy(big + sizeof(big) - 4, "\"}}", 3);
	big[sizeof(big) - 1] = '\0';
	r = ll_client_error_from_body(400, big, strlen(big), 0, &e);
	g_assert_cmpuint(strlen(e.api_code), ==, LL_CLIENT_API_CODE_LEN - 1);

	/* NULL error struct is allowed. */
	g_assert_cmpint(ll_client_error_from_body(409, ok, strlen(ok), 0,
						  NULL),
			==, LL_ERR_CONFLICT);
}

static void test_curl_map(void)
{
	struct ll_client_error e;

	/* 7 = CURLE_COULDNT_CONNECT, 111 = ECONNREFUSED */
	g_assert_cmpint(ll_client_curl_error(7, 111, "", "relay",
					     "https://h:1", &e),
			==, LL_ERR_IO);
	g_assert_cmpstr(e.message, ==,
			"could not connect to relay at https://h:1: "
			"Connection refused");
	/* 28 = CURLE_OPERATION_TIMEDOUT, 60 = CURLE_PEER_FAILED_VERIFICATION,
	 * 90 = CURLE_SSL_PINNEDPUBKEYNOTMATCH, 35 = CURLE_SSL_CONNECT_ERROR */
	g_assert_cmpint(ll_client_curl_error(28, 0, "", "relay", "u", &e), ==,
			LL_ERR_TIMEOUT);
	g_assert_cmpint(ll_client_curl_error(60, 0, "x", "relay", "u", &e), ==,
			LL_ERR_TLS_VERIFY);
	g_assert_cmpint(ll_client_curl_error(90, 0, "", "relay", "u", &e), ==,
			LL_ERR_TLS_VERIFY);
	g_assert_cmpint(ll_client_curl_error(35, 0, "", "relay", "u", &e), ==,
			LL_ERR_TLS);
	g_assert_cmpint(e.http_status, ==, 0);
	g_assert_cmpstr(e.api_code, ==, "");
}

static void test_args(void)
{
	struct ll_relay_opts o = { 0 };
	struct ll_client_error e;
	struct ll_stream *st = NULL;
	struct ll_session_io *s = NULL;
	struct ll_stream fake = { 0 };

	/* no_system_cas needs a CA file. */
	o.url = "https://127.0.0.1:1";
	o.no_system_cas = true;
	g_assert_null(ll_api_client_new(&o, &e));
	g_assert_cmpint(e.code, ==, LL_ERR_INVALID_ARG);
	g_assert_null(ll_api_client_new(NULL, &e));
	/* A CA file that does not exist. */
	o.no_system_cas = false;
	o.ca_file = "/nonexistent/ca.pem";
	g_assert_null(ll_api_client_new(&o, &e));
	g_assert_cmpint(e.code, ==, LL_ERR_CONFIG);
	o.no_system_cas = true;
	g_assert_null(ll_api_client_new(&o, &e));
	g_assert_cmpint(e.code, ==, LL_ERR_CONFIG);
	o.no_system_cas = false;

	g_assert_cmpint(ll_stream_open(NULL, NULL, "t", &st, &e), ==,
			LL_ERR_INVALID_ARG);
	o.ca_file = NULL;
	g_assert_cmpint(ll_stream_open(&o, NULL, NULL, &st, &e), ==,
			LL_ERR_INVALID_ARG);
	/* A ticket that would break the request line is refused before
	 * anything is sent (the URL fails first here: port 1 is closed,
	 * so use the ticket check through a bad URL too). */
	o.url = "http://127.0.0.1:1";
	g_assert_cmpint(ll_stream_open(&o, NULL, "tick", &st, &e), ==,
			LL_ERR_INVALID_ARG);
	g_assert_null(st);
	ll_stream_free(NULL);

	g_assert_cmpint(ll_session_io_new(NULL, NULL, NULL, NULL, &s), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_session_io_new(&fake, NULL, NULL, NULL, &s), ==,
			LL_ERR_INVALID_ARG);
	g_assert_null(s);
	ll_session_io_free(NULL);
	g_assert_cmpint(ll_session_io_send_control(NULL, NULL), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpstr(ll_session_io_state_name(LL_SESSION_IO_READY), ==,
			"ready");
	g_assert_cmpstr(ll_session_end_name(LL_SESSION_END_PEER), ==,
			"ended by the other side");
}

/* ll_api_parse.h: the strict parsers of the relay's answers. */
#define P(s) (s), strlen(s)
/* An org's PINs may be longer (policy pin_length): 6..10 digits. */
static void test_parse_pin_length(void)
{
	struct ll_client_error e;
	struct ll_api_pin p;

	memset(&e, 0, sizeof(e));
	memset(&p, 0, sizeof(p));
	g_assert_cmpint(ll_api_parse_pin(P("{\"session_id\":\"ab\",\"pin\":"
					   "\"0123456789\",\"expires_at\":"
					   "\"2026-01-02T03:04:05Z\","
					   "\"ticket\":\"t\"}"),
					 &p, &e),
			==, 0);
	g_assert_cmpstr(p.pin, ==, "0123456789");
	ll_api_pin_clear(&p);
	g_assert_cmpint(ll_api_parse_pin(P("{\"session_id\":\"ab\",\"pin\":"
					   "\"01234567890\",\"expires_at\":"
					   "\"2026-01-02T03:04:05Z\","
					   "\"ticket\":\"t\"}"),
					 &p, &e),
			==, LL_ERR_SCHEMA);
	g_assert_cmpint(ll_api_parse_pin(P("{\"session_id\":\"ab\",\"pin\":"
					   "\"01234\",\"expires_at\":"
					   "\"2026-01-02T03:04:05Z\","
					   "\"ticket\":\"t\"}"),
					 &p, &e),
			==, LL_ERR_SCHEMA);
}

/* The redeem answer's display names (issue 9): strings or null, absent
 * from older relays; anything else is refused. */
static void test_parse_display_names(void)
{
	struct ll_client_error e;
	struct ll_api_redeem d;

	memset(&d, 0, sizeof(d));
	/* an older relay: no display names */
	g_assert_cmpint(ll_api_parse_redeem(P("{\"session_id\":\"a\","
					      "\"ticket\":\"t\",\"technician\""
					      ":{\"name\":\"n\",\"org\":\"o\"},"
					      "\"capabilities\":[],"
					      "\"stream_path\":\"/s\"}"),
					    &d, &e),
			==, 0);
	g_assert_null(d.technician.display_name);
	g_assert_null(d.technician.org_display_name);
	ll_api_redeem_clear(&d);
	g_assert_cmpint(ll_api_parse_redeem(P("{\"session_id\":\"a\","
					      "\"ticket\":\"t\",\"technician\""
					      ":{\"name\":\"n\",\"org\":\"o\","
					      "\"display_name\":\"Ann Smith\","
					      "\"org_display_name\":null},"
					      "\"capabilities\":[],"
					      "\"stream_path\":\"/s\"}"),
					    &d, &e),
			==, 0);
	g_assert_cmpstr(d.technician.name, ==, "n");
	g_assert_cmpstr(d.technician.display_name, ==, "Ann Smith");
	g_assert_null(d.technician.org_display_name);
	ll_api_redeem_clear(&d);
	g_assert_cmpint(ll_api_parse_redeem(P("{\"session_id\":\"a\","
					      "\"ticket\":\"t\",\"technician\""
					      ":{\"name\":\"n\",\"org\":\"o\","
					      "\"org_display_name\":7},"
					      "\"capabilities\":[],"
					      "\"stream_path\":\"/s\"}"),
					    &d, &e),
			==, LL_ERR_SCHEMA);
	g_assert_nonnull(strstr(e.message, "\"org_display_name\""));
}

static void test_parse(void)
{
	struct ll_client_error e;
	struct ll_api_login l;
	struct ll_api_pin p;
	struct ll_api_session_list sl;
	struct ll_api_redeem d;
	char *mt, *big;
	const char *sentinel = "untouched";

	memset(&l, 0, sizeof(l));
	g_assert_cmpint(ll_api_parse_login(P("{\"token\":\"tk\",\"expires_in\""
					     ":60,\"technician\":{\"id\":3,"
					     "\"name\":\"Al\",\"org\":\"O\","
					     "\"permissions\":[\"view\","
					     "\"reports\"]},\"new\":1}"),
					   &l, &e),
			==, 0);
	g_assert_cmpstr(l.token, ==, "tk");
	g_assert_cmpint(l.expires_in, ==, 60);
	g_assert_cmpuint(l.technician.caps, ==, LL_CAP_VIEW);
	g_assert_cmpuint(l.technician.n_permissions, ==, 2);
	ll_api_login_clear(&l);
	/* a missing member, named; the output untouched */
	memset(&l, 0, sizeof(l));
	l.token = (char *)sentinel;
	g_assert_cmpint(ll_api_parse_login(P("{\"expires_in\":60}"), &l, &e),
			==, LL_ERR_SCHEMA);
	g_assert_cmpint(e.code, ==, LL_ERR_SCHEMA);
	g_assert_nonnull(strstr(e.message, "\"token\""));
	g_assert_true(l.token == sentinel);
	g_assert_cmpint(ll_api_parse_login(P("{\"token\":\"a\",\"token\":"
					     "\"b\"}"),
					   &l, &e),
			==, LL_ERR_BAD_JSON);
	g_assert_cmpint(ll_api_parse_login(P("[]"), &l, &e), ==,
			LL_ERR_SCHEMA);
	g_assert_cmpint(ll_api_parse_login(P("{} x"), &l, &e), ==,
			LL_ERR_BAD_JSON);
	g_assert_cmpint(ll_api_parse_login(NULL, 0, &l, &e), ==,
			LL_ERR_BAD_JSON);
	g_assert_cmpint(ll_api_parse_login(P("{\"token\":\"a\\u0000b\"}"), &l,
					   &e),
			==, LL_ERR_BAD_JSON);
	big = g_malloc0(LL_API_MAX_RESPONSE + 2);
	memset(big, ' ', LL_API_MAX_RESPONSE + 1);
	big[0] = '{';
	big[LL_API_MAX_RESPONSE] = '}';
	g_assert_cmpint(ll_api_parse_login(big, LL_API_MAX_RESPONSE + 1, &l,
					   &e),
			==, LL_ERR_TOO_LARGE);
	g_free(big);
	g_assert_true(l.token == sentinel);

	mt = (char *)sentinel;
	g_assert_cmpint(ll_api_parse_mfa_token(P("{\"error\":{\"code\":"
						 "\"mfa_required\","
						 "\"mfa_token\":\"m1\"}}"),
					       &mt, &e),
			==, 0);
	g_assert_cmpstr(mt, ==, "m1");
	free(mt);
	mt = (char *)sentinel;
	g_assert_cmpint(ll_api_parse_mfa_token(P("{\"error\":\"x\"}"), &mt,
					       &e),
			==, LL_ERR_SCHEMA);
	g_assert_true(mt == sentinel);

	memset(&p, 0, sizeof(p));
	g_assert_cmpint(ll_api_parse_pin(P("{\"session_id\":\"ab\",\"pin\":"
					   "\"012345\",\"expires_at\":"
					   "\"2026-01-02T03:04:05Z\","
					   "\"ticket\":\"t\"}"),
					 &p, &e),
			==, 0);
	g_assert_cmpstr(p.pin, ==, "012345");
	g_assert_cmpint(p.expires_at_unix, >, 0);
	ll_api_pin_clear(&p);
	g_assert_cmpint(ll_api_parse_pin(P("{\"session_id\":\"ab\",\"pin\":"
					   "\"01234x\",\"expires_at\":"
					   "\"2026-01-02T03:04:05Z\","
					   "\"ticket\":\"t\"}"),
					 &p, &e),
			==, LL_ERR_SCHEMA);
	g_assert_nonnull(strstr(e.message, "\"pin\""));
	g_assert_cmpint(ll_api_parse_pin(P("{\"session_id\":\"ab\",\"pin\":"
					   "\"012345\",\"expires_at\":"
					   "\"yesterday\",\"ticket\":\"t\"}"),
					 &p, &e),
			==, LL_ERR_SCHEMA);
	g_assert_nonnull(strstr(e.message, "\"expires_at\""));
	g_assert_null(p.pin);

	memset(&sl, 0, sizeof(sl));
	g_assert_cmpint(ll_api_parse_sessions(P("{\"sessions\":[{"
						"\"session_id\":\"a\","
						"\"state\":\"waiting\","
						"\"created_at\":"
						"\"2026-01-02T03:04:05Z\","
						"\"expires_at\":"
						"\"2026-01-02T03:24:05Z\","
						"\"ended_at\":null}]}"),
					      &sl, &e),
			==, 0);
	g_assert_cmpuint(sl.n_sessions, ==, 1);
	g_assert_cmpint(sl.sessions[0].ended_at, ==, 0);
	ll_api_session_list_clear(&sl);
	g_assert_cmpint(ll_api_parse_sessions(P("{\"sessions\":{}}"), &sl, &e),
			==, LL_ERR_SCHEMA);
	g_assert_cmpint(ll_api_parse_sessions(P("{\"sessions\":[1]}"), &sl,
					      &e),
			==, LL_ERR_SCHEMA);
	g_assert_cmpint(ll_api_parse_sessions(P("{\"sessions\":[{"
						"\"session_id\":\"a\","
						"\"state\":\"w\","
						"\"created_at\":"
						"\"2026-01-02T03:04:05Z\","
						"\"expires_at\":"
						"\"2026-01-02T03:24:05Z\","
						"\"bytes_agent_to_applet\":-1}"
						"]}"),
					      &sl, &e),
			==, LL_ERR_SCHEMA);
	g_assert_null(sl.sessions);

	memset(&d, 0, sizeof(d));
	g_assert_cmpint(ll_api_parse_redeem(P("{\"session_id\":\"a\","
					      "\"ticket\":\"t\",\"technician\""
					      ":{\"name\":\"N\",\"org\":\"O\"},"
					      "\"capabilities\":[\"view\","
					      "\"chat\"],\"stream_path\":"
					      "\"/api/v1/stream\"}"),
					    &d, &e),
			==, 0);
	g_assert_cmpuint(d.capabilities, ==, LL_CAP_VIEW | LL_CAP_CHAT);
	ll_api_redeem_clear(&d);
	g_assert_cmpint(ll_api_parse_redeem(P("{\"session_id\":\"a\","
					      "\"ticket\":\"t\",\"technician\""
					      ":{\"name\":\"N\",\"org\":\"O\"},"
					      "\"capabilities\":[],"
					      "\"stream_path\":\"http://x\"}"),
					    &d, &e),
			==, LL_ERR_SCHEMA);
	g_assert_nonnull(strstr(e.message, "\"stream_path\""));
	g_assert_cmpint(ll_api_parse_redeem(P("{\"session_id\":\"a\","
					      "\"ticket\":\"t\"}"),
					    &d, &e),
			==, LL_ERR_SCHEMA);
	g_assert_nonnull(strstr(e.message, "\"technician\""));
	g_assert_null(d.ticket);
}

/* password_change_required: a boolean, absent from older relays. */
static void test_parse_one_time(void)
{
	struct ll_client_error e;
	struct ll_api_login l;

	memset(&l, 0, sizeof(l));
	g_assert_cmpint(ll_api_parse_login(P("{\"token\":\"tk\",\"expires_in\""
					     ":60,\"technician\":{\"id\":3,"
					     "\"name\":\"Al\",\"org\":\"O\","
					     "\"permissions\":[]}}"),
					   &l, &e),
			==, 0);
	g_assert_false(l.password_change_required);
	ll_api_login_clear(&l);
	memset(&l, 0, sizeof(l));
	g_assert_cmpint(ll_api_parse_login(P("{\"token\":\"tk\",\"expires_in\""
					     ":60,\"password_change_required\""
					     ":true,\"technician\":{\"id\":3,"
					     "\"name\":\"Al\",\"org\":\"O\","
					     "\"permissions\":[]}}"),
					   &l, &e),
			==, 0);
	g_assert_true(l.password_change_required);
	ll_api_login_clear(&l);
	memset(&l, 0, sizeof(l));
	g_assert_cmpint(ll_api_parse_login(P("{\"token\":\"tk\",\"expires_in\""
					     ":60,\"password_change_required\""
					     ":1,\"technician\":{\"id\":3,"
					     "\"name\":\"Al\",\"org\":\"O\","
					     "\"permissions\":[]}}"),
					   &l, &e),
			==, LL_ERR_SCHEMA);
	g_assert_nonnull(strstr(e.message, "password_change_required"));
	g_assert_null(l.token);
}

/* The session's end as the relay tells the applet: two words of [a-z_],
 * nothing else; on refusal the output is untouched. */
static void test_parse_session_end(void)
{
	static const char *const bad[] = {
		"{\"end_reason\":\"closed\"}",
		"{\"state\":\"\",\"end_reason\":null}",
		"{\"state\":\"ended\",\"end_reason\":\"Your PC is "
		"infected\"}",
		"{\"state\":\"ended\",\"end_reason\":\"a\\u0000b\"}",
		"{\"state\":\"ended\",\"end_reason\":\""
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		"{\"state\":\"ended\",\"end_reason\":7}",
		"{\"state\":\"ended\",\"state\":\"ended\"}",
	};
	struct ll_client_error e;
	struct ll_api_session_end se;
	size_t i;

	g_assert_cmpint(ll_api_parse_session_end(
				P("{\"state\":\"ended\",\"end_reason\":"
				  "\"permission_withdrawn\",\"more\":1}"),
				&se, &e),
			==, 0);
	g_assert_cmpstr(se.state, ==, "ended");
	g_assert_cmpstr(se.end_reason, ==, "permission_withdrawn");
	g_assert_cmpint(ll_api_parse_session_end(
				P("{\"state\":\"connected\",\"end_reason\":"
				  "null}"),
				&se, &e),
			==, 0);
	g_assert_cmpstr(se.end_reason, ==, "");
	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		memset(&se, 'x', sizeof(se));
		g_assert_cmpint(ll_api_parse_session_end(P(bad[i]), &se, &e),
				<, 0);
		g_assert_cmpint(se.state[0], ==, 'x');
		g_assert_cmpint(e.message[0], !=, '\0');
	}
}

/* The single sign-on answers (ll_api_parse_sso*): what the agent hands
 * the system browser is an https:// page and nothing a launcher could
 * split; the pace is 1..60 s, so a relay can neither make the agent
 * hammer it nor miss the browser's return for long. */
static void test_parse_sso(void)
{
	static const char *const bad[] = {
		/* another scheme, for another program */
		"{\"authorize_url\":\"file:///etc/passwd\",\"sso_id\":\"i\","
		"\"expires_in\":600,\"poll_interval\":1}",
		"{\"authorize_url\":\"http://idp/a\",\"sso_id\":\"i\","
		"\"expires_in\":600,\"poll_interval\":1}",
		"{\"authorize_url\":\"https://\",\"sso_id\":\"i\","
		"\"expires_in\":600,\"poll_interval\":1}",
		/* a space or a control character */
		"{\"authorize_url\":\"https://idp/a --b\",\"sso_id\":\"i\","
		"\"expires_in\":600,\"poll_interval\":1}",
		"{\"authorize_url\":\"https://idp/a\\nb\",\"sso_id\":\"i\","
		"\"expires_in\":600,\"poll_interval\":1}",
		/* the pace */
		"{\"authorize_url\":\"https://idp/a\",\"sso_id\":\"i\","
		"\"expires_in\":600,\"poll_interval\":0}",
		"{\"authorize_url\":\"https://idp/a\",\"sso_id\":\"i\","
		"\"expires_in\":600,\"poll_interval\":61}",
		"{\"authorize_url\":\"https://idp/a\",\"sso_id\":\"i\","
		"\"expires_in\":600}",
		/* no sign-in */
		"{\"authorize_url\":\"https://idp/a\",\"sso_id\":\"\","
		"\"expires_in\":600,\"poll_interval\":1}",
		"{\"authorize_url\":\"https://idp/a\",\"expires_in\":600,"
		"\"poll_interval\":1}",
		"{\"authorize_url\":\"https://idp/a\",\"sso_id\":\"i\","
		"\"expires_in\":0,\"poll_interval\":1}",
	};
	struct ll_client_error e;
	struct ll_api_sso s;
	int64_t poll = 7;
	size_t i;

	memset(&s, 0, sizeof(s));
	g_assert_cmpint(ll_api_parse_sso(P("{\"authorize_url\":\"https://"
					   "idp/a?b=c%20d\",\"sso_id\":\"i1\","
					   "\"expires_in\":600,"
					   "\"poll_interval\":2}"),
					 &s, &e),
			==, 0);
	g_assert_cmpstr(s.authorize_url, ==, "https://idp/a?b=c%20d");
	g_assert_cmpstr(s.sso_id, ==, "i1");
	g_assert_cmpint(s.expires_in, ==, 600);
	g_assert_cmpint(s.poll_interval_s, ==, 2);
	ll_api_sso_clear(&s);
	g_assert_null(s.sso_id);
	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(ll_api_parse_sso(P(bad[i]), &s, &e), ==,
				LL_ERR_SCHEMA);
		g_assert_null(s.authorize_url);
		g_assert_nonnull(strstr(e.message, "\""));
	}
	g_assert_cmpint(ll_api_parse_sso_pending(P("{\"status\":\"pending\","
						   "\"poll_interval\":3}"),
						 &poll, &e),
			==, 0);
	g_assert_cmpint(poll, ==, 3);
	g_assert_cmpint(ll_api_parse_sso_pending(P("{\"status\":\"done\","
						   "\"poll_interval\":3}"),
						 &poll, &e),
			==, LL_ERR_SCHEMA);
	g_assert_cmpint(ll_api_parse_sso_pending(P("{\"status\":\"pending\","
						   "\"poll_interval\":600}"),
						 &poll, &e),
			==, LL_ERR_SCHEMA);
	g_assert_cmpint(ll_api_parse_sso_pending(P("[1]"), &poll, &e), ==,
			LL_ERR_SCHEMA);
	g_assert_cmpint(poll, ==, 3);
}
#undef P

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/client/unit/url", test_url);
	g_test_add_func("/client/unit/status-map", test_status_map);
	g_test_add_func("/client/unit/error-body", test_error_body);
	g_test_add_func("/client/unit/curl-map", test_curl_map);
	g_test_add_func("/client/unit/args", test_args);
	g_test_add_func("/client/unit/parse", test_parse);
	g_test_add_func("/client/unit/parse-display-names",
			test_parse_display_names);
	g_test_add_func("/client/unit/parse-one-time", test_parse_one_time);
	g_test_add_func("/client/unit/parse-pin-length",
			test_parse_pin_length);
	g_test_add_func("/client/unit/parse-session-end",
			test_parse_session_end);
	g_test_add_func("/client/unit/parse-sso", test_parse_sso);
	return g_test_run();
}
