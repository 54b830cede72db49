/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to the API library of the relay (api/api*.c).
 *
 * Every API request, the stream upgrade included, runs as one action
 * through one envelope (api.c): the route table names its method, path
 * pattern, authentication, audit action and handler; the envelope opens
 * a store transaction and authenticates as the route says, the
 * handler does its work and fills the response plus an audit description
 * (struct ll_api_ctx), then the envelope appends exactly one audit record
 * and commits before the answer (2xx, or 101 for the stream) leaves.  A
 * refusal rolls the action back and is audited on its own; a failed audit
 * turns a success into 500 internal.  How to add an endpoint: see the
 * comment above the route table in api.c.
 */
#ifndef LL_RELAY_API_H
#define LL_RELAY_API_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <jansson.h>

#include "ll_relay.h"
#include "ll_store.h"

#define LL_API_ACTOR_MAX 160
/* Placeholders a path pattern may have, and a captured value's bytes. */
#define LL_API_PARAMS_MAX 4
#define LL_API_PARAM_MAX 128

/* A value captured from the path by a placeholder of the route. */
struct ll_api_param {
	const char *name;                 /* "id", "org", "name" */
	char value[LL_API_PARAM_MAX + 1]; /* decoded, valid for its kind */
	bool valid;                       /* false: see ll_api_param() */
};

struct ll_api_ctx {
	struct ll_relay *relay;
	const struct ll_api_request *req;
	struct ll_api_response *resp;
	int64_t now;
	bool upgrade;  /* serving the stream upgrade */
	bool page;     /* a route answered as the PIN page (ROUTE_PAGE) */
	bool sso_page; /* the SSO callback: refusals as a plain page */
	/* ROUTE_TICKET_DISABLED: a ticket of a disabled technician is let
	 * through (the applet asks why its session ended) */
	bool ticket_disabled_ok;
	struct ll_api_param params[LL_API_PARAMS_MAX];
	size_t n_params;
	/* who the envelope authenticated, as the route asked; owned */
	struct ll_technician *tech; /* the token's technician, or
					     * an agent-side ticket's */
	bool by_ticket;             /* session and side are the
					     * ticket's */
	enum ll_side side;
	struct ll_session *session; /* the session acted on, if any */
	/* audit record of this request */
	const char *action;           /* "login", "session.create" */
	char actor[LL_API_ACTOR_MAX]; /* "technician:alice", "applet" */
	int64_t org_id;
	char session_id[LL_SESSION_ID_LEN + 1]; /* "" when none */
	json_t *detail;                         /* owned; never secrets */
	/* A success that changed nothing and that its caller repeats every
	 * few seconds (a waiting applet asking again, the agent's queue
	 * view): not written to the audit.  Refusals always are. */
	bool audit_quiet;
	/* done after the commit, before the answer leaves */
	bool close_after;
	/* close_after, but only for a session whose stream was lost and
	 * waits in its grace (a side's `ended` report while it comes back) */
	bool close_if_interrupted;
	char close_reason[64];
	/* the envelope's own: its transaction, and the slow part of the
	 * work handed to the worker pool (ll_api_defer) */
	bool in_tx;
	bool deferred;
	void *job;
	void (*job_work)(void *job);
	void (*job_resume)(struct ll_api_ctx *ctx);
	void (*job_free)(void *job);
	/* a request held until something changes (ll_api_park) */
	bool parked;
	int64_t park_until;
	void (*park_resume)(struct ll_api_ctx *ctx);
	struct ll_api_response answer; /* resp of a dispatched request */
	/* Run after a refusal's rollback, before it is recorded: the few
	 * writes a refusal must leave behind (a wrong second-factor code
	 * counts toward the lock; mfa_required's login waits for its
	 * second step).  It may change the answer. */
	void (*after_rollback)(struct ll_api_ctx *ctx);
	int64_t mfa_tech_id;
	uint8_t mfa_hash[LL_HASH_LEN];
};

/*
 * Slow work (hashing or verifying a password) off the loop: the handler
 * fills a job of its own and returns; once the handler's transaction is
 * over the envelope runs work(job) on the worker pool, and when it is done
 * resume(ctx) on the loop in a new transaction, with ctx->job holding
 * the result.  resume ends like a handler (success or ll_api_fail) or
 * defers again; the envelope then audits, commits and answers as for any
 * request.  Nothing read before the gap may be trusted after it without
 * a second look (the technician may have changed meanwhile).
 * job_free(job) runs once the job is no longer needed; work must touch
 * only what job owns (ll_workpool.h).  A full queue is answered 429
 * rate_limited by the envelope.
 */
void ll_api_defer(struct ll_api_ctx *ctx, void (*work)(void *job),
		  void (*resume)(struct ll_api_ctx *ctx), void *job,
		  void (*job_free)(void *job));

/*
 * A long-poll: once the handler's transaction is committed the request
 * is held (no answer, no worker) until api_live.c resumes it: at
 * ll_api_live_changed, at until (ll_now_unix) or when the relay stops.
 * resume(ctx) then runs in a new transaction and ends like a handler.
 * The handler leaves the response a success; the caller bounds how many
 * are held.
 */
void ll_api_park(struct ll_api_ctx *ctx, int64_t until,
		 void (*resume)(struct ll_api_ctx *ctx));
/* The envelope's end of a held request (api.c): resume, answer, free. */
void ll_api_parked_resume(struct ll_api_ctx *ctx);

/* ---- the Live page (api_live.c) ---- */
/* What the Live page shows changed (a stream paired, was lost, ended;
 * capabilities were granted or revoked): the version counts up and the
 * held long-polls are answered soon after, on the loop. */
void ll_api_live_changed(struct ll_relay *relay);
/* The end user's answers (session events) as the Live page shows them:
 * consent adds caps, revoke takes them away (all when caps is empty). */
void ll_api_live_caps(struct ll_relay *relay, const char *session_id,
		      bool granted, const json_t *caps);
/* A session ended: its capabilities forgotten, the version counted up. */
void ll_api_live_ended(struct ll_relay *relay, const char *session_id);
/* The end user's address (their applet's stream) for the Live page. */
void ll_api_live_applet_addr(struct ll_relay *relay, const char *session_id,
			     const char *addr);
/* Once a second: answers the long-polls whose time is up. */
void ll_api_live_tick(struct ll_relay *relay, int64_t now);
/* Holds a parked request (the envelope's, api.c). */
void ll_api_live_hold(struct ll_relay *relay, struct ll_api_ctx *ctx);
/* The relay stops: every held long-poll answered (to nobody), freed. */
void ll_api_live_stop(struct ll_relay *relay);
void ll_api_handle_live(struct ll_api_ctx *ctx);

/* ---- helpers (api.c) ---- */
/* Appends a header line ("Name: value\r\n") to the answer.  After any
 * ll_api_fail (which starts the answer afresh). */
void ll_api_header_add(struct ll_api_ctx *ctx, const char *line);
/* Fills ctx->resp with the error and returns code (for `return api_..`). */
enum ll_api_code ll_api_fail(struct ll_api_ctx *ctx, enum ll_api_code code,
			     const char *message);
/* Answers status with body (stolen), or 500 internal_error when body is
 * NULL (a json_pack out of memory): false then. */
bool ll_api_answer(struct ll_api_ctx *ctx, int status, json_t *body);
/* Adds key: value to the audit detail (value reference is stolen). */
void ll_api_detail_set(struct ll_api_ctx *ctx, const char *key, json_t *value);
/* A JSON string of untrusted text through the display rule (ll_text.h),
 * at most max bytes.  Never NULL (json null on allocation failure). */
json_t *ll_api_json_text(const char *s, size_t max);

/* JSON body schema: a strict object. */
struct ll_api_field {
	const char *name;
	json_type type; /* JSON_STRING, JSON_ARRAY, ... */
	bool required;
	size_t max_len; /* strings: bytes; arrays: items; 0 = no cap */
};
/*
 * Parses the request body as a JSON object following fields[] (ends with
 * name == NULL).  An empty body counts as {} when allow_empty.  On error
 * fills the response (400 bad_request naming the field) and returns < 0.
 * *out is the parsed object (caller decrefs).
 */
int ll_api_parse_body(struct ll_api_ctx *ctx,
		      const struct ll_api_field *fields, bool allow_empty,
		      json_t **out);
/* Frees a parsed body (NULL is a no-op), first wiping the string members
 * named in secrets (ends with NULL): passwords, codes, PINs, credentials
 * must not linger in freed memory. */
void ll_api_body_free(json_t *body, const char *const *secrets);

/*
 * The value the route's placeholder `name` captured, or NULL when its
 * segment is not a valid value of that kind (a malformed session id):
 * handlers answer NULL like an unknown value, so the two look the same.
 */
const char *ll_api_param(const struct ll_api_ctx *ctx, const char *name);

/* True, with 401 unauthorized filled, when t's one-time password has
 * expired (only to be told to whoever showed they know it). */
bool ll_api_password_expired(struct ll_api_ctx *ctx,
			     const struct ll_technician *t);

/* Permissions of a technician as a JSON array (new reference). */
json_t *ll_api_permissions_json(const struct ll_technician *t);
/* A session's: what its tickets carry and its technician still holds
 * (the redeem answer's "capabilities"). */
json_t *ll_api_session_caps_json(const struct ll_session *s,
				 const struct ll_technician *t);
/* A permission mask as the array of its names, in table order. */
json_t *ll_api_perms_json(uint32_t mask);
bool ll_api_capability_known(const char *cap);
/* Who asks, as the end user's applet gets it (redeem, pickup): "name"
 * and "org" (the login name and the org's name, kept for older
 * applets), "display_name" and "org_display_name" (null when none was
 * set).  A new reference; NULL when out of memory. */
json_t *ll_api_technician_shown(const struct ll_technician *t);

/* A session's tickets may still report events (POST .../events) this long
 * after its end, so that the closing reports of both sides ("ended",
 * sent while the streams close) reach the audit; streams never. */
#define LL_API_TICKET_GRACE_S 30
/*
 * Is the session over at now: ended or expired, or past a deadline the
 * once-a-second sweep has not yet acted on -- an unredeemed PIN past its
 * expires_at, a redeemed session whose streams have not met within
 * pin_lifetime_s of the redeem (api_stream.c)?
 */
bool ll_api_session_over(const struct ll_relay *relay,
			 const struct ll_session *s, int64_t now);

/* Lowercase hex of 16 CSPRNG bytes into out[33]. */
int ll_api_new_session_id(char out[LL_SESSION_ID_LEN + 1]);
bool ll_api_session_id_valid(const char *s);

/* RFC 3339 string or JSON null for 0. */
json_t *ll_api_time_json(int64_t unix_seconds);

/* Appends one audit record outside the per-request flow (stream events,
 * periodic work).  Logs on failure. */
int ll_api_audit(struct ll_relay *relay, int64_t org_id, const char *actor,
		 const char *action, const char *outcome,
		 const char *source_ip, const char *session_id,
		 json_t *detail);

/* ---- refusals, aggregated (refusals.c) ---- */
#define LL_REFUSALS_MAX 4096     /* keys in one window's table */
#define LL_REFUSALS_AUTH_ROWS 20 /* single rows per window, proven caller */
/*
 * Counts one refusal under its key.  True when it is to be written as its
 * own record now (the first of its key in this window, or one of the first
 * LL_REFUSALS_AUTH_ROWS of an authenticated caller's); false when it is
 * only counted for the window's summary.  may_write false: counted in any
 * case (a refusal that must not touch the store).
 */
bool ll_api_refusal_note(struct ll_relay *relay, const char *source_ip,
			 const char *action, const char *outcome,
			 const char *actor, int64_t org_id, bool authenticated,
			 bool may_write, int64_t now);
/* Writes the summary records of the window and starts a new one. */
void ll_api_refusals_flush(struct ll_relay *relay, int64_t now);
/* Flushes when refusal_window_s have passed (once a second). */
void ll_api_refusals_tick(struct ll_relay *relay, int64_t now);
void ll_api_refusals_free(struct ll_relay *relay);

/* ---- handlers, one per row of the route table (api.c) ---- */
void ll_api_handle_login(struct ll_api_ctx *ctx);
void ll_api_handle_login_mfa(struct ll_api_ctx *ctx);
void ll_api_handle_mfa_enroll(struct ll_api_ctx *ctx);
void ll_api_handle_mfa_confirm(struct ll_api_ctx *ctx);
/* The end of every successful login (api_login.c): a token for t, and
 * the login's 200.  enrol_required: the org asks for a second factor t
 * does not have yet (the token may then only enrol). */
void ll_api_login_issue(struct ll_api_ctx *ctx, const struct ll_technician *t,
			bool enrol_required);
/*
 * The second factor's part of a password login (api_mfa.c), once the
 * password checked: true when it answered (401 mfa_required with an
 * mfa_token, 403 account_locked, 500); false to go on with the token,
 * *enrol_required telling whether the org wants t to enrol first.
 */
bool ll_api_mfa_login(struct ll_api_ctx *ctx, const struct ll_technician *t,
		      bool *enrol_required);
/* Does the org of t want a second factor that t has not set up? */
int ll_api_mfa_enrol_required(struct ll_api_ctx *ctx,
			      const struct ll_technician *t, bool *out);
void ll_api_handle_logout(struct ll_api_ctx *ctx);
/* single sign-on (api_sso.c) */
void ll_api_handle_login_sso(struct ll_api_ctx *ctx);
void ll_api_handle_sso_callback(struct ll_api_ctx *ctx);
void ll_api_handle_login_sso_token(struct ll_api_ctx *ctx);
/* The callback's refusal as the plain page a browser shows. */
void ll_api_sso_page_refused(struct ll_api_ctx *ctx);
/* Once a second: drops the sign-ins past their lifetime. */
void ll_api_sso_sweep(struct ll_relay *relay);
/* Frees the sign-ins in flight (ll_api_shutdown). */
void ll_api_sso_close(struct ll_relay *relay);
void ll_api_handle_password_change(struct ll_api_ctx *ctx);
void ll_api_handle_session_create(struct ll_api_ctx *ctx);
void ll_api_handle_session_list(struct ll_api_ctx *ctx);
void ll_api_handle_session_delete(struct ll_api_ctx *ctx);
void ll_api_handle_session_event(struct ll_api_ctx *ctx);
/* GET /api/v1/sessions/ID/end (api_session_end.c): the applet learns why
 * the relay ended its session. */
void ll_api_handle_session_end(struct ll_api_ctx *ctx);
/* The fixed code of a session's end ("permission_withdrawn", "closed",
 * ...), NULL while it is not over. */
const char *ll_api_end_code(const struct ll_session *s);
/* End reasons the relay itself writes (the store's end_reason). */
#define LL_END_PERMISSION_WITHDRAWN "permission withdrawn"
#define LL_END_TECHNICIAN_DISABLED "technician disabled"
/* api_chat.c: the chat transcript (policy keep_chat) */
void ll_api_handle_chat_post(struct ll_api_ctx *ctx);
void ll_api_handle_chat_get(struct ll_api_ctx *ctx);
void ll_api_handle_pin_redeem(struct ll_api_ctx *ctx);
void ll_api_handle_pin_check(struct ll_api_ctx *ctx);
void ll_api_handle_pin_preflight(struct ll_api_ctx *ctx);
/* the PIN page (api_page.c) */
void ll_api_handle_page_default(struct ll_api_ctx *ctx);
void ll_api_handle_page(struct ll_api_ctx *ctx);
void ll_api_handle_page_post(struct ll_api_ctx *ctx);
void ll_api_handle_page_css(struct ll_api_ctx *ctx);
void ll_api_handle_page_js(struct ll_api_ctx *ctx);
void ll_api_handle_page_logo(struct ll_api_ctx *ctx);
void ll_api_handle_page_applet(struct ll_api_ctx *ctx);

/* ---- PIN checks (api_pins.c) ---- */
/* What runs once every rule of a PIN passed (s and t are the caller's). */
typedef void (*ll_api_pin_then)(struct ll_api_ctx *ctx,
				const struct ll_session *s,
				const struct ll_technician *t, void *user);
/*
 * Every rule of POST /api/v1/pins/redeem but its rate limit per address
 * (the caller's first step), in its order: the guess budget of org (or of
 * the relay), the PIN (known, unused, org's), its lifetime, its lock (the
 * request's Origin against allowed_origins), its technician.  Then
 * then(ctx, ...) does the caller's part (a redeem, or an answer that only
 * says the PIN is good).  Every failure that looked at the PIN, then's
 * included, spends one guess, the same for each caller; the CORS headers
 * of the PIN endpoints are added at the end.  Results are in ctx->resp.
 */
void ll_api_pin_check(struct ll_api_ctx *ctx, const char *pin, const char *org,
		      ll_api_pin_then then, void *user);
/* What a redeem may carry besides the PIN: the org it names, and the
 * proofs of where it comes from for locked PINs (docs/API.md). */
struct ll_api_pin_ask {
	const char *pin;
	const char *org;     /* NULL: none named */
	const char *launch;  /* the PIN page's launch token (website) */
	const char *channel; /* a channel credential (shortcut) */
	/* the applet's signed configuration, as text (shortcut) */
	const char *applet_config;
	bool redeem; /* a redeem (not the PIN page's check) */
};
void ll_api_pin_check_ask(struct ll_api_ctx *ctx,
			  const struct ll_api_pin_ask *ask,
			  ll_api_pin_then then, void *user);
/* The launch token of a website-locked session (malloc'd), else NULL. */
char *ll_api_launch_token_new(struct ll_api_ctx *ctx,
			      const struct ll_session *s);
/* The channel of a credential (api_channels.c): 401 unauthorized filled
 * when it is none. */
int ll_api_channel_of_credential(struct ll_api_ctx *ctx, const char *cred,
				 struct ll_channel **out);

/* ---- the PIN page (api_page.c) ---- */
/* The answer of a check that passed (POST /api/v1/pins/check), an
 * ll_api_pin_then whose user is a (const char **) to the PIN: where to
 * go next, and who the technician is. */
void ll_api_page_check_answer(struct ll_api_ctx *ctx,
			      const struct ll_session *s,
			      const struct ll_technician *t, void *user);
/* A refused request to a page route: its answer becomes the page with
 * the refusal in plain words (the JSON error object goes). */
void ll_api_page_refused(struct ll_api_ctx *ctx);
/* Frees the page's state (ll_api_shutdown). */
void ll_api_page_close(struct ll_relay *relay);
void ll_api_handle_stream_open(struct ll_api_ctx *ctx);
void ll_api_handle_channel_join(struct ll_api_ctx *ctx);
void ll_api_handle_queue_wait(struct ll_api_ctx *ctx);
void ll_api_handle_queue_cancel(struct ll_api_ctx *ctx);
void ll_api_handle_queue_list(struct ll_api_ctx *ctx);
void ll_api_handle_queue_pickup(struct ll_api_ctx *ctx);
void ll_api_handle_policy_get(struct ll_api_ctx *ctx);
void ll_api_handle_technician_list(struct ll_api_ctx *ctx);
void ll_api_handle_technician_add(struct ll_api_ctx *ctx);
void ll_api_handle_technician_patch(struct ll_api_ctx *ctx);
void ll_api_handle_technician_unlock(struct ll_api_ctx *ctx);
void ll_api_handle_technician_mfa_reset(struct ll_api_ctx *ctx);
void ll_api_handle_technician_password(struct ll_api_ctx *ctx);
/* The client's address for org_id's rules: the peer, or what a proxy of
 * the org's trusted_proxies says in Forwarded / X-Forwarded-For. */
int ll_api_client_addr(struct ll_api_ctx *ctx, int64_t org_id, char *out,
		       size_t outlen);
/* Outside org_id's technician_cidrs (or an internal error): fills the
 * refusal (403 ip_not_allowed) and returns true. */
bool ll_api_technician_ip_refused(struct ll_api_ctx *ctx, int64_t org_id);
/* The same for a PIN of org_id redeemed outside its end_user_cidrs, or
 * outside those of its technician t's group (403
 * end_user_ip_not_allowed; t may be NULL: the org's only). */
bool ll_api_end_user_ip_refused(struct ll_api_ctx *ctx, int64_t org_id,
				const struct ll_technician *t);
void ll_api_handle_policy_put(struct ll_api_ctx *ctx);
/* Technician groups (api_groups.c): GET/POST /api/v1/groups,
 * PUT/DELETE /api/v1/groups/{name}, PUT
 * /api/v1/technicians/{name}/group; administrators only. */
void ll_api_handle_group_list(struct ll_api_ctx *ctx);
void ll_api_handle_group_add(struct ll_api_ctx *ctx);
void ll_api_handle_group_set(struct ll_api_ctx *ctx);
void ll_api_handle_group_delete(struct ll_api_ctx *ctx);
void ll_api_handle_technician_group(struct ll_api_ctx *ctx);

/* Makes sure relay->rl_login, rl_redeem and rl_session_create exist and
 * follow relay->cfg. */
int ll_api_ratelimits_sync(struct ll_relay *relay);
/* 429 rate_limited with Retry-After when the address is over its rate. */
int ll_api_ratelimit_check(struct ll_api_ctx *ctx, struct ll_ratelimit *rl);

/* ---- what the core calls through ll_api_ops (ll_relay_api_ops) ---- */
enum ll_api_dispatch ll_api_dispatch(struct ll_relay *relay,
				     const struct ll_api_request *req,
				     struct ll_api_response *resp);
int ll_api_stream_authorize(struct ll_relay *relay,
			    const struct ll_api_request *req,
			    char session_id_out[LL_SESSION_ID_LEN + 1],
			    enum ll_side *side_out,
			    struct ll_api_response *refusal);
void ll_api_stream_paired(struct ll_relay *relay, const char *session_id,
			  bool resumed);
void ll_api_stream_interrupted(struct ll_relay *relay, const char *session_id,
			       const char *reason);
void ll_api_stream_ended(struct ll_relay *relay, const char *session_id,
			 const char *reason, uint64_t bytes_agent_to_applet,
			 uint64_t bytes_applet_to_agent);
void ll_api_periodic(struct ll_relay *relay);
/* Once a second (ll_api_periodic): audits a guess budget that became
 * exhausted or recovered, and updates its /metrics gauge (api_pins.c). */
void ll_api_redeem_budgets_sweep(struct ll_relay *relay);
/* Once a second (ll_api_periodic): ends queue entries whose waiting
 * applet stopped asking or that waited too long, audits each, and
 * updates the queue's /metrics gauge (api_channels.c). */
void ll_api_queue_sweep(struct ll_relay *relay);

#endif
