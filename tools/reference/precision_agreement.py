"""How often greedy tokens differ between an fp16-faithful decoder (what the official code runs on
CUDA) and the float32 / int8 / int4 arithmetic of our bundles.

Real DAM-3B decoder width (hidden 2560, 20 heads, MLP 6912, vocab 32000) with the random weights of
make_checkpoint.py's "bench" preset at reduced depth (--layers, default 2), stored as float16 as the
real checkpoint is. Prompts are random token ids (BOS first); each mode decodes --tokens greedy
tokens (EOS not honoured, so every sequence has the same length) for --prompts prompts in one batch.

Modes (all PyTorch on CPU; torch 1.13 has no float16 matmul on CPU, so float16 is emulated by
rounding to float16 after every op where transformers' LlamaForCausalLM in float16 rounds):
  fp16  weights float16; every linear output, residual add, RoPE product, SiLU/product, RMSNorm
        output and the logits rounded to float16; RMSNorm statistics and the softmax in float32
        (as LlamaRMSNorm and the fp32-upcast softmax do); matmuls accumulate in float32 (as cuBLAS).
  fp32  float32 throughout (our fp32 bundle; it matches this reference to ~1e-6, see conversion.md).
  int8 / int4  q/k/v/o/gate/up/down weights quantized exactly as dam-convert's Quantizer does
        (symmetric round-to-nearest, blocks of 32 along K, no zero point); activations entering those
        matmuls quantized to int8 per 32-block (our bundles' MatMulNBits accuracy_level 4); the rest
        float32. This emulates ONNX Runtime's kernel; it is not ONNX Runtime itself.

Reported per mode against fp16: sequences identical over all tokens; mean number of leading tokens
equal; and teacher-forced top-1 agreement (each mode scores the fp16 mode's own sequence, so one
early flip does not cascade). Also the fp16 mode's top-1/top-2 logit margins.

Cost: about 7 full passes of prompts x (prompt-len + tokens) positions through the decoder (about
3e12 multiply-adds at the defaults with 2 layers); on an AVX-512 CPU with Debian's OpenBLAS set
OPENBLAS_CORETYPE=SkylakeX (see docs/PERFORMANCE.md "Fairness and method"), else it is ~5x slower.

Usage: /usr/bin/python3 tools/reference/precision_agreement.py [--layers 2] [--prompts 128]
       [--tokens 100] [--prompt-len 32] [--threads 2]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_checkpoint  # noqa: E402  (weights of the bench preset; not modified here)


def r16(x):
    return x.half().float()


def ident(x):
    return x


def quant_rows(w, bits, block=32):
    """dam-convert Quantizer: per row, blocks of `block` along K, scale = absmax / qmax,
    q = round-half-up(w / scale) clamped to +-qmax; returns the dequantized weights."""
    n, k = w.shape
    pad = (-k) % block
    wp = F.pad(w, (0, pad)).view(n, -1, block)
    qmax = (1 << (bits - 1)) - 1
    scale = wp.abs().amax(dim=2, keepdim=True) / qmax
    inv = torch.where(scale == 0, torch.zeros_like(scale), 1.0 / scale)
    q = torch.floor(wp * inv + 0.5).clamp(-qmax, qmax)
    return (q * scale).view(n, -1)[:, :k].contiguous()


def quant_act(x, block=32):
    """int8 symmetric per-32-block quantization of activations along the last axis."""
    k = x.shape[-1]
    xs = x.reshape(-1, k // block, block)
    scale = xs.abs().amax(dim=2, keepdim=True) / 127.0
    inv = torch.where(scale == 0, torch.zeros_like(scale), 1.0 / scale)
    q = torch.round(xs * inv).clamp(-127, 127)
    return (q * scale).reshape(x.shape)


class Decoder:
    QUANTIZED = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

    def __init__(self, p, w16, mode):
        self.p, self.mode = p, mode
        self.r = r16 if mode == "fp16" else ident
        self.w = {}
        bits = {"int8": 8, "int4": 4}.get(mode)
        for k, v in w16.items():
            t = torch.from_numpy(v).float()  # float16 values widened
            if bits and k.split(".")[-2] in self.QUANTIZED:
                t = quant_rows(t, bits)
            self.w[k] = t
        hd = p["l_hidden"] // p["l_heads"]
        inv = 1.0 / (p["rope"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        ang = torch.outer(torch.arange(p["max_pos"], dtype=torch.float32), inv)
        emb = torch.cat((ang, ang), dim=-1)
        self.cos, self.sin = self.r(emb.cos()), self.r(emb.sin())  # HF caches them in the model dtype

    def lin(self, x, name):
        if self.mode in ("int8", "int4"):
            x = quant_act(x)
        return self.r(F.linear(x, self.w[name]))

    def rms(self, h, name):
        x = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.p["rms_eps"])
        return self.r(self.w[name] * self.r(x))

    @staticmethod
    def rot(x):
        h = x.shape[-1] // 2
        return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

    def forward(self, ids, cache):
        """ids (B, T) int64; cache list of (k, v) (B, heads, P, hd) or None. Returns logits (B, T, V)."""
        p, r = self.p, self.r
        B, T = ids.shape
        H, nh = p["l_hidden"], p["l_heads"]
        hd = H // nh
        past = 0 if cache is None else cache[0][0].shape[2]
        cos = self.cos[past:past + T][None, None]
        sin = self.sin[past:past + T][None, None]
        causal = torch.full((T, past + T), float("-inf")).triu(past + 1)
        h = self.w["model.embed_tokens.weight"][ids]
        new = []
        for i in range(p["l_layers"]):
            b = "model.layers.%d." % i
            x = self.rms(h, b + "input_layernorm.weight")
            q = self.lin(x, b + "self_attn.q_proj.weight").view(B, T, nh, hd).transpose(1, 2)
            k = self.lin(x, b + "self_attn.k_proj.weight").view(B, T, nh, hd).transpose(1, 2)
            v = self.lin(x, b + "self_attn.v_proj.weight").view(B, T, nh, hd).transpose(1, 2)
            q = r(r(q * cos) + r(self.rot(q) * sin))
            k = r(r(k * cos) + r(self.rot(k) * sin))
            if cache is not None:
                k = torch.cat((cache[i][0], k), dim=2)
                v = torch.cat((cache[i][1], v), dim=2)
            new.append((k, v))
            a = r(torch.matmul(q, k.transpose(2, 3)) / (hd ** 0.5)) + causal
            a = r(torch.softmax(a, dim=-1))  # fp32 softmax, cast back to the model dtype
            o = r(torch.matmul(a, v)).transpose(1, 2).reshape(B, T, H)
            h = r(h + self.lin(o, b + "self_attn.o_proj.weight"))
            x = self.rms(h, b + "post_attention_layernorm.weight")
            g = r(r(F.silu(self.lin(x, b + "mlp.gate_proj.weight"))) * self.lin(x, b + "mlp.up_proj.weight"))
            h = r(h + self.lin(g, b + "mlp.down_proj.weight"))
        h = self.rms(h, "model.norm.weight")
        return r(F.linear(h, self.w["lm_head.weight"])), new

    @torch.no_grad()
    def greedy(self, prompts, n):
        logits, cache = self.forward(prompts, None)
        out = []
        for step in range(n):
            t = torch.argmax(logits[:, -1], dim=-1)  # first index among equal maxima
            out.append(t)
            if step + 1 < n:
                logits, cache = self.forward(t[:, None], cache)
        return torch.stack(out, dim=1)

    @torch.no_grad()
    def teacher_forced(self, prompts, seq):
        """argmax at each generated position when fed prompts + seq[:, :-1]."""
        full = torch.cat((prompts, seq[:, :-1]), dim=1)
        logits, _ = self.forward(full, None)
        return torch.argmax(logits[:, prompts.shape[1] - 1:], dim=-1)


def first_divergence(seq, ref):
    """Per row: index of the first token differing from ref, or len when identical."""
    eq = seq == ref
    n = ref.shape[1]
    return torch.where(eq.all(dim=1), torch.full((ref.shape[0],), n), (~eq).int().argmax(dim=1))


DIVERGENCE_BINS = ((0, 10), (10, 25), (25, 50), (50, 100))


def agreement(seq, ref, forced=None):
    """Metrics of seq (B, n) against the reference sequences ref (B, n); forced = the argmax of the
    mode when teacher-forced along ref (B, n), if known."""
    lead = first_divergence(seq, ref)
    n = ref.shape[1]
    out = dict(identical_sequences=int((lead == n).sum()), mean_leading_equal=float(lead.float().mean()),
               min_leading_equal=int(lead.min()), median_first_divergence=float(lead.float().median()),
               token_agreement=float((seq == ref).float().mean()))
    out["first_divergence_bins"] = {"%d-%d" % (a, b - 1): int(((lead >= a) & (lead < b)).sum())
                                    for a, b in DIVERGENCE_BINS if a < n}
    if forced is not None:
        out["teacher_forced_top1"] = float((forced == ref).float().mean())
    return out


def margin_summary(margin, top1p):
    q = lambda t, x: float(t.quantile(x))  # noqa: E731
    return dict(positions=int(margin.numel()), p10=q(margin, 0.1), p25=q(margin, 0.25), median=q(margin, 0.5),
                p75=q(margin, 0.75), p90=q(margin, 0.9), below_0_1=float((margin < 0.1).float().mean()),
                below_1=float((margin < 1).float().mean()), ties=int((margin == 0).sum()),
                top1_prob_median=q(top1p, 0.5), top1_prob_p10=q(top1p, 0.1))


def compare(a):
    """Agreement of engine outputs (./dam bench agree) with the saved fp16 reference."""
    with open(os.path.join(a.compare, "prompts.json")) as fh:
        ref = torch.tensor(json.load(fh)["reference"])
    with open(os.path.join(a.compare, "reference.json")) as fh:
        res = json.load(fh)
    for spec in a.engine:
        name, path = spec.split("=", 1)
        with open(path) as fh:
            e = json.load(fh)
        forced = torch.tensor(e["forced_argmax"]) if e.get("forced_argmax") else None
        res["engine_" + name] = agreement(torch.tensor(e["tokens"]), ref, forced)
        res["engine_" + name]["seconds"] = e.get("seconds")
        print(name, json.dumps(res["engine_" + name]), flush=True)
    print(json.dumps(res, indent=1))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--prompts", type=int, default=128)
    ap.add_argument("--tokens", type=int, default=100)
    ap.add_argument("--prompt-len", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lm-peak", type=float, default=None, help="make_checkpoint.py --lm-peak (structured lm_head)")
    ap.add_argument("--modes", default="fp32,int8,int4", help="emulated modes compared with fp16 ('' for none)")
    ap.add_argument("--save", default=None, help="write prompts.json (prompts + fp16 tokens) and reference.json here")
    ap.add_argument("--compare", default=None, help="a --save folder: score the --engine outputs against it")
    ap.add_argument("--engine", action="append", default=[], help="NAME=FILE from ./dam bench agree (with --compare)")
    ap.add_argument("--json", default=None, help="write the results here too")
    a = ap.parse_args()
    if a.compare:
        return compare(a)
    torch.set_num_threads(a.threads)
    p = make_checkpoint.preset_params("bench", a.layers, lm_peak=a.lm_peak)
    t0 = time.time()
    w = {k: v.materialize().astype(np.float16) for k, v in make_checkpoint.llm_weights(p, a.seed).items()}
    print("weights: %.0f s" % (time.time() - t0), flush=True)
    g = torch.Generator().manual_seed(1234)
    prompts = torch.randint(3, p["vocab"], (a.prompts, a.prompt_len), generator=g)
    prompts[:, 0] = 1
    res = {}
    t0 = time.time()
    fp16 = Decoder(p, w, "fp16")
    ref = fp16.greedy(prompts, a.tokens)
    with torch.no_grad():
        lg, _ = fp16.forward(torch.cat((prompts, ref[:, :-1]), dim=1), None)
        lg = lg[:, a.prompt_len - 1:].float()
        top2 = torch.topk(lg, 2, dim=-1).values
        margin = (top2[..., 0] - top2[..., 1]).flatten()
        top1p = torch.softmax(lg, dim=-1).amax(dim=-1).flatten()
    del fp16, lg
    print("fp16: %.0f s" % (time.time() - t0), flush=True)
    res["fp16_margin"] = margin_summary(margin, top1p)
    res["setup"] = dict(layers=a.layers, prompts=a.prompts, tokens=a.tokens, prompt_len=a.prompt_len,
                        hidden=p["l_hidden"], vocab=p["vocab"], lm_peak=a.lm_peak, seed=a.seed,
                        torch=torch.__version__)
    if a.save:
        os.makedirs(a.save, exist_ok=True)
        with open(os.path.join(a.save, "prompts.json"), "w") as fh:
            json.dump(dict(prompts=prompts.tolist(), tokens=a.tokens, reference=ref.tolist()), fh)
    for mode in [m for m in a.modes.split(",") if m]:
        t0 = time.time()
        m = Decoder(p, w, mode)
        s = m.greedy(prompts, a.tokens)
        res[mode] = agreement(s, ref, m.teacher_forced(prompts, ref))
        res[mode]["seconds"] = round(time.time() - t0)
        del m
        print("%s: %s" % (mode, json.dumps(res[mode])), flush=True)
    if a.save:
        with open(os.path.join(a.save, "reference.json"), "w") as fh:
            json.dump(res, fh, indent=1)
    print(json.dumps(res, indent=1))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
