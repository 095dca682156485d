#!/usr/bin/python3
"""Time the fp32 reference: vision ms per region, prefill ms and decode ms/token at given context lengths.

  bench_reference.py --checkpoint DIR [--threads N] [--context 256,1024] [--reps R] [--decode-tokens T]

Prints one JSON object. Inputs are random (seeded); timings are medians over R repetitions.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dam_ref  # noqa: E402


def median_ms(fn, reps):
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--context", default="256,1024")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--decode-tokens", type=int, default=8)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = dam_ref.DAMReference(a.checkpoint)
    size = m.vcfg["image_size"]
    x8 = torch.rand(1, 8, size, size) * 2 - 1
    res = {"checkpoint": a.checkpoint, "threads": a.threads, "torch": torch.__version__, "reps": a.reps,
           "vision_layers": m.vcfg["num_hidden_layers"], "llm_layers": m.lcfg["num_hidden_layers"]}
    with torch.no_grad():
        m.encode_images(x8)  # warm-up
        res["vision_ms_per_region"] = median_ms(lambda: m.encode_images(x8), a.reps)
        H = m.lcfg["hidden_size"]
        res["by_context"] = {}
        for n in [int(c) for c in a.context.split(",") if c]:
            emb = torch.randn(n, H)
            prefill = median_ms(lambda: m.llm_forward(emb), a.reps)
            _, cache = m.llm_forward(emb)
            tok = torch.randn(1, H)

            def decode():
                c = cache
                for _ in range(a.decode_tokens):
                    _, c = m.llm_forward(tok, c)
            res["by_context"][str(n)] = {"prefill_ms": prefill,
                                         "decode_ms_per_token": median_ms(decode, a.reps) / a.decode_tokens}
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
