/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-relay init --state-dir DIR [--org ORG] [--org-name "Name"]
 *
 * Creates DIR (0700), the at-rest key (0600, CSPRNG), the audit key and
 * the checkpoint signing key pair, the store with the first org (its audit
 * chain keyed from record 1) and the first checkpoint, and a self-signed
 * certificate unless relay.conf names one.
 * Refuses a DIR that already holds a store or a key; on failure removes
 * what this run created, so it can simply be run again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "ll_crypto.h"
#include "ll_store.h"
#include "ll_tls.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "ll_checkpoint.h"
#include "cmd.h"

struct created {
	const char *paths[16];
	size_t n;
	const char *dir; /* when this run made the directory */
};

static void created_add(struct created *c, const char *path)
{
	if (c->n < LL_ARRAY_SIZE(c->paths))
		c->paths[c->n++] = path;
}

static void created_undo(struct created *c)
{
	size_t i;

	for (i = c->n; i > 0; i--)
		unlink(c->paths[i - 1]);
	if (c->dir != NULL)
		rmdir(c->dir);
}

static bool exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0 || errno != ENOENT;
}

static int write_key_file(const char *path, char *errbuf, size_t errlen)
{
	uint8_t key[32];
	size_t off = 0;
	ssize_t n;
	int fd, r;

	if ((r = ll_random_bytes(key, sizeof(key))) != 0) {
		snprintf(errbuf, errlen, "the random generator failed");
		return r;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		snprintf(errbuf, errlen, "cannot create %s: %s", path,
			 strerror(errno));
		r = LL_ERR_IO;
		goto out;
	}
	while (off < sizeof(key)) {
		n = write(fd, key + off, sizeof(key) - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(errbuf, errlen, "cannot write %s: %s", path,
				 strerror(errno));
			r = LL_ERR_IO;
			goto out;
		}
		off += (size_t)n;
	}
	/* umask cannot have widened 0600, but make it certain */
	if (fchmod(fd, 0600) != 0 || fsync(fd) != 0) {
		snprintf(errbuf, errlen, "cannot finish %s: %s", path,
			 strerror(errno));
		r = LL_ERR_IO;
		goto out;
	}
	r = LL_OK;
out:
	if (fd >= 0)
		close(fd);
	ll_wipe(key, sizeof(key));
	return r;
}

/* Makes dir (0700) unless it is there; made->dir when this run made it. */
static int init_dir(const char *dir, struct created *made)
{
	struct stat sb;

	if (stat(dir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode)) {
			ll_cmd_fail("%s exists and is not a directory", dir);
			return -1;
		}
	} else if (errno == ENOENT) {
		if (g_mkdir_with_parents(dir, 0700) != 0) {
			ll_cmd_fail("cannot create %s: %s", dir,
				    strerror(errno));
			return -1;
		}
		made->dir = dir;
	} else {
		ll_cmd_fail("cannot use %s: %s", dir, strerror(errno));
		return -1;
	}
	/* a state dir holds keys: nobody else may look in */
	if (chmod(dir, 0700) != 0) {
		ll_cmd_fail("cannot make %s private (chmod 0700): %s", dir,
			    strerror(errno));
		return -1;
	}
	return 0;
}

/* A self-signed certificate unless relay.conf names one or one is there;
 * fp gets the certificate's fingerprint ("" when there is none yet). */
static int init_cert(const struct ll_relay_config *cfg, bool cert_named,
		     struct created *made, bool *made_cert, char *fp,
		     size_t fplen)
{
	char errbuf[512];
	int r;

	if (!cert_named && !exists(cfg->cert_file) && !exists(cfg->key_file)) {
		r = ll_tls_selfsigned_create(cfg->key_file, cfg->cert_file,
					     "localhost", NULL, errbuf,
					     sizeof(errbuf));
		if (r != 0) {
			ll_cmd_fail("cannot create a certificate: %s", errbuf);
			return -1;
		}
		created_add(made, cfg->cert_file);
		created_add(made, cfg->key_file);
		*made_cert = true;
	}
	fp[0] = '\0';
	if (exists(cfg->cert_file) &&
	    ll_tls_cert_fingerprint(cfg->cert_file, fp, fplen) != 0)
		fp[0] = '\0';
	return 0;
}

/* Never overwrite a store or a key: they are the relay's whole state. */
static int init_refuse_existing(const char *dir,
				const struct ll_relay_config *cfg)
{
	const char *const paths[] = { cfg->db_file, cfg->at_rest_key_file,
				      cfg->audit_key_file,
				      cfg->audit_sign_key_file,
				      cfg->applet_sign_key_file };
	size_t i;

	for (i = 0; i < LL_ARRAY_SIZE(paths); i++) {
		if (!exists(paths[i]))
			continue;
		ll_cmd_fail("%s already holds Lifeline state (%s); refusing "
			    "to overwrite it",
			    dir, paths[i]);
		return -1;
	}
	return 0;
}

/* Names made from the config's, kept while `created` points at them. */
struct init_paths {
	char *db_wal, *db_shm, *cp_file, *cp_log;
};

static void init_paths_clear(struct init_paths *p)
{
	g_free(p->db_wal);
	g_free(p->db_shm);
	g_free(p->cp_file);
	g_free(p->cp_log);
}

/*
 * The keys, then the store, opened as every writer opens it: the keys
 * loaded, the empty chain keyed from record 1; closing the state writes
 * the first checkpoint.
 */
static int init_state(const char *dir, const struct ll_relay_config *cfg,
		      struct created *made, struct init_paths *p,
		      struct ll_relay *relay)
{
	struct ll_store *st = NULL;
	uint8_t priv[32], pub[32];
	char errbuf[512];
	int r;

	if (write_key_file(cfg->at_rest_key_file, errbuf, sizeof(errbuf)) !=
	    0) {
		ll_cmd_fail("%s", errbuf);
		return -1;
	}
	created_add(made, cfg->at_rest_key_file);
	errbuf[0] = '\0';
	r = ll_relay_audit_keys_create(cfg, errbuf, sizeof(errbuf));
	created_add(made, cfg->audit_key_file);
	created_add(made, cfg->audit_sign_key_file);
	created_add(made, cfg->audit_sign_pub_file);
	if (r != 0) {
		ll_cmd_fail("%s", errbuf);
		return -1;
	}
	r = ll_relay_applet_key_get(cfg, priv, pub, NULL, errbuf,
				    sizeof(errbuf));
	ll_wipe(priv, sizeof(priv));
	created_add(made, cfg->applet_sign_key_file);
	created_add(made, cfg->applet_sign_pub_file);
	if (r != 0) {
		ll_cmd_fail("%s", errbuf);
		return -1;
	}

	p->db_wal = g_strconcat(cfg->db_file, "-wal", NULL);
	p->db_shm = g_strconcat(cfg->db_file, "-shm", NULL);
	p->cp_file = g_build_filename(dir, LL_CHECKPOINT_FILE, NULL);
	p->cp_log = g_build_filename(dir, LL_CHECKPOINT_LOG, NULL);
	created_add(made, cfg->db_file);
	created_add(made, p->db_wal);
	created_add(made, p->db_shm);
	created_add(made, p->cp_file);
	created_add(made, p->cp_log);
	if ((r = ll_store_open(cfg->db_file, &st)) != 0) {
		ll_cmd_fail("cannot create store %s: %s", cfg->db_file,
			    ll_strerror(r));
		return -1;
	}
	ll_store_close(st);
	if (ll_relay_open_state(dir, relay, errbuf, sizeof(errbuf)) != 0) {
		ll_cmd_fail("%s", errbuf);
		return -1;
	}
	return 0;
}

static void init_report(const char *dir, bool made_dir,
			const struct ll_relay_config *cfg, const char *org,
			bool made_cert, const char *fp)
{
	printf("%s state directory %s (0700)\n",
	       made_dir ? "created" : "using", dir);
	printf("created at-rest key %s (0600)\n", cfg->at_rest_key_file);
	printf("created audit key %s (0600) and checkpoint signing key %s "
	       "(0600, public key %s)\n",
	       cfg->audit_key_file, cfg->audit_sign_key_file,
	       cfg->audit_sign_pub_file);
	printf("created applet configuration signing key %s (0600, public "
	       "key %s)\n",
	       cfg->applet_sign_key_file, cfg->applet_sign_pub_file);
	printf("created store %s with org '%s'\n", cfg->db_file, org);
	if (made_cert)
		printf("created self-signed certificate %s (key %s) for "
		       "localhost, 127.0.0.1, ::1\n",
		       cfg->cert_file, cfg->key_file);
	else if (fp[0] != '\0')
		printf("using certificate %s\n", cfg->cert_file);
	else
		printf("certificate %s does not exist yet: put it there "
		       "before serve\n",
		       cfg->cert_file);
	if (fp[0] != '\0')
		printf("certificate SHA-256 fingerprint: %s\n", fp);
	fflush(stdout);
}

int ll_cmd_init(int argc, char **argv)
{
	gchar *state_dir = NULL, *org = NULL, *org_name = NULL;
	GOptionEntry entries[] = {
		{ "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
		  "state directory to create (default " LL_DEFAULT_STATE_DIR
		  ")",
		  "DIR" },
		{ "org", 0, 0, G_OPTION_ARG_STRING, &org,
		  "name of the first organisation (default \"default\")",
		  "ORG" },
		{ "org-name", 0, 0, G_OPTION_ARG_STRING, &org_name,
		  "its display name, the words end users see "
		  "(\"Example Corp IT\")",
		  "NAME" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	GOptionContext *oc;
	GError *gerr = NULL;
	struct ll_relay_config cfg;
	struct ll_store *st = NULL;
	struct created made = { .n = 0 };
	char errbuf[512], fp[128];
	char *default_cert = NULL;
	struct init_paths paths = { NULL, NULL, NULL, NULL };
	struct ll_relay relay;
	const char *dir;
	bool cert_named, made_cert = false;
	json_t *detail;
	int64_t org_id = 0;
	int rc = 1, r;

	memset(&cfg, 0, sizeof(cfg));
	memset(&relay, 0, sizeof(relay));
	oc = g_option_context_new("- create a new Lifeline state directory");
	g_option_context_add_main_entries(oc, entries, NULL);
	if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
		ll_cmd_fail("init: %s", gerr->message);
		rc = 2;
		goto out;
	}
	if (argc > 1) {
		ll_cmd_fail("init: unexpected argument '%s'", argv[1]);
		rc = 2;
		goto out;
	}
	dir = state_dir ? state_dir : LL_DEFAULT_STATE_DIR;
	if (org == NULL)
		org = g_strdup("default");
	if (org[0] == '\0' || strlen(org) > 128) {
		ll_cmd_fail("init: --org must be 1 to 128 bytes");
		rc = 2;
		goto out;
	}
	if (org_name != NULL && !ll_cmd_display_name_ok("init", org_name)) {
		rc = 2;
		goto out;
	}

	if (init_dir(dir, &made) != 0)
		goto undo;
	if (ll_relay_config_load(dir, &cfg, errbuf, sizeof(errbuf)) != 0) {
		ll_cmd_fail("%s", errbuf);
		goto undo;
	}
	if (init_refuse_existing(dir, &cfg) != 0)
		goto undo;
	/* the same spelling relay_config.c uses for the default */
	default_cert = g_strdup_printf("%s/cert.pem", dir);
	cert_named = strcmp(cfg.cert_file, default_cert) != 0;

	if (init_state(dir, &cfg, &made, &paths, &relay) != 0)
		goto undo;
	st = relay.store;
	if ((r = ll_store_begin(st)) != 0 ||
	    (r = ll_store_org_create(st, org, ll_now_unix(), &org_id)) != 0 ||
	    (org_name != NULL &&
	     (r = ll_store_org_set_display_name(st, org_id, org_name)) != 0)) {
		ll_cmd_fail("cannot create org '%s': %s", org,
			    ll_store_errmsg(st));
		goto undo;
	}

	if (init_cert(&cfg, cert_named, &made, &made_cert, fp, sizeof(fp)) !=
	    0)
		goto undo;

	detail = json_pack("{s:s,s:b,s:s,s:s?}", "org", org,
			   "self_signed_cert", made_cert, "certificate_sha256",
			   fp, "org_display_name", org_name);
	if ((r = ll_cmd_audit_append(st, org_id, "init", "ok", detail)) != 0 ||
	    (r = ll_store_commit(st)) != 0) {
		ll_cmd_fail("cannot write the audit log: %s", ll_strerror(r));
		goto undo;
	}
	st = NULL;
	ll_relay_close_state(&relay);

	init_report(dir, made.dir != NULL, &cfg, org, made_cert, fp);
	rc = 0;
	goto out;

undo:
	if (st != NULL && st == relay.store)
		ll_store_rollback(st);
	else
		ll_store_close(st);
	st = NULL;
	ll_relay_close_state(&relay);
	created_undo(&made);
out:
	ll_relay_config_clear(&cfg);
	g_free(default_cert);
	init_paths_clear(&paths);
	g_free(state_dir);
	g_free(org);
	g_free(org_name);
	g_clear_error(&gerr);
	g_option_context_free(oc);
	return rc;
}
