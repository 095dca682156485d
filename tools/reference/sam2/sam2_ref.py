#!/usr/bin/python3
"""Independent PyTorch reference of SAM 2.1 (video) for dam-java: model, checkpoint loader, propagation loop.

Written from the documented structure of transformers' models/sam2 + models/sam2_video (module and tensor
names, config fields) and facebookresearch/sam2 (sam2_base.py, sam2_video_predictor.py: the tracking
semantics). Nothing is imported from either (neither is in Debian). Module attribute names are chosen so
that state_dict() keys are exactly the Hugging Face `Sam2VideoModel` keys, so a transformers-layout
checkpoint (config.json + model.safetensors) loads here unchanged.

Pieces (all float32, eval mode, batch 1, one object):
  image encoder   Hiera (patch conv 7/4/3, windowed + bicubic background position embedding, multi-scale
                  blocks with max-pool query pooling at stage starts, windowed or global attention) and the
                  FPN neck (1x1 lateral convs, nearest x2 top-down into fpn_top_down_levels, sine position
                  encoding); the 3 highest-resolution levels; conv_s0 / conv_s1 applied to levels 0 / 1.
  prompt encoder  random-Fourier point embedding (+0.5 pixel shift, /image_size), labels 1/0 (+point_embed),
                  -1 = not-a-point; a box is two points with labels 2 and 3; points are padded with one
                  not-a-point; mask prompt -> mask_embed convs, else no_mask_embed.
  mask decoder    two-way transformer (obj_score, iou, 4 mask tokens + sparse), upscaling with s0/s1 skip
                  features, hypernetwork MLPs, sigmoid IoU head, object-score head; multimask -> best IoU of
                  tokens 1..3 (pointer from that token), single mask -> dynamic stability fallback (pointer
                  from token 0).
  memory encoder  mask (image_size^2, binarised for prompted frames, sigmoid for tracked frames, x20 - 10)
                  -> 4 stride-2 conv+LN+GELU layers -> 1x1; + 1x1 projected pixel features; 2 ConvNeXt
                  fuser blocks; 1x1 to mem_dim (64); sine position encoding; occlusion embedding added when
                  the object score <= 0; stored as bfloat16 (as both upstream implementations do).
  memory attn     layers of RoPE self-attention, RoPE cross-attention to memories (keys rotated with the
                  table repeated per memory frame, object-pointer tokens not rotated), ReLU MLP; pre-LN.
  predictor       conditioning frame(s) + up to num_maskmem-1 previous (in tracking direction) frames'
                  memories with temporal encodings, up to min(num_frames, 16) object pointers with signed
                  1-D sine temporal encodings projected to mem_dim, pointers split into hidden/mem_dim tokens.

Choices where the two upstreams differ (documented in README.md): the mask-prompt pointer uses
multimask_output=False (facebookresearch; HF passes its default True); no hole filling (fill_hole_area is a
CUDA-only post-process upstream); frames are resized to image_size x image_size with PIL BILINEAR (HF
Sam2VideoProcessor; facebookresearch uses PIL's default BICUBIC).
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import safetensors_io  # noqa: E402

NO_OBJ_SCORE = -1024.0
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def gelu(x):
    return F.gelu(x)


def act(name):
    return {"gelu": F.gelu, "relu": F.relu}[name]


def to_bf16(x):
    return x.to(torch.bfloat16).to(torch.float32)


class LayerNorm2d(nn.Module):
    """LayerNorm over the channel dim of NCHW (weight/bias names as HF's channels_first LayerNorm)."""

    def __init__(self, c, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.eps = eps

    def forward(self, x):
        return F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), self.weight, self.bias, self.eps).permute(0, 3, 1, 2)


class FeedForward(nn.Module):
    """proj_in -> act -> [layers.i -> act]* -> proj_out (-> sigmoid)."""

    def __init__(self, i, h, o, n, activation="relu", sigmoid_output=False):
        super().__init__()
        self.proj_in = nn.Linear(i, h)
        self.proj_out = nn.Linear(h, o)
        self.layers = nn.ModuleList([nn.Linear(h, h) for _ in range(n - 2)])
        self.act = act(activation)
        self.sigmoid_output = sigmoid_output

    def forward(self, x):
        x = self.act(self.proj_in(x))
        for lin in self.layers:
            x = self.act(lin(x))
        x = self.proj_out(x)
        return torch.sigmoid(x) if self.sigmoid_output else x


def sine_pos_2d(c, h, w, temperature=10000.0):
    """(1, c, h, w) normalised sine position encoding: c/2 channels for y then c/2 for x; within each half
    pairs (sin(p / t^(2k/half)), cos(p / t^(2k/half))); p = (1..n) / (n + 1e-6) * 2 pi."""
    npf = c // 2
    y = torch.arange(1, h + 1, dtype=torch.float32)[:, None].expand(h, w)
    x = torch.arange(1, w + 1, dtype=torch.float32)[None, :].expand(h, w)
    y = y / (h + 1e-6) * (2 * math.pi)
    x = x / (w + 1e-6) * (2 * math.pi)
    dim_t = torch.arange(npf, dtype=torch.float32)
    dim_t = temperature ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / npf)
    px = x[:, :, None] / dim_t
    py = y[:, :, None] / dim_t
    px = torch.stack((px[:, :, 0::2].sin(), px[:, :, 1::2].cos()), dim=3).flatten(2)
    py = torch.stack((py[:, :, 0::2].sin(), py[:, :, 1::2].cos()), dim=3).flatten(2)
    return torch.cat((py, px), dim=2).permute(2, 0, 1)[None]


# ------------------------------------------------------------------------------------------ Hiera
class PatchEmbed(nn.Module):
    def __init__(self, bc):
        super().__init__()
        self.projection = nn.Conv2d(bc["num_channels"], bc["hidden_size"], bc["patch_kernel_size"],
                                    bc["patch_stride"], bc["patch_padding"])


class MultiScaleAttention(nn.Module):
    def __init__(self, dim, dim_out, heads, q_stride):
        super().__init__()
        self.qkv = nn.Linear(dim, dim_out * 3)
        self.proj = nn.Linear(dim_out, dim_out)
        self.heads = heads
        self.q_stride = q_stride
        self.scale = (dim_out // heads) ** -0.5

    def forward(self, x):
        b, h, w, _ = x.shape
        qkv = self.qkv(x).reshape(b, h * w, 3, self.heads, -1)
        q, k, v = qkv.unbind(2)
        if self.q_stride:
            q = q.reshape(b, h, w, -1).permute(0, 3, 1, 2)
            q = F.max_pool2d(q, self.q_stride, self.q_stride).permute(0, 2, 3, 1)
            h, w = q.shape[1:3]
            q = q.reshape(b, h * w, self.heads, -1)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        a = torch.softmax((q @ k.transpose(-2, -1)) * self.scale, dim=-1)
        o = (a @ v).transpose(1, 2).reshape(b, h, w, -1)
        return self.proj(o)


def window_partition(x, ws):
    b, h, w, c = x.shape
    ph, pw = (ws - h % ws) % ws, (ws - w % ws) % ws
    x = F.pad(x, (0, 0, 0, pw, 0, ph))
    hp, wp = h + ph, w + pw
    x = x.view(b, hp // ws, ws, wp // ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, ws, ws, c)
    return x, (hp, wp)


def window_unpartition(x, ws, pad_hw, hw):
    hp, wp = pad_hw
    h, w = hw
    b = x.shape[0] // (hp * wp // ws // ws)
    x = x.view(b, hp // ws, wp // ws, ws, ws, -1).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, -1)
    return x[:, :h, :w, :].contiguous()


class MultiScaleBlock(nn.Module):
    def __init__(self, bc, stage, block, total):
        super().__init__()
        first = stage > 0 and block == 0
        self.dim = bc["embed_dim_per_stage"][stage - 1] if first else bc["embed_dim_per_stage"][stage]
        self.dim_out = bc["embed_dim_per_stage"][stage]
        ws = bc["window_size_per_stage"][stage - 1] if first else bc["window_size_per_stage"][stage]
        self.window_size = 0 if total in bc["global_attention_blocks"] else ws
        self.q_stride = tuple(bc["query_stride"]) if (0 < stage <= bc["num_query_pool_stages"] and block == 0) else None
        eps = bc["layer_norm_eps"]
        self.layer_norm1 = nn.LayerNorm(self.dim, eps=eps)
        self.attn = MultiScaleAttention(self.dim, self.dim_out, bc["num_attention_heads_per_stage"][stage], self.q_stride)
        self.layer_norm2 = nn.LayerNorm(self.dim_out, eps=eps)
        self.mlp = FeedForward(self.dim_out, int(self.dim_out * bc["mlp_ratio"]), self.dim_out, 2, bc["hidden_act"])
        if self.dim != self.dim_out:
            self.proj = nn.Linear(self.dim, self.dim_out)

    def forward(self, x):
        residual = x
        x = self.layer_norm1(x)
        if self.dim != self.dim_out:
            residual = self.proj(x)
            if self.q_stride:
                residual = F.max_pool2d(residual.permute(0, 3, 1, 2), self.q_stride, self.q_stride).permute(0, 2, 3, 1)
        ws = self.window_size
        h, w = x.shape[1:3]
        if ws > 0:
            x, pad_hw = window_partition(x, ws)
        x = self.attn(x)
        if self.q_stride:
            ws = self.window_size // self.q_stride[0]
            h, w = residual.shape[1:3]
            pad_hw = (h + (ws - h % ws) % ws, w + (ws - w % ws) % ws)
        if self.window_size > 0:
            x = window_unpartition(x, ws, pad_hw, (h, w))
        x = residual + x
        return x + self.mlp(self.layer_norm2(x))


class HieraBackbone(nn.Module):
    def __init__(self, bc):
        super().__init__()
        self.patch_embed = PatchEmbed(bc)
        c = bc["hidden_size"]
        self.pos_embed = nn.Parameter(torch.zeros(1, c, *bc["window_positional_embedding_background_size"]))
        w0 = bc["window_size_per_stage"][0]
        self.pos_embed_window = nn.Parameter(torch.zeros(1, c, w0, w0))
        self.stage_ends = (np.cumsum(bc["blocks_per_stage"]) - 1).tolist()
        blocks, total = [], 0
        for s, n in enumerate(bc["blocks_per_stage"]):
            for b in range(n):
                blocks.append(MultiScaleBlock(bc, s, b, total))
                total += 1
        self.blocks = nn.ModuleList(blocks)

    def forward(self, pixel_values):
        x = self.patch_embed.projection(pixel_values).permute(0, 2, 3, 1)
        h, w = x.shape[1:3]
        pe = F.interpolate(self.pos_embed, size=(h, w), mode="bicubic", align_corners=False)
        win = self.pos_embed_window
        pe = pe + win.tile([1, 1, h // win.shape[2], w // win.shape[3]])
        x = x + pe.permute(0, 2, 3, 1)
        outs = []
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            if i in self.stage_ends:
                outs.append(x)
        return outs


class Neck(nn.Module):
    def __init__(self, vc):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(c, vc["fpn_hidden_size"], vc["fpn_kernel_size"], vc["fpn_stride"],
                                              vc["fpn_padding"]) for c in vc["backbone_channel_list"]])
        self.top_down = list(vc["fpn_top_down_levels"])
        self.levels = vc["num_feature_levels"]
        self.c = vc["fpn_hidden_size"]

    def forward(self, hs):
        feats, poss = [], []
        n = len(self.convs) - 1
        prev = None
        for i in range(n, -1, -1):
            lat = self.convs[n - i](hs[i].permute(0, 3, 1, 2))
            if i not in self.top_down or i == n:
                prev = lat
            else:
                prev = lat + F.interpolate(prev, scale_factor=2.0, mode="nearest")
            feats.append(prev)
            poss.append(sine_pos_2d(self.c, prev.shape[2], prev.shape[3]))
        return feats[-self.levels:][::-1], poss[-self.levels:][::-1]


class VisionEncoder(nn.Module):
    def __init__(self, vc):
        super().__init__()
        self.backbone = HieraBackbone(vc["backbone_config"])
        self.neck = Neck(vc)


# ------------------------------------------------------------------------------------------ prompt encoder
class RandomFourier(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.register_buffer("positional_embedding", torch.zeros(2, c // 2))

    def forward(self, coords01):
        c = (2 * coords01 - 1) @ self.positional_embedding
        c = 2 * np.pi * c
        return torch.cat([torch.sin(c), torch.cos(c)], dim=-1)


class MaskEmbed(nn.Module):
    def __init__(self, pc):
        super().__init__()
        m = pc["mask_input_channels"]
        eps = pc["layer_norm_eps"]
        self.conv1 = nn.Conv2d(1, m // 4, 2, 2)
        self.conv2 = nn.Conv2d(m // 4, m, 2, 2)
        self.conv3 = nn.Conv2d(m, pc["hidden_size"], 1)
        self.layer_norm1 = LayerNorm2d(m // 4, eps)
        self.layer_norm2 = LayerNorm2d(m, eps)
        self.act = act(pc["hidden_act"])

    def forward(self, x):
        x = self.act(self.layer_norm1(self.conv1(x)))
        x = self.act(self.layer_norm2(self.conv2(x)))
        return self.conv3(x)


class PromptEncoder(nn.Module):
    def __init__(self, pc):
        super().__init__()
        c = pc["hidden_size"]
        self.shared_embedding = RandomFourier(c)
        self.mask_embed = MaskEmbed(pc)
        self.no_mask_embed = nn.Embedding(1, c)
        self.point_embed = nn.Embedding(pc["num_point_embeddings"], c)
        self.not_a_point_embed = nn.Embedding(1, c)
        self.image_size = pc["image_size"]
        self.grid = pc["image_size"] // pc["patch_size"]

    def forward(self, coords, labels, mask_input):
        """coords (n, 2) float in image_size pixels (already padded), labels (n,) long; -> sparse (1,1,n,C), dense."""
        pe = self.shared_embedding((coords + 0.5) / self.image_size)
        pe = torch.where((labels == -1)[:, None], self.not_a_point_embed.weight, pe)
        pe = pe + self.point_embed(labels.clamp(min=0)) * (labels >= 0)[:, None].float()
        if mask_input is not None:
            dense = self.mask_embed(mask_input)
        else:
            dense = self.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(1, -1, self.grid, self.grid)
        return pe[None, None], dense


# ------------------------------------------------------------------------------------------ mask decoder
class Attention(nn.Module):
    def __init__(self, c, heads, downsample=1, kv_in=None):
        super().__init__()
        inner = c // downsample
        kv_in = kv_in or c
        self.q_proj = nn.Linear(c, inner)
        self.k_proj = nn.Linear(kv_in, inner)
        self.v_proj = nn.Linear(kv_in, inner)
        self.o_proj = nn.Linear(inner, c)
        self.heads = heads
        self.hd = inner // heads

    def split(self, x):
        return x.reshape(x.shape[0], x.shape[1], self.heads, self.hd).transpose(1, 2)

    def attend(self, q, k, v):
        a = torch.softmax((q @ k.transpose(-2, -1)) * (self.hd ** -0.5), dim=-1)
        o = (a @ v).transpose(1, 2)
        return self.o_proj(o.reshape(o.shape[0], o.shape[1], -1))

    def forward(self, q, k, v):
        return self.attend(self.split(self.q_proj(q)), self.split(self.k_proj(k)), self.split(self.v_proj(v)))


class TwoWayBlock(nn.Module):
    def __init__(self, dc, skip_pe):
        super().__init__()
        c, hds, ds = dc["hidden_size"], dc["num_attention_heads"], dc["attention_downsample_rate"]
        self.self_attn = Attention(c, hds, 1)
        self.layer_norm1 = nn.LayerNorm(c)
        self.cross_attn_token_to_image = Attention(c, hds, ds)
        self.layer_norm2 = nn.LayerNorm(c)
        self.mlp = FeedForward(c, dc["mlp_dim"], c, dc["num_hidden_layers"])
        self.layer_norm3 = nn.LayerNorm(c)
        self.layer_norm4 = nn.LayerNorm(c)
        self.cross_attn_image_to_token = Attention(c, hds, ds)
        self.skip_pe = skip_pe

    def forward(self, q, k, qpe, kpe):
        if self.skip_pe:
            q = self.self_attn(q, q, q)
        else:
            t = q + qpe
            q = q + self.self_attn(t, t, q)
        q = self.layer_norm1(q)
        q = self.layer_norm2(q + self.cross_attn_token_to_image(q + qpe, k + kpe, k))
        q = self.layer_norm3(q + self.mlp(q))
        k = self.layer_norm4(k + self.cross_attn_image_to_token(k + kpe, q + qpe, q))
        return q, k


class TwoWayTransformer(nn.Module):
    def __init__(self, dc):
        super().__init__()
        self.layers = nn.ModuleList([TwoWayBlock(dc, i == 0) for i in range(dc["num_hidden_layers"])])
        self.final_attn_token_to_image = Attention(dc["hidden_size"], dc["num_attention_heads"],
                                                   dc["attention_downsample_rate"])
        self.layer_norm_final_attn = nn.LayerNorm(dc["hidden_size"])

    def forward(self, tokens, img, img_pe):
        k = img.flatten(2).permute(0, 2, 1)
        kpe = img_pe.flatten(2).permute(0, 2, 1)
        q = tokens
        for layer in self.layers:
            q, k = layer(q, k, tokens, kpe)
        q = self.layer_norm_final_attn(q + self.final_attn_token_to_image(q + tokens, k + kpe, k))
        return q, k


class MaskDecoder(nn.Module):
    def __init__(self, dc):
        super().__init__()
        c = dc["hidden_size"]
        self.n_tokens = dc["num_multimask_outputs"] + 1
        self.iou_token = nn.Embedding(1, c)
        self.mask_tokens = nn.Embedding(self.n_tokens, c)
        self.obj_score_token = nn.Embedding(1, c)
        self.transformer = TwoWayTransformer(dc)
        self.upscale_conv1 = nn.ConvTranspose2d(c, c // 4, 2, 2)
        self.upscale_conv2 = nn.ConvTranspose2d(c // 4, c // 8, 2, 2)
        self.upscale_layer_norm = LayerNorm2d(c // 4, 1e-6)
        self.output_hypernetworks_mlps = nn.ModuleList([FeedForward(c, c, c // 8, 3) for _ in range(self.n_tokens)])
        self.iou_prediction_head = FeedForward(c, dc["iou_head_hidden_dim"], self.n_tokens, dc["iou_head_depth"],
                                               sigmoid_output=True)
        self.conv_s0 = nn.Conv2d(c, c // 8, 1)
        self.conv_s1 = nn.Conv2d(c, c // 4, 1)
        self.pred_obj_score_head = FeedForward(c, c, 1, 3)
        self.delta = dc["dynamic_multimask_stability_delta"]
        self.thresh = dc["dynamic_multimask_stability_thresh"]
        self.dynamic = dc["dynamic_multimask_via_stability"]

    def forward(self, img, img_pe, sparse, dense, multimask, feat_s0, feat_s1):
        """-> masks (k, h, w), iou (k,), token for the pointer (C,), object score logit (scalar tensor)."""
        out_tok = torch.cat([self.obj_score_token.weight, self.iou_token.weight, self.mask_tokens.weight], 0)
        tokens = torch.cat([out_tok[None], sparse[0]], dim=1)
        b, c, h, w = img.shape
        hs, src = self.transformer(tokens, img + dense, img_pe)
        src = src.transpose(1, 2).reshape(b, c, h, w)
        up = gelu(self.upscale_layer_norm(self.upscale_conv1(src) + feat_s1))
        up = gelu(self.upscale_conv2(up) + feat_s0)
        mask_tok = hs[0, 2:2 + self.n_tokens]
        hyper = torch.stack([m(mask_tok[i]) for i, m in enumerate(self.output_hypernetworks_mlps)], 0)
        masks = (hyper @ up.flatten(2)[0]).reshape(self.n_tokens, up.shape[2], up.shape[3])
        iou = self.iou_prediction_head(hs[0, 1])
        score = self.pred_obj_score_head(hs[0, 0])[0]
        if multimask:
            best = int(torch.argmax(iou[1:])) + 1
            return masks[best], iou[best], mask_tok[best], score, {"multimask": True, "chosen": best}
        if self.dynamic:
            m0 = masks[0].flatten()
            ai = (m0 > self.delta).sum().float()
            au = (m0 > -self.delta).sum().float()
            stab = float(ai / au) if au > 0 else 1.0
            if stab < self.thresh:
                best = int(torch.argmax(iou[1:])) + 1
                return masks[best], iou[best], mask_tok[0], score, {"multimask": False, "chosen": best,
                                                                     "stability": stab}
            return masks[0], iou[0], mask_tok[0], score, {"multimask": False, "chosen": 0, "stability": stab}
        return masks[0], iou[0], mask_tok[0], score, {"multimask": False, "chosen": 0}


# ------------------------------------------------------------------------------------------ memory
class RopeAttention(Attention):
    def forward(self, q, k, v, cos, sin, n_exclude=0):
        q = self.split(self.q_proj(q))
        k = self.split(self.k_proj(k))
        v = self.split(self.v_proj(v))
        q = q * cos + rotate_pairs(q) * sin
        nr = k.shape[2] - n_exclude
        if nr > 0:
            rep = nr // cos.shape[0]
            ck, sk = cos.repeat(rep, 1), sin.repeat(rep, 1)
            kr = k[:, :, :nr] * ck + rotate_pairs(k[:, :, :nr]) * sk
            k = torch.cat([kr, k[:, :, nr:]], dim=2)
        return self.attend(q, k, v)


def rotate_pairs(x):
    x = x.reshape(*x.shape[:-1], -1, 2)
    return torch.stack((-x[..., 1], x[..., 0]), dim=-1).flatten(-2)


def rope_table(dim, end_x, end_y, theta):
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 4)[: dim // 4].float() / dim))
    idx = torch.arange(end_x * end_y)
    fx = torch.outer((idx % end_x).float(), freqs)
    fy = torch.outer(torch.div(idx, end_x, rounding_mode="floor").float(), freqs)
    f = torch.cat([fx, fy], dim=-1).repeat_interleave(2, dim=-1)
    return f.cos(), f.sin()


class MemoryAttentionLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = cfg["memory_attention_hidden_size"]
        hds, ds = cfg["memory_attention_num_attention_heads"], cfg["memory_attention_downsample_rate"]
        self.self_attn = RopeAttention(c, hds, ds)
        self.cross_attn_image = RopeAttention(c, hds, ds, kv_in=cfg["memory_encoder_output_channels"])
        self.linear1 = nn.Linear(c, cfg["memory_attention_feed_forward_hidden_size"])
        self.linear2 = nn.Linear(cfg["memory_attention_feed_forward_hidden_size"], c)
        self.layer_norm1 = nn.LayerNorm(c)
        self.layer_norm2 = nn.LayerNorm(c)
        self.layer_norm3 = nn.LayerNorm(c)
        self.act = act(cfg["memory_attention_feed_forward_hidden_act"])

    def forward(self, x, mem, mem_pe, cos, sin, n_ptr):
        t = self.layer_norm1(x)
        x = x + self.self_attn(t, t, t, cos, sin)
        t = self.layer_norm2(x)
        x = x + self.cross_attn_image(t, mem + mem_pe, mem, cos, sin, n_ptr)
        return x + self.linear2(self.act(self.linear1(self.layer_norm3(x))))


class MemoryAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layers = nn.ModuleList([MemoryAttentionLayer(cfg) for _ in range(cfg["memory_attention_num_layers"])])
        self.layer_norm = nn.LayerNorm(cfg["memory_attention_hidden_size"])
        dim = cfg["memory_attention_hidden_size"] // (cfg["memory_attention_downsample_rate"]
                                                      * cfg["memory_attention_num_attention_heads"])
        ex, ey = cfg["memory_attention_rope_feat_sizes"]
        theta = (cfg.get("rope_parameters") or {}).get("rope_theta", cfg.get("memory_attention_rope_theta", 10000.0))
        self.cos, self.sin = rope_table(dim, ex, ey, theta)

    def forward(self, feat, feat_pe, mem, mem_pe, n_ptr):
        """feat, feat_pe (1, HW, C); mem, mem_pe (1, M, mem_dim) -> (1, HW, C)."""
        x = feat + 0.1 * feat_pe
        for layer in self.layers:
            x = layer(x, mem, mem_pe, self.cos, self.sin, n_ptr)
        return self.layer_norm(x)


class CXBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = cfg["memory_fuser_embed_dim"]
        self.depthwise_conv = nn.Conv2d(c, c, cfg["memory_fuser_kernel_size"], padding=cfg["memory_fuser_padding"],
                                        groups=c)
        self.layer_norm = LayerNorm2d(c, 1e-6)
        self.pointwise_conv1 = nn.Linear(c, cfg["memory_fuser_intermediate_dim"])
        self.pointwise_conv2 = nn.Linear(cfg["memory_fuser_intermediate_dim"], c)
        self.scale = nn.Parameter(torch.ones(c))
        self.act = act(cfg["memory_fuser_hidden_act"])

    def forward(self, x):
        t = self.layer_norm(self.depthwise_conv(x)).permute(0, 2, 3, 1)
        t = self.scale * self.pointwise_conv2(self.act(self.pointwise_conv1(t)))
        return x + t.permute(0, 3, 1, 2)


class Fuser(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layers = nn.ModuleList([CXBlock(cfg) for _ in range(cfg["memory_fuser_num_layers"])])


class DownLayer(nn.Module):
    def __init__(self, cfg, i, o):
        super().__init__()
        self.conv = nn.Conv2d(i, o, cfg["mask_downsampler_kernel_size"], cfg["mask_downsampler_stride"],
                              cfg["mask_downsampler_padding"])
        self.layer_norm = LayerNorm2d(o, 1e-6)
        self.act = act(cfg["mask_downsampler_hidden_act"])

    def forward(self, x):
        return self.act(self.layer_norm(self.conv(x)))


class MaskDownSampler(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        s = cfg["mask_downsampler_stride"]
        n = int(math.log2(cfg["mask_downsampler_total_stride"]) // math.log2(s))
        layers, i = [], 1
        for _ in range(n):
            layers.append(DownLayer(cfg, i, i * s * s))
            i = i * s * s
        self.layers = nn.ModuleList(layers)
        self.final_conv = nn.Conv2d(i, cfg["mask_downsampler_embed_dim"], 1)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.final_conv(x)


class MemoryEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c, o = cfg["memory_encoder_hidden_size"], cfg["memory_encoder_output_channels"]
        self.mask_downsampler = MaskDownSampler(cfg)
        self.feature_projection = nn.Conv2d(c, c, 1)
        self.memory_fuser = Fuser(cfg)
        self.projection = nn.Conv2d(c, o, 1)
        self.o = o

    def forward(self, pix, mask):
        x = self.feature_projection(pix) + self.mask_downsampler(mask)
        for blk in self.memory_fuser.layers:
            x = blk(x)
        x = self.projection(x)
        return x, sine_pos_2d(self.o, x.shape[2], x.shape[3])


# ------------------------------------------------------------------------------------------ the model
class Sam2Video(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        vc, pc, dc = cfg["vision_config"], cfg["prompt_encoder_config"], cfg["mask_decoder_config"]
        c = vc["fpn_hidden_size"]
        self.hidden = c
        self.mem_dim = cfg["memory_encoder_output_channels"]
        self.image_size = cfg["image_size"]
        self.feat_sizes = vc["backbone_feature_sizes"]
        self.shared_image_embedding = RandomFourier(pc["hidden_size"])
        self.vision_encoder = VisionEncoder(vc)
        self.prompt_encoder = PromptEncoder(pc)
        self.mask_decoder = MaskDecoder(dc)
        self.no_memory_embedding = nn.Parameter(torch.zeros(1, 1, c))
        self.memory_attention = MemoryAttention(cfg)
        self.memory_encoder = MemoryEncoder(cfg)
        self.no_memory_positional_encoding = nn.Parameter(torch.zeros(1, 1, c))
        self.num_maskmem = cfg["num_maskmem"]
        self.memory_temporal_positional_encoding = nn.Parameter(torch.zeros(self.num_maskmem, 1, 1, self.mem_dim))
        self.no_object_pointer = nn.Parameter(torch.zeros(1, c))
        self.mask_downsample = nn.Conv2d(1, 1, 4, 4)
        self.object_pointer_proj = FeedForward(c, c, c, 3)
        self.temporal_positional_encoding_projection_layer = nn.Linear(c, self.mem_dim)
        self.occlusion_spatial_embedding_parameter = nn.Parameter(torch.zeros(1, self.mem_dim))

    # --- image encoder graph: pixel_values (1,3,S,S) -> s0, s1, top feature, top position encoding
    def encode_image(self, pixel_values):
        hs = self.vision_encoder.backbone(pixel_values)
        feats, poss = self.vision_encoder.neck(hs)
        s0 = self.mask_decoder.conv_s0(feats[0])
        s1 = self.mask_decoder.conv_s1(feats[1])
        return {"s0": s0, "s1": s1, "feat": feats[2], "pos": poss[2]}

    def image_pe(self):
        g = self.prompt_encoder.grid
        y = (torch.arange(g, dtype=torch.float32) + 0.5) / g
        x = (torch.arange(g, dtype=torch.float32) + 0.5) / g
        grid = torch.stack([x[None, :].expand(g, g), y[:, None].expand(g, g)], dim=-1)
        return self.shared_image_embedding(grid).permute(2, 0, 1)[None]

    # --- prompt encoder + mask decoder graph
    def sam_heads(self, feats, pix, coords, labels, mask_input, multimask):
        if coords is None:
            coords = torch.zeros(1, 2)
            labels = -torch.ones(1, dtype=torch.long)
        coords = torch.cat([coords, torch.zeros(1, 2)], 0)  # pad point (prompts never carry a separate box)
        labels = torch.cat([labels, -torch.ones(1, dtype=torch.long)], 0)
        sparse, dense = self.prompt_encoder(coords, labels, mask_input)
        low, iou, tok, score, info = self.mask_decoder(pix, self.image_pe(), sparse, dense, multimask,
                                                       feats["s0"], feats["s1"])
        appearing = bool(score > 0)
        low = low if appearing else torch.full_like(low, NO_OBJ_SCORE)
        ptr = self.object_pointer_proj(tok)
        if not appearing:
            ptr = self.no_object_pointer[0].clone()
        info["iou"] = float(iou)
        return low, ptr, score, info

    def use_mask_as_output(self, feats, mask_inputs):
        """mask_inputs (1,1,S,S) binary float."""
        high = mask_inputs * 20.0 - 10.0
        s = self.image_size
        low = F.interpolate(high, size=(s // 4, s // 4), mode="bilinear", align_corners=False, antialias=True)[0, 0]
        _, ptr, _, info = self.sam_heads(feats, feats["feat"], None, None, self.mask_downsample(mask_inputs), False)
        appearing = bool(mask_inputs.flatten().gt(0).any())
        score = torch.tensor(10.0 if appearing else -10.0)
        ptr_raw = ptr
        ptr = ptr_raw if appearing else self.no_object_pointer[0].clone()
        info["iou"] = 1.0
        info["high"] = high[0, 0]
        return low, ptr, score, info

    def encode_memory(self, feats, low, score, from_prompt, high=None):
        """The memory of a frame from its mask logits at image_size (`high`; upsampled from `low` when None,
        as the decoder path does; the mask-prompt path passes its full-resolution +-10 logits)."""
        s = self.image_size
        if high is None:
            high = F.interpolate(low[None, None], size=(s, s), mode="bilinear", align_corners=False)
        else:
            high = high[None, None]
        m = (high > 0).float() if from_prompt else torch.sigmoid(high)
        m = m * self.cfg["sigmoid_scale_for_mem_enc"] + self.cfg["sigmoid_bias_for_mem_enc"]
        mem, pe = self.memory_encoder(feats["feat"], m)
        if not bool(score > 0):
            mem = mem + self.occlusion_spatial_embedding_parameter[0][None, :, None, None]
        return to_bf16(mem.flatten(2).permute(0, 2, 1)), pe.flatten(2).permute(0, 2, 1)  # (1, HW, mem_dim)

    def pointer_pe(self, diffs, max_ptrs):
        t = torch.tensor(diffs, dtype=torch.float32) / float(max_ptrs - 1)
        pe_dim = self.hidden // 2
        dim_t = torch.arange(pe_dim, dtype=torch.float32)
        dim_t = 10000 ** (2 * torch.div(dim_t, 2, rounding_mode="floor") / pe_dim)
        pe = t[:, None] / dim_t
        pe = torch.cat([pe.sin(), pe.cos()], dim=-1)
        return self.temporal_positional_encoding_projection_layer(pe)


def load_model(ckpt_dir):
    cfg = json.load(open(os.path.join(ckpt_dir, "config.json")))
    model = Sam2Video(cfg).eval()
    tensors, _ = safetensors_io.load_file(os.path.join(ckpt_dir, "model.safetensors"))
    state = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in tensors.items()}
    if "prompt_encoder.shared_embedding.positional_embedding" not in state:
        state["prompt_encoder.shared_embedding.positional_embedding"] = state[
            "shared_image_embedding.positional_embedding"]
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError("checkpoint mismatch: missing %s unexpected %s" % (missing, unexpected))
    return model


# ------------------------------------------------------------------------------------------ preprocessing
def pixel_values(rgb, size):
    """uint8 HxWx3 -> (1,3,size,size): PIL BILINEAR resize to size x size, /255 (float64 -> float32), ImageNet norm."""
    from PIL import Image
    r = np.asarray(Image.fromarray(rgb).resize((size, size), resample=Image.BILINEAR))
    x = (r.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]


def scale_points(xy, w, h, size):
    c = np.array(xy, dtype=np.float32).reshape(-1, 2).copy()
    c[:, 0] = c[:, 0] / np.float32(w) * np.float32(size)
    c[:, 1] = c[:, 1] / np.float32(h) * np.float32(size)
    return torch.from_numpy(c)


def prepare_mask(mask_bool, size):
    m = torch.from_numpy(mask_bool.astype(np.float32))[None, None]
    if m.shape[-2:] != (size, size):
        m = F.interpolate(m, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return (m >= 0.5).float()


def to_video_res(low, h, w):
    """low-res logits (s/4, s/4) -> (h, w) logits, bilinear align_corners=False."""
    return F.interpolate(low[None, None], size=(h, w), mode="bilinear", align_corners=False)[0, 0]


# ------------------------------------------------------------------------------------------ propagation
class VideoPredictor:
    """One object. Frames are encoded on demand (no feature cache beyond the current frame); the memory
    bank keeps per-frame outputs {maskmem, maskmem_pos, pointer, score} keyed by frame index."""

    def __init__(self, model, frames_rgb):
        self.m = model
        self.frames = frames_rgb
        self.n = len(frames_rgb)
        self.h, self.w = frames_rgb[0].shape[:2]
        self.cond = {}      # frame -> output dict
        self.noncond = {}   # frame -> output dict
        self.log = []
        self.dump = None  # frame -> memory-attention inputs/outputs, when a dict

    def feats(self, f):
        return self.m.encode_image(pixel_values(self.frames[f], self.m.image_size))

    def add_prompt(self, f, points=None, labels=None, box=None, mask=None):
        """Prompt on frame f (video pixel coordinates). Returns the frame's output dict."""
        m, s = self.m, self.m.image_size
        ft = self.feats(f)
        if mask is not None:
            mi = prepare_mask(mask, s)
            low, ptr, score, info = m.use_mask_as_output(ft, mi)
            from_prompt = True
        else:
            coords, labs = [], []
            if points is not None:
                coords += list(points)
                labs += list(labels)
            if box is not None:
                coords += [[box[0], box[1]], [box[2], box[3]]]
                labs += [2, 3]
            c = scale_points(coords, self.w, self.h, s)
            lab = torch.tensor(labs, dtype=torch.long)
            cfg = m.cfg
            multimask = cfg["multimask_output_in_sam"] and cfg["multimask_min_pt_num"] <= len(labs) <= cfg[
                "multimask_max_pt_num"]
            pix = (ft["feat"].flatten(2).permute(0, 2, 1) + m.no_memory_embedding).permute(0, 2, 1).reshape(
                ft["feat"].shape)
            low, ptr, score, info = m.sam_heads(ft, pix, c, lab, None, multimask)
            from_prompt = True
        mem, mem_pe = m.encode_memory(ft, low, score, from_prompt, info.pop("high", None))
        if self.dump is not None:
            self.dump[("cond", f)] = {"vision_feat": ft["feat"].flatten(2).permute(0, 2, 1), "s0": ft["s0"],
                                      "s1": ft["s1"]}
        out = {"frame": f, "low": low, "pointer": ptr, "score": float(score), "maskmem": mem, "maskmem_pos": mem_pe,
               "info": info, "memory_used": [], "pointers_used": []}
        self.cond[f] = out
        # A prompt on a tracked frame (refinement) replaces its tracked output, as facebookresearch's
        # propagate_in_video_preflight drops non-conditioning outputs of conditioning frames.
        self.noncond.pop(f, None)
        return out

    def select_memory(self, f, reverse):
        """The spatial memories and pointers frame f attends to, in the reference order."""
        m = self.m
        sign = -1 if reverse else 1
        mems = [(0, t) for t in self.cond]
        for off in range(m.num_maskmem - 1, 0, -1):
            p = f + off if reverse else f - off
            if p in self.noncond:
                mems.append((off, p))
        max_ptrs = min(self.n, m.cfg["max_object_pointers_in_encoder"])
        ptrs = [((f - t) * sign, t) for t in self.cond if (t >= f if reverse else t <= f)]
        for d in range(1, max_ptrs):
            r = f + d if reverse else f - d
            if r < 0 or r >= self.n:
                break
            if r in self.noncond:
                ptrs.append((d, r))
        return mems, ptrs, max_ptrs

    def track(self, f, reverse):
        m = self.m
        ft = self.feats(f)
        mems, ptrs, max_ptrs = self.select_memory(f, reverse)
        bank = lambda t: self.cond[t] if t in self.cond else self.noncond[t]  # noqa: E731
        mem = torch.cat([bank(t)["maskmem"] for _, t in mems], 1)
        tpe = m.memory_temporal_positional_encoding
        mem_pe = torch.cat([bank(t)["maskmem_pos"] + tpe[off - 1].reshape(1, 1, -1) for off, t in mems], 1)
        n_ptr = 0
        if ptrs:
            p = torch.stack([bank(t)["pointer"] for _, t in ptrs], 0)  # (P, C)
            ppe = m.pointer_pe([d for d, _ in ptrs], max_ptrs)  # (P, mem_dim)
            split = m.hidden // m.mem_dim
            p = p.reshape(-1, split, m.mem_dim).reshape(-1, m.mem_dim)
            ppe = ppe.repeat_interleave(split, dim=0)
            mem = torch.cat([mem, p[None]], 1)
            mem_pe = torch.cat([mem_pe, ppe[None]], 1)
            n_ptr = p.shape[0]
        feat = ft["feat"].flatten(2).permute(0, 2, 1)
        pos = ft["pos"].flatten(2).permute(0, 2, 1)
        x = m.memory_attention(feat, pos, mem, mem_pe, n_ptr)
        if self.dump is not None:
            ns = mem.shape[1] - n_ptr
            self.dump[f] = {"vision_feat": feat, "vision_pos": pos, "memory": mem[:, :ns], "memory_pos": mem_pe[:, :ns],
                            "pointers": mem[:, ns:], "pointer_distances": [d for d, _ in ptrs],
                            "pointer_max": max_ptrs, "pointers_pos": mem_pe[:, ns:], "conditioned": x,
                            "s0": ft["s0"], "s1": ft["s1"]}
        pix = x.permute(0, 2, 1).reshape(ft["feat"].shape)
        cfg = m.cfg
        multimask = cfg["multimask_output_in_sam"] and cfg["multimask_output_for_tracking"] and cfg[
            "multimask_min_pt_num"] <= 0 <= cfg["multimask_max_pt_num"]
        low, ptr, score, info = m.sam_heads(ft, pix, None, None, None, multimask)
        mk, mk_pe = m.encode_memory(ft, low, score, False)
        out = {"frame": f, "low": low, "pointer": ptr, "score": float(score), "maskmem": mk, "maskmem_pos": mk_pe,
               "info": info, "memory_used": [[off, t] for off, t in mems], "pointers_used": [[d, t] for d, t in ptrs]}
        self.noncond[f] = out
        return out

    def propagate(self, start, reverse=False):
        """Yields the output of each frame from start (the conditioning frame, reused) to the end/beginning."""
        order = range(start, -1, -1) if reverse else range(start, self.n)
        if reverse and start == 0:
            order = []
        for f in order:
            if f in self.cond:
                yield self.cond[f]
            else:
                yield self.track(f, reverse)
