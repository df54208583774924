/*
 * mkfile_args: the network-facing syntax of mkfile, kept pure so that it
 * can be unit-tested and fuzzed:
 *   path  /mkfile/<fileSize>[/<name>/<url-safe base64 value>]...
 *   body  the last ctx of each block, comma-joined (spaces and line breaks
 *         around entries tolerated; an empty body is an empty file).
 */
#ifndef VODUP_MKFILE_ARGS_H
#define VODUP_MKFILE_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Called for each /<name>/<value> pair with the value decoded (NUL-free,
 * NUL-terminated); returns false to stop the parse with an error. */
typedef bool (*mkfile_pair_fn)(void *arg, const char *name, size_t name_len, const char *value);

/* Parses what follows "/mkfile/".  False when the size is not a decimal of
 * 1..18 digits or a pair is malformed (value not url-safe base64, or
 * decoding to text with a NUL); a trailing '/' is tolerated. */
bool mkfile_args_parse_path(const char *args, int64_t *file_size, mkfile_pair_fn pair, void *arg);

/* Called for each ctx entry (trimmed, non-empty, without commas) with its
 * position; returns false to stop. */
typedef bool (*mkfile_ctx_fn)(void *arg, const char *text, size_t len, size_t index);

/* Splits a ctx list.  Returns the number of entries, 0 for an entirely
 * blank body, or -1 when an entry is empty ("a,,b", "a,") or `item`
 * stopped. */
long mkfile_args_split_ctx_list(const char *body, size_t len, mkfile_ctx_fn item, void *arg);

#endif
