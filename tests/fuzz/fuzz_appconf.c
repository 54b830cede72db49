/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the signed applet configuration (common/appconf):
 * a `.lifeline` file or /etc/lifeline/applet.conf as the applet reads it,
 * and the trailer at the end of the applet's binary; and the relay_hosts
 * lookup the client checks every host against, on any "LIST\0HOST".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_appconf.h"
#include "ll_crypto.h"
#include "ll_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[LL_APPCONF_KEY_LEN];
	struct ll_appconf c = { 0 };
	char why[256];
	size_t n;

	if (size >= LL_APPCONF_TRAILER_LEN &&
	    ll_appconf_trailer_parse(data + size - LL_APPCONF_TRAILER_LEN,
				     size, &n) == LL_OK)
		(void)ll_appconf_parse(data + size - LL_APPCONF_TRAILER_LEN -
					       n,
				       n, &c, why, sizeof(why));
	ll_appconf_clear(&c);
	{
		char *pin = NULL, *org = NULL, *launch = NULL;
		size_t tlen = 0;

		if (ll_pin_trailer_parse(data, size, size, &pin, &org, &launch,
					 &tlen) == LL_OK) {
			ll_secret_free(pin);
			if (launch != NULL)
				ll_secret_free(launch);
			free(org);
		}
	}
	if (ll_appconf_parse(data, size, &c, why, sizeof(why)) == LL_OK) {
		free(ll_appconf_ca_pem_new(&c));
		(void)ll_appconf_signed_by(&c, zero);
	}
	ll_appconf_clear(&c);
	{
		const uint8_t *nul = memchr(data, 0, size);

		if (nul != NULL) {
			size_t ln = (size_t)(nul - data);
			char *list = strndup((const char *)data, ln);
			char *host = strndup((const char *)nul + 1,
					     size - ln - 1);

			(void)ll_appconf_hosts_list_has(list, host);
			free(ll_appconf_url_host(host));
			free(list);
			free(host);
		}
	}
	return 0;
}
