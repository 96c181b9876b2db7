/* facenet.h — the whole public API of libfacenet, one header per stage.
 *
 * Face recognition on the FaceNet pipeline: detect (MTCNN or Haar + O-Net)
 * -> align -> embed (InceptionResnetV1 or MobileFaceNet) -> match (gallery),
 * on still images and video, with the tools to measure it.  Handles are
 * opaque; every call that can fail returns an fn_status, and fn_last_error()
 * gives a sentence naming the file and the problem of the last failure on the
 * calling thread.  Every exported name starts with fn_ (FN_ for constants).
 *
 * The split follows the pipeline, so a program that only searches a gallery
 * or only computes metrics can include just that stage; each stage header
 * includes the ones it builds on:
 *   facenet/core.h     status codes, errors, clock, SHA-256 file hashes
 *   facenet/image.h    images, JPEG/PNG files, gray, drawing
 *   facenet/engine.h   options, detection (MTCNN, Haar), alignment, embedding,
 *                      face selection, the faces of one image file
 *   facenet/gallery.h  enrolment, search, the decision-threshold rule
 *   facenet/video.h    video sources and writer, the watcher, latency
 *   facenet/batch.h    the bulk executor: many files decoded, detected and
 *                      embedded in parallel, results in input order
 *   facenet/eval.h     metrics, calibration, open set, pairs, plots, the
 *                      embedding cache, folder evaluation
 *   facenet/cluster.h  k nearest neighbours, clustering (Chinese whispers,
 *                      DBSCAN, average linkage), pairwise and BCubed scores
 *   facenet/library.h  photo libraries: incremental scans, groups of faces,
 *                      naming them as gallery people, contact sheets
 */
#ifndef FACENET_H
#define FACENET_H

#include "facenet/core.h"
#include "facenet/image.h"
#include "facenet/engine.h"
#include "facenet/gallery.h"
#include "facenet/video.h"
#include "facenet/eval.h"
#include "facenet/batch.h"
#include "facenet/cluster.h"
#include "facenet/library.h"

#endif
