"""A multiprocessing "fork" Pool computes: libgomp's threads do not survive
fork(), and before the library's fork handler (src/core/error.c) workers of a
parent that had computed once waited for good.  Oracle: the parent's own
results, face for face."""
from __future__ import annotations

import multiprocessing

import support

_engine = None


def _detect(path):
    return [tuple(round(v, 3) for v in f.box) for f in _engine.detect(path)]


def test_fork_pool_after_the_parent_computed():
    global _engine
    _engine = support.engine()
    photos = [support.shared("fixtures/film/Predict/Mohanlal/1.jpeg"),
              support.shared("fixtures/film/Predict/Deepika Padukone/5.jpg")]
    want = [_detect(p) for p in photos]          # the parent computes first: its OpenMP threads exist
    assert all(want), "the parent found no face"
    with multiprocessing.get_context("fork").Pool(2) as pool:
        got = pool.map_async(_detect, photos * 2).get(timeout=120)   # hung for good before the fix
    assert got == want * 2
