#!/usr/bin/python3
"""Golden intermediates and tokens of the tiny DAM checkpoints (see README.md "Golden format").

  make_goldens.py [--out tools/reference/goldens] [--checkpoints tools/reference/fixtures]

Inputs: fixtures/images/chelsea.png plus hand-made masks (drawn here, written as PNG under OUT/inputs);
the 8 video frames are crops of the photo, also written under OUT/inputs.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dam_ref  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
CHELSEA = os.path.join(HERE, "fixtures", "images", "chelsea.png")
N_GREEDY = 32
SAMPLING = dict(temperature=0.7, top_p=0.9, top_k=20, seed=1234)

# Ellipse masks on chelsea.png (451x300), boxes (x0, y0, x1, y1) for ImageDraw.ellipse.
MASKS = {
    "left_eye": (135, 85, 210, 145),      # ordinary focal crop
    "ear_border": (330, -30, 420, 60),    # touches the top border; window clipped top and right
    "face_full": (60, 10, 400, 290),      # 3x window covers the whole image -> equality branch
    "nose_small": (245, 228, 275, 258),   # 31x31 box < 48 -> minimum box
    "right_eye": (295, 110, 345, 165),    # second region of the same image
}
VIDEO_FRAME = (224, 168)                  # frame w, h; frame k is chelsea[oy:oy+h, ox:ox+w]
VIDEO_OFFSETS = [(60 + 14 * k, 30 + 6 * k) for k in range(8)]
VIDEO_FEATURE_FRAMES = [0, 7]             # frames whose context/focal features are stored
# tiny-edge (edges.json): make_checkpoint.py --preset tiny --kv-heads 2 --vocab 520 --top-k 3, i.e.
# grouped-query attention (4 heads, 2 KV heads), 8 padded vocabulary rows, generation_config top_k 3
EDGE_ARGS = dict(kv_heads=2, vocab=520, top_k=3)
EDGE_SAMPLING = dict(temperature=1.5, top_p=1.0, seed=99)  # no top_k: the model's (3) applies


def ellipse_mask(size, box):
    m = Image.new("L", size, 0)
    ImageDraw.Draw(m).ellipse(box, fill=255)
    return m


RECORD = {}  # {"out": real output dir, "as": dir recorded in index.json} (check mode writes elsewhere)


def rel(path):
    if RECORD and os.path.abspath(path).startswith(RECORD["out"] + os.sep):
        path = RECORD["as"] + os.path.abspath(path)[len(RECORD["out"]):]
    return os.path.relpath(path, REPO).replace(os.sep, "/")


class Writer:
    def __init__(self, out):
        self.out = out
        self.pngs = {}
        os.makedirs(os.path.join(out, "tensors"), exist_ok=True)
        os.makedirs(os.path.join(out, "pixels"), exist_ok=True)
        os.makedirs(os.path.join(out, "inputs"), exist_ok=True)

    def tensor(self, name, arr, dtype):
        a = np.ascontiguousarray(np.asarray(arr), dtype={"float32": "<f4", "int64": "<i8", "float64": "<f8"}[dtype])
        ext = {"float32": "f32", "int64": "i64", "float64": "f64"}[dtype]
        fn = "tensors/%s.%s" % (name, ext)
        a.tofile(os.path.join(self.out, fn))
        d = {"file": fn, "dtype": dtype, "shape": list(a.shape)}
        if dtype == "float32":
            d["max_abs"] = float(np.max(np.abs(a))) if a.size else 0.0
        return d

    def pixels(self, name, u8):
        """uint8 HxW or HxWx3 array as PNG (deduplicated by content); SHA-256 of the raw bytes."""
        u8 = np.ascontiguousarray(u8, dtype=np.uint8)
        sha = hashlib.sha256(u8.tobytes()).hexdigest()
        if sha not in self.pngs:
            fn = "pixels/%s.png" % name
            Image.fromarray(u8).save(os.path.join(self.out, fn), optimize=False, compress_level=9)
            self.pngs[sha] = fn
        return {"file": self.pngs[sha], "shape": list(u8.shape), "sha256": sha}

    def same(self, d, arr):
        a = np.fromfile(os.path.join(self.out, d["file"]), dtype="<f4").reshape(d["shape"])
        return np.array_equal(a, np.asarray(arr, dtype=np.float32))

    def sha_only(self, u8):
        u8 = np.ascontiguousarray(u8, dtype=np.uint8)
        return {"file": None, "shape": list(u8.shape), "sha256": hashlib.sha256(u8.tobytes()).hexdigest()}


def run_case(model, w, name, ckpt, images, image_paths, masks, mask_paths, query, sampling=None,
             feature_frames=None, pixel_frames=None, features_from=None):
    r = model.describe(images, masks, query, max_new_tokens=N_GREEDY, sampling=sampling)
    n = len(images)
    feature_frames = list(range(n)) if feature_frames is None else feature_frames
    pixel_frames = list(range(n)) if pixel_frames is None else pixel_frames
    regions = []
    for k, reg in enumerate(r["regions"]):
        px = {}
        for key in ("full_rgb", "full_mask", "crop_rgb", "crop_mask"):
            px[key] = w.pixels("%s_f%d_%s" % (name, k, key), reg[key]) if k in pixel_frames else w.sha_only(reg[key])
        r0, r1, c0, c1 = reg["window"]
        regions.append({"image": image_paths[k], "mask": mask_paths[k],
                        "focal_window": {"row0": r0, "row1": r1, "col0": c0, "col1": c1},
                        "equal_full_and_crop": not bool(r["cimage"][k]), "pixels": px})
    ff = feature_frames
    ctx = w.tensor(name + "_context", r["context"][ff].numpy(), "float32") if not features_from else None
    if features_from:  # same checkpoint and inputs as an earlier case: identical features, not stored twice
        ctx, foc = features_from["tensors"]["context_features"], features_from["tensors"]["focal_features"]
        assert w.same(ctx, r["context"][ff].numpy()) and w.same(foc, r["features"][ff].numpy())
    elif not bool(r["cimage"].any()):  # equality branch: focal features are the context features
        foc = ctx
    else:
        foc = w.tensor(name + "_focal", r["features"][ff].numpy(), "float32")
    case = {
        "name": name,
        "checkpoint": rel(ckpt),
        "query": query,
        "prompt": r["prompt"],
        "regions": regions,
        "feature_frames": ff,
        "tensors": {
            "context_features": ctx,
            "focal_features": foc,
            "projector_output": w.tensor(name + "_projector", r["projector"].numpy(), "float32"),
            "prompt_ids": w.tensor(name + "_prompt_ids", r["ids"], "int64"),
            "prefill_last_logits": w.tensor(name + "_prefill_logits", r["prefill_last_logits"].numpy(), "float32"),
            "tokens": w.tensor(name + "_tokens", r["tokens"], "int64"),
            "top1_top2_margins": w.tensor(name + "_margins", r["margins"], "float32"),
        },
        "spliced_length": int(r["seq_len"]),
        "tokens": r["tokens"],
        "eos_stopped": bool(r["eos"]),
        "text": r["text"],
        "min_margin": float(min(r["margins"])),
        "mode": "sampled" if sampling else "greedy",
    }
    if sampling:
        case["sampling"] = dict(sampling)
        case["tensors"]["u"] = w.tensor(name + "_u", r["u"], "float64")
    if ff != list(range(n)):
        case["note"] = ("context_features/focal_features hold only frames %s (size budget); projector_output "
                        "holds all %d frames. pixels are PNG only for frames %s, sha256 for all." % (ff, n, pixel_frames))
    return case


def make_goldens(out, ckpt_root, record_as=None):
    RECORD.clear()
    if record_as:
        RECORD.update({"out": os.path.abspath(out), "as": os.path.abspath(record_as)})
    w = Writer(out)
    img_ckpt = os.path.join(ckpt_root, "tiny-image")
    joint_ckpt = os.path.join(ckpt_root, "tiny-joint")
    m_img = dam_ref.DAMReference(img_ckpt)
    m_joint = dam_ref.DAMReference(joint_ckpt)
    chelsea = Image.open(CHELSEA)
    chelsea.load()
    masks, mask_paths = {}, {}
    for k, box in MASKS.items():
        masks[k] = ellipse_mask(chelsea.size, box)
        p = os.path.join(out, "inputs", "mask_%s.png" % k)
        masks[k].save(p)
        mask_paths[k] = rel(p)
    cp = rel(CHELSEA)
    cases = []
    for case_name, mk in [("chelsea_left_eye", "left_eye"), ("ear_border_clipped", "ear_border"),
                          ("face_full_equal", "face_full"), ("nose_small", "nose_small"),
                          ("right_eye_same_image", "right_eye")]:
        cases.append(run_case(m_img, w, case_name, img_ckpt, [chelsea], [cp], [masks[mk]], [mask_paths[mk]],
                              dam_ref.QUERY_IMAGE))
    cases.append(run_case(m_img, w, "sampled_left_eye", img_ckpt, [chelsea], [cp], [masks["left_eye"]],
                          [mask_paths["left_eye"]], dam_ref.QUERY_IMAGE, sampling=SAMPLING, features_from=cases[0]))
    cases.append(run_case(m_joint, w, "joint_image_left_eye", joint_ckpt, [chelsea], [cp], [masks["left_eye"]],
                          [mask_paths["left_eye"]], dam_ref.QUERY_JOINT_IMAGE))
    # video: frame k = crop of the photo at VIDEO_OFFSETS[k]; the mask follows the left eye
    arr = np.asarray(chelsea.convert("RGB"))
    fw, fh = VIDEO_FRAME
    frames, fmasks, fpaths, mpaths = [], [], [], []
    for k, (ox, oy) in enumerate(VIDEO_OFFSETS):
        fr = Image.fromarray(arr[oy:oy + fh, ox:ox + fw])
        x0, y0, x1, y1 = MASKS["left_eye"]
        mk = ellipse_mask((fw, fh), (x0 - ox + 20 - 3 * k, y0 - oy, x1 - ox + 20 - 3 * k, y1 - oy))
        fp = os.path.join(out, "inputs", "video_frame%d.png" % k)
        mp = os.path.join(out, "inputs", "video_mask%d.png" % k)
        fr.save(fp)
        mk.save(mp)
        frames.append(fr)
        fmasks.append(mk)
        fpaths.append(rel(fp))
        mpaths.append(rel(mp))
    cases.append(run_case(m_joint, w, "video_8_frames", joint_ckpt, frames, fpaths, fmasks, mpaths,
                          dam_ref.QUERY_JOINT_VIDEO, feature_frames=VIDEO_FEATURE_FRAMES,
                          pixel_frames=[0]))
    edge_ckpt = os.path.join(ckpt_root, "tiny-edge")
    m_edge = dam_ref.DAMReference(edge_ckpt)
    eye = ([chelsea], [cp], [masks["left_eye"]], [mask_paths["left_eye"]])
    edges = [run_case(m_edge, w, "edge_gqa_padded_greedy", edge_ckpt, *eye, dam_ref.QUERY_IMAGE)]
    edges.append(run_case(m_edge, w, "edge_model_top_k_sampled", edge_ckpt, *eye, dam_ref.QUERY_IMAGE,
                          sampling=EDGE_SAMPLING, features_from=edges[0]))
    edges[1]["model_top_k"] = m_edge.default_top_k
    # Both goldens must depend on what they test: keeping the padded rows, or sampling without the
    # model's top_k, would give other tokens.
    try:
        padded = dam_ref.DAMReference(edge_ckpt, fit_vocab=False).describe(
            eye[0], eye[2], dam_ref.QUERY_IMAGE, max_new_tokens=N_GREEDY)["tokens"]
    except IndexError:  # the text decode met ids beyond the tokenizer: the padded rows won
        padded = None
    assert padded != edges[0]["tokens"], "padded rows do not change the greedy tokens"
    no_k = m_edge.describe(eye[0], eye[2], dam_ref.QUERY_IMAGE, max_new_tokens=N_GREEDY,
                           sampling=dict(EDGE_SAMPLING, top_k=0))
    assert no_k["tokens"] != edges[1]["tokens"], "the model's top_k does not change the sampled tokens"
    with open(os.path.join(out, "edges.json"), "w", encoding="utf-8") as fh:
        json.dump({"format": "dam-java reference goldens v1 (edge cases; same case format as index.json)",
                   "checkpoint_args": EDGE_ARGS, "cases": edges}, fh, indent=1, sort_keys=True, ensure_ascii=False)
        fh.write("\n")
    index = {
        "format": "dam-java reference goldens v1",
        "generated_by": "/usr/bin/python3 tools/reference/make_goldens.py --out " + rel(record_as or out),
        "byte_order": "little-endian; .f32 float32, .f64 float64, .i64 int64, row-major, no header",
        "pixels": ("uint8 arrays after the PIL 384x384 BICUBIC resize, as PNG (RGB for *_rgb, L for *_mask = "
                   "channel 0 of the RGB-converted resized mask); sha256 of the raw row-major bytes"),
        "normalization": "x = (float32(u8 * 0.00392156862745098 [float64]) - 0.5f) / 0.5f, channels "
                         "[R,G,B,M_full,R',G',B',M_crop]",
        "greedy_tokens": N_GREEDY,
        "tokens_note": "generated ids in order; an EOS (2) that stopped generation is included",
        "features_note": ("context_features = vision tower on the full image (hidden_states[-2]); "
                          "focal_features = features given to the projector (equal to context_features "
                          "when equal_full_and_crop)"),
        "cases": cases,
    }
    with open(os.path.join(out, "index.json"), "w", encoding="utf-8") as fh:
        json.dump(index, fh, indent=1, sort_keys=True, ensure_ascii=False)
        fh.write("\n")
    return index


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "goldens"))
    ap.add_argument("--checkpoints", default=os.path.join(HERE, "fixtures"))
    a = ap.parse_args()
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    idx = make_goldens(os.path.abspath(a.out), os.path.abspath(a.checkpoints))
    for c in idx["cases"]:
        print("%-22s len=%4d eos=%-5s min_margin=%.3f text=%r" % (c["name"], c["spliced_length"], c["eos_stopped"],
                                                                  c["min_margin"], c["text"][:40]))


if __name__ == "__main__":
    main()
