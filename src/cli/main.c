/* main.c — the facenet command: dispatches `facenet <verb> ...` to cmd_*.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
 * OMP_WAIT_POLICY once, in its initialiser, before main; the command used
 * to restart itself (execv of /proc/self/exe) with the variable set, which
 * cost a second start (~100 ms).  Now it is done in-process:
 *
 * An entry of the executable's .preinit_array runs before any shared
 * library's initialiser (the dynamic loader calls it first; ASan starts
 * the same way).  setenv there is not enough: libc's own initialiser, which
 * runs next, points `environ` back at the process's original environment
 * array, and libgomp's runs after it.  So the entry changes that array in
 * place: one slot holding a variable no library reads while starting ("_",
 * the shell's last argument, or OLDPWD, SHLVL...) is lent to
 * "OMP_WAIT_POLICY=passive" for the initialisers, and the executable's own
 * constructor (run after every library's, before main) gives it back and
 * sets OMP_WAIT_POLICY with setenv, so main and any child see the whole
 * environment plus the policy, as after the old restart.  Without such a
 * variable (an empty environment) the default policy stays.  A user's own
 * OMP_WAIT_POLICY or GOMP_SPINCOUNT is left alone.
 * `OMP_DISPLAY_ENV=verbose facenet version` shows what libgomp read
 * (GOMP_SPINCOUNT = '0': passive); tests/test_cli_start.sh checks it. */
static char passive_policy[] = "OMP_WAIT_POLICY=passive";
static char **lent_slot;     /* written once before any thread exists, read once by the constructor */
static char *lent_value;

static int env_named(const char *entry, const char *name)
{
    size_t n = strlen(name);
    return !strncmp(entry, name, n) && entry[n] == '=';
}

static void lend_slot_for_passive_openmp(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)argv;
    static const char *const spare[] = {"_", "OLDPWD", "SHLVL", "PWD", "HOSTNAME", "LS_COLORS", "LESSOPEN",
                                        "LESSCLOSE", "MAIL"};
    if (!envp) return;
    for (char **p = envp; *p; p++)
        if (env_named(*p, "OMP_WAIT_POLICY") || env_named(*p, "GOMP_SPINCOUNT")) return;
    for (size_t i = 0; i < sizeof spare / sizeof spare[0]; i++)
        for (char **p = envp; *p; p++)
            if (env_named(*p, spare[i])) {
                lent_slot = p;
                lent_value = *p;
                *p = passive_policy;
                return;
            }
}

__attribute__((section(".preinit_array"), used))
static void (*const lend_slot_entry)(int, char **, char **) = lend_slot_for_passive_openmp;

__attribute__((constructor)) static void give_slot_back(void)
{
    if (!lent_slot) return;
    *lent_slot = lent_value;
    setenv("OMP_WAIT_POLICY", "passive", 1);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *verb = !strcmp(argv[1], "--version") || !strcmp(argv[1], "-V") ? "version" : argv[1];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)   /* --version: what other tools answer */
        if (!strcmp(verb, commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "facenet: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
