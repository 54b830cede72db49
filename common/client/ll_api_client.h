/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Blocking client of the relay's HTTP API (docs/API.md) on libcurl, shared by
 * the applet and the agent.  No GTK: GUI code calls these from a worker
 * thread (GTask), never from the main loop.  One struct ll_api_client
 * belongs to one thread at a time (it keeps one curl handle, so the TLS
 * connection is reused between calls).
 *
 * Transport rules (docs/ARCHITECTURE.md, The clients inside):
 *  - https:// only; redirects are not followed.
 *  - Proxies come from the environment exactly as libcurl reads them
 *    (https_proxy / HTTPS_PROXY / all_proxy, no_proxy).
 *  - TLS 1.2 minimum; peer and host verification always on (there is no
 *    switch to turn them off).
 *  - ca_file is an EXTRA trust anchor (docs/API.md `--ca FILE`), as in
 *    ll_tls_client_opts: libcurl's CURLOPT_CAINFO would replace the system
 *    bundle, so the client hands libcurl the system bundle (CURLINFO_CAINFO
 *    default path) with ca_file appended, as an in-memory CAINFO blob.
 *    With no_system_cas only ca_file is trusted (tests).  ca_pem is one
 *    more extra anchor, as text (ll_appconf.h relay_ca), added the same
 *    way to libcurl and to the stream's TLS context.
 *  - spki_pin ("sha256//BASE64", curl's format) goes to
 *    CURLOPT_PINNEDPUBLICKEY, checked in addition to verification.
 *  - Responses are capped (LL_API_MAX_RESPONSE) and parsed strictly with
 *    jansson: a missing or mistyped member is LL_ERR_SCHEMA.
 *  - Tokens, tickets, passwords and PINs are never logged; the client
 *    wipes its copies (request bodies, response bodies, the stored token).
 *
 * Every call returns LL_OK or a negative ll_err and, on failure, fills the
 * caller's struct ll_client_error (may be NULL) with a sentence fit for a
 * person.  Outputs are untouched on failure.
 */
#ifndef LL_API_CLIENT_H
#define LL_API_CLIENT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <jansson.h>

#define LL_API_MAX_RESPONSE (1024u * 1024u)
#define LL_API_DEFAULT_TIMEOUT_MS 30000
#define LL_API_DEFAULT_CONNECT_TIMEOUT_MS 10000

/*
 * Where the relay is and how to trust it; shared by ll_api_client and
 * ll_stream.  Strings are copied by the functions that take this.
 */
struct ll_relay_opts {
	const char *url;      /* "https://HOST[:PORT]" (a trailing '/'
				   * is fine, any other path is refused) */
	const char *ca_file;  /* extra trust anchor (PEM) or NULL */
	const char *ca_pem;   /* another as PEM text (a signed applet
				 * configuration's relay_ca) or NULL */
	bool no_system_cas;   /* trust only ca_file (tests) */
	const char *spki_pin; /* "sha256//BASE64" or NULL */
	/* "h1,h2": the only hosts that may be contacted (a signed applet
	 * configuration's relay_hosts, ll_appconf.h), checked before any
	 * byte goes to the relay or to a proxy; NULL: any.  Redirects are
	 * never followed, whatever this says. */
	const char *allowed_hosts;
	int timeout_ms;         /* whole request; 0 = default */
	int connect_timeout_ms; /* TCP + proxy + TLS; 0 = default */
};

/*
 * ll_relay_opts that owns its strings: for a worker thread or an object
 * that outlives the caller's opts.  .opts points into the copies.
 * ll_relay_opts_copy_clear() frees them (and is safe on a zeroed one).
 */
struct ll_relay_opts_copy {
	struct ll_relay_opts opts;
	char *url, *ca_file, *ca_pem, *spki_pin, *allowed_hosts;
};
void ll_relay_opts_copy_init(struct ll_relay_opts_copy *c,
			     const struct ll_relay_opts *o);
void ll_relay_opts_copy_clear(struct ll_relay_opts_copy *c);

/*
 * Whether a --ca file can serve as a trust anchor: readable, and holding
 * a PEM certificate.  Checked when a program starts, before it asks
 * anybody for anything, so a wrong path fails there in plain words and
 * not later as a TLS library's message.  false with *why (g_free) set.
 */
bool ll_ca_file_usable(const char *path, char **why);

/*
 * What went wrong, for a person and for code.
 *   code        the negative ll_err also returned
 *   http_status 0 when no HTTP answer came (transport failure)
 *   api_code    the API's error.code ("pin_invalid", "unauthorized", ...),
 *               "" when there was none (transport failure, or a stream
 *               refusal without a JSON body)
 *   message     the API's error.message, or a transport sentence such as
 *               "could not connect to relay at https://h:8443: Connection
 *               refused" or "TLS: certificate verify failed ..."
 *   retry_after seconds from Retry-After (rate_limited), else 0
 * Mapping of code (ll_client_error_from_status): transport errors
 * LL_ERR_IO, LL_ERR_TIMEOUT, LL_ERR_TLS, LL_ERR_TLS_VERIFY (certificate or
 * pin refused); API errors by status: 400 LL_ERR_INVALID_ARG,
 * 401 LL_ERR_AUTH_FAILED, 403 LL_ERR_DISABLED for account_disabled else
 * LL_ERR_AUTH_FAILED, 404 LL_ERR_NOT_FOUND, 409 LL_ERR_CONFLICT,
 * pin_expired (any status) and 410 LL_ERR_EXPIRED, 413 LL_ERR_TOO_LARGE,
 * 400 unsupported_version LL_ERR_BAD_VERSION, other 4xx (429
 * rate_limited included: see api_code and retry_after) LL_ERR_PROTOCOL,
 * 5xx LL_ERR_INTERNAL.  A response that breaks the API's schema:
 * LL_ERR_BAD_JSON / LL_ERR_SCHEMA / LL_ERR_TOO_LARGE (over the cap).
 */
#define LL_CLIENT_API_CODE_LEN 48
#define LL_CLIENT_MESSAGE_LEN 320
struct ll_client_error {
	int code;
	int http_status;
	char api_code[LL_CLIENT_API_CODE_LEN];
	char message[LL_CLIENT_MESSAGE_LEN];
	int retry_after;
};
/* Empties e (code LL_OK, status 0, empty strings).  NULL ok. */
void ll_client_error_clear(struct ll_client_error *e);
/* Fills e (NULL ok) with code and a formatted message; api_code "". */
void ll_client_error_set(struct ll_client_error *e, int code, int http_status,
			 const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The ll_err for an HTTP error status and API code (table above). */
int ll_client_error_from_status(int http_status, const char *api_code);

struct ll_api_client;

/* A client for one relay.  NULL with *err filled on a bad URL or OOM. */
struct ll_api_client *ll_api_client_new(const struct ll_relay_opts *o,
					struct ll_client_error *err);
void ll_api_client_free(struct ll_api_client *c);

/* The bearer token used by the calls that need one (copied; NULL clears;
 * the old copy is wiped).  ll_api_login sets it, ll_api_logout clears it. */
int ll_api_client_set_token(struct ll_api_client *c, const char *token);
bool ll_api_client_has_token(const struct ll_api_client *c);
/* The base URL as given, without a trailing '/' (for messages). */
const char *ll_api_client_url(const struct ll_api_client *c);
/*
 * Lets another thread stop c's calls: once *flag is true, the call in
 * flight gives up with LL_ERR_TIMEOUT within about a second (libcurl
 * checks between its steps and at least once a second), and every later
 * call fails at once.  flag must outlive c; NULL: calls run to their own
 * timeouts.  LL_ERR_INTERNAL if libcurl refuses.
 */
int ll_api_client_set_cancel(struct ll_api_client *c, const atomic_bool *flag);

/* ---- results: owned by the caller, released with the _clear functions */

struct ll_api_technician {
	int64_t id; /* 0 when the API did not say (redeem) */
	char *name;
	char *org;
	/* What end users read for who asks (redeem and pickup only): NULL
	 * when the relay has none, or is older.  Unsanitised. */
	char *display_name;
	char *org_display_name;
	char **permissions; /* NULL-terminated; NULL for redeem */
	size_t n_permissions;
	uint32_t caps; /* LL_CAP_* among the permissions */
};
void ll_api_technician_clear(struct ll_api_technician *t);

struct ll_api_login {
	char *token;        /* secret: wiped by _clear */
	int64_t expires_in; /* seconds */
	/* A one-time password: the token serves nothing but
	 * ll_api_password_change and ll_api_logout until it is changed. */
	bool password_change_required;
	struct ll_api_technician technician;
	/* Set instead of everything above when the API answered
	 * 401 mfa_required: finish with ll_api_login_mfa().  Secret. */
	char *mfa_token;
};
void ll_api_login_clear(struct ll_api_login *l);

/* 200 of POST /api/v1/login/sso: a single sign-on under way. */
struct ll_api_sso {
	char *authorize_url; /* https://: the provider's page, for a browser */
	char *sso_id;        /* names the sign-in; secret: wiped by _clear */
	int64_t expires_in;  /* seconds the sign-in lives at the relay */
	int64_t poll_interval_s; /* the pace of login/sso/token, 1..60 */
};
void ll_api_sso_clear(struct ll_api_sso *s);

struct ll_api_pin {
	char *session_id;
	char *pin;        /* 6..10 digits; secret */
	char *expires_at; /* RFC 3339 as sent */
	int64_t expires_at_unix;
	char *ticket; /* agent ticket; secret */
};
void ll_api_pin_clear(struct ll_api_pin *p);

struct ll_api_session_info {
	char *session_id;
	char *state;        /* waiting, connected, ended, expired */
	char *lock;         /* NULL when absent */
	int64_t created_at; /* unix seconds, 0 when null/absent */
	int64_t expires_at;
	int64_t connected_at;
	int64_t ended_at;
	char *end_reason; /* NULL when null/absent */
	uint64_t bytes_agent_to_applet;
	uint64_t bytes_applet_to_agent;
};
struct ll_api_session_list {
	struct ll_api_session_info *sessions;
	size_t n_sessions;
};
void ll_api_session_list_clear(struct ll_api_session_list *l);

struct ll_api_redeem {
	char *session_id;
	char *ticket;                        /* applet ticket; secret */
	struct ll_api_technician technician; /* name and org only */
	uint32_t capabilities; /* LL_CAP_* the technician may ask for */
	char *stream_path;     /* "/api/v1/stream" */
};
void ll_api_redeem_clear(struct ll_api_redeem *r);

/* 201 of POST /api/v1/channels/join: the waiting applet's place. */
struct ll_api_join {
	char *entry_id;
	char *ticket; /* the queue ticket, later the applet's; secret */
	char *org;    /* the org and channel as the relay knows them */
	char *channel;
	int64_t position; /* 1: next */
	int64_t expires_at;
	int64_t poll_interval_s;
};
void ll_api_join_clear(struct ll_api_join *j);

/* 200 of GET /api/v1/queue/entry: still waiting, or picked up (then
 * redeem is filled as a PIN redeem's answer, its ticket the queue
 * ticket). */
struct ll_api_queue_status {
	bool picked;
	int64_t position;
	int64_t waiting_s;
	int64_t poll_interval_s;
	struct ll_api_redeem redeem;
};
void ll_api_queue_status_clear(struct ll_api_queue_status *s);

/* 200 of GET /api/v1/queue: who waits in the technician's org. */
struct ll_api_queue_item {
	char *entry_id;
	char *channel;
	char *description; /* NULL when none; the relay's display rule */
	int64_t position;
	int64_t waiting_since;
	int64_t waiting_s;
};
struct ll_api_queue_list {
	struct ll_api_queue_item *entries;
	size_t n_entries;
};
void ll_api_queue_list_clear(struct ll_api_queue_list *l);

/* ---- calls ---- */

/*
 * POST /api/v1/login.  org may be NULL.  On 200 fills *out and keeps the
 * token in the client.  On 401 mfa_required returns LL_OK with only
 * out->mfa_token set (call ll_api_login_mfa with the TOTP code).
 */
int ll_api_login(struct ll_api_client *c, const char *user, const char *org,
		 const char *password, struct ll_api_login *out,
		 struct ll_client_error *err);
/* POST /api/v1/login/mfa {mfa_token, code}; as ll_api_login. */
int ll_api_login_mfa(struct ll_api_client *c, const char *mfa_token,
		     const char *code, struct ll_api_login *out,
		     struct ll_client_error *err);
/* The same with a single-use recovery code instead of a TOTP code. */
int ll_api_login_recovery(struct ll_api_client *c, const char *mfa_token,
			  const char *recovery_code, struct ll_api_login *out,
			  struct ll_client_error *err);
/*
 * Single sign-on (docs/API.md, "Single sign-on"); ll_sso.h drives the
 * two calls.  sso_start: POST /api/v1/login/sso {org?, code_challenge};
 * *out filled (ll_api_sso_clear).  sso_token: POST
 * /api/v1/login/sso/token {sso_id, code_verifier}; as ll_api_login once
 * signed in (out filled, token kept), LL_ERR_WANT_READ while the sign-in
 * is still under way (202: ask again after *poll_interval_s, which the
 * answer updates; may be NULL), else the refusal (sso_failed, ...).
 */
int ll_api_login_sso_start(struct ll_api_client *c, const char *org,
			   const char *code_challenge, struct ll_api_sso *out,
			   struct ll_client_error *err);
int ll_api_login_sso_token(struct ll_api_client *c, const char *sso_id,
			   const char *code_verifier, struct ll_api_login *out,
			   int64_t *poll_interval_s,
			   struct ll_client_error *err);
/* POST /api/v1/mfa/enroll: the otpauth URI of a new seed (malloc'd,
 * secret: it holds the seed; ll_secret_free). */
int ll_api_mfa_enroll(struct ll_api_client *c, char **uri_out,
		      struct ll_client_error *err);
/* POST /api/v1/mfa/confirm {code}: MFA is on; the recovery codes, shown
 * this once (an array of n malloc'd secrets, caller frees each with
 * ll_secret_free, then the array with free). */
int ll_api_mfa_confirm(struct ll_api_client *c, const char *code,
		       char ***codes_out, size_t *n_out,
		       struct ll_client_error *err);
/* POST /api/v1/logout with the token (204); the token is cleared. */
int ll_api_logout(struct ll_api_client *c, struct ll_client_error *err);
/*
 * POST /api/v1/password {old_password, new_password} with the token
 * (204): the way out of a one-time password.  The token stays valid; the
 * technician's other tokens are revoked.  Refusals: 403 forbidden (wrong
 * old password; LL_ERR_AUTH_FAILED), 400 bad_request (the new one is too
 * weak or the old one; LL_ERR_INVALID_ARG) -- see err->api_code.
 */
int ll_api_password_change(struct ll_api_client *c, const char *old_password,
			   const char *new_password,
			   struct ll_client_error *err);

/* POST /api/v1/sessions {lock} (lock NULL = not sent = "any"); 201. */
int ll_api_pin_new(struct ll_api_client *c, const char *lock,
		   struct ll_api_pin *out, struct ll_client_error *err);
/* GET /api/v1/sessions; 200. */
int ll_api_sessions_list(struct ll_api_client *c,
			 struct ll_api_session_list *out,
			 struct ll_client_error *err);
/* DELETE /api/v1/sessions/ID; 204. */
int ll_api_session_delete(struct ll_api_client *c, const char *session_id,
			  struct ll_client_error *err);
/*
 * An org's connection policies (admins): GET /api/v1/orgs/ORG/policy when
 * changes is NULL, else PUT with changes ({KEY: VALUE or null}, all or
 * nothing).  On 200 *out is the whole policy as the relay now has it,
 * {KEY: VALUE} (caller json_decref's it).  ORG is 1..64 of [a-z0-9._-].
 */
int ll_api_org_policy(struct ll_api_client *c, const char *org,
		      json_t *changes, json_t **out,
		      struct ll_client_error *err);
/*
 * The org's live sessions (admins): GET /api/v1/live, a long-poll held by
 * the relay up to 25 s while its version is since (-1: answer at once).
 * On 200 *out is {"version", "sessions": [...]} (caller json_decref's).
 */
int ll_api_live(struct ll_api_client *c, int64_t since, json_t **out,
		struct ll_client_error *err);
/*
 * The org's technicians (admins; docs/API.md, /api/v1/technicians):
 * METHOD /api/v1/technicians[/NAME[/ACTION]] with body (may be NULL).
 * On success (201 for a POST without NAME, else 200) *out is the answer
 * object (caller json_decref's it; it may hold a one-time password).
 */
int ll_api_technicians(struct ll_api_client *c, const char *method,
		       const char *name, const char *action, json_t *body,
		       json_t **out, struct ll_client_error *err);
/*
 * The org's technician groups (admins; docs/API.md, /api/v1/groups):
 * METHOD /api/v1/groups[/NAME] with body (may be NULL).  GET and PUT
 * answer 200, POST without NAME 201, each with *out the answer object
 * (caller json_decref's it); DELETE answers 204 and leaves *out NULL.
 * NAME is escaped for the path (a group's name may hold spaces).
 */
int ll_api_groups(struct ll_api_client *c, const char *method,
		  const char *name, json_t *body, json_t **out,
		  struct ll_client_error *err);
/*
 * PUT /api/v1/technicians/NAME/group {"group": group}; 204.  group NULL
 * takes the technician out of any group.
 */
int ll_api_technician_group(struct ll_api_client *c, const char *name,
			    const char *group, struct ll_client_error *err);
/*
 * POST /api/v1/sessions/ID/events {type, capabilities?, reason?}; 204.
 * type: "consent", "revoke", "not_requested" or "ended".  bearer is
 * either side's ticket, or NULL for the client's token.  caps 0 = no
 * capabilities member; reason NULL = none.
 */
int ll_api_session_event(struct ll_api_client *c, const char *session_id,
			 const char *bearer, const char *type, uint32_t caps,
			 const char *reason, struct ll_client_error *err);
/*
 * The same with the event's `file` object (a "file" event: name, size,
 * sha256, direction, outcome; docs/API.md), NULL for none; borrowed.
 */
int ll_api_session_event_file(struct ll_api_client *c, const char *session_id,
			      const char *bearer, const char *type,
			      uint32_t caps, const char *reason, json_t *file,
			      struct ll_client_error *err);
/*
 * 200 of GET /api/v1/sessions/ID/end: the session's state and, once it is
 * over, why the relay says it ended, as a fixed code ("permission_withdrawn",
 * "technician_disabled", "ended_by_admin", "closed", ...; docs/API.md).
 * Both are checked words of [a-z_]: never text to show as it is.
 */
struct ll_api_session_end {
	char state[16];      /* "waiting", "connected", "ended", "expired" */
	char end_reason[32]; /* "" while the session is not over */
};
/*
 * GET /api/v1/sessions/ID/end with the applet's ticket of that session
 * (bearer); 200.  Good while the session lives and for 30 s after its
 * end, as the events; then 404 not_found.
 */
int ll_api_session_end_reason(struct ll_api_client *c, const char *session_id,
			      const char *ticket,
			      struct ll_api_session_end *out,
			      struct ll_client_error *err);
/* POST /api/v1/pins/redeem {pin, org?}; 200.  No token needed. */
int ll_api_pin_redeem(struct ll_api_client *c, const char *pin,
		      const char *org, struct ll_api_redeem *out,
		      struct ll_client_error *err);
/* The same with the launch token of the PIN page's lifeline: link
 * (launch=; NULL: none), which a website-locked PIN needs. */
int ll_api_pin_redeem_launch(struct ll_api_client *c, const char *pin,
			     const char *org, const char *launch,
			     struct ll_api_redeem *out,
			     struct ll_client_error *err);
/* Everything a redeem may carry (NULL members are not sent). */
struct ll_api_redeem_ask {
	const char *pin;
	const char *org;
	const char *launch; /* the PIN page's launch token (website) */
	/* the applet's signed configuration, its text whole (shortcut;
	 * docs/SECURITY.md, "What a PIN lock proves") */
	const char *applet_config;
};
int ll_api_pin_redeem_ask(struct ll_api_client *c,
			  const struct ll_api_redeem_ask *ask,
			  struct ll_api_redeem *out,
			  struct ll_client_error *err);

/* ---- channels (calling cards) ---- */
/* POST /api/v1/channels/join {credential, description?}: no bearer.
 * 401 unauthorized: the credential is not (or no longer) valid. */
int ll_api_channel_join(struct ll_api_client *c, const char *credential,
			const char *description, struct ll_api_join *out,
			struct ll_client_error *err);
/* GET /api/v1/queue/entry with the queue ticket: 404 not_found once the
 * entry no longer waits (left, expired, its session over). */
int ll_api_queue_status(struct ll_api_client *c, const char *ticket,
			struct ll_api_queue_status *out,
			struct ll_client_error *err);
/* DELETE /api/v1/queue/entry with the queue ticket (204). */
int ll_api_queue_cancel(struct ll_api_client *c, const char *ticket,
			struct ll_client_error *err);
/* GET /api/v1/queue with the token. */
int ll_api_queue_list(struct ll_api_client *c, struct ll_api_queue_list *out,
		      struct ll_client_error *err);
/* POST /api/v1/queue/ID/pickup with the token: the new session as a new
 * PIN's answer without a PIN (out->pin NULL).  409 conflict
 * (LL_ERR_CONFLICT): another technician was first. */
int ll_api_queue_pickup(struct ll_api_client *c, const char *entry_id,
			struct ll_api_pin *out, struct ll_client_error *err);

#endif
