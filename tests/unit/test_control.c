/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "ll_buf.h"
#include "ll_control.h"
#include "ll_err.h"
#include "ll_text.h"

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static struct ll_control_msg *parse_ok(const char *json)
{
	struct ll_control_msg *m = NULL;
	char err[LL_CONTROL_ERR_LEN];
	int r = ll_control_parse(json, strlen(json), &m, err, sizeof(err));

	if (r != 0)
		g_error("%s: %d %s", json, r, err);
	g_assert_nonnull(m);
	return m;
}

static void parse_bad(const char *json, int want, const char *msg_part)
{
	struct ll_control_msg *m = (struct ll_control_msg *)0x1;
	char err[LL_CONTROL_ERR_LEN];
	int r = ll_control_parse(json, strlen(json), &m, err, sizeof(err));

	if (r != want)
		g_error("%s: got %d (%s), want %d", json, r, err, want);
	/* Output untouched on failure. */
	g_assert_true(m == (struct ll_control_msg *)0x1);
	if (msg_part != NULL && strstr(err, msg_part) == NULL)
		g_error("%s: sentence '%s' lacks '%s'", json, err, msg_part);
}

static void test_caps(void)
{
	g_assert_cmpstr(ll_cap_name(LL_CAP_VIEW), ==, "view");
	g_assert_cmpstr(ll_cap_name(LL_CAP_SYSINFO), ==, "sysinfo");
	g_assert_null(ll_cap_name(LL_CAP_VIEW | LL_CAP_CHAT));
	g_assert_null(ll_cap_name(0));
	g_assert_cmpuint(ll_cap_from_name("control"), ==, LL_CAP_CONTROL);
	g_assert_cmpuint(ll_cap_from_name("files"), ==, LL_CAP_FILES);
	g_assert_cmpuint(ll_cap_from_name("chat"), ==, LL_CAP_CHAT);
	g_assert_cmpuint(ll_cap_from_name("View"), ==, 0);
	g_assert_cmpuint(ll_cap_from_name("admin"), ==, 0);
	g_assert_cmpuint(ll_cap_from_name(NULL), ==, 0);
	g_assert_cmpstr(ll_control_type_name(LL_CONTROL_FILE_OFFER), ==,
			"file_offer");
	g_assert_null(ll_control_type_name(0));
}

static void test_perms(void)
{
	static const char *const bad[] = {
		"view,",
		",view",
		"view,,chat",
		"view,view",
		"View",
		"view ",
		"all",
		"view,control,nope",
		"sysinfoxx",
		"admin,x",
		"clipboardclipboard",
	};
	char text[LL_PERM_TEXT_MAX];
	uint32_t m = 0x1234;
	size_t i;

	/* the capabilities keep their bits; the rest are permissions only */
	g_assert_cmpuint(ll_perm_from_name("view"), ==, LL_CAP_VIEW);
	g_assert_cmpuint(ll_perm_from_name("clipboard"), ==, LL_CAP_CLIPBOARD);
	g_assert_cmpuint(ll_perm_from_name("admin"), ==, LL_PERM_ADMIN);
	g_assert_cmpuint(ll_cap_from_name("clipboard"), ==, LL_CAP_CLIPBOARD);
	g_assert_cmpstr(ll_cap_name(LL_CAP_CLIPBOARD), ==, "clipboard");
	g_assert_null(ll_cap_name(LL_PERM_REPORTS));
	g_assert_cmpstr(ll_perm_name(LL_PERM_REPORTS), ==, "reports");

	g_assert_cmpint(ll_perm_parse_list("", &m), ==, 0);
	g_assert_cmpuint(m, ==, 0);
	g_assert_cmpint(ll_perm_parse_list("view,control,files,chat,clipboard,"
					   "sysinfo,reports,admin",
					   &m),
			==, 0);
	g_assert_cmpuint(m, ==, LL_PERM_ALL);
	g_assert_cmpint(ll_perm_parse_list("chat,view", &m), ==, 0);
	g_assert_cmpuint(m, ==, LL_CAP_CHAT | LL_CAP_VIEW);
	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		m = 0x1234;
		if (ll_perm_parse_list(bad[i], &m) != LL_ERR_MALFORMED)
			g_error("\"%s\" was taken", bad[i]);
		g_assert_cmpuint(m, ==, 0x1234);
	}
	g_assert_cmpint(ll_perm_parse_list(NULL, &m), ==, LL_ERR_MALFORMED);

	g_assert_cmpint(ll_perm_format(LL_PERM_ALL, text, sizeof(text)), ==,
			0);
	g_assert_cmpstr(text, ==,
			"view,control,files,chat,sysinfo,clipboard,reports,"
			"admin");
	g_assert_cmpint(ll_perm_format(LL_CAP_CHAT | LL_CAP_VIEW | 1u << 20,
				       text, sizeof(text)),
			==, 0);
	g_assert_cmpstr(text, ==, "view,chat");
	g_assert_cmpint(ll_perm_format(0, text, sizeof(text)), ==, 0);
	g_assert_cmpstr(text, ==, "");
	g_assert_cmpint(ll_perm_format(LL_CAP_VIEW | LL_CAP_CHAT, text, 9), ==,
			LL_ERR_TOO_LARGE);
	g_assert_cmpint(ll_perm_format(LL_CAP_VIEW | LL_CAP_CHAT, text, 10),
			==, 0);
	g_assert_cmpstr(text, ==, "view,chat");
}

static void test_parse_valid(void)
{
	struct ll_control_msg *m;

	m = parse_ok("{\"type\":\"hello\",\"version\":1,\"role\":\"agent\","
		     "\"name\":\"Ada L.\",\"org\":\"ACME\"}");
	g_assert_cmpint(m->type, ==, LL_CONTROL_HELLO);
	g_assert_cmpuint(m->u.hello.version, ==, 1);
	g_assert_cmpint(m->u.hello.role, ==, LL_SIDE_AGENT);
	g_assert_cmpstr(m->u.hello.name, ==, "Ada L.");
	g_assert_cmpstr(m->u.hello.org, ==, "ACME");
	ll_control_msg_free(m);

	m = parse_ok("{\"role\":\"applet\",\"version\":1,\"type\":\"hello\"}");
	g_assert_cmpint(m->u.hello.role, ==, LL_SIDE_APPLET);
	g_assert_null(m->u.hello.name);
	g_assert_null(m->u.hello.org);
	ll_control_msg_free(m);

	m = parse_ok(" {\"type\":\"request\",\"id\":4294967295,"
		     "\"capabilities\":[\"view\",\"control\",\"files\","
		     "\"chat\",\"sysinfo\",\"clipboard\"]} ");
	g_assert_cmpint(m->type, ==, LL_CONTROL_REQUEST);
	g_assert_cmpuint(m->u.request.id, ==, 4294967295u);
	g_assert_cmpuint(m->u.request.caps, ==, LL_CAP_ALL);
	ll_control_msg_free(m);

	m = parse_ok("{\"type\":\"grant\",\"id\":0,\"capabilities\":"
		     "[\"view\"]}");
	g_assert_cmpint(m->type, ==, LL_CONTROL_GRANT);
	g_assert_cmpuint(m->u.grant.caps, ==, LL_CAP_VIEW);
	ll_control_msg_free(m);

	m = parse_ok("{\"type\":\"deny\",\"id\":7}");
	g_assert_cmpuint(m->u.deny.id, ==, 7);
	g_assert_cmpint(m->u.deny.reason, ==, LL_DENY_UNSAID);
	g_assert_cmpuint(m->u.deny.retry_after, ==, 0);
	ll_control_msg_free(m);

	m = parse_ok("{\"type\":\"deny\",\"id\":7,\"reason\":"
		     "\"held_back\",\"retry_after\":25}");
	g_assert_cmpint(m->u.deny.reason, ==, LL_DENY_HELD_BACK);
	g_assert_cmpuint(m->u.deny.retry_after, ==, 25);
	ll_control_msg_free(m);
	m = parse_ok("{\"type\":\"deny\",\"id\":7,\"reason\":"
		     "\"declined\"}");
	g_assert_cmpint(m->u.deny.reason, ==, LL_DENY_DECLINED);
	ll_control_msg_free(m);
	m = parse_ok("{\"type\":\"deny\",\"id\":7,\"reason\":"
		     "\"no_more\"}");
	g_assert_cmpint(m->u.deny.reason, ==, LL_DENY_NO_MORE);
	ll_control_msg_free(m);

	m = parse_ok("{\"type\":\"revoke\",\"capabilities\":[\"control\"]}");
	g_assert_cmpuint(m->u.revoke.caps, ==, LL_CAP_CONTROL);
	ll_control_msg_free(m);

	m = parse_ok("{\"type\":\"chat\",\"text\":\"h\\u00e9llo \\ud83d"
		     "\\ude00\"}");
	g_assert_cmpstr(m->u.chat.text, ==, "h\xc3\xa9llo \xf0\x9f\x98\x80");
	ll_control_msg_free(m);

	m = parse_ok(
		"{\"type\":\"file_offer\",\"channel\":2,\"name\":"
		"\"report .pdf\",\"size\":9007199254740992,\"sha256\":\"" SHA
		"\"}");
	g_assert_cmpuint(m->u.file_offer.channel, ==, 2);
	g_assert_cmpstr(m->u.file_offer.name, ==, "report .pdf");
	g_assert_cmpuint(m->u.file_offer.size, ==, 9007199254740992ULL);
	g_assert_cmpstr(m->u.file_offer.sha256, ==, SHA);
	ll_control_msg_free(m);

	m = parse_ok("{\"type\":\"file_accept\",\"channel\":65535,"
		     "\"offset\":1048576}");
	g_assert_cmpuint(m->u.file_accept.channel, ==, 65535);
	g_assert_cmpuint(m->u.file_accept.offset, ==, 1048576);
	ll_control_msg_free(m);

	m = parse_ok("{\"type\":\"end\",\"reason\":\"user ended\"}");
	g_assert_cmpstr(m->u.end.reason, ==, "user ended");
	ll_control_msg_free(m);

	m = parse_ok("{\"type\":\"error\",\"code\":\"not_granted\","
		     "\"message\":\"control was not granted\"}");
	g_assert_cmpstr(m->u.error.code, ==, "not_granted");
	g_assert_cmpstr(m->u.error.message, ==, "control was not granted");
	ll_control_msg_free(m);
	ll_control_msg_free(NULL);
}

static void test_bad_json(void)
{
	parse_bad("", LL_ERR_BAD_JSON, "not valid JSON");
	parse_bad("{", LL_ERR_BAD_JSON, NULL);
	parse_bad("{\"type\":\"deny\",\"id\":1} x", LL_ERR_BAD_JSON, NULL);
	parse_bad("{\"type\":\"deny\",\"id\":1}{}", LL_ERR_BAD_JSON, NULL);
	parse_bad("{\"type\":\"deny\",\"id\":1,\"id\":2}", LL_ERR_BAD_JSON,
		  NULL);
	parse_bad("{\"type\":\"chat\",\"text\":\"a\\u0000b\"}",
		  LL_ERR_BAD_JSON, NULL);
	parse_bad("{\"type\":\"chat\",\"text\":\"\xff\"}", LL_ERR_BAD_JSON,
		  NULL);
	parse_bad("{\"type\":\"deny\",\"id\":99999999999999999999999}",
		  LL_ERR_BAD_JSON, NULL);
	parse_bad("{'type':'deny'}", LL_ERR_BAD_JSON, NULL);
}

/* Every strict prefix of a valid message is refused as JSON. */
static void test_truncated_every_byte(void)
{
	static const char msg[] =
		"{\"type\":\"file_offer\",\"channel\":2,\"name\":\"a.txt\","
		"\"size\":5,\"sha256\":\"" SHA "\"}";
	struct ll_control_msg *m = NULL;
	size_t i;

	for (i = 0; i < strlen(msg); i++) {
		g_assert_cmpint(ll_control_parse(msg, i, &m, NULL, 0), ==,
				LL_ERR_BAD_JSON);
		g_assert_null(m);
	}
	g_assert_cmpint(ll_control_parse(msg, strlen(msg), &m, NULL, 0), ==,
			0);
	ll_control_msg_free(m);
}

static void test_schema(void)
{
	/* Not an object. */
	parse_bad("[]", LL_ERR_SCHEMA, "not a JSON object");
	parse_bad("\"hello\"", LL_ERR_SCHEMA, "not a JSON object");
	parse_bad("42", LL_ERR_SCHEMA, "not a JSON object");
	parse_bad("null", LL_ERR_SCHEMA, "not a JSON object");
	/* The type field. */
	parse_bad("{}", LL_ERR_SCHEMA, "\"type\"");
	parse_bad("{\"type\":1}", LL_ERR_SCHEMA, "\"type\" must be a string");
	parse_bad("{\"type\":null}", LL_ERR_SCHEMA, "\"type\"");
	/* Missing required fields, named. */
	parse_bad("{\"type\":\"hello\",\"role\":\"agent\"}", LL_ERR_SCHEMA,
		  "missing field \"version\"");
	parse_bad("{\"type\":\"hello\",\"version\":1}", LL_ERR_SCHEMA,
		  "missing field \"role\"");
	parse_bad("{\"type\":\"request\",\"id\":1}", LL_ERR_SCHEMA,
		  "missing field \"capabilities\"");
	parse_bad("{\"type\":\"grant\",\"capabilities\":[\"view\"]}",
		  LL_ERR_SCHEMA, "missing field \"id\"");
	parse_bad("{\"type\":\"deny\"}", LL_ERR_SCHEMA, "\"id\"");
	parse_bad("{\"type\":\"revoke\"}", LL_ERR_SCHEMA, "\"capabilities\"");
	parse_bad("{\"type\":\"chat\"}", LL_ERR_SCHEMA, "\"text\"");
	parse_bad("{\"type\":\"file_offer\",\"channel\":2,\"name\":\"a\","
		  "\"size\":1}",
		  LL_ERR_SCHEMA, "\"sha256\"");
	parse_bad("{\"type\":\"file_accept\",\"channel\":2}", LL_ERR_SCHEMA,
		  "\"offset\"");
	parse_bad("{\"type\":\"end\"}", LL_ERR_SCHEMA, "\"reason\"");
	parse_bad("{\"type\":\"error\",\"code\":\"x\"}", LL_ERR_SCHEMA,
		  "\"message\"");
	/* Unknown extra fields. */
	parse_bad("{\"type\":\"deny\",\"id\":1,\"extra\":true}", LL_ERR_SCHEMA,
		  "unknown field \"extra\"");
	parse_bad("{\"type\":\"chat\",\"text\":\"x\",\"id\":1}", LL_ERR_SCHEMA,
		  "unknown field \"id\"");
	/* Wrong JSON types. */
	parse_bad("{\"type\":\"hello\",\"version\":\"1\",\"role\":\"agent\"}",
		  LL_ERR_SCHEMA, "\"version\" must be an integer");
	parse_bad("{\"type\":\"hello\",\"version\":1.0,\"role\":\"agent\"}",
		  LL_ERR_SCHEMA, "\"version\"");
	parse_bad("{\"type\":\"hello\",\"version\":1,\"role\":1}",
		  LL_ERR_SCHEMA, "\"role\" must be a string");
	parse_bad("{\"type\":\"hello\",\"version\":1,\"role\":\"admin\"}",
		  LL_ERR_SCHEMA, "\"role\"");
	parse_bad("{\"type\":\"hello\",\"version\":1,\"role\":\"agent\","
		  "\"name\":null}",
		  LL_ERR_SCHEMA, "\"name\"");
	parse_bad("{\"type\":\"deny\",\"id\":true}", LL_ERR_SCHEMA, "\"id\"");
	/* deny's reason and retry_after: known words, and a wait only
	 * where the same thing may be asked again */
	parse_bad("{\"type\":\"deny\",\"id\":1,\"reason\":\"maybe\"}",
		  LL_ERR_SCHEMA, "\"reason\"");
	parse_bad("{\"type\":\"deny\",\"id\":1,\"reason\":\"\"}",
		  LL_ERR_SCHEMA, "\"reason\"");
	parse_bad("{\"type\":\"deny\",\"id\":1,\"reason\":\"held_back\"}",
		  LL_ERR_SCHEMA, "\"retry_after\"");
	parse_bad("{\"type\":\"deny\",\"id\":1,\"reason\":\"no_more\","
		  "\"retry_after\":5}",
		  LL_ERR_SCHEMA, "\"retry_after\"");
	parse_bad("{\"type\":\"deny\",\"id\":1,\"retry_after\":5}",
		  LL_ERR_SCHEMA, "\"retry_after\"");
	parse_bad("{\"type\":\"deny\",\"id\":1,\"reason\":\"held_back\","
		  "\"retry_after\":0}",
		  LL_ERR_SCHEMA, "\"retry_after\"");
	parse_bad("{\"type\":\"deny\",\"id\":1,\"reason\":\"held_back\","
		  "\"retry_after\":3601}",
		  LL_ERR_SCHEMA, "\"retry_after\"");
	parse_bad("{\"type\":\"deny\",\"id\":-1}", LL_ERR_SCHEMA,
		  "\"id\" out of range");
	parse_bad("{\"type\":\"deny\",\"id\":4294967296}", LL_ERR_SCHEMA,
		  "\"id\" out of range");
	parse_bad("{\"type\":\"request\",\"id\":1,\"capabilities\":\"view\"}",
		  LL_ERR_SCHEMA, "must be an array");
	parse_bad("{\"type\":\"request\",\"id\":1,\"capabilities\":[1]}",
		  LL_ERR_SCHEMA, "must hold strings");
	parse_bad("{\"type\":\"request\",\"id\":1,\"capabilities\":[]}",
		  LL_ERR_SCHEMA, "empty");
	parse_bad("{\"type\":\"chat\",\"text\":[\"x\"]}", LL_ERR_SCHEMA,
		  "\"text\" must be a string");
	parse_bad("{\"type\":\"chat\",\"text\":\"\"}", LL_ERR_SCHEMA,
		  "\"text\" is empty");
	parse_bad("{\"type\":\"file_accept\",\"channel\":\"2\",\"offset\":0}",
		  LL_ERR_SCHEMA, "\"channel\"");
	parse_bad("{\"type\":\"file_accept\",\"channel\":2,\"offset\":{}}",
		  LL_ERR_SCHEMA, "\"offset\"");
	parse_bad("{\"type\":\"end\",\"reason\":false}", LL_ERR_SCHEMA,
		  "\"reason\"");
	parse_bad("{\"type\":\"error\",\"code\":7,\"message\":\"m\"}",
		  LL_ERR_SCHEMA, "\"code\"");
	parse_bad("{\"type\":\"error\",\"code\":\"Bad Code\",\"message\":"
		  "\"m\"}",
		  LL_ERR_SCHEMA, "\"code\"");
	/* Unknown and repeated capabilities. */
	parse_bad("{\"type\":\"request\",\"id\":1,\"capabilities\":"
		  "[\"view\",\"admin\"]}",
		  LL_ERR_SCHEMA, "unknown capability \"admin\"");
	parse_bad("{\"type\":\"grant\",\"id\":1,\"capabilities\":[\"VIEW\"]}",
		  LL_ERR_SCHEMA, "unknown capability");
	parse_bad("{\"type\":\"revoke\",\"capabilities\":[\"view\","
		  "\"view\"]}",
		  LL_ERR_SCHEMA, "twice");
	/* Ranges and formats. */
	parse_bad("{\"type\":\"file_accept\",\"channel\":1,\"offset\":0}",
		  LL_ERR_SCHEMA, "\"channel\" out of range");
	parse_bad("{\"type\":\"file_accept\",\"channel\":65536,\"offset\":0}",
		  LL_ERR_SCHEMA, "\"channel\" out of range");
	parse_bad("{\"type\":\"file_accept\",\"channel\":2,"
		  "\"offset\":9007199254740993}",
		  LL_ERR_SCHEMA, "\"offset\" out of range");
	parse_bad("{\"type\":\"file_offer\",\"channel\":2,\"name\":\"a\","
		  "\"size\":1,\"sha256\":\"9F86D081884C7D659A2FEAA0C55AD015"
		  "A3BF4F1B2B0B822CD15D6C15B0F00A08\"}",
		  LL_ERR_SCHEMA, "\"sha256\"");
	parse_bad("{\"type\":\"file_offer\",\"channel\":2,\"name\":\"a\","
		  "\"size\":1,\"sha256\":\"abc\"}",
		  LL_ERR_SCHEMA, "\"sha256\"");
	parse_bad("{\"type\":\"file_offer\",\"channel\":2,\"name\":\"a\","
		  "\"size\":-1,\"sha256\":\"" SHA "\"}",
		  LL_ERR_SCHEMA, "\"size\"");
}

static void test_file_names(void)
{
	static const char *const bad[] = {
		"../etc/passwd", "a/b",       "/abs",    "a\\\\b", "..", ".",
		"a\\nb",         "a\\u0001b", "\\u007f",
	};
	GString *name = g_string_new(NULL);
	char *json;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		json = g_strdup_printf("{\"type\":\"file_offer\",\"channel\":2,"
				       "\"name\":\"%s\",\"size\":1,"
				       "\"sha256\":\"" SHA "\"}",
				       bad[i]);
		parse_bad(json, LL_ERR_SCHEMA, "\"name\"");
		g_free(json);
	}
	/* 255 bytes pass, 256 are too large. */
	while (name->len < LL_CONTROL_MAX_FILENAME)
		g_string_append_c(name, 'n');
	json = g_strdup_printf("{\"type\":\"file_offer\",\"channel\":2,"
			       "\"name\":\"%s\",\"size\":1,\"sha256\":\"" SHA
			       "\"}",
			       name->str);
	ll_control_msg_free(parse_ok(json));
	g_free(json);
	g_string_append_c(name, 'n');
	json = g_strdup_printf("{\"type\":\"file_offer\",\"channel\":2,"
			       "\"name\":\"%s\",\"size\":1,\"sha256\":\"" SHA
			       "\"}",
			       name->str);
	parse_bad(json, LL_ERR_TOO_LARGE, "\"name\" over 255 bytes");
	g_free(json);
	g_string_free(name, TRUE);
}

static void test_unknown_type_and_version(void)
{
	parse_bad("{\"type\":\"shell\",\"cmd\":\"rm\"}", LL_ERR_UNKNOWN_TYPE,
		  "unknown message type \"shell\"");
	parse_bad("{\"type\":\"\"}", LL_ERR_UNKNOWN_TYPE, NULL);
	parse_bad("{\"type\":\"Hello\"}", LL_ERR_UNKNOWN_TYPE, NULL);
	/* Control characters of the peer do not reach our sentence. */
	parse_bad("{\"type\":\"x\\ny\"}", LL_ERR_UNKNOWN_TYPE,
		  "\"x" LL_TEXT_REPLACEMENT "y\"");
	parse_bad("{\"type\":\"hello\",\"version\":2,\"role\":\"agent\"}",
		  LL_ERR_BAD_VERSION, "\"version\"");
	parse_bad("{\"type\":\"hello\",\"version\":0,\"role\":\"agent\"}",
		  LL_ERR_BAD_VERSION, NULL);
}

static void test_too_large(void)
{
	GString *s = g_string_new("{\"type\":\"chat\",\"text\":\"");
	size_t start = s->len;
	char *big;

	while (s->len - start < LL_CONTROL_MAX_CHAT)
		g_string_append_c(s, 'x');
	g_string_append(s, "\"}");
	ll_control_msg_free(parse_ok(s->str));
	g_string_insert_c(s, (gssize)start, 'x');
	parse_bad(s->str, LL_ERR_TOO_LARGE, "\"text\" over 4096 bytes");
	/* Multibyte characters count in bytes. */
	g_string_truncate(s, start);
	while (s->len - start <= LL_CONTROL_MAX_CHAT)
		g_string_append(s, "\xc3\xa9");
	g_string_append(s, "\"}");
	parse_bad(s->str, LL_ERR_TOO_LARGE, "\"text\"");
	g_string_free(s, TRUE);

	/* The whole message: refused before JSON parsing. */
	big = g_malloc(LL_CONTROL_MAX_MSG + 2);
	memset(big, ' ', LL_CONTROL_MAX_MSG + 1);
	big[0] = '{';
	big[LL_CONTROL_MAX_MSG] = '}';
	big[LL_CONTROL_MAX_MSG + 1] = '\0';
	parse_bad(big, LL_ERR_TOO_LARGE, "message over 65536 bytes");
	g_free(big);

	s = g_string_new("{\"type\":\"end\",\"reason\":\"");
	while (s->len < 1100)
		g_string_append_c(s, 'r');
	g_string_append(s, "\"}");
	parse_bad(s->str, LL_ERR_TOO_LARGE, "\"reason\" over 1024 bytes");
	g_string_free(s, TRUE);
}

static void roundtrip(const struct ll_control_msg *in,
		      struct ll_control_msg **out)
{
	struct ll_buf *b = ll_buf_new(LL_CONTROL_MAX_MSG + 4);
	int n;

	g_assert_cmpint(ll_control_serialize(in, b), ==, 0);
	g_assert_cmpint(ll_control_parse(ll_buf_data(b), ll_buf_len(b), out,
					 NULL, 0),
			==, 0);
	ll_buf_reset(b);
	{
		struct ll_control_msg *again = NULL;

		g_assert_cmpint(ll_control_encode(in, b), ==, 0);
		n = ll_control_decode(ll_buf_data(b), ll_buf_len(b), &again,
				      NULL, 0);
		g_assert_cmpint(n, ==, (int)ll_buf_len(b));
		g_assert_cmpint(again->type, ==, in->type);
		ll_control_msg_free(again);
	}
	ll_buf_free(b);
}

static void test_serialize_roundtrip(void)
{
	struct ll_control_msg in, *out = NULL;

	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_HELLO;
	in.u.hello.version = LL_CONTROL_VERSION;
	in.u.hello.role = LL_SIDE_APPLET;
	in.u.hello.org = "Org \"Q\"";
	roundtrip(&in, &out);
	g_assert_cmpint(out->u.hello.role, ==, LL_SIDE_APPLET);
	g_assert_null(out->u.hello.name);
	g_assert_cmpstr(out->u.hello.org, ==, "Org \"Q\"");
	ll_control_msg_free(out);

	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_GRANT;
	in.u.grant.id = 12;
	in.u.grant.caps = LL_CAP_VIEW | LL_CAP_CHAT;
	roundtrip(&in, &out);
	g_assert_cmpint(out->type, ==, LL_CONTROL_GRANT);
	g_assert_cmpuint(out->u.grant.id, ==, 12);
	g_assert_cmpuint(out->u.grant.caps, ==, LL_CAP_VIEW | LL_CAP_CHAT);
	ll_control_msg_free(out);

	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_REVOKE;
	in.u.revoke.caps = LL_CAP_CONTROL;
	roundtrip(&in, &out);
	g_assert_cmpuint(out->u.revoke.caps, ==, LL_CAP_CONTROL);
	ll_control_msg_free(out);

	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_DENY;
	in.u.deny.id = 3;
	roundtrip(&in, &out);
	g_assert_cmpuint(out->u.deny.id, ==, 3);
	g_assert_cmpint(out->u.deny.reason, ==, LL_DENY_UNSAID);
	ll_control_msg_free(out);
	in.u.deny.reason = LL_DENY_HELD_BACK;
	in.u.deny.retry_after = 30;
	roundtrip(&in, &out);
	g_assert_cmpint(out->u.deny.reason, ==, LL_DENY_HELD_BACK);
	g_assert_cmpuint(out->u.deny.retry_after, ==, 30);
	ll_control_msg_free(out);
	{
		struct ll_buf *b = ll_buf_new(256);

		/* what the parser refuses is never sent */
		in.u.deny.reason = LL_DENY_NO_MORE;
		g_assert_cmpint(ll_control_serialize(&in, b), ==,
				LL_ERR_SCHEMA);
		in.u.deny.reason = 9;
		in.u.deny.retry_after = 0;
		g_assert_cmpint(ll_control_serialize(&in, b), ==,
				LL_ERR_SCHEMA);
		g_assert_cmpuint(ll_buf_len(b), ==, 0);
		ll_buf_free(b);
	}

	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_CHAT;
	in.u.chat.text = "line 1\nline 2 \xe2\x82\xac";
	roundtrip(&in, &out);
	g_assert_cmpstr(out->u.chat.text, ==, in.u.chat.text);
	ll_control_msg_free(out);

	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_FILE_OFFER;
	in.u.file_offer.channel = 4;
	in.u.file_offer.name = "photo.jpg";
	in.u.file_offer.size = 123456789;
	memcpy(in.u.file_offer.sha256, SHA, 65);
	roundtrip(&in, &out);
	g_assert_cmpuint(out->u.file_offer.channel, ==, 4);
	g_assert_cmpstr(out->u.file_offer.name, ==, "photo.jpg");
	g_assert_cmpuint(out->u.file_offer.size, ==, 123456789);
	g_assert_cmpstr(out->u.file_offer.sha256, ==, SHA);
	ll_control_msg_free(out);

	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_FILE_ACCEPT;
	in.u.file_accept.channel = 4;
	in.u.file_accept.offset = 4096;
	roundtrip(&in, &out);
	g_assert_cmpuint(out->u.file_accept.offset, ==, 4096);
	ll_control_msg_free(out);

	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_END;
	in.u.end.reason = "done";
	roundtrip(&in, &out);
	g_assert_cmpstr(out->u.end.reason, ==, "done");
	ll_control_msg_free(out);

	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_ERROR;
	in.u.error.code = "not_granted";
	in.u.error.message = "no";
	roundtrip(&in, &out);
	g_assert_cmpstr(out->u.error.code, ==, "not_granted");
	ll_control_msg_free(out);
}

/* monitors (applet -> agent) and select_monitor (agent -> applet). */
/* user_info: who sits at the applet, in names people read. */
static void test_user_info(void)
{
	struct ll_control_msg *m, in = { .type = LL_CONTROL_USER_INFO };
	struct ll_buf *b = ll_buf_new(1 << 12);
	char *json, name257[258], host256[257];

	m = parse_ok("{\"type\":\"user_info\",\"name\":\"Jos\\u00e9 "
		     "Garc\\u00eda\",\"host\":\"pc-01.example\"}");
	g_assert_cmpint(m->type, ==, LL_CONTROL_USER_INFO);
	g_assert_cmpstr(m->u.user_info.name, ==,
			"Jos\xc3\xa9 Garc\xc3\xad"
			"a");
	g_assert_cmpstr(m->u.user_info.host, ==, "pc-01.example");
	g_assert_cmpstr(ll_control_type_name(LL_CONTROL_USER_INFO), ==,
			"user_info");
	ll_control_msg_free(m);

	parse_bad("{\"type\":\"user_info\",\"name\":\"a\"}", LL_ERR_SCHEMA,
		  "missing field \"host\"");
	parse_bad("{\"type\":\"user_info\",\"host\":\"h\"}", LL_ERR_SCHEMA,
		  "missing field \"name\"");
	parse_bad("{\"type\":\"user_info\",\"name\":\"\",\"host\":\"h\"}",
		  LL_ERR_SCHEMA, "is empty");
	parse_bad("{\"type\":\"user_info\",\"name\":\"a\\u001b[2J\","
		  "\"host\":\"h\"}",
		  LL_ERR_SCHEMA, "control characters");
	parse_bad("{\"type\":\"user_info\",\"name\":\"a\",\"host\":"
		  "\"h\\n\"}",
		  LL_ERR_SCHEMA, "control characters");
	parse_bad("{\"type\":\"user_info\",\"name\":\"a\",\"host\":\"h\","
		  "\"photo\":\"x\"}",
		  LL_ERR_SCHEMA, "photo");
	memset(name257, 'n', 257);
	name257[257] = '\0';
	json = g_strdup_printf("{\"type\":\"user_info\",\"name\":\"%s\","
			       "\"host\":\"h\"}",
			       name257);
	parse_bad(json, LL_ERR_TOO_LARGE, "over 256 bytes");
	g_free(json);
	memset(host256, 'h', 256);
	host256[256] = '\0';
	json = g_strdup_printf("{\"type\":\"user_info\",\"name\":\"a\","
			       "\"host\":\"%s\"}",
			       host256);
	parse_bad(json, LL_ERR_TOO_LARGE, "over 255 bytes");
	g_free(json);

	/* what the applet builds travels, and nothing with a control */
	in.u.user_info.name = "Jane Doe";
	in.u.user_info.host = "pc-01";
	g_assert_cmpint(ll_control_serialize(&in, b), ==, 0);
	ll_buf_reset(b);
	in.u.user_info.host = "pc\x07";
	g_assert_cmpint(ll_control_serialize(&in, b), !=, 0);
	ll_buf_free(b);
}

static void test_monitors(void)
{
	struct ll_control_msg *m, in, *out = NULL;
	struct ll_control_monitor list[LL_CONTROL_MAX_MONITORS + 1];
	struct ll_buf *b = ll_buf_new(1 << 17);
	GString *many = g_string_new(NULL);
	char name65[66];
	char *json;
	size_t i;

	m = parse_ok("{\"type\":\"monitors\",\"monitors\":["
		     "{\"name\":\"all\",\"x\":0,\"y\":0,\"width\":2944,"
		     "\"height\":1080},"
		     "{\"name\":\"DP-1\",\"x\":1024,\"y\":0,\"width\":1920,"
		     "\"height\":1080},"
		     "{\"name\":\"left \\u00e9\",\"x\":-65535,\"y\":65535,"
		     "\"width\":1,\"height\":65535}],"
		     "\"current\":\"DP-1\"}");
	g_assert_cmpint(m->type, ==, LL_CONTROL_MONITORS);
	g_assert_cmpuint(m->u.monitors.n, ==, 3);
	g_assert_cmpstr(m->u.monitors.list[0].name, ==, "all");
	g_assert_cmpuint(m->u.monitors.list[0].width, ==, 2944);
	g_assert_cmpint(m->u.monitors.list[1].x, ==, 1024);
	g_assert_cmpuint(m->u.monitors.list[1].height, ==, 1080);
	g_assert_cmpstr(m->u.monitors.list[2].name, ==, "left \xc3\xa9");
	g_assert_cmpint(m->u.monitors.list[2].x, ==, -65535);
	g_assert_cmpint(m->u.monitors.list[2].y, ==, 65535);
	g_assert_cmpstr(m->u.monitors.current, ==, "DP-1");
	g_assert_cmpstr(ll_control_type_name(LL_CONTROL_MONITORS), ==,
			"monitors");
	ll_control_msg_free(m);

	m = parse_ok("{\"type\":\"select_monitor\",\"name\":\"HDMI-2\"}");
	g_assert_cmpint(m->type, ==, LL_CONTROL_SELECT_MONITOR);
	g_assert_cmpstr(m->u.select_monitor.name, ==, "HDMI-2");
	ll_control_msg_free(m);

#define MON(n, rest)                                                          \
	"{\"name\":\"" n "\",\"x\":0,\"y\":0,\"width\":8,"                    \
	"\"height\":8" rest "}"
	/* Fields of the message and of each entry, named. */
	parse_bad("{\"type\":\"monitors\",\"current\":\"all\"}", LL_ERR_SCHEMA,
		  "missing field \"monitors\"");
	parse_bad("{\"type\":\"monitors\",\"monitors\":[" MON("all", "") "]}",
		  LL_ERR_SCHEMA, "missing field \"current\"");
	parse_bad("{\"type\":\"monitors\",\"monitors\":{},\"current\":"
		  "\"all\"}",
		  LL_ERR_SCHEMA, "must be an array");
	parse_bad("{\"type\":\"monitors\",\"monitors\":[],\"current\":"
		  "\"all\"}",
		  LL_ERR_SCHEMA, "\"monitors\" is empty");
	parse_bad("{\"type\":\"monitors\",\"monitors\":[\"all\"],"
		  "\"current\":\"all\"}",
		  LL_ERR_SCHEMA, "not an object");
	parse_bad("{\"type\":\"monitors\",\"monitors\":[" MON(
			  "all", ",\"primary\":true") "],\"current\":\"all\"}",
		  LL_ERR_SCHEMA, "unknown field \"primary\" in monitor 0");
	parse_bad("{\"type\":\"monitors\",\"monitors\":[{\"name\":\"a\","
		  "\"x\":0,\"y\":0,\"width\":8}],\"current\":\"a\"}",
		  LL_ERR_SCHEMA, "missing field \"height\"");
	parse_bad("{\"type\":\"monitors\",\"monitors\":[" MON(
			  "all", "") "],\"current\":\"all\",\"extra\":1}",
		  LL_ERR_SCHEMA, "unknown field \"extra\"");
	/* Ranges. */
	parse_bad("{\"type\":\"monitors\",\"monitors\":[{\"name\":\"a\","
		  "\"x\":0,\"y\":0,\"width\":0,\"height\":8}],"
		  "\"current\":\"a\"}",
		  LL_ERR_SCHEMA, "\"width\" out of range");
	parse_bad("{\"type\":\"monitors\",\"monitors\":[{\"name\":\"a\","
		  "\"x\":0,\"y\":0,\"width\":8,\"height\":65536}],"
		  "\"current\":\"a\"}",
		  LL_ERR_SCHEMA, "\"height\" out of range");
	parse_bad("{\"type\":\"monitors\",\"monitors\":[{\"name\":\"a\","
		  "\"x\":-65536,\"y\":0,\"width\":8,\"height\":8}],"
		  "\"current\":\"a\"}",
		  LL_ERR_SCHEMA, "\"x\" out of range");
	parse_bad("{\"type\":\"monitors\",\"monitors\":[{\"name\":\"a\","
		  "\"x\":0,\"y\":1.5,\"width\":8,\"height\":8}],"
		  "\"current\":\"a\"}",
		  LL_ERR_SCHEMA, "\"y\" must be an integer");
	/* Names: distinct, current among them, no controls, capped. */
	parse_bad("{\"type\":\"monitors\",\"monitors\":[" MON("a", "") "," MON(
			  "a", "") "],\"current\":\"a\"}",
		  LL_ERR_SCHEMA, "twice");
	parse_bad("{\"type\":\"monitors\",\"monitors\":[" MON(
			  "a", "") "],\"current\":\"b\"}",
		  LL_ERR_SCHEMA, "\"current\" names no monitor");
	parse_bad("{\"type\":\"monitors\",\"monitors\":[" MON(
			  "a\\u001b[2J", "") "],\"current\":\"a\"}",
		  LL_ERR_SCHEMA, "control characters");
	parse_bad("{\"type\":\"monitors\",\"monitors\":[" MON(
			  "", "") "],\"current\":\"\"}",
		  LL_ERR_SCHEMA, "\"name\" is empty");
	memset(name65, 'm', 65);
	name65[65] = '\0';
	json = g_strdup_printf("{\"type\":\"select_monitor\",\"name\":\"%s\"}",
			       name65);
	parse_bad(json, LL_ERR_TOO_LARGE, "\"name\" over 64 bytes");
	g_free(json);
	name65[64] = '\0';
	json = g_strdup_printf("{\"type\":\"select_monitor\",\"name\":\"%s\"}",
			       name65);
	m = parse_ok(json);
	g_assert_cmpuint(strlen(m->u.select_monitor.name), ==, 64);
	ll_control_msg_free(m);
	g_free(json);
	parse_bad("{\"type\":\"select_monitor\",\"name\":\"a\\u0000b\"}",
		  LL_ERR_BAD_JSON, "JSON_ALLOW_NUL");
	parse_bad("{\"type\":\"select_monitor\",\"name\":\"a\\nb\"}",
		  LL_ERR_SCHEMA, "control characters");
	parse_bad("{\"type\":\"select_monitor\"}", LL_ERR_SCHEMA,
		  "missing field \"name\"");
	parse_bad("{\"type\":\"select_monitor\",\"name\":1}", LL_ERR_SCHEMA,
		  "\"name\" must be a string");
	parse_bad("{\"type\":\"select_monitor\",\"name\":\"a\",\"x\":1}",
		  LL_ERR_SCHEMA, "unknown field \"x\"");
	/* At most LL_CONTROL_MAX_MONITORS entries: 16 pass, 17 do not. */
	for (i = 0; i < LL_CONTROL_MAX_MONITORS; i++)
		g_string_append_printf(many,
				       "%s{\"name\":\"m%zu\",\"x\":0,"
				       "\"y\":0,\"width\":8,\"height\":8}",
				       i > 0 ? "," : "", i);
	json = g_strdup_printf("{\"type\":\"monitors\",\"monitors\":[%s],"
			       "\"current\":\"m0\"}",
			       many->str);
	m = parse_ok(json);
	g_assert_cmpuint(m->u.monitors.n, ==, LL_CONTROL_MAX_MONITORS);
	ll_control_msg_free(m);
	g_free(json);
	g_string_append(many, ",{\"name\":\"m16\",\"x\":0,\"y\":0,"
			      "\"width\":8,\"height\":8}");
	json = g_strdup_printf("{\"type\":\"monitors\",\"monitors\":[%s],"
			       "\"current\":\"m0\"}",
			       many->str);
	parse_bad(json, LL_ERR_TOO_LARGE, "over 16 entries");
	g_free(json);
#undef MON
	g_assert_true(ll_control_monitor_name_ok("DP-1"));
	g_assert_false(ll_control_monitor_name_ok(""));
	g_assert_false(ll_control_monitor_name_ok(NULL));
	g_assert_false(ll_control_monitor_name_ok("a\x7f"));
	g_assert_true(ll_control_monitor_name_ok(name65)); /* 64 bytes */

	/* Serialising: the same rules, nothing half-written. */
	memset(&in, 0, sizeof(in));
	memset(list, 0, sizeof(list));
	in.type = LL_CONTROL_MONITORS;
	g_strlcpy(list[0].name, "all", sizeof(list[0].name));
	list[0].width = 1024;
	list[0].height = 768;
	g_strlcpy(list[1].name, "LL-MON2", sizeof(list[1].name));
	list[1].x = 100;
	list[1].y = -50;
	list[1].width = 400;
	list[1].height = 300;
	in.u.monitors.list = list;
	in.u.monitors.n = 2;
	in.u.monitors.current = "LL-MON2";
	roundtrip(&in, &out);
	g_assert_cmpuint(out->u.monitors.n, ==, 2);
	g_assert_cmpstr(out->u.monitors.list[1].name, ==, "LL-MON2");
	g_assert_cmpint(out->u.monitors.list[1].y, ==, -50);
	g_assert_cmpuint(out->u.monitors.list[1].width, ==, 400);
	g_assert_cmpstr(out->u.monitors.current, ==, "LL-MON2");
	ll_control_msg_free(out);

	g_assert_cmpint(ll_buf_put(b, "keep", 4), ==, 0);
#define BAD(want)                                                             \
	do {                                                                  \
		g_assert_cmpint(ll_control_serialize(&in, b), ==, want);      \
		g_assert_cmpint(ll_control_encode(&in, b), ==, want);         \
		g_assert_cmpuint(ll_buf_len(b), ==, 4);                       \
	} while (0)
	in.u.monitors.current = "DP-9";
	BAD(LL_ERR_SCHEMA); /* current not in the list */
	in.u.monitors.current = NULL;
	BAD(LL_ERR_SCHEMA);
	in.u.monitors.current = "all";
	list[1].width = 0;
	BAD(LL_ERR_SCHEMA);
	list[1].width = 70000;
	BAD(LL_ERR_SCHEMA);
	list[1].width = 400;
	g_strlcpy(list[1].name, "all", sizeof(list[1].name));
	BAD(LL_ERR_SCHEMA); /* twice */
	memset(list[1].name, 'x', sizeof(list[1].name));
	BAD(LL_ERR_SCHEMA); /* not terminated */
	g_strlcpy(list[1].name, "LL-MON2", sizeof(list[1].name));
	in.u.monitors.n = 0;
	BAD(LL_ERR_SCHEMA);
	in.u.monitors.n = LL_CONTROL_MAX_MONITORS + 1;
	BAD(LL_ERR_TOO_LARGE);
	in.u.monitors.n = 2;
	in.u.monitors.list = NULL;
	BAD(LL_ERR_SCHEMA);

	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_SELECT_MONITOR;
	BAD(LL_ERR_SCHEMA); /* NULL name */
	in.u.select_monitor.name = "tab\there";
	BAD(LL_ERR_SCHEMA);
	in.u.select_monitor.name = "\xff";
	BAD(LL_ERR_SCHEMA);                /* not UTF-8 */
	in.u.select_monitor.name = name65; /* 64 bytes: fine */
	roundtrip(&in, &out);
	g_assert_cmpstr(out->u.select_monitor.name, ==, name65);
	ll_control_msg_free(out);
	memset(name65, 'm', 65);
	g_assert_false(ll_control_monitor_name_ok(name65));
	in.u.select_monitor.name = name65;
	BAD(LL_ERR_TOO_LARGE);
#undef BAD
	g_string_free(many, TRUE);
	ll_buf_free(b);
}

static void test_serialize_invalid(void)
{
	struct ll_buf *b = ll_buf_new(1 << 17);
	struct ll_control_msg in;
	GString *big = g_string_new(NULL);

	g_assert_cmpint(ll_buf_put(b, "keep", 4), ==, 0);
#define BAD(want)                                                             \
	do {                                                                  \
		g_assert_cmpint(ll_control_serialize(&in, b), ==, want);      \
		g_assert_cmpint(ll_control_encode(&in, b), ==, want);         \
		g_assert_cmpuint(ll_buf_len(b), ==, 4);                       \
	} while (0)
	memset(&in, 0, sizeof(in));
	BAD(LL_ERR_UNKNOWN_TYPE);
	in.type = 99;
	BAD(LL_ERR_UNKNOWN_TYPE);

	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_REQUEST;
	BAD(LL_ERR_SCHEMA); /* no capabilities */
	in.u.request.caps = LL_CAP_VIEW | 0x100;
	BAD(LL_ERR_SCHEMA);

	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_HELLO;
	in.u.hello.version = 2;
	in.u.hello.role = LL_SIDE_AGENT;
	BAD(LL_ERR_BAD_VERSION);
	in.u.hello.version = 1;
	in.u.hello.role = (enum ll_side)LL_SIDE_COUNT; /* neither side */
	BAD(LL_ERR_SCHEMA);

	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_CHAT;
	BAD(LL_ERR_SCHEMA); /* NULL text */
	in.u.chat.text = "\xff\xfe";
	BAD(LL_ERR_SCHEMA); /* not UTF-8 */
	while (big->len <= LL_CONTROL_MAX_CHAT)
		g_string_append_c(big, 'x');
	in.u.chat.text = big->str;
	BAD(LL_ERR_TOO_LARGE);

	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_FILE_OFFER;
	in.u.file_offer.channel = 2;
	in.u.file_offer.name = "../x";
	memcpy(in.u.file_offer.sha256, SHA, 65);
	BAD(LL_ERR_SCHEMA);
	in.u.file_offer.name = "x";
	in.u.file_offer.channel = 0;
	BAD(LL_ERR_SCHEMA);
	in.u.file_offer.channel = 2;
	memset(in.u.file_offer.sha256, 'a', sizeof(in.u.file_offer.sha256));
	BAD(LL_ERR_SCHEMA); /* not terminated */
	memcpy(in.u.file_offer.sha256, SHA, 65);
	in.u.file_offer.size = LL_CONTROL_MAX_SIZE + 1;
	BAD(LL_ERR_SCHEMA);
#undef BAD
	g_assert_cmpint(ll_control_serialize(NULL, b), ==, LL_ERR_INVALID_ARG);
	g_string_free(big, TRUE);
	ll_buf_free(b);
}

static void test_decode_framing(void)
{
	struct ll_buf *b = ll_buf_new(1 << 17);
	struct ll_control_msg in, *m = NULL;
	char err[LL_CONTROL_ERR_LEN];
	size_t i, first;
	int n;

	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_DENY;
	in.u.deny.id = 1;
	g_assert_cmpint(ll_control_encode(&in, b), ==, 0);
	first = ll_buf_len(b);
	in.u.deny.id = 2;
	g_assert_cmpint(ll_control_encode(&in, b), ==, 0);

	for (i = 0; i < first; i++) {
		g_assert_cmpint(ll_control_decode(ll_buf_data(b), i, &m, NULL,
						  0),
				==, 0);
		g_assert_null(m);
	}
	n = ll_control_decode(ll_buf_data(b), ll_buf_len(b), &m, NULL, 0);
	g_assert_cmpint(n, ==, (int)first);
	g_assert_cmpuint(m->u.deny.id, ==, 1);
	ll_control_msg_free(m);
	m = NULL;
	n = ll_control_decode(ll_buf_data(b) + first, ll_buf_len(b) - first,
			      &m, NULL, 0);
	g_assert_cmpuint(m->u.deny.id, ==, 2);
	ll_control_msg_free(m);
	m = NULL;

	/* Oversized length prefix: refused from 4 bytes. */
	g_assert_cmpint(ll_control_decode((const uint8_t *)"\x00\x01\x00\x01",
					  4, &m, err, sizeof(err)),
			==, LL_ERR_TOO_LARGE);
	g_assert_nonnull(strstr(err, "over"));
	g_assert_cmpint(ll_control_decode((const uint8_t *)"\xff\xff\xff\xff",
					  4, &m, NULL, 0),
			==, LL_ERR_TOO_LARGE);
	/* A framed message with a bad body keeps the body's error. */
	g_assert_cmpint(ll_control_decode((const uint8_t *)"\x00\x00\x00\x02[]",
					  6, &m, err, sizeof(err)),
			==, LL_ERR_SCHEMA);
	g_assert_cmpint(ll_control_decode((const uint8_t *)"\x00\x00\x00\x00",
					  4, &m, NULL, 0),
			==, LL_ERR_BAD_JSON);
	g_assert_null(m);
	ll_buf_free(b);
}

/* ping and pong: the session pump's liveness (ll_session_io.h). */
static void test_ping(void)
{
	struct ll_control_msg in, *out = NULL, *m;

	m = parse_ok("{\"type\":\"ping\",\"seq\":4294967295}");
	g_assert_cmpint(m->type, ==, LL_CONTROL_PING);
	g_assert_cmpuint(m->u.ping.seq, ==, 4294967295u);
	ll_control_msg_free(m);
	m = parse_ok("{\"type\":\"pong\",\"seq\":0}");
	g_assert_cmpint(m->type, ==, LL_CONTROL_PONG);
	ll_control_msg_free(m);
	parse_bad("{\"type\":\"ping\"}", LL_ERR_SCHEMA, "seq");
	parse_bad("{\"type\":\"ping\",\"seq\":4294967296}", LL_ERR_SCHEMA,
		  "seq");
	parse_bad("{\"type\":\"pong\",\"seq\":\"1\"}", LL_ERR_SCHEMA, "seq");
	parse_bad("{\"type\":\"pong\",\"seq\":1,\"t\":2}", LL_ERR_SCHEMA,
		  "unknown field \"t\"");
	memset(&in, 0, sizeof(in));
	in.type = LL_CONTROL_PONG;
	in.u.ping.seq = 77;
	roundtrip(&in, &out);
	g_assert_cmpint(out->type, ==, LL_CONTROL_PONG);
	g_assert_cmpuint(out->u.ping.seq, ==, 77);
	ll_control_msg_free(out);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/control/caps", test_caps);
	g_test_add_func("/control/perms", test_perms);
	g_test_add_func("/control/parse_valid", test_parse_valid);
	g_test_add_func("/control/bad_json", test_bad_json);
	g_test_add_func("/control/truncated_every_byte",
			test_truncated_every_byte);
	g_test_add_func("/control/schema", test_schema);
	g_test_add_func("/control/file_names", test_file_names);
	g_test_add_func("/control/unknown_type_and_version",
			test_unknown_type_and_version);
	g_test_add_func("/control/too_large", test_too_large);
	g_test_add_func("/control/serialize_roundtrip",
			test_serialize_roundtrip);
	g_test_add_func("/control/serialize_invalid", test_serialize_invalid);
	g_test_add_func("/control/decode_framing", test_decode_framing);
	g_test_add_func("/control/monitors", test_monitors);
	g_test_add_func("/control/user_info", test_user_info);
	g_test_add_func("/control/ping", test_ping);
	return g_test_run();
}
