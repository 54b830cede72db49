/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The receiving worker of a file transfer (common/client/xfer_rx.c) on
 * its own: a real thread, a real part file, the real encoder's chunks.
 * What the transfer code builds on: the file arrives whole with its
 * SHA-256; a resume hashes what the part held; bytes past the size and
 * data the decoder refuses end it; a take that sees every byte dealt
 * with also sees the end they led to (the loop would otherwise call a
 * whole file interrupted); a live screen puts the worker in the idle
 * scheduling class; stopping never waits for the worker, the process's
 * exit does.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "ll_buf.h"
#include "ll_build.h"
#include "ll_crypto.h"
#include "ll_xfer.h"
#include "xfer_rx.h"

#define DEADLINE_US (20 * G_TIME_SPAN_SECOND)

struct file {
	uint8_t *data;
	size_t len;
	struct ll_buf *wire; /* the encoder's chunks of data[from..len) */
	char *path;
	int fd;
};

/* len bytes, half text (deflated) and half random, encoded from byte
 * `from`; the part file holds data[0..from). */
static void file_init(struct file *f, size_t len, size_t from)
{
	struct ll_xfer_enc *e = ll_xfer_enc_new();
	size_t off, n, i;
	GError *err = NULL;
	int fd;

	f->len = len;
	f->data = g_malloc(len);
	for (i = 0; i < len; i++)
		f->data[i] = i < len / 2 ? "a line\n"[i % 7]
					 : (uint8_t)g_random_int();
	f->wire = ll_buf_new(len + len / 8 + 4096);
	for (off = from; off < len; off += n) {
		n = MIN(len - off, LL_XFER_CHUNK);
		g_assert_cmpint(ll_xfer_enc_chunk(e, f->data + off, n,
						  f->wire),
				==, 0);
	}
	ll_xfer_enc_free(e);
	fd = g_file_open_tmp("xfer-rx-XXXXXX", &f->path, &err);
	g_assert_no_error(err);
	g_assert_cmpint(write(fd, f->data, from), ==, (ssize_t)from);
	f->fd = fd;
}

static void file_clear(struct file *f)
{
	close(f->fd);
	g_unlink(f->path);
	g_free(f->path);
	ll_buf_free(f->wire);
	g_free(f->data);
}

static bool file_holds(const struct file *f)
{
	gchar *got = NULL;
	gsize n = 0;
	bool same;

	g_assert_true(g_file_get_contents(f->path, &got, &n, NULL));
	same = n == f->len && memcmp(got, f->data, n) == 0;
	g_free(got);
	return same;
}

/* Hands the wire over in pieces of `piece` bytes. */
static void push_all(struct ll_xfer_rx *rx, const struct file *f, size_t piece)
{
	const uint8_t *p = ll_buf_data(f->wire);
	size_t len = ll_buf_len(f->wire), off, n;

	for (off = 0; off < len; off += n) {
		n = MIN(len - off, piece);
		(void)ll_xfer_rx_push(rx, p + off, n);
	}
}

/* Takes reports until the worker ends, with every byte counted for a
 * whole file (or until the deadline); the sum of the reports in *sum,
 * the last one's end and hash too. */
static void take_until_end(struct ll_xfer_rx *rx,
			   struct ll_xfer_rx_report *sum)
{
	gint64 end = g_get_monotonic_time() + DEADLINE_US;
	struct ll_xfer_rx_report rep;

	memset(sum, 0, sizeof(*sum));
	do {
		/* the loop's wake-up is not under test here: a busy look */
		g_thread_yield();
		(void)ll_xfer_rx_take(rx, &rep);
		sum->written += rep.written;
		sum->consumed += rep.consumed;
		sum->queued = rep.queued;
		sum->end = rep.end;
		sum->err = rep.err;
		memcpy(sum->sha256, rep.sha256, sizeof(sum->sha256));
		/* the count of the last bytes follows their end */
	} while ((rep.end == LL_XFER_RX_RUNNING ||
		  (rep.end == LL_XFER_RX_WHOLE && rep.queued > 0)) &&
		 g_get_monotonic_time() < end);
}

static void no_cb(void *user)
{
	(void)user;
}

static void test_whole(void)
{
	static const size_t pieces[] = { 1, 1000, 65536, 300000 };
	struct ll_xfer_rx_report sum;
	uint8_t md[LL_SHA256_LEN];
	struct ll_xfer_rx *rx;
	struct file f;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(pieces); i++) {
		file_init(&f, 300000, 0);
		rx = ll_xfer_rx_new(f.fd, 0, f.len, no_cb, NULL);
		g_assert_nonnull(rx);
		push_all(rx, &f, pieces[i]);
		take_until_end(rx, &sum);
		g_assert_cmpint(sum.end, ==, LL_XFER_RX_WHOLE);
		g_assert_cmpuint(sum.written, ==, f.len);
		g_assert_cmpuint(sum.consumed, ==, ll_buf_len(f.wire));
		g_assert_cmpuint(sum.queued, ==, 0);
		g_assert_cmpint(ll_sha256(f.data, f.len, md), ==, 0);
		g_assert_cmpmem(sum.sha256, sizeof(md), md, sizeof(md));
		g_assert_cmpuint(ll_xfer_rx_peak(rx), <=, ll_buf_len(f.wire));
		ll_xfer_rx_free(rx);
		g_assert_true(file_holds(&f));
		file_clear(&f);
	}
}

/* A resume: the part holds the first 100000 bytes; the hash covers them
 * and the rest. */
static void test_resume(void)
{
	struct ll_xfer_rx_report sum;
	uint8_t md[LL_SHA256_LEN];
	struct ll_xfer_rx *rx;
	struct file f;

	file_init(&f, 300000, 100000);
	rx = ll_xfer_rx_new(f.fd, 100000, f.len, no_cb, NULL);
	g_assert_nonnull(rx);
	push_all(rx, &f, 4096);
	take_until_end(rx, &sum);
	g_assert_cmpint(sum.end, ==, LL_XFER_RX_WHOLE);
	g_assert_cmpuint(sum.written, ==, f.len - 100000);
	g_assert_cmpint(ll_sha256(f.data, f.len, md), ==, 0);
	g_assert_cmpmem(sum.sha256, sizeof(md), md, sizeof(md));
	ll_xfer_rx_free(rx);
	g_assert_true(file_holds(&f));
	file_clear(&f);
	/* the part was the whole file already: nothing more to come */
	file_init(&f, 5000, 5000);
	rx = ll_xfer_rx_new(f.fd, 5000, f.len, no_cb, NULL);
	take_until_end(rx, &sum);
	g_assert_cmpint(sum.end, ==, LL_XFER_RX_WHOLE);
	g_assert_cmpint(ll_sha256(f.data, f.len, md), ==, 0);
	g_assert_cmpmem(sum.sha256, sizeof(md), md, sizeof(md));
	ll_xfer_rx_free(rx);
	file_clear(&f);
}

/* A hostile sender: more than the size, or what the decoder refuses. */
static void test_hostile(void)
{
	static const uint8_t junk[64] = { 0xff, 0xff, 0xff, 0xff };
	struct ll_xfer_rx_report sum;
	struct ll_xfer_rx *rx;
	struct file f;

	/* a chunk past the offered size */
	file_init(&f, 300000, 0);
	rx = ll_xfer_rx_new(f.fd, 0, 200000, no_cb, NULL);
	push_all(rx, &f, 65536);
	take_until_end(rx, &sum);
	g_assert_cmpint(sum.end, ==, LL_XFER_RX_BAD_DATA);
	ll_xfer_rx_free(rx);
	/* the whole file, and bytes behind it */
	g_assert_cmpint(ftruncate(f.fd, 0), ==, 0);
	g_assert_cmpint(ll_buf_put(f.wire, junk, sizeof(junk)), ==, 0);
	rx = ll_xfer_rx_new(f.fd, 0, f.len, no_cb, NULL);
	(void)ll_xfer_rx_push(rx, ll_buf_data(f.wire), ll_buf_len(f.wire));
	take_until_end(rx, &sum);
	g_assert_cmpint(sum.end, ==, LL_XFER_RX_TOO_LONG);
	ll_xfer_rx_free(rx);
	file_clear(&f);

	file_init(&f, 1000, 0);
	rx = ll_xfer_rx_new(f.fd, 0, f.len, no_cb, NULL);
	(void)ll_xfer_rx_push(rx, junk, sizeof(junk));
	take_until_end(rx, &sum);
	g_assert_cmpint(sum.end, ==, LL_XFER_RX_BAD_DATA);
	g_assert_cmpint(sum.err, <, 0);
	ll_xfer_rx_free(rx);
	file_clear(&f);
}

/*
 * The loop calls a transfer whose channel closed interrupted when a take
 * shows every byte dealt with and no end.  So the worker must publish
 * the end before the count of the last bytes: a take looking as often as
 * it can catches the worker between the two when the order is wrong
 * (the hash's final step lies between them), in a few of 300 files.
 */
static void test_end_with_last_bytes(void)
{
	struct ll_xfer_rx_report rep;
	struct ll_xfer_rx *rx;
	struct file f;
	size_t pushed;
	gint64 end;
	int i;

	for (i = 0; i < 300; i++) {
		file_init(&f, 3000, 0);
		rx = ll_xfer_rx_new(f.fd, 0, f.len, no_cb, NULL);
		pushed = ll_xfer_rx_push(rx, ll_buf_data(f.wire),
					 ll_buf_len(f.wire));
		g_assert_cmpuint(pushed, <=, ll_buf_len(f.wire));
		end = g_get_monotonic_time() + DEADLINE_US;
		do {
			(void)ll_xfer_rx_take(rx, &rep);
			if (rep.queued == 0)
				g_assert_cmpint(rep.end, ==, LL_XFER_RX_WHOLE);
		} while (rep.queued > 0 && g_get_monotonic_time() < end);
		g_assert_cmpuint(rep.queued, ==, 0);
		ll_xfer_rx_free(rx);
		file_clear(&f);
	}
}

/* The id of a thread of ours called ll-xfer-rx; 0 when there is none. */
static pid_t find_worker(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	pid_t tid = 0;

	g_assert_nonnull(d);
	while (tid == 0 && (e = readdir(d)) != NULL) {
		char *path, *comm = NULL;

		if (e->d_name[0] == '.')
			continue;
		path = g_strdup_printf("/proc/self/task/%s/comm", e->d_name);
		if (g_file_get_contents(path, &comm, NULL, NULL) &&
		    strcmp(g_strchomp(comm), "ll-xfer-rx") == 0)
			tid = (pid_t)atoi(e->d_name);
		g_free(comm);
		g_free(path);
	}
	closedir(d);
	return tid;
}

/* Until the workers of the tests before have gone. */
static void wait_no_worker(void)
{
	gint64 end = g_get_monotonic_time() + DEADLINE_US;

	while (find_worker() != 0 && g_get_monotonic_time() < end)
		g_thread_yield();
	g_assert_cmpint(find_worker(), ==, 0);
}

/* A live screen: the worker moves to the idle class, and keeps writing
 * there. */
static void test_yield(void)
{
	struct ll_xfer_rx_report sum;
	struct ll_xfer_rx *rx;
	struct file f;
	pid_t tid;
	gint64 end;

	wait_no_worker();
	file_init(&f, 300000, 0);
	rx = ll_xfer_rx_new(f.fd, 0, f.len, no_cb, NULL);
	end = g_get_monotonic_time() + DEADLINE_US;
	while ((tid = find_worker()) == 0 && g_get_monotonic_time() < end)
		g_thread_yield();
	g_assert_cmpint(tid, >, 0);
	g_assert_cmpint(sched_getscheduler(tid), ==, SCHED_OTHER);
	ll_xfer_rx_yield(rx);
	/* the worker changes class when it next looks for work */
	(void)ll_xfer_rx_push(rx, ll_buf_data(f.wire), 100);
	while (sched_getscheduler(tid) != SCHED_IDLE &&
	       g_get_monotonic_time() < end)
		g_thread_yield();
	g_assert_cmpint(sched_getscheduler(tid), ==, SCHED_IDLE);
	(void)ll_xfer_rx_push(rx, ll_buf_data(f.wire) + 100,
			      ll_buf_len(f.wire) - 100);
	take_until_end(rx, &sum);
	g_assert_cmpint(sum.end, ==, LL_XFER_RX_WHOLE);
	ll_xfer_rx_free(rx);
	g_assert_true(file_holds(&f));
	file_clear(&f);
}

/* Stopped with bytes queued: free returns, the thread goes by itself. */
static void test_free_running(void)
{
	struct ll_xfer_rx *rx;
	struct file f;

	wait_no_worker();
	file_init(&f, 2u << 20, 0);
	rx = ll_xfer_rx_new(f.fd, 0, f.len, no_cb, NULL);
	push_all(rx, &f, 65536);
	ll_xfer_rx_free(rx);
	wait_no_worker();
	file_clear(&f);
}

/* The files of test_exit's child, removed by exit_check. */
static char *exit_part, *exit_hold;

/* Runs after the worker's exit handler (registered before it): what it
 * left running. */
static void exit_check(void)
{
	g_unlink(exit_part);
	g_unlink(exit_hold);
	if (ll_xfer_rx_live() != 0)
		_exit(3);
}

/* The process exits while a worker is held with a file to write (test
 * hook LL_TEST_XFER_HOLD: while that path exists): the exit stops it and
 * waits for it, before OpenSSL's own exit handler frees what it uses. */
static void test_exit(void)
{
#if LL_TEST_HOOKS
	struct file f;

	if (g_test_subprocess()) {
		struct ll_xfer_rx *rx;

		g_assert_cmpint(atexit(exit_check), ==, 0);
		file_init(&f, 300000, 0);
		exit_part = f.path;
		exit_hold = g_strconcat(f.path, ".hold", NULL);
		g_assert_true(g_file_set_contents(exit_hold, "", 0, NULL));
		g_setenv("LL_TEST_XFER_HOLD", exit_hold, TRUE);
		rx = ll_xfer_rx_new(f.fd, 0, f.len, no_cb, NULL);
		push_all(rx, &f, 65536);
		g_assert_cmpuint(ll_xfer_rx_live(), ==, 1);
		exit(0);
	}
	g_test_trap_subprocess(NULL, 20 * G_USEC_PER_SEC, 0);
	g_test_trap_assert_passed();
#else
	g_test_skip("needs the test hooks (-Dtest_hooks=true)");
#endif
}

/* The loop's wake-up: the callback runs on the creating thread's
 * context with news, and the reports add up to the file. */
struct loop_run {
	struct ll_xfer_rx *rx;
	struct ll_xfer_rx_report sum;
	GMainLoop *loop;
	int calls;
};

static void on_news(void *user)
{
	struct loop_run *r = user;
	struct ll_xfer_rx_report rep;

	r->calls++;
	if (!ll_xfer_rx_take(r->rx, &rep))
		return;
	r->sum.written += rep.written;
	r->sum.end = rep.end;
	if (rep.end != LL_XFER_RX_RUNNING)
		g_main_loop_quit(r->loop);
}

static gboolean on_deadline(gpointer p)
{
	g_main_loop_quit(p);
	return G_SOURCE_REMOVE;
}

static void test_loop(void)
{
	struct loop_run r = { 0 };
	struct file f;
	guint guard;

	file_init(&f, 1u << 20, 0);
	r.loop = g_main_loop_new(NULL, FALSE);
	r.rx = ll_xfer_rx_new(f.fd, 0, f.len, on_news, &r);
	g_assert_nonnull(r.rx);
	push_all(r.rx, &f, 8192);
	guard = g_timeout_add_seconds(20, on_deadline, r.loop);
	g_main_loop_run(r.loop);
	g_source_remove(guard);
	g_assert_cmpint(r.sum.end, ==, LL_XFER_RX_WHOLE);
	g_assert_cmpuint(r.sum.written, ==, f.len);
	g_assert_cmpint(r.calls, >, 0);
	ll_xfer_rx_free(r.rx);
	g_main_loop_unref(r.loop);
	g_assert_true(file_holds(&f));
	file_clear(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/client/xfer-rx/whole", test_whole);
	g_test_add_func("/client/xfer-rx/resume", test_resume);
	g_test_add_func("/client/xfer-rx/hostile", test_hostile);
	g_test_add_func("/client/xfer-rx/end-with-last-bytes",
			test_end_with_last_bytes);
	g_test_add_func("/client/xfer-rx/yield", test_yield);
	g_test_add_func("/client/xfer-rx/free-running", test_free_running);
	g_test_add_func("/client/xfer-rx/loop", test_loop);
	g_test_add_func("/client/xfer-rx/exit", test_exit);
	return g_test_run();
}
