"""Engine's options are checked when it is made, with the CLI's ranges and
words (src/cli/options.c): out of range they used to construct fine and then
fail at the first detection blaming the photo, or find nothing at all."""
import pytest

from support import MODELS, engine, film_photo

import facenet

MIN_FACE = ("it is the side of the smallest face looked for, in pixels, 12 to 10000 "
            "(MTCNN's P-Net sees 12x12 windows, so nothing smaller can be found)")
FACTOR = ("it is the ratio between the sizes of successive pyramid levels, between 0.1 and 0.99, both excluded "
          "(closer to 1: more levels, slower, finds more sizes)")
PROBS = "it is three face probabilities, one per MTCNN stage, 0 to 1"


@pytest.mark.parametrize("kw, msg", [
    ({"min_face": 0}, "min_face 0 is out of range: " + MIN_FACE),
    ({"min_face": 11.9}, "min_face 11.9 is out of range: " + MIN_FACE),
    ({"min_face": 10001}, "min_face 10001 is out of range: " + MIN_FACE),
    ({"min_face": float("nan")}, "min_face nan is not a number: " + MIN_FACE),
    ({"factor": 1.0}, "factor 1.0 is out of range: " + FACTOR),
    ({"factor": 0.1}, "factor 0.1 is out of range: " + FACTOR),
    ({"factor": 0.99}, "factor 0.99 is out of range: " + FACTOR),
    ({"factor": float("inf")}, "factor inf is not a finite number in range: " + FACTOR),
    ({"thresholds": (1.5, 0.7, 0.7)}, "thresholds (1.5, 0.7, 0.7) is out of range: " + PROBS),
    ({"thresholds": (0.6, float("nan"), 0.7)}, "thresholds (0.6, nan, 0.7) is not a number: " + PROBS),
    ({"thresholds": [0.6, 0.7, -0.1]}, "thresholds (0.6, 0.7, -0.1) is out of range: " + PROBS),
    ({"thresholds": (0.6, 0.7)}, "thresholds (0.6, 0.7): wants 3 numbers: three face probabilities, "
                                 "one per MTCNN stage, each 0 to 1"),
    ({"thresholds": (0.6, 0.7, 0.7, 0.7)}, "thresholds (0.6, 0.7, 0.7, 0.7): wants 3 numbers"),
    ({"thresholds": 0.6}, "thresholds 0.6: wants 3 numbers"),
    ({"thresholds": "0.6,0.7,0.7"}, "thresholds '0.6,0.7,0.7': wants 3 numbers"),
    ({"threads": 0}, "threads 0 is out of range: it is a number of compute threads, 1 to 256"),
    ({"threads": 1.5}, "threads 1.5 is not a whole number: it is a number of compute threads, 1 to 256"),
])
def test_options_out_of_range_are_refused_at_construction(kw, msg):
    with pytest.raises(facenet.InvalidArgument) as e:
        facenet.Engine(models_dir=MODELS, **kw)
    assert str(e.value).startswith(msg)


def test_options_in_range_are_used():
    engine()
    e = facenet.Engine(models_dir=MODELS, min_face=12, factor=0.5, thresholds=[0, 1, 0.5], threads=2)
    o = e._opts
    assert (o.min_face, o.factor) == (12, 0.5) and list(o.thresholds) == [0, 1, 0.5]
    e.close()
    # the thresholds decide what is found: O-Net at 1 keeps nothing, the defaults find the face
    assert facenet.Engine(models_dir=MODELS, thresholds=(0.6, 0.7, 1.0)).detect(film_photo("Mohanlal", 1)) == []
    assert len(facenet.Engine(models_dir=MODELS, thresholds=(0.6, 0.7, 0.7)).detect(film_photo("Mohanlal", 1))) >= 1
