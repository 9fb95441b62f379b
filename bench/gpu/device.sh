#!/usr/bin/env bash
# Runs on the lent GPU machine, in the copy of the repository the device tool makes.
#   device.sh receive PART_DIR   copy one carried part (.gpu/p_part03, .gpu/p_xpart00, ...) aside
#   device.sh install            join the parts, install every wheel into /tmp/site (≈ 1 min)
#   device.sh bench [ARGS...]    unpack the carried source snapshot and run bench/gpu/run.py
# Every step after `install` needs the machine to have stayed warm (no pause over 30 s).
set -euo pipefail
acc=/tmp/acc
export PYTHONPATH=/tmp/site NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 \
  NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1 TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS=""
case "${1:?receive|install|bench}" in
  receive)
    mkdir -p "$acc" && cp "${2:?part folder}"/* "$acc"/ && ls -la "$acc" | tail -n +2 | wc -l ;;
  install)
    cd "$acc"
    cat part0* > vllm.tar && mkdir -p w && tar xf vllm.tar -C w
    cat xpart0* > extra.tar && tar xf extra.tar -C w
    echo "==> installing $(ls w/*.whl | wc -l) wheels into /tmp/site"
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site w/*.whl
    python3 -c "import vllm, litestar, presidio_analyzer, spacy; print('vllm', vllm.__version__)" ;;
  bench)
    shift
    rm -rf /tmp/enclave && mkdir -p /tmp/enclave && tar xf .gpu/src.tar -C /tmp/enclave
    cp -r .gpu/model /tmp/enclave/model
    cd /tmp/enclave && export PYTHONPATH=/tmp/site:/tmp/enclave
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    python3 bench/gpu/run.py --model /tmp/enclave/model --json-out "${OUT:-/tmp}/gpu-bench.json" "$@" ;;
esac
