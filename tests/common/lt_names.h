/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hostile file names, one list for every test of a name that comes from
 * the other side (tests/unit/test_xfer.c, the agent CLI's `session
 * receive` in tests/agent/test_agent_cli.c, the applet's incoming file in
 * tests/applet/test_applet_gui.c): a name added here is tested
 * everywhere at once.
 *
 * Each name passes the control schema's file name check (no '/', '\\',
 * C0 control, "." or ".."), so a peer can send it, and saved is what
 * ll_xfer_safe_name makes of it (ll_xfer.h); no two saved names are
 * alike, so the names can land in one folder side by side.
 */
#ifndef LT_NAMES_H
#define LT_NAMES_H

#include <stddef.h>

struct lt_hostile_name {
	const char *name;  /* as a hostile peer sends it */
	const char *saved; /* the name it is saved under */
};

extern const struct lt_hostile_name lt_hostile_names[];
extern const size_t lt_n_hostile_names;

#endif
