/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The signed applet configuration (common/appconf): format, parse,
 * signature, trailer. */
#include <string.h>

#include <glib.h>

#include "ll_appconf.h"
#include "ll_crypto.h"
#include "ll_err.h"

static uint8_t priv[32], pub[32];

static void sample(struct ll_appconf *c, bool optional)
{
	static const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

	memset(c, 0, sizeof(*c));
	c->relay_url = g_strdup("https://relay.example.com:8443");
	c->relay_pin = g_strdup(
		"sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	c->org = g_strdup("acme");
	c->brand = g_strdup("example-corp");
	c->created = 1767225600;
	if (optional) {
		c->channel = g_strdup("Zm9vYmFyYmF6cXV4cXV1eHF1dXg");
		c->relay_ca = g_memdup2(der, sizeof(der));
		c->relay_ca_len = sizeof(der);
	}
}

/* A signed text (g_free) from the sample. */
static char *make(bool optional, size_t *len)
{
	struct ll_appconf c;
	char *text = NULL, *copy, why[200] = "";

	sample(&c, optional);
	g_assert_cmpint(ll_appconf_format(&c, priv, &text, len, why,
					  sizeof(why)),
			==, LL_OK);
	ll_appconf_clear(&c);
	copy = g_strndup(text, *len);
	ll_secret_free(text);
	return copy;
}

static int parse(const char *text, size_t len, struct ll_appconf *out,
		 char *why)
{
	return ll_appconf_parse(text, len, out, why, 200);
}

static void test_roundtrip(void)
{
	struct ll_appconf c = { 0 };
	char why[200], *pem;
	size_t len;
	char *text = make(true, &len);

	g_assert_true(g_str_has_prefix(text, "lifeline-applet-config 2\n"));
	/* no relay_hosts given: the URL's host alone */
	g_assert_nonnull(strstr(text, "\nrelay_hosts=relay.example.com\n"));
	g_assert_cmpint(parse(text, len, &c, why), ==, LL_OK);
	g_assert_cmpstr(c.relay_url, ==, "https://relay.example.com:8443");
	g_assert_cmpstr(c.relay_hosts, ==, "relay.example.com");
	g_assert_cmpstr(c.org, ==, "acme");
	g_assert_cmpstr(c.brand, ==, "example-corp");
	g_assert_cmpstr(c.channel, ==, "Zm9vYmFyYmF6cXV4cXV1eHF1dXg");
	g_assert_cmpint(c.created, ==, 1767225600);
	g_assert_cmpuint(c.relay_ca_len, ==, 5);
	g_assert_true(ll_appconf_signed_by(&c, pub));
	pem = ll_appconf_ca_pem_new(&c);
	g_assert_cmpstr(pem, ==,
			"-----BEGIN CERTIFICATE-----\nMAMCAQE=\n"
			"-----END CERTIFICATE-----\n");
	free(pem);
	ll_appconf_clear(&c);
	g_free(text);

	/* Without the optional fields. */
	text = make(false, &len);
	g_assert_null(strstr(text, "channel="));
	g_assert_cmpint(parse(text, len, &c, why), ==, LL_OK);
	g_assert_null(c.channel);
	g_assert_null(c.relay_ca);
	ll_appconf_clear(&c);
	g_free(text);
}

/* Every single byte changed anywhere: refused, never accepted. */
static void test_tampered_byte(void)
{
	struct ll_appconf c = { 0 };
	char why[200];
	size_t len, i;
	char *text = make(true, &len);

	for (i = 0; i < len; i++) {
		char saved = text[i];
		int r;

		text[i] = (char)(saved ^ 0x01);
		r = parse(text, len, &c, why);
		g_assert_cmpint(r, !=, LL_OK);
		text[i] = saved;
	}
	/* A value changed by hand into another valid value: signature. */
	{
		char *p = strstr(text, "org=acme");

		p[4] = 'b';
		g_assert_cmpint(parse(text, len, &c, why), ==,
				LL_ERR_AUTH_FAILED);
		g_assert_nonnull(strstr(why, "altered"));
	}
	g_free(text);
}

static void test_foreign_key(void)
{
	struct ll_appconf c = { 0 };
	uint8_t other_priv[32], other_pub[32];
	char why[200];
	size_t len;
	char *text = make(false, &len);

	g_assert_cmpint(ll_ed25519_keygen(other_priv, other_pub), ==, LL_OK);
	g_assert_cmpint(parse(text, len, &c, why), ==, LL_OK);
	g_assert_true(ll_appconf_signed_by(&c, pub));
	g_assert_false(ll_appconf_signed_by(&c, other_pub));
	ll_appconf_clear(&c);
	g_free(text);
}

static void test_truncated(void)
{
	struct ll_appconf c = { 0 };
	char why[200];
	size_t len, n;
	char *text = make(true, &len);

	for (n = 0; n < len; n++)
		g_assert_cmpint(parse(text, n, &c, why), !=, LL_OK);
	g_assert_cmpint(parse(text, len - 1, &c, why), ==, LL_ERR_TRUNCATED);
	g_free(text);
}

static void test_version(void)
{
	struct ll_appconf c = { 0 };
	char why[200];
	size_t len;
	char *text = make(false, &len);

	text[strlen("lifeline-applet-config ")] = '3';
	g_assert_cmpint(parse(text, len, &c, why), ==, LL_ERR_BAD_VERSION);
	g_assert_nonnull(strstr(why, "another version"));
	g_free(text);
	g_assert_cmpint(parse("hello\n", 6, &c, why), ==, LL_ERR_MALFORMED);
	g_assert_nonnull(strstr(why, "not a Lifeline applet configuration"));
}

static void test_trailing_garbage(void)
{
	struct ll_appconf c = { 0 };
	char why[200];
	size_t len;
	char *text = make(false, &len);
	char *more = g_strconcat(text, "x\n", NULL);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	char *crlf;

	g_assert_cmpint(parse(more, len + 2, &c, why), ==, LL_ERR_MALFORMED);
	g_assert_nonnull(strstr(why, "follows its signature"));
	/* A NUL inside: the length says it is there. */
	g_assert_cmpint(parse(text, len + 1, &c, why), ==, LL_ERR_MALFORMED);
	/* CRLF line ends are another text. */
	crlf = g_strjoinv("\r\n", lines);
	g_assert_cmpint(parse(crlf, strlen(crlf), &c, why), !=, LL_OK);
	g_free(crlf);
	g_free(more);
	g_free(text);
}

/* What the writer refuses: values the parser would refuse. */
static void test_format_refuses(void)
{
	static const struct {
		size_t off;
		const char *value;
	} bad[] = {
		{ offsetof(struct ll_appconf, relay_url), "http://x" },
		{ offsetof(struct ll_appconf, relay_url), "https://h/path" },
		{ offsetof(struct ll_appconf, relay_url), "https://h:0" },
		{ offsetof(struct ll_appconf, relay_url), "https://h:65536" },
		{ offsetof(struct ll_appconf, relay_pin), "sha256//short=" },
		{ offsetof(struct ll_appconf, org), "" },
		{ offsetof(struct ll_appconf, org), "a\nb" },
		{ offsetof(struct ll_appconf, brand), "no spaces" },
		{ offsetof(struct ll_appconf, channel), "short" },
	};
	char why[200], *text = NULL;
	size_t i, len;

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct ll_appconf c;
		char **m;

		sample(&c, false);
		m = (char **)((char *)&c + bad[i].off);
		g_free(*m);
		*m = g_strdup(bad[i].value);
		why[0] = '\0';
		g_assert_cmpint(ll_appconf_format(&c, priv, &text, &len, why,
						  sizeof(why)),
				==, LL_ERR_INVALID_ARG);
		g_assert_cmpstr(why, !=, "");
		ll_appconf_clear(&c);
	}
}

static void test_accepts_urls(void)
{
	static const char *const good[] = {
		"https://localhost",
		"https://127.0.0.1:8443",
		"https://[::1]:8443",
		"https://relay.example.com",
	};
	size_t i, len;

	for (i = 0; i < G_N_ELEMENTS(good); i++) {
		struct ll_appconf c, back = { 0 };
		char why[200], *text = NULL;

		sample(&c, false);
		g_free(c.relay_url);
		c.relay_url = g_strdup(good[i]);
		g_assert_cmpint(ll_appconf_format(&c, priv, &text, &len, why,
						  sizeof(why)),
				==, LL_OK);
		g_assert_cmpint(parse(text, len, &back, why), ==, LL_OK);
		g_assert_cmpstr(back.relay_url, ==, good[i]);
		ll_appconf_clear(&back);
		ll_appconf_clear(&c);
		ll_secret_free(text);
	}
}

static void test_trailer(void)
{
	uint8_t t[LL_APPCONF_TRAILER_LEN];
	size_t n = 0;

	g_assert_cmpint(ll_appconf_trailer_make(700, t), ==, LL_OK);
	g_assert_cmpmem(t + 4, 8, LL_APPCONF_MAGIC, 8);
	g_assert_cmpint(ll_appconf_trailer_parse(t, 100000, &n), ==, LL_OK);
	g_assert_cmpuint(n, ==, 700);
	/* Longer than the file before the trailer. */
	g_assert_cmpint(ll_appconf_trailer_parse(t, 700 + 11, &n), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_appconf_trailer_parse(t, 700 + 12, &n), ==, LL_OK);
	/* No magic: an applet without a trailer. */
	t[11] ^= 1;
	g_assert_cmpint(ll_appconf_trailer_parse(t, 100000, &n), ==,
			LL_ERR_NOT_FOUND);
	/* Length 0 and over the cap. */
	g_assert_cmpint(ll_appconf_trailer_make(0, t), ==, LL_ERR_INVALID_ARG);
	memset(t, 0, 4);
	memcpy(t + 4, LL_APPCONF_MAGIC, 8);
	g_assert_cmpint(ll_appconf_trailer_parse(t, 100000, &n), ==,
			LL_ERR_MALFORMED);
	t[1] = 0x01; /* 65536 */
	g_assert_cmpint(ll_appconf_trailer_parse(t, 1000000, &n), ==,
			LL_ERR_MALFORMED);
}

/* Parses the PIN trailer at the end of file[0..n), read whole. */
static char *last_launch; /* what the last pin_parse found */

static int pin_parse(const uint8_t *file, size_t n, char **pin, char **org,
		     size_t *tlen)
{
	g_clear_pointer(&last_launch, ll_secret_free);
	return ll_pin_trailer_parse(file, n, n, pin, org, &last_launch, tlen);
}

/* The PIN page's download trailer: made, read back after a binary, and
 * every damage refused as malformed, never taken. */
static void test_pin_trailer(void)
{
	static const char bin[] = "\x7f"
				  "ELF....binary";
	uint8_t *t = NULL, file[512];
	char *pin = NULL, *org = NULL, *long_org;
	size_t tlen = 0, got = 0, i, n;

	g_assert_cmpint(ll_pin_trailer_make("0123456789", "acme corp", NULL,
					    &t, &tlen),
			==, LL_OK);
	memcpy(file, bin, sizeof(bin));
	memcpy(file + sizeof(bin), t, tlen);
	n = sizeof(bin) + tlen;
	g_assert_cmpint(pin_parse(file, n, &pin, &org, &got), ==, LL_OK);
	g_assert_cmpstr(pin, ==, "0123456789");
	g_assert_cmpstr(org, ==, "acme corp");
	g_assert_cmpuint(got, ==, tlen);
	g_assert_null(last_launch);
	ll_secret_free(pin);
	g_free(org);

	/* no trailer at all */
	g_assert_cmpint(pin_parse(file, sizeof(bin), &pin, &org, &got), ==,
			LL_ERR_NOT_FOUND);
	/* each byte of its frame (keys, line ends, length) changed:
	 * refused; a changed digit is just another PIN */
	{
		const size_t p0 = sizeof(bin), end = n - 12;
		const size_t at[] = { p0,      p0 + 1,  p0 + 2,  p0 + 3,
				      p0 + 14, p0 + 15, p0 + 18, end - 1,
				      end,     end + 1, end + 2, end + 3 };

		for (i = 0; i < G_N_ELEMENTS(at); i++) {
			file[at[i]] ^= 0x01;
			g_assert_cmpint(pin_parse(file, n, &pin, &org, &got),
					==, LL_ERR_MALFORMED);
			file[at[i]] ^= 0x01;
		}
	}
	/* cut short: the length runs past the start of what was read */
	g_assert_cmpint(ll_pin_trailer_parse(file + n - 14, 14, n, &pin, &org,
					     &last_launch, &got),
			==, LL_ERR_MALFORMED);

	/* what the maker refuses, the parser would too */
	g_assert_cmpint(ll_pin_trailer_make("12345", "acme", NULL, &t, &tlen),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_pin_trailer_make("123456", "a\nb", NULL, &t, &tlen),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_pin_trailer_make("123456", "", NULL, &t, &tlen), ==,
			LL_ERR_INVALID_ARG);
	long_org = g_strnfill(129, 'o');
	g_assert_cmpint(ll_pin_trailer_make("123456", long_org, NULL, &t,
					    &tlen),
			==, LL_ERR_INVALID_ARG);
	g_free(long_org);
	ll_secret_free((char *)t);
}

/* The download of a website-locked PIN: the launch token in the trailer,
 * read back; a token of another form refused by both sides. */
static void test_pin_trailer_launch(void)
{
	static const char bin[] = "ELF";
	char tok[65], *pin = NULL, *org = NULL, *l;
	uint8_t *t = NULL, file[512];
	size_t tlen = 0, got = 0, n;

	memset(tok, 'a', 64);
	tok[64] = '\0';
	tok[0] = '0';
	tok[63] = 'f';
	g_assert_cmpint(ll_pin_trailer_make("123456", "acme", tok, &t, &tlen),
			==, LL_OK);
	memcpy(file, bin, sizeof(bin));
	memcpy(file + sizeof(bin), t, tlen);
	n = sizeof(bin) + tlen;
	g_assert_cmpint(pin_parse(file, n, &pin, &org, &got), ==, LL_OK);
	g_assert_cmpstr(last_launch, ==, tok);
	g_assert_cmpuint(got, ==, tlen);
	ll_secret_free(pin);
	g_free(org);
	/* a digit of the token that is no lower-case hex, a changed key, a
	 * missing line end: refused */
	l = memmem(file, n, "launch=", 7);
	g_assert_nonnull(l);
	l[7 + 5] = 'A';
	g_assert_cmpint(pin_parse(file, n, &pin, &org, &got), ==,
			LL_ERR_MALFORMED);
	l[7 + 5] = 'a';
	l[1] ^= 0x20;
	g_assert_cmpint(pin_parse(file, n, &pin, &org, &got), ==,
			LL_ERR_MALFORMED);
	l[1] ^= 0x20;
	l[7 + 64] = 'x';
	g_assert_cmpint(pin_parse(file, n, &pin, &org, &got), ==,
			LL_ERR_MALFORMED);
	ll_secret_free((char *)t);
	/* the maker: 64 lower-case hex digits or nothing */
	tok[63] = '\0';
	g_assert_cmpint(ll_pin_trailer_make("123456", "acme", tok, &t, &tlen),
			==, LL_ERR_INVALID_ARG);
	tok[63] = 'F';
	g_assert_cmpint(ll_pin_trailer_make("123456", "acme", tok, &t, &tlen),
			==, LL_ERR_INVALID_ARG);
	g_clear_pointer(&last_launch, ll_secret_free);
}

/* body signed as the writer would sign it, whatever it says. */
static char *sign_text(const char *body)
{
	uint8_t sig[LL_ED25519_SIG_LEN];
	char *s64, *text;

	g_assert_cmpint(ll_ed25519_sign(priv, body, strlen(body), sig), ==,
			LL_OK);
	s64 = ll_base64url_new(sig, sizeof(sig));
	text = g_strdup_printf("%ssig=%s\n", body, s64);
	free(s64);
	return text;
}

/* A text of version v with the relay_hosts line hosts (NULL: none),
 * signed. */
static char *hosts_text(int v, const char *url, const char *hosts)
{
	char *k = ll_base64url_new(pub, sizeof(pub));
	char *line = hosts != NULL ? g_strdup_printf("relay_hosts=%s\n", hosts)
				   : g_strdup("");
	char *body = g_strdup_printf(
		"lifeline-applet-config %d\nrelay_url=%s\n"
		"relay_pin=sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
		"\n%sorg=acme\nbrand=default\ncreated=1767225600\n"
		"sign_key=%s\n",
		v, url, line, k);
	char *text = sign_text(body);

	free(k);
	g_free(line);
	g_free(body);
	return text;
}

static int parse_str(const char *text, struct ll_appconf *c, char *why)
{
	return parse(text, strlen(text), c, why);
}

/*
 * relay_hosts (version 2): the list read back, a version 1 text still
 * read (its URL's host alone), and every list that breaks the one
 * spelling, or leaves out the URL's own host, refused.
 */
static void test_relay_hosts(void)
{
	static const char *const bad[] = {
		"",
		"relay.example.com,",
		",relay.example.com",
		"relay.example.com,,b.example.com",
		"Relay.example.com",
		"relay.example.com.",
		"relay..example.com",
		".relay.example.com",
		"-relay.example.com",
		"relay.example.com,[::1]",
		"relay.example.com,a b",
		"relay.example.com;b.example.com",
		"relay.example.com,*.example.com",
		"relay.example.com,b.example.com:8443",
		"b.example.com", /* not the URL's host */
	};
	const char *url = "https://relay.example.com:8443";
	struct ll_appconf c = { 0 };
	char why[200], *text, *many;
	GString *g;
	size_t i;

	text = hosts_text(2, url, "relay.example.com,127.0.0.2,::1,b.example");
	g_assert_cmpint(parse_str(text, &c, why), ==, LL_OK);
	g_assert_cmpstr(c.relay_hosts, ==,
			"relay.example.com,127.0.0.2,::1,b.example");
	g_assert_true(ll_appconf_host_listed(&c, "relay.example.com"));
	g_assert_true(ll_appconf_host_listed(&c, "RELAY.Example.com"));
	g_assert_true(ll_appconf_host_listed(&c, "127.0.0.2"));
	g_assert_true(ll_appconf_host_listed(&c, "::1"));
	g_assert_true(ll_appconf_host_listed(&c, "[::1]"));
	g_assert_true(ll_appconf_host_listed(&c, "b.example"));
	g_assert_false(ll_appconf_host_listed(&c, "127.0.0.1"));
	g_assert_false(ll_appconf_host_listed(&c, "example.com"));
	g_assert_false(ll_appconf_host_listed(&c, "b.example.com"));
	g_assert_false(ll_appconf_host_listed(&c, "relay.example.com."));
	g_assert_false(ll_appconf_host_listed(&c, "relay.example"));
	g_assert_false(ll_appconf_host_listed(&c, ""));
	ll_appconf_clear(&c);
	g_free(text);

	/* version 1: no line, the URL's host (lower case) alone */
	text = hosts_text(1, "https://Relay.Example.com", NULL);
	g_assert_cmpint(parse_str(text, &c, why), ==, LL_OK);
	g_assert_cmpstr(c.relay_hosts, ==, "relay.example.com");
	ll_appconf_clear(&c);
	g_free(text);
	text = hosts_text(1, "https://[::1]:8443", NULL);
	g_assert_cmpint(parse_str(text, &c, why), ==, LL_OK);
	g_assert_cmpstr(c.relay_hosts, ==, "::1");
	ll_appconf_clear(&c);
	g_free(text);
	/* ... and a version 1 text with the line is refused */
	text = hosts_text(1, url, "relay.example.com");
	g_assert_cmpint(parse_str(text, &c, why), ==, LL_ERR_MALFORMED);
	g_free(text);
	/* version 2 without it */
	text = hosts_text(2, url, NULL);
	g_assert_cmpint(parse_str(text, &c, why), ==, LL_ERR_MALFORMED);
	g_assert_nonnull(strstr(why, "relay_hosts"));
	g_free(text);

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		text = hosts_text(2, url, bad[i]);
		g_assert_cmpint(parse_str(text, &c, why), ==,
				LL_ERR_MALFORMED);
		g_free(text);
	}
	text = hosts_text(2, url, "b.example.com");
	g_assert_cmpint(parse_str(text, &c, why), ==, LL_ERR_MALFORMED);
	g_assert_nonnull(strstr(why, "not one of its relay_hosts"));
	g_free(text);

	/* 16 entries, not 17 */
	g = g_string_new("relay.example.com");
	for (i = 1; i < LL_APPCONF_HOSTS_N; i++)
		g_string_append_printf(g, ",h%zu.example.com", i);
	text = hosts_text(2, url, g->str);
	g_assert_cmpint(parse_str(text, &c, why), ==, LL_OK);
	ll_appconf_clear(&c);
	g_free(text);
	g_string_append(g, ",h99.example.com");
	many = g_string_free(g, FALSE);
	text = hosts_text(2, url, many);
	g_assert_cmpint(parse_str(text, &c, why), ==, LL_ERR_MALFORMED);
	g_free(text);
	g_free(many);

	/* The writer: a list round trip, and what the parser would refuse
	 * refused. */
	{
		struct ll_appconf w;
		size_t len = 0;

		sample(&w, false);
		w.relay_hosts = g_strdup(
			"relay.example.com,relay2.example.com");
		g_assert_cmpint(ll_appconf_format(&w, priv, &text, &len, why,
						  sizeof(why)),
				==, LL_OK);
		g_assert_cmpint(parse(text, len, &c, why), ==, LL_OK);
		g_assert_cmpstr(c.relay_hosts, ==, w.relay_hosts);
		ll_appconf_clear(&c);
		ll_secret_free(text);
		for (i = 0; i < G_N_ELEMENTS(bad); i++) {
			g_free(w.relay_hosts);
			w.relay_hosts = g_strdup(bad[i]);
			why[0] = '\0';
			g_assert_cmpint(ll_appconf_format(&w, priv, &text,
							  &len, why,
							  sizeof(why)),
					==, LL_ERR_INVALID_ARG);
			g_assert_cmpstr(why, !=, "");
		}
		ll_appconf_clear(&w);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_assert_cmpint(ll_ed25519_keygen(priv, pub), ==, LL_OK);
	g_test_add_func("/appconf/roundtrip", test_roundtrip);
	g_test_add_func("/appconf/tampered-byte", test_tampered_byte);
	g_test_add_func("/appconf/foreign-key", test_foreign_key);
	g_test_add_func("/appconf/truncated", test_truncated);
	g_test_add_func("/appconf/version", test_version);
	g_test_add_func("/appconf/trailing-garbage", test_trailing_garbage);
	g_test_add_func("/appconf/format-refuses", test_format_refuses);
	g_test_add_func("/appconf/urls", test_accepts_urls);
	g_test_add_func("/appconf/relay-hosts", test_relay_hosts);
	g_test_add_func("/appconf/trailer", test_trailer);
	g_test_add_func("/appconf/pin-trailer", test_pin_trailer);
	g_test_add_func("/appconf/pin-trailer-launch",
			test_pin_trailer_launch);
	return g_test_run();
}
