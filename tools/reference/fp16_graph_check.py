#!/usr/bin/python3
"""Runs a converted bundle's standard-style ONNX graphs in numpy and compares them with the goldens.

  /usr/bin/python3 tools/reference/fp16_graph_check.py --bundle DIR [--tokens N]

Why: ONNX Runtime's x86 CPU provider has no float16 kernels for most of the ops of a float16-compute
bundle (`dam convert --compute fp16`, see docs/cuda.md), and Debian 12's python3-onnx (1.12) has no
onnx.reference evaluator. This is a small interpreter of exactly the opset-17 ops the converter's
`--style standard` emits, written for this project. It models a GPU's float16 arithmetic: every node
computes from its (float16) inputs in float32 and rounds its output to the output type; MatMul and
Conv accumulate in float32 (as cuBLAS/cuDNN do for float16 GEMMs with float32 compute).

Prints one JSON object on stdout: per golden case the relative max error (max|a-b| / max|b|) of the
context and focal features, projector output and prefill logits, and the greedy tokens it decodes
next to the golden tokens with their golden margins. The Java test Fp16ComputeGraphTest runs this on
the tiny checkpoints and holds the numbers to its tolerances.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
GOLD = os.path.join(HERE, "goldens")

F16 = onnx.TensorProto.FLOAT16
DTYPES = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.FLOAT16: np.float16,
    onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.INT32: np.int32,
    onnx.TensorProto.BOOL: np.bool_,
    onnx.TensorProto.UINT8: np.uint8,
}


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _out_type(*xs):
    """float16 when any float input is float16 (the graphs never mix float16 and float32 inputs)."""
    for x in xs:
        if x.dtype == np.float16:
            return np.float16
    return xs[0].dtype


def _f32(x):
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _binary(fn):
    def run(a, b):
        t = _out_type(a, b)
        return fn(_f32(a), _f32(b)).astype(t)

    return run


def _unary(fn):
    def run(x):
        return fn(_f32(x)).astype(x.dtype)

    return run


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _softmax(x, axis):
    x = _f32(x)
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def _layer_norm(x, scale, bias, axis, eps):
    t = x.dtype
    x = _f32(x)
    mean = x.mean(axis=axis, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axis, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps) * _f32(scale)
    if bias is not None:
        y = y + _f32(bias)
    return y.astype(t)


def _conv_patch(x, w, b, kernel, strides):
    """Conv with stride == kernel and no padding (the patch embedding), float32 accumulation."""
    if list(kernel) != list(strides):
        raise NotImplementedError("Conv: only stride == kernel")
    n, c, hgt, wid = x.shape
    o, _, kh, kw = w.shape
    gh, gw = hgt // kh, wid // kw
    p = _f32(x)[:, :, : gh * kh, : gw * kw].reshape(n, c, gh, kh, gw, kw)
    p = p.transpose(0, 2, 4, 1, 3, 5).reshape(n, gh * gw, c * kh * kw)
    y = p @ _f32(w).reshape(o, -1).T
    if b is not None:
        y = y + _f32(b)
    return y.transpose(0, 2, 1).reshape(n, o, gh, gw).astype(_out_type(x, w))


def _slice(x, starts, ends, axes=None, steps=None):
    axes = range(len(starts)) if axes is None else axes
    idx = [slice(None)] * x.ndim
    for i, ax in enumerate(axes):
        st = 1 if steps is None else int(steps[i])
        idx[int(ax)] = slice(int(starts[i]), int(min(ends[i], 2**62)), st)
    return x[tuple(idx)]


class Graph:
    """One ONNX graph (external data loaded) evaluated node by node."""

    def __init__(self, path):
        self.model = onnx.load(path, load_external_data=True)
        g = self.model.graph
        self.init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        self.inputs = [i.name for i in g.input]
        self.outputs = [o.name for o in g.output]

    def run(self, feeds):
        env = dict(self.init)
        env.update(feeds)
        for node in self.model.graph.node:
            ins = [env[n] if n else None for n in node.input]
            outs = self._node(node, ins, _attrs(node))
            for name, v in zip(node.output, outs):
                env[name] = v
        return {o: env[o] for o in self.outputs}

    def _node(self, node, x, a):
        op = node.op_type
        if node.domain not in ("", "ai.onnx"):
            raise NotImplementedError("contrib op %s: convert with --style standard" % op)
        simple = {
            "Add": _binary(np.add),
            "Sub": _binary(np.subtract),
            "Mul": _binary(np.multiply),
            "Div": _binary(np.divide),
            "Sigmoid": _unary(lambda v: 1.0 / (1.0 + np.exp(-v))),
            "Tanh": _unary(np.tanh),
            "Erf": _unary(lambda v: _erf(v).astype(np.float32)),
            "Neg": np.negative,
            "Sqrt": _unary(np.sqrt),
            "Reciprocal": _unary(lambda v: 1.0 / v),
        }
        if op in simple:
            return [simple[op](*x)]
        if op == "MatMul":
            return [np.matmul(_f32(x[0]), _f32(x[1])).astype(_out_type(x[0], x[1]))]
        if op == "Cast":
            return [x[0].astype(DTYPES[a["to"]])]
        if op == "Gather":
            return [np.take(x[0], x[1], axis=a.get("axis", 0))]
        if op == "Shape":
            return [np.array(x[0].shape, dtype=np.int64)]
        if op == "Range":
            return [np.arange(x[0], x[1], x[2], dtype=x[0].dtype)]
        if op == "Unsqueeze":
            y = x[0]
            for ax in sorted(int(v) % (y.ndim + len(x[1])) for v in x[1]):
                y = np.expand_dims(y, ax)
            return [y]
        if op == "LessOrEqual":
            return [np.less_equal(x[0], x[1])]
        if op == "And":
            return [np.logical_and(x[0], x[1])]
        if op == "Where":
            return [np.where(x[0], x[1], x[2]).astype(_out_type(x[1], x[2]))]
        if op == "Reshape":
            shape = [x[0].shape[i] if v == 0 else int(v) for i, v in enumerate(x[1])]
            return [x[0].reshape(shape)]
        if op == "Transpose":
            return [np.transpose(x[0], a["perm"])]
        if op == "Concat":
            return [np.concatenate(x, axis=a["axis"])]
        if op == "Split":
            sizes = np.cumsum(x[1])[:-1]
            return np.split(x[0], sizes, axis=a.get("axis", 0))
        if op == "Softmax":
            return [_softmax(x[0], a.get("axis", -1)).astype(x[0].dtype)]
        if op == "ReduceMean":
            return [_f32(x[0]).mean(axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))
                    .astype(x[0].dtype)]
        if op == "ReduceSum":
            return [x[0].sum(axis=tuple(int(v) for v in x[1]), keepdims=bool(a.get("keepdims", 1)))]
        if op == "LayerNormalization":
            return [_layer_norm(x[0], x[1], x[2] if len(x) > 2 else None, a.get("axis", -1),
                                a.get("epsilon", 1e-5))]
        if op == "Conv":
            return [_conv_patch(x[0], x[1], x[2] if len(x) > 2 else None, a["kernel_shape"],
                                a["strides"])]
        if op == "Pad":
            pads = [int(v) for v in x[1]]
            r = x[0].ndim
            return [np.pad(x[0], [(pads[i], pads[i + r]) for i in range(r)])]
        if op == "Slice":
            return [_slice(*x)]
        if op == "Expand":
            return [x[0] * np.ones(tuple(int(v) for v in x[1]), dtype=x[0].dtype)]
        raise NotImplementedError("op " + op)


def rel_max(a, b):
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError("shape %s vs %s" % (a.shape, b.shape))
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def golden(t, dtype=np.float32):
    return np.fromfile(os.path.join(GOLD, t["file"]), dtype=dtype)


def pixels(region, which):
    px = region["pixels"]
    rgb = np.asarray(Image.open(os.path.join(GOLD, px[which + "_rgb"]["file"])).convert("RGB"))
    m = np.asarray(Image.open(os.path.join(GOLD, px[which + "_mask"]["file"])))
    if m.ndim == 3:
        m = m[..., 0]
    planes = np.concatenate([rgb.transpose(2, 0, 1), m[None]], axis=0)
    x = (planes.astype(np.float64) * 0.00392156862745098).astype(np.float32)
    return ((x - np.float32(0.5)) / np.float32(0.5))[None].astype(np.float32)


def check(bundle, max_tokens):
    with open(os.path.join(bundle, "dam-bundle.json")) as fh:
        man = json.load(fh)
    d = man["dims"]
    kv_type = np.float16 if d["kvDtype"] == "float16" else np.float32
    gr = {k: Graph(os.path.join(bundle, v["file"])) for k, v in man["graphs"].items()}
    ckpt_name = man["modelName"]
    with open(os.path.join(GOLD, "index.json")) as fh:
        cases = [c for c in json.load(fh)["cases"]
                 if os.path.basename(c["checkpoint"]) == ckpt_name]
    per = d["visionTokens"] * d["visionHidden"]
    report = {"bundle": bundle, "kvDtype": d["kvDtype"], "cases": []}
    for c in cases:
        t = c["tensors"]
        r = {"name": c["name"]}
        region = c["regions"][0]
        if "context_features" in t:
            gctx = golden(t["context_features"])[:per].reshape(1, d["visionTokens"], -1)
            ctx = gr["visionContext"].run({"pixel_values": pixels(region, "full")})
            r["context"] = rel_max(ctx["context_features"], gctx)
            if not region["equal_full_and_crop"]:
                foc = gr["visionFocal"].run({"pixel_values": pixels(region, "crop"),
                                             "context_features": gctx})
                gfoc = golden(t["focal_features"])[:per].reshape(gctx.shape)
                r["focal"] = rel_max(foc["focal_features"], gfoc)
                if len(c["regions"]) == 1:
                    proj = gr["projector"].run({"image_features": gfoc})
                    r["projector"] = rel_max(proj["image_embeds"], golden(t["projector_output"]))
        ids = golden(t["prompt_ids"], np.int64)
        images = golden(t["projector_output"]).reshape(-1, d["imageTokens"], d["hidden"])
        text = gr["embedTokens"].run({"input_ids": np.where(ids == -200, 0, ids)[None]})
        text = text["inputs_embeds"][0]
        parts, k = [], 0
        for i, v in enumerate(ids):
            if v == -200:
                parts.append(images[k])
                k += 1
            else:
                parts.append(text[i:i + 1])
        embeds = np.concatenate(parts)[None].astype(np.float32)
        empty = np.zeros((1, d["kvHeads"], 0, d["headDim"]), dtype=kv_type)
        past = {}
        for layer in range(d["layers"]):
            past["past_key_values.%d.key" % layer] = empty
            past["past_key_values.%d.value" % layer] = empty
        want = golden(t["tokens"], np.int64) if c["mode"] == "greedy" else np.zeros(0, np.int64)
        got, length, x = [], 0, embeds
        steps = min(len(want), max_tokens) if c["mode"] == "greedy" else 1
        for step in range(max(steps, 1)):
            n = x.shape[1]
            feeds = dict(past)
            feeds["inputs_embeds"] = x
            feeds["attention_mask"] = np.ones((1, length + n), dtype=np.int64)
            feeds["position_ids"] = np.arange(length, length + n, dtype=np.int64)[None]
            out = gr["decoder"].run(feeds)
            for layer in range(d["layers"]):
                past["past_key_values.%d.key" % layer] = out["present.%d.key" % layer]
                past["past_key_values.%d.value" % layer] = out["present.%d.value" % layer]
            length += n
            logits = out["logits"].astype(np.float32).ravel()
            if step == 0:
                r["prefill_logits"] = rel_max(logits, golden(t["prefill_last_logits"]))
                r["logits_dtype"] = str(out["logits"].dtype)
                r["present_dtype"] = str(out["present.0.key"].dtype)
            if c["mode"] != "greedy":
                break
            tok = int(np.argmax(logits))
            got.append(tok)
            x = text_embed(gr["embedTokens"], tok)
        if c["mode"] == "greedy":
            r["tokens"] = got
            r["golden_tokens"] = [int(v) for v in want[: len(got)]]
            r["golden_margins"] = [float(v) for v in golden(t["top1_top2_margins"])[: len(got)]]
        report["cases"].append(r)
    return report


def text_embed(g, tok):
    return g.run({"input_ids": np.array([[tok]], dtype=np.int64)})["inputs_embeds"].astype(
        np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--tokens", type=int, default=32, help="greedy tokens per case (default 32)")
    args = ap.parse_args()
    json.dump(check(args.bundle, args.tokens), sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
