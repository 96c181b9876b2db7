/* options.h — the command line's one option layer: every option of every
 * subcommand is an entry of one table (name, kind, valid range, meaning), so
 * a flag means the same thing everywhere; argv parsing, value validation and
 * --help are generated from it.  Owns no I/O besides printing help/errors.
 */
#ifndef FN_CLI_OPTIONS_H
#define FN_CLI_OPTIONS_H

#include <stdio.h>

/* What an option's value is. */
typedef enum fn_cli_kind {
    FN_ARG_FLAG,     /* no value */
    FN_ARG_INT,      /* a whole number in [min, max] */
    FN_ARG_FLOAT,    /* a finite number in [min, max] (bounds may be open) */
    FN_ARG_FLOATS,   /* `count` finite numbers, comma-separated, each in [min, max] */
    FN_ARG_STRING,   /* any non-empty text */
    FN_ARG_PATH,     /* a file or directory name (non-empty) */
    FN_ARG_ENUM      /* one of `values` */
} fn_cli_kind;

/* Every option of the CLI.  Add one here and in fn_cli_options[] (options.c). */
typedef enum fn_cli_opt {
    FN_O_NONE = 0,
    FN_O_HELP,
    /* the engine: models and detector */
    FN_O_MODEL, FN_O_MODELS_DIR, FN_O_MTCNN_DIR, FN_O_MIN_FACE, FN_O_THRESHOLDS, FN_O_FACTOR, FN_O_SELECT,
    FN_O_DETECTOR, FN_O_CASCADE, FN_O_THREADS, FN_O_JOBS, FN_O_BATCH,
    /* galleries and decisions */
    FN_O_GALLERY, FN_O_THRESHOLD, FN_O_FAR, FN_O_DRY_RUN, FN_O_ALLOW_REPEATS, FN_O_ALSO_OTHER_PERSON,
    /* output */
    FN_O_JSON, FN_O_VERBOSE, FN_O_ANNOTATE, FN_O_CROPS, FN_O_SIZE, FN_O_MARGIN, FN_O_OUTPUT, FN_O_PLOT,
    FN_O_OVERWRITE,
    /* inputs */
    FN_O_ALIGNED, FN_O_NO_CACHE, FN_O_GALLERY_DIR, FN_O_PROBE_DIR, FN_O_UNKNOWN_DIR, FN_O_PAIRS, FN_O_IMAGES,
    FN_O_TRAIN_PAIRS, FN_O_FLIP,
    /* enrolment from a camera */
    FN_O_NAME, FN_O_CAMERA, FN_O_FRAMES, FN_O_SECONDS, FN_O_SAVE,
    /* video */
    FN_O_EVERY, FN_O_HEADLESS, FN_O_REALTIME, FN_O_MAX_FRAMES, FN_O_DETECT_SCALE,
    /* photo libraries */
    FN_O_MAX_SIDE, FN_O_METHOD, FN_O_RECLUSTER, FN_O_TO, FN_O_MIN_QUALITY, FN_O_CALIBRATE_ON, FN_O_FULL_DECODE,
    FN_O_LIMIT_RATIO, FN_O_STEP, FN_O_FORGET_THRESHOLD, FN_O_PRUNE,
    /* the HTTP server (facenet serve) */
    FN_O_LISTEN, FN_O_KEYS, FN_O_TLS_CERT, FN_O_TLS_KEY, FN_O_CORS, FN_O_MAX_BODY, FN_O_MAX_PIXELS, FN_O_MAX_BUSY,
    FN_O_TIMEOUT, FN_O_WORKERS, FN_O_MAX_PER_IP, FN_O_REQUEST_TIMEOUT,
    FN_O_COUNT
} fn_cli_opt;

typedef struct fn_cli_option {
    const char *name;            /* long name, without "--" */
    char short_name;             /* -x, or 0 */
    fn_cli_kind kind;
    const char *metavar;         /* the value's placeholder in --help ("T", "DIR") */
    double min, max;             /* INT, FLOAT, FLOATS: the valid range */
    unsigned char min_open, max_open;   /* 1: that bound itself is excluded */
    int count;                   /* FLOATS: how many values */
    const char *const *values;   /* ENUM: the accepted words, NULL-terminated */
    const char *help;            /* one line: what the option does */
    const char *meaning;         /* numbers: what the value is, for errors ("a Euclidean distance ...") */
    const char *note;            /* numbers: said after the range, e.g. how it relates to cosine similarity */
} fn_cli_option;

/* The table, indexed by fn_cli_opt (read-only). */
extern const fn_cli_option fn_cli_options[FN_O_COUNT];

#define FN_USE_REQUIRED 1u

/* An option as one subcommand uses it: the shared entry, plus this
 * command's default and, where the shared line is not precise enough, its
 * own wording of the help line (never of the value's kind or range). */
typedef struct fn_cli_use {
    fn_cli_opt id;               /* FN_O_NONE ends a list */
    unsigned flags;              /* FN_USE_REQUIRED */
    const char *def;             /* default value, parsed and validated like a given one (NULL: none) */
    const char *def_text;        /* the default in words when it is not a fixed value */
    const char *help;            /* this command's help line (NULL: the shared one) */
} fn_cli_use;

/* Rows of a use table: as shared; with this command's help line; with a
 * default value; with the default in words; required; the end. */
#define FN_USE(id) {id, 0, NULL, NULL, NULL}
#define FN_USE_H(id, help) {id, 0, NULL, NULL, help}
#define FN_USE_D(id, def, help) {id, 0, def, NULL, help}
#define FN_USE_T(id, def_text, help) {id, 0, NULL, def_text, help}
#define FN_USE_REQ(id, help) {id, FN_USE_REQUIRED, NULL, NULL, help}
#define FN_USE_END {FN_O_NONE, 0, NULL, NULL, NULL}

/* The engine's options, shared by every recognising subcommand. */
#define FN_CLI_MODEL_USES \
    FN_USE_T(FN_O_MODEL, "mobilefacenet", NULL), \
    FN_USE_T(FN_O_MODELS_DIR, "$FACENET_MODELS, else ./models, else models/ beside the executable", NULL), \
    FN_USE_T(FN_O_MTCNN_DIR, "the bundle's MTCNN", NULL)
#define FN_CLI_MTCNN_USES \
    FN_USE_T(FN_O_THRESHOLDS, "0.6,0.7,0.7", NULL), FN_USE_T(FN_O_FACTOR, "0.709", NULL)
#define FN_CLI_DETECTOR_USES \
    FN_USE_D(FN_O_DETECTOR, "mtcnn", NULL), \
    FN_USE_T(FN_O_CASCADE, "Debian opencv-data's frontal face cascade", "Haar cascade (with --detector haar)")
#define FN_CLI_ENGINE_USES \
    FN_CLI_MODEL_USES, FN_CLI_DETECTOR_USES, FN_USE_T(FN_O_MIN_FACE, "20", NULL), FN_CLI_MTCNN_USES, \
    FN_USE_D(FN_O_SELECT, "prob", NULL)

typedef struct fn_cli_exit { int code; const char *meaning; } fn_cli_exit;

/* One subcommand: what --help says and what the parser accepts. */
typedef struct fn_cli_spec {
    const char *verb;
    const char *const *usage;     /* synopsis lines after "facenet VERB ", NULL-terminated */
    const char *description;      /* what it does; may hold several lines */
    const fn_cli_use *opts;       /* ends with {FN_O_NONE}; --help is always accepted */
    int min_args, max_args;       /* positional arguments; max_args < 0: no limit */
    const char *args_name;        /* the positional arguments in messages ("IMAGE|DIR...") */
    const char *const *examples;  /* whole command lines, NULL-terminated; at least one */
    const fn_cli_exit *exits;     /* exit codes besides 0/1/2, or rewording them; ends with {0, NULL} */
} fn_cli_spec;

typedef union fn_cli_value {
    long long i;                  /* INT */
    double f;                     /* FLOAT */
    float fl[4];                  /* FLOATS */
    const char *s;                /* STRING, PATH (points into argv or the spec) */
    int e;                        /* ENUM: index into values */
} fn_cli_value;

/* The result of parsing.  given[id]: 0 absent, 1 on the command line,
 * 2 this command's default.  pos: the positional arguments, in order. */
typedef struct fn_cli_args {
    const fn_cli_spec *spec;
    unsigned char given[FN_O_COUNT];
    fn_cli_value v[FN_O_COUNT];
    char **pos;
    int npos;
    char msg[640];                /* the usage error, when parsing returns FN_CLI_USAGE */
} fn_cli_args;

enum { FN_CLI_OK = 0, FN_CLI_HELP = 1, FN_CLI_USAGE = 2 };

/* Parse argv (argv[0] is the verb).  Options and positional arguments may
 * mix; `--` ends the options.  Long options as --x=v or --x v, short as -x v,
 * -xv or clustered flags (-jv).  Reorders argv's pointers (positionals first),
 * never the strings.  Returns FN_CLI_OK, FN_CLI_HELP (--help/-h seen), or
 * FN_CLI_USAGE with a->msg naming the option and what is wrong. */
int fn_cli_parse_args(const fn_cli_spec *spec, int argc, char **argv, fn_cli_args *a);

/* fn_cli_parse_args, then print help (stdout) or the usage error with a
 * pointer to --help (stderr).  Returns 1 when the command is done and must
 * return *exit_code (0 after help, 2 after a usage error); else 0. */
int fn_cli_parse(const fn_cli_spec *spec, int argc, char **argv, fn_cli_args *a, int *exit_code);

/* The generated --help: usage, description, options with defaults and
 * ranges, examples, exit codes. */
void fn_cli_help(const fn_cli_spec *spec, FILE *f);

/* Check one value of option id as the parser would; 0 ok, else -1 and msg. */
int fn_cli_value_parse(fn_cli_opt id, const char *text, fn_cli_value *v, char *msg, size_t msglen);

/* Accessors (an option absent with no default gives 0 / NULL / dflt). */
static inline int fn_cli_given(const fn_cli_args *a, fn_cli_opt id) { return a->given[id] != 0; }
static inline int fn_cli_flag(const fn_cli_args *a, fn_cli_opt id) { return a->given[id] != 0; }
static inline const char *fn_cli_str(const fn_cli_args *a, fn_cli_opt id) { return a->given[id] ? a->v[id].s : NULL; }
static inline long long fn_cli_int(const fn_cli_args *a, fn_cli_opt id, long long dflt)
{
    return a->given[id] ? a->v[id].i : dflt;
}
static inline double fn_cli_float(const fn_cli_args *a, fn_cli_opt id, double dflt)
{
    return a->given[id] ? a->v[id].f : dflt;
}
static inline int fn_cli_enum(const fn_cli_args *a, fn_cli_opt id, int dflt) { return a->given[id] ? a->v[id].e : dflt; }

/* "facenet VERB: " + message + a pointer to --help on stderr; returns 2. */
int fn_cli_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
