/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay's API library (api/): what each endpoint under /api/v1/ does,
 * the stream tickets, the audit of every request.  The core never calls
 * it by name: `serve` puts ll_api_ops in relay->api before ll_core_run(),
 * so the API depends on the core (ll_relay.h) and not the reverse.
 */
#ifndef LL_RELAY_API_PUBLIC_H
#define LL_RELAY_API_PUBLIC_H

#include "ll_relay.h"

/* The API's answers to the core's questions (struct ll_relay_api_ops). */
extern const struct ll_relay_api_ops ll_api_ops;

/* After the loop ended (serve): writes the summaries of refusals counted
 * in the current window and frees the API's state. */
void ll_api_shutdown(struct ll_relay *relay);

/*
 * Before the loop (serve), when no stream can be live: ends the sessions
 * that a crash or restart left connected (or waiting with a stream
 * spent), reason "relay_restart", each with an audit record, so that no
 * session stays `connected` forever.  < 0 when the store failed.
 */
int ll_api_sessions_recover(struct ll_relay *relay);

/*
 * Before the loop (serve): loads the PIN page's brand (relay.conf
 * brand_dir, checked as `brand check` does) and looks at the portable
 * applet it offers (portable_applet).  A brand with problems or an
 * applet file that cannot be read: < 0, every problem logged and the
 * first in errbuf, and the relay does not start.  On SIGHUP the page
 * loads again and keeps the previous brand when the new one fails.
 */
int ll_api_page_open(struct ll_relay *relay, char *errbuf, size_t errlen);

#endif
