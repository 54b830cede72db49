/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The API client's transport on libcurl (the rules are in
 * ll_api_client.h): the client with its one easy handle, so that calls
 * reuse the TLS connection; the trust settings; one request with its
 * answer capped at LL_API_MAX_RESPONSE.  Request and answer bodies may
 * hold secrets: every copy made here is wiped.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <glib.h>
#include <jansson.h>

#include "client_internal.h"
#include "ll_api_client.h"
#include "ll_crypto.h"
#include "ll_util.h"

struct ll_api_client {
	CURL *curl;
	char *url;     /* base, no trailing '/' */
	char *token;   /* secret */
	char *ca_blob; /* system bundle + ca_file + ca_pem, or NULL */
	size_t ca_blob_len;
	const atomic_bool *cancel; /* another thread's "give up", or NULL */
	char errbuf[CURL_ERROR_SIZE];
};

/* A response body, capped before it grows. */
struct body {
	uint8_t *data;
	size_t len, cap;
	bool too_large;
};

void ll_client_curl_init(void)
{
	static gsize once;

	if (g_once_init_enter(&once)) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		g_once_init_leave(&once, 1);
	}
}

/*
 * ca_file and ca_pem are extra anchors: libcurl's CAINFO would replace
 * the system bundle, so hand it the system bundle with them appended
 * instead (without it under no_system_cas).  When the default bundle
 * cannot be read and there is no ca_pem, ca_file alone goes to CAINFO
 * (and the default CA path, if libcurl has one, still applies).
 */
static int build_ca_blob(struct ll_api_client *c,
			 const struct ll_relay_opts *o,
			 struct ll_client_error *err)
{
	char *sys_path = NULL, *sys = NULL, *extra = NULL;
	gsize sys_len = 0, extra_len = 0;
	GError *gerr = NULL;
	GString *blob;
	int r = LL_ERR_CONFIG;

	if (o->ca_file != NULL &&
	    !g_file_get_contents(o->ca_file, &extra, &extra_len, &gerr)) {
		ll_client_error_set(err, r, 0, "cannot read the CA file: %s",
				    gerr->message);
		g_error_free(gerr);
		return r;
	}
	if (!o->no_system_cas &&
	    (curl_easy_getinfo(c->curl, CURLINFO_CAINFO, &sys_path) !=
		     CURLE_OK ||
	     sys_path == NULL ||
	     !g_file_get_contents(sys_path, &sys, &sys_len, NULL)) &&
	    o->ca_pem == NULL) {
		/* No readable default bundle: CAINFO = ca_file. */
		g_free(extra);
		return LL_OK;
	}
	blob = g_string_new(NULL);
	if (sys != NULL)
		g_string_append_len(g_string_append_len(blob, sys,
							(gssize)sys_len),
				    "\n", 1);
	if (extra != NULL)
		g_string_append_len(g_string_append_len(blob, extra,
							(gssize)extra_len),
				    "\n", 1);
	if (o->ca_pem != NULL)
		g_string_append(blob, o->ca_pem);
	c->ca_blob_len = blob->len;
	if ((c->ca_blob = malloc(c->ca_blob_len)) == NULL) {
		c->ca_blob_len = 0;
		r = LL_ERR_NOMEM;
		ll_client_error_set(err, r, 0, "out of memory");
	} else {
		memcpy(c->ca_blob, blob->str, blob->len);
		r = LL_OK;
	}
	g_string_free(blob, TRUE);
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
	if (o->no_system_cas && o->ca_file == NULL && o->ca_pem == NULL) {
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
	if (ll_client_url_parse(o->url, &u, err) != 0 ||
	    ll_client_url_allowed(o->allowed_hosts, &u, err) != 0) {
		ll_client_url_clear(&u);
		return NULL;
	}
	ll_client_curl_init();
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->curl = curl_easy_init()) == NULL) {
		ll_client_error_set(err, LL_ERR_NOMEM, 0, "out of memory");
		goto fail;
	}
	c->url = u.base;
	u.base = NULL;
	if (((o->ca_file != NULL && !o->no_system_cas) || o->ca_pem != NULL) &&
	    (r = build_ca_blob(c, o, err)) != 0)
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
	    /* A redirect is an answer like any other, never followed:
	     * the relay is the URL's host and no other. */
	    curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L) !=
		    CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_MAXREDIRS, 0L) != CURLE_OK ||
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
			    CURLE_OK ||
		    (o->no_system_cas &&
		     curl_easy_setopt(c->curl, CURLOPT_CAPATH, NULL) !=
			     CURLE_OK)) {
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

const char *ll_client_token(const struct ll_api_client *c)
{
	return c != NULL ? c->token : NULL;
}

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

/* GET and DELETE without a body; POST and PUT with body_json (or an
 * empty one). */
static void set_method(CURL *curl, const char *method, const char *body_json)
{
	const char *pb = body_json != NULL ? body_json : "";

	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, NULL);
	if (strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
		if (method[0] == 'D')
			curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST,
					 "DELETE");
		return;
	}
	/* POSTFIELDS, not COPYPOSTFIELDS: no copy of secrets. */
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(pb));
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, pb);
	if (strcmp(method, "POST") != 0)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
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
	set_method(c->curl, method, body_json);
	cc = curl_easy_perform(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
	if (cc != CURLE_OK) {
		if (b.too_large) {
			r = LL_ERR_TOO_LARGE;
			ll_client_error_set(err, r, 0,
					    "the relay's answer is over %u "
					    "bytes",
					    LL_API_MAX_RESPONSE);
			goto out;
		}
		if (cc == CURLE_ABORTED_BY_CALLBACK) {
			r = LL_ERR_TIMEOUT;
			ll_client_error_set(err, r, 0,
					    "gave up waiting for the relay at "
					    "%s",
					    c->url);
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
		r = ll_client_error_from_body((int)status,
					      (const char *)b.data, b.len,
					      (long)retry, err);
		if (err_root != NULL && b.len > 0)
			*err_root = json_loadb((const char *)b.data, b.len,
					       JSON_REJECT_DUPLICATES, NULL);
		if (err != NULL && status >= 200 && status < 300) {
			/* A success we did not expect is a broken relay. */
			r = LL_ERR_PROTOCOL;
			ll_client_error_set(err, r, (int)status,
					    "the relay answered HTTP %ld where "
					    "%ld was expected",
					    status, expect);
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
		if ((r = ll_client_load_object((const char *)b.data, b.len,
					       &root, err)) != 0) {
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

/* body as JSON text for request(); the text is wiped here, the members
 * of body by the caller. */
int ll_client_call(struct ll_api_client *c, const char *method,
		   const char *path, const char *bearer, json_t *body,
		   long expect, json_t **resp, json_t **err_root,
		   struct ll_client_error *err)
{
	char *text = NULL;
	int r;

	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		ll_client_error_set(err, LL_ERR_NOMEM, 0, "out of memory");
		return LL_ERR_NOMEM;
	}
	r = request(c, method, path, bearer, text, expect, resp, err_root,
		    err);
	ll_secret_free(text);
	return r;
}
