/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The self-hosted PIN page (docs/API.md, "The PIN page"): the org's
 * branded page at "/" and "/o/ORG/", its style sheet, script and logo,
 * the form's post without JavaScript, POST /api/v1/pins/check for the
 * script, and the portable applet with the PIN bound to it.
 *
 * Every check of a PIN goes through ll_api_pin_check (api_pins.c), the
 * rules of a redeem, so a check from the page spends the guess budget
 * exactly as a redeem does; a check never redeems.  The page is HTML
 * built here with every value escaped; its script and style sheet come
 * from installers/pin-page/ (embedded at build time).  Nothing of the
 * page loads from elsewhere, and its Content-Security-Policy says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "ll_appconf.h"
#include "ll_brand.h"
#include "ll_crypto.h"
#include "ll_form.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "ll_relay_api.h"
#include "api.h"

/* The page: its own script, style sheet and logo, and nothing else; it
 * posts only to the relay and nobody may frame it. */
#define PAGE_CSP                                                              \
	"default-src 'none'; script-src 'self'; style-src 'self'; "           \
	"img-src 'self'; connect-src 'self'; form-action 'self'; "            \
	"frame-ancestors 'none'; base-uri 'none'"
/* The logo, should someone open it on its own: no script, sandboxed. */
#define LOGO_CSP                                                              \
	"default-src 'none'; style-src 'unsafe-inline'; "                     \
	"frame-ancestors 'none'; sandbox"

/* The largest portable applet the relay hands out. */
#define APPLET_MAX_BYTES ((off_t)64 * 1024 * 1024)
#define LOGO_MAX_BYTES (1024 * 1024)

/* Installers/pin-page/, embedded (embed.py). */
extern const char ll_page_js[];
extern const size_t ll_page_js_len;
extern const char ll_page_css[];
extern const size_t ll_page_css_len;

/* Lifeline's own look when relay.conf names no brand. */
static const char plain_brand[] = "[brand]\n"
				  "product_name = Lifeline\n"
				  "organisation_name = Lifeline\n";

struct ll_page {
	uint64_t gen;           /* relay->cfg_gen it was built from */
	struct ll_brand *brand; /* never NULL */
	bool branded;           /* from brand_dir, not plain_brand */
	uint8_t *logo;          /* NULL: no logo */
	size_t logo_len;
	const char *logo_type;
	char *css; /* the style sheet with the brand's colours */
};

/*
 * What the page says for each refusal, in plain words for the person at
 * the screen; the script shows the same words (the form carries them as
 * data-msg-CODE).  "network" is the script's own: no answer at all.
 */
static const struct {
	const char *code; /* API error code, or "network" */
	const char *words;
} page_words[] = {
	{ "pin_invalid", "That PIN did not work. Check the digits with your "
			 "technician and type it again." },
	{ "pin_expired", "This PIN has expired. Ask your technician for a new "
			 "one." },
	{ "rate_limited", "There were too many tries. Please wait a few "
			  "minutes, then try again." },
	/* a refused path: say where the PIN does work */
	{ "pin_locked_website", "This PIN only works on your organisation's "
				"support web page. Open that page and type "
				"the PIN there." },
	{ "pin_locked_shortcut", "This PIN only works in your organisation's "
				 "support program (the shortcut it gave "
				 "you). Open that and type the PIN there." },
	{ "origin_not_allowed", "This page is not one of your organisation's "
				"support pages. Type the PIN only on the "
				"page your technician named." },
	{ "end_user_ip_not_allowed", "Your technician may not support this "
				     "computer from the network it is on "
				     "now." },
	{ "bad_request", "Type the PIN your technician gave you: 6 to 10 "
			 "digits." },
	{ "not_found", "There is no support page at this address. Check the "
		       "address with your technician." },
	{ "network", "The support server did not answer. Check that this "
		     "computer is online, then try again." },
	{ "internal", "Something went wrong on our side. Please try again in "
		      "a moment." },
};

static const char *words_for(const char *code)
{
	size_t i;

	for (i = 0; i < LL_ARRAY_SIZE(page_words); i++)
		if (strcmp(page_words[i].code, code) == 0)
			return page_words[i].words;
	return page_words[LL_ARRAY_SIZE(page_words) - 1].words;
}

/* ---- loading the brand ---- */

static void page_free(struct ll_page *pg)
{
	if (pg == NULL)
		return;
	ll_brand_free(pg->brand);
	free(pg->logo);
	free(pg->css);
	free(pg);
}

static int read_small(const char *path, uint8_t **out, size_t *len)
{
	gchar *data = NULL;
	gsize n = 0;

	if (!g_file_get_contents(path, &data, &n, NULL))
		return errno == ENOENT ? LL_ERR_NOT_FOUND : LL_ERR_IO;
	if (n > LOGO_MAX_BYTES) {
		g_free(data);
		return LL_ERR_TOO_LARGE;
	}
	*out = malloc(n > 0 ? n : 1);
	if (*out == NULL) {
		g_free(data);
		return LL_ERR_NOMEM;
	}
	memcpy(*out, data, n);
	*len = n;
	g_free(data);
	return LL_OK;
}

/* The brand's logo: logo.svg when it has one (sharp at every zoom), else
 * logo.png; both were checked by the validator. */
static int page_logo(struct ll_page *pg, const char *dir)
{
	static const struct {
		const char *file, *type;
	} logos[] = {
		{ "logo.svg", "image/svg+xml" },
		{ "logo.png", "image/png" },
	};
	char *path;
	size_t i;
	int r = LL_ERR_NOT_FOUND;

	for (i = 0; i < LL_ARRAY_SIZE(logos) && r == LL_ERR_NOT_FOUND; i++) {
		path = g_build_filename(dir, logos[i].file, NULL);
		r = read_small(path, &pg->logo, &pg->logo_len);
		g_free(path);
		if (r == LL_OK)
			pg->logo_type = logos[i].type;
	}
	return r;
}

static char *page_css_new(const struct ll_brand *b)
{
	return g_strdup_printf("%s\n/* the brand's colours */\n:root {\n"
			       "\t--accent: %s;\n\t--accent-text: %s;\n"
			       "\t--header-bg: %s;\n\t--header-text: %s;\n}\n",
			       ll_page_css, b->colors[LL_BRAND_ACCENT],
			       b->colors[LL_BRAND_ACCENT_TEXT],
			       b->colors[LL_BRAND_HEADER_BG],
			       b->colors[LL_BRAND_HEADER_TEXT]);
}

/* The applet file, when configured, is a regular file we can read. */
static int applet_check(const char *path, char *errbuf, size_t errlen)
{
	struct stat sb;

	if (path == NULL)
		return LL_OK;
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    access(path, R_OK) != 0 || sb.st_size > APPLET_MAX_BYTES) {
		snprintf(errbuf, errlen,
			 "portable_applet %s: not a readable file of at most "
			 "64 MiB",
			 path);
		return LL_ERR_CONFIG;
	}
	return LL_OK;
}

static int page_load(const struct ll_relay_config *cfg, struct ll_page **out,
		     char *errbuf, size_t errlen)
{
	struct ll_page *pg = calloc(1, sizeof(*pg));
	GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
	unsigned n;
	guint i;
	int r = LL_ERR_CONFIG;

	if (pg == NULL) {
		g_ptr_array_unref(errors);
		return LL_ERR_NOMEM;
	}
	if (cfg->brand_dir != NULL) {
		n = ll_brand_check_dir(cfg->brand_dir, LL_BRAND_CHECK_SOURCE,
				       &pg->brand, errors);
		for (i = 0; i < errors->len; i++)
			ll_error("brand_dir: %s",
				 (const char *)g_ptr_array_index(errors, i));
		if (n > 0 || pg->brand == NULL) {
			snprintf(errbuf, errlen,
				 "brand_dir %s is not a valid brand (%u "
				 "problems, the first: %s)",
				 cfg->brand_dir, n,
				 errors->len > 0
					 ? (const char *)
						   g_ptr_array_index(errors, 0)
					 : "?");
			goto out;
		}
		pg->branded = true;
		if ((r = page_logo(pg, cfg->brand_dir)) != LL_OK) {
			snprintf(errbuf, errlen, "brand_dir %s: its logo: %s",
				 cfg->brand_dir, ll_strerror(r));
			goto out;
		}
	} else if (ll_brand_parse(plain_brand, strlen(plain_brand), "plain",
				  &pg->brand, NULL) != LL_OK) {
		snprintf(errbuf, errlen, "the plain brand does not parse");
		r = LL_ERR_INTERNAL;
		goto out;
	}
	if ((r = applet_check(cfg->portable_applet, errbuf, errlen)) != 0)
		goto out;
	if ((pg->css = page_css_new(pg->brand)) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	*out = pg;
	pg = NULL;
	r = LL_OK;
out:
	page_free(pg);
	g_ptr_array_unref(errors);
	return r;
}

int ll_api_page_open(struct ll_relay *relay, char *errbuf, size_t errlen)
{
	struct ll_page *pg = NULL;
	int r;

	if ((r = page_load(&relay->cfg, &pg, errbuf, errlen)) != LL_OK)
		return r;
	pg->gen = relay->cfg_gen;
	page_free(relay->page);
	relay->page = pg;
	if (pg->branded)
		ll_info("PIN page: brand \"%s\" of %s from %s",
			pg->brand->product, pg->brand->org,
			relay->cfg.brand_dir);
	return LL_OK;
}

void ll_api_page_close(struct ll_relay *relay)
{
	LL_FREE_AND_NULL(page_free, relay->page);
}

/* The page as the configuration now says (a SIGHUP loads it again; a
 * brand that fails then is logged and the previous one kept). */
static struct ll_page *page_get(struct ll_relay *relay)
{
	char errbuf[512];

	if (relay->page == NULL || relay->page->gen != relay->cfg_gen) {
		if (ll_api_page_open(relay, errbuf, sizeof(errbuf)) != LL_OK) {
			ll_error("PIN page: %s; keeping the previous one",
				 errbuf);
			if (relay->page != NULL)
				relay->page->gen = relay->cfg_gen;
		}
	}
	return relay->page;
}

/* ---- building the page ---- */

/* Percent-encoded: all but RFC 3986 unreserved. */
static void pct_encode(GString *out, const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (g_ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~')
			g_string_append_c(out, (char)c);
		else
			g_string_append_printf(out, "%%%02X", c);
	}
}

/* "/o/ORG", ORG percent-encoded. */
static void org_path(GString *out, const char *org)
{
	g_string_append(out, "/o/");
	pct_encode(out, org);
}

/* Text into HTML (element content and quoted attribute values). */
static void html_text(GString *out, const char *s)
{
	char *e = g_markup_escape_text(s ? s : "", -1);

	g_string_append(out, e);
	g_free(e);
}

static void html_brand_text(GString *out, const struct ll_brand *b,
			    enum ll_brand_text t)
{
	char *s = ll_brand_format(b, t, NULL, false);

	html_text(out, s);
	g_free(s);
}

/* The launch link: lifeline:pin?code=DIGITS&org=ORG, with &launch=TOKEN
 * for a website-locked PIN (docs/API.md). */
static char *launch_uri_new(const char *pin, const char *org,
			    const char *launch)
{
	GString *u = g_string_new("lifeline:pin?code=");

	g_string_append(u, pin);
	g_string_append(u, "&org=");
	pct_encode(u, org);
	if (launch != NULL) {
		g_string_append(u, "&launch=");
		g_string_append(u, launch);
	}
	return g_string_free(u, FALSE);
}

/* What a page shows besides the form. */
struct page_view {
	const char *org;   /* the org's name; NULL: no such page */
	const char *error; /* plain words, or NULL */
	/* a PIN that passed every check */
	const char *pin;
	const char *tech;
	char *launch;  /* its launch token (website lock), or NULL; owned */
	bool download; /* a portable applet is offered */
};

static void page_head(GString *h, const struct ll_page *pg,
		      const struct page_view *v)
{
	const struct ll_brand *b = pg->brand;

	g_string_append(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
			   "<meta charset=\"utf-8\">\n"
			   "<meta name=\"viewport\" content=\"width=device-"
			   "width, initial-scale=1\">\n"
			   "<meta name=\"referrer\" content=\"no-referrer\">\n"
			   "<title>");
	html_text(h, b->product);
	g_string_append(h, " \xe2\x80\x93 ");
	html_text(h, pg->branded ? b->org : v->org);
	g_string_append(h, "</title>\n");
	if (v->org != NULL) {
		g_string_append(h, "<link rel=\"stylesheet\" href=\"");
		org_path(h, v->org);
		g_string_append(h, "/pin-page.css\">\n<script src=\"");
		org_path(h, v->org);
		g_string_append(h, "/pin-page.js\" defer></script>\n");
	}
	if (pg->logo != NULL && v->org != NULL) {
		/* else the browser asks for /favicon.ico, a 404 */
		g_string_append(h, "<link rel=\"icon\" href=\"");
		org_path(h, v->org);
		g_string_append(h, "/logo\">\n");
	}
	g_string_append(h, "</head>\n<body>\n<header class=\"band\">\n");
	if (pg->logo != NULL && v->org != NULL) {
		g_string_append(h, "<img src=\"");
		org_path(h, v->org);
		g_string_append(h, "/logo\" alt=\"\">\n");
	}
	g_string_append(h, "<div><p class=\"org\">");
	html_text(h, pg->branded || v->org == NULL ? b->org : v->org);
	g_string_append(h, "</p><p class=\"tagline\">");
	html_brand_text(h, b, LL_BRAND_HEADER_TAGLINE);
	g_string_append(h, "</p></div>\n</header>\n<main>\n");
}

static void page_form(GString *h, const struct ll_page *pg,
		      const struct page_view *v)
{
	size_t i;

	g_string_append(h, "<form id=\"pin-form\" method=\"post\" action=\"");
	org_path(h, v->org);
	g_string_append(h, "/\" data-api=\"\" data-org=\"");
	html_text(h, v->org);
	g_string_append(h, "\"");
	for (i = 0; i < LL_ARRAY_SIZE(page_words); i++) {
		char *attr = g_strdelimit(g_strdup(page_words[i].code), "_",
					  '-');

		g_string_append_printf(h, "\n data-msg-%s=\"", attr);
		html_text(h, page_words[i].words);
		g_string_append(h, "\"");
		g_free(attr);
	}
	g_string_append(h, ">\n<p id=\"pin-prompt\">");
	html_brand_text(h, pg->brand, LL_BRAND_PIN_PROMPT);
	g_string_append(h, "</p>\n<label for=\"pin\">PIN</label>\n"
			   "<input id=\"pin\" name=\"pin\" type=\"text\" "
			   "inputmode=\"numeric\" autocomplete=\"off\" "
			   "autocorrect=\"off\" spellcheck=\"false\" "
			   "maxlength=\"10\" required "
			   "aria-describedby=\"pin-prompt pin-error\"");
	if (v->error != NULL)
		g_string_append(h, " aria-invalid=\"true\"");
	if (v->pin == NULL)
		g_string_append(h, " autofocus");
	g_string_append(h, ">\n<p id=\"pin-error\" class=\"error\" "
			   "role=\"alert\"");
	if (v->error == NULL)
		g_string_append(h, " hidden");
	g_string_append(h, ">");
	html_text(h, v->error);
	g_string_append(h, "</p>\n<button type=\"submit\">Continue</button>\n"
			   "</form>\n");
}

/* What to do next once the PIN is right; hidden until then, so that the
 * script fills the same section the page shows without it. */
static void page_result(GString *h, const struct ll_page *pg,
			const struct page_view *v)
{
	const char *product = pg->brand->product;
	char *uri = v->pin ? launch_uri_new(v->pin, v->org, v->launch) : NULL;

	g_string_append(h, "<section id=\"result\" class=\"result\" "
			   "aria-labelledby=\"result-heading\"");
	if (v->pin == NULL)
		g_string_append(h, " hidden");
	g_string_append(h,
			">\n<h2 id=\"result-heading\" tabindex=\"-1\">"
			"Your PIN is right</h2>\n"
			"<p>Your technician is <strong id=\"result-tech\">");
	html_text(h, v->tech);
	g_string_append(h, "</strong> of <strong id=\"result-tech-org\">");
	/* the name people know the org by: the brand's, when it has one */
	html_text(h, pg->branded ? pg->brand->org : v->org);
	g_string_append(h, "</strong>.</p>\n<p class=\"step\">If ");
	html_text(h, product);
	g_string_append(h, " is installed on this computer:</p>\n"
			   "<a id=\"launch\" class=\"button\" href=\"");
	html_text(h, uri ? uri : "#");
	g_string_append(h, "\">Start ");
	html_text(h, product);
	g_string_append(h, "</a>\n<form id=\"download-form\" method=\"post\" "
			   "action=\"");
	org_path(h, v->org);
	g_string_append(h, "/applet\"");
	if (!v->download)
		g_string_append(h, " hidden");
	g_string_append(h, ">\n<p class=\"step\">If it is not, download it, "
			   "then open the file you downloaded:</p>\n"
			   "<input type=\"hidden\" name=\"pin\" value=\"");
	html_text(h, v->pin);
	g_string_append(h, "\">\n<button type=\"submit\" class=\"secondary\">"
			   "Download ");
	html_text(h, product);
	g_string_append(h, "</button>\n</form>\n<p id=\"no-download\" "
			   "class=\"step\"");
	if (v->download)
		g_string_append(h, " hidden");
	g_string_append(h, ">If nothing happens, ");
	html_text(h, product);
	g_string_append(h, " is not installed yet. It cannot be downloaded "
			   "here: ask your technician how to install it.</p>\n"
			   "</section>\n");
	g_free(uri);
}

static void page_footer(GString *h, const struct ll_page *pg)
{
	const struct ll_brand *b = pg->brand;

	g_string_append(h, "<p class=\"note\">");
	html_brand_text(h, b, LL_BRAND_PIN_NOTE);
	g_string_append(h, "</p>\n");
	if (b->support_url != NULL || b->support_phone != NULL) {
		g_string_append(h, "<footer>Help: ");
		if (b->support_url != NULL) {
			g_string_append(h, "<a href=\"");
			html_text(h, b->support_url);
			g_string_append(h, "\" rel=\"noreferrer\">");
			html_text(h, b->support_url);
			g_string_append(h, "</a>");
		}
		if (b->support_url != NULL && b->support_phone != NULL)
			g_string_append(h, " \xc2\xb7 ");
		if (b->support_phone != NULL)
			html_text(h, b->support_phone);
		g_string_append(h, "</footer>\n");
	}
	g_string_append(h, "</main>\n</body>\n</html>\n");
}

static char *page_html_new(const struct ll_page *pg, const struct page_view *v)
{
	GString *h = g_string_sized_new(8192);

	page_head(h, pg, v);
	g_string_append(h, "<h1>");
	html_brand_text(h, pg->brand, LL_BRAND_PIN_HEADING);
	g_string_append(h, "</h1>\n");
	if (v->org != NULL) {
		page_form(h, pg, v);
		page_result(h, pg, v);
	} else {
		g_string_append(h, "<p class=\"error\" role=\"alert\">");
		html_text(h, v->error);
		g_string_append(h, "</p>\n");
	}
	page_footer(h, pg);
	return g_string_free(h, FALSE);
}

/* Sets the answer to the page (status as given; the code stays). */
static void page_answer(struct ll_api_ctx *ctx, const struct page_view *v,
			int status)
{
	struct ll_api_response *resp = ctx->resp;
	struct ll_page *pg = page_get(ctx->relay);
	char *html;

	if (pg == NULL || (html = page_html_new(pg, v)) == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return;
	}
	json_decref(resp->body);
	resp->body = NULL;
	free(resp->raw_body);
	/* a plain malloc'd copy: the core frees raw_body with free() */
	resp->raw_body = strdup(html);
	if (v->pin != NULL)
		ll_wipe(html, strlen(html));
	g_free(html);
	if (resp->raw_body == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "out of memory");
		return;
	}
	resp->raw_len = 0;
	resp->content_type = "text/html; charset=utf-8";
	resp->csp = PAGE_CSP;
	resp->status = status;
}

/* ---- which org ---- */

/* The org a page route is for: its {org}, or for "/" the relay's only
 * org.  Fills 404 not_found and returns NULL when there is none.  The
 * name is the caller's (g_free). */
static char *page_org(struct ll_api_ctx *ctx)
{
	const char *name = ll_api_param(ctx, "org");
	char *stored = NULL, *out;
	int64_t id = 0;
	int r;

	if (name != NULL) {
		r = ll_store_org_find(ctx->relay->store, name, &id);
	} else if (ctx->n_params == 0) {
		r = ll_store_org_default(ctx->relay->store, &id);
		if (r == LL_OK)
			r = ll_store_org_name(ctx->relay->store, id, &stored);
		name = stored;
	} else {
		r = LL_ERR_NOT_FOUND;
	}
	if (r != LL_OK) {
		ll_api_fail(ctx,
			    r == LL_ERR_NOT_FOUND || r == LL_ERR_CONFLICT
				    ? LL_API_NOT_FOUND
				    : LL_API_INTERNAL,
			    "no such organisation page");
		free(stored);
		return NULL;
	}
	ctx->org_id = id;
	out = g_strdup(name);
	free(stored);
	return out;
}

void ll_api_page_refused(struct ll_api_ctx *ctx)
{
	const char *code = ll_api_code_name(ctx->resp->code);
	struct page_view v = { .error = words_for(code) };
	const char *name = ll_api_param(ctx, "org");
	char *stored = NULL;
	int64_t id;

	/* a form only for an org that exists */
	if (name != NULL &&
	    ll_store_org_find(ctx->relay->store, name, &id) == LL_OK) {
		v.org = name;
	} else if (ctx->n_params == 0 &&
		   ll_store_org_default(ctx->relay->store, &id) == LL_OK &&
		   ll_store_org_name(ctx->relay->store, id, &stored) ==
			   LL_OK) {
		v.org = stored;
	}
	v.download = ctx->relay->cfg.portable_applet != NULL;
	page_answer(ctx, &v, ctx->resp->status);
	free(stored);
}

/* ---- handlers ---- */

void ll_api_handle_page_default(struct ll_api_ctx *ctx)
{
	ll_api_handle_page(ctx);
}

void ll_api_handle_page(struct ll_api_ctx *ctx)
{
	struct page_view v = { 0 };
	char *org = page_org(ctx);

	if (org == NULL)
		return;
	v.org = org;
	v.download = ctx->relay->cfg.portable_applet != NULL;
	ctx->resp->code = LL_API_OK;
	page_answer(ctx, &v, 200);
	g_free(org);
}

static void page_file(struct ll_api_ctx *ctx, const void *data, size_t len,
		      const char *type, const char *csp)
{
	struct ll_api_response *resp = ctx->resp;
	char *org = page_org(ctx);

	if (org == NULL)
		return;
	g_free(org);
	if ((resp->raw_body = malloc(len > 0 ? len : 1)) == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "out of memory");
		return;
	}
	memcpy(resp->raw_body, data, len);
	resp->raw_len = len;
	resp->content_type = type;
	resp->csp = csp;
	resp->status = 200;
	resp->code = LL_API_OK;
}

void ll_api_handle_page_css(struct ll_api_ctx *ctx)
{
	struct ll_page *pg = page_get(ctx->relay);

	if (pg == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return;
	}
	page_file(ctx, pg->css, strlen(pg->css), "text/css; charset=utf-8",
		  NULL);
}

void ll_api_handle_page_js(struct ll_api_ctx *ctx)
{
	page_file(ctx, ll_page_js, ll_page_js_len,
		  "text/javascript; charset=utf-8", NULL);
}

void ll_api_handle_page_logo(struct ll_api_ctx *ctx)
{
	struct ll_page *pg = page_get(ctx->relay);

	if (pg == NULL || pg->logo == NULL) {
		ll_api_fail(ctx, LL_API_NOT_FOUND, "this page has no logo");
		return;
	}
	page_file(ctx, pg->logo, pg->logo_len, pg->logo_type, LOGO_CSP);
}

/* What the page's form posts: its one field, the PIN. */
static char *form_pin(struct ll_api_ctx *ctx)
{
	static const struct ll_form_field fields[] = {
		{ "pin", 64, true },
	};
	const struct ll_http_request *http = ctx->req->http;
	const char *ct = ll_http_request_header(http, "Content-Type");
	char *values[1] = { NULL };
	char why[160];

	if (ct == NULL ||
	    g_ascii_strncasecmp(ct, "application/x-www-form-urlencoded", 33) !=
		    0 ||
	    (ct[33] != '\0' && ct[33] != ';')) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST,
			    "the form must be application/x-www-form-"
			    "urlencoded");
		return NULL;
	}
	if (ll_form_parse(http->body, http->body_len, fields, 1, values, why,
			  sizeof(why)) != LL_OK) {
		ll_api_fail(ctx, LL_API_BAD_REQUEST, why);
		return NULL;
	}
	return values[0];
}

/* The page again, now with the next steps. */
static void page_post_then(struct ll_api_ctx *ctx, const struct ll_session *s,
			   const struct ll_technician *t, void *user)
{
	struct page_view *v = user;

	v->tech = t->username;
	v->launch = ll_api_launch_token_new(ctx, s);
	ctx->resp->code = LL_API_OK;
	page_answer(ctx, v, 200);
	ll_secret_free(v->launch);
	v->launch = NULL;
	ll_api_detail_set(ctx, "technician", json_string(t->username));
}

void ll_api_handle_page_post(struct ll_api_ctx *ctx)
{
	struct page_view v = { 0 };
	char *org, *pin = NULL;

	ll_api_detail_set(ctx, "via", json_string("page"));
	if ((org = page_org(ctx)) == NULL)
		return;
	/* 1. rate limit per source address, as redeem */
	if (ll_api_ratelimit_check(ctx, ctx->relay->rl_redeem) == 0 &&
	    (pin = form_pin(ctx)) != NULL) {
		v.org = org;
		v.pin = pin;
		v.download = ctx->relay->cfg.portable_applet != NULL;
		ll_api_pin_check(ctx, pin, org, page_post_then, &v);
	}
	if (pin != NULL)
		ll_form_values_free(&pin, 1);
	g_free(org);
}

void ll_api_page_check_answer(struct ll_api_ctx *ctx,
			      const struct ll_session *s,
			      const struct ll_technician *t, void *user)
{
	struct ll_relay *relay = ctx->relay;
	const char *org = t->org_name ? t->org_name : "";
	const char *const *pin = user; /* the PIN the caller checked */
	GString *dl = g_string_new(NULL);
	char *uri, *launch;

	org_path(dl, org);
	g_string_append(dl, "/applet");
	launch = ll_api_launch_token_new(ctx, s);
	uri = launch_uri_new(*pin, org, launch);
	ll_secret_free(launch);
	ctx->resp->body = json_pack("{s:s,s:s,s:b,s:s,s:o,s:{s:s,s:s}}", "org",
				    org, "launch_uri", uri, "download",
				    relay->cfg.portable_applet != NULL,
				    "download_path", dl->str, "expires_at",
				    ll_api_time_json(s->expires_at),
				    "technician", "name", t->username, "org",
				    org);
	ll_wipe(uri, strlen(uri));
	g_free(uri);
	g_string_free(dl, TRUE);
	if (ctx->resp->body == NULL) {
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return;
	}
	ctx->resp->status = 200;
	ctx->resp->code = LL_API_OK;
	ll_api_detail_set(ctx, "technician", json_string(t->username));
}

/* ---- the download ---- */

/* The file name offered: the configured file's, made harmless. */
static char *download_name(const char *path)
{
	char *base = g_path_get_basename(path), *p;

	for (p = base; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' &&
		    *p != '_')
			*p = '_';
	return base;
}

struct download {
	const char *pin;
	const char *org;
};

static void download_then(struct ll_api_ctx *ctx, const struct ll_session *s,
			  const struct ll_technician *t, void *user)
{
	const struct download *d = user;
	const char *path = ctx->relay->cfg.portable_applet;
	struct ll_api_response *resp = ctx->resp;
	char *name, hdr[256], *launch;
	size_t tlen = 0, flen;
	int r;
	uint8_t *body, *trailer = NULL;
	gchar *file = NULL;
	gsize n = 0;

	if (path == NULL) {
		ll_api_fail(ctx, LL_API_NOT_FOUND,
			    "this relay offers no applet download");
		return;
	}
	if (!g_file_get_contents(path, &file, &n, NULL) ||
	    n > (gsize)APPLET_MAX_BYTES) {
		ll_error("portable_applet %s: cannot be read", path);
		g_free(file);
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return;
	}
	/* a website-locked PIN's launch token, as the page's link has it: the
	 * download is started as the link would be */
	launch = ll_api_launch_token_new(ctx, s);
	r = ll_pin_trailer_make(d->pin, d->org, launch, &trailer, &tlen);
	ll_secret_free(launch);
	if (r != LL_OK) {
		g_free(file);
		ll_api_fail(ctx, LL_API_INTERNAL, "internal error");
		return;
	}
	flen = n;
	body = malloc(flen + tlen);
	if (body == NULL) {
		ll_secret_free((char *)trailer);
		g_free(file);
		ll_api_fail(ctx, LL_API_INTERNAL, "out of memory");
		return;
	}
	memcpy(body, file, flen);
	memcpy(body + flen, trailer, tlen);
	ll_secret_free((char *)trailer);
	g_free(file);

	resp->raw_body = (char *)body;
	resp->raw_len = flen + tlen;
	resp->content_type = "application/octet-stream";
	resp->status = 200;
	resp->code = LL_API_OK;
	name = download_name(path);
	snprintf(hdr, sizeof(hdr),
		 "Content-Disposition: attachment; filename=\"%s\"\r\n", name);
	g_free(name);
	ll_api_header_add(ctx, hdr);
	ll_api_detail_set(ctx, "technician", json_string(t->username));
}

void ll_api_handle_page_applet(struct ll_api_ctx *ctx)
{
	struct download d = { 0 };
	char *org, *pin = NULL;

	ll_api_detail_set(ctx, "via", json_string("download"));
	if ((org = page_org(ctx)) == NULL)
		return;
	if (ll_api_ratelimit_check(ctx, ctx->relay->rl_redeem) == 0 &&
	    (pin = form_pin(ctx)) != NULL) {
		d.pin = pin;
		d.org = org;
		ll_api_pin_check(ctx, pin, org, download_then, &d);
	}
	if (pin != NULL)
		ll_form_values_free(&pin, 1);
	g_free(org);
}
