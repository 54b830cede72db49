/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Brands (branding/NAME/, docs/API.md section 13): what a brand holds,
 * the rules a brand must keep, and the brand's words at run time.
 *
 * One table per kind of item (in brand.c): the keys of branding.ini with
 * their rules and the defaults of every optional one, and (in check.c)
 * the files of a brand folder.  The validator (ll_brand_check_dir, run by
 * the build, lifeline-brand-check and `lifeline-relay brand check`), the
 * applet and the agent (which parse the branding.ini compiled into them)
 * all go through ll_brand_parse, so what the build accepted is what the
 * programs show.
 *
 * Problems are reported as "FILE:LINE: message" (FILE: message for a
 * whole file, such as a PNG of the wrong size or a missing file), one
 * string per problem, appended to a GPtrArray of g_free'd strings.
 */
#ifndef LL_BRAND_H
#define LL_BRAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

/* The colours of [colors], each "#rrggbb". */
enum ll_brand_color {
	LL_BRAND_ACCENT,      /* the main action button (Connect) */
	LL_BRAND_ACCENT_TEXT, /* text on the accent */
	LL_BRAND_HEADER_BG,   /* the band with logo and organisation name */
	LL_BRAND_HEADER_TEXT, /* text on the band */
	LL_BRAND_N_COLORS
};

/* The sentences of [texts] (placeholders in brand.c, texts[]). */
enum ll_brand_text {
	LL_BRAND_HEADER_TAGLINE,    /* under the organisation's name */
	LL_BRAND_PIN_HEADING,       /* PIN window, first line */
	LL_BRAND_PIN_PROMPT,        /* PIN window, above the field */
	LL_BRAND_PIN_NOTE,          /* PIN window, below the field */
	LL_BRAND_CONSENT_INTRO,     /* "%TECHNICIAN% of ... asks to:" */
	LL_BRAND_CONSENT_WARNING,   /* "Only allow this if ..." */
	LL_BRAND_SESSION_BAR_INTRO, /* "Connected to %TECHNICIAN% ..." */
	LL_BRAND_AGENT_ABOUT,       /* the agent's About window */
	LL_BRAND_N_TEXTS
};

/* The capabilities whose end-user words a brand may set ([capabilities]):
 * the protocol's names (ll_cap_name; docs/API.md, section 4). */
#define LL_BRAND_N_CAPS 6

/* Contrast every text/background pair of [colors] must reach (WCAG 2.x,
 * level AA for normal text). */
#define LL_BRAND_MIN_CONTRAST 4.5

struct ll_brand {
	char *product;       /* [brand] product_name: "PRODUCT" of titles */
	char *org;           /* [brand] organisation_name */
	char *support_url;   /* NULL when not set */
	char *support_phone; /* NULL when not set */
	char colors[LL_BRAND_N_COLORS][8];
	char *texts[LL_BRAND_N_TEXTS]; /* raw, placeholders unexpanded */
	char *caps[LL_BRAND_N_CAPS];
};

/*
 * Parses branding.ini text (name is used in messages).  Every problem is
 * appended to errors (may be NULL); returns LL_OK and sets *out only when
 * there is none, else LL_ERR_CONFIG.
 */
int ll_brand_parse(const char *data, size_t len, const char *name,
		   struct ll_brand **out, GPtrArray *errors);
void ll_brand_free(struct ll_brand *b);

/* The key of a text in [texts] ("pin_prompt"). */
const char *ll_brand_text_key(enum ll_brand_text t);

/* The words for a capability by its protocol name ("view"), NULL for a
 * name the brand does not know. */
const char *ll_brand_cap_words(const struct ll_brand *b, const char *cap);
/* The capability names of [capabilities], LL_BRAND_N_CAPS of them. */
const char *ll_brand_cap_key(size_t i);

/* What the placeholders of a text stand for at run time (NULL: shown as
 * "(unknown)"). */
struct ll_brand_vars {
	const char *technician;     /* %TECHNICIAN% */
	const char *technician_org; /* %TECHNICIAN_ORG% */
};

/*
 * A text with its placeholders replaced (g_free).  With markup, the result
 * is Pango markup: the brand's words escaped, each value escaped and in
 * bold.  "%%" is a percent sign.
 */
char *ll_brand_format(const struct ll_brand *b, enum ll_brand_text t,
		      const struct ll_brand_vars *v, bool markup);

/* WCAG 2.x contrast ratio of two "#rrggbb" colours (1.0 .. 21.0); 0 when
 * either is not of that form. */
double ll_brand_contrast(const char *a, const char *b);

/* ---- files (image.c) ---- */

/*
 * A PNG's size from a whole file: signature, IHDR first, every chunk's
 * length within the file and its CRC right, IDAT present, IEND last.
 * LL_OK, or LL_ERR_MALFORMED with a sentence in why.
 */
int ll_brand_png_size(const uint8_t *data, size_t len, uint32_t *w,
		      uint32_t *h, char *why, size_t whylen);

/*
 * Checks an SVG (name for messages, "FILE:LINE: ...") for what a brand
 * may use: well-formed, an <svg> root with a size (viewBox, or width and
 * height), nothing that runs or loads anything (no <script>,
 * <foreignObject>, on* attributes, entity declarations, or references
 * other than "#id" and data:image/ URIs).  Sets *w and *h to its size in
 * user units.  Returns the number of problems appended to errors.
 */
unsigned ll_brand_svg_check(const char *data, size_t len, const char *name,
			    double *w, double *h, GPtrArray *errors);

/* ---- a brand folder (check.c) ---- */

enum ll_brand_check_mode {
	/* A brand folder as written: each PNG there is checked, each one
	 * missing must be renderable from the SVG beside it. */
	LL_BRAND_CHECK_SOURCE,
	/* A staged folder (what the build compiles in): every PNG must be
	 * there, other files are not looked at. */
	LL_BRAND_CHECK_STAGED,
};

/* Checks a brand folder; returns the number of problems appended to
 * errors.  *out (may be NULL) gets the parsed brand when there is none. */
unsigned ll_brand_check_dir(const char *dir, enum ll_brand_check_mode mode,
			    struct ll_brand **out, GPtrArray *errors);

/*
 * The same for a command line: prints each problem as a line on err and,
 * when there is none, "DIR: brand PRODUCT of ORG is fine" on ok (may be
 * NULL).  Returns the number of problems.
 */
unsigned ll_brand_check_print(const char *dir, enum ll_brand_check_mode mode,
			      struct ll_brand **out, FILE *ok, FILE *err);

/* The icon sizes every brand has (16 .. 256), and how many. */
extern const unsigned ll_brand_icon_sizes[];
#define LL_BRAND_N_ICON_SIZES 6

#endif
