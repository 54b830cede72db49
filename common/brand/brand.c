/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * branding.ini: its keys, their rules and defaults, one table per group
 * (docs/API.md section 13 lists the same).  The syntax is the strict
 * key-file of common/config (no escapes, no translations yet), so a
 * brand is read the same way as relay.conf.  Unlike relay.conf, every
 * problem is reported, not only the first: a brand is written once by
 * hand and fixed in one go.
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "ll_brand.h"
#include "ll_config.h"
#include "ll_err.h"
#include "ll_text.h"

/* Placeholders a text may use. */
enum {
	P_PRODUCT = 1u << 0,
	P_ORG = 1u << 1,
	P_TECHNICIAN = 1u << 2,
	P_TECHNICIAN_ORG = 1u << 3,
	P_SUPPORT_URL = 1u << 4,
	P_SUPPORT_PHONE = 1u << 5,
};

static const struct {
	unsigned bit;
	const char *name;
} placeholders[] = {
	{ P_PRODUCT, "PRODUCT" },
	{ P_ORG, "ORG" },
	{ P_TECHNICIAN, "TECHNICIAN" },
	{ P_TECHNICIAN_ORG, "TECHNICIAN_ORG" },
	{ P_SUPPORT_URL, "SUPPORT_URL" },
	{ P_SUPPORT_PHONE, "SUPPORT_PHONE" },
};

#define P_BRAND (P_PRODUCT | P_ORG | P_SUPPORT_URL | P_SUPPORT_PHONE)
#define P_WHO (P_TECHNICIAN | P_TECHNICIAN_ORG)

/*
 * [texts]: key, default, placeholders allowed, placeholders required,
 * most characters.  The consent question and the session bar must name
 * who asks as the relay verified it (docs/ARCHITECTURE.md, "Consent",
 * invariant 6), whatever a brand writes.
 */
static const struct {
	const char *key;
	const char *def;
	unsigned allowed;
	unsigned required;
	unsigned max;
} texts[LL_BRAND_N_TEXTS] = {
	[LL_BRAND_HEADER_TAGLINE] = { "header_tagline", "Remote support",
				      P_BRAND, 0, 60 },
	[LL_BRAND_PIN_HEADING] = { "pin_heading", "Let a technician help you",
				   P_BRAND, 0, 80 },
	[LL_BRAND_PIN_PROMPT] = { "pin_prompt",
				  "Your technician will tell you a 6-digit "
				  "PIN. Type it here:",
				  P_BRAND, 0, 300 },
	[LL_BRAND_PIN_NOTE] = { "pin_note",
				"Nothing on your screen is shared until you "
				"allow it. You can end the session at any "
				"time.",
				P_BRAND, 0, 300 },
	[LL_BRAND_CONSENT_INTRO] = { "consent_intro",
				     "%TECHNICIAN% of %TECHNICIAN_ORG% asks "
				     "for permission to:",
				     P_BRAND | P_WHO, P_WHO, 200 },
	/* Under the applet's own first line, "Only allow this if you
	 * contacted ORG for help." (consent_dialog.c): not said twice. */
	[LL_BRAND_CONSENT_WARNING] = { "consent_warning",
				       "If a stranger called you and asked "
				       "you to do this, choose Deny.",
				       P_BRAND, 0, 300 },
	[LL_BRAND_SESSION_BAR_INTRO] = { "session_bar_intro",
					 "Connected to %TECHNICIAN% of "
					 "%TECHNICIAN_ORG%",
					 P_BRAND | P_WHO, P_WHO, 200 },
	[LL_BRAND_AGENT_ABOUT] = { "agent_about",
				   "Help the people of %ORG% on their "
				   "screens, with their permission.",
				   P_BRAND, 0, 300 },
};

/* [capabilities]: the protocol's names and the
 * words the applet shows for each (docs/API.md section 4). */
static const struct {
	const char *key;
	const char *def;
} caps[LL_BRAND_N_CAPS] = {
	{ "view", "See your screen" },
	{ "control", "Control your mouse and keyboard" },
	{ "files", "Send and receive files" },
	{ "chat", "Chat with you" },
	{ "sysinfo", "Read information about this computer" },
	{ "clipboard", "Share text you copy, both ways (clipboard)" },
};
#define CAP_MAX 60

/* [colors]: Lifeline's own when a brand leaves one out.  Text colours
 * come with the background they are read on, for the contrast check. */
static const struct {
	const char *key;
	const char *def;
	int on; /* the colour this one is read on, or -1 */
} colors[LL_BRAND_N_COLORS] = {
	[LL_BRAND_ACCENT] = { "accent", "#1b5fa8", -1 },
	[LL_BRAND_ACCENT_TEXT] = { "accent_text", "#ffffff", LL_BRAND_ACCENT },
	[LL_BRAND_HEADER_BG] = { "header_bg", "#16324f", -1 },
	[LL_BRAND_HEADER_TEXT] = { "header_text", "#ffffff",
				   LL_BRAND_HEADER_BG },
};

/* [brand] */
enum { K_PRODUCT, K_ORG, K_URL, K_PHONE, N_BRAND_KEYS };
static const struct {
	const char *key;
	bool required;
	unsigned max;
} brand_keys[N_BRAND_KEYS] = {
	[K_PRODUCT] = { "product_name", true, 40 },
	[K_ORG] = { "organisation_name", true, 60 },
	[K_URL] = { "support_url", false, 200 },
	[K_PHONE] = { "support_phone", false, 40 },
};

const char *ll_brand_text_key(enum ll_brand_text t)
{
	return (unsigned)t < LL_BRAND_N_TEXTS ? texts[t].key : NULL;
}

const char *ll_brand_cap_key(size_t i)
{
	return i < LL_BRAND_N_CAPS ? caps[i].key : NULL;
}

const char *ll_brand_cap_words(const struct ll_brand *b, const char *cap)
{
	size_t i;

	for (i = 0; cap != NULL && i < LL_BRAND_N_CAPS; i++)
		if (strcmp(caps[i].key, cap) == 0)
			return b->caps[i];
	return NULL;
}

void ll_brand_free(struct ll_brand *b)
{
	size_t i;

	if (b == NULL)
		return;
	g_free(b->product);
	g_free(b->org);
	g_free(b->support_url);
	g_free(b->support_phone);
	for (i = 0; i < LL_BRAND_N_TEXTS; i++)
		g_free(b->texts[i]);
	for (i = 0; i < LL_BRAND_N_CAPS; i++)
		g_free(b->caps[i]);
	g_free(b);
}

/* ---- problems ---- */

struct parse {
	const struct ll_config *cfg;
	const char *name;
	GArray *found; /* struct found, sorted into errors at the end */
	struct ll_brand *b;
};

struct found {
	unsigned line;
	unsigned seq;
	char *msg;
};

static void problem(struct parse *p, unsigned line, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static void problem(struct parse *p, unsigned line, const char *fmt, ...)
{
	struct found f = { .line = line, .seq = p->found->len };
	va_list ap;

	va_start(ap, fmt);
	f.msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_array_append_val(p->found, f);
}

/* By line, and in the order found within a line. */
static gint found_cmp(gconstpointer a, gconstpointer b)
{
	const struct found *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hands the problems to errors in file order; returns how many. */
static unsigned report(struct parse *p, GPtrArray *errors)
{
	unsigned n = p->found->len;
	guint i;

	g_array_sort(p->found, found_cmp);
	for (i = 0; i < p->found->len; i++) {
		struct found *f = &g_array_index(p->found, struct found, i);

		if (errors != NULL)
			g_ptr_array_add(errors,
					g_strdup_printf("%s:%u: %s", p->name,
							f->line, f->msg));
		g_free(f->msg);
	}
	g_array_free(p->found, TRUE);
	return n;
}

/* ---- value rules ---- */

/*
 * One line of text a person reads: valid UTF-8 without controls or the
 * invisible characters ll_text_printable() takes out, no blanks at the
 * ends, no backslash (no escapes: what is written is what is shown), at
 * most max characters.  Returns NULL or what is wrong.
 */
static const char *text_problem(const char *v, unsigned max)
{
	size_t len = strlen(v);
	char *clean;
	bool same;
	const char *last;

	if (len == 0)
		return "is empty";
	clean = ll_text_printable_new(v, len, len + 1);
	same = clean != NULL && strcmp(clean, v) == 0;
	g_free(clean);
	if (!same)
		return "has a control or invisible character";
	if (strchr(v, '\\') != NULL)
		return "has a backslash (there are no escapes: write the text "
		       "as it should be shown)";
	last = g_utf8_prev_char(v + len);
	if (g_unichar_isspace(g_utf8_get_char(v)) ||
	    g_unichar_isspace(g_utf8_get_char(last)))
		return "starts or ends with a blank";
	if (g_utf8_strlen(v, -1) > (glong)max)
		return "is too long";
	return NULL;
}

/* "is too long (at most N characters)" or the problem as it is. */
static void text_problem_report(struct parse *p, unsigned line,
				const char *key, const char *why, unsigned max)
{
	if (strcmp(why, "is too long") == 0)
		problem(p, line, "%s is too long (at most %u characters)", key,
			max);
	else
		problem(p, line, "%s %s", key, why);
}

static bool url_ok(const char *v)
{
	const char *host;
	size_t i;

	if (g_str_has_prefix(v, "https://"))
		host = v + 8;
	else if (g_str_has_prefix(v, "http://"))
		host = v + 7;
	else
		return false;
	if (*host == '\0' || *host == '/')
		return false;
	for (i = 0; v[i] != '\0'; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c <= 0x20 || c >= 0x7f || strchr("\"<>\\^`{|}", c))
			return false;
	}
	return true;
}

static bool phone_ok(const char *v)
{
	bool digit = false;
	size_t i;

	for (i = 0; v[i] != '\0'; i++) {
		if (g_ascii_isdigit(v[i]))
			digit = true;
		else if (!g_ascii_isalpha(v[i]) && !strchr(" +-()./", v[i]))
			return false;
	}
	return digit;
}

static bool color_ok(const char *v)
{
	size_t i;

	if (strlen(v) != 7 || v[0] != '#')
		return false;
	for (i = 1; i < 7; i++)
		if (!g_ascii_isxdigit(v[i]))
			return false;
	return true;
}

static double channel(unsigned v)
{
	double c = v / 255.0;

	return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static double luminance(const char *hex)
{
	unsigned r = (unsigned)g_ascii_xdigit_value(hex[1]) * 16 +
		     (unsigned)g_ascii_xdigit_value(hex[2]);
	unsigned g = (unsigned)g_ascii_xdigit_value(hex[3]) * 16 +
		     (unsigned)g_ascii_xdigit_value(hex[4]);
	unsigned bl = (unsigned)g_ascii_xdigit_value(hex[5]) * 16 +
		      (unsigned)g_ascii_xdigit_value(hex[6]);

	return 0.2126 * channel(r) + 0.7152 * channel(g) +
	       0.0722 * channel(bl);
}

double ll_brand_contrast(const char *a, const char *b)
{
	double la, lb;

	if (a == NULL || b == NULL || !color_ok(a) || !color_ok(b))
		return 0;
	la = luminance(a);
	lb = luminance(b);
	return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

/* ---- placeholders ---- */

static unsigned placeholder_bit(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(placeholders); i++)
		if (strlen(placeholders[i].name) == n &&
		    memcmp(placeholders[i].name, s, n) == 0)
			return placeholders[i].bit;
	return 0;
}

/* "%ORG%, %PRODUCT%" for the bits of set (g_free). */
static char *placeholder_list(unsigned set)
{
	GString *s = g_string_new(NULL);
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(placeholders); i++) {
		if (!(set & placeholders[i].bit))
			continue;
		if (s->len > 0)
			g_string_append(s, ", ");
		g_string_append_printf(s, "%%%s%%", placeholders[i].name);
	}
	if (s->len == 0)
		g_string_append(s, "none");
	return g_string_free(s, FALSE);
}

static bool placeholder_name(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!g_ascii_isupper(s[i]) && s[i] != '_')
			return false;
	return n > 0;
}

/*
 * Walks the placeholders of v: calls fn for each literal run and each
 * placeholder ("%%" is a literal "%").  Returns NULL, or what is wrong at
 * the first bad '%' (g_free).
 */
static char *walk(const char *v,
		  void (*fn)(const char *s, size_t n, unsigned bit,
			     void *user),
		  void *user)
{
	const char *p = v, *pct, *end;
	unsigned bit;
	size_t n;

	while ((pct = strchr(p, '%')) != NULL) {
		if (pct > p)
			fn(p, (size_t)(pct - p), 0, user);
		if (pct[1] == '%') {
			fn("%", 1, 0, user);
			p = pct + 2;
			continue;
		}
		end = strchr(pct + 1, '%');
		n = end != NULL ? (size_t)(end - pct - 1) : 0;
		if (end == NULL || !placeholder_name(pct + 1, n))
			return g_strdup("has a '%' that starts no placeholder "
					"(write %% for a percent sign)");
		if ((bit = placeholder_bit(pct + 1, n)) == 0)
			return g_strdup_printf("uses %%%.*s%%, which is no "
					       "placeholder",
					       (int)n, pct + 1);
		fn(pct + 1, n, bit, user);
		p = end + 1;
	}
	if (*p != '\0')
		fn(p, strlen(p), 0, user);
	return NULL;
}

static void collect_bits(const char *s, size_t n, unsigned bit, void *user)
{
	*(unsigned *)user |= bit;
}

/* ---- groups ---- */

static const char *get(struct parse *p, const char *group, const char *key)
{
	return ll_config_get(p->cfg, group, key);
}

static unsigned line_of(struct parse *p, const char *group, const char *key)
{
	unsigned l = ll_config_line(p->cfg, group, key);

	if (l == 0)
		l = ll_config_line(p->cfg, group, NULL);
	return l != 0 ? l : 1;
}

static void parse_brand(struct parse *p)
{
	char **slot[N_BRAND_KEYS] = {
		[K_PRODUCT] = &p->b->product,
		[K_ORG] = &p->b->org,
		[K_URL] = &p->b->support_url,
		[K_PHONE] = &p->b->support_phone,
	};
	const char *v, *why;
	unsigned line;
	size_t i;

	for (i = 0; i < N_BRAND_KEYS; i++) {
		v = get(p, "brand", brand_keys[i].key);
		line = line_of(p, "brand", brand_keys[i].key);
		if (v == NULL) {
			if (brand_keys[i].required)
				problem(p, line, "[brand] has no %s",
					brand_keys[i].key);
			continue;
		}
		if ((why = text_problem(v, brand_keys[i].max)) != NULL) {
			text_problem_report(p, line, brand_keys[i].key, why,
					    brand_keys[i].max);
			continue;
		}
		if (i == K_URL && !url_ok(v)) {
			problem(p, line,
				"support_url must be an https:// or http:// "
				"address without blanks or quotes");
			continue;
		}
		if (i == K_PHONE && !phone_ok(v)) {
			problem(p, line,
				"support_phone may hold digits, letters, "
				"blanks and + - ( ) . / only");
			continue;
		}
		/* Names go into window titles and desktop files; a '%'
		 * would read as a placeholder in a text. */
		if ((i == K_PRODUCT || i == K_ORG) && strchr(v, '%') != NULL) {
			problem(p, line, "%s may not contain '%%'",
				brand_keys[i].key);
			continue;
		}
		*slot[i] = g_strdup(v);
	}
}

static void parse_colors(struct parse *p)
{
	bool bad[LL_BRAND_N_COLORS] = { false };
	const char *v;
	size_t i, j;
	int on;
	double c;

	for (i = 0; i < LL_BRAND_N_COLORS; i++) {
		v = get(p, "colors", colors[i].key);
		if (v == NULL)
			v = colors[i].def;
		if (!color_ok(v)) {
			problem(p, line_of(p, "colors", colors[i].key),
				"%s must be a colour written #rrggbb",
				colors[i].key);
			bad[i] = true;
			v = colors[i].def;
		}
		for (j = 0; j < 7; j++)
			p->b->colors[i][j] = g_ascii_tolower(v[j]);
		p->b->colors[i][7] = '\0';
	}
	for (i = 0; i < LL_BRAND_N_COLORS; i++) {
		/* A colour already refused is not judged again. */
		if ((on = colors[i].on) < 0 || bad[i] || bad[on])
			continue;
		c = ll_brand_contrast(p->b->colors[i], p->b->colors[on]);
		if (c + 1e-9 >= LL_BRAND_MIN_CONTRAST)
			continue;
		/* Named at the text colour's line, else the background's. */
		problem(p,
			ll_config_line(p->cfg, "colors", colors[i].key) != 0
				? line_of(p, "colors", colors[i].key)
				: line_of(p, "colors", colors[on].key),
			"%s %s on %s %s has a contrast of %.2f:1; it must be "
			"at least %.1f:1 to be readable",
			colors[i].key, p->b->colors[i], colors[on].key,
			p->b->colors[on], c, LL_BRAND_MIN_CONTRAST);
	}
}

/* A text's placeholders against its rules. */
static void check_placeholders(struct parse *p, size_t i, const char *v,
			       unsigned line)
{
	unsigned used = 0;
	char *why, *list;

	if ((why = walk(v, collect_bits, &used)) != NULL) {
		problem(p, line, "%s %s", texts[i].key, why);
		g_free(why);
		return;
	}
	if (used & ~texts[i].allowed) {
		char *bad = placeholder_list(used & ~texts[i].allowed);

		list = placeholder_list(texts[i].allowed);
		problem(p, line, "%s cannot use %s (it may use %s)",
			texts[i].key, bad, list);
		g_free(bad);
		g_free(list);
	}
	if ((texts[i].required & used) != texts[i].required) {
		list = placeholder_list(texts[i].required);
		problem(p, line,
			"%s must use each of %s: the user has to see who "
			"really asks",
			texts[i].key, list);
		g_free(list);
	}
	if ((used & P_SUPPORT_URL) && p->b->support_url == NULL &&
	    get(p, "brand", "support_url") == NULL)
		problem(p, line,
			"%s uses %%SUPPORT_URL%% but [brand] has no "
			"support_url",
			texts[i].key);
	if ((used & P_SUPPORT_PHONE) && p->b->support_phone == NULL &&
	    get(p, "brand", "support_phone") == NULL)
		problem(p, line,
			"%s uses %%SUPPORT_PHONE%% but [brand] has no "
			"support_phone",
			texts[i].key);
}

static void parse_texts(struct parse *p)
{
	const char *v, *why;
	unsigned line;
	size_t i;

	for (i = 0; i < LL_BRAND_N_TEXTS; i++) {
		v = get(p, "texts", texts[i].key);
		line = line_of(p, "texts", texts[i].key);
		if (v == NULL) {
			p->b->texts[i] = g_strdup(texts[i].def);
			continue;
		}
		if ((why = text_problem(v, texts[i].max)) != NULL) {
			text_problem_report(p, line, texts[i].key, why,
					    texts[i].max);
			continue;
		}
		check_placeholders(p, i, v, line);
		p->b->texts[i] = g_strdup(v);
	}
}

static void parse_caps(struct parse *p)
{
	const char *v, *why;
	unsigned line;
	size_t i;

	for (i = 0; i < LL_BRAND_N_CAPS; i++) {
		v = get(p, "capabilities", caps[i].key);
		line = line_of(p, "capabilities", caps[i].key);
		if (v == NULL) {
			p->b->caps[i] = g_strdup(caps[i].def);
			continue;
		}
		if ((why = text_problem(v, CAP_MAX)) != NULL)
			text_problem_report(p, line, caps[i].key, why,
					    CAP_MAX);
		else if (strchr(v, '%') != NULL)
			problem(p, line, "%s may not contain '%%'",
				caps[i].key);
		else
			p->b->caps[i] = g_strdup(v);
	}
}

/* Every group and key must be one of the tables'. */
static void check_known(const char *group, const char *key, const char *value,
			unsigned line, void *user)
{
	static const char *const groups[] = { "brand", "colors", "texts",
					      "capabilities" };
	struct parse *p = user;
	size_t i;
	bool known = false;

	for (i = 0; i < G_N_ELEMENTS(groups); i++)
		if (strcmp(group, groups[i]) == 0)
			break;
	if (i == G_N_ELEMENTS(groups)) {
		if (key == NULL)
			problem(p, line,
				"unknown group [%s] (a brand has [brand], "
				"[colors], [texts] and [capabilities])",
				group);
		return;
	}
	if (key == NULL)
		return;
	switch (i) {
	case 0:
		for (i = 0; i < N_BRAND_KEYS && !known; i++)
			known = strcmp(key, brand_keys[i].key) == 0;
		break;
	case 1:
		for (i = 0; i < LL_BRAND_N_COLORS && !known; i++)
			known = strcmp(key, colors[i].key) == 0;
		break;
	case 2:
		for (i = 0; i < LL_BRAND_N_TEXTS && !known; i++)
			known = strcmp(key, texts[i].key) == 0;
		break;
	default:
		for (i = 0; i < LL_BRAND_N_CAPS && !known; i++)
			known = strcmp(key, caps[i].key) == 0;
		break;
	}
	if (!known)
		problem(p, line, "unknown key '%s' in [%s]", key, group);
}

int ll_brand_parse(const char *data, size_t len, const char *name,
		   struct ll_brand **out, GPtrArray *errors)
{
	struct ll_config *cfg = NULL;
	struct parse p = { .name = name != NULL ? name : "branding.ini" };
	char err[512];

	if (out == NULL || (data == NULL && len > 0))
		return LL_ERR_INVALID_ARG;
	if (ll_config_load_data(data, len, p.name, &cfg, err, sizeof(err)) !=
	    LL_OK) {
		/* Already "name:line: why". */
		if (errors != NULL)
			g_ptr_array_add(errors, g_strdup(err));
		return LL_ERR_CONFIG;
	}
	p.cfg = cfg;
	p.found = g_array_new(FALSE, FALSE, sizeof(struct found));
	p.b = g_new0(struct ll_brand, 1);
	ll_config_foreach(cfg, check_known, &p);
	parse_brand(&p);
	parse_colors(&p);
	parse_texts(&p);
	parse_caps(&p);
	ll_config_free(cfg);
	if (report(&p, errors) > 0) {
		ll_brand_free(p.b);
		return LL_ERR_CONFIG;
	}
	*out = p.b;
	return LL_OK;
}

/* ---- formatting ---- */

struct fmt {
	const struct ll_brand *b;
	const struct ll_brand_vars *v;
	bool markup;
	GString *out;
};

static const char *value_of(const struct fmt *f, unsigned bit)
{
	const char *s = NULL;

	switch (bit) {
	case P_PRODUCT:
		s = f->b->product;
		break;
	case P_ORG:
		s = f->b->org;
		break;
	case P_SUPPORT_URL:
		s = f->b->support_url;
		break;
	case P_SUPPORT_PHONE:
		s = f->b->support_phone;
		break;
	case P_TECHNICIAN:
		s = f->v != NULL ? f->v->technician : NULL;
		break;
	case P_TECHNICIAN_ORG:
		s = f->v != NULL ? f->v->technician_org : NULL;
		break;
	default:
		break;
	}
	return s != NULL ? s : "(unknown)";
}

static void put(const char *s, size_t n, unsigned bit, void *user)
{
	struct fmt *f = user;
	char *esc, **parts, *phone = NULL;

	if (bit != 0) {
		s = value_of(f, bit);
		n = strlen(s);
	}
	/* A phone number is never broken over two lines. */
	if (bit == P_SUPPORT_PHONE) {
		parts = g_strsplit(s, " ", -1);
		phone = g_strjoinv("\u00a0", parts);
		g_strfreev(parts);
		s = phone;
		n = strlen(s);
	}
	if (!f->markup) {
		g_string_append_len(f->out, s, (gssize)n);
		g_free(phone);
		return;
	}
	esc = g_markup_escape_text(s, (gssize)n);
	/* Who asks stands out: the names the relay verified. */
	if (bit & P_WHO)
		g_string_append_printf(f->out, "<b>%s</b>", esc);
	else
		g_string_append(f->out, esc);
	g_free(esc);
	g_free(phone);
}

char *ll_brand_format(const struct ll_brand *b, enum ll_brand_text t,
		      const struct ll_brand_vars *v, bool markup)
{
	struct fmt f = { .b = b, .v = v, .markup = markup };

	if (b == NULL || (unsigned)t >= LL_BRAND_N_TEXTS)
		return g_strdup("");
	f.out = g_string_new(NULL);
	/* Checked at parse: a stored text has no bad '%'. */
	g_free(walk(b->texts[t], put, &f));
	return g_string_free(f.out, FALSE);
}
