/* dl.h — shared libraries opened by soname on first use (dlopen), for the
 * modules that load FFmpeg (src/video/avlib.c) and oneDNN/OpenBLAS
 * (src/nn/mathlib.c) instead of linking them.  Owns the test hook
 * FACENET_HIDE_LIBS: comma-separated soname prefixes that fn_dlopen treats
 * as missing, so tests can check the sentence a user without the library
 * gets.  Private to src/.
 */
#ifndef FN_CORE_DL_H
#define FN_CORE_DL_H

/* dlopen(soname, RTLD_NOW | RTLD_LOCAL), or NULL with *why set to the
 * loader's reason (or "hidden by FACENET_HIDE_LIBS"). */
void *fn_dlopen(const char *soname, const char **why);

#endif
