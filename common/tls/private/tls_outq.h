/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Records waiting for their socket, gathered so that many go out with
 * one write(2): the forwarding pipe's output (pipe.c) and a client
 * stream's when it gathers its writes (ll_tls_conn_gather_writes).
 * OpenSSL writes into it through a sink BIO that never refuses.
 */
#ifndef LL_TLS_OUTQ_H
#define LL_TLS_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bio.h>

struct ll_tls_outq {
	int fd;
	uint8_t *buf; /* waiting: buf[off, off+len) */
	size_t off, len, cap;
};

/* Room for n more bytes at the end: where they go, or NULL without
 * memory.  The caller adds them to q->len. */
uint8_t *ll_tls_outq_room(struct ll_tls_outq *q, size_t n);
int ll_tls_outq_append(struct ll_tls_outq *q, const void *data, size_t n);
/* Writes to q->fd until empty (LL_OK) or the socket is full
 * (LL_ERR_WANT_WRITE); LL_ERR_IO with errno set otherwise. */
int ll_tls_outq_flush(struct ll_tls_outq *q);
/* Frees the buffer while nothing waits in it. */
void ll_tls_outq_release(struct ll_tls_outq *q);
/* Frees the buffer and drops whatever waits in it (its owner goes). */
void ll_tls_outq_clear(struct ll_tls_outq *q);
/* A write BIO for an SSL that appends its records to q (held, not
 * owned: ll_tls_outq_sink_detach before q goes). */
BIO *ll_tls_outq_sink_new(struct ll_tls_outq *q);
/* The sink takes nothing from now on (its SSL may outlive q). */
void ll_tls_outq_sink_detach(BIO *sink);

#endif
