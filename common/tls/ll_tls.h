/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one TLS facade (after Tor's tortls.h).  TLS 1.2 minimum, 1.3
 * preferred, Mozilla "intermediate" ciphers, server cipher preference,
 * certificate verification always on for clients (there is no switch to
 * turn it off), optional SPKI pin, ALPN and SNI.
 *
 * I/O functions return LL_OK (done), LL_ERR_WANT_READ, LL_ERR_WANT_WRITE,
 * LL_ERR_CLOSED (clean close by peer) or another negative ll_err.
 */
#ifndef LL_TLS_H
#define LL_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct ll_tls_ctx;
struct ll_tls_conn;
struct ssl_st; /* OpenSSL's SSL, for libevent's bufferevent_openssl */

struct ll_tls_server_opts {
	const char *cert_file; /* PEM chain, leaf first */
	const char *key_file;  /* PEM private key */
	const char *alpn; /* comma list we accept, e.g. "http/1.1"; NULL */
};

struct ll_tls_client_opts {
	const char *ca_file; /* extra trust anchor (PEM); NULL = system only */
	const char *ca_pem;  /* another, as PEM text (a signed applet
			      * configuration's anchor); NULL = none */
	bool no_system_cas;  /* trust only ca_file (tests) */
	/* "sha256//BASE64" of the server's SubjectPublicKeyInfo (curl's
	 * format); checked in addition to normal verification.  NULL = none. */
	const char *spki_pin;
	const char *alpn; /* comma list we offer; NULL = none */
};

/* Contexts.  On error return NULL and set *err; errbuf gets a sentence. */
struct ll_tls_ctx *ll_tls_server_ctx_new(const struct ll_tls_server_opts *o,
					 int *err, char *errbuf,
					 size_t errlen);
struct ll_tls_ctx *ll_tls_client_ctx_new(const struct ll_tls_client_opts *o,
					 int *err, char *errbuf,
					 size_t errlen);
void ll_tls_ctx_free(struct ll_tls_ctx *ctx);

/*
 * A fresh SSL object for libevent (server ctx: accept state).  The caller
 * owns it (bufferevent_openssl with BEV_OPT_CLOSE_ON_FREE frees it).
 */
struct ssl_st *ll_tls_ctx_new_ssl(struct ll_tls_ctx *ctx);
/*
 * For an SSL from a client ctx driven by someone else (libevent): the
 * name to verify (and send as SNI when it is a DNS name; an IP literal is
 * matched against IP SANs).  The SPKI pin of the ctx is checked during
 * verification already.  LL_ERR_INVALID_ARG for an unusable name.
 */
int ll_tls_ssl_set_host(struct ssl_st *ssl, const char *host);
/* A sentence for a failed handshake of such an SSL (verify result or the
 * thread's OpenSSL error queue), e.g. for a log line. */
void ll_tls_ssl_describe_failure(struct ssl_st *ssl, char *buf, size_t len);

/* Sends close_notify on an SSL driven by someone else (libevent) before
 * its owner shuts the socket, so the peer sees a clean end. */
int ll_tls_ssl_close_notify(struct ssl_st *ssl);
/* True once the peer's close_notify came: it ended on purpose. */
bool ll_tls_ssl_got_close_notify(const struct ssl_st *ssl);
/* Takes up to len bytes that ssl holds and its socket will not signal
 * again: decrypted and not yet read (SSL_pending), and whole records read
 * ahead (SSL_has_pending).  For a stream read ahead, and for handing a
 * connection to another event loop.  Returns how many (0: none). */
size_t ll_tls_ssl_take_pending(struct ssl_st *ssl, void *buf, size_t len);
/* Does ssl hold bytes its socket will not signal again (above)? */
bool ll_tls_ssl_has_pending(const struct ssl_st *ssl);
/* From now on ssl reads ahead, up to bufsize bytes a read: fewer system
 * calls for a stream (two per record without: header, then body).  Its
 * reader must then take what ll_tls_ssl_has_pending says is left after
 * each read, which libevent 2.1 does not. */
void ll_tls_ssl_read_ahead(struct ssl_st *ssl, size_t bufsize);
/* True when an OpenSSL error code (as libevent reports them) means the
 * peer closed TCP without close_notify: an end, not an attack. */
bool ll_tls_err_is_unexpected_eof(unsigned long err);

/*
 * Connections over a connected socket (blocking or not).  The socket is
 * written with write(2): programs ignore SIGPIPE (Linux has no
 * SO_NOSIGPIPE), a closed peer then shows up as LL_ERR_CLOSED.
 * ll_tls_conn_new_client requires host (verification always checks a
 * name); it returns NULL for a server ctx, a NULL host or no memory.
 */
struct ll_tls_conn *ll_tls_conn_new_client(struct ll_tls_ctx *ctx, int fd,
					   const char *host);
struct ll_tls_conn *ll_tls_conn_new_server(struct ll_tls_ctx *ctx, int fd);
int ll_tls_conn_handshake(struct ll_tls_conn *c);
int ll_tls_conn_read(struct ll_tls_conn *c, void *buf, size_t len,
		     size_t *nread);
int ll_tls_conn_write(struct ll_tls_conn *c, const void *buf, size_t len,
		      size_t *nwritten);
/* Bytes already decrypted and waiting in the TLS layer. */
size_t ll_tls_conn_pending(struct ll_tls_conn *c);
/* From now on c reads ahead up to bufsize bytes a read system call, its
 * buffers kept between reads (ll_tls_ssl_read_ahead): for a long-lived
 * stream whose one reader reads until LL_ERR_WANT_READ before it polls
 * again (records may then wait in the buffer, unseen by poll and by
 * ll_tls_conn_pending). */
void ll_tls_conn_read_ahead(struct ll_tls_conn *c, size_t bufsize);
/*
 * From now on (after the handshake) c's records go out together: a
 * write encrypts up to max bytes into a buffer of c's and sends the
 * lot with one write(2), where OpenSSL writes each 16 KiB record with
 * its own.  A write may return with records still in that buffer (the
 * socket was full): while ll_tls_conn_unsent is not 0 the caller polls
 * for POLLOUT and calls ll_tls_conn_flush (or writes again, which
 * flushes first and takes nothing more until the buffer is empty).
 * ll_tls_conn_shutdown returns LL_ERR_WANT_WRITE until its close_notify
 * is out.  LL_ERR_INVALID_ARG before the handshake or twice.
 */
int ll_tls_conn_gather_writes(struct ll_tls_conn *c, size_t max);
/* Bytes of records written to c but not yet to its socket. */
size_t ll_tls_conn_unsent(const struct ll_tls_conn *c);
/* Sends them: LL_OK when none are left, LL_ERR_WANT_WRITE while the
 * socket is full, or the error that ends the stream. */
int ll_tls_conn_flush(struct ll_tls_conn *c);
int ll_tls_conn_shutdown(struct ll_tls_conn *c);
int ll_tls_conn_fd(const struct ll_tls_conn *c);
/* Negotiated ALPN protocol or NULL; version string ("TLSv1.3"). */
const char *ll_tls_conn_alpn(const struct ll_tls_conn *c);
const char *ll_tls_conn_version(const struct ll_tls_conn *c);
/* A sentence describing the last failure (verification result etc.). */
const char *ll_tls_conn_error(const struct ll_tls_conn *c);
/* Frees; closes the fd only if close_fd. */
void ll_tls_conn_free(struct ll_tls_conn *c, bool close_fd);

/*
 * Blocking convenience for clients, tests and benchmarks: resolve host,
 * connect TCP (timeout_ms), handshake (verifying host), return the conn
 * owning its fd.  errbuf gets a sentence on failure.
 */
int ll_tls_dial(struct ll_tls_ctx *ctx, const char *host, uint16_t port,
		int timeout_ms, struct ll_tls_conn **out, char *errbuf,
		size_t errlen);
/*
 * Trust on first use: the certificate host:port presents, so that a
 * person can compare its fingerprint with the one the server's
 * administrator reads out.  Verification is not switched off for this:
 * the probe's own check refuses every certificate, so the handshake
 * always fails and nothing is sent after the ClientHello; only the leaf
 * it was shown is kept.  *pem gets it as PEM (malloc'd, caller free()s),
 * fp its "AB:CD:..." SHA-256 as ll_tls_cert_fingerprint (fplen >= 96).
 * errbuf gets a sentence when no certificate came (the dial's error).
 */
int ll_tls_peer_cert_fetch(const char *host, uint16_t port, int timeout_ms,
			   char **pem, char *fp, size_t fplen, char *errbuf,
			   size_t errlen);
/* Blocking helpers that loop over partial I/O on a blocking conn. */
int ll_tls_write_all(struct ll_tls_conn *c, const void *buf, size_t len);
int ll_tls_read_full(struct ll_tls_conn *c, void *buf, size_t len);

/*
 * Certificates.  ll_tls_selfsigned_create writes a new ECDSA P-256 key
 * (mode 0600) and a self-signed certificate valid 397 days with
 * subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1 plus extra_sans
 * (NULL-terminated "DNS:x"/"IP:y" strings, may be NULL).
 */
int ll_tls_selfsigned_create(const char *key_path, const char *cert_path,
			     const char *common_name,
			     const char *const *extra_sans, char *errbuf,
			     size_t errlen);
/* "AB:CD:..." SHA-256 fingerprint of the first certificate in a PEM file
 * (out >= 96 bytes). */
int ll_tls_cert_fingerprint(const char *cert_path, char *out, size_t outlen);
/* "sha256//BASE64" SPKI pin of the first certificate in a PEM file. */
int ll_tls_cert_spki_pin(const char *cert_path, char *out, size_t outlen);
/*
 * The trust anchor of a PEM chain: the DER of its last certificate when
 * that one is a root (issued by itself, self-signed), malloc'd; else
 * LL_ERR_NOT_FOUND (the chain ends at a CA the system trusts).
 */
int ll_tls_cert_anchor_der(const char *cert_path, uint8_t **der, size_t *len);
/* The first DNS name (not a wildcard) of the first certificate's SANs;
 * LL_ERR_NOT_FOUND when it has none. */
int ll_tls_cert_first_dns(const char *cert_path, char *out, size_t outlen);
/* LL_OK when the first certificate is valid for host (a DNS name or an
 * IP literal) as clients check it, else LL_ERR_TLS_VERIFY. */
int ll_tls_cert_check_host(const char *cert_path, const char *host);

#endif
