/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The chat transcript's endpoints (docs/API.md, "Chat"; core's
 * ll_relay_chat.h does the keeping):
 *
 *   POST /api/v1/sessions/ID/chat  {from, time, text}  with a ticket of
 *        the session: 204 kept (sealed), 409 chat_not_kept when the
 *        org's policy keep_chat is off (nothing stored);
 *   GET  /api/v1/sessions/ID/chat  an admin of the session's org: the
 *        lines opened, {session_id, lines: [{time, from, text}]}.
 *
 * The audit records who, which line and how many bytes, never the text.
 */
#include <string.h>

#include "api.h"
#include "ll_control.h"
#include "ll_relay_chat.h"

void ll_api_handle_chat_post(struct ll_api_ctx *ctx)
{
	static const struct ll_api_field fields[] = {
		{ "from", JSON_STRING, true, 16 },
		{ "time", JSON_INTEGER, true, 0 },
		{ "text", JSON_STRING, true, LL_CONTROL_MAX_CHAT },
		{ NULL, 0, false, 0 },
	};
	const char *id = ll_api_param(ctx, "id");
	struct ll_relay *relay = ctx->relay;
	const struct ll_session *s = ctx->session;
	json_t *body = NULL, *text;
	bool keep = false;
	int64_t row = 0;
	int r;

	if (id == NULL || s == NULL || strcmp(s->id, id) != 0) {
		ll_api_fail(ctx, LL_API_NOT_FOUND, "no such session");
		return;
	}
	if (ll_policy_get_bool(relay->store, &relay->cfg, s->org_id,
			       "keep_chat", &keep) != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return;
	}
	if (!keep) {
		ll_api_fail(ctx, LL_API_CHAT_NOT_KEPT,
			    "the organisation keeps no chat transcripts "
			    "(policy keep_chat)");
		return;
	}
	if (ll_api_parse_body(ctx, fields, false, &body) != 0)
		return;
	text = json_object_get(body, "text");
	r = ll_relay_chat_keep(
		relay, s->id, json_string_value(json_object_get(body, "from")),
		json_integer_value(json_object_get(body, "time")),
		json_string_value(text), json_string_length(text), &row);
	if (r == LL_ERR_INVALID_ARG || r == LL_ERR_TOO_LARGE) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "field \"from\" must be \"technician\" or "
			    "\"user\", field \"text\" 1..4096 bytes without "
			    "NUL");
	} else if (r == LL_ERR_CONFLICT) {
		ll_api_fail(ctx, LL_API_CONFLICT,
			    "the session's transcript is full");
	} else if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
	} else {
		ll_api_detail_set(ctx, "line", json_integer(row));
		ll_api_detail_set(ctx, "from",
				  json_deep_copy(
					  json_object_get(body, "from")));
		ll_api_detail_set(ctx, "bytes",
				  json_integer((json_int_t)json_string_length(
					  text)));
		ctx->resp->status = 204;
		ctx->resp->code = LL_API_OK;
	}
	json_decref(body);
}

void ll_api_handle_chat_get(struct ll_api_ctx *ctx)
{
	const char *id = ll_api_param(ctx, "id");
	struct ll_session *s = NULL;
	json_t *lines = NULL;
	int r;

	r = id != NULL ? ll_store_session_get(ctx->relay->store, id, &s)
		       : LL_ERR_NOT_FOUND;
	/* an admin reads the transcripts of their own org only */
	if (r == LL_OK && s->org_id != ctx->tech->org_id)
		r = LL_ERR_NOT_FOUND;
	if (r == LL_OK)
		r = ll_relay_chat_read(ctx->relay, s->id, &lines);
	if (r == LL_ERR_NOT_FOUND) {
		ll_api_fail(ctx, LL_API_NOT_FOUND, "no such session");
	} else if (r != LL_OK) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
	} else {
		snprintf(ctx->session_id, sizeof(ctx->session_id), "%s",
			 s->id);
		ll_api_detail_set(ctx, "lines",
				  json_integer(
					  (json_int_t)json_array_size(lines)));
		ll_api_answer(ctx, 200,
			      json_pack("{s:s,s:o}", "session_id", s->id,
					"lines", lines));
		lines = NULL;
	}
	json_decref(lines);
	ll_session_free(s);
}
