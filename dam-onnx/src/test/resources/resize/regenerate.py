#!/usr/bin/python3
"""Goldens for PillowResizeTest: Pillow's bicubic Image.resize on pseudo-random images.

Run from this directory with Debian's python3 (PIL 9.4, numpy):  /usr/bin/python3 regenerate.py
Writes cases.tsv: one line per case with the SHA-256 of the resized bytes (row-major, interleaved
RGB or single-band L). The input pixels are not stored: both sides generate them with SplitMix64
(seed = the case's seed; byte i = next64() >>> 56, row-major, interleaved channels), and the "mask"
cases threshold those bytes at 128 to 0/255, as the engine's mask channel does. Outputs of up to
4096 bytes are also written as <name>.bin, so a mismatch can be located.
"""
import hashlib

import numpy as np
from PIL import Image

MASK64 = (1 << 64) - 1


def splitmix64_bytes(seed, n):
    state = seed & MASK64
    out = bytearray(n)
    for i in range(n):
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        z = z ^ (z >> 31)
        out[i] = z >> 56
    return bytes(out)


# name, mode (RGB, L or mask), input w, h, output w, h, seed
CASES = [
    ("rgb_37x53_to_384", "RGB", 37, 53, 384, 384, 1),
    ("rgb_500x301_to_384", "RGB", 500, 301, 384, 384, 2),
    ("rgb_1x7_to_384", "RGB", 1, 7, 384, 384, 3),
    ("rgb_777x3_to_384", "RGB", 777, 3, 384, 384, 4),
    ("rgb_777x3_to_13x29", "RGB", 777, 3, 13, 29, 5),
    ("rgb_500x301_to_17x11", "RGB", 500, 301, 17, 11, 6),
    ("rgb_37x53_to_101x7", "RGB", 37, 53, 101, 7, 7),
    ("rgb_384x384_to_384", "RGB", 384, 384, 384, 384, 8),
    ("rgb_384x200_to_384", "RGB", 384, 200, 384, 384, 9),
    ("rgb_1000x1000_to_384", "RGB", 1000, 1000, 384, 384, 10),
    ("l_37x53_to_384", "L", 37, 53, 384, 384, 11),
    ("l_301x500_to_29x31", "L", 301, 500, 29, 31, 12),
    ("l_5x5_to_1x1", "L", 5, 5, 1, 1, 13),
    ("mask_144x150_to_384", "mask", 144, 150, 384, 384, 14),
    ("mask_640x480_to_384", "mask", 640, 480, 384, 384, 15),
    ("mask_2x2_to_384", "mask", 2, 2, 384, 384, 16),
]


def main():
    lines = ["# name\tmode\tin_w\tin_h\tout_w\tout_h\tseed\tsha256(out)"]
    for name, mode, w, h, ow, oh, seed in CASES:
        channels = 3 if mode == "RGB" else 1
        raw = np.frombuffer(splitmix64_bytes(seed, w * h * channels), dtype=np.uint8)
        if mode == "RGB":
            img = Image.fromarray(raw.reshape(h, w, 3), "RGB")
        elif mode == "L":
            img = Image.fromarray(raw.reshape(h, w), "L")
        else:
            # The engine's mask path: a 0/255 L image, converted to RGB, resized, channel 0 kept.
            mask = np.where(raw.reshape(h, w) >= 128, 255, 0).astype(np.uint8)
            img = Image.fromarray(mask, "L").convert("RGB")
        out = np.asarray(img.resize((ow, oh), Image.BICUBIC))
        if mode == "mask":
            out = out[:, :, 0]
        data = np.ascontiguousarray(out).tobytes()
        lines.append(f"{name}\t{mode}\t{w}\t{h}\t{ow}\t{oh}\t{seed}\t{hashlib.sha256(data).hexdigest()}")
        if len(data) <= 4096:
            with open(name + ".bin", "wb") as f:
                f.write(data)
    with open("cases.tsv", "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
