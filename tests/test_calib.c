/* Calibration says what is true (issue 9, cases 07 and 09): a target FAR
 * outside (0, 0.1) is refused with the reason; a stored threshold never
 * accepts every impostor nor lies at or below 0; a target below what the
 * impostor pairs can measure is reported as such; the same face of one file
 * under two names is left out of the pairs instead of producing
 * "threshold -0".  Expected values are computed by hand in the comments. */
#include <math.h>
#include <string.h>
#include "t.h"
#include "eval/calib.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static void test_far_range(void)
{
    static const struct { double far; const char *needle; } bad[] = {
        {1.0, "accepts every stranger"},
        {0.5, "about 5 in 10 strangers"},
        {0.1, "about 1 in 10 strangers"},
        {0.0, "between 0 and 0.1"},
        {-1e-3, "between 0 and 0.1"},
        {2.0, "between 0 and 0.1"},
        {NAN, "got nan"},
    };
    double g[1] = {0.5}, im[1] = {1.5};
    fn_calib c;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        fn_status s = fn_calib_from_distances(g, 1, im, 1, bad[i].far, &c);
        T_CHECK(s == FN_ERR_ARG && strstr(fn_last_error(), bad[i].needle), "FAR %g: %d %s", bad[i].far, s, fn_last_error());
    }
    fn_calib_from_distances(g, 1, im, 1, 1.0, &c);
    printf("FAR 1: %s\n", fn_last_error());
    T_CHECK(fn_calib_from_distances(g, 1, im, 1, 0.0999, &c) == FN_OK, "0.0999: %s", fn_last_error());
    fn_calib_free(&c);
}

/* genuine {0.2, 0.4, 0.6}; impostor {1.0, 1.1, ..., 2.9} (20 pairs).
 * FAR 0.06 >= 1/20: one false accept allowed -> accept up to 1.0, deploy
 * threshold halfway to 1.1 = 1.05; TA 3, FA 1.  FAR 0.01 < 1/20: below the
 * floor -> accept up to 0.6, threshold halfway to 1.0 = 0.8, FA 0. */
static void test_thresholds(void)
{
    double g[3] = {0.2, 0.4, 0.6}, im[20];
    for (int i = 0; i < 20; i++) im[i] = 1.0 + 0.1 * i;
    fn_calib c;
    T_CHECK(fn_calib_from_distances(g, 3, im, 20, 0.06, &c) == FN_OK, "0.06: %s", fn_last_error());
    T_CHECK(NEAR(c.op.thr, 1.05) && c.ta == 3 && c.fa == 1 && NEAR(c.far_floor, 0.05) && !c.below_floor,
            "FAR 0.06: thr %.6f ta %zu fa %zu floor %g below %d", c.op.thr, c.ta, c.fa, c.far_floor, c.below_floor);
    fn_calib_free(&c);
    T_CHECK(fn_calib_from_distances(g, 3, im, 20, 0.01, &c) == FN_OK, "0.01: %s", fn_last_error());
    T_CHECK(NEAR(c.op.thr, 0.8) && c.ta == 3 && c.fa == 0 && c.below_floor, "FAR 0.01: thr %.6f ta %zu fa %zu below %d",
            c.op.thr, c.ta, c.fa, c.below_floor);
    printf("thresholds: FAR 0.06 -> 1.05 (TA 3/3, FA 1/20); FAR 0.01 -> 0.8 (FA 0/20, below the 1/20 floor)\n");
    fn_calib_free(&c);
}

/* Case 09 in miniature.  person 0: A (0,0), B (0,1); person 1: A' = A (the
 * same file), C (4,0); person 2: D (0,5).
 * Without groups the pair A-A' is an impostor pair at distance 0, so FAR 0
 * needs a threshold below 0: refused, naming the zero-distance pairs.
 * With groups (A and A' one face) that pair is left out: genuine {AB 1, A'C 4},
 * impostor {AC 4, AD 5, BA' 1, BC sqrt17, BD 4, A'D 5, CD sqrt41} (7 pairs);
 * FAR 0.05 < 1/7, so FAR 0: the genuine AB ties the impostor BA' at 1, so
 * the threshold is just below 1: TA 0, FA 0, and it is > 0. */
static void test_same_face(void)
{
    float emb[10] = {0, 0, 0, 1, 0, 0, 4, 0, 0, 5};
    int label[5] = {0, 0, 1, 1, 2};
    int64_t group[5] = {1, 2, 1, 3, 4};
    fn_calib c;
    fn_status s = fn_calib_from_embeddings(emb, label, 5, 2, FN_DIST_EUCLIDEAN, 0.05, &c);
    T_CHECK(s == FN_ERR_ARG && strstr(fn_last_error(), "no threshold above distance 0") &&
            strstr(fn_last_error(), "1 of 8 impostor pairs are at distance 0"), "ungrouped: %d %s", s, fn_last_error());
    printf("same face, ungrouped: %s\n", fn_last_error());
    s = fn_calib_from_embeddings_grouped(emb, label, group, 5, 2, FN_DIST_EUCLIDEAN, 0.05, &c);
    T_CHECK(s == FN_OK, "grouped: %s", fn_last_error());
    double isum = 0, want = 4 + 5 + 1 + sqrt(17) + 4 + 5 + sqrt(41);
    for (size_t i = 0; i < c.n_impostor; i++) isum += c.impostor[i];
    T_CHECK(c.n_same_face == 1 && c.n_genuine == 2 && c.n_impostor == 7 && fabs(isum - want) < 1e-6,
            "grouped pairs: same %zu genuine %zu impostor %zu sum %g", c.n_same_face, c.n_genuine, c.n_impostor, isum);
    T_CHECK(c.op.thr > 0.999999 && c.op.thr < 1.0 && c.ta == 0 && c.fa == 0 && c.below_floor,
            "grouped: thr %.9f ta %zu fa %zu", c.op.thr, c.ta, c.fa);
    fn_calib_free(&c);
}

int main(void)
{
    test_far_range();
    test_thresholds();
    test_same_face();
    return T_DONE();
}
