/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the requests of the agent CLI's session holder
 * (agent/cli_commands.c): what reaches the holder's socket, and what the
 * command line makes of its arguments for it.
 *
 * Input: byte 0 chooses the side.
 *  - bit 7 clear: the holder.  The rest comes in pieces of
 *    1 + (byte0 & 0x7f) bytes through the line reader, as recv() hands
 *    them; a whole line goes to the request parser.
 *  - bit 7 set: the command line.  Row (byte0 & 0x7f) of the table; the
 *    rest is its words, split at NUL bytes, "--NAME=VALUE" for an option
 *    of the row and anything else positional.
 * Checked: no crash, leak or UB; a refusal is a sentence with the output
 * untouched; an accepted request holds what its row's types promise; and
 * a request the command line accepts, or the holder accepts, is read back
 * by the holder as the same values (the request line is the only link
 * between the two sides).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cli_commands.h"
#include "ll_control.h"
#include "ll_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t n_params(const struct ll_cli_command *cmd)
{
	size_t n = 0;

	while (n < LL_CLI_MAX_PARAMS && cmd->params[n] != NULL)
		n++;
	return n;
}

static void check_refusal(int r, const char *err)
{
	if (r >= 0 || err == NULL || err[0] == '\0')
		abort();
}

/* What an accepted request's types promise. */
static void check_req(const struct ll_cli_req *req)
{
	const struct ll_cli_command *cmd = req->cmd;
	const struct ll_cli_param *p;
	const struct ll_cli_value *v;
	size_t i;

	if (cmd < ll_cli_commands ||
	    cmd >= ll_cli_commands + ll_cli_n_commands)
		abort();
	for (i = 0; i < n_params(cmd); i++) {
		p = cmd->params[i];
		v = &req->v[i];
		if (!v->set) {
			if (p->name[0] != '-' && p->type != LL_CLI_SESSION)
				abort(); /* a positional left out */
			if (p->type == LL_CLI_INT && v->num != p->def)
				abort();
			continue;
		}
		switch (p->type) {
		case LL_CLI_INT:
			if (v->num < p->min || v->num > p->max)
				abort();
			break;
		case LL_CLI_CAPS:
			if (v->caps == 0 || (v->caps & ~LL_CAP_ALL) != 0 ||
			    v->str == NULL)
				abort();
			break;
		case LL_CLI_TEXT:
		case LL_CLI_KEYSYM:
			if (v->keys == NULL || v->str == NULL)
				abort();
			break;
		case LL_CLI_PATH:
			if (v->str == NULL || v->str[0] != '/')
				abort();
			break;
		case LL_CLI_MONITOR:
			if (!ll_control_monitor_name_ok(v->str))
				abort();
			break;
		case LL_CLI_SESSION:
			if (!ll_agent_session_id_ok(v->str))
				abort();
			break;
		case LL_CLI_FLAG:
			if (v->num != 1)
				abort();
			break;
		default:
			if (v->str == NULL)
				abort();
			break;
		}
	}
}

/* The holder reads back what a's request line says: the same values. */
static void check_read_back(const struct ll_cli_req *a)
{
	const struct ll_cli_command *cmd = a->cmd;
	struct ll_cli_req *b = NULL;
	const struct ll_cli_value *va, *vb;
	char *line, *err = NULL;
	size_t i;

	if (cmd->holder == NULL)
		return;
	if ((line = ll_cli_req_to_json(a)) == NULL)
		abort();
	/* the command line refuses a request over the holder's bound */
	if (strlen(line) > LL_CLI_REQUEST_MAX) {
		free(line);
		return;
	}
	if (ll_cli_req_from_json(line, strlen(line), &b, &err) != 0 ||
	    b->cmd != cmd)
		abort();
	check_req(b);
	for (i = 0; i < n_params(cmd); i++) {
		va = &a->v[i];
		vb = &b->v[i];
		if (cmd->params[i]->type == LL_CLI_SESSION)
			continue; /* names the socket, never sent */
		if (va->set != vb->set || va->num != vb->num ||
		    va->caps != vb->caps)
			abort();
		if (cmd->params[i]->type != LL_CLI_CAPS &&
		    g_strcmp0(va->str, vb->str) != 0)
			abort();
		if ((va->keys == NULL) != (vb->keys == NULL) ||
		    (va->keys != NULL &&
		     (va->keys->len != vb->keys->len ||
		      memcmp(va->keys->data, vb->keys->data,
			     va->keys->len * sizeof(guint32)) != 0)))
			abort();
	}
	ll_cli_req_free(b);
	free(line);
}

static void holder_side(size_t piece, const uint8_t *data, size_t size)
{
	GString *in = g_string_new(NULL);
	struct ll_cli_req *req = (struct ll_cli_req *)&in; /* sentinel */
	char *err = NULL;
	size_t off = 0, n, len = 0;
	int r = 0;

	while (off < size && r == 0) {
		n = MIN(piece, size - off);
		r = ll_cli_line_feed(in, data + off, n, LL_CLI_REQUEST_MAX,
				     &len);
		off += n;
		if (in->len > LL_CLI_REQUEST_MAX + 1)
			abort(); /* the reader holds no more than its bound */
	}
	if (r == 1) {
		if (len > LL_CLI_REQUEST_MAX || len >= in->len ||
		    in->str[len] != '\n' || memchr(in->str, '\n', len) != NULL)
			abort();
		r = ll_cli_req_from_json(in->str, len, &req, &err);
		if (r != 0) {
			check_refusal(r, err);
			if (req != (struct ll_cli_req *)&in)
				abort();
		} else {
			if (req->cmd->holder == NULL)
				abort();
			check_req(req);
			check_read_back(req);
			ll_cli_req_free(req);
		}
		g_free(err);
	}
	g_string_free(in, TRUE);
}

static void command_line_side(const struct ll_cli_command *cmd,
			      const uint8_t *data, size_t size)
{
	const char *opts[LL_CLI_MAX_PARAMS] = { NULL };
	struct ll_cli_req *req = (struct ll_cli_req *)&opts; /* sentinel */
	GPtrArray *args = g_ptr_array_new();
	char *text = g_malloc(size + 1), *w, *eq, *err = NULL;
	size_t i, off = 0, nlen;
	int r;

	/* the words: between the NULs */
	memcpy(text, data, size);
	text[size] = '\0';
	while (off <= size) {
		w = text + off;
		off += strlen(w) + 1;
		eq = strchr(w, '=');
		nlen = eq != NULL ? (size_t)(eq - w) : 0;
		for (i = 0; i < n_params(cmd) && nlen > 0; i++)
			if (cmd->params[i]->name[0] == '-' &&
			    strlen(cmd->params[i]->name) == nlen &&
			    strncmp(cmd->params[i]->name, w, nlen) == 0)
				break;
		if (nlen > 0 && i < n_params(cmd))
			opts[i] = eq + 1;
		else
			g_ptr_array_add(args, w);
	}
	r = ll_cli_req_from_argv(cmd, (const char *const *)args->pdata,
				 args->len, opts, &req, &err);
	if (r != 0) {
		check_refusal(r, err);
		if (req != (struct ll_cli_req *)&opts)
			abort();
	} else {
		if (req->cmd != cmd)
			abort();
		check_req(req);
		check_read_back(req);
		ll_cli_req_free(req);
	}
	g_free(err);
	g_free(text);
	g_ptr_array_unref(args);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 0x80)
		command_line_side(
			&ll_cli_commands[(data[0] & 0x7f) % ll_cli_n_commands],
			data + 1, size - 1);
	else
		holder_side(1 + (data[0] & 0x7f), data + 1, size - 1);
	return 0;
}
