/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TLS contexts and connections (see ll_tls.h).
 *
 * Everything that a verify or ALPN callback needs (pins, the server's ALPN
 * list) hangs off the SSL_CTX as ex_data freed with it, not off our
 * wrapper: SSL objects handed to libevent keep the SSL_CTX alive after
 * ll_tls_ctx_free(), and their callbacks must not touch freed memory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ll_tls.h"
#include "ll_util.h"
#include "tls_internal.h"
#include "tls_outq.h"

/* Mozilla "intermediate" (v5.7), ECDHE only: no RSA key exchange, no DHE. */
#define LL_TLS12_CIPHERS                                                      \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"          \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"          \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define LL_TLS13_SUITES                                                       \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"                      \
	"TLS_CHACHA20_POLY1305_SHA256"
#define LL_TLS_GROUPS "X25519:prime256v1:secp384r1"

#define LL_TLS_MAX_PINS 16
#define LL_TLS_ALPN_MAX 1024

struct ll_tls_ctx {
	SSL_CTX *ssl_ctx;
	bool server;
};

struct ll_tls_conn {
	SSL *ssl;
	int fd;
	bool server;
	bool done;  /* handshake finished */
	char *host; /* client: the name we verify, for messages */
	char alpn[256];
	char err[256];
	/* ll_tls_conn_gather_writes: records wait in outq, which a write
	 * fills with at most `gather` bytes of plaintext; gather 0: records
	 * go to the socket one write(2) each. */
	struct ll_tls_outq outq;
	size_t gather;
};

/* Per-SSL_CTX data, freed by OpenSSL together with the SSL_CTX. */
struct ll_tls_ctx_data {
	uint8_t pins[LL_TLS_MAX_PINS][32];
	size_t npins;
	uint8_t *alpn; /* server: wire-format list we accept */
	size_t alpn_len;
};

static CRYPTO_ONCE ex_once = CRYPTO_ONCE_STATIC_INIT;
static int ex_index = -1;

void ll_tls_errf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static void ctx_data_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
			  long argl, void *argp)
{
	struct ll_tls_ctx_data *d = ptr;

	if (d == NULL)
		return;
	free(d->alpn);
	free(d);
}

static void ex_index_init(void)
{
	ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
					    ctx_data_free);
}

static struct ll_tls_ctx_data *ctx_data_of(const SSL *ssl)
{
	SSL_CTX *sctx = SSL_get_SSL_CTX(ssl);

	if (sctx == NULL || ex_index < 0)
		return NULL;
	return SSL_CTX_get_ex_data(sctx, ex_index);
}

/* The reason string of the oldest queued OpenSSL error, or fallback. */
static const char *ossl_reason(const char *fallback)
{
	const char *r = ERR_reason_error_string(ERR_peek_error());

	return r != NULL ? r : fallback;
}

/* "a,b" -> "\x01a\x01b"; every name 1..255 bytes. */
static int alpn_encode(const char *list, uint8_t **out, size_t *outlen)
{
	size_t n = strlen(list), i, start = 0, w = 0;
	uint8_t *buf;

	if (n == 0 || n >= LL_TLS_ALPN_MAX)
		return LL_ERR_INVALID_ARG;
	if ((buf = malloc(n + 1)) == NULL)
		return LL_ERR_NOMEM;
	for (i = 0; i <= n; i++) {
		size_t len;

		if (i < n && list[i] != ',')
			continue;
		len = i - start;
		if (len == 0 || len > 255) {
			free(buf);
			return LL_ERR_INVALID_ARG;
		}
		buf[w++] = (uint8_t)len;
		memcpy(buf + w, list + start, len);
		w += len;
		start = i + 1;
	}
	*out = buf;
	*outlen = w;
	return LL_OK;
}

/* "sha256//B64[;sha256//B64...]" (curl's CURLOPT_PINNEDPUBLICKEY form). */
static int pins_parse(const char *s, struct ll_tls_ctx_data *d)
{
	const char *p = s;

	while (*p != '\0') {
		const char *end = strchr(p, ';');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		unsigned char raw[36];
		char check[48];

		if (d->npins == LL_TLS_MAX_PINS)
			return LL_ERR_TOO_LARGE;
		if (len != LL_TLS_SPKI_PIN_LEN ||
		    strncmp(p, "sha256//", 8) != 0)
			return LL_ERR_INVALID_ARG;
		if (EVP_DecodeBlock(raw, (const unsigned char *)p + 8, 44) !=
		    33)
			return LL_ERR_INVALID_ARG;
		/* Only the canonical encoding: re-encode and compare. */
		EVP_EncodeBlock((unsigned char *)check, raw, 32);
		if (memcmp(check, p + 8, 44) != 0)
			return LL_ERR_INVALID_ARG;
		memcpy(d->pins[d->npins++], raw, 32);
		if (end == NULL)
			break;
		p = end + 1;
		if (*p == '\0')
			return LL_ERR_INVALID_ARG;
	}
	return d->npins > 0 ? LL_OK : LL_ERR_INVALID_ARG;
}

static bool pin_matches(const struct ll_tls_ctx_data *d, X509 *leaf)
{
	uint8_t h[32];
	size_t i;
	bool ok = false;

	if (leaf == NULL || ll_tls_x509_spki_hash(leaf, h) != LL_OK)
		return false;
	for (i = 0; i < d->npins; i++)
		if (CRYPTO_memcmp(h, d->pins[i], sizeof(h)) == 0)
			ok = true;
	return ok;
}

/*
 * Chain and name checks are OpenSSL's; on top, the leaf's key must match
 * a pin when pins are set.  Done here rather than only after the
 * handshake so that SSL objects driven by libevent get the same check and
 * no application byte is sent to an unpinned server.
 */
static int verify_cb(int ok, X509_STORE_CTX *sctx)
{
	SSL *ssl;
	struct ll_tls_ctx_data *d;

	if (!ok || X509_STORE_CTX_get_error_depth(sctx) != 0)
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(sctx,
					 SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL || (d = ctx_data_of(ssl)) == NULL || d->npins == 0)
		return ok;
	if (!pin_matches(d, X509_STORE_CTX_get_current_cert(sctx))) {
		X509_STORE_CTX_set_error(sctx,
					 X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

static int alpn_select_cb(SSL *ssl, const unsigned char **out,
			  unsigned char *outlen, const unsigned char *in,
			  unsigned int inlen, void *arg)
{
	struct ll_tls_ctx_data *d = ctx_data_of(ssl);
	unsigned char *sel;

	if (d == NULL || d->alpn == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	/* Our list first: the server's order of preference wins. */
	if (SSL_select_next_proto(&sel, outlen, d->alpn,
				  (unsigned int)d->alpn_len, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		/* RFC 7301 3.2; also blunts cross-protocol tricks (ALPACA). */
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* Settings both sides share. */
static int ctx_common(SSL_CTX *sctx, char *errbuf, size_t errlen)
{
	if (SSL_CTX_set_min_proto_version(sctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(sctx, 0) != 1 ||
	    SSL_CTX_set_cipher_list(sctx, LL_TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(sctx, LL_TLS13_SUITES) != 1 ||
	    SSL_CTX_set1_groups_list(sctx, LL_TLS_GROUPS) != 1) {
		ll_tls_errf(errbuf, errlen, "cannot configure TLS: %s",
			    ossl_reason("unknown OpenSSL error"));
		return LL_ERR_CRYPTO;
	}
	/* Level 2: >= 112-bit security for keys and signatures. */
	SSL_CTX_set_security_level(sctx, 2);
	SSL_CTX_set_options(sctx,
			    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	return LL_OK;
}

static struct ll_tls_ctx *ctx_alloc(bool server, struct ll_tls_ctx_data **dp,
				    int *err, char *errbuf, size_t errlen)
{
	struct ll_tls_ctx *ctx;
	struct ll_tls_ctx_data *d;
	int r;

	if (!CRYPTO_THREAD_run_once(&ex_once, ex_index_init) || ex_index < 0) {
		*err = LL_ERR_CRYPTO;
		ll_tls_errf(errbuf, errlen, "cannot initialise OpenSSL");
		return NULL;
	}
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL ||
	    (d = calloc(1, sizeof(*d))) == NULL) {
		free(ctx);
		*err = LL_ERR_NOMEM;
		ll_tls_errf(errbuf, errlen, "out of memory");
		return NULL;
	}
	ctx->server = server;
	ctx->ssl_ctx = SSL_CTX_new(server ? TLS_server_method()
					  : TLS_client_method());
	if (ctx->ssl_ctx == NULL ||
	    !SSL_CTX_set_ex_data(ctx->ssl_ctx, ex_index, d)) {
		ll_tls_errf(errbuf, errlen, "cannot create a TLS context: %s",
			    ossl_reason("out of memory"));
		free(d);
		ll_tls_ctx_free(ctx);
		*err = LL_ERR_CRYPTO;
		return NULL;
	}
	/* d now belongs to the SSL_CTX. */
	if ((r = ctx_common(ctx->ssl_ctx, errbuf, errlen)) != LL_OK) {
		ll_tls_ctx_free(ctx);
		*err = r;
		return NULL;
	}
	*dp = d;
	return ctx;
}

/* Why a file could not be loaded, as an error code and a sentence. */
static int load_failure(const char *what, const char *path, char *errbuf,
			size_t errlen)
{
	if (access(path, R_OK) != 0) {
		ll_tls_errf(errbuf, errlen, "cannot read %s '%s': %s", what,
			    path, strerror(errno));
		return LL_ERR_IO;
	}
	ll_tls_errf(errbuf, errlen, "cannot load %s '%s': %s", what, path,
		    ossl_reason("not in PEM format"));
	return LL_ERR_MALFORMED;
}

/* The common end of the ctx constructors: ctx, or NULL with *err = r. */
static struct ll_tls_ctx *ctx_done(struct ll_tls_ctx *ctx, int r, int *err)
{
	ERR_clear_error();
	if (r != LL_OK) {
		ll_tls_ctx_free(ctx);
		*err = r;
		return NULL;
	}
	return ctx;
}

struct ll_tls_ctx *ll_tls_server_ctx_new(const struct ll_tls_server_opts *o,
					 int *err, char *errbuf, size_t errlen)
{
	struct ll_tls_ctx *ctx = NULL;
	struct ll_tls_ctx_data *d;
	int r = LL_OK, dummy;
	long opts;

	if (err == NULL)
		err = &dummy;
	if (o == NULL || o->cert_file == NULL || o->key_file == NULL) {
		*err = LL_ERR_INVALID_ARG;
		ll_tls_errf(errbuf, errlen,
			    "a TLS server needs a certificate and a key file");
		return NULL;
	}
	ERR_clear_error();
	if ((ctx = ctx_alloc(true, &d, err, errbuf, errlen)) == NULL)
		return NULL;

	if (SSL_CTX_use_certificate_chain_file(ctx->ssl_ctx, o->cert_file) !=
	    1) {
		r = load_failure("certificate", o->cert_file, errbuf, errlen);
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx->ssl_ctx, o->key_file,
					SSL_FILETYPE_PEM) != 1 &&
	    ERR_GET_REASON(ERR_peek_last_error()) !=
		    X509_R_KEY_VALUES_MISMATCH) {
		r = load_failure("private key", o->key_file, errbuf, errlen);
		goto out;
	}
	/* Loading checks it too; this gives the mismatch its own code. */
	if (SSL_CTX_check_private_key(ctx->ssl_ctx) != 1) {
		ll_tls_errf(errbuf, errlen,
			    "private key '%s' does not match certificate '%s'",
			    o->key_file, o->cert_file);
		r = LL_ERR_CONFIG;
		goto out;
	}
	if (o->alpn != NULL) {
		if ((r = alpn_encode(o->alpn, &d->alpn, &d->alpn_len)) != 0) {
			ll_tls_errf(errbuf, errlen,
				    "bad ALPN protocol list '%s'", o->alpn);
			goto out;
		}
		SSL_CTX_set_alpn_select_cb(ctx->ssl_ctx, alpn_select_cb, NULL);
	}

	opts = SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET;
	SSL_CTX_set_options(ctx->ssl_ctx, opts);
	/*
	 * No resumption at all: no tickets (TLS 1.2 and 1.3), no session
	 * cache.  Connections are long-lived streams, so a full handshake
	 * costs little, and there is no ticket key to rotate or leak.
	 */
	SSL_CTX_set_num_tickets(ctx->ssl_ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx->ssl_ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_NONE, NULL);
	/* A relay holds thousands of mostly idle streams: give the record
	 * buffers back while a connection has nothing in flight (halves the
	 * memory of an idle paired session). */
	SSL_CTX_set_mode(ctx->ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
	/* Lets an idle forwarding pipe free its SSL (pipe.c, shed.c). */
	ll_tls_shed_watch(ctx->ssl_ctx);
out:
	return ctx_done(ctx, r, err);
}

/* Every certificate of a PEM text into the context's trust store. */
static int add_ca_pem(struct ll_tls_ctx *ctx, const char *pem)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx->ssl_ctx);
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x;
	int n = 0, r = LL_OK;

	if (bio == NULL)
		return LL_ERR_NOMEM;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, x) != 1)
			r = LL_ERR_CRYPTO;
		X509_free(x);
		n++;
	}
	BIO_free(bio);
	ERR_clear_error();
	return n == 0 ? LL_ERR_MALFORMED : r;
}

struct ll_tls_ctx *ll_tls_client_ctx_new(const struct ll_tls_client_opts *o,
					 int *err, char *errbuf, size_t errlen)
{
	static const struct ll_tls_client_opts defaults;
	struct ll_tls_ctx *ctx = NULL;
	struct ll_tls_ctx_data *d;
	X509_VERIFY_PARAM *vp;
	int r = LL_OK, dummy;

	if (err == NULL)
		err = &dummy;
	if (o == NULL)
		o = &defaults;
	if (o->no_system_cas && o->ca_file == NULL && o->ca_pem == NULL) {
		*err = LL_ERR_INVALID_ARG;
		ll_tls_errf(errbuf, errlen,
			    "no trust anchor: no_system_cas without a CA file");
		return NULL;
	}
	ERR_clear_error();
	if ((ctx = ctx_alloc(false, &d, err, errbuf, errlen)) == NULL)
		return NULL;

	if (!o->no_system_cas &&
	    SSL_CTX_set_default_verify_paths(ctx->ssl_ctx) != 1) {
		ll_tls_errf(errbuf, errlen, "cannot load the system CAs: %s",
			    ossl_reason("unknown OpenSSL error"));
		r = LL_ERR_CRYPTO;
		goto out;
	}
	if (o->ca_file != NULL &&
	    SSL_CTX_load_verify_locations(ctx->ssl_ctx, o->ca_file, NULL) !=
		    1) {
		r = load_failure("CA file", o->ca_file, errbuf, errlen);
		goto out;
	}
	if (o->ca_pem != NULL && (r = add_ca_pem(ctx, o->ca_pem)) != LL_OK) {
		ll_tls_errf(errbuf, errlen,
			    "the configuration's trust anchor "
			    "is not a certificate");
		goto out;
	}
	if (o->spki_pin != NULL && (r = pins_parse(o->spki_pin, d)) != 0) {
		ll_tls_errf(errbuf, errlen,
			    "bad public key pin (expected sha256//BASE64)");
		goto out;
	}
	if (o->alpn != NULL) {
		uint8_t *wire;
		size_t wlen;

		if ((r = alpn_encode(o->alpn, &wire, &wlen)) != 0) {
			ll_tls_errf(errbuf, errlen,
				    "bad ALPN protocol list '%s'", o->alpn);
			goto out;
		}
		/* Returns 0 on success, unlike nearly everything else. */
		if (SSL_CTX_set_alpn_protos(ctx->ssl_ctx, wire,
					    (unsigned int)wlen) != 0) {
			free(wire);
			ll_tls_errf(errbuf, errlen, "out of memory");
			r = LL_ERR_NOMEM;
			goto out;
		}
		free(wire);
	}
	/*
	 * Anchors from ca_file may be a leaf or an intermediate (a relay's
	 * self-signed certificate, say): accept a chain that ends at any
	 * trusted certificate, as curl does by default.
	 */
	vp = SSL_CTX_get0_param(ctx->ssl_ctx);
	X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_hostflags(
		vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
			    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_session_cache_mode(ctx->ssl_ctx, SSL_SESS_CACHE_OFF);
out:
	return ctx_done(ctx, r, err);
}

void ll_tls_ctx_free(struct ll_tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}

/* The leaf a probe was shown; the probe's check refuses every chain. */
static int capture_verify(X509_STORE_CTX *sc, void *arg)
{
	X509 **leaf = arg;
	X509 *x = X509_STORE_CTX_get0_cert(sc);

	if (*leaf == NULL && x != NULL && X509_up_ref(x) == 1)
		*leaf = x;
	X509_STORE_CTX_set_error(sc, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

int ll_tls_peer_cert_fetch(const char *host, uint16_t port, int timeout_ms,
			   char **pem, char *fp, size_t fplen, char *errbuf,
			   size_t errlen)
{
	static const struct ll_tls_client_opts o;
	struct ll_tls_conn *c = NULL;
	struct ll_tls_ctx *ctx;
	X509 *leaf = NULL;
	BIO *bio = NULL;
	char *data, *copy;
	long n;
	int r;

	if (pem == NULL || fp == NULL || fplen < 96)
		return LL_ERR_INVALID_ARG;
	if ((ctx = ll_tls_client_ctx_new(&o, &r, errbuf, errlen)) == NULL)
		return r;
	SSL_CTX_set_cert_verify_callback(ctx->ssl_ctx, capture_verify, &leaf);
	r = ll_tls_dial(ctx, host, port, timeout_ms, &c, errbuf, errlen);
	/* cannot succeed: capture_verify refuses */
	ll_tls_conn_free(c, true);
	ll_tls_ctx_free(ctx);
	if (leaf == NULL)
		return r != LL_OK ? r : LL_ERR_TLS;
	r = LL_ERR_NOMEM;
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(bio, leaf) != 1 ||
	    (n = BIO_get_mem_data(bio, &data)) <= 0 ||
	    (copy = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(copy, data, (size_t)n);
	copy[n] = '\0';
	if ((r = ll_tls_x509_fingerprint(leaf, fp, fplen)) != LL_OK) {
		free(copy);
		goto out;
	}
	*pem = copy;
	ll_tls_errf(errbuf, errlen, "%s", "");
out:
	BIO_free(bio);
	X509_free(leaf);
	ERR_clear_error();
	return r;
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	       inet_pton(AF_INET6, host, buf) == 1;
}

int ll_tls_ssl_set_host(struct ssl_st *ssl, const char *host)
{
	X509_VERIFY_PARAM *vp;
	char ip6[INET6_ADDRSTRLEN + 1];
	size_t n;

	if (ssl == NULL || host == NULL || (n = strlen(host)) == 0 || n > 253)
		return LL_ERR_INVALID_ARG;
	/* "[::1]" as URLs write an IPv6 address. */
	if (host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(ip6)) {
		memcpy(ip6, host + 1, n - 2);
		ip6[n - 2] = '\0';
		host = ip6;
	}
	vp = SSL_get0_param(ssl);
	if (is_ip_literal(host)) {
		/* No SNI for addresses (RFC 6066 3); match an IP SAN. */
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1)
			return LL_ERR_INVALID_ARG;
		return LL_OK;
	}
	if (SSL_set1_host(ssl, host) != 1 ||
	    SSL_set_tlsext_host_name(ssl, host) != 1) {
		ERR_clear_error();
		return LL_ERR_INVALID_ARG;
	}
	return LL_OK;
}

struct ssl_st *ll_tls_ctx_new_ssl(struct ll_tls_ctx *ctx)
{
	SSL *ssl;

	if (ctx == NULL || (ssl = SSL_new(ctx->ssl_ctx)) == NULL)
		return NULL;
	if (ctx->server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	return ssl;
}

static struct ll_tls_conn *conn_new(struct ll_tls_ctx *ctx, int fd)
{
	struct ll_tls_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = fd;
	c->server = ctx->server;
	if ((c->ssl = ll_tls_ctx_new_ssl(ctx)) == NULL ||
	    SSL_set_fd(c->ssl, fd) != 1) {
		ll_tls_conn_free(c, false);
		ERR_clear_error();
		return NULL;
	}
	/* Non-blocking callers report partial writes and may retry from a
	 * buffer that moved. */
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
				     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return c;
}

struct ll_tls_conn *ll_tls_conn_new_client(struct ll_tls_ctx *ctx, int fd,
					   const char *host)
{
	struct ll_tls_conn *c;

	/* Verification is always on, and it needs a name to verify. */
	if (ctx == NULL || ctx->server || fd < 0 || host == NULL)
		return NULL;
	if ((c = conn_new(ctx, fd)) == NULL)
		return NULL;
	if ((c->host = strdup(host)) == NULL ||
	    ll_tls_ssl_set_host(c->ssl, host) != LL_OK) {
		ll_tls_conn_free(c, false);
		return NULL;
	}
	return c;
}

struct ll_tls_conn *ll_tls_conn_new_server(struct ll_tls_ctx *ctx, int fd)
{
	if (ctx == NULL || !ctx->server || fd < 0)
		return NULL;
	return conn_new(ctx, fd);
}

/* A sentence for a failed certificate verification; returns the code. */
static int describe_verify(long vr, const char *host, char *buf, size_t len)
{
	const char *s = X509_verify_cert_error_string(vr);

	switch (vr) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		ll_tls_errf(buf, len,
			    "certificate verify failed: %s "
			    "(is --ca set?)",
			    s);
		break;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		ll_tls_errf(buf, len,
			    "certificate verify failed: %s "
			    "(the certificate is not valid for '%s')",
			    s, host != NULL ? host : "the requested name");
		break;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		ll_tls_errf(buf, len,
			    "certificate verify failed: %s "
			    "(check the clocks of both machines)",
			    s);
		break;
	case X509_V_ERR_APPLICATION_VERIFICATION:
		ll_tls_errf(buf, len,
			    "certificate verify failed: the "
			    "server's public key does not match the pinned "
			    "key (sha256// pin)");
		break;
	default:
		ll_tls_errf(buf, len, "certificate verify failed: %s", s);
		break;
	}
	return LL_ERR_TLS_VERIFY;
}

/* A hint an operator can act on, for the common handshake refusals. */
static const char *reason_hint(int reason)
{
	switch (reason) {
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
		return " (the peer does not speak TLS 1.2 or newer)";
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
		return " (no cipher suite in common)";
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
		return " (the peer does not trust this certificate)";
	case SSL_R_NO_APPLICATION_PROTOCOL:
	case SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL:
		return " (no ALPN protocol in common)";
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_HTTP_REQUEST:
		return " (the peer does not speak TLS here)";
	default:
		return "";
	}
}

void ll_tls_ssl_describe_failure(struct ssl_st *ssl, char *buf, size_t len)
{
	unsigned long e;
	long vr;

	if (ssl == NULL)
		return;
	vr = SSL_get_verify_result(ssl);
	if (!SSL_is_server(ssl) && vr != X509_V_OK) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
		char *ip = X509_VERIFY_PARAM_get1_ip_asc(vp);
		const char *host = X509_VERIFY_PARAM_get0_host(vp, 0);

		describe_verify(vr, host != NULL ? host : ip, buf, len);
		OPENSSL_free(ip);
		return;
	}
	e = ERR_peek_error();
	ll_tls_errf(buf, len, "TLS handshake failed: %s%s",
		    ossl_reason("unknown error"),
		    reason_hint(ERR_GET_REASON(e)));
}

/*
 * TCP closed without close_notify.  After the handshake the stream may be
 * truncated; our protocols frame their data and notice, so this is a
 * close like any other.
 */
static int conn_eof(struct ll_tls_conn *c)
{
	if (!c->done && !SSL_is_init_finished(c->ssl))
		ll_tls_errf(c->err, sizeof(c->err),
			    "the peer closed the "
			    "connection during the TLS handshake");
	else
		ll_tls_errf(c->err, sizeof(c->err),
			    "the peer closed the "
			    "connection without a TLS close_notify");
	return LL_ERR_CLOSED;
}

/* Map an SSL_*_ex failure to an ll_err; record a sentence in c->err. */
static int conn_fail(struct ll_tls_conn *c, int ret, const char *what)
{
	int e = SSL_get_error(c->ssl, ret), saved = errno, r;
	unsigned long oe;
	long vr;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		r = LL_ERR_WANT_READ;
		break;
	case SSL_ERROR_WANT_WRITE:
		r = LL_ERR_WANT_WRITE;
		break;
	case SSL_ERROR_ZERO_RETURN:
		ll_tls_errf(c->err, sizeof(c->err),
			    "the peer closed the TLS connection");
		r = LL_ERR_CLOSED;
		break;
	case SSL_ERROR_SYSCALL:
		if (saved != 0) {
			ll_tls_errf(c->err, sizeof(c->err), "TLS %s: %s", what,
				    strerror(saved));
			r = saved == ECONNRESET || saved == EPIPE
				    ? LL_ERR_CLOSED
				    : LL_ERR_IO;
		} else {
			r = conn_eof(c);
		}
		break;
	case SSL_ERROR_SSL:
		vr = SSL_get_verify_result(c->ssl);
		oe = ERR_peek_error();
		if (!c->server && !c->done && vr != X509_V_OK) {
			r = describe_verify(vr, c->host, c->err,
					    sizeof(c->err));
		} else if (ERR_GET_REASON(oe) ==
			   SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			r = conn_eof(c);
		} else {
			ll_tls_errf(c->err, sizeof(c->err),
				    "TLS %s failed: %s%s", what,
				    ossl_reason("unknown error"),
				    reason_hint(ERR_GET_REASON(oe)));
			r = LL_ERR_TLS;
		}
		break;
	default:
		ll_tls_errf(c->err, sizeof(c->err), "TLS %s failed (%d)", what,
			    e);
		r = LL_ERR_TLS;
		break;
	}
	ERR_clear_error();
	return r;
}

int ll_tls_conn_handshake(struct ll_tls_conn *c)
{
	const unsigned char *sel;
	unsigned int sel_len;
	struct ll_tls_ctx_data *d;
	int ret;

	if (c == NULL)
		return LL_ERR_INVALID_ARG;
	if (c->done)
		return LL_OK;
	ERR_clear_error();
	errno = 0;
	if ((ret = SSL_do_handshake(c->ssl)) != 1)
		return conn_fail(c, ret, "handshake");

	/* Belt and braces: verify_cb checked the pin already. */
	if (!c->server && (d = ctx_data_of(c->ssl)) != NULL && d->npins > 0 &&
	    !pin_matches(d, SSL_get0_peer_certificate(c->ssl))) {
		describe_verify(X509_V_ERR_APPLICATION_VERIFICATION, c->host,
				c->err, sizeof(c->err));
		return LL_ERR_TLS_VERIFY;
	}
	SSL_get0_alpn_selected(c->ssl, &sel, &sel_len);
	if (sel != NULL && sel_len > 0 && sel_len < sizeof(c->alpn)) {
		memcpy(c->alpn, sel, sel_len);
		c->alpn[sel_len] = '\0';
	}
	c->done = true;
	return LL_OK;
}

/* Readies c for one SSL_read_ex/SSL_write_ex: through our handshake step
 * first, so the pin and ALPN are handled, then a clean error queue and
 * errno for conn_fail. */
static int io_begin(struct ll_tls_conn *c)
{
	int ret;

	if (!c->done && (ret = ll_tls_conn_handshake(c)) != LL_OK)
		return ret;
	ERR_clear_error();
	errno = 0;
	return LL_OK;
}

/* Sends what the gathered output holds: LL_OK once it is empty (or
 * there is none), LL_ERR_WANT_WRITE while the socket is full. */
static int gathered_flush(struct ll_tls_conn *c)
{
	int r, e;

	if (c->outq.len == 0)
		return LL_OK;
	if ((r = ll_tls_outq_flush(&c->outq)) != LL_ERR_IO)
		return r;
	e = errno;
	ll_tls_errf(c->err, sizeof(c->err), "TLS write: %s", strerror(e));
	return e == ECONNRESET || e == EPIPE ? LL_ERR_CLOSED : LL_ERR_IO;
}

/* One batch of records with one write(2).  Nothing more is taken while
 * a batch still waits: what the caller holds back can still be
 * reordered by it (the screen ahead of a file), what is here cannot. */
static int gathered_write(struct ll_tls_conn *c, const void *buf, size_t len,
			  size_t *nwritten)
{
	size_t n = 0;
	int ret;

	if ((ret = gathered_flush(c)) != LL_OK)
		return ret;
	if (len > c->gather)
		len = c->gather;
	/* The sink takes everything: all of len, or an error. */
	if ((ret = SSL_write_ex(c->ssl, buf, len, &n)) != 1)
		return conn_fail(c, ret, "write");
	*nwritten = n;
	ret = gathered_flush(c);
	return ret == LL_ERR_WANT_WRITE ? LL_OK : ret;
}

int ll_tls_conn_read(struct ll_tls_conn *c, void *buf, size_t len,
		     size_t *nread)
{
	size_t n = 0;
	int ret;

	if (c == NULL || buf == NULL || nread == NULL)
		return LL_ERR_INVALID_ARG;
	if (len == 0) {
		*nread = 0;
		return LL_OK;
	}
	if ((ret = io_begin(c)) != LL_OK)
		return ret;
	ret = SSL_read_ex(c->ssl, buf, len, &n);
	/* What reading wrote (a KeyUpdate's answer) goes out now, or with
	 * the next write (ll_tls_conn_unsent tells the caller). */
	if (c->outq.len > 0) {
		int saved = errno;

		(void)gathered_flush(c);
		errno = saved;
	}
	if (ret != 1)
		return conn_fail(c, ret, "read");
	*nread = n;
	return LL_OK;
}

int ll_tls_conn_write(struct ll_tls_conn *c, const void *buf, size_t len,
		      size_t *nwritten)
{
	size_t n = 0;
	int ret;

	if (c == NULL || buf == NULL || nwritten == NULL)
		return LL_ERR_INVALID_ARG;
	if (len == 0) {
		*nwritten = 0;
		return LL_OK;
	}
	if ((ret = io_begin(c)) != LL_OK)
		return ret;
	if (c->gather > 0)
		return gathered_write(c, buf, len, nwritten);
	if ((ret = SSL_write_ex(c->ssl, buf, len, &n)) != 1)
		return conn_fail(c, ret, "write");
	*nwritten = n;
	return LL_OK;
}

size_t ll_tls_conn_pending(struct ll_tls_conn *c)
{
	int n;

	if (c == NULL)
		return 0;
	n = SSL_pending(c->ssl);
	return n > 0 ? (size_t)n : 0;
}

void ll_tls_conn_read_ahead(struct ll_tls_conn *c, size_t bufsize)
{
	if (c == NULL)
		return;
	ll_tls_ssl_read_ahead(c->ssl, bufsize);
	/* the next read allocates a buffer of the new size (one holding
	 * bytes stays as it is, and so does its size) */
	if (SSL_free_buffers(c->ssl) != 1)
		ERR_clear_error();
	/* a stream's buffers are busy all its life: freeing and
	 * allocating them around every read (SSL_MODE_RELEASE_BUFFERS)
	 * only costs malloc and free */
	SSL_clear_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
}

int ll_tls_conn_shutdown(struct ll_tls_conn *c)
{
	int ret;

	if (c == NULL)
		return LL_ERR_INVALID_ARG;
	/* Before the handshake there is nothing to close cleanly. */
	if (!SSL_is_init_finished(c->ssl))
		return LL_OK;
	ERR_clear_error();
	errno = 0;
	/* Gathered: our close_notify is out once the output is. */
	if (c->gather > 0 && (SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN))
		return gathered_flush(c);
	/* Sends our close_notify; we do not wait for the peer's (0). */
	if ((ret = SSL_shutdown(c->ssl)) >= 0)
		return gathered_flush(c);
	return conn_fail(c, ret, "shutdown");
}

int ll_tls_conn_gather_writes(struct ll_tls_conn *c, size_t max)
{
	BIO *sink;

	if (c == NULL || !c->done || max == 0 || c->gather > 0)
		return LL_ERR_INVALID_ARG;
	c->outq.fd = c->fd;
	if ((sink = ll_tls_outq_sink_new(&c->outq)) == NULL)
		return LL_ERR_NOMEM;
	/* Frees the SSL's hold on the socket BIO as its write BIO; it
	 * stays the read BIO. */
	SSL_set0_wbio(c->ssl, sink);
	/* The sink never refuses: a write takes all it is given. */
	SSL_clear_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
	c->gather = max;
	return LL_OK;
}

size_t ll_tls_conn_unsent(const struct ll_tls_conn *c)
{
	return c != NULL ? c->outq.len : 0;
}

int ll_tls_conn_flush(struct ll_tls_conn *c)
{
	if (c == NULL)
		return LL_ERR_INVALID_ARG;
	return gathered_flush(c);
}

int ll_tls_conn_fd(const struct ll_tls_conn *c)
{
	return c != NULL ? c->fd : -1;
}

const char *ll_tls_conn_alpn(const struct ll_tls_conn *c)
{
	if (c == NULL || c->alpn[0] == '\0')
		return NULL;
	return c->alpn;
}

const char *ll_tls_conn_version(const struct ll_tls_conn *c)
{
	if (c == NULL)
		return NULL;
	return SSL_get_version(c->ssl);
}

const char *ll_tls_conn_error(const struct ll_tls_conn *c)
{
	if (c == NULL)
		return "no connection";
	return c->err[0] != '\0' ? c->err : "no error";
}

void ll_tls_conn_free(struct ll_tls_conn *c, bool close_fd)
{
	if (c == NULL)
		return;
	SSL_free(c->ssl); /* and the sink, before the output it fills */
	ll_tls_outq_clear(&c->outq);
	if (close_fd && c->fd >= 0)
		close(c->fd);
	free(c->host);
	free(c);
}

int ll_tls_ssl_close_notify(struct ssl_st *ssl)
{
	int rc;

	if (ssl == NULL)
		return LL_ERR_INVALID_ARG;
	/* One call sends our close_notify; we do not wait for the peer's. */
	rc = SSL_shutdown(ssl);
	ERR_clear_error();
	return rc >= 0 ? LL_OK : LL_ERR_TLS;
}

bool ll_tls_ssl_got_close_notify(const struct ssl_st *ssl)
{
	return ssl != NULL &&
	       (SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN) != 0;
}

size_t ll_tls_ssl_take_pending(struct ssl_st *ssl, void *buf, size_t len)
{
	size_t got = 0;
	int n, want;

	while (ssl != NULL && got < len && SSL_has_pending(ssl)) {
		want = len - got > INT_MAX ? INT_MAX : (int)(len - got);
		if ((n = SSL_read(ssl, (char *)buf + got, want)) <= 0)
			break;
		got += (size_t)n;
	}
	ERR_clear_error();
	return got;
}

bool ll_tls_ssl_has_pending(const struct ssl_st *ssl)
{
	return ssl != NULL && SSL_has_pending(ssl);
}

void ll_tls_ssl_read_ahead(struct ssl_st *ssl, size_t bufsize)
{
	if (ssl == NULL)
		return;
	SSL_set_default_read_buffer_len(ssl, bufsize);
	SSL_set_read_ahead(ssl, 1);
}

bool ll_tls_err_is_unexpected_eof(unsigned long err)
{
	return ERR_GET_LIB(err) == ERR_LIB_SSL &&
	       ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}
