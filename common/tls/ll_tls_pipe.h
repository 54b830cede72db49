/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A TLS stream for forwarding (issue 14; bench/PROFILE.md): an
 * established SSL over a non-blocking socket, without libevent's
 * bufferevent_openssl.  Reads go through the socket (read-ahead, as the
 * relay's streams are set up); writes are encrypted into an output
 * buffer of the pipe's own, so that the records of several SSL writes
 * leave in ONE write(2) when the caller flushes: right away from its read
 * callback, and again on a write event only while the socket is full.
 *
 * Sans event loop: the caller (the relay's worker loops, workers.c) owns
 * the events and decides when to read, write and flush.  Not thread-safe:
 * one thread uses a pipe at a time.
 *
 * Returns: LL_OK, LL_ERR_WANT_READ (nothing to read now),
 * LL_ERR_WANT_WRITE (the socket is full, the rest stays buffered),
 * LL_ERR_CLOSED (the peer's end: close_notify or TCP end), or another
 * negative ll_err.
 */
#ifndef LL_TLS_PIPE_H
#define LL_TLS_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ssl_st;
struct ll_tls_pipe;

/*
 * Takes a reference of its own on ssl (the caller keeps and frees its
 * own) and replaces ssl's write BIO by the pipe's buffer; the read BIO
 * (the socket) stays.  fd is that socket; the pipe never closes it.
 * From then on ssl's write BIO reports no descriptor (BIO_get_fd: -1),
 * so that whoever frees the caller's reference (libevent's
 * bufferevent_openssl with CLOSE_ON_FREE) does not close the socket.
 * NULL on no memory (ssl unchanged).
 */
struct ll_tls_pipe *ll_tls_pipe_new(struct ssl_st *ssl, int fd);
/* For a pipe that never wrote, when a handover fails: gives ssl its
 * socket back as its write BIO, then frees the pipe. */
void ll_tls_pipe_undo(struct ll_tls_pipe *p);
/* Drops the pipe's reference on its SSL and its buffers; NULL is a
 * no-op.  The socket is the caller's. */
void ll_tls_pipe_free(struct ll_tls_pipe *p);

/* Up to len plaintext bytes (*n > 0 on LL_OK; one record at most). */
int ll_tls_pipe_read(struct ll_tls_pipe *p, void *buf, size_t len, size_t *n);
/* Encrypts len bytes into the output (records of up to 16 KiB). */
int ll_tls_pipe_write(struct ll_tls_pipe *p, const void *buf, size_t len);
/* Queues our close_notify behind the output. */
int ll_tls_pipe_close_notify(struct ll_tls_pipe *p);
/* Writes the output to the socket in as few write(2)s as it takes:
 * LL_OK once it is all out, LL_ERR_WANT_WRITE when the socket is full. */
int ll_tls_pipe_flush(struct ll_tls_pipe *p);
/* Bytes encrypted and not yet written. */
size_t ll_tls_pipe_out_len(const struct ll_tls_pipe *p);
/* Does the SSL hold bytes the socket will not signal again (decrypted,
 * or whole records read ahead)?  Then read again without an event. */
bool ll_tls_pipe_has_pending(const struct ll_tls_pipe *p);
/* True once the peer's close_notify came: it ended on purpose. */
bool ll_tls_pipe_got_close_notify(const struct ll_tls_pipe *p);
/*
 * For an idle pipe: gives back its empty output buffer and OpenSSL's
 * record buffers (SSL_free_buffers; nothing if they hold bytes).  A pipe
 * keeps them while it is busy: the caller trims what went quiet.
 * A TLS 1.3 server stream with nothing in flight also sheds its SSL
 * here: it drops its reference (the last one, once the handover freed
 * the bufferevent) and runs the records itself (pipe.c).  The calls
 * above work the same either way.
 */
void ll_tls_pipe_trim(struct ll_tls_pipe *p);
/* Has p shed its SSL? */
bool ll_tls_pipe_is_shed(const struct ll_tls_pipe *p);
/* Pipes that shed their SSL so far, in this process (for /metrics). */
uint64_t ll_tls_pipe_shed_count(void);

#endif
