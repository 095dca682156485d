#!/usr/bin/python3
"""Time the fp32 reference: vision ms per region, prefill ms and decode ms/token at given context lengths.

  bench_reference.py --checkpoint DIR [--threads N] [--context 256,1024] [--reps R] [--decode-tokens T]
                     [--prompt-length L] [--random-cache]

Prints one JSON object. Inputs are random (seeded); timings are medians over R repetitions (one
untimed warm-up each). With --prompt-length L it also times the prefill of an L-position prompt
("prompt_prefill_ms"), the typical DAM prompt. With --random-cache each context's decode starts from a
random KV cache of that length instead of a timed prefill (decode cost does not depend on the values). It reports the process's peak RSS ("peak_rss_mb") and
which BLAS torch's CPU matmuls go through ("blas": the libblas.so.3 alternative Debian's torch links,
plus torch.__config__ BLAS_INFO), so a comparison can say whether the reference had a fast BLAS.
"""
import argparse
import json
import os
import resource
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


def blas_info():
    """Which BLAS torch ends up in: Debian's torch links the generic libblas.so.3, whose provider is
    chosen by update-alternatives (reference netlib BLAS unless OpenBLAS/BLIS/MKL is installed)."""
    info = {}
    for f in ("/etc/alternatives/libblas.so.3-x86_64-linux-gnu", "/etc/alternatives/libblas.so.3"):
        if os.path.exists(f):
            info["libblas.so.3"] = os.path.realpath(f)
            break
    try:
        with open("/proc/self/maps") as fh:
            libs = sorted({line.split()[-1] for line in fh if "blas" in line.lower() and "/" in line})
        info["mapped"] = libs
    except OSError:
        pass
    cfg = torch.__config__.show()
    for line in cfg.splitlines():
        if "BLAS_INFO" in line:
            info["torch_config"] = line.strip()
    return info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--context", default="256,1024")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--decode-tokens", type=int, default=8)
    ap.add_argument("--prompt-length", type=int, default=0, help="also time the prefill of this many positions")
    ap.add_argument("--random-cache", action="store_true",
                    help="decode on a random KV cache of each context length instead of a (timed) prefill")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    m = dam_ref.DAMReference(a.checkpoint)
    load_ms = (time.perf_counter() - t0) * 1000.0
    size = m.vcfg["image_size"]
    x8 = torch.rand(1, 8, size, size) * 2 - 1
    res = {"impl": "pytorch-reference", "checkpoint": a.checkpoint, "threads": a.threads,
           "torch": torch.__version__, "reps": a.reps, "load_ms": load_ms,
           "vision_layers": m.vcfg["num_hidden_layers"], "llm_layers": m.lcfg["num_hidden_layers"]}
    with torch.no_grad():
        m.encode_images(x8)  # warm-up
        res["vision_ms_per_region"] = median_ms(lambda: m.encode_images(x8), a.reps)
        H = m.lcfg["hidden_size"]
        if a.prompt_length > 0:
            emb = torch.randn(a.prompt_length, H)
            m.llm_forward(emb)  # warm-up
            res["prompt_length"] = a.prompt_length
            res["prompt_prefill_ms"] = median_ms(lambda: m.llm_forward(emb), a.reps)
        res["by_context"] = {}
        for n in [int(c) for c in a.context.split(",") if c]:
            entry = {}
            if a.random_cache:
                c = m.lcfg
                shape = (c["num_key_value_heads"], n, H // c["num_attention_heads"])
                cache = [(torch.randn(shape), torch.randn(shape)) for _ in range(c["num_hidden_layers"])]
            else:
                emb = torch.randn(n, H)
                entry["prefill_ms"] = median_ms(lambda: m.llm_forward(emb), a.reps)
                _, cache = m.llm_forward(emb)
            tok = torch.randn(1, H)

            def decode():
                c = cache
                for _ in range(a.decode_tokens):
                    _, c = m.llm_forward(tok, c)
            decode()  # warm-up
            entry["decode_ms_per_token"] = median_ms(decode, a.reps) / a.decode_tokens
            res["by_context"][str(n)] = entry
    res["blas"] = blas_info()
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
