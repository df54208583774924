/*
 * admin_internal: what the files of `vodup admin` share: the command's
 * context, its option parsing, messages, output helpers and the verb tables
 * each object file exports.  admin.c holds the usage, the dispatch and the
 * key, domain and resource commands; admin_webhook.c the webhook commands,
 * admin_playback.c the playback access.
 * Private to src/cli.
 */
#ifndef VODUP_CLI_ADMIN_INTERNAL_H
#define VODUP_CLI_ADMIN_INTERNAL_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* getopt_long values of the options every verb also accepts. */
enum { ADMIN_OPT_DATA = 1000, ADMIN_OPT_ACCOUNT, ADMIN_OPT_JSON };

/* Ends every verb's option table: the global options are accepted there too. */
#define ADMIN_COMMON_OPTIONS                                  \
    {"help", no_argument, NULL, 'h'},                         \
    {"data", required_argument, NULL, ADMIN_OPT_DATA},        \
    {"account", required_argument, NULL, ADMIN_OPT_ACCOUNT},  \
    {"json", no_argument, NULL, ADMIN_OPT_JSON},              \
    {NULL, 0, NULL, 0}

typedef struct admin_ctx {
    const char *data_dir;
    const char *account;   /* --account, NULL when not given */
    bool json;
    const char *object;    /* the object being run, for its --help */
    int kind;              /* the store_resource_kind of a resource object */
    store_t *store;        /* opened on first use */
    char **pos;            /* positional arguments after the verb's options */
    int npos;
} admin_ctx_t;

/* Handles one of a verb's own options; returns -1 to go on, else an exit
 * status. */
typedef int (*admin_opt_fn)(void *state, int id, const char *arg);

typedef int (*admin_verb_fn)(admin_ctx_t *ctx, int argc, char **argv);

typedef struct admin_verb {
    const char *name;
    admin_verb_fn run;
} admin_verb_t;

typedef struct admin_table {
    size_t ncols, nrows, cap;
    char **cells; /* row-major, row 0 is the header */
} admin_table_t;

/* ---- messages: each returns the exit status (2 usage, 1 failure) ---- */

__attribute__((format(printf, 1, 2))) int admin_usage_error(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) int admin_fail(const char *fmt, ...);
/* Explains a store failure in the operator's terms. */
int admin_store_fail(int rc, const char *what);

/* ---- parsing ---- */

/* Parses a whole decimal integer in [min, max]. */
bool admin_parse_int(const char *s, long min, long max, long *out);
/* Parses a verb's options (argv[0] is the verb), the global ones too.
 * Returns -1 to go on (positional arguments in ctx->pos), else an exit
 * status. */
int admin_parse_verb(admin_ctx_t *ctx, int argc, char **argv, const struct option *opts, admin_opt_fn on_opt,
                     void *state);
/* Checks the number of positional arguments; returns -1 when right. */
int admin_expect_args(admin_ctx_t *ctx, const char *verb, int n, const char *what);
/* Opens the store and finds the account the command acts on; -1 to go on. */
int admin_open_account(admin_ctx_t *ctx, int64_t *account_id);

/* ---- output ---- */

/* Prints a JSON value on one line; takes the reference. */
int admin_print_json(json_t *j);
bool admin_table_add(admin_table_t *t, const char *const *row);
void admin_table_print(const admin_table_t *t);
void admin_table_free(admin_table_t *t);
/* Ends a listing: prints arr (--json, taking it) or the table (freeing
 * it), or, when !ok (out of memory while filling them), frees both and
 * fails.  Returns the exit status. */
int admin_list_output(const admin_ctx_t *ctx, json_t *arr, admin_table_t *t, bool ok);
/* "Name: value" lines, aligned. */
void admin_print_pairs(const char *const *pairs, size_t n);

/* ---- verb tables ---- */

extern const admin_verb_t admin_webhook_verbs[];
extern const admin_verb_t admin_playback_verbs[];
extern const admin_verb_t admin_link_verbs[];

#endif
