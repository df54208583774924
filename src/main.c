/* vodup: dispatches to the subcommands in src/cli/. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/version.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vodup <command> [options]\n"
               "\n"
               "commands:\n"
               "  serve      run the API and upload server\n"
               "  admin      manage keys, domains and processing resources in a data directory\n"
               "  backup     copy a data directory (database, objects, resource files) while serving\n"
               "  restore    make a data directory from a backup, and verify it\n"
               "  migrate    show and apply the database's schema migrations (--dry-run)\n"
               "\n"
               "client commands (talk to a server; see docs/cli.md):\n"
               "  upload     upload a file as a new video, resumable, with a progress bar\n"
               "  token      call getUploadToken and print the answer\n"
               "  info       call getVideoInfo for one video\n"
               "  list       call getVideoList\n"
               "  sign       print a curl command for any API request, signed\n"
               "  configure  save the endpoint and keys to ~/.config/vodup/config\n"
               "\n"
               "Run 'vodup <command> --help' for a command's options; 'vodup --version' for the version.\n");
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
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
        printf("%s\n", version_string());
        return 0;
    }
    if (!strcmp(cmd, "serve"))
        return cli_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "admin"))
        return cli_admin(argc - 1, argv + 1);
    if (!strcmp(cmd, "backup"))
        return cli_backup(argc - 1, argv + 1);
    if (!strcmp(cmd, "restore"))
        return cli_restore(argc - 1, argv + 1);
    if (!strcmp(cmd, "migrate"))
        return cli_migrate(argc - 1, argv + 1);
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
    } client_commands[] = {
        {"upload", cli_upload}, {"token", cli_token}, {"info", cli_info},
        {"list", cli_list},     {"sign", cli_sign},   {"configure", cli_configure},
    };
    for (size_t i = 0; i < sizeof(client_commands) / sizeof(client_commands[0]); i++)
        if (!strcmp(cmd, client_commands[i].name))
            return client_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vodup: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
