"""make_checkpoint.py writes tensor by tensor: its bytes must stay those of the in-memory writer it replaced."""
import hashlib
import json
import os
import resource
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_checkpoint  # noqa: E402
import safetensors_io  # noqa: E402

DIGESTS = os.path.join(HERE, "fixtures", "checkpoint-digests.json")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class StreamingCheckpointTest(unittest.TestCase):
    def test_presets_match_recorded_digests(self):
        with open(DIGESTS, encoding="utf-8") as fh:
            presets = json.load(fh)["presets"]
        for key, spec in sorted(presets.items()):
            with self.subTest(preset=key), tempfile.TemporaryDirectory() as td:
                make_checkpoint.make_checkpoint(spec["preset"], spec["variant"], td, layers=spec["layers"])
                written = {os.path.relpath(os.path.join(d, f), td).replace(os.sep, "/")
                           for d, _, fs in os.walk(td) for f in fs}
                self.assertEqual(written, set(spec["files"]))
                for rel, digest in sorted(spec["files"].items()):
                    self.assertEqual(sha256(os.path.join(td, rel)), digest, rel)

    def test_lazy_and_eager_tensors_encode_alike(self):
        rng = np.random.default_rng(3)
        eager = {"b": rng.standard_normal((3, 5)).astype(np.float32), "a": rng.standard_normal(7).astype(np.float32),
                 "i": np.arange(4, dtype=np.int64)}
        lazy = {"b": safetensors_io.LazyTensor((3, 5), lambda: eager["b"]),
                "a": safetensors_io.LazyTensor((7,), lambda: eager["a"]), "i": eager["i"]}
        for dt in (None, "F16", "BF16"):
            self.assertEqual(safetensors_io.encode(eager, dtype=dt, metadata={"k": "v"}),
                             safetensors_io.encode(lazy, dtype=dt, metadata={"k": "v"}), dt)

    def test_lazy_shape_mismatch_is_refused(self):
        bad = {"x": safetensors_io.LazyTensor((2, 2), lambda: np.zeros(3, dtype=np.float32))}
        with tempfile.TemporaryDirectory() as td, self.assertRaises(ValueError):
            safetensors_io.save_file(bad, os.path.join(td, "x.safetensors"))

    def test_peak_memory_is_one_tensor_not_a_file(self):
        # Writing a 2-layer bench llm/ file (0.65 GB of f16, 1.3 GB as float32) may hold its largest tensor
        # (embed_tokens, 32000 x 2560 float32 = 328 MB) and that tensor's f16 copy, never the whole file.
        largest = 32000 * 2560 * 4 / 1e6
        with tempfile.TemporaryDirectory() as td:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            p = dict(make_checkpoint.PRESETS["bench"], l_layers=2)
            path = os.path.join(td, "llm.safetensors")
            size = safetensors_io.save_file(make_checkpoint.llm_weights(p, 1), path, dtype="F16")
            grown_mb = 1.024 * (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024.0
            self.assertEqual(size, os.path.getsize(path))
            self.assertLess(grown_mb, 2 * largest, "peak RSS grew %.0f MB writing %.0f MB" % (grown_mb, size / 1e6))


if __name__ == "__main__":
    unittest.main()
