# Relative RMS error of dam-convert's int4 RTN (symmetric, qmax 7, one absmax scale per block) by block size
import numpy as np
rng = np.random.default_rng(1)
n, k = 512, 2560
def err(w, block):
    b = w.reshape(n, k // block, block)
    s = np.abs(b).max(axis=2, keepdims=True) / 7
    q = np.clip(np.round(b / s), -7, 7) * s
    return np.sqrt(((q - b) ** 2).mean() / (b ** 2).mean())
dists = {
    "uniform (our random checkpoints)": rng.uniform(-1, 1, (n, k)),
    "gaussian": rng.standard_normal((n, k)),
    "laplace": rng.laplace(size=(n, k)),
    "student-t, 4 dof (heavy tails)": rng.standard_t(4, (n, k)),
}
for name, w in dists.items():
    e = {bl: err(w, bl) for bl in (32, 64, 128)}
    print(f"{name}: " + ", ".join(f"block {bl} {v*100:.1f} %" for bl, v in e.items()) + f"; 128/32 = {e[128]/e[32]:.2f}")
