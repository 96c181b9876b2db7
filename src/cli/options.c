#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const select_values[] = {"prob", "largest", "center", NULL};
static const char *const detector_values[] = {"mtcnn", "haar", NULL};
static const char *const method_values[] = {"whispers", "dbscan", "average", NULL};

#define FLAG(n, s, h) {.name = n, .short_name = s, .kind = FN_ARG_FLAG, .help = h}
#define PATH(n, s, mv, h) {.name = n, .short_name = s, .kind = FN_ARG_PATH, .metavar = mv, .help = h}

/* Ranges: the values that make sense for the quantity, not merely the ones
 * that do not crash; the meaning and the note are said in the error. */
const fn_cli_option fn_cli_options[FN_O_COUNT] = {
    [FN_O_HELP] = FLAG("help", 'h', "print this help and exit"),
    [FN_O_MODEL] = {.name = "model", .short_name = 'm', .kind = FN_ARG_STRING, .metavar = "M",
                    .help = "the embedding network: mobilefacenet, or a facenet-pytorch checkpoint (.pt)"},
    [FN_O_MODELS_DIR] = PATH("models-dir", 0, "DIR", "where `make models` put the default model bundle"),
    [FN_O_MTCNN_DIR] = PATH("mtcnn-dir", 0, "DIR", "use pnet.pt, rnet.pt, onet.pt from DIR for MTCNN"),
    [FN_O_MIN_FACE] = {.name = "min-face", .kind = FN_ARG_FLOAT, .metavar = "N", .min = 12, .max = 10000,
                       .help = "smallest face to detect, in pixels",
                       .meaning = "the side of the smallest face looked for, in pixels",
                       .note = "(MTCNN's P-Net sees 12x12 windows, so nothing smaller can be found)"},
    [FN_O_THRESHOLDS] = {.name = "thresholds", .kind = FN_ARG_FLOATS, .metavar = "a,b,c", .count = 3, .min = 0,
                         .max = 1, .help = "MTCNN's P-, R- and O-Net face probability thresholds",
                         .meaning = "three face probabilities, one per MTCNN stage"},
    [FN_O_FACTOR] = {.name = "factor", .kind = FN_ARG_FLOAT, .metavar = "F", .min = 0.1, .max = 0.99, .min_open = 1,
                     .max_open = 1, .help = "MTCNN's image pyramid scale factor",
                     .meaning = "the ratio between the sizes of successive pyramid levels",
                     .note = "(closer to 1: more levels, slower, finds more sizes)"},
    [FN_O_SELECT] = {.name = "select", .kind = FN_ARG_ENUM, .metavar = "HOW", .values = select_values,
                     .help = "which face of an image when one is wanted: most probable, largest, nearest the centre"},
    [FN_O_DETECTOR] = {.name = "detector", .kind = FN_ARG_ENUM, .metavar = "D", .values = detector_values,
                       .help = "face detector: MTCNN, or the Haar cascade with O-Net landmarks"},
    [FN_O_CASCADE] = PATH("cascade", 0, "XML", "Haar cascade file (OpenCV format)"),
    [FN_O_JOBS] = {.name = "jobs", .kind = FN_ARG_INT, .metavar = "N", .min = 0, .max = 256,
                   .help = "files decoded and detected at once (worker threads; 0: one per CPU)",
                   .meaning = "a number of worker threads"},
    [FN_O_BATCH] = {.name = "batch", .kind = FN_ARG_INT, .metavar = "N", .min = 1, .max = 4096,
                    .help = "files whose faces are embedded in one network call; 1: one file at a time, "
                            "committed on its own (the unpipelined path)",
                    .meaning = "a number of files"},
    [FN_O_THREADS] = {.name = "threads", .kind = FN_ARG_INT, .metavar = "N", .min = 1, .max = 256,
                      .help = "compute threads", .meaning = "a number of compute threads"},
    [FN_O_GALLERY] = PATH("gallery", 'g', "G.db", "the gallery file (built by `facenet enroll` with the same model)"),
    [FN_O_THRESHOLD] = {.name = "threshold", .short_name = 't', .kind = FN_ARG_FLOAT, .metavar = "T", .min = 0,
                        .max = 2, .help = "Euclidean distance above which two faces are different people",
                        .meaning = "a Euclidean distance between L2-normalised embeddings",
                        .note = "(d = sqrt(2 − 2·cos); 1.09 ≈ cosine 0.41)"},
    [FN_O_FAR] = {.name = "far", .kind = FN_ARG_FLOAT, .metavar = "F", .min = 0, .max = 0.1, .min_open = 1,
                  .help = "target false accept rate: the share of strangers' pairs accepted as the same person",
                  .meaning = "a false accept rate",
                  .note = "(above 0.1, one stranger in ten or more would be taken for an enrolled person)"},
    [FN_O_DRY_RUN] = FLAG("dry-run", 0, "report, but do not store anything"),
    [FN_O_ALLOW_REPEATS] = FLAG("allow-repeats", 0, "let one person name several faces of a picture (mirrors, "
                                "posters); by default the faces are named jointly, each person at most once"),
    [FN_O_ALSO_OTHER_PERSON] = FLAG("also-other-person", 0, "enrol a file even when the same face of it is already "
                                    "enrolled as someone else (a photo that really shows two people you mean to "
                                    "keep apart is rare; the default refuses and names who has it)"),
    [FN_O_JSON] = FLAG("json", 'j', "JSON Lines on stdout"),
    [FN_O_VERBOSE] = FLAG("verbose", 'v', "name every skipped file, not only their count"),
    [FN_O_ANNOTATE] = PATH("annotate", 0, "DIR", "write each image with boxes and names drawn into DIR"),
    [FN_O_CROPS] = PATH("crops", 0, "DIR", "write each face's crop into DIR"),
    [FN_O_SIZE] = {.name = "size", .kind = FN_ARG_INT, .metavar = "N", .min = 8, .max = 2048,
                   .help = "crop size in pixels", .meaning = "the side of a square crop, in pixels"},
    [FN_O_MARGIN] = {.name = "margin", .kind = FN_ARG_FLOAT, .metavar = "M", .min = 0, .max = 2047,
                     .help = "crop margin in output pixels (less than --size)",
                     .meaning = "a margin around the face box, in output pixels"},
    [FN_O_OUTPUT] = PATH("output", 'o', "FILE", "write the result into FILE"),
    [FN_O_PLOT] = PATH("plot", 0, "F.svg", "write ROC and distance histograms as SVG"),
    [FN_O_OVERWRITE] = FLAG("overwrite", 0, "replace output files that already exist (never an input)"),
    [FN_O_ALIGNED] = FLAG("aligned", 0, "images are aligned face crops; no detection"),
    [FN_O_NO_CACHE] = FLAG("no-cache", 0,
                           "do not read or write the embedding cache ($FACENET_CACHE, else ~/.cache/facenet/embeddings.db)"),
    [FN_O_GALLERY_DIR] = PATH("gallery-dir", 0, "DIR", "DIR/<person>/*.jpg to enrol"),
    [FN_O_PROBE_DIR] = PATH("probe-dir", 0, "DIR", "DIR/<person>/*.jpg to identify"),
    [FN_O_UNKNOWN_DIR] = PATH("unknown-dir", 0, "DIR", "images of people who are not enrolled (any layout)"),
    [FN_O_PAIRS] = PATH("pairs", 0, "PAIRS.txt", "LFW pairs file (pairs.txt, pairsDevTest.txt)"),
    [FN_O_IMAGES] = PATH("images", 0, "DIR", "the images, DIR/<name>/<name>_<4 digits>.jpg"),
    [FN_O_TRAIN_PAIRS] = PATH("train-pairs", 0, "TRAIN.txt", "choose the threshold on these pairs, report on --pairs"),
    [FN_O_FLIP] = FLAG("flip", 0, "add each face's horizontally flipped embedding"),
    [FN_O_NAME] = {.name = "name", .kind = FN_ARG_STRING, .metavar = "NAME", .help = "the person's name"},
    [FN_O_CAMERA] = {.name = "camera", .kind = FN_ARG_STRING, .metavar = "SOURCE",
                     .help = "capture from /dev/videoN, a stream URL, a video file or an image sequence"},
    [FN_O_FRAMES] = {.name = "frames", .kind = FN_ARG_INT, .metavar = "K", .min = 1, .max = 100,
                     .help = "good frames to capture", .meaning = "a number of frames"},
    [FN_O_SECONDS] = {.name = "seconds", .kind = FN_ARG_FLOAT, .metavar = "S", .min = 0, .max = 86400, .min_open = 1,
                      .help = "give up after S seconds of video", .meaning = "a duration in seconds",
                      .note = "(at most a day)"},
    [FN_O_SAVE] = PATH("save", 0, "DIR", "keep the captured frames as JPEGs in DIR"),
    [FN_O_DETECT_SCALE] = {.name = "detect-scale", .kind = FN_ARG_INT, .metavar = "N", .min = 0, .max = 16,
                           .help = "where detection runs: 0 the watcher's plan for big frames (MTCNN on a reduced "
                                   "copy, Haar every --every frames with big windows on halved copies), N > 1 "
                                   "MTCNN on the frame reduced by N, 1 the full frame every time (the path before)",
                           .meaning = "a whole reduction factor"},
    [FN_O_EVERY] = {.name = "every", .kind = FN_ARG_INT, .metavar = "N", .min = 1, .max = 1000,
                    .help = "full detection every N frames, tracked between (MTCNN 5, Haar 3)",
                    .meaning = "a number of frames between full detections"},
    [FN_O_HEADLESS] = FLAG("headless", 0, "no window (the default when there is no display)"),
    [FN_O_REALTIME] = FLAG("realtime", 0, "read a file at its own frame rate, dropping frames like a camera"),
    [FN_O_MAX_FRAMES] = {.name = "max-frames", .kind = FN_ARG_INT, .metavar = "N", .min = 1, .max = 1e12,
                         .help = "stop after N frames", .meaning = "a number of frames"},
    [FN_O_MAX_SIDE] = {.name = "max-side", .kind = FN_ARG_INT, .metavar = "PX", .min = 0, .max = 30000,
                       .help = "working resolution: photos are reduced to this longer side before detection "
                               "(0: full resolution)",
                       .meaning = "a number of pixels", .note = "(values under 64 are refused by the scan)"},
    [FN_O_METHOD] = {.name = "method", .kind = FN_ARG_ENUM, .metavar = "M", .values = method_values,
                     .help = "clustering method: Chinese whispers, DBSCAN, agglomerative average linkage"},
    [FN_O_RECLUSTER] = FLAG("recluster", 0, "cluster every face again (named and corrected groups stay)"),
    [FN_O_TO] = {.name = "to", .kind = FN_ARG_STRING, .metavar = "GROUP", .help = "the group (id or name; new: a new group)"},
    [FN_O_MIN_QUALITY] = {.name = "min-quality", .kind = FN_ARG_FLOAT, .metavar = "Q", .min = 0, .max = 1,
                          .help = "faces below this quality do not seed groups (attached afterwards or noise)",
                          .meaning = "a face quality score"},
    [FN_O_LIMIT_RATIO] = {.name = "limit-ratio", .kind = FN_ARG_FLOAT, .metavar = "R", .min = 1, .max = 2,
                          .help = "average linkage's merge limit for big groups, as a multiple of the threshold "
                                  "(1: plain UPGMA, one limit for all)",
                          .meaning = "a ratio of distances"},
    [FN_O_STEP] = {.name = "step", .kind = FN_ARG_FLOAT, .metavar = "S", .min = 0.005, .max = 0.25,
                   .help = "the distance between two thresholds of the sweep",
                   .meaning = "a step of Euclidean distance"},
    [FN_O_FORGET_THRESHOLD] = FLAG("forget-threshold", 0, "forget the threshold --calibrate-on stored in the "
                                                           "library: this and later runs use the model's default"),
    [FN_O_PRUNE] = FLAG("prune", 0, "also forget the photos gone with their file system (by default they are "
                                     "kept: a drive not mounted looks like that)"),
    [FN_O_FULL_DECODE] = FLAG("full-decode", 0, "decode every photo at full size (by default a JPEG much larger "
                                                 "than --max-side is decoded at 1/2, 1/4 or 1/8 of it)"),
    [FN_O_CALIBRATE_ON] = PATH("calibrate-on", 0, "DIR",
                               "tune the threshold on labelled faces, DIR/<person>/ (best BCubed F1), store it in the "
                               "library, then cluster with it"),
    [FN_O_LISTEN] = {.name = "listen", .kind = FN_ARG_STRING, .metavar = "HOST:PORT",
                     .help = "address and port to listen on (port 0: any free one, printed at start)"},
    [FN_O_KEYS] = PATH("keys", 0, "KEYS.txt", "API keys, one `ROLE KEY` a line (ROLE: recognize, enroll or admin)"),
    [FN_O_TLS_CERT] = PATH("tls-cert", 0, "CERT.pem", "serve HTTPS with this certificate (with --tls-key)"),
    [FN_O_TLS_KEY] = PATH("tls-key", 0, "KEY.pem", "the certificate's private key"),
    [FN_O_CORS] = {.name = "cors", .kind = FN_ARG_STRING, .metavar = "ORIGIN",
                   .help = "allow this origin's pages to call the API (Access-Control-Allow-Origin)"},
    [FN_O_MAX_BODY] = {.name = "max-body", .kind = FN_ARG_INT, .metavar = "BYTES", .min = 1024, .max = 1e9,
                       .help = "largest request body accepted (413 beyond)", .meaning = "a size in bytes"},
    [FN_O_MAX_PIXELS] = {.name = "max-pixels", .kind = FN_ARG_INT, .metavar = "N", .min = 64, .max = 1e9,
                         .help = "largest image accepted, in pixels (checked before decoding)",
                         .meaning = "a number of pixels"},
    [FN_O_MAX_BUSY] = {.name = "max-busy", .kind = FN_ARG_INT, .metavar = "N", .min = 1, .max = 1024,
                       .help = "requests computing at once; more get 503 with Retry-After",
                       .meaning = "a number of requests"},
    [FN_O_TIMEOUT] = {.name = "timeout", .kind = FN_ARG_INT, .metavar = "S", .min = 1, .max = 3600,
                      .help = "close a connection idle this many seconds (slow clients)", .meaning = "seconds"},
    [FN_O_WORKERS] = {.name = "workers", .kind = FN_ARG_INT, .metavar = "N", .min = 1, .max = 256,
                      .help = "a pool of N HTTP threads instead of a thread per connection", .meaning = "a number of threads"},
    [FN_O_MAX_PER_IP] = {.name = "max-per-ip", .kind = FN_ARG_INT, .metavar = "N", .min = 1, .max = 256,
                         .help = "connections held at once from one client address (of 256 in all); more are "
                                 "closed at once", .meaning = "a number of connections"},
    [FN_O_REQUEST_TIMEOUT] = {.name = "request-timeout", .kind = FN_ARG_INT, .metavar = "S", .min = 1, .max = 86400,
                              .help = "close a connection whose request body has not all arrived S seconds after "
                                      "its request line (a client trickling bytes)", .meaning = "seconds"},
};

/* ---- values ---------------------------------------------------------- */

static void range_text(const fn_cli_option *o, char *buf, size_t n)
{
    if (!o->min_open && !o->max_open) snprintf(buf, n, "%.15g to %.15g", o->min, o->max);
    else if (o->min_open && !o->max_open) snprintf(buf, n, "above %.15g, up to %.15g", o->min, o->max);
    else if (!o->min_open) snprintf(buf, n, "from %.15g, below %.15g", o->min, o->max);
    else snprintf(buf, n, "between %.15g and %.15g, both excluded", o->min, o->max);
}

static int in_range(const fn_cli_option *o, double v)
{
    return (o->min_open ? v > o->min : v >= o->min) && (o->max_open ? v < o->max : v <= o->max);
}

/* "--threshold 60 is out of range: it is a Euclidean distance ..., 0 to 2 (note)" */
static int number_error(const fn_cli_option *o, const char *text, const char *problem, char *msg, size_t n)
{
    char range[96];
    range_text(o, range, sizeof range);
    snprintf(msg, n, "--%s %s %s: it is %s, %s%s%s", o->name, text, problem, o->meaning ? o->meaning : "a number",
             range, o->note ? " " : "", o->note ? o->note : "");
    return -1;
}

/* One number of text (whole string, or up to *stop when stop is given). */
static int parse_number(const fn_cli_option *o, const char *text, const char *shown, double *out, char *msg,
                        size_t n)
{
    char *end;
    errno = 0;
    double v = o->kind == FN_ARG_INT ? (double)strtoll(text, &end, 10) : strtod(text, &end);
    while (end != text && (*end == ' ' || *end == '\t')) end++;
    if (end == text || *end) return number_error(o, shown, o->kind == FN_ARG_INT ? "is not a whole number" : "is not a number", msg, n);
    if (isnan(v)) return number_error(o, shown, "is not a number", msg, n);
    if (isinf(v) || errno == ERANGE) return number_error(o, shown, "is not a finite number in range", msg, n);
    if (!in_range(o, v)) return number_error(o, shown, "is out of range", msg, n);
    *out = v;
    return 0;
}

static int parse_floats(const fn_cli_option *o, const char *text, fn_cli_value *v, char *msg, size_t n)
{
    int k = 0;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[64];
        if (k == o->count || k == 4 || len == 0 || len >= sizeof item) break;
        memcpy(item, p, len);
        item[len] = '\0';
        double d;
        if (parse_number(o, item, text, &d, msg, n)) return -1;
        v->fl[k++] = (float)d;
        if (!comma) {
            if (k == o->count) return 0;
            break;
        }
        p = comma + 1;
    }
    char range[96];
    range_text(o, range, sizeof range);
    snprintf(msg, n, "--%s %s: wants %d comma-separated numbers: %s, each %s", o->name, text, o->count,
             o->meaning ? o->meaning : "numbers", range);
    return -1;
}

int fn_cli_value_parse(fn_cli_opt id, const char *text, fn_cli_value *v, char *msg, size_t n)
{
    const fn_cli_option *o = &fn_cli_options[id];
    double d;
    switch (o->kind) {
    case FN_ARG_FLAG:
        return 0;
    case FN_ARG_INT:
        if (parse_number(o, text, text, &d, msg, n)) return -1;
        v->i = (long long)d;
        return 0;
    case FN_ARG_FLOAT:
        if (parse_number(o, text, text, &d, msg, n)) return -1;
        v->f = d;
        return 0;
    case FN_ARG_FLOATS:
        return parse_floats(o, text, v, msg, n);
    case FN_ARG_STRING:
    case FN_ARG_PATH:
        if (!*text) {
            snprintf(msg, n, "--%s wants a non-empty %s", o->name, o->metavar);
            return -1;
        }
        v->s = text;
        return 0;
    case FN_ARG_ENUM:
        for (int i = 0; o->values[i]; i++)
            if (!strcmp(text, o->values[i])) {
                v->e = i;
                return 0;
            }
        {
            int w = snprintf(msg, n, "--%s %s is not one of:", o->name, text);
            for (int i = 0; o->values[i] && w > 0 && (size_t)w < n; i++)
                w += snprintf(msg + w, n - (size_t)w, " %s", o->values[i]);
        }
        return -1;
    }
    return -1;
}

/* ---- argv -------------------------------------------------------------- */

static const fn_cli_use *find_use(const fn_cli_spec *s, const char *name, size_t len, char short_name)
{
    for (const fn_cli_use *u = s->opts; u && u->id != FN_O_NONE; u++) {
        const fn_cli_option *o = &fn_cli_options[u->id];
        if (short_name ? o->short_name == short_name : strlen(o->name) == len && !strncmp(o->name, name, len))
            return u;
    }
    return NULL;
}

/* Levenshtein distance, for "did you mean". */
static int edit_distance(const char *a, size_t la, const char *b)
{
    size_t lb = strlen(b);
    if (la > 40 || lb > 40) return 99;
    int row[41];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static int unknown_option(const fn_cli_spec *s, const char *arg, size_t len, fn_cli_args *a)
{
    const char *best = NULL;
    int best_d = 3;
    for (const fn_cli_use *u = s->opts; u && u->id != FN_O_NONE; u++) {
        int d = edit_distance(arg, len, fn_cli_options[u->id].name);
        if (d < best_d) best_d = d, best = fn_cli_options[u->id].name;
    }
    int elsewhere = 0;
    for (int id = 1; id < FN_O_COUNT && !best; id++)
        if (strlen(fn_cli_options[id].name) == len && !strncmp(fn_cli_options[id].name, arg, len)) elsewhere = 1;
    if (best) snprintf(a->msg, sizeof a->msg, "unknown option --%.*s (did you mean --%s?)", (int)len, arg, best);
    else if (elsewhere) snprintf(a->msg, sizeof a->msg, "--%.*s is not an option of %s", (int)len, arg, s->verb);
    else snprintf(a->msg, sizeof a->msg, "unknown option --%.*s", (int)len, arg);
    return FN_CLI_USAGE;
}

static int set_value(fn_cli_args *a, const fn_cli_use *u, const char *text, unsigned char how)
{
    char msg[sizeof a->msg];
    if (fn_cli_value_parse(u->id, text, &a->v[u->id], msg, sizeof msg)) {
        memcpy(a->msg, msg, sizeof msg);
        return FN_CLI_USAGE;
    }
    a->given[u->id] = how;
    return FN_CLI_OK;
}

static int missing_value(fn_cli_args *a, const fn_cli_option *o, const char *instead)
{
    if (instead) snprintf(a->msg, sizeof a->msg, "--%s wants a value %s (%s), but the option %s came next", o->name,
                          o->metavar, o->help, instead);
    else snprintf(a->msg, sizeof a->msg, "--%s wants a value %s (%s)", o->name, o->metavar, o->help);
    return FN_CLI_USAGE;
}

/* The value after an option: the next argument.  A text option followed by
 * another --option has lost its value (numbers may be negative: -1 is a value). */
static int next_value(fn_cli_args *a, const fn_cli_option *o, int argc, char **argv, int *i, const char **val)
{
    if (*i + 1 >= argc) return missing_value(a, o, NULL);
    const char *next = argv[*i + 1];
    int numeric = o->kind == FN_ARG_INT || o->kind == FN_ARG_FLOAT || o->kind == FN_ARG_FLOATS;
    if (!numeric && next[0] == '-' && next[1] == '-' && next[2]) return missing_value(a, o, next);
    *val = next;
    (*i)++;
    return FN_CLI_OK;
}

static int long_option(const fn_cli_spec *s, int argc, char **argv, int *i, fn_cli_args *a)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const fn_cli_use *u = find_use(s, arg, len, 0);
    if (!u && len == 4 && !strncmp(arg, "help", 4)) return FN_CLI_HELP;
    if (!u) return unknown_option(s, arg, len, a);
    if (u->id == FN_O_HELP) return FN_CLI_HELP;
    const fn_cli_option *o = &fn_cli_options[u->id];
    if (o->kind == FN_ARG_FLAG) {
        if (eq) {
            snprintf(a->msg, sizeof a->msg, "--%s takes no value (got '%s')", o->name, eq + 1);
            return FN_CLI_USAGE;
        }
        a->given[u->id] = 1;
        return FN_CLI_OK;
    }
    const char *val = eq ? eq + 1 : NULL;
    if (!val) {
        int rc = next_value(a, o, argc, argv, i, &val);
        if (rc) return rc;
    }
    return set_value(a, u, val, 1);
}

static int short_options(const fn_cli_spec *s, int argc, char **argv, int *i, fn_cli_args *a)
{
    const char *p = argv[*i] + 1;
    for (; *p; p++) {
        const fn_cli_use *u = find_use(s, NULL, 0, *p);
        if (!u && *p == 'h') return FN_CLI_HELP;
        if (!u) {
            snprintf(a->msg, sizeof a->msg, "unknown option -%c", *p);
            return FN_CLI_USAGE;
        }
        if (u->id == FN_O_HELP) return FN_CLI_HELP;
        const fn_cli_option *o = &fn_cli_options[u->id];
        if (o->kind == FN_ARG_FLAG) {
            a->given[u->id] = 1;
            continue;
        }
        const char *val = p[1] ? p + 1 : NULL;   /* -t0.9 */
        if (!val) {
            int rc = next_value(a, o, argc, argv, i, &val);
            if (rc) return rc;
        }
        return set_value(a, u, val, 1);
    }
    return FN_CLI_OK;
}

static int apply_defaults(const fn_cli_spec *s, fn_cli_args *a)
{
    for (const fn_cli_use *u = s->opts; u && u->id != FN_O_NONE; u++) {
        if (a->given[u->id]) continue;
        if ((u->flags & FN_USE_REQUIRED)) {
            const fn_cli_option *o = &fn_cli_options[u->id];
            snprintf(a->msg, sizeof a->msg, "--%s %s is required (%s)", o->name, o->metavar ? o->metavar : "",
                     u->help ? u->help : o->help);   /* this command's words: scan's gallery is its library */
            return FN_CLI_USAGE;
        }
        if (u->def && set_value(a, u, u->def, 2)) {
            /* A spec whose default is invalid is a programming error; say so plainly. */
            char msg[sizeof a->msg];
            snprintf(msg, sizeof msg, "internal: the default of --%s is invalid: %.500s", fn_cli_options[u->id].name,
                     a->msg);
            memcpy(a->msg, msg, sizeof msg);
            return FN_CLI_USAGE;
        }
    }
    return FN_CLI_OK;
}

static int check_positionals(const fn_cli_spec *s, fn_cli_args *a)
{
    const char *what = s->args_name ? s->args_name : "argument";
    if (a->npos < s->min_args) {
        if (s->min_args == s->max_args && s->min_args > 1)
            snprintf(a->msg, sizeof a->msg, "wants %d arguments %s, got %d", s->min_args, what, a->npos);
        else snprintf(a->msg, sizeof a->msg, "no %s given", what);
        return FN_CLI_USAGE;
    }
    if (s->max_args >= 0 && a->npos > s->max_args) {
        if (s->max_args == 0) snprintf(a->msg, sizeof a->msg, "unexpected argument '%s'", a->pos[0]);
        else snprintf(a->msg, sizeof a->msg, "wants %s (%d argument%s at most), got %d: unexpected '%s'", what,
                      s->max_args, s->max_args == 1 ? "" : "s", a->npos, a->pos[s->max_args]);
        return FN_CLI_USAGE;
    }
    return FN_CLI_OK;
}

/* A command that lists an option twice is a programming error; every
 * --help run by the tests catches it. */
static int check_spec(const fn_cli_spec *s, fn_cli_args *a)
{
    for (const fn_cli_use *u = s->opts; u && u->id != FN_O_NONE; u++)
        for (const fn_cli_use *v = u + 1; v->id != FN_O_NONE; v++)
            if (u->id == v->id) {
                snprintf(a->msg, sizeof a->msg, "internal: %s lists --%s twice", s->verb, fn_cli_options[u->id].name);
                return FN_CLI_USAGE;
            }
    return FN_CLI_OK;
}

int fn_cli_parse_args(const fn_cli_spec *spec, int argc, char **argv, fn_cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->spec = spec;
    if (check_spec(spec, a)) return FN_CLI_USAGE;
    a->pos = argv + 1;
    int npos = 0, options_done = 0;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        int rc = FN_CLI_OK;
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            argv[1 + npos++] = arg;   /* in place: the write index never passes the read index */
            continue;
        }
        if (!strcmp(arg, "--")) {
            options_done = 1;
            continue;
        }
        rc = arg[1] == '-' ? long_option(spec, argc, argv, &i, a) : short_options(spec, argc, argv, &i, a);
        if (rc) {
            a->npos = npos;
            return rc;
        }
    }
    a->npos = npos;
    int rc = apply_defaults(spec, a);
    return rc ? rc : check_positionals(spec, a);
}

int fn_cli_usage(const char *verb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "facenet %s: ", verb);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see `facenet %s --help`)\n", verb);
    va_end(ap);
    return 2;
}

int fn_cli_parse(const fn_cli_spec *spec, int argc, char **argv, fn_cli_args *a, int *exit_code)
{
    int rc = fn_cli_parse_args(spec, argc, argv, a);
    *exit_code = 0;
    if (rc == FN_CLI_HELP) fn_cli_help(spec, stdout);
    else if (rc == FN_CLI_USAGE) *exit_code = fn_cli_usage(spec->verb, "%s", a->msg);
    return rc != FN_CLI_OK;
}

/* ---- --help -------------------------------------------------------------- */

/* text after a column of `indent` already printed on the first line,
 * wrapped at word boundaries to lines of at most `width` characters. */
static void wrapped(FILE *f, const char *text, int indent, int width)
{
    int col = indent;
    const char *p = text;
    while (*p) {
        const char *sp = strchr(p, ' ');
        int len = sp ? (int)(sp - p) : (int)strlen(p);
        if (col > indent && col + 1 + len > width) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        }
        fwrite(p, 1, (size_t)len, f);
        col += len;
        p += len;
        while (*p == ' ') p++;
    }
    fputc('\n', f);
}

static void option_help(const fn_cli_use *u, FILE *f)
{
    const fn_cli_option *o = &fn_cli_options[u->id];
    char head[64];
    int w = o->short_name ? snprintf(head, sizeof head, "-%c, --%s", o->short_name, o->name)
                          : snprintf(head, sizeof head, "    --%s", o->name);
    if (o->kind != FN_ARG_FLAG && w > 0 && (size_t)w < sizeof head)
        snprintf(head + w, sizeof head - (size_t)w, " %s", o->metavar);
    char line[640];
    snprintf(line, sizeof line, "%s%s", u->help ? u->help : o->help, (u->flags & FN_USE_REQUIRED) ? " (required)" : "");
    fprintf(f, "  %-24s ", head);
    wrapped(f, line, 27, 100);
    char extra[400] = "";
    size_t n = 0;
    if (o->kind == FN_ARG_INT || o->kind == FN_ARG_FLOAT || o->kind == FN_ARG_FLOATS) {
        char range[96];
        range_text(o, range, sizeof range);
        n += (size_t)snprintf(extra + n, sizeof extra - n, "%s%s", o->kind == FN_ARG_FLOATS ? "each " : "", range);
        if (o->note && n < sizeof extra)
            n += (size_t)snprintf(extra + n, sizeof extra - n, " %s", o->note);
    } else if (o->kind == FN_ARG_ENUM) {
        n += (size_t)snprintf(extra + n, sizeof extra - n, "one of:");
        for (int i = 0; o->values[i] && n < sizeof extra; i++)
            n += (size_t)snprintf(extra + n, sizeof extra - n, " %s", o->values[i]);
    }
    const char *def = u->def ? u->def : u->def_text;
    if (def && n < sizeof extra) snprintf(extra + n, sizeof extra - n, "%sdefault: %s", n ? "; " : "", def);
    if (extra[0]) {
        fprintf(f, "%27s", "");
        wrapped(f, extra, 27, 100);
    }
}

void fn_cli_help(const fn_cli_spec *s, FILE *f)
{
    for (int i = 0; s->usage && s->usage[i]; i++)
        fprintf(f, "%s facenet %s %s\n", i ? "      " : "usage:", s->verb, s->usage[i]);
    if (s->description) fprintf(f, "\n%s\n", s->description);
    fprintf(f, "\noptions:\n");
    for (const fn_cli_use *u = s->opts; u && u->id != FN_O_NONE; u++)
        if (u->id != FN_O_HELP) option_help(u, f);
    fprintf(f, "  %-24s %s\n", "-h, --help", fn_cli_options[FN_O_HELP].help);
    if (s->examples && s->examples[0]) {
        fprintf(f, "\nexample%s:\n", s->examples[1] ? "s" : "");
        for (int i = 0; s->examples[i]; i++) fprintf(f, "  %s\n", s->examples[i]);
    }
    static const fn_cli_exit standard[] = {
        {0, "success"},
        {1, "failure: an input could not be read or had no usable face, an output could not be written, or a "
            "model or gallery could not be opened (each named on stderr)"},
        {2, "usage: an unknown option, a missing argument, or a value out of its range"},
    };
    fprintf(f, "\nexit status:\n");
    for (size_t k = 0; k < sizeof standard / sizeof standard[0]; k++) {
        const char *m = standard[k].meaning;
        for (const fn_cli_exit *e = s->exits; e && e->meaning; e++)
            if (e->code == standard[k].code) m = e->meaning;
        fprintf(f, "  %d  ", standard[k].code);
        wrapped(f, m, 5, 100);
    }
    for (const fn_cli_exit *e = s->exits; e && e->meaning; e++)
        if (e->code > 2) {
            fprintf(f, "  %d  ", e->code);
            wrapped(f, e->meaning, 5, 100);
        }
}
