/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hostile file names (lt_names.h). */
#include "lt_names.h"

#define RLO "\xe2\x80\xae" /* U+202E, right-to-left override */
#define CSI "\xc2\x9b"     /* U+009B, a C1 control: ESC [ on terminals */

const struct lt_hostile_name lt_hostile_names[] = {
	/* a DOS device: the file would be the console */
	{ "CON", "_CON" },
	/* hides its extension ("exe.txt" reads "txt.exe") and starts with
	 * ".." */
	{ ".." RLO "txt.exe", "_txt.exe" },
	/* and a terminal's escape sequence as well */
	{ ".." RLO "gpj" CSI "31m.exe", "_gpj_31m.exe" },
	/* hidden, and a shell's start-up file */
	{ ".bashrc", "bashrc" },
	/* what Windows refuses */
	{ "a:b*?.txt", "a_b__.txt" },
	/* a terminal's escape sequence where the name is printed */
	{ CSI "31mred.txt", "_31mred.txt" },
};

const size_t lt_n_hostile_names = sizeof(lt_hostile_names) /
				  sizeof(lt_hostile_names[0]);
