/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * File transfers of one session on the GLib main loop, for both the
 * applet and the agent (the wire format and the name rule are
 * common/proto's ll_xfer.h).  The application feeds the set the control
 * messages and channel events of its session pump (ll_session_io.h) and
 * decides: which offers to accept and where, which requests to answer;
 * the set moves the bytes.
 *
 *  - Sending: the file is hashed (SHA-256) in a worker thread, a channel
 *    of our parity is opened and the offer sent; once accepted at an
 *    offset, the channel is fed by a source (ll_session_io_bridge_source)
 *    that reads and encodes chunks (ll_xfer_enc) whenever the pump has
 *    credit and room, so the peer's credit paces us end to end, several
 *    windows are always in flight, and the bytes go from the file into
 *    the frames without a detour through a socket.
 *  - Receiving: the file is created with openat(O_CREAT | O_EXCL |
 *    O_NOFOLLOW) in a folder the application opened, under a name from
 *    ll_xfer_safe_name(), first as ".NAME.part"; chunks are decoded,
 *    written and hashed as they come; at the end the hash is compared
 *    with the offer's and the part is renamed with RENAME_NOREPLACE to
 *    NAME, or "NAME (2)", ... (never over an existing file).  A part
 *    left by a transfer cut by a lost stream is resumed when the same
 *    file (same SHA-256 and size) is offered again: its bytes are hashed
 *    again and the accept carries their count as offset.
 *
 * Main loop only.  Callbacks may call any function here but _free.
 */
#ifndef LL_XFER_IO_H
#define LL_XFER_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "ll_control.h"

struct ll_session_io;
struct ll_xfer_set;
struct ll_xfer;

enum ll_xfer_dir { LL_XFER_OUT = 0, LL_XFER_IN };

enum ll_xfer_state {
	LL_XFER_HASHING = 0, /* out: hashing before the offer */
	LL_XFER_OFFERED,     /* offer sent / received, no answer yet */
	LL_XFER_RUNNING,     /* bytes moving */
	LL_XFER_INTERRUPTED, /* the stream was lost; resumes when back */
	LL_XFER_DONE,        /* hash verified (in: file in place) */
	LL_XFER_FAILED,      /* refused, cancelled, failed (see reason) */
};

struct ll_xfer_set_cbs {
	/* The peer offers a file: answer with ll_xfer_accept or
	 * ll_xfer_refuse (now or later). */
	void (*on_offer)(struct ll_xfer_set *set, struct ll_xfer *x,
			 void *user);
	/* The peer asks for a file (file_request; name: printable hint):
	 * answer with ll_xfer_send_file(..., id) or ll_xfer_refuse_request. */
	void (*on_request)(struct ll_xfer_set *set, uint32_t id,
			   const char *name, void *user);
	/* Progress, state or outcome of x changed. */
	void (*on_changed)(struct ll_xfer_set *set, struct ll_xfer *x,
			   void *user);
	/* x ended (DONE or FAILED), once: the audit's moment. */
	void (*on_finished)(struct ll_xfer_set *set, struct ll_xfer *x,
			    void *user);
	/* A request of ours was refused. */
	void (*on_request_refused)(struct ll_xfer_set *set, uint32_t id,
				   void *user);
	/* The peer took back its request id before we answered it
	 * (ll_xfer_withdraw_request): nothing is to be sent for it. */
	void (*on_request_withdrawn)(struct ll_xfer_set *set, uint32_t id,
				     void *user);
};

struct ll_xfer_set *ll_xfer_set_new(const struct ll_xfer_set_cbs *cbs,
				    void *user);
/* Everything stopped, parts of unfinished files kept; NULL ok. */
void ll_xfer_set_free(struct ll_xfer_set *set);
/* The session's pump (NULL while the stream is lost: running transfers
 * become INTERRUPTED; a new pump re-offers what we were sending). */
void ll_xfer_set_attach(struct ll_xfer_set *set, struct ll_session_io *io);

/* Hooks for the pump's callbacks; each returns true when the event was
 * a file transfer's (then the application does nothing more). */
bool ll_xfer_set_control(struct ll_xfer_set *set,
			 const struct ll_control_msg *msg);
bool ll_xfer_set_channel_open(struct ll_xfer_set *set, uint16_t channel);
bool ll_xfer_set_channel_data(struct ll_xfer_set *set, uint16_t channel,
			      const uint8_t *data, size_t len);
bool ll_xfer_set_channel_close(struct ll_xfer_set *set, uint16_t channel);

/* Send the file at path (request: the file_request it answers, 0 none).
 * *out (may be NULL) is borrowed from the set. */
int ll_xfer_send_file(struct ll_xfer_set *set, const char *path,
		      uint32_t request, struct ll_xfer **out);
/* Ask the peer for a file (agent); *id gets the request's id. */
int ll_xfer_request(struct ll_xfer_set *set, const char *name, uint32_t *id);
int ll_xfer_refuse_request(struct ll_xfer_set *set, uint32_t id);
/* Takes back a request of ours the peer has not answered yet
 * (file_cancel with request, reason cancelled); LL_ERR_NOT_FOUND when
 * it is not pending.  An offer that crossed it answers nothing. */
int ll_xfer_withdraw_request(struct ll_xfer_set *set, uint32_t id);

/* Accept an offer into the folder dirfd (dup'ed), under its safe name,
 * or under `name` when not NULL (made safe too). */
int ll_xfer_accept(struct ll_xfer *x, int dirfd, const char *name);
int ll_xfer_refuse(struct ll_xfer *x, enum ll_file_cancel_reason why);
/* Cancel from our side (tells the peer; an incoming part is removed). */
int ll_xfer_cancel(struct ll_xfer *x);

enum ll_xfer_dir ll_xfer_dir(const struct ll_xfer *x);
enum ll_xfer_state ll_xfer_state(const struct ll_xfer *x);
/* The name as offered, printable (in) / the basename (out). */
const char *ll_xfer_name(const struct ll_xfer *x);
/* In, once done: the name it was saved under. */
const char *ll_xfer_saved_name(const struct ll_xfer *x);
const char *ll_xfer_sha256(const struct ll_xfer *x); /* "" while hashing */
uint64_t ll_xfer_size(const struct ll_xfer *x);
uint64_t ll_xfer_done_bytes(const struct ll_xfer *x);
/* Bytes moved in this run (after a resume: since it); rate in bytes/s
 * since the run began; seconds left at that rate (-1: unknown). */
double ll_xfer_rate(const struct ll_xfer *x);
double ll_xfer_eta(const struct ll_xfer *x);
/* Offset the last run started at (resume point). */
uint64_t ll_xfer_resumed_at(const struct ll_xfer *x);
uint32_t ll_xfer_request_id(const struct ll_xfer *x);
enum ll_file_cancel_reason ll_xfer_reason(const struct ll_xfer *x);
/* Who ended it: true when the peer cancelled/refused. */
bool ll_xfer_by_peer(const struct ll_xfer *x);
/* A sentence for a person about the outcome ("" while running). */
const char *ll_xfer_outcome(const struct ll_xfer *x);
/* "12.3 MB of 1.0 GB, 85.0 MB/s, 11 s left" (g_free). */
char *ll_xfer_progress_text(const struct ll_xfer *x);
/*
 * The audit's reason of an ended transfer (POST .../events type "file",
 * at most 256 bytes; g_free): "sent|received done|refused|cancelled|
 * failed|bad_hash|not_permitted size=N sha256=HEX name=NAME", the name
 * printable and cut to fit at a character boundary.
 */
char *ll_xfer_audit_text(const struct ll_xfer *x);
/*
 * Reports an ended transfer to the audit through rep (NULL: none): type
 * "file" with ll_xfer_audit_text as its reason and the same as fields
 * (`file`: name, size, sha256, direction, outcome) that an auditor can
 * search, by hash above all (xfer_audit.c).
 */
struct ll_reporter;
void ll_xfer_report(struct ll_reporter *rep, const struct ll_xfer *x);
void ll_xfer_set_user(struct ll_xfer *x, void *user);
void *ll_xfer_get_user(const struct ll_xfer *x);

#endif
