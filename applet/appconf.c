/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The applet's signed configuration (common/appconf/ll_appconf.h): where
 * it is looked for and which keys it is checked against.  The trust
 * model is docs/SECURITY.md, "The signed applet configuration":
 *
 *  - trusted keys are only those this computer already trusts: the one
 *    installed as ETC/applet-config.pub (root-owned, written only by
 *    root) and, for an applet with a trailer, the key the trailer names
 *    (whoever can change the binary can change the code);
 *  - the configuration in force is the first of: the trailer of this
 *    binary, a FILE.lifeline argument, ETC/applet.conf; a file is taken
 *    only when signed by a trusted key, ETC/applet.conf only when
 *    root-owned and written only by root;
 *  - a configuration that is there but refused is an error, never
 *    skipped: the applet says why in one line and shows no window.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "ll_appconf.h"
#include "ll_crypto.h"
#include "ll_util.h"
#include "applet.h"

#define PUB_FILE "applet-config.pub"
#define CONF_FILE "applet.conf"
#define MAX_KEYS 4

struct trust {
	uint8_t keys[MAX_KEYS][LL_APPCONF_KEY_LEN];
	size_t n;
};

/* Reads a whole small file from an open descriptor (at most cap). */
static int read_fd(int fd, char **out, size_t *len, size_t cap)
{
	GString *s = g_string_new(NULL);
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || s->len + (size_t)n > cap) {
			g_string_free(s, TRUE);
			return n < 0 ? LL_ERR_IO : LL_ERR_TOO_LARGE;
		}
		g_string_append_len(s, buf, n);
	}
	*len = s->len;
	*out = g_string_free(s, FALSE);
	return LL_OK;
}

/*
 * Opens a file of the system's configuration: it and its folder must be
 * owned by root (the test hook's folder: by root or by us) and writable
 * by no one else, or anyone could plant a configuration.  -1 with *why
 * set when refused; -1 with *why NULL when it does not exist.
 */
static int open_system_file(const char *dir, const char *name, uid_t owner,
			    char **why)
{
	char *path = g_build_filename(dir, name, NULL);
	struct stat sd, sf;
	int fd;

	*why = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno != ENOENT)
			*why = g_strdup_printf("cannot read %s: %s", path,
					       g_strerror(errno));
		g_free(path);
		return -1;
	}
	if (fstat(fd, &sf) != 0 || stat(dir, &sd) != 0 ||
	    !S_ISREG(sf.st_mode) || (sf.st_uid != 0 && sf.st_uid != owner) ||
	    (sd.st_uid != 0 && sd.st_uid != owner) ||
	    (sf.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
	    (sd.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		*why = g_strdup_printf(
			"refusing %s: it and %s must be owned by root and "
			"writable by root alone",
			path, dir);
		close(fd);
		fd = -1;
	}
	g_free(path);
	return fd;
}

/* ETC/applet-config.pub, when installed, into the trusted keys. */
static int trust_installed_key(const char *dir, uid_t owner, struct trust *t,
			       char **why)
{
	char *text = NULL;
	size_t len = 0;
	int fd = open_system_file(dir, PUB_FILE, owner, why), r;

	if (fd < 0)
		return *why != NULL ? LL_ERR_CONFIG : LL_OK;
	r = read_fd(fd, &text, &len, 4096);
	close(fd);
	if (r == LL_OK)
		r = ll_ed25519_public_from_pem(text, t->keys[t->n]);
	g_free(text);
	if (r != LL_OK) {
		*why = g_strdup_printf("%s/%s holds no Ed25519 public key",
				       dir, PUB_FILE);
		return LL_ERR_CONFIG;
	}
	t->n++;
	return LL_OK;
}

static bool trusted(const struct trust *t, const struct ll_appconf *c)
{
	size_t i;
	bool ok = false;

	for (i = 0; i < t->n; i++)
		ok |= ll_appconf_signed_by(c, t->keys[i]);
	return ok;
}

/* Parses text from `what`; *why gets one line when refused. */
static int parse_from(const char *text, size_t len, const char *what,
		      struct ll_appconf *out, char **why)
{
	char reason[200] = "";
	int r = ll_appconf_parse(text, len, out, reason, sizeof(reason));

	if (r != LL_OK)
		*why = g_strdup_printf("%s is not a valid support "
				       "configuration: %s",
				       what, reason);
	return r;
}

/*
 * This program's own file (/proc/self/exe, whatever its name), open, and
 * where what was appended to it ends: its size, less the PIN page's
 * trailer when it has one (read into pin, org and launch).  -1 without
 * /proc.
 */
static int exe_open(off_t *end, char **pin, char **org, char **launch,
		    char **why)
{
	uint8_t tail[LL_PIN_TRAILER_TAIL + LL_PIN_TRAILER_MAX];
	char *p = NULL, *o = NULL, *l = NULL;
	struct stat sb;
	size_t n, tlen = 0;
	int fd, r;

	if ((fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return -1;
	}
	*end = sb.st_size;
	n = (uint64_t)sb.st_size < sizeof(tail) ? (size_t)sb.st_size
						: sizeof(tail);
	if (pread(fd, tail, n, sb.st_size - (off_t)n) != (ssize_t)n)
		return fd;
	r = ll_pin_trailer_parse(tail, n, (uint64_t)sb.st_size, &p, &o, &l,
				 &tlen);
	if (r == LL_OK) {
		*end -= (off_t)tlen;
		if (pin != NULL) {
			*pin = p;
			*org = o;
			*launch = l;
			p = o = l = NULL;
		}
	} else if (r != LL_ERR_NOT_FOUND && why != NULL) {
		*why = g_strdup("the PIN this program was downloaded with is "
				"damaged: download it again from your "
				"organisation's page");
	}
	if (p != NULL)
		ll_secret_free(p);
	if (l != NULL)
		ll_secret_free(l);
	g_free(o);
	ll_wipe(tail, sizeof(tail));
	return fd;
}

int ll_applet_pin_trailer_load(char **pin, char **org, char **launch,
			       char **why)
{
	off_t end = 0;
	int fd;

	*pin = *org = *launch = *why = NULL;
	if ((fd = exe_open(&end, pin, org, launch, why)) >= 0)
		close(fd);
	return *why != NULL ? LL_ERR_MALFORMED : LL_OK;
}

/*
 * The configuration appended to this program's own file (a portable
 * applet's), if any, before the PIN page's trailer when there is one.
 */
static int load_trailer(struct ll_appconf *out, bool *found, char **raw,
			char **why)
{
	uint8_t tail[LL_APPCONF_TRAILER_LEN];
	char *text = NULL;
	off_t end = 0;
	size_t len = 0;
	int fd, r;

	*found = false;
	if ((fd = exe_open(&end, NULL, NULL, NULL, NULL)) < 0)
		return LL_OK; /* no /proc: no trailer to read */
	if (end < LL_APPCONF_TRAILER_LEN ||
	    pread(fd, tail, sizeof(tail), end - LL_APPCONF_TRAILER_LEN) !=
		    sizeof(tail)) {
		close(fd);
		return LL_OK;
	}
	r = ll_appconf_trailer_parse(tail, (uint64_t)end, &len);
	if (r == LL_ERR_NOT_FOUND) {
		close(fd);
		return LL_OK;
	}
	if (r == LL_OK) {
		text = g_malloc(len);
		if (pread(fd, text, len,
			  end - LL_APPCONF_TRAILER_LEN - (off_t)len) !=
		    (ssize_t)len)
			r = LL_ERR_IO;
	}
	close(fd);
	if (r != LL_OK) {
		*why = g_strdup("the configuration appended to this program "
				"is damaged");
		g_free(text);
		return r;
	}
	r = parse_from(text, len, "the configuration appended to this program",
		       out, why);
	*found = r == LL_OK;
	if (r == LL_OK) {
		*raw = g_strndup(text, len);
		ll_wipe(text, len);
	}
	g_free(text);
	return r;
}

/* FILE.lifeline (or a file:// URI of one): taken only when signed by a
 * key this computer trusts. */
static int load_file(const char *arg, const struct trust *t,
		     struct ll_appconf *out, char **raw, char **why)
{
	char *path = g_str_has_prefix(arg, "file://")
			     ? g_filename_from_uri(arg, NULL, NULL)
			     : g_strdup(arg);
	char *text = NULL;
	size_t len = 0;
	int fd = -1, r = LL_ERR_IO;

	if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (r = read_fd(fd, &text, &len, LL_APPCONF_MAX + 1)) != LL_OK) {
		*why = g_strdup_printf("cannot read %s: %s", arg,
				       r == LL_ERR_TOO_LARGE
					       ? "it is too large to be a "
						 "support configuration"
					       : g_strerror(errno));
		goto out;
	}
	if ((r = parse_from(text, len, arg, out, why)) != LL_OK)
		goto out;
	if (!trusted(t, out)) {
		*why = g_strdup_printf(
			"%s was not made by a support server this computer "
			"trusts (it is signed by another key); ask your IT "
			"department for help",
			arg);
		ll_appconf_clear(out);
		r = LL_ERR_AUTH_FAILED;
	}
	if (r == LL_OK) {
		*raw = text;
		text = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	ll_secret_free(text);
	g_free(path);
	return r;
}

/* ETC/applet.conf, installed by the organisation's shortcut package. */
static int load_system(const char *dir, uid_t owner, const struct trust *t,
		       struct ll_appconf *out, bool *found, char **raw,
		       char **why)
{
	char *text = NULL, *what = g_build_filename(dir, CONF_FILE, NULL);
	size_t len = 0;
	int fd = open_system_file(dir, CONF_FILE, owner, why), r;

	*found = false;
	if (fd < 0) {
		g_free(what);
		return *why != NULL ? LL_ERR_CONFIG : LL_OK;
	}
	r = read_fd(fd, &text, &len, LL_APPCONF_MAX + 1);
	close(fd);
	if (r != LL_OK)
		*why = g_strdup_printf("cannot read %s: %s", what,
				       ll_strerror(r));
	else if ((r = parse_from(text, len, what, out, why)) == LL_OK &&
		 !trusted(t, out)) {
		*why = g_strdup_printf(
			"%s is signed by a key this computer does not trust: "
			"install the support server's applet-sign.pub as "
			"%s/" PUB_FILE,
			what, dir);
		ll_appconf_clear(out);
		r = LL_ERR_AUTH_FAILED;
	}
	*found = r == LL_OK;
	if (r == LL_OK) {
		*raw = text;
		text = NULL;
	}
	ll_secret_free(text);
	g_free(what);
	return r;
}

int ll_applet_conf_load(const char *file_arg, const char *etc_dir,
			bool test_dir, struct ll_appconf *out, char **text,
			bool *found, char **why)
{
	struct trust t = { .n = 0 };
	struct ll_appconf trailer = { 0 };
	uid_t owner = test_dir ? geteuid() : 0;
	bool have_trailer = false;
	char *trailer_text = NULL;
	int r;

	*found = false;
	*why = NULL;
	*text = NULL;
	if (etc_dir == NULL)
		etc_dir = LL_APPLET_ETC_DIR;
	if ((r = trust_installed_key(etc_dir, owner, &t, why)) != LL_OK ||
	    (r = load_trailer(&trailer, &have_trailer, &trailer_text, why)) !=
		    LL_OK)
		goto out;
	if (have_trailer)
		memcpy(t.keys[t.n++], trailer.sign_key, LL_APPCONF_KEY_LEN);
	if (file_arg != NULL) {
		if ((r = load_file(file_arg, &t, out, text, why)) == LL_OK)
			*found = true;
		goto out;
	}
	if (have_trailer) {
		*out = trailer;
		memset(&trailer, 0, sizeof(trailer));
		*text = trailer_text;
		trailer_text = NULL;
		*found = true;
		goto out;
	}
	r = load_system(etc_dir, owner, &t, out, found, text, why);
out:
	if (trailer_text != NULL)
		ll_secret_free(trailer_text);
	ll_appconf_clear(&trailer);
	ll_wipe(&t, sizeof(t));
	return r;
}
