/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The user's system information (issue 13) as the technician reads it:
 * the same lines in the viewer's pane and from `session sysinfo`.  The
 * strings passed the display rule where they came in (session.c).
 */
#include <glib.h>
#include <jansson.h>

#include "agent.h"
#include "cli_commands.h"
#include "ll_sysinfo.h"

/* "16.0 GiB": IEC units, a plain space (scripts split on it; GLib's
 * g_format_size puts a no-break space there). */
static char *size_text(uint64_t bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB",
					     "PiB" };
	double v = (double)bytes;
	size_t i = 0;

	if (bytes < 1024)
		return g_strdup_printf("%u bytes", (unsigned)bytes);
	v /= 1024;
	while (v >= 1024 && i + 1 < G_N_ELEMENTS(units)) {
		v /= 1024;
		i++;
	}
	return g_strdup_printf("%.1f %s", v, units[i]);
}

static void add_basics(GString *s, const struct ll_sysinfo *si)
{
	char *a = size_text(si->memory_total), *b = size_text(si->memory_free);
	uint64_t up = si->uptime;

	g_string_append_printf(s, "Computer: %s\n", si->host);
	g_string_append_printf(s, "System: %s\n", si->os);
	g_string_append_printf(s, "Kernel: %s\n", si->kernel);
	g_string_append_printf(s, "CPU: %s (%u logical CPUs)\n", si->cpu,
			       (unsigned)si->cpus);
	g_string_append_printf(s, "Memory: %s total, %s available\n", a, b);
	g_string_append_printf(s,
			       "Uptime: %" G_GUINT64_FORMAT
			       " d %" G_GUINT64_FORMAT " h %" G_GUINT64_FORMAT
			       " min\n",
			       up / 86400, up / 3600 % 24, up / 60 % 60);
	g_free(a);
	g_free(b);
}

char *ll_agent_sysinfo_text(const struct ll_sysinfo *si)
{
	GString *s = g_string_new(NULL);
	char *a, *b;
	size_t i, j;

	add_basics(s, si);
	for (i = 0; i < si->n_disks; i++) {
		a = size_text(si->disks[i].free);
		b = size_text(si->disks[i].total);
		g_string_append_printf(s, "Disk %s: %s, %s free of %s\n",
				       si->disks[i].mount, si->disks[i].fs, a,
				       b);
		g_free(a);
		g_free(b);
	}
	for (i = 0; i < si->n_ifaces; i++) {
		g_string_append_printf(s, "Network %s:", si->ifaces[i].name);
		for (j = 0; j < si->ifaces[i].n_addrs; j++)
			g_string_append_printf(s, "%s %s", j > 0 ? "," : "",
					       si->ifaces[i].addrs[j]);
		g_string_append(s, si->ifaces[i].n_addrs == 0 ? " no address\n"
							      : "\n");
	}
	for (i = 0; i < si->n_displays; i++)
		g_string_append_printf(s, "Display %s: %ux%u\n",
				       si->displays[i].name,
				       (unsigned)si->displays[i].width,
				       (unsigned)si->displays[i].height);
	return g_string_free(s, FALSE);
}

void ll_cli_print_sysinfo(FILE *out, const struct ll_cli_req *req,
			  json_t *answer)
{
	struct ll_sysinfo *si = NULL;
	char err[160], *text;

	(void)req;
	/* The holder's answer, checked as the applet's message was. */
	if (ll_sysinfo_parse_json(json_object_get(answer, "sysinfo"), &si, err,
				  sizeof(err)) != 0) {
		fprintf(out, "(the answer cannot be read: %s)\n", err);
		return;
	}
	text = ll_agent_sysinfo_text(si);
	fputs(text, out);
	g_free(text);
	ll_sysinfo_free(si);
}
