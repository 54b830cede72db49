/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Mux frames inside a session stream (docs/ARCHITECTURE.md, Inside a
 * stream, layer 2).
 *
 * Wire format, big-endian:
 *
 *   u8  type       LL_FRAME_*
 *   u16 channel    0 control, 1 RFB, 2..n file transfers
 *   u32 length     payload bytes, at most the receiver's max payload
 *   ... payload
 *
 * Payloads by type:
 *   HELLO   channel 0; "LLMX", u16 version (1), u32 max payload the
 *           sender accepts, u32 initial window per channel it grants
 *   DATA    channel bytes (any length up to the cap)
 *   WINDOW  u32 credit increment for the channel
 *   OPEN    empty
 *   CLOSE   empty
 *   ERROR   channel 0; u16 code (an ll_err, negated), reason text (no NUL)
 *
 * Decoding is sans-I/O over a byte range: it returns the bytes of one
 * whole frame, 0 when more bytes are needed (never LL_ERR_TRUNCATED), or a
 * negative ll_err.  The length is checked against the cap before anything
 * else happens, and nothing is allocated: the decoded frame points into the
 * caller's bytes.
 */
#ifndef LL_FRAME_H
#define LL_FRAME_H

#include <stddef.h>
#include <stdint.h>

struct ll_buf;

#define LL_FRAME_HEADER_LEN 7u
/* Largest payload either side may ever announce or send. */
#define LL_FRAME_MAX_PAYLOAD 65536u
/* Smallest max payload a HELLO may announce (keeps framing overhead sane). */
#define LL_FRAME_MIN_PAYLOAD 1024u
#define LL_FRAME_HELLO_MAGIC "LLMX"
#define LL_FRAME_VERSION 1u
#define LL_FRAME_HELLO_LEN 14u
#define LL_FRAME_WINDOW_LEN 4u
#define LL_FRAME_ERROR_MIN_LEN 2u

enum ll_frame_type {
	LL_FRAME_HELLO = 1,
	LL_FRAME_DATA = 2,
	LL_FRAME_WINDOW = 3,
	LL_FRAME_OPEN = 4,
	LL_FRAME_CLOSE = 5,
	LL_FRAME_ERROR = 6,
};

struct ll_frame_hello {
	uint16_t version;
	uint32_t max_payload;    /* largest payload the sender accepts */
	uint32_t initial_window; /* credit per channel the sender grants */
};

struct ll_frame {
	uint8_t type; /* enum ll_frame_type */
	uint16_t channel;
	uint32_t len;           /* payload length */
	const uint8_t *payload; /* into the decoded bytes; not owned */
	union {
		struct ll_frame_hello hello; /* HELLO */
		uint32_t window_increment;   /* WINDOW */
		struct {
			uint16_t code;
			const char *reason; /* not NUL-terminated */
			size_t reason_len;
		} error; /* ERROR */
	} u;
};

/* "HELLO", "DATA", ..., or "unknown". */
const char *ll_frame_type_name(int type);

/*
 * Decode one frame from data[0..len).  max_payload is the cap this side
 * announced (0 or anything above LL_FRAME_MAX_PAYLOAD means
 * LL_FRAME_MAX_PAYLOAD).  Returns the frame's size (> 0) with *out filled,
 * 0 if the frame is not complete yet (*out untouched), or:
 *   LL_ERR_UNKNOWN_TYPE  type byte not one of LL_FRAME_*
 *   LL_ERR_TOO_LARGE     announced length over the cap (known from the
 *                        header alone, before the payload arrives)
 *   LL_ERR_BAD_VERSION   HELLO of another version
 *   LL_ERR_MALFORMED     wrong payload size for the type, bad HELLO magic
 *                        or parameters, HELLO/ERROR off channel 0, NUL in
 *                        an ERROR reason
 *   LL_ERR_INVALID_ARG   NULL arguments
 */
int ll_frame_decode(const uint8_t *data, size_t len, uint32_t max_payload,
		    struct ll_frame *out);

/*
 * Encoders append one whole frame to out, or nothing at all: on error
 * (LL_ERR_TOO_LARGE if out lacks room or the payload is over
 * LL_FRAME_MAX_PAYLOAD, LL_ERR_NOMEM, LL_ERR_INVALID_ARG) out is unchanged.
 */
int ll_frame_put(struct ll_buf *out, uint8_t type, uint16_t channel,
		 const void *payload, size_t len);
int ll_frame_put_hello(struct ll_buf *out, const struct ll_frame_hello *h);
int ll_frame_put_data(struct ll_buf *out, uint16_t channel, const void *data,
		      size_t len);
int ll_frame_put_window(struct ll_buf *out, uint16_t channel,
			uint32_t increment);
int ll_frame_put_open(struct ll_buf *out, uint16_t channel);
int ll_frame_put_close(struct ll_buf *out, uint16_t channel);
/* reason: NUL-terminated, cut to fit LL_FRAME_MIN_PAYLOAD. */
int ll_frame_put_error(struct ll_buf *out, uint16_t code, const char *reason);

#endif
