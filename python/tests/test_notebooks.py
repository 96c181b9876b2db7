"""The three notebooks run top to bottom, headless: with `jupyter nbconvert
--to notebook --execute` when Jupyter is installed, else their code cells
in order in one interpreter (nbrun.py); their key outputs are checked
(Film accuracy >= 98 % in the accuracy notebook)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from support import HERE, MODELS, ROOT, film, need_models, shared

NB = os.path.join(ROOT, "notebooks")


def _run(name, env_extra=None):
    need_models()
    env = dict(os.environ, FACENET_FILM=film(), FACENET_MODELS=MODELS, **(env_extra or {}))
    env["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + env.get("PYTHONPATH", "")
    path = os.path.join(NB, name)
    nbconvert = shutil.which("jupyter-nbconvert")
    if nbconvert:
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "out.ipynb")
            subprocess.run([nbconvert, "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=1200",
                            "--output", out, path], env=env, check=True, capture_output=True)
            nb = json.load(open(out))
        text = []
        for c in nb["cells"]:
            for o in c.get("outputs", []):
                if o.get("name") == "stdout":
                    text.append("".join(o["text"]))
                elif "data" in o and "image/png" in o["data"]:
                    text.append("[display: Image]\n")
        return "".join(text)
    r = subprocess.run([sys.executable, os.path.join(HERE, "nbrun.py"), path], env=env, capture_output=True,
                       text=True)
    assert r.returncode == 0, f"{name} failed:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
    return r.stdout


def test_recognition_from_an_image():
    out = _run("1_recognition_from_an_image.ipynb")
    assert "enrolled 20 images of 10 people" in out
    assert re.search(r"^Deepika Padukone\s+distance 0\.\d+", out, re.M), out
    assert "[display: Image" in out


def test_recognition_from_a_webcam_or_video_file():
    video = shared("fixtures/video/video.mp4")
    if os.path.exists("/dev/video0"):
        pass   # the notebook uses the camera; the checks below still hold for any faces
    out = _run("2_recognition_from_a_webcam.ipynb", {"FACENET_VIDEO": video, "FACENET_MAX_FRAMES": "60"})
    assert "watching" in out and "appeared" in out, out
    m = re.search(r"frames read: (\d+)", out)
    assert m and int(m.group(1)) >= 50, out
    assert "[display: Image" in out


def test_accuracy_on_the_prediction_set():
    out = _run("3_accuracy_on_the_prediction_set.ipynb")
    m = re.search(r"accuracy: (\d+)/(\d+)", out)
    assert m, out
    correct, n = int(m.group(1)), int(m.group(2))
    assert n == 100 and correct >= 98, out
    assert re.search(r"^Mohanlal\s+2\s+10\s+\d+", out, re.M), out
    wrong = int(re.search(r"misidentified: (\d+)", out).group(1))
    assert out.count("[display: Image") >= wrong


def test_notebooks_are_valid_nbformat_4_5():
    """Each cell has its id (nbformat 4.5; Jupyter warned MissingIDFieldWarning on
    every run), unique in its notebook; the JSON schema itself is nbformat's, when installed."""
    for name in sorted(os.listdir(NB)):
        if not name.endswith(".ipynb"):
            continue
        nb = json.load(open(os.path.join(NB, name), encoding="utf-8"))
        assert (nb["nbformat"], nb["nbformat_minor"]) >= (4, 5), name
        ids = [c.get("id") for c in nb["cells"]]
        assert all(i and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i) for i in ids), (name, ids)
        assert len(set(ids)) == len(ids), (name, ids)
        try:
            import nbformat
        except ImportError:
            continue
        nbformat.validate(nbformat.reads(json.dumps(nb), as_version=4))
