/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Waits for events shared by the client-side tests (HACKING.md, "Tests
 * wait for events"): a process exit, a line in a file another process
 * writes, a socket's bytes read by its peer.  Each waits for the event
 * itself (a pidfd, inotify) where the kernel offers one, and each has a
 * deadline: false when it passed.
 */
#ifndef LT_WAIT_H
#define LT_WAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Waits until process pid has exited (any process we may see, not only
 * a child; a child is left for the caller to reap).  True when it has,
 * or was gone already.
 */
bool lt_wait_pid_exit(pid_t pid, int timeout_ms);

/*
 * Waits until the file at path holds needle at least count times from
 * byte `from` on (the file may not exist yet; its folder must).
 */
bool lt_wait_file(const char *path, size_t from, const char *needle, int count,
		  int timeout_ms);

/*
 * Waits until the peer of the stream socket fd has read every byte
 * written to fd: after half a message, the peer then sits in a read of
 * the rest.
 */
bool lt_wait_peer_read(int fd, int timeout_ms);

/*
 * Waits until cond(data) is true, asking every tick_us: for a state that
 * sends no event (a gauge of /metrics, a count the kernel keeps).  The
 * one place such polls sleep between looks.  True when it became true.
 */
bool lt_wait_until(bool (*cond)(void *data), void *data, int timeout_ms,
		   int tick_us);

#endif
