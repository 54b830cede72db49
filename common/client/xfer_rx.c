/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A received file's decoding, hashing and writing on a worker thread
 * (xfer_rx.h).  The loop and the worker share only what the mutex
 * guards: the queue of handed-over bytes, the counters of the next
 * report and the stop flag.
 */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib.h>

#include "ll_build.h"
#include "ll_err.h"
#include "ll_log.h"
#include "xfer_rx.h"

/* Hashing what a part held reads this much at a time. */
#define RX_HASH_BLOCK (1024u * 1024u)
/* How much nicer than the loop the worker runs (Linux: per thread). */
#define RX_NICE 10

struct item {
	size_t len;
	uint8_t data[];
};

struct ll_xfer_rx {
	gint refs;
	GMutex mu;
	GCond cond;
	GThread *thread;
	GMainContext *ctx;
	ll_xfer_rx_cb cb; /* loop only; NULL once freed */
	void *user;
	/* the worker's alone while it runs */
	int fd;
	uint64_t off;
	struct ll_xfer_dec *dec;
	struct ll_sha256_ctx *sha;
	char *hold; /* test hook: no write while this path exists */
	/* under mu */
	GQueue queue; /* struct item * */
	size_t queued, peak;
	struct ll_xfer_rx_report rep;
	bool stop, notified, changed;
	/* The worker sleeps on cond: only then does a push wake it (GLib's
	 * g_cond_signal is a futex system call every time). */
	bool waiting;
	gint abort; /* stop, seen without mu by hash_part */
};

static void rx_unref(gpointer p)
{
	struct ll_xfer_rx *rx = p;
	struct item *it;

	if (!g_atomic_int_dec_and_test(&rx->refs))
		return;
	while ((it = g_queue_pop_head(&rx->queue)) != NULL)
		g_free(it);
	g_main_context_unref(rx->ctx);
	g_mutex_clear(&rx->mu);
	g_cond_clear(&rx->cond);
	g_free(rx->hold);
	g_free(rx);
}

static gboolean rx_dispatch(gpointer p)
{
	struct ll_xfer_rx *rx = p;

	g_mutex_lock(&rx->mu);
	rx->notified = false;
	g_mutex_unlock(&rx->mu);
	if (rx->cb != NULL)
		rx->cb(rx->user);
	return G_SOURCE_REMOVE;
}

/* Under mu: wake the loop once per batch of news.  An idle source of its
 * own rather than g_main_context_invoke(), which would run the callback
 * on this thread whenever the loop is between iterations. */
static void notify_locked(struct ll_xfer_rx *rx)
{
	GSource *src;

	rx->changed = true;
	if (rx->notified)
		return;
	rx->notified = true;
	g_atomic_int_inc(&rx->refs);
	src = g_idle_source_new();
	g_source_set_priority(src, G_PRIORITY_DEFAULT);
	g_source_set_callback(src, rx_dispatch, rx, rx_unref);
	g_source_attach(src, rx->ctx);
	g_source_unref(src);
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

/* Under mu: whether the worker must wait (nothing queued, or held). */
static bool idle_locked(struct ll_xfer_rx *rx)
{
	if (g_queue_is_empty(&rx->queue))
		return true;
#if LL_TEST_HOOKS
	if (rx->hold != NULL && g_file_test(rx->hold, G_FILE_TEST_EXISTS))
		return true;
#endif
	return false;
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

	while (off < rx->off && !g_atomic_int_get(&rx->abort)) {
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

static gpointer rx_thread(gpointer p)
{
	struct ll_xfer_rx *rx = p;
	enum ll_xfer_rx_end end = LL_XFER_RX_RUNNING;
	struct item *it;
	uint64_t written;
	int err;

	rx_lower_priority();
	err = hash_part(rx);
	g_mutex_lock(&rx->mu);
	if (err != 0)
		end = LL_XFER_RX_WRITE_ERR;
	else if (ll_xfer_dec_remaining(rx->dec) == 0)
		end = LL_XFER_RX_WHOLE; /* the part was the whole file */
	if (end != LL_XFER_RX_RUNNING) {
		rx->rep.end = end;
		rx->rep.err = err;
		notify_locked(rx);
	}
	while (end == LL_XFER_RX_RUNNING) {
		while (!rx->stop && idle_locked(rx)) {
			rx->waiting = true;
			if (rx->hold != NULL) /* the test hook polls */
				g_cond_wait_until(
					&rx->cond, &rx->mu,
					g_get_monotonic_time() +
						10 * G_TIME_SPAN_MILLISECOND);
			else
				g_cond_wait(&rx->cond, &rx->mu);
			rx->waiting = false;
		}
		if (rx->stop)
			break;
		it = g_queue_pop_head(&rx->queue);
		g_mutex_unlock(&rx->mu);
		written = 0;
		err = 0;
		end = process(rx, it, &written, &err);
		g_mutex_lock(&rx->mu);
		/* a whole file with more queued behind it is too long */
		if (end == LL_XFER_RX_WHOLE && !g_queue_is_empty(&rx->queue))
			end = LL_XFER_RX_TOO_LONG;
		rx->queued -= it->len;
		rx->rep.consumed += it->len;
		rx->rep.written += written;
		rx->rep.end = end;
		rx->rep.err = err;
		g_free(it);
		notify_locked(rx);
	}
	g_mutex_unlock(&rx->mu);
	rx_unref(rx);
	return NULL;
}

struct ll_xfer_rx *ll_xfer_rx_new(int fd, uint64_t offset,
				  struct ll_xfer_dec *dec,
				  struct ll_sha256_ctx *sha, ll_xfer_rx_cb cb,
				  void *user)
{
	struct ll_xfer_rx *rx = g_new0(struct ll_xfer_rx, 1);
	GError *error = NULL;

	rx->refs = 2; /* the caller's and the worker's */
	g_mutex_init(&rx->mu);
	g_cond_init(&rx->cond);
	g_queue_init(&rx->queue);
	rx->ctx = g_main_context_ref_thread_default();
	rx->cb = cb;
	rx->user = user;
	rx->fd = fd;
	rx->off = offset;
	rx->dec = dec;
	rx->sha = sha;
#if LL_TEST_HOOKS
	rx->hold = g_strdup(g_getenv("LL_TEST_XFER_HOLD"));
#endif
	rx->thread = g_thread_try_new("ll-xfer-rx", rx_thread, rx, &error);
	if (rx->thread == NULL) {
		ll_warn("file transfer: no worker thread: %s", error->message);
		g_error_free(error);
		rx->refs = 1;
		rx_unref(rx);
		return NULL;
	}
	return rx;
}

size_t ll_xfer_rx_push(struct ll_xfer_rx *rx, const uint8_t *data, size_t len)
{
	struct item *it;
	size_t queued;

	it = g_malloc(sizeof(*it) + len);
	it->len = len;
	memcpy(it->data, data, len);
	g_mutex_lock(&rx->mu);
	g_queue_push_tail(&rx->queue, it);
	rx->queued += len;
	if (rx->queued > rx->peak)
		rx->peak = rx->queued;
	queued = rx->queued;
	if (rx->waiting)
		g_cond_signal(&rx->cond);
	g_mutex_unlock(&rx->mu);
	return queued;
}

bool ll_xfer_rx_take(struct ll_xfer_rx *rx, struct ll_xfer_rx_report *rep)
{
	bool changed;

	g_mutex_lock(&rx->mu);
	changed = rx->changed;
	*rep = rx->rep;
	rep->queued = rx->queued;
	rx->rep.written = 0;
	rx->rep.consumed = 0;
	rx->changed = false;
	g_mutex_unlock(&rx->mu);
	return changed;
}

size_t ll_xfer_rx_peak(struct ll_xfer_rx *rx)
{
	size_t peak;

	g_mutex_lock(&rx->mu);
	peak = rx->peak;
	g_mutex_unlock(&rx->mu);
	return peak;
}

void ll_xfer_rx_free(struct ll_xfer_rx *rx)
{
	if (rx == NULL)
		return;
	rx->cb = NULL;
	g_atomic_int_set(&rx->abort, 1);
	g_mutex_lock(&rx->mu);
	rx->stop = true;
	g_cond_signal(&rx->cond);
	g_mutex_unlock(&rx->mu);
	g_thread_join(rx->thread);
	rx_unref(rx);
}
