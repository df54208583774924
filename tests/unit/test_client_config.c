/*
 * test_client_config: where the client commands find their endpoint and
 * keys (client/client_config.c): config-file lines, endpoint forms, the
 * precedence file < environment < flags, XDG paths, and the 0600 file that
 * `vodup configure` writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/client_config.h"

static void test_parse_line(void **state)
{
    (void)state;
    client_config_t c;
    char err[256];
    memset(&c, 0, sizeof(c));
    assert_true(client_config_parse_line(&c, "", err, sizeof(err)));
    assert_true(client_config_parse_line(&c, "   \n", err, sizeof(err)));
    assert_true(client_config_parse_line(&c, "# comment = x", err, sizeof(err)));
    assert_true(client_config_parse_line(&c, "endpoint = http://h:8080\n", err, sizeof(err)));
    assert_string_equal(c.endpoint, "http://h:8080");
    assert_true(client_config_parse_line(&c, "\taccess-key=AK1  \r\n", err, sizeof(err)));
    assert_string_equal(c.access_key, "AK1");
    assert_true(client_config_parse_line(&c, "secret-key = a=b=c", err, sizeof(err)));
    assert_string_equal(c.secret_key, "a=b=c"); /* split at the first '=' */
    assert_false(client_config_parse_line(&c, "endpoint http://h", err, sizeof(err)));
    assert_false(client_config_parse_line(&c, "secret = x", err, sizeof(err)));
    assert_non_null(strstr(err, "unknown key"));
}

static void test_endpoint(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } ok[] = {
        {"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
        {"127.0.0.1:8080", "http://127.0.0.1:8080"},
        {"https://vod.example.com/", "https://vod.example.com"},
        {"HTTP://h//", "http://h"},
        {" http://h:1 ", "http://h:1"},
        {"http://[::1]:8080", "http://[::1]:8080"},
    };
    char out[CLIENT_CONFIG_VALUE_MAX], err[256];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_true(client_endpoint_normalise(ok[i].in, out, sizeof(out), err, sizeof(err)));
        assert_string_equal(out, ok[i].out);
    }
    static const char *const bad[] = {"", "http://", "ftp://h", "http://h/vod", "http://h?x=1", "http://u@h",
                                      "http://h h"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(client_endpoint_normalise(bad[i], out, sizeof(out), err, sizeof(err)));
}

/* A scratch HOME with an optional config file; unsets the VODUP_ variables. */
static char home[64];

static int setup(void **state)
{
    (void)state;
    snprintf(home, sizeof(home), "/tmp/vodup-test-config-XXXXXX");
    if (!mkdtemp(home))
        return -1;
    setenv("HOME", home, 1);
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("XDG_CACHE_HOME");
    unsetenv("VODUP_ENDPOINT");
    unsetenv("VODUP_ACCESS_KEY");
    unsetenv("VODUP_SECRET_KEY");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_config(const char *text)
{
    char dir[128], path[160];
    snprintf(dir, sizeof(dir), "%s/.config/vodup", home);
    assert_true(client_mkdirs(dir));
    snprintf(path, sizeof(path), "%s/config", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_paths(void **state)
{
    (void)state;
    char p[CLIENT_PATH_MAX], want[256];
    assert_true(client_config_default_path(p, sizeof(p)));
    snprintf(want, sizeof(want), "%s/.config/vodup/config", home);
    assert_string_equal(p, want);
    assert_true(client_cache_dir(p, sizeof(p)));
    snprintf(want, sizeof(want), "%s/.cache/vodup", home);
    assert_string_equal(p, want);
    setenv("XDG_CONFIG_HOME", "/xdg/conf", 1);
    setenv("XDG_CACHE_HOME", "/xdg/cache", 1);
    assert_true(client_config_default_path(p, sizeof(p)));
    assert_string_equal(p, "/xdg/conf/vodup/config");
    assert_true(client_cache_dir(p, sizeof(p)));
    assert_string_equal(p, "/xdg/cache/vodup");
    /* A relative XDG value is ignored, as the spec says. */
    setenv("XDG_CACHE_HOME", "relative", 1);
    assert_true(client_cache_dir(p, sizeof(p)));
    assert_string_equal(p, want);
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("XDG_CACHE_HOME");
}

static void test_precedence(void **state)
{
    (void)state;
    client_config_t c;
    char err[512];
    /* Nothing anywhere: the default endpoint, no keys. */
    assert_true(client_config_load(&c, NULL, err, sizeof(err)));
    assert_string_equal(c.endpoint, CLIENT_DEFAULT_ENDPOINT);
    assert_false(client_config_require_keys(&c, err, sizeof(err)));
    assert_non_null(strstr(err, "vodup configure"));

    write_config("endpoint = file.example:1\naccess-key = AKFILE\nsecret-key = SKFILE\n");
    assert_true(client_config_load(&c, NULL, err, sizeof(err)));
    assert_string_equal(c.endpoint, "http://file.example:1");
    assert_string_equal(c.access_key, "AKFILE");
    assert_string_equal(c.secret_key, "SKFILE");
    assert_true(client_config_require_keys(&c, err, sizeof(err)));

    setenv("VODUP_ENDPOINT", "http://env.example:2", 1);
    setenv("VODUP_SECRET_KEY", "SKENV", 1);
    assert_true(client_config_load(&c, NULL, err, sizeof(err)));
    assert_string_equal(c.endpoint, "http://env.example:2");
    assert_string_equal(c.access_key, "AKFILE");
    assert_string_equal(c.secret_key, "SKENV");

    client_config_flags_t flags = {.endpoint = "https://flag.example", .access_key = "AKFLAG"};
    assert_true(client_config_load(&c, &flags, err, sizeof(err)));
    assert_string_equal(c.endpoint, "https://flag.example");
    assert_string_equal(c.access_key, "AKFLAG");
    assert_string_equal(c.secret_key, "SKENV");
    unsetenv("VODUP_ENDPOINT");
    unsetenv("VODUP_SECRET_KEY");

    /* An explicit --config that does not exist is an error; a bad line names its number. */
    client_config_flags_t missing = {.config_path = "/nonexistent/vodup.conf"};
    assert_false(client_config_load(&c, &missing, err, sizeof(err)));
    write_config("endpoint = http://h\nbogus = 1\n");
    assert_false(client_config_load(&c, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, ":2:"));
}

static void test_write(void **state)
{
    (void)state;
    client_config_t c, back;
    char err[512];
    memset(&c, 0, sizeof(c));
    snprintf(c.config_path, sizeof(c.config_path), "%s/new/dir/config", home);
    snprintf(c.endpoint, sizeof(c.endpoint), "http://h:9");
    snprintf(c.access_key, sizeof(c.access_key), "AKW");
    snprintf(c.secret_key, sizeof(c.secret_key), "SKW");
    assert_true(client_config_write(&c, err, sizeof(err)));
    struct stat st;
    assert_int_equal(stat(c.config_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/new/dir", home);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    client_config_flags_t flags = {.config_path = c.config_path};
    assert_true(client_config_load(&back, &flags, err, sizeof(err)));
    assert_string_equal(back.endpoint, "http://h:9");
    assert_string_equal(back.access_key, "AKW");
    assert_string_equal(back.secret_key, "SKW");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_line),
        cmocka_unit_test(test_endpoint),
        cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
