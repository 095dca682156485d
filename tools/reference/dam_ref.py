"""Independent fp32 PyTorch reference of Describe Anything Model (DAM-3B) inference.

Written from /work/shared/reference/dam-model-facts.md and checked against the public reference
code (NVlabs/describe-anything); each piece names the reference file/function it mirrors as
"ref: <file> <function>". Paths are relative to the describe-anything repository.

All maths is float32 on CPU (torch >= 1.13); no fp16 arithmetic, no scaled_dot_product_attention.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import safetensors_io

IMAGE_TOKEN_INDEX = -200  # ref: dam/model/constants.py IMAGE_TOKEN_INDEX
EOS_ID = 2
BOS_ID = 1
SPIECE_UNDERLINE = "\u2581"

SYSTEM_V1 = ("A chat between a curious user and an artificial intelligence assistant. "
             "The assistant gives helpful, detailed, and polite answers to the user's questions.")
QUERY_IMAGE = "<image>\nDescribe the masked region in detail."
QUERY_JOINT_IMAGE = "Image: <image>\nGiven the image above, describe the object in the masked region."
QUERY_JOINT_VIDEO = ("Video: " + "<image>" * 8 + "\nGiven the video in the form of a sequence of frames above, "
                     "describe the object in the masked region in the video in detail.")


# ============================================================================ prompt + tokenizer
def build_prompt_v1(query):
    """ref: dam/model/conversation.py conv_vicuna_v1 (SeparatorStyle.TWO, sep " ") + get_prompt;
    dam/describe_anything_model.py DescribeAnythingModel.get_prompt."""
    return SYSTEM_V1 + " " + "USER: " + query + " " + "ASSISTANT:"


class LlamaSlowTokenizer:
    """Emulates transformers' slow LlamaTokenizer(use_fast=False, legacy=False) as loaded by
    ref: dam/model/language_model/builder.py build_llm_and_tokenizer.

    legacy=False behaviour (transformers >= 4.34, LlamaTokenizer.get_spm_processor/tokenize/_tokenize):
      * the SentencePiece model is loaded with normalizer_spec.add_dummy_prefix = False;
      * tokenize(text): "" -> []; else text = "\u2581" + text.replace("\u2581", " ");
      * _tokenize: encode(unk_token + text) and drop the pieces of unk_token (so no extra dummy prefix
        and a leading "\u2581" is kept as its own piece where SentencePiece would split it);
      * if the pieces start with a lone "\u2581" followed by a special token, drop it;
      * add_bos_token=True prepends <s> (id 1), add_eos_token=False.
    """

    def __init__(self, model_path):
        import sentencepiece as spm
        from sentencepiece import sentencepiece_model_pb2 as pb
        with open(model_path, "rb") as fh:
            raw = fh.read()
        self.sp_plain = spm.SentencePieceProcessor(model_proto=raw)  # model as stored (for decode)
        m = pb.ModelProto()
        m.ParseFromString(raw)
        m.normalizer_spec.add_dummy_prefix = False
        self.sp = spm.SentencePieceProcessor(model_proto=m.SerializeToString())
        self.unk_token = "<unk>"
        self.unk_len = len(self.sp.encode(self.unk_token, out_type=str))
        self.special = {"<unk>", "<s>", "</s>"}

    def tokenize(self, text):
        if len(text) == 0:
            return []
        text = SPIECE_UNDERLINE + text.replace(SPIECE_UNDERLINE, " ")
        pieces = self.sp.encode(self.unk_token + text, out_type=str)
        pieces = pieces[self.unk_len:] if len(pieces) >= self.unk_len else pieces
        if len(pieces) > 1 and pieces[0] == SPIECE_UNDERLINE and pieces[1] in self.special:
            pieces = pieces[1:]
        return pieces

    def __len__(self):
        """len(tokenizer) of the slow LlamaTokenizer: the SentencePiece pieces (no added tokens here)."""
        return self.sp_plain.get_piece_size()

    def __call__(self, text):
        return [BOS_ID] + [self.sp.piece_to_id(p) for p in self.tokenize(text)]

    def decode(self, ids):
        """skip_special_tokens-style decode (drops <s>, </s>, <unk>) through SentencePiece."""
        return self.sp_plain.decode([int(i) for i in ids if int(i) > 2])


def tokenizer_image_token(prompt, tok):
    """ref: dam/model/mm_utils.py tokenizer_image_token. Split on "<image>", tokenize every chunk with
    BOS, keep only the first chunk's BOS, and put IMAGE_TOKEN_INDEX between chunks."""
    chunks = [tok(c) for c in prompt.split("<image>")]
    ids = []
    offset = 0
    if chunks and chunks[0] and chunks[0][0] == BOS_ID:
        offset = 1
        ids.append(BOS_ID)
    for k, c in enumerate(chunks):
        if k > 0:
            ids.append(IMAGE_TOKEN_INDEX)
        ids.extend(c[offset:])
    return ids


# ============================================================================ preprocessing
def binarize_mask(mask_pil):
    """ref: dam/describe_anything_model.py get_image_tensor: (np.asarray(mask_pil) > 0).astype(uint8)."""
    return (np.asarray(mask_pil) > 0).astype(np.uint8)


def mask_to_box(mask_np):
    """ref: dam/describe_anything_model.py DescribeAnythingModel.mask_to_box -> (x0, y0, w, h), x1/y1 exclusive."""
    coords = np.argwhere(mask_np)
    if coords.size == 0:
        raise ValueError("empty mask")
    y0, x0 = coords.min(axis=0)
    y1, x1 = coords.max(axis=0) + 1
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def focal_crop_window(mask_np, min_box_w=48, min_box_h=48):
    """ref: dam/describe_anything_model.py crop_image, crop_mode "focal_crop".
    Returns (row0, row1, col0, col1), end-exclusive, clipped to the image."""
    img_h, img_w = mask_np.shape[:2]
    x0, y0, w, h = mask_to_box(mask_np)
    xc, yc = x0 + w / 2, y0 + h / 2          # float centre
    w, h = max(w, min_box_w), max(h, min_box_h)  # minimum box applied BEFORE the 3x window
    x0, y0 = int(xc - w / 2), int(yc - h / 2)    # int() truncates toward zero
    return max(y0 - h, 0), min(y0 + 2 * h, img_h), max(x0 - w, 0), min(x0 + 2 * w, img_w)


def resize_u8(pil_img, size=384):
    """ref: dam/model/mm_utils.py process_image (image_aspect_ratio "resize"): .convert("RGB") then
    PIL Image.resize((384, 384)) with the default filter (BICUBIC). Returns uint8 HxWx3."""
    return np.asarray(pil_img.convert("RGB").resize((size, size), Image.BICUBIC), dtype=np.uint8)


def normalize_u8(u8):
    """ref: siglip/image_processing_siglip.py SiglipImageProcessor.preprocess (rescale 1/255 in float64
    then float32, normalize mean 0.5 std 0.5 in float32) -> float32 CHW."""
    x = (u8.astype(np.float64) * 0.00392156862745098).astype(np.float32)
    x = (x - np.float32(0.5)) / np.float32(0.5)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def region_inputs(image_pil, mask_pil, size=384):
    """ref: dam/describe_anything_model.py get_image_tensor with prompt mode "full+focal_crop".
    Returns uint8 resized arrays and the (8, 384, 384) float32 input [R,G,B,M_full,R',G',B',M_crop]."""
    img = image_pil.convert("RGB")  # ref: mm_utils.process_image converts to RGB
    mask_np = binarize_mask(mask_pil)
    img_np = np.asarray(img)
    assert img_np.shape[:2] == mask_np.shape, (img_np.shape, mask_np.shape)
    r0, r1, c0, c1 = focal_crop_window(mask_np)
    full_rgb = resize_u8(img, size)
    full_mask = resize_u8(Image.fromarray(mask_np * 255), size)[:, :, 0]
    crop_rgb = resize_u8(Image.fromarray(img_np[r0:r1, c0:c1]), size)
    crop_mask = resize_u8(Image.fromarray(mask_np[r0:r1, c0:c1] * 255), size)[:, :, 0]
    x = np.concatenate([normalize_u8(full_rgb), normalize_u8(full_mask[:, :, None]),
                        normalize_u8(crop_rgb), normalize_u8(crop_mask[:, :, None])], axis=0)
    return dict(full_rgb=full_rgb, full_mask=full_mask, crop_rgb=crop_rgb, crop_mask=crop_mask,
                window=(r0, r1, c0, c1), x8=x)


# ============================================================================ RNG + sampling contract
MASK64 = (1 << 64) - 1


class SplitMix64:
    """Project RNG contract (README "RNG contract"); not from the reference (which uses torch.multinomial)."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def next_double(self):
        return (self.next64() >> 11) * (2.0 ** -53)


def _softmax_seq(v):
    """float64 softmax; max subtraction, np.exp, sequential (left-to-right) sum."""
    m = np.max(v)
    e = np.exp(v - m)
    s = np.cumsum(e)[-1]
    return e / s


def sample_token(logits_f32, rng, temperature=1.0, top_k=0, top_p=1.0):
    """Warpers in HF order temperature -> top-k -> top-p (ref: transformers generate as called from
    dam/describe_anything_model.py get_description_from_prompt_iterator), then one draw by the
    project RNG contract. Returns (token_id, u)."""
    x = np.asarray(logits_f32, dtype=np.float32).astype(np.float64) / float(temperature)
    V = x.shape[0]
    if top_k and 0 < top_k < V:
        kth = np.sort(x)[V - top_k]
        x = np.where(x < kth, -np.inf, x)
    if top_p < 1.0:
        order = np.lexsort((np.arange(V), x))  # ascending by value, ties by id
        probs = _softmax_seq(x[order])
        cum = np.cumsum(probs)
        remove = cum <= 1.0 - top_p
        remove[-1] = False
        x = x.copy()
        x[order[remove]] = -np.inf
    p = _softmax_seq(x)
    u = rng.next_double()
    acc = 0.0
    last_kept = None
    for i in range(V):
        if x[i] == -np.inf:
            continue
        last_kept = i
        acc += p[i]
        if acc > u:
            return i, u
    return last_kept, u


# ============================================================================ model
def _load_dir(d):
    with open(os.path.join(d, "config.json")) as fh:
        cfg = json.load(fh)
    # single model.safetensors or sharded with model.safetensors.index.json; F32/F16/BF16 -> float32
    w, _ = safetensors_io.load_dir(d)
    return cfg, {k: torch.from_numpy(v) for k, v in w.items()}


class DAMReference:
    def __init__(self, ckpt_dir, fit_vocab=True):
        """fit_vocab=False keeps padded embedding rows (only to show a golden depends on dropping them)."""
        self.dir = ckpt_dir
        with open(os.path.join(ckpt_dir, "config.json")) as fh:
            self.root = json.load(fh)
        self.vcfg, self.vw = _load_dir(os.path.join(ckpt_dir, "vision_tower"))
        self.ccfg, self.cw = _load_dir(os.path.join(ckpt_dir, "context_provider"))
        self.pcfg, self.pw = _load_dir(os.path.join(ckpt_dir, "mm_projector"))
        self.lcfg, self.lw = _load_dir(os.path.join(ckpt_dir, "llm"))
        self.tok = LlamaSlowTokenizer(os.path.join(ckpt_dir, "llm", "tokenizer.model"))
        assert self.ccfg["context_provider_type"] == "cross_attn_end_to_all"
        assert self.pcfg["mm_projector_type"] == "mlp_downsample"
        assert self.root.get("mm_vision_select_feature", "cls_patch") == "cls_patch"
        assert not self.ccfg.get("context_image_as_queries", False), "not implemented (default False)"
        self.select_layer = self.root.get("mm_vision_select_layer", -2)
        if fit_vocab:
            self._fit_vocab()
        # transformers' generate takes what the call does not pass (DAM passes temperature, top_p,
        # num_beams, max_new_tokens, do_sample) from llm/generation_config.json: top_k, 50 if unset
        gen_path = os.path.join(ckpt_dir, "llm", "generation_config.json")
        gen = {}
        if os.path.exists(gen_path):
            with open(gen_path) as fh:
                gen = json.load(fh)
        self.default_top_k = gen.get("top_k", 50)

    def _fit_vocab(self):
        """dam/model/model_utils.py load_pretrained_model: model.resize_token_embeddings(len(tokenizer)).
        Rows beyond the tokenizer (padded vocab_size) are dropped from embed_tokens and lm_head; fewer
        rows than the tokenizer would be extended with random rows there, so they are refused here."""
        w, n = self.lw, len(self.tok)
        if "lm_head.weight" not in w and self.lcfg.get("tie_word_embeddings", False):
            w["lm_head.weight"] = w["model.embed_tokens.weight"]
        rows = w["model.embed_tokens.weight"].shape[0]
        if rows < n:
            raise ValueError("llm vocab_size %d is smaller than the tokenizer's %d tokens: the official loader "
                             "would add randomly initialised rows" % (rows, n))
        for k in ("model.embed_tokens.weight", "lm_head.weight"):
            w[k] = w[k][:n].contiguous()

    # ---------------------------------------------------------------- SigLIP
    def siglip_embeddings(self, px4):
        """ref: siglip/modeling_siglip.py SiglipVisionEmbeddings.forward (RGB conv + mask conv, + pos)."""
        e = "vision_model.embeddings."
        P = self.vcfg["patch_size"]
        h = F.conv2d(px4[:, :3], self.vw[e + "patch_embedding.weight"], self.vw[e + "patch_embedding.bias"], stride=P)
        if px4.shape[1] == 4:
            h = h + F.conv2d(px4[:, 3:4], self.vw[e + "mask_patch_embedding.weight"],
                             self.vw[e + "mask_patch_embedding.bias"], stride=P)
        h = h.flatten(2).transpose(1, 2)
        return h + self.vw[e + "position_embedding.weight"][None]

    @staticmethod
    def _ln(x, w, b, eps):
        return F.layer_norm(x, (x.shape[-1],), w, b, eps)

    @staticmethod
    def _lin(x, w, prefix):
        return F.linear(x, w[prefix + ".weight"], w.get(prefix + ".bias"))

    def _mha(self, q_in, kv_in, w, prefix, heads, bias=None):
        """ref: siglip/modeling_siglip.py SiglipAttention.forward and
        multimodal_encoder/context_provider.py ContextProviderCrossAttention.forward (scale hd^-0.5, fp32 softmax)."""
        B, Tq, H = q_in.shape
        Tk = kv_in.shape[1]
        hd = H // heads
        q = self._lin(q_in, w, prefix + ".q_proj").view(B, Tq, heads, hd).transpose(1, 2)
        k = self._lin(kv_in, w, prefix + ".k_proj").view(B, Tk, heads, hd).transpose(1, 2)
        v = self._lin(kv_in, w, prefix + ".v_proj").view(B, Tk, heads, hd).transpose(1, 2)
        a = torch.matmul(q, k.transpose(2, 3)) * (hd ** -0.5)
        if bias is not None:
            a = a + bias
        a = torch.softmax(a, dim=-1)
        o = torch.matmul(a, v).transpose(1, 2).reshape(B, Tq, H)
        return self._lin(o, w, prefix + ".out_proj")

    def siglip_layer(self, h, i):
        """ref: siglip/modeling_siglip.py SiglipEncoderLayer.forward (pre-LN, MLP fc1 -> gelu tanh -> fc2)."""
        b = "vision_model.encoder.layers.%d." % i
        eps = self.vcfg["layer_norm_eps"]
        w = self.vw
        h = h + self._mha(self._ln(h, w[b + "layer_norm1.weight"], w[b + "layer_norm1.bias"], eps),
                          self._ln(h, w[b + "layer_norm1.weight"], w[b + "layer_norm1.bias"], eps),
                          w, b + "self_attn", self.vcfg["num_attention_heads"])
        x = self._ln(h, w[b + "layer_norm2.weight"], w[b + "layer_norm2.bias"], eps)
        x = self._lin(F.gelu(self._lin(x, w, b + "mlp.fc1"), approximate="tanh"), w, b + "mlp.fc2")
        return h + x

    def adapter_layer(self, h, z, i, bias=None):
        """ref: multimodal_encoder/context_provider.py CrossAttnEncoderLayer.forward:
        h += attn_factor * CrossAttn(LN1(h), z); h += mlp_factor * MLP(LN2(h)); gates are plain multipliers."""
        b = "context_provider_module.layers.%d." % i
        eps = self.ccfg["layer_norm_eps"]
        w = self.cw
        x = self._ln(h, w[b + "layer_norm1.weight"], w[b + "layer_norm1.bias"], eps)
        h = h + w[b + "attn_factor"] * self._mha(x, z, w, b + "cross_attn", self.ccfg["num_attention_heads"], bias)
        x = self._ln(h, w[b + "layer_norm2.weight"], w[b + "layer_norm2.bias"], eps)
        x = self._lin(F.gelu(self._lin(x, w, b + "mlp.fc1"), approximate="tanh"), w, b + "mlp.fc2")
        return h + w[b + "mlp_factor"] * x

    def num_blocks_used(self):
        """hidden_states[select_layer] (ref: multimodal_encoder/vision_encoder.py VisionTower.feature_select):
        entry 0 = embeddings, so -2 = output after num_layers-1 blocks."""
        n = self.vcfg["num_hidden_layers"]
        s = self.select_layer
        return s if s >= 0 else n + 1 + s

    def vision_tower(self, px4, contexts=None, cross_bias=None):
        """ref: siglip/modeling_siglip.py SiglipEncoder.forward (adapter l after block l when
        context_provider_layers are given) + vision_encoder.py VisionTower.forward/feature_select.
        post_layernorm and head are not used."""
        h = self.siglip_embeddings(px4)
        for i in range(self.num_blocks_used()):
            h = self.siglip_layer(h, i)
            if contexts is not None:
                h = self.adapter_layer(h, contexts, i, cross_bias)
        return h

    def cross_attn_bias(self, x8):
        """ref: context_provider.py attn_mask_from_cimage_concatenated/get_token_mask_bias (only when
        masked_cross_attn is true; the default config has it false)."""
        P = self.ccfg["patch_size"]
        m = (x8[:, 3] + 1) / 2
        s = F.conv2d(m[:, None], torch.ones((1, 1, P, P)), stride=P).flatten(1)
        bias = torch.zeros_like(s).masked_fill_(s < 1e-5, float("-inf"))
        return bias[:, None, None, :]

    def encode_images(self, x8):
        """ref: dam/model/llava_arch.py encode_images_with_context (cross_attn_end_to_all).
        x8: (N, 8, 384, 384) float32. Returns context features, per-sample features fed to the projector,
        the "is cimage" flags, and the projector output."""
        cimage = torch.any((x8[:, :4] != x8[:, 4:]).flatten(1), dim=1)
        if self.ccfg.get("treat_image_as_cimage", False):
            cimage[:] = True
        z = self.vision_tower(x8[:, :4])
        feats = z.clone()
        if bool(cimage.any()):
            xc = x8[cimage]
            bias = self.cross_attn_bias(xc) if self.ccfg.get("masked_cross_attn", False) else None
            feats[cimage] = self.vision_tower(xc[:, 4:], contexts=z[cimage], cross_bias=bias)
        return z, feats, cimage, self.projector(feats)

    # ---------------------------------------------------------------- projector
    @staticmethod
    def downsample(x):
        """ref: multimodal_projector/base_projector.py DownSampleBlock.forward/flat_square:
        27x27 grid (row r, col c) zero-padded at the end to 28x28; token j*14+i (column-pair-major) =
        concat(x[2i,2j], x[2i,2j+1], x[2i+1,2j], x[2i+1,2j+1])."""
        B, N, C = x.shape
        s = int(round(N ** 0.5))
        g = x.reshape(B, s, s, C)
        if s % 2:
            g = F.pad(g, (0, 0, 0, 1, 0, 1))
            s += 1
        g = g.reshape(B, s // 2, 2, s // 2, 2, C)        # [B, i, di, j, dj, C]
        g = g.permute(0, 3, 1, 2, 4, 5)                  # [B, j, i, di, dj, C]
        return g.reshape(B, (s // 2) ** 2, 4 * C)

    def projector(self, feats):
        """ref: multimodal_projector/base_projector.py MultimodalProjector (mlp_downsample):
        DownSample -> LayerNorm(4H, eps 1e-5) -> Linear -> GELU (erf) -> Linear."""
        w = self.pw
        x = self.downsample(feats)
        x = F.layer_norm(x, (x.shape[-1],), w["layers.1.weight"], w["layers.1.bias"], 1e-5)
        x = F.gelu(F.linear(x, w["layers.2.weight"], w["layers.2.bias"]))
        return F.linear(x, w["layers.4.weight"], w["layers.4.bias"])

    # ---------------------------------------------------------------- Llama
    def embed_ids(self, ids):
        return self.lw["model.embed_tokens.weight"][torch.as_tensor(ids, dtype=torch.long)]

    def splice(self, ids, image_embeds):
        """ref: dam/model/llava_arch.py prepare_inputs_labels_for_multimodal: text embeddings, with the
        196 projected tokens of the next image at every IMAGE_TOKEN_INDEX. Returns (L, hidden)."""
        parts, k, run = [], 0, []
        for t in ids:
            if t == IMAGE_TOKEN_INDEX:
                if run:
                    parts.append(self.embed_ids(run))
                    run = []
                parts.append(image_embeds[k])
                k += 1
            else:
                run.append(t)
        if run:
            parts.append(self.embed_ids(run))
        assert k == len(image_embeds), "image count mismatch"
        return torch.cat(parts, 0)

    def _rms(self, x, w):
        """ref: transformers LlamaRMSNorm (variance in fp32, weight * x * rsqrt(var + eps))."""
        var = x.pow(2).mean(-1, keepdim=True)
        return w * (x * torch.rsqrt(var + self.lcfg["rms_norm_eps"]))

    def _rope(self, pos):
        """ref: transformers LlamaRotaryEmbedding (inv_freq float32, outer(t, inv_freq), cat(f, f))."""
        hd = self.lcfg["hidden_size"] // self.lcfg["num_attention_heads"]
        inv = 1.0 / (float(self.lcfg["rope_theta"]) ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
        f = torch.outer(pos.to(torch.float32), inv)
        emb = torch.cat((f, f), dim=-1)
        return emb.cos(), emb.sin()

    @staticmethod
    def _rot_half(x):
        h = x.shape[-1] // 2
        return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

    def llm_forward(self, embeds, cache=None):
        """ref: transformers LlamaForCausalLM.forward (decoder layers: RMSNorm -> attention with RoPE,
        GQA via repeat_kv, causal -> residual; RMSNorm -> SwiGLU -> residual; final norm; lm_head).
        embeds: (T, hidden) for batch 1. cache: list of (k, v) per layer or None. Returns (logits (T, V), cache)."""
        c = self.lcfg
        H, nh, nkv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        hd = H // nh
        T = embeds.shape[0]
        past = 0 if not cache else cache[0][0].shape[1]
        pos = torch.arange(past, past + T)
        cos, sin = self._rope(pos)
        new_cache = []
        h = embeds[None]
        Tk = past + T
        causal = torch.full((T, Tk), float("-inf")).triu(past + 1)
        w = self.lw
        for i in range(c["num_hidden_layers"]):
            b = "model.layers.%d." % i
            x = self._rms(h, w[b + "input_layernorm.weight"])
            q = F.linear(x, w[b + "self_attn.q_proj.weight"]).view(1, T, nh, hd).transpose(1, 2)
            k = F.linear(x, w[b + "self_attn.k_proj.weight"]).view(1, T, nkv, hd).transpose(1, 2)
            v = F.linear(x, w[b + "self_attn.v_proj.weight"]).view(1, T, nkv, hd).transpose(1, 2)
            q = q * cos + self._rot_half(q) * sin
            k = k * cos + self._rot_half(k) * sin
            k, v = k[0], v[0]  # (nkv, T, hd)
            if cache:
                k = torch.cat((cache[i][0], k), dim=1)
                v = torch.cat((cache[i][1], v), dim=1)
            new_cache.append((k, v))
            rep = nh // nkv
            kk = k.repeat_interleave(rep, dim=0)[None]
            vv = v.repeat_interleave(rep, dim=0)[None]
            a = torch.matmul(q, kk.transpose(2, 3)) / (hd ** 0.5) + causal
            a = torch.softmax(a, dim=-1)
            o = torch.matmul(a, vv).transpose(1, 2).reshape(1, T, H)
            h = h + F.linear(o, w[b + "self_attn.o_proj.weight"])
            x = self._rms(h, w[b + "post_attention_layernorm.weight"])
            g = F.silu(F.linear(x, w[b + "mlp.gate_proj.weight"])) * F.linear(x, w[b + "mlp.up_proj.weight"])
            h = h + F.linear(g, w[b + "mlp.down_proj.weight"])
        h = self._rms(h, w["model.norm.weight"])
        return F.linear(h[0], w["lm_head.weight"]), new_cache

    # ---------------------------------------------------------------- generation
    def generate(self, embeds, max_new_tokens=32, sampling=None, use_cache=True):
        """Greedy (argmax, ties -> lowest id) or sampled (sampling = dict(temperature, top_k, top_p, seed)).
        Stops after EOS (included in the output) or max_new_tokens.
        ref: transformers generate as driven by dam/describe_anything_model.py; stop rule facts 3.2."""
        rng = SplitMix64(sampling["seed"]) if sampling else None
        logits, cache = self.llm_forward(embeds)
        prefill_last = logits[-1].clone()
        seq = embeds
        out, margins, us = [], [], []
        eos = False
        last = logits[-1]
        for _ in range(max_new_tokens):
            lg = last.numpy().astype(np.float32)
            top2 = np.sort(lg)[-2:]
            margins.append(float(top2[1] - top2[0]))
            if sampling:
                t, u = sample_token(lg, rng, sampling["temperature"], sampling.get("top_k", self.default_top_k), sampling.get("top_p", 1.0))
                us.append(u)
            else:
                t = int(np.argmax(lg))  # first (lowest) index among equal maxima
            out.append(int(t))
            if t == EOS_ID:
                eos = True
                break
            e = self.embed_ids([t])
            if use_cache:
                lg2, cache = self.llm_forward(e, cache)
            else:
                seq = torch.cat((seq, e), 0)
                lg2, _ = self.llm_forward(seq)
            last = lg2[-1]
        return dict(tokens=out, eos=eos, margins=margins, prefill_last_logits=prefill_last, u=us)

    # ---------------------------------------------------------------- end to end
    def describe(self, images, masks, query, max_new_tokens=32, sampling=None):
        """ref: dam/describe_anything_model.py get_description (focal_prompt / full+focal_crop)."""
        regs = [region_inputs(im, m) for im, m in zip(images, masks)]
        x8 = torch.from_numpy(np.stack([r["x8"] for r in regs]))
        with torch.no_grad():
            z, feats, cimage, proj = self.encode_images(x8)
            prompt = build_prompt_v1(query)
            ids = tokenizer_image_token(prompt, self.tok)
            emb = self.splice(ids, proj)
            gen = self.generate(emb, max_new_tokens, sampling)
        gen_text = [t for t in gen["tokens"] if t != EOS_ID]
        return dict(regions=regs, context=z, features=feats, cimage=cimage, projector=proj, prompt=prompt,
                    ids=ids, seq_len=emb.shape[0], text=self.tok.decode(gen_text).strip(), **gen)
