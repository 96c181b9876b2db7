/* fuzz_image.c — libFuzzer target: image decoding from memory (JPEG, PNG,
 * EXIF orientation), the path fn_image_load takes after reading the file.
 * Properties: no crash/leak; a failure names the input and leaves *out
 * empty; a success is a w x h x 3 image within the limits.
 */
#include "fuzz_util.h"
#include "core/error.h"
#include "image/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fn_clear_error();
    /* Small limits: a header may claim anything, but the fuzzer must stay fast. */
    const fn_image_limits lim = {2048, (int64_t)1 << 21};
    fn_image img = {0};
    fn_status s = fn_image_decode(data, size, "fuzz.img", &lim, &img);
    fz_check_failure(s, "fn_image_decode");
    if (s != FN_OK) {
        FZ_ASSERT(img.data == NULL && img.w == 0 && img.h == 0);
        FZ_ASSERT(strstr(fn_last_error(), "fuzz.img") != NULL);
    } else {
        FZ_ASSERT(img.data && img.c == 3 && img.w >= 1 && img.h >= 1);
        FZ_ASSERT(img.w <= lim.max_side && img.h <= lim.max_side && (int64_t)img.w * img.h <= lim.max_pixels);
        volatile uint8_t last = img.data[(size_t)img.w * img.h * 3 - 1];
        (void)last;
    }
    fn_image_free(&img);
    /* The EXIF parser on its own: any APP1 payload gives 1..8. */
    int o = fn_exif_orientation(data, size);
    FZ_ASSERT(o >= 1 && o <= 8);
    return 0;
}
