/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control messages of issue 13's clipboard and system information:
 * clipboard, sysinfo_request and sysinfo (ll_control.h, ll_sysinfo.h).
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "ll_buf.h"
#include "ll_control.h"
#include "ll_err.h"
#include "ll_sysinfo.h"

/* A valid sysinfo message with one field replaced by `field` (JSON
 * "key":value), or as it is when field is NULL. */
static char *sysinfo_json(const char *drop, const char *field)
{
	static const char *const parts[][2] = {
		{ "os", "\"os\":\"Debian GNU/Linux 12 (bookworm)\"" },
		{ "kernel", "\"kernel\":\"Linux 6.1.0 x86_64\"" },
		{ "host", "\"host\":\"pc-01\"" },
		{ "cpu", "\"cpu\":\"AMD Ryzen 5 \\u00e9\"" },
		{ "cpus", "\"cpus\":8" },
		{ "memory_total", "\"memory_total\":16000000000" },
		{ "memory_free", "\"memory_free\":8000000000" },
		{ "uptime", "\"uptime\":3600" },
		{ "disks", "\"disks\":[{\"mount\":\"/\",\"fs\":\"ext4\","
			   "\"total\":100,\"free\":40}]" },
		{ "interfaces", "\"interfaces\":[{\"name\":\"eth0\","
				"\"addresses\":[\"192.0.2.7/24\","
				"\"fe80::1/64\"]},{\"name\":\"lo\","
				"\"addresses\":[]}]" },
		{ "displays", "\"displays\":[{\"name\":\"DP-1\","
			      "\"width\":1920,\"height\":1080}]" },
	};
	GString *s = g_string_new("{\"type\":\"sysinfo\"");
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(parts); i++) {
		if (drop != NULL && strcmp(drop, parts[i][0]) == 0) {
			if (field != NULL)
				g_string_append_printf(s, ",%s", field);
			continue;
		}
		g_string_append_printf(s, ",%s", parts[i][1]);
	}
	if (drop == NULL && field != NULL)
		g_string_append_printf(s, ",%s", field);
	g_string_append_c(s, '}');
	return g_string_free(s, FALSE);
}

static struct ll_control_msg *parse_ok(const char *json)
{
	struct ll_control_msg *m = NULL;
	char err[LL_CONTROL_ERR_LEN];
	int r = ll_control_parse(json, strlen(json), &m, err, sizeof(err));

	if (r != 0)
		g_error("%s: %d %s", json, r, err);
	return m;
}

static void parse_bad(const char *json, int want, const char *part)
{
	struct ll_control_msg *m = (struct ll_control_msg *)0x1;
	char err[LL_CONTROL_ERR_LEN];
	int r = ll_control_parse(json, strlen(json), &m, err, sizeof(err));

	if (r != want)
		g_error("%s: got %d (%s), want %d", json, r, err, want);
	g_assert_true(m == (struct ll_control_msg *)0x1);
	if (part != NULL && strstr(err, part) == NULL)
		g_error("%s: sentence '%s' lacks '%s'", json, err, part);
}

static void test_clipboard(void)
{
	struct ll_control_msg *m, out = { .type = LL_CONTROL_CLIPBOARD };
	struct ll_buf *b = ll_buf_new(LL_CONTROL_MAX_MSG + 8);
	char *big;

	m = parse_ok("{\"type\":\"clipboard\",\"text\":\"ls -l\\n\\tx\"}");
	g_assert_cmpint(m->type, ==, LL_CONTROL_CLIPBOARD);
	g_assert_cmpstr(m->u.clipboard.text, ==, "ls -l\n\tx");
	ll_control_msg_free(m);
	parse_bad("{\"type\":\"clipboard\",\"text\":\"\"}", LL_ERR_SCHEMA,
		  "empty");
	parse_bad("{\"type\":\"clipboard\"}", LL_ERR_SCHEMA, "text");
	parse_bad("{\"type\":\"clipboard\",\"text\":\"a\\u0000b\"}",
		  LL_ERR_BAD_JSON, "u0000");
	parse_bad("{\"type\":\"clipboard\",\"text\":7}", LL_ERR_SCHEMA,
		  "string");
	parse_bad("{\"type\":\"clipboard\",\"text\":\"a\",\"mime\":\"x\"}",
		  LL_ERR_SCHEMA, "mime");
	/* over the cap by one byte */
	big = g_strdup_printf("{\"type\":\"clipboard\",\"text\":\"%0*d\"}",
			      (int)LL_CONTROL_MAX_CLIPBOARD + 1, 0);
	parse_bad(big, LL_ERR_TOO_LARGE, "text");
	g_free(big);
	/* the sender refuses it too, and at the cap it goes */
	big = g_malloc(LL_CONTROL_MAX_CLIPBOARD + 2);
	memset(big, 'x', LL_CONTROL_MAX_CLIPBOARD + 1);
	big[LL_CONTROL_MAX_CLIPBOARD + 1] = '\0';
	out.u.clipboard.text = big;
	g_assert_cmpint(ll_control_encode(&out, b), ==, LL_ERR_TOO_LARGE);
	big[LL_CONTROL_MAX_CLIPBOARD] = '\0';
	g_assert_cmpint(ll_control_encode(&out, b), ==, 0);
	g_free(big);
	ll_buf_free(b);
}

static void test_request(void)
{
	struct ll_control_msg *m;

	m = parse_ok("{\"type\":\"sysinfo_request\"}");
	g_assert_cmpint(m->type, ==, LL_CONTROL_SYSINFO_REQUEST);
	ll_control_msg_free(m);
	parse_bad("{\"type\":\"sysinfo_request\",\"what\":\"all\"}",
		  LL_ERR_SCHEMA, "what");
	g_assert_cmpstr(ll_control_type_name(LL_CONTROL_SYSINFO), ==,
			"sysinfo");
}

static void test_sysinfo_valid(void)
{
	struct ll_control_msg *m, *back = NULL;
	struct ll_buf *b = ll_buf_new(LL_CONTROL_MAX_MSG);
	const struct ll_sysinfo *si;
	char *j = sysinfo_json(NULL, NULL);

	m = parse_ok(j);
	g_free(j);
	si = m->u.sysinfo.info;
	g_assert_cmpstr(si->os, ==, "Debian GNU/Linux 12 (bookworm)");
	g_assert_cmpstr(si->host, ==, "pc-01");
	g_assert_cmpuint(si->cpus, ==, 8);
	g_assert_cmpuint(si->memory_total, ==, 16000000000ULL);
	g_assert_cmpuint(si->n_disks, ==, 1);
	g_assert_cmpstr(si->disks[0].fs, ==, "ext4");
	g_assert_cmpuint(si->disks[0].free, ==, 40);
	g_assert_cmpuint(si->n_ifaces, ==, 2);
	g_assert_cmpuint(si->ifaces[0].n_addrs, ==, 2);
	g_assert_cmpstr(si->ifaces[0].addrs[1], ==, "fe80::1/64");
	g_assert_cmpuint(si->ifaces[1].n_addrs, ==, 0);
	g_assert_cmpuint(si->n_displays, ==, 1);
	g_assert_cmpuint(si->displays[0].height, ==, 1080);
	/* what is parsed serialises back to the same message */
	g_assert_cmpint(ll_control_encode(m, b), ==, 0);
	g_assert_cmpint(ll_control_decode(ll_buf_data(b), ll_buf_len(b), &back,
					  NULL, 0),
			==, (int)ll_buf_len(b));
	g_assert_cmpstr(back->u.sysinfo.info->ifaces[0].addrs[0], ==,
			"192.0.2.7/24");
	ll_control_msg_free(back);
	ll_control_msg_free(m);
	ll_buf_free(b);
}

static void test_sysinfo_bad(void)
{
	static const struct {
		const char *drop, *field;
		int want;
		const char *part;
	} cases[] = {
		{ "os", NULL, LL_ERR_SCHEMA, "missing field \"os\"" },
		{ "os", "\"os\":\"a\\nb\"", LL_ERR_SCHEMA, "\"os\"" },
		{ "os", "\"os\":\"\"", LL_ERR_SCHEMA, "empty" },
		{ "kernel", "\"kernel\":1", LL_ERR_SCHEMA, "string" },
		{ "cpus", "\"cpus\":0", LL_ERR_SCHEMA, "cpus" },
		{ "cpus", "\"cpus\":-1", LL_ERR_SCHEMA, "cpus" },
		{ "memory_free", "\"memory_free\":16000000001", LL_ERR_SCHEMA,
		  "memory_free" },
		{ "uptime", "\"uptime\":1.5", LL_ERR_SCHEMA, "integer" },
		{ "disks", "\"disks\":{}", LL_ERR_SCHEMA, "array" },
		{ "disks",
		  "\"disks\":[{\"mount\":\"x\",\"fs\":\"ext4\",\"total\":1,"
		  "\"free\":0}]",
		  LL_ERR_SCHEMA, "disk 0" },
		{ "disks",
		  "\"disks\":[{\"mount\":\"/\",\"fs\":\"EXT 4\",\"total\":1,"
		  "\"free\":0}]",
		  LL_ERR_SCHEMA, "fs" },
		{ "disks",
		  "\"disks\":[{\"mount\":\"/\",\"fs\":\"ext4\",\"total\":1,"
		  "\"free\":2}]",
		  LL_ERR_SCHEMA, "free" },
		{ "disks",
		  "\"disks\":[{\"mount\":\"/\",\"fs\":\"ext4\",\"total\":1,"
		  "\"free\":0,\"uuid\":\"x\"}]",
		  LL_ERR_SCHEMA, "uuid" },
		{ "disks", "\"disks\":[7]", LL_ERR_SCHEMA, "object" },
		{ "interfaces",
		  "\"interfaces\":[{\"name\":\"eth0\",\"addresses\":"
		  "[\"300.1.1.1/24\"]}]",
		  LL_ERR_SCHEMA, "address 0" },
		{ "interfaces",
		  "\"interfaces\":[{\"name\":\"eth0\",\"addresses\":"
		  "[\"10.0.0.1/33\"]}]",
		  LL_ERR_SCHEMA, "address 0" },
		{ "interfaces",
		  "\"interfaces\":[{\"name\":\"eth0\",\"addresses\":"
		  "[\"10.0.0.1\"]}]",
		  LL_ERR_SCHEMA, "address 0" },
		{ "interfaces",
		  "\"interfaces\":[{\"name\":\"eth0\",\"addresses\":"
		  "[\"fe80::1/129\"]}]",
		  LL_ERR_SCHEMA, "address 0" },
		{ "interfaces",
		  "\"interfaces\":[{\"name\":\"a/b\",\"addresses\":[]}]",
		  LL_ERR_SCHEMA, "interface 0" },
		{ "displays",
		  "\"displays\":[{\"name\":\"DP-1\",\"width\":0,\"height\":"
		  "1}]",
		  LL_ERR_SCHEMA, "width" },
		{ NULL, "\"extra\":1", LL_ERR_SCHEMA, "extra" },
	};
	char *j, *big;
	GString *s;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		j = sysinfo_json(cases[i].drop, cases[i].field);
		parse_bad(j, cases[i].want, cases[i].part);
		g_free(j);
	}
	/* over a list's cap */
	s = g_string_new("\"disks\":[");
	for (i = 0; i <= LL_SYSINFO_MAX_DISKS; i++)
		g_string_append_printf(s,
				       "%s{\"mount\":\"/\",\"fs\":\"x\","
				       "\"total\":1,\"free\":1}",
				       i > 0 ? "," : "");
	g_string_append_c(s, ']');
	j = sysinfo_json("disks", s->str);
	parse_bad(j, LL_ERR_TOO_LARGE, "disks");
	g_free(j);
	g_string_free(s, TRUE);
	big = g_strdup_printf("\"cpu\":\"%0*d\"", LL_SYSINFO_MAX_TEXT + 1, 0);
	j = sysinfo_json("cpu", big);
	parse_bad(j, LL_ERR_TOO_LARGE, "cpu");
	g_free(j);
	g_free(big);
}

static void test_addr(void)
{
	g_assert_true(ll_sysinfo_addr_ok("10.1.2.3/8"));
	g_assert_true(ll_sysinfo_addr_ok("::1/128"));
	g_assert_false(ll_sysinfo_addr_ok("::1/0128"));
	g_assert_false(ll_sysinfo_addr_ok("/8"));
	g_assert_false(ll_sysinfo_addr_ok("10.1.2.3/"));
	g_assert_false(ll_sysinfo_addr_ok("10.1.2.3/8x"));
	g_assert_false(ll_sysinfo_addr_ok(NULL));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sysinfo/clipboard", test_clipboard);
	g_test_add_func("/sysinfo/request", test_request);
	g_test_add_func("/sysinfo/valid", test_sysinfo_valid);
	g_test_add_func("/sysinfo/bad", test_sysinfo_bad);
	g_test_add_func("/sysinfo/addr", test_addr);
	return g_test_run();
}
