/*
 * cli: the subcommands of the `vodup` binary, one file each.
 *
 * Each entry point takes the arguments after "vodup" (argv[0] is the
 * subcommand name) and returns the process exit status: 0 on success, 1 on a
 * runtime failure, 2 on a usage error; the client commands also return 3
 * when the server refuses the credentials (docs/cli.md).  Every subcommand
 * answers --help.
 */
#ifndef VODUP_CLI_H
#define VODUP_CLI_H

int cli_serve(int argc, char **argv);
int cli_admin(int argc, char **argv);
/* Operations on a data directory (docs/upgrading.md). */
int cli_backup(int argc, char **argv);
int cli_restore(int argc, char **argv);
int cli_migrate(int argc, char **argv);

/* Client commands (src/client/): talk to a vodup server over HTTP. */
int cli_upload(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_list(int argc, char **argv);
int cli_sign(int argc, char **argv);
int cli_configure(int argc, char **argv);

#endif
