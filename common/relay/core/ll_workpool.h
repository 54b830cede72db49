/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small pool of worker threads for the slow work the relay's loop must
 * not do itself (Argon2id hashing and verifying), with a bounded queue.
 *
 * A job is a closure: work(arg) runs on a worker thread, then done(arg)
 * runs on the loop's thread.  work may touch only what arg owns: no
 * libevent, no store, no jansson object another thread can see.  The
 * loop learns of finished jobs through an eventfd the workers write (the
 * one system call they make on its behalf), so libevent is only ever
 * called from the loop's thread and the base keeps EVENT_BASE_FLAG_NOLOCK.
 *
 * Bounds: at most `workers` jobs run at once and at most `queue_max` more
 * wait; ll_workpool_submit refuses the next one (LL_ERR_TOO_LARGE), which
 * the API answers 429 rate_limited.
 *
 * Stopping (shutdown) joins the workers: a job already running finishes
 * and its done(arg, false) runs; a job still waiting never runs and gets
 * done(arg, true).  Every submitted job gets exactly one done call.
 */
#ifndef LL_WORKPOOL_H
#define LL_WORKPOOL_H

#include <stdbool.h>

struct event_base;
struct ll_workpool;

/* On a worker thread. */
typedef void (*ll_work_fn)(void *arg);
/* On the loop's thread; cancelled: the job never ran (stopping). */
typedef void (*ll_work_done_fn)(void *arg, bool cancelled);

/* workers 1..64 threads, started now; queue_max >= 1.  NULL on failure
 * (*err gets the ll_err). */
struct ll_workpool *ll_workpool_new(struct event_base *base, unsigned workers,
				    unsigned queue_max, int *err);
/*
 * Queues a job.  LL_OK, or LL_ERR_TOO_LARGE when the queue is full and
 * LL_ERR_CLOSED once stopping (done is not called then: the job is the
 * caller's again).  Loop thread only.
 */
int ll_workpool_submit(struct ll_workpool *wp, ll_work_fn work,
		       ll_work_done_fn done, void *arg);
/* Follows a reloaded configuration; the number of workers is fixed. */
void ll_workpool_set_queue_max(struct ll_workpool *wp, unsigned queue_max);
unsigned ll_workpool_workers(const struct ll_workpool *wp);
/* Jobs waiting and running now (for logs). */
void ll_workpool_load(struct ll_workpool *wp, unsigned *waiting,
		      unsigned *running);
/* Joins the workers and calls every outstanding done (see above).  Loop
 * thread only; idempotent. */
void ll_workpool_stop(struct ll_workpool *wp);
/* Stops, then frees.  NULL ok. */
void ll_workpool_free(struct ll_workpool *wp);

#endif
