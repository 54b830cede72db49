/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * System information for the technician (issue 13, `sysinfo`): read on
 * each sysinfo_request while the user grants `sysinfo`, and answered as a
 * sysinfo control message (ll_sysinfo.h).  Read only: the OS and version
 * (os-release), the kernel (uname), the host name, the CPU's model and
 * count, memory, the real filesystems with their free space, the network
 * interfaces' addresses, the monitors GDK knows, the uptime.  Without
 * the grant the request is refused (error not_granted) and reported to
 * the audit as a refusal.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <mntent.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <gtk/gtk.h>

#include "ll_control.h"
#include "ll_sysinfo.h"
#include "ll_text.h"
#include "ll_util.h"
#include "applet.h"
#include "session_int.h"

/* Text of ours made to fit the schema: printable, cut, never empty. */
static char *fit(const char *text, size_t max)
{
	char *t;

	if (text == NULL || text[0] == '\0')
		text = "unknown";
	t = ll_text_printable_new(text, strlen(text), max);
	if (t == NULL || t[0] == '\0') {
		g_free(t);
		t = g_strdup("unknown");
	}
	return t;
}

/* A "KEY: value" or "KEY=value" line's value of a file, or NULL. */
static char *file_value(const char *path, const char *key, char sep)
{
	char line[512], *v = NULL, *p;
	size_t n = strlen(key);
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return NULL;
	while (v == NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, n) != 0)
			continue;
		p = line + n;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != sep)
			continue;
		p++;
		while (*p == ' ' || *p == '"')
			p++;
		p[strcspn(p, "\"\n")] = '\0';
		v = g_strdup(p);
	}
	fclose(f);
	return v;
}

static uint64_t meminfo_bytes(const char *key)
{
	char *v = file_value("/proc/meminfo", key, ':');
	uint64_t kib = v != NULL ? g_ascii_strtoull(v, NULL, 10) : 0;

	g_free(v);
	return MIN(kib, (uint64_t)1 << 40) * 1024; /* kB; 2^53 at most */
}

static void read_basics(struct ll_sysinfo *si)
{
	struct utsname u;
	char *v, host[256] = "", line[64];
	FILE *f;
	double up = 0;

	v = file_value("/etc/os-release", "PRETTY_NAME", '=');
	if (v == NULL)
		v = file_value("/usr/lib/os-release", "PRETTY_NAME", '=');
	si->os = fit(v, LL_SYSINFO_MAX_TEXT);
	g_free(v);
	v = uname(&u) == 0 ? g_strdup_printf("%s %s %s", u.sysname, u.release,
					     u.machine)
			   : NULL;
	si->kernel = fit(v, LL_SYSINFO_MAX_TEXT);
	g_free(v);
	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	si->host = fit(host, LL_CONTROL_MAX_HOST_NAME);
	v = file_value("/proc/cpuinfo", "model name", ':');
	si->cpu = fit(v, LL_SYSINFO_MAX_TEXT);
	g_free(v);
	si->cpus = (uint32_t)CLAMP(sysconf(_SC_NPROCESSORS_ONLN), 1,
				   (long)LL_SYSINFO_MAX_CPUS);
	si->memory_total = meminfo_bytes("MemTotal");
	si->memory_free = MIN(meminfo_bytes("MemAvailable"), si->memory_total);
	/* "SECONDS.FRACTION IDLE" */
	if ((f = fopen("/proc/uptime", "re")) != NULL) {
		if (fgets(line, sizeof(line), f) != NULL)
			up = g_ascii_strtod(line, NULL);
		fclose(f);
	}
	si->uptime = up > 0 && up < 9e15 ? (uint64_t)up : 0;
}

static bool fs_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > LL_SYSINFO_MAX_FS)
		return false;
	for (; *s != '\0'; s++) {
		if (!g_ascii_islower(*s) && !g_ascii_isdigit(*s) &&
		    strchr("._-", *s) == NULL)
			return false;
	}
	return true;
}

/*
 * The mounted real filesystems: those on a block device (/dev/...), each
 * once, whose mount point fits the schema.  statvfs of a device-backed
 * filesystem does not wait on the network.
 */
static void read_disks(struct ll_sysinfo *si)
{
	struct ll_sysinfo_disk *d;
	struct mntent *e, ent;
	struct statvfs vfs;
	char buf[1024];
	FILE *f = setmntent("/proc/self/mounts", "re");
	size_t i;

	if (f == NULL)
		return;
	si->disks = g_new0(struct ll_sysinfo_disk, LL_SYSINFO_MAX_DISKS);
	while (si->n_disks < LL_SYSINFO_MAX_DISKS &&
	       (e = getmntent_r(f, &ent, buf, sizeof(buf))) != NULL) {
		if (strncmp(e->mnt_fsname, "/dev/", 5) != 0 ||
		    e->mnt_dir[0] != '/' ||
		    strlen(e->mnt_dir) > LL_SYSINFO_MAX_PATH ||
		    !fs_name_ok(e->mnt_type) || statvfs(e->mnt_dir, &vfs) != 0)
			continue;
		for (i = 0; i < si->n_disks; i++) {
			if (strcmp(si->disks[i].mount, e->mnt_dir) == 0)
				break;
		}
		if (i < si->n_disks)
			continue;
		d = &si->disks[si->n_disks];
		if ((d->mount = ll_text_printable_new(e->mnt_dir,
						      strlen(e->mnt_dir),
						      LL_SYSINFO_MAX_PATH)) ==
			    NULL ||
		    strcmp(d->mount, e->mnt_dir) != 0) {
			g_free(d->mount);
			d->mount = NULL;
			continue;
		}
		d->fs = g_strdup(e->mnt_type);
		d->total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
		d->free = MIN((uint64_t)vfs.f_bavail * vfs.f_frsize, d->total);
		si->n_disks++;
	}
	endmntent(f);
}

static struct ll_sysinfo_iface *iface_of(struct ll_sysinfo *si,
					 const char *name)
{
	struct ll_sysinfo_iface *f;
	size_t i;

	for (i = 0; i < si->n_ifaces; i++) {
		if (strcmp(si->ifaces[i].name, name) == 0)
			return &si->ifaces[i];
	}
	if (si->n_ifaces == LL_SYSINFO_MAX_IFACES ||
	    strlen(name) > LL_SYSINFO_MAX_IFNAME || strpbrk(name, "/ ") ||
	    !g_utf8_validate(name, -1, NULL))
		return NULL;
	f = &si->ifaces[si->n_ifaces++];
	f->name = g_strdup(name);
	f->addrs = g_new0(char *, LL_SYSINFO_MAX_ADDRS);
	return f;
}

static unsigned prefix_len(const struct sockaddr *mask, int af)
{
	const unsigned char *b;
	unsigned n = 0, i, len;

	if (mask == NULL)
		return af == AF_INET6 ? 128 : 32;
	if (af == AF_INET6) {
		b = ((const struct sockaddr_in6 *)mask)->sin6_addr.s6_addr;
		len = 16;
	} else {
		b = (const unsigned char *)&((const struct sockaddr_in *)mask)
			    ->sin_addr;
		len = 4;
	}
	for (i = 0; i < len; i++)
		n += (unsigned)__builtin_popcount(b[i]);
	return n;
}

static void read_ifaces(struct ll_sysinfo *si)
{
	struct ifaddrs *all, *a;
	struct ll_sysinfo_iface *f;
	char ip[INET6_ADDRSTRLEN], text[LL_SYSINFO_MAX_ADDR + 1];
	const void *src;
	int af;

	if (getifaddrs(&all) != 0)
		return;
	si->ifaces = g_new0(struct ll_sysinfo_iface, LL_SYSINFO_MAX_IFACES);
	for (a = all; a != NULL; a = a->ifa_next) {
		if (a->ifa_name == NULL || a->ifa_addr == NULL)
			continue;
		af = a->ifa_addr->sa_family;
		if (af != AF_INET && af != AF_INET6)
			continue;
		src = af == AF_INET6
			      ? (const void *)&(
					(struct sockaddr_in6 *)a->ifa_addr)
					->sin6_addr
			      : (const void *)&(
					(struct sockaddr_in *)a->ifa_addr)
					->sin_addr;
		if (inet_ntop(af, src, ip, sizeof(ip)) == NULL)
			continue;
		snprintf(text, sizeof(text), "%s/%u", ip,
			 prefix_len(a->ifa_netmask, af));
		if ((f = iface_of(si, a->ifa_name)) == NULL ||
		    f->n_addrs == LL_SYSINFO_MAX_ADDRS ||
		    !ll_sysinfo_addr_ok(text))
			continue;
		f->addrs[f->n_addrs++] = g_strdup(text);
	}
	freeifaddrs(all);
}

/* The monitors of this desktop as GDK knows them (what view shares). */
static void read_displays(struct ll_sysinfo *si)
{
	GdkDisplay *dpy = gdk_display_get_default();
	GdkRectangle g;
	const char *model;
	char *name;
	int i, n;

	if (dpy == NULL)
		return;
	n = MIN(gdk_display_get_n_monitors(dpy), (int)LL_CONTROL_MAX_MONITORS);
	si->displays = g_new0(struct ll_sysinfo_display, MAX(n, 1));
	for (i = 0; i < n; i++) {
		GdkMonitor *m = gdk_display_get_monitor(dpy, i);

		gdk_monitor_get_geometry(m, &g);
		model = gdk_monitor_get_model(m);
		name = model != NULL && model[0] != '\0'
			       ? g_strdup(model)
			       : g_strdup_printf("monitor %d", i + 1);
		if (!ll_control_monitor_name_ok(name) || g.width < 1 ||
		    g.height < 1) {
			g_free(name);
			continue;
		}
		si->displays[si->n_displays].name = name;
		si->displays[si->n_displays].width = (uint32_t)
			MIN(g.width, LL_CONTROL_MAX_COORD);
		si->displays[si->n_displays].height = (uint32_t)
			MIN(g.height, LL_CONTROL_MAX_COORD);
		si->n_displays++;
	}
}

struct ll_sysinfo *ll_applet_sysinfo_read(void)
{
	struct ll_sysinfo *si = g_malloc0(sizeof(*si));

	read_basics(si);
	read_disks(si);
	read_ifaces(si);
	read_displays(si);
	return si;
}

void ll_applet_sysinfo_answer(struct ll_applet_session *s)
{
	struct ll_control_msg m = { .type = LL_CONTROL_SYSINFO };

	if (!(s->granted & LL_CAP_SYSINFO) || s->stalled) {
		ll_applet_refuse_ungranted(
			s, LL_CAP_SYSINFO, "sysinfo is not granted",
			"refused: sysinfo_request without the grant");
		return;
	}
	m.u.sysinfo.info = ll_applet_sysinfo_read();
	ll_applet_send_ctl(s, &m);
	ll_info("sysinfo sent to the technician (%zu disks, %zu interfaces, "
		"%zu displays)",
		m.u.sysinfo.info->n_disks, m.u.sysinfo.info->n_ifaces,
		m.u.sysinfo.info->n_displays);
	ll_sysinfo_free(m.u.sysinfo.info);
}
