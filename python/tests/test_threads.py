"""One Engine and one Gallery shared by threads give what one thread gets.
ctypes.CDLL releases the GIL during each foreign call, so the threads really
run the C code at the same time (the engine serialises what must be)."""
import os
import tempfile
import threading

import numpy as np

from support import engine, film

import facenet


def _files():
    root = os.path.join(film(), "Predict")
    return [facenet.list_images(os.path.join(root, p))[0] for p in sorted(os.listdir(root))][:6]


def _run_threads(fn, items, nthreads=2):
    results, errors = {}, []

    def work(part):
        try:
            for x in part:
                results[x] = fn(x)
        except Exception as e:   # reported by the main thread
            errors.append(e)

    ts = [threading.Thread(target=work, args=(items[i::nthreads] + items[::-1][i::nthreads],))
          for i in range(nthreads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    return results


def test_two_threads_on_one_engine_equal_one_thread():
    files = _files()
    e = engine()
    want = {f: e.embed(f) for f in files}
    got = _run_threads(e.embed, files)
    for f in files:
        assert np.array_equal(got[f], want[f]), f"{f}: differs when embedded from two threads"
    # the same with arrays and detections
    arrays = {f: facenet.load_image(f) for f in files}
    got = _run_threads(lambda f: e.detect(arrays[f]), files)
    for f in files:
        assert got[f] == e.detect(f)


def test_gil_is_released_during_library_calls():
    """While a thread is inside a long library call, Python code in another
    thread keeps running (it would stall if the GIL were held)."""
    e = engine()
    big = np.ascontiguousarray(np.tile(facenet.load_image(_files()[0]), (2, 2, 1)))
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(1)
            done.wait(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        before = len(ticks)
        e.detect(big)
        during = len(ticks) - before
    finally:
        done.set()
        t.join()
    assert during >= 5, f"the other thread ran {during} times during detection: the GIL was held"


def test_gallery_identify_from_two_threads():
    files = _files()
    with tempfile.TemporaryDirectory() as d, facenet.Gallery(os.path.join(d, "g.db"), engine()) as g:
        g.enroll(os.path.join(film(), "Film", "Test"))
        embs = {f: engine().embed(f) for f in files}
        want = {f: [(m.name, m.distance) for m in g.identify_embeddings(embs[f])] for f in files}
        got = _run_threads(lambda f: [(m.name, m.distance) for m in g.identify_embeddings(embs[f])], files)
        assert got == want
