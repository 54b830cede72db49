/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What it takes to let go of a server SSL and go on with our own record
 * layer (ll_tls_rec13.h; the pipes shed idle streams, pipe.c): the
 * application traffic secrets and the sequence number of each direction.
 * OpenSSL 3.0 has no getter for either, so the relay's server context
 * watches its connections:
 *
 * - the secrets come through the key log callback, as the text lines of
 *   the NSS key log format; they are parsed into binary here, held in
 *   the SSL's ex_data and cleansed with it.  The text is never written
 *   anywhere (docs/SECURITY.md);
 * - the sequence numbers are records counted by the message callback:
 *   one SSL3_RT_HEADER call per record read or written.  A direction's
 *   count starts at 0 where its application keys take over: after the
 *   client's Finished is read (read side), after ours is written (write
 *   side).  test_tls's /tls/shed/... cases check this against OpenSSL.
 *
 * Anything after the handshake that is not application data (a
 * KeyUpdate, an alert, a handshake message in pieces) marks the SSL as
 * not to be shed: it keeps OpenSSL, which is correct, only not small.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ll_tls_rec13.h"
#include "ll_util.h"
#include "tls_internal.h"

struct shed_state {
	uint8_t csecret[LL_REC13_SECRET_MAX]; /* client application 0 */
	uint8_t ssecret[LL_REC13_SECRET_MAX]; /* server application 0 */
	uint8_t clen, slen;
	bool counting[2];    /* [write_p]: its application keys are on */
	bool no;             /* not to be shed */
	uint64_t records[2]; /* [write_p] since the keys took over */
};

static CRYPTO_ONCE shed_once = CRYPTO_ONCE_STATIC_INIT;
static int shed_index = -1;

static void shed_state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
			    int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (ptr != NULL)
		OPENSSL_clear_free(ptr, sizeof(struct shed_state));
}

static void shed_index_init(void)
{
	shed_index = SSL_get_ex_new_index(0, NULL, NULL, NULL,
					  shed_state_free);
}

/* ssl's state, made on the first call; NULL without memory. */
static struct shed_state *state_of(SSL *ssl)
{
	struct shed_state *st;

	if (shed_index < 0)
		return NULL;
	if ((st = SSL_get_ex_data(ssl, shed_index)) != NULL)
		return st;
	if ((st = OPENSSL_zalloc(sizeof(*st))) == NULL)
		return NULL;
	if (!SSL_set_ex_data(ssl, shed_index, st)) {
		OPENSSL_free(st);
		return NULL;
	}
	return st;
}

/* "LABEL <client random> <secret>" (hex): the secret of LABEL into out,
 * its length, or 0. */
static uint8_t keylog_secret(const char *line, const char *label,
			     uint8_t out[LL_REC13_SECRET_MAX])
{
	size_t ll = strlen(label), n = 0;
	const char *p;

	if (strncmp(line, label, ll) != 0 || line[ll] != ' ' ||
	    (p = strchr(line + ll + 1, ' ')) == NULL)
		return 0;
	/* '\0': no separator between the bytes */
	if (OPENSSL_hexstr2buf_ex(out, LL_REC13_SECRET_MAX, &n, p + 1, '\0') !=
	    1) {
		ERR_clear_error(); /* not the handshake's error */
		return 0;
	}
	return (uint8_t)n;
}

static void keylog_cb(const SSL *cssl, const char *line)
{
	/* OpenSSL hands the SSL as const; the ex_data is ours. */
	SSL *ssl = (SSL *)cssl;
	struct shed_state *st = state_of(ssl);
	uint8_t n;

	if (st == NULL)
		return;
	if ((n = keylog_secret(line, "CLIENT_TRAFFIC_SECRET_0",
			       st->csecret)) != 0)
		st->clen = n;
	else if ((n = keylog_secret(line, "SERVER_TRAFFIC_SECRET_0",
				    st->ssecret)) != 0)
		st->slen = n;
}

static void msg_cb(int write_p, int version, int content_type, const void *buf,
		   size_t len, SSL *ssl, void *arg)
{
	struct shed_state *st = state_of(ssl);
	const uint8_t *b = buf;
	int w = write_p ? 1 : 0;

	(void)version;
	(void)arg;
	if (st == NULL)
		return;
	switch (content_type) {
	case SSL3_RT_HEADER: /* once per record */
		if (st->counting[w])
			st->records[w]++;
		break;
	case SSL3_RT_INNER_CONTENT_TYPE:
		if (st->counting[w] &&
		    (len != 1 || b[0] != SSL3_RT_APPLICATION_DATA))
			st->no = true;
		break;
	case SSL3_RT_HANDSHAKE:
		if (!st->counting[w] && len >= 1 && b[0] == SSL3_MT_FINISHED) {
			st->counting[w] = true;
			st->records[w] = 0;
		} else if (st->counting[w]) {
			st->no = true;
		}
		break;
	case SSL3_RT_ALERT:
	case SSL3_RT_CHANGE_CIPHER_SPEC:
		if (st->counting[w])
			st->no = true;
		break;
	default:
		break;
	}
}

void ll_tls_shed_watch(SSL_CTX *sctx)
{
	CRYPTO_THREAD_run_once(&shed_once, shed_index_init);
	if (shed_index < 0)
		return;
	SSL_CTX_set_keylog_callback(sctx, keylog_cb);
	SSL_CTX_set_msg_callback(sctx, msg_cb);
}

int ll_tls_ssl_shed(SSL *ssl, struct ll_rec13 **out)
{
	struct shed_state *st;
	const SSL_CIPHER *c;
	struct ll_rec13 *r;

	*out = NULL;
	if (shed_index < 0 ||
	    (st = SSL_get_ex_data(ssl, shed_index)) == NULL || st->no ||
	    !st->counting[0] || !st->counting[1] || st->clen == 0 ||
	    st->clen != st->slen || !SSL_is_server(ssl) ||
	    SSL_version(ssl) != TLS1_3_VERSION || !SSL_is_init_finished(ssl) ||
	    SSL_get_shutdown(ssl) != 0 || SSL_pending(ssl) != 0 ||
	    SSL_has_pending(ssl) || (c = SSL_get_current_cipher(ssl)) == NULL)
		return LL_ERR_UNAVAILABLE;
	r = ll_rec13_new(SSL_CIPHER_get_protocol_id(c), st->csecret,
			 st->ssecret, st->clen, st->records[0],
			 st->records[1]);
	if (r == NULL)
		return LL_ERR_UNAVAILABLE;
	/* The SSL may live on a little (another reference): its copy of
	 * the secrets goes now, and it is never shed again. */
	OPENSSL_cleanse(st, sizeof(*st));
	st->no = true;
	*out = r;
	return LL_OK;
}
