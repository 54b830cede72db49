/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lifeline-relay program: one file per admin subcommand, each called
 * by main.c with argv after the subcommand's name.  Private to the
 * program (the sources in common/relay/ itself); the libraries never see
 * it.
 */
#ifndef LL_RELAY_CMD_H
#define LL_RELAY_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "ll_relay.h"

int ll_cmd_init(int argc, char **argv);
int ll_cmd_serve(int argc, char **argv);
int ll_cmd_technician(int argc, char **argv);
int ll_cmd_audit(int argc, char **argv);
int ll_cmd_brand(int argc, char **argv);
int ll_cmd_policy(int argc, char **argv);
int ll_cmd_applet_config(int argc, char **argv);
int ll_cmd_channel(int argc, char **argv);
int ll_cmd_org(int argc, char **argv);
int ll_cmd_ldap(int argc, char **argv);
int ll_cmd_group(int argc, char **argv);
int ll_cmd_key(int argc, char **argv);
int ll_cmd_chat(int argc, char **argv);

/* True when name may be a display name; else false after saying why,
 * what (the command) first. */
bool ll_cmd_display_name_ok(const char *what, const char *name);

/* True when a subcommand got exactly its one argument (argv[1]); else
 * false after saying "CMD SUB: name one WHAT" (none) or "takes exactly
 * one META" (more). */
bool ll_cmd_one_arg(const char *cmd, const char *sub, int argc,
		    const char *what, const char *meta);

/* Prints doc as the --json answer of a list or show command: indented,
 * keys in their order, one final newline.  false: out of memory, nothing
 * printed. */
bool ll_cmd_print_json(const json_t *doc);

/* The plumbing of the commands with subcommands (cmd_common.c). */

/* The options they all take: --state-dir, and --org where it means
 * something. */
struct ll_cmd_opts {
	gchar *state_dir;
	gchar *org;
};

/* The state opened for one org (org_name NULL when any org will do). */
struct ll_cmd_org {
	struct ll_relay relay;
	int64_t org_id;
	char *org_name;
};

/*
 * Picks argv[1] as one of subs (NULL-terminated) into *sub.  False with
 * the exit code in *rc after --help or -h (usage() on stdout, 0), no
 * subcommand (usage() on stderr, 2) or an unknown one (2).
 */
bool ll_cmd_subcommand(const char *cmd, int argc, char **argv,
		       const char *const subs[], void (*usage)(FILE *f),
		       const char **sub, int *rc);
/*
 * Parses the options after the subcommand, which plays argv[0]: the
 * common ones into o (--org only when with_org), then extra (may be
 * NULL).  *argc and *argv keep the subcommand and its positional
 * arguments.  params is the synopsis of those for --help.  False after
 * saying why.
 */
bool ll_cmd_parse(const char *cmd, const char *sub, const char *params,
		  struct ll_cmd_opts *o, bool with_org,
		  const GOptionEntry *extra, int *argc, char ***argv);
/* --state-dir, or the default. */
const char *ll_cmd_state_dir(const struct ll_cmd_opts *o);
void ll_cmd_opts_clear(struct ll_cmd_opts *o);

/* Opens the state read-write and finds the org of --org (the only one
 * when not given, unless any_org); non-zero after saying why. */
int ll_cmd_org_open(struct ll_cmd_org *c, const struct ll_cmd_opts *o,
		    bool any_org);
/* Closes what ll_cmd_org_open opened; a zeroed c is fine. */
void ll_cmd_org_close(struct ll_cmd_org *c);
struct ll_relay;
/*
 * The credential of channel `name` of org `org` (NULL: the only org),
 * derived again from the at-rest key (cmd_channel.c): for `applet-config
 * --channel NAME`.  relay is an open state (ll_relay_open_state).  Fails
 * with one line on stderr (ll_cmd_fail) and returns non-zero; *out is
 * freed with ll_secret_free.
 */
int ll_cmd_channel_credential(struct ll_relay *relay, const char *org,
			      const char *name, char **out);

#endif
