/* facenet watch with its window, on a virtual X display (Xvfb): a screenshot
 * taken while it plays the slideshow must show the picture and a known
 * face's green box; q, Esc and Enter (sent with xdotool) must close the
 * window and end the process cleanly; --max-frames must end it too.
 * Oracle: the slideshow's first photo is an enrolled person, so a green
 * (known) box must be on screen; the box colour is fn_image_draw_face's.
 * Skips when Xvfb is absent; the key checks skip without xdotool. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_util.h"
#include "facenet.h"
#include "t.h"

static char models_dir[512], gallery[600], tmp[256], video[600], long_video[600];
static int display = -1;
static pid_t xvfb_pid = -1;

static int sh(const char *cmd) { return system(cmd) == 0 ? 0 : -1; }

/* An X client given at most `secs` seconds (coreutils timeout): `xdotool search --sync`
 * waits for good for a window that has gone, which once hung the whole CI run. */
static int sh_bounded(int secs, const char *cmd)
{
    char b[2048];
    snprintf(b, sizeof b, "timeout -k 2 %d %s", secs, cmd);
    return sh(b);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Start a shell command in the background; its pid (exec'd, so the command's own). */
static pid_t spawn(const char *cmd)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Exit status of pid within timeout_ms; -2 on timeout (then it is killed), -1 not a normal exit. */
static int wait_exit(pid_t pid, int timeout_ms)
{
    for (int waited = 0;; waited += 50) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        if (r < 0) return -1;
        if (waited >= timeout_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -2;
        }
        sleep_ms(50);
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return calloc(1, 1);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc((size_t)(n > 0 ? n : 0) + 1, 1);
    if (s && n > 0 && fread(s, 1, (size_t)n, f) != (size_t)n) s[0] = 0;
    fclose(f);
    return s;
}

/* Wait until file contains needle (the watch prints its "watching" line once the window is open). */
static int wait_for_text(const char *path, const char *needle, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        char *s = slurp(path);
        int found = s && strstr(s, needle) != NULL;
        free(s);
        if (found) return 1;
        sleep_ms(50);
    }
    return 0;
}

static void stop_xvfb(void)
{
    if (xvfb_pid > 0) {
        kill(xvfb_pid, SIGTERM);
        wait_exit(xvfb_pid, 5000);
        xvfb_pid = -1;
    }
}

/* Xvfb picks a free display itself (-displayfd): tests of other builds may run at the same time. */
static void start_xvfb(void)
{
    char cmd[1024], dpy[300];
    snprintf(dpy, sizeof dpy, "%s/display", tmp);
    snprintf(cmd, sizeof cmd, "exec Xvfb -displayfd 3 -screen 0 800x600x24 -nolisten tcp 3>'%s' 2>'%s/xvfb.log'", dpy, tmp);
    xvfb_pid = spawn(cmd);
    for (int waited = 0; waited < 10000 && display < 0; waited += 50) {
        char *s = slurp(dpy);
        if (s && s[0] >= '0' && s[0] <= '9' && strchr(s, '\n')) display = atoi(s);
        free(s);
        if (display < 0) sleep_ms(50);
    }
    if (display < 0) {
        stop_xvfb();
        T_SKIP("Xvfb did not start (see %s/xvfb.log)", tmp);
    }
    printf("Xvfb on :%d\n", display);
}

static void setup(void)
{
    if (!t_models("MobileFaceNet.tflite")) T_SKIP("models are absent (run `make models`, or set MODELS=dir)");
    snprintf(models_dir, sizeof models_dir, "%s", getenv("MODELS") ? getenv("MODELS") : "models");
    if (sh("command -v Xvfb >/dev/null")) T_SKIP("Xvfb is absent (Debian package xvfb)");
    if (sh("command -v ffmpeg >/dev/null")) T_SKIP("ffmpeg CLI absent");
    snprintf(tmp, sizeof tmp, "%s", t_tmpdir());
    snprintf(gallery, sizeof gallery, "%s/film.db", tmp);
    t_run r;
    t_facenet(&r, "enroll --models-dir '%s' --gallery '%s' '%s'", models_dir, gallery, t_shared("fixtures/film/Film/Test"));
    T_CHECK(r.status == 0, "enroll exit %d: %s", r.status, r.err);
    t_run_free(&r);
    /* 640x480 at 10 fps: Mohanlal (2 s), then Deepika Padukone (2 s). */
    char cmd[4096];
    snprintf(video, sizeof video, "%s/slides.mp4", tmp);
    snprintf(cmd, sizeof cmd,
             "ffmpeg -v error -y -loop 1 -t 2 -i '%s' -loop 1 -t 2 -i '%s' -filter_complex "
             "\"[0]scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=10[a];"
             "[1]scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=10[b];"
             "[a][b]concat=n=2:v=1:a=0,format=yuv420p[v]\" -map '[v]' -c:v mpeg4 -q:v 3 '%s'",
             t_shared("fixtures/film/Predict/Mohanlal/8.jpeg"), t_shared("fixtures/film/Predict/Deepika Padukone/5.jpg"),
             video);
    if (sh(cmd)) T_SKIP("ffmpeg could not build the slideshow");
    /* The key checks play 60 s of Mohanlal: on a busy machine the window of a 4 s clip could close
     * by itself before xdotool finds it, and a key must be what ends the run. */
    snprintf(long_video, sizeof long_video, "%s/long.mp4", tmp);
    snprintf(cmd, sizeof cmd,
             "ffmpeg -v error -y -loop 1 -t 60 -i '%s' -vf "
             "\"scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=10,"
             "format=yuv420p\" -c:v mpeg4 -q:v 3 '%s'",
             t_shared("fixtures/film/Predict/Mohanlal/8.jpeg"), long_video);
    if (sh(cmd)) T_SKIP("ffmpeg could not build the 60 s clip");
    if (t_failures) exit(T_DONE());
}

/* facenet watch with the window on our display, output to tmp/<tag>.out/.err.
 * Leak checking is off for these runs only: SDL's D-Bus helper keeps a block
 * to the end of the process, with children allocated from libraries SDL has
 * unloaded by then (no frames to suppress them by).  The same watch loop runs
 * leak-checked headless in test_video; memory errors are still caught here. */
static pid_t start_watch(const char *tag, const char *extra, const char *clip)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "DISPLAY=:%d ASAN_OPTIONS=detect_leaks=0 exec '%s' watch --models-dir '%s' "
                              "--gallery '%s' %s '%s' >'%s/%s.out' 2>'%s/%s.err'",
             display, t_facenet_bin(), models_dir, gallery, extra, clip, tmp, tag, tmp, tag);
    return spawn(cmd);
}

static int is_green(const uint8_t *p) { return p[0] == 40 && p[1] == 200 && p[2] == 60; }

/* Screenshot of the screen while a known face plays: not blank, a green box on it. */
static void check_screenshot(void)
{
    char err[300], shot[300], cmd[1024];
    snprintf(err, sizeof err, "%s/shot.err", tmp);
    snprintf(shot, sizeof shot, "%s/shot.png", tmp);
    pid_t pid = start_watch("shot", "--realtime --max-frames 25", video);
    T_CHECK(wait_for_text(err, "watching", 60000), "the window did not open: %s", err);
    sleep_ms(1000);   /* about 10 frames in: Mohanlal, named */
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -y -f x11grab -video_size 800x600 -i :%d -frames:v 1 '%s'", display, shot);
    T_CHECK(sh_bounded(30, cmd) == 0, "ffmpeg x11grab failed on :%d", display);
    int st = wait_exit(pid, 60000);
    char *e = slurp(err);
    T_CHECK(st == 0, "watch --realtime --max-frames 25 exit %d: %s", st, e);
    T_CHECK(strstr(e, "running headless") == NULL, "watch ran headless on :%d: %s", display, e);
    free(e);
    fn_image img = {0};
    fn_status s = fn_image_load(shot, NULL, &img);
    T_CHECK(s == FN_OK && img.c == 3, "cannot read the screenshot %s: %s", shot, fn_last_error());
    if (s != FN_OK) return;
    long green = 0, lit = 0, n = (long)img.w * img.h;
    for (long i = 0; i < n; i++) {
        const uint8_t *p = img.data + i * 3;
        green += is_green(p);
        lit += p[0] + p[1] + p[2] > 60;
    }
    printf("screenshot %s: %dx%d, %.1f %% lit, %ld pixels of the known-face green\n", shot, img.w, img.h,
           100.0 * lit / n, green);
    T_CHECK(lit > n / 10, "the screenshot is blank (%.1f %% lit): %s", 100.0 * lit / n, shot);
    T_CHECK(green > 300, "no green (known face) box on screen: %ld pixels, %s", green, shot);
    fn_image_free(&img);
}

/* A key (xdotool name) closes the window: exit 0 well before the 60 s clip ends. */
static void check_key(const char *key)
{
    char tag[64], err[400], cmd[1024];
    snprintf(tag, sizeof tag, "key-%s", key);
    snprintf(err, sizeof err, "%s/%s.err", tmp, tag);
    pid_t pid = start_watch(tag, "--realtime", long_video);
    T_CHECK(wait_for_text(err, "watching", 60000), "%s: the window did not open", key);
    sleep_ms(300);
    snprintf(cmd, sizeof cmd, "env DISPLAY=:%d xdotool search --sync --name 'facenet watch' windowfocus --sync key %s",
             display, key);
    /* xdotool can find the window of the run before, being destroyed (BadWindow), seen under load: try again
     * while this run's window is still up; the early exit checked below is the proof the key arrived */
    int rc = sh_bounded(20, cmd), exited = -3;
    for (int a = 0; rc != 0 && a < 5; a++) {
        int wst;
        if (waitpid(pid, &wst, WNOHANG) == pid) {
            exited = WIFEXITED(wst) ? WEXITSTATUS(wst) : -1;
            break;
        }
        sleep_ms(200);
        rc = sh_bounded(20, cmd);
    }
    T_CHECK(rc == 0 || exited == 0, "xdotool could not press %s", key);
    int st = exited != -3 ? exited : wait_exit(pid, 3000);
    char *e = slurp(err);
    T_CHECK(st == 0, "%s: watch exit %d (-2: still running 3 s after the key): %s", key, st, e);
    int frames = -1;
    const char *sum = strstr(e, " frames in ");
    if (sum) {
        while (sum > e && sum[-1] >= '0' && sum[-1] <= '9') sum--;
        frames = atoi(sum);
    }
    T_CHECK(frames >= 0 && frames < 600, "%s: expected an early end and a summary, got %d frames: %s", key, frames, e);
    printf("%-7s closes the window: exit %d after %d of 600 frames\n", key, st, frames);
    free(e);
}

/* --max-frames ends a windowed run (read as fast as it goes) at exactly that frame. */
static void check_max_frames(void)
{
    char err[300];
    snprintf(err, sizeof err, "%s/max.err", tmp);
    pid_t pid = start_watch("max", "--max-frames 7", video);
    int st = wait_exit(pid, 60000);
    char *e = slurp(err);
    T_CHECK(st == 0, "watch --max-frames 7 exit %d: %s", st, e);
    T_CHECK(strstr(e, "\n7 frames in ") != NULL, "--max-frames 7 did not stop at 7 frames: %s", e);
    T_CHECK(strstr(e, "running headless") == NULL, "watch ran headless on :%d: %s", display, e);
    printf("--max-frames 7 with the window: exit %d, %s\n", st, strstr(e, "\n7 frames in ") ? "7 frames" : "wrong count");
    free(e);
}

int main(void)
{
    setup();
    start_xvfb();
    check_screenshot();
    check_max_frames();
    if (sh("command -v xdotool >/dev/null") == 0) {
        check_key("q");
        check_key("Escape");
        check_key("Return");
    } else {
        t_not_checked("q, Esc and Enter close the window (xdotool is absent: Debian package xdotool)");
    }
    stop_xvfb();
    return T_DONE();
}
