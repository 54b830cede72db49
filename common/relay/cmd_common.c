/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command-line plumbing the admin commands with subcommands share
 * (cmd.h): picking the subcommand, parsing its options with the common
 * ones, opening the state and the org.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "ll_relay.h"
#include "cmd.h"

bool ll_cmd_display_name_ok(const char *what, const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > LL_DISPLAY_NAME_MAX) {
		ll_cmd_fail("%s: a display name is 1 to %d bytes", what,
			    LL_DISPLAY_NAME_MAX);
		return false;
	}
	if (!ll_tech_display_name_ok(name)) {
		ll_cmd_fail("%s: a display name is one line of printable "
			    "UTF-8 (no control or bidi characters)",
			    what);
		return false;
	}
	return true;
}

bool ll_cmd_one_arg(const char *cmd, const char *sub, int argc,
		    const char *what, const char *meta)
{
	if (argc == 2)
		return true;
	if (argc < 2)
		ll_cmd_fail("%s %s: name one %s", cmd, sub, what);
	else
		ll_cmd_fail("%s %s: takes exactly one %s", cmd, sub, meta);
	return false;
}

bool ll_cmd_print_json(const json_t *doc)
{
	char *text = doc != NULL ? json_dumps(doc, JSON_INDENT(2) |
							   JSON_PRESERVE_ORDER)
				 : NULL;

	if (text == NULL)
		return false;
	printf("%s\n", text);
	free(text);
	return true;
}

bool ll_cmd_subcommand(const char *cmd, int argc, char **argv,
		       const char *const subs[], void (*usage)(FILE *f),
		       const char **sub, int *rc)
{
	GString *names;
	size_t i;

	if (argc < 2) {
		usage(stderr);
		*rc = 2;
		return false;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		*rc = 0;
		return false;
	}
	for (i = 0; subs[i] != NULL; i++) {
		if (strcmp(argv[1], subs[i]) == 0) {
			*sub = subs[i];
			return true;
		}
	}
	names = g_string_new(NULL);
	for (i = 0; subs[i] != NULL; i++)
		g_string_append_printf(names, "%s%s", i > 0 ? ", " : "",
				       subs[i]);
	ll_cmd_fail("%s: unknown subcommand '%s' (%s)", cmd, argv[1],
		    names->str);
	g_string_free(names, TRUE);
	*rc = 2;
	return false;
}

bool ll_cmd_parse(const char *cmd, const char *sub, const char *params,
		  struct ll_cmd_opts *o, bool with_org,
		  const GOptionEntry *extra, int *argc, char ***argv)
{
	GOptionEntry common[] = {
		{ "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->state_dir,
		  "state directory (default " LL_DEFAULT_STATE_DIR ")",
		  "DIR" },
		{ "org", 0, 0, G_OPTION_ARG_STRING, &o->org,
		  "organisation (default: the only one)", "ORG" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	GOptionContext *oc;
	GError *gerr = NULL;
	bool ok;

	if (!with_org)
		common[1] = common[2];
	oc = g_option_context_new(params);
	g_option_context_add_main_entries(oc, common, NULL);
	if (extra != NULL)
		g_option_context_add_main_entries(oc, extra, NULL);
	/* argv[1] (the subcommand) plays argv[0] for the parser */
	*argc -= 1;
	*argv += 1;
	ok = g_option_context_parse(oc, argc, argv, &gerr);
	if (!ok)
		ll_cmd_fail("%s %s: %s", cmd, sub, gerr->message);
	g_clear_error(&gerr);
	g_option_context_free(oc);
	return ok;
}

const char *ll_cmd_state_dir(const struct ll_cmd_opts *o)
{
	return o->state_dir != NULL ? o->state_dir : LL_DEFAULT_STATE_DIR;
}

void ll_cmd_opts_clear(struct ll_cmd_opts *o)
{
	g_clear_pointer(&o->state_dir, g_free);
	g_clear_pointer(&o->org, g_free);
}

int ll_cmd_org_open(struct ll_cmd_org *c, const struct ll_cmd_opts *o,
		    bool any_org)
{
	char errbuf[512];

	memset(c, 0, sizeof(*c));
	if (ll_relay_open_state(ll_cmd_state_dir(o), &c->relay, errbuf,
				sizeof(errbuf)) != 0) {
		ll_cmd_fail("%s", errbuf);
		return 1;
	}
	if (o->org == NULL && any_org)
		return 0;
	return ll_cmd_org_resolve(c->relay.store, o->org, &c->org_id,
				  &c->org_name);
}

void ll_cmd_org_close(struct ll_cmd_org *c)
{
	ll_relay_close_state(&c->relay);
	free(c->org_name);
	c->org_name = NULL;
}
