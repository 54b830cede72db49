/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The signed applet configuration end to end: `lifeline-relay init` and
 * `applet-config` of a real relay on 127.0.0.1, and the real applet (on
 * its own Xvfb) reading the configuration from a FILE.lifeline, from its
 * own binary's trailer and from the system folder (the test hook
 * --test-etc-dir of a -Dtest_hooks build stands in for /etc/lifeline).
 *
 * Events waited for: the relay's log line of the applet's stream, and the
 * applet's exit (pidfd).  A refused configuration must end the applet
 * with exit 5 and exactly one line on stderr, before any window.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <poll.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "harness.h"
#include "ll_appconf.h"
#include "ll_build.h"
#include "ll_crypto.h"
#include "lt_wait.h"

static struct lh_relay *relay;
static char *token;
static char *etc_dir;   /* trusts the relay's key */
static char *empty_dir; /* trusts nothing */
static char *conf_path; /* the relay's configuration, FILE.lifeline */
static GSubprocess *xvfb;
static char *display;

static void die_with_parent(gpointer data)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static void start_xvfb(void)
{
	GSubprocessLauncher *l;
	GError *e = NULL;
	struct pollfd pfd;
	char buf[32] = "";
	ssize_t n, got = 0;
	int fds[2];

	g_assert_cmpint(pipe(fds), ==, 0);
	l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
				      G_SUBPROCESS_FLAGS_STDERR_SILENCE);
	g_subprocess_launcher_take_fd(l, fds[1], 3);
	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	xvfb = g_subprocess_launcher_spawn(l, &e, "Xvfb", "-displayfd", "3",
					   "-screen", "0", "800x600x24",
					   "-nolisten", "tcp", NULL);
	g_assert_no_error(e);
	g_object_unref(l);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	while (got < (ssize_t)sizeof(buf) - 1 && strchr(buf, '\n') == NULL) {
		g_assert_cmpint(poll(&pfd, 1, 15000), ==, 1);
		n = read(fds[0], buf + got, sizeof(buf) - 1 - (size_t)got);
		g_assert_cmpint(n, >, 0);
		got += n;
		buf[got] = '\0';
	}
	close(fds[0]);
	display = g_strdup_printf(":%d", atoi(buf));
}

struct applet {
	GSubprocess *proc;
	char *log;
};

/* The applet (bin NULL: the build's) with args; stderr to a log. */
static void applet_start(struct applet *ap, const char *bin, const char *tag,
			 const char *const *args)
{
	GPtrArray *argv = g_ptr_array_new();
	GSubprocessLauncher *l;
	char **env = g_get_environ();
	GError *e = NULL;

	env = g_environ_setenv(env, "DISPLAY", display, TRUE);
	env = g_environ_setenv(env, "NO_AT_BRIDGE", "1", TRUE);
	env = g_environ_setenv(env, "GSETTINGS_BACKEND", "memory", TRUE);
	env = g_environ_unsetenv(env, "DBUS_SESSION_BUS_ADDRESS");
	g_ptr_array_add(argv, (char *)(bin ? bin : g_getenv("LL_APPLET_BIN")));
	for (; *args != NULL; args++)
		g_ptr_array_add(argv, (char *)*args);
	g_ptr_array_add(argv, NULL);
	ap->log = g_strdup_printf("%s/appconf-%s.log", lh_tmpdir(), tag);
	g_unlink(ap->log);
	l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	g_subprocess_launcher_set_environ(l, env);
	g_subprocess_launcher_set_stderr_file_path(l, ap->log);
	ap->proc = g_subprocess_launcher_spawnv(
		l, (const char *const *)argv->pdata, &e);
	g_assert_no_error(e);
	g_object_unref(l);
	g_strfreev(env);
	g_ptr_array_free(argv, TRUE);
}

/* Waits for the exit (the event, with a deadline); its status. */
static int applet_wait(struct applet *ap, int timeout_ms)
{
	const char *id = g_subprocess_get_identifier(ap->proc);

	if (id != NULL)
		g_assert_true(lt_wait_pid_exit(atoi(id), timeout_ms));
	g_assert_true(g_subprocess_wait(ap->proc, NULL, NULL));
	g_assert_true(g_subprocess_get_if_exited(ap->proc));
	return g_subprocess_get_exit_status(ap->proc);
}

static char *applet_stderr(struct applet *ap)
{
	char *text = NULL;

	g_assert_true(g_file_get_contents(ap->log, &text, NULL, NULL));
	return text;
}

static void applet_clear(struct applet *ap)
{
	g_clear_object(&ap->proc);
	g_free(ap->log);
}

/* Runs the applet to a refusal: exit 5, one line naming `expect`. */
static void assert_refused(const char *bin, const char *tag,
			   const char *const *args, const char *expect)
{
	struct applet ap = { 0 };
	char *err;

	applet_start(&ap, bin, tag, args);
	g_assert_cmpint(applet_wait(&ap, 20000), ==, 5);
	err = applet_stderr(&ap);
	g_test_message("%s: %s", tag, err);
	g_assert_nonnull(strstr(err, expect));
	/* one line, and it is the whole of stderr */
	g_assert_true(g_str_has_prefix(err, "lifeline-applet: "));
	g_assert_nonnull(strchr(err, '\n'));
	g_assert_cmpstr(strchr(err, '\n') + 1, ==, "");
	g_free(err);
	applet_clear(&ap);
}

/* A fresh PIN of the relay's technician, with lock (NULL: the
 * default). */
static char *new_pin_locked(const char *lock)
{
	struct lh_pin p = { 0 };
	char *pin;

	lh_pin_new(relay, token, lock, &p);
	pin = g_strdup(p.pin);
	lh_pin_clear(&p);
	return pin;
}

static char *new_pin(void)
{
	return new_pin_locked(NULL);
}

/*
 * The applet ap opened its stream (the relay's before+1-th), and the
 * last redeem that passed, in the audit, is its own: its line holds
 * needle.  Then ap is ended and cleared.
 */
static void assert_redeemed_then_end(struct applet *ap, int before,
				     const char *needle)
{
	char *out = NULL, *line, *end;

	g_assert_true(lh_relay_wait_log(relay, "applet stream waiting",
					before + 1, 30000));
	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, NULL, "audit",
				     "export", NULL),
			==, 0);
	line = g_strrstr(out, "\"action\":\"pin.redeem\",\"outcome\":\"ok\"");
	g_assert_nonnull(line);
	end = strchr(line, '\n');
	if (end != NULL)
		*end = '\0';
	g_assert_nonnull(strstr(line, needle));
	g_free(out);
	g_subprocess_send_signal(ap->proc, SIGTERM);
	(void)applet_wait(ap, 30000);
	applet_clear(ap);
}

/*
 * The PIN page's check of a website PIN from the allowed origin: its
 * launch_uri (g_free), asserted to carry a launch token.
 */
static char *website_launch_uri(const char *pin)
{
	char *body = g_strdup_printf("{\"pin\":\"%s\",\"org\":\"default\"}",
				     pin);
	struct lh_resp *r = lh_do(relay,
				  &(struct lh_req){
					  .method = "POST",
					  .path = "/api/v1/pins/check",
					  .body = body,
					  .headers = "Origin: "
						     "https://help.example.com"
						     "\r\n" });
	const char *l;
	char *uri;

	g_assert_cmpint(r->status, ==, 200);
	uri = g_strdup(lh_resp_str(r, "launch_uri"));
	l = strstr(uri, "&launch=");
	g_assert_nonnull(l);
	lh_secret("launch token", l + 8);
	lh_resp_free(r);
	g_free(body);
	return uri;
}

/* The applet redeemed a PIN of lock with its org named and opened its
 * stream. */
static void assert_redeems_locked(const char *bin, const char *tag,
				  const char *const *args_before_pin,
				  const char *lock)
{
	struct applet ap = { 0 };
	GPtrArray *args = g_ptr_array_new();
	char *pin = new_pin_locked(lock);
	int before = lh_relay_log_count(relay, "applet stream waiting");

	for (; *args_before_pin != NULL; args_before_pin++)
		g_ptr_array_add(args, (char *)*args_before_pin);
	g_ptr_array_add(args, "--pin");
	g_ptr_array_add(args, pin);
	g_ptr_array_add(args, NULL);
	applet_start(&ap, bin, tag, (const char *const *)args->pdata);
	/* The redeem named the configuration's org. */
	assert_redeemed_then_end(&ap, before, "\"org\":\"default\"");
	g_free(pin);
	g_ptr_array_free(args, TRUE);
}

static void assert_redeems(const char *bin, const char *tag,
			   const char *const *args_before_pin)
{
	assert_redeems_locked(bin, tag, args_before_pin, NULL);
}

/* ---- the relay's side ---- */

static void test_init_key(void)
{
	char *key = g_build_filename(relay->state_dir, "applet-sign.key",
				     NULL);
	char *pub = g_build_filename(relay->state_dir, "applet-sign.pub",
				     NULL);
	struct stat sb;

	g_assert_cmpint(stat(key, &sb), ==, 0);
	g_assert_cmpint(sb.st_mode & 0777, ==, 0600);
	g_assert_cmpint(sb.st_size, ==, 32);
	g_assert_cmpint(stat(pub, &sb), ==, 0);
	g_free(key);
	g_free(pub);
}

/* applet-config --channel NAME carries the channel's credential, the
 * one `channel add` printed. */
static void test_relay_channel(void)
{
	struct ll_appconf c = { 0 };
	char *cred = NULL, *text = NULL;
	size_t len = 0;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &cred, NULL, "channel",
				     "add", "frontdesk", NULL),
			==, 0);
	g_strchomp(cred);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "applet-config",
				     "--org", "default", "--channel",
				     "frontdesk", "--out", conf_path, NULL),
			==, 0);
	g_assert_true(g_file_get_contents(conf_path, &text, &len, NULL));
	g_assert_cmpint(ll_appconf_parse(text, len, &c, NULL, 0), ==, LL_OK);
	g_assert_cmpstr(c.channel, ==, cred);
	ll_appconf_clear(&c);
	/* the configuration the later tests use names no channel */
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "applet-config",
				     "--org", "default", "--out", conf_path,
				     NULL),
			==, 0);
	ll_secret_free(cred);
	g_free(text);
}

static void test_relay_command(void)
{
	struct ll_appconf c = { 0 };
	uint8_t pub[32];
	char *text = NULL, *pem = NULL, *err = NULL, *url, pin[64];
	char *pub_path = g_build_filename(relay->state_dir, "applet-sign.pub",
					  NULL);
	size_t len = 0;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, &err, "applet-config",
				     "--org", "default", "--out", conf_path,
				     NULL),
			==, 0);
	g_assert_true(g_file_get_contents(conf_path, &text, &len, NULL));
	g_assert_true(g_file_get_contents(pub_path, &pem, NULL, NULL));
	g_assert_cmpint(ll_ed25519_public_from_pem(pem, pub), ==, LL_OK);
	g_assert_cmpint(ll_appconf_parse(text, len, &c, NULL, 0), ==, LL_OK);
	g_assert_true(ll_appconf_signed_by(&c, pub));
	url = g_strdup_printf("https://127.0.0.1:%u", relay->port);
	g_assert_cmpstr(c.relay_url, ==, url);
	g_assert_cmpstr(c.org, ==, "default");
	g_assert_cmpint(ll_tls_cert_spki_pin(relay->cert_file, pin,
					     sizeof(pin)),
			==, LL_OK);
	g_assert_cmpstr(c.relay_pin, ==, pin);
	/* cert_file ends with the test CA: the configuration carries it */
	g_assert_nonnull(c.relay_ca);
	ll_appconf_clear(&c);

	/* Refusals, each one line. */
	g_free(err);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, &err, "applet-config",
				     "--org", "nope", "--out", "x.lifeline",
				     NULL),
			==, 1);
	g_assert_nonnull(strstr(err, "org 'nope' not found"));
	g_free(err);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, &err, "applet-config",
				     "--org", "default", "--channel", "desk",
				     "--out", "x.lifeline", NULL),
			==, 1);
	g_assert_nonnull(strstr(err, "no channel 'desk' in org 'default'"));
	g_free(err);
	test_relay_channel();
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, &err, "applet-config",
				     "--org", "default", NULL),
			==, 2);
	g_assert_cmpint(lh_audit_verify_intact(relay), >, 0);
	g_free(err);
	g_free(url);
	g_free(text);
	g_free(pem);
	g_free(pub_path);
}

/* ---- the applet's side ---- */

static void test_file_redeems_with_org(void)
{
	assert_redeems(NULL, "file",
		       (const char *const[]){ "--test-etc-dir", etc_dir,
					      conf_path, NULL });
}

static void test_system_conf_redeems(void)
{
	char *dst = g_build_filename(etc_dir, "applet.conf", NULL);
	char *text = NULL;

	g_assert_true(g_file_get_contents(conf_path, &text, NULL, NULL));
	g_assert_true(g_file_set_contents(dst, text, -1, NULL));
	g_assert_cmpint(chmod(dst, 0644), ==, 0);
	assert_redeems(NULL, "etc",
		       (const char *const[]){ "--test-etc-dir", etc_dir,
					      NULL });
	/* Written by others: refused, never used. */
	g_assert_cmpint(chmod(dst, 0664), ==, 0);
	assert_refused(NULL, "etc-unsafe",
		       (const char *const[]){ "--test-etc-dir", etc_dir,
					      "--pin", "123456", NULL },
		       "writable by root alone");
	g_unlink(dst);
	g_free(text);
	g_free(dst);
}

/* A copy of the applet named name with tail appended. */
static char *applet_copy(const char *name, const void *tail, size_t tlen)
{
	char *bin = g_build_filename(lh_tmpdir(), name, NULL);
	char *exe = NULL, *all;
	size_t elen = 0;

	g_assert_true(g_file_get_contents(g_getenv("LL_APPLET_BIN"), &exe,
					  &elen, NULL));
	all = g_malloc(elen + tlen);
	memcpy(all, exe, elen);
	memcpy(all + elen, tail, tlen);
	g_unlink(bin);
	g_assert_true(
		g_file_set_contents(bin, all, (gssize)(elen + tlen), NULL));
	g_assert_cmpint(chmod(bin, 0755), ==, 0);
	g_free(all);
	g_free(exe);
	return bin;
}

/* The relay's configuration with its trailer (applet-config --trailer),
 * tampered when asked. */
static char *config_trailer(bool tamper, size_t *len)
{
	char *tr = g_build_filename(lh_tmpdir(), "appconf.trailer", NULL);
	char *t = NULL;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "applet-config",
				     "--org", "default", "--trailer", "--out",
				     tr, NULL),
			==, 0);
	g_assert_true(g_file_get_contents(tr, &t, len, NULL));
	if (tamper)
		t[44] ^= 1; /* 127.0.0.1 becomes 137.0.0.1 */
	g_free(tr);
	return t;
}

/* A copy of the applet with the configuration appended (the portable
 * applet's way), trusting nothing else. */
static char *applet_with_trailer(const char *name, bool tamper)
{
	size_t tlen = 0;
	char *t = config_trailer(tamper, &tlen), *bin;

	bin = applet_copy(name, t, tlen);
	g_free(t);
	return bin;
}

static void test_trailer(void)
{
	char *bin = applet_with_trailer("lifeline-applet-trailer", false);
	char *bad = applet_with_trailer("lifeline-applet-tampered", true);

	assert_redeems(bin, "trailer",
		       (const char *const[]){ "--test-etc-dir", empty_dir,
					      NULL });
	assert_refused(bad, "trailer-tampered",
		       (const char *const[]){ "--test-etc-dir", empty_dir,
					      "--pin", "123456", NULL },
		       "appended to this program");
	g_free(bin);
	g_free(bad);
}

/*
 * The PIN page's download: a portable applet bound by its configuration,
 * then the PIN and org appended (ll_pin_trailer_make, as the relay's
 * POST /o/ORG/applet does).  Started with no argument at all, it redeems
 * that PIN for that org; a damaged PIN trailer is refused in one line.
 */
static void test_pin_trailer(void)
{
	size_t clen = 0, plen = 0;
	char *conf = config_trailer(false, &clen), *pin = new_pin(), *bin;
	uint8_t *pt = NULL, *all;
	struct applet ap = { 0 };
	int before = lh_relay_log_count(relay, "applet stream waiting");

	g_assert_cmpint(ll_pin_trailer_make(pin, "default", NULL, &pt, &plen),
			==, LL_OK);
	all = g_malloc(clen + plen);
	memcpy(all, conf, clen);
	memcpy(all + clen, pt, plen);
	bin = applet_copy("lifeline-applet-download", all, clen + plen);
	applet_start(&ap, bin, "download",
		     (const char *const[]){ "--test-etc-dir", empty_dir,
					    NULL });
	assert_redeemed_then_end(&ap, before, "\"org\":\"default\"");
	g_free(bin);

	/* One byte of the PIN's line changed: refused, never ignored. */
	all[clen + 2] ^= 0x20; /* "pin=" becomes "pIn=" */
	bin = applet_copy("lifeline-applet-download-bad", all, clen + plen);
	assert_refused(bin, "download-damaged",
		       (const char *const[]){ "--test-etc-dir", empty_dir,
					      NULL },
		       "downloaded with is damaged");
	ll_secret_free((char *)pt);
	g_free(all);
	g_free(conf);
	g_free(pin);
	g_free(bin);
}

static void test_tampered_file(void)
{
	char *path = g_build_filename(lh_tmpdir(), "tampered.lifeline", NULL);
	char *text = NULL, *p;

	g_assert_true(g_file_get_contents(conf_path, &text, NULL, NULL));
	p = strstr(text, "org=default");
	p[4] = 'e'; /* another org, same length */
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	assert_refused(NULL, "tampered",
		       (const char *const[]){ "--test-etc-dir", etc_dir, path,
					      "--pin", "123456", NULL },
		       "altered");
	g_free(text);
	g_free(path);
}

static void test_other_relay(void)
{
	assert_refused(NULL, "other-relay",
		       (const char *const[]){ "--test-etc-dir", etc_dir,
					      "--relay", "https://127.0.0.1:1",
					      conf_path, "--pin", "123456",
					      NULL },
		       "connects to no other");
	/* A link for another org than the installed configuration's. */
	{
		char *dst = g_build_filename(etc_dir, "applet.conf", NULL);
		char *text = NULL;

		g_assert_true(
			g_file_get_contents(conf_path, &text, NULL, NULL));
		g_assert_true(g_file_set_contents(dst, text, -1, NULL));
		g_assert_cmpint(chmod(dst, 0644), ==, 0);
		assert_refused(NULL, "link-other-org",
			       (const char *const[]){
				       "--test-etc-dir", etc_dir,
				       "lifeline:pin?code=123456&org=other",
				       NULL },
			       "this link is for the organisation 'other'");
		g_unlink(dst);
		g_free(text);
		g_free(dst);
	}
}

/*
 * A website-locked PIN from the PIN page's link: the applet passes the
 * link's launch token on, and the PIN redeems with it (docs/API.md, "PIN
 * locks"); a link with something else as the token is refused.
 */
static void test_launch_link(void)
{
	char *dst = g_build_filename(etc_dir, "applet.conf", NULL);
	char *text = NULL, *link, *line;
	struct lh_pin p = { 0 };
	struct applet ap = { 0 };
	int before = lh_relay_log_count(relay, "applet stream waiting");

	g_assert_true(g_file_get_contents(conf_path, &text, NULL, NULL));
	g_assert_true(g_file_set_contents(dst, text, -1, NULL));
	g_assert_cmpint(chmod(dst, 0644), ==, 0);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "policy", "set",
				     "allowed_origins",
				     "https://help.example.com", NULL),
			==, 0);
	lh_pin_new(relay, token, "website", &p);
	link = website_launch_uri(p.pin);

	/* a usage error (2), as for any malformed link */
	applet_start(&ap, NULL, "link-bad-launch",
		     (const char *const[]){ "--test-etc-dir", etc_dir,
					    "lifeline:pin?code=123456&"
					    "launch=../../x",
					    NULL });
	g_assert_cmpint(applet_wait(&ap, 20000), ==, 2);
	line = applet_stderr(&ap);
	g_assert_nonnull(strstr(line, "launch token"));
	g_free(line);
	applet_clear(&ap);
	memset(&ap, 0, sizeof(ap));
	applet_start(&ap, NULL, "link-launch",
		     (const char *const[]){ "--test-etc-dir", etc_dir, link,
					    NULL });
	/* the last redeem that passed is this website PIN's */
	assert_redeemed_then_end(&ap, before, p.session_id);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "policy",
				     "unset", "allowed_origins", NULL),
			==, 0);
	g_unlink(dst);
	lh_pin_clear(&p);
	g_free(link);
	g_free(text);
	g_free(dst);
}

/*
 * A shortcut-locked PIN: the applet bound by the org's configuration
 * sends it with the redeem, and the PIN redeems (from the file and from
 * the trailer); the same applet without a configuration is refused, and
 * says where the PIN works.
 */
static void test_shortcut_pin(void)
{
	struct applet ap = { 0 };
	char *bin = applet_with_trailer("lifeline-applet-shortcut", false);
	char *pin = new_pin_locked("shortcut"), *url, *err;

	assert_redeems_locked(NULL, "shortcut-file",
			      (const char *const[]){ "--test-etc-dir", etc_dir,
						     conf_path, NULL },
			      "shortcut");
	assert_redeems_locked(bin, "shortcut-trailer",
			      (const char *const[]){ "--test-etc-dir",
						     empty_dir, NULL },
			      "shortcut");
	url = g_strdup_printf("https://127.0.0.1:%u", relay->port);
	applet_start(&ap, NULL, "shortcut-unbound",
		     (const char *const[]){
			     "--test-etc-dir", empty_dir, "--relay", url,
			     "--ca", relay->ca_cert, "--pin", pin, NULL });
	g_assert_true(
		lt_wait_file(ap.log, 0, "Session ended\" shown", 1, 30000));
	g_subprocess_send_signal(ap.proc, SIGTERM);
	(void)applet_wait(&ap, 30000);
	err = applet_stderr(&ap);
	g_test_message("shortcut-unbound: %s", err);
	g_assert_nonnull(strstr(err, "pin_locked_shortcut"));
	g_free(err);
	applet_clear(&ap);
	g_free(url);
	g_free(pin);
	g_free(bin);
}

/* ---- relay_hosts: the only hosts a bound applet contacts ---- */

static struct lh_relay *relay_b; /* on 127.0.0.2: never to be contacted */

/* Lines of relay_b's log about a peer: each a connection it took. */
static int b_contacts(void)
{
	return lh_relay_log_count(relay_b, "peer ");
}

/* A listening socket on 127.0.0.1 that accepts nothing: a proxy that
 * would see every CONNECT queued on it.  Its port into *port. */
static int silent_proxy(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(listen(fd, 8), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &sl), ==, 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Whether a connection waits on the listening fd (now: its peer has
 * exited, whatever it connected is queued). */
static bool connection_queued(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/*
 * The applet with org A's configuration and --relay naming relay B on
 * 127.0.0.2 (a host not in its relay_hosts): refused before anything is
 * sent, B logs no connection, and the environment's proxy gets none
 * either.  A configuration listing a second host of A (localhost) may be
 * pointed at it with --relay, and redeems there.
 */
static void test_relay_hosts(void)
{
	g_autofree char *b_url = NULL, *proxy = NULL, *a_local = NULL;
	g_autofree char *hosts_conf = NULL, *text = NULL;
	struct ll_appconf c = { 0 };
	uint16_t pport = 0;
	size_t len = 0;
	int pfd = silent_proxy(&pport);

	b_url = g_strdup_printf("https://127.0.0.2:%u", relay_b->port);
	proxy = g_strdup_printf("http://127.0.0.1:%u", pport);
	g_assert_cmpint(b_contacts(), ==, 0);
	for (int via_proxy = 0; via_proxy < 2; via_proxy++) {
		if (via_proxy)
			g_setenv("https_proxy", proxy, TRUE);
		assert_refused(NULL, via_proxy ? "relay-b-proxy" : "relay-b",
			       (const char *const[]){
				       "--test-etc-dir", etc_dir, "--relay",
				       b_url, conf_path, "--pin", "123456",
				       NULL },
			       "connects to no other");
		g_unsetenv("https_proxy");
	}
	g_assert_false(connection_queued(pfd));
	g_assert_cmpint(b_contacts(), ==, 0);

	/* a second host of relay A: listed, taken */
	hosts_conf = g_build_filename(lh_tmpdir(), "hosts.lifeline", NULL);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "applet-config",
				     "--org", "default", "--relay-host",
				     "LocalHost", "--out", hosts_conf, NULL),
			==, 0);
	g_assert_true(g_file_get_contents(hosts_conf, &text, &len, NULL));
	g_assert_cmpint(ll_appconf_parse(text, len, &c, NULL, 0), ==, LL_OK);
	g_assert_cmpstr(c.relay_hosts, ==, "127.0.0.1,localhost");
	ll_appconf_clear(&c);
	/* one the certificate is not valid for: refused there */
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "applet-config",
				     "--org", "default", "--relay-host",
				     "127.0.0.2", "--out", "x.lifeline", NULL),
			==, 1);
	a_local = g_strdup_printf("https://localhost:%u", relay->port);
	assert_redeems(NULL, "relay-host-local",
		       (const char *const[]){ "--test-etc-dir", etc_dir,
					      "--relay", a_local, hosts_conf,
					      NULL });
	/* but not with the configuration that does not list it */
	assert_refused(NULL, "relay-host-unlisted",
		       (const char *const[]){ "--test-etc-dir", etc_dir,
					      "--relay", a_local, conf_path,
					      "--pin", "123456", NULL },
		       "connects to no other");
	g_assert_cmpint(b_contacts(), ==, 0);
	close(pfd);
}

/*
 * A relay host of the configuration that answers the redeem with a
 * redirect to relay B (tests/common/redirect_server.py with relay A's
 * key, so the pin holds): the applet does not follow it; it ends the
 * attempt, and B logs no connection.
 */
static void test_relay_redirect(void)
{
	char *conf = g_build_filename(relay->state_dir, "relay.conf", NULL);
	g_autofree char *saved = NULL, *moved = NULL, *b_url = NULL;
	g_autofree char *path = NULL, *rlog = NULL, *reqs = NULL;
	GSubprocessLauncher *l;
	GDataInputStream *in;
	GSubprocess *rd;
	struct applet ap = { 0 };
	GError *e = NULL;
	unsigned port = 0;
	char *line;

	b_url = g_strdup_printf("https://127.0.0.2:%u", relay_b->port);
	rlog = g_build_filename(lh_tmpdir(), "redirect-requests.log", NULL);
	g_assert_true(g_file_set_contents(rlog, "", 0, NULL));
	l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	rd = g_subprocess_launcher_spawn(l, &e, "python3",
					 g_getenv("LL_REDIRECT_SERVER"),
					 relay->cert_file, relay->key_file,
					 b_url, rlog, NULL);
	g_assert_no_error(e);
	g_object_unref(l);
	in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(rd));
	line = g_data_input_stream_read_line(in, NULL, NULL, &e);
	g_assert_no_error(e);
	g_assert_nonnull(line);
	g_assert_cmpint(sscanf(line, "port %u", &port), ==, 1);
	g_free(line);
	g_object_unref(in);

	/* A configuration for it: public_url names it for a moment. */
	g_assert_true(g_file_get_contents(conf, &saved, NULL, NULL));
	moved = g_strdup_printf("%s", saved);
	line = strstr(moved, "public_url = ");
	g_assert_nonnull(line);
	*line = '\0';
	line = g_strdup_printf("%spublic_url = https://127.0.0.1:%u\n", moved,
			       port);
	g_assert_true(g_file_set_contents(conf, line, -1, NULL));
	g_free(line);
	path = g_build_filename(lh_tmpdir(), "redirect.lifeline", NULL);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "applet-config",
				     "--org", "default", "--out", path, NULL),
			==, 0);
	g_assert_true(g_file_set_contents(conf, saved, -1, NULL));

	applet_start(&ap, NULL, "redirect",
		     (const char *const[]){ "--test-etc-dir", etc_dir, path,
					    "--pin", "123456", NULL });
	g_assert_true(
		lt_wait_file(rlog, 0, "POST /api/v1/pins/redeem", 1, 30000));
	/* the attempt is over once its end is shown: whatever libcurl
	 * would have followed, it would have followed by then */
	g_assert_true(
		lt_wait_file(ap.log, 0, "Session ended\" shown", 1, 30000));
	g_subprocess_send_signal(ap.proc, SIGTERM);
	(void)applet_wait(&ap, 30000);
	applet_clear(&ap);
	g_assert_true(g_file_get_contents(rlog, &reqs, NULL, NULL));
	g_assert_cmpstr(reqs, ==, "POST /api/v1/pins/redeem\n");
	g_assert_cmpint(b_contacts(), ==, 0);
	g_subprocess_send_signal(rd, SIGTERM);
	g_subprocess_wait(rd, NULL, NULL);
	g_object_unref(rd);
	g_free(conf);
}

/*
 * The PIN page's download of a website-locked PIN: its trailer carries
 * the page's launch token (as POST /o/ORG/applet makes it), and the
 * portable applet started with no argument redeems the PIN with it.
 */
static void test_download_launch(void)
{
	size_t clen = 0, plen = 0;
	char *conf = config_trailer(false, &clen), *bin, *uri, *launch;
	uint8_t *pt = NULL, *all;
	struct lh_pin p = { 0 };
	struct applet ap = { 0 };
	int before = lh_relay_log_count(relay, "applet stream waiting");

	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "policy", "set",
				     "allowed_origins",
				     "https://help.example.com", NULL),
			==, 0);
	lh_pin_new(relay, token, "website", &p);
	uri = website_launch_uri(p.pin);
	launch = g_strdup(strstr(uri, "&launch=") + 8);

	g_assert_cmpint(ll_pin_trailer_make(p.pin, "default", launch, &pt,
					    &plen),
			==, LL_OK);
	all = g_malloc(clen + plen);
	memcpy(all, conf, clen);
	memcpy(all + clen, pt, plen);
	bin = applet_copy("lifeline-applet-download-website", all,
			  clen + plen);
	applet_start(&ap, bin, "download-website",
		     (const char *const[]){ "--test-etc-dir", empty_dir,
					    NULL });
	assert_redeemed_then_end(&ap, before, p.session_id);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "policy",
				     "unset", "allowed_origins", NULL),
			==, 0);
	ll_secret_free((char *)pt);
	lh_pin_clear(&p);
	g_free(all);
	g_free(bin);
	g_free(conf);
	g_free(uri);
	g_free(launch);
}

/*
 * A hostile peer: its own relay, its own key, a configuration pointing
 * at itself.  This computer trusts only the first relay's key: refused,
 * and the hostile relay never hears from the applet.
 */
static void test_foreign_key(void)
{
	struct lh_relay *evil = lh_relay_new("appconf-evil", NULL);
	char *path = g_build_filename(lh_tmpdir(), "evil.lifeline", NULL);
	char *conf = g_build_filename(evil->state_dir, "relay.conf", NULL);
	char *text = NULL, *more;

	lh_relay_start(evil);
	g_assert_true(g_file_get_contents(conf, &text, NULL, NULL));
	more = g_strdup_printf("%spublic_url = https://127.0.0.1:%u\n", text,
			       evil->port);
	g_assert_true(g_file_set_contents(conf, more, -1, NULL));
	g_assert_cmpint(lh_relay_cmd(evil, NULL, NULL, NULL, "applet-config",
				     "--org", "default", "--out", path, NULL),
			==, 0);
	assert_refused(NULL, "foreign-key",
		       (const char *const[]){ "--test-etc-dir", etc_dir, path,
					      "--pin", "123456", NULL },
		       "not made by a support server this computer trusts");
	g_assert_cmpint(lh_relay_log_count(evil, "stream waiting"), ==, 0);
	g_assert_cmpint(lh_relay_log_count(evil, "pins/redeem"), ==, 0);
	lh_relay_stop(evil, 10000);
	lh_relay_free(evil);
	g_free(text);
	g_free(more);
	g_free(conf);
	g_free(path);
}

/* The relay's key changes under the configuration: the pin refuses it,
 * although the certificate still chains to a trusted CA.  Last: it
 * changes the relay. */
static void test_spki_mismatch(void)
{
	struct applet ap = { 0 };
	char *leaf = NULL, *ca = NULL, *chain, *pin = new_pin(), *err;
	int reloads = lh_relay_log_count(relay, "SIGHUP: reloading");

	lh_make_leaf(relay, relay->cert_file, relay->key_file, NULL);
	g_assert_true(
		g_file_get_contents(relay->cert_file, &leaf, NULL, NULL));
	g_assert_true(g_file_get_contents(relay->ca_cert, &ca, NULL, NULL));
	chain = g_strconcat(leaf, ca, NULL);
	g_assert_true(g_file_set_contents(relay->cert_file, chain, -1, NULL));
	lh_relay_signal(relay, SIGHUP);
	g_assert_true(lh_relay_wait_log(relay, "SIGHUP: reloading",
					reloads + 1, 10000));
	g_assert_true(lh_relay_wait_log(relay, "ready", 1, 10000));
	applet_start(&ap, NULL, "spki",
		     (const char *const[]){ "--test-etc-dir", etc_dir,
					    conf_path, "--pin", pin, NULL });
	/* "Session ended" says so (and waits for a person; a signal ends
	 * it with the end's status) */
	g_assert_true(lt_wait_file(ap.log, 0,
				   "Session ended\" shown (untrusted)", 1,
				   30000));
	g_subprocess_send_signal(ap.proc, SIGTERM);
	g_assert_cmpint(applet_wait(&ap, 30000), ==, 3);
	err = applet_stderr(&ap);
	g_test_message("spki: %s", err);
	g_assert_nonnull(strstr(err, "could not be verified"));
	g_free(err);
	applet_clear(&ap);
	g_free(leaf);
	g_free(ca);
	g_free(chain);
	g_free(pin);
}

/* The relay: its certificate file ends with the test CA (so the
 * configuration carries it and the applet needs no --ca), public_url
 * names the port it got. */
static void setup(void)
{
	char *leaf = NULL, *ca = NULL, *chain, *conf, *text = NULL, *more;

	relay = lh_relay_new("appconf", NULL);
	g_assert_true(
		g_file_get_contents(relay->cert_file, &leaf, NULL, NULL));
	g_assert_true(g_file_get_contents(relay->ca_cert, &ca, NULL, NULL));
	chain = g_strconcat(leaf, ca, NULL);
	g_assert_true(g_file_set_contents(relay->cert_file, chain, -1, NULL));
	lh_relay_start(relay);
	conf = g_build_filename(relay->state_dir, "relay.conf", NULL);
	g_assert_true(g_file_get_contents(conf, &text, NULL, NULL));
	more = g_strdup_printf("%spublic_url = https://127.0.0.1:%u\n", text,
			       relay->port);
	g_assert_true(g_file_set_contents(conf, more, -1, NULL));
	lh_tech_add(relay, "tech", LH_CANARY_PASSWORD, false);
	token = lh_login(relay, "tech", LH_CANARY_PASSWORD);

	etc_dir = g_build_filename(lh_tmpdir(), "appconf-etc", NULL);
	empty_dir = g_build_filename(lh_tmpdir(), "appconf-empty", NULL);
	g_mkdir_with_parents(etc_dir, 0755);
	g_mkdir_with_parents(empty_dir, 0755);
	g_assert_cmpint(chmod(etc_dir, 0755), ==, 0);
	g_assert_cmpint(chmod(empty_dir, 0755), ==, 0);
	g_free(text);
	text = g_build_filename(relay->state_dir, "applet-sign.pub", NULL);
	g_free(more);
	more = g_build_filename(etc_dir, "applet-config.pub", NULL);
	g_free(leaf);
	g_assert_true(g_file_get_contents(text, &leaf, NULL, NULL));
	g_assert_true(g_file_set_contents(more, leaf, -1, NULL));
	g_assert_cmpint(chmod(more, 0644), ==, 0);
	conf_path = g_build_filename(lh_tmpdir(), "appconf.lifeline", NULL);
	g_free(leaf);
	g_free(ca);
	g_free(chain);
	g_free(conf);
	g_free(text);
	g_free(more);
}

int main(int argc, char **argv)
{
	int r;

	lh_init(&argc, &argv);
	if (!LL_TEST_HOOKS || g_getenv("LL_APPLET_BIN") == NULL) {
		printf("1..0 # SKIP needs -Dtest_hooks=true and "
		       "LL_APPLET_BIN\n");
		return 0;
	}
	start_xvfb();
	setup();
	relay_b = lh_relay_new("appconf-b", NULL);
	relay_b->listen_host = "127.0.0.2";
	lh_relay_start(relay_b);
	g_test_add_func("/appconf/init-key", test_init_key);
	g_test_add_func("/appconf/relay-command", test_relay_command);
	g_test_add_func("/appconf/file-redeems-with-org",
			test_file_redeems_with_org);
	g_test_add_func("/appconf/system-conf", test_system_conf_redeems);
	g_test_add_func("/appconf/trailer", test_trailer);
	g_test_add_func("/appconf/pin-trailer", test_pin_trailer);
	g_test_add_func("/appconf/tampered", test_tampered_file);
	g_test_add_func("/appconf/other-relay", test_other_relay);
	g_test_add_func("/appconf/shortcut-pin", test_shortcut_pin);
	g_test_add_func("/appconf/relay-hosts", test_relay_hosts);
	g_test_add_func("/appconf/relay-redirect", test_relay_redirect);
	g_test_add_func("/appconf/launch-link", test_launch_link);
	g_test_add_func("/appconf/download-launch", test_download_launch);
	g_test_add_func("/appconf/foreign-key", test_foreign_key);
	g_test_add_func("/appconf/spki-mismatch", test_spki_mismatch);
	r = g_test_run();
	lh_relay_stop(relay, 10000);
	lh_relay_free(relay);
	lh_relay_stop(relay_b, 10000);
	lh_relay_free(relay_b);
	g_subprocess_send_signal(xvfb, SIGTERM);
	g_subprocess_wait(xvfb, NULL, NULL);
	return r;
}
