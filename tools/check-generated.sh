#!/usr/bin/env bash
# Regenerates tables/ and kernels/generated/ into a temporary directory with the given actfit
# binary and fails on any byte of difference from the committed files.
set -euo pipefail
actfit=$(realpath "${1:-build/actfit}")
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && "$actfit" tables >/dev/null)
if diff -r "$tmp/tables" "$top/tables" && diff -r "$tmp/kernels/generated" "$top/kernels/generated"; then
  echo "check-generated: tables/ and kernels/generated/ are up to date: 1 passed, 0 failed"
else
  echo "check-generated: committed files differ from 'actfit tables' (run: cmake --build build --target tables)" >&2
  exit 1
fi
