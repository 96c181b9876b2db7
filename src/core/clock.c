/* clock.c — the library's one clock: monotonic seconds (CLOCK_MONOTONIC),
 * for frame times, latency and progress; never wall-clock time. */
#include <time.h>

#include "facenet.h"

double fn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}
