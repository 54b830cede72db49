/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The chat transcript's upload (ll_api_chat.h). */
#include <glib.h>
#include <jansson.h>

#include "client_internal.h"
#include "ll_api_chat.h"
#include "ll_err.h"

int ll_api_chat_post(struct ll_api_client *c, const char *session_id,
		     const char *bearer, const char *from, int64_t time_ms,
		     const char *text, struct ll_client_error *err)
{
	json_t *body;
	char *path;
	int r;

	ll_client_error_clear(err);
	if (c == NULL || from == NULL || text == NULL || time_ms < 0 ||
	    (bearer == NULL && ll_client_token(c) == NULL)) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "bad chat arguments");
		return LL_ERR_INVALID_ARG;
	}
	if ((path = ll_client_session_path(session_id, "/chat", err)) == NULL)
		return LL_ERR_INVALID_ARG;
	body = json_pack("{s:s,s:I,s:s}", "from", from, "time",
			 (json_int_t)time_ms, "text", text);
	if (body == NULL) {
		g_free(path);
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "the chat line is not valid text");
		return LL_ERR_INVALID_ARG;
	}
	r = ll_client_call(c, "POST", path,
			   bearer != NULL ? bearer : ll_client_token(c), body,
			   204, NULL, NULL, err);
	json_decref(body);
	g_free(path);
	return r;
}
