"""Gallery management through Python: add, people, rename, remove,
duplicates, calibrate, thresholds, errors with the library's sentence."""
import os
import tempfile

import numpy as np
import pytest

from support import engine, film, film_photo

import facenet


def test_add_people_rename_remove():
    with tempfile.TemporaryDirectory() as d, facenet.Gallery(os.path.join(d, "g.db"), engine()) as g:
        a, b = film_photo("Mohanlal", 1), film_photo("Nazriya", 1)
        assert g.add("Mohanlal", a) == "added"
        assert g.add("Mohanlal", a) == "duplicate"              # same file, same person
        assert g.add("Someone Else", a) == "refused"            # one face of one file is one person
        assert g.add(" Nazriya ", facenet.load_image(b)) == "added"   # names are normalised
        assert [(p.name, p.images) for p in g.people()] == [("Mohanlal", 1), ("Nazriya", 1)]
        assert len(g) == 2 and "Nazriya" in g
        m = g.identify(film_photo("Mohanlal", 2))[0]
        assert m.nearest == "Mohanlal" and m.second == "Nazriya"
        assert m.second_distance >= m.nearest_distance
        g.rename("Nazriya", "Nazriya Fahadh")
        assert [p.name for p in g.people()] == ["Mohanlal", "Nazriya Fahadh"]
        with pytest.raises(facenet.NotFound) as e:
            g.rename("Nobody", "X")
        assert "Nobody" in str(e.value)
        with pytest.raises(facenet.InvalidArgument):
            g.rename("Mohanlal", "Nazriya Fahadh")   # exists
        assert g.remove("Mohanlal") == 1
        assert [p.name for p in g.people()] == ["Nazriya Fahadh"]
        with pytest.raises(facenet.InvalidArgument):
            g.add("bad\x01name", b)
        with pytest.raises(facenet.NoFaceError):
            g.add("Grey", np.full((100, 100, 3), 128, np.uint8))


def test_threshold_precedence_and_unknown():
    with tempfile.TemporaryDirectory() as d, facenet.Gallery(os.path.join(d, "g.db"), engine()) as g:
        g.add("Mohanlal", film_photo("Mohanlal", 1))
        assert g.threshold is None
        assert g.threshold_for() == (pytest.approx(engine().threshold), "model default")
        m = g.identify(film_photo("Mohanlal", 2))[0]
        assert m.threshold == pytest.approx(engine().threshold)
        g.threshold = 0.01                       # stored: now everyone is too far
        assert g.threshold_for()[1] == "gallery (calibrated)"
        m = g.identify(film_photo("Mohanlal", 2))[0]
        assert m.name is None and m.nearest == "Mohanlal" and m.distance > 0.01
        m = g.identify(film_photo("Mohanlal", 2), threshold=1.5)[0]   # explicit wins
        assert m.name == "Mohanlal" and m.threshold == pytest.approx(1.5)


def test_empty_gallery_raises_not_found():
    with tempfile.TemporaryDirectory() as d, facenet.Gallery(os.path.join(d, "g.db"), engine()) as g:
        with pytest.raises(facenet.NotFound):
            g.identify(film_photo("Mohanlal", 1))


def test_calibrate_on_film():
    with tempfile.TemporaryDirectory() as d, facenet.Gallery(os.path.join(d, "g.db"), engine()) as g:
        g.enroll(os.path.join(film(), "Film", "Test"))
        c = g.calibrate(far=0.05)
        assert 0 < c.threshold < 2 and c.stored and g.threshold == pytest.approx(c.threshold)
        assert c.n_genuine == 10 and c.n_impostor == 180   # 10 people x 2 images
        assert not c.reliable and "impostor" in c.why      # far too few pairs, and it says so
        with pytest.raises(facenet.InvalidArgument):
            g.calibrate(far=0.5)


def test_not_a_gallery_file():
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "text.db")
        with open(p, "w") as f:
            f.write("not sqlite\n" * 100)
        with pytest.raises(facenet.GalleryError) as e:
            facenet.Gallery(p, engine())
        assert p in str(e.value)


def test_gallery_without_an_engine_uses_the_default_model():
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "g.db")
        with facenet.Gallery(p, engine()) as g:
            g.add("Mohanlal", film_photo("Mohanlal", 1))
        with facenet.Gallery(p, readonly=True) as g:   # opened later by a script that gives no engine
            assert [x.name for x in g.people()] == ["Mohanlal"]
            assert g.threshold_for()[1] == "model default"
            assert g.identify(film_photo("Mohanlal", 2))[0].name == "Mohanlal"


def test_identify_embeddings_checks_the_shape_and_values():
    """The library reads the gallery's dim floats per row: any other width
    was read past the array's end (128) or cut (512) without a word."""
    with tempfile.TemporaryDirectory() as d, facenet.Gallery(os.path.join(d, "g.db"), engine()) as g:
        g.add("Mohanlal", film_photo("Mohanlal", 1))
        emb = engine().embed(film_photo("Mohanlal", 2))
        dim = engine().dim
        assert g.dim == dim == 192
        want = [(m.name, m.distance) for m in g.identify_embeddings(emb)]
        assert want[0][0] == "Mohanlal"
        # one (dim,) embedding, float64, a list: the same answer
        assert [(m.name, m.distance) for m in g.identify_embeddings(emb[0])] == want
        assert [(m.name, m.distance) for m in g.identify_embeddings(emb.astype(np.float64))] == want
        assert [(m.name, m.distance) for m in g.identify_embeddings(emb.tolist())] == want
        assert g.identify_embeddings(np.empty((0, dim), np.float32)) == []
        for bad, msg in [(np.zeros((2, 128), np.float32), "embeddings[0]: expected an array of 192 numbers "
                          "(this model's embedding length), got 128"),
                         (np.zeros((1, 512), np.float32), "embeddings[0]: expected an array of 192 numbers "
                          "(this model's embedding length), got 512"),
                         (np.zeros(128, np.float32), "got 128"),
                         (emb[None], "embeddings: expected an (n, 192) array (n faces of one picture) or one (192,) "
                          "embedding; got shape (1, 1, 192)"),
                         (np.array([["a"] * dim]), "expected an (n, 192) array of numbers; got an array of <U1"),
                         ([[0.0] * dim, [0.0] * 5], "rows of different lengths")]:
            with pytest.raises(facenet.InvalidArgument) as e:
                g.identify_embeddings(bad)
            assert msg in str(e.value)
        x = emb.copy()
        x[0, 7] = np.nan
        with pytest.raises(facenet.InvalidArgument, match=r"^embeddings\[0\]: element 7 is not a finite number$"):
            g.identify_embeddings(x)
        x[0, 7] = np.inf
        with pytest.raises(facenet.InvalidArgument, match=r"element 7 is not a finite number"):
            g.identify_embeddings(x)
        with pytest.raises(facenet.InvalidArgument, match=r"^faces: 2 given for 1 embeddings"):
            g.identify_embeddings(emb, faces=engine().detect(film_photo("Mohanlal", 2)) * 2)


_RANGE = ("it is a Euclidean distance between L2-normalised embeddings, above 0, up to 2 "
          "(d = sqrt(2 − 2·cos); 1.09 ≈ cosine 0.41)")


def test_thresholds_outside_0_2_are_refused_everywhere():
    """A negative or NaN threshold fell back to the default silently, 5 named
    everyone, verify(threshold=nan) answered threshold=nan: every taker of a
    threshold now refuses what the CLI, the HTTP API and the setter refuse,
    in the CLI's words."""
    a, b = film_photo("Mohanlal", 1), film_photo("Mohanlal", 2)
    cases = [(-0.5, "threshold -0.5 is out of range: "), (0, "threshold 0 is out of range: "),
             (5, "threshold 5 is out of range: "), (2.0001, "threshold 2.0001 is out of range: "),
             (float("nan"), "threshold nan is not a number: "), (float("-inf"), "threshold -inf is not a finite "
                                                                   "number in range: "),
             (float("inf"), "threshold inf is not a finite number in range: "), ("1.0", "threshold '1.0' is not a number: "),
             (True, "threshold True is not a number: ")]
    with tempfile.TemporaryDirectory() as d, facenet.Gallery(os.path.join(d, "g.db"), engine()) as g:
        g.add("Mohanlal", a)
        emb = engine().embed(b)
        takers = {"identify": lambda t: g.identify(b, threshold=t),
                  "identify_embeddings": lambda t: g.identify_embeddings(emb, threshold=t),
                  "threshold_for": lambda t: g.threshold_for(t),
                  "setter": lambda t: setattr(g, "threshold", t),
                  "verify": lambda t: facenet.verify(a, a, engine=engine(), threshold=t),
                  "evaluate": lambda t: facenet.evaluate("/nonexistent", "/nonexistent", engine=engine(), threshold=t),
                  "watch": lambda t: next(facenet.watch(a, g, engine=engine(), threshold=t))}
        for what, call in takers.items():
            for t, msg in cases:
                with pytest.raises(facenet.InvalidArgument) as e:
                    call(t)
                assert str(e.value) == msg + _RANGE, f"{what}({t!r})"
        with pytest.raises(facenet.InvalidArgument, match=r"^threshold None is not a number"):
            g.threshold = None
        assert g.threshold is None                       # nothing was stored
        # the ends of the range are taken
        assert g.identify(b, threshold=2)[0].threshold == 2.0
        assert g.threshold_for(2) == (2.0, "explicit")
        assert g.threshold_for(1e-6)[0] == pytest.approx(1e-6)
        assert g.threshold_for(np.float32(1.25)) == (1.25, "explicit")
        v = facenet.verify(a, a, engine=engine(), threshold=2)
        assert v.same and v.threshold == 2.0


def test_compat_tolerance_is_a_threshold_too():
    import facenet.compat as fr
    fr.set_engine(engine())
    enc = engine().embed(film_photo("Mohanlal", 1))[0]
    assert fr.compare_faces([enc], enc, tolerance=2) == [True]
    for t in (-1, float("nan"), 3):
        with pytest.raises(facenet.InvalidArgument, match=r"^tolerance .* it is a Euclidean distance"):
            fr.compare_faces([enc], enc, tolerance=t)


def test_names_with_nul_or_of_another_type_are_refused():
    """'a\\x00b' was stored as 'a' (the C string ends at the NUL); None and
    bytes raised AttributeError."""
    a = film_photo("Mohanlal", 1)
    with tempfile.TemporaryDirectory() as d, facenet.Gallery(os.path.join(d, "g.db"), engine()) as g:
        g.add("a", a)
        with pytest.raises(facenet.InvalidArgument) as e:
            g.add("a\x00b", film_photo("Mohanlal", 2))
        assert str(e.value) == "person name 'a\\x00b' contains a control character (U+0000)"
        with pytest.raises(facenet.InvalidArgument) as e:   # the library's own wording, for U+000A
            g.add("a\nb", film_photo("Mohanlal", 2))
        assert "contains a control character (U+000A)" in str(e.value)
        with pytest.raises(facenet.InvalidArgument, match=r"contains a control character \(U\+0000\)"):
            facenet.normalize_name("\x00")
        with pytest.raises(facenet.InvalidArgument, match=r"U\+0000"):
            g.remove("a\x00b")                             # would have removed 'a'
        with pytest.raises(facenet.InvalidArgument, match=r"U\+0000"):
            g.rename("a\x00b", "c")
        with pytest.raises(facenet.InvalidArgument, match=r"U\+0000"):
            g.rename("a", "c\x00d")
        assert [(p.name, p.images) for p in g.people()] == [("a", 1)]
        for call, msg in [(lambda: g.add(None, a), "name must be a str (a person's name); got NoneType"),
                          (lambda: g.add(b"x", a), "name must be a str (a person's name); got bytes"),
                          (lambda: facenet.normalize_name(b"x"), "name must be a str (a person's name); got bytes"),
                          (lambda: g.remove(None), "name must be a str (a person's name); got NoneType"),
                          (lambda: g.rename(None, "x"), "old must be a str (a person's name); got NoneType"),
                          (lambda: g.rename("a", 3), "new must be a str (a person's name); got int"),
                          (lambda: None in g, "name must be a str (a person's name); got NoneType")]:
            with pytest.raises(TypeError) as e:
                call()
            assert str(e.value) == msg
        assert [(p.name, p.images) for p in g.people()] == [("a", 1)]


def test_enroll_errors_are_what_the_docstring_says():
    with tempfile.TemporaryDirectory() as d, facenet.Gallery(os.path.join(d, "g.db"), engine()) as g:
        missing = os.path.join(d, "nonexistent")
        with pytest.raises(facenet.FileError) as e:
            g.enroll(missing)
        assert str(e.value) == f"{missing} is not a directory (it should hold one folder per person)"
        assert isinstance(e.value, OSError)
        with pytest.raises(facenet.InvalidArgument) as e:
            g.enroll(film_photo("Mohanlal", 1))              # a file
        assert str(e.value) == f"{film_photo('Mohanlal', 1)} is not a directory (it should hold one folder per person)"
        empty = os.path.join(d, "empty")
        os.mkdir(empty)
        with pytest.raises(facenet.NotFound, match="holds no person folders"):
            g.enroll(empty)
        if os.geteuid() != 0:                                # root reads any directory
            os.chmod(empty, 0)
            try:
                with pytest.raises(facenet.FileError, match=r"cannot be read \(Permission denied\)"):
                    g.enroll(empty)
            finally:
                os.chmod(empty, 0o700)
        assert len(g) == 0
        doc = facenet.Gallery.enroll.__doc__
        assert "FileError when folder does not exist" in doc and "InvalidArgument when it is not a directory" in doc
