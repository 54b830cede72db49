/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The chat's lines (common/proto/ll_chat.h). */
#include <string.h>

#include <glib.h>

#include "ll_buf.h"
#include "ll_chat.h"
#include "ll_err.h"

static const struct ll_chat_line *add(struct ll_chat_log *log, bool peer,
				      const char *text, int64_t mono, int want)
{
	const struct ll_chat_line *l = NULL;

	g_assert_cmpint(ll_chat_log_add(log, LL_CHAT_USER, peer, text,
					strlen(text), 1700000000000, mono, &l),
			==, want);
	return want == LL_OK ? l : NULL;
}

/* Each line part through the display rule, '\n' kept between them. */
static void test_sanitise(void)
{
	struct ll_chat_log *log = ll_chat_log_new(0);
	const struct ll_chat_line *l;
	char *f;

	l = add(log, true, "hi\xe2\x80\xae there\x07\nsecond\r", 0, LL_OK);
	g_assert_cmpstr(l->text, ==,
			"hi" LL_TEXT_REPLACEMENT " there" LL_TEXT_REPLACEMENT
			"\nsecond" LL_TEXT_REPLACEMENT);
	g_assert_cmpuint(l->seq, ==, 1);
	l = add(log, true, "\xff\xfe", 0, LL_OK);
	g_assert_cmpstr(l->text, ==, LL_TEXT_REPLACEMENT LL_TEXT_REPLACEMENT);
	g_assert_true(g_utf8_validate(l->text, -1, NULL));
	f = ll_chat_line_format(ll_chat_log_get(log, 0), "Ann");
	g_assert_nonnull(strstr(f, " Ann: hi"));
	g_assert_nonnull(strstr(f, "\n    second"));
	g_free(f);
	ll_chat_log_free(log);
}

static void test_limits(void)
{
	struct ll_chat_log *log = ll_chat_log_new(0);
	char *big = g_malloc(LL_CONTROL_MAX_CHAT + 2);
	const struct ll_chat_line *l;

	memset(big, 0x01, LL_CONTROL_MAX_CHAT + 1);
	big[LL_CONTROL_MAX_CHAT + 1] = '\0';
	add(log, true, big, 0, LL_ERR_TOO_LARGE);
	/* the biggest line, all controls: three bytes each, uncut */
	big[LL_CONTROL_MAX_CHAT] = '\0';
	l = add(log, true, big, 0, LL_OK);
	g_assert_cmpuint(strlen(l->text), ==, LL_CHAT_SHOWN_MAX);
	add(log, true, "", 0, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_chat_log_add(log, LL_CHAT_USER, true, "a\0b", 3, 0,
					0, NULL),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_chat_log_add(log, (enum ll_chat_from)7, false, "a",
					1, 0, 0, NULL),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpuint(ll_chat_log_count(log), ==, 1);
	g_free(big);
	ll_chat_log_free(log);
}

/* At most max lines: the oldest go, the numbers go on. */
static void test_ring(void)
{
	struct ll_chat_log *log = ll_chat_log_new(3);
	char t[16];
	int i;

	for (i = 1; i <= 10; i++) {
		g_snprintf(t, sizeof(t), "line %d", i);
		add(log, false, t, 0, LL_OK);
	}
	g_assert_cmpuint(ll_chat_log_count(log), ==, 3);
	g_assert_cmpstr(ll_chat_log_get(log, 0)->text, ==, "line 8");
	g_assert_cmpuint(ll_chat_log_get(log, 2)->seq, ==, 10);
	g_assert_null(ll_chat_log_get(log, 3));
	ll_chat_log_free(log);
}

/* The peer's burst, then one line per refill; ours are never held. */
static void test_flood(void)
{
	struct ll_chat_log *log = ll_chat_log_new(0);
	unsigned i;

	for (i = 0; i < LL_CHAT_BURST; i++)
		add(log, true, "x", 1000, LL_OK);
	add(log, true, "x", 1000, LL_ERR_NO_CREDIT);
	add(log, true, "x", 1000 + LL_CHAT_REFILL_MS - 1, LL_ERR_NO_CREDIT);
	add(log, false, "mine", 1000, LL_OK);
	add(log, true, "x", 1000 + LL_CHAT_REFILL_MS, LL_OK);
	add(log, true, "x", 1000 + LL_CHAT_REFILL_MS, LL_ERR_NO_CREDIT);
	g_assert_cmpuint(ll_chat_log_dropped(log), ==, 3);
	/* a long pause refills the burst, never more */
	for (i = 0; i < LL_CHAT_BURST; i++)
		add(log, true, "x", 10000000, LL_OK);
	add(log, true, "x", 10000000, LL_ERR_NO_CREDIT);
	ll_chat_log_free(log);
}

/* What a hostile peer's oversized chat meets first: the control parser's
 * cap, with the field named; nothing that big is ever sent either. */
static void test_oversized_message(void)
{
	GString *j = g_string_new("{\"type\":\"chat\",\"text\":\"");
	struct ll_control_msg *m = NULL, out = { .type = LL_CONTROL_CHAT };
	struct ll_buf *b = ll_buf_new(LL_CONTROL_MAX_MSG);
	char err[LL_CONTROL_ERR_LEN] = "";
	char *big;

	big = g_strnfill(LL_CONTROL_MAX_CHAT + 1, 'a');
	g_string_append(j, big);
	g_string_append(j, "\"}");
	g_assert_cmpint(ll_control_parse(j->str, j->len, &m, err, sizeof(err)),
			==, LL_ERR_TOO_LARGE);
	g_assert_null(m);
	g_assert_nonnull(strstr(err, "text"));
	out.u.chat.text = big;
	g_assert_cmpint(ll_control_serialize(&out, b), ==, LL_ERR_TOO_LARGE);
	g_assert_cmpuint(ll_buf_len(b), ==, 0);
	big[LL_CONTROL_MAX_CHAT] = '\0';
	g_assert_cmpint(ll_control_serialize(&out, b), ==, LL_OK);
	ll_buf_free(b);
	g_free(big);
	g_string_free(j, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/chat/sanitise", test_sanitise);
	g_test_add_func("/chat/limits", test_limits);
	g_test_add_func("/chat/ring", test_ring);
	g_test_add_func("/chat/flood", test_flood);
	g_test_add_func("/chat/oversized-message", test_oversized_message);
	return g_test_run();
}
