/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-relay audit verify | export [--format jsonl|csv] [--since T]
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "ll_store.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "cmd.h"

static void audit_usage(FILE *f)
{
	fprintf(f, "Usage: lifeline-relay audit verify [--state-dir DIR]\n"
		   "       lifeline-relay audit export [--state-dir DIR] "
		   "[--format jsonl|csv] [--since RFC3339]\n");
}

static int audit_verify(struct ll_relay *relay)
{
	int64_t n = 0, bad = 0;
	int r;

	r = ll_store_audit_verify(relay->store, &n, &bad);
	if (r == LL_OK) {
		printf("audit: %lld records, chain intact\n", (long long)n);
		fflush(stdout);
		return 0;
	}
	if (r == LL_ERR_AUTH_FAILED) {
		fprintf(stderr,
			"audit: record %lld does not verify (hash mismatch): "
			"the log was altered after it was written\n",
			(long long)bad);
		return 1;
	}
	ll_cmd_fail("audit verify: cannot read the audit log: %s (%s)",
		    ll_strerror(r), ll_store_errmsg(relay->store));
	return 1;
}

static int audit_export(struct ll_relay *relay, const char *format,
			const char *since_text)
{
	int64_t since = 0;
	int r;

	if (since_text != NULL &&
	    ll_parse_rfc3339(since_text, &since) != LL_OK) {
		ll_cmd_fail("audit export: --since '%s' is not an RFC 3339 "
			    "time (like 2026-01-31T12:00:00Z)",
			    since_text);
		return 2;
	}
	r = ll_store_audit_export(relay->store, stdout, format, since);
	if (r != LL_OK || fflush(stdout) != 0) {
		ll_cmd_fail("audit export: %s (%s)", ll_strerror(r),
			    ll_store_errmsg(relay->store));
		return 1;
	}
	return 0;
}

int ll_cmd_audit(int argc, char **argv)
{
	gchar *state_dir = NULL, *format = NULL, *since = NULL;
	GOptionEntry common[] = {
		{ "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
		  "state directory (default " LL_DEFAULT_STATE_DIR ")",
		  "DIR" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	GOptionEntry export_opts[] = {
		{ "format", 0, 0, G_OPTION_ARG_STRING, &format,
		  "jsonl (default) or csv", "FORMAT" },
		{ "since", 0, 0, G_OPTION_ARG_STRING, &since,
		  "only records at or after this RFC 3339 time", "TIME" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	struct ll_relay relay;
	GOptionContext *oc = NULL;
	GError *gerr = NULL;
	char errbuf[512];
	const char *sub;
	int rc = 2;

	memset(&relay, 0, sizeof(relay));
	if (argc < 2) {
		audit_usage(stderr);
		return 2;
	}
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		audit_usage(stdout);
		return 0;
	}
	if (strcmp(sub, "verify") != 0 && strcmp(sub, "export") != 0) {
		ll_cmd_fail("audit: unknown subcommand '%s' (verify, export)",
			    sub);
		return 2;
	}
	oc = g_option_context_new(strcmp(sub, "verify") == 0
					  ? "- check the audit hash chain"
					  : "- write audit records to stdout");
	g_option_context_add_main_entries(oc, common, NULL);
	if (strcmp(sub, "export") == 0)
		g_option_context_add_main_entries(oc, export_opts, NULL);
	argc -= 1;
	argv += 1;
	if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
		ll_cmd_fail("audit %s: %s", sub, gerr->message);
		goto out;
	}
	if (argc > 1) {
		ll_cmd_fail("audit %s: unexpected argument '%s'", sub,
			    argv[1]);
		goto out;
	}
	if (format == NULL)
		format = g_strdup("jsonl");
	if (strcmp(format, "jsonl") != 0 && strcmp(format, "csv") != 0) {
		ll_cmd_fail("audit export: --format must be jsonl or csv");
		goto out;
	}
	rc = 1;
	if (ll_relay_open_state(state_dir ? state_dir : LL_DEFAULT_STATE_DIR,
				&relay, errbuf, sizeof(errbuf)) != 0) {
		ll_cmd_fail("%s", errbuf);
		goto out;
	}
	if (strcmp(sub, "verify") == 0)
		rc = audit_verify(&relay);
	else
		rc = audit_export(&relay, format, since);
out:
	ll_relay_close_state(&relay);
	g_clear_error(&gerr);
	if (oc != NULL)
		g_option_context_free(oc);
	g_free(state_dir);
	g_free(format);
	g_free(since);
	return rc;
}
