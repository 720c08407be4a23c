#!/usr/bin/env bash
# Install test: cmake --install into a temporary prefix, then build a consumer of the runtime
# alone with find_package(actfit) and with pkg-config, and run both.
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/include/actfit/runtime.h"
test -f "$tmp/prefix/include/actfit/elem.h"
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
echo "install test: 3 passed, 0 failed"
