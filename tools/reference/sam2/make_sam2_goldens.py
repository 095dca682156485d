#!/usr/bin/python3
"""SAM 2.1 video-propagation goldens for dam-java, from the independent reference in sam2_ref.py.

  /usr/bin/python3 tools/reference/sam2/make_sam2_goldens.py [OUT_DIR]   (default: tools/reference/sam2/goldens)

Inputs (committed): the tiny random checkpoint ../fixtures/sam2-tiny (make_sam2_checkpoint.py --preset tiny)
and 14 synthetic 160x120 frames in frames/ (make_frames below: a textured background, a static block, and an
orange disc that moves right and leaves the frame in the last two frames). No video decoder is in Debian's
reach of CI (no ffmpeg, opencv-doc is 96 MB), so the frames are generated, small and committed.

Cases (one object each): a single positive click (multimask path) on frame 6, a box (two corner points,
dynamic-stability path) on frame 3, and a mask prompt (the disc, use-mask-as-output path) on frame 10.
Each propagates forward from the annotated frame to the last frame, then backward to frame 0, exactly as
sam2_ref.VideoPredictor (the cond frame's output is reused, never recomputed). A refinement case (refine(),
refine_goldens.json) adds a second click on frame 9 after click_f6's two passes and propagates again from it.

Per case and frame (index = frame number) the goldens hold: object score logit, IoU, the mask token chosen,
stability, the object pointer (hidden floats), which memories (temporal offset, frame) and pointers
(signed temporal distance, frame) the frame attended to, the memory bank after the frame, the frame's
pixel_values SHA-256 (float32 CHW), and files:
  <case>_lowres.f32     float32 LE, [frames][S/4][S/4] low-res mask logits (-1024 where occluded)
  <case>_maskmem.bf16   uint16 LE bf16 bits, [frames][HW][mem_dim] memory features as stored in the bank
  <case>_mask_NN.png    0/255 mask at video resolution (bilinear upsample of the low-res logits, > 0)
  <case>_memattn_fNN_<name>.f32  memory-attention inputs/output of one frame (see MEMATTN_DUMPS)
  <case>_cond_fNN_{vision_feat,s0,s1}.f32  the conditioning frame's lowest-resolution features [HW][C] and
                                 the decoder's high-resolution skip features s0 [C/8][4h][4w], s1 [C/4][2h][2w]
  click_f6_cond_f06_pixel_values.f32  that frame's image-encoder input [3][S][S]
near_threshold lists video-res pixels whose logit is within 1e-4 of 0 (their sign may flip under another
summation order), so a Java check compares every other pixel exactly.
"""
import hashlib
import json
import os
import sys

import numpy as np
import torch
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sam2_ref  # noqa: E402

CKPT = os.path.join(os.path.dirname(HERE), "fixtures", "sam2-tiny")
FRAMES = os.path.join(HERE, "frames")
N_FRAMES, W, H = 14, 160, 120
NEAR = 1e-4


def disc_center(i):
    return 30 + 11 * i, 62 + int(round(8 * np.sin(i / 2.0)))


def make_frame(i):
    y, x = np.mgrid[0:H, 0:W]
    base = np.stack([40 + (x * 90) // W, 70 + (y * 80) // H, 120 + ((x + y) * 40) // (W + H)], axis=-1)
    tex = ((x * 7 + y * 13 + (x * y) % 17) % 23).astype(np.int64) - 11
    rgb = np.clip(base + tex[..., None], 0, 255).astype(np.uint8)
    img = Image.fromarray(rgb)
    d = ImageDraw.Draw(img)
    d.rectangle([100, 10, 135, 38], fill=(30, 160, 60))
    cx, cy = disc_center(i)
    d.ellipse([cx - 14, cy - 14, cx + 14, cy + 14], fill=(235, 140, 30))
    return img


def disc_mask(i):
    img = Image.new("L", (W, H), 0)
    cx, cy = disc_center(i)
    ImageDraw.Draw(img).ellipse([cx - 14, cy - 14, cx + 14, cy + 14], fill=255)
    return np.asarray(img) > 0


def make_frames(out):
    os.makedirs(out, exist_ok=True)
    for i in range(N_FRAMES):
        make_frame(i).save(os.path.join(out, "frame_%02d.png" % i), optimize=True)


# frames whose memory-attention inputs and output are dumped (rows: tokens, columns: channels);
# memory_pos holds the spatial encoding plus the temporal one, pointers_pos the projected pointer encoding
MEMATTN_DUMPS = {"click_f6": 9, "box_f3": 1}

CASES = [
    {"name": "click_f6", "frame": 6, "points": [[disc_center(6)[0], disc_center(6)[1]]], "labels": [1]},
    {"name": "box_f3", "frame": 3, "box": [disc_center(3)[0] - 16, disc_center(3)[1] - 16,
                                           disc_center(3)[0] + 16, disc_center(3)[1] + 16]},
    {"name": "mask_f10", "frame": 10, "mask_of_frame": 10},
]


def sha_f32(t):
    return hashlib.sha256(np.ascontiguousarray(t.numpy()).astype("<f4").tobytes()).hexdigest()


def run_case(model, frames, c, out):
    pred = sam2_ref.VideoPredictor(model, frames)
    pred.dump = {}
    s = model.image_size
    kw = {}
    if "points" in c:
        kw = {"points": c["points"], "labels": c["labels"]}
    elif "box" in c:
        kw = {"box": c["box"]}
    else:
        mask = disc_mask(c["mask_of_frame"])
        Image.fromarray(mask.astype(np.uint8) * 255).save(os.path.join(out, c["name"] + "_prompt.png"), optimize=True)
        kw = {"mask": mask}
        prepared = sam2_ref.prepare_mask(mask, s)[0, 0].numpy() > 0
        Image.fromarray(prepared.astype(np.uint8) * 255).save(os.path.join(out, c["name"] + "_prompt_prepared.png"),
                                                              optimize=True)
    pred.add_prompt(c["frame"], **kw)
    per_frame = {}
    order = []
    for reverse in (False, True):
        for o in pred.propagate(c["frame"], reverse=reverse):
            f = o["frame"]
            if f in per_frame:
                continue
            order.append(f)
            logits = sam2_ref.to_video_res(o["low"], H, W)
            m = (logits > 0).numpy()
            mf = "%s_mask_%02d.png" % (c["name"], f)
            Image.fromarray(m.astype(np.uint8) * 255).save(os.path.join(out, mf), optimize=True)
            near = [[int(x), int(y)] for y, x in zip(*np.nonzero(np.abs(logits.numpy()) < NEAR))]
            bank = sorted(set(pred.cond) | set(pred.noncond))
            info = o["info"]
            if abs(o["score"]) < 5e-4:
                raise ValueError("%s frame %d: object score %g is too close to 0 for a stable golden" % (
                    c["name"], f, o["score"]))
            per_frame[f] = {
                "frame": f, "direction": "reverse" if reverse and f != c["frame"] else "forward",
                "conditioning": f == c["frame"], "object_score": o["score"], "iou": info["iou"],
                "multimask": info["multimask"], "chosen_token": info["chosen"],
                "stability": info.get("stability"), "pointer": [float(v) for v in o["pointer"]],
                "memory_used": o["memory_used"], "pointers_used": o["pointers_used"], "bank_after": bank,
                "pixel_values_sha256": sha_f32(sam2_ref.pixel_values(frames[f], s)),
                "mask": mf, "mask_area": int(m.sum()), "near_threshold": near,
                "lowres_min": float(o["low"].min()), "lowres_max": float(o["low"].max())}
            o["_low"] = o["low"].numpy().astype("<f4")
            o["_mem"] = o["maskmem"][0].numpy()
    lows = np.stack([(pred.cond.get(f) or pred.noncond[f])["_low"] for f in range(N_FRAMES)])
    mems = np.stack([(pred.cond.get(f) or pred.noncond[f])["_mem"] for f in range(N_FRAMES)])
    lows.astype("<f4").tofile(os.path.join(out, c["name"] + "_lowres.f32"))
    bits = (torch.from_numpy(mems).to(torch.bfloat16).view(torch.int16).numpy().astype("<i2")).view("<u2")
    bits.tofile(os.path.join(out, c["name"] + "_maskmem.bf16"))
    g = {k: v for k, v in c.items()}
    fn = "%s_cond_f%02d_vision_feat.f32" % (c["name"], c["frame"])
    pred.dump[("cond", c["frame"])]["vision_feat"][0].numpy().astype("<f4").tofile(os.path.join(out, fn))
    g["conditioning_vision_feat"] = {"file": fn, "shape": [int(v) for v in pred.dump[("cond", c["frame"])][
        "vision_feat"][0].shape]}
    if c["name"] == "click_f6":  # the image encoder's input for one frame (128x128x3 float32, 196 KB)
        pv = sam2_ref.pixel_values(frames[c["frame"]], s)[0]
        fn = "%s_cond_f%02d_pixel_values.f32" % (c["name"], c["frame"])
        pv.numpy().astype("<f4").tofile(os.path.join(out, fn))
        g["conditioning_pixel_values"] = {"file": fn, "shape": [int(v) for v in pv.shape]}
    for k in ("s0", "s1"):
        t = pred.dump[("cond", c["frame"])][k][0]
        fn = "%s_cond_f%02d_%s.f32" % (c["name"], c["frame"], k)
        t.numpy().astype("<f4").tofile(os.path.join(out, fn))
        g["conditioning_" + k] = {"file": fn, "shape": [int(v) for v in t.shape]}
    if c["name"] in MEMATTN_DUMPS:
        f = MEMATTN_DUMPS[c["name"]]
        d = pred.dump[f]
        tensors = {}
        for k in ("vision_feat", "vision_pos", "memory", "memory_pos", "pointers", "pointers_pos", "conditioned",
                  "s0", "s1"):
            fn = "%s_memattn_f%02d_%s.f32" % (c["name"], f, k)
            d[k][0].numpy().astype("<f4").tofile(os.path.join(out, fn))
            tensors[k] = {"file": fn, "shape": list(d[k][0].shape)}
        g["memory_attention_dump"] = {"frame": f, "tensors": tensors, "pointer_distances": d["pointer_distances"],
                                      "pointer_max": d["pointer_max"]}
    g.update({"processing_order": order, "frames": [per_frame[f] for f in range(N_FRAMES)],
              "lowres_file": c["name"] + "_lowres.f32", "maskmem_file": c["name"] + "_maskmem.bf16",
              "lowres_shape": list(lows.shape), "maskmem_shape": list(mems.shape)})
    if "mask_of_frame" in c:
        g["prompt_mask"] = c["name"] + "_prompt.png"
        g["prompt_mask_prepared"] = c["name"] + "_prompt_prepared.png"
    return g


def main(out, ckpt=CKPT, n_frames=N_FRAMES, case_list=None, threads=1):
    global N_FRAMES
    N_FRAMES = n_frames
    torch.set_num_threads(threads)
    os.makedirs(out, exist_ok=True)
    model = sam2_ref.load_model(ckpt)
    frames = [np.asarray(Image.open(os.path.join(FRAMES, "frame_%02d.png" % i)).convert("RGB")) for i in
              range(N_FRAMES)]
    cases = []
    with torch.no_grad():
        for c in (case_list or CASES):
            cases.append(run_case(model, frames, c, out))
    with open(os.path.join(out, "sam2_goldens.json"), "w") as fh:
        json.dump({"generator": "tools/reference/sam2/make_sam2_goldens.py",
                   "checkpoint": "tools/reference/fixtures/sam2-tiny" if ckpt == CKPT else os.path.basename(ckpt),
                   "frames": "tools/reference/sam2/frames", "num_frames": N_FRAMES, "video_size": [H, W],
                   "image_size": model.image_size, "near_threshold_abs": NEAR, "cases": cases}, fh, indent=1)
        fh.write("\n")


REFINE = {"name": "refine_f6_f9", "first": {"frame": 6, "points": [[96, 63]], "labels": [1]},
          "second": {"frame": 9, "points": [[129, 54]], "labels": [1]}}


def refine(out, ckpt=CKPT, threads=1):
    """Refinement: click_f6's prompt, propagated forward and back; then a second click on frame 9 (where the
    first pass lost the disc), propagated forward and back from there. refine_goldens.json holds, per frame,
    the second pass's score, chosen token, memories and pointers used; refine_f6_f9_lowres.f32 its low-res
    logits [frames][S/4][S/4]; refine_f6_f9_mask_NN.png its masks."""
    torch.set_num_threads(threads)
    os.makedirs(out, exist_ok=True)
    model = sam2_ref.load_model(ckpt)
    frames = [np.asarray(Image.open(os.path.join(FRAMES, "frame_%02d.png" % i)).convert("RGB")) for i in
              range(N_FRAMES)]
    c = REFINE
    pred = sam2_ref.VideoPredictor(model, frames)
    per_frame = {}
    with torch.no_grad():
        for step in ("first", "second"):
            p = c[step]
            pred.add_prompt(p["frame"], points=p["points"], labels=p["labels"])
            for reverse in (False, True):
                for o in pred.propagate(p["frame"], reverse=reverse):
                    if step == "second":
                        per_frame[o["frame"]] = o
    lows, rows = [], []
    for f in range(N_FRAMES):
        o = per_frame[f]
        if abs(o["score"]) < 5e-4:
            raise ValueError("refine frame %d: object score %g is too close to 0" % (f, o["score"]))
        logits = sam2_ref.to_video_res(o["low"], H, W)
        m = (logits > 0).numpy()
        mf = "%s_mask_%02d.png" % (c["name"], f)
        Image.fromarray(m.astype(np.uint8) * 255).save(os.path.join(out, mf), optimize=True)
        near = [[int(x), int(y)] for y, x in zip(*np.nonzero(np.abs(logits.numpy()) < NEAR))]
        lows.append(o["low"].numpy().astype("<f4"))
        rows.append({"frame": f, "conditioning": f in pred.cond, "object_score": o["score"],
                     "chosen_token": o["info"]["chosen"], "memory_used": o["memory_used"],
                     "pointers_used": o["pointers_used"], "mask": mf, "mask_area": int(m.sum()),
                     "near_threshold": near})
    np.stack(lows).astype("<f4").tofile(os.path.join(out, c["name"] + "_lowres.f32"))
    with open(os.path.join(out, "refine_goldens.json"), "w") as fh:
        json.dump(dict(c, generator="tools/reference/sam2/make_sam2_goldens.py --refine", num_frames=N_FRAMES,
                       video_size=[H, W], lowres_file=c["name"] + "_lowres.f32", frames=rows), fh, indent=1)
        fh.write("\n")


REAL_WIDTH_CASES = [{"name": "click_f1", "frame": 1, "points": [[disc_center(1)[0], disc_center(1)[1]]], "labels": [1]}]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--frames":
        make_frames(FRAMES)
    elif len(sys.argv) > 2 and sys.argv[1] == "--real-width":
        # make_sam2_goldens.py --real-width CKPT OUT: 3 frames, one click on frame 1, at the checkpoint's
        # widths (e.g. make_sam2_checkpoint.py --preset hiera-tiny); not committed, for an opt-in check
        main(sys.argv[3], ckpt=sys.argv[2], n_frames=3, case_list=REAL_WIDTH_CASES, threads=2)
    elif len(sys.argv) > 1 and sys.argv[1] == "--refine":
        refine(sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "goldens"))
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "goldens"))
        refine(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "goldens"))
