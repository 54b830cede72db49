/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's headless RFB client (libvncclient) for the CLI's session
 * holder: it speaks plain RFB 3.8 without VNC authentication on one end
 * of a socketpair whose other end is bridged to mux channel 1 (the tunnel
 * is the authentication).  rfb_client.c is the only file of the agent that
 * includes <rfb/rfbclient.h>.  GLib only (no GTK), so a fuzz target can
 * build it on its own.
 *
 * Safety against a hostile applet:
 *  - encodings requested are LL_RFBC_ENCODINGS only (Tight, with JPEG at
 *    the quality the session's band allows, then lossless ZRLE);
 *  - only the security type None is accepted (no VNC/ARD/TLS auth parsing);
 *  - the framebuffer is at most LL_RFBC_MAX_DIM on each side, sizes are
 *    computed in size_t with overflow checks;
 *  - server clipboard text and bells are ignored, never logged.
 * Note that libvncclient decodes every encoding it was built with when a
 * server sends one unasked; SetEncodings only binds an honest server.
 * The RFB filter on the channel's bridge (ll_rfb_filter.h, session.c)
 * enforces the list against a dishonest one.
 *
 * Threading: libvncclient's reads block (HACKING.md, libvncserver and
 * libvncclient), so each client runs on
 * its own thread.  Calls below are made from the thread that owns ctx;
 * callbacks are delivered there through ctx, never after ll_rfbc_free().
 */
#ifndef LL_RFBC_H
#define LL_RFBC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

/* Tight first (JPEG while things move, ll_rfb_quality.h; the applet
 * resends the picture losslessly once it is still), ZRLE as fallback. */
#define LL_RFBC_ENCODINGS "tight zrle copyrect raw"
#define LL_RFBC_MAX_DIM 8192
/* How long a snapshot may wait for the frame it asked for. */
#define LL_RFBC_SNAPSHOT_TIMEOUT_MS 10000

struct ll_rfbc;

struct ll_rfbc_cbs {
	/* A whole framebuffer update was received (the first one means the
	 * picture is complete). */
	void (*on_frame)(struct ll_rfbc *c, void *user);
	/* The RFB connection ended (EOF, protocol error).  err is a
	 * negative ll_err, why a sentence.  Exactly once. */
	void (*on_closed)(struct ll_rfbc *c, int err, const char *why,
			  void *user);
	/* Not a callback: the number of the last update that held JPEG,
	 * as the channel's filter counts them (ll_agent_session_rfb_lossy;
	 * NULL: none known).  A snapshot is made only of a picture whose
	 * updates held none.  Must outlive the client. */
	const atomic_uint_least64_t *lossy;
};

/* Result of a snapshot: err LL_OK, or a negative ll_err and a sentence. */
typedef void (*ll_rfbc_done_fn)(int err, const char *msg, void *user);

/*
 * Starts a client on fd (a connected stream socket; taken over, closed by
 * the client).  ctx NULL = the thread-default context.  LL_ERR_NOMEM,
 * LL_ERR_INVALID_ARG.
 */
int ll_rfbc_start(int fd, GMainContext *ctx, const struct ll_rfbc_cbs *cbs,
		  void *user, struct ll_rfbc **out);
/* Stops the thread (shuts the socket down), joins it, frees.  No callback
 * comes after this.  NULL ok. */
void ll_rfbc_free(struct ll_rfbc *c);

/* True once a whole framebuffer update arrived. */
bool ll_rfbc_has_frame(const struct ll_rfbc *c);
/* Framebuffer size (0 x 0 before the server's init). */
void ll_rfbc_size(const struct ll_rfbc *c, int *width, int *height);

/*
 * Asks for a full (non-incremental) update and, once it arrived, writes
 * the framebuffer as PNG to path (a temporary file renamed into place);
 * as_shown: writes it as the updates so far made it, asking for
 * nothing.  done is called from ctx exactly once (unless the client is
 * freed first).  LL_ERR_CLOSED when the client already ended.
 */
int ll_rfbc_snapshot(struct ll_rfbc *c, const char *path, bool as_shown,
		     ll_rfbc_done_fn done, void *user);
/* Tight's JPEG quality (0..9; negative: no JPEG) and compression level
 * (0..9) from now on: SetEncodings is sent again when they changed.
 * Until the first call the policy's default band applies. */
int ll_rfbc_set_quality(struct ll_rfbc *c, int quality, int compress);
/* Pointer position and button mask (bit 0 = button 1, ...). */
int ll_rfbc_pointer(struct ll_rfbc *c, int x, int y, int button_mask);
/* A key event (X keysym). */
int ll_rfbc_key(struct ll_rfbc *c, uint32_t keysym, bool down);

/*
 * Synchronous: handshake then server messages on fd until EOF, an error
 * or max_msgs messages (for the fuzz target).  fd is closed.  LL_OK when
 * the handshake and every message were accepted, else a negative ll_err.
 */
int ll_rfbc_run_fd(int fd, unsigned max_msgs);

#endif
