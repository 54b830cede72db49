/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The input gate: the one place that says whether the technician's input
 * may reach the desktop right now.  The session (GTK thread) opens and
 * closes it; the RFB thread asks it before every injected event.
 *
 * Input is allowed only while `control` is granted AND no consent dialog
 * is open (DESIGN.md 2.6: the technician's input can never answer a
 * consent question).  Clicks on the applet's own windows and keys while
 * one of them has the focus are dropped as well, so the technician
 * cannot press "Stop control", "End session" or anything else of ours.
 */
#include <string.h>

#include <glib.h>

#include "applet_rfb.h"

#define GATE_WINDOWS_MAX 8

struct gate_window {
	const void *key;
	int32_t x, y, w, h;
};

struct ll_input_gate {
	GMutex lock;
	bool control;
	bool consent_open;
	bool applet_focus;
	uint32_t closed_serial;
	struct gate_window win[GATE_WINDOWS_MAX];
	size_t n_win;
};

struct ll_input_gate *ll_input_gate_new(void)
{
	struct ll_input_gate *g = g_new0(struct ll_input_gate, 1);

	g_mutex_init(&g->lock);
	return g;
}

void ll_input_gate_free(struct ll_input_gate *g)
{
	if (g == NULL)
		return;
	g_mutex_clear(&g->lock);
	g_free(g);
}

static bool open_locked(const struct ll_input_gate *g)
{
	return g->control && !g->consent_open;
}

/* Sets one condition under the lock; counts when input stops being
 * allowed. */
static void change(struct ll_input_gate *g, bool *field, bool value)
{
	bool was;

	g_mutex_lock(&g->lock);
	was = open_locked(g);
	*field = value;
	if (was && !open_locked(g))
		g->closed_serial++;
	g_mutex_unlock(&g->lock);
}

void ll_input_gate_set_control(struct ll_input_gate *g, bool granted)
{
	change(g, &g->control, granted);
}

void ll_input_gate_set_consent_open(struct ll_input_gate *g, bool open)
{
	change(g, &g->consent_open, open);
}

void ll_input_gate_set_applet_focus(struct ll_input_gate *g, bool focused)
{
	g_mutex_lock(&g->lock);
	/* Keys stop while we have the focus: release what is held. */
	if (focused && !g->applet_focus)
		g->closed_serial++;
	g->applet_focus = focused;
	g_mutex_unlock(&g->lock);
}

static ssize_t find_locked(const struct ll_input_gate *g, const void *key)
{
	size_t i;

	for (i = 0; i < g->n_win; i++)
		if (g->win[i].key == key)
			return (ssize_t)i;
	return -1;
}

static void remove_locked(struct ll_input_gate *g, const void *key)
{
	ssize_t i = find_locked(g, key);

	if (i < 0)
		return;
	g->win[i] = g->win[g->n_win - 1];
	g->n_win--;
}

void ll_input_gate_set_window(struct ll_input_gate *g, const void *key,
			      int32_t x, int32_t y, int32_t w, int32_t h,
			      bool visible)
{
	struct gate_window *slot;
	ssize_t i;

	g_mutex_lock(&g->lock);
	if (!visible || w <= 0 || h <= 0) {
		remove_locked(g, key);
		goto out;
	}
	i = find_locked(g, key);
	if (i >= 0) {
		slot = &g->win[i];
	} else if (g->n_win < GATE_WINDOWS_MAX) {
		slot = &g->win[g->n_win++];
	} else {
		/*
		 * More windows than we track: refuse all clicks rather than
		 * let one through onto an untracked window of ours.
		 */
		g->control = false;
		g->closed_serial++;
		goto out;
	}
	slot->key = key;
	slot->x = x;
	slot->y = y;
	slot->w = w;
	slot->h = h;
out:
	g_mutex_unlock(&g->lock);
}

void ll_input_gate_remove_window(struct ll_input_gate *g, const void *key)
{
	g_mutex_lock(&g->lock);
	remove_locked(g, key);
	g_mutex_unlock(&g->lock);
}

bool ll_input_gate_allows_pointer(struct ll_input_gate *g)
{
	bool ok;

	g_mutex_lock(&g->lock);
	ok = open_locked(g);
	g_mutex_unlock(&g->lock);
	return ok;
}

bool ll_input_gate_allows_key(struct ll_input_gate *g)
{
	bool ok;

	g_mutex_lock(&g->lock);
	ok = open_locked(g) && !g->applet_focus;
	g_mutex_unlock(&g->lock);
	return ok;
}

static bool inside(const struct gate_window *w, int64_t x, int64_t y)
{
	return x >= w->x && y >= w->y && x < (int64_t)w->x + w->w &&
	       y < (int64_t)w->y + w->h;
}

bool ll_input_gate_allows_click(struct ll_input_gate *g, int32_t root_x,
				int32_t root_y)
{
	bool ok;
	size_t i;

	g_mutex_lock(&g->lock);
	ok = open_locked(g);
	for (i = 0; ok && i < g->n_win; i++)
		if (inside(&g->win[i], root_x, root_y))
			ok = false;
	g_mutex_unlock(&g->lock);
	return ok;
}

uint32_t ll_input_gate_closed_serial(struct ll_input_gate *g)
{
	uint32_t v;

	g_mutex_lock(&g->lock);
	v = g->closed_serial;
	g_mutex_unlock(&g->lock);
	return v;
}
