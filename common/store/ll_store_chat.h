/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The chat transcripts an org keeps (policy keep_chat; docs/API.md,
 * "Chat"): one row per line, its text sealed by the relay (AES-256-GCM
 * under the at-rest key, bound to the row id and the column "text",
 * core/atrest.c).  The store never sees a line's text, only the sealed
 * bytes; who said it and when are kept in the clear.
 */
#ifndef LL_STORE_CHAT_H
#define LL_STORE_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "ll_store.h"

/* Lines kept per session at most: beyond, the relay refuses them. */
#define LL_STORE_CHAT_MAX_LINES 10000
/* A sealed line at most (the longest sanitised chat text, sealed). */
#define LL_STORE_CHAT_SEALED_MAX (3 * 4096 + 64)

struct ll_chat_row {
	int64_t id;
	char session_id[LL_SESSION_ID_LEN + 1];
	char said_by[16]; /* "technician" | "user" */
	int64_t said_at_ms;
	uint8_t *sealed;
	size_t sealed_len;
};

/*
 * A new line of session_id with an empty text, *row its id: the caller
 * seals the text for that id and sets it with ll_store_chat_set_sealed
 * in the same transaction.
 */
int ll_store_chat_insert(struct ll_store *st, const char *session_id,
			 const char *said_by, int64_t said_at_ms,
			 int64_t *row);
int ll_store_chat_set_sealed(struct ll_store *st, int64_t row,
			     const uint8_t *sealed, size_t len);
/* Lines kept for session_id. */
int ll_store_chat_count(struct ll_store *st, const char *session_id,
			int64_t *n);
/* The lines of session_id (NULL: of every session) in the order said;
 * free with ll_chat_rows_free. */
int ll_store_chat_list(struct ll_store *st, const char *session_id,
		       struct ll_chat_row **rows, size_t *n);
void ll_chat_rows_free(struct ll_chat_row *rows, size_t n);

#endif
