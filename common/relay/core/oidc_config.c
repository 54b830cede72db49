/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relay.conf's single sign-on groups: [oidc] (the relay's only org, or
 * the org a request names none for) and [oidc ORG] (docs/API.md, "Single
 * sign-on").  The client secret is read here from its 0600 file and never
 * written anywhere else; a reload (SIGHUP) reads it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_config.h"
#include "ll_crypto.h"
#include "ll_util.h"
#include "ll_relay.h"

#define PREFIX "oidc"
#define MAX_MAP 64

const char *const ll_relay_oidc_keys[] = {
	"issuer",       "client_id", "client_secret_file",
	"ca_file",      "scopes",    "username_claim",
	"groups_claim", "group_map", "mfa_amr",
	NULL,
};

bool ll_relay_oidc_group(const char *group)
{
	return strcmp(group, PREFIX) == 0 ||
	       (strncmp(group, PREFIX " ", 5) == 0 && group[5] != '\0');
}

static void conf_clear(struct ll_oidc_conf *o)
{
	size_t i;

	free(o->org);
	free(o->issuer);
	free(o->client_id);
	ll_secret_free(o->client_secret);
	free(o->ca_file);
	free(o->scopes);
	free(o->username_claim);
	free(o->groups_claim);
	free(o->mfa_amr);
	for (i = 0; i < o->n_group_map; i++) {
		free(o->group_map[i].idp_group);
		free(o->group_map[i].technician);
	}
	free(o->group_map);
	free(o->redirect_uri);
	memset(o, 0, sizeof(*o));
}

void ll_relay_oidc_config_clear(struct ll_relay_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_oidc; i++)
		conf_clear(&cfg->oidc[i]);
	free(cfg->oidc);
	cfg->oidc = NULL;
	cfg->n_oidc = 0;
}

/* "A=B;C=D", each pair split at its last '=', both sides non-empty. */
static int map_parse(struct ll_oidc_conf *o, const char *text, char *errbuf,
		     size_t errlen, const char *where)
{
	char *copy = strdup(text), *p, *semi, *eq;
	int r = LL_ERR_CONFIG;

	if (copy == NULL)
		return LL_ERR_NOMEM;
	o->group_map = calloc(MAX_MAP, sizeof(*o->group_map));
	if (o->group_map == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	for (p = copy; p != NULL; p = semi) {
		if ((semi = strchr(p, ';')) != NULL)
			*semi++ = '\0';
		eq = strrchr(p, '=');
		if (eq == NULL || eq == p || eq[1] == '\0' ||
		    o->n_group_map == MAX_MAP) {
			snprintf(errbuf, errlen,
				 "%s: group_map is GROUP=TECHNICIAN_GROUP "
				 "pairs separated by ';' (at most %d)",
				 where, MAX_MAP);
			goto out;
		}
		*eq = '\0';
		o->group_map[o->n_group_map].idp_group = strdup(p);
		o->group_map[o->n_group_map].technician = strdup(eq + 1);
		if (o->group_map[o->n_group_map].idp_group == NULL ||
		    o->group_map[o->n_group_map].technician == NULL) {
			o->n_group_map++;
			r = LL_ERR_NOMEM;
			goto out;
		}
		o->n_group_map++;
	}
	r = LL_OK;
out:
	free(copy);
	return r;
}

static int dup_or(const struct ll_config *file, const char *group,
		  const char *key, const char *def, char **out)
{
	const char *v = ll_config_get(file, group, key);

	if (v == NULL || v[0] == '\0')
		v = def;
	if (v == NULL)
		return LL_OK;
	return (*out = strdup(v)) != NULL ? LL_OK : LL_ERR_NOMEM;
}

/* A path relative to the state dir. */
static char *path_new(const char *dir, const char *file)
{
	size_t n = strlen(dir) + strlen(file) + 2;
	char *p;

	if (file[0] == '/')
		return strdup(file);
	if ((p = malloc(n)) != NULL)
		snprintf(p, n, "%s/%s", dir, file);
	return p;
}

static int group_load(const struct ll_config *file, const char *group,
		      const struct ll_relay_config *cfg,
		      struct ll_oidc_conf *o, char *errbuf, size_t errlen)
{
	const char *name = ll_config_name(file);
	const char *secret_file, *ca, *map;
	char *secret_path = NULL, where[160];
	size_t n, len;
	int r;

	snprintf(where, sizeof(where), "%s: [%s]", name, group);
	if (group[4] == ' ' && (o->org = strdup(group + 5)) == NULL)
		return LL_ERR_NOMEM;
	if ((r = dup_or(file, group, "issuer", NULL, &o->issuer)) != LL_OK ||
	    (r = dup_or(file, group, "client_id", NULL, &o->client_id)) !=
		    LL_OK ||
	    (r = dup_or(file, group, "scopes", "openid profile email",
			&o->scopes)) != LL_OK ||
	    (r = dup_or(file, group, "username_claim", "preferred_username",
			&o->username_claim)) != LL_OK ||
	    (r = dup_or(file, group, "groups_claim", "groups",
			&o->groups_claim)) != LL_OK ||
	    (r = dup_or(file, group, "mfa_amr", NULL, &o->mfa_amr)) != LL_OK)
		return r;
	secret_file = ll_config_get(file, group, "client_secret_file");
	if (o->issuer == NULL || strncmp(o->issuer, "https://", 8) != 0 ||
	    o->client_id == NULL || secret_file == NULL ||
	    secret_file[0] == '\0') {
		snprintf(errbuf, errlen,
			 "%s needs issuer (https://), client_id and "
			 "client_secret_file",
			 where);
		return LL_ERR_CONFIG;
	}
	if (strstr(o->scopes, "openid") == NULL) {
		snprintf(errbuf, errlen, "%s: scopes must include openid",
			 where);
		return LL_ERR_CONFIG;
	}
	if (cfg->public_url == NULL) {
		snprintf(errbuf, errlen,
			 "%s: single sign-on needs public_url in [relay] "
			 "(the provider sends browsers back to it)",
			 where);
		return LL_ERR_CONFIG;
	}
	/* "https://h/" must not make "https://h//api/..." */
	len = strcspn(cfg->public_url, "?#");
	while (len > 8 && cfg->public_url[len - 1] == '/')
		len--;
	n = len + sizeof(LL_OIDC_CALLBACK_PATH);
	if ((o->redirect_uri = malloc(n)) == NULL)
		return LL_ERR_NOMEM;
	snprintf(o->redirect_uri, n, "%.*s%s", (int)len, cfg->public_url,
		 LL_OIDC_CALLBACK_PATH);
	ca = ll_config_get(file, group, "ca_file");
	if (ca != NULL && ca[0] != '\0' &&
	    (o->ca_file = path_new(cfg->state_dir, ca)) == NULL)
		return LL_ERR_NOMEM;
	map = ll_config_get(file, group, "group_map");
	if (map != NULL && map[0] != '\0' &&
	    (r = map_parse(o, map, errbuf, errlen, where)) != LL_OK)
		return r;
	if ((secret_path = path_new(cfg->state_dir, secret_file)) == NULL)
		return LL_ERR_NOMEM;
	r = ll_relay_read_secret_line(secret_path, "client secret file",
				      &o->client_secret, errbuf, errlen);
	free(secret_path);
	return r;
}

struct groups_seen {
	const char *names[64];
	size_t n;
	bool overflow;
};

static void collect(const char *group, const char *key, const char *value,
		    unsigned line, void *user)
{
	struct groups_seen *g = user;

	(void)value;
	(void)line;
	if (key != NULL || !ll_relay_oidc_group(group))
		return;
	if (g->n == LL_ARRAY_SIZE(g->names))
		g->overflow = true;
	else
		g->names[g->n++] = group;
}

int ll_relay_oidc_config_load(const struct ll_config *file,
			      struct ll_relay_config *cfg, char *errbuf,
			      size_t errlen)
{
	struct groups_seen g;
	size_t i;
	int r;

	memset(&g, 0, sizeof(g));
	if (file == NULL)
		return LL_OK;
	ll_config_foreach(file, collect, &g);
	if (g.overflow) {
		snprintf(errbuf, errlen, "%s: too many [oidc] groups",
			 ll_config_name(file));
		return LL_ERR_CONFIG;
	}
	if (g.n == 0)
		return LL_OK;
	if ((cfg->oidc = calloc(g.n, sizeof(*cfg->oidc))) == NULL)
		return LL_ERR_NOMEM;
	for (i = 0; i < g.n; i++) {
		cfg->n_oidc++;
		r = group_load(file, g.names[i], cfg, &cfg->oidc[i], errbuf,
			       errlen);
		if (r != LL_OK) {
			ll_relay_oidc_config_clear(cfg);
			return r;
		}
	}
	return LL_OK;
}

const struct ll_oidc_conf *ll_relay_oidc_find(const struct ll_relay_config *cfg,
					      const char *org_name,
					      bool is_default)
{
	const struct ll_oidc_conf *plain = NULL;
	size_t i;

	for (i = 0; i < cfg->n_oidc; i++) {
		const struct ll_oidc_conf *o = &cfg->oidc[i];

		if (o->org == NULL)
			plain = o;
		else if (org_name != NULL && strcmp(o->org, org_name) == 0)
			return o;
	}
	return is_default ? plain : NULL;
}
