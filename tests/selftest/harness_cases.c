/* harness_cases.c — deliberately broken tests that prove the harness.
 * tests/run.sh builds this, runs each case the way it runs a real test and
 * asserts its verdict: a failed check followed by any kind of skip must be
 * reported FAIL, never "skip"; a test that hangs (case hang: it and a child
 * of its own sleep for good) must be stopped with its child and reported
 * FAIL.  Not part of the suite's own counts.
 */
#include "t.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    setenv("SHARED", "/nonexistent/harness-selftest", 1);
    if (!strcmp(c, "fail-then-missing-shared")) {      /* expected: FAIL */
        T_CHECK(1 + 1 == 3, "deliberate failure: 1 + 1 is %d, not 3", 1 + 1);
        t_shared("fixtures/missing.npy");
    } else if (!strcmp(c, "fail-then-skip")) {         /* expected: FAIL */
        T_CHECK(0, "deliberate failure before T_SKIP");
        T_SKIP("a tool is absent");
    } else if (!strcmp(c, "fail-then-not-checked")) {  /* expected: FAIL */
        T_CHECK(0, "deliberate failure before an optional check is left out");
        t_shared_or("fixtures/missing.npy", "the optional parity check");
    } else if (!strcmp(c, "pass-then-missing-shared")) { /* expected: partial */
        T_CHECK(2 + 2 == 4, "arithmetic");
        t_shared("fixtures/missing.npy");
    } else if (!strcmp(c, "missing-shared-only")) {    /* expected: skip */
        t_shared("fixtures/missing.npy");
    } else if (!strcmp(c, "not-checked-only")) {       /* expected: skip */
        t_shared_or("fixtures/missing.npy", "the only check");
    } else if (!strcmp(c, "hang")) {                   /* expected: FAIL (timed out) */
        pid_t pid = fork();
        if (pid == 0) {
            for (;;) pause();
        }
        printf("grandchild %ld\n", (long)pid);
        fflush(stdout);
        for (;;) pause();
    } else {
        fprintf(stderr, "usage: harness_cases CASE\n");
        return 2;
    }
    return T_DONE();
}
