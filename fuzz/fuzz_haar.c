/* fuzz_haar.c — libFuzzer target: OpenCV Haar cascade XML (fn_haar_load_mem),
 * then one detection on a small fixed picture so that a cascade that loads
 * is also run (its rectangles must stay inside the window).
 * Properties: no crash/leak; a failure has a message; detection succeeds
 * or fails cleanly and reports no more boxes than it wrote.
 */
#include "fuzz_util.h"
#include "core/error.h"
#include "detect/haar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fn_clear_error();
    fn_haar *h = NULL;
    fn_status s = fn_haar_load_mem("fuzz.xml", (const char *)data, size, &h);
    fz_check_failure(s, "fn_haar_load_mem");
    if (s != FN_OK) {
        FZ_ASSERT(h == NULL);
        return 0;
    }
    int ww = 0, wh = 0;
    fn_haar_window(h, &ww, &wh);
    FZ_ASSERT(ww > 0 && wh > 0);
    enum { W = 48, H = 40 };
    uint8_t gray[W * H];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) gray[y * W + x] = (uint8_t)((x * 37 + y * 11 + (x ^ y) * 5) & 0xff);
    fn_haar_params p = fn_haar_default_params();
    p.scale_factor = 1.25;
    p.min_neighbors = 0;
    fn_rect out[16];
    int n = 0;
    fn_clear_error();
    s = fn_haar_detect(h, gray, W, H, W, &p, out, 16, &n);
    fz_check_failure(s, "fn_haar_detect");
    if (s == FN_OK) {
        FZ_ASSERT(n >= 0);
        for (int i = 0; i < n && i < 16; i++)
            FZ_ASSERT(out[i].w > 0 && out[i].h > 0 && out[i].x >= 0 && out[i].y >= 0);
    }
    fn_haar_free(h);
    return 0;
}
