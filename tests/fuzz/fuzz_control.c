/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Control JSON: parse, and what parses serialises and parses the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_buf.h"
#include "ll_control.h"
#include "ll_err.h"
#include "ll_sysinfo.h"

#include <jansson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same bytes as a permission list (groups, the relay's CLI and API):
 * what parses formats back to the same mask. */
static void fuzz_perms(const uint8_t *data, size_t size)
{
	char text[LL_PERM_TEXT_MAX], *s;
	uint32_t m = 0, back = 0;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (ll_perm_parse_list(s, &m) == 0) {
		if ((m & ~LL_PERM_ALL) != 0 ||
		    ll_perm_format(m, text, sizeof(text)) != 0 ||
		    ll_perm_parse_list(text, &back) != 0 || back != m)
			abort();
	} else if (m != 0) {
		abort();
	}
	free(s);
}

/* A sysinfo's body goes on as the agent takes it: into the holder's JSON
 * answer and back (the CLI's parse), then through the display rule. */
static void fuzz_sysinfo(struct ll_sysinfo *si)
{
	struct ll_sysinfo *back = NULL;
	json_t *o = json_object();

	if (o == NULL)
		abort();
	if (ll_sysinfo_to_json(si, o) != 0 ||
	    ll_sysinfo_parse_json(o, &back, NULL, 0) != 0 ||
	    back->n_disks != si->n_disks || back->n_ifaces != si->n_ifaces ||
	    back->memory_free != si->memory_free)
		abort();
	json_decref(o);
	ll_sysinfo_free(back);
	if (ll_sysinfo_make_printable(si) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ll_control_msg *m = NULL, *back = NULL;
	char err[LL_CONTROL_ERR_LEN];
	struct ll_buf *b;
	int r;

	r = ll_control_parse(data, size, &m, err, sizeof(err));
	if (r != 0) {
		if (m != NULL || err[0] == '\0' || strlen(err) >= sizeof(err))
			abort();
	} else {
		b = ll_buf_new(LL_CONTROL_MAX_MSG * 8);
		if (b == NULL)
			abort();
		/* Escaping may grow a message past the cap: that is refused. */
		r = ll_control_serialize(m, b);
		if (r == 0) {
			if (ll_control_parse(ll_buf_data(b), ll_buf_len(b),
					     &back, NULL, 0) != 0 ||
			    back->type != m->type)
				abort();
			ll_control_msg_free(back);
		} else if (r != LL_ERR_TOO_LARGE) {
			abort();
		}
		ll_buf_free(b);
		if (m->type == LL_CONTROL_SYSINFO)
			fuzz_sysinfo(m->u.sysinfo.info);
		ll_control_msg_free(m);
	}
	fuzz_perms(data, size);
	m = NULL;
	r = ll_control_decode(data, size, &m, NULL, 0);
	if (r > 0) {
		if ((size_t)r > size)
			abort();
		ll_control_msg_free(m);
	} else if (m != NULL) {
		abort();
	}
	return 0;
}
