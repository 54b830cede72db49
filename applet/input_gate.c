/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The input gate: the one place that says whether the technician's input
 * may reach the desktop right now, and the one place that injects it.
 *
 * Input is allowed only while `control` is granted AND no consent dialog
 * is open (docs/ARCHITECTURE.md, "Consent": the technician's input can
 * never answer a consent question).  Clicks on the applet's own windows
 * and keys while one of them has the focus are dropped as well, so the
 * technician cannot press "Stop control", "End session" or anything else
 * of ours.
 *
 * The gate owns the injector: a platform instance of its own (its own X
 * connection), used only under the gate's mutex.  The RFB thread injects
 * through ll_input_gate_key()/_pointer(); whichever thread closes the gate
 * -- the GTK thread on Stop control, a consent dialog about to show, the
 * session's end -- releases every key and button the technician holds
 * right there, synchronously (the backend waits until the display server
 * has processed the releases), before it returns.  Nothing here depends
 * on the RFB thread, which may sit for seconds in a blocking read of a
 * half-sent RFB message from a stalled or hostile viewer: it never holds
 * the mutex while it reads, so closing the gate never waits for it.
 */
#include <string.h>

#include <glib.h>

#include "ll_util.h"
#include "platform.h"
#include "applet_rfb.h"

#define GATE_WINDOWS_MAX 8
#define GATE_BUTTONS LL_PLATFORM_BUTTON_MAX

struct gate_window {
	const void *key;
	int32_t x, y, w, h;
};

struct ll_input_gate {
	GMutex lock;
	bool control;
	bool consent_open;
	bool applet_focus;
	struct gate_window win[GATE_WINDOWS_MAX];
	size_t n_win;

	/* The injector and what the technician holds through it. */
	struct ll_platform *inj;
	uint8_t injected;  /* buttons we hold pressed (bit b-1) */
	uint8_t dropped;   /* presses we dropped: drop releases */
	uint32_t releases; /* times the injector was reset */
};

struct ll_input_gate *ll_input_gate_new(void)
{
	struct ll_input_gate *g = g_new0(struct ll_input_gate, 1);

	g_mutex_init(&g->lock);
	return g;
}

static bool pointer_open_locked(const struct ll_input_gate *g)
{
	return g->control && !g->consent_open;
}

static bool keys_open_locked(const struct ll_input_gate *g)
{
	return pointer_open_locked(g) && !g->applet_focus;
}

/*
 * Releases every key and button the technician holds, now.  The backend
 * returns only once the display server has processed the releases, so a
 * window mapped after this call never sees a key held from before.
 */
static void release_locked(struct ll_input_gate *g)
{
	if (g->inj != NULL) {
		ll_platform_input_reset(g->inj);
		g->releases++;
	}
	/* Buttons still down on the viewer's side were not injected by us
	 * from now on: their releases are not ours to send. */
	g->dropped |= g->injected;
	g->injected = 0;
}

/* The injector's own events (keyboard map changes, root resizes) are
 * handled before it injects: nobody else reads its connection. */
static void refresh_locked(struct ll_input_gate *g)
{
	unsigned ev;

	if (ll_platform_pending(g->inj))
		ll_platform_dispatch(g->inj, &ev);
}

void ll_input_gate_free(struct ll_input_gate *g)
{
	if (g == NULL)
		return;
	g_mutex_lock(&g->lock);
	release_locked(g);
	LL_FREE_AND_NULL(ll_platform_free, g->inj);
	g_mutex_unlock(&g->lock);
	g_mutex_clear(&g->lock);
	g_free(g);
}

void ll_input_gate_set_injector(struct ll_input_gate *g,
				struct ll_platform *input)
{
	g_mutex_lock(&g->lock);
	release_locked(g);
	ll_platform_free(g->inj);
	g->inj = input;
	g->dropped = 0;
	if (input != NULL)
		ll_platform_select_monitor(input, LL_PLATFORM_ALL);
	g_mutex_unlock(&g->lock);
}

/* Sets one condition under the lock; releases held input when keys or
 * the pointer stop being allowed. */
static void change(struct ll_input_gate *g, bool *field, bool value)
{
	bool was;

	g_mutex_lock(&g->lock);
	was = keys_open_locked(g) || pointer_open_locked(g);
	*field = value;
	/* Keys stop at the applet's focus, buttons do not: release both
	 * anyway, a half-held chord is worth nothing to the technician. */
	if (was && !keys_open_locked(g))
		release_locked(g);
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
	change(g, &g->applet_focus, focused);
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
		release_locked(g);
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

static bool inside(const struct gate_window *w, int64_t x, int64_t y)
{
	return x >= w->x && y >= w->y && x < (int64_t)w->x + w->w &&
	       y < (int64_t)w->y + w->h;
}

static bool on_our_window_locked(const struct ll_input_gate *g, int32_t x,
				 int32_t y)
{
	size_t i;

	for (i = 0; i < g->n_win; i++)
		if (inside(&g->win[i], x, y))
			return true;
	return false;
}

bool ll_input_gate_key(struct ll_input_gate *g, uint32_t keysym, bool down)
{
	bool done = false;

	g_mutex_lock(&g->lock);
	if (keys_open_locked(g) && g->inj != NULL) {
		refresh_locked(g);
		done = ll_platform_key(g->inj, keysym, down) == 0;
	}
	g_mutex_unlock(&g->lock);
	return done;
}

void ll_input_gate_pointer(struct ll_input_gate *g, uint8_t mask,
			   int32_t root_x, int32_t root_y)
{
	unsigned b;
	uint8_t bit;
	bool want;

	g_mutex_lock(&g->lock);
	if (!pointer_open_locked(g) || g->inj == NULL) {
		/* Buttons held now were never injected: their releases
		 * (and their presses, while held) are not ours to send. */
		g->dropped = mask & 0x7f;
		goto out;
	}
	refresh_locked(g);
	ll_platform_pointer_move(g->inj, root_x, root_y);
	for (b = 1; b <= GATE_BUTTONS; b++) {
		bit = (uint8_t)(1u << (b - 1));
		want = (mask & bit) != 0;
		if (want && !(g->injected & bit) && !(g->dropped & bit)) {
			/* Never a click on the applet's own windows. */
			if (on_our_window_locked(g, root_x, root_y)) {
				g->dropped |= bit;
				continue;
			}
			if (ll_platform_pointer_button(g->inj, b, true) == 0)
				g->injected |= bit;
		} else if (!want && (g->injected & bit)) {
			ll_platform_pointer_button(g->inj, b, false);
			g->injected &= (uint8_t)~bit;
		} else if (!want) {
			g->dropped &= (uint8_t)~bit;
		}
	}
out:
	g_mutex_unlock(&g->lock);
}

uint32_t ll_input_gate_releases(struct ll_input_gate *g)
{
	uint32_t v;

	g_mutex_lock(&g->lock);
	v = g->releases;
	g_mutex_unlock(&g->lock);
	return v;
}
