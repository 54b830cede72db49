/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Control messages of channel 0: see ll_control.h for the schemas. */
#include "ll_control.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ll_buf.h"
#include "ll_err.h"
#include "ll_sysinfo.h"
#include "ll_text.h"
#include "sysinfo_json.h"

static const struct {
	uint32_t bit;
	const char *name;
} caps[] = {
	{ LL_CAP_VIEW, "view" },
	{ LL_CAP_CONTROL, "control" },
	{ LL_CAP_FILES, "files" },
	{ LL_CAP_CHAT, "chat" },
	{ LL_CAP_SYSINFO, "sysinfo" },
	{ LL_CAP_CLIPBOARD, "clipboard" },
	/* permissions only, never a capability on the wire */
	{ LL_PERM_REPORTS, "reports" },
	{ LL_PERM_ADMIN, "admin" },
};

const char *ll_perm_name(uint32_t bit)
{
	size_t i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if (caps[i].bit == bit)
			return caps[i].name;
	}
	return NULL;
}

uint32_t ll_perm_from_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if (strcmp(caps[i].name, name) == 0)
			return caps[i].bit;
	}
	return 0;
}

const char *ll_cap_name(uint32_t cap)
{
	return (cap & ~LL_CAP_ALL) == 0 ? ll_perm_name(cap) : NULL;
}

uint32_t ll_cap_from_name(const char *name)
{
	return ll_perm_from_name(name) & LL_CAP_ALL;
}

int ll_perm_parse_list(const char *text, uint32_t *out)
{
	char name[16];
	const char *p, *end;
	uint32_t mask = 0, bit;
	size_t n;

	if (text == NULL)
		return LL_ERR_MALFORMED;
	if (*text == '\0') {
		*out = 0;
		return LL_OK;
	}
	for (p = text;; p = end + 1) {
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n == 0 || n >= sizeof(name))
			return LL_ERR_MALFORMED;
		memcpy(name, p, n);
		name[n] = '\0';
		bit = ll_perm_from_name(name);
		if (bit == 0 || (mask & bit) != 0)
			return LL_ERR_MALFORMED;
		mask |= bit;
		if (end == NULL)
			break;
	}
	*out = mask;
	return LL_OK;
}

int ll_perm_format(uint32_t mask, char *buf, size_t len)
{
	size_t i, at = 0, n;

	if (buf == NULL || len == 0)
		return LL_ERR_TOO_LARGE;
	buf[0] = '\0';
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if ((mask & caps[i].bit) == 0)
			continue;
		n = strlen(caps[i].name) + (at > 0);
		if (at + n + 1 > len)
			return LL_ERR_TOO_LARGE;
		snprintf(buf + at, len - at, "%s%s", at > 0 ? "," : "",
			 caps[i].name);
		at += n;
	}
	return LL_OK;
}

static const char *const deny_reasons[] = {
	[LL_DENY_DECLINED] = "declined",
	[LL_DENY_HELD_BACK] = "held_back",
	[LL_DENY_NO_MORE] = "no_more",
};

const char *ll_deny_reason_name(enum ll_deny_reason r)
{
	if ((size_t)r >= sizeof(deny_reasons) / sizeof(deny_reasons[0]))
		return NULL;
	return deny_reasons[r];
}

static bool deny_reason_from_name(const char *name, enum ll_deny_reason *r)
{
	size_t i;

	for (i = 0; i < sizeof(deny_reasons) / sizeof(deny_reasons[0]); i++) {
		if (deny_reasons[i] != NULL &&
		    strcmp(deny_reasons[i], name) == 0) {
			*r = (enum ll_deny_reason)i;
			return true;
		}
	}
	return false;
}

/* file_cancel's reasons; index = enum ll_file_cancel_reason. */
static const char *const file_cancel_reasons[] = {
	NULL, "refused", "cancelled", "failed", "bad_hash", "not_permitted",
};

const char *ll_file_cancel_reason_name(enum ll_file_cancel_reason r)
{
	if ((size_t)r >= LL_ARRAY_SIZE(file_cancel_reasons))
		return NULL;
	return file_cancel_reasons[r];
}

enum ll_file_cancel_reason ll_file_cancel_reason_from_name(const char *name)
{
	size_t i;

	for (i = 1; i < LL_ARRAY_SIZE(file_cancel_reasons); i++) {
		if (strcmp(file_cancel_reasons[i], name) == 0)
			return (enum ll_file_cancel_reason)i;
	}
	return 0;
}

/* retry_after: required with held_back, allowed with declined. */
static bool deny_retry_ok(enum ll_deny_reason r, uint32_t retry_after)
{
	if (retry_after > LL_CONTROL_MAX_RETRY_AFTER)
		return false;
	if (r == LL_DENY_HELD_BACK)
		return retry_after > 0;
	return r == LL_DENY_DECLINED || retry_after == 0;
}

/* Allowed fields per type, "type" included; NULL-terminated. */
static const char *const f_hello[] = { "type", "version", "role",
				       "name", "org",     NULL };
static const char *const f_req[] = { "type", "id", "capabilities", NULL };
static const char *const f_deny[] = { "type", "id", "reason", "retry_after",
				      NULL };
static const char *const f_revoke[] = { "type", "capabilities", NULL };
static const char *const f_chat[] = { "type", "text", NULL };
static const char *const f_offer[] = { "type",   "channel", "name", "size",
				       "sha256", "request", NULL };
static const char *const f_frequest[] = { "type", "id", "name", NULL };
static const char *const f_fcancel[] = { "type", "channel", "request",
					 "reason", NULL };
static const char *const f_fdone[] = { "type", "channel", NULL };
static const char *const f_accept[] = { "type", "channel", "offset", NULL };
static const char *const f_end[] = { "type", "reason", NULL };
static const char *const f_error[] = { "type", "code", "message", NULL };
static const char *const f_monitors[] = { "type", "monitors", "current",
					  NULL };
static const char *const f_select[] = { "type", "name", NULL };
static const char *const f_user[] = { "type", "name", "host", NULL };
static const char *const f_ping[] = { "type", "seq", NULL };
static const char *const f_clip[] = { "type", "text", NULL };
static const char *const f_type[] = { "type", NULL };
static const char *const f_monitor[] = { "name",  "x",      "y",
					 "width", "height", NULL };

static const struct {
	enum ll_control_type type;
	const char *name;
	const char *const *fields;
} types[] = {
	{ LL_CONTROL_HELLO, "hello", f_hello },
	{ LL_CONTROL_REQUEST, "request", f_req },
	{ LL_CONTROL_GRANT, "grant", f_req },
	{ LL_CONTROL_DENY, "deny", f_deny },
	{ LL_CONTROL_REVOKE, "revoke", f_revoke },
	{ LL_CONTROL_CHAT, "chat", f_chat },
	{ LL_CONTROL_FILE_OFFER, "file_offer", f_offer },
	{ LL_CONTROL_FILE_ACCEPT, "file_accept", f_accept },
	{ LL_CONTROL_END, "end", f_end },
	{ LL_CONTROL_ERROR, "error", f_error },
	{ LL_CONTROL_MONITORS, "monitors", f_monitors },
	{ LL_CONTROL_SELECT_MONITOR, "select_monitor", f_select },
	{ LL_CONTROL_USER_INFO, "user_info", f_user },
	{ LL_CONTROL_PING, "ping", f_ping },
	{ LL_CONTROL_PONG, "pong", f_ping },
	{ LL_CONTROL_CLIPBOARD, "clipboard", f_clip },
	{ LL_CONTROL_SYSINFO_REQUEST, "sysinfo_request", f_type },
	{ LL_CONTROL_SYSINFO, "sysinfo", ll_sysinfo_fields },
	{ LL_CONTROL_FILE_REQUEST, "file_request", f_frequest },
	{ LL_CONTROL_FILE_CANCEL, "file_cancel", f_fcancel },
	{ LL_CONTROL_FILE_DONE, "file_done", f_fdone },
};

const char *ll_control_type_name(int type)
{
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if ((int)types[i].type == type)
			return types[i].name;
	}
	return NULL;
}

/* A text member of a message: the offset of its char *. */
#define STR(member) offsetof(struct ll_control_msg, u.member)

/*
 * The text members a message of each type owns, freed with it (0 ends a
 * list: offset 0 is the type, never text).  A type not listed owns none.
 */
static const struct {
	enum ll_control_type type;
	size_t strs[2];
} owned[] = {
	{ LL_CONTROL_HELLO, { STR(hello.name), STR(hello.org) } },
	{ LL_CONTROL_CHAT, { STR(chat.text) } },
	{ LL_CONTROL_FILE_OFFER, { STR(file_offer.name) } },
	{ LL_CONTROL_FILE_REQUEST, { STR(file_request.name) } },
	{ LL_CONTROL_END, { STR(end.reason) } },
	{ LL_CONTROL_ERROR, { STR(error.code), STR(error.message) } },
	{ LL_CONTROL_MONITORS, { STR(monitors.current) } },
	{ LL_CONTROL_SELECT_MONITOR, { STR(select_monitor.name) } },
	{ LL_CONTROL_USER_INFO, { STR(user_info.name), STR(user_info.host) } },
	{ LL_CONTROL_CLIPBOARD, { STR(clipboard.text) } },
};

void ll_control_msg_free(struct ll_control_msg *m)
{
	size_t i, j;

	if (m == NULL)
		return;
	for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
		if (owned[i].type != m->type)
			continue;
		for (j = 0; j < 2 && owned[i].strs[j] != 0; j++)
			free(*(char **)((char *)m + owned[i].strs[j]));
	}
	/* the members that are not text */
	if (m->type == LL_CONTROL_MONITORS)
		free(m->u.monitors.list);
	else if (m->type == LL_CONTROL_SYSINFO)
		ll_sysinfo_free(m->u.sysinfo.info);
	free(m);
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

struct pctx {
	char *err;
	size_t errlen;
};

static int perr(struct pctx *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct pctx *c, int code, const char *fmt, ...)
{
	va_list ap;

	if (c->err != NULL && c->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* Peer text inside our sentences: the display rule (ll_text.h), and
 * short, with "..." where it was cut. */
static const char *safe(const char *s, char *buf, size_t size)
{
	size_t len = strlen(s), n;

	if (ll_text_printable(buf, size, s, len) >= size && size > 4) {
		ll_text_printable(buf, size - 3, s, len);
		n = strlen(buf);
		snprintf(buf + n, size - n, "...");
	}
	return buf;
}

/* Whether key is in the NULL-terminated list of fields. */
static bool field_known(const char *const *fields, const char *key)
{
	size_t i;

	for (i = 0; fields[i] != NULL; i++) {
		if (strcmp(fields[i], key) == 0)
			return true;
	}
	return false;
}

static int get_u64(struct pctx *c, json_t *o, const char *key, bool required,
		   uint64_t max, uint64_t min, uint64_t *out, bool *present)
{
	json_t *v = json_object_get(o, key);
	json_int_t n;

	if (present != NULL)
		*present = v != NULL;
	if (v == NULL) {
		if (!required)
			return 0;
		return perr(c, LL_ERR_SCHEMA, "missing field \"%s\"", key);
	}
	if (!json_is_integer(v))
		return perr(c, LL_ERR_SCHEMA,
			    "field \"%s\" must be an integer", key);
	n = json_integer_value(v);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return perr(c, LL_ERR_SCHEMA,
			    "field \"%s\" out of range (%llu..%llu)", key,
			    (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

/* A string within max bytes (min 1 unless allow_empty), without NUL. */
static int get_str(struct pctx *c, json_t *o, const char *key, bool required,
		   size_t max, bool allow_empty, char **out)
{
	json_t *v = json_object_get(o, key);
	size_t len;

	if (v == NULL) {
		if (!required)
			return 0;
		return perr(c, LL_ERR_SCHEMA, "missing field \"%s\"", key);
	}
	if (!json_is_string(v))
		return perr(c, LL_ERR_SCHEMA, "field \"%s\" must be a string",
			    key);
	len = json_string_length(v);
	if (len > max)
		return perr(c, LL_ERR_TOO_LARGE, "field \"%s\" over %zu bytes",
			    key, max);
	if (len == 0 && !allow_empty)
		return perr(c, LL_ERR_SCHEMA, "field \"%s\" is empty", key);
	if (memchr(json_string_value(v), '\0', len) != NULL)
		return perr(c, LL_ERR_SCHEMA, "field \"%s\" contains NUL",
			    key);
	if ((*out = strdup(json_string_value(v))) == NULL)
		return perr(c, LL_ERR_NOMEM, "out of memory");
	return 0;
}

static int get_caps(struct pctx *c, json_t *o, uint32_t *out)
{
	json_t *v = json_object_get(o, "capabilities"), *e;
	uint32_t mask = 0, bit;
	char tmp[40];
	size_t i;

	if (v == NULL)
		return perr(c, LL_ERR_SCHEMA,
			    "missing field \"capabilities\"");
	if (!json_is_array(v))
		return perr(c, LL_ERR_SCHEMA,
			    "field \"capabilities\" must be an array");
	if (json_array_size(v) == 0)
		return perr(c, LL_ERR_SCHEMA,
			    "field \"capabilities\" is empty");
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e))
			return perr(c, LL_ERR_SCHEMA,
				    "field \"capabilities\" must hold strings");
		bit = ll_cap_from_name(json_string_value(e));
		if (bit == 0 ||
		    strlen(json_string_value(e)) != json_string_length(e))
			return perr(c, LL_ERR_SCHEMA,
				    "field \"capabilities\": unknown "
				    "capability \"%s\"",
				    safe(json_string_value(e), tmp,
					 sizeof(tmp)));
		if (mask & bit)
			return perr(c, LL_ERR_SCHEMA,
				    "field \"capabilities\": \"%s\" twice",
				    ll_cap_name(bit));
		mask |= bit;
	}
	*out = mask;
	return 0;
}

static bool valid_filename(const char *s)
{
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		/* Separators of every OS we may run on, and controls. */
		if (ch == '/' || ch == '\\' || ch < 0x20 || ch == 0x7f)
			return false;
	}
	return true;
}

static bool valid_sha256(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return s[64] == '\0';
}

static bool valid_code(const char *s)
{
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
			return false;
	}
	return true;
}

/* 1..max bytes without control characters: a name shown to people on
 * both sides (a monitor's, the user's, the computer's). */
static bool label_ok(const char *name, size_t max)
{
	size_t len;

	if (name == NULL)
		return false;
	len = strlen(name);
	if (len == 0 || len > max)
		return false;
	for (; *name != '\0'; name++) {
		unsigned char ch = (unsigned char)*name;

		if (ch < 0x20 || ch == 0x7f)
			return false;
	}
	return true;
}

bool ll_control_monitor_name_ok(const char *name)
{
	return label_ok(name, LL_CONTROL_MAX_MONITOR_NAME);
}

/* A required name field of at most max bytes: get_str's rules plus
 * label_ok's. */
static int get_label(struct pctx *c, json_t *o, const char *key, size_t max,
		     char **out)
{
	char *s = NULL;
	int r;

	if ((r = get_str(c, o, key, true, max, false, &s)) != 0)
		return r;
	if (!label_ok(s, max)) {
		free(s);
		return perr(c, LL_ERR_SCHEMA,
			    "field \"%s\" must not hold control characters",
			    key);
	}
	*out = s;
	return 0;
}

static int get_mon_name(struct pctx *c, json_t *o, const char *key, char **out)
{
	return get_label(c, o, key, LL_CONTROL_MAX_MONITOR_NAME, out);
}

/* An integer in [min, max], min may be negative. */
static int get_i32(struct pctx *c, json_t *o, const char *key, int32_t min,
		   int32_t max, int32_t *out)
{
	json_t *v = json_object_get(o, key);
	json_int_t n;

	if (v == NULL)
		return perr(c, LL_ERR_SCHEMA, "missing field \"%s\"", key);
	if (!json_is_integer(v))
		return perr(c, LL_ERR_SCHEMA,
			    "field \"%s\" must be an integer", key);
	n = json_integer_value(v);
	if (n < min || n > max)
		return perr(c, LL_ERR_SCHEMA,
			    "field \"%s\" out of range (%d..%d)", key,
			    (int)min, (int)max);
	*out = (int32_t)n;
	return 0;
}

static int parse_monitor(struct pctx *c, json_t *e, size_t idx,
			 struct ll_control_monitor *mon)
{
	const char *key;
	char tmp[40], *name = NULL;
	int32_t w = 0, h = 0;
	json_t *v;
	int r;

	if (!json_is_object(e))
		return perr(c, LL_ERR_SCHEMA,
			    "field \"monitors\": entry %zu is not an object",
			    idx);
	json_object_foreach(e, key, v)
	{
		if (!field_known(f_monitor, key))
			return perr(c, LL_ERR_SCHEMA,
				    "unknown field \"%s\" in monitor %zu",
				    safe(key, tmp, sizeof(tmp)), idx);
	}
	if ((r = get_mon_name(c, e, "name", &name)) != 0)
		return r;
	memcpy(mon->name, name, strlen(name) + 1);
	free(name);
	if ((r = get_i32(c, e, "x", -LL_CONTROL_MAX_COORD,
			 LL_CONTROL_MAX_COORD, &mon->x)) != 0 ||
	    (r = get_i32(c, e, "y", -LL_CONTROL_MAX_COORD,
			 LL_CONTROL_MAX_COORD, &mon->y)) != 0 ||
	    (r = get_i32(c, e, "width", 1, LL_CONTROL_MAX_COORD, &w)) != 0 ||
	    (r = get_i32(c, e, "height", 1, LL_CONTROL_MAX_COORD, &h)) != 0)
		return r;
	mon->width = (uint32_t)w;
	mon->height = (uint32_t)h;
	return 0;
}

static int parse_monitors(struct pctx *c, json_t *o, struct ll_control_msg *m)
{
	json_t *v = json_object_get(o, "monitors"), *e;
	struct ll_control_monitor *list;
	size_t i, j, n;
	int r;

	if (v == NULL)
		return perr(c, LL_ERR_SCHEMA, "missing field \"monitors\"");
	if (!json_is_array(v))
		return perr(c, LL_ERR_SCHEMA,
			    "field \"monitors\" must be an array");
	n = json_array_size(v);
	if (n == 0)
		return perr(c, LL_ERR_SCHEMA, "field \"monitors\" is empty");
	if (n > LL_CONTROL_MAX_MONITORS)
		return perr(c, LL_ERR_TOO_LARGE,
			    "field \"monitors\" over %u entries",
			    LL_CONTROL_MAX_MONITORS);
	if ((list = calloc(n, sizeof(*list))) == NULL)
		return perr(c, LL_ERR_NOMEM, "out of memory");
	/* Owned by m from here: freed with it on any error. */
	m->u.monitors.list = list;
	json_array_foreach(v, i, e)
	{
		if ((r = parse_monitor(c, e, i, &list[i])) != 0)
			return r;
		for (j = 0; j < i; j++) {
			if (strcmp(list[j].name, list[i].name) == 0)
				return perr(c, LL_ERR_SCHEMA,
					    "field \"monitors\": a name "
					    "appears twice");
		}
		m->u.monitors.n = i + 1;
	}
	if ((r = get_mon_name(c, o, "current", &m->u.monitors.current)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (strcmp(list[i].name, m->u.monitors.current) == 0)
			return 0;
	}
	return perr(c, LL_ERR_SCHEMA,
		    "field \"current\" names no monitor of the list");
}

static int parse_deny(struct pctx *c, json_t *o, struct ll_control_msg *m)
{
	uint64_t n = 0;
	char *s = NULL;
	bool ok;
	int r;

	if ((r = get_str(c, o, "reason", false, 16, false, &s)) != 0)
		return r;
	if (s != NULL) {
		ok = deny_reason_from_name(s, &m->u.deny.reason);
		free(s);
		if (!ok)
			return perr(c, LL_ERR_SCHEMA,
				    "field \"reason\" must be \"declined\", "
				    "\"held_back\" or \"no_more\"");
	}
	if ((r = get_u64(c, o, "retry_after", false,
			 LL_CONTROL_MAX_RETRY_AFTER, 1, &n, NULL)) != 0)
		return r;
	m->u.deny.retry_after = (uint32_t)n;
	if (!deny_retry_ok(m->u.deny.reason, m->u.deny.retry_after))
		return perr(c, LL_ERR_SCHEMA,
			    "field \"retry_after\" goes with reason "
			    "\"held_back\" (required) or \"declined\"");
	return 0;
}

/* Issue 13's messages: clipboard, sysinfo_request, sysinfo. */
static int parse_clip_sysinfo(struct pctx *c, json_t *o,
			      struct ll_control_msg *m)
{
	if (m->type == LL_CONTROL_CLIPBOARD)
		return get_str(c, o, "text", true, LL_CONTROL_MAX_CLIPBOARD,
			       false, &m->u.clipboard.text);
	if (m->type == LL_CONTROL_SYSINFO)
		return ll_sysinfo_parse_json(o, &m->u.sysinfo.info, c->err,
					     c->errlen);
	return 0; /* sysinfo_request: "type" only */
}

static int parse_offer(struct pctx *c, json_t *o, struct ll_control_msg *m)
{
	uint64_t n = 0;
	char *s = NULL;
	int r;

	if ((r = get_u64(c, o, "channel", true, UINT16_MAX, 2, &n, NULL)) != 0)
		return r;
	m->u.file_offer.channel = (uint16_t)n;
	if ((r = get_str(c, o, "name", true, LL_CONTROL_MAX_FILENAME, false,
			 &m->u.file_offer.name)) != 0)
		return r;
	if (!valid_filename(m->u.file_offer.name))
		return perr(c, LL_ERR_SCHEMA,
			    "field \"name\" must be a plain file name "
			    "(no '/', '\\', control characters, . "
			    "or ..)");
	if ((r = get_u64(c, o, "size", true, LL_CONTROL_MAX_SIZE, 0,
			 &m->u.file_offer.size, NULL)) != 0)
		return r;
	if ((r = get_str(c, o, "sha256", true, 64, false, &s)) != 0)
		return r;
	if (!valid_sha256(s)) {
		free(s);
		return perr(c, LL_ERR_SCHEMA,
			    "field \"sha256\" must be 64 lowercase hex "
			    "digits");
	}
	memcpy(m->u.file_offer.sha256, s, 65);
	free(s);
	if ((r = get_u64(c, o, "request", false, UINT32_MAX, 1, &n, NULL)) !=
	    0)
		return r;
	m->u.file_offer.request = (uint32_t)n;
	return 0;
}

/* file_request, file_cancel, file_done (ll_control.h). */
static int parse_file_more(struct pctx *c, json_t *o, struct ll_control_msg *m)
{
	uint64_t n = 0, ch = 0;
	bool has_ch = false, has_req = false;
	char *s = NULL;
	int r;

	switch (m->type) {
	case LL_CONTROL_FILE_REQUEST:
		if ((r = get_u64(c, o, "id", true, UINT32_MAX, 1, &n, NULL)) !=
		    0)
			return r;
		m->u.file_request.id = (uint32_t)n;
		if ((r = get_str(c, o, "name", true, LL_CONTROL_MAX_FILENAME,
				 false, &m->u.file_request.name)) != 0)
			return r;
		if (!valid_filename(m->u.file_request.name))
			return perr(c, LL_ERR_SCHEMA,
				    "field \"name\" must be a plain file name "
				    "(no '/', '\\', control characters, . "
				    "or ..)");
		return 0;
	case LL_CONTROL_FILE_DONE:
		if ((r = get_u64(c, o, "channel", true, UINT16_MAX, 2, &n,
				 NULL)) != 0)
			return r;
		m->u.file_done.channel = (uint16_t)n;
		return 0;
	default:
		break;
	}
	if ((r = get_u64(c, o, "channel", false, UINT16_MAX, 2, &ch,
			 &has_ch)) != 0 ||
	    (r = get_u64(c, o, "request", false, UINT32_MAX, 1, &n,
			 &has_req)) != 0)
		return r;
	if (has_ch == has_req)
		return perr(c, LL_ERR_SCHEMA,
			    "file_cancel needs exactly one of \"channel\" "
			    "and \"request\"");
	m->u.file_cancel.channel = (uint16_t)ch;
	m->u.file_cancel.request = (uint32_t)n;
	if ((r = get_str(c, o, "reason", true, 32, false, &s)) != 0)
		return r;
	m->u.file_cancel.reason = ll_file_cancel_reason_from_name(s);
	free(s);
	if (m->u.file_cancel.reason == 0)
		return perr(c, LL_ERR_SCHEMA,
			    "field \"reason\" must be \"refused\", "
			    "\"cancelled\", \"failed\", \"bad_hash\" or "
			    "\"not_permitted\"");
	return 0;
}

static int parse_fields(struct pctx *c, json_t *o, struct ll_control_msg *m)
{
	uint64_t n = 0;
	char *s = NULL;
	int r;

	switch (m->type) {
	case LL_CONTROL_HELLO:
		if ((r = get_u64(c, o, "version", true, UINT32_MAX, 0, &n,
				 NULL)) != 0)
			return r;
		if (n != LL_CONTROL_VERSION)
			return perr(c, LL_ERR_BAD_VERSION,
				    "field \"version\": version %llu is not "
				    "spoken here (%d)",
				    (unsigned long long)n, LL_CONTROL_VERSION);
		m->u.hello.version = (uint32_t)n;
		if ((r = get_str(c, o, "role", true, 16, false, &s)) != 0)
			return r;
		r = ll_side_from_name(s, &m->u.hello.role);
		free(s);
		if (r != LL_OK)
			return perr(c, LL_ERR_SCHEMA,
				    "field \"role\" must be \"agent\" or "
				    "\"applet\"");
		if ((r = get_str(c, o, "name", false, LL_CONTROL_MAX_STRING,
				 true, &m->u.hello.name)) != 0 ||
		    (r = get_str(c, o, "org", false, LL_CONTROL_MAX_STRING,
				 true, &m->u.hello.org)) != 0)
			return r;
		return 0;
	case LL_CONTROL_REQUEST:
	case LL_CONTROL_GRANT:
		if ((r = get_u64(c, o, "id", true, UINT32_MAX, 0, &n, NULL)) !=
			    0 ||
		    (r = get_caps(c, o, &m->u.request.caps)) != 0)
			return r;
		m->u.request.id = (uint32_t)n;
		return 0;
	case LL_CONTROL_DENY:
		if ((r = get_u64(c, o, "id", true, UINT32_MAX, 0, &n, NULL)) !=
		    0)
			return r;
		m->u.deny.id = (uint32_t)n;
		return parse_deny(c, o, m);
	case LL_CONTROL_REVOKE:
		return get_caps(c, o, &m->u.revoke.caps);
	case LL_CONTROL_CHAT:
		return get_str(c, o, "text", true, LL_CONTROL_MAX_CHAT, false,
			       &m->u.chat.text);
	case LL_CONTROL_FILE_OFFER:
		return parse_offer(c, o, m);
	case LL_CONTROL_FILE_REQUEST:
	case LL_CONTROL_FILE_CANCEL:
	case LL_CONTROL_FILE_DONE:
		return parse_file_more(c, o, m);
	case LL_CONTROL_FILE_ACCEPT:
		if ((r = get_u64(c, o, "channel", true, UINT16_MAX, 2, &n,
				 NULL)) != 0)
			return r;
		m->u.file_accept.channel = (uint16_t)n;
		return get_u64(c, o, "offset", true, LL_CONTROL_MAX_SIZE, 0,
			       &m->u.file_accept.offset, NULL);
	case LL_CONTROL_END:
		return get_str(c, o, "reason", true, LL_CONTROL_MAX_STRING,
			       false, &m->u.end.reason);
	case LL_CONTROL_ERROR:
		if ((r = get_str(c, o, "code", true, 64, false,
				 &m->u.error.code)) != 0)
			return r;
		if (!valid_code(m->u.error.code))
			return perr(c, LL_ERR_SCHEMA,
				    "field \"code\" must be lowercase letters "
				    "and '_'");
		return get_str(c, o, "message", true, LL_CONTROL_MAX_STRING,
			       false, &m->u.error.message);
	case LL_CONTROL_MONITORS:
		return parse_monitors(c, o, m);
	case LL_CONTROL_SELECT_MONITOR:
		return get_mon_name(c, o, "name", &m->u.select_monitor.name);
	case LL_CONTROL_USER_INFO:
		if ((r = get_label(c, o, "name", LL_CONTROL_MAX_USER_NAME,
				   &m->u.user_info.name)) != 0)
			return r;
		return get_label(c, o, "host", LL_CONTROL_MAX_HOST_NAME,
				 &m->u.user_info.host);
	case LL_CONTROL_PING:
	case LL_CONTROL_PONG:
		if ((r = get_u64(c, o, "seq", true, UINT32_MAX, 0, &n,
				 NULL)) != 0)
			return r;
		m->u.ping.seq = (uint32_t)n;
		return 0;
	case LL_CONTROL_CLIPBOARD:
	case LL_CONTROL_SYSINFO_REQUEST:
	case LL_CONTROL_SYSINFO:
		return parse_clip_sysinfo(c, o, m);
	}
	return perr(c, LL_ERR_INTERNAL, "unhandled type");
}

int ll_control_parse(const void *json, size_t len, struct ll_control_msg **out,
		     char *err, size_t errlen)
{
	struct pctx c = { err, errlen };
	struct ll_control_msg *m = NULL;
	const char *const *allowed = NULL;
	json_error_t jerr;
	json_t *o = NULL, *t, *v;
	const char *key;
	char tmp[40];
	size_t i;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL || (json == NULL && len > 0))
		return perr(&c, LL_ERR_INVALID_ARG, "invalid argument");
	/* Capped before jansson allocates anything. */
	if (len > LL_CONTROL_MAX_MSG) {
		r = perr(&c, LL_ERR_TOO_LARGE, "message over %u bytes",
			 LL_CONTROL_MAX_MSG);
		goto out;
	}
	o = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
		       &jerr);
	if (o == NULL) {
		r = perr(&c, LL_ERR_BAD_JSON,
			 "not valid JSON: %s (at byte %d)", jerr.text,
			 jerr.position);
		goto out;
	}
	if (!json_is_object(o)) {
		r = perr(&c, LL_ERR_SCHEMA, "message is not a JSON object");
		goto out;
	}
	t = json_object_get(o, "type");
	if (t == NULL) {
		r = perr(&c, LL_ERR_SCHEMA, "missing field \"type\"");
		goto out;
	}
	if (!json_is_string(t)) {
		r = perr(&c, LL_ERR_SCHEMA, "field \"type\" must be a string");
		goto out;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		r = perr(&c, LL_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(types[i].name, json_string_value(t)) == 0 &&
		    strlen(types[i].name) == json_string_length(t)) {
			m->type = types[i].type;
			allowed = types[i].fields;
		}
	}
	if (allowed == NULL) {
		r = perr(&c, LL_ERR_UNKNOWN_TYPE,
			 "unknown message type \"%s\"",
			 safe(json_string_value(t), tmp, sizeof(tmp)));
		goto out;
	}
	json_object_foreach(o, key, v)
	{
		if (!field_known(allowed, key)) {
			r = perr(&c, LL_ERR_SCHEMA,
				 "unknown field \"%s\" in %s message",
				 safe(key, tmp, sizeof(tmp)),
				 ll_control_type_name(m->type));
			goto out;
		}
	}
	if ((r = parse_fields(&c, o, m)) != 0)
		goto out;
	*out = m;
	m = NULL;
	r = 0;
out:
	ll_control_msg_free(m);
	json_decref(o);
	return r;
}

int ll_control_decode(const uint8_t *data, size_t len,
		      struct ll_control_msg **out, char *err, size_t errlen)
{
	struct ll_buf_view v;
	const uint8_t *json;
	uint32_t n;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL || (data == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	ll_buf_view_init(&v, data, len);
	if (ll_view_get_u32(&v, &n) != 0)
		return 0;
	if (n > LL_CONTROL_MAX_MSG) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "message over %u bytes",
				 LL_CONTROL_MAX_MSG);
		return LL_ERR_TOO_LARGE;
	}
	if (ll_view_get_ptr(&v, n, &json) != 0)
		return 0;
	if ((r = ll_control_parse(json, n, out, err, errlen)) != 0)
		return r;
	return (int)(4 + n);
}

/* ------------------------------------------------------------------ */
/* Serialising                                                         */

static json_t *caps_array(uint32_t mask)
{
	json_t *a = json_array();
	size_t i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if ((mask & caps[i].bit & LL_CAP_ALL) &&
		    json_array_append_new(a, json_string(caps[i].name)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	/* Unknown bits become an unknown name: refused by the check. */
	if ((mask & ~LL_CAP_ALL) != 0 &&
	    json_array_append_new(a, json_string("unknown")) != 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* set_new fails on a NULL value, so a failed json_string() is caught. */
static int set(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) == 0 ? 0 : LL_ERR_NOMEM;
}

/* Strings of the struct may be invalid UTF-8: jansson refuses those. */
static int set_str(json_t *o, const char *key, const char *s)
{
	json_t *v;

	if (s == NULL)
		return LL_ERR_SCHEMA;
	if ((v = json_string(s)) == NULL)
		return LL_ERR_SCHEMA;
	return set(o, key, v);
}

static int build_monitors(const struct ll_control_msg *m, json_t *o)
{
	const struct ll_control_monitor *mon;
	json_t *a, *e;
	size_t i;
	int r;

	/* The parse-back refuses what is out of range; these limits only
	 * keep the values exact on their way into JSON. */
	if (m->u.monitors.n > LL_CONTROL_MAX_MONITORS ||
	    (m->u.monitors.n > 0 && m->u.monitors.list == NULL))
		return m->u.monitors.n > LL_CONTROL_MAX_MONITORS
			       ? LL_ERR_TOO_LARGE
			       : LL_ERR_SCHEMA;
	if ((a = json_array()) == NULL)
		return LL_ERR_NOMEM;
	if ((r = set(o, "monitors", a)) != 0)
		return r;
	for (i = 0; i < m->u.monitors.n; i++) {
		mon = &m->u.monitors.list[i];
		if (memchr(mon->name, '\0', sizeof(mon->name)) == NULL)
			return LL_ERR_SCHEMA;
		if ((e = json_object()) == NULL)
			return LL_ERR_NOMEM;
		if (json_array_append_new(a, e) != 0)
			return LL_ERR_NOMEM;
		if ((r = set_str(e, "name", mon->name)) != 0 ||
		    (r = set(e, "x", json_integer(mon->x))) != 0 ||
		    (r = set(e, "y", json_integer(mon->y))) != 0 ||
		    (r = set(e, "width", json_integer(mon->width))) != 0 ||
		    (r = set(e, "height", json_integer(mon->height))) != 0)
			return r;
	}
	return set_str(o, "current", m->u.monitors.current);
}

/* file_request, file_cancel, file_done: built, then checked by the
 * caller's round trip through the parser (ll_control_serialize). */
static int build_file_more(const struct ll_control_msg *m, json_t *o)
{
	const char *rn;
	int r;

	switch (m->type) {
	case LL_CONTROL_FILE_REQUEST:
		if ((r = set(o, "id", json_integer(m->u.file_request.id))) !=
		    0)
			return r;
		return set_str(o, "name", m->u.file_request.name);
	case LL_CONTROL_FILE_DONE:
		return set(o, "channel", json_integer(m->u.file_done.channel));
	default:
		break;
	}
	rn = ll_file_cancel_reason_name(m->u.file_cancel.reason);
	if (rn == NULL)
		return LL_ERR_SCHEMA;
	if (m->u.file_cancel.channel != 0)
		r = set(o, "channel", json_integer(m->u.file_cancel.channel));
	else
		r = set(o, "request", json_integer(m->u.file_cancel.request));
	if (r != 0)
		return r;
	return set_str(o, "reason", rn);
}

static int build(const struct ll_control_msg *m, json_t *o)
{
	const char *tn = ll_control_type_name(m->type);
	int r;

	if (tn == NULL)
		return LL_ERR_UNKNOWN_TYPE;
	if ((r = set_str(o, "type", tn)) != 0)
		return r;
	switch (m->type) {
	case LL_CONTROL_HELLO:
		if ((r = set(o, "version",
			     json_integer(m->u.hello.version))) != 0 ||
		    (r = set_str(o, "role",
				 ll_side_name(m->u.hello.role) != NULL
					 ? ll_side_name(m->u.hello.role)
					 : "unknown")) != 0)
			return r;
		if (m->u.hello.name != NULL &&
		    (r = set_str(o, "name", m->u.hello.name)) != 0)
			return r;
		if (m->u.hello.org != NULL &&
		    (r = set_str(o, "org", m->u.hello.org)) != 0)
			return r;
		return 0;
	case LL_CONTROL_REQUEST:
	case LL_CONTROL_GRANT:
		if ((r = set(o, "id", json_integer(m->u.request.id))) != 0)
			return r;
		return set(o, "capabilities", caps_array(m->u.request.caps));
	case LL_CONTROL_DENY:
		if (!deny_retry_ok(m->u.deny.reason, m->u.deny.retry_after) ||
		    (m->u.deny.reason != LL_DENY_UNSAID &&
		     ll_deny_reason_name(m->u.deny.reason) == NULL))
			return LL_ERR_SCHEMA;
		if ((r = set(o, "id", json_integer(m->u.deny.id))) != 0)
			return r;
		if (m->u.deny.reason != LL_DENY_UNSAID &&
		    (r = set_str(o, "reason",
				 ll_deny_reason_name(m->u.deny.reason))) != 0)
			return r;
		if (m->u.deny.retry_after == 0)
			return 0;
		return set(o, "retry_after",
			   json_integer(m->u.deny.retry_after));
	case LL_CONTROL_REVOKE:
		return set(o, "capabilities", caps_array(m->u.revoke.caps));
	case LL_CONTROL_CHAT:
		return set_str(o, "text", m->u.chat.text);
	case LL_CONTROL_FILE_OFFER:
		if (m->u.file_offer.size > LL_CONTROL_MAX_SIZE ||
		    memchr(m->u.file_offer.sha256, '\0', 65) == NULL)
			return LL_ERR_SCHEMA;
		if ((r = set(o, "channel",
			     json_integer(m->u.file_offer.channel))) != 0 ||
		    (r = set_str(o, "name", m->u.file_offer.name)) != 0 ||
		    (r = set(o, "size",
			     json_integer(
				     (json_int_t)m->u.file_offer.size))) != 0)
			return r;
		if ((r = set_str(o, "sha256", m->u.file_offer.sha256)) != 0)
			return r;
		if (m->u.file_offer.request == 0)
			return 0;
		return set(o, "request",
			   json_integer(m->u.file_offer.request));
	case LL_CONTROL_FILE_REQUEST:
	case LL_CONTROL_FILE_CANCEL:
	case LL_CONTROL_FILE_DONE:
		return build_file_more(m, o);
	case LL_CONTROL_FILE_ACCEPT:
		if (m->u.file_accept.offset > LL_CONTROL_MAX_SIZE)
			return LL_ERR_SCHEMA;
		if ((r = set(o, "channel",
			     json_integer(m->u.file_accept.channel))) != 0)
			return r;
		return set(o, "offset",
			   json_integer((json_int_t)m->u.file_accept.offset));
	case LL_CONTROL_END:
		return set_str(o, "reason", m->u.end.reason);
	case LL_CONTROL_ERROR:
		if ((r = set_str(o, "code", m->u.error.code)) != 0)
			return r;
		return set_str(o, "message", m->u.error.message);
	case LL_CONTROL_MONITORS:
		return build_monitors(m, o);
	case LL_CONTROL_SELECT_MONITOR:
		return set_str(o, "name", m->u.select_monitor.name);
	case LL_CONTROL_USER_INFO:
		if ((r = set_str(o, "name", m->u.user_info.name)) != 0)
			return r;
		return set_str(o, "host", m->u.user_info.host);
	case LL_CONTROL_PING:
	case LL_CONTROL_PONG:
		return set(o, "seq", json_integer(m->u.ping.seq));
	case LL_CONTROL_CLIPBOARD:
		return set_str(o, "text", m->u.clipboard.text);
	case LL_CONTROL_SYSINFO_REQUEST:
		return 0;
	case LL_CONTROL_SYSINFO:
		return ll_sysinfo_to_json(m->u.sysinfo.info, o);
	}
	return LL_ERR_UNKNOWN_TYPE;
}

/* JSON text of m, checked by parsing it back; caller frees. */
static int to_text(const struct ll_control_msg *m, char **text, size_t *len)
{
	struct ll_control_msg *back = NULL;
	json_t *o = NULL;
	char *s = NULL;
	int r;

	if (m == NULL || text == NULL)
		return LL_ERR_INVALID_ARG;
	if ((o = json_object()) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	if ((r = build(m, o)) != 0)
		goto out;
	if ((s = json_dumps(o, JSON_COMPACT)) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	/* One set of rules for both directions: the parser's. */
	if ((r = ll_control_parse(s, strlen(s), &back, NULL, 0)) != 0)
		goto out;
	*len = strlen(s);
	*text = s;
	s = NULL;
out:
	ll_control_msg_free(back);
	free(s);
	json_decref(o);
	return r;
}

int ll_control_serialize(const struct ll_control_msg *m, struct ll_buf *out)
{
	char *s = NULL;
	size_t len = 0;
	int r;

	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = to_text(m, &s, &len)) != 0)
		return r;
	r = ll_buf_put(out, s, len);
	free(s);
	return r;
}

int ll_control_encode(const struct ll_control_msg *m, struct ll_buf *out)
{
	char *s = NULL;
	uint8_t *p;
	size_t len = 0;
	int r;

	if (out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = to_text(m, &s, &len)) != 0)
		return r;
	/* One reservation: prefix and text, or nothing. */
	if ((r = ll_buf_reserve(out, 4 + len, &p)) == 0) {
		p[0] = (uint8_t)(len >> 24);
		p[1] = (uint8_t)(len >> 16);
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
		memcpy(p + 4, s, len);
	}
	free(s);
	return r;
}
