/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the agent CLI's reading of its session holder's
 * answers (agent/cli_commands.c, the printers of agent/cli.c): the line
 * reader, the answer parser, and the row's printer on what it accepted.
 *
 * Input: byte 0 chooses the holder command (its row, bits 0-4 over the
 * holder rows) and the piece size the line arrives in (bits 5-7: 1, 2,
 * 4, ... 128 bytes); the rest is what the socket says.
 * Checked: no crash, leak or UB, whatever the holder (or anything that
 * took its socket's place) sends; the reader keeps to its bound; a
 * refusal leaves the answer untouched; an error answer has a code, a
 * sentence and an exit status of agent.h; a success has its body without
 * "ok", and the printers print any body without a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cli_commands.h"
#include "ll_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;
/* One request per holder row, for the printers that print from it. */
static struct ll_cli_req *reqs[32];
static size_t n_reqs;

/* An argument of each type that the command line accepts. */
static const char *sample(const struct ll_cli_param *p)
{
	switch (p->type) {
	case LL_CLI_SESSION:
		return "0123456789abcdef0123456789abcdef";
	case LL_CLI_INT:
		return "1";
	case LL_CLI_PATH:
		return "/tmp/fuzz.png";
	case LL_CLI_TEXT:
		return "a";
	case LL_CLI_KEYSYM:
		return "Return";
	case LL_CLI_MONITOR:
		return "all";
	case LL_CLI_CAPS:
		return "view";
	default:
		return "x";
	}
}

static void init(void)
{
	const struct ll_cli_command *cmd;
	const char *args[LL_CLI_MAX_PARAMS], *opts[LL_CLI_MAX_PARAMS];
	char *err = NULL;
	size_t i, j, n;

	devnull = fopen("/dev/null", "w");
	if (devnull == NULL)
		abort();
	for (i = 0; i < ll_cli_n_commands; i++) {
		cmd = &ll_cli_commands[i];
		if (cmd->holder == NULL)
			continue;
		memset(opts, 0, sizeof(opts));
		for (j = 0, n = 0;
		     j < LL_CLI_MAX_PARAMS && cmd->params[j] != NULL; j++)
			if (cmd->params[j]->name[0] == '-')
				opts[j] = sample(cmd->params[j]);
			else
				args[n++] = sample(cmd->params[j]);
		if (n_reqs == G_N_ELEMENTS(reqs) ||
		    ll_cli_req_from_argv(cmd, args, n, opts, &reqs[n_reqs],
					 &err) != 0)
			abort();
		n_reqs++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ll_cli_req *req;
	struct ll_cli_answer a;
	GString *in;
	size_t piece, off = 0, n, len = 0;
	int r = 0;

	if (devnull == NULL)
		init();
	if (size < 1)
		return 0;
	req = reqs[(data[0] & 0x1f) % n_reqs];
	piece = (size_t)1 << (data[0] >> 5);
	in = g_string_new(NULL);
	data++;
	size--;
	while (off < size && r == 0) {
		n = MIN(piece, size - off);
		r = ll_cli_line_feed(in, data + off, n, LL_CLI_ANSWER_MAX,
				     &len);
		off += n;
		if (in->len > LL_CLI_ANSWER_MAX + 1)
			abort();
	}
	if (r != 1)
		goto out;
	memset(&a, 0x5a, sizeof(a));
	r = ll_cli_answer_parse(in->str, len, &a);
	if (r != 0) {
		if (r != LL_ERR_BAD_JSON || a.exit != 0x5a5a5a5a)
			abort();
		goto out;
	}
	if (a.ok) {
		if (a.exit != 0 || a.code != NULL || a.message != NULL ||
		    !json_is_object(a.body) ||
		    json_object_get(a.body, "ok") != NULL)
			abort();
		/* without --json, and with */
		if (req->cmd->print != NULL)
			req->cmd->print(devnull, req, a.body);
		json_dumpf(a.body, devnull, JSON_COMPACT);
	} else {
		if (a.exit < LL_EXIT_ERROR || a.exit > LL_EXIT_LAST ||
		    a.code == NULL || a.code[0] == '\0' || a.message == NULL ||
		    a.message[0] == '\0' || a.body != NULL)
			abort();
	}
	ll_cli_answer_clear(&a);
out:
	g_string_free(in, TRUE);
	return 0;
}
