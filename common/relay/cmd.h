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
int ll_cmd_applet_config(int argc, char **argv);

#endif
