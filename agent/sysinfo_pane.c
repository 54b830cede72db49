/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The viewer's System information pane (issue 13, `sysinfo`): a
 * "System _info" button asks the user for `sysinfo` first when it is not
 * granted (greyed out when the technician's group does not permit it),
 * then asks the applet (sysinfo_request); its answer fills a read-only
 * pane beside the screen with the lines of sysinfo_text.c, and a refusal
 * says so there.  Each click asks again (the values change).
 */
#include <gtk/gtk.h>

#include "gui.h"
#include "ll_control.h"
#include "ll_err.h"
#include "ll_log.h"
#include "ll_sysinfo.h"

struct ll_sysinfo_pane {
	struct ll_agent_session *sess;
	GtkWidget *button, *frame, *text;
	bool permitted;
	bool want;        /* asked for the grant: ask the applet once it
			   * comes */
	unsigned serial;  /* the answer shown */
	unsigned eserial; /* the applet's errors when we asked */
};

static void show_text(struct ll_sysinfo_pane *p, const char *text)
{
	gtk_label_set_text(GTK_LABEL(p->text), text);
	gtk_widget_show(p->frame);
}

static void ask(struct ll_sysinfo_pane *p)
{
	int r;

	p->eserial = ll_agent_session_last_error(p->sess, NULL, NULL);
	if ((r = ll_agent_session_ask_sysinfo(p->sess)) != 0) {
		show_text(p, ll_strerror(r));
		return;
	}
	show_text(p, "Asking the user's computer\u2026");
}

static void on_click(GtkWidget *w, gpointer data)
{
	struct ll_sysinfo_pane *p = data;

	(void)w;
	if (ll_agent_session_caps(p->sess) & LL_CAP_SYSINFO) {
		ask(p);
		return;
	}
	p->want = true;
	ll_agent_session_request(p->sess, LL_CAP_SYSINFO, NULL);
	show_text(p, "Waiting for the user's permission\u2026");
}

struct ll_sysinfo_pane *ll_sysinfo_pane_new(struct ll_agent_session *sess,
					    uint32_t permitted, GtkBox *bar,
					    GtkBox *row)
{
	struct ll_sysinfo_pane *p = g_new0(struct ll_sysinfo_pane, 1);
	GtkWidget *scroll;

	p->sess = sess;
	p->permitted = (permitted & LL_CAP_SYSINFO) != 0;
	p->button = gtk_button_new_with_mnemonic("System _info");
	atk_object_set_name(gtk_widget_get_accessible(p->button),
			    "System info");
	gtk_widget_set_tooltip_text(
		p->button, p->permitted ? "Show the user's OS, CPU, memory, "
					  "disks, network and displays"
					: LL_GUI_NOT_PERMITTED);
	if (!p->permitted)
		ll_info("System info greyed out: %s", LL_GUI_NOT_PERMITTED);
	g_signal_connect(p->button, "clicked", G_CALLBACK(on_click), p);
	gtk_box_pack_end(bar, p->button, FALSE, FALSE, 0);

	p->frame = gtk_frame_new("System information");
	p->text = gtk_label_new("");
	gtk_label_set_selectable(GTK_LABEL(p->text), TRUE);
	gtk_label_set_xalign(GTK_LABEL(p->text), 0);
	gtk_label_set_yalign(GTK_LABEL(p->text), 0);
	gtk_label_set_line_wrap(GTK_LABEL(p->text), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(p->text), 48);
	gtk_widget_set_margin_start(p->text, 8);
	gtk_widget_set_margin_end(p->text, 8);
	atk_object_set_name(gtk_widget_get_accessible(p->text),
			    "System information");
	scroll = gtk_scrolled_window_new(NULL, NULL);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll),
				       GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
	gtk_widget_set_size_request(scroll, 340, -1);
	gtk_container_add(GTK_CONTAINER(scroll), p->text);
	gtk_container_add(GTK_CONTAINER(p->frame), scroll);
	gtk_widget_show_all(p->frame);
	gtk_widget_set_no_show_all(p->frame, TRUE);
	gtk_widget_hide(p->frame);
	gtk_box_pack_end(row, p->frame, FALSE, FALSE, 0);
	return p;
}

void ll_sysinfo_pane_update(struct ll_sysinfo_pane *p)
{
	enum ll_agent_state st = ll_agent_session_state(p->sess);
	uint32_t caps = ll_agent_session_caps(p->sess);
	const struct ll_sysinfo *si;
	const char *msg = NULL;
	unsigned serial = 0;
	char *t;

	gtk_widget_set_sensitive(p->button,
				 p->permitted && st != LL_AGENT_ENDED &&
					 ll_agent_session_peer_joined(
						 p->sess) &&
					 !ll_agent_session_pending(p->sess));
	if (p->want && !ll_agent_session_pending(p->sess)) {
		p->want = false;
		if (caps & LL_CAP_SYSINFO)
			ask(p);
		else
			show_text(p, "The user did not allow reading "
				     "information about their computer.");
		return;
	}
	si = ll_agent_session_sysinfo(p->sess, &serial);
	if (si != NULL && serial != p->serial) {
		p->serial = serial;
		t = ll_agent_sysinfo_text(si);
		show_text(p, t);
		ll_info("sysinfo pane shows %s", si->host);
		g_free(t);
		return;
	}
	if (ll_agent_session_last_error(p->sess, NULL, &msg) != p->eserial &&
	    gtk_widget_get_visible(p->frame)) {
		p->eserial = ll_agent_session_last_error(p->sess, NULL, NULL);
		t = g_strdup_printf("The applet refused: %s",
				    msg != NULL ? msg : "no reason");
		show_text(p, t);
		g_free(t);
	}
	if (!(caps & LL_CAP_SYSINFO) && p->serial != 0) {
		/* taken back, or the session ended: nothing stays shown */
		p->serial = 0;
		show_text(p, "Not allowed now.");
	}
}

void ll_sysinfo_pane_free(struct ll_sysinfo_pane *p)
{
	g_free(p);
}
