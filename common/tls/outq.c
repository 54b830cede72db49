/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Gathered TLS records waiting for their socket (tls_outq.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ll_err.h"
#include "ll_util.h"
#include "tls_outq.h"

/* The buffer's first size: a few full records. */
#define OUTQ_MIN (64 * 1024)

uint8_t *ll_tls_outq_room(struct ll_tls_outq *q, size_t n)
{
	size_t need, cap;
	uint8_t *nb;

	if (q->off + q->len + n > q->cap && q->off > 0) {
		memmove(q->buf, q->buf + q->off, q->len);
		q->off = 0;
	}
	if (!ll_size_add(q->len, n, &need))
		return NULL;
	if (need > q->cap) {
		cap = q->cap > 0 ? q->cap : OUTQ_MIN;
		while (cap < need)
			cap *= 2;
		if ((nb = realloc(q->buf, cap)) == NULL)
			return NULL;
		q->buf = nb;
		q->cap = cap;
	}
	return q->buf + q->off + q->len;
}

int ll_tls_outq_append(struct ll_tls_outq *q, const void *data, size_t n)
{
	uint8_t *at = ll_tls_outq_room(q, n);

	if (at == NULL)
		return LL_ERR_NOMEM;
	memcpy(at, data, n);
	q->len += n;
	return LL_OK;
}

int ll_tls_outq_flush(struct ll_tls_outq *q)
{
	ssize_t n;

	while (q->len > 0) {
		n = write(q->fd, q->buf + q->off, q->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return LL_ERR_WANT_WRITE;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return LL_ERR_IO;
		}
		q->off += (size_t)n;
		q->len -= (size_t)n;
	}
	q->off = 0;
	return LL_OK;
}

void ll_tls_outq_clear(struct ll_tls_outq *q)
{
	LL_FREE_AND_NULL(free, q->buf);
	q->off = q->len = q->cap = 0;
}

void ll_tls_outq_release(struct ll_tls_outq *q)
{
	if (q->len == 0)
		ll_tls_outq_clear(q);
}

/* ---- the sink BIO ---- */

static BIO_METHOD *sink_method;
static pthread_once_t sink_once = PTHREAD_ONCE_INIT;

static int sink_write(BIO *b, const char *data, size_t n, size_t *written)
{
	struct ll_tls_outq *q = BIO_get_data(b);

	if (q == NULL || ll_tls_outq_append(q, data, n) != LL_OK)
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
	case BIO_CTRL_FLUSH: /* the owner flushes, with ll_tls_outq_flush */
		return 1;
	case BIO_C_GET_FD: /* no socket to close here */
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
				     "lifeline gathered output");

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

BIO *ll_tls_outq_sink_new(struct ll_tls_outq *q)
{
	BIO *b;

	pthread_once(&sink_once, sink_method_init);
	if (sink_method == NULL || (b = BIO_new(sink_method)) == NULL)
		return NULL;
	BIO_set_data(b, q);
	return b;
}

void ll_tls_outq_sink_detach(BIO *sink)
{
	if (sink != NULL)
		BIO_set_data(sink, NULL);
}
