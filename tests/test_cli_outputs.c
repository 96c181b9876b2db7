/* The CLI's output planner: lexical normalisation, the inputs' common root,
 * mirrored names (same file names in different folders do not collide),
 * absolute/relative/".." inputs, refusing to write an input (found by inode,
 * also through another name: a hard link, a symlink, "dir/./x"), refusing to
 * replace an existing file without --overwrite, and the atomic write
 * (nothing but the final file is left; a failed write leaves nothing).
 * Expected paths are written out by hand. */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/outputs.h"
#include "t.h"

static char base[PATH_MAX];

static void touch(const char *rel, const char *text)
{
    char p[PATH_MAX + 300];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    char cmd[PATH_MAX * 4];
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\" && printf '%s' > '%s'", p, text, p);
    T_CHECK(system(cmd) == 0, "touch %s", rel);
}

static char *slurp(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_normalize(void)
{
    char out[PATH_MAX], want[PATH_MAX + 16], cwd[PATH_MAX];
    T_CHECK(getcwd(cwd, sizeof cwd) != NULL, "cwd");
    static const struct { const char *in, *want; } abs_cases[] = {
        {"/a/b/c.jpg", "/a/b/c.jpg"}, {"/a//b/./c.jpg", "/a/b/c.jpg"}, {"/a/b/../c.jpg", "/a/c.jpg"},
        {"/../../x", "/x"},           {"/", "/"},                       {"/a/b/", "/a/b"},
        {"/a/./../", "/"},
    };
    for (size_t i = 0; i < sizeof abs_cases / sizeof abs_cases[0]; i++) {
        T_CHECK(fn_path_normalize(abs_cases[i].in, out, sizeof out) == 0 && !strcmp(out, abs_cases[i].want),
                "normalize %s -> %s, want %s", abs_cases[i].in, out, abs_cases[i].want);
    }
    T_CHECK(fn_path_normalize("x/../y.jpg", out, sizeof out) == 0, "relative");
    snprintf(want, sizeof want, "%s/y.jpg", strcmp(cwd, "/") ? cwd : "");
    T_CHECK(!strcmp(out, want), "relative: %s, want %s", out, want);
}

static void test_common_root(void)
{
    char out[PATH_MAX], want[PATH_MAX + 64];
    touch("probes/PersonA/1.jpg", "A");
    touch("probes/PersonB/1.jpg", "B");
    touch("probes/PersonBB/2.jpg", "BB");
    char a[PATH_MAX + 64], b[PATH_MAX + 64], bb[PATH_MAX + 64], dir[PATH_MAX + 64];
    snprintf(a, sizeof a, "%s/probes/PersonA/1.jpg", base);
    snprintf(b, sizeof b, "%s/probes/PersonB/1.jpg", base);
    snprintf(bb, sizeof bb, "%s/probes/PersonBB/2.jpg", base);
    snprintf(dir, sizeof dir, "%s/probes", base);

    char *one[] = {a};
    T_CHECK(fn_path_common_root(one, 1, out, sizeof out) == 0, "root of one file");
    snprintf(want, sizeof want, "%s/probes/PersonA", base);
    T_CHECK(!strcmp(out, want), "one file: root is its folder: %s", out);

    char *two[] = {a, b};
    fn_path_common_root(two, 2, out, sizeof out);
    T_CHECK(!strcmp(out, dir), "two folders: %s, want %s", out, dir);

    /* PersonB and PersonBB share the characters "PersonB" but not a folder. */
    char *pref[] = {b, bb};
    fn_path_common_root(pref, 2, out, sizeof out);
    T_CHECK(!strcmp(out, dir), "component boundary: %s, want %s", out, dir);

    char *d[] = {dir};
    fn_path_common_root(d, 1, out, sizeof out);
    T_CHECK(!strcmp(out, dir), "a folder argument is its own root: %s", out);

    char *far_apart[] = {a, "/etc/hostname"};
    fn_path_common_root(far_apart, 2, out, sizeof out);
    T_CHECK(!strcmp(out, "/"), "nothing in common: %s", out);
}

static void test_mirrored_names(void)
{
    /* Case 05's shape: three PersonX/1.jpg under probes/; the argument is probes/. */
    char cwd[PATH_MAX];
    T_CHECK(getcwd(cwd, sizeof cwd) != NULL, "cwd");
    T_CHECK(chdir(base) == 0, "chdir");
    touch("probes/PersonC/1.jpg", "C");
    touch("probes/PersonC/1.png", "Cpng");
    char *args[] = {"probes/"};
    char *files[] = {"probes/PersonA/1.jpg", "probes/PersonB/1.jpg", "probes/PersonC/1.jpg", "probes/PersonC/1.png"};
    fn_outputs o;
    char err[512], out[PATH_MAX];
    T_CHECK(fn_outputs_init(&o, "out", args, 1, files, 4, 0, err, sizeof err) == 0, "init: %s", err);
    static const char *want[] = {"out/PersonA/1.jpg", "out/PersonB/1.jpg", "out/PersonC/1.jpg", "out/PersonC/1.png"};
    for (int i = 0; i < 4; i++) {
        int rc = fn_outputs_path(&o, files[i], NULL, NULL, out, sizeof out, err, sizeof err);
        T_CHECK(rc == 0 && !strcmp(out, want[i]), "%s -> %s (%s), want %s", files[i], out, rc ? err : "ok", want[i]);
    }
    /* Crops: a suffix per face and a new extension; 1.jpg and 1.png must not share a crop name. */
    T_CHECK(fn_outputs_path(&o, files[2], "_0", ".png", out, sizeof out, err, sizeof err) == 0 &&
            !strcmp(out, "out/PersonC/1_0.png"), "crop name %s", out);
    T_CHECK(fn_outputs_path(&o, files[3], "_0", ".png", out, sizeof out, err, sizeof err) == 0 &&
            !strcmp(out, "out/PersonC/1_png_0.png"), "1.png's crop keeps its extension in the name: %s", out);
    T_CHECK(fn_outputs_claim(&o, "out/PersonC/1_0.png", err, sizeof err) != 0 &&
            strstr(err, "already the output of an earlier input"), "second claim of 1_0.png refused: %s", err);
    /* The same input twice: its second output is refused, not silently replaced. */
    T_CHECK(fn_outputs_path(&o, "probes/PersonA/../PersonA/1.jpg", NULL, NULL, out, sizeof out, err, sizeof err) != 0,
            "the same output twice (through ..) refused");
    fn_outputs_free(&o);

    /* Absolute and relative inputs mixed: one root, same names. */
    char absb[PATH_MAX + 64];
    snprintf(absb, sizeof absb, "%s/probes/PersonB/1.jpg", base);
    char *mixed[] = {"probes/PersonA/1.jpg", absb};
    T_CHECK(fn_outputs_init(&o, "out2", mixed, 2, mixed, 2, 0, err, sizeof err) == 0, "init mixed");
    T_CHECK(fn_outputs_path(&o, absb, NULL, NULL, out, sizeof out, err, sizeof err) == 0 &&
            !strcmp(out, "out2/PersonB/1.jpg"), "absolute input below a relative one: %s", out);
    T_CHECK(fn_outputs_path(&o, "./probes/x/../PersonA/1.jpg", NULL, NULL, out, sizeof out, err, sizeof err) == 0 &&
            !strcmp(out, "out2/PersonA/1.jpg"), "'.' and '..' folded: %s", out);
    fn_outputs_free(&o);

    /* An input above the working directory ("../"): below its root, no ".." in the output name. */
    T_CHECK(chdir("probes/PersonA") == 0, "chdir PersonA");
    char *up[] = {"../PersonB/1.jpg", "../PersonC/1.jpg"};
    T_CHECK(fn_outputs_init(&o, "o3", up, 2, up, 2, 0, err, sizeof err) == 0, "init ..");
    T_CHECK(fn_outputs_path(&o, up[0], NULL, NULL, out, sizeof out, err, sizeof err) == 0 &&
            !strcmp(out, "o3/PersonB/1.jpg"), "../PersonB/1.jpg -> %s", out);
    fn_outputs_free(&o);
    T_CHECK(chdir(cwd) == 0, "chdir back");
}

static void test_never_an_input(void)
{
    char err[512], out[PATH_MAX], photo[PATH_MAX + 64], album[PATH_MAX + 64], link_[PATH_MAX + 64];
    touch("album/photo.jpg", "ORIGINAL");
    snprintf(album, sizeof album, "%s/album", base);
    snprintf(photo, sizeof photo, "%s/album/photo.jpg", base);
    /* Case 04: --annotate DIR where DIR holds the photo. */
    char *in[] = {photo};
    fn_outputs o;
    T_CHECK(fn_outputs_init(&o, album, in, 1, in, 1, 1 /* even with --overwrite */, err, sizeof err) == 0, "init");
    T_CHECK(fn_outputs_path(&o, photo, NULL, NULL, out, sizeof out, err, sizeof err) != 0 &&
            strstr(err, "is one of the input files"), "the input itself refused: %s", err);
    /* The same folder through another spelling, and the same file through a hard link and a symlink. */
    char other[PATH_MAX + 64];
    snprintf(other, sizeof other, "%s/album/./../album", base);
    fn_outputs_free(&o);
    T_CHECK(fn_outputs_init(&o, other, in, 1, in, 1, 1, err, sizeof err) == 0, "init 2");
    T_CHECK(fn_outputs_path(&o, photo, NULL, NULL, out, sizeof out, err, sizeof err) != 0, "through ./.. refused");
    snprintf(link_, sizeof link_, "%s/album/hard.jpg", base);
    T_CHECK(link(photo, link_) == 0, "hard link");
    T_CHECK(fn_outputs_claim(&o, link_, err, sizeof err) != 0 && strstr(err, "input"), "hard link refused: %s", err);
    snprintf(link_, sizeof link_, "%s/album/soft.jpg", base);
    T_CHECK(symlink(photo, link_) == 0, "symlink");
    T_CHECK(fn_outputs_claim(&o, link_, err, sizeof err) != 0 && strstr(err, "input"), "symlink refused: %s", err);
    /* And a commit onto an input is refused even if the claim was skipped. */
    char tmp[PATH_MAX + 64];
    T_CHECK(fn_outputs_begin(&o, photo, tmp, sizeof tmp, err, sizeof err) == 0, "begin");
    T_CHECK(fn_outputs_commit(&o, tmp, photo, err, sizeof err) != 0, "commit onto an input refused");
    T_CHECK(access(tmp, F_OK) != 0, "temporary file removed");
    fn_outputs_free(&o);
    const char *text = slurp(photo);
    T_CHECK(text && !strcmp(text, "ORIGINAL"), "the photo is untouched: %s", text ? text : "(gone)");
}

static int write_text(const char *tmp, void *ctx, char *err, size_t n)
{
    FILE *f = fopen(tmp, "wb");
    if (!f) return snprintf(err, n, "cannot open %s", tmp), -1;
    fputs(ctx, f);
    return fclose(f) == 0 ? 0 : -1;
}

static int write_fails(const char *tmp, void *ctx, char *err, size_t n)
{
    FILE *f = fopen(tmp, "wb");
    if (f) {
        fputs("HALF", f);
        fclose(f);
    }
    snprintf(err, n, "the encoder failed half way");
    return -1;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}

static void test_overwrite_and_atomic(void)
{
    char err[512], path[PATH_MAX + 64], dir[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/w/deep/er", base);
    snprintf(path, sizeof path, "%s/w/deep/er/plot.svg", base);
    fn_outputs o;
    T_CHECK(fn_outputs_init(&o, NULL, NULL, 0, NULL, 0, 0, err, sizeof err) == 0, "init no inputs");
    T_CHECK(fn_outputs_claim(&o, path, err, sizeof err) == 0, "claim a new file: %s", err);
    T_CHECK(fn_outputs_write(&o, path, write_text, "first", err, sizeof err) == 0, "write: %s", err);
    T_CHECK(slurp(path) && !strcmp(slurp(path), "first"), "content");
    T_CHECK(count_entries(dir) == 1, "only the final file in the folder (%d entries)", count_entries(dir));
    struct stat st;
    T_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == (0666 & ~(mode_t)umask(022)), "mode %o", st.st_mode & 0777);
    umask(022);
    fn_outputs_free(&o);

    /* A second run without --overwrite: refused at the claim, and at commit if it appeared meanwhile. */
    T_CHECK(fn_outputs_init(&o, NULL, NULL, 0, NULL, 0, 0, err, sizeof err) == 0, "init 2");
    T_CHECK(fn_outputs_claim(&o, path, err, sizeof err) != 0 && strstr(err, "already exists") &&
            strstr(err, "--overwrite"), "existing file refused: %s", err);
    T_CHECK(fn_outputs_write(&o, path, write_text, "second", err, sizeof err) != 0 && strstr(err, "appeared"),
            "commit does not replace: %s", err);
    T_CHECK(!strcmp(slurp(path), "first"), "still the first content");
    T_CHECK(count_entries(dir) == 1, "no temporary left (%d entries)", count_entries(dir));
    fn_outputs_free(&o);

    /* With --overwrite: replaced. */
    T_CHECK(fn_outputs_init(&o, NULL, NULL, 0, NULL, 0, 1, err, sizeof err) == 0, "init 3");
    T_CHECK(fn_outputs_claim(&o, path, err, sizeof err) == 0, "claim with --overwrite: %s", err);
    T_CHECK(fn_outputs_write(&o, path, write_text, "third", err, sizeof err) == 0 && !strcmp(slurp(path), "third"),
            "overwritten");
    /* A writer that fails leaves the old file and no temporary. */
    T_CHECK(fn_outputs_write(&o, path, write_fails, NULL, err, sizeof err) != 0 && strstr(err, "half way"),
            "failure reported: %s", err);
    T_CHECK(!strcmp(slurp(path), "third"), "old content kept after a failed write");
    T_CHECK(count_entries(dir) == 1, "no half file left (%d entries)", count_entries(dir));
    /* A directory in the way is refused. */
    T_CHECK(fn_outputs_claim(&o, dir, err, sizeof err) != 0 && strstr(err, "is a directory"), "dir: %s", err);
    /* The temporary keeps the extension (format-by-name writers such as FFmpeg's). */
    char tmp[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/w/clip.mp4", base);
    T_CHECK(fn_outputs_begin(&o, path, tmp, sizeof tmp, err, sizeof err) == 0, "begin");
    size_t tl = strlen(tmp);
    T_CHECK(tl > 4 && !strcmp(tmp + tl - 4, ".mp4") && strstr(tmp, "/w/.clip.tmp"), "temporary name %s", tmp);
    fn_outputs_abort(tmp);
    T_CHECK(access(tmp, F_OK) != 0, "aborted temporary removed");
    fn_outputs_free(&o);
}

int main(void)
{
    T_CHECK(realpath(t_tmpdir(), base) != NULL, "tmpdir");
    umask(022);
    test_normalize();
    test_common_root();
    test_mirrored_names();
    test_never_an_input();
    test_overwrite_and_atomic();
    return T_DONE();
}
