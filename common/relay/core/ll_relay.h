/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-relay, built as two libraries and a program:
 *  - the core (core/: server.c, conn.c, pair.c, metrics.c, state.c,
 *    relay_config.c, ratelimit.c, checkpoint.c, cidr.c, workpool.c,
 *    workers.c; this header, ll_ratelimit.h, ll_checkpoint.h,
 *    ll_cidr.h and ll_workpool.h): libevent loop, TLS, HTTP framing,
 *    limits and timeouts, stream pairing and blind forwarding (on the
 *    forwarding loops of workers.c when there are several), /healthz
 *    and /metrics, signals, the configuration and the state on disk,
 *    the worker pool that hashes passwords off the loop;
 *  - the API (api/: api*.c; ll_relay_api.h): what each endpoint does,
 *    policies, audit;
 *  - the program (main.c, serve.c, cmd_*.c): the admin subcommands.
 * The API may use the core, never the reverse: the core reaches the API
 * only through the table of struct ll_relay_api_ops that `serve`
 * registers in relay->api (ll_api_ops), and the API calls back into the
 * core through the ll_relay_* functions declared below.
 */
#ifndef LL_RELAY_H
#define LL_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <jansson.h>

#include "ll_crypto.h"
#include "ll_http.h"
#include "ll_store.h"
#include "ll_control.h"

struct event_base;
struct ll_tls_ctx;
struct ll_ratelimit;
struct ll_refusals;
struct ll_workpool;
struct ll_windows;
struct ll_page;
struct ll_live;
struct ll_ldap_config;
struct ll_dir_sync;
struct ll_sso;
struct ll_config;

/* ---- single sign-on: relay.conf's [oidc] and [oidc ORG] groups ----
 * (oidc_config.c; docs/API.md, "Single sign-on").  One per group. */
struct ll_oidc_group_map {
	char *idp_group;  /* a value of the groups claim */
	char *technician; /* the technician group it maps to */
};
struct ll_oidc_conf {
	char *org;    /* [oidc ORG]; NULL for [oidc] */
	char *issuer; /* https://, as the provider names itself */
	char *client_id;
	char *client_secret;  /* read from client_secret_file; a secret */
	char *ca_file;        /* the provider's trust anchor; NULL: system */
	char *scopes;         /* default "openid profile email" */
	char *username_claim; /* default "preferred_username" */
	char *groups_claim;   /* default "groups" */
	char *mfa_amr;        /* an amr value that satisfies mfa_required */
	struct ll_oidc_group_map *group_map; /* NULL: no group needed */
	size_t n_group_map;
	char *redirect_uri; /* public_url + LL_OIDC_CALLBACK_PATH */
};
#define LL_OIDC_CALLBACK_PATH "/api/v1/sso/callback"

/* ---- configuration: STATE_DIR/relay.conf, group [relay] ---- */
struct ll_relay_config {
	char *state_dir;
	char *listen;                 /* "HOST:PORT", default 0.0.0.0:8443 */
	char *cert_file;              /* default STATE_DIR/cert.pem */
	char *key_file;               /* default STATE_DIR/key.pem */
	char *db_file;                /* STATE_DIR/lifeline.db */
	char *at_rest_key_file;       /* STATE_DIR/at-rest.key (0600) */
	int64_t pin_lifetime_s;       /* default 1200 */
	int64_t token_lifetime_s;     /* default 43200 */
	int64_t token_idle_s;         /* default 1800 */
	int64_t handshake_timeout_ms; /* TLS handshake, default 10000 */
	int64_t head_timeout_ms;      /* request head after connect, 10000 */
	int64_t idle_timeout_ms;      /* keep-alive idle, default 60000 */
	int64_t max_unauth_per_ip;  /* connections not yet authenticated, 16 */
	int64_t max_unauth;         /* relay-wide; 0: from the fd limit */
	int64_t max_head_bytes;     /* default 8192 */
	int64_t max_headers;        /* default 64 */
	int64_t max_body_bytes;     /* default 65536 */
	int64_t login_rate_per_min; /* per source address, default 10 */
	int64_t login_burst;        /* default 10 */
	int64_t redeem_rate_per_min; /* per source address, default 30 */
	int64_t redeem_burst;        /* default 30 */
	int64_t stream_buffer_bytes; /* per direction in flight, 262144 */
	int64_t stream_grace_s;      /* a lost stream may come back, 60 */
	int64_t hash_workers;        /* threads hashing passwords, default 2 */
	int64_t hash_queue;          /* hashes waiting beyond those, 64 */
	int64_t otp_lifetime_s;      /* generated one-time password, 86400 */
	int64_t workers; /* loops forwarding streams (workers.c): 0 one per
			  * CPU (the default), 1 the main loop alone */
	int64_t max_sessions; /* sessions with a stream here, default 10000 */
	int64_t redeem_fail_budget;     /* unscoped failed redeems per PIN
					 * lifetime, relay-wide, 1000 */
	int64_t redeem_fail_budget_org; /* those naming an org, per org, 100
					 * (policy redeem_fail_budget) */
	int64_t max_live_pins_per_technician; /* default 20 */
	int64_t max_live_pins_per_org; /* 1000; at most 1/1000 of the space */
	int64_t session_create_rate_per_min; /* per technician, default 60 */
	int64_t session_create_burst;        /* default 20 */
	int64_t log_level; /* 0 error .. 3 debug, default 2 */
	/* the audit chain's key and checkpoints (ll_checkpoint.h) */
	char *audit_key_file;      /* STATE_DIR/audit.key (0600) */
	char *audit_sign_key_file; /* STATE_DIR/audit-sign.key (0600) */
	char *audit_sign_pub_file; /* STATE_DIR/audit-sign.pub */
	/* the applet configurations' signing key (ll_appconf.h) and the
	 * URL they name (NULL: from the certificate and listen) */
	char *applet_sign_key_file; /* STATE_DIR/applet-sign.key (0600) */
	char *applet_sign_pub_file; /* STATE_DIR/applet-sign.pub */
	char *public_url;
	/* The host names signed applet configurations allow, "h1,h2"
	 * (applet-config; NULL: public_url's host alone). */
	char *relay_hosts;
	int64_t audit_checkpoint_s; /* checkpoint interval, default 60 */
	/* refusals: aggregated per window, unauthenticated ones limited */
	int64_t refusal_window_s;    /* default 60 */
	int64_t unauth_rate_per_min; /* anonymous 401/404 per address, 60 */
	int64_t unauth_burst;        /* default 60 */
	/* channel queues (api_channels.c) */
	int64_t queue_max_per_org;     /* waiting end users, default 200 */
	int64_t queue_max_per_address; /* of those from one address, 10 */
	int64_t queue_wait_s;          /* the longest one waits, 3600 */

	/* Who may read /metrics: CIDRs (loopback; "" for none), and the
	 * file of the bearer token that reads it from anywhere (or NULL). */
	char *metrics_allow;
	char *metrics_token_file;

	/* The PIN page (docs/API.md, "The PIN page"): the brand folder it
	 * shows (NULL: Lifeline's plain look), and the portable applet it
	 * offers for download (NULL: no download). */
	char *brand_dir;
	char *portable_applet;

	/* Directory login: one per [ldap] / [ldap ORG] group (ll_ldap.h),
	 * in file order; the [ldap] group's org is NULL (the first org). */
	struct ll_ldap_config **ldap;
	size_t n_ldap;
	/* single sign-on: the [oidc] groups, in file order */
	struct ll_oidc_conf *oidc;
	size_t n_oidc;
};
/* The most [ldap] groups relay.conf may have. */
#define LL_RELAY_LDAP_MAX 64
/* Defaults, then STATE_DIR/relay.conf when present (strict keys). */
int ll_relay_config_load(const char *state_dir, struct ll_relay_config *cfg,
			 char *errbuf, size_t errlen);
void ll_relay_config_clear(struct ll_relay_config *cfg);
/* Is group one of the [oidc] groups ("oidc", "oidc ORG")? */
bool ll_relay_oidc_group(const char *group);
/* The keys an [oidc] group may have (NULL-terminated). */
extern const char *const ll_relay_oidc_keys[];
/* Reads every [oidc] group of file into cfg->oidc (relay_config.c calls
 * it once the [relay] group is read: public_url makes the callback). */
int ll_relay_oidc_config_load(const struct ll_config *file,
			      struct ll_relay_config *cfg, char *errbuf,
			      size_t errlen);
void ll_relay_oidc_config_clear(struct ll_relay_config *cfg);
/* The [oidc] group for an org: [oidc ORG] by name, else [oidc] when
 * is_default (the relay's only org, or the one a request named none
 * for).  NULL when none. */
const struct ll_oidc_conf *ll_relay_oidc_find(const struct ll_relay_config *cfg,
					      const char *org_name,
					      bool is_default);

/* ---- org policy (policy.c): the one table of per-org keys ----
 * Stored as text per org (ll_store_policy_*); read per request, so a
 * change takes effect without a restart.  docs/API.md lists the keys. */
enum ll_policy_type {
	LL_POLICY_INT,     /* a decimal integer in [min, max] */
	LL_POLICY_ORIGINS, /* exact web origins, comma-separated; may be "" */
	LL_POLICY_BOOL,    /* "true" or "false"; def 0 or 1 */
	LL_POLICY_LOCK,    /* a PIN lock: "any", "website", "shortcut"; def
			    * indexes ll_pin_locks[] */
	LL_POLICY_CIDRS,   /* IPv4/IPv6 ranges, comma-separated; may be "" */
};
/* The PIN locks, in the order LL_POLICY_LOCK defaults index. */
extern const char *const ll_pin_locks[3];
/* Is s one of ll_pin_locks? */
bool ll_pin_lock_valid(const char *s);
struct ll_policy_key {
	const char *name;
	enum ll_policy_type type;
	int64_t min, max;
	int64_t def;         /* the default ... */
	ptrdiff_t def_cfg;   /* ... unless >= 0: the relay.conf field
			       * (offset in struct ll_relay_config) */
	const char *summary; /* one line for `policy show` and the docs */
};
extern const struct ll_policy_key ll_policy_keys[];
extern const size_t ll_policy_key_count;
/* The key of that name, or NULL. */
const struct ll_policy_key *ll_policy_key_find(const char *name);
/* Checks text as a value of k: LL_OK with *out, or LL_ERR_INVALID_ARG
 * with a sentence in errbuf. */
int ll_policy_parse_int(const struct ll_policy_key *k, const char *text,
			int64_t *out, char *errbuf, size_t errlen);
/*
 * Checks text as a value of k, of any type: LL_OK with its plain form in
 * *canon_out (malloc'd; "08" is "8", "https://a, https://b" is
 * "https://a,https://b"), or LL_ERR_INVALID_ARG with a sentence in errbuf.
 */
int ll_policy_parse(const struct ll_policy_key *k, const char *text,
		    char **canon_out, char *errbuf, size_t errlen);
/* k's default under this configuration. */
int64_t ll_policy_default_int(const struct ll_policy_key *k,
			      const struct ll_relay_config *cfg);
/* The same in its plain text form (malloc'd). */
char *ll_policy_default_text(const struct ll_policy_key *k,
			     const struct ll_relay_config *cfg);
/* The integer policy `name` of an org: what it set, else the default.
 * *set_out (may be NULL) says whether the org set it.  A stored value that
 * does not check counts as unset (logged). */
int ll_policy_get_int(struct ll_store *st, const struct ll_relay_config *cfg,
		      int64_t org_id, const char *name, int64_t *out,
		      bool *set_out);
/* The same for a policy of any type, as its plain text (malloc'd). */
int ll_policy_get_text(struct ll_store *st, const struct ll_relay_config *cfg,
		       int64_t org_id, const char *name, char **out,
		       bool *set_out);
/* A boolean policy: what the org set, else the default. */
int ll_policy_get_bool(struct ll_store *st, const struct ll_relay_config *cfg,
		       int64_t org_id, const char *name, bool *out);

/*
 * A technician's permissions (LL_PERM_* of ll_control.h), the one rule
 * (docs/API.md, "Groups and permissions"): in a group, exactly its
 * permissions; without one, what technicians held before groups: every
 * capability (LL_PERM_NO_GROUP).  An administrator (--admin) holds
 * reports and admin besides, group or not.
 */
#define LL_PERM_NO_GROUP LL_CAP_ALL
uint32_t ll_relay_permissions(const struct ll_technician *t);
/* The capabilities its tickets may carry: the permissions the protocol
 * has a capability for. */
uint32_t ll_relay_capabilities(const struct ll_technician *t);
/* A group's name: 1-64 of A-Z a-z 0-9 . _ - and spaces, starting with a
 * letter or digit, not ending with a space (directory groups map to
 * these names). */
#define LL_GROUP_NAME_MAX 64
bool ll_group_name_valid(const char *name);
/* A group's end_user_cidrs: the policy key's parser and plain form
 * ("" for none), with its sentence in errbuf on LL_ERR_INVALID_ARG. */
int ll_group_cidrs_parse(const char *text, char **canon_out, char *errbuf,
			 size_t errlen);

/* A value (plain text of k's type) as JSON: integers as numbers, booleans
 * as true/false, the rest as strings.  New reference, NULL on no memory. */
json_t *ll_policy_value_json(const struct ll_policy_key *k, const char *text);
/*
 * A value of k from JSON (the API's PUT): a string is read as on the
 * command line, an integer as its decimal text, true/false as the words.
 * LL_OK with *canon_out as ll_policy_parse, else LL_ERR_INVALID_ARG with
 * a sentence in errbuf.
 */
int ll_policy_parse_json(const struct ll_policy_key *k, const json_t *v,
			 char **canon_out, char *errbuf, size_t errlen);
/* Origins per list, and bytes per origin, allowed_origins may hold. */
#define LL_POLICY_ORIGINS_MAX 32
#define LL_POLICY_ORIGIN_LEN 200
/* Is origin (an Origin header's value) exactly one of list's (a plain
 * LL_POLICY_ORIGINS value)?  Byte for byte: no case folding, no default
 * ports. */
bool ll_policy_origin_listed(const char *list, const char *origin);

/* The two budgets of failed PIN redeems (docs/SECURITY.md): redeems that
 * name no org (or an unknown one) spend the relay's, those that name an
 * org spend that org's. */
enum ll_redeem_scope {
	LL_REDEEM_SCOPE_RELAY = 0,
	LL_REDEEM_SCOPE_ORG = 1,
};
#define LL_REDEEM_SCOPE_COUNT 2

/* ---- counters for /metrics ---- */
struct ll_relay_metrics {
	uint64_t sessions_live;        /* paired now */
	uint64_t streams_waiting;      /* upgraded, peer not yet here */
	uint64_t sessions_interrupted; /* lost a stream, in grace */
	uint64_t live_polls_held;      /* GET /api/v1/live held (api_live.c) */
	uint64_t bytes_forwarded;      /* both directions */
	uint64_t connections_open;
	uint64_t connections_unauth;  /* not yet upgraded to a stream */
	uint64_t connections_evicted; /* closed to make room for new ones */
	uint64_t requests_total;
	/* refusals by API error code (index: enum ll_api_code) */
	uint64_t refusals[32];
	/* PIN-guess budgets, by enum ll_redeem_scope */
	uint64_t redeem_failures[LL_REDEEM_SCOPE_COUNT]; /* counted */
	uint64_t redeem_budget_refusals[LL_REDEEM_SCOPE_COUNT];
	uint64_t redeem_budget_exhausted_total[LL_REDEEM_SCOPE_COUNT];
	uint64_t redeem_budget_exhausted[LL_REDEEM_SCOPE_COUNT]; /* now */
	uint64_t queue_waiting;    /* end users waiting in channel queues */
	uint64_t tls_streams_shed; /* pipes that freed their SSL (pipe.c) */
};

/* ---- the audit chain's anchor outside the database (checkpoint.c) ----
 * Filled by ll_relay_open_state (see ll_checkpoint.h). */
struct ll_relay_audit {
	bool writer;          /* this process may append and checkpoint */
	bool has_key;         /* the HMAC key is loaded (into the store) */
	bool has_sign_key;    /* sign_key holds the Ed25519 private key */
	bool has_pub;         /* sign_pub holds the public key */
	char key_id[17];      /* ll_audit_key_id of the HMAC key */
	uint8_t sign_key[32]; /* wiped on close */
	uint8_t sign_pub[32];
	int64_t cp_seq; /* the last checkpoint this process wrote */
	uint8_t cp_head[32];
	int64_t cp_at; /* ll_now_unix of the last tick that wrote */
};

/* ---- the relay object (one per process, lives on the loop) ---- */
struct ll_relay {
	struct ll_relay_config cfg;
	struct event_base *base;
	struct ll_store *store;
	struct ll_tls_ctx *tls;  /* swapped on SIGHUP */
	uint8_t at_rest_key[32]; /* seals secrets at rest (atrest.c) */
	uint8_t mac_key[32];     /* keys the keyed hashes (atrest.c) */
	int key_lock_fd;         /* at-rest.key.lock, shared while held */
	bool key_locked;
	/* The applet configurations' public key (applet-sign.pub), read
	 * when the state opens: what a shortcut-locked PIN's signed
	 * configuration must be signed with.  false: none to be had. */
	uint8_t applet_pub[32];
	bool have_applet_pub;
	struct ll_ratelimit *rl_login;
	struct ll_ratelimit *rl_redeem;
	struct ll_ratelimit *rl_unauth; /* anonymous 401/404 refusals */
	struct ll_refusals *refusals;   /* the API's aggregation table */
	struct ll_relay_audit audit;    /* keys and the last checkpoint */
	struct ll_ratelimit *rl_session_create; /* key "technician:ID" */
	/* failed redeems per PIN lifetime, key org id (0: relay-wide); the
	 * API's budgets (api_pins.c) */
	struct ll_windows *redeem_fails;
	struct ll_relay_metrics metrics;
	const struct ll_relay_api_ops *api; /* set before ll_core_run() */
	/* Password hashing off the loop (ll_workpool.h); made and joined
	 * by ll_core_run, NULL outside it (admin commands hash inline). */
	struct ll_workpool *pool;
	/* Counts the configurations loaded (start, each SIGHUP that took),
	 * so that what the API built from cfg knows when to build again. */
	uint64_t cfg_gen;
	struct ll_page *page; /* the API's PIN page (api_page.c) */
	/* the API's directory synchronisation (api_directory.c) */
	struct ll_dir_sync *dir_sync;
	struct ll_sso *sso; /* the API's sign-ins in flight (api_sso.c) */
	/* The live sessions' version, counted up at every change of what the
	 * Live page shows, and the long-polls waiting for it (api_live.c). */
	uint64_t live_version;
	struct ll_live *live;
	void *core; /* core-private state (pairs, conns) */
};

/* ---- API error codes (docs/API.md), one table ---- */
enum ll_api_code {
	LL_API_OK = 0,
	LL_API_BAD_REQUEST,
	LL_API_PAYLOAD_TOO_LARGE,
	LL_API_UNAUTHORIZED,
	LL_API_MFA_REQUIRED,
	LL_API_INVALID_MFA_CODE,
	LL_API_ACCOUNT_DISABLED,
	LL_API_IP_NOT_ALLOWED,
	LL_API_RATE_LIMITED,
	LL_API_PIN_INVALID,
	LL_API_PIN_EXPIRED,
	LL_API_PIN_LOCKED_WEBSITE,
	LL_API_PIN_LOCKED_SHORTCUT,
	LL_API_ORIGIN_NOT_ALLOWED,
	LL_API_END_USER_IP_NOT_ALLOWED,
	LL_API_FORBIDDEN,
	LL_API_NOT_FOUND,
	LL_API_CONFLICT,
	LL_API_UNSUPPORTED_VERSION,
	LL_API_INTERNAL,
	LL_API_PASSWORD_CHANGE_REQUIRED,
	LL_API_MFA_ENROLLMENT_REQUIRED,
	LL_API_ACCOUNT_LOCKED,
	LL_API_CAPABILITY_NOT_PERMITTED,
	LL_API_DIRECTORY_UNAVAILABLE, /* the IdP or directory is down, 503 */
	LL_API_SSO_FAILED,         /* the IdP's answer failed a check, 401 */
	LL_API_METHOD_NOT_ALLOWED, /* code string "bad_request", status 405 */
	LL_API_URI_TOO_LONG,       /* "bad_request", 414 */
	LL_API_HEADERS_TOO_LARGE,  /* "bad_request", 431 */
	LL_API_TIMEOUT,            /* "bad_request", 408 */
	LL_API_CHAT_NOT_KEPT,      /* the org keeps no chat transcript, 409 */
	LL_API_CODE_COUNT
};
/* "rate_limited" etc., and the HTTP status that goes with it. */
const char *ll_api_code_name(enum ll_api_code code);
int ll_api_code_status(enum ll_api_code code);

/* What a handler answers.  The core serialises it, adds the security
 * headers and writes it; then frees body and extra_headers. */
struct ll_api_response {
	int status;               /* 200, 201, 204, 4xx, 5xx */
	json_t *body;             /* owned; NULL for no body */
	char *extra_headers;      /* owned; "Name: v\r\n..." or NULL */
	const char *content_type; /* NULL = application/json */
	char *raw_body;           /* owned; non-JSON body (metrics, page) */
	size_t raw_len;           /* its bytes; 0: strlen(raw_body) */
	/* The Content-Security-Policy value; NULL: LL_CSP_DEFAULT.  Only
	 * the PIN page and its files need more. */
	const char *csp;
	enum ll_api_code code; /* LL_API_OK or the refusal */
	bool logged;           /* the API already logged the refusal */
};
/* The policy of every answer that does not set its own: nothing may load
 * or run, nobody may frame it. */
#define LL_CSP_DEFAULT "default-src 'none'; frame-ancestors 'none'"
/* Fills resp as the API's error object with that code and sentence. */
void ll_api_error(struct ll_api_response *resp, enum ll_api_code code,
		  const char *message);
void ll_api_response_clear(struct ll_api_response *resp);

struct ll_api_request {
	const struct ll_http_request *http;
	const char *source_ip; /* textual peer address */
	void *conn;            /* the core's: whom a later answer is for */
};

/* What dispatch did with a request. */
enum ll_api_dispatch {
	LL_API_ANSWERED = 0, /* the answer is in resp */
	/*
	 * The API answers later, exactly once, through ll_relay_api_answer()
	 * (it hashes a password on the worker pool meanwhile).  Until then
	 * the request and req stay valid, the core parses no further request
	 * of that connection (pipelined requests are answered in order), and
	 * a connection that closes meanwhile only drops the answer.
	 */
	LL_API_PENDING,
};

/*
 * What the core asks of the API, registered in relay->api before
 * ll_core_run() (the API's table is ll_api_ops, ll_relay_api.h).
 */
struct ll_relay_api_ops {
	/* Everything under /api/v1/ except the stream upgrade, and the PIN
	 * page's paths (ll_core_api_path; the core does /healthz, /metrics
	 * and the upgrade's framing). */
	enum ll_api_dispatch (*dispatch)(struct ll_relay *relay,
					 const struct ll_api_request *req,
					 struct ll_api_response *resp);
	/*
	 * A stream upgrade arrived (GET /api/v1/stream, Upgrade:
	 * lifeline/1).  Served through the same envelope as every API
	 * request: checks the ticket, claims that side's one stream,
	 * audits (durable before this returns).  On success returns LL_OK
	 * with the session id and side, and the core sends the 101; else
	 * fills refusal (401 unauthorized, 409 conflict, 404 not_found
	 * ...; already logged) and returns < 0.
	 */
	int (*stream_authorize)(struct ll_relay *relay,
				const struct ll_api_request *req,
				char session_id_out[LL_SESSION_ID_LEN + 1],
				enum ll_side *side_out,
				struct ll_api_response *refusal);
	/* The core reports stream life events; the API records them.
	 * resumed: paired again after an interruption. */
	void (*stream_paired)(struct ll_relay *relay, const char *session_id,
			      bool resumed);
	/* A paired session lost a stream and waits stream_grace_s for
	 * both sides to come back (then stream_paired, or stream_ended
	 * with "lost"). */
	void (*stream_interrupted)(struct ll_relay *relay,
				   const char *session_id, const char *reason);
	void (*stream_ended)(struct ll_relay *relay, const char *session_id,
			     const char *reason,
			     uint64_t bytes_agent_to_applet,
			     uint64_t bytes_applet_to_agent);
	/* Called by the core once a second: expire PINs, end the live
	 * sessions of disabled technicians (through
	 * ll_relay_session_close). */
	void (*periodic)(struct ll_relay *relay);
	/* The relay stops: its connections are closed; requests the API
	 * holds (LL_API_PENDING without a job, the Live long-poll) are
	 * answered now, to nobody. */
	void (*stopping)(struct ll_relay *relay);
};

/* Runs the loop until SIGTERM/SIGINT.  relay is open (ll_relay_open_state),
 * relay->tls and relay->api are set. */
int ll_core_run(struct ll_relay *relay, const char *listen_override);

/* ---- core services the API may call ---- */
/* Closes both streams of a session (DELETE, technician disabled). */
void ll_relay_session_close(struct ll_relay *relay, const char *session_id,
			    const char *reason);
/* Sessions with a stream here now: paired ones and those whose first
 * stream waits for its peer.  max_sessions caps this. */
uint64_t ll_relay_sessions_here(const struct ll_relay *relay);
/* True when one stream of this session is here, waiting for its peer (so
 * the other side's stream adds no session). */
bool ll_relay_session_waiting(const struct ll_relay *relay,
			      const char *session_id);
/* True while this session's stream was lost and it waits in its grace
 * for its sides to come back (flow 4, step 6). */
/* The bytes a session's streams forwarded so far, each way; false when
 * this relay holds no stream of it. */
bool ll_relay_session_bytes(const struct ll_relay *relay,
			    const char *session_id, uint64_t *agent_to_applet,
			    uint64_t *applet_to_agent);
bool ll_relay_session_interrupted(const struct ll_relay *relay,
				  const char *session_id);
/* Counts a refusal for /metrics. */
void ll_relay_count_refusal(struct ll_relay *relay, enum ll_api_code code);
/* The answer to a request dispatch left LL_API_PENDING: sent (and resp
 * cleared), or dropped when its connection closed meanwhile.  Then the
 * connection's next pipelined request is parsed. */
void ll_relay_api_answer(struct ll_relay *relay,
			 const struct ll_api_request *req,
			 struct ll_api_response *resp);

/* ---- the state on disk (state.c), for `serve` and admin commands ---- */
#define LL_DEFAULT_STATE_DIR "/var/lib/lifeline"
/*
 * Opening state for `serve` and the admin commands that write: config,
 * store, at-rest key, and the audit keys (relay->audit).  A state made
 * before the audit was keyed gets its audit key and signing key pair
 * here, and its chain's keyed epoch starts (the "audit.keyed" record);
 * a keyed chain whose key is missing, or a key with an unkeyed chain, is
 * refused with a sentence in errbuf.
 */
int ll_relay_open_state(const char *state_dir, struct ll_relay *relay,
			char *errbuf, size_t errlen);
/* The same for readers (audit verify, export): nothing is created or
 * appended; the audit key and the public key are loaded when present. */
int ll_relay_open_state_ro(const char *state_dir, struct ll_relay *relay,
			   char *errbuf, size_t errlen);
void ll_relay_close_state(struct ll_relay *relay);
/* Makes whichever of the audit key (32 CSPRNG bytes, 0600), the Ed25519
 * signing key (0600) and its public key (PEM, 0644) are missing, at the
 * paths cfg names; never over an existing file. */
/*
 * The Ed25519 key that signs applet configurations
 * (cfg->applet_sign_key_file, 0600, and its PEM public key beside):
 * made when missing (init, or the first applet-config of a state made
 * before), then read.  *made says whether it was made now (may be NULL).
 */
int ll_relay_applet_key_get(const struct ll_relay_config *cfg,
			    uint8_t priv[32], uint8_t pub[32], bool *made,
			    char *errbuf, size_t errlen);
int ll_relay_audit_keys_create(const struct ll_relay_config *cfg, char *errbuf,
			       size_t errlen);
/* Reads the 32-byte at-rest key, refusing group/other access. */
int ll_relay_read_at_rest_key(const char *path, uint8_t key[32], char *errbuf,
			      size_t errlen);
/* ---- the at-rest key (atrest.c; docs/SECURITY.md, "Rotating the
 * at-rest key") ---- */
/* The key's id: 16 hex digits of HMAC(key, "lifeline at-rest key id"). */
void ll_relay_key_id(const uint8_t key[32], char out[LL_KEY_ID_LEN + 1]);
/* A TOTP seed sealed (AES-256-GCM) under key, bound to the technician
 * and the column ("seed", "pending_seed"); out holds LL_MFA_SEALED_MAX. */
int ll_relay_seed_seal(const uint8_t key[32], int64_t tech_id,
		       const char *column,
		       const uint8_t seed[LL_TOTP_SEED_LEN], uint8_t *out,
		       size_t *out_len);
int ll_relay_seed_open(const uint8_t key[32], int64_t tech_id,
		       const char *column, const uint8_t *in, size_t in_len,
		       uint8_t seed[LL_TOTP_SEED_LEN]);
/* A kept chat line's text sealed (AES-256-GCM) under key, bound to its
 * row id and the column "text" (*out: the caller frees); and opened
 * (*text NUL-terminated, the caller wipes and frees).  LL_ERR_TOO_LARGE
 * beyond LL_STORE_CHAT_SEALED_MAX. */
int ll_relay_chat_seal(const uint8_t key[32], int64_t row, const char *text,
		       uint8_t **out, size_t *out_len);
int ll_relay_chat_open(const uint8_t key[32], int64_t row, const uint8_t *in,
		       size_t in_len, char **text);
/* For open_state, the store open: takes the key's lock (shared), finishes
 * or drops a rotation cut short, reads the key, checks it is the store's
 * and opens the MAC key. */
int ll_relay_at_rest_open(struct ll_relay *relay, char *errbuf, size_t errlen);
void ll_relay_key_unlock(struct ll_relay *relay);
/* `key rotate`: a new key, every sealed value sealed again under it in
 * one transaction (audited "key.rotate"), then the key file replaced.
 * LL_ERR_CONFLICT while another process holds the key.  crash_at
 * ("before-commit", "after-commit", test builds only) exits there. */
int ll_relay_key_rotate(struct ll_relay *relay, const char *crash_at,
			char *errbuf, size_t errlen);

/* ---- administering technicians (techadmin.c): the one code path of
 * `lifeline-relay technician ...` and /api/v1/technicians ----
 * Each runs inside the caller's transaction, adds to detail (an object)
 * who it changed and the values before and after, and leaves the audit
 * record and the commit to the caller. */
/* Display names (technicians', orgs'): what end users read for who asks;
 * only what ll_text_printable leaves as it is, 1..LL_DISPLAY_NAME_MAX
 * bytes. */
#define LL_DISPLAY_NAME_MAX 128
bool ll_tech_display_name_ok(const char *name);
struct ll_tech_new {
	int64_t org_id;
	const char *username;
	const char *pw_hash;      /* PHC string */
	const char *display_name; /* may be NULL */
	bool admin;               /* the admin and reports permissions */
	bool one_time;            /* a generated password (expires) */
};
/* LL_ERR_CONFLICT: the name is taken in the org. */
int ll_tech_add(struct ll_relay *relay, const struct ll_tech_new *n,
		int64_t *id_out, int64_t *expires_at, json_t *detail);
/* Disabling also deletes the technician's tokens. */
int ll_tech_set_disabled(struct ll_relay *relay, const struct ll_technician *t,
			 bool disabled, json_t *detail);
int ll_tech_set_display_name(struct ll_relay *relay,
			     const struct ll_technician *t, const char *name,
			     json_t *detail);
/* unlock (reset false): lifts the second factor's lock; reset: forgets
 * the second factor and deletes the technician's tokens. */
int ll_tech_mfa_change(struct ll_relay *relay, const struct ll_technician *t,
		       bool reset, bool *was_locked, bool *was_enrolled,
		       json_t *detail);
/* A new password hash (a generated one is one-time: *expires_at); the
 * technician's tokens are deleted. */
int ll_tech_set_password(struct ll_relay *relay, const struct ll_technician *t,
			 const char *pw_hash, bool is_one_time,
			 int64_t *expires_at, json_t *detail);
/* How many enabled admins the org of t has besides t. */
int ll_tech_other_admins(struct ll_relay *relay, const struct ll_technician *t,
			 size_t *n_out);

/* The metrics token: one line (LL_METRICS_TOKEN_MIN..MAX bytes of
 * b64token, one line end allowed) of a file only its owner may read.
 * Gives its SHA-256, never the token. */
#define LL_METRICS_TOKEN_MIN 16
#define LL_METRICS_TOKEN_MAX 256
int ll_relay_read_metrics_token(const char *path, uint8_t hash[32],
				char *errbuf, size_t errlen);

/* A secret kept in a file of its own (an IdP's client secret): one line
 * of at most LL_SECRET_LINE_MAX printable bytes (one line end allowed) of
 * a file only its owner may read; *out malloc'd (ll_secret_free). */
#define LL_SECRET_LINE_MAX 1024
int ll_relay_read_secret_line(const char *path, const char *what, char **out,
			      char *errbuf, size_t errlen);

/* ---- admin command helpers (state.c) ---- */
/* Prints "lifeline-relay: MESSAGE" as one line on stderr. */
void ll_cmd_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The org an admin command acts on: --org ORG, or the only one.  Fails
 * with one clear line (ll_cmd_fail) and returns non-zero; *name_out is the
 * org's name (caller frees). */
int ll_cmd_org_resolve(struct ll_store *st, const char *org, int64_t *id_out,
		       char **name_out);
/* Audit for admin commands (actor "cli"), detail may be NULL (stolen). */
int ll_cmd_audit_append(struct ll_store *st, int64_t org_id,
			const char *action, const char *outcome,
			json_t *detail);

#endif
