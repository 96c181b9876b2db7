/* facenet version — what this build is and what it computes with. */
#include <stdio.h>

#include <cblas.h>
#include <dnnl.h>
#include <sqlite3.h>

#include "cli.h"
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
    const dnnl_version_t *v = dnnl_version();
    printf("facenet " FN_VERSION "\n");
    printf("convolutions: oneDNN %d.%d.%d (CPU ISA chosen at run time)\n", v->major, v->minor, v->patch);
    printf("gallery search: %s\n", openblas_get_config());
    printf("gallery store: SQLite %s\n", sqlite3_libversion());
    return 0;
}
