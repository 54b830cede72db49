/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The signed applet configuration (docs/API.md section 7, "Signed applet
 * configuration"; trust model in docs/SECURITY.md): what binds an applet
 * to one organisation's relay.  The relay writes it (`lifeline-relay
 * applet-config`), the applet reads it from its own binary (a trailer),
 * a `.lifeline` file or /etc/lifeline/applet.conf.
 *
 * The format, version 2: UTF-8 text, lines ended by LF alone, the keys in
 * this order, each once, optional ones marked:
 *
 *   lifeline-applet-config 2
 *   relay_url=https://HOST[:PORT]
 *   relay_pin=sha256//BASE64          SPKI SHA-256 of the relay's key
 *   relay_hosts=H1[,H2...]            the only hosts the applet may
 *                                     connect to (relay_url's among them)
 *   relay_ca=BASE64URL                (optional) DER of the trust anchor
 *   org=ORG
 *   brand=NAME
 *   channel=TOKEN                     (optional) the channel credential
 *   created=UNIX
 *   sign_key=BASE64URL                the Ed25519 public key (32 bytes)
 *   sig=BASE64URL                     Ed25519 over every byte before "sig="
 *
 * Nothing may follow the sig line.
 *
 * Versions: a field added changes the version, so that an older applet
 * says "another version" rather than misreading the text.  The parser
 * reads every version up to LL_APPCONF_VERSION, the writer writes only
 * the newest.  Version 1 is version 2 without relay_hosts (a version 1
 * text that has the line is refused); read, its relay_hosts is the
 * URL's host alone.  relay_hosts entries are written in one spelling:
 * lower case, no trailing dot, IPv6 literals without brackets; at most
 * LL_APPCONF_HOSTS_N of them.
 *  The parser is sans-I/O and strict:
 * anything else is refused, so that one configuration has one meaning.
 * Parsing checks the signature against the key the text names; whether
 * that key is trusted is the caller's decision (ll_appconf_signed_by).
 *
 * Trailer (a configuration appended to the applet binary): the
 * configuration's bytes, then their length as a 4-byte big-endian
 * integer, then the 8 bytes LL_APPCONF_MAGIC, at the very end of the file.
 */
#ifndef LL_APPCONF_H
#define LL_APPCONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define LL_APPCONF_VERSION 2
#define LL_APPCONF_MAX 16384 /* bytes of a whole configuration */
#define LL_APPCONF_MAGIC "LLAPPCF1"
#define LL_APPCONF_MAGIC_LEN 8
#define LL_APPCONF_TRAILER_LEN (4 + LL_APPCONF_MAGIC_LEN)
#define LL_APPCONF_KEY_LEN 32     /* = LL_ED25519_KEY_LEN */
#define LL_APPCONF_CA_MAX 8192    /* bytes of relay_ca's DER */
#define LL_APPCONF_HOSTS_N 16     /* entries of relay_hosts */
#define LL_APPCONF_HOSTS_MAX 1024 /* bytes of relay_hosts */

struct ll_appconf {
	char *relay_url; /* "https://HOST[:PORT]" */
	char *relay_pin; /* "sha256//BASE64" */
	/* "h1,h2": set by the parser for every version; for the writer,
	 * NULL is the URL's host alone. */
	char *relay_hosts;
	uint8_t *relay_ca; /* DER, or NULL */
	size_t relay_ca_len;
	char *org;
	char *brand;
	char *channel; /* a credential: wiped by _clear; NULL when none */
	int64_t created;
	uint8_t sign_key[LL_APPCONF_KEY_LEN];
};

/* Frees the members (the channel wiped) and zeroes c.  NULL ok. */
void ll_appconf_clear(struct ll_appconf *c);

/*
 * Parses and checks data[0..len): the syntax and the signature against
 * the key it names.  LL_OK and *out filled, or: LL_ERR_TOO_LARGE (over
 * LL_APPCONF_MAX), LL_ERR_TRUNCATED (ends before its sig line is
 * complete), LL_ERR_BAD_VERSION (not version 1), LL_ERR_MALFORMED
 * (anything else that breaks the format), LL_ERR_AUTH_FAILED (the
 * signature does not verify: altered).  why (may be NULL) gets a sentence
 * in plain words on failure.  out is untouched on failure.
 */
int ll_appconf_parse(const void *data, size_t len, struct ll_appconf *out,
		     char *why, size_t whylen);

/* The host of an https:// URL the format accepts, lower case and
 * without IPv6 brackets, malloc'd; NULL for another URL. */
char *ll_appconf_url_host(const char *url);
/*
 * Whether host (any case; an IPv6 literal with or without brackets) is
 * an entry of list, a relay_hosts value ("h1,h2").  false for NULLs.
 */
bool ll_appconf_hosts_list_has(const char *list, const char *host);
/* The same against c->relay_hosts. */
bool ll_appconf_host_listed(const struct ll_appconf *c, const char *host);

/* True when c was signed with pub (compared in constant time). */
bool ll_appconf_signed_by(const struct ll_appconf *c,
			  const uint8_t pub[LL_APPCONF_KEY_LEN]);

/*
 * The text of c, signed with priv (c->sign_key is ignored: the key is
 * priv's).  Every field is checked by the parser's rules first:
 * LL_ERR_INVALID_ARG and a sentence in why for a value the parser would
 * refuse.  *out is malloc'd and NUL-terminated (free it with
 * ll_secret_free: it may hold the channel credential).
 */
int ll_appconf_format(const struct ll_appconf *c,
		      const uint8_t priv[LL_APPCONF_KEY_LEN], char **out,
		      size_t *out_len, char *why, size_t whylen);

/* The trailer that follows a configuration of cfg_len bytes. */
int ll_appconf_trailer_make(size_t cfg_len,
			    uint8_t out[LL_APPCONF_TRAILER_LEN]);
/*
 * The last LL_APPCONF_TRAILER_LEN bytes of a file of file_size bytes:
 * LL_ERR_NOT_FOUND when they are no trailer (no magic), LL_ERR_MALFORMED
 * when the length is 0, over LL_APPCONF_MAX or longer than the file, else
 * LL_OK and the configuration's length.
 */
int ll_appconf_trailer_parse(const uint8_t tail[LL_APPCONF_TRAILER_LEN],
			     uint64_t file_size, size_t *cfg_len);

/*
 * The PIN page's download trailer (docs/API.md, "The PIN page"): the
 * payload "pin=DIGITS\norg=ORG\n", then for a website-locked PIN
 * "launch=TOKEN\n" (64 lower-case hex digits, the page's launch token)
 * (at most LL_PIN_TRAILER_MAX bytes),
 * its length as a 4-byte big-endian integer, then LL_PIN_TRAILER_MAGIC,
 * appended after anything a portable applet already ends with (its
 * configuration's trailer included).  Not signed: it says no more than
 * a lifeline: link, and the applet treats it as one.
 */
#define LL_PIN_TRAILER_MAGIC "LLPINv1\n"
#define LL_PIN_TRAILER_MAX 256
#define LL_PIN_TRAILER_TAIL (4 + 8) /* length and magic */
#define LL_PIN_TRAILER_LAUNCH_LEN 64
/* The trailer for pin (6..10 digits), org (1..128 bytes, no control
 * characters) and launch (NULL: none), malloc'd into *out (free with
 * ll_secret_free: it holds the PIN).  LL_ERR_INVALID_ARG for a value the
 * parser would refuse. */
int ll_pin_trailer_make(const char *pin, const char *org, const char *launch,
			uint8_t **out, size_t *out_len);
/*
 * tail: the last n bytes of a file of file_size bytes (n at most
 * file_size; LL_PIN_TRAILER_TAIL + LL_PIN_TRAILER_MAX are enough).
 * LL_ERR_NOT_FOUND when the file ends in no such trailer,
 * LL_ERR_MALFORMED when it does but the trailer is bad, else LL_OK with
 * *pin, *org and *launch (NULL when the trailer has none) malloc'd
 * (ll_secret_free, free, ll_secret_free) and *trailer_len the bytes the
 * whole trailer takes at the end of the file.
 */
int ll_pin_trailer_parse(const uint8_t *tail, size_t n, uint64_t file_size,
			 char **pin, char **org, char **launch,
			 size_t *trailer_len);

/*
 * The PEM text of the relay_ca anchor ("-----BEGIN CERTIFICATE-----"),
 * malloc'd; NULL when c has none or out of memory.
 */
char *ll_appconf_ca_pem_new(const struct ll_appconf *c);

#endif
