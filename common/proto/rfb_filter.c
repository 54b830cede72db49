/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The RFB validator of channel 1 (see ll_rfb_filter.h).  Two small state
 * machines, one per direction, sharing what one needs of the other: the
 * pixel size and the encodings the client asked for, whether it asked for
 * an update yet.  Every state needs either a whole fixed-size item (read
 * through an ll_buf_view once it is all there) or skips a payload whose
 * length was checked against its cap first; nothing is allocated after
 * ll_rfb_filter_new().
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_buf.h"
#include "ll_err.h"
#include "ll_rfb_filter.h"

#define RFB_VERSION_38 "RFB 003.008\n"
#define RFB_VERSION_LEN 12u

/* Server-to-client states. */
enum sstate {
	S_VERSION = 0,
	S_SEC_COUNT,   /* u8 number of security types */
	S_SEC_TYPE,    /* one type of the list */
	S_SEC_RESULT,  /* u32 SecurityResult */
	S_REASON_LEN,  /* u32 length of a refusal reason */
	S_SERVER_INIT, /* 24 bytes before the name */
	S_MSG,         /* a server message begins */
	S_RECT,        /* a rectangle header (+ fixed extra) */
	S_SCREEN,      /* one ExtendedDesktopSize screen */
	S_SKIP,        /* payload bytes, then s_after */
	S_REFUSED,     /* the server refused: nothing may follow */
};

/* Where a server payload leads once skipped. */
enum safter {
	A_MSG = 0,
	A_RECT_DONE,
	A_REFUSED,
};

/* Client-to-server states. */
enum cstate {
	C_VERSION = 0,
	C_SEC_TYPE, /* u8 chosen security type */
	C_INIT,     /* u8 ClientInit */
	C_MSG,
	C_ENC,    /* one s32 of SetEncodings */
	C_SCREEN, /* one SetDesktopSize screen */
	C_SKIP,   /* ClientCutText */
};

struct enc_name {
	uint32_t enc;
	const char *name;
};

/* The allowed set; bit i of ->requested stands for allowed_encs[i]. */
static const struct enc_name allowed_encs[] = {
	{ (uint32_t)LL_RFB_ENC_RAW, "Raw" },
	{ (uint32_t)LL_RFB_ENC_COPYRECT, "CopyRect" },
	{ (uint32_t)LL_RFB_ENC_TIGHT, "Tight" },
	{ (uint32_t)LL_RFB_ENC_ZRLE, "ZRLE" },
	{ (uint32_t)LL_RFB_ENC_CURSOR, "Cursor" },
	{ (uint32_t)LL_RFB_ENC_XCURSOR, "XCursor" },
	{ (uint32_t)LL_RFB_ENC_DESKTOP_SIZE, "DesktopSize" },
	{ (uint32_t)LL_RFB_ENC_EXT_DESKTOP_SIZE, "ExtendedDesktopSize" },
	{ (uint32_t)LL_RFB_ENC_LAST_RECT, "LastRect" },
	{ (uint32_t)LL_RFB_ENC_POINTER_POS, "PointerPos" },
	{ (uint32_t)LL_RFB_ENC_POINTER_CHANGE, "PointerChange" },
};

/* Tight tuning levels: asked for freely, never a rectangle. */
struct enc_range {
	int32_t first, last;
	const char *name;
	bool jpeg; /* asking for one lets Tight send JPEG */
};

static const struct enc_range tuning_encs[] = {
	{ LL_RFB_ENC_QUALITY_FIRST, LL_RFB_ENC_QUALITY_LAST,
	  "JPEG quality level", true },
	{ LL_RFB_ENC_COMPRESS_FIRST, LL_RFB_ENC_COMPRESS_LAST,
	  "compression level", false },
	{ LL_RFB_ENC_FINE_QUALITY_FIRST, LL_RFB_ENC_FINE_QUALITY_LAST,
	  "fine quality level", true },
	{ LL_RFB_ENC_SUBSAMP_FIRST, LL_RFB_ENC_SUBSAMP_LAST,
	  "subsampling level", false },
};

/* Names for the error sentence only. */
static const struct enc_name other_encs[] = {
	{ 2, "RRE" },
	{ 4, "CoRRE" },
	{ 5, "Hextile" },
	{ 6, "Zlib" },
	{ 8, "ZlibHex" },
	{ 9, "Ultra" },
	{ 15, "TRLE" },
	{ 17, "ZYWRLE" },
	{ 21, "JPEG" },
	{ 50, "Open H.264" },
	{ 0x48323634u, "H.264" },
	{ 0xFFFF0009u, "UltraZip" },
	{ (uint32_t)-258, "QEMU Extended Key Event" },
	{ (uint32_t)-259, "QEMU Audio" },
	{ (uint32_t)-260, "TightPNG" },
	{ (uint32_t)-261, "QEMU LED State" },
	{ (uint32_t)-307, "DesktopName" },
	{ (uint32_t)-309, "xvp" },
	{ (uint32_t)-312, "Fence" },
	{ (uint32_t)-313, "ContinuousUpdates" },
	{ (uint32_t)-314, "Cursor With Alpha" },
	{ 0x574D5669u, "WMVi" },
	{ 0xFFFE0000u, "KeyboardLedState" },
	{ 0xFFFE0001u, "SupportedMessages" },
	{ 0xFFFE0002u, "SupportedEncodings" },
	{ 0xFFFE0003u, "ServerIdentity" },
	{ 0xC0A1E5CEu, "ExtendedClipboard" },
};

struct ll_rfb_filter {
	int err; /* sticky; 0 while fine */
	char msg[LL_RFB_FILTER_MSG_LEN];

	/* server -> client */
	enum sstate sst;
	enum safter s_after;
	size_t s_skip;
	unsigned sec_left;
	unsigned rects_left;
	unsigned screens_left;
	/* ExtendedDesktopSize being read: its size and status, whether
	 * every screen so far is one libvncclient accepts */
	unsigned ext_w, ext_h, ext_status;
	bool ext_valid;
	unsigned fb_w, fb_h; /* 0 x 0 before ServerInit */
	unsigned bpp;        /* bits per pixel the client decodes */
	bool true_colour;

	/* client -> server */
	enum cstate cst;
	size_t c_skip;
	unsigned encs_left;
	unsigned c_screens_left;
	bool client_pf; /* the client set its pixel format */
	bool update_requested;
	bool jpeg_requested; /* a JPEG quality level was asked for */
	uint32_t requested;  /* bit i: allowed_encs[i] asked for */
};

/* ---------------------------------------------------------- helpers */

static int fail(struct ll_rfb_filter *f, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct ll_rfb_filter *f, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	f->err = err;
	return err;
}

/* The view holds the whole item (its length was checked before), so the
 * reads cannot fail; 0 would come back if they did. */
static uint8_t get8(struct ll_buf_view *v)
{
	uint8_t x = 0;

	(void)ll_view_get_u8(v, &x);
	return x;
}

static uint16_t get16(struct ll_buf_view *v)
{
	uint16_t x = 0;

	(void)ll_view_get_u16(v, &x);
	return x;
}

static uint32_t get32(struct ll_buf_view *v)
{
	uint32_t x = 0;

	(void)ll_view_get_u32(v, &x);
	return x;
}

static void skip(struct ll_buf_view *v, size_t n)
{
	const uint8_t *p;

	(void)ll_view_get_ptr(v, n, &p);
}

static int allowed_index(uint32_t enc)
{
	size_t i;

	for (i = 0; i < sizeof(allowed_encs) / sizeof(allowed_encs[0]); i++)
		if (allowed_encs[i].enc == enc)
			return (int)i;
	return -1;
}

static const struct enc_range *tuning(uint32_t enc)
{
	size_t i;

	for (i = 0; i < sizeof(tuning_encs) / sizeof(tuning_encs[0]); i++)
		if ((int32_t)enc >= tuning_encs[i].first &&
		    (int32_t)enc <= tuning_encs[i].last)
			return &tuning_encs[i];
	return NULL;
}

static const char *enc_name(uint32_t enc)
{
	size_t i;
	int a = allowed_index(enc);

	if (a >= 0)
		return allowed_encs[a].name;
	if (tuning(enc) != NULL)
		return tuning(enc)->name;
	for (i = 0; i < sizeof(other_encs) / sizeof(other_encs[0]); i++)
		if (other_encs[i].enc == enc)
			return other_encs[i].name;
	return "unknown";
}

bool ll_rfb_filter_encoding_allowed(int32_t enc)
{
	return allowed_index((uint32_t)enc) >= 0 ||
	       tuning((uint32_t)enc) != NULL;
}

struct pixel_format {
	unsigned bpp, depth, big_endian, true_colour;
	unsigned max[3], shift[3];
};

static void read_pf(struct ll_buf_view *v, struct pixel_format *pf)
{
	int i;

	pf->bpp = get8(v);
	pf->depth = get8(v);
	pf->big_endian = get8(v);
	pf->true_colour = get8(v);
	for (i = 0; i < 3; i++)
		pf->max[i] = get16(v);
	for (i = 0; i < 3; i++)
		pf->shift[i] = get8(v);
	skip(v, 3); /* padding */
}

/* 8/16/32 bits, a depth that fits, colour fields inside the pixel: what
 * both decoders assume without checking everything.  The flags are
 * "non-zero is true" (libvncserver sends TRUE as 0xff). */
static bool pf_sane(const struct pixel_format *pf)
{
	int i;

	if (pf->bpp != 8 && pf->bpp != 16 && pf->bpp != 32)
		return false;
	if (pf->depth == 0 || pf->depth > pf->bpp)
		return false;
	if (!pf->true_colour)
		return true;
	for (i = 0; i < 3; i++) {
		if (pf->max[i] == 0 || pf->shift[i] >= pf->bpp)
			return false;
		if (((uint64_t)pf->max[i] << pf->shift[i]) >> pf->bpp != 0)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------ lifecycle */

struct ll_rfb_filter *ll_rfb_filter_new(void)
{
	/* calloc: every state starts at 0 (S_VERSION, C_VERSION) */
	return calloc(1, sizeof(struct ll_rfb_filter));
}

void ll_rfb_filter_free(struct ll_rfb_filter *f)
{
	free(f);
}

void ll_rfb_filter_free_cb(void *f)
{
	ll_rfb_filter_free(f);
}

const char *ll_rfb_filter_error(const struct ll_rfb_filter *f)
{
	return f->msg;
}

void ll_rfb_filter_size(const struct ll_rfb_filter *f, unsigned *width,
			unsigned *height, unsigned *bpp)
{
	*width = f->fb_w;
	*height = f->fb_h;
	*bpp = f->bpp;
}

/* ------------------------------------------------------- server -> client */

static void rect_done(struct ll_rfb_filter *f)
{
	if (f->rects_left > 0)
		f->rects_left--;
	f->sst = f->rects_left > 0 ? S_RECT : S_MSG;
}

static void after_skip(struct ll_rfb_filter *f)
{
	switch (f->s_after) {
	case A_MSG:
		f->sst = S_MSG;
		break;
	case A_RECT_DONE:
		rect_done(f);
		break;
	case A_REFUSED:
		f->sst = S_REFUSED;
		break;
	}
}

/* A payload of n bytes, then where. */
static void begin_skip(struct ll_rfb_filter *f, size_t n, enum safter after)
{
	f->s_after = after;
	if (n == 0) {
		after_skip(f);
		return;
	}
	f->s_skip = n;
	f->sst = S_SKIP;
}

/* A new framebuffer size from DesktopSize / ExtendedDesktopSize. */
static int check_size(struct ll_rfb_filter *f, unsigned w, unsigned h)
{
	if (w > LL_RFB_FILTER_MAX_DIM || h > LL_RFB_FILTER_MAX_DIM)
		return fail(f, LL_ERR_TOO_LARGE,
			    "a new framebuffer size of %ux%u is over the "
			    "%ux%u cap",
			    w, h, LL_RFB_FILTER_MAX_DIM,
			    LL_RFB_FILTER_MAX_DIM);
	if (w == 0 || h == 0)
		return fail(f, LL_ERR_PROTOCOL,
			    "a new framebuffer size of %ux%u is empty", w, h);
	return LL_OK;
}

/*
 * The end of an ExtendedDesktopSize.  libvncclient keeps its size when a
 * screen is invalid, gtk-vnc may not: a size change is only accepted
 * when every client applies it (valid screens, status success).
 */
static int ext_size_done(struct ll_rfb_filter *f)
{
	if ((f->ext_w != f->fb_w || f->ext_h != f->fb_h) &&
	    (!f->ext_valid || f->ext_status != 0))
		return fail(f, LL_ERR_PROTOCOL,
			    "an ExtendedDesktopSize changes the size to %ux%u "
			    "with an error status or an invalid screen",
			    f->ext_w, f->ext_h);
	f->fb_w = f->ext_w;
	f->fb_h = f->ext_h;
	rect_done(f);
	return LL_OK;
}

/* x, y, w, h inside the framebuffer (all below 2^16: no overflow). */
static int inside(struct ll_rfb_filter *f, const char *what, unsigned x,
		  unsigned y, unsigned w, unsigned h)
{
	if (w > LL_RFB_FILTER_MAX_DIM || h > LL_RFB_FILTER_MAX_DIM)
		return fail(f, LL_ERR_TOO_LARGE,
			    "a %ux%u %s is larger than %u on a side", w, h,
			    what, LL_RFB_FILTER_MAX_DIM);
	if (x + w > f->fb_w || y + h > f->fb_h)
		return fail(f, LL_ERR_PROTOCOL,
			    "a %ux%u %s at %u,%u lies outside the %ux%u "
			    "framebuffer",
			    w, h, what, x, y, f->fb_w, f->fb_h);
	return LL_OK;
}

/* Bytes in the fixed part of a rectangle beyond its 12-byte header. */
static size_t rect_extra(uint32_t enc)
{
	switch ((int32_t)enc) {
	case LL_RFB_ENC_COPYRECT:
	case LL_RFB_ENC_ZRLE:
	case LL_RFB_ENC_EXT_DESKTOP_SIZE:
		return 4;
	default:
		return 0;
	}
}

/* A cursor shape's payload: pixels then a 1-bit mask (Cursor), or two
 * colours and two 1-bit planes (XCursor); none when empty. */
static int cursor_len(struct ll_rfb_filter *f, bool rich, unsigned x,
		      unsigned y, unsigned w, unsigned h, size_t *len)
{
	size_t row = ((size_t)w + 7) / 8;

	if (w > LL_RFB_FILTER_MAX_CURSOR || h > LL_RFB_FILTER_MAX_CURSOR)
		return fail(f, LL_ERR_TOO_LARGE,
			    "a %ux%u cursor is larger than %u on a side", w, h,
			    LL_RFB_FILTER_MAX_CURSOR);
	if (w == 0 || h == 0) {
		*len = 0;
		return LL_OK;
	}
	if (x >= w || y >= h)
		return fail(f, LL_ERR_PROTOCOL,
			    "a %ux%u cursor has its hot spot at %u,%u, "
			    "outside it",
			    w, h, x, y);
	/* at most 1024 * 1024 * 4 + 128 * 1024: far from overflowing */
	if (rich)
		*len = (size_t)w * h * (f->bpp / 8) + row * h;
	else
		*len = 6 + 2 * row * h;
	return LL_OK;
}

static int server_rect(struct ll_rfb_filter *f, const uint8_t *p, size_t avail)
{
	struct ll_buf_view v;
	unsigned x, y, w, h, sx, sy, n;
	uint32_t enc, zlen;
	size_t need, len = 0;
	int a, r;

	if (avail < 12)
		return 0;
	/* the encoding is judged as soon as the header is there */
	ll_buf_view_init(&v, p, avail < 16 ? avail : 16);
	x = get16(&v);
	y = get16(&v);
	w = get16(&v);
	h = get16(&v);
	enc = get32(&v);
	a = allowed_index(enc);
	if (tuning(enc) != NULL)
		return fail(f, LL_ERR_UNKNOWN_TYPE,
			    "rectangle encoding %d (%s) only tunes the "
			    "encoder and never comes as a rectangle",
			    (int32_t)enc, enc_name(enc));
	if (a < 0)
		return fail(f, LL_ERR_UNKNOWN_TYPE,
			    "rectangle encoding %d (%s) is not allowed",
			    (int32_t)enc, enc_name(enc));
	if (!(f->requested & (1u << a)))
		return fail(f, LL_ERR_UNKNOWN_TYPE,
			    "rectangle encoding %d (%s) was not asked for by "
			    "the client",
			    (int32_t)enc, enc_name(enc));
	if ((enc == LL_RFB_ENC_RAW || enc == LL_RFB_ENC_COPYRECT ||
	     enc == LL_RFB_ENC_ZRLE) &&
	    (r = inside(f, "rectangle", x, y, w, h)) != 0)
		return r;
	need = 12 + rect_extra(enc);
	if (avail < need)
		return 0;

	switch ((int32_t)enc) {
	case LL_RFB_ENC_RAW:
		/* w, h <= 8192 and bpp <= 32: at most 2^28 */
		begin_skip(f, (size_t)w * h * (f->bpp / 8), A_RECT_DONE);
		break;
	case LL_RFB_ENC_COPYRECT:
		sx = get16(&v);
		sy = get16(&v);
		if ((r = inside(f, "CopyRect source", sx, sy, w, h)) != 0)
			return r;
		rect_done(f);
		break;
	case LL_RFB_ENC_ZRLE:
		zlen = get32(&v);
		if (zlen > LL_RFB_FILTER_MAX_ZRLE)
			return fail(f, LL_ERR_TOO_LARGE,
				    "ZRLE data of %u bytes is over the %u MiB "
				    "cap",
				    zlen, LL_RFB_FILTER_MAX_ZRLE >> 20);
		begin_skip(f, zlen, A_RECT_DONE);
		break;
	case LL_RFB_ENC_CURSOR:
	case LL_RFB_ENC_XCURSOR:
		if ((r = cursor_len(f, (int32_t)enc == LL_RFB_ENC_CURSOR, x, y,
				    w, h, &len)) != 0)
			return r;
		begin_skip(f, len, A_RECT_DONE);
		break;
	case LL_RFB_ENC_DESKTOP_SIZE:
		if ((r = check_size(f, w, h)) != 0)
			return r;
		f->fb_w = w;
		f->fb_h = h;
		rect_done(f);
		break;
	case LL_RFB_ENC_EXT_DESKTOP_SIZE:
		n = get8(&v);
		skip(&v, 3);
		/* x is the reason, y the status; the screens follow, laid
		 * out in the new size */
		if ((r = check_size(f, w, h)) != 0)
			return r;
		f->ext_w = w;
		f->ext_h = h;
		f->ext_status = y;
		f->ext_valid = true;
		f->screens_left = n;
		if (n == 0) {
			if ((r = ext_size_done(f)) != 0)
				return r;
		} else {
			f->sst = S_SCREEN;
		}
		break;
	case LL_RFB_ENC_LAST_RECT:
		f->rects_left = 0;
		f->sst = S_MSG;
		break;
	case LL_RFB_ENC_POINTER_POS:
	case LL_RFB_ENC_POINTER_CHANGE:
		/* only coordinates or a mode, in the header */
		rect_done(f);
		break;
	case LL_RFB_ENC_TIGHT:
		return fail(f, LL_ERR_UNKNOWN_TYPE,
			    "Tight rectangles are not validated yet");
	default:
		return fail(f, LL_ERR_INTERNAL, "encoding table mismatch");
	}
	return (int)need;
}

static int server_msg(struct ll_rfb_filter *f, const uint8_t *p, size_t avail)
{
	struct ll_buf_view v;
	unsigned n, first;
	uint32_t len;

	switch (p[0]) {
	case 0: /* FramebufferUpdate: type, pad, u16 rectangles */
		if (avail < 4)
			return 0;
		if (!f->update_requested)
			return fail(f, LL_ERR_PROTOCOL,
				    "a framebuffer update came before the "
				    "client asked for one");
		ll_buf_view_init(&v, p, 4);
		skip(&v, 2);
		n = get16(&v);
		f->rects_left = n;
		f->sst = n > 0 ? S_RECT : S_MSG;
		return 4;
	case 1: /* SetColourMapEntries: type, pad, u16 first, u16 count */
		if (avail < 6)
			return 0;
		if (f->true_colour)
			return fail(f, LL_ERR_PROTOCOL,
				    "colour map entries came for a true-colour "
				    "pixel format");
		ll_buf_view_init(&v, p, 6);
		skip(&v, 2);
		first = get16(&v);
		n = get16(&v);
		if (first + n > 256)
			return fail(f, LL_ERR_TOO_LARGE,
				    "colour map entries %u to %u are past the "
				    "256 we accept",
				    first, first + n - 1);
		begin_skip(f, (size_t)n * 6, A_MSG);
		return 6;
	case 2: /* Bell */
		return 1;
	case 3: /* ServerCutText: type, 3 pad, u32 length, text */
		if (avail < 8)
			return 0;
		ll_buf_view_init(&v, p, 8);
		skip(&v, 4);
		len = get32(&v);
		/* the text itself is never looked at (it may be secret) */
		if (len > LL_RFB_FILTER_MAX_CUT_TEXT)
			return fail(f, LL_ERR_TOO_LARGE,
				    "clipboard text of %u bytes is over the "
				    "%u KiB cap",
				    len, LL_RFB_FILTER_MAX_CUT_TEXT >> 10);
		begin_skip(f, len, A_MSG);
		return 8;
	default:
		return fail(f, LL_ERR_UNKNOWN_TYPE,
			    "server message type %u is not allowed", p[0]);
	}
}

static int server_init(struct ll_rfb_filter *f, const uint8_t *p, size_t avail)
{
	struct ll_buf_view v;
	struct pixel_format pf;
	unsigned w, h;
	uint32_t name_len;

	if (avail < 24)
		return 0;
	ll_buf_view_init(&v, p, 24);
	w = get16(&v);
	h = get16(&v);
	read_pf(&v, &pf);
	name_len = get32(&v);
	if (w > LL_RFB_FILTER_MAX_DIM || h > LL_RFB_FILTER_MAX_DIM)
		return fail(f, LL_ERR_TOO_LARGE,
			    "a framebuffer of %ux%u is over the %ux%u cap", w,
			    h, LL_RFB_FILTER_MAX_DIM, LL_RFB_FILTER_MAX_DIM);
	if (w == 0 || h == 0)
		return fail(f, LL_ERR_PROTOCOL,
			    "the framebuffer of %ux%u is empty", w, h);
	if (!pf_sane(&pf))
		return fail(f, LL_ERR_PROTOCOL,
			    "the server's pixel format (%u bits per pixel, "
			    "depth %u) is not one we accept",
			    pf.bpp, pf.depth);
	if (name_len > LL_RFB_FILTER_MAX_NAME)
		return fail(f, LL_ERR_TOO_LARGE,
			    "a desktop name of %u bytes is over the %u byte "
			    "cap",
			    name_len, LL_RFB_FILTER_MAX_NAME);
	f->fb_w = w;
	f->fb_h = h;
	if (!f->client_pf) {
		/* the client decodes in this format until it sets its own */
		f->bpp = pf.bpp;
		f->true_colour = pf.true_colour != 0;
	}
	begin_skip(f, name_len, A_MSG);
	return 24;
}

/* One item: consumed (> 0), 0 need more, negative error. */
static int server_step(struct ll_rfb_filter *f, const uint8_t *p, size_t avail)
{
	struct ll_buf_view v;
	uint32_t x;
	size_t n;

	switch (f->sst) {
	case S_VERSION:
		if (avail < RFB_VERSION_LEN)
			return 0;
		if (memcmp(p, RFB_VERSION_38, RFB_VERSION_LEN) == 0) {
			f->sst = S_SEC_COUNT;
			return RFB_VERSION_LEN;
		}
		if (memcmp(p, "RFB ", 4) != 0)
			return fail(f, LL_ERR_PROTOCOL,
				    "the server did not begin with an RFB "
				    "protocol version");
		return fail(f, LL_ERR_BAD_VERSION,
			    "the server speaks another RFB version than 3.8");
	case S_SEC_COUNT:
		if (p[0] == 0) {
			f->sst = S_REASON_LEN; /* refused, reason follows */
		} else {
			f->sec_left = p[0];
			f->sst = S_SEC_TYPE;
		}
		return 1;
	case S_SEC_TYPE:
		if (p[0] != 1)
			return fail(f, LL_ERR_PROTOCOL,
				    "the server offered security type %u; "
				    "only None (1) is allowed",
				    p[0]);
		if (--f->sec_left == 0)
			f->sst = S_SEC_RESULT;
		return 1;
	case S_SEC_RESULT:
		if (avail < 4)
			return 0;
		ll_buf_view_init(&v, p, 4);
		x = get32(&v);
		if (x == 0)
			f->sst = S_SERVER_INIT;
		else if (x == 1)
			f->sst = S_REASON_LEN;
		else
			return fail(f, LL_ERR_PROTOCOL,
				    "the server sent an undefined "
				    "SecurityResult (%u)",
				    x);
		return 4;
	case S_REASON_LEN:
		if (avail < 4)
			return 0;
		ll_buf_view_init(&v, p, 4);
		x = get32(&v);
		if (x > LL_RFB_FILTER_MAX_REASON)
			return fail(f, LL_ERR_TOO_LARGE,
				    "a refusal reason of %u bytes is over the "
				    "%u byte cap",
				    x, LL_RFB_FILTER_MAX_REASON);
		begin_skip(f, x, A_REFUSED);
		return 4;
	case S_SERVER_INIT:
		return server_init(f, p, avail);
	case S_MSG:
		return server_msg(f, p, avail);
	case S_RECT:
		return server_rect(f, p, avail);
	case S_SCREEN: {
		unsigned sx, sy, sw, sh;
		int r;

		if (avail < 16)
			return 0;
		ll_buf_view_init(&v, p, 16);
		x = get32(&v); /* id */
		sx = get16(&v);
		sy = get16(&v);
		sw = get16(&v);
		sh = get16(&v);
		if (sw > LL_RFB_FILTER_MAX_DIM || sh > LL_RFB_FILTER_MAX_DIM)
			return fail(f, LL_ERR_TOO_LARGE,
				    "a %ux%u screen is larger than %u on a "
				    "side",
				    sw, sh, LL_RFB_FILTER_MAX_DIM);
		if (sx + sw > f->ext_w || sy + sh > f->ext_h)
			return fail(f, LL_ERR_PROTOCOL,
				    "a %ux%u screen at %u,%u lies outside the "
				    "%ux%u framebuffer",
				    sw, sh, sx, sy, f->ext_w, f->ext_h);
		if (x == 0 || sw == 0 || sh == 0)
			f->ext_valid = false;
		if (--f->screens_left == 0 && (r = ext_size_done(f)) != 0)
			return r;
		return 16;
	}
	case S_SKIP:
		n = avail < f->s_skip ? avail : f->s_skip;
		if (n > INT_MAX)
			n = INT_MAX;
		f->s_skip -= n;
		if (f->s_skip == 0)
			after_skip(f);
		return (int)n;
	case S_REFUSED:
		return fail(f, LL_ERR_PROTOCOL,
			    "the server sent data after it refused the "
			    "connection");
	}
	return fail(f, LL_ERR_INTERNAL, "bad filter state");
}

int ll_rfb_filter_server_end(struct ll_rfb_filter *f, size_t held)
{
	if (f->err != 0)
		return f->err;
	if (held == 0 &&
	    (f->sst == S_VERSION || f->sst == S_MSG || f->sst == S_REFUSED))
		return LL_OK;
	return fail(f, LL_ERR_TRUNCATED,
		    "the server's stream ended inside a message");
}

/* ------------------------------------------------------- client -> server */

static int client_set_pf(struct ll_rfb_filter *f, const uint8_t *p)
{
	struct ll_buf_view v;
	struct pixel_format pf;

	ll_buf_view_init(&v, p, 20);
	skip(&v, 4);
	read_pf(&v, &pf);
	if (!pf_sane(&pf))
		return fail(f, LL_ERR_PROTOCOL,
			    "the local RFB client asked for a pixel format "
			    "we do not accept (%u bits per pixel, depth %u)",
			    pf.bpp, pf.depth);
	/* Lengths of updates in flight would be ambiguous: our clients
	 * set their format once, before their first request. */
	if (f->update_requested && pf.bpp != f->bpp)
		return fail(f, LL_ERR_PROTOCOL,
			    "the local RFB client changed its pixel size "
			    "during the session");
	f->bpp = pf.bpp;
	f->true_colour = pf.true_colour != 0;
	f->client_pf = true;
	return 20;
}

/* Rewrites one encoding in place when it is not allowed. */
static void client_encoding(struct ll_rfb_filter *f, uint8_t *p)
{
	uint32_t enc = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		       (uint32_t)p[2] << 8 | p[3];
	const struct enc_range *t = tuning(enc);
	int a = allowed_index(enc);

	if (t != NULL) {
		f->jpeg_requested |= t->jpeg;
		return;
	}
	if (a < 0) {
		/* CopyRect: never "preferred" by a server, so a harmless
		 * duplicate in any position */
		p[0] = 0;
		p[1] = 0;
		p[2] = 0;
		p[3] = LL_RFB_ENC_COPYRECT;
		a = allowed_index(LL_RFB_ENC_COPYRECT);
	}
	f->requested |= 1u << a;
}

static int client_msg(struct ll_rfb_filter *f, uint8_t *p, size_t avail)
{
	struct ll_buf_view v;
	uint32_t len;

	switch (p[0]) {
	case 0: /* SetPixelFormat */
		if (avail < 20)
			return 0;
		return client_set_pf(f, p);
	case 2: /* SetEncodings: type, pad, u16 count */
		if (avail < 4)
			return 0;
		ll_buf_view_init(&v, p, 4);
		skip(&v, 2);
		f->encs_left = get16(&v);
		if (f->encs_left > 0)
			f->cst = C_ENC;
		return 4;
	case 3: /* FramebufferUpdateRequest */
		if (avail < 10)
			return 0;
		f->update_requested = true;
		return 10;
	case 4: /* KeyEvent */
		return avail < 8 ? 0 : 8;
	case 5: /* PointerEvent */
		return avail < 6 ? 0 : 6;
	case 6: /* ClientCutText: type, 3 pad, u32 length, text */
		if (avail < 8)
			return 0;
		ll_buf_view_init(&v, p, 8);
		skip(&v, 4);
		len = get32(&v);
		if (len > LL_RFB_FILTER_MAX_CLIENT_CUT)
			return fail(f, LL_ERR_TOO_LARGE,
				    "the local RFB client sent clipboard text "
				    "of %u bytes, over the %u MiB cap",
				    len, LL_RFB_FILTER_MAX_CLIENT_CUT >> 20);
		f->c_skip = len;
		if (len > 0)
			f->cst = C_SKIP;
		return 8;
	case 251: /* SetDesktopSize: type, pad, w, h, u8 screens, pad */
		if (avail < 8)
			return 0;
		f->c_screens_left = p[6];
		if (f->c_screens_left > 0)
			f->cst = C_SCREEN;
		return 8;
	case 255: /* QEMU: only the extended key event (12 bytes) */
		if (avail < 2)
			return 0;
		if (p[1] != 0)
			return fail(f, LL_ERR_UNKNOWN_TYPE,
				    "the local RFB client sent QEMU message "
				    "%u, which the filter does not know",
				    p[1]);
		return avail < 12 ? 0 : 12;
	default:
		return fail(f, LL_ERR_UNKNOWN_TYPE,
			    "the local RFB client sent message type %u, "
			    "which the filter does not know",
			    p[0]);
	}
}

static int client_step(struct ll_rfb_filter *f, uint8_t *p, size_t avail)
{
	size_t n;

	switch (f->cst) {
	case C_VERSION:
		if (avail < RFB_VERSION_LEN)
			return 0;
		if (memcmp(p, RFB_VERSION_38, RFB_VERSION_LEN) != 0)
			return fail(f, LL_ERR_BAD_VERSION,
				    "the local RFB client did not answer "
				    "with RFB 3.8");
		f->cst = C_SEC_TYPE;
		return RFB_VERSION_LEN;
	case C_SEC_TYPE:
		if (p[0] != 1)
			return fail(f, LL_ERR_PROTOCOL,
				    "the local RFB client chose security "
				    "type %u; only None (1) is allowed",
				    p[0]);
		f->cst = C_INIT;
		return 1;
	case C_INIT:
		f->cst = C_MSG;
		return 1;
	case C_MSG:
		return client_msg(f, p, avail);
	case C_ENC:
		if (avail < 4)
			return 0;
		client_encoding(f, p);
		if (--f->encs_left == 0)
			f->cst = C_MSG;
		return 4;
	case C_SCREEN:
		if (avail < 16)
			return 0;
		if (--f->c_screens_left == 0)
			f->cst = C_MSG;
		return 16;
	case C_SKIP:
		n = avail < f->c_skip ? avail : f->c_skip;
		if (n > INT_MAX)
			n = INT_MAX;
		f->c_skip -= n;
		if (f->c_skip == 0)
			f->cst = C_MSG;
		return (int)n;
	}
	return fail(f, LL_ERR_INTERNAL, "bad filter state");
}

/*
 * Both directions run the same way: steps until one needs more bytes.
 * The client direction may rewrite bytes (SetEncodings), so it gets the
 * writable pointer; the server direction only reads.
 */
static int run_steps(struct ll_rfb_filter *f, const uint8_t *data,
		     uint8_t *wdata, size_t len)
{
	size_t off = 0;
	int n;

	if (f->err != 0)
		return f->err;
	if (len > INT_MAX)
		len = INT_MAX;
	while (off < len) {
		n = wdata != NULL ? client_step(f, wdata + off, len - off)
				  : server_step(f, data + off, len - off);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		off += (size_t)n;
	}
	return (int)off;
}

/* Whole chunks (any length): what may pass now, the rest is held back. */
static int run_chunk(struct ll_rfb_filter *f, const uint8_t *data,
		     uint8_t *wdata, size_t len, size_t *pass)
{
	size_t off = 0;
	int n;

	while (off < len) {
		n = run_steps(f, data + off, wdata ? wdata + off : NULL,
			      len - off);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (len - off >= LL_RFB_FILTER_ITEM_MAX)
		return fail(f, LL_ERR_INTERNAL,
			    "an item longer than the "
			    "filter holds back");
	*pass = off;
	return LL_OK;
}

int ll_rfb_filter_server(struct ll_rfb_filter *f, const uint8_t *data,
			 size_t len)
{
	return run_steps(f, data, NULL, len);
}

int ll_rfb_filter_server_chunk(struct ll_rfb_filter *f, const uint8_t *data,
			       size_t len, size_t *pass)
{
	return run_chunk(f, data, NULL, len, pass);
}

int ll_rfb_filter_client(struct ll_rfb_filter *f, uint8_t *data, size_t len)
{
	return run_steps(f, data, data, len);
}

int ll_rfb_filter_client_chunk(struct ll_rfb_filter *f, uint8_t *data,
			       size_t len, size_t *pass)
{
	return run_chunk(f, data, data, len, pass);
}
