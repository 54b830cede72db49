/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Single sign-on as the agent does it, the one home of its steps for both
 * faces: the CLI's `login --sso` and the GUI's "Sign in with single
 * sign-on" (docs/API.md, "Single sign-on").  RFC 8252: the technician
 * signs in in the system browser; the provider sends that browser back to
 * the relay's own callback; the agent meanwhile asks the relay for the
 * sign-in's token, which only its PKCE verifier redeems.
 *
 *   s = ll_sso_start(c, org, &e);         the verifier made and kept here,
 *                                         only its S256 challenge sent
 *   open ll_sso_url(s) in a browser
 *   ll_sso_wait(s, c, cancel, &l, &e);    asks at the relay's pace until
 *                                         the browser is back
 *   ll_sso_free(s);
 *
 * Blocking (libcurl): the CLI's thread or a GUI worker, never a main
 * loop.  The verifier leaves the process in the one request that takes
 * the token, nowhere else (no log, no file).
 */
#ifndef LL_SSO_H
#define LL_SSO_H

#include <gio/gio.h>

#include "ll_api_client.h"

/* The longest wait for the browser: the relay's sign-in lifetime
 * (api_sso.c); a relay naming a shorter one is waited for that long. */
#define LL_SSO_WAIT_S 600

struct ll_sso;

/* A new verifier, its challenge sent with POST /api/v1/login/sso (org may
 * be NULL).  NULL with err filled: the relay's refusal, or its answer
 * not a sign-in (LL_ERR_SCHEMA). */
struct ll_sso *ll_sso_start(struct ll_api_client *c, const char *org,
			    struct ll_client_error *err);
/* The provider's page to open in the browser (https://, no space or
 * control character): s's. */
const char *ll_sso_url(const struct ll_sso *s);
/*
 * Asks the relay (c, the client s started with or another for the same
 * relay) at the pace it names until the browser is back.  LL_OK: signed
 * in, *out filled as by ll_api_login and the token kept in c.  Else
 * err filled: the relay's refusal (sso_failed, forbidden, ...: its
 * api_code and sentence); LL_ERR_EXPIRED with no api_code when nobody
 * signed in within the sign-in's lifetime; LL_ERR_TIMEOUT when cancel
 * (may be NULL) was cancelled, which wakes the wait between two asks at
 * once.  One sign-in is redeemed once: a second wait is refused by the
 * relay.
 */
int ll_sso_wait(struct ll_sso *s, struct ll_api_client *c,
		GCancellable *cancel, struct ll_api_login *out,
		struct ll_client_error *err);
/* Wipes the verifier and the sign-in's id.  NULL is fine. */
void ll_sso_free(struct ll_sso *s);

#endif
