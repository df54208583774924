/*
 * client_record.c: file identity, derived fileId and the resume record;
 * see client_record.h.
 */
#include "client/client_record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "auth/crypto.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/encoding.h"

#define CLIENT_RECORD_PURGE_MAX 10000 /* directory entries looked at */

void client_identity_from_stat(const struct stat *st, client_identity_t *id)
{
    memset(id, 0, sizeof(*id));
    id->dev = (uint64_t)st->st_dev;
    id->ino = (uint64_t)st->st_ino;
    id->size = (int64_t)st->st_size;
    id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

bool client_identity_equal(const client_identity_t *a, const client_identity_t *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

bool client_file_id_valid(const char *s)
{
    return s && ids_token_chars(s, strlen(s), CLIENT_FILE_ID_MAX);
}

bool client_file_id_derive(const char *endpoint, const char *access_key, const char *abs_path,
                           const client_identity_t *id, char out[CLIENT_FILE_ID_MAX + 1])
{
    /* NUL-separated fields: no two different inputs give the same text. */
    buf_t b;
    buf_init(&b, 0);
    char ident[128];
    int n = snprintf(ident, sizeof(ident), "%llu:%llu:%lld:%lld", (unsigned long long)id->dev,
                     (unsigned long long)id->ino, (long long)id->size, (long long)id->mtime_ns);
    bool ok = n > 0 && buf_append(&b, "vodup-file-id-1", 16) && buf_append(&b, endpoint, strlen(endpoint) + 1) &&
              buf_append(&b, access_key, strlen(access_key) + 1) && buf_append(&b, abs_path, strlen(abs_path) + 1) &&
              buf_append(&b, ident, (size_t)n);
    uint8_t digest[32];
    char hex[65];
    ok = ok && crypto_sha256(b.data, b.len, digest);
    buf_free(&b);
    if (!ok)
        return false;
    encoding_hex(digest, sizeof(digest), hex);
    memcpy(out, hex, CLIENT_FILE_ID_MAX);
    out[CLIENT_FILE_ID_MAX] = '\0';
    return true;
}

size_t client_block_count(int64_t size, int64_t block_size)
{
    if (size <= 0 || block_size <= 0)
        return 0;
    return (size_t)((size + block_size - 1) / block_size);
}

void client_record_free(client_record_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->ctx && i < r->block_count; i++)
        free(r->ctx[i]);
    free(r->ctx);
    free(r->path);
    free(r->endpoint);
    free(r->access_key);
    memset(r, 0, sizeof(*r));
}

bool client_record_init(client_record_t *r, const char *path, const char *endpoint, const char *access_key,
                        const char *file_id, const client_identity_t *id, int64_t block_size)
{
    memset(r, 0, sizeof(*r));
    if (!client_file_id_valid(file_id) || block_size <= 0 || id->size < 0)
        return false;
    r->path = strdup(path);
    r->endpoint = strdup(endpoint);
    r->access_key = strdup(access_key);
    snprintf(r->file_id, sizeof(r->file_id), "%s", file_id);
    r->identity = *id;
    r->block_size = block_size;
    r->block_count = client_block_count(id->size, block_size);
    r->ctx = calloc(r->block_count ? r->block_count : 1, sizeof(*r->ctx));
    if (!r->path || !r->endpoint || !r->access_key || !r->ctx) {
        client_record_free(r);
        return false;
    }
    return true;
}

bool client_record_matches(const client_record_t *r, const char *path, const char *endpoint, const char *access_key,
                           const client_identity_t *id)
{
    return r->path && !strcmp(r->path, path) && r->endpoint && !strcmp(r->endpoint, endpoint) && r->access_key &&
           !strcmp(r->access_key, access_key) && client_identity_equal(&r->identity, id);
}

bool client_ctx_valid(const char *ctx)
{
    size_t n = ctx ? strlen(ctx) : 0;
    if (n == 0 || n > CLIENT_CTX_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)ctx[i];
        if (c <= 0x20 || c >= 0x7f || strchr("/?#%,", c))
            return false;
    }
    return true;
}

static bool client_is_md5_hex(const char *s)
{
    if (strlen(s) != 32)
        return false;
    for (size_t i = 0; i < 32; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

char *client_record_to_json(const client_record_t *r)
{
    /* 64-bit numbers as JSON integers: jansson's json_int_t is long long. */
    json_t *blocks = json_array();
    json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I}, s:s, s:I, s:s}", "version",
                          CLIENT_RECORD_VERSION, "path", r->path, "endpoint", r->endpoint, "accessKey",
                          r->access_key, "fileId", r->file_id, "identity", "dev", (json_int_t)r->identity.dev,
                          "ino", (json_int_t)r->identity.ino, "size", (json_int_t)r->identity.size, "mtimeNs",
                          (json_int_t)r->identity.mtime_ns, "md5", r->md5, "blockSize", (json_int_t)r->block_size,
                          "videoId", r->video_id);
    char *text = NULL;
    bool ok = blocks && o;
    for (size_t i = 0; ok && i < r->block_count; i++)
        ok = json_array_append_new(blocks, r->ctx[i] ? json_string(r->ctx[i]) : json_null()) == 0;
    if (ok && json_object_set(o, "blocks", blocks) == 0)
        text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(blocks);
    json_decref(o);
    return text;
}

bool client_record_from_json(const char *text, size_t len, client_record_t *r)
{
    memset(r, 0, sizeof(*r));
    json_t *root = json_loadb(text, len, 0, NULL);
    json_int_t version = 0, dev = 0, ino = 0, size = -1, mtime = 0, block_size = 0;
    const char *path = NULL, *endpoint = NULL, *ak = NULL, *file_id = NULL, *md5 = NULL, *video_id = NULL;
    json_t *blocks = NULL;
    bool ok = root && json_unpack(root, "{s:I, s:s, s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I}, s:s, s:I, s:s, s:o}",
                                  "version", &version, "path", &path, "endpoint", &endpoint, "accessKey", &ak,
                                  "fileId", &file_id, "identity", "dev", &dev, "ino", &ino, "size", &size,
                                  "mtimeNs", &mtime, "md5", &md5, "blockSize", &block_size, "videoId", &video_id,
                                  "blocks", &blocks) == 0;
    ok = ok && version == CLIENT_RECORD_VERSION && size >= 0 && block_size > 0 && json_is_array(blocks) &&
         (md5[0] == '\0' || client_is_md5_hex(md5)) && strlen(video_id) < sizeof(r->video_id);
    client_identity_t id = {(uint64_t)dev, (uint64_t)ino, (int64_t)size, (int64_t)mtime};
    ok = ok && client_record_init(r, path, endpoint, ak, file_id, &id, (int64_t)block_size);
    ok = ok && json_array_size(blocks) == r->block_count;
    for (size_t i = 0; ok && i < r->block_count; i++) {
        json_t *c = json_array_get(blocks, i);
        if (json_is_null(c))
            continue;
        ok = json_is_string(c) && client_ctx_valid(json_string_value(c)) &&
             (r->ctx[i] = strdup(json_string_value(c))) != NULL;
    }
    if (ok) {
        snprintf(r->md5, sizeof(r->md5), "%s", md5);
        snprintf(r->video_id, sizeof(r->video_id), "%s", video_id);
    } else {
        client_record_free(r);
    }
    json_decref(root);
    return ok;
}

bool client_record_load(const char *file, client_record_t *r)
{
    memset(r, 0, sizeof(*r));
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    buf_t b;
    buf_init(&b, CLIENT_RECORD_FILE_MAX);
    char chunk[65536];
    bool ok = true;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (n > 0 && !buf_append(&b, chunk, (size_t)n))) {
            ok = false;
            break;
        }
        if (n == 0)
            break;
    }
    close(fd);
    ok = ok && b.len > 0 && client_record_from_json(b.data, b.len, r);
    buf_free(&b);
    return ok;
}

bool client_record_save(const char *file, const char *json, char *err, size_t errlen)
{
    char tmp[4200];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp%ld", file, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        snprintf(err, errlen, "resume record path too long");
        return false;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return false;
    }
    size_t len = strlen(json), off = 0;
    bool ok = true;
    while (ok && off < len) {
        ssize_t w = write(fd, json + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        if (ok)
            off += (size_t)w;
    }
    /*
     * No fsync: the record only saves work.  rename() makes a killed
     * process leave the old or the new version; after a power loss a
     * record that does not parse is simply discarded and the blocks sent
     * again.  An fsync per acknowledged block would cost more than it saves.
     */
    if (close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, file) != 0)
        ok = false;
    if (!ok) {
        snprintf(err, errlen, "cannot write %s: %s", file, strerror(errno));
        unlink(tmp);
    }
    return ok;
}

/* "<fileId>.json" and "<fileId>.json.tmp<pid>" name records and their temp files. */
static bool client_record_name(const char *name, bool *is_tmp)
{
    const char *dot = strchr(name, '.');
    if (!dot || dot == name || (size_t)(dot - name) > CLIENT_FILE_ID_MAX)
        return false;
    char id[CLIENT_FILE_ID_MAX + 1];
    memcpy(id, name, (size_t)(dot - name));
    id[dot - name] = '\0';
    if (!client_file_id_valid(id))
        return false;
    if (!strcmp(dot, ".json")) {
        *is_tmp = false;
        return true;
    }
    if (!strncmp(dot, ".json.tmp", 9)) {
        *is_tmp = true;
        return true;
    }
    return false;
}

size_t client_record_purge(const char *dir, const char *abs_path, const client_identity_t *id)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t removed = 0, seen = 0;
    struct dirent *e;
    char file[4200];
    while ((e = readdir(d)) != NULL && seen++ < CLIENT_RECORD_PURGE_MAX) {
        bool is_tmp = false;
        if (!client_record_name(e->d_name, &is_tmp))
            continue;
        snprintf(file, sizeof(file), "%s/%s", dir, e->d_name);
        if (is_tmp) {
            /* Left by a process killed while it saved: gone once that process is. */
            long pid = strtol(strstr(e->d_name, ".json.tmp") + 9, NULL, 10);
            if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
                unlink(file);
            continue;
        }
        client_record_t r;
        if (!client_record_load(file, &r))
            continue;
        bool stale = !strcmp(r.path, abs_path) && !client_identity_equal(&r.identity, id);
        client_record_free(&r);
        if (stale && unlink(file) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}
