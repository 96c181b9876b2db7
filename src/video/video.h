/* video.h — the video module (src/video): sources, writer, watcher, latency.
 * Its whole interface is public (include/facenet/video.h); track.h holds what
 * only the module shares.
 */
#ifndef FN_VIDEO_H
#define FN_VIDEO_H

#include "facenet/video.h"

#endif
