/* engine_opts.h — the options every recognising subcommand shares
 * (--model, --models-dir, --mtcnn-dir, detector settings, declared in
 * options.h as FN_CLI_ENGINE_USES) and the engine they make.  Keeps model discovery in one place.
 */
#ifndef FN_CLI_ENGINE_OPTS_H
#define FN_CLI_ENGINE_OPTS_H

#include "facenet.h"
#include "options.h"

typedef struct fn_cli_engine {
    fn_options opts;
    fn_select select;
    char models_dir[4200];
} fn_cli_engine;

void fn_cli_engine_init(fn_cli_engine *ce);
/* Take the engine's options (FN_CLI_ENGINE_USES) from parsed arguments;
 * the values were validated by the option table. */
void fn_cli_engine_from_args(fn_cli_engine *ce, const fn_cli_args *a);
/* init + fn_cli_parse + from_args: returns 1 when the command must return *exit_code. */
int fn_cli_engine_parse(fn_cli_engine *ce, const fn_cli_spec *spec, int argc, char **argv, fn_cli_args *a,
                        int *exit_code);
/* Resolve the models directory and create the engine; prints the error. */
int fn_cli_engine_open(fn_cli_engine *ce, const char *verb, fn_engine **out);

#endif
