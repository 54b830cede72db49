/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-relay chat show SESSION [--json] [--state-dir DIR]
 *
 * A session's kept chat transcript (policy keep_chat; docs/API.md,
 * "Chat"), opened with the at-rest key: one line each, "YYYY-MM-DD
 * HH:MM:SS FROM: TEXT" in local time, or {session_id, lines: [{time,
 * from, text}]} with --json.  Reading it is audited as "chat.show".
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "ll_chat.h"
#include "ll_relay.h"
#include "ll_relay_chat.h"
#include "ll_text.h"
#include "cmd.h"

static void chat_usage(FILE *f)
{
	fprintf(f, "Usage: lifeline-relay chat show SESSION [--json] "
		   "[--state-dir DIR]\n"
		   "Prints a session's kept chat transcript (policy "
		   "keep_chat); the reading is audited.\n");
}

/* One line as text; the text passes the display rule once more here. */
static void print_line(json_t *v)
{
	time_t t = (time_t)(json_integer_value(json_object_get(v, "time")) /
			    1000);
	const char *text = json_string_value(json_object_get(v, "text"));
	const char *from = json_string_value(json_object_get(v, "from"));
	char stamp[32] = "?";
	struct tm tm;
	gchar **parts;
	char *shown;
	size_t i;

	if (localtime_r(&t, &tm) != NULL)
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	parts = g_strsplit(text != NULL ? text : "", "\n", -1);
	for (i = 0; parts[i] != NULL; i++) {
		shown = ll_text_printable_new(parts[i], strlen(parts[i]),
					      LL_CHAT_SHOWN_MAX);
		if (i == 0)
			printf("%s %s: %s\n", stamp,
			       ll_chat_from_parse(from) >= 0 ? from : "?",
			       shown != NULL ? shown : "");
		else
			printf("    %s\n", shown != NULL ? shown : "");
		free(shown);
	}
	g_strfreev(parts);
}

static int chat_show(struct ll_relay *relay, const char *id, bool as_json)
{
	struct ll_session *s = NULL;
	json_t *lines = NULL, *v, *doc;
	size_t i;
	int r;

	if ((r = ll_store_begin(relay->store)) != LL_OK) {
		ll_cmd_fail("chat show: %s", ll_strerror(r));
		return 1;
	}
	r = ll_store_session_get(relay->store, id, &s);
	if (r == LL_OK)
		r = ll_relay_chat_read(relay, id, &lines);
	if (r == LL_OK)
		r = ll_cmd_audit_append(
			relay->store, s->org_id, "chat.show", "ok",
			json_pack("{s:s,s:I}", "session", id, "lines",
				  (json_int_t)json_array_size(lines)));
	if (r == LL_OK)
		r = ll_store_commit(relay->store);
	else
		ll_store_rollback(relay->store);
	if (r != LL_OK) {
		ll_cmd_fail("chat show: %s",
			    r == LL_ERR_NOT_FOUND ? "no such session"
			    : r == LL_ERR_AUTH_FAILED
				    ? "a kept line does not open under the "
				      "at-rest key"
				    : ll_strerror(r));
		ll_session_free(s);
		json_decref(lines);
		return 1;
	}
	if (as_json) {
		doc = json_pack("{s:s,s:O}", "session_id", id, "lines", lines);
		if (doc == NULL || !ll_cmd_print_json(doc))
			r = LL_ERR_NOMEM;
		json_decref(doc);
	} else {
		json_array_foreach(lines, i, v) print_line(v);
		if (json_array_size(lines) == 0)
			printf("(no chat kept for this session)\n");
	}
	ll_session_free(s);
	json_decref(lines);
	return r == LL_OK ? 0 : 1;
}

int ll_cmd_chat(int argc, char **argv)
{
	static const char *const subs[] = { "show", NULL };
	gboolean as_json = FALSE;
	GOptionEntry extra[] = { { "json", 0, 0, G_OPTION_ARG_NONE, &as_json,
				   "print JSON instead of text", NULL },
				 { NULL, 0, 0, 0, NULL, NULL, NULL } };
	struct ll_cmd_opts o = { 0 };
	struct ll_relay relay;
	const char *sub = NULL;
	char errbuf[512];
	int rc = 2;

	if (!ll_cmd_subcommand("chat", argc, argv, subs, chat_usage, &sub,
			       &rc))
		return rc;
	if (!ll_cmd_parse("chat", sub, "SESSION", &o, false, extra, &argc,
			  &argv))
		return 2;
	if (!ll_cmd_one_arg("chat", sub, argc, "session id", "SESSION")) {
		ll_cmd_opts_clear(&o);
		return 2;
	}
	memset(&relay, 0, sizeof(relay));
	errbuf[0] = '\0';
	rc = 1;
	if (ll_relay_open_state(ll_cmd_state_dir(&o), &relay, errbuf,
				sizeof(errbuf)) != 0)
		ll_cmd_fail("%s", errbuf);
	else
		rc = chat_show(&relay, argv[1], as_json);
	ll_relay_close_state(&relay);
	ll_cmd_opts_clear(&o);
	return rc;
}
