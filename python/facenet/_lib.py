"""ctypes bindings of libfacenet's public API (include/facenet/*.h).

Only what the Python package uses is declared.  The structs below mirror the
C declarations field for field; tests/test_abi.py compiles a C program that
prints every size and offset and compares them with these.

The library is loaded with ctypes.CDLL, so every foreign call releases the
GIL for its duration: detection and embedding on one Engine from several
Python threads run in parallel (the C engine is thread-safe).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import threading
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_float, c_int, c_int64,
                    c_size_t, c_ubyte, c_uint8, c_void_p)

FN_GALLERY_NAME_MAX = 128
FN_FACES_MAX = 256
FN_CALIB_DEFAULT_FAR = 1e-3
FN_KFOLD_MAX = 64

# fn_status
FN_OK = 0
STATUS_NAMES = ["FN_OK", "FN_ERR_ARG", "FN_ERR_IO", "FN_ERR_FORMAT", "FN_ERR_UNSUPPORTED", "FN_ERR_LIMIT",
                "FN_ERR_NOMEM", "FN_ERR_MODEL", "FN_ERR_DB", "FN_ERR_MISMATCH", "FN_ERR_NOT_FOUND",
                "FN_ERR_INTERNAL", "FN_ERR_UNAVAILABLE"]

FN_DETECTOR_MTCNN, FN_DETECTOR_HAAR = 0, 1
FN_SELECT_PROB, FN_SELECT_LARGEST, FN_SELECT_CENTER = 0, 1, 2
FN_GALLERY_CREATE, FN_GALLERY_READONLY, FN_GALLERY_CHECK = 1, 2, 4
FN_GALLERY_ADDED, FN_GALLERY_SKIPPED_DUPLICATE, FN_GALLERY_REFUSED_OTHER_PERSON = 1, 2, 3
FN_GALLERY_ADD_ALLOW_OTHER_PERSON = 1
FN_GALLERY_ALLOW_REPEATS = 1
FN_DIST_EUCLIDEAN = 0
FN_MISS_SKIP, FN_MISS_CENTER_CROP = 0, 1
FN_THRESHOLD_SOURCES = ["explicit", "gallery (calibrated)", "model default"]


class fn_image(Structure):
    _fields_ = [("w", c_int), ("h", c_int), ("c", c_int), ("data", POINTER(c_uint8))]


class fn_image_notes(Structure):
    _fields_ = [("orientation", c_int), ("warning", c_char * 512)]


class fn_face(Structure):
    _fields_ = [("box", c_float * 4), ("prob", c_float), ("landmarks", (c_float * 2) * 5)]


class fn_options(Structure):
    _fields_ = [("models_dir", c_char_p), ("model", c_char_p), ("mtcnn_dir", c_char_p),
                ("min_face", c_float), ("thresholds", c_float * 3), ("factor", c_float),
                ("edge_retry", c_int), ("detector", c_int), ("cascade", c_char_p),
                ("haar_scale", c_double), ("haar_min_neighbors", c_int), ("haar_reduce", c_int),
                ("haar_refined_box", c_int), ("detector_only", c_int), ("embedder_only", c_int)]


class fn_gallery_model(Structure):
    _fields_ = [("model_id", c_char_p), ("dim", c_int), ("preprocess_id", c_char_p)]


class fn_gallery_face(Structure):
    _fields_ = [("person", c_char_p), ("image_path", c_char_p), ("hash_hex", c_char_p),
                ("box", c_float * 4), ("prob", c_float), ("embedding", POINTER(c_float))]


class fn_gallery_add_info(Structure):
    _fields_ = [("result", c_int), ("image_id", c_int64), ("person", c_char * FN_GALLERY_NAME_MAX),
                ("name_changed", c_int), ("other_person", c_char * FN_GALLERY_NAME_MAX),
                ("other_image_id", c_int64)]


class fn_gallery_person(Structure):
    _fields_ = [("id", c_int64), ("name", c_char_p), ("n_images", c_int64)]


class fn_gallery_hit(Structure):
    _fields_ = [("image_id", c_int64), ("person_id", c_int64), ("distance", c_float)]


class fn_gallery_match(Structure):
    _fields_ = [("best", fn_gallery_hit), ("second", fn_gallery_hit),
                ("best_name", c_char * FN_GALLERY_NAME_MAX), ("second_name", c_char * FN_GALLERY_NAME_MAX)]


class fn_gallery_naming(Structure):
    _fields_ = [("nearest", fn_gallery_match), ("named", fn_gallery_hit),
                ("name", c_char * FN_GALLERY_NAME_MAX), ("displaced", c_int)]


class fn_op(Structure):
    _fields_ = [("index", c_size_t), ("thr", c_double), ("tar", c_double), ("far", c_double), ("acc", c_double)]


class fn_eer(Structure):
    _fields_ = [("eer", c_double), ("thr", c_double)]


class fn_trust(Structure):
    _fields_ = [("reliable", c_int), ("need_impostor", c_size_t), ("need_genuine", c_size_t),
                ("have_impostor", c_size_t), ("have_genuine", c_size_t), ("far_upper95", c_double),
                ("why", c_char * 320)]


class fn_calib(Structure):
    _fields_ = [("genuine", POINTER(c_double)), ("impostor", POINTER(c_double)),
                ("n_genuine", c_size_t), ("n_impostor", c_size_t), ("n_same_face", c_size_t),
                ("target_far", c_double), ("op", fn_op), ("ta", c_size_t), ("fa", c_size_t),
                ("far_floor", c_double), ("below_floor", c_int), ("eer", fn_eer), ("trust", fn_trust),
                ("n_embeddings", c_size_t), ("n_people", c_size_t)]


class fn_roc(Structure):
    _fields_ = [("n", c_size_t), ("thr", POINTER(c_double)), ("tar", POINTER(c_double)),
                ("far", POINTER(c_double)), ("ta", POINTER(c_size_t)), ("fa", POINTER(c_size_t)),
                ("n_genuine", c_size_t), ("n_impostor", c_size_t)]


class fn_kfold(Structure):
    _fields_ = [("k", c_int), ("thr", c_double * FN_KFOLD_MAX), ("acc", c_double * FN_KFOLD_MAX),
                ("far_target", c_double), ("val_thr", c_double * FN_KFOLD_MAX),
                ("val", c_double * FN_KFOLD_MAX), ("val_far", c_double * FN_KFOLD_MAX),
                ("acc_mean", c_double), ("acc_std", c_double), ("val_mean", c_double),
                ("val_std", c_double), ("far_mean", c_double)]


class fn_pair(Structure):
    _fields_ = [("path1", c_char_p), ("path2", c_char_p), ("same", c_int), ("fold", c_int)]


class fn_pairs(Structure):
    _fields_ = [("items", POINTER(fn_pair)), ("n", c_size_t), ("view", c_int), ("nfolds", c_int),
                ("per_set", c_size_t), ("text", c_void_p)]


class fn_embedder(Structure):
    _fields_ = [("e", c_void_p), ("cache", c_void_p), ("select", c_int), ("flip", c_int), ("miss", c_int),
                ("dim", c_int), ("key_plain", c_char * 512), ("key_flip", c_char * 520),
                ("faces", fn_face * 64), ("crops", fn_image * 2), ("hits", c_int), ("computed", c_int),
                ("workers", c_int), ("store_errors", c_int), ("store_error", c_char * 512)]


class fn_embed_result(Structure):
    _fields_ = [("has_face", c_int), ("has_emb", c_int), ("face", fn_face), ("hash", c_char * 65)]


class fn_paths(Structure):
    _fields_ = [("items", POINTER(c_char_p)), ("n", c_int), ("cap", c_int)]


class fn_eval_probe(Structure):
    _fields_ = [("file", c_char_p), ("person", c_char_p), ("kind", c_int), ("has_face", c_int),
                ("correct", c_int), ("accepted", c_int), ("match", fn_gallery_match), ("error", c_char_p)]


class fn_eval_person(Structure):
    _fields_ = [("name", c_char_p), ("gallery_images", c_int), ("enrolled", c_int),
                ("probes", c_int), ("correct", c_int)]


class fn_openset(Structure):
    _fields_ = [("thr", c_double), ("n_known", c_size_t), ("n_unknown", c_size_t), ("correct", c_size_t),
                ("misidentified", c_size_t), ("false_negative", c_size_t), ("false_alarm", c_size_t),
                ("fir", c_double), ("fnr", c_double), ("fpir", c_double), ("misid_rate", c_double)]


fn_eval_progress = CFUNCTYPE(None, c_void_p, c_char_p, c_int, c_int, c_char_p)


class fn_folder_eval_params(Structure):
    _fields_ = [("gallery_dir", c_char_p), ("probe_dir", c_char_p), ("unknown_dir", c_char_p),
                ("threshold", c_float), ("work_dir", c_char_p), ("progress", fn_eval_progress),
                ("progress_ctx", c_void_p)]


class fn_folder_eval(Structure):
    _fields_ = [("people", POINTER(fn_eval_person)), ("n_people", c_int), ("enrolled_people", c_int),
                ("gallery_images", c_int), ("enrolled_images", c_int),
                ("enrol_no_face", POINTER(c_char_p)), ("n_enrol_no_face", c_int),
                ("enrol_unreadable", fn_paths), ("enrol_unreadable_error", fn_paths),
                ("skipped", fn_paths), ("loose", fn_paths),
                ("probes", POINTER(fn_eval_probe)), ("n_probes", c_int),
                ("n_enrolled_probes", c_int), ("n_correct", c_int), ("n_enrolled_with_face", c_int),
                ("n_absent_probes", c_int), ("n_unknown_probes", c_int), ("n_no_face", c_int),
                ("n_unreadable", c_int), ("threshold", c_float), ("threshold_source", c_int),
                ("have_openset", c_int), ("at", fn_openset), ("balanced", fn_openset),
                ("dist", POINTER(c_double)), ("same", POINTER(c_ubyte)), ("n_dist", c_size_t)]


class fn_video_info(Structure):
    _fields_ = [("w", c_int), ("h", c_int), ("fps", c_double), ("live", c_int), ("orientation", c_int)]


class fn_track_event(Structure):
    _fields_ = [("kind", c_int), ("track", c_int), ("t", c_double), ("box", c_float * 4),
                ("identified", c_int), ("known", c_int), ("name", c_char * FN_GALLERY_NAME_MAX),
                ("distance", c_float)]


class fn_watch_params(Structure):
    _fields_ = [("every", c_int), ("threshold", c_float), ("min_prob", c_float), ("min_face", c_int),
                ("max_gone", c_double), ("allow_repeats", c_int), ("detect_scale", c_int), ("haar_every", c_int)]


# Every struct above and its C name, for the ABI test.
STRUCTS = {name: cls for name, cls in list(globals().items())
           if isinstance(cls, type) and issubclass(cls, Structure) and name.startswith("fn_")}

gallery_list_cb = CFUNCTYPE(c_int, c_void_p, POINTER(fn_gallery_person))


def _candidates():
    """Where libfacenet.so is looked for, in order (see find_library)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.join(here, "libfacenet.so"),
            # a checkout: python/facenet/ -> build/opt/libfacenet.so
            os.path.normpath(os.path.join(here, "..", "..", "build", "opt", "libfacenet.so")),
            "libfacenet.so.1"]   # the system's (make install), by the dynamic loader's search


def find_library():
    """The path of the libfacenet.so this package uses, and the loaded
    library: $FACENET_LIB when set (and only it: an explicit choice that
    fails is an error, not a fallback), else libfacenet.so beside the
    package (an installed copy), else the checkout's build/opt/libfacenet.so,
    else the system's libfacenet.so.1."""
    env = os.environ.get("FACENET_LIB")
    if env:
        try:
            return env, ctypes.CDLL(env)
        except OSError as e:
            raise ImportError(f"facenet: FACENET_LIB={env} cannot be loaded: {e}") from None
    tried = []
    for p in _candidates():
        if os.path.sep in p and not os.path.exists(p):
            tried.append(p + " (missing)")
            continue
        try:
            return p, ctypes.CDLL(p)
        except OSError as e:
            tried.append(f"{p} ({e})")
    raise ImportError("facenet: libfacenet.so not found; build it with `make` in the checkout or set "
                      "FACENET_LIB to its path.  Tried: " + "; ".join(tried))


def _passive_omp():
    """OpenMP workers that spin while they wait (libgomp's default) take the
    cores other processes need: on a shared 2-core machine identify through
    Python ran 2-4x slower than with passive waiting (bench/python.sh).  The
    `facenet` command sets OMP_WAIT_POLICY=passive before libgomp starts; do
    the same here, before loading libfacenet.so (libgomp reads it once, when
    it is loaded).  A policy the user set is kept; if libgomp is already
    loaded (torch, or another OpenMP user imported first) it is too late,
    and facenet works with either policy."""
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return
    try:
        with open("/proc/self/maps") as f:
            if "libgomp" in f.read():
                return
    except OSError:
        pass
    os.environ["OMP_WAIT_POLICY"] = "passive"


_passive_omp()
LIB_PATH, lib = find_library()


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


P = POINTER
# core
_fn("fn_last_error", c_char_p)
_fn("fn_status_name", c_char_p, c_int)
_fn("fn_sha256_hex", None, c_void_p, c_size_t, c_char * 65)
_fn("fn_hash_file", c_int, c_char_p, c_char * 65)
# image
_fn("fn_image_load_ex", c_int, c_char_p, c_void_p, P(fn_image), P(fn_image_notes))
_fn("fn_image_decode_ex", c_int, c_void_p, c_size_t, c_char_p, c_void_p, P(fn_image), P(fn_image_notes))
_fn("fn_image_free", None, P(fn_image))
_fn("fn_image_save_png", c_int, c_char_p, P(fn_image))
_fn("fn_image_save_jpeg", c_int, c_char_p, P(fn_image), c_int)
_fn("fn_image_draw_face", None, P(fn_image), P(fn_face), c_char_p, c_int)
# engine
_fn("fn_options_init", None, P(fn_options))
_fn("fn_engine_new", c_int, P(fn_options), P(c_void_p))
_fn("fn_engine_free", None, c_void_p)
_fn("fn_engine_dim", c_int, c_void_p)
_fn("fn_engine_input_size", c_int, c_void_p)
_fn("fn_engine_model_id", c_char_p, c_void_p)
_fn("fn_engine_preprocess_id", c_char_p, c_void_p)
_fn("fn_engine_threshold", c_float, c_void_p)
_fn("fn_engine_detector", c_int, c_void_p)
_fn("fn_select_face", c_int, P(fn_face), c_int, c_int, c_int, c_int)
_fn("fn_detect", c_int, c_void_p, P(fn_image), P(fn_face), c_int, P(c_int))
_fn("fn_refine_face", c_int, c_void_p, P(fn_image), P(c_float), P(fn_face))
_fn("fn_embed_faces", c_int, c_void_p, P(fn_image), P(fn_face), c_int, P(c_float))
_fn("fn_embed_aligned", c_int, c_void_p, P(fn_image), c_int, P(c_float))
_fn("fn_align_face", c_int, c_void_p, P(fn_image), P(fn_face), P(fn_image))
_fn("fn_distance", c_float, P(c_float), P(c_float), c_int)
# gallery
_fn("fn_gallery_normalize_name", c_int, c_char_p, c_char_p, c_size_t, P(c_int))
_fn("fn_gallery_open", c_int, c_char_p, P(fn_gallery_model), c_int, P(c_void_p))
_fn("fn_gallery_close", None, c_void_p)
_fn("fn_gallery_model_of", fn_gallery_model, c_void_p)
_fn("fn_gallery_model_of_engine", fn_gallery_model, c_void_p)
_fn("fn_gallery_begin", c_int, c_void_p)
_fn("fn_gallery_commit", c_int, c_void_p)
_fn("fn_gallery_rollback", c_int, c_void_p)
_fn("fn_gallery_add_ex", c_int, c_void_p, P(fn_gallery_face), c_int, P(fn_gallery_add_info))
_fn("fn_gallery_has_image", c_int, c_void_p, c_char_p, c_char_p, P(c_int))
_fn("fn_gallery_remove_person", c_int, c_void_p, c_char_p, P(c_int64))
_fn("fn_gallery_rename_person", c_int, c_void_p, c_char_p, c_char_p)
_fn("fn_gallery_list", c_int, c_void_p, gallery_list_cb, c_void_p)
_fn("fn_gallery_count", c_int, c_void_p, P(c_int64), P(c_int64))
_fn("fn_gallery_get_threshold", c_int, c_void_p, P(c_float))
_fn("fn_gallery_set_threshold", c_int, c_void_p, c_float)
_fn("fn_gallery_scratch_new", c_int, c_void_p, c_int, P(c_void_p))
_fn("fn_gallery_scratch_free", None, c_void_p)
_fn("fn_gallery_name_faces", c_int, c_void_p, c_void_p, P(c_float), c_int, c_float, c_int, P(fn_gallery_naming))
_fn("fn_decision_threshold", c_float, c_void_p, c_void_p, c_float, P(c_int))
# eval
_fn("fn_calib_from_gallery", c_int, c_void_p, c_int, c_double, P(fn_calib))
_fn("fn_calib_free", None, P(fn_calib))
_fn("fn_list_images", c_int, c_char_p, P(fn_paths), P(fn_paths))
_fn("fn_paths_free", None, P(fn_paths))
_fn("fn_embedder_init", c_int, P(fn_embedder), c_void_p, P(fn_options), c_int, c_int, c_int, c_char_p)
_fn("fn_embedder_run", c_int, P(fn_embedder), c_char_p, P(fn_embed_result), P(c_float), P(c_float))
_fn("fn_embedder_close", c_int, P(fn_embedder))
_fn("fn_folder_eval_run", c_int, P(fn_embedder), P(fn_folder_eval_params), P(fn_folder_eval))
_fn("fn_folder_eval_free", None, P(fn_folder_eval))
_fn("fn_pairs_load", c_int, c_char_p, P(P(fn_pairs)))
_fn("fn_pairs_free", None, P(fn_pairs))
_fn("fn_roc_compute", c_int, P(c_double), P(c_ubyte), c_size_t, P(fn_roc))
_fn("fn_roc_free", None, P(fn_roc))
_fn("fn_roc_auc", c_double, P(fn_roc))
_fn("fn_roc_eer", fn_eer, P(fn_roc))
_fn("fn_roc_best_accuracy", fn_op, P(fn_roc))
_fn("fn_roc_at_far", fn_op, P(fn_roc), c_double)
_fn("fn_kfold_eval", c_int, P(c_double), P(c_ubyte), P(c_int), c_size_t, c_int, c_double, P(fn_kfold))

# video
_fn("fn_video_open", c_int, c_char_p, c_int, P(c_void_p))
_fn("fn_video_read", c_int, c_void_p, P(P(fn_image)), P(c_double), P(c_int))
_fn("fn_video_source_info", fn_video_info, c_void_p)
_fn("fn_video_warning", c_char_p, c_void_p)
_fn("fn_video_close", None, c_void_p)
_fn("fn_watch_params_init", None, P(fn_watch_params))
_fn("fn_watch_engine_options", None, P(fn_options))
_fn("fn_watcher_new", c_int, c_void_p, c_void_p, P(fn_watch_params), P(c_void_p))
_fn("fn_watcher_free", None, c_void_p)
_fn("fn_watcher_frame", c_int, c_void_p, P(fn_image), c_double, P(P(fn_track_event)), P(c_int))
_fn("fn_watcher_finish", None, c_void_p, c_double, P(P(fn_track_event)), P(c_int))
_fn("fn_watcher_draw", None, c_void_p, P(fn_image), c_int)


def last_error() -> str:
    """The library's sentence for the last failure on this thread."""
    s = lib.fn_last_error()
    return s.decode("utf-8", "replace") if s else ""


def cstr(s) -> bytes | None:
    """A str or path as the library's char * (UTF-8 / the file system's bytes).
    InvalidArgument for a NUL in it: the C string would end there, and
    "g.db\\x00x" would open g.db (Python's own open() refuses it too)."""
    if s is None:
        return None
    b = s if isinstance(s, bytes) else os.fsencode(s)
    if b"\0" in b:
        from .errors import InvalidArgument
        shown = os.fsdecode(b).replace("\x00", "\\x00")
        raise InvalidArgument(f"'{shown}' contains a NUL character (U+0000): the library would read it "
                              "only up to there")
    return b


def pystr(b) -> str:
    return b.decode("utf-8", "surrogateescape") if b is not None else None


class Handle:
    """Base of the classes that own a library handle: `with` closes it, and so
    does garbage collection (errors there are not raised: the interpreter
    may be shutting down).  Subclasses call _gate_init() first thing in
    __init__, run every use of the handle inside a call (the @in_call
    decorator, or `with self._call():`) and define close() as
    `if self._close_begin(): <free the handle>`.

    One object may serve several threads, so a close() in one thread may come
    while other threads are inside calls: calls enter and leave under a lock
    (a count of calls in progress); close() marks the object closed (new
    calls raise InvalidArgument "this <Kind> is closed"), waits until the
    calls in progress have left, and only then is the handle freed."""

    _kind = "handle"   # named in the errors: "this Engine is closed"

    def _gate_init(self) -> None:
        self._gate = threading.Condition(threading.Lock())
        self._calls = 0                    # calls in progress, all threads
        self._closed = False
        self._mine = threading.local()     # .depth: calls in progress on this thread

    def _closed_error(self):
        from .errors import InvalidArgument
        return InvalidArgument(f"this {self._kind} is closed")

    def _enter(self) -> None:
        with self._gate:
            # a call made inside a call of this thread goes on: the outer one
            # holds the handle, and it should finish as it began
            if self._closed and not getattr(self._mine, "depth", 0):
                raise self._closed_error()
            self._calls += 1
        self._mine.depth = getattr(self._mine, "depth", 0) + 1

    def _in_call(self) -> bool:
        """Whether this thread is inside a call of this object (the handle is
        valid until it leaves)."""
        return getattr(self._mine, "depth", 0) > 0

    def _leave(self) -> None:
        self._mine.depth -= 1
        with self._gate:
            self._calls -= 1
            if self._calls == 0:
                self._gate.notify_all()

    def _call(self) -> "_Call":
        """`with self._call():` — the handle stays valid inside (close waits)."""
        return _Call(self)

    @property
    def closed(self) -> bool:
        """True once close() has been called."""
        return getattr(self, "_closed", True)

    def _close_begin(self) -> bool:
        """Mark closed and wait until no call is in progress; True for the
        close() that should free the handle (False when already closed, or
        when construction failed before _gate_init)."""
        gate = getattr(self, "_gate", None)
        if gate is None:
            return False
        if getattr(self._mine, "depth", 0):
            from .errors import InvalidArgument
            # it would wait for itself forever (e.g. close() from a progress callback)
            raise InvalidArgument(f"this {self._kind} cannot be closed from inside one of its own calls")
        with gate:
            if self._closed:
                return False
            self._closed = True
            while self._calls:
                gate.wait()
        return True

    def close(self) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class _Call:
    __slots__ = ("h",)

    def __init__(self, h: Handle):
        self.h = h

    def __enter__(self):
        self.h._enter()
        return self.h

    def __exit__(self, *exc):
        self.h._leave()


def in_call(fn):
    """Decorator: the method runs as one call of its Handle (see Handle)."""
    @functools.wraps(fn)
    def call(self, *args, **kwargs):
        self._enter()
        try:
            return fn(self, *args, **kwargs)
        finally:
            self._leave()
    return call
