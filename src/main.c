/* vodup: dispatches to the subcommands in src/cli/. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vodup <command> [options]\n"
               "\n"
               "commands:\n"
               "  serve   run the API and upload server\n"
               "  admin   manage keys, domains and processing resources in a data directory\n"
               "\n"
               "Run 'vodup <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "serve"))
        return cli_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "admin"))
        return cli_admin(argc - 1, argv + 1);
    fprintf(stderr, "vodup: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
