/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Counters for /metrics in the Prometheus text format (version 0.0.4),
 * and who may read them: a peer address in metrics_allow (loopback by
 * default), or anyone with the metrics token.  The counters say how busy
 * the relay is and what it refuses, which is nobody else's business.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <inttypes.h>

#include <glib.h>

#include "ll_cidr.h"
#include "ll_crypto.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "ll_tls_pipe.h"
#include "core.h"

int ll_core_metrics_access_load(const struct ll_relay_config *cfg,
				struct ll_core_metrics_access *out,
				char *errbuf, size_t errlen)
{
	struct ll_core_metrics_access a;
	char msg[160] = "";
	int r;

	memset(&a, 0, sizeof(a));
	/* Checked when the configuration was read; again for the list. */
	r = ll_cidr_list_parse(cfg->metrics_allow ? cfg->metrics_allow : "",
			       &a.allow, msg, sizeof(msg));
	if (r != LL_OK) {
		snprintf(errbuf, errlen, "metrics_allow: %s", msg);
		return r;
	}
	if (cfg->metrics_token_file != NULL) {
		r = ll_relay_read_metrics_token(cfg->metrics_token_file,
						a.token_sha, errbuf, errlen);
		if (r != LL_OK) {
			ll_core_metrics_access_clear(&a);
			return r;
		}
		a.has_token = true;
	}
	ll_core_metrics_access_clear(out);
	*out = a;
	return LL_OK;
}

void ll_core_metrics_access_clear(struct ll_core_metrics_access *a)
{
	ll_cidr_list_free(a->allow);
	ll_wipe(a, sizeof(*a));
}

bool ll_core_metrics_allowed(const struct ll_core_metrics_access *a,
			     const char *peer,
			     const struct ll_http_request *req)
{
	uint8_t sha[32];
	const char *bearer;
	bool ok;

	/*
	 * The TCP peer's address.  Behind a reverse proxy on this host every
	 * request comes from loopback: leave metrics_allow empty there and
	 * use the token.  Trusting X-Forwarded-For from known proxies is
	 * issue 10 (trusted_proxies); until then no header is believed.
	 */
	if (ll_cidr_list_match(a->allow, peer))
		return true;
	if (!a->has_token || (bearer = ll_http_request_bearer(req)) == NULL)
		return false;
	/* Hashes of equal length: the compare leaks neither the token's
	 * bytes nor its length. */
	if (ll_sha256(bearer, strlen(bearer), sha) != LL_OK)
		return false;
	ok = ll_ct_equal(sha, a->token_sha, sizeof(sha));
	ll_wipe(sha, sizeof(sha));
	return ok;
}

void ll_relay_count_refusal(struct ll_relay *relay, enum ll_api_code code)
{
	if (relay == NULL || code <= LL_API_OK || code >= LL_API_CODE_COUNT ||
	    (size_t)code >= LL_ARRAY_SIZE(relay->metrics.refusals))
		return;
	relay->metrics.refusals[code]++;
}

static void metric(GString *s, const char *name, const char *type,
		   const char *help, uint64_t value)
{
	g_string_append_printf(s,
			       "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n",
			       name, help, name, type, name, value);
}

/* One sample per guess-budget scope; the label has two values, never an
 * org's name, so the series stay few however many orgs there are. */
static void scoped(GString *s, const char *name, const char *type,
		   const char *help,
		   const uint64_t value[LL_REDEEM_SCOPE_COUNT])
{
	static const char *const scopes[LL_REDEEM_SCOPE_COUNT] = {
		[LL_REDEEM_SCOPE_RELAY] = "relay",
		[LL_REDEEM_SCOPE_ORG] = "org",
	};
	int i;

	g_string_append_printf(s, "# HELP %s %s\n# TYPE %s %s\n", name, help,
			       name, type);
	for (i = 0; i < LL_REDEEM_SCOPE_COUNT; i++)
		g_string_append_printf(s, "%s{scope=\"%s\"} %" PRIu64 "\n",
				       name, scopes[i], value[i]);
}

#define FIELD(member) offsetof(struct ll_relay_metrics, member)

/* One row a metric: its name, type and help, and where its value is in
 * struct ll_relay_metrics (a uint64_t, or for by_scope an array of them
 * by enum ll_redeem_scope). */
struct metric_row {
	const char *name;
	const char *type;
	const char *help;
	size_t field;
};

static const struct metric_row plain[] = {
	{ "lifeline_sessions_live", "gauge",
	  "Sessions whose two streams are paired now.", FIELD(sessions_live) },
	{ "lifeline_streams_waiting", "gauge",
	  "Upgraded streams whose peer has not arrived yet.",
	  FIELD(streams_waiting) },
	{ "lifeline_sessions_interrupted", "gauge",
	  "Sessions that lost a stream and wait for it to come back.",
	  FIELD(sessions_interrupted) },
	{ "lifeline_live_polls_held", "gauge",
	  "Live page long-polls waiting for a change.",
	  FIELD(live_polls_held) },
	{ "lifeline_bytes_forwarded_total", "counter",
	  "Stream bytes forwarded, both directions.", FIELD(bytes_forwarded) },
	{ "lifeline_connections_open", "gauge", "Client connections open now.",
	  FIELD(connections_open) },
	{ "lifeline_connections_unauthenticated", "gauge",
	  "Client connections not yet upgraded to a stream.",
	  FIELD(connections_unauth) },
	{ "lifeline_connections_evicted_total", "counter",
	  "Unauthenticated connections closed to make room for new ones.",
	  FIELD(connections_evicted) },
	{ "lifeline_requests_total", "counter", "HTTP requests received.",
	  FIELD(requests_total) },
	{ "lifeline_queue_waiting", "gauge",
	  "End users waiting in channel queues now.", FIELD(queue_waiting) },
	{ "lifeline_tls_streams_shed_total", "counter",
	  "Idle forwarding streams that freed OpenSSL's connection state "
	  "and went on with the relay's own TLS 1.3 records.",
	  FIELD(tls_streams_shed) },
};

static const struct metric_row by_scope[] = {
	{ "lifeline_redeem_failures_total", "counter",
	  "Failed PIN redeems counted against a guess budget.",
	  FIELD(redeem_failures) },
	{ "lifeline_redeem_budget_refusals_total", "counter",
	  "PIN redeems refused because their guess budget was spent.",
	  FIELD(redeem_budget_refusals) },
	{ "lifeline_redeem_budget_exhausted_total", "counter",
	  "Times a guess budget became exhausted.",
	  FIELD(redeem_budget_exhausted_total) },
	{ "lifeline_redeem_budget_exhausted", "gauge",
	  "Guess budgets exhausted now (the relay's: 0 or 1; orgs: how many).",
	  FIELD(redeem_budget_exhausted) },
};

static const uint64_t *field_at(const struct ll_relay_metrics *m,
				const struct metric_row *row)
{
	return (const uint64_t *)((const char *)m + row->field);
}

/*
 * lifeline_refusals_total by code.  Several enum values share a code
 * string (405/408/414/431 are all "bad_request"); a label set may appear
 * only once, so sum them under the first value that carries the name.
 */
static void refusals(GString *s, const struct ll_relay_metrics *m)
{
	const char *name;
	uint64_t sum;
	int i, j;

	g_string_append(s, "# HELP lifeline_refusals_total Requests and "
			   "connections refused, by API error code.\n"
			   "# TYPE lifeline_refusals_total counter\n");
	for (i = LL_API_OK + 1; i < LL_API_CODE_COUNT; i++) {
		name = ll_api_code_name((enum ll_api_code)i);
		if (name == NULL)
			continue;
		for (j = LL_API_OK + 1; j < i; j++) {
			const char *n2 = ll_api_code_name((enum ll_api_code)j);

			if (n2 != NULL && strcmp(n2, name) == 0)
				break;
		}
		if (j < i)
			continue;
		sum = 0;
		for (j = i; j < LL_API_CODE_COUNT; j++) {
			const char *n2 = ll_api_code_name((enum ll_api_code)j);

			if (n2 != NULL && strcmp(n2, name) == 0)
				sum += m->refusals[j];
		}
		g_string_append_printf(
			s,
			"lifeline_refusals_total{code=\"%s\"} %" PRIu64 "\n",
			name, sum);
	}
}

char *ll_core_metrics_text(const struct ll_relay *relay)
{
	struct ll_relay_metrics m = relay->metrics;
	GString *s = g_string_sized_new(2048);
	uint64_t w_bytes, w_streams;
	char *out;
	size_t i;

	/* The worker loops' share (workers.c) of two counters. */
	ll_workers_counts(relay->core, &w_bytes, &w_streams);
	m.bytes_forwarded += w_bytes;
	m.connections_open += w_streams;
	m.tls_streams_shed = ll_tls_pipe_shed_count();
	for (i = 0; i < LL_ARRAY_SIZE(plain); i++)
		metric(s, plain[i].name, plain[i].type, plain[i].help,
		       *field_at(&m, &plain[i]));
	refusals(s, &m);
	for (i = 0; i < LL_ARRAY_SIZE(by_scope); i++)
		scoped(s, by_scope[i].name, by_scope[i].type, by_scope[i].help,
		       field_at(&m, &by_scope[i]));
	/* A plain malloc'd string: the response frees raw_body with free(). */
	out = strdup(s->str);
	g_string_free(s, TRUE);
	return out;
}
