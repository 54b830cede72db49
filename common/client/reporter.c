/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audit reporter (see ll_reporter.h): a FIFO of events under one
 * mutex, drained by one worker thread that owns the API client.
 *
 * The worker takes the oldest event, drops the lock, sends it and only
 * then takes the next, so at most one report is in flight and the relay
 * records them in the order they were queued.  _free sets `closing`
 * (no new events; the worker leaves once the queue is empty) and waits
 * on the same condition until the worker is done or the drain time is
 * over; then `give_up` makes the call in flight fail fast (the client's
 * cancel flag) and every event still queued is dropped through on_failed.
 */
#include <stdatomic.h>
#include <string.h>

#include <glib.h>

#include "ll_crypto.h"
#include "ll_reporter.h"
#include "ll_util.h"

struct event {
	char *type;
	uint32_t caps;
	char *reason; /* NULL: none */
	json_t *file; /* NULL: none; owned */
};

struct ll_reporter {
	GMutex lock;
	GCond cond;          /* an event queued, closing, or done */
	GQueue queue;        /* struct event *, oldest first; lock */
	bool closing;        /* _free began: leave once empty; lock */
	bool done;           /* the worker has left; lock */
	atomic_bool give_up; /* the drain time is over */
	GThread *thread;

	/* Set before the worker starts, then read-only (client: the
	 * worker's alone). */
	struct ll_api_client *client;
	char *session_id;
	char *ticket; /* secret */
	size_t queue_max;
	int drain_ms;
	void (*on_failed)(const char *type, const char *reason,
			  const struct ll_client_error *err, void *user);
	void *user;
};

static void event_free(struct event *ev)
{
	if (ev == NULL)
		return;
	g_free(ev->type);
	g_free(ev->reason);
	json_decref(ev->file);
	g_free(ev);
}

/* Worker: one event to the relay, or to the log and on_failed. */
static void deliver(struct ll_reporter *rep, const struct event *ev)
{
	struct ll_client_error err;
	int r;

	ll_client_error_clear(&err);
	if (atomic_load(&rep->give_up)) {
		r = LL_ERR_TIMEOUT;
		ll_client_error_set(&err, r, 0,
				    "the reporter was closed before it could "
				    "be sent");
	} else {
		r = ll_api_session_event_file(rep->client, rep->session_id,
					      rep->ticket, ev->type, ev->caps,
					      ev->reason, ev->file, &err);
	}
	if (r == LL_OK) {
		ll_debug("session %s: audit report \"%s\" sent",
			 rep->session_id, ev->type);
		return;
	}
	ll_warn("session %s: audit report \"%s\" not sent: %s",
		rep->session_id, ev->type, err.message);
	if (rep->on_failed != NULL)
		rep->on_failed(ev->type, ev->reason, &err, rep->user);
}

static gpointer worker(gpointer data)
{
	struct ll_reporter *rep = data;
	struct event *ev;

	g_mutex_lock(&rep->lock);
	for (;;) {
		while (g_queue_is_empty(&rep->queue) && !rep->closing)
			g_cond_wait(&rep->cond, &rep->lock);
		if ((ev = g_queue_pop_head(&rep->queue)) == NULL)
			break; /* closing, and all sent */
		/* One at a time, the lock dropped: senders never wait for
		 * the relay, and the next event goes only after this one. */
		g_mutex_unlock(&rep->lock);
		deliver(rep, ev);
		event_free(ev);
		g_mutex_lock(&rep->lock);
	}
	rep->done = true;
	g_cond_broadcast(&rep->cond);
	g_mutex_unlock(&rep->lock);
	return NULL;
}

static void reporter_destroy(struct ll_reporter *rep)
{
	ll_api_client_free(rep->client);
	ll_secret_free(rep->ticket);
	g_free(rep->session_id);
	g_queue_clear_full(&rep->queue, (GDestroyNotify)event_free);
	g_cond_clear(&rep->cond);
	g_mutex_clear(&rep->lock);
	g_free(rep);
}

int ll_reporter_new(const struct ll_relay_opts *relay, const char *session_id,
		    const char *ticket, const struct ll_reporter_opts *o,
		    struct ll_reporter **out, struct ll_client_error *err)
{
	struct ll_client_error e;
	struct ll_reporter *rep;
	GError *gerr = NULL;
	int r;

	ll_client_error_clear(err);
	ll_client_error_clear(&e);
	if (relay == NULL || session_id == NULL || ticket == NULL ||
	    out == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "the reporter needs a relay, a session "
				    "and a ticket");
		return LL_ERR_INVALID_ARG;
	}
	rep = g_new0(struct ll_reporter, 1);
	g_mutex_init(&rep->lock);
	g_cond_init(&rep->cond);
	g_queue_init(&rep->queue);
	atomic_init(&rep->give_up, false);
	rep->session_id = g_strdup(session_id);
	rep->ticket = g_strdup(ticket);
	rep->queue_max = LL_REPORTER_QUEUE_MAX;
	rep->drain_ms = LL_REPORTER_DRAIN_MS;
	if (o != NULL) {
		if (o->queue_max > 0)
			rep->queue_max = o->queue_max;
		if (o->drain_ms > 0)
			rep->drain_ms = o->drain_ms;
		rep->on_failed = o->on_failed;
		rep->user = o->user;
	}
	if ((rep->client = ll_api_client_new(relay, &e)) == NULL) {
		r = e.code != 0 ? e.code : LL_ERR_NOMEM;
		if (err != NULL)
			*err = e;
		goto fail;
	}
	if ((r = ll_api_client_set_cancel(rep->client, &rep->give_up)) != 0) {
		ll_client_error_set(err, r, 0,
				    "libcurl refused the progress check");
		goto fail;
	}
	rep->thread = g_thread_try_new("ll-audit", worker, rep, &gerr);
	if (rep->thread == NULL) {
		r = LL_ERR_INTERNAL;
		ll_client_error_set(err, r, 0,
				    "cannot start the audit reporter: %s",
				    gerr->message);
		g_error_free(gerr);
		goto fail;
	}
	*out = rep;
	return LL_OK;
fail:
	reporter_destroy(rep);
	return r;
}

int ll_reporter_send(struct ll_reporter *rep, const char *type, uint32_t caps,
		     const char *reason)
{
	return ll_reporter_send_file(rep, type, caps, reason, NULL);
}

int ll_reporter_send_file(struct ll_reporter *rep, const char *type,
			  uint32_t caps, const char *reason, json_t *file)
{
	struct event *ev;
	int r = LL_OK;

	if (rep == NULL || type == NULL) {
		json_decref(file);
		return LL_ERR_INVALID_ARG;
	}
	ev = g_new0(struct event, 1);
	ev->type = g_strdup(type);
	ev->caps = caps;
	ev->reason = g_strdup(reason);
	ev->file = file;
	g_mutex_lock(&rep->lock);
	if (g_queue_get_length(&rep->queue) >= rep->queue_max) {
		r = LL_ERR_TOO_LARGE;
	} else {
		g_queue_push_tail(&rep->queue, ev);
		g_cond_broadcast(&rep->cond);
	}
	g_mutex_unlock(&rep->lock);
	if (r != LL_OK) {
		ll_warn("session %s: audit report \"%s\" not sent: %zu "
			"reports are waiting already",
			rep->session_id, type, rep->queue_max);
		event_free(ev);
	}
	return r;
}

void ll_reporter_free(struct ll_reporter *rep)
{
	gint64 end;

	if (rep == NULL)
		return;
	end = g_get_monotonic_time() + (gint64)rep->drain_ms * 1000;
	g_mutex_lock(&rep->lock);
	rep->closing = true;
	g_cond_broadcast(&rep->cond);
	while (!rep->done && g_cond_wait_until(&rep->cond, &rep->lock, end))
		;
	if (!rep->done) {
		ll_warn("session %s: the relay took over %d ms for the audit "
			"reports: giving up on the rest",
			rep->session_id, rep->drain_ms);
		atomic_store(&rep->give_up, true);
	}
	g_mutex_unlock(&rep->lock);
	/* Bounded: the call in flight now fails within about a second,
	 * the rest is dropped without a call. */
	g_thread_join(rep->thread);
	reporter_destroy(rep);
}
