/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The relay's request parser, fed in pieces, with pipelining. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_err.h"
#include "ll_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ll_http_limits lim;
	struct ll_http_req_parser *p;
	struct ll_http_request *r;
	size_t off = 0, step, i;
	bool complete;
	int n;

	if (size < 1)
		return 0;
	ll_http_limits_default(&lim);
	if (data[0] & 0x80) {
		lim.max_head = 256;
		lim.max_headers = 4;
		lim.max_url = 32;
		lim.max_body = 16;
	}
	step = (size_t)(data[0] & 0x7f) + 1;
	data++;
	size--;
	if ((p = ll_http_req_parser_new(&lim)) == NULL)
		return 0;
	while (off < size) {
		size_t len = step < size - off ? step : size - off;

		n = ll_http_req_parser_feed(p, data + off, len, &complete);
		if (n < 0) {
			if (ll_http_req_parser_status(p) < 400 ||
			    ll_http_req_parser_error(p)[0] == '\0')
				abort();
			break;
		}
		if ((size_t)n > len)
			abort();
		off += (size_t)n;
		if (complete) {
			r = ll_http_req_parser_take(p);
			if (r == NULL || r->method == NULL ||
			    r->path == NULL || r->body_len > lim.max_body ||
			    strlen(r->target) > lim.max_url ||
			    r->n_headers > lim.max_headers)
				abort();
			for (i = 0; i < r->n_headers; i++) {
				if (r->headers[i].name == NULL ||
				    r->headers[i].value == NULL)
					abort();
			}
			(void)ll_http_request_bearer(r);
			(void)ll_http_request_header(r, "Host");
			if (r->upgrade) {
				ll_http_request_free(r);
				break; /* the rest is the stream */
			}
			ll_http_request_free(r);
		} else if ((size_t)n < len) {
			abort();
		}
	}
	ll_http_req_parser_free(p);
	return 0;
}
