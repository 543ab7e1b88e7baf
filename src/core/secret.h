/* secret.h - the integrations' Jira secrets at rest: AES-256-GCM under the
 * operator's key (OpenSSL EVP), and the env:/file: references. No I/O but
 * the key file and the referenced file; knows nothing of PostgreSQL. */
#ifndef JL_CORE_SECRET_H
#define JL_CORE_SECRET_H

#include <stddef.h>

#define JL_SECRET_KEY_BYTES 32

typedef struct jl_secret_key {
	unsigned char key[JL_SECRET_KEY_BYTES];
	char id[9];     /* 8 hex digits naming the key (not secret: a hash of it) */
} jl_secret_key;

/* Parse a key written as 64 hex digits or as base64 of 32 bytes (trailing
 * white space ignored). JETL_OK, or JETL_ECONFIG with the cause in err
 * (never the key). */
int jl_secret_key_parse(jl_secret_key *k, const char *text, const char *source, char *err, size_t errlen);

/* The operator's key: $JETL_SECRET_KEY, else the file named by
 * $JETL_SECRET_KEY_FILE. JETL_ENOENT when neither is set (err says how to
 * set one), JETL_ECONFIG when malformed, JETL_EIO when the file cannot be
 * read. */
int jl_secret_key_load(jl_secret_key *k, char *err, size_t errlen);

/* Wipe a key (or any buffer) so it does not linger in freed memory. */
void jl_secret_wipe(void *p, size_t n);
/* Wipe and free a string; NULL is harmless. */
void jl_secret_free(char *s);

/* 1 when text is a reference ("env:NAME" or "file:/absolute/path"). */
int jl_secret_is_ref(const char *text);

/* Seal plain under k: "enc:v1:<key id>:<base64(nonce | ciphertext | tag)>",
 * a fresh random 96-bit nonce each time. aad binds the envelope to its row
 * ("tenant:id"): copied to another integration it no longer opens.
 * Returns a malloc'd string, or NULL (out of memory or no randomness). */
char *jl_secret_seal(const jl_secret_key *k, const char *aad, const char *plain);

/* Open an envelope. *plain gets the malloc'd secret (free with
 * jl_secret_free). JETL_ECONFIG when it was sealed with another key (err
 * names both key ids), JETL_EDATA when it is malformed or fails
 * authentication (altered, or moved to another row). */
int jl_secret_open(const jl_secret_key *k, const char *aad, const char *sealed, char **plain,
	char *err, size_t errlen);

/* The key id an envelope names ("" when it is not one); out has 9 bytes. */
void jl_secret_sealed_key_id(const char *sealed, char out[9]);

/* Resolve a reference: the variable's value, or the file's content minus
 * trailing white space. JETL_ENOENT when the variable is unset or empty,
 * JETL_EIO when the file cannot be read; err names the reference, never
 * the value. */
int jl_secret_deref(const char *ref, char **plain, char *err, size_t errlen);

/* n random bytes written as 2n lowercase hex digits into out (2n+1 bytes).
 * 0, or -1 when the system has no randomness to give. */
int jl_secret_random_hex(char *out, size_t n);

/* HMAC-SHA256 of msg under key, as 64 lowercase hex digits (out: 65 bytes).
 * 0, or -1 on an OpenSSL failure. */
int jl_secret_hmac_hex(const char *key, const char *msg, char out[65]);

#endif
