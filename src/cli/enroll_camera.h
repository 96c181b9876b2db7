/* enroll_camera.h — `facenet enroll --name NAME --camera SOURCE`: build a
 * person's gallery entry live, from a few good frames of a camera, stream
 * or video file (the original project's 'Personal' dataset, built live).
 */
#ifndef FN_CLI_ENROLL_CAMERA_H
#define FN_CLI_ENROLL_CAMERA_H

#include "facenet.h"
#include "outputs.h"

typedef struct fn_camera_enroll {
    const char *name;        /* the person */
    const char *source;      /* /dev/video0, a URL, a file, an image sequence */
    int frames;              /* good frames to capture (5) */
    double seconds;          /* give up after this much source time (30) */
    const char *save_dir;    /* keep the captured frames as JPEGs here (may be NULL) */
    const fn_outputs *out;   /* how they are written (atomically, never replacing a file) */
    int json;
} fn_camera_enroll;

/* Captures and enrolls; returns the process exit code. */
int fn_cli_enroll_camera(fn_engine *e, fn_gallery *g, const fn_camera_enroll *c);

#endif
