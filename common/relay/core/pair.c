/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stream pairing and blind forwarding.  core->pairs maps a session id to
 * its two streams (agent, applet).  The first side waits with its early
 * bytes buffered (read high-watermark: at most stream_buffer_bytes, then
 * libevent stops reading it); when the other side arrives both are
 * forwarded without being parsed, by moving evbuffer chains.
 *
 * Back-pressure, per direction: once the destination's output holds
 * stream_buffer_bytes, reading the source stops and the destination gets
 * a write low-watermark of half that; its write callback resumes the
 * source.  So a reader that stops reading costs at most about
 * stream_buffer_bytes + one read chunk per direction.
 *
 * Grace (issue 9.2): a paired session whose stream is lost (closed
 * without a TLS close_notify, or replaced by a new attach of the same
 * side) is not ended.  Both streams close, so that both ends notice and
 * start again with a fresh mux HELLO, and the pair stays in core->pairs
 * empty, in grace, for stream_grace_s: each side may attach again with
 * its ticket, and when both are back the pair forwards again.  Nobody
 * back in time: ll_pair_grace_sweep ends it as "lost".  A deliberate end
 * (close_notify after the control "end") ends the pair as before.
 */
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "ll_util.h"
#include "ll_relay.h"
#include "core.h"

struct ll_pair {
	struct ll_core *core;
	struct ll_conn *conn[2]; /* by enum ll_side */
	uint64_t bytes[2];       /* read from conn[i], sent to the other */
	bool paired;             /* forwarding now */
	bool connected;          /* has been paired: a loss leads to grace */
	bool grace; /* lost, waiting for both sides to come back */
	bool ended;
	/* Paired with workers: waiting for both outputs to flush before
	 * the handover (no forwarding meanwhile). */
	bool handing_over;
	/* Handed over: forwarded by a worker loop (workers.c), conn[] are
	 * NULL and bytes[] are the worker's. */
	struct ll_wsess *ws;
	int64_t grace_until_ms; /* monotonic, while grace */
	char id[LL_SESSION_ID_LEN + 1];
};

GHashTable *ll_pair_table_new(void)
{
	/* Keys point into the pairs themselves; ll_pair_end frees them. */
	return g_hash_table_new(g_str_hash, g_str_equal);
}

static size_t stream_limit(const struct ll_core *core)
{
	int64_t v = core->relay->cfg.stream_buffer_bytes;

	return v > 0 ? (size_t)v : 262144;
}

static void pair_forward(struct ll_pair *p, struct ll_conn *src,
			 struct ll_conn *dst)
{
	struct ll_relay *relay = p->core->relay;
	struct evbuffer *in, *out;
	size_t n, limit = stream_limit(p->core);

	if (src->bev == NULL || dst->bev == NULL)
		return;
	if (!src->read_paused)
		ll_stream_tls_drain(src->bev);
	in = bufferevent_get_input(src->bev);
	out = bufferevent_get_output(dst->bev);
	if ((n = evbuffer_get_length(in)) > 0) {
		/* Moves the chains: no copy, no look at the bytes. */
		if (evbuffer_add_buffer(out, in) != 0)
			return;
		p->bytes[src->side] += n;
		relay->metrics.bytes_forwarded += n;
	}
	if (evbuffer_get_length(out) >= limit && !src->read_paused) {
		ll_conn_set_read_paused(src, true);
		bufferevent_setwatermark(dst->bev, EV_WRITE, limit / 2, 0);
	}
}

/*
 * Hands a pair that has just paired to a worker loop once both streams
 * have sent everything queued (the newcomer's 101): then no TLS record
 * is half-written and the SSLs can change loops (workers.c).
 */
static void pair_try_handover(struct ll_pair *p)
{
	struct ll_conn *c[2] = { p->conn[0], p->conn[1] };
	struct ll_wsess *ws;
	int s;

	if (!p->handing_over || c[0] == NULL || c[1] == NULL)
		return;
	for (s = 0; s < 2; s++)
		if (c[s]->bev == NULL ||
		    evbuffer_get_length(bufferevent_get_output(c[s]->bev)) > 0)
			return;
	p->handing_over = false;
	if ((ws = ll_workers_handover(p->core, p->id, c, p->bytes)) == NULL) {
		ll_warn("session %s: not handed to a worker: out of memory; "
			"forwarded here",
			p->id);
		pair_forward(p, c[0], c[1]);
		pair_forward(p, c[1], c[0]);
		return;
	}
	p->ws = ws;
	/* The connections are the worker's now: here they only close. */
	for (s = 0; s < 2; s++) {
		ll_conn_ref(c[s]);
		c[s]->pair = NULL;
		p->conn[s] = NULL;
	}
	for (s = 0; s < 2; s++) {
		ll_conn_close(c[s], NULL);
		ll_conn_unref(c[s]);
	}
}

bool ll_pair_side_taken(struct ll_core *core, const char *session_id,
			enum ll_side side)
{
	struct ll_pair *p = g_hash_table_lookup(core->pairs, session_id);

	/* A connected session's side is replaced instead (ll_pair_attach). */
	return p != NULL && p->conn[side] != NULL && !p->connected;
}

/*
 * The pair lost a stream (lost: that side's, which its caller closes; or
 * NULL when a new attach replaces a stream still open).  Both streams go
 * (the one that stays would carry a mux the newcomer does not know), the
 * pair stays, empty, in grace.  The grace runs from the first loss; a
 * stream that comes back and is lost again before its peer returns does
 * not extend it.
 */
static void pair_interrupt(struct ll_pair *p, struct ll_conn *lost,
			   const char *reason)
{
	struct ll_relay *relay = p->core->relay;
	struct ll_conn *gone[2] = { p->conn[0], p->conn[1] };
	char id[LL_SESSION_ID_LEN + 1];
	bool first = !p->grace;
	int s;

	for (s = 0; s < 2; s++) {
		if (gone[s] == NULL)
			continue;
		gone[s]->pair = NULL;
		p->conn[s] = NULL;
		ll_conn_ref(gone[s]);
	}
	p->handing_over = false;
	if (p->ws != NULL) {
		/* At once, as below: the ends come back with their tickets. */
		ll_workers_bytes(p->ws, p->bytes);
		ll_workers_close(p->ws, false);
		p->ws = NULL;
	}
	if (p->paired) {
		relay->metrics.sessions_live--;
		relay->metrics.sessions_interrupted++;
	}
	p->paired = false;
	if (first) {
		p->grace = true;
		p->grace_until_ms = ll_now_mono_ms() +
				    relay->cfg.stream_grace_s * 1000;
	}
	/* Closed at once, without close_notify: for that end, too, the
	 * stream broke; it comes back with its ticket. */
	for (s = 0; s < 2; s++) {
		if (gone[s] == NULL)
			continue;
		if (gone[s] != lost)
			ll_conn_close(gone[s], NULL);
		ll_conn_unref(gone[s]);
	}
	g_strlcpy(id, p->id, sizeof(id));
	ll_info("session %s: stream interrupted (%s), %lld s to come back", id,
		reason,
		(long long)((p->grace_until_ms - ll_now_mono_ms() + 999) /
			    1000));
	if (first)
		relay->api->stream_interrupted(relay, id, reason);
}

void ll_pair_lost(struct ll_pair *p, struct ll_conn *culprit,
		  const char *reason)
{
	if (p->ended)
		return;
	if (!p->connected) {
		/* Never paired: nothing to resume, as before. */
		ll_pair_end(p, culprit, reason);
		return;
	}
	pair_interrupt(p, culprit, reason);
}

void ll_pair_grace_sweep(struct ll_core *core)
{
	GList *all = g_hash_table_get_values(core->pairs), *l;
	int64_t now = ll_now_mono_ms();

	/* Ending one pair never ends another, so the list stays valid. */
	for (l = all; l != NULL; l = l->next) {
		struct ll_pair *p = l->data;

		if (p->grace && now >= p->grace_until_ms)
			ll_pair_end(p, NULL, "lost");
	}
	g_list_free(all);
}

int ll_pair_attach(struct ll_core *core, struct ll_conn *c,
		   const char *session_id, enum ll_side side)
{
	struct ll_relay *relay = core->relay;
	struct ll_pair *p = g_hash_table_lookup(core->pairs, session_id);
	struct ll_conn *other;
	char id[LL_SESSION_ID_LEN + 1];
	size_t limit = stream_limit(core);
	bool resumed;

	if (strlen(session_id) > LL_SESSION_ID_LEN)
		return LL_ERR_INVALID_ARG;
	if (p != NULL && (p->conn[side] != NULL || p->ws != NULL)) {
		if (!p->connected)
			return LL_ERR_CONFLICT;
		/* The ticket's holder is back while its old stream looks
		 * open (a black hole the relay cannot see): the newer
		 * stream wins, the session starts again from grace. */
		pair_interrupt(p, NULL,
			       side == LL_SIDE_AGENT ? "agent_replaced"
						     : "applet_replaced");
	}
	/* Both directions read in big chunks but never hold more than the
	 * stream budget unforwarded (while waiting, that is the cap). */
	bufferevent_setwatermark(c->bev, EV_READ, 0, limit);

	if (p == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return LL_ERR_NOMEM;
		p->core = core;
		g_strlcpy(p->id, session_id, sizeof(p->id));
		p->conn[side] = c;
		c->pair = p;
		c->side = (uint8_t)side;
		c->state = LL_CONN_WAITING;
		g_hash_table_insert(core->pairs, p->id, p);
		relay->metrics.streams_waiting++;
		ll_info("peer %s: session %s: %s stream waiting", c->peer,
			p->id, ll_side_name(side));
		return LL_OK;
	}

	other = p->conn[!side];
	p->conn[side] = c;
	c->pair = p;
	c->side = (uint8_t)side;
	if (other == NULL) {
		/* The first side back of a session in grace. */
		c->state = LL_CONN_WAITING;
		ll_info("peer %s: session %s: %s stream back, waiting",
			c->peer, p->id, ll_side_name(side));
		return LL_OK;
	}
	c->state = LL_CONN_PAIRED;
	other->state = LL_CONN_PAIRED;
	p->paired = true;
	resumed = p->grace;
	if (resumed)
		relay->metrics.sessions_interrupted--;
	else
		relay->metrics.streams_waiting--;
	relay->metrics.sessions_live++;
	p->connected = true;
	p->grace = false;
	ll_info("peer %s: session %s: %s", c->peer, p->id,
		resumed ? "paired again" : "paired");

	ll_conn_ref(c);
	ll_conn_ref(other);
	if (ll_workers_active(core)) {
		/* Once the 101 is out (ll_pair_on_write). */
		p->handing_over = true;
		pair_try_handover(p);
	} else {
		/* The newcomer's 101 is already queued ahead of these. */
		pair_forward(p, other, c);
		pair_forward(p, c, other);
	}
	g_strlcpy(id, p->id, sizeof(id));
	ll_conn_unref(other);
	ll_conn_unref(c);
	/* Last: the API may close the session from inside (p is gone). */
	relay->api->stream_paired(relay, id, resumed);
	return LL_OK;
}

void ll_pair_on_read(struct ll_conn *c)
{
	struct ll_pair *p = c->pair;

	/* A waiting stream keeps its bytes; the read watermark caps them.
	 * So does one about to be handed to a worker. */
	if (c->state != LL_CONN_PAIRED || p == NULL || p->handing_over)
		return;
	pair_forward(p, c, p->conn[!c->side]);
}

void ll_pair_on_write(struct ll_conn *c)
{
	struct ll_pair *p = c->pair;
	struct ll_conn *src;

	if (c->state != LL_CONN_PAIRED || p == NULL || c->bev == NULL)
		return;
	if (p->handing_over) {
		pair_try_handover(p);
		return;
	}
	src = p->conn[!c->side];
	if (src == NULL || !src->read_paused ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) >
		    stream_limit(c->core) / 2)
		return;
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	ll_conn_set_read_paused(src, false);
	/* What the source read just before it paused. */
	pair_forward(p, src, c);
}

void ll_pair_end(struct ll_pair *p, struct ll_conn *culprit,
		 const char *reason)
{
	struct ll_core *core = p->core;
	struct ll_relay *relay = core->relay;
	struct ll_conn *a = p->conn[LL_SIDE_AGENT];
	struct ll_conn *b = p->conn[LL_SIDE_APPLET];
	char id[LL_SESSION_ID_LEN + 1];
	uint64_t a2b = p->bytes[LL_SIDE_AGENT];
	uint64_t b2a = p->bytes[LL_SIDE_APPLET];
	bool paired = p->paired;
	bool grace = p->grace;
	int s;

	if (p->ended)
		return;
	p->ended = true;
	g_hash_table_remove(core->pairs, p->id);
	if (p->ws != NULL) {
		/* The worker flushes and closes both streams. */
		ll_workers_bytes(p->ws, p->bytes);
		ll_workers_close(p->ws, true);
		p->ws = NULL;
		a2b = p->bytes[LL_SIDE_AGENT];
		b2a = p->bytes[LL_SIDE_APPLET];
	}

	/* The leaver's last bytes still go out to the one who stays. */
	if (paired && culprit != NULL && p->conn[!culprit->side] != NULL) {
		pair_forward(p, culprit, p->conn[!culprit->side]);
		a2b = p->bytes[LL_SIDE_AGENT];
		b2a = p->bytes[LL_SIDE_APPLET];
	}
	for (s = 0; s < 2; s++)
		if (p->conn[s] != NULL)
			p->conn[s]->pair = NULL;
	if (paired)
		relay->metrics.sessions_live--;
	else if (grace)
		relay->metrics.sessions_interrupted--;
	else
		relay->metrics.streams_waiting--;
	g_strlcpy(id, p->id, sizeof(id));
	free(p);

	/* Each close may free that connection: hold them meanwhile. */
	if (a != NULL)
		ll_conn_ref(a);
	if (b != NULL)
		ll_conn_ref(b);
	if (a != NULL && a != culprit)
		ll_conn_close_after_flush(a);
	if (b != NULL && b != culprit)
		ll_conn_close_after_flush(b);
	if (b != NULL)
		ll_conn_unref(b);
	if (a != NULL)
		ll_conn_unref(a);

	ll_info("session %s: stream ended (%s), %" PRIu64
		" bytes agent->applet, %" PRIu64 " bytes applet->agent",
		id, reason, a2b, b2a);
	relay->api->stream_ended(relay, id, reason, a2b, b2a);
}

void ll_pair_end_all(struct ll_core *core, const char *reason)
{
	GList *all = g_hash_table_get_values(core->pairs), *l;

	/* Ending one pair never ends another, so the list stays valid. */
	for (l = all; l != NULL; l = l->next)
		ll_pair_end(l->data, NULL, reason);
	g_list_free(all);
}

void ll_relay_session_close(struct ll_relay *relay, const char *session_id,
			    const char *reason)
{
	struct ll_core *core = relay != NULL ? relay->core : NULL;
	struct ll_pair *p;

	if (core == NULL || session_id == NULL)
		return;
	if ((p = g_hash_table_lookup(core->pairs, session_id)) == NULL)
		return;
	ll_pair_end(p, NULL, reason != NULL ? reason : "closed");
}

uint64_t ll_relay_sessions_here(const struct ll_relay *relay)
{
	if (relay == NULL)
		return 0;
	return relay->metrics.sessions_live + relay->metrics.streams_waiting +
	       relay->metrics.sessions_interrupted;
}

bool ll_relay_session_interrupted(const struct ll_relay *relay,
				  const char *session_id)
{
	const struct ll_core *core = relay != NULL ? relay->core : NULL;
	const struct ll_pair *p;

	if (core == NULL || session_id == NULL)
		return false;
	p = g_hash_table_lookup(core->pairs, session_id);
	return p != NULL && p->grace;
}

bool ll_relay_session_waiting(const struct ll_relay *relay,
			      const char *session_id)
{
	const struct ll_core *core = relay != NULL ? relay->core : NULL;
	const struct ll_pair *p;

	if (core == NULL || session_id == NULL)
		return false;
	p = g_hash_table_lookup(core->pairs, session_id);
	return p != NULL && !p->paired;
}

bool ll_relay_session_bytes(const struct ll_relay *relay,
			    const char *session_id, uint64_t *agent_to_applet,
			    uint64_t *applet_to_agent)
{
	const struct ll_core *core = relay != NULL ? relay->core : NULL;
	const struct ll_pair *p;

	if (core == NULL || session_id == NULL)
		return false;
	p = g_hash_table_lookup(core->pairs, session_id);
	if (p == NULL)
		return false;
	if (p->ws != NULL) {
		uint64_t b[2];

		ll_workers_bytes(p->ws, b);
		*agent_to_applet = b[LL_SIDE_AGENT];
		*applet_to_agent = b[LL_SIDE_APPLET];
		return true;
	}
	*agent_to_applet = p->bytes[LL_SIDE_AGENT];
	*applet_to_agent = p->bytes[LL_SIDE_APPLET];
	return true;
}

void ll_pair_worker_ended(struct ll_core *core, struct ll_wsess *ws, bool lost,
			  const char *reason)
{
	struct ll_pair *p = g_hash_table_lookup(core->pairs,
						ll_workers_session_id(ws));

	/* Ended or interrupted from here meanwhile: nothing left to do. */
	if (p == NULL || p->ws != ws)
		return;
	ll_workers_bytes(ws, p->bytes);
	p->ws = NULL;
	if (lost)
		pair_interrupt(p, NULL, reason);
	else
		ll_pair_end(p, NULL, reason);
}

void ll_pair_worker_done(struct ll_core *core, struct ll_wsess *ws)
{
	struct ll_pair *p = g_hash_table_lookup(core->pairs,
						ll_workers_session_id(ws));

	if (p != NULL && p->ws == ws)
		p->ws = NULL;
}
