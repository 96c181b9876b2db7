"""Every image input type gives the same embedding as the file itself, the
array is passed without a copy, and bad inputs raise the right exception
with the library's sentence."""
import io
import os
import tempfile

import numpy as np
import pytest

from support import engine, film_photo, skip

import facenet
from facenet._image import to_cimage


def _ref():
    path = film_photo("Mohanlal", 1)
    return path, engine().embed(path)


def test_every_input_type_gives_the_files_embedding():
    path, want = _ref()
    assert want.shape == (1, engine().dim) and want.dtype == np.float32
    rgb = facenet.load_image(path)
    with open(path, "rb") as f:
        data = f.read()
    inputs = {"bytes": data, "bytearray": bytearray(data), "numpy RGB": rgb,
              "numpy BGR": (np.ascontiguousarray(rgb[:, :, ::-1]), True),
              "non-contiguous view": rgb[:, :, ::-1][:, :, ::-1],
              "RGBA": np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])}
    try:
        from PIL import Image
        inputs["PIL RGB"] = Image.fromarray(rgb)
        inputs["PIL RGBA"] = Image.fromarray(rgb).convert("RGBA")
        with tempfile.TemporaryDirectory() as d:   # a lossless file PIL decodes itself
            p = os.path.join(d, "x.png")
            Image.fromarray(rgb).save(p)
            inputs["PIL from PNG"] = Image.open(p)
            inputs["PIL from PNG"].load()
            inputs["PNG path written by PIL"] = p
            for name, x in inputs.items():
                img, bgr = x if isinstance(x, tuple) else (x, False)
                got = engine().embed(img, bgr=bgr)
                assert np.array_equal(got, want), f"{name}: embedding differs from the file's"
    except ImportError:
        skip("needs PIL (python3-pil) for the PIL inputs")


def test_numpy_input_is_zero_copy():
    path, _ = _ref()
    rgb = facenet.load_image(path)
    with to_cimage(rgb) as c:
        assert c.img.w == rgb.shape[1] and c.img.h == rgb.shape[0]
        import ctypes
        assert ctypes.addressof(c.img.data.contents) == rgb.ctypes.data   # the array's own buffer
    with to_cimage(rgb[:, :, ::-1]) as c:   # a view that is not C-contiguous is copied
        import ctypes
        assert ctypes.addressof(c.img.data.contents) != rgb.ctypes.data


def test_gray_array_is_taken_as_rgb():
    path, _ = _ref()
    rgb = facenet.load_image(path)
    gray = rgb[:, :, 1].copy()
    assert np.array_equal(engine().embed(gray), engine().embed(np.dstack([gray] * 3)))
    # HxWx1, as OpenCV (a gray image with its channel axis) and np.asarray of a PIL "L" image give it
    assert np.array_equal(engine().embed(gray[:, :, None]), engine().embed(gray))
    assert engine().embed(gray[:, :, None]).shape[0] >= 1


def test_empty_array_error_shows_the_shape_given():
    for shape in [(0, 0), (0, 0, 3), (0, 5, 1), (5, 0, 4)]:
        with pytest.raises(facenet.InvalidArgument) as e:
            engine().detect(np.zeros(shape, np.uint8))
        assert str(e.value) == f"an image array must not be empty; got shape {shape}"
    with pytest.raises(facenet.InvalidArgument) as e:
        engine().detect(np.zeros((4, 4, 2), np.uint8))
    assert str(e.value) == "an image array must be HxWx3 (RGB) or HxW / HxWx1 (gray), uint8; got shape (4, 4, 2)"


def test_missing_file_raises_file_error_naming_it():
    engine()
    with pytest.raises(facenet.FileError) as e:
        engine().detect("/nonexistent/face.jpg")
    assert e.value.status == "FN_ERR_IO"
    assert "/nonexistent/face.jpg" in str(e.value) and "No such file" in str(e.value)
    assert isinstance(e.value, OSError)


def test_damaged_and_foreign_files():
    engine()
    with tempfile.TemporaryDirectory() as d:
        txt = os.path.join(d, "notes.jpg")
        with open(txt, "w") as f:
            f.write("this is text, not a JPEG\n")
        with pytest.raises((facenet.FormatError, facenet.UnsupportedError)) as e:
            engine().embed(txt)
        assert txt in str(e.value)
        path = film_photo("Mohanlal", 1)
        with open(path, "rb") as f:
            head = f.read(600)   # a JPEG cut inside its headers
        cut = os.path.join(d, "cut.jpg")
        with open(cut, "wb") as f:
            f.write(head)
        with pytest.raises(facenet.FormatError) as e:
            engine().detect(cut)
        assert e.value.status == "FN_ERR_FORMAT" and cut in str(e.value)
    with pytest.raises((facenet.FormatError, facenet.UnsupportedError)) as e:
        engine().detect(b"GIF89a" + b"\0" * 64)
    assert "<bytes>" in str(e.value)


def test_bad_arrays_raise_invalid_argument():
    engine()
    with pytest.raises(facenet.InvalidArgument, match="uint8"):
        engine().detect(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(facenet.InvalidArgument, match="HxWx3"):
        engine().detect(np.zeros((10, 10, 2), np.uint8))
    with pytest.raises(facenet.InvalidArgument):
        engine().detect(12345)
    with pytest.raises(ValueError):    # InvalidArgument is a ValueError too
        engine().embedding(np.zeros((10, 10, 3), np.uint8), select="biggest")


def test_no_face_is_an_empty_result_not_an_error():
    blank = np.full((120, 160, 3), 128, np.uint8)
    assert engine().detect(blank) == []
    assert engine().embed(blank).shape == (0, engine().dim)
    with pytest.raises(facenet.NoFaceError):
        facenet.verify(blank, blank, engine=engine())


def test_align_and_embed_aligned_agree_with_embed():
    path, want = _ref()
    face = engine().detect(path)[0]
    crop = engine().align(path, face)
    s = engine().input_size
    assert crop.shape == (s, s, 3) and crop.dtype == np.uint8
    assert np.array_equal(engine().embed_aligned(crop[None]), want)
    assert np.array_equal(engine().embed_aligned([crop, crop]), np.vstack([want, want]))
    with pytest.raises(facenet.InvalidArgument, match=f"{s}x{s}"):
        engine().embed_aligned(crop[:50, :50])
    # the given face is what is embedded
    assert np.array_equal(engine().embed(path, faces=[face]), want)


def test_embeddings_are_normalised_and_distances_in_range():
    path, want = _ref()
    assert abs(float(np.linalg.norm(want[0])) - 1) < 1e-5
    other = engine().embed(film_photo("Nazriya", 1))[0]
    d = float(facenet.distance(want[0], other))
    assert 0 < d <= 2
    v = facenet.verify(film_photo("Mohanlal", 1), film_photo("Nazriya", 1), engine=engine())
    assert abs(v.distance - d) < 1e-5 and v.threshold == pytest.approx(engine().threshold)


def test_paths_with_nul_are_refused_not_cut():
    """The library gets paths as C strings: 'g.db\\x00x' opened g.db."""
    path = film_photo("Mohanlal", 1)
    with pytest.raises(facenet.InvalidArgument) as e:
        facenet.load_image(path + "\x00.png")
    assert str(e.value) == f"'{path}\\x00.png' contains a NUL character (U+0000): the library would read it only up to there"
    with tempfile.TemporaryDirectory() as d:
        with pytest.raises(facenet.InvalidArgument, match=r"contains a NUL character \(U\+0000\)"):
            facenet.Gallery(os.path.join(d, "g.db\x00x"), engine())
        assert os.listdir(d) == []


def test_boxes_and_faces_must_be_whole():
    """refine((1, 2, 3)) ran O-Net on (1, 2, 3, 0): ctypes pads a short array
    with zeros.  A hand-made Face with such a box raised IndexError."""
    path = film_photo("Mohanlal", 1)
    f = engine().detect(path)[0]
    assert engine().refine(path, list(f.box)).prob > 0.5       # a list, numpy floats: fine
    assert engine().refine(path, np.array(f.box)).prob > 0.5
    for box, shown in [((1, 2, 3), "(1, 2, 3)"), ((1, 2, 3, 4, 5), "(1, 2, 3, 4, 5)"),
                       ((1, 2, float("nan"), 4), "(1, 2, nan, 4)"), ((1, 2, "3", 4), "(1, 2, '3', 4)"),
                       (7, "7")]:
        with pytest.raises(facenet.InvalidArgument) as e:
            engine().refine(path, box)
        assert str(e.value) == f"box {shown}: wants 4 finite numbers: x1, y1, x2, y2 in pixels"
    bad = facenet.Face((1.0, 2.0, 3.0), 0.9, f.landmarks)
    with pytest.raises(facenet.InvalidArgument, match=r"^faces\[1\]\.box \(1\.0, 2\.0, 3\.0\): wants 4 finite"):
        engine().embed(path, faces=[f, bad])
    with pytest.raises(facenet.InvalidArgument, match=r"^face\.box \(1\.0, 2\.0, 3\.0\): wants 4 finite"):
        engine().align(path, bad)
    with pytest.raises(facenet.InvalidArgument, match=r"^faces\[0\]\.landmarks: wants 5 points"):
        engine().embed(path, faces=[facenet.Face(f.box, 0.9, np.zeros((4, 2), np.float32))])
    with pytest.raises(facenet.InvalidArgument, match=r"^faces\[0\]: wants a Face \(from detect or refine\); got tuple"):
        engine().embed(path, faces=[f.box])
