/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lifeline-relay program: one file per admin subcommand, each called
 * by main.c with argv after the subcommand's name.  Private to the
 * program (the sources in common/relay/ itself); the libraries never see
 * it.
 */
#ifndef LL_RELAY_CMD_H
#define LL_RELAY_CMD_H

int ll_cmd_init(int argc, char **argv);
int ll_cmd_serve(int argc, char **argv);
int ll_cmd_technician(int argc, char **argv);
int ll_cmd_audit(int argc, char **argv);
int ll_cmd_brand(int argc, char **argv);
int ll_cmd_policy(int argc, char **argv);
int ll_cmd_channel(int argc, char **argv);

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
