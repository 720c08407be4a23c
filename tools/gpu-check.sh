#!/usr/bin/env bash
# One script for a GPU machine (CUDA alone: no GSL, cJSON or Check there): builds the runtime,
# runs the GPU suite, the PyTorch package's tests on CUDA tensors, bench_runtime on the GPU,
# bench_torch.py on CUDA, and counts the f64 instructions in the kernels' PTX.  Everything it
# prints also goes to ${OUT:-gpu-out}/gpu-check.log.
#   tools/gpu-check.sh [log2 n for bench_runtime, default 28]
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-out}
mkdir -p "$out"
exec > >(tee "$out/gpu-check.log") 2>&1
logn=${1:-28}
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv 2>/dev/null || true
if ! command -v nvcc >/dev/null 2>&1; then
  for d in "${CUDA_HOME:-}" /usr/local/cuda; do
    [ -n "$d" ] && [ -x "$d/bin/nvcc" ] && export PATH="$d/bin:$PATH" && break
  done
fi
cmake -S . -B build-gpu -DACTFIT_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES=native | grep -E '^-- actfit:'
cmake --build build-gpu -j "$(nproc)" || exit 1
echo "== ctest -L gpu"
ctest --test-dir build-gpu -L gpu --output-on-failure
# a python that has torch with CUDA
py=
for p in python3 /usr/bin/python3 python; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    py=$p
    break
  fi
done
if [ -n "$py" ]; then
  echo "== PyTorch package on CUDA ($py)"
  PYTHONPATH=python ACTFIT_LIBRARY=build-gpu/libactfit_rt.so "$py" tests/python/test_nn.py
  echo "== bench_torch.py --device cuda"
  PYTHONPATH=python ACTFIT_LIBRARY=build-gpu/libactfit_rt.so "$py" tools/bench/bench_torch.py \
    --device cuda --rows 65536 --d 1024 --reps 20
else
  echo "== no python with a CUDA torch: the package's CUDA tests and bench_torch.py skipped"
fi
echo "== bench_runtime gpu $logn"
build-gpu/bench_runtime gpu "$logn" 9
echo "== f64 instructions in the kernels' PTX (every default architecture)"
tools/ptx-check.sh "$out/ptx" || true
echo "== SASS instructions per element against the roofline budgets (tools/sass_count.py)"
"${py:-python3}" tools/sass_count.py --check tools/sass-ceilings.txt || true
if command -v ncu >/dev/null 2>&1; then
  echo "== Nsight Compute: one forward and one backward kernel"
  ncu --kernel-name regex:'invact_(fwd|bwd)' --launch-count 2 \
    --metrics dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__throughput.avg.pct_of_peak_sustained_elapsed,gpu__time_duration.sum \
    build-gpu/bench_runtime gpu 24 1 2>&1 | tail -30
fi
