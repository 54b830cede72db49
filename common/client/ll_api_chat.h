/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The chat transcript's upload (docs/API.md, "Chat"): one line of a
 * session's chat to the relay, which keeps it sealed only when the org's
 * policy keep_chat is on.  Blocking (libcurl): worker threads only.
 */
#ifndef LL_API_CHAT_H
#define LL_API_CHAT_H

#include <stdint.h>

#include "ll_api_client.h"

/* The API code of the relay's 409 when the org keeps no transcript. */
#define LL_API_CHAT_NOT_KEPT "chat_not_kept"

/*
 * POST /api/v1/sessions/ID/chat {from, time, text} with bearer (a
 * ticket of the session; NULL: the client's token); 204 when kept.
 * from: "technician" or "user"; time_ms: when it was said (wall clock,
 * ms since the epoch); text: the line as it travelled.  The relay's 409
 * chat_not_kept (the org keeps no transcript) is LL_ERR_CONFLICT with
 * api_code LL_API_CHAT_NOT_KEPT.
 */
int ll_api_chat_post(struct ll_api_client *c, const char *session_id,
		     const char *bearer, const char *from, int64_t time_ms,
		     const char *text, struct ll_client_error *err);

#endif
