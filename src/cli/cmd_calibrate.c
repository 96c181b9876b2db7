/* facenet calibrate — choose a gallery's decision threshold from its own
 * embeddings (genuine = same-person pairs, impostor = cross-person pairs)
 * for a target false accept rate, store it, and say whether to trust it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "common.h"
#include "gallery_open.h"
#include "options.h"
#include "outputs.h"

static const fn_cli_use uses[] = {
    FN_USE_REQ(FN_O_GALLERY, "the gallery (built by `facenet enroll`)"),
    FN_USE_T(FN_O_FAR, "1e-3", NULL),
    FN_USE_H(FN_O_DRY_RUN, "report, but do not store the threshold"),
    FN_USE_H(FN_O_PLOT, "write ROC and histograms as SVG (not replacing a file without --overwrite)"),
    FN_USE(FN_O_OVERWRITE),
    FN_USE_H(FN_O_JSON, "one summary object"),
    FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "calibrate",
    .usage = (const char *const[]){"--gallery G.db [--far F] [--dry-run] [--json] [--plot F.svg]", NULL},
    .description =
        "Every pair of enrolled embeddings is a genuine pair (same person) or an impostor\n"
        "pair (different people).  The threshold accepting the most genuine pairs with a\n"
        "false accept rate <= F is stored in the gallery, where identify then uses it.\n"
        "Prints both distance histograms, and warns when the gallery is too small for the\n"
        "figure to mean much (about 10/F impostor pairs and 20 genuine pairs are needed).",
    .opts = uses, .min_args = 0, .max_args = 0,
    .examples = (const char *const[]){"facenet calibrate --gallery film.db --far 1e-2", NULL},
    .exits = (const fn_cli_exit[]){{1, "failure: the gallery could not be opened or has too few people or images "
                                       "to calibrate, or the plot could not be written (named on stderr)"},
                                   {0, NULL}},
};

static int write_plot(const fn_outputs *o, const char *path, const fn_calib *c, const fn_histogram *h)
{
    fn_roc roc = {0};
    fn_status s = fn_calib_roc(c, &roc);
    fn_op mark = c->op;
    fn_svg_plot p = {"facenet calibrate", &roc, 1, &mark, 1, h, c->op.thr};
    int rc = s == FN_OK ? fn_cli_save_svg("calibrate", o, path, &p) : fn_cli_fail("calibrate", s);
    fn_roc_free(&roc);
    return rc;
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
    fn_cli_args a;
    int prc;
    if (fn_cli_parse(&spec, argc, argv, &a, &prc)) return prc;
    const char *gpath = fn_cli_str(&a, FN_O_GALLERY), *plot = fn_cli_str(&a, FN_O_PLOT);
    double far = fn_cli_float(&a, FN_O_FAR, FN_CALIB_DEFAULT_FAR);
    int json = fn_cli_flag(&a, FN_O_JSON), dry = fn_cli_flag(&a, FN_O_DRY_RUN);
    fn_outputs outs = {0};
    char *in[1] = {(char *)gpath};
    if (plot && fn_cli_output_file("calibrate", &outs, plot, in, 1, fn_cli_flag(&a, FN_O_OVERWRITE))) return 1;
    fn_gallery *g = NULL;
    if (fn_cli_gallery_open("calibrate", gpath, NULL, dry ? FN_GALLERY_READONLY : 0, &g)) {
        fn_outputs_free(&outs);
        return 1;
    }
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
    if (!rc && plot) rc = write_plot(&outs, plot, &c, h);
    fn_outputs_free(&outs);
    free(hist);
    free(h);
    fn_calib_free(&c);
    fn_gallery_close(g);
    return rc;
}
