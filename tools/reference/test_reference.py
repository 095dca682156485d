"""Unit tests of the reference: /usr/bin/python3 -m unittest discover -s tools/reference"""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dam_ref  # noqa: E402
import safetensors_io  # noqa: E402

TINY = os.path.join(HERE, "fixtures", "tiny-image")


class KvCacheTest(unittest.TestCase):
    def _check(self, m):
        torch.manual_seed(0)
        H = m.lcfg["hidden_size"]
        seq = torch.randn(24, H)
        with torch.no_grad():
            full, _ = m.llm_forward(seq)
            _, cache = m.llm_forward(seq[:17])
            for t in range(17, 24):
                step, cache = m.llm_forward(seq[t:t + 1], cache)
                scale = float(full[t].abs().max())
                self.assertLessEqual(float((step[0] - full[t]).abs().max()), 1e-5 * max(scale, 1.0))

    def test_kv_cache_matches_full_recompute(self):
        self._check(dam_ref.DAMReference(TINY))

    def test_kv_cache_gqa(self):
        m = dam_ref.DAMReference(TINY)
        m.lcfg = dict(m.lcfg, num_key_value_heads=2)
        hd = m.lcfg["hidden_size"] // m.lcfg["num_attention_heads"]
        for k in list(m.lw):
            if k.endswith("k_proj.weight") or k.endswith("v_proj.weight"):
                m.lw[k] = m.lw[k][:2 * hd].clone()
        self._check(m)

    def test_generate_cache_vs_recompute_tokens(self):
        m = dam_ref.DAMReference(TINY)
        emb = m.embed_ids([1, 5, 9, 300, 42, 7])
        with torch.no_grad():
            a = m.generate(emb, 8, use_cache=True)
            b = m.generate(emb, 8, use_cache=False)
        self.assertEqual(a["tokens"], b["tokens"])


class SafetensorsTest(unittest.TestCase):
    def test_round_trip(self):
        rng = np.random.default_rng(0)
        t = {"b.w": rng.standard_normal((3, 5)).astype(np.float32), "a": rng.standard_normal(7).astype(np.float32)}
        for dt in ("F32", "F16", "BF16"):
            data = safetensors_io.encode(t, dtype=dt, metadata={"format": "pt"})
            self.assertEqual(data, safetensors_io.encode(t, dtype=dt, metadata={"format": "pt"}))
            n = int.from_bytes(data[:8], "little")
            self.assertEqual(n % 8, 0)
            self.assertLess(data[8:8 + n].index(b'"a"'), data[8:8 + n].index(b'"b.w"'))
            back, meta = safetensors_io.decode(data)
            self.assertEqual(meta, {"format": "pt"})
            for k in t:
                tol = {"F32": 0, "F16": 1e-3, "BF16": 1e-2}[dt]
                np.testing.assert_allclose(back[k], t[k], rtol=tol, atol=tol * 4)
            if dt == "BF16":  # bit-exact vs torch's bfloat16 rounding
                ref = torch.from_numpy(t["a"]).to(torch.bfloat16).to(torch.float32).numpy()
                np.testing.assert_array_equal(back["a"], ref)
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "x.safetensors")
            safetensors_io.save_file(t, p, dtype="F16")
            back, _ = safetensors_io.load_file(p)
            np.testing.assert_array_equal(back["a"], t["a"].astype(np.float16).astype(np.float32))


class CheckpointLayoutTest(unittest.TestCase):
    """The reference loads what a user may have: llm/ sharded with model.safetensors.index.json
    (as nvidia/DAM-3B ships it) or a single file, in F16 or BF16."""

    def _copy_sharded(self, d, dtype):
        import shutil
        dst = os.path.join(d, "ckpt")
        shutil.copytree(TINY, dst)
        llm = os.path.join(dst, "llm")
        t, _ = safetensors_io.load_file(os.path.join(llm, "model.safetensors"))
        names = sorted(t)
        weight_map = {}
        for part in range(2):
            shard = "model-%05d-of-00002.safetensors" % (part + 1)
            safetensors_io.save_file({k: t[k] for k in names[part::2]}, os.path.join(llm, shard), dtype=dtype)
            weight_map.update({k: shard for k in names[part::2]})
        os.remove(os.path.join(llm, "model.safetensors"))
        with open(os.path.join(llm, "model.safetensors.index.json"), "w") as fh:
            json.dump({"metadata": {}, "weight_map": weight_map}, fh)
        return dst, t

    def test_sharded_f16_and_bf16(self):
        ref = dam_ref.DAMReference(TINY)
        ids = torch.tensor([1, 5, 9, 33, 7])
        with torch.no_grad():
            want, _ = ref.llm_forward(ref.embed_ids(ids))
        with tempfile.TemporaryDirectory() as d:
            for dtype in ("F16", "BF16"):
                ckpt, single = self._copy_sharded(os.path.join(d, dtype), dtype)
                w, _ = safetensors_io.load_dir(os.path.join(ckpt, "llm"))
                self.assertEqual(sorted(w), sorted(single))
                for k in single:
                    exp = single[k] if dtype == "F16" else torch.from_numpy(single[k]).to(
                        torch.bfloat16).float().numpy()
                    np.testing.assert_array_equal(w[k], exp)
                m = dam_ref.DAMReference(ckpt)
                with torch.no_grad():
                    got, _ = m.llm_forward(m.embed_ids(ids))
                if dtype == "F16":  # the fixture is F16 already: bit-identical
                    self.assertTrue(torch.equal(got, want))
                else:  # bf16 rounding of the weights: close, not equal
                    self.assertFalse(torch.equal(got, want))
                    self.assertLess(float((got - want).abs().max()), 0.1 * float(want.abs().max()) + 1e-3)

    def test_index_naming_a_missing_tensor_fails(self):
        with tempfile.TemporaryDirectory() as d:
            ckpt, _ = self._copy_sharded(d, "F16")
            idx = os.path.join(ckpt, "llm", "model.safetensors.index.json")
            with open(idx) as fh:
                j = json.load(fh)
            j["weight_map"]["model.extra.weight"] = "model-00001-of-00002.safetensors"
            with open(idx, "w") as fh:
                json.dump(j, fh)
            with self.assertRaisesRegex(ValueError, "model.extra.weight"):
                safetensors_io.load_dir(os.path.join(ckpt, "llm"))


class FocalCropTest(unittest.TestCase):
    def mask(self, h, w, r0, r1, c0, c1):
        m = np.zeros((h, w), np.uint8)
        m[r0:r1, c0:c1] = 1
        return m

    def test_box_exclusive(self):
        self.assertEqual(dam_ref.mask_to_box(self.mask(50, 60, 3, 10, 5, 9)), (5, 3, 4, 7))

    def test_single_pixel_at_origin_truncates_toward_zero(self):
        # xc = 0.5, w -> 48, x0 = int(0.5 - 24) = int(-23.5) = -23 (not floor -24)
        self.assertEqual(dam_ref.focal_crop_window(self.mask(300, 400, 0, 1, 0, 1)), (0, 73, 0, 73))

    def test_min_box_before_window(self):
        m = self.mask(300, 400, 100, 110, 200, 210)  # 10x10 box, centre 205
        # w = 48, x0 = int(205 - 24) = 181 -> cols [133, 277); rows y0 = int(105 - 24) = 81 -> [33, 177)
        self.assertEqual(dam_ref.focal_crop_window(m), (33, 177, 133, 277))

    def test_odd_box_and_clip(self):
        m = self.mask(120, 100, 70, 120, 61, 100)  # 50 x 39 box touching bottom/right
        # w: 39 -> 48, xc = 80.5, x0 = int(56.5) = 56 -> [8, 100); h = 50, yc = 95.0, y0 = 70 -> [20, 120)
        self.assertEqual(dam_ref.focal_crop_window(m), (20, 120, 8, 100))

    def test_whole_image(self):
        self.assertEqual(dam_ref.focal_crop_window(self.mask(30, 40, 5, 25, 5, 35)), (0, 30, 0, 40))

    def test_empty_mask_raises(self):
        with self.assertRaises(ValueError):
            dam_ref.focal_crop_window(np.zeros((10, 10), np.uint8))


class RngContractTest(unittest.TestCase):
    def test_splitmix64_seed_1234(self):
        r = dam_ref.SplitMix64(1234)
        self.assertEqual([r.next64() for _ in range(3)],
                         [0xBB0CF61B2F181CDB, 0x97C7A1364DF06524, 0x33BEFAE49BC025DA])
        r = dam_ref.SplitMix64(1234)
        self.assertEqual([r.next_double() for _ in range(3)],
                         [0.730666524540624, 0.5928898580149862, 0.20213287431010984])

    def test_sampler(self):
        lg = np.array([0.0, 3.0, 1.0, 3.0, -2.0], np.float32)
        # top_k=1 keeps both tied maxima (ids 1 and 3); equal probabilities 0.5 each
        t, u = dam_ref.sample_token(lg, dam_ref.SplitMix64(1234), temperature=1.0, top_k=1)
        self.assertEqual((t, u), (3, 0.730666524540624))
        t, _ = dam_ref.sample_token(lg, dam_ref.SplitMix64(1234), temperature=0.7, top_k=0, top_p=0.01)
        self.assertEqual(t, 3)  # top-p keeps only the largest in (value, id) order: id 3


class ProjectorOrderTest(unittest.TestCase):
    def test_downsample_order(self):
        x = torch.randn(1, 729, 3)
        y = dam_ref.DAMReference.downsample(x)
        g = torch.zeros(28, 28, 3)
        g[:27, :27] = x[0].reshape(27, 27, 3)
        for i in range(14):
            for j in range(14):
                want = torch.cat([g[2 * i, 2 * j], g[2 * i, 2 * j + 1], g[2 * i + 1, 2 * j], g[2 * i + 1, 2 * j + 1]])
                self.assertTrue(torch.equal(y[0, j * 14 + i], want))


class PromptTest(unittest.TestCase):
    def test_video_chunks(self):
        tok = dam_ref.LlamaSlowTokenizer(os.path.join(TINY, "llm", "tokenizer.model"))
        ids = dam_ref.tokenizer_image_token(dam_ref.build_prompt_v1(dam_ref.QUERY_JOINT_VIDEO), tok)
        self.assertEqual(ids[0], 1)
        self.assertEqual(ids.count(dam_ref.IMAGE_TOKEN_INDEX), 8)
        k = ids.index(dam_ref.IMAGE_TOKEN_INDEX)
        self.assertEqual(ids[k:k + 8], [dam_ref.IMAGE_TOKEN_INDEX] * 8)
        self.assertEqual(ids.count(1), 1)

    def test_legacy_false_equals_dummy_prefix_encode_for_prompts(self):
        tok = dam_ref.LlamaSlowTokenizer(os.path.join(TINY, "llm", "tokenizer.model"))
        for q in (dam_ref.QUERY_IMAGE, dam_ref.QUERY_JOINT_IMAGE, dam_ref.QUERY_JOINT_VIDEO):
            for chunk in dam_ref.build_prompt_v1(q).split("<image>"):
                if chunk:
                    self.assertEqual(tok(chunk)[1:], tok.sp_plain.encode(chunk))


if __name__ == "__main__":
    unittest.main()
