/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay's persistent state behind one small interface, so that a
 * PostgreSQL backend can serve several relay nodes later.  The SQLite
 * implementation runs in WAL mode with synchronous=FULL (every commit is
 * fsync'd before the call returns), prepared statements only, and
 * versioned migrations on PRAGMA user_version.
 *
 * All functions return LL_OK or a negative ll_err (LL_ERR_NOT_FOUND,
 * LL_ERR_CONFLICT, LL_ERR_STORE, ...).  Out parameters are untouched on
 * failure.  Times are Unix seconds.  Secrets are never stored: tokens and
 * tickets as SHA-256, PINs as HMAC (see ll_auth.h).
 */
#ifndef LL_STORE_H
#define LL_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

#include "ll_util.h"

#define LL_HASH_LEN 32
#define LL_SESSION_ID_LEN 32 /* hex characters of a 128-bit random id */

struct ll_store;

/* Opens (creating if absent) and migrates.  LL_ERR_SCHEMA_VERSION when
 * the file was written by a newer Lifeline. */
int ll_store_open(const char *path, struct ll_store **out);
void ll_store_close(struct ll_store *st);
/* The last SQLite error message (for logs), never NULL. */
const char *ll_store_errmsg(const struct ll_store *st);

/*
 * Transactions for multi-step actions (nestable: only the outer counts).
 * The outer level is BEGIN IMMEDIATE (takes the write lock, waiting up to
 * the busy timeout for the other process); inner levels are savepoints,
 * so an inner rollback undoes only its own part.  Commit without begin:
 * LL_ERR_INVALID_ARG.
 */
int ll_store_begin(struct ll_store *st);
int ll_store_commit(struct ll_store *st);
void ll_store_rollback(struct ll_store *st);

/* ---- orgs ---- */
int ll_store_org_create(struct ll_store *st, const char *name, int64_t now,
			int64_t *id_out);
int ll_store_org_find(struct ll_store *st, const char *name, int64_t *id_out);
/* Name of an org (caller frees). */
int ll_store_org_name(struct ll_store *st, int64_t id, char **name_out);
/* The only org when exactly one exists (single-tenant default):
 * LL_ERR_NOT_FOUND when there is none, LL_ERR_CONFLICT when several. */
int ll_store_org_default(struct ll_store *st, int64_t *id_out);
/* The first org made (the lowest id, `init`'s): LL_ERR_NOT_FOUND when
 * there is none. */
int ll_store_org_first(struct ll_store *st, int64_t *id_out);
/* The org's display name, the words end users see (caller frees; NULL,
 * with LL_OK, when none was set); LL_ERR_NOT_FOUND for no such org. */
int ll_store_org_display_name(struct ll_store *st, int64_t id,
			      char **name_out);
/* Sets it (NULL: none); LL_ERR_NOT_FOUND for no such org.  The caller
 * checks the text (ll_text_printable). */
int ll_store_org_set_display_name(struct ll_store *st, int64_t id,
				  const char *name);

/* ---- technicians ----
 * add: LL_ERR_CONFLICT for a username taken in that org, LL_ERR_NOT_FOUND
 * for an unknown org. */
struct ll_technician {
	int64_t id;
	int64_t org_id;
	char *org_name;
	char *username;
	char *pw_hash; /* PHC string */
	bool is_admin;
	bool disabled;
	int64_t created_at;
	/* A generated one-time password: must be changed at first login,
	 * and is refused from password_expires_at on (0: never). */
	bool must_change_password;
	int64_t password_expires_at;
	/* What end users see for who asks; NULL when never set (shown
	 * in plain words then, never the username or the org's name). */
	char *display_name;
	char *org_display_name;
	/* A directory technician (issue 12): its DN, NULL for a local
	 * account.  Its pw_hash is LL_STORE_DIRECTORY_PW: it has no local
	 * password, only the directory logs it in. */
	char *directory_dn;
	bool directory_disabled; /* the directory's sync disabled it */
	/* The technician's group (NULL: none) and its permissions
	 * (LL_PERM_* of ll_control.h; 0 without a group).  What they
	 * make the technician's rights is the relay's rule
	 * (ll_relay_permissions). */
	char *group_name;
	uint32_t group_permissions;
	/* Its group's end_user_cidrs (NULL: none, or no group): where
	 * the technician's PINs may be redeemed from, besides the org's
	 * own ranges. */
	char *group_end_user_cidrs;
};
/* The pw_hash of a directory technician: no PHC string, so no password
 * verifies against it. */
#define LL_STORE_DIRECTORY_PW "!directory"
void ll_technician_free(struct ll_technician *t);
void ll_technician_list_free(struct ll_technician **list, size_t n);

int ll_store_technician_add(struct ll_store *st, int64_t org_id,
			    const char *username, const char *pw_hash,
			    bool is_admin, int64_t now, int64_t *id_out);
int ll_store_technician_find(struct ll_store *st, int64_t org_id,
			     const char *username, struct ll_technician **out);
int ll_store_technician_get(struct ll_store *st, int64_t id,
			    struct ll_technician **out);
int ll_store_technician_set_disabled(struct ll_store *st, int64_t org_id,
				     const char *username, bool disabled);
/* Replaces the PHC password hash with one an administrator chose: not a
 * one-time password.  LL_ERR_NOT_FOUND for no such user. */
int ll_store_technician_set_password(struct ll_store *st, int64_t org_id,
				     const char *username,
				     const char *pw_hash);
/* Makes the current password a one-time password: it must be changed at
 * first login and is refused from expires_at (> 0) on. */
int ll_store_technician_set_one_time(struct ll_store *st, int64_t id,
				     int64_t expires_at);
/* Sets the display name (NULL: none); LL_ERR_NOT_FOUND for no such
 * technician. */
int ll_store_technician_set_display_name(struct ll_store *st, int64_t id,
					 const char *name);
/* Puts the technician into the org's group group_name, or into none
 * (NULL).  LL_ERR_NOT_FOUND when there is no such technician or no such
 * group in the org. */
int ll_store_technician_set_group(struct ll_store *st, int64_t org_id,
				  const char *username,
				  const char *group_name);
/* The technician's own change: replaces old_hash by new_hash (no longer
 * one-time), only while the stored hash is still old_hash; otherwise
 * (changed meanwhile, or no such technician) LL_ERR_CONFLICT. */
int ll_store_technician_change_password(struct ll_store *st, int64_t id,
					const char *old_hash,
					const char *new_hash);
/* A directory technician: no password (LL_STORE_DIRECTORY_PW), its DN
 * and display name (may be NULL), disabled as the directory says.
 * LL_ERR_CONFLICT for a username taken in that org. */
int ll_store_technician_add_directory(struct ll_store *st, int64_t org_id,
				      const char *username, const char *dn,
				      const char *display_name, bool disabled,
				      int64_t now, int64_t *id_out);
/* Its DN, as the directory now names it. */
int ll_store_technician_set_directory_dn(struct ll_store *st, int64_t id,
					 const char *dn);
/* The directory's word on the account: disabled sets both disabled and
 * directory_disabled; enabled clears both, but only when the directory
 * was what disabled it (LL_ERR_CONFLICT when an administrator did). */
int ll_store_technician_set_directory_disabled(struct ll_store *st, int64_t id,
					       bool disabled);
/* org_id 0 lists every org. */
int ll_store_technician_list(struct ll_store *st, int64_t org_id,
			     struct ll_technician ***out, size_t *n_out);

/* ---- technician groups (group.c) ----
 * Per org; permissions is an opaque bitmask to the store (the relay's
 * LL_PERM_*). */
struct ll_group {
	int64_t id;
	int64_t org_id;
	char *org_name;
	char *name;
	uint32_t permissions;
	int64_t created_at;
	int64_t members; /* technicians in it */
	/* Where its technicians' PINs redeem from (the text of the
	 * end_user_cidrs policy); NULL: no restriction of the group's. */
	char *end_user_cidrs;
};
void ll_group_free(struct ll_group *g);
void ll_group_list_free(struct ll_group **list, size_t n);
/* LL_ERR_CONFLICT for a name taken in that org. */
int ll_store_group_add(struct ll_store *st, int64_t org_id, const char *name,
		       uint32_t permissions, int64_t now, int64_t *id_out);
int ll_store_group_find(struct ll_store *st, int64_t org_id, const char *name,
			struct ll_group **out);
/* LL_ERR_NOT_FOUND: no such group. */
int ll_store_group_set_permissions(struct ll_store *st, int64_t org_id,
				   const char *name, uint32_t permissions);
/* cidrs NULL or "": none.  LL_ERR_NOT_FOUND: no such group.  The
 * caller checks the text (the relay's policy parser). */
int ll_store_group_set_end_user_cidrs(struct ll_store *st, int64_t org_id,
				      const char *name, const char *cidrs);
/* LL_ERR_NOT_FOUND: no such group; LL_ERR_CONFLICT while technicians
 * are in it (left without a group they would hold every capability). */
int ll_store_group_remove(struct ll_store *st, int64_t org_id,
			  const char *name);
/* org_id 0: every org's, by org and name. */
int ll_store_group_list(struct ll_store *st, int64_t org_id,
			struct ll_group ***out, size_t *n_out);

/* ---- bearer tokens (stored as SHA-256) ---- */
int ll_store_token_add(struct ll_store *st, const uint8_t hash[LL_HASH_LEN],
		       int64_t technician_id, int64_t now, int64_t expires_at);
/*
 * Valid when not past expires_at and used within idle_timeout seconds;
 * refreshes last_used.  LL_ERR_NOT_FOUND (unknown), LL_ERR_EXPIRED
 * (expired or idle: the token is deleted).  Expired when now >=
 * expires_at or now - last_used > idle_timeout; idle_timeout 0 turns the
 * idle check off.
 */
int ll_store_token_check(struct ll_store *st, const uint8_t hash[LL_HASH_LEN],
			 int64_t now, int64_t idle_timeout,
			 int64_t *technician_id_out);
int ll_store_token_delete(struct ll_store *st,
			  const uint8_t hash[LL_HASH_LEN]);
int ll_store_token_delete_for_technician(struct ll_store *st,
					 int64_t technician_id);
/* Every token of the technician except the one hashed as keep. */
int ll_store_token_delete_for_technician_but(struct ll_store *st,
					     int64_t technician_id,
					     const uint8_t keep[LL_HASH_LEN]);

/* ---- sessions and their PINs ---- */
enum ll_session_state {
	LL_SESSION_WAITING = 0,   /* PIN issued, applet not yet joined */
	LL_SESSION_CONNECTED = 1, /* both streams paired */
	LL_SESSION_ENDED = 2,
	LL_SESSION_EXPIRED = 3, /* PIN lifetime over before redeem */
};
const char *ll_session_state_name(enum ll_session_state s);

struct ll_session {
	char id[LL_SESSION_ID_LEN + 1];
	int64_t org_id;
	int64_t technician_id;
	char *lock; /* "any" | "website" | "shortcut" */
	enum ll_session_state state;
	bool pin_used;
	int64_t created_at;
	int64_t expires_at;   /* PIN expiry */
	int64_t redeemed_at;  /* 0 = not yet */
	int64_t connected_at; /* 0 = not yet */
	int64_t ended_at;     /* 0 = not yet */
	char *end_reason;     /* NULL until ended */
	uint64_t bytes_agent_to_applet;
	uint64_t bytes_applet_to_agent;
	bool agent_stream_used; /* the ticket opened its one stream */
	bool applet_stream_used;
	/* The capabilities its tickets carry (LL_CAP_*): what its
	 * technician held when it was made. */
	uint32_t permissions;
};
void ll_session_free(struct ll_session *s);
void ll_session_list_free(struct ll_session **list, size_t n);

struct ll_session_new {
	const char *id;
	int64_t org_id;
	int64_t technician_id;
	const char *lock;
	const uint8_t *pin_mac;           /* LL_HASH_LEN */
	const uint8_t *agent_ticket_hash; /* LL_HASH_LEN */
	int64_t created_at;
	int64_t expires_at;
	uint32_t permissions; /* the capabilities its tickets carry */
};
/*
 * LL_ERR_CONFLICT when a live (unused, unexpired at created_at) session
 * already has the same pin_mac: the caller draws another PIN.
 */
int ll_store_session_create(struct ll_store *st,
			    const struct ll_session_new *s);
/* Newest session with that PIN MAC, used or not (caller decides). */
int ll_store_session_find_by_pin(struct ll_store *st,
				 const uint8_t pin_mac[LL_HASH_LEN],
				 struct ll_session **out);
/* Marks the PIN used and binds the applet's ticket hash, atomically:
 * LL_ERR_CONFLICT if it was already used (or the session is over, or the
 * ticket hash is taken), LL_ERR_EXPIRED if now >= expires_at,
 * LL_ERR_NOT_FOUND for an unknown id. */
int ll_store_session_redeem(struct ll_store *st, const char *session_id,
			    const uint8_t applet_ticket_hash[LL_HASH_LEN],
			    int64_t now);
/* Which session and side a ticket belongs to. */
int ll_store_session_find_by_ticket(struct ll_store *st,
				    const uint8_t ticket_hash[LL_HASH_LEN],
				    struct ll_session **out,
				    enum ll_side *side_out);
/* Atomically marks that side's stream as opened: LL_ERR_CONFLICT if a
 * stream was already opened with it while the session waits (a connected
 * session's sides may attach again: the relay's grace, pair.c),
 * LL_ERR_EXPIRED if the session is ended or expired. */
int ll_store_session_claim_stream(struct ll_store *st, const char *session_id,
				  enum ll_side side);
int ll_store_session_get(struct ll_store *st, const char *session_id,
			 struct ll_session **out);
/* LL_OK also when already connected; LL_ERR_CONFLICT when over. */
int ll_store_session_set_connected(struct ll_store *st, const char *session_id,
				   int64_t now);
/* Ends a session (no-op LL_OK if already ended) with reason and byte
 * counts. */
int ll_store_session_end(struct ll_store *st, const char *session_id,
			 int64_t now, const char *reason,
			 uint64_t bytes_agent_to_applet,
			 uint64_t bytes_applet_to_agent);
/* Marks waiting sessions whose unused PIN expired (expires_at <= now) as
 * expired.  Redeemed sessions waiting for their streams are left alone. */
int ll_store_session_expire(struct ll_store *st, int64_t now);
/* The org's connected sessions (streams paired, or in their grace after
 * a loss), the oldest first (limit rows): the Live page's. */
int ll_store_session_connected(struct ll_store *st, int64_t org_id,
			       size_t limit, struct ll_session ***out,
			       size_t *n_out);
/* A technician's sessions, newest first (limit rows). */
int ll_store_session_list(struct ll_store *st, int64_t technician_id,
			  size_t limit, struct ll_session ***out,
			  size_t *n_out);

/* The same, handing back the ids it expired (the relay closes their
 * waiting streams).  Caller frees each id and the array. */
int ll_store_session_expire_list(struct ll_store *st, int64_t now,
				 char ***ids_out, size_t *n_out);
/*
 * Live PINs (issued, not redeemed, not expired at now, session not over)
 * of a technician or of an org: how many, and when the first of them
 * expires (0 when none).
 */
int ll_store_pins_live_of_technician(struct ll_store *st,
				     int64_t technician_id, int64_t now,
				     int64_t *count_out,
				     int64_t *first_expiry_out);
int ll_store_pins_live_of_org(struct ll_store *st, int64_t org_id, int64_t now,
			      int64_t *count_out, int64_t *first_expiry_out);
/* Marks redeemed sessions whose streams have not met within connect_s of
 * the redeem (redeemed_at + connect_s <= now) as expired, and hands back
 * their ids (the relay closes the stream that waits).  Caller frees each
 * id and the array. */
int ll_store_session_expire_unconnected(struct ll_store *st, int64_t now,
					int64_t connect_s, char ***ids_out,
					size_t *n_out);
/* At the relay's start, when no stream is live: ends (state ended, the
 * given reason) every connected session and every waiting one whose
 * ticket already opened its one stream, none of which can go on, and
 * hands back their ids.  Caller frees each id and the array. */
int ll_store_session_end_orphaned(struct ll_store *st, int64_t now,
				  const char *reason, char ***ids_out,
				  size_t *n_out);
/* Ids of waiting or connected sessions whose technician is disabled
 * (the relay ends them).  Caller frees each id and the array. */
int ll_store_session_live_of_disabled(struct ll_store *st, char ***ids_out,
				      size_t *n_out);
/* Ids of waiting or connected sessions of enabled technicians whose
 * tickets carry a permission the technician no longer holds: its group's
 * permissions, or no_group for a technician without a group (the relay
 * ends them).  Caller frees each id and the array. */
int ll_store_session_live_not_permitted(struct ll_store *st, uint32_t no_group,
					char ***ids_out, size_t *n_out);

/* ---- org policy ----
 * KEY = VALUE text per org.  The store keeps what it is given; which keys
 * exist, their values and defaults are the relay's (docs/API.md). */
struct ll_policy_entry {
	char *key;
	char *value;
};
void ll_policy_entries_free(struct ll_policy_entry *list, size_t n);

/* The value set for key in org (caller frees); LL_ERR_NOT_FOUND when the
 * org has not set it. */
int ll_store_policy_get(struct ll_store *st, int64_t org_id, const char *key,
			char **value_out);
/* Sets or replaces; LL_ERR_NOT_FOUND for an unknown org. */
int ll_store_policy_set(struct ll_store *st, int64_t org_id, const char *key,
			const char *value);
/* LL_ERR_NOT_FOUND when the org had not set it. */
int ll_store_policy_unset(struct ll_store *st, int64_t org_id,
			  const char *key);
/* What the org has set, by key. */
int ll_store_policy_list(struct ll_store *st, int64_t org_id,
			 struct ll_policy_entry **out, size_t *n_out);
/* Every org's value of one key: each entry's key is the org's id in
 * decimal, its value what that org set (orgs that did not: absent). */
int ll_store_policy_list_key(struct ll_store *st, const char *key,
			     struct ll_policy_entry **out, size_t *n_out);

/* ---- channels (calling cards) and their queue ----
 * A channel belongs to an org; its credential is derived, never stored
 * (ll_channel_credential, ll_auth.h): the store keeps the random handle
 * (its public half, by which join finds the channel). */
struct ll_channel {
	int64_t id;
	int64_t org_id;
	char *org_name;
	char *name;
	char *group_name; /* NULL: any technician of the org */
	uint8_t handle[LL_CHANNEL_HANDLE_LEN];
	int64_t created_at;
};
void ll_channel_free(struct ll_channel *c);
void ll_channel_list_free(struct ll_channel **list, size_t n);
/* LL_ERR_CONFLICT for a name (or handle) taken in that org. */
int ll_store_channel_add(struct ll_store *st, int64_t org_id, const char *name,
			 const char *group_name,
			 const uint8_t handle[LL_CHANNEL_HANDLE_LEN],
			 int64_t now, int64_t *id_out);
int ll_store_channel_find(struct ll_store *st, int64_t org_id,
			  const char *name, struct ll_channel **out);
int ll_store_channel_by_handle(struct ll_store *st,
			       const uint8_t handle[LL_CHANNEL_HANDLE_LEN],
			       struct ll_channel **out);
int ll_store_channel_get(struct ll_store *st, int64_t id,
			 struct ll_channel **out);
/* Deletes the channel; its waiting entries end as cancelled (their
 * ids handed back, caller frees).  LL_ERR_NOT_FOUND: no such channel. */
int ll_store_channel_remove(struct ll_store *st, int64_t org_id,
			    const char *name, char ***cancelled_out,
			    size_t *n_out);
/* org_id 0: every org's, by org and name. */
int ll_store_channel_list(struct ll_store *st, int64_t org_id,
			  struct ll_channel ***out, size_t *n_out);

enum ll_queue_state {
	LL_QUEUE_WAITING = 0,
	LL_QUEUE_PICKED = 1,    /* a technician took it: a session exists */
	LL_QUEUE_CANCELLED = 2, /* the user left (or the channel went) */
	LL_QUEUE_EXPIRED = 3,   /* not asked for in time, or waited too long */
};
const char *ll_queue_state_name(enum ll_queue_state s);

struct ll_queue_entry {
	char id[LL_SESSION_ID_LEN + 1]; /* 32 hex, like a session id */
	int64_t channel_id;
	int64_t org_id;
	char *channel_name; /* NULL once the channel is removed */
	char *description;  /* as stored: printable, bounded; may be NULL */
	enum ll_queue_state state;
	int64_t created_at;
	int64_t expires_at; /* the longest it may wait */
	int64_t deadline;   /* gone unless asked for again before */
	char session_id[LL_SESSION_ID_LEN + 1]; /* "" until picked */
	int64_t technician_id;                  /* 0 until picked */
};
void ll_queue_entry_free(struct ll_queue_entry *e);
void ll_queue_entry_list_free(struct ll_queue_entry **list, size_t n);

struct ll_queue_entry_new {
	const char *id;
	int64_t channel_id;
	int64_t org_id;
	const uint8_t *ticket_hash; /* LL_HASH_LEN */
	const char *description;    /* NULL or printable text */
	const char *source_ip;      /* NULL or text */
	int64_t created_at;
	int64_t expires_at;
	int64_t deadline;
};
int ll_store_queue_add(struct ll_store *st,
		       const struct ll_queue_entry_new *e);
int ll_store_queue_get(struct ll_store *st, const char *id,
		       struct ll_queue_entry **out);
int ll_store_queue_by_ticket(struct ll_store *st,
			     const uint8_t ticket_hash[LL_HASH_LEN],
			     struct ll_queue_entry **out);
/* Waiting entries alive at now (deadline > now) of an org (0: all), and
 * of those from source_ip when not NULL. */
int ll_store_queue_count(struct ll_store *st, int64_t org_id,
			 const char *source_ip, int64_t now,
			 int64_t *count_out);
/* 1 + the live waiting entries of the org that came before e. */
int ll_store_queue_position(struct ll_store *st,
			    const struct ll_queue_entry *e, int64_t now,
			    int64_t *pos_out);
/* The org's live waiting entries, oldest first (limit rows). */
int ll_store_queue_list(struct ll_store *st, int64_t org_id, int64_t now,
			size_t limit, struct ll_queue_entry ***out,
			size_t *n_out);
/* Moves a waiting entry's deadline (the waiting applet asked again). */
int ll_store_queue_touch(struct ll_store *st, const char *id,
			 int64_t deadline);
/* Takes a waiting entry, alive at now, for technician_id and session_id:
 * LL_ERR_CONFLICT when it is not waiting (someone else was first, the
 * user left) or no longer alive. */
int ll_store_queue_pickup(struct ll_store *st, const char *id,
			  int64_t technician_id, const char *session_id,
			  int64_t now);
/* Ends a waiting entry as cancelled: LL_ERR_CONFLICT when not waiting. */
int ll_store_queue_cancel(struct ll_store *st, const char *id, int64_t now);
/* Ends waiting entries past their deadline as expired and hands back
 * those entries (caller frees); forgets ended entries whose end is
 * before forget_before. */
int ll_store_queue_expire(struct ll_store *st, int64_t now,
			  int64_t forget_before, struct ll_queue_entry ***out,
			  size_t *n_out);
/* A session a technician picked up from queue entry entry_id: already
 * redeemed (its applet ticket is the entry's), no live PIN (pin_mac is a
 * random stand-in).  LL_ERR_CONFLICT when there is no such entry. */
int ll_store_session_create_picked(struct ll_store *st,
				   const struct ll_session_new *s,
				   const char *entry_id);

/* ---- second factor (TOTP), mfa.c ----
 * One row per technician who ever began an enrolment.  Seeds come and go
 * sealed (the relay seals them under the at-rest key, docs/SECURITY.md);
 * recovery codes as keyed hashes.  No row: no MFA, no lock. */
#define LL_MFA_SEALED_MAX 128
struct ll_mfa {
	int64_t technician_id;
	uint8_t seed[LL_MFA_SEALED_MAX]; /* sealed; seed_len 0: not enrolled */
	size_t seed_len;
	uint8_t pending_seed[LL_MFA_SEALED_MAX]; /* an enrolment under way */
	size_t pending_len;
	int64_t pending_at;
	int64_t enabled_at;
	int64_t last_step; /* the newest TOTP step used, -1: none */
	int64_t failures;  /* wrong codes in a row */
	bool locked;
};
/* LL_ERR_NOT_FOUND: no row (never enrolled, or reset). */
int ll_store_mfa_get(struct ll_store *st, int64_t technician_id,
		     struct ll_mfa *out);
/* Starts (or starts over) an enrolment. */
int ll_store_mfa_set_pending(struct ll_store *st, int64_t technician_id,
			     const uint8_t *sealed, size_t len, int64_t now);
/* The pending seed, sealed again as the seed, becomes the one: MFA is on,
 * step is used.  LL_ERR_NOT_FOUND when nothing is pending. */
int ll_store_mfa_confirm(struct ll_store *st, int64_t technician_id,
			 const uint8_t *sealed, size_t len, int64_t step,
			 int64_t now);
/* Takes a TOTP step (and clears the failures) only when it is newer than
 * the last one used: LL_ERR_CONFLICT otherwise, a code used twice. */
int ll_store_mfa_use_step(struct ll_store *st, int64_t technician_id,
			  int64_t step);
/* One more wrong code; the lock_at'th in a row locks the account.  The
 * row afterwards in *after (may be NULL). */
int ll_store_mfa_fail(struct ll_store *st, int64_t technician_id,
		      int64_t lock_at, struct ll_mfa *after);
int ll_store_mfa_clear_failures(struct ll_store *st, int64_t technician_id);
/* Lifts the lock and clears the failures; LL_ERR_NOT_FOUND: no row. */
int ll_store_mfa_unlock(struct ll_store *st, int64_t technician_id);
/* Forgets seed, lock and recovery codes; LL_ERR_NOT_FOUND: no row. */
int ll_store_mfa_reset(struct ll_store *st, int64_t technician_id);
/* Replaces the technician's recovery codes by these keyed hashes. */
int ll_store_mfa_recovery_set(struct ll_store *st, int64_t technician_id,
			      const uint8_t (*macs)[LL_HASH_LEN], size_t n);
/* Spends one: LL_ERR_NOT_FOUND when unknown or already used. */
int ll_store_mfa_recovery_use(struct ll_store *st, int64_t technician_id,
			      const uint8_t mac[LL_HASH_LEN], int64_t now);
int ll_store_mfa_recovery_left(struct ll_store *st, int64_t technician_id,
			       int64_t *n_out);
/* A login waiting for its second step, by the SHA-256 of its mfa_token;
 * get answers LL_ERR_NOT_FOUND also once it expired. */
int ll_store_mfa_challenge_add(struct ll_store *st,
			       const uint8_t hash[LL_HASH_LEN],
			       int64_t technician_id, int64_t now,
			       int64_t expires_at);
int ll_store_mfa_challenge_get(struct ll_store *st,
			       const uint8_t hash[LL_HASH_LEN], int64_t now,
			       int64_t *technician_id_out);
int ll_store_mfa_challenge_delete(struct ll_store *st,
				  const uint8_t hash[LL_HASH_LEN]);

/* Every row holding a sealed seed (seed or pending_seed), for `key
 * rotate`; free with free() after wiping. */
int ll_store_mfa_sealed_list(struct ll_store *st, struct ll_mfa **out,
			     size_t *n_out);
/* Replaces a row's two sealed columns by m's (length 0: NULL). */
int ll_store_mfa_reseal(struct ll_store *st, const struct ll_mfa *m);

/* ---- the at-rest key's state (mfa.c; docs/SECURITY.md, "Rotating the
 * at-rest key") ----
 * key_id: ll_relay_key_id of the key everything is sealed under (16 hex
 * digits); mac_key: the key of the keyed hashes, sealed under it.
 * LL_ERR_NOT_FOUND: never rotated. */
#define LL_KEY_ID_LEN 16
int ll_store_at_rest_get(struct ll_store *st, char key_id[LL_KEY_ID_LEN + 1],
			 uint8_t *mac_sealed, size_t size, size_t *len_out);
int ll_store_at_rest_set(struct ll_store *st, const char *key_id,
			 const uint8_t *mac_sealed, size_t len, int64_t now);

/* ---- audit: append-only, chained (keyed with HMAC-SHA256) ---- */
struct ll_audit_event {
	int64_t org_id;    /* 0 when unknown */
	const char *actor; /* "technician:alice", "applet", "cli", "anonymous" */
	const char *action;     /* "login", "pin.create", "stream.open", ... */
	const char *outcome;    /* "ok" or an API error code */
	const char *source_ip;  /* may be NULL */
	const char *session_id; /* may be NULL */
	const char *detail_json; /* JSON object text or NULL; no secrets */
};

#define LL_AUDIT_KEY_LEN 32
#define LL_AUDIT_KEY_ID_LEN 16 /* hex characters */
/* The key's public name: hex of HMAC(key, "lifeline audit key id")[:8]. */
int ll_audit_key_id(const uint8_t key[LL_AUDIT_KEY_LEN],
		    char out[LL_AUDIT_KEY_ID_LEN + 1]);

/*
 * The audit key (kept outside the database, STATE/audit.key).  With it
 * the store MACs every record of the keyed epoch (audit.c) and verify
 * recomputes those MACs; NULL forgets it.  A chain is keyed from the
 * "audit.keyed" record on, which ll_store_audit_start_keyed appends
 * (LL_ERR_CONFLICT when the chain has one already).  Appending to a
 * keyed chain without the key is LL_ERR_CONFIG; holding the key,
 * appending to a chain that has no keyed epoch is LL_ERR_CONFLICT: the
 * epoch is started on purpose, never by itself.
 */
int ll_store_audit_set_key(struct ll_store *st,
			   const uint8_t key[LL_AUDIT_KEY_LEN]);
int ll_store_audit_start_keyed(struct ll_store *st, const char *actor,
			       int64_t now);
/* seq of the "audit.keyed" record, 0 when the chain has none. */
int ll_store_audit_keyed_from(struct ll_store *st, int64_t *seq_out);

/*
 * Appends one record chained to the previous one (audit.c has the rules).
 * Durable (fsync'd) when it returns LL_OK -- unless called inside the
 * caller's ll_store_begin, then with the caller's commit.  detail_json
 * must be a JSON object (LL_ERR_INVALID_ARG), fields at most 64 KiB
 * (LL_ERR_TOO_LARGE); the action "audit.keyed" is the store's own.
 *
 * Triggers (made again on every open) refuse UPDATE and DELETE and any
 * INSERT that does not extend the chain (seq = head + 1, prev_hash = the
 * head's hash).  They guard against accidents and naive tools only: to
 * alter a record, as the tests of verify do, run on a plain sqlite3
 * connection
 *   DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;
 *   DROP TRIGGER audit_extend_only;
 *   UPDATE audit SET outcome = 'x' WHERE seq = 3;
 */
int ll_store_audit_append(struct ll_store *st, const struct ll_audit_event *ev,
			  int64_t now);
/* The newest record's seq and hash (0 and zeros when empty). */
int ll_store_audit_head(struct ll_store *st, int64_t *seq_out,
			uint8_t mac_out[LL_HASH_LEN]);
/* The stored hash of record seq: LL_ERR_NOT_FOUND when there is none. */
int ll_store_audit_mac_at(struct ll_store *st, int64_t seq,
			  uint8_t mac_out[LL_HASH_LEN]);

/* What a walk of the chain found: the first fault, or none. */
enum ll_audit_fault {
	LL_AUDIT_INTACT = 0,
	LL_AUDIT_GAP,          /* bad_seq follows a gap in the numbering */
	LL_AUDIT_LINK,         /* bad_seq's prev_hash is not its parent's */
	LL_AUDIT_MAC,          /* bad_seq's hash does not match its fields */
	LL_AUDIT_KEY_MISMATCH, /* the keyed epoch names another key */
	LL_AUDIT_NOT_KEYED,    /* holding the key, no keyed epoch found */
	LL_AUDIT_HEAD,         /* audit_head disagrees with the last record */
};
struct ll_audit_verify {
	int64_t n_records; /* records that verified, in order */
	int64_t last_seq;  /* the last of them */
	enum ll_audit_fault fault;
	int64_t bad_seq;    /* the first record that fails (fault != 0) */
	int64_t keyed_from; /* seq of "audit.keyed", 0 = none (seen so far) */
	char key_id[LL_AUDIT_KEY_ID_LEN + 1]; /* the epoch's key id */
	bool macs_checked; /* false: keyed records' MACs not checked (no key) */
};
/* Walks the whole chain in one read snapshot.  LL_OK with the findings
 * in out (a fault is not an error), or a store error. */
int ll_store_audit_verify_ex(struct ll_store *st, struct ll_audit_verify *out);
/* LL_OK with the record count, or LL_ERR_AUTH_FAILED with the sequence
 * number of the first record that does not verify (for a deleted
 * record: the one after it; for records cut off the end: the first
 * missing one).  Either pointer may be NULL. */
int ll_store_audit_verify(struct ll_store *st, int64_t *n_records,
			  int64_t *first_bad_seq);
/* Writes records with ts >= since as "jsonl" or "csv" to out, in seq
 * order.  Fields: seq, time (RFC 3339 UTC), org_id, actor, action,
 * outcome, source_ip, session_id, detail (a JSON object in jsonl),
 * prev_hash, hash (hex).  CSV per RFC 4180 with a header row and CRLF;
 * a text field starting with = + - @ gets a leading ' (no formulas in
 * spreadsheets).  Unknown format: LL_ERR_INVALID_ARG; write error:
 * LL_ERR_IO. */
int ll_store_audit_export(struct ll_store *st, FILE *out, const char *format,
			  int64_t since);
/* The same, only the records of a file transfer whose detail.file.sha256
 * is file_sha256 (NULL: every record): an auditor's search by hash. */
int ll_store_audit_export_file(struct ll_store *st, FILE *out,
			       const char *format, int64_t since,
			       const char *file_sha256);

#endif
