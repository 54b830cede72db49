/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ll-link-emu: a user-space TCP proxy that behaves like a slower link, for
 * the benchmarks (bench/screen puts it between the applet and the relay,
 * and between x11vnc and its viewer).  No root, no tc/netem.
 *
 *   ll-link-emu [--rate BITS/S] [--rate-fwd B] [--rate-back B]
 *               [--rtt MS] [--queue-ms MS] [--loss PERCENT] [--rto-ms MS]
 *               [--seed N] HOST PORT
 *
 * Listens on 127.0.0.1 (a free port), prints "port N" on stdout, then
 * forwards every connection to HOST:PORT.  "fwd" is the direction from
 * the connecting side to HOST:PORT, "back" the other; --rate sets both.
 * Runs until SIGTERM/SIGINT; prints what it forwarded on stderr at exit.
 *
 * What it models, per direction (one link shared by all connections, as a
 * home line is shared by all of a machine's connections):
 *
 *  - the bottleneck: bytes are cut into segments of LE_MSS bytes; each
 *    occupies the link for len * 8 / rate seconds, one after the other
 *    (a token bucket whose depth is one segment).  0 = no rate limit.
 *  - the queue in front of it (a router's buffer): bytes are read from
 *    the sender only while the link has less than --queue-ms of backlog
 *    (default 100 ms).  When it is full the proxy stops reading, the
 *    sender's socket buffer fills, and the sender blocks: back-pressure,
 *    as TCP's window gives it.  The proxy's receive buffers are made
 *    small (LE_RCVBUF) so that the kernel hides little queue of its own.
 *  - propagation: each segment arrives rtt/2 after it left the link.
 *  - loss: TCP does not lose bytes, it delays them.  A segment "lost"
 *    (probability --loss) arrives one retransmission timeout later
 *    (--rto-ms, default 200 ms + RTT: Linux's minimum RTO plus the round
 *    trip), and since TCP delivers in order, every segment behind it
 *    waits too (head-of-line blocking).
 *
 * What it does not model: the sender's congestion window (slow start,
 * halving after a loss), so a lossy link keeps its full rate here; the
 * sender's own socket buffer, which on loopback grows larger than on a
 * real link of this rate (the kernel autotunes it from loopback's round
 * trip), so a sender that writes ahead queues more of its own data than
 * it would on a real line; ACK traffic (free here).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#define LE_MSS 1448
#define LE_MAX_CONNS 64
#define LE_RCVBUF (16 * 1024)
/* with no rate limit, the most a direction holds (a bound on memory) */
#define LE_MAX_QUEUED (1024 * 1024)
#define LE_READ_MAX (16 * LE_MSS)

struct le_seg {
	struct le_seg *next;
	int64_t due_us; /* when it may be written to the receiver */
	uint32_t len, off;
	uint8_t data[LE_MSS];
};

struct le_link {
	double bytes_per_us; /* 0: unlimited */
	int64_t delay_us;    /* one way */
	int64_t queue_us;
	int64_t rto_us;
	double loss;
	int64_t free_at_us; /* when the bottleneck is idle again */
	uint64_t bytes, segs, lost;
};

struct le_dir {
	int from, to;
	struct le_link *link;
	struct le_seg *head, *tail;
	size_t queued;
	int64_t last_due_us;
	bool eof, shut;
};

struct le_conn {
	bool used;
	int fd[2];          /* 0 = accepted, 1 = to HOST:PORT */
	struct le_dir d[2]; /* 0 = fwd (fd 0 -> fd 1), 1 = back */
};

static struct le_conn conns[LE_MAX_CONNS];
static struct le_link links[2];
static const char *up_host, *up_port;
static volatile sig_atomic_t stop;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* xorshift64*: reproducible losses for a given --seed */
static double rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 0x2545f4914f6cdd1dull) >> 11) /
	       (double)(1ull << 53);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void tune(int fd, bool small_rcvbuf)
{
	int one = 1, rcv = LE_RCVBUF;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (small_rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
}

static bool shaped(void)
{
	return links[0].bytes_per_us > 0 || links[1].bytes_per_us > 0;
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
		/* before connect(): the window is agreed at the handshake */
		tune(fd, shaped());
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static void conn_close(struct le_conn *c)
{
	struct le_seg *s, *n;
	int i;

	for (i = 0; i < 2; i++) {
		for (s = c->d[i].head; s != NULL; s = n) {
			n = s->next;
			free(s);
		}
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	}
	memset(c, 0, sizeof(*c));
}

static void conn_accept(int lfd)
{
	struct le_conn *c = NULL;
	int fd, up, i;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < LE_MAX_CONNS && c == NULL; i++)
		if (!conns[i].used)
			c = &conns[i];
	if (c == NULL || (up = dial()) < 0) {
		close(fd);
		return;
	}
	tune(fd, false); /* its receive buffer was set on the listener */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(up, F_SETFL, fcntl(up, F_GETFL) | O_NONBLOCK);
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->fd[0] = fd;
	c->fd[1] = up;
	for (i = 0; i < 2; i++) {
		c->d[i].from = c->fd[i];
		c->d[i].to = c->fd[1 - i];
		c->d[i].link = &links[i];
	}
}

/* How many bytes the direction may read now (0: the queue is full). */
static size_t dir_room(const struct le_dir *d, int64_t now)
{
	const struct le_link *l = d->link;

	if (d->eof)
		return 0;
	if (l->bytes_per_us <= 0)
		return d->queued < LE_MAX_QUEUED ? LE_READ_MAX : 0;
	return l->free_at_us - now < l->queue_us ? LE_READ_MAX : 0;
}

/* The time the link's queue has room again, for the poll timeout. */
static int64_t dir_room_at(const struct le_dir *d)
{
	const struct le_link *l = d->link;

	if (d->eof || l->bytes_per_us <= 0)
		return INT64_MAX;
	return l->free_at_us - l->queue_us;
}

/* A segment's way over the link: queue, bottleneck, propagation, loss. */
static void seg_schedule(struct le_dir *d, struct le_seg *s, int64_t now)
{
	struct le_link *l = d->link;
	int64_t start, due;

	due = now;
	if (l->bytes_per_us > 0) {
		start = l->free_at_us > now ? l->free_at_us : now;
		l->free_at_us = start + (int64_t)(s->len / l->bytes_per_us);
		due = l->free_at_us;
	}
	due += l->delay_us;
	if (l->loss > 0 && rnd() < l->loss) {
		due += l->rto_us;
		l->lost++;
	}
	/* in order: nothing overtakes a late segment */
	if (due < d->last_due_us)
		due = d->last_due_us;
	d->last_due_us = due;
	s->due_us = due;
	l->bytes += s->len;
	l->segs++;
}

/* Returns false when the connection is to be closed. */
static bool dir_read(struct le_dir *d, int64_t now)
{
	uint8_t buf[LE_READ_MAX];
	struct le_seg *s;
	ssize_t n, off;
	size_t len;

	n = read(d->from, buf, sizeof(buf));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0) {
		d->eof = true;
		return true;
	}
	for (off = 0; off < n; off += (ssize_t)len) {
		len = (size_t)(n - off) < LE_MSS ? (size_t)(n - off) : LE_MSS;
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return false;
		memcpy(s->data, buf + off, len);
		s->len = (uint32_t)len;
		seg_schedule(d, s, now);
		if (d->tail != NULL)
			d->tail->next = s;
		else
			d->head = s;
		d->tail = s;
		d->queued += len;
	}
	return true;
}

/* Writes what is due; false when the connection is to be closed. */
static bool dir_write(struct le_dir *d, int64_t now)
{
	struct le_seg *s;
	ssize_t n;

	while ((s = d->head) != NULL && s->due_us <= now) {
		n = write(d->to, s->data + s->off, s->len - s->off);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		s->off += (uint32_t)n;
		if (s->off < s->len)
			return true;
		d->head = s->next;
		if (d->head == NULL)
			d->tail = NULL;
		d->queued -= s->len;
		free(s);
	}
	if (d->head == NULL && d->eof && !d->shut) {
		shutdown(d->to, SHUT_WR);
		d->shut = true;
	}
	return true;
}

static void conn_step(struct le_conn *c, const struct pollfd *p, int64_t now)
{
	int i;

	for (i = 0; i < 2 && c->used; i++) {
		struct le_dir *d = &c->d[i];

		if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    dir_room(d, now) > 0 && !dir_read(d, now)) {
			conn_close(c);
			return;
		}
	}
	for (i = 0; i < 2 && c->used; i++) {
		if (!dir_write(&c->d[i], now)) {
			conn_close(c);
			return;
		}
	}
	if (c->used && c->d[0].shut && c->d[1].shut)
		conn_close(c);
}

/* Fills the poll set of a connection; lowers *wake_us to its next event. */
static void conn_poll(const struct le_conn *c, struct pollfd *p, int64_t now,
		      int64_t *wake_us)
{
	int i;

	for (i = 0; i < 2; i++) {
		p[i].fd = c->fd[i];
		p[i].events = 0;
		p[i].revents = 0;
	}
	for (i = 0; i < 2; i++) {
		const struct le_dir *d = &c->d[i];
		int64_t at;

		if (dir_room(d, now) > 0)
			p[i].events |= POLLIN;
		else if ((at = dir_room_at(d)) < *wake_us)
			*wake_us = at;
		if (d->head == NULL)
			continue;
		if (d->head->due_us <= now)
			p[1 - i].events |= POLLOUT;
		else if (d->head->due_us < *wake_us)
			*wake_us = d->head->due_us;
	}
}

static int listen_local(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd, one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	tune(fd, shaped()); /* accepted sockets inherit the buffer size */
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		close(fd);
		return -1;
	}
	printf("port %u\n", ntohs(a.sin_port));
	fflush(stdout);
	return fd;
}

static void run(int lfd)
{
	struct pollfd p[1 + 2 * LE_MAX_CONNS];
	int64_t now, wake;
	int i, timeout;

	while (!stop) {
		now = now_us();
		wake = INT64_MAX;
		p[0].fd = lfd;
		p[0].events = POLLIN;
		p[0].revents = 0;
		for (i = 0; i < LE_MAX_CONNS; i++) {
			p[1 + 2 * i].fd = p[2 + 2 * i].fd = -1;
			if (conns[i].used)
				conn_poll(&conns[i], &p[1 + 2 * i], now,
					  &wake);
		}
		if (wake == INT64_MAX)
			timeout = 1000;
		else if (wake <= now)
			timeout = 0;
		else /* round up: waking early would spin */
			timeout = (int)((wake - now + 999) / 1000);
		if (poll(p, 1 + 2 * LE_MAX_CONNS, timeout) < 0 &&
		    errno != EINTR)
			break;
		now = now_us();
		if (p[0].revents & POLLIN)
			conn_accept(lfd);
		for (i = 0; i < LE_MAX_CONNS; i++)
			if (conns[i].used)
				conn_step(&conns[i], &p[1 + 2 * i], now);
	}
}

static bool parse_num(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static int usage(void)
{
	fprintf(stderr, "usage: ll-link-emu [--rate BITS/S] [--rate-fwd B] "
			"[--rate-back B] [--rtt MS] [--queue-ms MS]\n"
			"                   [--loss PERCENT] [--rto-ms MS] "
			"[--seed N] HOST PORT\n");
	return 2;
}

int main(int argc, char **argv)
{
	double rate[2] = { 0, 0 }, rtt = 0, queue = 100, loss = 0, rto = -1;
	double seed = 1, v;
	int i, lfd;

	for (i = 1; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		const char *o = argv[i], *a = argv[i + 1];

		if (strcmp(o, "--rate") == 0 && parse_num(a, 0, 1e11, &v))
			rate[0] = rate[1] = v;
		else if (strcmp(o, "--rate-fwd") == 0 &&
			 parse_num(a, 0, 1e11, &v))
			rate[0] = v;
		else if (strcmp(o, "--rate-back") == 0 &&
			 parse_num(a, 0, 1e11, &v))
			rate[1] = v;
		else if (!((strcmp(o, "--rtt") == 0 &&
			    parse_num(a, 0, 10000, &rtt)) ||
			   (strcmp(o, "--queue-ms") == 0 &&
			    parse_num(a, 1, 10000, &queue)) ||
			   (strcmp(o, "--loss") == 0 &&
			    parse_num(a, 0, 50, &loss)) ||
			   (strcmp(o, "--rto-ms") == 0 &&
			    parse_num(a, 0, 60000, &rto)) ||
			   (strcmp(o, "--seed") == 0 &&
			    parse_num(a, 1, 1e15, &seed))))
			return usage();
	}
	if (argc - i != 2)
		return usage();
	up_host = argv[i];
	up_port = argv[i + 1];
	rng_state ^= (uint64_t)seed;
	for (i = 0; i < 2; i++) {
		links[i].bytes_per_us = rate[i] / 8.0 / 1e6;
		links[i].delay_us = (int64_t)(rtt * 1000.0 / 2.0);
		links[i].queue_us = (int64_t)(queue * 1000.0);
		links[i].rto_us = (int64_t)((rto >= 0 ? rto : 200.0 + rtt) *
					    1000.0);
		links[i].loss = loss / 100.0;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if ((lfd = listen_local()) < 0) {
		fprintf(stderr, "ll-link-emu: cannot listen\n");
		return 1;
	}
	run(lfd);
	for (i = 0; i < LE_MAX_CONNS; i++)
		if (conns[i].used)
			conn_close(&conns[i]);
	close(lfd);
	fprintf(stderr,
		"ll-link-emu: fwd %llu bytes %llu segments %llu late, "
		"back %llu bytes %llu segments %llu late\n",
		(unsigned long long)links[0].bytes,
		(unsigned long long)links[0].segs,
		(unsigned long long)links[0].lost,
		(unsigned long long)links[1].bytes,
		(unsigned long long)links[1].segs,
		(unsigned long long)links[1].lost);
	return 0;
}
