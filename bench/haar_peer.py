#!/usr/bin/env python3
"""Bench-only peer: OpenCV's CascadeClassifier on the same gray frames as
bench_haar.  Usage: haar_peer.py cascade.xml frame.pgm iterations threads
Prints 'ms <median ms per frame> n <faces>'."""
import sys
import time

import cv2


def main():
    cascade, frame, iters, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    cv2.setNumThreads(threads)
    clf = cv2.CascadeClassifier(cascade)
    gray = cv2.imread(frame, cv2.IMREAD_GRAYSCALE)
    faces = clf.detectMultiScale(gray, 1.1, 3)  # warm-up
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        faces = clf.detectMultiScale(gray, 1.1, 3)
        times.append((time.perf_counter() - t0) * 1000.0)
    times.sort()
    print("ms %.3f n %d" % (times[len(times) // 2], len(faces)))


if __name__ == "__main__":
    main()
