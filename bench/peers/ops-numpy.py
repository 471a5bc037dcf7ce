"""The numpy and scikit-learn side of the ops suite (bench/ops.ts), one
long-lived process answering one JSON request per line on stdin with one
JSON line on stdout, so its rows are measured in the same rounds as sabre's,
interleaved, on data loaded once:

    /usr/bin/python3 bench/peers/ops-numpy.py

Requests:
    {"cmd": "init", "threads": T}      limit OpenBLAS / OpenMP to T threads (threadpoolctl)
    {"cmd": "load", "name": n, "path": p, "dtype": "<f8", "shape": [..]}   a raw little-endian file
    {"cmd": "run", "row": r, "reps": k, "seed": s}   time k calls of row r (perf_counter, inside
                                                      this process: no pipe cost is counted)
Replies: {"ok": true, ...} or {"ok": false, "error": "..."}. Every "run"
reply carries "ms" (all k calls) and a "check" of the last call's result
(a sum, a checksum, counts) that bench/ops.ts compares with its own.
"""
import json
import sys
import time
import traceback

import numpy as np

data = {}
state = {"threads": None, "limits": None}


def sklearn_version():
    try:
        import sklearn

        return sklearn.__version__
    except ImportError:
        return None


def init(req):
    t = int(req["threads"])
    state["threads"] = t
    info = []
    try:
        from threadpoolctl import threadpool_info, threadpool_limits

        # Kept for the life of the process: every later call runs under it.
        state["limits"] = threadpool_limits(limits=t)
        info = threadpool_info()
    except ImportError:
        pass
    blas = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture', '?')}, {i.get('num_threads')} threads)" for i in info]
    return {"numpy": np.__version__, "sklearn": sklearn_version(), "pools": blas, "threads": t}


def load(req):
    shape = tuple(req["shape"])
    # Only as many elements as the shape holds: argsort's input is a prefix of the big array's file.
    a = np.fromfile(req["path"], dtype=req["dtype"], count=int(np.prod(shape)))
    if a.size != int(np.prod(shape)):
        raise ValueError(f"{req['path']}: {a.size} elements, expected {shape}")
    data[req["name"]] = a.reshape(shape)
    return {}


def checksum(a):
    return float(np.sum(a, dtype=np.float64))


def timed(reps, fn):
    out = None
    t0 = time.perf_counter()
    for _ in range(reps):
        out = fn()
    return (time.perf_counter() - t0) * 1e3, out


def run(req):
    row, reps, seed = req["row"], int(req["reps"]), int(req.get("seed", 0))
    d = data
    if row == "copy":
        src, dst = d["big"], d.setdefault("big_copy", np.empty_like(d["big"]))
        ms, _ = timed(reps, lambda: np.copyto(dst, src))
        return {"ms": ms, "check": float(dst[-1])}
    if row == "sum":
        ms, v = timed(reps, lambda: np.sum(d["big"]))
        return {"ms": ms, "check": float(v)}
    if row in ("sum1m", "sum100k"):
        # The medium sums (bench/ops/reductions.ts, MEDIUM_SUM and MEDIUM_SUM_SMALL): a slice of the same values.
        part = d["big"][: min(1_000_000 if row == "sum1m" else 100_000, d["big"].size)]
        ms, v = timed(reps, lambda: np.sum(part))
        return {"ms": ms, "check": float(v)}
    if row == "mean":
        ms, v = timed(reps, lambda: np.mean(d["big"]))
        return {"ms": ms, "check": float(v)}
    if row in ("mean0", "mean1", "var0", "var1"):
        f = np.mean if row.startswith("mean") else np.var
        axis = int(row[-1])
        ms, v = timed(reps, lambda: f(d["tab"], axis=axis))
        return {"ms": ms, "check": checksum(v)}
    if row == "sum1000":
        # Call latency: every call timed on its own; "ms" is the median call x reps (as bench/ops.ts's perCallMedian).
        small, s, clock = d["small"], np.sum, time.perf_counter_ns
        times = [0] * reps
        v = None
        for i in range(reps):
            t0 = clock()
            v = s(small)
            times[i] = clock() - t0
        times.sort()
        return {"ms": times[reps // 2] * reps / 1e6, "check": float(v)}
    if row in ("matmul64", "matmul32"):
        a, b = (d["A"], d["B"]) if row == "matmul64" else (d["A32"], d["B32"])
        ms, c = timed(reps, lambda: a @ b)
        return {"ms": ms, "check": checksum(c)}
    if row in ("argsort", "argsort_stable"):
        x = d["sortx"]
        kind = "stable" if row == "argsort_stable" else None
        ms, idx = timed(reps, lambda: np.argsort(x, kind=kind))
        v = x[idx]
        ok = bool(np.all(v[1:] >= v[:-1])) and idx.size == x.size
        return {"ms": ms, "check": ok}
    if row == "histogram":
        ms, (counts, _) = timed(reps, lambda: np.histogram(d["big"], bins=req.get("bins", 100), range=(0.0, 1.0)))
        return {"ms": ms, "check": [int(c) for c in counts]}
    if row == "kmeans":
        from sklearn.cluster import KMeans

        X = d["km"]
        km = KMeans(
            n_clusters=int(req["k"]),
            n_init=int(req["nInit"]),
            max_iter=int(req["maxIter"]),
            tol=float(req["tol"]),
            random_state=seed,
            algorithm="lloyd",
        )
        t0 = time.perf_counter()
        km.fit(X)
        ms = (time.perf_counter() - t0) * 1e3
        return {"ms": ms, "check": {"inertia": float(km.inertia_), "iterations": int(km.n_iter_)}}
    raise ValueError(f"no row {row}")


def main():
    handlers = {"init": init, "load": load, "run": run}
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            out = handlers[req["cmd"]](req)
            out["ok"] = True
        except Exception as e:  # the suite shows the row as failed with this message
            out = {"ok": False, "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc(limit=3)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
