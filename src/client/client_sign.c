/*
 * client_sign.c: WS3 request signing for clients and `vodup sign`'s curl
 * command; see client_sign.h.
 */
#include "client/client_sign.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/crypto.h"

/* The header values a signature covers, for ws3_canonical_request(). */
typedef struct client_sign_headers {
    const char *host;
    const char *content_type;
} client_sign_headers_t;

static const char *client_sign_lookup(void *ctx, const char *lowercase_name)
{
    const client_sign_headers_t *h = ctx;
    if (!strcmp(lowercase_name, "host"))
        return h->host;
    if (!strcmp(lowercase_name, "content-type"))
        return h->content_type;
    return NULL;
}

/* An AccessKey goes into a header as is: refuse what would break it. */
static bool client_sign_key_ok(const char *ak)
{
    if (!ak || !*ak || strlen(ak) > WS3_MAX_CREDENTIAL)
        return false;
    for (const char *p = ak; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == ',')
            return false;
    return true;
}

bool client_sign(const client_sign_input_t *in, client_signature_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!client_sign_key_ok(in->access_key) || !in->secret_key || (in->body && in->body_len && !in->content_type))
        return false;
    client_sign_headers_t headers = {.host = in->url->host, .content_type = in->content_type};
    ws3_request_t req = {
        .method = in->method,
        .path = in->url->path,
        .query = in->url->pairs,
        .query_count = in->url->pair_count,
        .header_lookup = client_sign_lookup,
        .header_ctx = &headers,
    };
    if (!crypto_sha256(in->body ? in->body : "", in->body ? in->body_len : 0, req.body_sha256))
        return false;
    /* content-type is signed whenever it is sent, as the server requires for a body. */
    snprintf(out->signed_headers, sizeof(out->signed_headers), "%s", in->content_type ? "content-type;host" : "host");
    snprintf(out->timestamp, sizeof(out->timestamp), "%lld", (long long)in->timestamp);
    char sig[WS3_SIGNATURE_HEX_LEN + 1];
    if (!ws3_sign(&req, out->signed_headers, out->timestamp, in->secret_key, sig))
        return false;
    int n = snprintf(out->authorization, sizeof(out->authorization), WS3_ALGORITHM " Credential=%s, SignedHeaders=%s, Signature=%s",
                     in->access_key, out->signed_headers, sig);
    return n > 0 && (size_t)n < sizeof(out->authorization);
}

bool client_shell_quote(const char *s, size_t len, buf_t *out)
{
    if (!buf_append(out, "'", 1))
        return false;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\'')
            continue;
        if (!buf_append(out, s + start, i - start) || !buf_append(out, "'\\''", 4))
            return false;
        start = i + 1;
    }
    return buf_append(out, s + start, len - start) && buf_append(out, "'", 1);
}

/* Appends " -H 'Name: value'". */
static bool client_sign_header_arg(buf_t *out, const char *name, const char *value)
{
    char line[CLIENT_AUTH_HEADER_MAX + 64];
    int n = snprintf(line, sizeof(line), "%s: %s", name, value);
    return n > 0 && (size_t)n < sizeof(line) && buf_append_str(out, " -H ") &&
           client_shell_quote(line, (size_t)n, out);
}

bool client_sign_curl_command(const client_sign_input_t *in, const client_signature_t *sig, const char *url_text,
                              buf_t *out)
{
    bool has_body = in->body != NULL;
    /* curl picks GET without a body and POST with --data-raw; name any other method. */
    bool head = !has_body && !strcmp(in->method, "HEAD");
    bool implied = has_body ? !strcmp(in->method, "POST") : !strcmp(in->method, "GET");
    bool ok = buf_append_str(out, "curl -sS");
    if (ok && head)
        ok = buf_append_str(out, " -I"); /* -X HEAD would wait for a body that never comes */
    else if (ok && !implied)
        ok = buf_append_str(out, " -X ") && client_shell_quote(in->method, strlen(in->method), out);
    ok = ok && buf_append_str(out, " ") && client_shell_quote(url_text, strlen(url_text), out);
    if (ok && in->content_type)
        ok = client_sign_header_arg(out, "Content-Type", in->content_type);
    else if (ok && has_body)
        ok = buf_append_str(out, " -H 'Content-Type:'"); /* curl would add its own, unsigned */
    ok = ok && client_sign_header_arg(out, "X-WS-AccessKey", in->access_key) &&
         client_sign_header_arg(out, "X-WS-Timestamp", sig->timestamp) &&
         client_sign_header_arg(out, "Authorization", sig->authorization);
    if (ok && has_body)
        /* --data-raw: sent byte for byte, and a leading '@' is not a file name. */
        ok = buf_append_str(out, " --data-raw ") && client_shell_quote(in->body, in->body_len, out);
    return ok;
}
