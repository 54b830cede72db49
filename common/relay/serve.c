/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `lifeline-relay serve --state-dir DIR [--listen HOST:PORT]` */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "ll_auth.h"
#include "ll_build.h"
#include "ll_util.h"
#include "ll_tls.h"
#include "ll_relay.h"
#include "ll_checkpoint.h"
#include "cmd.h"
#include "ll_relay_api.h"

#if LL_TEST_HOOKS
/* The hidden options of test builds: the test clock and the hash gate
 * (see ll_test_clock_use() and ll_password_test_gate_use()). */
static int test_hooks_use(const char *test_clock, const char *test_hash_gate)
{
	int r;

	if (test_clock != NULL) {
		if ((r = ll_test_clock_use(test_clock)) != 0) {
			fprintf(stderr, "lifeline-relay: test clock %s: %s\n",
				test_clock, ll_strerror(r));
			return r;
		}
		ll_warn("test clock: the wall clock follows %s (a test "
			"build; never in production)",
			test_clock);
	}
	if (test_hash_gate != NULL) {
		if ((r = ll_password_test_gate_use(test_hash_gate)) != 0) {
			fprintf(stderr, "lifeline-relay: test hash gate: %s\n",
				ll_strerror(r));
			return r;
		}
		ll_warn("test hash gate: hashes wait while %s exists (a test "
			"build; never in production)",
			test_hash_gate);
	}
	return LL_OK;
}
#endif

/*
 * Every password check (Argon2id, common/auth/password.c) takes a 19 MiB
 * buffer on a work pool thread.  glibc raises its mmap threshold to the
 * size of the first such buffer freed; from then on they come from the
 * threads' arenas and stay resident after the logins (39 MB kept after
 * a few logins at once, bench/results/relay.md).  A fixed threshold
 * turns that adjustment off: buffers of a MiB and more are mapped and
 * given back on free.  The forwarding buffers stay well under it.
 */
#define SERVE_MMAP_THRESHOLD (1024 * 1024)

int ll_cmd_serve(int argc, char **argv)
{
	g_autofree char *state_dir = NULL;
	g_autofree char *listen = NULL;
#if LL_TEST_HOOKS
	g_autofree char *test_clock = NULL;
	g_autofree char *test_hash_gate = NULL;
#endif
	GOptionEntry entries[] = {
		{ "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
		  "State directory (default /var/lib/lifeline)", "DIR" },
		{ "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
		  "Address to listen on (default from relay.conf, "
		  "else 0.0.0.0:8443)",
		  "HOST:PORT" },
#if LL_TEST_HOOKS
		/* Test builds only, and hidden: see ll_test_clock_use(). */
		{ "test-clock-file", 0, G_OPTION_FLAG_HIDDEN,
		  G_OPTION_ARG_FILENAME, &test_clock,
		  "Shift the wall clock by the seconds in FILE (tests)",
		  "FILE" },
		/* Test builds only, and hidden: ll_password_test_gate_use(). */
		{ "test-hash-gate", 0, G_OPTION_FLAG_HIDDEN,
		  G_OPTION_ARG_FILENAME, &test_hash_gate,
		  "Hold every password hash while FILE exists (tests)",
		  "FILE" },
#endif
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	GOptionContext *ctx;
	GError *gerr = NULL;
	struct ll_relay relay;
	struct ll_tls_server_opts opts;
	char errbuf[512];
	char **args, **pargv;
	int nargs, pargc, i, err = 0, r, rc = 1;
	bool ok;

	(void)mallopt(M_MMAP_THRESHOLD, SERVE_MMAP_THRESHOLD);
	/*
	 * GOption wants a program name first.  Accept argv with or without
	 * the subcommand's name in front (main passes it; it has no '-').
	 */
	args = g_new0(char *, (gsize)argc + 2);
	nargs = 0;
	args[nargs++] = (char *)"lifeline-relay serve";
	for (i = (argc > 0 && argv[0][0] != '-') ? 1 : 0; i < argc; i++)
		args[nargs++] = argv[i];
	pargv = args;
	pargc = nargs;
	ctx = g_option_context_new("- run the relay in the foreground");
	g_option_context_add_main_entries(ctx, entries, NULL);
	ok = g_option_context_parse(ctx, &pargc, &pargv, &gerr);
	g_option_context_free(ctx);
	if (!ok)
		fprintf(stderr, "lifeline-relay: serve: %s\n", gerr->message);
	else if (pargc > 1)
		fprintf(stderr,
			"lifeline-relay: serve: unexpected argument "
			"\"%s\"\n",
			pargv[1]);
	g_clear_error(&gerr);
	g_free(args);
	if (!ok || pargc > 1)
		return 2;

	ll_log_set_ident("lifeline-relay");
#if LL_TEST_HOOKS
	if (test_hooks_use(test_clock, test_hash_gate) != 0)
		return 1;
#endif
	memset(&relay, 0, sizeof(relay));
	errbuf[0] = '\0';
	if ((r = ll_relay_open_state(state_dir ? state_dir
					       : "/var/lib/lifeline",
				     &relay, errbuf, sizeof(errbuf))) != 0) {
		fprintf(stderr, "lifeline-relay: %s\n",
			errbuf[0] ? errbuf : ll_strerror(r));
		return 1;
	}

	errbuf[0] = '\0';
	if (ll_api_page_open(&relay, errbuf, sizeof(errbuf)) != 0) {
		fprintf(stderr, "lifeline-relay: %s\n", errbuf);
		goto out;
	}

	memset(&opts, 0, sizeof(opts));
	opts.cert_file = relay.cfg.cert_file;
	opts.key_file = relay.cfg.key_file;
	opts.alpn = "http/1.1";
	errbuf[0] = '\0';
	relay.tls = ll_tls_server_ctx_new(&opts, &err, errbuf, sizeof(errbuf));
	if (relay.tls == NULL) {
		fprintf(stderr, "lifeline-relay: certificate %s: %s\n",
			relay.cfg.cert_file ? relay.cfg.cert_file : "(none)",
			errbuf[0] ? errbuf : ll_strerror(err));
		goto out;
	}

	relay.api = &ll_api_ops;
	if (ll_api_sessions_recover(&relay) != 0)
		goto out;
	/* Records appended while the relay was down (admin commands, the
	 * keying of an old chain, the sessions just ended) get their
	 * checkpoint now. */
	(void)ll_relay_checkpoint(&relay, false);
	if ((r = ll_core_run(&relay, listen)) == 0)
		rc = 0;
	/* The window's refusal summaries; closing the state below then
	 * writes the shutdown checkpoint of everything appended. */
	ll_api_shutdown(&relay);
out:
	/* Connections are gone (their SSLs freed with the event base). */
	LL_FREE_AND_NULL(ll_tls_ctx_free, relay.tls);
	ll_relay_close_state(&relay);
	return rc;
}
