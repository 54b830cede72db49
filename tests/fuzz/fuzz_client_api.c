/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The client's parsing of the relay's answers (common/client, through
 * ll_api_parse.h): what a hostile relay, or anything between it and us,
 * may put in a response body.  The first byte picks the parser, the rest
 * is the body.  Every parser must refuse or accept without a crash, leak
 * or read past the body; on refusal the output stays untouched and the
 * error is a sentence; on success the strings are within their caps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_api_client.h"
#include "ll_api_parse.h"
#include "ll_control.h"
#include "ll_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(int r, const struct ll_client_error *e)
{
	if (r >= 0 || e->code != r || e->message[0] == '\0' ||
	    memchr(e->message, '\0', sizeof(e->message)) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ll_client_error e;
	struct ll_api_login l;
	struct ll_api_pin p;
	struct ll_api_session_list sl;
	struct ll_api_redeem d;
	const char *body;
	char *mt = (char *)data; /* a sentinel: untouched on failure */
	size_t len, i;
	int r;

	if (size < 1)
		return 0;
	/* The body without a terminating NUL, as libcurl's buffer may be
	 * read: a copy of exactly len bytes lets ASan see any overread. */
	len = size - 1;
	body = len > 0 ? malloc(len) : NULL;
	if (len > 0) {
		if (body == NULL)
			return 0;
		memcpy((char *)body, data + 1, len);
	}
	memset(&l, 0, sizeof(l));
	memset(&p, 0, sizeof(p));
	memset(&sl, 0, sizeof(sl));
	memset(&d, 0, sizeof(d));
	switch (data[0] % 6) {
	case 0:
		r = ll_api_parse_login(body, len, &l, &e);
		if (r != 0) {
			check_error(r, &e);
			if (l.token != NULL)
				abort();
		} else if (l.token == NULL || strlen(l.token) > 1024 ||
			   l.technician.name == NULL ||
			   l.technician.org == NULL) {
			abort();
		}
		ll_api_login_clear(&l);
		break;
	case 1:
		r = ll_api_parse_mfa_token(body, len, &mt, &e);
		if (r != 0) {
			check_error(r, &e);
			if (mt != (char *)data)
				abort();
		} else {
			if (mt == NULL || strlen(mt) > 1024)
				abort();
			free(mt);
		}
		break;
	case 2:
		r = ll_api_parse_pin(body, len, &p, &e);
		if (r != 0) {
			check_error(r, &e);
			if (p.pin != NULL)
				abort();
		} else if (p.pin == NULL || strlen(p.pin) != 6 ||
			   p.ticket == NULL || p.session_id == NULL) {
			abort();
		}
		ll_api_pin_clear(&p);
		break;
	case 3:
		r = ll_api_parse_sessions(body, len, &sl, &e);
		if (r != 0) {
			check_error(r, &e);
			if (sl.sessions != NULL || sl.n_sessions != 0)
				abort();
		} else {
			for (i = 0; i < sl.n_sessions; i++)
				if (sl.sessions[i].session_id == NULL ||
				    sl.sessions[i].state == NULL)
					abort();
		}
		ll_api_session_list_clear(&sl);
		break;
	case 4:
		r = ll_api_parse_redeem(body, len, &d, &e);
		if (r != 0) {
			check_error(r, &e);
			if (d.ticket != NULL)
				abort();
		} else if (d.ticket == NULL || d.stream_path == NULL ||
			   d.stream_path[0] != '/' ||
			   (d.capabilities & ~LL_CAP_ALL) != 0) {
			abort();
		}
		ll_api_redeem_clear(&d);
		break;
	default:
		/* An error answer: any status, any body, never a crash;
		 * the relay's words arrive without control characters. */
		r = ll_client_error_from_body(400 + (int)(len % 200), body,
					      len, (long)len, &e);
		if (r >= 0)
			abort();
		for (i = 0; e.message[i] != '\0'; i++)
			if ((unsigned char)e.message[i] < 0x20 ||
			    (unsigned char)e.message[i] == 0x7f)
				abort();
		for (i = 0; e.api_code[i] != '\0'; i++)
			if ((unsigned char)e.api_code[i] < 0x20 ||
			    (unsigned char)e.api_code[i] == 0x7f)
				abort();
		break;
	}
	free((char *)body);
	return 0;
}
