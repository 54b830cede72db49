/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay's state on disk (config, store, at-rest key) and the table of
 * API error codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "ll_crypto.h"
#include "ll_util.h"
#include "ll_ratelimit.h"
#include "ll_relay.h"
#include "ll_checkpoint.h"

/* ---- API error codes ---- */
static const struct {
	const char *name;
	int status;
} api_codes[LL_API_CODE_COUNT] = {
	[LL_API_OK] = { "ok", 200 },
	[LL_API_BAD_REQUEST] = { "bad_request", 400 },
	[LL_API_PAYLOAD_TOO_LARGE] = { "payload_too_large", 413 },
	[LL_API_UNAUTHORIZED] = { "unauthorized", 401 },
	[LL_API_MFA_REQUIRED] = { "mfa_required", 401 },
	[LL_API_INVALID_MFA_CODE] = { "invalid_mfa_code", 401 },
	[LL_API_ACCOUNT_DISABLED] = { "account_disabled", 403 },
	[LL_API_IP_NOT_ALLOWED] = { "ip_not_allowed", 403 },
	[LL_API_RATE_LIMITED] = { "rate_limited", 429 },
	[LL_API_PIN_INVALID] = { "pin_invalid", 404 },
	[LL_API_PIN_EXPIRED] = { "pin_expired", 410 },
	[LL_API_PIN_LOCKED_WEBSITE] = { "pin_locked_website", 403 },
	[LL_API_PIN_LOCKED_SHORTCUT] = { "pin_locked_shortcut", 403 },
	[LL_API_ORIGIN_NOT_ALLOWED] = { "origin_not_allowed", 403 },
	[LL_API_END_USER_IP_NOT_ALLOWED] = { "end_user_ip_not_allowed", 403 },
	[LL_API_FORBIDDEN] = { "forbidden", 403 },
	[LL_API_NOT_FOUND] = { "not_found", 404 },
	[LL_API_CONFLICT] = { "conflict", 409 },
	[LL_API_UNSUPPORTED_VERSION] = { "unsupported_version", 400 },
	[LL_API_INTERNAL] = { "internal", 500 },
	[LL_API_PASSWORD_CHANGE_REQUIRED] = { "password_change_required",
					      403 },
	[LL_API_MFA_ENROLLMENT_REQUIRED] = { "mfa_enrollment_required", 403 },
	[LL_API_ACCOUNT_LOCKED] = { "account_locked", 403 },
	[LL_API_CAPABILITY_NOT_PERMITTED] = { "capability_not_permitted",
					      403 },
	[LL_API_DIRECTORY_UNAVAILABLE] = { "directory_unavailable", 503 },
	[LL_API_SSO_FAILED] = { "sso_failed", 401 },
	[LL_API_METHOD_NOT_ALLOWED] = { "bad_request", 405 },
	[LL_API_URI_TOO_LONG] = { "bad_request", 414 },
	[LL_API_HEADERS_TOO_LARGE] = { "bad_request", 431 },
	[LL_API_TIMEOUT] = { "bad_request", 408 },
	[LL_API_CHAT_NOT_KEPT] = { "chat_not_kept", 409 },
};

const char *ll_api_code_name(enum ll_api_code code)
{
	if ((unsigned)code >= LL_API_CODE_COUNT)
		return "internal";
	return api_codes[code].name;
}

int ll_api_code_status(enum ll_api_code code)
{
	if ((unsigned)code >= LL_API_CODE_COUNT)
		return 500;
	return api_codes[code].status;
}

void ll_api_response_clear(struct ll_api_response *resp)
{
	if (resp == NULL)
		return;
	json_decref(resp->body);
	free(resp->extra_headers);
	free(resp->raw_body);
	memset(resp, 0, sizeof(*resp));
}

void ll_api_error(struct ll_api_response *resp, enum ll_api_code code,
		  const char *message)
{
	ll_api_response_clear(resp);
	resp->code = code;
	resp->status = ll_api_code_status(code);
	resp->body = json_pack("{s:{s:s,s:s}}", "error", "code",
			       ll_api_code_name(code), "message",
			       message ? message : "");
}

/* ---- admin command helpers ---- */
void ll_cmd_fail(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "lifeline-relay: %s\n", line);
}

int ll_cmd_org_resolve(struct ll_store *st, const char *org, int64_t *id_out,
		       char **name_out)
{
	int64_t id = 0;
	int r;

	if (org != NULL) {
		r = ll_store_org_find(st, org, &id);
		if (r == LL_ERR_NOT_FOUND) {
			ll_cmd_fail("org '%s' not found", org);
			return 1;
		}
	} else {
		r = ll_store_org_default(st, &id);
		if (r == LL_ERR_CONFLICT) {
			ll_cmd_fail("this relay has several orgs: name one "
				    "with --org");
			return 1;
		}
		if (r == LL_ERR_NOT_FOUND) {
			ll_cmd_fail("this relay has no org yet (run init)");
			return 1;
		}
	}
	if (r != LL_OK || ll_store_org_name(st, id, name_out) != LL_OK) {
		ll_cmd_fail("cannot read orgs: %s", ll_store_errmsg(st));
		return 1;
	}
	*id_out = id;
	return 0;
}

int ll_cmd_audit_append(struct ll_store *st, int64_t org_id,
			const char *action, const char *outcome,
			json_t *detail)
{
	struct ll_audit_event ev = {
		.org_id = org_id,
		.actor = "cli",
		.action = action,
		.outcome = outcome,
	};
	char *text = NULL;
	int r;

	if (detail != NULL &&
	    (text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS)) ==
		    NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	ev.detail_json = text;
	r = ll_store_audit_append(st, &ev, ll_now_unix());
out:
	free(text);
	json_decref(detail);
	return r;
}

/*
 * Reads a file only its owner may read (what names it in messages: "at-rest
 * key"): at most cap bytes into buf, their count in *got.  Pass one byte
 * more than the content may have, so that a longer file is seen.
 */
static int read_private_file(const char *path, const char *what, uint8_t *buf,
			     size_t cap, size_t *got, char *errbuf,
			     size_t errlen)
{
	struct stat sb;
	ssize_t n;
	int fd, r;

	*got = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(errbuf, errlen, "cannot open %s %s: %s", what, path,
			 strerror(errno));
		return errno == ENOENT ? LL_ERR_NOT_FOUND : LL_ERR_IO;
	}
	if (fstat(fd, &sb) != 0) {
		snprintf(errbuf, errlen, "cannot stat %s %s: %s", what, path,
			 strerror(errno));
		r = LL_ERR_IO;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(errbuf, errlen, "%s %s is not a regular file", what,
			 path);
		r = LL_ERR_CONFIG;
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		snprintf(errbuf, errlen,
			 "%s %s is accessible to group or others "
			 "(mode %04o); run: chmod 600 %s",
			 what, path, (unsigned)(sb.st_mode & 07777), path);
		r = LL_ERR_CONFIG;
		goto out;
	}
	while (*got < cap) {
		n = read(fd, buf + *got, cap - *got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(errbuf, errlen, "cannot read %s %s: %s", what,
				 path, strerror(errno));
			r = LL_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	r = LL_OK;
out:
	close(fd);
	return r;
}

/* Reads a 32-byte key file, refusing group/other access; what names it
 * in errors ("at-rest key"). */
static int read_key_file(const char *path, const char *what, uint8_t key[32],
			 char *errbuf, size_t errlen)
{
	uint8_t buf[33];
	size_t got = 0;
	int r;

	r = read_private_file(path, what, buf, sizeof(buf), &got, errbuf,
			      errlen);
	if (r != LL_OK)
		goto out;
	if (got != 32) {
		snprintf(errbuf, errlen,
			 "%s %s has the wrong size (%s 32 bytes)", what, path,
			 got < 32 ? "less than" : "more than");
		r = LL_ERR_CONFIG;
		goto out;
	}
	memcpy(key, buf, 32);
	r = LL_OK;
out:
	ll_wipe(buf, sizeof(buf));
	return r;
}

int ll_relay_read_at_rest_key(const char *path, uint8_t key[32], char *errbuf,
			      size_t errlen)
{
	return read_key_file(path, "at-rest key", key, errbuf, errlen);
}

int ll_relay_read_metrics_token(const char *path, uint8_t hash[32],
				char *errbuf, size_t errlen)
{
	/* The token, one line end, and one byte to see a longer file. */
	uint8_t buf[LL_METRICS_TOKEN_MAX + 3];
	size_t got = 0, i;
	int r;

	r = read_private_file(path, "metrics token file", buf, sizeof(buf),
			      &got, errbuf, errlen);
	if (r != LL_OK)
		goto out;
	if (got > 0 && buf[got - 1] == '\n')
		got--;
	if (got > 0 && buf[got - 1] == '\r')
		got--;
	/* What a client can send as a bearer token (RFC 6750 b64token:
	 * '=' only at the end). */
	for (i = 0; i < got; i++) {
		if (!(buf[i] >= 'a' && buf[i] <= 'z') &&
		    !(buf[i] >= 'A' && buf[i] <= 'Z') &&
		    !(buf[i] >= '0' && buf[i] <= '9') &&
		    (buf[i] == '\0' || strchr("-._~+/", buf[i]) == NULL))
			break;
	}
	while (i > 0 && i < got && buf[i] == '=')
		i++;
	if (i < got || got < LL_METRICS_TOKEN_MIN ||
	    got > LL_METRICS_TOKEN_MAX) {
		snprintf(errbuf, errlen,
			 "metrics token file %s must hold one line of %d to "
			 "%d characters A-Z a-z 0-9 - . _ ~ + / (then = "
			 "only)",
			 path, LL_METRICS_TOKEN_MIN, LL_METRICS_TOKEN_MAX);
		r = LL_ERR_CONFIG;
		goto out;
	}
	r = ll_sha256(buf, got, hash);
out:
	ll_wipe(buf, sizeof(buf));
	return r;
}

int ll_relay_read_secret_line(const char *path, const char *what, char **out,
			      char *errbuf, size_t errlen)
{
	uint8_t buf[LL_SECRET_LINE_MAX + 3];
	size_t got = 0, i;
	char *s;
	int r;

	r = read_private_file(path, what, buf, sizeof(buf), &got, errbuf,
			      errlen);
	if (r != LL_OK)
		goto out;
	if (got > 0 && buf[got - 1] == '\n')
		got--;
	if (got > 0 && buf[got - 1] == '\r')
		got--;
	for (i = 0; i < got; i++)
		if (buf[i] < 0x20 || buf[i] == 0x7f)
			break;
	if (got == 0 || got > LL_SECRET_LINE_MAX || i < got) {
		snprintf(errbuf, errlen,
			 "%s %s must hold one line of 1 to %d printable "
			 "characters",
			 what, path, LL_SECRET_LINE_MAX);
		r = LL_ERR_CONFIG;
		goto out;
	}
	if ((s = malloc(got + 1)) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	memcpy(s, buf, got);
	s[got] = '\0';
	*out = s;
out:
	ll_wipe(buf, sizeof(buf));
	return r;
}

/* Creates path with data (O_EXCL: never over an existing file). */
static int write_new_file(const char *path, const void *data, size_t len,
			  mode_t mode, char *errbuf, size_t errlen)
{
	const uint8_t *p = data;
	int fd, r = LL_ERR_IO;
	ssize_t n;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0) {
		snprintf(errbuf, errlen, "cannot create %s: %s", path,
			 strerror(errno));
		return LL_ERR_IO;
	}
	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		p += n;
		len -= (size_t)n;
	}
	/* the umask cannot have widened mode, but make it certain */
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0)
		goto fail;
	close(fd);
	return LL_OK;
fail:
	snprintf(errbuf, errlen, "cannot write %s: %s", path, strerror(errno));
	close(fd);
	unlink(path);
	return r;
}

static bool file_exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0 || errno != ENOENT;
}

static int write_pub_file(const char *path, const uint8_t pub[32],
			  char *errbuf, size_t errlen)
{
	char *pem = ll_ed25519_public_pem_new(pub);
	int r;

	if (pem == NULL) {
		snprintf(errbuf, errlen, "cannot encode the public key");
		return LL_ERR_CRYPTO;
	}
	r = write_new_file(path, pem, strlen(pem), 0644, errbuf, errlen);
	free(pem);
	return r;
}

int ll_relay_audit_keys_create(const struct ll_relay_config *cfg, char *errbuf,
			       size_t errlen)
{
	uint8_t key[32], priv[32], pub[32];
	int r = LL_OK;

	if (!file_exists(cfg->audit_key_file)) {
		if ((r = ll_random_bytes(key, sizeof(key))) != LL_OK ||
		    (r = write_new_file(cfg->audit_key_file, key, sizeof(key),
					0600, errbuf, errlen)) != LL_OK)
			goto out;
	}
	if (!file_exists(cfg->audit_sign_key_file)) {
		if ((r = ll_ed25519_keygen(priv, pub)) != LL_OK ||
		    (r = write_new_file(cfg->audit_sign_key_file, priv,
					sizeof(priv), 0600, errbuf, errlen)) !=
			    LL_OK)
			goto out;
		if (!file_exists(cfg->audit_sign_pub_file) &&
		    (r = write_pub_file(cfg->audit_sign_pub_file, pub, errbuf,
					errlen)) != LL_OK)
			goto out;
	}
out:
	if (r != LL_OK && errbuf[0] == '\0')
		snprintf(errbuf, errlen, "cannot make the audit keys: %s",
			 ll_strerror(r));
	ll_wipe(key, sizeof(key));
	ll_wipe(priv, sizeof(priv));
	return r;
}

/* The public key from its PEM file. */
static int read_pub_file(const char *path, uint8_t pub[32], char *errbuf,
			 size_t errlen)
{
	gchar *text = NULL;
	int r;

	if (!g_file_get_contents(path, &text, NULL, NULL)) {
		snprintf(errbuf, errlen, "cannot read %s", path);
		return file_exists(path) ? LL_ERR_IO : LL_ERR_NOT_FOUND;
	}
	r = ll_ed25519_public_from_pem(text, pub);
	if (r != LL_OK)
		snprintf(errbuf, errlen, "%s holds no Ed25519 public key",
			 path);
	g_free(text);
	return r;
}

int ll_relay_applet_key_get(const struct ll_relay_config *cfg,
			    uint8_t priv[32], uint8_t pub[32], bool *made,
			    char *errbuf, size_t errlen)
{
	uint8_t want[32];
	int r;

	if (made != NULL)
		*made = false;
	errbuf[0] = '\0';
	if (!file_exists(cfg->applet_sign_key_file)) {
		if ((r = ll_ed25519_keygen(priv, pub)) != LL_OK ||
		    (r = write_new_file(cfg->applet_sign_key_file, priv, 32,
					0600, errbuf, errlen)) != LL_OK)
			goto out;
		if (made != NULL)
			*made = true;
	} else if ((r = read_key_file(cfg->applet_sign_key_file,
				      "applet configuration signing key", priv,
				      errbuf, errlen)) != LL_OK ||
		   (r = ll_ed25519_public(priv, pub)) != LL_OK) {
		goto out;
	}
	/* The public key beside it, made again when it went missing; one
	 * that names another key is refused rather than trusted. */
	if (!file_exists(cfg->applet_sign_pub_file)) {
		r = write_pub_file(cfg->applet_sign_pub_file, pub, errbuf,
				   errlen);
	} else if ((r = read_pub_file(cfg->applet_sign_pub_file, want, errbuf,
				      errlen)) == LL_OK &&
		   memcmp(want, pub, 32) != 0) {
		snprintf(errbuf, errlen,
			 "%s is not the public key of %s: restore the pair "
			 "from your backup",
			 cfg->applet_sign_pub_file, cfg->applet_sign_key_file);
		r = LL_ERR_CONFIG;
	}
out:
	if (r != LL_OK) {
		if (errbuf[0] == '\0')
			snprintf(errbuf, errlen,
				 "cannot make the applet configuration "
				 "signing key: %s",
				 ll_strerror(r));
		ll_wipe(priv, 32);
	}
	return r;
}

/* The head the latest checkpoint file names, so that a process writes a
 * checkpoint only when its head differs (a hint, not a check). */
static void audit_last_checkpoint(struct ll_relay *relay)
{
	struct ll_checkpoint cp;
	gchar *path, *text = NULL;

	path = g_build_filename(relay->cfg.state_dir, LL_CHECKPOINT_FILE,
				NULL);
	if (g_file_get_contents(path, &text, NULL, NULL) &&
	    ll_checkpoint_parse(text, &cp) == LL_OK) {
		relay->audit.cp_seq = cp.seq;
		memcpy(relay->audit.cp_head, cp.head, LL_HASH_LEN);
	}
	g_free(text);
	g_free(path);
}

/* A state made before the audit was keyed: its keys, and the start of
 * its chain's keyed epoch. */
static int audit_upgrade(struct ll_relay *relay, char *errbuf, size_t errlen)
{
	uint8_t key[32];
	int64_t from = 0;
	int r;

	if ((r = ll_relay_audit_keys_create(&relay->cfg, errbuf, errlen)) !=
		    LL_OK ||
	    (r = read_key_file(relay->cfg.audit_key_file, "audit key", key,
			       errbuf, errlen)) != LL_OK)
		return r;
	if ((r = ll_store_audit_set_key(relay->store, key)) == LL_OK)
		r = ll_store_audit_start_keyed(relay->store, "relay",
					       ll_now_unix());
	ll_wipe(key, sizeof(key));
	if (r != LL_OK) {
		snprintf(errbuf, errlen,
			 "cannot start the keyed audit chain: "
			 "%s (%s)",
			 ll_strerror(r), ll_store_errmsg(relay->store));
		return r;
	}
	(void)ll_store_audit_keyed_from(relay->store, &from);
	ll_warn("audit: made %s and the checkpoint signing key; the chain "
		"is keyed from record %lld on",
		relay->cfg.audit_key_file, (long long)from);
	return LL_OK;
}

/*
 * The audit keys into relay->audit and the store.  A writer with a
 * state made before keys existed gets them here; one whose chain and
 * key do not go together is refused, with the likely reason.
 */
static int audit_keys_open(struct ll_relay *relay, bool writer, char *errbuf,
			   size_t errlen)
{
	struct ll_relay_audit *a = &relay->audit;
	const struct ll_relay_config *cfg = &relay->cfg;
	uint8_t key[32];
	int64_t from = 0, seq = 0;
	uint8_t head[LL_HASH_LEN];
	int r;

	a->writer = writer;
	if ((r = ll_store_audit_keyed_from(relay->store, &from)) != LL_OK ||
	    (r = ll_store_audit_head(relay->store, &seq, head)) != LL_OK) {
		snprintf(errbuf, errlen, "cannot read the audit chain: %s",
			 ll_store_errmsg(relay->store));
		return r;
	}
	r = read_key_file(cfg->audit_key_file, "audit key", key, errbuf,
			  errlen);
	if (r == LL_ERR_NOT_FOUND && writer && from == 0) {
		if ((r = audit_upgrade(relay, errbuf, errlen)) != LL_OK)
			return r;
		r = read_key_file(cfg->audit_key_file, "audit key", key,
				  errbuf, errlen);
	} else if (r == LL_ERR_NOT_FOUND && writer) {
		snprintf(errbuf, errlen,
			 "the audit chain is keyed (from record %lld) but "
			 "the audit key %s is missing: restore it from your "
			 "backup",
			 (long long)from, cfg->audit_key_file);
		return LL_ERR_CONFIG;
	}
	if (r == LL_ERR_NOT_FOUND && !writer) {
		errbuf[0] = '\0'; /* a reader without the key: links only */
	} else if (r != LL_OK) {
		return r;
	} else {
		a->has_key = true;
		r = ll_audit_key_id(key, a->key_id);
		if (r == LL_OK)
			r = ll_store_audit_set_key(relay->store, key);
		ll_wipe(key, sizeof(key));
		if (r != LL_OK)
			return r;
		/* An empty chain (init) starts keyed; a chain that has
		 * records but no keyed epoch next to a key was rewritten
		 * without it, or keying it was cut short. */
		if ((r = ll_store_audit_keyed_from(relay->store, &from)) != 0)
			return r;
		if (writer && from == 0 && seq == 0 &&
		    (r = ll_store_audit_start_keyed(relay->store, "cli",
						    ll_now_unix())) != LL_OK)
			return r;
		if (writer && from == 0 && seq > 0) {
			snprintf(errbuf, errlen,
				 "the audit key %s exists but the audit chain "
				 "has no keyed epoch: the chain was rewritten "
				 "without the key, or keying it was cut short "
				 "(run: lifeline-relay audit verify)",
				 cfg->audit_key_file);
			return LL_ERR_CONFIG;
		}
	}
	if (read_pub_file(cfg->audit_sign_pub_file, a->sign_pub, errbuf,
			  errlen) == LL_OK)
		a->has_pub = true;
	errbuf[0] = '\0';
	if (!writer)
		return LL_OK;
	r = read_key_file(cfg->audit_sign_key_file, "audit signing key",
			  a->sign_key, errbuf, errlen);
	if (r != LL_OK)
		return r;
	a->has_sign_key = true;
	if (!a->has_pub) {
		if ((r = ll_ed25519_public(a->sign_key, a->sign_pub)) != 0 ||
		    (r = write_pub_file(cfg->audit_sign_pub_file, a->sign_pub,
					errbuf, errlen)) != LL_OK)
			return r;
		a->has_pub = true;
	}
	audit_last_checkpoint(relay);
	return LL_OK;
}

static int open_state(const char *state_dir, struct ll_relay *relay,
		      bool writer, char *errbuf, size_t errlen)
{
	struct ll_relay_config cfg;
	struct ll_store *st = NULL;
	struct ll_ratelimit *rl_login = NULL, *rl_redeem = NULL;
	struct ll_ratelimit *rl_create = NULL;
	struct ll_windows *fails = NULL;
	struct stat sb;
	int r;

	memset(&cfg, 0, sizeof(cfg));
	if (relay == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_relay_config_load(state_dir, &cfg, errbuf, errlen)) != 0)
		goto out;
	/* ll_store_open would create an empty store: say what is wrong. */
	if (stat(cfg.db_file, &sb) != 0) {
		if (errno == ENOENT)
			snprintf(errbuf, errlen,
				 "no Lifeline store at %s (run: "
				 "lifeline-relay init --state-dir %s)",
				 cfg.db_file, cfg.state_dir);
		else
			snprintf(errbuf, errlen, "cannot use store %s: %s",
				 cfg.db_file, strerror(errno));
		r = errno == ENOENT ? LL_ERR_NOT_FOUND : LL_ERR_IO;
		goto out;
	}
	if ((r = ll_store_open(cfg.db_file, &st)) != 0) {
		snprintf(errbuf, errlen, "cannot open store %s: %s",
			 cfg.db_file, ll_strerror(r));
		goto out;
	}
	rl_login = ll_ratelimit_new(cfg.login_rate_per_min, cfg.login_burst,
				    LL_RATELIMIT_DEFAULT_ENTRIES);
	rl_redeem = ll_ratelimit_new(cfg.redeem_rate_per_min, cfg.redeem_burst,
				     LL_RATELIMIT_DEFAULT_ENTRIES);
	rl_create = ll_ratelimit_new(cfg.session_create_rate_per_min,
				     cfg.session_create_burst,
				     LL_RATELIMIT_DEFAULT_ENTRIES);
	fails = ll_windows_new();
	if (rl_login == NULL || rl_redeem == NULL || rl_create == NULL ||
	    fails == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		r = LL_ERR_NOMEM;
		goto out;
	}
	relay->cfg = cfg;
	memset(&cfg, 0, sizeof(cfg));
	relay->store = st;
	st = NULL;
	relay->rl_login = rl_login;
	relay->rl_redeem = rl_redeem;
	rl_login = rl_redeem = NULL;
	relay->rl_session_create = rl_create;
	rl_create = NULL;
	relay->redeem_fails = fails;
	fails = NULL;
	if ((r = ll_relay_at_rest_open(relay, errbuf, errlen)) != LL_OK ||
	    (r = audit_keys_open(relay, writer, errbuf, errlen)) != LL_OK) {
		ll_relay_close_state(relay);
		goto out;
	}
	/* None yet (a state older than the key, made by applet-config):
	 * no configuration is accepted as a PIN's proof. */
	relay->have_applet_pub = read_pub_file(relay->cfg.applet_sign_pub_file,
					       relay->applet_pub, errbuf,
					       errlen) == LL_OK;
	errbuf[0] = '\0';
	r = LL_OK;
out:
	ll_ratelimit_free(rl_login);
	ll_ratelimit_free(rl_redeem);
	ll_ratelimit_free(rl_create);
	ll_windows_free(fails);
	ll_store_close(st);
	ll_relay_config_clear(&cfg);
	return r;
}

int ll_relay_open_state(const char *state_dir, struct ll_relay *relay,
			char *errbuf, size_t errlen)
{
	return open_state(state_dir, relay, true, errbuf, errlen);
}

int ll_relay_open_state_ro(const char *state_dir, struct ll_relay *relay,
			   char *errbuf, size_t errlen)
{
	return open_state(state_dir, relay, false, errbuf, errlen);
}

void ll_relay_close_state(struct ll_relay *relay)
{
	if (relay == NULL)
		return;
	/* Whoever appended leaves a checkpoint of what they appended. */
	if (relay->store != NULL && relay->audit.writer)
		(void)ll_relay_checkpoint(relay, false);
	ll_store_close(relay->store);
	relay->store = NULL;
	LL_FREE_AND_NULL(ll_ratelimit_free, relay->rl_login);
	LL_FREE_AND_NULL(ll_ratelimit_free, relay->rl_redeem);
	LL_FREE_AND_NULL(ll_ratelimit_free, relay->rl_session_create);
	LL_FREE_AND_NULL(ll_windows_free, relay->redeem_fails);
	LL_FREE_AND_NULL(ll_ratelimit_free, relay->rl_unauth);
	ll_relay_config_clear(&relay->cfg);
	ll_wipe(relay->audit.sign_key, sizeof(relay->audit.sign_key));
	memset(&relay->audit, 0, sizeof(relay->audit));
	ll_wipe(relay->at_rest_key, sizeof(relay->at_rest_key));
	ll_wipe(relay->mac_key, sizeof(relay->mac_key));
	ll_relay_key_unlock(relay);
}
