/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Directory login and synchronisation (issue 12) against a real
 * OpenLDAP slapd (Debian's), started here with a slapd.conf and an mdb
 * database of its own in the test's folder, on free loopback ports,
 * with TLS from the test's CA: ldaps:// for the relay, ldap:// with
 * StartTLS for the StartTLS cases.  The directory's users:
 *
 *   alice  member of helpdesk (mapped to "support"), enabled
 *   bob    in no group
 *   carol  member of helpdesk
 *   dave   member of helpdesk, userAccountControl 514 (AD's disabled
 *          bit 0x2; slapd knows the attribute from the schema below)
 *   frank  member of ghosts, mapped to a technician group that does
 *          not exist
 *
 * group_map maps helpdesk to the technician group "support", admins to
 * "admins" and ghosts to "ghost" (never made).
 * and a local technician "root" (break-glass admin) with a password of
 * its own.  Users are changed with ldapmodify, as the directory's
 * administrator would.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"
#include "lt_wait.h"

#define SLAPD "/usr/sbin/slapd"
#define SLAPADD "/usr/sbin/slapadd"
#define LDAPMODIFY "/usr/bin/ldapmodify"
#define BASE "dc=example,dc=org"
#define ADMIN_DN "cn=admin," BASE
#define ADMIN_PW "Ldap-Admin-Pw-31"
#define SVC_PW "Ldap-Svc-Pw-58"
#define ALICE_PW "Alice-Dir-Pw-17"
#define BOB_PW "Bob-Dir-Pw-22"
#define CAROL_PW "Carol-Dir-Pw-40"
#define DAVE_PW "Dave-Dir-Pw-93"
#define FRANK_PW "Frank-Dir-Pw-75"
#define ROOT_PW "Root-Local-Pw-66"
#define HELPDESK "cn=helpdesk,ou=groups," BASE
#define ALICE_DN "uid=alice,ou=people," BASE
#define RATES "login_rate_per_min=100000\nlogin_burst=100000\n"

/* AD's userAccountControl for OpenLDAP, on an auxiliary class (the OID
 * arc 2.25 is a UUID's: no registration needed). */
#define SCHEMA                                                                \
	"attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'\n"    \
	"  EQUALITY integerMatch\n"                                           \
	"  SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )\n"             \
	"objectclass ( 2.25.107253278745353696192413958350358250471.1\n"      \
	"  NAME 'lifelineTestAccount' AUXILIARY MAY userAccountControl )\n"

#define USER_LDIF(uid, cn, pw, uac)                                           \
	"dn: uid=" uid ",ou=people," BASE "\n"                                \
	"objectClass: inetOrgPerson\n"                                        \
	"objectClass: lifelineTestAccount\n"                                  \
	"uid: " uid "\ncn: " cn "\nsn: " cn "\nuserPassword: " pw "\n"        \
	"userAccountControl: " uac "\n\n"

static const char data_ldif[] =
	"dn: " BASE "\nobjectClass: dcObject\nobjectClass: organization\n"
	"o: Example\ndc: example\n\n"
	"dn: ou=people," BASE "\nobjectClass: organizationalUnit\n"
	"ou: people\n\n"
	"dn: ou=groups," BASE "\nobjectClass: organizationalUnit\n"
	"ou: groups\n\n"
	"dn: cn=svc," BASE "\nobjectClass: inetOrgPerson\n"
	"cn: svc\nsn: svc\nuserPassword: " SVC_PW "\n\n"
	/* clang-format off */
	USER_LDIF("alice", "Alice Example", ALICE_PW, "512")
	USER_LDIF("bob", "Bob Outside", BOB_PW, "512")
	USER_LDIF("carol", "Carol Member", CAROL_PW, "512")
	USER_LDIF("dave", "Dave Disabled", DAVE_PW, "514")
	USER_LDIF("frank", "Frank Ghost", FRANK_PW, "512")
	/* clang-format on */
	"dn: " HELPDESK "\nobjectClass: groupOfNames\ncn: helpdesk\n"
	"member: " ALICE_DN "\n"
	"member: uid=carol,ou=people," BASE "\n"
	"member: uid=dave,ou=people," BASE "\n\n"
	"dn: cn=admins,ou=groups," BASE "\nobjectClass: groupOfNames\n"
	"cn: admins\nmember: cn=svc," BASE "\n\n"
	"dn: cn=ghosts,ou=groups," BASE "\nobjectClass: groupOfNames\n"
	"cn: ghosts\nmember: uid=frank,ou=people," BASE "\n";

struct slapd {
	char *dir;
	char *conf;
	char *log;
	GPid pid;
	uint16_t port_ldaps;
	uint16_t port_ldap; /* StartTLS */
	bool exited;        /* it ended on its own (reaped) */
};

static struct lh_relay *relay;
static struct slapd sd;

/* A free loopback port (the kernel's pick, released for slapd). */
static uint16_t free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &len), ==, 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* slapd must not outlive the test, however the test ends. */
static void child_die_with_parent(gpointer data)
{
	(void)data;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* Runs argv to its end (stdin from in_path or /dev/null): exit status;
 * its output in *out (may be NULL). */
static int run(char **argv, const char *in_path, char **out)
{
	g_autofree char *o = g_build_filename(sd.dir, "run.out", NULL);
	int in_fd, out_fd, st = -1;
	GError *error = NULL;
	GPid pid;

	in_fd = open(in_path ? in_path : "/dev/null", O_RDONLY | O_CLOEXEC);
	out_fd = open(o, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	g_assert_cmpint(in_fd, >=, 0);
	g_assert_cmpint(out_fd, >=, 0);
	if (!g_spawn_async_with_fds(NULL, argv, NULL,
				    G_SPAWN_DO_NOT_REAP_CHILD,
				    child_die_with_parent, NULL, &pid, in_fd,
				    out_fd, out_fd, &error))
		g_error("spawn %s: %s", argv[0], error->message);
	close(in_fd);
	close(out_fd);
	g_assert_cmpint(waitpid(pid, &st, 0), ==, pid);
	g_spawn_close_pid(pid);
	if (out != NULL)
		g_assert_true(g_file_get_contents(o, out, NULL, NULL));
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* slapd.conf, the data loaded with slapadd (slapd not running yet). */
static void slapd_setup(void)
{
	g_autofree char *conf = NULL, *data = NULL, *ldif = NULL;
	g_autofree char *out = NULL;
	char *argv[] = { SLAPADD, "-f", NULL, "-l", NULL, NULL };

	sd.dir = g_build_filename(relay->dir, "slapd", NULL);
	data = g_build_filename(sd.dir, "data", NULL);
	g_assert_cmpint(g_mkdir_with_parents(data, 0700), ==, 0);
	sd.conf = g_build_filename(sd.dir, "slapd.conf", NULL);
	sd.log = g_build_filename(sd.dir, "slapd.log", NULL);
	ldif = g_build_filename(sd.dir, "data.ldif", NULL);
	conf = g_strdup_printf(
		"include /etc/ldap/schema/core.schema\n"
		"include /etc/ldap/schema/cosine.schema\n"
		"include /etc/ldap/schema/inetorgperson.schema\n" SCHEMA
		"pidfile %s/slapd.pid\n"
		"modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
		/* fewer than the users: the sync must page (RFC 2696) */
		"sizelimit size.soft=2 size.hard=2 size.pr=unlimited"
		" size.prtotal=unlimited\n"
		"TLSCACertificateFile %s\nTLSCertificateFile %s\n"
		"TLSCertificateKeyFile %s\n"
		"database mdb\nmaxsize 10485760\nsuffix \"" BASE "\"\n"
		"rootdn \"" ADMIN_DN "\"\nrootpw " ADMIN_PW "\n"
		"directory %s\n"
		"access to attrs=userPassword by self read"
		" by anonymous auth by * none\n"
		"access to * by users read by * none\n",
		sd.dir, relay->ca_cert, relay->cert_file, relay->key_file,
		data);
	g_assert_true(g_file_set_contents(sd.conf, conf, -1, NULL));
	g_assert_true(g_file_set_contents(ldif, data_ldif, -1, NULL));
	argv[2] = sd.conf;
	argv[4] = ldif;
	if (run(argv, NULL, &out) != 0)
		g_error("slapadd: %s", out);
}

/* Can a TCP connection be made to port? */
static bool port_open(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* Starts slapd and waits until both its ports accept connections. */
/* Both ports listen, or slapd is gone (sd.exited, reaped). */
static bool slapd_up_or_gone(void *data)
{
	int st;

	(void)data;
	if (waitpid(sd.pid, &st, WNOHANG) == sd.pid)
		sd.exited = true;
	return sd.exited ||
	       (port_open(sd.port_ldaps) && port_open(sd.port_ldap));
}

static void slapd_start(void)
{
	g_autofree char *urls = NULL, *log = NULL;
	char *argv[] = {
		SLAPD, "-f", sd.conf, "-h", NULL, "-d", "stats", NULL
	};
	GError *error = NULL;
	int log_fd, in_fd;

	sd.exited = false;
	sd.port_ldaps = free_port();
	sd.port_ldap = free_port();
	urls = g_strdup_printf("ldaps://127.0.0.1:%u/ ldap://127.0.0.1:%u/",
			       sd.port_ldaps, sd.port_ldap);
	argv[4] = urls;
	log_fd = open(sd.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(log_fd, >=, 0);
	if (!g_spawn_async_with_fds(NULL, argv, NULL,
				    G_SPAWN_DO_NOT_REAP_CHILD,
				    child_die_with_parent, NULL, &sd.pid,
				    in_fd, log_fd, log_fd, &error))
		g_error("spawn slapd: %s", error->message);
	close(log_fd);
	close(in_fd);
	if (!lt_wait_until(slapd_up_or_gone, NULL, 20000, 20 * 1000))
		g_error("slapd: no port after 20 s");
	if (sd.exited) {
		g_file_get_contents(sd.log, &log, NULL, NULL);
		g_error("slapd exited: %s", log);
	}
}

static void slapd_stop(void)
{
	int st;

	if (sd.pid == 0)
		return;
	kill(sd.pid, SIGTERM);
	g_assert_cmpint(waitpid(sd.pid, &st, 0), ==, sd.pid);
	g_spawn_close_pid(sd.pid);
	sd.pid = 0;
}

/* Changes the directory as its administrator would (ldapmodify over
 * ldaps, trusting the test's CA). */
static void ldap_modify(const char *ldif)
{
	g_autofree char *path = g_build_filename(sd.dir, "change.ldif", NULL);
	g_autofree char *uri = g_strdup_printf("ldaps://127.0.0.1:%u",
					       sd.port_ldaps);
	g_autofree char *out = NULL;
	char *argv[] = { LDAPMODIFY, "-H",     uri,  "-x", "-D", ADMIN_DN,
			 "-w",       ADMIN_PW, "-f", path, NULL };

	g_assert_true(g_file_set_contents(path, ldif, -1, NULL));
	g_setenv("LDAPTLS_CACERT", relay->ca_cert, TRUE);
	g_setenv("LDAPTLS_REQCERT", "demand", TRUE);
	if (run(argv, NULL, &out) != 0)
		g_error("ldapmodify: %s", out);
}

/* The [ldap] group of relay.conf: uri and ca_file as given. */
static void relay_conf_write(const char *uri, bool starttls,
			     const char *ca_file)
{
	g_autofree char *path = g_build_filename(relay->state_dir,
						 "relay.conf", NULL);
	g_autofree char *pw = g_build_filename(relay->dir, "ldap.pw", NULL);
	g_autofree char *text = NULL, *conf = NULL;
	char *cut;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	if ((cut = strstr(text, "\n[ldap]")) != NULL)
		*cut = '\0';
	conf = g_strdup_printf(
		"%s\n[ldap]\nuri = %s\nstarttls = %s\nca_file = %s\n"
		"bind_dn = cn=svc," BASE "\nbind_password_file = %s\n"
		"user_base = ou=people," BASE "\n"
		"user_filter = (&(objectClass=inetOrgPerson)(uid=%%s))\n"
		"group_base = ou=groups," BASE "\n"
		"group_map = " HELPDESK "=support;"
		"cn=admins,ou=groups," BASE "=admins;"
		"cn=ghosts,ou=groups," BASE "=ghost\n"
		"sync_interval_s = 3600\n",
		text, uri, starttls ? "true" : "false", ca_file, pw);
	g_assert_true(g_file_set_contents(path, conf, -1, NULL));
}

static void relay_conf_ldaps(void)
{
	g_autofree char *uri = g_strdup_printf("ldaps://127.0.0.1:%u",
					       sd.port_ldaps);

	relay_conf_write(uri, false, relay->ca_cert);
}

/* POST /login; the answer (caller frees). */
static struct lh_resp *login(const char *user, const char *pw)
{
	return lh_login_try(relay, user, pw);
}

static void login_refused(const char *user, const char *pw, int status,
			  const char *code)
{
	struct lh_resp *resp = login(user, pw);

	lh_assert_error(resp, status, code);
	lh_resp_free(resp);
}

/* The technician `technician list --json` shows as user (new ref). */
static json_t *technician(const char *user)
{
	g_autofree char *out = NULL;
	json_t *doc, *t, *found = NULL;
	size_t i;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, &out, NULL, "technician",
				     "list", "--json", NULL),
			==, 0);
	doc = json_loads(out, 0, NULL);
	g_assert_nonnull(doc);
	json_array_foreach(json_object_get(doc, "technicians"), i, t)
	{
		if (strcmp(json_string_value(json_object_get(t, "name")),
			   user) == 0)
			found = json_incref(t);
	}
	json_decref(doc);
	return found;
}

static bool technician_disabled(const char *user)
{
	json_t *t = technician(user);
	bool d;

	g_assert_nonnull(t);
	d = json_is_true(json_object_get(t, "disabled"));
	json_decref(t);
	return d;
}

/* `ldap sync`: its exit status, stdout in *out (may be NULL). */
static int ldap_sync(char **out, char **err)
{
	return lh_relay_cmd(relay, NULL, out, err, "ldap", "sync", NULL);
}

/* serve synchronises at its start: the members of mapped groups are
 * technicians before they ever log in; dave too, disabled. */
static void test_serve_sync(void)
{
	json_t *t;

	g_assert_true(
		lh_relay_wait_log(relay, "directory sync of org", 1, 20000));
	g_assert_cmpint(lh_relay_log_count(relay, "4 users in mapped groups, "
						  "3 added, 0 updated, 0 "
						  "disabled, 0 enabled, 1 "
						  "skipped"),
			==, 1);
	g_assert_null(technician("frank"));
	t = technician("carol");
	g_assert_nonnull(t);
	g_assert_cmpstr(json_string_value(json_object_get(t, "display_name")),
			==, "Carol Member");
	g_assert_cmpstr(json_string_value(json_object_get(t, "group")), ==,
			"support");
	g_assert_false(json_is_true(json_object_get(t, "disabled")));
	json_decref(t);
	g_assert_true(technician_disabled("dave"));
	g_assert_null(technician("bob"));
}

static void test_login_ok(void)
{
	struct lh_resp *resp = login("alice", ALICE_PW);
	json_t *t;

	g_assert_cmpint(resp->status, ==, 200);
	g_assert_nonnull(lh_resp_str(resp, "token"));
	lh_secret("token", lh_resp_str(resp, "token"));
	g_assert_cmpstr(json_string_value(json_object_get(
				json_object_get(resp->json, "technician"),
				"name")),
			==, "alice");
	/* the permissions of "support", the group helpdesk maps to */
	g_assert_cmpuint(json_array_size(json_object_get(
				 json_object_get(resp->json, "technician"),
				 "permissions")),
			 ==, 3);
	lh_resp_free(resp);
	t = technician("alice");
	g_assert_cmpstr(json_string_value(json_object_get(t, "display_name")),
			==, "Alice Example");
	json_decref(t);
	/* the local break-glass account keeps its own password */
	g_free(lh_login(relay, "root", ROOT_PW));
}

/* Counts slapd's BIND lines for a DN: what the relay sent it. */
static int binds_of(const char *dn)
{
	g_autofree char *log = NULL, *needle = NULL;
	const char *p;
	int n = 0;

	g_assert_true(g_file_get_contents(sd.log, &log, NULL, NULL));
	needle = g_strdup_printf("BIND dn=\"%s\" method=", dn);
	for (p = log; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_login_refused(void)
{
	int before;

	login_refused("alice", "wrong-password", 401, "unauthorized");
	login_refused("nobody", ALICE_PW, 401, "unauthorized");
	/* the empty password is refused before any bind: slapd sees none
	 * (a bind of the wrong password above shows the count works) */
	before = binds_of(ALICE_DN);
	g_assert_cmpint(before, >, 0);
	login_refused("alice", "", 401, "unauthorized");
	g_assert_cmpint(binds_of(ALICE_DN), ==, before);
	/* right password, in no mapped group */
	login_refused("bob", BOB_PW, 403, "forbidden");
	g_assert_null(technician("bob"));
	/* right password, mapped to a technician group that does not exist
	 * (without a group it would have every permission) */
	login_refused("frank", FRANK_PW, 403, "forbidden");
	g_assert_null(technician("frank"));
	/* right password, disabled in the directory */
	login_refused("dave", DAVE_PW, 403, "account_disabled");
}

/* An unescaped filter would let these in as alice (al* and the
 * closing parenthesis match her entry); escaped, they match no one. */
static void test_login_injection(void)
{
	static const char *const names[] = {
		"al*", "alice)(uid=*",   "*)(uid=*",
		"*",   "alice)(|(uid=*", "alice\\2a",
	};
	g_autofree char *log = NULL;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(names); i++)
		login_refused(names[i], ALICE_PW, 401, "unauthorized");
	g_assert_cmpint(lh_relay_log_count(relay, "matches several users"), ==,
			0);
	/* nor into the log: the name is logged made printable */
	login_refused("x\nlifeline-relay: info: forged", ALICE_PW, 401,
		      "unauthorized");
	log = lh_relay_log(relay);
	g_assert_nonnull(strstr(log, "info: forged"));
	g_assert_null(strstr(log, "\nlifeline-relay: info: forged"));
}

static void test_password_is_directorys(void)
{
	g_autofree char *token = lh_login(relay, "alice", ALICE_PW);
	json_t *body = json_pack("{s:s,s:s}", "old_password", ALICE_PW,
				 "new_password", "Another-Pw-123456");
	struct lh_resp *resp = lh_post(relay, "/api/v1/password", token, body);
	g_autofree char *err = NULL;

	lh_assert_error(resp, 403, "forbidden");
	lh_resp_free(resp);
	json_decref(body);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, &err, "technician",
				     "passwd", "alice", NULL),
			!=, 0);
	g_assert_nonnull(strstr(err, "directory"));
}

/* MFA policy still applies: an org that requires it asks alice to enrol
 * after the directory's yes. */
static void test_login_mfa_policy(void)
{
	struct lh_resp *resp;

	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "policy", "set",
				     "mfa_required", "true", NULL),
			==, 0);
	resp = login("alice", ALICE_PW);
	g_assert_cmpint(resp->status, ==, 200);
	g_assert_true(json_is_true(
		json_object_get(resp->json, "mfa_enrollment_required")));
	lh_resp_free(resp);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "policy",
				     "unset", "mfa_required", NULL),
			==, 0);
}

/* `ldap test`: what it found, never the password. */
static void test_ldap_test_command(void)
{
	g_autofree char *out = NULL, *err = NULL, *out2 = NULL;
	g_autofree char *err2 = NULL;

	g_assert_cmpint(lh_relay_cmd(relay, ALICE_PW "\n", &out, &err, "ldap",
				     "test", "alice", NULL),
			==, 0);
	g_assert_nonnull(strstr(out, "dn: " ALICE_DN "\n"));
	g_assert_nonnull(strstr(out, "display name: Alice Example\n"));
	g_assert_nonnull(strstr(out, "group: " HELPDESK "\n"));
	g_assert_nonnull(strstr(out, "mapped group: " HELPDESK " -> support"));
	g_assert_null(strstr(out, ALICE_PW));
	g_assert_null(strstr(err, ALICE_PW));
	g_assert_cmpint(lh_relay_cmd(relay, BOB_PW "\n", &out2, &err2, "ldap",
				     "test", "bob", NULL),
			==, 0);
	g_assert_nonnull(strstr(out2, "mapped group: none"));
	g_free(err2);
	err2 = NULL;
	g_assert_cmpint(lh_relay_cmd(relay, "\n", NULL, &err2, "ldap", "test",
				     "alice", NULL),
			!=, 0);
	g_assert_nonnull(strstr(err2, "login refused"));
}

/* StartTLS with the certificate checked: the test's CA passes, another
 * CA is refused before any password is sent. */
static void test_starttls(void)
{
	g_autofree char *uri = g_strdup_printf("ldap://127.0.0.1:%u",
					       sd.port_ldap);
	g_autofree char *other_ca = NULL, *out = NULL, *err = NULL;
	g_autofree char *c = g_build_filename(relay->dir, "other.pem", NULL);
	g_autofree char *k = g_build_filename(relay->dir, "other.key", NULL);
	int before = binds_of(ALICE_DN);

	relay_conf_write(uri, true, relay->ca_cert);
	g_assert_cmpint(lh_relay_cmd(relay, ALICE_PW "\n", &out, NULL, "ldap",
				     "test", "alice", NULL),
			==, 0);
	g_assert_nonnull(strstr(out, "mapped group: " HELPDESK));
	g_assert_cmpint(binds_of(ALICE_DN), ==, before + 1);
	lh_make_leaf(relay, c, k, &other_ca);
	relay_conf_write(uri, true, other_ca);
	g_assert_cmpint(lh_relay_cmd(relay, ALICE_PW "\n", NULL, &err, "ldap",
				     "test", "alice", NULL),
			!=, 0);
	g_assert_nonnull(strstr(err, "directory_unavailable: StartTLS"));
	g_assert_cmpint(binds_of(ALICE_DN), ==, before + 1);
	relay_conf_ldaps();
}

/*
 * alice, logged in with a live session, leaves the mapped group: `ldap
 * sync` disables her, the running relay ends her session, she can no
 * longer log in.  Back in a mapped group, the sync enables her again, in
 * the technician group that one maps to.  carol,
 * disabled in the directory (the AD bit), is disabled here by the sync.
 */
static void test_sync_removed(void)
{
	g_autofree char *token = lh_login(relay, "alice", ALICE_PW);
	g_autofree char *out = NULL, *out2 = NULL;
	struct lh_conn *agent = NULL, *applet = NULL;
	struct lh_session s;
	json_t *recs, *t;

	lh_session_new(relay, token, &s);
	lh_pair_open(relay, &s, &agent, &applet);
	lh_pair_ping(agent, applet);
	ldap_modify("dn: " HELPDESK "\nchangetype: modify\n"
		    "delete: member\nmember: " ALICE_DN "\n\n"
		    "dn: uid=carol,ou=people," BASE "\nchangetype: modify\n"
		    "replace: userAccountControl\nuserAccountControl: 514\n");
	g_assert_cmpint(ldap_sync(&out, NULL), ==, 0);
	g_assert_nonnull(strstr(out, "3 users in mapped groups"));
	g_assert_nonnull(strstr(out, "2 disabled"));
	g_assert_true(technician_disabled("alice"));
	g_assert_true(technician_disabled("carol"));
	/* the relay's tick ends the live session within a second or so */
	g_assert_cmpint(lh_conn_wait_closed(agent, 10000), ==, LL_OK);
	g_assert_cmpint(lh_conn_wait_closed(applet, 10000), ==, LL_OK);
	lh_conn_free(agent);
	lh_conn_free(applet);
	lh_session_clear(&s);
	/* her token is gone, and the directory no longer lets her in */
	{
		struct lh_resp *resp = lh_get(relay, "/api/v1/sessions",
					      token);

		g_assert_cmpint(resp->status, ==, 401);
		lh_resp_free(resp);
	}
	login_refused("alice", ALICE_PW, 403, "forbidden");
	recs = lh_audit_records(relay, "technician.disable");
	g_assert_cmpuint(json_array_size(recs), >=, 2);
	json_decref(recs);

	/* back, in the other mapped group: enabled, and its group follows */
	ldap_modify("dn: cn=admins,ou=groups," BASE "\nchangetype: modify\n"
		    "add: member\nmember: " ALICE_DN "\n");
	g_assert_cmpint(ldap_sync(&out2, NULL), ==, 0);
	g_assert_nonnull(strstr(out2, "1 updated, 0 disabled, 1 enabled"));
	g_assert_false(technician_disabled("alice"));
	t = technician("alice");
	g_assert_cmpstr(json_string_value(json_object_get(t, "group")), ==,
			"admins");
	json_decref(t);
	g_free(lh_login(relay, "alice", ALICE_PW));
	/* an account the administrator disabled stays disabled */
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "technician",
				     "disable", "alice", NULL),
			==, 0);
	g_assert_cmpint(ldap_sync(NULL, NULL), ==, 0);
	g_assert_true(technician_disabled("alice"));
	login_refused("alice", ALICE_PW, 403, "account_disabled");
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "technician",
				     "enable", "alice", NULL),
			==, 0);
}

/* serve syncs again every sync_interval_s (3600 here: the test moves the
 * relay's clock): a display name changed in the directory follows,
 * audited with actor "directory". */
static void test_serve_sync_interval(void)
{
	json_t *t, *recs, *rec;
	bool by_directory = false;
	size_t i;

	ldap_modify("dn: uid=carol,ou=people," BASE "\nchangetype: modify\n"
		    "replace: cn\ncn: Carol Renamed\n");
	if (!lh_relay_clock_advance(relay, 3600)) {
		g_test_skip("needs -Dtest_hooks=true (the test clock)");
		return;
	}
	g_assert_true(
		lh_relay_wait_log(relay, "directory sync of org", 2, 20000));
	t = technician("carol");
	g_assert_cmpstr(json_string_value(json_object_get(t, "display_name")),
			==, "Carol Renamed");
	json_decref(t);
	recs = lh_audit_records(relay, "technician.set");
	json_array_foreach(recs, i, rec)
	{
		if (strcmp(json_string_value(json_object_get(rec, "actor")),
			   "directory") == 0)
			by_directory = true;
	}
	g_assert_true(by_directory);
	json_decref(recs);
}

/* relay.conf with extra appended to its [ldap] group: what `ldap test`
 * says of it (exit non-zero, the sentence in *err). */
static void conf_refused(const char *extra, const char *says)
{
	g_autofree char *path = g_build_filename(relay->state_dir,
						 "relay.conf", NULL);
	g_autofree char *good = NULL, *bad = NULL, *err = NULL;

	g_assert_true(g_file_get_contents(path, &good, NULL, NULL));
	bad = g_strdup_printf("%s%s", good, extra);
	g_assert_true(g_file_set_contents(path, bad, -1, NULL));
	g_assert_cmpint(lh_relay_cmd(relay, ALICE_PW "\n", NULL, &err, "ldap",
				     "test", "alice", NULL),
			!=, 0);
	if (strstr(err, says) == NULL)
		g_error("'%s' does not say '%s'", err, says);
	g_assert_true(g_file_set_contents(path, good, -1, NULL));
}

/* relay.conf's [ldap] groups are as strict as [relay]. */
static void test_config_refused(void)
{
	conf_refused("bind_pasword_file = x\n",
		     "unknown key 'bind_pasword_file' "
		     "in [ldap]");
	conf_refused("[ldapx]\nuri = ldaps://x\n", "unknown group [ldapx]");
	conf_refused("[ldap other]\nuri = ldap://127.0.0.1\n",
		     "[ldap other] bind_dn is missing");
	/* the password file must be its owner's alone */
	{
		g_autofree char *pw = g_build_filename(relay->dir, "ldap.pw",
						       NULL);
		g_autofree char *err = NULL;

		g_assert_cmpint(chmod(pw, 0640), ==, 0);
		g_assert_cmpint(lh_relay_cmd(relay, ALICE_PW "\n", NULL, &err,
					     "ldap", "test", "alice", NULL),
				!=, 0);
		g_assert_nonnull(strstr(err, "chmod 600"));
		g_assert_cmpint(chmod(pw, 0600), ==, 0);
	}
}

/* The directory down: its own code, never "wrong password"; a sync
 * changes nothing; the local account still logs in. */
static void test_directory_down(void)
{
	g_autofree char *err = NULL;

	slapd_stop();
	login_refused("alice", ALICE_PW, 503, "directory_unavailable");
	g_assert_cmpint(ldap_sync(NULL, &err), !=, 0);
	g_assert_nonnull(strstr(err, "directory_unavailable"));
	g_assert_false(technician_disabled("alice"));
	g_free(lh_login(relay, "root", ROOT_PW));
}

int main(int argc, char **argv)
{
	g_autofree char *pw = NULL;
	int r;

	lh_init(&argc, &argv);
	if (access(SLAPD, X_OK) != 0 || access(LDAPMODIFY, X_OK) != 0) {
		printf("skip: %s or %s missing (scripts/deps.sh installs "
		       "slapd and ldap-utils)\n",
		       SLAPD, LDAPMODIFY);
		return 77;
	}
	lh_secret("password", ALICE_PW);
	lh_secret("password", BOB_PW);
	lh_secret("password", CAROL_PW);
	lh_secret("password", DAVE_PW);
	lh_secret("password", FRANK_PW);
	lh_secret("password", SVC_PW);
	lh_secret("password", ROOT_PW);
	relay = lh_relay_new("ldap", RATES);
	slapd_setup();
	slapd_start();
	pw = g_build_filename(relay->dir, "ldap.pw", NULL);
	g_assert_true(g_file_set_contents(pw, SVC_PW "\n", -1, NULL));
	g_assert_cmpint(chmod(pw, 0600), ==, 0);
	relay_conf_ldaps();
	lh_tech_add(relay, "root", ROOT_PW, true);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "group", "add",
				     "support", "--permissions",
				     "view,control,chat", NULL),
			==, 0);
	g_assert_cmpint(lh_relay_cmd(relay, NULL, NULL, NULL, "group", "add",
				     "admins", "--permissions",
				     "view,control,files,chat,admin", NULL),
			==, 0);
	lh_relay_start(relay);

	g_test_add_func("/ldap/serve-sync", test_serve_sync);
	g_test_add_func("/ldap/login-ok", test_login_ok);
	g_test_add_func("/ldap/login-refused", test_login_refused);
	g_test_add_func("/ldap/login-injection", test_login_injection);
	g_test_add_func("/ldap/password-is-directorys",
			test_password_is_directorys);
	g_test_add_func("/ldap/login-mfa-policy", test_login_mfa_policy);
	g_test_add_func("/ldap/test-command", test_ldap_test_command);
	g_test_add_func("/ldap/starttls", test_starttls);
	g_test_add_func("/ldap/sync-removed", test_sync_removed);
	g_test_add_func("/ldap/serve-sync-interval", test_serve_sync_interval);
	g_test_add_func("/ldap/config-refused", test_config_refused);
	g_test_add_func("/ldap/directory-down", test_directory_down);
	r = g_test_run();
	slapd_stop();
	if (r == 0)
		lh_relay_stop_verify(relay);
	lh_relay_free(relay);
	return r;
}
