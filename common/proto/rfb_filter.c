/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The RFB validator of channel 1 (see ll_rfb_filter.h).  Two small state
 * machines, one per direction, sharing what one needs of the other: the
 * pixel size and the encodings the client asked for, whether it asked for
 * an update yet.  Every state needs either a whole fixed-size item (read
 * through an ll_buf_view once it is all there) or skips a payload whose
 * length was checked against its cap first.  Nothing is allocated after
 * ll_rfb_filter_new() but Tight's zlib streams, on their first data.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST /* next_in points to the const bytes fed */
#include <zlib.h>

#include "ll_buf.h"
#include "ll_err.h"
#include "ll_rfb_filter.h"

#define RFB_VERSION_38 "RFB 003.008\n"
#define RFB_VERSION_LEN 12u

/* Server-to-client states. */
enum sstate {
	S_VERSION = 0,
	S_SEC_COUNT,     /* u8 number of security types */
	S_SEC_TYPE,      /* one type of the list */
	S_SEC_RESULT,    /* u32 SecurityResult */
	S_REASON_LEN,    /* u32 length of a refusal reason */
	S_SERVER_INIT,   /* 24 bytes before the name */
	S_MSG,           /* a server message begins */
	S_RECT,          /* a rectangle header (+ fixed extra) */
	S_SCREEN,        /* one ExtendedDesktopSize screen */
	S_SKIP,          /* payload bytes, then s_after */
	S_REFUSED,       /* the server refused: nothing may follow */
	S_TIGHT_FILTER,  /* Tight: the explicit filter id */
	S_TIGHT_PALETTE, /* Tight: u8 colours - 1 */
	S_TIGHT_RAW,     /* Tight: pixel data under 12 bytes, as it is */
	S_TIGHT_LEN,     /* Tight: compact length of the data */
	S_TIGHT_SOI,     /* Tight: the 2 bytes a JPEG begins with */
	S_TIGHT_JPEG,    /* Tight: JPEG markers up to the frame header */
	S_TIGHT_ZDATA,   /* Tight: zlib data, inflated to count */
};

/* Where a server payload leads once skipped. */
enum safter {
	A_MSG = 0,
	A_RECT_DONE,
	A_REFUSED,
	A_TIGHT_DATA, /* a Tight palette, then the pixel data */
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
	/* FramebufferUpdates begun, and the number of the last one that
	 * held a JPEG rectangle (ll_rfb_filter_lossy_update) */
	uint64_t updates;
	uint64_t lossy_update;
	unsigned screens_left;
	/* ExtendedDesktopSize being read: its size and status, whether
	 * every screen so far is one libvncclient accepts */
	unsigned ext_w, ext_h, ext_status;
	bool ext_valid;
	unsigned fb_w, fb_h; /* 0 x 0 before ServerInit */
	unsigned bpp;        /* bits per pixel the client decodes */
	bool true_colour;
	bool pixel24;   /* Tight sends pixels of 3 bytes (TPIXEL) */
	bool ambiguous; /* decoders disagree on TPIXEL: no Tight */
	/* The Tight rectangle being read: its size, its stream, its
	 * kind, its palette (0: none), the inflated bytes still due */
	unsigned t_w, t_h, t_stream, t_colours;
	bool t_jpeg;
	size_t t_out_left;
	/* The JPEG being scanned: where in its markers, the segment left,
	 * whether it is the frame header, where in it, its size so far */
	unsigned j_state;
	size_t j_seg;
	bool j_sof;
	unsigned j_pos;
	uint32_t j_size;
	/* Tight's four zlib streams, as the decoder keeps them */
	z_stream z[4];
	bool z_active[4];

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

/* Tight's TPIXEL rule (rfbproto, "Tight Encoding"; libvncclient's
 * cutZeros): 3 bytes for 32-bit true colour of depth 24 with 8-bit
 * maxima, else bpp / 8. */
static bool pf_pixel24(const struct pixel_format *pf)
{
	return pf->true_colour && pf->bpp == 32 && pf->depth == 24 &&
	       pf->max[0] == 255 && pf->max[1] == 255 && pf->max[2] == 255;
}

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
	int i;

	if (f == NULL)
		return;
	for (i = 0; i < 4; i++)
		if (f->z_active[i])
			inflateEnd(&f->z[i]);
	free(f);
}

void ll_rfb_filter_free_cb(void *f)
{
	ll_rfb_filter_free(f);
}

uint64_t ll_rfb_filter_lossy_update(const struct ll_rfb_filter *f)
{
	return f->lossy_update;
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

static void tight_data(struct ll_rfb_filter *f);

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
	case A_TIGHT_DATA:
		tight_data(f);
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
	case LL_RFB_ENC_TIGHT:
		return 1; /* the compression control byte */
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

/* ---------------------------------------------------------------- Tight */

#define TIGHT_MIN_TO_COMPRESS 12 /* less data comes as it is */

/* Bytes of one pixel in Tight's data (TPIXEL). */
static unsigned tpixel(const struct ll_rfb_filter *f)
{
	return f->pixel24 ? 3 : f->bpp / 8;
}

/* Bits 0-3 of the control byte: the decoder forgets those streams, so
 * do we (their next data starts a new zlib stream). */
static void tight_reset(struct ll_rfb_filter *f, unsigned bits)
{
	int i;

	for (i = 0; i < 4; i++) {
		if ((bits & (1u << i)) && f->z_active[i]) {
			inflateEnd(&f->z[i]);
			f->z_active[i] = false;
		}
	}
}

/* The pixel data of a Basic rectangle follows (its filter known). */
static void tight_data(struct ll_rfb_filter *f)
{
	size_t bits = f->t_colours == 2  ? 1
		      : f->t_colours > 0 ? 8
					 : (size_t)tpixel(f) * 8;

	/* w <= 2048, h <= 8192, bits <= 32: far from overflowing */
	f->t_out_left = (f->t_w * bits + 7) / 8 * f->t_h;
	f->sst = f->t_out_left < TIGHT_MIN_TO_COMPRESS ? S_TIGHT_RAW
						       : S_TIGHT_LEN;
}

/* The compression control byte of a w x h rectangle. */
static int tight_begin(struct ll_rfb_filter *f, unsigned w, unsigned h,
		       uint8_t ctl)
{
	unsigned sub = ctl >> 4;

	tight_reset(f, ctl & 0x0f);
	if (w == 0 || h == 0)
		return fail(f, LL_ERR_PROTOCOL, "a Tight rectangle is empty");
	/* libvncclient reads 3 bytes for depth 24 with 8-bit maxima only,
	 * gtk-vnc for any depth 24 */
	if (f->ambiguous)
		return fail(f, LL_ERR_PROTOCOL,
			    "a Tight rectangle came for a depth-24 pixel "
			    "format whose pixel size the decoders disagree on");
	f->t_w = w;
	f->t_h = h;
	f->t_stream = sub & 3;
	f->t_colours = 0;
	f->t_jpeg = false;
	if (sub == 8) { /* Fill: one pixel, any size */
		begin_skip(f, tpixel(f), A_RECT_DONE);
		return LL_OK;
	}
	if (sub > 9)
		return fail(f, LL_ERR_UNKNOWN_TYPE,
			    "Tight compression control 0x%02x is not Fill, "
			    "JPEG or Basic",
			    ctl);
	if (w > LL_RFB_FILTER_TIGHT_MAX_WIDTH)
		return fail(f, LL_ERR_TOO_LARGE,
			    "a %ux%u Tight rectangle is wider than %u", w, h,
			    LL_RFB_FILTER_TIGHT_MAX_WIDTH);
	if (sub == 9) {
		if (!f->jpeg_requested)
			return fail(f, LL_ERR_PROTOCOL,
				    "a Tight JPEG rectangle came, but the "
				    "client asked for no JPEG quality");
		if (!f->true_colour || f->bpp == 8)
			return fail(f, LL_ERR_PROTOCOL,
				    "a Tight JPEG rectangle came for a %u-bit "
				    "%s pixel format",
				    f->bpp,
				    f->true_colour ? "true-colour"
						   : "colour-map");
		f->t_jpeg = true;
		f->lossy_update = f->updates;
		f->sst = S_TIGHT_LEN;
		return LL_OK;
	}
	if (sub & 4)
		f->sst = S_TIGHT_FILTER;
	else
		tight_data(f);
	return LL_OK;
}

static int tight_filter(struct ll_rfb_filter *f, uint8_t id)
{
	switch (id) {
	case 0: /* Copy */
		tight_data(f);
		return 1;
	case 1: /* Palette: the number of colours follows */
		f->sst = S_TIGHT_PALETTE;
		return 1;
	case 2: /* Gradient: what servers send for true colour only */
		if (!f->true_colour || f->bpp == 8)
			return fail(f, LL_ERR_PROTOCOL,
				    "a Tight Gradient came for a %u-bit %s "
				    "pixel format",
				    f->bpp,
				    f->true_colour ? "true-colour"
						   : "colour-map");
		tight_data(f);
		return 1;
	default:
		return fail(f, LL_ERR_UNKNOWN_TYPE,
			    "Tight filter %u is not Copy, Palette or Gradient",
			    id);
	}
}

/* 8-bit palette indices must name one of the palette's colours. */
static int tight_indices(struct ll_rfb_filter *f, const uint8_t *p, size_t n)
{
	size_t i;

	if (f->t_colours <= 2)
		return LL_OK;
	for (i = 0; i < n; i++)
		if (p[i] >= f->t_colours)
			return fail(f, LL_ERR_PROTOCOL,
				    "a Tight palette index %u is past its %u "
				    "colours",
				    p[i], f->t_colours);
	return LL_OK;
}

/* The compact length: 1 to 3 bytes, 7 + 7 + 8 bits. */
static int tight_len(struct ll_rfb_filter *f, const uint8_t *p, size_t avail)
{
	uint32_t len = p[0] & 0x7f;
	int n = 1;

	if (p[0] & 0x80) {
		if (avail < 2)
			return 0;
		len |= (uint32_t)(p[1] & 0x7f) << 7;
		n = 2;
		if (p[1] & 0x80) {
			if (avail < 3)
				return 0;
			len |= (uint32_t)p[2] << 14;
			n = 3;
		}
	}
	if (len == 0)
		return fail(f, LL_ERR_PROTOCOL,
			    "a Tight rectangle has a data length of 0");
	if (f->t_jpeg) {
		if (len < 2)
			return fail(f, LL_ERR_MALFORMED,
				    "a Tight JPEG of %u byte is too short",
				    len);
		f->s_skip = len;
		f->sst = S_TIGHT_SOI;
	} else {
		f->s_skip = len;
		f->sst = S_TIGHT_ZDATA;
	}
	return n;
}

/* Inflates n bytes of zlib data on the rectangle's stream, counting
 * what comes out against its rows. */
static int tight_inflate(struct ll_rfb_filter *f, const uint8_t *p, size_t n)
{
	z_stream *z = &f->z[f->t_stream];
	uint8_t out[4096];
	size_t got;
	int zr, r;

	if (!f->z_active[f->t_stream]) {
		memset(z, 0, sizeof(*z));
		if (inflateInit(z) != Z_OK)
			return fail(f, LL_ERR_NOMEM,
				    "no memory for a Tight zlib stream");
		f->z_active[f->t_stream] = true;
	}
	z->next_in = p;
	z->avail_in = (uInt)n;
	do {
		z->next_out = out;
		z->avail_out = sizeof(out);
		zr = inflate(z, Z_SYNC_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
			return fail(f, LL_ERR_MALFORMED,
				    "Tight data on zlib stream %u does not "
				    "inflate",
				    f->t_stream);
		got = sizeof(out) - z->avail_out;
		if (got > f->t_out_left)
			return fail(f, LL_ERR_TOO_LARGE,
				    "Tight data inflates to more than the "
				    "pixels of its %ux%u rectangle",
				    f->t_w, f->t_h);
		if ((r = tight_indices(f, out, got)) != 0)
			return r;
		f->t_out_left -= got;
	} while (zr == Z_OK && (z->avail_out == 0 || z->avail_in > 0));
	if (z->avail_in > 0)
		return fail(f, LL_ERR_PROTOCOL,
			    "Tight data goes on after its zlib stream ended");
	return LL_OK;
}

/* Where a JPEG's marker scan is. */
enum jstate {
	J_FF = 0, /* a marker is due */
	J_CODE,   /* its code */
	J_LEN1,   /* its segment's length */
	J_LEN2,
	J_BODY, /* the segment */
};

/* One byte of a JPEG's markers; 1 once its frame header was read. */
static int jpeg_byte(struct ll_rfb_filter *f, uint8_t b)
{
	switch (f->j_state) {
	case J_FF:
		if (b != 0xff)
			return fail(f, LL_ERR_MALFORMED,
				    "a Tight JPEG has no marker where one is "
				    "due");
		f->j_state = J_CODE;
		return 0;
	case J_CODE:
		if (b == 0xff) /* fill byte */
			return 0;
		if ((b >= 0xd0 && b <= 0xd7) || b == 0x01) { /* no length */
			f->j_state = J_FF;
			return 0;
		}
		if (b == 0x00 || (b >= 0xd8 && b <= 0xda))
			return fail(f, LL_ERR_MALFORMED,
				    "a Tight JPEG has marker 0x%02x before "
				    "its frame header",
				    b);
		/* SOF0-15, not DHT, JPG, DAC */
		f->j_sof = (b & 0xf0) == 0xc0 && b != 0xc4 && b != 0xc8 &&
			   b != 0xcc;
		f->j_state = J_LEN1;
		return 0;
	case J_LEN1:
		f->j_seg = (size_t)b << 8;
		f->j_state = J_LEN2;
		return 0;
	case J_LEN2:
		f->j_seg |= b;
		/* a frame header has precision, height, width at least */
		if (f->j_seg < (f->j_sof ? 7u : 2u))
			return fail(f, LL_ERR_MALFORMED,
				    "a Tight JPEG has a segment too short");
		f->j_seg -= 2;
		f->j_pos = 0;
		f->j_size = 0;
		f->j_state = f->j_seg > 0 ? J_BODY : J_FF;
		return 0;
	default: /* J_BODY */
		if (f->j_sof && f->j_pos >= 1)
			f->j_size = f->j_size << 8 | b;
		if (f->j_sof && ++f->j_pos == 5)
			return 1;
		if (--f->j_seg == 0)
			f->j_state = J_FF;
		return 0;
	}
}

/*
 * A JPEG's markers up to its frame header, whose size must be the
 * rectangle's: gtk-vnc draws the decoded picture as w x h whatever its
 * own size.  The rest (tables, scans) is skipped.
 */
static int tight_jpeg(struct ll_rfb_filter *f, const uint8_t *p, size_t avail)
{
	size_t n = avail < f->s_skip ? avail : f->s_skip, i;
	unsigned jw, jh;
	int r;

	for (i = 0; i < n; i++) {
		if ((r = jpeg_byte(f, p[i])) < 0)
			return r;
		if (r == 0)
			continue;
		jh = f->j_size >> 16;
		jw = f->j_size & 0xffff;
		if (jw != f->t_w || jh != f->t_h)
			return fail(f, LL_ERR_PROTOCOL,
				    "a Tight JPEG of %ux%u came for a %ux%u "
				    "rectangle",
				    jw, jh, f->t_w, f->t_h);
		begin_skip(f, f->s_skip - (i + 1), A_RECT_DONE);
		return (int)(i + 1);
	}
	f->s_skip -= n;
	if (f->s_skip == 0)
		return fail(f, LL_ERR_MALFORMED,
			    "a Tight JPEG ends before its frame header");
	return (int)n;
}

static int tight_step(struct ll_rfb_filter *f, const uint8_t *p, size_t avail)
{
	size_t n;
	int r;

	switch (f->sst) {
	case S_TIGHT_FILTER:
		return tight_filter(f, p[0]);
	case S_TIGHT_PALETTE:
		f->t_colours = p[0] + 1u;
		if (f->t_colours < 2)
			return fail(f, LL_ERR_PROTOCOL,
				    "a Tight palette has a single colour");
		begin_skip(f, (size_t)f->t_colours * tpixel(f), A_TIGHT_DATA);
		return 1;
	case S_TIGHT_RAW: /* under 12 bytes: a whole item */
		n = f->t_out_left;
		if (avail < n)
			return 0;
		if ((r = tight_indices(f, p, n)) != 0)
			return r;
		rect_done(f);
		return (int)n;
	case S_TIGHT_LEN:
		return tight_len(f, p, avail);
	case S_TIGHT_SOI:
		if (avail < 2)
			return 0;
		if (p[0] != 0xff || p[1] != 0xd8)
			return fail(f, LL_ERR_MALFORMED,
				    "a Tight JPEG does not begin with a JPEG "
				    "start of image");
		f->s_skip -= 2;
		if (f->s_skip == 0)
			return fail(
				f, LL_ERR_MALFORMED,
				"a Tight JPEG ends before its frame header");
		f->j_state = J_FF;
		f->sst = S_TIGHT_JPEG;
		return 2;
	case S_TIGHT_JPEG:
		return tight_jpeg(f, p, avail);
	case S_TIGHT_ZDATA:
		n = avail < f->s_skip ? avail : f->s_skip;
		if ((r = tight_inflate(f, p, n)) != 0)
			return r;
		f->s_skip -= n;
		if (f->s_skip == 0) {
			if (f->t_out_left != 0)
				return fail(f, LL_ERR_PROTOCOL,
					    "Tight data inflates to %zu bytes "
					    "less than its %ux%u rectangle",
					    f->t_out_left, f->t_w, f->t_h);
			rect_done(f);
		}
		return (int)n;
	default:
		return fail(f, LL_ERR_INTERNAL, "bad Tight state");
	}
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
	     enc == LL_RFB_ENC_ZRLE || enc == LL_RFB_ENC_TIGHT) &&
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
		if ((r = tight_begin(f, w, h, p[12])) != 0)
			return r;
		break;
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
		f->updates++;
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
		f->pixel24 = pf_pixel24(&pf);
		f->ambiguous = pf.depth == 24 && !f->pixel24;
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
	case S_TIGHT_FILTER:
	case S_TIGHT_PALETTE:
	case S_TIGHT_RAW:
	case S_TIGHT_LEN:
	case S_TIGHT_SOI:
	case S_TIGHT_JPEG:
	case S_TIGHT_ZDATA:
		return tight_step(f, p, avail);
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
	f->pixel24 = pf_pixel24(&pf);
	f->ambiguous = pf.depth == 24 && !f->pixel24;
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
