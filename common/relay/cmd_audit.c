/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-relay audit verify [--checkpoint FILE]...
 *                     | export [--format jsonl|csv] [--since T]
 *                              [--file-sha256 HEX]
 *
 * verify walks the chain (ll_store_audit_verify_ex), then holds it against
 * every signed checkpoint it finds (ll_checkpoint.h): the record each
 * names must carry its hash, and the chain must reach the latest.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "ll_store.h"
#include "ll_util.h"
#include "ll_crypto.h"
#include "ll_relay.h"
#include "ll_checkpoint.h"
#include "cmd.h"

static void audit_usage(FILE *f)
{
	fprintf(f, "Usage: lifeline-relay audit verify [--state-dir DIR] "
		   "[--checkpoint FILE]...\n"
		   "       lifeline-relay audit export [--state-dir DIR] "
		   "[--format jsonl|csv] [--since RFC3339] "
		   "[--file-sha256 HEX]\n");
}

/* The checkpoints verify holds the chain against. */
struct cps {
	struct ll_checkpoint latest; /* highest seq of those that verify */
	bool have;
	int n;          /* checkpoints read */
	bool unsigned_; /* no public key: signatures not checked */
	int bad;        /* a checkpoint failed (message printed) */
	struct ll_checkpoint mismatch; /* seq 0: none */
	char mismatch_where[600];
};

static void time_text(int64_t t, char *buf, size_t len)
{
	ll_format_rfc3339(t, buf, len);
}

/* One checkpoint against the chain: its record must carry its head.
 * The first that does not is kept for the verdict. */
static void cp_check_record(struct ll_relay *relay,
			    const struct ll_checkpoint *cp, int64_t head_seq,
			    const char *where, struct cps *c)
{
	uint8_t mac[LL_HASH_LEN];

	if (cp->seq > head_seq || c->mismatch.seq != 0)
		return; /* the truncation message says it, once */
	if (ll_store_audit_mac_at(relay->store, cp->seq, mac) != LL_OK ||
	    !ll_ct_equal(mac, cp->head, LL_HASH_LEN)) {
		c->mismatch = *cp;
		snprintf(c->mismatch_where, sizeof(c->mismatch_where), "%s",
			 where);
	}
}

/* Reads every checkpoint line of path; missing files are fine unless
 * must_exist (a file named on the command line). */
static int cps_read(struct ll_relay *relay, const char *path, bool must_exist,
		    int64_t head_seq, struct cps *c)
{
	gchar *text = NULL, **lines;
	struct ll_checkpoint cp;
	char where[600];
	int i, r;

	if (!g_file_get_contents(path, &text, NULL, NULL)) {
		if (!must_exist)
			return 0;
		ll_cmd_fail("audit verify: cannot read %s", path);
		return -1;
	}
	lines = g_strsplit(text, "\n", -1);
	for (i = 0; lines[i] != NULL; i++) {
		snprintf(where, sizeof(where), "%s:%d", path, i + 1);
		r = ll_checkpoint_parse(lines[i], &cp);
		if (r == LL_ERR_NOT_FOUND)
			continue;
		c->n++;
		if (r != LL_OK) {
			fprintf(stderr,
				"audit: %s: not a valid checkpoint (altered?)\n",
				where);
			c->bad++;
			continue;
		}
		if (!relay->audit.has_pub) {
			c->unsigned_ = true;
		} else if (ll_checkpoint_verify(&cp, relay->audit.sign_pub) !=
			   LL_OK) {
			fprintf(stderr,
				"audit: %s: the checkpoint's signature does "
				"not verify with %s: forged or altered\n",
				where, relay->cfg.audit_sign_pub_file);
			c->bad++;
			continue;
		}
		cp_check_record(relay, &cp, head_seq, where, c);
		if (!c->have || cp.seq > c->latest.seq)
			c->latest = cp;
		c->have = true;
	}
	g_strfreev(lines);
	g_free(text);
	return 0;
}

/* The verdict on a chain walk that found a fault. */
static void report_fault(struct ll_relay *relay,
			 const struct ll_audit_verify *v, const struct cps *c,
			 int64_t head_seq)
{
	char t[40], mine[LL_AUDIT_KEY_ID_LEN + 1];
	long long n = (long long)v->bad_seq;

	switch (v->fault) {
	case LL_AUDIT_KEY_MISMATCH:
		snprintf(mine, sizeof(mine), "%s", relay->audit.key_id);
		fprintf(stderr,
			"audit: record %lld does not verify (hash mismatch): "
			"the keyed epoch names key id %s, but %s is key id "
			"%s\n",
			n, v->key_id, relay->cfg.audit_key_file, mine);
		return;
	case LL_AUDIT_NOT_KEYED:
		fprintf(stderr,
			"audit: record 1 does not verify (hash mismatch): the "
			"audit key %s exists but the chain has no keyed epoch: "
			"the chain was rewritten without the key\n",
			relay->cfg.audit_key_file);
		return;
	default:
		break;
	}
	if (c->have && c->latest.seq > head_seq) {
		time_text(c->latest.time, t, sizeof(t));
		fprintf(stderr,
			"audit: record %lld does not verify (hash mismatch): "
			"records were deleted or renumbered from here on: the "
			"chain ends at record %lld but the checkpoint of %s "
			"says it had %lld\n",
			n, (long long)head_seq, t, (long long)c->latest.seq);
		return;
	}
	switch (v->fault) {
	case LL_AUDIT_GAP:
		fprintf(stderr,
			"audit: record %lld does not verify (hash mismatch): "
			"the records before it are missing (deleted; the "
			"numbering jumps from %lld to %lld)\n",
			n, (long long)v->last_seq, n);
		break;
	case LL_AUDIT_HEAD:
		fprintf(stderr,
			"audit: record %lld does not verify (hash mismatch): "
			"the chain does not end where audit_head says: "
			"records were cut off the end or added\n",
			n);
		break;
	default:
		fprintf(stderr,
			"audit: record %lld does not verify (hash mismatch): "
			"the log was altered after it was written\n",
			n);
		break;
	}
}

static int audit_verify(struct ll_relay *relay, char **extra)
{
	struct ll_audit_verify v;
	uint8_t head[LL_HASH_LEN];
	int64_t head_seq = 0;
	gchar *path;
	struct cps c;
	char t[40];
	int r, i;

	memset(&c, 0, sizeof(c));
	if ((r = ll_store_audit_verify_ex(relay->store, &v)) != LL_OK ||
	    (r = ll_store_audit_head(relay->store, &head_seq, head)) != 0) {
		ll_cmd_fail("audit verify: cannot read the audit log: %s (%s)",
			    ll_strerror(r), ll_store_errmsg(relay->store));
		return 1;
	}
	/* Every checkpoint kept here, and those named (copies kept off the
	 * box: a file, or lines from syslog or the journal). */
	path = g_build_filename(relay->cfg.state_dir, LL_CHECKPOINT_FILE,
				NULL);
	cps_read(relay, path, false, head_seq, &c);
	g_free(path);
	path = g_build_filename(relay->cfg.state_dir, LL_CHECKPOINT_LOG ".1",
				NULL);
	cps_read(relay, path, false, head_seq, &c);
	g_free(path);
	path = g_build_filename(relay->cfg.state_dir, LL_CHECKPOINT_LOG, NULL);
	cps_read(relay, path, false, head_seq, &c);
	g_free(path);
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		if (cps_read(relay, extra[i], true, head_seq, &c) != 0)
			return 1;

	if (v.fault != LL_AUDIT_INTACT) {
		report_fault(relay, &v, &c, head_seq);
		return 1;
	}
	if (c.have && c.latest.seq > head_seq) {
		time_text(c.latest.time, t, sizeof(t));
		fprintf(stderr,
			"audit: truncated: the chain ends at record %lld but "
			"the checkpoint of %s says it had %lld: records %lld "
			"to %lld were cut off\n",
			(long long)head_seq, t, (long long)c.latest.seq,
			(long long)head_seq + 1, (long long)c.latest.seq);
		return 1;
	}
	if (c.have && c.latest.keyed_from != 0 &&
	    c.latest.keyed_from != v.keyed_from) {
		fprintf(stderr,
			"audit: record %lld does not verify (hash mismatch): "
			"the checkpoint says the keyed epoch starts there, "
			"the chain says at %lld\n",
			(long long)c.latest.keyed_from,
			(long long)v.keyed_from);
		return 1;
	}
	if (c.mismatch.seq != 0) {
		time_text(c.mismatch.time, t, sizeof(t));
		fprintf(stderr,
			"audit: record %lld does not verify (hash mismatch): "
			"the checkpoint of %s (%s) names another hash for it: "
			"it was altered, or the chain recomputed\n",
			(long long)c.mismatch.seq, t, c.mismatch_where);
		return 1;
	}
	if (c.bad > 0)
		return 1;
	if (v.keyed_from != 0 && !c.have) {
		fprintf(stderr,
			"audit: no checkpoint in %s (%s, %s): the chain is "
			"keyed, but records cut off its end cannot be ruled "
			"out\n",
			relay->cfg.state_dir, LL_CHECKPOINT_FILE,
			LL_CHECKPOINT_LOG);
		return 1;
	}
	if (!v.macs_checked) {
		printf("audit: %lld records, links and checkpoints intact; "
		       "MACs not checked (no audit key at %s)\n",
		       (long long)v.n_records, relay->cfg.audit_key_file);
		fflush(stdout);
		return 0;
	}
	printf("audit: %lld records, chain intact\n", (long long)v.n_records);
	fflush(stdout);
	if (c.have) {
		time_text(c.latest.time, t, sizeof(t));
		fprintf(stderr,
			"audit: %d checkpoint(s) checked%s; the latest, of %s, "
			"is at record %lld\n",
			c.n,
			c.unsigned_
				? " (signatures not checked: no public key)"
				: "",
			t, (long long)c.latest.seq);
	} else if (v.keyed_from == 0) {
		fprintf(stderr,
			"audit: the chain is not keyed yet: the next "
			"`lifeline-relay serve`, or admin command that "
			"writes, keys it\n");
	}
	return 0;
}

static int audit_export(struct ll_relay *relay, const char *format,
			const char *since_text, const char *sha)
{
	int64_t since = 0;
	int r;

	if (sha != NULL &&
	    (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64)) {
		ll_cmd_fail("audit export: --file-sha256 takes 64 lowercase "
			    "hex digits");
		return 2;
	}
	if (since_text != NULL &&
	    ll_parse_rfc3339(since_text, &since) != LL_OK) {
		ll_cmd_fail("audit export: --since '%s' is not an RFC 3339 "
			    "time (like 2026-01-31T12:00:00Z)",
			    since_text);
		return 2;
	}
	r = ll_store_audit_export_file(relay->store, stdout, format, since,
				       sha);
	if (r != LL_OK || fflush(stdout) != 0) {
		ll_cmd_fail("audit export: %s (%s)", ll_strerror(r),
			    ll_store_errmsg(relay->store));
		return 1;
	}
	return 0;
}

int ll_cmd_audit(int argc, char **argv)
{
	static const char *const subs[] = { "verify", "export", NULL };
	struct ll_cmd_opts o = { 0 };
	gchar *format = NULL, *since = NULL, *sha = NULL;
	gchar **extra_cps = NULL;
	const GOptionEntry verify_opts[] = {
		{ "checkpoint", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &extra_cps,
		  "also check against the checkpoints in FILE (a copy kept "
		  "elsewhere, syslog or journal lines)",
		  "FILE" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	const GOptionEntry export_opts[] = {
		{ "format", 0, 0, G_OPTION_ARG_STRING, &format,
		  "jsonl (default) or csv", "FORMAT" },
		{ "since", 0, 0, G_OPTION_ARG_STRING, &since,
		  "only records at or after this RFC 3339 time", "TIME" },
		{ "file-sha256", 0, 0, G_OPTION_ARG_STRING, &sha,
		  "only the records of file transfers of this SHA-256",
		  "HEX" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	struct ll_relay relay;
	char errbuf[512];
	const char *sub;
	bool verify;
	int rc = 2;

	memset(&relay, 0, sizeof(relay));
	if (!ll_cmd_subcommand("audit", argc, argv, subs, audit_usage, &sub,
			       &rc))
		return rc;
	verify = strcmp(sub, "verify") == 0;
	if (!ll_cmd_parse("audit", sub,
			  verify ? "- check the audit chain and its checkpoints"
				 : "- write audit records to stdout",
			  &o, false, verify ? verify_opts : export_opts, &argc,
			  &argv))
		goto out;
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
	/* A reader: verify and export create and append nothing. */
	if (ll_relay_open_state_ro(ll_cmd_state_dir(&o), &relay, errbuf,
				   sizeof(errbuf)) != 0) {
		ll_cmd_fail("%s", errbuf);
		goto out;
	}
	if (verify)
		rc = audit_verify(&relay, extra_cps);
	else
		rc = audit_export(&relay, format, since, sha);
out:
	ll_relay_close_state(&relay);
	ll_cmd_opts_clear(&o);
	g_free(format);
	g_free(since);
	g_free(sha);
	g_strfreev(extra_cps);
	return rc;
}
