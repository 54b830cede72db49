/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one table of per-org policy keys: name, type, range, default and a
 * line of description.  The admin command (`lifeline-relay policy`), the
 * API and the docs all go by it; the store keeps only what an org set.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_util.h"
#include "ll_cidr.h"
#include "ll_relay.h"
#include "ll_control.h"

#define NO_CFG ((ptrdiff_t)-1)

const struct ll_policy_key ll_policy_keys[] = {
	{ "pin_length", LL_POLICY_INT, 6, 10, 6, NO_CFG,
	  "digits of the org's new PINs (6..10)" },
	{ "redeem_fail_budget", LL_POLICY_INT, 1, 1000000000, 0,
	  offsetof(struct ll_relay_config, redeem_fail_budget_org),
	  "failed redeems naming the org per PIN lifetime before such "
	  "redeems are refused (default: redeem_fail_budget_org of "
	  "relay.conf)" },
	{ "allowed_origins", LL_POLICY_ORIGINS, 0, LL_POLICY_ORIGINS_MAX, 0,
	  NO_CFG,
	  "web origins (https://help.example.com, comma-separated; empty: "
	  "none) whose pages may call the PIN endpoints and redeem the "
	  "org's website-locked PINs" },
	{ "require_org_scoped_redeem", LL_POLICY_BOOL, 0, 1, 0, NO_CFG,
	  "true: a redeem must name the org (org-bound applet, the org's PIN "
	  "page); one naming no org cannot redeem the org's PINs" },
	{ "pin_lock_default", LL_POLICY_LOCK, 0, 2, 0, NO_CFG,
	  "the lock of a new PIN whose technician names none: any, website "
	  "(the org's PIN page only) or shortcut (signed config or channel "
	  "credential only)" },
	{ "technician_cidrs", LL_POLICY_CIDRS, 0, LL_CIDR_LIST_MAX, 0, NO_CFG,
	  "IPv4/IPv6 ranges (comma-separated; empty: any) the org's "
	  "technicians may log in and work from" },
	{ "end_user_cidrs", LL_POLICY_CIDRS, 0, LL_CIDR_LIST_MAX, 0, NO_CFG,
	  "IPv4/IPv6 ranges (comma-separated; empty: any) from which the "
	  "org's PINs may be redeemed" },
	{ "trusted_proxies", LL_POLICY_CIDRS, 0, LL_CIDR_LIST_MAX, 0, NO_CFG,
	  "reverse proxies (ranges; empty: none) whose X-Forwarded-For / "
	  "Forwarded name the client for technician_cidrs" },
	{ "internal_only", LL_POLICY_BOOL, 0, 1, 0, NO_CFG,
	  "true: the org's PINs redeem only from its end_user_cidrs (none "
	  "while they are empty) and only in its org-bound applet (signed "
	  "configuration or channel credential), never from a browser" },
	{ "mfa_required", LL_POLICY_BOOL, 0, 1, 0, NO_CFG,
	  "true: every technician of the org must have a second factor "
	  "(TOTP); one without it is made to enrol at their next login" },
	{ "keep_chat", LL_POLICY_BOOL, 0, 1, 0, NO_CFG,
	  "true: the org keeps its sessions' chat transcripts, sealed at rest "
	  "(AES-256-GCM) and readable by its admins; false: chat lines are "
	  "never stored" },
};
const size_t ll_policy_key_count = LL_ARRAY_SIZE(ll_policy_keys);

const struct ll_policy_key *ll_policy_key_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < ll_policy_key_count; i++)
		if (strcmp(ll_policy_keys[i].name, name) == 0)
			return &ll_policy_keys[i];
	return NULL;
}

int ll_policy_parse_int(const struct ll_policy_key *k, const char *text,
			int64_t *out, char *errbuf, size_t errlen)
{
	const char *p;
	long long v;
	char *end;

	if (k == NULL || text == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	/* Plain decimal digits only: no sign, space, hex or exponent. */
	for (p = text; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			break;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (text[0] == '\0' || *p != '\0' || *end != '\0' || errno != 0 ||
	    v < k->min || v > k->max) {
		snprintf(errbuf, errlen,
			 "%s must be an integer from %lld to %lld", k->name,
			 (long long)k->min, (long long)k->max);
		return LL_ERR_INVALID_ARG;
	}
	*out = (int64_t)v;
	return LL_OK;
}

int64_t ll_policy_default_int(const struct ll_policy_key *k,
			      const struct ll_relay_config *cfg)
{
	if (k->def_cfg >= 0 && cfg != NULL)
		return *(const int64_t *)((const char *)cfg + k->def_cfg);
	return k->def;
}

int ll_policy_get_int(struct ll_store *st, const struct ll_relay_config *cfg,
		      int64_t org_id, const char *name, int64_t *out,
		      bool *set_out)
{
	const struct ll_policy_key *k = ll_policy_key_find(name);
	char *text = NULL, err[160];
	int64_t v;
	bool set = false;
	int r;

	if (k == NULL || k->type != LL_POLICY_INT || out == NULL)
		return LL_ERR_INVALID_ARG;
	v = ll_policy_default_int(k, cfg);
	r = ll_store_policy_get(st, org_id, name, &text);
	if (r == LL_OK) {
		if (ll_policy_parse_int(k, text, &v, err, sizeof(err)) ==
		    LL_OK) {
			set = true;
		} else {
			/* Not written by this relay's checks: the default. */
			ll_warn("org %lld: policy %s: %s; using the default",
				(long long)org_id, name, err);
			v = ll_policy_default_int(k, cfg);
		}
	} else if (r != LL_ERR_NOT_FOUND) {
		return r;
	}
	free(text);
	*out = v;
	if (set_out != NULL)
		*set_out = set;
	return LL_OK;
}

/* ---- booleans and PIN locks ---- */

const char *const ll_pin_locks[3] = { "any", "website", "shortcut" };

bool ll_pin_lock_valid(const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < LL_ARRAY_SIZE(ll_pin_locks); i++)
		if (strcmp(s, ll_pin_locks[i]) == 0)
			return true;
	return false;
}

static int parse_word(const struct ll_policy_key *k, const char *text,
		      char **canon_out, char *errbuf, size_t errlen)
{
	static const char *const bools[2] = { "false", "true" };
	const char *const *words = k->type == LL_POLICY_BOOL ? bools
							     : ll_pin_locks;
	size_t i, n = k->type == LL_POLICY_BOOL ? 2 : 3;

	for (i = 0; i < n; i++)
		if (strcmp(text, words[i]) == 0)
			return (*canon_out = strdup(words[i])) != NULL
				       ? LL_OK
				       : LL_ERR_NOMEM;
	snprintf(errbuf, errlen, "%s must be %s", k->name,
		 k->type == LL_POLICY_BOOL ? "true or false"
					   : "any, website or shortcut");
	return LL_ERR_INVALID_ARG;
}

static const char *default_word(const struct ll_policy_key *k)
{
	if (k->type == LL_POLICY_BOOL)
		return k->def ? "true" : "false";
	if (k->type == LL_POLICY_LOCK)
		return ll_pin_locks[k->def];
	return "";
}

int ll_policy_get_bool(struct ll_store *st, const struct ll_relay_config *cfg,
		       int64_t org_id, const char *name, bool *out)
{
	const struct ll_policy_key *k = ll_policy_key_find(name);
	char *v = NULL;
	int r;

	if (k == NULL || k->type != LL_POLICY_BOOL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_policy_get_text(st, cfg, org_id, name, &v, NULL)) != 0)
		return r;
	*out = strcmp(v, "true") == 0;
	free(v);
	return LL_OK;
}

/* ---- address ranges (LL_POLICY_CIDRS): checked by ll_cidr.h ---- */

static int parse_cidrs(const struct ll_policy_key *k, const char *text,
		       char **canon_out, char *errbuf, size_t errlen)
{
	struct ll_cidr_list *l = NULL;
	char why[200];
	size_t i, o = 0;
	char *out;
	int r;

	r = ll_cidr_list_parse(text, &l, why, sizeof(why));
	if (r == LL_ERR_NOMEM)
		return r;
	if (r != LL_OK) {
		snprintf(errbuf, errlen, "%s: %s", k->name, why);
		return LL_ERR_INVALID_ARG;
	}
	ll_cidr_list_free(l);
	/* the plain form: the items without the blanks around them */
	if ((out = malloc(strlen(text) + 1)) == NULL)
		return LL_ERR_NOMEM;
	for (i = 0; text[i] != '\0'; i++)
		if (text[i] != ' ' && text[i] != '\t')
			out[o++] = text[i];
	out[o] = '\0';
	*canon_out = out;
	return LL_OK;
}

/* ---- origins (LL_POLICY_ORIGINS) ---- */

static bool host_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '.';
}

static bool v6_byte(char c)
{
	return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9') || c == ':' ||
	       c == '.';
}

/*
 * One origin as a browser serialises it (RFC 6454): "https://" or
 * "http://", a lowercase host name or a [v6] literal, an optional port
 * that is not the scheme's default; no path, no slash, no user.
 */
static bool origin_valid(const char *o, size_t n)
{
	size_t i = 0, h, port_start;
	bool https;
	long port = 0;

	if (n > 8 && memcmp(o, "https://", 8) == 0) {
		https = true;
		i = 8;
	} else if (n > 7 && memcmp(o, "http://", 7) == 0) {
		https = false;
		i = 7;
	} else {
		return false;
	}
	h = i;
	if (o[i] == '[') {
		for (i++; i < n && v6_byte(o[i]); i++)
			;
		if (i >= n || o[i] != ']' || i == h + 1)
			return false;
		i++;
	} else {
		for (; i < n && host_byte(o[i]); i++)
			;
		if (i == h || o[h] == '.' || o[h] == '-' || o[i - 1] == '.')
			return false;
	}
	if (i == n)
		return true;
	if (o[i] != ':')
		return false;
	port_start = ++i;
	for (; i < n && o[i] >= '0' && o[i] <= '9'; i++)
		port = port * 10 + (o[i] - '0');
	return i == n && i > port_start && i - port_start <= 5 &&
	       o[port_start] != '0' && port <= 65535 &&
	       port != (https ? 443 : 80);
}

/*
 * An entry as an administrator may write it, in the form a browser
 * serialises (and so the only form ll_policy_origin_listed matches):
 * scheme and host in lowercase, no trailing dot on the host, no default
 * port.  Writes at most n bytes to out; returns the new length.
 */
static size_t origin_normalise(const char *in, size_t n, char *out)
{
	size_t i, o = 0, host_end = n, port;
	const char *colon = NULL;

	for (i = 0; i < n; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] + 32)
							: in[i];
	o = n;
	/* the host ends at the port's colon (not inside a [v6] literal) */
	for (i = n; i > 0; i--) {
		if (out[i - 1] == ']' || out[i - 1] == '/')
			break;
		if (out[i - 1] == ':') {
			colon = out + i - 1;
			host_end = i - 1;
			break;
		}
	}
	if (host_end > 0 && out[host_end - 1] == '.' &&
	    (host_end < 2 || out[host_end - 2] != '/')) {
		memmove(out + host_end - 1, out + host_end, o - host_end);
		o--;
		host_end--;
		if (colon != NULL)
			colon--;
	}
	if (colon != NULL) {
		port = o - host_end;
		if ((port == 4 && o >= 8 && memcmp(colon, ":443", 4) == 0 &&
		     memcmp(out, "https://", 8) == 0) ||
		    (port == 3 && o >= 7 && memcmp(colon, ":80", 3) == 0 &&
		     memcmp(out, "http://", 7) == 0))
			o = host_end;
	}
	return o;
}

static int parse_origins(const struct ll_policy_key *k, const char *text,
			 char **canon_out, char *errbuf, size_t errlen)
{
	size_t len = strlen(text), n = 0, a, b, used = 0;
	const char *p = text;
	char *out = malloc(len + 1), norm[LL_POLICY_ORIGIN_LEN + 1];

	if (out == NULL)
		return LL_ERR_NOMEM;
	out[0] = '\0';
	while (*p != '\0') {
		/* one entry: blanks around it are allowed */
		while (*p == ' ')
			p++;
		a = (size_t)(p - text);
		while (*p != '\0' && *p != ',')
			p++;
		b = (size_t)(p - text);
		while (b > a && text[b - 1] == ' ')
			b--;
		if (b - a <= LL_POLICY_ORIGIN_LEN)
			b = a + origin_normalise(text + a, b - a, norm);
		if (b - a > LL_POLICY_ORIGIN_LEN ||
		    !origin_valid(norm, b - a)) {
			snprintf(errbuf, errlen,
				 "%s: entry %zu is not a web origin: "
				 "https://HOST or http://HOST, with :PORT when "
				 "needed, no path or trailing slash",
				 k->name, n + 1);
			free(out);
			return LL_ERR_INVALID_ARG;
		}
		if (++n > (size_t)k->max) {
			snprintf(errbuf, errlen, "%s: at most %lld origins",
				 k->name, (long long)k->max);
			free(out);
			return LL_ERR_INVALID_ARG;
		}
		if (used > 0)
			out[used++] = ',';
		memcpy(out + used, norm, b - a);
		used += b - a;
		out[used] = '\0';
		if (*p == ',' && *++p == '\0') {
			snprintf(errbuf, errlen, "%s: a comma ends the list",
				 k->name);
			free(out);
			return LL_ERR_INVALID_ARG;
		}
	}
	*canon_out = out;
	return LL_OK;
}

int ll_policy_parse(const struct ll_policy_key *k, const char *text,
		    char **canon_out, char *errbuf, size_t errlen)
{
	char buf[32];
	int64_t v;
	int r;

	if (k == NULL || text == NULL || canon_out == NULL)
		return LL_ERR_INVALID_ARG;
	if (k->type == LL_POLICY_ORIGINS)
		return parse_origins(k, text, canon_out, errbuf, errlen);
	if (k->type == LL_POLICY_CIDRS)
		return parse_cidrs(k, text, canon_out, errbuf, errlen);
	if (k->type == LL_POLICY_BOOL || k->type == LL_POLICY_LOCK)
		return parse_word(k, text, canon_out, errbuf, errlen);
	if ((r = ll_policy_parse_int(k, text, &v, errbuf, errlen)) != LL_OK)
		return r;
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return (*canon_out = strdup(buf)) != NULL ? LL_OK : LL_ERR_NOMEM;
}

char *ll_policy_default_text(const struct ll_policy_key *k,
			     const struct ll_relay_config *cfg)
{
	char buf[32];

	if (k->type != LL_POLICY_INT)
		return strdup(default_word(k));
	snprintf(buf, sizeof(buf), "%lld",
		 (long long)ll_policy_default_int(k, cfg));
	return strdup(buf);
}

int ll_policy_get_text(struct ll_store *st, const struct ll_relay_config *cfg,
		       int64_t org_id, const char *name, char **out,
		       bool *set_out)
{
	const struct ll_policy_key *k = ll_policy_key_find(name);
	char *text = NULL, *v = NULL, err[200];
	bool set = false;
	int r;

	if (k == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	r = ll_store_policy_get(st, org_id, name, &text);
	if (r == LL_OK) {
		if (ll_policy_parse(k, text, &v, err, sizeof(err)) == LL_OK)
			set = true;
		else
			ll_warn("org %lld: policy %s: %s; using the default",
				(long long)org_id, name, err);
	} else if (r != LL_ERR_NOT_FOUND) {
		return r;
	}
	free(text);
	if (v == NULL && (v = ll_policy_default_text(k, cfg)) == NULL)
		return LL_ERR_NOMEM;
	*out = v;
	if (set_out != NULL)
		*set_out = set;
	return LL_OK;
}

bool ll_policy_origin_listed(const char *list, const char *origin)
{
	size_t n;
	const char *p = list, *e;

	if (list == NULL || origin == NULL || origin[0] == '\0')
		return false;
	n = strlen(origin);
	while (*p != '\0') {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == n && memcmp(p, origin, n) == 0)
			return true;
		p = *e == ',' ? e + 1 : e;
	}
	return false;
}

json_t *ll_policy_value_json(const struct ll_policy_key *k, const char *text)
{
	if (k->type == LL_POLICY_INT)
		return json_integer((json_int_t)strtoll(text, NULL, 10));
	if (k->type == LL_POLICY_BOOL)
		return json_boolean(strcmp(text, "true") == 0);
	return json_string(text);
}

int ll_policy_parse_json(const struct ll_policy_key *k, const json_t *v,
			 char **canon_out, char *errbuf, size_t errlen)
{
	char buf[32];

	if (json_is_string(v))
		return ll_policy_parse(k, json_string_value(v), canon_out,
				       errbuf, errlen);
	if (json_is_integer(v) && k->type == LL_POLICY_INT) {
		snprintf(buf, sizeof(buf), "%lld",
			 (long long)json_integer_value(v));
		return ll_policy_parse(k, buf, canon_out, errbuf, errlen);
	}
	if (json_is_boolean(v) && k->type == LL_POLICY_BOOL)
		return ll_policy_parse(k, json_is_true(v) ? "true" : "false",
				       canon_out, errbuf, errlen);
	snprintf(errbuf, errlen, "%s must be %s", k->name,
		 k->type == LL_POLICY_INT    ? "an integer"
		 : k->type == LL_POLICY_BOOL ? "true or false"
					     : "a string");
	return LL_ERR_INVALID_ARG;
}

uint32_t ll_relay_permissions(const struct ll_technician *t)
{
	uint32_t p;

	if (t == NULL)
		return 0;
	p = t->group_name != NULL ? t->group_permissions : LL_PERM_NO_GROUP;
	if (t->is_admin)
		p |= LL_PERM_REPORTS | LL_PERM_ADMIN;
	return p & LL_PERM_ALL;
}

uint32_t ll_relay_capabilities(const struct ll_technician *t)
{
	return ll_relay_permissions(t) & LL_CAP_ALL;
}

bool ll_group_name_valid(const char *name)
{
	size_t i, n;

	if (name == NULL || (n = strlen(name)) == 0 || n > LL_GROUP_NAME_MAX ||
	    name[n - 1] == ' ')
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') ||
		      (i > 0 &&
		       (c == '.' || c == '_' || c == '-' || c == ' '))))
			return false;
	}
	return true;
}

int ll_group_cidrs_parse(const char *text, char **canon_out, char *errbuf,
			 size_t errlen)
{
	return ll_policy_parse(ll_policy_key_find("end_user_cidrs"), text,
			       canon_out, errbuf, errlen);
}
