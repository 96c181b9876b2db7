"""Images in, as the library's fn_image: a path, encoded bytes, a numpy
HxWx3 uint8 array (RGB, or BGR with bgr=True; HxWx4: alpha dropped), a gray
HxW or HxWx1 array (as OpenCV and PIL give), or a PIL image.  A C-contiguous RGB uint8 array is passed without a copy."""
from __future__ import annotations

import ctypes
import os
from typing import Any, Union

import numpy as np

from . import _lib
from .errors import InvalidArgument, check

ImageLike = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, np.ndarray, Any]


class CImage:
    """An fn_image for one call, keeping alive whatever owns its pixels.
    .img: the fn_image; .array: an HxWx3 uint8 view of the pixels; .name:
    the path (or a description) for messages and the gallery's records;
    .warning: what decoding repaired ("" if nothing)."""

    def __init__(self):
        self.img = _lib.fn_image()
        self._owned = False    # pixels allocated by the library: fn_image_free on close
        self._keep = None      # the numpy array the pixels live in otherwise
        self.name = "<array>"
        self.warning = ""
        self.path = None
        self.data = None       # encoded bytes when given as bytes

    @property
    def array(self) -> np.ndarray:
        if self._keep is not None:
            return self._keep
        im = self.img
        n = im.w * im.h * im.c
        buf = ctypes.cast(im.data, ctypes.POINTER(ctypes.c_uint8 * n)).contents
        return np.frombuffer(buf, dtype=np.uint8).reshape(im.h, im.w, im.c)

    def to_numpy(self) -> np.ndarray:
        """A copy of the pixels owned by Python (HxWx3 uint8 RGB)."""
        return np.array(self.array, copy=True)

    def close(self):
        if self._owned:
            _lib.lib.fn_image_free(ctypes.byref(self.img))
            self._owned = False
        self._keep = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


def _from_array(a: np.ndarray, bgr: bool, out: CImage) -> CImage:
    shape = a.shape                       # as given, for the errors
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)):
        raise InvalidArgument(f"an image array must be HxWx3 (RGB) or HxW / HxWx1 (gray), uint8; got shape {shape}")
    if a.dtype != np.uint8:
        raise InvalidArgument(f"an image array must be uint8 (0..255); got {a.dtype}")
    if shape[0] < 1 or shape[1] < 1:
        raise InvalidArgument(f"an image array must not be empty; got shape {shape}")
    if a.ndim == 3 and a.shape[2] == 1:   # gray with a channel axis (OpenCV's IMREAD_GRAYSCALE[..., None], PIL "L")
        a = a[:, :, 0]
    if a.ndim == 2:                       # gray: the detector wants RGB
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.shape[2] == 4:
        a = a[:, :, :3]                   # alpha is not used
    if bgr:
        a = a[:, :, ::-1]
    a = np.ascontiguousarray(a)           # no copy when it already is
    out._keep = a
    out.img.w, out.img.h, out.img.c = a.shape[1], a.shape[0], 3
    out.img.data = a.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8))
    return out


def to_cimage(image: ImageLike, bgr: bool = False) -> CImage:
    """Convert any accepted image to a CImage (see the module docstring).
    Files and bytes are decoded by the library (JPEG, PNG; EXIF orientation
    applied).  Raises FileError, FormatError, UnsupportedError, LimitError
    with the library's sentence, InvalidArgument for an unusable array."""
    out = CImage()
    if isinstance(image, CImage):
        return image
    if isinstance(image, (str, os.PathLike)):
        notes = _lib.fn_image_notes()
        out.path = os.fspath(image)
        out.name = out.path
        check(_lib.lib.fn_image_load_ex(_lib.cstr(out.path), None, ctypes.byref(out.img), ctypes.byref(notes)))
        out._owned = True
        out.warning = _lib.pystr(notes.warning)
        if bgr:
            raise InvalidArgument("bgr=True is for numpy arrays (OpenCV's order); files are decoded as RGB")
        return out
    if isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
        notes = _lib.fn_image_notes()
        out.name = "<bytes>"
        out.data = data
        check(_lib.lib.fn_image_decode_ex(data, len(data), b"<bytes>", None, ctypes.byref(out.img),
                                          ctypes.byref(notes)))
        out._owned = True
        out.warning = _lib.pystr(notes.warning)
        return out
    if isinstance(image, np.ndarray):
        return _from_array(image, bgr, out)
    # PIL.Image.Image, without importing PIL unless one is given
    if hasattr(image, "convert") and hasattr(image, "mode") and hasattr(image, "size"):
        im = image if image.mode == "RGB" else image.convert("RGB")
        out.name = getattr(image, "filename", "") or "<PIL image>"
        return _from_array(np.asarray(im), False, out)
    raise InvalidArgument(f"cannot use a {type(image).__name__} as an image: give a path, bytes, "
                          "a numpy HxWx3 uint8 array or a PIL image")


def load_image(path: str | os.PathLike, ) -> np.ndarray:
    """Decode a JPEG or PNG file as facenet does (EXIF orientation applied)
    into a new HxWx3 uint8 RGB numpy array.  Errors: FileError, FormatError,
    UnsupportedError, LimitError naming the file."""
    with to_cimage(path) as c:
        return c.to_numpy()


def save_image(path: str | os.PathLike, image: ImageLike, quality: int = 92) -> None:
    """Write an image as PNG, or JPEG when the name ends in .jpg/.jpeg
    (quality 1..100).  FileError names the file when it cannot be written."""
    c = to_cimage(image)
    p = os.fspath(path)
    if p.lower().endswith((".jpg", ".jpeg")):
        check(_lib.lib.fn_image_save_jpeg(_lib.cstr(p), ctypes.byref(c.img), quality))
    else:
        check(_lib.lib.fn_image_save_png(_lib.cstr(p), ctypes.byref(c.img)))


def annotate(image: ImageLike, matches, bgr: bool = False) -> np.ndarray:
    """A copy of image (HxWx3 uint8 RGB) with each match's face box and
    "name distance" drawn as the CLI's --annotate does (green when known,
    red when unknown).  matches: Gallery.identify's list (or Faces, drawn
    unlabelled)."""
    with to_cimage(image, bgr) as c:
        out = c.to_numpy()
    with to_cimage(out) as c:   # points into out: drawn in place
        for m in matches:
            face = getattr(m, "face", m)
            label = None
            known = 0
            if hasattr(m, "distance"):
                known = 1 if m.name is not None else 0
                label = f"{m.name if known else 'unknown'} {m.distance:.2f}".encode("utf-8")
            f = face._to_c()
            _lib.lib.fn_image_draw_face(ctypes.byref(c.img), ctypes.byref(f), label, known)
    return out
