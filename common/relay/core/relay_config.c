/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The relay's configuration: defaults, then STATE_DIR/relay.conf. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ll_cidr.h"
#include "ll_config.h"
#include "ll_ldap.h"
#include "ll_util.h"
#include "ll_relay.h"

#define GROUP "relay"

/* Integer keys: name, offset in the struct, range, default. */
struct int_key {
	const char *name;
	size_t offset;
	int64_t min, max, def;
};

#define IK(field, lo, hi, d)                                                  \
	{                                                                     \
#field, offsetof(struct ll_relay_config, field), lo, hi, d    \
	}

static const struct int_key int_keys[] = {
	IK(pin_lifetime_s, 1, 7 * 86400, 1200),
	IK(token_lifetime_s, 1, 30 * 86400, 43200),
	IK(token_idle_s, 1, 30 * 86400, 1800),
	IK(handshake_timeout_ms, 100, 600000, 10000),
	IK(head_timeout_ms, 100, 600000, 10000),
	IK(idle_timeout_ms, 100, 3600000, 60000),
	IK(max_unauth_per_ip, 1, 1000000, 16),
	/* 0: from the descriptor limit (server.c, core_slots_from_cfg). */
	IK(max_unauth, 0, 1000000, 0),
	IK(max_head_bytes, 1024, 1048576, 8192),
	IK(max_headers, 8, 1000, 64),
	IK(max_body_bytes, 1024, 16777216, 65536),
	IK(login_rate_per_min, 1, 1000000, 10),
	IK(login_burst, 1, 1000000, 10),
	IK(redeem_rate_per_min, 1, 1000000, 30),
	IK(redeem_burst, 1, 1000000, 30),
	IK(stream_buffer_bytes, 4096, 67108864, 262144),
	IK(stream_grace_s, 5, 3600, 60),
	IK(max_sessions, 1, 10000000, 10000),
	IK(hash_workers, 1, 64, 2),
	/* 0: one per CPU (workers.c, ll_workers_count). */
	IK(workers, 0, 256, 0),
	IK(hash_queue, 1, 100000, 64),
	IK(otp_lifetime_s, 1, 30 * 86400, 86400),
	IK(redeem_fail_budget, 1, 1000000000, 1000),
	IK(redeem_fail_budget_org, 1, 1000000000, 100),
	IK(max_live_pins_per_technician, 1, 1000000, 20),
	IK(max_live_pins_per_org, 1, 10000000, 1000),
	IK(session_create_rate_per_min, 1, 1000000, 60),
	IK(session_create_burst, 1, 1000000, 20),
	IK(log_level, 0, 3, 2),
	IK(audit_checkpoint_s, 1, 3600, 60),
	IK(refusal_window_s, 1, 3600, 60),
	IK(unauth_rate_per_min, 1, 1000000, 60),
	IK(unauth_burst, 1, 1000000, 60),
	IK(queue_max_per_org, 1, 1000000, 200),
	IK(queue_max_per_address, 1, 1000000, 10),
	IK(queue_wait_s, 60, 7 * 86400, 3600),
};

/* String keys (paths resolve against the state dir when relative). */
struct str_key {
	const char *name;
	size_t offset;
	const char *def; /* file name in the state dir, a value, or NULL */
	bool is_path;
	bool empty_ok; /* "key =" means an empty value, not a mistake */
};

#define SK(field, d, p, e)                                                    \
	{                                                                     \
#field, offsetof(struct ll_relay_config, field), d, p, e      \
	}

static const struct str_key str_keys[] = {
	SK(listen, "0.0.0.0:8443", false, false),
	SK(cert_file, "cert.pem", true, false),
	SK(key_file, "key.pem", true, false),
	SK(db_file, "lifeline.db", true, false),
	SK(at_rest_key_file, "at-rest.key", true, false),
	SK(audit_key_file, "audit.key", true, false),
	SK(audit_sign_key_file, "audit-sign.key", true, false),
	SK(audit_sign_pub_file, "audit-sign.pub", true, false),
	SK(applet_sign_key_file, "applet-sign.key", true, false),
	SK(applet_sign_pub_file, "applet-sign.pub", true, false),
	SK(public_url, NULL, false, false),
	SK(relay_hosts, NULL, false, false),
	/* Empty: no address may read /metrics, only the token holder. */
	SK(metrics_allow, "127.0.0.0/8,::1/128", false, true),
	SK(metrics_token_file, NULL, true, false),
	/* The PIN page's brand and portable applet (unset: none). */
	SK(brand_dir, NULL, true, false),
	SK(portable_applet, NULL, true, false),
};

static char *cfg_path_new(const char *dir, const char *file)
{
	size_t n;
	char *p;

	if (file[0] == '/')
		return strdup(file);
	n = strlen(dir) + 1 + strlen(file) + 1;
	p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, file);
	return p;
}

/* "HOST:PORT" or "[V6]:PORT" with a port in 0..65535 (0: any, for tests). */
static bool listen_valid(const char *s)
{
	const char *colon = strrchr(s, ':');
	const char *p;
	long port;
	char *end;

	if (colon == NULL || colon == s || colon[1] == '\0')
		return false;
	if (s[0] == '[' && colon[-1] != ']')
		return false;
	for (p = colon + 1; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return false;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return errno == 0 && *end == '\0' && port >= 0 && port <= 65535 &&
	       strlen(colon + 1) <= 5;
}

void ll_relay_config_clear(struct ll_relay_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->state_dir);
	for (i = 0; i < cfg->n_ldap; i++)
		ll_ldap_config_free(cfg->ldap[i]);
	free(cfg->ldap);
	ll_relay_oidc_config_clear(cfg);
	for (i = 0; i < LL_ARRAY_SIZE(str_keys); i++)
		free(*(char **)((char *)cfg + str_keys[i].offset));
	memset(cfg, 0, sizeof(*cfg));
}

static bool ldap_group(const char *group)
{
	return ll_ldap_group_name(group, NULL);
}

/* The groups a relay.conf may have besides [relay]: directories
 * (ll_ldap.h) and identity providers (oidc_config.c), each kind with its
 * own keys and at most LL_RELAY_LDAP_MAX of it. */
static const struct {
	const char *what;
	bool (*is)(const char *group);
	const char *const *keys;
} group_kinds[] = {
	{ "[ldap]", ldap_group, ll_ldap_config_keys },
	{ "[oidc]", ll_relay_oidc_group, ll_relay_oidc_keys },
};

/* The groups' names and key lists, [relay] first, in file order. */
struct groups_list {
	const char *names[LL_ARRAY_SIZE(group_kinds) * LL_RELAY_LDAP_MAX + 2];
	const char *const
		*keys[LL_ARRAY_SIZE(group_kinds) * LL_RELAY_LDAP_MAX + 2];
	size_t count[LL_ARRAY_SIZE(group_kinds)];
	size_t n;
	const char *too_many; /* the kind of which there are too many */
};

static void group_seen(const char *group, const char *key, const char *value,
		       unsigned line, void *user)
{
	struct groups_list *g = user;
	size_t k;

	(void)value;
	(void)line;
	if (key != NULL)
		return;
	for (k = 0; k < LL_ARRAY_SIZE(group_kinds); k++) {
		if (!group_kinds[k].is(group))
			continue;
		if (g->count[k] == LL_RELAY_LDAP_MAX) {
			g->too_many = group_kinds[k].what;
			return;
		}
		g->count[k]++;
		g->names[g->n] = group;
		g->keys[g->n++] = group_kinds[k].keys;
		return;
	}
	/* any other group is refused as unknown by ll_config_check_keys */
}

/*
 * Every group is [relay], a directory or an identity provider, with their
 * keys only; then each directory group into c->ldap (the identity
 * providers are ll_relay_oidc_config_load's).
 */
static int config_file_check(const struct ll_config *file, const char *dir,
			     const char *const *relay_keys,
			     struct ll_relay_config *c, char *errbuf,
			     size_t errlen)
{
	struct groups_list g;
	size_t i;
	int r;

	memset(&g, 0, sizeof(g));
	g.names[0] = GROUP;
	g.keys[0] = relay_keys;
	g.n = 1;
	ll_config_foreach(file, group_seen, &g);
	if (g.too_many != NULL) {
		snprintf(errbuf, errlen, "%s: more than %d %s groups",
			 ll_config_name(file), LL_RELAY_LDAP_MAX, g.too_many);
		return LL_ERR_CONFIG;
	}
	g.names[g.n] = NULL;
	g.keys[g.n] = NULL;
	r = ll_config_check_keys(file, g.names, g.keys, errbuf, errlen);
	if (r != LL_OK || g.count[0] == 0)
		return r;
	if ((c->ldap = calloc(g.count[0], sizeof(*c->ldap))) == NULL)
		return LL_ERR_NOMEM;
	for (i = 1; i < g.n; i++) {
		if (g.keys[i] != ll_ldap_config_keys)
			continue;
		r = ll_ldap_config_parse(file, g.names[i], dir,
					 &c->ldap[c->n_ldap], errbuf, errlen);
		if (r != LL_OK)
			return r;
		c->n_ldap++;
	}
	return LL_OK;
}

int ll_relay_config_load(const char *state_dir, struct ll_relay_config *cfg,
			 char *errbuf, size_t errlen)
{
	const char *keys[LL_ARRAY_SIZE(int_keys) + LL_ARRAY_SIZE(str_keys) + 1];
	struct ll_relay_config c;
	struct ll_config *file = NULL;
	char *conf_path = NULL;
	struct ll_cidr_list *allow = NULL;
	struct stat sb;
	char msg[160] = "";
	size_t i, k = 0;
	int r;

	if (cfg == NULL)
		return LL_ERR_INVALID_ARG;
	if (state_dir == NULL || state_dir[0] == '\0')
		state_dir = LL_DEFAULT_STATE_DIR;
	memset(&c, 0, sizeof(c));
	if ((c.state_dir = strdup(state_dir)) == NULL ||
	    (conf_path = cfg_path_new(state_dir, "relay.conf")) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	if (stat(conf_path, &sb) == 0) {
		r = ll_config_load_file(conf_path, &file, errbuf, errlen);
		if (r != LL_OK)
			goto out;
		for (i = 0; i < LL_ARRAY_SIZE(int_keys); i++)
			keys[k++] = int_keys[i].name;
		for (i = 0; i < LL_ARRAY_SIZE(str_keys); i++)
			keys[k++] = str_keys[i].name;
		keys[k] = NULL;
		r = config_file_check(file, state_dir, keys, &c, errbuf,
				      errlen);
		if (r != LL_OK)
			goto out;
	} else if (errno != ENOENT) {
		snprintf(errbuf, errlen, "cannot read %s: %s", conf_path,
			 strerror(errno));
		r = LL_ERR_IO;
		goto out;
	}

	for (i = 0; i < LL_ARRAY_SIZE(int_keys); i++) {
		const struct int_key *ik = &int_keys[i];
		int64_t *dst = (int64_t *)((char *)&c + ik->offset);

		if (file == NULL) {
			*dst = ik->def;
			continue;
		}
		r = ll_config_get_int(file, GROUP, ik->name, ik->min, ik->max,
				      ik->def, dst, errbuf, errlen);
		if (r != LL_OK)
			goto out;
	}
	for (i = 0; i < LL_ARRAY_SIZE(str_keys); i++) {
		const struct str_key *sk = &str_keys[i];
		char **dst = (char **)((char *)&c + sk->offset);
		const char *v = file ? ll_config_get(file, GROUP, sk->name)
				     : NULL;

		if (v != NULL && v[0] == '\0' && !sk->empty_ok) {
			snprintf(errbuf, errlen, "%s: %s must not be empty",
				 conf_path, sk->name);
			r = LL_ERR_CONFIG;
			goto out;
		}
		if (v == NULL)
			v = sk->def;
		if (v == NULL)
			continue; /* unset */
		*dst = sk->is_path ? cfg_path_new(state_dir, v) : strdup(v);
		if (*dst == NULL) {
			r = LL_ERR_NOMEM;
			goto out;
		}
	}
	if (!listen_valid(c.listen)) {
		snprintf(errbuf, errlen,
			 "%s: listen '%s' is not HOST:PORT (port 0..65535)",
			 conf_path, c.listen);
		r = LL_ERR_CONFIG;
		goto out;
	}
	if (c.public_url != NULL &&
	    strncmp(c.public_url, "https://", 8) != 0) {
		snprintf(errbuf, errlen,
			 "%s: public_url '%s' is not an https:// URL",
			 conf_path, c.public_url);
		r = LL_ERR_CONFIG;
		goto out;
	}
	if ((r = ll_cidr_list_parse(c.metrics_allow, &allow, msg,
				    sizeof(msg))) != LL_OK) {
		snprintf(errbuf, errlen, "%s: metrics_allow: %s", conf_path,
			 msg);
		goto out;
	}
	ll_cidr_list_free(allow);
	if ((r = ll_relay_oidc_config_load(file, &c, errbuf, errlen)) != LL_OK)
		goto out;
	*cfg = c;
	memset(&c, 0, sizeof(c));
	r = LL_OK;
out:
	ll_relay_config_clear(&c);
	ll_config_free(file);
	free(conf_path);
	return r;
}
