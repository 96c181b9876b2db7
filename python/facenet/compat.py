"""face_recognition's call shapes over facenet, so that an existing
face_recognition script runs by changing its import:

    import facenet.compat as face_recognition

    image = face_recognition.load_image_file("photo.jpg")
    locations = face_recognition.face_locations(image)        # [(top, right, bottom, left)]
    encodings = face_recognition.face_encodings(image, locations)
    matches = face_recognition.compare_faces(known, encodings[0])

What differs, and why:
- The embeddings are facenet's (MobileFaceNet, 192 floats, L2-normalised;
  or a facenet-pytorch model's 512), not dlib's 128: encodings made by
  face_recognition cannot be mixed with these.
- face_distance is the Euclidean distance as in face_recognition, but on
  unit vectors it runs 0..2, so the tolerance differs: TOLERANCE is the
  model's own threshold (fn_engine_threshold, chosen on LFW DevTrain: 1.09
  for MobileFaceNet), and compare_faces uses it unless given another.  A
  script that passes face_recognition's tolerance=0.6 explicitly would
  reject most true matches; a warning says so.
- Detection is MTCNN (or Haar with set_engine(Engine(detector="haar"))),
  whatever `model="hog"/"cnn"` says; number_of_times_to_upsample is
  ignored (MTCNN finds faces down to 20 pixels; see Engine(min_face=...)).
- face_landmarks gives facenet's 5 points (eyes, nose, mouth corners), not
  dlib's 68.
"""
from __future__ import annotations

import warnings
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

from . import _checks, evaluation
from ._image import load_image
from .engine import Engine, Face
from .errors import InvalidArgument

_engine: Optional[Engine] = None

Location = Tuple[int, int, int, int]


def set_engine(engine: Engine) -> None:
    """Use this Engine for every call here (default: facenet.default_engine())."""
    global _engine
    _engine = engine


def _e() -> Engine:
    return _engine or evaluation.default_engine()


def tolerance() -> float:
    """The default tolerance of compare_faces: the model's threshold on the
    Euclidean distance of L2-normalised embeddings (1.09 for MobileFaceNet)."""
    return _e().threshold


def __getattr__(name):   # TOLERANCE, computed from the engine in use when first asked
    if name == "TOLERANCE":
        return tolerance()
    raise AttributeError(name)


def load_image_file(file, mode: str = "RGB") -> np.ndarray:
    """An image file as an HxWx3 uint8 RGB array (mode "L": HxW gray)."""
    a = load_image(file)
    if mode == "L":
        return (a @ np.array([0.299, 0.587, 0.114])).round().astype(np.uint8)
    if mode != "RGB":
        raise ValueError(f"mode must be 'RGB' or 'L'; got {mode!r}")
    return a


def _location(f: Face, w: int, h: int) -> Location:
    x1, y1, x2, y2 = f.box
    return (max(int(round(y1)), 0), min(int(round(x2)), w), min(int(round(y2)), h), max(int(round(x1)), 0))


def _faces(img) -> Tuple[List[Face], int, int]:
    a = img if isinstance(img, np.ndarray) else load_image(img)
    return _e().detect(a), a.shape[1], a.shape[0]


def face_locations(img, number_of_times_to_upsample: int = 1, model: str = "hog") -> List[Location]:
    """Face boxes as (top, right, bottom, left) integer pixels, most probable
    face first (face_recognition's order of fields; MTCNN's detections)."""
    faces, w, h = _faces(img)
    return [_location(f, w, h) for f in faces]


def batch_face_locations(images: Sequence[np.ndarray], number_of_times_to_upsample: int = 1,
                         batch_size: int = 128) -> List[List[Location]]:
    return [face_locations(i) for i in images]


def face_landmarks(face_image, face_locations: Optional[Sequence[Location]] = None, model: str = "large"):
    """facenet's 5 landmarks per face as dicts {"left_eye": [(x, y)],
    "right_eye", "nose_tip", "left_mouth", "right_mouth"} (not dlib's 68)."""
    faces = _chosen(face_image, face_locations)[0]
    keys = ["left_eye", "right_eye", "nose_tip", "left_mouth", "right_mouth"]
    return [{k: [(int(round(f.landmarks[i, 0])), int(round(f.landmarks[i, 1])))] for i, k in enumerate(keys)}
            for f in faces]


def _chosen(img, locations):
    a = img if isinstance(img, np.ndarray) else load_image(img)
    faces = _e().detect(a)
    if locations is None:
        return faces, a
    h, w = a.shape[:2]
    by_loc = {_location(f, w, h): f for f in faces}
    out = []
    for loc in locations:
        f = by_loc.get(tuple(int(v) for v in loc))
        if f is None:   # a box found elsewhere: O-Net gives it landmarks
            top, right, bottom, left = loc
            f = _e().refine(a, (left, top, right, bottom))
        out.append(f)
    return out, a


def face_encodings(face_image, known_face_locations: Optional[Sequence[Location]] = None, num_jitters: int = 1,
                   model: str = "small") -> List[np.ndarray]:
    """One embedding (float32 (dim,), L2-normalised) per face: the faces at
    known_face_locations ((top, right, bottom, left), e.g. from
    face_locations), else every face found.  num_jitters is ignored (the
    embedding is deterministic)."""
    faces, a = _chosen(face_image, known_face_locations)
    if not faces:
        return []
    return list(_e().embed(a, faces=faces))


def face_distance(face_encodings: Iterable[np.ndarray], face_to_compare: np.ndarray) -> np.ndarray:
    """Euclidean distance of each encoding to face_to_compare (0..2 on these
    unit vectors; compare with tolerance(), not face_recognition's 0.6).
    InvalidArgument when the encodings are not all of one length: dlib's
    128-d encodings (from face_recognition) cannot be mixed with these."""
    try:
        enc = np.asarray(list(face_encodings) if not isinstance(face_encodings, np.ndarray) else face_encodings,
                         dtype=np.float32)
    except ValueError:   # rows of different lengths
        lengths = sorted({np.size(e) for e in face_encodings})
        raise InvalidArgument(_mixed(lengths)) from None
    if enc.size == 0:
        return np.empty((0,))
    x = np.asarray(face_to_compare, dtype=np.float32)
    if x.ndim == 2 and x.shape[0] == 1:
        x = x[0]
    if enc.ndim != 2 or x.ndim != 1:
        raise InvalidArgument(f"face_distance wants a list of encodings and one encoding; got shapes {enc.shape} "
                              f"and {x.shape}")
    if enc.shape[1] != x.shape[0]:
        raise InvalidArgument(_mixed(sorted({enc.shape[1], x.shape[0]})))
    return np.linalg.norm(enc - x, axis=1)


def _mixed(lengths) -> str:
    dim = _e().dim
    dlib = [n for n in lengths if n == 128 and n != dim]
    if dlib:
        return (f"128-d encodings (dlib's, from face_recognition) cannot be mixed with this model's {dim}-d ones: "
                "encode those faces again with facenet.compat.face_encodings")
    return (f"encodings of {' and '.join(str(n) for n in lengths)} numbers cannot be compared: this model's have {dim}")


def compare_faces(known_face_encodings, face_encoding_to_check, tolerance: Optional[float] = None) -> List[bool]:
    """For each known encoding: distance <= tolerance.  tolerance None: the
    model's threshold (TOLERANCE, 1.09 for MobileFaceNet); else a distance
    in (0, 2] (InvalidArgument otherwise, as facenet's thresholds)."""
    tolerance = _checks.threshold(tolerance, "tolerance")
    if tolerance is None:
        tolerance = globals()["tolerance"]()
    elif tolerance == 0.6:
        warnings.warn("tolerance=0.6 is face_recognition's value for dlib's encodings; facenet's embeddings "
                      f"are unit vectors whose threshold is {globals()['tolerance']():.2f} (facenet.compat.TOLERANCE)",
                      stacklevel=2)
    return list(face_distance(known_face_encodings, face_encoding_to_check) <= tolerance)
