#!/usr/bin/python3
"""Goldens for PreprocessorTest, from the project's PyTorch reference (tools/reference/dam_ref.py
region_inputs, which mirrors describe-anything's get_image_tensor with "full+focal_crop").

Run from this directory:  /usr/bin/python3 regenerate.py
Image: tools/reference/fixtures/images/chelsea.png (public domain, see its LICENSE file).
Masks: rectangles and a disc, given as (name, kind, x0, y0, x1, y1) below; the Java test draws the
same shapes. Writes cases.tsv with the focal window (row0, row1, col0, col1) and the SHA-256 of the
four resized uint8 arrays (full_rgb, full_mask, crop_rgb, crop_mask; C-order bytes).
"""
import hashlib
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(HERE, "../../../../../tools/reference")
sys.path.insert(0, REF)
import dam_ref  # noqa: E402

CASES = [
    ("rect_centre", "rect", 120, 80, 200, 150),
    ("rect_small", "rect", 10, 20, 14, 25),
    ("rect_corner", "rect", 440, 280, 451, 300),
    ("rect_whole", "rect", 0, 0, 451, 300),
    ("rect_odd", "rect", 33, 7, 80, 211),
    ("disc", "disc", 200, 120, 260, 180),
]


def draw(kind, x0, y0, x1, y1, w, h):
    m = np.zeros((h, w), dtype=np.uint8)
    if kind == "rect":
        m[y0:y1, x0:x1] = 1
    else:
        yy, xx = np.mgrid[0:h, 0:w]
        cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2
        m[(xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] = 1
    return m


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def main():
    img = Image.open(os.path.join(REF, "fixtures/images/chelsea.png")).convert("RGB")
    w, h = img.size
    lines = ["# name\tkind\tx0\ty0\tx1\ty1\trow0\trow1\tcol0\tcol1\tfull_rgb\tfull_mask\tcrop_rgb\tcrop_mask"]
    for name, kind, x0, y0, x1, y1 in CASES:
        m = draw(kind, x0, y0, x1, y1, w, h)
        r = dam_ref.region_inputs(img, Image.fromarray(m * 255), 384)
        win = "\t".join(str(v) for v in r["window"])
        shas = "\t".join(sha(r[k]) for k in ("full_rgb", "full_mask", "crop_rgb", "crop_mask"))
        lines.append(f"{name}\t{kind}\t{x0}\t{y0}\t{x1}\t{y1}\t{win}\t{shas}")
    with open(os.path.join(HERE, "cases.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
