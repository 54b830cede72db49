/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay's worker pool (ll_workpool.h): work on the workers, done on
 * the loop's thread exactly once per job, the bound on the queue, and
 * stopping with jobs running and waiting.  Jobs block on a latch the test
 * opens, so "running" and "waiting" are states, not timing.
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include <event2/event.h>
#include <glib.h>

#include "ll_err.h"
#include "ll_workpool.h"

/* A latch the test opens; jobs wait on it. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool open_latch;
static int started; /* jobs that reached their work */

struct tjob {
	int id;
	bool worked;
	pthread_t worker;
	int done_calls;
	bool cancelled;
	pthread_t done_thread;
};

static struct event_base *base;
static int n_done;

static void latch_set(bool o)
{
	pthread_mutex_lock(&mu);
	open_latch = o;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void work(void *arg)
{
	struct tjob *j = arg;

	pthread_mutex_lock(&mu);
	started++;
	pthread_cond_broadcast(&cv);
	while (!open_latch)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	j->worker = pthread_self();
	j->worked = true;
}

static void done(void *arg, bool cancelled)
{
	struct tjob *j = arg;

	j->done_calls++;
	j->cancelled = cancelled;
	j->done_thread = pthread_self();
	n_done++;
}

static void wait_started(int n)
{
	pthread_mutex_lock(&mu);
	while (started < n)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

/* Runs the loop until n jobs are done (bounded by a 20 s timer). */
static void loop_until_done(int n)
{
	struct timeval tv = { 0, 10 * 1000 };
	int rounds = 2000;

	while (n_done < n && rounds-- > 0) {
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	g_assert_cmpint(n_done, ==, n);
}

static void setup(void)
{
	base = event_base_new();
	g_assert_nonnull(base);
	n_done = 0;
	started = 0;
	open_latch = false;
}

static void test_run_and_done(void)
{
	struct tjob jobs[16];
	struct ll_workpool *wp;
	int err, i;

	setup();
	wp = ll_workpool_new(base, 3, 16, &err);
	g_assert_nonnull(wp);
	g_assert_cmpint(err, ==, LL_OK);
	g_assert_cmpuint(ll_workpool_workers(wp), ==, 3);
	memset(jobs, 0, sizeof(jobs));
	latch_set(true);
	for (i = 0; i < 16; i++) {
		jobs[i].id = i;
		g_assert_cmpint(ll_workpool_submit(wp, work, done, &jobs[i]),
				==, LL_OK);
	}
	loop_until_done(16);
	for (i = 0; i < 16; i++) {
		g_assert_true(jobs[i].worked);
		g_assert_cmpint(jobs[i].done_calls, ==, 1);
		g_assert_false(jobs[i].cancelled);
		/* work on a worker, done on the loop's thread */
		g_assert_false(pthread_equal(jobs[i].worker, pthread_self()));
		g_assert_true(
			pthread_equal(jobs[i].done_thread, pthread_self()));
	}
	ll_workpool_free(wp);
	event_base_free(base);
}

static void test_queue_bound(void)
{
	struct tjob jobs[4];
	struct ll_workpool *wp;
	unsigned waiting, running;
	int err, i;

	setup();
	/* 2 running + 1 waiting, then full */
	wp = ll_workpool_new(base, 2, 1, &err);
	g_assert_nonnull(wp);
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < 3; i++)
		g_assert_cmpint(ll_workpool_submit(wp, work, done, &jobs[i]),
				==, LL_OK);
	g_assert_cmpint(ll_workpool_submit(wp, work, done, &jobs[3]), ==,
			LL_ERR_TOO_LARGE);
	wait_started(2);
	ll_workpool_load(wp, &waiting, &running);
	g_assert_cmpuint(waiting, ==, 1);
	g_assert_cmpuint(running, ==, 2);
	/* A reload that gives the queue more room takes effect at once. */
	ll_workpool_set_queue_max(wp, 2);
	g_assert_cmpint(ll_workpool_submit(wp, work, done, &jobs[3]), ==,
			LL_OK);
	latch_set(true);
	loop_until_done(4);
	for (i = 0; i < 4; i++)
		g_assert_cmpint(jobs[i].done_calls, ==, 1);
	ll_workpool_free(wp);
	event_base_free(base);
}

/*
 * Opens the latch from another thread once the pool is stopping: it
 * knows by a submit refused LL_ERR_CLOSED (the jobs it got in before that
 * wait behind the running ones, and are cancelled with them).
 */
#define MAX_EXTRA 100000
static struct tjob extra[MAX_EXTRA];
static int n_extra;

static void *opener(void *arg)
{
	struct ll_workpool *wp = arg;
	int r;

	while ((r = ll_workpool_submit(wp, work, done, &extra[n_extra])) ==
	       LL_OK) {
		g_assert_cmpint(++n_extra, <, MAX_EXTRA);
		sched_yield();
	}
	g_assert_cmpint(r, ==, LL_ERR_CLOSED);
	latch_set(true);
	return NULL;
}

static void test_stop(void)
{
	struct tjob jobs[5];
	struct ll_workpool *wp;
	pthread_t t;
	int err, i;

	setup();
	/* room for the opener's jobs too */
	wp = ll_workpool_new(base, 2, MAX_EXTRA, &err);
	g_assert_nonnull(wp);
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < 5; i++)
		g_assert_cmpint(ll_workpool_submit(wp, work, done, &jobs[i]),
				==, LL_OK);
	wait_started(2);
	/* Two run (held by the latch), three wait.  Stopping joins the
	 * two, which the opener lets finish once stopping has begun. */
	g_assert_cmpint(pthread_create(&t, NULL, opener, wp), ==, 0);
	ll_workpool_stop(wp);
	pthread_join(t, NULL);
	g_assert_cmpint(n_done, ==, 5 + n_extra);
	for (i = 0; i < 5; i++) {
		g_assert_cmpint(jobs[i].done_calls, ==, 1);
		g_assert_cmpint(jobs[i].worked, ==, i < 2);
		g_assert_cmpint(jobs[i].cancelled, ==, i >= 2);
		g_assert_true(
			pthread_equal(jobs[i].done_thread, pthread_self()));
	}
	for (i = 0; i < n_extra; i++) {
		g_assert_cmpint(extra[i].done_calls, ==, 1);
		g_assert_true(extra[i].cancelled);
	}
	g_assert_cmpint(started, ==, 2);
	/* After stopping nothing is taken (and done is not called). */
	g_assert_cmpint(ll_workpool_submit(wp, work, done, &jobs[0]), ==,
			LL_ERR_CLOSED);
	g_assert_cmpint(jobs[0].done_calls, ==, 1);
	ll_workpool_stop(wp); /* idempotent */
	ll_workpool_free(wp);
	/* Nothing of the pool is left on the loop: it ends by itself. */
	g_assert_cmpint(event_base_dispatch(base), ==, 1);
	event_base_free(base);
}

static void test_bad_args(void)
{
	int err = 0;

	setup();
	g_assert_null(ll_workpool_new(base, 0, 4, &err));
	g_assert_cmpint(err, ==, LL_ERR_INVALID_ARG);
	g_assert_null(ll_workpool_new(base, 65, 4, &err));
	g_assert_null(ll_workpool_new(base, 1, 0, &err));
	g_assert_null(ll_workpool_new(NULL, 1, 1, &err));
	ll_workpool_free(NULL);
	event_base_free(base);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/workpool/run-and-done", test_run_and_done);
	g_test_add_func("/workpool/queue-bound", test_queue_bound);
	g_test_add_func("/workpool/stop", test_stop);
	g_test_add_func("/workpool/bad-args", test_bad_args);
	return g_test_run();
}
