/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The technician's side of a session's chat (docs/API.md, "Chat"): the
 * lines said both ways (ll_chat.h: sanitised, bounded, the applet's
 * flood limited), what the holder, the CLI and the viewer's pane show,
 * and the transcript's upload to the relay, which keeps it only when the
 * org's policy keep_chat is on.
 *
 * The upload runs in a thread pool of one thread, so lines reach the
 * relay in the order said.  The first 409 chat_not_kept (the org keeps
 * no transcript), or any failure (the relay unreachable), stops it for
 * the rest of the session, and at most CHAT_UPLOAD_QUEUE lines wait:
 * the session's end waits for one upload's timeout at most.  Lines are
 * only ever uploaded with the session's own agent ticket.
 */
#include <string.h>

#include "agent.h"
#include "ll_api_chat.h"
#include "ll_chat.h"
#include "ll_control.h"
#include "ll_err.h"
#include "ll_util.h"

/* Each upload may take this long: the session's end waits for them. */
#define CHAT_UPLOAD_TIMEOUT_MS 5000
/* Lines waiting for the relay at most; beyond, a line is not uploaded. */
#define CHAT_UPLOAD_QUEUE 32u

struct ll_agent_chat {
	char *id;
	const struct ll_relay_opts *relay; /* the session's */
	const char *ticket;                /* the session's (secret) */
	struct ll_chat_log *log;
	unsigned serial;
	bool flood_told;
	GThreadPool *upload;
	gint not_kept; /* atomic: the relay keeps no transcript */
};

struct chat_job {
	enum ll_chat_from from;
	int64_t time_ms;
	char *text;
};

static void upload_one(gpointer data, gpointer user)
{
	struct chat_job *job = data;
	struct ll_agent_chat *c = user;
	struct ll_relay_opts o = *c->relay;
	struct ll_client_error e;
	struct ll_api_client *api;
	int r;

	if (g_atomic_int_get(&c->not_kept))
		goto out;
	o.timeout_ms = CHAT_UPLOAD_TIMEOUT_MS;
	o.connect_timeout_ms = CHAT_UPLOAD_TIMEOUT_MS;
	ll_client_error_clear(&e);
	if ((api = ll_api_client_new(&o, &e)) == NULL) {
		g_atomic_int_set(&c->not_kept, 1);
		ll_warn("session %s: chat line not kept: %s; the transcript "
			"stops here",
			c->id, e.message);
		goto out;
	}
	r = ll_api_chat_post(api, c->id, c->ticket,
			     ll_chat_from_name(job->from), job->time_ms,
			     job->text, &e);
	if (r == LL_ERR_CONFLICT &&
	    strcmp(e.api_code, LL_API_CHAT_NOT_KEPT) == 0) {
		g_atomic_int_set(&c->not_kept, 1);
		ll_info("session %s: the organisation keeps no chat "
			"transcript",
			c->id);
	} else if (r != 0) {
		/* one failure ends the uploads: the session's end must not
		 * wait for each line's timeout in turn */
		g_atomic_int_set(&c->not_kept, 1);
		ll_warn("session %s: chat line not kept: %s; the transcript "
			"stops here",
			c->id, e.message);
	}
	ll_api_client_free(api);
out:
	g_free(job->text);
	g_free(job);
}

struct ll_agent_chat *ll_agent_chat_new(const char *session_id,
					const struct ll_relay_opts *relay,
					const char *ticket)
{
	struct ll_agent_chat *c = g_new0(struct ll_agent_chat, 1);

	c->id = g_strdup(session_id);
	c->relay = relay;
	c->ticket = ticket;
	c->log = ll_chat_log_new(LL_CHAT_KEEP);
	c->upload = g_thread_pool_new(upload_one, c, 1, FALSE, NULL);
	if (c->log == NULL || c->upload == NULL) {
		ll_agent_chat_free(c);
		return NULL;
	}
	return c;
}

void ll_agent_chat_free(struct ll_agent_chat *c)
{
	if (c == NULL)
		return;
	/* the lines still queued go out first, each bounded in time */
	if (c->upload != NULL)
		g_thread_pool_free(c->upload, FALSE, TRUE);
	ll_chat_log_free(c->log);
	g_free(c->id);
	g_free(c);
}

const struct ll_chat_log *ll_agent_chat_log(const struct ll_agent_chat *c)
{
	return c != NULL ? c->log : NULL;
}

unsigned ll_agent_chat_serial(const struct ll_agent_chat *c)
{
	return c != NULL ? c->serial : 0;
}

/* Keeps a line and queues it for the relay's transcript. */
static int keep(struct ll_agent_chat *c, enum ll_chat_from from, bool peer,
		const char *text)
{
	const struct ll_chat_line *line;
	struct chat_job *job;
	int r;

	r = ll_chat_log_add(c->log, from, peer, text, strlen(text),
			    g_get_real_time() / 1000,
			    g_get_monotonic_time() / 1000, &line);
	if (r != 0)
		return r;
	c->serial++;
	c->flood_told = false;
	if (g_atomic_int_get(&c->not_kept))
		return LL_OK;
	if (g_thread_pool_unprocessed(c->upload) >= CHAT_UPLOAD_QUEUE) {
		/* the relay is not keeping up: the session's end must not
		 * wait for a long queue */
		ll_warn("session %s: chat line not kept: %u lines wait for "
			"the relay",
			c->id, g_thread_pool_unprocessed(c->upload));
		return LL_OK;
	}
	job = g_new0(struct chat_job, 1);
	job->from = from;
	job->time_ms = line->time_ms;
	/* as it travelled: the relay applies the display rule itself */
	job->text = g_strdup(text);
	g_thread_pool_push(c->upload, job, NULL);
	return LL_OK;
}

static void tell_peer(struct ll_session_io *io, const char *code,
		      const char *sentence)
{
	struct ll_control_msg m;

	memset(&m, 0, sizeof(m));
	m.type = LL_CONTROL_ERROR;
	m.u.error.code = (char *)code;
	m.u.error.message = (char *)sentence;
	(void)ll_session_io_send_control(io, &m);
}

bool ll_agent_chat_received(struct ll_agent_chat *c, struct ll_session_io *io,
			    uint32_t caps, const char *text)
{
	int r;

	if (!(caps & LL_CAP_CHAT)) {
		/* the applet sends chat only once the user granted it */
		ll_warn("session %s: chat from the applet refused: chat is "
			"not granted",
			c->id);
		tell_peer(io, "not_granted", "chat is not granted");
		return false;
	}
	r = keep(c, LL_CHAT_USER, true, text);
	if (r == LL_ERR_NO_CREDIT) {
		if (!c->flood_told) {
			c->flood_told = true;
			ll_warn("session %s: chat flood from the applet: "
				"lines dropped",
				c->id);
			tell_peer(io, "chat_flood",
				  "too many chat lines: dropped");
		}
		return false;
	}
	if (r != 0) {
		ll_warn("session %s: chat line refused: %s", c->id,
			ll_strerror(r));
		return false;
	}
	ll_info("session %s: chat line from the user (%zu bytes)", c->id,
		strlen(text));
	return true;
}

int ll_agent_chat_send(struct ll_agent_chat *c, struct ll_session_io *io,
		       uint32_t caps, const char *text)
{
	struct ll_control_msg m;
	size_t len = text != NULL ? strlen(text) : 0;
	int r;

	if (io == NULL)
		return LL_ERR_CLOSED;
	if (!(caps & LL_CAP_CHAT))
		return LL_ERR_DISABLED;
	if (len == 0)
		return LL_ERR_INVALID_ARG;
	if (len > LL_CONTROL_MAX_CHAT)
		return LL_ERR_TOO_LARGE;
	if (!g_utf8_validate(text, (gssize)len, NULL))
		return LL_ERR_MALFORMED;
	memset(&m, 0, sizeof(m));
	m.type = LL_CONTROL_CHAT;
	m.u.chat.text = (char *)text;
	if ((r = ll_session_io_send_control(io, &m)) != 0)
		return r;
	ll_info("session %s: chat line to the user (%zu bytes)", c->id, len);
	return keep(c, LL_CHAT_TECHNICIAN, false, text);
}
