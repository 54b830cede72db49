/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sessions and their PINs.  Every state change is one guarded UPDATE
 * ("... WHERE pin_used = 0"), so two relays or a relay and the CLI racing
 * on the same row cannot both win; when it changes nothing, a second
 * look says why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "ll_util.h"

/* ---- sessions ---- */

const char *ll_session_state_name(enum ll_session_state s)
{
	switch (s) {
	case LL_SESSION_WAITING:
		return "waiting";
	case LL_SESSION_CONNECTED:
		return "connected";
	case LL_SESSION_ENDED:
		return "ended";
	case LL_SESSION_EXPIRED:
		return "expired";
	}
	return "unknown";
}

void ll_session_free(struct ll_session *s)
{
	if (s == NULL)
		return;
	free(s->lock);
	free(s->end_reason);
	free(s);
}

void ll_session_list_free(struct ll_session **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		ll_session_free(list[i]);
	free(list);
}

static bool session_id_ok(const char *id)
{
	size_t i;

	if (id == NULL)
		return false;
	for (i = 0; i < LL_SESSION_ID_LEN; i++) {
		if (!((id[i] >= '0' && id[i] <= '9') ||
		      (id[i] >= 'a' && id[i] <= 'f') ||
		      (id[i] >= 'A' && id[i] <= 'F')))
			return false;
	}
	return id[LL_SESSION_ID_LEN] == '\0';
}

static bool lock_ok(const char *lock)
{
	return lock != NULL &&
	       (strcmp(lock, "any") == 0 || strcmp(lock, "website") == 0 ||
		strcmp(lock, "shortcut") == 0);
}

/* Columns in the order of SESSION_COLS (store.c). */
static int session_from_row(sqlite3_stmt *s, struct ll_session **out)
{
	struct ll_session *se;
	const unsigned char *id = sqlite3_column_text(s, 0);
	int state = sqlite3_column_int(s, 4);

	/* Only what the store itself wrote is accepted back. */
	if (id == NULL || !session_id_ok((const char *)id) || state < 0 ||
	    state > LL_SESSION_EXPIRED)
		return LL_ERR_STORE;
	if ((se = calloc(1, sizeof(*se))) == NULL)
		return LL_ERR_NOMEM;
	memcpy(se->id, id, LL_SESSION_ID_LEN + 1);
	se->org_id = sqlite3_column_int64(s, 1);
	se->technician_id = sqlite3_column_int64(s, 2);
	se->lock = dup_col(s, 3);
	se->state = (enum ll_session_state)state;
	se->pin_used = sqlite3_column_int(s, 5) != 0;
	se->created_at = sqlite3_column_int64(s, 6);
	se->expires_at = sqlite3_column_int64(s, 7);
	se->redeemed_at = sqlite3_column_int64(s, 8);
	se->connected_at = sqlite3_column_int64(s, 9);
	se->ended_at = sqlite3_column_int64(s, 10);
	se->bytes_agent_to_applet = (uint64_t)sqlite3_column_int64(s, 12);
	se->bytes_applet_to_agent = (uint64_t)sqlite3_column_int64(s, 13);
	se->agent_stream_used = sqlite3_column_int(s, 14) != 0;
	se->applet_stream_used = sqlite3_column_int(s, 15) != 0;
	if (se->lock == NULL || (sqlite3_column_type(s, 11) != SQLITE_NULL &&
				 (se->end_reason = dup_col(s, 11)) == NULL)) {
		ll_session_free(se);
		return LL_ERR_NOMEM;
	}
	*out = se;
	return LL_OK;
}

/* ll_store_collect's callbacks for a session list. */
static int session_row(sqlite3_stmt *s, void *elem)
{
	return session_from_row(s, elem);
}

static void session_list_free(void *list, size_t n)
{
	ll_session_list_free(list, n);
}

static int session_one(struct ll_store *st, sqlite3_stmt *s,
		       struct ll_session **out)
{
	int r = step_row(st, s);

	return r == LL_OK ? session_from_row(s, out) : r;
}

int ll_store_session_create(struct ll_store *st,
			    const struct ll_session_new *n)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || n == NULL || !session_id_ok(n->id) ||
	    !lock_ok(n->lock) || n->pin_mac == NULL ||
	    n->agent_ticket_hash == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_begin(st)) != LL_OK)
		return r;
	/* PINs past their lifetime no longer count as live, even before
	 * ll_store_session_expire has run over them. */
	if ((r = ll_store_stmt(st, STMT_SESSION_KILL_EXPIRED_PIN, &s)) != 0 ||
	    (r = bind_blob(st, s, 1, n->pin_mac, LL_HASH_LEN)) != LL_OK ||
	    (r = bind_i64(st, s, 2, n->created_at)) != LL_OK ||
	    (r = ll_store_step_done(st, s)) != LL_OK)
		goto out;
	ll_store_stmt_done(s);
	/* The partial unique index on live pin_macs turns a live duplicate
	 * into LL_ERR_CONFLICT. */
	if ((r = ll_store_stmt(st, STMT_SESSION_INSERT, &s)) != LL_OK ||
	    (r = bind_text(st, s, 1, n->id)) != LL_OK ||
	    (r = bind_i64(st, s, 2, n->org_id)) != LL_OK ||
	    (r = bind_i64(st, s, 3, n->technician_id)) != LL_OK ||
	    (r = bind_text(st, s, 4, n->lock)) != LL_OK ||
	    (r = bind_blob(st, s, 5, n->pin_mac, LL_HASH_LEN)) != LL_OK ||
	    (r = bind_blob(st, s, 6, n->agent_ticket_hash, LL_HASH_LEN)) !=
		    0 ||
	    (r = bind_i64(st, s, 7, n->created_at)) != LL_OK ||
	    (r = bind_i64(st, s, 8, n->expires_at)) != LL_OK ||
	    (r = ll_store_step_done(st, s)) != LL_OK)
		goto out;
out:
	ll_store_stmt_done(s);
	return ll_store_tx_end(st, r);
}

int ll_store_session_find_by_pin(struct ll_store *st,
				 const uint8_t pin_mac[LL_HASH_LEN],
				 struct ll_session **out)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || pin_mac == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_SESSION_BY_PIN, &s)) != LL_OK ||
	    (r = bind_blob(st, s, 1, pin_mac, LL_HASH_LEN)) != LL_OK)
		goto out;
	r = session_one(st, s, out);
out:
	ll_store_stmt_done(s);
	return r;
}

/* For an UPDATE that matched nothing: NOT_FOUND, or the session's state
 * (through *state) so the caller can say why. */
static int session_state(struct ll_store *st, const char *id, int64_t *state)
{
	sqlite3_stmt *s = NULL;
	int r;

	if ((r = ll_store_stmt(st, STMT_SESSION_STATE, &s)) != LL_OK ||
	    (r = bind_text(st, s, 1, id)) != LL_OK)
		goto out;
	r = one_i64(st, s, state);
out:
	ll_store_stmt_done(s);
	return r;
}

int ll_store_session_redeem(struct ll_store *st, const char *session_id,
			    const uint8_t applet_ticket_hash[LL_HASH_LEN],
			    int64_t now)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || session_id == NULL || applet_ticket_hash == NULL)
		return LL_ERR_INVALID_ARG;
	/* One UPDATE guarded by pin_used = 0: of two concurrent redeems
	 * exactly one changes the row. */
	if ((r = ll_store_stmt(st, STMT_SESSION_REDEEM, &s)) != LL_OK ||
	    (r = bind_blob(st, s, 1, applet_ticket_hash, LL_HASH_LEN)) != 0 ||
	    (r = bind_i64(st, s, 2, now)) != LL_OK ||
	    (r = bind_text(st, s, 3, session_id)) != LL_OK ||
	    (r = ll_store_step_done(st, s)) != LL_OK)
		goto out;
	if (sqlite3_changes(st->db) > 0)
		goto out;
	/* Nothing changed: say why. */
	ll_store_stmt_done(s);
	if ((r = ll_store_stmt(st, STMT_SESSION_REDEEM_CHECK, &s)) != LL_OK ||
	    (r = bind_text(st, s, 1, session_id)) != LL_OK ||
	    (r = step_row(st, s)) != LL_OK)
		goto out;
	if (sqlite3_column_int(s, 0) != 0 ||
	    sqlite3_column_int(s, 1) != LL_SESSION_WAITING)
		r = LL_ERR_CONFLICT;
	else
		r = LL_ERR_EXPIRED;
out:
	ll_store_stmt_done(s);
	return r;
}

int ll_store_session_find_by_ticket(struct ll_store *st,
				    const uint8_t ticket_hash[LL_HASH_LEN],
				    struct ll_session **out,
				    enum ll_side *side_out)
{
	sqlite3_stmt *s = NULL;
	struct ll_session *se = NULL;
	int r;

	if (st == NULL || ticket_hash == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_SESSION_BY_TICKET, &s)) != LL_OK ||
	    (r = bind_blob(st, s, 1, ticket_hash, LL_HASH_LEN)) != LL_OK ||
	    (r = session_one(st, s, &se)) != LL_OK)
		goto out;
	if (side_out != NULL)
		*side_out = sqlite3_column_int(s, 16) ? LL_SIDE_APPLET
						      : LL_SIDE_AGENT;
	*out = se;
out:
	ll_store_stmt_done(s);
	return r;
}

int ll_store_session_claim_stream(struct ll_store *st, const char *session_id,
				  enum ll_side side)
{
	sqlite3_stmt *s = NULL;
	int64_t state;
	int r;

	if (st == NULL || session_id == NULL ||
	    (side != LL_SIDE_AGENT && side != LL_SIDE_APPLET))
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st,
			       side == LL_SIDE_AGENT
				       ? STMT_SESSION_CLAIM_AGENT
				       : STMT_SESSION_CLAIM_APPLET,
			       &s)) != LL_OK ||
	    (r = bind_text(st, s, 1, session_id)) != LL_OK ||
	    (r = ll_store_step_done(st, s)) != LL_OK)
		goto out;
	if (sqlite3_changes(st->db) == 0) {
		r = session_state(st, session_id, &state);
		if (r == LL_OK)
			r = state >= LL_SESSION_ENDED ? LL_ERR_EXPIRED
						      : LL_ERR_CONFLICT;
	}
out:
	ll_store_stmt_done(s);
	return r;
}

int ll_store_session_get(struct ll_store *st, const char *session_id,
			 struct ll_session **out)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || session_id == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_SESSION_GET, &s)) != LL_OK ||
	    (r = bind_text(st, s, 1, session_id)) != LL_OK)
		goto out;
	r = session_one(st, s, out);
out:
	ll_store_stmt_done(s);
	return r;
}

int ll_store_session_set_connected(struct ll_store *st, const char *session_id,
				   int64_t now)
{
	sqlite3_stmt *s = NULL;
	int64_t state;
	int r;

	if (st == NULL || session_id == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_SESSION_CONNECT, &s)) != LL_OK ||
	    (r = bind_i64(st, s, 1, now)) != LL_OK ||
	    (r = bind_text(st, s, 2, session_id)) != LL_OK ||
	    (r = ll_store_step_done(st, s)) != LL_OK)
		goto out;
	if (sqlite3_changes(st->db) == 0) {
		/* Already connected is fine; over is not. */
		r = session_state(st, session_id, &state);
		if (r == LL_OK && state != LL_SESSION_CONNECTED)
			r = LL_ERR_CONFLICT;
	}
out:
	ll_store_stmt_done(s);
	return r;
}

int ll_store_session_end(struct ll_store *st, const char *session_id,
			 int64_t now, const char *reason,
			 uint64_t bytes_agent_to_applet,
			 uint64_t bytes_applet_to_agent)
{
	sqlite3_stmt *s = NULL;
	int64_t state;
	int r;

	if (st == NULL || session_id == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_SESSION_END, &s)) != LL_OK ||
	    (r = bind_i64(st, s, 1, now)) != LL_OK ||
	    (r = bind_text(st, s, 2, reason ? reason : "ended")) != LL_OK ||
	    (r = bind_i64(st, s, 3, clamp_u64(bytes_agent_to_applet))) != 0 ||
	    (r = bind_i64(st, s, 4, clamp_u64(bytes_applet_to_agent))) != 0 ||
	    (r = bind_text(st, s, 5, session_id)) != LL_OK ||
	    (r = ll_store_step_done(st, s)) != LL_OK)
		goto out;
	if (sqlite3_changes(st->db) == 0)
		r = session_state(st, session_id, &state);
out:
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

int ll_store_session_expire(struct ll_store *st, int64_t now)
{
	char **ids = NULL;
	size_t n = 0;
	int r;

	r = ll_store_session_expire_list(st, now, &ids, &n);
	id_list_free(ids, n);
	return r;
}

int ll_store_session_list(struct ll_store *st, int64_t technician_id,
			  size_t limit, struct ll_session ***out,
			  size_t *n_out)
{
	sqlite3_stmt *s = NULL;
	void *list = NULL;
	size_t n = 0;
	int r;

	if (st == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_SESSION_LIST, &s)) != LL_OK ||
	    (r = bind_i64(st, s, 1, technician_id)) != LL_OK ||
	    (r = bind_i64(st, s, 2, clamp_u64(limit))) != LL_OK ||
	    (r = ll_store_collect(st, s, sizeof(**out), session_row,
				  session_list_free, &list, &n)) != LL_OK)
		goto out;
	*out = list;
	*n_out = n;
out:
	ll_store_stmt_done(s);
	return r;
}

/* Runs a prepared statement whose rows are one id each (an optional
 * ?1 = now, ?2 = arg) and hands back the ids. */
static int collect_ids2(struct ll_store *st, int stmt, const int64_t *now,
			const int64_t *arg, char ***ids_out, size_t *n_out)
{
	sqlite3_stmt *s = NULL;
	void *ids = NULL;
	size_t n = 0;
	int r;

	if (st == NULL || ids_out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, stmt, &s)) != LL_OK ||
	    (now != NULL && (r = bind_i64(st, s, 1, *now)) != LL_OK) ||
	    (arg != NULL && (r = bind_i64(st, s, 2, *arg)) != LL_OK) ||
	    (r = ll_store_collect(st, s, sizeof(**ids_out), id_row,
				  id_list_free, &ids, &n)) != LL_OK)
		goto out;
	*ids_out = ids;
	*n_out = n;
out:
	ll_store_stmt_done(s);
	return r;
}

static int collect_ids(struct ll_store *st, int stmt, const int64_t *now,
		       char ***ids_out, size_t *n_out)
{
	return collect_ids2(st, stmt, now, NULL, ids_out, n_out);
}

int ll_store_session_live_of_disabled(struct ll_store *st, char ***ids_out,
				      size_t *n_out)
{
	return collect_ids(st, STMT_SESSION_LIVE_DISABLED, NULL, ids_out,
			   n_out);
}

int ll_store_session_expire_list(struct ll_store *st, int64_t now,
				 char ***ids_out, size_t *n_out)
{
	return collect_ids(st, STMT_SESSION_EXPIRE, &now, ids_out, n_out);
}

static int pins_live(struct ll_store *st, int stmt, int64_t id, int64_t now,
		     int64_t *count_out, int64_t *first_expiry_out)
{
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || count_out == NULL || first_expiry_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, stmt, &s)) != LL_OK ||
	    (r = bind_i64(st, s, 1, id)) != LL_OK ||
	    (r = bind_i64(st, s, 2, now)) != LL_OK ||
	    (r = step_row(st, s)) != LL_OK)
		goto out;
	*count_out = sqlite3_column_int64(s, 0);
	*first_expiry_out = sqlite3_column_int64(s, 1); /* NULL reads 0 */
out:
	ll_store_stmt_done(s);
	return r;
}

int ll_store_pins_live_of_technician(struct ll_store *st,
				     int64_t technician_id, int64_t now,
				     int64_t *count_out,
				     int64_t *first_expiry_out)
{
	return pins_live(st, STMT_SESSION_LIVE_PINS_TECH, technician_id, now,
			 count_out, first_expiry_out);
}

int ll_store_pins_live_of_org(struct ll_store *st, int64_t org_id, int64_t now,
			      int64_t *count_out, int64_t *first_expiry_out)
{
	return pins_live(st, STMT_SESSION_LIVE_PINS_ORG, org_id, now,
			 count_out, first_expiry_out);
}

int ll_store_session_expire_unconnected(struct ll_store *st, int64_t now,
					int64_t connect_s, char ***ids_out,
					size_t *n_out)
{
	return collect_ids2(st, STMT_SESSION_EXPIRE_UNCONNECTED, &now,
			    &connect_s, ids_out, n_out);
}
