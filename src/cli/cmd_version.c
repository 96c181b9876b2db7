/* facenet version — what this build is and what it computes with. */
#include <stdio.h>

#include "cli.h"
#include "common.h"
#include "facenet.h"
#include "options.h"

static const fn_cli_use uses[] = {FN_USE_END};

static const fn_cli_spec spec = {
    .verb = "version",
    .usage = (const char *const[]){"", NULL},
    .description = "Prints the version and the libraries that compute: convolutions, gallery search and storage.",
    .opts = uses, .min_args = 0, .max_args = 0,
    .examples = (const char *const[]){"facenet version", NULL},
};

int fn_cmd_version(int argc, char **argv)
{
    fn_cli_args a;
    int rc;
    if (fn_cli_parse(&spec, argc, argv, &a, &rc)) return rc;
    char what[1024];
    fn_status s = fn_backends_describe(what, sizeof what);
    printf("facenet " FN_VERSION "\n%s", s == FN_OK ? what : "");
    if (s != FN_OK) return fn_cli_fail("version", s);
    return 0;
}
