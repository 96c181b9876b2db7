"""facenet.compat keeps face_recognition's call shapes and gives facenet's
own numbers."""
import warnings

import numpy as np

from support import engine, film_photo

import facenet
import facenet.compat as fr


def test_face_recognition_calls():
    fr.set_engine(engine())
    img = fr.load_image_file(film_photo("Mohanlal", 1))
    assert img.dtype == np.uint8 and img.ndim == 3
    locs = fr.face_locations(img)
    faces = engine().detect(img)
    assert len(locs) == len(faces) >= 1
    top, right, bottom, left = locs[0]
    x1, y1, x2, y2 = faces[0].box
    assert (top, right, bottom, left) == (round(y1), round(x2), round(y2), round(x1))
    enc = fr.face_encodings(img, locs)
    assert np.array_equal(np.array(enc), engine().embed(img))   # the detector's own faces
    assert np.array_equal(fr.face_encodings(img)[0], enc[0])
    other = fr.face_encodings(fr.load_image_file(film_photo("Nazriya", 1)))[0]
    same = fr.face_encodings(fr.load_image_file(film_photo("Mohanlal", 2)))[0]
    d = fr.face_distance([enc[0], other], same)
    assert d.shape == (2,) and d[0] < d[1]
    assert abs(d[0] - float(facenet.distance(enc[0], same))) < 1e-6
    assert fr.TOLERANCE == engine().threshold
    assert fr.compare_faces([enc[0], other], same) == [bool(d[0] <= fr.TOLERANCE), bool(d[1] <= fr.TOLERANCE)]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fr.compare_faces([enc[0]], same, tolerance=0.6)
    assert any("dlib" in str(x.message) for x in w)
    lm = fr.face_landmarks(img)
    assert set(lm[0]) == {"left_eye", "right_eye", "nose_tip", "left_mouth", "right_mouth"}


def test_locations_from_elsewhere_get_landmarks():
    fr.set_engine(engine())
    img = fr.load_image_file(film_photo("Mohanlal", 1))
    top, right, bottom, left = fr.face_locations(img)[0]
    moved = (top + 3, right + 2, bottom - 1, left - 2)    # a box another detector found
    enc = fr.face_encodings(img, [moved])[0]
    assert enc.shape == (engine().dim,)
    assert float(facenet.distance(enc, fr.face_encodings(img)[0])) < 0.5


def test_dlib_encodings_are_not_mixed_with_these():
    import pytest
    fr.set_engine(engine())
    enc = fr.face_encodings(fr.load_image_file(film_photo("Mohanlal", 1)))[0]
    msg = (r"^128-d encodings \(dlib's, from face_recognition\) cannot be mixed with this model's 192-d ones: "
           r"encode those faces again with facenet.compat.face_encodings$")
    with pytest.raises(facenet.InvalidArgument, match=msg):
        fr.compare_faces([np.zeros(128)], enc)
    with pytest.raises(facenet.InvalidArgument, match=msg):
        fr.face_distance([enc], np.zeros(128))
    with pytest.raises(facenet.InvalidArgument, match=msg):
        fr.face_distance([enc, np.zeros(128)], enc)        # a list mixing both
    with pytest.raises(facenet.InvalidArgument, match=r"^encodings of 100 and 192 numbers cannot be compared"):
        fr.face_distance([np.zeros(100)], enc)
    assert fr.face_distance([enc], enc[None]).tolist() == [0.0]   # (1, dim): one encoding still
    assert fr.face_distance([], enc).shape == (0,)
