#!/usr/bin/env bash
# Downloads the wheels the gateway needs on a lent GPU machine beyond vLLM's own pack
# (../shared/gpu/pack-wheels.sh): Enclave's dependencies from pyproject.toml, for Python 3.12
# x86_64, with their dependencies, minus what vLLM's pack already carries. Packs them into parts
# of 58 MB (one device call each).   Usage: bench/gpu/pack-extra.sh OUTDIR   (e.g. .gpu)
set -euo pipefail
out=${1:?usage: pack-extra.sh OUTDIR}
repo=$(cd "$(dirname "$0")/../.." && pwd)
shared_list=$repo/../shared/gpu/wheels.txt
mkdir -p "$out/extra"
deps=$(python3 - "$repo/pyproject.toml" <<'PY'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
print("\n".join(d for d in project["dependencies"]))
PY
)
echo "==> downloading Enclave's dependencies for Python 3.12 (manylinux x86_64)"
# shellcheck disable=SC2086
python3 -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_31_x86_64 --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d "$out/extra" $(echo "$deps" | sed 's/ //g' | tr '\n' ' ') \
  "httpx>=0.28" 2>&1 | grep -v "^$" || true
normalize() { tr 'A-Z-.' 'a-z__'; }
skip=$( (cut -d= -f1 "$shared_list"; echo "torch numpy triton nvidia_ml_py setuptools packaging typing_extensions") | tr ' ' '\n' | normalize | sort -u)
kept=0
for wheel in "$out"/extra/*.whl; do
  name=$(basename "$wheel" | cut -d- -f1 | normalize)
  if grep -qx "$name" <<<"$skip"; then rm "$wheel"; else kept=$((kept + 1)); fi
done
echo "==> $kept wheels kept ($(du -sh "$out/extra" | cut -f1))"
tar cf "$out/extra.tar" -C "$out/extra" .
rm -rf "$out"/p_xpart*
(cd "$out" && split -b 58M -d extra.tar xpart && for p in xpart[0-9]*; do mkdir -p "p_$p" && mv "$p" "p_$p/"; done)
rm "$out/extra.tar"
ls -d "$out"/p_xpart* | sed "s|^|carry: |"
