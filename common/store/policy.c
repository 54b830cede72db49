/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-org policy as KEY = VALUE text.  The relay owns the key table, the
 * checks and the defaults (common/relay/core/policy.c); the store only
 * keeps what an org has set.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "ll_util.h"

void ll_policy_entries_free(struct ll_policy_entry *list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(list[i].key);
		free(list[i].value);
	}
	free(list);
}

static bool key_ok(const char *key)
{
	return key != NULL && key[0] != '\0';
}

int ll_store_policy_get(struct ll_store *st, int64_t org_id, const char *key,
			char **value_out)
{
	if (st == NULL || !key_ok(key) || value_out == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_get(st, STMT_POLICY_GET,
			    STORE_ARGS(ARG_I64(org_id), ARG_TEXT(key)),
			    ll_store_row_text, value_out);
}

int ll_store_policy_set(struct ll_store *st, int64_t org_id, const char *key,
			const char *value)
{
	if (st == NULL || !key_ok(key) || value == NULL)
		return LL_ERR_INVALID_ARG;
	return ll_store_exec(st, STMT_POLICY_SET,
			     STORE_ARGS(ARG_I64(org_id), ARG_TEXT(key),
					ARG_TEXT(value)));
}

int ll_store_policy_unset(struct ll_store *st, int64_t org_id, const char *key)
{
	if (st == NULL || !key_ok(key))
		return LL_ERR_INVALID_ARG;
	return ll_store_exec_changed(st, STMT_POLICY_UNSET,
				     STORE_ARGS(ARG_I64(org_id),
						ARG_TEXT(key)));
}

/* ll_store_collect's callbacks for a policy list. */
static int policy_row(sqlite3_stmt *s, void *elem)
{
	struct ll_policy_entry *e = elem;

	e->key = dup_col(s, 0);
	e->value = dup_col(s, 1);
	if (e->key == NULL || e->value == NULL) {
		free(e->key);
		free(e->value);
		return LL_ERR_NOMEM;
	}
	return LL_OK;
}

static void policy_list_free(void *list, size_t n)
{
	ll_policy_entries_free(list, n);
}

int ll_store_policy_list(struct ll_store *st, int64_t org_id,
			 struct ll_policy_entry **out, size_t *n_out)
{
	void *list;
	size_t n;
	int r;

	if (st == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_list(st, STMT_POLICY_LIST, STORE_ARGS(ARG_I64(org_id)),
			  sizeof(**out), policy_row, policy_list_free, &list,
			  &n);
	if (r == LL_OK) {
		*out = list;
		*n_out = n;
	}
	return r;
}

int ll_store_policy_list_key(struct ll_store *st, const char *key,
			     struct ll_policy_entry **out, size_t *n_out)
{
	sqlite3_stmt *s = NULL;
	void *list = NULL;
	size_t n = 0;
	int r;

	if (st == NULL || key == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_store_stmt(st, STMT_POLICY_OF_KEY, &s)) != LL_OK ||
	    (r = bind_text(st, s, 1, key)) != LL_OK ||
	    (r = ll_store_collect(st, s, sizeof(**out), policy_row,
				  policy_list_free, &list, &n)) != LL_OK)
		goto out;
	*out = list;
	*n_out = n;
out:
	ll_store_stmt_done(s);
	return r;
}
