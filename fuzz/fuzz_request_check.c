/*
 * fuzz_request_check: feeds arbitrary request heads to request_check (the
 * framing and header rules every request passes before routing) and checks
 * that whatever it accepts keeps its promises, as a second, plain
 * implementation sees them: a clean target, token names, no control bytes,
 * no second copy of a single header, one way of framing the body, a Host
 * on HTTP/1.1.
 *
 * Input: "METHOD TARGET VERSION" then header lines, split on LF (a CR
 * before it is dropped) and at the first colon, as libmicrohttpd does.
 * Every name and value is copied into a buffer of exactly its length, with
 * no NUL after it, so that AddressSanitizer catches a read past the length.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/request_check.h"

#define FUZZ_MAX_HEADERS 64

static void fuzz_check(bool cond)
{
    if (!cond)
        __builtin_trap();
}

static const char *const fuzz_single[] = {REQUEST_CHECK_SINGLE_HEADERS};

typedef struct fuzz_head {
    char *target;  /* NUL-terminated, may be NULL */
    char *version; /* NUL-terminated */
    request_check_header_t headers[FUZZ_MAX_HEADERS];
    size_t count;
} fuzz_head_t;

/* A copy of exactly len bytes (1 when len is 0, so malloc never returns NULL for it). */
static char *fuzz_copy(const char *p, size_t len, bool terminate)
{
    char *out = malloc(len + (terminate ? 1 : 0) + (len == 0));
    if (!out)
        abort();
    memcpy(out, p, len);
    if (terminate)
        out[len] = '\0';
    return out;
}

/* The request line, as libmicrohttpd splits it: method up to the first
 * space, version after the last one, the target in between. */
static void fuzz_parse_request_line(fuzz_head_t *h, const char *line, size_t len)
{
    const char *first = memchr(line, ' ', len);
    const char *last = NULL;
    for (size_t i = len; i > 0 && first; i--)
        if (line[i - 1] == ' ') {
            last = line + i - 1;
            break;
        }
    if (!first || last == first) {
        h->target = first ? fuzz_copy(first + 1, (size_t)(line + len - first - 1), true) : NULL;
        h->version = fuzz_copy("", 0, true);
        return;
    }
    h->target = fuzz_copy(first + 1, (size_t)(last - first - 1), true);
    h->version = fuzz_copy(last + 1, (size_t)(line + len - last - 1), true);
}

static void fuzz_parse_header(fuzz_head_t *h, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    if (!colon || h->count == FUZZ_MAX_HEADERS)
        return;
    const char *value = colon + 1;
    while (value < line + len && (*value == ' ' || *value == '\t'))
        value++;
    request_check_header_t *x = &h->headers[h->count++];
    x->name_len = (size_t)(colon - line);
    x->name = fuzz_copy(line, x->name_len, false);
    x->value_len = (size_t)(line + len - value);
    x->value = fuzz_copy(value, x->value_len, false);
}

static void fuzz_parse(fuzz_head_t *h, const char *data, size_t size)
{
    memset(h, 0, sizeof(*h));
    const char *end = data + size;
    for (const char *p = data; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (!h->version)
            fuzz_parse_request_line(h, p, len);
        else
            fuzz_parse_header(h, p, len);
        p = nl ? nl + 1 : end;
    }
    if (!h->version)
        h->version = fuzz_copy("", 0, true);
}

static void fuzz_free(fuzz_head_t *h)
{
    for (size_t i = 0; i < h->count; i++) {
        free((void *)h->headers[i].name);
        free((void *)h->headers[i].value);
    }
    free(h->target);
    free(h->version);
}

/* ---- the promises of an accepted head, checked the plain way ---- */

static bool fuzz_token(const char *s, size_t len)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\0' || !strchr(tchar, s[i]))
            return false;
    return true;
}

static bool fuzz_named(const request_check_header_t *x, const char *name)
{
    return x->name_len == strlen(name) && strncasecmp(x->name, name, x->name_len) == 0;
}

static size_t fuzz_count_named(const fuzz_head_t *h, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < h->count; i++)
        n += fuzz_named(&h->headers[i], name);
    return n;
}

static const request_check_header_t *fuzz_find(const fuzz_head_t *h, const char *name)
{
    for (size_t i = 0; i < h->count; i++)
        if (fuzz_named(&h->headers[i], name))
            return &h->headers[i];
    return NULL;
}

static void fuzz_check_target(const char *t)
{
    fuzz_check(t && *t);
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        fuzz_check(*p > ' ' && *p != 0x7f);
    fuzz_check(strstr(t, "%00") == NULL);
}

static void fuzz_check_header(const request_check_header_t *x)
{
    fuzz_check(fuzz_token(x->name, x->name_len));
    for (size_t i = 0; i < x->value_len; i++) {
        unsigned char c = (unsigned char)x->value[i];
        fuzz_check(c == '\t' || (c >= ' ' && c != 0x7f));
    }
}

static void fuzz_check_framing(const fuzz_head_t *h)
{
    const request_check_header_t *cl = fuzz_find(h, "Content-Length");
    const request_check_header_t *te = fuzz_find(h, "Transfer-Encoding");
    fuzz_check(!(cl && te));
    if (cl) {
        fuzz_check(cl->value_len > 0);
        for (size_t i = 0; i < cl->value_len; i++)
            fuzz_check(cl->value[i] >= '0' && cl->value[i] <= '9');
    }
    if (te) {
        fuzz_check(strcmp(h->version, "HTTP/1.0") != 0);
        fuzz_check(te->value_len >= 7);
    }
    if (strcmp(h->version, "HTTP/1.0") != 0)
        fuzz_check(fuzz_find(h, "Host") != NULL);
}

static void fuzz_check_accepted(const fuzz_head_t *h)
{
    fuzz_check_target(h->target);
    for (size_t i = 0; i < h->count; i++)
        fuzz_check_header(&h->headers[i]);
    for (size_t i = 0; i < sizeof(fuzz_single) / sizeof(fuzz_single[0]); i++)
        fuzz_check(fuzz_count_named(h, fuzz_single[i]) <= 1);
    fuzz_check_framing(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_head_t h;
    fuzz_parse(&h, (const char *)data, size);
    request_check_t rc;
    const char *why = request_check_all(&rc, h.version, h.target, h.headers, h.count);
    if (why) {
        size_t n = strnlen(why, REQUEST_CHECK_MESSAGE_MAX + 64);
        fuzz_check(n > 0 && n < REQUEST_CHECK_MESSAGE_MAX);
    } else {
        fuzz_check_accepted(&h);
    }
    /* The streaming calls reach the same verdict. */
    request_check_t again;
    request_check_begin(&again, h.version, h.target);
    for (size_t i = 0; i < h.count; i++)
        request_check_header(&again, h.headers[i].name, h.headers[i].name_len, h.headers[i].value,
                             h.headers[i].value_len);
    const char *why_again = request_check_end(&again);
    fuzz_check((why == NULL) == (why_again == NULL));
    fuzz_check(!why || strcmp(why, why_again) == 0);
    fuzz_free(&h);
    return 0;
}
