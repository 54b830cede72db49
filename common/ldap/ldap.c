/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The directory over libldap (ll_ldap.h): the only file that includes
 * <ldap.h>.  Each call opens its own connection (libldap handles are not
 * shared between threads), turns TLS on with the certificate checked
 * (LDAP_OPT_X_TLS_DEMAND, a TLS context of its own), binds as the service
 * account, does its searches and closes.  Every operation has a deadline
 * (LL_LDAP_TIMEOUT_S), so a directory that stops answering costs a
 * worker thread that long, never the relay's loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ldap.h>

#include "ll_crypto.h"
#include "ll_err.h"
#include "ll_util.h"
#include "ll_ldap.h"

/* Each connect, TLS handshake, bind and search gets this long. */
#define LL_LDAP_TIMEOUT_S 10
/* The groups of one user we look at, and the users of one sync. */
#define LL_LDAP_GROUPS_MAX 1000
#define LL_LDAP_USERS_MAX 100000
/* Users a page of the sync's search asks for (below AD's 1000). */
#define LL_LDAP_PAGE 500
/* AD's userAccountControl: ACCOUNTDISABLE. */
#define UAC_ACCOUNTDISABLE 0x2
#define UAC_ATTRIBUTE "userAccountControl"

void ll_ldap_user_free(struct ll_ldap_user *u)
{
	size_t i;

	if (u == NULL)
		return;
	free(u->dn);
	free(u->login);
	free(u->display_name);
	for (i = 0; i < u->n_groups; i++)
		free(u->groups[i]);
	free(u->groups);
	free(u);
}

void ll_ldap_user_list_free(struct ll_ldap_user **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		ll_ldap_user_free(list[i]);
	free(list);
}

/* "why: libldap's words (and the server's)" into errbuf. */
static void dir_say(LDAP *ld, int rc, char *errbuf, size_t errlen,
		    const char *why)
{
	char *diag = NULL;

	if (ld != NULL)
		(void)ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	snprintf(errbuf, errlen, "%s: %s%s%s", why, ldap_err2string(rc),
		 diag != NULL && diag[0] != '\0' ? ": " : "",
		 diag != NULL ? diag : "");
	ldap_memfree(diag);
}

/*
 * The service account's password: the first line of a file that only
 * its owner may read (as the at-rest key).  *out is wiped and freed by
 * the caller (ll_secret_free).
 */
static int bind_password_read(const char *path, char **out, char *errbuf,
			      size_t errlen)
{
	char buf[LL_LDAP_VALUE_MAX + 2];
	struct stat sb;
	ssize_t n;
	size_t len;
	int fd, r = LL_ERR_UNAVAILABLE;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		snprintf(errbuf, errlen, "bind_password_file %s: %s", path,
			 strerror(errno));
		return LL_ERR_UNAVAILABLE;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & 077) != 0) {
		snprintf(errbuf, errlen,
			 "bind_password_file %s: must be a file only its "
			 "owner may read (chmod 600)",
			 path);
		goto out;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		snprintf(errbuf, errlen, "bind_password_file %s: %s", path,
			 strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (len == 0 || (size_t)n > LL_LDAP_VALUE_MAX || strlen(buf) != len) {
		snprintf(errbuf, errlen,
			 "bind_password_file %s: one line of 1 to %d bytes",
			 path, LL_LDAP_VALUE_MAX);
		goto out;
	}
	if ((*out = strdup(buf)) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	r = LL_OK;
out:
	ll_wipe(buf, sizeof(buf));
	close(fd);
	return r;
}

/* A simple bind; an empty password never gets here (ll_ldap_login). */
static int dir_bind(LDAP *ld, const char *dn, const char *password)
{
	struct berval cred;

	cred.bv_val = (char *)password;
	cred.bv_len = strlen(password);
	return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
				NULL);
}

/* The connection's options: LDAPv3, no referrals, deadlines, and TLS
 * with the certificate checked against ca_file, in a context of its
 * own. */
static int dir_options(LDAP *ld, const struct ll_ldap_config *c)
{
	struct timeval tv = { LL_LDAP_TIMEOUT_S, 0 };
	int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;

	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != 0)
		return -1;
	if (c->ca_file != NULL &&
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, c->ca_file) != 0)
		return -1;
	return ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
}

/* Connects, TLS, binds as the service account: LL_OK with *out, or
 * LL_ERR_UNAVAILABLE with the reason in errbuf. */
static int dir_open(const struct ll_ldap_config *c, LDAP **out, char *errbuf,
		    size_t errlen)
{
	LDAP *ld = NULL;
	char *pw = NULL;
	int rc, r;

	if ((r = bind_password_read(c->bind_password_file, &pw, errbuf,
				    errlen)) != LL_OK)
		return r;
	r = LL_ERR_UNAVAILABLE;
	if ((rc = ldap_initialize(&ld, c->uri)) != LDAP_SUCCESS) {
		dir_say(NULL, rc, errbuf, errlen, "uri");
		goto out;
	}
	if (dir_options(ld, c) != 0) {
		snprintf(errbuf, errlen, "cannot set the LDAP options");
		goto out;
	}
	if (c->starttls &&
	    (rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) {
		dir_say(ld, rc, errbuf, errlen, "StartTLS");
		goto out;
	}
	if ((rc = dir_bind(ld, c->bind_dn, pw)) != LDAP_SUCCESS) {
		dir_say(ld, rc, errbuf, errlen, "bind as bind_dn");
		goto out;
	}
	*out = ld;
	ld = NULL;
	r = LL_OK;
out:
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	ll_secret_free(pw);
	return r;
}

static int dir_search(LDAP *ld, const char *base, int scope,
		      const char *filter, const char **attrs, int sizelimit,
		      LDAPMessage **res)
{
	struct timeval tv = { LL_LDAP_TIMEOUT_S, 0 };

	*res = NULL;
	return ldap_search_ext_s(ld, base, scope, filter, (char **)attrs, 0,
				 NULL, NULL, &tv, sizelimit, res);
}

/* The first value of attr as a string (no NUL inside), or NULL. */
static char *entry_value(LDAP *ld, LDAPMessage *e, const char *attr)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	char *s = NULL;

	if (v != NULL && v[0] != NULL && v[0]->bv_len > 0 &&
	    v[0]->bv_len <= LL_LDAP_VALUE_MAX &&
	    memchr(v[0]->bv_val, '\0', v[0]->bv_len) == NULL &&
	    (s = malloc(v[0]->bv_len + 1)) != NULL) {
		memcpy(s, v[0]->bv_val, v[0]->bv_len);
		s[v[0]->bv_len] = '\0';
	}
	ldap_value_free_len(v);
	return s;
}

/* One user entry: DN, login, display name, the disabled bit. */
static int entry_user(LDAP *ld, LDAPMessage *e, const struct ll_ldap_config *c,
		      struct ll_ldap_user **out)
{
	struct ll_ldap_user *u;
	char *dn, *uac;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return LL_ERR_NOMEM;
	u->map_index = -1;
	if ((dn = ldap_get_dn(ld, e)) != NULL) {
		u->dn = strdup(dn);
		ldap_memfree(dn);
	}
	u->login = entry_value(ld, e, c->login_attribute);
	u->display_name = entry_value(ld, e, c->display_name_attribute);
	if ((uac = entry_value(ld, e, UAC_ATTRIBUTE)) != NULL) {
		u->disabled = (strtoll(uac, NULL, 10) & UAC_ACCOUNTDISABLE) !=
			      0;
		free(uac);
	}
	if (u->dn == NULL || u->login == NULL) {
		ll_ldap_user_free(u);
		return LL_ERR_MALFORMED;
	}
	*out = u;
	return LL_OK;
}

/* The user called login: exactly one entry, else LL_ERR_AUTH_FAILED. */
static int user_find(LDAP *ld, const struct ll_ldap_config *c,
		     const char *login, struct ll_ldap_user **out,
		     char *errbuf, size_t errlen)
{
	const char *attrs[] = { c->login_attribute, c->display_name_attribute,
				UAC_ATTRIBUTE, NULL };
	LDAPMessage *res = NULL, *e;
	char *filter = NULL;
	int rc, r;

	if ((r = ll_ldap_filter_build(c->user_filter, login, &filter)) !=
	    LL_OK) {
		snprintf(errbuf, errlen, "user_filter: %s", ll_strerror(r));
		return r == LL_ERR_NOMEM ? r : LL_ERR_AUTH_FAILED;
	}
	rc = dir_search(ld, c->user_base, LDAP_SCOPE_SUBTREE, filter, attrs, 2,
			&res);
	if (rc == LDAP_SIZELIMIT_EXCEEDED ||
	    (rc == LDAP_SUCCESS && ldap_count_entries(ld, res) > 1)) {
		snprintf(errbuf, errlen, "user_filter matches several users");
		r = LL_ERR_AUTH_FAILED;
	} else if (rc != LDAP_SUCCESS) {
		dir_say(ld, rc, errbuf, errlen, "search of user_base");
		r = LL_ERR_UNAVAILABLE;
	} else if ((e = ldap_first_entry(ld, res)) == NULL) {
		snprintf(errbuf, errlen, "no such user");
		r = LL_ERR_AUTH_FAILED;
	} else if ((r = entry_user(ld, e, c, out)) == LL_ERR_MALFORMED) {
		snprintf(errbuf, errlen, "the user's entry has no %s",
			 c->login_attribute);
		r = LL_ERR_AUTH_FAILED;
	}
	ldap_msgfree(res);
	free(filter);
	return r;
}

bool ll_ldap_dn_equal(const char *a, const char *b)
{
	char *na = NULL, *nb = NULL;
	bool eq;

	if (a == NULL || b == NULL)
		return false;
	if (ldap_dn_normalize(a, LDAP_DN_FORMAT_LDAP, &na,
			      LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		na = NULL;
	if (ldap_dn_normalize(b, LDAP_DN_FORMAT_LDAP, &nb,
			      LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		nb = NULL;
	eq = strcasecmp(na ? na : a, nb ? nb : b) == 0;
	ldap_memfree(na);
	ldap_memfree(nb);
	return eq;
}

/* The first group_map pair (in its order) naming one of u's groups. */
static int map_index_of(const struct ll_ldap_config *c,
			const struct ll_ldap_user *u)
{
	size_t i, j;

	for (i = 0; i < c->n_map; i++)
		for (j = 0; j < u->n_groups; j++)
			if (ll_ldap_dn_equal(c->map[i].group_dn, u->groups[j]))
				return (int)i;
	return -1;
}

/* The groups under group_base that list u's DN in the member attribute. */
static int user_groups(LDAP *ld, const struct ll_ldap_config *c,
		       struct ll_ldap_user *u, char *errbuf, size_t errlen)
{
	const char *attrs[] = { LDAP_NO_ATTRS, NULL };
	LDAPMessage *res = NULL, *e;
	char *esc = NULL, *filter = NULL, *dn;
	size_t n;
	int rc, r = LL_ERR_NOMEM;

	if ((esc = ll_ldap_escape_value(u->dn, strlen(u->dn))) == NULL)
		goto out;
	n = strlen(c->group_member_attribute) + strlen(esc) + 4;
	if ((filter = malloc(n)) == NULL)
		goto out;
	snprintf(filter, n, "(%s=%s)", c->group_member_attribute, esc);
	rc = dir_search(ld, c->group_base, LDAP_SCOPE_SUBTREE, filter, attrs,
			LL_LDAP_GROUPS_MAX, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
		dir_say(ld, rc, errbuf, errlen, "search of group_base");
		r = LL_ERR_UNAVAILABLE;
		goto out;
	}
	n = (size_t)ldap_count_entries(ld, res);
	if (n > 0 && (u->groups = calloc(n, sizeof(char *))) == NULL)
		goto out;
	for (e = ldap_first_entry(ld, res); e != NULL && u->n_groups < n;
	     e = ldap_next_entry(ld, e)) {
		if ((dn = ldap_get_dn(ld, e)) == NULL)
			continue;
		u->groups[u->n_groups] = strdup(dn);
		ldap_memfree(dn);
		if (u->groups[u->n_groups] == NULL)
			goto out;
		u->n_groups++;
	}
	u->map_index = map_index_of(c, u);
	r = LL_OK;
out:
	ldap_msgfree(res);
	free(filter);
	free(esc);
	return r;
}

int ll_ldap_login(const struct ll_ldap_config *c, const char *login,
		  const char *password, struct ll_ldap_user **out,
		  char *errbuf, size_t errlen)
{
	struct ll_ldap_user *u = NULL;
	LDAP *ld = NULL;
	int rc, r;

	if (c == NULL || login == NULL || password == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	/* An empty simple bind is an unauthenticated bind (RFC 4513
	 * 5.1.2): many servers answer it "success".  Never send one. */
	if (password[0] == '\0' || login[0] == '\0') {
		snprintf(errbuf, errlen, "empty password or user name");
		return LL_ERR_AUTH_FAILED;
	}
	if ((r = dir_open(c, &ld, errbuf, errlen)) != LL_OK)
		return r;
	if ((r = user_find(ld, c, login, &u, errbuf, errlen)) != LL_OK ||
	    (r = user_groups(ld, c, u, errbuf, errlen)) != LL_OK)
		goto out;
	rc = dir_bind(ld, u->dn, password);
	if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
	    rc == LDAP_UNWILLING_TO_PERFORM) {
		dir_say(ld, rc, errbuf, errlen, "bind as the user");
		r = LL_ERR_AUTH_FAILED;
		goto out;
	}
	if (rc != LDAP_SUCCESS) {
		dir_say(ld, rc, errbuf, errlen, "bind as the user");
		r = LL_ERR_UNAVAILABLE;
		goto out;
	}
	*out = u;
	u = NULL;
	r = LL_OK;
out:
	ll_ldap_user_free(u);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return r;
}

/* A member of a mapped group: its normalised DN, the pair's index. */
struct member {
	char *dn;
	int map_index;
};

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int d = strcasecmp(x->dn, y->dn);

	return d != 0 ? d : x->map_index - y->map_index;
}

/* A DN in the form both sides are compared in (ll_ldap_dn_equal). */
static char *dn_norm(const char *dn)
{
	char *n = NULL, *out;

	if (ldap_dn_normalize(dn, LDAP_DN_FORMAT_LDAP, &n,
			      LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
	    n == NULL)
		return strdup(dn);
	out = strdup(n);
	ldap_memfree(n);
	return out;
}

struct members {
	struct member *v;
	size_t n, cap;
};

static void members_clear(struct members *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].dn);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* Adds the members of mapped group i; a mapped group that does not
 * exist stops the sync (a typo must not disable everyone). */
static int group_members(LDAP *ld, const struct ll_ldap_config *c, size_t i,
			 struct members *m, char *errbuf, size_t errlen)
{
	const char *attrs[] = { c->group_member_attribute, NULL };
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;
	struct member *nv;
	size_t k, count;
	char *dn;
	int rc, r = LL_ERR_NOMEM;

	rc = dir_search(ld, c->map[i].group_dn, LDAP_SCOPE_BASE,
			"(objectClass=*)", attrs, 1, &res);
	if (rc != LDAP_SUCCESS || (e = ldap_first_entry(ld, res)) == NULL) {
		dir_say(ld, rc, errbuf, errlen, "read of a mapped group");
		r = LL_ERR_UNAVAILABLE;
		goto out;
	}
	v = ldap_get_values_len(ld, e, c->group_member_attribute);
	count = (size_t)ldap_count_values_len(v);
	if (count > LL_LDAP_USERS_MAX - m->n) {
		snprintf(errbuf, errlen, "more than %d members",
			 LL_LDAP_USERS_MAX);
		r = LL_ERR_TOO_LARGE;
		goto out;
	}
	if (m->n + count > m->cap) {
		nv = realloc(m->v, (m->n + count) * sizeof(*nv));
		if (nv == NULL)
			goto out;
		m->v = nv;
		m->cap = m->n + count;
	}
	for (k = 0; k < count; k++) {
		if (v[k]->bv_len == 0 || v[k]->bv_len > LL_LDAP_VALUE_MAX ||
		    (dn = strndup(v[k]->bv_val, v[k]->bv_len)) == NULL)
			continue;
		m->v[m->n].dn = dn_norm(dn);
		free(dn);
		if (m->v[m->n].dn == NULL)
			goto out;
		m->v[m->n++].map_index = (int)i;
	}
	r = LL_OK;
out:
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return r;
}

/* For bsearch: a DN matches whatever index its first entry has. */
static int member_dn_cmp(const void *a, const void *b)
{
	return strcasecmp(((const struct member *)a)->dn,
			  ((const struct member *)b)->dn);
}

/* The users a sync collects: at most one per member. */
struct sync_acc {
	const struct ll_ldap_config *c;
	const struct members *m;
	struct ll_ldap_user **list;
	size_t n;
};

/* One entry of the user search: kept when it is a member. */
static int sync_entry(LDAP *ld, LDAPMessage *e, struct sync_acc *a)
{
	struct ll_ldap_user *u = NULL;
	struct member key, *hit;
	int r;

	if ((r = entry_user(ld, e, a->c, &u)) == LL_ERR_MALFORMED)
		return LL_OK; /* no login name: not a user we can have */
	if (r != LL_OK)
		return r;
	if ((key.dn = dn_norm(u->dn)) == NULL) {
		ll_ldap_user_free(u);
		return LL_ERR_NOMEM;
	}
	key.map_index = -1;
	hit = bsearch(&key, a->m->v, a->m->n, sizeof(*a->m->v), member_dn_cmp);
	free(key.dn);
	if (hit == NULL || a->n >= a->m->n) {
		ll_ldap_user_free(u);
		return LL_OK;
	}
	u->map_index = hit->map_index;
	a->list[a->n++] = u;
	return LL_OK;
}

/*
 * The users of user_base that are members, page by page (RFC 2696, not
 * critical: a server without paging answers in one go), so that a
 * directory with more users than its size limit (AD: 1000, slapd: 500
 * by default) is read whole.
 */
static int sync_users(LDAP *ld, const struct ll_ldap_config *c,
		      const struct members *m, struct ll_ldap_user ***out,
		      size_t *n_out, char *errbuf, size_t errlen)
{
	const char *attrs[] = { c->login_attribute, c->display_name_attribute,
				UAC_ATTRIBUTE, NULL };
	struct sync_acc a = { c, m, NULL, 0 };
	struct berval cookie = { 0, NULL };
	LDAPControl *page = NULL, *ctrls[2] = { NULL, NULL };
	LDAPControl **rctrls = NULL, *pr;
	LDAPMessage *res = NULL, *e;
	struct timeval tv = { LL_LDAP_TIMEOUT_S, 0 };
	char *filter = NULL;
	ber_int_t total;
	int rc, err, r;

	if ((r = ll_ldap_filter_build(c->user_filter, NULL, &filter)) != 0)
		return r;
	if ((a.list = calloc(m->n + 1, sizeof(*a.list))) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	do {
		r = LL_ERR_UNAVAILABLE;
		rc = ldap_create_page_control(ld, LL_LDAP_PAGE, &cookie, 0,
					      &page);
		ldap_memfree(cookie.bv_val);
		cookie.bv_val = NULL;
		cookie.bv_len = 0;
		if (rc != LDAP_SUCCESS) {
			dir_say(ld, rc, errbuf, errlen, "paged search");
			goto out;
		}
		ctrls[0] = page;
		rc = ldap_search_ext_s(ld, c->user_base, LDAP_SCOPE_SUBTREE,
				       filter, (char **)attrs, 0, ctrls, NULL,
				       &tv, LL_LDAP_USERS_MAX, &res);
		LL_FREE_AND_NULL(ldap_control_free, page);
		if (rc != LDAP_SUCCESS) {
			dir_say(ld, rc, errbuf, errlen, "search of user_base");
			goto out;
		}
		for (e = ldap_first_entry(ld, res); e != NULL;
		     e = ldap_next_entry(ld, e))
			if ((r = sync_entry(ld, e, &a)) != LL_OK)
				goto out;
		r = LL_ERR_UNAVAILABLE;
		rc = ldap_parse_result(ld, res, &err, NULL, NULL, NULL,
				       &rctrls, 0);
		if (rc != LDAP_SUCCESS || err != LDAP_SUCCESS) {
			dir_say(ld, rc != LDAP_SUCCESS ? rc : err, errbuf,
				errlen, "search of user_base");
			goto out;
		}
		pr = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls,
				       NULL);
		if (pr != NULL &&
		    ldap_parse_pageresponse_control(ld, pr, &total, &cookie) !=
			    LDAP_SUCCESS) {
			snprintf(errbuf, errlen, "a bad paged results answer");
			goto out;
		}
		LL_FREE_AND_NULL(ldap_controls_free, rctrls);
		LL_FREE_AND_NULL(ldap_msgfree, res);
	} while (cookie.bv_len > 0);
	*out = a.list;
	*n_out = a.n;
	a.list = NULL;
	r = LL_OK;
out:
	ldap_memfree(cookie.bv_val);
	ldap_control_free(page);
	ldap_controls_free(rctrls);
	ldap_msgfree(res);
	ll_ldap_user_list_free(a.list, a.n);
	free(filter);
	return r;
}

int ll_ldap_sync_read(const struct ll_ldap_config *c,
		      struct ll_ldap_user ***out, size_t *n_out, char *errbuf,
		      size_t errlen)
{
	struct members m = { 0 };
	LDAP *ld = NULL;
	size_t i, k;
	int r;

	if (c == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = dir_open(c, &ld, errbuf, errlen)) != LL_OK)
		return r;
	for (i = 0; i < c->n_map; i++)
		if ((r = group_members(ld, c, i, &m, errbuf, errlen)) != 0)
			goto out;
	/* sorted by DN, then by pair: keep each DN's first pair only */
	qsort(m.v, m.n, sizeof(*m.v), member_cmp);
	for (i = 0, k = 0; i < m.n; i++) {
		if (k > 0 && member_dn_cmp(&m.v[k - 1], &m.v[i]) == 0) {
			free(m.v[i].dn);
			continue;
		}
		m.v[k++] = m.v[i];
	}
	m.n = k;
	r = sync_users(ld, c, &m, out, n_out, errbuf, errlen);
out:
	members_clear(&m);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return r;
}
