/*
 * upload_auth: who may upload what.  An upload token (upload-protocol.md
 * section 1) is checked against its AccessKey's secret, its deadline and
 * its bucket; the key it resolves to must be a fileKey that getUploadToken
 * registered for the same account, so a token can never write outside the
 * videos its account created.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/keycache.h"
#include "common/ids.h"
#include "common/timeutil.h"
#include "upload/callback.h"
#include "upload/upload_internal.h"

#define UPLOAD_TOKEN_MAX 4096

bool upload_auth_verify(upload_call_t *call, const char *token, size_t len, const char *request_key)
{
    const upload_ctx_t *ctx = call->ctx;
    while (len > 0 && (token[0] == ' ' || token[0] == '\t')) {
        token++;
        len--;
    }
    if (len > 8 && strncasecmp(token, "UpToken ", 8) == 0) {
        token += 8;
        len -= 8;
    }
    while (len > 0 && (token[len - 1] == ' ' || token[len - 1] == '\t' || token[len - 1] == '\r' ||
                       token[len - 1] == '\n'))
        len--;
    if (len == 0) {
        upload_fail(call, 401, "The upload token is missing.");
        return false;
    }
    upload_token_parts_t parts;
    if (len > UPLOAD_TOKEN_MAX || !upload_token_split(token, len, &parts) ||
        parts.access_key_len >= sizeof(call->access_key)) {
        upload_fail(call, 401, "The upload token is malformed.");
        return false;
    }
    memcpy(call->access_key, parts.access_key, parts.access_key_len);
    call->access_key[parts.access_key_len] = '\0';
    int rc = keycache_lookup(ctx->keys, call->access_key, timeutil_monotonic_ns(), &call->key, NULL);
    if (rc == STORE_NOT_FOUND) {
        upload_fail(call, 401, "The upload token's AccessKey does not exist.");
        return false;
    }
    if (rc != STORE_OK) {
        upload_fail_store(call, rc == STORE_UNAVAILABLE ? rc : STORE_ERROR);
        return false;
    }
    if (!upload_token_signature_valid(&parts, call->key.secret_key)) {
        upload_fail(call, 401, "The upload token's signature does not match.");
        return false;
    }
    if (!call->key.enabled) {
        upload_fail(call, 401, "The upload token's AccessKey is disabled.");
        return false;
    }
    if (!upload_token_policy_parse(&parts, &call->policy)) {
        upload_fail(call, 401, "The upload token's policy is malformed.");
        return false;
    }
    if (call->policy.deadline_ms < ids_now_ms()) {
        upload_fail(call, 401, "The upload token has expired.");
        return false;
    }
    if (strcmp(call->policy.bucket, call->key.bucket) != 0) {
        upload_fail(call, 631, "The bucket does not exist.");
        return false;
    }
    /* The scope key wins; a differing request key is ignored (the Node SDK
     * always sends the local file name). */
    const char *key = call->policy.key && call->policy.key[0] ? call->policy.key : request_key;
    if (!key || !key[0]) {
        upload_fail(call, 401, "The upload names no key.");
        return false;
    }
    call->file_key = strdup(key);
    if (!call->file_key) {
        upload_fail(call, 500, "Internal error.");
        return false;
    }
    rc = ctx->store->ops->video_find_by_key(ctx->store, call->key.account_id, call->file_key, &call->video);
    if (rc != STORE_OK) {
        upload_fail_store(call, rc == STORE_NOT_FOUND ? STORE_NOT_FOUND : STORE_ERROR);
        return false;
    }
    if (!upload_check_persistent_ops(call) || !upload_callback_check(call))
        return false;
    call->owner.account_id = call->key.account_id;
    call->owner.token = quota_token_of(token, len);
    call->authorised = true;
    return true;
}
