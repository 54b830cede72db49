/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CLI's side of file transfers (`session send`, `session fetch`,
 * the offers `session wait` announces): how their answers are printed.  The holder's handlers are in
 * cli_holder.c, the transfers themselves in common/client (ll_xfer_io.h).
 */
#include <stdio.h>

#include <jansson.h>

#include "cli_commands.h"
#include "ll_xfer.h"

void ll_cli_print_file(FILE *out, const struct ll_cli_req *req, json_t *answer)
{
	const char *path = NULL, *name = NULL, *sha = NULL;
	json_int_t size = 0;

	(void)req;
	if (json_unpack(answer, "{s?s,s?s,s?I,s?s}", "path", &path, "name",
			&name, "size", &size, "sha256", &sha) != 0)
		return;
	/* the holder made every string here printable */
	fprintf(out, "%s %s (%lld bytes, SHA-256 %s)\n",
		path != NULL ? "saved" : "sent",
		path != NULL ? path : (name != NULL ? name : "?"),
		(long long)size, sha != NULL ? sha : "?");
}

void ll_cli_print_offers(FILE *out, json_t *answer)
{
	char safe[LL_XFER_NAME_MAX + 1];
	json_t *v, *size;
	size_t i;

	json_array_foreach(json_object_get(answer, "offers"), i, v)
	{
		size = json_object_get(v, "size");
		if (!json_is_string(json_object_get(v, "name")) ||
		    !json_is_integer(size) || json_integer_value(size) < 0)
			continue;
		/* made safe again here: what reaches the terminal is never
		 * trusted to the holder alone */
		ll_xfer_safe_name(json_string_value(
					  json_object_get(v, "name")),
				  safe, sizeof(safe));
		fprintf(out, "offer %s (%lld bytes)\n", safe,
			(long long)json_integer_value(size));
	}
}
