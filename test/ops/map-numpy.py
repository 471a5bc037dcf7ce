# Writes map-numpy.json: what numpy answers for ops.map's built-ins on small
# inputs (run: /usr/bin/python3 test/ops/map-numpy.py). Non-finite numbers
# are written as the strings "nan", "inf", "-inf".
import json, math, os
import numpy as np

def enc(a):
    out = []
    for v in np.asarray(a, dtype=np.float64).ravel().tolist():
        out.append("nan" if math.isnan(v) else ("inf" if v == math.inf else ("-inf" if v == -math.inf else v)))
    return out

vals = [0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 3.7, -3.7, 1e-300, 1e300, 710.0, -745.0, 40.0, -40.0,
        math.nan, math.inf, -math.inf, 2.0, 0.1]
unary = {
    "sqrt": np.sqrt, "exp": np.exp, "log": np.log, "log1p": np.log1p, "expm1": np.expm1,
    "abs": np.abs, "neg": np.negative, "square": np.square, "sin": np.sin, "cos": np.cos,
    "tanh": np.tanh, "floor": np.floor, "ceil": np.ceil, "round": np.rint, "sign": np.sign,
    "sigmoid": lambda x: np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x)))),
}
res = {"values": enc(vals), "unary": {}, "unary32": {}, "binary": {}}
with np.errstate(all="ignore"):
    x = np.array(vals, dtype=np.float64)
    x32 = x.astype(np.float32)
    for name, f in unary.items():
        res["unary"][name] = enc(f(x))
        res["unary32"][name] = enc(np.asarray(f(x32), dtype=np.float32))
    a = np.array([[1.5, -2.0, 0.0, math.nan], [3.0, math.inf, -1.0, 4.0], [0.25, 2.0, -0.0, 8.0]])
    b = np.array([2.0, 0.0, -math.inf, 0.5])
    c = np.array([[1.0], [-2.0], [0.0]])
    res["binary"]["a"] = enc(a); res["binary"]["b"] = enc(b); res["binary"]["c"] = enc(c)
    for name, f in {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power,
                    "maximum": np.maximum, "minimum": np.minimum}.items():
        res["binary"][name + "_ab"] = enc(f(a, b))
        res["binary"][name + "_ac"] = enc(f(a, c))
        res["binary"][name + "_bc"] = enc(f(b, c))  # shape [3, 4]: both operands stretched
        res["binary"][name + "_a3"] = enc(f(a, 3.0))
    res["binary"]["clip"] = enc(np.clip(a, -1.0, 2.0))
    # Integer arithmetic wraps as numpy's typed arithmetic does.
    i32 = np.array([2147483647, -2147483648, 123456789, -7, 0], dtype=np.int32)
    u8 = np.array([250, 3, 0, 128, 255], dtype=np.uint8)
    res["int"] = {
        "i32": i32.tolist(), "u8": u8.tolist(),
        "i32_add_1": (i32 + np.int32(1)).tolist(), "i32_mul_i32": (i32 * i32).tolist(),
        "i32_square": np.square(i32).tolist(), "i32_neg": np.negative(i32).tolist(), "i32_abs": np.abs(i32).tolist(),
        "u8_add_10": (u8 + np.uint8(10)).tolist(), "u8_sub_5": (u8 - np.uint8(5)).tolist(), "u8_mul_3": (u8 * np.uint8(3)).tolist(),
        "i32_div_2": enc(i32 / 2), "i32_sqrt": enc(np.sqrt(i32)),
        "u8_plus_i8": (u8 + np.array([-1, 2, -3, 4, -5], dtype=np.int8)).tolist(),
        "u8_plus_i8_dtype": str((u8 + np.array([-1], dtype=np.int8)).dtype),
    }
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "map-numpy.json")
with open(path, "w") as fh:
    json.dump(res, fh, separators=(",", ":"))
print("wrote", path, os.path.getsize(path), "bytes")
