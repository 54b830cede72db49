/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Headless RFB client on libvncclient (see ll_rfbc.h).  The only file of
 * the agent that includes <rfb/rfbclient.h>.
 *
 * We do not call rfbInitClient(): it would parse argv and connect by host
 * name.  The socket is already connected (a socketpair bridged to mux
 * channel 1), so we set client->sock and run the same steps it runs after
 * connecting: InitialiseRFBConnection, MallocFrameBuffer,
 * SetFormatAndEncodings, a first full update request.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <rfb/rfbclient.h>

#include "ll_err.h"
#include "ll_rfb_quality.h"
#include "ll_rfbc.h"

enum rfbc_cmd_type {
	RFBC_CMD_WAKE = 0,
	RFBC_CMD_POINTER,
	RFBC_CMD_KEY,
	RFBC_CMD_SNAPSHOT,
	RFBC_CMD_QUALITY,
};

struct rfbc_cmd {
	enum rfbc_cmd_type type;
	int x, y, mask;
	uint32_t keysym;
	bool down;
	bool as_shown; /* snapshot: the picture as it is, nothing asked */
	char *path;
	ll_rfbc_done_fn done;
	void *user;
	int64_t deadline_us;
};

struct ll_rfbc {
	gint refs; /* app + thread + posts in flight */
	GMainContext *ctx;
	struct ll_rfbc_cbs cbs;
	void *user;
	bool detached; /* main thread only: no more callbacks */
	int fd;        /* closed by ll_rfbc_free, after join */
	GThread *thread;
	GAsyncQueue *cmds;
	atomic_bool stop;
	atomic_bool ended;
	atomic_bool has_frame;
	atomic_int width, height;
	/* Posts attached to ctx and not dispatched yet (GSource *, owned):
	 * the thread adds, the owner removes (dispatch, ll_rfbc_free). */
	GMutex posts_lock;
	GPtrArray *posts;

	/* RFB thread only */
	rfbClient *client;
	GPtrArray *snaps; /* struct rfbc_cmd * waiting for a frame */
	uint8_t *cover;   /* width*height: pixel seen since request */
	size_t cover_len;
	size_t covered;
	/* Updates decoded so far, and the first one the cover counts: a
	 * cover with an update the filter saw JPEG in is lossy */
	uint64_t updates;
	uint64_t cover_from;
	bool first_frame_posted;
	/* Tight's JPEG as the session's band wants it, and whether a fresh
	 * snapshot holds it off (a snapshot is the exact picture) */
	bool jpeg_wanted;
	bool snap_lossless;
};

/* Tag for rfbClientSetClientData. */
static char rfbc_tag;

static void rfbc_log_nothing(const char *format, ...)
{
	/* libvncclient logs server strings (desktop name, reasons) and can
	 * be chatty; nothing from the remote side goes to our logs. */
	(void)format;
}

static struct ll_rfbc *rfbc_of(rfbClient *cl)
{
	return rfbClientGetClientData(cl, &rfbc_tag);
}

static void rfbc_cmd_free(struct rfbc_cmd *cmd)
{
	if (cmd == NULL)
		return;
	g_free(cmd->path);
	g_free(cmd);
}

static void rfbc_unref(struct ll_rfbc *c)
{
	if (c == NULL || !g_atomic_int_dec_and_test(&c->refs))
		return;
	if (c->cmds != NULL)
		g_async_queue_unref(c->cmds);
	if (c->posts != NULL)
		g_ptr_array_unref(c->posts);
	g_mutex_clear(&c->posts_lock);
	if (c->ctx != NULL)
		g_main_context_unref(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	g_free(c);
}

/* ---- posting to the owner's context ---- */

enum rfbc_post_kind { POST_FRAME, POST_CLOSED, POST_DONE };

struct rfbc_post {
	struct ll_rfbc *c;
	GSource *src; /* borrowed: c->posts holds it */
	enum rfbc_post_kind kind;
	int err;
	char *msg;
	ll_rfbc_done_fn done;
	void *user;
};

static gboolean rfbc_dispatch(gpointer data)
{
	struct rfbc_post *p = data;
	struct ll_rfbc *c = p->c;

	/* The source holds itself while it dispatches. */
	g_mutex_lock(&c->posts_lock);
	g_ptr_array_remove_fast(c->posts, p->src);
	g_mutex_unlock(&c->posts_lock);
	if (c->detached)
		return G_SOURCE_REMOVE;
	switch (p->kind) {
	case POST_FRAME:
		if (c->cbs.on_frame != NULL)
			c->cbs.on_frame(c, c->user);
		break;
	case POST_CLOSED:
		if (c->cbs.on_closed != NULL)
			c->cbs.on_closed(c, p->err, p->msg, c->user);
		break;
	case POST_DONE:
		p->done(p->err, p->msg, p->user);
		break;
	}
	return G_SOURCE_REMOVE;
}

static void rfbc_post_free(gpointer data)
{
	struct rfbc_post *p = data;

	rfbc_unref(p->c);
	g_free(p->msg);
	g_free(p);
}

/*
 * Always through an idle source, never g_main_context_invoke_full(): when
 * ctx is the default context and its owner is not iterating it right now
 * (the holder after its loop quit, inside ll_rfbc_free()), invoke would
 * acquire ctx and run the callback here, on the RFB thread -- where
 * on_closed calls ll_rfbc_free(), which joins this very thread while the
 * owner's ll_rfbc_free() joins it too: both wait for ever.
 */
static void rfbc_post(struct ll_rfbc *c, enum rfbc_post_kind kind, int err,
		      const char *msg, ll_rfbc_done_fn done, void *user)
{
	struct rfbc_post *p = g_new0(struct rfbc_post, 1);
	GSource *src = g_idle_source_new();

	g_atomic_int_inc(&c->refs);
	p->c = c;
	p->src = src;
	p->kind = kind;
	p->err = err;
	p->msg = g_strdup(msg != NULL ? msg : "");
	p->done = done;
	p->user = user;
	g_source_set_priority(src, G_PRIORITY_DEFAULT);
	g_source_set_callback(src, rfbc_dispatch, p, rfbc_post_free);
	g_source_set_name(src, "ll-rfbc-post");
	/* listed before it can dispatch: rfbc_dispatch removes it */
	g_mutex_lock(&c->posts_lock);
	g_ptr_array_add(c->posts, src);
	g_source_attach(src, c->ctx);
	g_mutex_unlock(&c->posts_lock);
}

/* ---- libvncclient hooks (RFB thread) ---- */

static rfbBool rfbc_malloc_fb(rfbClient *cl)
{
	struct ll_rfbc *c = rfbc_of(cl);
	size_t n, bpp = (size_t)cl->format.bitsPerPixel / 8;
	uint8_t *fb, *cover = NULL;

	if (cl->width <= 0 || cl->height <= 0 || cl->width > LL_RFBC_MAX_DIM ||
	    cl->height > LL_RFBC_MAX_DIM || bpp != 4)
		return FALSE;
	/* width, height <= 8192: no overflow in size_t, still checked */
	n = (size_t)cl->width * (size_t)cl->height;
	if (n > SIZE_MAX / bpp)
		return FALSE;
	/* zeroed: a snapshot never shows stale heap bytes */
	if ((fb = calloc(n, bpp)) == NULL)
		return FALSE;
	if (c != NULL && (cover = calloc(n, 1)) == NULL) {
		free(fb);
		return FALSE;
	}
	free(cl->frameBuffer);
	cl->frameBuffer = fb;
	/*
	 * The region libvncclient asks for incrementally after each update
	 * (SendIncrementalFramebufferUpdateRequest).  rfbInitClient() would
	 * set it; rfbGetClient() leaves x = -1, which goes out as 65535 and
	 * servers ignore the request: no change would ever arrive unasked.
	 * Here, at each (re)size, it is the whole framebuffer.
	 */
	cl->updateRect.x = 0;
	cl->updateRect.y = 0;
	cl->updateRect.w = cl->width;
	cl->updateRect.h = cl->height;
	if (c != NULL) {
		free(c->cover);
		c->cover = cover;
		c->cover_len = n;
		c->covered = 0;
		c->cover_from = c->updates + 1; /* this one on */
		atomic_store(&c->width, cl->width);
		atomic_store(&c->height, cl->height);
	}
	return TRUE;
}

static void rfbc_got_update(rfbClient *cl, int x, int y, int w, int h)
{
	struct ll_rfbc *c = rfbc_of(cl);
	int row, x0, x1, y0, y1, i;
	uint8_t *line;

	if (c == NULL || c->cover == NULL || c->snaps == NULL ||
	    c->snaps->len == 0)
		return;
	/* clip: libvncclient checks rectangles, we do not rely on it */
	x0 = MAX(x, 0);
	y0 = MAX(y, 0);
	x1 = MIN(x + w, cl->width);
	y1 = MIN(y + h, cl->height);
	for (row = y0; row < y1; row++) {
		line = c->cover + (size_t)row * (size_t)cl->width;
		for (i = x0; i < x1; i++) {
			if (!line[i]) {
				line[i] = 1;
				c->covered++;
			}
		}
	}
}

static void rfbc_cut_text(rfbClient *cl, const char *text, int len)
{
	/* the remote clipboard is not ours to keep or log */
	(void)cl;
	(void)text;
	(void)len;
}

static void rfbc_bell(rfbClient *cl)
{
	(void)cl;
}

static void rfbc_cursor(rfbClient *cl, int xhot, int yhot, int width,
			int height, int bytes_per_pixel)
{
	/* We do not draw the remote cursor.  Freeing the shape here also
	 * stops libvncclient 0.9.14 from leaking rcMask on every new shape
	 * (it frees only rcSource before allocating again). */
	(void)xhot;
	(void)yhot;
	(void)width;
	(void)height;
	(void)bytes_per_pixel;
	free(cl->rcSource);
	free(cl->rcMask);
	cl->rcSource = cl->rcMask = NULL;
}

static char *rfbc_password(rfbClient *cl)
{
	/* No VNC authentication inside the tunnel: refuse to answer. */
	(void)cl;
	return NULL;
}

static int rfbc_write_png(rfbClient *cl, const char *path, char **msg)
{
	g_autoptr(GdkPixbuf) pb = NULL;
	g_autoptr(GError) gerr = NULL;
	g_autofree char *tmp = NULL;
	const uint8_t *src;
	uint8_t *dst;
	uint32_t px, rmax, gmax, bmax;
	int x, y, stride;

	pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, cl->width,
			    cl->height);
	if (pb == NULL) {
		*msg = g_strdup("out of memory for the picture");
		return LL_ERR_NOMEM;
	}
	stride = gdk_pixbuf_get_rowstride(pb);
	rmax = cl->format.redMax ? cl->format.redMax : 255;
	gmax = cl->format.greenMax ? cl->format.greenMax : 255;
	bmax = cl->format.blueMax ? cl->format.blueMax : 255;
	for (y = 0; y < cl->height; y++) {
		src = cl->frameBuffer + (size_t)y * (size_t)cl->width * 4;
		dst = gdk_pixbuf_get_pixels(pb) + (size_t)y * (size_t)stride;
		for (x = 0; x < cl->width; x++, src += 4, dst += 3) {
			/* our own pixel format (32 bpp, host order) */
			memcpy(&px, src, 4);
			dst[0] = (uint8_t)(((px >> cl->format.redShift) &
					    rmax) *
					   255 / rmax);
			dst[1] = (uint8_t)(((px >> cl->format.greenShift) &
					    gmax) *
					   255 / gmax);
			dst[2] = (uint8_t)(((px >> cl->format.blueShift) &
					    bmax) *
					   255 / bmax);
		}
	}
	tmp = g_strdup_printf("%s.tmp-%d", path, (int)getpid());
	if (!gdk_pixbuf_save(pb, tmp, "png", &gerr, NULL)) {
		*msg = g_strdup_printf("cannot write %s: %s", path,
				       gerr->message);
		unlink(tmp);
		return LL_ERR_IO;
	}
	if (rename(tmp, path) != 0) {
		*msg = g_strdup_printf("cannot write %s: %s", path,
				       g_strerror(errno));
		unlink(tmp);
		return LL_ERR_IO;
	}
	return LL_OK;
}

static int rfbc_snap_lossless(struct ll_rfbc *c, bool on);

static void rfbc_finish_snaps(struct ll_rfbc *c, bool complete, int err,
			      const char *why)
{
	struct rfbc_cmd *cmd;
	char *msg = NULL;
	int r;
	guint i;

	for (i = 0; i < c->snaps->len;) {
		cmd = g_ptr_array_index(c->snaps, i);
		if (complete) {
			r = rfbc_write_png(c->client, cmd->path, &msg);
		} else if (err != 0) {
			r = err;
			msg = g_strdup(why);
		} else if (g_get_monotonic_time() > cmd->deadline_us) {
			r = LL_ERR_TIMEOUT;
			msg = g_strdup("no complete picture arrived in time");
		} else {
			i++;
			continue;
		}
		rfbc_post(c, POST_DONE, r, msg, cmd->done, cmd->user);
		g_clear_pointer(&msg, g_free);
		g_ptr_array_remove_index(c->snaps, i);
	}
	/* The last fresh snapshot is done: JPEG as the band wants it. */
	if (c->snaps->len == 0 && c->snap_lossless && err == 0)
		(void)rfbc_snap_lossless(c, false);
}

/*
 * Whether an update the cover counts held JPEG.  Updates already on
 * their way when the snapshot asked with JPEG off (the applet's
 * pipelined one, say) come before its answer and may cover the whole
 * picture: such a cover is not the exact picture.  The filter counts
 * ahead of us, so this may also name a later update: one more round.
 */
static bool rfbc_cover_lossy(const struct ll_rfbc *c)
{
	return c->cbs.lossy != NULL &&
	       atomic_load(c->cbs.lossy) >= c->cover_from;
}

/* Starts the cover again with a full request of its own. */
static void rfbc_cover_again(struct ll_rfbc *c)
{
	rfbClient *cl = c->client;

	memset(c->cover, 0, c->cover_len);
	c->covered = 0;
	c->cover_from = c->updates + 1;
	if (!SendFramebufferUpdateRequest(cl, 0, 0, cl->width, cl->height,
					  FALSE))
		rfbc_finish_snaps(c, false, LL_ERR_IO,
				  "the screen connection closed");
}

static void rfbc_finished(rfbClient *cl)
{
	struct ll_rfbc *c = rfbc_of(cl);

	if (c == NULL)
		return;
	c->updates++;
	atomic_store(&c->has_frame, true);
	if (!c->first_frame_posted) {
		c->first_frame_posted = true;
		rfbc_post(c, POST_FRAME, 0, NULL, NULL, NULL);
	}
	if (c->snaps->len == 0 || c->covered < c->cover_len)
		return;
	if (rfbc_cover_lossy(c))
		rfbc_cover_again(c);
	else
		rfbc_finish_snaps(c, true, 0, NULL);
}

/* ---- connection setup (either thread) ---- */

static void rfbc_client_free(rfbClient *cl)
{
	if (cl == NULL)
		return;
	cl->sock = RFB_INVALID_SOCKET;
	free(cl->frameBuffer);
	cl->frameBuffer = NULL;
	/* the cursor shape buffers are the application's too (0.9.14's
	 * rfbClientCleanup leaves them) */
	free(cl->rcSource);
	free(cl->rcMask);
	cl->rcSource = cl->rcMask = NULL;
	rfbClientCleanup(cl);
}

/* The policy's starting band, before the session measured anything. */
static void rfbc_quality_default(rfbClient *cl)
{
	struct ll_rfb_quality q;
	const struct ll_rfb_band *b;

	ll_rfb_quality_init(&q, 0);
	b = ll_rfb_quality_band(&q);
	cl->appData.enableJPEG = TRUE;
	cl->appData.qualityLevel = b->quality;
	cl->appData.compressLevel = b->compress;
}

/* SetEncodings again (libvncclient builds it from appData) when what
 * the band and a fresh snapshot want differs from what was sent. */
static int rfbc_send_quality(struct ll_rfbc *c, int quality, int compress)
{
	rfbClient *cl = c->client;
	rfbBool jpeg = c->jpeg_wanted && !c->snap_lossless;

	if (cl->appData.enableJPEG == jpeg &&
	    cl->appData.qualityLevel == quality &&
	    cl->appData.compressLevel == compress)
		return LL_OK;
	cl->appData.enableJPEG = jpeg;
	cl->appData.qualityLevel = quality;
	cl->appData.compressLevel = compress;
	return SetFormatAndEncodings(cl) ? LL_OK : LL_ERR_IO;
}

/* A new band from the session (quality < 0: no JPEG). */
static int rfbc_set_quality(struct ll_rfbc *c, int quality, int compress)
{
	c->jpeg_wanted = quality >= 0;
	return rfbc_send_quality(c,
				 quality >= 0
					 ? quality
					 : c->client->appData.qualityLevel,
				 compress);
}

/* A fresh snapshot asks with JPEG off, and it comes back after. */
static int rfbc_snap_lossless(struct ll_rfbc *c, bool on)
{
	rfbClient *cl = c->client;

	c->snap_lossless = on;
	return rfbc_send_quality(c, cl->appData.qualityLevel,
				 cl->appData.compressLevel);
}

static int rfbc_connect(struct ll_rfbc *c, int fd, rfbClient **out)
{
	static const uint32_t schemes[] = { rfbNoAuth };
	rfbClient *cl;

	rfbClientLog = rfbc_log_nothing;
	rfbClientErr = rfbc_log_nothing;
	rfbEnableClientLogging = FALSE;
	if ((cl = rfbGetClient(8, 3, 4)) == NULL)
		return LL_ERR_NOMEM;
	if (c != NULL)
		rfbClientSetClientData(cl, &rfbc_tag, c);
	cl->sock = fd;
	cl->appData.encodingsString = LL_RFBC_ENCODINGS;
	rfbc_quality_default(cl);
	if (c != NULL)
		c->jpeg_wanted = true;
	/* The cursor comes as its own shape so that the picture is the
	 * screen alone (what the e2e test compares against). */
	cl->appData.useRemoteCursor = TRUE;
	cl->canHandleNewFBSize = TRUE;
	cl->MallocFrameBuffer = rfbc_malloc_fb;
	cl->GotFrameBufferUpdate = rfbc_got_update;
	cl->FinishedFrameBufferUpdate = rfbc_finished;
	cl->GotXCutText = rfbc_cut_text;
	cl->Bell = rfbc_bell;
	cl->GotCursorShape = rfbc_cursor;
	cl->GetPassword = rfbc_password;
	cl->GetCredential = NULL;
	SetClientAuthSchemes(cl, schemes, (int)G_N_ELEMENTS(schemes));

	if (!InitialiseRFBConnection(cl))
		goto fail;
	cl->width = cl->si.framebufferWidth;
	cl->height = cl->si.framebufferHeight;
	if (!cl->MallocFrameBuffer(cl) || !SetFormatAndEncodings(cl) ||
	    !SendFramebufferUpdateRequest(cl, 0, 0, cl->width, cl->height,
					  FALSE))
		goto fail;
	*out = cl;
	return LL_OK;
fail:
	/* the fd stays the caller's */
	rfbc_client_free(cl);
	return LL_ERR_PROTOCOL;
}

/* ---- the thread ---- */

/* The framebuffer as the updates so far made it: what the technician
 * sees now (JPEG while things moved, until the applet's lossless
 * refresh). */
static int rfbc_snapshot_shown(struct ll_rfbc *c, struct rfbc_cmd *cmd)
{
	char *msg = NULL;
	int r;

	r = rfbc_write_png(c->client, cmd->path, &msg);
	rfbc_post(c, POST_DONE, r, msg, cmd->done, cmd->user);
	g_free(msg);
	return LL_OK;
}

static int rfbc_run_cmd(struct ll_rfbc *c, struct rfbc_cmd *cmd)
{
	rfbClient *cl = c->client;

	switch (cmd->type) {
	case RFBC_CMD_WAKE:
		break;
	case RFBC_CMD_POINTER:
		if (!SendPointerEvent(cl, cmd->x, cmd->y, cmd->mask))
			return LL_ERR_IO;
		break;
	case RFBC_CMD_KEY:
		if (!SendKeyEvent(cl, cmd->keysym, cmd->down ? TRUE : FALSE))
			return LL_ERR_IO;
		break;
	case RFBC_CMD_SNAPSHOT:
		if (cmd->as_shown)
			return rfbc_snapshot_shown(c, cmd);
		/* what counts is a picture covered entirely after now, and
		 * exact: asked for with JPEG off */
		if (rfbc_snap_lossless(c, true) != 0)
			return LL_ERR_IO;
		if (c->cover != NULL)
			memset(c->cover, 0, c->cover_len);
		c->covered = 0;
		c->cover_from = c->updates + 1;
		if (!SendFramebufferUpdateRequest(cl, 0, 0, cl->width,
						  cl->height, FALSE))
			return LL_ERR_IO;
		cmd->deadline_us = g_get_monotonic_time() +
				   (int64_t)LL_RFBC_SNAPSHOT_TIMEOUT_MS * 1000;
		g_ptr_array_add(c->snaps, cmd);
		return 1; /* kept */
	case RFBC_CMD_QUALITY:
		return rfbc_set_quality(c, cmd->x, cmd->y);
	}
	return LL_OK;
}

static gpointer rfbc_thread(gpointer data)
{
	struct ll_rfbc *c = data;
	struct rfbc_cmd *cmd;
	const char *why = "the screen connection closed";
	int r, n;

	if ((r = rfbc_connect(c, c->fd, &c->client)) != 0) {
		why = "the applet's screen stream was not RFB we accept";
		goto out;
	}
	while (!atomic_load(&c->stop)) {
		n = WaitForMessage(c->client, 20000);
		if (n < 0) {
			r = LL_ERR_IO;
			break;
		}
		if (n > 0 && !HandleRFBServerMessage(c->client)) {
			r = atomic_load(&c->stop) ? LL_ERR_CLOSED
						  : LL_ERR_PROTOCOL;
			if (r == LL_ERR_PROTOCOL)
				why = "the screen stream ended or broke the "
				      "RFB protocol";
			break;
		}
		while ((cmd = g_async_queue_try_pop(c->cmds)) != NULL) {
			r = rfbc_run_cmd(c, cmd);
			if (r != 1)
				rfbc_cmd_free(cmd);
			if (r < 0)
				break;
		}
		if (r < 0)
			break;
		r = LL_OK;
		rfbc_finish_snaps(c, false, 0, NULL);
	}
	if (r == LL_OK)
		r = LL_ERR_CLOSED;
out:
	atomic_store(&c->ended, true);
	rfbc_finish_snaps(c, false, LL_ERR_CLOSED,
			  "no framebuffer: the screen connection is closed");
	while ((cmd = g_async_queue_try_pop(c->cmds)) != NULL) {
		if (cmd->type == RFBC_CMD_SNAPSHOT)
			rfbc_post(c, POST_DONE, LL_ERR_CLOSED,
				  "no framebuffer: the screen connection is "
				  "closed",
				  cmd->done, cmd->user);
		rfbc_cmd_free(cmd);
	}
	rfbc_client_free(c->client);
	c->client = NULL;
	free(c->cover);
	c->cover = NULL;
	rfbc_post(c, POST_CLOSED, r, why, NULL, NULL);
	rfbc_unref(c);
	return NULL;
}

int ll_rfbc_start(int fd, GMainContext *ctx, const struct ll_rfbc_cbs *cbs,
		  void *user, struct ll_rfbc **out)
{
	struct ll_rfbc *c;

	if (fd < 0 || out == NULL)
		return LL_ERR_INVALID_ARG;
	c = g_new0(struct ll_rfbc, 1);
	c->refs = 2; /* caller + thread */
	c->ctx = ctx != NULL ? g_main_context_ref(ctx)
			     : g_main_context_ref_thread_default();
	if (cbs != NULL)
		c->cbs = *cbs;
	c->user = user;
	c->fd = fd;
	g_mutex_init(&c->posts_lock);
	c->posts = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_source_unref);
	c->cmds = g_async_queue_new_full((GDestroyNotify)rfbc_cmd_free);
	c->snaps = g_ptr_array_new_with_free_func(
		(GDestroyNotify)rfbc_cmd_free);
	c->thread = g_thread_new("ll-rfb", rfbc_thread, c);
	*out = c;
	return LL_OK;
}

void ll_rfbc_free(struct ll_rfbc *c)
{
	GPtrArray *posts;
	guint i;

	if (c == NULL)
		return;
	c->detached = true;
	atomic_store(&c->stop, true);
	/*
	 * Wakes a read or write the thread is blocked in (EOF / EPIPE): it
	 * ends without waiting for anything of ours.  It never calls back
	 * into this thread's code (rfbc_post only attaches sources), so the
	 * join cannot wait on us.
	 */
	shutdown(c->fd, SHUT_RDWR);
	g_thread_join(c->thread);
	g_ptr_array_unref(c->snaps);
	c->snaps = NULL;
	/* The thread is gone: what it posted and nobody dispatched yet is
	 * dropped now, even if ctx is never iterated again (no leak). */
	g_mutex_lock(&c->posts_lock);
	posts = c->posts;
	c->posts = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_source_unref);
	g_mutex_unlock(&c->posts_lock);
	for (i = 0; i < posts->len; i++)
		g_source_destroy(g_ptr_array_index(posts, i));
	g_ptr_array_unref(posts);
	rfbc_unref(c);
}

bool ll_rfbc_has_frame(const struct ll_rfbc *c)
{
	return c != NULL && atomic_load(&c->has_frame);
}

void ll_rfbc_size(const struct ll_rfbc *c, int *width, int *height)
{
	*width = c != NULL ? atomic_load(&c->width) : 0;
	*height = c != NULL ? atomic_load(&c->height) : 0;
}

static int rfbc_push(struct ll_rfbc *c, struct rfbc_cmd *cmd)
{
	if (atomic_load(&c->ended)) {
		rfbc_cmd_free(cmd);
		return LL_ERR_CLOSED;
	}
	g_async_queue_push(c->cmds, cmd);
	return LL_OK;
}

int ll_rfbc_snapshot(struct ll_rfbc *c, const char *path, bool as_shown,
		     ll_rfbc_done_fn done, void *user)
{
	struct rfbc_cmd *cmd;

	if (c == NULL || path == NULL || done == NULL)
		return LL_ERR_INVALID_ARG;
	cmd = g_new0(struct rfbc_cmd, 1);
	cmd->type = RFBC_CMD_SNAPSHOT;
	cmd->as_shown = as_shown;
	cmd->path = g_strdup(path);
	cmd->done = done;
	cmd->user = user;
	return rfbc_push(c, cmd);
}

int ll_rfbc_set_quality(struct ll_rfbc *c, int quality, int compress)
{
	struct rfbc_cmd *cmd;

	if (c == NULL || quality > 9 || compress < 0 || compress > 9)
		return LL_ERR_INVALID_ARG;
	cmd = g_new0(struct rfbc_cmd, 1);
	cmd->type = RFBC_CMD_QUALITY;
	cmd->x = quality < 0 ? -1 : quality;
	cmd->y = compress;
	return rfbc_push(c, cmd);
}

int ll_rfbc_pointer(struct ll_rfbc *c, int x, int y, int button_mask)
{
	struct rfbc_cmd *cmd;

	if (c == NULL || x < 0 || y < 0 || x > 65535 || y > 65535 ||
	    button_mask < 0 || button_mask > 255)
		return LL_ERR_INVALID_ARG;
	cmd = g_new0(struct rfbc_cmd, 1);
	cmd->type = RFBC_CMD_POINTER;
	cmd->x = x;
	cmd->y = y;
	cmd->mask = button_mask;
	return rfbc_push(c, cmd);
}

int ll_rfbc_key(struct ll_rfbc *c, uint32_t keysym, bool down)
{
	struct rfbc_cmd *cmd;

	if (c == NULL)
		return LL_ERR_INVALID_ARG;
	cmd = g_new0(struct rfbc_cmd, 1);
	cmd->type = RFBC_CMD_KEY;
	cmd->keysym = keysym;
	cmd->down = down;
	return rfbc_push(c, cmd);
}

int ll_rfbc_run_fd(int fd, unsigned max_msgs)
{
	rfbClient *cl = NULL;
	unsigned i;
	int r;

	if (fd < 0)
		return LL_ERR_INVALID_ARG;
	if ((r = rfbc_connect(NULL, fd, &cl)) != 0)
		goto out;
	for (i = 0; i < max_msgs; i++) {
		if (!HandleRFBServerMessage(cl)) {
			r = LL_ERR_PROTOCOL;
			break;
		}
	}
out:
	rfbc_client_free(cl);
	close(fd);
	return r;
}
