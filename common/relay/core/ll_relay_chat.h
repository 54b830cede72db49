/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The chat transcripts an org keeps (policy keep_chat, default off;
 * docs/API.md "Chat", docs/SECURITY.md): a line is sanitised by the one
 * rule of ll_chat.h, sealed under the at-rest key bound to its row id
 * and column (atrest.c, ll_relay_chat_seal) and stored
 * (ll_store_chat.h); only the org's admins read it back, through
 * GET /api/v1/sessions/ID/chat or `lifeline-relay chat show`, both
 * audited.  Store access runs in the caller's transaction.
 */
#ifndef LL_RELAY_CHAT_H
#define LL_RELAY_CHAT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ll_relay.h"

/* How far a line's time may be from the relay's clock before the
 * relay's own time is kept instead. */
#define LL_RELAY_CHAT_SKEW_MS (24LL * 3600 * 1000)

/*
 * Keeps one line of session_id said by `from` ("technician" | "user")
 * at said_ms: text[0..len) is 1..LL_CONTROL_MAX_CHAT bytes as it
 * travelled.  *row (may be NULL) gets its id.  LL_ERR_INVALID_ARG
 * (from), LL_ERR_TOO_LARGE (text), LL_ERR_CONFLICT (the session has
 * LL_STORE_CHAT_MAX_LINES already), a store or crypto error.
 */
int ll_relay_chat_keep(struct ll_relay *relay, const char *session_id,
		       const char *from, int64_t said_ms, const char *text,
		       size_t len, int64_t *row);
/*
 * The kept lines of session_id, opened: a JSON array of {time (ms),
 * from, text} in the order said (*out: json_decref).  LL_ERR_AUTH_FAILED
 * when a line does not open under the key (tampered, or another key).
 */
int ll_relay_chat_read(struct ll_relay *relay, const char *session_id,
		       json_t **out);

#endif
