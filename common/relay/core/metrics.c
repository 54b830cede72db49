/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Counters for /metrics in the Prometheus text format (version 0.0.4). */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <inttypes.h>

#include <glib.h>

#include "ll_util.h"
#include "ll_relay.h"
#include "core.h"

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

char *ll_core_metrics_text(const struct ll_relay *relay)
{
	const struct ll_relay_metrics *m = &relay->metrics;
	GString *s = g_string_sized_new(2048);
	const char *name;
	char *out;
	uint64_t sum;
	int i, j;

	metric(s, "lifeline_sessions_live", "gauge",
	       "Sessions whose two streams are paired now.", m->sessions_live);
	metric(s, "lifeline_streams_waiting", "gauge",
	       "Upgraded streams whose peer has not arrived yet.",
	       m->streams_waiting);
	metric(s, "lifeline_bytes_forwarded_total", "counter",
	       "Stream bytes forwarded, both directions.", m->bytes_forwarded);
	metric(s, "lifeline_connections_open", "gauge",
	       "Client connections open now.", m->connections_open);
	metric(s, "lifeline_requests_total", "counter",
	       "HTTP requests received.", m->requests_total);

	g_string_append(s, "# HELP lifeline_refusals_total Requests and "
			   "connections refused, by API error code.\n"
			   "# TYPE lifeline_refusals_total counter\n");
	/*
	 * Several enum values share a code string (405/408/414/431 are all
	 * "bad_request"); a label set may appear only once, so sum them under
	 * the first value that carries the name.
	 */
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
	scoped(s, "lifeline_redeem_failures_total", "counter",
	       "Failed PIN redeems counted against a guess budget.",
	       m->redeem_failures);
	scoped(s, "lifeline_redeem_budget_refusals_total", "counter",
	       "PIN redeems refused because their guess budget was spent.",
	       m->redeem_budget_refusals);
	scoped(s, "lifeline_redeem_budget_exhausted_total", "counter",
	       "Times a guess budget became exhausted.",
	       m->redeem_budget_exhausted_total);
	scoped(s, "lifeline_redeem_budget_exhausted", "gauge",
	       "Guess budgets exhausted now (the relay's: 0 or 1; orgs: how "
	       "many).",
	       m->redeem_budget_exhausted);
	/* A plain malloc'd string: the response frees raw_body with free(). */
	out = strdup(s->str);
	g_string_free(s, TRUE);
	return out;
}
