/*
 * client_hash: the MD5 of a file, for getUploadToken's fileMd5.
 *
 * Reads the file with pread in CLIENT_HASH_BUFFER pieces (never the whole
 * file in memory), can be stopped half-way, and reports how far it got so
 * the progress bar can show it.  Runs on its own thread in `vodup upload`,
 * beside the block uploads that read the same pages.
 */
#ifndef VODUP_CLIENT_HASH_H
#define VODUP_CLIENT_HASH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLIENT_HASH_BUFFER ((size_t)1024 * 1024)

/*
 * MD5 of the first `size` bytes of fd as 32 lowercase hex digits.  *done
 * (may be NULL) grows with the bytes hashed; *stop (may be NULL) non-zero
 * ends it early.  False with a reason in err on a read error, a file
 * shorter than `size`, or a stop.
 */
bool client_file_md5(int fd, int64_t size, char hex[33], atomic_llong *done, const atomic_int *stop, char *err,
                     size_t errlen);

#endif
