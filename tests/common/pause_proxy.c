/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ll-pause-proxy: a user-space TCP proxy that can black-hole its traffic,
 * for the stall tests (tests/e2e/session, "stall-*") and bench/stall.
 *
 *   ll-pause-proxy HOST PORT
 *
 * Listens on 127.0.0.1 (a free port), prints "port N" on stdout and then
 * forwards every connection to HOST:PORT, both ways.  Commands, one per
 * line on stdin, each answered on stdout once done:
 *
 *   pause    stop forwarding both ways, sockets kept open: to both ends
 *            the network went silent (a black hole, a frozen relay);
 *            connections accepted meanwhile hang as well -> "ok pause"
 *   pause-after N
 *            forward N bytes more (both ways together, counted from
 *            now), then pause as `pause` does: a stream cut at a known
 *            point, e.g. in the middle of a file  -> "ok pause-after N"
 *            once paused (not before)
 *   resume   forward again, what waited in the kernels first -> "ok resume"
 *   cut      close every connection now (a reset)           -> "ok cut"
 *   quit     (or EOF) close everything and exit 0
 *
 * Single-threaded poll loop; no TLS (the bytes are forwarded as they are,
 * so the ends still verify each other).  A test helper: no limits beyond
 * MAX_PAIRS connections.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PAIRS 32
#define BUF 65536

struct half {
	int fd;
	char buf[BUF]; /* read from fd, for the other side */
	size_t off, len;
	bool eof;
};

struct pair {
	bool used;
	struct half h[2]; /* 0 = client, 1 = upstream */
};

static struct pair pairs[MAX_PAIRS];
static bool paused;
/* pause-after: bytes still to forward before the pause, and the command
 * to answer then */
static bool armed;
static unsigned long long budget;
static char armed_cmd[64];
static const char *up_host, *up_port;

static void pair_close(struct pair *p)
{
	int i;

	for (i = 0; i < 2; i++)
		if (p->h[i].fd >= 0)
			close(p->h[i].fd);
	memset(p, 0, sizeof(*p));
	p->h[0].fd = p->h[1].fd = -1;
}

static int dial(void)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *a;
	int fd = -1;

	if (getaddrinfo(up_host, up_port, &hints, &res) != 0)
		return -1;
	for (a = res; a != NULL; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static void accept_one(int lfd)
{
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), u, i;

	if (c < 0)
		return;
	for (i = 0; i < MAX_PAIRS && pairs[i].used; i++)
		;
	if (i == MAX_PAIRS || (u = dial()) < 0) {
		close(c);
		return;
	}
	pairs[i].used = true;
	pairs[i].h[0].fd = c;
	pairs[i].h[1].fd = u;
}

/* Bytes forwarded: the pause of `pause-after` once its budget is spent. */
static void count(ssize_t n)
{
	if (!armed)
		return;
	budget -= (unsigned long long)n;
	if (budget == 0) {
		armed = false;
		paused = true;
		printf("ok %s\n", armed_cmd);
	}
}

/* Moves bytes of pair p as far as the sockets take them; false when the
 * pair is over. */
static bool pump(struct pair *p, const short *rev)
{
	int i;
	ssize_t n;

	for (i = 0; i < 2; i++) {
		struct half *from = &p->h[i], *to = &p->h[1 - i];

		if ((rev[i] & (POLLIN | POLLHUP | POLLERR)) &&
		    from->len == 0 && !from->eof) {
			n = read(from->fd, from->buf, sizeof(from->buf));
			if (n > 0) {
				from->off = 0;
				from->len = (size_t)n;
			} else if (n == 0 || errno != EINTR) {
				from->eof = true;
			}
		}
		while (from->len > 0 && !paused) {
			size_t want = from->len;

			if (armed && want > budget)
				want = (size_t)budget;
			n = send(to->fd, from->buf + from->off, want,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0) {
				from->off += (size_t)n;
				from->len -= (size_t)n;
				count(n);
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			return false;
		}
		if (from->eof && from->len == 0)
			return false; /* one side gone: the stream is over */
	}
	return true;
}

static bool command(const char *line)
{
	int i;

	if (strcmp(line, "pause") == 0) {
		paused = true;
	} else if (sscanf(line, "pause-after %llu", &budget) == 1 &&
		   budget > 0) {
		armed = true;
		snprintf(armed_cmd, sizeof(armed_cmd), "%s", line);
		return true; /* answered once paused */
	} else if (strcmp(line, "resume") == 0) {
		paused = false;
	} else if (strcmp(line, "cut") == 0) {
		for (i = 0; i < MAX_PAIRS; i++)
			if (pairs[i].used)
				pair_close(&pairs[i]);
	} else if (strcmp(line, "quit") == 0) {
		printf("ok quit\n");
		return false;
	} else {
		printf("error unknown command\n");
		return true;
	}
	printf("ok %s\n", line);
	return true;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct pollfd pfd[2 + 2 * MAX_PAIRS];
	char cmd[64];
	size_t cmd_len = 0;
	int lfd, i, n, one = 1;
	ssize_t r;

	if (argc != 3) {
		fprintf(stderr, "usage: ll-pause-proxy HOST PORT\n");
		return 2;
	}
	up_host = argv[1];
	up_port = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < MAX_PAIRS; i++)
		pairs[i].h[0].fd = pairs[i].h[1].fd = -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) !=
		    0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 16) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
		perror("ll-pause-proxy: listen");
		return 1;
	}
	printf("port %u\n", ntohs(sa.sin_port));

	for (;;) {
		n = 0;
		pfd[n++] = (struct pollfd){ .fd = 0, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < MAX_PAIRS; i++) {
			struct pair *p = &pairs[i];
			/* paused: not even read, so that the senders'
			 * kernels fill up as on a silent network */
			short ev0 = 0, ev1 = 0;

			if (p->used && !paused) {
				ev0 = p->h[0].len == 0 ? POLLIN : 0;
				ev1 = p->h[1].len == 0 ? POLLIN : 0;
				if (p->h[0].len > 0)
					ev1 |= POLLOUT;
				if (p->h[1].len > 0)
					ev0 |= POLLOUT;
			}
			pfd[n++] = (struct pollfd){ .fd = p->used ? p->h[0].fd
								  : -1,
						    .events = ev0 };
			pfd[n++] = (struct pollfd){ .fd = p->used ? p->h[1].fd
								  : -1,
						    .events = ev1 };
		}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("ll-pause-proxy: poll");
			return 1;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			r = read(0, cmd + cmd_len, sizeof(cmd) - 1 - cmd_len);
			if (r <= 0)
				break;
			cmd_len += (size_t)r;
			cmd[cmd_len] = '\0';
			for (;;) {
				char *nl = strchr(cmd, '\n');

				if (nl == NULL)
					break;
				*nl = '\0';
				if (!command(cmd))
					goto out;
				cmd_len -= (size_t)(nl + 1 - cmd);
				memmove(cmd, nl + 1, cmd_len + 1);
			}
			if (cmd_len == sizeof(cmd) - 1)
				cmd_len = 0; /* a line too long: dropped */
		}
		if (pfd[1].revents & POLLIN)
			accept_one(lfd);
		if (paused)
			continue;
		for (i = 0; i < MAX_PAIRS && !paused; i++) {
			short rev[2] = { pfd[2 + 2 * i].revents,
					 pfd[3 + 2 * i].revents };

			if (pairs[i].used && !pump(&pairs[i], rev))
				pair_close(&pairs[i]);
		}
	}
out:
	for (i = 0; i < MAX_PAIRS; i++)
		if (pairs[i].used)
			pair_close(&pairs[i]);
	close(lfd);
	return 0;
}
