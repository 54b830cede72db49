/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Technician groups: a name and a permission mask per org.  What the
 * mask means, and what a technician without a group may do, is the
 * relay's (ll_relay_permissions); the store keeps numbers.
 */
#include <stdlib.h>

#include "store_int.h"
#include "ll_util.h"

void ll_group_free(struct ll_group *g)
{
	if (g == NULL)
		return;
	free(g->org_name);
	free(g->name);
	free(g->end_user_cidrs);
	free(g);
}

void ll_group_list_free(struct ll_group **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		ll_group_free(list[i]);
	free(list);
}

/* One row of GROUP_COLS (store.c) into a new ll_group. */
static int group_row(sqlite3_stmt *s, void *elem)
{
	struct ll_group *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return LL_ERR_NOMEM;
	g->id = sqlite3_column_int64(s, 0);
	g->org_id = sqlite3_column_int64(s, 1);
	g->org_name = dup_col(s, 2);
	g->name = dup_col(s, 3);
	g->permissions = (uint32_t)sqlite3_column_int64(s, 4);
	g->created_at = sqlite3_column_int64(s, 5);
	g->members = sqlite3_column_int64(s, 6);
	if (sqlite3_column_type(s, 7) != SQLITE_NULL &&
	    (g->end_user_cidrs = dup_col(s, 7)) == NULL) {
		ll_group_free(g);
		return LL_ERR_NOMEM;
	}
	if (g->org_name == NULL || g->name == NULL) {
		ll_group_free(g);
		return LL_ERR_NOMEM;
	}
	*(struct ll_group **)elem = g;
	return LL_OK;
}

static void group_list_free(void *list, size_t n)
{
	ll_group_list_free(list, n);
}

int ll_store_group_add(struct ll_store *st, int64_t org_id, const char *name,
		       uint32_t permissions, int64_t now, int64_t *id_out)
{
	int r;

	if (st == NULL || name == NULL || name[0] == '\0')
		return LL_ERR_INVALID_ARG;
	r = ll_store_exec(st, STMT_GROUP_ADD,
			  STORE_ARGS(ARG_I64(org_id), ARG_TEXT(name),
				     ARG_I64(permissions), ARG_I64(now)));
	if (r == LL_OK && id_out != NULL)
		*id_out = sqlite3_last_insert_rowid(st->db);
	return r;
}

int ll_store_group_find(struct ll_store *st, int64_t org_id, const char *name,
			struct ll_group **out)
{
	if (st == NULL || name == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_GROUP_FIND,
			    STORE_ARGS(ARG_I64(org_id), ARG_TEXT(name)),
			    group_row, out);
}

int ll_store_group_set_permissions(struct ll_store *st, int64_t org_id,
				   const char *name, uint32_t permissions)
{
	if (st == NULL || name == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec_changed(st, STMT_GROUP_SET_PERMISSIONS,
				     STORE_ARGS(ARG_I64(permissions),
						ARG_I64(org_id),
						ARG_TEXT(name)));
}

int ll_store_group_set_end_user_cidrs(struct ll_store *st, int64_t org_id,
				      const char *name, const char *cidrs)
{
	if (st == NULL || name == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec_changed(st, STMT_GROUP_SET_END_USER_CIDRS,
				     STORE_ARGS(ARG_TEXT(cidrs ? cidrs : ""),
						ARG_I64(org_id),
						ARG_TEXT(name)));
}

int ll_store_group_remove(struct ll_store *st, int64_t org_id,
			  const char *name)
{
	struct ll_group *g = NULL;
	int r;

	if (st == NULL || name == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_begin(st)) != LL_OK)
		return r;
	if ((r = ll_store_group_find(st, org_id, name, &g)) == LL_OK) {
		r = ll_store_exec_changed(st, STMT_GROUP_REMOVE,
					  STORE_ARGS(ARG_I64(org_id),
						     ARG_TEXT(name)));
		/* it exists: unchanged means it has members */
		if (r == LL_ERR_NOT_FOUND)
			r = LL_ERR_CONFLICT;
	}
	ll_group_free(g);
	return ll_store_tx_end(st, r);
}

int ll_store_group_list(struct ll_store *st, int64_t org_id,
			struct ll_group ***out, size_t *n_out)
{
	void *list;
	size_t n;
	int r;

	if (st == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_list(st, STMT_GROUP_LIST, STORE_ARGS(ARG_I64(org_id)),
			  sizeof(**out), group_row, group_list_free, &list,
			  &n);
	if (r == LL_OK) {
		*out = list;
		*n_out = n;
	}
	return r;
}
