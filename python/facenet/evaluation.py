"""Verification and evaluation: facenet.verify, facenet.evaluate (the
folder-per-person identification evaluation of `facenet eval`) and
facenet.eval_pairs (LFW-style pair lists)."""
from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from . import _checks, _lib
from ._image import ImageLike
from .engine import SELECT, Engine
from .errors import InvalidArgument, NoFaceError, check

_default = None
_default_lock = threading.Lock()


def default_engine() -> Engine:
    """The Engine used when a function is given none: Engine() (MobileFaceNet,
    MTCNN), created on first use and shared (it is thread-safe)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Engine()
        return _default


@dataclass
class Verification:
    """same: distance <= threshold; distance: Euclidean on L2-normalised
    embeddings (0..2); threshold: the one applied."""
    same: bool
    distance: float
    threshold: float

    def __bool__(self) -> bool:
        return self.same


def verify(a: ImageLike, b: ImageLike, engine: Optional[Engine] = None, threshold: Optional[float] = None,
           select: str = "prob") -> Verification:
    """Same person or not: the distance between the chosen face of a and of b
    (select: "prob", "largest" or "center") against threshold (None: the
    model's default, chosen on LFW DevTrain; else a distance in (0, 2]), as
    `facenet verify`.  NoFaceError names the image without a face;
    InvalidArgument a threshold out of range (NaN included)."""
    threshold = _checks.threshold(threshold)
    e = engine or default_engine()
    ea = e.embedding(a, select)
    if ea is None:
        raise NoFaceError(f"{_name(a)}: no face found")
    eb = e.embedding(b, select)
    if eb is None:
        raise NoFaceError(f"{_name(b)}: no face found")
    t = e.threshold if threshold is None else threshold
    d = float(_lib.lib.fn_distance(ea.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                   eb.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), e.dim))
    return Verification(d <= t, d, t)


def _name(x) -> str:
    return os.fspath(x) if isinstance(x, (str, os.PathLike)) else f"<{type(x).__name__}>"


@dataclass
class Probe:
    """One probe image of an evaluation.  kind: "enrolled" (its person is in
    the gallery), "absent" (a probe folder with nothing enrolled) or
    "unknown" (from unknown_dir).  name: the nearest person (None without a
    face); distance: to them; second / second_distance: the next person;
    correct: enrolled, with a face, and the nearest person is theirs;
    accepted: distance <= threshold; error: the sentence when unreadable."""
    file: str
    person: Optional[str]
    kind: str
    has_face: bool
    correct: bool
    accepted: bool
    name: Optional[str]
    distance: float
    second: Optional[str]
    second_distance: float
    error: Optional[str]


@dataclass
class PersonResult:
    """Per person: gallery images, of them enrolled (with a face), probe
    images, of them identified right."""
    name: str
    gallery_images: int
    enrolled: int
    probes: int
    correct: int


@dataclass
class Evaluation:
    """The result of evaluate(): the same numbers as `facenet eval --json`.
    correct / enrolled_probes is the closed-set identification accuracy;
    threshold is the open-set threshold applied (source says whence)."""
    people: List[PersonResult]
    probes: List[Probe]
    enrolled_people: int
    gallery_images: int
    enrolled_images: int
    enrolled_probes: int
    correct: int
    enrolled_with_face: int
    absent_probes: int
    unknown_probes: int
    no_face: int
    unreadable: int
    threshold: float
    threshold_source: str
    enrol_no_face: List[str] = field(default_factory=list)
    openset: Optional[dict] = None

    @property
    def accuracy(self) -> float:
        """correct / enrolled probes (0..1)."""
        return self.correct / self.enrolled_probes if self.enrolled_probes else 0.0

    @property
    def misidentified(self) -> List[Probe]:
        """Enrolled probes with a face whose nearest person is someone else."""
        return [p for p in self.probes if p.kind == "enrolled" and p.has_face and not p.correct]


_KINDS = ["enrolled", "absent", "unknown"]


def _openset(o: "_lib.fn_openset") -> dict:
    return {k: getattr(o, k) for k, _ in _lib.fn_openset._fields_}


def evaluate(gallery_dir: str | os.PathLike, probe_dir: str | os.PathLike, unknown_dir: Optional[str] = None,
             engine: Optional[Engine] = None, threshold: Optional[float] = None, select: str = "prob",
             cache: Optional[str] = None, work_dir: Optional[str] = None, progress=None) -> Evaluation:
    """Identification accuracy on folders, as `facenet eval`: enrol
    gallery_dir/<person>/ images into a temporary gallery (each image's
    chosen face, select), then identify every probe_dir/<person>/ image
    (and unknown_dir's, people known not to be enrolled) by its nearest
    person.  threshold: the open-set threshold (None: the model's; else a
    distance in (0, 2], InvalidArgument otherwise).
    cache: an embedding cache file (None: none).  progress: called as
    progress(stage, done, total, file).  NotFound when no face could be
    enrolled at all; unreadable images are reported in the result."""
    threshold = _checks.threshold(threshold)
    e = engine or default_engine()
    if select not in SELECT:
        raise InvalidArgument(f"select must be one of {sorted(SELECT)}; got {select!r}")
    with e._call():   # the embedder holds the engine's pointer: close() waits for the run
        return _evaluate(e, gallery_dir, probe_dir, unknown_dir, threshold, select, cache, work_dir, progress)


def _evaluate(e, gallery_dir, probe_dir, unknown_dir, threshold, select, cache, work_dir, progress):
    x = _lib.fn_embedder()
    check(_lib.lib.fn_embedder_init(ctypes.byref(x), e.handle, ctypes.byref(e._opts), SELECT[select], 0,
                                    _lib.FN_MISS_SKIP, _lib.cstr(cache)))
    p = _lib.fn_folder_eval_params()
    p.gallery_dir, p.probe_dir = _lib.cstr(os.fspath(gallery_dir)), _lib.cstr(os.fspath(probe_dir))
    p.unknown_dir = _lib.cstr(unknown_dir)
    p.threshold = -1.0 if threshold is None else threshold
    p.work_dir = _lib.cstr(work_dir)
    if progress is not None:
        cb = _lib.fn_eval_progress(lambda ctx, stage, done, total, f:
                                   progress(_lib.pystr(stage), done, total, _lib.pystr(f)))
        p.progress = cb
    r = _lib.fn_folder_eval()
    try:
        check(_lib.lib.fn_folder_eval_run(ctypes.byref(x), ctypes.byref(p), ctypes.byref(r)))
        people = [PersonResult(_lib.pystr(q.name), q.gallery_images, q.enrolled, q.probes, q.correct)
                  for q in r.people[:r.n_people]]
        probes = []
        for q in r.probes[:r.n_probes]:
            m = q.match
            has = bool(q.has_face)
            probes.append(Probe(
                file=os.fsdecode(q.file), person=_lib.pystr(q.person), kind=_KINDS[q.kind], has_face=has,
                correct=bool(q.correct), accepted=bool(q.accepted),
                name=_lib.pystr(m.best_name) if has and m.best.person_id >= 0 else None,
                distance=float(m.best.distance) if has else float("inf"),
                second=_lib.pystr(m.second_name) if has and m.second.person_id >= 0 else None,
                second_distance=float(m.second.distance) if has else float("inf"),
                error=_lib.pystr(q.error)))
        return Evaluation(
            people=people, probes=probes, enrolled_people=r.enrolled_people, gallery_images=r.gallery_images,
            enrolled_images=r.enrolled_images, enrolled_probes=r.n_enrolled_probes, correct=r.n_correct,
            enrolled_with_face=r.n_enrolled_with_face, absent_probes=r.n_absent_probes,
            unknown_probes=r.n_unknown_probes, no_face=r.n_no_face, unreadable=r.n_unreadable,
            threshold=float(r.threshold), threshold_source=_lib.FN_THRESHOLD_SOURCES[r.threshold_source],
            enrol_no_face=[os.fsdecode(r.enrol_no_face[i]) for i in range(r.n_enrol_no_face)],
            openset={"at": _openset(r.at), "balanced": _openset(r.balanced)} if r.have_openset else None)
    finally:
        _lib.lib.fn_folder_eval_free(ctypes.byref(r))
        _lib.lib.fn_embedder_close(ctypes.byref(x))


def eval_pairs(pairs_file: str | os.PathLike, image_root: str | os.PathLike, engine: Optional[Engine] = None,
               select: str = "center", miss: str = "center-crop", flip: bool = False, far: float = 1e-3,
               cache: Optional[str] = None) -> dict:
    """Verification on an LFW-style pairs file (pairs.txt, pairsDevTest.txt):
    each image's chosen face (select) embedded, missing faces replaced by
    the central crop (miss="center-crop", the LFW protocols' fallback) or
    the pair dropped (miss="skip"); flip=True adds the mirrored crop
    (FaceNet's flip trick).  Returns a dict: pairs, used, auc, eer,
    eer_threshold, best accuracy and its threshold, tar_at_far, and for a
    10-fold View 2 file the k-fold accuracy mean and std, with distances
    (float64 array) and same (bool array) of the pairs used.
    FormatError names a malformed line of the pairs file."""
    e = engine or default_engine()
    with e._call():   # the embedder holds the engine's pointer: close() waits for the run
        return _eval_pairs(pairs_file, image_root, e, select, miss, flip, far, cache)


def _eval_pairs(pairs_file, image_root, e, select, miss, flip, far, cache):
    pp = ctypes.POINTER(_lib.fn_pairs)()
    check(_lib.lib.fn_pairs_load(_lib.cstr(os.fspath(pairs_file)), ctypes.byref(pp)))
    x = _lib.fn_embedder()
    try:
        check(_lib.lib.fn_embedder_init(ctypes.byref(x), e.handle, ctypes.byref(e._opts), SELECT[select],
                                        1 if flip else 0,
                                        _lib.FN_MISS_CENTER_CROP if miss == "center-crop" else _lib.FN_MISS_SKIP,
                                        _lib.cstr(cache)))
        P = pp.contents
        dim = e.dim
        seen = {}
        fp = ctypes.POINTER(ctypes.c_float)

        def emb_of(rel):
            if rel in seen:
                return seen[rel]
            a, af = np.zeros(dim, np.float32), np.zeros(dim, np.float32)
            res = _lib.fn_embed_result()
            check(_lib.lib.fn_embedder_run(ctypes.byref(x), os.path.join(os.fsencode(image_root), rel),
                                           ctypes.byref(res), a.ctypes.data_as(fp),
                                           af.ctypes.data_as(fp) if flip else None))
            v = (af if flip else a) if res.has_emb else None
            seen[rel] = v
            return v

        dist, same, fold = [], [], []
        for i in range(P.n):
            it = P.items[i]
            a, b = emb_of(it.path1), emb_of(it.path2)
            if a is None or b is None:
                continue
            dist.append(float(_lib.lib.fn_distance(a.ctypes.data_as(fp), b.ctypes.data_as(fp), dim)))
            same.append(it.same)
            fold.append(it.fold)
        d = np.array(dist, dtype=np.float64)
        s = np.array(same, dtype=np.uint8)
        f = np.array(fold, dtype=np.int32)
        out = {"pairs": int(P.n), "used": len(d), "distances": d, "same": s.astype(bool)}
        roc = _lib.fn_roc()
        dp = d.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        sp = s.ctypes.data_as(ctypes.POINTER(ctypes.c_ubyte))
        check(_lib.lib.fn_roc_compute(dp, sp, len(d), ctypes.byref(roc)))
        try:
            out["auc"] = _lib.lib.fn_roc_auc(ctypes.byref(roc))
            eer = _lib.lib.fn_roc_eer(ctypes.byref(roc))
            out["eer"], out["eer_threshold"] = eer.eer, eer.thr
            best = _lib.lib.fn_roc_best_accuracy(ctypes.byref(roc))
            out["best_accuracy"], out["best_threshold"] = best.acc, best.thr
            at = _lib.lib.fn_roc_at_far(ctypes.byref(roc), far)
            out["tar_at_far"], out["far"], out["far_threshold"] = at.tar, at.far, at.thr
        finally:
            _lib.lib.fn_roc_free(ctypes.byref(roc))
        if P.nfolds > 1:
            k = _lib.fn_kfold()
            check(_lib.lib.fn_kfold_eval(dp, sp, f.ctypes.data_as(ctypes.POINTER(ctypes.c_int)), len(d),
                                         P.nfolds, far, ctypes.byref(k)))
            out["kfold_accuracy"], out["kfold_std"] = k.acc_mean, k.acc_std
            out["kfold_val"], out["kfold_val_std"], out["kfold_far"] = k.val_mean, k.val_std, k.far_mean
        return out
    finally:
        _lib.lib.fn_embedder_close(ctypes.byref(x))
        _lib.lib.fn_pairs_free(pp)
