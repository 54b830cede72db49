/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A received file's decoding, hashing and writing on a worker thread
 * (xfer_rx.h).
 *
 * The loop and the worker share no lock.  While a screen is live the
 * worker runs in the idle scheduling class, where on a busy machine its
 * next turn can be a second away; a lock it held over that second would
 * stall the loop that pumps the screen.  So:
 *  - the loop pushes items onto an atomic stack that the worker takes
 *    whole with one exchange (one consumer: no ABA); what the worker is
 *    done with comes back on a second stack, to be freed on the loop, so
 *    that malloc's arena lock stays the loop's own too;
 *  - the report's counters are atomics;
 *  - each side wakes the other through an eventfd: the worker sleeps in
 *    poll() on its own, the loop watches the other as a GSource (no
 *    g_source_attach from the worker: that takes the context's lock);
 *  - the worker owns what it works with (a duplicate of the part's
 *    descriptor, the decoder and the hash), so stopping it never waits;
 *    only the process's exit does (rx_at_exit).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>

#include "ll_build.h"
#include "ll_err.h"
#include "ll_log.h"
#include "ll_util.h"
#include "xfer_rx.h"

/* Hashing what a part held reads this much at a time. */
#define RX_HASH_BLOCK (1024u * 1024u)
/* How much nicer than the loop the worker runs (Linux: per thread). */
#define RX_NICE 10
/* The test hook's hold is a file: the worker looks this often. */
#define RX_HOLD_POLL_MS 10
/* The longest the process's exit waits for its workers to stop. */
#define RX_EXIT_WAIT_S 2

struct item {
	struct item *next;
	size_t len;
	uint8_t data[];
};

struct ll_xfer_rx {
	atomic_int refs; /* the loop's and the worker's */
	/* loop -> worker */
	_Atomic(struct item *) in; /* handed over, newest first */
	atomic_bool stop, yield;
	int wake_fd; /* eventfd: the worker sleeps on it */
	/* worker -> loop */
	_Atomic(struct item *) spent; /* dealt with, for the loop to free */
	_Atomic uint64_t written;     /* file bytes written, in all */
	atomic_size_t consumed;       /* channel bytes dealt with, in all */
	atomic_int err;               /* stored before end */
	atomic_int end;               /* enum ll_xfer_rx_end */
	atomic_bool notified;         /* news_fd holds a wake not yet read */
	int news_fd;                  /* eventfd: the loop's source */
	uint8_t md[LL_SHA256_LEN];    /* the file's hash, once end is WHOLE */
	/* the loop's alone */
	GSource *src;
	ll_xfer_rx_cb cb;
	void *user;
	size_t pushed, peak;
	uint64_t written_seen;
	size_t consumed_seen;
	int end_seen;
	/* the worker's alone while it runs */
	GThread *thread;
	int fd;
	uint64_t off;
	struct ll_xfer_dec *dec;
	struct ll_sha256_ctx *sha;
	char *hold; /* test hook: no write while this path exists */
};

/* The workers still running, for the process's exit (rx_at_exit): the
 * one lock a worker takes, once, when it leaves.  pthread's, which
 * ThreadSanitizer sees (GLib's are bare futexes). */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t live_cond = PTHREAD_COND_INITIALIZER;
static GList *live; /* struct ll_xfer_rx *, each alive: the worker's ref */

static void items_free(struct item *it)
{
	struct item *next;

	for (; it != NULL; it = next) {
		next = it->next;
		g_free(it);
	}
}

/* Pushes an item onto an atomic stack; true when the stack was empty. */
static bool stack_push(_Atomic(struct item *) *top, struct item *it)
{
	struct item *old = atomic_load(top);

	do
		it->next = old;
	while (!atomic_compare_exchange_weak(top, &old, it));
	return old == NULL;
}

static void rx_unref(struct ll_xfer_rx *rx)
{
	if (atomic_fetch_sub(&rx->refs, 1) != 1)
		return;
	items_free(atomic_load(&rx->in));
	items_free(atomic_load(&rx->spent));
	if (rx->fd >= 0)
		close(rx->fd);
	close(rx->wake_fd);
	close(rx->news_fd);
	ll_xfer_dec_free(rx->dec);
	ll_sha256_free(rx->sha);
	g_free(rx->hold);
	g_free(rx);
}

static void fd_poke(int fd)
{
	uint64_t one = 1;

	/* a full counter (never, in practice) still reads as readable */
	while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void fd_drain(int fd)
{
	uint64_t n;

	while (read(fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
}

/* ---- the worker ---- */

/*
 * Not joined, a worker could still be hashing when the process exits and
 * OpenSSL's exit handler frees what a digest may use.  So exit stops
 * every worker and waits (briefly: one stops after the chunk under way).
 * Registered after OpenSSL's own handler (ll_xfer_rx_new makes the hash
 * first), so it runs before it.
 */
static void rx_at_exit(void)
{
	struct timespec end;
	GList *l;

	/* the condition's clock: a static one cannot be told another */
	clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += RX_EXIT_WAIT_S;
	pthread_mutex_lock(&live_mu);
	for (l = live; l != NULL; l = l->next) {
		struct ll_xfer_rx *rx = l->data;

		atomic_store(&rx->stop, true);
		fd_poke(rx->wake_fd);
	}
	while (live != NULL &&
	       pthread_cond_timedwait(&live_cond, &live_mu, &end) == 0)
		;
	pthread_mutex_unlock(&live_mu);
}

static gpointer rx_register_exit(gpointer unused)
{
	(void)unused;
	(void)atexit(rx_at_exit);
	return NULL;
}

/* After the counters moved: wake the loop, once per batch of news. */
static void notify(struct ll_xfer_rx *rx)
{
	if (!atomic_exchange(&rx->notified, true))
		fd_poke(rx->news_fd);
}

static int write_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	ssize_t w;

	while (n > 0) {
		w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? errno : EIO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* One item: every chunk it completes, hashed and written.  Returns how
 * it ended; *written counts the file bytes, *err the cause. */
static enum ll_xfer_rx_end process(struct ll_xfer_rx *rx,
				   const struct item *it, uint64_t *written,
				   int *err)
{
	const uint8_t *data = it->data, *chunk;
	size_t len = it->len, used, n;
	int r;

	while (len > 0) {
		if (ll_xfer_dec_remaining(rx->dec) == 0)
			return LL_XFER_RX_TOO_LONG;
		r = ll_xfer_dec_feed(rx->dec, data, len, &used, &chunk, &n);
		data += used;
		len -= used;
		if (r < 0) {
			*err = r;
			return LL_XFER_RX_BAD_DATA;
		}
		if (r == 0)
			break;
		if ((*err = write_all(rx->fd, chunk, n, rx->off)) != 0)
			return LL_XFER_RX_WRITE_ERR;
		(void)ll_sha256_update(rx->sha, chunk, n);
		rx->off += n;
		*written += n;
	}
	return ll_xfer_dec_remaining(rx->dec) == 0 ? LL_XFER_RX_WHOLE
						   : LL_XFER_RX_RUNNING;
}

/* Whether the test hook holds the disk still. */
static bool held(const struct ll_xfer_rx *rx)
{
#if LL_TEST_HOOKS
	return rx->hold != NULL && g_file_test(rx->hold, G_FILE_TEST_EXISTS);
#else
	(void)rx;
	return false;
#endif
}

/* Until the loop pushes, stops or (test hook) the hold may be gone. */
static void wait_for_work(struct ll_xfer_rx *rx)
{
	struct pollfd p = { .fd = rx->wake_fd, .events = POLLIN };

	if (poll(&p, 1, rx->hold != NULL ? RX_HOLD_POLL_MS : -1) > 0)
		fd_drain(rx->wake_fd);
}

/* What the loop handed over, oldest first; NULL when nothing. */
static struct item *take_in(struct ll_xfer_rx *rx)
{
	struct item *it = atomic_exchange(&rx->in, NULL), *fifo = NULL, *next;

	for (; it != NULL; it = next) {
		next = it->next;
		it->next = fifo;
		fifo = it;
	}
	return fifo;
}

/* What the part held when the transfer (re)started goes into the hash
 * first: a resume of a large file would keep the loop for seconds. */
static int hash_part(struct ll_xfer_rx *rx)
{
	uint8_t *buf = g_malloc(RX_HASH_BLOCK);
	uint64_t off = 0;
	size_t want;
	ssize_t n;
	int err = 0;

	while (off < rx->off && !atomic_load(&rx->stop)) {
		want = rx->off - off < RX_HASH_BLOCK ? (size_t)(rx->off - off)
						     : RX_HASH_BLOCK;
		n = pread(rx->fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			break;
		}
		(void)ll_sha256_update(rx->sha, buf, (size_t)n);
		off += (uint64_t)n;
	}
	g_free(buf);
	return err;
}

/*
 * The screen keeps its latency while a large file moves: on Linux a nice
 * value belongs to a thread, and this one's bulk work (the page cache
 * copy of every byte and its SHA-256, the heaviest part of a receive)
 * gives way to the loop that pumps the screen and to the capture thread
 * whenever they want the CPU.  With CPU to spare it runs as fast as
 * before; the transfer's pace follows it through the credit it returns.
 */
static void rx_lower_priority(void)
{
#ifdef __linux__
	id_t tid = (id_t)gettid();
	int cur;

	errno = 0;
	cur = getpriority(PRIO_PROCESS, tid);
	if (errno == 0)
		(void)setpriority(PRIO_PROCESS, tid, cur + RX_NICE);
#endif
}

/*
 * With a screen live, nice is not enough: on two busy cores a nice +10
 * thread still delays the screen's wake-ups by whole milliseconds.  A
 * thread in the idle class never does; it gets what the others leave.
 * That is safe only because the worker holds nothing the loop waits for
 * (see the top).  One way: leaving the class again needs a privilege.
 */
static void rx_yield(void)
{
#ifdef SCHED_IDLE
	struct sched_param sp = { .sched_priority = 0 };

	/* where the kernel refuses, the thread stays as nice as it was */
	(void)sched_setscheduler(0, SCHED_IDLE, &sp);
#endif
}

/* Publishes the end, what it carries first. */
static void publish_end(struct ll_xfer_rx *rx, enum ll_xfer_rx_end end,
			int err)
{
	if (end == LL_XFER_RX_WHOLE)
		(void)ll_sha256_final(rx->sha, rx->md);
	atomic_store(&rx->err, err);
	atomic_store(&rx->end, (int)end);
}

static gpointer rx_thread(gpointer p)
{
	struct ll_xfer_rx *rx = p;
	enum ll_xfer_rx_end end = LL_XFER_RX_RUNNING;
	struct item *batch = NULL, *it;
	bool yielded = false;
	uint64_t written;
	int err;

	rx_lower_priority();
	if ((err = hash_part(rx)) != 0)
		end = LL_XFER_RX_WRITE_ERR;
	else if (ll_xfer_dec_remaining(rx->dec) == 0)
		end = LL_XFER_RX_WHOLE; /* the part was the whole file */
	if (end != LL_XFER_RX_RUNNING) {
		publish_end(rx, end, err);
		notify(rx);
	}
	while (end == LL_XFER_RX_RUNNING && !atomic_load(&rx->stop)) {
		if (!yielded && atomic_load(&rx->yield)) {
			rx_yield();
			yielded = true;
		}
		if (batch == NULL && !held(rx))
			batch = take_in(rx);
		if (batch == NULL) {
			wait_for_work(rx);
			continue;
		}
		it = batch;
		batch = it->next;
		written = 0;
		err = 0;
		end = process(rx, it, &written, &err);
		/* a whole file with more handed over behind it is too long */
		if (end == LL_XFER_RX_WHOLE &&
		    (batch != NULL || atomic_load(&rx->in) != NULL))
			end = LL_XFER_RX_TOO_LONG;
		atomic_fetch_add(&rx->written, written);
		if (end != LL_XFER_RX_RUNNING)
			publish_end(rx, end, err);
		/* last: a take that sees every byte dealt with sees the end
		 * they led to (else the loop would call a whole file whose
		 * channel closed interrupted) */
		atomic_fetch_add(&rx->consumed, it->len);
		(void)stack_push(&rx->spent, it);
		notify(rx);
	}
	items_free(batch); /* dropped: the transfer ends or was stopped */
	/* OpenSSL's last use here, before the exit may go on */
	LL_FREE_AND_NULL(ll_sha256_free, rx->sha);
	pthread_mutex_lock(&live_mu);
	live = g_list_remove(live, rx);
	pthread_cond_broadcast(&live_cond);
	pthread_mutex_unlock(&live_mu);
	rx_unref(rx);
	return NULL;
}

/* ---- the loop ---- */

static gboolean on_news(gint fd, GIOCondition cond, gpointer p)
{
	struct ll_xfer_rx *rx = p;

	(void)cond;
	fd_drain(fd);
	/* before the counters are read (ll_xfer_rx_take): news after this
	 * wakes the loop again */
	atomic_store(&rx->notified, false);
	items_free(atomic_exchange(&rx->spent, NULL));
	/* may free rx: nothing of it is touched after */
	rx->cb(rx->user);
	return G_SOURCE_CONTINUE;
}

struct ll_xfer_rx *ll_xfer_rx_new(int fd, uint64_t offset, uint64_t size,
				  ll_xfer_rx_cb cb, void *user)
{
	static GOnce exit_once = G_ONCE_INIT;
	struct ll_xfer_rx *rx = g_new0(struct ll_xfer_rx, 1);
	GError *error = NULL;

	atomic_init(&rx->refs, 1);
	rx->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rx->news_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rx->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	rx->off = offset;
	rx->dec = offset <= size ? ll_xfer_dec_new(size - offset) : NULL;
	rx->sha = ll_sha256_new();
	if (rx->wake_fd < 0 || rx->news_fd < 0 || rx->fd < 0 ||
	    rx->dec == NULL || rx->sha == NULL) {
		ll_warn("file transfer: no worker: %s", g_strerror(errno));
		rx_unref(rx);
		return NULL;
	}
	rx->cb = cb;
	rx->user = user;
#if LL_TEST_HOOKS
	rx->hold = g_strdup(g_getenv("LL_TEST_XFER_HOLD"));
#endif
	g_once(&exit_once, rx_register_exit, NULL);
	atomic_store(&rx->refs, 2); /* and the worker's */
	pthread_mutex_lock(&live_mu);
	live = g_list_prepend(live, rx);
	pthread_mutex_unlock(&live_mu);
	rx->thread = g_thread_try_new("ll-xfer-rx", rx_thread, rx, &error);
	if (rx->thread == NULL) {
		ll_warn("file transfer: no worker thread: %s", error->message);
		g_error_free(error);
		pthread_mutex_lock(&live_mu);
		live = g_list_remove(live, rx);
		pthread_mutex_unlock(&live_mu);
		atomic_store(&rx->refs, 1);
		rx_unref(rx);
		return NULL;
	}
	g_thread_unref(rx->thread); /* never joined: it ends on its own */
	rx->src = g_unix_fd_source_new(rx->news_fd, G_IO_IN);
	g_source_set_callback(rx->src, G_SOURCE_FUNC(on_news), rx, NULL);
	g_source_attach(rx->src, g_main_context_get_thread_default());
	return rx;
}

size_t ll_xfer_rx_push(struct ll_xfer_rx *rx, const uint8_t *data, size_t len)
{
	struct item *it = g_malloc(sizeof(*it) + len);
	size_t queued;

	it->len = len;
	memcpy(it->data, data, len);
	/* the worker sleeps only on an empty stack: wake it on the first */
	if (stack_push(&rx->in, it))
		fd_poke(rx->wake_fd);
	rx->pushed += len;
	queued = rx->pushed - atomic_load(&rx->consumed);
	if (queued > rx->peak)
		rx->peak = queued;
	return queued;
}

bool ll_xfer_rx_take(struct ll_xfer_rx *rx, struct ll_xfer_rx_report *rep)
{
	/* in the reverse of the worker's order (rx_thread) */
	size_t consumed = atomic_load(&rx->consumed);
	int end = atomic_load(&rx->end);
	uint64_t written = atomic_load(&rx->written);
	bool changed = written != rx->written_seen ||
		       consumed != rx->consumed_seen || end != rx->end_seen;

	memset(rep, 0, sizeof(*rep));
	rep->written = written - rx->written_seen;
	rep->consumed = consumed - rx->consumed_seen;
	rep->end = (enum ll_xfer_rx_end)end;
	if (end != LL_XFER_RX_RUNNING)
		rep->err = atomic_load(&rx->err);
	if (end == LL_XFER_RX_WHOLE)
		memcpy(rep->sha256, rx->md, sizeof(rep->sha256));
	rep->queued = rx->pushed - consumed;
	rx->written_seen = written;
	rx->consumed_seen = consumed;
	rx->end_seen = end;
	return changed;
}

bool ll_xfer_rx_yield(struct ll_xfer_rx *rx)
{
	/* a load first: the loop asks with every piece of the file */
	return !atomic_load(&rx->yield) && !atomic_exchange(&rx->yield, true);
}

size_t ll_xfer_rx_peak(struct ll_xfer_rx *rx)
{
	return rx->peak;
}

unsigned ll_xfer_rx_live(void)
{
	unsigned n;

	pthread_mutex_lock(&live_mu);
	n = g_list_length(live);
	pthread_mutex_unlock(&live_mu);
	return n;
}

void ll_xfer_rx_free(struct ll_xfer_rx *rx)
{
	if (rx == NULL)
		return;
	g_source_destroy(rx->src);
	g_source_unref(rx->src);
	atomic_store(&rx->stop, true);
	fd_poke(rx->wake_fd);
	rx_unref(rx);
}
