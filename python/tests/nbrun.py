"""Run a notebook's code cells top to bottom in one namespace, as a kernel
would, printing what they print; display(x) prints a line naming x.  For
machines without Jupyter: test_notebooks.py uses `jupyter nbconvert
--execute` when it is installed and this otherwise.
usage: python3 nbrun.py NOTEBOOK.ipynb   (runs in the notebook's folder)"""
import json
import os
import sys


def display(*objs):
    for o in objs:
        if hasattr(o, "mode") and isinstance(getattr(o, "size", None), tuple):   # a PIL image
            print(f"[display: Image {o.size[0]}x{o.size[1]}]")
        else:
            print(f"[display: {type(o).__name__}]")


def main(path):
    nb = json.load(open(path))
    os.chdir(os.path.dirname(os.path.abspath(path)))
    ns = {"__name__": "__main__", "display": display}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        exec(compile(src, f"{os.path.basename(path)} cell {i}", "exec"), ns)


if __name__ == "__main__":
    main(sys.argv[1])
