"""`make python-venv` (what `make python` does once the Debian packages are
there) gives an interpreter where `import facenet` works from any folder,
and the library is found as documented."""
import os
import subprocess
import sys
import tempfile

from support import ROOT

import facenet


def test_make_python_venv_imports_facenet_anywhere():
    with tempfile.TemporaryDirectory() as d:
        venv = os.path.join(d, "venv")
        env = {k: v for k, v in os.environ.items() if k not in ("FACENET_LIB", "PYTHONPATH", "MAKEFLAGS", "MFLAGS")}
        r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "python-venv", f"VENV={venv}",
                            f"PYTHON={sys.executable}"], capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        r = subprocess.run([os.path.join(venv, "bin", "python3"), "-c",
                            "import facenet, numpy; print(facenet.LIB_PATH)"],
                           cwd=d, capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == os.path.join(ROOT, "build", "opt", "libfacenet.so")


def test_facenet_lib_is_an_explicit_choice():
    env = dict(os.environ, FACENET_LIB="/nonexistent/libfacenet.so", PYTHONPATH=os.path.join(ROOT, "python"))
    r = subprocess.run([sys.executable, "-c", "import facenet"], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "FACENET_LIB=/nonexistent/libfacenet.so cannot be loaded" in r.stderr
    env["FACENET_LIB"] = facenet.LIB_PATH
    r = subprocess.run([sys.executable, "-c", "import facenet; print(facenet.LIB_PATH)"], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0 and r.stdout.strip() == facenet.LIB_PATH


def _gomp_wait_policy(extra_env):
    """libgomp's own report of its wait policy (OMP_DISPLAY_ENV) after import facenet."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(extra_env, OMP_DISPLAY_ENV="true", PYTHONPATH=os.path.join(ROOT, "python"),
               FACENET_LIB=facenet.LIB_PATH)
    r = subprocess.run([sys.executable, "-c", "import facenet"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    for line in r.stderr.splitlines():
        if "OMP_WAIT_POLICY =" in line:
            return line.split("=", 1)[1].strip().strip("'")
    raise AssertionError("libgomp printed no OMP_WAIT_POLICY line:\n" + r.stderr)


def test_openmp_waits_passively_unless_the_user_chose():
    # spinning workers made identify 2-4x slower on a shared machine (bench/python.sh)
    assert _gomp_wait_policy({}) == "PASSIVE"
    assert _gomp_wait_policy({"OMP_WAIT_POLICY": "active"}) == "ACTIVE"
