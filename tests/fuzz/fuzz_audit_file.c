/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the relay's check of a "file" audit event's
 * `file` object (common/relay/api/audit_file.c, ll_api_audit_file): the
 * input is the JSON a peer's ticket posts to /api/v1/sessions/ID/events
 * -- either the whole body, whose "file" member is checked, or the
 * object itself.  What the check accepts must be what the audit may
 * keep: exactly the five members, a printable name within
 * LL_API_FILE_NAME_MAX, a size >= 0, a lowercase SHA-256 or null, the
 * documented words; and it must serialise again.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ll_err.h"
#include "ll_relay_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool one_of(const char *s, const char *a, const char *b)
{
	return s != NULL && (strcmp(s, a) == 0 || strcmp(s, b) == 0);
}

static void check(json_t *f)
{
	const char *name = json_string_value(json_object_get(f, "name"));
	const char *sha = json_string_value(json_object_get(f, "sha256"));
	const char *p;
	char *text;

	if (json_object_size(f) < 4 || json_object_size(f) > 5 ||
	    name == NULL || strlen(name) > LL_API_FILE_NAME_MAX ||
	    json_integer_value(json_object_get(f, "size")) < 0 ||
	    !one_of(json_string_value(json_object_get(f, "direction")), "sent",
		    "received"))
		abort();
	/* the display rule: no C0 control, no DEL, no bidi override */
	for (p = name; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f ||
		    strncmp(p, "\xe2\x80\xae", 3) == 0 ||
		    strncmp(p, "\xe2\x81\xa6", 3) == 0)
			abort();
	if (sha != NULL &&
	    (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64))
		abort();
	text = json_dumps(f, JSON_COMPACT);
	if (text == NULL)
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *in, *f, *out = NULL;
	int r;

	in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
			NULL);
	if (in == NULL)
		return 0;
	/* a whole event body, else the object alone */
	f = json_object_get(in, "file");
	if (f == NULL)
		f = in;
	r = ll_api_audit_file(f, &out);
	if (r == LL_OK) {
		check(out);
		json_decref(out);
	} else if ((r != LL_ERR_SCHEMA && r != LL_ERR_NOMEM) || out != NULL) {
		abort();
	}
	json_decref(in);
	return 0;
}
