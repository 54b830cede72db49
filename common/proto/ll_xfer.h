/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * File transfer, sans I/O: the chunks that carry a file's bytes on its
 * own mux channel, and the rule that makes a file name from the other
 * side safe to create (docs/API.md section 5, "File transfer").
 *
 * A transfer (control messages in ll_control.h):
 *   sender   -> file_offer {channel, name, size, sha256}
 *   receiver -> file_accept {channel, offset}   (or file_cancel refused)
 *   sender opens `channel` (its parity), sends chunks from offset to size
 *   receiver -> file_done {channel} once the SHA-256 of the whole file
 *               matched (or file_cancel bad_hash)
 * Either side may send file_cancel {channel, reason} at any time.  The
 * chunks are windowed by the mux's per-channel credit, never stop and
 * wait.  A transfer cut by a lost stream is offered again with the same
 * name, size and SHA-256; the receiver answers with the offset it holds
 * (and the final hash covers those bytes too).
 *
 * A chunk on the channel:
 *   u8 kind (0 raw, 1 zlib) | u32 raw_len | u32 wire_len | wire_len bytes
 * raw_len 1..LL_XFER_CHUNK and never past the offered size; raw: wire_len
 * = raw_len; zlib: 1 <= wire_len < raw_len (zlib only where it helps) and
 * the bytes inflate to exactly raw_len.  Anything else is refused:
 * LL_ERR_MALFORMED (unknown kind, lengths), LL_ERR_TOO_LARGE (past the
 * size); zlib data that does not inflate to exactly raw_len is
 * LL_ERR_MALFORMED too.
 */
#ifndef LL_XFER_H
#define LL_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ll_buf;

#define LL_XFER_CHUNK (64u * 1024u)
#define LL_XFER_HDR 9u
#define LL_XFER_KIND_RAW 0u
#define LL_XFER_KIND_ZLIB 1u
/* Longest name we create (bytes), room left for " (99)" and ".part". */
#define LL_XFER_NAME_MAX 200u

/* ---- sending ---- */

struct ll_xfer_enc;
/* NULL on OOM. */
struct ll_xfer_enc *ll_xfer_enc_new(void);
void ll_xfer_enc_free(struct ll_xfer_enc *e);
/*
 * Append one chunk of len (1..LL_XFER_CHUNK) bytes to out, deflated when
 * that makes it smaller.  Data that did not shrink makes the encoder skip
 * zlib for the next chunks (trying again now and then), so incompressible
 * files cost no CPU for compression.  All or nothing: LL_ERR_INVALID_ARG,
 * LL_ERR_TOO_LARGE (out is full), LL_ERR_NOMEM.
 */
int ll_xfer_enc_chunk(struct ll_xfer_enc *e, const void *data, size_t len,
		      struct ll_buf *out);
/* Chunks sent deflated / raw so far. */
void ll_xfer_enc_stats(const struct ll_xfer_enc *e, uint64_t *zlib,
		       uint64_t *raw);

/* ---- receiving ---- */

struct ll_xfer_dec;
/* A decoder for `remaining` more bytes of file; NULL on OOM. */
struct ll_xfer_dec *ll_xfer_dec_new(uint64_t remaining);
void ll_xfer_dec_free(struct ll_xfer_dec *d);
/*
 * Feed channel bytes.  *used (always set) says how many of data[0..len)
 * were taken.  Returns 1 when a whole chunk is decoded: *out and *out_len are
 * its file bytes (valid until the next call); feed the rest of the input
 * again.  0 when every byte was taken and more are needed; a negative
 * ll_err (see above) when the peer sent what the format refuses, after
 * which the decoder refuses everything.
 */
int ll_xfer_dec_feed(struct ll_xfer_dec *d, const uint8_t *data, size_t len,
		     size_t *used, const uint8_t **out, size_t *out_len);
/* File bytes still expected (0: the file is complete). */
uint64_t ll_xfer_dec_remaining(const struct ll_xfer_dec *d);

/* ---- names ---- */

/*
 * Makes the name the other side gave into one we may create in the chosen
 * folder, in out (size >= LL_XFER_NAME_MAX + 1):
 *   - ll_text_printable() first (ll_text.h): invalid UTF-8, control,
 *     bidi and invisible format characters are taken out;
 *   - what it took out (U+FFFD), '/', '\\', ':' and the characters
 *     Windows refuses ("<>|?*) become '_';
 *   - leading dots and spaces and trailing dots and spaces go (no hidden
 *     file, no "." or "..");
 *   - a DOS device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with or
 *     without an extension, any case) gets a leading '_';
 *   - cut to LL_XFER_NAME_MAX bytes at a character boundary, keeping an
 *     extension of up to 16 bytes;
 *   - nothing left: "file".
 * Always succeeds; returns true when the name had to change.
 */
bool ll_xfer_safe_name(const char *name, char *out, size_t size);

#endif
