/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The images of a brand: a PNG's structure and size (read through a
 * bounded view, HACKING.md habit 3), and what an SVG may contain.  The
 * SVGs are rendered at build time (rsvg-convert) and installed as the
 * scalable icon, which every desktop renders: a brand must not be able to
 * make either run or fetch anything.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ll_brand.h"
#include "ll_buf.h"
#include "ll_err.h"

/* ---- PNG ---- */

#define PNG_MAX_SIDE 8192

static uint32_t crc_table[256];

static void crc_init(void)
{
	uint32_t c;
	unsigned n, k;

	for (n = 0; n < 256; n++) {
		c = n;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[n] = c;
	}
}

/* CRC-32 of the PNG specification, over type and data. */
static uint32_t png_crc(const uint8_t *p, size_t n)
{
	static gsize once;
	uint32_t c = 0xffffffffu;
	size_t i;

	if (g_once_init_enter(&once)) {
		crc_init();
		g_once_init_leave(&once, 1);
	}
	for (i = 0; i < n; i++)
		c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static int png_fail(char *why, size_t whylen, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return LL_ERR_MALFORMED;
}

int ll_brand_png_size(const uint8_t *data, size_t len, uint32_t *w,
		      uint32_t *h, char *why, size_t whylen)
{
	static const uint8_t sig[8] = { 0x89, 'P',  'N',  'G',
					'\r', '\n', 0x1a, '\n' };
	struct ll_buf_view v;
	const uint8_t *sigp, *chunk;
	uint32_t n, crc, width = 0, height = 0;
	bool ihdr = false, idat = false, iend = false;
	char type[5] = "";

	ll_buf_view_init(&v, data, len);
	if (ll_view_get_ptr(&v, sizeof(sig), &sigp) != 0 ||
	    memcmp(sigp, sig, sizeof(sig)) != 0)
		return png_fail(why, whylen, "is not a PNG image");
	while (!iend) {
		/* length, then type and data under one CRC */
		if (ll_view_get_u32(&v, &n) != 0 || n > 0x7fffffffu ||
		    ll_view_get_ptr(&v, (size_t)n + 4, &chunk) != 0 ||
		    ll_view_get_u32(&v, &crc) != 0)
			return png_fail(why, whylen,
					"is cut short (a PNG chunk runs past "
					"the end of the file)");
		if (png_crc(chunk, (size_t)n + 4) != crc)
			return png_fail(why, whylen,
					"is damaged (a PNG chunk's checksum is "
					"wrong)");
		memcpy(type, chunk, 4);
		if (!ihdr) {
			if (strcmp(type, "IHDR") != 0 || n != 13)
				return png_fail(why, whylen,
						"is not a PNG image (no IHDR "
						"first)");
			width = (uint32_t)chunk[4] << 24 |
				(uint32_t)chunk[5] << 16 |
				(uint32_t)chunk[6] << 8 | chunk[7];
			height = (uint32_t)chunk[8] << 24 |
				 (uint32_t)chunk[9] << 16 |
				 (uint32_t)chunk[10] << 8 | chunk[11];
			ihdr = true;
		} else if (strcmp(type, "IDAT") == 0) {
			idat = true;
		} else if (strcmp(type, "IEND") == 0) {
			iend = true;
		}
	}
	if (!idat)
		return png_fail(why, whylen, "has no image data (no IDAT)");
	if (ll_view_remaining(&v) != 0)
		return png_fail(why, whylen, "has bytes after its end (IEND)");
	if (width == 0 || height == 0 || width > PNG_MAX_SIDE ||
	    height > PNG_MAX_SIDE)
		return png_fail(why, whylen,
				"has a width or height of 0 or over 8192");
	*w = width;
	*h = height;
	return LL_OK;
}

/* ---- SVG ---- */

struct svg {
	GMarkupParseContext *ctx;
	const char *name;
	GPtrArray *errors;
	unsigned n;
	unsigned depth;
	bool root_seen;
	double w, h;
	GArray *lines; /* int: the line of each token GMarkup reports */
	guint token;   /* the next one */
	int line;      /* the current token's, 0 before the first */
};

/* Skips to just after the first `end` from p; counts newlines. */
static size_t skip_to(const char *d, size_t n, size_t p, const char *end,
		      int *line)
{
	size_t el = strlen(end);

	for (; p < n; p++) {
		if (p + el <= n && memcmp(d + p, end, el) == 0)
			return p + el;
		*line += d[p] == '\n';
	}
	return n;
}

/* A tag or declaration from its '<' to its '>', quotes and an internal
 * subset ([...]) included. */
static size_t skip_tag(const char *d, size_t n, size_t p, int *line)
{
	char quote = 0;
	int depth = 0;

	for (; p < n; p++) {
		*line += d[p] == '\n';
		if (quote != 0) {
			quote = d[p] == quote ? 0 : quote;
		} else if (d[p] == '"' || d[p] == '\'') {
			quote = d[p];
		} else if (d[p] == '[') {
			depth++;
		} else if (d[p] == ']') {
			depth--;
		} else if (d[p] == '>' && depth <= 0) {
			return p + 1;
		}
	}
	return n;
}

/*
 * The starting line of every start tag and every comment, processing
 * instruction, declaration and CDATA section, in document order: the
 * order in which GMarkup calls start_element and passthrough.  GMarkup
 * itself only tells where it has got to, often the line after.
 */
static GArray *token_lines(const char *d, size_t n)
{
	GArray *lines = g_array_new(FALSE, FALSE, sizeof(int));
	int line = 1, at;
	size_t p = 0;
	bool end_tag;

	while (p < n) {
		if (d[p] != '<') {
			line += d[p++] == '\n';
			continue;
		}
		at = line;
		end_tag = p + 1 < n && d[p + 1] == '/';
		if (n - p >= 4 && memcmp(d + p, "<!--", 4) == 0)
			p = skip_to(d, n, p + 4, "-->", &line);
		else if (n - p >= 9 && memcmp(d + p, "<![CDATA[", 9) == 0)
			p = skip_to(d, n, p + 9, "]]>", &line);
		else if (n - p >= 2 && d[p + 1] == '?')
			p = skip_to(d, n, p + 2, "?>", &line);
		else
			p = skip_tag(d, n, p + 1, &line);
		/* An end tag has no callback that reports a problem. */
		if (!end_tag)
			g_array_append_val(lines, at);
	}
	return lines;
}

/* Moves to the next token: a start tag or a passthrough. */
static void next_token(struct svg *s)
{
	if (s->token < s->lines->len)
		s->line = g_array_index(s->lines, int, s->token++);
}

static void svg_problem(struct svg *s, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

static void svg_problem(struct svg *s, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int line = s->line, col = 0;

	s->n++;
	if (s->errors == NULL)
		return;
	/* Outside any token (a syntax error, no tokens): where GMarkup
	 * got to. */
	if (line == 0 && s->ctx != NULL)
		g_markup_parse_context_get_position(s->ctx, &line, &col);
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_ptr_array_add(s->errors, g_strdup_printf("%s:%d: %s", s->name,
						   MAX(line, 1), msg));
	g_free(msg);
}

/* The local part of "ns:name". */
static const char *local(const char *name)
{
	const char *c = strrchr(name, ':');

	return c != NULL ? c + 1 : name;
}

/* A length in user units: a number, optionally "px".  -1 otherwise. */
static double length(const char *v)
{
	char *end;
	double d = g_ascii_strtod(v, &end);

	if (end == v || d <= 0 || d > 1e6)
		return -1;
	if (*end == '\0' || strcmp(end, "px") == 0)
		return d;
	return -1;
}

static bool view_box(const char *v, double *w, double *h)
{
	char **f = g_strsplit_set(v, " ,\t\n", -1);
	double n[4];
	size_t i, k = 0;
	char *end;
	bool ok = true;

	for (i = 0; f[i] != NULL && ok; i++) {
		if (f[i][0] == '\0')
			continue;
		if (k == 4) {
			ok = false;
			break;
		}
		n[k] = g_ascii_strtod(f[i], &end);
		ok = end != f[i] && *end == '\0';
		k++;
	}
	g_strfreev(f);
	if (!ok || k != 4 || n[2] <= 0 || n[3] <= 0 || n[2] > 1e6 ||
	    n[3] > 1e6)
		return false;
	*w = n[2];
	*h = n[3];
	return true;
}

static void svg_root(struct svg *s, const char *el, const char **names,
		     const char **values)
{
	double w = -1, h = -1, vw = 0, vh = 0;
	bool vb = false;
	size_t i;

	if (strcmp(el, "svg") != 0) {
		svg_problem(s, "the outermost element is <%s>, not <svg>", el);
		return;
	}
	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(names[i], "viewBox") == 0) {
			vb = view_box(values[i], &vw, &vh);
			if (!vb)
				svg_problem(s, "viewBox must be four numbers "
					       "with a positive width and "
					       "height");
		} else if (strcmp(names[i], "width") == 0) {
			w = length(values[i]);
		} else if (strcmp(names[i], "height") == 0) {
			h = length(values[i]);
		}
	}
	if (vb) {
		s->w = vw;
		s->h = vh;
	} else if (w > 0 && h > 0) {
		s->w = w;
		s->h = h;
	} else {
		svg_problem(s, "<svg> has no size: give it a viewBox (or a "
			       "width and height in px)");
	}
}

/* A reference that loads nothing: "#id" or an embedded image. */
static bool ref_ok(const char *v)
{
	return v[0] == '#' || g_str_has_prefix(v, "data:image/png;") ||
	       g_str_has_prefix(v, "data:image/jpeg;");
}

static void svg_start(GMarkupParseContext *ctx, const char *el,
		      const char **names, const char **values, gpointer user,
		      GError **err)
{
	static const char *const banned[] = { "script", "foreignObject",
					      "iframe", "object", "embed" };
	struct svg *s = user;
	const char *name = local(el);
	size_t i;

	next_token(s);
	if (s->depth++ == 0) {
		s->root_seen = true;
		svg_root(s, name, names, values);
	}
	for (i = 0; i < G_N_ELEMENTS(banned); i++)
		if (strcmp(name, banned[i]) == 0)
			svg_problem(s,
				    "<%s> is not allowed in a brand's "
				    "image",
				    el);
	for (i = 0; names[i] != NULL; i++) {
		const char *a = local(names[i]);

		if (g_ascii_strncasecmp(a, "on", 2) == 0)
			svg_problem(s, "the event attribute %s is not allowed",
				    names[i]);
		else if (strcmp(a, "href") == 0 && !ref_ok(values[i]))
			svg_problem(s,
				    "%s may only point inside the file "
				    "(\"#id\") or hold a PNG or JPEG data: "
				    "image",
				    names[i]);
		else if (strstr(values[i], "url(") != NULL &&
			 strstr(values[i], "url(#") == NULL)
			svg_problem(s, "%s may only use url(#id)", names[i]);
	}
}

static void svg_end(GMarkupParseContext *ctx, const char *el, gpointer user,
		    GError **err)
{
	((struct svg *)user)->depth--;
}

/* <style> text and CDATA: url() may only point inside the file. */
static void svg_text(GMarkupParseContext *ctx, const char *text, gsize len,
		     gpointer user, GError **err)
{
	struct svg *s = user;
	const char *p = text, *end = text + len;

	while (p < end && (p = g_strstr_len(p, end - p, "url(")) != NULL) {
		p += 4;
		while (p < end && (*p == ' ' || *p == '"' || *p == '\''))
			p++;
		if (p < end && *p != '#')
			svg_problem(s, "a style may only use url(#id)");
	}
	if (g_strstr_len(text, (gssize)len, "@import") != NULL)
		svg_problem(s, "a style may not @import anything");
}

/* Comments, the XML declaration, DOCTYPE and CDATA come here. */
static void svg_passthrough(GMarkupParseContext *ctx, const char *text,
			    gsize len, gpointer user, GError **err)
{
	struct svg *s = user;

	next_token(s);
	if (g_str_has_prefix(text, "<![CDATA[")) {
		svg_text(ctx, text, len, user, err);
		return;
	}
	if (g_strstr_len(text, (gssize)len, "<!ENTITY") != NULL ||
	    (g_str_has_prefix(text, "<!DOCTYPE") &&
	     g_strstr_len(text, (gssize)len, "[") != NULL))
		svg_problem(s, "entity declarations are not allowed");
}

unsigned ll_brand_svg_check(const char *data, size_t len, const char *name,
			    double *w, double *h, GPtrArray *errors)
{
	static const GMarkupParser parser = {
		.start_element = svg_start,
		.end_element = svg_end,
		.text = svg_text,
		.passthrough = svg_passthrough,
	};
	struct svg s = { .name = name, .errors = errors, .w = -1, .h = -1 };
	GError *e = NULL;

	if (!g_utf8_validate(data, (gssize)len, NULL)) {
		svg_problem(&s, "is not UTF-8 text");
		return s.n;
	}
	s.lines = token_lines(data, len);
	s.ctx = g_markup_parse_context_new(&parser, 0, &s, NULL);
	if (!g_markup_parse_context_parse(s.ctx, data, (gssize)len, &e) ||
	    !g_markup_parse_context_end_parse(s.ctx, &e)) {
		/* GMarkup's message names the line and character. */
		s.line = 0;
		svg_problem(&s, "is not well-formed XML: %s", e->message);
		g_clear_error(&e);
	} else if (!s.root_seen) {
		svg_problem(&s, "has no <svg> element");
	}
	g_markup_parse_context_free(s.ctx);
	g_array_free(s.lines, TRUE);
	if (w != NULL)
		*w = s.w;
	if (h != NULL)
		*h = s.h;
	return s.n;
}
