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

static int channel_one(struct ll_store *st, sqlite3_stmt *s,
		       struct ll_channel **out)
{
	int r = step_row(st, s);

	return r == LL_OK ? channel_from_row(s, out) : r;
}

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
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || name == NULL || name[0] == '\0' || handle == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_CHANNEL_ADD, &s)) != LL_OK ||
	    (r = bind_i64(st, s, 1, org_id)) != LL_OK ||
	    (r = bind_text(st, s, 2, name)) != LL_OK ||
	    (r = bind_text(st, s, 3, group_name)) != LL_OK ||
	    (r = bind_blob(st, s, 4, handle, LL_CHANNEL_HANDLE_LEN)) !=
		    LL_OK ||
	    (r = bind_i64(st, s, 5, now)) != LL_OK ||
	    (r = ll_store_step_done(st, s)) != LL_OK)
		goto out;
	if (id_out != NULL)
		*id_out = sqlite3_last_insert_rowid(st->db);
out:
	ll_store_stmt_done(s);
	return r;
}

int ll_store_channel_find(struct ll_store *st, int64_t org_id,
			  const char *name, struct ll_channel **out)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || name == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_CHANNEL_FIND, &s)) == LL_OK &&
	    (r = bind_i64(st, s, 1, org_id)) == LL_OK &&
	    (r = bind_text(st, s, 2, name)) == LL_OK)
		r = channel_one(st, s, out);
	ll_store_stmt_done(s);
	return r;
}

int ll_store_channel_by_handle(struct ll_store *st,
			       const uint8_t handle[LL_CHANNEL_HANDLE_LEN],
			       struct ll_channel **out)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || handle == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_CHANNEL_BY_HANDLE, &s)) == LL_OK &&
	    (r = bind_blob(st, s, 1, handle, LL_CHANNEL_HANDLE_LEN)) == LL_OK)
		r = channel_one(st, s, out);
	ll_store_stmt_done(s);
	return r;
}

int ll_store_channel_get(struct ll_store *st, int64_t id,
			 struct ll_channel **out)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_CHANNEL_GET, &s)) == LL_OK &&
	    (r = bind_i64(st, s, 1, id)) == LL_OK)
		r = channel_one(st, s, out);
	ll_store_stmt_done(s);
	return r;
}

/* ll_store_collect's callbacks for a list of ids. */
static int id_row(sqlite3_stmt *s, void *elem)
{
	char **id = elem;

	return (*id = dup_col(s, 0)) != NULL ? LL_OK : LL_ERR_NOMEM;
}

static void id_list_free(void *list, size_t n)
{
	char **ids = list;
	size_t i;

	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int ll_store_channel_remove(struct ll_store *st, int64_t org_id,
			    const char *name, char ***cancelled_out,
			    size_t *n_out)
{
	struct ll_channel *c = NULL;
	sqlite3_stmt *s = NULL;
	void *ids = NULL;
	size_t n = 0;
	int r;

	if (st == NULL || cancelled_out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_begin(st)) != LL_OK)
		return r;
	if ((r = ll_store_channel_find(st, org_id, name, &c)) != LL_OK)
		goto out;
	if ((r = ll_store_stmt(st, STMT_CHANNEL_CANCEL_WAITING, &s)) !=
		    LL_OK ||
	    (r = bind_i64(st, s, 1, c->id)) != LL_OK ||
	    (r = bind_i64(st, s, 2, ll_now_unix())) != LL_OK ||
	    (r = ll_store_collect(st, s, sizeof(char *), id_row, id_list_free,
				  &ids, &n)) != LL_OK)
		goto out;
	ll_store_stmt_done(s);
	if ((r = ll_store_stmt(st, STMT_CHANNEL_DELETE, &s)) != LL_OK ||
	    (r = bind_i64(st, s, 1, c->id)) != LL_OK ||
	    (r = ll_store_step_done(st, s)) != LL_OK)
		goto out;
out:
	ll_store_stmt_done(s);
	ll_channel_free(c);
	r = ll_store_tx_end(st, r);
	if (r == LL_OK) {
		*cancelled_out = ids;
		*n_out = n;
	} else {
		id_list_free(ids, n);
	}
	return r;
}

int ll_store_channel_list(struct ll_store *st, int64_t org_id,
			  struct ll_channel ***out, size_t *n_out)
{
	sqlite3_stmt *s = NULL;
	void *list = NULL;
	size_t n = 0;
	int r;

	if (st == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_CHANNEL_LIST, &s)) != LL_OK ||
	    (r = bind_i64(st, s, 1, org_id)) != LL_OK ||
	    (r = ll_store_collect(st, s, sizeof(**out), channel_row,
				  channel_list_free, &list, &n)) != LL_OK)
		goto out;
	*out = list;
	*n_out = n;
out:
	ll_store_stmt_done(s);
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

static int entry_one(struct ll_store *st, sqlite3_stmt *s,
		     struct ll_queue_entry **out)
{
	int r = step_row(st, s);

	return r == LL_OK ? entry_from_row(s, out) : r;
}

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
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || e == NULL || e->id == NULL ||
	    strlen(e->id) != LL_SESSION_ID_LEN || e->ticket_hash == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_QUEUE_ADD, &s)) != LL_OK ||
	    (r = bind_text(st, s, 1, e->id)) != LL_OK ||
	    (r = bind_i64(st, s, 2, e->channel_id)) != LL_OK ||
	    (r = bind_i64(st, s, 3, e->org_id)) != LL_OK ||
	    (r = bind_blob(st, s, 4, e->ticket_hash, LL_HASH_LEN)) != LL_OK ||
	    (r = bind_text(st, s, 5, e->description)) != LL_OK ||
	    (r = bind_text(st, s, 6, e->source_ip)) != LL_OK ||
	    (r = bind_i64(st, s, 7, e->created_at)) != LL_OK ||
	    (r = bind_i64(st, s, 8, e->expires_at)) != LL_OK ||
	    (r = bind_i64(st, s, 9, e->deadline)) != LL_OK)
		goto out;
	r = ll_store_step_done(st, s);
out:
	ll_store_stmt_done(s);
	return r;
}

int ll_store_queue_get(struct ll_store *st, const char *id,
		       struct ll_queue_entry **out)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || id == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_QUEUE_GET, &s)) == LL_OK &&
	    (r = bind_text(st, s, 1, id)) == LL_OK)
		r = entry_one(st, s, out);
	ll_store_stmt_done(s);
	return r;
}

int ll_store_queue_by_ticket(struct ll_store *st,
			     const uint8_t ticket_hash[LL_HASH_LEN],
			     struct ll_queue_entry **out)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || ticket_hash == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_QUEUE_BY_TICKET, &s)) == LL_OK &&
	    (r = bind_blob(st, s, 1, ticket_hash, LL_HASH_LEN)) == LL_OK)
		r = entry_one(st, s, out);
	ll_store_stmt_done(s);
	return r;
}

int ll_store_queue_count(struct ll_store *st, int64_t org_id,
			 const char *source_ip, int64_t now,
			 int64_t *count_out)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || count_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_QUEUE_COUNT, &s)) == LL_OK &&
	    (r = bind_i64(st, s, 1, org_id)) == LL_OK &&
	    (r = bind_i64(st, s, 2, now)) == LL_OK &&
	    (r = bind_text(st, s, 3, source_ip)) == LL_OK)
		r = one_i64(st, s, count_out);
	ll_store_stmt_done(s);
	return r;
}

int ll_store_queue_position(struct ll_store *st,
			    const struct ll_queue_entry *e, int64_t now,
			    int64_t *pos_out)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || e == NULL || pos_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_QUEUE_POSITION, &s)) == LL_OK &&
	    (r = bind_i64(st, s, 1, e->org_id)) == LL_OK &&
	    (r = bind_i64(st, s, 2, now)) == LL_OK &&
	    (r = bind_i64(st, s, 3, e->created_at)) == LL_OK &&
	    (r = bind_text(st, s, 4, e->id)) == LL_OK)
		r = one_i64(st, s, pos_out);
	ll_store_stmt_done(s);
	return r;
}

int ll_store_queue_list(struct ll_store *st, int64_t org_id, int64_t now,
			size_t limit, struct ll_queue_entry ***out,
			size_t *n_out)
{
	sqlite3_stmt *s = NULL;
	void *list = NULL;
	size_t n = 0;
	int r;

	if (st == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_QUEUE_LIST, &s)) != LL_OK ||
	    (r = bind_i64(st, s, 1, org_id)) != LL_OK ||
	    (r = bind_i64(st, s, 2, now)) != LL_OK ||
	    (r = bind_i64(st, s, 3, (int64_t)limit)) != LL_OK ||
	    (r = ll_store_collect(st, s, sizeof(**out), entry_row,
				  entry_list_free, &list, &n)) != LL_OK)
		goto out;
	*out = list;
	*n_out = n;
out:
	ll_store_stmt_done(s);
	return r;
}

/* Runs a guarded UPDATE of one entry: LL_ERR_CONFLICT when it changed
 * nothing. */
static int entry_update(struct ll_store *st, sqlite3_stmt *s)
{
	int r = ll_store_step_done(st, s);

	if (r == LL_OK && sqlite3_changes(st->db) == 0)
		r = LL_ERR_CONFLICT;
	return r;
}

int ll_store_queue_touch(struct ll_store *st, const char *id, int64_t deadline)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || id == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_QUEUE_TOUCH, &s)) == LL_OK &&
	    (r = bind_text(st, s, 1, id)) == LL_OK &&
	    (r = bind_i64(st, s, 2, deadline)) == LL_OK)
		r = entry_update(st, s);
	ll_store_stmt_done(s);
	return r;
}

int ll_store_queue_pickup(struct ll_store *st, const char *id,
			  int64_t technician_id, const char *session_id,
			  int64_t now)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || id == NULL || session_id == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_QUEUE_PICKUP, &s)) == LL_OK &&
	    (r = bind_text(st, s, 1, id)) == LL_OK &&
	    (r = bind_i64(st, s, 2, technician_id)) == LL_OK &&
	    (r = bind_text(st, s, 3, session_id)) == LL_OK &&
	    (r = bind_i64(st, s, 4, now)) == LL_OK)
		r = entry_update(st, s);
	ll_store_stmt_done(s);
	return r;
}

int ll_store_queue_cancel(struct ll_store *st, const char *id, int64_t now)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || id == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_QUEUE_CANCEL, &s)) == LL_OK &&
	    (r = bind_text(st, s, 1, id)) == LL_OK &&
	    (r = bind_i64(st, s, 2, now)) == LL_OK)
		r = entry_update(st, s);
	ll_store_stmt_done(s);
	return r;
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
	sqlite3_stmt *s = NULL;
	void *list = NULL;
	size_t n = 0;
	int r;

	if (st == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_begin(st)) != LL_OK)
		return r;
	if ((r = ll_store_stmt(st, STMT_QUEUE_EXPIRE, &s)) != LL_OK ||
	    (r = bind_i64(st, s, 1, now)) != LL_OK ||
	    (r = ll_store_collect(st, s, sizeof(**out), expired_row,
				  entry_list_free, &list, &n)) != LL_OK)
		goto out;
	ll_store_stmt_done(s);
	if ((r = ll_store_stmt(st, STMT_QUEUE_FORGET, &s)) != LL_OK ||
	    (r = bind_i64(st, s, 1, forget_before)) != LL_OK)
		goto out;
	r = ll_store_step_done(st, s);
out:
	ll_store_stmt_done(s);
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
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || n == NULL || n->id == NULL ||
	    strlen(n->id) != LL_SESSION_ID_LEN || n->lock == NULL ||
	    n->pin_mac == NULL || n->agent_ticket_hash == NULL ||
	    entry_id == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_SESSION_INSERT_PICKED, &s)) != LL_OK ||
	    (r = bind_text(st, s, 1, n->id)) != LL_OK ||
	    (r = bind_i64(st, s, 2, n->org_id)) != LL_OK ||
	    (r = bind_i64(st, s, 3, n->technician_id)) != LL_OK ||
	    (r = bind_text(st, s, 4, n->lock)) != LL_OK ||
	    (r = bind_blob(st, s, 5, n->pin_mac, LL_HASH_LEN)) != LL_OK ||
	    (r = bind_blob(st, s, 6, n->agent_ticket_hash, LL_HASH_LEN)) !=
		    LL_OK ||
	    (r = bind_text(st, s, 7, entry_id)) != LL_OK ||
	    (r = bind_i64(st, s, 8, n->created_at)) != LL_OK ||
	    (r = bind_i64(st, s, 9, n->expires_at)) != LL_OK)
		goto out;
	r = entry_update(st, s); /* no such entry: LL_ERR_CONFLICT */
out:
	ll_store_stmt_done(s);
	return r;
}
