/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Key-file config reader ([group] / key = value / # comments) with
 * line-numbered errors: "relay.conf:12: unknown key 'lisen' in [relay]".
 * Strict: duplicate keys, keys outside a group, bad group headers, lines
 * over 4096 bytes, files over 1 MiB and non-UTF-8 text are rejected.
 */
#ifndef LL_CONFIG_H
#define LL_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct ll_config;

/*
 * On error: *out untouched, errbuf gets "name:line: why"; LL_ERR_CONFIG
 * for bad content.  load_file: LL_ERR_NOT_FOUND when the file does not
 * exist, LL_ERR_IO when it cannot be read (errbuf "path: why").
 * Values are never quoted in messages (they may be secrets).
 */
int ll_config_load_file(const char *path, struct ll_config **out, char *errbuf,
			size_t errlen);
int ll_config_load_data(const char *data, size_t len, const char *name,
			struct ll_config **out, char *errbuf, size_t errlen);
void ll_config_free(struct ll_config *cfg);

/* Raw value or NULL when absent. */
const char *ll_config_get(const struct ll_config *cfg, const char *group,
			  const char *key);
/*
 * Typed getters: absent -> def, LL_OK.  Integers are decimal with an
 * optional sign; booleans true/yes/on/1 and false/no/off/0 (any case).  Present but invalid or out of
 * [min, max] -> LL_ERR_CONFIG with "name:line: ..." in errbuf.
 */
int ll_config_get_int(const struct ll_config *cfg, const char *group,
		      const char *key, int64_t min, int64_t max, int64_t def,
		      int64_t *out, char *errbuf, size_t errlen);
int ll_config_get_bool(const struct ll_config *cfg, const char *group,
		       const char *key, bool def, bool *out, char *errbuf,
		       size_t errlen);
/*
 * Every group must be in groups[] and every key of a group in the
 * matching NULL-terminated keys[i] list; else LL_ERR_CONFIG naming the
 * line.  groups is NULL-terminated.
 */
int ll_config_check_keys(const struct ll_config *cfg,
			 const char *const *groups,
			 const char *const *const *keys, char *errbuf,
			 size_t errlen);

/* The name given at load ("relay.conf", a path). */
const char *ll_config_name(const struct ll_config *cfg);
/*
 * The line of key in group, or of the group's header when key is NULL;
 * 0 when absent.  For checkers that report every problem with its line
 * rather than stop at the first (the brand validator).
 */
unsigned ll_config_line(const struct ll_config *cfg, const char *group,
			const char *key);
/*
 * Calls fn for every group header (key and value NULL) and every entry,
 * in file order.
 */
void ll_config_foreach(const struct ll_config *cfg,
		       void (*fn)(const char *group, const char *key,
				  const char *value, unsigned line,
				  void *user),
		       void *user);

#endif
