/* main.c — the facenet command: dispatches `facenet <verb> ...` to cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const fn_cli_command commands[] = {
    FN_CLI_COMMANDS
};

static void usage(FILE *f)
{
    fprintf(f, "usage: facenet <command> [options] ...\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`facenet <command> --help` explains one command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "facenet: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
