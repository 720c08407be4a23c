#!/usr/bin/env bash
# ptx-check: compiles kernels/actfit_cuda.cu to PTX for every architecture of the default
# CMAKE_CUDA_ARCHITECTURES list (CMakeLists.txt) with the build's flags, and counts the
# double-precision instructions (any opcode with a .f64 type: add, mul, fma, div, cvt, ...).
# The kernels compute in float, so every count must be 0; exits 1 otherwise, 0 without nvcc
# (said on stderr).  Usage: tools/ptx-check.sh [OUTDIR]  (the .ptx files are kept there)
set -euo pipefail
cd "$(dirname "$0")/.."
nvcc=""
for c in "${CUDACXX:-}" "${CUDA_HOME:+$CUDA_HOME/bin/nvcc}" "$(command -v nvcc || true)" /usr/local/cuda/bin/nvcc; do
  if [ -n "$c" ] && [ -x "$c" ]; then nvcc=$c; break; fi
done
if [ -z "$nvcc" ]; then
  echo "ptx-check: no nvcc (PATH, CUDACXX, CUDA_HOME, /usr/local/cuda): skipped" >&2
  exit 0
fi
out=${1:-$(mktemp -d)}
mkdir -p "$out"
# the architectures of the default list: "80-real 86-real 89-real 90" -> 80 86 89 90
archs=$(sed -n 's/^ *set(CMAKE_CUDA_ARCHITECTURES \(.*\))$/\1/p' CMakeLists.txt | head -1 | sed 's/-real//g; s/-virtual//g')
[ -n "$archs" ] || { echo "ptx-check: no default CMAKE_CUDA_ARCHITECTURES in CMakeLists.txt" >&2; exit 1; }
bad=0
for a in $archs; do
  ptx="$out/actfit_cuda.sm_$a.ptx"
  "$nvcc" -std=c++17 -arch="sm_$a" -fmad=false -ptx -Iinclude -Ikernels kernels/actfit_cuda.cu -o "$ptx"
  f64=$(grep -cE '^\s*[a-z][a-z0-9._]*\.f64\b' "$ptx" || true)
  f32=$(grep -cE '^\s*[a-z][a-z0-9._]*\.f32\b' "$ptx" || true)
  echo "sm_$a: $f64 f64 instructions, $f32 f32 ($ptx)"
  [ "$f64" -eq 0 ] || bad=1
done
if [ "$bad" -ne 0 ]; then
  echo "ptx-check: the kernels hold double-precision instructions:" >&2
  grep -hnE '^\s*[a-z][a-z0-9._]*\.f64\b' "$out"/actfit_cuda.sm_*.ptx | head -5 >&2
  exit 1
fi
