/*
 * cli: the subcommands of the `vodup` binary, one file each.
 *
 * Each entry point takes the arguments after "vodup" (argv[0] is the
 * subcommand name) and returns the process exit status: 0 on success, 1 on a
 * runtime failure, 2 on a usage error.  Every subcommand answers --help.
 */
#ifndef VODUP_CLI_H
#define VODUP_CLI_H

int cli_serve(int argc, char **argv);
int cli_admin(int argc, char **argv);

#endif
