/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reopen worker (ll_reopen.h).  The job is shared by the worker
 * thread and the main loop, each holding a reference: the application's
 * handle (dropped by ll_reopen_free, which also detaches the callback)
 * and the worker's (handed to the idle source that delivers the outcome
 * on the main loop).  Detaching and delivering both happen on the main
 * loop, so no lock is needed for them; only the cancel flag crosses
 * threads.
 */
#include <string.h>

#include "ll_crypto.h"
#include "ll_reopen.h"
#include "ll_stream.h"
#include "ll_util.h"

struct ll_reopen {
	gint refs;
	volatile int cancel;
	bool detached; /* main loop only */
	struct ll_relay_opts opts;
	char *url;
	char *ca_file;
	char *ca_pem;
	char *spki_pin;
	char *path;
	char *ticket;
	int64_t deadline_ms;
	GMainContext *context;
	ll_reopen_done_fn done;
	void *user;
	/* the worker's result */
	int err;
	unsigned tries;
	struct ll_stream *stream;
	struct ll_client_error cerr;
};

static void job_unref(struct ll_reopen *j)
{
	if (!g_atomic_int_dec_and_test(&j->refs))
		return;
	ll_stream_free(j->stream);
	if (j->ticket != NULL)
		ll_wipe(j->ticket, strlen(j->ticket));
	g_free(j->ticket);
	g_free(j->url);
	g_free(j->ca_file);
	g_free(j->ca_pem);
	g_free(j->spki_pin);
	g_free(j->path);
	if (j->context != NULL)
		g_main_context_unref(j->context);
	g_free(j);
}

static gboolean deliver(gpointer data)
{
	struct ll_reopen *j = data;
	struct ll_stream *st = j->stream;

	if (j->detached)
		return G_SOURCE_REMOVE;
	j->stream = NULL;
	j->detached = true; /* once */
	j->done(j->err, st, &j->cerr, j->tries, j->user);
	return G_SOURCE_REMOVE;
}

static void deliver_unref(gpointer data)
{
	job_unref(data);
}

static gpointer worker(gpointer data)
{
	struct ll_reopen *j = data;
	GSource *src;

	ll_client_error_clear(&j->cerr);
	j->err = ll_stream_reopen(&j->opts, j->path, j->ticket, j->deadline_ms,
				  &j->cancel, &j->tries, &j->stream, &j->cerr);
	/* The worker's reference goes with the source. */
	src = g_idle_source_new();
	g_source_set_callback(src, deliver, j, deliver_unref);
	g_source_attach(src, j->context);
	g_source_unref(src);
	return NULL;
}

struct ll_reopen *ll_reopen_start(const struct ll_relay_opts *relay,
				  const char *path, const char *ticket,
				  int64_t deadline_ms, GMainContext *context,
				  ll_reopen_done_fn done, void *user)
{
	struct ll_reopen *j = g_new0(struct ll_reopen, 1);
	GThread *t;

	j->refs = 2; /* the handle's and the worker's */
	j->opts = *relay;
	j->opts.url = j->url = g_strdup(relay->url);
	j->opts.ca_file = j->ca_file = g_strdup(relay->ca_file);
	j->opts.ca_pem = j->ca_pem = g_strdup(relay->ca_pem);
	j->opts.spki_pin = j->spki_pin = g_strdup(relay->spki_pin);
	j->path = g_strdup(path);
	j->ticket = g_strdup(ticket);
	j->deadline_ms = deadline_ms;
	j->context = context != NULL ? g_main_context_ref(context)
				     : g_main_context_ref_thread_default();
	j->done = done;
	j->user = user;
	t = g_thread_try_new("ll-reopen", worker, j, NULL);
	if (t == NULL) {
		j->refs = 1;
		job_unref(j);
		return NULL;
	}
	g_thread_unref(t); /* detached: it ends by itself */
	return j;
}

void ll_reopen_free(struct ll_reopen *r)
{
	if (r == NULL)
		return;
	r->detached = true;
	r->cancel = 1; /* read by ll_stream_reopen between waits */
	job_unref(r);
}
