/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay's state on disk (config, store, at-rest key) and the table of
 * API error codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ll_crypto.h"
#include "ll_util.h"
#include "ll_ratelimit.h"
#include "ll_relay.h"

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
	[LL_API_METHOD_NOT_ALLOWED] = { "bad_request", 405 },
	[LL_API_URI_TOO_LONG] = { "bad_request", 414 },
	[LL_API_HEADERS_TOO_LARGE] = { "bad_request", 431 },
	[LL_API_TIMEOUT] = { "bad_request", 408 },
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

int ll_relay_read_at_rest_key(const char *path, uint8_t key[32], char *errbuf,
			      size_t errlen)
{
	uint8_t buf[33];
	struct stat sb;
	ssize_t n;
	size_t got = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(errbuf, errlen, "cannot open at-rest key %s: %s",
			 path, strerror(errno));
		return LL_ERR_IO;
	}
	if (fstat(fd, &sb) != 0) {
		snprintf(errbuf, errlen, "cannot stat at-rest key %s: %s",
			 path, strerror(errno));
		r = LL_ERR_IO;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(errbuf, errlen,
			 "at-rest key %s is not a regular file", path);
		r = LL_ERR_CONFIG;
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		snprintf(errbuf, errlen,
			 "at-rest key %s is accessible to group or others "
			 "(mode %04o); run: chmod 600 %s",
			 path, (unsigned)(sb.st_mode & 07777), path);
		r = LL_ERR_CONFIG;
		goto out;
	}
	/* Read one byte more than needed so a longer file is caught. */
	while (got < sizeof(buf)) {
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(errbuf, errlen,
				 "cannot read at-rest key %s: %s", path,
				 strerror(errno));
			r = LL_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != 32) {
		snprintf(errbuf, errlen,
			 "at-rest key %s has the wrong size (%s 32 bytes)",
			 path, got < 32 ? "less than" : "more than");
		r = LL_ERR_CONFIG;
		goto out;
	}
	memcpy(key, buf, 32);
	r = LL_OK;
out:
	ll_wipe(buf, sizeof(buf));
	close(fd);
	return r;
}

int ll_relay_open_state(const char *state_dir, struct ll_relay *relay,
			char *errbuf, size_t errlen)
{
	struct ll_relay_config cfg;
	struct ll_store *st = NULL;
	struct ll_ratelimit *rl_login = NULL, *rl_redeem = NULL;
	struct ll_ratelimit *rl_create = NULL;
	struct ll_windows *fails = NULL;
	uint8_t key[32];
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
	if ((r = ll_relay_read_at_rest_key(cfg.at_rest_key_file, key, errbuf,
					   errlen)) != 0)
		goto out;
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
	memcpy(relay->at_rest_key, key, sizeof(key));
	relay->rl_login = rl_login;
	relay->rl_redeem = rl_redeem;
	rl_login = rl_redeem = NULL;
	relay->rl_session_create = rl_create;
	rl_create = NULL;
	relay->redeem_fails = fails;
	fails = NULL;
	r = LL_OK;
out:
	ll_wipe(key, sizeof(key));
	ll_ratelimit_free(rl_login);
	ll_ratelimit_free(rl_redeem);
	ll_ratelimit_free(rl_create);
	ll_windows_free(fails);
	ll_store_close(st);
	ll_relay_config_clear(&cfg);
	return r;
}

void ll_relay_close_state(struct ll_relay *relay)
{
	if (relay == NULL)
		return;
	ll_store_close(relay->store);
	relay->store = NULL;
	LL_FREE_AND_NULL(ll_ratelimit_free, relay->rl_login);
	LL_FREE_AND_NULL(ll_ratelimit_free, relay->rl_redeem);
	LL_FREE_AND_NULL(ll_ratelimit_free, relay->rl_session_create);
	LL_FREE_AND_NULL(ll_windows_free, relay->redeem_fails);
	ll_relay_config_clear(&relay->cfg);
	ll_wipe(relay->at_rest_key, sizeof(relay->at_rest_key));
}
