# Writes linalg-numpy.json: numpy's dot and matmul of small fixed inputs
# (run: /usr/bin/python3 test/ops/linalg-numpy.py).
import json, os
import numpy as np

rng = np.random.default_rng(10)
A = rng.standard_normal((5, 7)); B = rng.standard_normal((7, 3)); v = rng.standard_normal(7); w = rng.standard_normal(5)
A32 = A.astype(np.float32); B32 = B.astype(np.float32)
I = rng.integers(-50, 50, (4, 6)).astype(np.int32); J = rng.integers(-50, 50, (6, 2)).astype(np.int32)
res = {
    "A": A.ravel().tolist(), "B": B.ravel().tolist(), "v": v.tolist(), "w": w.tolist(),
    "AB": (A @ B).ravel().tolist(), "Av": (A @ v).tolist(), "wA": (w @ A).tolist(), "vv": float(v @ v),
    "AAt": (A @ A.T).ravel().tolist(),
    "AB32": (A32 @ B32).astype(np.float64).ravel().tolist(),
    "I": I.ravel().tolist(), "J": J.ravel().tolist(), "IJ": (I @ J).ravel().tolist(),
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linalg-numpy.json")
with open(path, "w") as fh:
    json.dump(res, fh, separators=(",", ":"))
print("wrote", path, os.path.getsize(path), "bytes")
