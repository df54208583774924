/*
 * harness_cli: runs the `vodup` client commands as a user would, as a
 * child process with its own HOME and environment, and collects the exit
 * status, stdout and stderr.  The child dies with the test (PDEATHSIG), and
 * a child that outlives its timeout is SIGKILLed.
 */
#ifndef VODUP_HARNESS_CLI_H
#define VODUP_HARNESS_CLI_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "harness.h"

#define HARNESS_CLI_NOBODY 65534

typedef struct harness_cli_result {
    int status;   /* exit status; 128+N when killed by signal N; -1 on a harness error */
    char *out;    /* stdout, NUL-terminated */
    char *err;    /* stderr */
    json_t *json; /* stdout parsed, when it is one JSON text */
} harness_cli_result_t;

void harness_cli_result_free(harness_cli_result_t *r);

typedef struct harness_cli_opts {
    const char *argv0;            /* NULL: VODUP_BIN */
    const char *home;             /* the child's HOME (XDG_* and VODUP_* of ours are dropped) */
    bool server_env;              /* VODUP_ENDPOINT, VODUP_ACCESS_KEY, VODUP_SECRET_KEY of the server */
    const char *const *extra_env; /* NAME=VALUE to set, or NAME to remove; applied last */
    const char *input;            /* stdin text; NULL: /dev/null */
    bool as_nobody;               /* drop root (uid/gid 65534) before exec */
} harness_cli_opts_t;

typedef struct harness_cli_proc {
    pid_t pid;
    char out_path[320], err_path[320];
} harness_cli_proc_t;

/* Starts `argv0 args...` (args NULL-terminated); false when it cannot. */
bool harness_cli_start(harness_server_t *s, const harness_cli_opts_t *o, const char *const *args,
                       harness_cli_proc_t *p);
/* Waits for it (SIGKILL after timeout_ms) and fills r. */
void harness_cli_finish(harness_cli_proc_t *p, int timeout_ms, harness_cli_result_t *r);
/* Start and finish. */
bool harness_cli_run(harness_server_t *s, const harness_cli_opts_t *o, const char *const *args, int timeout_ms,
                     harness_cli_result_t *r);
/* A new empty directory under the server's root to serve as HOME (malloc'd). */
char *harness_cli_home(harness_server_t *s);

#endif
