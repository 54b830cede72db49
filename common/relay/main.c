/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lifeline-relay SUBCOMMAND ...: one file per command (cmd_*.c). */
#include <stdio.h>
#include <string.h>

#include "ll_build.h"
#include "ll_util.h"
#include "ll_relay.h"
#include "cmd.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "init", ll_cmd_init, "create a new state directory" },
	{ "serve", ll_cmd_serve, "run the relay in the foreground" },
	{ "technician", ll_cmd_technician,
	  "add, disable, enable, list technicians; passwords, names" },
	{ "audit", ll_cmd_audit, "verify or export the audit log" },
	{ "brand", ll_cmd_brand, "check a brand folder (branding/NAME)" },
	{ "policy", ll_cmd_policy, "set, unset or show an org's policy" },
	{ "applet-config", ll_cmd_applet_config,
	  "write a signed applet configuration (FILE.lifeline)" },
	{ "channel", ll_cmd_channel,
	  "add, list, remove channels (calling cards)" },
	{ "org", ll_cmd_org, "set or show an org's display name" },
	{ "ldap", ll_cmd_ldap,
	  "check the directory login (test USER) or synchronise (sync)" },
	{ "group", ll_cmd_group,
	  "add, set, list, remove technician groups (permissions)" },
	{ "key", ll_cmd_key, "rotate the at-rest key" },
	{ "chat", ll_cmd_chat, "show a session's kept chat transcript" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: lifeline-relay COMMAND [OPTIONS]\n"
		   "       lifeline-relay COMMAND --help\n\nCommands:\n");
	for (i = 0; i < LL_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-14s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\nEvery command takes --state-dir DIR (default %s).\n",
		LL_DEFAULT_STATE_DIR);
}

int main(int argc, char **argv)
{
	const char *cmd;
	size_t i;
	int r;

	ll_log_set_ident("lifeline-relay");
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("lifeline-relay %s\n", LL_VERSION);
		return 0;
	}
	for (i = 0; i < LL_ARRAY_SIZE(commands); i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		/* argv[0] of the command is its own name */
		r = commands[i].fn(argc - 1, argv + 1);
		if (r == 0)
			return 0;
		return (r > 0 && r < 126) ? r : 1;
	}
	ll_cmd_fail("unknown command '%s' (try lifeline-relay --help)", cmd);
	return 2;
}
