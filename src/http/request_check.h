/*
 * request_check: the framing and header rules every request must pass
 * before vodup routes it, whatever libmicrohttpd let through.
 *
 * Contract.  Given the HTTP version, the raw request target (as the client
 * sent it, before percent-decoding) and every request header in the order
 * received (names as sent, values after the leading whitespace), the check
 * answers OK or the first rule broken, as a short English sentence for a
 * 400 answer.  It is pure: no I/O, no allocation, no global state, and it
 * reads only the bytes it is given (lengths, not NUL terminators, bound the
 * names and values).  A refused request must be answered 400 and its
 * connection closed, because the refusal means vodup and a proxy in front
 * of it may disagree on where the request ends.
 *
 * The rules.  The target is checked first, then each header in the order
 * received, then the headers as a whole; the first broken rule is reported.
 *   Target: present, no space, control character or DEL, and no "%00" (an
 *     encoded NUL truncates the decoded path, so "/<fileKey>%00.jpg" would
 *     alias "/<fileKey>").
 *   Each header: the name is a non-empty RFC 9110 token (so "Name :", with
 *     a space before the colon, is refused rather than stored as another
 *     header); the value holds no control character but HTAB; it is not the
 *     second copy of one of REQUEST_CHECK_SINGLE_HEADERS (vodup reads the
 *     first copy, a proxy or the signer may have used the second);
 *     Content-Length is decimal digits only, at most INT64_MAX (vodup and
 *     libmicrohttpd must read the same length); Transfer-Encoding is exactly
 *     "chunked" (any case, surrounding blanks allowed).
 *   All headers: not both Content-Length and Transfer-Encoding (RFC 9112
 *     6.3: how requests are smuggled); no Transfer-Encoding on HTTP/1.0
 *     (RFC 9112 6.1); any version but HTTP/1.0 carries Host (RFC 9112 3.2).
 *
 * Use: request_check_begin(), request_check_header() for each header, then
 * request_check_end(); or request_check_all() for a whole list.
 */
#ifndef VODUP_HTTP_REQUEST_CHECK_H
#define VODUP_HTTP_REQUEST_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The headers vodup reads one value of, so two copies are ambiguous.  Names
 * in any case; the order is the bit order of request_check_t.seen. */
#define REQUEST_CHECK_SINGLE_HEADERS                                                                               \
    "Host", "Authorization", "Content-Type", "Content-Length", "Transfer-Encoding", "Content-MD5", "Key",           \
        "MimeType", "X-WS-AccessKey", "X-WS-Timestamp", "Origin", "Range", "If-Range"

#define REQUEST_CHECK_MESSAGE_MAX 96

typedef struct request_check_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} request_check_header_t;

typedef struct request_check {
    bool http10;         /* HTTP/1.0: no Host needed, no Transfer-Encoding allowed */
    uint32_t seen;       /* one bit per REQUEST_CHECK_SINGLE_HEADERS entry */
    const char *error;   /* the first rule broken; NULL while all hold */
    char message[REQUEST_CHECK_MESSAGE_MAX]; /* error, when it names a header */
} request_check_t;

/* Starts a check.  version: "HTTP/1.1", "HTTP/1.0"... (NULL counts as
 * unknown, which needs a Host); raw_target: the request target as sent
 * (NULL when the request line had none).  NUL-terminated, both. */
void request_check_begin(request_check_t *rc, const char *version, const char *raw_target);

/* Adds one header, in the order received.  Does nothing once a rule is broken. */
void request_check_header(request_check_t *rc, const char *name, size_t name_len, const char *value,
                          size_t value_len);

/* NULL when the request passes; else the reason, a sentence that lives as
 * long as rc does. */
const char *request_check_end(request_check_t *rc);

/* The whole check over a list of headers; same result as the calls above. */
const char *request_check_all(request_check_t *rc, const char *version, const char *raw_target,
                              const request_check_header_t *headers, size_t count);

#endif
