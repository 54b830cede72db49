/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PIN given with --pin must not stay in the applet's command line,
 * which /proc/PID/cmdline (and ps) show every local user: the applet
 * overwrites it once read (applet/app.c, wipe_pin_args).
 *
 * The applet runs on its own Xvfb against a stand-in relay: a listening
 * socket that accepts and never answers.  Its first connection there is
 * the event waited for: by then the command line has been read and the
 * PIN is on its way to the redeem, so it must be gone from cmdline.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "lt_x.h"

static struct lt_xvfb *xvfb;

/* Children die with the test, even when an assertion aborts it. */
static void die_with_parent(gpointer data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* The stand-in relay: listening on 127.0.0.1, port in *port. */
static int listen_local(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(listen(fd, 4), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &len), ==, 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* The process's command line as /proc shows it, NULs made spaces. */
static char *cmdline_of(const char *pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%s/cmdline", pid);
	char *text = NULL;
	gsize len = 0, i;

	g_assert_true(g_file_get_contents(path, &text, &len, NULL));
	for (i = 0; i < len; i++)
		if (text[i] == '\0')
			text[i] = ' ';
	return text;
}

static char *file_text(const char *path)
{
	char *text = NULL;

	g_file_get_contents(path, &text, NULL, NULL);
	return text != NULL ? text : g_strdup("");
}

/*
 * Runs the applet with pin_args (the PIN given as the test names it),
 * waits for its connection to the stand-in relay, and checks that its
 * command line still shows the relay but no longer the PIN.
 */
static void check_wiped(const char *const *pin_args, const char *pin,
			const char *tag)
{
	g_autofree char *log = g_strdup_printf("%s/applet-argv-%s.log",
					       g_getenv("LL_TEST_TMPDIR"),
					       tag);
	g_autofree char *url = NULL, *cmdline = NULL, *text = NULL;
	GSubprocessLauncher *l;
	GPtrArray *argv = g_ptr_array_new();
	GSubprocess *proc;
	GError *e = NULL;
	struct pollfd pfd;
	uint16_t port;
	int lfd, cfd, r;
	size_t i;

	lfd = listen_local(&port);
	url = g_strdup_printf("https://127.0.0.1:%u", port);
	g_ptr_array_add(argv, (char *)g_getenv("LL_APPLET_BIN"));
	g_ptr_array_add(argv, "--relay");
	g_ptr_array_add(argv, url);
	for (i = 0; pin_args[i] != NULL; i++)
		g_ptr_array_add(argv, (char *)pin_args[i]);
	g_ptr_array_add(argv, NULL);

	g_unlink(log); /* the launcher appends */
	l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	g_subprocess_launcher_setenv(l, "DISPLAY", lt_xvfb_display(xvfb),
				     TRUE);
	g_subprocess_launcher_setenv(l, "GDK_BACKEND", "x11", TRUE);
	g_subprocess_launcher_set_stderr_file_path(l, log);
	proc = g_subprocess_launcher_spawnv(l,
					    (const char *const *)argv->pdata,
					    &e);
	g_assert_no_error(e);
	g_object_unref(l);

	/* Its first connection to the "relay": the PIN has been read. */
	pfd.fd = lfd;
	pfd.events = POLLIN;
	r = poll(&pfd, 1, 30000);
	if (r != 1) {
		text = file_text(log);
		g_error("%s: the applet did not connect (poll %d); log:\n%s",
			tag, r, text);
	}
	cfd = accept(lfd, NULL, NULL);
	g_assert_cmpint(cfd, >=, 0);

	cmdline = cmdline_of(g_subprocess_get_identifier(proc));
	g_test_message("%s: cmdline now: %s", tag, cmdline);
	/* The probe sees the command line at all ... */
	g_assert_nonnull(strstr(cmdline, url));
	g_assert_nonnull(strstr(cmdline, "--pin"));
	/* ... and the PIN is not in it. */
	if (strstr(cmdline, pin) != NULL)
		g_error("%s: the PIN is still in /proc/PID/cmdline: %s", tag,
			cmdline);

	g_subprocess_force_exit(proc);
	g_assert_true(g_subprocess_wait(proc, NULL, NULL));
	g_object_unref(proc);
	close(cfd);
	close(lfd);
	g_ptr_array_free(argv, TRUE);
}

static void test_pin_separate(void)
{
	static const char *const args[] = { "--pin", "135790", NULL };

	check_wiped(args, "135790", "separate");
}

static void test_pin_equals(void)
{
	static const char *const args[] = { "--pin=246801", NULL };

	check_wiped(args, "246801", "equals");
}

/* Given twice, GOption keeps the last; neither may stay. */
static void test_pin_twice(void)
{
	static const char *const args[] = { "--pin", "975310", "--pin=864200",
					    NULL };

	check_wiped(args, "975310", "twice-first");
	check_wiped(args, "864200", "twice-last");
}

/* Runs the applet with --ca ca and a PIN: its exit status, stderr in
 * *err.  A relay that listens and never answers stands by: the applet
 * must not get as far as connecting. */
static int run_with_ca(const char *ca, char **err)
{
	uint16_t port;
	int lfd = listen_local(&port);
	g_autofree char *url = g_strdup_printf("https://127.0.0.1:%u", port);
	const char *argv[] = { g_getenv("LL_APPLET_BIN"),
			       "--relay",
			       url,
			       "--ca",
			       ca,
			       "--pin",
			       "123456",
			       NULL };
	char **env = g_get_environ();
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	GError *e = NULL;
	int st = -1;

	env = g_environ_setenv(env, "DISPLAY", lt_xvfb_display(xvfb), TRUE);
	g_assert_true(g_spawn_sync(NULL, (char **)argv, env, 0, NULL, NULL,
				   NULL, err, &st, &e));
	g_assert_no_error(e);
	/* nothing came to the relay: refused before the PIN went out */
	g_assert_cmpint(poll(&pfd, 1, 0), ==, 0);
	close(lfd);
	g_strfreev(env);
	return g_spawn_check_wait_status(st, NULL) ? 0
	       : WIFEXITED(st)                     ? WEXITSTATUS(st)
						   : -1;
}

/* A --ca file that is not there, or holds no certificate, fails at
 * start with one line and exit 2, before any window. */
static void test_ca_missing(void)
{
	g_autofree char *missing = g_build_filename(g_getenv("LL_TEST_TMPDIR"),
						    "no-such-ca.pem", NULL);
	g_autofree char *empty = g_build_filename(g_getenv("LL_TEST_TMPDIR"),
						  "not-a-ca.pem", NULL);
	g_autofree char *err = NULL, *err2 = NULL;

	g_unlink(missing);
	g_assert_cmpint(run_with_ca(missing, &err), ==, 2);
	g_test_message("stderr: %s", err);
	g_assert_nonnull(
		strstr(err, "cannot read the certificate file given"));
	g_assert_true(g_file_set_contents(empty, "hello\n", -1, NULL));
	g_assert_cmpint(run_with_ca(empty, &err2), ==, 2);
	g_test_message("stderr: %s", err2);
	g_assert_nonnull(strstr(err2, "holds no PEM certificate"));
	g_unlink(empty);
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	g_assert_nonnull(g_getenv("LL_APPLET_BIN"));
	g_assert_nonnull(g_getenv("LL_TEST_TMPDIR"));
	xvfb = lt_xvfb_start("800x600x24", NULL);
	g_test_add_func("/applet-argv/pin-separate", test_pin_separate);
	g_test_add_func("/applet-argv/ca-missing", test_ca_missing);
	g_test_add_func("/applet-argv/pin-equals", test_pin_equals);
	g_test_add_func("/applet-argv/pin-twice", test_pin_twice);
	rc = g_test_run();
	lt_xvfb_stop(xvfb);
	return rc;
}
