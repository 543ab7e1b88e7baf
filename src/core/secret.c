/*
 * secret.c - integrations' secrets at rest.
 *
 * AES-256-GCM through OpenSSL's EVP interface: libcurl is built against
 * OpenSSL here (libcurl4-openssl-dev), so libcrypto is already in every
 * process that loads jetl and costs no new runtime dependency, and GCM
 * authenticates as well as encrypts: a wrong key, an altered envelope or one
 * copied onto another row fails to open instead of yielding a garbled token
 * that would be sent to Jira. (libsodium's secretbox would do as well but
 * would add a library the rest of jetl does not need.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "jetl/common.h"
#include "secret.h"

#define NONCE_BYTES 12
#define TAG_BYTES 16
#define PREFIX "enc:v1:"

void jl_secret_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

void jl_secret_free(char *s)
{
	if (s) {
		jl_secret_wipe(s, strlen(s));
		free(s);
	}
}

static void say(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void key_id(jl_secret_key *k)
{
	static const char label[] = "jetl secret key id";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	/* A hash of the key, never the key: names it in errors and envelopes. */
	if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(c, label, sizeof(label) - 1) &&
	    EVP_DigestUpdate(c, k->key, sizeof(k->key)) && EVP_DigestFinal_ex(c, md, &n) && n >= 4)
		snprintf(k->id, sizeof(k->id), "%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
	else
		snprintf(k->id, sizeof(k->id), "00000000");
	EVP_MD_CTX_free(c);
	jl_secret_wipe(md, sizeof(md));
}

int jl_secret_key_parse(jl_secret_key *k, const char *text, const char *source, char *err, size_t errlen)
{
	size_t n;
	char msg[300];

	memset(k, 0, sizeof(*k));
	if (!text)
		text = "";
	n = strlen(text);
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	if (n == 2 * JL_SECRET_KEY_BYTES) {
		size_t i;

		for (i = 0; i < JL_SECRET_KEY_BYTES; i++) {
			int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);

			if (hi < 0 || lo < 0)
				break;
			k->key[i] = (unsigned char)(hi << 4 | lo);
		}
		if (i == JL_SECRET_KEY_BYTES) {
			key_id(k);
			return JETL_OK;
		}
	} else if (n == 44) {
		unsigned char out[48];
		int m = EVP_DecodeBlock(out, (const unsigned char *)text, 44);

		/* 44 base64 characters decode to 33 bytes of which the last is
		 * the padding's zero: 32 bytes exactly when it ends in one '=' */
		if (m == 33 && text[43] == '=' && text[42] != '=') {
			memcpy(k->key, out, JL_SECRET_KEY_BYTES);
			jl_secret_wipe(out, sizeof(out));
			key_id(k);
			return JETL_OK;
		}
		jl_secret_wipe(out, sizeof(out));
	}
	memset(k, 0, sizeof(*k));
	snprintf(msg, sizeof(msg), "secret key from %s is not 32 bytes written as 64 hex digits or base64 "
		 "(make one with: openssl rand -hex 32)", source ? source : "the caller");
	say(err, errlen, msg);
	return JETL_ECONFIG;
}

int jl_secret_key_load(jl_secret_key *k, char *err, size_t errlen)
{
	const char *v = getenv("JETL_SECRET_KEY"), *path = getenv("JETL_SECRET_KEY_FILE");
	char buf[256], msg[600];
	size_t n;
	FILE *f;
	int rc;

	memset(k, 0, sizeof(*k));
	if (v && *v)
		return jl_secret_key_parse(k, v, "JETL_SECRET_KEY", err, errlen);
	if (!path || !*path) {
		say(err, errlen, "no secret key: set JETL_SECRET_KEY or JETL_SECRET_KEY_FILE "
		    "(make one with: openssl rand -hex 32)");
		return JETL_ENOENT;
	}
	f = fopen(path, "r");
	if (!f) {
		snprintf(msg, sizeof(msg), "cannot read the secret key file %s (JETL_SECRET_KEY_FILE): %s",
			 path, strerror(errno));
		say(err, errlen, msg);
		return JETL_EIO;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	snprintf(msg, sizeof(msg), "the key file %s", path);
	rc = jl_secret_key_parse(k, buf, msg, err, errlen);
	jl_secret_wipe(buf, sizeof(buf));
	return rc;
}

int jl_secret_is_ref(const char *text)
{
	return text && ((strncmp(text, "env:", 4) == 0 && text[4]) || strncmp(text, "file:/", 6) == 0);
}

char *jl_secret_seal(const jl_secret_key *k, const char *aad, const char *plain)
{
	size_t n = strlen(plain), blen = NONCE_BYTES + n + TAG_BYTES;
	unsigned char *bin = malloc(blen);
	char *out = NULL;
	EVP_CIPHER_CTX *c = NULL;
	int len = 0, ok = 0;

	if (!bin)
		return NULL;
	c = EVP_CIPHER_CTX_new();
	if (c && RAND_bytes(bin, NONCE_BYTES) == 1 &&
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
	    EVP_EncryptInit_ex(c, NULL, NULL, k->key, bin) == 1 &&
	    EVP_EncryptUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
	    EVP_EncryptUpdate(c, bin + NONCE_BYTES, &len, (const unsigned char *)plain, (int)n) == 1 &&
	    EVP_EncryptFinal_ex(c, bin + NONCE_BYTES + len, &len) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, bin + NONCE_BYTES + n) == 1)
		ok = 1;
	EVP_CIPHER_CTX_free(c);
	if (ok) {
		size_t plen = strlen(PREFIX) + 9;

		out = malloc(plen + (blen + 2) / 3 * 4 + 1);
		if (out) {
			snprintf(out, plen + 1, PREFIX "%s:", k->id);
			EVP_EncodeBlock((unsigned char *)out + plen, bin, (int)blen);
		}
	}
	jl_secret_wipe(bin, blen);
	free(bin);
	return out;
}

void jl_secret_sealed_key_id(const char *sealed, char out[9])
{
	out[0] = '\0';
	if (sealed && strncmp(sealed, PREFIX, strlen(PREFIX)) == 0 && strlen(sealed) > strlen(PREFIX) + 8 &&
	    sealed[strlen(PREFIX) + 8] == ':') {
		memcpy(out, sealed + strlen(PREFIX), 8);
		out[8] = '\0';
	}
}

int jl_secret_open(const jl_secret_key *k, const char *aad, const char *sealed, char **plain,
	char *err, size_t errlen)
{
	char kid[9], msg[200];
	const char *b64;
	size_t blen, n;
	unsigned char *bin = NULL;
	char *out = NULL;
	EVP_CIPHER_CTX *c = NULL;
	int len = 0, dlen, ok = 0;

	*plain = NULL;
	jl_secret_sealed_key_id(sealed, kid);
	if (!kid[0]) {
		say(err, errlen, "the stored secret is not an enc:v1 envelope");
		return JETL_EDATA;
	}
	if (strcmp(kid, k->id) != 0) {
		snprintf(msg, sizeof(msg), "the secret was sealed with key %s but the key given is %s "
			 "(wrong JETL_SECRET_KEY, or a rotation not run)", kid, k->id);
		say(err, errlen, msg);
		return JETL_ECONFIG;
	}
	b64 = sealed + strlen(PREFIX) + 9;
	n = strlen(b64);
	if (n % 4 || n < 4) {
		say(err, errlen, "the stored secret is truncated");
		return JETL_EDATA;
	}
	bin = malloc(n / 4 * 3 + 1);
	if (!bin)
		return JETL_ENOMEM;
	dlen = EVP_DecodeBlock(bin, (const unsigned char *)b64, (int)n);
	/* EVP_DecodeBlock counts the padding's zero bytes */
	if (dlen > 0 && b64[n - 1] == '=')
		dlen--;
	if (dlen > 0 && b64[n - 2] == '=')
		dlen--;
	if (dlen < NONCE_BYTES + TAG_BYTES) {
		free(bin);
		say(err, errlen, "the stored secret is truncated");
		return JETL_EDATA;
	}
	blen = (size_t)dlen - NONCE_BYTES - TAG_BYTES;
	out = malloc(blen + 1);
	c = EVP_CIPHER_CTX_new();
	if (out && c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
	    EVP_DecryptInit_ex(c, NULL, NULL, k->key, bin) == 1 &&
	    EVP_DecryptUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
	    EVP_DecryptUpdate(c, (unsigned char *)out, &len, bin + NONCE_BYTES, (int)blen) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, bin + NONCE_BYTES + blen) == 1 &&
	    EVP_DecryptFinal_ex(c, (unsigned char *)out + len, &len) == 1)
		ok = 1;
	EVP_CIPHER_CTX_free(c);
	jl_secret_wipe(bin, (size_t)dlen);
	free(bin);
	if (!out)
		return JETL_ENOMEM;
	out[blen] = '\0';
	if (!ok || strlen(out) != blen) {
		jl_secret_wipe(out, blen);
		free(out);
		say(err, errlen, "the stored secret fails authentication (altered, or copied from another integration)");
		return JETL_EDATA;
	}
	*plain = out;
	return JETL_OK;
}

int jl_secret_deref(const char *ref, char **plain, char *err, size_t errlen)
{
	char msg[600];

	*plain = NULL;
	if (ref && strncmp(ref, "env:", 4) == 0 && ref[4]) {
		const char *v = getenv(ref + 4);

		if (!v || !*v) {
			snprintf(msg, sizeof(msg), "the secret reference %s: the variable is not set", ref);
			say(err, errlen, msg);
			return JETL_ENOENT;
		}
		*plain = strdup(v);
		return *plain ? JETL_OK : JETL_ENOMEM;
	}
	if (ref && strncmp(ref, "file:/", 6) == 0) {
		FILE *f = fopen(ref + 5, "r");
		char buf[8192];
		size_t n;

		if (!f) {
			snprintf(msg, sizeof(msg), "the secret reference %s: %s", ref, strerror(errno));
			say(err, errlen, msg);
			return JETL_EIO;
		}
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
			n--;
		buf[n] = '\0';
		if (!n) {
			snprintf(msg, sizeof(msg), "the secret reference %s: the file is empty", ref);
			say(err, errlen, msg);
			return JETL_ENOENT;
		}
		*plain = strdup(buf);
		jl_secret_wipe(buf, sizeof(buf));
		return *plain ? JETL_OK : JETL_ENOMEM;
	}
	say(err, errlen, "not a secret reference (env:NAME or file:/path)");
	return JETL_EINVAL;
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t k = 0; k < n; k++) {
		out[2 * k] = digits[b[k] >> 4];
		out[2 * k + 1] = digits[b[k] & 15];
	}
	out[2 * n] = 0;
}

int jl_secret_random_hex(char *out, size_t n)
{
	unsigned char b[64];

	if (n > sizeof(b) || RAND_bytes(b, (int)n) != 1)
		return -1;
	to_hex(b, n, out);
	jl_secret_wipe(b, sizeof(b));
	return 0;
}

int jl_secret_hmac_hex(const char *key, const char *msg, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg, strlen(msg), md, &len) ||
	    len != 32)
		return -1;
	to_hex(md, 32, out);
	return 0;
}
