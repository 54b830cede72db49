/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One table of negative error codes for all of common/ (after OpenSSH's
 * ssherr.h).  Library code returns these; programs log them once, with
 * context, through ll_strerror().
 */
#ifndef LL_ERR_H
#define LL_ERR_H

enum ll_err {
	LL_OK = 0,
	LL_ERR_INTERNAL = -1,     /* a bug or an unexpected library failure */
	LL_ERR_NOMEM = -2,        /* allocation failed */
	LL_ERR_INVALID_ARG = -3,  /* caller passed something unusable */
	LL_ERR_TRUNCATED = -4,    /* input ends before the item is complete */
	LL_ERR_TOO_LARGE = -5,    /* a length or count over its cap */
	LL_ERR_BAD_VERSION = -6,  /* protocol version we do not speak */
	LL_ERR_UNKNOWN_TYPE = -7, /* unknown frame or message type */
	LL_ERR_MALFORMED = -8,    /* syntax error in wire data */
	LL_ERR_BAD_JSON = -9,     /* not valid JSON text */
	LL_ERR_SCHEMA = -10, /* JSON valid but missing/wrong-typed field */
	LL_ERR_CRYPTO = -11, /* the crypto library failed */
	LL_ERR_AUTH_FAILED = -12, /* tag/MAC/password/signature mismatch */
	LL_ERR_TLS = -13,         /* TLS protocol failure */
	LL_ERR_TLS_VERIFY = -14,  /* peer certificate or pin not trusted */
	LL_ERR_IO = -15,          /* system call failed (see errno) */
	LL_ERR_CLOSED = -16,      /* the peer closed the connection */
	LL_ERR_WANT_READ = -17,   /* non-blocking: retry when readable */
	LL_ERR_WANT_WRITE = -18,  /* non-blocking: retry when writable */
	LL_ERR_CONFIG = -19,      /* bad configuration file or value */
	LL_ERR_STORE = -20,       /* the database failed */
	LL_ERR_NOT_FOUND = -21,   /* no such record */
	LL_ERR_CONFLICT = -22,    /* already exists / already in use */
	LL_ERR_EXPIRED = -23,     /* lifetime is over */
	LL_ERR_NO_CREDIT = -24,   /* flow control: peer has not granted room */
	LL_ERR_PROTOCOL = -25,    /* peer broke the protocol's rules */
	LL_ERR_TIMEOUT = -26,     /* took too long */
	LL_ERR_DISABLED = -27,    /* account or object disabled */
	LL_ERR_SCHEMA_VERSION = -28, /* database is newer than this program */
	LL_ERR_UNAVAILABLE = -29,    /* a service needed (a directory) is
				      * unreachable or refused us */
	LL_ERR_LAST = -30            /* keep last: count of codes */
};

/* A static, human sentence for an error code; never NULL. */
const char *ll_strerror(int err);

#endif
