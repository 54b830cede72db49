/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Refusals, aggregated: so that refused requests cannot fill the disk,
 * the audit gets one row per (source address, action, code, actor, org)
 * and window instead of one per refusal.
 *
 * The first refusal of a key in a window is written at once, as its own
 * record (an admin sees the first wrong password, the first unknown path
 * at once, with its session and detail); later ones are only counted, and
 * at the end of the window (refusal_window_s, checked once a second) and
 * at shutdown each key with uncounted refusals gets one summary record:
 * the same actor, action, outcome, address and org, and detail
 * {"summary": "refusals aggregated", "count", "first", "last",
 * "window_s"}.  Every refusal is thus on record, one by one or counted.
 *
 * A refusal of a caller who proved a credential (a valid token or
 * ticket, or the right password of a disabled account: outcome
 * account_disabled) is tied to someone accountable, and is what an
 * investigator wants one by one: the first LL_REFUSALS_AUTH_ROWS of such
 * a key in a window are written singly, only a flood beyond is counted.
 *
 * The table is bounded (LL_REFUSALS_MAX keys): once full, a new key is
 * folded into one key per (action, code) for "other addresses" (no
 * address, actor "various"), so a botnet cannot grow memory.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "ll_util.h"
#include "ll_relay.h"
#include "api.h"

struct ll_refusals {
	GHashTable *keys; /* key text (owned) -> struct refusal (owned) */
	int64_t window_start;
};

struct refusal {
	char *source_ip; /* NULL: the "other addresses" key */
	char *action;
	char *outcome;
	char *actor;
	int64_t org_id;
	int64_t written;     /* singly, this window */
	int64_t count;       /* counted only, this window */
	int64_t first, last; /* of the counted ones */
};

static void refusal_free(gpointer p)
{
	struct refusal *f = p;

	if (f == NULL)
		return;
	free(f->source_ip);
	free(f->action);
	free(f->outcome);
	free(f->actor);
	free(f);
}

static struct ll_refusals *refusals_get(struct ll_relay *relay)
{
	struct ll_refusals *t = relay->refusals;

	if (t != NULL)
		return t;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					refusal_free);
	t->window_start = ll_now_unix();
	relay->refusals = t;
	return t;
}

static struct refusal *refusal_new(const char *ip, const char *action,
				   const char *outcome, const char *actor,
				   int64_t org_id)
{
	struct refusal *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->source_ip = ip ? strdup(ip) : NULL;
	f->action = strdup(action);
	f->outcome = strdup(outcome);
	f->actor = strdup(actor);
	f->org_id = org_id;
	if ((ip != NULL && f->source_ip == NULL) || f->action == NULL ||
	    f->outcome == NULL || f->actor == NULL) {
		refusal_free(f);
		return NULL;
	}
	return f;
}

bool ll_api_refusal_note(struct ll_relay *relay, const char *source_ip,
			 const char *action, const char *outcome,
			 const char *actor, int64_t org_id, bool authenticated,
			 bool may_write, int64_t now)
{
	struct ll_refusals *t = refusals_get(relay);
	int64_t budget = authenticated ? LL_REFUSALS_AUTH_ROWS : 1;
	struct refusal *f;
	char *key;

	if (t == NULL)
		return may_write; /* no memory: fall back to one row each */
	key = g_strdup_printf("%s\x1f%s\x1f%s\x1f%s\x1f%lld",
			      source_ip ? source_ip : "", action, outcome,
			      actor, (long long)org_id);
	f = g_hash_table_lookup(t->keys, key);
	if (f == NULL && g_hash_table_size(t->keys) >= LL_REFUSALS_MAX) {
		/* Full: fold into the (action, code) key of "other
		 * addresses" (this one may go past the bound: there are
		 * only so many actions and codes). */
		g_free(key);
		key = g_strdup_printf("\x1f%s\x1f%s\x1f"
				      "various\x1f"
				      "0",
				      action, outcome);
		f = g_hash_table_lookup(t->keys, key);
		source_ip = NULL;
		actor = "various";
		org_id = 0;
	}
	if (f == NULL) {
		if ((f = refusal_new(source_ip, action, outcome, actor,
				     org_id)) == NULL) {
			g_free(key);
			return may_write;
		}
		g_hash_table_insert(t->keys, key, f);
	} else {
		g_free(key);
	}
	if (may_write && f->written < budget) {
		f->written++;
		return true;
	}
	if (f->count++ == 0)
		f->first = now;
	f->last = now;
	return false;
}

/* One summary record for a key with counted refusals. */
static void summary_write(struct ll_relay *relay, const struct refusal *f,
			  int64_t window_s)
{
	char first[40], last[40];
	json_t *d;

	ll_format_rfc3339(f->first, first, sizeof(first));
	ll_format_rfc3339(f->last, last, sizeof(last));
	d = json_pack("{s:s,s:I,s:s,s:s,s:I}", "summary",
		      "refusals aggregated", "count", (json_int_t)f->count,
		      "first", first, "last", last, "window_s",
		      (json_int_t)window_s);
	if (d != NULL && f->source_ip == NULL)
		json_object_set_new(d, "other_addresses", json_true());
	ll_info("refusals aggregated: %lld more %s from %s refused %s "
		"(actor %s, %s .. %s)",
		(long long)f->count, f->action,
		f->source_ip ? f->source_ip : "other addresses", f->outcome,
		f->actor, first, last);
	if (relay->store != NULL)
		(void)ll_api_audit(relay, f->org_id, f->actor, f->action,
				   f->outcome, f->source_ip, NULL, d);
	json_decref(d);
}

void ll_api_refusals_flush(struct ll_relay *relay, int64_t now)
{
	struct ll_refusals *t = relay ? relay->refusals : NULL;
	GHashTableIter it;
	gpointer k, v;

	if (t == NULL)
		return;
	g_hash_table_iter_init(&it, t->keys);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct refusal *f = v;

		if (f->count > 0)
			summary_write(relay, f, relay->cfg.refusal_window_s);
	}
	g_hash_table_remove_all(t->keys);
	t->window_start = now;
}

void ll_api_refusals_tick(struct ll_relay *relay, int64_t now)
{
	struct ll_refusals *t = relay ? relay->refusals : NULL;

	if (t == NULL)
		return;
	/* A clock set back starts a new window too. */
	if (now >= t->window_start + relay->cfg.refusal_window_s ||
	    now < t->window_start)
		ll_api_refusals_flush(relay, now);
}

void ll_api_refusals_free(struct ll_relay *relay)
{
	struct ll_refusals *t = relay ? relay->refusals : NULL;

	if (t == NULL)
		return;
	g_hash_table_destroy(t->keys);
	free(t);
	relay->refusals = NULL;
}
