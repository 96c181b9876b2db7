/* cli_util.h — running the facenet binary from tests (FACENET_BIN, set by
 * tests/run.sh to the variant's build) and reading its JSON Lines.
 */
#ifndef FN_TESTS_CLI_UTIL_H
#define FN_TESTS_CLI_UTIL_H

#include <cjson/cJSON.h>

typedef struct t_run {
    int status;        /* exit code, or -1 if it did not exit normally */
    char *out, *err;   /* captured stdout and stderr (NUL-terminated) */
} t_run;

/* Run "$FACENET_BIN <args>" through the shell; args is appended verbatim. */
int t_facenet(t_run *r, const char *fmt, ...);
void t_run_free(t_run *r);
/* Parse line k (0-based) of out as JSON; NULL if absent or invalid. */
cJSON *t_json_line(const char *out, int k);
int t_count_lines(const char *s);
const char *t_facenet_bin(void);

/* Real faces without the reference data: the demo's sample photos (the npm
 * package @vladmandic/face-api@1.7.15, MIT), cached by `make demo` in
 * MODELS_DIR/.cache.  As the demo does, the faces of sample1.jpg are cut
 * (detect --crops --size 240 --margin 100) into DIR/people/Person K/1.png;
 * crop[k] gets each path.  Returns the number of people (3 expected), or -1
 * if the photos are not cached (nothing is printed then). */
int t_demo_people(const char *models_dir, const char *dir, char crop[][600], int max);

#endif
