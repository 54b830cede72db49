/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sans-I/O HTTP/1.1 codec on Debian's libhttp-parser (never hand-parsed).
 * The relay feeds request bytes and gets whole requests; clients build the
 * stream upgrade request and parse the 101 answer.  Strict limits on head
 * size, header count, URL length and body size.
 */
#ifndef LL_HTTP_H
#define LL_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct ll_buf;

struct ll_http_limits {
	size_t max_head;    /* request line + headers, bytes (default 8192) */
	size_t max_headers; /* header count (default 64) */
	size_t max_url;     /* bytes (default 2048) */
	size_t max_body;    /* bytes (default 65536) */
};
/* Fills the defaults above. */
void ll_http_limits_default(struct ll_http_limits *l);

struct ll_http_header {
	char *name; /* as received */
	char *value;
};

struct ll_http_request {
	char *method; /* "GET", "POST", ... */
	char *target; /* raw request target */
	char *path;   /* target without query */
	char *query;  /* after '?', or NULL */
	struct ll_http_header *headers;
	size_t n_headers;
	uint8_t *body; /* NUL-terminated for convenience; may be NULL */
	size_t body_len;
	int http_major, http_minor;
	bool keep_alive;
	bool upgrade; /* Connection: Upgrade + Upgrade header seen */
};

/* Case-insensitive lookup of the first header with that name, or NULL. */
const char *ll_http_request_header(const struct ll_http_request *r,
				   const char *name);
/* The token after "Bearer " in Authorization, or NULL. */
const char *ll_http_request_bearer(const struct ll_http_request *r);
void ll_http_request_free(struct ll_http_request *r);

struct ll_http_req_parser;
struct ll_http_req_parser *ll_http_req_parser_new(
	const struct ll_http_limits *limits);
void ll_http_req_parser_free(struct ll_http_req_parser *p);
/*
 * Feed bytes.  Returns bytes consumed (>= 0) or a negative ll_err.  When a
 * whole request is ready *complete is set and parsing stops right after
 * it (pipelined bytes and, after an upgrade request, the stream's first
 * bytes stay unconsumed); take it with ll_http_req_parser_take().
 * Errors: LL_ERR_MALFORMED (-> 400), LL_ERR_TOO_LARGE (see
 * ll_http_req_parser_status: 413 body, 431 head/headers, 414 URL).
 * After an error the parser is dead.
 */
int ll_http_req_parser_feed(struct ll_http_req_parser *p, const uint8_t *data,
			    size_t len, bool *complete);
/* The finished request (caller owns it); the parser resets for the next. */
struct ll_http_request *ll_http_req_parser_take(struct ll_http_req_parser *p);
/* The HTTP status that fits the last error (400/413/414/431). */
int ll_http_req_parser_status(const struct ll_http_req_parser *p);
/* A sentence for the last error ("header section over 8192 bytes"). */
const char *ll_http_req_parser_error(const struct ll_http_req_parser *p);
/* True once any byte of a request has been seen (for head timeouts). */
bool ll_http_req_parser_started(const struct ll_http_req_parser *p);

/* Reason phrase for a status code ("Not Found"). */
const char *ll_http_reason(int status);

/*
 * Client side of the stream handshake.  Builds
 *   GET path HTTP/1.1 / Host / Connection: Upgrade / Upgrade: lifeline/1 /
 *   Authorization: Bearer ticket
 */
int ll_http_upgrade_request_build(struct ll_buf *out, const char *host,
				  const char *path, const char *ticket);

struct ll_http_response {
	int status;
	struct ll_http_header *headers;
	size_t n_headers;
};
const char *ll_http_response_header(const struct ll_http_response *r,
				    const char *name);
void ll_http_response_free(struct ll_http_response *r);
/*
 * Parse a response head (status line + headers, no body).  Returns bytes
 * consumed (> 0) with *out set, 0 if more bytes are needed, or a negative
 * ll_err (LL_ERR_MALFORMED, LL_ERR_TOO_LARGE over limits->max_head).
 */
int ll_http_response_head_parse(const uint8_t *data, size_t len,
				const struct ll_http_limits *limits,
				struct ll_http_response **out);
/* True when r is a valid 101 answer switching to lifeline/1. */
bool ll_http_response_is_upgrade(const struct ll_http_response *r);

#endif
