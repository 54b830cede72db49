/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-relay brand check DIR: the brand validator (common/brand) for
 * people, the same check the build runs on the brand it compiles in
 * (docs/API.md sections 1 and 13).  It reads no state: --state-dir is
 * taken, as by every command, and not used.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "ll_brand.h"
#include "ll_relay.h"
#include "cmd.h"

static void brand_usage(FILE *f)
{
	fprintf(f, "Usage: lifeline-relay brand check DIR\n"
		   "Checks a brand folder (branding/NAME): prints each "
		   "problem as FILE:LINE: message.\n");
}

int ll_cmd_brand(int argc, char **argv)
{
	gchar *state_dir = NULL;
	GOptionEntry opts[] = { { "state-dir", 0, 0, G_OPTION_ARG_FILENAME,
				  &state_dir, "not used by this command",
				  "DIR" },
				{ NULL, 0, 0, 0, NULL, NULL, NULL } };
	GOptionContext *oc = NULL;
	GError *gerr = NULL;
	int rc = 2;

	if (argc < 2) {
		brand_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		brand_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "check") != 0) {
		ll_cmd_fail("brand: unknown subcommand '%s' (check)", argv[1]);
		return 2;
	}
	oc = g_option_context_new("DIR - check a brand folder");
	g_option_context_add_main_entries(oc, opts, NULL);
	argc -= 1;
	argv += 1;
	if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
		ll_cmd_fail("brand check: %s", gerr->message);
		goto out;
	}
	if (argc != 2) {
		ll_cmd_fail("brand check: give one folder (branding/NAME)");
		goto out;
	}
	rc = ll_brand_check_print(argv[1], LL_BRAND_CHECK_SOURCE, NULL, stdout,
				  stderr) == 0
		     ? 0
		     : 1;
out:
	g_clear_error(&gerr);
	g_option_context_free(oc);
	g_free(state_dir);
	return rc;
}
