#!/bin/sh
# Builds .device/ (git-ignored): everything bench/device/forest-scaling.sh
# needs on a lent machine that has no Node.js: this machine's node binary
# (xz), and one xz tarball of the built package (dist/), the built
# benchmarks (build/bench/), the Python peers and the production
# dependencies (~1 MB). Run here, then pass `carry: [".device"]` to the
# device tool (bench/device/README.md).
set -eu
cd "$(dirname "$0")/../.."
node scripts/build.mjs --bench
rm -rf .device
mkdir -p .device
xz -T0 -6 -c "$(command -v node)" >.device/node.xz
deps=$(npm ls --omit=dev --all --parseable | sed 1d | sed "s|^$PWD/||")
# shellcheck disable=SC2086
tar -cf - package.json dist build/bench bench/peers bench/device $deps | xz -T0 -6 >.device/sabre.tar.xz
du -sh .device/*
