#!/usr/bin/python3
"""Time the PyTorch SAM 2.1 reference's propagation, the side of `./dam bench sam2` it is compared with.

  bench_sam2_reference.py --checkpoint DIR [--frames 16] [--threads 2] [--warmup 2] [--rss-every 10]

Same protocol as io.damjava.bench.Sam2Bench: the 14 committed frames (tools/reference/sam2/frames) cycled to
--frames, one positive click on frame 0 at (0.2 w, 0.5 h), then forward propagation; each frame is timed
from its pixels (read and resized in the loop, sam2_ref.pixel_values) to its memory, fp32 under
torch.no_grad(). Prints one JSON object: prompt_ms, tracked_median_ms, tracked_mean_ms (after --warmup),
fps, RSS in MB every --rss-every frames, and the sizes of the reference's frame dicts (it keeps every
frame's outputs; the Java bank keeps a bounded window).
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sam2_ref  # noqa: E402


def rss_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return -1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rss-every", type=int, default=10)
    ap.add_argument("--frame-folder", default=os.path.join(HERE, "frames"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = sam2_ref.load_model(a.checkpoint)
    files = sorted(f for f in os.listdir(a.frame_folder) if f.endswith(".png"))
    src = [os.path.join(a.frame_folder, f) for f in files]

    class Frames:
        """Decodes frame i when asked, as the Java FrameSource does."""

        def __len__(self):
            return a.frames

        def __getitem__(self, i):
            return np.asarray(Image.open(src[i % len(src)]).convert("RGB"))

    frames = Frames()
    h, w = frames[0].shape[:2]
    p = sam2_ref.VideoPredictor(model, frames)
    rss, ms = [], []
    with torch.no_grad():
        t0 = time.perf_counter()
        p.add_prompt(0, points=[[w * 0.2, h * 0.5]], labels=[1])
        prompt_ms = (time.perf_counter() - t0) * 1000
        last = time.perf_counter()
        for out in p.propagate(0):
            now = time.perf_counter()
            if out["frame"] == 0:
                rss.append(rss_mb())
            else:
                ms.append((now - last) * 1000)
                if out["frame"] % a.rss_every == 0:
                    rss.append(rss_mb())
            last = now
    timed = ms[a.warmup:]
    mean = statistics.mean(timed) if timed else 0
    print(json.dumps({"impl": "pytorch-reference", "checkpoint": os.path.basename(a.checkpoint.rstrip("/")),
                      "frames": a.frames, "threads": a.threads, "torch": torch.__version__,
                      "prompt_ms": round(prompt_ms, 1),
                      "tracked_median_ms": round(statistics.median(timed), 1) if timed else 0,
                      "tracked_mean_ms": round(mean, 1), "fps": round(1000 / mean, 3) if mean else 0,
                      "timed_frames": len(timed), "rss_mb_every_%d" % a.rss_every: rss,
                      "frames_held": len(p.cond) + len(p.noncond)}))


if __name__ == "__main__":
    main()
