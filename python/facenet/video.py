"""facenet.watch: recognition on moving pictures (a camera, a video file, a
stream, an image sequence), as `facenet watch` (include/facenet/video.h)."""
from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple, Union

import numpy as np

from . import _lib
from ._image import to_cimage
from .engine import Engine
from .errors import check
from .gallery import Gallery

_KINDS = ["appeared", "identified", "left"]


@dataclass
class Event:
    """Something that happened to a face track.  kind: "appeared",
    "identified" (its name was voted: name, or None when voted unknown) or
    "left"; track: its id (from 1); t: seconds from the start; box: (x1, y1,
    x2, y2) pixels; distance: the best distance among the votes for name
    (Euclidean on L2-normalised embeddings, 0..2)."""
    kind: str
    track: int
    t: float
    box: Tuple[float, float, float, float]
    identified: bool
    name: Optional[str]
    distance: float


def _events(p, n) -> List[Event]:
    out = []
    for i in range(n):
        e = p[i]
        out.append(Event(_KINDS[e.kind], e.track, e.t, tuple(float(v) for v in e.box), bool(e.identified),
                         _lib.pystr(e.name) if e.known else None, float(e.distance)))
    return out


def watch(source: Union[int, str, os.PathLike], gallery: Gallery, engine: Optional[Engine] = None,
          detector: str = "haar", threshold: Optional[float] = None, every: Optional[int] = None,
          draw: bool = True, realtime: bool = False, max_frames: Optional[int] = None
          ) -> Iterator[Tuple[np.ndarray, List[Event]]]:
    """Watch a video and name its faces: yields (frame, events) per frame.

    source: a camera index (0 = /dev/video0), a device path, a video file, an
      rtsp:// or http(s):// URL, or an image sequence pattern (img%03d.jpg).
    gallery: who can be named.  engine: the Engine that detects and embeds;
      None makes one with `detector` ("haar", as the classic webcam notebook
      and `facenet watch`; or "mtcnn") tuned for video, with the gallery's
      model.  threshold: None = the gallery's calibrated one, else the
      model's; else a distance in (0, 2] (InvalidArgument otherwise, at
      the first frame).  every: with MTCNN, full detection every N frames
      (tracking between).  realtime: read a file at its own rate, dropping frames
      when slower (a live source always does).
    frame: HxWx3 uint8 RGB, a copy the caller may keep, with the tracks'
      boxes and names drawn when draw=True.  events: this frame's Events;
      the last item yielded (frame None) carries the "left" events of the
      end.  FileError / FormatError name a source that cannot be opened.
    """
    if isinstance(source, int):
        source = f"/dev/video{source}"
    if engine is None:
        engine = Engine(model=gallery.engine.model, detector=detector, video=(detector == "haar"),
                        models_dir=gallery.engine.models_dir)
    v = ctypes.c_void_p()
    check(_lib.lib.fn_video_open(_lib.cstr(os.fspath(source)), 1 if realtime else 0, ctypes.byref(v)))
    w = ctypes.c_void_p()
    try:
        p = _lib.fn_watch_params()
        _lib.lib.fn_watch_params_init(ctypes.byref(p))
        p.threshold = gallery.threshold_for(threshold)[0]
        if every is not None:
            p.every = int(every)
        # the watcher keeps both pointers: each use of it is a call of both
        # (not the whole generator: close() in the loop would wait for itself),
        # so a Gallery or Engine closed meanwhile makes the next frame raise
        # "this ... is closed" instead of reading freed memory
        with engine._call(), gallery._call():
            check(_lib.lib.fn_watcher_new(engine.handle, gallery.handle, ctypes.byref(p), ctypes.byref(w)))
        frame_p = ctypes.POINTER(_lib.fn_image)()
        t, eof = ctypes.c_double(), ctypes.c_int()
        ev_p = ctypes.POINTER(_lib.fn_track_event)()
        n = ctypes.c_int()
        last_t, count = 0.0, 0
        while max_frames is None or count < max_frames:
            check(_lib.lib.fn_video_read(v, ctypes.byref(frame_p), ctypes.byref(t), ctypes.byref(eof)))
            if eof.value:
                break
            with engine._call(), gallery._call():
                check(_lib.lib.fn_watcher_frame(w, frame_p, t.value, ctypes.byref(ev_p), ctypes.byref(n)))
            events = _events(ev_p, n.value)
            f = frame_p.contents
            size = f.w * f.h * f.c
            arr = np.frombuffer((ctypes.c_uint8 * size).from_address(ctypes.addressof(f.data.contents)),
                                dtype=np.uint8).reshape(f.h, f.w, f.c).copy()
            if draw:
                with to_cimage(arr) as c, engine._call(), gallery._call():   # points into arr: drawn in place
                    _lib.lib.fn_watcher_draw(w, ctypes.byref(c.img), 0)
            last_t, count = t.value, count + 1
            yield arr, events
        with engine._call(), gallery._call():
            _lib.lib.fn_watcher_finish(w, last_t, ctypes.byref(ev_p), ctypes.byref(n))
        yield None, _events(ev_p, n.value)
    finally:
        if w:
            _lib.lib.fn_watcher_free(w)
        _lib.lib.fn_video_close(v)
