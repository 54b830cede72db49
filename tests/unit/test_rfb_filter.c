/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/proto/rfb_filter.c, the validator on the RFB channel: a valid stream
 * with every allowed message passes unchanged whole, byte by byte and in
 * random splits (fed as the session's bridge feeds it: what is held back
 * comes again in front of the next bytes); the client's SetEncodings is
 * restricted in place; every way out of the allowed set gets its own
 * error code and sentence.
 */
#include <string.h>

#include <glib.h>
#include <zlib.h>

#include "ll_err.h"
#include "ll_rfb_filter.h"

/* ---- building streams ---- */

static void p8(GByteArray *a, unsigned v)
{
	uint8_t b = (uint8_t)v;

	g_byte_array_append(a, &b, 1);
}

static void p16(GByteArray *a, unsigned v)
{
	p8(a, v >> 8);
	p8(a, v);
}

static void p32(GByteArray *a, uint32_t v)
{
	p16(a, v >> 16);
	p16(a, v & 0xffff);
}

static void pfill(GByteArray *a, size_t n, unsigned v)
{
	while (n-- > 0)
		p8(a, v);
}

static void put_pf(GByteArray *a, unsigned bpp, bool tc)
{
	p8(a, bpp);
	p8(a, bpp == 32 ? 24 : bpp);
	p8(a, 0); /* little endian */
	p8(a, tc);
	if (!tc) {
		pfill(a, 9, 0);
	} else if (bpp == 32) {
		p16(a, 255), p16(a, 255), p16(a, 255);
		p8(a, 16), p8(a, 8), p8(a, 0);
	} else if (bpp == 16) {
		p16(a, 31), p16(a, 63), p16(a, 31);
		p8(a, 11), p8(a, 5), p8(a, 0);
	} else {
		p16(a, 7), p16(a, 7), p16(a, 3);
		p8(a, 0), p8(a, 3), p8(a, 6);
	}
	pfill(a, 3, 0);
}

/* ProtocolVersion, security None, SecurityResult OK, ServerInit. */
static GByteArray *server_hello(unsigned w, unsigned h, unsigned bpp, bool tc)
{
	GByteArray *a = g_byte_array_new();

	g_byte_array_append(a, (const uint8_t *)"RFB 003.008\n", 12);
	p8(a, 1);
	p8(a, 1);
	p32(a, 0);
	p16(a, w);
	p16(a, h);
	put_pf(a, bpp, tc);
	p32(a, 4);
	g_byte_array_append(a, (const uint8_t *)"desk", 4);
	return a;
}

static const int32_t all_encs[] = {
	LL_RFB_ENC_ZRLE,
	7 /* Tight */,
	LL_RFB_ENC_COPYRECT,
	LL_RFB_ENC_RAW,
	LL_RFB_ENC_CURSOR,
	LL_RFB_ENC_XCURSOR,
	5 /* Hextile */,
	LL_RFB_ENC_DESKTOP_SIZE,
	LL_RFB_ENC_EXT_DESKTOP_SIZE,
	(int32_t)0x574D5669 /* WMVi */,
	LL_RFB_ENC_LAST_RECT,
	LL_RFB_ENC_POINTER_POS,
	LL_RFB_ENC_POINTER_CHANGE,
	(int32_t)0xFFFE0001u /* SupportedMessages */,
	-26 /* JPEG quality 6 */,
	-250 /* compression level 6 */,
	-437 /* fine quality 75 */,
	-765 /* subsampling 4X */,
};

/* Version, None, ClientInit, SetPixelFormat, SetEncodings, and an update
 * request when asked.  rewritten: the list as the filter passes it. */
static GByteArray *client_hello(unsigned bpp, bool tc, const int32_t *encs,
				size_t n, bool request, bool rewritten)
{
	GByteArray *a = g_byte_array_new();
	size_t i;

	g_byte_array_append(a, (const uint8_t *)"RFB 003.008\n", 12);
	p8(a, 1);
	p8(a, 1);
	pfill(a, 4, 0);
	put_pf(a, bpp, tc);
	p8(a, 2);
	p8(a, 0);
	p16(a, (unsigned)n);
	for (i = 0; i < n; i++)
		p32(a, rewritten && !ll_rfb_filter_encoding_allowed(encs[i])
			       ? LL_RFB_ENC_COPYRECT
			       : (uint32_t)encs[i]);
	if (request) {
		p8(a, 3);
		p8(a, 0);
		pfill(a, 4, 0);
		p16(a, 16);
		p16(a, 8);
	}
	return a;
}

static void rect(GByteArray *a, unsigned x, unsigned y, unsigned w, unsigned h,
		 int32_t enc)
{
	p16(a, x);
	p16(a, y);
	p16(a, w);
	p16(a, h);
	p32(a, (uint32_t)enc);
}

static void fbu(GByteArray *a, unsigned rects)
{
	p8(a, 0);
	p8(a, 0);
	p16(a, rects);
}

/* Every allowed server message, for a 16x8 start; ends at 32x12. */
static GByteArray *server_all(unsigned bpp, bool tc)
{
	GByteArray *a = g_byte_array_new();
	size_t bp = bpp / 8;

	fbu(a, 0xffff); /* ended by LastRect */
	rect(a, 1, 1, 2, 2, LL_RFB_ENC_RAW);
	pfill(a, 2 * 2 * bp, 0xab);
	rect(a, 0, 0, 4, 4, LL_RFB_ENC_COPYRECT);
	p16(a, 12);
	p16(a, 4);
	rect(a, 2, 2, 5, 3, LL_RFB_ENC_ZRLE);
	p32(a, 5);
	pfill(a, 5, 0x78);
	rect(a, 1, 1, 3, 2, LL_RFB_ENC_CURSOR);
	pfill(a, 3 * 2 * bp + 1 * 2, 0xff);
	rect(a, 0, 0, 0, 0, LL_RFB_ENC_CURSOR); /* no cursor */
	rect(a, 4, 1, 9, 2, LL_RFB_ENC_XCURSOR);
	pfill(a, 6 + 2 * 2 * 2, 0x11);
	rect(a, 10, 10, 0, 0, LL_RFB_ENC_POINTER_POS);
	rect(a, 1, 0, 0, 0, LL_RFB_ENC_POINTER_CHANGE);
	rect(a, 0, 0, 16, 8, LL_RFB_ENC_RAW); /* the whole screen */
	pfill(a, 16 * 8 * bp, 0x42);
	rect(a, 0, 0, 0, 0, LL_RFB_ENC_LAST_RECT);

	fbu(a, 0); /* an empty update */

	/* a bigger desktop; a rectangle that fits only the new size */
	fbu(a, 2);
	rect(a, 0, 0, 20, 10, LL_RFB_ENC_DESKTOP_SIZE);
	rect(a, 18, 9, 2, 1, LL_RFB_ENC_RAW);
	pfill(a, 2 * bp, 0x01);

	/* two monitors */
	fbu(a, 1);
	rect(a, 0, 0, 32, 12, LL_RFB_ENC_EXT_DESKTOP_SIZE);
	p8(a, 2);
	pfill(a, 3, 0);
	p32(a, 1), p16(a, 0), p16(a, 0), p16(a, 16), p16(a, 12), p32(a, 0);
	p32(a, 2), p16(a, 16), p16(a, 0), p16(a, 16), p16(a, 12), p32(a, 0);

	p8(a, 2); /* Bell */
	p8(a, 3); /* ServerCutText: never interpreted */
	pfill(a, 3, 0);
	p32(a, 6);
	g_byte_array_append(a, (const uint8_t *)"secret", 6);
	p8(a, 3);
	pfill(a, 3, 0);
	p32(a, 0);
	if (!tc) { /* SetColourMapEntries: 2 from 10 */
		p8(a, 1);
		p8(a, 0);
		p16(a, 10);
		p16(a, 2);
		pfill(a, 12, 0x80);
	}
	return a;
}

/* Every kind of Tight rectangle (below, with the Tight tests). */
static void server_tight(GByteArray *a, unsigned bpp, bool tc);

/* ---- feeding as the bridge does ---- */

enum split { WHOLE = 0, BYTES, RANDOM };

/*
 * Feeds in in pieces; what the filter passes goes to out (may be NULL),
 * what it holds back comes again with the next piece.  Returns the first
 * error or LL_OK; *held gets what is still held back at the end.
 */
static int feed(struct ll_rfb_filter *f, bool server, const GByteArray *in,
		enum split split, GRand *rnd, GByteArray *out, size_t *held)
{
	GByteArray *hold = g_byte_array_new();
	size_t off = 0, n, pass;
	int r = LL_OK;

	while (off < in->len) {
		if (split == WHOLE)
			n = in->len - off;
		else if (split == BYTES)
			n = 1;
		else
			n = (size_t)g_rand_int_range(
				rnd, 1, g_rand_boolean(rnd) ? 8 : 300);
		if (n > in->len - off)
			n = in->len - off;
		g_byte_array_append(hold, in->data + off, (guint)n);
		off += n;
		pass = (size_t)-1;
		r = server ? ll_rfb_filter_server_chunk(f, hold->data,
							hold->len, &pass)
			   : ll_rfb_filter_client_chunk(f, hold->data,
							hold->len, &pass);
		if (r != LL_OK) {
			g_assert_cmpuint(pass, ==, (size_t)-1); /* untouched */
			break;
		}
		g_assert_cmpuint(pass, <=, hold->len);
		g_assert_cmpuint(hold->len - pass, <, LL_RFB_FILTER_ITEM_MAX);
		if (out != NULL)
			g_byte_array_append(out, hold->data, (guint)pass);
		g_byte_array_remove_range(hold, 0, (guint)pass);
	}
	if (held != NULL)
		*held = hold->len;
	g_byte_array_unref(hold);
	return r;
}

static void assert_same(const GByteArray *a, const GByteArray *b)
{
	g_assert_cmpmem(a->data, a->len, b->data, b->len);
}

/* ---- the valid stream ---- */

static void valid_run(unsigned bpp, bool tc, enum split split, GRand *rnd)
{
	struct ll_rfb_filter *f = ll_rfb_filter_new();
	GByteArray *s1 = server_hello(16, 8, bpp, tc);
	GByteArray *c = client_hello(bpp, tc, all_encs, G_N_ELEMENTS(all_encs),
				     true, false);
	GByteArray *c_want = client_hello(bpp, tc, all_encs,
					  G_N_ELEMENTS(all_encs), true, true);
	GByteArray *s2 = server_all(bpp, tc);
	GByteArray *s_out = g_byte_array_new(), *c_out = g_byte_array_new();
	unsigned w, h, b;
	size_t held;

	server_tight(s2, bpp, tc);
	g_assert_nonnull(f);
	g_assert_cmpint(feed(f, true, s1, split, rnd, s_out, &held), ==, 0);
	g_assert_cmpuint(held, ==, 0);
	ll_rfb_filter_size(f, &w, &h, &b);
	g_assert_cmpuint(w, ==, 16);
	g_assert_cmpuint(h, ==, 8);
	g_assert_cmpint(feed(f, false, c, split, rnd, c_out, &held), ==, 0);
	g_assert_cmpuint(held, ==, 0);
	g_assert_cmpint(feed(f, true, s2, split, rnd, s_out, &held), ==, 0);
	g_assert_cmpuint(held, ==, 0);
	g_assert_cmpint(ll_rfb_filter_server_end(f, 0), ==, LL_OK);
	g_assert_cmpstr(ll_rfb_filter_error(f), ==, "");

	/* the server's bytes pass unchanged, the client's list restricted */
	g_byte_array_prepend(s2, s1->data, s1->len);
	assert_same(s_out, s2);
	assert_same(c_out, c_want);
	ll_rfb_filter_size(f, &w, &h, &b);
	g_assert_cmpuint(w, ==, 32);
	g_assert_cmpuint(h, ==, 12);
	g_assert_cmpuint(b, ==, bpp);

	ll_rfb_filter_free(f);
	g_byte_array_unref(s1);
	g_byte_array_unref(s2);
	g_byte_array_unref(c);
	g_byte_array_unref(c_want);
	g_byte_array_unref(s_out);
	g_byte_array_unref(c_out);
}

static void test_valid(void)
{
	static const struct {
		unsigned bpp;
		bool tc;
	} fmts[] = { { 32, true }, { 16, true }, { 8, true }, { 8, false } };
	GRand *rnd = g_rand_new_with_seed(20240501);
	size_t i;
	int k;

	for (i = 0; i < G_N_ELEMENTS(fmts); i++) {
		valid_run(fmts[i].bpp, fmts[i].tc, WHOLE, rnd);
		valid_run(fmts[i].bpp, fmts[i].tc, BYTES, rnd);
		for (k = 0; k < 20; k++)
			valid_run(fmts[i].bpp, fmts[i].tc, RANDOM, rnd);
	}
	g_rand_free(rnd);
}

/* A rewritten encoding never leaves in part: split inside the list, the
 * bytes that pass are always a prefix of the rewritten stream. */
static void test_rewrite_prefix(void)
{
	GByteArray *c = client_hello(32, true, all_encs,
				     G_N_ELEMENTS(all_encs), false, false);
	GByteArray *want = client_hello(32, true, all_encs,
					G_N_ELEMENTS(all_encs), false, true);
	size_t cut, pass;
	int r;

	for (cut = 1; cut <= c->len; cut++) {
		struct ll_rfb_filter *f = ll_rfb_filter_new();
		GByteArray *buf = g_byte_array_new();

		g_byte_array_append(buf, c->data, (guint)cut);
		r = ll_rfb_filter_client_chunk(f, buf->data, buf->len, &pass);
		g_assert_cmpint(r, ==, LL_OK);
		g_assert_cmpmem(buf->data, pass, want->data, pass);
		ll_rfb_filter_free(f);
		g_byte_array_unref(buf);
	}
	g_byte_array_unref(c);
	g_byte_array_unref(want);
}

/* ---- errors ---- */

/*
 * The standard hello (16x8, 32 bpp), the client with every allowed
 * encoding and a request, then s2: the error must be code, with needle
 * in its sentence, whole and byte by byte alike.
 */
static void expect_with(unsigned bpp, bool tc, const int32_t *encs,
			size_t n_encs, bool request, GByteArray *s2, int code,
			const char *needle)
{
	enum split modes[] = { WHOLE, BYTES };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(modes); i++) {
		struct ll_rfb_filter *f = ll_rfb_filter_new();
		GByteArray *s1 = server_hello(16, 8, bpp, tc);
		GByteArray *c = client_hello(bpp, tc, encs, n_encs, request,
					     false);
		int r;

		g_assert_cmpint(feed(f, true, s1, modes[i], NULL, NULL, NULL),
				==, 0);
		g_assert_cmpint(feed(f, false, c, modes[i], NULL, NULL, NULL),
				==, 0);
		r = feed(f, true, s2, modes[i], NULL, NULL, NULL);
		if (r != code)
			g_test_message("got %d (%s)", r,
				       ll_rfb_filter_error(f));
		g_assert_cmpint(r, ==, code);
		if (strstr(ll_rfb_filter_error(f), needle) == NULL)
			g_error("\"%s\" does not say \"%s\"",
				ll_rfb_filter_error(f), needle);
		/* sticky */
		g_assert_cmpint(ll_rfb_filter_server(f, (const uint8_t *)"\2",
						     1),
				==, code);
		g_assert_cmpint(ll_rfb_filter_server_end(f, 0), ==, code);
		ll_rfb_filter_free(f);
		g_byte_array_unref(s1);
		g_byte_array_unref(c);
	}
	g_byte_array_unref(s2);
}

static void expect(GByteArray *s2, int code, const char *needle)
{
	expect_with(32, true, all_encs, G_N_ELEMENTS(all_encs), true, s2, code,
		    needle);
}

static GByteArray *one_rect(unsigned x, unsigned y, unsigned w, unsigned h,
			    int32_t enc)
{
	GByteArray *a = g_byte_array_new();

	fbu(a, 1);
	rect(a, x, y, w, h, enc);
	return a;
}

/*
 * An update of one ExtendedDesktopSize rectangle (x: the reason, y: the
 * status) of w x h with one screen: id, at sx,sy, sw x sh.
 */
static GByteArray *ext_size(unsigned x, unsigned y, unsigned w, unsigned h,
			    uint32_t id, uint16_t sx, uint16_t sy, uint16_t sw,
			    uint16_t sh)
{
	GByteArray *a = one_rect(x, y, w, h, LL_RFB_ENC_EXT_DESKTOP_SIZE);

	p8(a, 1); /* screens */
	pfill(a, 3, 0);
	p32(a, id), p16(a, sx), p16(a, sy), p16(a, sw), p16(a, sh), p32(a, 0);
	return a;
}

static void test_forbidden_encodings(void)
{
	static const struct {
		uint32_t enc;
		const char *name;
	} bad[] = {
		{ 2, "RRE" },
		{ 4, "CoRRE" },
		{ 5, "Hextile" },
		{ 6, "Zlib" },
		{ 8, "ZlibHex" },
		{ 9, "Ultra" },
		{ 15, "TRLE" },
		{ 17, "ZYWRLE" },
		{ 21, "JPEG" },
		{ 50, "Open H.264" },
		{ 0x48323634u, "H.264" },
		{ 0xFFFF0009u, "UltraZip" },
		{ (uint32_t)-258, "QEMU Extended Key" },
		{ (uint32_t)-260, "TightPNG" },
		{ (uint32_t)-261, "QEMU LED" },
		{ (uint32_t)-307, "DesktopName" },
		{ (uint32_t)-312, "Fence" },
		{ (uint32_t)-314, "Cursor With Alpha" },
		{ 0x574D5669u, "WMVi" },
		{ 0xFFFE0000u, "KeyboardLedState" },
		{ 0xFFFE0001u, "SupportedMessages" },
		{ 0xFFFE0003u, "ServerIdentity" },
		{ 0xC0A1E5CEu, "ExtendedClipboard" },
		{ 3, "unknown" },
		{ 1000, "unknown" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *needle = g_strdup_printf("encoding %d (%s",
					       (int)bad[i].enc, bad[i].name);

		g_assert_false(
			ll_rfb_filter_encoding_allowed((int32_t)bad[i].enc));
		expect(one_rect(0, 0, 1, 1, (int32_t)bad[i].enc),
		       LL_ERR_UNKNOWN_TYPE, needle);
		g_free(needle);
	}
	/* Tight tuning levels: asked for, never a rectangle; their
	 * neighbours are not tuning levels */
	{
		static const int32_t tune[] = { -32,  -23,  -256, -247,
						-512, -412, -768, -763 };
		static const int32_t outside[] = { -33,  -22,  -246, -513,
						   -411, -769, -762 };

		for (i = 0; i < G_N_ELEMENTS(tune); i++) {
			g_assert_true(ll_rfb_filter_encoding_allowed(tune[i]));
			expect(one_rect(0, 0, 1, 1, tune[i]),
			       LL_ERR_UNKNOWN_TYPE, "never comes as a rect");
		}
		for (i = 0; i < G_N_ELEMENTS(outside); i++)
			g_assert_false(
				ll_rfb_filter_encoding_allowed(outside[i]));
	}
	/* allowed, but this client did not ask for it */
	{
		static const int32_t raw_only[] = { LL_RFB_ENC_RAW };

		expect_with(32, true, raw_only, 1, true,
			    one_rect(0, 0, 1, 1, LL_RFB_ENC_ZRLE),
			    LL_ERR_UNKNOWN_TYPE, "not asked for");
		expect_with(32, true, raw_only, 1, true,
			    one_rect(0, 0, 0, 0, LL_RFB_ENC_LAST_RECT),
			    LL_ERR_UNKNOWN_TYPE, "LastRect");
	}
}

static void test_rectangles(void)
{
	GByteArray *a;

	/* larger than the cap, outside the framebuffer */
	expect(one_rect(0, 0, 8193, 1, LL_RFB_ENC_RAW), LL_ERR_TOO_LARGE,
	       "larger than 8192");
	expect(one_rect(0, 0, 65535, 65535, LL_RFB_ENC_ZRLE), LL_ERR_TOO_LARGE,
	       "larger than 8192");
	expect(one_rect(15, 0, 2, 1, LL_RFB_ENC_RAW), LL_ERR_PROTOCOL,
	       "outside the 16x8 framebuffer");
	expect(one_rect(0, 8, 1, 1, LL_RFB_ENC_ZRLE), LL_ERR_PROTOCOL,
	       "outside");
	expect(one_rect(65535, 65535, 2, 2, LL_RFB_ENC_RAW), LL_ERR_PROTOCOL,
	       "outside");
	a = one_rect(0, 0, 4, 4, LL_RFB_ENC_COPYRECT);
	p16(a, 13);
	p16(a, 0);
	expect(a, LL_ERR_PROTOCOL, "CopyRect source");

	/* ZRLE data over the cap */
	a = one_rect(0, 0, 1, 1, LL_RFB_ENC_ZRLE);
	p32(a, LL_RFB_FILTER_MAX_ZRLE + 1);
	expect(a, LL_ERR_TOO_LARGE, "ZRLE data");
	a = one_rect(0, 0, 1, 1, LL_RFB_ENC_ZRLE);
	p32(a, 0xffffffffu);
	expect(a, LL_ERR_TOO_LARGE, "ZRLE data");

	/* cursors */
	expect(one_rect(0, 0, 1025, 1, LL_RFB_ENC_CURSOR), LL_ERR_TOO_LARGE,
	       "cursor");
	expect(one_rect(0, 0, 1, 4000, LL_RFB_ENC_XCURSOR), LL_ERR_TOO_LARGE,
	       "cursor");
	expect(one_rect(4, 0, 4, 4, LL_RFB_ENC_CURSOR), LL_ERR_PROTOCOL,
	       "hot spot");

	/* sizes */
	expect(one_rect(0, 0, 0, 10, LL_RFB_ENC_DESKTOP_SIZE), LL_ERR_PROTOCOL,
	       "empty");
	expect(one_rect(0, 0, 8193, 10, LL_RFB_ENC_DESKTOP_SIZE),
	       LL_ERR_TOO_LARGE, "over the");
	a = ext_size(0, 0, 20, 10, 1, 10, 0, 11, 10);
	expect(a, LL_ERR_PROTOCOL, "screen at 10,0 lies outside the 20x10");
	/* a size change only with success and valid screens (what
	 * libvncclient applies); an error status keeping the size passes */
	a = ext_size(0, 0, 20, 10, 0, 0, 0, 20, 10);
	expect(a, LL_ERR_PROTOCOL, "invalid screen");
	a = ext_size(1, 3, 20, 10, 1, 0, 0, 20, 10);
	expect(a, LL_ERR_PROTOCOL, "error status");
	a = ext_size(1, 3, 16, 8, 1, 0, 0, 16, 8);
	p8(a, 0);
	p8(a, 0);
	p16(a, 1);
	rect(a, 0, 0, 16, 8, 5); /* proof that the refused resize passed */
	expect(a, LL_ERR_UNKNOWN_TYPE, "Hextile");
	/* after a resize to a smaller desktop, the old size no longer
	 * counts */
	a = g_byte_array_new();
	fbu(a, 2);
	rect(a, 0, 0, 8, 4, LL_RFB_ENC_DESKTOP_SIZE);
	rect(a, 8, 0, 1, 1, LL_RFB_ENC_RAW);
	expect(a, LL_ERR_PROTOCOL, "outside the 8x4");

	/* an update nobody asked for */
	expect_with(32, true, all_encs, G_N_ELEMENTS(all_encs), false,
		    one_rect(0, 0, 1, 1, LL_RFB_ENC_RAW), LL_ERR_PROTOCOL,
		    "before the client asked");
}

/* ---- Tight ---- */

/* The server's four deflate streams, as a Tight encoder keeps them. */
struct tz {
	z_stream z[4];
	bool on[4];
};

static void tz_end(struct tz *t)
{
	int i;

	for (i = 0; i < 4; i++)
		if (t->on[i])
			deflateEnd(&t->z[i]);
	memset(t, 0, sizeof(*t));
}

/* Compact length (1-3 bytes). */
static void pcompact(GByteArray *a, size_t len)
{
	p8(a, (len & 0x7f) | (len > 0x7f ? 0x80 : 0));
	if (len > 0x7f) {
		p8(a, ((len >> 7) & 0x7f) | (len > 0x3fff ? 0x80 : 0));
		if (len > 0x3fff)
			p8(a, len >> 14);
	}
}

/* Deflates n bytes on stream id (a sync flush ends it, as libvncserver
 * does; finish ends the zlib stream) and appends length and data. */
static void pzlib(GByteArray *a, struct tz *t, int id, const uint8_t *data,
		  size_t n, bool finish)
{
	uint8_t out[70000];
	z_stream *z = &t->z[id];

	if (!t->on[id]) {
		g_assert_cmpint(deflateInit(z, 6), ==, Z_OK);
		t->on[id] = true;
	}
	z->next_in = (Bytef *)data;
	z->avail_in = (uInt)n;
	z->next_out = out;
	z->avail_out = sizeof(out);
	g_assert_cmpint(deflate(z, finish ? Z_FINISH : Z_SYNC_FLUSH), !=,
			Z_STREAM_ERROR);
	g_assert_cmpuint(z->avail_in, ==, 0);
	pcompact(a, sizeof(out) - z->avail_out);
	g_byte_array_append(a, out, (guint)(sizeof(out) - z->avail_out));
}

/* n bytes of pattern v (0: a varied one that deflates badly). */
static uint8_t *pattern(size_t n, unsigned v)
{
	uint8_t *p = g_malloc(n);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = v != 0 ? (uint8_t)v : (uint8_t)(i * 2654435761u >> 13);
	return p;
}

static void pzpat(GByteArray *a, struct tz *t, int id, size_t n, unsigned v)
{
	uint8_t *p = pattern(n, v);

	pzlib(a, t, id, p, n, false);
	g_free(p);
}

/* A JPEG's markers as turbojpeg writes them, up to its scan (the
 * filter looks no further): SOI, APP0, SOF0 of w x h, then body bytes
 * of the scan. */
static void pjpeg(GByteArray *a, unsigned w, unsigned h, size_t body)
{
	GByteArray *j = g_byte_array_new();

	p16(j, 0xffd8);
	p16(j, 0xffe0), p16(j, 16);
	g_byte_array_append(j, (const uint8_t *)"JFIF\0\1\1\0\0\1\0\1\0\0",
			    14);
	p16(j, 0xffc0), p16(j, 17), p8(j, 8), p16(j, h), p16(j, w);
	p8(j, 3), p8(j, 1), p16(j, 0x2200), p8(j, 2), p16(j, 0x1101);
	p8(j, 3), p16(j, 0x1101);
	p16(j, 0xffda), p16(j, 12);
	pfill(j, 10, 0);
	pfill(j, body, 0x5a);
	p16(j, 0xffd9);
	pcompact(a, j->len);
	g_byte_array_append(a, j->data, j->len);
	g_byte_array_unref(j);
}

static unsigned tp_of(unsigned bpp, bool tc)
{
	return bpp == 32 && tc ? 3 : bpp / 8;
}

/* One update of every kind of Tight rectangle the format allows, inside
 * 32x12 (the end size of server_all). */
static void server_tight(GByteArray *a, unsigned bpp, bool tc)
{
	unsigned tp = tp_of(bpp, tc);
	bool rich = tc && bpp != 8; /* Gradient and JPEG */
	struct tz t = { 0 };
	uint8_t idx[32];
	size_t i;

	fbu(a, rich ? 8 : 6);
	rect(a, 0, 0, 32, 12, LL_RFB_ENC_TIGHT); /* Fill, all reset */
	p8(a, 0x8f);
	pfill(a, tp, 0x33);
	rect(a, 1, 1, 1, 1, LL_RFB_ENC_TIGHT); /* under 12 bytes: raw */
	p8(a, 0x00);
	pfill(a, tp, 0x44);
	rect(a, 0, 0, 8, 4, LL_RFB_ENC_TIGHT); /* zlib on stream 0 */
	p8(a, 0x01);
	pzpat(a, &t, 0, 8 * 4 * tp, 0);
	rect(a, 8, 0, 4, 4, LL_RFB_ENC_TIGHT); /* stream 0 goes on */
	p8(a, 0x00);
	pzpat(a, &t, 0, 4 * 4 * tp, 0x55);
	rect(a, 16, 4, 16, 4, LL_RFB_ENC_TIGHT); /* 2 colours, 1 bit */
	p8(a, 0x52);
	p8(a, 1);
	p8(a, 1);
	pfill(a, 2 * tp, 0x10);
	pfill(a, 2 * 4, 0xa5);                 /* 8 bytes: raw */
	rect(a, 0, 4, 8, 4, LL_RFB_ENC_TIGHT); /* 5 colours, stream 2 */
	p8(a, 0x64);
	p8(a, 1);
	p8(a, 4);
	pfill(a, 5 * tp, 0x20);
	for (i = 0; i < sizeof(idx); i++)
		idx[i] = (uint8_t)(i % 5);
	pzlib(a, &t, 2, idx, sizeof(idx), false);
	if (rich) {
		rect(a, 0, 8, 4, 4, LL_RFB_ENC_TIGHT); /* Gradient, 3 */
		p8(a, 0x78);
		p8(a, 2);
		pzpat(a, &t, 3, 4 * 4 * tp, 0);
		rect(a, 4, 8, 28, 4, LL_RFB_ENC_TIGHT); /* JPEG */
		p8(a, 0x90);
		pjpeg(a, 28, 4, 300);
	}
	tz_end(&t);
}

/* The standard hello, client c, then s2: all passes, whole, byte by
 * byte and in random pieces, and the stream ends cleanly. */
static void accept_client(unsigned bpp, bool tc, const GByteArray *c,
			  GByteArray *s2)
{
	enum split modes[] = { WHOLE, BYTES, RANDOM };
	GRand *rnd = g_rand_new_with_seed(7);
	size_t i, held;

	for (i = 0; i < G_N_ELEMENTS(modes); i++) {
		struct ll_rfb_filter *f = ll_rfb_filter_new();
		GByteArray *s1 = server_hello(16, 8, bpp, tc);
		GByteArray *out = g_byte_array_new();
		int r;

		g_assert_cmpint(feed(f, true, s1, WHOLE, NULL, NULL, NULL), ==,
				0);
		g_assert_cmpint(feed(f, false, c, WHOLE, NULL, NULL, NULL), ==,
				0);
		r = feed(f, true, s2, modes[i], rnd, out, &held);
		if (r != 0)
			g_error("refused: %s", ll_rfb_filter_error(f));
		g_assert_cmpuint(held, ==, 0);
		g_assert_cmpint(ll_rfb_filter_server_end(f, 0), ==, LL_OK);
		assert_same(out, s2);
		ll_rfb_filter_free(f);
		g_byte_array_unref(s1);
		g_byte_array_unref(out);
	}
	g_rand_free(rnd);
	g_byte_array_unref(s2);
}

static void accept_tight(GByteArray *s2)
{
	GByteArray *c = client_hello(32, true, all_encs,
				     G_N_ELEMENTS(all_encs), true, false);

	accept_client(32, true, c, s2);
	g_byte_array_unref(c);
}

/* A Tight rectangle header with its control byte. */
static GByteArray *tight_rect(unsigned x, unsigned y, unsigned w, unsigned h,
			      unsigned ctl)
{
	GByteArray *a = one_rect(x, y, w, h, LL_RFB_ENC_TIGHT);

	p8(a, ctl);
	return a;
}

static void test_tight_accepted(void)
{
	GByteArray *a, *c;
	struct tz t = { 0 };

	/* a 3-byte compact length: 24 KiB that deflate badly, in a 2048
	 * wide rectangle (the widest), after a Fill wider than that */
	a = g_byte_array_new();
	fbu(a, 3);
	rect(a, 0, 0, 4096, 8, LL_RFB_ENC_DESKTOP_SIZE);
	rect(a, 0, 0, 4096, 8, LL_RFB_ENC_TIGHT);
	p8(a, 0x80);
	pfill(a, 3, 0);
	rect(a, 2048, 4, 2048, 4, LL_RFB_ENC_TIGHT);
	p8(a, 0x01);
	pzpat(a, &t, 0, 2048 * 4 * 3, 0);
	g_assert_cmphex(a->data[4 + 12 * 2 + 4 + 12 + 1] & 0x80, ==, 0x80);
	tz_end(&t);
	accept_tight(a);

	/* TPIXEL: 4 bytes at depth 32 */
	c = client_hello(32, true, all_encs, G_N_ELEMENTS(all_encs), true,
			 false);
	c->data[12 + 1 + 1 + 4 + 1] = 32; /* depth */
	a = g_byte_array_new();
	fbu(a, 1);
	rect(a, 0, 0, 16, 8, LL_RFB_ENC_TIGHT);
	p8(a, 0x80);
	pfill(a, 4, 0x12);
	p8(a, 2); /* Bell: read where a 3-byte pixel would misplace it */
	accept_client(32, true, c, a);
	g_byte_array_unref(c);

	/* a zlib stream that ended may be reset and used again */
	a = g_byte_array_new();
	fbu(a, 2);
	rect(a, 0, 0, 8, 4, LL_RFB_ENC_TIGHT);
	p8(a, 0x10);
	{
		uint8_t *p = pattern(8 * 4 * 3, 0);

		pzlib(a, &t, 1, p, 8 * 4 * 3, true);
		tz_end(&t);
		rect(a, 0, 0, 8, 4, LL_RFB_ENC_TIGHT);
		p8(a, 0x12);
		pzlib(a, &t, 1, p, 8 * 4 * 3, false);
		g_free(p);
	}
	tz_end(&t);
	accept_tight(a);
}

static void test_tight_refused(void)
{
	static const int32_t raw_only[] = { LL_RFB_ENC_RAW };
	struct tz t = { 0 };
	GByteArray *a;
	uint8_t idx[32];
	unsigned ctl;

	/* the control byte */
	for (ctl = 0xa0; ctl <= 0xf0; ctl += 0x10)
		expect(tight_rect(0, 0, 8, 4, ctl), LL_ERR_UNKNOWN_TYPE,
		       "not Fill, JPEG or Basic");
	a = tight_rect(0, 0, 8, 4, 0x40);
	p8(a, 3);
	expect(a, LL_ERR_UNKNOWN_TYPE, "Tight filter 3");

	/* sizes: empty, outside, wider than the decoders' rows */
	expect(tight_rect(0, 0, 0, 4, 0x80), LL_ERR_PROTOCOL, "empty");
	expect(tight_rect(9, 0, 8, 4, 0x80), LL_ERR_PROTOCOL, "outside");
	a = g_byte_array_new();
	fbu(a, 2);
	rect(a, 0, 0, 4096, 8, LL_RFB_ENC_DESKTOP_SIZE);
	rect(a, 0, 0, 2049, 1, LL_RFB_ENC_TIGHT);
	p8(a, 0x00);
	expect(a, LL_ERR_TOO_LARGE, "wider than 2048");
	expect_with(32, true, raw_only, 1, true, tight_rect(0, 0, 1, 1, 0x80),
		    LL_ERR_UNKNOWN_TYPE, "not asked for");

	/* palettes: 2 to 256 colours, indices inside */
	a = tight_rect(0, 0, 8, 4, 0x40);
	p8(a, 1);
	p8(a, 0);
	expect(a, LL_ERR_PROTOCOL, "single colour");
	a = tight_rect(0, 0, 2, 2, 0x40); /* raw indices */
	p8(a, 1);
	p8(a, 4);
	pfill(a, 5 * 3, 0);
	p8(a, 0), p8(a, 4), p8(a, 5), p8(a, 1);
	expect(a, LL_ERR_PROTOCOL, "palette index 5 is past its 5");
	a = tight_rect(0, 0, 8, 4, 0x40); /* inflated indices */
	p8(a, 1);
	p8(a, 2);
	pfill(a, 3 * 3, 0);
	memset(idx, 1, sizeof(idx));
	idx[31] = 200;
	pzlib(a, &t, 0, idx, sizeof(idx), false);
	tz_end(&t);
	expect(a, LL_ERR_PROTOCOL, "palette index 200 is past its 3");

	/* zlib data: a length, data that inflates, to the exact size */
	a = tight_rect(0, 0, 8, 4, 0x00);
	pcompact(a, 0);
	expect(a, LL_ERR_PROTOCOL, "data length of 0");
	a = tight_rect(0, 0, 8, 4, 0x00);
	pzpat(a, &t, 0, 8 * 4 * 3 + 1, 0);
	tz_end(&t);
	expect(a, LL_ERR_TOO_LARGE, "inflates to more");
	a = tight_rect(0, 0, 8, 4, 0x00);
	pzpat(a, &t, 0, 8 * 4 * 3 - 5, 0);
	tz_end(&t);
	expect(a, LL_ERR_PROTOCOL, "5 bytes less than its 8x4");
	a = tight_rect(0, 0, 8, 4, 0x00);
	pcompact(a, 20);
	pfill(a, 20, 0xff);
	expect(a, LL_ERR_MALFORMED, "does not inflate");
	a = tight_rect(0, 0, 8, 4, 0x00);
	{
		uint8_t *p = pattern(8 * 4 * 3, 0);
		guint at;

		pzlib(a, &t, 0, p, 8 * 4 * 3, true);
		g_free(p);
		/* one byte more inside the stated length */
		at = a->len;
		p8(a, 0);
		a->data[4 + 12 + 1] += 1; /* 1-byte length: deflate ~96 */
		g_assert_cmpuint(at, <, 4 + 12 + 1 + 128);
	}
	tz_end(&t);
	expect(a, LL_ERR_PROTOCOL, "goes on after");
}

static void test_tight_jpeg(void)
{
	static const int32_t lossless[] = { LL_RFB_ENC_TIGHT };
	GByteArray *a;

	/* Gradient and JPEG: true colour over 8 bits only; JPEG only when
	 * a quality was asked for, beginning as a JPEG does */
	a = tight_rect(0, 0, 8, 4, 0x40);
	p8(a, 2);
	expect_with(8, true, all_encs, G_N_ELEMENTS(all_encs), true, a,
		    LL_ERR_PROTOCOL, "Gradient came for a 8-bit");
	expect_with(8, true, all_encs, G_N_ELEMENTS(all_encs), true,
		    tight_rect(0, 0, 8, 4, 0x90), LL_ERR_PROTOCOL,
		    "JPEG rectangle came for a 8-bit true-colour");
	expect_with(32, true, lossless, 1, true, tight_rect(0, 0, 8, 4, 0x90),
		    LL_ERR_PROTOCOL, "no JPEG quality");
	a = tight_rect(0, 0, 8, 4, 0x90);
	pcompact(a, 100);
	p8(a, 0xff);
	p8(a, 0xd9);
	expect(a, LL_ERR_MALFORMED, "start of image");
	/* its frame header: the rectangle's size, before any scan */
	a = tight_rect(0, 0, 8, 4, 0x90);
	pjpeg(a, 5, 4, 10);
	expect(a, LL_ERR_PROTOCOL, "JPEG of 5x4 came for a 8x4");
	a = tight_rect(0, 0, 8, 4, 0x90);
	pjpeg(a, 8, 400, 10);
	expect(a, LL_ERR_PROTOCOL, "JPEG of 8x400");
	a = tight_rect(0, 0, 8, 4, 0x90);
	pcompact(a, 8);
	p16(a, 0xffd8), p16(a, 0xffda), p16(a, 2), p16(a, 0);
	expect(a, LL_ERR_MALFORMED, "marker 0xda before its frame header");
	a = tight_rect(0, 0, 8, 4, 0x90);
	pcompact(a, 6);
	p16(a, 0xffd8), p16(a, 0xffe0), p16(a, 0x0010);
	expect(a, LL_ERR_MALFORMED, "ends before its frame header");
	a = tight_rect(0, 0, 8, 4, 0x90);
	pcompact(a, 6);
	p16(a, 0xffd8), p16(a, 0x1234), p16(a, 0);
	expect(a, LL_ERR_MALFORMED, "no marker where");
	a = tight_rect(0, 0, 8, 4, 0x90);
	pcompact(a, 8);
	p16(a, 0xffd8), p16(a, 0xffc0), p16(a, 6), p16(a, 0);
	expect(a, LL_ERR_MALFORMED, "segment too short");

	/* depth 24 without 8-bit maxima: libvncclient reads 4-byte pixels,
	 * gtk-vnc 3-byte ones */
	{
		GByteArray *c = client_hello(32, true, lossless, 1, true,
					     false);
		struct ll_rfb_filter *f = ll_rfb_filter_new();
		GByteArray *s1 = server_hello(16, 8, 32, true);

		c->data[12 + 1 + 1 + 4 + 4] = 0x03; /* red max 1023 */
		a = tight_rect(0, 0, 8, 4, 0x80);
		g_assert_cmpint(feed(f, true, s1, WHOLE, NULL, NULL, NULL), ==,
				0);
		g_assert_cmpint(feed(f, false, c, WHOLE, NULL, NULL, NULL), ==,
				0);
		g_assert_cmpint(feed(f, true, a, WHOLE, NULL, NULL, NULL), ==,
				LL_ERR_PROTOCOL);
		g_assert_nonnull(strstr(ll_rfb_filter_error(f), "disagree"));
		ll_rfb_filter_free(f);
		g_byte_array_unref(s1);
		g_byte_array_unref(c);
		g_byte_array_unref(a);
	}
	a = tight_rect(0, 0, 8, 4, 0x90);
	pcompact(a, 1);
	p8(a, 0xff);
	expect(a, LL_ERR_MALFORMED, "too short");
	a = tight_rect(0, 0, 8, 4, 0x90);
	pcompact(a, 2);
	p16(a, 0xffd8);
	expect(a, LL_ERR_MALFORMED, "ends before its frame header");
}

static void test_messages(void)
{
	GByteArray *a;
	unsigned types[] = { 4, 150, 248, 250, 252, 255 };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(types); i++) {
		char *needle = g_strdup_printf("message type %u", types[i]);

		a = g_byte_array_new();
		p8(a, 2); /* a fine Bell first */
		p8(a, types[i]);
		pfill(a, 20, 0);
		expect(a, LL_ERR_UNKNOWN_TYPE, needle);
		g_free(needle);
	}

	/* clipboard over the cap, or an extended-clipboard length */
	a = g_byte_array_new();
	p8(a, 3);
	pfill(a, 3, 0);
	p32(a, LL_RFB_FILTER_MAX_CUT_TEXT + 1);
	expect(a, LL_ERR_TOO_LARGE, "clipboard text");
	a = g_byte_array_new();
	p8(a, 3);
	pfill(a, 3, 0);
	p32(a, (uint32_t)-8);
	expect(a, LL_ERR_TOO_LARGE, "clipboard text");

	/* colour maps: not for true colour, not past 256 entries */
	a = g_byte_array_new();
	p8(a, 1);
	p8(a, 0);
	p16(a, 0);
	p16(a, 1);
	expect(a, LL_ERR_PROTOCOL, "true-colour");
	a = g_byte_array_new();
	p8(a, 1);
	p8(a, 0);
	p16(a, 250);
	p16(a, 7);
	expect_with(8, false, all_encs, G_N_ELEMENTS(all_encs), true, a,
		    LL_ERR_TOO_LARGE, "250 to 256");
}

/* Server-only streams (handshake errors). */
static void expect_server(GByteArray *s, int code, const char *needle)
{
	enum split modes[] = { WHOLE, BYTES };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(modes); i++) {
		struct ll_rfb_filter *f = ll_rfb_filter_new();

		g_assert_cmpint(feed(f, true, s, modes[i], NULL, NULL, NULL),
				==, code);
		g_assert_nonnull(strstr(ll_rfb_filter_error(f), needle));
		ll_rfb_filter_free(f);
	}
	g_byte_array_unref(s);
}

static GByteArray *hello_prefix(void)
{
	GByteArray *a = g_byte_array_new();

	g_byte_array_append(a, (const uint8_t *)"RFB 003.008\n", 12);
	return a;
}

static void test_handshake(void)
{
	GByteArray *a;

	a = g_byte_array_new();
	g_byte_array_append(a, (const uint8_t *)"RFB 003.003\n", 12);
	expect_server(a, LL_ERR_BAD_VERSION, "3.8");
	a = g_byte_array_new();
	g_byte_array_append(a, (const uint8_t *)"HTTP/1.1 200", 12);
	expect_server(a, LL_ERR_PROTOCOL, "did not begin");

	/* security types: None only */
	a = hello_prefix();
	p8(a, 1);
	p8(a, 2); /* VNC authentication */
	expect_server(a, LL_ERR_PROTOCOL, "security type 2");
	a = hello_prefix();
	p8(a, 2);
	p8(a, 1);
	p8(a, 19); /* VeNCrypt after None */
	expect_server(a, LL_ERR_PROTOCOL, "security type 19");
	a = hello_prefix();
	p8(a, 1);
	p8(a, 1);
	p32(a, 7);
	expect_server(a, LL_ERR_PROTOCOL, "SecurityResult");

	/* a refusal passes (the client shows it), nothing may follow */
	a = hello_prefix();
	p8(a, 0);
	p32(a, 5);
	g_byte_array_append(a, (const uint8_t *)"no!!!", 5);
	p8(a, 0);
	expect_server(a, LL_ERR_PROTOCOL, "after it refused");
	a = hello_prefix();
	p8(a, 1);
	p8(a, 1);
	p32(a, 1);
	p32(a, LL_RFB_FILTER_MAX_REASON + 1);
	expect_server(a, LL_ERR_TOO_LARGE, "refusal reason");
	{
		struct ll_rfb_filter *f = ll_rfb_filter_new();

		a = hello_prefix();
		p8(a, 1);
		p8(a, 1);
		p32(a, 1);
		p32(a, 3);
		g_byte_array_append(a, (const uint8_t *)"bye", 3);
		g_assert_cmpint(feed(f, true, a, BYTES, NULL, NULL, NULL), ==,
				0);
		g_assert_cmpint(ll_rfb_filter_server_end(f, 0), ==, LL_OK);
		ll_rfb_filter_free(f);
		g_byte_array_unref(a);
	}

	/* ServerInit; flags are "non-zero is true" (libvncserver: 0xff) */
	{
		struct ll_rfb_filter *f = ll_rfb_filter_new();
		unsigned w, h, b;

		a = server_hello(10, 10, 32, true);
		a->data[22 + 2] = 0xff;
		a->data[22 + 3] = 0xff;
		g_assert_cmpint(feed(f, true, a, WHOLE, NULL, NULL, NULL), ==,
				0);
		ll_rfb_filter_size(f, &w, &h, &b);
		g_assert_cmpuint(w, ==, 10);
		g_assert_cmpuint(b, ==, 32);
		ll_rfb_filter_free(f);
		g_byte_array_unref(a);
	}
	a = server_hello(8193, 10, 32, true);
	expect_server(a, LL_ERR_TOO_LARGE, "framebuffer of 8193x10");
	a = server_hello(10, 0, 32, true);
	expect_server(a, LL_ERR_PROTOCOL, "empty");
	a = server_hello(10, 10, 24, true);
	expect_server(a, LL_ERR_PROTOCOL, "pixel format");
	a = server_hello(10, 10, 32, true);
	a->data[12 + 1 + 1 + 4 + 4 + 1] = 33; /* depth over bpp */
	expect_server(a, LL_ERR_PROTOCOL, "pixel format");
	a = server_hello(10, 10, 16, true);
	a->data[12 + 1 + 1 + 4 + 4 + 4 + 6] = 12; /* red at bits 12..16 */
	expect_server(a, LL_ERR_PROTOCOL, "pixel format");
	a = server_hello(10, 10, 32, true);
	g_byte_array_set_size(a, a->len - 8);
	p32(a, LL_RFB_FILTER_MAX_NAME + 1);
	expect_server(a, LL_ERR_TOO_LARGE, "desktop name");
}

static void expect_client(GByteArray *c, int code, const char *needle)
{
	struct ll_rfb_filter *f = ll_rfb_filter_new();
	GByteArray *s = server_hello(16, 8, 32, true);

	g_assert_cmpint(feed(f, true, s, WHOLE, NULL, NULL, NULL), ==, 0);
	g_assert_cmpint(feed(f, false, c, BYTES, NULL, NULL, NULL), ==, code);
	g_assert_nonnull(strstr(ll_rfb_filter_error(f), needle));
	ll_rfb_filter_free(f);
	g_byte_array_unref(s);
	g_byte_array_unref(c);
}

static void test_client(void)
{
	GByteArray *c;

	c = g_byte_array_new();
	g_byte_array_append(c, (const uint8_t *)"RFB 003.007\n", 12);
	expect_client(c, LL_ERR_BAD_VERSION, "local RFB client");
	c = hello_prefix();
	p8(c, 2);
	expect_client(c, LL_ERR_PROTOCOL, "security type 2");

	/* the pixel size may not change once updates were asked for */
	c = client_hello(32, true, all_encs, 2, true, false);
	pfill(c, 4, 0);
	put_pf(c, 16, true);
	expect_client(c, LL_ERR_PROTOCOL, "changed its pixel size");
	c = client_hello(32, true, all_encs, 2, true, false);
	p8(c, 7);
	expect_client(c, LL_ERR_UNKNOWN_TYPE, "message type 7");
	c = client_hello(32, true, all_encs, 2, true, false);
	p8(c, 255);
	p8(c, 1);
	expect_client(c, LL_ERR_UNKNOWN_TYPE, "QEMU message 1");
	c = client_hello(32, true, all_encs, 2, true, false);
	p8(c, 6);
	pfill(c, 3, 0);
	p32(c, LL_RFB_FILTER_MAX_CLIENT_CUT + 1);
	expect_client(c, LL_ERR_TOO_LARGE, "clipboard");

	/* the other messages our clients send pass */
	{
		struct ll_rfb_filter *f = ll_rfb_filter_new();
		size_t held;

		c = client_hello(32, true, all_encs, 2, true, false);
		p8(c, 4), p8(c, 1), p16(c, 0), p32(c, 0xff0d); /* key */
		p8(c, 5), p8(c, 1), p16(c, 3), p16(c, 4);      /* ptr */
		p8(c, 6), pfill(c, 3, 0), p32(c, 2), p16(c, 0x6869);
		p8(c, 251), p8(c, 0), p16(c, 20), p16(c, 10), p8(c, 1),
			p8(c, 0);
		pfill(c, 16, 0); /* screen */
		p8(c, 255), p8(c, 0), p16(c, 1), p32(c, 0xff0d), p32(c, 28);
		g_assert_cmpint(feed(f, false, c, BYTES, NULL, NULL, &held),
				==, 0);
		g_assert_cmpuint(held, ==, 0);
		ll_rfb_filter_free(f);
		g_byte_array_unref(c);
	}
}

static void test_truncated(void)
{
	GByteArray *s2 = server_all(32, true);
	/* cut points: inside the version, ServerInit, the first update's
	 * header, a rectangle header, a raw payload, the ZRLE data */
	size_t hello_len, cuts[6];
	size_t i, held, head_held;

	{
		GByteArray *s1 = server_hello(16, 8, 32, true);

		hello_len = s1->len;
		g_byte_array_unref(s1);
	}
	cuts[0] = 5;
	cuts[1] = 12 + 1 + 1 + 4 + 10;
	cuts[2] = hello_len + 2;
	cuts[3] = hello_len + 4 + 7;
	cuts[4] = hello_len + 4 + 12 + 3;
	/* update 4, raw 12 + 16, CopyRect 16, ZRLE 16, 2 of its 5 bytes */
	cuts[5] = hello_len + 4 + 12 + 16 + 16 + 16 + 2;
	for (i = 0; i < G_N_ELEMENTS(cuts); i++) {
		struct ll_rfb_filter *f = ll_rfb_filter_new();
		GByteArray *s1 = server_hello(16, 8, 32, true);
		GByteArray *c = client_hello(32, true, all_encs,
					     G_N_ELEMENTS(all_encs), true,
					     false);
		GByteArray *head = g_byte_array_new();
		GByteArray *tail = g_byte_array_new();

		g_byte_array_append(s1, s2->data, s2->len);
		g_byte_array_append(head, s1->data,
				    (guint)MIN(cuts[i], hello_len));
		if (cuts[i] > hello_len)
			g_byte_array_append(tail, s1->data + hello_len,
					    (guint)(cuts[i] - hello_len));
		g_assert_cmpint(feed(f, true, head, BYTES, NULL, NULL,
				     &head_held),
				==, 0);
		g_assert_cmpint(feed(f, false, c, WHOLE, NULL, NULL, NULL), ==,
				0);
		g_assert_cmpint(feed(f, true, tail, BYTES, NULL, NULL, &held),
				==, 0);
		if (tail->len == 0)
			held = head_held;
		g_assert_cmpint(ll_rfb_filter_server_end(f, held), ==,
				LL_ERR_TRUNCATED);
		g_assert_nonnull(
			strstr(ll_rfb_filter_error(f), "ended inside"));
		ll_rfb_filter_free(f);
		g_byte_array_unref(s1);
		g_byte_array_unref(c);
		g_byte_array_unref(head);
		g_byte_array_unref(tail);
	}
	g_byte_array_unref(s2);

	/* nothing at all, or a whole message: a clean end */
	{
		struct ll_rfb_filter *f = ll_rfb_filter_new();
		GByteArray *s1 = server_hello(16, 8, 32, true);

		g_assert_cmpint(ll_rfb_filter_server_end(f, 0), ==, LL_OK);
		g_assert_cmpint(feed(f, true, s1, WHOLE, NULL, NULL, NULL), ==,
				0);
		g_assert_cmpint(ll_rfb_filter_server_end(f, 0), ==, LL_OK);
		ll_rfb_filter_free(f);
		g_byte_array_unref(s1);
	}
}

/* The number of the last update with JPEG: what an exact snapshot checks
 * (agent/rfb_client.c).  A Fill, a JPEG, a Fill again. */
static void test_lossy_update(void)
{
	GByteArray *c = client_hello(32, true, all_encs,
				     G_N_ELEMENTS(all_encs), true, false);
	struct ll_rfb_filter *f = ll_rfb_filter_new();
	GByteArray *s1 = server_hello(16, 8, 32, true);
	GByteArray *fill1 = tight_rect(0, 0, 8, 4, 0x80);
	GByteArray *jpeg = tight_rect(0, 0, 8, 4, 0x90);
	GByteArray *fill2 = tight_rect(8, 4, 8, 4, 0x80);

	pfill(fill1, 3, 0x11);
	pjpeg(jpeg, 8, 4, 40);
	pfill(fill2, 3, 0x22);
	g_assert_cmpint(feed(f, true, s1, WHOLE, NULL, NULL, NULL), ==, 0);
	g_assert_cmpint(feed(f, false, c, WHOLE, NULL, NULL, NULL), ==, 0);
	g_assert_cmpuint(ll_rfb_filter_lossy_update(f), ==, 0);
	g_assert_cmpint(feed(f, true, fill1, WHOLE, NULL, NULL, NULL), ==, 0);
	g_assert_cmpuint(ll_rfb_filter_lossy_update(f), ==, 0);
	g_assert_cmpint(feed(f, true, jpeg, WHOLE, NULL, NULL, NULL), ==, 0);
	g_assert_cmpuint(ll_rfb_filter_lossy_update(f), ==, 2);
	g_assert_cmpint(feed(f, true, fill2, WHOLE, NULL, NULL, NULL), ==, 0);
	g_assert_cmpuint(ll_rfb_filter_lossy_update(f), ==, 2);
	ll_rfb_filter_free(f);
	g_byte_array_unref(c);
	g_byte_array_unref(s1);
	g_byte_array_unref(fill1);
	g_byte_array_unref(jpeg);
	g_byte_array_unref(fill2);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rfb_filter/valid", test_valid);
	g_test_add_func("/rfb_filter/rewrite_prefix", test_rewrite_prefix);
	g_test_add_func("/rfb_filter/forbidden_encodings",
			test_forbidden_encodings);
	g_test_add_func("/rfb_filter/rectangles", test_rectangles);
	g_test_add_func("/rfb_filter/tight_accepted", test_tight_accepted);
	g_test_add_func("/rfb_filter/tight_refused", test_tight_refused);
	g_test_add_func("/rfb_filter/tight_jpeg", test_tight_jpeg);
	g_test_add_func("/rfb_filter/lossy_update", test_lossy_update);
	g_test_add_func("/rfb_filter/messages", test_messages);
	g_test_add_func("/rfb_filter/handshake", test_handshake);
	g_test_add_func("/rfb_filter/client", test_client);
	g_test_add_func("/rfb_filter/truncated", test_truncated);
	return g_test_run();
}
