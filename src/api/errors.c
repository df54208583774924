/* errors: the API error table; see errors.h. */
#include "api/errors.h"

static const api_error_info_t api_errors[API_ERR_COUNT] = {
    [API_OK] = {200, 200, "Operation successfully"},
    [API_ERR_AUTH] = {401, 401, "Authentication failed."},
    [API_ERR_KEY_DISABLED] = {403, 403, "The AccessKey is disabled."},
    [API_ERR_NOT_FOUND] = {404, 404, "No such API."},
    [API_ERR_VIDEO_NOT_FOUND] = {404, 404, "The video does not exist."},
    [API_ERR_TASK_NOT_FOUND] = {404, 404, "The task does not exist."},
    [API_ERR_METHOD] = {405, 405, "Method not allowed."},
    [API_ERR_BODY_TOO_LARGE] = {413, 413, "The request body is too large."},
    [API_ERR_MEDIA_TYPE] = {415, 415, "The body content type must be application/x-www-form-urlencoded or application/json."},
    [API_ERR_NAME_EMPTY] = {1606, 400, "The video name cannot be empty."},
    [API_ERR_NAME_TOO_LONG] = {1500, 400, "The file name has exceeded 40 characters."},
    [API_ERR_SOURCE] = {1607, 400, "Video source error."},
    [API_ERR_OVERWRITE] = {1608, 400, "Parameter overwrite is neither 0 nor 1."},
    [API_ERR_SIZE_INVALID] = {1609, 400, "Video size can only be a non-negative integer."},
    [API_ERR_SIZE_LIMIT] = {1610, 400, "Video size has exceeded the limit."},
    [API_ERR_MD5_EMPTY] = {1604, 400, "The file MD5 value cannot be empty."},
    [API_ERR_MD5_TOO_LONG] = {1605, 400, "The length of MD5 string is too long."},
    [API_ERR_PARAM] = {400, 400, "Invalid parameter."},
    [API_ERR_CONFLICT] = {409, 409, "The upload of this fileId has completed; set overwrite=1 to replace it."},
    [API_ERR_NOT_UPLOADED] = {409, 409, "The video has no uploaded bytes to process yet."},
    [API_ERR_TASK_FINISHED] = {409, 409, "The task has finished already."},
    [API_ERR_RATE_LIMIT] = {429, 429, "Rate limit exceeded for this AccessKey."},
    [API_ERR_INTERNAL] = {500, 500, "Internal error."},
    [API_ERR_UNAVAILABLE] = {503, 503, "Service unavailable; try again later."},
};

const api_error_info_t *api_error_info(int err)
{
    if (err < 0 || err >= API_ERR_COUNT)
        err = API_ERR_INTERNAL;
    return &api_errors[err];
}
