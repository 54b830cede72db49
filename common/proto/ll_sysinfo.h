/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the applet tells about its computer once the user granted
 * `sysinfo` (issue 13): the body of the control message
 *
 *   sysinfo {type, os, kernel, host, cpu, cpus, memory_total, memory_free,
 *            uptime, disks: [{mount, fs, total, free}],
 *            interfaces: [{name, addresses: ["ADDR/PREFIX", ...]}],
 *            displays: [{name, width, height}]}
 *
 * Read only: nothing in it changes the user's machine.  Strict schema,
 * every field required, nothing else allowed:
 *   os, kernel, cpu   1..LL_SYSINFO_MAX_TEXT bytes, no control characters
 *   host              1..LL_CONTROL_MAX_HOST_NAME bytes, the same
 *   cpus              1..LL_SYSINFO_MAX_CPUS
 *   memory_total, memory_free  bytes, 0..2^53, free <= total
 *   uptime            seconds, 0..2^53
 *   disks             0..LL_SYSINFO_MAX_DISKS entries: mount 1..
 *                     LL_SYSINFO_MAX_PATH bytes starting with '/', fs (its
 *                     type) 1..LL_SYSINFO_MAX_FS bytes of [a-z0-9._-],
 *                     total and free bytes 0..2^53, free <= total
 *   interfaces        0..LL_SYSINFO_MAX_IFACES entries: name 1..
 *                     LL_SYSINFO_MAX_IFNAME bytes without control
 *                     characters, '/' or spaces; addresses 0..
 *                     LL_SYSINFO_MAX_ADDRS strings, each an IPv4 or IPv6
 *                     address (inet_pton) and "/" and a prefix length
 *                     (0..32, 0..128)
 *   displays          0..LL_CONTROL_MAX_MONITORS entries: name as a
 *                     monitor's (ll_control.h), width and height
 *                     1..65535
 * Errors as the control parser's (ll_control.h): LL_ERR_SCHEMA with a
 * sentence naming the field, LL_ERR_TOO_LARGE for a string or a list over
 * its cap.
 */
#ifndef LL_SYSINFO_H
#define LL_SYSINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LL_SYSINFO_MAX_TEXT 256u
#define LL_SYSINFO_MAX_CPUS 65536u
#define LL_SYSINFO_MAX_DISKS 32u
#define LL_SYSINFO_MAX_PATH 256u
#define LL_SYSINFO_MAX_FS 32u
#define LL_SYSINFO_MAX_IFACES 32u
#define LL_SYSINFO_MAX_IFNAME 32u
#define LL_SYSINFO_MAX_ADDRS 16u
/* "ffff:...:ffff/128" and then some; INET6_ADDRSTRLEN + "/128" */
#define LL_SYSINFO_MAX_ADDR 50u

struct ll_sysinfo_disk {
	char *mount;
	char *fs;
	uint64_t total, free;
};

struct ll_sysinfo_iface {
	char *name;
	size_t n_addrs;
	char **addrs; /* "192.0.2.7/24", "fe80::1/64" */
};

struct ll_sysinfo_display {
	char *name;
	uint32_t width, height;
};

/* Owns every string and list (ll_sysinfo_free). */
struct ll_sysinfo {
	char *os;     /* PRETTY_NAME of os-release: "Debian GNU/Linux 12" */
	char *kernel; /* uname: "Linux 6.1.0-13-amd64 x86_64" */
	char *host;
	char *cpu; /* the model's name */
	uint32_t cpus;
	uint64_t memory_total, memory_free; /* bytes */
	uint64_t uptime;                    /* s */
	size_t n_disks;
	struct ll_sysinfo_disk *disks;
	size_t n_ifaces;
	struct ll_sysinfo_iface *ifaces;
	size_t n_displays;
	struct ll_sysinfo_display *displays;
};

/* NULL ok. */
void ll_sysinfo_free(struct ll_sysinfo *si);

/*
 * Every string of si through the display rule (ll_text.h), in place: what
 * the technician's side shows or prints after it came.  LL_ERR_NOMEM.
 */
int ll_sysinfo_make_printable(struct ll_sysinfo *si);

struct json_t; /* jansson's json_t */
/*
 * The body's fields in and out of a JSON object (the message's, or the
 * agent holder's answer to `session sysinfo`): parse checks every rule
 * above and ignores "type"; 0 with *out set (caller frees), or a negative
 * ll_err and a sentence in err naming the field, *out untouched.  to_json
 * adds si's fields to o.
 */
int ll_sysinfo_parse_json(struct json_t *o, struct ll_sysinfo **out, char *err,
			  size_t errlen);
int ll_sysinfo_to_json(const struct ll_sysinfo *si, struct json_t *o);

/* An address of an interface as the schema wants it ("ADDR/PREFIX"). */
bool ll_sysinfo_addr_ok(const char *s);

#endif
