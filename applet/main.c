/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lifeline-applet: the end user's side of a support session.
 *
 *   lifeline-applet [--relay URL] [--ca FILE] [--pin PIN]
 *
 * Exit codes (see applet.h and --help): 0 session ended by the user or the
 * technician, 1 internal failure, 2 usage, 3 relay or redeem error, 4
 * connection lost during the session.
 */
#include <signal.h>

#include <X11/Xlib.h>

#include "applet.h"

int main(int argc, char **argv)
{
	/*
	 * The RFB thread keeps its own X connection for capture and input
	 * while GDK uses another on this thread: Xlib must be thread-aware
	 * before any other Xlib call.
	 */
	XInitThreads();
	/* A peer that goes away must not kill us on write(). */
	signal(SIGPIPE, SIG_IGN);
	return ll_applet_main(argc, argv);
}
