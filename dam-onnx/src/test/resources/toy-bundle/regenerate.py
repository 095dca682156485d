#!/usr/bin/python3
"""A toy DAM bundle for the engine tests: the five graphs with the real I/O contract (names, roles,
shapes, KV cache with empty past) but tiny random weights and toy maths, plus a byte-level toy
tokenizer file. It proves the engine's plumbing (splice order, KV feedback, batching, threads);
numerical fidelity to DAM is proven by the converter's golden tests on the reference checkpoint.

Run from this directory with Debian's python3 (python3-onnx 1.12, numpy):  /usr/bin/python3 regenerate.py
"""
import hashlib
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

S, P = 56, 14            # imageSize, patchSize -> grid 4, N = 16 vision tokens, I = 4 image tokens
N, HV = 16, 6            # vision tokens, vision hidden
I, H = 4, 8              # image tokens, hidden
LAYERS, HEADS, HD = 2, 2, 4
V, MAXPOS = 259, 1024    # byte tokenizer: 0 pad, 1 BOS, 2 EOS, 3 + byte
rng = np.random.default_rng(20261126)


def w(name, *shape, scale=0.5):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def c64(name, vals):
    return numpy_helper.from_array(np.array(vals, dtype=np.int64), name)


def save(graph, fname):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="toy")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, fname)


def vision(focal):
    nodes = [
        helper.make_node("Conv", ["pixels", "conv_w", "conv_b"], ["c"], strides=[P, P]),
        helper.make_node("Reshape", ["c", "shape_bhn"], ["r"]),
        helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1]),
    ]
    inits = [w("conv_w", HV, 4, P, P, scale=0.05), w("conv_b", HV), c64("shape_bhn", [0, HV, -1])]
    inputs = [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["B", 4, S, S])]
    last = "t"
    if focal:
        inputs.append(helper.make_tensor_value_info("context", TensorProto.FLOAT, ["B", N, HV]))
        nodes += [helper.make_node("MatMul", ["context", "wc"], ["cc"]),
                  helper.make_node("Add", ["t", "cc"], ["s"])]
        inits.append(w("wc", HV, HV))
        last = "s"
    nodes.append(helper.make_node("Tanh", [last], ["features"]))
    out = [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["B", N, HV])]
    return helper.make_graph(nodes, "vision_focal" if focal else "vision_context", inputs, out, inits)


def projector():
    nodes = [helper.make_node("Reshape", ["features", "shape"], ["r"]),
             helper.make_node("MatMul", ["r", "w"], ["m"]),
             helper.make_node("Tanh", ["m"], ["embeds"])]
    return helper.make_graph(
        nodes, "projector",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["B", N, HV])],
        [helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["B", I, H])],
        [c64("shape", [0, I, (N // I) * HV]), w("w", (N // I) * HV, H)])


def embed_tokens():
    return helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["inputs_embeds"])], "embed_tokens",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["B", "T"])],
        [helper.make_tensor_value_info("inputs_embeds", TensorProto.FLOAT, ["B", "T", H])],
        [w("table", V, H)])


def decoder():
    nodes, inits = [], [w("pos_table", MAXPOS, H, scale=0.3), w("lm_head", H, V, scale=1.5),
                        c64("bthd", [0, 0, HEADS, HD]), c64("bth", [0, 0, H]), c64("two", 2),
                        c64("zero", 0), c64("one", 1), c64("ax13", [1, 3]), c64("ax12", [1, 2]),
                        c64("k4", [1, 1, 1, -1]), c64("m1", [-1]), c64("big", [2 ** 62]), c64("ax1", [1]),
                        numpy_helper.from_array(np.array(-1e9, dtype=np.float32), "neg"),
                        numpy_helper.from_array(np.array(HD ** -0.5, dtype=np.float32), "scale")]
    inputs = [helper.make_tensor_value_info("inputs_embeds", TensorProto.FLOAT, ["B", "T", H]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["B", "PT"]),
              helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["B", "T"])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["B", 1, V])]
    nodes += [helper.make_node("Gather", ["pos_table", "position_ids"], ["pe"]),
              helper.make_node("Add", ["inputs_embeds", "pe"], ["x0"]),
              helper.make_node("Unsqueeze", ["position_ids", "ax13"], ["qpos"]),
              helper.make_node("Equal", ["attention_mask", "zero"], ["pad0"]),
              helper.make_node("Unsqueeze", ["pad0", "ax12"], ["pad"])]
    x = "x0"
    for l in range(LAYERS):
        p = f"l{l}_"
        inits += [w(p + "wq", H, H), w(p + "wk", H, H), w(p + "wv", H, H), w(p + "wo", H, H),
                  w(p + "w1", H, 2 * H), w(p + "w2", 2 * H, H)]
        for t in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{l}.{t}", TensorProto.FLOAT,
                                                        ["B", HEADS, "P", HD]))
            outputs.append(helper.make_tensor_value_info(f"present.{l}.{t}", TensorProto.FLOAT,
                                                         ["B", HEADS, "PT", HD]))
        for n in ("q", "k", "v"):
            nodes += [helper.make_node("MatMul", [x, p + "w" + n], [p + n + "m"]),
                      helper.make_node("Reshape", [p + n + "m", "bthd"], [p + n + "r"]),
                      helper.make_node("Transpose", [p + n + "r"], [p + n], perm=[0, 2, 1, 3])]
        nodes += [
            helper.make_node("Concat", [f"past_key_values.{l}.key", p + "k"], [f"present.{l}.key"], axis=2),
            helper.make_node("Concat", [f"past_key_values.{l}.value", p + "v"], [f"present.{l}.value"], axis=2),
            helper.make_node("Transpose", [f"present.{l}.key"], [p + "kt"], perm=[0, 1, 3, 2]),
            helper.make_node("MatMul", [p + "q", p + "kt"], [p + "s0"]),
            helper.make_node("Mul", [p + "s0", "scale"], [p + "s1"]),
            helper.make_node("Shape", [f"present.{l}.key"], [p + "shp"]),
            helper.make_node("Gather", [p + "shp", "two"], [p + "len"]),
            helper.make_node("Range", ["zero", p + "len", "one"], [p + "krange"]),
            helper.make_node("Reshape", [p + "krange", "k4"], [p + "kpos"]),
            helper.make_node("Greater", [p + "kpos", "qpos"], [p + "causal"]),
            helper.make_node("Or", [p + "causal", "pad"], [p + "blocked"]),
            helper.make_node("Where", [p + "blocked", "neg", p + "s1"], [p + "s2"]),
            helper.make_node("Softmax", [p + "s2"], [p + "pr"], axis=-1),
            helper.make_node("MatMul", [p + "pr", f"present.{l}.value"], [p + "o0"]),
            helper.make_node("Transpose", [p + "o0"], [p + "o1"], perm=[0, 2, 1, 3]),
            helper.make_node("Reshape", [p + "o1", "bth"], [p + "o2"]),
            helper.make_node("MatMul", [p + "o2", p + "wo"], [p + "o3"]),
            helper.make_node("Add", [x, p + "o3"], [p + "x1"]),
            helper.make_node("MatMul", [p + "x1", p + "w1"], [p + "h0"]),
            helper.make_node("Tanh", [p + "h0"], [p + "h1"]),
            helper.make_node("MatMul", [p + "h1", p + "w2"], [p + "h2"]),
            helper.make_node("Add", [p + "x1", p + "h2"], [p + "x2"]),
        ]
        x = p + "x2"
    nodes += [helper.make_node("Slice", [x, "m1", "big", "ax1"], ["last"]),
              helper.make_node("MatMul", ["last", "lm_head"], ["logits"])]
    return helper.make_graph(nodes, "decoder", inputs, outputs, inits)


def main():
    files = {"vision_context.onnx": vision(False), "vision_focal.onnx": vision(True),
             "projector.onnx": projector(), "embed_tokens.onnx": embed_tokens(), "decoder.onnx": decoder()}
    for f, g in files.items():
        save(g, f)
    with open("tokenizer.toy", "w") as f:
        f.write("byte-level toy tokenizer: 0 pad, 1 BOS, 2 EOS, 3 + UTF-8 byte\n")
    entries = []
    for f in sorted(list(files) + ["tokenizer.toy"]):
        data = open(f, "rb").read()
        entries.append({"path": f, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    kv = {"pastKey": "past_key_values.%d.key", "pastValue": "past_key_values.%d.value"}
    manifest = {
        "formatVersion": 1, "modelName": "toy", "variant": "image", "precision": "fp32",
        "style": "standard",
        "dims": {"imageSize": S, "patchSize": P, "visionTokens": N, "visionHidden": HV, "imageTokens": I,
                 "hidden": H, "layers": LAYERS, "heads": HEADS, "kvHeads": HEADS, "headDim": HD,
                 "vocabSize": V, "maxPositions": MAXPOS, "kvDtype": "float32"},
        "preprocess": {"imageMean": [0.5, 0.5, 0.5], "imageStd": [0.5, 0.5, 0.5], "resample": "bicubic",
                       "cropFactor": 3, "minBox": 48, "aspectRatio": "resize"},
        "prompt": {"conversation": "v1", "imageQuery": "Describe the masked region in detail.",
                   "videoQuery": "Given the video in the form of a sequence of frames above, describe the "
                                 "object in the masked region in the video in detail.",
                   "imageTokenIndex": -200},
        "tokens": {"bos": 1, "eos": 2, "pad": 0},
        "generation": {"temperature": 0.2, "topP": 0.5, "topK": 50, "maxNewTokens": 512},
        "tokenizer": "tokenizer.toy",
        "graphs": {
            "visionContext": {"file": "vision_context.onnx", "inputs": {"pixels": "pixels"},
                              "outputs": {"features": "features"}},
            "visionFocal": {"file": "vision_focal.onnx", "inputs": {"pixels": "pixels", "context": "context"},
                            "outputs": {"features": "features"}},
            "projector": {"file": "projector.onnx", "inputs": {"features": "features"},
                          "outputs": {"embeds": "embeds"}},
            "embedTokens": {"file": "embed_tokens.onnx", "inputs": {"ids": "input_ids"},
                            "outputs": {"embeds": "inputs_embeds"}},
            "decoder": {"file": "decoder.onnx",
                        "inputs": dict(embeds="inputs_embeds", attentionMask="attention_mask",
                                       positionIds="position_ids", **kv),
                        "outputs": {"logits": "logits", "presentKey": "present.%d.key",
                                    "presentValue": "present.%d.value"}},
        },
        "files": entries,
    }
    with open("dam-bundle.json", "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
