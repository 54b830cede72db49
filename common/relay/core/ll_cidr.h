/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lists of address ranges ("127.0.0.0/8, ::1/128") from the relay's
 * configuration, and the check of a peer address against one.  Read
 * strictly: an item that is not an address, a prefix out of range, or
 * address bits set past the prefix ("10.0.0.1/8", usually a typo) is an
 * error naming the item.  An address without a prefix is that one host.
 * IPv4-mapped IPv6 addresses count as their IPv4 address, in a list and
 * in a check.
 */
#ifndef LL_CIDR_H
#define LL_CIDR_H

#include <stddef.h>
#include <stdbool.h>

struct ll_cidr_list;

/* Most items in one list. */
#define LL_CIDR_LIST_MAX 256

/*
 * Parses comma-separated items (blanks around them are ignored); empty
 * or blank text is an empty list, which matches nothing.  LL_OK with
 * *out set, else LL_ERR_CONFIG with a sentence in errbuf (or
 * LL_ERR_NOMEM), *out untouched.
 */
int ll_cidr_list_parse(const char *text, struct ll_cidr_list **out,
		       char *errbuf, size_t errlen);
void ll_cidr_list_free(struct ll_cidr_list *l);
/* True when addr (textual IPv4 or IPv6) lies in one of the ranges; false
 * for NULL, an empty list or text that is not an address. */
bool ll_cidr_list_match(const struct ll_cidr_list *l, const char *addr);
/* How many items the list has. */
size_t ll_cidr_list_len(const struct ll_cidr_list *l);

/*
 * The client a reverse proxy names: the last element of Forwarded (its
 * for= parameter, RFC 7239: quotes, [v6] brackets and a port removed)
 * when that header is present, else the last item of X-Forwarded-For.
 * The last one is the proxy's own addition; those before it are the
 * client's word.  Either may be NULL.  True with the address text in
 * out (at most outlen bytes with NUL) when that is an IPv4 or IPv6
 * address; false otherwise (the caller keeps the peer's address).
 */
bool ll_cidr_forwarded_client(const char *forwarded, const char *xff,
			      char *out, size_t outlen);

#endif
