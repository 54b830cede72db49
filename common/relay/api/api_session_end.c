/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GET /api/v1/sessions/ID/end with the applet's ticket (issue 11): why the
 * relay ended the session, as a fixed code, for the applet whose stream
 * just closed without an `end` (docs/API.md "How a session ends").
 *
 * The store keeps the end's reason as the relay's own words ("permission
 * withdrawn", "deleted by admin", ...): end_codes[] turns them into the
 * few codes the contract names.  The answer never carries text that came
 * from the technician's side: a reason the table does not know is
 * "closed".  Only the applet's ticket of this very session reads it, for
 * as long as it may report events (LL_API_TICKET_GRACE_S after the end),
 * also when the end was its technician's account being disabled.
 */
#include <string.h>

#include "ll_util.h"
#include "ll_relay.h"
#include "api.h"

/* The store's end reason (a prefix of it) -> the code the applet gets. */
static const struct {
	const char *reason;
	const char *code;
} end_codes[] = {
	{ LL_END_PERMISSION_WITHDRAWN, "permission_withdrawn" },
	{ LL_END_TECHNICIAN_DISABLED, "technician_disabled" },
	{ "deleted by admin", "ended_by_admin" },
	{ "deleted by technician", "ended_by_technician" },
	{ "relay_restart", "relay_restart" },
	{ "lost", "lost" },
};

const char *ll_api_end_code(const struct ll_session *s)
{
	size_t i;

	if (s->state == LL_SESSION_EXPIRED)
		return "expired";
	if (s->state != LL_SESSION_ENDED)
		return NULL;
	for (i = 0; i < LL_ARRAY_SIZE(end_codes); i++)
		if (s->end_reason != NULL &&
		    strcmp(s->end_reason, end_codes[i].reason) == 0)
			return end_codes[i].code;
	return "closed";
}

void ll_api_handle_session_end(struct ll_api_ctx *ctx)
{
	const char *id = ll_api_param(ctx, "id");
	const struct ll_session *s = ctx->session;
	const char *code;

	/* The applet's ticket of this session only: the technician's side
	 * learns the end from GET /api/v1/sessions with its token, and
	 * another session's ticket learns nothing. */
	if (ctx->side != LL_SIDE_APPLET || id == NULL ||
	    strcmp(s->id, id) != 0) {
		ll_api_fail(ctx, LL_API_NOT_FOUND, "no such session");
		return;
	}
	code = ll_api_end_code(s);
	ll_api_detail_set(ctx, "state",
			  json_string(ll_session_state_name(s->state)));
	if (code != NULL)
		ll_api_detail_set(ctx, "end_reason", json_string(code));
	ll_api_answer(ctx, 200,
		      json_pack("{s:s,s:o}", "state",
				ll_session_state_name(s->state), "end_reason",
				code != NULL ? json_string(code)
					     : json_null()));
}
