/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening a session stream (docs/ARCHITECTURE.md, Flows 4; docs/API.md
 * `GET /api/v1/stream`): blocking, bounded by a timeout, for a worker
 * thread or a CLI.  Steps:
 *
 *  1. TCP to the relay, or through an HTTP proxy with CONNECT.  The proxy
 *     comes from https_proxy / HTTPS_PROXY / all_proxy / ALL_PROXY and is
 *     skipped for hosts matching no_proxy / NO_PROXY.  libcurl does this
 *     step (CURLOPT_CONNECT_ONLY + CURLOPT_HTTPPROXYTUNNEL), so the proxy
 *     handling, proxy authentication from the proxy URL and the no_proxy
 *     rules are exactly those of the API calls, and no proxy answer is
 *     parsed by hand.  Proxies reached over TLS (https:// proxy URLs) are
 *     refused: the tunnel must be a plain socket for our own TLS.
 *  2. TLS with ll_tls (same trust as ll_api_client: system CAs + ca_file,
 *     or only ca_file with no_system_cas; spki_pin checked in addition;
 *     the relay's host name verified).
 *  3. The upgrade request (ll_http_upgrade_request_build) carrying the
 *     ticket; the answer's head parsed with ll_http_response_head_parse.
 *     101 + lifeline/1 = success.  Anything else is an error in *err with
 *     the HTTP status and, when the body is the API's error object, its
 *     code and message (401 unauthorized: bad or used ticket, 404, 409
 *     conflict: this side's stream is already open in a session that
 *     never connected, 410/403 ...).
 *
 * The ticket is a secret: never logged, request bytes wiped after use.
 */
#ifndef LL_STREAM_H
#define LL_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "ll_api_client.h"

struct ll_tls_conn;

#define LL_STREAM_DEFAULT_PATH "/api/v1/stream"
#define LL_STREAM_DEFAULT_TIMEOUT_MS 15000

/* An open stream.  Hand it to ll_session_io_new(), or free it. */
struct ll_stream {
	struct ll_tls_conn *conn; /* owns its socket, now non-blocking */
	uint8_t *extra;           /* stream bytes read past the 101 head */
	size_t extra_len;         /* (they come before any later read) */
};
/* Frees conn (closing its socket) and extra.  NULL ok. */
void ll_stream_free(struct ll_stream *s);

/*
 * Opens the stream of one side of a session.  relay: as for the API
 * client (relay->timeout_ms bounds the whole open, 0 = default
 * LL_STREAM_DEFAULT_TIMEOUT_MS).  path: redeem's stream_path, or NULL for
 * LL_STREAM_DEFAULT_PATH.  ticket: that side's ticket.
 * Returns LL_OK with *out set, or a negative ll_err with err filled:
 * LL_ERR_IO / LL_ERR_TIMEOUT (connect, proxy), LL_ERR_TLS /
 * LL_ERR_TLS_VERIFY, LL_ERR_MALFORMED / LL_ERR_TOO_LARGE (a broken
 * answer), or the status's error as in ll_client_error_from_status()
 * (401 -> LL_ERR_AUTH_FAILED, 409 -> LL_ERR_CONFLICT, ...).
 */
int ll_stream_open(const struct ll_relay_opts *relay, const char *path,
		   const char *ticket, struct ll_stream **out,
		   struct ll_client_error *err);

/*
 * How long a client tries to come back after its stream was lost: the
 * relay's default stream_grace_s (docs/API.md, section 2), the same for
 * both sides.
 */
#define LL_STREAM_GRACE_MS 60000
/* Longest wait between two tries of ll_stream_reopen. */
#define LL_STREAM_REOPEN_MAX_WAIT_MS 8000

/*
 * Coming back after a lost stream (issue 9.2; the relay's grace,
 * docs/ARCHITECTURE.md flow 4 step 6): ll_stream_open with the same
 * ticket until it succeeds, waiting 1, 2, 4 ... s between tries (at most
 * LL_STREAM_REOPEN_MAX_WAIT_MS), each try bounded by what is left.
 * Stops with the last error when the relay says the session is over or
 * the ticket is no good (404, 401, 403, 409: trying again cannot help)
 * or is not the relay we trust (LL_ERR_TLS_VERIFY),
 * when deadline_ms (ll_now_mono_ms) has passed (LL_ERR_TIMEOUT unless a
 * try said more), or when *cancel (may be NULL) becomes true
 * (LL_ERR_CLOSED; looked at between tries and every 100 ms of a
 * wait).  Blocking, like ll_stream_open: for a worker thread, never the
 * GTK main loop.  *tries (may be NULL) counts the attempts.
 */
int ll_stream_reopen(const struct ll_relay_opts *relay, const char *path,
		     const char *ticket, int64_t deadline_ms,
		     const volatile int *cancel, unsigned *tries,
		     struct ll_stream **out, struct ll_client_error *err);

#endif
