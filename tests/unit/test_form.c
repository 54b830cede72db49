/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ll_form_parse(): the PIN page's form bodies, strictly. */
#include <glib.h>
#include <string.h>

#include "ll_err.h"
#include "ll_form.h"

static const struct ll_form_field fields[] = {
	{ "pin", 16, true },
	{ "note", 32, false },
};
#define N_FIELDS G_N_ELEMENTS(fields)

static int parse(const char *body, char **values)
{
	char why[128] = "";
	int r;

	r = ll_form_parse((const uint8_t *)body, strlen(body), fields,
			  N_FIELDS, values, why, sizeof(why));
	/* a refusal always says why, and never quotes the input */
	if (r != LL_OK) {
		g_assert_cmpstr(why, !=, "");
		g_assert_null(strstr(why, "123"));
	}
	return r;
}

static void expect(const char *body, const char *pin, const char *note)
{
	char *v[N_FIELDS] = { NULL };

	g_assert_cmpint(parse(body, v), ==, LL_OK);
	g_assert_cmpstr(v[0], ==, pin);
	g_assert_cmpstr(v[1], ==, note);
	ll_form_values_free(v, N_FIELDS);
	g_assert_null(v[0]);
}

static void refuse(const char *body, int want)
{
	char *sentinel = (char *)"untouched";
	char *v[N_FIELDS] = { sentinel, sentinel };

	g_assert_cmpint(parse(body, v), ==, want);
	g_assert_true(v[0] == sentinel && v[1] == sentinel);
}

static void test_ok(void)
{
	expect("pin=123456", "123456", NULL);
	expect("pin=123456&note=hi+there", "123456", "hi there");
	expect("note=%C3%BCber&pin=1", "1",
	       "\xc3\xbc"
	       "ber");
	expect("pin=&note=", "", "");
	expect("pin=%2a%2A", "**", NULL);
	expect("p%69n=42", "42", NULL); /* names are decoded too */
}

static void test_syntax(void)
{
	refuse("pin", LL_ERR_MALFORMED);
	refuse("=1", LL_ERR_MALFORMED);
	refuse("pin=1&", LL_ERR_MALFORMED);
	refuse("&pin=1", LL_ERR_MALFORMED);
	refuse("pin=1&&note=2", LL_ERR_MALFORMED);
	refuse("pin=1=2", LL_ERR_MALFORMED);
	refuse("pin=%4", LL_ERR_MALFORMED);
	refuse("pin=%zz", LL_ERR_MALFORMED);
	refuse("pin=1 2", LL_ERR_MALFORMED);
	refuse("pin=1;note=2", LL_ERR_MALFORMED);
	refuse("pin=<b>", LL_ERR_MALFORMED);
	refuse("pin=1\r\n", LL_ERR_MALFORMED);
}

static void test_text(void)
{
	refuse("pin=1%00", LL_ERR_MALFORMED);
	refuse("pin=%0a", LL_ERR_MALFORMED);
	refuse("pin=%ff", LL_ERR_MALFORMED);       /* not UTF-8 */
	refuse("pin=%e2%80%ae", LL_ERR_MALFORMED); /* bidi override */
	refuse("pin=%c0%af", LL_ERR_MALFORMED);    /* overlong */
}

static void test_schema(void)
{
	refuse("", LL_ERR_SCHEMA); /* pin is required */
	refuse("note=x", LL_ERR_SCHEMA);
	refuse("pin=1&pin=2", LL_ERR_SCHEMA);
	refuse("pin=1&org=x", LL_ERR_SCHEMA);
	refuse("pin=1&averyveryveryveryveryveryveryveryveryveryveryveryverylong"
	       "name=1",
	       LL_ERR_SCHEMA);
}

static void test_caps(void)
{
	char big[LL_FORM_MAX_BODY + 8];

	expect("pin=1234567890123456", "1234567890123456", NULL);
	refuse("pin=12345678901234567", LL_ERR_TOO_LARGE);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "pin=", 4);
	refuse(big, LL_ERR_TOO_LARGE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/form/ok", test_ok);
	g_test_add_func("/form/syntax", test_syntax);
	g_test_add_func("/form/text", test_text);
	g_test_add_func("/form/schema", test_schema);
	g_test_add_func("/form/caps", test_caps);
	return g_test_run();
}
