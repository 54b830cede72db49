/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the key-file reader and its typed getters. */
#include <stddef.h>
#include <stdint.h>

#include "ll_config.h"
#include "ll_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const groups[] = { "relay", "store", "g", NULL };
	static const char *const relay_keys[] = { "listen", "pin_lifetime",
						  "debug", NULL };
	static const char *const store_keys[] = { "path", NULL };
	static const char *const g_keys[] = { "a", "b", "k", NULL };
	static const char *const *const keys[] = { relay_keys, store_keys,
						   g_keys };
	struct ll_config *cfg = NULL;
	char err[256];
	int64_t v;
	bool b;

	if (ll_config_load_data((const char *)data, size, "fuzz", &cfg, err,
				sizeof(err)) != LL_OK)
		return 0;
	(void)ll_config_get(cfg, "relay", "listen");
	(void)ll_config_get_int(cfg, "relay", "pin_lifetime", 60, 86400, 1200,
				&v, err, sizeof(err));
	(void)ll_config_get_int(cfg, "g", "a", INT64_MIN, INT64_MAX, 0, &v,
				err, sizeof(err));
	(void)ll_config_get_bool(cfg, "relay", "debug", false, &b, err,
				 sizeof(err));
	(void)ll_config_get_bool(cfg, "g", "b", false, &b, err, sizeof(err));
	(void)ll_config_check_keys(cfg, groups, keys, err, sizeof(err));
	ll_config_free(cfg);
	return 0;
}
