/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The parsers of the relay's answers behind ll_api_client.h, over the
 * body bytes libcurl collected (api_parse.c): the calls of api_client.c
 * run every answer through exactly the same functions, and
 * tests/fuzz/fuzz_client_api.c feeds them hostile bytes (a relay, or
 * whatever sits between, is not trusted to send sane JSON).
 *
 * Strict: the body is one JSON object (duplicate keys refused, at most
 * LL_API_MAX_RESPONSE bytes); required members present with the right
 * JSON type; strings without NUL and within their caps; times RFC 3339;
 * a PIN is 6..10 digits (ll_pin_well_formed); stream_path starts with '/'.  Members not named are
 * ignored (the API may grow).
 *
 * Each returns LL_OK with *out filled (the caller clears it with the
 * matching ll_api_*_clear, which wipes the secrets), or a negative ll_err
 * with *out untouched and err filled (err may be NULL):
 *   LL_ERR_TOO_LARGE  body over LL_API_MAX_RESPONSE
 *   LL_ERR_BAD_JSON   not JSON, trailing bytes, duplicate keys, no body
 *   LL_ERR_SCHEMA     not an object, a member missing, wrong or too long
 *   LL_ERR_NOMEM
 * Secrets in the body (token, ticket, PIN) are wiped in the parser's own
 * copies; the body itself is the caller's to wipe.
 */
#ifndef LL_API_PARSE_H
#define LL_API_PARSE_H

#include <stddef.h>

#include "ll_api_client.h"

/* 200 of POST /api/v1/login and /login/mfa: token, expires_in,
 * password_change_required (a boolean; absent is false), technician {id,
 * name, org, permissions}.  The token is not kept anywhere but *out. */
int ll_api_parse_login(const char *body, size_t len, struct ll_api_login *out,
		       struct ll_client_error *err);
/* 401 mfa_required of POST /api/v1/login: the mfa_token, at the top level
 * or inside the error object; *mfa_token is a secret (wipe, free()). */
int ll_api_parse_mfa_token(const char *body, size_t len, char **mfa_token,
			   struct ll_client_error *err);
/* 201 of POST /api/v1/sessions: session_id, pin, expires_at, ticket. */
int ll_api_parse_pin(const char *body, size_t len, struct ll_api_pin *out,
		     struct ll_client_error *err);
/* 200 of GET /api/v1/sessions: {"sessions": [...]}. */
int ll_api_parse_sessions(const char *body, size_t len,
			  struct ll_api_session_list *out,
			  struct ll_client_error *err);
/* 200 of POST /api/v1/pins/redeem. */
int ll_api_parse_redeem(const char *body, size_t len,
			struct ll_api_redeem *out,
			struct ll_client_error *err);
/* 201 of POST /api/v1/channels/join. */
int ll_api_parse_join(const char *body, size_t len, struct ll_api_join *out,
		      struct ll_client_error *err);
/* 200 of GET /api/v1/queue/entry; ticket is the queue ticket the caller
 * holds (the picked answer's, which the relay does not send again). */
int ll_api_parse_queue_status(const char *body, size_t len, const char *ticket,
			      struct ll_api_queue_status *out,
			      struct ll_client_error *err);
/* 200 of GET /api/v1/sessions/ID/end: state (required) and end_reason
 * (null while not over), each a word of [a-z_] within its array. */
int ll_api_parse_session_end(const char *body, size_t len,
			     struct ll_api_session_end *out,
			     struct ll_client_error *err);
/* 200 of GET /api/v1/queue. */
int ll_api_parse_queue_list(const char *body, size_t len,
			    struct ll_api_queue_list *out,
			    struct ll_client_error *err);
/* 201 of POST /api/v1/queue/ID/pickup (pin NULL). */
int ll_api_parse_pickup(const char *body, size_t len, struct ll_api_pin *out,
			struct ll_client_error *err);
/* 200 of POST /api/v1/login/sso: authorize_url (https://, at most 8192
 * bytes), sso_id (at most 64; secret), expires_in (>= 1), poll_interval
 * (1..60). */
int ll_api_parse_sso(const char *body, size_t len, struct ll_api_sso *out,
		     struct ll_client_error *err);
/* 202 of POST /api/v1/login/sso/token: {"status": "pending",
 * "poll_interval"} (1..60) into *poll_interval_s. */
int ll_api_parse_sso_pending(const char *body, size_t len,
			     int64_t *poll_interval_s,
			     struct ll_client_error *err);

/*
 * Fills err from an HTTP error answer whose body may be the API's error
 * object {"error": {"code", "message"}} (anything else is tolerated: a
 * proxy's HTML page); returns the ll_err for the status and code.  The
 * relay's text arrives with its control characters replaced by '?'.
 */
int ll_client_error_from_body(int status, const char *body, size_t len,
			      long retry_after, struct ll_client_error *err);

#endif
