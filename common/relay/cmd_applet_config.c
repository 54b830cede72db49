/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-relay applet-config --org ORG [--channel NAME] [--brand NAME]
 *                [--relay-host HOST]... [--trailer] --out FILE
 *
 * Writes a signed applet configuration (common/appconf/ll_appconf.h;
 * docs/API.md section 1, the format in section 7): this relay's public
 * URL, the SPKI pin of its certificate's key, the certificate's root when
 * it is its own (a self-signed relay), the org, the brand and, with
 * --channel, the channel's credential.  It is signed with the applet
 * configuration key (STATE_DIR/applet-sign.key, made here for a state
 * that predates it).  Everything is checked here, where an admin can fix
 * it, rather than on thousands of desktops: the URL's host, and every
 * other host the applets may use (--relay-host, else relay.conf's
 * relay_hosts), must be one the certificate is valid for.  Each configuration made is audited
 * (applet.config_made).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "ll_appconf.h"
#include "ll_crypto.h"
#include "ll_store.h"
#include "ll_tls.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "cmd.h"

struct appconf_opts {
	gchar *state_dir;
	gchar *org;
	gchar *channel;
	gchar *brand;
	gchar **relay_hosts;
	gchar *out;
	gboolean trailer;
};

/* The URL the applets will use: public_url, else https://NAME:PORT with
 * the certificate's first DNS name and the listen port. */
static char *public_url(const struct ll_relay_config *cfg)
{
	const char *colon = strrchr(cfg->listen, ':');
	char name[256];

	if (cfg->public_url != NULL)
		return g_strdup(cfg->public_url);
	if (colon == NULL || strcmp(colon, ":0") == 0) {
		ll_cmd_fail("cannot tell the relay's public URL (listen %s "
			    "names no port): set public_url in relay.conf",
			    cfg->listen);
		return NULL;
	}
	if (ll_tls_cert_first_dns(cfg->cert_file, name, sizeof(name)) !=
	    LL_OK) {
		ll_cmd_fail("cannot tell the relay's public URL (the "
			    "certificate %s names no DNS host): set "
			    "public_url in relay.conf",
			    cfg->cert_file);
		return NULL;
	}
	return g_strdup_printf("https://%s%s", name, colon);
}

/*
 * relay_hosts: the URL's host first, then the others (--relay-host,
 * else relay.conf's relay_hosts) in the format's one spelling (lower
 * case, no trailing dot, no IPv6 brackets), each once.  The format's
 * writer checks the rest of its rules.
 */
static char *relay_hosts(const struct appconf_opts *o,
			 const struct ll_relay_config *cfg, const char *host)
{
	g_auto(GStrv) conf = NULL;
	GString *list = g_string_new(host);
	gchar **more = o->relay_hosts;
	size_t i, n;

	if (more == NULL && cfg->relay_hosts != NULL)
		more = conf = g_strsplit(cfg->relay_hosts, ",", -1);
	for (i = 0; more != NULL && more[i] != NULL; i++) {
		char *h = g_ascii_strdown(g_strstrip(more[i]), -1);

		n = strlen(h);
		if (n > 1 && h[n - 1] == '.')
			h[--n] = '\0';
		if (n > 2 && h[0] == '[' && h[n - 1] == ']') {
			memmove(h, h + 1, n - 2);
			h[n - 2] = '\0';
		}
		if (!ll_appconf_hosts_list_has(list->str, h))
			g_string_append_printf(list, ",%s", h);
		g_free(h);
	}
	return g_string_free(list, FALSE);
}

/* What the relay's certificate says: the pin, the anchor, the hosts. */
static int from_certificate(const struct appconf_opts *o,
			    const struct ll_relay_config *cfg,
			    struct ll_appconf *c)
{
	char pin[64];
	char *host = ll_appconf_url_host(c->relay_url);
	g_auto(GStrv) hosts = NULL;
	size_t i;
	int r;

	if (host == NULL) {
		ll_cmd_fail("the relay's public URL %s is not https://HOST"
			    "[:PORT] (set public_url in relay.conf)",
			    c->relay_url);
		return LL_ERR_CONFIG;
	}

	if ((r = ll_tls_cert_spki_pin(cfg->cert_file, pin, sizeof(pin))) !=
	    LL_OK) {
		ll_cmd_fail("cannot read the certificate %s: %s",
			    cfg->cert_file, ll_strerror(r));
		goto out;
	}
	if ((r = ll_tls_cert_check_host(cfg->cert_file, host)) != LL_OK) {
		ll_cmd_fail("the certificate %s is not valid for %s, the host "
			    "of %s: applets would refuse it (set public_url "
			    "in relay.conf, or a certificate for that name)",
			    cfg->cert_file, host, c->relay_url);
		goto out;
	}
	c->relay_hosts = relay_hosts(o, cfg, host);
	hosts = g_strsplit(c->relay_hosts, ",", -1);
	for (i = 1; hosts[i] != NULL; i++) {
		if (ll_tls_cert_check_host(cfg->cert_file, hosts[i]) !=
		    LL_OK) {
			ll_cmd_fail("the certificate %s is not valid for the "
				    "relay host %s: applets would refuse it",
				    cfg->cert_file, hosts[i]);
			r = LL_ERR_CONFIG;
			goto out;
		}
	}
	c->relay_pin = strdup(pin);
	r = ll_tls_cert_anchor_der(cfg->cert_file, &c->relay_ca,
				   &c->relay_ca_len);
	if (r == LL_ERR_NOT_FOUND)
		r = LL_OK; /* a CA the desktops already trust */
	else if (r != LL_OK)
		ll_cmd_fail("cannot read the certificate chain %s: %s",
			    cfg->cert_file, ll_strerror(r));
out:
	g_free(host);
	return r;
}

/* data (and a trailer) into path, written whole or not at all.  0600:
 * a configuration with a channel holds its credential. */
static int write_out(const char *path, const char *data, size_t len,
		     bool trailer)
{
	uint8_t t[LL_APPCONF_TRAILER_LEN];
	gchar *tmp = g_strconcat(path, ".tmp", NULL);
	FILE *f = NULL;
	int fd, r = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0 || (f = fdopen(fd, "wb")) == NULL)
		goto out;
	fd = -1;
	if (fwrite(data, 1, len, f) != len ||
	    (trailer && (ll_appconf_trailer_make(len, t) != LL_OK ||
			 fwrite(t, 1, sizeof(t), f) != sizeof(t))) ||
	    fflush(f) != 0 || fsync(fileno(f)) != 0)
		goto out;
	if (fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) != 0)
		goto out;
	r = 0;
out:
	if (r != 0) {
		ll_cmd_fail("cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		close(fd);
	g_free(tmp);
	return r;
}

static int make_config(struct ll_relay *relay, const struct appconf_opts *o,
		       int64_t org_id, const char *org)
{
	struct ll_appconf c = { 0 };
	uint8_t priv[32], pub[32];
	char errbuf[512] = "", *text = NULL, *key_id = NULL;
	size_t len = 0;
	bool made = false;
	int rc = 1;

	if (o->channel != NULL &&
	    ll_cmd_channel_credential(relay, org, o->channel, &c.channel) != 0)
		goto out;
	if ((c.relay_url = public_url(&relay->cfg)) == NULL ||
	    from_certificate(o, &relay->cfg, &c) != LL_OK)
		goto out;
	c.org = strdup(org);
	c.brand = strdup(o->brand != NULL ? o->brand : "default");
	c.created = ll_now_unix();
	if (ll_relay_applet_key_get(&relay->cfg, priv, pub, &made, errbuf,
				    sizeof(errbuf)) != LL_OK) {
		ll_cmd_fail("%s", errbuf);
		goto out;
	}
	if (made)
		fprintf(stderr,
			"lifeline-relay: made the applet configuration signing "
			"key %s (0600, public key %s)\n",
			relay->cfg.applet_sign_key_file,
			relay->cfg.applet_sign_pub_file);
	if (ll_appconf_format(&c, priv, &text, &len, errbuf, sizeof(errbuf)) !=
	    LL_OK) {
		ll_cmd_fail("cannot make the configuration: %s", errbuf);
		goto out;
	}
	if (write_out(o->out, text, len, o->trailer) != 0)
		goto out;
	key_id = ll_base64url_new(pub, sizeof(pub));
	if (ll_store_begin(relay->store) != LL_OK ||
	    ll_cmd_audit_append(
		    relay->store, org_id, "applet.config_made", "ok",
		    json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:b}", "org", org,
			      "relay_url", c.relay_url, "relay_hosts",
			      c.relay_hosts, "brand", c.brand, "channel",
			      o->channel ? json_string(o->channel)
					 : json_null(),
			      "sign_key", key_id ? key_id : "", "trailer",
			      o->trailer != FALSE)) != LL_OK ||
	    ll_store_commit(relay->store) != LL_OK) {
		ll_store_rollback(relay->store);
		ll_cmd_fail("wrote %s, but cannot audit it: %s", o->out,
			    ll_store_errmsg(relay->store));
		goto out;
	}
	printf("applet-config: wrote %s%s for org '%s' at %s (signing key "
	       "%s)\n",
	       o->out, o->trailer ? " (with its trailer)" : "", org,
	       c.relay_url, key_id ? key_id : "?");
	rc = 0;
out:
	ll_wipe(priv, sizeof(priv));
	ll_secret_free(text);
	free(key_id);
	ll_appconf_clear(&c);
	return rc;
}

int ll_cmd_applet_config(int argc, char **argv)
{
	struct appconf_opts o = { 0 };
	GOptionEntry entries[] = {
		{ "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.state_dir,
		  "state directory (default " LL_DEFAULT_STATE_DIR ")",
		  "DIR" },
		{ "org", 0, 0, G_OPTION_ARG_STRING, &o.org,
		  "the organisation the applets belong to", "ORG" },
		{ "channel", 0, 0, G_OPTION_ARG_STRING, &o.channel,
		  "put this channel's credential in it", "NAME" },
		{ "brand", 0, 0, G_OPTION_ARG_STRING, &o.brand,
		  "the brand of the org's applets (default: default)",
		  "NAME" },
		{ "relay-host", 0, 0, G_OPTION_ARG_STRING_ARRAY,
		  &o.relay_hosts,
		  "another host name of this relay the applets may use "
		  "(repeatable; default: relay.conf's relay_hosts)",
		  "HOST" },
		{ "out", 0, 0, G_OPTION_ARG_FILENAME, &o.out,
		  "write it to FILE.lifeline", "FILE" },
		{ "trailer", 0, 0, G_OPTION_ARG_NONE, &o.trailer,
		  "end it with the trailer that appends it to an applet "
		  "binary",
		  NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	GOptionContext *oc = g_option_context_new("- write a signed applet "
						  "configuration");
	struct ll_relay relay;
	GError *gerr = NULL;
	char errbuf[512], *org_name = NULL;
	int64_t org_id = 0;
	int rc = 2;

	memset(&relay, 0, sizeof(relay));
	g_option_context_add_main_entries(oc, entries, NULL);
	if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
		ll_cmd_fail("applet-config: %s", gerr->message);
		goto out;
	}
	if (argc > 1) {
		ll_cmd_fail("applet-config: unexpected argument '%s'",
			    argv[1]);
		goto out;
	}
	if (o.org == NULL || o.out == NULL) {
		ll_cmd_fail("applet-config: give --org ORG and --out FILE");
		goto out;
	}
	rc = 1;
	if (ll_relay_open_state(o.state_dir ? o.state_dir
					    : LL_DEFAULT_STATE_DIR,
				&relay, errbuf, sizeof(errbuf)) != 0) {
		ll_cmd_fail("%s", errbuf);
		goto out;
	}
	if (ll_cmd_org_resolve(relay.store, o.org, &org_id, &org_name) != 0)
		goto out;
	rc = make_config(&relay, &o, org_id, org_name);
out:
	ll_relay_close_state(&relay);
	free(org_name);
	g_clear_error(&gerr);
	g_option_context_free(oc);
	g_free(o.state_dir);
	g_free(o.org);
	g_free(o.channel);
	g_free(o.brand);
	g_strfreev(o.relay_hosts);
	g_free(o.out);
	return rc;
}
