/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The `file` object of a "file" audit event (#13), checked: what moved,
 * as fields an auditor can search (its SHA-256 above all).  Pure (no
 * relay, no store) so that tests/fuzz/fuzz_audit_file.c reaches exactly
 * what POST /api/v1/sessions/ID/events runs on a peer's body.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ll_err.h"
#include "ll_relay_api.h"
#include "ll_text.h"

static const char *const file_members[] = { "name",      "size",    "sha256",
					    "direction", "outcome", NULL };
static const char *const file_directions[] = { "sent", "received", NULL };
static const char *const file_outcomes[] = { "done",      "refused",
					     "cancelled", "failed",
					     "bad_hash",  "not_permitted",
					     NULL };

static bool word_of(const char *const *words, const char *s)
{
	for (; s != NULL && *words != NULL; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

static bool is_sha256_hex(json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL && strlen(s) == 64 &&
	       strspn(s, "0123456789abcdef") == 64;
}

/* Only the members of docs/API.md, each once (a JSON object's keys are
 * unique), each a string key without a NUL. */
static bool members_known(json_t *in)
{
	const char *key;
	json_t *v;

	json_object_foreach(in, key, v)
	{
		if (!word_of(file_members, key))
			return false;
	}
	return true;
}

int ll_api_audit_file(json_t *in, json_t **out)
{
	json_t *name = json_object_get(in, "name"),
	       *size = json_object_get(in, "size"),
	       *sha = json_object_get(in, "sha256"),
	       *dir = json_object_get(in, "direction"),
	       *outc = json_object_get(in, "outcome");
	char *shown;
	json_t *o;

	if (!json_is_object(in) || !members_known(in) ||
	    !json_is_string(name) ||
	    json_string_length(name) > LL_API_FILE_NAME_MAX ||
	    !json_is_integer(size) || json_integer_value(size) < 0 ||
	    (sha != NULL && !json_is_null(sha) && !is_sha256_hex(sha)) ||
	    !word_of(file_directions, json_string_value(dir)) ||
	    !word_of(file_outcomes, json_string_value(outc)))
		return LL_ERR_SCHEMA;
	/* the name through the display rule: a NUL inside ends it there,
	 * as the sender's C string would have */
	shown = ll_text_printable_new(json_string_value(name),
				      strlen(json_string_value(name)),
				      LL_API_FILE_NAME_MAX);
	if (shown == NULL)
		return LL_ERR_NOMEM;
	/* sha256 null: the sender had not hashed it yet */
	o = json_pack("{s:s,s:I,s:O?,s:O,s:O}", "name", shown, "size",
		      json_integer_value(size), "sha256", sha, "direction",
		      dir, "outcome", outc);
	free(shown);
	if (o == NULL)
		return LL_ERR_NOMEM;
	*out = o;
	return LL_OK;
}
