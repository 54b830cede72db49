/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private helpers of common/client shared by its files.  The API client
 * is split along its jobs:
 *
 *   client_error.c  what went wrong: statuses, error bodies, libcurl
 *                   results to ll_err codes and sentences
 *   client_url.c    relay URLs checked and taken apart, API paths built
 *   api_curl.c      the client object and one request on libcurl
 *   api_parse.c     the strict parsers of the answers, the results' _clear
 *   api_client.c    one function per endpoint, on top of the three above
 *
 * stream.c uses the URL, libcurl and error helpers too.
 */
#ifndef LL_CLIENT_INTERNAL_H
#define LL_CLIENT_INTERNAL_H

#include <stdint.h>

#include <jansson.h>

#include "ll_api_client.h"
#include "ll_api_parse.h"

/* ---- errors (client_error.c) ---- */

/* Maps a libcurl result to an ll_err and a sentence naming the relay. */
int ll_client_curl_error(int curl_code, long os_errno, const char *errbuf,
			 const char *what, const char *url,
			 struct ll_client_error *err);

/* ll_client_error_from_body() is in ll_api_parse.h. */

/* ---- URLs (client_url.c) ---- */

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
/*
 * Whether u's host may be contacted at all: always without a list
 * (allowed_hosts NULL), else only when it is one of allowed_hosts (a
 * signed configuration's relay_hosts, ll_appconf.h).  Checked before
 * anything is sent, to the host or to a proxy; LL_ERR_CONFIG with err
 * filled when not.
 */
int ll_client_url_allowed(const char *allowed_hosts,
			  const struct ll_client_url *u,
			  struct ll_client_error *err);

/* "/api/v1/sessions/ID[suffix]" (g_free) with ID checked to be a plain
 * token, so it cannot change the path; NULL with err filled. */
char *ll_client_session_path(const char *id, const char *suffix,
			     struct ll_client_error *err);

/* ---- libcurl (api_curl.c) ---- */

/* Process-wide curl_global_init, once. */
void ll_client_curl_init(void);

/*
 * One request of c.  body: sent as compact JSON text (or NULL), the text
 * wiped after; bearer: NULL = none; expect: the success status.  On
 * success *resp (may be NULL) gets the answer as a JSON object (NULL for
 * an empty 204).  Any other status fills err from the API's error object;
 * then *err_root (may be NULL) gets that body as JSON when it is JSON.
 */
int ll_client_call(struct ll_api_client *c, const char *method,
		   const char *path, const char *bearer, json_t *body,
		   long expect, json_t **resp, json_t **err_root,
		   struct ll_client_error *err);
/* The bearer token set on c (secret), NULL when none. */
const char *ll_client_token(const struct ll_api_client *c);

/* ---- strict answers (api_parse.c) ---- */

/*
 * The body of a success answer as a JSON object: duplicate keys refused,
 * capped.  *out is the caller's (json_decref).
 */
int ll_client_load_object(const char *body, size_t len, json_t **out,
			  struct ll_client_error *err);
/* Wipes a string member's bytes in place before the object goes away
 * (jansson frees without wiping). */
void ll_client_json_wipe(json_t *obj, const char *key);

/* The answers' objects to results, as ll_api_parse.h describes them
 * (*out untouched on failure).  The secrets they read (token,
 * mfa_token, pin, ticket, sso_id) are wiped in root, success or not. */
int ll_client_parse_login(json_t *root, struct ll_api_login *out,
			  struct ll_client_error *err);
int ll_client_parse_mfa_token(json_t *root, char **out,
			      struct ll_client_error *err);
int ll_client_parse_pin(json_t *root, struct ll_api_pin *out,
			struct ll_client_error *err);
int ll_client_parse_sessions(json_t *root, struct ll_api_session_list *out,
			     struct ll_client_error *err);
int ll_client_parse_redeem(json_t *root, struct ll_api_redeem *out,
			   struct ll_client_error *err);
int ll_client_parse_join(json_t *root, struct ll_api_join *out,
			 struct ll_client_error *err);
/* ticket: the queue ticket the caller holds, the redeem's when picked */
int ll_client_parse_queue_status(json_t *root, const char *ticket,
				 struct ll_api_queue_status *out,
				 struct ll_client_error *err);
int ll_client_parse_queue_list(json_t *root, struct ll_api_queue_list *out,
			       struct ll_client_error *err);
int ll_client_parse_pickup(json_t *root, struct ll_api_pin *out,
			   struct ll_client_error *err);
int ll_client_parse_session_end(json_t *root, struct ll_api_session_end *out,
				struct ll_client_error *err);
int ll_client_parse_sso(json_t *root, struct ll_api_sso *out,
			struct ll_client_error *err);
int ll_client_parse_sso_pending(json_t *root, int64_t *poll_interval_s,
				struct ll_client_error *err);

#endif
