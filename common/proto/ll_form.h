/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HTML form bodies (application/x-www-form-urlencoded), read strictly: the
 * PIN page posts its form without JavaScript (docs/API.md, "The PIN
 * page").  Sans-I/O: bytes in, decoded values out.
 *
 * The rules (the WHATWG URL standard's serialiser is what browsers send;
 * anything it would not produce is refused):
 *   - pairs "name=value" joined by '&'; no empty pair (a leading,
 *     trailing or doubled '&'), every pair has exactly one '=';
 *   - bytes as sent: ALPHA, DIGIT, "*-._", '+' (a space) and "%XX"
 *     escapes (hex, either case); anything else is refused;
 *   - the decoded name is one of the caller's fields, each at most once;
 *   - the decoded value is at most its field's max_len bytes, valid
 *     UTF-8, with no control or invisible character (the display rule of
 *     ll_text.h must leave it unchanged: %00 included);
 *   - a required field must be there.
 */
#ifndef LL_FORM_H
#define LL_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bodies longer than this are refused before anything is decoded. */
#define LL_FORM_MAX_BODY 4096
/* Fields one call may know (the SSO callback's query knows 11). */
#define LL_FORM_MAX_FIELDS 16

struct ll_form_field {
	const char *name; /* as the form's <input name=...> */
	size_t max_len;   /* decoded bytes */
	bool required;
};

/*
 * Parses body[0..len) against fields[0..n).  On LL_OK values[i] is the
 * decoded value of fields[i] (malloc'd, NUL-terminated) or NULL when the
 * form did not have it; on failure values[] is untouched and why (may be
 * NULL) holds a sentence that quotes nothing of the input.  Errors:
 * LL_ERR_TOO_LARGE (body or a value over its cap), LL_ERR_MALFORMED
 * (syntax, a byte or an escape not allowed, bad UTF-8 or a control
 * character), LL_ERR_SCHEMA (an unknown or repeated field, a required
 * one missing), LL_ERR_INVALID_ARG, LL_ERR_NOMEM.
 */
int ll_form_parse(const uint8_t *body, size_t len,
		  const struct ll_form_field *fields, size_t n, char **values,
		  char *why, size_t whylen);

/* Wipes (the values may be secrets: a PIN) and frees values[0..n). */
void ll_form_values_free(char **values, size_t n);

#endif
