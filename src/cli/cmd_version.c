/* facenet version — what this build is and what it computes with. */
#include <stdio.h>

#include <cblas.h>
#include <dnnl.h>
#include <sqlite3.h>

#include "cli.h"

int fn_cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const dnnl_version_t *v = dnnl_version();
    printf("facenet 0.1.0\n");
    printf("convolutions: oneDNN %d.%d.%d (CPU ISA chosen at run time)\n", v->major, v->minor, v->patch);
    printf("gallery search: %s\n", openblas_get_config());
    printf("gallery store: SQLite %s\n", sqlite3_libversion());
    return 0;
}
