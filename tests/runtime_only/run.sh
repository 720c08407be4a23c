#!/bin/sh
# A runtime-only build (ACTFIT_RUNTIME_ONLY: no GSL, no libmatheval, no Check) loads, checks
# and runs fitted JSON tables from C (test_table_only) and from Python (check.py).
# usage: run.sh BUILD_DIR SOURCE_DIR PYTHON; exits 77 (skipped) without the Python.
set -eu
build=$1/runtime-only
src=$2
py=$3
cmake -S "$src" -B "$build" -DACTFIT_RUNTIME_ONLY=ON -DACTFIT_CUDA=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACTFIT_PYTHON="$py" >"$build.log" 2>&1 ||
  { cat "$build.log"; exit 1; }
cmake --build "$build" -j2 --target actfit_rt actfit_table test_table_only >>"$build.log" 2>&1 ||
  { tail -40 "$build.log"; exit 1; }
if ls "$build"/libactfit.so* >/dev/null 2>&1; then
  echo "FAIL: the runtime-only build made the fitting library"; exit 1
fi
needed=$(readelf -d "$build/libactfit_table.so" | grep NEEDED)
echo "libactfit_table.so needs: $(echo "$needed" | sed 's/.*\[\(.*\)\]/\1/' | tr '\n' ' ')"
if echo "$needed" | grep -Eq 'gsl|matheval'; then
  echo "FAIL: libactfit_table.so depends on GSL or libmatheval"; exit 1
fi
"$build/tests/test_table_only"
[ -x "$py" ] || { echo "no $py: the Python half is skipped"; exit 77; }
env -u ACTFIT_FIT_LIBRARY -u ACTFIT_TABLE_LIBRARY ACTFIT_LIBRARY="$build/libactfit_rt.so" \
  PYTHONPATH="$src/python" ACTFIT_SOURCE_DIR="$src" "$py" "$src/tests/runtime_only/check.py"
