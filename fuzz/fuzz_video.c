/* fuzz_video.c — libFuzzer target: the video source (FFmpeg demux + decode
 * into our RGB8 frame) on a file, as `facenet watch FILE` reads it.
 * At most MAX_FRAMES frames or MAX_SECONDS of wall time per input, so a
 * stream that never ends cannot hang the fuzzer.
 * Properties: no crash/leak; a failure has a message; frames have the
 * size the source announced; times never go NaN.
 */
#include <math.h>

#include "fuzz_util.h"
#include "core/error.h"
#include "video/video.h"

enum { MAX_FRAMES = 8 };
#define MAX_SECONDS 2.0

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4096];
    fz_write_tmp(data, size, ".vid", path, sizeof path);
    fn_clear_error();
    fn_video_source *v = NULL;
    fn_status s = fn_video_open(path, 0, &v);
    fz_check_failure(s, "fn_video_open");
    if (s == FN_OK) {
        fn_video_info info = fn_video_source_info(v);
        FZ_ASSERT(info.w > 0 && info.h > 0 && info.fps > 0);
        double t0 = fn_now();
        for (int i = 0; i < MAX_FRAMES && fn_now() - t0 < MAX_SECONDS; i++) {
            const fn_image *frame = NULL;
            double t = 0;
            int eof = 0;
            fn_clear_error();
            s = fn_video_read(v, &frame, &t, &eof);
            fz_check_failure(s, "fn_video_read");
            if (s != FN_OK || eof) break;
            FZ_ASSERT(frame && frame->data && frame->c == 3);
            FZ_ASSERT(frame->w == info.w && frame->h == info.h);
            FZ_ASSERT(!isnan(t));
            volatile uint8_t last = frame->data[(size_t)frame->w * frame->h * 3 - 1];
            (void)last;
        }
        fn_video_close(v);
    } else {
        FZ_ASSERT(v == NULL);
    }
    fz_unlink(path);
    return 0;
}
