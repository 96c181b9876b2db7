/* engine_opts.h — the options every recognising subcommand shares
 * (--model, --models-dir, --mtcnn-dir, detector settings) and the engine
 * they make.  Keeps model discovery in one place.
 */
#ifndef FN_CLI_ENGINE_OPTS_H
#define FN_CLI_ENGINE_OPTS_H

#include <getopt.h>
#include "facenet.h"

/* getopt_long codes for the shared options (above any short option). */
enum {
    OPT_MODEL = 1000, OPT_MODELS_DIR, OPT_MTCNN_DIR, OPT_MIN_FACE, OPT_THRESHOLDS, OPT_FACTOR, OPT_SELECT,
    OPT_FIRST_LOCAL = 1100
};

#define FN_ENGINE_LONGOPTS \
    {"model", required_argument, 0, OPT_MODEL}, \
    {"models-dir", required_argument, 0, OPT_MODELS_DIR}, \
    {"mtcnn-dir", required_argument, 0, OPT_MTCNN_DIR}, \
    {"min-face", required_argument, 0, OPT_MIN_FACE}, \
    {"thresholds", required_argument, 0, OPT_THRESHOLDS}, \
    {"factor", required_argument, 0, OPT_FACTOR}, \
    {"select", required_argument, 0, OPT_SELECT}

#define FN_ENGINE_HELP \
    "  --model M          mobilefacenet (default) or a facenet-pytorch checkpoint (.pt)\n" \
    "  --models-dir DIR   where `make models` put the default bundle ($FACENET_MODELS, ./models)\n" \
    "  --mtcnn-dir DIR    use pnet.pt/rnet.pt/onet.pt from DIR instead of the bundle's MTCNN\n" \
    "  --min-face N       smallest face to detect, in pixels (20)\n" \
    "  --thresholds a,b,c MTCNN stage thresholds (0.6,0.7,0.7)\n" \
    "  --factor F         MTCNN pyramid factor (0.709)\n" \
    "  --select HOW       which face when one is wanted: prob, largest, center (prob)\n"

typedef struct fn_cli_engine {
    fn_options opts;
    fn_select select;
    char models_dir[4200];
} fn_cli_engine;

void fn_cli_engine_init(fn_cli_engine *ce);
/* Handle one shared option; returns 0 if used, 2 (usage) if its value is bad. */
int fn_cli_engine_option(fn_cli_engine *ce, const char *verb, int code, const char *arg);
/* Resolve the models directory and create the engine; prints the error. */
int fn_cli_engine_open(fn_cli_engine *ce, const char *verb, fn_engine **out);

#endif
