/* main.c — the facenet command: dispatches `facenet <verb> ...` to cmd_*.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

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

/* OpenMP threads that wait by spinning burn the core another process
 * needs, and on a shared 2-core machine that made embedding 3-5x slower;
 * waiting passively costs little when the machine is idle.  libgomp reads
 * the policy once at start-up, before main, so the command restarts itself
 * once with it set (a user's own OMP_WAIT_POLICY is left alone). */
static void prefer_passive_openmp(char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);
    /* No /proc: carry on with the default policy. */
}

int main(int argc, char **argv)
{
    prefer_passive_openmp(argv);
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
