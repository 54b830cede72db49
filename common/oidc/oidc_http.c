/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HTTPS to the identity provider on libcurl (ll_oidc.h): one easy handle
 * per call, on a worker thread of the relay (it blocks).  Verification is
 * always on; ca_file, when given, is the provider's only trust anchor.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_oidc.h"

struct answer {
	char *data;
	size_t len;
	bool too_large;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t answer_write(char *ptr, size_t size, size_t nmemb, void *user)
{
	struct answer *a = user;
	size_t n = size * nmemb;
	char *nd;

	if (n > LL_OIDC_MAX_ANSWER || a->len + n > LL_OIDC_MAX_ANSWER) {
		a->too_large = true;
		return 0;
	}
	if ((nd = realloc(a->data, a->len + n + 1)) == NULL)
		return 0;
	memcpy(nd + a->len, ptr, n);
	a->data = nd;
	a->len += n;
	a->data[a->len] = '\0';
	return n;
}

static int curl_err(CURLcode cc, const struct answer *a)
{
	switch (cc) {
	case CURLE_OK:
		return LL_OK;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return LL_ERR_TLS_VERIFY;
	case CURLE_OPERATION_TIMEDOUT:
		return LL_ERR_TIMEOUT;
	case CURLE_WRITE_ERROR:
		return a->too_large ? LL_ERR_TOO_LARGE : LL_ERR_NOMEM;
	case CURLE_OUT_OF_MEMORY:
		return LL_ERR_NOMEM;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return LL_ERR_INVALID_ARG;
	default:
		return LL_ERR_IO;
	}
}

static CURLcode setup(CURL *c, const char *url, const struct ll_oidc_http *o,
		      struct answer *a)
{
	long tmo = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	CURLcode cc;

	if ((cc = curl_easy_setopt(c, CURLOPT_URL, url)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https")) !=
		    CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L)) !=
		    CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L)) !=
		    CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L)) !=
		    CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_SSLVERSION,
				   (long)CURL_SSLVERSION_TLSv1_2)) !=
		    CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, tmo)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
				   (curl_off_t)LL_OIDC_MAX_ANSWER)) !=
		    CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_USERAGENT, "lifeline-relay")) !=
		    CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, answer_write)) !=
		    CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_WRITEDATA, a)) != CURLE_OK)
		return cc;
	if (o->ca_file != NULL &&
	    ((cc = curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file)) !=
		     CURLE_OK ||
	     (cc = curl_easy_setopt(c, CURLOPT_CAPATH, NULL)) != CURLE_OK))
		return cc;
	if (o->basic_user != NULL && o->basic_secret != NULL &&
	    ((cc = curl_easy_setopt(c, CURLOPT_HTTPAUTH,
				    (long)CURLAUTH_BASIC)) != CURLE_OK ||
	     (cc = curl_easy_setopt(c, CURLOPT_USERNAME, o->basic_user)) !=
		     CURLE_OK ||
	     (cc = curl_easy_setopt(c, CURLOPT_PASSWORD, o->basic_secret)) !=
		     CURLE_OK))
		return cc;
	return CURLE_OK;
}

int ll_oidc_http_fetch(const char *url, const char *form,
		       const struct ll_oidc_http *o, char **body_out,
		       size_t *len_out, long *status_out)
{
	struct answer a = { NULL, 0, false };
	struct curl_slist *hdrs = NULL;
	CURLcode cc;
	CURL *c;
	long status = 0;
	int r;

	if (url == NULL || strncmp(url, "https://", 8) != 0 || o == NULL)
		return LL_ERR_INVALID_ARG;
	pthread_once(&curl_once, curl_init_once);
	if ((c = curl_easy_init()) == NULL)
		return LL_ERR_NOMEM;
	cc = setup(c, url, o, &a);
	if (cc == CURLE_OK) {
		hdrs = curl_slist_append(NULL, "Accept: application/json");
		if (hdrs == NULL)
			cc = CURLE_OUT_OF_MEMORY;
	}
	if (cc == CURLE_OK && form != NULL) {
		cc = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
				      (long)strlen(form));
		if (cc == CURLE_OK)
			cc = curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	}
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (cc == CURLE_OK)
		cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		cc = curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if ((r = curl_err(cc, &a)) == LL_OK && a.data == NULL &&
	    (a.data = calloc(1, 1)) == NULL)
		r = LL_ERR_NOMEM;
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	if (r != LL_OK) {
		if (a.data != NULL)
			ll_wipe(a.data, a.len);
		free(a.data);
		return r;
	}
	*body_out = a.data;
	*len_out = a.len;
	*status_out = status;
	return LL_OK;
}
