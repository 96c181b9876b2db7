"""facenet: face recognition (detect -> align -> embed -> match) in Python,
over the libfacenet C library (ctypes; no compiler needed).

    import facenet
    engine = facenet.Engine()                       # MobileFaceNet + MTCNN
    with facenet.Gallery("film.db", engine) as g:
        g.enroll("Film/Test")                       # a folder per person
        for m in g.identify("photo.jpg"):
            print(m.name or "unknown", round(m.distance, 3), m.face.box)

Images are accepted as a path, encoded bytes, a numpy HxWx3 uint8 array
(RGB; bgr=True for OpenCV's order; HxW or HxWx1: gray) or a PIL image.  Embeddings are float32
numpy arrays (n, dim), L2-normalised; distances are Euclidean on them
(0..2).  Errors raise facenet.FacenetError subclasses carrying the
library's sentence.  The GIL is released during every library call, and
Engine and Gallery may be shared by threads: close() waits for the calls in
progress, and any call after it raises InvalidArgument ("this Engine is
closed").  Values are checked before they reach the library, with the CLI's
ranges and words (thresholds in (0, 2], Engine's options, names, shapes).
"""
from ._image import annotate, load_image, save_image
from ._lib import LIB_PATH
from .engine import Engine, Face, distance
from .errors import (FacenetError, FileError, FormatError, GalleryError, InternalError, InvalidArgument,
                     LimitError, MismatchError, ModelError, NoFaceError, NotFound, OutOfMemory,
                     Unavailable, UnsupportedError)
from .evaluation import Evaluation, Verification, default_engine, eval_pairs, evaluate, verify
from .gallery import Calibration, EnrollReport, Gallery, Match, Person, list_images, normalize_name
from .video import Event, watch

__version__ = "0.3.0"

__all__ = ["Engine", "Face", "Gallery", "Match", "Person", "EnrollReport", "Calibration", "Verification",
           "Evaluation", "Event", "watch", "verify", "evaluate", "eval_pairs", "distance", "annotate", "load_image", "save_image",
           "list_images", "normalize_name", "default_engine", "LIB_PATH",
           "FacenetError", "InvalidArgument", "FileError", "FormatError", "UnsupportedError", "LimitError",
           "OutOfMemory", "ModelError", "GalleryError", "MismatchError", "NotFound", "InternalError",
           "Unavailable", "NoFaceError"]
