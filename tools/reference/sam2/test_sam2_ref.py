#!/usr/bin/python3
"""Unit tests of the SAM 2.1 reference: pieces checked against independent formulations."""
import os
import sys
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_sam2_checkpoint  # noqa: E402
import sam2_ref  # noqa: E402


class RopeTest(unittest.TestCase):
    def test_pairwise_rotation_equals_complex_multiplication(self):
        """facebookresearch applies axial RoPE as x * exp(i theta) on complex pairs (x0 + i x1)."""
        dim, ex, ey = 16, 4, 3
        cos, sin = sam2_ref.rope_table(dim, ex, ey, 10000.0)
        x = torch.randn(ex * ey, dim, generator=torch.Generator().manual_seed(0))
        ours = x * cos + sam2_ref.rotate_pairs(x) * sin
        freqs = 1.0 / (10000.0 ** (torch.arange(0, dim, 4)[: dim // 4].float() / dim))
        t = torch.arange(ex * ey)
        ang = torch.cat([torch.outer((t % ex).float(), freqs), torch.outer((t // ex).float(), freqs)], -1)
        xc = torch.view_as_complex(x.reshape(ex * ey, -1, 2).contiguous())
        ref = torch.view_as_real(xc * torch.polar(torch.ones_like(ang), ang)).flatten(1)
        self.assertTrue(torch.allclose(ours, ref, atol=1e-5))


class WindowTest(unittest.TestCase):
    def test_partition_roundtrip_with_padding(self):
        x = torch.randn(1, 8, 8, 3)
        w, pad = sam2_ref.window_partition(x, 6)
        self.assertEqual(tuple(w.shape), (4, 6, 6, 3))
        self.assertEqual(pad, (12, 12))
        self.assertTrue(torch.equal(sam2_ref.window_unpartition(w, 6, pad, (8, 8)), x))


class ShapesTest(unittest.TestCase):
    def test_hiera_tiny_parameter_count(self):
        """facebook/sam2.1-hiera-tiny has 38.9 M parameters."""
        m = sam2_ref.Sam2Video(make_sam2_checkpoint.config("hiera-tiny"))
        n = sum(p.numel() for p in m.parameters())
        self.assertTrue(38.9e6 <= n < 39.0e6, n)

    def test_hf_tensor_names(self):
        keys = set(sam2_ref.Sam2Video(make_sam2_checkpoint.config("tiny")).state_dict())
        for k in ["vision_encoder.backbone.patch_embed.projection.weight", "vision_encoder.backbone.pos_embed",
                  "vision_encoder.backbone.pos_embed_window", "vision_encoder.backbone.blocks.1.proj.weight",
                  "vision_encoder.backbone.blocks.0.attn.qkv.weight", "vision_encoder.neck.convs.3.weight",
                  "prompt_encoder.point_embed.weight", "prompt_encoder.not_a_point_embed.weight",
                  "prompt_encoder.mask_embed.layer_norm2.bias", "shared_image_embedding.positional_embedding",
                  "mask_decoder.transformer.layers.1.cross_attn_image_to_token.o_proj.weight",
                  "mask_decoder.output_hypernetworks_mlps.3.layers.0.weight", "mask_decoder.obj_score_token.weight",
                  "memory_attention.layers.1.cross_attn_image.k_proj.weight", "memory_attention.layer_norm.weight",
                  "memory_encoder.mask_downsampler.layers.3.layer_norm.weight",
                  "memory_encoder.memory_fuser.layers.1.scale", "memory_temporal_positional_encoding",
                  "temporal_positional_encoding_projection_layer.weight", "occlusion_spatial_embedding_parameter",
                  "no_object_pointer", "mask_downsample.weight", "object_pointer_proj.layers.0.weight"]:
            self.assertIn(k, keys)


class MemoryBankTest(unittest.TestCase):
    def test_selection_is_bounded_on_a_long_video(self):
        pred = sam2_ref.VideoPredictor.__new__(sam2_ref.VideoPredictor)
        pred.m = sam2_ref.Sam2Video(make_sam2_checkpoint.config("tiny"))
        pred.n = 300
        pred.cond = {0: {}}
        pred.noncond = {f: {} for f in range(1, 300)}
        mems, ptrs, max_ptrs = pred.select_memory(299, reverse=False)
        self.assertEqual([t for _, t in mems], [0, 293, 294, 295, 296, 297, 298])
        self.assertEqual(max_ptrs, 16)
        self.assertEqual(len(ptrs), 16)
        self.assertEqual(ptrs[0], (299, 0))
        self.assertEqual([d for d, _ in ptrs[1:]], list(range(1, 16)))
        mems, ptrs, _ = pred.select_memory(150, reverse=True)
        self.assertEqual([t for _, t in mems], [0, 156, 155, 154, 153, 152, 151])
        self.assertEqual([t for _, t in ptrs], list(range(151, 166)))  # cond frame 0 is behind: no pointer


if __name__ == "__main__":
    unittest.main()
