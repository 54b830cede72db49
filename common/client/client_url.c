/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Relay URLs and API paths: the https://HOST[:PORT] a user gives, checked
 * and taken apart with libcurl's URL parser, and the API paths that carry
 * a session id, built so that no id can change which endpoint is asked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <glib.h>

#include "client_internal.h"
#include "ll_appconf.h"
#include "ll_util.h"

void ll_client_url_clear(struct ll_client_url *u)
{
	if (u == NULL)
		return;
	free(u->base);
	free(u->host);
	free(u->host_hdr);
	memset(u, 0, sizeof(*u));
}

int ll_client_url_allowed(const char *allowed_hosts,
			  const struct ll_client_url *u,
			  struct ll_client_error *err)
{
	if (allowed_hosts == NULL ||
	    ll_appconf_hosts_list_has(allowed_hosts, u->host))
		return LL_OK;
	ll_client_error_set(err, LL_ERR_CONFIG, 0,
			    "%s is not a host of the support server this "
			    "program is configured for (%s): not contacted",
			    u->host, allowed_hosts);
	return LL_ERR_CONFIG;
}

/* curl_url_get into a malloc'd copy (or NULL when the part is absent). */
static int url_part(CURLU *h, CURLUPart what, unsigned flags, char **out)
{
	char *v = NULL;
	CURLUcode uc = curl_url_get(h, what, &v, flags);

	*out = NULL;
	if (uc != CURLUE_OK)
		return uc == CURLUE_OUT_OF_MEMORY ? LL_ERR_NOMEM : LL_OK;
	*out = strdup(v);
	curl_free(v);
	return *out != NULL ? LL_OK : LL_ERR_NOMEM;
}

int ll_client_url_parse(const char *url, struct ll_client_url *out,
			struct ll_client_error *err)
{
	struct ll_client_url u = { 0 };
	CURLU *h = NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char *query = NULL, *frag = NULL, *user = NULL;
	unsigned long pnum;
	char *end;
	size_t hl;
	int r = LL_ERR_INVALID_ARG;

	if (url == NULL || url[0] == '\0') {
		ll_client_error_set(err, r, 0, "no relay URL given");
		return r;
	}
	if ((h = curl_url()) == NULL) {
		r = LL_ERR_NOMEM;
		ll_client_error_set(err, r, 0, "out of memory");
		return r;
	}
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK) {
		ll_client_error_set(err, r, 0,
				    "the relay URL \"%.200s\" is not a URL",
				    url);
		goto out;
	}
	if ((r = url_part(h, CURLUPART_SCHEME, 0, &scheme)) != 0 ||
	    (r = url_part(h, CURLUPART_HOST, 0, &host)) != 0 ||
	    (r = url_part(h, CURLUPART_PORT, CURLU_DEFAULT_PORT, &port)) !=
		    0 ||
	    (r = url_part(h, CURLUPART_PATH, 0, &path)) != 0 ||
	    (r = url_part(h, CURLUPART_QUERY, 0, &query)) != 0 ||
	    (r = url_part(h, CURLUPART_FRAGMENT, 0, &frag)) != 0 ||
	    (r = url_part(h, CURLUPART_USER, 0, &user)) != 0) {
		ll_client_error_set(err, r, 0, "out of memory");
		goto out;
	}
	r = LL_ERR_INVALID_ARG;
	if (scheme == NULL || g_ascii_strcasecmp(scheme, "https") != 0) {
		ll_client_error_set(err, r, 0,
				    "the relay URL \"%.200s\" must start with "
				    "https://",
				    url);
		goto out;
	}
	if (host == NULL || host[0] == '\0' || port == NULL) {
		ll_client_error_set(err, r, 0,
				    "the relay URL \"%.200s\" names no host",
				    url);
		goto out;
	}
	if ((path != NULL && strcmp(path, "/") != 0 && path[0] != '\0') ||
	    query != NULL || frag != NULL || user != NULL) {
		ll_client_error_set(err, r, 0,
				    "the relay URL \"%.200s\" must be just "
				    "https://HOST[:PORT]",
				    url);
		goto out;
	}
	errno = 0;
	pnum = strtoul(port, &end, 10);
	if (errno != 0 || *end != '\0' || pnum == 0 || pnum > 65535) {
		ll_client_error_set(err, r, 0,
				    "the relay URL \"%.200s\" has a bad port",
				    url);
		goto out;
	}
	u.port = (uint16_t)pnum;
	hl = strlen(host);
	u.host_hdr = strdup(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']')
		u.host = strndup(host + 1, hl - 2);
	else
		u.host = strdup(host);
	if ((u.base = malloc(hl + 16)) != NULL)
		snprintf(u.base, hl + 16, "https://%s:%u", host,
			 (unsigned)u.port);
	if (u.host_hdr == NULL || u.host == NULL || u.base == NULL) {
		r = LL_ERR_NOMEM;
		ll_client_error_set(err, r, 0, "out of memory");
		goto out;
	}
	*out = u;
	memset(&u, 0, sizeof(u));
	r = LL_OK;
out:
	ll_client_url_clear(&u);
	free(scheme);
	free(host);
	free(port);
	free(path);
	free(query);
	free(frag);
	free(user);
	curl_url_cleanup(h);
	return r;
}

/* "/api/v1/sessions/ID[suffix]" with ID checked to be a plain token, so
 * it cannot change the path. */
char *ll_client_session_path(const char *id, const char *suffix,
			     struct ll_client_error *err)
{
	size_t i;

	if (id == NULL || id[0] == '\0' || strlen(id) > 128)
		goto bad;
	for (i = 0; id[i] != '\0'; i++)
		if (!g_ascii_isalnum(id[i]) && id[i] != '-' && id[i] != '_')
			goto bad;
	return g_strconcat("/api/v1/sessions/", id, suffix, NULL);
bad:
	ll_client_error_set(err, LL_ERR_INVALID_ARG, 0,
			    "that is not a session id");
	return NULL;
}

void ll_relay_opts_copy_init(struct ll_relay_opts_copy *c,
			     const struct ll_relay_opts *o)
{
	c->opts = *o;
	c->opts.url = c->url = g_strdup(o->url);
	c->opts.ca_file = c->ca_file = g_strdup(o->ca_file);
	c->opts.ca_pem = c->ca_pem = g_strdup(o->ca_pem);
	c->opts.spki_pin = c->spki_pin = g_strdup(o->spki_pin);
	c->opts.allowed_hosts = c->allowed_hosts = g_strdup(o->allowed_hosts);
}

void ll_relay_opts_copy_clear(struct ll_relay_opts_copy *c)
{
	g_free(c->url);
	g_free(c->ca_file);
	g_free(c->ca_pem);
	g_free(c->spki_pin);
	g_free(c->allowed_hosts);
	memset(c, 0, sizeof(*c));
}

/* Read to the end: a CA bundle is small; anything larger is not one. */
#define CA_FILE_MAX (4u * 1024u * 1024u)

bool ll_ca_file_usable(const char *path, char **why)
{
	char *data = NULL;
	gsize len = 0;
	GError *e = NULL;
	bool ok;

	if (!g_file_get_contents(path, &data, &len, &e)) {
		/* GLib's message names the file */
		*why = g_strdup_printf("cannot read the certificate file "
				       "given with --ca: %s",
				       e->message);
		g_error_free(e);
		return false;
	}
	ok = len <= CA_FILE_MAX &&
	     g_strstr_len(data, (gssize)len, "-----BEGIN CERTIFICATE-----") !=
		     NULL;
	g_free(data);
	if (!ok)
		*why = g_strdup_printf("the file %s (--ca) holds no PEM "
				       "certificate",
				       path);
	return ok;
}
