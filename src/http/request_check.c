/* request_check: framing and header rules for every request; see request_check.h. */
#include "http/request_check.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const request_check_single[] = {REQUEST_CHECK_SINGLE_HEADERS};
#define REQUEST_CHECK_SINGLE_COUNT (sizeof(request_check_single) / sizeof(request_check_single[0]))

/* Bits of request_check_t.seen that the whole-request rules look at; they
 * are the positions of these names in REQUEST_CHECK_SINGLE_HEADERS. */
enum {
    REQUEST_CHECK_HOST = 0,
    REQUEST_CHECK_CONTENT_LENGTH = 3,
    REQUEST_CHECK_TRANSFER_ENCODING = 4,
};

_Static_assert(REQUEST_CHECK_SINGLE_COUNT <= 32, "request_check_t.seen has 32 bits");

static void request_check_fail(request_check_t *rc, const char *why)
{
    if (!rc->error)
        rc->error = why;
}

/* RFC 9110 5.6.2 tchar: the bytes a header name may hold. */
static bool request_check_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool request_check_name_ok(const char *name, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!request_check_tchar((unsigned char)name[i]))
            return false;
    return true;
}

/* A value may hold any byte but the controls (HTAB aside) and DEL: a CR,
 * LF or NUL inside a value means the head was split differently upstream. */
static bool request_check_value_ok(const char *value, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

static bool request_check_target_ok(const char *target)
{
    for (const unsigned char *p = (const unsigned char *)target; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* An encoded NUL: libmicrohttpd decodes the path into a C string, which
 * ends there, so everything after it would be silently dropped. */
static bool request_check_has_encoded_nul(const char *target)
{
    return strstr(target, "%00") != NULL;
}

void request_check_begin(request_check_t *rc, const char *version, const char *raw_target)
{
    memset(rc, 0, sizeof(*rc));
    rc->http10 = version && strcmp(version, "HTTP/1.0") == 0;
    if (!raw_target || !*raw_target)
        request_check_fail(rc, "The request line has no target.");
    else if (!request_check_target_ok(raw_target))
        request_check_fail(rc, "The request target holds a space or a control character.");
    else if (request_check_has_encoded_nul(raw_target))
        request_check_fail(rc, "The request target holds an encoded NUL (%00).");
}

/* The index of `name` in REQUEST_CHECK_SINGLE_HEADERS, -1 when not there. */
static int request_check_single_index(const char *name, size_t len)
{
    for (size_t i = 0; i < REQUEST_CHECK_SINGLE_COUNT; i++)
        if (strlen(request_check_single[i]) == len && strncasecmp(request_check_single[i], name, len) == 0)
            return (int)i;
    return -1;
}

/* 1*DIGIT with a value up to INT64_MAX. */
static bool request_check_length_ok(const char *value, size_t len)
{
    uint64_t v = 0;
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(value[i] - '0');
        if (v > (uint64_t)INT64_MAX)
            return false;
    }
    return true;
}

/* "chunked", any case, with blanks around it allowed (libmicrohttpd keeps
 * trailing blanks); a list ("gzip, chunked") is refused: vodup decodes no
 * other coding, and libmicrohttpd would read such a body to the close. */
static bool request_check_encoding_ok(const char *value, size_t len)
{
    while (len > 0 && (value[0] == ' ' || value[0] == '\t')) {
        value++;
        len--;
    }
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    return len == 7 && strncasecmp(value, "chunked", 7) == 0;
}

/* The rules for one single-valued header: no second copy, and a value
 * that frames the body one way only. */
static void request_check_single_header(request_check_t *rc, int index, const char *value, size_t value_len)
{
    uint32_t bit = (uint32_t)1 << index;
    if (rc->seen & bit) {
        snprintf(rc->message, sizeof(rc->message), "The %s header appears more than once.",
                 request_check_single[index]);
        request_check_fail(rc, rc->message);
        return;
    }
    rc->seen |= bit;
    if (index == REQUEST_CHECK_CONTENT_LENGTH && !request_check_length_ok(value, value_len))
        request_check_fail(rc, "Content-Length must be a decimal number of bytes.");
    else if (index == REQUEST_CHECK_TRANSFER_ENCODING && !request_check_encoding_ok(value, value_len))
        request_check_fail(rc, "Transfer-Encoding must be chunked.");
}

void request_check_header(request_check_t *rc, const char *name, size_t name_len, const char *value,
                          size_t value_len)
{
    if (rc->error)
        return;
    if (!name || !request_check_name_ok(name, name_len)) {
        request_check_fail(rc, "A header name is empty or holds a space or a separator.");
        return;
    }
    if (!value)
        value_len = 0;
    if (!request_check_value_ok(value, value_len)) {
        request_check_fail(rc, "A header value holds a control character.");
        return;
    }
    int index = request_check_single_index(name, name_len);
    if (index >= 0)
        request_check_single_header(rc, index, value, value_len);
}

const char *request_check_end(request_check_t *rc)
{
    bool length = rc->seen & (1u << REQUEST_CHECK_CONTENT_LENGTH);
    bool encoding = rc->seen & (1u << REQUEST_CHECK_TRANSFER_ENCODING);
    if (length && encoding)
        request_check_fail(rc, "Content-Length and Transfer-Encoding together are ambiguous.");
    else if (encoding && rc->http10)
        request_check_fail(rc, "Transfer-Encoding needs HTTP/1.1.");
    else if (!rc->http10 && !(rc->seen & (1u << REQUEST_CHECK_HOST)))
        request_check_fail(rc, "The Host header is missing.");
    return rc->error;
}

const char *request_check_all(request_check_t *rc, const char *version, const char *raw_target,
                              const request_check_header_t *headers, size_t count)
{
    request_check_begin(rc, version, raw_target);
    for (size_t i = 0; i < count; i++)
        request_check_header(rc, headers[i].name, headers[i].name_len, headers[i].value, headers[i].value_len);
    return request_check_end(rc);
}
