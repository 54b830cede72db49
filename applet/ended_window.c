/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How a session ends, in one table, and "PRODUCT – Session ended"
 * (docs/API.md section 8), the small window that says so.
 *
 * Every way out of the applet after the user asked for help is a row of
 * ends[]: its name in the log, the exit code (applet.h), whether the
 * window is shown, and the sentence for the person at the screen: what
 * happened and what to do next, in plain words.  The PIN window and the
 * waiting window show the same rows' sentences for the errors they let the
 * user recover from, so each text exists once.  What the libraries said
 * (OpenSSL, libcurl) goes to the log only.
 */
#include <string.h>

#include <gtk/gtk.h>

#include "ll_api_client.h"
#include "ll_err.h"
#include "ll_ui.h"
#include "ll_util.h"
#include "applet.h"

/* Replaced by the brand's organisation name (ll_brand.h). */
#define ORG "{org}"

struct end_row {
	const char *tag; /* in the log and docs/API.md */
	int exit_code;   /* enum ll_applet_exit */
	bool window;     /* shown in "Session ended" */
	const char *text;
};

#define NOBODY_SEES " Nobody can see your screen now."

static const struct end_row ends[LL_APPLET_END_N] = {
	[LL_APPLET_END_CLOSED] = {
		.tag = "closed",
		.exit_code = LL_APPLET_EXIT_OK,
		.window = false,
		.text = "You closed the applet.",
	},
	[LL_APPLET_END_CANCELLED] = {
		.tag = "cancelled",
		.exit_code = LL_APPLET_EXIT_OK,
		.window = false,
		.text = "You cancelled the connection.",
	},
	[LL_APPLET_END_QUEUE_LEFT] = {
		.tag = "queue_left",
		.exit_code = LL_APPLET_EXIT_OK,
		.window = false,
		.text = "You left the queue.",
	},
	[LL_APPLET_END_USER] = {
		.tag = "user",
		.exit_code = LL_APPLET_EXIT_OK,
		.window = true,
		.text = "You ended the session." NOBODY_SEES,
	},
	[LL_APPLET_END_TECHNICIAN] = {
		.tag = "technician",
		.exit_code = LL_APPLET_EXIT_OK,
		.window = true,
		.text = "The technician ended the session." NOBODY_SEES
			" If you still need help, contact " ORG " again.",
	},
	[LL_APPLET_END_NOT_REQUESTED] = {
		.tag = "not_requested",
		.exit_code = LL_APPLET_EXIT_OK,
		.window = true,
		.text = "You said you did not ask for this session. The session "
			"was ended and reported to " ORG "'s administrators."
			NOBODY_SEES,
	},
	[LL_APPLET_END_CONSENT_TIMEOUT] = {
		.tag = "consent_timeout",
		.exit_code = LL_APPLET_EXIT_OK,
		.window = true,
		.text = "Nobody answered the permission request in time, so the "
			"session was ended." NOBODY_SEES
			" If you still need help, contact " ORG " again.",
	},
	[LL_APPLET_END_LOST] = {
		.tag = "lost",
		.exit_code = LL_APPLET_EXIT_LOST,
		.window = true,
		.text = "The connection to the support server was lost, so the "
			"session ended." NOBODY_SEES
			" If you still need help, check that this computer is "
			"online and start again.",
	},
	[LL_APPLET_END_STALLED] = {
		.tag = "stalled",
		.exit_code = LL_APPLET_EXIT_LOST,
		.window = true,
		.text = "The connection to the support server was lost and "
			"could not be restored." NOBODY_SEES
			" If you still need help, check that this computer is "
			"online and start again.",
	},
	[LL_APPLET_END_FAILED] = {
		.tag = "failed",
		.exit_code = LL_APPLET_EXIT_LOST,
		.window = true,
		.text = "The session stopped because of an error." NOBODY_SEES
			" If you still need help, start again.",
	},
	[LL_APPLET_END_START_FAILED] = {
		.tag = "start_failed",
		.exit_code = LL_APPLET_EXIT_FAILURE,
		.window = true,
		.text = "The session could not start on this computer. Nothing "
			"was shared. Please tell " ORG ".",
	},
	[LL_APPLET_END_PIN_INVALID] = {
		.tag = "pin_invalid",
		.exit_code = LL_APPLET_EXIT_RELAY,
		.window = true,
		/* One answer for a mistyped, an already used and another
		 * organisation's PIN, so that PINs cannot be guessed
		 * (docs/SECURITY.md, "PINs"): one honest sentence. */
		.text = "This PIN was not accepted: it is mistyped, or it was "
			"already used. Check the digits with your technician, or "
			"ask for a new PIN.",
	},
	[LL_APPLET_END_PIN_EXPIRED] = {
		.tag = "pin_expired",
		.exit_code = LL_APPLET_EXIT_RELAY,
		.window = true,
		.text = "This PIN has expired. Please ask your technician for a "
			"new one.",
	},
	[LL_APPLET_END_RATE_LIMITED] = {
		.tag = "rate_limited",
		.exit_code = LL_APPLET_EXIT_RELAY,
		.window = true,
		.text = "Too many attempts. Please wait a minute and try again.",
	},
	[LL_APPLET_END_PIN_LOCKED_WEBSITE] = {
		.tag = "pin_locked_website",
		.exit_code = LL_APPLET_EXIT_RELAY,
		.window = true,
		.text = "This PIN can only be used on " ORG "'s support web "
			"page.",
	},
	[LL_APPLET_END_PIN_LOCKED_SHORTCUT] = {
		.tag = "pin_locked_shortcut",
		.exit_code = LL_APPLET_EXIT_RELAY,
		.window = true,
		.text = "This PIN can only be used with " ORG "'s support "
			"shortcut.",
	},
	[LL_APPLET_END_IP_NOT_ALLOWED] = {
		.tag = "end_user_ip_not_allowed",
		.exit_code = LL_APPLET_EXIT_RELAY,
		.window = true,
		.text = "Your technician may not support this computer from the "
			"network it is on now.",
	},
	[LL_APPLET_END_UNTRUSTED] = {
		.tag = "untrusted",
		.exit_code = LL_APPLET_EXIT_RELAY,
		.window = true,
		.text = "The support server's identity could not be verified, so "
			"the applet did not connect. Nothing was shared. Please "
			"tell " ORG ".",
	},
	[LL_APPLET_END_UNREACHABLE] = {
		.tag = "unreachable",
		.exit_code = LL_APPLET_EXIT_RELAY,
		.window = true,
		.text = "Cannot reach the support server. Check that this "
			"computer is online, then try again.",
	},
	[LL_APPLET_END_NOT_STARTED] = {
		.tag = "not_started",
		.exit_code = LL_APPLET_EXIT_RELAY,
		.window = true,
		.text = "The support server accepted the PIN, but the session "
			"could not start. Please try again, or ask your "
			"technician for a new PIN.",
	},
	[LL_APPLET_END_REFUSED] = {
		.tag = "refused",
		.exit_code = LL_APPLET_EXIT_RELAY,
		.window = true,
		.text = "The support server refused the connection. Please try "
			"again later, or tell " ORG ".",
	},
	[LL_APPLET_END_SHORTCUT_INVALID] = {
		.tag = "shortcut_invalid",
		.exit_code = LL_APPLET_EXIT_RELAY,
		.window = true,
		.text = "This support shortcut does not work (any more). Please "
			"ask " ORG " for a new one.",
	},
	[LL_APPLET_END_QUEUE_BUSY] = {
		.tag = "queue_busy",
		.exit_code = LL_APPLET_EXIT_RELAY,
		.window = true,
		.text = "Too many people are waiting right now. Please try again "
			"in a few minutes.",
	},
	[LL_APPLET_END_QUEUE_GONE] = {
		.tag = "queue_gone",
		.exit_code = LL_APPLET_EXIT_RELAY,
		.window = true,
		.text = "You are no longer waiting for a technician (it took too "
			"long, or the support shortcut was withdrawn). Please "
			"start again.",
	},
	[LL_APPLET_END_PICKUP_FAILED] = {
		.tag = "pickup_failed",
		.exit_code = LL_APPLET_EXIT_RELAY,
		.window = true,
		.text = "A technician picked you up, but the session could not "
			"start. Please start again.",
	},
	/* The relay ended it on purpose and said why when asked
	 * (end_reason.c): no lost connection, nothing to check here. */
	[LL_APPLET_END_PERMISSION_WITHDRAWN] = {
		.tag = "permission_withdrawn",
		.exit_code = LL_APPLET_EXIT_OK,
		.window = true,
		.text = "Your technician is no longer allowed by " ORG " to "
			"give this kind of help, so the session was ended. You "
			"did nothing wrong." NOBODY_SEES
			" If you still need help, contact " ORG " again.",
	},
	[LL_APPLET_END_TECHNICIAN_DISABLED] = {
		.tag = "technician_disabled",
		.exit_code = LL_APPLET_EXIT_OK,
		.window = true,
		.text = "Your technician's account was switched off by " ORG
			", so the session was ended. You did nothing wrong."
			NOBODY_SEES
			" If you still need help, contact " ORG " again.",
	},
	[LL_APPLET_END_ENDED_BY_ADMIN] = {
		.tag = "ended_by_admin",
		.exit_code = LL_APPLET_EXIT_OK,
		.window = true,
		.text = "An administrator at " ORG " ended the session. You did "
			"nothing wrong." NOBODY_SEES
			" If you still need help, contact " ORG " again.",
	},
};

static const struct end_row *row(enum ll_applet_end e)
{
	if ((unsigned)e >= LL_APPLET_END_N || ends[e].tag == NULL)
		e = LL_APPLET_END_FAILED;
	return &ends[e];
}

const char *ll_applet_end_tag(enum ll_applet_end e)
{
	return row(e)->tag;
}

int ll_applet_end_exit_code(enum ll_applet_end e)
{
	return row(e)->exit_code;
}

bool ll_applet_end_shown(enum ll_applet_end e)
{
	return row(e)->window;
}

char *ll_applet_end_words(const struct ll_applet *a, enum ll_applet_end e)
{
	const char *org = ll_applet_org_name(a);
	char **parts = g_strsplit(row(e)->text, ORG, -1);
	char *t = g_strjoinv(org != NULL && org[0] != '\0'
				     ? org
				     : "your support organisation",
			     parts);

	g_strfreev(parts);
	return t;
}

enum ll_applet_end ll_applet_end_of_error(const struct ll_client_error *e,
					  bool at_stream)
{
	static const struct {
		const char *code;
		enum ll_applet_end end;
	} codes[] = {
		{ "pin_invalid", LL_APPLET_END_PIN_INVALID },
		{ "pin_expired", LL_APPLET_END_PIN_EXPIRED },
		{ "rate_limited", LL_APPLET_END_RATE_LIMITED },
		{ "pin_locked_website", LL_APPLET_END_PIN_LOCKED_WEBSITE },
		{ "pin_locked_shortcut", LL_APPLET_END_PIN_LOCKED_SHORTCUT },
		{ "end_user_ip_not_allowed", LL_APPLET_END_IP_NOT_ALLOWED },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(codes); i++)
		if (strcmp(e->api_code, codes[i].code) == 0)
			return codes[i].end;
	if (e->code == LL_ERR_TLS_VERIFY)
		return LL_APPLET_END_UNTRUSTED;
	if (at_stream)
		return LL_APPLET_END_NOT_STARTED;
	if (e->http_status == 0)
		return LL_APPLET_END_UNREACHABLE;
	return LL_APPLET_END_REFUSED;
}

/* ---- the window ---- */

#define LL_TYPE_APPLET_ENDED_WINDOW (ll_applet_ended_window_get_type())
G_DECLARE_FINAL_TYPE(LlAppletEndedWindow, ll_applet_ended_window, LL,
		     APPLET_ENDED_WINDOW, GtkWindow)

struct _LlAppletEndedWindow {
	GtkWindow parent;
	GtkWidget *heading;
	GtkWidget *text;
	GtkWidget *close;
};

G_DEFINE_TYPE(LlAppletEndedWindow, ll_applet_ended_window, GTK_TYPE_WINDOW)

static void ll_applet_ended_window_class_init(LlAppletEndedWindowClass *k)
{
	GtkWidgetClass *wk = GTK_WIDGET_CLASS(k);

	g_type_ensure(LL_TYPE_BRAND_HEADER);
	gtk_widget_class_set_template_from_resource(
		wk, "/org/lifeline/applet/ended_window.ui");
	gtk_widget_class_bind_template_child(wk, LlAppletEndedWindow, heading);
	gtk_widget_class_bind_template_child(wk, LlAppletEndedWindow, text);
	gtk_widget_class_bind_template_child(wk, LlAppletEndedWindow, close);
}

static void ll_applet_ended_window_init(LlAppletEndedWindow *w)
{
	gtk_widget_init_template(GTK_WIDGET(w));
}

struct ll_ended_window {
	LlAppletEndedWindow *t;
	void (*on_close)(void *user);
	void *user;
	bool closed;
};

static void closed(struct ll_ended_window *w)
{
	if (w->closed)
		return;
	w->closed = true;
	w->on_close(w->user);
}

static void on_close_clicked(GtkButton *b, gpointer data)
{
	closed(data);
}

/* Closing the window is Close; the owner frees it. */
static gboolean on_delete(GtkWidget *win, GdkEvent *ev, gpointer data)
{
	closed(data);
	return TRUE;
}

/* Escape closes too, as in any message window. */
static gboolean on_key(GtkWidget *win, GdkEventKey *ev, gpointer data)
{
	if (ev->keyval != GDK_KEY_Escape)
		return FALSE;
	closed(data);
	return TRUE;
}

struct ll_ended_window *ll_ended_window_new(struct ll_applet *a,
					    enum ll_applet_end e,
					    void (*on_close)(void *user),
					    void *user)
{
	struct ll_ended_window *w = g_new0(struct ll_ended_window, 1);
	char *title = ll_applet_title("Session ended");
	char *words = ll_applet_end_words(a, e);

	w->on_close = on_close;
	w->user = user;
	w->t = g_object_new(LL_TYPE_APPLET_ENDED_WINDOW, NULL);
	gtk_window_set_title(GTK_WINDOW(w->t), title);
	gtk_window_set_resizable(GTK_WINDOW(w->t), FALSE);
	gtk_window_set_position(GTK_WINDOW(w->t), GTK_WIN_POS_CENTER);
	/* Above what the user had in front, as the session bar was. */
	gtk_window_set_keep_above(GTK_WINDOW(w->t), TRUE);
	ll_applet_track_window(a, GTK_WINDOW(w->t));
	gtk_label_set_text(GTK_LABEL(w->t->text), words);
	atk_object_set_description(gtk_widget_get_accessible(w->t->text),
				   words);

	g_signal_connect(w->t->close, "clicked", G_CALLBACK(on_close_clicked),
			 w);
	g_signal_connect(w->t, "delete-event", G_CALLBACK(on_delete), w);
	g_signal_connect(w->t, "key-press-event", G_CALLBACK(on_key), w);
	gtk_widget_show(GTK_WIDGET(w->t));
	gtk_widget_grab_default(w->t->close);
	gtk_widget_grab_focus(w->t->close);
	gtk_window_present(GTK_WINDOW(w->t));
	/* What the window says, for the log and the tests (no AT-SPI). */
	ll_info("window \"%s\" shown (%s): %s", title, ll_applet_end_tag(e),
		words);
	g_free(words);
	g_free(title);
	return w;
}

void ll_ended_window_free(struct ll_ended_window *w)
{
	if (w == NULL)
		return;
	gtk_widget_destroy(GTK_WIDGET(w->t));
	g_free(w);
}
