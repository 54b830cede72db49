/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Control messages of mux channel 0: JSON objects (jansson) with strict
 * schemas.  Every message has "type" and exactly the fields listed below
 * (? = optional); anything else is refused with a specific error and a
 * sentence naming the field.
 *
 *   hello        {type, version: 1, role: "agent"|"applet", name?, org?}
 *   request      {type, id, capabilities: [...]}   agent asks for caps
 *   grant        {type, id, capabilities: [...]}   applet answers yes
 *   deny         {type, id, reason?, retry_after?} applet answers no
 *   revoke       {type, capabilities: [...]}       applet takes caps back
 *   chat         {type, text}
 *   file_offer   {type, channel, name, size, sha256, request?}
 *                the sender of a file offers it; channel is the one of
 *                its parity it will open for the data once accepted
 *                (ll_xfer.h); request: the file_request it answers
 *   file_accept  {type, channel, offset}           offset: resume point
 *                (bytes the receiver already holds of this very file)
 *   file_request {type, id, name}               the agent asks the user
 *                for a file; name is a hint shown to the user; id 1..
 *   file_cancel  {type, channel | request, reason}  either side: an
 *                offer refused, a transfer cancelled or failed, or a
 *                request refused; reason one of "refused", "cancelled",
 *                "failed", "bad_hash", "not_permitted"
 *   file_done    {type, channel}                the receiver has the
 *                whole file and its SHA-256 matched the offer's
 *   end          {type, reason}
 *   error        {type, code, message}
 *   monitors     {type, monitors: [{name, x, y, width, height}], current}
 *                applet tells which screens it can share (entry "all"
 *                is the whole desktop) and which one it shares now;
 *                sent only once `view` is granted (it is screen geometry)
 *   select_monitor {type, name}                agent picks one ("all" ok)
 *   user_info    {type, name, host}            applet tells who sits at
 *                the screen (the OS user's full name) and the computer's
 *                host name; sent once `view` is granted, and the user is
 *                told so
 *   ping         {type, seq}                   liveness (ll_session_io),
 *                                              either side, every ~2 s
 *   pong         {type, seq}                   the answer, seq echoed
 *   clipboard    {type, text}                  text copied on one side,
 *                either way, only while `clipboard` is granted; never
 *                logged
 *   sysinfo_request {type}                     agent asks for sysinfo
 *   sysinfo      {type, os, kernel, host, cpu, cpus, memory_total,
 *                memory_free, uptime, disks, interfaces, displays}
 *                the applet's answer, only while `sysinfo` is granted;
 *                its fields and caps are in ll_sysinfo.h
 *
 * Field rules: id and seq 0..2^32-1; capabilities a non-empty array of distinct
 * names of LL_CAP_*; channel 2..65535 (file channels); size and offset
 * 0..2^53; sha256 64 lowercase hex digits; name 1..255 bytes without '/',
 * '\\', control characters, "." or ".."; chat text 1..4096 bytes; other
 * strings up to 1024 bytes; no string may hold NUL.  A whole message is
 * at most LL_CONTROL_MAX_MSG bytes.  Monitors: 1..LL_CONTROL_MAX_MONITORS
 * entries with distinct names; a monitor name (also select_monitor's and
 * current, which must be one of the names) is 1..64 bytes without
 * control characters; x and y -65535..65535, width and height 1..65535
 * (what RFB can describe).  deny: reason one of "declined" (the user
 * said no), "held_back" (asked again too soon after a no; not shown to
 * the user), "no_more" (the user said no three times: nothing more is
 * shown in this session), absent when not said; retry_after 1..3600
 * seconds, required with "held_back", allowed with "declined", refused
 * otherwise (when the same capabilities may be asked again).
 * user_info: name 1..256 bytes, host 1..255 bytes, neither with control
 * characters.  clipboard: text 1..LL_CONTROL_MAX_CLIPBOARD bytes of
 * UTF-8 (any characters but NUL; the display rule applies where shown).
 *
 * Errors: LL_ERR_TOO_LARGE (message or a string over its cap),
 * LL_ERR_BAD_JSON (not JSON, duplicate keys, trailing bytes),
 * LL_ERR_SCHEMA (not an object, missing or extra field, wrong JSON type,
 * value out of range, unknown capability), LL_ERR_UNKNOWN_TYPE (unknown
 * "type"), LL_ERR_BAD_VERSION (hello of another version), LL_ERR_NOMEM.
 *
 * On the channel each message travels as u32 length (big-endian) + JSON,
 * since DATA frames may split or join a byte stream anywhere.
 */
#ifndef LL_CONTROL_H
#define LL_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ll_util.h"

struct ll_buf;
struct ll_sysinfo;

#define LL_CONTROL_VERSION 1
#define LL_CONTROL_MAX_MSG 65536u
/*
 * A grant with this id answers no request: after a lost stream came back
 * (docs/API.md section 5, Liveness) the applet says with it, right after
 * its hello, what the user still grants.  The agent takes it as the truth
 * but never as more than was granted before the loss (it intersects, and
 * logs and ignores anything wider); nothing granted: no such grant is
 * sent (capabilities may not be empty).  Agents number their requests
 * from 1.
 */
#define LL_CONTROL_GRANT_RESUMED 0u
#define LL_CONTROL_MAX_CHAT 4096u
/* Clipboard text: what a person pastes (a command, a log excerpt), with
 * room left for JSON's escapes within LL_CONTROL_MAX_MSG. */
#define LL_CONTROL_MAX_CLIPBOARD 16384u
#define LL_CONTROL_MAX_FILENAME 255u
#define LL_CONTROL_MAX_STRING 1024u
#define LL_CONTROL_MAX_SIZE 9007199254740992ULL /* 2^53: exact in JSON */
#define LL_CONTROL_MAX_MONITORS 16u
#define LL_CONTROL_MAX_MONITOR_NAME 64u
#define LL_CONTROL_MAX_USER_NAME 256u
#define LL_CONTROL_MAX_HOST_NAME 255u
#define LL_CONTROL_MAX_COORD 65535
/* Size for the error sentence buffer of the parse functions. */
#define LL_CONTROL_ERR_LEN 160

/* Capabilities (docs/API.md section 4), as a bitmask. */
enum ll_cap {
	LL_CAP_VIEW = 1u << 0,
	LL_CAP_CONTROL = 1u << 1,
	LL_CAP_FILES = 1u << 2,
	LL_CAP_CHAT = 1u << 3,
	LL_CAP_SYSINFO = 1u << 4,
	/* the same bit as the permission was before it was a capability,
	 * so stored groups keep their meaning */
	LL_CAP_CLIPBOARD = 1u << 5,
};
#define LL_CAP_ALL 0x3fu

/* "view", ... for one bit; NULL for anything else. */
const char *ll_cap_name(uint32_t cap);
/* The bit for a name, or 0 if unknown. */
uint32_t ll_cap_from_name(const char *name);

/*
 * Permissions of technicians (their groups, docs/API.md "Groups and
 * permissions"): the capabilities above, the same bits, and what only the
 * relay knows of.  One table (control.c) names them all.
 */
#define LL_PERM_REPORTS (1u << 6)
#define LL_PERM_ADMIN (1u << 7)
#define LL_PERM_ALL 0xffu
/* Longest text ll_perm_format writes, NUL included. */
#define LL_PERM_TEXT_MAX 64u

/* The name of one permission bit (capabilities included); NULL else. */
const char *ll_perm_name(uint32_t bit);
/* The bit of a permission's name, or 0 if unknown. */
uint32_t ll_perm_from_name(const char *name);
/*
 * A comma-separated list of permission names ("view,control"; "" is
 * none) into a mask.  LL_ERR_MALFORMED for an unknown name, an empty item or
 * a name given twice; *out untouched then.
 */
int ll_perm_parse_list(const char *text, uint32_t *out);
/* The mask as such a list, in table order ("" for none); unknown bits
 * are left out.  LL_ERR_TOO_LARGE when len is short. */
int ll_perm_format(uint32_t mask, char *buf, size_t len);

enum ll_control_type {
	LL_CONTROL_HELLO = 1,
	LL_CONTROL_REQUEST,
	LL_CONTROL_GRANT,
	LL_CONTROL_DENY,
	LL_CONTROL_REVOKE,
	LL_CONTROL_CHAT,
	LL_CONTROL_FILE_OFFER,
	LL_CONTROL_FILE_ACCEPT,
	LL_CONTROL_END,
	LL_CONTROL_ERROR,
	LL_CONTROL_MONITORS,
	LL_CONTROL_SELECT_MONITOR,
	LL_CONTROL_USER_INFO,
	LL_CONTROL_PING,
	LL_CONTROL_PONG,
	LL_CONTROL_CLIPBOARD,
	LL_CONTROL_SYSINFO_REQUEST,
	LL_CONTROL_SYSINFO,
	LL_CONTROL_FILE_REQUEST,
	LL_CONTROL_FILE_CANCEL,
	LL_CONTROL_FILE_DONE,
};

/* Why a file transfer or request stopped (file_cancel's "reason"). */
enum ll_file_cancel_reason {
	LL_FILE_REFUSED = 1,   /* the receiver (or the user asked) said no */
	LL_FILE_CANCELLED,     /* someone pressed Cancel */
	LL_FILE_FAILED,        /* I/O error, bad chunk, session trouble */
	LL_FILE_BAD_HASH,      /* the SHA-256 did not match */
	LL_FILE_NOT_PERMITTED, /* files is not granted / permitted */
};
/* "refused", ...; NULL for anything else. */
const char *ll_file_cancel_reason_name(enum ll_file_cancel_reason r);
/* The reason of a name, 0 if unknown. */
enum ll_file_cancel_reason ll_file_cancel_reason_from_name(const char *name);
/* "hello", ...; NULL for anything else. */
const char *ll_control_type_name(int type);

/* Why a request was denied: deny's "reason" (see above). */
enum ll_deny_reason {
	LL_DENY_UNSAID = 0, /* no reason field */
	LL_DENY_DECLINED,
	LL_DENY_HELD_BACK,
	LL_DENY_NO_MORE,
};
#define LL_CONTROL_MAX_RETRY_AFTER 3600u
/* "declined", ...; NULL for LL_DENY_UNSAID and anything else. */
const char *ll_deny_reason_name(enum ll_deny_reason r);

/* One entry of a monitors message (coordinates of the whole desktop). */
struct ll_control_monitor {
	char name[LL_CONTROL_MAX_MONITOR_NAME + 1];
	int32_t x, y;
	uint32_t width, height;
};

/*
 * A parsed message.  Parsed messages own their strings (freed by
 * ll_control_msg_free); a message built by the caller for serialising may
 * point its strings anywhere and need not be freed.
 */
struct ll_control_msg {
	enum ll_control_type type;
	union {
		struct {
			uint32_t version;
			enum ll_side role;
			char *name; /* NULL when absent */
			char *org;  /* NULL when absent */
		} hello;
		struct {
			uint32_t id;
			uint32_t caps; /* LL_CAP_* */
		} request;             /* also grant */
		struct {
			uint32_t id;
			uint32_t caps;
		} grant;
		struct {
			uint32_t id;
			enum ll_deny_reason reason;
			uint32_t retry_after; /* s; 0 when absent */
		} deny;
		struct {
			uint32_t caps;
		} revoke;
		struct {
			char *text;
		} chat;
		struct {
			uint16_t channel;
			char *name;
			uint64_t size;
			char sha256[65];  /* lowercase hex + NUL */
			uint32_t request; /* 0 when absent */
		} file_offer;
		struct {
			uint32_t id;
			char *name;
		} file_request;
		struct {
			uint16_t channel; /* 0 when request is given */
			uint32_t request; /* 0 when channel is given */
			enum ll_file_cancel_reason reason;
		} file_cancel;
		struct {
			uint16_t channel;
		} file_done;
		struct {
			uint16_t channel;
			uint64_t offset;
		} file_accept;
		struct {
			char *reason;
		} end;
		struct {
			char *code; /* e.g. "protocol", [a-z_]+ */
			char *message;
		} error;
		struct {
			size_t n;
			struct ll_control_monitor *list; /* n entries */
			char *current;                   /* one of the names */
		} monitors;
		struct {
			char *name;
		} select_monitor;
		struct {
			char *name; /* the OS user's full name */
			char *host;
		} user_info;
		struct {
			uint32_t seq;
		} ping; /* also pong */
		struct {
			char *text; /* never logged */
		} clipboard;
		struct {
			struct ll_sysinfo *info; /* owned when parsed */
		} sysinfo;
	} u;
};

void ll_control_msg_free(struct ll_control_msg *m);

/* True when name may travel as a monitor name (the rules above). */
bool ll_control_monitor_name_ok(const char *name);

/*
 * Parse one JSON message of len bytes.  0 with *out set (caller frees), or
 * a negative ll_err with *out untouched and, when err is not NULL, a
 * sentence naming the field in err[0..errlen).
 */
int ll_control_parse(const void *json, size_t len, struct ll_control_msg **out,
		     char *err, size_t errlen);

/*
 * Append m as compact JSON to out.  m is checked against the same rules
 * the parser applies (same error codes), so nothing is sent that the peer
 * would refuse.  On error out is unchanged.
 */
int ll_control_serialize(const struct ll_control_msg *m, struct ll_buf *out);

/*
 * Channel framing: u32 length + JSON.  decode returns the bytes of one
 * whole message (> 0) with *out set, 0 when more bytes are needed, or a
 * negative ll_err as for ll_control_parse (LL_ERR_TOO_LARGE as soon as the
 * length prefix says so).  encode appends prefix + JSON, all or nothing.
 */
int ll_control_decode(const uint8_t *data, size_t len,
		      struct ll_control_msg **out, char *err, size_t errlen);
int ll_control_encode(const struct ll_control_msg *m, struct ll_buf *out);

#endif
