/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration test harness: a real lifeline-relay (LL_RELAY_BIN) on
 * 127.0.0.1 with a certificate signed by a CA the test makes, an HTTPS
 * JSON client on the TLS facade that trusts only that CA, stream helpers
 * (upgrade with a ticket, then raw bytes both ways) and a few probes
 * (/proc/PID/status, admin subcommands).
 *
 * Every secret a test uses or receives goes through lh_secret() into
 * LL_TEST_TMPDIR/logs/secrets-PROGRAM.txt; canary.sh later greps every
 * relay log under LL_TEST_TMPDIR/logs for each of them.
 *
 * Helpers named lh_*_try return an ll_err and let the test judge; the
 * others g_assert on the way (they are for steps the test relies on).
 */
#ifndef LH_HARNESS_H
#define LH_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <sys/types.h>

#include <glib.h>
#include <jansson.h>

#include "ll_err.h"
#include "ll_tls.h"
#include "ll_http.h"

/* The known canary password: it must never show up in any relay log. */
#define LH_CANARY_PASSWORD "Canary-Pw-7f3a9c"
#define LH_MIB ((uint64_t)1024 * 1024)

/* g_test_init + SIGPIPE ignored + the secrets file named after argv[0]. */
void lh_init(int *argc, char ***argv);
/* Appends "kind<TAB>value" to the secrets file (kind: password, pin,
 * token, ticket). */
void lh_secret(const char *kind, const char *value);
/* LL_TEST_TMPDIR (asserted set). */
const char *lh_tmpdir(void);
/* An environment integer with a default (test size knobs). */
int64_t lh_env_int(const char *name, int64_t def);

/* ---- the relay under test ---- */
struct lh_relay {
	char *name;
	char *dir;       /* LL_TEST_TMPDIR/NAME */
	char *state_dir; /* dir/state */
	char *ca_cert;   /* dir/ca.pem: the only trust anchor */
	char *ca_key;
	char *cert_file; /* dir/leaf.pem, named in relay.conf */
	char *key_file;
	char *conf_extra;     /* extra [relay] lines */
	char *log_path;       /* log of the current serve process */
	char *clock_file;     /* dir/clock: the test clock's offset */
	char *hash_gate;      /* dir/hash-gate: lh_relay_hash_gate() */
	int64_t clock_offset; /* seconds the relay's wall clock is ahead */
	GPid pid;             /* 0 when not running */
	/* The loopback address lh_relay_start listens on, set before it;
	 * NULL: 127.0.0.1. */
	const char *listen_host;
	uint16_t port;
	int n_starts;
	int n_cmds;
	/* RLIMIT_NOFILE, soft and hard, the next lh_relay_start gives the
	 * relay (as `ulimit -n` would); 0 leaves the test's own. */
	int64_t nofile;
	struct ll_tls_ctx *ctx;
};

/*
 * A fresh test directory NAME under LL_TEST_TMPDIR (old one removed), a
 * test CA and a leaf for 127.0.0.1/localhost signed by it, relay.conf
 * naming them plus conf_extra ("key=value\n" lines of group [relay], may
 * be NULL), then `lifeline-relay init`.  Not started yet.
 */
struct lh_relay *lh_relay_new(const char *name, const char *conf_extra);
/* Starts `serve --listen HOST:0` (HOST: r->listen_host, else 127.0.0.1),
 * waits for the listening line. */
void lh_relay_start(struct lh_relay *r);
/* SIGTERM and wait up to timeout_ms: the exit status (0..255), or -1 if it
 * died by a signal, or -2 if it had to be killed after the timeout. */
int lh_relay_stop(struct lh_relay *r, int timeout_ms);
/*
 * Moves the relay's wall clock (ll_now_unix) forward by seconds, at once,
 * and keeps it there across restarts.  Only in a build with
 * -Dtest_hooks=true, where lh_relay_start runs the relay with its test
 * clock; elsewhere returns false and does nothing (the test skips).
 */
bool lh_relay_clock_advance(struct lh_relay *r, int64_t seconds);
/*
 * Closes or opens the relay's hash gate: while closed, every password
 * hash and verification of the relay waits on its worker thread (logging
 * "test hash gate: " once each), so that a test holds the relay's
 * password work as long as it likes.  Takes effect at once, also before
 * a start.  Only with -Dtest_hooks=true; elsewhere returns false and
 * does nothing (the test skips).
 */
bool lh_relay_hash_gate(struct lh_relay *r, bool closed);
/* Kills a still running relay (SIGKILL) and frees. NULL ok. */
void lh_relay_free(struct lh_relay *r);
/* Sends a signal to the running relay. */
void lh_relay_signal(struct lh_relay *r, int sig);
/* True while the relay process has not exited (reaps it if it has). */
bool lh_relay_alive(struct lh_relay *r);
/* The relay's current log as a string (caller frees). */
char *lh_relay_log(struct lh_relay *r);
/* How many lines of the current log contain needle. */
int lh_relay_log_count(struct lh_relay *r, const char *needle);
/* Waits until at least count lines of the log contain needle: false after
 * timeout_ms or when the relay exited first. */
bool lh_relay_wait_log(struct lh_relay *r, const char *needle, int count,
		       int timeout_ms);

/*
 * Runs `lifeline-relay ARGS... --state-dir DIR` (NULL-terminated args),
 * stdin_text on stdin (may be NULL), waits up to 60 s.  stdout and stderr
 * are returned (out/err may be NULL) and appended to logs/NAME-admin.log,
 * where the canary reads them -- but for the one-time password that
 * `technician add|passwd` prints on stdout, its delivery and no log.
 * Returns the exit status, -1 on signal.
 */
int lh_relay_cmd(struct lh_relay *r, const char *stdin_text, char **out,
		 char **err, ...) G_GNUC_NULL_TERMINATED;
/* `technician add USER [--admin] --password-stdin`; asserts exit 0. */
void lh_tech_add(struct lh_relay *r, const char *user, const char *password,
		 bool admin);

/*
 * A new leaf key + certificate for 127.0.0.1/localhost signed by the
 * relay's test CA (or by a fresh CA when own_ca_cert is non-NULL: its
 * certificate path is written there, caller frees).
 */
void lh_make_leaf(struct lh_relay *r, const char *cert_path,
		  const char *key_path, char **own_ca_cert);

/* VmRSS / VmHWM of the relay from /proc/PID/status, in KiB. */
int64_t lh_relay_rss_kib(struct lh_relay *r);
int64_t lh_relay_hwm_kib(struct lh_relay *r);

/* ---- connections ---- */
struct lh_conn {
	struct ll_tls_conn *tls;
	int fd;
	uint8_t *rbuf; /* bytes read but not yet handed out */
	size_t rlen, rcap;
};

/*
 * TLS connection to the relay (src_ip: local address to bind, e.g.
 * "127.0.0.7" to appear as another client; NULL = default, through
 * ll_tls_dial).  ctx NULL = the relay's client context.
 */
int lh_connect_try(struct lh_relay *r, const char *src_ip,
		   struct ll_tls_ctx *ctx, struct lh_conn **out, char *errbuf,
		   size_t errlen);
struct lh_conn *lh_connect(struct lh_relay *r, const char *src_ip);
/* Plain TCP (no TLS) to the relay; returns the fd. */
int lh_tcp_connect(struct lh_relay *r, const char *src_ip);
void lh_conn_free(struct lh_conn *c);

int lh_conn_write_all(struct lh_conn *c, const void *buf, size_t len);
/* Blocking read of up to len bytes (buffered bytes first). */
int lh_conn_read(struct lh_conn *c, void *buf, size_t len, size_t *nread);
/* Waits until the peer closes (reads and drops data meanwhile).  LL_OK
 * when closed (cleanly or by reset), LL_ERR_TIMEOUT otherwise. */
int lh_conn_wait_closed(struct lh_conn *c, int timeout_ms);
/* Ends our side (TCP FIN) and waits until the relay has closed its side,
 * that is, has let go of the connection; then frees c.  LL_OK or
 * LL_ERR_TIMEOUT. */
int lh_conn_end(struct lh_conn *c, int timeout_ms);
/* The same for a plain socket. */
int lh_fd_wait_closed(int fd, int timeout_ms, size_t *nbytes_seen);

/* ---- HTTP ---- */
struct lh_resp {
	int status;
	struct ll_http_response *head;
	char *body; /* NUL-terminated */
	size_t body_len;
	json_t *json; /* when the body parsed as JSON */
};
void lh_resp_free(struct lh_resp *r);
const char *lh_resp_header(const struct lh_resp *r, const char *name);
/* error.code of an API error object, or NULL when the body is not one. */
const char *lh_resp_error_code(const struct lh_resp *r);
/* Asserts the body is exactly the API's error object with that code and
 * status (0: any 4xx, where docs/API.md does not fix the status). */
void lh_assert_error(const struct lh_resp *r, int status, const char *code);
/* A string member of the JSON body (NULL if absent). */
const char *lh_resp_str(const struct lh_resp *r, const char *key);

/* Reads one response (head, then Content-Length body) from c. */
int lh_read_response(struct lh_conn *c, int timeout_ms, struct lh_resp **out);
/* Sends raw request bytes on c and reads one response. */
int lh_raw_try(struct lh_conn *c, const void *req, size_t len, int timeout_ms,
	       struct lh_resp **out);

struct lh_req {
	const char *method;
	const char *path;
	const char *bearer;   /* Authorization: Bearer ... */
	const char *body;     /* sent with Content-Type: application/json */
	const char *headers;  /* extra "Name: v\r\n" lines */
	const char *src_ip;   /* for a new connection */
	struct lh_conn *conn; /* keep-alive connection, or NULL = new one
			       * with Connection: close */
};
int lh_do_try(struct lh_relay *r, const struct lh_req *q,
	      struct lh_resp **out);
/* Asserting versions.  body: a JSON value (not stolen) or NULL. */
struct lh_resp *lh_do(struct lh_relay *r, const struct lh_req *q);
struct lh_resp *lh_get(struct lh_relay *r, const char *path,
		       const char *bearer);
struct lh_resp *lh_post(struct lh_relay *r, const char *path,
			const char *bearer, json_t *body);
struct lh_resp *lh_delete(struct lh_relay *r, const char *path,
			  const char *bearer);

/* POST /login of user with password, whatever it answers (the caller
 * frees it; nothing recorded as a secret: a wrong password may be
 * short). */
struct lh_resp *lh_login_try(struct lh_relay *r, const char *user,
			     const char *password);

/* ---- API flows (asserting) ---- */
/* POST /login, 200, returns the token (recorded as a secret). */
char *lh_login(struct lh_relay *r, const char *user, const char *password);
struct lh_pin {
	char *session_id;
	char *pin;
	char *agent_ticket;
};
/* POST /sessions with lock (NULL = none sent); asserts 201 and a PIN of
 * 6..10 digits. */
void lh_pin_new(struct lh_relay *r, const char *token, const char *lock,
		struct lh_pin *out);
void lh_pin_clear(struct lh_pin *p);
/* POST /pins/redeem, 200, returns the applet ticket. */
char *lh_redeem(struct lh_relay *r, const char *pin,
		const char *expect_session_id);

/* A session with both tickets (login done by the caller). */
struct lh_session {
	struct lh_pin pin;
	char *applet_ticket;
};
void lh_session_new(struct lh_relay *r, const char *token,
		    struct lh_session *out);
void lh_session_clear(struct lh_session *s);

/* ---- streams ---- */
/* Connects and sends the upgrade request with ticket. */
int lh_stream_begin_try(struct lh_relay *r, const char *ticket,
			struct lh_conn **out);
/* Reads the answer; LL_OK with *resp (101 or a refusal). */
int lh_stream_finish_try(struct lh_conn *c, int timeout_ms,
			 struct lh_resp **resp);
/* Opens both streams of a session (agent, applet), asserting 101s. */
void lh_pair_open(struct lh_relay *r, const struct lh_session *s,
		  struct lh_conn **agent, struct lh_conn **applet);
/* Writes a few bytes each way and checks they arrive. */
void lh_pair_ping(struct lh_conn *a, struct lh_conn *b);

/*
 * One end of a transfer, on its own thread, non-blocking TLS: sends
 * send_total bytes of a seeded pseudo-random stream and reads recv_total
 * bytes, hashing both with SHA-256.  While `paused` is set it does not
 * read.  pace_us sleeps between 64 KiB chunks (to spread a transfer over
 * time).
 */
struct lh_end {
	struct lh_conn *c;
	uint64_t send_total;
	uint64_t recv_total;
	uint64_t seed;
	unsigned pace_us;
	atomic_bool paused;
	atomic_uint_least64_t sent;
	atomic_uint_least64_t recvd;
	char sent_sha[65];
	char recv_sha[65];
	char err[256]; /* empty on success */
	GThread *thread;
	GMutex lock; /* with progress: recvd grew */
	GCond progress;
};
void lh_end_start(struct lh_end *e, struct lh_conn *c, uint64_t send_total,
		  uint64_t recv_total, uint64_t seed, unsigned pace_us,
		  bool start_paused);
/* Joins; returns true when the end finished without error. */
bool lh_end_join(struct lh_end *e);
/* Waits until the end has received at least n bytes: false after
 * timeout_ms. */
bool lh_end_wait_recvd(struct lh_end *e, uint64_t n, int timeout_ms);

/* ---- metrics ---- */
/* Sum of every sample of /metrics whose "name{labels}" contains each of
 * the NULL-terminated substrings; -1 when no sample matches. */
double lh_metric_sum(const char *metrics_text, ...) G_GNUC_NULL_TERMINATED;

/* Runs `audit verify` on the (stopped) relay's state and asserts it exits
 * 0 with "audit: N records, chain intact"; returns N. */
int64_t lh_audit_verify_intact(struct lh_relay *r);
/* Stops the relay (asserting a clean exit within 10 s), then
 * lh_audit_verify_intact; returns the number of records. */
int64_t lh_relay_stop_verify(struct lh_relay *r);
/* The relay's audit records (`audit export`, jsonl) whose action is
 * `action`, as a new array. */
json_t *lh_audit_records(struct lh_relay *r, const char *action);

/* Milliseconds on the monotonic clock. */
int64_t lh_now_ms(void);

#endif
