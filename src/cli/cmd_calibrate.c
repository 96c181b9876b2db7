/* facenet calibrate — choose a gallery's decision threshold from its own
 * embeddings (genuine = same-person pairs, impostor = cross-person pairs)
 * for a target false accept rate, store it, and say whether to trust it. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "common.h"
#include "gallery_open.h"

static const char *usage =
    "usage: facenet calibrate --gallery G.db [--far F] [--dry-run] [--json] [--plot F.svg]\n"
    "Every pair of enrolled embeddings is a genuine pair (same person) or an impostor\n"
    "pair (different people).  The threshold accepting the most genuine pairs with a\n"
    "false accept rate <= F is stored in the gallery, where identify then uses it.\n"
    "Prints both distance histograms, and warns when the gallery is too small for the\n"
    "figure to mean much (about 10/F impostor pairs and 20 genuine pairs are needed).\n\n"
    "  --gallery G.db     the gallery (built by `facenet enroll`)\n"
    "  --far F            target false accept rate, 0 < F < 0.1 (1e-3)\n"
    "  --dry-run          report, but do not store the threshold\n"
    "  --plot F.svg       ROC and histograms as SVG\n"
    "  --json             one summary object\n"
    "\nexample: facenet calibrate --gallery film.db --far 1e-2\n";

enum { OPT_GALLERY = 1, OPT_FAR, OPT_DRY_RUN, OPT_JSON, OPT_PLOT, OPT_HELP };

static int write_plot(const char *path, const fn_calib *c, const fn_histogram *h)
{
    fn_roc roc = {0};
    fn_status s = fn_calib_roc(c, &roc);
    fn_op mark = c->op;
    fn_svg_plot p = {"facenet calibrate", &roc, 1, &mark, 1, h, c->op.thr};
    if (s == FN_OK) s = fn_svg_write(path, &p);
    fn_roc_free(&roc);
    return s == FN_OK ? 0 : fn_cli_fail("calibrate", s);
}

/* What the stored threshold does on this gallery's own pairs, in counts. */
static void report(const char *gpath, const fn_calib *c, int stored, const char *hist, int json)
{
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "gallery", gpath);
        cJSON_AddNumberToObject(o, "people", (double)c->n_people);
        cJSON_AddNumberToObject(o, "embeddings", (double)c->n_embeddings);
        cJSON_AddNumberToObject(o, "genuine_pairs", (double)c->n_genuine);
        cJSON_AddNumberToObject(o, "impostor_pairs", (double)c->n_impostor);
        cJSON_AddNumberToObject(o, "same_face_pairs_left_out", (double)c->n_same_face);
        cJSON_AddNumberToObject(o, "far_target", c->target_far);
        cJSON_AddNumberToObject(o, "far_floor", c->far_floor);
        cJSON_AddBoolToObject(o, "far_target_below_floor", c->below_floor);
        cJSON_AddNumberToObject(o, "threshold", c->op.thr);
        cJSON_AddNumberToObject(o, "genuine_accepted", (double)c->ta);
        cJSON_AddNumberToObject(o, "impostor_accepted", (double)c->fa);
        cJSON_AddNumberToObject(o, "tar", c->op.tar);
        cJSON_AddNumberToObject(o, "far", c->op.far);
        cJSON_AddNumberToObject(o, "eer", c->eer.eer);
        cJSON_AddNumberToObject(o, "eer_threshold", c->eer.thr);
        cJSON_AddBoolToObject(o, "reliable", c->trust.reliable);
        cJSON_AddStringToObject(o, "trust", c->trust.why);
        cJSON_AddBoolToObject(o, "stored", stored);
        fn_cli_emit(o);
        return;
    }
    printf("%s: %zu people, %zu embeddings: %zu genuine pairs, %zu impostor pairs\n", gpath, c->n_people, c->n_embeddings,
           c->n_genuine, c->n_impostor);
    printf("distance histograms, genuine | impostor:\n%s", hist);
    printf("threshold %.4f (target FAR %g): in this gallery it accepts %zu of %zu genuine pairs (TAR %.2f %%) and "
           "%zu of %zu impostor pairs (FAR %.2f %%); EER %.2f %% at %.4f\n", c->op.thr, c->target_far, c->ta,
           c->n_genuine, 100 * c->op.tar, c->fa, c->n_impostor, 100 * c->op.far, 100 * c->eer.eer, c->eer.thr);
    printf(stored ? "stored in the gallery: identify uses it from now on\n" : "not stored (--dry-run)\n");
}

/* Warnings on stderr: each says what is true of this gallery. */
static void warn(const fn_calib *c)
{
    if (c->n_same_face)
        fprintf(stderr, "warning: %zu pair(s) of the same face of one file enrolled under two names were left out "
                "(`facenet gallery check` names them)\n", c->n_same_face);
    if (c->below_floor)
        fprintf(stderr, "warning: target FAR %g is below the smallest FAR %zu impostor pairs can measure (1/%zu = "
                "%.2g): the threshold accepts none of them, and the true FAR is only known to be below %.2g (95 %%)\n",
                c->target_far, c->n_impostor, c->n_impostor, c->far_floor, c->trust.far_upper95);
    if (!c->trust.reliable) fprintf(stderr, "warning: %s\n", c->trust.why);
}

int fn_cmd_calibrate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"gallery", required_argument, 0, OPT_GALLERY},
        {"far", required_argument, 0, OPT_FAR},
        {"dry-run", no_argument, 0, OPT_DRY_RUN},
        {"json", no_argument, 0, OPT_JSON},
        {"plot", required_argument, 0, OPT_PLOT},
        {"help", no_argument, 0, OPT_HELP},
        {0, 0, 0, 0}};
    const char *gpath = NULL, *plot = NULL;
    double far = FN_CALIB_DEFAULT_FAR;
    int json = 0, dry = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == OPT_GALLERY) gpath = optarg;
        else if (opt == OPT_FAR) {
            char *end;
            far = strtod(optarg, &end);
            if (*end || end == optarg || !(far > 0 && far <= 1))
                return fn_cli_usage_error("calibrate", "--far wants a rate in (0, 1], got '%s'", optarg);
        } else if (opt == OPT_DRY_RUN) dry = 1;
        else if (opt == OPT_JSON) json = 1;
        else if (opt == OPT_PLOT) plot = optarg;
        else if (opt == OPT_HELP) { fputs(usage, stdout); return 0; }
        else return fn_cli_usage_error("calibrate", "bad option");
    }
    if (!gpath) return fn_cli_usage_error("calibrate", "--gallery G.db is required");
    if (optind < argc) return fn_cli_usage_error("calibrate", "unexpected argument '%s'", argv[optind]);
    struct stat st;
    if (stat(gpath, &st) != 0) {
        fprintf(stderr, "facenet calibrate: %s: no such gallery (create one with `facenet enroll`)\n", gpath);
        return 1;
    }
    fn_gallery *g = NULL;
    if (fn_cli_gallery_open("calibrate", gpath, NULL, dry ? FN_GALLERY_READONLY : 0, &g)) return 1;
    fn_calib c = {0};
    fn_histogram *h = calloc(1, sizeof *h);
    char *hist = NULL;
    int rc = 0;
    if (!h) {
        fprintf(stderr, "facenet calibrate: out of memory\n");
        rc = 1;
    }
    fn_status s = rc ? FN_ERR_NOMEM : fn_calib_from_gallery(g, FN_DIST_EUCLIDEAN, far, &c);
    if (!rc && s != FN_OK) {
        fprintf(stderr, "facenet calibrate: %s: %s\n", gpath, fn_last_error());
        rc = 1;
    }
    if (s == FN_OK) s = fn_histogram_compute(c.genuine, c.n_genuine, c.impostor, c.n_impostor, 24, 0, 0, h);
    if (s == FN_OK) s = fn_histogram_text(h, c.op.thr, 30, &hist);
    if (s == FN_OK && !dry) s = fn_gallery_set_threshold(g, (float)c.op.thr);
    if (!rc && s != FN_OK) rc = fn_cli_fail("calibrate", s);
    if (!rc) warn(&c);
    if (!rc) report(gpath, &c, !dry, hist, json);
    if (!rc && plot) rc = write_plot(plot, &c, h);
    free(hist);
    free(h);
    fn_calib_free(&c);
    fn_gallery_close(g);
    return rc;
}
