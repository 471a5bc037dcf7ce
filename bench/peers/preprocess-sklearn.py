"""The scikit-learn, numpy and pandas side of the preprocess suite
(bench/preprocess.ts): one long-lived process answering one JSON request per
line on stdin with one JSON line on stdout, so its rows run in the same
interleaved rounds as sabre's, on data loaded once:

    /usr/bin/python3 bench/peers/preprocess-sklearn.py

Requests:
    {"cmd": "init", "threads": T}             limit OpenBLAS / OpenMP to T threads
    {"cmd": "load", "name": n, "path": p}     an .npy file (np.load)
    {"cmd": "run", "row": r, "reps": k, ...}  time k calls of row r inside this process
Replies: {"ok": true, ...} or {"ok": false, "error": "..."}; a "run" reply
carries "ms" (all k calls) and a "check" of the last result (its shape, a
float64 sum and a sum of absolute values) that bench/preprocess.ts compares with sabre's.

    /usr/bin/python3 bench/peers/preprocess-sklearn.py --cold ROW PATH...

runs one row once in a fresh process (after the imports and the data
load, which are not timed) and prints {"ms": ...}: the first-call rows.
"""
import json
import sys
import time
import traceback
import warnings

import numpy as np

data = {}
state = {"limits": None}


def versions():
    out = {"numpy": np.__version__, "sklearn": None, "pandas": None}
    try:
        import sklearn

        out["sklearn"] = sklearn.__version__
    except ImportError:
        pass
    try:
        import pandas

        out["pandas"] = pandas.__version__
    except ImportError:
        pass
    return out


def init(req):
    t = int(req["threads"])
    try:
        from threadpoolctl import threadpool_limits

        state["limits"] = threadpool_limits(limits=t)
    except ImportError:
        pass
    return {**versions(), "threads": t}


def check_of(a):
    if isinstance(a, (list, tuple)):
        return {"parts": [check_of(x) for x in a]}
    if hasattr(a, "to_numpy"):
        a = a.to_numpy()
    a = np.asarray(a)
    return {"shape": list(a.shape), "sum": float(np.nansum(a, dtype=np.float64)), "abs": float(np.nansum(np.abs(a), dtype=np.float64))}


def row_fn(row, args):
    """The callable a row times, bound to its data."""
    if row == "scaler_sk":
        from sklearn.preprocessing import StandardScaler

        X = data[args["x"]]
        return lambda: StandardScaler().fit_transform(X)
    if row == "scaler_np":
        X = data[args["x"]]
        return lambda: (X - X.mean(axis=0)) / X.std(axis=0)
    if row == "imputer_sk":
        from sklearn.impute import SimpleImputer

        X = data[args["x"]]
        return lambda: SimpleImputer(strategy="median").fit_transform(X)
    if row == "imputer_np":
        X = data[args["x"]]

        def f():
            med = np.nanmedian(X, axis=0)
            return np.where(np.isnan(X), med, X)

        return f
    if row == "kbins_sk":
        from sklearn.preprocessing import KBinsDiscretizer

        X = data[args["x"]]
        # subsample=None: quantiles of every row (1.2's default; 1.3+ subsamples 200k rows).
        return lambda: KBinsDiscretizer(n_bins=10, encode="ordinal", strategy="quantile", subsample=None).fit_transform(X)
    if row == "kbins_np":
        X = data[args["x"]]

        def f():
            edges = np.quantile(X, np.linspace(0, 1, 11), axis=0)
            out = np.empty(X.shape, dtype=np.float64)
            for j in range(X.shape[1]):
                out[:, j] = np.clip(np.searchsorted(edges[1:-1, j], X[:, j], side="right"), 0, 9)
            return out

        return f
    if row == "onehot_sk":
        from sklearn.preprocessing import OneHotEncoder

        C = data[args["x"]]
        dt = np.float32 if args.get("dtype") == "float32" else np.float64
        return lambda: OneHotEncoder(sparse_output=False, dtype=dt).fit_transform(C)
    if row == "onehot_np":
        C = data[args["x"]]
        dt = np.float32 if args.get("dtype") == "float32" else np.float64

        def f():
            codes = [np.unique(C[:, j], return_inverse=True) for j in range(C.shape[1])]
            width = sum(len(u) for u, _ in codes)
            out = np.zeros((C.shape[0], width), dtype=dt)
            rows = np.arange(C.shape[0])
            off = 0
            for u, inv in codes:
                out[rows, off + inv] = 1
                off += len(u)
            return out

        return f
    if row == "split_sk":
        from sklearn.model_selection import train_test_split

        X = data[args["x"]]
        y = data[args["y"]]
        return lambda: train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    if row == "csv_pd":
        import pandas as pd

        path = args["path"]
        return lambda: pd.read_csv(path)
    if row == "csv_np":
        path = args["path"]
        return lambda: np.loadtxt(path, delimiter=",", skiprows=1)
    raise ValueError(f"unknown row {row}")


def run(req):
    f = row_fn(req["row"], req)
    reps = int(req.get("reps", 1))
    out = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        for _ in range(reps):
            out = f()
        ms = (time.perf_counter() - t0) * 1000
    check = check_of(out)
    del out
    return {"ms": ms, "check": check}


def cold(argv):
    row = argv[0]
    args = {}
    for kv in argv[1:]:
        k, v = kv.split("=", 1)
        args[k] = v
    for k in ("x", "y"):
        if k in args:
            data[args[k]] = np.load(args[k])
    # The imports a script would make, outside the timing, as for sabre's import.
    import sklearn.preprocessing  # noqa: F401
    import sklearn.impute  # noqa: F401

    f = row_fn(row, args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        out = f()
        ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({"ms": ms, "check": check_of(out)}), flush=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--cold":
        cold(sys.argv[2:])
        return
    for line in sys.stdin:
        try:
            req = json.loads(line)
            cmd = req["cmd"]
            if cmd == "init":
                rep = init(req)
            elif cmd == "load":
                data[req["name"]] = np.load(req["path"])
                rep = {}
            elif cmd == "drop":
                data.pop(req["name"], None)
                rep = {}
            elif cmd == "run":
                rep = run(req)
            else:
                raise ValueError(f"unknown cmd {cmd}")
            print(json.dumps({"ok": True, **rep}), flush=True)
        except Exception as e:  # noqa: BLE001 - every failure goes back as a reply
            print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-2000:]}), flush=True)


if __name__ == "__main__":
    main()
