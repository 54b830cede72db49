/* SPDX-License-Identifier: GPL-2.0-or-later */
/* application/x-www-form-urlencoded, strictly (rules in ll_form.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_buf.h"
#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_text.h"
#include "ll_util.h"
#include "ll_form.h"

/* What the serialiser leaves as it is. */
static bool plain_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '*' || c == '-' || c == '.' ||
	       c == '_';
}

static void set_why(char *why, size_t whylen, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
}

/*
 * Decodes the encoded bytes up to the next stop byte ('=' or '&', or the
 * end) of v into out (at most max bytes); the stop byte stays unread.
 */
static int decode_part(struct ll_buf_view *v, uint8_t stop, char *out,
		       size_t max, size_t *out_len, char *why, size_t whylen)
{
	const uint8_t *p;
	size_t n = 0;
	uint8_t c;
	int hi, lo;

	while (ll_view_remaining(v) > 0) {
		struct ll_buf_view peek = *v;

		if (ll_view_get_u8(&peek, &c) != LL_OK)
			return LL_ERR_TRUNCATED;
		if (c == stop || c == '&')
			break;
		*v = peek;
		if (c == '%') {
			if (ll_view_get_ptr(v, 2, &p) != LL_OK ||
			    (hi = ll_hex_digit(p[0])) < 0 ||
			    (lo = ll_hex_digit(p[1])) < 0) {
				set_why(why, whylen,
					"a %-escape is not two hex digits");
				return LL_ERR_MALFORMED;
			}
			c = (uint8_t)(hi << 4 | lo);
		} else if (c == '+') {
			c = ' ';
		} else if (!plain_byte(c)) {
			set_why(why, whylen,
				"the form has a byte a browser would have "
				"escaped");
			return LL_ERR_MALFORMED;
		}
		if (n == max) {
			set_why(why, whylen, "a form value is too long");
			return LL_ERR_TOO_LARGE;
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	*out_len = n;
	return LL_OK;
}

/* The decoded text passes the display rule unchanged (no NUL, no
 * control or invisible character, valid UTF-8). */
static bool text_clean(const char *s, size_t n)
{
	char tmp[LL_TEXT_PRINTABLE_SIZE(LL_FORM_MAX_BODY)];
	size_t need = ll_text_printable(tmp, sizeof(tmp), s, n);

	return need == n && memcmp(tmp, s, n) == 0;
}

static int parse_pairs(struct ll_buf_view *v,
		       const struct ll_form_field *fields, size_t n,
		       char **got, char *why, size_t whylen)
{
	char name[64], value[LL_FORM_MAX_BODY + 1];
	size_t i, name_len, value_len, max;
	uint8_t c;
	int r;

	for (;;) {
		r = decode_part(v, '=', name, sizeof(name) - 1, &name_len, why,
				whylen);
		if (r == LL_ERR_TOO_LARGE) {
			set_why(why, whylen, "the form has an unknown field");
			return LL_ERR_SCHEMA;
		}
		if (r != LL_OK)
			return r;
		if (ll_view_get_u8(v, &c) != LL_OK || c != '=' ||
		    name_len == 0) {
			set_why(why, whylen,
				"the form is not name=value pairs joined "
				"by &");
			return LL_ERR_MALFORMED;
		}
		for (i = 0; i < n; i++)
			if (strlen(fields[i].name) == name_len &&
			    memcmp(fields[i].name, name, name_len) == 0)
				break;
		if (i == n || got[i] != NULL) {
			set_why(why, whylen,
				i == n ? "the form has an unknown field"
				       : "the form repeats a field");
			return LL_ERR_SCHEMA;
		}
		max = fields[i].max_len < sizeof(value) - 1
			      ? fields[i].max_len
			      : sizeof(value) - 1;
		r = decode_part(v, '&', value, max, &value_len, why, whylen);
		if (r == LL_OK && !text_clean(value, value_len)) {
			set_why(why, whylen,
				"a form value has a control character or "
				"is not UTF-8");
			r = LL_ERR_MALFORMED;
		}
		if (r == LL_OK && (got[i] = strdup(value)) == NULL)
			r = LL_ERR_NOMEM;
		/* all of it: a value refused part way has no value_len, and
		 * its decoded bytes may be a PIN */
		ll_wipe(value, sizeof(value));
		if (r != LL_OK)
			return r;
		if (ll_view_remaining(v) == 0)
			return LL_OK;
		/* decode_part stopped at '&' or '=': only '&' goes on */
		if (ll_view_get_u8(v, &c) != LL_OK || c != '&' ||
		    ll_view_remaining(v) == 0) {
			set_why(why, whylen,
				"the form is not name=value pairs joined "
				"by &");
			return LL_ERR_MALFORMED;
		}
	}
}

int ll_form_parse(const uint8_t *body, size_t len,
		  const struct ll_form_field *fields, size_t n, char **values,
		  char *why, size_t whylen)
{
	char *got[LL_FORM_MAX_FIELDS] = { NULL };
	struct ll_buf_view v;
	size_t i;
	int r;

	if ((body == NULL && len > 0) || fields == NULL || values == NULL ||
	    n == 0 || n > LL_FORM_MAX_FIELDS)
		return LL_ERR_INVALID_ARG;
	if (len > LL_FORM_MAX_BODY) {
		set_why(why, whylen, "the form is too long");
		return LL_ERR_TOO_LARGE;
	}
	ll_buf_view_init(&v, body, len);
	r = len == 0 ? LL_OK : parse_pairs(&v, fields, n, got, why, whylen);
	for (i = 0; r == LL_OK && i < n; i++) {
		if (fields[i].required && got[i] == NULL) {
			set_why(why, whylen,
				"the form lacks a field it needs");
			r = LL_ERR_SCHEMA;
		}
	}
	if (r != LL_OK) {
		ll_form_values_free(got, n);
		return r;
	}
	memcpy(values, got, n * sizeof(*values));
	return LL_OK;
}

void ll_form_values_free(char **values, size_t n)
{
	size_t i;

	if (values == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (values[i] != NULL)
			ll_wipe(values[i], strlen(values[i]));
		LL_FREE_AND_NULL(free, values[i]);
	}
}
