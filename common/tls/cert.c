/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Self-signed certificates for a fresh relay, fingerprints and SPKI pins.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ll_tls.h"
#include "ll_util.h"
#include "tls_internal.h"

/* Below the 398 days browsers accept for a server certificate. */
#define LL_CERT_DAYS 397
/* Tolerate a client clock a little behind ours. */
#define LL_CERT_BACKDATE_S 300
#define LL_CERT_MAX_SANS 64

int ll_tls_x509_spki_hash(X509 *x, uint8_t out[32])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int len, r = LL_ERR_CRYPTO;

	if (x == NULL)
		return LL_ERR_INVALID_ARG;
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (len <= 0)
		goto out;
	if (EVP_Digest(der, (size_t)len, out, &mdlen, EVP_sha256(), NULL) !=
		    1 ||
	    mdlen != 32)
		goto out;
	r = LL_OK;
out:
	OPENSSL_free(der);
	return r;
}

int ll_tls_x509_spki_pin(X509 *x, char *out, size_t outlen)
{
	uint8_t h[32];
	char b64[48];
	int r;

	if (out == NULL || outlen <= LL_TLS_SPKI_PIN_LEN)
		return LL_ERR_INVALID_ARG;
	if ((r = ll_tls_x509_spki_hash(x, h)) != LL_OK)
		return r;
	EVP_EncodeBlock((unsigned char *)b64, h, sizeof(h));
	snprintf(out, outlen, "sha256//%s", b64);
	return LL_OK;
}

/* The first certificate of a PEM file. */
static int read_cert(const char *path, X509 **out)
{
	BIO *bio;
	X509 *x;

	if (path == NULL)
		return LL_ERR_INVALID_ARG;
	if ((bio = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		return LL_ERR_IO;
	}
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (x == NULL)
		return LL_ERR_MALFORMED;
	*out = x;
	return LL_OK;
}

int ll_tls_x509_fingerprint(X509 *x, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (x == NULL || out == NULL || outlen < 96)
		return LL_ERR_INVALID_ARG;
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32) {
		ERR_clear_error();
		return LL_ERR_CRYPTO;
	}
	for (i = 0; i < mdlen; i++) {
		out[3 * i] = hex[md[i] >> 4];
		out[3 * i + 1] = hex[md[i] & 0xf];
		out[3 * i + 2] = i + 1 < mdlen ? ':' : '\0';
	}
	return LL_OK;
}

int ll_tls_cert_fingerprint(const char *cert_path, char *out, size_t outlen)
{
	X509 *x = NULL;
	int r;

	if (out == NULL || outlen < 96)
		return LL_ERR_INVALID_ARG;
	if ((r = read_cert(cert_path, &x)) != LL_OK)
		return r;
	r = ll_tls_x509_fingerprint(x, out, outlen);
	X509_free(x);
	return r;
}

int ll_tls_cert_spki_pin(const char *cert_path, char *out, size_t outlen)
{
	X509 *x = NULL;
	int r;

	if (out == NULL || outlen <= LL_TLS_SPKI_PIN_LEN)
		return LL_ERR_INVALID_ARG;
	if ((r = read_cert(cert_path, &x)) != LL_OK)
		return r;
	r = ll_tls_x509_spki_pin(x, out, outlen);
	X509_free(x);
	ERR_clear_error();
	return r;
}

/* A DNS name as we accept it in a SAN: LDH labels, dots, one '*.' lead. */
static bool dns_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	if (strncmp(s, "*.", 2) == 0 && n > 2)
		s += 2;
	for (i = 0; s[i] != '\0'; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

static int san_push(GENERAL_NAMES *gens, const char *spec)
{
	GENERAL_NAME *gn = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	ASN1_OCTET_STRING *ip = NULL;

	if (strncmp(spec, "DNS:", 4) == 0) {
		if (!dns_name_ok(spec + 4))
			return LL_ERR_INVALID_ARG;
		if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
		    ASN1_STRING_set(ia5, spec + 4, -1) != 1 ||
		    (gn = GENERAL_NAME_new()) == NULL) {
			ASN1_IA5STRING_free(ia5);
			return LL_ERR_NOMEM;
		}
		GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	} else if (strncmp(spec, "IP:", 3) == 0) {
		if ((ip = a2i_IPADDRESS(spec + 3)) == NULL)
			return LL_ERR_INVALID_ARG;
		if ((gn = GENERAL_NAME_new()) == NULL) {
			ASN1_OCTET_STRING_free(ip);
			return LL_ERR_NOMEM;
		}
		GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
	} else {
		return LL_ERR_INVALID_ARG;
	}
	/* Skip exact duplicates of what is already listed. */
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(gens, i), gn) ==
		    0) {
			GENERAL_NAME_free(gn);
			return LL_OK;
		}
	}
	if (sk_GENERAL_NAME_push(gens, gn) <= 0) {
		GENERAL_NAME_free(gn);
		return LL_ERR_NOMEM;
	}
	return LL_OK;
}

static int add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	int ok;

	if (ext == NULL)
		return LL_ERR_CRYPTO;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? LL_OK : LL_ERR_CRYPTO;
}

static X509 *make_cert(EVP_PKEY *pkey, const char *cn,
		       const char *const *extra_sans, int *err, char *errbuf,
		       size_t errlen)
{
	static const char *const base_sans[] = {
		"DNS:localhost",
		"IP:127.0.0.1",
		"IP:::1",
	};
	unsigned char serial[20];
	GENERAL_NAMES *gens = NULL;
	X509_NAME *name = NULL;
	BIGNUM *bn = NULL;
	X509 *x = NULL;
	X509V3_CTX v3;
	size_t i;
	int r = LL_ERR_CRYPTO;

	if ((x = X509_new()) == NULL || (gens = GENERAL_NAMES_new()) == NULL ||
	    (name = X509_NAME_new()) == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	/* 159 random bits, positive (RFC 5280 4.1.2.2, CA/B 7.1). */
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
				       (const unsigned char *)cn, -1, -1,
				       0) != 1 ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -LL_CERT_BACKDATE_S) ==
		    NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), LL_CERT_DAYS,
			     -LL_CERT_BACKDATE_S, NULL) == NULL ||
	    X509_set_pubkey(x, pkey) != 1)
		goto out;

	for (i = 0; i < LL_ARRAY_SIZE(base_sans); i++)
		if ((r = san_push(gens, base_sans[i])) != LL_OK)
			goto out;
	for (i = 0; extra_sans != NULL && extra_sans[i] != NULL; i++) {
		if (i >= LL_CERT_MAX_SANS) {
			ll_tls_errf(errbuf, errlen,
				    "too many names for the "
				    "certificate (at most %d)",
				    LL_CERT_MAX_SANS);
			r = LL_ERR_TOO_LARGE;
			goto out;
		}
		if ((r = san_push(gens, extra_sans[i])) != LL_OK) {
			if (r == LL_ERR_INVALID_ARG)
				ll_tls_errf(errbuf, errlen,
					    "bad certificate name '%s' (want "
					    "DNS:name or IP:address)",
					    extra_sans[i]);
			goto out;
		}
	}
	r = LL_ERR_CRYPTO;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
			      X509V3_ADD_DEFAULT) != 1)
		goto out;

	/*
	 * An end-entity certificate (browsers refuse a CA certificate as a
	 * server's); clients trust it directly as an anchor (--ca).
	 */
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(x, &v3, NID_key_usage, "critical,digitalSignature") ||
	    add_ext(x, &v3, NID_ext_key_usage, "serverAuth") ||
	    add_ext(x, &v3, NID_subject_key_identifier, "hash") ||
	    add_ext(x, &v3, NID_authority_key_identifier, "keyid:always"))
		goto out;
	if (X509_sign(x, pkey, EVP_sha256()) <= 0)
		goto out;
	r = LL_OK;
out:
	BN_free(bn);
	X509_NAME_free(name);
	GENERAL_NAMES_free(gens);
	if (r != LL_OK) {
		if (errbuf != NULL && errlen > 0 && errbuf[0] == '\0')
			ll_tls_errf(errbuf, errlen,
				    "cannot build the certificate: %s",
				    ll_strerror(r));
		X509_free(x);
		*err = r;
		return NULL;
	}
	return x;
}

/* Create path exclusively with mode; a FILE on success. */
static int create_excl(const char *path, mode_t mode, FILE **out, char *errbuf,
		       size_t errlen)
{
	int fd, saved;
	FILE *f;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  mode);
	if (fd < 0) {
		saved = errno;
		ll_tls_errf(errbuf, errlen, "cannot create '%s': %s", path,
			    strerror(saved));
		return saved == EEXIST ? LL_ERR_CONFLICT : LL_ERR_IO;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(path);
		ll_tls_errf(errbuf, errlen, "out of memory");
		return LL_ERR_NOMEM;
	}
	*out = f;
	return LL_OK;
}

/* Flush to disk and close; the file must be complete after a crash. */
static int finish_file(FILE *f, const char *path, char *errbuf, size_t errlen)
{
	int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
	int saved = errno;

	if (fclose(f) != 0 && !bad) {
		bad = 1;
		saved = errno;
	}
	if (bad) {
		ll_tls_errf(errbuf, errlen, "cannot write '%s': %s", path,
			    strerror(saved));
		return LL_ERR_IO;
	}
	return LL_OK;
}

int ll_tls_selfsigned_create(const char *key_path, const char *cert_path,
			     const char *common_name,
			     const char *const *extra_sans, char *errbuf,
			     size_t errlen)
{
	FILE *kf = NULL, *cf = NULL;
	bool key_made = false, cert_made = false;
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	int r = LL_ERR_CRYPTO;

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (key_path == NULL || cert_path == NULL ||
	    strcmp(key_path, cert_path) == 0) {
		ll_tls_errf(errbuf, errlen,
			    "need two distinct paths for key and certificate");
		return LL_ERR_INVALID_ARG;
	}
	if (common_name == NULL || *common_name == '\0')
		common_name = "localhost";
	if (strlen(common_name) > 64) {
		ll_tls_errf(errbuf, errlen,
			    "common name longer than 64 bytes");
		return LL_ERR_INVALID_ARG;
	}
	ERR_clear_error();
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL) {
		ll_tls_errf(errbuf, errlen, "cannot generate a P-256 key");
		goto out;
	}
	if ((x = make_cert(pkey, common_name, extra_sans, &r, errbuf,
			   errlen)) == NULL)
		goto out;

	/* Both files are created exclusively: nothing is overwritten. */
	if ((r = create_excl(key_path, 0600, &kf, errbuf, errlen)) != LL_OK)
		goto out;
	key_made = true;
	if ((r = create_excl(cert_path, 0644, &cf, errbuf, errlen)) != LL_OK)
		goto out;
	cert_made = true;

	if (PEM_write_PrivateKey(kf, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_X509(cf, x) != 1) {
		ll_tls_errf(errbuf, errlen,
			    "cannot write the key or "
			    "certificate: %s",
			    strerror(errno));
		r = LL_ERR_IO;
		goto out;
	}
	r = finish_file(kf, key_path, errbuf, errlen);
	kf = NULL;
	if (r != LL_OK)
		goto out;
	r = finish_file(cf, cert_path, errbuf, errlen);
	cf = NULL;
out:
	if (kf != NULL)
		fclose(kf);
	if (cf != NULL)
		fclose(cf);
	if (r != LL_OK) {
		if (key_made)
			unlink(key_path);
		if (cert_made)
			unlink(cert_path);
	}
	X509_free(x);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return r;
}

/*
 * What an applet configuration needs of the relay's certificate file
 * (ll_tls.h): the anchor to carry and the names it is valid for.
 */
int ll_tls_cert_anchor_der(const char *cert_path, uint8_t **der, size_t *len)
{
	STACK_OF(X509_INFO) *infos = NULL;
	X509 *last = NULL;
	EVP_PKEY *key;
	unsigned char *out = NULL;
	BIO *bio;
	int n, r = LL_ERR_NOT_FOUND, i;

	if (cert_path == NULL || der == NULL || len == NULL)
		return LL_ERR_INVALID_ARG;
	if ((bio = BIO_new_file(cert_path, "r")) == NULL) {
		ERR_clear_error();
		return LL_ERR_IO;
	}
	infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (infos == NULL) {
		r = LL_ERR_MALFORMED;
		goto out;
	}
	for (i = 0; i < sk_X509_INFO_num(infos); i++)
		if (sk_X509_INFO_value(infos, i)->x509 != NULL)
			last = sk_X509_INFO_value(infos, i)->x509;
	if (last == NULL) {
		r = LL_ERR_MALFORMED;
		goto out;
	}
	/* A root: issued by itself and signed with its own key (a relay's
	 * self-signed certificate is one, whatever its key usage says).  A
	 * chain that stops below its root is anchored in the system's CAs. */
	key = X509_get0_pubkey(last);
	if (X509_NAME_cmp(X509_get_subject_name(last),
			  X509_get_issuer_name(last)) != 0 ||
	    key == NULL || X509_verify(last, key) != 1)
		goto out;
	if ((n = i2d_X509(last, &out)) <= 0) {
		r = LL_ERR_CRYPTO;
		goto out;
	}
	*der = malloc((size_t)n);
	if (*der == NULL) {
		r = LL_ERR_NOMEM;
		goto out;
	}
	memcpy(*der, out, (size_t)n);
	*len = (size_t)n;
	r = LL_OK;
out:
	OPENSSL_free(out);
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	ERR_clear_error();
	return r;
}

int ll_tls_cert_first_dns(const char *cert_path, char *out, size_t outlen)
{
	GENERAL_NAMES *sans;
	X509 *x = NULL;
	int i, r;

	if (out == NULL || outlen == 0)
		return LL_ERR_INVALID_ARG;
	if ((r = read_cert(cert_path, &x)) != LL_OK)
		return r;
	r = LL_ERR_NOT_FOUND;
	sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		const char *s;
		int n;

		if (g->type != GEN_DNS)
			continue;
		s = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
		n = ASN1_STRING_length(g->d.dNSName);
		/* A wildcard names no one host to connect to. */
		if (n <= 0 || (size_t)n >= outlen || s[0] == '*' ||
		    memchr(s, '\0', (size_t)n) != NULL)
			continue;
		memcpy(out, s, (size_t)n);
		out[n] = '\0';
		r = LL_OK;
		break;
	}
	GENERAL_NAMES_free(sans);
	X509_free(x);
	ERR_clear_error();
	return r;
}

int ll_tls_cert_check_host(const char *cert_path, const char *host)
{
	X509 *x = NULL;
	int r, ok;

	if (host == NULL)
		return LL_ERR_INVALID_ARG;
	if ((r = read_cert(cert_path, &x)) != LL_OK)
		return r;
	/* As the clients check it: SANs only, IP literals as addresses. */
	ok = X509_check_ip_asc(x, host, 0);
	if (ok != 1)
		ok = X509_check_host(
			x, host, strlen(host),
			X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
				X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
			NULL);
	X509_free(x);
	ERR_clear_error();
	return ok == 1 ? LL_OK : LL_ERR_TLS_VERIFY;
}
