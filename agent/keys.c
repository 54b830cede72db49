/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Text and key names to X keysyms for `session type` and `session key`.
 * GDK's tables (usable without a display) map Unicode to the legacy
 * keysyms; what they do not know becomes 0x01000000 | code point, the
 * X11 rule for Unicode keysyms, which the applet's XTest side binds to a
 * spare keycode.
 */
#include <stdlib.h>
#include <string.h>

#include <gdk/gdk.h>

#include "agent.h"
#include "ll_err.h"

#define KEYS_MAX_TEXT 4096

int ll_keys_from_text(const char *text, GArray **out, char **err)
{
	GArray *a;
	const char *p;
	gunichar ch;
	guint32 ks;

	if (text == NULL || !g_utf8_validate(text, -1, NULL)) {
		*err = g_strdup("the text is not valid UTF-8");
		return LL_ERR_MALFORMED;
	}
	if (strlen(text) > KEYS_MAX_TEXT) {
		*err = g_strdup_printf("the text is longer than %d bytes",
				       KEYS_MAX_TEXT);
		return LL_ERR_TOO_LARGE;
	}
	a = g_array_new(FALSE, FALSE, sizeof(guint32));
	for (p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		ch = g_utf8_get_char(p);
		if (ch == '\n' || ch == '\r')
			ks = GDK_KEY_Return;
		else if (ch == '\t')
			ks = GDK_KEY_Tab;
		else if (ch < 0x20 || (ch >= 0x7f && ch < 0xa0)) {
			*err = g_strdup_printf("the text holds control "
					       "character U+%04X; use "
					       "`session key` for keys",
					       (unsigned)ch);
			g_array_unref(a);
			return LL_ERR_INVALID_ARG;
		} else
			ks = gdk_unicode_to_keyval(ch);
		g_array_append_val(a, ks);
	}
	*out = a;
	return LL_OK;
}

static guint32 modifier_alias(const char *name)
{
	static const struct {
		const char *alias;
		guint32 keysym;
	} aliases[] = {
		{ "ctrl", GDK_KEY_Control_L },
		{ "control", GDK_KEY_Control_L },
		{ "alt", GDK_KEY_Alt_L },
		{ "shift", GDK_KEY_Shift_L },
		{ "super", GDK_KEY_Super_L },
		{ "win", GDK_KEY_Super_L },
		{ "meta", GDK_KEY_Meta_L },
		{ "altgr", GDK_KEY_ISO_Level3_Shift },
		{ "enter", GDK_KEY_Return },
		{ "esc", GDK_KEY_Escape },
		{ "del", GDK_KEY_Delete },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(aliases); i++)
		if (g_ascii_strcasecmp(name, aliases[i].alias) == 0)
			return aliases[i].keysym;
	return 0;
}

static int one_key(const char *name, guint32 *ks, char **err)
{
	char *end;
	gunichar ch;
	guint64 v;

	if (name[0] == '\0') {
		*err = g_strdup("empty key name");
		return LL_ERR_INVALID_ARG;
	}
	if ((*ks = modifier_alias(name)) != 0)
		return LL_OK;
	if (g_ascii_strncasecmp(name, "0x", 2) == 0 && name[2] != '\0') {
		v = g_ascii_strtoull(name + 2, &end, 16);
		if (*end == '\0' && v > 0 && v <= 0x1ffffffu) {
			*ks = (guint32)v;
			return LL_OK;
		}
	}
	*ks = gdk_keyval_from_name(name);
	if (*ks != GDK_KEY_VoidSymbol && *ks != 0)
		return LL_OK;
	/* a single character stands for its own key */
	if (g_utf8_validate(name, -1, NULL) && g_utf8_strlen(name, -1) == 1) {
		ch = g_utf8_get_char(name);
		if (ch >= 0x20) {
			*ks = gdk_unicode_to_keyval(ch);
			return LL_OK;
		}
	}
	*err = g_strdup_printf("unknown key name \"%s\" (X keysym names "
			       "such as Return, F5, ctrl+alt+Delete)",
			       g_utf8_validate(name, -1, NULL) ? name : "?");
	return LL_ERR_INVALID_ARG;
}

int ll_keys_parse_combo(const char *spec, GArray **out, char **err)
{
	GArray *a;
	char **parts;
	guint32 ks;
	int r = LL_OK;
	size_t i;

	if (spec == NULL || spec[0] == '\0' || strlen(spec) > 256) {
		*err = g_strdup("give a key name such as Return or "
				"ctrl+alt+Delete");
		return LL_ERR_INVALID_ARG;
	}
	/* "+" alone, or a trailing "++", means the plus key */
	if (strcmp(spec, "+") == 0) {
		a = g_array_new(FALSE, FALSE, sizeof(guint32));
		ks = GDK_KEY_plus;
		g_array_append_val(a, ks);
		*out = a;
		return LL_OK;
	}
	parts = g_strsplit(spec, "+", 8);
	a = g_array_new(FALSE, FALSE, sizeof(guint32));
	for (i = 0; parts[i] != NULL; i++) {
		if (parts[i][0] == '\0' && parts[i + 1] != NULL &&
		    parts[i + 1][0] == '\0' && parts[i + 2] == NULL) {
			ks = GDK_KEY_plus;
			g_array_append_val(a, ks);
			break;
		}
		if ((r = one_key(parts[i], &ks, err)) != 0)
			break;
		g_array_append_val(a, ks);
	}
	g_strfreev(parts);
	if (r != 0) {
		g_array_unref(a);
		return r;
	}
	*out = a;
	return LL_OK;
}
