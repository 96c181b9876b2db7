"""The Python side of bench/python.sh: the work bench_python does in C,
through the facenet package (one call per face / per photo, as a user
writes it).  Loading is not timed.  Prints "seconds=S".
  python_peer.py embed MODELS CROPS_DIR N | identify MODELS GALLERY DIR"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import facenet  # noqa: E402

mode, models = sys.argv[1], sys.argv[2]
if mode == "embed":
    e = facenet.Engine(models_dir=models, embedder_only=True)
    s = e.input_size
    crops = [c for c in (facenet.load_image(p) for p in facenet.list_images(sys.argv[3])) if c.shape[:2] == (s, s)]
    n = int(sys.argv[4])
    t0 = time.monotonic()
    for i in range(n):
        e.embed_aligned(crops[i % len(crops)][None])
    t1 = time.monotonic()
else:
    e = facenet.Engine(models_dir=models)
    files = facenet.list_images(sys.argv[4])
    with facenet.Gallery(sys.argv[3], e, readonly=True) as g:
        t0 = time.monotonic()
        for f in files:
            g.identify(f)
        t1 = time.monotonic()
print(f"seconds={t1 - t0:.4f}")
