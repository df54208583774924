/*
 * test_upload_form: POST /file/upload against a real `vodup serve`, as the
 * WCS SDKs and browsers send it (../shared/spec/upload-protocol.md sections
 * 1-4, 6-8; docs/upload.md "What vodup decides").
 *
 * Covered: field order (token before and after the file, unknown and
 * accepted fields), Content-Length / chunked / Expect: 100-continue, the
 * success body and getVideoInfo afterwards, the spec's etag examples,
 * returnBody and returnUrl from tokens the account owner mints, every token
 * error (401, 631), overwrite (406), size limits (413 from fsizeLimit and
 * from max-upload-size), fileMd5 (400, nothing published, video failed),
 * X-Reqid, Connection: close and CORS.
 *
 * One server serves most tests; a second one runs with --cors-origins and a
 * small --max-upload-size.  Sizes stay small (the whole file uploads about
 * 16 MiB, most of it the spec's etag examples).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_upload.h"

#define HOUR_MS (3600 * 1000LL)
#define MD5_MISMATCH "The uploaded content does not match fileMd5."

static harness_server_t *srv;
static harness_key_t other_key; /* a second account, with its own bucket */

/* ---- helpers -------------------------------------------------------------- */

static void grant_ok(const harness_grant_opts_t *o, harness_grant_t *g)
{
    assert_true(harness_grant(srv, o, g));
}

/* "hash=<etag of data>"; malloc'd. */
static char *hash_query(const void *data, size_t len)
{
    char etag[HARNESS_ETAG_LEN + 1];
    harness_etag(data, len, etag);
    return harness_strf("hash=%s", etag);
}

/* A copy of `token` with one character of its signature part changed. */
static char *tamper_sign(const char *token)
{
    char *t = strdup(token);
    char *first = strchr(t, ':'), *last = strrchr(t, ':');
    assert_true(first && last && last - first > 4);
    char *p = first + 1 + (last - first - 1) / 2;
    *p = *p == 'A' ? 'B' : 'A';
    return t;
}

static void assert_not_published(harness_server_t *s, const char *file_key)
{
    harness_upload_response_t r;
    harness_playback(s, "GET", file_key, NULL, &r);
    if (r.status != 404)
        print_error("GET /%s: expected 404, got %ld\n", file_key, r.status);
    assert_int_equal(r.status, 404);
    harness_upload_response_free(&r);
}

/* ---- local reference values (no server) ---------------------------------- */

static void test_reference_values(void **state)
{
    (void)state;
    /* The etag examples of spec section 6. */
    const harness_etag_example_t *etags = harness_etag_examples;
    uint8_t *zeros = calloc(1, 5 * HARNESS_MIB);
    assert_non_null(zeros);
    for (size_t i = 0; i < HARNESS_ETAG_EXAMPLES; i++) {
        char etag[HARNESS_ETAG_LEN + 1];
        harness_etag(etags[i].text ? (const void *)etags[i].text : zeros, etags[i].len, etag);
        print_message("  etag %-20s %s\n", etags[i].what, etag);
        assert_string_equal(etag, etags[i].etag);
    }
    free(zeros);

    /* The worked token example of spec section 1. */
    char *token = harness_mint("testak", "testsk",
                               "{\"scope\":\"mybucket:hello.txt\",\"deadline\":\"1700000000000\",\"overwrite\":1}");
    assert_string_equal(token, "testak:NjljNzYyNGUzOThlOWY0YWYxNjQ3YjgxNzgxYjRlY2RhMWNmMzViYQ==:"
                               "eyJzY29wZSI6Im15YnVja2V0OmhlbGxvLnR4dCIsImRlYWRsaW5lIjoiMTcwMDAwMDAwMDAwMCIsIm92ZXJ3cm"
                               "l0ZSI6MX0=");
    free(token);

    /* zlib CRC-32 and MD5 of "hello"; base64 both ways, with and without padding. */
    assert_int_equal(harness_crc32("hello", 5), 907060870u);
    char md5[33];
    harness_md5_hex("hello", 5, md5);
    assert_string_equal(md5, "5d41402abc4b2a76b9719d911017c592");
    char *b = harness_b64url("\xfb\xff", 2);
    assert_string_equal(b, "-_8=");
    size_t n = 0;
    char *d = harness_b64url_decode("-_8", &n);
    assert_int_equal(n, 2);
    assert_memory_equal(d, "\xfb\xff", 2);
    free(d);
    free(b);
}

/* ---- success paths ---------------------------------------------------------- */

/*
 * Field order and extra fields.  Letters name the parts in the order they
 * are sent: t token, f file, d desc (unknown), u another unknown field, k a
 * key that differs from the scope key (ignored), m mimeType, D deadline
 * (retention days), x x:note.
 */
static void test_field_orders(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *order;
        const char *mime; /* expected mimeType */
    } cases[] = {
        {"token, file", "tf", "video/mp4"},
        {"file, token (browser SDK order)", "ft", "video/mp4"},
        {"unknown fields desc and foo around", "dtuf", "video/mp4"},
        {"unknown fields after the file", "ftdu", "video/mp4"},
        {"mimeType, deadline, x:note accepted", "mDxtf", "video/quicktime"},
        {"key that differs from the scope key is ignored", "ktf", "video/mp4"},
        {"everything after the file", "fkmDxdt", "video/quicktime"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  %s (%s)\n", cases[i].what, cases[i].order);
        harness_grant_t g;
        grant_ok(NULL, &g);
        size_t len = 10000 + i;
        uint8_t *data = harness_pattern(len, 100 + (uint32_t)i);
        harness_form_part_t parts[8];
        size_t n = 0;
        for (const char *p = cases[i].order; *p; p++) {
            harness_form_part_t part = {0};
            switch (*p) {
            case 't': part = (harness_form_part_t){.name = "token", .data = g.token}; break;
            case 'f':
                part = (harness_form_part_t){
                    .name = "file", .data = data, .len = len, .filename = "local name.bin", .type = "text/plain"};
                break;
            case 'd': part = (harness_form_part_t){.name = "desc", .data = "a description"}; break;
            case 'u': part = (harness_form_part_t){.name = "foo", .data = "bar"}; break;
            case 'k': part = (harness_form_part_t){.name = "key", .data = "elsewhere/other.mp4"}; break;
            case 'm': part = (harness_form_part_t){.name = "mimeType", .data = "video/quicktime"}; break;
            case 'D': part = (harness_form_part_t){.name = "deadline", .data = "7"}; break;
            case 'x': part = (harness_form_part_t){.name = "x:note", .data = "hello"}; break;
            default: fail();
            }
            parts[n++] = part;
        }
        harness_form_t f = {.parts = parts, .count = n};
        harness_upload_response_t r;
        assert_true(harness_form_post(srv, &f, &r));
        char *q = hash_query(data, len);
        assert_form_ok(&r, q);
        harness_response_t info;
        assert_uploaded(srv, NULL, g.video_id, data, len, cases[i].mime, &info);
        harness_response_free(&info);
        /* The bytes are at the scope key, whatever the key field said. */
        assert_playback(srv, g.file_key, data, len);
        free(q);
        harness_upload_response_free(&r);
        free(data);
    }
}

/* Writes `text` to fd in pieces split at each '|', pausing between them so
 * that the server reads each piece apart. */
static void send_in_pieces(int fd, const char *text)
{
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "|");
        assert_true(write(fd, p, n) == (ssize_t)n);
        p += n;
        if (*p == '|') {
            p++;
            usleep(150 * 1000);
        }
    }
}

/* A field value that reaches the server in several reads is kept whole
 * (mimeType and x: values were cut to their first piece: a browser's
 * FormData upload stored "image/p" for "image/png"). */
static void test_field_values_in_pieces(void **state)
{
    (void)state;
    harness_grant_t g;
    grant_ok(&(harness_grant_opts_t){0}, &g);
    char *body = harness_strf("--XyZ\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n%s\r\n"
                              "--XyZ\r\nContent-Disposition: form-data; name=\"mimeType\"\r\n\r\nvid|eo/we|bm\r\n"
                              "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc\r\n"
                              "--XyZ--\r\n", g.token);
    size_t len = strlen(body) - 2; /* the two '|' are not sent */
    char *head = harness_strf("POST /file/upload HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                              "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: %zu\r\n\r\n",
                              srv->host, len);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    print_message("  mimeType \"video/webm\" sent in three reads -> kept whole\n");
    send_in_pieces(fd, head);
    send_in_pieces(fd, body);
    char answer[32] = {0};
    assert_true(recv(fd, answer, sizeof(answer) - 1, MSG_WAITALL) > 12);
    close(fd);
    assert_non_null(strstr(answer, "HTTP/1.1 200"));
    harness_response_t r;
    assert_true(harness_video_info(srv, NULL, g.video_id, &r));
    const char *mime = harness_json_str(json_object_get(r.json, "data"), "mimeType");
    print_message("  getVideoInfo: mimeType %s\n", mime ? mime : "(none)");
    assert_string_equal(mime, "video/webm");
    harness_response_free(&r);
    free(head);
    free(body);
}

static void test_transfer_modes(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        bool file_first;
        bool chunked;
        enum harness_expect expect;
    } cases[] = {
        {"Content-Length", false, false, HARNESS_EXPECT_NONE},
        {"chunked", false, true, HARNESS_EXPECT_NONE},
        {"chunked, file before token", true, true, HARNESS_EXPECT_NONE},
        {"Expect: 100-continue, body after 100 Continue", false, false, HARNESS_EXPECT_WAIT},
        {"Expect: 100-continue, body sent at once", false, false, HARNESS_EXPECT_NO_WAIT},
        {"Expect: 100-continue, body at once, file first", true, false, HARNESS_EXPECT_NO_WAIT},
        {"chunked and Expect: 100-continue", true, true, HARNESS_EXPECT_WAIT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  %s\n", cases[i].what);
        harness_grant_t g;
        grant_ok(NULL, &g);
        size_t len = 300 * 1024 + i;
        uint8_t *data = harness_pattern(len, 200 + (uint32_t)i);
        harness_form_part_t token = {.name = "token", .data = g.token};
        harness_form_part_t file = {.name = "file", .data = data, .len = len, .filename = "clip.mp4"};
        harness_form_part_t parts[2] = {cases[i].file_first ? file : token, cases[i].file_first ? token : file};
        harness_form_t f = {.parts = parts, .count = 2, .chunked = cases[i].chunked, .expect = cases[i].expect};
        harness_upload_response_t r;
        assert_true(harness_form_post(srv, &f, &r));
        char *q = hash_query(data, len);
        assert_form_ok(&r, q);
        harness_response_t info;
        assert_uploaded(srv, NULL, g.video_id, data, len, "video/mp4", &info);
        harness_response_free(&info);
        assert_playback(srv, g.file_key, data, len);
        free(q);
        harness_upload_response_free(&r);
        free(data);
    }
}

static void test_success_answer_and_video_info(void **state)
{
    (void)state;
    harness_grant_t g;
    grant_ok(&(harness_grant_opts_t){.name = "My Holiday.mp4"}, &g);
    size_t len = 123457;
    uint8_t *data = harness_pattern(len, 7);

    /* Registered, not uploaded yet. */
    harness_response_t info;
    assert_true(harness_video_info(srv, NULL, g.video_id, &info));
    assert_api_ok(&info);
    assert_string_equal(harness_json_str(harness_data(&info), "status"), "created");
    char created_at[64];
    snprintf(created_at, sizeof(created_at), "%s", harness_json_str(harness_data(&info), "createdAt"));
    harness_response_free(&info);

    harness_upload_response_t r;
    assert_true(harness_form_upload(srv, g.token, data, len, &r));
    char etag[HARNESS_ETAG_LEN + 1];
    harness_etag(data, len, etag);
    print_message("  body %s (etag %s)\n", r.body, etag);
    /* Exactly 200, url-safe base64 of "hash=<etag>", not JSON. */
    char *q = hash_query(data, len);
    assert_form_ok(&r, q);
    free(q);
    harness_upload_response_free(&r);

    json_t *v = assert_uploaded(srv, NULL, g.video_id, data, len, "video/mp4", &info);
    const char *uploaded_at = harness_json_str(v, "uploadedAt");
    print_message("  createdAt %s, uploadedAt %s, mimeType %s\n", created_at, uploaded_at,
                  harness_json_str(v, "mimeType"));
    /* Both ISO 8601 UTC: the text order is the time order. */
    assert_true(strcmp(uploaded_at, created_at) >= 0);
    assert_string_equal(harness_json_str(v, "fileKey"), g.file_key);
    harness_response_free(&info);
    assert_playback(srv, g.file_key, data, len);
    free(data);
}

static void test_spec_etag_examples(void **state)
{
    (void)state;
    const harness_etag_example_t *cases = harness_etag_examples;
    uint8_t *zeros = calloc(1, 5 * HARNESS_MIB);
    assert_non_null(zeros);
    for (size_t i = 0; i < HARNESS_ETAG_EXAMPLES; i++) {
        print_message("  %s -> %s\n", cases[i].what, cases[i].etag);
        const void *data = cases[i].text ? (const void *)cases[i].text : zeros;
        harness_grant_t g;
        grant_ok(NULL, &g);
        harness_upload_response_t r;
        assert_true(harness_form_upload(srv, g.token, data, cases[i].len, &r));
        char *q = harness_strf("hash=%s", cases[i].etag);
        assert_form_ok(&r, q);
        free(q);
        harness_upload_response_free(&r);
        harness_response_t info;
        json_t *v = assert_uploaded(srv, NULL, g.video_id, data, cases[i].len, NULL, &info);
        assert_string_equal(harness_json_str(v, "etag"), cases[i].etag);
        harness_response_free(&info);
    }
    free(zeros);
}

/* Tokens the account owner mints itself are accepted for registered keys. */
static void test_minted_tokens_accepted(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        int kind; /* 0 deadline string, 1 deadline number, 2 bucket-only scope + key field */
    } cases[] = {
        {"deadline as a numeric string", 0},
        {"deadline as a JSON number, unknown members", 1},
        {"scope without key, key from the form field", 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  %s\n", cases[i].what);
        harness_grant_t g;
        grant_ok(NULL, &g);
        char *token = NULL;
        int64_t deadline = harness_now_ms() + HOUR_MS;
        if (cases[i].kind == 0) {
            char *scope = harness_strf("%s:%s", g.bucket, g.file_key);
            token = harness_mint_policy(srv, NULL, scope, deadline, NULL);
            free(scope);
        } else if (cases[i].kind == 1) {
            char *policy = harness_strf("{\"deadline\":%lld,\"scope\":\"%s:%s\",\"insertOnly\":0,\"foo\":[1]}",
                                        (long long)deadline, g.bucket, g.file_key);
            token = harness_mint(srv->key.access_key, srv->key.secret_key, policy);
            harness_note_secret(srv, token);
            free(policy);
        } else {
            token = harness_mint_policy(srv, NULL, g.bucket, deadline, NULL);
        }
        size_t len = 5000 + i;
        uint8_t *data = harness_pattern(len, 300 + (uint32_t)i);
        harness_form_part_t parts[3] = {
            {.name = "token", .data = token},
            {.name = "key", .data = g.file_key},
            {.name = "file", .data = data, .len = len, .filename = "clip.mp4"},
        };
        /* The key field is only sent in the bucket-only case. */
        harness_form_part_t sent[3];
        size_t n = 0;
        sent[n++] = parts[0];
        if (cases[i].kind == 2)
            sent[n++] = parts[1];
        sent[n++] = parts[2];
        harness_form_t f = {.parts = sent, .count = n};
        harness_upload_response_t r;
        assert_true(harness_form_post(srv, &f, &r));
        char *q = hash_query(data, len);
        assert_form_ok(&r, q);
        harness_response_t info;
        assert_uploaded(srv, NULL, g.video_id, data, len, NULL, &info);
        harness_response_free(&info);
        free(q);
        harness_upload_response_free(&r);
        free(data);
        free(token);
    }
}

static void test_return_body(void **state)
{
    (void)state;
    harness_grant_t g;
    grant_ok(NULL, &g);
    char *scope = harness_strf("%s:%s", g.bucket, g.file_key);
    char *token = harness_mint_policy(srv, NULL, scope, harness_now_ms() + HOUR_MS,
                                      ",\"returnBody\":\"fsize=$(fsize)&bucket=$(bucket)&key=$(key)&note=$(x:note)\"");
    size_t len = 4321;
    uint8_t *data = harness_pattern(len, 11);
    harness_form_part_t parts[3] = {
        {.name = "file", .data = data, .len = len, .filename = "clip.mp4"},
        {.name = "x:note", .data = "hello"},
        {.name = "token", .data = token},
    };
    harness_form_t f = {.parts = parts, .count = 3};
    harness_upload_response_t r;
    assert_true(harness_form_post(srv, &f, &r));
    assert_upload_status(&r, 200);
    assert_null(r.json);
    size_t n = 0;
    char *text = harness_b64url_decode(r.body, &n);
    assert_non_null(text);
    print_message("  returned %s\n", text);

    /* The spec does not say whether $(key) is percent-encoded in the query:
     * the fileKey's '/' may come either way. */
    char etag[HARNESS_ETAG_LEN + 1];
    harness_etag(data, len, etag);
    char *escaped_key = harness_escape(g.file_key);
    char *raw = harness_strf("fsize=%zu&bucket=%s&key=%s&note=hello&hash=%s", len, g.bucket, g.file_key, etag);
    char *esc = harness_strf("fsize=%zu&bucket=%s&key=%s&note=hello&hash=%s", len, g.bucket, escaped_key, etag);
    if (strcmp(text, raw) != 0 && strcmp(text, esc) != 0) {
        print_error("expected %s\n", raw);
        fail();
    }
    harness_response_t info;
    assert_uploaded(srv, NULL, g.video_id, data, len, NULL, &info);
    harness_response_free(&info);
    free(raw);
    free(esc);
    free(escaped_key);
    free(text);
    harness_upload_response_free(&r);
    free(data);
    free(token);
    free(scope);
}

static void test_return_url(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *extra;
        bool fsize; /* the query starts with "fsize=<len>&" (returnBody) */
    } cases[] = {
        {"returnUrl", ",\"returnUrl\":\"http://app.example/done\"", false},
        {"returnUrl with returnBody", ",\"returnUrl\":\"http://app.example/done\",\"returnBody\":\"fsize=$(fsize)\"",
         true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  %s\n", cases[i].what);
        harness_grant_t g;
        grant_ok(NULL, &g);
        char *scope = harness_strf("%s:%s", g.bucket, g.file_key);
        char *token = harness_mint_policy(srv, NULL, scope, harness_now_ms() + HOUR_MS, cases[i].extra);
        size_t len = 2048 + i;
        uint8_t *data = harness_pattern(len, 20 + (uint32_t)i);
        harness_upload_response_t r;
        assert_true(harness_form_upload(srv, token, data, len, &r));
        assert_upload_status(&r, 303);
        char etag[HARNESS_ETAG_LEN + 1];
        harness_etag(data, len, etag);
        char prefix[64] = "";
        if (cases[i].fsize)
            snprintf(prefix, sizeof(prefix), "fsize=%zu&", len);
        char *want = harness_strf("http://app.example/done?%shash=%s", prefix, etag);
        const char *location = harness_header(&r, "Location");
        print_message("  Location: %s\n", location ? location : "(none)");
        assert_non_null(location);
        assert_string_equal(location, want);
        harness_response_t info;
        assert_uploaded(srv, NULL, g.video_id, data, len, NULL, &info);
        harness_response_free(&info);
        free(want);
        harness_upload_response_free(&r);
        free(data);
        free(token);
        free(scope);
    }
}

/* ---- token errors ----------------------------------------------------------- */

enum token_kind {
    TOKEN_NONE,
    TOKEN_GARBAGE,
    TOKEN_BAD_SIGNATURE,
    TOKEN_WRONG_SECRET,
    TOKEN_UNKNOWN_ACCESS_KEY,
    TOKEN_EXPIRED,
    TOKEN_UNREGISTERED_KEY,
    TOKEN_OTHER_ACCOUNTS_KEY,
    TOKEN_BUCKET_ONLY_UNREGISTERED_FIELD,
    TOKEN_NO_SUCH_BUCKET,
    TOKEN_OTHER_ACCOUNTS_BUCKET,
};

static void test_token_errors(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        enum token_kind kind;
        bool file_first;
        long status;
    } cases[] = {
        {"no token field", TOKEN_NONE, false, 401},
        {"no token field, file only", TOKEN_NONE, true, 401},
        {"malformed token", TOKEN_GARBAGE, false, 401},
        {"signature changed", TOKEN_BAD_SIGNATURE, false, 401},
        {"signature changed, file before token", TOKEN_BAD_SIGNATURE, true, 401},
        {"signed with another secret", TOKEN_WRONG_SECRET, false, 401},
        {"unknown AccessKey", TOKEN_UNKNOWN_ACCESS_KEY, false, 401},
        {"expired (deadline a minute ago)", TOKEN_EXPIRED, false, 401},
        {"expired, file before token", TOKEN_EXPIRED, true, 401},
        {"scope key never registered", TOKEN_UNREGISTERED_KEY, false, 401},
        {"scope key registered by another account", TOKEN_OTHER_ACCOUNTS_KEY, false, 401},
        {"bucket-only scope, unregistered key field", TOKEN_BUCKET_ONLY_UNREGISTERED_FIELD, false, 401},
        {"scope bucket does not exist", TOKEN_NO_SUCH_BUCKET, false, 631},
        {"scope bucket of another account", TOKEN_OTHER_ACCOUNTS_BUCKET, true, 631},
    };
    harness_grant_t og;
    assert_true(harness_grant(srv, &(harness_grant_opts_t){.key = &other_key}, &og));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  %s -> %ld\n", cases[i].what, cases[i].status);
        harness_grant_t g;
        grant_ok(NULL, &g);
        int64_t deadline = harness_now_ms() + HOUR_MS;
        char *token = NULL, *scope = NULL;
        const char *key_field = NULL;
        switch (cases[i].kind) {
        case TOKEN_NONE: break;
        case TOKEN_GARBAGE: token = strdup("not-a-token"); break;
        case TOKEN_BAD_SIGNATURE: token = tamper_sign(g.token); break;
        case TOKEN_WRONG_SECRET:
            scope = harness_strf("{\"scope\":\"%s:%s\",\"deadline\":%lld}", g.bucket, g.file_key,
                                 (long long)deadline);
            token = harness_mint(srv->key.access_key, "not-the-secret-key", scope);
            break;
        case TOKEN_UNKNOWN_ACCESS_KEY:
            scope = harness_strf("{\"scope\":\"%s:%s\",\"deadline\":%lld}", g.bucket, g.file_key,
                                 (long long)deadline);
            token = harness_mint("AKNOSUCHKEY00000", srv->key.secret_key, scope);
            break;
        case TOKEN_EXPIRED:
            scope = harness_strf("%s:%s", g.bucket, g.file_key);
            token = harness_mint_policy(srv, NULL, scope, harness_now_ms() - 60000, NULL);
            break;
        case TOKEN_UNREGISTERED_KEY:
            scope = harness_strf("%s:video/20200101/0123456789abcdef0123456789abcdef/never.mp4", g.bucket);
            token = harness_mint_policy(srv, NULL, scope, deadline, NULL);
            break;
        case TOKEN_OTHER_ACCOUNTS_KEY:
            scope = harness_strf("%s:%s", g.bucket, og.file_key);
            token = harness_mint_policy(srv, NULL, scope, deadline, NULL);
            break;
        case TOKEN_BUCKET_ONLY_UNREGISTERED_FIELD:
            token = harness_mint_policy(srv, NULL, g.bucket, deadline, NULL);
            key_field = "video/20200101/0123456789abcdef0123456789abcdef/never.mp4";
            break;
        case TOKEN_NO_SUCH_BUCKET:
            scope = harness_strf("no-such-bucket-xyz:%s", g.file_key);
            token = harness_mint_policy(srv, NULL, scope, deadline, NULL);
            break;
        case TOKEN_OTHER_ACCOUNTS_BUCKET:
            scope = harness_strf("%s:%s", og.bucket, og.file_key);
            token = harness_mint_policy(srv, NULL, scope, deadline, NULL);
            break;
        }
        size_t len = 3000;
        uint8_t *data = harness_pattern(len, 400 + (uint32_t)i);
        harness_form_part_t parts[3];
        size_t n = 0;
        harness_form_part_t file = {.name = "file", .data = data, .len = len, .filename = "clip.mp4"};
        if (cases[i].file_first)
            parts[n++] = file;
        if (key_field)
            parts[n++] = (harness_form_part_t){.name = "key", .data = key_field};
        if (token)
            parts[n++] = (harness_form_part_t){.name = "token", .data = token};
        if (!cases[i].file_first)
            parts[n++] = file;
        harness_form_t f = {.parts = parts, .count = n};
        harness_upload_response_t r;
        assert_true(harness_form_post(srv, &f, &r));
        print_message("    %ld %s\n", r.status, r.body);
        assert_upload_error(&r, cases[i].status);
        harness_upload_response_free(&r);
        /* Nothing was published, neither at this key nor at the other account's. */
        assert_not_published(srv, g.file_key);
        assert_not_published(srv, og.file_key);
        free(data);
        free(scope);
        free(token);
    }
}

/* ---- overwrite, sizes, fileMd5 ------------------------------------------- */

static void test_overwrite(void **state)
{
    (void)state;
    harness_grant_opts_t o = {.file_id = "form-overwrite-1"};
    harness_grant_t g1, g2, g3;
    grant_ok(&o, &g1);
    grant_ok(&o, &g2); /* same video, a second token without overwrite */
    assert_string_equal(g1.file_key, g2.file_key);
    size_t len_a = 6000, len_b = 7000;
    uint8_t *a = harness_pattern(len_a, 31), *b = harness_pattern(len_b, 32);

    harness_upload_response_t r;
    assert_true(harness_form_upload(srv, g1.token, a, len_a, &r));
    char *qa = hash_query(a, len_a);
    assert_form_ok(&r, qa);
    harness_upload_response_free(&r);

    static const char *const which[] = {"the second token", "the first token again"};
    for (size_t i = 0; i < 2; i++) {
        print_message("  upload again with %s, overwrite 0 -> 406\n", which[i]);
        assert_true(harness_form_upload(srv, i == 0 ? g2.token : g1.token, b, len_b, &r));
        assert_upload_error(&r, 406);
        harness_upload_response_free(&r);
        assert_playback(srv, g1.file_key, a, len_a);
    }

    print_message("  overwrite=1 -> 200, the new bytes replace the old\n");
    o.overwrite = true;
    grant_ok(&o, &g3);
    assert_string_equal(g3.file_key, g1.file_key);
    assert_true(harness_form_upload(srv, g3.token, b, len_b, &r));
    char *qb = hash_query(b, len_b);
    assert_form_ok(&r, qb);
    harness_upload_response_free(&r);
    harness_response_t info;
    assert_uploaded(srv, NULL, g1.video_id, b, len_b, NULL, &info);
    harness_response_free(&info);
    assert_playback(srv, g1.file_key, b, len_b);
    free(qa);
    free(qb);
    free(a);
    free(b);
}

static void test_fsize_limit(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        size_t len;
        bool chunked;
        bool file_first;
        long status;
    } cases[] = {
        {"exactly fileSize", 1000, false, false, 200},
        {"one byte over fileSize", 1001, false, false, 413},
        {"one byte over, chunked", 1001, true, false, 413},
        {"one byte over, file before token", 1001, false, true, 413},
        {"4 KiB over", 5096, false, false, 413},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  fileSize 1000, %s (%zu bytes) -> %ld\n", cases[i].what, cases[i].len, cases[i].status);
        harness_grant_t g;
        grant_ok(&(harness_grant_opts_t){.file_size = "1000"}, &g);
        uint8_t *data = harness_pattern(cases[i].len, 500 + (uint32_t)i);
        harness_form_part_t token = {.name = "token", .data = g.token};
        harness_form_part_t file = {.name = "file", .data = data, .len = cases[i].len, .filename = "clip.mp4"};
        harness_form_part_t parts[2] = {cases[i].file_first ? file : token, cases[i].file_first ? token : file};
        harness_form_t f = {.parts = parts, .count = 2, .chunked = cases[i].chunked};
        harness_upload_response_t r;
        assert_true(harness_form_post(srv, &f, &r));
        if (cases[i].status == 200) {
            char *q = hash_query(data, cases[i].len);
            assert_form_ok(&r, q);
            free(q);
            assert_playback(srv, g.file_key, data, cases[i].len);
        } else {
            assert_upload_error(&r, cases[i].status);
            assert_not_published(srv, g.file_key);
        }
        harness_upload_response_free(&r);
        free(data);
    }
}

static void test_file_md5_mismatch(void **state)
{
    (void)state;
    size_t len = 20000;
    uint8_t *good = harness_pattern(len, 41), *bad = harness_pattern(len, 42);
    char md5[33];
    harness_md5_hex(good, len, md5);
    harness_grant_opts_t o = {.file_id = "form-md5-1", .file_md5 = md5};
    harness_grant_t g;
    grant_ok(&o, &g);

    print_message("  other bytes than fileMd5 says -> 400\n");
    harness_upload_response_t r;
    assert_true(harness_form_upload(srv, g.token, bad, len, &r));
    assert_upload_error(&r, 400);
    assert_string_equal(harness_json_str(r.json, "message"), MD5_MISMATCH);
    harness_upload_response_free(&r);
    assert_not_published(srv, g.file_key);

    harness_response_t info;
    assert_true(harness_video_info(srv, NULL, g.video_id, &info));
    assert_api_ok(&info);
    const char *status = harness_json_str(harness_data(&info), "status");
    const char *reason = harness_json_str(harness_data(&info), "failReason");
    print_message("  getVideoInfo: status %s, failReason %s\n", status ? status : "(null)", reason ? reason : "(null)");
    assert_string_equal(status, "failed");
    assert_non_null(reason);
    assert_non_null(strstr(reason, "fileMd5"));
    harness_response_free(&info);

    print_message("  a fresh token (same fileId) and the right bytes -> 200\n");
    harness_grant_t g2;
    grant_ok(&o, &g2);
    assert_string_equal(g2.video_id, g.video_id);
    assert_true(harness_form_upload(srv, g2.token, good, len, &r));
    char *q = hash_query(good, len);
    assert_form_ok(&r, q);
    free(q);
    harness_upload_response_free(&r);
    json_t *v = assert_uploaded(srv, NULL, g.video_id, good, len, NULL, &info);
    assert_string_equal(harness_json_str(v, "md5"), md5);
    harness_response_free(&info);
    assert_playback(srv, g.file_key, good, len);
    free(good);
    free(bad);
}

/* ---- every response: X-Reqid, Connection: close, CORS ----------------------- */

static void test_reqid_and_connection_close(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        bool valid_token;
        bool close;
    } cases[] = {
        {"success", true, false},
        {"success, Connection: close", true, true},
        {"401, Connection: close", false, true},
        {"401", false, false},
    };
    char seen[4][128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        harness_grant_t g;
        grant_ok(NULL, &g);
        uint8_t *data = harness_pattern(1000, 600 + (uint32_t)i);
        static const char *const close_hdr[] = {"Connection: close", NULL};
        harness_form_part_t parts[2] = {
            {.name = "token", .data = cases[i].valid_token ? g.token : "AK:bad:token"},
            {.name = "file", .data = data, .len = 1000, .filename = "clip.mp4"},
        };
        harness_form_t f = {.parts = parts, .count = 2, .headers = cases[i].close ? close_hdr : NULL};
        harness_upload_response_t r;
        assert_true(harness_form_post(srv, &f, &r));
        const char *conn = harness_header(&r, "Connection");
        print_message("  %-28s HTTP %ld, X-Reqid %s, Connection %s\n", cases[i].what, r.status,
                      harness_header(&r, "X-Reqid") ? harness_header(&r, "X-Reqid") : "(none)", conn ? conn : "(none)");
        assert_upload_status(&r, cases[i].valid_token ? 200 : 401);
        if (!cases[i].valid_token)
            assert_upload_error(&r, 401);
        if (cases[i].close)
            assert_true(harness_list_has(conn, "close"));
        /* Unique per response. */
        snprintf(seen[i], sizeof(seen[i]), "%s", harness_header(&r, "X-Reqid"));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
        harness_upload_response_free(&r);
        free(data);
    }
}

static void assert_preflight(harness_server_t *s, const char *path, const char *origin, bool allowed)
{
    char origin_hdr[128];
    snprintf(origin_hdr, sizeof(origin_hdr), "Origin: %s", origin);
    const char *const headers[] = {origin_hdr, "Access-Control-Request-Method: POST",
                                   "Access-Control-Request-Headers: authorization,content-type", NULL};
    harness_upload_request_t req = {.method = "OPTIONS", .path = path, .headers = headers};
    harness_upload_response_t r;
    assert_true(harness_upload_send(s, &req, &r));
    const char *acao = harness_header(&r, "Access-Control-Allow-Origin");
    const char *methods = harness_header(&r, "Access-Control-Allow-Methods");
    const char *allow_headers = harness_header(&r, "Access-Control-Allow-Headers");
    print_message("  OPTIONS %-22s Origin %s -> %ld, Allow-Origin %s, Allow-Methods %s, Allow-Headers %s\n", path,
                  origin, r.status, acao ? acao : "(none)", methods ? methods : "(none)",
                  allow_headers ? allow_headers : "(none)");
    if (allowed) {
        assert_upload_status(&r, 200);
        assert_non_null(acao);
        assert_true(strcmp(acao, "*") == 0 || strcmp(acao, origin) == 0);
        assert_true(harness_list_has(methods, "POST"));
        assert_true(harness_list_has(methods, "OPTIONS"));
        static const char *const wanted[] = {"authorization", "uploadbatch", "key", "mimetype", "deadline",
                                             "content-type"};
        for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
            if (!harness_list_has(allow_headers, wanted[i]))
                print_error("Access-Control-Allow-Headers lacks %s\n", wanted[i]);
            assert_true(harness_list_has(allow_headers, wanted[i]));
        }
    } else {
        /* Not allowed: the origin is not answered (and no wildcard either). */
        assert_true(!acao || (strcmp(acao, "*") != 0 && strcmp(acao, origin) != 0));
    }
    harness_upload_response_free(&r);
}

static void test_cors_default_origins(void **state)
{
    (void)state;
    static const char *const paths[] = {"/file/upload", "/mkblk/4194304/0", "/bput/c3RhbGU/0", "/mkfile/10"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        assert_preflight(srv, paths[i], "https://app.example", true);

    /* Allow-Origin on a success and on errors (401, 406, 413). */
    static const char *const origin[] = {"Origin: https://app.example", NULL};
    harness_grant_t g, big;
    grant_ok(NULL, &g);
    grant_ok(&(harness_grant_opts_t){.file_size = "10"}, &big);
    uint8_t *data = harness_pattern(100, 5);
    static const struct {
        const char *what;
        int token; /* 0 valid, 1 bad, 2 fsizeLimit 10 */
        long status;
    } cases[] = {
        {"success", 0, 200},
        {"406 (the same token again)", 0, 406},
        {"401", 1, 401},
        {"413", 2, 413},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *token = cases[i].token == 0 ? g.token : cases[i].token == 1 ? "AK:bad:token" : big.token;
        harness_form_part_t parts[2] = {
            {.name = "token", .data = token},
            {.name = "file", .data = data, .len = 100, .filename = "clip.mp4"},
        };
        harness_form_t f = {.parts = parts, .count = 2, .headers = origin};
        harness_upload_response_t r;
        assert_true(harness_form_post(srv, &f, &r));
        const char *acao = harness_header(&r, "Access-Control-Allow-Origin");
        print_message("  POST %-28s -> %ld, Allow-Origin %s\n", cases[i].what, r.status, acao ? acao : "(none)");
        if (cases[i].status == 200)
            assert_upload_status(&r, 200);
        else
            assert_upload_error(&r, cases[i].status);
        assert_non_null(acao);
        assert_true(strcmp(acao, "*") == 0 || strcmp(acao, "https://app.example") == 0);
        harness_upload_response_free(&r);
    }
    free(data);
}

/* A server with --cors-origins https://a.example --max-upload-size 65536. */
static void test_cors_origins_and_max_upload_size(void **state)
{
    (void)state;
    static const char *const args[] = {"--cors-origins", "https://a.example", "--max-upload-size", "65536", NULL};
    harness_server_t *s2 = harness_server_start(args);
    assert_non_null(s2);

    assert_preflight(s2, "/file/upload", "https://a.example", true);
    assert_preflight(s2, "/mkblk/4194304/0", "https://a.example", true);
    assert_preflight(s2, "/file/upload", "https://b.example", false);
    assert_preflight(s2, "/mkfile/10", "https://b.example", false);

    static const struct {
        const char *what;
        const char *origin;
        size_t len;
        bool chunked;
        long status;
    } cases[] = {
        {"max-upload-size exactly, origin a", "https://a.example", 65536, false, 200},
        {"max-upload-size exactly, origin b", "https://b.example", 65536, false, 200},
        {"one byte over, origin a", "https://a.example", 65537, false, 413},
        {"one byte over, chunked, origin b", "https://b.example", 65537, true, 413},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        harness_grant_t g;
        assert_true(harness_grant(s2, NULL, &g));
        uint8_t *data = harness_pattern(cases[i].len, 700 + (uint32_t)i);
        char origin_hdr[64];
        snprintf(origin_hdr, sizeof(origin_hdr), "Origin: %s", cases[i].origin);
        const char *const headers[] = {origin_hdr, NULL};
        harness_form_part_t parts[2] = {
            {.name = "token", .data = g.token},
            {.name = "file", .data = data, .len = cases[i].len, .filename = "clip.mp4"},
        };
        harness_form_t f = {.parts = parts, .count = 2, .chunked = cases[i].chunked, .headers = headers};
        harness_upload_response_t r;
        assert_true(harness_form_post(s2, &f, &r));
        const char *acao = harness_header(&r, "Access-Control-Allow-Origin");
        print_message("  %-40s -> %ld, Allow-Origin %s\n", cases[i].what, r.status, acao ? acao : "(none)");
        if (cases[i].status == 200) {
            char *q = hash_query(data, cases[i].len);
            assert_form_ok(&r, q);
            free(q);
            assert_playback(s2, g.file_key, data, cases[i].len);
        } else {
            assert_upload_error(&r, cases[i].status);
            assert_not_published(s2, g.file_key);
        }
        if (strcmp(cases[i].origin, "https://a.example") == 0)
            assert_true(acao && strcmp(acao, "https://a.example") == 0);
        else
            assert_true(!acao || (strcmp(acao, "*") != 0 && strcmp(acao, cases[i].origin) != 0));
        harness_upload_response_free(&r);
        free(data);
    }
    const char *leak = harness_log_find_secret(s2);
    if (leak)
        print_error("the second server's log holds a secret or token: %.12s...\n", leak);
    assert_null(leak);
    assert_int_equal(harness_server_stop(s2), 0);
}

/* ---- main ------------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    srv = harness_server_start(NULL);
    if (!srv)
        return -1;
    return harness_admin_key_create(srv, "form-other", &other_key) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    int rc = harness_server_finish(srv);
    srv = NULL;
    fprintf(stderr, "test_upload_form: %.1f MiB of request bodies sent\n",
            (double)harness_upload_bytes_sent() / HARNESS_MIB);
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_values),
        cmocka_unit_test(test_field_orders),
        cmocka_unit_test(test_field_values_in_pieces),
        cmocka_unit_test(test_transfer_modes),
        cmocka_unit_test(test_success_answer_and_video_info),
        cmocka_unit_test(test_spec_etag_examples),
        cmocka_unit_test(test_minted_tokens_accepted),
        cmocka_unit_test(test_return_body),
        cmocka_unit_test(test_return_url),
        cmocka_unit_test(test_token_errors),
        cmocka_unit_test(test_overwrite),
        cmocka_unit_test(test_fsize_limit),
        cmocka_unit_test(test_file_md5_mismatch),
        cmocka_unit_test(test_reqid_and_connection_close),
        cmocka_unit_test(test_cors_default_origins),
        cmocka_unit_test(test_cors_origins_and_max_upload_size),
    };
    return cmocka_run_group_tests_name("integration.test_upload_form", tests, group_setup, group_teardown);
}
