/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's profile directory: where the CLI keeps the relay it talks
 * to and the bearer token, and where session holders put their sockets.
 * The directory is 0700 and every file in it 0600, written atomically
 * (temporary file created 0600 with O_EXCL, then renamed), so a token is
 * never readable by anybody else, not even for a moment.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "ll_crypto.h"
#include "ll_err.h"

#define PROFILE_GROUP "agent"
#define TOKEN_MAX 4096

bool ll_agent_session_id_ok(const char *id)
{
	size_t i;

	if (id == NULL || id[0] == '\0')
		return false;
	for (i = 0; id[i] != '\0'; i++) {
		if (i >= 64 || !g_ascii_isxdigit(id[i]))
			return false;
	}
	return true;
}

void ll_profile_free(struct ll_profile *p)
{
	if (p == NULL)
		return;
	g_free(p->dir);
	g_free(p->relay);
	g_free(p->ca_file);
	g_free(p->user);
	g_free(p->org);
	g_free(p->capabilities);
	g_free(p);
}

static char *key_or_null(GKeyFile *kf, const char *key)
{
	char *v = g_key_file_get_string(kf, PROFILE_GROUP, key, NULL);

	if (v != NULL && v[0] == '\0')
		g_clear_pointer(&v, g_free);
	return v;
}

int ll_profile_open(const char *dir, struct ll_profile **out, char **err)
{
	struct ll_profile *p;
	GKeyFile *kf = NULL;
	char *ini = NULL;
	struct stat st;
	int r;

	p = g_new0(struct ll_profile, 1);
	if (dir != NULL)
		p->dir = g_strdup(dir);
	else
		p->dir = g_build_filename(g_get_user_config_dir(),
					  "lifeline-agent", NULL);
	if (g_mkdir_with_parents(p->dir, 0700) != 0 ||
	    stat(p->dir, &st) != 0) {
		*err = g_strdup_printf("cannot create the profile %s: %s",
				       p->dir, g_strerror(errno));
		r = LL_ERR_IO;
		goto out;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		*err = g_strdup_printf("the profile %s is not a directory "
				       "of ours",
				       p->dir);
		r = LL_ERR_INVALID_ARG;
		goto out;
	}
	/* an existing directory may be wider: nobody else may read it */
	if ((st.st_mode & 07777) != 0700 && chmod(p->dir, 0700) != 0) {
		*err = g_strdup_printf("cannot make %s private: %s", p->dir,
				       g_strerror(errno));
		r = LL_ERR_IO;
		goto out;
	}
	ini = g_build_filename(p->dir, "profile.ini", NULL);
	kf = g_key_file_new();
	if (g_key_file_load_from_file(kf, ini, G_KEY_FILE_NONE, NULL)) {
		p->relay = key_or_null(kf, "relay");
		p->ca_file = key_or_null(kf, "ca");
		p->user = key_or_null(kf, "user");
		p->org = key_or_null(kf, "org");
		p->capabilities = key_or_null(kf, "capabilities");
	}
	*out = p;
	p = NULL;
	r = LL_OK;
out:
	if (kf != NULL)
		g_key_file_free(kf);
	g_free(ini);
	ll_profile_free(p);
	return r;
}

/* Writes len bytes to DIR/name through a 0600 temporary and rename. */
static int write_private(const char *dir, const char *name, const char *data,
			 size_t len, char **err)
{
	char *path = g_build_filename(dir, name, NULL);
	char *tmp = g_strdup_printf("%s.tmp-%d", path, (int)getpid());
	size_t off = 0;
	ssize_t n;
	int fd = -1, r = LL_ERR_IO;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		goto fail;
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	r = LL_OK;
	goto out;
fail:
	if (err != NULL)
		*err = g_strdup_printf("cannot write %s: %s", path,
				       g_strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	g_free(tmp);
	g_free(path);
	return r;
}

int ll_profile_save(const struct ll_profile *p, char **err)
{
	GKeyFile *kf = g_key_file_new();
	char *data;
	gsize len;
	int r;

	if (p->relay != NULL)
		g_key_file_set_string(kf, PROFILE_GROUP, "relay", p->relay);
	if (p->ca_file != NULL)
		g_key_file_set_string(kf, PROFILE_GROUP, "ca", p->ca_file);
	if (p->user != NULL)
		g_key_file_set_string(kf, PROFILE_GROUP, "user", p->user);
	if (p->org != NULL)
		g_key_file_set_string(kf, PROFILE_GROUP, "org", p->org);
	if (p->capabilities != NULL)
		g_key_file_set_string(kf, PROFILE_GROUP, "capabilities",
				      p->capabilities);
	data = g_key_file_to_data(kf, &len, NULL);
	r = write_private(p->dir, "profile.ini", data, len, err);
	g_free(data);
	g_key_file_free(kf);
	return r;
}

int ll_profile_set_token(const struct ll_profile *p, const char *token,
			 char **err)
{
	if (token == NULL || token[0] == '\0' || strlen(token) > TOKEN_MAX ||
	    strchr(token, '\n') != NULL) {
		*err = g_strdup("the relay sent an unusable token");
		return LL_ERR_INVALID_ARG;
	}
	return write_private(p->dir, "token", token, strlen(token), err);
}

int ll_profile_get_token(const struct ll_profile *p, char **token)
{
	char *path = g_build_filename(p->dir, "token", NULL);
	char buf[TOKEN_MAX + 2];
	ssize_t n;
	size_t len = 0;
	int fd, r = LL_ERR_NOT_FOUND;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	g_free(path);
	if (fd < 0)
		return errno == ENOENT ? LL_ERR_NOT_FOUND : LL_ERR_IO;
	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len > 0 && len <= TOKEN_MAX) {
		*token = g_strndup(buf, len);
		r = LL_OK;
	}
	ll_wipe(buf, sizeof(buf));
	return r;
}

int ll_profile_clear_token(const struct ll_profile *p)
{
	char *path = g_build_filename(p->dir, "token", NULL);
	int r = unlink(path) == 0 || errno == ENOENT ? LL_OK : LL_ERR_IO;

	g_free(path);
	return r;
}

char *ll_profile_socket_path(const struct ll_profile *p, const char *id)
{
	struct sockaddr_un sun;
	char *path;

	if (!ll_agent_session_id_ok(id))
		return NULL;
	path = g_strdup_printf("%s/%s.sock", p->dir, id);
	if (strlen(path) >= sizeof(sun.sun_path)) {
		g_free(path);
		return NULL;
	}
	return path;
}

char *ll_profile_log_path(const struct ll_profile *p, const char *id)
{
	if (!ll_agent_session_id_ok(id))
		return NULL;
	return g_strdup_printf("%s/%s.log", p->dir, id);
}

char *ll_profile_ended_path(const struct ll_profile *p, const char *id)
{
	if (!ll_agent_session_id_ok(id))
		return NULL;
	return g_strdup_printf("%s/%s.ended", p->dir, id);
}

/*
 * DIR/known_relays: the relays whose certificate the technician trusted
 * after comparing its fingerprint (trust on first use), one group per
 * "host:port" with the certificate's SHA-256 fingerprint and its PEM.
 */
#define KNOWN_RELAYS "known_relays"

static GKeyFile *known_relays_load(const struct ll_profile *p)
{
	char *path = g_build_filename(p->dir, KNOWN_RELAYS, NULL);
	GKeyFile *kf = g_key_file_new();

	g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, NULL);
	g_free(path);
	return kf;
}

char *ll_profile_known_relays_path(const struct ll_profile *p)
{
	return g_build_filename(p->dir, KNOWN_RELAYS, NULL);
}

int ll_profile_known_relay(const struct ll_profile *p, const char *hostport,
			   char **pem, char **fp)
{
	GKeyFile *kf = known_relays_load(p);
	char *f = g_key_file_get_string(kf, hostport, "fingerprint", NULL);
	char *c = g_key_file_get_string(kf, hostport, "certificate", NULL);
	int r = LL_ERR_NOT_FOUND;

	if (f != NULL && c != NULL && f[0] != '\0' && c[0] != '\0') {
		if (pem != NULL)
			*pem = g_steal_pointer(&c);
		if (fp != NULL)
			*fp = g_steal_pointer(&f);
		r = LL_OK;
	}
	g_free(f);
	g_free(c);
	g_key_file_free(kf);
	return r;
}

int ll_profile_trust_relay(const struct ll_profile *p, const char *hostport,
			   const char *pem, const char *fp, char **err)
{
	GKeyFile *kf = known_relays_load(p);
	char *data;
	gsize len;
	int r;

	g_key_file_set_string(kf, hostport, "fingerprint", fp);
	g_key_file_set_string(kf, hostport, "certificate", pem);
	data = g_key_file_to_data(kf, &len, NULL);
	r = write_private(p->dir, KNOWN_RELAYS, data, len, err);
	g_free(data);
	g_key_file_free(kf);
	return r;
}

char *ll_relay_hostport(const char *url, char **host, uint16_t *port)
{
	const char *a, *end, *hend;
	char *h, *key;
	guint64 pn = 443;

	if (url == NULL || !g_str_has_prefix(url, "https://"))
		return NULL;
	a = url + strlen("https://");
	end = a + strcspn(a, "/?#@");
	if (end == a || *end == '@')
		return NULL;
	if (a[0] == '[') {
		/* an IPv6 literal: its colons are not the port's */
		if ((hend = memchr(a, ']', (size_t)(end - a))) == NULL)
			return NULL;
		hend++;
	} else if ((hend = memchr(a, ':', (size_t)(end - a))) == NULL) {
		hend = end;
	}
	if (hend == a || (hend < end && *hend != ':'))
		return NULL;
	if (hend < end) {
		g_autofree char *ps = g_strndup(hend + 1,
						(size_t)(end - hend - 1));

		if (!g_ascii_string_to_unsigned(ps, 10, 1, 65535, &pn, NULL))
			return NULL;
	}
	h = g_ascii_strdown(a, hend - a);
	key = g_strdup_printf("%s:%u", h, (unsigned)pn);
	if (host != NULL) {
		/* without IPv6 brackets, as TLS and getaddrinfo want it */
		*host = h[0] == '[' ? g_strndup(h + 1, strlen(h) - 2)
				    : g_strdup(h);
	}
	if (port != NULL)
		*port = (uint16_t)pn;
	g_free(h);
	return key;
}

uint32_t ll_profile_caps(const struct ll_profile *p)
{
	uint32_t m = 0;

	/* a profile edited into nonsense checks nothing here: the applet
	 * is the enforcer */
	if (p == NULL || p->capabilities == NULL ||
	    ll_perm_parse_list(p->capabilities, &m) != LL_OK)
		return LL_CAP_ALL;
	return m & LL_CAP_ALL;
}
