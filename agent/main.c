/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-agent: the technician's console.  Without arguments (or with
 * GTK's own) the GUI; `--cli ...` the scriptable command line of docs/API.md;
 * `--cli-holder ...` the background holder of one session that
 * `pin new` starts (not for people).
 */
#include <signal.h>
#include <string.h>

#include <glib.h>

#include "agent.h"
#include "ll_log.h"

int main(int argc, char **argv)
{
	/* a peer that goes away must not kill us in the middle of a write */
	signal(SIGPIPE, SIG_IGN);
	g_set_prgname("lifeline-agent");
	ll_log_set_ident("lifeline-agent");
	if (argc >= 2 && strcmp(argv[1], "--cli") == 0)
		return ll_agent_cli_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "--cli-holder") == 0)
		return ll_agent_holder_main(argc, argv);
	return ll_agent_gui_main(argc, argv);
}
