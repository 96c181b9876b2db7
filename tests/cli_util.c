#include "cli_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t.h"

const char *t_facenet_bin(void)
{
    const char *b = getenv("FACENET_BIN");
    return b ? b : "build/opt/facenet";
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return calloc(1, 1);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc(n + 1);
    size_t got = fread(s, 1, n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

int t_facenet(t_run *r, const char *fmt, ...)
{
    char args[8192], cmd[9000], outp[300], errp[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    static int seq;
    snprintf(outp, sizeof outp, "%s/run%d.out", t_tmpdir(), seq);
    snprintf(errp, sizeof errp, "%s/run%d.err", t_tmpdir(), seq++);
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s", t_facenet_bin(), args, outp, errp);
    int st = system(cmd);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r->out = slurp(outp);
    r->err = slurp(errp);
    return r->status;
}

void t_run_free(t_run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

cJSON *t_json_line(const char *out, int k)
{
    const char *p = out;
    for (int i = 0; i < k && p; i++) {
        p = strchr(p, '\n');
        if (p) p++;
    }
    if (!p || !*p) return NULL;
    const char *end = strchr(p, '\n');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    char *line = malloc(n + 1);
    memcpy(line, p, n);
    line[n] = '\0';
    cJSON *j = cJSON_Parse(line);
    free(line);
    return j;
}

int t_count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

int t_demo_people(const char *models_dir, const char *dir, char crop[][600], int max)
{
    char tgz[600], cmd[3000];
    snprintf(tgz, sizeof tgz, "%s/.cache/vladmandic-face-api-1.7.15.tgz", models_dir);
    if (access(tgz, R_OK) != 0) return -1;
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/photo' && tar xzf '%s' -C '%s/photo' --strip-components=2 "
             "package/demo/sample1.jpg", dir, tgz, dir);
    if (system(cmd) != 0) return -1;
    t_run r;
    t_facenet(&r, "detect --models-dir '%s' --crops '%s/crops' --size 240 --margin 100 '%s/photo/sample1.jpg'",
              models_dir, dir, dir);
    int ok = r.status == 0;
    t_run_free(&r);
    if (!ok) return 0;
    int n = 0;
    for (int k = 0; k < max; k++) {
        char src[600];
        snprintf(src, sizeof src, "%s/crops/sample1_%d.png", dir, k);
        if (access(src, R_OK) != 0) break;
        snprintf(crop[k], 600, "%s/people/Person %d/1.png", dir, k + 1);
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/people/Person %d' && cp '%s' '%s'", dir, k + 1, src, crop[k]);
        if (system(cmd) != 0) break;
        n++;
    }
    return n;
}
