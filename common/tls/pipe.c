/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The forwarding TLS stream (ll_tls_pipe.h).  Why not libevent's
 * bufferevent_openssl (bench/PROFILE.md): it writes each SSL_write's
 * record with its own write(2) through a socket BIO, and it can only
 * write from a write event, so every record forwarded costs an
 * epoll_ctl pair for EPOLLOUT.  Here the SSL's write BIO is a sink that
 * appends records to one contiguous buffer; the caller flushes it with
 * a single write(2) when it has forwarded what it read.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ll_tls.h"
#include "ll_tls_pipe.h"
#include "ll_util.h"

/* The output buffer's first size: a few full records. */
#define PIPE_OUT_MIN (64 * 1024)

struct ll_tls_pipe {
	SSL *ssl; /* our reference */
	int fd;
	uint8_t *out; /* records waiting for the socket: out[off, off+len) */
	size_t off, len, cap;
};

/* ---- the sink BIO: SSL's records into p->out ---- */

static BIO_METHOD *sink_method;
static pthread_once_t sink_once = PTHREAD_ONCE_INIT;

static int pipe_out_append(struct ll_tls_pipe *p, const void *data, size_t n)
{
	size_t need, cap;
	uint8_t *nb;

	if (p->off + p->len + n > p->cap && p->off > 0) {
		memmove(p->out, p->out + p->off, p->len);
		p->off = 0;
	}
	if (!ll_size_add(p->len, n, &need))
		return LL_ERR_NOMEM;
	if (need > p->cap) {
		cap = p->cap > 0 ? p->cap : PIPE_OUT_MIN;
		while (cap < need)
			cap *= 2;
		if ((nb = realloc(p->out, cap)) == NULL)
			return LL_ERR_NOMEM;
		p->out = nb;
		p->cap = cap;
	}
	memcpy(p->out + p->off + p->len, data, n);
	p->len += n;
	return LL_OK;
}

static int sink_write(BIO *b, const char *data, size_t n, size_t *written)
{
	struct ll_tls_pipe *p = BIO_get_data(b);

	if (p == NULL || pipe_out_append(p, data, n) != LL_OK)
		return 0;
	*written = n;
	return 1;
}

static long sink_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH: /* the caller flushes, with ll_tls_pipe_flush */
		return 1;
	case BIO_C_GET_FD: /* no socket to close here (ll_tls_pipe_new) */
		return -1;
	default:
		return 0;
	}
}

static int sink_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void sink_method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() |
					     BIO_TYPE_SOURCE_SINK,
				     "lifeline pipe output");

	if (m == NULL)
		return;
	if (!BIO_meth_set_write_ex(m, sink_write) ||
	    !BIO_meth_set_ctrl(m, sink_ctrl) ||
	    !BIO_meth_set_create(m, sink_create)) {
		BIO_meth_free(m);
		return;
	}
	sink_method = m;
}

/* ---- the pipe ---- */

struct ll_tls_pipe *ll_tls_pipe_new(struct ssl_st *ssl, int fd)
{
	struct ll_tls_pipe *p;
	BIO *sink;

	pthread_once(&sink_once, sink_method_init);
	if (ssl == NULL || sink_method == NULL ||
	    (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((sink = BIO_new(sink_method)) == NULL || !SSL_up_ref(ssl)) {
		BIO_free(sink);
		free(p);
		return NULL;
	}
	BIO_set_data(sink, p);
	p->ssl = ssl;
	p->fd = fd;
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
		BIO_set_data(SSL_get_wbio(p->ssl), NULL);
	SSL_free(p->ssl);
	free(p->out);
	free(p);
}

void ll_tls_pipe_free(struct ll_tls_pipe *p)
{
	if (p == NULL)
		return;
	/* The sink may outlive the pipe (another reference on the SSL):
	 * from now on it takes nothing. */
	BIO_set_data(SSL_get_wbio(p->ssl), NULL);
	SSL_free(p->ssl);
	free(p->out);
	free(p);
}

int ll_tls_pipe_read(struct ll_tls_pipe *p, void *buf, size_t len, size_t *n)
{
	unsigned long e;
	int r;

	*n = 0;
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
	/* The sink takes everything, so this writes all or fails. */
	if (SSL_write_ex(p->ssl, buf, len, &n) == 1 && n == len)
		return LL_OK;
	r = SSL_get_error(p->ssl, 0);
	ERR_clear_error();
	return r == SSL_ERROR_SYSCALL ? LL_ERR_NOMEM : LL_ERR_TLS;
}

int ll_tls_pipe_close_notify(struct ll_tls_pipe *p)
{
	return ll_tls_ssl_close_notify(p->ssl);
}

int ll_tls_pipe_flush(struct ll_tls_pipe *p)
{
	ssize_t n;

	while (p->len > 0) {
		n = write(p->fd, p->out + p->off, p->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return LL_ERR_WANT_WRITE;
		if (n <= 0)
			return LL_ERR_IO;
		p->off += (size_t)n;
		p->len -= (size_t)n;
	}
	p->off = 0;
	return LL_OK;
}

size_t ll_tls_pipe_out_len(const struct ll_tls_pipe *p)
{
	return p->len;
}

bool ll_tls_pipe_has_pending(const struct ll_tls_pipe *p)
{
	return ll_tls_ssl_has_pending(p->ssl);
}

bool ll_tls_pipe_got_close_notify(const struct ll_tls_pipe *p)
{
	return ll_tls_ssl_got_close_notify(p->ssl);
}

void ll_tls_pipe_trim(struct ll_tls_pipe *p)
{
	if (p->len == 0 && p->out != NULL) {
		LL_FREE_AND_NULL(free, p->out);
		p->off = p->cap = 0;
	}
	/* Keeps them when they hold a partial record. */
	SSL_free_buffers(p->ssl);
}
