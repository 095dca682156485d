#!/usr/bin/python3
"""Regenerate the tiny checkpoints and the goldens into a temp folder and compare with the committed ones.

  /usr/bin/python3 tools/reference/check_goldens.py      (exit 0 = identical within tolerance)

Exact: every checkpoint file's bytes, int64 tensors (ids, tokens), uint8 pixels (decoded PNG + sha256),
input PNG pixels, texts, flags. float32 tensors: |new - old| <= RTOL * max(max_abs(old), 1e-3) elementwise,
RTOL = 1e-5 (README "Tolerance"). float64 tensors (the sampler's u values): exact.
"""
import filecmp
import json
import os
import sys
import tempfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_checkpoint  # noqa: E402
import make_goldens  # noqa: E402

RTOL = 1e-5
FIX = os.path.join(HERE, "fixtures")
GOLD = os.path.join(HERE, "goldens")


def list_files(d):
    out = []
    for root, _, files in os.walk(d):
        out += [os.path.relpath(os.path.join(root, f), d) for f in files]
    return sorted(out)


def cmp_json(a, b, path, errs):
    if isinstance(a, dict) and isinstance(b, dict):
        if sorted(a) != sorted(b):
            errs.append("%s: keys %s != %s" % (path, sorted(a), sorted(b)))
            return
        for k in a:
            cmp_json(a[k], b[k], path + "." + k, errs)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            errs.append("%s: length %d != %d" % (path, len(a), len(b)))
            return
        for i, (x, y) in enumerate(zip(a, b)):
            cmp_json(x, y, "%s[%d]" % (path, i), errs)
    elif isinstance(a, float) and isinstance(b, float) and path.rsplit(".", 1)[-1] == "max_abs":
        if abs(a - b) > 1e-4 * max(abs(a), 1e-2):
            errs.append("%s: %r != %r" % (path, a, b))
    elif isinstance(a, float) and isinstance(b, float) and path.rsplit(".", 1)[-1] == "min_margin":
        # A margin is a difference of two logits of magnitude ~10, so it carries their absolute
        # error (RTOL x ~10), not an error relative to its own small value. Another BLAS (OpenBLAS
        # instead of the generic libblas) moves it by ~5e-6.
        if abs(a - b) > 1e-4:
            errs.append("%s: %r != %r" % (path, a, b))
    elif a != b or type(a) != type(b):
        errs.append("%s: %r != %r" % (path, a, b))


def main():
    errs = []
    with tempfile.TemporaryDirectory() as td:
        for v, name, extra in (("image", "image", {}), ("joint", "joint", {}),
                               ("image", "edge", make_goldens.EDGE_ARGS)):
            new = os.path.join(td, "tiny-" + name)
            make_checkpoint.make_checkpoint("tiny", v, new, **extra)
            old = os.path.join(FIX, "tiny-" + name)
            if list_files(new) != list_files(old):
                errs.append("checkpoint tiny-%s: file list differs" % name)
            for f in list_files(old):
                if os.path.exists(os.path.join(new, f)) and not filecmp.cmp(os.path.join(new, f), os.path.join(old, f), shallow=False):
                    errs.append("checkpoint tiny-%s/%s: bytes differ" % (name, f))
        gnew = os.path.join(td, "goldens")
        make_goldens.make_goldens(gnew, FIX, record_as=GOLD)
        if list_files(gnew) != list_files(GOLD):
            errs.append("goldens: file list differs: %s" % sorted(set(list_files(gnew)) ^ set(list_files(GOLD))))
        for idx in ("index.json", "edges.json"):
            a = json.load(open(os.path.join(gnew, idx), encoding="utf-8"))
            b = json.load(open(os.path.join(GOLD, idx), encoding="utf-8"))
            cmp_json(a, b, idx, errs)
        n_checked = 0
        for f in list_files(GOLD):
            pn, po = os.path.join(gnew, f), os.path.join(GOLD, f)
            if not os.path.exists(pn):
                continue
            n_checked += 1
            if f.endswith(".png"):
                if not np.array_equal(np.asarray(Image.open(pn)), np.asarray(Image.open(po))):
                    errs.append("%s: pixels differ" % f)
            elif f.endswith(".i64") or f.endswith(".f64"):
                if not filecmp.cmp(pn, po, shallow=False):
                    errs.append("%s: values differ" % f)
            elif f.endswith(".f32"):
                x, y = np.fromfile(pn, dtype="<f4"), np.fromfile(po, dtype="<f4")
                if x.shape != y.shape:
                    errs.append("%s: shape differs" % f)
                    continue
                scale = max(float(np.max(np.abs(y))) if y.size else 0.0, 1e-3)
                d = float(np.max(np.abs(x - y))) if y.size else 0.0
                if not d <= RTOL * scale:
                    errs.append("%s: max |diff| %.3g > %.3g" % (f, d, RTOL * scale))
    for e in errs:
        print("MISMATCH", e)
    print("check_goldens: %d files compared, %d mismatches" % (n_checked, len(errs)))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
