/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay's HTTP API on libcurl (see ll_api_client.h for the rules).
 * One easy handle per client so that calls reuse the TLS connection.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <glib.h>
#include <jansson.h>

#include "client_internal.h"
#include "ll_api_client.h"
#include "ll_api_parse.h"
#include "ll_control.h"
#include "ll_crypto.h"
#include "ll_text.h"
#include "ll_util.h"

struct ll_api_client {
	CURL *curl;
	char *url;              /* base, no trailing '/' */
	char *token;            /* secret */
	char *ca_blob;          /* system bundle + ca_file, or NULL */
	size_t ca_blob_len;
	const atomic_bool *cancel;  /* another thread's "give up", or NULL */
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

/* ---------------------------------------------------------------- client */

/*
 * ca_file is an extra anchor: libcurl's CAINFO would replace the system
 * bundle, so hand it the system bundle with ca_file appended instead.
 * When the default bundle cannot be read, ca_file alone goes to CAINFO
 * (and the default CA path, if libcurl has one, still applies).
 */
static int build_ca_blob(struct ll_api_client *c, const char *ca_file,
			 struct ll_client_error *err)
{
	char *sys_path = NULL, *sys = NULL, *extra = NULL;
	gsize sys_len = 0, extra_len = 0;
	GError *gerr = NULL;
	int r = LL_ERR_CONFIG;

	if (!g_file_get_contents(ca_file, &extra, &extra_len, &gerr)) {
		ll_client_error_set(err, r, 0, "cannot read the CA file: %s",
				    gerr->message);
		g_error_free(gerr);
		return r;
	}
	if (curl_easy_getinfo(c->curl, CURLINFO_CAINFO, &sys_path) !=
		    CURLE_OK ||
	    sys_path == NULL ||
	    !g_file_get_contents(sys_path, &sys, &sys_len, NULL)) {
		/* No readable default bundle: CAINFO = ca_file. */
		g_free(extra);
		return LL_OK;
	}
	c->ca_blob_len = sys_len + 1 + extra_len;
	if ((c->ca_blob = malloc(c->ca_blob_len)) == NULL) {
		c->ca_blob_len = 0;
		r = LL_ERR_NOMEM;
		ll_client_error_set(err, r, 0, "out of memory");
		goto out;
	}
	memcpy(c->ca_blob, sys, sys_len);
	c->ca_blob[sys_len] = '\n';
	memcpy(c->ca_blob + sys_len + 1, extra, extra_len);
	r = LL_OK;
out:
	g_free(sys);
	g_free(extra);
	return r;
}

struct ll_api_client *ll_api_client_new(const struct ll_relay_opts *o,
					struct ll_client_error *err)
{
	struct ll_api_client *c = NULL;
	struct ll_client_url u = { 0 };
	long tmo, ctmo;
	int r;

	ll_client_error_clear(err);
	if (o == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "no relay options");
		return NULL;
	}
	if (o->no_system_cas && o->ca_file == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "no trust anchor: no_system_cas without "
				    "a CA file");
		return NULL;
	}
	if (o->ca_file != NULL && access(o->ca_file, R_OK) != 0) {
		ll_client_error_set(err, LL_ERR_CONFIG, 0,
				    "cannot read the CA file %s: %s",
				    o->ca_file, strerror(errno));
		return NULL;
	}
	if (ll_client_url_parse(o->url, &u, err) != 0)
		return NULL;
	ll_client_curl_init();
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->curl = curl_easy_init()) == NULL) {
		ll_client_error_set(err, LL_ERR_NOMEM, 0, "out of memory");
		goto fail;
	}
	c->url = u.base;
	u.base = NULL;
	if (o->ca_file != NULL && !o->no_system_cas &&
	    (r = build_ca_blob(c, o->ca_file, err)) != 0)
		goto fail;

	tmo = o->timeout_ms > 0 ? o->timeout_ms : LL_API_DEFAULT_TIMEOUT_MS;
	ctmo = o->connect_timeout_ms > 0 ? o->connect_timeout_ms
					 : LL_API_DEFAULT_CONNECT_TIMEOUT_MS;
	/* Options that hold for every request of this client. */
	if (curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf) !=
		    CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "https") !=
		    CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L) !=
		    CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 1L) !=
		    CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 2L) !=
		    CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_SSLVERSION,
			     (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, tmo) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, ctmo) !=
		    CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_USERAGENT,
			     "lifeline-client/1") != CURLE_OK) {
		ll_client_error_set(err, LL_ERR_INTERNAL, 0,
				    "libcurl refused an option (too old?)");
		goto fail;
	}
	if (c->ca_blob != NULL) {
		struct curl_blob blob = { .data = c->ca_blob,
					  .len = c->ca_blob_len,
					  .flags = CURL_BLOB_NOCOPY };

		if (curl_easy_setopt(c->curl, CURLOPT_CAINFO_BLOB, &blob) !=
		    CURLE_OK) {
			ll_client_error_set(err, LL_ERR_INTERNAL, 0,
					    "libcurl cannot take a CA bundle "
					    "in memory");
			goto fail;
		}
	} else if (o->ca_file != NULL) {
		if (curl_easy_setopt(c->curl, CURLOPT_CAINFO, o->ca_file) !=
			    CURLE_OK ||
		    (o->no_system_cas &&
		     curl_easy_setopt(c->curl, CURLOPT_CAPATH, NULL) !=
			     CURLE_OK)) {
			ll_client_error_set(err, LL_ERR_INTERNAL, 0,
					    "libcurl refused the CA file");
			goto fail;
		}
	}
	if (o->spki_pin != NULL &&
	    curl_easy_setopt(c->curl, CURLOPT_PINNEDPUBLICKEY, o->spki_pin) !=
		    CURLE_OK) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "libcurl refused the key pin");
		goto fail;
	}
	ll_client_url_clear(&u);
	return c;
fail:
	ll_client_url_clear(&u);
	ll_api_client_free(c);
	return NULL;
}

void ll_api_client_free(struct ll_api_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	ll_secret_free(c->token);
	free(c->ca_blob);
	free(c->url);
	free(c);
}

int ll_api_client_set_token(struct ll_api_client *c, const char *token)
{
	char *t = NULL;

	if (c == NULL)
		return LL_ERR_INVALID_ARG;
	if (token != NULL && (t = strdup(token)) == NULL)
		return LL_ERR_NOMEM;
	ll_secret_free(c->token);
	c->token = t;
	return LL_OK;
}

bool ll_api_client_has_token(const struct ll_api_client *c)
{
	return c != NULL && c->token != NULL;
}

const char *ll_api_client_url(const struct ll_api_client *c)
{
	return c != NULL ? c->url : NULL;
}

/* libcurl's progress check, between its steps and at least once a
 * second: non-zero aborts the transfer (CURLE_ABORTED_BY_CALLBACK). */
static int check_cancel(void *ud, curl_off_t dltotal, curl_off_t dlnow,
			curl_off_t ultotal, curl_off_t ulnow)
{
	const atomic_bool *flag = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(flag) ? 1 : 0;
}

int ll_api_client_set_cancel(struct ll_api_client *c, const atomic_bool *flag)
{
	CURLcode cc;

	if (c == NULL)
		return LL_ERR_INVALID_ARG;
	c->cancel = flag;
	if (flag == NULL)
		cc = curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 1L);
	else if ((cc = curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION,
					check_cancel)) == CURLE_OK &&
		 (cc = curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA,
					(void *)flag)) == CURLE_OK)
		cc = curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	return cc == CURLE_OK ? LL_OK : LL_ERR_INTERNAL;
}

/* ------------------------------------------------------------- requests */

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t n = size * nmemb, want, cap;
	uint8_t *nd;

	if (b->len + n > LL_API_MAX_RESPONSE) {
		b->too_large = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->cap) {
		want = b->len + n + 1;
		cap = b->cap != 0 ? b->cap : 1024;
		while (cap < want)
			cap *= 2;
		if ((nd = malloc(cap)) == NULL)
			return 0;
		/* Copy and wipe instead of realloc: tokens pass through. */
		if (b->data != NULL) {
			memcpy(nd, b->data, b->len);
			ll_wipe(b->data, b->cap);
			free(b->data);
		}
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static void body_clear(struct body *b)
{
	if (b->data != NULL) {
		ll_wipe(b->data, b->cap);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
}

static void slist_free_wiped(struct curl_slist *l)
{
	struct curl_slist *i;

	for (i = l; i != NULL; i = i->next)
		if (i->data != NULL)
			ll_wipe(i->data, strlen(i->data));
	curl_slist_free_all(l);
}

/* Wipes a string member's bytes in place before the object goes away
 * (jansson frees without wiping). */
static void json_wipe_member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		ll_wipe((char *)json_string_value(v), json_string_length(v));
}

/*
 * The body of a success answer as a JSON object: duplicate keys refused,
 * capped.  *out is the caller's (json_decref).
 */
static int load_object(const char *body, size_t len, json_t **out,
		       struct ll_client_error *err)
{
	json_error_t jerr;
	json_t *root;

	if (len > LL_API_MAX_RESPONSE) {
		ll_client_error_set(err, LL_ERR_TOO_LARGE, 0,
				    "the relay's answer is over %u bytes",
				    LL_API_MAX_RESPONSE);
		return LL_ERR_TOO_LARGE;
	}
	if (body == NULL || len == 0) {
		ll_client_error_set(err, LL_ERR_BAD_JSON, 0,
				    "the relay's answer has no body");
		return LL_ERR_BAD_JSON;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		ll_client_error_set(err, LL_ERR_BAD_JSON, 0,
				    "the relay's answer is not JSON: %s",
				    jerr.text);
		return LL_ERR_BAD_JSON;
	}
	if (!json_is_object(root)) {
		ll_client_error_set(err, LL_ERR_SCHEMA, 0,
				    "the relay's answer is not a JSON object");
		json_decref(root);
		return LL_ERR_SCHEMA;
	}
	*out = root;
	return LL_OK;
}

/*
 * One request.  body_json: a JSON text (secret: the caller wipes it) or
 * NULL.  bearer: NULL = none.  expect: the success status.  On success
 * *resp gets the parsed JSON object (or NULL for an empty body).
 */
static int request(struct ll_api_client *c, const char *method,
		   const char *path, const char *bearer, const char *body_json,
		   long expect, json_t **resp, json_t **err_root,
		   struct ll_client_error *err)
{
	struct curl_slist *hdrs = NULL, *n;
	struct body b = { 0 };
	char *url = NULL, *auth = NULL;
	long status = 0, os_errno = 0;
	curl_off_t retry = 0;
	json_t *root = NULL;
	CURLcode cc;
	int r;

	if (c->cancel != NULL && atomic_load(c->cancel)) {
		ll_client_error_set(err, LL_ERR_TIMEOUT, 0,
				    "gave up on the relay at %s", c->url);
		return LL_ERR_TIMEOUT;
	}
	if ((url = g_strconcat(c->url, path, NULL)) == NULL)
		return LL_ERR_NOMEM;
	c->errbuf[0] = '\0';
	n = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = n != NULL ? n : hdrs;
	if (n != NULL && body_json != NULL) {
		n = curl_slist_append(hdrs, "Content-Type: application/json");
		hdrs = n != NULL ? n : hdrs;
	}
	if (n != NULL && bearer != NULL) {
		auth = g_strconcat("Authorization: Bearer ", bearer, NULL);
		n = curl_slist_append(hdrs, auth);
		hdrs = n != NULL ? n : hdrs;
	}
	if (n == NULL) {
		r = LL_ERR_NOMEM;
		ll_client_error_set(err, r, 0, "out of memory");
		goto out;
	}
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, NULL);
	if (strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0) {
		curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
		if (method[0] == 'D')
			curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST,
					 "DELETE");
	} else {
		const char *pb = body_json != NULL ? body_json : "";

		/* POSTFIELDS, not COPYPOSTFIELDS: no copy of secrets. */
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE,
				 (long)strlen(pb));
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, pb);
	}
	cc = curl_easy_perform(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
	if (cc != CURLE_OK) {
		if (b.too_large) {
			r = LL_ERR_TOO_LARGE;
			ll_client_error_set(err, r, 0,
					    "the relay's answer is over %u "
					    "bytes", LL_API_MAX_RESPONSE);
			goto out;
		}
		if (cc == CURLE_ABORTED_BY_CALLBACK) {
			r = LL_ERR_TIMEOUT;
			ll_client_error_set(err, r, 0,
					    "gave up waiting for the relay at "
					    "%s", c->url);
			goto out;
		}
		curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os_errno);
		r = ll_client_curl_error(cc, os_errno, c->errbuf, "relay",
					 c->url, err);
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != expect) {
		curl_easy_getinfo(c->curl, CURLINFO_RETRY_AFTER, &retry);
		r = ll_client_error_from_body((int)status, (const char *)b.data,
					      b.len, (long)retry, err);
		if (err_root != NULL && b.len > 0)
			*err_root = json_loadb((const char *)b.data, b.len,
					       JSON_REJECT_DUPLICATES, NULL);
		if (err != NULL && status >= 200 && status < 300) {
			/* A success we did not expect is a broken relay. */
			r = LL_ERR_PROTOCOL;
			ll_client_error_set(err, r, (int)status,
					    "the relay answered HTTP %ld where "
					    "%ld was expected", status, expect);
		}
		goto out;
	}
	if (b.len == 0) {
		if (resp != NULL && expect != 204) {
			r = LL_ERR_BAD_JSON;
			ll_client_error_set(err, r, (int)status,
					    "the relay's answer has no body");
			goto out;
		}
	} else if (resp != NULL) {
		/* The same strict entry as ll_api_parse_*(). */
		if ((r = load_object((const char *)b.data, b.len, &root,
				     err)) != 0) {
			if (err != NULL)
				err->http_status = (int)status;
			goto out;
		}
	}
	if (resp != NULL)
		*resp = root;
	r = LL_OK;
out:
	slist_free_wiped(hdrs);
	ll_secret_free(auth);
	body_clear(&b);
	g_free(url);
	return r;
}

/* A JSON text from obj; secret members wiped by the caller's discipline
 * (the text is wiped in call()). */
static int call_full(struct ll_api_client *c, const char *method,
		     const char *path, const char *bearer, json_t *body,
		     long expect, json_t **resp, json_t **err_root,
		     struct ll_client_error *err)
{
	char *text = NULL;
	int r;

	if (body != NULL &&
	    (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		ll_client_error_set(err, LL_ERR_NOMEM, 0, "out of memory");
		return LL_ERR_NOMEM;
	}
	r = request(c, method, path, bearer, text, expect, resp, err_root,
		    err);
	ll_secret_free(text);
	return r;
}

static int call(struct ll_api_client *c, const char *method, const char *path,
		const char *bearer, json_t *body, long expect, json_t **resp,
		struct ll_client_error *err)
{
	return call_full(c, method, path, bearer, body, expect, resp, NULL,
			 err);
}

/* ---------------------------------------------------------- strict parse */

static int schema_err(struct ll_client_error *err, const char *what,
		      const char *key)
{
	ll_client_error_set(err, LL_ERR_SCHEMA, 0,
			    "the relay's answer has a missing or wrong "
			    "\"%s\"%s%s", key, what ? " in " : "",
			    what ? what : "");
	return LL_ERR_SCHEMA;
}

/* A string member: required or not; no NUL inside; at most max bytes. */
static int get_str(json_t *o, const char *key, bool required, size_t max,
		   char **out, struct ll_client_error *err)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	size_t len;

	if (v == NULL || json_is_null(v)) {
		if (required)
			return schema_err(err, NULL, key);
		*out = NULL;
		return LL_OK;
	}
	if (!json_is_string(v))
		return schema_err(err, NULL, key);
	s = json_string_value(v);
	len = json_string_length(v);
	if (strlen(s) != len || len > max)
		return schema_err(err, NULL, key);
	if ((*out = strndup(s, len)) == NULL) {
		ll_client_error_set(err, LL_ERR_NOMEM, 0, "out of memory");
		return LL_ERR_NOMEM;
	}
	return LL_OK;
}

static int get_int(json_t *o, const char *key, bool required, int64_t min,
		   int64_t *out, struct ll_client_error *err)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		if (required)
			return schema_err(err, NULL, key);
		*out = 0;
		return LL_OK;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min)
		return schema_err(err, NULL, key);
	*out = json_integer_value(v);
	return LL_OK;
}

/* An RFC 3339 member to unix seconds (null/absent = 0 unless required). */
static int get_time(json_t *o, const char *key, bool required,
		    int64_t *out, struct ll_client_error *err)
{
	char *s = NULL;
	int64_t t = 0;
	int r;

	if ((r = get_str(o, key, required, 64, &s, err)) != 0)
		return r;
	if (s != NULL && ll_parse_rfc3339(s, &t) != 0) {
		free(s);
		return schema_err(err, NULL, key);
	}
	free(s);
	*out = t;
	return LL_OK;
}

/* An array of capability or permission names.  strv may be NULL (then
 * only the mask is filled); unknown names are kept in strv but not in
 * the mask (permissions include "reports", "admin"). */
static int get_names(json_t *o, const char *key, char ***strv, size_t *n,
		     uint32_t *mask, struct ll_client_error *err)
{
	json_t *a = json_object_get(o, key), *v;
	char **list = NULL;
	uint32_t m = 0;
	size_t i, cnt;

	if (!json_is_array(a) || (cnt = json_array_size(a)) > 64)
		return schema_err(err, NULL, key);
	if (strv != NULL && (list = calloc(cnt + 1, sizeof(*list))) == NULL)
		goto nomem;
	json_array_foreach(a, i, v)
	{
		const char *s = json_string_value(v);

		if (s == NULL || strlen(s) != json_string_length(v) ||
		    json_string_length(v) > 64) {
			g_strfreev(list);
			return schema_err(err, NULL, key);
		}
		m |= ll_cap_from_name(s);
		if (list != NULL && (list[i] = strdup(s)) == NULL) {
			g_strfreev(list);
			goto nomem;
		}
	}
	if (strv != NULL) {
		*strv = list;
		*n = cnt;
	}
	*mask = m;
	return LL_OK;
nomem:
	ll_client_error_set(err, LL_ERR_NOMEM, 0, "out of memory");
	return LL_ERR_NOMEM;
}

void ll_api_technician_clear(struct ll_api_technician *t)
{
	size_t i;

	if (t == NULL)
		return;
	free(t->name);
	free(t->org);
	if (t->permissions != NULL)
		for (i = 0; t->permissions[i] != NULL; i++)
			free(t->permissions[i]);
	free(t->permissions);
	memset(t, 0, sizeof(*t));
}

void ll_api_login_clear(struct ll_api_login *l)
{
	if (l == NULL)
		return;
	ll_secret_free(l->token);
	ll_secret_free(l->mfa_token);
	ll_api_technician_clear(&l->technician);
	memset(l, 0, sizeof(*l));
}

void ll_api_pin_clear(struct ll_api_pin *p)
{
	if (p == NULL)
		return;
	free(p->session_id);
	ll_secret_free(p->pin);
	free(p->expires_at);
	ll_secret_free(p->ticket);
	memset(p, 0, sizeof(*p));
}

static void session_info_clear(struct ll_api_session_info *s)
{
	free(s->session_id);
	free(s->state);
	free(s->lock);
	free(s->end_reason);
	memset(s, 0, sizeof(*s));
}

void ll_api_session_list_clear(struct ll_api_session_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n_sessions; i++)
		session_info_clear(&l->sessions[i]);
	free(l->sessions);
	memset(l, 0, sizeof(*l));
}

void ll_api_redeem_clear(struct ll_api_redeem *r)
{
	if (r == NULL)
		return;
	free(r->session_id);
	ll_secret_free(r->ticket);
	ll_api_technician_clear(&r->technician);
	free(r->stream_path);
	memset(r, 0, sizeof(*r));
}

/* ----------------------------------------------------------------- calls */

static int parse_login(json_t *root, struct ll_api_login *out,
		       struct ll_client_error *err)
{
	struct ll_api_login l = { 0 };
	json_t *t = json_object_get(root, "technician");
	int r;

	if ((r = get_str(root, "token", true, 1024, &l.token, err)) != 0 ||
	    (r = get_int(root, "expires_in", true, 0, &l.expires_in, err)) !=
		    0)
		goto out;
	if (!json_is_object(t)) {
		r = schema_err(err, NULL, "technician");
		goto out;
	}
	if ((r = get_int(t, "id", true, 0, &l.technician.id, err)) != 0 ||
	    (r = get_str(t, "name", true, 1024, &l.technician.name, err)) !=
		    0 ||
	    (r = get_str(t, "org", true, 1024, &l.technician.org, err)) != 0 ||
	    (r = get_names(t, "permissions", &l.technician.permissions,
			   &l.technician.n_permissions, &l.technician.caps,
			   err)) != 0)
		goto out;
	*out = l;
	memset(&l, 0, sizeof(l));
out:
	ll_api_login_clear(&l);
	return r;
}

/* The mfa_token of a 401 mfa_required, at the top level or inside the
 * error object; wiped in root. */
static int parse_mfa_token(json_t *root, char **out,
			   struct ll_client_error *err)
{
	json_t *holder = json_object_get(root, "mfa_token") != NULL
				 ? root
				 : json_object_get(root, "error");
	int r;

	if (!json_is_object(holder))
		return schema_err(err, NULL, "mfa_token");
	r = get_str(holder, "mfa_token", true, 1024, out, err);
	json_wipe_member(holder, "mfa_token");
	return r;
}

/* Login and login/mfa share the answer; 401 mfa_required carries the
 * mfa_token (at the top level or inside the error object). */
static int login_common(struct ll_api_client *c, const char *path,
			json_t *body, struct ll_api_login *out,
			struct ll_client_error *err)
{
	struct ll_client_error e;
	json_t *root = NULL, *eroot = NULL;
	char *mt = NULL;
	int r;

	ll_client_error_clear(&e);
	r = call_full(c, "POST", path, NULL, body, 200, &root, &eroot, &e);
	if (r == LL_OK) {
		r = parse_login(root, out, err);
		json_wipe_member(root, "token");
		json_decref(root);
		if (r == LL_OK &&
		    (r = ll_api_client_set_token(c, out->token)) != 0) {
			ll_api_login_clear(out);
			ll_client_error_set(err, r, 0, "out of memory");
		}
		return r;
	}
	if (e.http_status == 401 && strcmp(e.api_code, "mfa_required") == 0) {
		r = parse_mfa_token(eroot, &mt, err);
		if (r == LL_OK) {
			memset(out, 0, sizeof(*out));
			out->mfa_token = mt;
		}
		json_decref(eroot);
		return r;
	}
	json_decref(eroot);
	if (err != NULL)
		*err = e;
	return r;
}

int ll_api_login(struct ll_api_client *c, const char *user, const char *org,
		 const char *password, struct ll_api_login *out,
		 struct ll_client_error *err)
{
	json_t *body;
	int r;

	ll_client_error_clear(err);
	if (c == NULL || user == NULL || password == NULL || out == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "user and password are needed");
		return LL_ERR_INVALID_ARG;
	}
	body = json_pack("{s:s,s:s}", "username", user, "password",
			 password);
	if (body != NULL && org != NULL &&
	    json_object_set_new(body, "org", json_string(org)) != 0) {
		json_decref(body);
		body = NULL;
	}
	if (body == NULL) {
		/* json_pack fails on invalid UTF-8 too. */
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "user, org or password is not valid "
				    "UTF-8 text");
		return LL_ERR_INVALID_ARG;
	}
	r = login_common(c, "/api/v1/login", body, out, err);
	json_wipe_member(body, "password");
	json_decref(body);
	return r;
}

int ll_api_login_mfa(struct ll_api_client *c, const char *mfa_token,
		     const char *code, struct ll_api_login *out,
		     struct ll_client_error *err)
{
	json_t *body;
	int r;

	ll_client_error_clear(err);
	if (c == NULL || mfa_token == NULL || code == NULL || out == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "the MFA token and code are needed");
		return LL_ERR_INVALID_ARG;
	}
	body = json_pack("{s:s,s:s}", "mfa_token", mfa_token, "code", code);
	if (body == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "the code is not valid text");
		return LL_ERR_INVALID_ARG;
	}
	r = login_common(c, "/api/v1/login/mfa", body, out, err);
	json_wipe_member(body, "mfa_token");
	json_wipe_member(body, "code");
	json_decref(body);
	return r;
}

static int need_token(struct ll_api_client *c, struct ll_client_error *err)
{
	if (c == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0, "no client");
		return LL_ERR_INVALID_ARG;
	}
	if (c->token == NULL) {
		ll_client_error_set(err, LL_ERR_AUTH_FAILED, 0,
				    "not logged in");
		if (err != NULL)
			snprintf(err->api_code, sizeof(err->api_code),
				 "unauthorized");
		return LL_ERR_AUTH_FAILED;
	}
	return LL_OK;
}

int ll_api_logout(struct ll_api_client *c, struct ll_client_error *err)
{
	int r;

	ll_client_error_clear(err);
	if ((r = need_token(c, err)) != 0)
		return r;
	r = call(c, "POST", "/api/v1/logout", c->token, NULL, 204, NULL,
		 err);
	/* Forget the token whatever the answer: a failed logout must not
	 * leave a usable token behind in this process. */
	ll_api_client_set_token(c, NULL);
	return r;
}

static int parse_pin(json_t *root, struct ll_api_pin *out,
		     struct ll_client_error *err);

int ll_api_pin_new(struct ll_api_client *c, const char *lock,
		   struct ll_api_pin *out, struct ll_client_error *err)
{
	json_t *body = NULL, *root = NULL;
	int r;

	ll_client_error_clear(err);
	if ((r = need_token(c, err)) != 0)
		return r;
	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	body = lock != NULL ? json_pack("{s:s}", "lock", lock) : json_object();
	if (body == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0, "bad lock");
		return LL_ERR_INVALID_ARG;
	}
	if ((r = call(c, "POST", "/api/v1/sessions", c->token, body, 201,
		      &root, err)) != 0)
		goto out;
	r = parse_pin(root, out, err);
out:
	json_wipe_member(root, "pin");
	json_wipe_member(root, "ticket");
	json_decref(root);
	json_decref(body);
	return r;
}

static int parse_pin(json_t *root, struct ll_api_pin *out,
		     struct ll_client_error *err)
{
	struct ll_api_pin p = { 0 };
	size_t i;
	int r;

	if ((r = get_str(root, "session_id", true, 128, &p.session_id,
			 err)) != 0 ||
	    (r = get_str(root, "pin", true, 16, &p.pin, err)) != 0 ||
	    (r = get_str(root, "expires_at", true, 64, &p.expires_at, err)) !=
		    0 ||
	    (r = get_str(root, "ticket", true, 1024, &p.ticket, err)) != 0)
		goto out;
	for (i = 0; p.pin[i] != '\0'; i++)
		if (!g_ascii_isdigit(p.pin[i]))
			break;
	if (i != 6 || p.pin[i] != '\0') {
		r = schema_err(err, NULL, "pin");
		goto out;
	}
	if (ll_parse_rfc3339(p.expires_at, &p.expires_at_unix) != 0) {
		r = schema_err(err, NULL, "expires_at");
		goto out;
	}
	*out = p;
	memset(&p, 0, sizeof(p));
out:
	ll_api_pin_clear(&p);
	return r;
}

static int parse_sessions(json_t *root, struct ll_api_session_list *out,
			  struct ll_client_error *err);

int ll_api_sessions_list(struct ll_api_client *c,
			 struct ll_api_session_list *out,
			 struct ll_client_error *err)
{
	json_t *root = NULL;
	int r;

	ll_client_error_clear(err);
	if ((r = need_token(c, err)) != 0)
		return r;
	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = call(c, "GET", "/api/v1/sessions", c->token, NULL, 200,
		      &root, err)) != 0)
		return r;
	r = parse_sessions(root, out, err);
	json_decref(root);
	return r;
}

static int parse_sessions(json_t *root, struct ll_api_session_list *out,
			  struct ll_client_error *err)
{
	struct ll_api_session_list l = { 0 };
	json_t *arr, *o;
	int64_t v;
	size_t i;
	int r = LL_OK;

	arr = json_object_get(root, "sessions");
	if (!json_is_array(arr)) {
		r = schema_err(err, NULL, "sessions");
		goto out;
	}
	if (json_array_size(arr) > 0 &&
	    (l.sessions = calloc(json_array_size(arr), sizeof(*l.sessions))) ==
		    NULL) {
		r = LL_ERR_NOMEM;
		ll_client_error_set(err, r, 0, "out of memory");
		goto out;
	}
	json_array_foreach(arr, i, o)
	{
		struct ll_api_session_info *s = &l.sessions[i];

		l.n_sessions = i + 1;
		if (!json_is_object(o)) {
			r = schema_err(err, NULL, "sessions");
			goto out;
		}
		if ((r = get_str(o, "session_id", true, 128, &s->session_id,
				 err)) != 0 ||
		    (r = get_str(o, "state", true, 32, &s->state, err)) != 0 ||
		    (r = get_str(o, "lock", false, 32, &s->lock, err)) != 0 ||
		    (r = get_time(o, "created_at", true, &s->created_at,
				  err)) != 0 ||
		    (r = get_time(o, "expires_at", true, &s->expires_at,
				  err)) != 0 ||
		    (r = get_time(o, "connected_at", false, &s->connected_at,
				  err)) != 0 ||
		    (r = get_time(o, "ended_at", false, &s->ended_at, err)) !=
			    0 ||
		    (r = get_str(o, "end_reason", false, 1024, &s->end_reason,
				 err)) != 0)
			goto out;
		if ((r = get_int(o, "bytes_agent_to_applet", false, 0, &v,
				 err)) != 0)
			goto out;
		s->bytes_agent_to_applet = (uint64_t)v;
		if ((r = get_int(o, "bytes_applet_to_agent", false, 0, &v,
				 err)) != 0)
			goto out;
		s->bytes_applet_to_agent = (uint64_t)v;
	}
	*out = l;
	memset(&l, 0, sizeof(l));
out:
	ll_api_session_list_clear(&l);
	return r;
}

/* "/api/v1/sessions/ID[suffix]" with ID checked to be a plain token, so
 * it cannot change the path. */
static char *session_path(const char *id, const char *suffix,
			  struct ll_client_error *err)
{
	size_t i;

	if (id == NULL || id[0] == '\0' || strlen(id) > 128)
		goto bad;
	for (i = 0; id[i] != '\0'; i++)
		if (!g_ascii_isalnum(id[i]) && id[i] != '-' && id[i] != '_')
			goto bad;
	return g_strconcat("/api/v1/sessions/", id, suffix, NULL);
bad:
	ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
			    "that is not a session id");
	return NULL;
}

int ll_api_session_delete(struct ll_api_client *c, const char *session_id,
			  struct ll_client_error *err)
{
	char *path;
	int r;

	ll_client_error_clear(err);
	if ((r = need_token(c, err)) != 0)
		return r;
	if ((path = session_path(session_id, "", err)) == NULL)
		return LL_ERR_INVALID_ARG;
	r = call(c, "DELETE", path, c->token, NULL, 204, NULL, err);
	g_free(path);
	return r;
}

int ll_api_session_event(struct ll_api_client *c, const char *session_id,
			 const char *bearer, const char *type, uint32_t caps,
			 const char *reason, struct ll_client_error *err)
{
	json_t *body = NULL, *arr = NULL;
	char *path = NULL;
	uint32_t bit;
	int r;

	ll_client_error_clear(err);
	if (bearer == NULL && (r = need_token(c, err)) != 0)
		return r;
	if (c == NULL || type == NULL || (caps & ~LL_CAP_ALL) != 0) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "bad event arguments");
		return LL_ERR_INVALID_ARG;
	}
	if ((path = session_path(session_id, "/events", err)) == NULL)
		return LL_ERR_INVALID_ARG;
	r = LL_ERR_NOMEM;
	if ((body = json_pack("{s:s}", "type", type)) == NULL)
		goto bad;
	if (caps != 0) {
		if ((arr = json_array()) == NULL)
			goto bad;
		for (bit = 1; bit <= LL_CAP_ALL; bit <<= 1)
			if ((caps & bit) != 0 &&
			    json_array_append_new(arr,
						  json_string(ll_cap_name(bit))))
				goto bad;
		if (json_object_set(body, "capabilities", arr) != 0)
			goto bad;
	}
	if (reason != NULL &&
	    json_object_set_new(body, "reason", json_string(reason)) != 0)
		goto bad;
	r = call(c, "POST", path, bearer != NULL ? bearer : c->token, body,
		 204, NULL, err);
	goto out;
bad:
	r = LL_ERR_INVALID_ARG;
	ll_client_error_set(err, r, 0, "the event is not valid text");
out:
	json_decref(arr);
	json_decref(body);
	g_free(path);
	return r;
}

static int parse_redeem(json_t *root, struct ll_api_redeem *out,
			struct ll_client_error *err);

int ll_api_pin_redeem(struct ll_api_client *c, const char *pin,
		      const char *org, struct ll_api_redeem *out,
		      struct ll_client_error *err)
{
	json_t *body = NULL, *root = NULL;
	int r;

	ll_client_error_clear(err);
	if (c == NULL || pin == NULL || out == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "a PIN is needed");
		return LL_ERR_INVALID_ARG;
	}
	body = json_pack("{s:s}", "pin", pin);
	if (body != NULL && org != NULL &&
	    json_object_set_new(body, "org", json_string(org)) != 0) {
		json_decref(body);
		body = NULL;
	}
	if (body == NULL) {
		ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
				    "the PIN or org is not valid text");
		return LL_ERR_INVALID_ARG;
	}
	if ((r = call(c, "POST", "/api/v1/pins/redeem", NULL, body, 200,
		      &root, err)) != 0)
		goto out;
	r = parse_redeem(root, out, err);
out:
	json_wipe_member(root, "ticket");
	json_decref(root);
	json_wipe_member(body, "pin");
	json_decref(body);
	return r;
}

static int parse_redeem(json_t *root, struct ll_api_redeem *out,
			struct ll_client_error *err)
{
	struct ll_api_redeem d = { 0 };
	json_t *t;
	int r;

	t = json_object_get(root, "technician");
	if (!json_is_object(t)) {
		r = schema_err(err, NULL, "technician");
		goto out;
	}
	if ((r = get_str(root, "session_id", true, 128, &d.session_id,
			 err)) != 0 ||
	    (r = get_str(root, "ticket", true, 1024, &d.ticket, err)) != 0 ||
	    (r = get_str(t, "name", true, 1024, &d.technician.name, err)) !=
		    0 ||
	    (r = get_str(t, "org", true, 1024, &d.technician.org, err)) != 0 ||
	    (r = get_names(root, "capabilities", NULL, NULL, &d.capabilities,
			   err)) != 0 ||
	    (r = get_str(root, "stream_path", true, 256, &d.stream_path,
			 err)) != 0)
		goto out;
	if (d.stream_path[0] != '/') {
		r = schema_err(err, NULL, "stream_path");
		goto out;
	}
	d.technician.caps = d.capabilities;
	*out = d;
	memset(&d, 0, sizeof(d));
out:
	ll_api_redeem_clear(&d);
	return r;
}

/* ------------------------------------------------ parsers over the body */

int ll_api_parse_login(const char *body, size_t len, struct ll_api_login *out,
		       struct ll_client_error *err)
{
	json_t *root = NULL;
	int r;

	ll_client_error_clear(err);
	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = load_object(body, len, &root, err)) != 0)
		return r;
	r = parse_login(root, out, err);
	json_wipe_member(root, "token");
	json_decref(root);
	return r;
}

int ll_api_parse_mfa_token(const char *body, size_t len, char **mfa_token,
			   struct ll_client_error *err)
{
	json_t *root = NULL;
	int r;

	ll_client_error_clear(err);
	if (mfa_token == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = load_object(body, len, &root, err)) != 0)
		return r;
	r = parse_mfa_token(root, mfa_token, err);
	json_decref(root);
	return r;
}

int ll_api_parse_pin(const char *body, size_t len, struct ll_api_pin *out,
		     struct ll_client_error *err)
{
	json_t *root = NULL;
	int r;

	ll_client_error_clear(err);
	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = load_object(body, len, &root, err)) != 0)
		return r;
	r = parse_pin(root, out, err);
	json_wipe_member(root, "pin");
	json_wipe_member(root, "ticket");
	json_decref(root);
	return r;
}

int ll_api_parse_sessions(const char *body, size_t len,
			  struct ll_api_session_list *out,
			  struct ll_client_error *err)
{
	json_t *root = NULL;
	int r;

	ll_client_error_clear(err);
	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = load_object(body, len, &root, err)) != 0)
		return r;
	r = parse_sessions(root, out, err);
	json_decref(root);
	return r;
}

int ll_api_parse_redeem(const char *body, size_t len,
			struct ll_api_redeem *out,
			struct ll_client_error *err)
{
	json_t *root = NULL;
	int r;

	ll_client_error_clear(err);
	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = load_object(body, len, &root, err)) != 0)
		return r;
	r = parse_redeem(root, out, err);
	json_wipe_member(root, "ticket");
	json_decref(root);
	return r;
}
