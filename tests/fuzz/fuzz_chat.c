/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for chat messages (common/proto/ll_chat.h) as a peer
 * sends them: the input is channel-0 framing (u32 length + JSON, as
 * ll_control_decode reads it); every chat message's text goes into a
 * small log as the peer's, on a clock the input's bytes advance.  What
 * is kept must be valid UTF-8 without controls other than '\n', within
 * LL_CHAT_SHOWN_MAX, and the log within its lines; formatting must hold.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "ll_chat.h"
#include "ll_control.h"
#include "ll_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct ll_chat_line *l)
{
	const char *p;
	char *f;

	if (strlen(l->text) > LL_CHAT_SHOWN_MAX ||
	    !g_utf8_validate(l->text, -1, NULL))
		abort();
	for (p = l->text; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\n')
			abort();
	f = ll_chat_line_format(l, NULL);
	if (f == NULL || strlen(f) < strlen(l->text))
		abort();
	free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ll_chat_log *log = ll_chat_log_new(4);
	const struct ll_chat_line *l;
	struct ll_control_msg *m;
	int64_t mono = 0;
	int n;

	while (log != NULL && size > 0) {
		m = NULL;
		n = ll_control_decode(data, size, &m, NULL, 0);
		if (n <= 0)
			break;
		mono += data[0] * 10;
		if (m->type == LL_CONTROL_CHAT &&
		    ll_chat_log_add(log, LL_CHAT_TECHNICIAN, true,
				    m->u.chat.text, strlen(m->u.chat.text), 0,
				    mono, &l) == LL_OK)
			check(l);
		ll_control_msg_free(m);
		data += n;
		size -= (size_t)n;
	}
	if (ll_chat_log_count(log) > 4)
		abort();
	ll_chat_log_free(log);
	return 0;
}
