/*
 * params: gathers API parameters from query and body; see params.h.
 * Everything here reads untrusted bytes: lengths are explicit throughout and
 * values may contain NULs.
 */
#include "api/params.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encoding.h"

void params_init(params_t *p)
{
    memset(p, 0, sizeof(*p));
}

void params_free(params_t *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->items[i].name);
        free(p->items[i].value);
    }
    free(p->items);
    memset(p, 0, sizeof(*p));
}

static const param_t *params_find(const params_t *p, const char *name, size_t name_len)
{
    for (size_t i = 0; i < p->count; i++)
        if (p->items[i].name_len == name_len && memcmp(p->items[i].name, name, name_len) == 0)
            return &p->items[i];
    return NULL;
}

bool params_add(params_t *p, const char *name, size_t name_len, const char *value, size_t value_len)
{
    if (params_find(p, name, name_len)) {
        if (!p->duplicate[0]) {
            size_t n = name_len < sizeof(p->duplicate) - 1 ? name_len : sizeof(p->duplicate) - 1;
            memcpy(p->duplicate, name, n);
            p->duplicate[n] = '\0';
            /* A NUL inside the name would cut the message short; it is still an error. */
            if (!p->duplicate[0])
                strcpy(p->duplicate, "?");
        }
        return true;
    }
    if (p->count == p->alloc) {
        size_t n = p->alloc ? p->alloc * 2 : 16;
        param_t *items = realloc(p->items, n * sizeof(*items));
        if (!items)
            return false;
        p->items = items;
        p->alloc = n;
    }
    param_t *it = &p->items[p->count];
    it->name = malloc(name_len + 1);
    it->value = malloc(value_len + 1);
    if (!it->name || !it->value) {
        free(it->name);
        free(it->value);
        return false;
    }
    memcpy(it->name, name, name_len);
    it->name[name_len] = '\0';
    it->name_len = name_len;
    if (value_len)
        memcpy(it->value, value, value_len);
    it->value[value_len] = '\0';
    it->value_len = value_len;
    p->count++;
    return true;
}

bool params_add_pairs(params_t *p, const ws3_pair_t *pairs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!params_add(p, pairs[i].name, pairs[i].name_len, pairs[i].value ? pairs[i].value : "",
                        pairs[i].value ? pairs[i].value_len : 0))
            return false;
    return true;
}

bool params_parse_form(params_t *p, const char *body, size_t len)
{
    bool ok = false;
    char *copy = malloc(len + 1);
    if (!copy)
        return false;
    memcpy(copy, body, len);
    size_t start = 0;
    while (start <= len) {
        const char *amp = memchr(copy + start, '&', len - start);
        size_t end = amp ? (size_t)(amp - copy) : len;
        if (end > start) {
            char *seg = copy + start;
            size_t seg_len = end - start;
            char *eq = memchr(seg, '=', seg_len);
            size_t name_len = eq ? (size_t)(eq - seg) : seg_len;
            char *value = eq ? eq + 1 : seg + seg_len;
            size_t value_len = eq ? seg_len - name_len - 1 : 0;
            name_len = encoding_form_unescape(seg, name_len);
            value_len = encoding_form_unescape(value, value_len);
            if (name_len > 0 && !params_add(p, seg, name_len, value, value_len))
                goto out;
        }
        if (!amp)
            break;
        start = end + 1;
    }
    ok = true;
out:
    free(copy);
    return ok;
}

static bool params_is_structured(const char *name, const char *const *structured)
{
    for (size_t i = 0; structured && structured[i]; i++)
        if (strcmp(structured[i], name) == 0)
            return true;
    return false;
}

bool params_parse_json(params_t *p, const char *body, size_t len, const char *const *structured,
                       char *err, size_t errlen)
{
    bool ok = false;
    json_error_t jerr;
    /* JSON_REJECT_DUPLICATES: a name twice is as ambiguous here as in a form. */
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!root) {
        snprintf(err, errlen, "malformed JSON body: %s", jerr.text);
        return false;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "malformed JSON body: expected an object");
        goto out;
    }
    const char *name;
    json_t *value;
    json_object_foreach(root, name, value) {
        char num[64];
        const char *text = NULL;
        size_t text_len = 0;
        char *owned = NULL;
        if (json_is_null(value))
            continue;
        if (json_is_string(value)) {
            text = json_string_value(value);
            text_len = json_string_length(value);
        } else if (json_is_integer(value)) {
            snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(value));
            text = num;
            text_len = strlen(num);
        } else if (json_is_real(value)) {
            /* Kept as a decimal so that fileSize 1.5 fails the integer rule
             * with its own code instead of being truncated. */
            snprintf(num, sizeof(num), "%.17g", json_real_value(value));
            text = num;
            text_len = strlen(num);
        } else if ((json_is_array(value) || json_is_object(value)) && params_is_structured(name, structured)) {
            owned = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!owned)
                goto out;
            text = owned;
            text_len = strlen(owned);
        } else {
            snprintf(err, errlen, "Parameter %.64s must be a string or a number.", name);
            goto out;
        }
        bool added = params_add(p, name, strlen(name), text, text_len);
        free(owned);
        if (!added) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    ok = true;
out:
    json_decref(root);
    return ok;
}

const param_t *params_get(const params_t *p, const char *name)
{
    return params_find(p, name, strlen(name));
}
