/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Signed checkpoints of the audit chain's head: see ll_checkpoint.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "ll_crypto.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "ll_checkpoint.h"

int ll_checkpoint_sign_id(const uint8_t pub[32], char out[17])
{
	uint8_t h[LL_SHA256_LEN];
	char *hex;
	int r;

	if ((r = ll_sha256(pub, 32, h)) != LL_OK)
		return r;
	if ((hex = ll_hex_new(h, 8)) == NULL)
		return LL_ERR_NOMEM;
	memcpy(out, hex, 17);
	free(hex);
	return LL_OK;
}

/* The signed part: everything before " sig=". */
static int signed_text(const struct ll_checkpoint *cp, char *out,
		       size_t outlen)
{
	char *head = ll_hex_new(cp->head, LL_HASH_LEN);
	int n;

	if (head == NULL)
		return LL_ERR_NOMEM;
	n = snprintf(out, outlen,
		     LL_CHECKPOINT_TAG "seq=%" PRId64 " head=%s time=%" PRId64
				       " keyed_from=%" PRId64
				       " key_id=%s sign_key=%s",
		     cp->seq, head, cp->time, cp->keyed_from,
		     cp->key_id[0] ? cp->key_id : "-", cp->sign_id);
	free(head);
	return n > 0 && (size_t)n < outlen ? LL_OK : LL_ERR_TOO_LARGE;
}

int ll_checkpoint_sign(struct ll_checkpoint *cp, const uint8_t priv[32])
{
	char text[LL_CHECKPOINT_LINE_MAX];
	uint8_t pub[32];
	int r;

	if ((r = ll_ed25519_public(priv, pub)) != LL_OK ||
	    (r = ll_checkpoint_sign_id(pub, cp->sign_id)) != LL_OK ||
	    (r = signed_text(cp, text, sizeof(text))) != LL_OK)
		return r;
	return ll_ed25519_sign(priv, text, strlen(text), cp->sig);
}

int ll_checkpoint_format(const struct ll_checkpoint *cp, char *out,
			 size_t outlen)
{
	char *sig;
	size_t n;
	int r;

	if ((r = signed_text(cp, out, outlen)) != LL_OK)
		return r;
	if ((sig = ll_base64url_new(cp->sig, sizeof(cp->sig))) == NULL)
		return LL_ERR_NOMEM;
	n = strlen(out);
	r = (size_t)snprintf(out + n, outlen - n, " sig=%s", sig) < outlen - n
		    ? LL_OK
		    : LL_ERR_TOO_LARGE;
	free(sig);
	return r;
}

/* "name=" then digits (an int64 >= 0) up to a space or the end. */
static bool get_int(const char **p, const char *name, int64_t *v)
{
	size_t n = strlen(name);
	char *end;

	if (strncmp(*p, name, n) != 0 || (*p)[n] != '=' || (*p)[n + 1] < '0' ||
	    (*p)[n + 1] > '9')
		return false;
	errno = 0;
	*v = strtoll(*p + n + 1, &end, 10);
	if (errno != 0 || (*end != ' ' && *end != '\0'))
		return false;
	*p = *end == ' ' ? end + 1 : end;
	return true;
}

/* "name=" then a word into out (at most outlen - 1 bytes). */
static bool get_word(const char **p, const char *name, char *out,
		     size_t outlen)
{
	size_t n = strlen(name), w;

	if (strncmp(*p, name, n) != 0 || (*p)[n] != '=')
		return false;
	w = strcspn(*p + n + 1, " \r\n");
	if (w == 0 || w >= outlen)
		return false;
	memcpy(out, *p + n + 1, w);
	out[w] = '\0';
	*p += n + 1 + w;
	if (**p == ' ')
		(*p)++;
	return true;
}

int ll_checkpoint_parse(const char *line, struct ll_checkpoint *out)
{
	struct ll_checkpoint cp;
	char head[2 * LL_HASH_LEN + 1], sig[100];
	const char *p;
	size_t len;

	if (line == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((p = strstr(line, LL_CHECKPOINT_TAG)) == NULL)
		return LL_ERR_NOT_FOUND;
	memset(&cp, 0, sizeof(cp));
	p += strlen(LL_CHECKPOINT_TAG);
	if (!get_int(&p, "seq", &cp.seq) ||
	    !get_word(&p, "head", head, sizeof(head)) ||
	    !get_int(&p, "time", &cp.time) ||
	    !get_int(&p, "keyed_from", &cp.keyed_from) ||
	    !get_word(&p, "key_id", cp.key_id, sizeof(cp.key_id)) ||
	    !get_word(&p, "sign_key", cp.sign_id, sizeof(cp.sign_id)) ||
	    !get_word(&p, "sig", sig, sizeof(sig)))
		return LL_ERR_MALFORMED;
	if (ll_hex_decode(head, cp.head, sizeof(cp.head), &len) != LL_OK ||
	    len != LL_HASH_LEN ||
	    ll_base64url_decode(sig, cp.sig, sizeof(cp.sig), &len) != LL_OK ||
	    len != sizeof(cp.sig))
		return LL_ERR_MALFORMED;
	if (strcmp(cp.key_id, "-") == 0)
		cp.key_id[0] = '\0';
	*out = cp;
	return LL_OK;
}

int ll_checkpoint_verify(const struct ll_checkpoint *cp, const uint8_t pub[32])
{
	char text[LL_CHECKPOINT_LINE_MAX], id[17];
	int r;

	if ((r = ll_checkpoint_sign_id(pub, id)) != LL_OK)
		return r;
	if (strcmp(id, cp->sign_id) != 0)
		return LL_ERR_AUTH_FAILED;
	if ((r = signed_text(cp, text, sizeof(text))) != LL_OK)
		return r;
	return ll_ed25519_verify(pub, text, strlen(text), cp->sig);
}

/* ---- writing ---- */

static char *state_path(const struct ll_relay *relay, const char *name)
{
	size_t n = strlen(relay->cfg.state_dir) + 1 + strlen(name) + 16;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", relay->cfg.state_dir, name);
	return p;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return LL_ERR_IO;
		buf += n;
		len -= (size_t)n;
	}
	return LL_OK;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* The latest: a temporary file of this process, fsync'd, renamed. */
static int write_latest(const struct ll_relay *relay, const char *line)
{
	char *path = state_path(relay, LL_CHECKPOINT_FILE), *tmp = NULL;
	int fd = -1, r = LL_ERR_NOMEM;
	size_t n;

	if (path == NULL)
		goto out;
	n = strlen(path) + 32;
	if ((tmp = malloc(n)) == NULL)
		goto out;
	/* Per process: the relay and an admin command may both write. */
	snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
	r = LL_ERR_IO;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0 || write_all(fd, line, strlen(line)) != LL_OK ||
	    write_all(fd, "\n", 1) != LL_OK || fsync(fd) != 0)
		goto out;
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0)
		goto out;
	fsync_dir(relay->cfg.state_dir);
	r = LL_OK;
out:
	if (fd >= 0)
		close(fd);
	if (r != LL_OK && tmp != NULL)
		unlink(tmp);
	if (r != LL_OK)
		ll_error("audit checkpoint: cannot write %s: %s",
			 path ? path : LL_CHECKPOINT_FILE, strerror(errno));
	free(tmp);
	free(path);
	return r;
}

/* The history: one line appended (one write, O_APPEND), fsync'd. */
static int append_log(const struct ll_relay *relay, const char *line)
{
	char *path = state_path(relay, LL_CHECKPOINT_LOG), *old = NULL;
	char buf[LL_CHECKPOINT_LINE_MAX + 2];
	struct stat sb;
	int fd = -1, r = LL_ERR_NOMEM;
	size_t n;

	if (path == NULL)
		goto out;
	if (stat(path, &sb) == 0 && sb.st_size >= LL_CHECKPOINT_LOG_MAX) {
		/* One older generation; the newest checkpoints count. */
		n = strlen(path) + 3;
		if ((old = malloc(n)) == NULL)
			goto out;
		snprintf(old, n, "%s.1", path);
		(void)rename(path, old);
	}
	r = LL_ERR_IO;
	n = (size_t)snprintf(buf, sizeof(buf), "%s\n", line);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0 || n >= sizeof(buf) || write_all(fd, buf, n) != LL_OK ||
	    fsync(fd) != 0)
		goto out;
	r = LL_OK;
out:
	if (fd >= 0)
		close(fd);
	if (r != LL_OK)
		ll_error("audit checkpoint: cannot append to %s: %s",
			 path ? path : LL_CHECKPOINT_LOG, strerror(errno));
	free(old);
	free(path);
	return r;
}

int ll_relay_checkpoint(struct ll_relay *relay, bool force)
{
	struct ll_relay_audit *a;
	struct ll_checkpoint cp;
	char line[LL_CHECKPOINT_LINE_MAX];
	int r, r2;

	if (relay == NULL || relay->store == NULL)
		return LL_ERR_INVALID_ARG;
	a = &relay->audit;
	if (!a->writer || !a->has_sign_key)
		return LL_OK;
	memset(&cp, 0, sizeof(cp));
	if ((r = ll_store_audit_head(relay->store, &cp.seq, cp.head)) != 0 ||
	    (r = ll_store_audit_keyed_from(relay->store, &cp.keyed_from)) !=
		    0) {
		ll_error("audit checkpoint: cannot read the head: %s (%s)",
			 ll_strerror(r), ll_store_errmsg(relay->store));
		return r;
	}
	if (cp.seq == 0 || (!force && cp.seq == a->cp_seq &&
			    memcmp(cp.head, a->cp_head, LL_HASH_LEN) == 0))
		return LL_OK;
	cp.time = ll_now_unix();
	if (a->has_key)
		memcpy(cp.key_id, a->key_id, sizeof(cp.key_id));
	if ((r = ll_checkpoint_sign(&cp, a->sign_key)) != LL_OK ||
	    (r = ll_checkpoint_format(&cp, line, sizeof(line))) != LL_OK) {
		ll_error("audit checkpoint: cannot sign: %s", ll_strerror(r));
		return r;
	}
	/* Every place, even when one fails: each copy counts. */
	r = write_latest(relay, line);
	r2 = append_log(relay, line);
	if (r == LL_OK)
		r = r2;
	/* Reaches journald on systemd hosts; forwarded off the box it is
	 * the copy that someone with the state directory cannot take
	 * back. */
	openlog("lifeline-relay", LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s", line);
	closelog();
	/* The relay's log carries it (tests wait for it); an admin
	 * command's stderr stays quiet. */
	ll_log(relay->api != NULL ? LL_LOG_INFO : LL_LOG_DEBUG, "%s", line);
	a->cp_seq = cp.seq;
	memcpy(a->cp_head, cp.head, LL_HASH_LEN);
	return r;
}

void ll_relay_checkpoint_tick(struct ll_relay *relay)
{
	int64_t now = ll_now_unix();

	if (relay == NULL || !relay->audit.writer)
		return;
	if (relay->audit.cp_at != 0 &&
	    now - relay->audit.cp_at < relay->cfg.audit_checkpoint_s &&
	    now >= relay->audit.cp_at)
		return;
	relay->audit.cp_at = now;
	(void)ll_relay_checkpoint(relay, false);
}
