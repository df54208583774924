/*
 * access_log: one JSON line per finished request on stderr.
 *
 * Carries what an operator needs to follow a request (requestId, client
 * address, user agent, AccessKey, method, path, status, sizes, duration) and never a secret, a signature,
 * a token or a query string (which may hold user data).
 */
#ifndef VODUP_HTTP_ACCESS_LOG_H
#define VODUP_HTTP_ACCESS_LOG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct access_log_entry {
    const char *request_id;
    const char *method;
    const char *path;
    int status;          /* 0 when the request was aborted before a response */
    uint64_t bytes_in;
    uint64_t bytes_out;
    double duration_ms;
    const char *access_key; /* "" when the request carried none */
    const char *client;     /* the client's address (http/forwarded.h) */
    const char *user_agent; /* "" when none was sent */
    bool aborted;
} access_log_entry_t;

void access_log_write(const access_log_entry_t *e);

#endif
