/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/screen's viewer: one libvncclient RFB client, measured the same
 * way whichever server it talks to, so that the applet (through the relay)
 * and x11vnc (plain TCP) are compared by the same code:
 *
 *   screen_viewer --vnc HOST:PORT [--connect-timeout S]
 *   screen_viewer --relay URL --ca FILE --user U --password-file F
 *
 * --files (--relay only): also ask for `files` and take the "send"
 * command below, the technician's file transfer on the same session
 * (ll_xfer_io.h), so that bench/file-transfer measures the screen while
 * a file shares its stream.
 *
 * Common: --encodings "zrle copyrect raw" (the agent's set, default);
 * --quality N (0-9: Tight may send JPEG at that TightVNC quality level;
 * default none: no JPEG) and --compress N (0-9, the Tight/zlib level);
 * --auto-quality: Tight's JPEG quality and compression level chosen as
 * the agent chooses them (ll_rfb_quality.h, fed by the inbound pump and,
 * with --relay, the session's round trip), sent again on a change;
 * --marker X,Y: where the workload's frame marker is on the screen
 * (bench/screen/screen_load.c draws it: the time each frame was drawn),
 * read after every update: "measure" then reports frames delivered and
 * their age on arrival.
 *
 * In --relay mode it is a minimal technician: login, a new PIN (printed),
 * the agent's stream, control hello + a request for view, and once the
 * applet opens the RFB channel, that channel bridged (ll_session_io) to a
 * socketpair.  In both modes the RFB bytes pass through a counting pump
 * (two threads, one per direction) before libvncclient, so "bytes" means
 * RFB bytes for both servers; --relay also reports the stream's bytes
 * (mux + control, TLS payload).
 *
 * Output: one line per event or result on stdout, "tag key=value ...":
 *   event pin=NNNNNN session=ID            (--relay: start the applet)
 *   event name=connected|joined|granted|denied|rfb_open|first_frame|closed
 *         t=REALTIME_SECONDS [...]
 * Commands on stdin, one per line, run while RFB keeps flowing:
 *   latency N INTERVAL_MS X Y  a 48x48 probe window at X,Y on $DISPLAY
 *                              changes colour N times; the time until the
 *                              framebuffer shows each colour:
 *                              "latency n= timeouts= min_ms= median_ms=
 *                              p95_ms= max_ms="
 *   measure SECONDS [PID...]   bytes and updates over SECONDS, CPU seconds
 *                              of each PID (/proc/PID/stat utime+stime):
 *                              "measure secs= rfb_bytes= rfb_Bps=
 *                              wire_bytes= updates= [frames= fps=
 *                              age_p50_ms= age_p95_ms=] [psnr_frames=
 *                              psnr_db= psnr_p50_db= psnr_min_db=
 *                              lossless= torn=]
 *                              cpu_PID=PERCENT"
 *   psnr on|off                while on, every new frame of the animation
 *                              (screen_load anim, its window at the
 *                              marker) is compared with the frame that
 *                              was drawn, rebuilt from its marker
 *                              (screen_pattern.h): "measure" then adds
 *                              the PSNR of the frames delivered, over
 *                              their mean squared error (psnr_db), of
 *                              the median frame and of the worst one
 *                              (psnr_min_db), in dB of R, G
 *                              and B; "inf" when lossless; torn: frames
 *                              with tiles from another frame (their
 *                              tiles count against that frame)
 *   send PATH                  (--files) offer the file; once the user
 *                              saved it and the bytes move, frame ages
 *                              are collected until it is done, then
 *                              "measure ..." (as above, over the
 *                              transfer) and "send state=done|failed
 *                              bytes= secs= MBps=" (MiB/s from the first
 *                              byte to the receiver's verified hash)
 *   quit
 * Exit status 0 after quit, 1 on any failure (a sentence on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <glib.h>
#include <rfb/rfbclient.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

#include "ll_api_client.h"
#include "ll_control.h"
#include "ll_err.h"
#include "ll_mux.h"
#include "ll_rfb_quality.h"
#include "ll_session_io.h"
#include "ll_stream.h"
#include "ll_xfer_io.h"

#include "screen_pattern.h"

#define SV_PROBE_SIZE 48
#define SV_SAMPLE_TIMEOUT_MS 5000
#define SV_MAX_SAMPLES 1000
#define SV_MAX_PIDS 8
#define SV_MAX_FRAMES 100000
/* PSNR: pieces matched to a frame, one row of 16 pixels: servers read
 * the screen by rows, so a capture tears between rows */
#define SV_TILE_W 16
#define SV_TILE_H 1
#define SV_TEAR_FRAMES 8 /* PSNR: frames before/after a tile may be from */

enum sv_send_phase {
	SV_SEND_NONE = 0,
	SV_SEND_RUNNING, /* bytes move: start collecting frame ages */
	SV_SEND_OVER,    /* done or failed: report them */
};
struct sv;

struct sv_pump {
	int from, to;
	atomic_uint_least64_t *count;
	GThread *thread;
	struct sv *meter; /* --auto-quality: the inbound pump feeds it */
};

struct sv {
	/* options */
	const char *vnc;
	const char *relay_url;
	const char *ca_file;
	const char *user;
	const char *password_file;
	const char *encodings;
	int quality, compress; /* -1: not asked */
	int connect_timeout_s;
	const char *marker;
	int mark_x, mark_y; /* -1: no marker */
	gboolean files;
	gboolean auto_quality;

	/* --auto-quality: the agent's policy (ll_rfb_quality.h) on the
	 * inbound pump's chunks; the RFB thread sends the band */
	GMutex q_lock;
	struct ll_rfb_quality q;
	atomic_uint q_serial;
	atomic_llong rtt_ms;
	unsigned q_sent; /* RFB thread */

	GMainLoop *loop;
	int exit_code;

	/* relay mode, main thread */
	struct ll_relay_opts relay;
	struct ll_session_io *io;
	atomic_uint_least64_t wire_in; /* copied from the main thread */
	bool rfb_started;
	struct ll_xfer_set *xs; /* --files */
	bool sending;
	int64_t send_t0_us;
	/* main thread -> RFB thread: frame ages over a transfer */
	atomic_int send_phase; /* enum sv_send_phase */

	/* RFB */
	int up_fd;   /* TCP socket or bridged socket */
	int pair[2]; /* [0] pumps, [1] libvncclient */
	atomic_uint_least64_t rfb_in, rfb_out;
	struct sv_pump pump_in, pump_out;
	GThread *rfb_thread;
	atomic_bool rfb_done;

	/* RFB thread only */
	rfbClient *cl;
	uint8_t *cover;
	size_t cover_left;
	bool first_frame;
	double t_rfb_start;
	uint64_t updates;

	/* latency command */
	bool lat_on;
	int lat_n, lat_i, lat_interval_ms, lat_x, lat_y;
	bool lat_waiting;
	int64_t lat_t0_us, lat_next_us;
	uint32_t lat_rgb;
	double *lat_ms;
	int lat_timeouts;
	Display *dpy;
	Window probe;

	/* measure command */
	bool meas_on;
	int64_t meas_t0_us, meas_end_us;
	uint64_t meas_rfb0, meas_wire0, meas_upd0;
	int meas_npids;
	int meas_pids[SV_MAX_PIDS];
	double meas_cpu0[SV_MAX_PIDS];

	/* frame marker (RFB thread) */
	uint32_t mark_last;
	GArray *frame_age_ms; /* of each new frame while measuring */
	bool psnr_on;
	GArray *frame_mse; /* of each new animation frame while measuring */
	unsigned frames_torn;

	char line[512];
	size_t line_len;
};

static char sv_tag;

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_us(void)
{
	return g_get_monotonic_time();
}

static void out(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void out(const char *fmt, ...)
{
	static GMutex lock;
	va_list ap;

	g_mutex_lock(&lock);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	g_mutex_unlock(&lock);
}

static void log_nothing(const char *format, ...)
{
	(void)format;
}

/* ---- --auto-quality: the agent's choice of JPEG quality ---- */

/* The pump thread: the applet's bytes as the agent's bridge sees them. */
static void auto_bytes(struct sv *v, size_t n)
{
	g_mutex_lock(&v->q_lock);
	ll_rfb_quality_rtt(&v->q, atomic_load(&v->rtt_ms));
	if (ll_rfb_quality_bytes(&v->q, now_us(), n))
		atomic_fetch_add(&v->q_serial, 1);
	g_mutex_unlock(&v->q_lock);
}

/* The RFB thread: a new band goes out as SetEncodings, as the agent's
 * clients do. */
static bool auto_apply(struct sv *v, rfbClient *cl, bool force)
{
	const struct ll_rfb_band *b;
	unsigned serial = atomic_load(&v->q_serial);

	if (!v->auto_quality || (!force && serial == v->q_sent))
		return true;
	v->q_sent = serial;
	g_mutex_lock(&v->q_lock);
	b = ll_rfb_quality_band(&v->q);
	cl->appData.enableJPEG = TRUE;
	cl->appData.qualityLevel = b->quality;
	cl->appData.compressLevel = b->compress;
	g_mutex_unlock(&v->q_lock);
	out("event name=quality band=%s quality=%d compress=%d t=%.6f",
	    b->name, b->quality, b->compress, now_real());
	return force || SetFormatAndEncodings(cl);
}

/* ---- the counting pump ---- */

static gpointer pump_main(gpointer data)
{
	struct sv_pump *p = data;
	uint8_t buf[65536];
	ssize_t n, w, off;

	for (;;) {
		n = read(p->from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		atomic_fetch_add(p->count, (uint64_t)n);
		if (p->meter != NULL)
			auto_bytes(p->meter, (size_t)n);
		for (off = 0; off < n; off += w) {
			w = write(p->to, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0)
				goto done;
		}
	}
done:
	shutdown(p->to, SHUT_WR);
	shutdown(p->from, SHUT_RD);
	return NULL;
}

/* ---- CPU of a process ---- */

static double cpu_seconds(int pid)
{
	char path[64], buf[2048];
	unsigned long long ut = 0, st = 0;
	const char *p;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* fields after the command name, which may hold spaces */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p++;
	/* field 3 is state; utime and stime are fields 14 and 15 */
	for (i = 3; i <= 13 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- libvncclient hooks (RFB thread) ---- */

static struct sv *sv_of(rfbClient *cl)
{
	return rfbClientGetClientData(cl, &sv_tag);
}

static rfbBool sv_malloc_fb(rfbClient *cl)
{
	struct sv *v = sv_of(cl);
	size_t n;

	if (cl->width <= 0 || cl->height <= 0 || cl->width > 8192 ||
	    cl->height > 8192 || cl->format.bitsPerPixel != 32)
		return FALSE;
	n = (size_t)cl->width * (size_t)cl->height;
	free(cl->frameBuffer);
	free(v->cover);
	cl->frameBuffer = calloc(n, 4);
	v->cover = calloc(n, 1);
	if (cl->frameBuffer == NULL || v->cover == NULL)
		return FALSE;
	v->cover_left = n;
	v->first_frame = false;
	return TRUE;
}

static uint32_t fb_rgb(rfbClient *cl, int x, int y)
{
	uint32_t px;

	memcpy(&px,
	       cl->frameBuffer +
		       ((size_t)y * (size_t)cl->width + (size_t)x) * 4,
	       4);
	return (((px >> cl->format.redShift) & 0xff) << 16) |
	       (((px >> cl->format.greenShift) & 0xff) << 8) |
	       ((px >> cl->format.blueShift) & 0xff);
}

static void lat_check(struct sv *v)
{
	rfbClient *cl = v->cl;
	int px = v->lat_x + SV_PROBE_SIZE / 2,
	    py = v->lat_y + SV_PROBE_SIZE / 2;

	if (!v->lat_on || !v->lat_waiting || px >= cl->width ||
	    py >= cl->height)
		return;
	if (fb_rgb(cl, px, py) != v->lat_rgb)
		return;
	v->lat_ms[v->lat_i++] = (double)(now_us() - v->lat_t0_us) / 1000.0;
	v->lat_waiting = false;
}

static void sv_got_update(rfbClient *cl, int x, int y, int w, int h)
{
	struct sv *v = sv_of(cl);
	int i, j;

	if (!v->first_frame && v->cover != NULL) {
		if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > cl->width ||
		    y + h > cl->height)
			return;
		for (j = y; j < y + h; j++) {
			uint8_t *row = v->cover + (size_t)j * cl->width;

			for (i = x; i < x + w; i++) {
				if (!row[i]) {
					row[i] = 1;
					v->cover_left--;
				}
			}
		}
	}
	lat_check(v);
}

/* Reads the workload's marker: true with its 24 bits if it is whole. */
static bool mark_read(struct sv *v, uint32_t *value)
{
	rfbClient *cl = v->cl;
	uint32_t m = 0;
	int b, x, y = v->mark_y + SL_MARK_CELL / 2;

	if (v->mark_x < 0 || y >= cl->height ||
	    v->mark_x + SL_MARK_BITS * SL_MARK_CELL > cl->width)
		return false;
	for (b = 0; b < SL_MARK_BITS; b++) {
		x = v->mark_x + b * SL_MARK_CELL + SL_MARK_CELL / 2;
		/* green alone: black and white differ in every channel */
		if (((fb_rgb(cl, x, y) >> 8) & 0xff) >= 128)
			m |= 1u << b;
	}
	if (!sl_mark_ok(m))
		return false;
	*value = m;
	return true;
}

/* The squared error (summed over R, G, B) of the tile x0,y0 (w x h) of
 * the animation's region as the framebuffer holds it, against frame n
 * (marker m's cells where the tile covers them). */
static uint64_t tile_se(struct sv *v, uint32_t m, uint32_t n, int x0, int y0,
			int w, int h)
{
	uint32_t got, want;
	uint64_t sum = 0;
	int i, j, c, d;

	for (j = y0; j < y0 + h; j++) {
		for (i = x0; i < x0 + w; i++) {
			got = fb_rgb(v->cl, v->mark_x + i, v->mark_y + j);
			want = j < SL_MARK_CELL &&
					       i < SL_MARK_BITS * SL_MARK_CELL
				       ? sl_anim_marked(m, i, j)
				       : sl_anim_pixel(n, i, j);
			for (c = 0; c < 24; c += 8) {
				d = (int)((got >> c) & 0xff) -
				    (int)((want >> c) & 0xff);
				sum += (uint64_t)(d * d);
			}
		}
	}
	return sum;
}

/* The mean squared error (per channel) of the animation's frame marked
 * m as the framebuffer holds it, against what was drawn.  A frame can
 * arrive torn (the server read part of the region after the load drew
 * the next frame, or has not sent part of it yet): a tile that is far
 * from frame n is compared with the frames drawn just before and after
 * it, and the nearest counts, since frames differ by far more than any
 * encoding's error (screen_pattern.h); *torn says if any tile did.  So
 * the PSNR is the encoding's, and torn frames are counted apart. */
static double frame_mse(struct sv *v, uint32_t m, bool *torn)
{
	rfbClient *cl = v->cl;
	uint32_t n = sl_mark_frame(m);
	uint64_t sum = 0, se, best;
	int x, y, x0, y0, w, h, k;

	*torn = false;
	if (v->mark_x + SL_ANIM_W > cl->width ||
	    v->mark_y + SL_ANIM_H > cl->height)
		return NAN;
	/* tiles on the screen's grid, where servers cut the screen */
	for (y = -(v->mark_y % SV_TILE_H); y < SL_ANIM_H; y += SV_TILE_H) {
		y0 = MAX(y, 0);
		h = MIN(y + SV_TILE_H, SL_ANIM_H) - y0;
		for (x = -(v->mark_x % SV_TILE_W); x < SL_ANIM_W;
		     x += SV_TILE_W) {
			x0 = MAX(x, 0);
			w = MIN(x + SV_TILE_W, SL_ANIM_W) - x0;
			best = tile_se(v, m, n, x0, y0, w, h);
			/* worse than ~20 dB: perhaps a later frame */
			for (k = -SV_TEAR_FRAMES;
			     k <= SV_TEAR_FRAMES &&
			     best > (uint64_t)(w * h * 3) * 650;
			     k++) {
				se = tile_se(v, m, n + (uint32_t)k, x0, y0, w,
					     h);
				if (se < best) {
					best = se;
					*torn = true;
				}
			}
			sum += best;
		}
	}
	return (double)sum / (SL_ANIM_W * SL_ANIM_H * 3.0);
}

static double psnr_db(double mse)
{
	return mse > 0 ? 10.0 * log10(255.0 * 255.0 / mse) : INFINITY;
}

/* A new frame of the workload: its age (now - drawn) while measuring,
 * and with "psnr on" how far it is from what was drawn. */
static void mark_check(struct sv *v)
{
	uint32_t m;
	double age;

	if (!mark_read(v, &m) || m == v->mark_last)
		return;
	v->mark_last = m;
	if (!v->meas_on || v->frame_age_ms->len >= SV_MAX_FRAMES)
		return;
	age = sl_mark_age_ms(m, now_us());
	g_array_append_val(v->frame_age_ms, age);
	if (v->psnr_on) {
		bool torn;
		double mse = frame_mse(v, m, &torn);

		if (!isnan(mse))
			g_array_append_val(v->frame_mse, mse);
		v->frames_torn += torn;
	}
}

static void sv_finished_update(rfbClient *cl)
{
	struct sv *v = sv_of(cl);

	v->updates++;
	mark_check(v);
	if (!v->first_frame && v->cover_left == 0) {
		v->first_frame = true;
		out("event name=first_frame t=%.6f w=%d h=%d since_rfb_ms=%.1f",
		    now_real(), cl->width, cl->height,
		    (now_real() - v->t_rfb_start) * 1000.0);
	}
}

/* ---- commands (RFB thread) ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *s, int n, double q)
{
	int i;

	if (n == 0)
		return NAN;
	i = (int)ceil(q * n) - 1;
	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return s[i];
}

static void lat_finish(struct sv *v)
{
	int n = v->lat_i - v->lat_timeouts;
	double *s = g_new(double, n > 0 ? n : 1);
	int i, k = 0;

	/* timeouts were stored as negative values */
	for (i = 0; i < v->lat_i; i++)
		if (v->lat_ms[i] >= 0)
			s[k++] = v->lat_ms[i];
	qsort(s, (size_t)k, sizeof(double), cmp_double);
	out("latency n=%d timeouts=%d min_ms=%.1f median_ms=%.1f "
	    "p95_ms=%.1f max_ms=%.1f",
	    k, v->lat_timeouts, k ? s[0] : NAN, pct(s, k, 0.5),
	    pct(s, k, 0.95), k ? s[k - 1] : NAN);
	g_free(s);
	g_free(v->lat_ms);
	v->lat_ms = NULL;
	v->lat_on = false;
	if (v->probe != 0) {
		XDestroyWindow(v->dpy, v->probe);
		XSync(v->dpy, False);
		v->probe = 0;
	}
}

static void lat_start(struct sv *v, int n, int interval_ms, int x, int y)
{
	XSetWindowAttributes a;

	if (n <= 0 || n > SV_MAX_SAMPLES || interval_ms < 0) {
		out("latency error=bad_arguments");
		return;
	}
	if (v->dpy == NULL && (v->dpy = XOpenDisplay(NULL)) == NULL) {
		out("latency error=cannot_open_display");
		return;
	}
	memset(&a, 0, sizeof(a));
	a.override_redirect = True;
	a.background_pixel = 0x000000;
	v->probe = XCreateWindow(v->dpy, DefaultRootWindow(v->dpy), x, y,
				 SV_PROBE_SIZE, SV_PROBE_SIZE, 0,
				 CopyFromParent, InputOutput, CopyFromParent,
				 CWOverrideRedirect | CWBackPixel, &a);
	XMapRaised(v->dpy, v->probe);
	XSync(v->dpy, False);
	v->lat_on = true;
	v->lat_n = n;
	v->lat_i = 0;
	v->lat_timeouts = 0;
	v->lat_interval_ms = interval_ms;
	v->lat_x = x;
	v->lat_y = y;
	v->lat_waiting = false;
	/* let the black probe reach the framebuffer first */
	v->lat_next_us = now_us() + 500 * 1000;
	v->lat_ms = g_new0(double, n);
}

static void lat_tick(struct sv *v)
{
	static const uint32_t colours[] = {
		0xff0000, 0x00ff00, 0x0000ff, 0xffff00, 0x00ffff,
		0xff00ff, 0x804020, 0x208040, 0x402080,
	};
	int64_t t = now_us();

	if (!v->lat_on)
		return;
	if (v->lat_waiting &&
	    t - v->lat_t0_us > (int64_t)SV_SAMPLE_TIMEOUT_MS * 1000) {
		v->lat_ms[v->lat_i++] = -1;
		v->lat_timeouts++;
		v->lat_waiting = false;
	}
	if (v->lat_waiting)
		return;
	if (v->lat_i >= v->lat_n) {
		lat_finish(v);
		return;
	}
	if (v->lat_next_us == 0)
		v->lat_next_us = t + (int64_t)v->lat_interval_ms * 1000;
	if (t < v->lat_next_us)
		return;
	v->lat_rgb = colours[v->lat_i % G_N_ELEMENTS(colours)];
	/* a sample only counts if the framebuffer must change to match */
	if (v->lat_x + SV_PROBE_SIZE / 2 < v->cl->width &&
	    v->lat_y + SV_PROBE_SIZE / 2 < v->cl->height &&
	    fb_rgb(v->cl, v->lat_x + SV_PROBE_SIZE / 2,
		   v->lat_y + SV_PROBE_SIZE / 2) == v->lat_rgb)
		v->lat_rgb = colours[(v->lat_i + 1) % G_N_ELEMENTS(colours)];
	XSetWindowBackground(v->dpy, v->probe, v->lat_rgb);
	XClearWindow(v->dpy, v->probe);
	XSync(v->dpy, False);
	v->lat_t0_us = now_us();
	v->lat_waiting = true;
	v->lat_next_us = 0;
}

static void meas_start(struct sv *v, char **argv, int argc)
{
	double secs = g_ascii_strtod(argv[1], NULL);
	int i;

	if (secs <= 0 || secs > 3600 || argc - 2 > SV_MAX_PIDS) {
		out("measure error=bad_arguments");
		return;
	}
	v->meas_npids = argc - 2;
	for (i = 0; i < v->meas_npids; i++) {
		v->meas_pids[i] = atoi(argv[2 + i]);
		v->meas_cpu0[i] = cpu_seconds(v->meas_pids[i]);
	}
	v->meas_on = true;
	v->meas_t0_us = now_us();
	v->meas_end_us = v->meas_t0_us + (int64_t)(secs * 1e6);
	v->meas_rfb0 = atomic_load(&v->rfb_in);
	v->meas_wire0 = atomic_load(&v->wire_in);
	v->meas_upd0 = v->updates;
	g_array_set_size(v->frame_age_ms, 0);
	g_array_set_size(v->frame_mse, 0);
	v->frames_torn = 0;
}

/* The PSNR figures of "measure": over the mean squared error of all the
 * frames (a mean of dB would make one lossless frame infinite), the
 * worst frame, and how many arrived exactly as drawn. */
static void meas_psnr(struct sv *v, GString *s)
{
	GArray *a = v->frame_mse;
	double sum = 0, worst = 0, e;
	guint i, exact = 0;

	if (a->len == 0)
		return;
	g_array_sort(a, cmp_double);
	for (i = 0; i < a->len; i++) {
		e = g_array_index(a, double, i);
		sum += e;
		if (e > worst)
			worst = e;
		if (e == 0)
			exact++;
	}
	g_string_append_printf(s,
			       " psnr_frames=%u psnr_db=%.2f psnr_p50_db=%.2f "
			       "psnr_min_db=%.2f lossless=%u torn=%u",
			       a->len, psnr_db(sum / a->len),
			       psnr_db(pct((double *)(void *)a->data,
					   (int)a->len, 0.5)),
			       psnr_db(worst), exact, v->frames_torn);
}

static void meas_tick(struct sv *v)
{
	GString *s;
	double secs, c;
	uint64_t rfb, wire;
	int64_t t = now_us();
	int i;

	if (!v->meas_on || t < v->meas_end_us)
		return;
	secs = (double)(t - v->meas_t0_us) / 1e6;
	rfb = atomic_load(&v->rfb_in) - v->meas_rfb0;
	wire = atomic_load(&v->wire_in) - v->meas_wire0;
	s = g_string_new(NULL);
	g_string_append_printf(s,
			       "measure secs=%.3f rfb_bytes=%llu "
			       "rfb_Bps=%.0f wire_bytes=%llu wire_Bps=%.0f "
			       "updates=%llu ups=%.2f",
			       secs, (unsigned long long)rfb, rfb / secs,
			       (unsigned long long)wire, wire / secs,
			       (unsigned long long)(v->updates - v->meas_upd0),
			       (v->updates - v->meas_upd0) / secs);
	if (v->mark_x >= 0) {
		GArray *a = v->frame_age_ms;

		g_array_sort(a, cmp_double);
		g_string_append_printf(s,
				       " frames=%u fps=%.2f age_p50_ms=%.1f "
				       "age_p95_ms=%.1f",
				       a->len, a->len / secs,
				       pct((double *)(void *)a->data,
					   (int)a->len, 0.5),
				       pct((double *)(void *)a->data,
					   (int)a->len, 0.95));
		meas_psnr(v, s);
	}
	for (i = 0; i < v->meas_npids; i++) {
		c = cpu_seconds(v->meas_pids[i]);
		if (c < 0 || v->meas_cpu0[i] < 0)
			g_string_append_printf(s, " cpu_%d=nan",
					       v->meas_pids[i]);
		else
			g_string_append_printf(s, " cpu_%d=%.1f",
					       v->meas_pids[i],
					       (c - v->meas_cpu0[i]) * 100.0 /
						       secs);
	}
	out("%s", s->str);
	g_string_free(s, TRUE);
	v->meas_on = false;
}

/* The transfer's phases, told by the main thread: a measure that spans
 * exactly the bytes moving (an hour at most). */
static void send_tick(struct sv *v)
{
	static char m0[] = "measure", m1[] = "3600";
	char *argv[] = { m0, m1, NULL };
	int ph = atomic_exchange(&v->send_phase, SV_SEND_NONE);

	if (ph == SV_SEND_RUNNING && !v->meas_on) {
		meas_start(v, argv, 2);
	} else if (ph == SV_SEND_OVER && v->meas_on) {
		v->meas_end_us = now_us();
		meas_tick(v);
	}
}

static gboolean send_idle(gpointer data);

/* Returns false on "quit". */
static bool run_command(struct sv *v, const char *line)
{
	char **argv = NULL;
	int argc = 0;
	bool go_on = true;

	if (!g_shell_parse_argv(line, &argc, &argv, NULL) || argc == 0) {
		g_strfreev(argv);
		return true;
	}
	if (strcmp(argv[0], "quit") == 0) {
		go_on = false;
	} else if (strcmp(argv[0], "latency") == 0 && argc == 5) {
		if (v->lat_on)
			out("latency error=busy");
		else
			lat_start(v, atoi(argv[1]), atoi(argv[2]),
				  atoi(argv[3]), atoi(argv[4]));
	} else if (strcmp(argv[0], "send") == 0 && argc == 2) {
		/* xfer_io lives on the main loop */
		g_idle_add(send_idle, g_strdup(argv[1]));
	} else if (strcmp(argv[0], "psnr") == 0 && argc == 2) {
		v->psnr_on = strcmp(argv[1], "on") == 0;
	} else if (strcmp(argv[0], "measure") == 0 && argc >= 2) {
		if (v->meas_on)
			out("measure error=busy");
		else
			meas_start(v, argv, argc);
	} else {
		out("error unknown_command");
	}
	g_strfreev(argv);
	return go_on;
}

/* Reads what stdin has; false on quit or EOF. */
static bool read_commands(struct sv *v)
{
	char c;
	ssize_t n;

	for (;;) {
		n = read(STDIN_FILENO, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		if (c == '\n') {
			v->line[v->line_len] = '\0';
			v->line_len = 0;
			if (!run_command(v, v->line))
				return false;
			continue;
		}
		if (v->line_len + 1 < sizeof(v->line))
			v->line[v->line_len++] = c;
	}
}

static gboolean quit_idle(gpointer data)
{
	struct sv *v = data;

	if (v->io != NULL &&
	    ll_session_io_get_state(v->io) < LL_SESSION_IO_ENDING)
		ll_session_io_end(v->io, "benchmark done");
	else
		g_main_loop_quit(v->loop);
	return G_SOURCE_REMOVE;
}

static gpointer rfb_main(gpointer data)
{
	struct sv *v = data;
	rfbClient *cl;
	struct pollfd p[2];
	bool ok = false, stdin_open = true;
	int timeout;

	rfbClientLog = log_nothing;
	rfbClientErr = log_nothing;
	cl = rfbGetClient(8, 3, 4);
	v->cl = cl;
	rfbClientSetClientData(cl, &sv_tag, v);
	cl->sock = v->pair[1];
	cl->appData.encodingsString = v->encodings;
	/* libvncclient asks JPEG (the quality pseudo-encoding) by default:
	 * only when told, so that "zrle" series stay lossless */
	cl->appData.enableJPEG = v->quality >= 0;
	cl->appData.qualityLevel = v->quality;
	cl->appData.compressLevel = v->compress;
	cl->appData.useRemoteCursor = FALSE;
	cl->canHandleNewFBSize = FALSE;
	cl->MallocFrameBuffer = sv_malloc_fb;
	cl->GotFrameBufferUpdate = sv_got_update;
	cl->FinishedFrameBufferUpdate = sv_finished_update;
	v->t_rfb_start = now_real();

	if (!InitialiseRFBConnection(cl)) {
		fprintf(stderr, "screen_viewer: RFB handshake failed\n");
		goto out;
	}
	cl->width = cl->si.framebufferWidth;
	cl->height = cl->si.framebufferHeight;
	/* rfbInitClient() sets this; the incremental request libvncclient
	 * sends after every update uses it (unset, x is -1 and servers
	 * ignore the request) */
	cl->updateRect.x = 0;
	cl->updateRect.y = 0;
	cl->updateRect.w = cl->width;
	cl->updateRect.h = cl->height;
	auto_apply(v, cl, true);
	if (!cl->MallocFrameBuffer(cl) || !SetFormatAndEncodings(cl) ||
	    !SendFramebufferUpdateRequest(cl, 0, 0, cl->width, cl->height,
					  FALSE)) {
		fprintf(stderr, "screen_viewer: RFB setup failed\n");
		goto out;
	}
	fcntl(STDIN_FILENO, F_SETFL,
	      fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
	for (;;) {
		p[0].fd = cl->sock;
		p[0].events = POLLIN;
		p[0].revents = 0;
		p[1].fd = stdin_open ? STDIN_FILENO : -1;
		p[1].events = POLLIN;
		p[1].revents = 0;
		timeout = (v->lat_on || v->meas_on ||
			   atomic_load(&v->send_phase) != SV_SEND_NONE)
				  ? 2
				  : 200;
		if (cl->buffered == 0 && poll(p, 2, timeout) < 0 &&
		    errno != EINTR)
			break;
		if (cl->buffered > 0 || (p[0].revents & (POLLIN | POLLHUP))) {
			if (!HandleRFBServerMessage(cl) ||
			    !auto_apply(v, cl, false)) {
				fprintf(stderr, "screen_viewer: the RFB "
						"connection ended\n");
				goto out;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			if (!read_commands(v)) {
				ok = true;
				break;
			}
		}
		lat_tick(v);
		meas_tick(v);
		send_tick(v);
	}
out:
	if (!ok)
		v->exit_code = 1;
	if (v->lat_on) {
		g_free(v->lat_ms);
		v->lat_ms = NULL;
	}
	if (v->dpy != NULL)
		XCloseDisplay(v->dpy);
	shutdown(v->pair[1], SHUT_RDWR);
	free(v->cover);
	v->cover = NULL;
	/* rfbClientCleanup closes cl->sock (pair[1]) */
	rfbClientCleanup(cl);
	v->cl = NULL;
	atomic_store(&v->rfb_done, true);
	g_idle_add(quit_idle, v);
	return NULL;
}

/* Starts the pumps and the RFB thread on v->up_fd. */
static int rfb_start(struct sv *v)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, v->pair) != 0)
		return -errno;
	v->pump_in.from = v->up_fd;
	v->pump_in.to = v->pair[0];
	v->pump_in.count = &v->rfb_in;
	v->pump_in.meter = v->auto_quality ? v : NULL;
	v->pump_out.from = v->pair[0];
	v->pump_out.to = v->up_fd;
	v->pump_out.count = &v->rfb_out;
	v->pump_in.thread = g_thread_new("pump-in", pump_main, &v->pump_in);
	v->pump_out.thread = g_thread_new("pump-out", pump_main, &v->pump_out);
	v->rfb_thread = g_thread_new("rfb", rfb_main, v);
	v->rfb_started = true;
	return 0;
}

/* ---- --vnc mode ---- */

static int vnc_connect(const char *hostport, int timeout_s)
{
	g_autofree char *host = NULL;
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints, *res = NULL, *ai;
	int64_t deadline = now_us() + (int64_t)timeout_s * 1000000;
	int fd = -1;

	if (colon == NULL)
		return -1;
	host = g_strndup(hostport, (size_t)(colon - hostport));
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		return -1;
	/* the server may still be starting: retry until the deadline */
	while (fd < 0 && now_us() < deadline) {
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			fd = socket(ai->ai_family,
				    ai->ai_socktype | SOCK_CLOEXEC, 0);
			if (fd < 0)
				continue;
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
			close(fd);
			fd = -1;
		}
		if (fd < 0)
			g_usleep(20 * 1000);
	}
	freeaddrinfo(res);
	return fd;
}

/* ---- --relay mode (main thread) ---- */

static gboolean wire_tick(gpointer data)
{
	struct sv *v = data;

	if (v->io != NULL) {
		atomic_store(&v->wire_in, ll_session_io_bytes_in(v->io));
		atomic_store(&v->rtt_ms, ll_session_io_rtt_ms(v->io));
	}
	return G_SOURCE_CONTINUE;
}

/* ---- --files: the technician's side of a transfer (main thread) ---- */

static struct sv *sv_main;

static void xs_changed(struct ll_xfer_set *set, struct ll_xfer *x, void *user)
{
	struct sv *v = user;

	(void)set;
	if (v->sending || ll_xfer_state(x) != LL_XFER_RUNNING)
		return;
	v->sending = true;
	v->send_t0_us = now_us();
	out("event name=send_running t=%.6f", now_real());
	atomic_store(&v->send_phase, SV_SEND_RUNNING);
}

static void xs_finished(struct ll_xfer_set *set, struct ll_xfer *x, void *user)
{
	struct sv *v = user;
	double secs = (double)(now_us() - v->send_t0_us) / 1e6;
	uint64_t bytes = ll_xfer_done_bytes(x) - ll_xfer_resumed_at(x);

	(void)set;
	out("send state=%s bytes=%llu secs=%.3f MBps=%.1f",
	    ll_xfer_state(x) == LL_XFER_DONE ? "done" : "failed",
	    (unsigned long long)bytes, v->sending ? secs : 0.0,
	    v->sending && secs > 0 ? bytes / 1048576.0 / secs : 0.0);
	v->sending = false;
	/* after the line above: "measure" follows it */
	atomic_store(&v->send_phase, SV_SEND_OVER);
}

static gboolean send_idle(gpointer data)
{
	char *path = data;
	int r;

	if (sv_main->xs == NULL)
		out("send state=failed error=no_files");
	else if ((r = ll_xfer_send_file(sv_main->xs, path, 0, NULL)) != 0)
		out("send state=failed error=%d", r);
	g_free(path);
	return G_SOURCE_REMOVE;
}

static void on_channel_data(struct ll_session_io *io, uint16_t channel,
			    const uint8_t *data, size_t len, void *user)
{
	struct sv *v = user;

	(void)io;
	if (v->xs != NULL)
		ll_xfer_set_channel_data(v->xs, channel, data, len);
}

static void on_channel_close(struct ll_session_io *io, uint16_t channel,
			     void *user)
{
	struct sv *v = user;

	(void)io;
	if (v->xs != NULL)
		ll_xfer_set_channel_close(v->xs, channel);
}

static void on_ready(struct ll_session_io *io, void *user)
{
	struct sv *v = user;
	struct ll_control_msg m;
	int r;

	out("event name=joined t=%.6f", now_real());
	memset(&m, 0, sizeof(m));
	m.type = LL_CONTROL_HELLO;
	m.u.hello.version = LL_CONTROL_VERSION;
	m.u.hello.role = LL_SIDE_AGENT;
	if ((r = ll_session_io_send_control(io, &m)) != 0)
		fprintf(stderr, "screen_viewer: hello: %s\n", ll_strerror(r));
	memset(&m, 0, sizeof(m));
	m.type = LL_CONTROL_REQUEST;
	m.u.request.id = 1;
	m.u.request.caps = LL_CAP_VIEW | (v->files ? LL_CAP_FILES : 0);
	if ((r = ll_session_io_send_control(io, &m)) != 0)
		fprintf(stderr, "screen_viewer: request: %s\n",
			ll_strerror(r));
}

static void on_control(struct ll_session_io *io,
		       const struct ll_control_msg *msg, void *user)
{
	struct sv *v = user;

	if (v->xs != NULL && ll_xfer_set_control(v->xs, msg))
		return;
	if (msg->type == LL_CONTROL_GRANT) {
		out("event name=granted t=%.6f", now_real());
	} else if (msg->type == LL_CONTROL_DENY) {
		out("event name=denied t=%.6f", now_real());
		v->exit_code = 1;
		ll_session_io_end(io, "denied");
	}
}

static void on_channel_open(struct ll_session_io *io, uint16_t channel,
			    void *user)
{
	struct sv *v = user;
	int sv_fd[2], r;

	if (channel != LL_MUX_CHANNEL_RFB && v->xs != NULL &&
	    ll_xfer_set_channel_open(v->xs, channel))
		return;
	if (channel != LL_MUX_CHANNEL_RFB || v->rfb_started) {
		ll_session_io_channel_close(io, channel);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv_fd) != 0) {
		ll_session_io_channel_close(io, channel);
		return;
	}
	if ((r = ll_session_io_bridge(io, channel, sv_fd[0])) != 0) {
		fprintf(stderr, "screen_viewer: bridge: %s\n", ll_strerror(r));
		close(sv_fd[0]);
		close(sv_fd[1]);
		ll_session_io_channel_close(io, channel);
		return;
	}
	out("event name=rfb_open t=%.6f", now_real());
	v->up_fd = sv_fd[1];
	if (rfb_start(v) != 0) {
		v->exit_code = 1;
		ll_session_io_end(io, "benchmark failed");
	}
}

static void on_closed(struct ll_session_io *io, enum ll_session_end why,
		      int err, const char *reason, void *user)
{
	struct sv *v = user;

	(void)io;
	out("event name=closed t=%.6f why=\"%s\" err=%d", now_real(),
	    ll_session_end_name(why), err);
	if (why != LL_SESSION_END_LOCAL)
		fprintf(stderr, "screen_viewer: session ended: %s\n", reason);
	if (why != LL_SESSION_END_LOCAL || !v->rfb_started)
		v->exit_code = 1;
	/* the bridge's fd is closed now: the pumps and RFB thread end */
	g_main_loop_quit(v->loop);
}

static int relay_run(struct sv *v)
{
	static const struct ll_session_io_cbs cbs = {
		.on_ready = on_ready,
		.on_control = on_control,
		.on_channel_open = on_channel_open,
		.on_channel_data = on_channel_data,
		.on_channel_close = on_channel_close,
		.on_closed = on_closed,
	};
	struct ll_client_error e;
	struct ll_api_client *c = NULL;
	struct ll_api_login login;
	struct ll_api_pin pin;
	struct ll_stream *stream = NULL;
	struct ll_session_io_opts o;
	char *password = NULL;
	size_t len = 0;
	int r = -1;

	memset(&login, 0, sizeof(login));
	memset(&pin, 0, sizeof(pin));
	ll_client_error_clear(&e);
	if (!g_file_get_contents(v->password_file, &password, &len, NULL)) {
		fprintf(stderr, "screen_viewer: cannot read %s\n",
			v->password_file);
		goto out;
	}
	g_strchomp(password);
	v->relay.url = v->relay_url;
	v->relay.ca_file = v->ca_file;
	v->relay.no_system_cas = v->ca_file != NULL;
	if ((c = ll_api_client_new(&v->relay, &e)) == NULL ||
	    ll_api_login(c, v->user, NULL, password, &login, &e) != 0 ||
	    login.token == NULL || ll_api_pin_new(c, NULL, &pin, &e) != 0) {
		fprintf(stderr, "screen_viewer: relay: %s\n", e.message);
		goto out;
	}
	out("event pin=%s session=%s t=%.6f", pin.pin, pin.session_id,
	    now_real());
	if (ll_stream_open(&v->relay, NULL, pin.ticket, &stream, &e) != 0) {
		fprintf(stderr, "screen_viewer: stream: %s\n", e.message);
		goto out;
	}
	ll_session_io_opts_default(&o);
	o.side = LL_SIDE_AGENT;
	if ((r = ll_session_io_new(stream, &o, &cbs, v, &v->io)) != 0) {
		fprintf(stderr, "screen_viewer: session: %s\n",
			ll_strerror(r));
		ll_stream_free(stream);
		r = -1;
		goto out;
	}
	out("event name=connected t=%.6f", now_real());
	if (v->files) {
		static const struct ll_xfer_set_cbs xcbs = {
			.on_changed = xs_changed,
			.on_finished = xs_finished,
		};

		v->xs = ll_xfer_set_new(&xcbs, v);
		ll_xfer_set_attach(v->xs, v->io);
	}
	g_timeout_add(50, wire_tick, v);
	g_main_loop_run(v->loop);
	r = 0;
out:
	if (password != NULL) {
		memset(password, 0, len);
		g_free(password);
	}
	ll_api_pin_clear(&pin);
	ll_api_login_clear(&login);
	ll_api_client_free(c);
	return r;
}

int main(int argc, char **argv)
{
	struct sv v;
	GOptionEntry entries[] = {
		{ "vnc", 0, 0, G_OPTION_ARG_STRING, &v.vnc,
		  "RFB server HOST:PORT (x11vnc)", NULL },
		{ "relay", 0, 0, G_OPTION_ARG_STRING, &v.relay_url,
		  "relay URL (our side)", NULL },
		{ "ca", 0, 0, G_OPTION_ARG_STRING, &v.ca_file,
		  "the relay's CA", NULL },
		{ "user", 0, 0, G_OPTION_ARG_STRING, &v.user, "technician",
		  NULL },
		{ "password-file", 0, 0, G_OPTION_ARG_STRING, &v.password_file,
		  "technician's password", NULL },
		{ "encodings", 0, 0, G_OPTION_ARG_STRING, &v.encodings,
		  "RFB encodings, preferred first", NULL },
		{ "quality", 0, 0, G_OPTION_ARG_INT, &v.quality,
		  "JPEG quality level 0-9 (default: no JPEG)", "N" },
		{ "compress", 0, 0, G_OPTION_ARG_INT, &v.compress,
		  "compression level 0-9 (default: the server's)", "N" },
		{ "marker", 0, 0, G_OPTION_ARG_STRING, &v.marker,
		  "the workload's frame marker on screen", "X,Y" },
		{ "files", 0, 0, G_OPTION_ARG_NONE, &v.files,
		  "also ask for files; take \"send PATH\"", NULL },
		{ "connect-timeout", 0, 0, G_OPTION_ARG_INT,
		  &v.connect_timeout_s, "seconds", NULL },
		{ "auto-quality", 0, 0, G_OPTION_ARG_NONE, &v.auto_quality,
		  "Tight JPEG quality chosen as the agent chooses it", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	GOptionContext *ctx;
	GError *error = NULL;
	int r;

	memset(&v, 0, sizeof(v));
	sv_main = &v;
	v.encodings = "zrle copyrect raw";
	v.connect_timeout_s = 10;
	v.up_fd = -1;
	v.quality = v.compress = -1;
	v.mark_x = v.mark_y = -1;
	v.frame_age_ms = g_array_new(FALSE, FALSE, sizeof(double));
	v.frame_mse = g_array_new(FALSE, FALSE, sizeof(double));
	g_mutex_init(&v.q_lock);
	ll_rfb_quality_init(&v.q, now_us());
	atomic_store(&v.rtt_ms, -1);
	signal(SIGPIPE, SIG_IGN);
	XInitThreads();
	ctx = g_option_context_new("- bench/screen's RFB viewer");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "screen_viewer: %s\n", error->message);
		return 2;
	}
	g_option_context_free(ctx);
	if (v.marker != NULL &&
	    (sscanf(v.marker, "%d,%d", &v.mark_x, &v.mark_y) != 2 ||
	     v.mark_x < 0 || v.mark_y < 0)) {
		fprintf(stderr, "screen_viewer: --marker X,Y\n");
		return 2;
	}
	if (v.quality > 9 || v.quality < -1 || v.compress > 9 ||
	    v.compress < -1) {
		fprintf(stderr, "screen_viewer: --quality and --compress "
				"take 0-9\n");
		return 2;
	}
	if ((v.vnc == NULL) == (v.relay_url == NULL) ||
	    (v.relay_url != NULL &&
	     (v.user == NULL || v.password_file == NULL))) {
		fprintf(stderr,
			"screen_viewer: --vnc HOST:PORT, or --relay "
			"URL --user U --password-file F [--ca FILE]\n");
		return 2;
	}
	v.loop = g_main_loop_new(NULL, FALSE);
	if (v.vnc != NULL) {
		v.up_fd = vnc_connect(v.vnc, v.connect_timeout_s);
		if (v.up_fd < 0) {
			fprintf(stderr,
				"screen_viewer: cannot connect to "
				"%s\n",
				v.vnc);
			return 1;
		}
		out("event name=connected t=%.6f", now_real());
		if (rfb_start(&v) != 0)
			return 1;
		g_main_loop_run(v.loop);
		r = 0;
	} else {
		r = relay_run(&v);
	}
	if (v.rfb_started) {
		/* unblock the pumps: the upstream side may still be open */
		if (v.up_fd >= 0)
			shutdown(v.up_fd, SHUT_RDWR);
		shutdown(v.pair[0], SHUT_RDWR);
		g_thread_join(v.rfb_thread);
		g_thread_join(v.pump_in.thread);
		g_thread_join(v.pump_out.thread);
		close(v.pair[0]);
		if (v.up_fd >= 0)
			close(v.up_fd);
	}
	ll_xfer_set_free(v.xs);
	ll_session_io_free(v.io);
	g_array_free(v.frame_age_ms, TRUE);
	g_array_free(v.frame_mse, TRUE);
	g_main_loop_unref(v.loop);
	return (r != 0 || v.exit_code != 0) ? 1 : 0;
}
