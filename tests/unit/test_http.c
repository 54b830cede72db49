/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "ll_buf.h"
#include "ll_err.h"
#include "ll_http.h"

#define U8(s) ((const uint8_t *)(s))

static const char get_req[] = "GET /api/v1/sessions?state=live&x=1 HTTP/1.1\r\n"
			      "Host: relay.example\r\n"
			      "User-Agent: test   \r\n"
			      "Authorization: Bearer abc.DEF-123_~+/==\r\n"
			      "\r\n";

/* Feed a whole message; return what feed returned. */
static int feed_all(struct ll_http_req_parser *p, const char *s, size_t len,
		    bool *complete)
{
	return ll_http_req_parser_feed(p, U8(s), len, complete);
}

static void test_limits_default(void)
{
	struct ll_http_limits l;

	memset(&l, 0, sizeof(l));
	ll_http_limits_default(&l);
	g_assert_cmpuint(l.max_head, ==, 8192);
	g_assert_cmpuint(l.max_headers, ==, 64);
	g_assert_cmpuint(l.max_url, ==, 2048);
	g_assert_cmpuint(l.max_body, ==, 65536);
}

static void test_get(void)
{
	struct ll_http_req_parser *p = ll_http_req_parser_new(NULL);
	struct ll_http_request *r;
	bool complete = false;

	g_assert_false(ll_http_req_parser_started(p));
	g_assert_null(ll_http_req_parser_take(p));
	g_assert_cmpint(feed_all(p, get_req, strlen(get_req), &complete), ==,
			(int)strlen(get_req));
	g_assert_true(complete);
	r = ll_http_req_parser_take(p);
	g_assert_nonnull(r);
	g_assert_false(ll_http_req_parser_started(p));
	g_assert_cmpstr(r->method, ==, "GET");
	g_assert_cmpstr(r->target, ==, "/api/v1/sessions?state=live&x=1");
	g_assert_cmpstr(r->path, ==, "/api/v1/sessions");
	g_assert_cmpstr(r->query, ==, "state=live&x=1");
	g_assert_cmpint(r->http_major, ==, 1);
	g_assert_cmpint(r->http_minor, ==, 1);
	g_assert_true(r->keep_alive);
	g_assert_false(r->upgrade);
	g_assert_null(r->body);
	g_assert_cmpuint(r->body_len, ==, 0);
	g_assert_cmpuint(r->n_headers, ==, 3);
	g_assert_cmpstr(r->headers[0].name, ==, "Host");
	g_assert_cmpstr(ll_http_request_header(r, "host"), ==,
			"relay.example");
	/* Trailing blanks are not part of the value. */
	g_assert_cmpstr(ll_http_request_header(r, "USER-AGENT"), ==, "test");
	g_assert_null(ll_http_request_header(r, "Cookie"));
	g_assert_cmpstr(ll_http_request_bearer(r), ==, "abc.DEF-123_~+/==");
	ll_http_request_free(r);
	ll_http_request_free(NULL);
	ll_http_req_parser_free(p);
	ll_http_req_parser_free(NULL);
}

static struct ll_http_request *parse_one(const char *s)
{
	struct ll_http_req_parser *p = ll_http_req_parser_new(NULL);
	struct ll_http_request *r;
	bool complete = false;

	g_assert_cmpint(feed_all(p, s, strlen(s), &complete), ==,
			(int)strlen(s));
	g_assert_true(complete);
	r = ll_http_req_parser_take(p);
	g_assert_nonnull(r);
	ll_http_req_parser_free(p);
	return r;
}

static void test_bearer_variants(void)
{
	static const struct {
		const char *auth;
		const char *want;
	} cases[] = {
		{ "bearer tok", "tok" },      { "Bearer    tok", "tok" },
		{ "Bearer", NULL },           { "Bearer ", NULL },
		{ "Bearertok", NULL },        { "Basic dXNlcjpwYXNz", NULL },
		{ "Bearer two words", NULL }, { "Bearer a=b", NULL },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *req = g_strdup_printf("GET / HTTP/1.1\r\nHost: h\r\n"
					    "Authorization: %s\r\n\r\n",
					    cases[i].auth);
		struct ll_http_request *r = parse_one(req);

		g_assert_cmpstr(ll_http_request_bearer(r), ==, cases[i].want);
		ll_http_request_free(r);
		g_free(req);
	}
	{
		struct ll_http_request *r = parse_one(
			"GET / HTTP/1.1\r\nHost: h\r\n\r\n");

		g_assert_null(ll_http_request_bearer(r));
		g_assert_null(r->query);
		g_assert_cmpstr(r->path, ==, "/");
		ll_http_request_free(r);
	}
}

static void test_absolute_form(void)
{
	struct ll_http_request *r = parse_one(
		"GET http://relay.example:8443/healthz?a HTTP/1.0\r\n\r\n");

	g_assert_cmpstr(r->path, ==, "/healthz");
	g_assert_cmpstr(r->query, ==, "a");
	/* HTTP/1.0 needs no Host and does not keep alive by default. */
	g_assert_false(r->keep_alive);
	g_assert_cmpint(r->http_minor, ==, 0);
	ll_http_request_free(r);
}

/* Every split point: the prefix never completes nor fails. */
static void test_byte_by_byte(void)
{
	struct ll_http_req_parser *p = ll_http_req_parser_new(NULL);
	struct ll_http_request *r;
	size_t len = strlen(get_req), i;
	bool complete = true;

	for (i = 0; i < len; i++) {
		g_assert_cmpint(ll_http_req_parser_feed(p, U8(get_req) + i, 1,
							&complete),
				==, 1);
		g_assert_true(ll_http_req_parser_started(p));
		g_assert_cmpint(complete, ==, i == len - 1);
	}
	r = ll_http_req_parser_take(p);
	g_assert_nonnull(r);
	g_assert_cmpstr(r->target, ==, "/api/v1/sessions?state=live&x=1");
	g_assert_cmpstr(ll_http_request_bearer(r), ==, "abc.DEF-123_~+/==");
	ll_http_request_free(r);
	ll_http_req_parser_free(p);
}

static void test_truncated_every_prefix(void)
{
	static const char post[] = "POST /api/v1/login HTTP/1.1\r\n"
				   "Host: h\r\nContent-Length: 5\r\n\r\nhello";
	size_t len = strlen(post), i;

	for (i = 0; i < len; i++) {
		struct ll_http_req_parser *p = ll_http_req_parser_new(NULL);
		bool complete = true;

		g_assert_cmpint(feed_all(p, post, i, &complete), ==, (int)i);
		g_assert_false(complete);
		g_assert_null(ll_http_req_parser_take(p));
		/* The rest completes it. */
		g_assert_cmpint(feed_all(p, post + i, len - i, &complete), ==,
				(int)(len - i));
		g_assert_true(complete);
		ll_http_request_free(ll_http_req_parser_take(p));
		ll_http_req_parser_free(p);
	}
}

static void test_post_body(void)
{
	struct ll_http_request *r = parse_one(
		"POST /api/v1/login HTTP/1.1\r\nHost: h\r\n"
		"Content-Type: application/json\r\n"
		"Content-Length: 13\r\n\r\n{\"a\":\"hello\"}");

	g_assert_cmpstr(r->method, ==, "POST");
	g_assert_cmpuint(r->body_len, ==, 13);
	g_assert_cmpstr((const char *)r->body, ==, "{\"a\":\"hello\"}");
	ll_http_request_free(r);
}

static void test_chunked_body(void)
{
	struct ll_http_request *r = parse_one(
		"POST /x HTTP/1.1\r\nHost: h\r\n"
		"Transfer-Encoding: chunked\r\n\r\n"
		"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");

	g_assert_cmpuint(r->body_len, ==, 11);
	g_assert_cmpstr((const char *)r->body, ==, "hello world");
	/* Trailers are not headers. */
	g_assert_null(ll_http_request_header(r, "X-Trailer"));
	ll_http_request_free(r);
}

static void test_pipelined(void)
{
	static const char two[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
				  "POST /b HTTP/1.1\r\nHost: h\r\n"
				  "Content-Length: 2\r\n\r\nhi"
				  "GET /c HTTP/1.1\r\n";
	struct ll_http_req_parser *p = ll_http_req_parser_new(NULL);
	struct ll_http_request *r;
	size_t len = strlen(two), off = 0;
	size_t first = strlen("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	bool complete = false;
	int n;

	n = feed_all(p, two, len, &complete);
	g_assert_cmpint(n, ==, (int)first);
	g_assert_true(complete);
	/* Until taken, nothing more is consumed. */
	g_assert_cmpint(feed_all(p, two + n, len - n, &complete), ==, 0);
	g_assert_true(complete);
	r = ll_http_req_parser_take(p);
	g_assert_cmpstr(r->path, ==, "/a");
	ll_http_request_free(r);
	off = (size_t)n;

	n = feed_all(p, two + off, len - off, &complete);
	g_assert_true(complete);
	off += (size_t)n;
	g_assert_cmpstr(two + off, ==, "GET /c HTTP/1.1\r\n");
	r = ll_http_req_parser_take(p);
	g_assert_cmpstr(r->path, ==, "/b");
	g_assert_cmpmem(r->body, r->body_len, "hi", 2);
	ll_http_request_free(r);

	n = feed_all(p, two + off, len - off, &complete);
	g_assert_cmpint(n, ==, (int)(len - off));
	g_assert_false(complete);
	g_assert_true(ll_http_req_parser_started(p));
	ll_http_req_parser_free(p);
}

static void test_upgrade(void)
{
	struct ll_buf *b = ll_buf_new(4096);
	struct ll_http_req_parser *p = ll_http_req_parser_new(NULL);
	struct ll_http_request *r;
	size_t head;
	bool complete = false;

	g_assert_cmpint(ll_http_upgrade_request_build(b, "relay.example:8443",
						      "/api/v1/stream",
						      "T1cket-_"),
			==, 0);
	g_assert_cmpuint(ll_buf_len(b), >, 0);
	g_assert_cmpmem(ll_buf_data(b), ll_buf_len(b),
			"GET /api/v1/stream HTTP/1.1\r\n"
			"Host: relay.example:8443\r\n"
			"Connection: Upgrade\r\n"
			"Upgrade: lifeline/1\r\n"
			"Authorization: Bearer T1cket-_\r\n\r\n",
			ll_buf_len(b));
	head = ll_buf_len(b);
	/* The stream's first bytes follow at once; they are not HTTP. */
	g_assert_cmpint(ll_buf_put(b, "\x01\x00\x00\x00\x00\x00\x10LLMX", 11),
			==, 0);
	g_assert_cmpint(ll_http_req_parser_feed(p, ll_buf_data(b),
						ll_buf_len(b), &complete),
			==, (int)head);
	g_assert_true(complete);
	r = ll_http_req_parser_take(p);
	g_assert_true(r->upgrade);
	g_assert_cmpstr(ll_http_request_header(r, "upgrade"), ==,
			"lifeline/1");
	g_assert_cmpstr(ll_http_request_bearer(r), ==, "T1cket-_");
	ll_http_request_free(r);
	ll_http_req_parser_free(p);
	ll_buf_free(b);
}

static void test_upgrade_build_invalid(void)
{
	struct ll_buf *b = ll_buf_new(4096);
	struct ll_buf *small = ll_buf_new(40);

	g_assert_cmpint(ll_http_upgrade_request_build(b, "h\r\nX: y", "/s",
						      "t"),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_http_upgrade_request_build(b, "h", "s", "t"), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_http_upgrade_request_build(b, "h", "/s x", "t"), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_http_upgrade_request_build(b, "h", "/s", "t\r\n"),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_http_upgrade_request_build(b, "", "/s", "t"), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_http_upgrade_request_build(b, "h", "/s", ""), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_http_upgrade_request_build(NULL, "h", "/s", "t"),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpuint(ll_buf_len(b), ==, 0);
	/* Too small: untouched. */
	g_assert_cmpint(ll_buf_put(small, "x", 1), ==, 0);
	g_assert_cmpint(ll_http_upgrade_request_build(small, "h", "/s", "t"),
			==, LL_ERR_TOO_LARGE);
	g_assert_cmpuint(ll_buf_len(small), ==, 1);
	ll_buf_free(small);
	ll_buf_free(b);
}

struct bad_case {
	const char *req;
	int err;
	int status;
	const char *msg_part;
};

static void check_bad(const struct ll_http_limits *lim,
		      const struct bad_case *c)
{
	struct ll_http_req_parser *p = ll_http_req_parser_new(lim);
	bool complete = true;
	int r;

	r = feed_all(p, c->req, strlen(c->req), &complete);
	if (r != c->err)
		g_error("request %s: got %d (%s), want %d", c->req, r,
			ll_http_req_parser_error(p), c->err);
	g_assert_false(complete);
	g_assert_cmpint(ll_http_req_parser_status(p), ==, c->status);
	if (strstr(ll_http_req_parser_error(p), c->msg_part) == NULL)
		g_error("request %s: message '%s' lacks '%s'", c->req,
			ll_http_req_parser_error(p), c->msg_part);
	/* Dead: the same error again, nothing to take. */
	g_assert_cmpint(feed_all(p, "GET", 3, &complete), ==, c->err);
	g_assert_null(ll_http_req_parser_take(p));
	ll_http_req_parser_free(p);
}

static void test_malformed(void)
{
	static const struct bad_case cases[] = {
		{ "\x01\x02garbage\r\n\r\n", LL_ERR_MALFORMED, 400,
		  "malformed" },
		{ "GET / HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n",
		  LL_ERR_MALFORMED, 400, "header" },
		{ "GET / HTTP/2.0\r\nHost: h\r\n\r\n", LL_ERR_MALFORMED, 400,
		  "version" },
		{ "GET / HTTP/1.1\r\n\r\n", LL_ERR_MALFORMED, 400, "Host" },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		  LL_ERR_MALFORMED, 400, "Host" },
		{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n",
		  LL_ERR_MALFORMED, 400, "Content-Length" },
		{ "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n"
		  "Content-Length: 3\r\n\r\nabc",
		  LL_ERR_MALFORMED, 400, "Transfer-Encoding" },
		{ "POST / HTTP/1.1\r\nHost: h\r\n"
		  "Transfer-Encoding: gzip\r\n\r\n",
		  LL_ERR_MALFORMED, 400, "Transfer-Encoding" },
		{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
		  "Content-Length: 3\r\n\r\nabc",
		  LL_ERR_MALFORMED, 400, "Content-Length" },
		{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n",
		  LL_ERR_MALFORMED, 400, "content-length" },
		{ "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		  "\r\nzz\r\n",
		  LL_ERR_MALFORMED, 400, "chunk" },
		{ "GET /s HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n"
		  "Upgrade: lifeline/1\r\nContent-Length: 4\r\n\r\nabcd",
		  LL_ERR_MALFORMED, 400, "upgrade" },
		{ "CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n",
		  LL_ERR_MALFORMED, 400, "CONNECT" },
		{ "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", LL_ERR_MALFORMED,
		  400, "malformed" },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n",
		  LL_ERR_MALFORMED, 400, "malformed" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++)
		check_bad(NULL, &cases[i]);
}

/*
 * Line ends in a request head: CRLF only.  A bare LF, a bare CR or a line
 * folded onto the one before (obs-fold, RFC 9112 5.2) is where two HTTP
 * parsers can disagree about where a header ends: 400, whichever way the
 * bytes come in.
 */
static const struct bad_case line_end_cases[] = {
	{ "GET / HTTP/1.1\nHost: h\r\n\r\n", LL_ERR_MALFORMED, 400,
	  "bare LF" },
	{ "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", LL_ERR_MALFORMED, 400,
	  "bare LF" },
	{ "GET / HTTP/1.1\r\nHost: h\r\n\n", LL_ERR_MALFORMED, 400,
	  "bare LF" },
	{ "GET / HTTP/1.1\nHost: h\n\n", LL_ERR_MALFORMED, 400, "bare LF" },
	{ "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", LL_ERR_MALFORMED, 400,
	  "bare LF" },
	{ "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", LL_ERR_MALFORMED, 400,
	  "CR" },
	{ "GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", LL_ERR_MALFORMED, 400, "CR" },
	{ "GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n",
	  LL_ERR_MALFORMED, 400, "folding" },
	{ "GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n\ttwo\r\n\r\n",
	  LL_ERR_MALFORMED, 400, "folding" },
	/* Folded onto the request line: a smuggled first header. */
	{ "GET / HTTP/1.1\r\n Host: h\r\n\r\n", LL_ERR_MALFORMED, 400,
	  "folding" },
	{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	  " 3\r\n\r\nabc",
	  LL_ERR_MALFORMED, 400, "folding" },
};

static void test_line_ends(void)
{
	size_t i, j;

	for (i = 0; i < G_N_ELEMENTS(line_end_cases); i++) {
		const struct bad_case *c = &line_end_cases[i];
		struct ll_http_req_parser *p;
		bool complete = false;
		int r = 0;

		check_bad(NULL, c);
		/* Byte by byte: the same refusal, and nothing taken. */
		p = ll_http_req_parser_new(NULL);
		for (j = 0; c->req[j] != '\0'; j++) {
			r = ll_http_req_parser_feed(p, U8(c->req) + j, 1,
						    &complete);
			if (r < 0)
				break;
			g_assert_false(complete);
		}
		if (r != c->err)
			g_error("request %s byte by byte: got %d (%s)", c->req,
				r, ll_http_req_parser_error(p));
		g_assert_cmpint(ll_http_req_parser_status(p), ==, 400);
		g_assert_nonnull(
			strstr(ll_http_req_parser_error(p), c->msg_part));
		ll_http_req_parser_free(p);
	}
}

/* What the rule does not touch: an empty line before the request, blanks
 * inside a value, and the body, pipelined or not. */
static void test_line_ends_ok(void)
{
	static const char two[] = "\r\nPOST /a HTTP/1.1\r\nHost: h\r\n"
				  "X-V: a \t b\r\n"
				  "Content-Length: 5\r\n\r\n"
				  "x\ny\r\r"
				  "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
	struct ll_http_req_parser *p = ll_http_req_parser_new(NULL);
	struct ll_http_request *r;
	bool complete = false;
	size_t off = 0;
	int n;

	n = feed_all(p, two, strlen(two), &complete);
	g_assert_cmpint(n, >, 0);
	g_assert_true(complete);
	off = (size_t)n;
	r = ll_http_req_parser_take(p);
	g_assert_cmpstr(r->path, ==, "/a");
	g_assert_cmpstr(ll_http_request_header(r, "X-V"), ==, "a \t b");
	g_assert_cmpuint(r->body_len, ==, 5);
	g_assert_cmpmem(r->body, 5, "x\ny\r\r", 5);
	ll_http_request_free(r);
	n = feed_all(p, two + off, strlen(two) - off, &complete);
	g_assert_cmpint(n, ==, (int)(strlen(two) - off));
	g_assert_true(complete);
	r = ll_http_req_parser_take(p);
	g_assert_cmpstr(r->path, ==, "/b");
	ll_http_request_free(r);
	ll_http_req_parser_free(p);
}

static void test_nul_in_value(void)
{
	static const char req[] =
		"GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
	struct ll_http_req_parser *p = ll_http_req_parser_new(NULL);
	bool complete;

	g_assert_cmpint(feed_all(p, req, sizeof(req) - 1, &complete), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_http_req_parser_status(p), ==, 400);
	ll_http_req_parser_free(p);
}

static void test_too_large(void)
{
	struct ll_http_limits lim = {
		.max_head = 256,
		.max_headers = 4,
		.max_url = 32,
		.max_body = 16,
	};
	GString *big = g_string_new("GET / HTTP/1.1\r\nHost: h\r\nX: ");
	struct bad_case c;
	size_t i;
	static const struct bad_case cases[] = {
		{ "GET /0123456789012345678901234567890123 HTTP/1.1\r\n",
		  LL_ERR_TOO_LARGE, 414, "32 bytes" },
		{ "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n"
		  "D: 4\r\n",
		  LL_ERR_TOO_LARGE, 431, "more than 4 header" },
		/* Refused on the head alone, before any body byte. */
		{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n",
		  LL_ERR_TOO_LARGE, 413, "body over 16 bytes" },
		{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "
		  "99999999999999999\r\n\r\n",
		  LL_ERR_TOO_LARGE, 413, "body over 16 bytes" },
		{ "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		  "\r\n11\r\n",
		  LL_ERR_TOO_LARGE, 413, "body over 16 bytes" },
		{ "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		  "\r\n8\r\n12345678\r\n9\r\n",
		  LL_ERR_TOO_LARGE, 413, "body over 16 bytes" },
	};

	for (i = 0; i < G_N_ELEMENTS(cases); i++)
		check_bad(&lim, &cases[i]);

	/* A head of exactly max_head bytes passes; one more byte does not. */
	while (big->len < lim.max_head - 4)
		g_string_append_c(big, 'v');
	g_string_append(big, "\r\n\r\n");
	g_assert_cmpuint(big->len, ==, lim.max_head);
	{
		struct ll_http_req_parser *p = ll_http_req_parser_new(&lim);
		bool complete = false;

		g_assert_cmpint(feed_all(p, big->str, big->len, &complete), ==,
				(int)big->len);
		g_assert_true(complete);
		ll_http_request_free(ll_http_req_parser_take(p));
		ll_http_req_parser_free(p);
	}
	g_string_insert_c(big, 30, 'v');
	c.req = big->str;
	c.err = LL_ERR_TOO_LARGE;
	c.status = 431;
	c.msg_part = "header section over 256 bytes";
	check_bad(&lim, &c);

	/* Same, fed byte by byte: the cap holds at the same byte. */
	{
		struct ll_http_req_parser *p = ll_http_req_parser_new(&lim);
		bool complete = false;
		int r = 0;

		for (i = 0; i < big->len; i++) {
			r = ll_http_req_parser_feed(p, U8(big->str) + i, 1,
						    &complete);
			if (r < 0)
				break;
		}
		g_assert_cmpint(r, ==, LL_ERR_TOO_LARGE);
		g_assert_cmpuint(i, ==, lim.max_head);
		g_assert_cmpint(ll_http_req_parser_status(p), ==, 431);
		ll_http_req_parser_free(p);
	}
	/* A large chunked body within the cap passes. */
	{
		struct ll_http_req_parser *p = ll_http_req_parser_new(&lim);
		static const char ok[] =
			"POST / HTTP/1.1\r\nHost: h\r\n"
			"Transfer-Encoding: chunked\r\n\r\n"
			"8\r\n12345678\r\n8\r\nabcdefgh\r\n0\r\n\r\n";
		struct ll_http_request *r;
		bool complete = false;

		g_assert_cmpint(feed_all(p, ok, strlen(ok), &complete), ==,
				(int)strlen(ok));
		r = ll_http_req_parser_take(p);
		g_assert_cmpuint(r->body_len, ==, 16);
		ll_http_request_free(r);
		ll_http_req_parser_free(p);
	}
	g_string_free(big, TRUE);
}

static void test_status_without_error(void)
{
	struct ll_http_req_parser *p = ll_http_req_parser_new(NULL);

	g_assert_cmpint(ll_http_req_parser_status(p), ==, 0);
	g_assert_nonnull(ll_http_req_parser_error(p));
	g_assert_cmpint(ll_http_req_parser_feed(p, NULL, 0, NULL), ==, 0);
	g_assert_false(ll_http_req_parser_started(p));
	ll_http_req_parser_free(p);
}

static void test_reason(void)
{
	g_assert_cmpstr(ll_http_reason(200), ==, "OK");
	g_assert_cmpstr(ll_http_reason(101), ==, "Switching Protocols");
	g_assert_cmpstr(ll_http_reason(404), ==, "Not Found");
	g_assert_cmpstr(ll_http_reason(413), ==, "Payload Too Large");
	g_assert_cmpstr(ll_http_reason(414), ==, "URI Too Long");
	g_assert_cmpstr(ll_http_reason(429), ==, "Too Many Requests");
	g_assert_cmpstr(ll_http_reason(431), ==,
			"Request Header Fields Too Large");
	g_assert_cmpstr(ll_http_reason(499), ==, "Client Error");
	g_assert_cmpstr(ll_http_reason(0), ==, "Unknown");
	g_assert_cmpstr(ll_http_reason(-5), ==, "Unknown");
}

static const char resp101[] = "HTTP/1.1 101 Switching Protocols\r\n"
			      "Upgrade: Lifeline/1\r\n"
			      "Connection: keep-alive, Upgrade\r\n"
			      "\r\n";

static void test_response_upgrade(void)
{
	struct ll_http_response *r = NULL;
	GString *s = g_string_new(resp101);
	size_t head = s->len, i;

	g_string_append(s, "\x01stream");
	g_assert_cmpint(ll_http_response_head_parse(U8(s->str), s->len, NULL,
						    &r),
			==, (int)head);
	g_assert_nonnull(r);
	g_assert_cmpint(r->status, ==, 101);
	g_assert_cmpstr(ll_http_response_header(r, "upgrade"), ==,
			"Lifeline/1");
	g_assert_true(ll_http_response_is_upgrade(r));
	ll_http_response_free(r);
	ll_http_response_free(NULL);

	/* Every truncation: need more, output untouched. */
	for (i = 0; i < head; i++) {
		r = NULL;
		g_assert_cmpint(ll_http_response_head_parse(U8(s->str), i,
							    NULL, &r),
				==, 0);
		g_assert_null(r);
	}
	g_string_free(s, TRUE);
}

static void test_response_not_upgrade(void)
{
	static const char *const cases[] = {
		"HTTP/1.1 409 Conflict\r\nContent-Length: 10\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: lifeline/1\r\n"
		"Connection: close\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: lifeline/1\r\n"
		"\r\n",
		"HTTP/1.1 200 OK\r\nUpgrade: lifeline/1\r\n"
		"Connection: Upgrade\r\n\r\n",
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct ll_http_response *r = NULL;
		GString *s = g_string_new(cases[i]);
		size_t head = s->len;

		g_string_append(s, "{\"error\":1}");
		g_assert_cmpint(ll_http_response_head_parse(U8(s->str), s->len,
							    NULL, &r),
				==, (int)head);
		g_assert_false(ll_http_response_is_upgrade(r));
		ll_http_response_free(r);
		g_string_free(s, TRUE);
	}
	g_assert_false(ll_http_response_is_upgrade(NULL));
}

static void test_response_bad(void)
{
	struct ll_http_limits lim;
	struct ll_http_response *r = NULL;
	GString *big;
	size_t i;

	g_assert_cmpint(ll_http_response_head_parse(U8("SSH-2.0-x\r\n"), 11,
						    NULL, &r),
			==, LL_ERR_MALFORMED);
	g_assert_cmpint(ll_http_response_head_parse(
				U8("HTTP/1.1 abc OK\r\n\r\n"), 19, NULL, &r),
			==, LL_ERR_MALFORMED);
	g_assert_cmpint(ll_http_response_head_parse(
				U8("HTTP/1.1 200 OK\r\nBad Name: x\r\n"
				   "\r\n"),
				32, NULL, &r),
			==, LL_ERR_MALFORMED);
	g_assert_null(r);

	ll_http_limits_default(&lim);
	lim.max_head = 64;
	big = g_string_new("HTTP/1.1 101 Switching Protocols\r\nX: ");
	while (big->len < 64)
		g_string_append_c(big, 'a');
	/* Exactly max_head bytes without an end: can never fit. */
	g_assert_cmpint(ll_http_response_head_parse(U8(big->str), 64, &lim,
						    &r),
			==, LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_http_response_head_parse(U8(big->str), 63, &lim,
						    &r),
			==, 0);
	g_string_append(big, "\r\n\r\n");
	g_assert_cmpint(ll_http_response_head_parse(U8(big->str), big->len,
						    &lim, &r),
			==, LL_ERR_TOO_LARGE);
	g_assert_null(r);
	g_string_free(big, TRUE);

	lim.max_head = 8192;
	lim.max_headers = 2;
	big = g_string_new("HTTP/1.1 200 OK\r\n");
	for (i = 0; i < 3; i++)
		g_string_append_printf(big, "H%zu: v\r\n", i);
	g_string_append(big, "\r\n");
	g_assert_cmpint(ll_http_response_head_parse(U8(big->str), big->len,
						    &lim, &r),
			==, LL_ERR_TOO_LARGE);
	g_assert_null(r);
	g_string_free(big, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/http/limits_default", test_limits_default);
	g_test_add_func("/http/get", test_get);
	g_test_add_func("/http/bearer_variants", test_bearer_variants);
	g_test_add_func("/http/absolute_form", test_absolute_form);
	g_test_add_func("/http/byte_by_byte", test_byte_by_byte);
	g_test_add_func("/http/truncated_every_prefix",
			test_truncated_every_prefix);
	g_test_add_func("/http/post_body", test_post_body);
	g_test_add_func("/http/chunked_body", test_chunked_body);
	g_test_add_func("/http/pipelined", test_pipelined);
	g_test_add_func("/http/upgrade", test_upgrade);
	g_test_add_func("/http/upgrade_build_invalid",
			test_upgrade_build_invalid);
	g_test_add_func("/http/malformed", test_malformed);
	g_test_add_func("/http/nul_in_value", test_nul_in_value);
	g_test_add_func("/http/line_ends", test_line_ends);
	g_test_add_func("/http/line_ends_ok", test_line_ends_ok);
	g_test_add_func("/http/too_large", test_too_large);
	g_test_add_func("/http/status_without_error",
			test_status_without_error);
	g_test_add_func("/http/reason", test_reason);
	g_test_add_func("/http/response_upgrade", test_response_upgrade);
	g_test_add_func("/http/response_not_upgrade",
			test_response_not_upgrade);
	g_test_add_func("/http/response_bad", test_response_bad);
	return g_test_run();
}
