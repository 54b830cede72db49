/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Strict key-file reader (see ll_config.h).  A small line parser of our
 * own rather than GKeyFile, because GKeyFile reports no line numbers and
 * accepts things we want refused (duplicate keys, keys before a group).
 *
 * Syntax, one item per line:
 *   [group]          name of printable characters, no brackets, no
 *                    leading or trailing blanks
 *   key = value      key of [A-Za-z0-9_.-]; blanks around key and value
 *                    are trimmed; the value may be empty; no quoting or
 *                    escapes, the value is everything after the first '='
 *   # comment        also "; comment", optionally indented
 *   (blank line)
 * Lines end in "\n" (a "\r" before it is a trailing blank).
 *
 * Values are never echoed in messages: they may be secrets.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "ll_config.h"
#include "ll_util.h"

#define LL_CONFIG_MAX_LINE 4096
#define LL_CONFIG_MAX_FILE (1024 * 1024)

struct cfg_entry {
	char *key;
	char *value;
	unsigned line;
};

struct cfg_group {
	char *name;
	unsigned line;
	GPtrArray *entries; /* struct cfg_entry *, in file order */
	GHashTable *index;  /* key -> struct cfg_entry * */
};

struct ll_config {
	char *name;
	GPtrArray *groups; /* struct cfg_group *, in file order */
	GHashTable *index; /* group name -> struct cfg_group * */
};

static void seterr(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

static void entry_free(gpointer p)
{
	struct cfg_entry *e = p;

	if (e == NULL)
		return;
	g_free(e->key);
	/* Values may be passwords or keys. */
	explicit_bzero(e->value, strlen(e->value));
	g_free(e->value);
	g_free(e);
}

static void group_free(gpointer p)
{
	struct cfg_group *g = p;

	if (g == NULL)
		return;
	g_hash_table_destroy(g->index);
	g_ptr_array_free(g->entries, TRUE);
	g_free(g->name);
	g_free(g);
}

void ll_config_free(struct ll_config *cfg)
{
	if (cfg == NULL)
		return;
	g_hash_table_destroy(cfg->index);
	g_ptr_array_free(cfg->groups, TRUE);
	g_free(cfg->name);
	g_free(cfg);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool is_key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Trim blanks from both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
	while (*n > 0 && is_blank(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_blank((*s)[*n - 1]))
		(*n)--;
}

/* A group name: printable, no brackets, no blanks at either end. */
static bool group_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || is_blank(s[0]) || is_blank(s[n - 1]))
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '[' || c == ']')
			return false;
	}
	return true;
}

static struct cfg_group *group_new(const char *name, size_t n, unsigned line)
{
	struct cfg_group *g = g_new0(struct cfg_group, 1);

	g->name = g_strndup(name, n);
	g->line = line;
	g->entries = g_ptr_array_new_with_free_func(entry_free);
	g->index = g_hash_table_new(g_str_hash, g_str_equal);
	return g;
}

static struct ll_config *config_new(const char *name)
{
	struct ll_config *cfg = g_new0(struct ll_config, 1);

	cfg->name = g_strdup(name);
	cfg->groups = g_ptr_array_new_with_free_func(group_free);
	cfg->index = g_hash_table_new(g_str_hash, g_str_equal);
	return cfg;
}

/* One line (without its "\n"); fills errbuf on error. */
static int parse_line(struct ll_config *cfg, struct cfg_group **cur,
		      const char *s, size_t n, unsigned line, char *errbuf,
		      size_t errlen)
{
	const char *name = cfg->name, *eq, *k, *v;
	size_t kn, vn, i;
	struct cfg_group *g, *oldg;
	struct cfg_entry *e, *olde;

	if (n > LL_CONFIG_MAX_LINE) {
		seterr(errbuf, errlen, "%s:%u: line longer than %d bytes",
		       name, line, LL_CONFIG_MAX_LINE);
		return LL_ERR_CONFIG;
	}
	if (memchr(s, '\0', n) != NULL) {
		seterr(errbuf, errlen, "%s:%u: NUL byte in text", name, line);
		return LL_ERR_CONFIG;
	}
	if (!g_utf8_validate(s, (gssize)n, NULL)) {
		seterr(errbuf, errlen, "%s:%u: text is not valid UTF-8", name,
		       line);
		return LL_ERR_CONFIG;
	}
	trim(&s, &n);
	if (n == 0 || s[0] == '#' || s[0] == ';')
		return LL_OK;

	if (s[0] == '[') {
		if (n < 2 || s[n - 1] != ']' || !group_name_ok(s + 1, n - 2)) {
			seterr(errbuf, errlen,
			       "%s:%u: malformed group header (expected "
			       "'[name]')",
			       name, line);
			return LL_ERR_CONFIG;
		}
		g = group_new(s + 1, n - 2, line);
		if ((oldg = g_hash_table_lookup(cfg->index, g->name)) !=
		    NULL) {
			seterr(errbuf, errlen,
			       "%s:%u: duplicate group [%s] (first at line %u)",
			       name, line, g->name, oldg->line);
			group_free(g);
			return LL_ERR_CONFIG;
		}
		g_ptr_array_add(cfg->groups, g);
		g_hash_table_insert(cfg->index, g->name, g);
		*cur = g;
		return LL_OK;
	}

	if ((eq = memchr(s, '=', n)) == NULL) {
		seterr(errbuf, errlen,
		       "%s:%u: expected 'key = value', '[group]' or a comment",
		       name, line);
		return LL_ERR_CONFIG;
	}
	k = s;
	kn = (size_t)(eq - s);
	v = eq + 1;
	vn = n - kn - 1;
	trim(&k, &kn);
	trim(&v, &vn);
	if (kn == 0) {
		seterr(errbuf, errlen, "%s:%u: empty key before '='", name,
		       line);
		return LL_ERR_CONFIG;
	}
	for (i = 0; i < kn; i++) {
		if (!is_key_char(k[i])) {
			/* Not echoed: it may be a mistyped secret. */
			seterr(errbuf, errlen,
			       "%s:%u: key has a character outside "
			       "[A-Za-z0-9_.-]",
			       name, line);
			return LL_ERR_CONFIG;
		}
	}
	if (*cur == NULL) {
		seterr(errbuf, errlen, "%s:%u: key '%.*s' before any [group]",
		       name, line, (int)kn, k);
		return LL_ERR_CONFIG;
	}
	e = g_new0(struct cfg_entry, 1);
	e->key = g_strndup(k, kn);
	e->value = g_strndup(v, vn);
	e->line = line;
	if ((olde = g_hash_table_lookup((*cur)->index, e->key)) != NULL) {
		seterr(errbuf, errlen,
		       "%s:%u: duplicate key '%s' in [%s] (first at line %u)",
		       name, line, e->key, (*cur)->name, olde->line);
		entry_free(e);
		return LL_ERR_CONFIG;
	}
	g_ptr_array_add((*cur)->entries, e);
	g_hash_table_insert((*cur)->index, e->key, e);
	return LL_OK;
}

int ll_config_load_data(const char *data, size_t len, const char *name,
			struct ll_config **out, char *errbuf, size_t errlen)
{
	struct ll_config *cfg = NULL;
	struct cfg_group *cur = NULL;
	const char *p, *nl;
	size_t left, n;
	unsigned line = 0;
	int r;

	if (out == NULL || (data == NULL && len > 0)) {
		seterr(errbuf, errlen, "config: invalid arguments");
		return LL_ERR_INVALID_ARG;
	}
	if (name == NULL)
		name = "config";
	if (len > LL_CONFIG_MAX_FILE) {
		/* Name the line where the limit is crossed. */
		for (p = data, line = 1; p < data + LL_CONFIG_MAX_FILE; p++)
			if (*p == '\n')
				line++;
		seterr(errbuf, errlen, "%s:%u: file larger than 1 MiB", name,
		       line);
		return LL_ERR_CONFIG;
	}
	cfg = config_new(name);
	for (p = data, left = len; left > 0; p = nl + 1, left -= n + 1) {
		line++;
		if ((nl = memchr(p, '\n', left)) == NULL)
			nl = p + left; /* last line without "\n" */
		n = (size_t)(nl - p);
		r = parse_line(cfg, &cur, p, n, line, errbuf, errlen);
		if (r != 0)
			goto out;
		if (n == left)
			break;
	}
	*out = cfg;
	cfg = NULL;
	r = LL_OK;
out:
	ll_config_free(cfg);
	return r;
}

int ll_config_load_file(const char *path, struct ll_config **out, char *errbuf,
			size_t errlen)
{
	char *data = NULL;
	size_t len = 0;
	ssize_t got;
	struct stat st;
	int fd = -1, r, saved;

	if (path == NULL || out == NULL) {
		seterr(errbuf, errlen, "config: invalid arguments");
		return LL_ERR_INVALID_ARG;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		saved = errno;
		seterr(errbuf, errlen, "%s: cannot open: %s", path,
		       g_strerror(saved));
		return saved == ENOENT ? LL_ERR_NOT_FOUND : LL_ERR_IO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		seterr(errbuf, errlen, "%s: not a regular file", path);
		r = LL_ERR_IO;
		goto out;
	}
	/*
	 * O_NONBLOCK only kept open() from hanging on a FIFO; regular files
	 * ignore it.  Read at most one byte over the cap, whatever st_size
	 * claims (the file may grow meanwhile); load_data reports the excess.
	 */
	data = g_malloc(LL_CONFIG_MAX_FILE + 1);
	while (len < LL_CONFIG_MAX_FILE + 1) {
		got = read(fd, data + len, LL_CONFIG_MAX_FILE + 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			saved = errno;
			seterr(errbuf, errlen, "%s: read failed: %s", path,
			       g_strerror(saved));
			r = LL_ERR_IO;
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	r = ll_config_load_data(data, len, path, out, errbuf, errlen);
out:
	if (data != NULL) {
		explicit_bzero(data, len);
		g_free(data);
	}
	close(fd);
	return r;
}

static const struct cfg_entry *find(const struct ll_config *cfg,
				    const char *group, const char *key)
{
	const struct cfg_group *g;

	if (cfg == NULL || group == NULL || key == NULL)
		return NULL;
	if ((g = g_hash_table_lookup(cfg->index, group)) == NULL)
		return NULL;
	return g_hash_table_lookup(g->index, key);
}

const char *ll_config_get(const struct ll_config *cfg, const char *group,
			  const char *key)
{
	const struct cfg_entry *e = find(cfg, group, key);

	return e != NULL ? e->value : NULL;
}

int ll_config_get_int(const struct ll_config *cfg, const char *group,
		      const char *key, int64_t min, int64_t max, int64_t def,
		      int64_t *out, char *errbuf, size_t errlen)
{
	const struct cfg_entry *e;
	const char *s;
	long long v;
	char *end;

	if (cfg == NULL || out == NULL || min > max)
		return LL_ERR_INVALID_ARG;
	if ((e = find(cfg, group, key)) == NULL) {
		*out = def;
		return LL_OK;
	}
	/* Decimal only, optional sign: strtoll alone would skip blanks. */
	s = e->value;
	if (*s == '+' || *s == '-')
		s++;
	if (*s < '0' || *s > '9' || strspn(s, "0123456789") != strlen(s)) {
		seterr(errbuf, errlen,
		       "%s:%u: value of '%s' in [%s] is not an integer",
		       cfg->name, e->line, key, group);
		return LL_ERR_CONFIG;
	}
	errno = 0;
	v = strtoll(e->value, &end, 10);
	if (errno == ERANGE || *end != '\0' || v < min || v > max) {
		seterr(errbuf, errlen,
		       "%s:%u: value of '%s' in [%s] must be between %" PRId64
		       " and %" PRId64,
		       cfg->name, e->line, key, group, min, max);
		return LL_ERR_CONFIG;
	}
	*out = (int64_t)v;
	return LL_OK;
}

int ll_config_get_bool(const struct ll_config *cfg, const char *group,
		       const char *key, bool def, bool *out, char *errbuf,
		       size_t errlen)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	const struct cfg_entry *e;
	size_t i;

	if (cfg == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if ((e = find(cfg, group, key)) == NULL) {
		*out = def;
		return LL_OK;
	}
	for (i = 0; i < LL_ARRAY_SIZE(yes); i++) {
		if (g_ascii_strcasecmp(e->value, yes[i]) == 0) {
			*out = true;
			return LL_OK;
		}
		if (g_ascii_strcasecmp(e->value, no[i]) == 0) {
			*out = false;
			return LL_OK;
		}
	}
	seterr(errbuf, errlen,
	       "%s:%u: value of '%s' in [%s] is not a boolean (use true or "
	       "false)",
	       cfg->name, e->line, key, group);
	return LL_ERR_CONFIG;
}

static bool in_list(const char *const *list, const char *s)
{
	size_t i;

	for (i = 0; list != NULL && list[i] != NULL; i++) {
		if (strcmp(list[i], s) == 0)
			return true;
	}
	return false;
}

/* Checked in file order, so the first offending line is the one named. */
int ll_config_check_keys(const struct ll_config *cfg,
			 const char *const *groups,
			 const char *const *const *keys, char *errbuf,
			 size_t errlen)
{
	const struct cfg_group *g;
	const struct cfg_entry *e;
	size_t i, j, gi;

	if (cfg == NULL || groups == NULL || keys == NULL)
		return LL_ERR_INVALID_ARG;
	for (i = 0; i < cfg->groups->len; i++) {
		g = g_ptr_array_index(cfg->groups, i);
		for (gi = 0; groups[gi] != NULL; gi++) {
			if (strcmp(groups[gi], g->name) == 0)
				break;
		}
		if (groups[gi] == NULL) {
			seterr(errbuf, errlen, "%s:%u: unknown group [%s]",
			       cfg->name, g->line, g->name);
			return LL_ERR_CONFIG;
		}
		for (j = 0; j < g->entries->len; j++) {
			e = g_ptr_array_index(g->entries, j);
			if (!in_list(keys[gi], e->key)) {
				seterr(errbuf, errlen,
				       "%s:%u: unknown key '%s' in [%s]",
				       cfg->name, e->line, e->key, g->name);
				return LL_ERR_CONFIG;
			}
		}
	}
	return LL_OK;
}

const char *ll_config_name(const struct ll_config *cfg)
{
	return cfg != NULL ? cfg->name : NULL;
}

unsigned ll_config_line(const struct ll_config *cfg, const char *group,
			const char *key)
{
	const struct cfg_group *g;
	const struct cfg_entry *e;

	if (cfg == NULL || group == NULL ||
	    (g = g_hash_table_lookup(cfg->index, group)) == NULL)
		return 0;
	if (key == NULL)
		return g->line;
	e = g_hash_table_lookup(g->index, key);
	return e != NULL ? e->line : 0;
}

void ll_config_foreach(const struct ll_config *cfg,
		       void (*fn)(const char *group, const char *key,
				  const char *value, unsigned line,
				  void *user),
		       void *user)
{
	const struct cfg_group *g;
	const struct cfg_entry *e;
	size_t i, j;

	if (cfg == NULL || fn == NULL)
		return;
	for (i = 0; i < cfg->groups->len; i++) {
		g = g_ptr_array_index(cfg->groups, i);
		fn(g->name, NULL, NULL, g->line, user);
		for (j = 0; j < g->entries->len; j++) {
			e = g_ptr_array_index(g->entries, j);
			fn(g->name, e->key, e->value, e->line, user);
		}
	}
}
