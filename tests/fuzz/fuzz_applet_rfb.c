/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The applet's RFB input path: bytes from a hostile technician's viewer,
 * as the bridge delivers them, into libvncserver on the applet's RFB
 * thread (applet/rfb_server.c) through a socketpair, with control granted
 * so that every pointer and key event goes on through the input gate to a
 * capture backend that counts instead of injecting (tests/applet/
 * fake_platform.c).  The server's answers are read and dropped.
 *
 * libvncserver 0.9.14 sniffs the first client byte for a websocket or TLS
 * handshake; the applet creates the client before the mux channel opens,
 * so no peer byte can reach that sniff and inputs that would feed it
 * ('G', 0x16, 0x80 first) are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ll_util.h"
#include "applet_rfb.h"
#include "fake_platform.h"

#define FUZZ_DEADLINE_MS 5000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;
	static struct ll_fake_input in;
	static int own_window;
	struct ll_input_gate *gate;
	struct ll_rfb_server *srv = NULL;
	struct ll_platform *p = NULL, *inj = NULL;
	struct pollfd pfd;
	size_t off = 0;
	int64_t deadline;
	ssize_t n;
	int sv[2];

	if (!once) {
		signal(SIGPIPE, SIG_IGN);
		ll_log_set_level(LL_LOG_ERROR);
		once = true;
	}
	if (size == 0 || data[0] == 'G' || data[0] == 0x16 || data[0] == 0x80)
		return 0;

	gate = ll_input_gate_new();
	if (ll_fake_platform_new(32, 16, true, &in, &inj) != 0)
		abort();
	ll_input_gate_set_injector(gate, inj);
	ll_input_gate_set_control(gate, true);
	ll_input_gate_set_window(gate, &own_window, 4, 4, 8, 8, true);
	if (ll_fake_platform_new(32, 16, true, NULL, &p) != 0)
		abort();
	if (ll_rfb_server_new(p, gate, NULL, "fuzz", NULL, &srv) != 0)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	/* The first bytes are there before the server looks. */
	n = write(sv[1], data, size);
	if (n > 0)
		off = (size_t)n;
	if (off == size)
		shutdown(sv[1], SHUT_WR);
	if (ll_rfb_server_start(srv, sv[0]) != 0)
		abort();

	/* Feed the rest while reading what the server answers, until it
	 * closes the client (it reads EOF after our last byte). */
	deadline = ll_now_mono_ms() + FUZZ_DEADLINE_MS;
	while (ll_now_mono_ms() < deadline) {
		char buf[65536];

		pfd.fd = sv[1];
		pfd.events = POLLIN | (off < size ? POLLOUT : 0);
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			break;
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(sv[1], buf, sizeof(buf));
			if (n == 0 || (n < 0 && errno != EAGAIN))
				break;
		}
		if (off < size && (pfd.revents & POLLOUT)) {
			n = write(sv[1], data + off, size - off);
			if (n < 0 && errno != EAGAIN)
				break;
			if (n > 0)
				off += (size_t)n;
			if (off == size)
				shutdown(sv[1], SHUT_WR);
		}
	}
	/* The viewer end first, as the session closes the channel. */
	close(sv[1]);
	ll_rfb_server_free(srv);
	ll_input_gate_free(gate);
	return 0;
}
