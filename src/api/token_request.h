/*
 * token_request: the parameter rules of getUploadToken
 * (../shared/spec/api.md section 2), as a pure function from gathered
 * parameters to a validated request or the first error in the order of the
 * error table: 1606, 1500, 1607, 1608, 1609, 1610, 1604, 1605, then 400 for
 * the other parameters in the order of the parameter table.  Whether named
 * resources exist is checked later by the handler, against the store.
 *
 * An empty value of an optional parameter counts as absent, except for
 * fileId, overwrite, fileSize and fileMd5, whose empty values are errors.
 */
#ifndef VODUP_API_TOKEN_REQUEST_H
#define VODUP_API_TOKEN_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "api/params.h"
#include "api/filekey.h"
#include "common/config.h"
#include "store/store.h"

#define TOKEN_REQUEST_MAX_NAME 40          /* code points */
#define TOKEN_REQUEST_MAX_FILE_ID 32
#define TOKEN_REQUEST_MAX_CMD 4096
#define TOKEN_REQUEST_MAX_CATEGORIES 32
#define TOKEN_REQUEST_MAX_CATEGORY_NAME 64 /* code points */
#define TOKEN_REQUEST_MAX_RESOURCE_ID 64

typedef struct token_request {
    /* Views into the params the request was parsed from. */
    const char *name;
    size_t name_len;
    const char *file_id;        /* NULL when absent */
    const char *domain;
    const char *workflow_id;
    const char *cmd;            /* NULL when absent or when workflowId is given */
    const char *watermark_name; /* likewise */
    const char *template_name;  /* likewise */
    const char *subtitle_id;    /* likewise */
    bool overwrite;
    int64_t file_size;          /* -1 when absent */
    char file_md5[33];          /* lowercase, "" when absent */
    store_category_t *categories; /* owned */
    size_t category_count;
} token_request_t;

void token_request_free(token_request_t *r);

/* Returns API_OK or an api_error; on error `detail` holds the message to
 * send (the table's, or one naming the parameter for 400). */
int token_request_parse(const params_t *p, const config_t *cfg, token_request_t *out, char *detail,
                        size_t detail_len);

/* Only the processing settings (workflowId, cmd, waterMarkName,
 * transCodeCombineName, subtitleId) with getUploadToken's rules, precedence
 * and messages, for reprocessVideo; the other members stay unset. */
int token_request_parse_processing(const params_t *p, token_request_t *out, char *detail, size_t detail_len);

#endif
