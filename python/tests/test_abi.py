"""The ctypes structs mirror the C headers: a C program compiled against
include/ prints every struct's size and each field's offset, which must
equal ctypes' (an independent oracle: the compiler's own layout)."""
import ctypes
import os
import shutil
import subprocess
import tempfile

from support import ROOT, skip

from facenet import _lib


def test_struct_layout_matches_the_headers():
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if not cc:
        skip("needs a C compiler to read the headers' layout")
    lines = ['#include <stdio.h>', '#include <stddef.h>', '#include "facenet.h"', "int main(void) {"]
    want = {}
    for name, cls in sorted(_lib.STRUCTS.items()):
        lines.append(f'printf("{name} %zu\\n", sizeof({name}));')
        want[name] = ctypes.sizeof(cls)
        for fname, _ in cls._fields_:
            lines.append(f'printf("{name}.{fname} %zu\\n", offsetof({name}, {fname}));')
            want[f"{name}.{fname}"] = getattr(cls, fname).offset
    lines.append("return 0; }")
    with tempfile.TemporaryDirectory() as d:
        src, exe = os.path.join(d, "abi.c"), os.path.join(d, "abi")
        with open(src, "w") as f:
            f.write("\n".join(lines))
        subprocess.run([cc, "-std=c11", "-I", os.path.join(ROOT, "include"), src, "-o", exe], check=True)
        got = dict(line.rsplit(" ", 1) for line in subprocess.run([exe], capture_output=True, text=True,
                                                                    check=True).stdout.splitlines())
    bad = [f"{k}: C {got[k]}, ctypes {v}" for k, v in want.items() if int(got[k]) != v]
    assert not bad, "layout differs: " + "; ".join(bad)
    assert len(want) > 100   # every field of every struct was compared
