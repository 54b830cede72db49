/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's single sign-on (ll_sso.h): the PKCE verifier, the start and
 * the wait for the browser, shared by the CLI and the GUI.
 */
#include <stdlib.h>
#include <string.h>

#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_sso.h"
#include "ll_util.h"

struct ll_sso {
	char *verifier; /* secret: RFC 7636's code_verifier, 43 characters */
	struct ll_api_sso sso;
};

void ll_sso_free(struct ll_sso *s)
{
	if (s == NULL)
		return;
	ll_secret_free(s->verifier);
	ll_api_sso_clear(&s->sso);
	free(s);
}

const char *ll_sso_url(const struct ll_sso *s)
{
	return s->sso.authorize_url;
}

struct ll_sso *ll_sso_start(struct ll_api_client *c, const char *org,
			    struct ll_client_error *err)
{
	struct ll_sso *s = calloc(1, sizeof(*s));
	uint8_t h[LL_SHA256_LEN];
	char *challenge = NULL;
	int r;

	ll_client_error_clear(err);
	/* 32 random bytes: a verifier of 43 base64url characters, the
	 * challenge its S256 */
	if (s == NULL || (s->verifier = ll_random_token_new(32)) == NULL ||
	    ll_sha256(s->verifier, strlen(s->verifier), h) != 0 ||
	    (challenge = ll_base64url_new(h, sizeof(h))) == NULL) {
		ll_client_error_set(err, LL_ERR_NOMEM, 0, "out of memory");
		r = LL_ERR_NOMEM;
	} else {
		r = ll_api_login_sso_start(c, org, challenge, &s->sso, err);
	}
	ll_wipe(h, sizeof(h));
	free(challenge);
	if (r != LL_OK) {
		ll_sso_free(s);
		return NULL;
	}
	return s;
}

/* Until cancel fires or ms pass; the wait between two asks. */
static void pause_ms(GCancellable *cancel, GPollFD *fd, int64_t ms)
{
	if (fd != NULL)
		g_poll(fd, 1, (int)ms);
	else if (!g_cancellable_is_cancelled(cancel))
		g_usleep((gulong)ms * 1000);
}

int ll_sso_wait(struct ll_sso *s, struct ll_api_client *c,
		GCancellable *cancel, struct ll_api_login *out,
		struct ll_client_error *err)
{
	int64_t life = MIN(s->sso.expires_in, LL_SSO_WAIT_S);
	int64_t deadline = ll_now_mono_ms() + life * 1000;
	int64_t poll = s->sso.poll_interval_s, now;
	GPollFD fd;
	bool have_fd = cancel != NULL &&
		       g_cancellable_make_pollfd(cancel, &fd);
	int r;

	ll_client_error_clear(err);
	for (;;) {
		if (g_cancellable_is_cancelled(cancel)) {
			r = LL_ERR_TIMEOUT;
			ll_client_error_set(err, r, 0,
					    "single sign-on cancelled");
			break;
		}
		r = ll_api_login_sso_token(c, s->sso.sso_id, s->verifier, out,
					   &poll, err);
		if (r != LL_ERR_WANT_READ)
			break;
		if ((now = ll_now_mono_ms()) >= deadline) {
			r = LL_ERR_EXPIRED;
			ll_client_error_set(err, r, 0,
					    "nobody signed in within %d s",
					    (int)life);
			break;
		}
		/* the relay's pace: it says how often to ask */
		pause_ms(cancel, have_fd ? &fd : NULL,
			 MIN(poll * 1000, deadline - now));
	}
	if (have_fd)
		g_cancellable_release_fd(cancel);
	return r;
}
