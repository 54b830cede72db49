/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Xvfb and window waits for the GUI and e2e tests (lt_x.h). */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <gio/gio.h>

#include "lt_x.h"

/* How long Xvfb may take to name its display. */
#define XVFB_START_MS 20000

struct lt_xvfb {
	GSubprocess *proc;
	char *display;
};

/* Children die with the test, even when an assertion aborts it. */
static void die_with_parent(gpointer data)
{
	(void)data;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

struct lt_xvfb *lt_xvfb_start(const char *geometry, const char *log_path)
{
	g_autoptr(GSubprocessLauncher) l = NULL;
	g_autoptr(GError) e = NULL;
	const char *bin = g_getenv("LL_XVFB");
	struct lt_xvfb *x = g_new0(struct lt_xvfb, 1);
	int64_t deadline = g_get_monotonic_time() / 1000 + XVFB_START_MS;
	char buf[32] = "";
	size_t got = 0;
	struct pollfd pfd;
	ssize_t n;
	int fds[2];

	g_assert_cmpint(pipe(fds), ==, 0);
	l = g_subprocess_launcher_new(
		log_path != NULL ? G_SUBPROCESS_FLAGS_STDERR_MERGE
				 : G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
					   G_SUBPROCESS_FLAGS_STDERR_SILENCE);
	if (log_path != NULL)
		g_subprocess_launcher_set_stdout_file_path(l, log_path);
	g_subprocess_launcher_take_fd(l, fds[1], 3);
	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	x->proc = g_subprocess_launcher_spawn(l, &e,
					      bin != NULL ? bin : "Xvfb",
					      "-displayfd", "3", "-screen",
					      "0", geometry, "-nolisten",
					      "tcp", "-noreset", NULL);
	g_assert_no_error(e);
	/* Xvfb writes the display number and a newline when ready. */
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	while (strchr(buf, '\n') == NULL) {
		int64_t left = deadline - g_get_monotonic_time() / 1000;

		if (left <= 0 || got + 1 >= sizeof(buf))
			g_error("Xvfb did not name its display (see %s)",
				log_path != NULL ? log_path : "its output");
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = read(fds[0], buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			g_error("Xvfb exited (see %s)",
				log_path != NULL ? log_path : "its output");
		got += (size_t)n;
		buf[got] = '\0';
	}
	close(fds[0]);
	x->display = g_strdup_printf(":%ld", strtol(buf, NULL, 10));
	g_test_message("Xvfb on %s", x->display);
	return x;
}

const char *lt_xvfb_display(const struct lt_xvfb *x)
{
	return x->display;
}

void lt_xvfb_stop(struct lt_xvfb *x)
{
	if (x == NULL)
		return;
	g_subprocess_send_signal(x->proc, SIGTERM);
	g_subprocess_wait(x->proc, NULL, NULL);
	g_object_unref(x->proc);
	g_free(x->display);
	g_free(x);
}

struct x_wait {
	bool done;
	int status;
	char *out;
};

static void x_wait_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct x_wait *w = data;
	GSubprocess *p = G_SUBPROCESS(src);

	g_subprocess_communicate_utf8_finish(p, res, &w->out, NULL, NULL);
	w->status = g_subprocess_get_if_exited(p)
			    ? g_subprocess_get_exit_status(p)
			    : -1;
	w->done = true;
}

static gboolean tick_done(gpointer data)
{
	(void)data;
	return G_SOURCE_REMOVE;
}

void lt_iterate(int ms)
{
	GSource *t = g_timeout_source_new((guint)ms);

	g_source_set_callback(t, tick_done, NULL, NULL);
	g_source_attach(t, NULL);
	g_main_context_iteration(NULL, TRUE);
	g_source_destroy(t);
	g_source_unref(t);
}

/* Runs the main context until w is done, stop says so or ms passed. */
static void run_until(struct x_wait *w, int ms, bool (*stop)(void *data),
		      void *stop_data)
{
	int64_t end = g_get_monotonic_time() / 1000 + ms;

	while (!w->done && !(stop != NULL && stop(stop_data)) &&
	       g_get_monotonic_time() / 1000 < end)
		lt_iterate(20);
}

char **lt_x_env(const char *display)
{
	char **env = g_get_environ();

	env = g_environ_unsetenv(env, "DBUS_SESSION_BUS_ADDRESS");
	env = g_environ_setenv(env, "NO_AT_BRIDGE", "1", TRUE);
	env = g_environ_setenv(env, "GDK_BACKEND", "x11", TRUE);
	env = g_environ_setenv(env, "GSETTINGS_BACKEND", "memory", TRUE);
	/* window titles carry an en dash: xdotool matches UTF-8 */
	env = g_environ_setenv(env, "LC_ALL", "C.UTF-8", TRUE);
	if (display != NULL)
		return g_environ_setenv(env, "DISPLAY", display, TRUE);
	return g_environ_unsetenv(env, "DISPLAY");
}

static void die_with_test(gpointer data)
{
	(void)data;
	/* an aborted test leaves nothing behind */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

int lt_x_spawn(char **argv, const char *display, const char *log_path)
{
	g_auto(GStrv) env = lt_x_env(display);
	GError *error = NULL;
	GPid pid = 0;
	int in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int out_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			  0600);

	g_assert_cmpint(in_fd, >=, 0);
	g_assert_cmpint(out_fd, >=, 0);
	if (!g_spawn_async_with_fds(NULL, argv, env,
				    G_SPAWN_DO_NOT_REAP_CHILD |
					    G_SPAWN_SEARCH_PATH,
				    die_with_test, NULL, &pid, in_fd, out_fd,
				    out_fd, &error))
		g_error("cannot start %s: %s", argv[0], error->message);
	close(in_fd);
	close(out_fd);
	return pid;
}

char *lt_x_title_re(const char *title)
{
	GString *r = g_string_new("^");

	for (; *title != '\0'; title++) {
		if (strchr(".[]()*+?{}|^$\\", *title) != NULL)
			g_string_append_c(r, '\\');
		g_string_append_c(r, *title);
	}
	g_string_append_c(r, '$');
	return g_string_free(r, FALSE);
}

int lt_x_target(const char *display, const char *const *args, int limit_ms,
		bool (*stop)(void *data), void *stop_data, char **out)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();

	g_assert_nonnull(g_getenv("LL_E2E_TARGET"));
	g_ptr_array_add(argv, (char *)g_getenv("LL_E2E_TARGET"));
	for (; *args != NULL; args++)
		g_ptr_array_add(argv, (char *)*args);
	g_ptr_array_add(argv, NULL);
	return lt_x_run(display, (const char *const *)argv->pdata, limit_ms,
			stop, stop_data, out);
}

int lt_x_run(const char *display, const char *const *argv, int limit_ms,
	     bool (*stop)(void *data), void *stop_data, char **out)
{
	g_autoptr(GSubprocessLauncher) l = NULL;
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GError) e = NULL;
	g_auto(GStrv) env = lt_x_env(display);
	struct x_wait w = { .status = -1 };

	l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_subprocess_launcher_set_environ(l, env);
	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	p = g_subprocess_launcher_spawnv(l, argv, &e);
	g_assert_no_error(e);
	g_subprocess_communicate_utf8_async(p, NULL, NULL, x_wait_done, &w);
	run_until(&w, limit_ms, stop, stop_data);
	if (!w.done) {
		g_subprocess_force_exit(p);
		run_until(&w, 10000, NULL, NULL);
		g_assert_true(w.done);
		w.status = -1;
	}
	if (out != NULL)
		*out = g_steal_pointer(&w.out);
	g_free(w.out);
	return w.status;
}

bool lt_x_wait_window(const char *display, const char *re, bool gone,
		      int timeout_ms, bool (*stop)(void *data),
		      void *stop_data, char **id)
{
	g_autofree char *ms = g_strdup_printf("%d", timeout_ms);
	g_autofree char *out = NULL;
	const char *args[] = {
		"--window", re, "--timeout", ms, gone ? "--gone" : NULL, NULL
	};

	/* e2e-target keeps the deadline; the limit is for a hung one. */
	if (lt_x_target(display, args, timeout_ms + 10000, stop, stop_data,
			&out) != 0)
		return false;
	if (gone)
		return true;
	/* e2e-target prints the window's id */
	if (out == NULL || g_strstrip(out)[0] == '\0')
		return false;
	if (id != NULL)
		*id = g_steal_pointer(&out);
	return true;
}
