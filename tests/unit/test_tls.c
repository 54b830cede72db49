/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The TLS facade against itself and against plain OpenSSL clients: real
 * handshakes over TCP on 127.0.0.1, a server thread per case, certificates
 * made by ll_tls_selfsigned_create in a temporary directory and
 * cross-checked with the openssl command line tool.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

/* The test drives OpenSSL directly where the facade must refuse to: old
 * protocol versions, weak cipher lists, raw SSL objects. */
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ll_tls.h"
#include "ll_tls_pipe.h"
#include "ll_tls_rec13.h"
#include "ll_util.h"

static char *tmpdir;
static char *key_path, *cert_path;   /* SANs + DNS:relay.test */
static char *key2_path, *cert2_path; /* an unrelated second identity */

static char *tmp_file(const char *name)
{
	return g_build_filename(tmpdir, name, NULL);
}

/* ---- a one-connection server on a thread ---- */

enum srv_mode {
	SRV_CONN,    /* ll_tls_conn_new_server + echo until EOF */
	SRV_NEW_SSL, /* ll_tls_ctx_new_ssl driven with raw OpenSSL calls */
	SRV_SHUTDOWN /* handshake, read one byte, then close_notify */
};

struct srv {
	struct ll_tls_ctx *ctx;
	enum srv_mode mode;
	int lfd;
	uint16_t port;
	GThread *thread;
	/* results, read after join */
	int hs;
	bool accepted;
	bool ssl_was_server;
	char err[256];
	char alpn[64];
	char version[32];
	char cipher[64];
	size_t echoed;
};

static void srv_record(struct srv *s, struct ll_tls_conn *c)
{
	const char *a = ll_tls_conn_alpn(c);

	g_strlcpy(s->err, ll_tls_conn_error(c), sizeof(s->err));
	g_strlcpy(s->alpn, a != NULL ? a : "", sizeof(s->alpn));
	g_strlcpy(s->version, ll_tls_conn_version(c), sizeof(s->version));
}

static void srv_run_new_ssl(struct srv *s, int fd)
{
	SSL *ssl = ll_tls_ctx_new_ssl(s->ctx);
	char buf[64];
	int n;

	g_assert_nonnull(ssl);
	s->ssl_was_server = SSL_is_server(ssl) == 1;
	SSL_set_fd(ssl, fd);
	/* No SSL_set_accept_state here: ll_tls_ctx_new_ssl did it. */
	s->hs = SSL_do_handshake(ssl) == 1 ? LL_OK : LL_ERR_TLS;
	if (s->hs == LL_OK) {
		const unsigned char *sel;
		unsigned int len;

		SSL_get0_alpn_selected(ssl, &sel, &len);
		if (len < sizeof(s->alpn)) {
			memcpy(s->alpn, sel, len);
			s->alpn[len] = '\0';
		}
		g_strlcpy(s->version, SSL_get_version(ssl),
			  sizeof(s->version));
		while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) {
			g_assert_cmpint(SSL_write(ssl, buf, n), ==, n);
			s->echoed += (size_t)n;
		}
		SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	ERR_clear_error();
}

static gpointer srv_main(gpointer data)
{
	struct srv *s = data;
	struct pollfd p = { .fd = s->lfd, .events = POLLIN };
	struct ll_tls_conn *c;
	uint8_t buf[16384];
	size_t n;
	int fd, r;

	s->hs = LL_ERR_TIMEOUT;
	if (poll(&p, 1, 10000) != 1)
		return NULL;
	if ((fd = accept(s->lfd, NULL, NULL)) < 0)
		return NULL;
	s->accepted = true;
	if (s->mode == SRV_NEW_SSL) {
		srv_run_new_ssl(s, fd);
		close(fd);
		return NULL;
	}
	c = ll_tls_conn_new_server(s->ctx, fd);
	g_assert_nonnull(c);
	s->hs = ll_tls_conn_handshake(c);
	srv_record(s, c);
	if (s->hs == LL_OK && s->mode == SRV_CONN) {
		while ((r = ll_tls_conn_read(c, buf, sizeof(buf), &n)) ==
		       LL_OK) {
			g_assert_cmpint(ll_tls_write_all(c, buf, n), ==,
					LL_OK);
			s->echoed += n;
		}
		g_assert_cmpint(r, ==, LL_ERR_CLOSED);
		ll_tls_conn_shutdown(c);
	} else if (s->hs == LL_OK && s->mode == SRV_SHUTDOWN) {
		g_assert_cmpint(ll_tls_read_full(c, buf, 1), ==, LL_OK);
		g_assert_cmpint(ll_tls_conn_shutdown(c), ==, LL_OK);
	}
	ll_tls_conn_free(c, true);
	return NULL;
}

static int listen_local(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(listen(fd, 4), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &sl), ==, 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static struct ll_tls_ctx *server_ctx(const char *alpn)
{
	struct ll_tls_server_opts so = { .cert_file = cert_path,
					 .key_file = key_path,
					 .alpn = alpn };
	char eb[256] = "";
	int err = 0;
	struct ll_tls_ctx *ctx = ll_tls_server_ctx_new(&so, &err, eb,
						       sizeof(eb));

	if (ctx == NULL)
		g_error("server ctx: %s (%d)", eb, err);
	return ctx;
}

static void srv_start(struct srv *s, enum srv_mode mode, const char *alpn)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->ctx = server_ctx(alpn);
	s->lfd = listen_local(&s->port);
	s->thread = g_thread_new("tls-srv", srv_main, s);
}

static void srv_join(struct srv *s)
{
	g_thread_join(s->thread);
	close(s->lfd);
	ll_tls_ctx_free(s->ctx);
}

static int tcp_connect(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==,
			0);
	return fd;
}

static struct ll_tls_ctx *client_ctx(const char *ca, bool no_system,
				     const char *pin, const char *alpn)
{
	struct ll_tls_client_opts co = { .ca_file = ca,
					 .no_system_cas = no_system,
					 .spki_pin = pin,
					 .alpn = alpn };
	char eb[256] = "";
	int err = 0;
	struct ll_tls_ctx *ctx = ll_tls_client_ctx_new(&co, &err, eb,
						       sizeof(eb));

	if (ctx == NULL)
		g_error("client ctx: %s (%d)", eb, err);
	return ctx;
}

static bool hs_via_write;

/*
 * One client handshake against a fresh server claiming `host`; returns
 * the client's result, its error sentence in cerr and the server's
 * result in srv_hs.
 */
static int try_handshake(struct ll_tls_ctx *cctx, const char *host,
			 const char *srv_alpn, char *cerr, size_t cerrlen,
			 char *alpn, size_t alpnlen, int *srv_hs)
{
	struct srv s;
	struct ll_tls_conn *c;
	int r;

	srv_start(&s, SRV_CONN, srv_alpn);
	c = ll_tls_conn_new_client(cctx, tcp_connect(s.port), host);
	g_assert_nonnull(c);
	/* Either an explicit handshake or the implicit one of a write. */
	r = hs_via_write ? ll_tls_write_all(c, "x", 1)
			 : ll_tls_conn_handshake(c);
	if (cerr != NULL)
		g_strlcpy(cerr, ll_tls_conn_error(c), cerrlen);
	if (alpn != NULL) {
		const char *a = ll_tls_conn_alpn(c);

		g_strlcpy(alpn, a != NULL ? a : "", alpnlen);
	}
	if (r == LL_OK)
		ll_tls_conn_shutdown(c);
	ll_tls_conn_free(c, true);
	srv_join(&s);
	if (srv_hs != NULL)
		*srv_hs = s.hs;
	return r;
}

/* ---- running the openssl tool ---- */

static char *run_capture(const char *const *argv)
{
	gchar *out = NULL, *errout = NULL;
	GError *gerr = NULL;
	gint status = 0;

	if (!g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_SEARCH_PATH,
			  NULL, NULL, &out, &errout, &status, &gerr))
		g_error("spawn %s: %s", argv[0], gerr->message);
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("%s failed: %s", argv[0], errout);
	g_free(errout);
	return g_strstrip(out);
}

static bool run_ok(const char *const *argv)
{
	gint status = 0;

	g_assert_true(g_spawn_sync(NULL, (gchar **)argv, NULL,
				   G_SPAWN_SEARCH_PATH |
					   G_SPAWN_STDOUT_TO_DEV_NULL |
					   G_SPAWN_STDERR_TO_DEV_NULL,
				   NULL, NULL, NULL, NULL, &status, NULL));
	return g_spawn_check_wait_status(status, NULL);
}

/* ---- certificates ---- */

static void test_selfsigned_files(void)
{
	struct stat st;
	gchar *before = NULL, *after = NULL, *text;
	char eb[256] = "";
	char *k = tmp_file("bad.key"), *cf = tmp_file("bad.crt");
	const char *const bad1[] = { "DNS:ok.example", "URI:x", NULL };
	const char *const bad2[] = { "DNS:a,IP:1.2.3.4", NULL };
	const char *const bad3[] = { "IP:300.1.1.1", NULL };

	g_assert_cmpint(stat(key_path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	g_assert_cmpint(stat(cert_path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0644);

	/* Never overwrites: neither the key nor the certificate. */
	g_assert_true(g_file_get_contents(key_path, &before, NULL, NULL));
	g_assert_cmpint(ll_tls_selfsigned_create(key_path, cf, NULL, NULL, eb,
						 sizeof(eb)),
			==, LL_ERR_CONFLICT);
	g_assert_nonnull(strstr(eb, key_path));
	g_assert_false(g_file_test(cf, G_FILE_TEST_EXISTS));
	g_assert_cmpint(ll_tls_selfsigned_create(k, cert_path, NULL, NULL, eb,
						 sizeof(eb)),
			==, LL_ERR_CONFLICT);
	/* ... and removes the key it had made before refusing. */
	g_assert_false(g_file_test(k, G_FILE_TEST_EXISTS));
	g_assert_true(g_file_get_contents(key_path, &after, NULL, NULL));
	g_assert_cmpstr(before, ==, after);

	/* Bad extra names: a clear error and no file left behind. */
	g_assert_cmpint(ll_tls_selfsigned_create(k, cf, "x", bad1, eb,
						 sizeof(eb)),
			==, LL_ERR_INVALID_ARG);
	g_assert_nonnull(strstr(eb, "URI:x"));
	g_assert_cmpint(ll_tls_selfsigned_create(k, cf, "x", bad2, eb,
						 sizeof(eb)),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_tls_selfsigned_create(k, cf, "x", bad3, eb,
						 sizeof(eb)),
			==, LL_ERR_INVALID_ARG);
	g_assert_false(g_file_test(k, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(cf, G_FILE_TEST_EXISTS));
	g_assert_cmpint(ll_tls_selfsigned_create(k, k, "x", NULL, eb,
						 sizeof(eb)),
			==, LL_ERR_INVALID_ARG);

	/* What the openssl tool sees. */
	{
		const char *const argv[] = { "openssl", "x509",   "-in",
					     cert_path, "-noout", "-text",
					     NULL };

		text = run_capture(argv);
	}
	g_assert_nonnull(strstr(text, "ecdsa-with-SHA256"));
	g_assert_nonnull(strstr(text, "NIST CURVE: P-256"));
	g_assert_nonnull(strstr(text, "CN = lifeline-test"));
	g_assert_nonnull(strstr(text, "DNS:localhost, IP Address:127.0.0.1, "
				      "IP Address:0:0:0:0:0:0:0:1, "
				      "DNS:relay.test"));
	g_assert_nonnull(strstr(text, "CA:FALSE"));
	g_assert_nonnull(strstr(text, "TLS Web Server Authentication"));
	{
		/* Valid 397 days: still valid in 396, not in 398. */
		const char *const in396[] = { "openssl",  "x509",
					      "-in",      cert_path,
					      "-noout",   "-checkend",
					      "34214400", NULL };
		const char *const in398[] = { "openssl",  "x509",
					      "-in",      cert_path,
					      "-noout",   "-checkend",
					      "34387200", NULL };

		g_assert_true(run_ok(in396));
		g_assert_false(run_ok(in398));
	}
	g_free(text);
	g_free(before);
	g_free(after);
	g_free(k);
	g_free(cf);
}

static void test_fingerprint(void)
{
	const char *const argv[] = { "openssl", "x509",   "-in",
				     cert_path, "-noout", "-fingerprint",
				     "-sha256", NULL };
	char fp[96], small[95], fp2[96];
	char *out = run_capture(argv), *eq, *junk = tmp_file("junk.pem");
	char *missing = tmp_file("missing.pem");

	g_assert_cmpint(ll_tls_cert_fingerprint(cert_path, fp, sizeof(fp)), ==,
			LL_OK);
	g_assert_cmpuint(strlen(fp), ==, 95);
	for (int i = 2; i < 95; i += 3)
		g_assert_cmpint(fp[i], ==, ':');
	/* "sha256 Fingerprint=AB:CD:..." */
	eq = strchr(out, '=');
	g_assert_nonnull(eq);
	g_assert_cmpstr(fp, ==, eq + 1);

	g_assert_cmpint(ll_tls_cert_fingerprint(cert2_path, fp2, sizeof(fp2)),
			==, LL_OK);
	g_assert_cmpstr(fp, !=, fp2);

	g_assert_cmpint(ll_tls_cert_fingerprint(cert_path, small,
						sizeof(small)),
			==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_tls_cert_fingerprint(missing, fp, sizeof(fp)), ==,
			LL_ERR_IO);
	g_assert_true(g_file_set_contents(junk,
					  "-----BEGIN CERTIFICATE-----\n"
					  "AAAA\n-----END CERTIFICATE-----\n",
					  -1, NULL));
	g_assert_cmpint(ll_tls_cert_fingerprint(junk, fp, sizeof(fp)), ==,
			LL_ERR_MALFORMED);
	g_assert_cmpint(ll_tls_cert_spki_pin(junk, fp, sizeof(fp)), ==,
			LL_ERR_MALFORMED);
	g_free(out);
	g_free(junk);
	g_free(missing);
}

static void test_spki_pin(void)
{
	/* curl's documented recipe for a pin. */
	char *script = g_strdup_printf(
		"openssl x509 -in '%s' -pubkey -noout | "
		"openssl pkey -pubin -outform der | "
		"openssl dgst -sha256 -binary | openssl enc -base64",
		cert_path);
	const char *const argv[] = { "sh", "-c", script, NULL };
	char *want = run_capture(argv);
	char pin[64], pin2[64];

	g_assert_cmpint(ll_tls_cert_spki_pin(cert_path, pin, sizeof(pin)), ==,
			LL_OK);
	g_assert_cmpuint(strlen(pin), ==, 52);
	g_assert_true(g_str_has_prefix(pin, "sha256//"));
	g_assert_cmpstr(pin + 8, ==, want);
	g_assert_cmpint(ll_tls_cert_spki_pin(cert2_path, pin2, sizeof(pin2)),
			==, LL_OK);
	g_assert_cmpstr(pin, !=, pin2);
	g_assert_cmpint(ll_tls_cert_spki_pin(cert_path, pin, 52), ==,
			LL_ERR_INVALID_ARG);
	g_free(want);
	g_free(script);
}

/* A conn that reads ahead (the session pump's stream): records the peer
 * sent together come in one read call, and a reader that reads until
 * WANT_READ before it polls never leaves a record unseen in the buffer:
 * whenever it must poll, the socket itself has more to say. */
static void test_read_ahead(void)
{
	struct ll_tls_ctx *cctx = client_ctx(cert_path, true, NULL, NULL);
	struct ll_tls_conn *c = NULL;
	/* several records, under the loopback socket buffers */
	size_t len = 80 * 1024 + 3, got = 0, n;
	uint8_t *out = g_malloc(len), *in = g_malloc0(len);
	char eb[256] = "";
	struct srv s;
	int fd, r;

	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 7 + (i >> 11));
	srv_start(&s, SRV_CONN, NULL);
	g_assert_cmpint(ll_tls_dial(cctx, "127.0.0.1", s.port, 5000, &c, eb,
				    sizeof(eb)),
			==, LL_OK);
	ll_tls_conn_read_ahead(c, 64 * 1024);
	ll_tls_conn_read_ahead(NULL, 64 * 1024); /* a no-op */
	g_assert_cmpint(ll_tls_write_all(c, out, len), ==, LL_OK);
	fd = ll_tls_conn_fd(c);
	g_assert_cmpint(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK),
			==, 0);
	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		r = ll_tls_conn_read(c, in + got, len - got, &n);
		if (r == LL_OK) {
			got += n;
			continue;
		}
		g_assert_cmpint(r, ==, LL_ERR_WANT_READ);
		g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
	}
	g_assert_cmpmem(in, len, out, len);
	g_assert_cmpuint(ll_tls_conn_pending(c), ==, 0);
	g_assert_cmpint(ll_tls_conn_shutdown(c), ==, LL_OK);
	ll_tls_conn_free(c, true);
	srv_join(&s);
	g_assert_cmpint(s.hs, ==, LL_OK);
	g_assert_cmpuint(s.echoed, ==, len);
	ll_tls_ctx_free(cctx);
	g_free(out);
	g_free(in);
}

/* ---- gathered writes (ll_tls_conn_gather_writes) ---- */

#define GATHER_LEN (24u * 1024u * 1024u + 5u)
#define GATHER_MAX (64u * 1024u)

static uint8_t gather_byte(size_t i)
{
	return (uint8_t)(i * 13 + (i >> 12));
}

/* An SSL message callback: counts the KeyUpdate messages its SSL reads
 * (arg: an int counter). */
static void count_key_updates_read(int write_p, int version, int content_type,
				   const void *buf, size_t len, SSL *ssl,
				   void *arg)
{
	const uint8_t *b = buf;

	(void)version;
	(void)ssl;
	if (!write_p && content_type == SSL3_RT_HANDSHAKE && len >= 1 &&
	    b[0] == SSL3_MT_KEY_UPDATE)
		++*(int *)arg;
}

/* A raw OpenSSL server: asks for the client's KeyUpdate at once, then
 * reads nothing until the client says its socket is full (go), then
 * checks every byte and the close_notify after them. */
struct gather_srv {
	struct ll_tls_ctx *ctx;
	int lfd, go[2];
	uint16_t port;
	GThread *thread;
	/* results */
	size_t got, bad_at;
	int key_updates_seen, end;
};

static gpointer gather_srv_main(gpointer data)
{
	struct gather_srv *g = data;
	static uint8_t buf[65536];
	SSL *ssl = ll_tls_ctx_new_ssl(g->ctx);
	char go;
	int fd, n;

	g->bad_at = SIZE_MAX;
	fd = accept(g->lfd, NULL, NULL);
	g_assert_cmpint(fd, >=, 0);
	SSL_set_fd(ssl, fd);
	SSL_set_msg_callback(ssl, count_key_updates_read);
	SSL_set_msg_callback_arg(ssl, &g->key_updates_seen);
	g_assert_cmpint(SSL_accept(ssl), ==, 1);
	g_assert_cmpint(SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED), ==, 1);
	g_assert_cmpint(SSL_write(ssl, "K", 1), ==, 1);
	g_assert_cmpint(read(g->go[0], &go, 1), ==, 1);
	while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) {
		for (int i = 0; i < n && g->bad_at == SIZE_MAX; i++)
			if (buf[i] != gather_byte(g->got + (size_t)i))
				g->bad_at = g->got + (size_t)i;
		g->got += (size_t)n;
	}
	g->end = SSL_get_error(ssl, n);
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
	return NULL;
}

static void test_gather(void)
{
	struct ll_tls_ctx *cctx = client_ctx(cert_path, true, NULL, NULL);
	struct ll_tls_conn *c = NULL, *fresh;
	struct gather_srv g = { 0 };
	uint8_t *out = g_malloc(GATHER_LEN), k = 0;
	size_t sent = 0, n;
	bool went = false, saw_unsent = false, got_k = false;
	gint64 deadline = g_get_monotonic_time() + 30 * G_TIME_SPAN_SECOND;
	char eb[256] = "";
	int sv[2], fd, r;

	for (size_t i = 0; i < GATHER_LEN; i++)
		out[i] = gather_byte(i);
	/* Only an established connection gathers, and only once. */
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
	fresh = ll_tls_conn_new_client(cctx, sv[0], "localhost");
	g_assert_nonnull(fresh);
	g_assert_cmpint(ll_tls_conn_gather_writes(fresh, GATHER_MAX), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpuint(ll_tls_conn_unsent(fresh), ==, 0);
	g_assert_cmpint(ll_tls_conn_flush(fresh), ==, LL_OK);
	ll_tls_conn_free(fresh, true);
	close(sv[1]);
	g_assert_cmpint(ll_tls_conn_gather_writes(NULL, GATHER_MAX), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_tls_conn_flush(NULL), ==, LL_ERR_INVALID_ARG);

	g.ctx = server_ctx(NULL);
	g.lfd = listen_local(&g.port);
	g_assert_cmpint(pipe(g.go), ==, 0);
	g.thread = g_thread_new("gather-srv", gather_srv_main, &g);
	g_assert_cmpint(ll_tls_dial(cctx, "127.0.0.1", g.port, 5000, &c, eb,
				    sizeof(eb)),
			==, LL_OK);
	g_assert_cmpint(ll_tls_conn_gather_writes(c, 0), ==,
			LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_tls_conn_gather_writes(c, GATHER_MAX), ==, LL_OK);
	g_assert_cmpint(ll_tls_conn_gather_writes(c, GATHER_MAX), ==,
			LL_ERR_INVALID_ARG);
	fd = ll_tls_conn_fd(c);
	g_assert_cmpint(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK),
			==, 0);
	/* Write all, reading what comes (the KeyUpdate asked for, and "K");
	 * the server reads nothing until the socket has filled once. */
	while (sent < GATHER_LEN || ll_tls_conn_unsent(c) > 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		r = ll_tls_conn_read(c, &k, 1, &n);
		if (r == LL_OK) {
			g_assert_cmpuint(n, ==, 1);
			g_assert_cmpint(k, ==, 'K');
			got_k = true;
		} else {
			g_assert_cmpint(r, ==, LL_ERR_WANT_READ);
		}
		r = sent < GATHER_LEN
			    ? ll_tls_conn_write(c, out + sent,
						GATHER_LEN - sent, &n)
			    : ll_tls_conn_flush(c);
		if (r == LL_OK && sent < GATHER_LEN) {
			/* one batch at most a call */
			g_assert_cmpuint(n, >, 0);
			g_assert_cmpuint(n, <=, GATHER_MAX);
			sent += n;
			saw_unsent |= ll_tls_conn_unsent(c) > 0;
			continue;
		}
		if (r == LL_OK)
			continue;
		/* the socket is full: what waits is ours to flush */
		g_assert_cmpint(r, ==, LL_ERR_WANT_WRITE);
		g_assert_cmpuint(ll_tls_conn_unsent(c), >, 0);
		if (!went) {
			g_assert_cmpint(write(g.go[1], "g", 1), ==, 1);
			went = true;
		}
		p.events |= POLLOUT;
		g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
	}
	g_assert_true(went);
	g_assert_true(saw_unsent);
	/* The close_notify goes out behind everything. */
	while ((r = ll_tls_conn_shutdown(c)) == LL_ERR_WANT_WRITE) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
	}
	g_assert_cmpint(r, ==, LL_OK);
	g_assert_cmpuint(ll_tls_conn_unsent(c), ==, 0);
	g_thread_join(g.thread);
	/* "K" came after the KeyUpdate: reading it sent the answer */
	g_assert_true(got_k);
	g_assert_cmpint(g.key_updates_seen, ==, 1);
	g_assert_cmpuint(g.bad_at, ==, SIZE_MAX);
	g_assert_cmpuint(g.got, ==, GATHER_LEN);
	g_assert_cmpint(g.end, ==, SSL_ERROR_ZERO_RETURN);
	ll_tls_conn_free(c, true);
	close(g.go[0]);
	close(g.go[1]);
	close(g.lfd);
	ll_tls_ctx_free(g.ctx);
	ll_tls_ctx_free(cctx);
	g_free(out);
}

/* ---- handshakes ---- */

static void test_dial_roundtrip(void)
{
	struct ll_tls_ctx *cctx = client_ctx(cert_path, true, NULL, NULL);
	struct ll_tls_conn *c = NULL;
	/* Under the loopback socket buffers: the echo must not deadlock. */
	size_t len = 96 * 1024 + 7;
	uint8_t *out = g_malloc(len), *in = g_malloc0(len);
	char eb[256] = "";
	struct srv s;

	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 131 + (i >> 9));
	srv_start(&s, SRV_CONN, NULL);
	g_assert_cmpint(ll_tls_dial(cctx, "127.0.0.1", s.port, 5000, &c, eb,
				    sizeof(eb)),
			==, LL_OK);
	g_assert_cmpstr(ll_tls_conn_version(c), ==, "TLSv1.3");
	g_assert_null(ll_tls_conn_alpn(c));
	g_assert_cmpstr(ll_tls_conn_error(c), ==, "no error");
	/* The socket is blocking after ll_tls_dial. */
	g_assert_cmpint(fcntl(ll_tls_conn_fd(c), F_GETFL) & O_NONBLOCK, ==, 0);
	g_assert_cmpint(ll_tls_write_all(c, out, len), ==, LL_OK);
	g_assert_cmpint(ll_tls_read_full(c, in, len), ==, LL_OK);
	g_assert_cmpmem(in, len, out, len);
	g_assert_cmpint(ll_tls_conn_shutdown(c), ==, LL_OK);
	/* After our close_notify the echo loop ends; read_full of more
	 * bytes than will ever come reports the close. */
	g_assert_cmpint(ll_tls_read_full(c, in, 1), ==, LL_ERR_CLOSED);
	ll_tls_conn_free(c, true);
	srv_join(&s);
	g_assert_cmpint(s.hs, ==, LL_OK);
	g_assert_cmpuint(s.echoed, ==, len);
	g_assert_cmpstr(s.version, ==, "TLSv1.3");
	ll_tls_ctx_free(cctx);
	g_free(out);
	g_free(in);
}

static void test_verify_names(void)
{
	struct ll_tls_ctx *cctx = client_ctx(cert_path, true, NULL, NULL);
	char err[256];
	int shs;

	g_assert_cmpint(try_handshake(cctx, "localhost", NULL, NULL, 0, NULL,
				      0, &shs),
			==, LL_OK);
	g_assert_cmpint(shs, ==, LL_OK);
	g_assert_cmpint(try_handshake(cctx, "relay.test", NULL, NULL, 0, NULL,
				      0, NULL),
			==, LL_OK);
	g_assert_cmpint(try_handshake(cctx, "127.0.0.1", NULL, NULL, 0, NULL,
				      0, NULL),
			==, LL_OK);
	/* The name is only what we verify; the TCP peer is 127.0.0.1. */
	g_assert_cmpint(try_handshake(cctx, "::1", NULL, NULL, 0, NULL, 0,
				      NULL),
			==, LL_OK);
	g_assert_cmpint(try_handshake(cctx, "[::1]", NULL, NULL, 0, NULL, 0,
				      NULL),
			==, LL_OK);

	g_assert_cmpint(try_handshake(cctx, "wrong.example", NULL, err,
				      sizeof(err), NULL, 0, &shs),
			==, LL_ERR_TLS_VERIFY);
	g_assert_nonnull(strstr(err, "hostname mismatch"));
	g_assert_nonnull(strstr(err, "'wrong.example'"));
	g_assert_cmpint(shs, ==, LL_ERR_TLS);

	/* Partial labels do not match a name, the CN is not consulted. */
	g_assert_cmpint(try_handshake(cctx, "lifeline-test", NULL, err,
				      sizeof(err), NULL, 0, NULL),
			==, LL_ERR_TLS_VERIFY);
	g_assert_cmpint(try_handshake(cctx, "127.0.0.2", NULL, err,
				      sizeof(err), NULL, 0, NULL),
			==, LL_ERR_TLS_VERIFY);
	g_assert_nonnull(strstr(err, "IP address mismatch"));
	ll_tls_ctx_free(cctx);
}

static void test_verify_untrusted(void)
{
	struct ll_tls_ctx *sys = client_ctx(NULL, false, NULL, NULL);
	struct ll_tls_ctx *other = client_ctx(cert2_path, true, NULL, NULL);
	struct ll_tls_ctx *both = client_ctx(cert_path, false, NULL, NULL);
	char err[256];
	int shs;

	/* The system CAs do not know our self-signed certificate. */
	g_assert_cmpint(try_handshake(sys, "localhost", NULL, err, sizeof(err),
				      NULL, 0, &shs),
			==, LL_ERR_TLS_VERIFY);
	g_assert_cmpstr(err, ==,
			"certificate verify failed: self-signed "
			"certificate (is --ca set?)");
	g_assert_cmpint(shs, ==, LL_ERR_TLS);
	/* Another anchor does not help. */
	g_assert_cmpint(try_handshake(other, "localhost", NULL, err,
				      sizeof(err), NULL, 0, NULL),
			==, LL_ERR_TLS_VERIFY);
	g_assert_nonnull(strstr(err, "(is --ca set?)"));
	/* ca_file adds to the system store when no_system_cas is off. */
	g_assert_cmpint(try_handshake(both, "localhost", NULL, NULL, 0, NULL,
				      0, NULL),
			==, LL_OK);
	ll_tls_ctx_free(sys);
	ll_tls_ctx_free(other);
	ll_tls_ctx_free(both);
}

static void test_pin(void)
{
	char pin[64], pin2[64], list[160], err[256];
	struct ll_tls_ctx *c;
	int shs;

	g_assert_cmpint(ll_tls_cert_spki_pin(cert_path, pin, sizeof(pin)), ==,
			LL_OK);
	g_assert_cmpint(ll_tls_cert_spki_pin(cert2_path, pin2, sizeof(pin2)),
			==, LL_OK);

	c = client_ctx(cert_path, true, pin, NULL);
	g_assert_cmpint(try_handshake(c, "localhost", NULL, NULL, 0, NULL, 0,
				      &shs),
			==, LL_OK);
	g_assert_cmpint(shs, ==, LL_OK);
	ll_tls_ctx_free(c);

	/* Chain and name fine, key not the pinned one. */
	c = client_ctx(cert_path, true, pin2, NULL);
	g_assert_cmpint(try_handshake(c, "localhost", NULL, err, sizeof(err),
				      NULL, 0, &shs),
			==, LL_ERR_TLS_VERIFY);
	g_assert_nonnull(strstr(err, "does not match the pinned key"));
	g_assert_cmpint(shs, ==, LL_ERR_TLS);
	/* Also when the first write drives the handshake. */
	hs_via_write = true;
	g_assert_cmpint(try_handshake(c, "localhost", NULL, err, sizeof(err),
				      NULL, 0, &shs),
			==, LL_ERR_TLS_VERIFY);
	hs_via_write = false;
	g_assert_nonnull(strstr(err, "does not match the pinned key"));
	ll_tls_ctx_free(c);

	/* A pin never replaces verification. */
	c = client_ctx(cert2_path, true, pin, NULL);
	g_assert_cmpint(try_handshake(c, "localhost", NULL, err, sizeof(err),
				      NULL, 0, NULL),
			==, LL_ERR_TLS_VERIFY);
	g_assert_nonnull(strstr(err, "is --ca set?"));
	ll_tls_ctx_free(c);

	/* curl's list form: any pin of the list. */
	g_snprintf(list, sizeof(list), "%s;%s", pin2, pin);
	c = client_ctx(cert_path, true, list, NULL);
	g_assert_cmpint(try_handshake(c, "localhost", NULL, NULL, 0, NULL, 0,
				      NULL),
			==, LL_OK);
	ll_tls_ctx_free(c);
}

static void test_pin_malformed(void)
{
	char pin[64], trunc[64], bad[64], semi[80], alpha[64];
	const char *cases[8];
	size_t i;

	g_assert_cmpint(ll_tls_cert_spki_pin(cert_path, pin, sizeof(pin)), ==,
			LL_OK);
	g_strlcpy(trunc, pin, 51);
	g_strlcpy(bad, pin, sizeof(bad));
	bad[10] = '!';
	g_snprintf(semi, sizeof(semi), "%s;", pin);
	g_strlcpy(alpha, pin, sizeof(alpha));
	{
		/* Flip a padding bit of the last character: decodes to the
		 * same bytes, but is not the canonical encoding. */
		static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "abcdefghijklmnopqrstuvwxyz"
					  "0123456789+/";
		const char *at = strchr(b64, alpha[50]);

		g_assert_nonnull(at);
		alpha[50] = b64[(at - b64) ^ 1];
	}
	cases[0] = trunc;
	cases[1] = bad;
	cases[2] = semi;
	cases[3] = "";
	cases[4] = "md5//AAAAAAAAAAAAAAAAAAAAAA==";
	cases[5] = pin + 8; /* no "sha256//" */
	cases[6] = alpha;
	cases[7] = ";";
	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct ll_tls_client_opts co = { .ca_file = cert_path,
						 .no_system_cas = true,
						 .spki_pin = cases[i] };
		char eb[128] = "";
		int err = 0;

		g_test_message("pin case %zu: '%s'", i, cases[i]);
		g_assert_null(
			ll_tls_client_ctx_new(&co, &err, eb, sizeof(eb)));
		g_assert_cmpint(err, ==, LL_ERR_INVALID_ARG);
		g_assert_nonnull(strstr(eb, "pin"));
	}
}

static void test_alpn(void)
{
	struct ll_tls_ctx *c;
	char alpn[64], err[256];
	int shs;
	struct srv s;

	/* Server preference decides. */
	c = client_ctx(cert_path, true, NULL, "http/1.1,lifeline/1");
	g_assert_cmpint(try_handshake(c, "localhost", "lifeline/1,http/1.1",
				      NULL, 0, alpn, sizeof(alpn), &shs),
			==, LL_OK);
	g_assert_cmpstr(alpn, ==, "lifeline/1");
	ll_tls_ctx_free(c);

	c = client_ctx(cert_path, true, NULL, "http/1.1");
	srv_start(&s, SRV_CONN, "lifeline/1,http/1.1");
	{
		struct ll_tls_conn *cc = NULL;

		g_assert_cmpint(ll_tls_dial(c, "127.0.0.1", s.port, 5000, &cc,
					    err, sizeof(err)),
				==, LL_OK);
		g_assert_cmpstr(ll_tls_conn_alpn(cc), ==, "http/1.1");
		ll_tls_conn_shutdown(cc);
		ll_tls_conn_free(cc, true);
	}
	srv_join(&s);
	g_assert_cmpint(s.hs, ==, LL_OK);
	g_assert_cmpstr(s.alpn, ==, "http/1.1");
	ll_tls_ctx_free(c);

	/* Nothing in common: refused (no silent fallback). */
	c = client_ctx(cert_path, true, NULL, "h2");
	g_assert_cmpint(try_handshake(c, "localhost", "lifeline/1", err,
				      sizeof(err), alpn, sizeof(alpn), &shs),
			==, LL_ERR_TLS);
	g_assert_nonnull(strstr(err, "no ALPN protocol in common"));
	g_assert_cmpint(shs, ==, LL_ERR_TLS);
	ll_tls_ctx_free(c);

	/* A client without ALPN still gets in. */
	c = client_ctx(cert_path, true, NULL, NULL);
	g_assert_cmpint(try_handshake(c, "localhost", "lifeline/1", NULL, 0,
				      alpn, sizeof(alpn), NULL),
			==, LL_OK);
	g_assert_cmpstr(alpn, ==, "");
	ll_tls_ctx_free(c);
}

/* A raw OpenSSL client with the given version range and TLS 1.2 ciphers. */
static int raw_client(uint16_t port, int minv, int maxv, const char *ciphers,
		      char *version, char *cipher, size_t len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	int fd, ok;

	g_assert_nonnull(ctx);
	/* Level 0, or OpenSSL itself will not offer TLS 1.1. */
	SSL_CTX_set_security_level(ctx, 0);
	g_assert_cmpint(SSL_CTX_set_min_proto_version(ctx, minv), ==, 1);
	g_assert_cmpint(SSL_CTX_set_max_proto_version(ctx, maxv), ==, 1);
	g_assert_cmpint(SSL_CTX_set_cipher_list(ctx, ciphers), ==, 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	ssl = SSL_new(ctx);
	fd = tcp_connect(port);
	SSL_set_fd(ssl, fd);
	ok = SSL_connect(ssl) == 1;
	if (ok) {
		g_strlcpy(version, SSL_get_version(ssl), len);
		g_strlcpy(cipher, SSL_get_cipher_name(ssl), len);
		SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	ERR_clear_error();
	return ok ? LL_OK : LL_ERR_TLS;
}

static void test_protocol_versions(void)
{
	char v[64] = "", ci[64] = "";
	struct srv s;

	/* TLS 1.1 only: refused with a sentence saying why. */
	srv_start(&s, SRV_CONN, NULL);
	g_assert_cmpint(raw_client(s.port, TLS1_VERSION, TLS1_1_VERSION,
				   "ALL:@SECLEVEL=0", v, ci, sizeof(v)),
			==, LL_ERR_TLS);
	srv_join(&s);
	g_assert_true(s.accepted);
	g_assert_cmpint(s.hs, ==, LL_ERR_TLS);
	g_assert_nonnull(strstr(s.err, "unsupported protocol"));
	g_assert_nonnull(strstr(s.err, "TLS 1.2 or newer"));

	/* TLS 1.2: the server's cipher order wins over the client's. */
	srv_start(&s, SRV_CONN, NULL);
	g_assert_cmpint(raw_client(s.port, TLS1_2_VERSION, TLS1_2_VERSION,
				   "ECDHE-ECDSA-CHACHA20-POLY1305:"
				   "ECDHE-ECDSA-AES256-GCM-SHA384:"
				   "ECDHE-ECDSA-AES128-GCM-SHA256",
				   v, ci, sizeof(v)),
			==, LL_OK);
	srv_join(&s);
	g_assert_cmpint(s.hs, ==, LL_OK);
	g_assert_cmpstr(v, ==, "TLSv1.2");
	g_assert_cmpstr(ci, ==, "ECDHE-ECDSA-AES128-GCM-SHA256");

	/* TLS 1.2 with only CBC or only static-RSA suites: no overlap. */
	srv_start(&s, SRV_CONN, NULL);
	g_assert_cmpint(
		raw_client(s.port, TLS1_2_VERSION, TLS1_2_VERSION,
			   "ECDHE-ECDSA-AES128-SHA256:AES128-GCM-SHA256:"
			   "@SECLEVEL=0",
			   v, ci, sizeof(v)),
		==, LL_ERR_TLS);
	srv_join(&s);
	g_assert_cmpint(s.hs, ==, LL_ERR_TLS);
	g_assert_nonnull(strstr(s.err, "no shared cipher"));
}

static void test_new_ssl(void)
{
	struct ll_tls_ctx *cctx = client_ctx(cert_path, true, NULL,
					     "lifeline/1");
	struct ll_tls_conn *c = NULL;
	char eb[256] = "", buf[6] = "";
	SSL *cs;
	struct srv s;

	srv_start(&s, SRV_NEW_SSL, "lifeline/1");
	g_assert_cmpint(ll_tls_dial(cctx, "127.0.0.1", s.port, 5000, &c, eb,
				    sizeof(eb)),
			==, LL_OK);
	g_assert_cmpstr(ll_tls_conn_alpn(c), ==, "lifeline/1");
	g_assert_cmpint(ll_tls_write_all(c, "hello", 5), ==, LL_OK);
	g_assert_cmpint(ll_tls_read_full(c, buf, 5), ==, LL_OK);
	g_assert_cmpstr(buf, ==, "hello");
	ll_tls_conn_shutdown(c);
	ll_tls_conn_free(c, true);
	srv_join(&s);
	g_assert_true(s.ssl_was_server);
	g_assert_cmpint(s.hs, ==, LL_OK);
	g_assert_cmpstr(s.alpn, ==, "lifeline/1");
	g_assert_cmpuint(s.echoed, ==, 5);

	/* A client SSL (libevent's use): connect state, host settable,
	 * the ctx's pin and trust apply. */
	cs = ll_tls_ctx_new_ssl(cctx);
	g_assert_nonnull(cs);
	g_assert_cmpint(SSL_is_server(cs), ==, 0);
	g_assert_cmpint(ll_tls_ssl_set_host(cs, "localhost"), ==, LL_OK);
	g_assert_cmpint(ll_tls_ssl_set_host(cs, ""), ==, LL_ERR_INVALID_ARG);
	g_assert_cmpint(ll_tls_ssl_set_host(cs, NULL), ==, LL_ERR_INVALID_ARG);
	srv_start(&s, SRV_CONN, NULL);
	{
		int fd = tcp_connect(s.port);

		SSL_set_fd(cs, fd);
		g_assert_cmpint(SSL_do_handshake(cs), ==, 1);
		SSL_shutdown(cs);
		SSL_free(cs);
		close(fd);
	}
	srv_join(&s);
	g_assert_cmpint(s.hs, ==, LL_OK);

	/* ... and a failure there has a sentence too. */
	cs = ll_tls_ctx_new_ssl(cctx);
	g_assert_cmpint(ll_tls_ssl_set_host(cs, "wrong.example"), ==, LL_OK);
	srv_start(&s, SRV_CONN, NULL);
	{
		int fd = tcp_connect(s.port);

		SSL_set_fd(cs, fd);
		g_assert_cmpint(SSL_do_handshake(cs), !=, 1);
		ll_tls_ssl_describe_failure(cs, eb, sizeof(eb));
		g_assert_nonnull(strstr(eb, "hostname mismatch"));
		g_assert_nonnull(strstr(eb, "'wrong.example'"));
		SSL_free(cs);
		close(fd);
		ERR_clear_error();
	}
	srv_join(&s);
	ll_tls_ctx_free(cctx);
}

static void test_nonblocking(void)
{
	struct ll_tls_ctx *cctx = client_ctx(cert_path, true, NULL, NULL);
	struct ll_tls_conn *c;
	uint8_t buf[32];
	size_t n = 12345;
	int fd, r, rounds = 0, sv[2];
	struct srv s;

	/* A peer that never answers: the first step must want to read. */
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
				   sv),
			==, 0);
	c = ll_tls_conn_new_client(cctx, sv[0], "localhost");
	g_assert_cmpint(ll_tls_conn_handshake(c), ==, LL_ERR_WANT_READ);
	g_assert_cmpint(ll_tls_conn_handshake(c), ==, LL_ERR_WANT_READ);
	g_assert_null(ll_tls_conn_alpn(c));
	close(sv[1]);
	g_assert_cmpint(ll_tls_conn_handshake(c), ==, LL_ERR_CLOSED);
	g_assert_nonnull(strstr(ll_tls_conn_error(c), "handshake"));
	ll_tls_conn_free(c, true);

	srv_start(&s, SRV_SHUTDOWN, NULL);
	fd = tcp_connect(s.port);
	g_assert_cmpint(fcntl(fd, F_SETFL, O_NONBLOCK), ==, 0);
	c = ll_tls_conn_new_client(cctx, fd, "localhost");
	g_assert_nonnull(c);
	/* Drive the handshake by hand as an event loop would. */
	while ((r = ll_tls_conn_handshake(c)) == LL_ERR_WANT_READ ||
	       r == LL_ERR_WANT_WRITE) {
		struct pollfd p = { .fd = fd,
				    .events = r == LL_ERR_WANT_READ
						      ? POLLIN
						      : POLLOUT };

		g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
		rounds++;
	}
	g_assert_cmpint(r, ==, LL_OK);
	/* rounds may be 0 when this thread was descheduled long enough
	 * for the whole server flight to arrive: not asserted. */
	/* Nothing sent yet by the server: WANT_READ, nread untouched. */
	g_assert_cmpint(ll_tls_conn_read(c, buf, sizeof(buf), &n), ==,
			LL_ERR_WANT_READ);
	g_assert_cmpuint(n, ==, 12345);
	g_assert_cmpuint(ll_tls_conn_pending(c), ==, 0);
	g_assert_cmpint(ll_tls_conn_write(c, "x", 1, &n), ==, LL_OK);
	g_assert_cmpuint(n, ==, 1);
	/* The server answers with close_notify: a clean LL_ERR_CLOSED. */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		r = ll_tls_conn_read(c, buf, sizeof(buf), &n);
		if (r != LL_ERR_WANT_READ)
			break;
		g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
	}
	g_assert_cmpint(r, ==, LL_ERR_CLOSED);
	g_assert_nonnull(strstr(ll_tls_conn_error(c), "closed"));
	ll_tls_conn_free(c, true);
	srv_join(&s);
	g_assert_cmpint(s.hs, ==, LL_OK);
	ll_tls_ctx_free(cctx);
}

/* Reads from a non-blocking client conn until want bytes came or it
 * reports something else than WANT_READ. */
static int pipe_peer_read(struct ll_tls_conn *c, int fd, uint8_t *buf,
			  size_t want, size_t *got)
{
	size_t n;
	int r = LL_OK;

	*got = 0;
	while (*got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		r = ll_tls_conn_read(c, buf + *got, want - *got, &n);
		if (r == LL_OK) {
			*got += n;
			continue;
		}
		if (r != LL_ERR_WANT_READ)
			break;
		g_assert_cmpint(poll(&p, 1, 5000), ==, 1);
	}
	return r;
}

/*
 * ll_tls_pipe (the relay's forwarding stream): records of several writes
 * wait in its buffer and leave in one flush; a full socket says
 * WANT_WRITE and keeps the rest; the write BIO reports no descriptor (a
 * bufferevent_openssl freed with CLOSE_ON_FREE must not close the
 * socket); reads see the peer's bytes and its close_notify.
 */
static void test_pipe(void)
{
	struct ll_tls_ctx *sctx = server_ctx(NULL);
	struct ll_tls_ctx *cctx = client_ctx(cert_path, true, NULL, NULL);
	struct ll_tls_pipe *p;
	struct ll_tls_conn *c;
	static uint8_t data[4 * 16384], back[sizeof(data)];
	uint8_t buf[64];
	size_t i, n, got;
	int sv[2], r, small = 4096;
	SSL *ss;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
				   sv),
			==, 0);
	c = ll_tls_conn_new_client(cctx, sv[0], "localhost");
	ss = ll_tls_ctx_new_ssl(sctx);
	g_assert_nonnull(c);
	g_assert_nonnull(ss);
	g_assert_cmpint(SSL_set_fd(ss, sv[1]), ==, 1);
	/* Both handshakes, in turns, as two event loops would. */
	for (i = 0; i < 1000; i++) {
		int cr = ll_tls_conn_handshake(c), sr = SSL_do_handshake(ss);

		if (cr == LL_OK && sr == 1)
			break;
		g_assert_true(cr == LL_OK || cr == LL_ERR_WANT_READ);
		g_assert_true(sr == 1 ||
			      SSL_get_error(ss, sr) == SSL_ERROR_WANT_READ);
	}
	g_assert_cmpuint(i, <, 1000);

	p = ll_tls_pipe_new(ss, sv[1]);
	g_assert_nonnull(p);
	g_assert_cmpint(BIO_get_fd(SSL_get_wbio(ss), NULL), ==, -1);
	SSL_free(ss); /* the pipe keeps its own reference */

	/* Four records, nothing on the socket until the flush. */
	for (i = 0; i < 4; i++)
		g_assert_cmpint(ll_tls_pipe_write(p, data + i * 16384, 16384),
				==, LL_OK);
	g_assert_cmpuint(ll_tls_pipe_out_len(p), >, sizeof(data));
	g_assert_cmpint(ll_tls_conn_read(c, buf, sizeof(buf), &n), ==,
			LL_ERR_WANT_READ);
	/* A small send buffer: the socket fills and keeps the rest. */
	g_assert_cmpint(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small,
				   sizeof(small)),
			==, 0);
	g_assert_cmpint(ll_tls_pipe_flush(p), ==, LL_ERR_WANT_WRITE);
	g_assert_cmpuint(ll_tls_pipe_out_len(p), >, 0);
	got = 0;
	for (i = 0; (r = ll_tls_pipe_flush(p)) == LL_ERR_WANT_WRITE; i++) {
		/* The peer takes what came (OpenSSL buffers partial
		 * records), which makes room for more. */
		int cr = ll_tls_conn_read(c, back + got, sizeof(back) - got,
					  &n);

		g_assert_true(cr == LL_OK || cr == LL_ERR_WANT_READ);
		if (cr == LL_OK)
			got += n;
		g_assert_cmpuint(i, <, 100000);
	}
	g_assert_cmpint(r, ==, LL_OK);
	g_assert_cmpuint(ll_tls_pipe_out_len(p), ==, 0);
	ll_tls_pipe_trim(p);
	g_assert_cmpint(pipe_peer_read(c, sv[0], back + got,
				       sizeof(data) - got, &n),
			==, LL_OK);
	g_assert_cmpmem(back, sizeof(back), data, sizeof(data));

	/* The other way, then the peer's clean end. */
	g_assert_cmpint(ll_tls_pipe_read(p, buf, sizeof(buf), &n), ==,
			LL_ERR_WANT_READ);
	g_assert_cmpint(ll_tls_write_all(c, "hello", 5), ==, LL_OK);
	while ((r = ll_tls_pipe_read(p, buf, sizeof(buf), &n)) ==
	       LL_ERR_WANT_READ) {
		struct pollfd pf = { .fd = sv[1], .events = POLLIN };

		g_assert_cmpint(poll(&pf, 1, 5000), ==, 1);
	}
	g_assert_cmpint(r, ==, LL_OK);
	g_assert_cmpmem(buf, n, "hello", 5);
	g_assert_false(ll_tls_pipe_got_close_notify(p));
	g_assert_cmpint(ll_tls_conn_shutdown(c), !=, LL_ERR_TLS);
	do {
		struct pollfd pf = { .fd = sv[1], .events = POLLIN };

		r = ll_tls_pipe_read(p, buf, sizeof(buf), &n);
		if (r == LL_ERR_WANT_READ)
			g_assert_cmpint(poll(&pf, 1, 5000), ==, 1);
	} while (r == LL_ERR_WANT_READ);
	g_assert_cmpint(r, ==, LL_ERR_CLOSED);
	g_assert_true(ll_tls_pipe_got_close_notify(p));

	/* Our close_notify leaves with the flush. */
	g_assert_cmpint(ll_tls_pipe_close_notify(p), ==, LL_OK);
	g_assert_cmpint(ll_tls_pipe_flush(p), ==, LL_OK);
	g_assert_cmpint(pipe_peer_read(c, sv[0], buf, 1, &n), ==,
			LL_ERR_CLOSED);
	ll_tls_pipe_free(p);
	ll_tls_pipe_free(NULL);
	ll_tls_conn_free(c, true);
	close(sv[1]);
	ll_tls_ctx_free(sctx);
	ll_tls_ctx_free(cctx);
}

static void test_ctx_errors(void)
{
	char *missing = tmp_file("nope.pem"), *junk = tmp_file("junk2.pem");
	struct ll_tls_server_opts so = { .cert_file = cert_path,
					 .key_file = key_path };
	struct ll_tls_client_opts co = { .no_system_cas = true };
	struct ll_tls_ctx *ctx;
	char eb[256];
	int err;

	g_assert_true(g_file_set_contents(junk, "not pem\n", -1, NULL));

	so.cert_file = missing;
	g_assert_null(ll_tls_server_ctx_new(&so, &err, eb, sizeof(eb)));
	g_assert_cmpint(err, ==, LL_ERR_IO);
	g_assert_nonnull(strstr(eb, "No such file"));
	so.cert_file = junk;
	g_assert_null(ll_tls_server_ctx_new(&so, &err, eb, sizeof(eb)));
	g_assert_cmpint(err, ==, LL_ERR_MALFORMED);
	so.cert_file = cert_path;
	so.key_file = key2_path;
	g_assert_null(ll_tls_server_ctx_new(&so, &err, eb, sizeof(eb)));
	g_assert_cmpint(err, ==, LL_ERR_CONFIG);
	g_assert_nonnull(strstr(eb, "does not match"));
	so.key_file = key_path;
	so.alpn = "a,,b";
	g_assert_null(ll_tls_server_ctx_new(&so, &err, eb, sizeof(eb)));
	g_assert_cmpint(err, ==, LL_ERR_INVALID_ARG);
	so.alpn = "";
	g_assert_null(ll_tls_server_ctx_new(&so, &err, eb, sizeof(eb)));
	g_assert_cmpint(err, ==, LL_ERR_INVALID_ARG);
	so.alpn = NULL;
	so.key_file = NULL;
	g_assert_null(ll_tls_server_ctx_new(&so, &err, eb, sizeof(eb)));
	g_assert_cmpint(err, ==, LL_ERR_INVALID_ARG);

	/* No anchor at all is refused rather than trusting nothing. */
	g_assert_null(ll_tls_client_ctx_new(&co, &err, eb, sizeof(eb)));
	g_assert_cmpint(err, ==, LL_ERR_INVALID_ARG);
	co.ca_file = missing;
	g_assert_null(ll_tls_client_ctx_new(&co, &err, eb, sizeof(eb)));
	g_assert_cmpint(err, ==, LL_ERR_IO);
	co.ca_file = cert_path;
	co.alpn = "x,";
	g_assert_null(ll_tls_client_ctx_new(&co, &err, eb, sizeof(eb)));
	g_assert_cmpint(err, ==, LL_ERR_INVALID_ARG);

	/* NULL options: system CAs only. */
	ctx = ll_tls_client_ctx_new(NULL, &err, eb, sizeof(eb));
	g_assert_nonnull(ctx);
	/* A client conn needs a name; a client ctx makes no server conn. */
	g_assert_null(ll_tls_conn_new_client(ctx, 0, NULL));
	g_assert_null(ll_tls_conn_new_server(ctx, 0));
	ll_tls_ctx_free(ctx);
	ll_tls_ctx_free(NULL);
	ll_tls_conn_free(NULL, true);
	g_free(missing);
	g_free(junk);
}

static void test_dial_errors(void)
{
	struct ll_tls_ctx *cctx = client_ctx(cert_path, true, NULL, NULL);
	struct ll_tls_conn *c = NULL;
	char eb[256] = "";
	uint16_t port;
	int lfd;
	gint64 t0;

	/* Nobody listening: refused. */
	lfd = listen_local(&port);
	close(lfd);
	g_assert_cmpint(ll_tls_dial(cctx, "127.0.0.1", port, 2000, &c, eb,
				    sizeof(eb)),
			==, LL_ERR_IO);
	g_assert_nonnull(strstr(eb, "Connection refused"));
	g_assert_null(c);

	/* TCP accepted by the kernel, but no TLS ever comes: timeout. */
	lfd = listen_local(&port);
	t0 = g_get_monotonic_time();
	g_assert_cmpint(ll_tls_dial(cctx, "127.0.0.1", port, 300, &c, eb,
				    sizeof(eb)),
			==, LL_ERR_TIMEOUT);
	g_assert_cmpint(g_get_monotonic_time() - t0, <, 3 * G_USEC_PER_SEC);
	g_assert_nonnull(strstr(eb, "timed out"));
	g_assert_null(c);
	close(lfd);

	/* Verification errors surface in errbuf with the peer's name. */
	{
		struct srv s;
		struct ll_tls_ctx *sys = client_ctx(NULL, false, NULL, NULL);

		srv_start(&s, SRV_CONN, NULL);
		g_assert_cmpint(ll_tls_dial(sys, "127.0.0.1", s.port, 5000, &c,
					    eb, sizeof(eb)),
				==, LL_ERR_TLS_VERIFY);
		g_assert_nonnull(strstr(eb, "127.0.0.1 port"));
		g_assert_nonnull(strstr(eb, "is --ca set?"));
		srv_join(&s);
		ll_tls_ctx_free(sys);
	}
	g_assert_cmpint(ll_tls_dial(cctx, "localhost", 1, 0, &c, eb,
				    sizeof(eb)),
			==, LL_ERR_INVALID_ARG);
	ll_tls_ctx_free(cctx);
}

static void make_identities(void)
{
	const char *const extra[] = { "DNS:relay.test", "DNS:localhost",
				      NULL };
	char eb[256] = "";
	int r;

	key_path = tmp_file("relay.key");
	cert_path = tmp_file("relay.crt");
	key2_path = tmp_file("other.key");
	cert2_path = tmp_file("other.crt");
	r = ll_tls_selfsigned_create(key_path, cert_path, "lifeline-test",
				     extra, eb, sizeof(eb));
	if (r != LL_OK)
		g_error("selfsigned: %s (%d)", eb, r);
	r = ll_tls_selfsigned_create(key2_path, cert2_path, NULL, NULL, eb,
				     sizeof(eb));
	if (r != LL_OK)
		g_error("selfsigned 2: %s (%d)", eb, r);
}

static void rm_tmpdir(void)
{
	GDir *d = g_dir_open(tmpdir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		char *p = tmp_file(name);

		g_unlink(p);
		g_free(p);
	}
	if (d != NULL)
		g_dir_close(d);
	g_rmdir(tmpdir);
}

static void test_ssl_helpers(void)
{
	unsigned long eof = ERR_PACK(ERR_LIB_SSL, 0,
				     SSL_R_UNEXPECTED_EOF_WHILE_READING);

	g_assert_true(ll_tls_err_is_unexpected_eof(eof));
	g_assert_false(ll_tls_err_is_unexpected_eof(0));
	g_assert_false(ll_tls_err_is_unexpected_eof(
		ERR_PACK(ERR_LIB_SSL, 0, SSL_R_NO_SHARED_CIPHER)));
	g_assert_cmpint(ll_tls_ssl_close_notify(NULL), ==, LL_ERR_INVALID_ARG);
}

/* ---- shedding: the pipe's own TLS 1.3 records (rec13.c, shed.c) ---- */

/* An OpenSSL client on memory BIOs, whose records the test carries to
 * and from one end of a socket pair (and may change on the way); the
 * relay's server context on the other end, with a pipe. */
struct shed_fx {
	struct ll_tls_ctx *sctx;
	SSL_CTX *cctx;
	SSL *c;
	BIO *cin, *cout;
	int sv[2];
	struct ll_tls_pipe *p;
	int key_updates_seen; /* KeyUpdates the client read */
};

/* The client's records onto the socket; flip: a byte index to change. */
static void shed_cl_out(struct shed_fx *fx, long flip)
{
	uint8_t buf[65536];
	int n;

	while ((n = BIO_read(fx->cout, buf, sizeof(buf))) > 0) {
		ssize_t w, off = 0;

		if (flip >= 0 && flip < n) {
			buf[flip] ^= 0x40;
			flip = -1;
		}
		while (off < n) {
			w = write(fx->sv[0], buf + off, (size_t)(n - off));
			if (w < 0 && errno == EAGAIN) {
				struct pollfd pf = { .fd = fx->sv[0],
						     .events = POLLOUT };

				g_assert_cmpint(poll(&pf, 1, 5000), ==, 1);
				continue;
			}
			g_assert_cmpint(w, >, 0);
			off += w;
		}
	}
}

/* What the socket has for the client into its input BIO. */
static void shed_cl_in(struct shed_fx *fx)
{
	uint8_t buf[65536];
	ssize_t n;

	while ((n = read(fx->sv[0], buf, sizeof(buf))) > 0)
		g_assert_cmpint(BIO_write(fx->cin, buf, (int)n), ==, (int)n);
}

static void shed_setup(struct shed_fx *fx, int max_version)
{
	SSL *ss;
	int i;

	memset(fx, 0, sizeof(*fx));
	fx->sctx = server_ctx(NULL);
	fx->cctx = SSL_CTX_new(TLS_client_method());
	g_assert_nonnull(fx->cctx);
	g_assert_cmpint(SSL_CTX_load_verify_locations(fx->cctx, cert_path,
						      NULL),
			==, 1);
	SSL_CTX_set_verify(fx->cctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_max_proto_version(fx->cctx, max_version);
	fx->c = SSL_new(fx->cctx);
	g_assert_nonnull(fx->c);
	g_assert_cmpint(SSL_set1_host(fx->c, "localhost"), ==, 1);
	SSL_set_msg_callback(fx->c, count_key_updates_read);
	SSL_set_msg_callback_arg(fx->c, &fx->key_updates_seen);
	fx->cin = BIO_new(BIO_s_mem());
	fx->cout = BIO_new(BIO_s_mem());
	SSL_set_bio(fx->c, fx->cin, fx->cout);
	SSL_set_connect_state(fx->c);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
				   fx->sv),
			==, 0);
	ss = ll_tls_ctx_new_ssl(fx->sctx);
	g_assert_nonnull(ss);
	g_assert_cmpint(SSL_set_fd(ss, fx->sv[1]), ==, 1);
	/* as the relay's streams read (conn.c) */
	ll_tls_ssl_read_ahead(ss, 16384);
	for (i = 0; i < 100; i++) {
		int cr = SSL_do_handshake(fx->c), sr;

		shed_cl_out(fx, -1);
		sr = SSL_do_handshake(ss);
		shed_cl_in(fx);
		if (cr == 1 && sr == 1)
			break;
		ERR_clear_error();
	}
	g_assert_cmpint(i, <, 100);
	fx->p = ll_tls_pipe_new(ss, fx->sv[1]);
	g_assert_nonnull(fx->p);
	SSL_free(ss);
}

static void shed_teardown(struct shed_fx *fx)
{
	ll_tls_pipe_free(fx->p);
	SSL_free(fx->c);
	SSL_CTX_free(fx->cctx);
	close(fx->sv[0]);
	close(fx->sv[1]);
	ll_tls_ctx_free(fx->sctx);
}

/* len bytes from the client through the pipe; 0 or the pipe's error. */
static int shed_c2p(struct shed_fx *fx, const uint8_t *data, size_t len,
		    long flip)
{
	static uint8_t got[3 * 65536];
	uint8_t small[1000];
	size_t have = 0, n;
	int r, i;

	g_assert_cmpuint(len, <=, sizeof(got));
	if (len > 0)
		g_assert_cmpint(SSL_write(fx->c, data, (int)len), ==,
				(int)len);
	shed_cl_out(fx, flip);
	for (i = 0; have < len && i < 100000; i++) {
		struct pollfd pf = { .fd = fx->sv[1], .events = POLLIN };

		/* small reads every other time: the rest of a record
		 * waits in the pipe */
		if (i % 2)
			r = ll_tls_pipe_read(fx->p, small, sizeof(small), &n);
		else
			r = ll_tls_pipe_read(fx->p, got + have,
					     sizeof(got) - have, &n);
		if (r == LL_ERR_WANT_READ) {
			g_assert_false(ll_tls_pipe_has_pending(fx->p));
			g_assert_cmpint(poll(&pf, 1, 5000), ==, 1);
			continue;
		}
		if (r != LL_OK) {
			g_assert_cmpuint(have, ==, 0);
			return r;
		}
		g_assert_cmpuint(n, >, 0);
		if (i % 2)
			memcpy(got + have, small, n);
		have += n;
	}
	g_assert_cmpuint(have, ==, len);
	g_assert_cmpmem(got, len, data, len);
	return 0;
}

/* len bytes from the pipe to the client. */
static void shed_p2c(struct shed_fx *fx, const uint8_t *data, size_t len)
{
	static uint8_t got[3 * 65536];
	size_t have = 0, n;
	int i;

	g_assert_cmpint(ll_tls_pipe_write(fx->p, data, len), ==, LL_OK);
	g_assert_cmpint(ll_tls_pipe_flush(fx->p), ==, LL_OK);
	for (i = 0; have < len && i < 1000; i++) {
		struct pollfd pf = { .fd = fx->sv[0], .events = POLLIN };

		shed_cl_in(fx);
		if (SSL_read_ex(fx->c, got + have, sizeof(got) - have, &n) ==
		    1) {
			have += n;
			continue;
		}
		g_assert_cmpint(SSL_get_error(fx->c, 0), ==,
				SSL_ERROR_WANT_READ);
		g_assert_cmpint(poll(&pf, 1, 5000), ==, 1);
	}
	g_assert_cmpuint(have, ==, len);
	g_assert_cmpmem(got, len, data, len);
}

static uint8_t shed_data[3 * 65536];

static void shed_both_ways(struct shed_fx *fx)
{
	static const size_t sizes[] = { 1, 16384, 16385, 40000, 5, 0 };
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(sizes); i++) {
		g_assert_cmpint(shed_c2p(fx, shed_data + i, sizes[i], -1), ==,
				0);
		shed_p2c(fx, shed_data + 7 * i, sizes[i]);
	}
}

static void shed_fill_data(void)
{
	size_t i;

	for (i = 0; i < sizeof(shed_data); i++)
		shed_data[i] = (uint8_t)(i * 13 + 5);
}

/* N records each way through OpenSSL, the shed, then both ways: a
 * wrong record count would fail decryption at once. */
static void test_shed_counts(void)
{
	static const int ns[] = { 0, 1, 7 };
	struct shed_fx fx;
	size_t k;
	int i;

	shed_fill_data();
	for (k = 0; k < G_N_ELEMENTS(ns); k++) {
		uint64_t before = ll_tls_pipe_shed_count();

		shed_setup(&fx, TLS1_3_VERSION);
		for (i = 0; i < ns[k]; i++) {
			g_assert_cmpint(shed_c2p(&fx, shed_data + i, 100 + i,
						 -1),
					==, 0);
			shed_p2c(&fx, shed_data + i, 1 + i);
		}
		g_assert_false(ll_tls_pipe_is_shed(fx.p));
		ll_tls_pipe_trim(fx.p);
		g_assert_true(ll_tls_pipe_is_shed(fx.p));
		g_assert_cmpuint(ll_tls_pipe_shed_count(), ==, before + 1);
		shed_both_ways(&fx);
		/* idle again: buffers and cipher contexts go, keys stay */
		ll_tls_pipe_trim(fx.p);
		ll_tls_pipe_trim(fx.p);
		shed_both_ways(&fx);
		shed_teardown(&fx);
	}
}

static void test_shed_key_update(void)
{
	static const int kinds[] = { SSL_KEY_UPDATE_REQUESTED,
				     SSL_KEY_UPDATE_NOT_REQUESTED };
	struct shed_fx fx;
	size_t k;
	int i;

	shed_fill_data();
	for (k = 0; k < G_N_ELEMENTS(kinds); k++) {
		shed_setup(&fx, TLS1_3_VERSION);
		ll_tls_pipe_trim(fx.p);
		g_assert_true(ll_tls_pipe_is_shed(fx.p));
		for (i = 0; i < 3; i++) {
			g_assert_cmpint(SSL_key_update(fx.c, kinds[k]), ==, 1);
			/* the KeyUpdate leaves ahead of the data */
			g_assert_cmpint(shed_c2p(&fx, shed_data + i, 300, -1),
					==, 0);
			shed_p2c(&fx, shed_data + 2 * i, 200);
			/* our answer came, when asked for, before our data
			 * (else the client could not read the data) */
			g_assert_cmpint(fx.key_updates_seen, ==,
					kinds[k] == SSL_KEY_UPDATE_REQUESTED
						? i + 1
						: 0);
		}
		shed_both_ways(&fx);
		shed_teardown(&fx);
	}
}

/* A KeyUpdate before the shed: OpenSSL's keys moved without our count
 * knowing how, so the pipe keeps its SSL (and works). */
static void test_shed_not_after_key_update(void)
{
	struct shed_fx fx;

	shed_fill_data();
	shed_setup(&fx, TLS1_3_VERSION);
	g_assert_cmpint(SSL_key_update(fx.c, SSL_KEY_UPDATE_NOT_REQUESTED), ==,
			1);
	g_assert_cmpint(shed_c2p(&fx, shed_data, 10, -1), ==, 0);
	ll_tls_pipe_trim(fx.p);
	g_assert_false(ll_tls_pipe_is_shed(fx.p));
	shed_both_ways(&fx);
	shed_teardown(&fx);
}

static void test_shed_tls12(void)
{
	struct shed_fx fx;

	shed_fill_data();
	shed_setup(&fx, TLS1_2_VERSION);
	g_assert_cmpint(SSL_version(fx.c), ==, TLS1_2_VERSION);
	ll_tls_pipe_trim(fx.p);
	g_assert_false(ll_tls_pipe_is_shed(fx.p));
	shed_both_ways(&fx);
	ll_tls_pipe_trim(fx.p);
	g_assert_false(ll_tls_pipe_is_shed(fx.p));
	shed_teardown(&fx);
}

/* The pipe's reads until one says something else than "later". */
static int shed_read_end(struct shed_fx *fx)
{
	uint8_t buf[16];
	size_t n;
	int r, i;

	for (i = 0; i < 100; i++) {
		struct pollfd pf = { .fd = fx->sv[1], .events = POLLIN };

		r = ll_tls_pipe_read(fx->p, buf, sizeof(buf), &n);
		if (r != LL_ERR_WANT_READ)
			return r;
		g_assert_cmpint(poll(&pf, 1, 5000), ==, 1);
	}
	return LL_ERR_TIMEOUT;
}

static void test_shed_close_notify(void)
{
	struct shed_fx fx;
	uint8_t buf[16];
	size_t n;

	shed_fill_data();
	/* ours: the client reads a clean end */
	shed_setup(&fx, TLS1_3_VERSION);
	ll_tls_pipe_trim(fx.p);
	g_assert_true(ll_tls_pipe_is_shed(fx.p));
	shed_p2c(&fx, shed_data, 10);
	g_assert_cmpint(ll_tls_pipe_close_notify(fx.p), ==, LL_OK);
	g_assert_cmpint(ll_tls_pipe_flush(fx.p), ==, LL_OK);
	shed_cl_in(&fx);
	g_assert_cmpint(SSL_read_ex(fx.c, buf, sizeof(buf), &n), ==, 0);
	g_assert_cmpint(SSL_get_error(fx.c, 0), ==, SSL_ERROR_ZERO_RETURN);
	g_assert_cmpint(ll_tls_pipe_write(fx.p, "x", 1), ==, LL_ERR_TLS);
	shed_teardown(&fx);

	/* the peer's */
	shed_setup(&fx, TLS1_3_VERSION);
	ll_tls_pipe_trim(fx.p);
	g_assert_cmpint(shed_c2p(&fx, shed_data, 10, -1), ==, 0);
	g_assert_false(ll_tls_pipe_got_close_notify(fx.p));
	SSL_shutdown(fx.c);
	shed_cl_out(&fx, -1);
	g_assert_cmpint(shed_read_end(&fx), ==, LL_ERR_CLOSED);
	g_assert_true(ll_tls_pipe_got_close_notify(fx.p));
	g_assert_cmpint(ll_tls_pipe_read(fx.p, buf, sizeof(buf), &n), ==,
			LL_ERR_CLOSED);
	g_assert_false(ll_tls_pipe_has_pending(fx.p));
	shed_teardown(&fx);

	/* a TCP end without close_notify, as OpenSSL's pipe says it */
	shed_setup(&fx, TLS1_3_VERSION);
	ll_tls_pipe_trim(fx.p);
	shutdown(fx.sv[0], SHUT_WR);
	g_assert_cmpint(shed_read_end(&fx), ==, LL_ERR_CLOSED);
	g_assert_false(ll_tls_pipe_got_close_notify(fx.p));
	shed_teardown(&fx);
}

/* A changed byte anywhere in a record: an error, nothing delivered. */
static void test_shed_tamper(void)
{
	/* type, version, ciphertext, inner type, tag (a changed length
	 * would only wait for more) */
	static const long at[] = { 0, 2, 5, 9, 5 + 5, 5 + 5 + 1 + 15 };
	struct shed_fx fx;
	size_t k;

	shed_fill_data();
	for (k = 0; k < G_N_ELEMENTS(at); k++) {
		shed_setup(&fx, TLS1_3_VERSION);
		ll_tls_pipe_trim(fx.p);
		g_assert_true(ll_tls_pipe_is_shed(fx.p));
		g_assert_cmpint(shed_c2p(&fx, shed_data, 5, at[k]), ==,
				LL_ERR_TLS);
		g_assert_cmpint(shed_read_end(&fx), ==, LL_ERR_TLS);
		shed_teardown(&fx);
	}
}

/* Sealed with the right keys, but wrong inside; each with a fresh pair,
 * as an error is for good. */
static void rec13_bad_inner(uint16_t suite, size_t hl, const uint8_t *s1,
			    const uint8_t *s2)
{
	static const uint8_t bad_alert[2] = { 2, 40 }, ccs[1] = { 1 };
	static const uint8_t split_ku[4] = { 24, 0, 0, 1 };
	static uint8_t rec[LL_REC13_MAX_RECORD + 64];
	struct ll_rec13 *a, *b;
	uint8_t *plain;
	size_t len, i;

	for (i = 0; i < 6; i++) {
		int want = LL_ERR_TLS;

		a = ll_rec13_new(suite, s1, s2, hl, 0, 0);
		b = ll_rec13_new(suite, s2, s1, hl, 0, 0);
		switch (i) {
		case 0: /* an unknown inner type */
			ll_rec13_seal(a, 99, "x", 1, rec);
			len = 1;
			break;
		case 1: /* a CCS after the handshake */
			ll_rec13_seal(a, 20, ccs, 1, rec);
			len = 1;
			break;
		case 2: /* an alert other than close_notify */
			ll_rec13_seal(a, LL_REC13_ALERT, bad_alert, 2, rec);
			len = 2;
			break;
		case 3: /* all zero inside: no content type */
			ll_rec13_seal(a, 0, NULL, 0, rec);
			len = 0;
			break;
		case 4: /* a KeyUpdate in two records */
			ll_rec13_seal(a, LL_REC13_HANDSHAKE, split_ku, 4, rec);
			len = 4;
			break;
		default: /* close_notify, then nothing more */
			ll_rec13_seal_close_notify(a, rec);
			len = 2;
			want = LL_ERR_CLOSED;
			break;
		}
		g_assert_cmpint(ll_rec13_open(b, rec, LL_REC13_SEALED_LEN(len),
					      &plain, &len),
				==, want);
		g_assert_null(plain);
		g_assert_cmpint(ll_rec13_seal(a, LL_REC13_APPDATA, "ok", 2,
					      rec),
				==, LL_OK);
		g_assert_cmpint(ll_rec13_open(b, rec, LL_REC13_SEALED_LEN(2),
					      &plain, &len),
				==, want);
		g_assert_cmpint(ll_rec13_got_close_notify(b), ==,
				want == LL_ERR_CLOSED);
		ll_rec13_free(a);
		ll_rec13_free(b);
	}
}

/* Two record layers facing each other, for every suite: what one
 * seals the other opens; and what a hostile peer could send instead. */
static void test_rec13_hostile(void)
{
	static const uint16_t suites[] = { LL_REC13_AES128, LL_REC13_AES256,
					   LL_REC13_CHACHA };
	static uint8_t rec[LL_REC13_MAX_RECORD + 64];
	uint8_t s1[48], s2[48], *plain;
	size_t k, len, rl, i;

	shed_fill_data();
	for (i = 0; i < sizeof(s1); i++) {
		s1[i] = (uint8_t)i;
		s2[i] = (uint8_t)(200 - i);
	}
	for (k = 0; k < G_N_ELEMENTS(suites); k++) {
		size_t hl = suites[k] == LL_REC13_AES256 ? 48 : 32;
		struct ll_rec13 *a = ll_rec13_new(suites[k], s1, s2, hl, 0, 5);
		struct ll_rec13 *b = ll_rec13_new(suites[k], s2, s1, hl, 5, 0);

		g_assert_nonnull(a);
		g_assert_nonnull(b);
		g_assert_null(ll_rec13_new(suites[k], s1, s2, hl - 1, 0, 0));
		/* round trips of 0, 1 and 2^14 bytes, and a KeyUpdate */
		g_assert_cmpint(ll_rec13_seal(a, LL_REC13_APPDATA, shed_data,
					      LL_REC13_MAX_PLAIN + 1, rec),
				==, LL_ERR_TOO_LARGE);
		for (i = 0; i < 3; i++) {
			size_t n = i == 0 ? 0 : i == 1 ? 1 : 16384;

			g_assert_cmpint(ll_rec13_seal(a, LL_REC13_APPDATA,
						      shed_data, n, rec),
					==, LL_OK);
			g_assert_cmpint(
				ll_rec13_record_len(rec,
						    LL_REC13_SEALED_LEN(n) - 1,
						    &rl),
				==, LL_ERR_TRUNCATED);
			g_assert_cmpint(ll_rec13_record_len(
						rec, LL_REC13_SEALED_LEN(n),
						&rl),
					==, LL_OK);
			g_assert_cmpint(ll_rec13_open(b, rec, rl, &plain,
						      &len),
					==, LL_OK);
			g_assert_cmpmem(plain, len, shed_data, n);
		}
		g_assert_cmpint(ll_rec13_seal_key_update(a, rec), ==, LL_OK);
		g_assert_cmpint(ll_rec13_open(b, rec, LL_REC13_SEALED_LEN(5),
					      &plain, &len),
				==, LL_OK);
		g_assert_cmpuint(len, ==, 0);
		g_assert_false(ll_rec13_update_due(b));
		g_assert_cmpint(ll_rec13_seal(a, LL_REC13_APPDATA, "hi", 2,
					      rec),
				==, LL_OK);
		g_assert_cmpint(ll_rec13_open(b, rec, LL_REC13_SEALED_LEN(2),
					      &plain, &len),
				==, LL_OK);
		g_assert_cmpmem(plain, len, "hi", 2);
		ll_rec13_trim(a);
		ll_rec13_trim(a);
		ll_rec13_trim(b);
		ll_rec13_trim(b);

		/* a header no TLS 1.3 peer sends */
		memcpy(rec, "\x17\x03\x03\x41\x01", 5); /* 2^14 + 257 */
		g_assert_cmpint(ll_rec13_record_len(rec, 5, &rl), ==,
				LL_ERR_TLS);
		memcpy(rec, "\x15\x03\x03\x00\x02", 5); /* plaintext alert */
		g_assert_cmpint(ll_rec13_record_len(rec, 5, &rl), ==,
				LL_ERR_TLS);
		memcpy(rec, "\x14\x03\x03\x00\x01", 5); /* plaintext CCS */
		g_assert_cmpint(ll_rec13_record_len(rec, 5, &rl), ==,
				LL_ERR_TLS);
		memcpy(rec, "\x17\x03\x03\x00\x10",
		       5); /* shorter than a tag */
		g_assert_cmpint(ll_rec13_record_len(rec, 5, &rl), ==,
				LL_ERR_TLS);
		ll_rec13_free(a);
		ll_rec13_free(b);

		rec13_bad_inner(suites[k], hl, s1, s2);
	}
	ll_rec13_free(NULL);
}

int main(int argc, char **argv)
{
	const char *base = g_getenv("LL_TEST_TMPDIR");
	char *tmpl;
	int r;

	g_test_init(&argc, &argv, NULL);
	/* As every Lifeline program does (see ll_tls.h). */
	signal(SIGPIPE, SIG_IGN);
	umask(022);
	tmpl = g_build_filename(base != NULL ? base : g_get_tmp_dir(),
				"test_tls-XXXXXX", NULL);
	tmpdir = g_mkdtemp(tmpl);
	g_assert_nonnull(tmpdir);
	make_identities();

	g_test_add_func("/tls/selfsigned/files", test_selfsigned_files);
	g_test_add_func("/tls/cert/fingerprint", test_fingerprint);
	g_test_add_func("/tls/cert/spki_pin", test_spki_pin);
	g_test_add_func("/tls/handshake/dial_roundtrip", test_dial_roundtrip);
	g_test_add_func("/tls/verify/names", test_verify_names);
	g_test_add_func("/tls/verify/untrusted", test_verify_untrusted);
	g_test_add_func("/tls/verify/pin", test_pin);
	g_test_add_func("/tls/verify/pin_malformed", test_pin_malformed);
	g_test_add_func("/tls/alpn", test_alpn);
	g_test_add_func("/tls/protocol_versions", test_protocol_versions);
	g_test_add_func("/tls/new_ssl", test_new_ssl);
	g_test_add_func("/tls/ssl_helpers", test_ssl_helpers);
	g_test_add_func("/tls/pipe", test_pipe);
	g_test_add_func("/tls/nonblocking", test_nonblocking);
	g_test_add_func("/tls/read_ahead", test_read_ahead);
	g_test_add_func("/tls/gather", test_gather);
	g_test_add_func("/tls/ctx_errors", test_ctx_errors);
	g_test_add_func("/tls/dial_errors", test_dial_errors);
	g_test_add_func("/tls/shed/counts", test_shed_counts);
	g_test_add_func("/tls/shed/key_update", test_shed_key_update);
	g_test_add_func("/tls/shed/not_after_key_update",
			test_shed_not_after_key_update);
	g_test_add_func("/tls/shed/tls12", test_shed_tls12);
	g_test_add_func("/tls/shed/close_notify", test_shed_close_notify);
	g_test_add_func("/tls/shed/tamper", test_shed_tamper);
	g_test_add_func("/tls/rec13/hostile", test_rec13_hostile);
	r = g_test_run();

	rm_tmpdir();
	g_free(key_path);
	g_free(cert_path);
	g_free(key2_path);
	g_free(cert2_path);
	g_free(tmpl);
	return r;
}
