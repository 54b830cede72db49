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

#endif
