/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Waits for events shared by the client-side tests: see lt_wait.h. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/sockios.h>

#include <glib.h>

#include "lt_wait.h"

static int64_t now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

static int left_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left <= 0 ? 0 : (int)MIN(left, INT_MAX);
}

bool lt_wait_pid_exit(pid_t pid, int timeout_ms)
{
	struct pollfd p = { .events = POLLIN };
	int64_t deadline = now_ms() + timeout_ms;
	int r;

	/* The pidfd turns readable when the process exits. */
	p.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p.fd < 0 && errno == ESRCH)
		return true;
	if (p.fd < 0)
		g_error("pidfd_open(%d): %s", (int)pid, g_strerror(errno));
	do
		r = poll(&p, 1, left_ms(deadline));
	while (r < 0 && errno == EINTR);
	close(p.fd);
	return r == 1;
}

static int count_in_file(const char *path, size_t from, const char *needle)
{
	g_autofree char *text = NULL;
	const char *at;
	gsize len = 0;
	int n = 0;

	if (!g_file_get_contents(path, &text, &len, NULL) || len < from)
		return 0;
	for (at = text + from; (at = strstr(at, needle)) != NULL;
	     at += strlen(needle))
		n++;
	return n;
}

bool lt_wait_file(const char *path, size_t from, const char *needle, int count,
		  int timeout_ms)
{
	g_autofree char *dir = g_path_get_dirname(path);
	int64_t deadline = now_ms() + timeout_ms;
	struct pollfd p = { .events = POLLIN };
	char events[4096];
	bool found;

	/* Watch the folder: the file may be created, or replaced by a
	 * rename, after we looked. */
	p.fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	g_assert_cmpint(p.fd, >=, 0);
	if (inotify_add_watch(p.fd, dir,
			      IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE |
				      IN_MOVED_TO) < 0)
		g_error("inotify on %s: %s", dir, g_strerror(errno));
	for (;;) {
		found = count_in_file(path, from, needle) >= count;
		if (found || poll(&p, 1, left_ms(deadline)) == 0)
			break;
		while (read(p.fd, events, sizeof(events)) > 0)
			;
	}
	close(p.fd);
	return found;
}

bool lt_wait_until(bool (*cond)(void *data), void *data, int timeout_ms,
		   int tick_us)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (!cond(data)) {
		if (now_ms() >= deadline)
			return false;
		/* no event to wait on: the tick at which we look again */
		g_usleep((gulong)tick_us);
	}
	return true;
}

static bool peer_read_all(void *data)
{
	int unread = -1;

	g_assert_cmpint(ioctl(*(int *)data, SIOCOUTQ, &unread), ==, 0);
	return unread == 0;
}

bool lt_wait_peer_read(int fd, int timeout_ms)
{
	/* No event says the peer has read: poll the kernel's count of our
	 * bytes still queued for it (SIOCOUTQ), with a short tick. */
	return lt_wait_until(peer_read_all, &fd, timeout_ms, 200);
}
