/* test_secret.c - src/core/secret.c without any server: keys as hex and
 * base64, seal/open round trips, a wrong key, another row's AAD, an altered
 * or truncated envelope, references. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jetl.h"
#include "core/secret.h"

#define HEX_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
/* the same 32 bytes in base64 */
#define B64_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define HEX_B "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static jl_secret_key key(const char *text)
{
	jl_secret_key k;
	char err[256];

	cr_assert_eq(jl_secret_key_parse(&k, text, "test", err, sizeof(err)), JETL_OK, "%s", err);
	return k;
}

Test(secret, keys_in_hex_and_base64_are_the_same_key)
{
	jl_secret_key a = key(HEX_A), b = key(B64_A), c = key(HEX_A "\n"), d = key(HEX_B);
	jl_secret_key bad;
	char err[256];

	cr_assert_eq(memcmp(a.key, b.key, sizeof(a.key)), 0);
	cr_assert_str_eq(a.id, b.id);
	cr_assert_str_eq(a.id, c.id);
	cr_assert_str_neq(a.id, d.id);
	cr_assert_eq(strlen(a.id), 8);
	cr_assert_eq(jl_secret_key_parse(&bad, "abc", "JETL_SECRET_KEY", err, sizeof(err)), JETL_ECONFIG);
	cr_assert(strstr(err, "JETL_SECRET_KEY"), "%s", err);
	cr_assert_eq(jl_secret_key_parse(&bad, HEX_A "00", "x", err, sizeof(err)), JETL_ECONFIG);
	cr_assert_eq(jl_secret_key_parse(&bad, "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "x", err,
		sizeof(err)), JETL_ECONFIG);
	cr_assert_eq(jl_secret_key_parse(&bad, NULL, "x", err, sizeof(err)), JETL_ECONFIG);
}

Test(secret, seal_and_open)
{
	jl_secret_key a = key(HEX_A), b = key(HEX_B);
	char *s1 = jl_secret_seal(&a, "jetl integration 1/5", "tok-123"), *s2, *plain = NULL, kid[9], err[256];

	cr_assert(s1);
	cr_assert(strncmp(s1, "enc:v1:", 7) == 0, "%s", s1);
	cr_assert(!strstr(s1, "tok-123"));
	jl_secret_sealed_key_id(s1, kid);
	cr_assert_str_eq(kid, a.id);
	/* a fresh nonce each time */
	s2 = jl_secret_seal(&a, "jetl integration 1/5", "tok-123");
	cr_assert_str_neq(s1, s2);
	cr_assert_eq(jl_secret_open(&a, "jetl integration 1/5", s1, &plain, err, sizeof(err)), JETL_OK, "%s", err);
	cr_assert_str_eq(plain, "tok-123");
	jl_secret_free(plain);
	/* the wrong key is named, never tried */
	cr_assert_eq(jl_secret_open(&b, "jetl integration 1/5", s1, &plain, err, sizeof(err)), JETL_ECONFIG);
	cr_assert(strstr(err, a.id) && strstr(err, b.id), "%s", err);
	cr_assert_null(plain);
	/* another row's AAD */
	cr_assert_eq(jl_secret_open(&a, "jetl integration 2/5", s1, &plain, err, sizeof(err)), JETL_EDATA);
	cr_assert_null(plain);
	/* one character altered, truncated, not an envelope */
	{
		size_t n = strlen(s1);
		char *t = strdup(s1);

		t[n - 6] = t[n - 6] == 'A' ? 'B' : 'A';
		cr_assert_eq(jl_secret_open(&a, "jetl integration 1/5", t, &plain, err, sizeof(err)), JETL_EDATA);
		strcpy(t, s1);
		t[n - 8] = '\0';
		cr_assert_eq(jl_secret_open(&a, "jetl integration 1/5", t, &plain, err, sizeof(err)), JETL_EDATA);
		cr_assert_eq(jl_secret_open(&a, "x", "env:X", &plain, err, sizeof(err)), JETL_EDATA);
		free(t);
	}
	free(s1);
	free(s2);
	/* an empty and a long secret */
	{
		char big[3000];

		memset(big, 'q', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		s1 = jl_secret_seal(&a, "", big);
		cr_assert_eq(jl_secret_open(&a, "", s1, &plain, err, sizeof(err)), JETL_OK, "%s", err);
		cr_assert_str_eq(plain, big);
		jl_secret_free(plain);
		free(s1);
		s1 = jl_secret_seal(&a, "", "");
		cr_assert_eq(jl_secret_open(&a, "", s1, &plain, err, sizeof(err)), JETL_OK, "%s", err);
		cr_assert_str_eq(plain, "");
		jl_secret_free(plain);
		free(s1);
	}
}

Test(secret, references)
{
	char path[] = "/tmp/jetl-secret-XXXXXX", *plain = NULL, err[256];
	int fd = mkstemp(path);
	char ref[64];

	cr_assert(jl_secret_is_ref("env:A"));
	cr_assert(jl_secret_is_ref("file:/x"));
	cr_assert(!jl_secret_is_ref("env:"));
	cr_assert(!jl_secret_is_ref("file:x"));
	cr_assert(!jl_secret_is_ref("abc"));
	setenv("JETL_TEST_SECRET_REF", "from-env", 1);
	cr_assert_eq(jl_secret_deref("env:JETL_TEST_SECRET_REF", &plain, err, sizeof(err)), JETL_OK);
	cr_assert_str_eq(plain, "from-env");
	jl_secret_free(plain);
	unsetenv("JETL_TEST_SECRET_REF");
	cr_assert_eq(jl_secret_deref("env:JETL_TEST_SECRET_REF", &plain, err, sizeof(err)), JETL_ENOENT);
	cr_assert(strstr(err, "JETL_TEST_SECRET_REF"), "%s", err);
	cr_assert(write(fd, "from-file\n", 10) == 10);
	close(fd);
	snprintf(ref, sizeof(ref), "file:%s", path);
	cr_assert_eq(jl_secret_deref(ref, &plain, err, sizeof(err)), JETL_OK, "%s", err);
	cr_assert_str_eq(plain, "from-file");
	jl_secret_free(plain);
	unlink(path);
	cr_assert_eq(jl_secret_deref(ref, &plain, err, sizeof(err)), JETL_EIO);
}

Test(secret, key_from_the_environment_or_a_file)
{
	char path[] = "/tmp/jetl-key-XXXXXX", err[256];
	int fd = mkstemp(path);
	jl_secret_key k;

	unsetenv("JETL_SECRET_KEY");
	unsetenv("JETL_SECRET_KEY_FILE");
	cr_assert_eq(jl_secret_key_load(&k, err, sizeof(err)), JETL_ENOENT);
	cr_assert(strstr(err, "JETL_SECRET_KEY"), "%s", err);
	cr_assert(write(fd, B64_A "\n", strlen(B64_A) + 1) > 0);
	close(fd);
	setenv("JETL_SECRET_KEY_FILE", path, 1);
	cr_assert_eq(jl_secret_key_load(&k, err, sizeof(err)), JETL_OK, "%s", err);
	cr_assert_str_eq(k.id, key(HEX_A).id);
	setenv("JETL_SECRET_KEY", HEX_B, 1);   /* the variable wins */
	cr_assert_eq(jl_secret_key_load(&k, err, sizeof(err)), JETL_OK);
	cr_assert_str_eq(k.id, key(HEX_B).id);
	unsetenv("JETL_SECRET_KEY");
	unlink(path);
	cr_assert_eq(jl_secret_key_load(&k, err, sizeof(err)), JETL_EIO);
	unsetenv("JETL_SECRET_KEY_FILE");
}
