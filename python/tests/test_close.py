"""close() of an Engine or a Gallery shared by threads: it waits for the
calls in progress, and every call after it raises InvalidArgument
("this Engine is closed" / "this Gallery is closed") — never a crash, never
freed memory read, and a closed Gallery never reopens (or creates) its file."""
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import numpy as np
import pytest

from support import MODELS, ROOT, engine, film, film_photo

import facenet


def _run(script: str) -> subprocess.CompletedProcess:
    """script in a fresh interpreter: a crash there fails the test, not pytest."""
    pre = textwrap.dedent(f"""\
        import os, sys, threading, time
        sys.path.insert(0, {os.path.join(ROOT, "python")!r})
        import facenet
        F = {film_photo("Mohanlal", 1)!r}
        MODELS = {MODELS!r}
        FILM = {film()!r}
        """)
    return subprocess.run([sys.executable, "-c", pre + textwrap.dedent(script)], capture_output=True, text=True,
                          timeout=300)


def _close_while_threads_use(setup: str, call: str, handle: str, calls_before: int) -> str:
    """setup, then two threads repeating `assert call` until it raises, and
    handle.close() once calls_before calls have passed: the exceptions the
    threads ended with, as "Type: message" (the process must not crash)."""
    r = _run(textwrap.dedent(setup) + textwrap.dedent(f"""
        errors, done = [], [0]
        def loop():
            try:
                while True:
                    assert {call}
                    done[0] += 1
            except Exception as x:
                errors.append(x)
        ts = [threading.Thread(target=loop) for _ in range(2)]
        for t in ts: t.start()
        while done[0] < {calls_before}: time.sleep(0.001)
        {handle}.close()
        for t in ts: t.join()
        print([f"{{type(x).__name__}}: {{x}}" for x in errors])
        """))
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr[-2000:]}"
    return r.stdout.strip()


def test_engine_closed_while_threads_embed():
    engine()
    out = _close_while_threads_use("""
        e = facenet.Engine(models_dir=MODELS)
        img = facenet.load_image(F)
        want = e.embed(img)
        """, "(e.embed(img) == want).all()", "e", 2)
    assert out == str(["InvalidArgument: this Engine is closed"] * 2)


def test_gallery_closed_while_threads_identify():
    engine()
    out = _close_while_threads_use("""
        e = facenet.Engine(models_dir=MODELS)
        import tempfile
        d = tempfile.mkdtemp()
        g = facenet.Gallery(os.path.join(d, "g.db"), e)
        g.add("Mohanlal", F)
        emb = e.embed(F)
        """, 'g.identify_embeddings(emb)[0].name == "Mohanlal"', "g", 50)
    assert out == str(["InvalidArgument: this Gallery is closed"] * 2)


def test_close_waits_for_the_call_in_progress():
    e = facenet.Engine(models_dir=MODELS)
    img = facenet.load_image(film_photo("Mohanlal", 1))
    want = e.detect(img)
    big = np.ascontiguousarray(np.tile(img, (3, 3, 1)))
    got = []
    t = threading.Thread(target=lambda: got.append(e.detect(big)))
    t.start()
    while e._calls == 0 and t.is_alive():   # the detection is in progress
        time.sleep(0.0005)
    assert t.is_alive(), "the detection finished before close() could be tried"
    e.close()
    assert got and len(got[0]) >= len(want), "close() returned before the detection in progress finished"
    t.join()
    with pytest.raises(facenet.InvalidArgument, match="^this Engine is closed$"):
        e.detect(img)


def test_closed_engine_refuses_every_call():
    e = facenet.Engine(models_dir=MODELS)
    f = e.detect(film_photo("Mohanlal", 1))[0]
    img = facenet.load_image(film_photo("Mohanlal", 1))
    e.close()
    e.close()   # twice: nothing
    calls = [lambda: e.dim, lambda: e.input_size, lambda: e.model_id, lambda: e.threshold, lambda: e.handle,
             lambda: e.detect(img), lambda: e.embed(img), lambda: e.embed(img, faces=[f]),
             lambda: e.embedding(img), lambda: e.align(img, f), lambda: e.refine(img, f.box),
             lambda: e.embed_aligned(np.zeros((112, 112, 3), np.uint8)),
             lambda: facenet.verify(img, img, engine=e)]
    for i, c in enumerate(calls):
        with pytest.raises(facenet.InvalidArgument, match="^this Engine is closed$"):
            c()
    assert repr(e) == "<facenet.Engine closed>" and e.closed


def test_close_inside_own_call_is_refused_not_a_deadlock():
    e = facenet.Engine(models_dir=MODELS)
    with e._call():
        with pytest.raises(facenet.InvalidArgument, match="cannot be closed from inside one of its own calls"):
            e.close()
        assert e.dim == 192
    e.close()
    assert e.closed


def _gallery_calls(g, img, emb):
    return {"people": lambda: g.people(), "len": lambda: len(g), "contains": lambda: "Mohanlal" in g,
            "identify": lambda: g.identify(img), "identify_embeddings": lambda: g.identify_embeddings(emb),
            "add": lambda: g.add("X", img), "enroll": lambda: g.enroll(os.path.join(film(), "Film", "Test")),
            "remove": lambda: g.remove("Mohanlal"), "rename": lambda: g.rename("Mohanlal", "M"),
            "threshold": lambda: g.threshold, "set threshold": lambda: setattr(g, "threshold", 1.0),
            "threshold_for": lambda: g.threshold_for(), "calibrate": lambda: g.calibrate(),
            "handle": lambda: g.handle}


def test_closed_gallery_refuses_every_call_and_never_reopens():
    img = facenet.load_image(film_photo("Mohanlal", 1))
    emb = engine().embed(img)
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "c.db")
        g = facenet.Gallery(p, engine())
        g.add("Mohanlal", img)
        g.close()
        g.close()
        assert g.closed and repr(g).endswith("closed>")
        os.remove(p)
        for what, c in _gallery_calls(g, img, emb).items():
            with pytest.raises(facenet.InvalidArgument, match="^this Gallery is closed$"):
                c()
            assert not os.path.exists(p), f"{what} on a closed Gallery created {p}"
        # with: closed at the end of the block, even when never used inside
        with facenet.Gallery(os.path.join(d, "w.db"), engine()) as g2:
            pass
        with pytest.raises(facenet.InvalidArgument, match="^this Gallery is closed$"):
            g2.identify(img)
        # a Gallery without an engine, closed before its first use: nothing is opened or made
        g3 = facenet.Gallery(os.path.join(d, "lazy.db"))
        g3.close()
        with pytest.raises(facenet.InvalidArgument, match="^this Gallery is closed$"):
            g3.people()
        with pytest.raises(facenet.InvalidArgument, match="^this Gallery is closed$"):
            g3.engine
        assert not os.path.exists(os.path.join(d, "lazy.db"))


def test_gallery_of_a_closed_engine():
    e = facenet.Engine(models_dir=MODELS)
    with tempfile.TemporaryDirectory() as d:
        g = facenet.Gallery(os.path.join(d, "g.db"), e)
        g.add("Mohanlal", film_photo("Mohanlal", 1))
        e.close()
        with pytest.raises(facenet.InvalidArgument, match="^this Engine is closed$"):
            g.identify(film_photo("Mohanlal", 2))
        assert [p.name for p in g.people()] == ["Mohanlal"]   # what needs no engine still works
        g.close()
