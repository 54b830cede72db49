/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The receiving half of a file transfer off the main loop (xfer_rx.c):
 * the loop hands over the channel's bytes as they came; one worker thread
 * per transfer decodes the chunks, hashes them and writes them to the
 * part file, and reports back on the loop what it has done, so that the
 * loop returns the peer's credit only for bytes that are on disk.  What
 * the worker holds is thus never more than the channel's window
 * (back-pressure end to end), and the loop's own work per byte is a copy.
 *
 * The worker has a descriptor of its own on the part, and its own decoder
 * and hash; the loop never waits for it (see xfer_rx.c for why).
 */
#ifndef LL_XFER_RX_H
#define LL_XFER_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ll_crypto.h"
#include "ll_xfer.h"

enum ll_xfer_rx_end {
	LL_XFER_RX_RUNNING = 0,
	LL_XFER_RX_WHOLE,     /* every byte of the file is written */
	LL_XFER_RX_WRITE_ERR, /* pwrite failed: errno in the report */
	LL_XFER_RX_BAD_DATA,  /* the decoder refused a chunk */
	LL_XFER_RX_TOO_LONG,  /* bytes past the file's size */
};

struct ll_xfer_rx_report {
	uint64_t written; /* file bytes written since the last report */
	size_t consumed;  /* channel bytes dealt with since then */
	enum ll_xfer_rx_end end;
	int err;       /* errno of a WRITE_ERR, else the decoder's */
	size_t queued; /* channel bytes handed over, not yet dealt with */
	uint8_t sha256[LL_SHA256_LEN]; /* the file's, when end is WHOLE */
};

struct ll_xfer_rx;

/* Called on the creating thread's main context when a report waits. */
typedef void (*ll_xfer_rx_cb)(void *user);

/* A file of size bytes into the part fd (duplicated: the caller keeps
 * its own).  The worker first hashes the offset bytes the part holds (a
 * resume), then writes from there.  NULL when no worker could start. */
struct ll_xfer_rx *ll_xfer_rx_new(int fd, uint64_t offset, uint64_t size,
				  ll_xfer_rx_cb cb, void *user);
/* Copies len channel bytes to the worker's queue; returns what the queue
 * holds now (for the caller's accounting). */
size_t ll_xfer_rx_push(struct ll_xfer_rx *rx, const uint8_t *data, size_t len);
/* What happened since the last call; false when nothing did. */
bool ll_xfer_rx_take(struct ll_xfer_rx *rx, struct ll_xfer_rx_report *rep);
/* The most the queue ever held. */
size_t ll_xfer_rx_peak(struct ll_xfer_rx *rx);
/* A screen is live: from now on the worker gets only the CPU that others
 * leave (the idle scheduling class), for good.  True the first time. */
bool ll_xfer_rx_yield(struct ll_xfer_rx *rx);
/* Workers still running in this process: its exit stops them and waits
 * for them (a worker may be hashing, and OpenSSL's exit handler would
 * pull what it uses from under it). */
unsigned ll_xfer_rx_live(void);
/*
 * Stops the worker: what is queued and not written is dropped; a write
 * under way may still complete after the return, at its place in the
 * file (so the part is whole up to what it holds, and a resume rewrites
 * the same bytes).  No callback after it.  NULL is a no-op.
 */
void ll_xfer_rx_free(struct ll_xfer_rx *rx);

#endif
