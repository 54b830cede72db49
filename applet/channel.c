/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An applet started on a channel (`--channel TOKEN`, a calling card;
 * docs/ARCHITECTURE.md, "Channels"): the waiting window, and one worker
 * thread that joins the channel's queue, asks the relay every
 * poll_interval_s whether a technician has picked the user up, and then
 * opens the stream with the queue ticket, which the pickup made the
 * applet's ticket of the new session.  From there on it is a session
 * like a PIN's (session.c): the technician's name and org as the relay
 * verified them, and the permission window.
 *
 * The worker owns its client (one TLS connection, kept alive between
 * the polls) and touches nothing of GTK: it posts what happened to the
 * main loop (post()), where the window and the session live.  Cancel
 * sets `stop`; the worker leaves the queue (DELETE) and says so.  A
 * worker that dies with the applet stops asking, and the relay drops the
 * entry within its grace time (30 s).
 */
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "ll_api_client.h"
#include "ll_crypto.h"
#include "ll_stream.h"
#include "ll_util.h"
#include "session_int.h"

#define CHANNEL_TIMEOUT_MS 15000
#define CHANNEL_CONNECT_TIMEOUT_MS 10000
/* Transport failures in a row before the applet gives up (one poll
 * each): the relay keeps the entry for 30 s without a poll. */
#define CHANNEL_MAX_FAILS 10

enum chan_event {
	EV_WAITING,   /* position, waiting_s */
	EV_RETRYING,  /* the relay did not answer; asking again */
	EV_FAILED,    /* end, and text for the log */
	EV_CANCELLED, /* the user left the queue */
	EV_PICKED,    /* res: the session's redeem and stream */
};

struct ll_applet_channel {
	gint ref; /* the main loop's, the worker's, each posted event's */
	GMutex lock;
	GCond cond;
	bool stop; /* under lock: the user cancelled, or the applet quits */
	GThread *thread;
	/* the worker's copies */
	struct ll_relay_opts_copy relay;
	char *credential; /* secret: wiped once sent */
	char *description;
	/* main loop only */
	struct ll_applet *a;
	struct ll_applet_session *s;
	struct ll_waiting_window *win;
	bool closed; /* freed by the applet: events are dropped */
	bool leaving;
};

struct chan_msg {
	struct ll_applet_channel *c;
	enum chan_event ev;
	int64_t position, waiting_s;
	enum ll_applet_end end;
	char *text;
	struct ll_applet_redeemed res;
};

static gpointer worker(gpointer data);

static void chan_unref(struct ll_applet_channel *c)
{
	if (!g_atomic_int_dec_and_test(&c->ref))
		return;
	ll_secret_free(c->credential);
	g_free(c->description);
	ll_relay_opts_copy_clear(&c->relay);
	g_mutex_clear(&c->lock);
	g_cond_clear(&c->cond);
	g_free(c);
}

/* ---- the main loop's side ---- */

/* "You are number 2 in line. You have waited 1:05." */
static char *waiting_words(int64_t position, int64_t waiting_s)
{
	char *place = position <= 1
			      ? g_strdup("You are next in line.")
			      : g_strdup_printf("You are number %lld in line.",
						(long long)position);
	char *s = g_strdup_printf("Waiting for a technician. %s You have "
				  "waited %lld:%02lld.",
				  place, (long long)(waiting_s / 60),
				  (long long)(waiting_s % 60));

	g_free(place);
	return s;
}

static gboolean on_event(gpointer data)
{
	struct chan_msg *m = data;
	struct ll_applet_channel *c = m->c;
	char *words;

	if (c->closed)
		return G_SOURCE_REMOVE;
	switch (m->ev) {
	case EV_WAITING:
		if (c->leaving)
			break;
		words = waiting_words(m->position, m->waiting_s);
		ll_waiting_window_set_status(c->win, words, true);
		if (m->waiting_s == 0)
			ll_info("channel: waiting in the queue (number %lld)",
				(long long)m->position);
		g_free(words);
		break;
	case EV_RETRYING:
		if (!c->leaving)
			ll_waiting_window_set_status(
				c->win,
				"The support server does not answer; still "
				"trying\u2026",
				true);
		break;
	case EV_FAILED:
		ll_warn("channel: %s", m->text);
		/* The waiting is over: "Session ended" says why. */
		LL_FREE_AND_NULL(ll_waiting_window_free, c->win);
		ll_applet_ended(c->a, m->end);
		break;
	case EV_CANCELLED:
		ll_applet_ended(c->a, LL_APPLET_END_QUEUE_LEFT);
		break;
	case EV_PICKED:
		ll_info("channel: a technician picked the user up");
		LL_FREE_AND_NULL(ll_waiting_window_free, c->win);
		ll_applet_session_start_picked(c->s, &m->res);
		break;
	}
	return G_SOURCE_REMOVE;
}

static void msg_free(gpointer data)
{
	struct chan_msg *m = data;

	ll_api_redeem_clear(&m->res.redeem);
	ll_stream_free(m->res.stream);
	g_free(m->text);
	chan_unref(m->c);
	g_free(m);
}

/* From the worker: hands m (and its reference) to the main loop. */
static void post(struct chan_msg *m)
{
	g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, on_event, m,
				   msg_free);
}

static struct chan_msg *msg_new(struct ll_applet_channel *c,
				enum chan_event ev)
{
	struct chan_msg *m = g_new0(struct chan_msg, 1);

	g_atomic_int_inc(&c->ref);
	m->c = c;
	m->ev = ev;
	return m;
}

/* The flow failed: end, with what the library said for the log. */
static void post_failed(struct ll_applet_channel *c, enum ll_applet_end end,
			const char *why)
{
	struct chan_msg *m = msg_new(c, EV_FAILED);

	m->end = end;
	m->text = g_strdup(why != NULL && why[0] != '\0' ? why : "failed");
	post(m);
}

static void set_stop(struct ll_applet_channel *c)
{
	g_mutex_lock(&c->lock);
	c->stop = true;
	g_cond_signal(&c->cond);
	g_mutex_unlock(&c->lock);
}

static void on_ask(const char *description, void *user)
{
	struct ll_applet_channel *c = user;

	g_free(c->description);
	c->description = g_strdup(description);
	g_atomic_int_inc(&c->ref);
	c->thread = g_thread_new("ll-channel", worker, c);
}

static void on_cancel(void *user)
{
	struct ll_applet_channel *c = user;

	if (c->thread == NULL) {
		/* not in any queue: nothing to leave */
		fprintf(stderr, "lifeline-applet: you closed the window\n");
		ll_applet_quit(c->a, LL_APPLET_EXIT_OK);
		return;
	}
	if (c->leaving)
		return;
	c->leaving = true;
	ll_waiting_window_set_status(c->win, "Leaving the queue\u2026", true);
	set_stop(c);
}

/* ---- the worker ---- */

/* Waits ms or until stop; true when stopped. */
static bool wait_stop(struct ll_applet_channel *c, int64_t ms)
{
	gint64 end = g_get_monotonic_time() + ms * 1000;
	bool stop;

	g_mutex_lock(&c->lock);
	while (!c->stop && g_cond_wait_until(&c->cond, &c->lock, end))
		;
	stop = c->stop;
	g_mutex_unlock(&c->lock);
	return stop;
}

/* What went wrong, as an end (ended_window.c). */
static enum ll_applet_end failure_end(const struct ll_client_error *e,
				      bool joined)
{
	if (!joined && strcmp(e->api_code, "unauthorized") == 0)
		return LL_APPLET_END_SHORTCUT_INVALID;
	if (strcmp(e->api_code, "rate_limited") == 0)
		return LL_APPLET_END_QUEUE_BUSY;
	if (joined && strcmp(e->api_code, "not_found") == 0)
		return LL_APPLET_END_QUEUE_GONE;
	return ll_applet_end_of_error(e, false);
}

/* Picked up: opens the session's stream with the queue ticket. */
static void picked(struct ll_applet_channel *c, struct ll_api_queue_status *st)
{
	struct ll_client_error err;
	struct chan_msg *m;
	struct ll_stream *stream = NULL;

	ll_client_error_clear(&err);
	if (ll_stream_open(&c->relay.opts, st->redeem.stream_path,
			   st->redeem.ticket, &stream, &err) != 0) {
		post_failed(c, LL_APPLET_END_PICKUP_FAILED, err.message);
		return;
	}
	m = msg_new(c, EV_PICKED);
	m->res.redeem = st->redeem;
	memset(&st->redeem, 0, sizeof(st->redeem));
	m->res.stream = stream;
	post(m);
}

/* Asks until picked up, stopped or refused. */
static void wait_loop(struct ll_applet_channel *c, struct ll_api_client *api,
		      const struct ll_api_join *j)
{
	int64_t interval = CLAMP(j->poll_interval_s, 1, 10) * 1000;
	struct ll_api_queue_status st;
	struct ll_client_error err;
	struct chan_msg *m;
	int fails = 0;

	for (;;) {
		if (wait_stop(c, interval)) {
			ll_api_queue_cancel(api, j->ticket, NULL);
			post(msg_new(c, EV_CANCELLED));
			return;
		}
		memset(&st, 0, sizeof(st));
		ll_client_error_clear(&err);
		if (ll_api_queue_status(api, j->ticket, &st, &err) != 0) {
			if ((err.http_status == 0 || err.http_status >= 500) &&
			    ++fails < CHANNEL_MAX_FAILS) {
				post(msg_new(c, EV_RETRYING));
				continue;
			}
			post_failed(c, failure_end(&err, true), err.message);
			return;
		}
		fails = 0;
		if (st.picked) {
			picked(c, &st);
			ll_api_queue_status_clear(&st);
			return;
		}
		m = msg_new(c, EV_WAITING);
		m->position = st.position;
		m->waiting_s = st.waiting_s;
		post(m);
		ll_api_queue_status_clear(&st);
	}
}

static gpointer worker(gpointer data)
{
	struct ll_applet_channel *c = data;
	struct ll_api_client *api;
	struct ll_client_error err;
	struct ll_api_join j;
	struct chan_msg *m;
	int r;

	memset(&j, 0, sizeof(j));
	ll_client_error_clear(&err);
	if ((api = ll_api_client_new(&c->relay.opts, &err)) == NULL) {
		post_failed(c, failure_end(&err, false), err.message);
		goto out;
	}
	r = ll_api_channel_join(api, c->credential, c->description, &j, &err);
	ll_wipe(c->credential, strlen(c->credential));
	if (r != 0) {
		post_failed(c, failure_end(&err, false), err.message);
		goto out;
	}
	m = msg_new(c, EV_WAITING);
	m->position = j.position;
	post(m);
	wait_loop(c, api, &j);
out:
	ll_api_join_clear(&j);
	ll_api_client_free(api);
	chan_unref(c);
	return NULL;
}

/* ---- life ---- */

struct ll_applet_channel *ll_applet_channel_new(
	struct ll_applet *a, struct ll_applet_session *s,
	const struct ll_applet_session_opts *o, const char *credential)
{
	struct ll_applet_channel *c = g_new0(struct ll_applet_channel, 1);

	c->ref = 1;
	g_mutex_init(&c->lock);
	g_cond_init(&c->cond);
	c->a = a;
	c->s = s;
	/* The relay and its trust as the session's: a signed
	 * configuration's root and pin hold for the queue too. */
	ll_relay_opts_copy_init(&c->relay, &o->relay);
	c->relay.opts.timeout_ms = CHANNEL_TIMEOUT_MS;
	c->relay.opts.connect_timeout_ms = CHANNEL_CONNECT_TIMEOUT_MS;
	c->credential = g_strdup(credential);
	c->win = ll_waiting_window_new(a, on_ask, on_cancel, c);
	return c;
}

void ll_applet_channel_free(struct ll_applet_channel *c)
{
	if (c == NULL)
		return;
	c->closed = true;
	LL_FREE_AND_NULL(ll_waiting_window_free, c->win);
	set_stop(c);
	if (c->thread != NULL)
		g_thread_join(c->thread);
	c->thread = NULL;
	chan_unref(c);
}
