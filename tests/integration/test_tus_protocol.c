/*
 * test_tus_protocol: the tus 1.0 endpoint (<uploadUrl>/files/, docs/upload.md
 * "tus 1.0 uploads") driven by data files, one case per file, in the spirit
 * of curl's tests/data: tests/tus/cases/NNN-short-name.case.  Each case is
 * one cmocka test named after its file; a case runs against a fresh grant
 * (getUploadToken with a fileId of its own, so a fresh fileKey) on a server
 * shared by the whole run.  Adding a case never touches this file.
 *
 * The format (tests/tus/README.md has the long version):
 *
 *     # a comment                     blank lines and comments are ignored
 *     title: what the case proves     required
 *     server: small                   optional: "default" or "small" (below)
 *     file: <bytes n=1000 seed=7>     optional: the upload's content, or literal text
 *     grant: fileSize=${FILE_SIZE}    optional getUploadToken parameters: fileSize,
 *                                     fileMd5, overwrite, name (originFileName)
 *     mint: NAME deadline=-60 [scope=bucket] [extra=,"fsizeLimit":10]
 *                                     an owner-minted token ${NAME} for the grant's
 *                                     fileKey (scope=bucket: without a key), deadline
 *                                     in seconds from now; extra: JSON members
 *
 *     PATCH /files/${ID}              a step: METHOD and path
 *     > Tus-Resumable: 1.0.0          a request header (Content-Type is only sent when given)
 *     body: <file 0-99>               the body: <file A-B> (bytes A..B of the file, both
 *                                     inclusive, "A-" to the end), <file>, <bytes n= seed=>,
 *                                     or literal text (nothing after the colon: empty)
 *     < 204                           the expected status
 *     < Upload-Offset: 100            a header equal to a value
 *     < Upload-Expires ~ GMT$         a header matching a POSIX extended regex
 *     < Tus-Extension has creation, termination   a comma list holding each item
 *     < no Upload-Length              a header absent
 *     < body ~ "code":409             the body matching a regex
 *     capture: ID = Location          a variable from a header (optionally "~ regex",
 *                                     whose first group is kept)
 *
 *     video: uploaded [mimeType=M]    a step: getVideoInfo says uploaded with the file's
 *                                     size, md5 and etag, and GET /<fileKey> plays it back;
 *                                     "video: not uploaded": any other status
 *     sql: UPDATE ...                 a step: a statement on the server's database
 *                                     (white box, for states only time reaches)
 *     restart: server                 a step: SIGTERM the server (its PID) and start it again
 *     wait: 500                       a step: sleep (ms)
 *
 * Variables ${NAME} or ${NAME:filter} (filters: b64, standard base64 of the
 * value; flip, the value with its middle character changed) are expanded in
 * paths, headers, bodies, expectations and SQL: TOKEN (the grant's
 * uploadToken), TOKEN_BAD_SIG, TOKEN_OTHER_KEY (another fileKey of the same
 * account), TOKEN_OTHER_ACCOUNT, TOKEN_FRESH (getUploadToken again with the
 * same fileId), the minted names, FILE_SIZE, FILE_MD5, FILE_KEY, BUCKET,
 * VIDEO_ID, BASE_URL, BODY_SHA1 / BODY_MD5 / BODY_CRC32 (this step's body:
 * base64 of the raw digest, crc32 as 4 big-endian bytes) and every capture.
 *
 * Servers: "default" is `vodup serve` with the harness's flags; "small" adds
 * --max-upload-size 1000 --max-tus-uploads-per-file 3.  Each starts on first use.
 *
 * `integration_test_tus_protocol --parse-only` checks every case file and
 * exits; TUS_CASE=<glob> runs only the cases whose file names match.
 */
#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "harness.h"
#include "harness_upload.h"

#define CASE_DIR VODUP_SOURCE_DIR "/tests/tus/cases"
#define CASE_MAX 256
#define CASE_MAX_STEPS 32
#define CASE_MAX_MINTS 6
#define CASE_MAX_VARS 32
#define STEP_MAX_LINES 24
#define STEP_MAX_CAPTURES 4
#define LINE_MAX_LEN 8192

/* ---- the parsed case ------------------------------------------------------- */

enum expect_kind { EXPECT_EQUAL, EXPECT_MATCH, EXPECT_HAS, EXPECT_ABSENT, EXPECT_BODY };

typedef struct expect {
    int kind;   /* enum expect_kind */
    char *name; /* header name; NULL for EXPECT_BODY */
    char *value;
} expect_t;

typedef struct step {
    int line;                       /* where the step starts, for messages */
    char *method, *path;            /* a request; NULL for the other steps */
    char *send[STEP_MAX_LINES];     /* "Name: value" */
    size_t send_count;
    char *body;                     /* the body spec; NULL: none */
    long status;                    /* 0: not checked */
    expect_t expect[STEP_MAX_LINES];
    size_t expect_count;
    char *capture[STEP_MAX_CAPTURES]; /* "NAME = Header [~ regex]" */
    size_t capture_count;
    char *video, *sql;              /* video: and sql: steps */
    int wait_ms;                    /* wait: steps */
    bool restart;                   /* restart: server */
} step_t;

typedef struct tus_case {
    char *title, *server, *file, *grant;
    char *mint[CASE_MAX_MINTS];
    size_t mint_count;
    step_t steps[CASE_MAX_STEPS];
    size_t step_count;
} tus_case_t;

/* ---- servers ------------------------------------------------------------------ */

typedef struct server {
    const char *name;
    const char *const *args;
    harness_server_t *hs; /* NULL until first used */
    harness_key_t other;  /* a second account (TOKEN_OTHER_ACCOUNT) */
    bool have_other;
} server_t;

static const char *const small_args[] = {"--max-upload-size", "1000", "--max-tus-uploads-per-file", "3", NULL};
static server_t servers[] = {{.name = "default"}, {.name = "small", .args = small_args}};
static char case_paths[CASE_MAX][512];
static unsigned grant_counter;

/* ---- small utilities --------------------------------------------------------- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

/* Standard base64 of data; malloc'd. */
static char *b64_std(const void *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    assert_non_null(out);
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

/* base64 of the raw digest `md` ("sha1", "md5") of data; malloc'd. */
static char *digest_b64(const char *md, const void *data, size_t len)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(data, len, d, &n, EVP_get_digestbyname(md), NULL), 1);
    return b64_std(d, n);
}

static char *crc32_b64(const void *data, size_t len)
{
    uint32_t c = harness_crc32(data, len);
    unsigned char be[4] = {(unsigned char)(c >> 24), (unsigned char)(c >> 16), (unsigned char)(c >> 8),
                           (unsigned char)c};
    return b64_std(be, 4);
}

/* A copy with the middle character changed, staying in the url-safe alphabet. */
static char *flip_middle(const char *s)
{
    char *t = xstrdup(s);
    size_t n = strlen(t);
    if (n > 0)
        t[n / 2] = t[n / 2] == 'A' ? 'B' : 'A';
    return t;
}

static bool regex_match(const char *pattern, const char *text, char *group, size_t group_len)
{
    regex_t re;
    regmatch_t m[2];
    if (regcomp(&re, pattern, REG_EXTENDED) != 0)
        return false;
    bool ok = regexec(&re, text, 2, m, 0) == 0;
    if (ok && group) {
        int i = m[1].rm_so >= 0 ? 1 : 0;
        size_t n = (size_t)(m[i].rm_eo - m[i].rm_so);
        ok = n < group_len;
        if (ok)
            snprintf(group, group_len, "%.*s", (int)n, text + m[i].rm_so);
    }
    regfree(&re);
    return ok;
}

static bool regex_valid(const char *pattern)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED) != 0)
        return false;
    regfree(&re);
    return true;
}

/* ---- parsing ----------------------------------------------------------------------- */

/* Parses one "< ..." line after the status into *e; false when malformed. */
static bool expect_parse(char *text, expect_t *e)
{
    char *sep;
    memset(e, 0, sizeof(*e));
    if (strncmp(text, "no ", 3) == 0) {
        e->kind = EXPECT_ABSENT;
        e->name = xstrdup(trim(text + 3));
        return e->name[0] != '\0';
    }
    if (strncmp(text, "body ~ ", 7) == 0) {
        e->kind = EXPECT_BODY;
        e->value = xstrdup(text + 7);
        return regex_valid(e->value);
    }
    size_t n = strcspn(text, ": ");
    if (n == 0 || text[n] == '\0')
        return false;
    sep = text + n;
    if (*sep == ':') {
        e->kind = EXPECT_EQUAL;
        e->value = xstrdup(trim(sep + 1));
    } else if (strncmp(sep, " ~ ", 3) == 0) {
        e->kind = EXPECT_MATCH;
        e->value = xstrdup(sep + 3);
    } else if (strncmp(sep, " has ", 5) == 0) {
        e->kind = EXPECT_HAS;
        e->value = xstrdup(trim(sep + 5));
    } else {
        return false;
    }
    e->name = strndup(text, n);
    return e->kind != EXPECT_MATCH || strstr(e->value, "${") || regex_valid(e->value);
}

static bool is_request_line(const char *line)
{
    size_t n = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    return n >= 3 && line[n] == ' ' && line[n + 1] == '/';
}

static step_t *case_new_step(tus_case_t *c, int lineno)
{
    if (c->step_count >= CASE_MAX_STEPS)
        return NULL;
    step_t *s = &c->steps[c->step_count++];
    s->line = lineno;
    return s;
}

/* A line inside a request step ("> ", "< ", body:, capture:).  false when malformed. */
static bool parse_step_line(step_t *s, char *line)
{
    if (strncmp(line, "> ", 2) == 0 && s->status == 0 && s->send_count < STEP_MAX_LINES) {
        s->send[s->send_count++] = xstrdup(line + 2);
        return strchr(line, ':') != NULL;
    }
    if (strncmp(line, "body:", 5) == 0 && !s->body) {
        s->body = xstrdup(line[5] == ' ' ? line + 6 : line + 5);
        return true;
    }
    if (strncmp(line, "< ", 2) == 0 && s->status == 0) {
        char *end;
        s->status = strtol(line + 2, &end, 10);
        return *trim(end) == '\0' && s->status >= 100 && s->status <= 599;
    }
    if (strncmp(line, "< ", 2) == 0 && s->expect_count < STEP_MAX_LINES)
        return expect_parse(line + 2, &s->expect[s->expect_count++]);
    if (strncmp(line, "capture: ", 9) == 0 && s->capture_count < STEP_MAX_CAPTURES) {
        s->capture[s->capture_count++] = xstrdup(line + 9);
        return strstr(line, " = ") != NULL;
    }
    return false;
}

/* A line that starts a step or sets the case up.  false when malformed. */
static bool parse_top_line(tus_case_t *c, char *line, int lineno)
{
    static const struct {
        const char *prefix;
        size_t field;
    } fields[] = {{"title: ", offsetof(tus_case_t, title)},   {"server: ", offsetof(tus_case_t, server)},
                  {"file: ", offsetof(tus_case_t, file)},     {"grant: ", offsetof(tus_case_t, grant)}};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        char **slot = (char **)((char *)c + fields[i].field);
        if (strncmp(line, fields[i].prefix, strlen(fields[i].prefix)) == 0 && c->step_count == 0 && !*slot) {
            *slot = xstrdup(line + strlen(fields[i].prefix));
            return true;
        }
    }
    if (strncmp(line, "mint: ", 6) == 0 && c->step_count == 0 && c->mint_count < CASE_MAX_MINTS) {
        c->mint[c->mint_count++] = xstrdup(line + 6);
        return true;
    }
    step_t *s = NULL;
    if (is_request_line(line) && (s = case_new_step(c, lineno))) {
        char *sp = strchr(line, ' ');
        s->method = strndup(line, (size_t)(sp - line));
        s->path = xstrdup(sp + 1);
        return true;
    }
    if (strncmp(line, "video: ", 7) == 0 && (s = case_new_step(c, lineno)))
        return (s->video = xstrdup(line + 7)) != NULL;
    if (strncmp(line, "sql: ", 5) == 0 && (s = case_new_step(c, lineno)))
        return (s->sql = xstrdup(line + 5)) != NULL;
    if (strcmp(line, "restart: server") == 0 && (s = case_new_step(c, lineno)))
        return (s->restart = true);
    if (strncmp(line, "wait: ", 6) == 0 && (s = case_new_step(c, lineno)))
        return (s->wait_ms = atoi(line + 6)) > 0;
    return false;
}

static bool parse_line(tus_case_t *c, char *line, int lineno)
{
    step_t *cur = c->step_count ? &c->steps[c->step_count - 1] : NULL;
    bool in_request = cur && cur->method;
    if (in_request && (line[0] == '>' || line[0] == '<' || !strncmp(line, "body:", 5) ||
                       !strncmp(line, "capture: ", 9)))
        return parse_step_line(cur, line);
    return parse_top_line(c, line, lineno);
}

/* Reads and parses a case file; false (with the reason on stderr) when malformed. */
static bool case_parse(const char *path, tus_case_t *c)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return false;
    }
    char buf[LINE_MAX_LEN];
    bool ok = true;
    for (int lineno = 1; ok && fgets(buf, sizeof(buf), f); lineno++) {
        char *line = trim(buf);
        if (line[0] == '\0' || line[0] == '#')
            continue;
        ok = parse_line(c, line, lineno);
        if (!ok)
            fprintf(stderr, "%s:%d: cannot parse: %s\n", path, lineno, line);
    }
    fclose(f);
    if (ok && (!c->title || c->step_count == 0)) {
        fprintf(stderr, "%s: a case needs a title and at least one step\n", path);
        ok = false;
    }
    for (size_t i = 0; ok && i < c->step_count; i++)
        if (c->steps[i].method && c->steps[i].status == 0) {
            fprintf(stderr, "%s:%d: the step expects no status\n", path, c->steps[i].line);
            ok = false;
        }
    return ok;
}

static void step_free(step_t *s)
{
    free(s->method), free(s->path), free(s->body), free(s->video), free(s->sql);
    for (size_t i = 0; i < s->send_count; i++)
        free(s->send[i]);
    for (size_t i = 0; i < s->expect_count; i++)
        free(s->expect[i].name), free(s->expect[i].value);
    for (size_t i = 0; i < s->capture_count; i++)
        free(s->capture[i]);
}

static void case_free(tus_case_t *c)
{
    free(c->title), free(c->server), free(c->file), free(c->grant);
    for (size_t i = 0; i < c->mint_count; i++)
        free(c->mint[i]);
    for (size_t i = 0; i < c->step_count; i++)
        step_free(&c->steps[i]);
}

/* ---- a running case: its grant, file and variables -------------------------------- */

typedef struct run {
    const char *name;    /* the case file's name */
    server_t *server;
    harness_grant_t grant;
    harness_grant_opts_t opts;
    char file_id[40];
    uint8_t *file, *body; /* the case's file and this step's body */
    size_t file_len, body_len;
    char *var_names[CASE_MAX_VARS], *var_values[CASE_MAX_VARS];
    size_t var_count;
} run_t;

static void run_set(run_t *r, const char *name, const char *value)
{
    for (size_t i = 0; i < r->var_count; i++)
        if (strcmp(r->var_names[i], name) == 0) {
            free(r->var_values[i]);
            r->var_values[i] = xstrdup(value);
            return;
        }
    assert_true(r->var_count < CASE_MAX_VARS);
    r->var_names[r->var_count] = xstrdup(name);
    r->var_values[r->var_count++] = xstrdup(value);
}

static const char *run_get(const run_t *r, const char *name)
{
    for (size_t i = 0; i < r->var_count; i++)
        if (strcmp(r->var_names[i], name) == 0)
            return r->var_values[i];
    return NULL;
}

static harness_server_t *run_server(const run_t *r)
{
    return r->server->hs;
}

/* A grant like the case's, for another fileId (same = false) or the same one. */
static char *regrant_token(run_t *r, const harness_key_t *key, bool same)
{
    harness_grant_opts_t o = r->opts;
    harness_grant_t g;
    char id[40];
    snprintf(id, sizeof(id), "tus-%d-%u", (int)getpid(), ++grant_counter);
    o.file_id = same ? r->file_id : id;
    o.key = key;
    assert_true(harness_grant(run_server(r), &o, &g));
    return xstrdup(g.token);
}

static char *var_token_other_key(run_t *r)
{
    return regrant_token(r, NULL, false);
}

static char *var_token_fresh(run_t *r)
{
    return regrant_token(r, NULL, true);
}

static char *var_token_other_account(run_t *r)
{
    server_t *sv = r->server;
    if (!sv->have_other)
        sv->have_other = harness_admin_key_create(sv->hs, "tus-other", &sv->other);
    assert_true(sv->have_other);
    return regrant_token(r, &sv->other, false);
}

/* The grant's token with a character of its signature (the middle field) changed. */
static char *var_token_bad_sig(run_t *r)
{
    char *t = xstrdup(r->grant.token);
    char *a = strchr(t, ':'), *b = a ? strchr(a + 1, ':') : NULL;
    assert_true(b && b - a > 2);
    char *p = a + 1 + (b - a - 1) / 2;
    *p = *p == 'A' ? 'B' : 'A';
    return t;
}

static char *var_file_md5(run_t *r)
{
    char hex[33];
    harness_md5_hex(r->file, r->file_len, hex);
    return xstrdup(hex);
}

static char *var_file_size(run_t *r)
{
    return harness_strf("%zu", r->file_len);
}

static char *var_body_sha1(run_t *r)
{
    return digest_b64("sha1", r->body, r->body_len);
}

static char *var_body_md5(run_t *r)
{
    return digest_b64("md5", r->body, r->body_len);
}

static char *var_body_crc32(run_t *r)
{
    return crc32_b64(r->body, r->body_len);
}

static char *var_base_url(run_t *r)
{
    return xstrdup(run_server(r)->base_url);
}

/* Variables computed on first use; cached unless they depend on the step's body. */
static const struct {
    const char *name;
    char *(*make)(run_t *r);
    bool cache;
} computed_vars[] = {
    {"TOKEN_OTHER_KEY", var_token_other_key, true},
    {"TOKEN_OTHER_ACCOUNT", var_token_other_account, true},
    {"TOKEN_FRESH", var_token_fresh, true},
    {"TOKEN_BAD_SIG", var_token_bad_sig, true},
    {"FILE_MD5", var_file_md5, true},
    {"FILE_SIZE", var_file_size, true},
    {"BASE_URL", var_base_url, true},
    {"BODY_SHA1", var_body_sha1, false},
    {"BODY_MD5", var_body_md5, false},
    {"BODY_CRC32", var_body_crc32, false},
};

/* The value of variable `name` with an optional filter; malloc'd, NULL when unknown. */
static char *var_value(run_t *r, const char *name, const char *filter)
{
    char *v = run_get(r, name) ? xstrdup(run_get(r, name)) : NULL;
    for (size_t i = 0; !v && i < sizeof(computed_vars) / sizeof(computed_vars[0]); i++)
        if (strcmp(computed_vars[i].name, name) == 0) {
            v = computed_vars[i].make(r);
            if (computed_vars[i].cache)
                run_set(r, name, v);
        }
    char *out = v;
    if (v && filter && strcmp(filter, "b64") == 0)
        out = b64_std(v, strlen(v));
    else if (v && filter && strcmp(filter, "flip") == 0)
        out = flip_middle(v);
    else if (v && filter)
        out = NULL;
    if (out != v)
        free(v);
    return out;
}

/* `text` with every ${NAME} or ${NAME:filter} replaced; malloc'd.  Fails the test on an unknown name. */
static char *expand(run_t *r, const char *text)
{
    char *out = xstrdup("");
    const char *p = text, *start;
    while ((start = strstr(p, "${"))) {
        const char *end = strchr(start, '}');
        if (!end)
            fail_msg("%s: unterminated ${ in: %s", r->name, text);
        char name[128], *colon;
        snprintf(name, sizeof(name), "%.*s", (int)(end - start - 2), start + 2);
        if ((colon = strchr(name, ':')))
            *colon++ = '\0';
        char *v = var_value(r, name, colon);
        if (!v)
            fail_msg("%s: unknown variable or filter ${%s%s%s}", r->name, name, colon ? ":" : "", colon ? colon : "");
        char *next = harness_strf("%s%.*s%s", out, (int)(start - p), p, v);
        free(out), free(v);
        out = next;
        p = end + 1;
    }
    char *next = harness_strf("%s%s", out, p);
    free(out);
    return next;
}

/* ---- bodies ---------------------------------------------------------------------- */

/* Bytes of a spec: <bytes n=N seed=S>, <file>, <file A-B>, <file A->, or literal text.
 * malloc'd into *data (never NULL). */
static void body_make(run_t *r, const char *spec, uint8_t **data, size_t *len)
{
    unsigned long long n, seed, a, b;
    char *text = expand(r, spec);
    if (sscanf(text, "<bytes n=%llu seed=%llu>", &n, &seed) == 2) {
        *data = harness_pattern((size_t)n, (uint32_t)seed), *len = (size_t)n;
    } else if (strncmp(text, "<file", 5) == 0) {
        a = 0, b = r->file_len ? r->file_len - 1 : 0;
        int got = sscanf(text, "<file %llu-%llu>", &a, &b);
        if (got < 0 || (got == 0 && strcmp(text, "<file>") != 0) || a > b + 1 || (got == 2 && b >= r->file_len))
            fail_msg("%s: bad body %s (the file has %zu bytes)", r->name, text, r->file_len);
        *len = r->file_len ? (size_t)(b - a + 1) : 0;
        *data = malloc(*len + 1);
        assert_non_null(*data);
        memcpy(*data, r->file + a, *len);
    } else {
        *len = strlen(text);
        *data = (uint8_t *)xstrdup(text);
    }
    assert_non_null(*data);
    free(text);
}

/* ---- setting a case up --------------------------------------------------------------- */

static server_t *server_named(const char *name)
{
    for (size_t i = 0; i < sizeof(servers) / sizeof(servers[0]); i++)
        if (strcmp(servers[i].name, name ? name : "default") == 0) {
            if (!servers[i].hs)
                servers[i].hs = harness_server_start(servers[i].args);
            return servers[i].hs ? &servers[i] : NULL;
        }
    return NULL;
}

/* grant: k=v ... into r->opts; the strings live in `spec` (modified). */
static void grant_options(run_t *r, char *spec)
{
    for (char *tok = strtok(spec, " "); tok; tok = strtok(NULL, " ")) {
        char *eq = strchr(tok, '=');
        if (!eq)
            fail_msg("%s: grant option without '=': %s", r->name, tok);
        *eq++ = '\0';
        if (strcmp(tok, "fileSize") == 0)
            r->opts.file_size = eq;
        else if (strcmp(tok, "fileMd5") == 0)
            r->opts.file_md5 = eq;
        else if (strcmp(tok, "overwrite") == 0)
            r->opts.overwrite = strcmp(eq, "1") == 0;
        else if (strcmp(tok, "name") == 0)
            r->opts.name = eq;
        else
            fail_msg("%s: unknown grant option %s", r->name, tok);
    }
}

/* mint: NAME deadline=S [scope=bucket] [extra=...] */
static void mint_token(run_t *r, const char *spec)
{
    char name[64] = "", *text = expand(r, spec), *extra = strstr(text, " extra=");
    long deadline = 0;
    if (extra)
        *extra = '\0', extra += 7;
    if (sscanf(text, "%63s deadline=%ld", name, &deadline) != 2)
        fail_msg("%s: bad mint line: %s", r->name, spec);
    char *scope = strstr(text, "scope=bucket") ? xstrdup(r->grant.bucket)
                                               : harness_strf("%s:%s", r->grant.bucket, r->grant.file_key);
    char *token = harness_mint_policy(run_server(r), NULL, scope, harness_now_ms() + deadline * 1000, extra);
    assert_non_null(token);
    run_set(r, name, token);
    free(token), free(scope), free(text);
}

static void run_setup(run_t *r, const tus_case_t *c, char **grant_spec)
{
    r->server = server_named(c->server);
    if (!r->server)
        fail_msg("%s: no server %s (or it did not start)", r->name, c->server);
    body_make(r, c->file ? c->file : "", &r->file, &r->file_len);
    *grant_spec = c->grant ? expand(r, c->grant) : xstrdup("");
    grant_options(r, *grant_spec);
    snprintf(r->file_id, sizeof(r->file_id), "tus-%d-%u", (int)getpid(), ++grant_counter);
    r->opts.file_id = r->file_id;
    assert_true(harness_grant(run_server(r), &r->opts, &r->grant));
    run_set(r, "TOKEN", r->grant.token);
    run_set(r, "FILE_KEY", r->grant.file_key);
    run_set(r, "BUCKET", r->grant.bucket);
    run_set(r, "VIDEO_ID", r->grant.video_id);
    for (size_t i = 0; i < c->mint_count; i++)
        mint_token(r, c->mint[i]);
}

static void run_free(run_t *r)
{
    free(r->file), free(r->body);
    for (size_t i = 0; i < r->var_count; i++)
        free(r->var_names[i]), free(r->var_values[i]);
}

/* ---- running a request step ------------------------------------------------------------ */

static void print_exchange(const run_t *r, const step_t *s, char *const *sent, size_t sent_count,
                           const harness_upload_response_t *resp)
{
    print_error("  request:  %s %s (%zu body bytes)\n", s->method, s->path, r->body_len);
    for (size_t i = 0; i < sent_count; i++)
        print_error("    > %.300s\n", sent[i]);
    print_error("  response: HTTP %ld\n", resp->status);
    for (size_t i = 0; i < resp->header_count; i++)
        print_error("    < %s: %.300s\n", resp->header_names[i], resp->header_values[i]);
    print_error("    body: %.400s\n", resp->body ? resp->body : "");
}

/* Whether one expectation holds; prints the mismatch when not. */
static bool expect_holds(run_t *r, const expect_t *e, const harness_upload_response_t *resp)
{
    char *want = e->value ? expand(r, e->value) : NULL;
    const char *got = e->name ? harness_header(resp, e->name) : resp->body;
    bool ok = false;
    const char *how = "";
    if (e->kind == EXPECT_ABSENT)
        ok = !got, how = "absent";
    else if (e->kind == EXPECT_EQUAL)
        ok = got && strcmp(got, want) == 0, how = "equal to";
    else if (e->kind == EXPECT_MATCH || e->kind == EXPECT_BODY)
        ok = got && regex_match(want, got, NULL, 0), how = "matching";
    else if (e->kind == EXPECT_HAS) {
        char *items = xstrdup(want), *save = NULL;
        ok = got != NULL;
        for (char *it = strtok_r(items, ",", &save); ok && it; it = strtok_r(NULL, ",", &save))
            ok = harness_list_has(got, trim(it));
        free(items);
        how = "holding";
    }
    if (!ok)
        print_error("  expected %s %s %s; got %s\n", e->name ? e->name : "body", how, want ? want : "",
                    got ? got : "(absent)");
    free(want);
    return ok;
}

/* capture: NAME = Header [~ regex] */
static bool capture_one(run_t *r, const char *spec, const harness_upload_response_t *resp)
{
    char var[64], header[128], value[1024];
    const char *re = strstr(spec, " ~ ");
    if (sscanf(spec, "%63s = %127s", var, header) != 2)
        fail_msg("%s: bad capture: %s", r->name, spec);
    const char *got = harness_header(resp, header);
    bool ok = got && strlen(got) < sizeof(value);
    if (ok && re)
        ok = regex_match(re + 3, got, value, sizeof(value));
    else if (ok)
        snprintf(value, sizeof(value), "%s", got);
    if (ok)
        run_set(r, var, value);
    else
        print_error("  capture %s: header %s %s\n", var, header, got ? "does not match" : "is absent");
    return ok;
}

static bool step_check(run_t *r, const step_t *s, const harness_upload_response_t *resp)
{
    bool ok = resp->status == s->status;
    if (!ok)
        print_error("  expected HTTP %ld; got %ld\n", s->status, resp->status);
    for (size_t i = 0; i < s->expect_count; i++)
        ok = expect_holds(r, &s->expect[i], resp) && ok;
    for (size_t i = 0; ok && i < s->capture_count; i++)
        ok = capture_one(r, s->capture[i], resp);
    return ok;
}

static bool has_content_type(char *const *lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strncasecmp(lines[i], "Content-Type:", 13) == 0)
            return true;
    return false;
}

static void step_request(run_t *r, const step_t *s)
{
    char *sent[STEP_MAX_LINES + 2] = {0};
    size_t n = 0;
    free(r->body), r->body = NULL, r->body_len = 0;
    bool with_body = s->body || !strcmp(s->method, "POST") || !strcmp(s->method, "PATCH");
    if (with_body)
        body_make(r, s->body ? s->body : "", &r->body, &r->body_len);
    for (; n < s->send_count; n++)
        sent[n] = expand(r, s->send[n]);
    if (!has_content_type(sent, n))
        sent[n++] = xstrdup("Content-Type:"); /* or libcurl adds a form type to a body */
    char *path = expand(r, s->path);
    harness_upload_request_t req = {.method = s->method, .path = path, .body = r->body,
                                    .body_len = r->body_len, .headers = (const char *const *)sent};
    harness_upload_response_t resp;
    harness_upload_send(run_server(r), &req, &resp);
    bool ok = step_check(r, s, &resp);
    if (!ok)
        print_exchange(r, s, sent, n, &resp);
    harness_upload_response_free(&resp);
    for (size_t i = 0; i < n; i++)
        free(sent[i]);
    free(path);
    if (!ok)
        fail_msg("%s:%d: %s %s", r->name, s->line, s->method, s->path);
}

/* ---- the other steps ------------------------------------------------------------------ */

static void step_video(run_t *r, const step_t *s)
{
    harness_response_t info;
    const char *mime = strstr(s->video, "mimeType=");
    if (strncmp(s->video, "uploaded", 8) == 0) {
        assert_uploaded(run_server(r), NULL, r->grant.video_id, r->file, r->file_len, mime ? mime + 9 : NULL, &info);
        harness_response_free(&info);
        assert_playback(run_server(r), r->grant.file_key, r->file, r->file_len);
        return;
    }
    if (strcmp(s->video, "not uploaded") != 0)
        fail_msg("%s:%d: video: uploaded [mimeType=M] or not uploaded", r->name, s->line);
    assert_true(harness_video_info(run_server(r), NULL, r->grant.video_id, &info));
    const char *status = harness_json_str(harness_data(&info), "status");
    if (!status || strcmp(status, "uploaded") == 0)
        fail_msg("%s:%d: expected a video not uploaded; getVideoInfo: %.500s", r->name, s->line, info.body);
    harness_response_free(&info);
}

static void step_sql(run_t *r, const step_t *s)
{
    char *sql = expand(r, s->sql);
    int changed = harness_db_exec(run_server(r), sql, NULL, NULL);
    /* A statement that changes rows must change one; CREATE and DROP change none. */
    bool ddl = strncmp(sql, "CREATE ", 7) == 0 || strncmp(sql, "DROP ", 5) == 0;
    if (changed < (ddl ? 0 : 1))
        fail_msg("%s:%d: sql changed %d rows: %s", r->name, s->line, changed, sql);
    free(sql);
}

/* Stops the server (SIGTERM, by its PID) and starts it again on the same data. */
static void step_restart(run_t *r, const step_t *s)
{
    if (harness_server_terminate(run_server(r)) != 0 || !harness_server_restart(run_server(r), r->server->args))
        fail_msg("%s:%d: the server did not restart", r->name, s->line);
}

static void step_run(run_t *r, const step_t *s)
{
    if (s->method)
        step_request(r, s);
    else if (s->video)
        step_video(r, s);
    else if (s->sql)
        step_sql(r, s);
    else if (s->restart)
        step_restart(r, s);
    else
        harness_sleep_ms(s->wait_ms);
}

/* ---- cmocka ----------------------------------------------------------------------------- */

static void test_case(void **state)
{
    const char *path = *state;
    tus_case_t c = {0};
    if (!case_parse(path, &c))
        fail_msg("%s: malformed case file", path);
    run_t r = {.name = strrchr(path, '/') + 1};
    char *grant_spec = NULL;
    print_message("  %s\n", c.title);
    run_setup(&r, &c, &grant_spec);
    for (size_t i = 0; i < c.step_count; i++)
        step_run(&r, &c.steps[i]);
    free(grant_spec);
    run_free(&r);
    case_free(&c);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The case files' paths, sorted, into case_paths; their count, -1 on error. */
static int find_cases(void)
{
    DIR *d = opendir(CASE_DIR);
    if (!d) {
        fprintf(stderr, "test_tus_protocol: %s: %s\n", CASE_DIR, strerror(errno));
        return -1;
    }
    char *names[CASE_MAX];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < CASE_MAX) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".case") == 0)
            names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(names[0]), name_cmp);
    for (int i = 0; i < n; i++) {
        snprintf(case_paths[i], sizeof(case_paths[i]), "%s/%s", CASE_DIR, names[i]);
        free(names[i]);
    }
    return n;
}

static int parse_only(int n)
{
    int bad = 0;
    for (int i = 0; i < n; i++) {
        tus_case_t c = {0};
        bad += !case_parse(case_paths[i], &c);
        case_free(&c);
    }
    printf("test_tus_protocol: %d case files, %d malformed\n", n, bad);
    return bad ? 1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    int rc = 0;
    for (size_t i = 0; i < sizeof(servers) / sizeof(servers[0]); i++)
        if (servers[i].hs)
            rc |= harness_server_finish(servers[i].hs);
    return rc;
}

int main(int argc, char **argv)
{
    static struct CMUnitTest tests[CASE_MAX];
    int n = find_cases();
    if (n <= 0)
        return 1;
    if (argc > 1 && strcmp(argv[1], "--parse-only") == 0)
        return parse_only(n);
    for (int i = 0; i < n; i++)
        tests[i] = (struct CMUnitTest){.name = strrchr(case_paths[i], '/') + 1, .test_func = test_case,
                                       .initial_state = case_paths[i]};
    if (getenv("TUS_CASE"))
        cmocka_set_test_filter(getenv("TUS_CASE"));
    return _cmocka_run_group_tests("integration.test_tus_protocol", tests, (size_t)n, NULL, group_teardown);
}
