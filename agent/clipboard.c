/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shared clipboard in the viewer (issue 13, `clipboard`): a
 * "Share clip_board" button that asks the user for it (greyed out when
 * the technician's group does not permit it), and, while the user
 * grants it, text copied on this desktop goes to the user's and theirs
 * comes onto ours (ui/clipsync.c).  When the user stops it from their
 * session bar the applet revokes it and nothing crosses either way.
 * Texts are never logged: sizes only.
 */
#include <string.h>

#include <gtk/gtk.h>

#include "gui.h"
#include "ll_clipsync.h"
#include "ll_control.h"
#include "ll_err.h"
#include "ll_log.h"

struct ll_viewer_clip {
	struct ll_agent_session *sess;
	GtkWidget *button;
	struct ll_clipsync *sync;
	bool permitted;
};

static void clip_send(const char *text, size_t len, void *user)
{
	struct ll_viewer_clip *vc = user;
	int r;

	if ((r = ll_agent_session_send_clipboard(vc->sess, text)) != 0) {
		ll_info("clipboard: %zu bytes copied here not sent: %s", len,
			ll_strerror(r));
		return;
	}
	ll_info("clipboard: sent %zu bytes to the user", len);
}

static void on_share(GtkWidget *w, gpointer data)
{
	struct ll_viewer_clip *vc = data;

	(void)w;
	ll_agent_session_request(vc->sess, LL_CAP_CLIPBOARD, NULL);
}

struct ll_viewer_clip *ll_viewer_clip_new(struct ll_agent_session *sess,
					  uint32_t permitted, GtkBox *bar)
{
	struct ll_viewer_clip *vc = g_new0(struct ll_viewer_clip, 1);

	vc->sess = sess;
	vc->permitted = (permitted & LL_CAP_CLIPBOARD) != 0;
	vc->button = gtk_button_new_with_mnemonic("Share clip_board");
	atk_object_set_name(gtk_widget_get_accessible(vc->button),
			    "Share clipboard");
	gtk_widget_set_tooltip_text(vc->button,
				    vc->permitted
					    ? "Ask the user to share copied "
					      "text both ways"
					    : LL_GUI_NOT_PERMITTED);
	if (!vc->permitted)
		ll_info("Share clipboard greyed out: %s",
			LL_GUI_NOT_PERMITTED);
	g_signal_connect(vc->button, "clicked", G_CALLBACK(on_share), vc);
	gtk_box_pack_end(bar, vc->button, FALSE, FALSE, 0);
	vc->sync = ll_clipsync_new(gtk_widget_get_display(vc->button),
				   clip_send, vc);
	return vc;
}

void ll_viewer_clip_update(struct ll_viewer_clip *vc)
{
	enum ll_agent_state st = ll_agent_session_state(vc->sess);
	bool on = (ll_agent_session_caps(vc->sess) & LL_CAP_CLIPBOARD) &&
		  st != LL_AGENT_ENDED && !ll_agent_session_stalled(vc->sess);

	if (ll_clipsync_enabled(vc->sync) != on) {
		ll_clipsync_set_enabled(vc->sync, on);
		ll_info("clipboard sharing %s", on ? "on" : "off");
	}
	gtk_button_set_label(GTK_BUTTON(vc->button),
			     on ? "Clipboard shared" : "Share clip_board");
	gtk_widget_set_sensitive(
		vc->button, vc->permitted && !on && st != LL_AGENT_ENDED &&
				    ll_agent_session_peer_joined(vc->sess) &&
				    !ll_agent_session_pending(vc->sess));
}

void ll_viewer_clip_received(struct ll_viewer_clip *vc, const char *text)
{
	if (ll_clipsync_set_remote(vc->sync, text))
		ll_info("clipboard: %zu bytes from the user put on the "
			"clipboard",
			strlen(text));
}

void ll_viewer_clip_free(struct ll_viewer_clip *vc)
{
	if (vc == NULL)
		return;
	ll_clipsync_free(vc->sync);
	g_free(vc);
}
