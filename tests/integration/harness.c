/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Integration test harness: see harness.h. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <glib/gstdio.h>

#include "ll_buf.h"
#include "lt_wait.h"
#include "ll_build.h"

#define LH_CHUNK (64 * 1024)

static char *secrets_path;
static GMutex secrets_lock;

int64_t lh_now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

const char *lh_tmpdir(void)
{
	const char *d = g_getenv("LL_TEST_TMPDIR");

	g_assert_nonnull(d);
	return d;
}

int64_t lh_env_int(const char *name, int64_t def)
{
	const char *v = g_getenv(name);

	if (v == NULL || *v == '\0')
		return def;
	return g_ascii_strtoll(v, NULL, 10);
}

static char *logs_dir(void)
{
	return g_build_filename(lh_tmpdir(), "logs", NULL);
}

void lh_init(int *argc, char ***argv)
{
	g_autofree char *logs = NULL;
	g_autofree char *base = NULL;
	g_autofree char *fname = NULL;

	g_test_init(argc, argv, NULL);
	/* A peer closing under a write must be an error, not a death. */
	signal(SIGPIPE, SIG_IGN);
	g_assert_nonnull(g_getenv("LL_RELAY_BIN"));
	logs = logs_dir();
	g_assert_cmpint(g_mkdir_with_parents(logs, 0700), ==, 0);
	base = g_path_get_basename((*argv)[0]);
	fname = g_strdup_printf("secrets-%s.txt", base);
	secrets_path = g_build_filename(logs, fname, NULL);
	g_assert_true(g_file_set_contents(secrets_path, "", 0, NULL));
	lh_secret("password", LH_CANARY_PASSWORD);
}

void lh_secret(const char *kind, const char *value)
{
	FILE *f;

	g_assert_nonnull(secrets_path);
	g_assert_nonnull(value);
	/* A secret with a line break would not survive the canary's lines. */
	g_assert_null(strpbrk(value, "\r\n\t"));
	g_mutex_lock(&secrets_lock);
	f = fopen(secrets_path, "a");
	g_assert_nonnull(f);
	fprintf(f, "%s\t%s\n", kind, value);
	fclose(f);
	g_mutex_unlock(&secrets_lock);
}

/* ---- processes ---- */

static void child_setup(gpointer data)
{
	/* An aborted test must not leave a relay behind. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* The relay's own: as child_setup, and the descriptor limit asked for
 * (after fork, before exec: setrlimit only). */
static void relay_child_setup(gpointer data)
{
	const struct lh_relay *r = data;
	struct rlimit rl;

	child_setup(NULL);
	if (r->nofile > 0) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)r->nofile;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			_exit(127);
	}
}

static int wait_status(GPid pid, int timeout_ms, bool *timed_out)
{
	int64_t deadline = lh_now_ms() + timeout_ms;
	int st = 0;
	pid_t w;

	*timed_out = false;
	/* The exit itself (a pidfd), then the status. */
	if (!lt_wait_pid_exit(pid, (int)MAX(0, deadline - lh_now_ms()))) {
		*timed_out = true;
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		return -2;
	}
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (w != pid)
		return -3;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return -1;
}

/* Spawns argv with stdin_text on stdin, stdout/stderr into files, and
 * waits.  Returns the exit status, -1 (signal), -2 (timeout). */
static int spawn_wait(char **argv, const char *stdin_text,
		      const char *out_path, const char *err_path,
		      int timeout_ms)
{
	GError *error = NULL;
	int in_fd = -1, out_fd = -1, err_fd = -1;
	int pfd[2];
	GPid pid = 0;
	bool to;
	int st;

	if (stdin_text != NULL) {
		g_assert_cmpint(pipe(pfd), ==, 0);
		g_assert_cmpuint(strlen(stdin_text), <, 60000);
		g_assert_cmpint(write(pfd[1], stdin_text, strlen(stdin_text)),
				==, (ssize_t)strlen(stdin_text));
		close(pfd[1]);
		in_fd = pfd[0];
	} else {
		in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0600);
	err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0600);
	g_assert_cmpint(in_fd, >=, 0);
	g_assert_cmpint(out_fd, >=, 0);
	g_assert_cmpint(err_fd, >=, 0);
	if (!g_spawn_async_with_fds(NULL, argv, NULL,
				    G_SPAWN_DO_NOT_REAP_CHILD, child_setup,
				    NULL, &pid, in_fd, out_fd, err_fd, &error))
		g_error("spawn %s: %s", argv[0], error->message);
	close(in_fd);
	close(out_fd);
	close(err_fd);
	st = wait_status(pid, timeout_ms, &to);
	g_spawn_close_pid(pid);
	return st;
}

static void run_ok(struct lh_relay *r, char **argv)
{
	g_autofree char *out = g_build_filename(r->dir, "tool.out", NULL);
	g_autofree char *err = g_build_filename(r->dir, "tool.err", NULL);
	g_autofree char *msg = NULL;
	int st;

	st = spawn_wait(argv, NULL, out, err, 60000);
	if (st != 0) {
		g_file_get_contents(err, &msg, NULL, NULL);
		g_error("%s failed (%d): %s", argv[0], st, msg ? msg : "");
	}
}

static void append_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	g_assert_nonnull(f);
	fputs(text, f);
	fclose(f);
}

int lh_relay_cmd(struct lh_relay *r, const char *stdin_text, char **out,
		 char **err, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree char *opath = NULL, *epath = NULL, *otext = NULL;
	g_autofree char *etext = NULL, *logs = NULL, *admin_log = NULL;
	g_autofree char *logname = NULL;
	GString *entry;
	const char *a;
	va_list ap;
	bool stdin_pw = false, generated, channel;
	int st;
	guint i;

	g_ptr_array_add(argv, (char *)g_getenv("LL_RELAY_BIN"));
	va_start(ap, err);
	while ((a = va_arg(ap, const char *)) != NULL)
		g_ptr_array_add(argv, (char *)a);
	va_end(ap);
	g_ptr_array_add(argv, "--state-dir");
	g_ptr_array_add(argv, r->state_dir);
	g_ptr_array_add(argv, NULL);

	r->n_cmds++;
	opath = g_strdup_printf("%s/cmd-%d.out", r->dir, r->n_cmds);
	epath = g_strdup_printf("%s/cmd-%d.err", r->dir, r->n_cmds);
	st = spawn_wait((char **)argv->pdata, stdin_text, opath, epath, 60000);
	g_assert_true(g_file_get_contents(opath, &otext, NULL, NULL));
	g_assert_true(g_file_get_contents(epath, &etext, NULL, NULL));

	/* Everything the relay prints is a log the canary reads -- but
	 * for the one-time password `technician add|passwd` and the
	 * credential `channel add` hand out on stdout: that is where they
	 * are meant to go, not a log. */
	entry = g_string_new("$ lifeline-relay");
	for (i = 1; argv->pdata[i] != NULL; i++) {
		g_string_append_printf(entry, " %s", (char *)argv->pdata[i]);
		if (strcmp(argv->pdata[i], "--password-stdin") == 0)
			stdin_pw = true;
	}
	generated = argv->len > 3 &&
		    strcmp(argv->pdata[1], "technician") == 0 &&
		    (strcmp(argv->pdata[2], "add") == 0 ||
		     strcmp(argv->pdata[2], "passwd") == 0) &&
		    !stdin_pw && st == 0;
	channel = argv->len > 3 && strcmp(argv->pdata[1], "channel") == 0 &&
		  strcmp(argv->pdata[2], "add") == 0 && st == 0;
	g_string_append_printf(entry,
			       "\n[exit %d]\n[stdout]\n%s\n[stderr]\n%s\n", st,
			       generated ? "(a generated password)"
			       : channel ? "(a channel credential)"
					 : otext,
			       etext);
	logs = logs_dir();
	logname = g_strdup_printf("%s-admin.log", r->name);
	admin_log = g_build_filename(logs, logname, NULL);
	append_file(admin_log, entry->str);
	g_string_free(entry, TRUE);

	if (out != NULL)
		*out = g_steal_pointer(&otext);
	if (err != NULL)
		*err = g_steal_pointer(&etext);
	return st;
}

void lh_tech_add(struct lh_relay *r, const char *user, const char *password,
		 bool admin)
{
	g_autofree char *in = g_strdup_printf("%s\n", password);
	g_autofree char *err = NULL;
	int st;

	lh_secret("password", password);
	if (admin)
		st = lh_relay_cmd(r, in, NULL, &err, "technician", "add", user,
				  "--admin", "--password-stdin", NULL);
	else
		st = lh_relay_cmd(r, in, NULL, &err, "technician", "add", user,
				  "--password-stdin", NULL);
	if (st != 0)
		g_error("technician add %s: exit %d: %s", user, st, err);
}

static void make_ca(struct lh_relay *r, const char *cert, const char *key)
{
	char *argv[] = { "openssl",
			 "req",
			 "-x509",
			 "-newkey",
			 "ec",
			 "-pkeyopt",
			 "ec_paramgen_curve:prime256v1",
			 "-nodes",
			 "-keyout",
			 (char *)key,
			 "-out",
			 (char *)cert,
			 "-days",
			 "365",
			 "-sha256",
			 "-subj",
			 "/O=Lifeline tests/CN=Lifeline Test CA",
			 "-addext",
			 "basicConstraints=critical,CA:TRUE",
			 "-addext",
			 "keyUsage=critical,keyCertSign,cRLSign",
			 NULL };
	g_autofree char *path = g_find_program_in_path("openssl");

	g_assert_nonnull(path);
	argv[0] = path;
	run_ok(r, argv);
	g_chmod(key, 0600);
}

void lh_make_leaf(struct lh_relay *r, const char *cert_path,
		  const char *key_path, char **own_ca_cert)
{
	g_autofree char *openssl = g_find_program_in_path("openssl");
	g_autofree char *ext = g_build_filename(r->dir, "leaf.ext", NULL);
	g_autofree char *csr = g_build_filename(r->dir, "leaf.csr", NULL);
	g_autofree char *serial = NULL;
	g_autofree char *ca_cert = NULL, *ca_key = NULL;
	static int n_ca;
	const char *ext_text =
		"subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
		"basicConstraints=critical,CA:FALSE\n"
		"keyUsage=critical,digitalSignature\n"
		"extendedKeyUsage=serverAuth\n"
		"subjectKeyIdentifier=hash\n"
		"authorityKeyIdentifier=keyid\n"
		/* testssl.sh rates a certificate without any revocation
		 * pointer HIGH; the test CA names one it never serves. */
		"crlDistributionPoints=URI:http://127.0.0.1/lifeline-test.crl\n"
		"authorityInfoAccess=OCSP;URI:http://127.0.0.1/ocsp\n";

	g_assert_nonnull(openssl);
	if (own_ca_cert != NULL) {
		n_ca++;
		ca_cert = g_strdup_printf("%s/ca%d.pem", r->dir, n_ca);
		ca_key = g_strdup_printf("%s/ca%d.key", r->dir, n_ca);
		make_ca(r, ca_cert, ca_key);
	} else {
		ca_cert = g_strdup(r->ca_cert);
		ca_key = g_strdup(r->ca_key);
	}
	g_assert_true(g_file_set_contents(ext, ext_text, -1, NULL));
	serial = g_strdup_printf("0x%08x%08x", g_random_int(), g_random_int());
	{
		char *argv[] = { openssl,
				 "req",
				 "-new",
				 "-newkey",
				 "ec",
				 "-pkeyopt",
				 "ec_paramgen_curve:prime256v1",
				 "-nodes",
				 "-keyout",
				 (char *)key_path,
				 "-out",
				 csr,
				 "-subj",
				 "/O=Lifeline tests/CN=localhost",
				 NULL };
		run_ok(r, argv);
	}
	{
		char *argv[] = { openssl,       "x509",    "-req",
				 "-in",         csr,       "-CA",
				 ca_cert,       "-CAkey",  ca_key,
				 "-set_serial", serial,    "-days",
				 "365",         "-sha256", "-extfile",
				 ext,           "-out",    (char *)cert_path,
				 NULL };
		run_ok(r, argv);
	}
	g_chmod(key_path, 0600);
	if (own_ca_cert != NULL)
		*own_ca_cert = g_steal_pointer(&ca_cert);
}

static void remove_old_logs(const char *name)
{
	g_autofree char *logs = logs_dir();
	g_autofree char *prefix = g_strdup_printf("%s-", name);
	GDir *d = g_dir_open(logs, 0, NULL);
	const char *e;

	if (d == NULL)
		return;
	while ((e = g_dir_read_name(d)) != NULL) {
		if (g_str_has_prefix(e, prefix)) {
			g_autofree char *p = g_build_filename(logs, e, NULL);
			g_unlink(p);
		}
	}
	g_dir_close(d);
}

/*
 * The test's relay.conf lines, overridden key by key by the environment's
 * LL_TEST_RELAY_CONF (to check that a test fails when the relay is
 * configured to misbehave; the relay refuses duplicate keys).
 */
static char *merge_conf(const char *test_lines, const char *env_lines)
{
	g_auto(GStrv) tl = g_strsplit(test_lines, "\n", -1);
	g_auto(GStrv) el = g_strsplit(env_lines ? env_lines : "", "\n", -1);
	GString *out = g_string_new(NULL);
	guint i, j;

	for (i = 0; tl[i] != NULL; i++) {
		const char *eq = strchr(tl[i], '=');
		bool overridden = false;

		for (j = 0; eq != NULL && el[j] != NULL; j++)
			if (strncmp(el[j], tl[i], (size_t)(eq - tl[i]) + 1) ==
			    0)
				overridden = true;
		if (tl[i][0] != '\0' && !overridden)
			g_string_append_printf(out, "%s\n", tl[i]);
	}
	for (j = 0; el[j] != NULL; j++)
		if (el[j][0] != '\0')
			g_string_append_printf(out, "%s\n", el[j]);
	return g_string_free(out, FALSE);
}

struct lh_relay *lh_relay_new(const char *name, const char *conf_extra)
{
	struct lh_relay *r = g_new0(struct lh_relay, 1);
	struct ll_tls_client_opts co = { 0 };
	g_autofree char *conf = NULL, *conf_path = NULL, *err = NULL;
	char errbuf[256] = "";
	int e = 0;
	int st;

	r->name = g_strdup(name);
	r->dir = g_build_filename(lh_tmpdir(), name, NULL);
	r->state_dir = g_build_filename(r->dir, "state", NULL);
	r->ca_cert = g_build_filename(r->dir, "ca.pem", NULL);
	r->ca_key = g_build_filename(r->dir, "ca.key", NULL);
	r->cert_file = g_build_filename(r->dir, "leaf.pem", NULL);
	r->key_file = g_build_filename(r->dir, "leaf.key", NULL);
	r->conf_extra = g_strdup(conf_extra ? conf_extra : "");
	{
		char *argv[] = { "/bin/rm", "-rf", r->dir, NULL };
		g_autofree char *o = g_strdup_printf("%s.rm.out", r->dir);
		g_autofree char *x = g_strdup_printf("%s.rm.err", r->dir);

		g_assert_cmpint(spawn_wait(argv, NULL, o, x, 60000), ==, 0);
		g_unlink(o);
		g_unlink(x);
	}
	remove_old_logs(name);
	g_assert_cmpint(g_mkdir_with_parents(r->state_dir, 0700), ==, 0);

	make_ca(r, r->ca_cert, r->ca_key);
	lh_make_leaf(r, r->cert_file, r->key_file, NULL);

	conf = merge_conf(r->conf_extra, g_getenv("LL_TEST_RELAY_CONF"));
	g_free(r->conf_extra);
	r->conf_extra = conf;
	conf = g_strdup_printf("# written by the integration harness\n"
			       "[relay]\ncert_file=%s\nkey_file=%s\n%s",
			       r->cert_file, r->key_file, r->conf_extra);
	conf_path = g_build_filename(r->state_dir, "relay.conf", NULL);
	g_assert_true(g_file_set_contents(conf_path, conf, -1, NULL));

	st = lh_relay_cmd(r, NULL, NULL, &err, "init", NULL);
	if (st != 0)
		g_error("lifeline-relay init: exit %d: %s", st, err);

	co.ca_file = r->ca_cert;
	co.no_system_cas = true;
	r->ctx = ll_tls_client_ctx_new(&co, &e, errbuf, sizeof(errbuf));
	if (r->ctx == NULL)
		g_error("client ctx: %d %s", e, errbuf);
	return r;
}

static bool parse_port(const char *log, const char *host, uint16_t *port)
{
	g_autofree char *marker = g_strdup_printf(
		"lifeline-relay: listening on https://%s:", host);
	const char *p = strstr(log, marker);
	char *end = NULL;
	unsigned long v;

	if (p == NULL)
		return false;
	p += strlen(marker);
	v = strtoul(p, &end, 10);
	if (end == p || v == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

void lh_relay_start(struct lh_relay *r)
{
	g_autofree char *logs = logs_dir();
	g_autofree char *fname = NULL;
	const char *host = r->listen_host ? r->listen_host : "127.0.0.1";
	g_autofree char *listen = g_strdup_printf("%s:0", host);
	GError *error = NULL;
	char *argv[] = { (char *)g_getenv("LL_RELAY_BIN"),
			 "serve",
			 "--state-dir",
			 r->state_dir,
			 "--listen",
			 listen,
			 NULL,
			 NULL,
			 NULL,
			 NULL,
			 NULL };
	int64_t deadline;
	int log_fd, in_fd;

	g_assert_cmpint(r->pid, ==, 0);
#if LL_TEST_HOOKS
	/* The relay reads its wall clock's offset from here, at every read;
	 * lh_relay_clock_advance() moves it. */
	if (r->clock_file == NULL) {
		r->clock_file = g_build_filename(r->dir, "clock", NULL);
		g_assert_true(
			g_file_set_contents(r->clock_file, "0\n", -1, NULL));
	}
	argv[6] = "--test-clock-file";
	argv[7] = r->clock_file;
	/* Hashes wait while this file exists: lh_relay_hash_gate(). */
	if (r->hash_gate == NULL)
		r->hash_gate = g_build_filename(r->dir, "hash-gate", NULL);
	argv[8] = "--test-hash-gate";
	argv[9] = r->hash_gate;
#endif
	r->n_starts++;
	fname = g_strdup_printf("%s-serve-%d.log", r->name, r->n_starts);
	g_free(r->log_path);
	r->log_path = g_build_filename(logs, fname, NULL);
	log_fd = open(r->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0600);
	in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(log_fd, >=, 0);
	if (!g_spawn_async_with_fds(NULL, argv, NULL,
				    G_SPAWN_DO_NOT_REAP_CHILD,
				    relay_child_setup, r, &r->pid, in_fd,
				    log_fd, log_fd, &error))
		g_error("spawn relay: %s", error->message);
	close(log_fd);
	close(in_fd);

	deadline = lh_now_ms() + 20000;
	for (;;) {
		g_autofree char *log = lh_relay_log(r);

		if (parse_port(log, host, &r->port))
			break;
		if (!lh_relay_alive(r))
			g_error("relay exited before listening; log:\n%s",
				log);
		if (lh_now_ms() > deadline)
			g_error("relay did not log its port; log:\n%s", log);
		/* The next write to the log (or a moment to look at the
		 * relay's pulse again). */
		lt_wait_file(r->log_path, strlen(log), "\n", 1, 200);
	}
	g_test_message("relay %s pid %d on port %u", r->name, (int)r->pid,
		       r->port);
}

char *lh_relay_log(struct lh_relay *r)
{
	char *text = NULL;

	if (r->log_path == NULL ||
	    !g_file_get_contents(r->log_path, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

int lh_relay_log_count(struct lh_relay *r, const char *needle)
{
	g_autofree char *log = lh_relay_log(r);
	g_auto(GStrv) lines = g_strsplit(log, "\n", -1);
	int n = 0;
	guint i;

	for (i = 0; lines[i] != NULL; i++)
		if (strstr(lines[i], needle) != NULL)
			n++;
	return n;
}

bool lh_relay_wait_log(struct lh_relay *r, const char *needle, int count,
		       int timeout_ms)
{
	int64_t deadline = lh_now_ms() + timeout_ms;

	for (;;) {
		if (lh_relay_log_count(r, needle) >= count)
			return true;
		if (lh_now_ms() > deadline || !lh_relay_alive(r))
			return false;
		/* Woken by the log's growth; the short bound only lets us
		 * notice a relay that died. */
		lt_wait_file(r->log_path, 0, needle, count, 200);
	}
}

bool lh_relay_alive(struct lh_relay *r)
{
	int st;
	pid_t w;

	if (r->pid == 0)
		return false;
	w = waitpid(r->pid, &st, WNOHANG);
	if (w == 0)
		return true;
	g_test_message("relay %s exited: %s %d", r->name,
		       WIFEXITED(st) ? "status" : "signal",
		       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	r->pid = 0;
	return false;
}

bool lh_relay_clock_advance(struct lh_relay *r, int64_t seconds)
{
	g_autofree char *text = NULL;

	if (!LL_TEST_HOOKS)
		return false;
	g_assert_nonnull(r->clock_file);
	g_assert_cmpint(seconds, >=, 0);
	r->clock_offset += seconds;
	text = g_strdup_printf("%" G_GINT64_FORMAT "\n", r->clock_offset);
	/* by rename: the relay never reads half a number */
	g_assert_true(g_file_set_contents(r->clock_file, text, -1, NULL));
	g_test_message("relay %s: wall clock now %" G_GINT64_FORMAT " s ahead",
		       r->name, r->clock_offset);
	return true;
}

bool lh_relay_hash_gate(struct lh_relay *r, bool closed)
{
	g_autofree char *path = NULL;

	if (!LL_TEST_HOOKS)
		return false;
	path = g_build_filename(r->dir, "hash-gate", NULL);
	if (closed)
		g_assert_true(g_file_set_contents(path, "closed\n", -1, NULL));
	else if (g_unlink(path) != 0)
		g_assert_cmpint(errno, ==, ENOENT);
	return true;
}

void lh_relay_signal(struct lh_relay *r, int sig)
{
	g_assert_cmpint(r->pid, >, 0);
	g_assert_cmpint(kill(r->pid, sig), ==, 0);
}

int lh_relay_stop(struct lh_relay *r, int timeout_ms)
{
	bool to;
	int st;

	g_assert_cmpint(r->pid, >, 0);
	kill(r->pid, SIGTERM);
	st = wait_status(r->pid, timeout_ms, &to);
	g_spawn_close_pid(r->pid);
	r->pid = 0;
	if (st != 0) {
		g_autofree char *log = lh_relay_log(r);

		g_test_message("relay %s stop: %d; log tail:\n%s", r->name, st,
			       log + (strlen(log) > 4000 ? strlen(log) - 4000
							 : 0));
	}
	return st;
}

void lh_relay_free(struct lh_relay *r)
{
	bool to;

	if (r == NULL)
		return;
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		wait_status(r->pid, 5000, &to);
	}
	ll_tls_ctx_free(r->ctx);
	g_free(r->name);
	g_free(r->dir);
	g_free(r->state_dir);
	g_free(r->ca_cert);
	g_free(r->ca_key);
	g_free(r->cert_file);
	g_free(r->key_file);
	g_free(r->conf_extra);
	g_free(r->log_path);
	g_free(r->clock_file);
	g_free(r->hash_gate);
	g_free(r);
}

static int64_t proc_status_kib(struct lh_relay *r, const char *key)
{
	g_autofree char *path = NULL, *text = NULL;
	const char *p;

	g_assert_cmpint(r->pid, >, 0);
	path = g_strdup_printf("/proc/%d/status", (int)r->pid);
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	p = strstr(text, key);
	g_assert_nonnull(p);
	return g_ascii_strtoll(p + strlen(key), NULL, 10);
}

int64_t lh_relay_rss_kib(struct lh_relay *r)
{
	return proc_status_kib(r, "VmRSS:");
}

int64_t lh_relay_hwm_kib(struct lh_relay *r)
{
	return proc_status_kib(r, "VmHWM:");
}

int64_t lh_audit_verify_intact(struct lh_relay *r)
{
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(GRegex) re = NULL;
	g_autoptr(GMatchInfo) mi = NULL;
	g_autofree char *n = NULL;
	int st;

	st = lh_relay_cmd(r, NULL, &out, &err, "audit", "verify", NULL);
	if (st != 0)
		g_error("audit verify: exit %d\n%s%s", st, out, err);
	re = g_regex_new("^audit: ([0-9]+) records, chain intact$",
			 G_REGEX_MULTILINE, 0, NULL);
	if (!g_regex_match(re, out, 0, &mi))
		g_error("audit verify said: %s / %s", out, err);
	n = g_match_info_fetch(mi, 1);
	return g_ascii_strtoll(n, NULL, 10);
}

int64_t lh_relay_stop_verify(struct lh_relay *r)
{
	g_assert_cmpint(lh_relay_stop(r, 10000), ==, 0);
	return lh_audit_verify_intact(r);
}

json_t *lh_audit_records(struct lh_relay *r, const char *action)
{
	g_autofree char *out = NULL;
	g_auto(GStrv) lines = NULL;
	json_t *all = json_array();
	guint i;

	g_assert_cmpint(lh_relay_cmd(r, NULL, &out, NULL, "audit", "export",
				     NULL),
			==, 0);
	lines = g_strsplit(out, "\n", -1);
	for (i = 0; lines[i] != NULL; i++) {
		json_t *rec;

		if (lines[i][0] == '\0')
			continue;
		rec = json_loads(lines[i], 0, NULL);
		g_assert_nonnull(rec);
		if (g_strcmp0(json_string_value(json_object_get(rec, "action")),
			      action) == 0)
			json_array_append(all, rec);
		json_decref(rec);
	}
	return all;
}

/* ---- sockets and TLS ---- */

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do {
		n = poll(&p, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	return n;
}

int lh_tcp_connect(struct lh_relay *r, const char *src_ip)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 15 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	if (src_ip != NULL) {
		struct sockaddr_in la = { .sin_family = AF_INET };

		g_assert_cmpint(inet_pton(AF_INET, src_ip, &la.sin_addr), ==,
				1);
		g_assert_cmpint(bind(fd, (struct sockaddr *)&la, sizeof(la)),
				==, 0);
	}
	/* Bounded blocking I/O: a hung relay fails the test, not CI. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	sa.sin_port = htons(r->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		g_error("connect to relay port %u: %s", r->port, strerror(e));
	}
	return fd;
}

int lh_connect_try(struct lh_relay *r, const char *src_ip,
		   struct ll_tls_ctx *ctx, struct lh_conn **out, char *errbuf,
		   size_t errlen)
{
	struct ll_tls_conn *tls = NULL;
	struct lh_conn *c;
	struct timeval tv = { .tv_sec = 15 };
	int rv, fd;

	if (ctx == NULL)
		ctx = r->ctx;
	if (src_ip == NULL) {
		rv = ll_tls_dial(ctx, "127.0.0.1", r->port, 10000, &tls,
				 errbuf, errlen);
		if (rv != LL_OK)
			return rv;
		fd = ll_tls_conn_fd(tls);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	} else {
		fd = lh_tcp_connect(r, src_ip);
		tls = ll_tls_conn_new_client(ctx, fd, "127.0.0.1");
		g_assert_nonnull(tls);
		for (;;) {
			rv = ll_tls_conn_handshake(tls);
			if (rv == LL_ERR_WANT_READ &&
			    wait_fd(fd, POLLIN, 10000) > 0)
				continue;
			if (rv == LL_ERR_WANT_WRITE &&
			    wait_fd(fd, POLLOUT, 10000) > 0)
				continue;
			break;
		}
		if (rv != LL_OK) {
			g_snprintf(errbuf, errlen, "handshake: %s: %s",
				   ll_strerror(rv), ll_tls_conn_error(tls));
			ll_tls_conn_free(tls, true);
			return rv;
		}
	}
	c = g_new0(struct lh_conn, 1);
	c->tls = tls;
	c->fd = fd;
	*out = c;
	return LL_OK;
}

struct lh_conn *lh_connect(struct lh_relay *r, const char *src_ip)
{
	struct lh_conn *c = NULL;
	char errbuf[256] = "";
	int rv;

	rv = lh_connect_try(r, src_ip, NULL, &c, errbuf, sizeof(errbuf));
	if (rv != LL_OK)
		g_error("TLS connect to relay: %s (%s)", ll_strerror(rv),
			errbuf);
	return c;
}

void lh_conn_free(struct lh_conn *c)
{
	if (c == NULL)
		return;
	ll_tls_conn_free(c->tls, true);
	g_free(c->rbuf);
	g_free(c);
}

int lh_conn_write_all(struct lh_conn *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t n;
	int rv;

	while (len > 0) {
		n = 0;
		rv = ll_tls_conn_write(c->tls, p, len, &n);
		if (rv == LL_OK) {
			p += n;
			len -= n;
		} else if (rv == LL_ERR_WANT_WRITE) {
			if (wait_fd(c->fd, POLLOUT, 15000) <= 0)
				return LL_ERR_TIMEOUT;
		} else if (rv == LL_ERR_WANT_READ) {
			if (wait_fd(c->fd, POLLIN, 15000) <= 0)
				return LL_ERR_TIMEOUT;
		} else {
			return rv;
		}
	}
	return LL_OK;
}

/* One TLS read of what is there, waiting up to timeout_ms for it. */
static int conn_read_some(struct lh_conn *c, void *buf, size_t len,
			  int timeout_ms, size_t *nread)
{
	int64_t deadline = lh_now_ms() + timeout_ms;
	int64_t left;
	int rv;

	for (;;) {
		if (ll_tls_conn_pending(c->tls) == 0) {
			left = deadline - lh_now_ms();
			if (left < 0)
				return LL_ERR_TIMEOUT;
			if (wait_fd(c->fd, POLLIN, (int)left) == 0)
				return LL_ERR_TIMEOUT;
		}
		*nread = 0;
		rv = ll_tls_conn_read(c->tls, buf, len, nread);
		if (rv == LL_OK && *nread == 0)
			return LL_ERR_CLOSED;
		if (rv == LL_ERR_WANT_READ)
			continue;
		if (rv == LL_ERR_WANT_WRITE) {
			wait_fd(c->fd, POLLOUT, 1000);
			continue;
		}
		return rv;
	}
}

int lh_conn_read(struct lh_conn *c, void *buf, size_t len, size_t *nread)
{
	if (c->rlen > 0) {
		size_t n = MIN(len, c->rlen);

		memcpy(buf, c->rbuf, n);
		memmove(c->rbuf, c->rbuf + n, c->rlen - n);
		c->rlen -= n;
		*nread = n;
		return LL_OK;
	}
	return conn_read_some(c, buf, len, 15000, nread);
}

/* Reads more bytes into c->rbuf. */
static int conn_fill(struct lh_conn *c, int timeout_ms)
{
	size_t n = 0;
	int rv;

	if (c->rcap - c->rlen < LH_CHUNK) {
		c->rcap = c->rlen + 2 * LH_CHUNK;
		c->rbuf = g_realloc(c->rbuf, c->rcap);
	}
	rv = conn_read_some(c, c->rbuf + c->rlen, c->rcap - c->rlen,
			    timeout_ms, &n);
	if (rv == LL_OK)
		c->rlen += n;
	return rv;
}

int lh_conn_wait_closed(struct lh_conn *c, int timeout_ms)
{
	int64_t deadline = lh_now_ms() + timeout_ms;
	int64_t left;
	int rv;

	c->rlen = 0;
	for (;;) {
		left = deadline - lh_now_ms();
		if (left <= 0)
			return LL_ERR_TIMEOUT;
		rv = conn_fill(c, (int)left);
		c->rlen = 0;
		if (rv == LL_ERR_TIMEOUT)
			return rv;
		if (rv != LL_OK)
			return LL_OK; /* closed, reset or TLS alert */
	}
}

int lh_conn_end(struct lh_conn *c, int timeout_ms)
{
	int rv;

	/* The relay frees its side (and its per-address slot) before its
	 * close reaches us. */
	g_assert_cmpint(shutdown(c->fd, SHUT_WR), ==, 0);
	rv = lh_conn_wait_closed(c, timeout_ms);
	lh_conn_free(c);
	return rv;
}

int lh_fd_wait_closed(int fd, int timeout_ms, size_t *nbytes_seen)
{
	int64_t deadline = lh_now_ms() + timeout_ms;
	int64_t left;
	char buf[4096];
	ssize_t n;

	if (nbytes_seen != NULL)
		*nbytes_seen = 0;
	for (;;) {
		left = deadline - lh_now_ms();
		if (left <= 0 || wait_fd(fd, POLLIN, (int)left) == 0)
			return LL_ERR_TIMEOUT;
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return LL_OK;
		if (n > 0 && nbytes_seen != NULL)
			*nbytes_seen += (size_t)n;
	}
}

/* ---- HTTP ---- */

void lh_resp_free(struct lh_resp *r)
{
	if (r == NULL)
		return;
	ll_http_response_free(r->head);
	g_free(r->body);
	if (r->json != NULL)
		json_decref(r->json);
	g_free(r);
}

const char *lh_resp_header(const struct lh_resp *r, const char *name)
{
	return ll_http_response_header(r->head, name);
}

const char *lh_resp_str(const struct lh_resp *r, const char *key)
{
	json_t *v;

	if (r->json == NULL || !json_is_object(r->json))
		return NULL;
	v = json_object_get(r->json, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *lh_resp_error_code(const struct lh_resp *r)
{
	json_t *e, *code;

	if (r->json == NULL || !json_is_object(r->json))
		return NULL;
	e = json_object_get(r->json, "error");
	code = json_object_get(e, "code");
	return json_is_string(code) ? json_string_value(code) : NULL;
}

void lh_assert_error(const struct lh_resp *r, int status, const char *code)
{
	json_t *e, *msg;

	bool status_ok = status != 0 ? r->status == status
				     : r->status >= 400 && r->status < 500;

	if (!status_ok || lh_resp_error_code(r) == NULL ||
	    strcmp(lh_resp_error_code(r), code) != 0)
		g_error("expected %d %s, got %d: %s", status, code, r->status,
			r->body);
	/* Exactly the API's error object: {"error": {code, message}}. */
	g_assert_cmpuint(json_object_size(r->json), ==, 1);
	e = json_object_get(r->json, "error");
	msg = json_object_get(e, "message");
	g_assert_true(json_is_string(msg));
	g_assert_cmpuint(strlen(json_string_value(msg)), >, 0);
	g_assert_true(g_str_has_prefix(lh_resp_header(r, "Content-Type") ?: "",
				       "application/json"));
}

int lh_read_response(struct lh_conn *c, int timeout_ms, struct lh_resp **out)
{
	struct ll_http_limits lim;
	struct ll_http_response *head = NULL;
	struct lh_resp *resp;
	const char *cl, *te, *conn_hdr;
	int64_t deadline = lh_now_ms() + timeout_ms;
	uint64_t want = 0;
	bool until_close = false;
	int rv, n;

	ll_http_limits_default(&lim);
	lim.max_head = 64 * 1024;
	for (;;) {
		n = ll_http_response_head_parse(c->rbuf, c->rlen, &lim, &head);
		if (n > 0)
			break;
		if (n < 0)
			return n;
		rv = conn_fill(c, (int)MAX(1, deadline - lh_now_ms()));
		if (rv != LL_OK)
			return rv;
	}
	memmove(c->rbuf, c->rbuf + n, c->rlen - (size_t)n);
	c->rlen -= (size_t)n;

	resp = g_new0(struct lh_resp, 1);
	resp->head = head;
	resp->status = head->status;
	cl = ll_http_response_header(head, "Content-Length");
	te = ll_http_response_header(head, "Transfer-Encoding");
	conn_hdr = ll_http_response_header(head, "Connection");
	if (te != NULL) {
		/* The relay's answers are small and framed by length. */
		lh_resp_free(resp);
		return LL_ERR_MALFORMED;
	}
	if (head->status == 101 || head->status == 204 ||
	    head->status == 304 || (head->status >= 100 && head->status < 200))
		want = 0;
	else if (cl != NULL)
		want = g_ascii_strtoull(cl, NULL, 10);
	else if (conn_hdr != NULL &&
		 g_ascii_strcasecmp(conn_hdr, "close") == 0)
		until_close = true;
	g_assert_cmpuint(want, <=, 16 * LH_MIB);

	while (until_close ? c->rlen < 16 * LH_MIB : c->rlen < want) {
		rv = conn_fill(c, (int)MAX(1, deadline - lh_now_ms()));
		if (rv == LL_OK)
			continue;
		if (until_close && rv != LL_ERR_TIMEOUT)
			break;
		lh_resp_free(resp);
		return rv;
	}
	if (until_close)
		want = c->rlen;
	resp->body = g_malloc(want + 1);
	memcpy(resp->body, c->rbuf, want);
	resp->body[want] = '\0';
	resp->body_len = want;
	memmove(c->rbuf, c->rbuf + want, c->rlen - want);
	c->rlen -= want;
	if (want > 0)
		resp->json = json_loadb(resp->body, want, 0, NULL);
	*out = resp;
	return LL_OK;
}

int lh_raw_try(struct lh_conn *c, const void *req, size_t len, int timeout_ms,
	       struct lh_resp **out)
{
	int rv;

	if ((rv = lh_conn_write_all(c, req, len)) != LL_OK)
		return rv;
	return lh_read_response(c, timeout_ms, out);
}

int lh_do_try(struct lh_relay *r, const struct lh_req *q, struct lh_resp **out)
{
	GString *s = g_string_new(NULL);
	struct lh_conn *c = q->conn;
	char errbuf[256] = "";
	int rv;

	g_string_append_printf(s,
			       "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
			       "User-Agent: lifeline-itest\r\n"
			       "Accept: application/json\r\n",
			       q->method, q->path, r->port);
	if (q->bearer != NULL)
		g_string_append_printf(s, "Authorization: Bearer %s\r\n",
				       q->bearer);
	if (q->body != NULL)
		g_string_append_printf(s,
				       "Content-Type: application/json\r\n"
				       "Content-Length: %zu\r\n",
				       strlen(q->body));
	else if (strcmp(q->method, "POST") == 0 ||
		 strcmp(q->method, "PUT") == 0)
		g_string_append(s, "Content-Length: 0\r\n");
	if (c == NULL)
		g_string_append(s, "Connection: close\r\n");
	if (q->headers != NULL)
		g_string_append(s, q->headers);
	g_string_append(s, "\r\n");
	if (q->body != NULL)
		g_string_append(s, q->body);

	if (c == NULL) {
		rv = lh_connect_try(r, q->src_ip, NULL, &c, errbuf,
				    sizeof(errbuf));
		if (rv != LL_OK) {
			g_test_message("connect: %s", errbuf);
			goto out;
		}
	}
	rv = lh_raw_try(c, s->str, s->len, 30000, out);
out:
	if (c != q->conn)
		lh_conn_free(c);
	/* The request may carry a password: wipe our copy. */
	memset(s->str, 0, s->len);
	g_string_free(s, TRUE);
	return rv;
}

struct lh_resp *lh_do(struct lh_relay *r, const struct lh_req *q)
{
	struct lh_resp *resp = NULL;
	int rv = lh_do_try(r, q, &resp);

	if (rv != LL_OK)
		g_error("%s %s: no answer: %s", q->method, q->path,
			ll_strerror(rv));
	return resp;
}

struct lh_resp *lh_get(struct lh_relay *r, const char *path,
		       const char *bearer)
{
	struct lh_req q = { .method = "GET", .path = path, .bearer = bearer };

	return lh_do(r, &q);
}

struct lh_resp *lh_post(struct lh_relay *r, const char *path,
			const char *bearer, json_t *body)
{
	g_autofree char *text = NULL;
	struct lh_req q = { .method = "POST", .path = path, .bearer = bearer };

	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		q.body = text;
	}
	return lh_do(r, &q);
}

struct lh_resp *lh_delete(struct lh_relay *r, const char *path,
			  const char *bearer)
{
	struct lh_req q = { .method = "DELETE",
			    .path = path,
			    .bearer = bearer };

	return lh_do(r, &q);
}

/* ---- API flows ---- */

struct lh_resp *lh_login_try(struct lh_relay *r, const char *user,
			     const char *password)
{
	json_t *body = json_pack("{ssss}", "username", user, "password",
				 password);
	struct lh_resp *resp = lh_post(r, "/api/v1/login", NULL, body);

	json_decref(body);
	return resp;
}

char *lh_login(struct lh_relay *r, const char *user, const char *password)
{
	struct lh_resp *resp;
	json_t *tech;
	char *token;

	lh_secret("password", password);
	resp = lh_login_try(r, user, password);
	if (resp->status != 200)
		g_error("login %s: %d %s", user, resp->status, resp->body);
	g_assert_nonnull(lh_resp_str(resp, "token"));
	token = g_strdup(lh_resp_str(resp, "token"));
	lh_secret("token", token);
	g_assert_cmpuint(strlen(token), >=, 43); /* 256 bits, base64url */
	g_assert_true(
		json_is_integer(json_object_get(resp->json, "expires_in")));
	g_assert_cmpint(json_integer_value(
				json_object_get(resp->json, "expires_in")),
			>, 0);
	tech = json_object_get(resp->json, "technician");
	g_assert_true(json_is_object(tech));
	g_assert_cmpstr(json_string_value(json_object_get(tech, "name")), ==,
			user);
	g_assert_true(json_is_array(json_object_get(tech, "permissions")));
	lh_resp_free(resp);
	return token;
}

void lh_pin_new(struct lh_relay *r, const char *token, const char *lock,
		struct lh_pin *out)
{
	json_t *body = lock ? json_pack("{ss}", "lock", lock) : json_object();
	struct lh_resp *resp = lh_post(r, "/api/v1/sessions", token, body);
	const char *pin;
	size_t i;

	json_decref(body);
	if (resp->status != 201)
		g_error("POST /sessions: %d %s", resp->status, resp->body);
	pin = lh_resp_str(resp, "pin");
	g_assert_nonnull(pin);
	lh_secret("pin", pin);
	/* 6 digits unless the org's policy pin_length says more */
	g_assert_cmpuint(strlen(pin), >=, 6);
	g_assert_cmpuint(strlen(pin), <=, 10);
	for (i = 0; pin[i] != '\0'; i++)
		g_assert_true(g_ascii_isdigit(pin[i]));
	g_assert_nonnull(lh_resp_str(resp, "ticket"));
	lh_secret("ticket", lh_resp_str(resp, "ticket"));
	g_assert_nonnull(lh_resp_str(resp, "session_id"));
	g_assert_nonnull(json_object_get(resp->json, "expires_at"));
	out->pin = g_strdup(pin);
	out->session_id = g_strdup(lh_resp_str(resp, "session_id"));
	out->agent_ticket = g_strdup(lh_resp_str(resp, "ticket"));
	lh_resp_free(resp);
}

void lh_pin_clear(struct lh_pin *p)
{
	g_clear_pointer(&p->session_id, g_free);
	g_clear_pointer(&p->pin, g_free);
	g_clear_pointer(&p->agent_ticket, g_free);
}

char *lh_redeem(struct lh_relay *r, const char *pin,
		const char *expect_session_id)
{
	json_t *body = json_pack("{ss}", "pin", pin);
	struct lh_resp *resp = lh_post(r, "/api/v1/pins/redeem", NULL, body);
	json_t *tech;
	char *ticket;

	json_decref(body);
	if (resp->status != 200)
		g_error("redeem: %d %s", resp->status, resp->body);
	g_assert_nonnull(lh_resp_str(resp, "ticket"));
	ticket = g_strdup(lh_resp_str(resp, "ticket"));
	lh_secret("ticket", ticket);
	if (expect_session_id != NULL)
		g_assert_cmpstr(lh_resp_str(resp, "session_id"), ==,
				expect_session_id);
	tech = json_object_get(resp->json, "technician");
	g_assert_true(json_is_string(json_object_get(tech, "name")));
	g_assert_true(json_is_string(json_object_get(tech, "org")));
	g_assert_true(
		json_is_array(json_object_get(resp->json, "capabilities")));
	g_assert_cmpstr(lh_resp_str(resp, "stream_path"), ==,
			"/api/v1/stream");
	lh_resp_free(resp);
	return ticket;
}

void lh_session_new(struct lh_relay *r, const char *token,
		    struct lh_session *out)
{
	lh_pin_new(r, token, NULL, &out->pin);
	out->applet_ticket = lh_redeem(r, out->pin.pin, out->pin.session_id);
	/* Tickets are per side: the two must differ. */
	g_assert_cmpstr(out->applet_ticket, !=, out->pin.agent_ticket);
}

void lh_session_clear(struct lh_session *s)
{
	lh_pin_clear(&s->pin);
	g_clear_pointer(&s->applet_ticket, g_free);
}

/* ---- streams ---- */

int lh_stream_begin_try(struct lh_relay *r, const char *ticket,
			struct lh_conn **out)
{
	g_autofree char *host = g_strdup_printf("127.0.0.1:%u", r->port);
	struct ll_buf *b = ll_buf_new(16384);
	struct lh_conn *c = NULL;
	char errbuf[256] = "";
	int rv;

	g_assert_nonnull(b);
	rv = ll_http_upgrade_request_build(b, host, "/api/v1/stream", ticket);
	g_assert_cmpint(rv, ==, LL_OK);
	rv = lh_connect_try(r, NULL, NULL, &c, errbuf, sizeof(errbuf));
	if (rv == LL_OK)
		rv = lh_conn_write_all(c, ll_buf_data(b), ll_buf_len(b));
	ll_buf_free(b);
	if (rv != LL_OK) {
		lh_conn_free(c);
		return rv;
	}
	*out = c;
	return LL_OK;
}

int lh_stream_finish_try(struct lh_conn *c, int timeout_ms,
			 struct lh_resp **resp)
{
	return lh_read_response(c, timeout_ms, resp);
}

void lh_pair_open(struct lh_relay *r, const struct lh_session *s,
		  struct lh_conn **agent, struct lh_conn **applet)
{
	struct lh_conn *a = NULL, *b = NULL;
	struct lh_resp *ra = NULL, *rb = NULL;

	g_assert_cmpint(lh_stream_begin_try(r, s->pin.agent_ticket, &a), ==,
			LL_OK);
	g_assert_cmpint(lh_stream_begin_try(r, s->applet_ticket, &b), ==,
			LL_OK);
	g_assert_cmpint(lh_stream_finish_try(a, 15000, &ra), ==, LL_OK);
	g_assert_cmpint(lh_stream_finish_try(b, 15000, &rb), ==, LL_OK);
	if (ra->status != 101 || rb->status != 101)
		g_error("stream upgrade: agent %d %s, applet %d %s",
			ra->status, ra->body, rb->status, rb->body);
	g_assert_true(ll_http_response_is_upgrade(ra->head));
	g_assert_true(ll_http_response_is_upgrade(rb->head));
	lh_resp_free(ra);
	lh_resp_free(rb);
	*agent = a;
	*applet = b;
}

static void read_exact(struct lh_conn *c, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t n;
	int rv;

	while (len > 0) {
		rv = lh_conn_read(c, p, len, &n);
		if (rv != LL_OK)
			g_error("stream read: %s", ll_strerror(rv));
		p += n;
		len -= n;
	}
}

void lh_pair_ping(struct lh_conn *a, struct lh_conn *b)
{
	char buf[32];

	g_assert_cmpint(lh_conn_write_all(a, "ping from agent\n", 16), ==,
			LL_OK);
	read_exact(b, buf, 16);
	g_assert_cmpmem(buf, 16, "ping from agent\n", 16);
	g_assert_cmpint(lh_conn_write_all(b, "pong from applet", 16), ==,
			LL_OK);
	read_exact(a, buf, 16);
	g_assert_cmpmem(buf, 16, "pong from applet", 16);
}

/* ---- transfer ends ---- */

/* splitmix64: fast, seeded, good enough to make every byte count. */
static uint64_t prng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void prng_fill(uint64_t *s, uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t v = prng_next(s);

		memcpy(buf + i, &v, MIN((size_t)8, len - i));
	}
}

/* Publishes what arrived and wakes lh_end_wait_recvd(). */
static void end_progress(struct lh_end *e, uint64_t recvd)
{
	g_mutex_lock(&e->lock);
	atomic_store(&e->recvd, recvd);
	g_cond_broadcast(&e->progress);
	g_mutex_unlock(&e->lock);
}

static gpointer end_thread(gpointer data)
{
	struct lh_end *e = data;
	GChecksum *hs = g_checksum_new(G_CHECKSUM_SHA256);
	GChecksum *hr = g_checksum_new(G_CHECKSUM_SHA256);
	uint8_t *wbuf = g_malloc(LH_CHUNK);
	uint8_t *rbuf = g_malloc(LH_CHUNK);
	uint64_t sent = 0, recvd = 0, state = e->seed;
	size_t woff = 0, wlen = 0;
	int64_t last_progress = lh_now_ms();
	int stall_ms = (int)lh_env_int("LL_TEST_STALL_MS", 60000);
	int flags;

	flags = fcntl(e->c->fd, F_GETFL);
	fcntl(e->c->fd, F_SETFL, flags | O_NONBLOCK);

	/* Bytes that came in behind the 101 answer. */
	if (e->c->rlen > 0 && e->recv_total > 0) {
		size_t n = MIN(e->c->rlen, (size_t)e->recv_total);

		g_checksum_update(hr, e->c->rbuf, n);
		recvd += n;
		memmove(e->c->rbuf, e->c->rbuf + n, e->c->rlen - n);
		e->c->rlen -= n;
		end_progress(e, recvd);
	}
	if (e->c->rlen > 0) {
		g_snprintf(e->err, sizeof(e->err), "%zu bytes too many",
			   e->c->rlen);
		goto out;
	}

	while (sent < e->send_total || recvd < e->recv_total) {
		bool progress = false, paused = atomic_load(&e->paused);
		short events = 0;
		size_t n;
		int rv;

		if (sent < e->send_total) {
			if (woff == wlen) {
				wlen = (size_t)MIN((uint64_t)LH_CHUNK,
						   e->send_total - sent);
				prng_fill(&state, wbuf, wlen);
				g_checksum_update(hs, wbuf, wlen);
				woff = 0;
				/* Time is under test: a paced writer,
				 * when the test asks for one. */
				if (e->pace_us > 0 && sent > 0)
					g_usleep(e->pace_us);
			}
			n = 0;
			/* Same pointer and length on every retry, as
			 * SSL_write wants. */
			rv = ll_tls_conn_write(e->c->tls, wbuf + woff,
					       wlen - woff, &n);
			if (rv == LL_OK) {
				woff += n;
				sent += n;
				atomic_store(&e->sent, sent);
				progress = true;
			} else if (rv == LL_ERR_WANT_WRITE) {
				events |= POLLOUT;
			} else if (rv == LL_ERR_WANT_READ) {
				events |= POLLIN;
			} else {
				g_snprintf(e->err, sizeof(e->err),
					   "write after %" G_GUINT64_FORMAT
					   " bytes: %s",
					   sent, ll_strerror(rv));
				goto out;
			}
		}
		for (int rounds = 0;
		     recvd < e->recv_total && !paused && rounds < 16;
		     rounds++) {
			n = 0;
			rv = ll_tls_conn_read(e->c->tls, rbuf, LH_CHUNK, &n);
			if (rv == LL_OK && n > 0) {
				if (n > e->recv_total - recvd) {
					g_snprintf(e->err, sizeof(e->err),
						   "more bytes than sent");
					goto out;
				}
				g_checksum_update(hr, rbuf, n);
				recvd += n;
				end_progress(e, recvd);
				progress = true;
				continue;
			}
			if (rv == LL_ERR_WANT_READ) {
				events |= POLLIN;
			} else if (rv == LL_ERR_WANT_WRITE) {
				events |= POLLOUT;
			} else {
				g_snprintf(e->err, sizeof(e->err),
					   "read after %" G_GUINT64_FORMAT
					   " bytes: %s",
					   recvd,
					   rv == LL_OK ? "closed"
						       : ll_strerror(rv));
				goto out;
			}
			break;
		}
		if (progress || paused) {
			last_progress = lh_now_ms();
			if (progress)
				continue;
		}
		if (lh_now_ms() - last_progress > stall_ms) {
			g_snprintf(e->err, sizeof(e->err),
				   "stalled at sent %" G_GUINT64_FORMAT
				   " received %" G_GUINT64_FORMAT,
				   sent, recvd);
			goto out;
		}
		if (events == 0) {
			/* Paused by the test (nothing to wait for on the
			 * socket): the pace at which it looks again. */
			g_usleep(20 * 1000);
			continue;
		}
		wait_fd(e->c->fd, events, 100);
	}
	g_strlcpy(e->sent_sha, g_checksum_get_string(hs), sizeof(e->sent_sha));
	g_strlcpy(e->recv_sha, g_checksum_get_string(hr), sizeof(e->recv_sha));
out:
	fcntl(e->c->fd, F_SETFL, flags);
	g_checksum_free(hs);
	g_checksum_free(hr);
	g_free(wbuf);
	g_free(rbuf);
	return NULL;
}

void lh_end_start(struct lh_end *e, struct lh_conn *c, uint64_t send_total,
		  uint64_t recv_total, uint64_t seed, unsigned pace_us,
		  bool start_paused)
{
	e->c = c;
	e->send_total = send_total;
	e->recv_total = recv_total;
	e->seed = seed;
	e->pace_us = pace_us;
	atomic_init(&e->paused, start_paused);
	atomic_init(&e->sent, 0);
	atomic_init(&e->recvd, 0);
	e->err[0] = '\0';
	e->sent_sha[0] = e->recv_sha[0] = '\0';
	g_mutex_init(&e->lock);
	g_cond_init(&e->progress);
	e->thread = g_thread_new("lh-end", end_thread, e);
}

bool lh_end_join(struct lh_end *e)
{
	g_thread_join(e->thread);
	e->thread = NULL;
	g_mutex_clear(&e->lock);
	g_cond_clear(&e->progress);
	if (e->err[0] != '\0')
		g_test_message("transfer end: %s", e->err);
	return e->err[0] == '\0';
}

bool lh_end_wait_recvd(struct lh_end *e, uint64_t n, int timeout_ms)
{
	int64_t deadline = lh_now_ms() + timeout_ms;

	bool ok = true;

	g_mutex_lock(&e->lock);
	while (ok && atomic_load(&e->recvd) < n)
		ok = g_cond_wait_until(&e->progress, &e->lock,
				       g_get_monotonic_time() +
					       (deadline - lh_now_ms()) *
						       1000);
	ok = atomic_load(&e->recvd) >= n;
	g_mutex_unlock(&e->lock);
	return ok;
}

/* ---- metrics ---- */

double lh_metric_sum(const char *metrics_text, ...)
{
	g_auto(GStrv) lines = g_strsplit(metrics_text, "\n", -1);
	double sum = 0;
	bool any = false;
	guint i;

	for (i = 0; lines[i] != NULL; i++) {
		const char *l = lines[i], *sp, *brace;
		g_autofree char *key = NULL;
		const char *sub;
		bool match = true;
		va_list ap;

		if (*l == '#' || *l == '\0')
			continue;
		/* name{labels} value: the key ends after '}' if any. */
		brace = strchr(l, '{');
		sp = strchr(brace ? strchr(brace, '}') ?: l : l, ' ');
		if (sp == NULL)
			continue;
		key = g_strndup(l, (gsize)(sp - l));
		va_start(ap, metrics_text);
		while ((sub = va_arg(ap, const char *)) != NULL)
			if (strstr(key, sub) == NULL)
				match = false;
		va_end(ap);
		if (!match)
			continue;
		sum += g_ascii_strtod(sp + 1, NULL);
		any = true;
	}
	return any ? sum : -1;
}
