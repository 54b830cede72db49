/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audit reporter of one side of one session, shared by the applet and
 * the agent: what that side decided or saw (consent, revoke,
 * not_requested, ended) goes to the relay's audit as POST
 * /api/v1/sessions/ID/events with that side's ticket (ll_api_session_event).
 *
 * Strictly in order: the events are queued and sent one at a time, in the
 * order given, from one worker thread of the reporter's own with its own
 * ll_api_client (one kept-alive connection).  A consent and its revoke
 * therefore reach the audit as they happened; a thread per event would
 * let them race.
 *
 * Never in the caller's way: ll_reporter_send only queues (copies of what
 * it is given) and wakes the worker, so the main loop never waits for the
 * relay.  The queue is bounded (queue_max events waiting); beyond that an
 * event is refused.  ll_reporter_free waits for what is queued at most
 * drain_ms, then gives up on the call in flight (within about a second:
 * libcurl checks between its steps) and drops the rest, so an exit is
 * never held up for long by a relay that does not answer.
 *
 * Failures: every event that does not reach the audit is logged once
 * (session id, type and why; never the ticket) and handed to on_failed
 * when set.
 *
 * The ticket is a secret: copied at _new, wiped at _free, never logged.
 */
#ifndef LL_REPORTER_H
#define LL_REPORTER_H

#include <stddef.h>
#include <stdint.h>

#include "ll_api_client.h"

/* Events waiting at most, unless the options say otherwise. */
#define LL_REPORTER_QUEUE_MAX 64
/* How long ll_reporter_free waits for queued events by default. */
#define LL_REPORTER_DRAIN_MS 5000

struct ll_reporter;

/* Zeroed (or a NULL pointer): the defaults. */
struct ll_reporter_opts {
	size_t queue_max; /* 0: LL_REPORTER_QUEUE_MAX */
	int drain_ms;     /* 0: LL_REPORTER_DRAIN_MS */
	/*
	 * An event that was queued but did not reach the audit: the relay
	 * refused it or could not be reached, or _free gave up on it.
	 * Called on the reporter's worker thread, in the order of the
	 * events, after the reporter logged it; reason may be NULL.  It
	 * must not call the reporter's functions.
	 */
	void (*on_failed)(const char *type, const char *reason,
			  const struct ll_client_error *err, void *user);
	void *user;
};

/*
 * A reporter for session_id with that side's ticket, sending to the relay
 * of `relay` (its timeout_ms bounds each report).  relay, session_id,
 * ticket and o are copied (o may be NULL).  LL_OK with *out set and the
 * worker started, or a negative ll_err with err filled (a bad relay URL
 * or CA file, LL_ERR_INVALID_ARG, LL_ERR_NOMEM).
 */
int ll_reporter_new(const struct ll_relay_opts *relay, const char *session_id,
		    const char *ticket, const struct ll_reporter_opts *o,
		    struct ll_reporter **out, struct ll_client_error *err);

/*
 * Queues one event: type "consent", "revoke", "not_requested" or "ended";
 * caps the LL_CAP_* concerned (0: none sent); reason a sentence or NULL.
 * All copied.  Returns at once: LL_OK (queued), LL_ERR_TOO_LARGE (the
 * queue is full: dropped and logged) or LL_ERR_INVALID_ARG.  Any thread
 * (the order is that of the calls), never after or during _free.
 */
int ll_reporter_send(struct ll_reporter *rep, const char *type, uint32_t caps,
		     const char *reason);
/*
 * The same with the event's `file` object (ll_api_session_event_file),
 * taken over (json_decref'd whatever the outcome); NULL for none.
 */
int ll_reporter_send_file(struct ll_reporter *rep, const char *type,
			  uint32_t caps, const char *reason, json_t *file);

/*
 * Sends what is queued, waiting at most drain_ms (then the call in flight
 * gives up within about a second and the rest is dropped, each through
 * on_failed), stops the worker, wipes the ticket and frees.  NULL ok.
 */
void ll_reporter_free(struct ll_reporter *rep);

#endif
