/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CLI's side of file transfers (`session send`, `session fetch`):
 * how their answers are printed.  The holder's handlers are in
 * cli_holder.c, the transfers themselves in common/client (ll_xfer_io.h).
 */
#include <stdio.h>

#include <jansson.h>

#include "cli_commands.h"

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
