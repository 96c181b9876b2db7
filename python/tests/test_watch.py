"""facenet.watch on an image sequence (fn_video_open reads img%03d.png):
a face appears, is identified as the enrolled person, and leaves at the end;
frames come back as RGB arrays, with the boxes drawn when asked."""
import os
import shutil
import tempfile

import numpy as np

from support import engine, film_photo, skip

import facenet


def test_watch_names_the_person_of_an_image_sequence():
    if not os.path.exists("/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"):
        skip("needs OpenCV's Haar cascade (/usr/share/opencv4/haarcascades, Debian's opencv-data)")
    with tempfile.TemporaryDirectory() as d:
        img = facenet.load_image(film_photo("Mohanlal", 2))
        facenet.save_image(os.path.join(d, "f000.png"), img)
        for i in range(1, 6):
            shutil.copy(os.path.join(d, "f000.png"), os.path.join(d, f"f{i:03d}.png"))
        with facenet.Gallery(os.path.join(d, "g.db"), engine()) as g:
            g.add("Mohanlal", film_photo("Mohanlal", 1))
            g.add("Nazriya", film_photo("Nazriya", 1))
            frames, events = [], []
            for frame, ev in facenet.watch(os.path.join(d, "f%03d.png"), g):
                if frame is not None:
                    frames.append(frame)
                events += ev
            assert len(frames) == 6
            assert frames[0].shape == img.shape and frames[0].dtype == np.uint8
            assert not np.array_equal(frames[-1], img)          # boxes drawn
            plain = [f for f, _ in facenet.watch(os.path.join(d, "f%03d.png"), g, draw=False) if f is not None]
            assert np.array_equal(plain[0], img)                 # the frame itself, RGB
            kinds = [e.kind for e in events]
            assert kinds[0] == "appeared" and kinds[-1] == "left", kinds
            named = [e for e in events if e.kind == "identified"]
            assert named and named[0].name == "Mohanlal", events
            assert 0 <= named[0].distance <= g.threshold_for()[0]
