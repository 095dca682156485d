#!/usr/bin/python3
"""Writes src/test/resources/rle-masks.json: masks in COCO compressed RLE with their decoded pixels.

pycocotools is not packaged for Debian 12, so this is a line-by-line Python transcription of its
C functions (cocoapi common/maskApi.c: rleEncode, rleToString, rleFrString, rleDecode), kept
independent of the Java decoder it checks. Deterministic (fixed seed). Run from dam-eval/:
    /usr/bin/python3 tools/make_rle_fixtures.py
"""
import json
import random


def rle_encode(bits, h, w):
    # bits: list of 0/1 in Fortran (column-major) order, as maskApi.c's rleEncode walks it.
    cnts, p, c = [], 0, 0
    for v in bits:
        if v != p:
            cnts.append(c)
            c, p = 0, v
        c += 1
    cnts.append(c)
    return cnts


def rle_to_string(cnts):
    s = []
    for i, x in enumerate(cnts):
        if i > 2:
            x -= cnts[i - 2]
        more = True
        while more:
            c = x & 0x1F
            x >>= 5  # Python's >> is arithmetic like C's on a signed long
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more:
                c |= 0x20
            s.append(chr(c + 48))
    return "".join(s)


def rle_fr_string(s):
    cnts, p = [], 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            c = ord(s[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(cnts) > 2:
            x += cnts[-2]
        cnts.append(x & 0xFFFFFFFF)
    return cnts


def rle_decode(cnts, h, w):
    out, v = [], 0
    for c in cnts:
        out.extend([v] * c)
        v = 1 - v
    assert len(out) == h * w
    # back to rows: pixel (y, x) is out[x * h + y]
    return ["".join(str(out[x * h + y]) for x in range(w)) for y in range(h)]


def blob_mask(rng, h, w):
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    ry, rx = rng.uniform(1, h / 2), rng.uniform(1, w / 2)
    rows = [[0] * w for _ in range(h)]
    for y in range(h):
        for x in range(w):
            inside = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1
            rows[y][x] = 1 if inside or rng.random() < 0.03 else 0
    return rows


def main():
    rng = random.Random(16)
    cases = []
    shapes = [(1, 1), (5, 7), (24, 32), (31, 17), (64, 48), (40, 300)]
    for i, (h, w) in enumerate(shapes):
        if i == 0:
            rows = [[1]]
        else:
            rows = blob_mask(rng, h, w)
        bits = [rows[y][x] for x in range(w) for y in range(h)]
        cnts = rle_encode(bits, h, w)
        s = rle_to_string(cnts)
        assert rle_fr_string(s) == cnts
        cases.append({"size": [h, w], "counts": s, "runs": cnts, "rows": rle_decode(rle_fr_string(s), h, w)})
    # One long run (several 5-bit groups, negative deltas) in a tall thin mask.
    h, w = 2000, 3
    bits = [0] * 1500 + [1] * 3000 + [0] * 1000 + [1] * 500
    cnts = rle_encode(bits, h, w)
    s = rle_to_string(cnts)
    cases.append({"size": [h, w], "counts": s, "runs": rle_fr_string(s), "rows": rle_decode(rle_fr_string(s), h, w)})
    with open("src/test/resources/rle-masks.json", "w") as f:
        json.dump({"source": "tools/make_rle_fixtures.py (pycocotools maskApi.c transcribed)", "cases": cases}, f)


if __name__ == "__main__":
    main()
