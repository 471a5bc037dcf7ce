#!/bin/sh
# A random forest on a CSV through the `sabre` command: fit on one file,
# save the model as JSON, predict another file and score it.
#
#   sh examples/forest-csv/cli.sh [output folder]
#
# The data: Fisher's iris (150 flowers, 4 measurements in cm, 3 species as
# strings), split 120 / 30 into iris-train.csv and iris-test.csv beside this
# script. In a project that installed sabre, `sabre` below is `npx sabre`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sabre="node $here/../../bin/sabre.js"
out=${1:-$(mktemp -d)}
mkdir -p "$out"

# 50 trees, the seed fixes the model; --oob prints the out-of-bag accuracy (no test data needed).
$sabre forest fit "$here/iris-train.csv" --target species --out "$out/iris-model.json" --trees 50 --seed 1 --threads 2 --oob

# The test file still has its species column: --target makes predict print the accuracy too.
$sabre forest predict "$out/iris-model.json" "$here/iris-test.csv" --target species --out "$out/predictions.csv"
echo "first predictions ($out/predictions.csv):"
head -n 4 "$out/predictions.csv"

# Class probabilities (one column per species, the soft vote of the trees). The
# species column is text, so it is named as the target to keep it out of X.
$sabre forest predict "$out/iris-model.json" "$here/iris-test.csv" --target species --proba --out "$out/proba.csv"
echo "first probabilities ($out/proba.csv):"
head -n 3 "$out/proba.csv"
