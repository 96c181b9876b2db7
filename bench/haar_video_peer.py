#!/usr/bin/env python3
"""Bench-only peer of `facenet watch --detector haar` on a video: OpenCV 4.6
decodes each frame (cv2.VideoCapture), converts it to gray, reduces it by the
whole factor facenet's old path uses (to about 640x480, INTER_AREA) and runs
CascadeClassifier.detectMultiScale(gray, 1.2, 3, minSize 24x24) — the Haar
scan of every frame, without O-Net, embeddings or tracking (less work than
facenet does).  Usage: haar_video_peer.py cascade.xml clip.mp4 threads [reps]
Prints 'fps <median frames per second> frames <n> faces <total rectangles>'."""
import sys
import time

import cv2


def once(clf, clip):
    cap = cv2.VideoCapture(clip)
    frames = faces = 0
    t0 = time.perf_counter()
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        h, w = frame.shape[:2]
        s = max(1, min(w // 640, h // 480))
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        if s > 1:
            gray = cv2.resize(gray, (w // s, h // s), interpolation=cv2.INTER_AREA)
        faces += len(clf.detectMultiScale(gray, 1.2, 3, minSize=(24, 24)))
        frames += 1
    return frames / (time.perf_counter() - t0), frames, faces


def main():
    cascade, clip, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    reps = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    cv2.setNumThreads(threads)
    clf = cv2.CascadeClassifier(cascade)
    runs = sorted(once(clf, clip) for _ in range(reps))
    fps, frames, faces = runs[len(runs) // 2]
    print("fps %.2f frames %d faces %d" % (fps, frames, faces))


if __name__ == "__main__":
    main()
