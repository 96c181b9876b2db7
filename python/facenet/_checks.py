"""Checks of the values a caller passes, before they reach the library, in
the CLI's words (src/cli/options.c) where the CLI takes the same value:
"min_face 0 is out of range: it is the side of the smallest face looked
for, in pixels, 12 to 10000 (MTCNN's P-Net sees 12x12 windows, ...)"."""
from __future__ import annotations

import math
import numbers
from typing import Optional

from .errors import InvalidArgument


def _range_text(lo: float, hi: float, lo_open: bool, hi_open: bool) -> str:
    # as options.c's range_text
    if not lo_open and not hi_open:
        return f"{lo:g} to {hi:g}"
    if lo_open and not hi_open:
        return f"above {lo:g}, up to {hi:g}"
    if not lo_open:
        return f"from {lo:g}, below {hi:g}"
    return f"between {lo:g} and {hi:g}, both excluded"


def _shown(v) -> str:
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(_shown(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        return str(int(v))
    if isinstance(v, numbers.Real) and not isinstance(v, bool):
        return repr(float(v))
    return repr(v)


def number(name: str, v, lo: float, hi: float, meaning: str, note: str = "", lo_open: bool = False,
           hi_open: bool = False, whole: bool = False, shown: Optional[str] = None) -> float:
    """v as a float (int when whole), or InvalidArgument in the CLI's words:
    "<name> <v> is out of range: it is <meaning>, <range> <note>" (shown:
    what to show for v, e.g. the whole list it is one item of)."""
    def error(problem):
        return InvalidArgument(f"{name} {shown or _shown(v)} {problem}: it is {meaning}, "
                               f"{_range_text(lo, hi, lo_open, hi_open)}{' ' + note if note else ''}")
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise error("is not a whole number" if whole else "is not a number")
    if whole and not isinstance(v, numbers.Integral):
        raise error("is not a whole number")
    f = float(v)
    if math.isnan(f):
        raise error("is not a number")
    if math.isinf(f):
        raise error("is not a finite number in range")
    if not ((f > lo if lo_open else f >= lo) and (f < hi if hi_open else f <= hi)):
        raise error("is out of range")
    return int(v) if whole else f


_DISTANCE = "a Euclidean distance between L2-normalised embeddings"
_DISTANCE_NOTE = "(d = sqrt(2 − 2·cos); 1.09 ≈ cosine 0.41)"


def distance(v, name: str = "threshold") -> float:
    """A decision threshold on the distance: in (0, 2], as the HTTP API and
    fn_gallery_set_threshold take (distances of unit vectors lie in [0, 2]);
    anything else, NaN and infinities included, is InvalidArgument."""
    return number(name, v, 0, 2, _DISTANCE, _DISTANCE_NOTE, lo_open=True)


def threshold(v, name: str = "threshold") -> Optional[float]:
    """None (the default: the gallery's calibrated threshold, else the
    model's) or a distance(): a negative or NaN value no longer falls back
    to the default silently, nor does 5 name everyone."""
    return None if v is None else distance(v, name)


# fn_engine's options, with options.c's ranges and words
def min_face(v) -> float:
    return number("min_face", v, 12, 10000, "the side of the smallest face looked for, in pixels",
                  "(MTCNN's P-Net sees 12x12 windows, so nothing smaller can be found)")


def factor(v) -> float:
    return number("factor", v, 0.1, 0.99, "the ratio between the sizes of successive pyramid levels",
                  "(closer to 1: more levels, slower, finds more sizes)", lo_open=True, hi_open=True)


def _items(v) -> Optional[list]:
    """v's items as a list when v is a sequence of values (not a string), else None."""
    if isinstance(v, (str, bytes)):
        return None
    try:
        return list(v)
    except TypeError:
        return None


def mtcnn_thresholds(v) -> tuple:
    meaning = "three face probabilities, one per MTCNN stage"
    items = _items(v)
    if items is None or len(items) != 3:
        raise InvalidArgument(f"thresholds {_shown(v)}: wants 3 numbers: {meaning}, each 0 to 1")
    return tuple(number("thresholds", x, 0, 1, meaning, shown=_shown(items)) for x in items)


def threads(v) -> int:
    return number("threads", v, 1, 256, "a number of compute threads", whole=True)


def person_name(v, what: str = "name") -> bytes:
    """A person's name as the library's char *: TypeError naming the argument
    when it is not a str (None and bytes raised AttributeError), and a NUL
    refused as the library refuses the other control characters (its C
    string would end there: 'a\\x00b' was stored as 'a')."""
    if not isinstance(v, str):
        raise TypeError(f"{what} must be a str (a person's name); got {type(v).__name__}")
    if "\x00" in v:
        shown = v.replace("\x00", "\\x00")
        raise InvalidArgument(f"person name '{shown}' contains a control character (U+0000)")
    return v.encode("utf-8", "surrogateescape")


def box(v, name: str = "box") -> tuple:
    """A face box: exactly 4 finite numbers x1, y1, x2, y2 (pixels).  A box
    of 3 was padded with 0 by ctypes, one of 5 raised IndexError."""
    items = _items(v)
    if (items is None or len(items) != 4
            or not all(isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x) for x in items)):
        raise InvalidArgument(f"{name} {_shown(items if items is not None else v)}: wants 4 finite numbers: "
                              "x1, y1, x2, y2 in pixels")
    return tuple(float(x) for x in items)
