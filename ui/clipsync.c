/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The shared clipboard's one side: see ll_clipsync.h. */
#include "ll_clipsync.h"

#include <string.h>

struct ll_clipsync {
	GtkClipboard *cb;
	gulong owner_id;
	bool on;
	/* grows with each switch: a text asked for under an older one is
	 * dropped when it arrives */
	unsigned gen;
	/* the text that crossed last, either way: what the other side has
	 * already, so it is not sent back (our own set_text changes the
	 * owner too); wiped when switched off */
	char *last;
	/* struct pending * of the text requests still out (one reference
	 * each) */
	GSList *pending;
	ll_clipsync_send_fn send;
	void *user;
};

/* What a text request carries: the clipsync may be gone when it comes
 * back (GTK cannot cancel a request), so the request holds this box. */
struct pending {
	struct ll_clipsync *c; /* NULL once the clipsync is freed */
	unsigned gen;
};

static void wipe_last(struct ll_clipsync *c)
{
	if (c->last == NULL)
		return;
	memset(c->last, 0, strlen(c->last));
	g_free(c->last);
	c->last = NULL;
}

static void on_text(GtkClipboard *cb, const gchar *text, gpointer data)
{
	struct pending *p = data;
	struct ll_clipsync *c = p->c;
	size_t len;

	(void)cb;
	if (c != NULL) {
		c->pending = g_slist_remove(c->pending, p);
		g_rc_box_release(p);
	}
	if (c != NULL && c->on && p->gen == c->gen && text != NULL &&
	    (len = strlen(text)) > 0 &&
	    (c->last == NULL || strcmp(c->last, text) != 0)) {
		wipe_last(c);
		c->last = g_strdup(text);
		c->send(text, len, c->user);
	}
	g_rc_box_release(p);
}

static void on_owner_change(GtkClipboard *cb, GdkEvent *ev, gpointer data)
{
	struct ll_clipsync *c = data;
	struct pending *p;

	(void)ev;
	if (!c->on)
		return;
	p = g_rc_box_new0(struct pending);
	p->c = c;
	p->gen = c->gen;
	c->pending = g_slist_prepend(c->pending, g_rc_box_acquire(p));
	gtk_clipboard_request_text(cb, on_text, p);
}

struct ll_clipsync *ll_clipsync_new(GdkDisplay *display,
				    ll_clipsync_send_fn send, void *user)
{
	struct ll_clipsync *c = g_new0(struct ll_clipsync, 1);

	if (display == NULL)
		display = gdk_display_get_default();
	c->cb = gtk_clipboard_get_for_display(display,
					      GDK_SELECTION_CLIPBOARD);
	c->send = send;
	c->user = user;
	c->owner_id = g_signal_connect(c->cb, "owner-change",
				       G_CALLBACK(on_owner_change), c);
	return c;
}

static void orphan(gpointer data)
{
	struct pending *p = data;

	p->c = NULL;
	g_rc_box_release(p);
}

void ll_clipsync_free(struct ll_clipsync *c)
{
	if (c == NULL)
		return;
	g_signal_handler_disconnect(c->cb, c->owner_id);
	g_slist_free_full(c->pending, orphan);
	wipe_last(c);
	g_free(c);
}

void ll_clipsync_set_enabled(struct ll_clipsync *c, bool on)
{
	if (c == NULL || c->on == on)
		return;
	c->on = on;
	c->gen++;
	if (!on)
		wipe_last(c);
}

bool ll_clipsync_enabled(const struct ll_clipsync *c)
{
	return c != NULL && c->on;
}

bool ll_clipsync_set_remote(struct ll_clipsync *c, const char *text)
{
	if (c == NULL || !c->on || text == NULL || text[0] == '\0')
		return false;
	wipe_last(c);
	c->last = g_strdup(text);
	gtk_clipboard_set_text(c->cb, text, -1);
	return true;
}
