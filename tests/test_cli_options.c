/* The CLI's option layer on hand-made argv: long/short forms, `--`,
 * permuted positionals, unknown options and missing values, numeric
 * validation (NaN, inf, junk, ranges, open bounds, lists), enums, required
 * options and defaults, and the generated --help.  The expected values are
 * written out by hand from the table's ranges. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "t.h"

static const fn_cli_use uses[] = {
    {FN_O_GALLERY, FN_USE_REQUIRED, NULL, NULL, NULL},
    {FN_O_THRESHOLD, 0, NULL, "the gallery's calibrated one, else the model's", NULL},
    {FN_O_JSON, 0, NULL, NULL, NULL},
    {FN_O_VERBOSE, 0, NULL, NULL, NULL},
    {FN_O_ANNOTATE, 0, NULL, NULL, NULL},
    {FN_O_SIZE, 0, "160", NULL, NULL},
    {FN_O_DETECTOR, 0, "haar", NULL, "which detector (this command's wording)"},
    {FN_O_FAR, 0, NULL, NULL, NULL},
    {FN_O_MARGIN, 0, NULL, NULL, NULL},
    FN_CLI_MODEL_USES, FN_USE_T(FN_O_MIN_FACE, "20", NULL), FN_CLI_MTCNN_USES, FN_USE_D(FN_O_SELECT, "prob", NULL),
    {FN_O_NONE, 0, NULL, NULL, NULL}};

static const fn_cli_spec spec = {
    .verb = "identify",
    .usage = (const char *const[]){"--gallery G.db [options] IMAGE|DIR...", NULL},
    .description = "Names the faces.",
    .opts = uses,
    .min_args = 1,
    .max_args = 3,
    .args_name = "IMAGE|DIR...",
    .examples = (const char *const[]){"facenet identify --gallery film.db photo.jpg", NULL},
    .exits = (const fn_cli_exit[]){{3, "no face matched"}, {0, NULL}},
};

/* Parse a space-separated command line (no quoting needed in these cases). */
static int parse(fn_cli_args *a, const char *line)
{
    static char buf[1024];
    static char *argv[64];
    snprintf(buf, sizeof buf, "identify %s", line);
    int argc = 0;
    for (char *tok = strtok(buf, " "); tok && argc < 63; tok = strtok(NULL, " ")) argv[argc++] = tok;
    argv[argc] = NULL;
    return fn_cli_parse_args(&spec, argc, argv, a);
}

static void expect_usage(const char *line, const char *needle)
{
    fn_cli_args a;
    int rc = parse(&a, line);
    T_CHECK(rc == FN_CLI_USAGE, "'%s': rc %d, want usage (msg '%s')", line, rc, a.msg);
    T_CHECK(strstr(a.msg, needle) != NULL, "'%s': message '%s' lacks '%s'", line, a.msg, needle);
}

static void test_forms(void)
{
    fn_cli_args a;
    T_CHECK(parse(&a, "--gallery g.db --threshold 0.9 a.jpg") == FN_CLI_OK, "plain: %s", a.msg);
    T_CHECK(!strcmp(fn_cli_str(&a, FN_O_GALLERY), "g.db") && a.v[FN_O_THRESHOLD].f == 0.9, "plain values");
    T_CHECK(a.npos == 1 && !strcmp(a.pos[0], "a.jpg"), "plain positional %d", a.npos);

    T_CHECK(parse(&a, "--gallery=g2.db --threshold=1.2 a.jpg") == FN_CLI_OK, "--x=v: %s", a.msg);
    T_CHECK(!strcmp(fn_cli_str(&a, FN_O_GALLERY), "g2.db") && a.v[FN_O_THRESHOLD].f == 1.2, "--x=v values");

    T_CHECK(parse(&a, "-g g3.db -t0.5 -jv a.jpg") == FN_CLI_OK, "short: %s", a.msg);
    T_CHECK(!strcmp(fn_cli_str(&a, FN_O_GALLERY), "g3.db") && a.v[FN_O_THRESHOLD].f == 0.5, "short values");
    T_CHECK(fn_cli_flag(&a, FN_O_JSON) && fn_cli_flag(&a, FN_O_VERBOSE), "clustered flags -jv");
    T_CHECK(!fn_cli_flag(&a, FN_O_ANNOTATE), "absent option reads as absent");

    /* Options after positionals (getopt's permutation), and `--` ends the options. */
    T_CHECK(parse(&a, "a.jpg --gallery g.db b.jpg -- --json") == FN_CLI_OK, "permute: %s", a.msg);
    T_CHECK(a.npos == 3 && !strcmp(a.pos[0], "a.jpg") && !strcmp(a.pos[1], "b.jpg") && !strcmp(a.pos[2], "--json"),
            "positionals in order, --json after -- is one: %d", a.npos);
    T_CHECK(!fn_cli_flag(&a, FN_O_JSON), "--json after -- is not the option");
    T_CHECK(parse(&a, "--gallery g.db -") == FN_CLI_OK && a.npos == 1 && !strcmp(a.pos[0], "-"), "'-' is positional");

    /* The last of a repeated option wins (as with getopt). */
    T_CHECK(parse(&a, "--gallery g.db -t 0.1 -t 0.2 a") == FN_CLI_OK && a.v[FN_O_THRESHOLD].f == 0.2, "last wins: %g",
            a.v[FN_O_THRESHOLD].f);

    T_CHECK(parse(&a, "--help") == FN_CLI_HELP, "--help");
    T_CHECK(parse(&a, "a.jpg -h") == FN_CLI_HELP, "-h (even without the required --gallery)");
}

static void test_defaults_and_required(void)
{
    fn_cli_args a;
    T_CHECK(parse(&a, "--gallery g.db a.jpg") == FN_CLI_OK, "defaults: %s", a.msg);
    T_CHECK(a.given[FN_O_SIZE] == 2 && a.v[FN_O_SIZE].i == 160, "size default 160 (given %d, %lld)", a.given[FN_O_SIZE],
            a.v[FN_O_SIZE].i);
    T_CHECK(a.given[FN_O_DETECTOR] == 2 && a.v[FN_O_DETECTOR].e == 1, "detector default haar = index 1");
    T_CHECK(a.given[FN_O_SELECT] == 2 && a.v[FN_O_SELECT].e == 0, "select default prob");
    T_CHECK(!fn_cli_given(&a, FN_O_THRESHOLD) && fn_cli_float(&a, FN_O_THRESHOLD, -1) == -1,
            "threshold: no default value, the fallback is the caller's");
    T_CHECK(!fn_cli_given(&a, FN_O_MIN_FACE), "min-face: default in words only, not given");
    T_CHECK(parse(&a, "--gallery g.db --size 8 a") == FN_CLI_OK && a.v[FN_O_SIZE].i == 8, "size 8 (lowest)");
    T_CHECK(parse(&a, "--gallery g.db --size 2048 a") == FN_CLI_OK && a.v[FN_O_SIZE].i == 2048, "size 2048 (highest)");

    expect_usage("a.jpg", "--gallery G.db is required");
    expect_usage("--gallery g.db", "no IMAGE|DIR... given");
    expect_usage("--gallery g.db a b c d", "unexpected 'd'");
}

static void test_unknown_and_missing(void)
{
    expect_usage("--gallery g.db --thresold 1 a", "unknown option --thresold (did you mean --threshold?)");
    expect_usage("--gallery g.db --frobnicate a", "unknown option --frobnicate");
    expect_usage("--gallery g.db --pairs p.txt a", "--pairs is not an option of identify");
    expect_usage("--gallery g.db -x a", "unknown option -x");
    expect_usage("--gallery g.db a --threshold", "--threshold wants a value T");
    expect_usage("--gallery --json a", "--gallery wants a value G.db");
    expect_usage("--gallery --json a", "the option --json came next");
    expect_usage("--gallery g.db --json=yes a", "--json takes no value (got 'yes')");
    expect_usage("--gallery= a", "--gallery wants a non-empty G.db");
    expect_usage("--gallery g.db --detector dlib a", "--detector dlib is not one of: mtcnn haar");
    expect_usage("--gallery g.db --select biggest a", "--select biggest is not one of: prob largest center");
}

static void test_numbers(void)
{
    /* The brief's own example, word for word. */
    const char *range = "it is a Euclidean distance between L2-normalised embeddings, 0 to 2 "
                        "(d = sqrt(2 − 2·cos); 1.09 ≈ cosine 0.41)";
    char want[400];
    snprintf(want, sizeof want, "--threshold 60 is out of range: %s", range);
    expect_usage("--gallery g.db --threshold 60 a", want);
    snprintf(want, sizeof want, "--threshold -1 is out of range: %s", range);
    expect_usage("--gallery g.db --threshold -1 a", want);
    snprintf(want, sizeof want, "--threshold nan is not a number: %s", range);
    expect_usage("--gallery g.db --threshold nan a", want);
    expect_usage("--gallery g.db --threshold NaN a", "is not a number");
    expect_usage("--gallery g.db --threshold inf a", "--threshold inf is not a finite number");
    expect_usage("--gallery g.db --threshold -infinity a", "is not a finite number");
    expect_usage("--gallery g.db --threshold 1e999 a", "is not a finite number");
    expect_usage("--gallery g.db --threshold 0.9x a", "--threshold 0.9x is not a number");
    expect_usage("--gallery g.db --threshold= a", "--threshold  is not a number");
    expect_usage("--gallery g.db -t 2.0001 a", "out of range");
    fn_cli_args a;
    T_CHECK(parse(&a, "--gallery g.db --threshold 0 a") == FN_CLI_OK && a.v[FN_O_THRESHOLD].f == 0, "0 is in range");
    T_CHECK(parse(&a, "--gallery g.db --threshold 2 a") == FN_CLI_OK && a.v[FN_O_THRESHOLD].f == 2, "2 is in range");

    /* Whole numbers. */
    expect_usage("--gallery g.db --size 1.5 a", "--size 1.5 is not a whole number");
    expect_usage("--gallery g.db --size 7 a", "--size 7 is out of range: it is the side of a square crop, in pixels, 8 to 2048");
    expect_usage("--gallery g.db --size 99999999999999999999 a", "is not a finite number in range");

    /* Open bounds: FAR in (0, 0.1], factor in (0.1, 0.99). */
    expect_usage("--gallery g.db --far 0 a", "--far 0 is out of range: it is a false accept rate, above 0, up to 0.1");
    expect_usage("--gallery g.db --far 1 a", "one stranger in ten");
    T_CHECK(parse(&a, "--gallery g.db --far 0.1 a") == FN_CLI_OK && a.v[FN_O_FAR].f == 0.1, "far 0.1 (closed bound)");
    T_CHECK(parse(&a, "--gallery g.db --far 1e-6 a") == FN_CLI_OK && a.v[FN_O_FAR].f == 1e-6, "far 1e-6");
    expect_usage("--gallery g.db --factor 0.99 a", "between 0.1 and 0.99, both excluded");
    expect_usage("--gallery g.db --factor 0.1 a", "out of range");
    T_CHECK(parse(&a, "--gallery g.db --factor 0.5 a") == FN_CLI_OK && a.v[FN_O_FACTOR].f == 0.5, "factor 0.5");
    expect_usage("--gallery g.db --min-face 11 a", "--min-face 11 is out of range");

    /* Lists: exactly three values, each a probability. */
    T_CHECK(parse(&a, "--gallery g.db --thresholds 0.5,0.6,0.75 a") == FN_CLI_OK, "thresholds: %s", a.msg);
    T_CHECK(a.v[FN_O_THRESHOLDS].fl[0] == 0.5f && a.v[FN_O_THRESHOLDS].fl[1] == 0.6f &&
            a.v[FN_O_THRESHOLDS].fl[2] == 0.75f, "thresholds values");
    expect_usage("--gallery g.db --thresholds 0.5,0.6 a", "wants 3 comma-separated numbers");
    expect_usage("--gallery g.db --thresholds 0.5,0.6,0.7,0.8 a", "wants 3 comma-separated numbers");
    expect_usage("--gallery g.db --thresholds 0.5,,0.7 a", "wants 3 comma-separated numbers");
    expect_usage("--gallery g.db --thresholds 0.5,nan,0.7 a", "--thresholds 0.5,nan,0.7 is not a number");
    expect_usage("--gallery g.db --thresholds 0.5,1.5,0.7 a", "--thresholds 0.5,1.5,0.7 is out of range");

    /* A negative number is a value, not an option. */
    expect_usage("--gallery g.db --margin -3 a", "--margin -3 is out of range");
}

static char *help_text(void)
{
    static char *buf;   /* static: GCC takes open_memstream's result for a pointer to a local */
    static size_t len;
    buf = NULL;
    FILE *f = open_memstream(&buf, &len);
    fn_cli_help(&spec, f);
    fclose(f);
    return buf;
}

static char *fold_space(const char *s)
{
    char *out = malloc(strlen(s) + 1), *w = out;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\n') {
            if (w == out || w[-1] != ' ') *w++ = ' ';
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
    return out;
}

static void test_help(void)
{
    char *h = help_text();
    static const char *needles[] = {
        "usage: facenet identify --gallery G.db [options] IMAGE|DIR...\n",
        "Names the faces.",
        "-g, --gallery G.db",
        "(required)",
        "-t, --threshold T",
        "0 to 2 (d = sqrt(2 − 2·cos); 1.09 ≈ cosine 0.41); default: the gallery's calibrated one, else the model's",
        "--size N",
        "8 to 2048; default: 160",
        "which detector (this command's wording)",
        "one of: mtcnn haar; default: haar",
        "each 0 to 1; default: 0.6,0.7,0.7",
        "-h, --help",
        "example:\n  facenet identify --gallery film.db photo.jpg\n",
        "exit status:\n  0  success\n  1  failure",
        "  2  usage",
        "  3  no face matched",
    };
    /* Compared with runs of white space folded to one space (help lines are wrapped). */
    char *flat = fold_space(h);
    for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++) {
        char *n = fold_space(needles[i]);
        T_CHECK(strstr(flat, n) != NULL, "help lacks '%s'", needles[i]);
        free(n);
    }
    free(flat);
    /* Every option of the spec has one line in the options section. */
    char *opts = strstr(h, "\noptions:\n"), *end = opts ? strstr(opts, "\nexample") : NULL;
    T_CHECK(opts && end, "help has an options section followed by examples");
    if (opts && end) *end = '\0';
    char name[64];
    for (const fn_cli_use *u = uses; opts && u->id; u++) {
        snprintf(name, sizeof name, "--%s ", fn_cli_options[u->id].name);
        const char *first = strstr(opts, name);
        T_CHECK(first && !strstr(first + 1, name), "help names %s once", name);
    }
    free(h);
}

/* Every entry of the table is complete: a name, a help line, a metavar for
 * valued kinds, a meaning and a sane range for numbers, values for enums,
 * and no two entries share a long or short name. */
static void test_table(void)
{
    for (int i = 1; i < FN_O_COUNT; i++) {
        const fn_cli_option *o = &fn_cli_options[i];
        T_CHECK(o->name && o->help && *o->help, "entry %d has a name and help", i);
        if (!o->name) continue;
        if (o->kind != FN_ARG_FLAG) T_CHECK(o->metavar != NULL, "--%s has a metavar", o->name);
        if (o->kind == FN_ARG_INT || o->kind == FN_ARG_FLOAT || o->kind == FN_ARG_FLOATS)
            T_CHECK(o->meaning && o->min < o->max && isfinite(o->min) && isfinite(o->max), "--%s range/meaning",
                    o->name);
        if (o->kind == FN_ARG_ENUM) T_CHECK(o->values && o->values[0], "--%s has values", o->name);
        for (int j = i + 1; j < FN_O_COUNT; j++) {
            T_CHECK(!fn_cli_options[j].name || strcmp(o->name, fn_cli_options[j].name), "--%s twice", o->name);
            T_CHECK(!o->short_name || o->short_name != fn_cli_options[j].short_name, "-%c twice", o->short_name);
        }
    }
}

static void test_bad_spec(void)
{
    static const fn_cli_use twice[] = {FN_USE(FN_O_JSON), FN_USE(FN_O_VERBOSE), FN_USE(FN_O_JSON), FN_USE_END};
    fn_cli_spec bad = spec;
    bad.opts = twice;
    char *argv[] = {"identify", "a.jpg", NULL};
    fn_cli_args a;
    T_CHECK(fn_cli_parse_args(&bad, 2, argv, &a) == FN_CLI_USAGE && strstr(a.msg, "lists --json twice"),
            "a spec listing --json twice is refused: %s", a.msg);
}

int main(void)
{
    test_bad_spec();
    test_forms();
    test_defaults_and_required();
    test_unknown_and_missing();
    test_numbers();
    test_help();
    test_table();
    return T_DONE();
}
