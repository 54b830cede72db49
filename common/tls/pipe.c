/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The forwarding TLS stream (ll_tls_pipe.h).  Why not libevent's
 * bufferevent_openssl (bench/PROFILE.md): it writes each SSL_write's
 * record with its own write(2) through a socket BIO, and it can only
 * write from a write event, so every record forwarded costs an
 * epoll_ctl pair for EPOLLOUT.  Here the SSL's write BIO is a sink that
 * appends records to one contiguous buffer; the caller flushes it with
 * a single write(2) when it has forwarded what it read.
 *
 * An idle TLS 1.3 pipe sheds its SSL (ll_tls_pipe_trim): OpenSSL's
 * connection state is some 13 KiB after the handshake, most of an idle
 * paired session's memory (bench/results/relay-idle-profile.md).  From
 * then on the pipe runs the record layer itself (ll_tls_rec13.h, with
 * the traffic secrets and record counts shed.c kept): it reads the
 * socket into a buffer of its own and seals straight into its output.
 */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ll_tls.h"
#include "ll_tls_pipe.h"
#include "ll_tls_rec13.h"
#include "ll_util.h"
#include "tls_internal.h"
#include "tls_outq.h"

/* After the shed, the read buffer: a few whole records per read(2), as
 * OpenSSL's read-ahead. */
#define PIPE_IN_CAP (4 * LL_REC13_MAX_RECORD)

struct ll_tls_pipe {
	SSL *ssl;             /* our reference; NULL once shed */
	struct ll_rec13 *rec; /* after the shed */
	int fd;
	bool sent_close; /* after the shed: our close_notify is out */
	bool eof;        /* after the shed: the socket's end came */
	bool failed;     /* after the shed: the read side failed for good */
	struct ll_tls_outq out; /* records waiting for the socket */
	/* after the shed: what came from the socket, in[ioff, ioff+ilen),
	 * and the rest of a record's plaintext not yet read, plain */
	uint8_t *in;
	size_t ioff, ilen;
	uint8_t *plain;
	size_t plain_len;
};

static _Atomic uint64_t shed_count;

/* ---- the pipe ---- */

struct ll_tls_pipe *ll_tls_pipe_new(struct ssl_st *ssl, int fd)
{
	struct ll_tls_pipe *p;
	BIO *sink;

	if (ssl == NULL || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((sink = ll_tls_outq_sink_new(&p->out)) == NULL ||
	    !SSL_up_ref(ssl)) {
		BIO_free(sink);
		free(p);
		return NULL;
	}
	p->ssl = ssl;
	p->fd = fd;
	p->out.fd = fd;
	/* Frees the SSL's hold on the old write BIO; the same socket BIO
	 * stays its read BIO. */
	SSL_set0_wbio(ssl, sink);
	/* A busy stream keeps its record buffers (one malloc and free of
	 * 64 KiB and more per read otherwise, and the arena shrinking with
	 * madvise); ll_tls_pipe_trim gives them back when it goes idle. */
	SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
	return p;
}

void ll_tls_pipe_undo(struct ll_tls_pipe *p)
{
	BIO *rbio;

	if (p == NULL)
		return;
	rbio = SSL_get_rbio(p->ssl);
	if (rbio != NULL && BIO_up_ref(rbio))
		SSL_set0_wbio(p->ssl, rbio); /* frees the sink */
	else
		ll_tls_outq_sink_detach(SSL_get_wbio(p->ssl));
	SSL_free(p->ssl);
	ll_tls_outq_clear(&p->out);
	free(p);
}

void ll_tls_pipe_free(struct ll_tls_pipe *p)
{
	if (p == NULL)
		return;
	if (p->ssl != NULL) {
		/* The sink may outlive the pipe (another reference on the
		 * SSL): from now on it takes nothing. */
		ll_tls_outq_sink_detach(SSL_get_wbio(p->ssl));
		SSL_free(p->ssl);
	}
	ll_rec13_free(p->rec);
	ll_tls_outq_clear(&p->out);
	free(p->in);
	free(p);
}

/* ---- after the shed: our own record layer ---- */

/* Reads the socket behind what in holds. */
static int rec_fill(struct ll_tls_pipe *p)
{
	ssize_t n;

	if (p->in == NULL && (p->in = malloc(PIPE_IN_CAP)) == NULL)
		return LL_ERR_NOMEM;
	if (p->ioff > 0) {
		memmove(p->in, p->in + p->ioff, p->ilen);
		p->ioff = 0;
	}
	for (;;) {
		n = read(p->fd, p->in + p->ilen, PIPE_IN_CAP - p->ilen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return LL_ERR_WANT_READ;
		if (n < 0)
			return LL_ERR_IO;
		if (n == 0)
			p->eof = true;
		p->ilen += (size_t)n;
		return LL_OK;
	}
}

static int rec_read_one(struct ll_tls_pipe *p, void *buf, size_t len,
			size_t *n)
{
	size_t rl;
	int r;

	for (;;) {
		if (p->plain_len > 0) {
			*n = p->plain_len < len ? p->plain_len : len;
			memcpy(buf, p->plain, *n);
			p->plain += *n;
			p->plain_len -= *n;
			return LL_OK;
		}
		if (ll_rec13_got_close_notify(p->rec))
			return LL_ERR_CLOSED;
		r = p->in == NULL ? LL_ERR_TRUNCATED
				  : ll_rec13_record_len(p->in + p->ioff,
							p->ilen, &rl);
		if (r == LL_ERR_TRUNCATED) {
			/* A TCP end without close_notify is an end, as
			 * OpenSSL's unexpected EOF is (ll_tls_pipe_read). */
			if (p->eof)
				return LL_ERR_CLOSED;
			if ((r = rec_fill(p)) != LL_OK)
				return r;
			continue;
		}
		if (r != LL_OK)
			return LL_ERR_TLS;
		r = ll_rec13_open(p->rec, p->in + p->ioff, rl, &p->plain,
				  &p->plain_len);
		p->ioff += rl;
		p->ilen -= rl;
		if (r != LL_OK)
			return r == LL_ERR_CLOSED ? LL_ERR_CLOSED : LL_ERR_TLS;
		if (ll_rec13_update_due(p->rec)) {
			/* The peer asked for our KeyUpdate: it goes out
			 * ahead of whatever we seal next. */
			uint8_t *at = ll_tls_outq_room(&p->out,
						       LL_REC13_SEALED_LEN(5));

			if (at == NULL)
				return LL_ERR_NOMEM;
			if (ll_rec13_seal_key_update(p->rec, at) != LL_OK)
				return LL_ERR_TLS;
			p->out.len += LL_REC13_SEALED_LEN(5);
		}
	}
}

static int rec_read(struct ll_tls_pipe *p, void *buf, size_t len, size_t *n)
{
	int r;

	if (p->failed)
		return LL_ERR_TLS;
	r = rec_read_one(p, buf, len, n);
	if (r == LL_ERR_TLS)
		p->failed = true;
	return r;
}

static int rec_write(struct ll_tls_pipe *p, const uint8_t *buf, size_t len)
{
	size_t k;
	uint8_t *at;

	if (p->sent_close)
		return LL_ERR_TLS;
	while (len > 0) {
		k = len < LL_REC13_MAX_PLAIN ? len : LL_REC13_MAX_PLAIN;
		if ((at = ll_tls_outq_room(&p->out, LL_REC13_SEALED_LEN(k))) ==
		    NULL)
			return LL_ERR_NOMEM;
		if (ll_rec13_seal(p->rec, LL_REC13_APPDATA, buf, k, at) !=
		    LL_OK)
			return LL_ERR_TLS;
		p->out.len += LL_REC13_SEALED_LEN(k);
		buf += k;
		len -= k;
	}
	return LL_OK;
}

static int rec_close_notify(struct ll_tls_pipe *p)
{
	uint8_t *at;

	if (p->sent_close)
		return LL_OK;
	if ((at = ll_tls_outq_room(&p->out, LL_REC13_SEALED_LEN(2))) == NULL)
		return LL_ERR_NOMEM;
	if (ll_rec13_seal_close_notify(p->rec, at) != LL_OK)
		return LL_ERR_TLS;
	p->out.len += LL_REC13_SEALED_LEN(2);
	p->sent_close = true;
	return LL_OK;
}

/* Lets go of the SSL when it can (ll_tls_ssl_shed); its record buffers
 * are already given back and the output is empty. */
static void pipe_shed(struct ll_tls_pipe *p)
{
	struct ll_rec13 *rec;

	if (ll_tls_ssl_shed(p->ssl, &rec) != LL_OK)
		return;
	ll_tls_outq_sink_detach(SSL_get_wbio(p->ssl));
	SSL_free(p->ssl);
	p->ssl = NULL;
	p->rec = rec;
	atomic_fetch_add_explicit(&shed_count, 1, memory_order_relaxed);
}

uint64_t ll_tls_pipe_shed_count(void)
{
	return atomic_load_explicit(&shed_count, memory_order_relaxed);
}

bool ll_tls_pipe_is_shed(const struct ll_tls_pipe *p)
{
	return p->ssl == NULL;
}

/* ---- the pipe's calls ---- */

int ll_tls_pipe_read(struct ll_tls_pipe *p, void *buf, size_t len, size_t *n)
{
	unsigned long e;
	int r;

	*n = 0;
	if (p->ssl == NULL)
		return rec_read(p, buf, len, n);
	if (SSL_read_ex(p->ssl, buf, len, n) == 1)
		return LL_OK;
	r = SSL_get_error(p->ssl, 0);
	e = ERR_peek_error();
	ERR_clear_error();
	switch (r) {
	case SSL_ERROR_WANT_READ:
		return LL_ERR_WANT_READ;
	case SSL_ERROR_ZERO_RETURN: /* close_notify */
		return LL_ERR_CLOSED;
	case SSL_ERROR_SSL: /* a TCP end without close_notify is an end */
		return ll_tls_err_is_unexpected_eof(e) ? LL_ERR_CLOSED
						       : LL_ERR_TLS;
	case SSL_ERROR_SYSCALL:
		return LL_ERR_IO;
	default:
		return LL_ERR_TLS;
	}
}

int ll_tls_pipe_write(struct ll_tls_pipe *p, const void *buf, size_t len)
{
	size_t n = 0;
	int r;

	if (len == 0)
		return LL_OK;
	if (p->ssl == NULL)
		return rec_write(p, buf, len);
	/* The sink takes everything, so this writes all or fails. */
	if (SSL_write_ex(p->ssl, buf, len, &n) == 1 && n == len)
		return LL_OK;
	r = SSL_get_error(p->ssl, 0);
	ERR_clear_error();
	return r == SSL_ERROR_SYSCALL ? LL_ERR_NOMEM : LL_ERR_TLS;
}

int ll_tls_pipe_close_notify(struct ll_tls_pipe *p)
{
	if (p->ssl == NULL)
		return rec_close_notify(p);
	return ll_tls_ssl_close_notify(p->ssl);
}

int ll_tls_pipe_flush(struct ll_tls_pipe *p)
{
	return ll_tls_outq_flush(&p->out);
}

size_t ll_tls_pipe_out_len(const struct ll_tls_pipe *p)
{
	return p->out.len;
}

bool ll_tls_pipe_has_pending(const struct ll_tls_pipe *p)
{
	size_t rl;

	if (p->ssl != NULL)
		return ll_tls_ssl_has_pending(p->ssl);
	if (p->plain_len > 0 || p->failed)
		return true;
	if (ll_rec13_got_close_notify(p->rec) || p->in == NULL)
		return false;
	/* A whole record, or bytes that cannot start one: reading says
	 * which, and no socket event would. */
	return ll_rec13_record_len(p->in + p->ioff, p->ilen, &rl) !=
	       LL_ERR_TRUNCATED;
}

bool ll_tls_pipe_got_close_notify(const struct ll_tls_pipe *p)
{
	if (p->ssl == NULL)
		return ll_rec13_got_close_notify(p->rec);
	return ll_tls_ssl_got_close_notify(p->ssl);
}

void ll_tls_pipe_trim(struct ll_tls_pipe *p)
{
	ll_tls_outq_release(&p->out);
	if (p->ssl != NULL) {
		/* Keeps them when they hold a partial record; sheds only
		 * with nothing of the stream inside OpenSSL. */
		if (SSL_free_buffers(p->ssl) == 1 && p->out.len == 0)
			pipe_shed(p);
		return;
	}
	/* Not cleansed, as OpenSSL's record buffers are not: the relay
	 * holds every stream's plaintext in passing anyway. */
	if (p->ilen == 0 && p->plain_len == 0 && p->in != NULL) {
		free(p->in);
		p->in = NULL;
		p->ioff = 0;
	}
	ll_rec13_trim(p->rec);
}
