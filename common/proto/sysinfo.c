/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sysinfo control message's body (ll_sysinfo.h): parsed from and
 * built into the JSON object of control.c, which checks the message's
 * type and its top-level field names and calls in here.  Its own small
 * getters: control.c's are its file's own, and this schema's rules
 * (nested lists, addresses) are not theirs.
 */
#include "ll_sysinfo.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ll_control.h"
#include "ll_err.h"
#include "ll_text.h"
#include "sysinfo_json.h"

#define MAX_BYTES 9007199254740992ULL /* 2^53: exact in JSON */

const char *const ll_sysinfo_fields[] = {
	"type",       "os",           "kernel",      "host",   "cpu",
	"cpus",       "memory_total", "memory_free", "uptime", "disks",
	"interfaces", "displays",     NULL
};
static const char *const f_disk[] = { "mount", "fs", "total", "free", NULL };
static const char *const f_iface[] = { "name", "addresses", NULL };
static const char *const f_display[] = { "name", "width", "height", NULL };

struct sctx {
	char *err;
	size_t errlen;
	const char *where; /* "disk 3", ... or "" */
};

static int serr(struct sctx *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int serr(struct sctx *c, int code, const char *fmt, ...)
{
	char what[120];
	va_list ap;

	if (c->err != NULL && c->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		snprintf(c->err, c->errlen, "sysinfo%s%s: %s",
			 c->where[0] != '\0' ? " " : "", c->where, what);
	}
	return code;
}

void ll_sysinfo_free(struct ll_sysinfo *si)
{
	size_t i, j;

	if (si == NULL)
		return;
	free(si->os);
	free(si->kernel);
	free(si->host);
	free(si->cpu);
	for (i = 0; i < si->n_disks; i++) {
		free(si->disks[i].mount);
		free(si->disks[i].fs);
	}
	free(si->disks);
	for (i = 0; i < si->n_ifaces; i++) {
		for (j = 0; j < si->ifaces[i].n_addrs; j++)
			free(si->ifaces[i].addrs[j]);
		free(si->ifaces[i].addrs);
		free(si->ifaces[i].name);
	}
	free(si->ifaces);
	for (i = 0; i < si->n_displays; i++)
		free(si->displays[i].name);
	free(si->displays);
	free(si);
}

/* ---- value rules ---- */

static bool no_controls(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	}
	return true;
}

static bool fs_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return false;
	}
	return true;
}

static bool ifname_ok(const char *s)
{
	return no_controls(s) && strchr(s, '/') == NULL &&
	       strchr(s, ' ') == NULL;
}

static bool mount_ok(const char *s)
{
	return s[0] == '/' && no_controls(s);
}

bool ll_sysinfo_addr_ok(const char *s)
{
	char ip[LL_SYSINFO_MAX_ADDR + 1], *end;
	const char *slash;
	unsigned char bin[16];
	unsigned long prefix;
	int af;

	if (s == NULL || (slash = strchr(s, '/')) == NULL ||
	    (size_t)(slash - s) >= sizeof(ip) || slash == s)
		return false;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	af = strchr(ip, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, ip, bin) != 1)
		return false;
	if (slash[1] < '0' || slash[1] > '9' || (slash[1] == '0' && slash[2]))
		return false;
	prefix = strtoul(slash + 1, &end, 10);
	return *end == '\0' && prefix <= (af == AF_INET6 ? 128u : 32u);
}

/* ---- getters ---- */

static int get_text(struct sctx *c, json_t *o, const char *key, size_t max,
		    bool (*ok)(const char *), const char *rule, char **out)
{
	json_t *v = json_object_get(o, key);
	size_t len;

	if (v == NULL)
		return serr(c, LL_ERR_SCHEMA, "missing field \"%s\"", key);
	if (!json_is_string(v))
		return serr(c, LL_ERR_SCHEMA, "field \"%s\" must be a string",
			    key);
	len = json_string_length(v);
	if (len > max)
		return serr(c, LL_ERR_TOO_LARGE, "field \"%s\" over %zu bytes",
			    key, max);
	if (len == 0)
		return serr(c, LL_ERR_SCHEMA, "field \"%s\" is empty", key);
	if (memchr(json_string_value(v), '\0', len) != NULL ||
	    !ok(json_string_value(v)))
		return serr(c, LL_ERR_SCHEMA, "field \"%s\" must be %s", key,
			    rule);
	if ((*out = strdup(json_string_value(v))) == NULL)
		return serr(c, LL_ERR_NOMEM, "out of memory");
	return 0;
}

static int get_num(struct sctx *c, json_t *o, const char *key, uint64_t min,
		   uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(o, key);
	json_int_t n;

	if (v == NULL)
		return serr(c, LL_ERR_SCHEMA, "missing field \"%s\"", key);
	if (!json_is_integer(v))
		return serr(c, LL_ERR_SCHEMA,
			    "field \"%s\" must be an integer", key);
	n = json_integer_value(v);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return serr(c, LL_ERR_SCHEMA,
			    "field \"%s\" out of range (%llu..%llu)", key,
			    (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

/* An object with only the fields of `fields`. */
static int check_obj(struct sctx *c, json_t *e, const char *const *fields)
{
	const char *key;
	char tmp[40];
	json_t *v;
	size_t i;

	if (!json_is_object(e))
		return serr(c, LL_ERR_SCHEMA, "not an object");
	json_object_foreach(e, key, v)
	{
		for (i = 0; fields[i] != NULL; i++) {
			if (strcmp(fields[i], key) == 0)
				break;
		}
		if (fields[i] == NULL) {
			ll_text_printable(tmp, sizeof(tmp), key, strlen(key));
			return serr(c, LL_ERR_SCHEMA, "unknown field \"%s\"",
				    tmp);
		}
	}
	return 0;
}

/* The array at key, 0..max entries; *n its size. */
static int get_list(struct sctx *c, json_t *o, const char *key, size_t max,
		    json_t **arr, size_t *n)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return serr(c, LL_ERR_SCHEMA, "missing field \"%s\"", key);
	if (!json_is_array(v))
		return serr(c, LL_ERR_SCHEMA, "field \"%s\" must be an array",
			    key);
	if (json_array_size(v) > max)
		return serr(c, LL_ERR_TOO_LARGE,
			    "field \"%s\" over %zu entries", key, max);
	*arr = v;
	*n = json_array_size(v);
	return 0;
}

/* ---- parsing ---- */

static int parse_disk(struct sctx *c, json_t *e, struct ll_sysinfo_disk *d)
{
	int r;

	if ((r = check_obj(c, e, f_disk)) != 0 ||
	    (r = get_text(c, e, "mount", LL_SYSINFO_MAX_PATH, mount_ok,
			  "an absolute path without control characters",
			  &d->mount)) != 0 ||
	    (r = get_text(c, e, "fs", LL_SYSINFO_MAX_FS, fs_ok,
			  "lowercase letters, digits, '.', '_' or '-'",
			  &d->fs)) != 0 ||
	    (r = get_num(c, e, "total", 0, MAX_BYTES, &d->total)) != 0 ||
	    (r = get_num(c, e, "free", 0, d->total, &d->free)) != 0)
		return r;
	return 0;
}

static int parse_iface(struct sctx *c, json_t *e, struct ll_sysinfo_iface *f)
{
	json_t *arr = NULL, *a;
	size_t n = 0, i;
	int r;

	if ((r = check_obj(c, e, f_iface)) != 0 ||
	    (r = get_text(c, e, "name", LL_SYSINFO_MAX_IFNAME, ifname_ok,
			  "an interface name (no control characters, '/' or "
			  "spaces)",
			  &f->name)) != 0 ||
	    (r = get_list(c, e, "addresses", LL_SYSINFO_MAX_ADDRS, &arr,
			  &n)) != 0)
		return r;
	if (n > 0 && (f->addrs = calloc(n, sizeof(*f->addrs))) == NULL)
		return serr(c, LL_ERR_NOMEM, "out of memory");
	json_array_foreach(arr, i, a)
	{
		if (!json_is_string(a) ||
		    json_string_length(a) > LL_SYSINFO_MAX_ADDR ||
		    strlen(json_string_value(a)) != json_string_length(a) ||
		    !ll_sysinfo_addr_ok(json_string_value(a)))
			return serr(c, LL_ERR_SCHEMA,
				    "address %zu must be ADDRESS/PREFIX", i);
		if ((f->addrs[i] = strdup(json_string_value(a))) == NULL)
			return serr(c, LL_ERR_NOMEM, "out of memory");
		f->n_addrs = i + 1;
	}
	return 0;
}

static bool monitor_name_ok(const char *s)
{
	return ll_control_monitor_name_ok(s);
}

static int parse_display(struct sctx *c, json_t *e,
			 struct ll_sysinfo_display *d)
{
	uint64_t w = 0, h = 0;
	int r;

	if ((r = check_obj(c, e, f_display)) != 0 ||
	    (r = get_text(c, e, "name", LL_CONTROL_MAX_MONITOR_NAME,
			  monitor_name_ok, "a monitor name", &d->name)) != 0 ||
	    (r = get_num(c, e, "width", 1, LL_CONTROL_MAX_COORD, &w)) != 0 ||
	    (r = get_num(c, e, "height", 1, LL_CONTROL_MAX_COORD, &h)) != 0)
		return r;
	d->width = (uint32_t)w;
	d->height = (uint32_t)h;
	return 0;
}

/*
 * Each list: allocated once its size is known and owned by si from then
 * on (freed with it on any error); the counts grow with each entry
 * parsed, so ll_sysinfo_free frees exactly what was filled.
 */
static int parse_lists(struct sctx *c, json_t *o, struct ll_sysinfo *si)
{
	char where[32];
	json_t *arr = NULL, *e;
	size_t n = 0, i;
	int r;

	if ((r = get_list(c, o, "disks", LL_SYSINFO_MAX_DISKS, &arr, &n)) != 0)
		return r;
	if (n > 0 && (si->disks = calloc(n, sizeof(*si->disks))) == NULL)
		return serr(c, LL_ERR_NOMEM, "out of memory");
	c->where = where;
	json_array_foreach(arr, i, e)
	{
		snprintf(where, sizeof(where), "disk %zu", i);
		si->n_disks = i + 1;
		if ((r = parse_disk(c, e, &si->disks[i])) != 0)
			return r;
	}
	c->where = "";
	if ((r = get_list(c, o, "interfaces", LL_SYSINFO_MAX_IFACES, &arr,
			  &n)) != 0)
		return r;
	if (n > 0 && (si->ifaces = calloc(n, sizeof(*si->ifaces))) == NULL)
		return serr(c, LL_ERR_NOMEM, "out of memory");
	c->where = where;
	json_array_foreach(arr, i, e)
	{
		snprintf(where, sizeof(where), "interface %zu", i);
		si->n_ifaces = i + 1;
		if ((r = parse_iface(c, e, &si->ifaces[i])) != 0)
			return r;
	}
	c->where = "";
	if ((r = get_list(c, o, "displays", LL_CONTROL_MAX_MONITORS, &arr,
			  &n)) != 0)
		return r;
	if (n > 0 && (si->displays = calloc(n, sizeof(*si->displays))) == NULL)
		return serr(c, LL_ERR_NOMEM, "out of memory");
	c->where = where;
	json_array_foreach(arr, i, e)
	{
		snprintf(where, sizeof(where), "display %zu", i);
		si->n_displays = i + 1;
		if ((r = parse_display(c, e, &si->displays[i])) != 0)
			return r;
	}
	c->where = "";
	return 0;
}

static bool any_text(const char *s)
{
	return no_controls(s);
}

int ll_sysinfo_parse_json(json_t *o, struct ll_sysinfo **out, char *err,
			  size_t errlen)
{
	struct sctx c = { err, errlen, "" };
	struct ll_sysinfo *si;
	uint64_t n = 0;
	int r;

	if ((si = calloc(1, sizeof(*si))) == NULL)
		return serr(&c, LL_ERR_NOMEM, "out of memory");
	if ((r = get_text(&c, o, "os", LL_SYSINFO_MAX_TEXT, any_text,
			  "text without control characters", &si->os)) != 0 ||
	    (r = get_text(&c, o, "kernel", LL_SYSINFO_MAX_TEXT, any_text,
			  "text without control characters", &si->kernel)) !=
		    0 ||
	    (r = get_text(&c, o, "host", LL_CONTROL_MAX_HOST_NAME, any_text,
			  "text without control characters", &si->host)) !=
		    0 ||
	    (r = get_text(&c, o, "cpu", LL_SYSINFO_MAX_TEXT, any_text,
			  "text without control characters", &si->cpu)) != 0 ||
	    (r = get_num(&c, o, "cpus", 1, LL_SYSINFO_MAX_CPUS, &n)) != 0)
		goto out;
	si->cpus = (uint32_t)n;
	if ((r = get_num(&c, o, "memory_total", 0, MAX_BYTES,
			 &si->memory_total)) != 0 ||
	    (r = get_num(&c, o, "memory_free", 0, si->memory_total,
			 &si->memory_free)) != 0 ||
	    (r = get_num(&c, o, "uptime", 0, MAX_BYTES, &si->uptime)) != 0 ||
	    (r = parse_lists(&c, o, si)) != 0)
		goto out;
	*out = si;
	si = NULL;
out:
	ll_sysinfo_free(si);
	return r;
}

/* ---- building ---- */

static int set(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) == 0 ? 0 : LL_ERR_NOMEM;
}

/* Strings may be invalid UTF-8: json_string() refuses those. */
static int set_str(json_t *o, const char *key, const char *s)
{
	json_t *v;

	if (s == NULL || (v = json_string(s)) == NULL)
		return LL_ERR_SCHEMA;
	return set(o, key, v);
}

static int set_u64(json_t *o, const char *key, uint64_t n)
{
	if (n > MAX_BYTES)
		return LL_ERR_SCHEMA;
	return set(o, key, json_integer((json_int_t)n));
}

/* A new array at key, returned borrowed. */
static json_t *add_array(json_t *o, const char *key)
{
	json_t *a = json_array();

	return a != NULL && set(o, key, a) == 0 ? a : NULL;
}

/* A new object appended to a, returned borrowed. */
static json_t *add_object(json_t *a)
{
	json_t *e = json_object();

	return e != NULL && json_array_append_new(a, e) == 0 ? e : NULL;
}

static int build_lists(const struct ll_sysinfo *si, json_t *o)
{
	json_t *disks, *ifs, *dps, *e, *addrs;
	size_t i, j;
	int r;

	if ((disks = add_array(o, "disks")) == NULL ||
	    (ifs = add_array(o, "interfaces")) == NULL ||
	    (dps = add_array(o, "displays")) == NULL)
		return LL_ERR_NOMEM;
	for (i = 0; i < si->n_disks; i++) {
		if ((e = add_object(disks)) == NULL)
			return LL_ERR_NOMEM;
		if ((r = set_str(e, "mount", si->disks[i].mount)) != 0 ||
		    (r = set_str(e, "fs", si->disks[i].fs)) != 0 ||
		    (r = set_u64(e, "total", si->disks[i].total)) != 0 ||
		    (r = set_u64(e, "free", si->disks[i].free)) != 0)
			return r;
	}
	for (i = 0; i < si->n_ifaces; i++) {
		if ((e = add_object(ifs)) == NULL)
			return LL_ERR_NOMEM;
		if ((r = set_str(e, "name", si->ifaces[i].name)) != 0)
			return r;
		if ((addrs = add_array(e, "addresses")) == NULL)
			return LL_ERR_NOMEM;
		for (j = 0; j < si->ifaces[i].n_addrs; j++) {
			if (si->ifaces[i].addrs[j] == NULL)
				return LL_ERR_SCHEMA;
			if (json_array_append_new(
				    addrs,
				    json_string(si->ifaces[i].addrs[j])) != 0)
				return LL_ERR_SCHEMA;
		}
	}
	for (i = 0; i < si->n_displays; i++) {
		if ((e = add_object(dps)) == NULL)
			return LL_ERR_NOMEM;
		if ((r = set_str(e, "name", si->displays[i].name)) != 0 ||
		    (r = set(e, "width",
			     json_integer(si->displays[i].width))) != 0 ||
		    (r = set(e, "height",
			     json_integer(si->displays[i].height))) != 0)
			return r;
	}
	return 0;
}

int ll_sysinfo_to_json(const struct ll_sysinfo *si, json_t *o)
{
	int r;

	if (si == NULL)
		return LL_ERR_SCHEMA;
	/* The parse-back (control.c) checks every rule; only what keeps the
	 * values exact on their way into JSON is checked here. */
	if ((r = set_str(o, "os", si->os)) != 0 ||
	    (r = set_str(o, "kernel", si->kernel)) != 0 ||
	    (r = set_str(o, "host", si->host)) != 0 ||
	    (r = set_str(o, "cpu", si->cpu)) != 0 ||
	    (r = set(o, "cpus", json_integer(si->cpus))) != 0 ||
	    (r = set_u64(o, "memory_total", si->memory_total)) != 0 ||
	    (r = set_u64(o, "memory_free", si->memory_free)) != 0 ||
	    (r = set_u64(o, "uptime", si->uptime)) != 0)
		return r;
	return build_lists(si, o);
}

/* ---- for display ---- */

static int printable(char **s)
{
	char *t;

	if (*s == NULL)
		return 0;
	if ((t = ll_text_printable_new(*s, strlen(*s), 3 * strlen(*s))) ==
	    NULL)
		return LL_ERR_NOMEM;
	free(*s);
	*s = t;
	return 0;
}

int ll_sysinfo_make_printable(struct ll_sysinfo *si)
{
	size_t i;
	int r = 0;

	if (si == NULL)
		return 0;
	r |= printable(&si->os) | printable(&si->kernel) |
	     printable(&si->host) | printable(&si->cpu);
	for (i = 0; i < si->n_disks; i++)
		r |= printable(&si->disks[i].mount) |
		     printable(&si->disks[i].fs);
	for (i = 0; i < si->n_ifaces; i++)
		r |= printable(&si->ifaces[i].name);
	for (i = 0; i < si->n_displays; i++)
		r |= printable(&si->displays[i].name);
	/* addresses passed inet_pton: digits, hex, '.', ':' and '/' */
	return r != 0 ? LL_ERR_NOMEM : 0;
}
