/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The directory's parsers (common/ldap/ldap_config.c): the RFC 4515
 * escaping of a login name, the user_filter template, group_map, and an
 * [ldap] group of relay.conf, each with the promises ll_ldap.h makes
 * checked on whatever they accept.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_config.h"
#include "ll_err.h"
#include "ll_ldap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Nothing but escapes and harmless bytes, and it decodes back to in. */
static void check_escape(const char *in, size_t len)
{
	char *e = ll_ldap_escape_value(in, len);
	size_t i, n = 0;

	if (e == NULL)
		return;
	for (i = 0; e[i] != '\0'; i++, n++) {
		char c = e[i];

		if (c == '*' || c == '(' || c == ')' ||
		    (unsigned char)c < 0x21 || (unsigned char)c > 0x7e)
			abort();
		if (c == '\\') {
			int hi = hexval(e[i + 1]), lo;

			if (hi < 0 || (lo = hexval(e[i + 2])) < 0)
				abort();
			if ((char)(hi * 16 + lo) != in[n])
				abort();
			i += 2;
		} else if (c != in[n]) {
			abort();
		}
	}
	if (n != len)
		abort();
	free(e);
}

static void check_map(const char *text)
{
	struct ll_ldap_group_map *m = NULL;
	char err[160] = "";
	size_t n = 0, i;
	int r = ll_ldap_group_map_parse(text, &m, &n, err, sizeof(err));

	if (r != LL_OK) {
		if (m != NULL || (r == LL_ERR_CONFIG && err[0] == '\0'))
			abort();
		return;
	}
	if (n == 0 || n > LL_LDAP_MAP_MAX)
		abort();
	for (i = 0; i < n; i++) {
		const char *g = m[i].tech_group;

		if (m[i].group_dn[0] == '\0' || g[0] == '\0' ||
		    strchr(m[i].group_dn, '=') == NULL ||
		    strchr(g, '=') != NULL || strchr(g, ';') != NULL ||
		    g[0] == ' ' || g[strlen(g) - 1] == ' ')
			abort();
	}
	ll_ldap_group_map_free(m, n);
}

/* tmpl and value from the two halves: the value never adds a '*', '('
 * or ')' of its own. */
static void check_filter(const char *tmpl, const char *value)
{
	char *f = NULL;
	size_t i, stars = 0, parens = 0, fs = 0, fp = 0;

	if (ll_ldap_filter_build(tmpl, value, &f) != LL_OK) {
		if (f != NULL)
			abort();
		return;
	}
	for (i = 0; tmpl[i] != '\0'; i++) {
		stars += tmpl[i] == '*';
		parens += tmpl[i] == '(' || tmpl[i] == ')';
	}
	for (i = 0; f[i] != '\0'; i++) {
		fs += f[i] == '*';
		fp += f[i] == '(' || f[i] == ')';
	}
	if (fs != stars || fp != parens)
		abort();
	free(f);
}

static void check_config(const uint8_t *data, size_t size)
{
	struct ll_ldap_config *c = NULL, *d;
	struct ll_config *file = NULL;
	char err[256];
	char *text = malloc(size + 8);

	if (text == NULL)
		return;
	memcpy(text, "[ldap]\n", 7);
	memcpy(text + 7, data, size);
	text[size + 7] = '\0';
	if (ll_config_load_data(text, size + 7, "relay.conf", &file, err,
				sizeof(err)) == LL_OK &&
	    ll_ldap_config_parse(file, "ldap", "/state", &c, err,
				 sizeof(err)) == LL_OK) {
		if (c->login_attribute == NULL || c->n_map == 0 ||
		    c->user_filter[0] != '(' ||
		    (strncmp(c->uri, "ldaps://", 8) != 0 &&
		     !(strncmp(c->uri, "ldap://", 7) == 0 && c->starttls)))
			abort();
		if ((d = ll_ldap_config_dup(c)) != NULL &&
		    (d->n_map != c->n_map ||
		     strcmp(d->user_filter, c->user_filter) != 0))
			abort();
		ll_ldap_config_free(d);
	}
	ll_ldap_config_free(c);
	ll_config_free(file);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *half;

	if (size > 8192 || (text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_escape(text, size);
	check_map(text);
	/* "TEMPLATE\nVALUE" */
	if ((half = strchr(text, '\n')) != NULL) {
		*half = '\0';
		check_filter(text, half + 1);
		*half = '\n';
	}
	check_config(data, size);
	free(text);
	return 0;
}
