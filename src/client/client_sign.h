/*
 * client_sign: the client side of WS3-HMAC-SHA256 (docs/api.md, "Signing
 * requests"), and the ready-to-paste curl command of `vodup sign`.
 *
 * The canonical request and the signature come from src/auth/ws3.c, the
 * same code the server verifies with; this module only gathers what a
 * client sends (method, Host, path, query, Content-Type, body) and formats
 * the three headers.  Pure functions: no I/O.  The secret never leaves the
 * call; the headers carry only its HMAC.
 */
#ifndef VODUP_CLIENT_SIGN_H
#define VODUP_CLIENT_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/ws3.h"
#include "client/client_url.h"
#include "common/buf.h"

#define CLIENT_AUTH_HEADER_MAX (64 + 2 * 512 + WS3_MAX_SIGNED_HEADERS)

typedef struct client_sign_input {
    const char *method;            /* "GET", "POST", ... (as sent) */
    const client_url_t *url;       /* host, decoded path and query pairs */
    const char *content_type;      /* NULL: no Content-Type header (and then no body) */
    const void *body;              /* NULL or the exact bytes sent */
    size_t body_len;
    const char *access_key;
    const char *secret_key;
    int64_t timestamp;             /* Unix seconds */
} client_sign_input_t;

typedef struct client_signature {
    char timestamp[24];                           /* X-WS-Timestamp */
    char signed_headers[32];                      /* "content-type;host" or "host" */
    char authorization[CLIENT_AUTH_HEADER_MAX];   /* Authorization */
} client_signature_t;

/* Signs the request.  False when the input cannot be signed (a key with
 * spaces or commas, a missing Content-Type for a body). */
bool client_sign(const client_sign_input_t *in, client_signature_t *out);

/* Appends `s` to out as one POSIX shell word in single quotes
 * ('it'\''s' for it's). */
bool client_shell_quote(const char *s, size_t len, buf_t *out);

/*
 * The curl command line that sends the signed request: URL, method when
 * curl would not choose it by itself, Content-Type, the X-WS headers,
 * Authorization and the body (--data-raw), each shell-quoted, on one
 * line.  `url_text` is the URL exactly as the user gave it.
 */
bool client_sign_curl_command(const client_sign_input_t *in, const client_signature_t *sig, const char *url_text,
                              buf_t *out);

#endif
