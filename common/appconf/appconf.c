/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The signed applet configuration (ll_appconf.h): one table of fields
 * drives the parser and the writer, so what the relay writes is exactly
 * what the applet accepts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ll_appconf.h"
#include "ll_buf.h"
#include "ll_crypto.h"
#include "ll_util.h"

#define HEADER "lifeline-applet-config "
#define SIG_KEY "sig"

enum field_kind {
	F_URL,   /* https://HOST[:PORT] */
	F_PIN,   /* sha256//BASE64 (44 characters) */
	F_CA,    /* base64url DER */
	F_NAME,  /* org: printable ASCII, no blank at either end */
	F_SLUG,  /* brand: A-Z a-z 0-9 . _ - */
	F_TOKEN, /* channel: base64url alphabet */
	F_TIME,  /* decimal seconds since 1970 */
	F_KEY,   /* base64url of 32 bytes */
	F_HOSTS, /* relay_hosts: host names separated by ',' */
};

struct field {
	const char *name;
	enum field_kind kind;
	bool optional;
	size_t min, max; /* length of the value as written */
	size_t offset;   /* of its member in struct ll_appconf */
	int since;       /* the first version that has it */
};

#define FIELD(n, k, o, lo, hi, v)                                             \
	{                                                                     \
#n, k, o, lo, hi, offsetof(struct ll_appconf, n), v           \
	}

/*
 * The order is the format's; a line out of order is refused.  A field of
 * a later version than the text's is no line of that text at all (a
 * version 1 text with relay_hosts= is refused).
 */
static const struct field fields[] = {
	FIELD(relay_url, F_URL, false, 9, 300, 1),
	FIELD(relay_pin, F_PIN, false, 52, 52, 1),
	FIELD(relay_hosts, F_HOSTS, false, 1, LL_APPCONF_HOSTS_MAX, 2),
	FIELD(relay_ca, F_CA, true, 2, (LL_APPCONF_CA_MAX * 4 + 2) / 3, 1),
	FIELD(org, F_NAME, false, 1, 128, 1),
	FIELD(brand, F_SLUG, false, 1, 64, 1),
	FIELD(channel, F_TOKEN, true, 16, 256, 1),
	FIELD(created, F_TIME, false, 1, 18, 1),
	FIELD(sign_key, F_KEY, false, 43, 43, 1),
};

static void say(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static bool is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static bool all_of(const char *v, size_t n, bool (*ok)(char c))
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!ok(v[i]))
			return false;
	return true;
}

static bool is_host_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static bool is_v6_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

static bool is_slug_char(char c)
{
	return is_host_char(c) || c == '_';
}

static bool is_name_char(char c)
{
	return c >= 0x20 && c <= 0x7e;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_b64_char(char c)
{
	return is_b64url(c) || c == '+' || c == '/';
}

/* https://HOST[:PORT]: a DNS name or an [IPv6] or IPv4 literal, a port
 * 1..65535 without leading zeros, no path, no user, no query. */
static bool url_ok(const char *v, size_t n)
{
	const char *h, *end = v + n, *colon;
	size_t hn;
	long port = 0;

	if (n < 9 || memcmp(v, "https://", 8) != 0)
		return false;
	h = v + 8;
	if (*h == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));

		if (close == NULL || close == h + 1 ||
		    !all_of(h + 1, (size_t)(close - h - 1), is_v6_char))
			return false;
		colon = close + 1 < end ? close + 1 : NULL;
		if (colon != NULL && *colon != ':')
			return false;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hn = (size_t)((colon != NULL ? colon : end) - h);
		if (hn == 0 || hn > 253 || !all_of(h, hn, is_host_char) ||
		    h[0] == '.' || h[0] == '-')
			return false;
	}
	if (colon == NULL)
		return true;
	if (colon + 1 == end || colon[1] == '0' || end - colon - 1 > 5 ||
	    !all_of(colon + 1, (size_t)(end - colon - 1), is_digit))
		return false;
	for (h = colon + 1; h < end; h++)
		port = port * 10 + (*h - '0');
	return port >= 1 && port <= 65535;
}

static bool is_lower_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '.';
}

static bool is_lower_v6_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' ||
	       c == '.';
}

/* One entry of relay_hosts, in its one spelling: a lower-case DNS name
 * or IPv4 literal (no empty label, no trailing dot) or a lower-case
 * IPv6 literal without brackets. */
static bool host_entry_ok(const char *h, size_t n)
{
	size_t i;

	if (n == 0 || n > 253)
		return false;
	if (memchr(h, ':', n) != NULL)
		return n >= 2 && all_of(h, n, is_lower_v6_char);
	if (!all_of(h, n, is_lower_host_char) || h[0] == '.' || h[0] == '-' ||
	    h[n - 1] == '.')
		return false;
	for (i = 1; i < n; i++)
		if (h[i] == '.' && h[i - 1] == '.')
			return false;
	return true;
}

/* "H1,H2,...": 1 to LL_APPCONF_HOSTS_N entries, each host_entry_ok. */
static bool hosts_ok(const char *v, size_t n)
{
	const char *p = v, *end = v + n, *comma;
	size_t count = 0;

	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (!host_entry_ok(p, (size_t)((comma ? comma : end) - p)) ||
		    ++count > LL_APPCONF_HOSTS_N)
			return false;
		if (comma == NULL)
			return true;
		p = comma + 1;
	}
}

/* The value's rule, by kind; n is within the field's min..max. */
static bool value_ok(const struct field *f, const char *v, size_t n)
{
	switch (f->kind) {
	case F_URL:
		return url_ok(v, n);
	case F_PIN:
		return memcmp(v, "sha256//", 8) == 0 &&
		       all_of(v + 8, 43, is_b64_char) && v[51] == '=';
	case F_NAME:
		return all_of(v, n, is_name_char) && v[0] != ' ' &&
		       v[n - 1] != ' ';
	case F_SLUG:
		return all_of(v, n, is_slug_char);
	case F_TIME:
		return all_of(v, n, is_digit) && (v[0] != '0' || n == 1);
	case F_HOSTS:
		return hosts_ok(v, n);
	case F_CA:
	case F_TOKEN:
	case F_KEY:
		return all_of(v, n, is_b64url);
	}
	return false;
}

char *ll_appconf_url_host(const char *url)
{
	const char *h, *end;
	char *host;
	size_t i, n;

	if (url == NULL || !url_ok(url, strlen(url)))
		return NULL;
	h = url + strlen("https://");
	if (*h == '[') {
		h++;
		end = strchr(h, ']');
	} else if ((end = strchr(h, ':')) == NULL) {
		end = h + strlen(h);
	}
	n = (size_t)(end - h);
	if ((host = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		host[i] = h[i] >= 'A' && h[i] <= 'Z' ? (char)(h[i] + 32)
						     : h[i];
	host[n] = '\0';
	return host;
}

/* Whether host (n bytes, any case) is an entry of the list. */
static bool list_has(const char *list, const char *host, size_t n)
{
	const char *p = list, *comma;
	size_t len, i;

	while (p != NULL && *p != '\0') {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == n) {
			for (i = 0; i < n; i++) {
				char a = host[i] >= 'A' && host[i] <= 'Z'
						 ? (char)(host[i] + 32)
						 : host[i];
				if (a != p[i])
					break;
			}
			if (i == n)
				return true;
		}
		p = comma != NULL ? comma + 1 : NULL;
	}
	return false;
}

bool ll_appconf_hosts_list_has(const char *list, const char *host)
{
	size_t n;

	if (list == NULL || host == NULL)
		return false;
	n = strlen(host);
	/* "[::1]" as a URL spells it is the entry "::1" */
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
		return list_has(list, host + 1, n - 2);
	return list_has(list, host, n);
}

bool ll_appconf_host_listed(const struct ll_appconf *c, const char *host)
{
	return c != NULL && ll_appconf_hosts_list_has(c->relay_hosts, host);
}

void ll_appconf_clear(struct ll_appconf *c)
{
	if (c == NULL)
		return;
	free(c->relay_url);
	free(c->relay_pin);
	free(c->relay_hosts);
	free(c->relay_ca);
	free(c->org);
	free(c->brand);
	ll_secret_free(c->channel);
	memset(c, 0, sizeof(*c));
}

/* Stores a checked value into its member of c. */
static int store_value(const struct field *f, const char *v, size_t n,
		       struct ll_appconf *c, char *why, size_t whylen)
{
	char *text, **member;
	size_t got = 0;
	int r;

	if ((text = malloc(n + 1)) == NULL)
		return LL_ERR_NOMEM;
	memcpy(text, v, n);
	text[n] = '\0';
	switch (f->kind) {
	case F_TIME: {
		int64_t t = 0;
		size_t i;

		for (i = 0; i < n; i++)
			t = t * 10 + (text[i] - '0');
		c->created = t;
		free(text);
		return LL_OK;
	}
	case F_KEY:
		r = ll_base64url_decode(text, c->sign_key, sizeof(c->sign_key),
					&got);
		free(text);
		if (r != LL_OK || got != sizeof(c->sign_key)) {
			say(why, whylen, "sign_key is not a 32-byte key");
			return LL_ERR_MALFORMED;
		}
		return LL_OK;
	case F_CA:
		if ((c->relay_ca = malloc(n)) == NULL) {
			free(text);
			return LL_ERR_NOMEM;
		}
		r = ll_base64url_decode(text, c->relay_ca, n, &got);
		free(text);
		if (r != LL_OK || got == 0 || got > LL_APPCONF_CA_MAX) {
			say(why, whylen, "relay_ca is not base64url");
			return LL_ERR_MALFORMED;
		}
		c->relay_ca_len = got;
		return LL_OK;
	default:
		member = (char **)((char *)c + f->offset);
		*member = text;
		return LL_OK;
	}
}

/* One line of the view, without its LF; LL_ERR_TRUNCATED without LF. */
static int get_line(struct ll_buf_view *v, const char **line, size_t *n)
{
	const uint8_t *p, *lf;
	size_t rest = ll_view_remaining(v);
	int r;

	if (rest == 0)
		return LL_ERR_TRUNCATED;
	if ((r = ll_view_get_ptr(v, 0, &p)) != LL_OK)
		return r;
	if ((lf = memchr(p, '\n', rest)) == NULL)
		return LL_ERR_TRUNCATED;
	*n = (size_t)(lf - p);
	*line = (const char *)p;
	return ll_view_get_ptr(v, *n + 1, &p);
}

/* "KEY=VALUE": KEY must be name. */
static bool split(const char *line, size_t n, const char *name,
		  const char **value, size_t *vn)
{
	size_t kn = strlen(name);

	if (n <= kn || memcmp(line, name, kn) != 0 || line[kn] != '=')
		return false;
	*value = line + kn + 1;
	*vn = n - kn - 1;
	return true;
}

static int parse_header(struct ll_buf_view *v, int *version, char *why,
			size_t whylen)
{
	const char *line;
	size_t n, hn = strlen(HEADER);
	int r;

	if ((r = get_line(v, &line, &n)) != LL_OK) {
		say(why, whylen,
		    "it is not a Lifeline applet configuration "
		    "(no first line)");
		return r == LL_ERR_TRUNCATED ? LL_ERR_MALFORMED : r;
	}
	if (n <= hn || memcmp(line, HEADER, hn) != 0) {
		say(why, whylen,
		    "it is not a Lifeline applet configuration (its first "
		    "line is not \"" HEADER "%d\")",
		    LL_APPCONF_VERSION);
		return LL_ERR_MALFORMED;
	}
	if (n != hn + 1 || line[hn] < '1' ||
	    line[hn] > '0' + LL_APPCONF_VERSION) {
		say(why, whylen,
		    "it is a configuration of another version (%.*s) than "
		    "this applet reads (1 to %d)",
		    (int)(n - hn > 16 ? 16 : n - hn), line + hn,
		    LL_APPCONF_VERSION);
		return LL_ERR_BAD_VERSION;
	}
	*version = line[hn] - '0';
	return LL_OK;
}

static int parse_fields(struct ll_buf_view *v, int version,
			struct ll_appconf *c, const char **line, size_t *n,
			char *why, size_t whylen)
{
	size_t i = 0, vn;
	const char *val;
	int r;

	if ((r = get_line(v, line, n)) != LL_OK)
		goto truncated;
	for (i = 0; i < LL_ARRAY_SIZE(fields); i++) {
		const struct field *f = &fields[i];

		if (f->since > version)
			continue;
		if (!split(*line, *n, f->name, &val, &vn)) {
			if (f->optional)
				continue;
			say(why, whylen, "line %zu: expected %s=", i + 2,
			    f->name);
			return LL_ERR_MALFORMED;
		}
		if (vn < f->min || vn > f->max || !value_ok(f, val, vn)) {
			say(why, whylen, "%s has a value this format refuses",
			    f->name);
			return LL_ERR_MALFORMED;
		}
		if ((r = store_value(f, val, vn, c, why, whylen)) != LL_OK)
			return r;
		if ((r = get_line(v, line, n)) != LL_OK)
			goto truncated;
	}
	return LL_OK;
truncated:
	say(why, whylen, "it is cut short (no signature)");
	return LL_ERR_TRUNCATED;
}

/*
 * relay_hosts of a version 1 text: its URL's host alone.  Then, of every
 * version: the URL's own host must be listed, or the configuration
 * would contradict itself.
 */
static int check_hosts(struct ll_appconf *c, char *why, size_t whylen)
{
	char *host = ll_appconf_url_host(c->relay_url);
	int r = LL_OK;

	if (host == NULL)
		return LL_ERR_NOMEM;
	if (c->relay_hosts == NULL && (c->relay_hosts = strdup(host)) == NULL)
		r = LL_ERR_NOMEM;
	else if (!ll_appconf_host_listed(c, host)) {
		say(why, whylen,
		    "relay_url's host %s is not one of its relay_hosts", host);
		r = LL_ERR_MALFORMED;
	}
	free(host);
	return r;
}

int ll_appconf_parse(const void *data, size_t len, struct ll_appconf *out,
		     char *why, size_t whylen)
{
	struct ll_appconf c = { 0 };
	struct ll_buf_view v;
	uint8_t sig[LL_ED25519_SIG_LEN];
	char sigtext[LL_ED25519_SIG_LEN * 2];
	const char *line = NULL, *val;
	size_t n = 0, vn, signed_len, got = 0;
	int r, version = 0;

	if (data == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	if (len > LL_APPCONF_MAX) {
		say(why, whylen, "it is larger than %d bytes", LL_APPCONF_MAX);
		return LL_ERR_TOO_LARGE;
	}
	ll_buf_view_init(&v, data, len);
	if ((r = parse_header(&v, &version, why, whylen)) != LL_OK ||
	    (r = parse_fields(&v, version, &c, &line, &n, why, whylen)) !=
		    LL_OK ||
	    (r = check_hosts(&c, why, whylen)) != LL_OK)
		goto out;
	/* Signed: every byte before the sig line. */
	signed_len = (size_t)(line - (const char *)data);
	if (!split(line, n, SIG_KEY, &val, &vn)) {
		say(why, whylen, "expected sig= after sign_key=");
		r = LL_ERR_MALFORMED;
		goto out;
	}
	if (vn != 86 || !all_of(val, vn, is_b64url)) {
		say(why, whylen, "sig is not a 64-byte signature");
		r = LL_ERR_MALFORMED;
		goto out;
	}
	memcpy(sigtext, val, vn);
	sigtext[vn] = '\0';
	if (ll_base64url_decode(sigtext, sig, sizeof(sig), &got) != LL_OK ||
	    got != sizeof(sig)) {
		say(why, whylen, "sig is not a 64-byte signature");
		r = LL_ERR_MALFORMED;
		goto out;
	}
	if (ll_view_remaining(&v) != 0) {
		say(why, whylen, "something follows its signature");
		r = LL_ERR_MALFORMED;
		goto out;
	}
	r = ll_ed25519_verify(c.sign_key, data, signed_len, sig);
	if (r == LL_ERR_AUTH_FAILED)
		say(why, whylen,
		    "its signature does not match: it was "
		    "altered after it was made");
	else if (r != LL_OK)
		say(why, whylen, "its signature cannot be checked (%s)",
		    ll_strerror(r));
	if (r != LL_OK)
		goto out;
	*out = c;
	memset(&c, 0, sizeof(c));
out:
	ll_appconf_clear(&c);
	return r;
}

bool ll_appconf_signed_by(const struct ll_appconf *c,
			  const uint8_t pub[LL_APPCONF_KEY_LEN])
{
	return c != NULL && pub != NULL &&
	       ll_ct_equal(c->sign_key, pub, LL_APPCONF_KEY_LEN);
}

/* The text of one field of c, or NULL when c has none (malloc'd). */
static char *field_text(const struct field *f, const struct ll_appconf *c,
			const uint8_t pub[LL_APPCONF_KEY_LEN])
{
	char num[24];

	switch (f->kind) {
	case F_TIME:
		snprintf(num, sizeof(num), "%lld", (long long)c->created);
		return strdup(num);
	case F_KEY:
		return ll_base64url_new(pub, LL_APPCONF_KEY_LEN);
	case F_CA:
		return c->relay_ca == NULL ? NULL
					   : ll_base64url_new(c->relay_ca,
							      c->relay_ca_len);
	case F_HOSTS: /* none given: the URL's host alone */
		return c->relay_hosts != NULL
			       ? strdup(c->relay_hosts)
			       : ll_appconf_url_host(c->relay_url);
	default: {
		const char *s = *(char *const *)((const char *)c + f->offset);

		return s != NULL ? strdup(s) : NULL;
	}
	}
}

/* The host of c's URL into buf ("" when the URL is refused: the
 * URL's own line says why). */
static const char *url_host_of(const struct ll_appconf *c, char buf[256])
{
	char *h = ll_appconf_url_host(c->relay_url);

	snprintf(buf, 256, "%s", h != NULL ? h : "");
	free(h);
	return buf;
}

static int format_fields(struct ll_buf *b, const struct ll_appconf *c,
			 const uint8_t pub[LL_APPCONF_KEY_LEN], char *why,
			 size_t whylen)
{
	size_t i, n;
	char *t, hbuf[256];
	int r = LL_OK;

	for (i = 0; i < LL_ARRAY_SIZE(fields) && r == LL_OK; i++) {
		const struct field *f = &fields[i];

		if ((t = field_text(f, c, pub)) == NULL) {
			if (f->optional && (f->kind != F_CA || !c->relay_ca))
				continue;
			say(why, whylen, "no %s", f->name);
			return LL_ERR_INVALID_ARG;
		}
		n = strlen(t);
		if (n < f->min || n > f->max || !value_ok(f, t, n) ||
		    (f->kind == F_TIME && c->created <= 0)) {
			say(why, whylen, "%s '%s' is not allowed here",
			    f->name,
			    f->kind == F_TOKEN || f->kind == F_CA ? "..." : t);
			r = LL_ERR_INVALID_ARG;
		} else if (f->kind == F_HOSTS &&
			   !ll_appconf_hosts_list_has(t,
						      url_host_of(c, hbuf))) {
			say(why, whylen,
			    "relay_hosts '%s' does not name %s, the host of "
			    "relay_url",
			    t, hbuf);
			r = LL_ERR_INVALID_ARG;
		} else {
			r = ll_buf_putf(b, "%s=%s\n", f->name, t);
		}
		ll_secret_free(t);
	}
	return r;
}

int ll_appconf_format(const struct ll_appconf *c,
		      const uint8_t priv[LL_APPCONF_KEY_LEN], char **out,
		      size_t *out_len, char *why, size_t whylen)
{
	uint8_t pub[LL_APPCONF_KEY_LEN], sig[LL_ED25519_SIG_LEN];
	struct ll_buf *b;
	char *sigtext = NULL, *text;
	size_t len;
	int r;

	if (c == NULL || priv == NULL || out == NULL || out_len == NULL)
		return LL_ERR_INVALID_ARG;
	if ((b = ll_buf_new(LL_APPCONF_MAX)) == NULL)
		return LL_ERR_NOMEM;
	if ((r = ll_ed25519_public(priv, pub)) != LL_OK ||
	    (r = ll_buf_putf(b, HEADER "%d\n", LL_APPCONF_VERSION)) != LL_OK ||
	    (r = format_fields(b, c, pub, why, whylen)) != LL_OK ||
	    (r = ll_ed25519_sign(priv, ll_buf_data(b), ll_buf_len(b), sig)) !=
		    LL_OK)
		goto out;
	if ((sigtext = ll_base64url_new(sig, sizeof(sig))) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	if ((r = ll_buf_putf(b, SIG_KEY "=%s\n", sigtext)) != LL_OK ||
	    (r = ll_buf_put_u8(b, 0)) != LL_OK)
		goto out;
	len = ll_buf_len(b) - 1;
	if ((text = malloc(len + 1)) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	memcpy(text, ll_buf_data(b), len + 1);
	*out = text;
	*out_len = len;
out:
	if (r == LL_ERR_TOO_LARGE)
		say(why, whylen,
		    "the configuration would be larger than %d "
		    "bytes",
		    LL_APPCONF_MAX);
	free(sigtext);
	ll_buf_free(b);
	return r;
}

/*
 * Both trailers end the same way: the length of what they carry as a
 * 4-byte big-endian integer, then 8 bytes of magic.
 */
static void tail_make(size_t len, const char *magic, uint8_t out[12])
{
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	memcpy(out + 4, magic, 8);
}

/* The length the 12 bytes at tail announce, checked against max and
 * against the file they end (file_size bytes). */
static int tail_parse(const uint8_t tail[12], const char *magic,
		      uint64_t file_size, size_t max, size_t *len)
{
	struct ll_buf_view v;
	uint32_t n;

	if (file_size < 12 || memcmp(tail + 4, magic, 8) != 0)
		return LL_ERR_NOT_FOUND;
	ll_buf_view_init(&v, tail, 4);
	if (ll_view_get_u32(&v, &n) != LL_OK)
		return LL_ERR_INTERNAL;
	if (n == 0 || n > max || n > file_size - 12)
		return LL_ERR_MALFORMED;
	*len = n;
	return LL_OK;
}

int ll_appconf_trailer_make(size_t cfg_len,
			    uint8_t out[LL_APPCONF_TRAILER_LEN])
{
	if (out == NULL || cfg_len == 0 || cfg_len > LL_APPCONF_MAX)
		return LL_ERR_INVALID_ARG;
	tail_make(cfg_len, LL_APPCONF_MAGIC, out);
	return LL_OK;
}

int ll_appconf_trailer_parse(const uint8_t tail[LL_APPCONF_TRAILER_LEN],
			     uint64_t file_size, size_t *cfg_len)
{
	if (tail == NULL || cfg_len == NULL)
		return LL_ERR_INVALID_ARG;
	return tail_parse(tail, LL_APPCONF_MAGIC, file_size, LL_APPCONF_MAX,
			  cfg_len);
}

/* An org name as a link or a PIN trailer may carry it. */
static bool pin_org_ok(const char *org, size_t n)
{
	size_t i;

	if (n == 0 || n > 128)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)org[i] < 0x20 || org[i] == 0x7f)
			return false;
	return true;
}

/* A launch token as the PIN page makes it: 64 lower-case hex digits. */
static bool launch_ok(const char *v)
{
	return v != NULL && strlen(v) == LL_PIN_TRAILER_LAUNCH_LEN &&
	       strspn(v, "0123456789abcdef") == LL_PIN_TRAILER_LAUNCH_LEN;
}

int ll_pin_trailer_make(const char *pin, const char *org, const char *launch,
			uint8_t **out, size_t *out_len)
{
	size_t plen;
	char *payload;
	uint8_t *buf;

	if (pin == NULL || org == NULL || out == NULL || out_len == NULL ||
	    !ll_pin_well_formed(pin) || !pin_org_ok(org, strlen(org)) ||
	    (launch != NULL && !launch_ok(launch)))
		return LL_ERR_INVALID_ARG;
	plen = strlen("pin=\norg=\n") + strlen(pin) + strlen(org);
	if (launch != NULL)
		plen += strlen("launch=\n") + LL_PIN_TRAILER_LAUNCH_LEN;
	if (plen > LL_PIN_TRAILER_MAX)
		return LL_ERR_INVALID_ARG;
	if ((buf = malloc(plen + LL_PIN_TRAILER_TAIL + 1)) == NULL)
		return LL_ERR_NOMEM;
	payload = (char *)buf;
	payload = mempcpy(payload, "pin=", 4);
	payload = mempcpy(payload, pin, strlen(pin));
	payload = mempcpy(payload, "\norg=", 5);
	payload = mempcpy(payload, org, strlen(org));
	payload = mempcpy(payload, "\n", 1);
	if (launch != NULL) {
		payload = mempcpy(payload, "launch=", 7);
		payload = mempcpy(payload, launch, LL_PIN_TRAILER_LAUNCH_LEN);
		payload = mempcpy(payload, "\n", 1);
	}
	tail_make(plen, LL_PIN_TRAILER_MAGIC, buf + plen);
	buf[plen + LL_PIN_TRAILER_TAIL] = '\0'; /* for ll_secret_free */
	*out = buf;
	*out_len = plen + LL_PIN_TRAILER_TAIL;
	return LL_OK;
}

/* One "KEY=VALUE\n" line of the payload at *p (before end) whose key is
 * key: the value, malloc'd; NULL when it is not that line. */
static char *pin_line(const char **p, const char *end, const char *key)
{
	size_t k = strlen(key);
	const char *nl;
	char *v;

	if ((size_t)(end - *p) <= k || memcmp(*p, key, k) != 0 ||
	    (*p)[k] != '=' ||
	    (nl = memchr(*p + k + 1, '\n', (size_t)(end - *p - k - 1))) ==
		    NULL)
		return NULL;
	v = strndup(*p + k + 1, (size_t)(nl - *p - k - 1));
	*p = nl + 1;
	return v;
}

int ll_pin_trailer_parse(const uint8_t *tail, size_t n, uint64_t file_size,
			 char **pin, char **org, char **launch,
			 size_t *trailer_len)
{
	const char *p, *end;
	char *pv = NULL, *ov = NULL, *lv = NULL;
	size_t len;
	int r;

	if (tail == NULL || pin == NULL || org == NULL || launch == NULL ||
	    trailer_len == NULL || n > file_size)
		return LL_ERR_INVALID_ARG;
	if (n < LL_PIN_TRAILER_TAIL)
		return LL_ERR_NOT_FOUND;
	r = tail_parse(tail + n - LL_PIN_TRAILER_TAIL, LL_PIN_TRAILER_MAGIC,
		       file_size, LL_PIN_TRAILER_MAX, &len);
	if (r != LL_OK)
		return r;
	if (len > n - LL_PIN_TRAILER_TAIL)
		return LL_ERR_MALFORMED; /* the caller read too little */
	end = (const char *)tail + n - LL_PIN_TRAILER_TAIL;
	p = end - len;
	if (memchr(p, '\0', len) != NULL ||
	    (pv = pin_line(&p, end, "pin")) == NULL ||
	    (ov = pin_line(&p, end, "org")) == NULL ||
	    (p != end && (lv = pin_line(&p, end, "launch")) == NULL) ||
	    p != end || !ll_pin_well_formed(pv) ||
	    !pin_org_ok(ov, strlen(ov)) || (lv != NULL && !launch_ok(lv))) {
		if (pv != NULL)
			ll_secret_free(pv);
		if (lv != NULL)
			ll_secret_free(lv);
		free(ov);
		return LL_ERR_MALFORMED;
	}
	*pin = pv;
	*org = ov;
	*launch = lv;
	*trailer_len = len + LL_PIN_TRAILER_TAIL;
	return LL_OK;
}

char *ll_appconf_ca_pem_new(const struct ll_appconf *c)
{
	static const char head[] = "-----BEGIN CERTIFICATE-----\n";
	static const char tail[] = "-----END CERTIFICATE-----\n";
	char *b64, *pem, *p;
	size_t n, padded, i, size;

	if (c == NULL || c->relay_ca == NULL)
		return NULL;
	if ((b64 = ll_base64url_new(c->relay_ca, c->relay_ca_len)) == NULL)
		return NULL;
	n = strlen(b64);
	padded = (n + 3) / 4 * 4;
	/* PEM is base64 with padding, in lines of 64. */
	size = sizeof(head) + padded + padded / 64 + 1 + sizeof(tail);
	if ((pem = malloc(size)) == NULL) {
		free(b64);
		return NULL;
	}
	p = pem + snprintf(pem, size, "%s", head);
	for (i = 0; i < padded; i++) {
		char ch = i >= n ? '=' : b64[i];

		*p++ = ch == '-' ? '+' : ch == '_' ? '/' : ch;
		if (i % 64 == 63 || i + 1 == padded)
			*p++ = '\n';
	}
	snprintf(p, size - (size_t)(p - pem), "%s", tail);
	free(b64);
	return pem;
}
