#!/usr/bin/python3
"""SAM pre/post-processing goldens for dam-java's Segmenter (SamProcessor steps in numpy/PIL/torch).

  /usr/bin/python3 tools/reference/sam/make_sam_goldens.py [OUT_DIR]   (default: tools/reference/sam/goldens)

Written from the documented behaviour of transformers' SamImageProcessor / SamProcessor (the slow, PIL
processor that DAM's reference uses through facebook/sam-vit-huge), not imported from it (transformers
is not in Debian):

  1. target size: scale = 1024 / max(h, w); (int(h * scale + 0.5), int(w * scale + 0.5))
  2. resize: PIL Image.resize(target, BILINEAR) on the 8-bit RGB image
  3. rescale: uint8 -> float64 * (1/255) -> float32
  4. normalize: (x - mean) / std in float32, ImageNet mean/std
  5. pad with zeros to 1024x1024 (bottom/right), channels first -> pixel_values (1, 3, 1024, 1024)
  6. coordinates: x * (new_w / old_w), y * (new_h / old_h) in float64 (boxes per corner)
  7. post_process_masks (near_threshold lists the (x, y) whose value is within 1e-5 of 0): F.interpolate(low_res, (1024, 1024), bilinear, align_corners=False),
     crop [:new_h, :new_w], F.interpolate(..., (h, w), bilinear, align_corners=False), > 0.0
  8. scribbles (DAM demo): pixels of the stroke in np.nonzero (raster) order as (x, y);
     np.random.seed(0); np.random.choice(n, min(n, 8), replace=False)

pixel_values are 12 MB per image, so the golden keeps their SHA-256 (float32 little-endian, CHW) plus
sampled values; masks are 0/255 PNGs; the scribble stroke (a drawn polyline) is written next to them. The low-res logits are synthetic and defined by integer formulas
(lowres_logits below; dam-java's test computes the same), so no logits file is needed.
"""
import hashlib
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
LONGEST = 1024
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
RADII = [20, 35, 50]


def target_size(h, w):
    scale = LONGEST * 1.0 / max(h, w)
    return int(h * scale + 0.5), int(w * scale + 0.5)


def pixel_values(rgb):
    h, w = rgb.shape[:2]
    nh, nw = target_size(h, w)
    resized = np.asarray(Image.fromarray(rgb).resize((nw, nh), resample=Image.BILINEAR))
    x = (resized.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)
    padded = np.zeros((LONGEST, LONGEST, 3), dtype=np.float32)
    padded[:nh, :nw] = x
    return resized, np.ascontiguousarray(padded.transpose(2, 0, 1))


def scale_coords(xy, h, w):
    nh, nw = target_size(h, w)
    c = np.array(xy, dtype=np.float64).reshape(-1, 2).copy()
    c[:, 0] = c[:, 0] * (nw / w)
    c[:, 1] = c[:, 1] * (nh / h)
    return c


def scribble_points(stroke):
    ys, xs = np.nonzero(stroke)
    coords = np.stack((xs, ys), axis=1)
    np.random.seed(0)
    idx = np.random.choice(coords.shape[0], size=min(coords.shape[0], 8), replace=False)
    return idx, coords[idx]


def lowres_logits(cx, cy):
    """(3, 256, 256) float32: a disc of radius RADII[k] around (cx, cy) plus integer-hash noise.

    (3 v + 1) / 192 keeps every low-res logit off zero, so few upsampled values land near the threshold."""
    i = np.arange(256, dtype=np.int64)[:, None]
    j = np.arange(256, dtype=np.int64)[None, :]
    out = np.zeros((3, 256, 256), dtype=np.float32)
    for k in range(3):
        noise = ((i * 73856093) ^ (j * 19349663) ^ (k * 83492791)) % 201 - 100
        v = RADII[k] * RADII[k] - (i - cy) ** 2 - (j - cx) ** 2 + noise
        out[k] = ((3 * v + 1).astype(np.float64) / 192.0).astype(np.float32)
    return out


def post_process(low, h, w):
    nh, nw = target_size(h, w)
    m = torch.from_numpy(low)[None]
    m = F.interpolate(m, (LONGEST, LONGEST), mode="bilinear", align_corners=False)
    m = m[..., :nh, :nw]
    m = F.interpolate(m, (h, w), mode="bilinear", align_corners=False)
    m = m[0].numpy()
    # pixels whose torch value is within 1e-5 of the threshold: float rounding order may flip them
    near = [[[int(x), int(y)] for y, x in zip(*np.nonzero(np.abs(m[k]) < 1e-5))] for k in range(3)]
    return m > 0.0, near


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).astype("<f4").tobytes()).hexdigest()


def make_stroke(w, h):
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).line([(150, 140), (190, 120), (240, 135), (265, 170)], fill=255, width=9)
    return img


CASES = [
    {"name": "dog_box", "image": "tools/reference/sam/images/dog.jpg", "box": [128.0, 224.0, 314.5, 540.0]},
    {"name": "horses_points", "image": "tools/reference/sam/images/horses.jpg",
     "points": [[236.0, 262.0], [410.5, 251.25], [12.0, 500.0]]},
    {"name": "chelsea_scribble", "image": "tools/reference/fixtures/images/chelsea.png",
     "stroke": "chelsea_stroke.png"},
]


def main(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.RandomState(1234)
    cases = []
    for c in CASES:
        rgb = np.asarray(Image.open(os.path.join(REPO, c["image"])).convert("RGB"))
        h, w = rgb.shape[:2]
        nh, nw = target_size(h, w)
        resized, pv = pixel_values(rgb)
        flat = pv.reshape(-1)
        pick = np.sort(rng.choice(flat.size, 256, replace=False))
        g = {"name": c["name"], "image": c["image"], "original_size": [h, w], "reshaped_size": [nh, nw],
             "decoded_rgb_sha256": hashlib.sha256(rgb.tobytes()).hexdigest(),
             "resized_rgb_sha256": hashlib.sha256(resized.tobytes()).hexdigest(),
             "pixel_values_sha256": sha(pv),
             "pixel_samples": [[int(p), float(flat[p])] for p in pick]}
        if "box" in c:
            g["box"] = c["box"]
            g["scaled_box"] = scale_coords(c["box"], h, w).reshape(-1).tolist()
            first = [(g["scaled_box"][0] + g["scaled_box"][2]) / 2, (g["scaled_box"][1] + g["scaled_box"][3]) / 2]
        else:
            if "stroke" in c:
                stroke_img = make_stroke(w, h)
                stroke_img.save(os.path.join(out, c["stroke"]), optimize=True)
                stroke = np.asarray(stroke_img) > 0
                idx, pts = scribble_points(stroke)
                g["stroke"] = c["stroke"]
                g["stroke_pixels"] = int(stroke.sum())
                g["scribble_indices"] = [int(i) for i in idx]
                pts = pts.astype(np.float64).tolist()
            else:
                pts = c["points"]
            g["points"] = pts
            g["scaled_points"] = scale_coords(pts, h, w).tolist()
            first = g["scaled_points"][0]
        cx, cy = int(first[0] // 4), int(first[1] // 4)
        g["lowres_center"] = [cx, cy]
        low = lowres_logits(cx, cy)
        masks, near = post_process(low, h, w)
        g["near_threshold"] = near
        files = []
        for k in range(3):
            f = "%s_mask%d.png" % (c["name"], k)
            Image.fromarray(masks[k].astype(np.uint8) * 255).save(os.path.join(out, f), optimize=True)
            files.append(f)
        g["masks"] = files
        g["mask_areas"] = [int(m.sum()) for m in masks]
        cases.append(g)
    with open(os.path.join(out, "sam_goldens.json"), "w") as f:
        json.dump({"generator": "tools/reference/sam/make_sam_goldens.py", "longest_edge": LONGEST,
                   "image_mean": MEAN, "image_std": STD, "lowres_radii": RADII, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "goldens"))
