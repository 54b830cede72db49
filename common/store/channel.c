/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Channels (calling cards) and their queue of waiting end users.  Like
 * sessions, every state change of an entry is one guarded UPDATE
 * ("... WHERE state = 0"), so two technicians picking up the same entry
 * at once cannot both win.  See docs/ARCHITECTURE.md, "Channels".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "ll_crypto.h"
#include "ll_util.h"

/* ---- channels ---- */

void ll_channel_free(struct ll_channel *c)
{
	if (c == NULL)
		return;
	free(c->org_name);
	free(c->name);
	free(c->group_name);
	free(c);
}

void ll_channel_list_free(struct ll_channel **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		ll_channel_free(list[i]);
	free(list);
}

/* One row of CHANNEL_COLS into a new ll_channel. */
static int channel_from_row(sqlite3_stmt *s, struct ll_channel **out)
{
	struct ll_channel *c = calloc(1, sizeof(*c));
	const void *h;

	if (c == NULL)
		return LL_ERR_NOMEM;
	c->id = sqlite3_column_int64(s, 0);
	c->org_id = sqlite3_column_int64(s, 1);
	c->org_name = dup_col(s, 2);
	c->name = dup_col(s, 3);
	c->group_name = dup_col(s, 4);
	h = sqlite3_column_blob(s, 5);
	if (h == NULL || sqlite3_column_bytes(s, 5) != LL_CHANNEL_HANDLE_LEN ||
	    c->org_name == NULL || c->name == NULL) {
		ll_channel_free(c);
		return h == NULL ? LL_ERR_NOMEM : LL_ERR_STORE;
	}
	memcpy(c->handle, h, LL_CHANNEL_HANDLE_LEN);
	c->created_at = sqlite3_column_int64(s, 6);
	*out = c;
	return LL_OK;
}

/* Row callbacks (ll_store_get, ll_store_list) for channels. */
static int channel_row(sqlite3_stmt *s, void *elem)
{
	return channel_from_row(s, elem);
}

static void channel_list_free(void *list, size_t n)
{
	ll_channel_list_free(list, n);
}

int ll_store_channel_add(struct ll_store *st, int64_t org_id, const char *name,
			 const char *group_name,
			 const uint8_t handle[LL_CHANNEL_HANDLE_LEN],
			 int64_t now, int64_t *id_out)
{
	int r;

	if (st == NULL || name == NULL || name[0] == '\0' || handle == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_exec(st, STMT_CHANNEL_ADD,
			  STORE_ARGS(ARG_I64(org_id), ARG_TEXT(name),
				     ARG_TEXT(group_name), ARG_HANDLE(handle),
				     ARG_I64(now)));
	if (r == LL_OK && id_out != NULL)
		*id_out = sqlite3_last_insert_rowid(st->db);
	return r;
}

int ll_store_channel_find(struct ll_store *st, int64_t org_id,
			  const char *name, struct ll_channel **out)
{
	if (st == NULL || name == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_CHANNEL_FIND,
			    STORE_ARGS(ARG_I64(org_id), ARG_TEXT(name)),
			    channel_row, out);
}

int ll_store_channel_by_handle(struct ll_store *st,
			       const uint8_t handle[LL_CHANNEL_HANDLE_LEN],
			       struct ll_channel **out)
{
	if (st == NULL || handle == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_CHANNEL_BY_HANDLE,
			    STORE_ARGS(ARG_HANDLE(handle)), channel_row, out);
}

int ll_store_channel_get(struct ll_store *st, int64_t id,
			 struct ll_channel **out)
{
	if (st == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_CHANNEL_GET, STORE_ARGS(ARG_I64(id)),
			    channel_row, out);
}

int ll_store_channel_remove(struct ll_store *st, int64_t org_id,
			    const char *name, char ***cancelled_out,
			    size_t *n_out)
{
	struct ll_channel *c = NULL;
	void *ids = NULL;
	size_t n = 0;
	int r;

	if (st == NULL || cancelled_out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_begin(st)) != LL_OK)
		return r;
	if ((r = ll_store_channel_find(st, org_id, name, &c)) != LL_OK)
		goto out;
	if ((r = ll_store_list(st, STMT_CHANNEL_CANCEL_WAITING,
			       STORE_ARGS(ARG_I64(c->id),
					  ARG_I64(ll_now_unix())),
			       sizeof(char *), ll_store_row_text,
			       ll_store_text_list_free, &ids, &n)) == LL_OK)
		r = ll_store_exec(st, STMT_CHANNEL_DELETE,
				  STORE_ARGS(ARG_I64(c->id)));
out:
	ll_channel_free(c);
	r = ll_store_tx_end(st, r);
	if (r == LL_OK) {
		*cancelled_out = ids;
		*n_out = n;
	} else {
		ll_store_text_list_free(ids, n);
	}
	return r;
}

int ll_store_channel_list(struct ll_store *st, int64_t org_id,
			  struct ll_channel ***out, size_t *n_out)
{
	void *list = NULL;
	size_t n = 0;
	int r;

	if (st == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_list(st, STMT_CHANNEL_LIST, STORE_ARGS(ARG_I64(org_id)),
			  sizeof(**out), channel_row, channel_list_free, &list,
			  &n);
	if (r == LL_OK) {
		*out = list;
		*n_out = n;
	}
	return r;
}

/* ---- the queue ---- */

const char *ll_queue_state_name(enum ll_queue_state s)
{
	switch (s) {
	case LL_QUEUE_WAITING:
		return "waiting";
	case LL_QUEUE_PICKED:
		return "picked";
	case LL_QUEUE_CANCELLED:
		return "cancelled";
	case LL_QUEUE_EXPIRED:
		return "expired";
	}
	return "unknown";
}

void ll_queue_entry_free(struct ll_queue_entry *e)
{
	if (e == NULL)
		return;
	free(e->channel_name);
	free(e->description);
	free(e);
}

void ll_queue_entry_list_free(struct ll_queue_entry **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		ll_queue_entry_free(list[i]);
	free(list);
}

/* A 32-hex id column into out[33] ("" when NULL or malformed). */
static void id_col(sqlite3_stmt *s, int i, char out[LL_SESSION_ID_LEN + 1])
{
	const unsigned char *t = sqlite3_column_text(s, i);

	out[0] = '\0';
	if (t != NULL && strlen((const char *)t) == LL_SESSION_ID_LEN)
		memcpy(out, t, LL_SESSION_ID_LEN + 1);
}

/* One row of QUEUE_COLS into a new entry. */
static int entry_from_row(sqlite3_stmt *s, struct ll_queue_entry **out)
{
	struct ll_queue_entry *e = calloc(1, sizeof(*e));
	int64_t state;

	if (e == NULL)
		return LL_ERR_NOMEM;
	id_col(s, 0, e->id);
	e->channel_id = sqlite3_column_int64(s, 1);
	e->org_id = sqlite3_column_int64(s, 2);
	e->channel_name = dup_col(s, 3);
	e->description = dup_col(s, 4);
	state = sqlite3_column_int64(s, 5);
	e->created_at = sqlite3_column_int64(s, 6);
	e->expires_at = sqlite3_column_int64(s, 7);
	e->deadline = sqlite3_column_int64(s, 8);
	id_col(s, 9, e->session_id);
	e->technician_id = sqlite3_column_int64(s, 10);
	if (e->id[0] == '\0' || state < LL_QUEUE_WAITING ||
	    state > LL_QUEUE_EXPIRED) {
		ll_queue_entry_free(e);
		return LL_ERR_STORE;
	}
	e->state = (enum ll_queue_state)state;
	*out = e;
	return LL_OK;
}

/* Row callbacks (ll_store_get, ll_store_list) for queue entries. */
static int entry_row(sqlite3_stmt *s, void *elem)
{
	return entry_from_row(s, elem);
}

static void entry_list_free(void *list, size_t n)
{
	ll_queue_entry_list_free(list, n);
}

int ll_store_queue_add(struct ll_store *st, const struct ll_queue_entry_new *e)
{
	if (st == NULL || e == NULL || e->id == NULL ||
	    strlen(e->id) != LL_SESSION_ID_LEN || e->ticket_hash == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec(
		st, STMT_QUEUE_ADD,
		STORE_ARGS(ARG_TEXT(e->id), ARG_I64(e->channel_id),
			   ARG_I64(e->org_id), ARG_HASH(e->ticket_hash),
			   ARG_TEXT(e->description), ARG_TEXT(e->source_ip),
			   ARG_I64(e->created_at), ARG_I64(e->expires_at),
			   ARG_I64(e->deadline)));
}

int ll_store_queue_get(struct ll_store *st, const char *id,
		       struct ll_queue_entry **out)
{
	if (st == NULL || id == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_QUEUE_GET, STORE_ARGS(ARG_TEXT(id)),
			    entry_row, out);
}

int ll_store_queue_by_ticket(struct ll_store *st,
			     const uint8_t ticket_hash[LL_HASH_LEN],
			     struct ll_queue_entry **out)
{
	if (st == NULL || ticket_hash == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_QUEUE_BY_TICKET,
			    STORE_ARGS(ARG_HASH(ticket_hash)), entry_row, out);
}

int ll_store_queue_count(struct ll_store *st, int64_t org_id,
			 const char *source_ip, int64_t now,
			 int64_t *count_out)
{
	if (st == NULL || count_out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_QUEUE_COUNT,
			    STORE_ARGS(ARG_I64(org_id), ARG_I64(now),
				       ARG_TEXT(source_ip)),
			    ll_store_row_i64, count_out);
}

int ll_store_queue_position(struct ll_store *st,
			    const struct ll_queue_entry *e, int64_t now,
			    int64_t *pos_out)
{
	if (st == NULL || e == NULL || pos_out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_QUEUE_POSITION,
			    STORE_ARGS(ARG_I64(e->org_id), ARG_I64(now),
				       ARG_I64(e->created_at),
				       ARG_TEXT(e->id)),
			    ll_store_row_i64, pos_out);
}

int ll_store_queue_list(struct ll_store *st, int64_t org_id, int64_t now,
			size_t limit, struct ll_queue_entry ***out,
			size_t *n_out)
{
	void *list = NULL;
	size_t n = 0;
	int r;

	if (st == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_list(st, STMT_QUEUE_LIST,
			  STORE_ARGS(ARG_I64(org_id), ARG_I64(now),
				     ARG_I64((int64_t)limit)),
			  sizeof(**out), entry_row, entry_list_free, &list,
			  &n);
	if (r == LL_OK) {
		*out = list;
		*n_out = n;
	}
	return r;
}

/* Runs a guarded UPDATE of one entry: LL_ERR_CONFLICT when it changed
 * nothing.  (Not ll_store_exec_changed: its LL_ERR_NOT_FOUND would also
 * stand for a foreign key refused.) */
static int entry_update(struct ll_store *st, enum ll_stmt id,
			const struct ll_store_arg *args, size_t n_args)
{
	int r = ll_store_exec(st, id, args, n_args);

	if (r == LL_OK && sqlite3_changes(st->db) == 0)
		r = LL_ERR_CONFLICT;
	return r;
}

int ll_store_queue_touch(struct ll_store *st, const char *id, int64_t deadline)
{
	if (st == NULL || id == NULL)
		return LL_ERR_INVALID_ARG;
	return entry_update(st, STMT_QUEUE_TOUCH,
			    STORE_ARGS(ARG_TEXT(id), ARG_I64(deadline)));
}

int ll_store_queue_pickup(struct ll_store *st, const char *id,
			  int64_t technician_id, const char *session_id,
			  int64_t now)
{
	if (st == NULL || id == NULL || session_id == NULL)
		return LL_ERR_INVALID_ARG;
	return entry_update(st, STMT_QUEUE_PICKUP,
			    STORE_ARGS(ARG_TEXT(id), ARG_I64(technician_id),
				       ARG_TEXT(session_id), ARG_I64(now)));
}

int ll_store_queue_cancel(struct ll_store *st, const char *id, int64_t now)
{
	if (st == NULL || id == NULL)
		return LL_ERR_INVALID_ARG;
	return entry_update(st, STMT_QUEUE_CANCEL,
			    STORE_ARGS(ARG_TEXT(id), ARG_I64(now)));
}

/* A row of STMT_QUEUE_EXPIRE's RETURNING: id, channel_id, org_id,
 * created_at. */
static int expired_row(sqlite3_stmt *s, void *elem)
{
	struct ll_queue_entry **out = elem;
	struct ll_queue_entry *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return LL_ERR_NOMEM;
	id_col(s, 0, e->id);
	e->channel_id = sqlite3_column_int64(s, 1);
	e->org_id = sqlite3_column_int64(s, 2);
	e->created_at = sqlite3_column_int64(s, 3);
	e->state = LL_QUEUE_EXPIRED;
	*out = e;
	return LL_OK;
}

int ll_store_queue_expire(struct ll_store *st, int64_t now,
			  int64_t forget_before, struct ll_queue_entry ***out,
			  size_t *n_out)
{
	void *list = NULL;
	size_t n = 0;
	int r;

	if (st == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_begin(st)) != LL_OK)
		return r;
	if ((r = ll_store_list(st, STMT_QUEUE_EXPIRE, STORE_ARGS(ARG_I64(now)),
			       sizeof(**out), expired_row, entry_list_free,
			       &list, &n)) == LL_OK)
		r = ll_store_exec(st, STMT_QUEUE_FORGET,
				  STORE_ARGS(ARG_I64(forget_before)));
	r = ll_store_tx_end(st, r);
	if (r == LL_OK) {
		*out = list;
		*n_out = n;
	} else {
		entry_list_free(list, n);
	}
	return r;
}

int ll_store_session_create_picked(struct ll_store *st,
				   const struct ll_session_new *n,
				   const char *entry_id)
{
	if (st == NULL || n == NULL || n->id == NULL ||
	    strlen(n->id) != LL_SESSION_ID_LEN || n->lock == NULL ||
	    n->pin_mac == NULL || n->agent_ticket_hash == NULL ||
	    entry_id == NULL)
		return LL_ERR_INVALID_ARG;
	/* No such entry: LL_ERR_CONFLICT. */
	return entry_update(st, STMT_SESSION_INSERT_PICKED,
			    STORE_ARGS(ARG_TEXT(n->id), ARG_I64(n->org_id),
				       ARG_I64(n->technician_id),
				       ARG_TEXT(n->lock), ARG_HASH(n->pin_mac),
				       ARG_HASH(n->agent_ticket_hash),
				       ARG_TEXT(entry_id),
				       ARG_I64(n->created_at),
				       ARG_I64(n->expires_at),
				       ARG_I64(n->permissions)));
}
