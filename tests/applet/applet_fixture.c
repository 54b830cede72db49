/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The applet GUI tests' shared fixture (applet_fixture.h). */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>

#include "applet_fixture.h"
#include "ll_api_client.h"
#include "ll_stream.h"

void die_with_parent(gpointer data)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static void applet_exited(GObject *src, GAsyncResult *res, gpointer data)
{
	struct applet *ap = data;
	GSubprocess *p = G_SUBPROCESS(src);

	g_subprocess_wait_finish(p, res, NULL);
	ap->status = g_subprocess_get_if_exited(p)
			     ? g_subprocess_get_exit_status(p)
			     : -1;
	ap->exited = true;
}

void applet_spawn(struct applet *ap, char *const *env, const char *log_path,
		  const char *const *argv)
{
	const char *supp = g_getenv("LL_APPLET_LSAN_SUPP");
	char **e = g_strdupv((char **)env);
	GSubprocessLauncher *l;
	GError *err = NULL;

	memset(ap, 0, sizeof(*ap));
	if (supp != NULL) {
		char *o = g_strdup_printf("suppressions=%s", supp);

		e = g_environ_setenv(e, "LSAN_OPTIONS", o, TRUE);
		g_free(o);
	}
	ap->log = g_strdup(log_path);
	g_unlink(ap->log); /* the launcher appends */
	l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	g_subprocess_launcher_set_environ(l, e);
	g_subprocess_launcher_set_stderr_file_path(l, ap->log);
	ap->proc = g_subprocess_launcher_spawnv(l, argv, &err);
	g_assert_no_error(err);
	g_subprocess_wait_async(ap->proc, NULL, applet_exited, ap);
	g_object_unref(l);
	g_strfreev(e);
}

void applet_spawn_for(struct applet *ap, const struct lh_relay *relay,
		      char *const *env, const char *log_path,
		      const char *const *args)
{
	GPtrArray *argv = g_ptr_array_new();
	char *url = applet_relay_url(relay);

	g_ptr_array_add(argv, (char *)g_getenv("LL_APPLET_BIN"));
	g_ptr_array_add(argv, "--relay");
	g_ptr_array_add(argv, url);
	g_ptr_array_add(argv, "--ca");
	g_ptr_array_add(argv, relay->ca_cert);
	for (; *args != NULL; args++)
		g_ptr_array_add(argv, (char *)*args);
	g_ptr_array_add(argv, NULL);
	applet_spawn(ap, env, log_path, (const char *const *)argv->pdata);
	g_ptr_array_free(argv, TRUE);
	g_free(url);
}

bool applet_wait(struct applet *ap, int timeout_ms)
{
	WAIT_FOR(ap->exited, timeout_ms);
	return ap->exited;
}

char *applet_log(struct applet *ap)
{
	char *text = NULL;

	g_file_get_contents(ap->log, &text, NULL, NULL);
	return text != NULL ? text : g_strdup("");
}

bool applet_gone(void *data)
{
	const struct applet *ap = data;

	return ap != NULL && ap->exited;
}

void applet_reap(struct applet *ap)
{
	if (!ap->exited) {
		g_subprocess_force_exit(ap->proc);
		applet_wait(ap, 5000);
	}
	g_object_unref(ap->proc);
	g_free(ap->log);
}

char *applet_relay_url(const struct lh_relay *relay)
{
	return g_strdup_printf("https://127.0.0.1:%u", relay->port);
}

struct ll_session_io *tech_session_open(const struct lh_relay *relay,
					const char *ticket,
					const struct ll_session_io_cbs *cbs,
					void *user)
{
	struct ll_session_io_opts o;
	struct ll_relay_opts ro = { 0 };
	struct ll_client_error err;
	struct ll_stream *st = NULL;
	struct ll_session_io *io = NULL;
	char *url = applet_relay_url(relay);

	ro.url = url;
	ro.ca_file = relay->ca_cert;
	ro.no_system_cas = true;
	if (ll_stream_open(&ro, NULL, ticket, &st, &err) != 0)
		g_error("the technician's stream: %s", err.message);
	ll_session_io_opts_default(&o);
	o.side = LL_SIDE_AGENT;
	g_assert_cmpint(ll_session_io_new(st, &o, cbs, user, &io), ==, 0);
	g_free(url);
	return io;
}

void tech_hello_request(struct ll_session_io *io, const char *name,
			uint32_t caps)
{
	struct ll_control_msg hello = { .type = LL_CONTROL_HELLO };
	struct ll_control_msg req = { .type = LL_CONTROL_REQUEST };

	hello.u.hello.version = LL_CONTROL_VERSION;
	hello.u.hello.role = LL_SIDE_AGENT;
	hello.u.hello.name = (char *)name; /* only read */
	g_assert_cmpint(ll_session_io_send_control(io, &hello), ==, 0);
	req.u.request.id = 1;
	req.u.request.caps = caps;
	g_assert_cmpint(ll_session_io_send_control(io, &req), ==, 0);
}
