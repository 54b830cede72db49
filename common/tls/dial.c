/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Blocking client helpers: resolve, connect with a deadline, handshake,
 * and loops over partial reads and writes.  Name resolution itself has no
 * deadline (getaddrinfo offers none); the connect and the handshake do.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ll_tls.h"
#include "ll_util.h"
#include "tls_internal.h"

/* Milliseconds left until deadline, at least 0, as poll(2) takes them. */
static int remaining_ms(int64_t deadline)
{
	int64_t left = deadline - ll_now_mono_ms();

	if (left <= 0)
		return 0;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

/* Wait until fd is ready for events; LL_ERR_TIMEOUT at the deadline
 * (deadline < 0: no deadline). */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	for (;;) {
		n = poll(&p, 1, deadline < 0 ? -1 : remaining_ms(deadline));
		if (n > 0)
			return LL_OK;
		if (n == 0)
			return LL_ERR_TIMEOUT;
		if (errno != EINTR)
			return LL_ERR_IO;
	}
}

/* Waits for what TLS asked for by returning want (LL_ERR_WANT_READ or
 * LL_ERR_WANT_WRITE). */
static int wait_want(int fd, int want, int64_t deadline)
{
	return wait_fd(fd, want == LL_ERR_WANT_READ ? POLLIN : POLLOUT,
		       deadline);
}

static int set_blocking(int fd, bool blocking)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return LL_ERR_IO;
	fl = blocking ? fl & ~O_NONBLOCK : fl | O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl) == 0 ? LL_OK : LL_ERR_IO;
}

/* One address: a connected non-blocking socket, or -errno-ish code. */
static int connect_one(const struct addrinfo *ai, int64_t deadline, int *fdp,
		       int *sys_errno)
{
	socklen_t sl = sizeof(int);
	int fd, soerr = 0, r;

	fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0) {
		*sys_errno = errno;
		return LL_ERR_IO;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			*sys_errno = errno;
			close(fd);
			return LL_ERR_IO;
		}
		if ((r = wait_fd(fd, POLLOUT, deadline)) != LL_OK) {
			*sys_errno = r == LL_ERR_TIMEOUT ? ETIMEDOUT : errno;
			close(fd);
			return r;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 ||
		    soerr != 0) {
			*sys_errno = soerr != 0 ? soerr : errno;
			close(fd);
			return LL_ERR_IO;
		}
	}
	*fdp = fd;
	return LL_OK;
}

int ll_tls_dial(struct ll_tls_ctx *ctx, const char *host, uint16_t port,
		int timeout_ms, struct ll_tls_conn **out, char *errbuf,
		size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	struct ll_tls_conn *c = NULL;
	char portstr[8], name[256];
	int64_t deadline;
	int fd = -1, r = LL_ERR_IO, gai, sys_errno = 0, one = 1;
	size_t n;

	if (ctx == NULL || host == NULL || out == NULL || timeout_ms <= 0) {
		ll_tls_errf(errbuf, errlen, "bad arguments to ll_tls_dial");
		return LL_ERR_INVALID_ARG;
	}
	/* Accept "[::1]" as URLs write it. */
	n = strlen(host);
	if (n >= sizeof(name) || n == 0) {
		ll_tls_errf(errbuf, errlen, "bad host name");
		return LL_ERR_INVALID_ARG;
	}
	if (host[0] == '[' && host[n - 1] == ']' && n > 2) {
		memcpy(name, host + 1, n - 2);
		name[n - 2] = '\0';
	} else {
		memcpy(name, host, n + 1);
	}
	deadline = ll_now_mono_ms() + timeout_ms;
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);

	if ((gai = getaddrinfo(name, portstr, &hints, &res)) != 0) {
		ll_tls_errf(errbuf, errlen, "cannot resolve '%s': %s", name,
			    gai == EAI_SYSTEM ? strerror(errno)
					      : gai_strerror(gai));
		return LL_ERR_IO;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((r = connect_one(ai, deadline, &fd, &sys_errno)) ==
			    LL_OK ||
		    r == LL_ERR_TIMEOUT)
			break;
	}
	freeaddrinfo(res);
	if (r == LL_ERR_TIMEOUT) {
		ll_tls_errf(errbuf, errlen,
			    "timed out connecting to %s port %u", name,
			    (unsigned)port);
		return r;
	}
	if (r != LL_OK) {
		ll_tls_errf(errbuf, errlen, "cannot connect to %s port %u: %s",
			    name, (unsigned)port, strerror(sys_errno));
		return r;
	}
	/* Interactive streams: small frames must not wait for Nagle. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	if ((c = ll_tls_conn_new_client(ctx, fd, name)) == NULL) {
		ll_tls_errf(errbuf, errlen, "cannot set up TLS for '%s'",
			    name);
		close(fd);
		return LL_ERR_INVALID_ARG;
	}
	for (;;) {
		r = ll_tls_conn_handshake(c);
		if (r != LL_ERR_WANT_READ && r != LL_ERR_WANT_WRITE)
			break;
		r = wait_want(fd, r, deadline);
		if (r != LL_OK) {
			ll_tls_errf(errbuf, errlen,
				    r == LL_ERR_TIMEOUT
					    ? "TLS handshake with %s port %u "
					      "timed out"
					    : "TLS handshake with %s port %u: "
					      "poll failed",
				    name, (unsigned)port);
			goto out;
		}
	}
	if (r != LL_OK) {
		ll_tls_errf(errbuf, errlen, "%s port %u: %s", name,
			    (unsigned)port, ll_tls_conn_error(c));
		goto out;
	}
	if ((r = set_blocking(fd, true)) != LL_OK) {
		ll_tls_errf(errbuf, errlen, "fcntl: %s", strerror(errno));
		goto out;
	}
	*out = c;
	c = NULL;
out:
	ll_tls_conn_free(c, true);
	return r;
}

/* Writes src (when it is not NULL) or reads into dst, len bytes in all,
 * waiting as the conn asks: the loop of both functions below. */
static int transfer_all(struct ll_tls_conn *c, const uint8_t *src,
			uint8_t *dst, size_t len)
{
	size_t n;
	int r;

	while (len > 0) {
		r = src != NULL ? ll_tls_conn_write(c, src, len, &n)
				: ll_tls_conn_read(c, dst, len, &n);
		if (r == LL_ERR_WANT_READ || r == LL_ERR_WANT_WRITE) {
			/* Also serves a conn on a non-blocking socket. */
			if ((r = wait_want(ll_tls_conn_fd(c), r, -1)) != LL_OK)
				return r;
			continue;
		}
		if (r != LL_OK)
			return r;
		if (src != NULL)
			src += n;
		else
			dst += n;
		len -= n;
	}
	return LL_OK;
}

int ll_tls_write_all(struct ll_tls_conn *c, const void *buf, size_t len)
{
	if (c == NULL || (buf == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	return transfer_all(c, buf, NULL, len);
}

int ll_tls_read_full(struct ll_tls_conn *c, void *buf, size_t len)
{
	if (c == NULL || (buf == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	return transfer_all(c, NULL, buf, len);
}
