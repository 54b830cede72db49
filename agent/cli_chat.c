/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CLI's chat (docs/API.md, "Chat"): the lines as the holder answers
 * them ({"seq", "time", "from", "text"} each) and as the CLI prints them,
 * "HH:MM:SS SENDER: TEXT", by `session chat-log` and, for the user's
 * lines not yet shown, by `session wait`.
 */
#include <string.h>

#include "agent.h"
#include "cli_commands.h"
#include "ll_chat.h"
#include "ll_err.h"

/* An answer holds the newest lines within this many bytes of text (the
 * CLI reads answers of up to LL_CLI_ANSWER_MAX), each counted with its
 * JSON around it and '\n' escaped. */
#define CHAT_ANSWER_BUDGET (LL_CLI_ANSWER_MAX / 3)
#define CHAT_JSON_OVERHEAD 96

json_t *ll_cli_chat_json(const struct ll_chat_log *log, uint64_t after_seq,
			 bool user_only)
{
	const struct ll_chat_line *line;
	json_t *arr = json_array();
	size_t i, first = ll_chat_log_count(log), used = 0, need;

	/* the newest lines that fit in one answer line of the CLI's */
	while (first > 0) {
		line = ll_chat_log_get(log, first - 1);
		need = strlen(line->text) + CHAT_JSON_OVERHEAD;
		if (used + need > CHAT_ANSWER_BUDGET)
			break;
		used += need;
		first--;
	}
	for (i = first; arr != NULL && i < ll_chat_log_count(log); i++) {
		line = ll_chat_log_get(log, i);
		if (line->seq <= after_seq ||
		    (user_only && line->from != LL_CHAT_USER))
			continue;
		json_array_append_new(arr,
				      json_pack("{s:I,s:I,s:s,s:s}", "seq",
						(json_int_t)line->seq, "time",
						(json_int_t)line->time_ms,
						"from",
						ll_chat_from_name(line->from),
						"text", line->text));
	}
	return arr;
}

uint64_t ll_cli_chat_last_seq(const struct ll_chat_log *log)
{
	size_t n = ll_chat_log_count(log);

	return n > 0 ? ll_chat_log_get(log, n - 1)->seq : 0;
}

/*
 * Prints the answer's lines under `member`, each after prefix.  The text
 * goes through the display rule again here (ll_chat.h): what reaches the
 * terminal is never trusted to the holder alone.
 */
static void print_lines(FILE *out, json_t *answer, const char *member,
			const char *prefix)
{
	struct ll_chat_log *log = ll_chat_log_new(1);
	const struct ll_chat_line *line;
	json_t *v, *text, *time;
	char *shown;
	int from;
	size_t i;

	if (log == NULL)
		return;
	json_array_foreach(json_object_get(answer, member), i, v)
	{
		text = json_object_get(v, "text");
		time = json_object_get(v, "time");
		from = ll_chat_from_parse(
			json_string_value(json_object_get(v, "from")));
		if (!json_is_string(text) || !json_is_integer(time) ||
		    from < 0 ||
		    ll_chat_log_add(log, (enum ll_chat_from)from, false,
				    json_string_value(text),
				    json_string_length(text),
				    json_integer_value(time), 0, &line) != 0)
			continue;
		shown = ll_chat_line_format(line, NULL);
		if (shown != NULL)
			fprintf(out, "%s%s\n", prefix, shown);
		free(shown);
	}
	ll_chat_log_free(log);
}

void ll_cli_print_chat_log(FILE *out, const struct ll_cli_req *req,
			   json_t *answer)
{
	(void)req;
	print_lines(out, answer, "lines", "");
}

void ll_cli_print_wait(FILE *out, const struct ll_cli_req *req, json_t *answer)
{
	ll_cli_print_caps(out, req, answer);
	print_lines(out, answer, "chat", "chat ");
	ll_cli_print_offers(out, answer);
}
