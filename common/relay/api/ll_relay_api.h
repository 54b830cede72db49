/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay's API library (api/): what each endpoint under /api/v1/ does,
 * the stream tickets, the audit of every request.  The core never calls
 * it by name: `serve` puts ll_api_ops in relay->api before ll_core_run(),
 * so the API depends on the core (ll_relay.h) and not the reverse.
 */
#ifndef LL_RELAY_API_PUBLIC_H
#define LL_RELAY_API_PUBLIC_H

#include "ll_relay.h"

/* The API's answers to the core's questions (struct ll_relay_api_ops). */
extern const struct ll_relay_api_ops ll_api_ops;

/* After the loop ended (serve): writes the summaries of refusals counted
 * in the current window and frees the API's state. */
void ll_api_shutdown(struct ll_relay *relay);

/*
 * Before the loop (serve), when no stream can be live: ends the sessions
 * that a crash or restart left connected (or waiting with a stream
 * spent), reason "relay_restart", each with an audit record, so that no
 * session stays `connected` forever.  < 0 when the store failed.
 */
int ll_api_sessions_recover(struct ll_relay *relay);

/*
 * Before the loop (serve): loads the PIN page's brand (relay.conf
 * brand_dir, checked as `brand check` does) and looks at the portable
 * applet it offers (portable_applet).  A brand with problems or an
 * applet file that cannot be read: < 0, every problem logged and the
 * first in errbuf, and the relay does not start.  On SIGHUP the page
 * loads again and keeps the previous brand when the new one fails.
 */
int ll_api_page_open(struct ll_relay *relay, char *errbuf, size_t errlen);

/* ---- directory technicians (api_directory.c, ll_ldap.h) ---- */
struct ll_ldap_config;
struct ll_ldap_user;
/* Who the audit says changed a technician for the directory: "cli" for
 * `ldap sync`, "directory" for the sync of `serve`, the technician at
 * its login; and from where (may be NULL). */
struct ll_dir_actor {
	const char *actor;
	const char *source_ip;
};
/* What a sync changed. */
struct ll_dir_counts {
	unsigned added, updated, disabled, enabled, skipped;
};
/* The org a configuration is for ([ldap]: the first org). */
int ll_api_ldap_org(struct ll_relay *relay, const struct ll_ldap_config *c,
		    int64_t *org_id);
/* The org's configuration, or NULL when it has none. */
const struct ll_ldap_config *ll_api_ldap_config(struct ll_relay *relay,
						int64_t org_id);
/*
 * Makes the org's technician u->login what the directory (c) says of u,
 * a member of a mapped group: added when missing, DN, display name and
 * technician group (group_map) followed, disabled or enabled again as
 * the directory says; each change audited.  LL_ERR_CONFLICT: a local
 * account has that name (left alone); LL_ERR_INVALID_ARG: the login name
 * is no technician's; LL_ERR_NOT_FOUND: its technician group does not
 * exist in the org.  In the caller's transaction, if any.  *id_out (may
 * be NULL): the technician.
 */
int ll_api_ldap_user_apply(struct ll_relay *relay, int64_t org_id,
			   const struct ll_ldap_config *c,
			   const struct ll_ldap_user *u,
			   const struct ll_dir_actor *who,
			   struct ll_dir_counts *cnt, int64_t *id_out);
/*
 * A sync (users from ll_ldap_sync_read): each user applied as above,
 * then every directory technician of the org not among them disabled;
 * in one transaction (nothing changes on failure).
 */
int ll_api_ldap_sync_apply(struct ll_relay *relay, int64_t org_id,
			   const struct ll_ldap_config *c,
			   struct ll_ldap_user *const *users, size_t n,
			   const struct ll_dir_actor *who,
			   struct ll_dir_counts *cnt);
/* From ll_api_periodic: starts the sync of each [ldap] group that is due
 * (every sync_interval_s, the first at once) on the worker pool. */
void ll_api_dir_sync_tick(struct ll_relay *relay);
void ll_api_dir_sync_free(struct ll_relay *relay);

/* ---- the `file` object of a "file" audit event (audit_file.c) ---- */
/* Longest file name a "file" event's `file` object keeps (bytes). */
#define LL_API_FILE_NAME_MAX 256u
/*
 * Checks in, the `file` object a peer sent with a "file" event (#13):
 * the members of docs/API.md only ({"name", "size", "sha256"?,
 * "direction", "outcome"}), each checked; into *out (new reference) as
 * the audit keeps it, the name through the display rule (ll_text.h).
 * LL_ERR_SCHEMA: anything else (*out untouched); LL_ERR_NOMEM.
 */
int ll_api_audit_file(json_t *in, json_t **out);

#endif
