/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Token buckets per source address with a bounded LRU table. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "ll_util.h"
#include "ll_ratelimit.h"

struct rl_entry {
	char key[LL_RATELIMIT_KEY_MAX];
	double tokens;
	int64_t last_ms;
	struct rl_entry *prev; /* LRU list: head = most recently used */
	struct rl_entry *next;
};

struct ll_ratelimit {
	int64_t rate_per_min;
	int64_t burst;
	size_t max_entries;
	GHashTable *table; /* key -> struct rl_entry * (owned) */
	struct rl_entry *head;
	struct rl_entry *tail;
};

static bool rl_args_ok(int64_t rate_per_min, int64_t burst)
{
	/* Caps keep the double arithmetic exact enough and sane. */
	return rate_per_min >= 1 && rate_per_min <= 100000000 && burst >= 1 &&
	       burst <= 100000000;
}

struct ll_ratelimit *ll_ratelimit_new(int64_t rate_per_min, int64_t burst,
				      size_t max_entries)
{
	struct ll_ratelimit *rl;

	if (!rl_args_ok(rate_per_min, burst) || max_entries == 0)
		return NULL;
	rl = calloc(1, sizeof(*rl));
	if (rl == NULL)
		return NULL;
	rl->rate_per_min = rate_per_min;
	rl->burst = burst;
	rl->max_entries = max_entries;
	rl->table = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, free);
	return rl;
}

void ll_ratelimit_free(struct ll_ratelimit *rl)
{
	if (rl == NULL)
		return;
	g_hash_table_destroy(rl->table);
	free(rl);
}

int ll_ratelimit_configure(struct ll_ratelimit *rl, int64_t rate_per_min,
			   int64_t burst)
{
	struct rl_entry *e;

	if (rl == NULL || !rl_args_ok(rate_per_min, burst))
		return LL_ERR_INVALID_ARG;
	rl->rate_per_min = rate_per_min;
	rl->burst = burst;
	for (e = rl->head; e != NULL; e = e->next)
		if (e->tokens > (double)burst)
			e->tokens = (double)burst;
	return LL_OK;
}

void ll_ratelimit_get_config(const struct ll_ratelimit *rl,
			     int64_t *rate_per_min, int64_t *burst)
{
	if (rate_per_min != NULL)
		*rate_per_min = rl->rate_per_min;
	if (burst != NULL)
		*burst = rl->burst;
}

size_t ll_ratelimit_count(const struct ll_ratelimit *rl)
{
	return g_hash_table_size(rl->table);
}

void ll_ratelimit_key(const char *ip, char out[LL_RATELIMIT_KEY_MAX])
{
	struct in_addr a4;
	struct in6_addr a6;
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0,    0,
					      0, 0, 0, 0, 0xff, 0xff };
	char txt[INET6_ADDRSTRLEN];

	if (ip == NULL)
		ip = "";
	if (inet_pton(AF_INET, ip, &a4) == 1) {
		inet_ntop(AF_INET, &a4, out, LL_RATELIMIT_KEY_MAX);
		return;
	}
	if (inet_pton(AF_INET6, ip, &a6) == 1) {
		if (memcmp(a6.s6_addr, v4mapped, sizeof(v4mapped)) == 0) {
			memcpy(&a4, a6.s6_addr + 12, 4);
			inet_ntop(AF_INET, &a4, out, LL_RATELIMIT_KEY_MAX);
			return;
		}
		/* One host usually holds a whole /64. */
		memset(a6.s6_addr + 8, 0, 8);
		inet_ntop(AF_INET6, &a6, txt, sizeof(txt));
		snprintf(out, LL_RATELIMIT_KEY_MAX, "%s/64", txt);
		return;
	}
	/* Not an address (a Unix socket, a test label): use it as is. */
	snprintf(out, LL_RATELIMIT_KEY_MAX, "%s", ip);
}

static void rl_unlink(struct ll_ratelimit *rl, struct rl_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		rl->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		rl->tail = e->prev;
	e->prev = e->next = NULL;
}

static void rl_push_front(struct ll_ratelimit *rl, struct rl_entry *e)
{
	e->prev = NULL;
	e->next = rl->head;
	if (rl->head != NULL)
		rl->head->prev = e;
	rl->head = e;
	if (rl->tail == NULL)
		rl->tail = e;
}

static void rl_refill(const struct ll_ratelimit *rl, struct rl_entry *e,
		      int64_t now_ms)
{
	double elapsed;

	if (now_ms <= e->last_ms)
		return; /* clock did not move (or went back): no refill */
	elapsed = (double)(now_ms - e->last_ms);
	e->tokens += elapsed * (double)rl->rate_per_min / 60000.0;
	if (e->tokens > (double)rl->burst)
		e->tokens = (double)rl->burst;
	e->last_ms = now_ms;
}

int ll_ratelimit_take(struct ll_ratelimit *rl, const char *ip, int64_t now_ms,
		      int64_t *retry_after_s)
{
	char key[LL_RATELIMIT_KEY_MAX];
	struct rl_entry *e;
	double missing, wait_s;
	int64_t secs;

	if (rl == NULL || ip == NULL || retry_after_s == NULL)
		return LL_ERR_INVALID_ARG;
	ll_ratelimit_key(ip, key);
	e = g_hash_table_lookup(rl->table, key);
	if (e == NULL) {
		if (g_hash_table_size(rl->table) >= rl->max_entries) {
			struct rl_entry *old = rl->tail;

			rl_unlink(rl, old);
			g_hash_table_remove(rl->table, old->key);
		}
		e = calloc(1, sizeof(*e));
		if (e == NULL)
			return LL_ERR_NOMEM;
		memcpy(e->key, key, sizeof(e->key));
		e->tokens = (double)rl->burst;
		e->last_ms = now_ms;
		g_hash_table_insert(rl->table, e->key, e);
	} else {
		rl_unlink(rl, e);
		rl_refill(rl, e, now_ms);
	}
	rl_push_front(rl, e);

	if (e->tokens >= 1.0) {
		e->tokens -= 1.0;
		return LL_OK;
	}
	missing = 1.0 - e->tokens;
	wait_s = missing * 60.0 / (double)rl->rate_per_min;
	secs = (int64_t)wait_s;
	if ((double)secs < wait_s)
		secs++; /* round up: "retry in 0 s" would be a lie */
	*retry_after_s = secs < 1 ? 1 : secs;
	return LL_ERR_TOO_LARGE;
}

int ll_ratelimit_peek(const struct ll_ratelimit *rl, const char *ip,
		      int64_t now_ms, int64_t *retry_after_s)
{
	char key[LL_RATELIMIT_KEY_MAX];
	const struct rl_entry *e;
	struct rl_entry probe;
	double wait_s;
	int64_t secs;

	if (rl == NULL || ip == NULL || retry_after_s == NULL)
		return LL_ERR_INVALID_ARG;
	ll_ratelimit_key(ip, key);
	if ((e = g_hash_table_lookup(rl->table, key)) == NULL)
		return LL_OK; /* unknown: a full bucket */
	probe = *e;
	rl_refill(rl, &probe, now_ms);
	if (probe.tokens >= 1.0)
		return LL_OK;
	wait_s = (1.0 - probe.tokens) * 60.0 / (double)rl->rate_per_min;
	secs = (int64_t)wait_s;
	if ((double)secs < wait_s)
		secs++;
	*retry_after_s = secs < 1 ? 1 : secs;
	return LL_ERR_TOO_LARGE;
}

/* ---- windows: events over a sliding time span ---- */

struct ll_windows {
	GHashTable *table; /* &window->key -> struct ll_window * (owned) */
};

struct ll_windows *ll_windows_new(void)
{
	struct ll_windows *ws = calloc(1, sizeof(*ws));

	if (ws == NULL)
		return NULL;
	ws->table = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
					  free);
	return ws;
}

void ll_windows_free(struct ll_windows *ws)
{
	if (ws == NULL)
		return;
	g_hash_table_destroy(ws->table);
	free(ws);
}

struct ll_window *ll_windows_get(struct ll_windows *ws, int64_t key,
				 bool create)
{
	struct ll_window *w;

	if (ws == NULL)
		return NULL;
	w = g_hash_table_lookup(ws->table, &key);
	if (w != NULL || !create)
		return w;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->key = key;
	g_hash_table_insert(ws->table, &w->key, w);
	return w;
}

void ll_windows_foreach(struct ll_windows *ws,
			void (*fn)(struct ll_window *w, void *user),
			void *user)
{
	GHashTableIter it;
	gpointer k, v;

	if (ws == NULL)
		return;
	g_hash_table_iter_init(&it, ws->table);
	while (g_hash_table_iter_next(&it, &k, &v))
		fn(v, user);
}

/*
 * The bucket width for a span: LL_WINDOW_BUCKETS - 2 buckets of it cover
 * the span, so that with the newest bucket (partly elapsed) counted too,
 * no event younger than span_s ever drops out.
 */
static int64_t window_width(int64_t span_s)
{
	const int64_t n = LL_WINDOW_BUCKETS - 2;

	return span_s < 1 ? 1 : (span_s + n - 1) / n;
}

/* Buckets counted, the newest included: they reach back at least span_s
 * from any moment within the newest one. */
static int64_t window_len(const struct ll_window *w)
{
	return (w->span_s + w->width_s - 1) / w->width_s + 1;
}

static uint32_t *window_slot(struct ll_window *w, int64_t index)
{
	int64_t n = LL_WINDOW_BUCKETS;

	return &w->count[((index % n) + n) % n];
}

static uint64_t window_sum(struct ll_window *w)
{
	uint64_t sum = 0;
	int64_t i, len = window_len(w);

	for (i = 0; i < len; i++)
		sum += *window_slot(w, w->newest - i);
	return sum;
}

/* Moves the newest bucket to now, emptying the buckets it passes. */
static void window_advance(struct ll_window *w, int64_t span_s, int64_t now)
{
	int64_t cur, i;
	uint64_t kept;

	if (span_s < 1)
		span_s = 1;
	if (now < 0)
		now = 0;
	if (w->span_s != span_s) {
		/* New layout (or the first use): what was counted stays,
		 * all in the newest bucket, so nothing leaves early. */
		kept = w->span_s > 0 ? window_sum(w) : 0;
		memset(w->count, 0, sizeof(w->count));
		w->span_s = span_s;
		w->width_s = window_width(span_s);
		w->newest = now / w->width_s;
		*window_slot(w, w->newest) = kept > UINT32_MAX
						     ? UINT32_MAX
						     : (uint32_t)kept;
		return;
	}
	cur = now / w->width_s;
	if (cur <= w->newest)
		return; /* same bucket, or the clock went back */
	for (i = w->newest + 1; i <= cur && i <= w->newest + LL_WINDOW_BUCKETS;
	     i++)
		*window_slot(w, i) = 0;
	w->newest = cur;
}

void ll_window_add(struct ll_window *w, int64_t span_s, int64_t now)
{
	uint32_t *slot;

	if (w == NULL)
		return;
	window_advance(w, span_s, now);
	slot = window_slot(w, w->newest);
	if (*slot < UINT32_MAX)
		(*slot)++;
}

uint64_t ll_window_count(struct ll_window *w, int64_t span_s, int64_t now)
{
	if (w == NULL)
		return 0;
	window_advance(w, span_s, now);
	return window_sum(w);
}

int64_t ll_window_retry_after(struct ll_window *w, int64_t span_s, int64_t now,
			      uint64_t limit)
{
	uint64_t total = ll_window_count(w, span_s, now);
	int64_t i, len, index, wait;

	if (w == NULL || total < limit)
		return 0;
	len = window_len(w);
	if (now < 0)
		now = 0;
	/* Oldest bucket first: when it leaves, is the count below limit? */
	for (i = len - 1; i >= 0; i--) {
		index = w->newest - i;
		total -= *window_slot(w, index);
		if (total < limit) {
			/* bucket `index` leaves once `index + len` is the
			 * newest */
			wait = (index + len) * w->width_s - now;
			return wait < 1 ? 1 : wait;
		}
	}
	return w->span_s; /* limit 0: never below it */
}
