/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private helpers of common/client shared by its files. */
#ifndef LL_CLIENT_INTERNAL_H
#define LL_CLIENT_INTERNAL_H

#include <stdint.h>

#include "ll_api_client.h"
#include "ll_api_parse.h"

/* A relay URL taken apart. */
struct ll_client_url {
	char *base;     /* "https://HOST[:PORT]" without a trailing '/' */
	char *host;     /* without IPv6 brackets, for TLS verification */
	char *host_hdr; /* as in the URL (brackets kept), for Host: */
	uint16_t port;
};

/* Checks and splits an https:// relay URL (no path but "/", no query,
 * fragment or credentials).  LL_ERR_INVALID_ARG with err filled. */
int ll_client_url_parse(const char *url, struct ll_client_url *out,
			struct ll_client_error *err);
void ll_client_url_clear(struct ll_client_url *u);

/* Process-wide curl_global_init, once. */
void ll_client_curl_init(void);

/* Maps a libcurl result to an ll_err and a sentence naming the relay. */
int ll_client_curl_error(int curl_code, long os_errno, const char *errbuf,
			 const char *what, const char *url,
			 struct ll_client_error *err);

/* ll_client_error_from_body() is in ll_api_parse.h. */

#endif
