"""What the tests share: where the checkout, ../shared, the models and the
CLI are, and skips that name what is missing (unittest.SkipTest, which
pytest reports as a skip)."""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))

SHARED = os.environ.get("SHARED") or os.path.normpath(os.path.join(ROOT, "..", "shared"))
MODELS = os.environ.get("MODELS") or os.path.join(ROOT, "models")
CLI = os.environ.get("FACENET_CLI") or os.path.join(ROOT, "build", "opt", "facenet")
os.environ.setdefault("FACENET_MODELS", MODELS)

import facenet  # noqa: E402


def skip(why: str):
    raise unittest.SkipTest(why)


def shared(rel: str) -> str:
    """../shared/rel, or a skip naming the path."""
    p = os.path.join(SHARED, rel)
    if not os.path.exists(p):
        skip(f"needs {p} (the reference data in ../shared; set SHARED=...)")
    return p


def need_models():
    if not os.path.isfile(os.path.join(MODELS, "MobileFaceNet.tflite")):
        skip(f"needs the default model bundle in {MODELS} (`make models`)")


def need_cli():
    if not os.access(CLI, os.X_OK):
        skip(f"needs the facenet CLI at {CLI} (`make`)")


@functools.lru_cache(maxsize=None)
def engine() -> "facenet.Engine":
    need_models()
    return facenet.Engine(models_dir=MODELS)


def film() -> str:
    return shared("fixtures/film")


def cli_json(*args) -> list:
    """Run the CLI with --json and return its JSON Lines as dicts."""
    need_cli()
    r = subprocess.run([CLI, *args, "--models-dir", MODELS, "--json"], capture_output=True, text=True)
    out = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    return r.returncode, out, r.stderr


def film_photo(person="Mohanlal", n=1) -> str:
    d = os.path.join(film(), "Predict", person)
    for ext in (".jpeg", ".jpg", ".png"):
        if os.path.exists(os.path.join(d, f"{n}{ext}")):
            return os.path.join(d, f"{n}{ext}")
    return facenet.list_images(d)[0]
