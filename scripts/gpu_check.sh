#!/usr/bin/env bash
# The device check of the standing order: the GPU tests, then the GPU proxy timing
# (benchmarks/proxies.py --part timing --gpu-only --throughput-cells 2000). Runs on a lent
# GPU machine from the repository root, with the image's own python3 (archrank from this
# checkout via PYTHONPATH; it needs nothing the image lacks). Logs and results go to $OUT.
# THROUGHPUT_CELLS=320 gives a throughput part that fits the 380 s limit on an H200 (2000 did not).
set -u -o pipefail
OUT=${OUT:-/tmp/gpu_check_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD ARCHRANK_CACHE_DIR=/tmp/archrank-cache
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv 2>&1 | tee "$OUT/nvidia_smi.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
timeout 150 python3 -m pytest -q -p no:cacheprovider -m gpu tests/test_proxies.py tests/test_proxies_stacked.py 2>&1 \
  | tee "$OUT/gpu_tests.log"
echo "gpu tests rc=$?"
timeout 380 python3 benchmarks/proxies.py --part timing --gpu-only --throughput-cells "${THROUGHPUT_CELLS:-2000}" 2>&1 | tee "$OUT/timing.log"
echo "timing rc=$?"
cp benchmarks/results/proxies_timing_gpu.json benchmarks/RESULTS.md "$OUT/" 2>/dev/null
exit 0
