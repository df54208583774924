/*
 * errors: the one table of API errors (../shared/spec/api.md section 3).
 *
 * Each error has its JSON `code`, its HTTP status and its default message.
 * Handlers, docs/api.md and the tests all derive from this table, so they
 * cannot drift apart.
 */
#ifndef VODUP_API_ERRORS_H
#define VODUP_API_ERRORS_H

enum api_error {
    API_OK = 0,
    API_ERR_AUTH,           /* 401 */
    API_ERR_KEY_DISABLED,   /* 403 */
    API_ERR_NOT_FOUND,      /* 404 no such API */
    API_ERR_VIDEO_NOT_FOUND,/* 404 no such video */
    API_ERR_TASK_NOT_FOUND, /* 404 no such task */
    API_ERR_METHOD,         /* 405 */
    API_ERR_BODY_TOO_LARGE, /* 413 */
    API_ERR_MEDIA_TYPE,     /* 415 */
    API_ERR_NAME_EMPTY,     /* 1606 */
    API_ERR_NAME_TOO_LONG,  /* 1500 */
    API_ERR_SOURCE,         /* 1607 */
    API_ERR_OVERWRITE,      /* 1608 */
    API_ERR_SIZE_INVALID,   /* 1609 */
    API_ERR_SIZE_LIMIT,     /* 1610 */
    API_ERR_MD5_EMPTY,      /* 1604 */
    API_ERR_MD5_TOO_LONG,   /* 1605 */
    API_ERR_PARAM,          /* 400, message names the parameter */
    API_ERR_CONFLICT,       /* 409 */
    API_ERR_NOT_UPLOADED,   /* 409 reprocessVideo of a video without bytes */
    API_ERR_TASK_FINISHED,  /* 409 cancelTask of a finished task */
    API_ERR_RATE_LIMIT,     /* 429 */
    API_ERR_INTERNAL,       /* 500 */
    API_ERR_UNAVAILABLE,    /* 503 */
    API_ERR_COUNT
};

typedef struct api_error_info {
    int code;        /* the JSON "code" */
    int http_status;
    const char *message;
} api_error_info_t;

const api_error_info_t *api_error_info(int err);

#endif
