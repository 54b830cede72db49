/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The applet's side of the chat (docs/API.md, "Chat"), part of the
 * session (session_int.h): the technician's lines are taken only while
 * the user grants `chat` (before control or with it), sanitised and
 * bounded by ll_chat.h and shown in "PRODUCT – Chat" (chat_window.c);
 * the user's lines go back the same way.  Without the grant a chat
 * message is refused with the control error "not_granted", as choosing a
 * monitor without view is; a flood is dropped and told once as
 * "chat_flood".  Chat text never goes to the log (only its size).
 */
#include <string.h>

#include <gtk/gtk.h>

#include "ll_build.h"
#include "ll_chat.h"
#include "ll_control.h"
#include "ll_err.h"
#include "ll_util.h"
#include "applet.h"
#include "session_int.h"

static void send_error(struct ll_applet_session *s, const char *code,
		       const char *message)
{
	struct ll_control_msg m;

	memset(&m, 0, sizeof(m));
	m.type = LL_CONTROL_ERROR;
	m.u.error.code = (char *)code;
	m.u.error.message = (char *)message;
	ll_applet_send_ctl(s, &m);
}

static bool chat_granted(const struct ll_applet_session *s)
{
	return (s->granted & LL_CAP_CHAT) != 0 &&
	       s->state == LL_APPLET_RUNNING;
}

/* A line kept: shown, and said in the log by its size only. */
static void show(struct ll_applet_session *s, const struct ll_chat_line *l)
{
	ll_chat_window_add(s->chat_win, l);
	ll_info("chat window: line %llu from the %s shown (%zu bytes)",
		(unsigned long long)l->seq, ll_chat_from_name(l->from),
		strlen(l->text));
#if LL_TEST_HOOKS
	/* what the window shows, for the GUI tests (never in a release) */
	ll_info("test: chat window shows: %s", l->text);
#endif
}

static void on_send(const char *text, void *user)
{
	struct ll_applet_session *s = user;
	const struct ll_chat_line *line;
	struct ll_control_msg m;
	int r;

	if (!chat_granted(s) || s->io == NULL) {
		ll_chat_window_note(s->chat_win,
				    "Not sent: chat is not allowed now.");
		return;
	}
	r = ll_chat_log_add(s->chat, LL_CHAT_USER, false, text, strlen(text),
			    g_get_real_time() / 1000,
			    g_get_monotonic_time() / 1000, &line);
	if (r != 0) {
		ll_warn("chat line not sent: %s", ll_strerror(r));
		ll_chat_window_note(s->chat_win, "Not sent: that cannot be "
						 "sent as a chat line.");
		return;
	}
	memset(&m, 0, sizeof(m));
	m.type = LL_CONTROL_CHAT;
	m.u.chat.text = (char *)text;
	ll_applet_send_ctl(s, &m);
	ll_chat_window_note(s->chat_win, NULL);
	show(s, line);
}

static bool ensure_window(struct ll_applet_session *s)
{
	if (s->chat == NULL && (s->chat = ll_chat_log_new(0)) == NULL)
		return false;
	if (s->chat_win == NULL)
		s->chat_win = ll_chat_window_new(
			s->a, s->redeem.technician.display_name, on_send, s);
	return true;
}

void ll_applet_chat_received(struct ll_applet_session *s, const char *text)
{
	const struct ll_chat_line *line;
	int r;

	if (!chat_granted(s)) {
		/* no window, no word of it: the user has not allowed it */
		ll_warn("chat from the technician refused: chat is not "
			"granted");
		send_error(s, "not_granted", "chat needs the chat permission");
		return;
	}
	if (!ensure_window(s)) {
		send_error(s, "internal", "out of memory");
		return;
	}
	r = ll_chat_log_add(s->chat, LL_CHAT_TECHNICIAN, true, text,
			    strlen(text), g_get_real_time() / 1000,
			    g_get_monotonic_time() / 1000, &line);
	if (r == LL_ERR_NO_CREDIT) {
		if (!s->chat_flood_told) {
			s->chat_flood_told = true;
			ll_warn("chat flood from the technician: lines "
				"dropped");
			send_error(s, "chat_flood",
				   "too many chat lines: dropped");
		}
		return;
	}
	if (r != 0) {
		ll_warn("chat line from the technician refused: %s",
			ll_strerror(r));
		send_error(s, "chat_refused", ll_strerror(r));
		return;
	}
	s->chat_flood_told = false;
	show(s, line);
	ll_chat_window_reveal(s->chat_win);
}

void ll_applet_chat_open(struct ll_applet_session *s)
{
	if (!chat_granted(s) || !ensure_window(s))
		return;
	ll_chat_window_present(s->chat_win);
	ll_info("chat window opened from the session bar");
}

void ll_applet_chat_sync(struct ll_applet_session *s)
{
	ll_chat_window_set_writable(s->chat_win, chat_granted(s));
}

void ll_applet_chat_free(struct ll_applet_session *s)
{
	LL_FREE_AND_NULL(ll_chat_window_free, s->chat_win);
	LL_FREE_AND_NULL(ll_chat_log_free, s->chat);
}
