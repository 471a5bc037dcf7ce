#!/bin/bash
# Runs on the lent device machine (16 cores, no Node.js), from a checkout
# that carries .device/ (bench/device/pack.sh made it here): the forest
# scaling rows of issue 9 with scikit-learn beside them, threads 2, 4, 8, 16
# and 32 trees by default. Results go to $OUT (the device tool brings them
# back). Environment, all optional: FOREST_SCALING_THREADS, _TREES, _ROUNDS
# (as bench/forest-scaling.ts reads them), SABRE_BENCH_PYTHON (a python3
# with scikit-learn; the first of python3 on the PATH that has it).
set -uo pipefail
OUT=${OUT:-/tmp/sabre-device-out}
mkdir -p "$OUT"
work=/tmp/sabre-device
rm -rf "$work"
mkdir -p "$work/bin"
# xz may be missing there; Python's lzma reads the same files.
unxz_to() {
  if command -v xz >/dev/null; then xz -dc "$1"; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; fi
}
unxz_to .device/node.xz >"$work/bin/node" || exit 1
chmod +x "$work/bin/node"
unxz_to .device/sabre.tar.xz | tar -xf - -C "$work" || exit 1
export PATH="$work/bin:$PATH"
if [ -z "${SABRE_BENCH_PYTHON:-}" ]; then
  for p in python3 /usr/bin/python3 /opt/torch/.venv/bin/python3; do
    if command -v "$p" >/dev/null && "$p" -c "import sklearn" 2>/dev/null; then
      SABRE_BENCH_PYTHON=$(command -v "$p")
      break
    fi
  done
fi
export SABRE_BENCH_PYTHON
export FOREST_SCALING_THREADS=${FOREST_SCALING_THREADS:-2,4,8,16}
export FOREST_SCALING_TREES=${FOREST_SCALING_TREES:-32}
export FOREST_SCALING_ROUNDS=${FOREST_SCALING_ROUNDS:-3}
{
  echo "node $(node --version), cores $(nproc), python ${SABRE_BENCH_PYTHON:-none}"
  [ -n "${SABRE_BENCH_PYTHON:-}" ] && "$SABRE_BENCH_PYTHON" -c "import sklearn, numpy; print('scikit-learn', sklearn.__version__, 'numpy', numpy.__version__)"
  grep -m1 "model name" /proc/cpuinfo
} 2>&1 | tee "$OUT/machine.txt"
cd "$work" || exit 1
GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node --expose-gc build/bench/run.js forest-scaling 2>&1 | tee "$OUT/forest-scaling.log"
rc=${PIPESTATUS[0]}
cp bench/results/forest-scaling.md "$OUT/forest-scaling-device.md" 2>/dev/null
cp bench/results/forest-scaling.svg "$OUT/forest-scaling-device.svg" 2>/dev/null
exit "$rc"
