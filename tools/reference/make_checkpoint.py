#!/usr/bin/python3
"""Write a random DAM checkpoint in the nvidia/DAM-3B Hugging Face folder layout.

  make_checkpoint.py --preset tiny|bench --variant image|joint --out DIR [--seed N] [--layers N] [--dtype f16|bf16|f32]
                     [--kv-heads N] [--vocab N] [--top-k K] [--lm-peak A]

Weights come from a counter-based SplitMix64 stream (numpy, vectorised), seeded per tensor from
(seed, folder, tensor name), so the bytes depend only on the arguments - not on torch/numpy versions.
The tiny tokenizer is the committed fixtures/tokenizer/tiny-bpe.model (trained once with spm_train,
see --retrain-tokenizer); the bench tokenizer is that model padded with unreachable filler pieces to 32000.

Variants for edge-case goldens and the precision measurement (all off by default; the default bytes do
not change):
  --kv-heads N  num_key_value_heads (grouped-query attention when below the head count)
  --vocab N     vocab_size and the rows of embed_tokens / lm_head; the tokenizer keeps its own size, so
                N above it gives padded rows (the official loader drops them; here their lm_head rows
                are 10x louder, so a converter that kept them would emit their ids), N below it a
                checkpoint the official loader would extend with random rows
  --top-k K     top_k in llm/generation_config.json
  --lm-peak A   lm_head row pi(x) += A * H^-0.5 * embed_tokens row x, with pi(x) = (7919 x + 1) mod V:
                the decoder then strongly predicts pi(current token), so greedy top-1/top-2 margins are
                wide like a trained model's instead of the near-ties of independent random rows
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io  # noqa: E402

TOKENIZER_DIR = os.path.join(HERE, "fixtures", "tokenizer")
TINY_SPM = os.path.join(TOKENIZER_DIR, "tiny-bpe.model")
TF_VERSION = "4.37.2"  # guessed: the transformers version VILA1.5 / DAM pin

PRESETS = {
    "tiny": dict(v_hidden=32, v_heads=4, v_inter=128, v_layers=3, image=384, patch=14,
                 l_hidden=64, l_heads=4, l_kv=4, l_inter=128, l_layers=2, vocab=512,
                 rope=10000.0, rms_eps=1e-5, max_pos=4096),
    "bench": dict(v_hidden=1152, v_heads=16, v_inter=4304, v_layers=27, image=384, patch=14,
                  l_hidden=2560, l_heads=20, l_kv=20, l_inter=6912, l_layers=32, vocab=32000,
                  rope=10000.0, rms_eps=1e-5, max_pos=4096),
}

QK_GAIN = 2.0
M64 = (1 << 64) - 1
GAMMA = np.uint64(0x9E3779B97F4A7C15)


def splitmix_uniform(seed, n, start=0):
    """Values u_k in [0,1) for k = start..start+n-1: SplitMix64 output k+1 of state `seed`, (z>>>11)*2^-53."""
    with np.errstate(over="ignore"):
        idx = np.arange(start + 1, start + n + 1, dtype=np.uint64)
        z = np.uint64(seed & M64) + idx * GAMMA
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (2.0 ** -53)


def tensor_seed(seed, folder, name):
    h = hashlib.sha256(("%d/%s/%s" % (seed, folder, name)).encode()).digest()
    return int.from_bytes(h[:8], "little")


def rand_tensor(seed, folder, name, shape, std, mean=0.0):
    """Uniform on [mean - sqrt(3) std, mean + sqrt(3) std), float32, filled in chunks."""
    n = int(np.prod(shape))
    s = tensor_seed(seed, folder, name)
    out = np.empty(n, dtype=np.float32)
    chunk = 1 << 22
    for b in range(0, n, chunk):
        e = min(n, b + chunk)
        u = splitmix_uniform(s, e - b, start=b)
        out[b:e] = (mean + (2.0 * u - 1.0) * (np.sqrt(3.0) * std)).astype(np.float32)
    return out.reshape(shape)


def lazy_rand(seed, folder, name, shape, std, mean=0.0):
    """A tensor that is generated only when written: the writer streams one tensor at a time."""
    return safetensors_io.LazyTensor(shape, lambda: rand_tensor(seed, folder, name, shape, std, mean))


# ----------------------------------------------------------------------------------------- configs
def llm_config(p, name):
    return {
        "_name_or_path": name,
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": p["l_hidden"],
        "initializer_range": 0.02,
        "intermediate_size": p["l_inter"],
        "max_position_embeddings": p["max_pos"],
        "model_max_length": 4096,
        "model_type": "llama",
        "num_attention_heads": p["l_heads"],
        "num_hidden_layers": p["l_layers"],
        "num_key_value_heads": p["l_kv"],
        "pad_token_id": 0,
        "pretraining_tp": 1,
        "rms_norm_eps": p["rms_eps"],
        "rope_scaling": None,
        "rope_theta": p["rope"],
        "tie_word_embeddings": False,
        "tokenizer_model_max_length": 4096,
        "tokenizer_padding_side": "right",
        "torch_dtype": "float16",
        "transformers_version": TF_VERSION,
        "use_cache": True,
        "vocab_size": p["vocab"],
    }


def vision_config(p, name):
    return {
        "_name_or_path": name,
        "architectures": ["SiglipVisionModel"],
        "attention_dropout": 0.0,
        "hidden_act": "gelu_pytorch_tanh",
        "hidden_size": p["v_hidden"],
        "image_size": p["image"],
        "intermediate_size": p["v_inter"],
        "layer_norm_eps": 1e-06,
        "model_type": "siglip_vision_model",
        "num_attention_heads": p["v_heads"],
        "num_channels": 3,
        "num_hidden_layers": p["v_layers"],
        "num_mask_channels": 1,
        "patch_size": p["patch"],
        "torch_dtype": "float16",
        "transformers_version": TF_VERSION,
    }


def context_provider_config(p, name):
    return {
        "_name_or_path": name,
        "architectures": ["ContextProvider"],
        "attention_dropout": 0.0,
        "context_image_as_queries": False,
        "context_provider_layer_indices": None,
        "context_provider_type": "cross_attn_end_to_all",
        "crop_embedding_mode": "add",
        "crop_position_single_embedding": False,
        "hidden_act": "gelu_pytorch_tanh",
        "hidden_size": p["v_hidden"],
        "image_size": p["image"],
        "intermediate_size": p["v_inter"],
        "layer_norm_eps": 1e-06,
        "masked_cross_attn": False,
        "model_type": "context_provider",
        "num_attention_heads": p["v_heads"],
        "num_channels": 3,
        "num_hidden_layers": p["v_layers"],
        "num_mask_channels": 0,
        "patch_size": p["patch"],
        "residual_dropout": 0.0,
        "torch_dtype": "float16",
        "trainable_crop_position_embedding": True,
        "transformers_version": TF_VERSION,
        "treat_image_as_cimage": False,
        "zero_init_output": True,
    }


def projector_config(name):
    return {
        "_name_or_path": name,
        "architectures": ["MultimodalProjector"],
        "mm_projector_type": "mlp_downsample",
        "model_type": "v2l_projector",
        "torch_dtype": "float16",
        "transformers_version": TF_VERSION,
    }


PREPROCESSOR = {
    "do_normalize": True,
    "do_rescale": True,
    "do_resize": True,
    "image_mean": [0.5, 0.5, 0.5],
    "image_processor_type": "SiglipImageProcessor",
    "image_std": [0.5, 0.5, 0.5],
    "processor_class": "SiglipProcessor",
    "resample": 3,
    "rescale_factor": 0.00392156862745098,
    "size": {"height": 384, "width": 384},
}

GENERATION_CONFIG = {"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, "transformers_version": TF_VERSION}

SPECIAL_TOKENS_MAP = {
    "bos_token": {"content": "<s>", "lstrip": False, "normalized": False, "rstrip": False, "single_word": False},
    "eos_token": {"content": "</s>", "lstrip": False, "normalized": False, "rstrip": False, "single_word": False},
    "pad_token": "<unk>",
    "unk_token": {"content": "<unk>", "lstrip": False, "normalized": False, "rstrip": False, "single_word": False},
}


def tokenizer_config():
    tok = lambda c: {"__type": "AddedToken", "content": c, "lstrip": False, "normalized": False,  # noqa: E731
                     "rstrip": False, "single_word": False}
    return {
        "add_bos_token": True,
        "add_eos_token": False,
        "bos_token": tok("<s>"),
        "clean_up_tokenization_spaces": False,
        "eos_token": tok("</s>"),
        "legacy": False,
        "model_max_length": 4096,
        "pad_token": "<unk>",
        "padding_side": "right",
        "sp_model_kwargs": {},
        "tokenizer_class": "LlamaTokenizer",
        "unk_token": tok("<unk>"),
        "use_default_system_prompt": False,
    }


def root_config(p, variant, llm, vis, cp, proj):
    name = "DAM-3B-Video" if variant == "joint" else "DAM-3B"
    return {
        "_name_or_path": name,
        "architectures": ["LlavaLlamaModel"],
        "context_provider_cfg": cp,
        "drop_path_rate": 0.0,
        "hidden_size": p["l_hidden"],
        "image_aspect_ratio": "resize",
        "interpolate_mode": "linear",
        "llm_cfg": llm,
        "mask_encoder_cfg": None,
        "mm_hidden_size": p["v_hidden"],
        "mm_projector_cfg": proj,
        "mm_projector_lr": None,
        "mm_use_im_patch_token": False,
        "mm_use_im_start_end": False,
        "mm_vision_select_feature": "cls_patch",
        "mm_vision_select_layer": -2,
        "model_dtype": "torch.bfloat16",
        "model_type": "llava_llama",
        "num_video_frames": 8,
        "resume_path": None,
        "s2": False,
        "s2_max_split_size": 336,
        "s2_scales": "336,672,1008",
        "transformers_version": TF_VERSION,
        "tune_language_model": False,
        "tune_mm_projector": False,
        "tune_vision_tower": False,
        "vision_resolution": -1,
        "vision_tower_cfg": vis,
    }


# ----------------------------------------------------------------------------------------- weights
def linear(seed, folder, prefix, out_f, in_f, bias=True, std=None):
    t = {prefix + ".weight": lazy_rand(seed, folder, prefix + ".weight", (out_f, in_f), std or in_f ** -0.5)}
    if bias:
        t[prefix + ".bias"] = lazy_rand(seed, folder, prefix + ".bias", (out_f,), 0.02)
    return t


def layernorm(seed, folder, prefix, n, bias=True):
    t = {prefix + ".weight": lazy_rand(seed, folder, prefix + ".weight", (n,), 0.1, mean=1.0)}
    if bias:
        t[prefix + ".bias"] = lazy_rand(seed, folder, prefix + ".bias", (n,), 0.05)
    return t


def vision_weights(p, seed):
    f, H, I, P = "vision_tower", p["v_hidden"], p["v_inter"], p["patch"]
    n_pos = (p["image"] // P) ** 2
    e = "vision_model.embeddings."
    t = {
        e + "patch_embedding.weight": lazy_rand(seed, f, e + "patch_embedding.weight", (H, 3, P, P), (3 * P * P) ** -0.5),
        e + "patch_embedding.bias": lazy_rand(seed, f, e + "patch_embedding.bias", (H,), 0.1),
        e + "mask_patch_embedding.weight": lazy_rand(seed, f, e + "mask_patch_embedding.weight", (H, 1, P, P), 0.5 * (P * P) ** -0.5),
        e + "mask_patch_embedding.bias": lazy_rand(seed, f, e + "mask_patch_embedding.bias", (H,), 0.1),
        e + "position_embedding.weight": lazy_rand(seed, f, e + "position_embedding.weight", (n_pos, H), 0.5),
    }
    for i in range(p["v_layers"]):
        b = "vision_model.encoder.layers.%d." % i
        for n in ("k_proj", "v_proj", "q_proj", "out_proj"):
            t.update(linear(seed, f, b + "self_attn." + n, H, H))
        t.update(layernorm(seed, f, b + "layer_norm1", H))
        t.update(layernorm(seed, f, b + "layer_norm2", H))
        t.update(linear(seed, f, b + "mlp.fc1", I, H))
        t.update(linear(seed, f, b + "mlp.fc2", H, I))
    t.update(layernorm(seed, f, "vision_model.post_layernorm", H))
    # Attention-pooling head: unused by DAM, present in the real checkpoint.
    h = "vision_model.head."
    t[h + "probe"] = lazy_rand(seed, f, h + "probe", (1, 1, H), 1.0)
    t[h + "attention.in_proj_weight"] = lazy_rand(seed, f, h + "attention.in_proj_weight", (3 * H, H), H ** -0.5)
    t[h + "attention.in_proj_bias"] = lazy_rand(seed, f, h + "attention.in_proj_bias", (3 * H,), 0.02)
    t.update(linear(seed, f, h + "attention.out_proj", H, H))
    t.update(layernorm(seed, f, h + "layernorm", H))
    t.update(linear(seed, f, h + "mlp.fc1", I, H))
    t.update(linear(seed, f, h + "mlp.fc2", H, I))
    return t


def context_provider_weights(p, seed):
    f, H, I = "context_provider", p["v_hidden"], p["v_inter"]
    t = {}
    for i in range(p["v_layers"]):
        b = "context_provider_module.layers.%d." % i
        for n in ("k_proj", "v_proj", "q_proj", "out_proj"):
            t.update(linear(seed, f, b + "cross_attn." + n, H, H))
        t.update(layernorm(seed, f, b + "layer_norm1", H))
        t.update(layernorm(seed, f, b + "layer_norm2", H))
        t.update(linear(seed, f, b + "mlp.fc1", I, H))
        t.update(linear(seed, f, b + "mlp.fc2", H, I))
        # Gates: zero-initialised in training; nonzero here so the adapters matter.
        t[b + "attn_factor"] = lazy_rand(seed, f, b + "attn_factor", (1,), 0.05, mean=0.5)
        t[b + "mlp_factor"] = lazy_rand(seed, f, b + "mlp_factor", (1,), 0.05, mean=0.5)
    return t


def projector_weights(p, seed):
    f, H4, L = "mm_projector", 4 * p["v_hidden"], p["l_hidden"]
    t = {}
    t.update(layernorm(seed, f, "layers.1", H4))
    t.update(linear(seed, f, "layers.2", L, H4))
    t.update(linear(seed, f, "layers.4", L, L))
    return t


PEAK_MULT = 7919  # prime, coprime with 32000 and 512: pi(x) = (PEAK_MULT x + 1) mod V is a permutation


def peaked_lm_head(seed, f, V, L, peak):
    """lm_head = random + peak * L^-0.5 * embed_tokens[pi^-1(v)] (see --lm-peak)."""
    w = rand_tensor(seed, f, "lm_head.weight", (V, L), 3.0 * L ** -0.5)
    e = rand_tensor(seed, f, "model.embed_tokens.weight", (V, L), 1.0)
    pi = (np.arange(V, dtype=np.int64) * PEAK_MULT + 1) % V
    w[pi] += np.float32(peak * L ** -0.5) * e
    return w


def loud_padding(seed, f, V, L, n):
    """lm_head whose rows from n on (beyond the tokenizer) are 10x the others (see --vocab)."""
    w = rand_tensor(seed, f, "lm_head.weight", (V, L), 3.0 * L ** -0.5)
    w[n:] *= np.float32(10.0)
    return w


def llm_weights(p, seed):
    f, L, I, V = "llm", p["l_hidden"], p["l_inter"], p["vocab"]
    hd = L // p["l_heads"]
    kvd = hd * p["l_kv"]
    t = {"model.embed_tokens.weight": lazy_rand(seed, f, "model.embed_tokens.weight", (V, L), 1.0)}
    for i in range(p["l_layers"]):
        b = "model.layers.%d." % i
        # q/k scaled up so attention is peaked enough for the image tokens to steer the output
        t.update(linear(seed, f, b + "self_attn.q_proj", L, L, bias=False, std=QK_GAIN * L ** -0.5))
        t.update(linear(seed, f, b + "self_attn.k_proj", kvd, L, bias=False, std=QK_GAIN * L ** -0.5))
        t.update(linear(seed, f, b + "self_attn.v_proj", kvd, L, bias=False))
        t.update(linear(seed, f, b + "self_attn.o_proj", L, L, bias=False))
        t.update(linear(seed, f, b + "mlp.gate_proj", I, L, bias=False))
        t.update(linear(seed, f, b + "mlp.up_proj", I, L, bias=False))
        t.update(linear(seed, f, b + "mlp.down_proj", L, I, bias=False))
        t.update(layernorm(seed, f, b + "input_layernorm", L, bias=False))
        t.update(layernorm(seed, f, b + "post_attention_layernorm", L, bias=False))
    t.update(layernorm(seed, f, "model.norm", L, bias=False))
    if V > p.get("tok_vocab", V):
        n = p["tok_vocab"]
        t["lm_head.weight"] = safetensors_io.LazyTensor((V, L), lambda: loud_padding(seed, f, V, L, n))
    elif p.get("lm_peak"):
        peak = p["lm_peak"]
        t["lm_head.weight"] = safetensors_io.LazyTensor((V, L), lambda: peaked_lm_head(seed, f, V, L, peak))
    else:
        t["lm_head.weight"] = lazy_rand(seed, f, "lm_head.weight", (V, L), 3.0 * L ** -0.5)
    return t


# ----------------------------------------------------------------------------------------- tokenizer
def train_tiny_tokenizer(out_model, vocab=512):
    with tempfile.TemporaryDirectory() as td:
        prefix = os.path.join(td, "tiny")
        subprocess.run(["spm_train", "--input=" + os.path.join(TOKENIZER_DIR, "corpus.txt"), "--model_prefix=" + prefix,
                        "--vocab_size=%d" % vocab, "--model_type=bpe", "--byte_fallback=true",
                        "--normalization_rule_name=identity", "--remove_extra_whitespaces=false",
                        "--add_dummy_prefix=true", "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1",
                        "--character_coverage=1.0", "--num_threads=1", "--split_digits=true",
                        "--allow_whitespace_only_pieces=true", "--minloglevel=2"], check=True)
        shutil.copyfile(prefix + ".model", out_model)


def padded_tokenizer_bytes(vocab):
    """The tiny BPE model with unreachable filler pieces appended up to `vocab` pieces."""
    from sentencepiece import sentencepiece_model_pb2 as pb
    m = pb.ModelProto()
    with open(TINY_SPM, "rb") as fh:
        m.ParseFromString(fh.read())
    low = min(p.score for p in m.pieces)
    i = 0
    while len(m.pieces) < vocab:
        piece = m.pieces.add()
        piece.piece = "\u2581x%05d" % i  # digits are split (split_digits) so never formed by merges
        piece.score = low - 1.0 - i
        piece.type = pb.ModelProto.SentencePiece.NORMAL
        i += 1
    m.trainer_spec.vocab_size = vocab
    return m.SerializeToString()


# ----------------------------------------------------------------------------------------- main
def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True)
        fh.write("\n")


def preset_params(preset, layers=None, kv_heads=None, vocab=None, lm_peak=None):
    p = dict(PRESETS[preset])
    if layers:
        p["v_layers"] = layers
        p["l_layers"] = layers
    if kv_heads:
        p["l_kv"] = kv_heads
    p["tok_vocab"] = p["vocab"]  # the tokenizer's size: the preset's, whatever --vocab says
    if vocab:
        p["vocab"] = vocab
    if lm_peak:
        p["lm_peak"] = lm_peak
    return p


def make_checkpoint(preset, variant, out, seed=None, layers=None, dtype="f16", kv_heads=None, vocab=None,
                    top_k=None, lm_peak=None):
    p = preset_params(preset, layers, kv_heads, vocab, lm_peak)
    if seed is None:
        seed = 1 if variant == "image" else 2
    st_dtype = {"f16": "F16", "bf16": "BF16", "f32": "F32"}[dtype]
    tdt = {"f16": "float16", "bf16": "bfloat16", "f32": "float32"}[dtype]
    os.makedirs(out, exist_ok=True)
    llm = llm_config(p, "./llm")
    vis = vision_config(p, "./vision_tower")
    cp = context_provider_config(p, "./context_provider")
    proj = projector_config("./mm_projector")
    for c in (llm, vis, cp, proj):
        c["torch_dtype"] = tdt
    meta = {"format": "pt", "generator": "dam-java tools/reference/make_checkpoint.py",
            "preset": preset, "variant": variant, "seed": str(seed), "dtype": dtype}
    parts = [("llm", llm, llm_weights), ("vision_tower", vis, vision_weights),
             ("context_provider", cp, context_provider_weights), ("mm_projector", proj, projector_weights)]
    for folder, cfg, fn in parts:
        d = os.path.join(out, folder)
        os.makedirs(d, exist_ok=True)
        write_json(os.path.join(d, "config.json"), cfg)
        safetensors_io.save_file(fn(p, seed), os.path.join(d, "model.safetensors"), dtype=st_dtype, metadata=meta)
    write_json(os.path.join(out, "vision_tower", "preprocessor_config.json"), PREPROCESSOR)
    gen = dict(GENERATION_CONFIG)
    if top_k is not None:
        gen["top_k"] = top_k
    write_json(os.path.join(out, "llm", "generation_config.json"), gen)
    write_json(os.path.join(out, "llm", "tokenizer_config.json"), tokenizer_config())
    write_json(os.path.join(out, "llm", "special_tokens_map.json"), SPECIAL_TOKENS_MAP)
    if preset == "tiny":
        shutil.copyfile(TINY_SPM, os.path.join(out, "llm", "tokenizer.model"))
    else:
        with open(os.path.join(out, "llm", "tokenizer.model"), "wb") as fh:
            fh.write(padded_tokenizer_bytes(p.get("tok_vocab", p["vocab"])))
    write_json(os.path.join(out, "config.json"), root_config(p, variant, llm, vis, cp, proj))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), required=True)
    ap.add_argument("--variant", choices=["image", "joint"], default="image")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=None, help="default 1 (image) / 2 (joint)")
    ap.add_argument("--layers", type=int, default=None, help="vision, context-provider and llm layer count")
    ap.add_argument("--dtype", choices=["f16", "bf16", "f32"], default="f16")
    ap.add_argument("--kv-heads", type=int, default=None, help="num_key_value_heads (default: the head count)")
    ap.add_argument("--vocab", type=int, default=None, help="vocab_size and embedding rows (tokenizer unchanged)")
    ap.add_argument("--top-k", type=int, default=None, help="top_k written to llm/generation_config.json")
    ap.add_argument("--lm-peak", type=float, default=None, help="structured lm_head (see above)")
    ap.add_argument("--retrain-tokenizer", action="store_true",
                    help="retrain fixtures/tokenizer/tiny-bpe.model with spm_train first (changes the fixture)")
    a = ap.parse_args()
    if a.retrain_tokenizer:
        train_tiny_tokenizer(TINY_SPM)
    make_checkpoint(a.preset, a.variant, a.out, a.seed, a.layers, a.dtype, a.kv_heads, a.vocab, a.top_k, a.lm_peak)
    print(a.out)


if __name__ == "__main__":
    main()
