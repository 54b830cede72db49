/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Address ranges from the configuration: see ll_cidr.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ll_err.h"
#include "ll_cidr.h"

struct cidr {
	uint8_t addr[16]; /* IPv4 in the first 4 bytes */
	unsigned bits;
	bool v6;
};

struct ll_cidr_list {
	size_t n;
	struct cidr items[];
};

/* Textual address to bytes; an IPv4-mapped IPv6 address becomes IPv4. */
static bool addr_parse(const char *s, struct cidr *c)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0,    0,
					    0, 0, 0, 0, 0xff, 0xff };
	struct in6_addr a6;
	struct in_addr a4;

	memset(c, 0, sizeof(*c));
	if (strchr(s, ':') == NULL) {
		if (inet_pton(AF_INET, s, &a4) != 1)
			return false;
		memcpy(c->addr, &a4, 4);
		c->bits = 32;
		return true;
	}
	if (inet_pton(AF_INET6, s, &a6) != 1)
		return false;
	if (memcmp(a6.s6_addr, mapped, sizeof(mapped)) == 0) {
		memcpy(c->addr, &a6.s6_addr[12], 4);
		c->bits = 32;
		return true;
	}
	memcpy(c->addr, a6.s6_addr, 16);
	c->bits = 128;
	c->v6 = true;
	return true;
}

/* Do the first `bits` bits of a and b agree? */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	uint8_t mask;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

/* Any bit set past the first `bits` of the address? */
static bool host_bits_set(const struct cidr *c)
{
	unsigned len = c->v6 ? 16 : 4, i;

	for (i = c->bits; i < len * 8; i++)
		if (c->addr[i / 8] & (0x80 >> (i % 8)))
			return true;
	return false;
}

/* One item "ADDR" or "ADDR/BITS" of len bytes at s. */
static int item_parse(const char *s, size_t len, struct cidr *c, char *errbuf,
		      size_t errlen)
{
	char text[64], *slash;
	unsigned long bits;
	bool mapped;

	if (len == 0) {
		snprintf(errbuf, errlen, "an empty item in the list");
		return LL_ERR_CONFIG;
	}
	if (len >= sizeof(text)) {
		snprintf(errbuf, errlen, "'%.32s...' is not an address", s);
		return LL_ERR_CONFIG;
	}
	memcpy(text, s, len);
	text[len] = '\0';
	if ((slash = strchr(text, '/')) != NULL)
		*slash = '\0';
	if (!addr_parse(text, c)) {
		snprintf(errbuf, errlen, "'%s' is not an IPv4 or IPv6 address",
			 text);
		return LL_ERR_CONFIG;
	}
	if (slash == NULL)
		return LL_OK;
	/* A mapped address was given in IPv6 bits: 96 of them are the map. */
	mapped = !c->v6 && strchr(text, ':') != NULL;
	len = strlen(slash + 1);
	if (len == 0 || len > 3 || strspn(slash + 1, "0123456789") != len) {
		snprintf(errbuf, errlen, "'%s/%s': the prefix is not a number",
			 text, slash + 1);
		return LL_ERR_CONFIG;
	}
	bits = strtoul(slash + 1, NULL, 10);
	if (bits > (c->v6 || mapped ? 128ul : 32ul) || (mapped && bits < 96)) {
		snprintf(errbuf, errlen, "'%s/%s': the prefix is out of range",
			 text, slash + 1);
		return LL_ERR_CONFIG;
	}
	c->bits = (unsigned)(mapped ? bits - 96 : bits);
	if (host_bits_set(c)) {
		snprintf(errbuf, errlen,
			 "'%s/%s' has address bits set past the prefix", text,
			 slash + 1);
		return LL_ERR_CONFIG;
	}
	return LL_OK;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

int ll_cidr_list_parse(const char *text, struct ll_cidr_list **out,
		       char *errbuf, size_t errlen)
{
	struct ll_cidr_list *l;
	const char *s, *e, *b;
	size_t n = 0;
	int r;

	if (text == NULL || out == NULL)
		return LL_ERR_INVALID_ARG;
	for (s = text; is_blank(*s); s++)
		;
	if (*s != '\0') {
		for (n = 1, e = s; *e != '\0'; e++)
			n += *e == ',';
	}
	if (n > LL_CIDR_LIST_MAX) {
		snprintf(errbuf, errlen, "more than %d items in the list",
			 LL_CIDR_LIST_MAX);
		return LL_ERR_CONFIG;
	}
	if ((l = calloc(1, sizeof(*l) + n * sizeof(l->items[0]))) == NULL)
		return LL_ERR_NOMEM;
	while (l->n < n) {
		for (e = s; *e != '\0' && *e != ','; e++)
			;
		for (b = e; b > s && is_blank(b[-1]); b--)
			;
		r = item_parse(s, (size_t)(b - s), &l->items[l->n], errbuf,
			       errlen);
		if (r != LL_OK) {
			free(l);
			return r;
		}
		l->n++;
		for (s = *e == ',' ? e + 1 : e; is_blank(*s); s++)
			;
	}
	*out = l;
	return LL_OK;
}

void ll_cidr_list_free(struct ll_cidr_list *l)
{
	free(l);
}

bool ll_cidr_list_match(const struct ll_cidr_list *l, const char *addr)
{
	struct cidr a;
	size_t i;

	if (l == NULL || addr == NULL || !addr_parse(addr, &a))
		return false;
	for (i = 0; i < l->n; i++) {
		if (l->items[i].v6 == a.v6 &&
		    prefix_equal(l->items[i].addr, a.addr, l->items[i].bits))
			return true;
	}
	return false;
}

size_t ll_cidr_list_len(const struct ll_cidr_list *l)
{
	return l != NULL ? l->n : 0;
}

/* [s, e) without blanks around it, copied to out when it fits. */
static bool copy_trimmed(const char *s, const char *e, char *out,
			 size_t outlen)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (s == e || (size_t)(e - s) >= outlen)
		return false;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	return true;
}

static bool is_address(const char *s)
{
	uint8_t buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

/* The for= value of one Forwarded element [s, e), unquoted, without
 * brackets or port. */
static bool forwarded_for(const char *s, const char *e, char *out,
			  size_t outlen)
{
	const char *p = s, *v = NULL, *ve;
	size_t n;

	while (p < e) {
		while (p < e && (*p == ' ' || *p == '\t' || *p == ';'))
			p++;
		v = p;
		while (p < e && *p != ';')
			p++;
		if (p - v > 4 && (v[0] == 'f' || v[0] == 'F') &&
		    (v[1] == 'o' || v[1] == 'O') &&
		    (v[2] == 'r' || v[2] == 'R') && v[3] == '=')
			break;
		v = NULL;
	}
	if (p > e || v == NULL)
		return false;
	v += 4;
	ve = p;
	if (ve > v && *v == '"') {
		if (ve - v < 2 || ve[-1] != '"')
			return false;
		v++;
		ve--;
	}
	if (ve > v && *v == '[') {
		/* "[v6]" or "[v6]:port" */
		const char *close = memchr(v, ']', (size_t)(ve - v));

		if (close == NULL)
			return false;
		v++;
		ve = close;
	} else {
		/* "v4" or "v4:port" */
		const char *colon = memchr(v, ':', (size_t)(ve - v));

		if (colon != NULL)
			ve = colon;
	}
	n = (size_t)(ve - v);
	if (n == 0 || n >= outlen)
		return false;
	memcpy(out, v, n);
	out[n] = '\0';
	return true;
}

bool ll_cidr_forwarded_client(const char *forwarded, const char *xff,
			      char *out, size_t outlen)
{
	const char *h = forwarded != NULL ? forwarded : xff;
	const char *last, *end;
	bool ok;

	if (h == NULL || out == NULL || outlen == 0)
		return false;
	end = h + strlen(h);
	last = strrchr(h, ',');
	last = last != NULL ? last + 1 : h;
	if (forwarded != NULL)
		ok = forwarded_for(last, end, out, outlen);
	else
		ok = copy_trimmed(last, end, out, outlen);
	if (ok && is_address(out))
		return true;
	out[0] = '\0';
	return false;
}
