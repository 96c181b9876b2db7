/* The fuzz regression test (issue 9): every libFuzzer target in build/fuzz
 * runs its generated seeds and every crash input kept in fuzz/regress/<target>/
 * once, without fuzzing (scripts/fuzz-regress.sh).  A crash, leak, sanitizer
 * report or broken property there fails this test.  Skipped, saying why,
 * when the fuzz targets are not built (clang/libFuzzer missing: `make check`
 * builds them when it can). */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "t.h"

int main(void)
{
    FILE *p = popen("bash scripts/fuzz-regress.sh build/fuzz 2>&1", "r");
    T_CHECK(p != NULL, "cannot run scripts/fuzz-regress.sh");
    if (!p) return T_DONE();
    char line[1024], skip[1024] = "";
    int ok = 0, failed = 0, targets = 0;
    FILE *tl = fopen("fuzz/targets.txt", "r");
    while (tl && fgets(line, sizeof line, tl))
        if (line[0] != '#' && line[0] != '\n') targets++;
    if (tl) fclose(tl);
    while (fgets(line, sizeof line, p)) {
        fputs(line, stdout);
        if (!strncmp(line, "ok    ", 6)) ok++;
        if (!strncmp(line, "FAIL", 4)) failed++;
        if (!strncmp(line, "SKIP: ", 6)) snprintf(skip, sizeof skip, "%s", line + 6);
    }
    int st = pclose(p);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (rc == 77) {
        skip[strcspn(skip, "\n")] = 0;
        T_SKIP("%s", skip[0] ? skip : "fuzz targets not built");
    }
    T_CHECK(targets >= 7, "fuzz/targets.txt lists %d targets, expected at least 7", targets);
    T_CHECK(rc == 0 && failed == 0, "fuzz regression failed (exit %d, %d targets failed)", rc, failed);
    T_CHECK(ok == targets, "%d of %d fuzz targets passed their seeds and regression inputs", ok, targets);
    printf("fuzz regression: %d/%d targets clean\n", ok, targets);
    return T_DONE();
}
