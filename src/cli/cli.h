/* cli.h — the subcommands of the facenet CLI, one file each (cmd_*.c).
 * Each run() gets argv starting at the verb, returns the process exit code
 * (0 ok, 1 failure, 2 usage), prints one clear line on stderr on failure.
 */
#ifndef FN_CLI_H
#define FN_CLI_H

typedef struct fn_cli_command {
    const char *name, *summary;
    int (*run)(int argc, char **argv);
} fn_cli_command;

int fn_cmd_version(int argc, char **argv);
int fn_cmd_detect(int argc, char **argv);
int fn_cmd_embed(int argc, char **argv);
int fn_cmd_compare(int argc, char **argv);
int fn_cmd_enroll(int argc, char **argv);
int fn_cmd_identify(int argc, char **argv);
int fn_cmd_verify(int argc, char **argv);
int fn_cmd_gallery(int argc, char **argv);
int fn_cmd_eval(int argc, char **argv);
int fn_cmd_eval_pairs(int argc, char **argv);
int fn_cmd_calibrate(int argc, char **argv);
int fn_cmd_watch(int argc, char **argv);
int fn_cmd_scan(int argc, char **argv);
int fn_cmd_cluster(int argc, char **argv);
int fn_cmd_people(int argc, char **argv);
int fn_cmd_eval_cluster(int argc, char **argv);
int fn_cmd_serve(int argc, char **argv);

/* Add a line here when adding a cmd_*.c file. */
#define FN_CLI_COMMANDS \
    { "detect", "find faces, boxes and landmarks (MTCNN)", fn_cmd_detect }, \
    { "embed", "embed every face of images (or aligned crops)", fn_cmd_embed }, \
    { "compare", "distance between the faces of two images", fn_cmd_compare }, \
    { "enroll", "add a folder-per-person tree of photos to a gallery", fn_cmd_enroll }, \
    { "identify", "name the faces in photos from a gallery", fn_cmd_identify }, \
    { "verify", "are two photos the same person?", fn_cmd_verify }, \
    { "gallery", "list, remove, rename or check a gallery's people", fn_cmd_gallery }, \
    { "eval", "identification accuracy of a gallery folder against probe folders", fn_cmd_eval }, \
    { "eval-pairs", "LFW-style verification accuracy on a pairs file", fn_cmd_eval_pairs }, \
    { "calibrate", "choose and store a gallery's threshold for a false accept rate", fn_cmd_calibrate }, \
    { "watch", "name the people in a video, camera or stream as they come and go", fn_cmd_watch }, \
    { "scan", "photo library: find and store every face of every photo under folders", fn_cmd_scan }, \
    { "cluster", "photo library: group the scanned faces into people", fn_cmd_cluster }, \
    { "people", "photo library: list, name, merge, move, export the groups", fn_cmd_people }, \
    { "eval-cluster", "clustering quality (pairwise, BCubed) on a folder-per-person tree", fn_cmd_eval_cluster }, \
    { "serve", "recognition over HTTP, with a web page for live webcam recognition", fn_cmd_serve }, \
    { "version", "print the version and the compute backends", fn_cmd_version },

#endif
