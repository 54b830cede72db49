/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/proto/xfer.c (ll_xfer.h): chunks round trip raw and deflated,
 * split anywhere; the decoder refuses what the format does not allow;
 * file names from the other side come out safe.  And the file messages
 * of ll_control.h.
 */
#include <string.h>

#include <glib.h>

#include "ll_buf.h"
#include "ll_control.h"
#include "ll_err.h"
#include "ll_xfer.h"
#include "lt_names.h"

static struct ll_buf *encode(const uint8_t *data, size_t len, uint64_t *z)
{
	struct ll_xfer_enc *e = ll_xfer_enc_new();
	struct ll_buf *b = ll_buf_new(4 * len + 4096);
	uint64_t raw;
	size_t off, n;

	g_assert_nonnull(e);
	for (off = 0; off < len; off += n) {
		n = MIN(len - off, LL_XFER_CHUNK);
		g_assert_cmpint(ll_xfer_enc_chunk(e, data + off, n, b), ==, 0);
	}
	ll_xfer_enc_stats(e, z, &raw);
	ll_xfer_enc_free(e);
	return b;
}

/* Decodes b fed `step` bytes at a time; returns the file. */
static GByteArray *decode(struct ll_buf *b, uint64_t size, size_t step,
			  int *err)
{
	struct ll_xfer_dec *d = ll_xfer_dec_new(size);
	GByteArray *out = g_byte_array_new();
	const uint8_t *p = ll_buf_data(b), *chunk;
	size_t left = ll_buf_len(b), used, n, give;
	int r = 0;

	while (left > 0) {
		give = MIN(step, left);
		r = ll_xfer_dec_feed(d, p, give, &used, &chunk, &n);
		g_assert_cmpuint(used, <=, give);
		p += used;
		left -= used;
		if (r < 0)
			break;
		if (r == 1)
			g_byte_array_append(out, chunk, (guint)n);
		else
			g_assert_cmpuint(used, ==, give);
	}
	*err = r < 0 ? r : 0;
	if (r >= 0)
		g_assert_cmpuint(ll_xfer_dec_remaining(d), ==,
				 size - out->len);
	ll_xfer_dec_free(d);
	return out;
}

static void test_roundtrip(void)
{
	static const size_t steps[] = { 1, 7, 4096, 1 << 20 };
	size_t len = 3 * LL_XFER_CHUNK + 123, i;
	uint8_t *text = g_malloc(len), *noise = g_malloc(len);
	struct ll_buf *b;
	GByteArray *back;
	uint64_t z;
	int err;

	for (i = 0; i < len; i++) {
		text[i] = "lifeline log line\n"[i % 18];
		noise[i] = (uint8_t)g_random_int();
	}
	/* text shrinks: deflated, and much smaller on the wire */
	b = encode(text, len, &z);
	g_assert_cmpuint(z, ==, 4);
	g_assert_cmpuint(ll_buf_len(b), <, len / 10);
	for (i = 0; i < G_N_ELEMENTS(steps); i++) {
		back = decode(b, len, steps[i], &err);
		g_assert_cmpint(err, ==, 0);
		g_assert_cmpmem(back->data, back->len, text, len);
		g_byte_array_unref(back);
	}
	ll_buf_free(b);
	/* noise does not: raw, and zlib is not even tried again soon */
	b = encode(noise, len, &z);
	g_assert_cmpuint(z, ==, 0);
	g_assert_cmpuint(ll_buf_len(b), ==, len + 4 * LL_XFER_HDR);
	back = decode(b, len, 1000, &err);
	g_assert_cmpint(err, ==, 0);
	g_assert_cmpmem(back->data, back->len, noise, len);
	g_byte_array_unref(back);
	ll_buf_free(b);
	g_free(text);
	g_free(noise);
}

static int feed_all(const uint8_t *wire, size_t len, uint64_t size)
{
	struct ll_xfer_dec *d = ll_xfer_dec_new(size);
	const uint8_t *chunk;
	size_t used, n;
	int r;

	do {
		r = ll_xfer_dec_feed(d, wire, len, &used, &chunk, &n);
		wire += used;
		len -= used;
	} while (r == 1 && len > 0);
	/* sticky: the decoder refuses everything after an error */
	if (r < 0)
		g_assert_cmpint(ll_xfer_dec_feed(d, wire, 0, &used, &chunk,
						 &n),
				==, r);
	ll_xfer_dec_free(d);
	return r;
}

static void test_hostile_chunks(void)
{
	/* kind, raw_len, wire_len */
	static const uint8_t unknown_kind[] = {
		7, 0, 0, 0, 1, 0, 0, 0, 1, 'x'
	};
	static const uint8_t zero[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t too_big[] = { 0, 0, 1, 0, 1, 0, 1, 0, 1 };
	static const uint8_t raw_mismatch[] = { 0, 0, 0, 0, 2, 0, 0, 0, 1 };
	static const uint8_t zlib_grows[] = { 1, 0, 0, 0, 2, 0, 0, 0, 2 };
	static const uint8_t zlib_junk[] = {
		1, 0, 0, 0, 9, 0, 0, 0, 3, 1, 2, 3
	};
	static const uint8_t past_size[] = { 0, 0, 0,   0,   4,   0,  0,
					     0, 4, 'a', 'b', 'c', 'd' };
	static const uint8_t two[] = { 0, 0, 0, 0, 1, 0, 0, 0, 1, 'a',
				       0, 0, 0, 0, 1, 0, 0, 0, 1, 'b' };
	uint8_t bomb[LL_XFER_HDR + 64];
	uint8_t *big = g_malloc0(4 * LL_XFER_CHUNK);
	struct ll_buf *b;
	uint64_t z;

	g_assert_cmpint(feed_all(unknown_kind, sizeof(unknown_kind), 10), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(feed_all(zero, sizeof(zero), 10), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(feed_all(too_big, sizeof(too_big), 1 << 30), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(feed_all(raw_mismatch, sizeof(raw_mismatch), 10), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(feed_all(zlib_grows, sizeof(zlib_grows), 10), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(feed_all(zlib_junk, sizeof(zlib_junk), 10), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(feed_all(past_size, sizeof(past_size), 3), ==,
			LL_ERR_TOO_LARGE);
	/* one byte expected, two sent */
	g_assert_cmpint(feed_all(two, sizeof(two), 1), ==, LL_ERR_TOO_LARGE);
	g_assert_cmpint(feed_all(two, sizeof(two), 2), ==, 1);
	/* a zlib bomb: 256 KiB of zeros claimed as a 64-byte chunk's
	 * raw_len 64 cannot inflate past 64 */
	b = encode(big, 4 * LL_XFER_CHUNK, &z);
	memcpy(bomb, ll_buf_data(b), sizeof(bomb));
	bomb[1] = 0;
	bomb[2] = 0;
	bomb[3] = 0;
	bomb[4] = 64;
	g_assert_cmpint(feed_all(bomb, sizeof(bomb), 1 << 20), ==,
			LL_ERR_MALFORMED);
	ll_buf_free(b);
	g_free(big);
}

static void test_names(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "report.pdf", "report.pdf" },
		{ "../../etc/passwd", "_.._etc_passwd" },
		{ "..", "file" },
		{ ".", "file" },
		{ "", "file" },
		{ ".bashrc", "bashrc" },
		{ "a/b\\c:d", "a_b_c_d" },
		{ "C:\\Windows\\evil.exe", "C__Windows_evil.exe" },
		{ "CON", "_CON" },
		{ "nul.txt", "_nul.txt" },
		{ "com1", "_com1" },
		{ "LPT9.log", "_LPT9.log" },
		{ "console.txt", "console.txt" },
		{ "name. . .", "name" },
		/* U+202E RIGHT-TO-LEFT OVERRIDE: "exe.pdf" would read
		 * "fdp.exe" */
		{ "invoice\xe2\x80\xae"
		  "fdp.exe",
		  "invoice_fdp.exe" },
		{ "tab\there\nnl", "tab_here_nl" },
		{ "bad\xff\xfeutf8", "bad__utf8" },
		{ "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.txt",
		  "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.txt" },
		{ "why?*<>|\".txt", "why______.txt" },
	};
	char out[LL_XFER_NAME_MAX + 1], again[LL_XFER_NAME_MAX + 1];
	g_autofree char *a150 = g_strnfill(150, 'a');
	g_autofree char *b100 = g_strnfill(100, 'b');
	g_autofree char *a199 = g_strnfill(199, 'a');
	g_autofree char *sp250 = g_strnfill(250, ' ');
	char *longname;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		ll_xfer_safe_name(cases[i].in, out, sizeof(out));
		g_assert_cmpstr(out, ==, cases[i].out);
		/* the rule applied twice changes nothing more */
		g_assert_false(ll_xfer_safe_name(out, again, sizeof(again)));
	}
	/* long: cut at a character boundary, the extension kept */
	longname = g_strconcat(a150, "\xc3\xa9\xc3\xa9\xc3\xa9", b100,
			       ".tar.gz", NULL);
	g_assert_true(ll_xfer_safe_name(longname, out, sizeof(out)));
	g_assert_cmpuint(strlen(out), <=, LL_XFER_NAME_MAX);
	g_assert_true(g_str_has_suffix(out, ".gz"));
	g_assert_true(g_utf8_validate(out, -1, NULL));
	g_free(longname);
	longname = g_strconcat(a199, "\xc3\xa9x", NULL);
	ll_xfer_safe_name(longname, out, sizeof(out));
	g_assert_cmpuint(strlen(out), ==, 199);
	g_free(longname);
	/* a cut that makes a device name ("CONIN$ ….txt" cut to
	 * "CONIN$   .txt") is caught after the cut (found by fuzz_xfer) */
	longname = g_strconcat("CONIN$", sp250, "x.txt", NULL);
	ll_xfer_safe_name(longname, out, sizeof(out));
	g_assert_true(g_str_has_prefix(out, "_CONIN$"));
	g_assert_cmpuint(strlen(out), <=, LL_XFER_NAME_MAX);
	g_assert_false(ll_xfer_safe_name(out, again, sizeof(again)));
	g_free(longname);
}

/*
 * The shared hostile names (tests/common/lt_names.c): each passes the
 * control schema in a file_offer, so a peer can send it; each is saved
 * under its saved name, stable under the rule; no two saved names are
 * alike.
 */
static void test_hostile_names(void)
{
	char out[LL_XFER_NAME_MAX + 1], again[LL_XFER_NAME_MAX + 1];
	size_t i, k;

	g_assert_cmpuint(lt_n_hostile_names, >, 0);
	for (i = 0; i < lt_n_hostile_names; i++) {
		const struct lt_hostile_name *h = &lt_hostile_names[i];
		struct ll_control_msg offer = { .type = LL_CONTROL_FILE_OFFER };
		struct ll_control_msg *m = NULL;
		struct ll_buf *b = ll_buf_new(4096);

		offer.u.file_offer.channel = 3;
		offer.u.file_offer.name = (char *)h->name;
		offer.u.file_offer.size = 4;
		memset(offer.u.file_offer.sha256, 'a', 64);
		g_assert_cmpint(ll_control_serialize(&offer, b), ==, 0);
		g_assert_cmpint(ll_control_parse(ll_buf_data(b), ll_buf_len(b),
						 &m, NULL, 0),
				==, 0);
		g_assert_cmpstr(m->u.file_offer.name, ==, h->name);
		ll_control_msg_free(m);
		ll_buf_free(b);

		g_assert_true(ll_xfer_safe_name(h->name, out, sizeof(out)));
		g_assert_cmpstr(out, ==, h->saved);
		g_assert_false(ll_xfer_safe_name(out, again, sizeof(again)));
		for (k = 0; k < i; k++)
			g_assert_cmpstr(lt_hostile_names[k].saved, !=,
					h->saved);
	}
}

static void test_messages(void)
{
	static const char *const good[] = {
		"{\"type\":\"file_request\",\"id\":1,\"name\":\"log.txt\"}",
		"{\"type\":\"file_cancel\",\"channel\":3,\"reason\":"
		"\"cancelled\"}",
		"{\"type\":\"file_cancel\",\"request\":9,\"reason\":"
		"\"refused\"}",
		"{\"type\":\"file_done\",\"channel\":4}",
		"{\"type\":\"file_offer\",\"channel\":3,\"name\":\"a\","
		"\"size\":1,\"sha256\":\"0000000000000000000000000000000000"
		"000000000000000000000000000000\",\"request\":2}",
	};
	static const char *const bad[] = {
		"{\"type\":\"file_request\",\"id\":0,\"name\":\"a\"}",
		"{\"type\":\"file_request\",\"id\":1,\"name\":\"../a\"}",
		"{\"type\":\"file_request\",\"id\":1,\"name\":\"..\"}",
		"{\"type\":\"file_cancel\",\"reason\":\"refused\"}",
		"{\"type\":\"file_cancel\",\"channel\":3,\"request\":1,"
		"\"reason\":\"refused\"}",
		"{\"type\":\"file_cancel\",\"channel\":3,\"reason\":\"nope\"}",
		"{\"type\":\"file_cancel\",\"channel\":1,\"reason\":\"failed\"}",
		"{\"type\":\"file_done\",\"channel\":0}",
		"{\"type\":\"file_done\",\"channel\":5,\"x\":1}",
	};
	struct ll_control_msg *m;
	struct ll_buf *b;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(good); i++) {
		m = NULL;
		g_assert_cmpint(ll_control_parse(good[i], strlen(good[i]), &m,
						 NULL, 0),
				==, 0);
		b = ll_buf_new(4096);
		g_assert_cmpint(ll_control_serialize(m, b), ==, 0);
		g_assert_cmpmem(ll_buf_data(b), ll_buf_len(b), good[i],
				strlen(good[i]));
		ll_buf_free(b);
		ll_control_msg_free(m);
	}
	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		m = NULL;
		g_assert_cmpint(ll_control_parse(bad[i], strlen(bad[i]), &m,
						 NULL, 0),
				==, LL_ERR_SCHEMA);
		g_assert_null(m);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/xfer/roundtrip", test_roundtrip);
	g_test_add_func("/xfer/hostile_chunks", test_hostile_chunks);
	g_test_add_func("/xfer/hostile_names", test_hostile_names);
	g_test_add_func("/xfer/names", test_names);
	g_test_add_func("/xfer/messages", test_messages);
	return g_test_run();
}
