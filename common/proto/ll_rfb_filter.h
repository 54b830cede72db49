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
 * encoder, and one coming as a rectangle is refused.  An update is only accepted
 * after the client asked for one, so that the pixel format the client set
 * first is the one lengths are computed with.
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
 *                        clipboard text, name, cursor, colour map)
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

/* Why the filter failed: a sentence without the offending data ("" while
 * it has not failed). */
const char *ll_rfb_filter_error(const struct ll_rfb_filter *f);

/* State for tests: the framebuffer size (0 x 0 before ServerInit) and
 * the bits per pixel lengths are computed with. */
void ll_rfb_filter_size(const struct ll_rfb_filter *f, unsigned *width,
			unsigned *height, unsigned *bpp);

#endif
