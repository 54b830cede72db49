/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A validator for the RFB 3.8 stream between the applet (server) and the
 * agent's RFB client (libvncclient in the CLI's holder, gtk-vnc in the
 * GUI), placed on the bridge of mux channel 1 (ll_session_io_filter).
 * Both decoders handle every encoding they were built with, whatever
 * they asked for, and those decoders have a long CVE history: the filter
 * makes sure that only what we use ever reaches them.  Sans-I/O: feed
 * bytes, nothing is read or written here; it lives in common/proto so
 * that either end of channel 1 can use it (the agent does today).
 *
 * Server to client (validated, never changed): ProtocolVersion 3.8,
 * security types (None only), SecurityResult, ServerInit (framebuffer at
 * most LL_RFB_FILTER_MAX_DIM on each side, 8/16/32 bits per pixel, a
 * sane pixel format, a short name), then FramebufferUpdate,
 * SetColourMapEntries (not with a true-colour format), Bell and
 * ServerCutText (capped; its text is never looked at or logged).  A
 * rectangle's encoding must be in LL_RFB_FILTER_ENCODINGS *and* have been
 * requested by the client; picture rectangles must lie inside the
 * framebuffer; each payload is skipped by its exact length (raw w*h*bpp/8,
 * CopyRect 4, ZRLE u32 length capped, cursor shapes, DesktopSize and
 * ExtendedDesktopSize updating the size).  The Tight tuning levels (JPEG
 * quality, compression level, TurboVNC fine quality and subsampling)
 * may be asked for and pass unchanged: they only tune the server's
 * encoder, and one coming as a rectangle is refused.  An update is only
 * accepted after the client asked for one, so that the pixel format the
 * client set first is the one lengths are computed with.
 *
 * Tight rectangles (rfbproto, "Tight Encoding") are checked as libvncclient
 * and gtk-vnc read them, and where the two differ, as strictly as the
 * stricter: not empty, inside the framebuffer; the compression control's
 * low 4 bits reset zlib streams, its high 4 are Fill (0x8: one TPIXEL,
 * any size), JPEG (0x9) or Basic (0x0-0x7: stream id, bit 0x4 an
 * explicit filter); 0xA-0xF (TightPNG, TurboVNC's raw Tight) are refused.
 * JPEG and Basic rectangles are at most LL_RFB_FILTER_TIGHT_MAX_WIDTH
 * wide (libvncclient's Gradient row; servers split at it).  JPEG only
 * when the client asked for a JPEG quality level, only at 16 or 32 bits
 * true colour (libvncclient refuses it at 8), its data (a compact
 * length) beginning with the JPEG start of image FF D8 (gtk-vnc hands it
 * to a gdk-pixbuf loader that would sniff and decode any image format),
 * and its markers are followed to the frame header, whose size must be
 * the rectangle's (gtk-vnc draws w x h pixels from the decoded picture
 * whatever its size); the rest of the JPEG is skipped.  Filters: Copy,
 * Palette (2 to 256 colours, then 1-bit indices for 2, 8-bit ones that
 * must each name a colour), Gradient (true colour over 8 bits only, as
 * servers send it).  TPIXEL is 3 bytes when the client's format is
 * 32 bpp, depth 24, true colour with 8-bit maxima, else bpp / 8; gtk-vnc
 * reads 3 for any depth 24, so a depth-24 format without 8-bit maxima
 * gets no Tight at all.  Data under 12 bytes comes as it is; longer data
 * has a compact length (1 to 3 bytes, 22 bits, not 0) and is INFLATED
 * here on the filter's own
 * copy of the four zlib streams, which must give exactly the rows of the
 * rectangle (not a byte more or less, nothing after a stream's end).
 * Unlike ZRLE (length-capped framing only), Tight is inflated because
 * libvncclient, until its recent "too many scan lines" fix, wrote every
 * row its inflate gave into the framebuffer, past the rectangle's
 * height (a heap overflow on every client still without the fix): a
 * framing check alone cannot see that, and the cost is small (at most
 * 4 x 44 KiB of zlib state per session, made only once Tight data
 * comes, and one inflate of bytes the decoder inflates anyway).  The
 * JPEG's pixels are not decoded here: its decoders (libjpeg-turbo,
 * gdk-pixbuf's JPEG loader) are fuzzed upstream, and decoding twice
 * would double the agent's work for every lossy frame.
 *
 * Client to server (ours, parsed to follow it): the pixel format the
 * client decodes with (SetPixelFormat), the update requests, and the
 * encodings it asks for.  SetEncodings is REWRITTEN IN PLACE: every
 * encoding outside LL_RFB_FILTER_ENCODINGS becomes CopyRect (a duplicate
 * the server treats as a no-op: CopyRect never becomes the "preferred"
 * encoding).  An honest applet thus never sends what the filter refuses,
 * even in the window between gtk-vnc's own full encoding list (Tight,
 * Hextile, WMVi, audio, ...) and the restricted one viewer.c sends after
 * it.
 *
 * Both directions consume whole items only (headers; payloads stream):
 * the bridge holds back an incomplete tail (less than
 * LL_RFB_FILTER_ITEM_MAX bytes) and presents it again in front of the
 * next bytes, so that no decoder ever sees a header before it was
 * checked, and an encoding is rewritten before any byte of it leaves.
 *
 * Return values follow HACKING.md (Style, habit 2): ll_rfb_filter_server() and
 * ll_rfb_filter_client() return the bytes consumed (> 0), 0 when the
 * next item is not complete yet (present it again with more), or a
 * negative ll_err; ll_rfb_filter_error() then says why in a sentence.
 * Errors are sticky: once failed, every call returns the same error.
 *  LL_ERR_BAD_VERSION    not RFB 3.8
 *  LL_ERR_PROTOCOL       a rule broken (bad security type, a rectangle
 *                        outside the framebuffer, an unasked update, a
 *                        bad pixel format, bytes after a refusal, ...)
 *  LL_ERR_UNKNOWN_TYPE   an encoding or message type not allowed
 *  LL_ERR_TOO_LARGE      a size over its cap (rectangle, ZRLE data,
 *                        clipboard text, name, cursor, colour map,
 *                        Tight width, Tight data inflating to more)
 *  LL_ERR_MALFORMED      Tight zlib data that does not inflate, a JPEG
 *                        that does not begin as one
 *  LL_ERR_NOMEM          no memory for a Tight zlib stream
 *  LL_ERR_TRUNCATED      (ll_rfb_filter_server_end) the stream ended
 *                        inside a message
 */
#ifndef LL_RFB_FILTER_H
#define LL_RFB_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps. */
#define LL_RFB_FILTER_MAX_DIM 8192               /* framebuffer, each side */
#define LL_RFB_FILTER_MAX_CURSOR 1024            /* cursor shape, each side */
#define LL_RFB_FILTER_MAX_NAME 4096u             /* desktop name, bytes */
#define LL_RFB_FILTER_MAX_REASON 4096u           /* refusal reason, bytes */
#define LL_RFB_FILTER_MAX_CUT_TEXT (1u << 20)    /* server clipboard */
#define LL_RFB_FILTER_MAX_CLIENT_CUT (16u << 20) /* our own clipboard */
#define LL_RFB_FILTER_MAX_ZRLE (64u << 20)       /* one ZRLE rectangle */
#define LL_RFB_FILTER_TIGHT_MAX_WIDTH 2048       /* JPEG and Basic Tight */
/* Longest item either direction needs whole (the rest is streamed). */
#define LL_RFB_FILTER_ITEM_MAX 32u
#define LL_RFB_FILTER_MSG_LEN 192

/* The encodings that may reach a decoder (lossless pictures and the
 * pseudo-encodings viewer.c and rfb_client.c ask for). */
#define LL_RFB_ENC_RAW 0
#define LL_RFB_ENC_COPYRECT 1
#define LL_RFB_ENC_TIGHT 7
#define LL_RFB_ENC_ZRLE 16
#define LL_RFB_ENC_DESKTOP_SIZE (-223)
#define LL_RFB_ENC_LAST_RECT (-224)
#define LL_RFB_ENC_POINTER_POS (-232)
#define LL_RFB_ENC_CURSOR (-239)
#define LL_RFB_ENC_XCURSOR (-240)
#define LL_RFB_ENC_POINTER_CHANGE (-257)
#define LL_RFB_ENC_EXT_DESKTOP_SIZE (-308)
#define LL_RFB_FILTER_ENCODINGS                                               \
	"Raw, CopyRect, Tight, ZRLE, Cursor, XCursor, DesktopSize, "          \
	"ExtendedDesktopSize, LastRect, PointerPos, PointerChange, "          \
	"JPEG quality, compression level, fine quality, subsampling"

/* Pseudo-encodings that only tune the server's Tight encoder: asking for
 * them is allowed, none of them ever comes as a rectangle.  A JPEG
 * quality level (coarse or fine) is what lets Tight use JPEG. */
#define LL_RFB_ENC_QUALITY_FIRST (-32) /* quality level 0 .. */
#define LL_RFB_ENC_QUALITY_LAST (-23)  /* .. 9 */
#define LL_RFB_ENC_COMPRESS_FIRST (-256)
#define LL_RFB_ENC_COMPRESS_LAST (-247)
#define LL_RFB_ENC_FINE_QUALITY_FIRST (-512) /* TurboVNC 0 .. */
#define LL_RFB_ENC_FINE_QUALITY_LAST (-412)  /* .. 100 */
#define LL_RFB_ENC_SUBSAMP_FIRST (-768)      /* TurboVNC 1X .. */
#define LL_RFB_ENC_SUBSAMP_LAST (-763)       /* .. 16X */

struct ll_rfb_filter;

/* A filter at the start of a connection.  NULL on allocation failure. */
struct ll_rfb_filter *ll_rfb_filter_new(void);
/* NULL ok. */
void ll_rfb_filter_free(struct ll_rfb_filter *f);
/* Same signature as a GDestroyNotify / ll_session_io_filter.free_user. */
void ll_rfb_filter_free_cb(void *f);

/* True if enc is one of LL_RFB_FILTER_ENCODINGS (a picture or
 * pseudo-encoding, or a Tight tuning level). */
bool ll_rfb_filter_encoding_allowed(int32_t enc);

/*
 * Server-to-client bytes: consumed (> 0), 0 need more, negative ll_err.
 * Payloads are consumed as they come; only headers need to be whole.
 */
int ll_rfb_filter_server(struct ll_rfb_filter *f, const uint8_t *data,
			 size_t len);
/*
 * As many whole items of data as there are: *pass gets the bytes that
 * may go on to the client, the rest (< LL_RFB_FILTER_ITEM_MAX) is to be
 * presented again in front of the next bytes.  LL_OK or a negative
 * ll_err (*pass untouched).  The shape of ll_session_io_filter.in.
 */
int ll_rfb_filter_server_chunk(struct ll_rfb_filter *f, const uint8_t *data,
			       size_t len, size_t *pass);
/* The server's stream ended, the caller still holding back held bytes
 * (0 if none): LL_OK at a message boundary (or after a refusal), else
 * LL_ERR_TRUNCATED. */
int ll_rfb_filter_server_end(struct ll_rfb_filter *f, size_t held);

/*
 * Client-to-server bytes, rewritten in place (SetEncodings, see above):
 * consumed (> 0), 0 need more, negative ll_err.
 */
int ll_rfb_filter_client(struct ll_rfb_filter *f, uint8_t *data, size_t len);
/*
 * As many whole items of data as there are: *pass gets the bytes that
 * may go (rewritten), the rest (< LL_RFB_FILTER_ITEM_MAX) is to be
 * presented again in front of the next bytes.  LL_OK or a negative
 * ll_err (*pass untouched).
 */
int ll_rfb_filter_client_chunk(struct ll_rfb_filter *f, uint8_t *data,
			       size_t len, size_t *pass);

/*
 * The number (1 for the first) of the last FramebufferUpdate the server
 * side began that held a Tight JPEG rectangle, 0 if none did: a client
 * that counts the updates it decodes knows which of them were lossy (an
 * exact snapshot must not be made of one).  Counted as the bytes are
 * read, so it may already name an update the client has not decoded.
 */
uint64_t ll_rfb_filter_lossy_update(const struct ll_rfb_filter *f);

/* Why the filter failed: a sentence without the offending data ("" while
 * it has not failed). */
const char *ll_rfb_filter_error(const struct ll_rfb_filter *f);

/* State for tests: the framebuffer size (0 x 0 before ServerInit) and
 * the bits per pixel lengths are computed with. */
void ll_rfb_filter_size(const struct ll_rfb_filter *f, unsigned *width,
			unsigned *height, unsigned *bpp);

#endif
