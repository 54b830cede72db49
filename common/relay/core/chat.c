/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The chat transcripts an org keeps (ll_relay_chat.h). */
#include <stdlib.h>
#include <string.h>

#include "ll_chat.h"
#include "ll_crypto.h"
#include "ll_relay_chat.h"
#include "ll_store_chat.h"
#include "ll_util.h"

int ll_relay_chat_keep(struct ll_relay *relay, const char *session_id,
		       const char *from, int64_t said_ms, const char *text,
		       size_t len, int64_t *row)
{
	struct ll_chat_log *log = NULL;
	const struct ll_chat_line *line;
	int64_t now = ll_now_unix() * 1000, n = 0, id = 0;
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	int from_v = ll_chat_from_parse(from), r;

	if (relay == NULL || session_id == NULL || text == NULL || from_v < 0)
		return LL_ERR_INVALID_ARG;
	if (said_ms < now - LL_RELAY_CHAT_SKEW_MS ||
	    said_ms > now + LL_RELAY_CHAT_SKEW_MS)
		said_ms = now;
	if ((log = ll_chat_log_new(1)) == NULL)
		return LL_ERR_NOMEM;
	/* the one display rule, whatever the uploader did */
	r = ll_chat_log_add(log, (enum ll_chat_from)from_v, false, text, len,
			    said_ms, 0, &line);
	if (r == LL_OK &&
	    (r = ll_store_chat_count(relay->store, session_id, &n)) == LL_OK &&
	    n >= LL_STORE_CHAT_MAX_LINES)
		r = LL_ERR_CONFLICT;
	if (r == LL_OK)
		r = ll_store_chat_insert(relay->store, session_id, from,
					 said_ms, &id);
	if (r == LL_OK)
		r = ll_relay_chat_seal(relay->at_rest_key, id, line->text,
				       &sealed, &sealed_len);
	if (r == LL_OK)
		r = ll_store_chat_set_sealed(relay->store, id, sealed,
					     sealed_len);
	if (r == LL_OK && row != NULL)
		*row = id;
	free(sealed);
	ll_chat_log_free(log);
	return r;
}

int ll_relay_chat_read(struct ll_relay *relay, const char *session_id,
		       json_t **out)
{
	struct ll_chat_row *rows = NULL;
	json_t *arr;
	char *text = NULL;
	size_t n = 0, i;
	int r;

	if (relay == NULL || session_id == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_chat_list(relay->store, session_id, &rows, &n)) !=
	    LL_OK)
		return r;
	if ((arr = json_array()) == NULL)
		r = LL_ERR_NOMEM;
	for (i = 0; i < n && r == LL_OK; i++) {
		r = ll_relay_chat_open(relay->at_rest_key, rows[i].id,
				       rows[i].sealed, rows[i].sealed_len,
				       &text);
		if (r == LL_OK &&
		    json_array_append_new(
			    arr,
			    json_pack("{s:I,s:s,s:s}", "time",
				      (json_int_t)rows[i].said_at_ms, "from",
				      rows[i].said_by, "text", text)) != 0)
			r = LL_ERR_NOMEM;
		if (text != NULL)
			ll_wipe(text, strlen(text));
		LL_FREE_AND_NULL(free, text);
	}
	ll_chat_rows_free(rows, n);
	if (r != LL_OK) {
		json_decref(arr);
		return r;
	}
	*out = arr;
	return LL_OK;
}
