/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay's own TLS 1.3 record layer (common/tls/rec13.c), as a shed
 * forwarding stream reads what a hostile peer sends.  The first byte
 * picks the suite and the mode:
 *   - raw: the rest is the byte stream from the socket, cut into records
 *     and opened with fixed keys (headers, lengths, tags);
 *   - sealed: the rest is a list of (inner type, length, bytes) that the
 *     peer's side seals with the right keys before ours opens them
 *     (inner types, padding, alerts, KeyUpdate); application data must
 *     come back as it went in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ll_err.h"
#include "ll_tls_rec13.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t suites[3] = { LL_REC13_AES128, LL_REC13_AES256,
				    LL_REC13_CHACHA };

static void check_open(struct ll_rec13 *r, uint8_t *rec, size_t reclen,
		       int *last)
{
	uint8_t *plain;
	size_t n;
	int e = ll_rec13_open(r, rec, reclen, &plain, &n);

	if (e == LL_OK &&
	    (n > LL_REC13_MAX_PLAIN ||
	     (n > 0 && (plain < rec || plain + n > rec + reclen))))
		abort();
	if (e != LL_OK && (plain != NULL || n != 0))
		abort();
	/* an error or an end is for good */
	if (*last != LL_OK && e != *last)
		abort();
	*last = e;
}

static void raw(struct ll_rec13 *b, const uint8_t *data, size_t size)
{
	static uint8_t rec[LL_REC13_MAX_RECORD];
	size_t off = 0, rl;
	int last = LL_OK;

	while (off < size) {
		int e = ll_rec13_record_len(data + off, size - off, &rl);

		if (e != LL_OK) {
			if (e != LL_ERR_TRUNCATED && e != LL_ERR_TLS)
				abort();
			return;
		}
		if (rl > LL_REC13_MAX_RECORD || rl > size - off)
			abort();
		memcpy(rec, data + off, rl);
		check_open(b, rec, rl, &last);
		off += rl;
	}
}

static void sealed(struct ll_rec13 *a, struct ll_rec13 *b, const uint8_t *data,
		   size_t size)
{
	static uint8_t rec[LL_REC13_SEALED_LEN(LL_REC13_MAX_PLAIN)];
	size_t off = 0, n, rl;
	int last = LL_OK;

	while (off + 3 <= size) {
		uint8_t type = data[off];
		uint8_t *plain;
		size_t got;
		int e;

		n = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (n > size - off)
			n = size - off;
		if (n > LL_REC13_MAX_PLAIN)
			n = LL_REC13_MAX_PLAIN;
		if (ll_rec13_seal(a, type, data + off, n, rec) != LL_OK)
			abort();
		if (ll_rec13_record_len(rec, LL_REC13_SEALED_LEN(n), &rl) !=
			    LL_OK ||
		    rl != LL_REC13_SEALED_LEN(n))
			abort();
		if (last == LL_OK && type == LL_REC13_APPDATA) {
			e = ll_rec13_open(b, rec, rl, &plain, &got);
			if (e != LL_OK || got != n ||
			    (n > 0 && memcmp(plain, data + off, n) != 0))
				abort();
		} else {
			check_open(b, rec, rl, &last);
		}
		/* b took a KeyUpdate: the peer's sealing moves on too */
		if (type == LL_REC13_HANDSHAKE && last == LL_OK &&
		    ll_rec13_seal_key_update(a, rec) != LL_OK)
			abort();
		/* and when it asked for ours, a reads it */
		if (last == LL_OK && ll_rec13_update_due(b)) {
			int la = LL_OK;

			if (ll_rec13_seal_key_update(b, rec) != LL_OK)
				abort();
			check_open(a, rec, LL_REC13_SEALED_LEN(5), &la);
			if (la != LL_OK || ll_rec13_update_due(a))
				abort();
		}
		off += n;
		if ((off & 7) == 0)
			ll_rec13_trim(b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t s1[48] = { 1, 2, 3 }, s2[48] = { 4, 5, 6 };
	struct ll_rec13 *a, *b;
	size_t hl;
	uint16_t suite;

	if (size < 1 || size > 4 * LL_REC13_MAX_RECORD)
		return 0;
	suite = suites[(data[0] & 0x7f) % 3];
	hl = suite == LL_REC13_AES256 ? 48 : 32;
	a = ll_rec13_new(suite, s1, s2, hl, 0, 0);
	b = ll_rec13_new(suite, s2, s1, hl, 0, 0);
	if (a == NULL || b == NULL)
		abort();
	if (data[0] & 0x80)
		sealed(a, b, data + 1, size - 1);
	else
		raw(b, data + 1, size - 1);
	ll_rec13_free(a);
	ll_rec13_free(b);
	return 0;
}
