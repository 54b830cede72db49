/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay's HTTP API on libcurl (see ll_api_client.h for the rules).
 * One easy handle per client so that calls reuse the TLS connection.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <glib.h>
#include <jansson.h>

#include "client_internal.h"
#include "ll_api_client.h"
#include "ll_control.h"
#include "ll_crypto.h"
#include "ll_util.h"

struct ll_api_client {
	CURL *curl;
	char *url;              /* base, no trailing '/' */
	char *token;            /* secret */
	char *ca_blob;          /* system bundle + ca_file, or NULL */
	size_t ca_blob_len;
	char errbuf[CURL_ERROR_SIZE];
};

/* A response body, capped before it grows. */
struct body {
	uint8_t *data;
	size_t len, cap;
	bool too_large;
};

/* ---------------------------------------------------------------- errors */

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

/* Copies src into dst, printable ASCII only (what a relay says may reach
 * a label or a log line). */
static void copy_printable(char *dst, size_t dstlen, const char *src)
{
	size_t i, n = 0;

	for (i = 0; src[i] != '\0' && n + 1 < dstlen; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[n++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	dst[n] = '\0';
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
		if (code != NULL)
			copy_printable(err->api_code, sizeof(err->api_code),
				       code);
		if (msg != NULL)
			copy_printable(err->message, sizeof(err->message),
				       msg);
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
				    "trusted: %s", what, url, detail);
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

/* ------------------------------------------------------------------- URL */

void ll_client_curl_init(void)
{
	static gsize once;

	if (g_once_init_enter(&once)) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		g_once_init_leave(&once, 1);
	}
}

void ll_client_url_clear(struct ll_client_url *u)
{
	if (u == NULL)
		return;
	free(u->base);
	free(u->host);
	free(u->host_hdr);
	memset(u, 0, sizeof(*u));
}

/* curl_url_get into a malloc'd copy (or NULL when the part is absent). */
static int url_part(CURLU *h, CURLUPart what, unsigned flags, char **out)
{
	char *v = NULL;
	CURLUcode uc = curl_url_get(h, what, &v, flags);

	*out = NULL;
	if (uc != CURLUE_OK)
		return uc == CURLUE_OUT_OF_MEMORY ? LL_ERR_NOMEM : LL_OK;
	*out = strdup(v);
	curl_free(v);
	return *out != NULL ? LL_OK : LL_ERR_NOMEM;
}

int ll_client_url_parse(const char *url, struct ll_client_url *out,
			struct ll_client_error *err)
{
	struct ll_client_url u = { 0 };
	CURLU *h = NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char *query = NULL, *frag = NULL, *user = NULL;
	unsigned long pnum;
	char *end;
	size_t hl;
	int r = LL_ERR_INVALID_ARG;

	if (url == NULL || url[0] == '\0') {
		ll_client_error_set(err, r, 0, "no relay URL given");
		return r;
	}
	if ((h = curl_url()) == NULL) {
		r = LL_ERR_NOMEM;
		ll_client_error_set(err, r, 0, "out of memory");
		return r;
	}
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK) {
		ll_client_error_set(err, r, 0,
				    "the relay URL \"%.200s\" is not a URL",
				    url);
		goto out;
	}
	if ((r = url_part(h, CURLUPART_SCHEME, 0, &scheme)) != 0 ||
	    (r = url_part(h, CURLUPART_HOST, 0, &host)) != 0 ||
	    (r = url_part(h, CURLUPART_PORT, CURLU_DEFAULT_PORT, &port)) !=
		    0 ||
	    (r = url_part(h, CURLUPART_PATH, 0, &path)) != 0 ||
	    (r = url_part(h, CURLUPART_QUERY, 0, &query)) != 0 ||
	    (r = url_part(h, CURLUPART_FRAGMENT, 0, &frag)) != 0 ||
	    (r = url_part(h, CURLUPART_USER, 0, &user)) != 0) {
		ll_client_error_set(err, r, 0, "out of memory");
		goto out;
	}
	r = LL_ERR_INVALID_ARG;
	if (scheme == NULL || g_ascii_strcasecmp(scheme, "https") != 0) {
		ll_client_error_set(err, r, 0,
				    "the relay URL \"%.200s\" must start with "
				    "https://", url);
		goto out;
	}
	if (host == NULL || host[0] == '\0' || port == NULL) {
		ll_client_error_set(err, r, 0,
				    "the relay URL \"%.200s\" names no host",
				    url);
		goto out;
	}
	if ((path != NULL && strcmp(path, "/") != 0 && path[0] != '\0') ||
	    query != NULL || frag != NULL || user != NULL) {
		ll_client_error_set(err, r, 0,
				    "the relay URL \"%.200s\" must be just "
				    "https://HOST[:PORT]", url);
		goto out;
	}
	errno = 0;
	pnum = strtoul(port, &end, 10);
	if (errno != 0 || *end != '\0' || pnum == 0 || pnum > 65535) {
		ll_client_error_set(err, r, 0,
				    "the relay URL \"%.200s\" has a bad port",
				    url);
		goto out;
	}
	u.port = (uint16_t)pnum;
	hl = strlen(host);
	u.host_hdr = strdup(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']')
		u.host = strndup(host + 1, hl - 2);
	else
		u.host = strdup(host);
	if ((u.base = malloc(hl + 16)) != NULL)
		snprintf(u.base, hl + 16, "https://%s:%u", host,
			 (unsigned)u.port);
	if (u.host_hdr == NULL || u.host == NULL || u.base == NULL) {
		r = LL_ERR_NOMEM;
		ll_client_error_set(err, r, 0, "out of memory");
		goto out;
	}
	*out = u;
	memset(&u, 0, sizeof(u));
	r = LL_OK;
out:
	ll_client_url_clear(&u);
	free(scheme);
	free(host);
	free(port);
	free(path);
	free(query);
	free(frag);
	free(user);
	curl_url_cleanup(h);
	return r;
}
