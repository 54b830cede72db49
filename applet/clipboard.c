/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shared clipboard on the user's side (issue 13, `clipboard`): text
 * copied here goes to the technician as a `clipboard` control message,
 * theirs is put on this desktop's clipboard, only while the user grants
 * `clipboard`, the stream is live and the session runs.  The session
 * bar's Stop clipboard takes it back (a revoke, so the technician's side
 * stops too).  Texts are never logged: sizes only.  The RFB cut-text path
 * stays closed (rfb_server.c drops it): this is the only way in or out.
 */
#include <string.h>

#include <gtk/gtk.h>

#include "ll_clipsync.h"
#include "ll_control.h"
#include "ll_util.h"
#include "applet.h"
#include "session_int.h"

static bool clip_allowed(const struct ll_applet_session *s)
{
	return (s->granted & LL_CAP_CLIPBOARD) != 0 &&
	       s->state == LL_APPLET_RUNNING && !s->stalled && s->io != NULL;
}

static void clip_send(const char *text, size_t len, void *user)
{
	struct ll_applet_session *s = user;
	struct ll_control_msg m = { .type = LL_CONTROL_CLIPBOARD };

	if (!clip_allowed(s))
		return;
	if (len > LL_CONTROL_MAX_CLIPBOARD) {
		ll_info("clipboard: %zu bytes copied, over %u: not sent", len,
			LL_CONTROL_MAX_CLIPBOARD);
		ll_session_bar_notice(s->bar,
				      "The text you copied is too long "
				      "to share; it was not sent.");
		return;
	}
	m.u.clipboard.text = (char *)text;
	ll_applet_send_ctl(s, &m);
	ll_info("clipboard: sent %zu bytes to the technician", len);
}

void ll_applet_clip_sync(struct ll_applet_session *s)
{
	bool on = clip_allowed(s);

	if (on && s->clip == NULL)
		s->clip = ll_clipsync_new(NULL, clip_send, s);
	if (s->clip != NULL && ll_clipsync_enabled(s->clip) != on) {
		ll_clipsync_set_enabled(s->clip, on);
		ll_info("clipboard sharing %s", on ? "on" : "off");
	}
	ll_session_bar_set_clipboard(s->bar, on);
}

void ll_applet_clip_free(struct ll_applet_session *s)
{
	LL_FREE_AND_NULL(ll_clipsync_free, s->clip);
}

void ll_applet_clip_received(struct ll_applet_session *s, const char *text)
{
	if (!clip_allowed(s) || !ll_clipsync_set_remote(s->clip, text)) {
		/* The real agent sends none without the grant. */
		ll_applet_refuse_ungranted(
			s, LL_CAP_CLIPBOARD, "clipboard is not granted",
			"refused: clipboard text without the grant");
		return;
	}
	ll_info("clipboard: %zu bytes from the technician put on the "
		"clipboard",
		strlen(text));
}

void ll_applet_clip_stop(void *user)
{
	struct ll_applet_session *s = user;
	struct ll_control_msg m = { .type = LL_CONTROL_REVOKE };

	if (s->state != LL_APPLET_RUNNING || !(s->granted & LL_CAP_CLIPBOARD))
		return;
	/* Off here first: nothing more crosses, whatever comes. */
	s->granted &= ~(uint32_t)LL_CAP_CLIPBOARD;
	ll_applet_clip_sync(s);
	m.u.revoke.caps = LL_CAP_CLIPBOARD;
	ll_applet_send_ctl(s, &m);
	ll_applet_report(s, "revoke", LL_CAP_CLIPBOARD, "stopped by the user");
	ll_info("the user stopped clipboard sharing");
	ll_applet_status(s, "You stopped sharing the clipboard.");
}
