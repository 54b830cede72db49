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
	se->permissions = (uint32_t)sqlite3_column_int64(s, 16);
	if (se->lock == NULL || (sqlite3_column_type(s, 11) != SQLITE_NULL &&
				 (se->end_reason = dup_col(s, 11)) == NULL)) {
		ll_session_free(se);
		return LL_ERR_NOMEM;
	}
	*out = se;
	return LL_OK;
}

/* Row callbacks (ll_store_get, ll_store_list) for sessions. */
static int session_row(sqlite3_stmt *s, void *elem)
{
	return session_from_row(s, elem);
}

static void session_list_free(void *list, size_t n)
{
	ll_session_list_free(list, n);
}

int ll_store_session_create(struct ll_store *st,
			    const struct ll_session_new *n)
{
	int r;

	if (st == NULL || n == NULL || !session_id_ok(n->id) ||
	    !lock_ok(n->lock) || n->pin_mac == NULL ||
	    n->agent_ticket_hash == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_begin(st)) != LL_OK)
		return r;
	/* PINs past their lifetime no longer count as live, even before
	 * ll_store_session_expire has run over them.  Then the partial
	 * unique index on live pin_macs turns a live duplicate into
	 * LL_ERR_CONFLICT. */
	if ((r = ll_store_exec(st, STMT_SESSION_KILL_EXPIRED_PIN,
			       STORE_ARGS(ARG_HASH(n->pin_mac),
					  ARG_I64(n->created_at)))) == LL_OK)
		r = ll_store_exec(st, STMT_SESSION_INSERT,
				  STORE_ARGS(ARG_TEXT(n->id),
					     ARG_I64(n->org_id),
					     ARG_I64(n->technician_id),
					     ARG_TEXT(n->lock),
					     ARG_HASH(n->pin_mac),
					     ARG_HASH(n->agent_ticket_hash),
					     ARG_I64(n->created_at),
					     ARG_I64(n->expires_at),
					     ARG_I64(n->permissions)));
	return ll_store_tx_end(st, r);
}

int ll_store_session_find_by_pin(struct ll_store *st,
				 const uint8_t pin_mac[LL_HASH_LEN],
				 struct ll_session **out)
{
	if (st == NULL || pin_mac == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_SESSION_BY_PIN,
			    STORE_ARGS(ARG_HASH(pin_mac)), session_row, out);
}

/* For an UPDATE that matched nothing: NOT_FOUND, or the session's state
 * (through *state) so the caller can say why. */
static int session_state(struct ll_store *st, const char *id, int64_t *state)
{
	return ll_store_get(st, STMT_SESSION_STATE, STORE_ARGS(ARG_TEXT(id)),
			    ll_store_row_i64, state);
}

/* Why a redeem changed nothing, from STMT_SESSION_REDEEM_CHECK's row. */
static int redeem_refusal_row(sqlite3_stmt *s, void *out)
{
	int *refusal = out;

	if (sqlite3_column_int(s, 0) != 0 ||
	    sqlite3_column_int(s, 1) != LL_SESSION_WAITING)
		*refusal = LL_ERR_CONFLICT;
	else
		*refusal = LL_ERR_EXPIRED;
	return LL_OK;
}

int ll_store_session_redeem(struct ll_store *st, const char *session_id,
			    const uint8_t applet_ticket_hash[LL_HASH_LEN],
			    int64_t now)
{
	int r, refusal;

	if (st == NULL || session_id == NULL || applet_ticket_hash == NULL)
		return LL_ERR_INVALID_ARG;
	/* One UPDATE guarded by pin_used = 0: of two concurrent redeems
	 * exactly one changes the row. */
	r = ll_store_exec_changed(st, STMT_SESSION_REDEEM,
				  STORE_ARGS(ARG_HASH(applet_ticket_hash),
					     ARG_I64(now),
					     ARG_TEXT(session_id)));
	if (r != LL_ERR_NOT_FOUND)
		return r;
	/* Nothing changed: say why. */
	r = ll_store_get(st, STMT_SESSION_REDEEM_CHECK,
			 STORE_ARGS(ARG_TEXT(session_id)), redeem_refusal_row,
			 &refusal);
	return r == LL_OK ? refusal : r;
}

/* A row of STMT_SESSION_BY_TICKET: the session, then whose ticket. */
struct session_side {
	struct ll_session *se;
	enum ll_side side;
};

static int session_side_row(sqlite3_stmt *s, void *out)
{
	struct session_side *ss = out;
	int r;

	if ((r = session_from_row(s, &ss->se)) == LL_OK)
		ss->side = sqlite3_column_int(s, 17) ? LL_SIDE_APPLET
						     : LL_SIDE_AGENT;
	return r;
}

int ll_store_session_find_by_ticket(struct ll_store *st,
				    const uint8_t ticket_hash[LL_HASH_LEN],
				    struct ll_session **out,
				    enum ll_side *side_out)
{
	struct session_side ss;
	int r;

	if (st == NULL || ticket_hash == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_get(st, STMT_SESSION_BY_TICKET,
			      STORE_ARGS(ARG_HASH(ticket_hash)),
			      session_side_row, &ss)) != LL_OK)
		return r;
	if (side_out != NULL)
		*side_out = ss.side;
	*out = ss.se;
	return LL_OK;
}

int ll_store_session_claim_stream(struct ll_store *st, const char *session_id,
				  enum ll_side side)
{
	int64_t state;
	int r;

	if (st == NULL || session_id == NULL ||
	    (side != LL_SIDE_AGENT && side != LL_SIDE_APPLET))
		return LL_ERR_INVALID_ARG;
	r = ll_store_exec_changed(st,
				  side == LL_SIDE_AGENT
					  ? STMT_SESSION_CLAIM_AGENT
					  : STMT_SESSION_CLAIM_APPLET,
				  STORE_ARGS(ARG_TEXT(session_id)));
	if (r == LL_ERR_NOT_FOUND) {
		r = session_state(st, session_id, &state);
		if (r == LL_OK)
			r = state >= LL_SESSION_ENDED ? LL_ERR_EXPIRED
						      : LL_ERR_CONFLICT;
	}
	return r;
}

int ll_store_session_get(struct ll_store *st, const char *session_id,
			 struct ll_session **out)
{
	if (st == NULL || session_id == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_SESSION_GET,
			    STORE_ARGS(ARG_TEXT(session_id)), session_row,
			    out);
}

int ll_store_session_set_connected(struct ll_store *st, const char *session_id,
				   int64_t now)
{
	int64_t state;
	int r;

	if (st == NULL || session_id == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_exec_changed(st, STMT_SESSION_CONNECT,
				  STORE_ARGS(ARG_I64(now),
					     ARG_TEXT(session_id)));
	if (r == LL_ERR_NOT_FOUND) {
		/* Already connected is fine; over is not. */
		r = session_state(st, session_id, &state);
		if (r == LL_OK && state != LL_SESSION_CONNECTED)
			r = LL_ERR_CONFLICT;
	}
	return r;
}

int ll_store_session_end(struct ll_store *st, const char *session_id,
			 int64_t now, const char *reason,
			 uint64_t bytes_agent_to_applet,
			 uint64_t bytes_applet_to_agent)
{
	int64_t state;
	int r;

	if (st == NULL || session_id == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_exec_changed(
		st, STMT_SESSION_END,
		STORE_ARGS(ARG_I64(now), ARG_TEXT(reason ? reason : "ended"),
			   ARG_I64(clamp_u64(bytes_agent_to_applet)),
			   ARG_I64(clamp_u64(bytes_applet_to_agent)),
			   ARG_TEXT(session_id)));
	/* An ended session stays ended: only a missing one is an error. */
	if (r == LL_ERR_NOT_FOUND)
		r = session_state(st, session_id, &state);
	return r;
}

int ll_store_session_expire(struct ll_store *st, int64_t now)
{
	char **ids = NULL;
	size_t n = 0;
	int r;

	r = ll_store_session_expire_list(st, now, &ids, &n);
	ll_store_text_list_free(ids, n);
	return r;
}

/* The sessions of statement stmt, whose arguments are an id and a row
 * limit (the technician's, the org's). */
static int session_list_by(struct ll_store *st, enum ll_stmt stmt, int64_t id,
			   size_t limit, struct ll_session ***out,
			   size_t *n_out)
{
	void *list;
	size_t n;
	int r;

	if (st == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_list(st, stmt,
			  STORE_ARGS(ARG_I64(id), ARG_I64(clamp_u64(limit))),
			  sizeof(**out), session_row, session_list_free, &list,
			  &n);
	if (r == LL_OK) {
		*out = list;
		*n_out = n;
	}
	return r;
}

int ll_store_session_list(struct ll_store *st, int64_t technician_id,
			  size_t limit, struct ll_session ***out,
			  size_t *n_out)
{
	return session_list_by(st, STMT_SESSION_LIST, technician_id, limit,
			       out, n_out);
}

int ll_store_session_connected(struct ll_store *st, int64_t org_id,
			       size_t limit, struct ll_session ***out,
			       size_t *n_out)
{
	return session_list_by(st, STMT_SESSION_CONNECTED_ORG, org_id, limit,
			       out, n_out);
}

/* Runs statement stmt, whose rows are one id each, with args and hands
 * back the ids. */
static int collect_ids(struct ll_store *st, enum ll_stmt stmt,
		       const struct ll_store_arg *args, size_t n_args,
		       char ***ids_out, size_t *n_out)
{
	void *ids;
	size_t n;
	int r;

	if (st == NULL || ids_out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_list(st, stmt, args, n_args, sizeof(**ids_out),
			  ll_store_row_text, ll_store_text_list_free, &ids,
			  &n);
	if (r == LL_OK) {
		*ids_out = ids;
		*n_out = n;
	}
	return r;
}

int ll_store_session_live_of_disabled(struct ll_store *st, char ***ids_out,
				      size_t *n_out)
{
	return collect_ids(st, STMT_SESSION_LIVE_DISABLED, NO_ARGS, ids_out,
			   n_out);
}

int ll_store_session_live_not_permitted(struct ll_store *st, uint32_t no_group,
					char ***ids_out, size_t *n_out)
{
	return collect_ids(st, STMT_SESSION_LIVE_NOT_PERMITTED,
			   STORE_ARGS(ARG_I64(no_group)), ids_out, n_out);
}

int ll_store_session_expire_list(struct ll_store *st, int64_t now,
				 char ***ids_out, size_t *n_out)
{
	return collect_ids(st, STMT_SESSION_EXPIRE, STORE_ARGS(ARG_I64(now)),
			   ids_out, n_out);
}

struct pins_live {
	int64_t count, first_expiry;
};

static int pins_live_row(sqlite3_stmt *s, void *out)
{
	struct pins_live *p = out;

	p->count = sqlite3_column_int64(s, 0);
	p->first_expiry = sqlite3_column_int64(s, 1); /* NULL reads 0 */
	return LL_OK;
}

static int pins_live(struct ll_store *st, enum ll_stmt stmt, int64_t id,
		     int64_t now, int64_t *count_out,
		     int64_t *first_expiry_out)
{
	struct pins_live p;
	int r;

	if (st == NULL || count_out == NULL || first_expiry_out == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_get(st, stmt, STORE_ARGS(ARG_I64(id), ARG_I64(now)),
			 pins_live_row, &p);
	if (r == LL_OK) {
		*count_out = p.count;
		*first_expiry_out = p.first_expiry;
	}
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
	return collect_ids(st, STMT_SESSION_EXPIRE_UNCONNECTED,
			   STORE_ARGS(ARG_I64(now), ARG_I64(connect_s)),
			   ids_out, n_out);
}

int ll_store_session_end_orphaned(struct ll_store *st, int64_t now,
				  const char *reason, char ***ids_out,
				  size_t *n_out)
{
	if (reason == NULL)
		return LL_ERR_INVALID_ARG;
	return collect_ids(st, STMT_SESSION_END_ORPHANED,
			   STORE_ARGS(ARG_I64(now), ARG_TEXT(reason)), ids_out,
			   n_out);
}
