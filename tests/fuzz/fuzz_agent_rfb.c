/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bytes from a hostile applet into the agent's headless RFB client
 * (agent/rfb_client.c: libvncclient with the encodings we request, our
 * framebuffer allocator and hooks) over a real socketpair, as in the
 * session holder.  A writer thread plays the applet: it sends the input
 * and closes, so every read of the client ends with data or EOF.
 */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "ll_rfbc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct feed {
	int fd;
	const uint8_t *data;
	size_t size;
};

static gpointer feed_thread(gpointer p)
{
	struct feed *f = p;
	size_t off = 0;
	ssize_t n;

	while (off < f->size) {
		n = send(f->fd, f->data + off, f->size - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(f->fd, SHUT_WR);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct feed f;
	GThread *t;
	int sv[2];
	char sink[4096];

	if (!init) {
		signal(SIGPIPE, SIG_IGN);
		init = true;
	}
	if (size > 1024 * 1024)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return 0;
	f.fd = sv[0];
	f.data = data;
	f.size = size;
	t = g_thread_new("feed", feed_thread, &f);
	/* closes sv[1] */
	(void)ll_rfbc_run_fd(sv[1], 4096);
	g_thread_join(t);
	/* what the client wrote (SetEncodings, update requests) */
	while (recv(sv[0], sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	close(sv[0]);
	return 0;
}
