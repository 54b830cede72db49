/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between tls.c, cert.c and dial.c; not part of the facade. */
#ifndef LL_TLS_INTERNAL_H
#define LL_TLS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

/* "sha256//" + 44 base64 characters */
#define LL_TLS_SPKI_PIN_LEN (8 + 44)

/* SHA-256 over the DER SubjectPublicKeyInfo of x (what curl pins). */
int ll_tls_x509_spki_hash(X509 *x, uint8_t out[32]);
/* The same as "sha256//BASE64" into out (outlen > LL_TLS_SPKI_PIN_LEN). */
int ll_tls_x509_spki_pin(X509 *x, char *out, size_t outlen);

/* "AB:CD:..." SHA-256 of x's DER (out >= 96 bytes), as
 * ll_tls_cert_fingerprint. */
int ll_tls_x509_fingerprint(X509 *x, char *out, size_t outlen);

/* snprintf into an optional error buffer (buf may be NULL). */
void ll_tls_errf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct ll_rec13;
/* Watches the server context's connections for ll_tls_ssl_shed (their
 * application traffic secrets and record counts; shed.c). */
void ll_tls_shed_watch(SSL_CTX *sctx);
/*
 * The record layer of an established TLS 1.3 server SSL that a caller
 * wants to let go of, when it can: LL_OK and *out, or
 * LL_ERR_UNAVAILABLE (TLS 1.2, another suite, anything after the
 * handshake but application data, a close_notify, bytes in OpenSSL).
 * The caller has made sure no record is half read or written
 * (SSL_free_buffers) and stops using ssl for I/O from then on.
 */
int ll_tls_ssl_shed(SSL *ssl, struct ll_rec13 **out);

#endif
