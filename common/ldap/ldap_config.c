/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The `[ldap]` groups of relay.conf, group_map, and the RFC 4515 filter
 * escaping (ll_ldap.h).  No libldap here: tests/fuzz/fuzz_ldap.c drives
 * every parser of this file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ll_config.h"
#include "ll_err.h"
#include "ll_util.h"
#include "ll_ldap.h"

const char *const ll_ldap_config_keys[] = {
	"uri",
	"starttls",
	"ca_file",
	"bind_dn",
	"bind_password_file",
	"user_base",
	"user_filter",
	"display_name_attribute",
	"group_base",
	"group_member_attribute",
	"group_map",
	"sync_interval_s",
	NULL,
};

bool ll_ldap_group_name(const char *group, const char **org)
{
	if (group == NULL || strncmp(group, "ldap", 4) != 0)
		return false;
	if (group[4] == '\0') {
		if (org != NULL)
			*org = NULL;
		return true;
	}
	/* "ldap ORG": one space, then a name without spaces */
	if (group[4] != ' ' || group[5] == '\0' ||
	    strchr(group + 5, ' ') != NULL)
		return false;
	if (org != NULL)
		*org = group + 5;
	return true;
}

void ll_ldap_group_map_free(struct ll_ldap_group_map *map, size_t n)
{
	size_t i;

	if (map == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(map[i].group_dn);
		free(map[i].tech_group);
	}
	free(map);
}

/* s[0..n) without blanks at either end, as a new string. */
static char *trimmed_dup(const char *s, size_t n)
{
	char *out;

	while (n > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

/* One "GROUP_DN=TECHNICIAN_GROUP" of length n into m. */
static int map_pair_parse(const char *s, size_t n, struct ll_ldap_group_map *m,
			  char *errbuf, size_t errlen)
{
	const char *eq = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '=')
			eq = s + i;
	if (eq == NULL) {
		snprintf(errbuf, errlen,
			 "group_map: a pair has no '=' (GROUP_DN=GROUP)");
		return LL_ERR_CONFIG;
	}
	m->group_dn = trimmed_dup(s, (size_t)(eq - s));
	m->tech_group = trimmed_dup(eq + 1, n - (size_t)(eq - s) - 1);
	if (m->group_dn == NULL || m->tech_group == NULL)
		return LL_ERR_NOMEM;
	if (m->group_dn[0] == '\0' || m->tech_group[0] == '\0' ||
	    strchr(m->group_dn, '=') == NULL) {
		snprintf(errbuf, errlen,
			 "group_map: each pair is GROUP_DN=GROUP, both "
			 "non-empty, the DN with an '=' of its own");
		return LL_ERR_CONFIG;
	}
	return LL_OK;
}

int ll_ldap_group_map_parse(const char *text, struct ll_ldap_group_map **out,
			    size_t *n_out, char *errbuf, size_t errlen)
{
	struct ll_ldap_group_map *map = NULL;
	const char *p, *end;
	size_t n = 0, i, len;
	int r = LL_OK;

	if (text == NULL || out == NULL || n_out == NULL)
		return LL_ERR_INVALID_ARG;
	map = calloc(LL_LDAP_MAP_MAX, sizeof(*map));
	if (map == NULL)
		return LL_ERR_NOMEM;
	for (p = text; *p != '\0'; p = *end ? end + 1 : end) {
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (strspn(p, " \t") >= len)
			continue; /* an empty pair: "a=b;" */
		if (n == LL_LDAP_MAP_MAX) {
			snprintf(errbuf, errlen,
				 "group_map: more than %d pairs",
				 LL_LDAP_MAP_MAX);
			r = LL_ERR_CONFIG;
			goto out;
		}
		if ((r = map_pair_parse(p, len, &map[n], errbuf, errlen)) !=
		    LL_OK) {
			n++;
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (strcasecmp(map[i].group_dn, map[n].group_dn) ==
			    0) {
				snprintf(errbuf, errlen,
					 "group_map: a group DN is named "
					 "twice");
				n++;
				r = LL_ERR_CONFIG;
				goto out;
			}
		}
		n++;
	}
	if (n == 0) {
		snprintf(errbuf, errlen, "group_map: no GROUP_DN=GROUP pair");
		r = LL_ERR_CONFIG;
		goto out;
	}
	*out = map;
	*n_out = n;
	map = NULL;
out:
	ll_ldap_group_map_free(map, n);
	return r;
}

char *ll_ldap_escape_value(const char *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n = 0;
	char *out;

	if (in == NULL || len > LL_LDAP_VALUE_MAX * 4)
		return NULL;
	if ((out = malloc(len * 3 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x21 || c > 0x7e || c == '*' || c == '(' || c == ')' ||
		    c == '\\') {
			out[n++] = '\\';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 0xf];
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	return out;
}

int ll_ldap_filter_build(const char *tmpl, const char *value, char **out)
{
	char *esc = NULL, *buf = NULL;
	size_t cap, n = 0, el, i;
	int r = LL_ERR_INVALID_ARG;

	if (tmpl == NULL || out == NULL ||
	    (value != NULL && strlen(value) > LL_LDAP_VALUE_MAX))
		return LL_ERR_INVALID_ARG;
	esc = value != NULL ? ll_ldap_escape_value(value, strlen(value))
			    : strdup("*");
	if (esc == NULL)
		return LL_ERR_NOMEM;
	el = strlen(esc);
	/* each "%s" (2 bytes) grows by at most el - 2 */
	cap = strlen(tmpl) * (el + 1) + 1;
	if ((buf = malloc(cap)) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	for (i = 0; tmpl[i] != '\0'; i++) {
		if (tmpl[i] != '%') {
			buf[n++] = tmpl[i];
			continue;
		}
		if (tmpl[i + 1] == '%') {
			buf[n++] = '%';
		} else if (tmpl[i + 1] == 's') {
			memcpy(buf + n, esc, el);
			n += el;
		} else {
			goto out;
		}
		i++;
	}
	buf[n] = '\0';
	*out = buf;
	buf = NULL;
	r = LL_OK;
out:
	free(buf);
	free(esc);
	return r;
}

char *ll_ldap_filter_login_attribute(const char *tmpl)
{
	const char *p, *start;

	if (tmpl == NULL || (p = strstr(tmpl, "=%s")) == NULL)
		return NULL;
	start = p;
	while (start > tmpl &&
	       (start[-1] == '-' || start[-1] == ';' || start[-1] == '.' ||
		(start[-1] >= '0' && start[-1] <= '9') ||
		(start[-1] >= 'a' && start[-1] <= 'z') ||
		(start[-1] >= 'A' && start[-1] <= 'Z')))
		start--;
	if (start == p || start == tmpl || start[-1] != '(')
		return NULL;
	return trimmed_dup(start, (size_t)(p - start));
}

void ll_ldap_config_free(struct ll_ldap_config *c)
{
	if (c == NULL)
		return;
	free(c->org);
	free(c->uri);
	free(c->ca_file);
	free(c->bind_dn);
	free(c->bind_password_file);
	free(c->user_base);
	free(c->user_filter);
	free(c->login_attribute);
	free(c->display_name_attribute);
	free(c->group_base);
	free(c->group_member_attribute);
	ll_ldap_group_map_free(c->map, c->n_map);
	free(c);
}

/* strdup of NULL is NULL; *ok turns false when a copy failed. */
static char *dup_or_null(const char *s, bool *ok)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*ok = false;
	return d;
}

struct ll_ldap_config *ll_ldap_config_dup(const struct ll_ldap_config *c)
{
	struct ll_ldap_config *d;
	bool ok = true;
	size_t i;

	if (c == NULL || (d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->starttls = c->starttls;
	d->sync_interval_s = c->sync_interval_s;
	d->org = dup_or_null(c->org, &ok);
	d->uri = dup_or_null(c->uri, &ok);
	d->ca_file = dup_or_null(c->ca_file, &ok);
	d->bind_dn = dup_or_null(c->bind_dn, &ok);
	d->bind_password_file = dup_or_null(c->bind_password_file, &ok);
	d->user_base = dup_or_null(c->user_base, &ok);
	d->user_filter = dup_or_null(c->user_filter, &ok);
	d->login_attribute = dup_or_null(c->login_attribute, &ok);
	d->display_name_attribute = dup_or_null(c->display_name_attribute,
						&ok);
	d->group_base = dup_or_null(c->group_base, &ok);
	d->group_member_attribute = dup_or_null(c->group_member_attribute,
						&ok);
	if (c->n_map > 0 &&
	    (d->map = calloc(c->n_map, sizeof(*d->map))) == NULL)
		ok = false;
	for (i = 0; ok && i < c->n_map; i++) {
		d->n_map = i + 1;
		d->map[i].group_dn = dup_or_null(c->map[i].group_dn, &ok);
		d->map[i].tech_group = dup_or_null(c->map[i].tech_group, &ok);
	}
	if (!ok) {
		ll_ldap_config_free(d);
		return NULL;
	}
	return d;
}

/* A path of relay.conf: absolute, or under the state directory. */
static char *path_new(const char *state_dir, const char *v)
{
	size_t n;
	char *p;

	if (v[0] == '/' || state_dir == NULL)
		return strdup(v);
	n = strlen(state_dir) + strlen(v) + 2;
	if ((p = malloc(n)) != NULL)
		snprintf(p, n, "%s/%s", state_dir, v);
	return p;
}

/* The string keys: where each goes, whether it is a path, its default
 * (NULL: required unless optional). */
struct str_key {
	const char *name;
	size_t offset;
	bool is_path;
	bool optional;
	const char *def;
};

#define SK(f, path, opt, d)                                                   \
	{                                                                     \
#f, offsetof(struct ll_ldap_config, f), path, opt, d          \
	}

static const struct str_key str_keys[] = {
	SK(uri, false, false, NULL),
	SK(ca_file, true, true, NULL),
	SK(bind_dn, false, false, NULL),
	SK(bind_password_file, true, false, NULL),
	SK(user_base, false, false, NULL),
	SK(user_filter, false, false, NULL),
	SK(display_name_attribute, false, false, "cn"),
	SK(group_base, false, false, NULL),
	SK(group_member_attribute, false, false, "member"),
};

static int str_keys_read(const struct ll_config *file, const char *group,
			 const char *state_dir, struct ll_ldap_config *c,
			 char *errbuf, size_t errlen)
{
	const char *name = ll_config_name(file);
	size_t i;

	for (i = 0; i < LL_ARRAY_SIZE(str_keys); i++) {
		const struct str_key *k = &str_keys[i];
		const char *v = ll_config_get(file, group, k->name);
		char **dst = (char **)((char *)c + k->offset);

		if (v == NULL)
			v = k->def;
		if (v == NULL && k->optional)
			continue;
		if (v == NULL || v[0] == '\0' ||
		    strlen(v) > LL_LDAP_VALUE_MAX) {
			snprintf(errbuf, errlen,
				 "%s: [%s] %s %s (1 to %d bytes)", name, group,
				 k->name, v == NULL ? "is missing" : "is bad",
				 LL_LDAP_VALUE_MAX);
			return LL_ERR_CONFIG;
		}
		*dst = k->is_path ? path_new(state_dir, v) : strdup(v);
		if (*dst == NULL)
			return LL_ERR_NOMEM;
	}
	return LL_OK;
}

/* What the values say together: TLS always, a usable filter. */
static int config_check(const char *name, const char *group,
			struct ll_ldap_config *c, char *errbuf, size_t errlen)
{
	char *probe = NULL;
	int r;

	if (strncmp(c->uri, "ldaps://", 8) == 0) {
		if (c->starttls) {
			snprintf(errbuf, errlen,
				 "%s: [%s] starttls is for ldap:// (ldaps:// "
				 "is TLS already)",
				 name, group);
			return LL_ERR_CONFIG;
		}
	} else if (strncmp(c->uri, "ldap://", 7) == 0) {
		if (!c->starttls) {
			snprintf(errbuf, errlen,
				 "%s: [%s] uri ldap:// needs starttls = true "
				 "(or use ldaps://): passwords never cross "
				 "the network in clear",
				 name, group);
			return LL_ERR_CONFIG;
		}
	} else {
		snprintf(errbuf, errlen,
			 "%s: [%s] uri must start with ldaps:// or ldap://",
			 name, group);
		return LL_ERR_CONFIG;
	}
	if (strchr(c->uri + 7, ' ') != NULL) {
		snprintf(errbuf, errlen, "%s: [%s] uri names one server", name,
			 group);
		return LL_ERR_CONFIG;
	}
	r = ll_ldap_filter_build(c->user_filter, "x", &probe);
	free(probe);
	if (r == LL_ERR_NOMEM)
		return r;
	if (r != LL_OK || c->user_filter[0] != '(' ||
	    strstr(c->user_filter, "%s") == NULL ||
	    (c->login_attribute = ll_ldap_filter_login_attribute(
		     c->user_filter)) == NULL) {
		snprintf(errbuf, errlen,
			 "%s: [%s] user_filter must be a filter in "
			 "parentheses comparing an attribute with %%s, as "
			 "(uid=%%s), and no other %% than %%%%",
			 name, group);
		return LL_ERR_CONFIG;
	}
	return LL_OK;
}

int ll_ldap_config_parse(const struct ll_config *file, const char *group,
			 const char *state_dir, struct ll_ldap_config **out,
			 char *errbuf, size_t errlen)
{
	const char *name = ll_config_name(file), *org = NULL, *map;
	struct ll_ldap_config *c = NULL;
	char msg[160] = "";
	int r;

	if (file == NULL || out == NULL || !ll_ldap_group_name(group, &org))
		return LL_ERR_INVALID_ARG;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return LL_ERR_NOMEM;
	if (org != NULL && (c->org = strdup(org)) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	if ((r = str_keys_read(file, group, state_dir, c, errbuf, errlen)) !=
		    LL_OK ||
	    (r = ll_config_get_bool(file, group, "starttls", false,
				    &c->starttls, errbuf, errlen)) != LL_OK ||
	    (r = ll_config_get_int(file, group, "sync_interval_s", 10,
				   7 * 86400, 300, &c->sync_interval_s, errbuf,
				   errlen)) != LL_OK ||
	    (r = config_check(name, group, c, errbuf, errlen)) != LL_OK)
		goto out;
	if ((map = ll_config_get(file, group, "group_map")) == NULL) {
		snprintf(errbuf, errlen,
			 "%s: [%s] group_map is missing (GROUP_DN=GROUP;...)",
			 name, group);
		r = LL_ERR_CONFIG;
		goto out;
	}
	r = ll_ldap_group_map_parse(map, &c->map, &c->n_map, msg, sizeof(msg));
	if (r == LL_ERR_CONFIG)
		snprintf(errbuf, errlen, "%s:%u: [%s] %s", name,
			 ll_config_line(file, group, "group_map"), group, msg);
	if (r != LL_OK)
		goto out;
	*out = c;
	c = NULL;
out:
	ll_ldap_config_free(c);
	return r;
}
