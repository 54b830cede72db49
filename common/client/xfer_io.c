/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * File transfers of one session (ll_xfer_io.h): the bytes, the files and
 * the hashes; the decisions stay with the applet and the agent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "ll_buf.h"
#include "ll_build.h"
#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_log.h"
#include "ll_session_io.h"
#include "ll_text.h"
#include "ll_util.h"
#include "ll_xfer.h"
#include "ll_xfer_io.h"
#include "xfer_rx.h"

/* Offers and requests from the peer waiting for an answer at most: more
 * are refused unseen, so a hostile peer cannot pile up windows. */
#define XFER_MAX_PENDING 8
/* Channels the peer opened for an offer that has not come yet. */
#define XFER_MAX_PREOPEN 16
/* Progress reported at most this often (ms). */
#define XFER_PROGRESS_MS 100
/* Hashing reads this much at a time. */
#define XFER_HASH_BLOCK (1024u * 1024u)
/*
 * The window of a file we receive (ll_mux_widen).  A transfer moves at
 * most a window per round trip, and through the relay that round trip
 * includes every buffer on the way, so the HELLO's window (which the
 * screen keeps) caps a file far below the link.  But every byte of the
 * window may sit queued in front of the screen's own frames going our
 * way (its update requests, its credit), so the window grows only while
 * it holds less than XFER_DELAY_MS of the rate it gets: doubled at each
 * XFER_RATE_MS look, up to XFER_WINDOW_MAX.  On a fast idle link it
 * reaches the cap; on a busy one the queue stays short.  Why so short:
 * an animated screen's update (~600 KiB) needs a request and two or three
 * credit returns, each behind that queue (bench/file-transfer: 20 ms
 * cost the screen 5x its idle p95 on a loaded machine, 5 ms about 2x,
 * with a faster transfer too).  At most
 * XFER_MAX_WIDE transfers grow at once, so the bytes in flight toward us
 * stay bounded (16 MiB).
 */
#define XFER_WINDOW_MAX (4u * 1024u * 1024u)
#define XFER_DELAY_MS 5
#define XFER_RATE_MS 100
#define XFER_MAX_WIDE 4
/* Names tried when NAME exists: "NAME (2)" .. "NAME (99)". */
#define XFER_MAX_TWIN 99
#define LL_XFER_MIN_U64(a, b) ((a) < (uint64_t)(b) ? (a) : (uint64_t)(b))

struct hash_job;

struct ll_xfer {
	struct ll_xfer_set *set;
	enum ll_xfer_dir dir;
	enum ll_xfer_state state;
	enum ll_file_cancel_reason reason;
	bool by_peer;
	uint16_t channel; /* 0: none (yet) */
	char *name;       /* out: basename; in: as offered */
	char *shown;      /* printable name */
	char *saved;      /* in: the name it got */
	char sha[65];
	uint64_t size, done, run_from;
	int64_t run_ms;  /* monotonic start of this run */
	int64_t last_ms; /* last progress report */
	uint32_t request;
	bool wide;       /* in: our window may grow (XFER_MAX_WIDE) */
	uint32_t window; /* in: the window we grant now */
	int64_t win_ms;  /* in: start of the current rate look */
	uint64_t win_done;
	char *outcome;
	void *user;

	/* out */
	int fd;
	bool sourcing; /* the channel's source (source_read) is ours */
	uint8_t *rbuf; /* one chunk read from the file */
	struct ll_xfer_enc *enc;
	struct ll_buf *pend; /* encoded, not yet taken by the pump */
	uint64_t read_off;
	struct hash_job *job;

	/* in */
	int dirfd;
	int partfd;
	char *part; /* ".SAFE.SHA16.lifeline-part" */
	char *safe;
	struct ll_xfer_rx *rx; /* the worker that writes (xfer_rx.h) */
	bool peer_closed;      /* the channel ended; the worker drains */
	bool told_full;        /* test hook: the queue held a window */
};

struct ll_xfer_set {
	struct ll_session_io *io;
	struct ll_xfer_set_cbs cbs;
	void *user;
	GPtrArray *all; /* struct ll_xfer *, owned */
	uint16_t preopen[XFER_MAX_PREOPEN];
	size_t n_preopen;
	uint32_t next_request;
	GArray *asked;  /* uint32_t: our file_requests without answer */
	GArray *theirs; /* uint32_t: the peer's requests without answer */
};

static void changed(struct ll_xfer *x, bool force)
{
	int64_t now = ll_now_mono_ms();

	if (!force && now - x->last_ms < XFER_PROGRESS_MS)
		return;
	x->last_ms = now;
	if (x->set->cbs.on_changed != NULL)
		x->set->cbs.on_changed(x->set, x, x->set->user);
}

static void send_ctl(struct ll_xfer_set *set, const struct ll_control_msg *m)
{
	int r;

	if (set->io == NULL)
		return;
	if ((r = ll_session_io_send_control(set->io, m)) != 0)
		ll_warn("file transfer: cannot send %s: %s",
			ll_control_type_name(m->type), ll_strerror(r));
}

static void send_cancel(struct ll_xfer *x, enum ll_file_cancel_reason why)
{
	struct ll_control_msg m = { .type = LL_CONTROL_FILE_CANCEL };

	if (x->channel == 0)
		return;
	m.u.file_cancel.channel = x->channel;
	m.u.file_cancel.reason = why;
	send_ctl(x->set, &m);
}

/* The receiving worker stops (what it holds unwritten is dropped): from
 * here on the loop alone uses the decoder, the hash and the part. */
static void stop_rx(struct ll_xfer *x)
{
	if (x->rx == NULL)
		return;
#if LL_TEST_HOOKS
	ll_info("test: file transfer to %s: at most %zu bytes were queued",
		x->shown, ll_xfer_rx_peak(x->rx));
#endif
	LL_FREE_AND_NULL(ll_xfer_rx_free, x->rx);
}

/* Stop moving bytes; files and channel ids stay. */
static void stop_io(struct ll_xfer *x)
{
	stop_rx(x);
	if (x->sourcing) {
		/* the source goes with its channel, now: not a byte more */
		x->sourcing = false;
		if (x->set->io != NULL && x->channel != 0)
			ll_session_io_channel_close(x->set->io, x->channel);
	}
	if (x->pend != NULL)
		ll_buf_reset(x->pend);
	if (x->partfd >= 0) {
		close(x->partfd);
		x->partfd = -1;
	}
}

static void remove_part(struct ll_xfer *x)
{
	if (x->part != NULL && x->dirfd >= 0)
		unlinkat(x->dirfd, x->part, 0);
}

static void finish(struct ll_xfer *x, enum ll_xfer_state st,
		   enum ll_file_cancel_reason why, bool by_peer,
		   const char *outcome)
{
	stop_io(x);
	if (x->dir == LL_XFER_OUT && x->channel != 0 && x->set->io != NULL &&
	    st == LL_XFER_FAILED)
		ll_session_io_channel_close(x->set->io, x->channel);
	x->state = st;
	x->reason = why;
	x->by_peer = by_peer;
	g_free(x->outcome);
	x->outcome = g_strdup(outcome);
	ll_info("file transfer %s %s: %s", x->dir == LL_XFER_OUT ? "of" : "to",
		x->shown, outcome);
	if (x->set->cbs.on_finished != NULL)
		x->set->cbs.on_finished(x->set, x, x->set->user);
	changed(x, true);
}

static void fail(struct ll_xfer *x, enum ll_file_cancel_reason why,
		 const char *outcome)
{
	send_cancel(x, why);
	if (x->dir == LL_XFER_IN)
		remove_part(x);
	finish(x, LL_XFER_FAILED, why, false, outcome);
}

static void xfer_free(gpointer p);

static struct ll_xfer *xfer_new(struct ll_xfer_set *set, enum ll_xfer_dir dir,
				const char *name)
{
	struct ll_xfer *x = g_new0(struct ll_xfer, 1);

	x->set = set;
	x->dir = dir;
	x->fd = x->dirfd = x->partfd = -1;
	x->name = g_strdup(name);
	x->shown = ll_text_printable_new(name, strlen(name),
					 LL_CONTROL_MAX_FILENAME * 3);
	if (x->shown == NULL)
		x->shown = g_strdup("?");
	g_ptr_array_add(set->all, x);
	return x;
}

static void cancel_request(struct ll_xfer_set *set, uint32_t id,
			   enum ll_file_cancel_reason why)
{
	struct ll_control_msg m = { .type = LL_CONTROL_FILE_CANCEL };

	m.u.file_cancel.request = id;
	m.u.file_cancel.reason = why;
	send_ctl(set, &m);
}

static bool take_id(GArray *a, uint32_t id);
static void on_rx(void *user);

/* ---- sending ---- */

struct hash_job {
	struct ll_xfer *x; /* NULL once the transfer went away */
	int fd;
	char hex[65];
	int err;
};

static void hash_thread(GTask *task, gpointer src, gpointer data,
			GCancellable *cancel)
{
	struct hash_job *job = data;
	struct ll_sha256_ctx *ctx = ll_sha256_new();
	uint8_t *buf = g_malloc(XFER_HASH_BLOCK), md[LL_SHA256_LEN];
	uint64_t off = 0;
	ssize_t n;
	char *hex;

	job->err = ctx != NULL ? LL_OK : LL_ERR_NOMEM;
	while (job->err == LL_OK &&
	       (n = pread(job->fd, buf, XFER_HASH_BLOCK, (off_t)off)) != 0) {
		if (n < 0) {
			if (errno != EINTR)
				job->err = LL_ERR_IO;
			continue;
		}
		job->err = ll_sha256_update(ctx, buf, (size_t)n);
		off += (uint64_t)n;
	}
	if (job->err == LL_OK &&
	    (job->err = ll_sha256_final(ctx, md)) == LL_OK) {
		hex = ll_hex_new(md, sizeof(md));
		if (hex == NULL)
			job->err = LL_ERR_NOMEM;
		else
			g_strlcpy(job->hex, hex, sizeof(job->hex));
		free(hex);
	}
	ll_sha256_free(ctx);
	g_free(buf);
	g_task_return_boolean(task, TRUE);
}

static void offer(struct ll_xfer *x)
{
	struct ll_control_msg m = { .type = LL_CONTROL_FILE_OFFER };
	int r;

	if (x->set->io == NULL) {
		x->state = LL_XFER_INTERRUPTED;
		return;
	}
	if ((r = ll_session_io_channel_open_next(x->set->io, &x->channel)) !=
	    0) {
		x->channel = 0;
		fail(x, LL_FILE_FAILED, "no channel free for the transfer");
		return;
	}
	m.u.file_offer.channel = x->channel;
	m.u.file_offer.name = x->name;
	m.u.file_offer.size = x->size;
	memcpy(m.u.file_offer.sha256, x->sha, sizeof(x->sha));
	m.u.file_offer.request = x->request;
	x->state = LL_XFER_OFFERED;
	send_ctl(x->set, &m);
	changed(x, true);
}

static void hash_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct hash_job *job = g_task_get_task_data(G_TASK(res));
	struct ll_xfer *x = job->x;

	if (x == NULL)
		return;
	x->job = NULL;
	if (job->err != LL_OK) {
		fail(x, LL_FILE_FAILED, "the file could not be read");
		return;
	}
	memcpy(x->sha, job->hex, sizeof(x->sha));
	offer(x);
}

static void job_free(gpointer p)
{
	struct hash_job *job = p;

	if (job->fd >= 0)
		close(job->fd);
	g_free(job);
}

int ll_xfer_send_file(struct ll_xfer_set *set, const char *path,
		      uint32_t request, struct ll_xfer **out)
{
	struct ll_xfer *x;
	struct hash_job *job;
	struct stat st;
	GTask *task;
	char *base;
	int fd;

	if (set == NULL || path == NULL ||
	    (request != 0 && !take_id(set->theirs, request)))
		return LL_ERR_INVALID_ARG;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? LL_ERR_NOT_FOUND : LL_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > LL_CONTROL_MAX_SIZE) {
		close(fd);
		return LL_ERR_INVALID_ARG;
	}
	base = g_path_get_basename(path);
	/* the name the peer sees must pass its parser: our own rule */
	{
		char safe[LL_XFER_NAME_MAX + 1];

		ll_xfer_safe_name(base, safe, sizeof(safe));
		x = xfer_new(set, LL_XFER_OUT, safe);
	}
	g_free(base);
	x->fd = fd;
	x->size = (uint64_t)st.st_size;
	x->request = request;
	x->state = LL_XFER_HASHING;
	job = g_new0(struct hash_job, 1);
	job->x = x;
	job->fd = dup(fd);
	x->job = job;
	task = g_task_new(NULL, NULL, hash_done, NULL);
	g_task_set_task_data(task, job, job_free);
	g_task_run_in_thread(task, hash_thread);
	g_object_unref(task);
	if (out != NULL)
		*out = x;
	return LL_OK;
}

/*
 * The pump wants up to len more bytes of the channel (it has credit and
 * room): encode what the file has, straight from the file into the
 * frame's buffer.  0 once everything is on its way (the channel closes
 * then; file_done ends us).
 */
static ssize_t source_read(void *user, uint8_t *out, size_t len)
{
	struct ll_xfer *x = user;
	size_t got = 0, n, want;
	int r;

	while (got < len) {
		if ((n = ll_buf_len(x->pend)) > 0) {
			n = n < len - got ? n : len - got;
			memcpy(out + got, ll_buf_data(x->pend), n);
			ll_buf_consume(x->pend, n);
			got += n;
			continue;
		}
		if (x->read_off == x->size)
			break;
		want = (size_t)LL_XFER_MIN_U64(x->size - x->read_off,
					       LL_XFER_CHUNK);
		if (pread(x->fd, x->rbuf, want, (off_t)x->read_off) ==
		    (ssize_t)want)
			r = ll_xfer_enc_chunk(x->enc, x->rbuf, want, x->pend);
		else
			r = LL_ERR_IO;
		if (r != 0) {
			fail(x, LL_FILE_FAILED,
			     "the file changed or could not be read");
			return LL_ERR_IO;
		}
		x->read_off += want;
		x->done = x->read_off;
	}
	if (got == 0)
		x->sourcing = false; /* the pump closes the channel */
	changed(x, got == 0);
	return (ssize_t)got;
}

static void start_sending(struct ll_xfer *x, uint64_t offset)
{
	struct ll_session_io_source src = { .read = source_read, .user = x };
	int r;

	if (offset > x->size) {
		fail(x, LL_FILE_FAILED,
		     "the other side asked for a resume "
		     "point past the end");
		return;
	}
	if (x->enc == NULL)
		x->enc = ll_xfer_enc_new();
	if (x->pend == NULL)
		x->pend = ll_buf_new(LL_XFER_CHUNK + LL_XFER_HDR + 64);
	if (x->rbuf == NULL)
		x->rbuf = g_try_malloc(LL_XFER_CHUNK);
	if (x->enc == NULL || x->pend == NULL || x->rbuf == NULL) {
		fail(x, LL_FILE_FAILED, "out of resources");
		return;
	}
	ll_buf_reset(x->pend);
	x->read_off = x->done = x->run_from = offset;
	if ((r = ll_session_io_bridge_source(x->set->io, x->channel, &src)) !=
	    0) {
		fail(x, LL_FILE_FAILED, "the channel could not be set up");
		return;
	}
	x->sourcing = true;
	x->run_ms = ll_now_mono_ms();
	x->state = LL_XFER_RUNNING;
	if (offset > 0)
		ll_info("file transfer of %s resumes at byte %" G_GUINT64_FORMAT,
			x->shown, offset);
	changed(x, true);
}

/* ---- receiving ---- */

/* What a part holds already is the resume point (the worker hashes it
 * first, off the loop).  A part that is not a plain file of ours, or is
 * longer than the offer, starts again from 0. */
static int open_part(struct ll_xfer *x, uint64_t *offset)
{
	struct stat st;
	int fd;

	*offset = 0;
	fd = openat(x->dirfd, x->part,
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		fd = openat(x->dirfd, x->part,
			    O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return LL_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_uid != geteuid()) {
		close(fd);
		return LL_ERR_IO;
	}
	if ((uint64_t)st.st_size > x->size) {
		if (ftruncate(fd, 0) != 0) {
			close(fd);
			return LL_ERR_IO;
		}
		st.st_size = 0;
	}
	x->partfd = fd;
	*offset = (uint64_t)st.st_size;
	return LL_OK;
}

/* The part is whole and its hash matched: give it its name, never over
 * a file that exists. */
static int place(struct ll_xfer *x)
{
	const char *dot = strrchr(x->safe, '.');
	size_t stem = dot != NULL && dot != x->safe ? (size_t)(dot - x->safe)
						    : strlen(x->safe);
	char *name;
	int i;

	for (i = 1; i <= XFER_MAX_TWIN; i++) {
		if (i == 1)
			name = g_strdup(x->safe);
		else
			name = g_strdup_printf("%.*s (%d)%s", (int)stem,
					       x->safe, i, x->safe + stem);
		if (renameat2(x->dirfd, x->part, x->dirfd, name,
			      RENAME_NOREPLACE) == 0) {
			g_free(x->saved);
			x->saved = name;
			return LL_OK;
		}
		g_free(name);
		if (errno != EEXIST)
			return LL_ERR_IO;
	}
	return LL_ERR_CONFLICT;
}

/* Every byte is written; md is their SHA-256 (the worker's). */
static void complete(struct ll_xfer *x, const uint8_t md[LL_SHA256_LEN])
{
	struct ll_control_msg m = { .type = LL_CONTROL_FILE_DONE };
	char *hex, *text;

	stop_rx(x);
	hex = ll_hex_new(md, LL_SHA256_LEN);
	if (hex == NULL || strcmp(hex, x->sha) != 0) {
		free(hex);
		fail(x, LL_FILE_BAD_HASH,
		     "the file arrived damaged (SHA-256 mismatch); nothing "
		     "was saved");
		return;
	}
	free(hex);
	close(x->partfd);
	x->partfd = -1;
	if (place(x) != LL_OK) {
		fail(x, LL_FILE_FAILED,
		     "the file could not be given its name");
		return;
	}
	m.u.file_done.channel = x->channel;
	send_ctl(x->set, &m);
	text = g_strdup_printf("saved as %s (SHA-256 verified)", x->saved);
	finish(x, LL_XFER_DONE, 0, false, text);
	g_free(text);
}

/* Our incoming transfers running on a widened channel. */
static unsigned n_wide(const struct ll_xfer_set *set)
{
	unsigned n = 0;
	guint i;

	for (i = 0; i < set->all->len; i++) {
		const struct ll_xfer *x = g_ptr_array_index(set->all, i);

		n += x->wide && x->state == LL_XFER_RUNNING;
	}
	return n;
}

/* The channel we are about to accept on may get a larger window (past
 * the cap it keeps the HELLO's). */
static void widen_start(struct ll_xfer *x)
{
	x->wide = n_wide(x->set) < XFER_MAX_WIDE;
	x->window = LL_MUX_DEFAULT_WINDOW;
	x->win_ms = ll_now_mono_ms();
	x->win_done = x->done;
}

/* Every XFER_RATE_MS of a running transfer: double the window while it
 * holds less than XFER_DELAY_MS of the rate it gets (see above). */
static void widen_more(struct ll_xfer *x)
{
	int64_t now = ll_now_mono_ms(), ms = now - x->win_ms;
	uint64_t bytes = x->done - x->win_done;
	uint32_t next;
	int r;

	if (!x->wide || ms < XFER_RATE_MS || x->window >= XFER_WINDOW_MAX)
		return;
	x->win_ms = now;
	x->win_done = x->done;
	/* window / rate < delay, in whole numbers */
	if ((uint64_t)x->window * (uint64_t)ms >= bytes * XFER_DELAY_MS)
		return;
	next = x->window * 2 < XFER_WINDOW_MAX ? x->window * 2
					       : XFER_WINDOW_MAX;
	r = ll_session_io_channel_widen(x->set->io, x->channel, next);
	if (r != 0) {
		ll_warn("file transfer to %s: window stays at %u: %s",
			x->shown, x->window, ll_strerror(r));
		x->wide = false;
		return;
	}
	x->window = next;
}

int ll_xfer_accept(struct ll_xfer *x, int dirfd, const char *name)
{
	struct ll_control_msg m = { .type = LL_CONTROL_FILE_ACCEPT };
	char safe[LL_XFER_NAME_MAX + 1];
	uint64_t offset;

	if (x == NULL || x->dir != LL_XFER_IN || x->state != LL_XFER_OFFERED ||
	    dirfd < 0)
		return LL_ERR_INVALID_ARG;
	if (x->set->io == NULL)
		return LL_ERR_CLOSED;
	if (x->dirfd < 0 && (x->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0)) < 0)
		return LL_ERR_IO;
	if (x->safe == NULL) {
		ll_xfer_safe_name(name != NULL ? name : x->name, safe,
				  sizeof(safe));
		x->safe = g_strdup(safe);
		x->part = g_strdup_printf(".%s.%.16s.lifeline-part", x->safe,
					  x->sha);
	}
	if (open_part(x, &offset) != LL_OK) {
		fail(x, LL_FILE_FAILED, "the file could not be created");
		return LL_ERR_IO;
	}
	x->rx = ll_xfer_rx_new(x->partfd, offset, x->size, on_rx, x);
	if (x->rx == NULL) {
		fail(x, LL_FILE_FAILED, "out of memory");
		return LL_ERR_NOMEM;
	}
	x->peer_closed = false;
	x->told_full = false;
	x->done = x->run_from = offset;
	x->run_ms = ll_now_mono_ms();
	widen_start(x);
	x->state = LL_XFER_RUNNING;
	m.u.file_accept.channel = x->channel;
	m.u.file_accept.offset = offset;
	send_ctl(x->set, &m);
	if (offset > 0)
		ll_info("file transfer to %s resumes at byte %" G_GUINT64_FORMAT,
			x->shown, offset);
	changed(x, true);
	return LL_OK;
}

int ll_xfer_refuse(struct ll_xfer *x, enum ll_file_cancel_reason why)
{
	if (x == NULL || x->dir != LL_XFER_IN || x->state != LL_XFER_OFFERED)
		return LL_ERR_INVALID_ARG;
	send_cancel(x, why);
	finish(x, LL_XFER_FAILED, why, false, "refused");
	return LL_OK;
}

int ll_xfer_cancel(struct ll_xfer *x)
{
	if (x == NULL || x->state == LL_XFER_DONE ||
	    x->state == LL_XFER_FAILED)
		return LL_ERR_INVALID_ARG;
	if (x->job != NULL) {
		x->job->x = NULL;
		x->job = NULL;
	}
	fail(x, LL_FILE_CANCELLED, "cancelled here");
	return LL_OK;
}

/* Channel bytes of a running incoming transfer: handed to the worker as
 * they came, and kept (the peer's credit stays taken) until it has
 * written them; the worker's queue thus never holds more than the
 * channel's window, however slow the disk. */
static void receive(struct ll_xfer *x, const uint8_t *data, size_t len)
{
	size_t queued = ll_xfer_rx_push(x->rx, data, len);

	ll_session_io_channel_keep(x->set->io);
	if (ll_session_io_screen_live(x->set->io) && ll_xfer_rx_yield(x->rx)) {
#if LL_TEST_HOOKS
		ll_info("test: file transfer to %s: the worker gives way to "
			"the screen",
			x->shown);
#endif
	}
#if LL_TEST_HOOKS
	if (queued >= x->window && !x->told_full) {
		x->told_full = true;
		ll_info("test: file transfer to %s: %zu bytes queued, the "
			"window's worth",
			x->shown, queued);
	}
#else
	(void)queued;
#endif
}

/* The channel ended before the file was whole: keep the part for a
 * resume. */
static void interrupt(struct ll_xfer *x)
{
	stop_io(x);
	x->state = LL_XFER_INTERRUPTED;
	x->channel = 0; /* the id is free again */
	changed(x, true);
}

/* A sentence for the user about a failed write (errno err). */
static void write_failed(struct ll_xfer *x, int err)
{
	char *text;

	ll_warn("file transfer to %s: cannot write the part: %s", x->shown,
		g_strerror(err));
	if (err == ENOSPC || err == EDQUOT)
		text = g_strdup("the disk is full; the file was not saved");
	else
		text = g_strdup_printf("the file could not be written (%s); "
				       "it was not saved",
				       g_strerror(err));
	fail(x, LL_FILE_FAILED, text);
	g_free(text);
}

/* On the loop: what the worker did since its last report. */
static void on_rx(void *user)
{
	struct ll_xfer *x = user;
	struct ll_xfer_rx_report rep;

	if (x->rx == NULL)
		return;
	/* also without news: the channel's close asks whether it is over */
	(void)ll_xfer_rx_take(x->rx, &rep);
	x->done += rep.written;
	/* credit only for bytes on disk; none for a channel that ended
	 * (its id may be the peer's again) */
	if (rep.consumed > 0 && x->set->io != NULL && !x->peer_closed)
		(void)ll_session_io_channel_consume(x->set->io, x->channel,
						    rep.consumed);
	switch (rep.end) {
	case LL_XFER_RX_RUNNING:
		if (x->peer_closed && rep.queued == 0) {
			interrupt(x);
			return;
		}
		widen_more(x);
		changed(x, false);
		return;
	case LL_XFER_RX_WHOLE:
		complete(x, rep.sha256);
		return;
	case LL_XFER_RX_WRITE_ERR:
		write_failed(x, rep.err);
		return;
	case LL_XFER_RX_BAD_DATA:
		ll_warn("file transfer to %s: bad chunk: %s", x->shown,
			ll_strerror(rep.err));
		fail(x, LL_FILE_FAILED,
		     "the other side sent data the transfer refuses");
		return;
	case LL_XFER_RX_TOO_LONG:
		fail(x, LL_FILE_FAILED,
		     "the other side sent more than the file's size");
		return;
	}
}

/* ---- the set ---- */

static void xfer_free(gpointer p)
{
	struct ll_xfer *x = p;

	if (x->job != NULL)
		x->job->x = NULL;
	stop_io(x);
	if (x->fd >= 0)
		close(x->fd);
	if (x->dirfd >= 0)
		close(x->dirfd);
	ll_xfer_enc_free(x->enc);
	ll_buf_free(x->pend);
	g_free(x->rbuf);
	g_free(x->name);
	free(x->shown);
	g_free(x->saved);
	g_free(x->outcome);
	g_free(x->part);
	g_free(x->safe);
	g_free(x);
}

struct ll_xfer_set *ll_xfer_set_new(const struct ll_xfer_set_cbs *cbs,
				    void *user)
{
	struct ll_xfer_set *set = g_new0(struct ll_xfer_set, 1);

	if (cbs != NULL)
		set->cbs = *cbs;
	set->user = user;
	set->all = g_ptr_array_new_with_free_func(xfer_free);
	set->asked = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	set->theirs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	set->next_request = 1;
	return set;
}

void ll_xfer_set_free(struct ll_xfer_set *set)
{
	if (set == NULL)
		return;
	g_ptr_array_unref(set->all);
	g_array_unref(set->asked);
	g_array_unref(set->theirs);
	g_free(set);
}

static bool live(const struct ll_xfer *x)
{
	return x->state == LL_XFER_OFFERED || x->state == LL_XFER_RUNNING ||
	       x->state == LL_XFER_HASHING;
}

void ll_xfer_set_attach(struct ll_xfer_set *set, struct ll_session_io *io)
{
	struct ll_xfer *x;
	guint i;

	set->n_preopen = 0;
	set->io = io;
	for (i = 0; i < set->all->len; i++) {
		x = g_ptr_array_index(set->all, i);
		if (io == NULL &&
		    (x->state == LL_XFER_RUNNING ||
		     (x->state == LL_XFER_OFFERED && x->dir == LL_XFER_OUT))) {
			/* the stream is gone and the channel with it: keep
			 * the part, pick up where it stopped */
			stop_io(x);
			x->state = LL_XFER_INTERRUPTED;
			x->channel = 0;
			changed(x, true);
		} else if (io != NULL && x->dir == LL_XFER_OUT &&
			   x->state == LL_XFER_INTERRUPTED) {
			offer(x);
		}
	}
}

static bool live(const struct ll_xfer *x);

/* The transfer on a channel: a live one first (ids are used again), else
 * the latest that ended there (data still in flight after a cancel). */
static struct ll_xfer *find(struct ll_xfer_set *set, uint16_t channel,
			    enum ll_xfer_dir dir)
{
	struct ll_xfer *x, *ended = NULL;
	guint i;

	if (channel == 0)
		return NULL;
	for (i = set->all->len; i-- > 0;) {
		x = g_ptr_array_index(set->all, i);
		if (x->channel != channel || x->dir != dir)
			continue;
		if (live(x))
			return x;
		if (ended == NULL)
			ended = x;
	}
	return ended;
}

static bool peer_parity(const struct ll_xfer_set *set, uint16_t channel)
{
	/* the applet opens odd ids, the agent even ones (ll_mux.h) */
	bool peer_odd = ll_session_io_side(set->io) == LL_SIDE_AGENT;

	return channel >= 2 && (channel % 2 == 1) == peer_odd;
}

static unsigned n_pending(const struct ll_xfer_set *set)
{
	unsigned n = set->theirs->len;
	guint i;

	for (i = 0; i < set->all->len; i++) {
		const struct ll_xfer *x = g_ptr_array_index(set->all, i);

		n += x->dir == LL_XFER_IN && x->state == LL_XFER_OFFERED;
	}
	return n;
}

static void on_offer(struct ll_xfer_set *set, const struct ll_control_msg *m)
{
	const char *sha = m->u.file_offer.sha256;
	struct ll_xfer *x, *old = NULL;
	guint i;

	x = find(set, m->u.file_offer.channel, LL_XFER_IN);
	if (!peer_parity(set, m->u.file_offer.channel) ||
	    (x != NULL && live(x))) {
		ll_warn("file transfer: refused an offer on channel %u (not "
			"the other side's, or in use)",
			(unsigned)m->u.file_offer.channel);
		return;
	}
	/* the same file again after a lost stream: resume it */
	for (i = 0; i < set->all->len && old == NULL; i++) {
		x = g_ptr_array_index(set->all, i);
		if (x->dir == LL_XFER_IN && strcmp(x->sha, sha) == 0 &&
		    x->size == m->u.file_offer.size &&
		    strcmp(x->name, m->u.file_offer.name) == 0 &&
		    (x->state == LL_XFER_INTERRUPTED ||
		     (x->state == LL_XFER_OFFERED && x->channel == 0)))
			old = x;
	}
	if (old != NULL) {
		old->channel = m->u.file_offer.channel;
		if (old->state == LL_XFER_INTERRUPTED) {
			old->state = LL_XFER_OFFERED;
			ll_xfer_accept(old, old->dirfd, NULL);
		}
		changed(old, true);
		return;
	}
	x = xfer_new(set, LL_XFER_IN, m->u.file_offer.name);
	x->channel = m->u.file_offer.channel;
	x->size = m->u.file_offer.size;
	x->request = m->u.file_offer.request;
	memcpy(x->sha, sha, sizeof(x->sha));
	x->state = LL_XFER_OFFERED;
	if (x->request != 0 && !take_id(set->asked, x->request))
		x->request = 0; /* answers nothing we asked */
	if (n_pending(set) > XFER_MAX_PENDING) {
		ll_xfer_refuse(x, LL_FILE_REFUSED);
		return;
	}
	if (set->cbs.on_offer != NULL)
		set->cbs.on_offer(set, x, set->user);
	else
		ll_xfer_refuse(x, LL_FILE_REFUSED);
}

static bool take_id(GArray *a, uint32_t id)
{
	guint i;

	for (i = 0; i < a->len; i++) {
		if (g_array_index(a, uint32_t, i) == id) {
			g_array_remove_index(a, i);
			return true;
		}
	}
	return false;
}

static void on_cancel(struct ll_xfer_set *set, const struct ll_control_msg *m)
{
	struct ll_xfer *x;
	const char *rn = ll_file_cancel_reason_name(m->u.file_cancel.reason);
	char *text;

	if (m->u.file_cancel.channel == 0) {
		uint32_t id = m->u.file_cancel.request;

		/* ours refused, or theirs taken back; else an answer to
		 * nothing pending: dropped */
		if (take_id(set->asked, id)) {
			if (set->cbs.on_request_refused != NULL)
				set->cbs.on_request_refused(set, id,
							    set->user);
		} else if (take_id(set->theirs, id) &&
			   set->cbs.on_request_withdrawn != NULL) {
			set->cbs.on_request_withdrawn(set, id, set->user);
		}
		return;
	}
	/* ours (we send on it) first, then theirs */
	x = find(set, m->u.file_cancel.channel, LL_XFER_OUT);
	if (x == NULL || !live(x))
		x = find(set, m->u.file_cancel.channel, LL_XFER_IN);
	if (x == NULL || !live(x))
		return;
	if (x->dir == LL_XFER_IN)
		remove_part(x);
	text = g_strdup_printf("%s by the other side", rn);
	finish(x, LL_XFER_FAILED, m->u.file_cancel.reason, true, text);
	g_free(text);
}

bool ll_xfer_set_control(struct ll_xfer_set *set,
			 const struct ll_control_msg *m)
{
	struct ll_xfer *x;
	uint32_t id;

	switch (m->type) {
	case LL_CONTROL_FILE_OFFER:
		on_offer(set, m);
		return true;
	case LL_CONTROL_FILE_ACCEPT:
		x = find(set, m->u.file_accept.channel, LL_XFER_OUT);
		if (x != NULL && x->state == LL_XFER_OFFERED)
			start_sending(x, m->u.file_accept.offset);
		return true;
	case LL_CONTROL_FILE_DONE:
		x = find(set, m->u.file_done.channel, LL_XFER_OUT);
		if (x != NULL && x->state == LL_XFER_RUNNING &&
		    x->read_off == x->size)
			finish(x, LL_XFER_DONE, 0, false,
			       "delivered (SHA-256 verified by the other "
			       "side)");
		return true;
	case LL_CONTROL_FILE_CANCEL:
		on_cancel(set, m);
		return true;
	case LL_CONTROL_FILE_REQUEST:
		id = m->u.file_request.id;
		if (set->theirs->len >= XFER_MAX_PENDING ||
		    set->cbs.on_request == NULL) {
			cancel_request(set, id, LL_FILE_REFUSED);
			return true;
		}
		g_array_append_val(set->theirs, id);
		{
			char *shown = ll_text_printable_new(
				m->u.file_request.name,
				strlen(m->u.file_request.name),
				LL_CONTROL_MAX_FILENAME * 3);

			set->cbs.on_request(set, id, shown ? shown : "?",
					    set->user);
			free(shown);
		}
		return true;
	default:
		return false;
	}
}

bool ll_xfer_set_channel_open(struct ll_xfer_set *set, uint16_t channel)
{
	if (set->io == NULL || !peer_parity(set, channel) ||
	    set->n_preopen >= XFER_MAX_PREOPEN)
		return false;
	/* the offer that names it follows on channel 0 */
	set->preopen[set->n_preopen++] = channel;
	return true;
}

bool ll_xfer_set_channel_data(struct ll_xfer_set *set, uint16_t channel,
			      const uint8_t *data, size_t len)
{
	struct ll_xfer *x = find(set, channel, LL_XFER_IN);

	if (x == NULL)
		return false;
	if (x->state == LL_XFER_RUNNING && x->rx != NULL && !x->peer_closed)
		receive(x, data, len);
	else if (x->state == LL_XFER_OFFERED)
		/* nothing may come before our accept */
		fail(x, LL_FILE_FAILED,
		     "the other side sent data before the file was accepted");
	/* after a cancel: what was in flight is dropped */
	return true;
}

bool ll_xfer_set_channel_close(struct ll_xfer_set *set, uint16_t channel)
{
	struct ll_xfer *x = find(set, channel, LL_XFER_IN);
	size_t i;

	for (i = 0; i < set->n_preopen; i++) {
		if (set->preopen[i] == channel) {
			set->preopen[i] = set->preopen[--set->n_preopen];
			break;
		}
	}
	if (x == NULL)
		x = find(set, channel, LL_XFER_OUT);
	if (x == NULL)
		return false;
	if (x->dir == LL_XFER_OUT)
		x->sourcing = false; /* its source went with the channel */
	if (x->state == LL_XFER_RUNNING && x->dir == LL_XFER_IN &&
	    x->rx != NULL) {
		/* What came before the close is the worker's still: it may
		 * complete the file.  Once it has written everything, a file
		 * short of its size is kept for a resume (on_rx). */
		x->peer_closed = true;
		on_rx(x);
	}
	/* the id is free again: nothing more comes for this one */
	if (!live(x))
		x->channel = 0;
	return true;
}

int ll_xfer_request(struct ll_xfer_set *set, const char *name, uint32_t *id)
{
	struct ll_control_msg m = { .type = LL_CONTROL_FILE_REQUEST };
	int r;

	if (set->io == NULL)
		return LL_ERR_CLOSED;
	m.u.file_request.id = set->next_request;
	m.u.file_request.name = (char *)name;
	if ((r = ll_session_io_send_control(set->io, &m)) != 0)
		return r;
	g_array_append_val(set->asked, set->next_request);
	if (id != NULL)
		*id = set->next_request;
	set->next_request++;
	return LL_OK;
}

int ll_xfer_withdraw_request(struct ll_xfer_set *set, uint32_t id)
{
	if (!take_id(set->asked, id))
		return LL_ERR_NOT_FOUND;
	cancel_request(set, id, LL_FILE_CANCELLED);
	return LL_OK;
}

int ll_xfer_refuse_request(struct ll_xfer_set *set, uint32_t id)
{
	if (!take_id(set->theirs, id))
		return LL_ERR_NOT_FOUND;
	cancel_request(set, id, LL_FILE_REFUSED);
	return LL_OK;
}

enum ll_xfer_dir ll_xfer_dir(const struct ll_xfer *x)
{
	return x->dir;
}

enum ll_xfer_state ll_xfer_state(const struct ll_xfer *x)
{
	return x->state;
}

const char *ll_xfer_name(const struct ll_xfer *x)
{
	return x->shown;
}

const char *ll_xfer_saved_name(const struct ll_xfer *x)
{
	return x->saved;
}

const char *ll_xfer_sha256(const struct ll_xfer *x)
{
	return x->sha;
}

uint64_t ll_xfer_size(const struct ll_xfer *x)
{
	return x->size;
}

uint64_t ll_xfer_done_bytes(const struct ll_xfer *x)
{
	return x->done;
}

uint64_t ll_xfer_resumed_at(const struct ll_xfer *x)
{
	return x->run_from;
}

double ll_xfer_rate(const struct ll_xfer *x)
{
	int64_t ms = ll_now_mono_ms() - x->run_ms;

	if (x->run_ms == 0 || ms <= 0)
		return 0;
	return (double)(x->done - x->run_from) * 1000.0 / (double)ms;
}

double ll_xfer_eta(const struct ll_xfer *x)
{
	double rate = ll_xfer_rate(x);

	if (rate <= 0)
		return -1;
	return (double)(x->size - x->done) / rate;
}

uint32_t ll_xfer_request_id(const struct ll_xfer *x)
{
	return x->request;
}

enum ll_file_cancel_reason ll_xfer_reason(const struct ll_xfer *x)
{
	return x->reason;
}

bool ll_xfer_by_peer(const struct ll_xfer *x)
{
	return x->by_peer;
}

const char *ll_xfer_outcome(const struct ll_xfer *x)
{
	return x->outcome != NULL ? x->outcome : "";
}

char *ll_xfer_progress_text(const struct ll_xfer *x)
{
	char *done = g_format_size(x->done), *size = g_format_size(x->size);
	char *rate = g_format_size((guint64)ll_xfer_rate(x));
	double eta = ll_xfer_eta(x);
	char *text;

	if (x->state == LL_XFER_RUNNING && eta >= 0)
		text = g_strdup_printf("%s of %s, %s/s, %.0f s left", done,
				       size, rate, eta);
	else
		text = g_strdup_printf("%s of %s", done, size);
	g_free(done);
	g_free(size);
	g_free(rate);
	return text;
}

void ll_xfer_set_user(struct ll_xfer *x, void *user)
{
	x->user = user;
}

void *ll_xfer_get_user(const struct ll_xfer *x)
{
	return x->user;
}

char *ll_xfer_audit_text(const struct ll_xfer *x)
{
	const char *what = x->state == LL_XFER_DONE
				   ? "done"
				   : ll_file_cancel_reason_name(x->reason);
	char *head, *text;
	size_t room, cut;

	head = g_strdup_printf("%s %s size=%" G_GUINT64_FORMAT
			       " sha256=%s name=",
			       x->dir == LL_XFER_OUT ? "sent" : "received",
			       what != NULL ? what : "failed", x->size,
			       x->sha[0] != '\0' ? x->sha : "-");
	room = strlen(head) < 256 ? 256 - strlen(head) : 0;
	cut = strlen(x->shown);
	if (cut > room) {
		cut = room;
		while (cut > 0 &&
		       ((unsigned char)x->shown[cut] & 0xc0) == 0x80)
			cut--;
	}
	text = g_strdup_printf("%s%.*s", head, (int)cut, x->shown);
	g_free(head);
	return text;
}
