/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Directory login and synchronisation over LDAP (OpenLDAP's libldap):
 * the `[ldap]` configuration of relay.conf (docs/API.md, "Directory
 * login"), the RFC 4515 escaping of filter values, and the three things
 * the relay asks of a directory, each on its own connection and each
 * blocking (run them on the worker pool, never on the relay's loop):
 *  - ll_ldap_login: search the user with the service account, then bind
 *    as the user with the password (search-then-bind);
 *  - the same for `lifeline-relay ldap test USER`;
 *  - ll_ldap_sync_read: every member of a mapped group.
 *
 * Only ldap.c includes <ldap.h>; ldap_config.c is plain C, fuzzed by
 * tests/fuzz/fuzz_ldap.c.  TLS is always on and always verified:
 * `ldaps://`, or `ldap://` with `starttls = true`, against ca_file (or
 * the system's trust store).  The bind password is read from its file
 * (0600) at each use and never kept, logged or stored.
 */
#ifndef LL_LDAP_H
#define LL_LDAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct ll_config;

/* One GROUP_DN=TECHNICIAN_GROUP pair of group_map. */
struct ll_ldap_group_map {
	char *group_dn;
	char *tech_group;
};

/* The most pairs group_map holds, and the longest value of a key. */
#define LL_LDAP_MAP_MAX 64
#define LL_LDAP_VALUE_MAX 1024

/* One `[ldap]` or `[ldap ORG]` group of relay.conf. */
struct ll_ldap_config {
	char *org; /* NULL for [ldap]: the relay's first org */
	char *uri; /* ldaps://... or ldap://... with starttls */
	bool starttls;
	char *ca_file;            /* NULL: the system's trust store */
	char *bind_dn;            /* the service account */
	char *bind_password_file; /* its password, one line, 0600 */
	char *user_base;
	char *user_filter;     /* with %s for the escaped login name */
	char *login_attribute; /* the attribute compared with the first %s */
	char *display_name_attribute; /* default "cn" */
	char *group_base;
	char *group_member_attribute; /* default "member": DNs */
	struct ll_ldap_group_map *map;
	size_t n_map;
	int64_t sync_interval_s; /* default 300 */
};

/* The keys of an `[ldap]` group, NULL-terminated (for
 * ll_config_check_keys). */
extern const char *const ll_ldap_config_keys[];

/* Is this relay.conf group an LDAP one ("ldap" or "ldap ORG")?  *org
 * (may be NULL) points at ORG inside group, or is NULL for "ldap". */
bool ll_ldap_group_name(const char *group, const char **org);

/*
 * Reads group `group` of file into *out (ll_ldap_config_free): defaults,
 * required keys, the URI's scheme and StartTLS, the filter's %s, the
 * group_map.  Relative paths resolve against state_dir.  LL_ERR_CONFIG
 * with "NAME: [GROUP] why" in errbuf.
 */
int ll_ldap_config_parse(const struct ll_config *file, const char *group,
			 const char *state_dir, struct ll_ldap_config **out,
			 char *errbuf, size_t errlen);
/* A deep copy (for a job on another thread); NULL on no memory. */
struct ll_ldap_config *ll_ldap_config_dup(const struct ll_ldap_config *c);
void ll_ldap_config_free(struct ll_ldap_config *c);

/*
 * group_map's text: pairs separated by ';', each split at its last '='
 * (a DN has '=' of its own), both sides trimmed and non-empty, at most
 * LL_LDAP_MAP_MAX pairs, no group DN twice.  LL_ERR_CONFIG with a
 * sentence in errbuf.
 */
int ll_ldap_group_map_parse(const char *text, struct ll_ldap_group_map **out,
			    size_t *n_out, char *errbuf, size_t errlen);
void ll_ldap_group_map_free(struct ll_ldap_group_map *map, size_t n);

/*
 * RFC 4515 escaping of an assertion value: '*', '(', ')', '\', NUL and
 * every byte outside printable ASCII become \XX (two hex digits), so no
 * input can close the filter or add a wildcard.  A new string (NULL on
 * no memory).
 */
char *ll_ldap_escape_value(const char *in, size_t len);
/*
 * The filter tmpl with every %s replaced by the escaped value and every
 * %% by %; any other % is LL_ERR_INVALID_ARG (the configuration check
 * refuses it first).  value NULL puts a bare * instead (a presence
 * match: every user, for the sync).
 */
int ll_ldap_filter_build(const char *tmpl, const char *value, char **out);
/* The attribute a filter compares with its first %s, as in "(uid=%s)":
 * a new string, or NULL when there is none. */
char *ll_ldap_filter_login_attribute(const char *tmpl);

/* ---- the directory itself (ldap.c) ---- */

/* What the directory says of one user. */
struct ll_ldap_user {
	char *dn;
	char *login;        /* the login attribute's value */
	char *display_name; /* NULL when the entry has none */
	bool disabled;      /* userAccountControl has 0x2 (ACCOUNTDISABLE) */
	char **groups;      /* DNs of its groups under group_base */
	size_t n_groups;
	/* the first group_map pair (in its order) it is a member of, or
	 * -1: outside every mapped group */
	int map_index;
};
void ll_ldap_user_free(struct ll_ldap_user *u);
void ll_ldap_user_list_free(struct ll_ldap_user **list, size_t n);

/*
 * Search-then-bind: finds `login` with the service account (one entry,
 * else LL_ERR_AUTH_FAILED), reads its groups, then binds as it with
 * password.  An empty password is LL_ERR_AUTH_FAILED before any
 * connection (an empty simple bind is an anonymous bind, a "success" on
 * many servers).  Wrong password or unknown user: LL_ERR_AUTH_FAILED.
 * Directory unreachable, TLS refused, timeouts, the service account
 * refused: LL_ERR_UNAVAILABLE.  LL_OK with *out; disabled and map_index
 * are for the caller to judge.  errbuf says what happened (never the
 * password).
 */
int ll_ldap_login(const struct ll_ldap_config *c, const char *login,
		  const char *password, struct ll_ldap_user **out,
		  char *errbuf, size_t errlen);
/*
 * Every user (user_filter with * for %s, under user_base) that is a
 * member of a mapped group, each with map_index set (groups not
 * filled).  LL_ERR_UNAVAILABLE as above; any failure reads nothing, so
 * a sync never acts on half an answer.
 */
int ll_ldap_sync_read(const struct ll_ldap_config *c,
		      struct ll_ldap_user ***out, size_t *n_out, char *errbuf,
		      size_t errlen);
/* The DNs a and b name the same entry: both normalised (RFC 4514), then
 * compared without case. */
bool ll_ldap_dn_equal(const char *a, const char *b);

#endif
