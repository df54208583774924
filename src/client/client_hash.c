/*
 * client_hash.c: the MD5 of a file; see client_hash.h.
 */
#include "client/client_hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/encoding.h"

bool client_file_md5(int fd, int64_t size, char hex[33], atomic_llong *done, const atomic_int *stop, char *err,
                     size_t errlen)
{
    bool ok = false;
    unsigned char *chunk = malloc(CLIENT_HASH_BUFFER);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!chunk || !md || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* Sequential reads: let the kernel read ahead generously. */
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    for (int64_t off = 0; off < size;) {
        if (stop && atomic_load(stop)) {
            snprintf(err, errlen, "stopped");
            goto out;
        }
        size_t want = size - off > (int64_t)CLIENT_HASH_BUFFER ? CLIENT_HASH_BUFFER : (size_t)(size - off);
        ssize_t n = pread(fd, chunk, want, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "read error: %s", strerror(errno));
            goto out;
        }
        if (n == 0) {
            snprintf(err, errlen, "the file became shorter while it was read");
            goto out;
        }
        if (EVP_DigestUpdate(md, chunk, (size_t)n) != 1) {
            snprintf(err, errlen, "MD5 failed");
            goto out;
        }
        off += n;
        if (done)
            atomic_fetch_add(done, (long long)n);
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(md, digest, &len) != 1 || len != 16) {
        snprintf(err, errlen, "MD5 failed");
        goto out;
    }
    encoding_hex(digest, 16, hex);
    ok = true;
out:
    EVP_MD_CTX_free(md);
    free(chunk);
    return ok;
}
