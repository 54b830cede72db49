/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Between control.c and sysinfo.c only: the sysinfo message's field
 * names, for control.c's check of unknown fields.
 */
#ifndef LL_SYSINFO_JSON_H
#define LL_SYSINFO_JSON_H

/* The message's fields, "type" included; NULL-terminated. */
extern const char *const ll_sysinfo_fields[];

#endif
