#!/usr/bin/python3
"""Regenerate the SAM goldens into a temp folder and compare them with the committed ones, file by file.

  /usr/bin/python3 tools/reference/sam/check_sam_goldens.py      (exit 0 = identical)

Everything here is exact: hashes, scaled coordinates (float64), sampled pixel values, mask PNG pixels.
"""
import json
import os
import sys
import tempfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_sam_goldens  # noqa: E402

GOLD = os.path.join(HERE, "goldens")


def main():
    errs = []
    with tempfile.TemporaryDirectory() as td:
        make_sam_goldens.main(td)
        new_files = sorted(os.listdir(td))
        old_files = sorted(os.listdir(GOLD))
        if new_files != old_files:
            errs.append("files differ: %s vs %s" % (new_files, old_files))
        for f in set(new_files) & set(old_files):
            a, b = os.path.join(td, f), os.path.join(GOLD, f)
            if f.endswith(".json"):
                if json.load(open(a)) != json.load(open(b)):
                    errs.append(f + ": content differs")
            elif not np.array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b))):
                errs.append(f + ": pixels differ")
    for e in errs:
        print("MISMATCH", e)
    print("sam goldens: %s" % ("OK" if not errs else "%d mismatches" % len(errs)))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
