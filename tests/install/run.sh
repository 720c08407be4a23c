#!/usr/bin/env bash
# Install test: cmake --install into a temporary prefix, then build a consumer of the runtime
# alone with find_package(actfit) and with pkg-config, and run both.
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/include/actfit/runtime.h"
test -f "$tmp/prefix/include/actfit/elem_types.h"
# the installed headers hold the API and its types: no element math
! test -e "$tmp/prefix/include/actfit/elem.h"
! grep -l '#include "elem.h"' "$tmp"/prefix/include/actfit/*.h
test -f "$tmp/prefix/lib/cmake/actfit/actfitConfig.cmake"
test -f "$tmp/prefix/lib/pkgconfig/actfit.pc"
cmake -S "$src/tests/install" -B "$tmp/cb" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cb" >/dev/null
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/cb/consumer"
flags=$(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs actfit_rt)
cc -std=c11 "$src/tests/install/consumer.c" $flags -lm -o "$tmp/consumer_pc"
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/consumer_pc"
# static: the archive plus the private libraries pkg-config lists for it (cudart, libstdc++)
static_libs=$(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --static --libs actfit_rt |
  sed 's/-lactfit_rt//')
cflags=$(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags actfit_rt)
cc -std=c11 "$src/tests/install/consumer.c" $cflags "$tmp/prefix/lib/libactfit_rt.a" $static_libs \
  -lm -o "$tmp/consumer_static"
"$tmp/consumer_static"
# the table library alone (cJSON): the table-only suite, built against the installed headers
flags=$(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs actfit_table)
cc -std=c11 -DACTFIT_SOURCE_DIR="\"$src\"" "$src/tests/test_table_only.c" $flags -lm \
  -o "$tmp/table_pc"
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/table_pc" >/dev/null
# the installed program runs without LD_LIBRARY_PATH (rpath) and finds the installed tables
(cd "$tmp" && env -u LD_LIBRARY_PATH "$tmp/prefix/bin/actfit" report > report.md)
grep -q 'gelu-3bit.json' "$tmp/report.md"
grep -qx "Tables under $tmp/prefix/bin/../share/actfit/tables:" "$tmp/report.md"
test -f "$tmp/prefix/share/actfit/tables/invact/gelu.json"
# the installed PyTorch package finds the installed library beside it
passed=5
py=$src/.venv/bin/python
if [ -x "$py" ] && "$py" -c "import torch" 2>/dev/null; then
  (cd "$tmp" && env -u ACTFIT_LIBRARY -u LD_LIBRARY_PATH PYTHONPATH="$tmp/prefix/lib/python" \
    "$py" -c "
import torch, actfit.nn, actfit.rt as rt
assert rt.rt_path.startswith('$tmp/prefix/lib/'), rt.rt_path
x = torch.linspace(-3, 3, 100, requires_grad=True)
actfit.nn.GELU()(x).sum().backward()
assert (x.grad - torch.autograd.grad(torch.nn.functional.gelu(x).sum(), x)[0]).abs().max() < 1e-5
")
  passed=6
fi
echo "install test: $passed passed, 0 failed"
