/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ll_err.h"

#include <stddef.h>

/* Indexed by -code; keep in the order of enum ll_err. */
static const char *const messages[] = {
	[0] = "success",
	[-LL_ERR_INTERNAL] = "internal error",
	[-LL_ERR_NOMEM] = "out of memory",
	[-LL_ERR_INVALID_ARG] = "invalid argument",
	[-LL_ERR_TRUNCATED] = "input is truncated",
	[-LL_ERR_TOO_LARGE] = "input is larger than allowed",
	[-LL_ERR_BAD_VERSION] = "unsupported protocol version",
	[-LL_ERR_UNKNOWN_TYPE] = "unknown message type",
	[-LL_ERR_MALFORMED] = "malformed input",
	[-LL_ERR_BAD_JSON] = "not valid JSON",
	[-LL_ERR_SCHEMA] = "JSON does not match the expected schema",
	[-LL_ERR_CRYPTO] = "cryptographic library failure",
	[-LL_ERR_AUTH_FAILED] = "authentication failed",
	[-LL_ERR_TLS] = "TLS failure",
	[-LL_ERR_TLS_VERIFY] = "TLS peer could not be verified",
	[-LL_ERR_IO] = "input/output error",
	[-LL_ERR_CLOSED] = "connection closed by peer",
	[-LL_ERR_WANT_READ] = "operation would block (read)",
	[-LL_ERR_WANT_WRITE] = "operation would block (write)",
	[-LL_ERR_CONFIG] = "invalid configuration",
	[-LL_ERR_STORE] = "database error",
	[-LL_ERR_NOT_FOUND] = "not found",
	[-LL_ERR_CONFLICT] = "already exists or already in use",
	[-LL_ERR_EXPIRED] = "expired",
	[-LL_ERR_NO_CREDIT] = "no flow-control credit",
	[-LL_ERR_PROTOCOL] = "protocol violation by peer",
	[-LL_ERR_TIMEOUT] = "timed out",
	[-LL_ERR_DISABLED] = "disabled",
	[-LL_ERR_SCHEMA_VERSION] =
		"database was written by a newer version of Lifeline",
	[-LL_ERR_UNAVAILABLE] = "service unavailable",
};

_Static_assert(sizeof(messages) / sizeof(messages[0]) == -LL_ERR_LAST,
	       "every ll_err code needs a message");

const char *ll_strerror(int err)
{
	if (err > 0 || err <= LL_ERR_LAST || messages[-err] == NULL)
		return "unknown error";
	return messages[-err];
}
