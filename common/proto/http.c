/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HTTP/1.1 codec on Debian's libhttp-parser.  The library does the syntax;
 * this file adds what a relay facing the internet needs on top: byte and
 * count limits enforced while parsing (never after buffering), a stop after
 * each complete message so pipelined bytes and an upgraded stream's first
 * bytes stay with the caller, a status code and sentence per refusal, and
 * CRLF as the only line end of a request head (head_scan(): the library,
 * built lenient, takes a bare LF as a line end and joins folded lines).
 */
#include "ll_http.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "ll_buf.h"
#include "ll_err.h"
#include "ll_util.h"

/* http_parser_parse_url() keeps offsets in uint16_t. */
#define URL_PARSE_MAX 65535u

void ll_http_limits_default(struct ll_http_limits *l)
{
	l->max_head = 8192;
	l->max_headers = 64;
	l->max_url = 2048;
	l->max_body = 65536;
}

/* ------------------------------------------------------------------ */
/* Header list shared by requests and responses                        */

enum cb_state { CB_NONE, CB_FIELD, CB_VALUE };

struct hdr_acc {
	struct ll_http_header *headers;
	size_t n; /* headers in use, the last one maybe unfinished */
	size_t cap;
	size_t max;      /* limit on n */
	size_t name_len; /* of headers[n - 1] while accumulating */
	size_t value_len;
	enum cb_state last;
};

static void headers_free(struct ll_http_header *h, size_t n)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

/* Append n bytes to a NUL-terminated string of length *len. */
static int str_append(char **s, size_t *len, const char *at, size_t n)
{
	size_t need;
	char *p;

	if (!ll_size_add(*len, n, &need) || !ll_size_add(need, 1, &need))
		return LL_ERR_TOO_LARGE;
	if ((p = realloc(*s, need)) == NULL)
		return LL_ERR_NOMEM;
	memcpy(p + *len, at, n);
	*len += n;
	p[*len] = '\0';
	*s = p;
	return 0;
}

/* Header values may carry trailing blanks on the wire; they are not data. */
static void hdr_finish(struct hdr_acc *a)
{
	struct ll_http_header *h;

	if (a->n == 0)
		return;
	h = &a->headers[a->n - 1];
	if (h->value == NULL) {
		h->value = strdup("");
		a->value_len = 0;
	}
	if (h->value == NULL)
		return; /* hdr_complete() reports the NOMEM */
	while (a->value_len > 0 && (h->value[a->value_len - 1] == ' ' ||
				    h->value[a->value_len - 1] == '\t'))
		h->value[--a->value_len] = '\0';
}

/* Returns 0, LL_ERR_TOO_LARGE (count) or LL_ERR_NOMEM. */
static int hdr_field(struct hdr_acc *a, const char *at, size_t len)
{
	struct ll_http_header *nh;
	size_t ncap;

	if (a->last != CB_FIELD) {
		hdr_finish(a);
		if (a->n >= a->max)
			return LL_ERR_TOO_LARGE;
		if (a->n == a->cap) {
			ncap = a->cap ? a->cap * 2 : 8;
			if (ncap > a->max)
				ncap = a->max;
			nh = reallocarray(a->headers, ncap, sizeof(*nh));
			if (nh == NULL)
				return LL_ERR_NOMEM;
			a->headers = nh;
			a->cap = ncap;
		}
		a->headers[a->n].name = NULL;
		a->headers[a->n].value = NULL;
		a->n++;
		a->name_len = 0;
		a->value_len = 0;
		a->last = CB_FIELD;
	}
	return str_append(&a->headers[a->n - 1].name, &a->name_len, at, len);
}

static int hdr_value(struct hdr_acc *a, const char *at, size_t len)
{
	if (a->n == 0)
		return LL_ERR_MALFORMED;
	a->last = CB_VALUE;
	return str_append(&a->headers[a->n - 1].value, &a->value_len, at, len);
}

/* RFC 7230 tchar: the library, built lenient, lets blanks into names. */
static bool is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) &&
		    strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return false;
	}
	return true;
}

/*
 * Finish the last header; every name and value is then non-NULL.
 * LL_ERR_MALFORMED when a name is not a token.
 */
static int hdr_complete(struct hdr_acc *a)
{
	size_t i;

	hdr_finish(a);
	for (i = 0; i < a->n; i++) {
		if (a->headers[i].name == NULL || a->headers[i].value == NULL)
			return LL_ERR_NOMEM;
	}
	for (i = 0; i < a->n; i++) {
		if (!is_token(a->headers[i].name))
			return LL_ERR_MALFORMED;
	}
	a->last = CB_NONE;
	return 0;
}

static const char *header_lookup(const struct ll_http_header *h, size_t n,
				 const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (strcasecmp(h[i].name, name) == 0)
			return h[i].value;
	}
	return NULL;
}

static size_t header_count(const struct ll_http_header *h, size_t n,
			   const char *name)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++) {
		if (strcasecmp(h[i].name, name) == 0)
			c++;
	}
	return c;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */

/*
 * Where head_scan() is in a request head.  RFC 9112 2.2 lets a server
 * take a bare LF as a line end and 5.2 lets it unfold obs-fold; we do
 * neither: in front of a proxy that reads the same bytes differently,
 * both are how a header is hidden from one of the two (request
 * smuggling).  Empty lines before the request line are allowed (2.2).
 */
enum head_scan_state {
	HS_LINE_START = 0, /* at the start of a line */
	HS_LINE,           /* inside a line */
	HS_CR,             /* after a CR: only LF may follow */
	HS_DONE,           /* the empty line ending the head was seen */
};

struct ll_http_req_parser {
	http_parser hp;
	struct ll_http_limits lim;
	struct ll_http_request *req; /* in progress or finished */
	struct hdr_acc hdrs;
	char *url;
	size_t url_len;
	size_t body_cap;
	size_t head_bytes; /* fed while the head was unfinished */
	enum head_scan_state scan;
	bool scan_line_bytes;   /* the current line has a byte */
	bool scan_seen_line;    /* the request line has begun */
	const char *scan_error; /* the rule head_scan() saw broken */
	bool started;
	bool headers_done;
	bool complete;
	bool dead;
	int err;
	int status;
	char msg[160];
};

static void req_fail(struct ll_http_req_parser *p, int err, int status,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void req_fail(struct ll_http_req_parser *p, int err, int status,
		     const char *fmt, ...)
{
	va_list ap;

	/* The first reason is the true one; later ones are consequences. */
	if (p->dead)
		return;
	p->dead = true;
	p->err = err;
	p->status = status;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
}

static void req_nomem(struct ll_http_req_parser *p)
{
	req_fail(p, LL_ERR_NOMEM, 500, "out of memory");
}

static int req_on_message_begin(http_parser *hp)
{
	struct ll_http_req_parser *p = hp->data;

	if (p->req != NULL)
		return 0;
	if ((p->req = calloc(1, sizeof(*p->req))) == NULL) {
		req_nomem(p);
		return -1;
	}
	return 0;
}

static int req_on_url(http_parser *hp, const char *at, size_t len)
{
	struct ll_http_req_parser *p = hp->data;
	size_t total;

	if (!ll_size_add(p->url_len, len, &total) || total > p->lim.max_url ||
	    total > URL_PARSE_MAX) {
		req_fail(p, LL_ERR_TOO_LARGE, 414,
			 "request target over %zu bytes", p->lim.max_url);
		return -1;
	}
	if (str_append(&p->url, &p->url_len, at, len) != 0) {
		req_nomem(p);
		return -1;
	}
	return 0;
}

static int req_hdr_result(struct ll_http_req_parser *p, int r)
{
	if (r == 0)
		return 0;
	if (r == LL_ERR_TOO_LARGE)
		req_fail(p, LL_ERR_TOO_LARGE, 431,
			 "more than %zu header fields", p->lim.max_headers);
	else if (r == LL_ERR_MALFORMED)
		req_fail(p, LL_ERR_MALFORMED, 400,
			 "header value without a name");
	else
		req_nomem(p);
	return -1;
}

static int req_on_header_field(http_parser *hp, const char *at, size_t len)
{
	struct ll_http_req_parser *p = hp->data;

	/* Trailers of a chunked body: bounded by the library, not stored. */
	if (p->headers_done)
		return 0;
	return req_hdr_result(p, hdr_field(&p->hdrs, at, len));
}

static int req_on_header_value(http_parser *hp, const char *at, size_t len)
{
	struct ll_http_req_parser *p = hp->data;

	if (p->headers_done)
		return 0;
	if (memchr(at, '\0', len) != NULL) {
		req_fail(p, LL_ERR_MALFORMED, 400,
			 "NUL byte in a header value");
		return -1;
	}
	return req_hdr_result(p, hdr_value(&p->hdrs, at, len));
}

/* Split the target into path and query (origin- or absolute-form). */
static int req_split_target(struct ll_http_request *r, const char *url,
			    size_t len)
{
	struct http_parser_url u;
	const char *path = "/";
	size_t path_len = 1;

	http_parser_url_init(&u);
	if (http_parser_parse_url(url, len, 0, &u) != 0) {
		/* "*" (OPTIONS) is valid HTTP but not a URL. */
		if (len == 1 && url[0] == '*') {
			path = url;
			path_len = 1;
		} else {
			return LL_ERR_MALFORMED;
		}
	} else if (u.field_set & (1u << UF_PATH)) {
		path = url + u.field_data[UF_PATH].off;
		path_len = u.field_data[UF_PATH].len;
	}
	if ((r->path = strndup(path, path_len)) == NULL)
		return LL_ERR_NOMEM;
	if (u.field_set & (1u << UF_QUERY)) {
		r->query = strndup(url + u.field_data[UF_QUERY].off,
				   u.field_data[UF_QUERY].len);
		if (r->query == NULL)
			return LL_ERR_NOMEM;
	}
	return 0;
}

static int req_on_headers_complete(http_parser *hp)
{
	struct ll_http_req_parser *p = hp->data;
	struct ll_http_request *r = p->req;
	bool has_cl = (hp->flags & F_CONTENTLENGTH) != 0;
	bool chunked = (hp->flags & F_CHUNKED) != 0;
	int e = 0;

	p->headers_done = true;
	if (r == NULL || (e = hdr_complete(&p->hdrs)) == LL_ERR_NOMEM) {
		req_nomem(p);
		return -1;
	}
	if (e != 0) {
		req_fail(p, LL_ERR_MALFORMED, 400,
			 "invalid header field name");
		return -1;
	}
	r->headers = p->hdrs.headers;
	r->n_headers = p->hdrs.n;
	p->hdrs.headers = NULL;
	p->hdrs.n = p->hdrs.cap = 0;

	if (hp->http_major != 1) {
		req_fail(p, LL_ERR_MALFORMED, 400,
			 "HTTP version %u.%u is not supported", hp->http_major,
			 hp->http_minor);
		return -1;
	}
	if (hp->method == HTTP_CONNECT) {
		req_fail(p, LL_ERR_MALFORMED, 400,
			 "CONNECT requests are not served here");
		return -1;
	}
	/* RFC 7230 3.3.3: both framings at once is how requests smuggle. */
	if (header_count(r->headers, r->n_headers, "Transfer-Encoding") > 0 &&
	    header_count(r->headers, r->n_headers, "Content-Length") > 0) {
		req_fail(p, LL_ERR_MALFORMED, 400,
			 "both Transfer-Encoding and Content-Length given");
		return -1;
	}
	if (header_count(r->headers, r->n_headers, "Content-Length") > 1) {
		req_fail(p, LL_ERR_MALFORMED, 400,
			 "more than one Content-Length header");
		return -1;
	}
	/* RFC 7230 5.4: exactly one Host in HTTP/1.1. */
	e = (int)header_count(r->headers, r->n_headers, "Host");
	if (e > 1 || (e == 0 && hp->http_minor >= 1)) {
		req_fail(p, LL_ERR_MALFORMED, 400,
			 e ? "more than one Host header"
			   : "Host header missing");
		return -1;
	}
	if (hp->upgrade && (chunked || (has_cl && hp->content_length > 0))) {
		/* Are the bytes after the head the body or the stream? */
		req_fail(p, LL_ERR_MALFORMED, 400,
			 "upgrade request must not carry a body");
		return -1;
	}
	if (has_cl && hp->content_length > p->lim.max_body) {
		req_fail(p, LL_ERR_TOO_LARGE, 413,
			 "request body over %zu bytes", p->lim.max_body);
		return -1;
	}

	r->method = strdup(http_method_str((enum http_method)hp->method));
	r->target = strndup(p->url ? p->url : "", p->url_len);
	if (r->method == NULL || r->target == NULL) {
		req_nomem(p);
		return -1;
	}
	if ((e = req_split_target(r, p->url ? p->url : "", p->url_len)) != 0) {
		if (e == LL_ERR_NOMEM)
			req_nomem(p);
		else
			req_fail(p, LL_ERR_MALFORMED, 400,
				 "invalid request target");
		return -1;
	}
	r->http_major = hp->http_major;
	r->http_minor = hp->http_minor;
	r->keep_alive = http_should_keep_alive(hp) != 0;
	r->upgrade = hp->upgrade && (hp->flags & F_UPGRADE) &&
		     (hp->flags & F_CONNECTION_UPGRADE);
	if (has_cl && hp->content_length > 0) {
		/* Known and capped above: allocate once. */
		p->body_cap = (size_t)hp->content_length + 1;
		if ((r->body = malloc(p->body_cap)) == NULL) {
			req_nomem(p);
			return -1;
		}
		r->body[0] = '\0';
	}
	return 0;
}

static int req_on_chunk_header(http_parser *hp)
{
	struct ll_http_req_parser *p = hp->data;
	size_t have = p->req ? p->req->body_len : 0;

	/* The announced chunk size is checked before a byte of it is read. */
	if (hp->content_length > p->lim.max_body ||
	    have > p->lim.max_body - (size_t)hp->content_length) {
		req_fail(p, LL_ERR_TOO_LARGE, 413,
			 "request body over %zu bytes", p->lim.max_body);
		return -1;
	}
	return 0;
}

static int req_on_body(http_parser *hp, const char *at, size_t len)
{
	struct ll_http_req_parser *p = hp->data;
	struct ll_http_request *r = p->req;
	size_t need, ncap;
	uint8_t *nb;

	if (r->body_len > p->lim.max_body ||
	    len > p->lim.max_body - r->body_len) {
		req_fail(p, LL_ERR_TOO_LARGE, 413,
			 "request body over %zu bytes", p->lim.max_body);
		return -1;
	}
	need = r->body_len + len + 1;
	if (need > p->body_cap) {
		/* Chunked: grow geometrically, never past max_body + 1. */
		ncap = p->body_cap ? p->body_cap : 256;
		while (ncap < need)
			ncap *= 2;
		if (ncap > p->lim.max_body + 1)
			ncap = p->lim.max_body + 1;
		if ((nb = realloc(r->body, ncap)) == NULL) {
			req_nomem(p);
			return -1;
		}
		r->body = nb;
		p->body_cap = ncap;
	}
	memcpy(r->body + r->body_len, at, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return 0;
}

static int req_on_message_complete(http_parser *hp)
{
	struct ll_http_req_parser *p = hp->data;

	p->complete = true;
	/* Stop right here: what follows is the next request or the stream. */
	http_parser_pause(hp, 1);
	return 0;
}

static const http_parser_settings req_settings = {
	.on_message_begin = req_on_message_begin,
	.on_url = req_on_url,
	.on_header_field = req_on_header_field,
	.on_header_value = req_on_header_value,
	.on_headers_complete = req_on_headers_complete,
	.on_body = req_on_body,
	.on_message_complete = req_on_message_complete,
	.on_chunk_header = req_on_chunk_header,
};

static void req_reset(struct ll_http_req_parser *p)
{
	ll_http_request_free(p->req);
	p->req = NULL;
	headers_free(p->hdrs.headers, p->hdrs.n);
	memset(&p->hdrs, 0, sizeof(p->hdrs));
	p->hdrs.max = p->lim.max_headers;
	free(p->url);
	p->url = NULL;
	p->url_len = 0;
	p->body_cap = 0;
	p->head_bytes = 0;
	p->scan = HS_LINE_START;
	p->scan_line_bytes = false;
	p->scan_seen_line = false;
	p->scan_error = NULL;
	p->started = false;
	p->headers_done = false;
	p->complete = false;
	http_parser_init(&p->hp, HTTP_REQUEST);
	p->hp.data = p;
}

struct ll_http_req_parser *ll_http_req_parser_new(
	const struct ll_http_limits *limits)
{
	struct ll_http_req_parser *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if (limits != NULL)
		p->lim = *limits;
	else
		ll_http_limits_default(&p->lim);
	req_reset(p);
	return p;
}

void ll_http_req_parser_free(struct ll_http_req_parser *p)
{
	if (p == NULL)
		return;
	req_reset(p);
	free(p);
}

static void req_fail_library(struct ll_http_req_parser *p)
{
	enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);

	switch (e) {
	case HPE_HEADER_OVERFLOW:
		req_fail(p, LL_ERR_TOO_LARGE, 431, "header section too large");
		break;
	case HPE_INVALID_TRANSFER_ENCODING:
		req_fail(p, LL_ERR_MALFORMED, 400,
			 "unsupported Transfer-Encoding (only chunked)");
		break;
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		req_fail(p, LL_ERR_MALFORMED, 400,
			 "conflicting Content-Length or Transfer-Encoding");
		break;
	default:
		req_fail(p, LL_ERR_MALFORMED, 400, "malformed request: %s",
			 http_errno_description(e));
		break;
	}
}

/*
 * Checks the line ends of the head in data (one pass, nothing kept but the
 * state) and returns how many bytes are clean: len, or the offset of the
 * first byte that breaks the rule, with p->scan_error set.  Stops looking
 * at the end of the head: what follows is the body or the next request.
 */
static size_t head_scan(struct ll_http_req_parser *p, const uint8_t *data,
			size_t len)
{
	size_t i;
	uint8_t b;

	if (p->scan == HS_DONE)
		return len;
	for (i = 0; i < len && p->scan != HS_DONE; i++) {
		b = data[i];
		switch (p->scan) {
		case HS_CR:
			if (b != '\n') {
				p->scan_error = "CR without LF in the "
						"request head";
				return i;
			}
			/* An empty line ends the head, or comes before the
			 * request line. */
			if (!p->scan_line_bytes && p->scan_seen_line)
				p->scan = HS_DONE;
			else
				p->scan = HS_LINE_START;
			p->scan_line_bytes = false;
			break;
		case HS_LINE_START:
			if ((b == ' ' || b == '\t') && p->scan_seen_line) {
				p->scan_error = "obsolete line folding (a "
						"header line starts with a "
						"blank)";
				return i;
			}
			/* fall through */
		case HS_LINE:
			if (b == '\n') {
				p->scan_error = "bare LF line end in the "
						"request head (CRLF only)";
				return i;
			}
			if (b == '\r') {
				p->scan = HS_CR;
				break;
			}
			p->scan = HS_LINE;
			p->scan_line_bytes = true;
			p->scan_seen_line = true;
			break;
		case HS_DONE:
			break;
		}
	}
	return i;
}

int ll_http_req_parser_feed(struct ll_http_req_parser *p, const uint8_t *data,
			    size_t len, bool *complete)
{
	size_t off = 0, chunk, clean, n;
	bool in_head;

	if (complete != NULL)
		*complete = false;
	if (p == NULL || (data == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	if (p->dead)
		return p->err;
	if (p->complete) {
		/* The finished request must be taken first. */
		if (complete != NULL)
			*complete = true;
		return 0;
	}
	if (len == 0)
		return 0;
	/* The count must fit the int we return; the rest waits. */
	if (len > INT_MAX)
		len = INT_MAX;
	p->started = true;

	while (off < len && !p->complete) {
		chunk = len - off;
		in_head = !p->headers_done;
		if (in_head) {
			/*
			 * Never show the library more head than allowed, so
			 * the cap holds exactly and nothing beyond it is
			 * buffered.
			 */
			if (p->head_bytes >= p->lim.max_head) {
				req_fail(p, LL_ERR_TOO_LARGE, 431,
					 "header section over %zu bytes",
					 p->lim.max_head);
				return p->err;
			}
			if (chunk > p->lim.max_head - p->head_bytes)
				chunk = p->lim.max_head - p->head_bytes;
			/* The library sees the clean bytes only: its own
			 * complaint about them comes first, then ours. */
			clean = head_scan(p, data + off, chunk);
			if (clean < chunk) {
				chunk = clean;
				if (chunk == 0)
					goto scan_failed;
			}
		}
		n = http_parser_execute(&p->hp, &req_settings,
					(const char *)data + off, chunk);
		if (p->dead)
			return p->err;
		if (p->complete) {
			off += n;
			break;
		}
		if (p->scan_error != NULL && n == chunk &&
		    HTTP_PARSER_ERRNO(&p->hp) == HPE_OK)
			goto scan_failed;
		if (HTTP_PARSER_ERRNO(&p->hp) != HPE_OK || n != chunk) {
			req_fail_library(p);
			return p->err;
		}
		if (in_head && !p->headers_done)
			p->head_bytes += n;
		off += n;
	}
	if (p->complete && complete != NULL)
		*complete = true;
	return (int)off;
scan_failed:
	req_fail(p, LL_ERR_MALFORMED, 400, "%s", p->scan_error);
	return p->err;
}

struct ll_http_request *ll_http_req_parser_take(struct ll_http_req_parser *p)
{
	struct ll_http_request *r;

	if (p == NULL || !p->complete || p->dead)
		return NULL;
	r = p->req;
	p->req = NULL;
	req_reset(p);
	return r;
}

int ll_http_req_parser_status(const struct ll_http_req_parser *p)
{
	if (p == NULL || !p->dead)
		return 0;
	return p->status;
}

const char *ll_http_req_parser_error(const struct ll_http_req_parser *p)
{
	if (p == NULL || !p->dead)
		return "no error";
	return p->msg;
}

bool ll_http_req_parser_started(const struct ll_http_req_parser *p)
{
	return p != NULL && p->started;
}

const char *ll_http_request_header(const struct ll_http_request *r,
				   const char *name)
{
	if (r == NULL)
		return NULL;
	return header_lookup(r->headers, r->n_headers, name);
}

/* RFC 6750 b64token: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" *"=" */
static bool is_b64token(const char *s)
{
	const char *q = s;

	while (*q != '\0' &&
	       (isalnum((unsigned char)*q) || strchr("-._~+/", *q) != NULL))
		q++;
	if (q == s)
		return false;
	while (*q == '=')
		q++;
	return *q == '\0';
}

const char *ll_http_request_bearer(const struct ll_http_request *r)
{
	const char *v = ll_http_request_header(r, "Authorization");

	if (v == NULL || strncasecmp(v, "Bearer", 6) != 0 ||
	    (v[6] != ' ' && v[6] != '\t'))
		return NULL;
	v += 6;
	while (*v == ' ' || *v == '\t')
		v++;
	return is_b64token(v) ? v : NULL;
}

void ll_http_request_free(struct ll_http_request *r)
{
	if (r == NULL)
		return;
	free(r->method);
	free(r->target);
	free(r->path);
	free(r->query);
	headers_free(r->headers, r->n_headers);
	free(r->body);
	free(r);
}

/* ------------------------------------------------------------------ */
/* Reason phrases                                                      */

const char *ll_http_reason(int status)
{
	switch (status) {
#define XX(num, name, string)                                                 \
	case num:                                                             \
		return #string;
		HTTP_STATUS_MAP(XX)
#undef XX
	default:
		break;
	}
	switch (status / 100) {
	case 1:
		return "Informational";
	case 2:
		return "Success";
	case 3:
		return "Redirection";
	case 4:
		return "Client Error";
	case 5:
		return "Server Error";
	default:
		return "Unknown";
	}
}

/* ------------------------------------------------------------------ */
/* Client side: the upgrade request and the answer's head              */

/* Visible ASCII only: no CR/LF (header injection), no blanks, no NUL. */
static bool is_visible(const char *s, bool allow_empty)
{
	if (*s == '\0')
		return allow_empty;
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	}
	return true;
}

int ll_http_upgrade_request_build(struct ll_buf *out, const char *host,
				  const char *path, const char *ticket)
{
	static const char fmt[] = "GET %s HTTP/1.1\r\n"
				  "Host: %s\r\n"
				  "Connection: Upgrade\r\n"
				  "Upgrade: lifeline/1\r\n"
				  "Authorization: Bearer %s\r\n"
				  "\r\n";
	int n;

	if (out == NULL || host == NULL || path == NULL || ticket == NULL)
		return LL_ERR_INVALID_ARG;
	if (!is_visible(host, false) || !is_visible(path, false) ||
	    path[0] != '/' || !is_b64token(ticket))
		return LL_ERR_INVALID_ARG;
	n = snprintf(NULL, 0, fmt, path, host, ticket);
	if (n < 0)
		return LL_ERR_INTERNAL;
	/* Checked first so that a failure leaves out untouched. */
	if ((size_t)n > ll_buf_room(out))
		return LL_ERR_TOO_LARGE;
	return ll_buf_putf(out, fmt, path, host, ticket);
}

struct resp_ctx {
	struct hdr_acc hdrs;
	bool complete;
	int err;
};

static int resp_on_header_field(http_parser *hp, const char *at, size_t len)
{
	struct resp_ctx *c = hp->data;

	if ((c->err = hdr_field(&c->hdrs, at, len)) != 0)
		return -1;
	return 0;
}

static int resp_on_header_value(http_parser *hp, const char *at, size_t len)
{
	struct resp_ctx *c = hp->data;

	if (memchr(at, '\0', len) != NULL) {
		c->err = LL_ERR_MALFORMED;
		return -1;
	}
	if ((c->err = hdr_value(&c->hdrs, at, len)) != 0)
		return -1;
	return 0;
}

static int resp_on_headers_complete(http_parser *hp)
{
	struct resp_ctx *c = hp->data;

	if ((c->err = hdr_complete(&c->hdrs)) != 0)
		return -1;
	/* Only the head is ours; 1 tells the library not to expect a body. */
	return 1;
}

static int resp_on_message_complete(http_parser *hp)
{
	struct resp_ctx *c = hp->data;

	c->complete = true;
	http_parser_pause(hp, 1);
	return 0;
}

static const http_parser_settings resp_settings = {
	.on_header_field = resp_on_header_field,
	.on_header_value = resp_on_header_value,
	.on_headers_complete = resp_on_headers_complete,
	.on_message_complete = resp_on_message_complete,
};

int ll_http_response_head_parse(const uint8_t *data, size_t len,
				const struct ll_http_limits *limits,
				struct ll_http_response **out)
{
	struct ll_http_limits lim;
	struct ll_http_response *resp = NULL;
	struct resp_ctx c;
	http_parser hp;
	size_t chunk, n;
	int r;

	if (out == NULL || (data == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	if (limits != NULL)
		lim = *limits;
	else
		ll_http_limits_default(&lim);
	memset(&c, 0, sizeof(c));
	c.hdrs.max = lim.max_headers;
	http_parser_init(&hp, HTTP_RESPONSE);
	hp.data = &c;

	/* The head must end within max_head bytes: look no further. */
	chunk = len < lim.max_head ? len : lim.max_head;
	n = http_parser_execute(&hp, &resp_settings, (const char *)data,
				chunk);
	if (c.err != 0) {
		r = c.err;
		goto out;
	}
	if (!c.complete) {
		if (HTTP_PARSER_ERRNO(&hp) == HPE_HEADER_OVERFLOW)
			r = LL_ERR_TOO_LARGE;
		else if (HTTP_PARSER_ERRNO(&hp) != HPE_OK || n != chunk)
			r = LL_ERR_MALFORMED;
		else if (chunk == lim.max_head && len >= lim.max_head)
			r = LL_ERR_TOO_LARGE;
		else
			r = 0; /* need more */
		goto out;
	}
	if (hp.http_major != 1 || n == 0 || n > INT_MAX) {
		r = LL_ERR_MALFORMED;
		goto out;
	}
	if ((resp = calloc(1, sizeof(*resp))) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	resp->status = hp.status_code;
	resp->headers = c.hdrs.headers;
	resp->n_headers = c.hdrs.n;
	c.hdrs.headers = NULL;
	c.hdrs.n = 0;
	*out = resp;
	r = (int)n;
out:
	headers_free(c.hdrs.headers, c.hdrs.n);
	return r;
}

const char *ll_http_response_header(const struct ll_http_response *r,
				    const char *name)
{
	if (r == NULL)
		return NULL;
	return header_lookup(r->headers, r->n_headers, name);
}

void ll_http_response_free(struct ll_http_response *r)
{
	if (r == NULL)
		return;
	headers_free(r->headers, r->n_headers);
	free(r);
}

/* Does a comma-separated header list contain token (case-insensitive)? */
static bool list_has_token(const char *list, const char *token)
{
	size_t tl = strlen(token), n;
	const char *s = list, *e;

	while (*s != '\0') {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		e = s;
		while (*e != '\0' && *e != ',')
			e++;
		n = (size_t)(e - s);
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n == tl && strncasecmp(s, token, tl) == 0)
			return true;
		s = e;
	}
	return false;
}

bool ll_http_response_is_upgrade(const struct ll_http_response *r)
{
	const char *up;
	bool conn = false;
	size_t i;

	if (r == NULL || r->status != 101)
		return false;
	up = ll_http_response_header(r, "Upgrade");
	if (up == NULL || strcasecmp(up, "lifeline/1") != 0)
		return false;
	for (i = 0; i < r->n_headers; i++) {
		if (strcasecmp(r->headers[i].name, "Connection") == 0 &&
		    list_has_token(r->headers[i].value, "upgrade"))
			conn = true;
	}
	return conn;
}
