/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What went wrong, for a person and for code (struct ll_client_error in
 * ll_api_client.h): HTTP statuses, the API's error bodies and libcurl's
 * results mapped to ll_err codes and sentences.  What the relay says
 * passes the display rule (ll_text.h) before it is kept.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "client_internal.h"
#include "ll_api_client.h"
#include "ll_api_parse.h"
#include "ll_text.h"
#include "ll_util.h"

void ll_client_error_clear(struct ll_client_error *e)
{
	if (e == NULL)
		return;
	memset(e, 0, sizeof(*e));
}

void ll_client_error_set(struct ll_client_error *e, int code, int http_status,
			 const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	ll_client_error_clear(e);
	e->code = code;
	e->http_status = http_status;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

int ll_client_error_from_status(int http_status, const char *api_code)
{
	const char *c = api_code != NULL ? api_code : "";

	if (strcmp(c, "pin_expired") == 0 || http_status == 410)
		return LL_ERR_EXPIRED;
	if (strcmp(c, "unsupported_version") == 0)
		return LL_ERR_BAD_VERSION;
	switch (http_status) {
	case 400:
		return LL_ERR_INVALID_ARG;
	case 401:
		return LL_ERR_AUTH_FAILED;
	case 403:
		return strcmp(c, "account_disabled") == 0 ? LL_ERR_DISABLED
							  : LL_ERR_AUTH_FAILED;
	case 404:
		return LL_ERR_NOT_FOUND;
	case 409:
		return LL_ERR_CONFLICT;
	case 413:
		return LL_ERR_TOO_LARGE;
	default:
		break;
	}
	if (http_status >= 500)
		return LL_ERR_INTERNAL;
	return LL_ERR_PROTOCOL;
}

int ll_client_error_from_body(int status, const char *body, size_t len,
			      long retry_after, struct ll_client_error *err)
{
	json_t *root = NULL, *e;
	const char *code = NULL, *msg = NULL;
	int r;

	if (body != NULL && len > 0)
		root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	e = json_object_get(root, "error");
	if (json_is_object(e)) {
		code = json_string_value(json_object_get(e, "code"));
		msg = json_string_value(json_object_get(e, "message"));
	}
	r = ll_client_error_from_status(status, code);
	if (err != NULL) {
		ll_client_error_clear(err);
		err->code = r;
		err->http_status = status;
		err->retry_after = retry_after > 0 && retry_after < 86400
					   ? (int)retry_after
					   : 0;
		/* What a relay says reaches labels and terminals. */
		if (code != NULL)
			ll_text_printable(err->api_code, sizeof(err->api_code),
					  code, strlen(code));
		if (msg != NULL)
			ll_text_printable(err->message, sizeof(err->message),
					  msg, strlen(msg));
		else
			snprintf(err->message, sizeof(err->message),
				 "the relay answered HTTP %d (%s)", status,
				 code != NULL ? err->api_code
					      : "no error details");
	}
	json_decref(root);
	return r;
}

int ll_client_curl_error(int curl_code, long os_errno, const char *errbuf,
			 const char *what, const char *url,
			 struct ll_client_error *err)
{
	CURLcode cc = (CURLcode)curl_code;
	const char *detail = errbuf != NULL && errbuf[0] != '\0'
				     ? errbuf
				     : curl_easy_strerror(cc);
	int r;

	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		/* The system's words ("Connection refused") say it best. */
		if (cc == CURLE_COULDNT_CONNECT && os_errno != 0)
			detail = strerror((int)os_errno);
		ll_client_error_set(err, LL_ERR_IO, 0,
				    "could not connect to %s at %s: %s", what,
				    url, detail);
		return LL_ERR_IO;
	case CURLE_OPERATION_TIMEDOUT:
		ll_client_error_set(err, LL_ERR_TIMEOUT, 0,
				    "%s at %s did not answer in time: %s",
				    what, url, detail);
		return LL_ERR_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
		r = LL_ERR_TLS_VERIFY;
		ll_client_error_set(err, r, 0,
				    "the certificate of %s at %s is not "
				    "trusted: %s",
				    what, url, detail);
		return r;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
		ll_client_error_set(err, LL_ERR_TLS, 0,
				    "TLS with %s at %s failed: %s", what, url,
				    detail);
		return LL_ERR_TLS;
	case CURLE_OUT_OF_MEMORY:
		ll_client_error_set(err, LL_ERR_NOMEM, 0, "out of memory");
		return LL_ERR_NOMEM;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "unusable %s address %s: %s", what, url,
				    detail);
		return LL_ERR_INVALID_ARG;
	default:
		ll_client_error_set(err, LL_ERR_IO, 0,
				    "talking to %s at %s failed: %s", what,
				    url, detail);
		return LL_ERR_IO;
	}
}
