"""One scikit-learn contender run of the forest suite (bench/forest.ts), in its
own process so that its peak RSS is its own:

    /usr/bin/python3 bench/peers/forest-sklearn.py '<RunSpec JSON>'

Reads the same files as the sabre child (Fashion-MNIST IDX gz, or the raw
continuous table), fits RandomForestClassifier(n_estimators, n_jobs,
random_state) (RandomForestRegressor on the table's continuous target when
the spec's task is "regression"), predicts the test set, and prints one JSON
line last ("accuracy" is R^2 for a regressor).
"""
import gzip
import json
import resource
import sys
import time

import numpy as np

MIB = 2**20


def read_idx(path):
    """An IDX file (gzipped) as a uint8 array [n, prod(dims[1:])] or [n]."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    a = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if a.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {a.size} bytes of data for shape {dims}")
    return a.reshape(dims[0], -1) if ndim > 1 else a


def load(data, task):
    if data["kind"] == "fashion":
        d = data["dir"]
        n = data["trainRows"]
        Xtr = read_idx(f"{d}/train-images-idx3-ubyte.gz")[:n]
        ytr = read_idx(f"{d}/train-labels-idx1-ubyte.gz")[:n]
        Xte = read_idx(f"{d}/t10k-images-idx3-ubyte.gz")
        if data.get("pixels") == "float32":
            # Pixels / 255 as float32, as the sabre child holds them; the uint8 bytes are dropped once converted.
            Xtr = Xtr.astype(np.float32)
            Xtr /= 255
            Xte = Xte.astype(np.float32)
            Xte /= 255
        yte = read_idx(f"{d}/t10k-labels-idx1-ubyte.gz")
        return Xtr, ytr, Xte, yte
    f = data["files"]
    rows, feats, train = f["train"] + f["test"], f["features"], f["train"]
    X = np.fromfile(f["x"], dtype="<f8").reshape(rows, feats)
    y = np.fromfile(f["yr"], dtype="<f8") if task == "regression" else np.fromfile(f["y"], dtype="<i4")
    if y.size != rows:
        raise ValueError(f"{f['y']}: {y.size} labels, expected {rows}")
    return X[:train], y[:train], X[train:], y[train:]


def peak_rss_mib():
    # Linux reports ru_maxrss in KiB; it covers every thread of this process (joblib's threads included).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MIB


def cpu_s():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def current_rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / MIB


def main(spec):
    import sklearn
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.metrics import r2_score

    task = spec.get("task", "classification")
    Xtr, ytr, Xte, yte = load(spec["data"], task)
    loaded = current_rss_mib()
    Forest = RandomForestRegressor if task == "regression" else RandomForestClassifier
    clf = Forest(n_estimators=spec["trees"], n_jobs=spec["threads"], random_state=spec["seed"])
    c0 = cpu_s()
    t0 = time.perf_counter()
    clf.fit(Xtr, ytr)
    fit_s = time.perf_counter() - t0
    fit_cpu_s = cpu_s() - c0
    t0 = time.perf_counter()
    pred = clf.predict(Xte)
    predict_s = time.perf_counter() - t0
    return {
        "fitS": fit_s,
        "fitCpuS": fit_cpu_s,
        "predictS": predict_s,
        "accuracy": float(r2_score(yte, pred)) if task == "regression" else float(np.mean(pred == yte)),
        "peakRssMiB": peak_rss_mib(),
        "loadedRssMiB": loaded,
        "nodes": int(sum(e.tree_.node_count for e in clf.estimators_)),
        "version": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}",
        "cpuS": cpu_s(),
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
