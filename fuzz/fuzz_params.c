/*
 * libFuzzer target: the API request parameter parser.
 *
 * The first input byte picks the body type (form or JSON); the rest is the
 * body.  Whatever gathers, the getUploadToken rules run over it, and an
 * accepted request must satisfy the rules' promises (name within 40 code
 * points, fileId well-formed, md5 lowercase hex) and yield a safe fileKey.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/errors.h"
#include "api/filekey.h"
#include "api/params.h"
#include "api/token_request.h"

static const char *const fuzz_structured[] = {"categoryNames", NULL};

static void fuzz_check_accepted(const token_request_t *r)
{
    long cps = filekey_utf8_length(r->name, r->name_len);
    if (cps < 1 || cps > TOKEN_REQUEST_MAX_NAME)
        __builtin_trap();
    if (r->file_id && (strlen(r->file_id) < 1 || strlen(r->file_id) > TOKEN_REQUEST_MAX_FILE_ID))
        __builtin_trap();
    for (const char *m = r->file_md5; *m; m++)
        if (!((*m >= '0' && *m <= '9') || (*m >= 'a' && *m <= 'f')))
            __builtin_trap();
    buf_t key;
    buf_init(&key, 0);
    if (!filekey_build(r->name, r->name_len, "0123456789abcdef0123456789abcdef", 1700000000000LL, &key))
        __builtin_trap();
    if (strstr(key.data, "..") || memchr(key.data, '\0', key.len))
        __builtin_trap();
    buf_free(&key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static config_t cfg;
    static int ready;
    if (!ready) {
        char err[128];
        config_defaults(&cfg);
        config_finish(&cfg, err, sizeof(err));
        ready = 1;
    }
    if (size < 1)
        return 0;
    params_t p;
    params_init(&p);
    char err[256];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    bool ok = (data[0] & 1) ? params_parse_json(&p, body, len, fuzz_structured, err, sizeof(err))
                            : params_parse_form(&p, body, len);
    if (ok) {
        token_request_t r;
        if (token_request_parse(&p, &cfg, &r, err, sizeof(err)) == API_OK) {
            fuzz_check_accepted(&r);
            token_request_free(&r);
        }
    }
    params_free(&p);
    return 0;
}
