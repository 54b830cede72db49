/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The worker pool (ll_workpool.h): N threads taking jobs from one FIFO
 * under a mutex, and one FIFO of finished jobs that the loop's thread
 * empties when the eventfd says so.  Jobs finish in any order across
 * workers; per connection the API keeps its own order (one job at a time).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <event2/event.h>

#include "ll_util.h"
#include "ll_workpool.h"

#define LL_WORKPOOL_MAX_WORKERS 64

struct job {
	struct job *next;
	ll_work_fn work;
	ll_work_done_fn done;
	void *arg;
};

/* A FIFO of jobs. */
struct job_list {
	struct job *head, *tail;
};

struct ll_workpool {
	struct event_base *base;
	struct event *ev; /* efd readable: something is done */
	int efd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	struct job_list todo;
	struct job_list done;
	unsigned n_todo;
	unsigned n_running;
	unsigned queue_max;
	bool stopping;
	/* the loop's own */
	pthread_t threads[LL_WORKPOOL_MAX_WORKERS];
	unsigned n_threads;
	bool stopped;
};

static void list_push(struct job_list *l, struct job *j)
{
	j->next = NULL;
	if (l->tail != NULL)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static struct job *list_pop(struct job_list *l)
{
	struct job *j = l->head;

	if (j != NULL) {
		l->head = j->next;
		if (l->head == NULL)
			l->tail = NULL;
		j->next = NULL;
	}
	return j;
}

/* Wakes the loop: the one thing a worker does on its behalf. */
static void wake_loop(struct ll_workpool *wp)
{
	uint64_t one = 1;
	ssize_t n;

	do
		n = write(wp->efd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
	/* EAGAIN: the counter is saturated, the loop is woken anyway. */
}

static void *worker_main(void *arg)
{
	struct ll_workpool *wp = arg;
	struct job *j;

	pthread_mutex_lock(&wp->mu);
	for (;;) {
		while (!wp->stopping && wp->todo.head == NULL)
			pthread_cond_wait(&wp->cv, &wp->mu);
		/* Waiting jobs are left to ll_workpool_stop to cancel. */
		if (wp->stopping)
			break;
		j = list_pop(&wp->todo);
		wp->n_todo--;
		wp->n_running++;
		pthread_mutex_unlock(&wp->mu);

		j->work(j->arg);

		pthread_mutex_lock(&wp->mu);
		wp->n_running--;
		list_push(&wp->done, j);
		wake_loop(wp);
	}
	pthread_mutex_unlock(&wp->mu);
	return NULL;
}

/* Runs the done callbacks of finished jobs, in the order they finished. */
static void run_done(struct ll_workpool *wp)
{
	struct job_list done;
	struct job *j;

	pthread_mutex_lock(&wp->mu);
	done = wp->done;
	memset(&wp->done, 0, sizeof(wp->done));
	pthread_mutex_unlock(&wp->mu);
	while ((j = list_pop(&done)) != NULL) {
		j->done(j->arg, false);
		free(j);
	}
}

static void efd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ll_workpool *wp = arg;
	uint64_t n;

	(void)what;
	/* Reading resets the counter; every job is on the done list. */
	while (read(fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	run_done(wp);
}

struct ll_workpool *ll_workpool_new(struct event_base *base, unsigned workers,
				    unsigned queue_max, int *err)
{
	struct ll_workpool *wp;
	sigset_t all, old;
	unsigned i;

	*err = LL_ERR_INVALID_ARG;
	if (base == NULL || workers == 0 ||
	    workers > LL_WORKPOOL_MAX_WORKERS || queue_max == 0)
		return NULL;
	*err = LL_ERR_NOMEM;
	if ((wp = calloc(1, sizeof(*wp))) == NULL)
		return NULL;
	wp->efd = -1;
	wp->base = base;
	wp->queue_max = queue_max;
	pthread_mutex_init(&wp->mu, NULL);
	pthread_cond_init(&wp->cv, NULL);
	if ((wp->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		*err = LL_ERR_IO;
		goto fail;
	}
	wp->ev = event_new(base, wp->efd, EV_READ | EV_PERSIST, efd_cb, wp);
	if (wp->ev == NULL || event_add(wp->ev, NULL) != 0)
		goto fail;
	/* Signals are the loop's (libevent's handlers): workers block them
	 * all, and inherit that mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < workers; i++) {
		if (pthread_create(&wp->threads[i], NULL, worker_main, wp) !=
		    0)
			break;
		wp->n_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (wp->n_threads != workers) {
		*err = LL_ERR_INTERNAL;
		goto fail;
	}
	*err = LL_OK;
	return wp;
fail:
	ll_workpool_free(wp);
	return NULL;
}

int ll_workpool_submit(struct ll_workpool *wp, ll_work_fn work,
		       ll_work_done_fn done, void *arg)
{
	struct job *j;
	int r = LL_OK;

	if (wp == NULL || work == NULL || done == NULL)
		return LL_ERR_INVALID_ARG;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return LL_ERR_NOMEM;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&wp->mu);
	if (wp->stopping) {
		r = LL_ERR_CLOSED;
	} else if (wp->n_todo + wp->n_running >=
		   wp->queue_max + wp->n_threads) {
		/* Counting the running ones too makes the bound exact
		 * whether or not a worker has picked up its job yet. */
		r = LL_ERR_TOO_LARGE;
	} else {
		list_push(&wp->todo, j);
		wp->n_todo++;
		pthread_cond_signal(&wp->cv);
		j = NULL;
	}
	pthread_mutex_unlock(&wp->mu);
	free(j);
	return r;
}

void ll_workpool_set_queue_max(struct ll_workpool *wp, unsigned queue_max)
{
	if (wp == NULL || queue_max == 0)
		return;
	pthread_mutex_lock(&wp->mu);
	wp->queue_max = queue_max;
	pthread_mutex_unlock(&wp->mu);
}

unsigned ll_workpool_workers(const struct ll_workpool *wp)
{
	return wp != NULL ? wp->n_threads : 0;
}

void ll_workpool_load(struct ll_workpool *wp, unsigned *waiting,
		      unsigned *running)
{
	pthread_mutex_lock(&wp->mu);
	*waiting = wp->n_todo;
	*running = wp->n_running;
	pthread_mutex_unlock(&wp->mu);
}

void ll_workpool_stop(struct ll_workpool *wp)
{
	struct job_list todo;
	struct job *j;
	unsigned i;

	if (wp == NULL || wp->stopped)
		return;
	wp->stopped = true;
	pthread_mutex_lock(&wp->mu);
	wp->stopping = true;
	pthread_cond_broadcast(&wp->cv);
	pthread_mutex_unlock(&wp->mu);
	/* At most the jobs running now are waited for. */
	for (i = 0; i < wp->n_threads; i++)
		pthread_join(wp->threads[i], NULL);
	wp->n_threads = 0;
	if (wp->ev != NULL)
		event_del(wp->ev);

	run_done(wp);
	pthread_mutex_lock(&wp->mu);
	todo = wp->todo;
	memset(&wp->todo, 0, sizeof(wp->todo));
	wp->n_todo = 0;
	pthread_mutex_unlock(&wp->mu);
	while ((j = list_pop(&todo)) != NULL) {
		j->done(j->arg, true);
		free(j);
	}
}

void ll_workpool_free(struct ll_workpool *wp)
{
	if (wp == NULL)
		return;
	ll_workpool_stop(wp);
	if (wp->ev != NULL)
		event_free(wp->ev);
	if (wp->efd >= 0)
		close(wp->efd);
	pthread_cond_destroy(&wp->cv);
	pthread_mutex_destroy(&wp->mu);
	free(wp);
}
