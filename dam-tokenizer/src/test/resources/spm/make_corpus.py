#!/usr/bin/python3
"""Writes corpus.txt (training text) and inputs.txt (golden inputs), both seeded.

Used by regenerate.sh. Lines never contain \\n or \\r (spm_encode is line based)."""
import random

rng = random.Random(20250601)
WORDS = ("the a dog cat sitting on grass brown masked region describe detail image video "
         "object frames above given chat user assistant curious helpful polite answers "
         "questions café naïve über straße 日本語 東京 猫 犬 🦙 😀 123 4567 89").split()


def line(r):
    return " ".join(r.choice(WORDS) for _ in range(r.randint(3, 14)))


with open("corpus.txt", "w", encoding="utf-8") as f:
    for _ in range(4000):
        f.write(line(rng) + ("." if rng.random() < 0.5 else "") + "\n")

POOL = ["\t", "  ", "   ", " ", "é", "e\u0301", "\u00a0", "\u3000", "😀", "👩\u200d👩\u200d👧",
        "🦙", "𝔘", "\U0010fffd", "\ue000", "ß", "Ω", "ע", "ب", "<s>", "</s>", "<unk>", "<image>",
        "▁", "0", "42", "x", "Z", ",", "'", "\u2047"]


def tricky(r):
    parts = []
    for _ in range(r.randint(1, 10)):
        k = r.random()
        if k < 0.4:
            parts.append(r.choice(WORDS))
        elif k < 0.8:
            parts.append(r.choice(POOL))
        else:
            cp = r.choice([r.randint(0x20, 0x7e), r.randint(0xa0, 0x2fff), r.randint(0x3000, 0xd7ff),
                           r.randint(0xe000, 0xfffd), r.randint(0x10000, 0x10fffd)])
            parts.append(chr(cp))
    sep = r.choice(["", " ", "  "])
    return sep.join(parts)


with open("inputs.txt", "w", encoding="utf-8") as f:
    fixed = ["Hello, my dog is cute", "  leading spaces", "trailing spaces  ", "a  b   c",
             "tab\tseparated", "日本語 🦙", "A brown dog sitting on grass.", "▁already▁escaped"]
    for s in fixed:
        f.write(s + "\n")
    for _ in range(400):
        s = tricky(rng)
        s = "".join(ch for ch in s if ch not in "\n\r\x85\u2028\u2029")
        f.write(s + "\n")
