"""facenet.Engine: detection, alignment and embedding over libfacenet's
fn_engine (include/facenet/engine.h)."""
from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

from . import _checks, _lib
from ._image import CImage, ImageLike, to_cimage
from .errors import InvalidArgument, check

DETECTORS = {"mtcnn": _lib.FN_DETECTOR_MTCNN, "haar": _lib.FN_DETECTOR_HAAR}
SELECT = {"prob": _lib.FN_SELECT_PROB, "largest": _lib.FN_SELECT_LARGEST, "center": _lib.FN_SELECT_CENTER}


@dataclass(eq=False)
class Face:
    """One detected face, in pixels of the original image.

    box: (x1, y1, x2, y2) floats; prob: the detector's probability (0..1);
    landmarks: (5, 2) float32 array of x, y for the left eye, right eye,
    nose, left and right mouth corner."""
    box: Tuple[float, float, float, float]
    prob: float
    landmarks: np.ndarray = field(repr=False)

    @classmethod
    def _from_c(cls, f: "_lib.fn_face") -> "Face":
        lm = np.array([[f.landmarks[i][0], f.landmarks[i][1]] for i in range(5)], dtype=np.float32)
        return cls(tuple(float(v) for v in f.box), float(f.prob), lm)

    def _to_c(self, what: str = "face") -> "_lib.fn_face":
        """The fn_face; InvalidArgument (naming what) when this Face was made
        by hand with a box that is not 4 numbers or landmarks not 5 points."""
        f = _lib.fn_face()
        f.box[:] = _checks.box(self.box, f"{what}.box")
        f.prob = self.prob
        lm = np.asarray(self.landmarks, dtype=np.float32)
        if lm.size != 10:
            raise InvalidArgument(f"{what}.landmarks: wants 5 points (x, y); got shape {lm.shape}")
        lm = lm.reshape(5, 2)
        for i in range(5):
            f.landmarks[i][0], f.landmarks[i][1] = float(lm[i, 0]), float(lm[i, 1])
        return f

    def __eq__(self, other) -> bool:
        return (isinstance(other, Face) and self.box == other.box and self.prob == other.prob
                and np.array_equal(self.landmarks, other.landmarks))

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


def _set_omp_threads(n: int) -> None:
    try:
        gomp = ctypes.CDLL("libgomp.so.1")   # already loaded by libfacenet: the same copy
    except OSError:
        return
    gomp.omp_set_num_threads(ctypes.c_int(n))


def default_models_dir() -> str:
    """Where the default model bundle is looked for: $FACENET_MODELS, else
    the checkout's models/ (beside python/), else ./models."""
    env = os.environ.get("FACENET_MODELS")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.path.join(here, "models"), os.path.join(here, "..", "..", "models")):
        if os.path.isdir(cand):
            return os.path.normpath(cand)
    return "models"


class Engine(_lib.Handle):
    """A recognition engine: a face detector, an embedding model and the
    alignment that model was trained with (libfacenet's fn_engine).

    Engine(model="mobilefacenet", detector="mtcnn", threads=None, ...)

    model: "mobilefacenet" (the default bundle in models_dir: 192-d
      embeddings of 112x112 crops) or the path of a facenet-pytorch
      checkpoint (.pt: InceptionResnetV1, 512-d, 160x160 crops).
    detector: "mtcnn" (facenet-pytorch's MTCNN) or "haar" (OpenCV's Haar
      cascade, faster on video; boxes get O-Net's landmarks).
    threads: OpenMP threads the library's kernels use for calls made from
      the calling thread (omp_set_num_threads; OpenMP settings are per
      thread).  For every thread, set OMP_NUM_THREADS before importing
      facenet.  None: leave the OpenMP default (one per core).
    models_dir: the bundle's folder (default: $FACENET_MODELS, else the
      checkout's models/).  min_face: smallest face in pixels (20; 12 to
      10000).  factor: MTCNN's pyramid scale factor (0.709; between 0.1
      and 0.99, both excluded).
    thresholds: MTCNN's P-, R-, O-Net thresholds (0.6, 0.7, 0.7; three
      numbers, each 0 to 1).  threads: 1 to 256.
    embedder_only / detector_only: load one half only.
    video: tune a Haar engine for watching video as `facenet watch` does
      (fn_watch_engine_options: coarser scan at about 640x480, O-Net's boxes,
      no edge retry; smallest face 40 pixels).

    Thread safety: one Engine may be used from several threads at once.  The
    library is called through ctypes.CDLL, which releases the GIL for the
    whole foreign call, so detection and embedding in two Python threads run
    in parallel.  close() waits for the calls other threads have in
    progress; calls after it raise InvalidArgument ("this Engine is closed").

    Errors: FileError / FormatError / ModelError naming the model or cascade
    file that cannot be used; InvalidArgument for an option out of range,
    naming it and its range in the CLI's words (`facenet detect --help`).
    Use as a context manager or call close() to free the models early.
    """

    def __init__(self, model: str = "mobilefacenet", detector: str = "mtcnn", threads: Optional[int] = None,
                 models_dir: Optional[str] = None, mtcnn_dir: Optional[str] = None,
                 min_face: Optional[float] = None, thresholds: Optional[Sequence[float]] = None,
                 factor: Optional[float] = None, edge_retry: bool = True, cascade: Optional[str] = None,
                 haar_reduce: bool = False, embedder_only: bool = False, detector_only: bool = False,
                 video: bool = False):
        self._gate_init()
        self._e = None
        if detector not in DETECTORS:
            raise InvalidArgument(f"detector must be one of {sorted(DETECTORS)}; got {detector!r}")
        # checked here, as the CLI does: out of range they failed at the first
        # detection blaming the photo, or found nothing without a word
        if threads is not None:
            threads = _checks.threads(threads)
        if min_face is not None:
            min_face = _checks.min_face(min_face)
        if thresholds is not None:
            thresholds = _checks.mtcnn_thresholds(thresholds)
        if factor is not None:
            factor = _checks.factor(factor)
        if threads is not None:
            _set_omp_threads(threads)
        o = _lib.fn_options()
        _lib.lib.fn_options_init(ctypes.byref(o))
        # the strings live as long as the engine (fn_options holds pointers)
        self._keep = [_lib.cstr(models_dir or default_models_dir()), _lib.cstr(model),
                      _lib.cstr(mtcnn_dir), _lib.cstr(cascade)]
        o.models_dir, o.model, o.mtcnn_dir, o.cascade = self._keep
        if min_face is not None:
            o.min_face = min_face
        if thresholds is not None:
            for i in range(3):
                o.thresholds[i] = thresholds[i]
        if factor is not None:
            o.factor = factor
        o.edge_retry = 1 if edge_retry else 0
        o.detector = DETECTORS[detector]
        o.haar_reduce = 1 if haar_reduce else 0
        o.embedder_only = 1 if embedder_only else 0
        o.detector_only = 1 if detector_only else 0
        if video:
            _lib.lib.fn_watch_engine_options(ctypes.byref(o))
            if min_face is None:
                o.min_face = 40
        self._opts = o
        e = ctypes.c_void_p()
        check(_lib.lib.fn_engine_new(ctypes.byref(o), ctypes.byref(e)))
        self._e = e
        self.model = model
        self.detector = detector

    _kind = "Engine"

    # ------------------------------------------------------------ properties
    @property
    def handle(self) -> ctypes.c_void_p:
        """The fn_engine pointer: use it inside `with engine._call():` (close()
        waits for the calls in progress before freeing it)."""
        if self._e is None or (self._closed and not self._in_call()):
            raise self._closed_error()
        return self._e

    @property
    def models_dir(self) -> str:
        """The model bundle's folder this engine was made with."""
        return os.fsdecode(self._keep[0])

    @property
    @_lib.in_call
    def dim(self) -> int:
        """Embedding length: 192 (MobileFaceNet), 512 (InceptionResnetV1); 0 when detector_only."""
        return _lib.lib.fn_engine_dim(self.handle)

    @property
    @_lib.in_call
    def input_size(self) -> int:
        """Side in pixels of the aligned crop the model takes (112 or 160)."""
        return _lib.lib.fn_engine_input_size(self.handle)

    @property
    @_lib.in_call
    def model_id(self) -> str:
        """Identity of the weights and preprocessing; galleries are keyed by it."""
        return _lib.pystr(_lib.lib.fn_engine_model_id(self.handle))

    @property
    @_lib.in_call
    def threshold(self) -> float:
        """The model's default decision threshold on the Euclidean distance of
        L2-normalised embeddings (0..2; same person when distance <= it),
        chosen on LFW DevTrain."""
        return float(_lib.lib.fn_engine_threshold(self.handle))

    # ----------------------------------------------------------------- calls
    @_lib.in_call
    def detect(self, image: ImageLike, bgr: bool = False, max_faces: int = _lib.FN_FACES_MAX) -> List[Face]:
        """Faces in image, most probable first (at most max_faces).

        image: a path, encoded bytes, an HxWx3 uint8 array (RGB; bgr=True
        for OpenCV's BGR) or a PIL image.  MTCNN keeps faces whose O-Net
        probability passes its threshold; Haar keeps every cascade box with
        O-Net's probability unthresholded (filter on Face.prob).
        Errors: FileError / FormatError / UnsupportedError naming an
        unreadable file, InvalidArgument for an unusable array."""
        with to_cimage(image, bgr) as c:
            return self._detect(c, max_faces)[0]

    @_lib.in_call
    def _detect(self, c: CImage, max_faces: int = _lib.FN_FACES_MAX):
        buf = (_lib.fn_face * max(1, max_faces))()
        n = ctypes.c_int()
        check(_lib.lib.fn_detect(self.handle, ctypes.byref(c.img), buf, max_faces, ctypes.byref(n)),
              c.path)
        k = min(n.value, max_faces)
        return [Face._from_c(buf[i]) for i in range(k)], buf, k

    @_lib.in_call
    def embed(self, image: ImageLike, faces: Optional[Sequence[Face]] = None, bgr: bool = False) -> np.ndarray:
        """Embeddings of the faces of image: a float32 array (n, dim), each row
        L2-normalised (distances between rows are Euclidean, 0..2).

        faces: the faces to embed (from detect); None detects them first and
        embeds every face found, most probable first (n may be 0).  Each face
        is aligned as the model expects (MobileFaceNet: 5-point warp;
        InceptionResnetV1: facenet-pytorch's crop).  Bit-identical to
        `facenet embed --json` on the same file."""
        with to_cimage(image, bgr) as c:
            return self._embed(c, faces)[1]

    @_lib.in_call
    def _embed(self, c: CImage, faces: Optional[Sequence[Face]] = None):
        if faces is None:
            found, buf, n = self._detect(c)
        else:
            found = list(faces)
            n = len(found)
            for i, f in enumerate(found):
                if not isinstance(f, Face):
                    raise InvalidArgument(f"faces[{i}]: wants a Face (from detect or refine); got {type(f).__name__}")
            buf = (_lib.fn_face * max(1, n))(*[f._to_c(f"faces[{i}]") for i, f in enumerate(found)])
        emb = np.empty((n, self.dim), dtype=np.float32)
        if n:
            check(_lib.lib.fn_embed_faces(self.handle, ctypes.byref(c.img), buf, n,
                                          emb.ctypes.data_as(ctypes.POINTER(ctypes.c_float))), c.path)
        return found, emb

    @_lib.in_call
    def embed_aligned(self, crops) -> np.ndarray:
        """Embeddings of faces that are already aligned crops: crops is an
        array (n, s, s, 3) uint8 or a sequence of (s, s, 3) images (any
        accepted image type), s = input_size.  Returns float32 (n, dim),
        L2-normalised.  InvalidArgument when a crop is not s x s."""
        if isinstance(crops, np.ndarray) and crops.ndim == 3:
            crops = crops[None]
        cims = [to_cimage(x) for x in crops]
        s = self.input_size
        for i, ci in enumerate(cims):
            if ci.img.w != s or ci.img.h != s:
                raise InvalidArgument(f"crop {i} is {ci.img.w}x{ci.img.h}; the model takes aligned {s}x{s} crops")
        n = len(cims)
        arr = (_lib.fn_image * max(1, n))(*[ci.img for ci in cims])
        emb = np.empty((n, self.dim), dtype=np.float32)
        if n:
            check(_lib.lib.fn_embed_aligned(self.handle, arr, n, emb.ctypes.data_as(ctypes.POINTER(ctypes.c_float))))
        for ci in cims:
            ci.close()
        return emb

    @_lib.in_call
    def align(self, image: ImageLike, face: Face, bgr: bool = False) -> np.ndarray:
        """The aligned crop the model is fed for face: (s, s, 3) uint8 RGB,
        s = input_size."""
        with to_cimage(image, bgr) as c:
            out = CImage()
            out._owned = True
            if not isinstance(face, Face):
                raise InvalidArgument(f"face: wants a Face (from detect or refine); got {type(face).__name__}")
            f = face._to_c()
            check(_lib.lib.fn_align_face(self.handle, ctypes.byref(c.img), ctypes.byref(f), ctypes.byref(out.img)))
            a = out.to_numpy()
            out.close()
            return a

    @_lib.in_call
    def refine(self, image: ImageLike, box: Sequence[float], bgr: bool = False) -> Face:
        """O-Net alone on a box found elsewhere (x1, y1, x2, y2 in pixels): the
        Face with O-Net's probability, refined box and 5 landmarks, ready to
        align and embed.  No threshold is applied.  InvalidArgument when the
        box is not 4 finite numbers or does not overlap the image."""
        b = (ctypes.c_float * 4)(*_checks.box(box))
        with to_cimage(image, bgr) as c:
            f = _lib.fn_face()
            check(_lib.lib.fn_refine_face(self.handle, ctypes.byref(c.img), b, ctypes.byref(f)))
            return Face._from_c(f)

    @_lib.in_call
    def embedding(self, image: ImageLike, select: str = "prob", bgr: bool = False) -> Optional[np.ndarray]:
        """The embedding (dim,) of one chosen face of image, or None when
        there is none.  select: "prob" (most probable), "largest", or
        "center" (FaceNet's LFW choice)."""
        if select not in SELECT:
            raise InvalidArgument(f"select must be one of {sorted(SELECT)}; got {select!r}")
        with to_cimage(image, bgr) as c:
            found, buf, n = self._detect(c)
            if n == 0:
                return None
            k = _lib.lib.fn_select_face(buf, n, SELECT[select], c.img.w, c.img.h)
            return self._embed(c, [found[k]])[1][0]

    def close(self) -> None:
        """Free the models (the Engine is unusable afterwards: every call
        raises InvalidArgument "this Engine is closed").  Waits for the calls
        other threads have in progress; closing twice does nothing."""
        if self._close_begin() and self._e is not None:
            _lib.lib.fn_engine_free(self._e)
            self._e = None

    def __repr__(self):
        try:
            return f"<facenet.Engine model={self.model!r} detector={self.detector!r} dim={self.dim}>"
        except InvalidArgument:
            return "<facenet.Engine closed>"


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance between L2-normalised embeddings (0..2; 0 = the same
    vector): a (d,) or (n, d) against b (d,) or (n, d), broadcast."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    return np.sqrt(np.sum((a - b) ** 2, axis=-1))
