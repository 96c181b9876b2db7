"""facenet.Gallery: enrolled people in one SQLite file, and identification
(libfacenet's fn_gallery, include/facenet/gallery.h)."""
from __future__ import annotations

import ctypes
import hashlib
import math
import os
import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from . import _checks, _lib
from ._image import CImage, ImageLike, to_cimage
from .engine import Engine, Face
from .errors import FacenetError, FileError, InvalidArgument, NoFaceError, NotFound, check, error_for

_FP = ctypes.POINTER(ctypes.c_float)


@dataclass
class Match:
    """The answer for one face of an identified image.

    face: the Face (box, prob, landmarks).  name: the person it is named,
    or None (unknown: farther than the threshold, or its nearest person
    names another face of the same picture).  distance: Euclidean distance
    (0..2, on L2-normalised embeddings) to the named person's nearest image,
    or to the nearest person's when unknown.  nearest / nearest_distance:
    the nearest person whatever the threshold.  second / second_distance:
    the nearest *other* person (None / inf when there is none).  displaced:
    the nearest person, within the threshold, names another face here.
    threshold: the threshold applied; embedding: (dim,) float32."""
    face: Face
    name: Optional[str]
    distance: float
    nearest: Optional[str]
    nearest_distance: float
    second: Optional[str]
    second_distance: float
    displaced: bool
    threshold: float
    embedding: np.ndarray = field(repr=False)

    @property
    def known(self) -> bool:
        return self.name is not None


@dataclass
class Person:
    """An enrolled person: name (Unicode NFC) and how many images they have."""
    name: str
    images: int


@dataclass
class EnrollReport:
    """What Gallery.enroll did, file by file.  records: one dict per file
    {person, file, status: added|duplicate|no face|refused|error, detail};
    added, duplicates, no_face, refused, errors: counts; people: names
    enrolled (with at least one image)."""
    records: List[dict] = field(default_factory=list)
    added: int = 0
    duplicates: int = 0
    no_face: int = 0
    refused: int = 0
    errors: int = 0
    people: List[str] = field(default_factory=list)


@dataclass
class Calibration:
    """A threshold from the gallery's own pairs (Gallery.calibrate).
    threshold: Euclidean distance (0..2) whose false accept rate on the
    gallery's impostor pairs is at most far; tar: the genuine pairs
    accepted; far_measured: the impostor pairs accepted; eer: the equal
    error rate; reliable / why: the trust rule's verdict (enough pairs for
    the FAR to mean anything); stored: whether it was saved in the gallery."""
    threshold: float
    far: float
    tar: float
    far_measured: float
    eer: float
    n_genuine: int
    n_impostor: int
    reliable: bool
    why: str
    stored: bool


def normalize_name(name: str) -> str:
    """A person's name as galleries store it: Unicode NFC, no surrounding
    white space.  InvalidArgument / LimitError say what is wrong (a control
    character, NUL included; empty; too long); TypeError when name is not a
    str."""
    out = ctypes.create_string_buffer(_lib.FN_GALLERY_NAME_MAX)
    changed = ctypes.c_int()
    check(_lib.lib.fn_gallery_normalize_name(_checks.person_name(name), out, len(out), ctypes.byref(changed)))
    return out.value.decode("utf-8")


def _hash_of(c: CImage) -> str:
    """SHA-256 hex of an image's identity: the file's bytes (as the CLI),
    the encoded bytes, or the raw pixels with their shape."""
    if c.path is not None:
        h = ctypes.create_string_buffer(65)
        check(_lib.lib.fn_hash_file(_lib.cstr(c.path), h))
        return h.value.decode()
    if c.data is not None:
        return hashlib.sha256(c.data).hexdigest()
    a = c.array
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _embeddings(emb, dim: int, what: str = "embeddings") -> np.ndarray:
    """emb as a C-contiguous float32 (n, dim) array: an (n, dim) array or one
    (dim,) embedding of finite numbers.  The library reads dim floats per
    row, so any other shape would be read past its end or cut; the errors
    are the HTTP API's ("embeddings[0]: expected an array of 192 numbers
    (this model's embedding length), got 128")."""
    try:
        a = np.asarray(emb)
    except ValueError:   # ragged rows
        raise InvalidArgument(f"{what}: expected an (n, {dim}) array of numbers; got rows of different lengths") from None
    if a.dtype.kind not in "biuf":
        raise InvalidArgument(f"{what}: expected an (n, {dim}) array of numbers; got an array of {a.dtype}")
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2:
        raise InvalidArgument(f"{what}: expected an (n, {dim}) array (n faces of one picture) or one ({dim},) "
                              f"embedding; got shape {np.shape(emb)}")
    if a.shape[1] != dim:
        raise InvalidArgument(f"{what}[0]: expected an array of {dim} numbers (this model's embedding length), "
                              f"got {a.shape[1]}")
    a = np.ascontiguousarray(a, dtype=np.float32)
    bad = ~np.isfinite(a)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InvalidArgument(f"{what}[{i}]: element {j} is not a finite number")
    return a


class Gallery(_lib.Handle):
    """A face gallery: who is enrolled, from which images, their embeddings;
    one SQLite file at path (created when missing unless readonly).

    Gallery(path, engine=None, readonly=False, create=True)

    engine: the Engine that embeds (needed by enroll, add, identify); the
      gallery refuses an engine whose model differs from the one it was
      built with (MismatchError).  None: a default Engine() is made when
      first needed.
    Thread safety: identify may be called from several threads at once
    (each thread gets its own search scratch); writes are serialised by the
    library.  Use as a context manager or call close(): it waits for the
    calls other threads have in progress, and every call after it raises
    InvalidArgument ("this Gallery is closed"; the file is never reopened).
    Errors: GalleryError (not a gallery, damaged), MismatchError, FileError.
    """

    def __init__(self, path: str | os.PathLike, engine: Optional[Engine] = None, readonly: bool = False,
                 create: bool = True):
        self._gate_init()
        self._g = None
        self.path = os.fspath(path)
        self._engine = engine
        self._readonly = readonly
        self._create = create and not readonly
        self._lock = threading.RLock()      # _scratches, opening, the default engine
        self._local = threading.local()
        self._scratches = []
        if engine is not None:
            self._open(engine)

    _kind = "Gallery"

    def _open(self, engine: Optional[Engine]):
        with engine._call():
            model = _lib.lib.fn_gallery_model_of_engine(engine.handle)
            flags = (_lib.FN_GALLERY_READONLY if self._readonly else 0) | (_lib.FN_GALLERY_CREATE if self._create else 0)
            g = ctypes.c_void_p()
            check(_lib.lib.fn_gallery_open(_lib.cstr(self.path), ctypes.byref(model), flags, ctypes.byref(g)))
        self._g = g

    @property
    def engine(self) -> Engine:
        """The Engine that embeds for this gallery (a default Engine() when
        none was given, made on first use)."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    if self._closed:
                        raise self._closed_error()
                    self._engine = Engine()
        return self._engine

    @property
    def handle(self) -> ctypes.c_void_p:
        """The fn_gallery pointer, opened on first use (with the engine's
        model: another model's gallery is refused).  Use it inside
        `with gallery._call():` (close() waits for the calls in progress
        before freeing it).  A closed Gallery is never reopened."""
        if self._closed and not self._in_call():
            raise self._closed_error()
        if self._g is None:
            with self._lock:
                if self._g is None:
                    self._open(self.engine)
        return self._g

    @_lib.in_call
    def _scratch(self) -> ctypes.c_void_p:
        s = getattr(self._local, "scratch", None)
        if s is None or getattr(self._local, "owner", None) is not self._g:
            s = ctypes.c_void_p()
            check(_lib.lib.fn_gallery_scratch_new(self.handle, _lib.FN_FACES_MAX, ctypes.byref(s)))
            with self._lock:
                self._scratches.append(s)
            self._local.scratch, self._local.owner = s, self._g
        return s

    # ------------------------------------------------------------- enrolment
    @_lib.in_call
    def add(self, name: str, image: ImageLike, face: Optional[Face] = None, bgr: bool = False,
            allow_other_person: bool = False) -> str:
        """Enrol one face of image under name: face, else the most probable
        face found.  Returns "added", "duplicate" (this person already has
        this image) or "refused" (this face of this image is enrolled under
        another person; allow_other_person=True adds it anyway).
        NoFaceError when the image has no face; InvalidArgument for a bad
        name (see normalize_name)."""
        name = normalize_name(name)   # before the image is read: a bad name costs nothing
        with to_cimage(image, bgr) as c:
            return self._add(name, c, face, allow_other_person)[0]

    @_lib.in_call
    def _add(self, name: str, c: CImage, face: Optional[Face], allow_other: bool):
        h = _hash_of(c)
        have = ctypes.c_int()
        bname = name.encode("utf-8")
        check(_lib.lib.fn_gallery_has_image(self.handle, bname, h.encode(), ctypes.byref(have)))
        if have.value:
            return "duplicate", "already enrolled"
        faces, emb = self.engine._embed(c, [face] if face is not None else None)
        if not faces:
            raise NoFaceError(f"{c.name}: no face found")
        detail = None
        if face is None and len(faces) > 1:
            detail = f"{len(faces)} faces; enrolled the most probable (p={faces[0].prob:.3f})"
        f = faces[0]
        gf = _lib.fn_gallery_face(bname, _lib.cstr(c.name), h.encode(), (ctypes.c_float * 4)(*f.box), f.prob,
                                  np.ascontiguousarray(emb[0]).ctypes.data_as(_FP))
        info = _lib.fn_gallery_add_info()
        check(_lib.lib.fn_gallery_add_ex(self.handle, ctypes.byref(gf),
                                         _lib.FN_GALLERY_ADD_ALLOW_OTHER_PERSON if allow_other else 0,
                                         ctypes.byref(info)))
        if info.result == _lib.FN_GALLERY_REFUSED_OTHER_PERSON:
            other = _lib.pystr(info.other_person)
            return "refused", (f"this face of this file is already enrolled as {other} "
                               f"(image {info.other_image_id}); not added as {name}")
        if info.result == _lib.FN_GALLERY_SKIPPED_DUPLICATE:
            return "duplicate", "already enrolled"
        return "added", detail

    @_lib.in_call
    def enroll(self, folder: str | os.PathLike, allow_other_person: bool = False) -> EnrollReport:
        """Enrol a folder holding one folder per person (folder/<name>/*.jpg,
        .jpeg, .png, read recursively), as `facenet enroll` does: each image's
        most probable face under the folder's name; images already enrolled
        for that person are skipped by content (SHA-256).  Files that cannot
        be read or have no face are reported in the result, not raised.
        FileError when folder does not exist or cannot be read;
        InvalidArgument when it is not a directory (a file); NotFound when
        it holds no person folders.  The sentences are the CLI's."""
        root = os.fspath(folder)
        _lib.cstr(root)   # a NUL is refused
        if not os.path.isdir(root):
            cls = InvalidArgument if os.path.exists(root) else FileError
            raise cls(f"{root} is not a directory (it should hold one folder per person)")
        try:
            names = sorted((d for d in os.listdir(root) if not d.startswith(".") and
                            os.path.isdir(os.path.join(root, d))), key=lambda s: os.fsencode(s))
        except OSError as e:
            raise FileError(f"{root}: cannot be read ({e.strerror})") from None
        if not names:
            raise NotFound(f"{root} holds no person folders")
        rep = EnrollReport()
        for folder_name in names:
            person = normalize_name(folder_name)
            usable = 0
            for path in list_images(os.path.join(root, folder_name)):
                rec = {"person": person, "file": path}
                try:
                    with to_cimage(path) as c:
                        status, detail = self._add(person, c, None, allow_other_person)
                except NoFaceError:
                    status, detail = "no face", "skipped"
                except FacenetError as e:
                    if e.status in ("FN_ERR_NOMEM", "FN_ERR_DB", "FN_ERR_MODEL", "FN_ERR_MISMATCH"):
                        raise
                    status, detail = "error", e.sentence
                rec["status"], rec["detail"] = status, detail
                rep.records.append(rec)
                if status == "added":
                    rep.added += 1
                elif status == "duplicate":
                    rep.duplicates += 1
                elif status == "no face":
                    rep.no_face += 1
                elif status == "refused":
                    rep.refused += 1
                else:
                    rep.errors += 1
                usable += status in ("added", "duplicate")
            if usable:
                rep.people.append(person)
        return rep

    # -------------------------------------------------------- identification
    @_lib.in_call
    def threshold_for(self, threshold: Optional[float] = None):
        """(threshold, source): the explicit one when given, else the
        gallery's calibrated one, else the model's default; source is
        "explicit", "gallery (calibrated)" or "model default".
        InvalidArgument for a threshold outside (0, 2] (NaN included)."""
        threshold = _checks.threshold(threshold)
        src = ctypes.c_int()
        with self.engine._call() as e:
            t = _lib.lib.fn_decision_threshold(self.handle, e.handle,
                                               -1.0 if threshold is None else threshold, ctypes.byref(src))
        return float(t), _lib.FN_THRESHOLD_SOURCES[src.value]

    @_lib.in_call
    def identify(self, image: ImageLike, threshold: Optional[float] = None, allow_repeats: bool = False,
                 bgr: bool = False) -> List[Match]:
        """Who is in image: one Match per detected face, most probable face
        first.  A face is named its nearest person when the distance is at
        most threshold (None: the gallery's calibrated threshold, else the
        model's; else a distance in (0, 2], InvalidArgument otherwise),
        and the faces of one picture are named jointly so that a
        person names at most one face (allow_repeats=True: each face its
        nearest person).  The same names and distances as
        `facenet identify --json`.  NotFound for an empty gallery."""
        with to_cimage(image, bgr) as c:
            faces, emb = self.engine._embed(c)
        return self.identify_embeddings(emb, faces, threshold, allow_repeats)

    @property
    @_lib.in_call
    def dim(self) -> int:
        """The length of the gallery's embeddings (its model's)."""
        return int(_lib.lib.fn_gallery_model_of(self.handle).dim)

    @_lib.in_call
    def identify_embeddings(self, emb: np.ndarray, faces: Optional[List[Face]] = None,
                            threshold: Optional[float] = None, allow_repeats: bool = False) -> List[Match]:
        """identify for embeddings already computed: emb an (n, dim) array, the
        n faces of one picture (named jointly), or one (dim,) embedding; dim
        is the gallery's (Gallery.dim), the values finite (as Engine.embed
        gives them: float32, L2-normalised).  faces: None, or the n Faces the
        rows belong to (set as Match.face).  InvalidArgument otherwise."""
        emb = _embeddings(emb, self.dim)
        n = emb.shape[0]
        if faces is not None:
            faces = list(faces)
            if len(faces) != n:
                raise InvalidArgument(f"faces: {len(faces)} given for {n} embeddings (one Face per row, or None)")
        if n == 0:
            return []
        if n > _lib.FN_FACES_MAX:
            raise InvalidArgument(f"at most {_lib.FN_FACES_MAX} faces of one picture are named together; got {n}")
        t, _ = self.threshold_for(threshold)
        out = (_lib.fn_gallery_naming * n)()
        check(_lib.lib.fn_gallery_name_faces(self.handle, self._scratch(), emb.ctypes.data_as(_FP), n, t,
                                             _lib.FN_GALLERY_ALLOW_REPEATS if allow_repeats else 0, out))
        res = []
        for i in range(n):
            nm = out[i]
            m = nm.nearest
            known = nm.named.person_id >= 0
            res.append(Match(
                face=faces[i] if faces else None,
                name=_lib.pystr(nm.name) if known else None,
                distance=float(nm.named.distance if known else m.best.distance),
                nearest=_lib.pystr(m.best_name) if m.best.person_id >= 0 else None,
                nearest_distance=float(m.best.distance),
                second=_lib.pystr(m.second_name) if m.second.person_id >= 0 else None,
                second_distance=float(m.second.distance) if m.second.person_id >= 0 else math.inf,
                displaced=bool(nm.displaced), threshold=t, embedding=emb[i].copy()))
        return res

    # -------------------------------------------------------------- managing
    @_lib.in_call
    def people(self) -> List[Person]:
        """Everyone enrolled, in name order, with their number of images."""
        out: List[Person] = []

        @_lib.gallery_list_cb
        def visit(ctx, p):
            out.append(Person(_lib.pystr(p.contents.name), int(p.contents.n_images)))
            return 0

        check(_lib.lib.fn_gallery_list(self.handle, visit, None))
        return out

    @_lib.in_call
    def __len__(self) -> int:
        people, images = ctypes.c_int64(), ctypes.c_int64()
        check(_lib.lib.fn_gallery_count(self.handle, ctypes.byref(people), ctypes.byref(images)))
        return int(people.value)

    @_lib.in_call
    def __contains__(self, name: str) -> bool:
        n = normalize_name(name)
        return any(p.name == n for p in self.people())

    @_lib.in_call
    def remove(self, name: str) -> int:
        """Remove a person with all their images; returns how many images
        went.  NotFound when there is no such person."""
        removed = ctypes.c_int64()
        check(_lib.lib.fn_gallery_remove_person(self.handle, _checks.person_name(name), ctypes.byref(removed)))
        return int(removed.value)

    @_lib.in_call
    def rename(self, old: str, new: str) -> None:
        """Rename a person.  NotFound when old is missing; InvalidArgument
        when new already exists."""
        check(_lib.lib.fn_gallery_rename_person(self.handle, _checks.person_name(old, "old"),
                                                _checks.person_name(new, "new")))

    @property
    @_lib.in_call
    def threshold(self) -> Optional[float]:
        """The calibrated threshold stored in the gallery, or None.  Set it
        to a distance in (0, 2] (InvalidArgument otherwise)."""
        t = ctypes.c_float()
        s = _lib.lib.fn_gallery_get_threshold(self.handle, ctypes.byref(t))
        if s == _lib.STATUS_NAMES.index("FN_ERR_NOT_FOUND"):
            return None
        check(s)
        return float(t.value)

    @threshold.setter
    @_lib.in_call
    def threshold(self, value: float) -> None:
        check(_lib.lib.fn_gallery_set_threshold(self.handle, _checks.distance(value)))

    @_lib.in_call
    def calibrate(self, far: float = _lib.FN_CALIB_DEFAULT_FAR, store: bool = True) -> Calibration:
        """A decision threshold from the gallery's own genuine (same person)
        and impostor (different people) pairs: the largest whose false accept
        rate is at most far (0 < far < 0.1), as `facenet calibrate`; stored in
        the gallery unless store=False (identify then uses it).  Check
        .reliable: a small gallery has too few pairs for a small FAR to mean
        anything (.why says how many more are needed).
        InvalidArgument: far out of range, or too few people/images."""
        c = _lib.fn_calib()
        check(_lib.lib.fn_calib_from_gallery(self.handle, _lib.FN_DIST_EUCLIDEAN, float(far), ctypes.byref(c)))
        try:
            if store:
                check(_lib.lib.fn_gallery_set_threshold(self.handle, ctypes.c_float(c.op.thr)))
            return Calibration(threshold=float(ctypes.c_float(c.op.thr).value), far=float(far), tar=c.op.tar,
                               far_measured=c.op.far, eer=c.eer.eer, n_genuine=c.n_genuine,
                               n_impostor=c.n_impostor, reliable=bool(c.trust.reliable),
                               why=_lib.pystr(c.trust.why), stored=store)
        finally:
            _lib.lib.fn_calib_free(ctypes.byref(c))

    def close(self) -> None:
        """Close the file (and free every thread's search scratch).  Waits
        for the calls other threads have in progress; afterwards every call
        raises InvalidArgument "this Gallery is closed".  Closing twice does
        nothing; the Engine is not closed (it may serve others)."""
        if not self._close_begin():
            return
        with self._lock:
            for s in self._scratches:
                _lib.lib.fn_gallery_scratch_free(s)
            self._scratches = []
            self._local = threading.local()
            if self._g is not None:
                _lib.lib.fn_gallery_close(self._g)
                self._g = None

    def __repr__(self):
        return f"<facenet.Gallery {self.path!r}{' closed' if self.closed else ''}>"


def list_images(path: str | os.PathLike) -> List[str]:
    """Image files under path (recursively, sorted; .jpg .jpeg .png in any
    case), as the CLI and evaluate read folders; a file is returned as is.
    FileError names a path that cannot be read."""
    out = _lib.fn_paths()
    try:
        check(_lib.lib.fn_list_images(_lib.cstr(os.fspath(path)), ctypes.byref(out), None))
        return [os.fsdecode(out.items[i]) for i in range(out.n)]
    finally:
        _lib.lib.fn_paths_free(ctypes.byref(out))
