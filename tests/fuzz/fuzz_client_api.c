/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The client's parsing of the relay's answers (common/client, through
 * ll_api_parse.h): what a hostile relay, or anything between it and us,
 * may put in a response body.  The first byte picks the parser, the rest
 * is the body (0xf0..0xf3: the channel queue's four answers; 0xe0..0xe7:
 * single sign-on's two, the start and the pending poll; 0xe8..0xef:
 * the session's end reason).  Every parser must refuse or accept without
 * a crash, leak or read past the body; on refusal the output stays
 * untouched and the
 * error is a sentence; on success the strings are within their caps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_api_client.h"
#include "ll_api_parse.h"
#include "ll_control.h"
#include "ll_err.h"
#include "ll_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(int r, const struct ll_client_error *e)
{
	if (r >= 0 || e->code != r || e->message[0] == '\0' ||
	    memchr(e->message, '\0', sizeof(e->message)) == NULL)
		abort();
}

/* The channel queue's four answers (first bytes 0xf0..0xf3). */
static void queue_answers(int which, const char *body, size_t len)
{
	struct ll_client_error e;
	struct ll_api_join jn;
	struct ll_api_queue_status qs;
	struct ll_api_queue_list ql;
	struct ll_api_pin p;
	size_t i;
	int r;

	memset(&jn, 0, sizeof(jn));
	memset(&qs, 0, sizeof(qs));
	memset(&ql, 0, sizeof(ql));
	memset(&p, 0, sizeof(p));
	switch (which + 6) {
	case 6:
		r = ll_api_parse_join(body, len, &jn, &e);
		if (r != 0)
			check_error(r, &e);
		else if (jn.ticket == NULL || jn.entry_id == NULL ||
			 jn.position < 1 || jn.poll_interval_s < 1)
			abort();
		ll_api_join_clear(&jn);
		break;
	case 7:
		r = ll_api_parse_queue_status(body, len, "a-queue-ticket", &qs,
					      &e);
		if (r != 0)
			check_error(r, &e);
		else if (qs.picked ? (qs.redeem.ticket == NULL ||
				      strcmp(qs.redeem.ticket,
					     "a-queue-ticket") != 0 ||
				      qs.redeem.stream_path[0] != '/')
				   : qs.position < 1)
			abort();
		ll_api_queue_status_clear(&qs);
		break;
	case 8:
		r = ll_api_parse_queue_list(body, len, &ql, &e);
		if (r != 0) {
			check_error(r, &e);
			if (ql.entries != NULL || ql.n_entries != 0)
				abort();
		} else {
			for (i = 0; i < ql.n_entries; i++)
				if (ql.entries[i].entry_id == NULL ||
				    ql.entries[i].channel == NULL)
					abort();
		}
		ll_api_queue_list_clear(&ql);
		break;
	case 9:
		r = ll_api_parse_pickup(body, len, &p, &e);
		if (r != 0) {
			check_error(r, &e);
			if (p.ticket != NULL)
				abort();
		} else if (p.ticket == NULL || p.session_id == NULL ||
			   p.pin != NULL) {
			abort();
		}
		ll_api_pin_clear(&p);
		break;
	}
}

/* Single sign-on's answers (first bytes 0xe0..0xe7): what the agent
 * hands the system browser is an https:// page without a space or a
 * control character, and the pace is 1..60 s. */
static void sso_answers(int which, const char *body, size_t len)
{
	struct ll_client_error e;
	struct ll_api_sso s;
	int64_t poll = -1;
	const char *p;
	int r;

	memset(&s, 0, sizeof(s));
	if (which == 0) {
		r = ll_api_parse_sso(body, len, &s, &e);
		if (r != 0) {
			check_error(r, &e);
			if (s.authorize_url != NULL || s.sso_id != NULL)
				abort();
		} else {
			if (s.sso_id == NULL || s.sso_id[0] == '\0' ||
			    strlen(s.sso_id) > 64 || s.expires_in < 1 ||
			    s.poll_interval_s < 1 || s.poll_interval_s > 60 ||
			    strncmp(s.authorize_url, "https://", 8) != 0 ||
			    strlen(s.authorize_url) > 8192)
				abort();
			for (p = s.authorize_url; *p != '\0'; p++)
				if ((unsigned char)*p <= 0x20 ||
				    (unsigned char)*p == 0x7f)
					abort();
		}
		ll_api_sso_clear(&s);
		return;
	}
	r = ll_api_parse_sso_pending(body, len, &poll, &e);
	if (r != 0) {
		check_error(r, &e);
		if (poll != -1)
			abort();
	} else if (poll < 1 || poll > 60) {
		abort();
	}
}

/* GET /api/v1/sessions/ID/end (first bytes 0xe8..0xef): two words of
 * [a-z_] within their arrays, or nothing changed. */
static void session_end_answer(const char *body, size_t len)
{
	struct ll_client_error e;
	struct ll_api_session_end se;
	size_t i;
	int r;

	memset(&se, 'x', sizeof(se));
	r = ll_api_parse_session_end(body, len, &se, &e);
	if (r != 0) {
		check_error(r, &e);
		for (i = 0; i < sizeof(se); i++)
			if (((const char *)&se)[i] != 'x')
				abort();
		return;
	}
	if (se.state[0] == '\0' ||
	    strspn(se.state, "abcdefghijklmnopqrstuvwxyz_") !=
		    strlen(se.state) ||
	    strspn(se.end_reason, "abcdefghijklmnopqrstuvwxyz_") !=
		    strlen(se.end_reason))
		abort();
}

/* The answers picked by first bytes 0xe0..0xff. */
static void other_answers(uint8_t first, const char *body, size_t len)
{
	if (first >= 0xf0)
		queue_answers(first & 3, body, len);
	else if (first >= 0xe8)
		session_end_answer(body, len);
	else
		sso_answers(first & 1, body, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ll_client_error e;
	struct ll_api_login l = { 0 };
	struct ll_api_pin p = { 0 };
	struct ll_api_session_list sl = { 0 };
	struct ll_api_redeem d = { 0 };
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
	if (data[0] >= 0xe0) {
		other_answers(data[0], body, len);
		free((char *)body);
		return 0;
	}
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
		} else if (!ll_pin_well_formed(p.pin) || p.ticket == NULL ||
			   p.session_id == NULL) {
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
			   (d.capabilities & ~LL_CAP_ALL) != 0 ||
			   (d.technician.display_name != NULL &&
			    strlen(d.technician.display_name) > 1024) ||
			   (d.technician.org_display_name != NULL &&
			    strlen(d.technician.org_display_name) > 1024)) {
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
