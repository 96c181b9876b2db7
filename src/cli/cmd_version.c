#include <stdio.h>

#include "cli/cli.h"

int fn_cmd_version(int argc, char **argv)
{
    (void)argc; (void)argv;
    printf("facenet 0.1.0\n");
    return 0;
}
