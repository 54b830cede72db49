/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The audit record of an ended file transfer (ll_xfer_io.h,
 * ll_xfer_report): the sentence of ll_xfer_audit_text in `reason`, and
 * the same facts as fields of the event's `file` object, which the relay
 * keeps in the record's detail.file (docs/API.md, section 5 "File
 * transfer"), so that an auditor finds a file by its SHA-256.
 */
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "ll_control.h"
#include "ll_reporter.h"
#include "ll_xfer_io.h"

/* The relay keeps at most this much of a name (bytes). */
#define XFER_AUDIT_NAME_MAX 256u

static json_t *audit_fields(const struct ll_xfer *x)
{
	const char *name = ll_xfer_name(x), *sha = ll_xfer_sha256(x);
	const char *outcome = ll_xfer_state(x) == LL_XFER_DONE
				      ? "done"
				      : ll_file_cancel_reason_name(
						ll_xfer_reason(x));
	size_t cut = strlen(name);

	/* already printable (ll_xfer_name); cut at a character */
	if (cut > XFER_AUDIT_NAME_MAX) {
		cut = XFER_AUDIT_NAME_MAX;
		while (cut > 0 && ((unsigned char)name[cut] & 0xc0) == 0x80)
			cut--;
	}
	return json_pack("{s:s%,s:I,s:s?,s:s,s:s}", "name", name, cut, "size",
			 (json_int_t)ll_xfer_size(x), "sha256",
			 sha[0] != '\0' ? sha : NULL, "direction",
			 ll_xfer_dir(x) == LL_XFER_OUT ? "sent" : "received",
			 "outcome", outcome != NULL ? outcome : "failed");
}

void ll_xfer_report(struct ll_reporter *rep, const struct ll_xfer *x)
{
	char *text;

	if (rep == NULL || x == NULL)
		return;
	text = ll_xfer_audit_text(x);
	ll_reporter_send_file(rep, "file", LL_CAP_FILES, text,
			      audit_fields(x));
	g_free(text);
}
