"""Python gives the CLI's results: embeddings bit-identical to `facenet embed
--json`, and on Film (enrol Film/Test/<person>, identify Predict/<person>/*)
the same names and boxes as `facenet identify --json` and distances within
1e-5 (a handle embeds its first 32 faces on MobileFaceNet's direct kernels
and later ones on oneDNN, which agree to ~1e-6: the CLI's batches and
Python's one-at-a-time calls may take different plans), at least 98 of 100
photos right; evaluate() the same counts as `facenet eval --json`."""
import functools
import os
import tempfile

import numpy as np

from support import cli_json, engine, film, film_photo

import facenet

_tmp = tempfile.TemporaryDirectory(prefix="facenet-py-")


def _sig(v, digits):
    """The CLI's round_sig: printf("%.*g") then strtod."""
    return float("%.*g" % (digits, float(v))) if v != 0 else 0.0


def test_embeddings_equal_the_cli_json():
    """`facenet embed --json` prints 7 significant digits (round_sig): the
    Python embedding rounded the same way equals it value for value."""
    files = facenet.list_images(os.path.join(film(), "Predict", "Mohanlal"))
    rc, recs, err = cli_json("embed", *files)
    assert rc == 0, err
    by_file = {}
    for r in recs:
        by_file.setdefault(r["file"], []).append(r)
    n = 0
    for f in files:
        got = engine().embed(f)
        want = by_file.get(f, [])
        assert len(want) == got.shape[0], f"{f}: {got.shape[0]} faces, CLI {len(want)}"
        for k, r in enumerate(want):
            assert [_sig(v, 7) for v in got[k]] == r["embedding"], f"{f} face {k}: differs from the CLI's"
            n += 1
    assert n >= len(files)


_ORACLE = r"""
#include <stdio.h>
#include "facenet.h"
/* The CLI's path (fn_faces_run, as cmd_embed), every float printed exactly (%a). */
int main(int argc, char **argv)
{
    fn_options o;
    fn_options_init(&o);
    o.models_dir = argv[1];
    fn_engine *e;
    if (fn_engine_new(&o, &e) != FN_OK) { fprintf(stderr, "%s\n", fn_last_error()); return 1; }
    fn_faces f = {0};
    for (int i = 2; i < argc; i++) {
        if (fn_faces_run(e, argv[i], 0, 1, &f) != FN_OK) { fprintf(stderr, "%s\n", fn_last_error()); return 1; }
        for (int k = 0; k < f.n; k++) {
            printf("%s\t%d", argv[i], k);
            for (int j = 0; j < fn_engine_dim(e); j++) printf(" %a", f.emb[k * fn_engine_dim(e) + j]);
            printf("\n");
        }
    }
    fn_faces_free(&f);
    fn_engine_free(e);
    return 0;
}
"""


def test_embeddings_bit_identical_to_the_cli_path():
    """Bit for bit: a C program on libfacenet.so running the CLI's own call
    (fn_faces_run) prints every float exactly (%a); Python's equal them."""
    import shutil
    import subprocess
    from support import MODELS, ROOT, skip
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if not cc:
        skip("needs a C compiler for the C oracle")
    files = facenet.list_images(os.path.join(film(), "Predict", "Mohanlal"))
    src, exe = os.path.join(_tmp.name, "oracle.c"), os.path.join(_tmp.name, "oracle")
    with open(src, "w") as f:
        f.write(_ORACLE)
    libdir = os.path.dirname(facenet.LIB_PATH)
    subprocess.run([cc, "-std=c11", "-I", os.path.join(ROOT, "include"), src, "-o", exe, "-L", libdir,
                    "-lfacenet", "-Wl,-rpath," + libdir], check=True)
    out = subprocess.run([exe, MODELS, *files], capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        head, *vals = line.split(" ")
        f, k = head.rsplit("\t", 1)
        rows[(f, int(k))] = np.array([float.fromhex(v) for v in vals], dtype=np.float32)
    n = 0
    for f in files:
        got = engine().embed(f)
        for k in range(got.shape[0]):
            assert np.array_equal(got[k], rows[(f, k)]), f"{f} face {k}: not bit-identical"
            n += 1
    assert n == len(rows) and n >= len(files)


@functools.lru_cache(maxsize=None)
def _film_cli():
    g = os.path.join(_tmp.name, "cli.db")
    rc, recs, err = cli_json("enroll", "--gallery", g, os.path.join(film(), "Film", "Test"))
    assert rc == 0, err
    rc, ident, err = cli_json("identify", "--gallery", g, os.path.join(film(), "Predict"))
    assert rc == 0, err
    return g, recs, ident


@functools.lru_cache(maxsize=None)
def _film_py():
    g = facenet.Gallery(os.path.join(_tmp.name, "py.db"), engine())
    rep = g.enroll(os.path.join(film(), "Film", "Test"))
    return g, rep


def _compare(gallery, ident):
    by_file = {}
    for r in ident:
        by_file.setdefault(r["file"], []).append(r)
    correct = n = 0
    for f, want in by_file.items():
        got = gallery.identify(f)
        assert len(got) == len(want), f"{f}: {len(got)} faces, CLI {len(want)}"
        for m, r in zip(got, want):
            assert m.name == r["name"], f"{f}: {m.name} != CLI's {r['name']}"
            assert abs(m.distance - r["distance"]) <= 1e-5, f"{f}: distance {m.distance} != {r['distance']}"
            assert m.nearest == r["nearest"]
            assert abs(m.nearest_distance - r["nearest_distance"]) <= 1e-5
            assert m.second == r["second"]["name"]
            assert m.displaced == r["nearest_names_another_face"]
            assert [_sig(v, 6) for v in m.face.box] == r["box"]
            assert np.float32(m.face.prob) == np.float32(r["prob"])
        want_name = f.split("/Predict/")[1].split("/")[0]
        n += 1
        correct += got[0].name == want_name   # the most probable face, as test_cli_film counts
    return correct, n


def test_film_enrolment_matches_the_cli():
    _, recs, _ = _film_cli()
    _, rep = _film_py()
    summary = [r for r in recs if r.get("summary") == "enroll"][0]
    assert rep.added == summary["added"] == 20
    assert rep.no_face == summary["no_face"] and rep.errors == summary["errors"]
    cli_added = sorted((r["person"], r["file"]) for r in recs if r.get("status") == "added")
    py_added = sorted((r["person"], r["file"]) for r in rep.records if r["status"] == "added")
    assert py_added == cli_added


def test_film_identify_identical_to_cli_and_at_least_98_of_100():
    _, _, ident = _film_cli()
    g, _ = _film_py()
    correct, n = _compare(g, ident)
    assert n == 100
    assert correct >= 98, f"Film through Python: {correct}/{n}"
    print(f"Film through Python: {correct}/{n}")


def test_python_reads_the_cli_gallery_the_same():
    path, _, ident = _film_cli()
    with facenet.Gallery(path, engine(), readonly=True) as g:
        correct, n = _compare(g, ident)
        root = os.path.join(film(), "Film", "Test")
        folders = sorted((d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))), key=os.fsencode)
        assert [p.name for p in g.people()] == folders
        assert len(g.people()) == 10 and sum(p.images for p in g.people()) == 20
    assert correct >= 98


def test_evaluate_gives_the_cli_eval_counts():
    rc, recs, err = cli_json("eval", "--no-cache", "--gallery-dir", os.path.join(film(), "Film", "Test"),
                             "--probe-dir", os.path.join(film(), "Predict"))
    assert rc == 0, err
    s = [r for r in recs if r.get("summary") == "eval"][0]
    r = facenet.evaluate(os.path.join(film(), "Film", "Test"), os.path.join(film(), "Predict"), engine=engine())
    probes = {p["file"]: p for p in recs if p.get("role") == "probe"}
    assert len(probes) == len(r.probes) == 100
    for p in r.probes:
        c = probes[p.file]
        assert p.name == c.get("nearest") and p.correct == c["correct"]
        assert abs(p.distance - c["distance"]) <= 1e-5
    assert r.correct >= 98 and r.accuracy >= 0.98
    for k in ("correct", "enrolled_images"):
        if k in s:
            assert getattr(r, k) == s[k], f"{k}: {getattr(r, k)} != CLI's {s[k]}"


def test_eval_pairs_gives_the_cli_figures():
    """eval_pairs on 50 + 50 pairs of LFW's pairsDevTest (View 1 format)
    equals `facenet eval-pairs --json --no-cache` figure for figure."""
    from support import shared
    lfw = shared("datasets/lfw_view1")
    with open(os.path.join(lfw, "pairsDevTest.txt")) as f:
        lines = f.read().splitlines()
    sub = os.path.join(_tmp.name, "pairs.txt")
    with open(sub, "w") as f:
        f.write("50\n" + "\n".join(lines[1:51] + lines[501:551]) + "\n")
    rc, recs, err = cli_json("eval-pairs", "--no-cache", "--pairs", sub, "--images", os.path.join(lfw, "images"))
    assert rc == 0, err
    c = recs[-1]
    r = facenet.eval_pairs(sub, os.path.join(lfw, "images"), engine=engine())
    assert r["pairs"] == c["pairs"] == 100 and r["used"] == 100
    for k, ck in (("auc", "auc"), ("eer", "eer"), ("eer_threshold", "eer_threshold"),
                  ("best_accuracy", "best_accuracy"), ("best_threshold", "best_threshold"),
                  ("tar_at_far", "tar_at_far_1e-3"), ("far_threshold", "threshold_at_far_1e-3")):
        # the CLI's JSON may print a double with 15 significant digits
        assert abs(r[k] - c[ck]) <= 1e-13 * max(1.0, abs(c[ck])), f"{k}: {r[k]} != CLI's {c[ck]}"
    assert r["best_accuracy"] > 0.9
