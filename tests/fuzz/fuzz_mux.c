/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The mux fed what a hostile peer sends, in pieces of varying size, with
 * the application consuming and answering as it goes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_buf.h"
#include "ll_err.h"
#include "ll_mux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ll_mux_config cfg;
	struct ll_mux_event ev;
	struct ll_mux *m;
	size_t off = 0, avail, step, taken;
	uint16_t ch;
	int n;

	if (size < 2)
		return 0;
	ll_mux_config_default(&cfg);
	cfg.side = (data[0] & 1) ? LL_SIDE_APPLET : LL_SIDE_AGENT;
	cfg.initial_window = (data[0] & 2) ? LL_FRAME_MIN_PAYLOAD : 65536;
	cfg.out_max = 64 * 1024;
	step = (size_t)data[1] + 1;
	data += 2;
	size -= 2;
	if ((m = ll_mux_new(&cfg)) == NULL)
		return 0;
	avail = step < size ? step : size;
	while (off < size) {
		n = ll_mux_feed(m, data + off, avail, &ev);
		if (n < 0)
			break;
		if (n == 0) {
			if (off + avail >= size)
				break;
			avail = avail + step < size - off ? avail + step
							  : size - off;
			continue;
		}
		if ((size_t)n > avail)
			abort();
		off += (size_t)n;
		avail = step < size - off ? step : size - off;
		switch (ev.type) {
		case LL_MUX_EV_DATA:
			if (ev.u.data.len == 0 || ev.u.data.data < data ||
			    ev.u.data.data + ev.u.data.len > data + size)
				abort();
			/* Echo a little, use all of it. */
			(void)ll_mux_send(m, ev.channel, ev.u.data.data,
					  ev.u.data.len > 16 ? 16
							     : ev.u.data.len,
					  &taken);
			if (ll_mux_consume(m, ev.channel, ev.u.data.len) !=
				    0 &&
			    !ll_mux_dead(m))
				abort();
			break;
		case LL_MUX_EV_OPEN:
			if (!ll_mux_is_open(m, ev.channel))
				abort();
			if (ev.channel % 4 == 1)
				(void)ll_mux_close(m, ev.channel);
			break;
		case LL_MUX_EV_HELLO:
			(void)ll_mux_open_next(m, &ch);
			break;
		default:
			break;
		}
		/* The writer drains now and then. */
		if (off % 3 == 0)
			ll_buf_reset(ll_mux_out(m));
		if (ll_buf_len(ll_mux_out(m)) > cfg.out_max)
			abort();
	}
	ll_mux_free(m);
	return 0;
}
