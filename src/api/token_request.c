/* token_request: getUploadToken parameter rules; see token_request.h. */
#include "api/token_request.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/errors.h"
#include "common/ids.h"
#include "common/utf8.h"

void token_request_free(token_request_t *r)
{
    for (size_t i = 0; i < r->category_count; i++) {
        free(r->categories[i].parent_name);
        free(r->categories[i].child_name);
    }
    free(r->categories);
    memset(r, 0, sizeof(*r));
}

/* The value of an optional parameter, NULL when absent or empty. */
static const param_t *token_request_optional(const params_t *p, const char *name)
{
    const param_t *v = params_get(p, name);
    return v && v->value_len > 0 ? v : NULL;
}

static int token_request_fail(char *detail, size_t detail_len, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int token_request_fail(char *detail, size_t detail_len, int err, const char *fmt, ...)
{
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, detail_len, fmt, ap);
        va_end(ap);
    } else {
        snprintf(detail, detail_len, "%s", api_error_info(err)->message);
    }
    return err;
}

/*
 * 1607 with the accepted extensions, so that whoever picked the name learns
 * what to rename it to (the table's "Video source error." stays the
 * message's start).  A list too long for `detail` is cut at an extension
 * and ends in "...".
 */
static int token_request_refuse_extension(const config_t *cfg, const char *ext, char *detail, size_t detail_len)
{
    int n;
    if (ext[0])
        n = snprintf(detail, detail_len, "Video source error: .%s is not an accepted extension (accepted: %s).", ext,
                     cfg->media_extensions);
    else
        n = snprintf(detail, detail_len, "Video source error: the name has no extension (accepted: %s).",
                     cfg->media_extensions);
    if (n >= 0 && (size_t)n >= detail_len && detail_len > 8) {
        char *comma = strrchr(detail, ',');
        while (comma && (size_t)(comma - detail) + 6 > detail_len) {
            *comma = '\0';
            comma = strrchr(detail, ',');
        }
        if (comma)
            memcpy(comma, ",...)", 6);
    }
    return API_ERR_SOURCE;
}

static bool token_request_is_id(const param_t *v, size_t max)
{
    return ids_token_chars(v->value, v->value_len, max);
}

/* Resource names as the admin command accepts them: [A-Za-z0-9._-]. */
static bool token_request_is_name(const param_t *v)
{
    if (v->value_len < 1 || v->value_len > TOKEN_REQUEST_MAX_RESOURCE_ID)
        return false;
    for (size_t i = 0; i < v->value_len; i++) {
        char c = v->value[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.'))
            return false;
    }
    return true;
}

static bool token_request_category_name(json_t *v, char **out)
{
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    long cps = filekey_utf8_length(s, len);
    if (cps < 1 || cps > TOKEN_REQUEST_MAX_CATEGORY_NAME || filekey_has_control(s, len))
        return false;
    *out = strndup(s, len);
    return *out != NULL;
}

/* categoryNames: a JSON array of {"parentName":..,"childName":..}. */
static bool token_request_categories(const param_t *v, token_request_t *out)
{
    bool ok = false;
    json_t *root = json_loadb(v->value, v->value_len, 0, NULL);
    if (!json_is_array(root) || json_array_size(root) > TOKEN_REQUEST_MAX_CATEGORIES)
        goto out;
    size_t n = json_array_size(root);
    out->categories = calloc(n ? n : 1, sizeof(*out->categories));
    if (!out->categories)
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(root, i);
        if (!json_is_object(item))
            goto out;
        store_category_t *c = &out->categories[out->category_count];
        if (!token_request_category_name(json_object_get(item, "parentName"), &c->parent_name))
            goto out;
        out->category_count++;
        if (!token_request_category_name(json_object_get(item, "childName"), &c->child_name))
            goto out;
    }
    ok = true;
out:
    json_decref(root);
    return ok;
}

static bool token_request_is_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* workflowId, then cmd (ignored, unchecked, with a workflow). */
static int token_request_workflow_cmd(const params_t *p, token_request_t *out, char *detail, size_t detail_len)
{
    const param_t *workflow = token_request_optional(p, "workflowId");
    if (workflow) {
        if (!token_request_is_id(workflow, TOKEN_REQUEST_MAX_RESOURCE_ID))
            return token_request_fail(detail, detail_len, API_ERR_PARAM, "Parameter workflowId does not exist.");
        out->workflow_id = workflow->value;
    }
    /* With a workflow, the per-video processing parameters are ignored
     * (stored as not set), so they are not validated either. */
    const param_t *cmd = workflow ? NULL : token_request_optional(p, "cmd");
    if (cmd) {
        if (cmd->value_len > TOKEN_REQUEST_MAX_CMD || filekey_utf8_length(cmd->value, cmd->value_len) < 0 ||
            memchr(cmd->value, '\0', cmd->value_len))
            return token_request_fail(detail, detail_len, API_ERR_PARAM,
                                      "Parameter cmd must be UTF-8 text of at most 4096 bytes.");
        out->cmd = cmd->value;
    }
    return API_OK;
}

/* waterMarkName, transCodeCombineName, subtitleId (ignored with a workflow). */
static int token_request_resource_names(const params_t *p, token_request_t *out, char *detail, size_t detail_len)
{
    bool workflow = out->workflow_id != NULL;
    const param_t *wm = workflow ? NULL : token_request_optional(p, "waterMarkName");
    if (wm && !token_request_is_name(wm))
        return token_request_fail(detail, detail_len, API_ERR_PARAM, "Parameter waterMarkName does not exist.");
    out->watermark_name = wm ? wm->value : NULL;
    const param_t *tpl = workflow ? NULL : token_request_optional(p, "transCodeCombineName");
    if (tpl && !token_request_is_name(tpl))
        return token_request_fail(detail, detail_len, API_ERR_PARAM, "Parameter transCodeCombineName does not exist.");
    out->template_name = tpl ? tpl->value : NULL;
    const param_t *sub = workflow ? NULL : token_request_optional(p, "subtitleId");
    if (sub && !token_request_is_id(sub, TOKEN_REQUEST_MAX_RESOURCE_ID))
        return token_request_fail(detail, detail_len, API_ERR_PARAM, "Parameter subtitleId does not exist.");
    out->subtitle_id = sub ? sub->value : NULL;
    return API_OK;
}

int token_request_parse_processing(const params_t *p, token_request_t *out, char *detail, size_t detail_len)
{
    memset(out, 0, sizeof(*out));
    out->file_size = -1;
    detail[0] = '\0';
    int rc = token_request_workflow_cmd(p, out, detail, detail_len);
    return rc == API_OK ? token_request_resource_names(p, out, detail, detail_len) : rc;
}

int token_request_parse(const params_t *p, const config_t *cfg, token_request_t *out, char *detail,
                        size_t detail_len)
{
    memset(out, 0, sizeof(*out));
    out->file_size = -1;
    detail[0] = '\0';

    /* 1606, 1500, 1607: originFileName. */
    const param_t *name = params_get(p, "originFileName");
    if (!name || name->value_len == 0)
        return token_request_fail(detail, detail_len, API_ERR_NAME_EMPTY, NULL);
    long cps = filekey_utf8_length(name->value, name->value_len);
    if (cps < 0)
        return token_request_fail(detail, detail_len, API_ERR_PARAM, "Parameter originFileName is not valid UTF-8.");
    if (cps > TOKEN_REQUEST_MAX_NAME)
        return token_request_fail(detail, detail_len, API_ERR_NAME_TOO_LONG, NULL);
    /* Not only C0 and DEL: the name is shown to people, and a bidi
     * override or a zero-width character would make it read as another
     * (see common/utf8.h). */
    if (utf8_check_text(name->value, name->value_len) != UTF8_TEXT_OK)
        return token_request_fail(detail, detail_len, API_ERR_PARAM,
                                  "Parameter originFileName contains control characters.");
    char ext[FILEKEY_MAX_EXTENSION + 1];
    if (!filekey_extension(name->value, name->value_len, ext))
        ext[0] = '\0';
    if (!ext[0] || !config_extension_accepted(cfg, ext))
        return token_request_refuse_extension(cfg, ext, detail, detail_len);
    out->name = name->value;
    out->name_len = name->value_len;

    /* 1608: overwrite. */
    const param_t *ow = params_get(p, "overwrite");
    if (ow) {
        if (ow->value_len == 1 && (ow->value[0] == '0' || ow->value[0] == '1'))
            out->overwrite = ow->value[0] == '1';
        else
            return token_request_fail(detail, detail_len, API_ERR_OVERWRITE, NULL);
    }

    /* 1609, 1610: fileSize. */
    const param_t *size = params_get(p, "fileSize");
    if (size) {
        if (size->value_len == 0)
            return token_request_fail(detail, detail_len, API_ERR_SIZE_INVALID, NULL);
        bool too_big = false;
        int64_t v = 0;
        for (size_t i = 0; i < size->value_len; i++) {
            char c = size->value[i];
            if (c < '0' || c > '9')
                return token_request_fail(detail, detail_len, API_ERR_SIZE_INVALID, NULL);
            if (v > (INT64_MAX - (c - '0')) / 10)
                too_big = true;
            else
                v = v * 10 + (c - '0');
        }
        if (too_big || v > cfg->max_upload_size)
            return token_request_fail(detail, detail_len, API_ERR_SIZE_LIMIT, NULL);
        out->file_size = v;
    }

    /* 1604, 1605: fileMd5 (its hex check is a 400, at its place below). */
    const param_t *md5 = params_get(p, "fileMd5");
    if (md5 && md5->value_len == 0)
        return token_request_fail(detail, detail_len, API_ERR_MD5_EMPTY, NULL);
    if (md5 && md5->value_len > 32)
        return token_request_fail(detail, detail_len, API_ERR_MD5_TOO_LONG, NULL);

    /* 400s, in the order of the parameter table. */
    const param_t *file_id = params_get(p, "fileId");
    if (file_id) {
        if (!token_request_is_id(file_id, TOKEN_REQUEST_MAX_FILE_ID))
            return token_request_fail(detail, detail_len, API_ERR_PARAM,
                                      "Parameter fileId must be 1 to 32 characters of A-Z a-z 0-9 _ -.");
        out->file_id = file_id->value;
    }
    const param_t *domain = token_request_optional(p, "domain");
    if (domain) {
        if (domain->value_len > 253 || filekey_has_control(domain->value, domain->value_len) ||
            memchr(domain->value, ' ', domain->value_len))
            return token_request_fail(detail, detail_len, API_ERR_PARAM, "Parameter domain is not a domain name.");
        out->domain = domain->value;
    }
    int rc = token_request_workflow_cmd(p, out, detail, detail_len);
    if (rc != API_OK)
        return rc;
    const param_t *cats = token_request_optional(p, "categoryNames");
    if (cats && !token_request_categories(cats, out)) {
        token_request_free(out);
        return token_request_fail(detail, detail_len, API_ERR_PARAM,
                                  "Parameter categoryNames must be a JSON array of "
                                  "{\"parentName\":..,\"childName\":..} with names of 1 to 64 characters.");
    }
    rc = token_request_resource_names(p, out, detail, detail_len);
    if (rc != API_OK) {
        token_request_free(out);
        return rc;
    }
    if (md5) {
        if (md5->value_len != 32 || !token_request_is_hex(md5->value, md5->value_len)) {
            token_request_free(out);
            return token_request_fail(detail, detail_len, API_ERR_PARAM,
                                      "Parameter fileMd5 must be 32 hexadecimal digits.");
        }
        for (size_t i = 0; i < 32; i++)
            out->file_md5[i] = (char)(md5->value[i] | 0x20); /* hex digits: lowercases letters only */
        out->file_md5[32] = '\0';
    }
    return API_OK;
}
