/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-relay key rotate [--state-dir DIR]
 *
 * A new at-rest key: every sealed value (the second factor's seeds, the
 * key of the keyed hashes) sealed again under it in one transaction,
 * audited as "key.rotate", then the key file replaced; the old key opens
 * nothing in the store afterwards.  Refused while `serve` (or any other
 * command) holds the key.  How it survives a crash, and what a rotation
 * does not renew: core/atrest.c and docs/SECURITY.md, "Rotating the
 * at-rest key".
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "ll_build.h"
#include "ll_relay.h"
#include "cmd.h"

static void key_usage(FILE *f)
{
	fprintf(f, "Usage: lifeline-relay key rotate [--state-dir DIR]\n"
		   "Seals every secret at rest under a new at-rest key; stop "
		   "`serve` first.\n");
}

int ll_cmd_key(int argc, char **argv)
{
	static const char *const subs[] = { "rotate", NULL };
	struct ll_cmd_opts o = { 0 };
	struct ll_relay relay;
	const char *sub = NULL;
	char *crash_at = NULL;
	char id[LL_KEY_ID_LEN + 1];
	char errbuf[512];
	int rc = 1;
#if LL_TEST_HOOKS
	/* Test builds only, and hidden: dies where a crash is tested. */
	GOptionEntry extra[] = {
		{ "test-crash-at", 0, G_OPTION_FLAG_HIDDEN,
		  G_OPTION_ARG_STRING, &crash_at,
		  "Exit at before-commit or after-commit (tests)", "WHERE" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
#else
	const GOptionEntry *extra = NULL;
#endif

	if (!ll_cmd_subcommand("key", argc, argv, subs, key_usage, &sub, &rc))
		return rc;
	if (!ll_cmd_parse("key", sub, "", &o, false, extra, &argc, &argv))
		return 2;
	if (argc > 1) {
		ll_cmd_fail("key %s: unexpected argument '%s'", sub, argv[1]);
		ll_cmd_opts_clear(&o);
		g_free(crash_at);
		return 2;
	}
	memset(&relay, 0, sizeof(relay));
	errbuf[0] = '\0';
	if (ll_relay_open_state(ll_cmd_state_dir(&o), &relay, errbuf,
				sizeof(errbuf)) != 0) {
		ll_cmd_fail("%s", errbuf);
		goto out;
	}
	if (ll_relay_key_rotate(&relay, crash_at, errbuf, sizeof(errbuf)) !=
	    0) {
		ll_cmd_fail("key rotate: %s", errbuf);
		goto out;
	}
	ll_relay_key_id(relay.at_rest_key, id);
	printf("at-rest key rotated: every secret at rest is sealed under "
	       "key %s\n",
	       id);
	rc = 0;
out:
	ll_relay_close_state(&relay);
	ll_cmd_opts_clear(&o);
	g_free(crash_at);
	return rc;
}
